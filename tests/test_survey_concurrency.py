"""Survey answers under simultaneous requests, on PostgreSQL with real commits: 200 people
answering at once are 200 participations and a counter of 200; one person answering 20 times
at once is one participation (a change, never a duplicate), and after closing one questionnaire."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from assembly.accounts.models import User
from assembly.db import db
from assembly.errors import DomainError
from assembly.surveys import responses
from assembly.surveys.models import Survey, SurveyAnswer, SurveyParticipation
from tests import survey_factories as sf

pytestmark = pytest.mark.postgres

BARRIER_TIMEOUT = 300


def _setup(app, residents: int) -> dict:
    with app.app_context():
        w = sf.world(residents=residents, questions=sf.QUESTIONS[:1])
        db.session.commit()
        return {"survey": w.survey.id, "people": [p.id for p in w.residents], "q": str(w.survey.questions[0].id)}


def _answer_at_once(app, user_ids: list[int], survey_id: int, question: str) -> list[str]:
    barrier = threading.Barrier(len(user_ids), timeout=BARRIER_TIMEOUT)

    def one(args) -> str:
        index, user_id = args
        with app.app_context():
            user = db.session.get(User, user_id)
            survey = db.session.get(Survey, survey_id)
            survey.neighbourhoods, survey.questions  # noqa: B018 - loaded before the race
            db.session.commit()
            barrier.wait()
            try:
                first = responses.respond(user, sf.DURING, survey, {question: index % 3})
                db.session.commit()
                return "first" if first else "changed"
            except DomainError:
                db.session.rollback()
                return "refused"

    with ThreadPoolExecutor(max_workers=len(user_ids)) as pool:
        return list(pool.map(one, enumerate(user_ids)))


def _stored(app, survey_id: int) -> tuple[int, int]:
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(SurveyParticipation)
                                 .where(SurveyParticipation.survey_id == survey_id))
        return rows, db.session.scalar(select(Survey.respondents).where(Survey.id == survey_id))


def _close(app, survey_id: int) -> int:
    with app.app_context():
        assert responses.close_survey(db.session.get(Survey, survey_id), sf.CLOSES)
        db.session.commit()
        return db.session.scalar(select(func.count()).select_from(SurveyAnswer)
                                 .where(SurveyAnswer.survey_id == survey_id))


def test_200_people_answering_at_once_are_200_answers(concurrent_app):
    world = _setup(concurrent_app, 200)
    outcomes = _answer_at_once(concurrent_app, world["people"], world["survey"], world["q"])
    assert outcomes.count("first") == 200
    assert _stored(concurrent_app, world["survey"]) == (200, 200)
    assert _close(concurrent_app, world["survey"]) == 200


def test_one_person_answering_20_times_at_once_is_one_answer(concurrent_app):
    world = _setup(concurrent_app, 1)
    outcomes = _answer_at_once(concurrent_app, world["people"] * 20, world["survey"], world["q"])
    assert outcomes.count("first") == 1 and outcomes.count("changed") == 19
    assert _stored(concurrent_app, world["survey"]) == (1, 1)
    assert _close(concurrent_app, world["survey"]) == 1


