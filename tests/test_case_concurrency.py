"""Reference numbers under simultaneous forwardings, on PostgreSQL with real commits.

100 open proposals of one neighbourhood are committed first; then 100 threads start together
(a barrier) and each does what a forwarding request does: its own app context and session,
`cases.forward` with a public reason, one commit.

Why this would fail without the ON CONFLICT counter in `_next_reference`: a number taken as
"SELECT max(...) + 1" (or read from the counter row and written back) is read by many
transactions before any of them commits, so they compute the same number. Either the unique
constraint on cases.reference then refuses all but one of them (forwardings lost, far fewer than
100 cases) or, without that constraint, several cases share a number. And the year's first
forwardings would race to INSERT the counter row and collide on its unique key. The single
`INSERT … ON CONFLICT (neighbourhood_id, year) DO UPDATE SET last_number = last_number + 1
RETURNING last_number` takes the row lock and increments atomically: each transaction waits for
the previous one to commit and sees its number, so the numbers are 0001…0100 with no gap.
"""
from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from assembly.accounts.models import User
from assembly.cases import services as cases
from assembly.cases.models import Case, CaseSequence
from assembly.db import db
from assembly.neighbourhoods.models import Body
from assembly.proposals.models import Proposal
from tests import case_factories as cf

pytestmark = pytest.mark.postgres

FORWARDINGS = 100
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.timezone.utc)
# Only a safety net so a broken run fails instead of hanging; nothing asserts on time.
BARRIER_TIMEOUT = 300


def _setup(app) -> dict:
    with app.app_context():
        w = cf.world()
        items = [cf.proposal(w, NOW, f"Öneri {number}") for number in range(FORWARDINGS)]
        db.session.commit()
        return {"muhtar": w.muhtar.id, "body": w.body.id, "proposals": [p.id for p in items]}


def _forward_at_once(app, muhtar_id: int, body_id: int, proposal_ids: list[int]) -> list[str]:
    barrier = threading.Barrier(len(proposal_ids), timeout=BARRIER_TIMEOUT)

    def one(proposal_id: int) -> str:
        with app.app_context():
            muhtar = db.session.get(User, muhtar_id)
            body = db.session.get(Body, body_id)
            proposal = db.session.get(Proposal, proposal_id)
            proposal.neighbourhood.municipality  # noqa: B018 - loaded before the race, like a request would
            db.session.commit()  # give the connection back while waiting for the others
            barrier.wait()
            try:
                case = cases.forward(muhtar, NOW, proposal, body, reason="Sokak karanlık, acil.")
                db.session.commit()
                return case.reference
            except Exception:
                db.session.rollback()
                raise

    with ThreadPoolExecutor(max_workers=len(proposal_ids)) as pool:
        return list(pool.map(one, proposal_ids))


def test_simultaneous_forwardings_get_distinct_gapless_reference_numbers(concurrent_app):
    ids = _setup(concurrent_app)
    references = _forward_at_once(concurrent_app, ids["muhtar"], ids["body"], ids["proposals"])

    assert len(set(references)) == FORWARDINGS
    assert sorted(references) == [f"KDK-CAFERAGA-2026-{number:04d}" for number in range(1, FORWARDINGS + 1)]
    with concurrent_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == FORWARDINGS
        assert db.session.scalar(select(CaseSequence.last_number)) == FORWARDINGS
        stored = db.session.execute(select(Case.proposal_id, Case.reference)).all()
        assert sorted(proposal for proposal, _ in stored) == sorted(ids["proposals"])
        assert list(cases.verify_all()) == []
