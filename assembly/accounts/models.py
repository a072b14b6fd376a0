from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.config import LOCALES
from assembly.db import Base, intpk, utcnow

_LOCALE_LIST = ", ".join(f"'{code}'" for code in LOCALES)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"locale IN ({_LOCALE_LIST})", name="locale"),
        CheckConstraint("email_mode IN ('immediate', 'daily', 'none')", name="email_mode"),
        # Every account is reachable: by e-mail, by phone, or (an assisted resident registered by
        # a muhtar, who may have neither) through the muhtar's office.
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL OR assisted", name="reachable"),
    )

    id: Mapped[intpk]
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # E.164 (`+905321234567`); confirmed by a code sent to it (accounts.phone).
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    phone_confirmed_at: Mapped[dt.datetime | None]
    # Registered by a muhtar for a resident who came to the office or was met at the door
    # (assembly.assisted); such an account has no password anyone knows.
    assisted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="en")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # How notifications reach the user by e-mail: immediate, daily digest or none.
    email_mode: Mapped[str] = mapped_column(String(10), default="immediate", server_default="immediate")
    digest_sent_at: Mapped[dt.datetime | None]

    login_sessions: Mapped[list[LoginSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Flask-Login protocol. The id kept in the session cookie is the login
    # session's token, so that logging out (or changing the password) on the
    # server makes an old cookie worthless.
    is_active = True
    is_anonymous = False
    is_authenticated = True
    login_token = None  # set on the instance by the user loader

    def get_id(self) -> str | None:
        return self.login_token

    @property
    def phone_only(self) -> bool:
        """Reached by SMS: a confirmed phone number and no e-mail address."""
        return self.email is None and self.phone is not None and self.phone_confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email or self.phone}>"


class LoginSession(Base):
    """One logged-in browser. Deleting the row logs that browser out."""

    __tablename__ = "login_sessions"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]

    user: Mapped[User] = relationship(back_populates="login_sessions")


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"
    __table_args__ = (Index("ix_password_reset_tokens_user_id", "user_id"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


__all__ = ["LoginSession", "PasswordResetToken", "User"]
