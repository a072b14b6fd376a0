"""Residents: asking to join a neighbourhood, the muhtar's decision, leaving, revoking.

Every change of a membership is a conditional UPDATE (`move_membership`), so two muhtars
deciding at once cannot both succeed. Services flush; the request commits."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from assembly import permissions
from assembly.accounts.models import User
from assembly.audit.services import record
from assembly.db import db
from assembly.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from assembly.i18n import ngettext
from assembly.neighbourhoods.directory import current_membership, muhtars_of
from assembly.neighbourhoods.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    Neighbourhood,
)
from assembly.notifications.services import notify


def required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Please give a reason."), "reason")
    if len(reason) > 500:
        raise ValidationFailed(ngettext("The reason may be at most %(num)s character long.",
                                        "The reason may be at most %(num)s characters long.", 500), "reason")
    return reason


def move_membership(membership: Membership, expected: MembershipStatus, new: MembershipStatus, actor, now: dt.datetime,
            reason: str | None) -> None:
    """Move a membership from one status to another with a conditional UPDATE, so that
    two muhtars deciding at once cannot both succeed."""
    values = {"status": new.value, "decided_at": now, "decided_by_id": actor.id, "reason": reason}
    if new is MembershipStatus.VERIFIED:
        values.update(verified_at=now, verified_by_id=actor.id)
    changed = db.session.execute(
        update(Membership).where(Membership.id == membership.id, Membership.status == expected.value).values(**values)
    ).rowcount
    if changed != 1:
        raise InvalidTransition(_("This request has already been decided."))
    db.session.refresh(membership)


def count_resident(neighbourhood_id: int, delta: int) -> None:
    db.session.execute(
        update(Neighbourhood).where(Neighbourhood.id == neighbourhood_id)
        .values(verified_resident_count=Neighbourhood.verified_resident_count + delta)
    )


def claim_residence(membership: Membership) -> None:
    try:
        with db.session.begin_nested():
            db.session.add(membership)
    except IntegrityError:
        raise DomainError(_("You are already a resident of a neighbourhood, or have asked to join one. "
                            "Leave it or withdraw the request first.")) from None


def membership_queue(actor, neighbourhood: Neighbourhood) -> list[Membership]:
    permissions.require(actor, "review_memberships", neighbourhood)
    return list(db.session.scalars(
        select(Membership).options(joinedload(Membership.user))
        .where(Membership.neighbourhood_id == neighbourhood.id, Membership.role == MembershipRole.RESIDENT.value,
               Membership.status == MembershipStatus.PENDING.value)
        .order_by(Membership.requested_at, Membership.id)
    ))


def verified_residents(actor, neighbourhood: Neighbourhood, *, after_id: int | None = None,
                       limit: int = 100) -> list[Membership]:
    permissions.require(actor, "review_memberships", neighbourhood)
    query = (
        select(Membership).options(joinedload(Membership.user))
        .where(Membership.neighbourhood_id == neighbourhood.id, Membership.role == MembershipRole.RESIDENT.value,
               Membership.status == MembershipStatus.VERIFIED.value)
        .order_by(Membership.id).limit(limit)
    )
    if after_id:
        query = query.where(Membership.id > after_id)
    return list(db.session.scalars(query))


def pending_counts(neighbourhood_ids: list[int]) -> dict[int, int]:
    if not neighbourhood_ids:
        return {}
    rows = db.session.execute(
        select(Membership.neighbourhood_id, func.count())
        .where(Membership.neighbourhood_id.in_(neighbourhood_ids), Membership.role == MembershipRole.RESIDENT.value,
               Membership.status == MembershipStatus.PENDING.value)
        .group_by(Membership.neighbourhood_id)
    )
    return dict(rows.all())


def request_membership(user: User, now: dt.datetime, neighbourhood: Neighbourhood, address: str) -> Membership:
    address = (address or "").strip()
    if not address:
        raise ValidationFailed(_("Please give your address in the neighbourhood."), "address")
    if len(address) > 200:
        raise ValidationFailed(ngettext("The address may be at most %(num)s character long.",
                                        "The address may be at most %(num)s characters long.", 200), "address")
    membership = Membership(user_id=user.id, neighbourhood_id=neighbourhood.id, role=MembershipRole.RESIDENT.value,
                            status=MembershipStatus.PENDING.value, address=address, requested_at=now)
    claim_residence(membership)
    for muhtar in muhtars_of(neighbourhood):
        notify(muhtar.user, "membership_requested", now, email=False, name=user.display_name,
               neighbourhood=neighbourhood.name_in(muhtar.user.locale))
    permissions.forget_roles()
    return membership


def withdraw_request(user: User, now: dt.datetime) -> Membership:
    membership = current_membership(user)
    if membership is None or membership.status != MembershipStatus.PENDING.value:
        raise InvalidTransition(_("You have no open request to withdraw."))
    move_membership(membership, MembershipStatus.PENDING, MembershipStatus.REJECTED, user, now, "withdrawn")
    permissions.forget_roles()
    return membership


def leave_neighbourhood(user: User, now: dt.datetime) -> Membership:
    membership = current_membership(user)
    if membership is None or membership.status != MembershipStatus.VERIFIED.value:
        raise InvalidTransition(_("You are not a resident of any neighbourhood."))
    move_membership(membership, MembershipStatus.VERIFIED, MembershipStatus.REVOKED, user, now, "left")
    count_resident(membership.neighbourhood_id, -1)
    permissions.forget_roles()
    return membership


def _resident_request(membership_id: int, neighbourhood: Neighbourhood) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if (membership is None or membership.neighbourhood_id != neighbourhood.id
            or membership.role != MembershipRole.RESIDENT.value):
        raise NotFound(_("The requested item does not exist."))
    return membership


def approve_membership(actor, now: dt.datetime, neighbourhood: Neighbourhood, membership_id: int) -> Membership:
    permissions.require(actor, "review_memberships", neighbourhood)
    membership = _resident_request(membership_id, neighbourhood)
    move_membership(membership, MembershipStatus.PENDING, MembershipStatus.VERIFIED, actor, now, None)
    count_resident(neighbourhood.id, +1)
    record(actor, "membership.approve", membership, now, user=membership.user_id)
    notify(membership.user, "membership_approved", now, neighbourhood=neighbourhood.name_in(membership.user.locale))
    permissions.forget_roles()
    return membership


def reject_membership(actor, now: dt.datetime, neighbourhood: Neighbourhood, membership_id: int,
                      reason: str) -> Membership:
    permissions.require(actor, "review_memberships", neighbourhood)
    reason = required_reason(reason)
    membership = _resident_request(membership_id, neighbourhood)
    move_membership(membership, MembershipStatus.PENDING, MembershipStatus.REJECTED, actor, now, reason)
    record(actor, "membership.reject", membership, now, user=membership.user_id, reason=reason)
    notify(membership.user, "membership_rejected", now, reason=reason,
           neighbourhood=neighbourhood.name_in(membership.user.locale))
    permissions.forget_roles()
    return membership


def revoke_membership(actor, now: dt.datetime, neighbourhood: Neighbourhood, membership_id: int,
                      reason: str) -> Membership:
    permissions.require(actor, "revoke_membership", neighbourhood)
    reason = required_reason(reason)
    membership = _resident_request(membership_id, neighbourhood)
    move_membership(membership, MembershipStatus.VERIFIED, MembershipStatus.REVOKED, actor, now, reason)
    count_resident(neighbourhood.id, -1)
    record(actor, "membership.revoke", membership, now, user=membership.user_id, reason=reason)
    notify(membership.user, "membership_revoked", now, reason=reason,
           neighbourhood=neighbourhood.name_in(membership.user.locale))
    permissions.forget_roles()
    return membership
