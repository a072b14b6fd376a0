"""`flask photos …`: upkeep of the photo store."""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from assembly.db import utcnow
from assembly.photos.storage import store
from assembly.photos.sweep import sweep as sweep_store

group = AppGroup("photos", help="Photos attached to proposals, questions and progress steps.")


@group.command("sweep")
@click.option("--older-than", "minutes", type=click.IntRange(min=1), default=60, show_default=True,
              help="Leave files younger than this many minutes (a request may be about to commit them).")
@click.option("--dry-run", is_flag=True, help="Only list the files that would be removed.")
def sweep(minutes: int, dry_run: bool) -> None:
    """Remove stored photo files that no photo row names (left by a crash or a failed delete)."""
    result = sweep_store(store(), utcnow(), dt.timedelta(minutes=minutes), dry_run=dry_run)
    for name in result.removed:
        click.echo(f"{'would remove' if dry_run else 'removed'} {name}")
    click.echo(f"{len(result.removed)} of {result.checked} file(s) old enough to check had no photo row"
               + (" (dry run: nothing removed)" if dry_run else ""))
