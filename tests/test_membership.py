"""Verified membership: requests, the muhtar's decisions, one residence at a time, invitation codes."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from assembly import permissions
from assembly.audit.models import AuditEvent
from assembly.db import db, utcnow
from assembly.errors import (
    DomainError,
    InvalidTransition,
    NotAllowed,
    NotFound,
    ValidationFailed,
)
from assembly.neighbourhoods import directory, invitations, residents
from assembly.neighbourhoods.models import InviteCode, Membership, Neighbourhood
from assembly.notifications.models import Notification, OutboxEmail
from tests import factories
from tests.support import login
from tests.support import (
    count,
    field_errors,
    flashed_errors,
    text,
    translated_app,
    translation,
)


def recount(neighbourhood: Neighbourhood) -> int:
    return db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.neighbourhood_id == neighbourhood.id, Membership.role == "resident",
        Membership.status == "verified"))


def assert_counter_true(neighbourhood: Neighbourhood, expected: int) -> None:
    db.session.refresh(neighbourhood)
    assert neighbourhood.verified_resident_count == recount(neighbourhood) == expected


def status_of(membership_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Membership, membership_id).status


@pytest.fixture
def two_hoods(app):
    """Two neighbourhoods with a muhtar each, an applicant waiting in A and a resident of B."""
    with app.app_context():
        a = factories.neighbourhood(slug="moda")
        b = factories.neighbourhood(slug="caferaga")
        ids = {
            "a": a.id, "b": b.id,
            "muhtar_a": factories.muhtar(a, factories.user(email="muhtar-a@example.org")).email,
            "muhtar_b": factories.muhtar(b, factories.user(email="muhtar-b@example.org")).email,
        }
        applicant = factories.user(email="applicant@example.org", name="Applicant")
        ids["pending_a"] = factories.pending(a, applicant).id
        resident_b = factories.resident(b, factories.user(email="resident-b@example.org", name="Resident B"))
        ids["resident_b"] = directory.current_membership(resident_b).id
        db.session.commit()
    return ids


# --- asking to join ---------------------------------------------------------------------------

def test_request_to_join_waits_for_the_muhtar_who_is_notified(ctx):
    hood = factories.neighbourhood()
    boss = factories.muhtar(hood)
    person = factories.user(name="Deniz")
    membership = residents.request_membership(person, utcnow(), hood, "  Moda Cd. 12  ")
    assert (membership.status, membership.role, membership.address) == ("pending", "resident", "Moda Cd. 12")
    assert membership.verified_at is None
    assert not permissions.can(person, "act_as_resident", hood)
    note = db.session.scalar(select(Notification).where(Notification.user_id == boss.id,
                                                        Notification.kind == "membership_requested"))
    assert note.params["name"] == "Deniz"
    assert hood.verified_resident_count == 0


@pytest.mark.parametrize(("address", "message"), [
    ("", "Please give your address in the neighbourhood."),
    ("    ", "Please give your address in the neighbourhood."),
    ("x" * 201, "The address may be at most 200 characters long."),
])
def test_request_to_join_needs_an_address_of_reasonable_length(ctx, address, message):
    hood = factories.neighbourhood()
    person = factories.user()
    with pytest.raises(ValidationFailed) as refused:
        residents.request_membership(person, utcnow(), hood, address)
    assert refused.value.reasons == {"address": [message]}
    assert count(Membership, Membership.user_id == person.id) == 0


@pytest.mark.parametrize(("address", "message"), [
    ("", "Please give your address in the neighbourhood."),
    ("x" * 201, "Field cannot be longer than 200 characters."),
])
def test_join_form_refusals_keep_the_input_and_write_nothing(app, client, address, message):
    with app.app_context():
        factories.neighbourhood(slug="moda")
        person = factories.user()
        db.session.commit()
    login(client, person.email)
    response = client.post("/n/moda/join", data={"address": address})
    assert response.status_code == 400
    assert message in field_errors(response, "address")
    if address:
        assert f'value="{address}"' in response.get_data(as_text=True)
    with app.app_context():
        assert count(Membership) == 0


def test_join_form_sends_the_request(app, client):
    with app.app_context():
        factories.neighbourhood(slug="moda")
        person = factories.user()
        db.session.commit()
    login(client, person.email)
    response = client.post("/n/moda/join", data={"address": "Moda Cd. 12"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Your request has been sent to the muhtar." in text(response)
    assert "Your request is waiting for the muhtar's decision." in text(response)
    with app.app_context():
        assert db.session.scalar(select(Membership.status).where(Membership.user_id == person.id)) == "pending"


def test_joining_needs_a_login(app, client):
    with app.app_context():
        factories.neighbourhood(slug="moda")
        db.session.commit()
    response = client.post("/n/moda/join", data={"address": "Moda Cd. 12"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")
    with app.app_context():
        assert count(Membership) == 0


# --- the muhtar's decisions ----------------------------------------------------------------------

def test_muhtar_approves_and_the_user_is_notified(app, client, two_hoods):
    login(client, two_hoods["muhtar_a"])
    assert "Street 2" in text(client.get("/n/moda/members"))
    response = client.post(f"/n/moda/members/{two_hoods['pending_a']}/approve")
    assert response.status_code == 302
    with app.app_context():
        membership = db.session.get(Membership, two_hoods["pending_a"])
        hood = db.session.get(Neighbourhood, two_hoods["a"])
        assert membership.status == "verified"
        assert membership.verified_at is not None
        assert membership.verified_by.email == two_hoods["muhtar_a"]
        assert_counter_true(hood, 1)
        assert permissions.can(membership.user, "act_as_resident", hood)
        note = db.session.scalar(select(Notification).where(Notification.user_id == membership.user_id))
        assert note.kind == "membership_approved"
        mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == "applicant@example.org"))
        assert "has been verified" in mail.body_text
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "membership.approve",
                                                           AuditEvent.object_id == membership.id))
        assert (event.actor_id, event.neighbourhood_id) == (membership.verified_by_id, hood.id)


def test_approval_mail_is_in_the_applicants_language(database_url, tmp_path_factory):
    with translated_app(database_url, tmp_path_factory) as tapp, tapp.app_context():
        hood = factories.neighbourhood(locale="tr")
        boss = factories.muhtar(hood, factories.user(locale="en"))
        turkish = factories.user(email="tr@example.org", locale="tr")
        english = factories.user(email="en@example.org", locale="en")
        for person in (turkish, english):
            membership = residents.request_membership(person, utcnow(), hood, "Moda Cd. 1")
            residents.approve_membership(boss, utcnow(), hood, membership.id)
        mails = {m.to_address: m for m in db.session.scalars(select(OutboxEmail))}
        name = hood.names["tr"]
    english_text = f"Your membership of {name} has been verified. Welcome!"
    turkish_text = translation("tr", "Your membership of %(neighbourhood)s has been verified. Welcome!")
    turkish_subject = translation("tr", "Assembly: %(text)s")
    assert turkish_text and turkish_subject, "the Turkish catalogue lacks the approval message"
    turkish_text %= {"neighbourhood": name}
    assert mails["tr@example.org"].subject == turkish_subject % {"text": turkish_text}
    assert turkish_text in mails["tr@example.org"].body_text
    assert english_text not in mails["tr@example.org"].body_text
    assert mails["en@example.org"].subject == f"Assembly: {english_text}"


def test_muhtar_rejects_with_a_reason(app, client, two_hoods):
    login(client, two_hoods["muhtar_a"])
    response = client.post(f"/n/moda/members/{two_hoods['pending_a']}/reject", data={"reason": "Not at this address"})
    assert response.status_code == 302
    with app.app_context():
        membership = db.session.get(Membership, two_hoods["pending_a"])
        assert (membership.status, membership.reason) == ("rejected", "Not at this address")
        assert membership.decided_by_id is not None
        note = db.session.scalar(select(Notification).where(Notification.user_id == membership.user_id))
        assert (note.kind, note.params["reason"]) == ("membership_rejected", "Not at this address")
        assert count(OutboxEmail, OutboxEmail.to_address == "applicant@example.org") == 1
        assert_counter_true(db.session.get(Neighbourhood, two_hoods["a"]), 0)


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejecting_needs_a_reason(app, client, two_hoods, reason):
    login(client, two_hoods["muhtar_a"])
    response = client.post(f"/n/moda/members/{two_hoods['pending_a']}/reject", data={"reason": reason})
    assert response.status_code == 400
    assert "Please give a reason." in text(response)
    with app.app_context():
        assert status_of(two_hoods["pending_a"]) == "pending"
        assert count(Notification, Notification.kind == "membership_rejected") == 0


def test_reject_service_needs_a_reason(ctx):
    hood = factories.neighbourhood()
    boss = factories.muhtar(hood)
    membership = factories.pending(hood)
    for reason in ("", "  ", "x" * 501):
        with pytest.raises(ValidationFailed) as refused:
            residents.reject_membership(boss, utcnow(), hood, membership.id, reason)
        assert list(refused.value.reasons) == ["reason"]
    assert status_of(membership.id) == "pending"


def test_muhtar_revokes_with_a_reason(app, client, two_hoods):
    login(client, two_hoods["muhtar_b"])
    refused = client.post(f"/n/caferaga/members/{two_hoods['resident_b']}/revoke", data={"reason": ""})
    assert refused.status_code == 400
    assert "Please give a reason." in text(refused)
    with app.app_context():
        assert status_of(two_hoods["resident_b"]) == "verified"
    response = client.post(f"/n/caferaga/members/{two_hoods['resident_b']}/revoke", data={"reason": "Moved away"})
    assert response.status_code == 302
    with app.app_context():
        membership = db.session.get(Membership, two_hoods["resident_b"])
        assert (membership.status, membership.reason) == ("revoked", "Moved away")
        assert_counter_true(db.session.get(Neighbourhood, two_hoods["b"]), 0)
        assert not permissions.can(membership.user, "act_as_resident", membership.neighbourhood)
        note = db.session.scalar(select(Notification).where(Notification.kind == "membership_revoked"))
        assert note.user_id == membership.user_id
        assert count(AuditEvent, AuditEvent.action == "membership.revoke") == 1


def test_a_decision_cannot_be_taken_twice(ctx):
    hood = factories.neighbourhood()
    boss = factories.muhtar(hood)
    membership = factories.pending(hood)
    residents.approve_membership(boss, utcnow(), hood, membership.id)
    with pytest.raises(InvalidTransition):
        residents.approve_membership(boss, utcnow(), hood, membership.id)
    with pytest.raises(InvalidTransition):
        residents.reject_membership(boss, utcnow(), hood, membership.id, "too late")
    assert_counter_true(hood, 1)


def test_approving_twice_through_the_desk_shows_a_message(app, client, two_hoods):
    login(client, two_hoods["muhtar_a"])
    client.post(f"/n/moda/members/{two_hoods['pending_a']}/approve")
    again = client.post(f"/n/moda/members/{two_hoods['pending_a']}/approve")
    assert again.status_code == 400
    assert "This request has already been decided." in flashed_errors(again)
    with app.app_context():
        assert_counter_true(db.session.get(Neighbourhood, two_hoods["a"]), 1)


def test_counter_stays_equal_to_a_recount(ctx):
    hood = factories.neighbourhood()
    other = factories.neighbourhood()
    boss = factories.muhtar(hood)
    people = [factories.user() for _ in range(5)]
    now = utcnow()
    requests = [residents.request_membership(p, now, hood, f"Street {i}") for i, p in enumerate(people[:4])]
    assert_counter_true(hood, 0)
    residents.approve_membership(boss, now, hood, requests[0].id)
    residents.approve_membership(boss, now, hood, requests[1].id)
    assert_counter_true(hood, 2)
    residents.reject_membership(boss, now, hood, requests[2].id, "unknown address")
    residents.withdraw_request(people[3], now)
    assert_counter_true(hood, 2)
    batch = invitations.issue_invite_codes(boss, now, hood, 1, 30)
    invitations.redeem_invite(people[4], now, invitations.invite_batch(boss, hood, batch)[0].code)
    assert_counter_true(hood, 3)
    residents.revoke_membership(boss, now, hood, requests[0].id, "moved away")
    assert_counter_true(hood, 2)
    residents.leave_neighbourhood(people[1], now)
    assert_counter_true(hood, 1)
    residents.request_membership(people[1], now, other, "Elsewhere 1")
    assert_counter_true(hood, 1)
    assert_counter_true(other, 0)


# --- one residence at a time -------------------------------------------------------------------

def test_a_second_request_is_refused(ctx):
    a, b = factories.neighbourhood(), factories.neighbourhood()
    person = factories.user()
    residents.request_membership(person, utcnow(), a, "Street 1")
    with pytest.raises(DomainError, match="already a resident of a neighbourhood"):
        residents.request_membership(person, utcnow(), b, "Street 2")
    factories.muhtar(b)
    with pytest.raises(DomainError, match="already a resident of a neighbourhood"):
        residents.request_membership(person, utcnow(), a, "Street 1 again")
    assert count(Membership, Membership.user_id == person.id) == 1


def test_a_resident_cannot_ask_to_join_another_neighbourhood(app, client, two_hoods):
    login(client, "resident-b@example.org")
    response = client.post("/n/moda/join", data={"address": "Moda Cd. 5"})
    assert response.status_code == 400
    assert any("already a resident of a neighbourhood" in m for m in flashed_errors(response))
    with app.app_context():
        assert count(Membership, Membership.neighbourhood_id == two_hoods["a"], Membership.role == "resident") == 1


@pytest.mark.parametrize("statuses", [("pending", "pending"), ("verified", "pending"), ("verified", "verified")])
def test_the_database_holds_one_residence_even_without_the_service(ctx, statuses):
    a, b = factories.neighbourhood(), factories.neighbourhood()
    person = factories.user()
    db.session.add(Membership(user_id=person.id, neighbourhood_id=a.id, role="resident", status=statuses[0],
                              requested_at=utcnow()))
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Membership(user_id=person.id, neighbourhood_id=b.id, role="resident", status=statuses[1],
                                  requested_at=utcnow()))
    assert count(Membership, Membership.user_id == person.id) == 1


def test_the_index_allows_old_memberships_and_appointments_beside_a_residence(ctx):
    a, b = factories.neighbourhood(), factories.neighbourhood()
    person = factories.user()
    for status in ("rejected", "revoked", "revoked"):
        db.session.add(Membership(user_id=person.id, neighbourhood_id=a.id, role="resident", status=status,
                                  requested_at=utcnow()))
    db.session.add(Membership(user_id=person.id, neighbourhood_id=a.id, role="muhtar", status="verified",
                              requested_at=utcnow()))
    db.session.add(Membership(user_id=person.id, neighbourhood_id=b.id, role="resident", status="verified",
                              requested_at=utcnow()))
    db.session.flush()
    assert count(Membership, Membership.user_id == person.id) == 5


# --- withdraw and leave --------------------------------------------------------------------------

def test_withdraw_a_request_then_ask_elsewhere(app, client, two_hoods):
    login(client, "applicant@example.org")
    response = client.post("/membership/withdraw", follow_redirects=True)
    assert "Your request has been withdrawn." in text(response)
    with app.app_context():
        assert status_of(two_hoods["pending_a"]) == "rejected"
        assert db.session.get(Membership, two_hoods["pending_a"]).reason == "withdrawn"
    assert client.post("/n/caferaga/join", data={"address": "Caferağa Sk. 3"}).status_code == 302


def test_withdraw_without_a_request_explains(app, client, two_hoods):
    login(client, "resident-b@example.org")
    response = client.post("/membership/withdraw", follow_redirects=True)
    assert "You have no open request to withdraw." in text(response)
    with app.app_context():
        assert status_of(two_hoods["resident_b"]) == "verified"


def test_leave_the_neighbourhood(app, client, two_hoods):
    login(client, "resident-b@example.org")
    response = client.post("/membership/leave", follow_redirects=True)
    assert "You are no longer a resident of the neighbourhood." in text(response)
    with app.app_context():
        membership = db.session.get(Membership, two_hoods["resident_b"])
        assert (membership.status, membership.reason) == ("revoked", "left")
        assert_counter_true(db.session.get(Neighbourhood, two_hoods["b"]), 0)
    assert client.post("/n/moda/join", data={"address": "Moda Cd. 7"}).status_code == 302


def test_leave_without_a_residence_explains(app, client, two_hoods):
    login(client, "applicant@example.org")
    response = client.post("/membership/leave", follow_redirects=True)
    assert "You are not a resident of any neighbourhood." in text(response)
    with app.app_context():
        assert status_of(two_hoods["pending_a"]) == "pending"


# --- invitation codes --------------------------------------------------------------------------

CODE = re.compile(r"^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$")


def test_issue_a_batch_of_codes(ctx):
    hood = factories.neighbourhood()
    boss = factories.muhtar(hood)
    now = utcnow()
    batch = invitations.issue_invite_codes(boss, now, hood, 25, 30)
    codes = invitations.invite_batch(boss, hood, batch)
    assert len(codes) == len({c.code for c in codes}) == 25
    assert all(CODE.match(c.code) for c in codes)
    assert all(c.expires_at == now + dt.timedelta(days=30) and c.used_at is None for c in codes)
    assert invitations.invite_batches(boss, hood)[0][3:] == (25, 0)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invites.issue"))
    assert event.detail["count"] == 25


@pytest.mark.parametrize(("number", "days", "field"), [(0, 30, "count"), (501, 30, "count"), (-1, 30, "count"),
                                                     (10, 0, "valid_days"), (10, 366, "valid_days")])
def test_batch_limits(ctx, number, days, field):
    hood = factories.neighbourhood()
    boss = factories.muhtar(hood)
    with pytest.raises(ValidationFailed) as refused:
        invitations.issue_invite_codes(boss, utcnow(), hood, number, days)
    assert list(refused.value.reasons) == [field]
    assert count(InviteCode) == 0


def test_only_the_muhtar_of_the_neighbourhood_issues_codes(ctx):
    a, b = factories.neighbourhood(), factories.neighbourhood()
    muhtar_b = factories.muhtar(b)
    resident_a = factories.resident(a)
    for person in (muhtar_b, resident_a):
        with pytest.raises(NotAllowed):
            invitations.issue_invite_codes(person, utcnow(), a, 5, 30)
    assert count(InviteCode) == 0


def test_invites_page_creates_codes_and_prints_letters(app, client, two_hoods):
    login(client, two_hoods["muhtar_a"])
    assert client.get("/n/moda/invites").status_code == 200
    response = client.post("/n/moda/invites", data={"count": "3", "valid_days": "30"})
    assert response.status_code == 302
    letters = client.get(response.headers["Location"] + "?language=en")  # Turkish otherwise, as the neighbourhood
    assert letters.status_code == 200
    with app.app_context():
        codes = list(db.session.scalars(select(InviteCode.code).where(InviteCode.neighbourhood_id == two_hoods["a"])))
    assert len(codes) == 3
    page = text(letters)
    assert all(code in page for code in codes)
    assert page.count("Enter this one-time code:") == 3
    assert "http://localhost/join" in page


def test_letters_carry_the_public_address_whatever_host_the_muhtar_used(app, client, two_hoods):
    """Printed letters must point at BASE_URL, not at the host name of the request (an internal one
    behind a proxy, or whatever a client sent)."""
    app.config["BASE_URL"] = "https://assembly.example.org"
    try:
        login(client, two_hoods["muhtar_a"])
        created = client.post("/n/moda/invites", data={"count": "1", "valid_days": "30"})
        letters = client.get(created.headers["Location"] + "?language=en")  # the request comes in on http://localhost
        assert letters.status_code == 200
    finally:
        app.config["BASE_URL"] = "http://localhost"
    assert "Open https://assembly.example.org/join and create an account." in text(letters)
    assert "localhost" not in text(letters)


@pytest.mark.parametrize(("number", "days"), [("0", "30"), ("501", "30"), ("ten", "30"), ("5", "400")])
def test_invites_page_refuses_bad_numbers(app, client, two_hoods, number, days):
    login(client, two_hoods["muhtar_a"])
    response = client.post("/n/moda/invites", data={"count": number, "valid_days": days})
    assert response.status_code == 400
    assert f'value="{number}"' in response.get_data(as_text=True)
    assert field_errors(response, "count") or field_errors(response, "valid_days")
    with app.app_context():
        assert count(InviteCode) == 0


def _codes(app, two_hoods, number=1, days=30, now=None) -> list[str]:
    with app.app_context():
        hood = db.session.get(Neighbourhood, two_hoods["a"])
        boss = directory.muhtars_of(hood)[0].user
        batch = invitations.issue_invite_codes(boss, now or utcnow(), hood, number, days)
        codes = [c.code for c in invitations.invite_batch(boss, hood, batch)]
        db.session.commit()
        return codes


def _newcomer(app, email="newcomer@example.org") -> str:
    with app.app_context():
        factories.user(email=email)
        db.session.commit()
    return email


def test_redeeming_a_code_makes_a_verified_resident_at_once(app, client, two_hoods):
    [code] = _codes(app, two_hoods)
    login(client, _newcomer(app))
    response = client.post("/join", data={"code": code})
    assert response.status_code == 302
    assert response.headers["Location"] == "/n/moda"
    with app.app_context():
        membership = db.session.scalar(select(Membership).join(Membership.user).where(
            Membership.user.has(email="newcomer@example.org")))
        assert (membership.status, membership.neighbourhood_id) == ("verified", two_hoods["a"])
        invite = db.session.scalar(select(InviteCode).where(InviteCode.code == code))
        assert membership.invite_code_id == invite.id
        assert (invite.used_by_id, invite.used_at is not None) == (membership.user_id, True)
        assert_counter_true(db.session.get(Neighbourhood, two_hoods["a"]), 1)


@pytest.mark.parametrize("typed", [
    lambda code: code.lower(),
    lambda code: code.replace("-", ""),
    lambda code: f"  {code[:4].lower()} {code[5:]} ",
])
def test_codes_are_normalised(app, client, two_hoods, typed):
    [code] = _codes(app, two_hoods)
    login(client, _newcomer(app))
    assert client.post("/join", data={"code": typed(code)}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(InviteCode.used_at).where(InviteCode.code == code)) is not None


def test_normalise_code():
    assert invitations.normalise_code("abcd-efgh") == "ABCD-EFGH"
    assert invitations.normalise_code("ABCDEFGH") == "ABCD-EFGH"
    assert invitations.normalise_code(" ab cd-ef gh ") == "ABCD-EFGH"
    assert invitations.normalise_code("") == ""


def _refused_code(app, client, code, message):
    login(client, _newcomer(app, "late@example.org"))
    response = client.post("/join", data={"code": code})
    assert response.status_code == 400
    assert field_errors(response, "code") == [message]
    assert f'value="{code}"' in response.get_data(as_text=True)
    with app.app_context():
        assert count(Membership, Membership.user.has(email="late@example.org")) == 0


def test_a_used_code_is_refused(app, client, two_hoods):
    [code] = _codes(app, two_hoods)
    first = app.test_client()
    login(first, _newcomer(app))
    assert first.post("/join", data={"code": code}).status_code == 302
    _refused_code(app, client, code, "This code has already been used.")
    with app.app_context():
        assert_counter_true(db.session.get(Neighbourhood, two_hoods["a"]), 1)


def test_an_expired_code_is_refused(app, client, two_hoods):
    [code] = _codes(app, two_hoods, days=30, now=utcnow() - dt.timedelta(days=30, minutes=1))
    _refused_code(app, client, code, "This code has expired. Ask your muhtar for a new one.")


@pytest.mark.parametrize("code", ["ZZZZ-ZZZZ", "nonsense", "1"])
def test_an_unknown_code_is_refused(app, client, two_hoods, code):
    _codes(app, two_hoods)
    _refused_code(app, client, code, "This code is not valid. Check it against your letter.")


def test_an_empty_code_is_refused(app, client, two_hoods):
    login(client, _newcomer(app))
    response = client.post("/join", data={"code": ""})
    assert response.status_code == 400
    assert field_errors(response, "code") == ["Please enter the code from your letter."]


def test_a_resident_cannot_use_a_code_and_the_code_stays_unused(app, client, two_hoods):
    [code] = _codes(app, two_hoods)
    login(client, "resident-b@example.org")
    response = client.post("/join", data={"code": code})
    assert response.status_code == 400
    assert any("already a resident of a neighbourhood" in m for m in flashed_errors(response))
    with app.app_context():
        assert db.session.scalar(select(InviteCode.used_at).where(InviteCode.code == code)) is None
        assert_counter_true(db.session.get(Neighbourhood, two_hoods["a"]), 0)


def test_redeem_service_checks_expiry_against_the_given_time(ctx):
    hood = factories.neighbourhood()
    boss = factories.muhtar(hood)
    now = utcnow()
    code = invitations.invite_batch(boss, hood, invitations.issue_invite_codes(boss, now, hood, 1, 10))[0].code
    with pytest.raises(ValidationFailed, match="expired"):
        invitations.redeem_invite(factories.user(), now + dt.timedelta(days=10), code)
    assert invitations.redeem_invite(factories.user(), now + dt.timedelta(days=9), code).status == "verified"


# --- other neighbourhoods: 403 and 404 ----------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("get", "/n/moda/members"),
    ("post", "/n/moda/members/{pending_a}/approve"),
    ("post", "/n/moda/members/{pending_a}/reject"),
    ("post", "/n/moda/members/{pending_a}/revoke"),
    ("get", "/n/moda/invites"),
    ("post", "/n/moda/invites"),
])
def test_a_muhtar_of_another_neighbourhood_is_refused(app, client, two_hoods, method, path):
    login(client, two_hoods["muhtar_b"])
    response = getattr(client, method)(path.format(**two_hoods), data={"reason": "because", "count": "3",
                                                                   "valid_days": "30"})
    assert response.status_code == 403
    assert "Not allowed" in text(response)
    with app.app_context():
        assert status_of(two_hoods["pending_a"]) == "pending"
        assert count(InviteCode) == 0


def test_letters_of_another_neighbourhood_are_refused(app, client, two_hoods):
    with app.app_context():
        hood = db.session.get(Neighbourhood, two_hoods["a"])
        batch = invitations.issue_invite_codes(directory.muhtars_of(hood)[0].user, utcnow(), hood, 2, 30)
        db.session.commit()
    login(client, two_hoods["muhtar_b"])
    assert client.get(f"/n/moda/invites/{batch}").status_code == 403
    assert client.get(f"/n/caferaga/invites/{batch}").status_code == 404  # not a batch of caferaga


@pytest.mark.parametrize("action", ["approve", "reject", "revoke"])
def test_a_membership_of_another_neighbourhood_in_the_url_is_not_found(app, client, two_hoods, action):
    login(client, two_hoods["muhtar_a"])
    response = client.post(f"/n/moda/members/{two_hoods['resident_b']}/{action}", data={"reason": "because"})
    assert response.status_code == 404
    with app.app_context():
        assert status_of(two_hoods["resident_b"]) == "verified"
        assert count(AuditEvent, AuditEvent.action.like("membership.%")) == 1  # the factory's approval
        assert_counter_true(db.session.get(Neighbourhood, two_hoods["b"]), 1)


def test_a_muhtars_appointment_is_not_a_resident_request(ctx):
    hood = factories.neighbourhood()
    boss = factories.muhtar(hood)
    appointment = directory.muhtars_of(hood)[0]
    with pytest.raises(NotFound):
        residents.revoke_membership(boss, utcnow(), hood, appointment.id, "trying")
    with pytest.raises(NotFound):
        residents.approve_membership(boss, utcnow(), hood, 10**9)
    assert status_of(appointment.id) == "verified"


def test_residents_and_visitors_cannot_open_the_desk(app, client, two_hoods):
    assert client.get("/n/moda/members").status_code == 302  # to the login page
    login(client, "resident-b@example.org")
    assert client.get("/n/caferaga/members").status_code == 403
    assert client.get("/muhtar").status_code == 403
