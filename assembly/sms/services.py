"""The SMS outbox: phone numbers, queuing, quiet hours, the senders and the worker.

Messages are rendered in the recipient's language when they are queued and sent by the worker
(`flask sms send`), which holds anything but a code while it is night where the recipient lives
(`SMS_QUIET_START`–`SMS_QUIET_END` in the time zone of their neighbourhood) until the morning.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import phonenumbers
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from assembly.db import db
from assembly.errors import ValidationFailed
from assembly.neighbourhoods.models import Membership, MembershipRole, MembershipStatus, Municipality, Neighbourhood
from assembly.scheduling import exclusive
from assembly.sms.models import OutboxSms

SMS_MAX = 480  # three concatenated messages at most


# --- phone numbers ------------------------------------------------------------------------

def normalise_phone(raw: str | None, field: str = "phone") -> str:
    """The number in E.164 (`+905321234567`), or a translated error on `field`.

    A number without a leading + is read in `PHONE_DEFAULT_REGION` (a local Turkish number
    `0532 123 45 67` by default)."""
    text = (raw or "").strip()
    try:
        number = phonenumbers.parse(text, current_app.config["PHONE_DEFAULT_REGION"])
    except phonenumbers.NumberParseException:
        number = None
    if number is None or len(text) > 32 or not phonenumbers.is_valid_number(number):
        raise ValidationFailed(_("Please enter a valid phone number, for example +90 532 123 45 67."), field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str | None) -> bool:
    """Whether what was typed into a "e-mail or phone" field is meant as a phone number."""
    text = (text or "").strip()
    return bool(text) and "@" not in text


def display_phone(e164: str | None) -> str:
    """A number for people to read, in international format (`+90 532 123 45 67`)."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


# --- queuing --------------------------------------------------------------------------------

def queue_sms(to_number: str, body: str, purpose: str, now: dt.datetime, user_id: int | None = None) -> OutboxSms:
    """Put one rendered message in the outbox (the caller renders it in the recipient's language)."""
    text = body.strip()
    if len(text) > SMS_MAX:
        text = text[: SMS_MAX - 1] + "…"
    message = OutboxSms(user_id=user_id, to_number=to_number, body=text, purpose=purpose, created_at=now)
    db.session.add(message)
    db.session.flush()
    return message


# --- quiet hours ----------------------------------------------------------------------------

def quiet_until(now: dt.datetime, zone: str) -> dt.datetime | None:
    """If `now` falls in the quiet hours of `zone`, the UTC moment they end; otherwise None."""
    start = current_app.config["SMS_QUIET_START"]
    end = current_app.config["SMS_QUIET_END"]
    if start == end:
        return None
    local = now.astimezone(ZoneInfo(zone))
    hour = local.hour + local.minute / 60
    quiet = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return None
    day = local.date() + dt.timedelta(days=1) if hour >= end else local.date()
    # The end of the night on the wall clock of that day (a change of the clocks overnight is honoured).
    morning = dt.datetime.combine(day, dt.time(end), tzinfo=ZoneInfo(zone))
    return morning.astimezone(dt.timezone.utc)


def home_timezones(user_ids: list[int]) -> dict[int, str]:
    """The time zone each user lives in: their verified residence's municipality's (one statement)."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(Membership.user_id, Municipality.timezone)
        .join(Neighbourhood, Neighbourhood.id == Membership.neighbourhood_id)
        .join(Municipality, Municipality.id == Neighbourhood.municipality_id)
        .where(Membership.user_id.in_(user_ids), Membership.role == MembershipRole.RESIDENT.value,
               Membership.status == MembershipStatus.VERIFIED.value))
    return dict(rows.all())


# --- senders --------------------------------------------------------------------------------

class SendFailed(Exception):
    """The provider refused or could not be reached; the message is tried again later."""


@dataclass
class Sms:
    to: str
    body: str


Sender = Callable[[Sms], str | None]  # returns the provider's id of the message, if it gives one


def console_sender(message: Sms) -> str | None:
    """Development: print the message instead of sending it."""
    print("-" * 72, file=sys.stdout)
    print(f"SMS to {message.to}:\n{message.body}", file=sys.stdout, flush=True)
    return None


class FortySixElksSender:
    """46elks (https://46elks.com/docs/send-sms): a form-encoded POST with HTTP basic auth
    (API username and password) of `from`, `to` and `message`; the answer is JSON with the
    message's `id`."""

    def __init__(self, url: str, username: str, password: str, sender: str, timeout: float = 15) -> None:
        self.url, self.sender, self.timeout = url, sender, timeout
        self.authorization = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")

    def __call__(self, message: Sms) -> str | None:
        form = urllib.parse.urlencode({"from": self.sender, "to": message.to, "message": message.body})
        request = urllib.request.Request(self.url, data=form.encode("utf-8"), method="POST", headers={
            "Authorization": self.authorization,
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Accept": "application/json",
        })
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                answer = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:200].decode("utf-8", "replace")
            raise SendFailed(f"HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            raise SendFailed(str(error)) from None
        try:
            return str(json.loads(answer).get("id") or "") or None
        except (ValueError, AttributeError):
            raise SendFailed(f"unexpected answer: {answer[:200]!r}") from None


def default_sender() -> Sender:
    config = current_app.config
    if config["SMS_BACKEND"] == "46elks":
        return FortySixElksSender(config["SMS_API_URL"], config["SMS_API_USERNAME"] or "",
                                  config["SMS_API_PASSWORD"] or "", config["SMS_FROM"])
    return console_sender


# --- the worker -----------------------------------------------------------------------------

def send_pending(now: dt.datetime, sender: Sender | None = None, batch: int = 100,
                 max_attempts: int = 5) -> tuple[int, int, int]:
    """Send up to `batch` due messages, each claimed, sent and marked in a transaction of its own.

    Returns (sent, failed, held). Like the mail worker: on PostgreSQL each message is claimed with
    FOR UPDATE SKIP LOCKED, so workers on several servers share the queue; on SQLite a second
    worker skips the pass. A message whose recipient's quiet hours have begun is held: its
    `not_before` is set to the morning and it is left for a later pass."""
    sender = sender or default_sender()
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        return _send_claimed(session, now, sender, batch, max_attempts, lock_rows=True)
    with exclusive("sms-send") as mine:
        return _send_claimed(session, now, sender, batch, max_attempts, lock_rows=False) if mine else (0, 0, 0)


def _send_claimed(session, now: dt.datetime, sender: Sender, batch: int, max_attempts: int,
                  lock_rows: bool) -> tuple[int, int, int]:
    session.commit()
    sent = failed = held = 0
    last_id = 0
    default_zone = current_app.config["DEFAULT_TIMEZONE"]
    for _position in range(batch):
        query = (
            select(OutboxSms)
            .where(OutboxSms.sent_at.is_(None), OutboxSms.attempts < max_attempts, OutboxSms.id > last_id,
                   or_(OutboxSms.not_before.is_(None), OutboxSms.not_before <= now))
            .order_by(OutboxSms.id)
            .limit(1)
        )
        if lock_rows:
            query = query.with_for_update(skip_locked=True)
        message = session.scalar(query)
        if message is None:
            break
        last_id = message.id
        if message.purpose != "code":
            zone = home_timezones([message.user_id]).get(message.user_id, default_zone) if message.user_id \
                else default_zone
            morning = quiet_until(now, zone)
            if morning is not None:
                message.not_before = morning
                held += 1
                session.commit()
                continue
        message.attempts += 1
        try:
            message.provider_id = sender(Sms(to=message.to_number, body=message.body))
        except Exception as exc:  # noqa: BLE001 - any sender failure is recorded and retried
            message.last_error = str(exc)[:500]
            failed += 1
        else:
            message.sent_at = now
            sent += 1
        session.commit()
    session.commit()
    return sent, failed, held
