"""Reports and moderation: hide and restore with a public reason, auto-hide after reports."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from assembly import permissions
from assembly.audit.services import record
from assembly.db import db
from assembly.errors import DomainError, InvalidTransition, ValidationFailed
from assembly.notifications.services import notify
from assembly.proposals.models import Comment, ModerationAction, Proposal, ProposalStatus, Report
from assembly.proposals.services import _move, proposal_link
from assembly.text import clean_plain

Target = Proposal | Comment


def _reason(reason: str, required: bool = True) -> str:
    text = clean_plain(reason)
    if required and not text:
        raise ValidationFailed(_("Please give a reason."), "reason")
    if len(text) > 500:
        raise ValidationFailed(_("The reason may be at most %(num)d characters long.", num=500), "reason")
    return text


def _proposal_of(target: Target) -> Proposal:
    return target if isinstance(target, Proposal) else target.proposal


def _is_hidden(target: Target) -> bool:
    if isinstance(target, Proposal):
        return target.status == ProposalStatus.HIDDEN.value
    return target.hidden_at is not None


def report(actor, now: dt.datetime, target: Target, reason: str) -> Report:
    """Report content; enough reports from different people hide it until the muhtar reviews it."""
    permissions.require(actor, "report", target)
    text = _reason(reason)
    proposal = _proposal_of(target)
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
    if count >= current_app.config["AUTO_HIDE_REPORTS"] and not _is_hidden(target):
        _hide(None, now, target, "", action="auto_hide")
    return row


def hide(actor, now: dt.datetime, target: Target, reason: str) -> ModerationAction:
    permissions.require(actor, "moderate", _proposal_of(target))
    if _is_hidden(target):
        raise InvalidTransition(_("This is already hidden."))
    return _hide(actor, now, target, _reason(reason), action="hide")


def _hide(actor, now: dt.datetime, target: Target, reason: str, action: str) -> ModerationAction:
    if isinstance(target, Proposal):
        previous = ProposalStatus(target.status)
        if previous == ProposalStatus.DRAFT:
            raise InvalidTransition(_("Drafts are not public and cannot be moderated."))
        target.status_before_hidden = previous.value
        target.hidden_reason = reason or None
        db.session.flush()
        _move(target, previous, ProposalStatus.HIDDEN, actor, now, reason or None)
    else:
        target.hidden_at = now
        target.hidden_reason = reason or None
    if action == "hide":
        _resolve_reports(target, now)
    return _log(actor, now, target, action, reason, notify_kind="content_hidden")


def restore(actor, now: dt.datetime, target: Target, reason: str) -> ModerationAction:
    permissions.require(actor, "moderate", _proposal_of(target))
    if not _is_hidden(target):
        raise InvalidTransition(_("This is not hidden."))
    text = _reason(reason)
    if isinstance(target, Proposal):
        previous = ProposalStatus(target.status_before_hidden or ProposalStatus.OPEN.value)
        _move(target, ProposalStatus.HIDDEN, previous, actor, now, text)
        target.status_before_hidden = None
        target.hidden_reason = None
    else:
        target.hidden_at = None
        target.hidden_reason = None
    _resolve_reports(target, now)
    return _log(actor, now, target, "restore", text, notify_kind="content_restored")


def dismiss_reports(actor, now: dt.datetime, target: Target, reason: str) -> ModerationAction:
    """The muhtar looked and found nothing wrong: close the reports, keep the content."""
    permissions.require(actor, "moderate", _proposal_of(target))
    if _is_hidden(target):
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
        notify(target.author, notify_kind, now, link=proposal_link(proposal), title=proposal.title, reason=reason)
    return entry


@dataclass
class QueueItem:
    target: Target
    reports: list[Report] = field(default_factory=list)

    @property
    def is_comment(self) -> bool:
        return isinstance(self.target, Comment)


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
    return list(items.values())


def moderation_log(neighbourhood, before_id: int | None = None, limit: int = 50) -> list[ModerationAction]:
    query = (select(ModerationAction)
             .options(joinedload(ModerationAction.moderator), joinedload(ModerationAction.proposal))
             .where(ModerationAction.neighbourhood_id == neighbourhood.id)
             .order_by(ModerationAction.id.desc()).limit(limit))
    if before_id:
        query = query.where(ModerationAction.id < before_id)
    return list(db.session.scalars(query))
