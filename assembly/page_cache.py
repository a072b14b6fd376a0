"""Whole pages kept for visitors, while the data and the clock still give the same page.

A visitor — no login, no cookie but a session holding at most a CSRF token, no `?lang=` switch —
gets the page another visitor got for the same address and language, as long as

- the database has not changed since it was rendered: its *data version*, read on a connection of
  the worker's own before the view would run, is the same (see `_read_version`);
- the clock has not passed a moment that changes the page (a vote opening or closing, a case's
  deadline: the view says so with `valid_until`), nor PAGE_CACHE_SECONDS since it was rendered;
- the page was given to nobody in particular: an answer 200 that sets no cookie, changes no
  session, and shows no CSRF token or form token (`personal` marks a page that does).

Only the views decorated with `for_visitors` are kept (the public pages everyone reads). A visitor
still passes the rate limits and every header of the answer is made afresh; only the view's work
is saved. Each worker process keeps its own pages, the least recently used first dropped beyond
PAGE_CACHE_BYTES. The answer carries an ETag, so a browser asking again gets a 304. Design and
limits: docs/architecture.md, "Pages kept for visitors".
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, make_response, request, session
from sqlalchemy import event

from assembly import web
from assembly.config import LOCALES
from assembly.db import db

log = logging.getLogger(__name__)

class _VersionReader(threading.local):
    """A connection of its own per thread, in autocommit, that only reads the data version."""

    connection: Any = None
    token: int = 0
    pid: int = 0


_connection_tokens = itertools.count(1)


def _read_version(engine, reader: _VersionReader, opened: list) -> tuple | None:
    """What the database's data is, in one statement on the reader's own connection; None when it
    cannot be said (the page is then rendered and not kept).

    SQLite: `PRAGMA data_version` changes on a connection whenever another connection commits, and
    this connection never writes; with the connection's token, as the value is its own. PostgreSQL:
    the snapshot (the oldest running transaction, the next transaction id, those in progress)
    changes whenever a writing transaction starts or ends."""
    dialect = engine.dialect.name
    try:
        if reader.connection is None or reader.pid != os.getpid():
            raw = engine.raw_connection()
            raw.detach()  # kept by this thread, outside the pool
            connection = raw.dbapi_connection
            if dialect == "postgresql":
                connection.autocommit = True
            reader.connection, reader.token, reader.pid = connection, next(_connection_tokens), os.getpid()
            opened.append(connection)
        if dialect == "sqlite":
            return ("sqlite", reader.token, reader.connection.execute("PRAGMA data_version").fetchone()[0])
        if dialect == "postgresql":
            return ("postgresql", reader.connection.execute("SELECT pg_current_snapshot()::text").fetchone()[0])
    except Exception:  # noqa: BLE001 - a lost connection: render this page, open a new one next time
        _close(reader)
        log.warning("page cache: the data version could not be read", exc_info=True)
    return None


def _close(reader: _VersionReader) -> None:
    connection, reader.connection = reader.connection, None
    if connection is not None:
        try:
            connection.close()
        except Exception:  # noqa: BLE001
            pass


@dataclass(frozen=True)
class _Page:
    version: tuple
    until: dt.datetime
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str


class PageCache:
    """The pages one process keeps: least recently used first dropped beyond `max_bytes`."""

    def __init__(self, engine, max_bytes: int, max_age: dt.timedelta) -> None:
        self.engine = engine
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._reader = _VersionReader()
        self._opened: list = []  # the readers' connections, closed with the engine's pool
        if engine is not None:
            event.listen(engine, "engine_disposed", lambda _engine: self.close_readers())
        self._pages: OrderedDict[tuple, _Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> _Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: _Page) -> None:
        if len(page.body) > self.max_bytes // 8:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._pages[key] = page
            self._bytes += len(page.body)
            while self._bytes > self.max_bytes:
                _key, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.body)

    def data_version(self) -> tuple | None:
        return _read_version(self.engine, self._reader, self._opened)

    def close_readers(self) -> None:
        opened, self._opened = self._opened, []
        for connection in opened:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing what may be gone already
                pass
        self._reader = _VersionReader()

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0


def init_app(app: Flask) -> None:
    """Keep pages if PAGE_CACHE_SECONDS and PAGE_CACHE_BYTES allow, on a database the version of which
    can be read from a connection of its own (not an in-memory SQLite database: each connection has
    its own)."""
    engine = db.state(app).engine
    seconds, size = app.config["PAGE_CACHE_SECONDS"], app.config["PAGE_CACHE_BYTES"]
    in_memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
    if seconds > 0 and size > 0 and engine.dialect.name in ("sqlite", "postgresql") and not in_memory:
        app.extensions["page_cache"] = PageCache(engine, size, dt.timedelta(seconds=seconds))


def valid_until(moment: dt.datetime | None) -> None:
    """The page being rendered changes by the clock alone at `moment` (a vote opens, a deadline
    passes): it is not given to anyone from then on."""
    if moment is None:
        return
    current = g.get("page_valid_until")
    if current is not None and moment < current:
        g.page_valid_until = moment


def personal() -> None:
    """The page being rendered holds something of this visitor's own (a form's token)."""
    g.page_is_personal = True


def _key() -> tuple | None:
    """The address and language of a visitor's request; None for anyone else."""
    if request.method != "GET" or "lang" in request.args or "Authorization" in request.headers:
        return None
    cookie = current_app.config["SESSION_COOKIE_NAME"]
    if any(name != cookie for name in request.cookies):
        return None  # a remember-me cookie may log someone in
    user = g.get("_login_user")  # loaded already (an API token, say): only an anonymous one will do
    if user is not None and user.is_authenticated:
        return None
    if any(name != "csrf_token" for name in session):
        return None  # logged in, a language chosen, messages waiting to be shown
    return (request.scheme, request.host, request.root_path, request.path, request.query_string,
            request.accept_languages.best_match(LOCALES))


def _shareable(response: Response) -> bool:
    return (response.status_code == 200 and not response.direct_passthrough and not response.is_streamed
            and "Set-Cookie" not in response.headers and not session.modified
            and current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") not in g
            and not g.get("page_is_personal"))


def _answer(page: _Page) -> Response:
    response = Response(page.body, status=page.status, headers=list(page.headers))
    response.set_etag(page.etag)
    return response.make_conditional(request)


def for_visitors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Keep the view's pages for visitors (see the module's docstring)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        cache: PageCache | None = current_app.extensions.get("page_cache")
        key = _key() if cache is not None else None
        version = cache.data_version() if key is not None else None
        if version is None:
            return view(*args, **kwargs)
        now = web.now()
        page = cache.get(key)
        if page is not None and page.version == version and now < page.until:
            return _answer(page)
        g.page_valid_until = now + cache.max_age
        response = make_response(view(*args, **kwargs))
        if _shareable(response):
            body = response.get_data()
            page = _Page(version=version, until=g.page_valid_until, status=response.status_code,
                         headers=tuple(response.headers.items()), body=body,
                         etag=hashlib.sha256(body).hexdigest()[:32])
            cache.put(key, page)
            response.set_etag(page.etag)
            response = response.make_conditional(request)
        return response

    return wrapper
