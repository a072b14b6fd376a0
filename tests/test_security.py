"""CSRF on every POST, security headers, rate limits, escaping of user text, translated error pages."""
from __future__ import annotations

import os
import re
import uuid

import pytest
from sqlalchemy import select

from assembly.accounts.models import LoginSession
from assembly.db import db, utcnow
from assembly.extensions import limiter
from assembly.neighbourhoods import invitations
from assembly.neighbourhoods.models import BodyStaff
from assembly.notifications.models import Notification
from assembly.notifications.services import notify
from assembly.rate_limits import ProcessMemoryStorage
from tests import factories
from tests.support import PASSWORD, login, skip_or_fail
from tests.support import (
    count,
    csrf_token,
    isolated_app,
    snapshot,
    text,
    translated_app,
    translation,
)

# Blueprints that take POSTs without a CSRF token, each with the reason. They must not accept the
# session cookie instead (checked below), or a foreign site could make a logged-in browser post to them.
CSRF_EXEMPT_BLUEPRINTS: dict[str, str] = {
    "api_v1": "JSON API for body staff systems, authenticated by API tokens",
    "open311": "Open311 GeoReport v2, authenticated by API tokens",
}
# Views exempt one by one, with the reason. Each checks a proof of its own instead.
CSRF_EXEMPT_VIEWS: dict[str, str] = {
    "assembly.notifications.views.unsubscribe_one_click":
        "RFC 8058 one-click unsubscribe: mail programs POST List-Unsubscribe=One-Click to the address in the "
        "List-Unsubscribe header; the signed token in the address names the person and can only stop e-mails",
}

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


# --- CSRF -----------------------------------------------------------------------------------

def _csrf_world(app) -> dict:
    """Real objects for the URL parameters, and a user who is admin, muhtar and resident at once."""
    with app.app_context():
        hood = factories.neighbourhood(slug="moda")
        body = factories.body(hood.municipality)
        boss = factories.muhtar(hood, factories.user(email="boss@example.org", admin=True))
        factories.resident(hood, boss)
        applicant = factories.pending(hood)
        factories.staff(body)
        batch = invitations.issue_invite_codes(boss, utcnow(), hood, 1, 30)
        note = notify(boss, "membership_approved", utcnow(), email=False, neighbourhood="Moda")
        db.session.commit()
        return {"slug": "moda", "code": hood.municipality.code, "membership_id": applicant.id,
                "body_id": body.id, "staff_id": db.session.scalar(select(BodyStaff.id)), "batch": batch,
                "notification_id": note.id, "token": "a-reset-token", "action": "hide"}


def _login_with_token(client) -> None:
    token = csrf_token(client, "/account/login")
    response = client.post("/account/login", data={"email": "boss@example.org", "password": PASSWORD,
                                                   "csrf_token": token})
    assert response.status_code == 302


def _post_rules(app, world, exempt: bool = False):
    """(endpoint, path) of every POST rule, outside the CSRF-exempt blueprints (or only inside them)."""
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if "POST" not in rule.methods or (blueprint in CSRF_EXEMPT_BLUEPRINTS) is not exempt:
            continue
        if f"assembly.{rule.endpoint.replace('.', '.views.', 1)}" in CSRF_EXEMPT_VIEWS:
            continue  # tested in tests/test_mail.py
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(world.get(m.group(1), 1)), rule.rule)
        yield rule.endpoint, path


def test_csrf_exemptions_are_the_listed_ones(app):
    csrf = app.extensions["csrf"]
    assert {blueprint.name for blueprint in csrf._exempt_blueprints} == set(CSRF_EXEMPT_BLUEPRINTS)
    assert set(csrf._exempt_views) == set(CSRF_EXEMPT_VIEWS)


def test_exempt_endpoints_do_not_accept_the_session_cookie(database_url):
    with isolated_app(database_url, WTF_CSRF_ENABLED=True) as app:
        world = _csrf_world(app)
        client = app.test_client()
        _login_with_token(client)
        before = snapshot(app)
        rules = list(_post_rules(app, world, exempt=True))
        assert rules, "no POST endpoints in the exempt blueprints: drop them from CSRF_EXEMPT_BLUEPRINTS"
        for endpoint, path in rules:
            response = client.post(path, json={"status": "received", "note": "x"})
            assert response.status_code in (401, 403), (endpoint, path, response.status_code)
        assert snapshot(app) == before


def test_every_post_without_a_csrf_token_is_refused_and_writes_nothing(database_url):
    with isolated_app(database_url, WTF_CSRF_ENABLED=True) as app:
        world = _csrf_world(app)
        client = app.test_client()
        _login_with_token(client)
        before = snapshot(app)
        rules = list(_post_rules(app, world))
        assert len(rules) >= 25
        for endpoint, path in rules:
            response = client.post(path, data={"reason": "x", "address": "Street 9", "email": "x@example.org",
                                               "password": PASSWORD, "code": "ABCD-EFGH", "count": "3"})
            assert response.status_code == 400, (endpoint, path, response.status_code)
            assert "Bad request" in text(response), endpoint
        assert snapshot(app) == before
        assert client.get("/account/").status_code == 200  # the logout without a token did nothing


def test_a_token_of_another_session_is_refused_and_a_right_one_accepted(database_url):
    with isolated_app(database_url, WTF_CSRF_ENABLED=True) as app:
        _csrf_world(app)
        client, other = app.test_client(), app.test_client()
        _login_with_token(client)
        _login_with_token(other)
        foreign = csrf_token(other, "/")
        assert client.post("/account/logout", data={"csrf_token": foreign}).status_code == 400
        assert client.get("/account/").status_code == 200
        assert client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
        assert client.get("/account/").status_code == 302
        assert other.get("/account/").status_code == 200


def test_login_without_a_token_is_refused(database_url):
    with isolated_app(database_url, WTF_CSRF_ENABLED=True) as app:
        _csrf_world(app)
        client = app.test_client()
        response = client.post("/account/login", data={"email": "boss@example.org", "password": PASSWORD})
        assert response.status_code == 400
        assert client.get("/account/").status_code == 302
        with app.app_context():
            assert count(LoginSession) == 0


# --- headers ---------------------------------------------------------------------------------

def _assert_security_headers(response) -> None:
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_security_headers_on_pages_errors_and_redirects(app, client):
    with app.app_context():
        factories.neighbourhood(slug="moda")
        person = factories.user()
        db.session.commit()
    for response in (client.get("/"), client.get("/n/moda"), client.get("/account/login"),
                     client.get("/no/such/page"), client.get("/admin/"),
                     client.post("/account/login", data={"email": person.email, "password": PASSWORD})):
        _assert_security_headers(response)
    private = client.get("/account/")
    _assert_security_headers(private)
    assert "no-store" in private.headers["Cache-Control"]


def test_pages_carry_no_inline_script_or_style(app, client):
    """The policy forbids inline code, so the pages must not need any."""
    with app.app_context():
        hood = factories.neighbourhood(slug="moda")
        boss = factories.muhtar(hood, factories.user(admin=True))
        factories.pending(hood)
        db.session.commit()
    pages = ["/", "/n/moda", "/account/login", "/account/register", "/account/forgot", "/no/such/page"]
    login(client, boss.email)
    pages += ["/account/", "/n/moda/members", "/n/moda/invites", "/muhtar", "/admin/", "/admin/audit",
              "/admin/n/moda", "/notifications/"]
    for path in pages:
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", page), path


# --- rate limits -----------------------------------------------------------------------------

@pytest.fixture(params=["memory", "redis"])
def limited_app(request, database_url, tmp_path_factory):
    storage = "memory://"
    if request.param == "redis":
        storage = os.environ.get("TEST_REDIS_URL")
        if not storage:
            skip_or_fail("Redis rate-limit tests need TEST_REDIS_URL, e.g. redis://127.0.0.1:6379/15")
        import redis

        try:
            redis.Redis.from_url(storage).ping()
        except redis.RedisError as error:
            skip_or_fail(f"Redis at TEST_REDIS_URL is not reachable: {error}")
    # A key prefix of its own, so that test runs sharing a Redis database do not count each other.
    with translated_app(database_url, tmp_path_factory, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                        RATELIMIT_KEY_PREFIX=f"assembly-test-{uuid.uuid4().hex}",
                        RATELIMIT_LOGIN="3 per minute", RATELIMIT_JOIN="2 per minute") as app:
        with app.app_context():
            factories.user(email="emre@example.org")
            factories.neighbourhood(slug="moda")
            db.session.commit()
        yield app


def _attempt(client, email="emre@example.org", password="not the password", address="10.0.0.1", lang="en"):
    return client.post(f"/account/login?lang={lang}", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_too_many_logins_get_a_translated_429(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert _attempt(client).status_code == 400
    refused = _attempt(client, password=PASSWORD, lang="tr")  # even the right password now waits
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    expected = translation("tr", "Too many attempts") or "Too many attempts"
    assert f"<h1>{expected}</h1>" in refused.get_data(as_text=True)
    assert '<html lang="tr" dir="ltr">' in refused.get_data(as_text=True)
    _assert_security_headers(refused)
    with limited_app.app_context():
        assert count(LoginSession) == 0
    english = _attempt(client)
    assert english.status_code == 429
    assert "<h1>Too many attempts</h1>" in english.get_data(as_text=True)


def test_failed_logins_elsewhere_do_not_lock_the_owner_out(limited_app):
    """Failures count per account at each address (tests/test_rate_limits.py has the details)."""
    client = limited_app.test_client()
    for n in range(3):
        assert _attempt(client, address=f"10.0.1.{n}").status_code == 400
    assert _attempt(client, address="10.0.1.99").status_code == 400
    assert _attempt(client, password=PASSWORD, address="10.0.1.98").status_code == 302


def test_login_attempts_are_counted_per_client(limited_app):
    client = limited_app.test_client()
    for n in range(3):
        assert _attempt(client, email=f"guess{n}@example.org", address="10.0.2.1").status_code == 400
    assert _attempt(client, email="guess9@example.org", address="10.0.2.1").status_code == 429
    assert _attempt(client, email="guess9@example.org", address="10.0.2.2").status_code == 400


def test_invitation_codes_cannot_be_guessed_in_bulk(limited_app):
    client = limited_app.test_client()
    login(client, "emre@example.org")
    for guess in ("AAAA-AAAA", "BBBB-BBBB"):
        assert client.post("/join", data={"code": guess}).status_code == 400
    assert client.post("/join", data={"code": "CCCC-CCCC"}).status_code == 429


def test_join_requests_are_limited(limited_app):
    client = limited_app.test_client()
    login(client, "emre@example.org")
    assert client.post("/n/moda/join", data={"address": "Moda Cd. 1"}).status_code == 302
    assert client.post("/n/moda/join", data={"address": "Moda Cd. 1"}).status_code == 400  # already asked
    assert client.post("/n/moda/join", data={"address": "Moda Cd. 1"}).status_code == 429


def _stored_keys(app) -> list[str]:
    """Every key the rate limiter has written, as Redis or the memory store holds it."""
    storage = limiter.storage
    if isinstance(storage, ProcessMemoryStorage):
        return storage.keys()
    import redis

    found = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"]).scan_iter(
        match=f"*{app.config['RATELIMIT_KEY_PREFIX']}*")
    return [key.decode() for key in found]


def test_rate_limit_keys_hold_no_session_token_address_or_ip(limited_app):
    client = limited_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert client.post("/account/register", data={
        "email": "Secret.Person@Example.org", "display_name": "Secret", "password": PASSWORD, "confirm": PASSWORD,
        "locale": "en"}).status_code == 302
    assert _attempt(client, address="10.9.8.7").status_code == 400
    assert client.post("/account/login", data={"email": "emre@example.org", "password": PASSWORD}).status_code == 302
    with client.session_transaction() as session:
        login_token = session["_user_id"]
    assert client.post("/n/moda/join", data={"address": "Moda Cd. 1"}).status_code == 302
    assert client.post("/n/moda/assemblies/1/vote").status_code == 404
    api_token = "asm_" + "k" * 43
    assert client.get("/api/v1/body", headers={"Authorization": f"Bearer {api_token}"}).status_code == 401

    keys = "\n".join(_stored_keys(limited_app))
    for kind in ("client:", "email:", "person:", "api-token:"):
        assert kind in keys, kind
    for secret in ("secret.person@example.org", "Secret.Person", "emre@example.org", "10.9.8.7", login_token,
                   api_token):
        assert secret not in keys, secret


# --- cookies ---------------------------------------------------------------------------------------

def _set_cookie(response, name: str) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return header


@pytest.mark.parametrize(("env", "secure"), [("testing", False), ("production", True)])
def test_login_cookies_are_lax_http_only_and_secure_in_production(database_url, env, secure):
    with isolated_app(database_url, ASSEMBLY_ENV=env) as app:
        with app.app_context():
            factories.user(email="emre@example.org")
            db.session.commit()
        response = app.test_client().post("/account/login", data={
            "email": "emre@example.org", "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    for name in ("remember_token", "assembly_session"):
        cookie = _set_cookie(response, name)
        assert "SameSite=Lax" in cookie, cookie
        assert "HttpOnly" in cookie, cookie
        assert ("Secure" in cookie) is secure, cookie


# --- escaping of what users type -----------------------------------------------------------

def test_a_hostile_display_name_is_escaped_everywhere(app, client):
    with app.app_context():
        hood = factories.neighbourhood(slug="moda")
        body = factories.body(hood.municipality)
        evil = factories.user(email="evil@example.org", name=EVIL, admin=True)
        factories.muhtar(hood, evil)
        factories.resident(hood, factories.user(name=EVIL))
        applicant = factories.pending(hood, factories.user(name=EVIL))
        factories.staff(body, factories.user(name=EVIL))
        db.session.commit()
        body_id, applicant_id = body.id, applicant.id
    login(client, "evil@example.org")
    pages = ["/account/", "/n/moda", "/n/moda/members", "/admin/n/moda", f"/admin/bodies/{body_id}",
             "/admin/audit", "/notifications/"]
    for path in pages:
        page = client.get(path).get_data(as_text=True)
        assert EVIL not in page, path
        assert ESCAPED in page, path
    approved = client.post(f"/n/moda/members/{applicant_id}/approve", follow_redirects=True)
    assert EVIL not in approved.get_data(as_text=True)
    assert f"{ESCAPED} is now a verified resident." in approved.get_data(as_text=True)

    newcomer = app.test_client()
    assert newcomer.post("/account/register", data={
        "email": "new@example.org", "display_name": EVIL, "password": PASSWORD, "confirm": PASSWORD,
        "locale": "en"}).status_code == 302
    login(newcomer, "new@example.org")
    settings = newcomer.get("/account/").get_data(as_text=True)
    assert EVIL not in settings
    assert ESCAPED in settings


def test_notifications_of_another_person_cannot_be_marked_read(app, client):
    with app.app_context():
        owner = factories.user()
        factories.user(email="other@example.org")
        note = notify(owner, "membership_approved", utcnow(), email=False, neighbourhood="Moda")
        db.session.commit()
        note_id = note.id
    login(client, "other@example.org")
    assert client.post(f"/notifications/{note_id}/read").status_code == 302
    assert client.post("/notifications/read").status_code == 302
    with app.app_context():
        assert db.session.get(Notification, note_id).read_at is None


# --- error pages in the reader's language ------------------------------------------------------

@pytest.fixture
def tapp(database_url, tmp_path_factory):
    with translated_app(database_url, tmp_path_factory) as app:
        with app.app_context():
            factories.user(email="emre@example.org")
            db.session.commit()
        yield app


@pytest.mark.parametrize(("lang", "direction"), [("en", "ltr"), ("tr", "ltr"), ("fa", "rtl"), ("sv", "ltr")])
def test_error_pages_are_translated(tapp, lang, direction):
    client = tapp.test_client()
    cases = [(404, "/no/such/page", "Page not found")]
    login(client, "emre@example.org")
    cases.append((403, "/admin/", "Not allowed"))
    for status, path, heading in cases:
        response = client.get(f"{path}?lang={lang}")
        assert response.status_code == status
        page = response.get_data(as_text=True)
        assert f'<html lang="{lang}" dir="{direction}">' in page
        expected = (translation(lang, heading) if lang != "en" else None) or heading
        assert f"<h1>{expected}</h1>" in page, (lang, path)
