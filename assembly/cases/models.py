from __future__ import annotations

import datetime as dt
import enum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.accounts.models import User
from assembly.consultations.models import ConsultationAnswer
from assembly.db import Base, intpk, one_of, utcnow
from assembly.lifecycle import Lifecycle
from assembly.meetings.models import MeetingQuestion
from assembly.neighbourhoods.models import Body, Neighbourhood
from assembly.proposals.models import Proposal


class CaseStatus(str, enum.Enum):
    FORWARDED = "forwarded"
    RECEIVED = "received"
    SCHEDULED = "scheduled"
    DECIDED = "decided"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Decision(str, enum.Enum):
    APPROVED = "approved"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    REFERRED = "referred"


C = CaseStatus
# Each event of a case's timeline is named after the status it leads to; which event may follow
# also depends on the decision (cases.services), within these moves.
CASE_LIFECYCLE: Lifecycle[CaseStatus] = Lifecycle(
    "case", CaseStatus,
    labels={C.FORWARDED: _l("Forwarded"), C.RECEIVED: _l("Received"), C.SCHEDULED: _l("On the council's agenda"),
            C.DECIDED: _l("Decided"), C.IN_PROGRESS: _l("In progress"), C.DONE: _l("Done")},
    transitions={C.FORWARDED: {C.RECEIVED}, C.RECEIVED: {C.SCHEDULED, C.DECIDED},
                 C.SCHEDULED: {C.SCHEDULED, C.DECIDED},
                 C.DECIDED: {C.SCHEDULED, C.DECIDED, C.IN_PROGRESS, C.DONE},  # deferred, or approved
                 C.IN_PROGRESS: {C.IN_PROGRESS, C.DONE},
                 # Residents who say it is not fixed reopen it (cases.confirmations), never the body.
                 C.DONE: {C.IN_PROGRESS}},
    # Open: the body still owes an answer, and the case can be overdue.
    groups={"open": (C.FORWARDED, C.RECEIVED, C.SCHEDULED)},
)
del C
OPEN_STATUSES = CASE_LIFECYCLE.values("open")


def status_label(status: str, decision: str | None = None) -> str:
    """A case's status as people read it; a decided case says what was decided."""
    if status == CaseStatus.DECIDED.value and decision:
        return decision_label(decision)
    return CASE_LIFECYCLE.label(status)


def decision_label(decision: str) -> str:
    return {
        Decision.APPROVED.value: _("Decided: approved"), Decision.REJECTED.value: _("Decided: rejected"),
        Decision.DEFERRED.value: _("Decided: deferred"), Decision.REFERRED.value: _("Referred to another body"),
    }.get(decision, decision)




class CaseSequence(Base):
    """The last reference number used per municipality, neighbourhood and year."""

    __tablename__ = "case_sequences"
    __table_args__ = (UniqueConstraint("neighbourhood_id", "year"),)

    id: Mapped[intpk]
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(Integer)


# A case comes from exactly one origin. Written as a sum of CASEs so that SQLite and PostgreSQL
# read it alike (the migration that adds an origin uses the same expression).
ONE_ORIGIN = ("(CASE WHEN proposal_id IS NOT NULL THEN 1 ELSE 0 END)"
              " + (CASE WHEN meeting_question_id IS NOT NULL THEN 1 ELSE 0 END)"
              " + (CASE WHEN consultation_answer_id IS NOT NULL THEN 1 ELSE 0 END) = 1")


class Case(Base):
    """A forwarded item at one body: an immutable snapshot of where it came from. The origin is
    exactly one of: a resident's proposal and its vote, a question asked at a meeting with bodies,
    or a neighbourhood's answer to a consultation (which alone has no category)."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("reference"),
        UniqueConstraint("proposal_id", "body_id"),
        UniqueConstraint("meeting_question_id", "body_id"),
        UniqueConstraint("consultation_answer_id", "body_id"),
        CheckConstraint(ONE_ORIGIN, name="one_origin"),
        CheckConstraint("consultation_answer_id IS NOT NULL OR category_id IS NOT NULL", name="category"),
        CheckConstraint(one_of("status", CaseStatus), name="status"),
        CheckConstraint("decision IS NULL OR " + one_of("decision", Decision), name="decision"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        Index("ix_cases_inbox", "body_id", "status", "updated_at"),
        Index("ix_cases_body_updated", "body_id", "updated_at", "id"),
        Index("ix_cases_body_id", "body_id", "id"),  # a body's cases in order: the CSV export streams them
        Index("ix_cases_due", "status", "due_at"),
        Index("ix_cases_neighbourhood", "neighbourhood_id", "forwarded_at"),
        Index("ix_cases_proposal_id", "proposal_id"),
        Index("ix_cases_meeting_question_id", "meeting_question_id"),
        Index("ix_cases_consultation_answer_id", "consultation_answer_id"),
        Index("ix_cases_updated", "updated_at", "id"),
    )

    id: Mapped[intpk]
    reference: Mapped[str] = mapped_column(String(60))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="RESTRICT"))
    meeting_question_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_questions.id", ondelete="RESTRICT"))
    consultation_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation_answers.id", ondelete="RESTRICT"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    referred_from_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(12), default=CaseStatus.FORWARDED.value)
    decision: Mapped[str | None] = mapped_column(String(10))
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    address_text: Mapped[str | None] = mapped_column(String(200))
    vote_result: Mapped[dict]
    note: Mapped[str | None] = mapped_column(String(2000))
    forward_reason: Mapped[str | None] = mapped_column(String(1000))
    forwarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    forwarded_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]
    council_meeting_at: Mapped[dt.datetime | None]
    agenda_number: Mapped[str | None] = mapped_column(String(40))
    council_record_url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    event_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    proposal: Mapped[Proposal | None] = relationship()
    meeting_question: Mapped[MeetingQuestion | None] = relationship()
    consultation_answer: Mapped[ConsultationAnswer | None] = relationship()
    neighbourhood: Mapped[Neighbourhood] = relationship()
    body: Mapped[Body] = relationship()
    forwarded_by: Mapped[User | None] = relationship()
    referred_from: Mapped[Case | None] = relationship(remote_side="Case.id")


class CaseEvent(Base):
    """One step of a case's public timeline. Each event stores the SHA-256 of its canonical
    content and of the previous event, so the chain shows any later change. Append-only."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    actor_name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict]
    created_at: Mapped[dt.datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    case: Mapped[Case] = relationship()


class FixAnswer(str, enum.Enum):
    YES = "yes"
    NO = "no"


class CaseConfirmation(Base):
    """A resident's answer to "is it really fixed?" after a case was marked done: once per person
    and per time the case was done (`done_seq`, the sequence number of that "done" event). A "no"
    carries a public note and reopens the case."""

    __tablename__ = "case_confirmations"
    __table_args__ = (
        UniqueConstraint("case_id", "user_id", "done_seq"),
        CheckConstraint(one_of("answer", FixAnswer), name="answer"),
        CheckConstraint("answer = 'yes' OR note IS NOT NULL", name="no_has_note"),
        Index("ix_case_confirmations_user_id", "user_id"),
        Index("ix_case_confirmations_answers", "case_id", "answer", "created_at"),
    )

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    done_seq: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime]


class ApiToken(Base):
    """A body's key for the JSON API; only its hash is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"), Index("ix_api_tokens_body_id", "body_id"))

    id: Mapped[intpk]
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    body: Mapped[Body] = relationship()


class IdempotentRequest(Base):
    """The stored answer to an API write, so a retried request never acts twice."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("body_id", "key"),)

    id: Mapped[intpk]
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict]
    created_at: Mapped[dt.datetime]
