"""Promises and programmes: written by body staff, signed by every giving body, co-signed by the
neighbourhoods' muhtars, published; progress on each commitment recorded by its responsible
bodies on a hash-chained timeline (`assembly.timeline`); follow-up reports on a schedule.

Services take `(actor, now, …)`, ask `permissions`, flush and never commit."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from assembly import permissions, timeline
from assembly.audit.services import record
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.i18n import format_date, format_number, ngettext
from assembly.meetings import followers as question_followers
from assembly.neighbourhoods.models import Body, Neighbourhood
from assembly.notifications.services import notify_all, register_message
from assembly.promises import survey_indicator
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
    PromiseKind,
    PromiseNeighbourhood,
    PromiseProposal,
    PromiseStatus,
    PromiseSurvey,
    ReportComment,
)
from assembly.proposals.models import Follow, Proposal, ProposalStatus
from assembly.text import clean_plain, render_markdown

MAX_EVIDENCE = 5
MAX_BUDGET = 10 ** 15  # whole units of the currency
URL_RE = re.compile(r"^https?://[^\s<>\"']{1,490}$")
# The statuses of a proposal that the assembly accepted (forwarded ones were accepted or sent on).
ANSWERABLE = (ProposalStatus.ACCEPTED.value, ProposalStatus.FORWARDED.value)


def _progress_message(p: dict) -> str:
    return _("Progress on “%(commitment)s” (%(promise)s): %(percent)s %%.", commitment=p["commitment"],
             promise=p["title"], percent=format_number(p["percent"]))


def _report_message(p: dict) -> str:
    return _("%(body)s published a follow-up report on “%(title)s”.", body=p["body"], title=p["title"])


def _published_message(p: dict) -> str:
    return _("“%(title)s” has been signed and published.", title=p["title"])


def _meeting_commitment_message(p: dict) -> str:
    return _("A new commitment in “%(title)s”, made at the meeting “%(meeting)s”: %(commitment)s.",
             title=p["title"], meeting=p["meeting"], commitment=p["commitment"])


register_message("promise_progress", _progress_message)
register_message("promise_report", _report_message)
register_message("promise_published", _published_message)
register_message("promise_meeting_commitment", _meeting_commitment_message)


# --- reading helpers --------------------------------------------------------------------------------

def local_today(promise: Promise, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(promise.municipality.timezone)).date()


def is_overdue(commitment: Commitment, today: dt.date) -> bool:
    """Not done by its due date (in the place's calendar day)."""
    return commitment.done_at is None and today > commitment.due_on


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def report_dates(promise: Promise) -> list[dt.date]:
    """When follow-up reports are due: every `report_every_months` after the start of the
    period, and at its end."""
    dates = []
    if promise.report_every_months:
        step = 1
        while (day := add_months(promise.period_start, step * promise.report_every_months)) < promise.period_end:
            dates.append(day)
            step += 1
    dates.append(promise.period_end)
    return dates


def next_report_due(promise: Promise, reports: list[FollowUpReport], today: dt.date) -> dt.date | None:
    """The earliest scheduled date with no report yet (past or future)."""
    written = {report.due_on for report in reports}
    return next((day for day in report_dates(promise) if day not in written), None)


# --- writing the promise ------------------------------------------------------------------------------

def _text(value: str | None, field: str, limit: int, required: bool = True) -> str:
    cleaned = clean_plain(value or "")
    if required and not cleaned:
        raise ValidationFailed(_("This field is required."), field)
    if len(cleaned) > limit:
        raise ValidationFailed(ngettext("At most %(num)s character.", "At most %(num)s characters.", limit), field)
    return cleaned


def create_promise(actor, now: dt.datetime, *, kind: str, title: str, summary: str,
                   neighbourhoods: list[Neighbourhood], bodies: list[Body], period_start: dt.date,
                   period_end: dt.date, report_every_months: int | None = None,
                   proposals: list[Proposal] = (), surveys: list = ()) -> Promise:
    """A draft promise of `bodies` (the actor must be staff of one of them) for `neighbourhoods`,
    all of one municipality, answering `proposals` (accepted by their assembly) and the results of
    `surveys` (published surveys of those neighbourhoods)."""
    permissions.require(actor, "create_promise")
    if kind not in {k.value for k in PromiseKind}:
        raise ValidationFailed(_("Choose one of the offered kinds."), "kind")
    title = _text(title, "title", 200)
    summary = _text(summary, "summary", 20000)
    if not neighbourhoods:
        raise ValidationFailed(_("Choose at least one neighbourhood."), "neighbourhoods")
    if not bodies:
        raise ValidationFailed(_("Choose at least one body."), "bodies")
    municipality_id = bodies[0].municipality_id
    if any(b.municipality_id != municipality_id for b in bodies) or any(
            n.municipality_id != municipality_id for n in neighbourhoods):
        raise ValidationFailed(_("The bodies and neighbourhoods must belong to one municipality."), "bodies")
    if not any(permissions.can(actor, "act_for_body", b) for b in bodies):
        raise NotAllowed(_("Only the staff of a body that gives the promise can write it."))
    if period_start is None or period_end is None or period_end < period_start:
        raise ValidationFailed(_("The period must end after it starts."), "period_end")
    if report_every_months is not None and not 1 <= report_every_months <= 24:
        raise ValidationFailed(_("Give a number of months from 1 to 24."), "report_every_months")
    hood_ids = {n.id for n in neighbourhoods}
    for proposal in proposals:
        if proposal.neighbourhood_id not in hood_ids or proposal.status not in ANSWERABLE:
            raise ValidationFailed(_("Link only proposals that the assembly of one of these neighbourhoods "
                                     "accepted."), "proposals")
    for survey in surveys:
        if not survey.neighbourhood_ids & hood_ids or survey.status == "draft":
            raise ValidationFailed(_("Link only published surveys of these neighbourhoods."), "surveys")
    promise = Promise(municipality_id=municipality_id, kind=kind, status=PromiseStatus.DRAFT.value,
                      locale=neighbourhoods[0].default_locale, title=title, summary=summary,
                      summary_html=render_markdown(summary), period_start=period_start, period_end=period_end,
                      report_every_months=report_every_months, created_by_id=actor.id, created_at=now,
                      updated_at=now)
    db.session.add(promise)
    db.session.flush()
    db.session.add_all([PromiseNeighbourhood(promise_id=promise.id, neighbourhood_id=n.id) for n in neighbourhoods])
    db.session.add_all([PromiseBody(promise_id=promise.id, body_id=b.id) for b in dict.fromkeys(bodies)])
    db.session.add_all([PromiseProposal(promise_id=promise.id, proposal_id=p.id) for p in dict.fromkeys(proposals)])
    db.session.add_all([PromiseSurvey(promise_id=promise.id, survey_id=s.id) for s in dict.fromkeys(surveys)])
    db.session.flush()
    db.session.refresh(promise)
    record(actor, "promise.create", promise, now, title=title)
    return promise


def _require_draft(promise: Promise) -> None:
    if promise.status != PromiseStatus.DRAFT.value:
        raise InvalidTransition(_("A signed and published promise cannot be changed; record progress instead."))


def _number(value, field: str, low: float | None = 0, high: float | None = None) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Give a number."), field) from None
    if number != number or (low is not None and number < low) or (high is not None and number > high):
        raise ValidationFailed(_("Give a number from %(low)s to %(high)s.", low=format_number(low or 0),
                                 high=format_number(high if high is not None else 10 ** 9)), field)
    return number


def indicator_value(kind: str, value, field: str = "value") -> float | None:
    """A value of an indicator of `kind`, checked: yes/no is 0 or 1, a percentage 0-100, a count
    a whole number. A survey question's value comes from the survey, never typed in."""
    if kind == IndicatorKind.SURVEY_QUESTION.value:
        if value not in (None, ""):
            raise ValidationFailed(_("This indicator is the result of a survey question; it is not typed in."),
                                   field)
        return None
    if kind == IndicatorKind.YES_NO.value:
        number = _number(value, field, 0, 1)
        if number not in (None, 0, 1):
            raise ValidationFailed(_("Answer yes (1) or no (0)."), field)
        return number
    if kind == IndicatorKind.PERCENT.value:
        return _number(value, field, 0, 100)
    number = _number(value, field, 0, 10 ** 9)
    if number is not None and number != int(number):
        raise ValidationFailed(_("Give a whole number."), field)
    return number


def add_commitment(actor, now: dt.datetime, promise: Promise, *, title: str, description: str,
                   bodies: list[Body], indicator_kind: str, indicator_label: str, due_on: dt.date,
                   baseline=None, target=None, budget: int | None = None, currency: str | None = None,
                   survey_question_id: int | None = None, survey_option: int | None = None) -> Commitment:
    """A commitment of a draft promise, by some of its signing bodies. Its terms are the first
    event of its timeline."""
    permissions.require(actor, "manage_promise", promise)
    _require_draft(promise)
    if indicator_kind not in {k.value for k in IndicatorKind}:
        raise ValidationFailed(_("Choose one of the offered kinds."), "indicator_kind")
    title = _text(title, "title", 200)
    description = _text(description, "description", 5000)
    indicator_label = _text(indicator_label, "indicator_label", 200)
    if not bodies or not {b.id for b in bodies} <= promise.body_ids:
        raise ValidationFailed(_("Choose the responsible bodies among those that give the promise."), "bodies")
    if due_on is None or not promise.period_start <= due_on <= promise.period_end:
        raise ValidationFailed(_("The due date must fall within the promise's period."), "due_on")
    if indicator_kind == IndicatorKind.SURVEY_QUESTION.value:
        if survey_question_id is None:
            raise ValidationFailed(_("Choose the survey question whose result measures this commitment."),
                                   "survey_question_id")
        question = survey_indicator.checked(promise.neighbourhood_ids, survey_question_id, survey_option)
        baseline_value, target_value = _number(baseline, "baseline", 0, 100), _number(target, "target", 0, 100)
        if baseline_value is None:
            baseline_value = survey_indicator.baseline(question, survey_option)
    else:
        survey_question_id = survey_option = None
        baseline_value = indicator_value(indicator_kind, baseline, "baseline")
        target_value = indicator_value(indicator_kind, target, "target")
    if budget is not None and (isinstance(budget, bool) or budget < 0 or budget > MAX_BUDGET):
        raise ValidationFailed(_("Give the budget as a whole amount, 0 or more."), "budget")
    currency = (currency or "").strip().upper() or None
    if budget is not None and (currency is None or not re.fullmatch(r"[A-Z]{3}", currency)):
        raise ValidationFailed(_("Give the currency as a three-letter code, e.g. SEK or IRR."), "currency")
    position = 1 + max((c.position for c in promise.commitments), default=0)
    commitment = Commitment(promise_id=promise.id, position=position, title=title, description=description,
                            indicator_kind=indicator_kind, indicator_label=indicator_label,
                            survey_question_id=survey_question_id, survey_option=survey_option,
                            baseline=baseline_value, target=target_value,
                            current_value=baseline_value, progress=0, due_on=due_on, budget=budget,
                            currency=currency if budget is not None else None, updated_at=now, event_count=0)
    db.session.add(commitment)
    db.session.flush()
    db.session.add_all([CommitmentBody(commitment_id=commitment.id, body_id=b.id) for b in dict.fromkeys(bodies)])
    db.session.flush()
    db.session.refresh(commitment)
    promise.commitments.append(commitment)
    _append(commitment, "committed", actor, None, now, None, title=title, description=description,
            indicator=indicator_kind, indicator_label=indicator_label, survey_question=survey_question_id,
            survey_option=survey_option, baseline=baseline_value,
            target=target_value, due_on=due_on.isoformat(), budget=budget, currency=commitment.currency,
            bodies=sorted(b.name for b in bodies))
    promise.updated_at = now
    return commitment


# --- a commitment made at a meeting with bodies ------------------------------------------------------

# The indicators a commitment made at a meeting is measured by; one measured by a survey question is
# added on the promise's page, where the survey's questions are chosen.
MEETING_INDICATORS = (IndicatorKind.COUNT.value, IndicatorKind.YES_NO.value, IndicatorKind.PERCENT.value)
OPEN_STATUSES = (PromiseStatus.DRAFT.value, PromiseStatus.PUBLISHED.value)


@dataclass
class MeetingCommitment:
    """What the body asked committed to at the meeting, and the promise of that body it goes into.
    Values come as typed (numbers as text); `description` defaults to the body's answer."""

    promise_id: int | None
    title: str
    indicator_kind: str
    indicator_label: str
    target: str | float | None
    due_on: dt.date | None
    description: str | None = None
    baseline: str | float | None = None
    budget: int | None = None
    currency: str | None = None


@dataclass
class CheckedCommitment:
    promise: Promise
    values: dict


def meeting_day(question) -> dt.date:
    """The day of the meeting in its place's calendar."""
    meeting = question.meeting
    return meeting.starts_at.astimezone(ZoneInfo(meeting.municipality.timezone)).date()


def accepts_meeting_commitment(actor, promise: Promise, question) -> bool:
    """May a commitment made at the question's meeting go into `promise`: a promise the actor may
    read, still a draft or published, given by the body asked, for one of the meeting's
    neighbourhoods."""
    return (promise.status in OPEN_STATUSES and question.body_id in promise.body_ids
            and bool(promise.neighbourhood_ids & question.meeting.neighbourhood_ids)
            and permissions.can(actor, "view_promise", promise))


def _collect(errors: dict, check, *args, **kwargs):
    """Run one check of the terms; keep its message beside the others so that the form shows all."""
    try:
        return check(*args, **kwargs)
    except ValidationFailed as failed:
        for field, messages in failed.reasons.items():
            errors.setdefault(field, []).extend(messages)
        return None


def check_meeting_commitment(actor, question, terms: MeetingCommitment, *, answer: str) -> CheckedCommitment:
    """The terms of a commitment made at the meeting, checked all at once (every refusal is
    raised together, each beside its field)."""
    permissions.require(actor, "commit_at_meeting", question)
    errors: dict[str | None, list[str]] = {}
    body = question.body
    promise = db.session.get(Promise, terms.promise_id) if terms.promise_id else None
    if promise is None or not permissions.can(actor, "view_promise", promise):
        errors["promise_id"] = [_("Choose the promise the commitment goes into.")]
    elif question.body_id not in promise.body_ids:
        errors["promise_id"] = [_("Choose a promise that %(body)s gives.", body=body.name)]
    elif not promise.neighbourhood_ids & question.meeting.neighbourhood_ids:
        errors["promise_id"] = [_("Choose a promise for one of the meeting's neighbourhoods.")]
    elif promise.status not in OPEN_STATUSES:
        errors["promise_id"] = [_("This promise has been closed; choose one that is still running.")]
    title = _collect(errors, _text, terms.title, "title", 200)
    description = _collect(errors, _text, terms.description or answer, "description", 5000)
    indicator_label = _collect(errors, _text, terms.indicator_label, "indicator_label", 200)
    kind = terms.indicator_kind
    baseline = target = None
    if kind not in MEETING_INDICATORS:
        errors["indicator_kind"] = [_("Choose one of the offered kinds.")]
    else:
        baseline = _collect(errors, indicator_value, kind, terms.baseline, "baseline")
        target = _collect(errors, indicator_value, kind, terms.target, "target")
        if target is None and "target" not in errors:
            errors["target"] = [_("Give the target the body committed to.")]
    due_on = terms.due_on
    if due_on is None:
        errors["due_on"] = [_("This field is required.")]
    elif promise is not None and "promise_id" not in errors and not promise.period_start <= due_on <= promise.period_end:
        errors["due_on"] = [_("The due date must fall within the promise's period (%(start)s to %(end)s).",
                              start=format_date(promise.period_start), end=format_date(promise.period_end))]
    elif due_on < meeting_day(question):
        errors["due_on"] = [_("The due date cannot be before the meeting.")]
    budget, currency = terms.budget, (terms.currency or "").strip().upper() or None
    if budget is not None and (isinstance(budget, bool) or budget < 0 or budget > MAX_BUDGET):
        errors["budget"] = [_("Give the budget as a whole amount, 0 or more.")]
    elif budget is not None and (currency is None or not re.fullmatch(r"[A-Z]{3}", currency)):
        errors["currency"] = [_("Give the currency as a three-letter code, e.g. SEK or IRR.")]
    if errors:
        raise ValidationFailed(errors)
    return CheckedCommitment(promise, {
        "title": title, "description": description, "indicator_kind": kind, "indicator_label": indicator_label,
        "baseline": baseline, "target": target, "due_on": due_on, "budget": budget,
        "currency": currency if budget is not None else None})


def commit_at_meeting(actor, now: dt.datetime, question, checked: CheckedCommitment, *, answer: str) -> Commitment:
    """The commitment the body asked made at the meeting, in a promise it gives (a draft, or a
    published promise, which thereby gains a commitment of that body alone), linked to the question
    (`Commitment.meeting_question_id`). Its first, hash-chained step holds its terms and where it was
    made. One commitment per question: the database's unique constraint refuses a second one, also
    when two requests race. The caller (`meetings.services.record_answer`) records the answer in
    the same transaction."""
    permissions.require(actor, "commit_at_meeting", question)
    promise, values, body, meeting = checked.promise, checked.values, question.body, question.meeting
    # The promise's row is locked first, so that commitments added at once to one promise take
    # their positions one after the other (the max is read after the lock, from committed rows).
    db.session.execute(update(Promise).where(Promise.id == promise.id).values(updated_at=now)
                       .execution_options(synchronize_session=False))
    set_committed_value(promise, "updated_at", now)
    position = 1 + (db.session.scalar(select(func.max(Commitment.position)).where(
        Commitment.promise_id == promise.id)) or 0)
    commitment = Commitment(promise_id=promise.id, position=position, survey_question_id=None, survey_option=None,
                            current_value=values["baseline"], progress=0, updated_at=now, event_count=0,
                            meeting_question_id=question.id, **values)
    try:
        with db.session.begin_nested():
            db.session.add(commitment)
    except IntegrityError:
        raise ValidationFailed(_("This question has already become a commitment."), "follow_up") from None
    db.session.add(CommitmentBody(commitment_id=commitment.id, body_id=body.id))
    db.session.flush()
    db.session.refresh(commitment)
    if commitment not in promise.commitments:
        promise.commitments.append(commitment)
    _append(commitment, "committed", actor, None, now, answer or None, title=values["title"],
            description=values["description"], indicator=values["indicator_kind"],
            indicator_label=values["indicator_label"], baseline=values["baseline"], target=values["target"],
            due_on=values["due_on"].isoformat(), budget=values["budget"], currency=values["currency"],
            bodies=[body.name], meeting=meeting.id, meeting_title=meeting.title, question=question.id)
    record(actor, "promise.commit_at_meeting", promise, now, commitment=commitment.id, meeting=meeting.id,
           question=question.id, body=body.id)
    if promise.public:
        _notify(promise, "promise_meeting_commitment", now, commitment=values["title"], meeting=meeting.title)
    return commitment


def sign(actor, now: dt.datetime, promise: Promise, body: Body) -> PromiseBody:
    """The body's signature, given by its staff."""
    permissions.require(actor, "act_for_body", body)
    _require_draft(promise)
    signatory = next((s for s in promise.signatories if s.body_id == body.id), None)
    if signatory is None:
        raise ValidationFailed(_("This body does not give this promise."), "body_id")
    if signatory.signed_at is not None:
        raise InvalidTransition(_("This body has already signed."))
    if not promise.commitments:
        raise InvalidTransition(_("Add at least one commitment before signing."))
    signatory.signed_at, signatory.signed_by_id, signatory.signed_by_name = now, actor.id, actor.display_name
    record(actor, "promise.sign", promise, now, body=body.id)
    db.session.flush()
    return signatory


def cosign(actor, now: dt.datetime, promise: Promise, neighbourhood: Neighbourhood) -> PromiseNeighbourhood:
    """A muhtar co-signs for their neighbourhood (before or after publication)."""
    permissions.require(actor, "cosign_promise", promise)
    place = next((p for p in promise.places if p.neighbourhood_id == neighbourhood.id), None)
    if place is None or not permissions.can(actor, "moderate", neighbourhood):
        raise NotAllowed(_("You can co-sign only for a neighbourhood of which you are muhtar."))
    if place.cosigned_at is not None:
        raise InvalidTransition(_("This neighbourhood has already co-signed."))
    place.cosigned_at, place.cosigned_by_id, place.cosigned_by_name = now, actor.id, actor.display_name
    record(actor, "promise.cosign", promise, now, neighbourhood=neighbourhood.id)
    db.session.flush()
    return place


def publish(actor, now: dt.datetime, promise: Promise) -> Promise:
    """Publish once every giving body has signed; followers of the answered proposals are told."""
    permissions.require(actor, "manage_promise", promise)
    PROMISE_LIFECYCLE.check(promise.status, PromiseStatus.PUBLISHED)
    if any(s.signed_at is None for s in promise.signatories):
        raise InvalidTransition(_("Every body that gives the promise must sign it first."))
    promise.status, promise.published_at, promise.updated_at = PromiseStatus.PUBLISHED.value, now, now
    db.session.flush()
    record(actor, "promise.publish", promise, now)
    _notify(promise, "promise_published", now)
    return promise


# --- progress ------------------------------------------------------------------------------------------

def _content(event: CommitmentEvent, promise_id: int) -> dict:
    return {
        "promise": promise_id, "commitment": event.commitment_id, "seq": event.seq, "kind": event.kind,
        "body": event.body_id, "actor": event.actor_name, "note": event.note or "", "data": event.data,
        "created_at": event.created_at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds"),
        "prev_hash": event.prev_hash,
    }


def event_hash(event: CommitmentEvent, promise_id: int) -> str:
    return timeline.digest(_content(event, promise_id))


def _append(commitment: Commitment, kind: str, actor, body: Body | None, now: dt.datetime, note: str | None,
            **data) -> CommitmentEvent:
    seq = timeline.claim_seq(commitment, updated_at=now)
    if seq is None:
        raise InvalidTransition(_("The commitment was changed in the meantime. Please reload the page."))
    name = getattr(actor, "display_name", "system")
    event = CommitmentEvent(
        commitment_id=commitment.id, seq=seq, kind=kind, body_id=body.id if body else None,
        actor_id=getattr(actor, "id", None), actor_name=f"{name} ({body.name})" if body else name, note=note,
        data={key: value for key, value in data.items() if value is not None},
        created_at=now.astimezone(dt.timezone.utc),
        prev_hash=timeline.previous_hash(CommitmentEvent, CommitmentEvent.commitment_id, commitment.id, seq))
    event.hash = event_hash(event, commitment.promise_id)
    commitment.updated_at = now
    db.session.add(event)
    db.session.flush()
    return event


def _evidence(links) -> list[str]:
    cleaned = [link.strip() for link in (links or []) if link and link.strip()]
    if len(cleaned) > MAX_EVIDENCE:
        raise ValidationFailed(_("Give at most %(num)d links.", num=MAX_EVIDENCE), "evidence")
    for link in cleaned:
        if not URL_RE.match(link):
            raise ValidationFailed(_("Give links that start with https:// or http://."), "evidence")
    return cleaned


def acting_body(actor, commitment: Commitment) -> Body:
    """The responsible body the actor records for: the one they are staff of. Staff of another
    body (even one that signed the promise) are refused."""
    permissions.require(actor, "record_progress", commitment)
    for row in commitment.responsible:
        if permissions.can(actor, "act_for_body", row.body):
            return row.body
    raise NotAllowed(_("Only the staff of a responsible body can record progress on this commitment."))


def record_progress(actor, now: dt.datetime, commitment: Commitment, *, percent: int | None,
                    value=None, note: str | None = None, evidence: list[str] | None = None,
                    photos: list[dict[str, str]] | None = None) -> CommitmentEvent:
    """A step of a published promise's commitment: how far it is (0-100 %; 100 % is done), the
    indicator's new value, a public note, links to evidence, and the fingerprints (SHA-256 of the
    photo and of its thumbnail, `processing.Encoded.fingerprint`) of the photos attached to the
    step (`promises.photos`): in the step's hashed content, so that a photo file swapped later no
    longer matches its step."""
    body = acting_body(actor, commitment)
    promise = commitment.promise
    if promise.status != PromiseStatus.PUBLISHED.value:
        raise InvalidTransition(_("Progress is recorded on published promises only."))
    if commitment.done_at is not None:
        raise InvalidTransition(_("This commitment is done; nothing more can be recorded."))
    if percent is None or isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ValidationFailed(_("Give the progress as a whole number from 0 to 100."), "percent")
    if percent < commitment.progress:
        raise ValidationFailed(_("Progress cannot go back below %(percent)s %%.",
                                 percent=format_number(commitment.progress)), "percent")
    number = indicator_value(commitment.indicator_kind, value)
    note = _text(note, "note", 2000, required=False) or None
    links = _evidence(evidence)
    if number is None and percent == commitment.progress and not note and not photos:
        raise ValidationFailed(_("Say what has changed: the progress, the indicator's value or a note."), "note")
    kind = "done" if percent == 100 else "progress"
    commitment.progress = percent
    if number is not None:
        commitment.current_value = number
    if percent == 100:
        commitment.done_at = now
    event = _append(commitment, kind, actor, body, now, note, percent=percent, value=number, evidence=links or None,
                    photos=[dict(fingerprint) for fingerprint in photos] if photos else None)
    record(actor, "promise.progress", promise, now, commitment=commitment.id, percent=percent)
    _notify(promise, "promise_progress", now, commitment=commitment.title, percent=percent,
            question_id=commitment.meeting_question_id)
    return event


def verify_chain(commitment: Commitment, events: list[CommitmentEvent]):
    return timeline.verify_chain(events, commitment.event_count,
                                 lambda event: event_hash(event, commitment.promise_id))


def verify_all(batch: int = 500):
    """Yield (commitment, problem) for every commitment whose timeline is broken."""
    return timeline.verify_all(Commitment, CommitmentEvent, CommitmentEvent.commitment_id,
                               lambda event, commitment: event_hash(event, commitment.promise_id), batch)


# --- follow-up reports and comments -----------------------------------------------------------------

def write_report(actor, now: dt.datetime, promise: Promise, body: Body, due_on: dt.date, text: str) -> FollowUpReport:
    """A giving body's follow-up report for one of the scheduled dates."""
    permissions.require(actor, "act_for_body", body)
    if body.id not in promise.body_ids:
        raise NotAllowed(_("Only the bodies that give the promise write its follow-up reports."))
    if promise.status != PromiseStatus.PUBLISHED.value:
        raise InvalidTransition(_("Follow-up reports are written for published promises."))
    if due_on not in report_dates(promise):
        raise ValidationFailed(_("Choose one of the scheduled report dates."), "due_on")
    text = _text(text, "text", 20000)
    report = FollowUpReport(promise_id=promise.id, body_id=body.id, due_on=due_on, text=text,
                            text_html=render_markdown(text), author_id=actor.id, author_name=actor.display_name,
                            published_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        raise ValidationFailed(_("This body has already reported for this date."), "due_on") from None
    set_committed_value(report, "body", body)
    record(actor, "promise.report", promise, now, body=body.id, due_on=due_on.isoformat())
    _notify(promise, "promise_report", now, body=body.name)
    return report


def comment_report(actor, now: dt.datetime, report: FollowUpReport, neighbourhood: Neighbourhood,
                   text: str) -> ReportComment:
    """The muhtar's comment on a report, for their neighbourhood."""
    promise = db.session.get(Promise, report.promise_id)
    permissions.require(actor, "comment_promise", promise)
    if neighbourhood.id not in promise.neighbourhood_ids or not permissions.can(actor, "moderate", neighbourhood):
        raise NotAllowed(_("You can comment only for a neighbourhood of which you are muhtar."))
    comment = ReportComment(report_id=report.id, neighbourhood_id=neighbourhood.id, author_id=actor.id,
                            author_name=actor.display_name, text=_text(text, "text", 2000), created_at=now)
    db.session.add(comment)
    db.session.flush()
    return comment


def follow(actor, now: dt.datetime, promise: Promise) -> None:
    permissions.require(actor, "follow")
    statement = db.insert(PromiseFollow).values(promise_id=promise.id, user_id=actor.id, created_at=now)
    db.session.execute(statement.on_conflict_do_nothing(index_elements=["promise_id", "user_id"]))


def unfollow(actor, now: dt.datetime, promise: Promise) -> None:
    permissions.require(actor, "follow")
    db.session.execute(delete(PromiseFollow).where(PromiseFollow.promise_id == promise.id,
                                                   PromiseFollow.user_id == actor.id))


def _notify(promise: Promise, kind: str, now: dt.datetime, *, question_id: int | None = None, **params) -> None:
    """Those who follow the promise or one of the proposals it answers, each in their language (and,
    for a commitment made at a meeting, those who follow the question it answers: `question_id`)."""
    groups = [select(PromiseFollow.user_id).where(PromiseFollow.promise_id == promise.id),
              select(Follow.user_id).join(PromiseProposal, PromiseProposal.proposal_id == Follow.proposal_id)
              .where(PromiseProposal.promise_id == promise.id)]
    if question_id is not None:
        groups.append(question_followers.followers_of(question_id))
    followers = union(*groups)
    notify_all(select(followers.subquery().c.user_id), kind, now, link=f"/promises/{promise.id}",
               title=promise.title, **params)
