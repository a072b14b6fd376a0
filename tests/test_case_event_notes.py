"""Long notes on case events, through every door: a referral decided in the inbox with a note
longer than the case's note column once ended in a 500 on PostgreSQL (the note is copied into
the new case at the other body). Every door now refuses an over-long note with a clear,
translated field error and writes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assembly.cases import events, queries
from assembly.cases import services as cases
from assembly.cases.models import Case, CaseEvent
from assembly.db import db
from assembly.errors import ValidationFailed
from tests import case_factories as cf
from tests import factories
from tests.api_support import bearer, committed, token_for
from tests.support import english_client, field_errors

NOTE_LIMIT = events.NOTE.max_length


@pytest.fixture
def referral(app):
    """A received council case, its staff and the police (the body a referral goes to)."""
    with committed(app):
        w = cf.world()
        case = cf.forwarded(w, factories.now())
        cases.receive(w.staff, factories.now(), case)
        site = {"reference": case.reference, "staff": w.staff.email, "police": w.other_body.id,
                "police_slug": w.other_body.slug, "token": token_for(w.staff, w.body)}
    return site


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Case)),
                db.session.scalar(select(func.count()).select_from(CaseEvent)))



@pytest.mark.parametrize("length", [NOTE_LIMIT + 1, 5000])
def test_an_inbox_referral_with_an_over_long_note_is_refused_not_a_server_error(app, referral, length):
    client = english_client(app, referral["staff"])
    before = _counts(app)
    response = client.post(f"/cases/{referral['reference']}/events/decided",
                           data={"decision": "referred", "refer_to": str(referral["police"]), "note": "n" * length})
    assert response.status_code == 400
    assert field_errors(response, "decided-note") == [f"Field cannot be longer than {NOTE_LIMIT} characters."]
    assert "n" * length in response.get_data(as_text=True)  # the form keeps the input
    assert _counts(app) == before


def test_an_inbox_referral_with_a_note_at_the_limit_is_stored_whole(app, referral):
    client = english_client(app, referral["staff"])
    note = "ü" * NOTE_LIMIT
    response = client.post(f"/cases/{referral['reference']}/events/decided",
                           data={"decision": "referred", "refer_to": str(referral["police"]), "note": note})
    assert response.status_code == 302
    with app.app_context():
        linked = db.session.scalar(select(Case).where(Case.referred_from_id.is_not(None)))
        assert linked.note == note
        assert queries.events_of(linked)[0].note == note


def test_the_service_refuses_an_over_long_note_whoever_calls_it(ctx):
    w = cf.world()
    case = cf.forwarded(w, factories.now())
    with pytest.raises(ValidationFailed) as refused:
        cases.receive(w.staff, factories.now(), case, "x" * (NOTE_LIMIT + 1))
    assert refused.value.field == "note"
    assert refused.value.message == f"Give at most {NOTE_LIMIT:,} characters."  # the reader's digit grouping
    assert case.status == "forwarded"


def test_the_service_counts_the_note_after_cleaning_it(ctx):
    """Spaces around the note and Windows line ends are not the author's text."""
    w = cf.world()
    case = cf.forwarded(w, factories.now())
    note = "a\r\n" * (NOTE_LIMIT // 2) + "   "
    event = cases.receive(w.staff, factories.now(), case, note)
    assert len(event.note) == NOTE_LIMIT - 1


def test_the_api_refuses_an_over_long_referral_note(app, referral):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "tr"
    before = _counts(app)
    response = client.post(f"/api/v1/cases/{referral['reference']}/events",
                           headers=bearer(referral["token"], **{"Idempotency-Key": "long-note"}),
                           json={"kind": "decided", "decision": "referred", "refer_to": referral["police_slug"],
                                 "note": "n" * 5000})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert list(error["fields"]) == ["note"]
    assert f"{NOTE_LIMIT:,}".replace(",", ".") in error["message"] and "characters" not in error["message"]  # in Turkish
    assert _counts(app) == before
