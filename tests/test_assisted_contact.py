"""A muhtar adds a phone number or an e-mail address to the account they registered for a
resident (assisted participation): checked as at sign-up, with consent, audit logged, only what
is missing, and only while the account is not yet the resident's own."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from assembly.accounts import services as accounts
from assembly.accounts.models import User
from assembly.assisted import services
from assembly.assisted.models import AssistedEntry
from assembly.audit.models import AuditEvent
from assembly.db import db
from assembly.errors import DomainError, NotAllowed, ValidationFailed
from assembly.i18n import utc_to_wall_clock
from assembly.neighbourhoods.models import Membership
from assembly.notifications.models import OutboxEmail
from assembly.sms.models import OutboxSms
from tests import factories
from tests import proposal_factories as pf
from tests.support import committed, english_client, text, translation

ADDED_EMAIL = ("Assembly: the muhtar of %(neighbourhood)s added an e-mail address to your account. If you did not "
               "agree to it, tell the muhtar's office.")
SMS = ("Assembly: the muhtar of %(neighbourhood)s added this number to your account. To log in yourself, choose a "
       "password with “Forgot your password?”.")


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _consent(given: bool = True) -> services.Consent:
    return services.Consent(given=given, method="office", given_at=factories.now())


def _registered(w, phone: str | None = None) -> Membership:
    return services.register_resident(w.muhtar, factories.now(), w.hood, display_name="Ayşe Teyze",
                                      address="Moda Cad. 12/3", phone=phone, locale="tr")


def _add(w, membership, *, actor=None, consent=None, phone=None, email=None) -> User:
    return services.add_contact(actor or w.muhtar, factories.now(), membership, consent or _consent(),
                                phone=phone, email=email)


# --- the service -------------------------------------------------------------------------------------

def test_a_phone_number_is_added_checked_and_logged(w):
    membership = _registered(w)
    user = _add(w, membership, phone="0532 987 65 43")
    assert user.phone == "+905329876543" and user.phone_confirmed_at is not None and user.phone_only
    entry = db.session.scalar(select(AssistedEntry).where(AssistedEntry.action == "contact"))
    assert (entry.muhtar_id, entry.resident_id, entry.object_type, entry.consent_method) == (
        w.muhtar.id, user.id, "user", "office")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assisted.contact"))
    assert event.actor_id == w.muhtar.id and event.detail["user"] == user.id
    assert event.detail["phone"] is True and event.detail["email"] is False
    assert "+90532" not in str(event.detail)  # that a number was added, not the number
    sms = db.session.scalar(select(OutboxSms).where(OutboxSms.to_number == "+905329876543"))
    assert sms.purpose == "notification"  # held during the quiet hours, like every notification
    assert sms.body == translation("tr", SMS) % {"neighbourhood": w.hood.name_in("tr")}  # in the resident's language
    # The resident can now get a code to choose a password of their own.
    assert accounts.find_user_by_login("0532 987 65 43").id == user.id


def test_an_e_mail_address_is_added_and_the_resident_told_how_to_log_in(w):
    membership = _registered(w, phone="0532 111 22 33")
    user = _add(w, membership, email="  Ayse.Teyze@Example.org ")
    assert user.email == "ayse.teyze@example.org" and user.phone == "+905321112233"
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == "ayse.teyze@example.org"))
    assert "/account/" in mail.body_text and "Ayşe Teyze" in mail.body_text
    assert accounts.find_user_by_email("ayse.teyze@example.org").id == user.id
    # The phone the account had already is told too: nobody adds a way into an account unseen.
    told = db.session.scalars(select(OutboxSms.body).where(OutboxSms.to_number == "+905321112233",
                                                           OutboxSms.purpose == "notification")).all()
    assert told == [translation("tr", ADDED_EMAIL) % {"neighbourhood": w.hood.name_in("tr")}]


def test_a_phone_number_added_to_an_account_with_an_e_mail_address_is_told_there(w):
    membership = _registered(w)
    _add(w, membership, email="ayse@example.org")
    _add(w, membership, phone="0532 987 65 43")
    mails = db.session.scalars(select(OutboxEmail.body_text).where(OutboxEmail.to_address == "ayse@example.org")
                               .order_by(OutboxEmail.id)).all()
    assert len(mails) == 2 and w.hood.name_in("tr") in mails[1] and "Ayşe Teyze" in mails[1]
    assert _count(AssistedEntry, AssistedEntry.action == "contact") == 2


@pytest.mark.parametrize("phone, email, field", [
    ("12", None, "phone"),
    (None, "not an address", "email"),
    (None, None, None),
    ("taken", None, "phone"),
    (None, "taken", "email"),
])
def test_wrong_or_taken_numbers_and_addresses_are_refused(w, phone, email, field):
    membership = _registered(w)
    other = factories.user(email="taken@example.org")
    other.phone = "+905320000000"
    db.session.flush()
    values = {"phone": "0532 000 00 00" if phone == "taken" else phone,
              "email": "taken@example.org" if email == "taken" else email}
    with pytest.raises(ValidationFailed) as refused:
        _add(w, membership, **values)
    assert field in refused.value.reasons
    assert membership.user.phone is None and membership.user.email is None
    assert _count(AssistedEntry) == 0 and _count(AuditEvent, AuditEvent.action == "assisted.contact") == 0


def test_what_the_account_has_is_never_changed(w):
    membership = _registered(w, phone="0532 111 22 33")
    with pytest.raises(ValidationFailed) as refused:
        _add(w, membership, phone="0532 444 55 66")
    assert "phone" in refused.value.reasons and membership.user.phone == "+905321112233"


def test_an_account_the_resident_took_over_is_theirs(w):
    membership = _registered(w, phone="0532 111 22 33")
    membership.user.password_changed_at = membership.user.created_at + dt.timedelta(days=2)  # chose a password
    with pytest.raises(DomainError, match="chosen a password of their own"):
        _add(w, membership, email="ayse@example.org")
    assert membership.user.email is None


def test_nothing_is_added_without_consent(w):
    membership = _registered(w)
    with pytest.raises(ValidationFailed) as refused:
        _add(w, membership, consent=_consent(given=False), phone="0532 987 65 43")
    assert "consent" in refused.value.reasons and membership.user.phone is None


@pytest.mark.parametrize("who", ["other_muhtar", "resident", "admin", "self"])
def test_only_the_muhtar_of_the_neighbourhood_adds_a_contact(w, who):
    membership = _registered(w)
    actor = {"other_muhtar": lambda: factories.muhtar(factories.neighbourhood()), "resident": lambda: w.author,
             "admin": factories.admin, "self": lambda: membership.user}[who]()
    with pytest.raises(NotAllowed):
        _add(w, membership, actor=actor, phone="0532 987 65 43")
    assert membership.user.phone is None


def test_an_account_the_resident_registered_themselves_is_not_the_muhtars_to_change(w):
    membership = db.session.scalar(select(Membership).where(Membership.user_id == w.author.id))
    with pytest.raises(NotAllowed):
        _add(w, membership, phone="0532 987 65 43")


# --- the pages ---------------------------------------------------------------------------------------------

@pytest.fixture
def site(app):
    with committed(app):
        w = pf.world()
        membership = _registered(w)
        own = db.session.scalar(select(Membership.id).where(Membership.user_id == w.author.id))
        other = factories.neighbourhood()
        return {"slug": w.hood.slug, "muhtar": w.muhtar.email, "resident": w.author.email, "own": own,
                "membership": membership.id, "user": membership.user_id,
                "other_muhtar": factories.muhtar(other).email}



def _local_now() -> str:
    return utc_to_wall_clock(factories.now(), "Europe/Istanbul").strftime("%Y-%m-%dT%H:%M")


def test_the_muhtar_adds_a_phone_number_through_the_page(app, site):
    page = f"/n/{site['slug']}/assisted/{site['membership']}"
    muhtar = english_client(app, site["muhtar"])
    assert 'name="contact-phone"' in muhtar.get(page).get_data(as_text=True)
    form = {"contact-phone": "0532 987 65 43", "contact-consent_method": "office",
            "contact-consent_at": _local_now()}
    refused = muhtar.post(f"{page}/contact", data=form)
    assert refused.status_code == 400 and "consent is required" in text(refused)
    assert 'value="0532 987 65 43"' in refused.get_data(as_text=True)  # what was typed is kept
    wrong = muhtar.post(f"{page}/contact", data=dict(form, **{"contact-phone": "12", "contact-consent": "y"}))
    assert wrong.status_code == 400 and 'value="12"' in wrong.get_data(as_text=True)
    done = muhtar.post(f"{page}/contact", data=dict(form, **{"contact-consent": "y"}))
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(User, site["user"]).phone == "+905329876543"
    after = muhtar.get(page).get_data(as_text=True)
    assert 'name="contact-phone"' not in after and 'name="contact-email"' in after  # only what is missing
    listed = text(muhtar.get(f"/n/{site['slug']}/assisted"))
    assert "Add a phone number or an e-mail address" in listed


def test_a_residents_own_account_gets_no_form_and_others_are_refused(app, site):
    muhtar = english_client(app, site["muhtar"])
    own = f"/n/{site['slug']}/assisted/{site['own']}"
    assert 'name="contact-phone"' not in muhtar.get(own).get_data(as_text=True)
    assert muhtar.post(f"{own}/contact", data={"contact-phone": "0532 987 65 43", "contact-consent": "y"}
                       ).status_code == 403
    for email in (site["other_muhtar"], site["resident"]):
        assert english_client(app, email).post(f"/n/{site['slug']}/assisted/{site['membership']}/contact", data={
            "contact-phone": "0532 987 65 43", "contact-consent": "y"}).status_code == 403
    with app.app_context():
        assert db.session.get(User, site["user"]).phone is None
