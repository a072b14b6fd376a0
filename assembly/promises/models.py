"""Citizen promises (Swedish medborgarlöften) and neighbourhood programmes (a Tehran district's
programme booklet): signed by one or several bodies for a period, for one or several
neighbourhoods, holding commitments with a measurable indicator and a hash-chained progress
timeline, and scheduled follow-up reports."""
from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.accounts.models import User
from assembly.db import Base, intpk, one_of
from assembly.lifecycle import Lifecycle
from assembly.neighbourhoods.models import Body, Municipality, Neighbourhood
from assembly.proposals.models import Proposal
from assembly.surveys.models import Survey


class PromiseKind(str, enum.Enum):
    PROMISE = "promise"  # a citizen promise: police and municipality, measurable goals
    PROGRAMME = "programme"  # a neighbourhood programme booklet: plan, budget, timetable


class PromiseStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


P = PromiseStatus
PROMISE_LIFECYCLE: Lifecycle[PromiseStatus] = Lifecycle(
    "promise", PromiseStatus,
    labels={P.DRAFT: _l("Draft"), P.PUBLISHED: _l("Published"), P.CLOSED: _l("Followed up and closed")},
    transitions={P.DRAFT: {P.PUBLISHED}, P.PUBLISHED: {P.CLOSED}, P.CLOSED: set()},
    groups={"public": (P.PUBLISHED, P.CLOSED)},
)
del P


class IndicatorKind(str, enum.Enum):
    """How a commitment is measured. A survey question's result (the share of answers, e.g. of
    residents who feel safe) is a percentage read from the survey; the others are entered."""

    COUNT = "count"
    YES_NO = "yes_no"
    PERCENT = "percent"
    SURVEY_QUESTION = "survey_question"


INDICATOR_LABELS = {
    IndicatorKind.COUNT: _l("A number"),
    IndicatorKind.YES_NO: _l("Yes or no"),
    IndicatorKind.PERCENT: _l("A percentage"),
    IndicatorKind.SURVEY_QUESTION: _l("The result of a survey question"),
}


class Promise(Base):
    __tablename__ = "promises"
    __table_args__ = (
        CheckConstraint(one_of("kind", PromiseKind), name="kind"),
        CheckConstraint(one_of("status", PromiseStatus), name="status"),
        CheckConstraint("period_start <= period_end", name="period"),
        CheckConstraint("report_every_months IS NULL OR report_every_months BETWEEN 1 AND 24",
                        name="report_every_months"),
        Index("ix_promises_municipality", "municipality_id", "status", "period_end"),
    )

    id: Mapped[intpk]
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default=PromiseStatus.DRAFT.value)
    locale: Mapped[str] = mapped_column(String(5))  # the language the promise is written in
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)  # Markdown: the situation today, how it was made
    summary_html: Mapped[str] = mapped_column(Text)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    report_every_months: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]
    published_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime]

    municipality: Mapped[Municipality] = relationship()
    places: Mapped[list[PromiseNeighbourhood]] = relationship(order_by="PromiseNeighbourhood.id",
                                                              back_populates="promise")
    signatories: Mapped[list[PromiseBody]] = relationship(order_by="PromiseBody.id", back_populates="promise")
    commitments: Mapped[list[Commitment]] = relationship(order_by="Commitment.position", back_populates="promise")

    @property
    def body_ids(self) -> set[int]:
        return {signatory.body_id for signatory in self.signatories}

    @property
    def neighbourhood_ids(self) -> set[int]:
        return {place.neighbourhood_id for place in self.places}

    @property
    def public(self) -> bool:
        return self.status in PROMISE_LIFECYCLE.values("public")


class PromiseNeighbourhood(Base):
    """A neighbourhood the promise is for; its muhtar may co-sign it."""

    __tablename__ = "promise_neighbourhoods"
    __table_args__ = (UniqueConstraint("promise_id", "neighbourhood_id"),
                      Index("ix_promise_neighbourhoods_neighbourhood", "neighbourhood_id", "promise_id"))

    id: Mapped[intpk]
    promise_id: Mapped[int] = mapped_column(ForeignKey("promises.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    cosigned_at: Mapped[dt.datetime | None]
    cosigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cosigned_by_name: Mapped[str | None] = mapped_column(String(200))

    promise: Mapped[Promise] = relationship(back_populates="places")
    neighbourhood: Mapped[Neighbourhood] = relationship()


class PromiseBody(Base):
    """A body that gives the promise; it signs once it agrees (a promise is published when every
    body has signed)."""

    __tablename__ = "promise_bodies"
    __table_args__ = (UniqueConstraint("promise_id", "body_id"), Index("ix_promise_bodies_body", "body_id"))

    id: Mapped[intpk]
    promise_id: Mapped[int] = mapped_column(ForeignKey("promises.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    signed_at: Mapped[dt.datetime | None]
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signed_by_name: Mapped[str | None] = mapped_column(String(200))

    promise: Mapped[Promise] = relationship(back_populates="signatories")
    body: Mapped[Body] = relationship()


class PromiseProposal(Base):
    """An accepted proposal of the assembly that the promise answers."""

    __tablename__ = "promise_proposals"
    __table_args__ = (UniqueConstraint("promise_id", "proposal_id"), Index("ix_promise_proposals_proposal",
                                                                           "proposal_id"))

    id: Mapped[intpk]
    promise_id: Mapped[int] = mapped_column(ForeignKey("promises.id", ondelete="CASCADE"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="RESTRICT"))

    proposal: Mapped[Proposal] = relationship()


class PromiseSurvey(Base):
    """A survey whose results the promise answers (e.g. the residents' priorities)."""

    __tablename__ = "promise_surveys"
    __table_args__ = (UniqueConstraint("promise_id", "survey_id"), Index("ix_promise_surveys_survey", "survey_id"))

    id: Mapped[intpk]
    promise_id: Mapped[int] = mapped_column(ForeignKey("promises.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="RESTRICT"))

    survey: Mapped[Survey] = relationship()


class PromiseFollow(Base):
    __tablename__ = "promise_follows"
    __table_args__ = (UniqueConstraint("promise_id", "user_id"), Index("ix_promise_follows_user", "user_id"))

    id: Mapped[intpk]
    promise_id: Mapped[int] = mapped_column(ForeignKey("promises.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime]


class Commitment(Base):
    """What the responsible bodies will do, how it is measured (baseline → target), by when."""

    __tablename__ = "commitments"
    __table_args__ = (
        UniqueConstraint("promise_id", "position"),
        CheckConstraint(one_of("indicator_kind", IndicatorKind), name="indicator_kind"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget"),
        CheckConstraint("event_count >= 0", name="event_count"),
        CheckConstraint("(indicator_kind = 'survey_question') = (survey_question_id IS NOT NULL AND "
                        "survey_option IS NOT NULL AND survey_option >= 0)", name="survey_indicator"),
        Index("ix_commitments_due", "done_at", "due_on"),
        Index("ix_commitments_survey_question_id", "survey_question_id"),
        # A commitment made at a meeting in answer to a question: at most one per question.
        UniqueConstraint("meeting_question_id"),
    )

    id: Mapped[intpk]
    promise_id: Mapped[int] = mapped_column(ForeignKey("promises.id", ondelete="CASCADE"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    indicator_kind: Mapped[str] = mapped_column(String(16))
    indicator_label: Mapped[str] = mapped_column(String(200))
    # A survey_question indicator: the share (percent) of those who answered this question that chose
    # option number `survey_option` (0-based), in its survey and in later surveys of the same series.
    survey_question_id: Mapped[int | None] = mapped_column(ForeignKey("survey_questions.id", ondelete="RESTRICT"))
    survey_option: Mapped[int | None] = mapped_column(Integer)
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    current_value: Mapped[float | None] = mapped_column(Float)
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    due_on: Mapped[dt.date] = mapped_column(Date)
    budget: Mapped[int | None] = mapped_column(BigInteger)  # whole units of the currency (rials run to 10^11)
    currency: Mapped[str | None] = mapped_column(String(3))
    done_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime]
    event_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The question of a meeting with bodies that the commitment answers (made at the meeting).
    meeting_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_questions.id", ondelete="RESTRICT"))

    promise: Mapped[Promise] = relationship(back_populates="commitments")
    responsible: Mapped[list[CommitmentBody]] = relationship(order_by="CommitmentBody.id")

    @property
    def body_ids(self) -> set[int]:
        return {row.body_id for row in self.responsible}


class CommitmentBody(Base):
    __tablename__ = "commitment_bodies"
    __table_args__ = (UniqueConstraint("commitment_id", "body_id"), Index("ix_commitment_bodies_body", "body_id"))

    id: Mapped[intpk]
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))

    body: Mapped[Body] = relationship()


class CommitmentEvent(Base):
    """One step of a commitment's public progress timeline, hash-chained (`assembly.timeline`).
    Append-only."""

    __tablename__ = "commitment_events"
    __table_args__ = (UniqueConstraint("commitment_id", "seq"),)

    id: Mapped[intpk]
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id", ondelete="RESTRICT"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # committed, progress, done
    body_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    actor_name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict]
    created_at: Mapped[dt.datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    commitment: Mapped[Commitment] = relationship()


class FollowUpReport(Base):
    """A body's follow-up report for one scheduled date (every `report_every_months` from the
    start of the period, and at its end)."""

    __tablename__ = "promise_reports"
    __table_args__ = (UniqueConstraint("promise_id", "due_on", "body_id"),
                      Index("ix_promise_reports_promise", "promise_id", "due_on"))

    id: Mapped[intpk]
    promise_id: Mapped[int] = mapped_column(ForeignKey("promises.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    due_on: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[dt.datetime]

    body: Mapped[Body] = relationship()


class ReportComment(Base):
    """A muhtar's comment on a follow-up report, for the neighbourhood."""

    __tablename__ = "promise_report_comments"
    __table_args__ = (Index("ix_promise_report_comments_report", "report_id", "id"),)

    id: Mapped[intpk]
    report_id: Mapped[int] = mapped_column(ForeignKey("promise_reports.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]

    author: Mapped[User | None] = relationship()
