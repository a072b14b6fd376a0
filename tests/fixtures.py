"""The fixtures every test module may use (a pytest plugin, registered by tests/conftest.py).

Every database test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (`database_url`
is parametrised). Each test runs inside a transaction that is rolled back at the end; the app's
sessions join it through SAVEPOINTs, so a request's commit is real for the test but leaves
nothing behind. Tests that need truly committed data from several connections (concurrency)
use `committed_database` and `concurrent_app` instead.

Plain helpers (settings, logging in, page text) are in tests/support.py; factories in
tests/*_factories.py. Test modules import from those, never from conftest.py.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from assembly import create_app
from assembly.cli import upgrade_database
from assembly.db import db
from assembly.extensions import limiter
from tests import case_factories as cf
from tests import proposal_factories as pf
from tests.assembly_factories import PREPARED, Clock
from tests.support import app_config, postgres_url, reset_postgres, skip_or_fail

WORLDS = {
    "proposals": pf.world,  # a neighbourhood with a muhtar, a category and a verified author
    "cases": cf.world,  # Kadıköy's Caferağa with the council and the police, each with staff
}


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "world(kind): which world the `w` fixture makes: "
                                       + ", ".join(WORLDS) + " (proposals when not marked)")


# --- the database and the app --------------------------------------------------------------------

@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    else:
        url = postgres_url()
        reset_postgres(url)
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def base_app(database_url):
    app = create_app(app_config(database_url))
    yield app
    app.extensions["assembly_db"].engine.dispose()


@pytest.fixture
def app(base_app):
    """The app, with every session of this test inside one rolled-back transaction."""
    state = base_app.extensions["assembly_db"]
    connection = state.engine.connect()
    transaction = connection.begin()
    state.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    if base_app.config["RATELIMIT_ENABLED"]:
        limiter.reset()
    try:
        yield base_app
    finally:
        state.session_factory.configure(bind=state.engine, join_transaction_mode="conservative_savepoint")
        transaction.rollback()
        connection.close()


@pytest.fixture
def ctx(app):
    """An application context for calling services directly."""
    with app.app_context():
        yield app
        db.session.close()


@pytest.fixture
def client(app):
    return app.test_client()


# --- real commits, for concurrency -------------------------------------------------------------

@pytest.fixture
def committed_database(tmp_path, request):
    """A database of its own, migrated, whose commits are real (for concurrency tests).

    Returns the URL; PostgreSQL (the default) gets a fresh database that is dropped afterwards;
    parametrise it indirectly with "sqlite" for a file of its own.
    """
    backend = getattr(request, "param", "postgresql")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'committed.sqlite3'}"
        upgrade_database(url)
        yield url
        return
    base = postgres_url()
    name = f"assembly_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - reported as the reason
        admin.dispose()
        skip_or_fail(f"cannot create a PostgreSQL test database: {error}")
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def concurrent_app(committed_database):
    """An app on `committed_database`: every request and app context commits for real."""
    app = create_app(app_config(committed_database))
    yield app
    app.extensions["assembly_db"].engine.dispose()


# --- the clock and the worlds --------------------------------------------------------------------

@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The request clock (`assembly.web.utcnow`), starting the day before voting opens
    (`tests.assembly_factories.PREPARED`); a test moves it by setting `clock.now`."""
    clock = Clock(PREPARED)
    monkeypatch.setattr("assembly.web.utcnow", clock)
    return clock


@pytest.fixture
def w(request, ctx):
    """The world a module's tests share, made in an app context: `pf.world()` (a neighbourhood
    for proposals), or `cf.world()` (bodies and cases) in a module marked
    `pytestmark = pytest.mark.world("cases")`."""
    marker = request.node.get_closest_marker("world")
    return WORLDS[marker.args[0] if marker else "proposals"]()
