"""Every time a person reads is in the time zone of the place it belongs to (issue 11, point 1).

One fixed instant, 21:40 UTC on 12 January 2027, is used for everything in three places: it is
00:40 the next day in Istanbul, 01:10 the next day in Tehran and 22:40 the same day in Stockholm.
Each page that shows a time is rendered in the place's language and must show the local time and
date, never the UTC ones, and say which zone it uses where that could be unclear.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from flask import g
from sqlalchemy import select

from assembly import create_app, i18n
from assembly.actors import SystemActor
from assembly.assemblies import services as assemblies
from assembly.assemblies import voting
from assembly.cases import services as cases
from assembly.db import db
from assembly.neighbourhoods import residents, structure
from assembly.notifications.models import OutboxEmail
from assembly.proposals import services as proposals
from assembly.proposals.services import ProposalInput
from tests import factories
from tests.assembly_factories import client_of, committed
from tests.support import app_config

UTC = dt.timezone.utc
INSTANT = dt.datetime(2027, 1, 12, 21, 40, tzinfo=UTC)
DAY = dt.timedelta(days=1)

PLACES = {
    # zone, language, the local wall-clock time of INSTANT as the page writes it
    "istanbul": ("Europe/Istanbul", "tr", "00:40"),
    "tehran": ("Asia/Tehran", "fa", "۰۱:۱۰"),
    "stockholm": ("Europe/Stockholm", "sv", "22:40"),
}
UTC_TIMES = ("21:40", "۲۱:۴۰")


@dataclass
class Place:
    zone: str
    locale: str
    local_time: str
    slug: str
    reference: str
    assembly_id: int
    body_id: int
    voter: object
    staff: object
    muhtar: object


def _build(key: str) -> Place:
    zone, locale, local_time = PLACES[key]
    actor, start = SystemActor(), INSTANT - 3 * DAY
    owner = structure.create_municipality(actor, factories.now(), code=key[:3].upper() + "T", name=key.title(),
                                      timezone=zone, default_locale=locale)
    hood = structure.create_neighbourhood(actor, factories.now(), municipality=owner, slug=f"{key}-times", code="TIMES",
                                      names={locale: key.title(), "en": key.title()}, default_locale=locale,
                                      quorum_percent=0, support_threshold=1)
    category = structure.create_category(actor, factories.now(), municipality=owner, slug="lighting",
                                     names={"en": "Lighting", locale: "Lighting"}, default_body=None)
    council = structure.create_body(actor, factories.now(), municipality=owner, slug="council", name="Council",
                                kind="council")
    muhtar = factories.muhtar(hood, factories.user(name="Muhtar", locale=locale))
    author = factories.resident(hood, factories.user(locale=locale))
    voter = factories.resident(hood, factories.user(locale=locale))
    staff = factories.staff(council, factories.user(name="Staff", locale=locale))
    proposal = proposals.create_proposal(author, start, hood, ProposalInput(
        title="Street lights", body="The lamps are broken.", category_id=category.id), publish=True)
    proposals.support(voter, start, proposal)
    session = assemblies.create_assembly(muhtar, start, hood, title="Winter session", meeting_start=INSTANT,
                                         meeting_end=INSTANT + dt.timedelta(hours=2))
    assemblies.add_agenda_item(muhtar, start, session, proposal.id)
    assemblies.set_ballot(muhtar, start, session, method="yes_no", secrecy="open", opens_at=INSTANT - DAY,
                          closes_at=INSTANT, quorum_percent=0)
    assemblies.announce(muhtar, start, session)
    voting.advance(session, INSTANT - DAY)
    voting.cast_vote(voter, INSTANT - DAY, session, {str(session.items[0].id): "yes"})
    voting.advance(session, INSTANT)
    case = cases.forward(muhtar, INSTANT, proposal, council)
    cases.apply_event(staff, INSTANT, case, "received", {})
    cases.apply_event(staff, INSTANT, case, "scheduled", {"meeting_at": INSTANT, "agenda_number": "7"})
    residents.request_membership(factories.user(), INSTANT, hood, "Street 9")
    return Place(zone, locale, local_time, hood.slug, case.reference, session.id, council.id, voter, staff, muhtar)


@pytest.fixture
def places(app):
    with committed(app):
        built = {key: _build(key) for key in PLACES}
    return built


def _page(app, place: Place, path: str, user=None) -> str:
    client = client_of(app, user)
    response = client.get(path, headers={"Accept-Language": place.locale})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _expected(app, place: Place, value: dt.datetime, kind: str) -> tuple[str, str]:
    """The value as the place's page must write it, and as it would read in UTC."""
    fmt = i18n.format_datetime if kind == "datetime" else i18n.format_date
    with app.test_request_context(headers={"Accept-Language": place.locale}):
        return fmt(value, zone=place.zone), fmt(value, zone="UTC")


def _assert_local(text: str, place: Place, what: str) -> None:
    assert place.local_time in text, f"{what}: the local time {place.local_time} is missing"
    for utc in UTC_TIMES:
        assert utc not in text, f"{what}: shows the UTC time {utc}"


@pytest.mark.parametrize("key", list(PLACES))
def test_every_page_with_a_time_shows_the_places_local_time(app, places, key):
    place = places[key]
    pages = {
        "case page": (f"/cases/{place.reference}", None),
        "case page for staff": (f"/cases/{place.reference}", place.staff),
        "session page": (f"/n/{place.slug}/assemblies/{place.assembly_id}", None),
        "session list": (f"/n/{place.slug}/assemblies/", None),
        "notifications": ("/notifications/", place.voter),
        "membership desk": (f"/n/{place.slug}/members", place.muhtar),
    }
    for what, (path, user) in pages.items():
        _assert_local(_page(app, place, path, user), place, what)

    local, utc = _expected(app, place, INSTANT, "datetime")
    assert local != utc
    case_page = _page(app, place, f"/cases/{place.reference}")
    assert case_page.count(local) >= 3  # forwarded, the council meeting, and each step of the timeline
    assert utc not in case_page

    due_local, due_utc = _expected(app, place, INSTANT + 30 * DAY, "date")
    inbox = _page(app, place, f"/staff/bodies/{place.body_id}", place.staff)
    assert due_local in inbox
    if due_local != due_utc:
        assert due_utc not in inbox


@pytest.mark.parametrize("key", list(PLACES))
def test_pages_say_which_time_zone_they_use(app, places, key):
    place = places[key]
    with app.test_request_context(headers={"Accept-Language": place.locale}):
        label = i18n.timezone_label(place.zone)
    for path, user in ((f"/cases/{place.reference}", None), ("/notifications/", place.voter),
                       (f"/n/{place.slug}/assemblies/{place.assembly_id}/edit", place.muhtar)):
        page = _page(app, place, path, user)
        assert label in page or label.replace("(", "&#40;") in page, path


@pytest.mark.parametrize("key", list(PLACES))
def test_emails_carry_the_local_time_and_name_the_zone(app, places, key):
    place = places[key]
    with app.app_context():
        bodies = list(db.session.scalars(select(OutboxEmail.body_text).where(OutboxEmail.to_address == place.voter.email)))
    announced = [body for body in bodies if "Winter session" in body]
    assert len(announced) == 2  # the announcement (with the meeting) and the opening (with the close)
    for body in announced:
        _assert_local(body, place, "e-mail")
    with app.test_request_context(headers={"Accept-Language": place.locale}):
        label = i18n.timezone_label(place.zone)
    assert all(label in body for body in announced)


def test_the_time_zone_label_names_fixed_offsets_only():
    app = create_app(app_config("sqlite://"))
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert i18n.timezone_label("Asia/Tehran") == "Iran Time (UTC+03:30)"
        assert i18n.timezone_label("Europe/Istanbul") == "Türkiye Time (UTC+03:00)"
        assert i18n.timezone_label("Europe/Stockholm") == "Sweden Time"  # summer time: no one offset
        assert i18n.timezone_label("UTC") == "UTC"
        assert i18n.timezone_label("America/Sao_Paulo").endswith("(UTC-03:00)")
        # a time given as stored in event data (ISO 8601 text) is shown like a datetime
        assert i18n.format_datetime(INSTANT.isoformat(), zone="Asia/Tehran") == \
            i18n.format_datetime(INSTANT, zone="Asia/Tehran")
        with i18n.in_timezone("Asia/Tehran"):
            assert i18n.format_datetime(INSTANT) == "Jan 13, 2027 1:10\u202fAM"
        assert "timezone" not in g
