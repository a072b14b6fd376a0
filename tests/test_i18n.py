"""Languages: complete catalogues, the locale selection order, text direction, Jalali dates."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask import g
from flask_babel import force_locale

from assembly import create_app
from assembly.accounts.models import User
from assembly.config import LOCALES
from assembly.db import db
from assembly.i18n import format_date, format_datetime, format_number, format_percent, select_locale
from tests import factories
from tests.support import login
from tests.support import app_config

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ("tr", "fa", "sv")
PERSIAN_DIGITS = set("۰۱۲۳۴۵۶۷۸۹")
LATIN_DIGITS = set("0123456789")


# --- catalogues ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages in the code and templates today, extracted as `make extract` does
    (but keeping locations, to know which messages templates format)."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "--quiet", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
        "-o", str(pot), "--sort-output", "--omit-header", str(ROOT),
    ])
    with pot.open("rb") as handle:
        catalog = read_po(handle)
    messages = _by_key(catalog)
    assert len(messages) > 50, "extraction found almost nothing: is babel.cfg still right?"
    return messages


def _by_key(catalog) -> dict:
    return {(message.id, message.context): message for message in catalog if message.id}


def _catalogue(locale: str):
    with (ROOT / "assembly" / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def _show(keys) -> str:
    shown = sorted(repr(key[0]) for key in keys)
    return f"{len(shown)} messages:\n  " + "\n  ".join(shown[:40]) + ("\n  …" if len(shown) > 40 else "")


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


_NAMED = re.compile(r"(?<!%)(?:%%)*%\((\w+)\)")


def placeholders(text: str) -> set[str]:
    """The names of the `%(name)s` placeholders; `%%` is a literal percent sign."""
    return set(_NAMED.findall(text or ""))


class _AnyValue(dict):
    """A mapping that has every key, to try a string as a %-format."""

    def __missing__(self, key):
        return 1


def formats(text: str) -> bool:
    try:
        text % _AnyValue()
    except (TypeError, ValueError, KeyError):
        return False
    return True


def test_placeholders_and_formatting_are_read_like_python():
    assert placeholders("%(name)s asks to join %(neighbourhood)s.") == {"name", "neighbourhood"}
    assert placeholders("%(num)d%% of %%(not_a_name)s") == {"num"}
    assert formats("%(num)s%% of verified residents") and formats("no placeholder")
    assert not formats("%(num)s% of verified residents") and not formats("50%")


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogue_has_every_message(extracted, locale):
    missing = set(extracted) - set(_by_key(_catalogue(locale)))
    assert not missing, f"translations/{locale} lacks {_show(missing)}\n(run `make update-translations`)"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogue_has_no_stale_messages(extracted, locale):
    catalogue = _catalogue(locale)
    stale = set(_by_key(catalogue)) - set(extracted)
    assert not stale, f"translations/{locale} still has {_show(stale)}\nthat the code no longer uses"
    assert not catalogue.obsolete, f"translations/{locale} keeps obsolete (#~) {_show(catalogue.obsolete)}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(locale):
    catalogue = _catalogue(locale)
    messages = _by_key(catalogue)
    fuzzy = {key for key, message in messages.items() if message.fuzzy}
    assert not fuzzy, f"translations/{locale} has fuzzy {_show(fuzzy)}"
    untranslated = {key for key, message in messages.items()
                    if not all(s.strip() for s in _strings(message))}
    assert not untranslated, f"translations/{locale} leaves untranslated {_show(untranslated)}"
    wrong_forms = {key for key, message in messages.items()
                   if message.pluralizable and len(_strings(message)) != catalogue.num_plurals}
    assert not wrong_forms, f"translations/{locale}: need {catalogue.num_plurals} plural forms in {_show(wrong_forms)}"


def _placeholder_problem(message, in_template: bool) -> str | None:
    """Why a translation would lose a value or fail when formatted; None when it is fine."""
    if message.pluralizable:
        singular, plural = (placeholders(text) for text in message.id)
        allowed, required = singular | plural, plural - {"num"}  # a form may leave out the count
        formatted = in_template or bool(allowed)
    else:
        allowed = required = placeholders(message.id)
        formatted = in_template or bool(allowed)
    for form in _strings(message):
        if not form:
            continue
        used = placeholders(form)
        if not required <= used <= allowed:
            return f"expects {sorted(allowed)}, has {form!r}"
        if formatted and not formats(form):
            return f"is formatted with %, but {form!r} is not a valid format (a lone % must be %%)"
    return None


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_keep_the_placeholders(extracted, locale):
    """A lost or invented %(name)s raises KeyError when the page is drawn, or drops the value.

    Templates format every message (even without values), Python code only those with values.
    """
    wrong = {}
    for key, message in _by_key(_catalogue(locale)).items():
        source = extracted.get(key)
        in_template = source is not None and any(
            "templates" in Path(path).parts for path, _ in source.locations)
        problem = _placeholder_problem(message, in_template)
        if problem:
            wrong[key] = problem
    assert not wrong, f"translations/{locale} breaks placeholders:" + "".join(
        f"\n  {key[0]!r} {problem}" for key, problem in sorted(wrong.items(), key=lambda item: str(item[0])))


# --- locale selection ---------------------------------------------------------------------

_HTML = re.compile(r'<html lang="(?P<lang>[^"]*)" dir="(?P<dir>[^"]*)">')


def page_locale(response) -> str:
    assert response.status_code == 200, response.status_code
    found = _HTML.search(response.get_data(as_text=True))
    assert found, "no <html lang dir> element"
    return found["lang"]


@pytest.fixture
def persian_hood(app):
    # No app context may stay pushed: requests would share its `g`, and with it the cached locale.
    with app.app_context():
        factories.neighbourhood(slug="dolatabad", locale="fa")
        db.session.commit()
    return "dolatabad"


def test_english_when_nothing_else_is_known(client):
    assert page_locale(client.get("/")) == "en"
    assert page_locale(client.get("/", headers={"Accept-Language": "de, fr;q=0.8"})) == "en"


def test_accept_language_is_used_for_visitors(client):
    assert page_locale(client.get("/", headers={"Accept-Language": "sv-SE, sv;q=0.9, en;q=0.5"})) == "sv"
    assert page_locale(client.get("/", headers={"Accept-Language": "de, tr;q=0.5"})) == "tr"


def test_lang_switch_is_kept_in_the_session_and_beats_accept_language(client):
    assert page_locale(client.get("/?lang=tr", headers={"Accept-Language": "sv"})) == "tr"
    assert page_locale(client.get("/", headers={"Accept-Language": "sv"})) == "tr"
    assert page_locale(client.get("/account/login", headers={"Accept-Language": "fa"})) == "tr"


def test_unknown_lang_is_ignored(client):
    assert page_locale(client.get("/?lang=de", headers={"Accept-Language": "sv"})) == "sv"
    with client.session_transaction() as session:
        assert "lang" not in session


def test_neighbourhood_default_comes_after_accept_language(client, persian_hood):
    for page in ("/n/dolatabad", "/n/dolatabad/proposals"):
        assert page_locale(client.get(page)) == "fa", page
        assert page_locale(client.get(page, headers={"Accept-Language": "de"})) == "fa", page
        assert page_locale(client.get(page, headers={"Accept-Language": "sv"})) == "sv", page
    assert page_locale(client.get("/")) == "en"


def test_session_choice_beats_the_neighbourhood_default(client, persian_hood):
    client.get("/?lang=tr")
    assert page_locale(client.get("/n/dolatabad")) == "tr"


def test_user_setting_beats_session_accept_language_and_neighbourhood(app, client, persian_hood):
    with app.app_context():
        email = factories.user(locale="sv").email
        db.session.commit()
    client.get("/?lang=tr")
    login(client, email)
    assert page_locale(client.get("/", headers={"Accept-Language": "fa"})) == "sv"
    assert page_locale(client.get("/n/dolatabad")) == "sv"


def test_lang_switch_by_a_user_updates_their_setting(app, client, persian_hood):
    with app.app_context():
        person = factories.user(locale="sv")
        db.session.commit()
        email, person_id = person.email, person.id
    login(client, email)
    assert page_locale(client.get("/n/dolatabad?lang=tr")) == "tr"
    assert page_locale(client.get("/n/dolatabad")) == "tr"
    with app.app_context():
        assert db.session.get(User, person_id).locale == "tr"
    elsewhere = app.test_client()
    login(elsewhere, email)
    assert page_locale(elsewhere.get("/", headers={"Accept-Language": "sv"})) == "tr"


def test_unknown_lang_leaves_the_user_setting_alone(app, client):
    with app.app_context():
        person = factories.user(locale="sv")
        db.session.commit()
        email, person_id = person.email, person.id
    login(client, email)
    assert page_locale(client.get("/?lang=xx")) == "sv"
    with app.app_context():
        assert db.session.get(User, person_id).locale == "sv"


def test_english_outside_a_request(plain_app):
    with plain_app.app_context():
        assert select_locale() == "en"


# --- direction ----------------------------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
def test_html_lang_and_direction_on_several_pages(client, persian_hood, locale):
    expected = f'<html lang="{locale}" dir="{"rtl" if locale == "fa" else "ltr"}">'
    for page in ("/", "/account/login", "/account/register", "/n/dolatabad", "/n/dolatabad/proposals"):
        response = client.get(f"{page}?lang={locale}")
        assert response.status_code == 200, page
        assert expected in response.get_data(as_text=True), page
    missing = client.get(f"/no-such-page?lang={locale}")
    assert missing.status_code == 404
    assert expected in missing.get_data(as_text=True)


def test_no_template_hard_codes_the_page_language():
    html_elements = 0
    for template in (ROOT / "assembly" / "templates").rglob("*.html"):
        for element in re.findall(r"<html\b[^>]*>", template.read_text(encoding="utf-8")):
            html_elements += 1
            assert 'lang="{{' in element and 'dir="{{' in element, f"{template}: {element}"
    assert html_elements >= 1


def test_stylesheets_use_logical_properties():
    """Physical left/right would not mirror for Persian; margin-inline-start etc. do."""
    physical = re.compile(r"(?:margin|padding|border)-(?:left|right)\b|(?:text-align|float|clear)\s*:\s*(?:left|right)"
                          r"|(?<![-\w])(?:left|right)\s*:")
    for sheet in (ROOT / "assembly" / "static" / "css").rglob("*.css"):
        for number, line in enumerate(sheet.read_text(encoding="utf-8").splitlines(), 1):
            assert not physical.search(line), f"{sheet.name}:{number}: {line.strip()}"


# --- dates and numbers --------------------------------------------------------------------

@pytest.fixture(scope="module")
def plain_app():
    """An app for formatting only; it never connects to its database."""
    return create_app(app_config("sqlite://"))


@pytest.fixture
def in_locale(plain_app):
    def formatted(locale: str, function, *args, timezone: str | None = None):
        with plain_app.test_request_context("/"), force_locale(locale):
            if timezone:
                g.timezone = timezone
            return function(*args)
    return formatted


def test_persian_dates_are_solar_hijri_with_persian_digits(in_locale):
    assert in_locale("fa", format_date, dt.date(2026, 3, 21)) == "۱ فروردین ۱۴۰۵"
    assert in_locale("fa", format_date, dt.date(2026, 3, 20)) == "۲۹ اسفند ۱۴۰۴"
    assert in_locale("fa", format_date, dt.date(2026, 11, 24)) == "۳ آذر ۱۴۰۵"


def test_persian_dates_follow_the_local_clock(in_locale):
    late_evening_utc = dt.datetime(2026, 3, 20, 22, 0, tzinfo=dt.timezone.utc)
    assert in_locale("fa", format_date, late_evening_utc, timezone="Asia/Tehran") == "۱ فروردین ۱۴۰۵"
    assert in_locale("fa", format_datetime, late_evening_utc, timezone="Asia/Tehran") == "۱ فروردین ۱۴۰۵، ۰۱:۳۰"
    assert in_locale("fa", format_date, late_evening_utc) == "۲۹ اسفند ۱۴۰۴"


@pytest.mark.parametrize("locale, expected", [
    ("en", "Mar 21, 2026"),
    ("tr", "21 Mar 2026"),
    ("sv", "21 mars 2026"),
])
def test_other_languages_use_gregorian_dates_from_babel(in_locale, locale, expected):
    assert in_locale(locale, format_date, dt.date(2026, 3, 21)) == expected
    stamp = in_locale(locale, format_datetime, dt.datetime(2026, 3, 21, 9, 5, tzinfo=dt.timezone.utc))
    assert "2026" in stamp and not PERSIAN_DIGITS & set(stamp)


def test_empty_dates_and_numbers_are_blank(in_locale):
    for locale in LOCALES:
        assert in_locale(locale, format_date, None) == ""
        assert in_locale(locale, format_datetime, None) == ""
        assert in_locale(locale, format_number, None) == ""


def test_persian_numbers_use_persian_digits(in_locale):
    assert in_locale("fa", format_number, 1191) == "۱٬۱۹۱"
    assert in_locale("fa", format_number, 27) == "۲۷"
    assert not LATIN_DIGITS & set(in_locale("fa", format_number, 1234567.5))


def test_persian_percentages_use_persian_digits(in_locale):
    assert in_locale("fa", format_percent, Decimal("27")) == "۲۷٪"
    assert in_locale("fa", format_percent, Decimal("42.9")) == "۴۲٫۹٪"


@pytest.mark.parametrize("locale, expected", [
    ("en", "1,191"),
    ("tr", "1.191"),
    ("sv", "1\xa0191"),
])
def test_other_languages_group_digits_their_own_way(in_locale, locale, expected):
    assert in_locale(locale, format_number, 1191) == expected
