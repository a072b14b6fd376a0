"""One-time codes sent by SMS (confirming a phone number, logging in, setting a new password).

A code is six digits, valid `SMS_CODE_MINUTES`; at most `SMS_CODES_PER_HOUR` are sent to one
account an hour, and a code dies after `SMS_CODE_MAX_ATTEMPTS` wrong guesses. Only an HMAC of
the code under SECRET_KEY is stored (six digits would be found from a plain hash at once).
Checking a code never raises: a wrong guess is counted in the database, and the caller must let
that count be committed (the views answer with a redirect)."""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from assembly.db import db
from assembly.i18n import ngettext
from assembly.errors import DomainError
from assembly.sms.models import PhoneCode
from assembly.sms.services import queue_sms


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"  # no live code: never sent, used, expired, or too many wrong guesses


@dataclass
class CodeCheck:
    outcome: Outcome
    attempts_left: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


def _digest(user_id: int, purpose: str, code: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else secret.encode()
    message = f"assembly phone code\0{user_id}\0{purpose}\0{code.strip()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _message(purpose: str, code: str, minutes: int) -> str:
    if purpose == "confirm":
        return ngettext("Assembly: your code to confirm this phone number is %(code)s. It expires in %(num)s minute. "
                        "Never give it to anyone.",
                        "Assembly: your code to confirm this phone number is %(code)s. It expires in %(num)s minutes. "
                        "Never give it to anyone.", minutes, code=code)
    if purpose == "login":
        return ngettext("Assembly: your login code is %(code)s. It expires in %(num)s minute. Never give it to anyone, "
                        "not even the muhtar.",
                        "Assembly: your login code is %(code)s. It expires in %(num)s minutes. Never give it to anyone, "
                        "not even the muhtar.", minutes, code=code)
    return ngettext("Assembly: your code to set a new password is %(code)s. It expires in %(num)s minute. "
                    "If you did not ask for it, ignore this message.",
                    "Assembly: your code to set a new password is %(code)s. It expires in %(num)s minutes. "
                    "If you did not ask for it, ignore this message.", minutes, code=code)


def issue_code(user, purpose: str, now: dt.datetime) -> PhoneCode:
    """Send a new code to the user's phone (earlier codes of the same purpose stop working)."""
    config = current_app.config
    sent_lately = db.session.scalar(
        select(func.count()).select_from(PhoneCode).where(
            PhoneCode.user_id == user.id, PhoneCode.created_at > now - dt.timedelta(hours=1))) or 0
    if sent_lately >= config["SMS_CODES_PER_HOUR"]:
        raise DomainError(_("Too many codes have been sent to this phone number. Please wait an hour and try again."))
    db.session.execute(
        update(PhoneCode).where(PhoneCode.user_id == user.id, PhoneCode.purpose == purpose,
                                PhoneCode.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False))
    code = f"{secrets.randbelow(10 ** 6):06d}"
    minutes = config["SMS_CODE_MINUTES"]
    row = PhoneCode(user_id=user.id, purpose=purpose, code_hash=_digest(user.id, purpose, code), created_at=now,
                    expires_at=now + dt.timedelta(minutes=minutes))
    db.session.add(row)
    with force_locale(user.locale):
        queue_sms(user.phone, _message(purpose, code, minutes), "code", now, user_id=user.id)
    db.session.flush()
    return row


def check_code(user, purpose: str, code: str, now: dt.datetime) -> CodeCheck:
    """Use the user's live code if `code` is it; otherwise count a wrong guess."""
    limit = current_app.config["SMS_CODE_MAX_ATTEMPTS"]
    row = db.session.scalar(
        select(PhoneCode).where(PhoneCode.user_id == user.id, PhoneCode.purpose == purpose,
                                PhoneCode.used_at.is_(None), PhoneCode.expires_at > now,
                                PhoneCode.attempts < limit)
        .order_by(PhoneCode.id.desc()).limit(1))
    if row is None:
        return CodeCheck(Outcome.EXPIRED)
    if not hmac.compare_digest(row.code_hash, _digest(user.id, purpose, code or "")):
        attempts = db.session.execute(
            update(PhoneCode).where(PhoneCode.id == row.id).values(attempts=PhoneCode.attempts + 1)
            .returning(PhoneCode.attempts).execution_options(synchronize_session=False)).scalar_one()
        left = max(limit - attempts, 0)
        return CodeCheck(Outcome.WRONG if left else Outcome.EXPIRED, left)
    # Used with a conditional update, so that two simultaneous uses cannot both succeed.
    claimed = db.session.execute(
        update(PhoneCode).where(PhoneCode.id == row.id, PhoneCode.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False)).rowcount
    return CodeCheck(Outcome.OK if claimed == 1 else Outcome.EXPIRED)
