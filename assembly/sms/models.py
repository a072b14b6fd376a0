from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assembly.db import Base, intpk, utcnow

SMS_PURPOSES = ("code", "notification", "digest")
CODE_PURPOSES = ("confirm", "reset", "login")


class OutboxSms(Base):
    """A rendered SMS waiting for the worker (`flask sms send`).

    `not_before` holds a message back: the worker sets it to the next morning when the
    recipient's quiet hours have begun (codes, which the person has just asked for, are never
    held)."""

    __tablename__ = "outbox_sms"
    __table_args__ = (
        CheckConstraint("purpose IN ('code', 'notification', 'digest')", name="purpose"),
        Index("ix_outbox_sms_pending", "sent_at", "id"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_number: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    not_before: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_id: Mapped[str | None] = mapped_column(String(100))


class PhoneCode(Base):
    """A one-time code sent by SMS: to confirm a phone number, to log in, or to set a new password.

    Only its hash is stored; `attempts` counts wrong guesses, and after `CODE_MAX_ATTEMPTS`
    the code is dead."""

    __tablename__ = "phone_codes"
    __table_args__ = (
        CheckConstraint("purpose IN ('confirm', 'reset', 'login')", name="purpose"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_phone_codes_user", "user_id", "purpose", "created_at"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(10))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    used_at: Mapped[dt.datetime | None]
