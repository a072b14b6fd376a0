"""The body staff's view of cases: inbox filters, public scoreboard, API tokens."""
from __future__ import annotations

import datetime as dt
import secrets
import statistics
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from assembly import permissions
from assembly.audit.services import record
from assembly.cases.models import ApiToken, Case, CaseStatus
from assembly.cases.services import OPEN_STATUSES
from assembly.db import db
from assembly.errors import NotFound, ValidationFailed
from assembly.neighbourhoods.models import Body, BodyStaff
from assembly.tokens import hash_token

TOKEN_PREFIX = "asm_"
PAGE_SIZE = 50


@dataclass
class InboxFilters:
    status: str | None = None
    neighbourhood_id: int | None = None
    category_id: int | None = None
    overdue: bool = False
    page: int = 1


def staff_bodies(user) -> list[Body]:
    return list(db.session.scalars(
        select(Body).join(BodyStaff, BodyStaff.body_id == Body.id).where(BodyStaff.user_id == user.id)
        .order_by(Body.name)))


def inbox(actor, body: Body, filters: InboxFilters, now: dt.datetime) -> tuple[list[Case], int]:
    permissions.require(actor, "act_for_body", body)
    query = select(Case).where(Case.body_id == body.id)
    if filters.status in {s.value for s in CaseStatus}:
        query = query.where(Case.status == filters.status)
    if filters.neighbourhood_id:
        query = query.where(Case.neighbourhood_id == filters.neighbourhood_id)
    if filters.category_id:
        query = query.where(Case.category_id == filters.category_id)
    if filters.overdue:
        query = query.where(Case.status.in_(OPEN_STATUSES), Case.due_at < now)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, filters.page)
    cases = list(db.session.scalars(
        query.options(joinedload(Case.neighbourhood)).order_by(Case.due_at, Case.id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return cases, total


def cases_for_actions(actor, body: Body, case_ids: list[int]) -> list[Case]:
    cases = list(db.session.scalars(select(Case).where(Case.id.in_(case_ids), Case.body_id == body.id)
                                    .order_by(Case.id)))
    if len(cases) != len(set(case_ids)):
        raise NotFound(_("Some of the chosen cases do not exist at this body."))
    for case in cases:
        permissions.require(actor, "act_for_body", case)
    return cases


@dataclass
class Scoreboard:
    body: Body
    total: int
    open: int
    overdue: int
    median_days_to_receive: float | None
    median_days_to_decide: float | None


def _median_days(pairs) -> float | None:
    durations = [(end - start).total_seconds() / 86400 for start, end in pairs if end is not None]
    return round(statistics.median(durations), 1) if durations else None


def scoreboard(body: Body, now: dt.datetime) -> Scoreboard:
    """Public figures of one body. Medians read two timestamp columns of the body's cases."""
    rows = db.session.execute(
        select(Case.status, Case.due_at, Case.forwarded_at, Case.received_at, Case.decided_at)
        .where(Case.body_id == body.id)).all()
    return Scoreboard(
        body=body, total=len(rows),
        open=sum(1 for row in rows if row.status in OPEN_STATUSES),
        overdue=sum(1 for row in rows if row.status in OPEN_STATUSES and now > row.due_at),
        median_days_to_receive=_median_days((row.forwarded_at, row.received_at) for row in rows),
        median_days_to_decide=_median_days((row.forwarded_at, row.decided_at) for row in rows))


def overdue_cases(body: Body, now: dt.datetime, limit: int = 100) -> list[Case]:
    return list(db.session.scalars(
        select(Case).where(Case.body_id == body.id, Case.status.in_(OPEN_STATUSES), Case.due_at < now)
        .order_by(Case.due_at).limit(limit)))


# --- API tokens -----------------------------------------------------------------------------


def create_token(actor, now: dt.datetime, body: Body, name: str) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and only its hash is kept."""
    permissions.require(actor, "act_for_body", body)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("Give the token a name of at most %(num)d characters.", num=100), "name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(body_id=body.id, name=name, prefix=secret[:12], token_hash=hash_token(secret),
                     created_by_id=getattr(actor, "id", None), created_at=now)
    db.session.add(token)
    db.session.flush()
    record(actor, "api_token.create", body, now, token=token.id, name=name)
    return token, secret


def revoke_token(actor, now: dt.datetime, body: Body, token_id: int) -> ApiToken:
    permissions.require(actor, "act_for_body", body)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.body_id != body.id:
        raise NotFound(_("There is no such token."))
    token.revoked_at = token.revoked_at or now
    db.session.flush()
    record(actor, "api_token.revoke", body, now, token=token.id)
    return token


def tokens_of(body: Body) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.body_id == body.id).order_by(ApiToken.id.desc())))


class ApiActor:
    """The acting party of an API request: a body, through one of its tokens."""

    is_authenticated = True
    is_admin = False
    locale = "en"

    def __init__(self, token: ApiToken) -> None:
        self.id = None
        self.api_body_id = token.body_id
        self.token_id = token.id
        self.display_name = f"API: {token.name}"


LAST_USE_PRECISION = dt.timedelta(minutes=1)


def actor_for_token(secret: str, now: dt.datetime) -> ApiActor | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret),
                                                     ApiToken.revoked_at.is_(None)))
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
        # Recorded to the minute: a busy integration does not write (and lock the token) on every call.
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return ApiActor(token)
