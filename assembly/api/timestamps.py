"""Reading the date-times clients send (RFC 3339 / ISO 8601)."""
from __future__ import annotations

import datetime as dt

MAX_LENGTH = 40


def parse_timestamp(value: str, *, assume_utc: bool) -> dt.datetime | None:
    """An aware UTC datetime, or None when `value` is not a date-time. Without an offset the
    value is read as UTC if `assume_utc`, and refused otherwise."""
    text = value.strip().upper()  # RFC 3339 allows "t" and "z"
    if not text or len(text) > MAX_LENGTH or not text.isascii():
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if not assume_utc:
            return None
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    try:
        return parsed.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):
        return None
