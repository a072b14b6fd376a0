"""Meetings with bodies: a meeting of several neighbourhoods where several bodies sit at the table
(the police's "Huzur toplantıları", Tehran district 20's monthly meeting of its neighbourhood
councillors with the district mayor and the police chief). Residents ask questions of one invited
body beforehand and support them; at the meeting the organiser records each answer and what follows.
"""
from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.accounts.models import User
from assembly.config import LOCALES
from assembly.db import Base, intpk, one_of, str200, utcnow
from assembly.lifecycle import Lifecycle
from assembly.neighbourhoods.models import Body, Municipality, Neighbourhood

_LOCALE_LIST = ", ".join(f"'{code}'" for code in LOCALES)


class MeetingStatus(str, enum.Enum):
    DRAFT = "draft"
    OPEN = "open"  # announced: residents of the covered neighbourhoods ask and support questions
    HELD = "held"  # the meeting took place: answers, attendance and minutes are recorded
    CLOSED = "closed"  # the minutes are published; nothing changes any more
    CANCELLED = "cancelled"


M = MeetingStatus
MEETING_LIFECYCLE: Lifecycle[MeetingStatus] = Lifecycle(
    "meeting", MeetingStatus,
    labels={M.DRAFT: _l("Draft"), M.OPEN: _l("Open for questions"), M.HELD: _l("Held: answers being recorded"),
            M.CLOSED: _l("Minutes published"), M.CANCELLED: _l("Cancelled")},
    transitions={M.DRAFT: {M.OPEN, M.CANCELLED}, M.OPEN: {M.HELD, M.CANCELLED}, M.HELD: {M.CLOSED},
                 M.CLOSED: set(), M.CANCELLED: set()},
    groups={
        "editable": (M.DRAFT, M.OPEN),  # time, place, neighbourhoods and invited bodies may change
        "asking": (M.OPEN,),  # residents may ask and support
        "ordering": (M.OPEN, M.HELD),  # the organiser may order the agenda
        "recording": (M.HELD,),  # answers, attendance and minutes are recorded
        "public": (M.OPEN, M.HELD, M.CLOSED, M.CANCELLED),
    },
)
del M


class OrganiserKind(str, enum.Enum):
    MUHTARS = "muhtars"  # the muhtars (neighbourhood councillors) of the covered neighbourhoods together
    BODY = "body"  # a body's staff (e.g. the district police's community policing office)


class FollowUp(str, enum.Enum):
    """What follows a question's answer. A further kind is a new value here, a branch in
    `services.record_answer`, and a new check value in a migration. `case` links the question to
    the case made from it (`Case.meeting_question_id`); `commitment` to the commitment the body
    made in one of its promises (`Commitment.meeting_question_id`, unique: one per question)."""

    NONE = "none"
    CASE = "case"
    COMMITMENT = "commitment"


FOLLOW_UP_LABELS = {FollowUp.NONE.value: _l("Nothing further"),
                    FollowUp.CASE.value: _l("A case for the body"),
                    FollowUp.COMMITMENT.value: _l("A commitment in a promise of the body")}


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(one_of("status", MeetingStatus), name="status"),
        CheckConstraint(one_of("organiser_kind", OrganiserKind), name="organiser_kind"),
        CheckConstraint("(organiser_kind = 'body') = (organising_body_id IS NOT NULL)", name="organiser"),
        CheckConstraint(f"locale IN ({_LOCALE_LIST})", name="locale"),
        CheckConstraint("headcount IS NULL OR headcount >= 0", name="headcount"),
        CheckConstraint("question_count >= 0", name="question_count"),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ends_after_start"),
        Index("ix_meetings_municipality", "municipality_id", "starts_at"),
    )

    id: Mapped[intpk]
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id", ondelete="RESTRICT"))
    organiser_kind: Mapped[str] = mapped_column(String(10))
    organising_body_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    title: Mapped[str200]
    locale: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(10), default=MeetingStatus.DRAFT.value)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None]
    place: Mapped[str | None] = mapped_column(String(300))
    headcount: Mapped[int | None] = mapped_column(Integer)
    minutes: Mapped[str | None] = mapped_column(Text)
    minutes_html: Mapped[str | None] = mapped_column(Text)
    question_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    municipality: Mapped[Municipality] = relationship()
    organising_body: Mapped[Body | None] = relationship()
    covered: Mapped[list[MeetingNeighbourhood]] = relationship(
        back_populates="meeting", lazy="selectin", cascade="all, delete-orphan",
        order_by="MeetingNeighbourhood.neighbourhood_id")
    invited: Mapped[list[MeetingBody]] = relationship(
        back_populates="meeting", lazy="selectin", cascade="all, delete-orphan", order_by="MeetingBody.id")

    @property
    def neighbourhood_ids(self) -> set[int]:
        return {row.neighbourhood_id for row in self.covered}

    @property
    def body_ids(self) -> set[int]:
        return {row.body_id for row in self.invited}


class MeetingNeighbourhood(Base):
    """A neighbourhood the meeting covers: its residents may ask questions."""

    __tablename__ = "meeting_neighbourhoods"
    __table_args__ = (UniqueConstraint("meeting_id", "neighbourhood_id"),
                      Index("ix_meeting_neighbourhoods_neighbourhood", "neighbourhood_id", "meeting_id"))

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))

    meeting: Mapped[Meeting] = relationship(back_populates="covered")
    neighbourhood: Mapped[Neighbourhood] = relationship(lazy="joined")


class MeetingBody(Base):
    """A body invited to the table, with the person who represents it; `present` is attendance."""

    __tablename__ = "meeting_bodies"
    __table_args__ = (UniqueConstraint("meeting_id", "body_id"), Index("ix_meeting_bodies_body", "body_id"))

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    representative: Mapped[str200]
    present: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    meeting: Mapped[Meeting] = relationship(back_populates="invited")
    body: Mapped[Body] = relationship(lazy="joined")


class MeetingQuestion(Base):
    """A resident's question to one invited body (the composite foreign key keeps it to a body
    at the table), with its supports, its place on the agenda and, after the meeting, the answer."""

    __tablename__ = "meeting_questions"
    __table_args__ = (
        ForeignKeyConstraint(["meeting_id", "body_id"], ["meeting_bodies.meeting_id", "meeting_bodies.body_id"],
                             name="fk_meeting_questions_invited_body", ondelete="RESTRICT"),
        CheckConstraint("support_count >= 0", name="support_count"),
        CheckConstraint("agenda_position IS NULL OR agenda_position >= 1", name="agenda_position"),
        CheckConstraint("follow_up IS NULL OR " + one_of("follow_up", FollowUp), name="follow_up"),
        CheckConstraint("(answer IS NULL) = (answered_at IS NULL)", name="answered"),
        CheckConstraint("follow_up IS NULL OR answer IS NOT NULL", name="follow_up_after_answer"),
        Index("ix_meeting_questions_ranked", "meeting_id", "support_count", "id"),
        Index("ix_meeting_questions_agenda", "meeting_id", "agenda_position"),
        Index("ix_meeting_questions_author", "author_id"),
    )

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(1000))
    support_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    agenda_position: Mapped[int | None] = mapped_column(Integer)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    follow_up: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    body: Mapped[Body] = relationship()
    neighbourhood: Mapped[Neighbourhood] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class QuestionSupport(Base):
    """One resident's support of a question: at most one per person (the unique constraint)."""

    __tablename__ = "meeting_question_supports"
    __table_args__ = (UniqueConstraint("question_id", "user_id"),
                      Index("ix_meeting_question_supports_user", "user_id"))

    id: Mapped[intpk]
    question_id: Mapped[int] = mapped_column(ForeignKey("meeting_questions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime]
