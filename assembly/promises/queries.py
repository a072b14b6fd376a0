"""Every read of promises: a promise with all it holds in a fixed number of statements, the
timelines of its commitments, its reports, and the lists of a neighbourhood."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload, selectinload

from assembly.db import db
from assembly.errors import NotFound
from assembly.meetings.models import MeetingQuestion
from assembly.promises import services, survey_indicator
from assembly.promises.charts import Series
from assembly.promises.models import (
    PROMISE_LIFECYCLE,
    Commitment,
    CommitmentBody,
    CommitmentEvent,
    FollowUpReport,
    IndicatorKind,
    Promise,
    PromiseBody,
    PromiseFollow,
    PromiseNeighbourhood,
    PromiseProposal,
    PromiseSurvey,
    ReportComment,
)
from assembly.neighbourhoods.models import Body, Neighbourhood
from assembly.proposals.models import Proposal, ProposalStatus

STATES = {"not_started": _l("Not started"), "in_progress": _l("In progress"), "done": _l("Done"),
          "overdue": _l("Overdue")}


def state_label(state: str) -> str:
    return str(STATES[state])


def _loaded():
    return select(Promise).options(
        selectinload(Promise.municipality),
        selectinload(Promise.places).selectinload(PromiseNeighbourhood.neighbourhood),
        selectinload(Promise.signatories).selectinload(PromiseBody.body),
        selectinload(Promise.commitments).selectinload(Commitment.responsible).selectinload(CommitmentBody.body))


def get_promise(promise_id: int) -> Promise:
    promise = db.session.scalar(_loaded().where(Promise.id == promise_id))
    if promise is None:
        raise NotFound(_("There is no such promise."))
    return promise


def get_commitment(promise: Promise, commitment_id: int) -> Commitment:
    found = next((c for c in promise.commitments if c.id == commitment_id), None)
    if found is None:
        raise NotFound(_("There is no such commitment."))
    return found


def events_by_commitment(promise: Promise) -> dict[int, list[CommitmentEvent]]:
    ids = [c.id for c in promise.commitments]
    found: dict[int, list[CommitmentEvent]] = defaultdict(list)
    if ids:
        for event in db.session.scalars(select(CommitmentEvent).where(CommitmentEvent.commitment_id.in_(ids))
                                        .order_by(CommitmentEvent.commitment_id, CommitmentEvent.seq)):
            found[event.commitment_id].append(event)
    return found


def events_of(commitment: Commitment) -> list[CommitmentEvent]:
    return list(db.session.scalars(select(CommitmentEvent).where(CommitmentEvent.commitment_id == commitment.id)
                                   .order_by(CommitmentEvent.seq)))


def meeting_origins(promise: Promise) -> dict[int, MeetingQuestion]:
    """The meeting questions that the promise's commitments made at a meeting answer, by
    commitment id, each with its meeting."""
    by_question = {c.meeting_question_id: c.id for c in promise.commitments if c.meeting_question_id is not None}
    if not by_question:
        return {}
    return {by_question[question.id]: question for question in db.session.scalars(
        select(MeetingQuestion).options(joinedload(MeetingQuestion.meeting))
        .where(MeetingQuestion.id.in_(by_question)))}


def open_promises_for(actor, question) -> list[Promise]:
    """The promises a commitment made at the question's meeting may go into, for the form:
    drafts and published promises of the body asked for one of the meeting's neighbourhoods that
    the actor may read (`services.accepts_meeting_commitment`), the latest period first."""
    candidates = db.session.scalars(
        _loaded().join(PromiseBody, PromiseBody.promise_id == Promise.id)
        .where(PromiseBody.body_id == question.body_id, Promise.status.in_(services.OPEN_STATUSES),
               Promise.id.in_(select(PromiseNeighbourhood.promise_id).where(
                   PromiseNeighbourhood.neighbourhood_id.in_(question.meeting.neighbourhood_ids))))
        .order_by(Promise.period_end.desc(), Promise.id.desc()).limit(100))
    return [promise for promise in candidates if services.accepts_meeting_commitment(actor, promise, question)]


def proposals_of(promise: Promise) -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).join(PromiseProposal, PromiseProposal.proposal_id == Proposal.id)
                                   .where(PromiseProposal.promise_id == promise.id).order_by(Proposal.id)))


def surveys_of(promise: Promise) -> list:
    return [row.survey for row in db.session.scalars(
        select(PromiseSurvey).options(selectinload(PromiseSurvey.survey))
        .where(PromiseSurvey.promise_id == promise.id).order_by(PromiseSurvey.id))]


@dataclass
class Report:
    report: FollowUpReport
    comments: list[ReportComment] = field(default_factory=list)


def reports_of(promise: Promise) -> list[Report]:
    reports = [Report(r) for r in db.session.scalars(
        select(FollowUpReport).options(selectinload(FollowUpReport.body))
        .where(FollowUpReport.promise_id == promise.id).order_by(FollowUpReport.due_on, FollowUpReport.id))]
    by_id = {r.report.id: r for r in reports}
    if by_id:
        for comment in db.session.scalars(select(ReportComment).where(ReportComment.report_id.in_(by_id))
                                          .order_by(ReportComment.id)):
            by_id[comment.report_id].comments.append(comment)
    return reports


def is_following(user, promise: Promise) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(db.session.scalar(select(exists().where(PromiseFollow.promise_id == promise.id,
                                                        PromiseFollow.user_id == user.id))))


def promises_of_neighbourhood(neighbourhood_id: int) -> list[Promise]:
    """The public promises and programmes for a neighbourhood, newest period first."""
    return list(db.session.scalars(
        select(Promise).join(PromiseNeighbourhood, PromiseNeighbourhood.promise_id == Promise.id)
        .where(PromiseNeighbourhood.neighbourhood_id == neighbourhood_id,
               Promise.status.in_(PROMISE_LIFECYCLE.values("public")))
        .order_by(Promise.period_end.desc(), Promise.id.desc()).limit(100)))


def promises_of_bodies(body_ids: set[int]) -> list[Promise]:
    """Every promise (drafts too) that one of these bodies gives: the staff's list."""
    if not body_ids:
        return []
    return list(db.session.scalars(
        select(Promise).where(Promise.id.in_(select(PromiseBody.promise_id).where(PromiseBody.body_id.in_(body_ids))))
        .order_by(Promise.updated_at.desc(), Promise.id.desc()).limit(200)))


# --- what a page shows of a commitment -------------------------------------------------------------

def state_of(commitment: Commitment, today: dt.date) -> str:
    if commitment.done_at is not None:
        return "done"
    if services.is_overdue(commitment, today):
        return "overdue"
    return "in_progress" if commitment.progress > 0 else "not_started"


def scale_top(commitment: Commitment) -> float | None:
    if commitment.indicator_kind in (IndicatorKind.PERCENT.value, IndicatorKind.SURVEY_QUESTION.value):
        return 100.0
    if commitment.indicator_kind == IndicatorKind.YES_NO.value:
        return 1.0
    return None


def series_of(promise: Promise, commitment: Commitment, events: list[CommitmentEvent], zone) -> Series:
    """The indicator over time: the baseline at the start of the period, then each recorded value
    on the day (in the place) it was recorded — or, for a survey question, its result in each
    counted survey that asks it (`survey_indicator.points`)."""
    points: list[tuple[dt.date, float]] = []
    if commitment.baseline is not None:
        points.append((promise.period_start, commitment.baseline))
    if commitment.indicator_kind == IndicatorKind.SURVEY_QUESTION.value:
        points += [point for point in survey_indicator.points(promise.neighbourhood_ids, commitment.survey_question_id,
                                                              commitment.survey_option, promise.municipality.timezone)
                   if point[0] >= promise.period_start]
    for event in events:
        if event.kind != "committed" and event.data.get("value") is not None:
            points.append((event.created_at.astimezone(zone).date(), float(event.data["value"])))
    points.sort(key=lambda point: point[0])
    return Series(points=points, start=promise.period_start, end=promise.period_end, due=commitment.due_on,
                  baseline=commitment.baseline, target=commitment.target, maximum=scale_top(commitment))


def choices_for(municipality_id: int) -> dict:
    """What a new promise of a municipality may name: its neighbourhoods, bodies and the accepted
    proposals of its neighbourhoods (the 200 newest)."""
    hoods = list(db.session.scalars(select(Neighbourhood).where(Neighbourhood.municipality_id == municipality_id)
                                    .order_by(Neighbourhood.slug)))
    bodies = list(db.session.scalars(select(Body).where(Body.municipality_id == municipality_id).order_by(Body.name)))
    proposals = list(db.session.scalars(
        select(Proposal).join(Neighbourhood, Neighbourhood.id == Proposal.neighbourhood_id)
        .where(Neighbourhood.municipality_id == municipality_id,
               Proposal.status.in_((ProposalStatus.ACCEPTED.value, ProposalStatus.FORWARDED.value)))
        .order_by(Proposal.id.desc()).limit(200)))
    return {"neighbourhoods": hoods, "bodies": bodies, "proposals": proposals}
