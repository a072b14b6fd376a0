"""`flask promises …`: checks on promises."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from assembly.promises import photos as progress_photos
from assembly.promises.services import verify_all

group = AppGroup("promises", help="Citizen promises and programmes.")


@group.command("verify")
@click.option("--photos/--no-photos", "check_photos", default=True, show_default=True,
              help="Also read every progress photo back and compare it with the fingerprint in its step "
                   "(with S3 storage this downloads them).")
def verify(check_photos: bool):
    """Recompute every commitment's progress hash chain; print the first broken event per
    commitment, and every progress photo that no longer matches its step; exit 1 if any."""
    broken = 0
    for commitment, problem in verify_all():
        broken += 1
        where = f"promise {commitment.promise_id}, commitment {commitment.id}"
        if isinstance(problem, int):
            click.echo(f"{where}: event {problem} is missing")
        else:
            click.echo(f"{where}: event {problem.seq} (id {problem.id}) does not match its hash chain")
    bad_photos = 0
    if check_photos:
        for event, problem in progress_photos.check_photos():
            bad_photos += 1
            click.echo(f"promise {event.commitment.promise_id}, commitment {event.commitment_id}, "
                       f"event {event.seq}: {problem}")
    if broken or bad_photos:
        raise click.ClickException(f"{broken} commitment timeline(s) broken, {bad_photos} photo problem(s)"
                                   if bad_photos else f"{broken} commitment timeline(s) broken")
    if check_photos and (checked := progress_photos.count()):
        click.echo(f"{checked} progress photo(s) match their steps")
    click.echo("every commitment timeline is intact")
