"""Surveys: questions asked of everyone in one or several neighbourhoods, answered once per
person (changeable until closing), counted apart by who answered (verified residents, people
who confirmed an e-mail address, paper questionnaires typed in by the muhtar).

Who answered (`SurveyParticipation`) is kept apart from what was answered (`SurveyAnswer`,
`SurveyText`), as for secret ballots: see `assembly.surveys.responses` and docs/security.md.
"""
from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.db import Base, intpk, one_of, utcnow
from assembly.lifecycle import Lifecycle
from assembly.neighbourhoods.models import Neighbourhood


class SurveyStatus(str, enum.Enum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


S = SurveyStatus
SURVEY_LIFECYCLE: Lifecycle[SurveyStatus] = Lifecycle(
    "survey", SurveyStatus,
    labels={S.DRAFT: _l("Draft"), S.SCHEDULED: _l("Published, not open yet"), S.OPEN: _l("Open for answers"),
            S.CLOSED: _l("Closed")},
    # A draft is published (scheduled); it opens and closes by the clock: pages compute the state
    # from `opens_at`/`closes_at` (`services.shown_status`), the scheduler's tick stores `closed`
    # when it counts (`responses.close_survey`).
    transitions={S.DRAFT: {S.SCHEDULED}, S.SCHEDULED: {S.OPEN, S.CLOSED}, S.OPEN: {S.CLOSED}, S.CLOSED: set()},
    groups={"editable": (S.DRAFT,), "stored": (S.DRAFT, S.SCHEDULED, S.CLOSED)},
)
del S


class Audience(str, enum.Enum):
    RESIDENTS = "residents"   # verified residents only
    AREA = "area"             # anyone who lives or works in the area


class QuestionKind(str, enum.Enum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE = "scale"
    RANKING = "ranking"
    TEXT = "text"


class Source(str, enum.Enum):
    VERIFIED = "verified"       # a verified resident of one of the survey's neighbourhoods
    UNVERIFIED = "unverified"   # lives or works there, by their word (confirmed e-mail or account)
    PAPER = "paper"             # a paper questionnaire typed in by the muhtar


class TextStatus(str, enum.Enum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"


class Survey(Base):
    __tablename__ = "surveys"
    __table_args__ = (
        CheckConstraint(one_of("status", SurveyStatus), name="status"),
        CheckConstraint(one_of("audience", Audience), name="audience"),
        CheckConstraint("closes_at > opens_at", name="window"),
        CheckConstraint("respondents >= 0 AND paper_count >= 0", name="counters"),
        Index("ix_surveys_window", "status", "closes_at"),
        Index("ix_surveys_municipality_id", "municipality_id"),
    )

    id: Mapped[intpk]
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="RESTRICT"))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(String(12), default=Audience.RESIDENTS.value)
    status: Mapped[str] = mapped_column(String(12), default=SurveyStatus.DRAFT.value)
    opens_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime]
    # Set by the one closing transaction; an online answer is stored only while it is empty.
    closed_at: Mapped[dt.datetime | None]
    published_at: Mapped[dt.datetime | None]
    respondents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paper_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    neighbourhoods: Mapped[list[Neighbourhood]] = relationship(secondary="survey_neighbourhoods",
                                                               order_by="Neighbourhood.slug", lazy="selectin")
    questions: Mapped[list[SurveyQuestion]] = relationship(back_populates="survey", lazy="selectin",
                                                           order_by="SurveyQuestion.position",
                                                           cascade="all, delete-orphan")

    @property
    def neighbourhood_ids(self) -> set[int]:
        return {hood.id for hood in self.neighbourhoods}


class SurveyNeighbourhood(Base):
    __tablename__ = "survey_neighbourhoods"
    __table_args__ = (Index("ix_survey_neighbourhoods_neighbourhood_id", "neighbourhood_id"),)

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"),
                                                  primary_key=True)


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"
    __table_args__ = (
        UniqueConstraint("survey_id", "position"),
        CheckConstraint(one_of("kind", QuestionKind), name="kind"),
        CheckConstraint("max_choices IS NULL OR max_choices >= 1", name="max_choices"),
        Index("ix_survey_questions_series", "series"),
    )

    id: Mapped[intpk]
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    prompt: Mapped[str] = mapped_column(String(500))
    options: Mapped[dict] = mapped_column(default=list)  # a JSON list of option texts
    max_choices: Mapped[int | None] = mapped_column(Integer)
    # The same question asked again in a later survey carries the same series key.
    series: Mapped[str | None] = mapped_column(String(60))

    survey: Mapped[Survey] = relationship(back_populates="questions")


class SurveyParticipation(Base):
    """Who answered (never what). One per person and survey, by the database: an account
    (`user_id`) or a confirmed e-mail address (`email_hash`, a keyed hash). While the survey is
    open the answers wait here sealed; the closing transaction empties `sealed`."""

    __tablename__ = "survey_participations"
    __table_args__ = (
        UniqueConstraint("survey_id", "user_id"),
        UniqueConstraint("survey_id", "email_hash"),
        CheckConstraint("(user_id IS NULL) <> (email_hash IS NULL)", name="one_identity"),
        CheckConstraint(f"source IN ('{Source.VERIFIED.value}', '{Source.UNVERIFIED.value}')", name="source"),
        Index("ix_survey_participations_user_id", "user_id"),
    )

    id: Mapped[intpk]
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email_hash: Mapped[str | None] = mapped_column(String(64))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(12))
    answered_at: Mapped[dt.datetime]
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class SurveyAnswer(Base):
    """One questionnaire's closed answers, without person or time. Online answers are written
    only by the closing transaction, all at once in shuffled order, with random keys (on SQLite
    without the hidden rowid); `source` and `neighbourhood_id` are left empty when the group
    they name is smaller than SURVEY_MIN_GROUP. Paper questionnaires are written as typed in."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        CheckConstraint(one_of("source", Source) + " OR source IS NULL", name="source"),
        Index("ix_survey_answers_survey_id", "survey_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    source: Mapped[str | None] = mapped_column(String(12))
    neighbourhood_id: Mapped[int | None] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    answers: Mapped[dict]


class SurveyText(Base):
    """A free-text answer, apart from the rest of its questionnaire (shuffled on its own), shown
    only once the muhtar has published it."""

    __tablename__ = "survey_texts"
    __table_args__ = (
        CheckConstraint(one_of("status", TextStatus), name="status"),
        Index("ix_survey_texts_question", "question_id", "status"),
        Index("ix_survey_texts_survey_id", "survey_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=TextStatus.PENDING.value)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moderated_at: Mapped[dt.datetime | None]
