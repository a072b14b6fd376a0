"""Commitments made at a meeting under simultaneous requests, on PostgreSQL with real commits.

Each thread does what the answer form's request does: its own app context and session,
`meetings.record_answer` with follow-up `commitment`, one commit.

- The same question answered at once by several people (the organiser pressing twice, the body's
  staff at the same moment): every request reads the question before any commits, so each believes
  it makes the first commitment. The unique constraint on `commitments.meeting_question_id` lets
  one INSERT through; the others wait for it and are refused with a message. One commitment.
- Different questions turned into commitments of one promise at once: the positions in the promise
  (unique per promise) are read after the promise's row is locked (`UPDATE promises …`), so each
  transaction sees the positions the others committed. Without the lock they would all read the
  same highest position and all but one would fail.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from assembly.accounts.models import User
from assembly.db import db
from assembly.errors import ValidationFailed
from assembly.meetings import services as meetings
from assembly.meetings.models import MeetingQuestion, MeetingStatus
from assembly.promises import services as promises
from assembly.promises.models import Commitment
from tests import factories
from tests import meeting_factories as mf

pytestmark = pytest.mark.postgres

SAME_QUESTION = 8
QUESTIONS = 12
BARRIER_TIMEOUT = 300  # only a safety net so that a broken run fails instead of hanging


def _setup(app, questions: int) -> dict:
    with app.app_context():
        w = mf.world()
        mf.opened(w)
        asked = [mf.question(w, f"Soru {n}") for n in range(questions)]
        meetings.move(w.muhtar, factories.now(), w.meeting, MeetingStatus.HELD)
        made = mf.promise(w)
        db.session.commit()
        return {"questions": [q.id for q in asked], "promise": made.id,
                "people": [w.muhtar.id, w.electricity_staff.id]}


def _answer_at_once(app, jobs: list[tuple[int, int]], promise_id: int) -> list[str]:
    """(user id, question id) per thread, all started together."""
    barrier = threading.Barrier(len(jobs), timeout=BARRIER_TIMEOUT)

    def one(job: tuple[int, int]) -> str:
        user_id, question_id = job
        with app.app_context():
            person = db.session.get(User, user_id)
            question = db.session.get(MeetingQuestion, question_id)
            question.meeting.municipality  # noqa: B018 - loaded before the race, as a request would
            question.meeting.covered  # noqa: B018
            question.body  # noqa: B018
            meetings.permissions.roles_of(person)
            db.session.commit()
            barrier.wait()
            try:
                meetings.record_answer(person, factories.now(), question, answer=f"Söz: {question.text}",
                                       follow_up="commitment",
                                       commitment=mf.terms(None, promise_id=promise_id, title=question.text))
                db.session.commit()
                return "ok"
            except ValidationFailed:
                db.session.rollback()
                return "refused"

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(one, jobs))


def test_one_question_answered_at_once_gives_one_commitment(concurrent_app):
    ids = _setup(concurrent_app, 1)
    [question_id] = ids["questions"]
    jobs = [(ids["people"][n % 2], question_id) for n in range(SAME_QUESTION)]
    results = _answer_at_once(concurrent_app, jobs, ids["promise"])

    assert results.count("ok") == 1 and results.count("refused") == SAME_QUESTION - 1
    with concurrent_app.app_context():
        made = db.session.scalars(select(Commitment).where(Commitment.meeting_question_id == question_id)).all()
        assert len(made) == 1 and made[0].position == 2
        assert db.session.get(MeetingQuestion, question_id).follow_up == "commitment"
        assert list(promises.verify_all()) == []


def test_questions_made_commitments_of_one_promise_at_once_take_distinct_positions(concurrent_app):
    ids = _setup(concurrent_app, QUESTIONS)
    jobs = [(ids["people"][n % 2], question_id) for n, question_id in enumerate(ids["questions"])]
    results = _answer_at_once(concurrent_app, jobs, ids["promise"])

    assert results == ["ok"] * QUESTIONS
    with concurrent_app.app_context():
        rows = db.session.execute(select(Commitment.position, Commitment.meeting_question_id)
                                  .where(Commitment.promise_id == ids["promise"])).all()
        assert sorted(position for position, _ in rows) == list(range(1, QUESTIONS + 2))
        assert sorted(question for _, question in rows if question) == sorted(ids["questions"])
        assert list(promises.verify_all()) == []
