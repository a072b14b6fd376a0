"""E-mails as sent: text and HTML in the reader's language, links on BASE_URL, and a one-click
unsubscribe (RFC 8058) that works with the link's token alone (issue 11 point 13)."""
from __future__ import annotations

import re

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.accounts.services import request_password_reset
from assembly.db import db, utcnow
from assembly.notifications.models import OutboxEmail
from assembly.notifications.services import notify, notify_all, send_pending, unsubscribe_token
from tests import factories
from tests.support import csrf_token, isolated_app

BASE = "https://meclis.example.org"


def _sent(app) -> list:
    delivered = []
    send_pending(utcnow(), transport=delivered.append)
    return delivered


def _parts(message) -> tuple[str, str]:
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


def test_a_notification_mail_has_text_and_html_in_the_reader_s_language_and_unsubscribe_headers(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "BASE_URL", BASE)
    reader = factories.user(locale="fa", name="Ali <b>")
    notify(reader, "membership_approved", utcnow(), link="/n/moda", neighbourhood="Moda")
    [message] = _sent(ctx)
    assert message.get_content_type() == "multipart/alternative"
    text, html = _parts(message)
    assert "عضویت" in text and "عضویت" in html  # Persian, in both parts
    assert '<html lang="fa" dir="rtl">' in html and "Ali &lt;b&gt;" in html and "Ali <b>" not in html
    assert f'<a href="{BASE}/n/moda">' in html and f"{BASE}/n/moda" in text
    page = re.search(rf"{re.escape(BASE)}/notifications/unsubscribe/[\w.-]+", text).group(0)
    assert f'<a href="{page}">' in html
    assert message["List-Unsubscribe"] == f"<{page}/one-click>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Content-Language"] == "fa"


def test_mail_to_many_gets_each_person_their_own_unsubscribe_link(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "BASE_URL", BASE)
    people = [factories.user(locale=locale) for locale in ("sv", "tr")]
    notify_all(select(User.id).where(User.id.in_([p.id for p in people])), "membership_approved", utcnow(),
               neighbourhood="Moda")
    sent = {message["To"]: message for message in _sent(ctx)}
    for person in people:
        message = sent[person.email]
        token = unsubscribe_token(person.id)
        assert message["List-Unsubscribe"] == f"<{BASE}/notifications/unsubscribe/{token}/one-click>"
        assert message["Content-Language"] == person.locale
        assert f"/notifications/unsubscribe/{token}" in _parts(message)[0]
    assert "medlemskap" in _parts(sent[people[0].email])[0].lower()


def test_account_mail_is_multipart_without_unsubscribe_headers(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "BASE_URL", BASE)
    person = factories.user(locale="sv")
    request_password_reset(person.email, utcnow())
    [message] = _sent(ctx)
    text, html = _parts(message)
    assert message.get_content_type() == "multipart/alternative" and '<html lang="sv" dir="ltr">' in html
    link = re.search(rf"{re.escape(BASE)}/account/reset/\S+", text).group(0)
    assert f'<a href="{link}">' in html
    assert message["List-Unsubscribe"] is None and "unsubscribe" not in text


def test_one_click_unsubscribe_needs_no_csrf_token_but_the_one_click_body(database_url):
    with isolated_app(database_url, WTF_CSRF_ENABLED=True) as app:
        with app.app_context():
            person = factories.user(locale="tr")
            db.session.commit()
            person_id, token = person.id, unsubscribe_token(person.id)
        client = app.test_client()
        url = f"/notifications/unsubscribe/{token}/one-click"
        assert client.post(url, data={}).status_code == 400
        assert client.post(f"/notifications/unsubscribe/{token}x/one-click",
                           data={"List-Unsubscribe": "One-Click"}).status_code == 404
        with app.app_context():
            assert db.session.get(User, person_id).email_mode == "immediate"
        response = client.post(url, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        with app.app_context():
            assert db.session.get(User, person_id).email_mode == "none"
        assert client.get(url).status_code == 302  # someone opening the address gets the page that asks


def test_the_unsubscribe_page_asks_and_its_button_needs_the_csrf_token(database_url):
    with isolated_app(database_url, WTF_CSRF_ENABLED=True) as app:
        with app.app_context():
            person = factories.user(locale="sv")
            person.email_mode = "daily"
            db.session.commit()
            person_id, token = person.id, unsubscribe_token(person.id)
        client = app.test_client()
        url = f"/notifications/unsubscribe/{token}"
        page = client.get(f"{url}?lang=sv").get_data(as_text=True)
        assert "Sluta" in page or "sluta" in page
        assert client.post(url, data={}).status_code == 400  # no CSRF token
        with app.app_context():
            assert db.session.get(User, person_id).email_mode == "daily"
        response = client.post(url, data={"csrf_token": csrf_token(client, url)})
        assert response.status_code == 200
        with app.app_context():
            assert db.session.get(User, person_id).email_mode == "none"
        assert client.get("/notifications/unsubscribe/not-a-token").status_code == 404
