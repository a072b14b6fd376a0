"""The one policy module: may this user do this action on this object?

Views, templates and services ask `can(user, action, obj)` or `require(...)`;
no other module decides permissions. Roles come from the database:
resident and muhtar from verified `Membership` rows, body staff from
`BodyStaff`, admin from `User.is_admin`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, NamedTuple

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, literal, null, or_, select, union_all

from assembly.db import db
from assembly.errors import NotAllowed
from assembly.meetings.models import QuestionSupport
from assembly.neighbourhoods.models import (
    Body,
    BodyStaff,
    Membership,
    MembershipRole,
    MembershipStatus,
    Neighbourhood,
)
from assembly.photos.owners import OWNERS
from assembly.proposals.models import Follow

_STAFF = "body staff"  # the role column of the staff rows in the one roles statement


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # A plain column of a UNION comes back without the UTC type's conversion (SQLite: naive).
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)


class Residence(NamedTuple):
    """Where a user lives (a verified or pending resident membership), and since when."""

    neighbourhood_id: int
    verified_at: dt.datetime | None


def roles_selects(user_id, *before) -> list[Select]:
    """The SELECTs of a user's roles — memberships and body staff, each row (role, status, place,
    verified at) — for the user whose id `user_id` gives (a parameter, or a column of a table
    `before` joins), each row after the columns `before` (see `accounts.services.identity_for_login_token`,
    which reads who is logged in and their roles in one statement)."""
    return [
        select(*before, Membership.role, Membership.status, Membership.neighbourhood_id, Membership.verified_at).where(
            Membership.user_id == user_id,  # two comparisons, not IN: no list expanded per run
            or_(Membership.status == MembershipStatus.VERIFIED.value,
                Membership.status == MembershipStatus.PENDING.value)),
        select(*before, literal(_STAFF), literal(_STAFF), BodyStaff.body_id, null()).where(BodyStaff.user_id == user_id),
    ]


# Memberships and body staff of one user, in one statement built once (asked on most requests).
_ROLES = union_all(*roles_selects(bindparam("roles_user")))


class Roles:
    """What one user is: loaded once per request, in one statement, when first asked."""

    def __init__(self, user, rows=None) -> None:
        """The roles of `user`, read now, or from `rows` of `roles_selects` already read."""
        self.user = user
        self.authenticated = bool(user is not None and getattr(user, "is_authenticated", False))
        self.admin = self.authenticated and bool(user.is_admin)
        self.residence: Residence | None = None
        self.pending: Residence | None = None
        self.muhtar_of: set[int] = set()
        self.staff_of: set[int] = set()
        if not self.authenticated:
            return
        api_body_id = getattr(user, "api_body_id", None)
        if api_body_id is not None:  # a body's API token acts as staff of that body only
            self.staff_of = {api_body_id}
            return
        if rows is None:
            rows = db.session.connection().execute(_ROLES, {"roles_user": user.id})
        for role, status, place_id, verified_at in rows:
            if role == _STAFF:
                self.staff_of.add(place_id)
            elif role == MembershipRole.MUHTAR.value and status == MembershipStatus.VERIFIED.value:
                self.muhtar_of.add(place_id)
            elif role == MembershipRole.RESIDENT.value:
                if status == MembershipStatus.VERIFIED.value:
                    self.residence = Residence(place_id, _utc(verified_at))
                else:
                    self.pending = Residence(place_id, None)

    def resident_of(self, neighbourhood_id: int) -> bool:
        return self.residence is not None and self.residence.neighbourhood_id == neighbourhood_id

    def resident_since(self, neighbourhood_id: int, moment: dt.datetime) -> bool:
        """A verified resident of the neighbourhood since `moment` or earlier."""
        return (self.resident_of(neighbourhood_id) and self.residence.verified_at is not None
                and self.residence.verified_at <= moment)


def _cache_key(user):
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return (getattr(user, "id", None), id(user) if getattr(user, "id", None) is None else 0) if authenticated else None


def roles_of(user) -> Roles:
    """Roles of `user`, cached for the request (or app context)."""
    if not has_app_context():
        return Roles(user)
    cache = g.setdefault("roles_cache", {})
    key = _cache_key(user)
    if key not in cache:
        cache[key] = Roles(user)
    return cache[key]


def remember_roles(user, rows) -> None:
    """Keep for the request the roles of `user` read by the caller (rows of `roles_selects`)."""
    if has_app_context():
        g.setdefault("roles_cache", {})[_cache_key(user)] = Roles(user, rows)


def resident_since(user, neighbourhood_id: int, moment: dt.datetime) -> bool:
    """A verified resident of the neighbourhood since `moment` or earlier (who may vote in a
    ballot that opened at `moment`)."""
    return roles_of(user).resident_since(neighbourhood_id, moment)


def forget_roles() -> None:
    """Drop cached roles after a service changed them."""
    if has_app_context():
        g.pop("roles_cache", None)


def _neighbourhood_id(obj: Any) -> int | None:
    if isinstance(obj, Neighbourhood):
        return obj.id
    if hasattr(obj, "neighbourhood_id"):
        return obj.neighbourhood_id
    proposal = getattr(obj, "proposal", None)  # a comment
    return getattr(proposal, "neighbourhood_id", None)


# --- rules -------------------------------------------------------------------

def _view_public(roles: Roles, obj: Any) -> bool:
    return True


def _logged_in(roles: Roles, obj: Any) -> bool:
    return roles.authenticated


def _request_membership(roles: Roles, obj: Any) -> bool:
    return roles.authenticated and roles.residence is None and roles.pending is None


def _muhtar_of_object(roles: Roles, obj: Any) -> bool:
    return roles.authenticated and _neighbourhood_id(obj) in roles.muhtar_of


def _resident_of_object(roles: Roles, obj: Any) -> bool:
    return roles.authenticated and roles.resident_of(_neighbourhood_id(obj))


def _admin(roles: Roles, obj: Any) -> bool:
    return roles.admin


def _staff_of_body(roles: Roles, obj: Any) -> bool:
    body_id = obj.id if isinstance(obj, Body) else getattr(obj, "body_id", None)
    return roles.authenticated and body_id in roles.staff_of


def _staff_of_any_body(roles: Roles, obj: Any) -> bool:
    """Staff of one of the object's bodies (a promise's signatories, a commitment's responsible
    bodies): `obj.body_ids`."""
    return roles.authenticated and bool(set(obj.body_ids) & roles.staff_of)


def _muhtar_of_any_neighbourhood(roles: Roles, obj: Any) -> bool:
    """Muhtar of one of the object's neighbourhoods (a promise's): `obj.neighbourhood_ids`."""
    return roles.authenticated and bool(set(obj.neighbourhood_ids) & roles.muhtar_of)


def _view_promise(roles: Roles, obj: Any) -> bool:
    # Drafts are seen by the staff of the bodies that write them, and by the muhtars they ask.
    return obj.public or _staff_of_any_body(roles, obj) or _muhtar_of_any_neighbourhood(roles, obj)


def _attach_progress_photo(roles: Roles, obj: Any) -> bool:
    """A progress step (CommitmentEvent): the staff of the body that recorded it."""
    return roles.authenticated and getattr(obj, "body_id", None) in roles.staff_of


def _view_progress_photos(roles: Roles, obj: Any) -> bool:
    return _view_promise(roles, obj.commitment.promise)


def _hide_progress_photo(roles: Roles, obj: Any) -> bool:
    """The muhtar of one of the promise's neighbourhoods: the step stays on the hash chain, the
    photo is hidden with a public reason."""
    return _muhtar_of_any_neighbourhood(roles, obj.commitment.promise)


def _any_muhtar(roles: Roles, obj: Any) -> bool:
    return bool(roles.muhtar_of)


def _any_staff(roles: Roles, obj: Any) -> bool:
    return bool(roles.staff_of)


def _author_of(roles: Roles, obj: Any) -> bool:
    return roles.authenticated and getattr(obj, "author_id", None) == roles.user.id


def _edit_proposal(roles: Roles, obj: Any) -> bool:
    # The author, while still a resident of the proposal's neighbourhood.
    return _author_of(roles, obj) and roles.resident_of(obj.neighbourhood_id)


def _view_proposal(roles: Roles, obj: Any) -> bool:
    if getattr(obj, "status", None) == "draft":
        return _author_of(roles, obj)
    return True


def _support_proposal(roles: Roles, obj: Any) -> bool:
    # The author's own support would count toward the threshold the others must reach: refused.
    return _resident_of_object(roles, obj) and not _author_of(roles, obj)


def _act_on_behalf(roles: Roles, obj: Any) -> bool:
    # A muhtar, for a verified resident of their own neighbourhood (obj: the resident's Membership).
    return (roles.authenticated and getattr(obj, "role", None) == MembershipRole.RESIDENT.value
            and getattr(obj, "status", None) == MembershipStatus.VERIFIED.value
            and obj.neighbourhood_id in roles.muhtar_of and obj.user_id != roles.user.id)


def _add_resident_contact(roles: Roles, obj: Any) -> bool:
    # The same muhtar, and only for an account a muhtar registered (its `user` is `assisted`).
    return _act_on_behalf(roles, obj) and bool(getattr(getattr(obj, "user", None), "assisted", False))


def _attach_proposal_photo(roles: Roles, obj: Any) -> bool:
    # The author, while the proposal is a draft or open (what was voted on stays as it was).
    return _edit_proposal(roles, obj) and obj.status in ("draft", "open")


def _view_proposal_photos(roles: Roles, obj: Any) -> bool:
    # A hidden proposal hides its photos too, except from the muhtar who reviews it.
    return _view_proposal(roles, obj) and (obj.hidden_at is None or _muhtar_of_object(roles, obj))


def _hide_photo(roles: Roles, obj: Any) -> bool:
    """A photo (assembly.photos): whoever its owner's kind lets hide photos (`Owner.hide_action`,
    asked about the owner: a proposal, a meeting's question, a progress step)."""
    kind = OWNERS.get(obj.owner_kind)
    if not roles.authenticated or kind is None:
        return False
    owner = obj.owner
    return owner is not None and RULES[kind.hide_action](roles, owner)


def _confirm_fix(roles: Roles, obj: Any) -> bool:
    """Is it fixed? The author of a done case's proposal, or someone who follows the proposal."""
    if not roles.authenticated or getattr(obj, "status", None) != "done":
        return False
    proposal = obj.proposal
    if proposal is None:  # a meeting's question: its author and supporters (a consultation answer: nobody)
        question = obj.meeting_question
        return question is not None and (question.author_id == roles.user.id or db.session.scalar(
            select(QuestionSupport.id).where(QuestionSupport.question_id == question.id,
                                             QuestionSupport.user_id == roles.user.id)) is not None)
    if proposal.author_id == roles.user.id:
        return True
    return db.session.scalar(select(Follow.id).where(Follow.proposal_id == proposal.id,
                                                    Follow.user_id == roles.user.id)) is not None


def _comment(roles: Roles, obj: Any) -> bool:
    return _resident_of_object(roles, obj) or _muhtar_of_object(roles, obj)


# --- meetings with bodies: the object is a Meeting, or a MeetingQuestion (its `meeting`) ----------

def _meeting_of(obj: Any) -> Any:
    return getattr(obj, "meeting", None) or obj


def _organise_meeting(roles: Roles, obj: Any) -> bool:
    """Staff of the organising body, or (a meeting of the muhtars) a muhtar of a covered neighbourhood."""
    meeting = _meeting_of(obj)
    if not roles.authenticated or meeting is None:
        return False
    if meeting.organising_body_id is not None:
        return meeting.organising_body_id in roles.staff_of
    return bool(meeting.neighbourhood_ids & roles.muhtar_of)


def _create_meeting(roles: Roles, obj: Any) -> bool:
    return roles.authenticated and bool(roles.muhtar_of or roles.staff_of)


def _resident_of_covered(roles: Roles, obj: Any) -> bool:
    meeting = _meeting_of(obj)
    return (roles.authenticated and roles.residence is not None and meeting is not None
            and roles.residence.neighbourhood_id in meeting.neighbourhood_ids)


def _answer_meeting_question(roles: Roles, obj: Any) -> bool:
    """The organiser, or the staff of the body the question was put to (never another body's)."""
    return _organise_meeting(roles, obj) or (roles.authenticated and getattr(obj, "body_id", None) in roles.staff_of)


def _view_meeting(roles: Roles, obj: Any) -> bool:
    return getattr(obj, "status", None) != "draft" or _organise_meeting(roles, obj)


def _attach_question_photo(roles: Roles, obj: Any) -> bool:
    """A question's author, while the meeting is open for questions and they live in a covered
    neighbourhood (the photos come with the question)."""
    return (_author_of(roles, obj) and _resident_of_covered(roles, obj)
            and getattr(obj.meeting, "status", None) == "open")


def _view_question_photos(roles: Roles, obj: Any) -> bool:
    return _view_meeting(roles, obj.meeting)


def _hide_question_photo(roles: Roles, obj: Any) -> bool:
    """The meeting's organiser, or the muhtar of the neighbourhood the question came from."""
    return _organise_meeting(roles, obj) or _muhtar_of_object(roles, obj)


def _survey_neighbourhoods(obj: Any) -> set[int]:
    return set(getattr(obj, "neighbourhood_ids", ()) or ())


def _staff_in_municipality(roles: Roles, municipality_id: int | None) -> bool:
    if not roles.staff_of or municipality_id is None:
        return False
    return db.session.scalar(select(Body.id).where(Body.id.in_(roles.staff_of),
                                                   Body.municipality_id == municipality_id).limit(1)) is not None


def _create_survey(roles: Roles, obj: Any) -> bool:
    # The muhtar of the neighbourhood, or staff of a body of its municipality (who then need a
    # muhtar to publish: see _survey_muhtar).
    if not roles.authenticated:
        return False
    return _muhtar_of_object(roles, obj) or _staff_in_municipality(roles, getattr(obj, "municipality_id", None))


def _survey_muhtar(roles: Roles, obj: Any) -> bool:
    return roles.authenticated and bool(roles.muhtar_of & _survey_neighbourhoods(obj))


def _manage_survey(roles: Roles, obj: Any) -> bool:
    return _survey_muhtar(roles, obj) or (roles.authenticated and getattr(obj, "body_id", None) in roles.staff_of)


RULES: dict[str, Callable[[Roles, Any], bool]] = {
    # everyone
    "view_neighbourhood": _view_public,
    "view_proposal": _view_proposal,
    "view_proposal_photos": _view_proposal_photos,
    "view_question_photos": _view_question_photos,
    "view_progress_photos": _view_progress_photos,
    # any logged-in person
    "manage_own_account": _logged_in,
    "read_notifications": _logged_in,
    "request_membership": _request_membership,
    "redeem_invite": _request_membership,
    "follow": _logged_in,
    # residents
    "act_as_resident": _resident_of_object,
    "create_proposal": _resident_of_object,
    "support_proposal": _support_proposal,
    "vote": _resident_of_object,
    # only those who live there: outsiders' reports could hide anything anywhere
    "report": _resident_of_object,
    "comment": _comment,
    # authors
    "edit_proposal": _edit_proposal,
    "edit_comment": _author_of,
    "attach_proposal_photo": _attach_proposal_photo,
    "attach_question_photo": _attach_question_photo,
    # the author and the followers of a proposal whose case is done
    "confirm_fix": _confirm_fix,
    # muhtar of the object's neighbourhood
    "review_memberships": _muhtar_of_object,
    "revoke_membership": _muhtar_of_object,
    "issue_invite_codes": _muhtar_of_object,
    "moderate": _muhtar_of_object,
    "hide_photo": _hide_photo,  # by the owner's kind: one of the hide_…_photo actions
    "hide_proposal_photo": _muhtar_of_object,
    "manage_assemblies": _muhtar_of_object,
    "open_voting": _muhtar_of_object,
    "forward": _muhtar_of_object,
    "answer_consultation": _muhtar_of_object,
    "view_muhtar_desk": _any_muhtar,
    "assist_residents": _muhtar_of_object,
    "act_on_behalf": _act_on_behalf,
    "add_resident_contact": _add_resident_contact,
    # surveys: created by a muhtar, or by body staff together with the muhtars (who publish)
    "create_survey": _create_survey,
    "manage_survey": _manage_survey,
    "publish_survey": _survey_muhtar,
    "enter_paper_survey": _survey_muhtar,
    "moderate_survey": _survey_muhtar,
    # body staff
    "act_for_body": _staff_of_body,
    "manage_consultations": _staff_of_body,
    "view_staff_desk": _any_staff,
    # meetings with bodies
    "view_meeting": _view_meeting,
    "create_meeting": _create_meeting,
    "organise_meeting": _organise_meeting,
    "ask_meeting_question": _resident_of_covered,
    "support_meeting_question": _resident_of_covered,
    "answer_meeting_question": _answer_meeting_question,
    # what the body asked committed to at the meeting, recorded with its answer in one of its promises
    # (the organiser or that body's staff; `promises.services` checks the promise is the body's)
    "commit_at_meeting": _answer_meeting_question,
    "hide_question_photo": _hide_question_photo,
    # promises and programmes: written and signed by bodies, co-signed and commented by muhtars
    "view_promise": _view_promise,
    "create_promise": _any_staff,
    "manage_promise": _staff_of_any_body,  # a signatory's staff: draft, commitments, reports
    "record_progress": _staff_of_any_body,  # a responsible body's staff, on that commitment only
    "attach_progress_photo": _attach_progress_photo,
    "hide_progress_photo": _hide_progress_photo,
    "cosign_promise": _muhtar_of_any_neighbourhood,
    "comment_promise": _muhtar_of_any_neighbourhood,
    # admin
    "administer": _admin,
    "read_audit_log": _admin,
    "appoint_muhtar": _admin,
    "appoint_staff": _admin,
}


def can(user, action: str, obj: Any = None) -> bool:
    try:
        rule = RULES[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}") from None
    return rule(roles_of(user), obj)


def require(user, action: str, obj: Any = None) -> None:
    if not can(user, action, obj):
        raise NotAllowed(str(_l("You are not allowed to do this.")))
