"""Surveys: creating, editing and publishing them, reading them, and the shape of an answer.

Answering, paper questionnaires and closing are in `assembly.surveys.responses`; results in
`assembly.surveys.results`.
"""
from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from assembly import permissions
from assembly.audit.services import record
from assembly.db import db
from assembly.errors import InvalidTransition, NotFound, ValidationFailed
from assembly.neighbourhoods.models import Body, Neighbourhood
from assembly.surveys.models import (
    SURVEY_LIFECYCLE,
    Audience,
    QuestionKind,
    Survey,
    SurveyNeighbourhood,
    SurveyQuestion,
    SurveyStatus,
)
from assembly.text import clean_plain

MAX_QUESTIONS = 40
MAX_OPTIONS = 20
OPTION_LENGTH = 200
TEXT_LENGTH = 1000
SCALE = (1, 2, 3, 4, 5)
SERIES_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


def shown_status(survey: Survey, now: dt.datetime) -> str:
    """The state people see, from the clock: nothing is written when a survey opens or closes
    (the scheduler's tick counts a closed survey, `responses.close_survey`)."""
    if survey.status == SurveyStatus.DRAFT.value:
        return SurveyStatus.DRAFT.value
    if survey.closed_at is not None or now >= survey.closes_at:
        return SurveyStatus.CLOSED.value
    if now >= survey.opens_at:
        return SurveyStatus.OPEN.value
    return SurveyStatus.SCHEDULED.value


def status_label(survey: Survey, now: dt.datetime) -> str:
    return SURVEY_LIFECYCLE.label(shown_status(survey, now))


def kind_label(kind: str) -> str:
    return {
        QuestionKind.SINGLE.value: _("Single choice"),
        QuestionKind.MULTIPLE.value: _("Multiple choice"),
        QuestionKind.SCALE.value: _("Scale from 1 to 5"),
        QuestionKind.RANKING.value: _("Ranking"),
        QuestionKind.TEXT.value: _("Free text"),
    }.get(kind, kind)


def audience_label(audience: str) -> str:
    return {Audience.RESIDENTS.value: _("Verified residents only"),
            Audience.AREA.value: _("Everyone who lives or works in the area")}.get(audience, audience)


# --- reading -------------------------------------------------------------------------------------

def get_survey(viewer, neighbourhood: Neighbourhood, survey_id: int) -> Survey:
    """A survey asked in `neighbourhood` (drafts only for those who manage it)."""
    survey = db.session.scalar(
        select(Survey).join(SurveyNeighbourhood, SurveyNeighbourhood.survey_id == Survey.id)
        .where(Survey.id == survey_id, SurveyNeighbourhood.neighbourhood_id == neighbourhood.id))
    if survey is None or (survey.status == SurveyStatus.DRAFT.value
                          and not permissions.can(viewer, "manage_survey", survey)):
        raise NotFound(_("There is no such survey."))
    return survey


def list_surveys(viewer, neighbourhood: Neighbourhood, limit: int = 100) -> list[Survey]:
    query = (select(Survey).join(SurveyNeighbourhood, SurveyNeighbourhood.survey_id == Survey.id)
             .where(SurveyNeighbourhood.neighbourhood_id == neighbourhood.id)
             .order_by(Survey.closes_at.desc()).limit(limit))
    surveys = list(db.session.scalars(query))
    return [s for s in surveys if s.status != SurveyStatus.DRAFT.value or permissions.can(viewer, "manage_survey", s)]


def open_surveys(neighbourhood: Neighbourhood, now: dt.datetime, limit: int = 50) -> list[Survey]:
    """The surveys asked in `neighbourhood` that are open for answers at `now` (as `shown_status` says)."""
    return list(db.session.scalars(
        select(Survey).join(SurveyNeighbourhood, SurveyNeighbourhood.survey_id == Survey.id)
        .where(SurveyNeighbourhood.neighbourhood_id == neighbourhood.id,
               Survey.status == SurveyStatus.SCHEDULED.value, Survey.closed_at.is_(None),
               Survey.opens_at <= now, Survey.closes_at > now)
        .order_by(Survey.closes_at, Survey.id).limit(limit)))


def neighbourhood_choices(actor, neighbourhood: Neighbourhood) -> list[Neighbourhood]:
    """Where the actor may ask: a muhtar their own neighbourhoods of the municipality; body staff
    every neighbourhood of their body's municipality."""
    hoods = db.session.scalars(select(Neighbourhood).where(
        Neighbourhood.municipality_id == neighbourhood.municipality_id).order_by(Neighbourhood.slug))
    return [hood for hood in hoods if permissions.can(actor, "create_survey", hood)]


def staff_body_id(actor, neighbourhood: Neighbourhood) -> int | None:
    """The body a staff member creates a survey for (the first of theirs in the municipality)."""
    staff_of = permissions.roles_of(actor).staff_of
    if not staff_of:
        return None
    return db.session.scalar(select(Body.id).where(Body.id.in_(staff_of),
                                                   Body.municipality_id == neighbourhood.municipality_id)
                             .order_by(Body.id).limit(1))


# --- creating and editing ------------------------------------------------------------------------

def _clean_fields(title: str, description: str, audience: str, opens_at, closes_at) -> dict:
    errors: dict[str | None, list[str]] = {}
    title = clean_plain(title or "")
    if not title:
        errors.setdefault("title", []).append(_("Please give the survey a title."))
    if audience not in {a.value for a in Audience}:
        errors.setdefault("audience", []).append(_("Choose who may answer."))
    if opens_at is None or closes_at is None:
        errors.setdefault("closes_at", []).append(_("Give an opening and a closing time."))
    elif closes_at <= opens_at:
        errors.setdefault("closes_at", []).append(_("The survey must close after it opens."))
    if errors:
        raise ValidationFailed(errors)
    return {"title": title[:200], "description": clean_plain(description or "")[:5000], "audience": audience,
            "opens_at": opens_at, "closes_at": closes_at}


def _neighbourhoods(actor, home: Neighbourhood, neighbourhood_ids) -> list[int]:
    allowed = {hood.id for hood in neighbourhood_choices(actor, home)}
    chosen = {int(i) for i in neighbourhood_ids or ()} or {home.id}
    if not chosen <= allowed:
        raise ValidationFailed({"neighbourhoods": [_("You cannot ask a survey in one of these neighbourhoods.")]})
    return sorted(chosen)


def create_survey(actor, now: dt.datetime, neighbourhood: Neighbourhood, *, title: str, description: str = "",
                  audience: str, opens_at, closes_at, neighbourhood_ids=None) -> Survey:
    permissions.require(actor, "create_survey", neighbourhood)
    fields = _clean_fields(title, description, audience, opens_at, closes_at)
    hood_ids = _neighbourhoods(actor, neighbourhood, neighbourhood_ids)
    body_id = None if permissions.can(actor, "review_memberships", neighbourhood) else staff_body_id(actor,
                                                                                                     neighbourhood)
    survey = Survey(municipality_id=neighbourhood.municipality_id, body_id=body_id, created_by_id=actor.id,
                    created_at=now, status=SurveyStatus.DRAFT.value, **fields)
    db.session.add(survey)
    db.session.flush()
    db.session.execute(insert(SurveyNeighbourhood), [{"survey_id": survey.id, "neighbourhood_id": i}
                                                     for i in hood_ids])
    db.session.refresh(survey, ["neighbourhoods"])
    record(actor, "survey.create", survey, now, neighbourhood_id=neighbourhood.id, title=survey.title)
    return survey


def _require_draft(survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT.value:
        raise InvalidTransition(_("A published survey cannot be changed any more."))


def update_survey(actor, now: dt.datetime, survey: Survey, home: Neighbourhood, *, title: str, description: str,
                  audience: str, opens_at, closes_at, neighbourhood_ids=None) -> Survey:
    permissions.require(actor, "manage_survey", survey)
    _require_draft(survey)
    fields = _clean_fields(title, description, audience, opens_at, closes_at)
    hood_ids = _neighbourhoods(actor, home, neighbourhood_ids)
    for key, value in fields.items():
        setattr(survey, key, value)
    db.session.execute(delete(SurveyNeighbourhood).where(SurveyNeighbourhood.survey_id == survey.id))
    db.session.execute(insert(SurveyNeighbourhood), [{"survey_id": survey.id, "neighbourhood_id": i}
                                                     for i in hood_ids])
    db.session.flush()
    db.session.refresh(survey, ["neighbourhoods"])
    return survey


def _clean_question(kind: str, prompt: str, options: list[str], max_choices: int | None, series: str | None) -> dict:
    errors: dict[str | None, list[str]] = {}
    prompt = clean_plain(prompt or "")
    if not prompt:
        errors.setdefault("prompt", []).append(_("Please write the question."))
    if kind not in {k.value for k in QuestionKind}:
        errors.setdefault("kind", []).append(_("Choose the kind of question."))
    options = [clean_plain(o)[:OPTION_LENGTH] for o in options or () if clean_plain(o)]
    if kind in (QuestionKind.SINGLE.value, QuestionKind.MULTIPLE.value, QuestionKind.RANKING.value):
        if not 2 <= len(options) <= MAX_OPTIONS:
            errors.setdefault("options", []).append(
                _("Give between %(low)d and %(high)d options, one per line.", low=2, high=MAX_OPTIONS))
        elif len(set(options)) != len(options):
            errors.setdefault("options", []).append(_("Each option must be different."))
    else:
        options = []
    if kind == QuestionKind.MULTIPLE.value:
        if max_choices is not None and not 1 <= max_choices <= max(len(options), 1):
            errors.setdefault("max_choices", []).append(
                _("The maximum must be between 1 and the number of options."))
    else:
        max_choices = None
    series = (series or "").strip().lower() or None
    if series is not None and not SERIES_RE.fullmatch(series):
        errors.setdefault("series", []).append(
            _("A series key has lower-case letters, digits and hyphens, e.g. “safety-priorities”."))
    if errors:
        raise ValidationFailed(errors)
    return {"kind": kind, "prompt": prompt[:500], "options": options, "max_choices": max_choices, "series": series}


def add_question(actor, now: dt.datetime, survey: Survey, *, kind: str, prompt: str, options: list[str] | None = None,
                 max_choices: int | None = None, series: str | None = None) -> SurveyQuestion:
    permissions.require(actor, "manage_survey", survey)
    _require_draft(survey)
    fields = _clean_question(kind, prompt, options, max_choices, series)
    if len(survey.questions) >= MAX_QUESTIONS:
        raise ValidationFailed(ngettext("A survey can have at most %(num)d question.",
                                        "A survey can have at most %(num)d questions.", MAX_QUESTIONS))
    position = max((q.position for q in survey.questions), default=0) + 1
    question = SurveyQuestion(survey=survey, position=position, **fields)
    db.session.add(question)
    db.session.flush()
    return question


def remove_question(actor, now: dt.datetime, survey: Survey, question_id: int) -> None:
    permissions.require(actor, "manage_survey", survey)
    _require_draft(survey)
    question = next((q for q in survey.questions if q.id == question_id), None)
    if question is None:
        raise NotFound(_("There is no such question."))
    survey.questions.remove(question)
    db.session.flush()


def publish(actor, now: dt.datetime, survey: Survey) -> Survey:
    """A muhtar of one of its neighbourhoods publishes it (body staff prepare, muhtars publish)."""
    permissions.require(actor, "publish_survey", survey)
    SURVEY_LIFECYCLE.check(survey.status, SurveyStatus.SCHEDULED)
    if not survey.questions:
        raise ValidationFailed(_("Add at least one question before publishing."))
    if survey.closes_at <= now:
        raise ValidationFailed(_("The closing time has already passed. Change it first."))
    changed = db.session.execute(
        update(Survey).where(Survey.id == survey.id, Survey.status == SurveyStatus.DRAFT.value)
        .values(status=SurveyStatus.SCHEDULED.value, published_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise InvalidTransition(_("The survey was changed in the meantime. Please reload the page."))
    set_committed_value(survey, "status", SurveyStatus.SCHEDULED.value)
    set_committed_value(survey, "published_at", now)
    record(actor, "survey.publish", survey, now, neighbourhood_id=min(survey.neighbourhood_ids))
    return survey


# --- the shape of an answer ----------------------------------------------------------------------

def clean_answers(survey: Survey, raw: dict[str, object]) -> tuple[dict[str, object], dict[str, str]]:
    """Check a questionnaire against the survey's questions: (closed answers by question id,
    free texts by question id). Unanswered questions are left out; an empty questionnaire is refused."""
    answers: dict[str, object] = {}
    texts: dict[str, str] = {}
    errors: dict[str | None, list[str]] = {}
    for question in survey.questions:
        key = str(question.id)
        value = raw.get(key)
        n = len(question.options)
        if value in (None, "", []):
            continue
        if question.kind == QuestionKind.SINGLE.value:
            if not (isinstance(value, int) and 0 <= value < n):
                errors.setdefault(f"q{key}", []).append(_("Choose one of the options."))
                continue
            answers[key] = value
        elif question.kind == QuestionKind.MULTIPLE.value:
            chosen = sorted(set(value)) if isinstance(value, list) else None
            if not chosen or not all(isinstance(i, int) and 0 <= i < n for i in chosen):
                errors.setdefault(f"q{key}", []).append(_("Choose among the options."))
                continue
            if question.max_choices and len(chosen) > question.max_choices:
                errors.setdefault(f"q{key}", []).append(ngettext(
                    "You can choose at most %(num)d option.", "You can choose at most %(num)d options.",
                    question.max_choices))
                continue
            answers[key] = chosen
        elif question.kind == QuestionKind.SCALE.value:
            if value not in SCALE:
                errors.setdefault(f"q{key}", []).append(_("Choose a number from 1 to 5."))
                continue
            answers[key] = value
        elif question.kind == QuestionKind.RANKING.value:
            # A list of option indexes, best first; every option ranked once.
            if not (isinstance(value, list) and sorted(value) == list(range(n))):
                errors.setdefault(f"q{key}", []).append(_("Give every option a different place, from 1 to %(num)d.",
                                                          num=n))
                continue
            answers[key] = value
        else:
            text = clean_plain(str(value))
            if len(text) > TEXT_LENGTH:
                errors.setdefault(f"q{key}", []).append(
                    ngettext("Please keep your answer under %(num)d character.",
                             "Please keep your answer under %(num)d characters.", TEXT_LENGTH))
                continue
            if text:
                texts[key] = text
    if errors:
        raise ValidationFailed(errors)
    if not answers and not texts:
        raise ValidationFailed(_("Please answer at least one question."))
    return answers, texts


def survey_ids_of(neighbourhood_id: int):
    """A subquery: the surveys asked in a neighbourhood."""
    return select(SurveyNeighbourhood.survey_id).where(SurveyNeighbourhood.neighbourhood_id == neighbourhood_id)

