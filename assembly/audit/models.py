from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.accounts.models import User
from assembly.db import Base, intpk, utcnow


class AuditEvent(Base):
    """Who did what, when, on what. Rows are never updated or deleted (database triggers)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_created_at", "created_at"),
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_actor_id", "actor_id"),
    )

    id: Mapped[intpk]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    neighbourhood_id: Mapped[int | None] = mapped_column(
        ForeignKey("neighbourhoods.id", ondelete="RESTRICT"), index=True
    )
    detail: Mapped[dict] = mapped_column(default=dict)

    actor: Mapped[User | None] = relationship()
