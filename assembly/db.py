"""Database plumbing: declarative base, engine per app, one session per request.

Services only flush; the request commits once (see `commit_request`).
"""
from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from collections.abc import Iterator
from typing import Annotated

from flask import Flask, current_app, g, request
from sqlalchemy import JSON, DateTime, Integer, MetaData, String, create_engine, event, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict: JSON()}


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
str200 = Annotated[str, mapped_column(String(200))]


def one_of(column: str, values) -> str:
    """SQL for a check constraint: `column` holds one of the enum's values."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin, so that
    # SAVEPOINTs (tests, nested work) behave as on PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Large databases (10^6 proposals): read pages through a memory map shared by all connections
    # instead of a read() call each, and keep 16 MB of hot pages per connection (default 2 MB).
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.execute("PRAGMA cache_size=-16384")
    cursor.close()


# Whether the current unit of work will write. SQLite upgrades a read transaction to a write
# transaction only if no one else wrote in between, failing at once with "database is locked"
# otherwise; a writer therefore takes the write lock up front (BEGIN IMMEDIATE), where the busy
# timeout makes concurrent writers queue instead of fail. Read-only requests keep plain BEGIN.
WRITE_INTENT: ContextVar[bool] = ContextVar("assembly_write_intent", default=True)
# A hot write view marked `web.reads_first` (the vote) reads before it writes, and checks again
# inside its writes everything they depend on: its reads need neither the write lock nor one
# snapshot, so on SQLite they run outside a transaction (each statement its own, as SQLite does
# by itself) and the view saves a BEGIN and a COMMIT. Cleared by `Database.begin_writing`.
READS_UNLOCKED: ContextVar[bool] = ContextVar("assembly_reads_unlocked", default=False)


def _sqlite_begin(conn) -> None:
    if WRITE_INTENT.get():
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif not READS_UNLOCKED.get():
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


class DatabaseState:
    """One app's engine and session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session_factory = sessionmaker(bind=engine, expire_on_commit=False)


class Database:
    """Access to the current app's database; created without an app."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], app.config["SQL_ECHO"])
        app.extensions["assembly_db"] = DatabaseState(engine)
        app.teardown_appcontext(self._close_session)
        app.before_request(self._declare_intent)
        app.teardown_request(self._forget_intent)

    @staticmethod
    def _declare_intent() -> None:
        # GET requests may still write a little (a language switch, opening a voting window);
        # they then just risk a retry-worthy lock error instead of holding the lock for every read.
        WRITE_INTENT.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @staticmethod
    def _forget_intent(_exc) -> None:
        WRITE_INTENT.set(True)
        READS_UNLOCKED.set(False)

    @staticmethod
    def state(app: Flask | None = None) -> DatabaseState:
        return (app or current_app).extensions["assembly_db"]

    @property
    def engine(self) -> Engine:
        return self.state().engine

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.state().session_factory()
        return g.db_session

    def read(self, statement, parameters: dict | None = None):
        """Rows of a Core SELECT (columns, not ORM entities) on the request's transaction.

        For the reads of pages: the session's ORM steps per statement (the execution context of
        the ORM, the result's ORM processing) are skipped; changes not flushed yet are flushed
        first, as the session itself would."""
        session = self.session
        if session.new or session.dirty or session.deleted:
            session.flush()
        return session.connection().execute(statement, parameters)

    @staticmethod
    def _close_session(_exc) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    @staticmethod
    def commit() -> None:
        if "db_session" in g:
            g.db_session.commit()

    @staticmethod
    def begin_writing() -> None:
        """End a read-only start of the request and take SQLite's write lock for what follows.

        For views marked `reads_first`: their reads run without holding the database-wide
        write lock, which is then held only for the writes and the commit. Everything the
        writes depend on must be checked again inside them (services do: constraints and
        conditional updates). No effect on PostgreSQL, whose locks are per row.
        """
        if WRITE_INTENT.get():
            return
        session = g.get("db_session")
        if session is not None and session.in_transaction() and session.get_bind().dialect.name == "sqlite":
            connection = session.connection()
            if READS_UNLOCKED.get() and not connection.connection.dbapi_connection.in_transaction:
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # the reads ran outside a transaction
            else:
                session.commit()  # nothing was written: this only ends the read transaction
        WRITE_INTENT.set(True)
        READS_UNLOCKED.set(False)

    def insert(self, model):
        """An INSERT of this database's dialect, which offers ON CONFLICT (PostgreSQL and SQLite)."""
        dialect = self.session.get_bind().dialect.name
        return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(model)

    @staticmethod
    def rollback() -> None:
        if "db_session" in g:
            g.db_session.rollback()


db = Database()


def in_batches(model, batch: int) -> Iterator[list]:
    """Every row of `model` (an entity with an integer `id`) in id order, `batch` at a time: each
    batch one statement that starts after the last id of the one before (no OFFSET, no read of
    the whole table at once)."""
    last_id = 0
    while True:
        rows = list(db.session.scalars(select(model).where(model.id > last_id).order_by(model.id).limit(batch)))
        if not rows:
            return
        yield rows
        last_id = rows[-1].id

