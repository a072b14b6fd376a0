"""The municipality's structure, set up by administrators: municipalities, neighbourhoods,
bodies, categories, and the appointment of muhtars and body staff. Services flush; the request commits."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from assembly import permissions
from assembly.accounts.models import User
from assembly.audit.services import record
from assembly.config import LOCALES
from assembly.db import db
from assembly.errors import NotFound, ValidationFailed
from assembly.i18n import ngettext
from assembly.neighbourhoods import residents
from assembly.neighbourhoods.models import (
    Body,
    BodyKind,
    BodyStaff,
    Category,
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
Bounds = tuple[float, float, float, float]  # min latitude, min longitude, max latitude, max longitude


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
            ngettext("Use capital letters A–Z and digits only (at most %(num)s character).",
                     "Use capital letters A–Z and digits only (at most %(num)s characters).", max_length), field)
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
        raise ValidationFailed(ngettext("A name may be at most %(num)s character long.",
                                        "A name may be at most %(num)s characters long.", 120), f"name_{too_long[0]}")
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
        raise ValidationFailed(ngettext("Please enter a name of at most %(num)s character.",
                                        "Please enter a name of at most %(num)s characters.", 200), "name")
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
        raise ValidationFailed(ngettext("Please enter a name of at most %(num)s character.",
                                        "Please enter a name of at most %(num)s characters.", 200), "name")
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
    residents.move_membership(appointment, MembershipStatus.VERIFIED, MembershipStatus.REVOKED, actor, now, residents.required_reason(reason))
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
