"""Comments: who may write, one level of replies, the edit window, deletion that keeps
replies, and counters that always equal a full recount."""
from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select, update

from assembly.db import db
from assembly.errors import DomainError, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from assembly.proposals import discussion, moderation, services
from assembly.proposals.models import Comment, Proposal, ProposalStatus
from tests import factories
from tests import proposal_factories as pf

S = ProposalStatus
T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def proposal(w):
    return pf.proposal(w, title="Lamps", now=T0)


def _thread_ids(proposal) -> list[tuple[int, list[int]]]:
    return [(top.id, [reply.id for reply in replies]) for top, replies in discussion.thread(proposal)]


def test_residents_and_the_muhtar_comment(w, proposal):
    neighbour = factories.resident(w.hood)
    first = discussion.add_comment(neighbour, T0, proposal, "**Yes**, it is dark")
    assert first.body == "**Yes**, it is dark"
    assert first.body_html == "<p><strong>Yes</strong>, it is dark</p>\n"
    second = discussion.add_comment(w.muhtar, T0, proposal, "I will raise it")
    assert proposal.comment_count == 2
    assert _thread_ids(proposal) == [(first.id, []), (second.id, [])]


@pytest.mark.parametrize("who", ["no membership", "pending resident", "resident elsewhere",
                                 "muhtar elsewhere", "admin"])
def test_others_may_not_comment(w, proposal, who):
    if who == "no membership":
        person = factories.user()
    elif who == "pending resident":
        person = factories.pending(w.hood).user
    elif who == "resident elsewhere":
        person = factories.resident(factories.neighbourhood())
    elif who == "muhtar elsewhere":
        person = factories.muhtar(factories.neighbourhood())
    else:
        person = factories.admin()
    with pytest.raises(NotAllowed):
        discussion.add_comment(person, T0, proposal, "Hello from outside")
    assert proposal.comment_count == 0
    assert discussion.thread(proposal) == []


@pytest.mark.parametrize("status", [S.DRAFT, S.WITHDRAWN, "hidden"])
def test_only_public_proposals_in_discussion_take_comments(w, proposal, status):
    change = {"hidden_at": T0} if status == "hidden" else {"status": status.value}  # hidden but open
    db.session.execute(update(Proposal).where(Proposal.id == proposal.id).values(**change))
    db.session.refresh(proposal)
    with pytest.raises(InvalidTransition):
        discussion.add_comment(factories.resident(w.hood), T0, proposal, "Too late")


@pytest.mark.parametrize("body", ["", "   \n  ", "\u202e"])
def test_empty_comments_are_refused(w, proposal, body):
    with pytest.raises(ValidationFailed) as refused:
        discussion.add_comment(w.author, T0, proposal, body)
    assert refused.value.field == "body"


def test_overlong_comments_are_refused(w, proposal):
    with pytest.raises(ValidationFailed):
        discussion.add_comment(w.author, T0, proposal, "x" * (discussion.COMMENT_MAX + 1))
    discussion.add_comment(w.author, T0, proposal, "x" * discussion.COMMENT_MAX)


def test_a_reply_to_a_reply_attaches_to_the_top_comment(w, proposal):
    a, b = factories.resident(w.hood), factories.resident(w.hood)
    top = discussion.add_comment(a, T0, proposal, "Top")
    reply = discussion.add_comment(b, T0, proposal, "Reply", parent_id=top.id)
    deeper = discussion.add_comment(a, T0, proposal, "Reply to the reply", parent_id=reply.id)
    other_top = discussion.add_comment(b, T0, proposal, "Another topic")
    assert (reply.parent_id, deeper.parent_id) == (top.id, top.id)
    assert _thread_ids(proposal) == [(top.id, [reply.id, deeper.id]), (other_top.id, [])]
    assert db.session.scalar(select(Comment.parent_id).where(Comment.id == deeper.id)) == top.id


def test_replies_must_belong_to_the_same_proposal(w, proposal):
    elsewhere = pf.proposal(w)
    foreign = discussion.add_comment(w.author, T0, elsewhere, "On another proposal")
    with pytest.raises(NotFound):
        discussion.add_comment(w.author, T0, proposal, "Sneaky", parent_id=foreign.id)
    with pytest.raises(NotFound):
        discussion.add_comment(w.author, T0, proposal, "Nowhere", parent_id=foreign.id + 1000)
    assert proposal.comment_count == 0


def test_comments_are_editable_within_the_window_only(ctx, w, proposal):
    minutes = ctx.config["COMMENT_EDIT_MINUTES"]
    comment = discussion.add_comment(w.author, T0, proposal, "Frist")
    just_in_time = T0 + dt.timedelta(minutes=minutes)
    discussion.edit_comment(w.author, just_in_time, comment, "First")
    assert (comment.body, comment.edited_at) == ("First", just_in_time)
    assert comment.body_html == "<p>First</p>\n"

    too_late = T0 + dt.timedelta(minutes=minutes, seconds=1)
    assert not discussion.can_still_edit(comment, too_late)
    with pytest.raises(InvalidTransition, match=f"within {minutes} minutes"):
        discussion.edit_comment(w.author, too_late, comment, "Changed my mind")
    db.session.refresh(comment)
    assert comment.body == "First"


def test_the_window_follows_the_setting(ctx, w, proposal, monkeypatch):
    monkeypatch.setitem(ctx.config, "COMMENT_EDIT_MINUTES", 60)
    comment = discussion.add_comment(w.author, T0, proposal, "Draft thought")
    discussion.edit_comment(w.author, T0 + dt.timedelta(minutes=59), comment, "Better thought")
    assert comment.body == "Better thought"


def test_only_the_writer_edits_or_deletes(w, proposal):
    comment = discussion.add_comment(w.author, T0, proposal, "Mine")
    for other in (factories.resident(w.hood), w.muhtar, factories.admin()):
        with pytest.raises(NotAllowed):
            discussion.edit_comment(other, T0, comment, "Not yours")
        with pytest.raises(NotAllowed):
            discussion.delete_comment(other, T0, comment)
    assert comment.body == "Mine" and comment.deleted_at is None


def test_a_hidden_comment_cannot_be_edited(w, proposal):
    comment = discussion.add_comment(w.author, T0, proposal, "Rude")
    moderation.hide(w.muhtar, T0, comment, "Insults")
    with pytest.raises(InvalidTransition):
        discussion.edit_comment(w.author, T0, comment, "Polite now")


def test_delete_replaces_the_text_and_keeps_the_replies(w, proposal):
    other = factories.resident(w.hood)
    top = discussion.add_comment(w.author, T0, proposal, "Secret phone number 0555")
    reply = discussion.add_comment(other, T0, proposal, "Please remove that", parent_id=top.id)
    later = T0 + dt.timedelta(days=3)  # deleting has no time limit
    discussion.delete_comment(w.author, later, top)
    db.session.expire_all()
    stored = db.session.get(Comment, top.id)
    assert (stored.body, stored.body_html, stored.deleted_at) == ("", "", later)
    assert _thread_ids(proposal) == [(top.id, [reply.id])]
    assert db.session.get(Comment, reply.id).body == "Please remove that"
    assert db.session.get(Proposal, proposal.id).comment_count == 1
    with pytest.raises(InvalidTransition):
        discussion.delete_comment(w.author, later, stored)
    with pytest.raises(InvalidTransition):
        discussion.edit_comment(w.author, T0, stored, "Back")
    pf.assert_counters_match(proposal)


def test_get_comment_refuses_comments_of_other_proposals(w, proposal):
    elsewhere = pf.proposal(w)
    foreign = discussion.add_comment(w.author, T0, elsewhere, "There")
    with pytest.raises(NotFound):
        discussion.get_comment(proposal, foreign.id)
    assert discussion.get_comment(elsewhere, foreign.id) is foreign


def test_counters_equal_a_full_recount_after_a_sequence_of_operations(w):
    """A seeded random walk over support, withdraw, comment, reply, delete, hide and restore."""
    rng = random.Random(20261124)
    proposals = [pf.proposal(w, now=T0) for _ in range(3)]
    people = [w.author] + [factories.resident(w.hood) for _ in range(6)]
    refused = 0
    for step in range(150):
        now = T0 + dt.timedelta(minutes=step)
        proposal = rng.choice(proposals)
        person = rng.choice(people)
        comments = list(db.session.scalars(select(Comment).where(Comment.proposal_id == proposal.id)))
        action = rng.choice(["support", "support", "withdraw", "comment", "reply", "delete", "hide", "restore"])
        try:
            if action == "support":
                services.support(person, now, proposal)
            elif action == "withdraw":
                services.withdraw_support(person, now, proposal)
            elif action == "comment":
                discussion.add_comment(person, now, proposal, f"Comment {step}")
            elif action == "reply" and comments:
                discussion.add_comment(person, now, proposal, f"Reply {step}", parent_id=rng.choice(comments).id)
            elif action == "delete" and comments:
                target = rng.choice(comments)
                discussion.delete_comment(db.session.get(type(person), target.author_id), now, target)
            elif action == "hide" and comments:
                moderation.hide(w.muhtar, now, rng.choice(comments), "Off topic")
            elif action == "restore" and comments:
                moderation.restore(w.muhtar, now, rng.choice(comments), "On topic after all")
        except DomainError:
            refused += 1  # supporting twice, deleting twice, hiding the hidden …
    assert 0 < refused < 150  # the walk exercised both paths
    for proposal in proposals:
        pf.assert_counters_match(proposal)
        db.session.expire(proposal)
        counts = pf.recount(proposal)
        assert counts["supports"] > 0 and counts["comments"] > 0
