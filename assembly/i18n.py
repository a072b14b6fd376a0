"""Locale selection, text direction and locale-aware formatting (Jalali dates for Persian)."""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import weakref
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import jdatetime
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.dates import get_timezone_location
from babel.numbers import format_decimal
from babel.numbers import format_percent as babel_format_percent
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale, get_translations, refresh
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup
from werkzeug.utils import cached_property

from assembly.config import LOCALES, RTL_LOCALES

LANGUAGE_NAMES = {"en": "English", "tr": "Türkçe", "fa": "فارسی", "sv": "Svenska"}

PERSIAN_MONTHS = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# Persian (۰–۹) and Arabic-Indic (٠–٩) digits, as people type them, read as 0–9.
_LATIN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def valid_locale(value: str | None) -> str | None:
    if value and value in LOCALES:
        return value
    return None


def select_locale() -> str:
    """User setting, then `?lang=` kept in the session, then Accept-Language,
    then the neighbourhood being viewed, then English.

    A `?lang=` switch by a logged-in user updates their setting (see
    `accounts.views.remember_language_switch`), so the switch always wins for the request it is on.
    """
    if not has_request_context():
        return "en"
    asked = valid_locale(request.args.get("lang"))
    if asked:
        return asked
    if current_user and current_user.is_authenticated:
        user_locale = valid_locale(getattr(current_user, "locale", None))
        if user_locale:
            return user_locale
    kept = valid_locale(session.get("lang"))
    if kept:
        return kept
    accepted = request.accept_languages.best_match(LOCALES)
    if accepted:
        return accepted
    neighbourhood_locale = valid_locale(g.get("neighbourhood_locale"))
    if neighbourhood_locale:
        return neighbourhood_locale
    return "en"


# The one way times are shown to people: every date and time a person reads (pages, notifications,
# e-mails, CSV, printable pages) is in the time zone of the place it belongs to. A view that loads a
# neighbourhood, a case or a body calls `use_timezone` with its municipality's zone; pages that belong
# to no one place (notifications, settings, staff desk) use the reader's home zone (see
# `register_home_timezone`); anything else uses DEFAULT_TIMEZONE. Text rendered for someone else
# (an e-mail) takes the zone explicitly: `format_datetime(value, zone=...)` or `in_timezone(zone)`.
# Machine formats (API, Open311, JSON, feeds) stay ISO 8601 with an offset and never use these.
_home_timezone: Callable[[object], str | None] | None = None


def register_home_timezone(resolver: Callable[[object], str | None]) -> None:
    """The domain that knows where people live tells this module the reader's home zone."""
    global _home_timezone
    _home_timezone = resolver


def use_timezone(zone: str | None) -> None:
    """Show this request's times in `zone` (the time zone of the place the page is about)."""
    if zone and has_request_context():
        g.timezone = zone


@contextlib.contextmanager
def in_timezone(zone: str | None):
    """Format times in `zone` inside the block (e-mails, notifications rendered for a reader)."""
    previous = g.get("timezone") if has_app_context() else None
    if zone and has_app_context():
        g.timezone = zone
    try:
        yield
    finally:
        if zone and has_app_context():
            if previous:
                g.timezone = previous
            else:
                g.pop("timezone", None)
def use_place(*, locale: str, timezone: str) -> None:
    """The page belongs to a place (a neighbourhood): its language, for visitors who chose none,
    and its time zone. Forgets a locale or zone already worked out for this request."""
    g.neighbourhood_locale = locale
    use_timezone(timezone)
    refresh()


def select_timezone() -> str:
    if has_app_context() and g.get("timezone"):
        return g.timezone
    if has_request_context() and _home_timezone is not None and current_user and current_user.is_authenticated:
        if "home_timezone" not in g:
            g.home_timezone = _home_timezone(current_user)
        if g.home_timezone:
            return g.home_timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def local_zone(zone: str | None = None) -> ZoneInfo:
    return ZoneInfo(zone or select_timezone())


def timezone_label(zone: str | None = None) -> str:
    """A reader's name for the zone times are shown in, e.g. “Türkiye Time (UTC+03:00)”."""
    info = local_zone(zone)
    if str(info) in ("UTC", "Etc/UTC"):
        return "UTC"
    name = get_timezone_location(info, locale=current_locale())
    year = dt.datetime.now(info).year
    winter, summer = (dt.datetime(year, 1, 15, tzinfo=info).utcoffset(), dt.datetime(year, 7, 15, tzinfo=info).utcoffset())
    if winter == summer:  # a fixed offset can be given; one that changes in summer would mislead half the year
        minutes = int(winter.total_seconds()) // 60
        hours, rest = divmod(abs(minutes), 60)
        name = f"{name} (UTC{'+' if minutes >= 0 else '-'}{hours:02d}:{rest:02d})"
    return persian_digits(name) if current_locale() == "fa" else name


# --- the request's language and catalogue, looked up once ------------------------------------------
# Flask-Babel works both out again for every message: the request's state through three lookups on
# `g`, then the catalogue by the locale's identifier, built from the `Locale` object each time. A page
# translates dozens of messages, so the state keeps both for the locale they were found for: the
# same `Locale` object while neither `refresh()` (a neighbourhood's page, a changed setting) nor
# `force_locale` (an e-mail in its reader's language) has replaced it.

def _babel_state() -> SimpleNamespace | None:
    """Flask-Babel's per-request state (`g._flask_babel`), as Flask-Babel itself makes it."""
    if not has_app_context():
        return None
    state = g.get("_flask_babel")
    if state is None:
        state = g._flask_babel = SimpleNamespace()
    return state


class CatalogueDomain(Domain):
    """Flask-Babel's message domain, keeping the catalogue found for the request's locale."""

    def get_translations(self):
        state = _babel_state()
        if state is None:
            return super().get_translations()
        locale = vars(state).get("babel_locale") or get_locale()
        kept = vars(state).get("assembly_catalogue")
        if kept is not None and kept[0] is locale and kept[1] is self:
            return kept[2]
        translations = super().get_translations()
        state.assembly_catalogue = (locale, self, translations, _finished_messages(translations))
        return translations


def _catalogue() -> tuple:
    """(locale, domain, translations, finished template messages) of the request, as kept above."""
    state = _babel_state()
    if state is not None:
        kept = vars(state).get("assembly_catalogue")
        if kept is not None and kept[0] is vars(state).get("babel_locale") \
                and kept[1] is vars(state).get("babel_domain"):
            return kept
        translations = get_translations()
        kept = vars(state).get("assembly_catalogue")
        if kept is not None and kept[2] is translations:
            return kept
    else:
        translations = get_translations()
    return (None, None, translations, _finished_messages(translations))


class AssemblyBabel(Babel):
    """Flask-Babel with the domain above."""

    @cached_property
    def domain_instance(self):
        return CatalogueDomain(domain=self.domain)


def current_locale() -> str:
    state = _babel_state()
    if state is None:
        return "en"
    locale = vars(state).get("babel_locale") or get_locale()
    kept = vars(state).get("assembly_locale")
    if kept is not None and kept[0] is locale:
        return kept[1]
    name = str(locale or "en")
    state.assembly_locale = (locale, name)
    return name


# --- messages in templates ------------------------------------------------------------------------
# What Jinja's i18n extension does with Flask-Babel's callables (`newstyle`: the translation is
# Markup when the template escapes, then always formatted with `%`), with the request's catalogue
# looked up once and, for a message without variables, the finished text kept per catalogue (a
# page's fixed wording: headings, labels, links).

_KEPT_PER_CATALOGUE = 4096
_template_messages: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _finished_messages(translations) -> dict:
    found = _template_messages.get(translations)
    if found is None:
        found = _template_messages[translations] = {}
    return found


@pass_context
def template_gettext(__context, __string: str, **variables):
    _locale, _domain, translations, finished = _catalogue()
    autoescape = __context.eval_ctx.autoescape
    if not variables and type(__string) is str:
        key = (__string, autoescape)
        text = finished.get(key)
        if text is None:
            text = translations.ugettext(__string)
            text = (Markup(text) if autoescape else text) % variables
            if len(finished) < _KEPT_PER_CATALOGUE:
                finished[key] = text
        return text
    text = translations.ugettext(__string)
    if autoescape:
        text = Markup(text)
    return text % variables


@pass_context
def template_ngettext(__context, __singular: str, __plural: str, __num, **variables):
    variables.setdefault("num", __num)
    text = _catalogue()[2].ungettext(__singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def text_direction(locale: str | None = None) -> str:
    return "rtl" if (locale or current_locale()) in RTL_LOCALES else "ltr"


def _moment(value: dt.datetime | str) -> dt.datetime:
    """A stored instant; event data keeps them as ISO 8601 strings."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


def _local(value: dt.datetime | str, zone: str | None = None) -> dt.datetime:
    return _moment(value).astimezone(local_zone(zone))


def wall_clock_to_utc(value: dt.datetime | None, timezone: str) -> dt.datetime | None:
    """A datetime-local form value is wall-clock time in the place's time zone."""
    return value.replace(tzinfo=ZoneInfo(timezone)).astimezone(dt.timezone.utc) if value else None


def utc_to_wall_clock(value: dt.datetime | None, timezone: str) -> dt.datetime | None:
    """The naive wall-clock time a datetime-local form field shows."""
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None) if value else None


def persian_digits(text: str) -> str:
    return text.translate(_PERSIAN_DIGITS)


def latin_digits(text: str) -> str:
    return text.translate(_LATIN_DIGITS)


# --- dates typed in: the calendar of the reader's language ---------------------------------------
# Dates are shown in the Solar Hijri calendar to Persian readers (`format_date`), so Persian
# readers also type them in it; every other language uses the Gregorian calendar. The rule is the
# reader's language, not the place: a Persian speaker in Istanbul reads and writes Solar Hijri.

def uses_solar_hijri(locale: str | None = None) -> bool:
    return (locale or current_locale()) == "fa"


class DateEntryError(ValueError):
    """A typed date or time that cannot be read; the message is in the reader's language."""


_TYPED = re.compile(r"^(\d{1,4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})"
                    r"(?:\s*(?:T|\s|,|،)\s*(\d{1,2})\s*[:.٫]\s*(\d{1,2}))?$")
_EXAMPLE = dt.datetime(2026, 4, 9, 18, 30)


def wall_clock_text(value: dt.datetime | None, locale: str | None = None) -> str:
    """A wall-clock time as a date field shows it: `1405/01/20 18:30` in Persian digits, else the
    `2026-04-09T18:30` of a datetime-local input."""
    if value is None:
        return ""
    if uses_solar_hijri(locale):
        day = jdatetime.date.fromgregorian(date=value.date())
        return persian_digits(f"{day.year:04d}/{day.month:02d}/{day.day:02d} {value:%H:%M}")
    return value.strftime("%Y-%m-%dT%H:%M")


def date_entry_hint(locale: str | None = None) -> str:
    """Which calendar and what shape a date field expects, with an example."""
    if uses_solar_hijri(locale):
        return _("Solar Hijri calendar: year/month/day, then the time, e.g. %(example)s",
                 example=wall_clock_text(_EXAMPLE, locale))
    return _("Year-month-day, then the time, e.g. %(example)s", example=_EXAMPLE.strftime("%Y-%m-%d %H:%M"))


def parse_wall_clock(text: str, locale: str | None = None) -> dt.datetime | None:
    """Read a typed date and time (naive wall-clock time) in the calendar of the reader's language.

    Persian or Arabic-Indic digits are accepted as well as Latin ones; the parts may be separated
    by `-`, `/` or `.`. Raises DateEntryError with a translated message."""
    raw = latin_digits((text or "").strip())
    if not raw:
        return None
    found = _TYPED.match(raw)
    if found is None:
        raise DateEntryError(_("Enter the date and time like this: %(example)s.",
                               example=wall_clock_text(_EXAMPLE, locale).replace("T", " ")))
    year, month, day = (int(part) for part in found.group(1, 2, 3))
    if found.group(4) is None:
        raise DateEntryError(_("Give the time too, e.g. 18:30."))
    hour, minute = int(found.group(4)), int(found.group(5))
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise DateEntryError(_("There is no such time of day. Use hours 0–23 and minutes 0–59."))
    if uses_solar_hijri(locale):
        if not 1300 <= year <= 1500:
            raise DateEntryError(_("Give the year in the Solar Hijri calendar, e.g. %(year)s.",
                                   year=persian_digits(str(jdatetime.date.today().year))))
        try:
            date = jdatetime.date(year, month, day).togregorian()
        except ValueError:
            raise DateEntryError(_("This date does not exist in the Solar Hijri calendar.")) from None
    else:
        try:
            date = dt.date(year, month, day)
        except ValueError:
            raise DateEntryError(_("This date does not exist.")) from None
    return dt.datetime.combine(date, dt.time(hour, minute))


# Formatted values are kept (bounded, least recently used dropped): a page shows the same dates and
# counts to every reader, and Babel parses the locale's pattern and builds its data on every call.
# The keys hold everything the text depends on: the locale, the format, and the value itself (a
# moment as its wall-clock time, fold and zone, since equal instants in two zones compare equal).
_KEPT_VALUES = 4096


@functools.lru_cache(maxsize=_KEPT_VALUES)
def _jalali(value: dt.date) -> str:
    day = jdatetime.date.fromgregorian(date=value)
    return persian_digits(f"{day.day} {PERSIAN_MONTHS[day.month - 1]} {day.year}")


def format_date(value: dt.date | dt.datetime | str | None, fmt: str = "medium", zone: str | None = None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (dt.datetime, str)):
        value = _local(value, zone).date()
    return _date_text(current_locale(), fmt, value)


@functools.lru_cache(maxsize=_KEPT_VALUES)
def _date_text(locale: str, fmt: str, value: dt.date) -> str:
    if locale == "fa":
        return _jalali(value)
    return babel_format_date(value, format=fmt, locale=locale)


def format_datetime(value: dt.datetime | str | None, fmt: str = "medium", zone: str | None = None) -> str:
    """The moment as wall-clock time where the reader's place is (see `select_timezone`)."""
    if value is None or value == "":
        return ""
    local = _local(value, zone)
    return _moment_text(current_locale(), fmt, local.replace(tzinfo=None), local.fold, local.tzinfo)


@functools.lru_cache(maxsize=_KEPT_VALUES)
def _moment_text(locale: str, fmt: str, wall_clock: dt.datetime, fold: int, zone: dt.tzinfo) -> str:
    local = wall_clock.replace(tzinfo=zone, fold=fold)
    if locale == "fa":
        return f"{_jalali(local.date())}، {persian_digits(local.strftime('%H:%M'))}"
    if fmt == "medium":  # a readable date with hours and minutes, no seconds
        time = babel_format_time(local, format="short", locale=locale, tzinfo=local.tzinfo)
        return f"{babel_format_date(local.date(), format='medium', locale=locale)} {time}"
    return babel_format_datetime(local, format=fmt, locale=locale, tzinfo=local.tzinfo)


def local_iso(value: dt.datetime | str | None, zone: str | None = None) -> str:
    """ISO 8601 with the place's offset, for machine-readable attributes (`<time datetime>`)."""
    if value is None or value == "":
        return ""
    return _local(value, zone).isoformat(timespec="seconds")


def format_number(value: int | float | None) -> str:
    if value is None:
        return ""
    if type(value) is int:  # counts, the common case, are kept (1 and 1.0, or True, are not the same text)
        return _integer_text(current_locale(), value)
    return _number_text(current_locale(), value)


def _number_text(locale: str, value) -> str:
    if locale == "fa":
        # Babel gives Persian separators (٬ ٫) but keeps Latin digits.
        return persian_digits(format_decimal(value, locale=locale, numbering_system="default"))
    return format_decimal(value, locale=locale)


_integer_text = functools.lru_cache(maxsize=_KEPT_VALUES)(_number_text)


def format_percent(value) -> str:
    """A percentage given as a number of percent (e.g. Decimal('42.9')), placed the locale's way."""
    # Kept by the number's text, which holds its exponent: 10 and 10.0 are not written alike.
    return _percent_text(current_locale(), str(Decimal(value)))


@functools.lru_cache(maxsize=_KEPT_VALUES)
def _percent_text(locale: str, number: str) -> str:
    text = babel_format_percent(Decimal(number) / 100, locale=locale, decimal_quantization=False,
                                numbering_system="default")
    # Babel's Persian keeps the Latin percent sign with Latin digits; with Persian digits it is ٪.
    return persian_digits(text).replace("%", "٪") if locale == "fa" else text


def ngettext(singular: str, plural: str, count, **variables) -> str:
    """`ngettext` for Python code: the form for `count` in the current language, with `%(num)s`
    the count written the reader's way (Persian digits in Persian), unless given."""
    variables.setdefault("num", format_number(count))
    return get_translations().ngettext(singular, plural, count) % variables


def list_separator(locale: str | None = None) -> str:
    """The comma between the parts of a list: Persian has its own (،), which does not turn round in
    right-to-left text the way a Latin comma seems to."""
    return "، " if (locale or current_locale()) == "fa" else ", "


def format_coordinates(latitude, longitude) -> str:
    """A point as people read it: up to five decimals, the locale's digits and decimal sign, and
    between the two a separator that the decimal sign cannot be mistaken for (59,272; 15,21 in
    Swedish, where the decimal sign is a comma)."""
    if latitude is None or longitude is None:
        return ""
    return _coordinates_text(current_locale(), str(latitude), str(longitude))


@functools.lru_cache(maxsize=_KEPT_VALUES)
def _coordinates_text(locale: str, latitude: str, longitude: str) -> str:
    parts = [format_decimal(Decimal(value).quantize(Decimal("0.00001")), format="0.#####", locale=locale,
                            numbering_system="default") for value in (latitude, longitude)]
    if locale == "fa":
        return list_separator(locale).join(persian_digits(part) for part in parts)
    decimal_comma = "," in format_decimal(Decimal("0.5"), format="0.#", locale=locale)
    return ("; " if decimal_comma else ", ").join(parts)


def localized_name(names: dict | None, fallback: str = "") -> str:
    """Pick the name for the current locale from a {locale: name} mapping."""
    if not names:
        return fallback
    locale = current_locale()
    return names.get(locale) or names.get("en") or fallback or next(iter(names.values()))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        date=format_date,
        datetime=format_datetime,
        iso=local_iso,
        number=format_number,
        percent=format_percent,
        coordinates=format_coordinates,
        localized=localized_name,
    )
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)
    app.jinja_env.globals["timezone_label"] = timezone_label
    app.jinja_env.globals["list_separator"] = list_separator  # ", " — or "، " in Persian

    @app.context_processor
    def _i18n_context():
        locale = current_locale()
        return {
            "current_locale": locale,
            "text_direction": text_direction(locale),
            "language_names": LANGUAGE_NAMES,
            "locales": LOCALES,
        }
