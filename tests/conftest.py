"""Test fixtures: every database test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

Each test runs inside a transaction that is rolled back at the end; the app's
sessions join it through SAVEPOINTs, so a request's commit is real for the
test but leaves nothing behind. Tests that need truly committed data from
several connections (concurrency) use `committed_database` instead.
"""
from __future__ import annotations

import os
import re
import uuid

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from assembly import create_app
from assembly.cli import upgrade_database
from assembly.db import db
from assembly.extensions import limiter

REQUIRE_SERVICES = os.environ.get("ASSEMBLY_REQUIRE_SERVICES") == "1"

# Property tests must not fail because a busy machine (CI, two cores) ran an example slowly.
hypothesis_settings.register_profile("assembly", deadline=None)
hypothesis_settings.load_profile("assembly")
PASSWORD = "correct horse battery"


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop without the service; fail in CI, where it must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (ASSEMBLY_REQUIRE_SERVICES=1 turns this skip into a failure)")
    pytest.skip(reason)


def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        skip_or_fail("PostgreSQL tests need TEST_DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:5432/test")
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except Exception as error:  # noqa: BLE001 - reported as the reason
        skip_or_fail(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {error}")
    finally:
        engine.dispose()


def test_config(url: str, **overrides) -> dict:
    config = {
        "ASSEMBLY_ENV": "testing",
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "BALLOT_SEAL_KEY": "test-ballot-seal-key-" + "y" * 32,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "LOAD_DEMO_DATA": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    else:
        url = postgres_url()
        _reset_postgres(url)
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def base_app(database_url):
    app = create_app(test_config(database_url))
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


@pytest.fixture
def committed_database(tmp_path, request):
    """A database of its own, migrated, whose commits are real (for concurrency tests).

    Returns the URL; PostgreSQL gets a fresh database that is dropped afterwards.
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
    except Exception as error:  # noqa: BLE001
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


def login(client, email: str, password: str = PASSWORD):
    response = client.post("/account/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response
