"""`flask surveys tick`: count the surveys whose closing time has passed (also run by
`flask assemblies tick`, so one scheduler entry does both)."""
from __future__ import annotations

import logging

import click
from flask.cli import AppGroup

from assembly.db import db, utcnow
from assembly.scheduling import exclusive
from assembly.surveys.models import Survey
from assembly.surveys.responses import close_survey, due_for_closing

log = logging.getLogger(__name__)

group = AppGroup("surveys", help="Surveys.")


def tick_surveys(now) -> tuple[int, int]:
    """Close every due survey, each in a transaction of its own (one that cannot be counted is
    logged and tried again next time); one server at a time."""
    with exclusive("surveys-tick") as mine:
        if not mine:
            return 0, 0
        due = due_for_closing(now)
        db.session.rollback()
        closed = failed = 0
        for survey_id in due:
            try:
                if close_survey(db.session.get(Survey, survey_id), now):
                    closed += 1
                db.session.commit()
            except Exception:  # noqa: BLE001 - logged; the next tick tries again
                db.session.rollback()
                log.exception("survey %s could not be closed", survey_id)
                failed += 1
        db.session.close()
        return closed, failed


@group.command("tick")
def tick():
    """Close and count the surveys that are due (run every minute; safe on several servers)."""
    closed, failed = tick_surveys(utcnow())
    click.echo(f"closed {closed} surveys, {failed} failed")
    if failed:
        raise SystemExit(1)
