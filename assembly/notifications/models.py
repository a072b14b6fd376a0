from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assembly.db import Base, intpk, utcnow


class Notification(Base):
    """Stored as a kind plus parameters and rendered in the reader's language when shown."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at", "id"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]


class OutboxEmail(Base):
    """A rendered e-mail waiting for the worker (`flask mail send`)."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_pending", "sent_at", "id"),
                      Index("ix_outbox_emails_user_id", "user_id"))

    id: Mapped[intpk]
    to_address: Mapped[str] = mapped_column(String(254))
    # The account a notification or digest e-mail is for: its one-click unsubscribe link and the
    # List-Unsubscribe headers are made from it when the mail is sent. None for account e-mails
    # (welcome, password reset), which nobody unsubscribes from.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    locale: Mapped[str | None] = mapped_column(String(5))  # the language the mail is written in
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))
