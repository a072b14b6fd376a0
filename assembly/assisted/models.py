from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.accounts.models import User
from assembly.db import Base, intpk, utcnow

CONSENT_METHODS = ("office", "door", "phone")


class AssistedEntry(Base):
    """Something a muhtar entered in a resident's name, with the resident's recorded consent.

    One row per action: it marks the object ("entered by the muhtar") wherever it is shown, and
    is the official record that the muhtar filed it for that resident (the audit log holds a
    copy of the same facts)."""

    __tablename__ = "assisted_entries"
    __table_args__ = (
        CheckConstraint("consent_method IN ('office', 'door', 'phone')", name="consent_method"),
        Index("ix_assisted_entries_object", "object_type", "object_id"),
        Index("ix_assisted_entries_neighbourhood", "neighbourhood_id", "id"),
    )

    id: Mapped[intpk]
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    muhtar_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    consent_method: Mapped[str] = mapped_column(String(10))
    consent_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    muhtar: Mapped[User] = relationship(foreign_keys=[muhtar_id])
    resident: Mapped[User] = relationship(foreign_keys=[resident_id])
