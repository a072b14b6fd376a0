"""An acknowledged vote survives a worker killed mid-request, and is counted.

A real gunicorn (two sync workers) serves the app on PostgreSQL; forty residents vote in a
secret ballot through HTTP with real sessions and CSRF tokens, while the test kills workers
with SIGKILL (no clean-up, no `finally`) in the middle of the stream. Then the ballot closes
through the scheduler's tick. Every vote that was acknowledged (303) must be in the result,
its receipt in the published list; what was stored equals what was counted; a request that
died with its worker may or may not have been stored, but never half.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text

from assembly import create_app
from assembly.assemblies import voting
from assembly.assemblies.models import BallotResult
from assembly.db import db, utcnow
from bench.vote_bench import Browser, gunicorn
from tests import assembly_factories as af
from tests.support import PASSWORD
from tests.support import app_config

pytestmark = pytest.mark.postgres

VOTERS = 40
RECEIPT = re.compile(r"[0-9A-F]{5}(?:-[0-9A-F]{5}){3}")


def _open_now(app) -> dict:
    """A secret ballot whose window is open on the real clock (the server's)."""
    with af.committed(app):
        s = af.voting_open("yes_no", "secret", items=1, voters=VOTERS)
        db.session.execute(text("UPDATE memberships SET verified_at = now() - interval '2 hours' "
                                "WHERE verified_at IS NOT NULL"))
        db.session.execute(text("UPDATE ballots SET opens_at = now() - interval '1 hour', "
                                "opened_at = now() - interval '1 hour', closes_at = now() + interval '1 hour' "
                                "WHERE id = :b"), {"b": s.ballot.id})
        return {"url": s.url, "item": s.items[0], "ballot": s.ballot.id, "emails": [v.email for v in s.voters]}


def _workers(master: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def test_killing_workers_mid_request_loses_no_acknowledged_vote(committed_database, tmp_path):
    config = app_config(committed_database)
    app = create_app(config)
    data = _open_now(app)
    env = {"DATABASE_URL": committed_database, "ASSEMBLY_ENV": "testing", "SECRET_KEY": config["SECRET_KEY"],
           "BALLOT_SEAL_KEY": config["BALLOT_SEAL_KEY"], "RATELIMIT_ENABLED": "0", "LOAD_DEMO_DATA": "0",
           "BASE_URL": "http://127.0.0.1"}
    with gunicorn("assembly:create_app()", env, with_master=True) as (port, master):
        browsers = []
        for email in data["emails"]:
            browser = Browser(port)
            token = browser.csrf("/account/login")
            status, _ = browser.request("POST", "/account/login",
                                        {"csrf_token": token, "email": email, "password": PASSWORD})
            assert status == 302
            browser.token = browser.csrf(data["url"])
            browsers.append(browser)

        started = threading.Event()

        def vote(browser) -> tuple[str, str | None]:
            started.set()
            try:
                status, _ = browser.request("POST", data["url"] + "/vote",
                                            {"csrf_token": browser.token, f"item-{data['item']}": "yes"})
            except OSError:  # the worker died under this request
                return "unknown", None
            if status != 303:
                return f"status {status}", None
            for _attempt in range(5):  # the receipt page, from a worker that is alive
                try:
                    _status, page = browser.request("GET", data["url"] + "/receipt")
                    found = RECEIPT.search(page)
                    return "acknowledged", found.group(0) if found else None
                except OSError:
                    time.sleep(0.2)
            return "acknowledged", None

        def killer() -> int:
            started.wait(30)
            killed = 0
            for _ in range(3):
                time.sleep(0.15)
                for pid in _workers(master)[:1]:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
            return killed

        with ThreadPoolExecutor(max_workers=9) as pool:
            kills = pool.submit(killer)
            outcomes = list(pool.map(vote, browsers))
            assert kills.result() >= 1

    kinds = [kind for kind, _ in outcomes]
    assert set(kinds) <= {"acknowledged", "unknown"}, kinds
    acknowledged = [code for kind, code in outcomes if kind == "acknowledged"]
    assert acknowledged and all(acknowledged), outcomes  # every acknowledged vote had its receipt

    with app.app_context():
        db.session.execute(text("UPDATE ballots SET closes_at = now() - interval '1 second' WHERE id = :b"),
                           {"b": data["ballot"]})
        db.session.commit()
    assert af.tick(app, utcnow()) == (1, 0)
    with app.app_context():
        document = db.session.scalar(select(BallotResult.document).where(BallotResult.ballot_id == data["ballot"]))
        stored = af.stored_counts(data["ballot"])
    counted = len(document["ballots"])
    assert stored == {"turnout": counted, "participations": counted, "papers": counted}
    assert len(acknowledged) <= counted <= len(acknowledged) + kinds.count("unknown")
    print(f"\n{len(acknowledged)} acknowledged, {kinds.count('unknown')} lost with a killed worker, {counted} counted")
    published = set(document["receipts"])
    assert {voting.receipt_hash(code) for code in acknowledged} <= published
    app.extensions["assembly_db"].engine.dispose()
