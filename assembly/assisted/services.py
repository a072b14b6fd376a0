"""Assisted participation: a muhtar registers a resident who has no smartphone or e-mail, and
files things in their name, with their consent recorded.

The one entry point is `on_behalf(muhtar, now, membership, action, consent, target, **data)`:

1. the policy (`act_on_behalf`): the muhtar of the neighbourhood the resident is a verified
   resident of, and nobody else;
2. the consent: given (the checkbox), how (in person at the office, at the door, by phone) and
   when (not in the future, not older than `CONSENT_MAX_DAYS`) — refused without it;
3. the action, looked up in `ON_BEHALF_ACTIONS`, runs the domain's own service *as the
   resident*, so every rule of that service (a verified resident, an open proposal, one support
   per person, …) applies exactly as if the resident had clicked;
4. an `AssistedEntry` marks the created object "entered by the muhtar" wherever it is shown,
   and the audit log records `assisted.<action>` with the muhtar as actor.

Other domains plug in with `register_action(OnBehalfAction(...))` at import time of one of
their modules that `create_app` imports (docs/muhtars.md, "Adding an action"). An action can
refuse a target with `refuse` (a secret ballot is refused: it is cast on paper)."""
from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import and_, bindparam, distinct, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from assembly import permissions
from assembly.accounts.models import User
from assembly.accounts.services import (
    _check_display_name,
    check_email,
    find_user_by_email,
    find_user_by_phone,
    hash_password,
    normalise_email,
)
from assembly.assemblies import voting
from assembly.assemblies.models import Assembly, Secrecy
from assembly.assisted.models import CONSENT_METHODS, AssistedEntry
from assembly.audit.services import record
from assembly.config import LOCALES
from assembly.db import db
from assembly.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from assembly.i18n import ngettext, utc_to_wall_clock
from assembly.neighbourhoods.models import Membership, MembershipRole, MembershipStatus, Neighbourhood
from assembly.neighbourhoods.residents import claim_residence, count_resident
from assembly.notifications.services import queue_email
from assembly.proposals import discussion
from assembly.proposals import services as proposals
from assembly.proposals.models import Comment, Proposal, Support
from assembly.sms.services import normalise_phone, queue_sms
from assembly.urls import external_url

CONSENT_MAX_DAYS = 30


def consent_labels() -> dict[str, LazyString]:
    return {"office": _l("In person at the muhtar's office"), "door": _l("In person at their door"),
            "phone": _l("By phone")}


@dataclass(frozen=True)
class Consent:
    """The resident's consent to this one action, as the muhtar records it."""

    given: bool
    method: str | None
    given_at: dt.datetime | None  # UTC


@dataclass(frozen=True)
class OnBehalfAction:
    """One thing a muhtar may do in a resident's name.

    `run(resident, now, target, **data)` calls the domain's service with the resident as the
    actor and returns the object created or acted on (what gets the "entered by the muhtar"
    mark). `object_type` names that object's kind in `AssistedEntry` (e.g. "proposal").
    `refuse(target)` returns a reason when the action may not be done for someone else on this
    target, checked before anything is written."""

    name: str
    label: LazyString
    object_type: str
    run: Callable[..., Any]
    refuse: Callable[[Any], str | None] = field(default=lambda target: None)


ON_BEHALF_ACTIONS: dict[str, OnBehalfAction] = {}


def register_action(action: OnBehalfAction) -> None:
    if action.name in ON_BEHALF_ACTIONS and ON_BEHALF_ACTIONS[action.name] != action:
        raise ValueError(f"on-behalf action {action.name!r} is registered twice")
    ON_BEHALF_ACTIONS[action.name] = action


# --- the actions of proposals and assemblies -------------------------------------------------

def _file_proposal(resident: User, now: dt.datetime, neighbourhood: Neighbourhood, *,
                   data: proposals.ProposalInput) -> Proposal:
    return proposals.create_proposal(resident, now, neighbourhood, data, publish=True)


def _support(resident: User, now: dt.datetime, proposal: Proposal) -> Proposal:
    proposals.support(resident, now, proposal)
    return proposal


def _comment(resident: User, now: dt.datetime, proposal: Proposal, *, body: str) -> Comment:
    return discussion.add_comment(resident, now, proposal, body)


def _secret_ballot(assembly: Assembly) -> str | None:
    if assembly.ballot is not None and assembly.ballot.secrecy == Secrecy.SECRET.value:
        return _("A secret ballot cannot be cast by the muhtar online. The resident votes on paper at the "
                 "meeting, where the paper ballots are counted.")
    return None


def _vote(resident: User, now: dt.datetime, assembly: Assembly, *, vote: Any) -> Assembly:
    voting.cast_vote(resident, now, assembly, vote)
    return assembly


register_action(OnBehalfAction("proposal", _l("File a proposal"), "proposal", _file_proposal))
register_action(OnBehalfAction("support", _l("Support a proposal"), "proposal", _support))
register_action(OnBehalfAction("comment", _l("Comment on a proposal"), "comment", _comment))
register_action(OnBehalfAction("vote", _l("Vote in an open ballot"), "assembly", _vote, refuse=_secret_ballot))


# --- consent -----------------------------------------------------------------------------------

def checked_consent(consent: Consent, now: dt.datetime, timezone: str) -> tuple[str, dt.date]:
    """The consent's method and (local) date, or a translated refusal."""
    errors: dict[str, list[str]] = {}
    if not consent.given:
        errors["consent"] = [_("The resident's consent is required: tick the box only after they agreed to it.")]
    if consent.method not in CONSENT_METHODS:
        errors["consent_method"] = [_("Say how the resident gave their consent.")]
    if consent.given_at is None:
        errors["consent_at"] = [_("Say when the resident gave their consent.")]
    elif consent.given_at > now + dt.timedelta(minutes=5):
        errors["consent_at"] = [_("The consent cannot have been given in the future.")]
    elif consent.given_at < now - dt.timedelta(days=CONSENT_MAX_DAYS):
        errors["consent_at"] = [ngettext("The consent is older than %(num)s day: ask the resident again.",
                                         "The consent is older than %(num)s days: ask the resident again.",
                                         CONSENT_MAX_DAYS)]
    if errors:
        raise ValidationFailed(errors)
    return consent.method, utc_to_wall_clock(consent.given_at, timezone).date()


# --- acting on behalf ----------------------------------------------------------------------------

def resident_membership(neighbourhood: Neighbourhood, membership_id: int) -> Membership:
    """A resident membership of the neighbourhood (any status: the policy decides)."""
    membership = db.session.scalar(
        select(Membership).options(joinedload(Membership.user))
        .where(Membership.id == membership_id, Membership.neighbourhood_id == neighbourhood.id,
               Membership.role == MembershipRole.RESIDENT.value))
    if membership is None:
        raise NotFound(_("The requested item does not exist."))
    return membership


def on_behalf(muhtar, now: dt.datetime, membership: Membership, action_name: str, consent: Consent,
              target: Any, **data: Any) -> Any:
    """Do `action_name` on `target` in the name of `membership`'s resident (see the module)."""
    try:
        action = ON_BEHALF_ACTIONS[action_name]
    except KeyError:
        raise ValueError(f"unknown on-behalf action {action_name!r}") from None
    permissions.require(muhtar, "act_on_behalf", membership)
    reason = action.refuse(target)
    if reason:
        raise NotAllowed(reason)
    neighbourhood = membership.neighbourhood
    method, consent_on = checked_consent(consent, now, neighbourhood.municipality.timezone)
    resident = membership.user
    result = action.run(resident, now, target, **data)
    entry = AssistedEntry(neighbourhood_id=neighbourhood.id, muhtar_id=muhtar.id, resident_id=resident.id,
                          action=action.name, object_type=action.object_type, object_id=result.id,
                          consent_method=method, consent_on=consent_on, created_at=now)
    db.session.add(entry)
    db.session.flush()
    record(muhtar, f"assisted.{action.name}", result, now, neighbourhood_id=neighbourhood.id,
           resident=resident.id, consent=method, consent_on=consent_on.isoformat(), entry=entry.id)
    return result


# --- registering a resident ---------------------------------------------------------------------

ADDRESS_MAX = 200


def register_resident(muhtar, now: dt.datetime, neighbourhood: Neighbourhood, *, display_name: str, address: str,
                      phone: str | None, locale: str) -> Membership:
    """Register someone who came to the office or was met at the door: an account without e-mail
    (a phone number if they have one), verified at once as a resident of the muhtar's neighbourhood.
    Nobody knows its password; the muhtar acts for them, or they later set one with a code sent to
    their phone ("Forgot your password?")."""
    permissions.require(muhtar, "assist_residents", neighbourhood)
    errors: dict[str, list[str]] = {}
    try:
        display_name = _check_display_name(display_name)
    except ValidationFailed as error:
        errors.update(error.reasons)
    address = (address or "").strip()
    if not address:
        errors["address"] = [_("Please give the resident's address in the neighbourhood.")]
    elif len(address) > ADDRESS_MAX:
        errors["address"] = [ngettext("The address may be at most %(num)s character long.",
                                      "The address may be at most %(num)s characters long.", ADDRESS_MAX)]
    number = None
    if (phone or "").strip():
        number = _unused_phone(phone, errors, _("This phone number already belongs to an account. If it is the "
                                                "resident's, they can ask to join the neighbourhood from it."))
    if locale not in LOCALES:
        errors["locale"] = [_("Choose one of the offered languages.")]
    if errors:
        raise ValidationFailed(errors)
    user = User(email=None, phone=number, phone_confirmed_at=now if number else None, assisted=True,
                display_name=display_name, password_hash=hash_password(secrets.token_urlsafe(32)), locale=locale,
                created_at=now, password_changed_at=now)
    db.session.add(user)
    db.session.flush()
    membership = Membership(user_id=user.id, neighbourhood_id=neighbourhood.id, role=MembershipRole.RESIDENT.value,
                            status=MembershipStatus.VERIFIED.value, address=address, requested_at=now,
                            verified_at=now, verified_by_id=muhtar.id, decided_at=now, decided_by_id=muhtar.id)
    claim_residence(membership)
    count_resident(neighbourhood.id, +1)
    record(muhtar, "assisted.register", membership, now, user=user.id, phone=bool(number))
    permissions.forget_roles()
    return membership


def _unused_phone(phone: str, errors: dict, taken: str) -> str | None:
    """The number in its normal form, or None with the reason added to `errors` (its form, or
    `taken` when another account has it)."""
    try:
        number = normalise_phone(phone)
    except ValidationFailed as error:
        errors.update(error.reasons)
        return None
    if find_user_by_phone(number) is not None:
        errors["phone"] = [taken]
        return None
    return number


# --- a phone number or an e-mail address, later --------------------------------------------------

CONTACT = "contact"  # the AssistedEntry.action (and assisted.contact in the audit log) of add_contact


def owner_chose_password(user: User) -> bool:
    """The resident has taken the account over (chosen a password with a code or a link): it is
    theirs now, and the muhtar no longer changes how it is reached."""
    return user.password_changed_at > user.created_at


def add_contact(muhtar, now: dt.datetime, membership: Membership, consent: Consent, *, phone: str | None,
                email: str | None) -> User:
    """Add the mobile phone number or e-mail address a resident now has to the account a muhtar
    registered for them, with their consent; checked as at sign-up (the form of the number or
    address, and that no other account has it). Only what is missing is added, never changed, and
    only while nobody has chosen the account's password: then the resident can choose one with
    "Forgot your password?" and a code or link sent there."""
    permissions.require(muhtar, "add_resident_contact", membership)
    user = membership.user
    if owner_chose_password(user):
        raise DomainError(_("%(name)s has chosen a password of their own: the account is theirs, and only they "
                            "decide how it is reached.", name=user.display_name))
    neighbourhood = membership.neighbourhood
    method, consent_on = checked_consent(consent, now, neighbourhood.municipality.timezone)
    errors: dict[str | None, list[str]] = {}
    number = address = None
    if (phone or "").strip():
        if user.phone is not None:
            errors["phone"] = [_("The account already has a phone number.")]
        else:
            number = _unused_phone(phone, errors, _("This phone number already belongs to an account."))
    if (email or "").strip():
        if user.email is not None:
            errors["email"] = [_("The account already has an e-mail address.")]
        else:
            try:
                address = check_email(normalise_email(email))
            except ValidationFailed as error:
                errors.update(error.reasons)
            else:
                if find_user_by_email(address) is not None:
                    errors["email"] = [_("This e-mail address already belongs to an account.")]
    if not errors and number is None and address is None:
        errors[None] = [_("Give a mobile phone number or an e-mail address.")]
    if errors:
        raise ValidationFailed(errors)
    try:
        with db.session.begin_nested():
            if number is not None:
                user.phone, user.phone_confirmed_at = number, now  # vouched for by the muhtar, as at registration
            if address is not None:
                user.email = address
    except IntegrityError:  # given to another account at the same moment
        raise ValidationFailed(_("This phone number or e-mail address already belongs to an account.")) from None
    entry = AssistedEntry(neighbourhood_id=neighbourhood.id, muhtar_id=muhtar.id, resident_id=user.id,
                          action=CONTACT, object_type="user", object_id=user.id, consent_method=method,
                          consent_on=consent_on, created_at=now)
    db.session.add(entry)
    db.session.flush()
    record(muhtar, f"assisted.{CONTACT}", membership, now, user=user.id, phone=number is not None,
           email=address is not None, consent=method, consent_on=consent_on.isoformat(), entry=entry.id)
    _tell_new_contact(user, neighbourhood, now, number=number, address=address)
    return user


def _tell_new_contact(user: User, neighbourhood: Neighbourhood, now: dt.datetime, *, number: str | None,
                      address: str | None) -> None:
    """Tell whoever holds the new number or address that it reaches the account now, and how to
    choose a password; and the number or address the account had already, that one was added (so
    that nobody can add a way into an account unseen). In the resident's language; an SMS waits
    for the end of the quiet hours."""
    name = neighbourhood.name_in(user.locale)
    with force_locale(user.locale):
        if number is not None:
            queue_sms(number, _("Assembly: the muhtar of %(neighbourhood)s added this number to your account. To "
                                "log in yourself, choose a password with “Forgot your password?”.",
                                neighbourhood=name), "notification", now, user_id=user.id)
        if address is not None:
            body = render_template("mail/assisted_contact.txt", user=user, neighbourhood=name,
                                   login_link=external_url("accounts.login"),
                                   forgot_link=external_url("accounts.forgot_password"))
            queue_email(address, _("Your Assembly account"), body, now)
        if address is not None and number is None and user.phone is not None:
            queue_sms(user.phone, _("Assembly: the muhtar of %(neighbourhood)s added an e-mail address to your "
                                    "account. If you did not agree to it, tell the muhtar's office.",
                                    neighbourhood=name), "notification", now, user_id=user.id)
        if number is not None and address is None and user.email is not None:
            body = "\n\n".join([_("Hello %(name)s,", name=user.display_name),
                                 _("The muhtar of %(neighbourhood)s added a mobile phone number to your Assembly "
                                   "account. If you did not agree to it, tell the muhtar's office.",
                                   neighbourhood=name)])
            queue_email(user.email, _("Your Assembly account"), body + "\n", now)


def entry_labels() -> dict[str, LazyString]:
    """What each kind of entry on the muhtar's list says."""
    return {name: action.label for name, action in ON_BEHALF_ACTIONS.items()} | {
        CONTACT: _l("Add a phone number or an e-mail address")}


# --- reading --------------------------------------------------------------------------------------

@dataclass
class Marks:
    """Which parts of a proposal's page were entered by the muhtar."""

    proposal: bool = False
    comment_ids: set[int] = field(default_factory=set)
    supports: int = 0  # current supports that the muhtar entered


_MARKS = select(
    AssistedEntry.action, AssistedEntry.object_id,
    exists().where(Support.proposal_id == AssistedEntry.object_id,
                   Support.user_id == AssistedEntry.resident_id).label("live")
).where(or_(and_(AssistedEntry.object_type == "proposal", AssistedEntry.object_id == bindparam("proposal_id")),
            and_(AssistedEntry.object_type == "comment",
                 AssistedEntry.object_id.in_(select(Comment.id).where(Comment.proposal_id == bindparam("proposal_id"))))))


def marks_for(proposal: Proposal) -> Marks:
    """The "entered by the muhtar" marks of a proposal, its comments and its supports: one statement
    (built once: the proposal page reads it on every view)."""
    rows = db.read(_MARKS, {"proposal_id": proposal.id})
    marks = Marks()
    for action, object_id, live in rows:
        if action == "proposal":
            marks.proposal = True
        elif action == "comment":
            marks.comment_ids.add(object_id)
        elif action == "support" and live:
            marks.supports += 1
    return marks


_ENTERED_COUNT = (select(func.count(distinct(AssistedEntry.resident_id)))
                  .where(AssistedEntry.object_type == bindparam("object_type"),
                         AssistedEntry.object_id == bindparam("object_id"),
                         AssistedEntry.action == bindparam("action")))


def entered_count(action_name: str, object_type: str, object_id: int) -> int:
    """How many residents the muhtar did `action_name` for on one object: a count, never who or
    what (one statement, built once: a session's page reads it on every view). A survey's results
    show it instead of marking any answer."""
    return db.read(_ENTERED_COUNT, {"object_type": object_type, "object_id": object_id,
                                    "action": action_name}).scalar() or 0


def open_proposals(neighbourhood: Neighbourhood, limit: int = 200) -> list[Proposal]:
    """The proposals a resident can support or comment on, newest first."""
    return list(db.session.scalars(
        select(Proposal).where(Proposal.neighbourhood_id == neighbourhood.id,
                               Proposal.status == proposals.S.OPEN.value, Proposal.hidden_at.is_(None))
        .order_by(Proposal.id.desc()).limit(limit)))


def open_proposal(neighbourhood: Neighbourhood, proposal_id: int | None) -> Proposal | None:
    proposal = db.session.get(Proposal, proposal_id) if proposal_id else None
    if proposal is None or proposal.neighbourhood_id != neighbourhood.id:
        return None
    return proposal


def recent_entries(muhtar, neighbourhood: Neighbourhood, limit: int = 50) -> list[AssistedEntry]:
    permissions.require(muhtar, "assist_residents", neighbourhood)
    return list(db.session.scalars(
        select(AssistedEntry).options(joinedload(AssistedEntry.muhtar), joinedload(AssistedEntry.resident))
        .where(AssistedEntry.neighbourhood_id == neighbourhood.id).order_by(AssistedEntry.id.desc()).limit(limit)))
