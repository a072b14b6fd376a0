"""A form sent twice is stored once: a one-time token in the form, claimed in `form_submissions`.

The page puts a fresh random token into the form (a hidden field). The POST claims it in the same
transaction as what it writes; the unique constraint lets only one claim of a token exist, so a
second POST with the same token (a double click, a resent form, a retry after a lost answer)
writes nothing and is sent to the page the first one led to. A refused POST rolls back its claim
with everything else, so the corrected form may be sent again with the same token.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from assembly.db import Base, db, intpk
from assembly.errors import DomainError

T = TypeVar("T")
TOKEN_FIELD = "form_token"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


class FormSubmission(Base):
    """One claimed form token: who sent it, when, and where its answer led."""

    __tablename__ = "form_submissions"
    __table_args__ = (UniqueConstraint("token"), Index("ix_form_submissions_created_at", "created_at"))

    id: Mapped[intpk]
    token: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    result_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime]


def new_token() -> str:
    """A fresh token for a form shown on a page (nothing is stored until the form is sent)."""
    return secrets.token_urlsafe(24)  # 32 characters


def once(actor, now: dt.datetime, token: str | None, run: Callable[[], T],
         url_of: Callable[[T], str]) -> tuple[T | None, str | None]:
    """Run `run()` unless this token was claimed before: `(result, None)` the first time,
    `(None, url)` for a repeat, where `url` is where the first answer led. A form without a
    (well-formed) token is simply run: the token protects, it is not required."""
    if not token or not _TOKEN.match(token):
        return run(), None
    try:
        with db.session.begin_nested():
            claim = FormSubmission(token=token, user_id=actor.id, created_at=now)
            db.session.add(claim)
    except IntegrityError:  # sent before (on PostgreSQL: waited here for the first to commit)
        first = db.session.execute(select(FormSubmission.user_id, FormSubmission.result_url)
                                   .where(FormSubmission.token == token)).one_or_none()
        if first is None or first.user_id != actor.id or first.result_url is None:
            raise DomainError(_("This form has already been sent. Please reload the page.")) from None
        return None, first.result_url
    result = run()
    db.session.execute(update(FormSubmission).where(FormSubmission.id == claim.id)
                       .values(result_url=url_of(result)[:500]).execution_options(synchronize_session=False))
    return result, None
