"""Looking up neighbourhoods, municipalities, muhtars and accounts (reads only)."""
from __future__ import annotations


from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from assembly.accounts.models import User
from assembly.db import db
from assembly.errors import NotFound, ValidationFailed
from assembly.neighbourhoods.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    Municipality,
    Neighbourhood,
)


# Statements every page runs are built once (with bound parameters): SQLAlchemy then neither builds
# the statement nor works out its cache key again on each request.
_BY_SLUG = select(Neighbourhood).options(joinedload(Neighbourhood.municipality)).where(
    Neighbourhood.slug == bindparam("slug"))
_MUHTARS = (select(Membership).options(joinedload(Membership.user))
            .where(Membership.neighbourhood_id == bindparam("neighbourhood_id"),
                   Membership.role == MembershipRole.MUHTAR.value, Membership.status == MembershipStatus.VERIFIED.value)
            .order_by(Membership.id))


def get_neighbourhood(slug: str) -> Neighbourhood:
    found = db.session.scalar(_BY_SLUG, {"slug": slug})
    if found is None:
        raise NotFound(_("There is no such neighbourhood."))
    return found


def list_neighbourhoods() -> list[Neighbourhood]:
    return list(db.session.scalars(
        select(Neighbourhood).options(joinedload(Neighbourhood.municipality))
        .order_by(Neighbourhood.municipality_id, Neighbourhood.slug)
    ))


def list_municipalities() -> list[Municipality]:
    return list(db.session.scalars(select(Municipality).order_by(Municipality.name)))


def get_by_id(model, object_id: int):
    found = db.session.get(model, object_id)
    if found is None:
        raise NotFound(_("The requested item does not exist."))
    return found


def muhtars_of(neighbourhood: Neighbourhood) -> list[Membership]:
    return list(db.session.scalars(_MUHTARS, {"neighbourhood_id": neighbourhood.id}))


_MUHTAR_NAMES = (select(User.display_name).join(Membership, Membership.user_id == User.id)
                 .where(Membership.neighbourhood_id == bindparam("neighbourhood_id"),
                        Membership.role == MembershipRole.MUHTAR.value,
                        Membership.status == MembershipStatus.VERIFIED.value)
                 .order_by(Membership.id))


def muhtar_names(neighbourhood: Neighbourhood) -> list[str]:
    """The names of the neighbourhood's muhtars, as its page shows them (in the order appointed)."""
    return list(db.read(_MUHTAR_NAMES, {"neighbourhood_id": neighbourhood.id}).scalars())


_RESIDENCE = (select(Membership).options(joinedload(Membership.neighbourhood))
              .where(Membership.user_id == bindparam("user_id"), Membership.role == MembershipRole.RESIDENT.value,
                     Membership.status.in_([MembershipStatus.PENDING.value, MembershipStatus.VERIFIED.value])))


def current_membership(user) -> Membership | None:
    """The user's verified or pending residence, if any (a statement built once: the neighbourhood
    page reads it for every logged-in reader)."""
    return db.session.scalar(_RESIDENCE, {"user_id": user.id})


def muhtar_neighbourhoods(user) -> list[Neighbourhood]:
    return list(db.session.scalars(
        select(Neighbourhood).join(Membership, Membership.neighbourhood_id == Neighbourhood.id)
        .where(Membership.user_id == user.id, Membership.role == MembershipRole.MUHTAR.value,
               Membership.status == MembershipStatus.VERIFIED.value)
        .order_by(Neighbourhood.slug)
    ))


def user_by_email(email: str, field: str = "email") -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise ValidationFailed(_("No account uses this e-mail address."), field)
    return user
