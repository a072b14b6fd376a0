"""Reports and moderation: only residents of the neighbourhood report, once each; auto-hide at a
threshold that scales with the neighbourhood; hide/restore/dismiss with a public reason, the audit
trail, and the append-only moderation log. (Hiding during a vote: test_moderation_lifecycle.py.)"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from assembly import config
from assembly.audit.models import AuditEvent
from assembly.db import db
from assembly.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from assembly.notifications.models import Notification
from assembly.notifications.services import render_notification
from assembly.proposals import discussion, moderation, services
from assembly.proposals.models import ModerationAction, Proposal, ProposalEvent, ProposalStatus, Report
from assembly.proposals.services import ProposalFilters
from tests import factories
from tests import proposal_factories as pf
from tests.assembly_factories import client_of, committed

S = ProposalStatus
T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def proposal(w):
    return pf.proposal(w, title="Noise at night", now=T0)


def _trail(neighbourhood) -> list[tuple[str, str | None, int | None]]:
    """(action, reason, moderator) of the moderation log and the matching audit events."""
    actions = db.session.scalars(select(ModerationAction).where(ModerationAction.neighbourhood_id == neighbourhood.id)
                                 .order_by(ModerationAction.id))
    return [(a.action, a.reason, a.moderator_id) for a in actions]


def _audit(neighbourhood) -> list[tuple[str, int | None, str | None]]:
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.neighbourhood_id == neighbourhood.id,
                                                         AuditEvent.action.like("moderation.%"))
                                .order_by(AuditEvent.id))
    return [(e.action, e.actor_id, e.detail.get("reason")) for e in events]


def _open_reports(target) -> int:
    column = Report.comment_id if isinstance(target, discussion.Comment) else Report.proposal_id
    return db.session.scalar(select(func.count()).select_from(Report)
                             .where(column == target.id, Report.resolved_at.is_(None)))


def _residents(w, count: int) -> list:
    return [factories.resident(w.hood) for _ in range(count)]


def _events(proposal) -> list[tuple[str | None, str]]:
    return [(e.from_status, e.to_status) for e in services.events(proposal)]


# --- who may report --------------------------------------------------------------------------

def test_three_accounts_that_belong_nowhere_can_neither_report_nor_hide(w, proposal):
    """The attack: self-registered accounts of no neighbourhood hid anything anywhere by reports."""
    comment = discussion.add_comment(w.author, T0, proposal, "Shouting")
    outsiders = [factories.user() for _ in range(3)]
    for outsider in outsiders:
        for target in (proposal, comment):
            with pytest.raises(NotAllowed):
                moderation.report(outsider, T0, target, "Spam")
            for service in (moderation.hide, moderation.restore, moderation.dismiss_reports):
                with pytest.raises(NotAllowed):
                    service(outsider, T0, target, "Spam")
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0
    assert (proposal.hidden_at, proposal.report_count, comment.hidden_at, comment.report_count) == (None, 0, None, 0)
    assert _trail(w.hood) == []


def test_outsiders_get_403_from_the_report_pages(app):
    with committed(app):
        w = pf.world()
        proposal = pf.proposal(w, title="Noise at night", now=T0)
        comment = discussion.add_comment(w.author, T0, proposal, "Shouting")
        outsiders = [factories.user() for _ in range(3)]
        neighbour = factories.resident(w.hood)
        url = f"/n/{w.hood.slug}/p/{proposal.id}"
        comment_url = f"{url}/comments/{comment.id}"
    for outsider in outsiders:
        client = client_of(app, outsider)
        assert client.post(url + "/report", data={"reason": "Spam"}).status_code == 403
        assert client.post(comment_url + "/report", data={"reason": "Spam"}).status_code == 403
        assert client.post(url + "/moderate/hide", data={"reason": "Spam"}).status_code == 403
        page = client.get(url).get_data(as_text=True)
        assert "Report this proposal" not in page and ">Report</summary>" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 0
        assert db.session.scalar(select(Proposal.hidden_at)) is None
    page = client_of(app, neighbour).get(url).get_data(as_text=True)
    assert "Report this proposal" in page and ">Report</summary>" in page


@pytest.mark.parametrize("who", ["resident elsewhere", "pending resident", "muhtar elsewhere", "muhtar",
                                 "admin", "visitor"])
def test_only_verified_residents_of_the_neighbourhood_report(w, proposal, who):
    person = {"resident elsewhere": lambda: factories.resident(factories.neighbourhood()),
              "pending resident": lambda: factories.pending(w.hood).user,
              "muhtar elsewhere": lambda: factories.muhtar(factories.neighbourhood()),
              "muhtar": lambda: w.muhtar,  # moderates directly instead
              "admin": factories.admin, "visitor": AnonymousUserMixin}[who]()
    comment = discussion.add_comment(w.author, T0, proposal, "Text")
    for target in (proposal, comment):
        with pytest.raises(NotAllowed):
            moderation.report(person, T0, target, "Spam")
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_one_report_per_person_and_target(w, proposal):
    reporter = factories.resident(w.hood)
    comment = discussion.add_comment(w.author, T0, proposal, "Shouting")
    moderation.report(reporter, T0, proposal, "Personal data")
    with pytest.raises(DomainError, match="already reported"):
        moderation.report(reporter, T0, proposal, "Again")
    moderation.report(reporter, T0, comment, "Rude")  # a different target is a different report
    with pytest.raises(DomainError, match="already reported"):
        moderation.report(reporter, T0, comment, "Again")
    assert proposal.report_count == 1 and comment.report_count == 1
    assert db.session.scalar(select(func.count()).select_from(Report).where(Report.reporter_id == reporter.id)) == 2


@pytest.mark.parametrize("target", ["proposal", "comment"])
def test_the_database_itself_refuses_a_second_report(w, proposal, target):
    reporter = factories.resident(w.hood)
    row = {"neighbourhood_id": w.hood.id, "reporter_id": reporter.id, "reason": "Spam", "created_at": T0,
           "proposal_id": proposal.id if target == "proposal" else None,
           "comment_id": discussion.add_comment(w.author, T0, proposal, "x").id if target == "comment" else None}
    db.session.execute(insert(Report).values(**row))
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(insert(Report).values(**row))


def test_a_report_needs_a_reason_and_a_login(w, proposal):
    with pytest.raises(ValidationFailed):
        moderation.report(factories.resident(w.hood), T0, proposal, "  ")
    with pytest.raises(NotAllowed):
        moderation.report(AnonymousUserMixin(), T0, proposal, "Spam")


def test_drafts_and_hidden_content_take_no_reports(w, proposal):
    neighbour = factories.resident(w.hood)
    draft = pf.proposal(w, publish=False)
    with pytest.raises(InvalidTransition):
        moderation.report(w.author, T0, draft, "My own draft")
    moderation.hide(w.muhtar, T0, proposal, "Spam")
    with pytest.raises(DomainError, match="already hidden"):
        moderation.report(neighbour, T0, proposal, "Spam")
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


# --- the automatic threshold --------------------------------------------------------------------

@pytest.mark.parametrize("residents, percent, minimum, expected", [
    (0, 2, 3, 3), (150, 2, 3, 3), (151, 2, 3, 4), (1000, 2, 3, 20), (20000, 2, 3, 400),
    (1000, 1.1, 3, 11),  # no rounding up of a binary fraction: 1.1 % of 1000 is 11, not 12
    (1000, 0.5, 1, 5), (1000, 0, 3, 3), (7, 50, 1, 4),
])
def test_the_threshold_is_a_share_of_the_verified_residents_with_a_minimum(ctx, monkeypatch, residents, percent,
                                                                            minimum, expected):
    monkeypatch.setitem(ctx.config, "AUTO_HIDE_REPORT_PERCENT", percent)
    monkeypatch.setitem(ctx.config, "AUTO_HIDE_MIN_REPORTS", minimum)
    assert moderation.auto_hide_threshold(SimpleNamespace(verified_resident_count=residents)) == expected


def _settings(tmp_path, **overrides) -> dict:
    settings = config.defaults(tmp_path) | {"ASSEMBLY_ENV": "testing"}
    settings.update(config.from_environment())
    settings.update(overrides)
    config.finalise(settings)
    return settings


def test_the_threshold_settings_are_read_and_checked_at_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSEMBLY_AUTO_HIDE_REPORT_PERCENT", "0.5")
    monkeypatch.setenv("AUTO_HIDE_MIN_REPORTS", "5")
    settings = _settings(tmp_path)
    assert (settings["AUTO_HIDE_REPORT_PERCENT"], settings["AUTO_HIDE_MIN_REPORTS"]) == (0.5, 5)
    for name, value in (("ASSEMBLY_AUTO_HIDE_REPORT_PERCENT", "half"), ("ASSEMBLY_AUTO_HIDE_REPORT_PERCENT", "nan"),
                        ("ASSEMBLY_AUTO_HIDE_REPORT_PERCENT", "101"), ("AUTO_HIDE_MIN_REPORTS", "0")):
        with monkeypatch.context() as changed:
            changed.setenv(name, value)
            with pytest.raises(config.ConfigError, match=name.removeprefix("ASSEMBLY_")):
                _settings(tmp_path)
    # The old single number would silently mean something else now: refused, with what replaced it.
    monkeypatch.setenv("AUTO_HIDE_REPORTS", "10")
    with pytest.raises(config.ConfigError, match="replaced by AUTO_HIDE_MIN_REPORTS"):
        _settings(tmp_path)


def test_the_threshold_follows_the_residents_of_the_neighbourhood(ctx, monkeypatch, w, proposal):
    monkeypatch.setitem(ctx.config, "AUTO_HIDE_REPORT_PERCENT", 50)
    monkeypatch.setitem(ctx.config, "AUTO_HIDE_MIN_REPORTS", 2)
    reporters = _residents(w, 7)
    assert w.hood.verified_resident_count == 8  # the author and seven neighbours: half is 4
    assert moderation.auto_hide_threshold(w.hood) == 4
    for reporter in reporters[:3]:
        moderation.report(reporter, T0, proposal, "Spam")
    assert proposal.hidden_at is None and proposal.report_count == 3
    moderation.report(reporters[3], T0, proposal, "Spam")
    assert proposal.hidden_at == T0

    small = pf.world()  # one resident: half of it is less than the minimum of 2
    target = pf.proposal(small, now=T0)
    first, second = _residents(small, 2)
    assert moderation.auto_hide_threshold(small.hood) == 2
    moderation.report(first, T0, target, "Spam")
    assert target.hidden_at is None
    moderation.report(second, T0, target, "Spam")
    assert target.hidden_at == T0


def test_enough_distinct_reporters_hide_a_proposal_pending_review(ctx, w, proposal):
    threshold = moderation.auto_hide_threshold(w.hood)
    reporters = _residents(w, threshold)
    events = _events(proposal)
    for reporter in reporters[:-1]:
        moderation.report(reporter, T0, proposal, "Phone number")
    assert proposal.hidden_at is None

    moderation.report(reporters[-1], T0, proposal, "Phone number")
    db.session.expire_all()
    hidden = db.session.get(Proposal, proposal.id)
    assert (hidden.status, hidden.hidden_at, hidden.hidden_reason) == (S.OPEN.value, T0, None)
    assert _events(hidden) == events  # hiding is not a status change
    assert _trail(w.hood) == [("auto_hide", "", None)]
    assert _audit(w.hood) == [("moderation.auto_hide", None, None)]
    assert _open_reports(hidden) == threshold  # still waiting for the muhtar
    [item] = moderation.queue(w.muhtar, w.hood)
    assert item.target.id == proposal.id and len(item.reports) == threshold and not item.held
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == w.author.id,
                                                           Notification.kind == "content_hidden"))
    assert render_notification(note).endswith("Reason: several reports, pending review")
    assert proposal.id not in [p.id for p in services.list_proposals(w.muhtar, w.hood, ProposalFilters()).items]
    hidden_list = services.list_proposals(w.muhtar, w.hood, ProposalFilters(status=services.HIDDEN_FILTER))
    assert [p.id for p in hidden_list.items] == [proposal.id]


def test_enough_reports_hide_a_comment(ctx, w, proposal):
    comment = discussion.add_comment(w.author, T0, proposal, "Insult")
    for reporter in _residents(w, moderation.auto_hide_threshold(w.hood)):
        moderation.report(reporter, T0, comment, "Insult")
    assert comment.hidden_at == T0 and comment.hidden_reason is None
    assert _trail(w.hood) == [("auto_hide", "", None)]
    assert proposal.comment_count == 1  # hidden, not deleted
    assert proposal.hidden_at is None


# --- the muhtar ----------------------------------------------------------------------------------

def test_the_muhtar_hides_and_restores_with_public_reasons(w, proposal):
    reporter = factories.resident(w.hood)
    moderation.report(reporter, T0, proposal, "Phone number")
    services.transition(proposal, S.ON_AGENDA, w.muhtar, T0)
    events = _events(proposal)

    moderation.hide(w.muhtar, T0, proposal, "Contains a private phone number")
    assert (proposal.status, proposal.hidden_at) == (S.ON_AGENDA.value, T0)
    assert proposal.hidden_reason == "Contains a private phone number"
    assert _open_reports(proposal) == 0  # deciding closes the reports
    assert moderation.queue(w.muhtar, w.hood) == []

    later = T0 + dt.timedelta(hours=1)
    moderation.restore(w.muhtar, later, proposal, "The number was removed")
    assert (proposal.status, proposal.hidden_at, proposal.hidden_reason) == (S.ON_AGENDA.value, None, None)
    assert _events(proposal) == events
    db.session.expire_all()
    stored = db.session.get(Proposal, proposal.id)
    assert (stored.status, stored.hidden_at, stored.hidden_reason) == (S.ON_AGENDA.value, None, None)
    assert _trail(w.hood) == [("hide", "Contains a private phone number", w.muhtar.id),
                              ("restore", "The number was removed", w.muhtar.id)]
    assert _audit(w.hood) == [("moderation.hide", w.muhtar.id, "Contains a private phone number"),
                              ("moderation.restore", w.muhtar.id, "The number was removed")]
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == w.author.id,
                                                               Notification.kind.like("content_%"))
                               .order_by(Notification.id)).all()
    assert kinds == ["content_hidden", "content_restored"]
    history = [(e.label, e.reason) for e in moderation.history(stored)]
    assert history[-3:] == [("On the agenda", None), ("Hidden by moderation", "Contains a private phone number"),
                            ("Restored", "The number was removed")]


@pytest.mark.parametrize("status", [S.OPEN, S.ON_AGENDA, S.ACCEPTED, S.REJECTED, S.FORWARDED, S.WITHDRAWN])
def test_hiding_and_restoring_never_change_the_status(w, proposal, status):
    db.session.execute(update(Proposal).where(Proposal.id == proposal.id).values(status=status.value))
    db.session.refresh(proposal)
    events = db.session.scalar(select(func.count()).select_from(ProposalEvent))
    moderation.hide(w.muhtar, T0, proposal, "Spam")
    moderation.restore(w.muhtar, T0, proposal, "Not spam")
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status == status.value
    assert db.session.scalar(select(func.count()).select_from(ProposalEvent)) == events


def test_hide_and_restore_a_comment(w, proposal):
    comment = discussion.add_comment(w.author, T0, proposal, "You are all idiots")
    moderation.hide(w.muhtar, T0, comment, "Insults")
    assert (comment.hidden_at, comment.hidden_reason) == (T0, "Insults")
    moderation.restore(w.muhtar, T0, comment, "Apologised")
    assert (comment.hidden_at, comment.hidden_reason) == (None, None)
    assert [a for a, _, _ in _trail(w.hood)] == ["hide", "restore"]
    assert db.session.scalar(select(ModerationAction.comment_id).where(
        ModerationAction.neighbourhood_id == w.hood.id).limit(1)) == comment.id
    assert [e.label for e in moderation.history(proposal)] == ["Draft", "Open"]  # a comment's moderation is not


def test_dismissing_closes_the_reports_and_keeps_the_content(ctx, w, proposal):
    threshold = moderation.auto_hide_threshold(w.hood)
    reporters = _residents(w, threshold)
    for reporter in reporters[:-1]:
        moderation.report(reporter, T0, proposal, "I disagree")
    moderation.dismiss_reports(w.muhtar, T0, proposal, "Disagreement is not abuse")
    assert proposal.hidden_at is None and proposal.report_count == 0
    assert _open_reports(proposal) == 0
    assert _trail(w.hood) == [("dismiss", "Disagreement is not abuse", w.muhtar.id)]
    assert _audit(w.hood) == [("moderation.dismiss", w.muhtar.id, "Disagreement is not abuse")]
    # One more report does not reach the auto-hide threshold again at once.
    moderation.report(reporters[-1], T0, proposal, "Still disagree")
    assert proposal.hidden_at is None


def test_moderation_refusals(w, proposal):
    with pytest.raises(ValidationFailed):
        moderation.hide(w.muhtar, T0, proposal, "")
    moderation.hide(w.muhtar, T0, proposal, "Spam")
    with pytest.raises(InvalidTransition):
        moderation.hide(w.muhtar, T0, proposal, "Spam again")
    with pytest.raises(InvalidTransition):
        moderation.dismiss_reports(w.muhtar, T0, proposal, "Nothing wrong")
    with pytest.raises(ValidationFailed):
        moderation.restore(w.muhtar, T0, proposal, " ")
    moderation.restore(w.muhtar, T0, proposal, "Fine")
    with pytest.raises(InvalidTransition):
        moderation.restore(w.muhtar, T0, proposal, "Fine again")
    draft = pf.proposal(w, publish=False)
    with pytest.raises(InvalidTransition):
        moderation.hide(w.muhtar, T0, draft, "Drafts are private")
    assert [a for a, _, _ in _trail(w.hood)] == ["hide", "restore"]


def test_a_hide_decided_in_another_request_is_not_applied_twice(w, proposal):
    """Two muhtars press "hide" at once: the stored state decides, not what each request read."""
    db.session.execute(update(Proposal).where(Proposal.id == proposal.id).values(hidden_at=T0, hidden_reason="A")
                       .execution_options(synchronize_session=False))
    assert proposal.hidden_at is None  # what this request read before the other one hid it
    with pytest.raises(InvalidTransition):
        moderation.hide(w.muhtar, T0, proposal, "B")
    assert [a for a, _, _ in _trail(w.hood)] == []


@pytest.mark.parametrize("who", ["muhtar elsewhere", "resident", "author", "admin"])
def test_only_the_muhtar_of_the_neighbourhood_moderates(w, proposal, who):
    person = {"muhtar elsewhere": lambda: factories.muhtar(factories.neighbourhood()),
              "resident": lambda: factories.resident(w.hood), "author": lambda: w.author,
              "admin": factories.admin}[who]()
    comment = discussion.add_comment(w.author, T0, proposal, "Text")
    for target in (proposal, comment):
        for service in (moderation.hide, moderation.dismiss_reports):
            with pytest.raises(NotAllowed):
                service(person, T0, target, "Because")
    with pytest.raises(NotAllowed):
        moderation.queue(person, w.hood)
    moderation.hide(w.muhtar, T0, proposal, "Spam")
    with pytest.raises(NotAllowed):
        moderation.restore(person, T0, proposal, "Not spam")
    assert proposal.hidden_at is not None and comment.hidden_at is None
    assert [a for a, _, _ in _trail(w.hood)] == ["hide"]


def test_the_queue_groups_reports_by_target(w, proposal):
    comment = discussion.add_comment(w.author, T0, proposal, "Text")
    a, b = _residents(w, 2)
    moderation.report(a, T0, proposal, "One")
    moderation.report(a, T0, comment, "Two")
    moderation.report(b, T0, proposal, "Three")
    items = moderation.queue(w.muhtar, w.hood)
    assert [(item.is_comment, [r.reason for r in item.reports]) for item in items] == [
        (False, ["One", "Three"]), (True, ["Two"])]


def test_the_log_is_newest_first_and_pages(w, proposal):
    for i in range(3):
        moderation.hide(w.muhtar, T0, proposal, f"Hide {i}")
        moderation.restore(w.muhtar, T0, proposal, f"Restore {i}")
    log = moderation.moderation_log(w.hood, limit=4)
    assert [e.reason for e in log] == ["Restore 2", "Hide 2", "Restore 1", "Hide 1"]
    older = moderation.moderation_log(w.hood, before_id=log[-1].id)
    assert [e.reason for e in older] == ["Restore 0", "Hide 0"]
    assert moderation.moderation_log(pf.world().hood) == []


def test_moderation_actions_are_append_only(w, proposal):
    entry = moderation.hide(w.muhtar, T0, proposal, "Spam")
    for statement in (text("UPDATE moderation_actions SET reason = 'nothing happened' WHERE id = :id"),
                      text("DELETE FROM moderation_actions WHERE id = :id")):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(statement, {"id": entry.id})
    db.session.expire_all()
    assert db.session.get(ModerationAction, entry.id).reason == "Spam"
