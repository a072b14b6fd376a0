"""Assembly sessions: agenda, meeting, ballot window, the session lifecycle and minutes.

Voting itself (casting, secrecy, results) is in `assembly.assemblies.voting`.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from assembly import permissions
from assembly.assemblies.models import (
    ASSEMBLY_LIFECYCLE,
    AgendaItem,
    Assembly,
    AssemblyStatus,
    Ballot,
    BallotMethod,
    Secrecy,
)
from assembly.audit.services import record
from assembly.db import db
from assembly.errors import InvalidTransition, NotFound, ValidationFailed
from assembly.i18n import ngettext
from assembly.neighbourhoods.models import Membership, MembershipRole, MembershipStatus, Neighbourhood
from assembly.notifications.services import notify_all
from assembly.proposals import services as proposals
from assembly.proposals.models import Proposal, ProposalStatus
from assembly.text import clean_plain, render_markdown

A = AssemblyStatus
EDITABLE = ASSEMBLY_LIFECYCLE.values("editable")


def method_label(method: str) -> str:
    return {
        BallotMethod.YES_NO.value: _("Yes / no / abstain on each item"),
        BallotMethod.APPROVAL.value: _("Approval: tick the items you support, up to a set number"),
        BallotMethod.RANKED.value: _("Ranked: put the items in your order of preference"),
    }.get(method, method)


def method_explanation(method: str) -> str:
    """How a method decides, in one line of plain words (the help page /help/voting says more)."""
    return {
        BallotMethod.YES_NO.value: _("Each item is decided on its own: it passes when enough of the votes cast "
                                     "are yes."),
        BallotMethod.APPROVAL.value: _("You tick every item you support; the items ticked by the most voters win."),
        BallotMethod.RANKED.value: _("You number the items from your first choice down; an item wins when more "
                                     "voters prefer it to each other item, taken one pair at a time."),
    }.get(method, "")


def move_status(assembly: Assembly, expected: AssemblyStatus, to: AssemblyStatus, now: dt.datetime) -> None:
    """Every move of a session: allowed by its lifecycle, and conditional on the status read,
    so two requests (or two schedulers) cannot both apply it."""
    ASSEMBLY_LIFECYCLE.check(expected, to)
    changed = db.session.execute(
        update(Assembly).where(Assembly.id == assembly.id, Assembly.status == expected.value)
        .values(status=to.value, updated_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise InvalidTransition(_("The session was changed in the meantime. Please reload the page."))
    set_committed_value(assembly, "status", to.value)


# --- reading ---------------------------------------------------------------------------

# The session with its ballot and its agenda (each item with its proposal or consultation), in one
# statement built once: a row per agenda item.
_WITH_AGENDA = (select(Assembly).options(joinedload(Assembly.items).options(joinedload(AgendaItem.proposal),
                                                                           joinedload(AgendaItem.consultation)),
                                          joinedload(Assembly.ballot))
                .where(Assembly.id == bindparam("assembly_id"), Assembly.neighbourhood_id == bindparam("neighbourhood_id")))


def get_assembly(viewer, neighbourhood: Neighbourhood, assembly_id: int) -> Assembly:
    assembly = db.session.scalars(_WITH_AGENDA, {"assembly_id": assembly_id,
                                                 "neighbourhood_id": neighbourhood.id}).unique().first()
    if assembly is None or (assembly.status == A.DRAFT.value
                            and not permissions.can(viewer, "manage_assemblies", neighbourhood)):
        raise NotFound(_("There is no such session."))
    set_committed_value(assembly, "neighbourhood", neighbourhood)
    return assembly


def list_assemblies(viewer, neighbourhood: Neighbourhood) -> list[Assembly]:
    query = (select(Assembly).options(joinedload(Assembly.ballot))
             .where(Assembly.neighbourhood_id == neighbourhood.id)
             .order_by(Assembly.created_at.desc()).limit(100))
    if not permissions.can(viewer, "manage_assemblies", neighbourhood):
        query = query.where(Assembly.status != A.DRAFT.value)
    return list(db.session.scalars(query))


def upcoming_meetings(neighbourhood: Neighbourhood, since: dt.datetime, limit: int = 200) -> list[Assembly]:
    return list(db.session.scalars(
        select(Assembly).where(Assembly.neighbourhood_id == neighbourhood.id, Assembly.status != A.DRAFT.value,
                               Assembly.meeting_start.is_not(None), Assembly.meeting_start >= since)
        .order_by(Assembly.meeting_start).limit(limit)
    ))


def voting_now(neighbourhood: Neighbourhood, now: dt.datetime, limit: int = 50) -> list[Assembly]:
    """The sessions whose online vote is open at `now` (by the clock, as `shown_status` says)."""
    return list(db.session.scalars(
        select(Assembly).join(Ballot, Ballot.assembly_id == Assembly.id).options(joinedload(Assembly.ballot))
        .where(Assembly.neighbourhood_id == neighbourhood.id,
               Assembly.status.in_([A.ANNOUNCED.value, A.VOTING.value]), Ballot.closed_at.is_(None),
               Ballot.opens_at <= now, Ballot.closes_at > now)
        .order_by(Ballot.closes_at, Assembly.id).limit(limit)))


CANDIDATE_LIMIT = 200


def candidates(neighbourhood: Neighbourhood, limit: int = CANDIDATE_LIMIT) -> list[Proposal]:
    """Open proposals that reached the support threshold and are not hidden: what may go onto an
    agenda, the `limit` most supported (the partial index `ix_proposals_ready` serves it)."""
    return list(db.session.scalars(
        select(Proposal).where(Proposal.neighbourhood_id == neighbourhood.id,
                               Proposal.status == ProposalStatus.OPEN.value, Proposal.ready_at.is_not(None),
                               Proposal.hidden_at.is_(None))
        .order_by(Proposal.support_count.desc(), Proposal.id.desc()).limit(limit)
    ))


# --- writing a session ------------------------------------------------------------------------

def _meeting_fields(title: str, meeting_start: dt.datetime | None, meeting_end: dt.datetime | None,
                    place: str | None, online_link: str | None) -> dict:
    errors: dict[str | None, list[str]] = {}
    title = clean_plain(title)
    if not title or len(title) > 200:
        errors["title"] = [ngettext("Please give a title of at most %(num)s character.",
                                    "Please give a title of at most %(num)s characters.", 200)]
    if meeting_end and not meeting_start:
        errors["meeting_start"] = [_("Give the start of the meeting too.")]
    elif meeting_end and meeting_start and meeting_end <= meeting_start:
        errors["meeting_end"] = [_("The meeting must end after it starts.")]
    link = clean_plain(online_link or "") or None
    if link and not (link.startswith("https://") or link.startswith("http://")) or (link and len(link) > 500):
        errors["online_link"] = [_("Give a web address starting with https://.")]
    place = clean_plain(place or "") or None
    if place and len(place) > 300:
        errors["place"] = [ngettext("The place may be at most %(num)s character long.",
                                    "The place may be at most %(num)s characters long.", 300)]
    if errors:
        raise ValidationFailed(errors)
    return {"title": title, "meeting_start": meeting_start, "meeting_end": meeting_end, "place": place,
            "online_link": link}


def create_assembly(actor, now: dt.datetime, neighbourhood: Neighbourhood, *, title: str,
                    meeting_start: dt.datetime | None = None, meeting_end: dt.datetime | None = None,
                    place: str | None = None, online_link: str | None = None) -> Assembly:
    permissions.require(actor, "manage_assemblies", neighbourhood)
    assembly = Assembly(neighbourhood_id=neighbourhood.id, created_by_id=actor.id, created_at=now, updated_at=now,
                        status=A.DRAFT.value,
                        **_meeting_fields(title, meeting_start, meeting_end, place, online_link))
    db.session.add(assembly)
    db.session.flush()
    record(actor, "assembly.create", assembly, now, title=assembly.title)
    return assembly


def update_assembly(actor, now: dt.datetime, assembly: Assembly, *, title: str,
                    meeting_start: dt.datetime | None, meeting_end: dt.datetime | None,
                    place: str | None, online_link: str | None) -> Assembly:
    permissions.require(actor, "manage_assemblies", assembly)
    if assembly.status not in EDITABLE:
        raise InvalidTransition(_("The session can no longer be changed."))
    for key, value in _meeting_fields(title, meeting_start, meeting_end, place, online_link).items():
        setattr(assembly, key, value)
    assembly.updated_at = now
    db.session.flush()
    return assembly


def check_agenda_open(actor, assembly: Assembly, now: dt.datetime) -> None:
    """The actor may change this agenda, and it can still change (voting has not started)."""
    permissions.require(actor, "manage_assemblies", assembly)
    if not agenda_can_change(assembly, now):
        raise InvalidTransition(_("The agenda can no longer be changed."))


def agenda_can_change(assembly: Assembly, now: dt.datetime) -> bool:
    return assembly.status in EDITABLE and not _voting_started(assembly, now)


def next_position(assembly: Assembly) -> int:
    return (db.session.scalar(select(func.max(AgendaItem.position)).where(
        AgendaItem.assembly_id == assembly.id)) or 0) + 1


def add_agenda_item(actor, now: dt.datetime, assembly: Assembly, proposal_id: int) -> AgendaItem:
    check_agenda_open(actor, assembly, now)
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.neighbourhood_id != assembly.neighbourhood_id:
        raise NotFound(_("There is no such proposal."))
    if proposal.status != ProposalStatus.OPEN.value or proposal.ready_at is None:
        raise ValidationFailed(_("Only open proposals that reached the support threshold can go onto the agenda."),
                               "proposal_id")
    if proposal.hidden_at is not None:
        raise ValidationFailed(_("A hidden proposal cannot go onto the agenda. Restore it first."), "proposal_id")
    item = AgendaItem(assembly_id=assembly.id, proposal_id=proposal.id, position=next_position(assembly))
    try:
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError:
        raise ValidationFailed(_("This proposal is already on the agenda."), "proposal_id") from None
    proposals.transition(proposal, ProposalStatus.ON_AGENDA, actor, now, assembly.title)
    proposals.notify_followers(proposal, "proposal_status", now, status=ProposalStatus.ON_AGENDA.value)
    db.session.expire(assembly, ["items"])
    return item


def remove_agenda_item(actor, now: dt.datetime, assembly: Assembly, item_id: int) -> AgendaItem:
    permissions.require(actor, "manage_assemblies", assembly)
    if assembly.status not in EDITABLE or _voting_started(assembly, now):
        raise InvalidTransition(_("The agenda can no longer be changed."))
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.assembly_id != assembly.id:
        raise NotFound(_("There is no such agenda item."))
    if assembly.status == A.ANNOUNCED.value:
        if len(assembly.items) <= 1:
            raise ValidationFailed(_("An announced session keeps at least one item on its agenda."))
        ballot = assembly.ballot
        _check_k_fits(ballot.method, ballot.approval_k, len(assembly.items) - 1)
    if item.proposal is not None:  # a consultation item just leaves the agenda
        proposals.transition(item.proposal, ProposalStatus.OPEN, actor, now, _("Taken off the agenda."))
    db.session.delete(item)
    db.session.flush()
    db.session.expire(assembly, ["items"])
    return item


def _check_k_fits(method: str, k: int | None, items: int) -> None:
    # The tally refuses such rules: nobody could vote and the ballot could never be counted.
    if method != BallotMethod.YES_NO.value and k is not None and k > items:
        raise ValidationFailed(_("k cannot be larger than the number of agenda items."), "approval_k")


def _voting_started(assembly: Assembly, now: dt.datetime) -> bool:
    # A draft never opens (announce refuses a window that has begun), so it can be set up again.
    ballot = assembly.ballot
    return ballot is not None and (ballot.opened_at is not None
                                   or assembly.status != A.DRAFT.value and now >= ballot.opens_at)


def set_ballot(actor, now: dt.datetime, assembly: Assembly, *, method: str, secrecy: str,
               opens_at: dt.datetime, closes_at: dt.datetime, quorum_percent: int | None = None,
               majority: str | None = None, approval_k: int | None = None) -> Ballot:
    """Create or change the ballot. Its rules are fixed once voting has opened."""
    permissions.require(actor, "manage_assemblies", assembly)
    if assembly.status not in EDITABLE or _voting_started(assembly, now):
        raise InvalidTransition(_("Voting has opened: the rules of the ballot can no longer change."))
    neighbourhood = assembly.neighbourhood
    errors: dict[str | None, list[str]] = {}
    if method not in {m.value for m in BallotMethod}:
        errors["method"] = [_("Choose one of the offered voting methods.")]
    if secrecy not in {s.value for s in Secrecy}:
        errors["secrecy"] = [_("Choose open or secret.")]
    if opens_at < now - dt.timedelta(minutes=1):
        errors["opens_at"] = [_("Voting cannot open in the past.")]
    if closes_at <= opens_at:
        errors["closes_at"] = [_("Voting must close after it opens.")]
    quorum_percent = neighbourhood.quorum_percent if quorum_percent is None else quorum_percent
    if not 0 <= quorum_percent <= 100:
        errors["quorum_percent"] = [_("The quorum is a percentage between 0 and 100.")]
    majority = majority or neighbourhood.majority
    if majority not in ("simple", "two_thirds"):
        errors["majority"] = [_("Choose one of the offered majority rules.")]
    if method in (BallotMethod.APPROVAL.value, BallotMethod.RANKED.value):
        if approval_k is None or approval_k < 1:
            errors["approval_k"] = [_("Say how many items can be chosen or win (at least 1).")]
    else:
        approval_k = None
    if errors:
        raise ValidationFailed(errors)
    if assembly.status == A.ANNOUNCED.value:
        _check_k_fits(method, approval_k, len(assembly.items))
    ballot = assembly.ballot or Ballot(assembly=assembly)
    ballot.method, ballot.secrecy = method, secrecy
    ballot.opens_at, ballot.closes_at = opens_at, closes_at
    ballot.quorum_percent, ballot.majority, ballot.approval_k = quorum_percent, majority, approval_k
    db.session.add(ballot)
    db.session.flush()
    record(actor, "ballot.set", assembly, now, method=method, secrecy=secrecy, quorum=quorum_percent,
           majority=majority, k=approval_k, opens_at=opens_at.isoformat(), closes_at=closes_at.isoformat())
    return ballot


def announce(actor, now: dt.datetime, assembly: Assembly, *, opens_at: dt.datetime | None = None,
             closes_at: dt.datetime | None = None) -> Assembly:
    """Announce a draft. New times for the vote, given with it (the session page offers them, so a
    window that has passed is fixed where the refusal is shown), are set first, checked as always."""
    permissions.require(actor, "manage_assemblies", assembly)
    if assembly.status != A.DRAFT.value:
        raise InvalidTransition(_("Only a draft session can be announced."))
    if not assembly.items:
        raise ValidationFailed(_("Put at least one proposal onto the agenda first."))
    ballot = assembly.ballot
    if ballot is None:
        raise ValidationFailed(_("Set up the online vote first."))
    new_window = (opens_at or ballot.opens_at, closes_at or ballot.closes_at)
    if new_window != (ballot.opens_at, ballot.closes_at):
        set_ballot(actor, now, assembly, method=ballot.method, secrecy=ballot.secrecy, opens_at=new_window[0],
                   closes_at=new_window[1], quorum_percent=ballot.quorum_percent, majority=ballot.majority,
                   approval_k=ballot.approval_k)
    if now >= ballot.opens_at:  # announcing now would open (or open and close) the vote unannounced
        raise ValidationFailed(_("The time set for the vote to open has passed. Please set new times."),
                               "opens_at")
    _check_k_fits(ballot.method, ballot.approval_k, len(assembly.items))
    move_status(assembly, A.DRAFT, A.ANNOUNCED, now)
    assembly.announced_at = now
    record(actor, "assembly.announce", assembly, now)
    _notify_residents(assembly, "assembly_announced", now)
    return assembly


def _notify_residents(assembly: Assembly, kind: str, now: dt.datetime,
                      verified_by: dt.datetime | None = None) -> None:
    """Tell the verified residents (set-based: a few statements for any number of residents)."""
    residents = select(Membership.user_id).where(
        Membership.neighbourhood_id == assembly.neighbourhood_id,
        Membership.role == MembershipRole.RESIDENT.value, Membership.status == MembershipStatus.VERIFIED.value)
    if verified_by is not None:
        residents = residents.where(Membership.verified_at <= verified_by)
    link = f"/n/{assembly.neighbourhood.slug}/assemblies/{assembly.id}"
    # Times are stored as instants with the place's zone, and shown in it in every reader's language.
    times = {"timezone": assembly.neighbourhood.municipality.timezone}
    if assembly.meeting_start is not None:
        times["meeting_at"] = assembly.meeting_start.isoformat()
    if assembly.ballot is not None:
        times["closes_at"] = assembly.ballot.closes_at.isoformat()
    notify_all(residents, kind, now, link=link, title=assembly.title, **times)


def electorate(neighbourhood_id: int, at: dt.datetime) -> int:
    """Verified residents at a moment: the basis of the quorum."""
    return db.session.scalar(
        select(func.count()).select_from(Membership).where(
            Membership.neighbourhood_id == neighbourhood_id, Membership.role == MembershipRole.RESIDENT.value,
            Membership.status == MembershipStatus.VERIFIED.value, Membership.verified_at <= at)
    ) or 0


def open_if_due(assembly: Assembly, now: dt.datetime) -> Assembly:
    """Open voting once the clock has passed the window's start (idempotent, race-safe):
    fix the electorate and tell those who may vote. Run by the scheduled tick, and by a
    vote that arrives before the tick did."""
    ballot = assembly.ballot
    if ballot is None or assembly.status != A.ANNOUNCED.value or now < ballot.opens_at:
        return assembly
    count = electorate(assembly.neighbourhood_id, ballot.opens_at)
    opened = db.session.execute(
        update(Ballot).where(Ballot.id == ballot.id, Ballot.opened_at.is_(None))
        .values(opened_at=ballot.opens_at, electorate=count).execution_options(synchronize_session=False)
    ).rowcount
    if opened == 1:
        set_committed_value(ballot, "opened_at", ballot.opens_at)
        set_committed_value(ballot, "electorate", count)
        move_status(assembly, A.ANNOUNCED, A.VOTING, now)
        if now < ballot.closes_at:  # only those who may vote: verified when voting opened
            _notify_residents(assembly, "voting_open", now, verified_by=ballot.opens_at)
    else:
        db.session.refresh(ballot)
        db.session.refresh(assembly)
    return assembly


def open_voting_now(actor, now: dt.datetime, assembly: Assembly) -> Assembly:
    """The muhtar opens the vote of an announced session before its set time (the meeting is
    now, or everyone is ready): the window starts now, and voting opens as the clock would open it."""
    permissions.require(actor, "open_voting", assembly)
    ballot = assembly.ballot
    if assembly.status != A.ANNOUNCED.value or ballot is None or ballot.opened_at is not None:
        raise InvalidTransition(_("Only the vote of an announced session that has not opened yet can be opened."))
    ASSEMBLY_LIFECYCLE.check(A.ANNOUNCED, A.VOTING)
    if now >= ballot.closes_at:
        raise ValidationFailed(_("The time set for the vote to close has passed. Please set new times."),
                               "closes_at")
    if now < ballot.opens_at:
        moved = db.session.execute(
            update(Ballot).where(Ballot.id == ballot.id, Ballot.opened_at.is_(None)).values(opens_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise InvalidTransition(_("The session was changed in the meantime. Please reload the page."))
        set_committed_value(ballot, "opens_at", now)
    record(actor, "ballot.open_now", assembly, now, opens_at=now.isoformat())
    open_if_due(assembly, now)
    if assembly.status != A.VOTING.value:  # another request opened it first
        raise InvalidTransition(_("The session was changed in the meantime. Please reload the page."))
    return assembly


def window_warnings(assembly: Assembly) -> list[str]:
    """What the muhtar should know about the vote's times, without being refused: a vote that
    closes before the meeting in the room starts leaves the meeting nothing to decide online."""
    ballot = assembly.ballot
    if ballot is None or assembly.meeting_start is None or ballot.closes_at > assembly.meeting_start:
        return []
    return [_("The online vote closes before the meeting starts: residents at the meeting can no longer "
              "vote online, and what is said there cannot change the result. Check the times.")]


def shown_status(assembly: Assembly, now: dt.datetime) -> str:
    """The status a page shows: the stored one, moved on by the clock where the scheduler
    has not yet done so (a page never opens or closes voting itself)."""
    ballot = assembly.ballot
    if ballot is None or assembly.status not in (A.ANNOUNCED.value, A.VOTING.value) or now < ballot.opens_at:
        return assembly.status
    return A.VOTING.value if now < ballot.closes_at else A.CLOSED.value


def status_changes_at(assembly: Assembly, now: dt.datetime) -> dt.datetime | None:
    """When `shown_status` next moves by the clock alone: the vote opening, then closing."""
    ballot = assembly.ballot
    if ballot is None or assembly.status not in (A.ANNOUNCED.value, A.VOTING.value):
        return None
    return next((moment for moment in (ballot.opens_at, ballot.closes_at) if now < moment), None)


def due_assemblies(now: dt.datetime) -> list[Assembly]:
    """Sessions whose window has opened or closed without anyone looking."""
    return list(db.session.scalars(
        select(Assembly).join(Ballot, Ballot.assembly_id == Assembly.id).where(
            ((Assembly.status == A.ANNOUNCED.value) & (Ballot.opens_at <= now))
            | ((Assembly.status == A.VOTING.value) & (Ballot.closes_at <= now)))
    ))


def write_minutes(actor, now: dt.datetime, assembly: Assembly, *, minutes: str, attendance: int | None,
                  bodies_present: str | None) -> Assembly:
    permissions.require(actor, "manage_assemblies", assembly)
    if assembly.status not in (A.CLOSED.value, A.MINUTED.value):
        raise InvalidTransition(_("Minutes can be written once voting has closed."))
    text = clean_plain(minutes)
    if not text:
        raise ValidationFailed(_("Please write the minutes."), "minutes")
    if len(text) > 50000:
        raise ValidationFailed(ngettext("The text may be at most %(num)s character long.",
                                        "The text may be at most %(num)s characters long.", 50000), "minutes")
    if attendance is not None and attendance < 0:
        raise ValidationFailed(_("Enter a number of at least 0."), "attendance")
    bodies = clean_plain(bodies_present or "") or None
    if bodies and len(bodies) > 500:
        raise ValidationFailed(ngettext("At most %(num)s character.",
                                        "At most %(num)s characters.", 500), "bodies_present")
    assembly.minutes, assembly.minutes_html = text, render_markdown(text)
    assembly.attendance, assembly.bodies_present = attendance, bodies
    if assembly.status == A.CLOSED.value:
        move_status(assembly, A.CLOSED, A.MINUTED, now)
    assembly.updated_at = now
    db.session.flush()
    record(actor, "assembly.minutes", assembly, now, attendance=attendance)
    return assembly


def record_paper_count(actor, now: dt.datetime, assembly: Assembly, item_id: int, *, yes: int, no: int,
                       abstain: int) -> AgendaItem:
    """A count taken in the room; shown beside the online result, never added to it."""
    permissions.require(actor, "manage_assemblies", assembly)
    if assembly.status == A.DRAFT.value:
        raise InvalidTransition(_("Announce the session first."))
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.assembly_id != assembly.id:
        raise NotFound(_("There is no such agenda item."))
    if min(yes, no, abstain) < 0:
        raise ValidationFailed(_("Enter a number of at least 0."), "yes")
    item.paper_yes, item.paper_no, item.paper_abstain, item.paper_entered_at = yes, no, abstain, now
    db.session.flush()
    record(actor, "assembly.paper_count", assembly, now, item=item.id, yes=yes, no=no, abstain=abstain)
    return item
