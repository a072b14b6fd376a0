"""Where a person belongs, for showing times on pages that are about no one place
(notifications, account settings, the staff desk): the time zone of their neighbourhood,
else of the neighbourhood they are muhtar of, else of the body they work for."""
from __future__ import annotations

from sqlalchemy import select

from assembly.db import db
from assembly.neighbourhoods.models import (
    Body,
    BodyStaff,
    Membership,
    MembershipStatus,
    Municipality,
    Neighbourhood,
)


def home_timezone(user) -> str | None:
    user_id = getattr(user, "id", None)
    if user_id is None:
        return None
    zone = db.session.scalar(
        select(Municipality.timezone)
        .join(Neighbourhood, Neighbourhood.municipality_id == Municipality.id)
        .join(Membership, Membership.neighbourhood_id == Neighbourhood.id)
        .where(Membership.user_id == user_id,
               Membership.status.in_((MembershipStatus.VERIFIED.value, MembershipStatus.PENDING.value)))
        .order_by((Membership.role == "resident").desc(), Membership.id).limit(1))
    if zone:
        return zone
    return db.session.scalar(
        select(Municipality.timezone).join(Body, Body.municipality_id == Municipality.id)
        .join(BodyStaff, BodyStaff.body_id == Body.id).where(BodyStaff.user_id == user_id)
        .order_by(BodyStaff.id).limit(1))
