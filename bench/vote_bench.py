"""Casting a vote versus the floor: a minimal one-INSERT endpoint, on SQLite and PostgreSQL.

Target (DESIGN.md): the real vote endpoint — session, CSRF, permission check, unique
constraint, commit, response — serves at least 50 % of the minimal insert endpoint's
throughput on the same database and server settings, with p99 under 100 ms at 32 concurrent
voters. Both run under gunicorn with 2 sync workers on 127.0.0.1.

    .venv/bin/python -m bench.vote_bench [--seconds 10] [--clients 32] [--backend sqlite|postgresql|both]

PostgreSQL: BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres) is used
to create and drop a scratch database. Prints a table; asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PASSWORD = "bench-password-123"
VOTERS = 64


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict, with_master: bool = False):
    """Serve `app` on a free port; yields the port (and the master's pid with `with_master`)."""
    port = free_port()
    process = subprocess.Popen(
        [GUNICORN, "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield (port, process.pid) if with_master else port
    finally:
        process.terminate()
        process.wait(10)


# --- the Assembly side ------------------------------------------------------------------------

def assembly_env(url: str) -> dict:
    return {"DATABASE_URL": url, "ASSEMBLY_ENV": "production", "SECRET_KEY": "b" * 64, "LOAD_DEMO_DATA": "0",
            "BALLOT_SEAL_KEY": "c" * 64, "BASE_URL": "https://assembly.bench.invalid",
            "RATELIMIT_VOTE": "1000000 per minute", "RATELIMIT_LOGIN": "1000000 per minute",
            "ARGON2_MEMORY_COST": "1024", "ARGON2_TIME_COST": "1", "ARGON2_PARALLELISM": "1"}


def prepare_assembly(url: str) -> tuple[str, int, list[str]]:
    """Migrate, then create a neighbourhood with VOTERS residents and an open (non-secret) ballot."""
    from assembly import create_app
    from assembly.assemblies import services as sessions
    from assembly.assemblies import voting
    from assembly.actors import SystemActor
    from assembly.cli import upgrade_database
    from assembly.db import db, utcnow
    from assembly.neighbourhoods import residents, structure
    from assembly.proposals import services as proposals

    os.environ.update(assembly_env(url))
    upgrade_database(url)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        from assembly.accounts.services import register

        now = utcnow() - dt.timedelta(minutes=5)
        system = SystemActor()
        town = structure.create_municipality(system, now, code="BENCH", name="Bench", timezone="UTC", default_locale="en")
        body = structure.create_body(system, now, municipality=town, slug="council", name="Council", kind="council")
        category = structure.create_category(system, now, municipality=town, slug="misc", names={"en": "Misc"},
                                         default_body=body)
        hood = structure.create_neighbourhood(system, now, municipality=town, slug="bench", code="BENCH",
                                          names={"en": "Bench"}, default_locale="en", support_threshold=1)
        muhtar = register("muhtar@bench.example", "Muhtar", PASSWORD, "en", now)
        structure.appoint_muhtar(system, now, hood, muhtar)
        emails = []
        for number in range(VOTERS):
            voter = register(f"voter{number}@bench.example", f"Voter {number}", PASSWORD, "en", now)
            membership = residents.request_membership(voter, now, hood, f"Street {number}")
            residents.approve_membership(muhtar, now, hood, membership.id)
            emails.append(voter.email)
        author = db.session.scalar(text("SELECT id FROM users WHERE email = 'voter0@bench.example'"))
        from assembly.accounts.models import User

        writer = db.session.get(User, author)
        proposal = proposals.create_proposal(writer, now, hood, proposals.ProposalInput(
            title="Benchmark proposal", body="Vote on me.", category_id=category.id))
        supporter = db.session.scalar(text("SELECT id FROM users WHERE email = 'voter1@bench.example'"))
        proposals.support(db.session.get(User, supporter), now, proposal)
        assembly = sessions.create_assembly(muhtar, now, hood, title="Benchmark session")
        sessions.add_agenda_item(muhtar, now, assembly, proposal.id)
        opens = now + dt.timedelta(minutes=1)  # still in the past: `now` is five minutes ago
        sessions.set_ballot(muhtar, now, assembly, method="yes_no", secrecy="open", opens_at=opens,
                            closes_at=now + dt.timedelta(days=1))
        sessions.announce(muhtar, now, assembly)
        voting.advance(assembly, opens)
        item_id = assembly.items[0].id
        assembly_id = assembly.id
        db.session.commit()
    app.extensions["assembly_db"].engine.dispose()
    return f"/n/bench/assemblies/{assembly_id}", item_id, emails


class Browser:
    """Just enough of a browser: cookies and CSRF tokens, one connection per request
    (gunicorn's sync workers close the connection after each response)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        data = response.read().decode("utf-8", "replace")
        connection.close()
        return response.status, data

    def csrf(self, path: str) -> str:
        _status, page = self.request("GET", path)
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def assembly_client(port: int, email: str, session_path: str, item_id: int):
    browser = Browser(port)
    token = browser.csrf("/account/login")
    status, _ = browser.request("POST", "/account/login",
                                {"csrf_token": token, "email": email, "password": PASSWORD})
    assert status == 302, f"login failed for {email}: {status}"
    token = browser.csrf(session_path)
    choices = ["yes", "no", "abstain"]

    def vote(number: int) -> int:
        status, _ = browser.request("POST", session_path + "/vote",
                                    {"csrf_token": token, f"item-{item_id}": choices[number % 3]})
        return status

    return vote


def minimal_client(port: int):
    browser = Browser(port)

    def vote(number: int) -> int:
        return browser.request("POST", "/vote")[0]

    return vote


# --- the load ----------------------------------------------------------------------------------

def run_load(clients, seconds: float, ok: set[int]) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    barrier = threading.Barrier(len(clients) + 1)

    def worker(vote):
        nonlocal errors
        mine, bad, number = [], 0, 0
        barrier.wait()
        while time.perf_counter() < stop:
            started = time.perf_counter()
            status = vote(number)
            mine.append(time.perf_counter() - started)
            bad += status not in ok
            number += 1
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    if not latencies:  # a warm-up on a busy machine may see no answer within its second
        return {"requests": 0, "errors": errors, "rps": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan")}
    return {"requests": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))]}


def bench_backend(url: str, seconds: float, clients: int) -> dict:
    from bench.minimal_app import create_tables

    session_path, item_id, emails = prepare_assembly(url)
    create_tables(url)
    results = {}
    with gunicorn("bench.minimal_app:app", {"BENCH_DATABASE_URL": url}) as port:
        run_load([minimal_client(port) for _ in range(clients)], 1, {200})  # warm up
        results["minimal insert"] = run_load([minimal_client(port) for _ in range(clients)], seconds, {200})
    with gunicorn("wsgi:app", assembly_env(url)) as port:
        voters = [assembly_client(port, emails[n % len(emails)], session_path, item_id) for n in range(clients)]
        run_load(voters, 1, {303})
        results["cast a vote"] = run_load(voters, seconds, {303})
    return results


def bench_pages(url: str, seconds: float, clients: int, pages: dict[str, str], kept: bool = True) -> dict:
    """Throughput of each page (a visitor) against the trivial endpoint, same server settings:
    as visitors get them (`kept`: the pages kept for visitors, assembly.page_cache), or each
    rendered in full (PAGE_CACHE_SECONDS=0)."""
    results = {}

    def getter(port: int, path: str):
        browser = Browser(port)
        return lambda _number: browser.request("GET", path)[0]

    with gunicorn("bench.minimal_app:app", {"BENCH_DATABASE_URL": url}) as port:
        run_load([getter(port, "/") for _ in range(clients)], 1, {200})
        results["trivial endpoint"] = run_load([getter(port, "/") for _ in range(clients)], seconds, {200})
    with gunicorn("wsgi:app", {**assembly_env(url), **({} if kept else {"PAGE_CACHE_SECONDS": "0"})}) as port:
        for name, path in pages.items():
            run_load([getter(port, path) for _ in range(clients)], 1, {200})
            results[name] = run_load([getter(port, path) for _ in range(clients)], seconds, {200})
    return results


@contextmanager
def scratch_database(backend: str):
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin_url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", admin_url)
    name = f"assembly_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"{args.clients} concurrent clients, {args.seconds:g} s per run, gunicorn -w 2 (sync), "
          f"{os.cpu_count()} CPUs")
    print("\n".join(LOAD_HEADER))
    for backend in backends:
        with scratch_database(backend) as url:
            results = bench_backend(url, args.seconds, args.clients)
        print("\n".join(load_table(backend, results, "minimal insert")[len(LOAD_HEADER):]), flush=True)


LOAD_HEADER = ["| database | endpoint | requests/s | p50 ms | p99 ms | errors | ratio |", "|---|---|---|---|---|---|---|"]


def load_table(backend: str, results: dict, floor_name: str) -> list[str]:
    """A load run's results as table lines (the header first), each endpoint's throughput as a
    share of `floor_name`'s."""
    floor = results[floor_name]["rps"]
    lines = list(LOAD_HEADER)
    for name, r in results.items():
        lines.append(f"| {backend} | {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                     f"{r['errors']} | {r['rps'] / floor:.0%} |")
    return lines


if __name__ == "__main__":
    main()
