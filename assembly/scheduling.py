"""Scheduled commands on several app servers at once.

Every node may run the same cron jobs and loops (`assemblies tick`, `mail send`, `mail digest`).
What makes that safe is, first, the work itself: a ballot is closed by a conditional claim of
its row, a mail is claimed with `FOR UPDATE SKIP LOCKED`, a person's digest by a conditional
update of `users.digest_sent_at`. On top of that a command that should run on one node at a
time takes a named lock with `exclusive(name)`, without waiting: the node that gets it does the
pass, the others skip theirs, so N nodes do not repeat each other's queries or fight over rows.

The lock lives where the nodes already meet:

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a connection of its
  own for the length of the pass. It is released when the pass ends, and by the server when the
  connection or the process dies, so a killed node never leaves it behind. (A connection pooler
  in transaction mode, such as PgBouncer's, breaks session locks: connect the commands directly.)
- SQLite: one machine by nature; an exclusive `flock` on a file beside the database file,
  released by the kernel when the process ends.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from assembly.db import db

_NAMESPACE = b"assembly scheduled command\0"


def lock_id(name: str) -> int:
    """A stable signed 64-bit number for the name (advisory locks are numbered)."""
    digest = hashlib.sha256(_NAMESPACE + name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def exclusive(name: str, engine: Engine | None = None) -> Iterator[bool]:
    """Try to take the lock `name` shared by every process on this database; yields whether this
    process holds it (never waits). Run the pass only when it yields True."""
    engine = engine or db.engine
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, name) as held:
            yield held
    else:
        with _file_lock(engine, name) as held:
            yield held


@contextmanager
def _advisory_lock(engine: Engine, name: str) -> Iterator[bool]:
    key = lock_id(name)
    with engine.connect() as connection:
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        connection.commit()  # hold no transaction open while the pass runs; the lock is the session's
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()


@contextmanager
def _file_lock(engine: Engine, name: str) -> Iterator[bool]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield True  # a database in this process's memory: no other process can share it
        return
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    path = Path(f"{database}.{safe}.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except BlockingIOError:
            held = False
        try:
            yield held
        finally:
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
