"""Page cost against data size: the same pages at a small and a large amount of data.

Target (DESIGN.md): listing and detail pages at 10^6 proposals / 10^7 supports within 1.5× of
their cost at 10^3, with a constant number of SQL statements per request.

    .venv/bin/python -m bench.page_bench                 # 10^3 against 10^5 proposals, SQLite
    .venv/bin/python -m bench.page_bench --full          # 10^3 against 10^6 proposals, 10^7 supports
    .venv/bin/python -m bench.page_bench --postgres URL  # the same on a scratch PostgreSQL database

The data is bulk-inserted straight into the tables (not through the services, which would take
hours); counters are filled consistently so `flask check counters` agrees. Requests go through
the Flask test client in-process, so the numbers are the app's own cost (no network, no server).
Prints a table; asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from contextlib import contextmanager

from sqlalchemy import event, insert, text

from bench.vote_bench import scratch_database

CHUNK = 20_000
USERS = 10_000


def _rows(count: int, make):
    chunk = []
    for number in range(count):
        chunk.append(make(number))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build(url: str, proposals: int, supports: int) -> dict:
    """A municipality with one big neighbourhood holding `proposals` proposals and `supports` supports."""
    from assembly import create_app
    from assembly.accounts.models import User
    from assembly.actors import SystemActor
    from assembly.cli import upgrade_database
    from assembly.db import db, utcnow
    from assembly.neighbourhoods import structure
    from assembly.neighbourhoods.models import Membership
    from assembly.proposals.models import Comment, Proposal, Support

    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "LOAD_DEMO_DATA": False, "ARGON2_MEMORY_COST": 1024,
                      "ARGON2_TIME_COST": 1, "WTF_CSRF_ENABLED": False})
    rng = random.Random(7)
    with app.app_context():
        now = utcnow()
        system = SystemActor()
        town = structure.create_municipality(system, now, code="BIG", name="Big", timezone="UTC", default_locale="en")
        body = structure.create_body(system, now, municipality=town, slug="council", name="Council", kind="council")
        category = structure.create_category(system, now, municipality=town, slug="misc", names={"en": "Misc"},
                                         default_body=body)
        hood = structure.create_neighbourhood(system, now, municipality=town, slug="big", code="BIG",
                                          names={"en": "Big"}, default_locale="en",
                                          support_threshold=max(1, supports // max(1, proposals) * 4))
        db.session.commit()
        session = db.session
        password = "x"
        for chunk in _rows(USERS, lambda n: {"email": f"u{n}@big.example", "display_name": f"Resident {n}",
                                               "password_hash": password, "locale": "en", "is_admin": False,
                                               "created_at": now, "password_changed_at": now}):
            session.execute(insert(User), chunk)
        first_user = session.scalar(text("SELECT min(id) FROM users"))
        for chunk in _rows(USERS, lambda n: {"user_id": first_user + n, "neighbourhood_id": hood.id,
                                               "role": "resident", "status": "verified", "address": "x",
                                               "requested_at": now, "verified_at": now}):
            session.execute(insert(Membership), chunk)
        session.execute(text("UPDATE neighbourhoods SET verified_resident_count = :n WHERE id = :id"),
                        {"n": USERS, "id": hood.id})
        per_proposal = [0] * proposals
        # supports: distinct (proposal, user) pairs, skewed so some proposals are popular
        pairs = set()
        while len(pairs) < supports:
            index = min(proposals - 1, int(rng.paretovariate(1.2)) - 1) if rng.random() < 0.3 else \
                rng.randrange(proposals)
            pairs.add((index, rng.randrange(USERS)))
        for index, _user in pairs:
            per_proposal[index] += 1
        body_text = "The street lamps on this corner have been broken for weeks; please repair them."
        start = now - dt.timedelta(days=400)
        for chunk in _rows(proposals, lambda n: {
                "neighbourhood_id": hood.id, "author_id": first_user + n % USERS, "category_id": category.id,
                "title": f"Proposal number {n}", "body": body_text, "body_html": f"<p>{body_text}</p>",
                "status": "open", "support_count": per_proposal[n], "comment_count": 0, "report_count": 0,
                "search_key": f"proposal number {n} street lamps", "created_at": start,
                "published_at": start + dt.timedelta(seconds=n), "updated_at": now}):
            session.execute(insert(Proposal), chunk)
        first_proposal = session.scalar(text("SELECT min(id) FROM proposals"))
        pair_list = sorted(pairs)
        for chunk in _rows(len(pair_list), lambda n: {"proposal_id": first_proposal + pair_list[n][0],
                                                        "user_id": first_user + pair_list[n][1],
                                                        "created_at": now}):
            session.execute(insert(Support), chunk)
        # a discussion on the most recent proposal, for the detail page
        last = first_proposal + proposals - 1
        for chunk in _rows(20, lambda n: {"proposal_id": last, "author_id": first_user + n, "body": "Agreed.",
                                            "body_html": "<p>Agreed.</p>", "created_at": now}):
            session.execute(insert(Comment), chunk)
        session.execute(text("UPDATE proposals SET comment_count = 20 WHERE id = :id"), {"id": last})
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
    return {"app": app, "last_proposal": last, "first_user": first_user}


@contextmanager
def counting(app):
    engine = app.extensions["assembly_db"].engine
    counter = {"n": 0}

    def before(*_args, **_kwargs):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def measure(world: dict, repeat: int) -> dict:
    app = world["app"]
    client = app.test_client()  # a visitor: the public pages
    pages = {
        "proposal list (newest)": "/n/big/proposals",
        "proposal list (most supported)": "/n/big/proposals?sort=supported",
        "proposal list (page 5)": "/n/big/proposals?page=5",
        "proposal page": f"/n/big/p/{world['last_proposal']}",
        "neighbourhood page": "/n/big",
        "feed": "/n/big/feed.atom",
    }
    results = {}
    for name, path in pages.items():
        for _ in range(3):
            assert client.get(path).status_code == 200, path
        times = []
        with counting(app) as counter:
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - started)
        results[name] = (1000 * statistics.median(times), counter["n"] / repeat)
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="10^6 proposals and 10^7 supports")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    big = (1_000_000, 10_000_000) if args.full else (100_000, 1_000_000)
    sizes = [(1_000, 10_000), big]
    measured = {}
    for proposals, supports in sizes:
        with scratch_database(args.backend) as url:
            started = time.perf_counter()
            world = build(url, proposals, supports)
            built = time.perf_counter() - started
            measured[proposals] = measure(world, args.repeat)
            world["app"].extensions["assembly_db"].engine.dispose()
        print(f"built {proposals:,} proposals / {supports:,} supports in {built:.0f} s", flush=True)
    small, large = (measured[size[0]] for size in sizes)
    print(f"\n{args.backend}: median ms per request (SQL statements per request)")
    print(f"| page | {sizes[0][0]:,} proposals | {sizes[1][0]:,} proposals | ratio |")
    print("|---|---|---|---|")
    for name in small:
        (a, qa), (b, qb) = small[name], large[name]
        print(f"| {name} | {a:.1f} ms ({qa:.0f}) | {b:.1f} ms ({qb:.0f}) | {b / a:.2f}× |")


if __name__ == "__main__":
    main()
