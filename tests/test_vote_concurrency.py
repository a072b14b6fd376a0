"""Votes under simultaneous requests, on PostgreSQL with real commits.

Each test gets a database of its own (`committed_database`) and an app on it; the data is
committed first, then 300 threads start together (a barrier) and each does what a request
does: its own app context and session, the voting service, one commit or a rollback. The
app's pool has 10 + 20 connections, so most threads queue for a connection (well within the
server's ~100), which only makes the requests arrive in waves.

Why these tests would fail without the unique constraint on participations (ballot_id,
user_id): `voting.cast_vote` does not look for an earlier vote before inserting the
participation (such a read-then-write check races: two requests both read "not voted yet",
see `test_a_check_in_python_would_not_stop_a_double_vote`); it inserts, and only the
database's refusal (ON CONFLICT DO NOTHING) sends a repeated request to the "change the
vote" path. Without the constraint all 300 inserts by the same resident succeed, each with
its own sealed vote and receipt, so the "exactly one
participation, one paper, turnout 1" assertions fail; that test shows it, deterministically,
on a database where the constraint was dropped. The "300 residents" test fails if the
turnout counter were read-modify-written in Python: increments would overwrite each other.
"""
from __future__ import annotations

import datetime as dt
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from assembly import create_app
from assembly.accounts.models import User
from assembly.assemblies import services, voting
from assembly.assemblies.models import Assembly, BallotResult
from assembly.db import db
from assembly.errors import InvalidTransition, ValidationFailed
from assembly.neighbourhoods.models import Neighbourhood
from assembly.notifications.models import Notification
from assembly.proposals.models import ProposalEvent
from tests import assembly_factories as af
from tests.assembly_factories import CLOSES, HOUR, OPENS
from tests.support import login
from tests.support import app_config

pytestmark = pytest.mark.postgres

THREADS = 300
NOW = OPENS + HOUR
# Only safety nets so that a broken run fails instead of hanging; nothing asserts on time.
BARRIER_TIMEOUT = 300
STEP_TIMEOUT = 120


def _setup(app, secrecy: str, residents: int, opened: bool = True) -> dict:
    with app.app_context():
        make = af.voting_open if opened else af.announced
        s = make("yes_no", secrecy, items=2, voters=residents)
        db.session.commit()
        return {"hood": s.hood.id, "assembly": s.assembly.id, "ballot": s.ballot.id, "items": s.items,
                "voters": [v.id for v in s.voters], "emails": [v.email for v in s.voters], "url": s.url,
                "residents": residents + 1, "author": s.w.author.id}


def _load(data: dict, user_id: int):
    user = db.session.get(User, user_id)
    hood = db.session.get(Neighbourhood, data["hood"])
    return user, services.get_assembly(user, hood, data["assembly"])


def _vote_at_once(app, data: dict, user_ids: list[int]) -> list[str]:
    """Every user id in its own thread, all casting the same vote at the same moment."""
    barrier = threading.Barrier(len(user_ids), timeout=BARRIER_TIMEOUT)
    vote = {data["items"][0]: "yes", data["items"][1]: "no"}

    def one(user_id: int) -> str:
        with app.app_context():
            user, assembly = _load(data, user_id)
            db.session.commit()  # give the connection back while waiting for the others
            barrier.wait()
            try:
                receipt = voting.cast_vote(user, NOW, assembly, vote)
                db.session.commit()
                return "receipt" if receipt else "voted"
            except (IntegrityError, ValidationFailed):
                db.session.rollback()
                return "refused"

    with ThreadPoolExecutor(max_workers=len(user_ids)) as pool:
        return list(pool.map(one, user_ids))


def _stored(app, ballot_id: int) -> dict[str, int]:
    with app.app_context():
        return af.stored_counts(ballot_id)


def test_one_resident_voting_300_times_at_once_in_a_secret_ballot_votes_once(concurrent_app):
    data = _setup(concurrent_app, "secret", residents=1)
    results = _vote_at_once(concurrent_app, data, data["voters"] * THREADS)
    # One request got the receipt; the others changed the vote (to itself): still one vote.
    assert results.count("receipt") == 1 and results.count("voted") == THREADS - 1
    assert _stored(concurrent_app, data["ballot"]) == {"turnout": 1, "participations": 1, "papers": 1}


def test_one_resident_voting_300_times_at_once_in_an_open_ballot_votes_once(concurrent_app):
    data = _setup(concurrent_app, "open", residents=1)
    results = _vote_at_once(concurrent_app, data, data["voters"] * THREADS)
    assert results == ["voted"] * THREADS  # the first records the vote, the others change it to itself
    assert _stored(concurrent_app, data["ballot"]) == {"turnout": 1, "participations": 1, "papers": 1}


def test_300_residents_voting_at_once_make_a_turnout_of_300(concurrent_app):
    data = _setup(concurrent_app, "secret", residents=THREADS)
    results = _vote_at_once(concurrent_app, data, data["voters"])
    assert results == ["receipt"] * THREADS
    assert _stored(concurrent_app, data["ballot"]) == {"turnout": THREADS, "participations": THREADS,
                                                        "papers": THREADS}


def test_one_resident_posting_300_votes_at_once_through_the_page_votes_once(concurrent_app, monkeypatch):
    """The same through the web: the view, its error handling and the one commit per request."""
    monkeypatch.setattr("assembly.web.utcnow", lambda: NOW)
    data = _setup(concurrent_app, "open", residents=1)
    clients = []
    for _ in range(THREADS):
        client = concurrent_app.test_client()
        login(client, data["emails"][0])
        clients.append(client)
    barrier = threading.Barrier(THREADS, timeout=BARRIER_TIMEOUT)
    form = {f"item-{data['items'][0]}": "yes", f"item-{data['items'][1]}": "no"}

    def post(client) -> int:
        barrier.wait()
        return client.post(f"{data['url']}/vote", data=form).status_code

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        statuses = list(pool.map(post, clients))
    assert statuses == [303] * THREADS
    assert _stored(concurrent_app, data["ballot"]) == {"turnout": 1, "participations": 1, "papers": 1}


# --- opening and closing at once ------------------------------------------------------------------------

def _advance_at_once(app, data: dict, now, threads: int = 30) -> None:
    barrier = threading.Barrier(threads, timeout=BARRIER_TIMEOUT)

    def one(_: int) -> None:
        with app.app_context():
            _, assembly = _load(data, data["voters"][0])
            db.session.commit()
            barrier.wait()
            voting.advance(assembly, now)
            db.session.commit()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(threads)))


def test_many_requests_opening_and_closing_at_once_do_it_once(concurrent_app):
    data = _setup(concurrent_app, "secret", residents=3, opened=False)
    _advance_at_once(concurrent_app, data, OPENS)
    with concurrent_app.app_context():
        assert db.session.get(Assembly, data["assembly"]).status == "voting"
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.kind == "voting_open")) == data["residents"]
    _vote_at_once(concurrent_app, data, data["voters"])

    _advance_at_once(concurrent_app, data, CLOSES)
    with concurrent_app.app_context():
        assert db.session.get(Assembly, data["assembly"]).status == "closed"
        assert db.session.scalar(select(func.count()).select_from(BallotResult)
                                 .where(BallotResult.ballot_id == data["ballot"])) == 1
        assert db.session.scalar(select(func.count()).select_from(ProposalEvent).where(
            ProposalEvent.to_status.in_(["accepted", "rejected"]))) == 2
        outcomes = db.session.scalars(select(Notification.params).where(
            Notification.user_id == data["author"], Notification.kind == "proposal_status")).all()
        assert sorted(p["status"] for p in outcomes if p["status"] != "on_agenda") == ["accepted", "rejected"]


# --- without the constraint --------------------------------------------------------------------------

class Request(threading.Thread):
    """One request's app context and database session, driven step by step by the test, so
    two transactions can be interleaved in an exact order."""

    def __init__(self, app) -> None:
        super().__init__(daemon=True)
        self.app, self.steps, self.answers = app, queue.Queue(), queue.Queue()
        self.start()

    def run(self) -> None:
        with self.app.app_context():
            while (step := self.steps.get()) is not None:
                try:
                    self.answers.put((True, step()))
                except Exception as error:  # noqa: BLE001 - handed to the test
                    db.session.rollback()
                    self.answers.put((False, error))
            db.session.close()

    def do(self, step):
        self.steps.put(step)
        ok, value = self.answers.get(timeout=STEP_TIMEOUT)
        if not ok:
            raise value
        return value

    def finish(self) -> None:
        self.steps.put(None)
        self.join(timeout=STEP_TIMEOUT)


@pytest.mark.parametrize("constraint", ["kept", "dropped"])
def test_a_check_in_python_would_not_stop_a_double_vote(concurrent_app, constraint):
    """Two requests of one resident, interleaved: both read "not voted yet" before either
    commits. Only the unique constraint turns the second into a refusal; without it the
    resident has voted twice in a secret ballot (two papers, two receipts)."""
    data = _setup(concurrent_app, "secret", residents=1)
    if constraint == "dropped":
        with concurrent_app.app_context():
            db.session.execute(text("ALTER TABLE participations DROP CONSTRAINT uq_participations_ballot_id_user_id"))
            db.session.commit()
    vote = {data["items"][0]: "yes"}
    first, second = Request(concurrent_app), Request(concurrent_app)
    try:
        loaded = {}
        for request in (first, second):
            loaded[request] = request.do(lambda: _load(data, data["voters"][0]))
        for request in (first, second):
            user, assembly = loaded[request]
            assert request.do(lambda user=user, ballot=assembly.ballot: voting.has_voted(user, ballot)) is False

        def cast(request):
            user, assembly = loaded[request]
            receipt = voting.cast_vote(user, NOW, assembly, vote)
            db.session.commit()
            return receipt

        assert first.do(lambda: cast(first))
        if constraint == "kept":  # the second is a change of the first vote: no second receipt
            assert second.do(lambda: cast(second)) is None
        else:
            assert second.do(lambda: cast(second))
    finally:
        first.finish()
        second.finish()
    stored = _stored(concurrent_app, data["ballot"])
    if constraint == "kept":
        assert stored == {"turnout": 1, "participations": 1, "papers": 1}
    else:
        assert stored == {"turnout": 2, "participations": 2, "papers": 2}


def test_without_the_constraint_simultaneous_votes_get_in_twice(concurrent_app):
    """And with simultaneous requests: nothing else stops a repeated vote, so all 20 are stored."""
    data = _setup(concurrent_app, "secret", residents=1)
    with concurrent_app.app_context():
        db.session.execute(text("ALTER TABLE participations DROP CONSTRAINT uq_participations_ballot_id_user_id"))
        db.session.commit()
    results = _vote_at_once(concurrent_app, data, data["voters"] * 20)
    stored = _stored(concurrent_app, data["ballot"])
    assert stored["participations"] == stored["papers"] == stored["turnout"] == results.count("receipt")
    assert stored["participations"] == 20


def _wait_until_blocked(app, statement_start: str) -> None:
    """Until a session of the database waits for a lock while running a statement that begins so."""
    with app.app_context():
        for _ in range(STEP_TIMEOUT * 20):
            waiting = db.session.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE :start"), {"start": statement_start + "%"})
            db.session.commit()
            if waiting:
                return
            threading.Event().wait(0.05)
    raise AssertionError("the second vote never waited for the first")


@pytest.mark.parametrize("secrecy", ["open", "secret"])
def test_a_changed_vote_that_waited_for_the_first_still_replaces_it(concurrent_app, secrecy):
    """The first vote is stored and not yet committed when the same resident's second vote starts:
    the second waits on the participation's unique index, then finds a changed vote. On PostgreSQL
    the vote is one statement with one snapshot, taken before the first vote committed, so its
    rewrite cannot see the first paper (or envelope); the second vote must still replace it (a
    statement of its own), or an acknowledged vote would be lost."""
    data = _setup(concurrent_app, secrecy, residents=1)
    first_vote = {data["items"][0]: "yes", data["items"][1]: "yes"}
    second_vote = {data["items"][0]: "no", data["items"][1]: "no"}
    written, release = threading.Event(), threading.Event()

    def cast(vote: dict, hold: bool) -> None:
        with concurrent_app.app_context():
            user, assembly = _load(data, data["voters"][0])
            voting.cast_vote(user, NOW, assembly, vote)
            if hold:
                written.set()
                assert release.wait(STEP_TIMEOUT)
            db.session.commit()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(cast, first_vote, True)
        assert written.wait(STEP_TIMEOUT)
        second = pool.submit(cast, second_vote, False)
        try:
            _wait_until_blocked(concurrent_app, "WITH first_vote")
        finally:
            release.set()
        first.result(timeout=STEP_TIMEOUT)
        second.result(timeout=STEP_TIMEOUT)
    with concurrent_app.app_context():
        assert af.stored_counts(data["ballot"]) == {"turnout": 1, "participations": 1, "papers": 1}
        assert af.current_vote(data["ballot"], data["voters"][0]) == second_vote


# --- casting against closing, with two app servers ------------------------------------------------------

def test_votes_racing_the_close_are_counted_exactly_when_acknowledged(committed_database):
    """Residents vote in the last second while two app servers (two apps, two connection pools)
    run the closing tick at once and a third reads the page: every vote that was acknowledged
    (committed) is in the one result, every other one was refused and left nothing behind."""
    servers = [create_app(app_config(committed_database)) for _ in range(3)]
    try:
        data = _setup(servers[0], "secret", residents=60)
        last_second = CLOSES - dt.timedelta(seconds=1)
        barrier = threading.Barrier(len(data["voters"]) + 3, timeout=BARRIER_TIMEOUT)
        vote = {data["items"][0]: "yes"}

        def voter(user_id: int) -> str:
            app = servers[user_id % 2]
            with app.app_context():
                user, assembly = _load(data, user_id)
                db.session.commit()
                barrier.wait()
                try:
                    receipt = voting.cast_vote(user, last_second, assembly, vote)
                    db.session.commit()
                    return receipt
                except InvalidTransition:
                    db.session.rollback()
                    return "refused"

        def closer(app) -> tuple[int, int]:
            barrier.wait()
            return af.tick(app, CLOSES)

        def reader() -> int:
            barrier.wait()
            return servers[2].test_client().get(data["url"]).status_code

        with ThreadPoolExecutor(max_workers=len(data["voters"]) + 3) as pool:
            votes = [pool.submit(voter, user_id) for user_id in data["voters"]]
            closers = [pool.submit(closer, app) for app in servers[:2]]
            page = pool.submit(reader)
            outcomes = [future.result() for future in votes]
            ticks = [future.result() for future in closers]
        assert page.result() == 200
        acknowledged = [code for code in outcomes if code != "refused"]
        assert sorted(ticks) == [(0, 0), (1, 0)] or sorted(ticks) == [(1, 0), (1, 0)]
        with servers[0].app_context():
            results = db.session.scalars(select(BallotResult).where(BallotResult.ballot_id == data["ballot"])).all()
            assert len(results) == 1
            document = results[0].document
            assert len(document["ballots"]) == len(acknowledged) == results[0].result["turnout"]
            assert document["receipts"] == sorted(voting.receipt_hash(code) for code in acknowledged)
            assert af.stored_counts(data["ballot"]) == {"turnout": len(acknowledged),
                                                         "participations": len(acknowledged),
                                                         "papers": len(acknowledged)}
    finally:
        for app in servers:
            app.extensions["assembly_db"].engine.dispose()


def test_a_vote_after_closing_is_refused_without_counting_anything(concurrent_app, monkeypatch):
    data = _setup(concurrent_app, "secret", residents=2)
    af.tick(concurrent_app, CLOSES)
    counted = []
    monkeypatch.setattr(voting.tally, "tally_document", lambda *args: counted.append(args))
    monkeypatch.setattr("assembly.web.utcnow", lambda: CLOSES + HOUR)
    client = concurrent_app.test_client()
    login(client, data["emails"][0])
    response = client.post(f"{data['url']}/vote", data={f"item-{data['items'][0]}": "yes"})
    assert response.status_code == 400 and counted == []
    with concurrent_app.app_context():
        assert af.stored_counts(data["ballot"]) == {"turnout": 0, "participations": 0, "papers": 0}
