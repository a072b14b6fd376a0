"""`flask assemblies …` (the scheduler's tick) and `flask recount` (anyone's check of a ballots file)."""
from __future__ import annotations

import json
import logging
import time

import click
from flask.cli import AppGroup

from assembly import tally
from assembly.assemblies.models import Assembly
from assembly.assemblies.services import due_assemblies
from assembly.assemblies.voting import advance
from assembly.db import db, utcnow
from assembly.scheduling import exclusive
from assembly.surveys.cli import tick_surveys

log = logging.getLogger(__name__)

group = AppGroup("assemblies", help="Assembly sessions.")


def tick_assemblies(now) -> tuple[int, int]:
    """Advance every due session, each in a transaction of its own, so one that cannot be
    counted (an envelope that does not open) is reported and does not hold up the others.
    One server ticks at a time; on the others the pass finds the lock taken and does nothing
    (each session's claim alone would already keep it from being closed twice)."""
    with exclusive("assemblies-tick") as mine:
        return _tick_assemblies(now) if mine else (0, 0)


def _tick_assemblies(now) -> tuple[int, int]:
    due_ids = [assembly.id for assembly in due_assemblies(now)]
    db.session.rollback()
    advanced = failed = 0
    for assembly_id in due_ids:
        try:
            assembly = db.session.get(Assembly, assembly_id)
            advance(assembly, now)
            db.session.commit()
            advanced += 1
        except Exception:  # noqa: BLE001 - logged; the next tick tries again
            db.session.rollback()
            log.exception("session %s could not be advanced", assembly_id)
            failed += 1
    db.session.close()
    return advanced, failed


@group.command("tick")
@click.option("--loop", is_flag=True, help="Keep running, every --interval seconds.")
@click.option("--interval", default=20.0, show_default=True)
def tick(loop, interval):
    """Open and close voting windows that are due and count closed ballots (run every
    minute from cron, or with --loop; safe on several servers at once)."""
    while True:
        now = utcnow()
        advanced, failed = tick_assemblies(now)
        closed, survey_failed = tick_surveys(now)  # surveys close on the same schedule
        failed += survey_failed
        if advanced or failed or closed or not loop:
            click.echo(f"advanced {advanced} sessions, {failed} failed; closed {closed} surveys")
        if not loop:
            if failed:
                raise SystemExit(1)
            break
        time.sleep(interval)


@click.command("recount")
@click.argument("file", type=click.File("rb"))
def recount(file):
    """Recount a downloaded ballots file and print its digest and result."""
    document = json.loads(file.read().decode("utf-8"))
    try:
        result = tally.tally_document(document)
    except tally.TallyError as error:
        raise click.ClickException(f"the file cannot be counted: {error}") from None
    click.echo(f"digest: {tally.digest(document)}")
    click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1, sort_keys=True))
