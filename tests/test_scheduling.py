"""Scheduled commands run on every app server at once: nothing is closed, sent or queued twice.

The commands run as operators run them, `python -m flask --app assembly …` in processes of
their own, two at a time against one database (PostgreSQL, and SQLite on one machine); the
mail worker is also driven from threads with a slow transport, so that both workers are
certainly sending at the same moment.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assembly import create_app
from assembly.accounts.models import User
from assembly.assemblies.models import Assembly
from assembly.db import db, utcnow
from assembly.notifications.models import OutboxEmail
from assembly.notifications.services import notify, queue_email, send_digests, send_pending
from assembly.scheduling import exclusive, lock_id
from tests import assembly_factories as af
from tests import factories
from tests.support import app_config

ROOT = Path(__file__).resolve().parent.parent
BOTH = pytest.mark.parametrize("committed_database", ["sqlite", "postgresql"], indirect=True)
STEP_TIMEOUT = 120  # safety nets only: nothing asserts on time


@pytest.fixture
def server(committed_database):
    app = create_app(app_config(committed_database))
    yield app
    app.extensions["assembly_db"].engine.dispose()


def _environment(app) -> dict:
    config = app.config
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ASSEMBLY_", "FLASK_", "RATELIMIT_")) and key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATABASE_URL=config["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
               ASSEMBLY_ENV="testing", SECRET_KEY=config["SECRET_KEY"], BALLOT_SEAL_KEY=config["BALLOT_SEAL_KEY"],
               RATELIMIT_ENABLED="0", LOAD_DEMO_DATA="0", BASE_URL="http://127.0.0.1", PYTHONPATH=str(ROOT))
    return env


def _two_at_once(app, *command: str) -> list[str]:
    """Start the command twice, side by side, as two servers' cron would; both must succeed."""
    processes = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "assembly", *command], cwd=ROOT,
                                  env=_environment(app), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=STEP_TIMEOUT)
        assert process.returncode == 0, err
        outputs.append(out)
    return outputs


# --- the lock ------------------------------------------------------------------------------------------

def test_lock_numbers_are_stable_and_distinct():
    assert lock_id("assemblies-tick") == lock_id("assemblies-tick")
    assert len({lock_id(name) for name in ("assemblies-tick", "mail-send", "mail-digest")}) == 3
    assert all(-(2 ** 63) <= lock_id(name) < 2 ** 63 for name in ("a", "b"))


@BOTH
def test_one_holder_at_a_time_across_servers(server, committed_database):
    other = create_app(app_config(committed_database))
    try:
        with server.app_context(), exclusive("job") as first:
            assert first
            with other.app_context():
                with exclusive("job") as second:
                    assert not second
                with exclusive("another job") as unrelated:
                    assert unrelated
        with other.app_context(), exclusive("job") as after:
            assert after  # released at the end of the pass
    finally:
        other.extensions["assembly_db"].engine.dispose()


@pytest.mark.postgres
def test_a_killed_holder_does_not_keep_the_lock(server):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from assembly import create_app\n"
        "from assembly.scheduling import exclusive\n"
        "with create_app().app_context(), exclusive('job') as held:\n"
        "    print(held, flush=True)\n"
        "    time.sleep(600)\n")], cwd=ROOT, env=_environment(server), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        with server.app_context(), exclusive("job") as held:
            assert not held
        holder.kill()
        holder.wait(timeout=STEP_TIMEOUT)
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:  # the server notices the closed connection and releases its session's locks
            with server.app_context(), exclusive("job") as held:
                if held:
                    break
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        holder.kill()
        holder.stdout.close()


# --- the tick ------------------------------------------------------------------------------------------

@BOTH
def test_the_tick_on_two_servers_at_once_closes_a_ballot_once(server):
    with af.committed(server):
        s = af.voting_open("yes_no", "secret", items=2, voters=3)
        real_now = utcnow()
        s.ballot.opens_at, s.ballot.closes_at = real_now - dt.timedelta(hours=2), real_now - dt.timedelta(minutes=1)
        assembly_id, ballot_id = s.assembly.id, s.ballot.id
    outputs = _two_at_once(server, "assemblies", "tick")
    advanced = [int(re.search(r"advanced (\d+) sessions, 0 failed", out).group(1)) for out in outputs]
    assert sorted(advanced) == [0, 1]
    with server.app_context():
        assert db.session.get(Assembly, assembly_id).status == "closed"
        assert af.results_of(ballot_id) == 1


# --- the mail worker -----------------------------------------------------------------------------------------

def _queue(app, count: int) -> None:
    with app.app_context():
        now = utcnow()
        for n in range(count):
            queue_email(f"person{n}@example.org", f"Message {n}", "Hello", now)
        db.session.commit()


def _unsent(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.sent_at.is_(None)))


@BOTH
def test_two_mail_workers_at_once_send_every_mail_once(server):
    _queue(server, 80)
    outputs = _two_at_once(server, "mail", "send")
    delivered = Counter(address for out in outputs for address in re.findall(r"^To: (\S+)$", out, re.MULTILINE))
    assert delivered and max(delivered.values()) == 1
    reported = sum(int(re.search(r"sent (\d+), failed 0", out).group(1)) for out in outputs)
    assert reported == sum(delivered.values())
    with server.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)
                                 .where(OutboxEmail.sent_at.is_not(None))) == reported
    # What one pass (a batch of at most 100 per worker) left is sent by the next one, once.
    while _unsent(server):
        outputs = _two_at_once(server, "mail", "send")
        delivered.update(address for out in outputs for address in re.findall(r"^To: (\S+)$", out, re.MULTILINE))
    assert sorted(delivered.values()) == [1] * 80


@pytest.mark.postgres
def test_mail_workers_on_two_servers_share_the_queue_without_sending_twice(server, committed_database):
    """Both workers send at the same time (a slow transport keeps them overlapping)."""
    _queue(server, 60)
    other = create_app(app_config(committed_database))
    delivered: list[tuple[int, str]] = []
    guard = threading.Lock()
    barrier = threading.Barrier(2, timeout=STEP_TIMEOUT)

    def worker(number: int, app) -> int:
        def transport(message) -> None:
            time.sleep(0.01)
            with guard:
                delivered.append((number, message["To"]))

        with app.app_context():
            barrier.wait()
            sent, failed = send_pending(utcnow(), transport=transport)
            db.session.close()
            assert failed == 0
            return sent

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = list(pool.map(worker, (1, 2), (server, other)))
    finally:
        other.extensions["assembly_db"].engine.dispose()
    assert sum(counts) == len(delivered) == 60
    assert Counter(address for _, address in delivered).most_common(1)[0][1] == 1
    assert all(counts)  # both took part
    assert _unsent(server) == 0


# --- the daily digest -----------------------------------------------------------------------------------------

def _daily_readers(app, count: int) -> None:
    with app.app_context():
        hood = factories.neighbourhood()
        now = utcnow() - dt.timedelta(hours=1)
        for n in range(count):
            user = factories.user(email=f"reader{n}@example.org")
            user.email_mode = "daily"
            notify(user, "membership_approved", now, neighbourhood=hood.name_in("en"))
        db.session.commit()


def _digests(app) -> Counter:
    with app.app_context():
        return Counter(db.session.scalars(select(OutboxEmail.to_address)
                                          .where(OutboxEmail.subject == "Assembly: your daily summary")))


@BOTH
def test_the_digest_on_two_servers_at_once_queues_one_summary_each(server):
    _daily_readers(server, 20)
    outputs = _two_at_once(server, "mail", "digest")
    assert sorted(sum(int(n) for n in re.findall(r"queued (\d+) digests", out)) for out in outputs)[-1] == 20
    assert sorted(_digests(server).values()) == [1] * 20


@pytest.mark.postgres
def test_the_digests_claim_holds_even_without_the_lock(server, committed_database):
    """Two runs at the same moment, without `exclusive`: each person's conditional claim lets one win."""
    _daily_readers(server, 20)
    other = create_app(app_config(committed_database))
    barrier = threading.Barrier(2, timeout=STEP_TIMEOUT)

    def run(app) -> int:
        with app.app_context():
            db.session.scalars(select(User)).all()  # both have read the users before either writes
            barrier.wait()
            queued = send_digests(utcnow())
            db.session.commit()
            return queued

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            queued = list(pool.map(run, (server, other)))
    finally:
        other.extensions["assembly_db"].engine.dispose()
    assert sum(queued) == 20
    assert sorted(_digests(server).values()) == [1] * 20
