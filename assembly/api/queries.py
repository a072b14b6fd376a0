"""Read queries of the APIs. Each page costs a fixed number of statements, whatever its size."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from assembly.cases.models import Case, CaseEvent, CaseStatus, Decision
from assembly.db import db
from assembly.neighbourhoods.models import Body, Category, Municipality

# A case is "closed" for Open311 when nothing more will happen at its body: done, rejected,
# or referred to another body (which gets a case of its own). Everything else is "open".
CLOSED_DECISIONS = (Decision.REJECTED.value, Decision.REFERRED.value)


def is_closed(case: Case) -> bool:
    return case.status == CaseStatus.DONE.value or (
        case.status == CaseStatus.DECIDED.value and case.decision in CLOSED_DECISIONS)


def _closed() -> ColumnElement[bool]:
    return or_(Case.status == CaseStatus.DONE.value,
               and_(Case.status == CaseStatus.DECIDED.value, Case.decision.in_(CLOSED_DECISIONS)))


# --- the JSON API: one body's cases ------------------------------------------------------------

def case_at_body(body_id: int, reference: str) -> Case | None:
    """The case with this reference if it is at this body; other bodies' cases do not exist here."""
    return db.session.scalar(
        select(Case).options(joinedload(Case.neighbourhood), joinedload(Case.referred_from), joinedload(Case.body))
        .where(Case.reference == reference.strip().upper(), Case.body_id == body_id))


def cases_page(body_id: int, *, status: str | None, updated_since: dt.datetime | None,
               after: tuple[dt.datetime, int] | None, limit: int) -> tuple[list[Case], bool]:
    """Up to `limit` cases ordered by (updated_at, id), starting after the cursor position;
    and whether more follow. A case that changes while a client pages moves to the end of the
    order, so it is seen again later rather than skipped."""
    query = (select(Case).options(joinedload(Case.neighbourhood), joinedload(Case.referred_from))
             .where(Case.body_id == body_id))
    if status:
        query = query.where(Case.status == status)
    if updated_since is not None:
        query = query.where(Case.updated_at >= updated_since)
    if after is not None:
        updated_at, case_id = after
        query = query.where(or_(Case.updated_at > updated_at, and_(Case.updated_at == updated_at, Case.id > case_id)))
    rows = list(db.session.scalars(query.order_by(Case.updated_at, Case.id).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def categories_of(cases: list[Case]) -> dict[int, Category]:
    ids = {case.category_id for case in cases}
    if not ids:
        return {}
    return {category.id: category for category in db.session.scalars(
        select(Category).options(joinedload(Category.municipality)).where(Category.id.in_(ids)))}


def body_by_slug(municipality_id: int, slug: str) -> Body | None:
    return db.session.scalar(select(Body).where(Body.municipality_id == municipality_id, Body.slug == slug))


# --- Open311 ---------------------------------------------------------------------------------------

def municipality_by_code(code: str) -> Municipality | None:
    return db.session.scalar(select(Municipality).where(Municipality.code == code))


def services(municipality_id: int | None = None) -> list[Category]:
    query = (select(Category).join(Municipality, Municipality.id == Category.municipality_id)
             .options(joinedload(Category.municipality)).order_by(Municipality.code, Category.slug))
    if municipality_id is not None:
        query = query.where(Category.municipality_id == municipality_id)
    return list(db.session.scalars(query))


@dataclass
class RequestFilters:
    references: list[str] = field(default_factory=list)
    service_codes: list[tuple[str, str]] = field(default_factory=list)  # (municipality code, category slug)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: set[str] = field(default_factory=set)  # "open", "closed"
    municipality_id: int | None = None


def service_requests(filters: RequestFilters, limit: int) -> list[Case]:
    """Cases as Open311 service requests, newest first. References, when given, override the
    other filters (as the specification says), except the jurisdiction."""
    query = select(Case).options(joinedload(Case.body))
    if filters.municipality_id is not None:
        query = query.join(Body, Body.id == Case.body_id).where(Body.municipality_id == filters.municipality_id)
    if filters.references:
        query = query.where(Case.reference.in_(filters.references))
    else:
        if filters.service_codes:
            query = query.join(Category, Category.id == Case.category_id).join(
                Municipality, Municipality.id == Category.municipality_id).where(
                or_(*(and_(Municipality.code == code, Category.slug == slug) for code, slug in filters.service_codes)))
        if filters.start is not None:
            query = query.where(Case.forwarded_at >= filters.start)
        if filters.end is not None:
            query = query.where(Case.forwarded_at <= filters.end)
        if filters.statuses == {"open"}:
            query = query.where(not_(_closed()))
        elif filters.statuses == {"closed"}:
            query = query.where(_closed())
    return list(db.session.scalars(query.order_by(Case.forwarded_at.desc(), Case.id.desc()).limit(limit)))


def last_notes(cases: list[Case]) -> dict[int, str]:
    """The note of each case's latest event (a decision's reason, a progress report …)."""
    ids = [case.id for case in cases]
    if not ids:
        return {}
    rows = db.session.execute(
        select(CaseEvent.case_id, CaseEvent.note)
        .join(Case, and_(Case.id == CaseEvent.case_id, CaseEvent.seq == Case.event_count))
        .where(Case.id.in_(ids), CaseEvent.note.is_not(None)))
    return {case_id: note for case_id, note in rows if note}
