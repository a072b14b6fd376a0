"""Is it fixed? When a case is marked done its proposal's author and followers are asked; "yes"
is recorded once per person, "no" with a note reopens the case on its hash-chained timeline and
is flagged to the body and the muhtar; the body's scoreboard shows the share confirmed."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from assembly.cases import confirmations, queries
from assembly.cases import services as cases
from assembly.cases.models import CaseConfirmation
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.notifications.models import Notification, OutboxEmail
from assembly.notifications.services import render_notification
from assembly.proposals import services as proposals
from tests import case_factories as cf
from tests import factories
from tests.support import client_of, committed, text, translation

pytestmark = pytest.mark.world("cases")
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def t0(w):
    return factories.now()


@pytest.fixture
def follower(w, t0):
    return factories.resident(w.hood, factories.user(locale="sv"))


@pytest.fixture
def done(w, t0, follower):
    case = cf.forwarded(w, t0)
    proposals.follow(follower, t0, case.proposal)
    return cf.walk(w, case, t0, "done")


def _notified(kind: str) -> dict[int, Notification]:
    return {n.user_id: n for n in db.session.scalars(select(Notification).where(Notification.kind == kind))}


def test_the_author_and_followers_are_asked_in_their_own_language(w, done, follower):
    asked = _notified("case_fixed_question")
    assert set(asked) == {w.author.id, follower.id}  # each once: the author follows their proposal too
    assert asked[follower.id].link == f"/cases/{done.reference}"
    # the question takes the place of the usual "is now done" notice
    assert not db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "case_event", Notification.created_at > done.done_at - MINUTE / 2))
    swedish = translation("sv", "Case %(reference)s (“%(title)s”) has been marked done. Is it really fixed? "
                                "Answer on the case page.")
    assert swedish
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == follower.email)
                             .order_by(OutboxEmail.id.desc()))
    assert swedish.split("%(")[0].strip() in mail.body_text
    assert "Is it really fixed?" in render_notification(asked[w.author.id])


def test_yes_is_recorded_once_per_person(w, done, follower, t0):
    confirmations.answer(follower, t0 + dt.timedelta(hours=1), done, "yes")
    with pytest.raises(ValidationFailed, match="already answered"):
        confirmations.answer(follower, t0 + dt.timedelta(hours=2), done, "yes")
    with pytest.raises(ValidationFailed, match="already answered"):
        confirmations.answer(follower, t0 + dt.timedelta(hours=2), done, "no", "Still broken.")
    assert done.status == "done"
    assert confirmations.confirmed_count(done) == 1
    assert confirmations.answer_of(follower, done).answer == "yes"


def test_a_non_follower_cannot_answer(w, done, t0):
    for who in (w.voter, w.staff, w.muhtar, factories.user()):
        with pytest.raises(NotAllowed):
            confirmations.answer(who, t0 + dt.timedelta(hours=1), done, "yes")
    assert db.session.scalar(select(func.count()).select_from(CaseConfirmation)) == 0


def test_only_a_done_case_is_asked_about(w, t0):
    case = cf.walk(w, cf.forwarded(w, t0), t0, "in_progress")
    with pytest.raises(InvalidTransition):
        confirmations.answer(w.author, t0 + dt.timedelta(hours=1), case, "yes")


def test_a_no_needs_a_note_and_an_answer_must_be_yes_or_no(w, done, t0):
    with pytest.raises(ValidationFailed) as refused:
        confirmations.answer(w.author, t0 + dt.timedelta(hours=1), done, "no", "  ")
    assert refused.value.field == "note"
    with pytest.raises(ValidationFailed):
        confirmations.answer(w.author, t0 + dt.timedelta(hours=1), done, "maybe")
    assert done.status == "done"


def test_a_no_reopens_the_case_publicly_and_flags_it_to_the_body_and_the_muhtar(w, done, t0):
    at = t0 + dt.timedelta(hours=1)
    confirmations.answer(w.author, at, done, "no", "The lamp still does not light at night.")
    assert done.status == "in_progress" and done.done_at is None
    last = queries.events_of(done)[-1]
    assert (last.kind, last.status, last.note) == ("reopened", "in_progress",
                                                   "The lamp still does not light at night.")
    assert last.actor_id == w.author.id
    assert cases.verify_chain(done, queries.events_of(done)) is None
    flagged = _notified("case_reopened")
    assert {w.staff.id, w.muhtar.id} <= set(flagged) and w.other_staff.id not in flagged
    assert "still does not light" in render_notification(flagged[w.staff.id])
    # The body goes on from "in progress" and may mark it done again; then people are asked anew.
    assert cases.allowed_steps(done) == {"in_progress", "done"}
    cases.apply_event(w.staff, at + MINUTE, done, "done", {"note": "Lamp replaced again."})
    confirmations.answer(w.author, at + 2 * MINUTE, done, "yes")
    assert confirmations.confirmed_count(done) == 1


def test_the_body_itself_cannot_reopen_a_done_case(w, done, t0):
    assert cases.allowed_steps(done) == frozenset()
    with pytest.raises(InvalidTransition):
        cases.apply_event(w.staff, t0 + dt.timedelta(hours=1), done, "in_progress", {"progress": 50})


def test_the_scoreboard_shows_the_share_confirmed_by_residents(w, done, follower, t0):
    other = cf.walk(w, cf.forwarded(w, t0, "Another lamp"), t0, "done")
    board = queries.scoreboard(w.body, t0 + dt.timedelta(hours=1))
    assert (board.done, board.confirmed, board.confirmed_share) == (2, 0, 0)
    confirmations.answer(follower, t0 + dt.timedelta(hours=1), done, "yes")
    board = queries.scoreboard(w.body, t0 + dt.timedelta(hours=2))
    assert (board.done, board.confirmed, board.confirmed_share) == (2, 1, 0.5)
    confirmations.answer(other.proposal.author, t0 + dt.timedelta(hours=2), other, "no", "Still dark.")
    board = queries.scoreboard(w.body, t0 + dt.timedelta(hours=3))
    assert (board.done, board.confirmed) == (1, 1)


# --- through the pages ------------------------------------------------------------------------------


@pytest.fixture
def site(app):
    """A done case, set up and committed outside any request (pages get app contexts of their own)."""
    with committed(app):
        world = cf.world(code="FXD", hood_code="MODA")
        t0 = factories.now() - dt.timedelta(hours=1)  # done before the pages are asked
        follower = factories.resident(world.hood)
        case = cf.forwarded(world, t0)
        proposals.follow(follower, t0, case.proposal)
        cf.walk(world, case, t0, "done")
        found = {"url": f"/cases/{case.reference}", "body": f"/bodies/{world.body.id}", "author": world.author,
                 "follower": follower, "voter": world.voter, "staff": world.staff}
    return found


def test_answering_through_the_case_page(app, site):
    url = site["url"]
    page = text(client_of(app, site["follower"]).get(url))
    assert "Is it really fixed?" in page and 'name="answer"' in page
    assert 'name="answer"' not in text(client_of(app).get(url))
    assert 'name="answer"' not in text(client_of(app, site["voter"]).get(url))
    for who in ("voter", "staff"):
        assert client_of(app, site[who]).post(f"{url}/fixed", data={"answer": "yes"}).status_code == 403
    assert client_of(app).post(f"{url}/fixed", data={"answer": "yes"}).status_code == 302  # to log in
    mine = client_of(app, site["follower"])
    assert mine.post(f"{url}/fixed", data={"answer": "yes"}).status_code == 302
    again = mine.post(f"{url}/fixed", data={"answer": "yes"})
    assert again.status_code == 400 and "You have already answered for this case." in text(again)
    assert "1 resident has confirmed that it is fixed." in text(client_of(app).get(url))
    board = text(client_of(app).get(site["body"]))
    assert "Confirmed fixed by residents" in board and "100% of 1 done case" in board
    author = client_of(app, site["author"])
    refused = author.post(f"{url}/fixed", data={"answer": "no", "note": ""})
    assert refused.status_code == 400 and "Say what is still wrong" in text(refused)
    assert author.post(f"{url}/fixed", data={"answer": "no", "note": "Still dark."}).status_code == 302
    public = text(client_of(app).get(url))
    assert "Reopened: a resident says it is not fixed" in public and "Still dark." in public
