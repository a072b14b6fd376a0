"""Plain helpers shared by the test modules (no fixtures: those are in tests/fixtures.py).

Settings of a test app, PostgreSQL availability, logging in, committed set-up, apps with their
own settings, page text, translations, and a snapshot of the whole database.
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import html
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy import text as sql

from assembly import create_app
from assembly.db import db
from assembly.extensions import babel, limiter
from assembly.models import Base

PASSWORD = "correct horse battery"
# Photos stored by test apps (the demo's, uploads) go to a folder of the test run, not instance/.
PHOTO_DIRECTORY = tempfile.mkdtemp(prefix="assembly-test-photos-")
atexit.register(shutil.rmtree, PHOTO_DIRECTORY, True)
REQUIRE_SERVICES = os.environ.get("ASSEMBLY_REQUIRE_SERVICES") == "1"


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


def reset_postgres(url: str) -> None:
    """An empty public schema (the session's database is migrated from nothing)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sql("DROP SCHEMA public CASCADE"))
            connection.execute(sql("CREATE SCHEMA public"))
    except Exception as error:  # noqa: BLE001 - reported as the reason
        skip_or_fail(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {error}")
    finally:
        engine.dispose()


def app_config(url: str, **overrides) -> dict:
    """The settings of a test app on the database at `url` (CSRF, rate limits and demo data off)."""
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
        # Uploaded consultation documents go to a scratch folder, never the checkout's instance/.
        "CONSULTATION_FILES_DIR": str(Path(tempfile.gettempdir()) / "assembly-test-consultation-files"),
        "PHOTO_DIRECTORY": PHOTO_DIRECTORY,
        # Pages kept for visitors rely on each request committing its own writes; the tests' apps
        # share one transaction that is rolled back. tests/test_page_cache.py tests the keeping.
        "PAGE_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    return config


# The name the settings had when they lived in conftest.py; pytest must not collect it as a test.
test_config = app_config
test_config.__test__ = False


def login(client, email: str, password: str = PASSWORD):
    response = client.post("/account/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def english_client(app, email: str | None = None):
    """A test client that asks for English pages, logged in as `email` if given."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if email is not None:
        login(client, email)
    return client


def client_of(app, user=None):
    """`english_client` logged in as `user` (an account), or a visitor."""
    return english_client(app, None if user is None else user.email)


@contextlib.contextmanager
def committed(app):
    """Set up data in an app context of its own and commit it, as a request would."""
    with app.app_context():
        yield
        db.session.commit()


TRANSLATIONS = Path(__file__).resolve().parent.parent / "assembly" / "translations"
_compiled: dict[str, str] = {}


@contextmanager
def isolated_app(database_url: str, **overrides):
    """An app of its own (e.g. CSRF or rate limits on) whose sessions share one rolled-back transaction.

    Flask-Limiter and Flask-Babel keep some state on their (global) extension objects;
    it is put back afterwards so that the other tests' app is not affected.
    """
    saved_limiter = dict(vars(limiter))
    app = create_app(app_config(database_url, **overrides))
    state = app.extensions["assembly_db"]
    connection = state.engine.connect()
    transaction = connection.begin()
    state.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    _forget_loaded_translations(app)
    try:
        yield app
    finally:
        transaction.rollback()
        connection.close()
        state.engine.dispose()
        _forget_loaded_translations(app)
        vars(limiter).clear()
        vars(limiter).update(saved_limiter)


def _forget_loaded_translations(app: Flask) -> None:
    # Flask-Babel caches catalogues per locale on the extension object, whatever directory they came from.
    with app.app_context():
        babel.domain_instance.cache.clear()


def compiled_translations(tmp_path_factory) -> str:
    """The translations/*.po compiled into a temporary directory (independent of `make translations`)."""
    if "dir" not in _compiled:
        target = tmp_path_factory.mktemp("translations")
        for po_file in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
            locale = po_file.parent.parent.name
            with po_file.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
            out = target / locale / "LC_MESSAGES"
            out.mkdir(parents=True)
            with (out / "messages.mo").open("wb") as handle:
                write_mo(handle, catalog)
        _compiled["dir"] = str(target)
    return _compiled["dir"]


def translation(locale: str, msgid: str) -> str | None:
    """The translation of `msgid` in translations/<locale>, or None while it is not translated."""
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        message = read_po(handle, locale=locale).get(msgid)
    if message is None or not message.string or message.fuzzy:
        return None
    return message.string


def translated_app(database_url: str, tmp_path_factory, **overrides):
    return isolated_app(database_url, BABEL_TRANSLATION_DIRECTORIES=compiled_translations(tmp_path_factory),
                        **overrides)


def text(response) -> str:
    """The page as a reader sees it (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def flashed_errors(response) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'class="flash flash-error"[^>]*>(.*?)</p>',
                                                response.get_data(as_text=True), re.DOTALL)]


def field_errors(response, field_id: str) -> list[str]:
    found = re.search(rf'<ul class="errors" id="{re.escape(field_id)}-error">(.*?)</ul>',
                      response.get_data(as_text=True), re.DOTALL)
    return [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", found.group(1))] if found else []


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def snapshot(app: Flask, ignore: dict[str, set[str]] | None = None) -> dict[str, list]:
    """Every row of every table, to prove that a request wrote nothing.

    `ignore` leaves columns out (table name → column names), for a write a test allows by name."""
    ignore = ignore or {}
    with app.app_context():
        session = db.session
        return {table.name: sorted((tuple(row) for row in session.execute(
                    select(*(c for c in table.columns if c.name not in ignore.get(table.name, ()))))), key=repr)
                for table in Base.metadata.sorted_tables}


def fingerprint(rows: dict[str, list]) -> dict[str, tuple[int, str]]:
    """A snapshot in short: each table's row count and a checksum of its contents."""
    return {table: (len(found), hashlib.sha256(repr(found).encode()).hexdigest()[:16])
            for table, found in rows.items()}


def snapshot_changes(before: dict[str, list], after: dict[str, list], limit: int = 5) -> list[str]:
    """What differs between two snapshots, table by table: rows gone and rows new (a changed
    row is both), at most `limit` of each."""
    changes = []
    for table in before.keys() | after.keys():
        old, new = Counter(before.get(table, [])), Counter(after.get(table, []))
        gone, added = list((old - new).elements()), list((new - old).elements())
        if gone or added:
            changes.append(f"{table}: {len(before.get(table, []))} -> {len(after.get(table, []))} rows; "
                           f"gone {gone[:limit]!r}; new {added[:limit]!r}")
    return sorted(changes)


def csrf_token(client, path: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).get_data(as_text=True))
    if found is None:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK TO")


@contextlib.contextmanager
def counting_statements(app: Flask, transaction_control: bool = True):
    """The SQL statements the app sends inside the block (without BEGIN and savepoints if
    `transaction_control` is false), to prove a page's cost does not grow with the data."""
    statements: list[str] = []
    engine = app.extensions["assembly_db"].engine

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        if transaction_control or not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF as `pdftotext` (Debian's poppler-utils) reads it, for checking documents.

    pdftotext splits the Arabic-script ligature lam-alef into two letters in the wrong order
    ("سلام" reads back as "سالم"): compare Persian text without that ligature.
    """
    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext (Debian poppler-utils) reads the PDFs back")
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode("utf-8")


def pdf_images(pdf: bytes) -> list[tuple[int, int]]:
    """The (width, height) in pixels of each image embedded in a PDF, as `pdfimages -list` (Debian's
    poppler-utils) lists them (soft masks left out)."""
    if shutil.which("pdfimages") is None:
        skip_or_fail("pdfimages (Debian poppler-utils) reads the PDFs' images back")
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:  # pdfimages does not read standard input
        handle.write(pdf)
        handle.flush()
        listed = subprocess.run(["pdfimages", "-list", handle.name], capture_output=True, check=True).stdout
    rows = [line.split() for line in listed.decode().splitlines()[2:]]  # after the header and its rule
    return [(int(row[3]), int(row[4])) for row in rows if row[2] == "image"]
