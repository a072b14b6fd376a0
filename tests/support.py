"""Helpers shared by the test modules: apps with their own settings, page text, translations."""
from __future__ import annotations

import html
import re
from contextlib import contextmanager
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from sqlalchemy import func, select

from assembly import create_app
from assembly.db import db
from assembly.extensions import babel, limiter
from assembly.models import Base
from tests.conftest import test_config

TRANSLATIONS = Path(__file__).resolve().parent.parent / "assembly" / "translations"
_compiled: dict[str, str] = {}


@contextmanager
def isolated_app(database_url: str, **overrides):
    """An app of its own (e.g. CSRF or rate limits on) whose sessions share one rolled-back transaction.

    Flask-Limiter and Flask-Babel keep some state on their (global) extension objects;
    it is put back afterwards so that the other tests' app is not affected.
    """
    saved_limiter = dict(vars(limiter))
    app = create_app(test_config(database_url, **overrides))
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


def snapshot(app: Flask) -> dict[str, list]:
    """Every row of every table, to prove that a request wrote nothing."""
    with app.app_context():
        session = db.session
        return {table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
                for table in Base.metadata.sorted_tables}


def csrf_token(client, path: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).get_data(as_text=True))
    if found is None:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)
