"""Answering a survey, paper questionnaires, and closing.

Who answered (`SurveyParticipation`: the survey, an account or a confirmed e-mail address's
keyed hash, the neighbourhood, verified or not) is kept apart from what was answered, as for
secret ballots (docs/security.md). While the survey is open the answers wait beside the
participation in a sealed envelope (`assembly.assemblies.sealing`, a key per survey derived from
BALLOT_SEAL_KEY, padded to one length per survey), replaced when the person answers again. The
one closing transaction (`close_survey`, run by the scheduler's tick) opens every envelope,
shuffles the questionnaires into `SurveyAnswer` rows with random keys and no person or time,
shuffles the free texts on their own into `SurveyText` rows waiting for moderation, and erases
the envelopes. A group (verified / unverified × neighbourhood) smaller than SURVEY_MIN_GROUP is
stored without its group, so that a small group cannot single anyone out.

Answering and closing are serialised on the survey row: an answer is stored only while
`surveys.closed_at` is empty and before `closes_at`, and closing sets `closed_at` first.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import Counter

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from assembly import permissions
from assembly.assemblies import sealing
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.surveys.models import (
    Audience,
    QuestionKind,
    Source,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyStatus,
    SurveyText,
)
from assembly.surveys.services import TEXT_LENGTH, clean_answers, shown_status

PAD_BLOCK = 256


# --- who is answering ----------------------------------------------------------------------------

def email_hash(address: str) -> str:
    """A keyed hash of a normalised e-mail address: one answer per address, the address not stored."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else secret.encode()
    normalised = (address or "").strip().lower().encode("utf-8", "surrogatepass")
    return hmac.new(secret, b"assembly survey e-mail\0" + normalised, hashlib.sha256).hexdigest()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="assembly.survey-email")


def email_token(survey: Survey, address: str) -> str:
    """The token of the link mailed to a person who answers with an e-mail address: whoever opens
    it has the mailbox. It holds the survey and the address's hash, never the address."""
    return _serializer().dumps({"s": survey.id, "e": email_hash(address)})


def email_of_token(survey: Survey, token: str) -> str | None:
    """The address hash a link stands for, or None for a link that is not this survey's."""
    try:
        data = _serializer().loads(token or "")
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != survey.id or not isinstance(data.get("e"), str):
        return None
    return data["e"]


class Respondent:
    """Who answers: an account or a confirmed e-mail address, verified or not, and where."""

    def __init__(self, *, user_id: int | None, email_hash: str | None, source: str, neighbourhood_id: int | None):
        self.user_id = user_id
        self.email_hash = email_hash
        self.source = source
        self.neighbourhood_id = neighbourhood_id

    @property
    def key(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"email:{self.email_hash}"


def respondent_for(actor, survey: Survey, *, email_hash: str | None = None) -> Respondent | None:
    """A verified resident of one of the survey's neighbourhoods answers as verified; for a survey
    open to the area, anyone else logged in, or with a confirmed e-mail address, answers unverified.
    None: this person may not answer."""
    roles = permissions.roles_of(actor)
    if roles.authenticated and getattr(actor, "api_body_id", None) is None:
        if roles.residence is not None and roles.residence.neighbourhood_id in survey.neighbourhood_ids:
            return Respondent(user_id=actor.id, email_hash=None, source=Source.VERIFIED.value,
                              neighbourhood_id=roles.residence.neighbourhood_id)
        if survey.audience == Audience.AREA.value:
            return Respondent(user_id=actor.id, email_hash=None, source=Source.UNVERIFIED.value,
                              neighbourhood_id=None)
        return None
    if email_hash and survey.audience == Audience.AREA.value:
        return Respondent(user_id=None, email_hash=email_hash, source=Source.UNVERIFIED.value, neighbourhood_id=None)
    return None


def may_answer(actor, survey: Survey, now: dt.datetime) -> bool:
    return shown_status(survey, now) == SurveyStatus.OPEN.value and respondent_for(actor, survey) is not None


def has_answered(actor, survey: Survey) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    return db.session.scalar(select(SurveyParticipation.id).where(
        SurveyParticipation.survey_id == survey.id, SurveyParticipation.user_id == actor.id)) is not None


def answered_among(user, survey_ids: list[int]) -> set[int]:
    """Which of these surveys the user has answered (who, never what: one statement)."""
    if not survey_ids:
        return set()
    return set(db.session.scalars(select(SurveyParticipation.survey_id).where(
        SurveyParticipation.user_id == user.id, SurveyParticipation.survey_id.in_(survey_ids))))


def has_answered_by_email(survey: Survey, hashed: str) -> bool:
    return db.session.scalar(select(SurveyParticipation.id).where(
        SurveyParticipation.survey_id == survey.id, SurveyParticipation.email_hash == hashed)) is not None


# --- the envelope -------------------------------------------------------------------------------------

def padded_size(survey: Survey) -> int:
    """One plaintext length for every questionnaire of a survey, whatever it says: the longest
    possible one (every option chosen or ranked, every text at its longest, escaped) in whole blocks."""
    bound = 2
    for question in survey.questions:
        key = len(str(question.id)) + 4
        n = len(question.options)
        if question.kind == QuestionKind.TEXT.value:
            bound += key + 6 * TEXT_LENGTH + 3
        elif question.kind in (QuestionKind.MULTIPLE.value, QuestionKind.RANKING.value):
            bound += key + n * (len(str(n)) + 1) + 3
        else:
            bound += key + len(str(max(n, 5))) + 1
    bound += 12  # {"a":…,"t":…}
    return -(-bound // PAD_BLOCK) * PAD_BLOCK


def _seal_key() -> str:
    return current_app.config["BALLOT_SEAL_KEY"]


def _seal(survey: Survey, respondent: Respondent, answers: dict, texts: dict) -> bytes:
    return sealing.seal_answers(_seal_key(), survey.id, respondent.key, {"a": answers, "t": texts},
                                padded_size(survey))


# --- answering -------------------------------------------------------------------------------------

def respond(actor, now: dt.datetime, survey: Survey, raw: dict, *, email_hash: str | None = None,
            neighbourhood_id: int | None = None) -> bool:
    """Record or replace a person's answers. True for a first answer, False for a change.

    The survey row is claimed first (`closed_at` empty, still before `closes_at`), which
    serialises this answer against the closing transaction. One participation per person is
    the database's unique constraint (`INSERT … ON CONFLICT DO NOTHING`); answering again
    replaces the sealed answers of the same row.
    """
    if shown_status(survey, now) != SurveyStatus.OPEN.value:
        raise InvalidTransition(_("This survey is not open for answers."))
    respondent = respondent_for(actor, survey, email_hash=email_hash)
    if respondent is None:
        if survey.audience == Audience.RESIDENTS.value:
            raise NotAllowed(_("Only verified residents of the neighbourhood can answer this survey."))
        raise NotAllowed(_("Please confirm your e-mail address first."))
    if respondent.neighbourhood_id is None:
        if neighbourhood_id is None and len(survey.neighbourhood_ids) == 1:
            neighbourhood_id = next(iter(survey.neighbourhood_ids))
        if neighbourhood_id not in survey.neighbourhood_ids:
            raise ValidationFailed({"neighbourhood": [_("Choose the neighbourhood where you live or work.")]})
        respondent.neighbourhood_id = neighbourhood_id
    answers, texts = clean_answers(survey, raw)
    claimed = db.session.execute(
        update(Survey).where(Survey.id == survey.id, Survey.closed_at.is_(None), Survey.closes_at > now,
                             Survey.status == SurveyStatus.SCHEDULED.value)
        .values(respondents=Survey.respondents + 1).returning(Survey.respondents)
        .execution_options(synchronize_session=False)).scalar()
    if claimed is None:
        raise InvalidTransition(_("This survey has closed. Your answers were not recorded."))
    envelope = _seal(survey, respondent, answers, texts)
    inserted = db.session.execute(
        db.insert(SurveyParticipation).on_conflict_do_nothing().values(
            survey_id=survey.id, user_id=respondent.user_id, email_hash=respondent.email_hash,
            neighbourhood_id=respondent.neighbourhood_id, source=respondent.source, answered_at=now,
            sealed=envelope).returning(SurveyParticipation.id)).scalar()
    if inserted is None:
        identity = (SurveyParticipation.user_id == respondent.user_id if respondent.user_id is not None
                    else SurveyParticipation.email_hash == respondent.email_hash)
        db.session.execute(update(SurveyParticipation).where(SurveyParticipation.survey_id == survey.id, identity)
                           .values(sealed=envelope, neighbourhood_id=respondent.neighbourhood_id)
                           .execution_options(synchronize_session=False))
        db.session.execute(update(Survey).where(Survey.id == survey.id).values(respondents=Survey.respondents - 1)
                           .execution_options(synchronize_session=False))
        set_committed_value(survey, "respondents", claimed - 1)
        return False
    set_committed_value(survey, "respondents", claimed)
    return True


def _new_key() -> str:
    return secrets.token_hex(16)


def enter_paper(actor, now: dt.datetime, survey: Survey, raw: dict, *, neighbourhood_id: int | None) -> SurveyAnswer:
    """A paper questionnaire typed in by a muhtar: counted apart (source `paper`). No person is
    behind it in the database, so it is stored at once."""
    permissions.require(actor, "enter_paper_survey", survey)
    if survey.status == SurveyStatus.DRAFT.value or now < survey.opens_at:
        raise InvalidTransition(_("Paper questionnaires can be entered once the survey has opened."))
    if neighbourhood_id is None and len(survey.neighbourhood_ids) == 1:
        neighbourhood_id = next(iter(survey.neighbourhood_ids))
    if neighbourhood_id not in survey.neighbourhood_ids:
        raise ValidationFailed({"neighbourhood": [_("Choose the neighbourhood where you live or work.")]})
    answers, texts = clean_answers(survey, raw)
    row = SurveyAnswer(id=_new_key(), survey_id=survey.id, source=Source.PAPER.value,
                       neighbourhood_id=neighbourhood_id, answers=answers)
    db.session.add(row)
    for question_id, text in texts.items():
        db.session.add(SurveyText(id=_new_key(), survey_id=survey.id, question_id=int(question_id), body=text))
    db.session.execute(update(Survey).where(Survey.id == survey.id).values(paper_count=Survey.paper_count + 1)
                       .execution_options(synchronize_session=False))
    db.session.flush()
    db.session.refresh(survey, ["paper_count"])
    return row


# --- closing ----------------------------------------------------------------------------------------------

def min_group() -> int:
    return int(current_app.config["SURVEY_MIN_GROUP"])


def close_survey(survey: Survey, now: dt.datetime) -> bool:
    """Close once, in one transaction: claim the survey row (`closed_at`), which waits for every
    answer still being stored and turns away every later one; open the envelopes; write the
    questionnaires and, apart, the free texts, each in an order drawn at random with random keys;
    erase the envelopes. False when not due yet or already closed by another closer."""
    claimed = db.session.execute(
        update(Survey).where(Survey.id == survey.id, Survey.closed_at.is_(None), Survey.closes_at <= now,
                             Survey.status == SurveyStatus.SCHEDULED.value)
        .values(closed_at=now, status=SurveyStatus.CLOSED.value).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    set_committed_value(survey, "closed_at", now)
    set_committed_value(survey, "status", SurveyStatus.CLOSED.value)
    rows = db.session.execute(select(
        SurveyParticipation.user_id, SurveyParticipation.email_hash, SurveyParticipation.source,
        SurveyParticipation.neighbourhood_id, SurveyParticipation.sealed).where(
        SurveyParticipation.survey_id == survey.id, SurveyParticipation.sealed.is_not(None))).all()
    opened = []
    for user_id, hashed, source, hood, envelope in rows:
        key = f"user:{user_id}" if user_id is not None else f"email:{hashed}"
        content = sealing.unseal_answers(_seal_key(), survey.id, key, envelope)
        opened.append((source, hood, content["a"], content["t"]))
    cells = Counter((source, hood) for source, hood, _a, _t in opened)
    smallest = min_group()
    random = secrets.SystemRandom()
    random.shuffle(opened)
    answers = []
    texts = []
    for source, hood, closed_answers, free in opened:
        shown = cells[source, hood] >= smallest
        answers.append({"id": _new_key(), "survey_id": survey.id, "source": source if shown else None,
                        "neighbourhood_id": hood if shown else None, "answers": closed_answers})
        texts.extend({"survey_id": survey.id, "question_id": int(q), "body": t,
                      "status": "pending"} for q, t in free.items())
    random.shuffle(texts)
    for text in texts:
        text["id"] = _new_key()
    if answers:
        db.session.execute(insert(SurveyAnswer), answers)
    if texts:
        db.session.execute(insert(SurveyText), texts)
    db.session.execute(update(SurveyParticipation).where(SurveyParticipation.survey_id == survey.id)
                       .values(sealed=None).execution_options(synchronize_session=False))
    db.session.flush()
    return True


def due_for_closing(now: dt.datetime) -> list[int]:
    return list(db.session.scalars(select(Survey.id).where(
        Survey.status == SurveyStatus.SCHEDULED.value, Survey.closed_at.is_(None), Survey.closes_at <= now)))
