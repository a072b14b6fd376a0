"""Alembic environment: the database URL comes from the app's configuration."""
from __future__ import annotations

from alembic import context

from assembly import create_app
from assembly.db import UTCDateTime, make_engine
from assembly.models import Base
from assembly.proposals.search import is_search_index

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return url
    return create_app().config["DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_database_url())
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            _run_without_sqlite_foreign_keys(connection)
        else:
            _run(connection)
    engine.dispose()


def _run_without_sqlite_foreign_keys(connection) -> None:
    """Batch operations rebuild a SQLite table (copy, drop, rename); with foreign keys enforced
    the DROP deletes or refuses the rows that other tables point to. So enforcement is off for
    the run (it can only be switched outside a transaction) and every reference is checked after."""
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        _run(connection)
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
    if broken:
        raise RuntimeError(f"the migration left rows pointing nowhere (table, rowid, parent, fk): {broken[:10]}")


def _render_item(type_, obj, autogen_context):
    # Migrations must not import application code: write our column types as plain SQLAlchemy.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def include_name(name, type_, _parent_names) -> bool:
    """Leave the word-search index alone: revision 0008 made it, the models do not declare it."""
    return not (type_ in ("table", "index") and is_search_index(name))


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, compare_server_default=True, render_item=_render_item,
                      include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
