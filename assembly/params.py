"""Whole numbers from paths, query strings and forms, range-checked in one place.

A number the database cannot hold must never reach a query: SQLite refuses integers beyond
2**63 - 1 and PostgreSQL's INTEGER columns (every id here) beyond 2**31 - 1, and either
refusal would be a 500. Paths get a 404 (`IdConverter`), query strings a 400 that says which
parameter is wrong (`query_int`), raw form values are parsed with `parse_int`.
"""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

from assembly.i18n import format_number

# Ids are INTEGER columns, 32 bits on PostgreSQL.
MAX_ID = 2**31 - 1
MAX_PAGE = 1_000_000
_MAX_DIGITS = 20

# Every whole number a page reads from its query string, with its range. Views read them only
# through `query_int`, which refuses any other name; tests send out-of-range values of each
# of them to every page.
QUERY_INTEGERS: dict[str, tuple[int, int]] = {
    "page": (1, MAX_PAGE),
    "category": (0, MAX_ID),  # 0: all categories
    "neighbourhood": (0, MAX_ID),  # 0: all neighbourhoods
    "before": (1, MAX_ID),  # cursor: the next page lists the ids below it
    "after": (1, MAX_ID),  # cursor: the next page lists the ids above it
}


def parse_int(text: str | None, low: int, high: int) -> int | None:
    """The whole number written in `text` if it lies from `low` to `high`, else None."""
    text = (text or "").strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdecimal() or len(digits) > _MAX_DIGITS:  # int() of a huge string is slow, then refused
        return None
    value = int(text)
    return value if low <= value <= high else None


class InvalidParameter(BadRequest):
    """A query parameter that is not a whole number in its range; the description says so, translated."""

    def __init__(self, name: str, low: int, high: int) -> None:
        super().__init__(_("The address is not valid: %(name)s must be a whole number from %(min)s to %(max)s.",
                           name=name, min=format_number(low), max=format_number(high)))


def query_int(name: str) -> int | None:
    """The query parameter `name` (a key of QUERY_INTEGERS): None when absent or empty, the
    number when it is in range, otherwise InvalidParameter (400)."""
    low, high = QUERY_INTEGERS[name]
    raw = request.args.get(name, "")
    if not raw.strip():
        return None
    value = parse_int(raw, low, high)
    if value is None:
        raise InvalidParameter(name, low, high)
    return value


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: from 1 to MAX_ID, so anything else is no match (404)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int = 1, max: int = MAX_ID,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
