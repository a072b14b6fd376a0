"""A survey answered through the muhtar (assisted participation, docs/muhtars.md): the muhtar
types in the answers of a resident who came to the office or was met at the door.

The answers go the way of every online answer (`responses.respond`, run as the resident): sealed
beside the resident's participation until closing, then shuffled into anonymous rows. What is
marked "entered by the muhtar" is the participation, never the answers: the `AssistedEntry` (and
the audit event) names the survey and the resident, and the public pages show only how many
answers the muhtar entered. Nothing that survives the shuffle carries the mark.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from assembly import permissions
from assembly.accounts.models import User
from assembly.assisted.services import OnBehalfAction, entered_count, register_action
from assembly.errors import NotAllowed
from assembly.surveys import responses
from assembly.surveys.models import Survey

ACTION = "survey_answer"


def _answer(resident: User, now: dt.datetime, survey: Survey, *, answers: dict) -> Survey:
    """The resident's answers, as if they had sent them: only a verified resident of one of the
    survey's neighbourhoods (an "area" survey would otherwise take them as unverified)."""
    residence = permissions.roles_of(resident).residence
    if residence is None or residence.neighbourhood_id not in survey.neighbourhood_ids:
        raise NotAllowed(_("This survey is not asked in the resident's neighbourhood."))
    responses.respond(resident, now, survey, answers)
    return survey


register_action(OnBehalfAction(ACTION, _l("Answer a survey"), "survey", _answer))


def entered_by_muhtar(survey: Survey) -> int:
    """How many people's answers the muhtar entered (a count, one statement): never which answers."""
    return entered_count(ACTION, "survey", survey.id)
