"""Reports and moderation: hide and restore with a public reason, auto-hide after reports.

Hiding is about what is shown, never about a proposal's lifecycle: a hidden proposal keeps its
status and its place on the agenda, in the ballot and on the way to a body, and restoring only
shows it again. Only verified residents of the neighbourhood report, once each. Reports from a
share of its verified residents (at least a minimum) hide an item until the muhtar looks, except
an item on the agenda of a session that is announced or voting: its reports wait in the queue.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, literal, null, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from assembly import permissions
from assembly.accounts.models import User
from assembly.assemblies.models import AgendaItem, Assembly, AssemblyStatus
from assembly.audit.services import record
from assembly.db import db
from assembly.errors import DomainError, InvalidTransition, ValidationFailed
from assembly.i18n import ngettext
from assembly.notifications.services import notify
from assembly.proposals import services
from assembly.proposals.models import (
    PROPOSAL_LIFECYCLE,
    Comment,
    ModerationAction,
    Proposal,
    ProposalEvent,
    ProposalStatus,
    Report,
)
from assembly.text import clean_plain

Target = Proposal | Comment
# Sessions whose agenda reports alone must not touch: announced to the residents, or voting.
LIVE_SESSIONS = (AssemblyStatus.ANNOUNCED.value, AssemblyStatus.VOTING.value)


def _reason(reason: str, required: bool = True) -> str:
    text = clean_plain(reason)
    if required and not text:
        raise ValidationFailed(_("Please give a reason."), "reason")
    if len(text) > 500:
        raise ValidationFailed(ngettext("The reason may be at most %(num)s character long.",
                                        "The reason may be at most %(num)s characters long.", 500), "reason")
    return text


def _proposal_of(target: Target) -> Proposal:
    return target if isinstance(target, Proposal) else target.proposal


def auto_hide_threshold(neighbourhood) -> int:
    """Reports that hide an item by themselves: a share of the verified residents, at least a minimum."""
    config = current_app.config
    share = Decimal(str(config["AUTO_HIDE_REPORT_PERCENT"])) * neighbourhood.verified_resident_count / 100
    return max(config["AUTO_HIDE_MIN_REPORTS"], math.ceil(share))


def on_live_agenda(proposal_ids) -> set[int]:
    """Those of the proposals that are on the agenda of a session that is announced or voting."""
    if not proposal_ids:
        return set()
    return set(db.session.scalars(
        select(AgendaItem.proposal_id).join(Assembly, Assembly.id == AgendaItem.assembly_id)
        .where(AgendaItem.proposal_id.in_(proposal_ids), Assembly.status.in_(LIVE_SESSIONS))
    ))


def report(actor, now: dt.datetime, target: Target, reason: str) -> Report:
    """Report content; enough reports from different residents hide it until the muhtar reviews it,
    unless it is on the agenda of a live session: then it stays visible and waits in the queue."""
    permissions.require(actor, "report", target)
    proposal = _proposal_of(target)
    if proposal.status == ProposalStatus.DRAFT.value:
        raise InvalidTransition(_("Drafts are not public and cannot be moderated."))
    if target.hidden_at is not None:
        raise DomainError(_("This is already hidden."))
    text = _reason(reason)
    row = Report(neighbourhood_id=proposal.neighbourhood_id, reporter_id=actor.id, reason=text, created_at=now,
                 proposal_id=proposal.id if isinstance(target, Proposal) else None,
                 comment_id=target.id if isinstance(target, Comment) else None)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise DomainError(_("You have already reported this.")) from None
    model = type(target)
    count = db.session.execute(
        update(model).where(model.id == target.id).values(report_count=model.report_count + 1)
        .returning(model.report_count).execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(target, "report_count", count)
    if count >= auto_hide_threshold(proposal.neighbourhood) and not on_live_agenda([proposal.id]):
        _hide(None, now, target, "", action="auto_hide")
    return row


def hide(actor, now: dt.datetime, target: Target, reason: str) -> ModerationAction:
    """Hide content behind its public reason. Only the display changes: a vote on it goes on."""
    permissions.require(actor, "moderate", _proposal_of(target))
    entry = _hide(actor, now, target, _reason(reason), action="hide")
    if entry is None:
        raise InvalidTransition(_("This is already hidden."))
    return entry


def _hide(actor, now: dt.datetime, target: Target, reason: str, action: str) -> ModerationAction | None:
    """Hide `target` and log it; None when it was hidden already (two reports at once, say)."""
    if isinstance(target, Proposal) and target.status == ProposalStatus.DRAFT.value:
        raise InvalidTransition(_("Drafts are not public and cannot be moderated."))
    if not _show_or_hide(target, now, reason or None):
        return None
    if action == "hide":
        _resolve_reports(target, now)
    return _log(actor, now, target, action, reason, notify_kind="content_hidden")


def restore(actor, now: dt.datetime, target: Target, reason: str) -> ModerationAction:
    """Show hidden content again. The proposal's status is not touched, so nothing moves backwards."""
    permissions.require(actor, "moderate", _proposal_of(target))
    text = _reason(reason)
    if not _show_or_hide(target, None, None):
        raise InvalidTransition(_("This is not hidden."))
    _resolve_reports(target, now)
    return _log(actor, now, target, "restore", text, notify_kind="content_restored")


def _show_or_hide(target: Target, hidden_at: dt.datetime | None, reason: str | None) -> bool:
    """Hide (`hidden_at` set) or show `target`; False when it already was so. Conditional on what
    is stored, so two simultaneous moderators or reports cannot both apply."""
    model = type(target)
    unchanged = model.hidden_at.is_(None) if hidden_at is not None else model.hidden_at.is_not(None)
    changed = db.session.execute(
        update(model).where(model.id == target.id, unchanged).values(hidden_at=hidden_at, hidden_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return False
    set_committed_value(target, "hidden_at", hidden_at)
    set_committed_value(target, "hidden_reason", reason)
    return True


def dismiss_reports(actor, now: dt.datetime, target: Target, reason: str) -> ModerationAction:
    """The muhtar looked and found nothing wrong: close the reports, keep the content."""
    permissions.require(actor, "moderate", _proposal_of(target))
    if target.hidden_at is not None:
        raise InvalidTransition(_("Restore the content instead: it is hidden."))
    text = _reason(reason)
    _resolve_reports(target, now)
    return _log(actor, now, target, "dismiss", text, notify_kind=None)


def _resolve_reports(target: Target, now: dt.datetime) -> None:
    column = Report.proposal_id if isinstance(target, Proposal) else Report.comment_id
    db.session.execute(
        update(Report).where(column == target.id, Report.resolved_at.is_(None)).values(resolved_at=now)
        .execution_options(synchronize_session=False))
    target.report_count = 0
    db.session.flush()


def _log(actor, now: dt.datetime, target: Target, action: str, reason: str,
         notify_kind: str | None) -> ModerationAction:
    proposal = _proposal_of(target)
    entry = ModerationAction(
        neighbourhood_id=proposal.neighbourhood_id, moderator_id=getattr(actor, "id", None), action=action,
        reason=reason, created_at=now, proposal_id=proposal.id,
        comment_id=target.id if isinstance(target, Comment) else None)
    db.session.add(entry)
    db.session.flush()
    record(actor, f"moderation.{action}", target, now, neighbourhood_id=proposal.neighbourhood_id,
           proposal=proposal.id, reason=reason or None)
    if notify_kind and target.author_id != getattr(actor, "id", None):
        # An empty reason (automatic hide) is worded when shown, in the reader's language.
        notify(target.author, notify_kind, now, link=services.proposal_link(proposal), title=proposal.title,
               reason=reason)
    return entry


@dataclass
class QueueItem:
    target: Target
    reports: list[Report] = field(default_factory=list)
    # On the agenda of a session that is announced or voting: reports never hide it by themselves.
    held: bool = False

    @property
    def is_comment(self) -> bool:
        return isinstance(self.target, Comment)

    @property
    def proposal(self) -> Proposal:
        return _proposal_of(self.target)


def queue(actor, neighbourhood) -> list[QueueItem]:
    """Open reports of the neighbourhood, grouped by what they are about, oldest first."""
    permissions.require(actor, "moderate", neighbourhood)
    reports = db.session.scalars(
        select(Report).options(joinedload(Report.reporter), joinedload(Report.proposal),
                               joinedload(Report.comment).joinedload(Comment.author))
        .where(Report.neighbourhood_id == neighbourhood.id, Report.resolved_at.is_(None))
        .order_by(Report.id)
    )
    items: dict[tuple[str, int], QueueItem] = {}
    for row in reports:
        target = row.comment if row.comment_id else row.proposal
        key = ("c" if row.comment_id else "p", target.id)
        items.setdefault(key, QueueItem(target)).reports.append(row)
    held = on_live_agenda({item.proposal.id for item in items.values()})
    for item in items.values():
        item.held = item.proposal.id in held
    return list(items.values())


def moderation_log(neighbourhood, before_id: int | None = None, limit: int = 50) -> list[ModerationAction]:
    query = (select(ModerationAction)
             .options(joinedload(ModerationAction.moderator), joinedload(ModerationAction.proposal))
             .where(ModerationAction.neighbourhood_id == neighbourhood.id)
             .order_by(ModerationAction.id.desc()).limit(limit))
    if before_id:
        query = query.where(ModerationAction.id < before_id)
    return list(db.session.scalars(query))


@dataclass
class HistoryEntry:
    at: dt.datetime
    label: str
    actor: object | None
    reason: str | None


@dataclass(frozen=True)
class HistoryActor:
    display_name: str


_HISTORY_ACTIONS = ("hide", "auto_hide", "restore")
# The status changes and the moderation of the proposal itself, with the names of who did them, in
# one statement built once (the proposal page shows the history on every view): `kind` 0 for a
# status change (`what` its new status, `was` the old one), 1 for a moderation action.
_HISTORY = union_all(
    select(ProposalEvent.created_at.label("at"), literal(0).label("kind"), ProposalEvent.id.label("seq"),
           ProposalEvent.to_status.label("what"), ProposalEvent.from_status.label("was"),
           User.display_name.label("name"), ProposalEvent.reason.label("reason"))
    .outerjoin(User, User.id == ProposalEvent.actor_id)
    .where(ProposalEvent.proposal_id == bindparam("proposal_id")),
    select(ModerationAction.created_at, literal(1), ModerationAction.id, ModerationAction.action, null(),
           User.display_name, ModerationAction.reason)
    .outerjoin(User, User.id == ModerationAction.moderator_id)
    .where(ModerationAction.proposal_id == bindparam("proposal_id"), ModerationAction.comment_id.is_(None),
           ModerationAction.action.in_(_HISTORY_ACTIONS)))


# Translated when a history shows one (most show none).
_HISTORY_LABELS = {"hide": _l("Hidden by moderation"), "auto_hide": _l("Hidden automatically after reports"),
                   "restore": _l("Restored")}


def history(proposal: Proposal) -> list[HistoryEntry]:
    """The proposal's status changes, and the hiding and showing of the proposal itself, in time order
    (status changes first at the same moment, each kind in the order it was recorded)."""
    entries = []
    for row in sorted(db.read(_HISTORY, {"proposal_id": proposal.id}), key=lambda row: (row.at, row.kind, row.seq)):
        actor = HistoryActor(row.name) if row.name is not None else None
        if row.kind == 1:
            entries.append(HistoryEntry(row.at, str(_HISTORY_LABELS[row.what]), actor, row.reason or None))
        # Recorded while hiding was a status; the moderation actions tell the same.
        elif services.FORMER_HIDDEN_STATUS not in (row.was, row.what):
            entries.append(HistoryEntry(row.at, PROPOSAL_LIFECYCLE.label(row.what), actor, row.reason))
    return entries
