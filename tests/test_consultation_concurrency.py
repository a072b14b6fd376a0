"""One answer per neighbourhood and consultation, under simultaneous sends, on PostgreSQL with
real commits.

A consultation is counted in Moda's assembly and committed; then several threads start together
(a barrier) and each does what the answer form's request does: its own app context and session,
`consultations.services.send_answer`, one commit — a muhtar pressing "send" in several tabs, or
two muhtars of the neighbourhood at once.

Why this needs the unique constraint on consultation_answers (consultation_id, neighbourhood_id):
a check "has this neighbourhood answered?" made before the insert is read by every transaction
before any of them commits, so all of them would pass it and all would store an answer and open a
case. With the constraint, the second insert waits for the first transaction and then fails; the
service turns that into the "already answered" refusal. The second test removes the constraint
from its own database and shows the duplicates that then get through.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from assembly.accounts.models import User
from assembly.cases.models import Case
from assembly.consultations import services
from assembly.consultations.models import Consultation, ConsultationAnswer
from assembly.db import db
from assembly.errors import ValidationFailed
from assembly.neighbourhoods.models import Neighbourhood
from tests import consultation_factories as kf
from tests.assembly_factories import CLOSES, HOUR

pytestmark = pytest.mark.postgres

SENDERS = 8
BARRIER_TIMEOUT = 300  # only a safety net so a broken run fails instead of hanging


def _setup(app, storage) -> dict:
    with app.app_context():
        w = kf.world()
        made = kf.consultation(w, storage, files=[])
        kf.counted(w.moda, made, ["yes", "yes", "no"])
        db.session.commit()
        return {"muhtar": w.moda.muhtar.id, "hood": w.moda.hood.id, "consultation": made.id}


def _send_at_once(app, ids: dict) -> list[str]:
    barrier = threading.Barrier(SENDERS, timeout=BARRIER_TIMEOUT)

    def one(number: int) -> str:
        with app.app_context():
            muhtar = db.session.get(User, ids["muhtar"])
            hood = db.session.get(Neighbourhood, ids["hood"])
            consultation = db.session.get(Consultation, ids["consultation"])
            hood.municipality, consultation.body  # noqa: B018 - loaded before the race, like a request would
            db.session.commit()  # give the connection back while waiting for the others
            barrier.wait()
            try:
                services.send_answer(muhtar, CLOSES + HOUR, consultation, hood, comment=f"Cevap {number}")
                db.session.commit()
                return "sent"
            except ValidationFailed as refused:
                db.session.rollback()
                return refused.message
            except Exception:
                db.session.rollback()
                raise

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        return list(pool.map(one, range(SENDERS)))


def _stored(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(ConsultationAnswer)),
                db.session.scalar(select(func.count()).select_from(Case)))


def test_simultaneous_answers_of_one_neighbourhood_store_exactly_one(concurrent_app, tmp_path):
    ids = _setup(concurrent_app, tmp_path)
    outcomes = _send_at_once(concurrent_app, ids)
    assert outcomes.count("sent") == 1
    assert all("already answered" in outcome for outcome in outcomes if outcome != "sent")
    assert _stored(concurrent_app) == (1, 1)


def test_without_the_unique_constraint_the_same_race_stores_duplicates(concurrent_app, tmp_path):
    """The proof that the constraint, not a check in Python, is what keeps one answer."""
    ids = _setup(concurrent_app, tmp_path)
    with concurrent_app.app_context():
        db.session.execute(text("ALTER TABLE consultation_answers "
                                "DROP CONSTRAINT uq_consultation_answers_consultation_id_neighbourhood_id"))
        db.session.commit()
    outcomes = _send_at_once(concurrent_app, ids)
    answers, cases = _stored(concurrent_app)
    assert outcomes.count("sent") > 1 and answers == outcomes.count("sent") and cases == answers
