"""A body's draft (a budget line, a zoning change) put to neighbourhoods for an opinion.

Each consulted neighbourhood answers once: its assembly votes on the draft as an agenda item
of a session, and the muhtar sends the count with the assembly's comment. The answer goes
back to the body as a case (`cases.Case.consultation_answer_id`), so the body's decision is
recorded on the public, hash-chained case timeline.
"""
from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.accounts.models import User
from assembly.db import Base, intpk, one_of, utcnow
from assembly.neighbourhoods.models import Body, Neighbourhood


class ConsultationKind(str, enum.Enum):
    BUDGET = "budget"
    ZONING = "zoning"


KIND_LABELS = {ConsultationKind.BUDGET.value: _l("Budget line"),
               ConsultationKind.ZONING.value: _l("Zoning plan change")}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


class Consultation(Base):
    """The draft as the body published it; its text and documents do not change afterwards."""

    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint(one_of("kind", ConsultationKind), name="kind"),
        Index("ix_consultations_body", "body_id", "created_at"),
    )

    id: Mapped[intpk]
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    body: Mapped[Body] = relationship()
    created_by: Mapped[User | None] = relationship()
    neighbourhoods: Mapped[list[ConsultedNeighbourhood]] = relationship(back_populates="consultation")
    documents: Mapped[list[ConsultationDocument]] = relationship(back_populates="consultation",
                                                                 order_by="ConsultationDocument.position")


class ConsultedNeighbourhood(Base):
    """A neighbourhood the draft is put to: only these may answer."""

    __tablename__ = "consulted_neighbourhoods"
    __table_args__ = (
        UniqueConstraint("consultation_id", "neighbourhood_id"),
        Index("ix_consulted_neighbourhoods_neighbourhood", "neighbourhood_id", "consultation_id"),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))

    consultation: Mapped[Consultation] = relationship(back_populates="neighbourhoods")
    neighbourhood: Mapped[Neighbourhood] = relationship()


class ConsultationDocument(Base):
    """An attached document: a link, or a PDF file kept under the instance folder."""

    __tablename__ = "consultation_documents"
    __table_args__ = (
        CheckConstraint("(url IS NULL) <> (stored_name IS NULL)", name="link_or_file"),
        CheckConstraint("size IS NULL OR size > 0", name="size"),
        UniqueConstraint("stored_name"),
        Index("ix_consultation_documents_consultation_id", "consultation_id", "position"),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    stored_name: Mapped[str | None] = mapped_column(String(80))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))

    consultation: Mapped[Consultation] = relationship(back_populates="documents")


class ConsultationAnswer(Base):
    """One neighbourhood's answer: the count of its assembly's vote and the assembly's comment.
    One per neighbourhood and consultation, enforced by the database."""

    __tablename__ = "consultation_answers"
    __table_args__ = (
        UniqueConstraint("consultation_id", "neighbourhood_id"),
        Index("ix_consultation_answers_neighbourhood_id", "neighbourhood_id"),
        Index("ix_consultation_answers_agenda_item_id", "agenda_item_id"),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="RESTRICT"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="RESTRICT"))
    vote_result: Mapped[dict]
    comment: Mapped[str] = mapped_column(Text)
    comment_html: Mapped[str] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[dt.datetime]

    consultation: Mapped[Consultation] = relationship()
    neighbourhood: Mapped[Neighbourhood] = relationship()
    # Named, not imported: the assemblies' models import these (an import back would be a circle).
    agenda_item: Mapped["AgendaItem"] = relationship("AgendaItem")  # noqa: F821, UP037
    answered_by: Mapped[User | None] = relationship()
