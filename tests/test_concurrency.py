"""Supports under simultaneous requests, on PostgreSQL with real commits.

Each test gets a database of its own (`committed_database`) and an app on it; the data is
committed first, then 200 threads start together (a barrier) and each does what a request
does: its own app context and session, the support service, one commit or a rollback.

Why these tests would fail without the unique constraint on supports (proposal_id, user_id):
`services.support` does not look for an existing support before inserting (a read-then-write
check would race anyway); the constraint is the only guard. Without it every one of the 200
inserts by the same resident succeeds, the table holds 200 rows and the counter says 200, so
"exactly one stored, count 1" fails. `test_without_the_unique_constraint_duplicates_get_in`
shows exactly that on a database where the constraint was dropped.
The "200 residents" test fails if the counter were read-modify-written in Python: concurrent
requests would overwrite each other's increments and the count would end below 200.
"""
from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from assembly.accounts.models import User
from assembly.db import db
from assembly.errors import DomainError
from assembly.notifications.models import Notification
from assembly.proposals import services
from assembly.proposals.models import Proposal, Support
from tests import factories
from tests import proposal_factories as pf
from tests.support import login

pytestmark = pytest.mark.postgres

THREADS = 200
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.timezone.utc)
# Only a safety net so a broken run fails instead of hanging; nothing asserts on time.
BARRIER_TIMEOUT = 300


def _setup(app, residents: int, support_threshold: int = 10) -> dict:
    with app.app_context():
        w = pf.world(support_threshold=support_threshold)
        people = [factories.resident(w.hood) for _ in range(residents)]
        proposal = pf.proposal(w)
        db.session.commit()
        return {"proposal": proposal.id, "people": [p.id for p in people], "muhtar": w.muhtar.id,
                "author": w.author.id, "emails": [p.email for p in people]}


def _support_at_once(app, user_ids: list[int], proposal_id: int) -> list[str]:
    """Every user id in its own thread, all calling the support service at the same moment."""
    barrier = threading.Barrier(len(user_ids), timeout=BARRIER_TIMEOUT)

    def one(user_id: int) -> str:
        with app.app_context():
            user = db.session.get(User, user_id)
            proposal = db.session.get(Proposal, proposal_id)
            db.session.commit()  # give the connection back while waiting for the others
            barrier.wait()
            try:
                services.support(user, NOW, proposal)
                db.session.commit()
                return "supported"
            except DomainError:
                db.session.rollback()
                return "refused"

    with ThreadPoolExecutor(max_workers=len(user_ids)) as pool:
        return list(pool.map(one, user_ids))


def _stored(app, proposal_id: int) -> tuple[int, int]:
    """(rows in supports, the maintained counter), read fresh after all threads committed."""
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(Support).where(Support.proposal_id == proposal_id))
        counter = db.session.scalar(select(Proposal.support_count).where(Proposal.id == proposal_id))
        return rows, counter


def test_one_resident_supporting_200_times_at_once_counts_once(concurrent_app):
    data = _setup(concurrent_app, residents=1)
    results = _support_at_once(concurrent_app, data["people"] * THREADS, data["proposal"])
    assert results.count("supported") == 1
    assert results.count("refused") == THREADS - 1
    assert _stored(concurrent_app, data["proposal"]) == (1, 1)


def test_200_residents_supporting_at_once_count_200(concurrent_app):
    data = _setup(concurrent_app, residents=THREADS, support_threshold=10)
    results = _support_at_once(concurrent_app, data["people"], data["proposal"])
    assert results == ["supported"] * THREADS
    assert _stored(concurrent_app, data["proposal"]) == (THREADS, THREADS)
    with concurrent_app.app_context():
        # The threshold was crossed by many requests at once and still marked (and announced) once.
        assert db.session.scalar(select(Proposal.ready_at).where(Proposal.id == data["proposal"])) == NOW
        for user_id in (data["muhtar"], data["author"]):
            assert db.session.scalar(select(func.count()).select_from(Notification).where(
                Notification.user_id == user_id, Notification.kind == "proposal_ready")) == 1


def test_one_resident_posting_200_support_requests_at_once_counts_once(concurrent_app):
    """The same through the web: the view, the error handling and the one commit per request."""
    data = _setup(concurrent_app, residents=1)
    url = f"/n/{_slug(concurrent_app, data['proposal'])}/p/{data['proposal']}/support"
    clients = []
    for _ in range(THREADS):
        client = concurrent_app.test_client()
        login(client, data["emails"][0])
        clients.append(client)
    barrier = threading.Barrier(THREADS, timeout=BARRIER_TIMEOUT)

    def post(client) -> int:
        barrier.wait()
        return client.post(url).status_code

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        statuses = list(pool.map(post, clients))
    assert statuses == [302] * THREADS  # refused ones go back to the page with a message
    assert _stored(concurrent_app, data["proposal"]) == (1, 1)


def _slug(app, proposal_id: int) -> str:
    with app.app_context():
        return db.session.get(Proposal, proposal_id).neighbourhood.slug


def test_without_the_unique_constraint_duplicates_get_in(concurrent_app):
    """The counter-demonstration: the constraint is the only thing keeping supports to one."""
    data = _setup(concurrent_app, residents=1)
    with concurrent_app.app_context():
        db.session.execute(text("ALTER TABLE supports DROP CONSTRAINT uq_supports_proposal_id_user_id"))
        db.session.commit()
    results = _support_at_once(concurrent_app, data["people"] * THREADS, data["proposal"])
    rows, counter = _stored(concurrent_app, data["proposal"])
    assert rows > 1 and counter == rows == results.count("supported")
