"""`flask promises …`: checks on promises."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from assembly.promises.services import verify_all

group = AppGroup("promises", help="Citizen promises and programmes.")


@group.command("verify")
def verify():
    """Recompute every commitment's progress hash chain; print the first broken event per
    commitment, exit 1 if any."""
    broken = 0
    for commitment, problem in verify_all():
        broken += 1
        where = f"promise {commitment.promise_id}, commitment {commitment.id}"
        if isinstance(problem, int):
            click.echo(f"{where}: event {problem} is missing")
        else:
            click.echo(f"{where}: event {problem.seq} (id {problem.id}) does not match its hash chain")
    if broken:
        raise click.ClickException(f"{broken} commitment timeline(s) broken")
    click.echo("every commitment timeline is intact")
