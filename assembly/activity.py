"""What is happening in a neighbourhood, for its page: open proposals, the next session, the
latest results and the latest case outcomes. Each a short list in one statement, so the page
costs the same for a quiet neighbourhood and a busy one."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, nulls_last, select
from sqlalchemy.orm import joinedload

from assembly.assemblies.models import AgendaItem, Assembly, AssemblyStatus, Ballot
from assembly.cases.models import Case, CaseStatus
from assembly.consultations.models import Consultation
from assembly.db import db
from assembly.neighbourhoods.models import Body, Neighbourhood
from assembly.proposals.models import Proposal, ProposalStatus

OPEN_SHOWN = 5
RESULTS_SHOWN = 5
OUTCOMES_SHOWN = 5
_DECIDED = (CaseStatus.DECIDED.value, CaseStatus.IN_PROGRESS.value, CaseStatus.DONE.value)


@dataclass
class Activity:
    open_proposals: list
    next_session: Assembly | None
    results: list
    outcomes: list


# Built once, with bound parameters: the neighbourhood page runs them on every view.
_OPEN = (select(Proposal.id, Proposal.title, Proposal.support_count, Proposal.ready_at, Proposal.published_at)
         .where(Proposal.neighbourhood_id == bindparam("neighbourhood_id"), Proposal.status == ProposalStatus.OPEN.value,
                Proposal.hidden_at.is_(None))
         .order_by(Proposal.published_at.desc(), Proposal.id.desc()).limit(OPEN_SHOWN))
_NEXT = (select(Assembly).options(joinedload(Assembly.ballot))
         .where(Assembly.neighbourhood_id == bindparam("neighbourhood_id"),
                Assembly.status.in_((AssemblyStatus.ANNOUNCED.value, AssemblyStatus.VOTING.value)))
         .order_by(nulls_last(Assembly.meeting_start.asc()), Assembly.id).limit(1))
_RESULTS = (select(AgendaItem.outcome, AgendaItem.proposal_id, AgendaItem.consultation_id,
                   func.coalesce(Proposal.title, Consultation.title).label("title"), Proposal.hidden_at,
                   Assembly.id.label("assembly_id"), Assembly.title.label("session"), Ballot.closes_at)
            .join(Assembly, Assembly.id == AgendaItem.assembly_id)
            .join(Ballot, Ballot.assembly_id == Assembly.id)
            .outerjoin(Proposal, Proposal.id == AgendaItem.proposal_id)
            .outerjoin(Consultation, Consultation.id == AgendaItem.consultation_id)
            .where(Assembly.neighbourhood_id == bindparam("neighbourhood_id"), AgendaItem.outcome.is_not(None))
            .order_by(Ballot.closes_at.desc(), AgendaItem.position).limit(RESULTS_SHOWN))
_MOMENT = func.coalesce(Case.done_at, Case.decided_at)
_OUTCOMES = (select(Case.reference, Case.title, Case.status, Case.decision, Body.name.label("body"),
                    _MOMENT.label("at"))
             .join(Body, Body.id == Case.body_id)
             .where(Case.neighbourhood_id == bindparam("neighbourhood_id"), Case.status.in_(_DECIDED))
             .order_by(_MOMENT.desc(), Case.id.desc()).limit(OUTCOMES_SHOWN))


def open_proposals(neighbourhood: Neighbourhood) -> list:
    """The newest open proposals that are shown (the list index `ix_proposals_list` serves it)."""
    return db.read(_OPEN, {"neighbourhood_id": neighbourhood.id}).all()


def next_session(neighbourhood: Neighbourhood) -> Assembly | None:
    """The announced or voting session whose meeting comes first (one without a meeting last)."""
    return db.session.scalar(_NEXT, {"neighbourhood_id": neighbourhood.id})


def latest_results(neighbourhood: Neighbourhood) -> list:
    """The agenda items decided last (proposals and consultations), each with its session."""
    return db.read(_RESULTS, {"neighbourhood_id": neighbourhood.id}).all()


def latest_outcomes(neighbourhood: Neighbourhood) -> list:
    """The cases of the neighbourhood decided or finished last, with the body that answered."""
    return db.read(_OUTCOMES, {"neighbourhood_id": neighbourhood.id}).all()


def activity(neighbourhood: Neighbourhood) -> Activity:
    return Activity(open_proposals(neighbourhood), next_session(neighbourhood),
                    latest_results(neighbourhood), latest_outcomes(neighbourhood))
