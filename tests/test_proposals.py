"""Proposals through their services: the lifecycle, refusals, supports and the threshold,
map points, lists and filters, notifications and e-mail modes."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from assembly.db import db
from assembly.errors import DomainError, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from assembly.neighbourhoods import residents
from assembly.notifications.models import Notification, OutboxEmail
from assembly.notifications.services import send_digests
from assembly.proposals import discussion, services
from assembly.proposals.models import Follow, Proposal, ProposalEvent, ProposalStatus, ProposalVersion, Support
from assembly.proposals.models import PROPOSAL_LIFECYCLE
from assembly.proposals.services import PAGE_SIZE, ProposalFilters
from tests import factories
from tests import proposal_factories as pf

S = ProposalStatus
T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)


def _events(proposal):
    return [(e.from_status, e.to_status) for e in services.events(proposal)]


def _notifications(user, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def _mails(user) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == user.email)
                                   .order_by(OutboxEmail.id)))


# --- writing and the lifecycle -------------------------------------------------------------

def test_publishing_opens_the_proposal_records_events_and_follows(w):
    proposal = pf.proposal(w, title="Sokak ışıkları", now=T0)
    assert proposal.status == S.OPEN.value
    assert proposal.published_at == T0
    assert _events(proposal) == [(None, "draft"), ("draft", "open")]
    assert services.events(proposal)[-1].actor_id == w.author.id
    assert services.follows(w.author, proposal)
    assert "<p>" in proposal.body_html


def test_a_draft_stays_private_until_published(w):
    draft = pf.proposal(w, publish=False, now=T0)
    assert draft.status == S.DRAFT.value and draft.published_at is None
    neighbour = factories.resident(w.hood)
    with pytest.raises(NotFound):
        services.get_proposal(neighbour, w.hood, draft.id)
    with pytest.raises(NotFound):
        services.get_proposal(factories.user(), w.hood, draft.id)
    assert services.get_proposal(w.author, w.hood, draft.id) is draft
    with pytest.raises(NotAllowed):
        services.publish_proposal(neighbour, T0, draft)

    services.publish_proposal(w.author, T0 + dt.timedelta(hours=1), draft)
    assert draft.status == S.OPEN.value and draft.published_at == T0 + dt.timedelta(hours=1)
    assert services.get_proposal(neighbour, w.hood, draft.id) is draft


@pytest.mark.parametrize("who", ["no membership", "pending resident", "resident elsewhere", "muhtar only"])
def test_only_verified_residents_of_the_neighbourhood_may_propose(w, who):
    if who == "no membership":
        person = factories.user()
    elif who == "pending resident":
        person = factories.pending(w.hood).user
    elif who == "resident elsewhere":
        person = factories.resident(factories.neighbourhood())
    else:
        person = w.muhtar
    with pytest.raises(NotAllowed):
        services.create_proposal(person, T0, w.hood, pf.data(w.category))
    assert db.session.scalar(select(func.count()).select_from(Proposal)
                             .where(Proposal.neighbourhood_id == w.hood.id)) == 0


def test_a_resident_who_left_may_no_longer_propose_or_edit(w):
    proposal = pf.proposal(w)
    residents.leave_neighbourhood(w.author, T0)
    with pytest.raises(NotAllowed):
        services.create_proposal(w.author, T0, w.hood, pf.data(w.category))
    with pytest.raises(NotAllowed):
        services.update_proposal(w.author, T0, proposal, pf.data(w.category, title="Changed"))


def test_invalid_input_is_refused_field_by_field(w):
    foreign_category = pf.category(factories.neighbourhood())
    bad = services.ProposalInput(title="  ", body="", category_id=foreign_category.id,
                                 address_text="x" * 201)
    with pytest.raises(ValidationFailed) as refused:
        services.create_proposal(w.author, T0, w.hood, bad)
    assert set(refused.value.reasons) == {"title", "body", "category_id", "address_text"}

    with pytest.raises(ValidationFailed) as refused:
        services.create_proposal(w.author, T0, w.hood, pf.data(w.category, title="x" * 201))
    assert set(refused.value.reasons) == {"title"}


def test_map_points_outside_the_neighbourhood_are_refused_with_a_clear_message(w):
    with pytest.raises(ValidationFailed) as refused:
        services.create_proposal(w.author, T0, w.hood, pf.data(w.category, point=pf.OUTSIDE))
    assert refused.value.reasons == {
        "latitude": ["The point lies outside the neighbourhood. Choose a place inside its area."]}

    inside = services.create_proposal(w.author, T0, w.hood, pf.data(w.category, point=pf.INSIDE))
    assert (inside.latitude, inside.longitude) == pf.INSIDE
    assert inside.id in [point.id for point in services.map_points(w.hood)]

    with pytest.raises(ValidationFailed) as refused:
        services.update_proposal(w.author, T0, inside, pf.data(w.category, point=pf.OUTSIDE))
    assert "latitude" in refused.value.reasons
    db.session.refresh(inside)
    assert (inside.latitude, inside.longitude) == pf.INSIDE


@pytest.mark.parametrize("point", [(40.99, None), (None, 29.02), (float("nan"), 29.02), (40.99, float("inf")),
                                   (91.0, 29.02), (40.99, -181.0)])
def test_incomplete_or_impossible_points_are_refused(w, point):
    data = pf.data(w.category)
    data.latitude, data.longitude = point
    with pytest.raises(ValidationFailed) as refused:
        services.create_proposal(w.author, T0, w.hood, data)
    assert "latitude" in refused.value.reasons


def test_any_real_point_is_accepted_when_the_neighbourhood_has_no_bounds(ctx):
    w = pf.world(bounds=None)
    proposal = pf.proposal(w, point=pf.OUTSIDE)
    assert proposal.has_point


def test_every_transition_in_the_table_is_allowed_and_every_other_refused(w):
    proposal = pf.proposal(w)
    for current in S:
        for target in S:
            db.session.execute(update(Proposal).where(Proposal.id == proposal.id).values(status=current.value))
            db.session.refresh(proposal)
            events_before = len(services.events(proposal))
            if target in PROPOSAL_LIFECYCLE.transitions[current]:
                services.transition(proposal, target, w.muhtar, T0, reason="because")
                assert proposal.status == target.value
                last = services.events(proposal)[-1]
                assert (last.from_status, last.to_status, last.reason) == (current.value, target.value, "because")
            else:
                with pytest.raises(InvalidTransition):
                    services.transition(proposal, target, w.muhtar, T0)
                db.session.refresh(proposal)
                assert proposal.status == current.value
                assert len(services.events(proposal)) == events_before


def test_a_transition_from_a_stale_status_is_refused(w):
    proposal = pf.proposal(w)
    db.session.execute(update(Proposal).where(Proposal.id == proposal.id).values(status=S.WITHDRAWN.value)
                       .execution_options(synchronize_session=False))
    assert proposal.status == S.OPEN.value  # what this request read before the other one changed it
    with pytest.raises(InvalidTransition):
        services.transition(proposal, S.ON_AGENDA, w.muhtar, T0)
    db.session.refresh(proposal)
    assert proposal.status == S.WITHDRAWN.value


def test_the_author_withdraws_followers_are_told_and_it_cannot_reopen(w):
    proposal = pf.proposal(w, title="Benches")
    follower = factories.resident(w.hood)
    services.follow(follower, T0, proposal)
    with pytest.raises(NotAllowed):
        services.withdraw_proposal(follower, T0, proposal)

    services.withdraw_proposal(w.author, T0, proposal, reason="Solved by the municipality")
    assert proposal.status == S.WITHDRAWN.value
    assert services.events(proposal)[-1].reason == "Solved by the municipality"
    told = _notifications(follower, "proposal_status")
    assert [n.params["status"] for n in told] == ["withdrawn"]
    assert _notifications(w.author, "proposal_status") == []
    with pytest.raises(InvalidTransition):
        services.transition(proposal, S.OPEN, w.author, T0)
    with pytest.raises(InvalidTransition):
        services.withdraw_proposal(w.author, T0, proposal)


def test_a_draft_can_be_withdrawn_but_not_an_accepted_proposal(w):
    draft = pf.proposal(w, publish=False)
    services.withdraw_proposal(w.author, T0, draft)
    assert draft.status == S.WITHDRAWN.value
    accepted = pf.proposal(w)
    services.transition(accepted, S.ON_AGENDA, w.muhtar, T0)
    services.transition(accepted, S.ACCEPTED, w.muhtar, T0)
    with pytest.raises(InvalidTransition):
        services.withdraw_proposal(w.author, T0, accepted)


# --- editing -----------------------------------------------------------------------------

def test_drafts_change_freely_without_versions(w):
    draft = pf.proposal(w, publish=False, title="First")
    services.update_proposal(w.author, T0, draft, pf.data(w.category, title="Second"))
    services.update_proposal(w.author, T0, draft, pf.data(w.category, title="Third"))
    assert draft.title == "Third" and draft.edited_at is None
    assert services.versions(draft) == []


def test_an_open_proposal_edit_keeps_the_previous_text_as_a_version(w):
    proposal = pf.proposal(w, title="Lamps", body="Old text")
    later = T0 + dt.timedelta(minutes=5)
    services.update_proposal(w.author, later, proposal, pf.data(w.category, title="Lamps, please", body="New text"))
    assert proposal.title == "Lamps, please" and proposal.edited_at == later
    assert "new text" in proposal.search_key
    [version] = services.versions(proposal)
    assert (version.number, version.title, version.body, version.replaced_at) == (1, "Lamps", "Old text", later)
    services.update_proposal(w.author, later, proposal, pf.data(w.category, title="Lamps!", body="Newer"))
    assert [v.number for v in services.versions(proposal)] == [2, 1]


def test_editing_after_support_is_refused(w):
    proposal = pf.proposal(w, title="Original")
    supporter = factories.resident(w.hood)
    services.support(supporter, T0, proposal)
    with pytest.raises(InvalidTransition):
        services.update_proposal(w.author, T0, proposal, pf.data(w.category, title="Changed"))
    db.session.refresh(proposal)
    assert proposal.title == "Original"
    assert db.session.scalar(select(func.count()).select_from(ProposalVersion)) == 0


def test_editing_after_a_comment_is_refused(w):
    proposal = pf.proposal(w, title="Original")
    discussion.add_comment(factories.resident(w.hood), T0, proposal, "I agree")
    with pytest.raises(InvalidTransition):
        services.update_proposal(w.author, T0, proposal, pf.data(w.category, title="Changed"))


def test_only_the_author_edits_and_only_drafts_or_open_proposals(w):
    proposal = pf.proposal(w)
    for other in (factories.resident(w.hood), w.muhtar, factories.user(admin=True)):
        with pytest.raises(NotAllowed):
            services.update_proposal(other, T0, proposal, pf.data(w.category, title="Hijacked"))
    services.transition(proposal, S.ON_AGENDA, w.muhtar, T0)
    with pytest.raises(InvalidTransition):
        services.update_proposal(w.author, T0, proposal, pf.data(w.category, title="Too late"))


def test_proposal_events_are_append_only(w):
    proposal = pf.proposal(w)
    event_id = services.events(proposal)[0].id
    for statement in (text("UPDATE proposal_events SET reason = 'rewritten' WHERE id = :id"),
                      text("DELETE FROM proposal_events WHERE id = :id")):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(statement, {"id": event_id})
    assert db.session.scalar(select(ProposalEvent.reason).where(ProposalEvent.id == event_id)) is None
    assert len(services.events(proposal)) == 2


# --- supports and the threshold --------------------------------------------------------------

def test_support_counts_once_and_supporting_twice_is_refused(w):
    proposal = pf.proposal(w)
    supporter = factories.resident(w.hood)
    assert services.support(supporter, T0, proposal) == 1
    with pytest.raises(DomainError, match="already support"):
        services.support(supporter, T0, proposal)
    assert proposal.support_count == 1
    assert db.session.scalar(select(func.count()).select_from(Support)
                             .where(Support.proposal_id == proposal.id)) == 1
    assert services.supported_ids(supporter, [proposal.id]) == {proposal.id}
    pf.assert_counters_match(proposal)


@pytest.mark.parametrize("who", ["no membership", "pending resident", "resident elsewhere", "muhtar only"])
def test_only_residents_of_the_neighbourhood_may_support(w, who):
    proposal = pf.proposal(w)
    if who == "no membership":
        person = factories.user()
    elif who == "pending resident":
        person = factories.pending(w.hood).user
    elif who == "resident elsewhere":
        person = factories.resident(factories.neighbourhood())
    else:
        person = w.muhtar
    with pytest.raises(NotAllowed):
        services.support(person, T0, proposal)
    assert proposal.support_count == 0


@pytest.mark.parametrize("status", [S.DRAFT, S.ON_AGENDA, S.ACCEPTED, S.WITHDRAWN, "hidden"])
def test_only_open_proposals_can_be_supported(w, status):
    proposal = pf.proposal(w)
    change = {"hidden_at": T0} if status == "hidden" else {"status": status.value}  # hidden but open
    db.session.execute(update(Proposal).where(Proposal.id == proposal.id).values(**change))
    db.session.refresh(proposal)
    with pytest.raises(InvalidTransition):
        services.support(factories.resident(w.hood), T0, proposal)
    assert db.session.scalar(select(func.count()).select_from(Support)) == 0


def test_support_is_withdrawable_while_open_only(w):
    proposal = pf.proposal(w)
    supporter = factories.resident(w.hood)
    services.support(supporter, T0, proposal)
    assert services.withdraw_support(supporter, T0, proposal) == 0
    with pytest.raises(DomainError, match="do not support"):
        services.withdraw_support(supporter, T0, proposal)
    assert services.support(supporter, T0, proposal) == 1  # and may support again

    services.transition(proposal, S.ON_AGENDA, w.muhtar, T0)
    with pytest.raises(InvalidTransition):
        services.withdraw_support(supporter, T0, proposal)
    assert proposal.support_count == 1
    pf.assert_counters_match(proposal)


def test_crossing_the_threshold_marks_ready_once_and_tells_muhtar_and_followers(ctx):
    w = pf.world(support_threshold=3)
    proposal = pf.proposal(w, title="Lamps")
    follower = factories.resident(w.hood)
    services.follow(follower, T0, proposal)
    bystander = factories.resident(w.hood)
    supporters = [factories.resident(w.hood) for _ in range(3)]

    services.support(supporters[0], T0, proposal)
    services.support(supporters[1], T0, proposal)
    assert proposal.ready_at is None
    assert _notifications(w.muhtar, "proposal_ready") == []

    crossed = T0 + dt.timedelta(hours=2)
    services.support(supporters[2], crossed, proposal)
    assert proposal.ready_at == crossed
    for person in (w.muhtar, follower, w.author):
        [note] = _notifications(person, "proposal_ready")
        assert note.params["supports"] == 3
        assert note.link == f"/n/{w.hood.slug}/p/{proposal.id}"
    assert _notifications(bystander, "proposal_ready") == []
    assert any("ready for the agenda" in mail.subject for mail in _mails(w.muhtar))

    # Falling below and crossing again does not mark it again.
    services.withdraw_support(supporters[2], crossed + dt.timedelta(hours=1), proposal)
    services.support(supporters[2], crossed + dt.timedelta(hours=2), proposal)
    db.session.refresh(proposal)
    assert proposal.ready_at == crossed
    assert len(_notifications(w.muhtar, "proposal_ready")) == 1
    page = services.list_proposals(w.muhtar, w.hood, ProposalFilters(ready=True))
    assert [p.id for p in page.items] == [proposal.id]


def test_the_threshold_can_be_a_share_of_the_verified_residents(ctx):
    w = pf.world(support_threshold=1)
    residents = [factories.resident(w.hood) for _ in range(5)]  # with the author: 6 verified residents
    w.hood.support_threshold_percent = 50
    db.session.flush()
    db.session.refresh(w.hood)
    assert w.hood.verified_resident_count == 6
    assert w.hood.effective_support_threshold() == 3

    proposal = pf.proposal(w)
    services.support(residents[0], T0, proposal)
    services.support(residents[1], T0, proposal)
    assert proposal.ready_at is None
    services.support(residents[2], T0, proposal)
    assert proposal.ready_at == T0
    assert len(_notifications(w.muhtar, "proposal_ready")) == 1


def test_a_share_never_lowers_the_threshold_below_the_count(ctx):
    w = pf.world(support_threshold=4)
    w.hood.support_threshold_percent = 10
    db.session.flush()
    db.session.refresh(w.hood)
    assert w.hood.effective_support_threshold() == 4  # 10 % of 1 resident would be 1


def test_following_twice_is_following_and_unfollow_stops_notifications(w):
    proposal = pf.proposal(w)
    follower = factories.resident(w.hood)
    services.follow(follower, T0, proposal)
    services.follow(follower, T0, proposal)
    assert db.session.scalar(select(func.count()).select_from(Follow)
                             .where(Follow.user_id == follower.id)) == 1
    services.unfollow(follower, T0, proposal)
    assert not services.follows(follower, proposal)
    discussion.add_comment(factories.resident(w.hood), T0, proposal, "Hello")
    assert _notifications(follower, "proposal_comment") == []


# --- lists, filters, sorts, pagination ---------------------------------------------------------

def _ids(page) -> list[int]:
    return [p.id for p in page.items]


def test_list_filters(w):
    other_category = pf.category(w.hood)
    me = factories.resident(w.hood)
    lamps = pf.proposal(w, title="Lamps", now=T0)
    trees = services.create_proposal(w.author, T0 + dt.timedelta(hours=1), w.hood,
                                     pf.data(other_category, title="Trees"))
    mine_open = pf.proposal(w, me, title="Mine", now=T0 + dt.timedelta(hours=2))
    mine_draft = pf.proposal(w, me, title="My draft", publish=False, now=T0 + dt.timedelta(hours=3))
    others_draft = pf.proposal(w, title="Their draft", publish=False)
    withdrawn = pf.proposal(w, title="Gone", now=T0 + dt.timedelta(hours=4))
    services.withdraw_proposal(w.author, T0, withdrawn)
    elsewhere = pf.proposal(pf.world(), title="Elsewhere")
    services.support(me, T0, lamps)
    services.follow(me, T0, trees)
    lamps.ready_at = T0
    db.session.flush()

    def listed(**filters):
        return set(_ids(services.list_proposals(me, w.hood, ProposalFilters(**filters))))

    current = {lamps.id, trees.id, mine_open.id}
    assert listed() == current
    assert listed(category_id=other_category.id) == {trees.id}
    assert listed(status="withdrawn") == {withdrawn.id}
    assert listed(status="draft") == current  # drafts are never a public filter
    assert listed(supported_by_me=True) == {lamps.id}
    assert listed(followed=True) == {trees.id, mine_open.id}  # authors follow their own
    assert listed(ready=True) == {lamps.id}
    assert listed(mine=True) == {mine_open.id, mine_draft.id}
    assert listed(mine=True, status="draft") == {mine_draft.id}
    assert others_draft.id not in listed(mine=True) and elsewhere.id not in listed()

    # A visitor's personal filters change nothing and never reveal drafts.
    from flask_login import AnonymousUserMixin

    visitor = AnonymousUserMixin()
    for personal in ("supported_by_me", "followed", "mine"):
        page = services.list_proposals(visitor, w.hood, ProposalFilters(**{personal: True}))
        assert set(_ids(page)) == current


def test_list_sorts(w):
    newest = [pf.proposal(w, title=f"P{i}", now=T0 + dt.timedelta(hours=i)) for i in range(3)]
    residents = [factories.resident(w.hood) for _ in range(3)]
    for person in residents:
        services.support(person, T0, newest[0])
    services.support(residents[0], T0, newest[2])
    for _ in range(2):
        discussion.add_comment(residents[1], T0, newest[1], "Yes")

    def order(sort):
        return _ids(services.list_proposals(residents[0], w.hood, ProposalFilters(sort=sort)))

    assert order("newest") == [newest[2].id, newest[1].id, newest[0].id]
    assert order("supported") == [newest[0].id, newest[2].id, newest[1].id]
    assert order("discussed")[0] == newest[1].id
    assert order("nonsense") == order("newest")


def test_list_pagination(w):
    made = [pf.proposal(w, now=T0 + dt.timedelta(minutes=i)) for i in range(PAGE_SIZE + 5)]
    newest_first = [p.id for p in reversed(made)]
    first = services.list_proposals(w.author, w.hood, ProposalFilters(page=1))
    second = services.list_proposals(w.author, w.hood, ProposalFilters(page=2))
    assert (first.total, first.pages, second.page) == (PAGE_SIZE + 5, 2, 2)
    assert _ids(first) == newest_first[:PAGE_SIZE]
    assert _ids(second) == newest_first[PAGE_SIZE:]
    assert services.list_proposals(w.author, w.hood, ProposalFilters(page=99)).page == 2
    assert services.list_proposals(w.author, w.hood, ProposalFilters(page=-3)).page == 1


def test_the_supports_of_the_viewer_come_with_the_page(w):
    proposals = [pf.proposal(w) for _ in range(3)]
    me = factories.resident(w.hood)
    services.support(me, T0, proposals[1])
    page = services.list_proposals(me, w.hood, ProposalFilters())
    assert page.supported == {proposals[1].id}


def test_the_feed_lists_only_public_proposals(w):
    kind = pf.category(w.hood)
    visible = pf.proposal(w, title="Visible")
    other = services.create_proposal(w.author, T0, w.hood, pf.data(kind, title="Other category"))
    pf.proposal(w, title="Draft", publish=False)
    withdrawn = pf.proposal(w, title="Withdrawn")
    services.withdraw_proposal(w.author, T0, withdrawn)
    assert {p.id for p in services.feed_entries(w.hood)} == {visible.id, other.id}
    assert [p.id for p in services.feed_entries(w.hood, kind.id)] == [other.id]


# --- notifications and e-mail modes ----------------------------------------------------------------

def test_new_comments_notify_followers_in_app_and_by_mail_but_not_the_writer(w):
    proposal = pf.proposal(w, title="Lamps")
    commenter = factories.resident(w.hood)
    before = len(_mails(w.author))
    discussion.add_comment(commenter, T0, proposal, "Me too")
    [note] = _notifications(w.author, "proposal_comment")
    assert note.params == {"title": "Lamps", "name": commenter.display_name}
    assert len(_mails(w.author)) == before + 1
    assert "commented on" in _mails(w.author)[-1].subject
    assert _notifications(commenter, "proposal_comment") == []
    assert services.follows(commenter, proposal)  # commenting follows

    discussion.add_comment(w.author, T0, proposal, "Thanks")
    assert len(_notifications(commenter, "proposal_comment")) == 1
    assert len(_notifications(w.author, "proposal_comment")) == 1


def test_daily_digest_users_get_one_summary_and_none_users_no_mail(w):
    proposal = pf.proposal(w, title="Lamps")
    daily = factories.resident(w.hood)
    silent = factories.resident(w.hood)
    daily.email_mode = "daily"
    silent.email_mode = "none"
    db.session.flush()
    for person in (daily, silent):
        services.follow(person, T0, proposal)
    mails_before = {person.id: len(_mails(person)) for person in (daily, silent)}
    commenters = [factories.resident(w.hood) for _ in range(2)]
    for i, person in enumerate(commenters):
        discussion.add_comment(person, T0 + dt.timedelta(minutes=i), proposal, "Comment")

    for person in (daily, silent):
        assert len(_notifications(person, "proposal_comment")) == 2  # in-app as always
        assert len(_mails(person)) == mails_before[person.id]  # but no immediate e-mail

    evening = T0 + dt.timedelta(hours=12)
    assert send_digests(evening) >= 1
    daily_mails = _mails(daily)
    assert len(daily_mails) == mails_before[daily.id] + 1
    summary = daily_mails[-1]
    assert summary.subject == "Assembly: your daily summary"
    for person in commenters:
        assert f"{person.display_name} commented on “Lamps”." in summary.body_text
    assert f"/n/{w.hood.slug}/p/{proposal.id}" in summary.body_text
    assert len(_mails(silent)) == mails_before[silent.id]

    # The next run only summarises what is new.
    send_digests(evening + dt.timedelta(hours=1))
    assert len(_mails(daily)) == mails_before[daily.id] + 1


@pytest.mark.parametrize("cap", [services.COUNT_CAP, 2], ids=["sorted in full", "more than the cap"])
def test_a_narrowed_list_keeps_each_order_wherever_its_proposals_stand(ctx, monkeypatch, cap):
    """A list narrowed to a few proposals (ready, a category, a status) is read through its filter's
    index and sorted in full (by expressions no index gives); narrowed to more than COUNT_CAP, it is
    read along the index of its filter and order (migration 0025). Either way each sort's order is
    the full list's."""
    monkeypatch.setattr(services, "COUNT_CAP", cap)
    w = pf.world()
    other = pf.category(w.hood)
    made = [pf.proposal(w, title=f"Proposal {n}", now=T0 + dt.timedelta(hours=n)) for n in range(6)]
    for n, proposal in enumerate(made):
        proposal.comment_count = (n * 7) % 5
        proposal.support_count = (n * 3) % 4
    few = (made[0], made[1], made[4])  # the oldest two and one more
    for proposal in few:
        proposal.ready_at = T0
        proposal.category_id = other.id
        proposal.status = ProposalStatus.ACCEPTED.value
    db.session.flush()
    chosen = {proposal.id for proposal in few}
    for narrowed in ({"ready": True}, {"category_id": other.id}, {"status": ProposalStatus.ACCEPTED.value}):
        for sort in ("", "supported", "discussed"):
            everything = _ids(services.list_proposals(w.author, w.hood, ProposalFilters(sort=sort)))
            page = services.list_proposals(w.author, w.hood, ProposalFilters(sort=sort, **narrowed))
            assert page.capped == (cap < len(few))
            assert _ids(page) == [number for number in everything if number in chosen], (narrowed, sort)
