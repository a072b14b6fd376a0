"""Accounts with a phone number, the SMS outbox, its 46elks sender (against a real local HTTP
server), quiet hours, codes and their limits, notifications and digests by SMS."""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from assembly import create_app
from assembly.accounts import services as accounts
from assembly.accounts.models import User
from assembly.assisted.services import register_resident
from assembly.db import db
from assembly.errors import DomainError, ValidationFailed
from assembly.notifications.models import Notification, OutboxEmail
from assembly.notifications.services import notify, notify_all, send_digests
from assembly.sms import codes
from assembly.sms.models import OutboxSms, PhoneCode
from assembly.sms.services import (
    FortySixElksSender,
    SendFailed,
    Sms,
    normalise_phone,
    queue_sms,
    quiet_until,
    send_pending,
)
from tests import factories
from tests.support import PASSWORD, app_config, isolated_app, text

ISTANBUL = "Europe/Istanbul"  # UTC+3 all year
NOON = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)  # 12:00 in Istanbul
NIGHT = dt.datetime(2026, 12, 3, 20, 30, tzinfo=dt.UTC)  # 23:30 in Istanbul
MORNING = dt.datetime(2026, 12, 4, 5, 0, tzinfo=dt.UTC)  # 08:00 in Istanbul


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _phone_user(phone: str = "+905321234567", locale: str = "tr", confirmed: bool = True) -> User:
    user = User(email=None, phone=phone, phone_confirmed_at=factories.now() if confirmed else None,
                display_name="Fatma", password_hash=accounts.hash_password(PASSWORD), locale=locale,
                created_at=factories.now(), password_changed_at=factories.now())
    db.session.add(user)
    db.session.flush()
    return user


def _code_in(body: str) -> str:
    return re.search(r"\b(\d{6})\b", body)[1]


# --- phone numbers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, e164", [
    ("0532 123 45 67", "+905321234567"),
    ("+90 (532) 123-45-67", "+905321234567"),
    ("+46 70 123 45 67", "+46701234567"),
])
def test_phone_numbers_are_stored_in_e164(ctx, typed, e164):
    assert normalise_phone(typed) == e164


@pytest.mark.parametrize("typed", ["", "12", "+90 532", "not a number", "+1 555 0100 0100 0100 0100"])
def test_invalid_phone_numbers_are_refused(ctx, typed):
    with pytest.raises(ValidationFailed):
        normalise_phone(typed)


def test_every_account_has_an_e_mail_a_phone_or_a_muhtar(ctx):
    db.session.add(User(email=None, phone=None, display_name="Nobody", password_hash="x", locale="en",
                        created_at=factories.now(), password_changed_at=factories.now()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- the 46elks sender against a local HTTP server --------------------------------------------------

class _FakeProvider(BaseHTTPRequestHandler):
    requests: list[dict] = []
    status = 200

    def do_POST(self):  # noqa: N802 - the http.server protocol
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length).decode("utf-8")
        self.requests.append({"path": self.path, "headers": dict(self.headers), "form": urllib.parse.parse_qs(body)})
        answer = json.dumps({"id": "s70df59406a1b4643b96f3f91e0bfb7b0", "status": "created"}).encode() \
            if self.status == 200 else b'{"error": "bad credentials"}'
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def provider():
    _FakeProvider.requests = []
    _FakeProvider.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/a1/sms", _FakeProvider
    finally:
        server.shutdown()
        server.server_close()


def test_the_46elks_request_is_a_form_encoded_post_with_basic_auth(provider):
    url, fake = provider
    sender = FortySixElksSender(url, "u1234", "secret", "Assembly")
    assert sender(Sms(to="+905321234567", body="Kodunuz: 123456 — çok güzel")) == "s70df59406a1b4643b96f3f91e0bfb7b0"
    (request,) = fake.requests
    assert request["path"] == "/a1/sms"
    assert request["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"u1234:secret").decode()
    assert request["form"] == {"from": ["Assembly"], "to": ["+905321234567"], "message": ["Kodunuz: 123456 — çok güzel"]}


def test_a_refusing_provider_raises_send_failed(provider):
    url, fake = provider
    fake.status = 401
    with pytest.raises(SendFailed, match="401"):
        FortySixElksSender(url, "u", "wrong", "Assembly")(Sms(to="+46701234567", body="x"))


def test_an_unreachable_provider_raises_send_failed():
    with pytest.raises(SendFailed):
        FortySixElksSender("http://127.0.0.1:9/a1/sms", "u", "p", "Assembly", timeout=2)(Sms(to="+46701234567", body="x"))


def test_the_worker_sends_through_the_configured_provider(database_url, provider):
    url, fake = provider
    with isolated_app(database_url, SMS_BACKEND="46elks", SMS_API_URL=url, SMS_API_USERNAME="u1",
                      SMS_API_PASSWORD="p1", SMS_FROM="Muhtarlik") as app, app.app_context():
        user = _phone_user()
        queue_sms(user.phone, "Merhaba", "notification", NOON, user_id=user.id)
        assert send_pending(NOON) == (1, 0, 0)
        message = db.session.scalar(select(OutboxSms))
        assert message.sent_at == NOON and message.provider_id == "s70df59406a1b4643b96f3f91e0bfb7b0"
        assert fake.requests[0]["form"]["from"] == ["Muhtarlik"]
        assert send_pending(NOON) == (0, 0, 0)  # sent once


def test_failures_are_recorded_and_retried_then_given_up(ctx):
    user = _phone_user()
    queue_sms(user.phone, "x", "code", NOON, user_id=user.id)

    def broken(message):
        raise SendFailed("HTTP 503")

    assert send_pending(NOON, sender=broken, max_attempts=2) == (0, 1, 0)
    assert send_pending(NOON, sender=broken, max_attempts=2) == (0, 1, 0)
    assert send_pending(NOON, sender=broken, max_attempts=2) == (0, 0, 0)
    assert db.session.scalar(select(OutboxSms.last_error)) == "HTTP 503"


# --- quiet hours -------------------------------------------------------------------------------

@pytest.mark.parametrize("moment, until", [
    (NOON, None),
    (NIGHT, MORNING),  # 23:30 → 08:00 the next day
    (dt.datetime(2026, 12, 4, 0, 30, tzinfo=dt.UTC), MORNING),  # 03:30 → 08:00 the same day
    (dt.datetime(2026, 12, 3, 17, 59, tzinfo=dt.UTC), None),  # 20:59
    (dt.datetime(2026, 12, 3, 18, 0, tzinfo=dt.UTC), MORNING),  # 21:00
])
def test_quiet_hours_in_the_recipients_time_zone(ctx, moment, until):
    assert quiet_until(moment, ISTANBUL) == until


def test_quiet_hours_follow_the_clock_change(ctx):
    # Stockholm moves to summer time on 29 March 2026: 08:00 that morning is 06:00 UTC, not 07:00.
    night = dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC)
    assert quiet_until(night, "Europe/Stockholm") == dt.datetime(2026, 3, 29, 6, 0, tzinfo=dt.UTC)


def test_notifications_wait_for_the_morning_but_codes_do_not(ctx):
    w_hood = factories.neighbourhood()  # Europe/Istanbul
    user = factories.resident(w_hood, _phone_user())
    # Being verified was itself notified by SMS: that one waits for the morning too.
    welcome = db.session.scalar(select(OutboxSms.body))
    assert "onaylandı" in welcome  # in her language, Turkish
    queue_sms(user.phone, "Bildirim", "notification", NIGHT, user_id=user.id)
    queue_sms(user.phone, "Kod 123456", "code", NIGHT, user_id=user.id)
    sent = []
    assert send_pending(NIGHT, sender=lambda m: sent.append(m.body)) == (1, 0, 2)
    assert sent == ["Kod 123456"]
    held = db.session.scalars(select(OutboxSms).where(OutboxSms.purpose == "notification")).all()
    assert [(m.not_before, m.sent_at) for m in held] == [(MORNING, None)] * 2
    assert send_pending(MORNING - dt.timedelta(minutes=1), sender=lambda m: sent.append(m.body)) == (0, 0, 0)
    assert send_pending(MORNING, sender=lambda m: sent.append(m.body)) == (2, 0, 0)
    assert sent == ["Kod 123456", welcome, "Bildirim"]


# --- notifications and digests -------------------------------------------------------------------

def test_a_phone_only_person_gets_notifications_by_sms_in_their_language(ctx):
    user = _phone_user(locale="sv")
    notify(user, "appointed_muhtar", NOON, neighbourhood="Rinkeby")
    message = db.session.scalar(select(OutboxSms))
    assert message.to_number == user.phone and message.purpose == "notification"
    assert "Rinkeby" in message.body


def test_notifying_many_at_once_sends_sms_to_those_without_e_mail(ctx):
    by_phone = _phone_user("+905551234567", locale="tr")
    by_mail = factories.user(locale="sv")
    unconfirmed = _phone_user("+905559876543", confirmed=False)
    recipients = select(User.id).where(User.id.in_([by_phone.id, by_mail.id, unconfirmed.id]))
    notify_all(recipients, "appointed_muhtar", NOON, link="/n/moda", neighbourhood="Moda")
    assert _count(Notification, Notification.kind == "appointed_muhtar") == 3
    (sms,) = db.session.scalars(select(OutboxSms)).all()
    assert (sms.to_number, sms.user_id) == (by_phone.phone, by_phone.id)
    assert "Moda" in sms.body and sms.body.endswith("http://localhost/n/moda") and "muhtar" in sms.body.lower()
    assert db.session.scalars(select(OutboxEmail.to_address)).all() == [by_mail.email]


def test_the_daily_digest_is_an_sms_summary_for_phone_only_people(ctx):
    user = _phone_user()
    user.email_mode = "daily"
    for name in ("Moda", "Caferağa"):
        notify(user, "appointed_muhtar", NOON - dt.timedelta(hours=2), neighbourhood=name)
    assert _count(OutboxSms) == 0  # daily: nothing at once
    assert send_digests(NOON) == 1
    message = db.session.scalar(select(OutboxSms))
    assert message.purpose == "digest" and "Caferağa" in message.body and "/notifications/" in message.body
    assert len(message.body) <= 480


def test_assisted_residents_without_phone_get_nothing_sent(ctx):
    hood = factories.neighbourhood()
    muhtar = factories.muhtar(hood)
    membership = register_resident(muhtar, NOON, hood, display_name="Hasan", address="Sok. 1", phone=None,
                                   locale="tr")
    notify(membership.user, "appointed_muhtar", NOON, neighbourhood="Moda")
    assert _count(OutboxSms) == 0


# --- codes -----------------------------------------------------------------------------------------

def test_a_code_works_once(ctx):
    user = _phone_user(confirmed=False)
    codes.issue_code(user, "confirm", NOON)
    code = _code_in(db.session.scalar(select(OutboxSms.body)))
    assert codes.check_code(user, "confirm", code, NOON).ok
    assert codes.check_code(user, "confirm", code, NOON).outcome is codes.Outcome.EXPIRED


def test_wrong_codes_are_limited(ctx, app):
    user = _phone_user(confirmed=False)
    codes.issue_code(user, "confirm", NOON)
    code = _code_in(db.session.scalar(select(OutboxSms.body)))
    wrong = "000000" if code != "000000" else "111111"
    limit = app.config["SMS_CODE_MAX_ATTEMPTS"]
    for left in range(limit - 1, 0, -1):
        result = codes.check_code(user, "confirm", wrong, NOON)
        assert (result.outcome, result.attempts_left) == (codes.Outcome.WRONG, left)
    assert codes.check_code(user, "confirm", wrong, NOON).outcome is codes.Outcome.EXPIRED
    assert codes.check_code(user, "confirm", code, NOON).outcome is codes.Outcome.EXPIRED  # dead now


def test_codes_expire(ctx, app):
    user = _phone_user(confirmed=False)
    codes.issue_code(user, "confirm", NOON)
    code = _code_in(db.session.scalar(select(OutboxSms.body)))
    later = NOON + dt.timedelta(minutes=app.config["SMS_CODE_MINUTES"])
    assert codes.check_code(user, "confirm", code, later).outcome is codes.Outcome.EXPIRED


def test_sending_codes_is_rate_limited(ctx, app):
    user = _phone_user(confirmed=False)
    for minute in range(app.config["SMS_CODES_PER_HOUR"]):
        codes.issue_code(user, "confirm", NOON + dt.timedelta(minutes=minute))
    with pytest.raises(DomainError, match="Too many codes"):
        codes.issue_code(user, "confirm", NOON + dt.timedelta(minutes=10))
    codes.issue_code(user, "confirm", NOON + dt.timedelta(minutes=61))  # an hour later
    assert _count(PhoneCode, PhoneCode.used_at.is_(None)) == 1  # a new code voids the older ones


def test_codes_are_sent_in_the_persons_language(ctx):
    user = _phone_user(locale="fa", confirmed=False)
    codes.issue_code(user, "confirm", NOON)
    body = db.session.scalar(select(OutboxSms.body))
    assert re.search("[\u0600-\u06FF]", body) and _code_in(body)  # Persian, with the code


# --- the phone sign-up through the pages -----------------------------------------------------------

def _last_code(app) -> str:
    with app.app_context():
        return _code_in(db.session.scalar(select(OutboxSms.body).order_by(OutboxSms.id.desc())))


def test_phone_sign_up_end_to_end(app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/account/register")
    assert "/account/register/phone" in text(page)
    answer = client.post("/account/register/phone", data={
        "phone": "0532 765 43 21", "display_name": "Zeynep", "password": PASSWORD, "confirm": PASSWORD,
        "locale": "en"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/confirm-phone")
    # Not usable before the number is confirmed.
    refused = client.post("/account/login", data={"email": "+905327654321", "password": PASSWORD})
    assert refused.status_code == 400 and "confirm your phone number" in text(refused)
    code = _last_code(app)
    wrong = "000000" if code != "000000" else "111111"
    again = client.post("/account/confirm-phone", data={"phone": "+90 532 765 43 21", "code": wrong})
    assert again.status_code == 302  # a redirect, so that the wrong guess is committed
    assert "try 4 more times" in text(client.get("/account/confirm-phone"))
    with app.app_context():
        assert db.session.scalar(select(PhoneCode.attempts)) == 1
    done = client.post("/account/confirm-phone", data={"phone": "+90 532 765 43 21", "code": code})
    assert done.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.phone == "+905327654321"))
        assert user.email is None and user.phone_confirmed_at is not None and user.display_name == "Zeynep"
    settings = client.get("/account/")
    assert "+90 532 765 43 21" in text(settings)
    client.post("/account/logout")
    fresh = app.test_client()
    assert fresh.post("/account/login", data={"email": "0532 765 43 21", "password": PASSWORD}).status_code == 302


def test_registering_a_taken_number_warns_its_owner_and_changes_nothing(app, client):
    with app.app_context():
        owner = _phone_user("+905551112233")
        owner_hash = owner.password_hash
        db.session.commit()
    answer = client.post("/account/register/phone", data={
        "phone": "+905551112233", "display_name": "Intruder", "password": PASSWORD + "x",
        "confirm": PASSWORD + "x", "locale": "en"})
    assert answer.status_code == 302  # the same answer as for a new number
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.phone == "+905551112233"))
        assert owner.password_hash == owner_hash and owner.display_name == "Fatma"
        assert "someone tried" in db.session.scalar(select(OutboxSms.body)).lower() or _count(OutboxSms) == 1
        assert _count(PhoneCode) == 0


def test_password_reset_by_sms_code(app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with app.app_context():
        _phone_user("+46701234567", locale="sv")
        db.session.commit()
    asked = client.post("/account/forgot", data={"email": "+46 70 123 45 67"})
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/account/reset/code")
    code = _last_code(app)
    new = PASSWORD + "-new"
    done = client.post("/account/reset/code", data={"code": code, "password": new, "confirm": new})
    assert done.status_code == 302
    assert app.test_client().post("/account/login", data={"email": "+46701234567", "password": new}).status_code == 302


def test_a_reset_for_an_unknown_number_looks_the_same(app, client):
    asked = client.post("/account/forgot", data={"email": "+46 70 999 99 99"})
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/account/reset/code")
    with app.app_context():
        assert _count(OutboxSms) == 0


# --- two workers at once (PostgreSQL: FOR UPDATE SKIP LOCKED) ---------------------------------------

@pytest.mark.postgres
def test_sms_workers_on_two_servers_share_the_queue_without_sending_twice(committed_database):
    apps = [create_app(app_config(committed_database)) for _ in range(2)]
    with apps[0].app_context():
        for n in range(40):
            queue_sms(f"+9053212345{n:02d}", f"Kod {n}", "code", NOON)
        db.session.commit()
    delivered: list[tuple[int, str]] = []
    guard = threading.Lock()
    barrier = threading.Barrier(2, timeout=120)

    def worker(number: int, app) -> int:
        def sender(message: Sms) -> str:
            time.sleep(0.01)
            with guard:
                delivered.append((number, message.to))
            return f"id-{message.to}"

        with app.app_context():
            barrier.wait()
            sent, failed, held = send_pending(NOON, sender=sender)
            db.session.close()
            assert (failed, held) == (0, 0)
            return sent

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = list(pool.map(worker, (1, 2), apps))
    finally:
        for app in apps:
            app.extensions["assembly_db"].engine.dispose()
    assert sum(counts) == len(delivered) == 40
    assert Counter(to for _, to in delivered).most_common(1)[0][1] == 1
    assert all(counts)  # both took part


def test_logging_in_with_a_code_by_sms(app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with app.app_context():
        _phone_user("+905321112233", locale="en")
        db.session.commit()
    asked = client.post("/account/login/code", data={"phone": "0532 111 22 33"})
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/account/login/code/enter")
    with app.app_context():
        body = db.session.scalar(select(OutboxSms.body))
        assert body.startswith("Assembly: your login code is")
    code = _code_in(body)
    wrong = "000000" if code != "000000" else "111111"
    assert client.post("/account/login/code/enter", data={"code": wrong}).status_code == 302
    assert client.get("/account/").status_code == 302  # still logged out
    assert client.post("/account/login/code/enter", data={"code": code}).status_code == 302
    assert client.get("/account/").status_code == 200
    # The code works once.
    client.post("/account/logout")
    with client.session_transaction() as session:
        session["phone_to_login"] = "+905321112233"
    client.post("/account/login/code/enter", data={"code": code})
    assert client.get("/account/").status_code == 302


def test_a_login_code_for_an_unknown_number_looks_the_same(app, client):
    asked = client.post("/account/login/code", data={"phone": "0532 999 88 77"})
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/account/login/code/enter")
    with app.app_context():
        assert _count(OutboxSms) == 0
