"""The neighbourhood a page belongs to, named by its address (`/n/<slug>/…`).

Blueprints whose addresses carry a neighbourhood register `from_url` as their URL value
preprocessor: it notes the slug before the view runs. The first `current_neighbourhood()` loads
it (once per request; an unknown slug is a 404) and sets the page's language (for visitors who
chose none) and its municipality's time zone explicitly, not as a side effect of a lookup. A hot
path that needs no neighbourhood object (casting a vote) reads none.
"""
from __future__ import annotations

from flask import g

from assembly import i18n
from assembly.neighbourhoods.directory import get_neighbourhood
from assembly.neighbourhoods.models import Neighbourhood


def from_url(_endpoint: str | None, values: dict | None) -> None:
    slug = (values or {}).get("slug")
    if slug is not None:
        g.neighbourhood_slug = slug


def enter(neighbourhood: Neighbourhood) -> None:
    g.neighbourhood = neighbourhood
    i18n.use_place(locale=neighbourhood.default_locale, timezone=neighbourhood.municipality.timezone)


def current_neighbourhood() -> Neighbourhood:
    if "neighbourhood" not in g:
        enter(get_neighbourhood(g.neighbourhood_slug))
    return g.neighbourhood
