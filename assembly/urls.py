"""Absolute links, always on the configured public address BASE_URL.

Never built from the request's Host header: anyone can send any Host, and a link built from
it would put a stranger's site into feeds, calendars, API answers and e-mails (which may be
cached or forwarded). Works without a request too (mail worker, command line).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """BASE_URL followed by the path of `endpoint` (a full name such as "cases.show"); values
    that are no part of the route become the query string, None values are left out, and
    `_anchor` is the fragment (as for `url_for`)."""
    anchor = values.pop("_anchor", None)
    path = current_app.url_map.bind("").build(endpoint, {k: v for k, v in values.items() if v is not None})
    return absolute_url(path + (f"#{anchor}" if anchor else ""))


def absolute_url(path: str) -> str:
    """BASE_URL followed by a path already built (such as a notification's stored link)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def site_root() -> str:
    """The public address of the site, ending in a slash."""
    return current_app.config["BASE_URL"].rstrip("/") + "/"


def site_host() -> str:
    """The host name of BASE_URL (for identifiers such as iCalendar UIDs)."""
    return urlsplit(current_app.config["BASE_URL"]).hostname or "assembly"
