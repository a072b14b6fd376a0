"""Factories that add and flush through the real services (call inside an app context)."""
from __future__ import annotations

import datetime as dt
import itertools

from assembly.accounts.models import User
from assembly.accounts.services import register
from assembly.actors import SystemActor
from assembly.db import db, utcnow
from assembly.neighbourhoods import directory, residents, structure
from assembly.neighbourhoods.models import Body, Membership, Municipality, Neighbourhood

from tests.support import PASSWORD

_seq = itertools.count(1)


def now() -> dt.datetime:
    return utcnow()


def user(email: str | None = None, name: str | None = None, locale: str = "en", admin: bool = False,
         password: str = PASSWORD) -> User:
    n = next(_seq)
    created = register(email or f"person{n}@example.org", name or f"Person {n}", password, locale, now())
    created.is_admin = admin
    db.session.flush()
    return created


def admin() -> User:
    return user(admin=True, name="Admin")


def municipality(code: str | None = None, locale: str = "tr") -> Municipality:
    n = next(_seq)
    return structure.create_municipality(SystemActor(), now(), code=code or f"M{n}", name=f"Municipality {n}",
                                     timezone="Europe/Istanbul", default_locale=locale)


def neighbourhood(owner: Municipality | None = None, slug: str | None = None, locale: str = "tr",
                  **rules) -> Neighbourhood:
    n = next(_seq)
    owner = owner or municipality(locale=locale)
    return structure.create_neighbourhood(
        SystemActor(), now(), municipality=owner, slug=slug or f"hood-{n}", code=f"HOOD{n}",
        names={locale: f"Neighbourhood {n}", "en": f"Neighbourhood {n}"}, default_locale=locale, **rules)


def body(owner: Municipality, kind: str = "council") -> Body:
    n = next(_seq)
    return structure.create_body(SystemActor(), now(), municipality=owner, slug=f"body-{n}", name=f"Body {n}",
                             kind=kind)


def muhtar(where: Neighbourhood, person: User | None = None) -> User:
    person = person or user(name="Muhtar")
    structure.appoint_muhtar(SystemActor(), now(), where, person)
    return person


def resident(where: Neighbourhood, person: User | None = None) -> User:
    """A verified resident, approved by a muhtar of the neighbourhood (appointed if none)."""
    person = person or user()
    muhtars = directory.muhtars_of(where)
    approver = muhtars[0].user if muhtars else muhtar(where)
    membership = residents.request_membership(person, now(), where, "Street 1")
    residents.approve_membership(approver, now(), where, membership.id)
    return person


def pending(where: Neighbourhood, person: User | None = None) -> Membership:
    person = person or user()
    return residents.request_membership(person, now(), where, "Street 2")


def staff(of: Body, person: User | None = None) -> User:
    person = person or user(name="Staff")
    structure.appoint_staff(SystemActor(), now(), of, person)
    return person
