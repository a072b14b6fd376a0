"""The command line's shared parts: `flask --app wsgi <group> <command>`.

Each domain declares its own command group in its `cli.py` (`assemblies`, `cases`, `mail`,
`setup`, `demo`, `check`); `create_app` adds them. This module holds what they share, and the
`db` group (the schema), which belongs to no domain.
It imports no domain, so every domain may import it.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from alembic import command as alembic_command
from alembic.runtime.migration import MigrationContext
from alembic.config import Config as AlembicConfig
from flask import current_app
from flask.cli import AppGroup

from assembly.actors import SystemActor
from assembly.db import db, utcnow
from assembly.errors import DomainError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
T = TypeVar("T")


def alembic_config(url: str | None = None) -> AlembicConfig:
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.attributes["database_url"] = url
    return config


def upgrade_database(url: str | None = None, revision: str = "head") -> None:
    alembic_command.upgrade(alembic_config(url or current_app.config["DATABASE_URL"]), revision)


def done(message: str) -> None:
    """Commit what the command did, then say so."""
    db.session.commit()
    click.echo(message)


def run_as_system(service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a service as the command line's administrator; a refusal becomes a command error."""
    try:
        return service(SystemActor(), utcnow(), *args, **kwargs)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None


schema = AppGroup("db", help="Database schema (Alembic migrations).")


def current_revision() -> str | None:
    """The migration the database is at; None for a database without tables (a new one)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@schema.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision):
    """Apply migrations up to REVISION (default: head); says whether it created the database,
    upgraded it or found it already there."""
    before = current_revision()
    upgrade_database(revision=revision)
    after = current_revision()
    if before is None and after is not None:
        click.echo(f"database created (at {revision}, migration {after})")
    elif before != after:
        click.echo(f"database upgraded from migration {before} to {after}; database is at {revision}")
    else:
        click.echo(f"database is at {revision} (migration {after}); nothing to do")


@schema.command("downgrade")
@click.argument("revision")
def db_downgrade(revision):
    """Revert migrations down to REVISION."""
    alembic_command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)

