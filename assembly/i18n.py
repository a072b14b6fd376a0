"""Locale selection, text direction and locale-aware formatting (Jalali dates for Persian)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import jdatetime
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.numbers import format_decimal
from babel.numbers import format_percent as babel_format_percent
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_timezone, refresh
from flask_login import current_user

from assembly.config import LOCALES, RTL_LOCALES

LANGUAGE_NAMES = {"en": "English", "tr": "Türkçe", "fa": "فارسی", "sv": "Svenska"}

PERSIAN_MONTHS = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


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


def use_place(*, locale: str, timezone: str) -> None:
    """The page belongs to a place (a neighbourhood): its language, for visitors who chose none,
    and its time zone. Forgets a locale or zone already worked out for this request."""
    g.neighbourhood_locale = locale
    g.timezone = timezone
    refresh()


def select_timezone() -> str:
    if has_request_context() and g.get("timezone"):
        return g.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def current_locale() -> str:
    return str(get_locale() or "en")


def text_direction(locale: str | None = None) -> str:
    return "rtl" if (locale or current_locale()) in RTL_LOCALES else "ltr"


def _local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(ZoneInfo(str(get_timezone())))


def wall_clock_to_utc(value: dt.datetime | None, timezone: str) -> dt.datetime | None:
    """A datetime-local form value is wall-clock time in the place's time zone."""
    return value.replace(tzinfo=ZoneInfo(timezone)).astimezone(dt.timezone.utc) if value else None


def utc_to_wall_clock(value: dt.datetime | None, timezone: str) -> dt.datetime | None:
    """The naive wall-clock time a datetime-local form field shows."""
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None) if value else None


def persian_digits(text: str) -> str:
    return text.translate(_PERSIAN_DIGITS)


def _jalali(value: dt.date) -> str:
    day = jdatetime.date.fromgregorian(date=value)
    return persian_digits(f"{day.day} {PERSIAN_MONTHS[day.month - 1]} {day.year}")


def format_date(value: dt.date | dt.datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    locale = current_locale()
    if locale == "fa":
        return _jalali(value)
    return babel_format_date(value, format=fmt, locale=locale)


def format_datetime(value: dt.datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    local = _local(value)
    locale = current_locale()
    if locale == "fa":
        return f"{_jalali(local.date())}، {persian_digits(local.strftime('%H:%M'))}"
    if fmt == "medium":  # a readable date with hours and minutes, no seconds
        time = babel_format_time(local, format="short", locale=locale, tzinfo=local.tzinfo)
        return f"{babel_format_date(local.date(), format='medium', locale=locale)} {time}"
    return babel_format_datetime(local, format=fmt, locale=locale, tzinfo=local.tzinfo)


def format_number(value: int | float | None) -> str:
    if value is None:
        return ""
    locale = current_locale()
    if locale == "fa":
        # Babel gives Persian separators (٬ ٫) but keeps Latin digits.
        return persian_digits(format_decimal(value, locale=locale, numbering_system="default"))
    return format_decimal(value, locale=locale)


def format_percent(value) -> str:
    """A percentage given as a number of percent (e.g. Decimal('42.9')), placed the locale's way."""
    locale = current_locale()
    text = babel_format_percent(Decimal(value) / 100, locale=locale, decimal_quantization=False,
                                numbering_system="default")
    return persian_digits(text) if locale == "fa" else text


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
        number=format_number,
        percent=format_percent,
        localized=localized_name,
    )

    @app.context_processor
    def _i18n_context():
        locale = current_locale()
        return {
            "current_locale": locale,
            "text_direction": text_direction(locale),
            "language_names": LANGUAGE_NAMES,
            "locales": LOCALES,
        }
