"""Supports of a meeting's question under simultaneous requests, on PostgreSQL with real commits.

Many residents of the covered neighbourhoods support one question at once, and one of them presses
the button several times at once. Each thread does what the request does: its own app context and
session, `meetings.support`, one commit. The unique constraint on (question, user) keeps one support
per person, whatever the timing; the counter is changed with `UPDATE … SET support_count =
support_count + 1` in the support's own transaction, so it equals the number of supports — a
read-modify-write counter would lose increments here.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from assembly.accounts.models import User
from assembly.db import db
from assembly.errors import DomainError
from assembly.meetings import services as meetings
from assembly.meetings.models import MeetingQuestion, QuestionSupport
from tests import factories
from tests import meeting_factories as mf

pytestmark = pytest.mark.postgres

SUPPORTERS = 30
REPEATS = 5  # one person's simultaneous presses
BARRIER_TIMEOUT = 300


def _setup(app) -> dict:
    with app.app_context():
        w = mf.world()
        mf.opened(w)
        question = mf.question(w)
        people = [factories.resident(w.caferaga if n % 2 else w.moda) for n in range(SUPPORTERS)]
        db.session.commit()
        return {"question": question.id, "people": [p.id for p in people], "eager": w.neighbour.id}


def _support_at_once(app, question_id: int, user_ids: list[int]) -> list[str]:
    barrier = threading.Barrier(len(user_ids), timeout=BARRIER_TIMEOUT)

    def one(user_id: int) -> str:
        with app.app_context():
            person = db.session.get(User, user_id)
            question = db.session.get(MeetingQuestion, question_id)
            question.meeting.covered  # noqa: B018 - loaded before the race, as a request would
            meetings.permissions.roles_of(person)
            db.session.commit()
            barrier.wait()
            try:
                meetings.support(person, factories.now(), question)
                db.session.commit()
                return "ok"
            except DomainError:
                db.session.rollback()
                return "refused"

    with ThreadPoolExecutor(max_workers=len(user_ids)) as pool:
        return list(pool.map(one, user_ids))


def test_simultaneous_supports_count_once_per_person(concurrent_app):
    ids = _setup(concurrent_app)
    results = _support_at_once(concurrent_app, ids["question"], ids["people"] + [ids["eager"]] * REPEATS)

    assert results.count("ok") == SUPPORTERS + 1
    assert results.count("refused") == REPEATS - 1
    with concurrent_app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(QuestionSupport))
        counter = db.session.scalar(select(MeetingQuestion.support_count).where(MeetingQuestion.id == ids["question"]))
        assert stored == counter == SUPPORTERS + 1
