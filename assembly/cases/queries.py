"""Every read of cases: the staff's inbox, the public scoreboard, a case's page, the JSON API
and Open311. Each page costs a fixed number of statements, whatever its size."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

import jdatetime
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, not_, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from assembly import permissions
from assembly.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseConfirmation,
    CaseEvent,
    CaseStatus,
    Decision,
    FixAnswer,
)
from assembly.db import db
from assembly.i18n import latin_digits
from assembly.errors import NotFound
from assembly.neighbourhoods.models import Body, BodyStaff, Category, Municipality, Neighbourhood
from assembly.proposals.models import Proposal


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


def filtered(query, body: Body, filters: InboxFilters, now: dt.datetime):
    """The inbox's filters on a query of one body's cases (the inbox page and the CSV export)."""
    query = query.where(Case.body_id == body.id)
    if filters.status in {s.value for s in CaseStatus}:
        query = query.where(Case.status == filters.status)
    if filters.neighbourhood_id:
        query = query.where(Case.neighbourhood_id == filters.neighbourhood_id)
    if filters.category_id:
        query = query.where(Case.category_id == filters.category_id)
    if filters.overdue:
        query = query.where(Case.status.in_(OPEN_STATUSES), Case.due_at < now)
    return query


def inbox(actor, body: Body, filters: InboxFilters, now: dt.datetime) -> tuple[list[Case], int]:
    permissions.require(actor, "act_for_body", body)
    query = filtered(select(Case), body, filters, now)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, filters.page)
    cases = list(db.session.scalars(
        query.options(joinedload(Case.neighbourhood)).order_by(Case.due_at, Case.id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return cases, total


def proposals_with_visible_photos(cases: list[Case]) -> list[int]:
    """The proposals of these cases that are not hidden (a hidden proposal hides its photos)."""
    ids = {case.proposal_id for case in cases if case.proposal_id is not None}  # not a meeting question's
    if not ids:
        return []
    return list(db.session.scalars(select(Proposal.id).where(Proposal.id.in_(ids), Proposal.hidden_at.is_(None))))


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
    done: int = 0       # cases marked done (and not reopened)
    confirmed: int = 0  # of those, how many a resident confirmed as really fixed

    @property
    def confirmed_share(self) -> float | None:
        return self.confirmed / self.done if self.done else None


def _median_days(pairs) -> float | None:
    durations = [(end - start).total_seconds() / 86400 for start, end in pairs if end is not None]
    return round(statistics.median(durations), 1) if durations else None


def scoreboard(body: Body, now: dt.datetime) -> Scoreboard:
    """Public figures of one body. Medians read two timestamp columns of the body's cases."""
    confirmed = select(CaseConfirmation.id).where(
        CaseConfirmation.case_id == Case.id, CaseConfirmation.answer == FixAnswer.YES.value,
        CaseConfirmation.created_at >= Case.done_at).exists()
    rows = db.session.execute(
        select(Case.status, Case.due_at, Case.forwarded_at, Case.received_at, Case.decided_at,
               and_(Case.status == CaseStatus.DONE.value, confirmed).label("confirmed"))
        .where(Case.body_id == body.id)).all()
    return Scoreboard(
        body=body, total=len(rows),
        open=sum(1 for row in rows if row.status in OPEN_STATUSES),
        overdue=sum(1 for row in rows if row.status in OPEN_STATUSES and now > row.due_at),
        median_days_to_receive=_median_days((row.forwarded_at, row.received_at) for row in rows),
        median_days_to_decide=_median_days((row.forwarded_at, row.decided_at) for row in rows),
        done=sum(1 for row in rows if row.status == CaseStatus.DONE.value),
        confirmed=sum(1 for row in rows if row.confirmed))


def overdue_cases(body: Body, now: dt.datetime, limit: int = 100) -> list[Case]:
    return list(db.session.scalars(
        select(Case).where(Case.body_id == body.id, Case.status.in_(OPEN_STATUSES), Case.due_at < now)
        .order_by(Case.due_at).limit(limit)))


# A case's page and the cases of a proposal: statements built once, with bound parameters.
_BY_REFERENCE = (
    select(Case).options(joinedload(Case.body),
                         joinedload(Case.neighbourhood).joinedload(Neighbourhood.municipality),
                         joinedload(Case.proposal), joinedload(Case.meeting_question),
                         joinedload(Case.consultation_answer), joinedload(Case.referred_from))
    .where(Case.reference == bindparam("reference")))
_EVENTS = select(CaseEvent).where(CaseEvent.case_id == bindparam("case_id")).order_by(CaseEvent.seq)
_OF_PROPOSAL = (select(Case).options(joinedload(Case.body)).where(Case.proposal_id == bindparam("proposal_id"))
                .order_by(Case.id))
_LINKED = {origin: select(Case).options(joinedload(Case.body))
           .where(getattr(Case, origin) == bindparam("origin"), Case.id != bindparam("case_id")).order_by(Case.id)
           for origin in ("proposal_id", "meeting_question_id", "consultation_answer_id")}


def get_by_reference(reference: str) -> Case:
    """The case with what its page shows of it, its neighbourhood's municipality (the page's time
    zone) included."""
    case = db.session.scalar(_BY_REFERENCE, {"reference": normalise_reference(reference)})
    if case is None:
        raise NotFound(_("There is no case with this reference number."))
    return case


def events_of(case: Case) -> list[CaseEvent]:
    return list(db.session.scalars(_EVENTS, {"case_id": case.id}))


def cases_of_proposal(proposal_id: int) -> list[Case]:
    return list(db.session.scalars(_OF_PROPOSAL, {"proposal_id": proposal_id}))


_ROWS_OF_PROPOSAL = (select(Case.reference, Case.status, Case.decision, Body.name.label("body_name"),
                            Body.kind.label("body_kind"))
                     .join(Body, Body.id == Case.body_id).where(Case.proposal_id == bindparam("proposal_id"))
                     .order_by(Case.id))


def case_rows_of_proposal(proposal_id: int) -> list:
    """The proposal's cases as its page lists them: rows of reference, status, decision, and the
    body's name and kind (read on every view of the proposal, so not as ORM objects)."""
    return db.read(_ROWS_OF_PROPOSAL, {"proposal_id": proposal_id}).all()


def cases_of_question(question_id: int) -> list[Case]:
    return list(db.session.scalars(select(Case).options(joinedload(Case.body))
                                   .where(Case.meeting_question_id == question_id).order_by(Case.id)))


def linked_cases(case: Case) -> list[Case]:
    """The other cases of the same origin (a proposal, a meeting's question or a consultation
    answer), at other bodies or by referral."""
    if case.proposal_id is not None:
        origin = "proposal_id"
    elif case.meeting_question_id is not None:
        origin = "meeting_question_id"
    else:
        origin = "consultation_answer_id"
    return list(db.session.scalars(_LINKED[origin], {"origin": getattr(case, origin), "case_id": case.id}))


def other_bodies(case) -> list[tuple[int, str]]:
    """The choices of a referral: the other bodies of the case's municipality."""
    return [(0, "—")] + [(b.id, b.name) for b in db.session.scalars(
        select(Body).where(Body.municipality_id == case.body.municipality_id, Body.id != case.body_id)
        .order_by(Body.name))]
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
    # A service request has a service (the category): forwarded proposals and meeting questions do,
    # a consultation answer's case has none and is not an Open311 request.
    query = select(Case).options(joinedload(Case.body)).where(Case.category_id.is_not(None))
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


def normalise_reference(reference: str) -> str:
    """A reference as typed: any case, Persian or Arabic-Indic digits, spaces around it."""
    return latin_digits(reference or "").strip().upper()


def example_reference(locale: str) -> str:
    """A reference number as people of that language see them, for the lookup page."""
    if locale == "fa":
        return f"TEH20-DOLATABAD-{jdatetime.date.today().year}-0042"
    if locale == "sv":
        return f"ORE-JARNTORGET-{dt.date.today().year}-0042"
    return f"KDK-CAFERAGA-{dt.date.today().year}-0042"
