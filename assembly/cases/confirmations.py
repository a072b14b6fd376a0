"""Is it fixed? When a case is marked done, the proposal's author and followers are asked
(`services.ask_if_fixed`). Each answers once per time the case is done: "yes" is recorded; "no"
needs a public note and reopens the case on its timeline (`services.reopen`)."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from assembly import permissions
from assembly.cases import services
from assembly.cases.models import Case, CaseConfirmation, CaseEvent, CaseStatus, FixAnswer
from assembly.db import db
from assembly.errors import InvalidTransition, ValidationFailed
from assembly.i18n import ngettext
from assembly.text import clean_plain

NOTE_MAX = 2000


def _done_seq(case: Case) -> int | None:
    return db.session.scalar(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case.id,
                                                                   CaseEvent.kind == "done"))


def answer(actor, now: dt.datetime, case: Case, answer: str, note: str | None = None) -> CaseConfirmation:
    if case.status != CaseStatus.DONE.value:
        raise InvalidTransition(_("This case is not marked done now, so there is nothing to confirm."))
    permissions.require(actor, "confirm_fix", case)
    if answer not in (FixAnswer.YES.value, FixAnswer.NO.value):
        raise ValidationFailed(_("Answer yes or no."), "answer")
    note = clean_plain(note or "") or None
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationFailed(ngettext("Give at most %(num)s character.", "Give at most %(num)s characters.", NOTE_MAX), "note")
    if answer == FixAnswer.NO.value and note is None:
        raise ValidationFailed(_("Say what is still wrong: your note is shown publicly on the case."), "note")
    confirmation = CaseConfirmation(case_id=case.id, user_id=actor.id, done_seq=_done_seq(case), answer=answer,
                                    note=note, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(confirmation)
    except IntegrityError:
        raise ValidationFailed(_("You have already answered for this case.")) from None
    if answer == FixAnswer.NO.value:
        services.reopen(actor, now, case, note)
    return confirmation


def answer_of(user, case: Case) -> CaseConfirmation | None:
    """`user`'s answer to the case's latest "done", if any."""
    if not getattr(user, "is_authenticated", False) or case.status != CaseStatus.DONE.value:
        return None
    return db.session.scalar(select(CaseConfirmation).where(
        CaseConfirmation.case_id == case.id, CaseConfirmation.user_id == user.id,
        CaseConfirmation.done_seq == select(func.max(CaseEvent.seq)).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "done").scalar_subquery()))


def confirmed_count(case: Case) -> int:
    """How many said "yes" to the case's latest "done"."""
    return db.session.scalar(select(func.count()).select_from(CaseConfirmation).where(
        CaseConfirmation.case_id == case.id, CaseConfirmation.answer == FixAnswer.YES.value,
        CaseConfirmation.done_seq == select(func.max(CaseEvent.seq)).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "done").scalar_subquery())) or 0
