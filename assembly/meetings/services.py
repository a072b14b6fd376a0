"""The rules of meetings with bodies: setting a meeting up, residents' questions and supports, the
agenda, and recording at the meeting (answers and what follows, attendance, minutes).

Services take `(actor, now, …)`, ask the policy module, flush and never commit."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from assembly import permissions
from assembly.audit.services import record
from assembly.cases import services as cases
from assembly.cases.models import Case
from assembly.db import db
from assembly.i18n import format_date, ngettext
from assembly.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from assembly.meetings import followers
from assembly.meetings.models import (
    MEETING_LIFECYCLE,
    FollowUp,
    Meeting,
    MeetingBody,
    MeetingNeighbourhood,
    MeetingQuestion,
    MeetingStatus,
    OrganiserKind,
    QuestionSupport,
)
from assembly.neighbourhoods.models import Body, Category, Municipality, Neighbourhood
from assembly.notifications.services import register_message
from assembly.promises import services as promises
from assembly.promises.models import Commitment, Promise
from assembly.promises.services import MeetingCommitment
from assembly.text import clean_plain, render_markdown

TITLE_MAX = 200
PLACE_MAX = 300
REPRESENTATIVE_MAX = 200
QUESTION_MAX = 1000
ANSWER_MAX = 4000
MINUTES_MAX = 20000
HEADCOUNT_MAX = 100000
AGENDA_MAX = 999


def _answer_message(p: dict) -> str:
    if p.get("commitment"):
        return _("%(body)s answered a question you follow at “%(meeting)s” and made a commitment, "
                 "“%(commitment)s”, due %(due)s: %(answer)s", body=p["body"], meeting=p["meeting"],
                 commitment=p["commitment"], due=format_date(dt.date.fromisoformat(p["due_on"])), answer=p["answer"])
    return _("%(body)s answered a question you follow at “%(meeting)s”: %(answer)s",
             body=p["body"], meeting=p["meeting"], answer=p["answer"])


register_message("meeting_answer", _answer_message)


@dataclass
class Invitation:
    body_id: int
    representative: str


@dataclass
class MeetingInput:
    title: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    place: str | None
    neighbourhood_ids: list[int]
    invitations: list[Invitation]


def _validated(municipality: Municipality, data: MeetingInput) -> dict:
    errors: dict[str | None, list[str]] = {}
    title = clean_plain(data.title or "")
    if not title:
        errors.setdefault("title", []).append(_("Please give the meeting a title."))
    elif len(title) > TITLE_MAX:
        errors.setdefault("title", []).append(ngettext("The title may be at most %(num)s character long.", "The title may be at most %(num)s characters long.", TITLE_MAX))
    if data.starts_at is None:
        errors.setdefault("starts_at", []).append(_("Give the date and time of the meeting."))
    elif data.ends_at is not None and data.ends_at <= data.starts_at:
        errors.setdefault("ends_at", []).append(_("The meeting must end after it starts."))
    place = clean_plain(data.place or "")[:PLACE_MAX] or None
    hood_ids = sorted(set(data.neighbourhood_ids))
    hoods = list(db.session.scalars(select(Neighbourhood).where(
        Neighbourhood.id.in_(hood_ids), Neighbourhood.municipality_id == municipality.id))) if hood_ids else []
    if not hoods or len(hoods) != len(hood_ids):
        errors.setdefault("neighbourhoods", []).append(
            _("Choose at least one neighbourhood of %(municipality)s.", municipality=municipality.name))
    invited: dict[int, str] = {}
    body_ids = {invitation.body_id for invitation in data.invitations}
    bodies = {body.id: body for body in db.session.scalars(select(Body).where(
        Body.id.in_(body_ids), Body.municipality_id == municipality.id))} if body_ids else {}
    for invitation in data.invitations:
        body = bodies.get(invitation.body_id)
        representative = clean_plain(invitation.representative or "")
        if body is None:
            errors.setdefault("bodies", []).append(_("Invite only bodies of this municipality."))
        elif not representative or len(representative) > REPRESENTATIVE_MAX:
            errors.setdefault("bodies", []).append(
                ngettext("Name the representative of %(body)s (at most %(num)s character).",
                         "Name the representative of %(body)s (at most %(num)s characters).", REPRESENTATIVE_MAX,
                         body=body.name))
        else:
            invited[body.id] = representative
    if not data.invitations:
        errors.setdefault("bodies", []).append(_("Invite at least one body, with its representative."))
    if errors:
        raise ValidationFailed(errors)
    return {"title": title, "starts_at": data.starts_at, "ends_at": data.ends_at, "place": place,
            "neighbourhood_ids": [hood.id for hood in hoods], "invited": invited}


def create_meeting(actor, now: dt.datetime, municipality: Municipality, data: MeetingInput, *,
                   organising_body: Body | None = None) -> Meeting:
    """A draft meeting. Organised by the muhtars of the covered neighbourhoods together (the actor
    must be one of them), or by `organising_body` (the actor must be on its staff)."""
    permissions.require(actor, "create_meeting")
    values = _validated(municipality, data)
    if organising_body is not None and organising_body.municipality_id != municipality.id:
        raise ValidationFailed(_("Choose a body of this municipality."), "organiser")
    meeting = Meeting(
        municipality_id=municipality.id, title=values["title"], locale=municipality.default_locale,
        organiser_kind=(OrganiserKind.BODY if organising_body else OrganiserKind.MUHTARS).value,
        organising_body_id=organising_body.id if organising_body else None, status=MeetingStatus.DRAFT.value,
        starts_at=values["starts_at"], ends_at=values["ends_at"], place=values["place"], question_count=0,
        created_by_id=actor.id, created_at=now, updated_at=now)
    meeting.covered = [MeetingNeighbourhood(neighbourhood_id=hood_id) for hood_id in values["neighbourhood_ids"]]
    meeting.invited = [MeetingBody(body_id=body_id, representative=name, present=False)
                       for body_id, name in values["invited"].items()]
    if not permissions.can(actor, "organise_meeting", meeting):
        raise ValidationFailed(
            _("Organise a meeting as the staff of your body, or as a muhtar of one of its neighbourhoods."),
            "organiser")
    db.session.add(meeting)
    db.session.flush()
    record(actor, "meeting.create", meeting, now, neighbourhood_id=values["neighbourhood_ids"][0],
           title=meeting.title, neighbourhoods=values["neighbourhood_ids"], bodies=sorted(values["invited"]))
    return meeting


def update_meeting(actor, now: dt.datetime, meeting: Meeting, data: MeetingInput) -> Meeting:
    """Change the time, place, neighbourhoods and invited bodies while the meeting is a draft or
    open for questions. A body that has been asked a question stays invited."""
    permissions.require(actor, "organise_meeting", meeting)
    if not MEETING_LIFECYCLE.contains("editable", meeting.status):
        raise InvalidTransition(_("This meeting can no longer be changed."))
    values = _validated(meeting.municipality, data)
    asked = set(db.session.scalars(select(MeetingQuestion.body_id).where(MeetingQuestion.meeting_id == meeting.id)))
    dropped = asked - set(values["invited"])
    if dropped:
        names = ", ".join(row.body.name for row in meeting.invited if row.body_id in dropped)
        raise ValidationFailed(_("Residents have asked %(bodies)s questions; it stays invited.", bodies=names),
                               "bodies")
    meeting.title, meeting.starts_at, meeting.ends_at = values["title"], values["starts_at"], values["ends_at"]
    meeting.place, meeting.updated_at = values["place"], now
    kept = {row.neighbourhood_id: row for row in meeting.covered}
    meeting.covered = [kept.get(hood_id) or MeetingNeighbourhood(neighbourhood_id=hood_id)
                       for hood_id in values["neighbourhood_ids"]]
    invited = {row.body_id: row for row in meeting.invited}
    rows = []
    for body_id, name in values["invited"].items():
        row = invited.get(body_id) or MeetingBody(body_id=body_id, present=False)
        row.representative = name
        rows.append(row)
    meeting.invited = rows
    if not permissions.can(actor, "organise_meeting", meeting):  # a muhtar cannot drop their own neighbourhood
        raise ValidationFailed(_("Keep at least one neighbourhood where you are muhtar."), "neighbourhoods")
    db.session.flush()
    record(actor, "meeting.update", meeting, now, neighbourhood_id=values["neighbourhood_ids"][0],
           neighbourhoods=values["neighbourhood_ids"], bodies=sorted(values["invited"]))
    return meeting


def move(actor, now: dt.datetime, meeting: Meeting, to: MeetingStatus) -> None:
    """Announce (open for questions), mark as held, publish the minutes (close) or cancel."""
    permissions.require(actor, "organise_meeting", meeting)
    MEETING_LIFECYCLE.check(meeting.status, to)
    if to == MeetingStatus.CLOSED and not meeting.minutes:
        raise ValidationFailed(_("Write the minutes before publishing them."), "minutes")
    moved = db.session.execute(
        update(Meeting).where(Meeting.id == meeting.id, Meeting.status == meeting.status)
        .values(status=to.value, updated_at=now).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise InvalidTransition(_("The meeting was changed in the meantime. Please reload the page."))
    set_committed_value(meeting, "status", to.value)
    record(actor, f"meeting.{to.value}", meeting, now, neighbourhood_id=min(meeting.neighbourhood_ids))


# --- before the meeting: questions and supports ----------------------------------------------------

def _bump(model, column, row, delta: int) -> int:
    """Change a counter in the database (never read-modify-write), in the caller's transaction."""
    value = db.session.execute(
        update(model).where(model.id == row.id).values({column.key: column + delta})
        .returning(column).execution_options(synchronize_session=False)).scalar_one()
    set_committed_value(row, column.key, value)
    return value


def ask(actor, now: dt.datetime, meeting: Meeting, *, body_id: int | None, text: str) -> MeetingQuestion:
    """A resident of a covered neighbourhood asks one invited body a question."""
    permissions.require(actor, "ask_meeting_question", meeting)
    if not MEETING_LIFECYCLE.contains("asking", meeting.status):
        raise InvalidTransition(_("Questions can be asked only while the meeting is open for questions."))
    errors: dict[str | None, list[str]] = {}
    if body_id not in meeting.body_ids:
        errors["body_id"] = [_("Choose one of the bodies invited to the meeting.")]
    text = clean_plain(text or "")
    if not text:
        errors["text"] = [_("Please write your question.")]
    elif len(text) > QUESTION_MAX:
        errors["text"] = [ngettext("The question may be at most %(num)s character long.", "The question may be at most %(num)s characters long.", QUESTION_MAX)]
    if errors:
        raise ValidationFailed(errors)
    residence = permissions.roles_of(actor).residence
    question = MeetingQuestion(meeting_id=meeting.id, body_id=body_id, neighbourhood_id=residence.neighbourhood_id,
                               author_id=actor.id, text=text, support_count=0, created_at=now)
    db.session.add(question)
    db.session.flush()
    _bump(Meeting, Meeting.question_count, meeting, +1)
    return question


def support(actor, now: dt.datetime, question: MeetingQuestion) -> int:
    """One support per person (the unique constraint), counted in the same transaction."""
    permissions.require(actor, "support_meeting_question", question)
    if not MEETING_LIFECYCLE.contains("asking", question.meeting.status):
        raise InvalidTransition(_("Questions can be supported only while the meeting is open for questions."))
    if question.author_id == actor.id:
        raise DomainError(_("You asked this question; supports are for the others who want it answered."))
    try:
        with db.session.begin_nested():
            db.session.add(QuestionSupport(question_id=question.id, user_id=actor.id, created_at=now))
    except IntegrityError:
        raise DomainError(_("You already support this question.")) from None
    return _bump(MeetingQuestion, MeetingQuestion.support_count, question, +1)


def set_agenda(actor, now: dt.datetime, meeting: Meeting, positions: dict[int, int | None]) -> None:
    """The organiser's order of the questions (1 first); questions without a number come after,
    the most supported first."""
    permissions.require(actor, "organise_meeting", meeting)
    if not MEETING_LIFECYCLE.contains("ordering", meeting.status):
        raise InvalidTransition(_("The agenda can be ordered once the meeting is open for questions."))
    questions = {q.id: q for q in db.session.scalars(
        select(MeetingQuestion).where(MeetingQuestion.meeting_id == meeting.id))}
    numbers = [n for n in positions.values() if n is not None]
    if set(positions) - set(questions):
        raise ValidationFailed(_("These questions are not on this meeting's list."))
    if any(not 1 <= n <= AGENDA_MAX for n in numbers):
        raise ValidationFailed(_("Number the questions from 1 to %(num)d.", num=AGENDA_MAX))
    if len(numbers) != len(set(numbers)):
        raise ValidationFailed(_("Give each question its own number."))
    for question_id, number in positions.items():
        questions[question_id].agenda_position = number
    meeting.updated_at = now
    db.session.flush()


# --- at the meeting ------------------------------------------------------------------------------

def record_answer(actor, now: dt.datetime, question: MeetingQuestion, *, answer: str, follow_up: str,
                  category_id: int | None = None,
                  commitment: MeetingCommitment | None = None) -> Case | Commitment | None:
    """The body's answer to a question and what follows (`FollowUp`): nothing; a case for that
    body, forwarded with the same action; or a commitment of that body in one of its promises
    (`commitment`: the promise and the terms, see `promises.services.commit_at_meeting`). The answer
    may be corrected later; a question that became a case or a commitment stays one. The question's
    followers are told of the first answer, and of a commitment made on a corrected one. Returns
    the case or the commitment made, if any."""
    permissions.require(actor, "answer_meeting_question", question)
    if not MEETING_LIFECYCLE.contains("recording", question.meeting.status):
        raise InvalidTransition(_("Answers are recorded once the meeting has been held."))
    answer = clean_plain(answer or "")
    errors: dict[str | None, list[str]] = {}
    if not answer:
        errors["answer"] = [_("Write down the body's answer.")]
    elif len(answer) > ANSWER_MAX:
        errors["answer"] = [ngettext("The answer may be at most %(num)s character long.", "The answer may be at most %(num)s characters long.", ANSWER_MAX)]
    if follow_up not in {kind.value for kind in FollowUp}:
        errors["follow_up"] = [_("Choose what follows the answer.")]
    elif question.follow_up == FollowUp.CASE.value and follow_up != FollowUp.CASE.value:
        errors["follow_up"] = [_("This question has become a case; that stays so.")]
    elif question.follow_up == FollowUp.COMMITMENT.value and follow_up != FollowUp.COMMITMENT.value:
        errors["follow_up"] = [_("This question has become a commitment; that stays so.")]
    making_case = follow_up == FollowUp.CASE.value and question.follow_up != FollowUp.CASE.value
    category = db.session.get(Category, category_id) if (making_case and category_id) else None
    if making_case and (category is None or category.municipality_id != question.meeting.municipality_id):
        errors["category_id"] = [_("Choose the category of the case.")]
    making_commitment = (follow_up == FollowUp.COMMITMENT.value and "follow_up" not in errors
                         and question.follow_up != FollowUp.COMMITMENT.value)
    checked = None
    if making_commitment:
        try:
            terms = commitment or MeetingCommitment(promise_id=None, title="", indicator_kind="", indicator_label="",
                                                    target=None, due_on=None)
            checked = promises.check_meeting_commitment(actor, question, terms, answer=answer)
        except ValidationFailed as failed:
            for field, messages in failed.reasons.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    first = question.answered_at is None
    question.answer, question.answered_by_id = answer, actor.id
    question.answered_at = question.answered_at or now
    made = None
    if making_case:
        question.follow_up = follow_up
        db.session.flush()
        made = cases.forward_question(actor, now, question, category_id=category_id, answer=answer)
    elif making_commitment:
        question.follow_up = follow_up
        db.session.flush()
        made = promises.commit_at_meeting(actor, now, question, checked, answer=answer)
    question.follow_up = follow_up
    db.session.flush()
    if first or isinstance(made, Commitment):  # a commitment made on a corrected answer is news too
        told = {}
        if isinstance(made, Commitment):
            told = {"commitment": made.title, "due_on": made.due_on.isoformat()}
        followers.notify_followers(question, "meeting_answer", now, meeting=question.meeting.title,
                                   body=question.body.name, answer=_excerpt(answer), **told)
    record(actor, "meeting.answer", question, now, meeting=question.meeting_id, question=question.id,
           follow_up=follow_up, case=made.reference if isinstance(made, Case) else None,
           commitment=made.id if isinstance(made, Commitment) else None)
    return made


def _excerpt(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record_attendance(actor, now: dt.datetime, meeting: Meeting, *, headcount: int | None,
                      present_body_ids: set[int]) -> None:
    permissions.require(actor, "organise_meeting", meeting)
    if not MEETING_LIFECYCLE.contains("recording", meeting.status):
        raise InvalidTransition(_("Attendance is recorded once the meeting has been held."))
    if headcount is not None and not 0 <= headcount <= HEADCOUNT_MAX:
        raise ValidationFailed(_("Enter a number between %(min)s and %(max)s.", min=0, max=HEADCOUNT_MAX),
                               "headcount")
    if present_body_ids - meeting.body_ids:
        raise ValidationFailed(_("Choose among the invited bodies."), "present")
    meeting.headcount = headcount
    for row in meeting.invited:
        row.present = row.body_id in present_body_ids
    meeting.updated_at = now
    db.session.flush()


def save_minutes(actor, now: dt.datetime, meeting: Meeting, text: str) -> None:
    """The minutes (Markdown, sanitised when rendered to HTML)."""
    permissions.require(actor, "organise_meeting", meeting)
    if not MEETING_LIFECYCLE.contains("recording", meeting.status):
        raise InvalidTransition(_("Minutes are written once the meeting has been held."))
    text = clean_plain(text or "")
    if len(text) > MINUTES_MAX:
        raise ValidationFailed(ngettext("The minutes may be at most %(num)s character long.", "The minutes may be at most %(num)s characters long.", MINUTES_MAX), "minutes")
    meeting.minutes = text or None
    meeting.minutes_html = render_markdown(text) if text else None
    meeting.updated_at = now
    db.session.flush()


# --- reading ----------------------------------------------------------------------------------------

def get_meeting(actor, meeting_id: int) -> Meeting:
    meeting = db.session.scalar(select(Meeting).options(joinedload(Meeting.municipality),
                                                        joinedload(Meeting.organising_body))
                                .where(Meeting.id == meeting_id))
    if meeting is None or not permissions.can(actor, "view_meeting", meeting):
        raise NotFound(_("There is no such meeting."))
    return meeting


def get_question(meeting: Meeting, question_id: int) -> MeetingQuestion:
    question = db.session.scalar(select(MeetingQuestion).options(joinedload(MeetingQuestion.body))
                                 .where(MeetingQuestion.id == question_id, MeetingQuestion.meeting_id == meeting.id))
    if question is None:
        raise NotFound(_("There is no such question."))
    set_committed_value(question, "meeting", meeting)
    return question


def meetings_of(actor, neighbourhood: Neighbourhood, limit: int = 50) -> list[Meeting]:
    """The meetings that cover the neighbourhood, latest first (drafts only for their organisers)."""
    found = db.session.scalars(
        select(Meeting).join(MeetingNeighbourhood, MeetingNeighbourhood.meeting_id == Meeting.id)
        .where(MeetingNeighbourhood.neighbourhood_id == neighbourhood.id)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(limit))
    return [meeting for meeting in found if permissions.can(actor, "view_meeting", meeting)]


def open_for_questions(neighbourhood: Neighbourhood, limit: int = 50) -> list[Meeting]:
    """The meetings covering the neighbourhood whose residents may ask and support questions now."""
    return list(db.session.scalars(
        select(Meeting).join(MeetingNeighbourhood, MeetingNeighbourhood.meeting_id == Meeting.id)
        .where(MeetingNeighbourhood.neighbourhood_id == neighbourhood.id,
               Meeting.status.in_(MEETING_LIFECYCLE.values("asking")))
        .order_by(Meeting.starts_at, Meeting.id).limit(limit)))


def questions_of(meeting: Meeting) -> list[MeetingQuestion]:
    """The agenda: the organiser's numbered questions in order, then the others, most supported first."""
    questions = list(db.session.scalars(
        select(MeetingQuestion).options(joinedload(MeetingQuestion.body), joinedload(MeetingQuestion.neighbourhood))
        .where(MeetingQuestion.meeting_id == meeting.id)
        .order_by(MeetingQuestion.agenda_position.is_(None), MeetingQuestion.agenda_position,
                  MeetingQuestion.support_count.desc(), MeetingQuestion.id)))
    for question in questions:
        set_committed_value(question, "meeting", meeting)
    return questions


def supported_by(actor, meeting: Meeting) -> set[int]:
    if not getattr(actor, "is_authenticated", False):
        return set()
    return set(db.session.scalars(
        select(QuestionSupport.question_id).join(MeetingQuestion, MeetingQuestion.id == QuestionSupport.question_id)
        .where(MeetingQuestion.meeting_id == meeting.id, QuestionSupport.user_id == actor.id)))


def cases_by_question(meeting: Meeting) -> dict[int, list[Case]]:
    found: dict[int, list[Case]] = {}
    for case in db.session.scalars(
            select(Case).join(MeetingQuestion, MeetingQuestion.id == Case.meeting_question_id)
            .where(MeetingQuestion.meeting_id == meeting.id).order_by(Case.id)):
        found.setdefault(case.meeting_question_id, []).append(case)
    return found


def commitments_by_question(meeting: Meeting) -> dict[int, Commitment]:
    """The commitments made at the meeting, by question, with their promises (in a fixed number of
    statements: the page asks whether the reader may see each promise)."""
    found = db.session.scalars(
        select(Commitment).join(MeetingQuestion, MeetingQuestion.id == Commitment.meeting_question_id)
        .options(selectinload(Commitment.promise).selectinload(Promise.signatories),
                 selectinload(Commitment.promise).selectinload(Promise.places))
        .where(MeetingQuestion.meeting_id == meeting.id).order_by(Commitment.id))
    return {commitment.meeting_question_id: commitment for commitment in found}
