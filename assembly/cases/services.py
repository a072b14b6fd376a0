"""Forwarding accepted items to bodies, and the case lifecycle with its hash-chained timeline.

Every public fact of a case is an event; the current status is a cache of the last event.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import jdatetime

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from assembly import permissions, timeline
from assembly.accounts.models import User
from assembly.assemblies.models import AgendaItem, Assembly, Ballot, BallotResult
from assembly.audit.services import record
from assembly.cases import events, wording
from assembly.consultations.models import ConsultationAnswer
from assembly.cases.models import CASE_LIFECYCLE, OPEN_STATUSES, Case, CaseEvent, CaseSequence, CaseStatus, Decision
from assembly.db import db
from assembly.errors import InvalidTransition, ValidationFailed
from assembly.i18n import uses_solar_hijri
from assembly.meetings import followers as question_followers
from assembly.meetings.models import MeetingQuestion
from assembly.neighbourhoods.models import Body, BodyStaff, Category, Membership, MembershipRole, MembershipStatus
from assembly.notifications.services import notify_all, register_message
from assembly.proposals import services as proposals
from assembly.proposals.models import Follow, Proposal, ProposalStatus
from assembly.text import clean_plain, render_markdown

C = CaseStatus
status_label = wording.status_label  # (status, decision, body kind): the words people read
GENESIS = timeline.GENESIS

# After a decision, what may follow depends on it: an approved item is carried out, a
# deferred one comes back to the agenda; any other decision ends the case at this body.
AFTER_DECISION: dict[str, frozenset[CaseStatus]] = {
    Decision.APPROVED.value: frozenset({C.IN_PROGRESS, C.DONE}),
    Decision.DEFERRED.value: frozenset({C.SCHEDULED, C.DECIDED}),
}


def _event_message(p: dict) -> str:
    return _("Case %(reference)s (“%(title)s”) is now: %(status)s.", reference=p["reference"], title=p["title"],
             status=wording.status_label(p["status"], p.get("decision") or None, p.get("body_kind")))


def _fixed_question(p: dict) -> str:
    return _("Case %(reference)s (“%(title)s”) has been marked done. Is it really fixed? Answer on the case page.",
             reference=p["reference"], title=p["title"])


def _reopened_message(p: dict) -> str:
    return _("Case %(reference)s (“%(title)s”) was reopened: a resident says it is not fixed. “%(note)s”",
             reference=p["reference"], title=p["title"], note=p["note"])


register_message("case_event", _event_message)
register_message("case_fixed_question", _fixed_question)
register_message("case_reopened", _reopened_message)


def allowed_steps(case: Case) -> frozenset[str]:
    """The events (named after the status they lead to) that may follow now."""
    if case.status == C.DONE.value:  # only residents reopen a done case (`reopen`)
        return frozenset()
    moves = CASE_LIFECYCLE.transitions[CaseStatus(case.status)]
    if case.status == C.DECIDED.value:
        moves = moves & AFTER_DECISION.get(case.decision or "", frozenset())
    return frozenset(state.value for state in moves)


def is_overdue(case: Case, now: dt.datetime) -> bool:
    """No decision by the body's answer deadline."""
    return case.status in OPEN_STATUSES and now > case.due_at


# --- the hash chain (the mechanism is `assembly.timeline`) ----------------------------------

def canonical_event(event: CaseEvent, reference: str) -> bytes:
    return timeline.canonical(_content(event, reference))


def _content(event: CaseEvent, reference: str) -> dict:
    return {
        "case": reference, "seq": event.seq, "kind": event.kind, "status": event.status,
        "actor": event.actor_name, "note": event.note or "", "data": event.data,
        "created_at": event.created_at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds"),
        "prev_hash": event.prev_hash,
    }


def event_hash(event: CaseEvent, reference: str) -> str:
    return timeline.digest(_content(event, reference))


def _append(case: Case, kind: str, actor, now: dt.datetime, note: str | None = None, *, notify: bool = True,
            **data) -> CaseEvent:
    """Add the next event. The unique (case, seq) constraint and the conditional counter
    update make two simultaneous writers to one case fail cleanly instead of forking the chain."""
    seq = timeline.claim_seq(case, updated_at=now, status=case.status)
    if seq is None:
        raise InvalidTransition(_("The case was changed in the meantime. Please reload the page."))
    previous = timeline.previous_hash(CaseEvent, CaseEvent.case_id, case.id, seq)
    event = CaseEvent(case_id=case.id, seq=seq, kind=kind, status=case.status, actor_id=getattr(actor, "id", None),
                      actor_name=_actor_name(actor, case), note=note, data=_jsonable(data),
                      created_at=now.astimezone(dt.timezone.utc), prev_hash=previous)
    event.hash = event_hash(event, case.reference)
    case.updated_at = now
    db.session.add(event)
    db.session.flush()
    if notify:
        news = {"reference": case.reference, "status": case.status, "decision": case.decision or "",
                "body_kind": case.body.kind}
        if case.proposal_id is not None:
            proposals.notify_followers(case.proposal, "case_event", now, **news)
        elif case.meeting_question_id is not None:  # its author and supporters follow it
            question_followers.notify_followers(case.meeting_question, "case_event", now, title=case.title, **news)
        # a consultation answer's case has no followers of its own
    return event


def _actor_name(actor, case: Case) -> str:
    if actor is None:
        return case.body.name
    name = getattr(actor, "display_name", "system")
    return f"{name} ({case.body.name})" if permissions.can(actor, "act_for_body", case.body) else name


def _jsonable(data: dict) -> dict:
    return {key: (value.astimezone(dt.timezone.utc).isoformat() if isinstance(value, dt.datetime) else value)
            for key, value in data.items() if value is not None}


def verify_chain(case: Case, events: list[CaseEvent]) -> CaseEvent | int | None:
    """The first event that does not match the chain (an edited, deleted or reordered event),
    or the missing sequence number, or None when the chain is intact."""
    return timeline.verify_chain(events, case.event_count, lambda event: event_hash(event, case.reference))


def verify_all(batch: int = 500):
    """Yield (case, problem) for every case whose chain is broken."""
    return timeline.verify_all(Case, CaseEvent, CaseEvent.case_id,
                               lambda event, case: event_hash(event, case.reference), batch)


# --- forwarding ---------------------------------------------------------------------------------

def reference_year(neighbourhood, now: dt.datetime) -> int:
    """The year in a case reference: the year at the place when the item is forwarded, in the
    neighbourhood's calendar — Solar Hijri where the neighbourhood's language is Persian (Tehran:
    TEH20-DOLATABAD-1405-0001), Gregorian elsewhere."""
    local = now.astimezone(ZoneInfo(neighbourhood.municipality.timezone)).date()
    if uses_solar_hijri(neighbourhood.default_locale):
        return jdatetime.date.fromgregorian(date=local).year
    return local.year


def _next_reference(case_neighbourhood, now: dt.datetime) -> str:
    """municipality-neighbourhood-year-sequence, gapless: the counter row is incremented in
    the forwarding's own transaction (a rolled-back forwarding gives its number back)."""
    year = reference_year(case_neighbourhood, now)
    statement = db.insert(CaseSequence).values(neighbourhood_id=case_neighbourhood.id, year=year, last_number=1)
    statement = statement.on_conflict_do_update(
        index_elements=[CaseSequence.neighbourhood_id, CaseSequence.year],
        set_={"last_number": CaseSequence.last_number + 1},
    ).returning(CaseSequence.last_number)
    number = db.session.execute(statement).scalar_one()
    municipality = case_neighbourhood.municipality
    return f"{municipality.code}-{case_neighbourhood.code}-{year}-{number:04d}"


def _vote_snapshot(proposal: Proposal) -> dict:
    """The result of the last closed ballot that had this proposal on its agenda."""
    return vote_snapshot(AgendaItem.proposal_id == proposal.id)


def vote_snapshot(which) -> dict:
    """The result of the last closed ballot with an agenda item matching `which` (a SQL
    condition on `AgendaItem`): the session, outcome, turnout, quorum, the item's counts and
    the digest of the ballots file, as cases keep it."""
    row = db.session.execute(
        select(AgendaItem, Assembly, BallotResult)
        .join(Assembly, Assembly.id == AgendaItem.assembly_id)
        .join(Ballot, Ballot.assembly_id == Assembly.id)
        .join(BallotResult, BallotResult.ballot_id == Ballot.id)
        .where(which, AgendaItem.outcome.is_not(None))
        .order_by(BallotResult.computed_at.desc()).limit(1)
    ).first()
    if row is None:
        return {}
    item, assembly, result = row
    outcome = result.result
    snapshot = {"assembly": assembly.title, "assembly_id": assembly.id, "outcome": item.outcome,
                "method": outcome["method"], "turnout": outcome["turnout"],
                "electorate": outcome["rules"]["electorate"], "quorum_met": outcome["quorum"]["met"],
                "digest": result.digest}
    key = str(item.id)
    for entry in outcome.get("items", []):
        if entry.get("item") == key:
            snapshot["counts"] = {k: v for k, v in entry.items() if k != "item"}
    return snapshot


def forward(actor, now: dt.datetime, proposal: Proposal, body: Body, note: str | None = None,
            reason: str | None = None) -> Case:
    """Make a case at `body` from the proposal. Accepted items go freely; rejected or never-voted
    ones need a reason, which is shown publicly. One case per proposal and body."""
    permissions.require(actor, "forward", proposal)
    if body.municipality_id != proposal.neighbourhood.municipality_id:
        raise ValidationFailed(_("Choose a body of this municipality."), "body_id")
    note = clean_plain(note or "")[:2000] or None
    reason = clean_plain(reason or "")[:1000] or None
    status = ProposalStatus(proposal.status)
    already_forwarded = status == ProposalStatus.FORWARDED
    voted_in = status == ProposalStatus.ACCEPTED or (
        already_forwarded and db.session.scalar(
            select(AgendaItem.id).where(AgendaItem.proposal_id == proposal.id, AgendaItem.outcome == "accepted")))
    # Hidden or not: hiding changes what is shown, never whether an item can be forwarded.
    if status in (ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN, ProposalStatus.ON_AGENDA):
        raise InvalidTransition(_("This proposal cannot be forwarded now."))
    if not voted_in and not reason:
        raise ValidationFailed(_("This item was not accepted by the assembly. Give the public reason for "
                                 "forwarding it anyway."), "reason")
    neighbourhood = proposal.neighbourhood
    case = Case(
        proposal_id=proposal.id, neighbourhood_id=neighbourhood.id,
        body_id=body.id, category_id=proposal.category_id, status=C.FORWARDED.value, title=proposal.title,
        text=proposal.body, text_html=proposal.body_html, latitude=proposal.latitude, longitude=proposal.longitude,
        address_text=proposal.address_text, vote_result=_vote_snapshot(proposal), note=note,
        forward_reason=None if voted_in else reason, forwarded_by_id=actor.id, forwarded_at=now,
        due_at=now + dt.timedelta(days=body.answer_days), updated_at=now, event_count=0)
    try:
        with db.session.begin_nested():  # a refused duplicate gives its reference number back
            case.reference = _next_reference(neighbourhood, now)
            db.session.add(case)
    except IntegrityError:
        raise ValidationFailed(_("This item has already been forwarded to this body."), "body_id") from None
    set_committed_value(case, "body", body)
    set_committed_value(case, "proposal", proposal)
    if not already_forwarded:
        proposals.transition(proposal, ProposalStatus.FORWARDED, actor, now, case.reference)
    _append(case, "forwarded", actor, now, note, body=body.name, reason=case.forward_reason)
    record(actor, "case.forward", case, now, reference=case.reference, body=body.id, reason=case.forward_reason)
    return case


QUESTION_TITLE_MAX = 200


def forward_question(actor, now: dt.datetime, question: MeetingQuestion, *, category_id: int | None,
                     answer: str) -> Case:
    """Make a case at the body a meeting's question was put to, with one action: the question is
    what was forwarded, the body's answer at the meeting is the covering note, and the case links
    back to the question (`meeting_question_id`). One case per question and body."""
    permissions.require(actor, "answer_meeting_question", question)
    body, neighbourhood = question.body, question.neighbourhood
    category = db.session.get(Category, category_id) if category_id else None
    if category is None or category.municipality_id != body.municipality_id:
        raise ValidationFailed(_("Choose the category of the case."), "category_id")
    text = question.text
    title = text if len(text) <= QUESTION_TITLE_MAX else text[:QUESTION_TITLE_MAX - 1] + "…"
    meeting = question.meeting
    case = Case(
        meeting_question_id=question.id, neighbourhood_id=neighbourhood.id, body_id=body.id,
        category_id=category.id, status=C.FORWARDED.value, title=title, text=text,
        text_html=render_markdown(text), vote_result={}, note=(answer or "")[:2000] or None,
        forwarded_by_id=actor.id, forwarded_at=now, due_at=now + dt.timedelta(days=body.answer_days),
        updated_at=now, event_count=0)
    try:
        with db.session.begin_nested():
            case.reference = _next_reference(neighbourhood, now)
            db.session.add(case)
    except IntegrityError:
        raise ValidationFailed(_("This question has already been forwarded to this body."), "follow_up") from None
    set_committed_value(case, "body", body)
    set_committed_value(case, "meeting_question", question)
    _append(case, "forwarded", actor, now, case.note, body=body.name, meeting=meeting.title,
            meeting_id=meeting.id, question=question.id)
    record(actor, "case.forward", case, now, reference=case.reference, body=body.id, meeting_question=question.id)
    return case


def forward_answer(actor, now: dt.datetime, answer: ConsultationAnswer, body: Body, *, title: str) -> Case:
    """The case of a neighbourhood's answer to a consultation, at the consulting body: a snapshot
    of the assembly's comment and vote, with the same reference numbers, deadline and timeline
    as a forwarded proposal. The caller (`consultations.services.send_answer`) checks the rules;
    one case per answer and body is the database's unique constraint."""
    neighbourhood = answer.neighbourhood
    case = Case(
        consultation_answer_id=answer.id, neighbourhood_id=neighbourhood.id, body_id=body.id, category_id=None,
        status=C.FORWARDED.value, title=title, text=answer.comment, text_html=answer.comment_html,
        vote_result=answer.vote_result, forwarded_by_id=actor.id, forwarded_at=now,
        due_at=now + dt.timedelta(days=body.answer_days), updated_at=now, event_count=0)
    try:
        with db.session.begin_nested():
            case.reference = _next_reference(neighbourhood, now)
            db.session.add(case)
    except IntegrityError:
        raise ValidationFailed(_("This neighbourhood has already answered this consultation.")) from None
    set_committed_value(case, "body", body)
    set_committed_value(case, "proposal", None)
    _append(case, "forwarded", actor, now, None, body=body.name, consultation=answer.consultation_id)
    record(actor, "case.forward", case, now, reference=case.reference, body=body.id,
           consultation=answer.consultation_id)
    return case


def bodies_for(proposal: Proposal) -> list[Body]:
    return list(db.session.scalars(select(Body).where(
        Body.municipality_id == proposal.neighbourhood.municipality_id).order_by(Body.name)))


def default_body(proposal: Proposal) -> Body | None:
    return proposal.category.default_body


# --- the body's work -----------------------------------------------------------------------------

def _check(case: Case, kind: str) -> None:
    if kind not in allowed_steps(case):
        raise InvalidTransition(_("A case that is “%(current)s” cannot be marked “%(new)s”.",
                                  current=status_label(case.status, case.decision, case.body.kind),
                                  new=status_label(kind, None, case.body.kind)))


def receive(actor, now: dt.datetime, case: Case, note: str | None = None, *,
            effective_date: str | None = None) -> CaseEvent:
    permissions.require(actor, "act_for_body", case)
    _check(case, "received")
    values = events.clean("received", {"note": note})
    case.status, case.received_at = C.RECEIVED.value, now
    return _append(case, "received", actor, now, values["note"], effective_date=effective_date)


def schedule(actor, now: dt.datetime, case: Case, *, meeting_at: dt.datetime | None,
             agenda_number: str | None = None, record_url: str | None = None, note: str | None = None,
             effective_date: str | None = None) -> CaseEvent:
    permissions.require(actor, "act_for_body", case)
    _check(case, "scheduled")
    if meeting_at is None:  # said in the words of this kind of body
        raise ValidationFailed(wording.label(case.body.kind, "meeting_required"), "meeting_at")
    values = events.clean("scheduled", {"meeting_at": meeting_at, "agenda_number": agenda_number,
                                        "record_url": record_url, "note": note})
    case.status = C.SCHEDULED.value
    case.council_meeting_at, case.agenda_number = values["meeting_at"], values["agenda_number"]
    case.council_record_url = values["record_url"]
    return _append(case, "scheduled", actor, now, values["note"], meeting_at=values["meeting_at"],
                   agenda_number=values["agenda_number"], record_url=values["record_url"],
                   effective_date=effective_date)


def decide(actor, now: dt.datetime, case: Case, *, decision: str, note: str | None = None,
           refer_to: Body | None = None, effective_date: str | None = None) -> CaseEvent:
    permissions.require(actor, "act_for_body", case)
    _check(case, "decided")
    values = events.clean("decided", {"decision": decision, "note": note, "refer_to": refer_to})
    decision, note, refer_to = values["decision"], values["note"], values["refer_to"]
    if decision == Decision.REJECTED.value and not note:
        raise ValidationFailed(_("A rejection needs a reason, which is shown publicly."), "note")
    if decision == Decision.REFERRED.value:
        if refer_to is None or refer_to.id == case.body_id or refer_to.municipality_id != case.body.municipality_id:
            raise ValidationFailed(_("Choose the other body of this municipality to refer the case to."), "refer_to")
    elif refer_to is not None:
        raise ValidationFailed(_("Name another body only when the decision is %(decision)s.",
                                 decision=Decision.REFERRED.value), "refer_to")
    case.status, case.decision, case.decided_at = C.DECIDED.value, decision, now
    event = _append(case, "decided", actor, now, note, decision=decision,
                    referred_to=refer_to.name if refer_to else None, effective_date=effective_date)
    if decision == Decision.REFERRED.value:
        _refer(actor, now, case, refer_to, note)
    return event


def _refer(actor, now: dt.datetime, case: Case, body: Body, note: str | None) -> Case:
    """The linked case at the other body; the decision's note (within `events.NOTE`'s limit, which
    is the size of `Case.note`) becomes its covering note."""
    linked = Case(
        reference=_next_reference(case.neighbourhood, now), proposal_id=case.proposal_id,
        meeting_question_id=case.meeting_question_id, consultation_answer_id=case.consultation_answer_id,
        neighbourhood_id=case.neighbourhood_id, body_id=body.id, category_id=case.category_id,
        referred_from_id=case.id, status=C.FORWARDED.value, title=case.title, text=case.text,
        text_html=case.text_html, latitude=case.latitude, longitude=case.longitude, address_text=case.address_text,
        vote_result=case.vote_result, note=note, forward_reason=case.forward_reason, forwarded_by_id=actor.id,
        forwarded_at=now, due_at=now + dt.timedelta(days=body.answer_days), updated_at=now, event_count=0)
    try:
        with db.session.begin_nested():
            db.session.add(linked)
    except IntegrityError:
        raise ValidationFailed(_("This item has already been forwarded to this body."), "refer_to") from None
    set_committed_value(linked, "body", body)
    set_committed_value(linked, "proposal", case.proposal)
    set_committed_value(linked, "meeting_question", case.meeting_question)
    set_committed_value(linked, "consultation_answer", case.consultation_answer)
    _append(linked, "forwarded", actor, now, note, body=body.name, referred_from=case.reference)
    return linked


def progress(actor, now: dt.datetime, case: Case, *, percent: int | None, note: str | None = None,
             effective_date: str | None = None) -> CaseEvent:
    permissions.require(actor, "act_for_body", case)
    _check(case, "in_progress")
    values = events.clean("in_progress", {"progress": percent, "note": note})
    case.status, case.progress = C.IN_PROGRESS.value, values["progress"]
    return _append(case, "in_progress", actor, now, values["note"], progress=values["progress"],
                   effective_date=effective_date)


def complete(actor, now: dt.datetime, case: Case, note: str | None = None, *,
             effective_date: str | None = None) -> CaseEvent:
    permissions.require(actor, "act_for_body", case)
    _check(case, "done")
    values = events.clean("done", {"note": note})
    case.status, case.progress, case.done_at = C.DONE.value, 100, now
    event = _append(case, "done", actor, now, values["note"], notify=False, effective_date=effective_date)
    ask_if_fixed(case, now)
    return event


def ask_if_fixed(case: Case, now: dt.datetime) -> int:
    """Ask the proposal's author and its followers, each once and in their own language, whether
    the work marked done really fixed it (in place of the usual status notification)."""
    proposal = case.proposal
    if proposal is not None:
        asked = select(User.id).where(or_(User.id == proposal.author_id, User.id.in_(
            select(Follow.user_id).where(Follow.proposal_id == proposal.id))))
    elif case.meeting_question_id is not None:  # a meeting's question: its author and supporters are asked
        asked = question_followers.followers(case.meeting_question)
    else:  # a consultation answer's case: an opinion on a draft has no followers and nothing to confirm
        return 0
    return notify_all(asked, "case_fixed_question", now, link=f"/cases/{case.reference}",
                      reference=case.reference, title=case.title)


def reopen(actor, now: dt.datetime, case: Case, note: str) -> CaseEvent:
    """A resident's "not fixed": back to in progress, publicly on the timeline, and told to the
    body's staff and the neighbourhood's muhtar. The caller (`confirmations.answer`) checks who
    may say so and records the answer."""
    CASE_LIFECYCLE.check(case.status, C.IN_PROGRESS)
    case.status, case.done_at = C.IN_PROGRESS.value, None
    event = _append(case, "reopened", actor, now, note)
    flagged = select(User.id).where(or_(
        User.id.in_(select(BodyStaff.user_id).where(BodyStaff.body_id == case.body_id)),
        User.id.in_(select(Membership.user_id).where(
            Membership.neighbourhood_id == case.neighbourhood_id, Membership.role == MembershipRole.MUHTAR.value,
            Membership.status == MembershipStatus.VERIFIED.value))))
    notify_all(flagged, "case_reopened", now, link=f"/cases/{case.reference}", reference=case.reference,
               title=case.title, note=note)
    return event


def apply_event(actor, now: dt.datetime, case: Case, kind: str, fields: dict) -> CaseEvent:
    """One entry point for the inbox, the API and CSV imports: a kind of `events.KINDS` and its
    fields, checked against the kind's declaration by the step functions below.

    `effective_date` (optional, an ISO 8601 string) is the body's own date of the step; it is
    kept in the event's data, while the event's created_at stays the time it was recorded."""
    effective_date = fields.get("effective_date")
    events.kind_of(kind)
    if kind == "received":
        return receive(actor, now, case, fields.get("note"), effective_date=effective_date)
    if kind == "scheduled":
        return schedule(actor, now, case, meeting_at=fields.get("meeting_at"),
                        agenda_number=fields.get("agenda_number"), record_url=fields.get("record_url"),
                        note=fields.get("note"), effective_date=effective_date)
    if kind == "decided":
        return decide(actor, now, case, decision=fields.get("decision"), note=fields.get("note"),
                      refer_to=fields.get("refer_to"), effective_date=effective_date)
    if kind == "in_progress":
        return progress(actor, now, case, percent=fields.get("progress"), note=fields.get("note"),
                        effective_date=effective_date)
    return complete(actor, now, case, fields.get("note"), effective_date=effective_date)


# --- reading --------------------------------------------------------------------------------------
