"""The hot paths run a fixed number of SQL statements, whatever the amount of data (issue 14).

No timing here: `bench/` measures time. These tests count statements, so a change that adds a
query per row, per voter or per item shows up as a failure on both databases.
"""
from __future__ import annotations

import threading

from limits.storage import storage_from_string
from sqlalchemy import event, select

from assembly.accounts.models import User
from assembly.db import db
from assembly.notifications.models import Notification, OutboxEmail
from assembly.notifications.services import UNSUBSCRIBE_MARK
from assembly.proposals import services as proposals
from assembly.proposals.models import Follow
from assembly.rate_limits import ProcessMemoryStorage
from tests import assembly_factories as af
from tests import factories
from tests import proposal_factories as pf
from tests.assembly_factories import HOUR, OPENS, clock, client_of, committed  # noqa: F401 - fixture
from tests.support import counting_statements


# --- the vote ------------------------------------------------------------------------------------------

def _postgresql(app) -> bool:
    return app.extensions["assembly_db"].engine.dialect.name == "postgresql"


def _vote_statements(app, clock, items: int, voters: int) -> tuple[list[str], list[str]]:
    """Statements of a first vote and of a changed vote through the page, on an open ballot."""
    with committed(app):
        s = af.voting_open("yes_no", "open", items=items, voters=voters)
        url, agenda, voter = s.url, s.items, s.voters[0]
    clock.now = OPENS + HOUR
    client = client_of(app, voter)
    with counting_statements(app, transaction_control=False) as first:
        assert client.post(f"{url}/vote", data={f"item-{item}": "yes" for item in agenda}).status_code == 303
    with counting_statements(app, transaction_control=False) as changed:
        assert client.post(f"{url}/vote", data={f"item-{item}": "no" for item in agenda}).status_code == 303
    return first, changed


def test_a_vote_costs_the_same_few_statements_for_1_and_8_items_and_voters(app, clock):
    few_first, few_changed = _vote_statements(app, clock, items=1, voters=1)
    many_first, many_changed = _vote_statements(app, clock, items=8, voters=8)
    assert len(many_first) == len(few_first), "\n".join(many_first)
    assert len(many_changed) == len(few_changed), "\n".join(many_changed)
    # who votes and their roles (login session, user, memberships: one statement); what the vote
    # needs; the participation; the claim of the ballot row; the paper (a changed vote: the paper
    # rewritten, nothing given back: a changed vote is not counted again). On PostgreSQL the last
    # three are one statement (voting._one_statement_vote).
    writes = 1 if _postgresql(app) else 3
    assert len(few_first) == 2 + writes, "\n".join(few_first)
    assert len(few_changed) == 2 + writes, "\n".join(few_changed)
    reads = [statement for statement in few_changed if statement.lstrip().upper().startswith("SELECT")]
    assert not any("FROM users" in statement and "users.email" in statement for statement in reads), \
        "the vote reads who votes as one light row, not the account"


def test_a_secret_vote_reads_no_agenda_proposals_and_no_membership_row(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "secret", items=3, voters=2)
        url, agenda, voter = s.url, s.items, s.voters[0]
    clock.now = OPENS + HOUR
    client = client_of(app, voter)
    with counting_statements(app, transaction_control=False) as statements:
        assert client.post(f"{url}/vote", data={f"item-{item}": "yes" for item in agenda}).status_code == 303
    reads = [statement for statement in statements if statement.lstrip().upper().startswith("SELECT")]
    assert not any("FROM proposals" in statement for statement in reads), "\n".join(reads)
    # first secret vote: no paper until closing (on PostgreSQL the participation and the claim are one statement)
    assert len(statements) == (3 if _postgresql(app) else 4), "\n".join(statements)


# --- pages ---------------------------------------------------------------------------------------------

def _page_statements(app, client, url: str) -> list[str]:
    with counting_statements(app, transaction_control=False) as statements:
        assert client.get(url).status_code == 200, url
    return statements


def test_the_session_page_costs_the_same_for_2_and_12_agenda_items_and_candidates(app):
    def session_with(items: int):
        with committed(app):
            s = af.announced("yes_no", "secret", items=items, voters=2)
            for _ in range(items):  # candidates the muhtar may still add
                af.ready_proposal(s.w)
            return s.url, s.muhtar.email, s.voters[0].email

    counts = []
    for items in (2, 12):
        url, muhtar, resident = session_with(items)
        people = {"visitor": app.test_client(), "muhtar": client_of(app, User(email=muhtar)),
                  "resident": client_of(app, User(email=resident))}
        counts.append({who: len(_page_statements(app, client, url)) for who, client in people.items()})
    assert counts[0] == counts[1], counts
    # The candidate list is the muhtar's alone: a visitor's page does not compute it.
    assert counts[0]["visitor"] < counts[0]["muhtar"], counts


def test_the_neighbourhood_page_feed_and_case_page_cost_the_same_for_more_data(app):
    from assembly.neighbourhoods.models import Neighbourhood
    from tests import case_factories as cf

    with committed(app):
        w = cf.world()
        slug = w.hood.slug
        reference = cf.forwarded(w, factories.now()).reference
    pages = [f"/n/{slug}", f"/n/{slug}/feed.atom", f"/cases/{reference}", f"/n/{slug}/assemblies/"]
    visitor = app.test_client()
    before = {url: len(_page_statements(app, visitor, url)) for url in pages}
    with committed(app):
        hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == slug))
        author = factories.resident(hood)
        world = pf.World(hood, author, pf.category(hood), author)
        for number in range(12):
            pf.proposal(world, title=f"More {number}")
    after = {url: len(_page_statements(app, visitor, url)) for url in pages}
    assert after == before


# --- notifications fan-out ----------------------------------------------------------------------------

def test_followers_are_notified_in_the_same_statements_for_3_and_40_followers(ctx):
    w = pf.world()
    now = factories.now()

    def followed_by(how_many: int):
        proposal = pf.proposal(w)
        for number in range(how_many):
            follower = factories.resident(w.hood)
            if number % 2:
                follower.locale = "tr"
            if number % 3 == 0:
                follower.email_mode = "daily"
            proposals.follow(follower, now, proposal)
        db.session.flush()
        return proposal

    few, many = followed_by(3), followed_by(40)
    engine = db.session.get_bind()
    counts = []
    for proposal in (few, many):
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            proposals.notify_followers(proposal, "proposal_status", now, status="accepted")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts

    followers = db.session.scalars(select(User).join(Follow, Follow.user_id == User.id)
                                   .where(Follow.proposal_id == many.id)).all()
    stored = db.session.scalars(select(Notification.user_id).where(
        Notification.link == proposals.proposal_link(many), Notification.kind == "proposal_status")).all()
    assert sorted(stored) == sorted(user.id for user in followers) and len(stored) == 41  # and the author
    mails = {mail.to_address: mail for mail in db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.body_text.contains(proposals.proposal_link(many))))}
    immediate = [user for user in followers if user.email_mode == "immediate"]
    assert set(mails) == {user.email for user in immediate}
    for user in immediate:  # each in the reader's language, greeting the reader by name
        body = mails[user.email].body_text
        # the name is filled in; only the unsubscribe link is left to the mail worker, for each reader
        assert user.display_name in body and "\x01" not in body.replace(UNSUBSCRIBE_MARK, "")
        assert ("Sayın" in body) == (user.locale == "tr"), body


def test_the_author_is_not_told_of_their_own_event(ctx):
    w = pf.world()
    now = factories.now()
    proposal = pf.proposal(w)
    proposals.follow(w.author, now, proposal)
    other = factories.resident(w.hood)
    proposals.follow(other, now, proposal)
    proposals.notify_followers(proposal, "proposal_status", now, skip_user_id=w.author.id, status="accepted")
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "proposal_status")))
    assert told == {other.id}


# --- no thread per request ------------------------------------------------------------------------------

def test_rate_limited_requests_start_no_thread(app):
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])  # what memory:// becomes
    assert isinstance(storage, ProcessMemoryStorage)
    before = threading.active_count()
    for number in range(50):
        storage.incr(f"key-{number % 5}", 60)
    assert threading.active_count() == before
    assert storage.get("key-0") == 10


def test_a_logged_in_request_that_needs_no_user_loads_none_and_sends_no_cookie(app):
    with committed(app):
        hood = factories.neighbourhood(slug="quiet")
        email = factories.resident(hood).email
        hood_slug = hood.slug
    client = client_of(app, User(email=email))
    with counting_statements(app, transaction_control=False) as statements:
        response = client.get("/static/css/app.css")
        response.close()
    assert response.status_code == 200 and statements == []  # no user, no roles loaded
    assert "Set-Cookie" not in response.headers  # nothing changed: the cookie is not signed again
    page = client.get(f"/n/{hood_slug}")
    assert page.headers["Cache-Control"] == "private, no-store"  # known as logged in without a user load
