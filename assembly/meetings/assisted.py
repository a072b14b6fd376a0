"""Meeting questions and supports through the muhtar (assisted participation, docs/muhtars.md):
a resident who came to the office or was met at the door asks an invited body a question, or
supports a question, and the muhtar enters it in their name. The meeting's own rules apply as if
the resident had clicked (`services.ask`, `services.support`: a resident of a covered
neighbourhood, while the meeting is open for questions, one support per person, not their own
question); the question or support is marked "entered by the muhtar" on the meeting's pages."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from assembly import permissions
from assembly.accounts.models import User
from assembly.assisted.models import AssistedEntry
from assembly.assisted.services import OnBehalfAction, register_action
from assembly.db import db
from assembly.errors import NotAllowed
from assembly.meetings import services
from assembly.meetings.models import Meeting, MeetingQuestion

QUESTION, SUPPORT = "meeting_question", "meeting_support"


def _covered(resident: User, meeting: Meeting) -> None:
    residence = permissions.roles_of(resident).residence
    if residence is None or residence.neighbourhood_id not in meeting.neighbourhood_ids:
        raise NotAllowed(_("The meeting does not cover the resident's neighbourhood."))


def _ask(resident: User, now: dt.datetime, meeting: Meeting, *, body_id: int | None, text: str) -> MeetingQuestion:
    _covered(resident, meeting)
    return services.ask(resident, now, meeting, body_id=body_id, text=text)


def _support(resident: User, now: dt.datetime, question: MeetingQuestion) -> MeetingQuestion:
    _covered(resident, question.meeting)
    services.support(resident, now, question)
    return question


register_action(OnBehalfAction(QUESTION, _l("Ask a question at a meeting"), "meeting_question", _ask))
register_action(OnBehalfAction(SUPPORT, _l("Support a question at a meeting"), "meeting_question", _support))


@dataclass
class Marks:
    """Which questions of a meeting, and how many of their supports, the muhtar entered."""

    question_ids: set[int] = field(default_factory=set)
    supports: Counter = field(default_factory=Counter)  # question id → supports entered by the muhtar


def marks_for(meeting: Meeting) -> Marks:
    """The "entered by the muhtar" marks of a meeting's questions: one statement, whatever their number."""
    marks = Marks()
    rows = db.session.execute(
        select(AssistedEntry.action, AssistedEntry.object_id)
        .where(AssistedEntry.object_type == "meeting_question",
               AssistedEntry.object_id.in_(select(MeetingQuestion.id).where(MeetingQuestion.meeting_id == meeting.id))))
    for action, question_id in rows:
        if action == QUESTION:
            marks.question_ids.add(question_id)
        elif action == SUPPORT:
            marks.supports[question_id] += 1
    return marks
