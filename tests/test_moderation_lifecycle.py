"""Moderation cannot break a lifecycle: reports never hide an item of a session that is announced or
voting (the muhtar's queue gets it instead), and a hidden item keeps its place on the agenda, in
the ballot, in the result and on its way to a body."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assembly.assemblies import services as assemblies
from assembly.cases import services as cases
from assembly.db import db
from assembly.errors import ValidationFailed
from assembly.notifications.models import Notification
from assembly.proposals import discussion, moderation
from assembly.proposals.models import ModerationAction, Proposal, ProposalStatus, Report
from tests import assembly_factories as af
from tests import factories
from tests.assembly_factories import CLOSES, HOUR, OPENS, PREPARED, client_of, committed
from tests.support import text

S = ProposalStatus
PHONE = "Private phone number in the text"


def _open_reports(target) -> int:
    column = Report.comment_id if isinstance(target, discussion.Comment) else Report.proposal_id
    return db.session.scalar(select(func.count()).select_from(Report)
                             .where(column == target.id, Report.resolved_at.is_(None)))


def _actions(hood) -> list[str]:
    return list(db.session.scalars(select(ModerationAction.action)
                                   .where(ModerationAction.neighbourhood_id == hood.id).order_by(ModerationAction.id)))


def _session(stage: str, **kwargs) -> af.Session:
    return {"draft": af.draft, "announced": af.announced, "voting": af.voting_open}[stage](**kwargs)


# --- reports on a live agenda -------------------------------------------------------------------------

@pytest.mark.parametrize("stage", ["announced", "voting"])
def test_reports_never_hide_an_item_of_a_live_session_they_wait_for_the_muhtar(ctx, stage):
    s = _session(stage, items=1, voters=4)
    [proposal] = s.proposals
    comment = discussion.add_comment(s.w.author, PREPARED, proposal, "A comment on the item")
    assert moderation.auto_hide_threshold(s.hood) <= len(s.voters)
    for voter in s.voters:
        for target in (proposal, comment):
            moderation.report(voter, OPENS, target, "Spam")
    assert (proposal.hidden_at, comment.hidden_at) == (None, None)
    assert (proposal.status, _open_reports(proposal), _open_reports(comment)) == (S.ON_AGENDA.value, 4, 4)
    assert _actions(s.hood) == []
    items = moderation.queue(s.muhtar, s.hood)
    assert [(item.is_comment, item.held, len(item.reports)) for item in items] == [(False, True, 4), (True, True, 4)]


def test_once_the_vote_is_over_reports_hide_again(ctx):
    s = af.voting_open(items=1, voters=3)
    [proposal] = s.proposals
    for voter in s.voters:
        moderation.report(voter, OPENS, proposal, "Spam")
    af.closed(s, [])
    assert proposal.status == S.REJECTED.value and proposal.hidden_at is None
    [item] = moderation.queue(s.muhtar, s.hood)
    assert not item.held
    moderation.report(factories.resident(s.hood), CLOSES + HOUR, proposal, "Spam")
    assert proposal.hidden_at == CLOSES + HOUR and proposal.status == S.REJECTED.value
    assert _actions(s.hood) == ["auto_hide"]


def test_an_item_of_a_draft_session_is_hidden_and_can_still_leave_the_agenda(ctx):
    s = af.draft(items=2, voters=3)
    proposal = s.proposals[0]
    for voter in s.voters:
        moderation.report(voter, PREPARED, proposal, "Spam")
    assert proposal.hidden_at == PREPARED and proposal.status == S.ON_AGENDA.value
    assemblies.remove_agenda_item(s.muhtar, PREPARED, s.assembly, s.assembly.items[0].id)
    assert proposal.status == S.OPEN.value and proposal.hidden_at == PREPARED


def test_a_hidden_proposal_does_not_go_onto_an_agenda(ctx):
    s = af.draft(items=1, voters=1)
    waiting = af.ready_proposal(s.w)
    moderation.hide(s.muhtar, PREPARED, waiting, "Spam")
    assert waiting not in assemblies.candidates(s.hood)
    with pytest.raises(ValidationFailed, match="hidden proposal"):
        assemblies.add_agenda_item(s.muhtar, PREPARED, s.assembly, waiting.id)
    moderation.restore(s.muhtar, PREPARED, waiting, "Not spam")
    assert waiting in assemblies.candidates(s.hood)
    assemblies.add_agenda_item(s.muhtar, PREPARED, s.assembly, waiting.id)
    assert waiting.status == S.ON_AGENDA.value


def test_the_queue_page_tells_the_muhtar_why_an_item_was_not_hidden(app):
    with committed(app):
        s = af.voting_open(items=1, voters=3)
        for voter in s.voters:
            moderation.report(voter, OPENS, s.proposals[0], "Spam")
        muhtar, slug = s.muhtar, s.hood.slug
    page = text(client_of(app, muhtar).get(f"/n/{slug}/reports"))
    assert "On the agenda of a session that is announced or voting" in page


# --- hiding during a vote ---------------------------------------------------------------------------

@pytest.mark.parametrize("restore_before_forwarding", [True, False])
def test_an_item_hidden_during_the_vote_is_counted_accepted_and_forwarded(ctx, restore_before_forwarding):
    s = af.voting_open("yes_no", "open", items=2, voters=3)
    hidden, other = s.proposals
    with pytest.raises(ValidationFailed):
        moderation.hide(s.muhtar, OPENS, hidden, "  ")  # during a vote as always: a public reason
    moderation.hide(s.muhtar, OPENS, hidden, PHONE)
    assert (hidden.status, hidden.hidden_reason) == (S.ON_AGENDA.value, PHONE)

    result = af.closed(s, [af.yes_no(s, "yes", "no")] * 3)  # the vote goes on while it is hidden
    assert set(result.result["accepted"]) == {s.items[0]}
    assert (hidden.status, other.status) == (S.ACCEPTED.value, S.REJECTED.value)
    assert hidden.hidden_at == OPENS  # closing the ballot moved the status, not the display
    told = db.session.scalars(select(Notification.params).where(
        Notification.user_id == s.w.author.id, Notification.kind == "proposal_status").order_by(Notification.id))
    assert [params["status"] for params in told if params["title"] == hidden.title][-1] == S.ACCEPTED.value

    if restore_before_forwarding:
        moderation.restore(s.muhtar, CLOSES + HOUR, hidden, "The number was removed")
        assert (hidden.status, hidden.hidden_at) == (S.ACCEPTED.value, None)
    body = factories.body(s.hood.municipality)
    case = cases.forward(s.muhtar, CLOSES + 2 * HOUR, hidden, body)  # accepted: no reason needed
    assert hidden.status == S.FORWARDED.value and case.forward_reason is None
    assert case.vote_result["outcome"] == "accepted"
    db.session.expire_all()
    stored = db.session.get(Proposal, hidden.id)
    assert stored.status == S.FORWARDED.value
    assert (stored.hidden_at is None) == restore_before_forwarding
    labels = [entry.label for entry in moderation.history(stored)]
    expected = ["On the agenda", "Hidden by moderation", "Accepted"]
    expected += ["Restored", "Forwarded"] if restore_before_forwarding else ["Forwarded"]
    assert labels[-len(expected):] == expected


def test_restoring_after_the_vote_never_moves_the_item_back(ctx):
    s = af.voting_open("yes_no", "open", items=1, voters=2)
    [proposal] = s.proposals
    moderation.hide(s.muhtar, OPENS, proposal, PHONE)
    af.closed(s, [af.yes_no(s, "no")] * 2)
    assert proposal.status == S.REJECTED.value
    moderation.restore(s.muhtar, CLOSES, proposal, "Fixed")
    moderation.hide(s.muhtar, CLOSES, proposal, PHONE)
    moderation.restore(s.muhtar, CLOSES, proposal, "Fixed again")
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status == S.REJECTED.value
    assert _actions(s.hood) == ["hide", "restore", "hide", "restore"]


def test_the_muhtar_hides_through_the_page_during_the_vote_and_voters_still_vote(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "open", items=2, voters=2, titles=["Call 0555 123 45 67", "Benches"])
        url, items, voters, muhtar = s.url, s.items, s.voters, s.muhtar
        proposal_url = f"/n/{s.hood.slug}/p/{s.proposals[0].id}"
    clock.now = OPENS + HOUR
    moderator = client_of(app, muhtar)
    assert moderator.post(proposal_url + "/moderate/hide", data={"reason": ""}).status_code == 400
    assert moderator.post(proposal_url + "/moderate/hide", data={"reason": PHONE}).status_code == 302
    for voter in voters:
        client = client_of(app, voter)
        page = text(client.get(url))
        assert "Call 0555" not in page and "Proposal hidden by moderation" in page
        response = client.post(f"{url}/vote", data={f"item-{items[0]}": "yes", f"item-{items[1]}": "yes"})
        assert response.status_code == 303
    assert "Call 0555" in text(moderator.get(url))  # the muhtar still sees what was hidden
    clock.now = CLOSES
    af.tick(app, CLOSES)
    results = text(client_of(app).get(url))
    assert "Results" in results and "Call 0555" not in results
    with app.app_context():
        assert db.session.scalar(select(Proposal.status).where(Proposal.title == "Call 0555 123 45 67")) == \
            S.ACCEPTED.value
