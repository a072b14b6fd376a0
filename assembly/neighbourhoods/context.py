"""The neighbourhood a page belongs to, loaded once from the address (`/n/<slug>/…`) before the
view runs. Its language (for visitors without a preference) and its municipality's time zone
become the page's, set explicitly here rather than as a side effect of a lookup.

Blueprints whose addresses carry a neighbourhood register `from_url` as their URL value
preprocessor; views read `current_neighbourhood()`.
"""
from __future__ import annotations

from flask import g

from assembly import i18n
from assembly.neighbourhoods.directory import get_neighbourhood
from assembly.neighbourhoods.models import Neighbourhood


def from_url(_endpoint: str | None, values: dict | None) -> None:
    slug = (values or {}).get("slug")
    if slug is not None:
        enter(get_neighbourhood(slug))  # an unknown slug is a 404 before any view code runs


def enter(neighbourhood: Neighbourhood) -> None:
    g.neighbourhood = neighbourhood
    i18n.use_place(locale=neighbourhood.default_locale, timezone=neighbourhood.municipality.timezone)


def current_neighbourhood() -> Neighbourhood:
    return g.neighbourhood
