"""The muhtar's desk: what waits for the muhtar, in every neighbourhood they serve.

Each section is one statement whatever the number of neighbourhoods or items: its first rows,
with the total beside every row (a window count, taken before the limit). Together with the
neighbourhoods themselves the desk costs the same few statements for one waiting item or a
thousand.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, func, or_, select

from assembly.accounts.models import User
from assembly.assemblies.models import Assembly, AssemblyStatus, Ballot
from assembly.cases.models import OPEN_STATUSES, Case
from assembly.db import db
from assembly.neighbourhoods.models import Body, Membership, MembershipRole, MembershipStatus, Neighbourhood
from assembly.proposals.models import Comment, Proposal, ProposalStatus, Report

SHOWN = 5  # rows per section; the count says how many there are in all


@dataclass
class Section:
    """One kind of waiting work: how many in all, and the first few rows."""

    key: str
    total: int = 0
    rows: list = field(default_factory=list)


def _section(key: str, query: Select) -> Section:
    rows = db.session.execute(query.add_columns(func.count().over().label("total")).limit(SHOWN)).all()
    return Section(key, rows[0].total if rows else 0, rows)


def _requests(ids: list[int]) -> Select:
    return (select(Membership.id, Membership.neighbourhood_id, Membership.requested_at, User.display_name)
            .join(User, User.id == Membership.user_id)
            .where(Membership.neighbourhood_id.in_(ids), Membership.role == MembershipRole.RESIDENT.value,
                   Membership.status == MembershipStatus.PENDING.value)
            .order_by(Membership.requested_at, Membership.id))


def _reports(ids: list[int]) -> Select:
    return (select(Report.id, Report.neighbourhood_id, Report.reason, Report.created_at, Report.comment_id,
                   Proposal.id.label("proposal_id"), Proposal.title)
            .outerjoin(Comment, Comment.id == Report.comment_id)
            .join(Proposal, Proposal.id == func.coalesce(Report.proposal_id, Comment.proposal_id))
            .where(Report.neighbourhood_id.in_(ids), Report.resolved_at.is_(None))
            .order_by(Report.created_at, Report.id))


def _ready(ids: list[int]) -> Select:
    return (select(Proposal.id, Proposal.neighbourhood_id, Proposal.title, Proposal.support_count)
            .where(Proposal.neighbourhood_id.in_(ids), Proposal.status == ProposalStatus.OPEN.value,
                   Proposal.ready_at.is_not(None), Proposal.hidden_at.is_(None))
            .order_by(Proposal.support_count.desc(), Proposal.id.desc()))


def _to_forward(ids: list[int]) -> Select:
    return (select(Proposal.id, Proposal.neighbourhood_id, Proposal.title, Proposal.updated_at)
            .where(Proposal.neighbourhood_id.in_(ids), Proposal.status == ProposalStatus.ACCEPTED.value)
            .order_by(Proposal.updated_at, Proposal.id))


def _overdue(ids: list[int], now: dt.datetime) -> Select:
    return (select(Case.id, Case.neighbourhood_id, Case.reference, Case.title, Case.due_at, Body.name.label("body"))
            .join(Body, Body.id == Case.body_id)
            .where(Case.neighbourhood_id.in_(ids), Case.status.in_(OPEN_STATUSES), Case.due_at < now)
            .order_by(Case.due_at, Case.id))


def _sessions(ids: list[int], condition) -> Select:
    return (select(Assembly.id, Assembly.neighbourhood_id, Assembly.title, Assembly.status, Assembly.meeting_start,
                   Ballot.closes_at)
            .outerjoin(Ballot, Ballot.assembly_id == Assembly.id)
            .where(Assembly.neighbourhood_id.in_(ids), condition)
            .order_by(Assembly.created_at, Assembly.id))


def to_minute(now: dt.datetime):
    """Voting has closed (or its time has passed, before the scheduler noticed) and there are no minutes."""
    return or_(Assembly.status == AssemblyStatus.CLOSED.value,
               and_(Assembly.status.in_((AssemblyStatus.ANNOUNCED.value, AssemblyStatus.VOTING.value)),
                    Ballot.closes_at <= now))


def sections(neighbourhoods: list[Neighbourhood], now: dt.datetime) -> list[Section]:
    """The desk's sections, in the order a muhtar works through them."""
    ids = [n.id for n in neighbourhoods]
    if not ids:
        return []
    return [
        _section("requests", _requests(ids)),
        _section("reports", _reports(ids)),
        _section("ready", _ready(ids)),
        _section("forward", _to_forward(ids)),
        _section("overdue", _overdue(ids, now)),
        _section("announce", _sessions(ids, Assembly.status == AssemblyStatus.DRAFT.value)),
        _section("minutes", _sessions(ids, to_minute(now))),
    ]
