"""Stream the CSV export of N cases and report rows, seconds and peak memory.

Target (DESIGN.md): "Exports stream: 10^6 cases exported with flat memory and time linear in rows."

    .venv/bin/python -m bench.export_bench [--sizes 10000 100000] [--full] [--backend sqlite|postgresql|both]

For every N the data is generated quickly and straight into a fresh database (bulk INSERTs with
executemany of N proposals and N cases at one body; no events, which the export does not read),
then a separate Python process streams `exchange.export_rows` to nowhere and reports how long the
first chunk took (*first ms*: streaming means it does not grow with N), its resident memory before
the export and the highest value seen while streaming (sampled every 10 chunks from
/proc/self/statm), *own growth*, that of the process's own memory (`RssAnon` in /proc/self/status,
without the file pages of SQLite's memory map), and `maxrss` from `resource.getrusage`, the
process's high-water mark, imports included. `--full` adds N = 10^6. `--tracemalloc` also reports
the peak of Python allocations during the export (slower). PostgreSQL: BENCH_POSTGRES_URL names a scratch database
whose public schema is DROPPED and recreated (there is no default, so nothing is dropped by
accident). Wall-clock seconds depend on the machine's load; the export's own CPU seconds (process time of
the exporting process, without the database server's work on PostgreSQL) show the cost per row
more steadily. Prints a table; asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

TITLES = ("Sokak lambaları yanmıyor — Işık İstiyoruz", "روشنایی کوچه یاس", "Fler bänkar i Stadsparken",
          "=HYPERLINK(\"http://evil.example\")", "Çöp konteynerleri taşıyor, şikâyet", "@SUM(A1) trafik")
CHUNK = 20_000


def config(url: str) -> dict:
    return {"ASSEMBLY_ENV": "testing", "TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40,
            "RATELIMIT_ENABLED": False, "LOAD_DEMO_DATA": False, "BASE_URL": "http://localhost",
            "SERVER_NAME": None}


def fresh_database(backend: str, workdir: Path, size: int) -> str:
    from assembly.cli import upgrade_database

    if backend == "sqlite":
        url = f"sqlite:///{workdir / f'export-{size}.sqlite3'}"
    else:
        url = os.environ.get("BENCH_POSTGRES_URL")
        if not url:
            sys.exit("set BENCH_POSTGRES_URL to a scratch PostgreSQL database (its schema is dropped)")
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_database(url)
    return url


def generate(url: str, size: int) -> dict:
    """A municipality, a neighbourhood, a body with one staff member (through the services),
    then `size` proposals and cases with executemany."""
    from assembly import create_app
    from assembly.accounts.services import register
    from assembly.cases.models import Case
    from assembly.actors import SystemActor
    from assembly.db import db, utcnow
    from assembly.neighbourhoods import structure
    from assembly.proposals.models import Proposal

    app = create_app(config(url))
    with app.app_context():
        now = utcnow()
        owner = structure.create_municipality(SystemActor(), now, code="BEN", name="Bench", timezone="Europe/Istanbul",
                                          default_locale="tr")
        hood = structure.create_neighbourhood(SystemActor(), now, municipality=owner, slug="bench", code="BENCH",
                                          names={"tr": "Caferağa", "fa": "جعفرآغا"}, default_locale="tr")
        category = structure.create_category(SystemActor(), now, municipality=owner, slug="lighting",
                                         names={"tr": "Aydınlatma"}, default_body=None)
        body = structure.create_body(SystemActor(), now, municipality=owner, slug="council", name="Meclis",
                                 kind="council")
        author = register("author@bench.example", "Author", "correct horse battery", "tr", now)
        staff = register("staff@bench.example", "Staff", "correct horse battery", "tr", now)
        structure.appoint_staff(SystemActor(), now, body, staff)
        db.session.commit()
        ids = {"hood": hood.id, "category": category.id, "body": body.id, "author": author.id, "staff": staff.id}
    engine = app.extensions["assembly_db"].engine
    start = time.perf_counter()
    with engine.begin() as connection:
        first_id = (connection.scalar(select(Proposal.id).order_by(Proposal.id.desc()).limit(1)) or 0) + 1
        for offset in range(0, size, CHUNK):
            numbers = range(offset, min(size, offset + CHUNK))
            connection.execute(insert(Proposal.__table__), [
                {"id": first_id + n, "neighbourhood_id": ids["hood"], "author_id": ids["author"],
                 "category_id": ids["category"], "title": TITLES[n % len(TITLES)], "body": "Metin.",
                 "body_html": "<p>Metin.</p>", "status": "forwarded", "created_at": now, "updated_at": now,
                 "published_at": now} for n in numbers])
            connection.execute(insert(Case.__table__), [_case(n, first_id + n, ids, now) for n in numbers])
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"staff": ids["staff"], "body": ids["body"], "generate_seconds": seconds}


def _case(n: int, proposal_id: int, ids: dict, now: dt.datetime) -> dict:
    forwarded = now - dt.timedelta(days=n % 90, minutes=n % 1440)
    status = ("forwarded", "received", "scheduled", "decided", "in_progress", "done")[n % 6]
    return {"reference": f"BEN-BENCH-2026-{n + 1:07d}", "proposal_id": proposal_id, "neighbourhood_id": ids["hood"],
            "body_id": ids["body"], "category_id": ids["category"], "status": status,
            "decision": "approved" if status in ("decided", "in_progress", "done") else None,
            "progress": 100 if status == "done" else 0, "title": TITLES[n % len(TITLES)], "text": "Metin.",
            "text_html": "<p>Metin.</p>", "vote_result": {}, "forwarded_at": forwarded,
            "due_at": forwarded + dt.timedelta(days=30),
            "received_at": forwarded + dt.timedelta(days=2) if status != "forwarded" else None,
            "decided_at": forwarded + dt.timedelta(days=9) if status in ("decided", "in_progress", "done") else None,
            "council_meeting_at": forwarded + dt.timedelta(days=7) if status != "forwarded" and n % 6 > 1 else None,
            "agenda_number": f"2026/{n % 500}" if n % 6 > 1 else None, "updated_at": now, "event_count": 0}


def measure(url: str, staff_id: int, body_id: int, use_tracemalloc: bool) -> dict:
    """Run in a process of its own: stream the export and count what would be sent."""
    import tracemalloc

    from assembly import create_app
    from assembly.accounts.models import User
    from assembly.cases.exchange import export_rows
    from assembly.db import db, utcnow
    from assembly.neighbourhoods.models import Body

    app = create_app(config(url))
    with app.app_context():
        staff, body = db.session.get(User, staff_id), db.session.get(Body, body_id)
        before, anon_before = current_rss(), anonymous_rss()
        highest, anon_highest = before, anon_before
        if use_tracemalloc:
            tracemalloc.start()
        start, cpu_start = time.perf_counter(), time.process_time()
        rows = size = chunks = 0
        first = None
        for chunk in export_rows(staff, utcnow(), body):
            if first is None:  # how long the first bytes wait: streaming means it does not grow with N
                first = time.perf_counter() - start
            data = chunk.encode("utf-8")  # what the response sends
            size += len(data)
            rows += chunk.count("\r\n")
            chunks += 1
            if chunks % 10 == 0:
                highest, anon_highest = max(highest, current_rss()), max(anon_highest, anonymous_rss())
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        traced = tracemalloc.get_traced_memory()[1] if use_tracemalloc else None
    return {"rows": rows - 1, "bytes": size, "chunks": chunks, "seconds": seconds, "cpu_seconds": cpu_seconds,
            "first_chunk": first,
            "rss_before": before,
            "rss_highest": max(highest, current_rss()),
            "anon_growth": max(anon_highest, anonymous_rss()) - anon_before,
            "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "tracemalloc_peak": traced}


def current_rss() -> int:
    """Resident memory now, in bytes (Linux); ru_maxrss only knows the high-water mark."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def anonymous_rss() -> int:
    """The resident memory that is the process's own (heap, stacks: `RssAnon`), in bytes. The rest
    of the resident set is file pages, most of them SQLite's memory map of the database (up to
    `mmap_size`, 256 MB, assembly/db.py), which grows with the file read and which the kernel takes
    back when it needs the memory."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--full", action="store_true", help="also 1,000,000 cases")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--measure", nargs=3, metavar=("URL", "STAFF", "BODY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        url, staff, body = args.measure
        print(json.dumps(measure(url, int(staff), int(body), args.tracemalloc)))
        return
    sizes = args.sizes + ([1_000_000] if args.full else [])
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"{'backend':10} {'rows':>9} {'generate s':>10} {'export s':>9} {'first ms':>8} {'CPU s':>7} {'CPU µs/row':>10} "
          f"{'MB out':>7} "
          f"{'RSS before MB':>13} {'RSS highest MB':>14} {'growth MB':>9} {'own growth MB':>13} {'maxrss MB':>9} "
          f"{'traced MB':>9}")
    with tempfile.TemporaryDirectory() as workdir:
        for backend in backends:
            for size in sizes:
                url = fresh_database(backend, Path(workdir), size)
                made = generate(url, size)
                command = [sys.executable, "-m", "bench.export_bench", "--measure", url, str(made["staff"]),
                           str(made["body"])] + (["--tracemalloc"] if args.tracemalloc else [])
                result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
                traced = f"{result['tracemalloc_peak'] / 2**20:9.1f}" if result["tracemalloc_peak"] else f"{'-':>9}"
                mb = 2**20
                print(f"{backend:10} {result['rows']:>9,} {made['generate_seconds']:10.1f} "
                      f"{result['seconds']:9.2f} {1000 * result['first_chunk']:8.1f} {result['cpu_seconds']:7.2f} "
                      f"{1e6 * result['cpu_seconds'] / result['rows']:10.1f} "
                      f"{result['bytes'] / mb:7.1f} {result['rss_before'] / mb:13.1f} "
                      f"{result['rss_highest'] / mb:14.1f} {(result['rss_highest'] - result['rss_before']) / mb:9.1f} "
                      f"{result['anon_growth'] / mb:13.1f} {result['maxrss'] / mb:9.1f} {traced}", flush=True)
                if backend == "sqlite":
                    Path(url.removeprefix("sqlite:///")).unlink()


if __name__ == "__main__":
    main()
