"""Municipality set-up and verified membership. Services flush; the request commits."""
from __future__ import annotations

import datetime as dt
import re
import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from assembly import permissions
from assembly.accounts.models import User
from assembly.audit.services import record
from assembly.config import LOCALES
from assembly.db import db
from assembly.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from assembly.neighbourhoods.models import (
    Body,
    BodyKind,
    BodyStaff,
    Category,
    InviteCode,
    Majority,
    Membership,
    MembershipRole,
    MembershipStatus,
    Municipality,
    Neighbourhood,
)
from assembly.notifications.services import notify

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_RE = re.compile(r"^[A-Z0-9]+$")
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read off paper
MAX_INVITES_PER_BATCH = 500


# --- reading ---------------------------------------------------------------------

def get_neighbourhood(slug: str) -> Neighbourhood:
    found = db.session.scalar(
        select(Neighbourhood).options(joinedload(Neighbourhood.municipality)).where(Neighbourhood.slug == slug)
    )
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
    return list(db.session.scalars(
        select(Membership).options(joinedload(Membership.user))
        .where(Membership.neighbourhood_id == neighbourhood.id, Membership.role == MembershipRole.MUHTAR.value,
               Membership.status == MembershipStatus.VERIFIED.value)
        .order_by(Membership.id)
    ))


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


def current_membership(user) -> Membership | None:
    """The user's verified or pending residence, if any."""
    return db.session.scalar(
        select(Membership).options(joinedload(Membership.neighbourhood))
        .where(Membership.user_id == user.id, Membership.role == MembershipRole.RESIDENT.value,
               Membership.status.in_([MembershipStatus.PENDING.value, MembershipStatus.VERIFIED.value]))
    )


def muhtar_neighbourhoods(user) -> list[Neighbourhood]:
    return list(db.session.scalars(
        select(Neighbourhood).join(Membership, Membership.neighbourhood_id == Neighbourhood.id)
        .where(Membership.user_id == user.id, Membership.role == MembershipRole.MUHTAR.value,
               Membership.status == MembershipStatus.VERIFIED.value)
        .order_by(Neighbourhood.slug)
    ))


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


# --- municipality set-up (admin) ---------------------------------------------------------

def _check_slug(slug: str, field: str = "slug") -> str:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug) or len(slug) > 60:
        raise ValidationFailed(
            _("Use lower-case letters a–z, digits and single hyphens (at most 60 characters)."), field)
    return slug


def _check_code(code: str, max_length: int, field: str = "code") -> str:
    code = code.strip().upper()
    if not CODE_RE.match(code) or len(code) > max_length:
        raise ValidationFailed(
            _("Use capital letters A–Z and digits only (at most %(num)d characters).", num=max_length), field)
    return code


def _check_locale(locale: str, field: str = "default_locale") -> str:
    if locale not in LOCALES:
        raise ValidationFailed(_("Choose one of the offered languages."), field)
    return locale


def _check_names(names: dict[str, str], default_locale: str) -> dict[str, str]:
    cleaned = {locale: (names.get(locale) or "").strip() for locale in LOCALES}
    cleaned = {locale: name for locale, name in cleaned.items() if name}
    if default_locale not in cleaned:
        raise ValidationFailed(_("Give at least the name in the default language."), f"name_{default_locale}")
    too_long = [locale for locale, name in cleaned.items() if len(name) > 120]
    if too_long:
        raise ValidationFailed(_("A name may be at most %(num)d characters long.", num=120), f"name_{too_long[0]}")
    return cleaned


def _unique_flush(obj, message: str, field: str) -> None:
    try:
        with db.session.begin_nested():
            db.session.add(obj)
    except IntegrityError:
        raise ValidationFailed(message, field) from None


def create_municipality(actor, now: dt.datetime, *, code: str, name: str, timezone: str,
                        default_locale: str) -> Municipality:
    permissions.require(actor, "administer")
    code = _check_code(code, 12)
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed(_("Please enter a name of at most %(num)d characters.", num=200), "name")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(_("Unknown time zone. Use a name such as Europe/Istanbul."), "timezone") from None
    municipality = Municipality(code=code, name=name, timezone=timezone,
                                default_locale=_check_locale(default_locale), created_at=now)
    _unique_flush(municipality, _("This code is already in use."), "code")
    record(actor, "municipality.create", municipality, now, code=code, name=name)
    return municipality


def _check_rules(quorum_percent: int, majority: str, support_threshold: int) -> None:
    if not 0 <= quorum_percent <= 100:
        raise ValidationFailed(_("The quorum is a percentage between 0 and 100."), "quorum_percent")
    if majority not in {m.value for m in Majority}:
        raise ValidationFailed(_("Choose one of the offered majority rules."), "majority")
    if not 1 <= support_threshold <= 100000:
        raise ValidationFailed(_("The support threshold must be between 1 and 100000."), "support_threshold")


Bounds = tuple[float, float, float, float]  # min latitude, min longitude, max latitude, max longitude


def _check_bounds(bounds: Bounds | None) -> dict:
    if bounds is None or all(value is None for value in bounds):
        return dict.fromkeys(("min_latitude", "min_longitude", "max_latitude", "max_longitude"))
    if any(value is None for value in bounds):
        raise ValidationFailed(_("Give all four corners of the area, or none."), "min_latitude")
    south, west, north, east = bounds
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ValidationFailed(_("The south-west corner must lie south and west of the north-east corner."),
                               "min_latitude")
    return {"min_latitude": south, "min_longitude": west, "max_latitude": north, "max_longitude": east}


def create_neighbourhood(actor, now: dt.datetime, *, municipality: Municipality, slug: str, code: str,
                         names: dict[str, str], default_locale: str, quorum_percent: int = 10,
                         majority: str = Majority.SIMPLE.value, support_threshold: int = 10,
                         bounds: Bounds | None = None) -> Neighbourhood:
    permissions.require(actor, "administer")
    default_locale = _check_locale(default_locale)
    neighbourhood = Neighbourhood(
        municipality_id=municipality.id, slug=_check_slug(slug), code=_check_code(code, 20),
        names=_check_names(names, default_locale), default_locale=default_locale,
        quorum_percent=quorum_percent, majority=majority, support_threshold=support_threshold,
        created_at=now, **_check_bounds(bounds),
    )
    _check_rules(quorum_percent, majority, support_threshold)
    _unique_flush(neighbourhood, _("This address (slug) or code is already in use."), "slug")
    record(actor, "neighbourhood.create", neighbourhood, now, slug=neighbourhood.slug,
           municipality=municipality.code)
    return neighbourhood


def update_neighbourhood(actor, now: dt.datetime, neighbourhood: Neighbourhood, *, names: dict[str, str],
                         default_locale: str, quorum_percent: int, majority: str,
                         support_threshold: int, bounds: Bounds | None = None,
                         support_threshold_percent: int | None = None) -> Neighbourhood:
    permissions.require(actor, "administer")
    default_locale = _check_locale(default_locale)
    cleaned = _check_names(names, default_locale)
    _check_rules(quorum_percent, majority, support_threshold)
    if support_threshold_percent is not None and not 1 <= support_threshold_percent <= 100:
        raise ValidationFailed(_("The share must be between 1 and 100 percent."), "support_threshold_percent")
    for key, value in _check_bounds(bounds).items():
        setattr(neighbourhood, key, value)
    neighbourhood.support_threshold_percent = support_threshold_percent
    before = {"quorum_percent": neighbourhood.quorum_percent, "majority": neighbourhood.majority,
              "support_threshold": neighbourhood.support_threshold, "default_locale": neighbourhood.default_locale}
    neighbourhood.names = cleaned
    neighbourhood.default_locale = default_locale
    neighbourhood.quorum_percent = quorum_percent
    neighbourhood.majority = majority
    neighbourhood.support_threshold = support_threshold
    db.session.flush()
    record(actor, "neighbourhood.update", neighbourhood, now, before=before)
    return neighbourhood


def create_body(actor, now: dt.datetime, *, municipality: Municipality, slug: str, name: str, kind: str,
                answer_days: int = 30) -> Body:
    permissions.require(actor, "administer")
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed(_("Please enter a name of at most %(num)d characters.", num=200), "name")
    if kind not in {k.value for k in BodyKind}:
        raise ValidationFailed(_("Choose one of the offered kinds."), "kind")
    if not 1 <= answer_days <= 365:
        raise ValidationFailed(_("The answer deadline must be between 1 and 365 days."), "answer_days")
    body = Body(municipality_id=municipality.id, slug=_check_slug(slug), name=name, kind=kind,
                answer_days=answer_days, created_at=now)
    _unique_flush(body, _("This address (slug) is already in use."), "slug")
    record(actor, "body.create", body, now, slug=body.slug, municipality=municipality.code)
    return body


def create_category(actor, now: dt.datetime, *, municipality: Municipality, slug: str,
                    names: dict[str, str], default_body: Body | None) -> Category:
    permissions.require(actor, "administer")
    if default_body is not None and default_body.municipality_id != municipality.id:
        raise ValidationFailed(_("The body must belong to the same municipality."), "default_body")
    category = Category(municipality_id=municipality.id, slug=_check_slug(slug),
                        names=_check_names(names, municipality.default_locale),
                        default_body_id=default_body.id if default_body else None)
    _unique_flush(category, _("This address (slug) is already in use."), "slug")
    record(actor, "category.create", category, now, slug=category.slug, municipality=municipality.code)
    return category


def appoint_muhtar(actor, now: dt.datetime, neighbourhood: Neighbourhood, user: User) -> Membership:
    permissions.require(actor, "appoint_muhtar", neighbourhood)
    appointment = Membership(user_id=user.id, neighbourhood_id=neighbourhood.id, role=MembershipRole.MUHTAR.value,
                             status=MembershipStatus.VERIFIED.value, requested_at=now, verified_at=now,
                             verified_by_id=actor.id)
    _unique_flush(appointment, _("This person is already muhtar of this neighbourhood."), "email")
    record(actor, "muhtar.appoint", appointment, now, user=user.id)
    notify(user, "appointed_muhtar", now, neighbourhood=neighbourhood.name_in(user.locale))
    permissions.forget_roles()
    return appointment


def dismiss_muhtar(actor, now: dt.datetime, appointment: Membership, reason: str) -> Membership:
    permissions.require(actor, "appoint_muhtar", appointment.neighbourhood)
    if appointment.role != MembershipRole.MUHTAR.value:
        raise NotFound(_("The requested item does not exist."))
    _finish(appointment, MembershipStatus.VERIFIED, MembershipStatus.REVOKED, actor, now, _required_reason(reason))
    record(actor, "muhtar.dismiss", appointment, now, user=appointment.user_id, reason=appointment.reason)
    permissions.forget_roles()
    return appointment


def appoint_staff(actor, now: dt.datetime, body: Body, user: User) -> BodyStaff:
    permissions.require(actor, "appoint_staff", body)
    staff = BodyStaff(body_id=body.id, user_id=user.id, appointed_at=now, appointed_by_id=actor.id)
    _unique_flush(staff, _("This person is already on the staff of this body."), "email")
    record(actor, "staff.appoint", body, now, user=user.id)
    notify(user, "appointed_staff", now, body=body.name)
    permissions.forget_roles()
    return staff


def remove_staff(actor, now: dt.datetime, staff: BodyStaff) -> None:
    permissions.require(actor, "appoint_staff", staff.body)
    record(actor, "staff.remove", staff.body, now, user=staff.user_id)
    db.session.delete(staff)
    db.session.flush()
    permissions.forget_roles()


def user_by_email(email: str, field: str = "email") -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise ValidationFailed(_("No account uses this e-mail address."), field)
    return user


# --- membership (residents and muhtars) -------------------------------------------------

def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Please give a reason."), "reason")
    if len(reason) > 500:
        raise ValidationFailed(_("The reason may be at most %(num)d characters long.", num=500), "reason")
    return reason


def _finish(membership: Membership, expected: MembershipStatus, new: MembershipStatus, actor, now: dt.datetime,
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


def _count_resident(neighbourhood_id: int, delta: int) -> None:
    db.session.execute(
        update(Neighbourhood).where(Neighbourhood.id == neighbourhood_id)
        .values(verified_resident_count=Neighbourhood.verified_resident_count + delta)
    )


def _claim_residence(membership: Membership) -> None:
    try:
        with db.session.begin_nested():
            db.session.add(membership)
    except IntegrityError:
        raise DomainError(_("You are already a resident of a neighbourhood, or have asked to join one. "
                            "Leave it or withdraw the request first.")) from None


def request_membership(user: User, now: dt.datetime, neighbourhood: Neighbourhood, address: str) -> Membership:
    address = (address or "").strip()
    if not address:
        raise ValidationFailed(_("Please give your address in the neighbourhood."), "address")
    if len(address) > 200:
        raise ValidationFailed(_("The address may be at most %(num)d characters long.", num=200), "address")
    membership = Membership(user_id=user.id, neighbourhood_id=neighbourhood.id, role=MembershipRole.RESIDENT.value,
                            status=MembershipStatus.PENDING.value, address=address, requested_at=now)
    _claim_residence(membership)
    for muhtar in muhtars_of(neighbourhood):
        notify(muhtar.user, "membership_requested", now, email=False, name=user.display_name,
               neighbourhood=neighbourhood.name_in(muhtar.user.locale))
    permissions.forget_roles()
    return membership


def withdraw_request(user: User, now: dt.datetime) -> Membership:
    membership = current_membership(user)
    if membership is None or membership.status != MembershipStatus.PENDING.value:
        raise InvalidTransition(_("You have no open request to withdraw."))
    _finish(membership, MembershipStatus.PENDING, MembershipStatus.REJECTED, user, now, "withdrawn")
    permissions.forget_roles()
    return membership


def leave_neighbourhood(user: User, now: dt.datetime) -> Membership:
    membership = current_membership(user)
    if membership is None or membership.status != MembershipStatus.VERIFIED.value:
        raise InvalidTransition(_("You are not a resident of any neighbourhood."))
    _finish(membership, MembershipStatus.VERIFIED, MembershipStatus.REVOKED, user, now, "left")
    _count_resident(membership.neighbourhood_id, -1)
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
    _finish(membership, MembershipStatus.PENDING, MembershipStatus.VERIFIED, actor, now, None)
    _count_resident(neighbourhood.id, +1)
    record(actor, "membership.approve", membership, now, user=membership.user_id)
    notify(membership.user, "membership_approved", now, neighbourhood=neighbourhood.name_in(membership.user.locale))
    permissions.forget_roles()
    return membership


def reject_membership(actor, now: dt.datetime, neighbourhood: Neighbourhood, membership_id: int,
                      reason: str) -> Membership:
    permissions.require(actor, "review_memberships", neighbourhood)
    reason = _required_reason(reason)
    membership = _resident_request(membership_id, neighbourhood)
    _finish(membership, MembershipStatus.PENDING, MembershipStatus.REJECTED, actor, now, reason)
    record(actor, "membership.reject", membership, now, user=membership.user_id, reason=reason)
    notify(membership.user, "membership_rejected", now, reason=reason,
           neighbourhood=neighbourhood.name_in(membership.user.locale))
    permissions.forget_roles()
    return membership


def revoke_membership(actor, now: dt.datetime, neighbourhood: Neighbourhood, membership_id: int,
                      reason: str) -> Membership:
    permissions.require(actor, "revoke_membership", neighbourhood)
    reason = _required_reason(reason)
    membership = _resident_request(membership_id, neighbourhood)
    _finish(membership, MembershipStatus.VERIFIED, MembershipStatus.REVOKED, actor, now, reason)
    _count_resident(neighbourhood.id, -1)
    record(actor, "membership.revoke", membership, now, user=membership.user_id, reason=reason)
    notify(membership.user, "membership_revoked", now, reason=reason,
           neighbourhood=neighbourhood.name_in(membership.user.locale))
    permissions.forget_roles()
    return membership


# --- invitation codes ------------------------------------------------------------------

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
        raise ValidationFailed(_("Create between 1 and %(num)d codes at a time.", num=MAX_INVITES_PER_BATCH), "count")
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
    _claim_residence(membership)
    claimed = db.session.execute(
        update(InviteCode).where(InviteCode.id == invite.id, InviteCode.used_at.is_(None))
        .values(used_at=now, used_by_id=user.id)
    ).rowcount
    if claimed != 1:
        raise ValidationFailed(_("This code has already been used."), "code")
    _count_resident(invite.neighbourhood_id, +1)
    record(user, "invites.redeem", membership, now, code_id=invite.id)
    permissions.forget_roles()
    return membership
