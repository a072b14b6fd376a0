"""Administration: municipalities, neighbourhoods, bodies, categories, appointments, the audit log, the CLI."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from assembly import permissions
from assembly.accounts import services as accounts
from assembly.accounts.models import User
from assembly.audit.models import AuditEvent
from assembly.actors import SystemActor
from assembly.db import db, utcnow
from assembly.errors import NotAllowed, ValidationFailed
from assembly.neighbourhoods import directory, structure
from assembly.neighbourhoods.models import (
    Body,
    BodyStaff,
    Category,
    Membership,
    Municipality,
    Neighbourhood,
)
from tests import factories
from tests.support import PASSWORD, login
from tests.support import count, field_errors, flashed_errors, text


@pytest.fixture
def admin(app, client):
    """A logged-in administrator and a municipality (KDK) with one body."""
    with app.app_context():
        person = factories.user(email="admin@example.org", name="Admin", admin=True)
        kdk = factories.municipality(code="KDK")
        factories.body(kdk)
        db.session.commit()
        admin_id = person.id
    login(client, "admin@example.org")
    return admin_id


def audit_actions(app, actor_id) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == actor_id)
                                       .order_by(AuditEvent.id)))


def neighbourhood_data(**changes) -> dict:
    data = {"slug": "caferaga", "code": "CAFERAGA", "default_locale": "tr", "quorum_percent": "10",
            "majority": "simple", "support_threshold": "10", "name_tr": "Caferağa", "name_en": "Caferaga"}
    data.update(changes)
    return data


# --- municipality and neighbourhoods ----------------------------------------------------------

def test_admin_creates_a_municipality(app, client, admin):
    response = client.post("/admin/municipalities/new", data={"code": "bsk", "name": "Beşiktaş",
                                                              "timezone": "Europe/Istanbul", "default_locale": "tr"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/m/BSK"
    assert "Beşiktaş" in text(client.get("/admin/m/BSK"))
    with app.app_context():
        created = db.session.scalar(select(Municipality).where(Municipality.code == "BSK"))
        assert (created.name, created.timezone, created.default_locale) == ("Beşiktaş", "Europe/Istanbul", "tr")
    assert audit_actions(app, admin) == ["municipality.create"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"code": "KDK"}, "code", "This code is already in use."),
    ({"code": "B-SK"}, "code", "Use capital letters A–Z and digits only (at most 12 characters)."),
    ({"code": ""}, "code", "This field is required."),
    ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone. Use a name such as Europe/Istanbul."),
    ({"name": "   "}, "name", "This field is required."),
])
def test_municipality_form_refusals(app, client, admin, changes, field, message):
    data = {"code": "BSK", "name": "Beşiktaş", "timezone": "Europe/Istanbul", "default_locale": "tr", **changes}
    response = client.post("/admin/municipalities/new", data=data)
    assert response.status_code == 400
    assert field_errors(response, field) == [message]
    with app.app_context():
        assert count(Municipality) == 1
    assert audit_actions(app, admin) == []


def test_admin_creates_a_neighbourhood(app, client, admin):
    response = client.post("/admin/m/KDK/neighbourhoods/new", data=neighbourhood_data())
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/n/caferaga"
    assert client.get("/admin/n/caferaga").status_code == 200
    with app.app_context():
        hood = directory.get_neighbourhood("caferaga")
        assert hood.names == {"tr": "Caferağa", "en": "Caferaga"}
        assert (hood.code, hood.default_locale, hood.municipality.code) == ("CAFERAGA", "tr", "KDK")
    assert audit_actions(app, admin) == ["neighbourhood.create"]
    assert "Caferağa" in text(client.get("/n/caferaga?lang=tr"))


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"slug": "Cafer Ağa"}, "slug", "Use lower-case letters a–z, digits and single hyphens (at most 60 characters)."),
    ({"slug": "cafer--aga"}, "slug", "Use lower-case letters a–z, digits and single hyphens (at most 60 characters)."),
    ({"slug": "-caferaga"}, "slug", "Use lower-case letters a–z, digits and single hyphens (at most 60 characters)."),
    ({"slug": "c" * 61}, "slug", "Field cannot be longer than 60 characters."),
    ({"code": "CAFER-AGA"}, "code", "Use capital letters A–Z and digits only (at most 20 characters)."),
    ({"code": "C" * 21}, "code", "Field cannot be longer than 20 characters."),
    ({"name_tr": ""}, "name_tr", "Give at least the name in the default language."),
    ({"quorum_percent": "101"}, "quorum_percent", "Enter a number between 0 and 100."),
    ({"majority": "unanimity"}, "majority", "Not a valid choice."),
    ({"support_threshold": "0"}, "support_threshold", "Enter a number between 1 and 100000."),
])
def test_neighbourhood_form_refusals(app, client, admin, changes, field, message):
    response = client.post("/admin/m/KDK/neighbourhoods/new", data=neighbourhood_data(**changes))
    assert response.status_code == 400
    assert message in field_errors(response, field)
    with app.app_context():
        assert count(Neighbourhood) == 0
    assert audit_actions(app, admin) == []


def test_neighbourhood_slug_must_be_unique_across_municipalities(app, client, admin):
    with app.app_context():
        factories.neighbourhood(factories.municipality(code="BSK"), slug="caferaga")
        db.session.commit()
    response = client.post("/admin/m/KDK/neighbourhoods/new", data=neighbourhood_data(code="OTHER"))
    assert response.status_code == 400
    assert field_errors(response, "slug") == ["This address (slug) or code is already in use."]
    assert 'value="OTHER"' in response.get_data(as_text=True)
    with app.app_context():
        assert count(Neighbourhood) == 1


def test_admin_edits_a_neighbourhood(app, client, admin):
    with app.app_context():
        kdk = db.session.scalar(select(Municipality).where(Municipality.code == "KDK"))
        factories.neighbourhood(kdk, slug="caferaga")
        db.session.commit()
    form = client.get("/admin/n/caferaga")
    assert form.status_code == 200
    response = client.post("/admin/n/caferaga", data={
        "default_locale": "en", "name_en": "Caferaga", "name_tr": "Caferağa", "quorum_percent": "20",
        "majority": "two_thirds", "support_threshold": "30"})
    assert response.status_code == 302
    with app.app_context():
        hood = directory.get_neighbourhood("caferaga")
        assert (hood.default_locale, hood.quorum_percent, hood.majority, hood.support_threshold) == (
            "en", 20, "two_thirds", 30)
        assert hood.names == {"en": "Caferaga", "tr": "Caferağa"}
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "neighbourhood.update"))
        assert (event.actor_id, event.detail["before"]["quorum_percent"]) == (admin, 10)
    refused = client.post("/admin/n/caferaga", data={"default_locale": "sv", "name_en": "Caferaga",
                                                     "quorum_percent": "20", "majority": "simple",
                                                     "support_threshold": "30"})
    assert refused.status_code == 400
    assert field_errors(refused, "name_sv") == ["Give at least the name in the default language."]
    with app.app_context():
        assert directory.get_neighbourhood("caferaga").default_locale == "en"


def test_an_unknown_municipality_is_not_found(client, admin):
    assert client.get("/admin/m/NOPE").status_code == 404
    assert client.post("/admin/m/NOPE/neighbourhoods/new", data=neighbourhood_data()).status_code == 404


# --- bodies and categories ----------------------------------------------------------------------

def test_admin_creates_a_body(app, client, admin):
    response = client.post("/admin/m/KDK/bodies/new", data={"slug": "police", "name": "Kadıköy Police",
                                                            "kind": "police", "answer_days": "14"})
    assert response.status_code == 302
    with app.app_context():
        body = db.session.scalar(select(Body).where(Body.slug == "police"))
        assert (body.name, body.kind, body.answer_days) == ("Kadıköy Police", "police", 14)
        assert response.headers["Location"] == f"/admin/bodies/{body.id}"
    assert audit_actions(app, admin) == ["body.create"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"kind": "army"}, "kind", "Not a valid choice."),
    ({"answer_days": "0"}, "answer_days", "Enter a number between 1 and 365."),
    ({"slug": "Police!"}, "slug", "Use lower-case letters a–z, digits and single hyphens (at most 60 characters)."),
])
def test_body_form_refusals(app, client, admin, changes, field, message):
    data = {"slug": "police", "name": "Police", "kind": "police", "answer_days": "14", **changes}
    response = client.post("/admin/m/KDK/bodies/new", data=data)
    assert response.status_code == 400
    assert message in field_errors(response, field)
    with app.app_context():
        assert count(Body) == 1


def test_body_slug_is_unique_within_its_municipality(app, client, admin):
    data = {"slug": "police", "name": "Police", "kind": "police", "answer_days": "14"}
    assert client.post("/admin/m/KDK/bodies/new", data=data).status_code == 302
    again = client.post("/admin/m/KDK/bodies/new", data=data)
    assert again.status_code == 400
    assert field_errors(again, "slug") == ["This address (slug) is already in use."]
    with app.app_context():
        other = factories.municipality(code="BSK")
        db.session.commit()
        assert other.id
    assert client.post("/admin/m/BSK/bodies/new", data=data).status_code == 302


def test_admin_creates_a_category_routed_to_a_body(app, client, admin):
    with app.app_context():
        body_id = db.session.scalar(select(Body.id))
    response = client.post("/admin/m/KDK/categories/new", data={
        "slug": "lighting", "name_tr": "Aydınlatma", "name_en": "Lighting", "default_body": str(body_id)})
    assert response.status_code == 302
    with app.app_context():
        category = db.session.scalar(select(Category))
        assert (category.slug, category.default_body_id) == ("lighting", body_id)
        assert category.names == {"tr": "Aydınlatma", "en": "Lighting"}
    assert audit_actions(app, admin) == ["category.create"]
    assert client.post("/admin/m/KDK/categories/new", data={"slug": "stray-animals", "name_tr": "Hayvanlar",
                                                            "default_body": "0"}).status_code == 302


def test_a_category_cannot_route_to_another_municipalitys_body(app, client, admin):
    with app.app_context():
        foreign = factories.body(factories.municipality(code="BSK"))
        db.session.commit()
        foreign_id = foreign.id
    response = client.post("/admin/m/KDK/categories/new", data={
        "slug": "lighting", "name_tr": "Aydınlatma", "default_body": str(foreign_id)})
    assert response.status_code == 400
    assert field_errors(response, "default_body") == ["Not a valid choice."]
    with app.app_context():
        assert count(Category) == 0
        kdk = db.session.scalar(select(Municipality).where(Municipality.code == "KDK"))
        with pytest.raises(ValidationFailed) as refused:
            structure.create_category(SystemActor(), utcnow(), municipality=kdk, slug="lighting",
                                  names={"tr": "Aydınlatma"}, default_body=db.session.get(Body, foreign_id))
        assert refused.value.reasons == {"default_body": ["The body must belong to the same municipality."]}
        assert count(Category) == 0


# --- appointments -----------------------------------------------------------------------------

@pytest.fixture
def caferaga(app, admin):
    with app.app_context():
        kdk = db.session.scalar(select(Municipality).where(Municipality.code == "KDK"))
        factories.neighbourhood(kdk, slug="caferaga")
        factories.user(email="muhtar@example.org", name="Ayşe")
        db.session.commit()


def test_admin_appoints_and_dismisses_a_muhtar(app, client, admin, caferaga):
    response = client.post("/admin/n/caferaga/muhtars", data={"email": "Muhtar@Example.org"})
    assert response.status_code == 302
    assert "Ayşe" in text(client.get("/admin/n/caferaga"))
    with app.app_context():
        hood = directory.get_neighbourhood("caferaga")
        [appointment] = directory.muhtars_of(hood)
        assert appointment.user.email == "muhtar@example.org"
        assert permissions.can(appointment.user, "review_memberships", hood)
        appointment_id = appointment.id

    twice = client.post("/admin/n/caferaga/muhtars", data={"email": "muhtar@example.org"})
    assert twice.status_code == 400
    assert field_errors(twice, "email") == ["This person is already muhtar of this neighbourhood."]

    refused = client.post(f"/admin/muhtars/{appointment_id}/dismiss", data={"reason": ""}, follow_redirects=True)
    assert "Please give a reason." in flashed_errors(refused)
    with app.app_context():
        assert db.session.get(Membership, appointment_id).status == "verified"

    assert client.post(f"/admin/muhtars/{appointment_id}/dismiss", data={"reason": "Term ended"}).status_code == 302
    with app.app_context():
        appointment = db.session.get(Membership, appointment_id)
        assert (appointment.status, appointment.reason) == ("revoked", "Term ended")
        assert not permissions.can(appointment.user, "review_memberships", appointment.neighbourhood)
    assert audit_actions(app, admin) == ["muhtar.appoint", "muhtar.dismiss"]
    # after a dismissal the same person can be appointed again
    assert client.post("/admin/n/caferaga/muhtars", data={"email": "muhtar@example.org"}).status_code == 302


def test_dismissing_twice_says_why_nothing_happened(app, client, admin, caferaga):
    client.post("/admin/n/caferaga/muhtars", data={"email": "muhtar@example.org"})
    with app.app_context():
        appointment_id = directory.muhtars_of(directory.get_neighbourhood("caferaga"))[0].id
    client.post(f"/admin/muhtars/{appointment_id}/dismiss", data={"reason": "Term ended"}, follow_redirects=True)
    again = client.post(f"/admin/muhtars/{appointment_id}/dismiss", data={"reason": "Once more"},
                        follow_redirects=True)
    assert flashed_errors(again) == ["This request has already been decided."]
    assert "The muhtar has been dismissed." not in text(again)
    with app.app_context():
        assert db.session.get(Membership, appointment_id).reason == "Term ended"
    assert audit_actions(app, admin) == ["muhtar.appoint", "muhtar.dismiss"]


@pytest.mark.parametrize(("email", "message"), [
    ("nobody@example.org", "No account uses this e-mail address."),
    ("not an address", "Please enter a valid e-mail address."),
    ("", "This field is required."),
])
def test_appointing_needs_an_existing_account(app, client, admin, caferaga, email, message):
    response = client.post("/admin/n/caferaga/muhtars", data={"email": email})
    assert response.status_code == 400
    assert message in field_errors(response, "email")
    with app.app_context():
        assert count(Membership) == 0
    assert audit_actions(app, admin) == []


def test_a_resident_membership_cannot_be_dismissed_as_a_muhtar(app, client, admin, caferaga):
    with app.app_context():
        hood = directory.get_neighbourhood("caferaga")
        person = factories.resident(hood)
        membership_id = directory.current_membership(person).id
        db.session.commit()
    assert client.post(f"/admin/muhtars/{membership_id}/dismiss", data={"reason": "x"}).status_code == 404
    assert client.post("/admin/muhtars/999999/dismiss", data={"reason": "x"}).status_code == 404
    with app.app_context():
        assert db.session.get(Membership, membership_id).status == "verified"


def test_admin_appoints_and_removes_staff(app, client, admin):
    with app.app_context():
        body_id = db.session.scalar(select(Body.id))
        factories.user(email="clerk@example.org", name="Clerk")
        db.session.commit()
    unknown = client.post(f"/admin/bodies/{body_id}", data={"email": "nobody@example.org"})
    assert unknown.status_code == 400
    assert field_errors(unknown, "email") == ["No account uses this e-mail address."]

    assert client.post(f"/admin/bodies/{body_id}", data={"email": "clerk@example.org"}).status_code == 302
    assert "Clerk" in text(client.get(f"/admin/bodies/{body_id}"))
    twice = client.post(f"/admin/bodies/{body_id}", data={"email": "clerk@example.org"})
    assert field_errors(twice, "email") == ["This person is already on the staff of this body."]
    with app.app_context():
        staff = db.session.scalar(select(BodyStaff))
        assert staff.user.email == "clerk@example.org"
        assert permissions.can(staff.user, "act_for_body", staff.body)
        staff_id = staff.id

    assert client.post(f"/admin/staff/{staff_id}/remove").status_code == 302
    with app.app_context():
        assert count(BodyStaff) == 0
        clerk = accounts.find_user_by_email("clerk@example.org")
        assert not permissions.can(clerk, "view_staff_desk")
    assert audit_actions(app, admin) == ["staff.appoint", "staff.remove"]


def test_services_refuse_non_admins(ctx):
    hood = factories.neighbourhood()
    boss = factories.muhtar(hood)
    person = factories.user()
    with pytest.raises(NotAllowed):
        structure.create_municipality(boss, utcnow(), code="X", name="X", timezone="UTC", default_locale="en")
    with pytest.raises(NotAllowed):
        structure.appoint_muhtar(boss, utcnow(), hood, person)
    with pytest.raises(NotAllowed):
        structure.dismiss_muhtar(boss, utcnow(), directory.muhtars_of(hood)[0], "coup")
    assert count(AuditEvent, AuditEvent.actor_id == boss.id) == 0


# --- the audit log ------------------------------------------------------------------------------

def test_every_admin_action_is_in_the_audit_log(app, client, admin, caferaga):
    with app.app_context():
        body_id = db.session.scalar(select(Body.id))
        factories.user(email="clerk@example.org")
        db.session.commit()
    client.post("/admin/municipalities/new", data={"code": "BSK", "name": "Beşiktaş", "timezone": "UTC",
                                                   "default_locale": "en"})
    client.post("/admin/m/KDK/neighbourhoods/new", data=neighbourhood_data(slug="moda", code="MODA"))
    client.post("/admin/m/KDK/bodies/new", data={"slug": "police", "name": "Police", "kind": "police",
                                                 "answer_days": "14"})
    client.post("/admin/m/KDK/categories/new", data={"slug": "lighting", "name_tr": "Aydınlatma",
                                                     "default_body": str(body_id)})
    client.post("/admin/n/caferaga/muhtars", data={"email": "muhtar@example.org"})
    with app.app_context():
        appointment_id = directory.muhtars_of(directory.get_neighbourhood("caferaga"))[0].id
    client.post(f"/admin/muhtars/{appointment_id}/dismiss", data={"reason": "Term ended"})
    client.post(f"/admin/bodies/{body_id}", data={"email": "clerk@example.org"})
    with app.app_context():
        staff_id = db.session.scalar(select(BodyStaff.id))
    client.post(f"/admin/staff/{staff_id}/remove")

    expected = ["municipality.create", "neighbourhood.create", "body.create", "category.create",
                "muhtar.appoint", "muhtar.dismiss", "staff.appoint", "staff.remove"]
    assert audit_actions(app, admin) == expected
    page = client.get("/admin/audit")
    assert page.status_code == 200
    rows = re.findall(r"<code>([a-z_.]+)</code>", page.get_data(as_text=True))
    assert rows[:len(expected)] == list(reversed(expected))  # newest first
    assert "reason=Term ended" in text(page)
    only = client.get("/admin/audit?action=muhtar.dismiss")
    assert re.findall(r"<code>([a-z_.]+)</code>", only.get_data(as_text=True)) == ["muhtar.dismiss"]


# --- who may enter --------------------------------------------------------------------------

def _admin_paths(app, world) -> list[tuple[str, str]]:
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(world[m.group(1)]), rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            paths.append((method, path))
    return paths


@pytest.mark.parametrize("who", ["resident", "muhtar", "staff", "plain"])
def test_non_admins_are_refused_everywhere_in_admin(app, client, who):
    with app.app_context():
        hood = factories.neighbourhood(slug="moda")
        body = factories.body(hood.municipality)
        boss = factories.muhtar(hood)
        staff = factories.staff(body)
        people = {"resident": factories.resident(hood), "muhtar": boss, "staff": staff, "plain": factories.user()}
        world = {"code": hood.municipality.code, "slug": "moda", "membership_id": directory.muhtars_of(hood)[0].id,
                 "body_id": body.id, "staff_id": db.session.scalar(select(BodyStaff.id))}
        email = people[who].email
        db.session.commit()
    login(client, email)
    paths = _admin_paths(app, world)
    assert len(paths) >= 12
    for method, path in paths:
        response = client.open(path, method=method, data={"reason": "x", "email": email, "code": "NEW",
                                                          "name": "New", "slug": "new"})
        assert response.status_code == 403, (method, path)
    with app.app_context():
        assert count(AuditEvent, AuditEvent.actor_id.is_not(None), AuditEvent.action.not_like("membership.%")) == 0
        assert count(BodyStaff) == 1
        assert len(directory.muhtars_of(directory.get_neighbourhood("moda"))) == 1


def test_visitors_are_sent_to_the_login_page(app, client):
    with app.app_context():
        hood = factories.neighbourhood(slug="moda")
        body = factories.body(hood.municipality)
        world = {"code": hood.municipality.code, "slug": "moda", "membership_id": 1, "body_id": body.id,
                 "staff_id": 1}
        db.session.commit()
    for method, path in _admin_paths(app, world):
        response = client.open(path, method=method)
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/account/login?next="), (method, path)


# --- the command line ---------------------------------------------------------------------------

def invoke(app, *args, password=None, monkeypatch=None):
    if password is not None:
        monkeypatch.setattr("assembly.neighbourhoods.cli.getpass.getpass", lambda prompt="": password)
    return app.test_cli_runner().invoke(args=["setup", *args])


def test_cli_create_admin(app, monkeypatch):
    result = invoke(app, "create-admin", "Boss@Example.org", "The Boss", password=PASSWORD, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "boss@example.org is an administrator" in result.output
    with app.app_context():
        boss = accounts.authenticate("boss@example.org", PASSWORD)
        assert boss.is_admin and boss.display_name == "The Boss"


def test_cli_create_admin_promotes_an_existing_account(app, monkeypatch):
    with app.app_context():
        factories.user(email="emre@example.org")
        db.session.commit()
    result = invoke(app, "create-admin", "emre@example.org", "Emre", password="ignored", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert accounts.authenticate("emre@example.org", PASSWORD).is_admin
        assert count(User) == 1


def test_cli_create_admin_refuses_a_short_password(app, monkeypatch):
    result = invoke(app, "create-admin", "boss@example.org", "The Boss", password="short", monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert "The password must be at least 10 characters long." in result.output
    with app.app_context():
        assert count(User) == 0


@pytest.mark.parametrize(("email", "name", "message"), [
    ("admin", "Admin", "Please enter a valid e-mail address."),
    ("admin@example.org", "N" * 81, "The display name may be at most 80 characters long."),
])
def test_cli_create_admin_refuses_what_the_form_would_refuse(app, monkeypatch, email, name, message):
    result = invoke(app, "create-admin", email, name, password=PASSWORD, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert count(User) == 0


def test_cli_sets_up_a_municipality_step_by_step(app):
    with app.app_context():
        factories.user(email="muhtar@example.org")
        factories.user(email="clerk@example.org")
        db.session.commit()
    steps = [
        (["municipality", "kdk", "Kadıköy"], "municipality KDK created"),
        (["neighbourhood", "kdk", "caferaga", "caferaga", "--name", "tr=Caferağa", "--name", "en=Caferaga",
          "--quorum", "15", "--majority", "two_thirds", "--threshold", "25"], "neighbourhood caferaga created"),
        (["body", "KDK", "zabita", "Zabıta", "--kind", "police", "--answer-days", "10"], "body zabita created"),
        (["category", "KDK", "animals", "--name", "tr=Hayvanlar", "--body", "zabita"], "category animals created"),
        (["appoint-muhtar", "caferaga", "Muhtar@example.org"], "Muhtar@example.org is muhtar of caferaga"),
        (["appoint-staff", "KDK", "zabita", "clerk@example.org"], "clerk@example.org is on the staff of Zabıta"),
    ]
    for args, said in steps:
        result = invoke(app, *args)
        assert result.exit_code == 0, (args, result.output)
        assert said in result.output
    with app.app_context():
        kdk = db.session.scalar(select(Municipality).where(Municipality.code == "KDK"))
        assert (kdk.name, kdk.timezone, kdk.default_locale) == ("Kadıköy", "Europe/Istanbul", "tr")
        hood = directory.get_neighbourhood("caferaga")
        assert (hood.code, hood.names, hood.quorum_percent, hood.majority, hood.support_threshold) == (
            "CAFERAGA", {"tr": "Caferağa", "en": "Caferaga"}, 15, "two_thirds", 25)
        body = db.session.scalar(select(Body).where(Body.slug == "zabita"))
        assert (body.kind, body.answer_days, body.municipality_id) == ("police", 10, kdk.id)
        category = db.session.scalar(select(Category).where(Category.slug == "animals"))
        assert (category.default_body_id, category.names) == (body.id, {"tr": "Hayvanlar"})
        assert [m.user.email for m in directory.muhtars_of(hood)] == ["muhtar@example.org"]
        assert db.session.scalar(select(BodyStaff)).user.email == "clerk@example.org"
        actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id.is_(None))
                                          .order_by(AuditEvent.id)))
        assert actions == ["municipality.create", "neighbourhood.create", "body.create", "category.create",
                           "muhtar.appoint", "staff.appoint"]


@pytest.mark.parametrize(("args", "message"), [
    (["municipality", "K-D", "Kadıköy"], "Use capital letters A–Z and digits only"),
    (["municipality", "KDK", "Again"], "This code is already in use."),
    (["municipality", "NEW", "New", "--timezone", "Nowhere/Land"], "Unknown time zone."),
    (["neighbourhood", "NOPE", "moda", "MODA"], "no municipality with code NOPE"),
    (["neighbourhood", "KDK", "Moda Sahil", "MODA", "--name", "tr=Moda"], "Use lower-case letters"),
    (["neighbourhood", "KDK", "moda", "MODA"], "Give at least the name in the default language."),
    (["neighbourhood", "KDK", "moda", "MODA", "--name", "tr=Moda", "--quorum", "150"], "between 0 and 100"),
    (["body", "KDK", "zabita", "Zabıta", "--kind", "army"], "Choose one of the offered kinds."),
    (["category", "KDK", "animals", "--name", "tr=Hayvanlar", "--body", "nope"], "no body nope in KDK"),
    (["appoint-muhtar", "nowhere", "muhtar@example.org"], "There is no such neighbourhood."),
    (["appoint-muhtar", "caferaga", "nobody@example.org"], "No account uses this e-mail address."),
    (["appoint-staff", "KDK", "nope", "muhtar@example.org"], "no body nope in KDK"),
    (["appoint-staff", "KDK", "zabita", "nobody@example.org"], "No account uses this e-mail address."),
])
def test_cli_refusals_are_explained_and_store_nothing(app, args, message):
    with app.app_context():
        kdk = factories.municipality(code="KDK")
        factories.neighbourhood(kdk, slug="caferaga")
        structure.create_body(SystemActor(), utcnow(), municipality=kdk, slug="zabita", name="Zabıta", kind="police")
        factories.user(email="muhtar@example.org")
        db.session.commit()
        before = count(AuditEvent)
    result = invoke(app, *args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    with app.app_context():
        assert count(AuditEvent) == before
        assert count(Municipality) == 1
        assert count(Neighbourhood) == 1
        assert count(Body) == 1
        assert count(Category) == 0
        assert count(Membership) == 0
        assert count(BodyStaff) == 0
