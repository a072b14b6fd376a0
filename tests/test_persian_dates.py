"""Persian dates in, not only out (issue 11, point 2): in Persian every date field takes a Solar
Hijri date (Persian or Latin digits) and says so, without JavaScript; other languages keep the
Gregorian calendar. Tehran's case numbers carry the Solar Hijri year. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from assembly import i18n
from assembly.actors import SystemActor
from assembly.assemblies.models import Assembly
from assembly.cases import services as cases
from assembly.cases.models import Case
from assembly.db import db
from assembly.neighbourhoods import structure
from tests import case_factories as cf
from tests import factories
from tests.support import field_errors, login, text, translated_app, translation

UTC = dt.timezone.utc


def _tehran(code: str = "TEH20"):
    owner = structure.create_municipality(SystemActor(), factories.now(), code=code, name="Tehran 20",
                                      timezone="Asia/Tehran", default_locale="fa")
    hood = structure.create_neighbourhood(SystemActor(), factories.now(), municipality=owner, slug=f"dolatabad-{code}",
                                      code="DOLATABAD", names={"fa": "دولت‌آباد", "en": "Dowlatabad"},
                                      default_locale="fa", quorum_percent=0, support_threshold=1)
    return owner, hood


# --- reading typed dates ------------------------------------------------------------------------

@pytest.fixture
def request_in(app):
    def enter(locale: str):
        return app.test_request_context(headers={"Accept-Language": locale})
    return enter


@pytest.mark.parametrize("typed", ["1405/01/20 18:30", "۱۴۰۵/۰۱/۲۰ ۱۸:۳۰", "١٤٠٥-١-٢٠ ١٨:٣٠", "1405.1.20, 18.30",
                                   "۱۴۰۵/۱/۲۰ ۱۸:۳۰"])
def test_persian_readers_type_solar_hijri_dates_in_any_digits(request_in, typed):
    with request_in("fa"):
        assert i18n.parse_wall_clock(typed) == dt.datetime(2026, 4, 9, 18, 30)


@pytest.mark.parametrize("typed", ["1404/12/30 10:00",   # Esfand 30 exists only in leap years; 1404 is not one
                                   "1403/12/31 10:00",   # Esfand never has 31 days
                                   "1402/07/31 10:00",   # Mehr has 30 days
                                   "1405/13/01 10:00"])
def test_dates_that_do_not_exist_in_the_solar_hijri_calendar_are_refused(request_in, typed):
    with request_in("fa"), pytest.raises(i18n.DateEntryError) as refused:
        i18n.parse_wall_clock(typed)
    assert str(refused.value) == _persian("This date does not exist in the Solar Hijri calendar.")


def _persian(msgid: str, **values) -> str:
    """The message as a Persian reader gets it (English while a translation is missing)."""
    found = translation("fa", msgid) or msgid
    return found % values if values else found


def test_the_last_day_of_a_leap_year_is_accepted(request_in):
    with request_in("fa"):
        assert i18n.parse_wall_clock("1403/12/30 09:00") == dt.datetime(2025, 3, 20, 9, 0)


@pytest.mark.parametrize("typed, message, values", [
    ("2026-04-09 18:30", "Give the year in the Solar Hijri calendar, e.g. %(year)s.", {"year": None}),
    ("۱۴۰۵/۰۱/۲۰", "Give the time too, e.g. 18:30.", {}),
    ("۱۴۰۵/۰۱/۲۰ ۲۵:۰۰", "There is no such time of day. Use hours 0–23 and minutes 0–59.", {}),
    ("فردا", "Enter the date and time like this: %(example)s.", {"example": "۱۴۰۵/۰۱/۲۰ ۱۸:۳۰"}),
])
def test_a_wrong_persian_entry_says_what_is_expected_in_persian(request_in, typed, message, values):
    import jdatetime

    if "year" in values:
        values["year"] = i18n.persian_digits(str(jdatetime.date.today().year))
    with request_in("fa"), pytest.raises(i18n.DateEntryError) as refused:
        i18n.parse_wall_clock(typed)
    assert str(refused.value) == _persian(message, **values)
    assert translation("fa", message)  # translated, not English


@pytest.mark.parametrize("locale", ["en", "tr", "sv"])
def test_other_languages_keep_the_gregorian_calendar(request_in, locale):
    with request_in(locale):
        assert i18n.parse_wall_clock("2026-04-09T18:30") == dt.datetime(2026, 4, 9, 18, 30)
        assert i18n.parse_wall_clock("2026/4/9 18:30") == dt.datetime(2026, 4, 9, 18, 30)
        with pytest.raises(i18n.DateEntryError):
            i18n.parse_wall_clock("2026-02-30T10:00")
        assert i18n.wall_clock_text(dt.datetime(2026, 4, 9, 18, 30)) == "2026-04-09T18:30"
    with request_in("fa"):
        assert i18n.wall_clock_text(dt.datetime(2026, 4, 9, 18, 30)) == "۱۴۰۵/۰۱/۲۰ ۱۸:۳۰"


# --- the forms, in Persian, through the pages ------------------------------------------------------

@pytest.fixture
def persian_app(database_url, tmp_path_factory):
    with translated_app(database_url, tmp_path_factory) as app:
        yield app


@pytest.fixture
def tehran(persian_app):
    with persian_app.app_context():
        _owner, hood = _tehran()
        muhtar = factories.muhtar(hood, factories.user(email="maryam@example.org", name="مریم", locale="fa"))
        db.session.commit()
        return hood.slug, muhtar.email


def _muhtar_client(app, email: str):
    client = app.test_client()
    login(client, email)
    return client


def test_a_session_is_called_with_solar_hijri_times_and_they_are_stored_in_utc(persian_app, tehran):
    slug, email = tehran
    client = _muhtar_client(persian_app, email)
    form = text(client.get(f"/n/{slug}/assemblies/new"))
    assert translation("fa", "Solar Hijri calendar: year/month/day, then the time, e.g. %(example)s").replace(
        "%(example)s", "۱۴۰۵/۰۱/۲۰ ۱۸:۳۰") in form
    assert 'type="datetime-local"' not in form and 'placeholder="۱۴۰۵/۰۱/۲۰ ۱۸:۳۰"' in form
    response = client.post(f"/n/{slug}/assemblies/new", data={
        "title": "نشست فروردین", "meeting_start": "۱۴۰۵/۰۱/۲۰ ۱۸:۳۰", "meeting_end": "1405/01/20 20:30"})
    assert response.status_code == 302
    with persian_app.app_context():
        session = db.session.scalar(select(Assembly).where(Assembly.title == "نشست فروردین"))
        # 18:30 in Tehran (UTC+03:30) on 1405/01/20 = 9 April 2026
        assert session.meeting_start == dt.datetime(2026, 4, 9, 15, 0, tzinfo=UTC)
        assert session.meeting_end == dt.datetime(2026, 4, 9, 17, 0, tzinfo=UTC)
        assembly_id = session.id
    edit = client.get(f"/n/{slug}/assemblies/{assembly_id}/edit").get_data(as_text=True)
    assert 'value="۱۴۰۵/۰۱/۲۰ ۱۸:۳۰"' in edit and 'value="۱۴۰۵/۰۱/۲۰ ۲۰:۳۰"' in edit


def test_an_impossible_date_is_refused_in_persian_and_the_form_keeps_what_was_typed(persian_app, tehran):
    slug, email = tehran
    client = _muhtar_client(persian_app, email)
    response = client.post(f"/n/{slug}/assemblies/new", data={
        "title": "نشست اسفند", "meeting_start": "۱۴۰۴/۱۲/۳۰ ۱۸:۰۰", "meeting_end": ""})
    assert response.status_code == 400
    expected = translation("fa", "This date does not exist in the Solar Hijri calendar.")
    assert expected and expected != "This date does not exist in the Solar Hijri calendar."
    assert field_errors(response, "meeting_start") == [expected]
    page = response.get_data(as_text=True)
    assert 'value="۱۴۰۴/۱۲/۳۰ ۱۸:۰۰"' in page and "نشست اسفند" in html.unescape(page)
    with persian_app.app_context():
        assert db.session.scalar(select(Assembly).where(Assembly.title == "نشست اسفند")) is None


def test_the_voting_window_is_set_in_solar_hijri(persian_app, tehran):
    slug, email = tehran
    client = _muhtar_client(persian_app, email)
    client.post(f"/n/{slug}/assemblies/new", data={"title": "نشست رأی‌گیری"})
    with persian_app.app_context():
        assembly_id = db.session.scalar(select(Assembly.id).where(Assembly.title == "نشست رأی‌گیری"))
    page = text(client.get(f"/n/{slug}/assemblies/{assembly_id}/ballot"))
    assert "۱۴۰۵/۰۱/۲۰ ۱۸:۳۰" in page
    refused = client.post(f"/n/{slug}/assemblies/{assembly_id}/ballot", data={
        "method": "yes_no", "secrecy": "secret", "opens_at": "1410/01/01 08:00", "closes_at": "۱۴۱۰/۱۲/۳۰ ۲۰:۰۰",
        "quorum_percent": "0", "majority": "simple"})
    assert refused.status_code == 400  # 1410 is not a leap year: Esfand has 29 days
    assert field_errors(refused, "closes_at") == [translation("fa", "This date does not exist in the Solar Hijri calendar.")]
    assert 'value="۱۴۱۰/۱۲/۳۰ ۲۰:۰۰"' in refused.get_data(as_text=True)
    assert 'value="1410/01/01 08:00"' in refused.get_data(as_text=True)
    accepted = client.post(f"/n/{slug}/assemblies/{assembly_id}/ballot", data={
        "method": "yes_no", "secrecy": "secret", "opens_at": "۱۴۱۰/۰۱/۰۱ ۰۸:۰۰", "closes_at": "۱۴۱۰/۰۱/۰۲ ۲۰:۰۰",
        "quorum_percent": "0", "majority": "simple"})
    assert accepted.status_code == 302
    with persian_app.app_context():
        ballot = db.session.get(Assembly, assembly_id).ballot
        assert ballot.opens_at == dt.datetime(2031, 3, 21, 4, 30, tzinfo=UTC)  # 1 Farvardin 1410, 08:00 Tehran
        assert ballot.closes_at == dt.datetime(2031, 3, 22, 16, 30, tzinfo=UTC)


def test_staff_schedule_a_case_in_solar_hijri(persian_app):
    with persian_app.app_context():
        w = cf.world(code="TEHS")
        w.hood.default_locale = "fa"
        w.staff.locale = "fa"
        case = cf.forwarded(w, factories.now())
        cases.receive(w.staff, factories.now(), case)
        reference, email = case.reference, w.staff.email
        db.session.commit()
    client = _muhtar_client(persian_app, email)
    response = client.post(f"/cases/{reference}/events/scheduled",
                           data={"meeting_at": "۱۴۰۶/۰۲/۱۰ ۱۰:۰۰", "agenda_number": "۱۲"})
    assert response.status_code == 302, field_errors(response, "meeting_at")
    with persian_app.app_context():
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        # 10:00 in Istanbul (the world's municipality, UTC+3) on 1406/02/10 = 30 April 2027
        assert case.council_meeting_at == dt.datetime(2027, 4, 30, 7, 0, tzinfo=UTC)
    refused = client.post(f"/cases/{reference}/events/scheduled", data={"meeting_at": "۱۴۰۶/۱۲/۳۰ ۱۰:۰۰"})
    assert refused.status_code == 400
    assert 'value="۱۴۰۶/۱۲/۳۰ ۱۰:۰۰"' in refused.get_data(as_text=True)


# --- case numbers and the lookup page -------------------------------------------------------------

@pytest.mark.parametrize("moment, zone, locale, year", [
    (dt.datetime(2027, 3, 20, 21, 0, tzinfo=UTC), "Asia/Tehran", "fa", 1406),     # 00:30 on 1 Farvardin 1406
    (dt.datetime(2027, 3, 20, 20, 0, tzinfo=UTC), "Asia/Tehran", "fa", 1405),     # 23:30 on 29 Esfand 1405
    (dt.datetime(2026, 12, 31, 22, 30, tzinfo=UTC), "Europe/Istanbul", "tr", 2027),  # 01:30 on New Year's Day
    (dt.datetime(2026, 12, 31, 22, 30, tzinfo=UTC), "Europe/Stockholm", "sv", 2026),  # 23:30 on New Year's Eve
])
def test_case_numbers_carry_the_year_of_the_neighbourhoods_calendar_at_the_place(ctx, moment, zone, locale, year):
    owner = structure.create_municipality(SystemActor(), factories.now(), code="YEAR", name="Y", timezone=zone,
                                      default_locale=locale)
    hood = structure.create_neighbourhood(SystemActor(), factories.now(), municipality=owner, slug="year", code="YEAR",
                                      names={locale: "Y"}, default_locale=locale)
    assert cases.reference_year(hood, moment) == year
    assert cases._next_reference(hood, moment) == f"YEAR-YEAR-{year}-0001"


def test_a_tehran_case_is_numbered_in_the_solar_hijri_year_and_found_with_persian_digits(app):
    with app.app_context():
        w = cf.world(code="TEH")
        w.hood.default_locale = "fa"
        case = cf.forwarded(w, dt.datetime(2027, 1, 12, 9, 0, tzinfo=UTC))
        reference = case.reference
        db.session.commit()
    assert re.fullmatch(r"TEH-CAFERAGA-1405-\d{4}", reference)
    client = app.test_client()
    typed = reference.lower().translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    response = client.get("/cases", query_string={"ref": typed})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{reference}")


def test_the_persian_lookup_page_shows_a_tehran_example(app):
    import jdatetime

    persian = text(app.test_client().get("/cases", headers={"Accept-Language": "fa"}))
    assert f"TEH20-DOLATABAD-{jdatetime.date.today().year}-0042" in persian
    english = text(app.test_client().get("/cases", headers={"Accept-Language": "en"}))
    assert f"KDK-CAFERAGA-{dt.date.today().year}-0042" in english
