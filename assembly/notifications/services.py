"""Notifications (in-app, rendered in the reader's language) and the e-mail outbox."""
from __future__ import annotations

import datetime as dt
import re
import smtplib
import sys
from collections.abc import Callable
from email.message import EmailMessage

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup, escape
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import JSON, String, Text, bindparam, func, insert, literal, select, update

from assembly.accounts.models import User
from assembly.config import LOCALES
from assembly.db import UTCDateTime, db
from assembly.i18n import current_locale, format_datetime, ngettext, text_direction, timezone_label
from assembly.notifications.models import Notification, OutboxEmail
from assembly.scheduling import exclusive
from assembly.urls import external_url
from assembly.sms.models import OutboxSms
from assembly.sms.services import SMS_MAX, queue_sms


def _membership_approved(p: dict) -> str:
    return _("Your membership of %(neighbourhood)s has been verified. Welcome!", neighbourhood=p["neighbourhood"])


def _membership_rejected(p: dict) -> str:
    return _("Your request to join %(neighbourhood)s was not approved. Reason: %(reason)s",
             neighbourhood=p["neighbourhood"], reason=p["reason"])


def _membership_revoked(p: dict) -> str:
    return _("Your membership of %(neighbourhood)s has been revoked. Reason: %(reason)s",
             neighbourhood=p["neighbourhood"], reason=p["reason"])


def _appointed_muhtar(p: dict) -> str:
    return _("You have been appointed muhtar of %(neighbourhood)s.", neighbourhood=p["neighbourhood"])


def _appointed_staff(p: dict) -> str:
    return _("You have been added to the staff of %(body)s.", body=p["body"])


def _membership_requested(p: dict) -> str:
    return _("%(name)s asks to join %(neighbourhood)s.", name=p["name"], neighbourhood=p["neighbourhood"])


def _proposal_ready(p: dict) -> str:
    return ngettext("“%(title)s” has %(num)s support and is ready for the agenda.",
                    "“%(title)s” has %(num)s supports and is ready for the agenda.", p["supports"],
                    title=p["title"])


def _proposal_comment(p: dict) -> str:
    return _("%(name)s commented on “%(title)s”.", name=p["name"], title=p["title"])


def _content_hidden(p: dict) -> str:
    return _("Your contribution to “%(title)s” was hidden by moderation. Reason: %(reason)s",
             title=p["title"], reason=p["reason"] or _("several reports, pending review"))


def _content_restored(p: dict) -> str:
    return _("Your contribution to “%(title)s” is visible again. Reason: %(reason)s",
             title=p["title"], reason=p["reason"])


def _local_time(p: dict, key: str) -> str:
    """A time in a notification: in the time zone of the place it is about, which is named,
    since the reader (an e-mail, the notification list) may be anywhere."""
    return _("%(time)s (%(zone)s)", time=format_datetime(p[key], zone=p.get("timezone")),
             zone=timezone_label(p.get("timezone")))


def _assembly_announced(p: dict) -> str:
    text = _("A session of your neighbourhood assembly has been announced: “%(title)s”.", title=p["title"])
    if p.get("meeting_at"):
        text += " " + _("It meets on %(when)s.", when=_local_time(p, "meeting_at"))
    return text


def _voting_open(p: dict) -> str:
    text = _("Voting is open in “%(title)s”.", title=p["title"])
    if p.get("closes_at"):
        text += " " + _("You can vote until %(when)s.", when=_local_time(p, "closes_at"))
    return text


# Kind → text in the reader's language. Kinds whose text needs a domain's words (a proposal's or
# a case's status) are added by that domain with `register_message`, so that this module, which
# every domain uses, uses none of them.
MESSAGES: dict[str, Callable[[dict], str]] = {
    "assembly_announced": _assembly_announced,
    "voting_open": _voting_open,
    "proposal_ready": _proposal_ready,
    "proposal_comment": _proposal_comment,
    "content_hidden": _content_hidden,
    "content_restored": _content_restored,
    "membership_approved": _membership_approved,
    "membership_rejected": _membership_rejected,
    "membership_revoked": _membership_revoked,
    "appointed_muhtar": _appointed_muhtar,
    "appointed_staff": _appointed_staff,
    "membership_requested": _membership_requested,
}


def register_message(kind: str, render: Callable[[dict], str]) -> None:
    MESSAGES[kind] = render


def render_notification(notification: Notification) -> str:
    return MESSAGES[notification.kind](notification.params)


def notify(user, kind: str, now: dt.datetime, link: str | None = None, email: bool = True,
           **params) -> Notification:
    """Store an in-app notification and queue an e-mail, both in the user's language."""
    if kind not in MESSAGES:
        raise ValueError(f"unknown notification kind {kind!r}")
    notification = Notification(user_id=user.id, kind=kind, params=params, link=link, created_at=now)
    db.session.add(notification)
    if email and user.email_mode == "immediate" and user.email:
        with force_locale(user.locale):
            text = MESSAGES[kind](params)
            body = render_template("mail/notification.txt", user=user, text=text, link=link,
                                   unsubscribe=UNSUBSCRIBE_MARK)
            queue_email(user.email, _("Assembly: %(text)s", text=_shorten(text)), body, now, user_id=user.id)
    elif email and user.email_mode == "immediate" and user.phone_only:
        # People without e-mail get the same message by SMS (held at night by the SMS worker).
        with force_locale(user.locale):
            queue_sms(user.phone, _sms_text(MESSAGES[kind](params), link), "notification", now, user_id=user.id)
    db.session.flush()
    return notification


_NAME_MARK = "\x01recipient\x01"  # control characters never survive in user text (text.clean_plain)


def notify_all(recipients, kind: str, now: dt.datetime, link: str | None = None, email: bool = True,
               **params) -> int:
    """`notify` for many users at once, set-based: `recipients` is a SELECT of user ids. One
    INSERT … SELECT stores the notifications, and one per language queues the e-mails of those
    who want them at once (the text rendered once per language, the name put in by the
    database), whatever the number of recipients. Returns how many were notified."""
    if kind not in MESSAGES:
        raise ValueError(f"unknown notification kind {kind!r}")
    chosen = User.id.in_(recipients.scalar_subquery() if hasattr(recipients, "scalar_subquery") else recipients)
    stored = db.session.execute(insert(Notification).from_select(
        ["user_id", "kind", "params", "link", "created_at"],
        select(User.id, literal(kind, String), literal(params, JSON), literal(link, String),
               literal(now, UTCDateTime())).where(chosen))).rowcount
    if email and stored:
        for locale in LOCALES:
            with force_locale(locale):
                text = MESSAGES[kind](params)
                body = render_template("mail/notification.txt", user={"display_name": _NAME_MARK}, text=text,
                                       link=link, unsubscribe=UNSUBSCRIBE_MARK)
                subject = _("Assembly: %(text)s", text=_shorten(text))
                sms = _sms_text(text, link)
            db.session.execute(insert(OutboxEmail).from_select(
                ["to_address", "subject", "body_text", "created_at", "user_id", "locale"],
                select(User.email, literal(subject, String), func.replace(literal(body, Text), _NAME_MARK,
                                                                          User.display_name),
                       literal(now, UTCDateTime()), User.id, literal(locale, String)).where(
                    chosen, User.email_mode == "immediate", User.email.is_not(None), User.locale == locale)))
            db.session.execute(insert(OutboxSms).from_select(
                ["user_id", "to_number", "body", "purpose", "created_at"],
                select(User.id, User.phone, literal(sms, Text), literal("notification", String),
                       literal(now, UTCDateTime())).where(chosen, User.email_mode == "immediate", User.email.is_(None),
                                                          User.phone_confirmed_at.is_not(None),
                                                          User.locale == locale)))
    db.session.flush()
    return stored


def _sms_text(text: str, link: str | None) -> str:
    """A notification as one SMS: the text in the reader's language and the address to read more."""
    address = (current_app.config["BASE_URL"] + link) if link and link.startswith("/") else (link or "")
    room = SMS_MAX - len(address) - 12
    return (_("Assembly: %(text)s", text=_shorten(text, room)) + (f"\n{address}" if address else "")).strip()


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def queue_email(to_address: str, subject: str, body: str, now: dt.datetime, *, user_id: int | None = None,
                locale: str | None = None) -> OutboxEmail:
    """Queue a mail written in `locale` (the current language unless given). Give `user_id` for
    mail someone may stop (notifications, digests): its body's `UNSUBSCRIBE_MARK` becomes their
    unsubscribe link when it is sent, with the List-Unsubscribe headers."""
    mail = OutboxEmail(to_address=to_address, subject=subject, body_text=body, created_at=now, user_id=user_id,
                       locale=locale or current_locale())
    db.session.add(mail)
    db.session.flush()
    return mail


# --- unsubscribing ----------------------------------------------------------------

# Where an e-mail's unsubscribe link goes; put in when the mail is sent, for the person it is for.
UNSUBSCRIBE_MARK = "\x01unsubscribe\x01"


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="assembly.unsubscribe")


def unsubscribe_token(user_id: int) -> str:
    """A signed token naming the person: it does not expire, as links in old e-mails must keep working,
    and it can do nothing but stop their notification e-mails."""
    return _unsubscribe_serializer().dumps(user_id)


def user_of_unsubscribe_token(token: str) -> User | None:
    try:
        user_id = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    return db.session.get(User, user_id) if isinstance(user_id, int) else None


def unsubscribe(user: User) -> bool:
    """Stop all notification e-mails (immediate and daily) to `user`; False if they were stopped already."""
    return db.session.execute(
        update(User).where(User.id == user.id, User.email_mode != "none").values(email_mode="none")
        .execution_options(synchronize_session="fetch")).rowcount == 1


_LINK = re.compile(r"https?://[^\s<>\"]+")


def html_version(text: str, locale: str, subject: str) -> str:
    """The HTML part of a mail: the text's paragraphs, its web addresses as links, in the mail's
    language and direction."""
    def paragraph(block: str) -> Markup:
        escaped = str(escape(block))
        linked = _LINK.sub(lambda found: f'<a href="{found.group(0)}">{found.group(0)}</a>', escaped)
        return Markup(linked.replace("\n", "<br>\n"))

    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]
    return render_template("mail/message.html", lang=locale, dir=text_direction(locale), subject=subject,
                           paragraphs=[paragraph(block) for block in blocks])


def build_message(mail: OutboxEmail) -> EmailMessage:
    """The e-mail as sent: text and HTML, and for mail someone may stop, the one-click unsubscribe
    headers of RFC 8058 with the same link as in the text."""
    text = mail.body_text
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    if mail.user_id is not None and UNSUBSCRIBE_MARK in text:
        token = unsubscribe_token(mail.user_id)
        text = text.replace(UNSUBSCRIBE_MARK, external_url("notifications.unsubscribe", token=token))
        message["List-Unsubscribe"] = f"<{external_url('notifications.unsubscribe_one_click', token=token)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    else:
        text = text.replace(UNSUBSCRIBE_MARK, "")
    message.set_content(text)
    message.add_alternative(html_version(text, mail.locale or "en", mail.subject), subtype="html")
    if mail.locale:  # after the parts: setting content drops the Content-* headers
        message["Content-Language"] = mail.locale
    return message


# Built once: the layout shows the count on every page a logged-in reader opens.
_UNREAD = select(func.count()).select_from(Notification).where(Notification.user_id == bindparam("user_id"),
                                                                 Notification.read_at.is_(None))


def unread_count(user) -> int:
    return db.read(_UNREAD, {"user_id": user.id}).scalar() or 0


def list_for(user, *, before_id: int | None = None, limit: int = 30) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
    if before_id:
        query = query.where(Notification.id < before_id)
    return list(db.session.scalars(query.limit(limit)))


def mark_read(user, now: dt.datetime, notification_id: int | None = None) -> int:
    """Mark one (or all) of the user's notifications read; returns how many changed."""
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    ).values(read_at=now)
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    return db.session.execute(statement).rowcount


def send_digests(now: dt.datetime) -> int:
    """Queue one e-mail per daily-digest user with the notifications of the last day(s).

    Run it once a day (cron: `flask --app wsgi mail digest`); returns how many digests were queued.
    """

    since_default = now - dt.timedelta(days=1)
    users = list(db.session.scalars(select(User).where(User.email_mode == "daily")))
    users = [user for user in users if user.email or user.phone_only]
    queued = 0
    for user in users:
        previous = user.digest_sent_at
        # Claim the person's digest with a conditional update: when two servers run the digest at
        # once, the second one's update waits for the first's and then matches no row.
        claimed = db.session.execute(
            update(User).where(User.id == user.id,
                               User.digest_sent_at.is_(None) if previous is None else User.digest_sent_at == previous)
            .values(digest_sent_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        since = previous or since_default
        items = list(db.session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.created_at > since,
                                       Notification.created_at <= now).order_by(Notification.id)
        ))
        if not items:
            continue
        with force_locale(user.locale):
            texts = [(MESSAGES[n.kind](n.params), n.link) for n in items]
            if user.email:
                body = render_template("mail/digest.txt", user=user, items=texts, unsubscribe=UNSUBSCRIBE_MARK)
                queue_email(user.email, _("Assembly: your daily summary"), body, now, user_id=user.id)
            else:
                queue_sms(user.phone, _sms_digest([text for text, _link in texts]), "digest", now, user_id=user.id)
        queued += 1
    db.session.flush()
    return queued


def _sms_digest(texts: list[str]) -> str:
    """The daily summary as one SMS: how many, the newest first as far as they fit, and where to read all."""
    head = ngettext("Assembly: %(num)s new message since yesterday.", "Assembly: %(num)s new messages since yesterday.",
                    len(texts))
    tail = _("Read them all: %(link)s", link=current_app.config["BASE_URL"] + "/notifications/")
    lines = [head]
    room = SMS_MAX - len(head) - len(tail) - 2
    for text in reversed(texts):
        line = "• " + _shorten(text, 140)
        if len(line) + 1 > room:
            break
        lines.append(line)
        room -= len(line) + 1
    return "\n".join(lines + [tail])


# --- the outbox worker ----------------------------------------------------------

def _console_transport(message: EmailMessage) -> None:
    print("-" * 72, file=sys.stdout)
    print(f"To: {message['To']}\nSubject: {message['Subject']}\n", file=sys.stdout)
    print(message.get_body(preferencelist=("plain",)).get_content(), file=sys.stdout, flush=True)


def _smtp_transport(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def default_transport() -> Callable[[EmailMessage], None]:
    return _smtp_transport if current_app.config.get("SMTP_HOST") else _console_transport


def send_pending(now: dt.datetime, transport: Callable[[EmailMessage], None] | None = None,
                 batch: int = 100, max_attempts: int = 5) -> tuple[int, int]:
    """Send up to `batch` queued e-mails, each claimed, sent and marked in a transaction of its own.

    Returns (sent, failed). Nothing is sent twice by two workers at once: on PostgreSQL each
    mail is claimed with FOR UPDATE SKIP LOCKED (workers on every node share the queue, and the
    row stays locked until it is marked sent); on SQLite a second worker on the machine skips the
    pass (`scheduling.exclusive`). Delivery is at least once: a worker killed between handing a
    mail to the server and committing sends that one mail again.
    """

    transport = transport or default_transport()
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        return _send_claimed(session, now, transport, batch, max_attempts, lock_rows=True)
    with exclusive("mail-send") as mine:
        return _send_claimed(session, now, transport, batch, max_attempts, lock_rows=False) if mine else (0, 0)


def _send_claimed(session, now: dt.datetime, transport: Callable[[EmailMessage], None], batch: int,
                  max_attempts: int, lock_rows: bool) -> tuple[int, int]:
    session.commit()  # start from a fresh transaction: each claim must see the others' commits
    sent = failed = 0
    last_id = 0  # a mail that failed is tried again in a later pass, not again in this one
    for _position in range(batch):
        query = (
            select(OutboxEmail)
            .where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < max_attempts, OutboxEmail.id > last_id)
            .order_by(OutboxEmail.id)
            .limit(1)
        )
        if lock_rows:
            query = query.with_for_update(skip_locked=True)
        mail = session.scalar(query)
        if mail is None:
            break
        last_id = mail.id
        message = build_message(mail)
        mail.attempts += 1
        try:
            transport(message)
        except Exception as exc:  # noqa: BLE001 - any transport failure is recorded and retried
            mail.last_error = str(exc)[:500]
            failed += 1
        else:
            mail.sent_at = now
            sent += 1
        session.commit()  # releases the claim only once the mail is marked sent (or failed)
    session.commit()
    return sent, failed
