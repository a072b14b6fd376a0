"""`flask cases …`: checks on forwarded items."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from assembly.cases.services import verify_all

group = AppGroup("cases", help="Forwarded items (cases).")


@group.command("verify")
def verify():
    """Recompute every case's hash chain; print the first broken event per case, exit 1 if any."""
    broken = 0
    for case, problem in verify_all():
        broken += 1
        if isinstance(problem, int):
            click.echo(f"{case.reference}: event {problem} is missing")
        else:
            click.echo(f"{case.reference}: event {problem.seq} (id {problem.id}) does not match its hash chain")
    if broken:
        raise click.ClickException(f"{broken} case timeline(s) broken")
    click.echo("every case timeline is intact")
