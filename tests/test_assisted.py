"""Assisted participation: a muhtar registers residents and acts in their name, with consent."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from assembly.accounts.models import User
from assembly.assemblies.models import Participation
from assembly.assisted import services
from assembly.assisted.models import AssistedEntry
from assembly.audit.models import AuditEvent
from assembly.db import db
from assembly.errors import NotAllowed, ValidationFailed
from assembly.i18n import utc_to_wall_clock
from assembly.neighbourhoods.models import Membership, Neighbourhood
from assembly.proposals import services as proposals
from assembly.proposals.models import Proposal, Support
from tests import assembly_factories as af
from tests import factories
from tests import proposal_factories as pf
from tests.support import login, text


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _consent(now: dt.datetime, method: str = "door", given: bool = True, at: dt.datetime | None = None):
    return services.Consent(given=given, method=method, given_at=at or now)


def _registered(w, name: str = "Ayşe Teyze", phone: str | None = None) -> Membership:
    return services.register_resident(w.muhtar, factories.now(), w.hood, display_name=name,
                                      address="Moda Cad. 12/3", phone=phone, locale="tr")


# --- registering ---------------------------------------------------------------------------------

def test_a_muhtar_registers_a_resident_without_e_mail(w):
    before = db.session.get(Neighbourhood, w.hood.id).verified_resident_count
    membership = _registered(w)
    user = membership.user
    assert user.email is None and user.phone is None and user.assisted
    assert membership.status == "verified" and membership.verified_by_id == w.muhtar.id
    db.session.refresh(w.hood)
    assert w.hood.verified_resident_count == before + 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assisted.register"))
    assert event.actor_id == w.muhtar.id and event.detail["user"] == user.id


def test_a_resident_registered_with_a_phone_number_is_reached_by_sms(w):
    user = _registered(w, phone="0532 123 45 67").user
    assert user.phone == "+905321234567" and user.phone_only


def test_registering_refuses_bad_input_and_writes_nothing(w):
    users = _count(User)
    with pytest.raises(ValidationFailed) as refused:
        services.register_resident(w.muhtar, factories.now(), w.hood, display_name="", address="",
                                   phone="12", locale="xx")
    assert set(refused.value.reasons) == {"display_name", "address", "phone", "locale"}
    assert _count(User) == users


@pytest.mark.parametrize("who", ["resident", "other_muhtar", "admin", "staff"])
def test_only_the_neighbourhoods_muhtar_registers_residents(w, who):
    other = factories.neighbourhood()
    actor = {"resident": lambda: w.author, "other_muhtar": lambda: factories.muhtar(other),
             "admin": factories.admin, "staff": lambda: factories.staff(factories.body(w.hood.municipality))}[who]()
    with pytest.raises(NotAllowed):
        services.register_resident(actor, factories.now(), w.hood, display_name="X", address="Y", phone=None,
                                   locale="tr")


# --- acting on behalf ------------------------------------------------------------------------------

def test_a_proposal_filed_for_a_resident_is_theirs_and_marked(w):
    membership = _registered(w)
    now = factories.now()
    proposal = services.on_behalf(w.muhtar, now, membership, "proposal", _consent(now, "office"), w.hood,
                                  data=pf.data(w.category, title="Rampa lazım"))
    assert proposal.author_id == membership.user_id and proposal.status == "open"
    entry = db.session.scalar(select(AssistedEntry))
    assert (entry.muhtar_id, entry.resident_id, entry.action, entry.object_type, entry.object_id,
            entry.consent_method) == (w.muhtar.id, membership.user_id, "proposal", "proposal", proposal.id, "office")
    assert entry.consent_on == utc_to_wall_clock(now, "Europe/Istanbul").date()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assisted.proposal"))
    assert event.actor_id == w.muhtar.id and event.object_id == proposal.id
    assert event.detail["resident"] == membership.user_id and event.detail["consent"] == "office"
    assert services.marks_for(proposal).proposal


def test_supports_and_comments_for_residents_are_marked(w):
    membership = _registered(w)
    proposal = pf.proposal(w)
    now = factories.now()
    services.on_behalf(w.muhtar, now, membership, "support", _consent(now), proposal)
    comment = services.on_behalf(w.muhtar, now, membership, "comment", _consent(now, "phone"), proposal,
                                 body="Ayşe Hanım da destekliyor.")
    assert _count(Support, Support.user_id == membership.user_id, Support.proposal_id == proposal.id) == 1
    assert comment.author_id == membership.user_id
    marks = services.marks_for(proposal)
    assert (marks.proposal, marks.comment_ids, marks.supports) == (False, {comment.id}, 1)
    # A withdrawn support no longer counts as one the muhtar entered.
    proposals.withdraw_support(membership.user, now, proposal)
    assert services.marks_for(proposal).supports == 0


@pytest.mark.parametrize("consent, field", [
    (dict(given=False), "consent"),
    (dict(method=None), "consent_method"),
    (dict(method="letter"), "consent_method"),
    (dict(at=None), "consent_at"),
    (dict(at="future"), "consent_at"),
    (dict(at="old"), "consent_at"),
])
def test_nothing_is_entered_without_a_recorded_consent(w, consent, field):
    membership = _registered(w)
    now = factories.now()
    given_at = {"future": now + dt.timedelta(days=1), "old": now - dt.timedelta(days=31)}.get(
        consent.get("at"), consent.get("at", now))
    recorded = services.Consent(given=consent.get("given", True), method=consent.get("method", "door"),
                                given_at=given_at)
    proposals = _count(Proposal)
    with pytest.raises(ValidationFailed) as refused:
        services.on_behalf(w.muhtar, now, membership, "proposal", recorded, w.hood, data=pf.data(w.category))
    assert field in refused.value.reasons
    assert _count(Proposal) == proposals and _count(AssistedEntry) == 0


def test_a_muhtar_cannot_act_for_a_resident_of_another_neighbourhood(w):
    elsewhere = pf.world()
    membership = _registered(elsewhere)
    now = factories.now()
    with pytest.raises(NotAllowed):
        services.on_behalf(w.muhtar, now, membership, "proposal", _consent(now), elsewhere.hood,
                           data=pf.data(elsewhere.category))
    assert _count(AssistedEntry) == 0


@pytest.mark.parametrize("who", ["resident", "admin", "self"])
def test_nobody_but_the_muhtar_acts_on_behalf(w, who):
    membership = _registered(w)
    now = factories.now()
    actor = {"resident": w.author, "admin": factories.admin(), "self": membership.user}[who]
    with pytest.raises(NotAllowed):
        services.on_behalf(actor, now, membership, "support", _consent(now), pf.proposal(w))


def test_a_muhtar_cannot_act_for_a_pending_or_revoked_resident(w):
    pending = factories.pending(w.hood)
    now = factories.now()
    with pytest.raises(NotAllowed):
        services.on_behalf(w.muhtar, now, pending, "support", _consent(now), pf.proposal(w))


def test_the_residents_own_rules_still_apply(w):
    """The action runs as the resident: a second support is refused as it would be for them."""
    membership = _registered(w)
    proposal = pf.proposal(w)
    now = factories.now()
    services.on_behalf(w.muhtar, now, membership, "support", _consent(now), proposal)
    with pytest.raises(Exception, match="already support"):
        services.on_behalf(w.muhtar, now, membership, "support", _consent(now), proposal)
    assert _count(AssistedEntry) == 1


def test_a_secret_vote_cannot_be_cast_on_behalf(ctx):
    session = af.voting_open(secrecy="secret", voters=1)
    membership = db.session.scalar(select(Membership).where(Membership.user_id == session.voters[0].id))
    at = af.OPENS + af.HOUR
    with pytest.raises(NotAllowed, match="secret ballot"):
        services.on_behalf(session.w.muhtar, at, membership, "vote", _consent(at), session.assembly,
                           vote=af.yes_no(session, "yes", "no"))
    assert _count(Participation) == 0 and _count(AssistedEntry) == 0


def test_an_open_vote_can_be_cast_on_behalf(ctx):
    session = af.voting_open(secrecy="open", voters=1)
    voter = session.voters[0]
    membership = db.session.scalar(select(Membership).where(Membership.user_id == voter.id))
    at = af.OPENS + af.HOUR
    services.on_behalf(session.w.muhtar, at, membership, "vote", _consent(at), session.assembly,
                       vote=af.yes_no(session, "yes", "no"))
    assert _count(Participation, Participation.user_id == voter.id) == 1
    assert db.session.scalar(select(AssistedEntry.object_type)) == "assembly"


def test_other_domains_plug_in_their_actions(w):
    """The registry is how surveys and meeting questions add theirs (docs/muhtars.md)."""
    def follow(resident, now, proposal):
        proposals.follow(resident, now, proposal)
        return proposal

    action = services.OnBehalfAction("test_follow", "Follow", "proposal", follow)
    services.register_action(action)
    try:
        membership = _registered(w)
        proposal = pf.proposal(w)
        now = factories.now()
        services.on_behalf(w.muhtar, now, membership, "test_follow", _consent(now), proposal)
        assert proposals.follows(membership.user, proposal)
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "assisted.test_follow"))
        with pytest.raises(ValueError):
            services.register_action(services.OnBehalfAction("test_follow", "Other", "x", follow))
    finally:
        services.ON_BEHALF_ACTIONS.pop("test_follow")
    with pytest.raises(ValueError):
        services.on_behalf(w.muhtar, factories.now(), membership, "test_follow", _consent(factories.now()), proposal)


# --- the pages -------------------------------------------------------------------------------------

def _world(app):
    with app.app_context():
        w = pf.world()
        other = pf.world()
        ids = {"slug": w.hood.slug, "muhtar": w.muhtar.email, "resident": w.author.email,
               "other_muhtar": other.muhtar.email, "category": w.category.id}
        db.session.commit()
    return ids


def _local_now() -> str:
    return utc_to_wall_clock(factories.now(), "Europe/Istanbul").strftime("%Y-%m-%dT%H:%M")


def test_the_desk_is_the_muhtars_only(app, client):
    ids = _world(app)
    assert client.get(f"/n/{ids['slug']}/assisted").status_code == 302  # to the login page
    login(client, ids["resident"])
    assert client.get(f"/n/{ids['slug']}/assisted").status_code == 403
    other = app.test_client()
    login(other, ids["other_muhtar"])
    assert other.get(f"/n/{ids['slug']}/assisted").status_code == 403


def test_register_and_file_a_proposal_through_the_pages(app, client):
    ids = _world(app)
    login(client, ids["muhtar"])
    page = client.get(f"/n/{ids['slug']}/assisted", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Secret ballots cannot be cast this way" in text(page)
    registered = client.post(f"/n/{ids['slug']}/assisted", data={
        "display_name": "Hasan Amca", "address": "Moda Cad. 5", "phone": "", "locale": "tr"})
    assert registered.status_code == 302
    act = registered.headers["Location"]
    membership_id = int(act.rstrip("/").rsplit("/", 1)[1])
    form = {"proposal-title": "Bank", "proposal-body": "Parka bank.", "proposal-category_id": ids["category"],
            "proposal-consent_method": "office", "proposal-consent_at": _local_now()}
    refused = client.post(f"{act}/proposal", data=form)  # no consent ticked
    assert refused.status_code == 400 and "consent is required" in text(refused)
    with app.app_context():
        assert _count(Proposal, Proposal.title == "Bank") == 0
    done = client.post(f"{act}/proposal", data=dict(form, **{"proposal-consent": "y"}))
    assert done.status_code == 302
    shown = client.get(done.headers["Location"], headers={"Accept-Language": "en"})
    assert "Hasan Amca" in text(shown) and "entered by the muhtar" in text(shown)
    with app.app_context():
        proposal = db.session.scalar(select(Proposal).where(Proposal.title == "Bank"))
        membership = db.session.get(Membership, membership_id)
        assert proposal.author_id == membership.user_id


def test_another_muhtar_cannot_open_a_residents_page(app, client):
    ids = _world(app)
    with app.app_context():
        w_hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == ids["slug"]))
        membership = db.session.scalar(select(Membership).join(User, User.id == Membership.user_id)
                                       .where(User.email == ids["resident"]))
        assert membership.neighbourhood_id == w_hood.id
    login(client, ids["other_muhtar"])
    assert client.get(f"/n/{ids['slug']}/assisted/{membership.id}").status_code == 403
    assert client.post(f"/n/{ids['slug']}/assisted/{membership.id}/support",
                       data={"support-consent": "y"}).status_code == 403
