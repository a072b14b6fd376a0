"""Accounts: registration, login, server-side logout, password change and reset, the mail outbox."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from assembly.accounts import services as accounts
from assembly.accounts.models import LoginSession, PasswordResetToken, User
from assembly.db import db, utcnow
from assembly.errors import DomainError, ValidationFailed
from assembly.notifications.models import OutboxEmail
from assembly.notifications.services import queue_email, send_pending
from tests import factories
from tests.support import PASSWORD, login
from tests.support import (
    count,
    field_errors,
    flashed_errors,
    text,
    translated_app,
    translation,
)

NEW_PASSWORD = "a brand new passphrase"
COOKIE = "assembly_session"


def make_user(app, **kwargs) -> User:
    with app.app_context():
        person = factories.user(**kwargs)
        db.session.commit()
        return person


def logged_in(client) -> bool:
    response = client.get("/account/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def copy_of_session(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


# --- registration: services ---------------------------------------------------------------

def test_register_normalises_the_address_and_hashes_the_password(ctx):
    person = accounts.register("  Ayse.Yilmaz@Example.ORG ", "  Ayşe Yılmaz ", PASSWORD, "tr", utcnow())
    assert person.id is not None
    assert person.email == "ayse.yilmaz@example.org"
    assert person.display_name == "Ayşe Yılmaz"
    assert person.locale == "tr"
    assert not person.is_admin
    assert person.password_hash.startswith("$argon2")
    assert PASSWORD not in person.password_hash


def test_register_refuses_an_address_already_in_use_whatever_its_case(ctx):
    accounts.register("ayse@example.org", "Ayşe", PASSWORD, "tr", utcnow())
    with pytest.raises(ValidationFailed) as refused:
        accounts.register("AYSE@example.org", "Another Ayşe", PASSWORD, "en", utcnow())
    assert refused.value.reasons == {"email": ["An account with this e-mail address already exists."]}
    assert count(User, User.email == "ayse@example.org") == 1
    assert count(User, User.display_name == "Another Ayşe") == 0


@pytest.mark.parametrize(("email", "name", "password", "locale", "field", "message"), [
    ("a@example.org", "A", PASSWORD, "xx", "locale", "Choose one of the offered languages."),
    ("a@example.org", "   ", PASSWORD, "en", "display_name", "Please enter a display name."),
    ("a@example.org", "A", "short", "en", "password", "The password must be at least 10 characters long."),
    ("a@example.org", "A", "x" * 201, "en", "password", "The password must be at most 200 characters long."),
    ("longer.name@example.org", "A", "Longer.Name@example.org", "en", "password",
     "The password must not be your e-mail address."),
])
def test_register_service_refuses_broken_rules(ctx, email, name, password, locale, field, message):
    with pytest.raises(ValidationFailed) as refused:
        accounts.register(email, name, password, locale, utcnow())
    assert refused.value.reasons == {field: [message]}
    assert count(User) == 0


def test_sign_up_answers_the_same_for_a_taken_address_and_mails_each_owner(ctx):
    factories.user(email="ayse@example.org", name="Ayşe")
    assert accounts.sign_up(" Ayse@Example.org ", "Someone", PASSWORD, "en", utcnow()) == "ayse@example.org"
    assert accounts.sign_up("New@Example.org", "Newcomer", PASSWORD, "en", utcnow()) == "new@example.org"
    assert accounts.find_user_by_email("ayse@example.org").display_name == "Ayşe"
    assert count(User) == 2
    subjects = {mail.to_address: mail.subject for mail in db.session.scalars(select(OutboxEmail))}
    assert subjects == {"ayse@example.org": "Someone tried to register with your address",
                        "new@example.org": "Your Assembly account"}


def test_sign_up_still_refuses_what_the_form_would(ctx):
    factories.user(email="ayse@example.org")
    with pytest.raises(ValidationFailed) as refused:
        accounts.sign_up("ayse@example.org", "Someone", "short", "en", utcnow())
    assert list(refused.value.reasons) == ["password"]
    assert count(OutboxEmail) == 0


def test_the_mails_of_sign_up_are_in_the_language_of_their_reader(database_url, tmp_path_factory):
    with translated_app(database_url, tmp_path_factory) as app, app.app_context():
        factories.user(email="ayse@example.org", locale="tr")
        accounts.sign_up("ayse@example.org", "Someone", PASSWORD, "en", utcnow())
        accounts.sign_up("nils@example.org", "Nils", PASSWORD, "sv", utcnow())
        mails = {mail.to_address: mail for mail in db.session.scalars(select(OutboxEmail))}
    warning, welcome = mails["ayse@example.org"], mails["nils@example.org"]
    assert warning.subject == translation("tr", "Someone tried to register with your address")
    assert translation("tr", "If it was you, log in:") in warning.body_text
    assert welcome.subject == translation("sv", "Your Assembly account")
    assert translation("sv", "Your Assembly account has been created. Log in with this e-mail address and the "
                             "password you chose:") in welcome.body_text


def test_authenticate_gives_one_message_for_wrong_password_and_unknown_address(ctx):
    person = factories.user(email="emre@example.org")
    assert accounts.authenticate("Emre@Example.org", PASSWORD) is person
    with pytest.raises(DomainError) as wrong_password:
        accounts.authenticate("emre@example.org", "not the password")
    with pytest.raises(DomainError) as unknown:
        accounts.authenticate("nobody@example.org", PASSWORD)
    assert wrong_password.value.message == unknown.value.message == "Wrong e-mail address, phone number or password."


@pytest.mark.parametrize(("email", "name", "field"), [
    ("not-an-address", "Admin", "email"),
    ("admin@", "Admin", "email"),
    ("admin@example.org", "N" * 81, "display_name"),
])
def test_register_service_checks_what_the_form_checks(ctx, email, name, field):
    """The command line registers administrators without a form: the service must hold the same line."""
    with pytest.raises(ValidationFailed) as refused:
        accounts.register(email, name, PASSWORD, "en", utcnow())
    assert list(refused.value.reasons) == [field]
    assert count(User) == 0


def test_the_light_identity_checks_the_login_session_like_the_account_and_loads_the_rest_when_read(ctx):
    person = factories.user(name="Zeynep", locale="tr", admin=True)
    token = accounts.start_login_session(person, utcnow())
    identity = accounts.identity_for_login_token(token, utcnow())
    assert (identity.id, identity.is_admin, identity.locale, identity.display_name) == (person.id, True, "tr", "Zeynep")
    assert identity.is_authenticated and identity.get_id() == token and identity.api_body_id is None
    assert identity.email == person.email  # not in the row: read from the account, loaded once
    assert accounts.account_of(identity) is person and accounts.account_of(person) is person
    accounts.set_user_locale(identity, "sv")  # a change goes to the account
    assert person.locale == "sv"
    later = utcnow() + dt.timedelta(days=15)  # the login session has expired (LOGIN_SESSION_DAYS: 14)
    assert accounts.identity_for_login_token(token, later) is None
    assert accounts.identity_for_login_token("not a token", utcnow()) is None
    accounts.end_login_session(token)
    assert accounts.identity_for_login_token(token, utcnow()) is None


def test_update_profile_refuses_an_overlong_name(ctx):
    person = factories.user(name="Emre")
    with pytest.raises(ValidationFailed) as refused:
        accounts.update_profile(person, "N" * 81, "en")
    assert list(refused.value.reasons) == ["display_name"]


# --- registration: the form -----------------------------------------------------------------

GOOD = {"email": "Zeynep@Example.org", "display_name": "Zeynep Kaya", "password": PASSWORD, "confirm": PASSWORD,
        "locale": "tr"}


def mails_to(app, address: str) -> list[OutboxEmail]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == address)
                                       .order_by(OutboxEmail.id)))


def test_register_creates_the_account_and_welcomes_by_mail(app, client):
    response = client.post("/account/register", data=GOOD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"
    with app.app_context():
        person = accounts.find_user_by_email("zeynep@example.org")
        assert person.display_name == "Zeynep Kaya"
        assert person.locale == "tr"
        assert count(LoginSession) == 0
    [welcome] = mails_to(app, "zeynep@example.org")
    assert "http://localhost/account/login" in welcome.body_text
    assert "http://localhost/account/forgot" in welcome.body_text
    assert not logged_in(client)
    login(client, "zeynep@example.org")
    assert logged_in(client)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"email": ""}, "email", "Please enter your e-mail address."),
    ({"email": "not-an-address"}, "email", "Please enter a valid e-mail address."),
    ({"email": "a" * 60 + "@" + "b" * 190 + ".org"}, "email", "Field cannot be longer than 254 characters."),
    ({"display_name": "   "}, "display_name", "Please enter a display name."),
    ({"display_name": "N" * 81}, "display_name", "Field cannot be longer than 80 characters."),
    ({"password": "short", "confirm": "short"}, "password",
     "The password must be between 10 and 200 characters long."),
    ({"confirm": PASSWORD + "!"}, "confirm", "The two passwords do not match."),
    ({"locale": "xx"}, "locale", "Not a valid choice."),
    ({"password": "zeynep@example.org", "confirm": "zeynep@example.org"}, "password",
     "The password must not be your e-mail address."),
])
def test_register_refusals_keep_the_input_explain_and_write_nothing(app, client, changes, field, message):
    data = {**GOOD, **changes}
    response = client.post("/account/register", data=data)
    assert response.status_code == 400
    assert message in field_errors(response, field)
    page = response.get_data(as_text=True)
    if field != "email":
        assert 'value="Zeynep@Example.org"' in page
    if field != "display_name":
        assert 'value="Zeynep Kaya"' in page
    assert PASSWORD not in page  # passwords are never echoed back
    with app.app_context():
        assert count(User) == 0
        assert count(LoginSession) == 0
    assert not logged_in(client)


def test_register_answers_a_taken_address_as_a_new_one_and_warns_its_owner(app, client):
    """Nobody can use the form to find out whether an address has an account."""
    new = client.post("/account/register", data={**GOOD, "email": "Somebody.New@Example.org", "locale": "en"})
    make_user(app, email="zeynep@example.org", name="The first Zeynep")
    other = app.test_client()
    taken = other.post("/account/register", data={**GOOD, "locale": "en"})
    assert (taken.status_code, taken.headers["Location"]) == (new.status_code, new.headers["Location"]) == (
        302, "/account/login")
    new_page = text(client.get("/account/login")).replace("somebody.new@example.org", "ADDRESS")
    taken_page = text(other.get("/account/login")).replace("zeynep@example.org", "ADDRESS")
    assert "We have sent an e-mail to ADDRESS." in new_page
    assert taken_page == new_page
    with app.app_context():
        assert count(User) == 2
        assert accounts.find_user_by_email("zeynep@example.org").display_name == "The first Zeynep"
        assert count(LoginSession) == 0
    [warning] = mails_to(app, "zeynep@example.org")
    assert warning.subject == "Someone tried to register with your address"
    assert "nothing has been changed" in warning.body_text
    assert "http://localhost/account/login" in warning.body_text
    assert "http://localhost/account/forgot" in warning.body_text
    assert PASSWORD not in warning.body_text


# --- login and logout -------------------------------------------------------------------------

def test_login_with_the_right_password(app, client):
    make_user(app, email="emre@example.org")
    response = client.post("/account/login", data={"email": "EMRE@Example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in(client)


def test_wrong_password_and_unknown_address_look_the_same(app, client):
    make_user(app, email="emre@example.org")
    wrong = client.post("/account/login", data={"email": "emre@example.org", "password": "not the password"})
    unknown = client.post("/account/login", data={"email": "nobody@example.org", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 400
    assert flashed_errors(wrong) == flashed_errors(unknown) == ["Wrong e-mail address, phone number or password."]
    assert (wrong.get_data(as_text=True).replace("emre@example.org", "X")
            == unknown.get_data(as_text=True).replace("nobody@example.org", "X"))
    assert not logged_in(client)
    with app.app_context():
        assert count(LoginSession) == 0


@pytest.mark.parametrize(("target", "expected"), [
    ("/notifications/", "/notifications/"),
    ("//evil.example/phish", "/"),
    ("https://evil.example/phish", "/"),
    ("javascript:alert(1)", "/"),
])
def test_login_only_follows_local_next_links(app, client, target, expected):
    make_user(app, email="emre@example.org")
    response = client.post("/account/login", query_string={"next": target},
                           data={"email": "emre@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


@pytest.mark.parametrize("target", ["/\\evil.example/phish", "/\t/evil.example", "\\\\evil.example"])
def test_login_refuses_next_links_that_browsers_read_as_another_site(app, client, target):
    make_user(app, email="emre@example.org")
    response = client.post("/account/login", query_string={"next": target},
                           data={"email": "emre@example.org", "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location


def test_logout_ends_the_session_on_the_server(app, client):
    make_user(app, email="emre@example.org")
    login(client, "emre@example.org")
    stolen = copy_of_session(app, client)
    assert logged_in(stolen)  # the copy works while the session lives

    assert client.post("/account/logout").status_code == 302
    assert not logged_in(client)
    assert not logged_in(stolen)
    with app.app_context():
        assert count(LoginSession) == 0


def test_logout_also_invalidates_the_remember_me_cookie(app, client):
    make_user(app, email="emre@example.org")
    client.post("/account/login", data={"email": "emre@example.org", "password": PASSWORD, "remember": "y"})
    remembered = client.get_cookie("remember_token").value

    def browser_with_remember_cookie():
        other = app.test_client()
        other.set_cookie("remember_token", remembered)
        return other

    assert logged_in(browser_with_remember_cookie())
    client.post("/account/logout")
    assert not logged_in(browser_with_remember_cookie())


def test_logout_of_one_browser_keeps_the_others(app, client):
    make_user(app, email="emre@example.org")
    phone = app.test_client()
    login(client, "emre@example.org")
    login(phone, "emre@example.org")
    client.post("/account/logout")
    assert logged_in(phone)


# --- password change ------------------------------------------------------------------------

def _change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/", data={
        "password-current_password": current, "password-new_password": new,
        "password-confirm": new if confirm is None else confirm, "password-submit": "1"})


def test_password_change_logs_out_the_other_sessions_but_not_this_one(app, client):
    make_user(app, email="emre@example.org")
    phone = app.test_client()
    login(client, "emre@example.org")
    login(phone, "emre@example.org")
    old_copy = copy_of_session(app, client)

    response = _change_password(client)
    assert response.status_code == 302
    assert logged_in(client)
    assert not logged_in(phone)
    assert not logged_in(old_copy)
    with app.app_context():
        assert count(LoginSession) == 1
        with pytest.raises(DomainError):
            accounts.authenticate("emre@example.org", PASSWORD)
        assert accounts.authenticate("emre@example.org", NEW_PASSWORD).email == "emre@example.org"


@pytest.mark.parametrize(("current", "new", "confirm", "field", "message"), [
    ("not the password", NEW_PASSWORD, None, "password-current_password", "The current password is not correct."),
    (PASSWORD, "short", None, "password-new_password", "The password must be between 10 and 200 characters long."),
    (PASSWORD, NEW_PASSWORD, "something else", "password-confirm", "The two passwords do not match."),
])
def test_password_change_refusals_change_nothing(app, client, current, new, confirm, field, message):
    make_user(app, email="emre@example.org")
    phone = app.test_client()
    login(client, "emre@example.org")
    login(phone, "emre@example.org")
    response = _change_password(client, current, new, confirm)
    assert response.status_code == 400
    assert message in field_errors(response, field)
    assert logged_in(client) and logged_in(phone)
    with app.app_context():
        assert accounts.authenticate("emre@example.org", PASSWORD)


# --- password reset -------------------------------------------------------------------------

def _reset_token(mail: OutboxEmail) -> str:
    found = re.search(r"http://localhost/account/reset/(\S+)", mail.body_text)
    assert found, mail.body_text
    return found.group(1)


def test_password_reset_request_outside_a_request_queues_a_one_time_link(ctx):
    """Services must not depend on a web request (the CLI and workers call them too)."""
    person = factories.user(email="emre@example.org")
    now = utcnow()
    accounts.request_password_reset("Emre@example.org", now)
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == "emre@example.org"))
    assert mail.subject == "Reset your Assembly password"
    token = _reset_token(mail)
    stored = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.user_id == person.id))
    assert stored.token_hash == accounts.hash_token(token) != token  # only a hash is kept
    assert stored.expires_at == now + dt.timedelta(hours=2)


def test_password_reset_link_works_once(app, client):
    make_user(app, email="emre@example.org")
    forgot = client.post("/account/forgot", data={"email": "emre@example.org"})
    assert forgot.status_code == 302
    with app.app_context():
        token = _reset_token(db.session.scalar(select(OutboxEmail)))

    assert client.get(f"/account/reset/{token}").status_code == 200
    done = client.post(f"/account/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert done.headers["Location"] == "/account/login"
    login(client, "emre@example.org", NEW_PASSWORD)

    again = app.test_client()
    assert again.get(f"/account/reset/{token}").status_code == 400
    second = again.post(f"/account/reset/{token}", data={"password": "yet another passphrase",
                                                         "confirm": "yet another passphrase"})
    assert second.status_code == 400
    assert "This password reset link is invalid, used or expired." in text(second)
    with app.app_context():
        assert accounts.authenticate("emre@example.org", NEW_PASSWORD)


def test_password_reset_logs_out_every_session(app, client):
    make_user(app, email="emre@example.org")
    login(client, "emre@example.org")
    with app.test_request_context():
        accounts.request_password_reset("emre@example.org", utcnow())
        token = _reset_token(db.session.scalar(select(OutboxEmail)))
        db.session.commit()
    other = app.test_client()
    other.post(f"/account/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert not logged_in(client)


def test_password_reset_token_expires(ctx):
    factories.user(email="emre@example.org")
    now = utcnow()
    with ctx.test_request_context():
        accounts.request_password_reset("emre@example.org", now)
        token = _reset_token(db.session.scalar(select(OutboxEmail)))
    later = now + dt.timedelta(hours=2, seconds=1)
    assert accounts.reset_token_is_usable(token, now + dt.timedelta(hours=1))
    assert not accounts.reset_token_is_usable(token, later)
    with pytest.raises(DomainError, match="invalid, used or expired"):
        accounts.reset_password(token, NEW_PASSWORD, later)
    assert accounts.authenticate("emre@example.org", PASSWORD)
    # still valid just before the end
    assert accounts.reset_password(token, NEW_PASSWORD, now + dt.timedelta(hours=1)).email == "emre@example.org"


def test_a_new_password_voids_the_other_reset_links(ctx):
    """A reset link that was not used must not outlive a password change or another reset."""
    person = factories.user(email="emre@example.org")
    now = utcnow()
    with ctx.test_request_context():
        for _ in range(3):
            accounts.request_password_reset("emre@example.org", now)
    first, second, third = [_reset_token(m) for m in db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))]
    accounts.reset_password(first, NEW_PASSWORD, now)
    assert not accounts.reset_token_is_usable(second, now)
    with pytest.raises(DomainError):
        accounts.reset_password(second, "an attacker's passphrase", now)
    accounts.change_password(person, NEW_PASSWORD, "yet another passphrase", now)
    with pytest.raises(DomainError):
        accounts.reset_password(third, "an attacker's passphrase", now)
    assert accounts.authenticate("emre@example.org", "yet another passphrase") is person


def test_changing_the_password_voids_an_open_reset_link(ctx):
    person = factories.user(email="emre@example.org")
    now = utcnow()
    with ctx.test_request_context():
        accounts.request_password_reset("emre@example.org", now)
    token = _reset_token(db.session.scalar(select(OutboxEmail)))
    accounts.change_password(person, PASSWORD, NEW_PASSWORD, now)
    assert not accounts.reset_token_is_usable(token, now)


def test_password_reset_refuses_an_unknown_token(ctx):
    with pytest.raises(DomainError):
        accounts.reset_password("made-up-token", NEW_PASSWORD, utcnow())


def test_password_reset_for_an_unknown_address_reveals_nothing(app, client):
    make_user(app, email="emre@example.org")
    known = client.post("/account/forgot", data={"email": "emre@example.org"}, follow_redirects=True)
    unknown = client.post("/account/forgot", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert "If an account uses this address" in text(unknown)
    assert known.get_data() == unknown.get_data()
    with app.app_context():
        assert count(OutboxEmail) == 1
        assert count(OutboxEmail, OutboxEmail.to_address == "nobody@example.org") == 0
        assert count(PasswordResetToken) == 1


def test_password_reset_mail_is_in_the_users_language(database_url, tmp_path_factory):
    with translated_app(database_url, tmp_path_factory) as tapp:
        make_user(tapp, email="emre@example.org", locale="tr")
        tapp.test_client().post("/account/forgot?lang=en", data={"email": "emre@example.org"})
        with tapp.app_context():
            mail = db.session.scalar(select(OutboxEmail))
    expected = translation("tr", "Reset your Assembly password")
    assert expected, "the Turkish catalogue lacks the reset mail's subject"
    assert mail.subject == expected
    assert _reset_token(mail)


# --- the mail worker --------------------------------------------------------------------------

def test_send_pending_sends_each_queued_mail_once(ctx):
    now = utcnow()
    queue_email("a@example.org", "First", "Body one", now)
    queue_email("b@example.org", "Second", "Body two", now)
    delivered = []
    assert send_pending(now, transport=delivered.append) == (2, 0)
    assert [(m["To"], m["Subject"], m.get_body(preferencelist=("plain",)).get_content().strip()) for m in delivered] == [
        ("a@example.org", "First", "Body one"), ("b@example.org", "Second", "Body two")]
    assert all(m["From"] == ctx.config["MAIL_FROM"] for m in delivered)
    mails = list(db.session.scalars(select(OutboxEmail)))
    assert all(m.sent_at == now and m.attempts == 1 and m.last_error is None for m in mails)
    assert send_pending(now, transport=delivered.append) == (0, 0)
    assert len(delivered) == 2


def test_send_pending_records_failures_and_gives_up_after_max_attempts(ctx):
    now = utcnow()
    mail = queue_email("a@example.org", "Subject", "Body", now)

    def broken(_message):
        raise ConnectionRefusedError("smtp server down")

    assert send_pending(now, transport=broken, max_attempts=2) == (0, 1)
    db.session.refresh(mail)
    assert mail.sent_at is None
    assert mail.attempts == 1
    assert "smtp server down" in mail.last_error
    assert send_pending(now, transport=broken, max_attempts=2) == (0, 1)
    assert send_pending(now, transport=broken, max_attempts=2) == (0, 0)  # given up
    db.session.refresh(mail)
    assert mail.attempts == 2


def test_mail_send_command_prints_and_marks_sent(app):
    with app.app_context():
        queue_email("a@example.org", "Hello there", "The body text", utcnow())
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "To: a@example.org" in result.output
    assert "The body text" in result.output
    assert "sent 1, failed 0" in result.output
    with app.app_context():
        assert db.session.scalar(select(OutboxEmail)).sent_at is not None
    again = app.test_cli_runner().invoke(args=["mail", "send"])
    assert "sent 0, failed 0" in again.output

