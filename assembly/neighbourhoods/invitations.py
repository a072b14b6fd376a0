"""Invitation codes: one-time codes a muhtar prints and hands to residents, who become
verified residents by entering one."""
from __future__ import annotations

import datetime as dt
import re
import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from assembly import permissions
from assembly.accounts.models import User
from assembly.audit.services import record
from assembly.db import db
from assembly.errors import NotFound, ValidationFailed
from assembly.i18n import ngettext
from assembly.neighbourhoods import residents
from assembly.neighbourhoods.models import (
    InviteCode,
    Membership,
    MembershipRole,
    MembershipStatus,
    Neighbourhood,
)

INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read off paper
MAX_INVITES_PER_BATCH = 500


def _new_code() -> str:
    raw = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str:
    raw = re.sub(r"[\s\-]", "", (code or "").upper())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


def issue_invite_codes(actor, now: dt.datetime, neighbourhood: Neighbourhood, count: int,
                       valid_days: int) -> str:
    """Create a batch of one-time codes; returns the batch id for the printable page."""
    permissions.require(actor, "issue_invite_codes", neighbourhood)
    if not 1 <= count <= MAX_INVITES_PER_BATCH:
        raise ValidationFailed(ngettext("Create between 1 and %(num)s code at a time.",
                                        "Create between 1 and %(num)s codes at a time.", MAX_INVITES_PER_BATCH), "count")
    if not 1 <= valid_days <= 365:
        raise ValidationFailed(_("Codes can be valid for 1 to 365 days."), "valid_days")
    batch = now.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)
    expires = now + dt.timedelta(days=valid_days)
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(_new_code())
    existing = set(db.session.scalars(select(InviteCode.code).where(InviteCode.code.in_(codes))))
    while existing:  # astronomically rare: replace codes that already exist
        codes -= existing
        fresh = {_new_code() for _ in range(len(existing))}
        existing = set(db.session.scalars(select(InviteCode.code).where(InviteCode.code.in_(fresh)))) | (fresh & codes)
        codes |= fresh - existing
    db.session.add_all(
        InviteCode(neighbourhood_id=neighbourhood.id, code=code, batch=batch, created_by_id=actor.id,
                   created_at=now, expires_at=expires)
        for code in sorted(codes)
    )
    db.session.flush()
    record(actor, "invites.issue", neighbourhood, now, count=count, batch=batch, valid_days=valid_days)
    return batch


def invite_batch(actor, neighbourhood: Neighbourhood, batch: str) -> list[InviteCode]:
    permissions.require(actor, "issue_invite_codes", neighbourhood)
    codes = list(db.session.scalars(
        select(InviteCode).where(InviteCode.neighbourhood_id == neighbourhood.id, InviteCode.batch == batch)
        .order_by(InviteCode.code)
    ))
    if not codes:
        raise NotFound(_("The requested item does not exist."))
    return codes


def invite_batches(actor, neighbourhood: Neighbourhood) -> list[tuple]:
    """(batch, created_at, expires_at, total, used) for the neighbourhood, newest first."""
    permissions.require(actor, "issue_invite_codes", neighbourhood)
    return list(db.session.execute(
        select(InviteCode.batch, func.min(InviteCode.created_at), func.min(InviteCode.expires_at),
               func.count(), func.count(InviteCode.used_at))
        .where(InviteCode.neighbourhood_id == neighbourhood.id)
        .group_by(InviteCode.batch).order_by(func.min(InviteCode.created_at).desc())
    ).all())


def redeem_invite(user: User, now: dt.datetime, code: str) -> Membership:
    """Enter a code from a muhtar's letter: the user becomes a verified resident at once."""
    normalised = normalise_code(code)
    invite = db.session.scalar(select(InviteCode).where(InviteCode.code == normalised)) if normalised else None
    if invite is None:
        raise ValidationFailed(_("This code is not valid. Check it against your letter."), "code")
    if invite.used_at is not None:
        raise ValidationFailed(_("This code has already been used."), "code")
    if invite.expires_at <= now:
        raise ValidationFailed(_("This code has expired. Ask your muhtar for a new one."), "code")
    membership = Membership(user_id=user.id, neighbourhood_id=invite.neighbourhood_id,
                            role=MembershipRole.RESIDENT.value, status=MembershipStatus.VERIFIED.value,
                            requested_at=now, verified_at=now, invite_code_id=invite.id)
    residents.claim_residence(membership)
    claimed = db.session.execute(
        update(InviteCode).where(InviteCode.id == invite.id, InviteCode.used_at.is_(None))
        .values(used_at=now, used_by_id=user.id)
    ).rowcount
    if claimed != 1:
        raise ValidationFailed(_("This code has already been used."), "code")
    residents.count_resident(invite.neighbourhood_id, +1)
    record(user, "invites.redeem", membership, now, code_id=invite.id)
    permissions.forget_roles()
    return membership
