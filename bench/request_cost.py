"""Server CPU per request, in one process: Assembly's routes against bare Flask routes.

Each request is a WSGI call straight into the app (no network, no server), timed with the
process's CPU clock, so a busy machine changes the numbers little. On PostgreSQL the
database server's own CPU is not included (the same holds for the floors it is compared with).

    .venv/bin/python -m bench.request_cost [--backend sqlite|postgresql|both] [--requests 300]

Compared:
- *bare route*: a Flask app with the same extensions (Babel, CSRF, Flask-Login, Flask-Limiter,
  a signed cookie session) and a route that returns "ok"; the *trivial endpoint* for pages;
  requested without a cookie, and with a logged-in visitor's Assembly session cookie (same
  secret and cookie name: the floor of a logged-in request reads the same session);
- *minimal insert*: `bench.minimal_app`, one INSERT under a unique constraint and a commit;
- *no-op route*: a route added to the real Assembly app that does nothing, so it pays only
  for what every request pays (anonymous, and logged in with a session cookie);
- the vote (a re-vote, the path of a voter who changes their mind), and a browser's vote:
  the POST plus the page its 303 lands on (followed from its `Location`);
- the public pages, each rendered in full (the app with PAGE_CACHE_SECONDS=0), and as a visitor
  gets them when they are kept (`assembly.page_cache`: the data version read on a connection of
  its own, which the statement count does not see).

Prints one row per route: CPU µs per request, SQL statements per request, ratio to its floor.
Asserts nothing.
"""
from __future__ import annotations

import argparse
import io
import os
import re
import time
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

from flask import Flask
from sqlalchemy import event, text
from werkzeug.test import EnvironBuilder

from bench.vote_bench import assembly_env, prepare_assembly, scratch_database

PASSWORD = "bench-password-123"
SITE = "https://assembly.bench.invalid"
# One browser: the same User-Agent at login and after, or Flask-Login's session protection
# marks the login not fresh on every request and the cookie is signed again each time.
BROWSER = {"User-Agent": "Mozilla/5.0 (bench.request_cost)"}


def bare_app() -> Flask:
    """A trivial Flask route with the same extensions configured as Assembly."""
    from flask_babel import Babel
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address
    from flask_login import LoginManager
    from flask_wtf.csrf import CSRFProtect

    app = Flask("bare")
    # Assembly's secret and cookie name: a logged-in visitor's cookie opens here too, so the
    # logged-in floor pays for reading the same session.
    app.config.update(SECRET_KEY="b" * 64, RATELIMIT_STORAGE_URI="memory://", SESSION_COOKIE_NAME="assembly_session")
    Babel(app)
    CSRFProtect(app)
    Limiter(get_remote_address, app=app, default_limits=[])
    login = LoginManager(app)
    login.user_loader(lambda _id: None)

    @app.get("/")
    def index():
        return "ok"

    return app


def _call(app, environ: dict) -> tuple[str, dict]:
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    body = app(environ, start_response)
    try:
        for _chunk in body:
            pass
    finally:
        if hasattr(body, "close"):
            body.close()
    return answer["status"], answer["headers"]


def environ(path: str, method: str = "GET", cookie: str | None = None, form: dict | None = None) -> dict:
    headers = {**BROWSER, "Cookie": cookie} if cookie else dict(BROWSER)
    if method == "POST":  # CSRF protection over HTTPS checks that the form came from this site
        headers["Referer"] = SITE + "/"
    data = urlencode(form, doseq=True).encode() if form is not None else None
    builder = EnvironBuilder(path=path, method=method, headers=headers, data=data, base_url=SITE,
                             content_type="application/x-www-form-urlencoded" if data is not None else None)
    try:
        built = builder.get_environ()
    finally:
        builder.close()
    built["REMOTE_ADDR"] = "127.0.0.1"
    return built


@contextmanager
def counting(app):
    engine = app.extensions["assembly_db"].engine if "assembly_db" in app.extensions else None
    counter = {"n": 0}

    def before(*_args, **_kwargs):
        counter["n"] += 1

    if engine is not None:
        event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        if engine is not None:
            event.remove(engine, "before_cursor_execute", before)


def cost(app, make, requests: int, expect: str | tuple = "200") -> tuple[float, float]:
    """CPU µs per request and SQL statements per request; `make(i)` gives the i-th environ (or a
    list of environs: one browser action of several requests)."""
    expected = (expect,) if isinstance(expect, str) else expect
    for number in range(10):  # warm up: caches, connections, compiled statements
        for env in _as_list(make(number)):
            status, _ = _call(app, env)
            assert status[:3] in expected, (env["PATH_INFO"], status)
    prepared = [_as_list(make(10 + number)) for number in range(requests)]
    for envs in prepared:  # fresh input streams
        for env in envs:
            env["wsgi.input"] = io.BytesIO(env["wsgi.input"].read())
    with counting(app) as counter:
        started = time.process_time()
        for envs in prepared:
            for env in envs:
                _call(app, env)
        spent = time.process_time() - started
    return 1e6 * spent / requests, counter["n"] / requests


def _as_list(value):
    return value if isinstance(value, list) else [value]


def session_cookie(app, email: str) -> str:
    client = app.test_client()
    page = client.get("/account/login", base_url=SITE, headers=BROWSER).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = client.post("/account/login", data={"csrf_token": token, "email": email, "password": PASSWORD},
                         headers={**BROWSER, "Referer": SITE + "/"},
                         base_url=SITE)
    assert answer.status_code == 302, answer.status_code
    return "; ".join(f"{cookie.key}={cookie.value}" for cookie in client._cookies.values())


def csrf_token(app, cookie: str, path: str) -> str:
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status

    body = b"".join(app(environ(path, cookie=cookie), start_response))
    return re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1).decode()


def extend_world(url: str) -> dict:
    """A second proposal forwarded to the council as a case, for the case page."""
    from assembly import create_app
    from assembly.accounts.models import User
    from assembly.cases import services as cases
    from assembly.db import db, utcnow
    from assembly.neighbourhoods.models import Body, Neighbourhood
    from assembly.proposals import services as proposals

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        now = utcnow()
        hood = db.session.query(Neighbourhood).filter_by(slug="bench").one()
        author = db.session.query(User).filter_by(email="voter2@bench.example").one()
        muhtar = db.session.query(User).filter_by(email="muhtar@bench.example").one()
        body = db.session.query(Body).filter_by(slug="council").one()
        category_id = db.session.scalar(text("SELECT id FROM categories LIMIT 1"))
        proposal = proposals.create_proposal(author, now, hood, proposals.ProposalInput(
            title="Forwarded proposal", body="Please repair the lamps.", category_id=category_id))
        case = cases.forward(muhtar, now, proposal, body, reason="Dark at night.")
        db.session.commit()
        found = {"proposal": proposal.id, "case": case.reference}
    app.extensions["assembly_db"].engine.dispose()
    return found


def measure(url: str, requests: int) -> list[tuple[str, float, float, str]]:
    """Rows: (route, CPU µs, statements, floor name)."""
    from assembly import create_app
    from bench.minimal_app import create_minimal_app, create_tables

    session_path, item_id, emails = prepare_assembly(url)
    extra = extend_world(url)
    create_tables(url)
    os.environ.update(assembly_env(url))
    os.environ["BENCH_DATABASE_URL"] = url
    app = create_app({"DATABASE_URL": url, "PAGE_CACHE_SECONDS": 0})  # every page rendered in full
    kept = create_app({"DATABASE_URL": url})  # a visitor's pages kept (assembly.page_cache)
    noop = "/bench/no-op"
    app.add_url_rule(noop, "bench_noop", lambda: "ok")
    bare = bare_app()
    minimal = create_minimal_app()
    voters = [(email, session_cookie(app, email)) for email in emails[:16]]
    muhtar_cookie = session_cookie(app, "muhtar@bench.example")
    tokens = [csrf_token(app, cookie, session_path) for _email, cookie in voters]
    choices = ["yes", "no", "abstain"]

    def vote(number: int) -> dict:
        which = number % len(voters)
        return environ(session_path + "/vote", "POST", voters[which][1],
                       {"csrf_token": tokens[which], f"item-{item_id}": choices[number % 3]})

    # The page a vote's 303 sends the browser to (the same for every re-vote on an open ballot).
    landing = urlsplit(_call(app, vote(0))[1]["Location"]).path

    def browser_vote(number: int) -> list[dict]:
        which = number % len(voters)
        return [vote(number), environ(landing, cookie=voters[which][1])]

    rows: list[tuple[str, float, float, str]] = []

    def add(name, target, make, floor, expect="200"):
        micro, statements = cost(target, make, requests, expect)
        rows.append((name, micro, statements, floor))

    add("bare route (floor)", bare, lambda n: environ("/"), "")
    add("bare route, same session cookie (floor)", bare, lambda n: environ("/", cookie=voters[0][1]), "")
    add("minimal insert (floor)", minimal, lambda n: environ("/vote", "POST"), "")
    add("no-op route, anonymous", app, lambda n: environ(noop), "bare route (floor)")
    add("no-op route, logged in", app, lambda n: environ(noop, cookie=voters[0][1]),
        "bare route, same session cookie (floor)")
    add("vote (POST, 303)", app, vote, "minimal insert (floor)", "303")
    add("browser's vote (POST + page)", app, browser_vote, "minimal insert (floor)", ("303", "200"))
    pages = {
        "proposal list": "/n/bench/proposals",
        "proposal list, search": "/n/bench/proposals?q=benchmark",
        "proposal page": f"/n/bench/p/{extra['proposal']}",
        "session page": session_path,
        "case page": f"/cases/{extra['case']}",
        "neighbourhood page": "/n/bench",
        "Atom feed": "/n/bench/feed.atom",
    }
    for name, path in pages.items():
        add(name, app, lambda n, path=path: environ(path), "bare route (floor)")
    add("session page (muhtar)", app, lambda n: environ(session_path, cookie=muhtar_cookie), "bare route (floor)")
    for name, path in pages.items():
        add(f"{name}, kept for visitors", kept, lambda n, path=path: environ(path), "bare route (floor)")
    for each in (app, kept):
        each.extensions["assembly_db"].engine.dispose()
    return rows


def table(backend: str, rows) -> list[str]:
    floors = {name: micro for name, micro, _s, _f in rows}
    lines = [f"| {backend} | route | CPU µs/request | statements | × its floor |", "|---|---|---:|---:|---:|"]
    for name, micro, statements, floor in rows:
        ratio = f"{micro / floors[floor]:.2f}×" if floor else "1.00×"
        lines.append(f"| {backend} | {name} | {micro:,.0f} | {statements:.1f} | {ratio} |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with scratch_database(backend) as url:
            rows = measure(url, args.requests)
        print("\n".join(table(backend, rows)), flush=True)


if __name__ == "__main__":
    main()
