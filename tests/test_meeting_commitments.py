"""A meeting's question followed by a commitment in a promise of the body asked: recorded with the
answer in one transaction, only in a promise of that body for one of the meeting's neighbourhoods,
at most one per question (the database's unique constraint), on a timeline that still verifies;
the links both ways, the followers told, and the demo's commitment made at Tehran's meeting."""
from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assembly.audit.models import AuditEvent
from assembly.db import db
from assembly.demo import load_demo
from assembly.errors import NotAllowed, ValidationFailed
from assembly.meetings import services as meetings
from assembly.meetings.models import FollowUp, Meeting, MeetingQuestion, MeetingStatus
from assembly.notifications.models import Notification
from assembly.notifications.services import render_notification
from assembly.promises import queries as promise_queries
from assembly.promises import services as promises
from assembly.promises.models import Commitment, PromiseStatus
from tests import factories
from tests import meeting_factories as mf
from tests.api_support import bearer, token_for
from tests.support import committed, login, text


@pytest.fixture
def w(ctx):
    return mf.world()


def now():
    return factories.now()


def _held(w, **question) -> MeetingQuestion:
    mf.opened(w)
    asked = mf.question(w, **question)
    meetings.support(w.neighbour, now(), asked)
    meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.HELD)
    return asked


def _answer(w, question, made, actor=None, **changes):
    return meetings.record_answer(actor or w.muhtar, now(), question, answer="Parktaki 12 lamba mart sonuna kadar "
                                  "onarılacak.", follow_up="commitment", commitment=mf.terms(made, **changes))


def test_an_answer_becomes_a_commitment_of_the_body_in_its_promise(w):
    question = _held(w)
    made = mf.promise(w)
    follower = factories.user(locale="sv")
    promises.follow(follower, now(), made)

    commitment = _answer(w, question, made)

    assert isinstance(commitment, Commitment) and commitment.promise_id == made.id
    assert commitment.meeting_question_id == question.id and commitment.body_ids == {w.electricity.id}
    assert (commitment.title, commitment.indicator_kind, commitment.baseline, commitment.target) == (
        "Moda Parkı lambalarını onarmak", "count", 0, 12)
    assert commitment.description == question.answer  # the answer, when nothing else was written
    assert commitment.position == 2 and commitment.due_on == dt.date(2027, 3, 31)
    assert question.follow_up == FollowUp.COMMITMENT.value and question.answered_by_id == w.muhtar.id
    [first] = promise_queries.events_of(commitment)
    assert first.kind == "committed" and first.note == question.answer
    assert first.data["meeting"] == w.meeting.id and first.data["question"] == question.id
    assert first.data["meeting_title"] == w.meeting.title and first.data["bodies"] == [w.electricity.name]
    assert promises.verify_chain(commitment, [first]) is None and list(promises.verify_all()) == []
    assert meetings.commitments_by_question(w.meeting) == {question.id: commitment}
    assert promise_queries.meeting_origins(made)[commitment.id] == question
    # the question's author and supporter are told of the answer and of the commitment
    told = {n.user_id: n for n in db.session.scalars(select(Notification).where(Notification.kind == "meeting_answer"))}
    assert set(told) == {w.resident.id, w.neighbour.id}
    with force_locale("en"):
        message = render_notification(told[w.resident.id])
    assert "made a commitment, “Moda Parkı lambalarını onarmak”, due Mar 31, 2027" in message
    # those who follow the published promise are told it gained a commitment
    [gained] = db.session.scalars(select(Notification).where(Notification.user_id == follower.id))
    assert gained.kind == "promise_meeting_commitment" and gained.link == f"/promises/{made.id}"
    with force_locale("en"):
        assert w.meeting.title in render_notification(gained)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == w.muhtar.id)))
    assert {"meeting.answer", "promise.commit_at_meeting"} <= actions


def test_the_body_asked_records_its_own_commitment_and_another_body_is_refused(w):
    question = _held(w)
    made = mf.promise(w)
    with pytest.raises(NotAllowed):
        _answer(w, question, made, actor=w.police_staff)
    with pytest.raises(NotAllowed):
        _answer(w, question, made, actor=w.resident)
    assert question.answer is None
    assert _answer(w, question, made, actor=w.electricity_staff).promise_id == made.id


def test_only_a_promise_of_the_body_asked_is_accepted(w):
    question = _held(w)  # to the electricity company
    police_promise = mf.promise(w, body=w.police, staff=w.police_staff, title="Güvenli Moda")
    with pytest.raises(ValidationFailed) as refused:
        _answer(w, question, police_promise)
    assert refused.value.reasons == {"promise_id": ["Choose a promise that Elektrik Dağıtım A.Ş. gives."]}
    assert question.answer is None and question.follow_up is None
    assert db.session.scalar(select(Commitment).where(Commitment.meeting_question_id == question.id)) is None


def test_only_a_promise_for_one_of_the_meetings_neighbourhoods_is_accepted(w):
    question = _held(w)
    elsewhere = mf.promise(w, hoods=[w.elsewhere], title="Aydınlık Fikirtepe")
    with pytest.raises(ValidationFailed) as refused:
        _answer(w, question, elsewhere)
    assert refused.value.reasons == {"promise_id": ["Choose a promise for one of the meeting's neighbourhoods."]}
    # a promise for the other covered neighbourhood is accepted (the asker lives in Moda)
    caferaga = mf.promise(w, hoods=[w.caferaga], title="Aydınlık Caferağa")
    assert _answer(w, question, caferaga).promise_id == caferaga.id


def test_a_closed_promise_and_bad_terms_are_refused_all_at_once(w):
    question = _held(w)
    made = mf.promise(w)
    with pytest.raises(ValidationFailed) as refused:
        _answer(w, question, made, title="", target=None, indicator_label="", due_on=None)
    assert set(refused.value.reasons) == {"title", "target", "indicator_label", "due_on"}
    with pytest.raises(ValidationFailed) as refused:
        _answer(w, question, made, indicator_kind="survey_question")
    assert set(refused.value.reasons) == {"indicator_kind"}
    with pytest.raises(ValidationFailed) as refused:
        _answer(w, question, made, due_on=dt.date(2028, 1, 1), budget=5000)
    assert set(refused.value.reasons) == {"due_on", "currency"}
    assert "2026" in refused.value.reasons["due_on"][0] and "2027" in refused.value.reasons["due_on"][0]
    with pytest.raises(ValidationFailed) as refused:
        _answer(w, question, made, due_on=dt.date(2026, 12, 9))  # the day before the meeting
    assert refused.value.reasons == {"due_on": ["The due date cannot be before the meeting."]}
    with pytest.raises(ValidationFailed) as refused:
        _answer(w, question, made, target="12.5")  # a number is a whole number
    assert set(refused.value.reasons) == {"target"}
    with pytest.raises(ValidationFailed) as refused:
        meetings.record_answer(w.muhtar, now(), question, answer="", follow_up="commitment")
    assert {"answer", "promise_id"} <= set(refused.value.reasons)
    made.status = PromiseStatus.CLOSED.value
    db.session.flush()
    with pytest.raises(ValidationFailed) as refused:
        _answer(w, question, made)
    assert set(refused.value.reasons) == {"promise_id"}
    assert question.answer is None


def test_a_draft_promise_of_the_body_takes_the_commitment_too(w):
    question = _held(w)
    draft = mf.promise(w, publish=False)
    commitment = _answer(w, question, draft, budget=250000, currency="try")
    assert commitment.promise_id == draft.id and (commitment.budget, commitment.currency) == (250000, "TRY")
    assert [p.id for p in promise_queries.open_promises_for(w.muhtar, question)] == [draft.id]
    # the commitment is part of what the body then signs and publishes
    promises.sign(w.electricity_staff, now(), draft, w.electricity)
    promises.publish(w.electricity_staff, now(), draft)
    assert [c.title for c in draft.commitments] == ["Trafoları yenilemek", "Moda Parkı lambalarını onarmak"]


def test_one_question_gives_one_commitment(w):
    question = _held(w)
    made = mf.promise(w)
    commitment = _answer(w, question, made)
    # a corrected answer keeps the commitment and makes no other
    assert _answer(w, question, made, title="Başka") is None
    assert question.answer and len(made.commitments) == 2
    with pytest.raises(ValidationFailed, match="stays so"):
        meetings.record_answer(w.muhtar, now(), question, answer="Vazgeçtik.", follow_up="none")
    # a second commitment for the question is refused by the database's unique constraint
    checked = promises.check_meeting_commitment(w.muhtar, question, mf.terms(made), answer="Yine")
    with pytest.raises(ValidationFailed, match="already become a commitment"):
        promises.commit_at_meeting(w.muhtar, now(), question, checked, answer="Yine")
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(Commitment.__table__.update().where(Commitment.id == made.commitments[0].id)
                               .values(meeting_question_id=question.id))
    assert db.session.scalars(select(Commitment.id).where(Commitment.meeting_question_id == question.id)).all() == [
        commitment.id]
    assert list(promises.verify_all()) == []


def test_a_corrected_answer_may_become_a_commitment_and_the_followers_are_told_again(w):
    question = _held(w)
    meetings.record_answer(w.muhtar, now(), question, answer="Bakacağız.", follow_up="none")
    commitment = _answer(w, question, mf.promise(w))
    assert commitment is not None and question.follow_up == "commitment"
    told = list(db.session.scalars(select(Notification).where(Notification.kind == "meeting_answer",
                                                              Notification.user_id == w.resident.id)
                                   .order_by(Notification.id)))
    assert [n.params.get("commitment") for n in told] == [None, "Moda Parkı lambalarını onarmak"]


def test_a_commitment_stays_one_and_a_case_stays_a_case(w):
    question = _held(w)
    made = mf.promise(w)
    meetings.record_answer(w.muhtar, now(), question, answer="Arıza kaydı.", follow_up="case",
                           category_id=w.category.id)
    with pytest.raises(ValidationFailed, match="case"):
        _answer(w, question, made)
    assert db.session.scalar(select(Commitment).where(Commitment.meeting_question_id == question.id)) is None


def test_progress_on_the_commitment_reaches_the_questions_followers(w):
    question = _held(w)
    commitment = _answer(w, question, mf.promise(w))
    promises.record_progress(w.electricity_staff, now(), commitment, percent=25, value=3, note="3 lamba onarıldı.")
    told = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "promise_progress"))}
    assert told == {w.resident.id, w.neighbour.id}
    events = promise_queries.events_of(commitment)
    assert [e.kind for e in events] == ["committed", "progress"] and promises.verify_chain(commitment, events) is None


def test_the_demo_has_a_commitment_made_at_tehrans_meeting(ctx, tmp_path, monkeypatch):
    monkeypatch.setattr("assembly.consultations.files.folder", lambda: tmp_path)
    load_demo(factories.now())
    [commitment] = db.session.scalars(select(Commitment).where(Commitment.meeting_question_id.is_not(None))).all()
    question = db.session.get(MeetingQuestion, commitment.meeting_question_id)
    meeting = db.session.get(Meeting, question.meeting_id)
    assert question.follow_up == "commitment" and meeting.status == "closed"
    assert meeting.municipality.code == "TEH20" and commitment.promise.status == "published"
    assert question.body_id in commitment.promise.body_ids and commitment.body_ids == {question.body_id}
    events = promise_queries.events_of(commitment)
    assert events[0].data["question"] == question.id and len(events) >= 2
    assert list(promises.verify_all()) == []
    result = ctx.test_cli_runner().invoke(args=["promises", "verify"])
    assert result.exit_code == 0, result.output


# --- over HTTP ----------------------------------------------------------------------------------------

def _as(app, person):
    client = app.test_client()
    login(client, person.email)
    return client


def _held_world(app, publish: bool = True):
    """A held meeting with a question to the electricity company, its promise for Moda, and two
    promises that may not take the commitment (the police's; the electricity company's elsewhere)."""
    with committed(app):
        w = mf.world()
        mf.opened(w)
        question = mf.question(w)
        meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.HELD)
        made = mf.promise(w, publish=publish)
        mf.promise(w, body=w.police, staff=w.police_staff, title="Güvenli Moda")
        mf.promise(w, hoods=[w.elsewhere], title="Aydınlık Fikirtepe")
        return w, question.id, made.id


FORM = {"answer": "Parktaki 12 lamba mart sonuna kadar onarılacak.", "follow_up": "commitment",
        "title": "Moda Parkı lambalarını onarmak", "indicator_kind": "count", "indicator_label": "Onarılan lamba",
        "baseline": "0", "target": "12", "due_on": "2027-03-31", "budget": "", "currency": "", "category_id": "0"}


def test_the_answer_form_offers_the_bodys_promises_and_keeps_what_was_typed(app):
    w, question_id, promise_id = _held_world(app)
    client = _as(app, w.muhtar)
    address = f"/meetings/{w.meeting.id}/questions/{question_id}/answer"
    page = client.get(address)
    assert page.status_code == 200
    assert "Aydınlık Moda sözü" in text(page) and "Güvenli Moda" not in text(page)
    assert "Aydınlık Fikirtepe" not in text(page)
    assert f'<option selected value="{promise_id}"' in page.get_data(as_text=True)  # the only one: chosen
    refused = client.post(address, data={**FORM, "promise_id": str(promise_id), "target": "",
                                         "due_on": "2026-12-01"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'value="Moda Parkı lambalarını onarmak"' in html and 'value="Onarılan lamba"' in html
    assert 'id="target-error"' in html and 'id="due_on-error"' in html
    assert "The due date cannot be before the meeting." in text(refused)
    with app.app_context():
        assert db.session.get(MeetingQuestion, question_id).answer is None
    # the police's staff may not record a commitment of the electricity company
    assert _as(app, w.police_staff).post(address, data={**FORM, "promise_id": str(promise_id)}).status_code == 403


def test_the_question_and_the_commitment_link_to_each_other(app):
    w, question_id, promise_id = _held_world(app)
    client = _as(app, w.electricity_staff)
    response = client.post(f"/meetings/{w.meeting.id}/questions/{question_id}/answer",
                           data={**FORM, "promise_id": str(promise_id)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#question-{question_id}")
    with app.app_context():
        commitment = db.session.scalars(select(Commitment).where(Commitment.meeting_question_id == question_id)).one()
        assert db.session.get(MeetingQuestion, question_id).follow_up == "commitment"
    visitor = app.test_client()
    visitor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the page would be in the place's Turkish
    meeting_page = visitor.get(f"/meetings/{w.meeting.id}")
    assert f'href="/promises/{promise_id}#c{commitment.id}"' in meeting_page.get_data(as_text=True)
    assert "Became a commitment in the promise Aydınlık Moda sözü:" in text(meeting_page)
    promise_page = visitor.get(f"/promises/{promise_id}")
    assert f'href="/meetings/{w.meeting.id}#question-{question_id}"' in promise_page.get_data(as_text=True)
    assert "From the question asked at the meeting" in text(promise_page)
    assert f"Made at the meeting “{w.meeting.title}” in answer to a question." in text(promise_page)
    # the answer page now shows the commitment instead of its form; the answer can still be corrected
    page = client.get(f"/meetings/{w.meeting.id}/questions/{question_id}/answer")
    assert f'href="/promises/{promise_id}#c{commitment.id}"' in page.get_data(as_text=True)
    assert 'name="indicator_label"' not in page.get_data(as_text=True)
    printed = visitor.get(f"/meetings/{w.meeting.id}/print")
    assert "Moda Parkı lambalarını onarmak" in text(printed)


def test_a_commitment_in_a_draft_promise_is_not_linked_for_those_who_may_not_read_the_draft(app):
    w, question_id, promise_id = _held_world(app, publish=False)
    assert _as(app, w.muhtar).post(f"/meetings/{w.meeting.id}/questions/{question_id}/answer",
                                   data={**FORM, "promise_id": str(promise_id)}).status_code == 302
    public = text(app.test_client().get(f"/meetings/{w.meeting.id}", headers={"Accept-Language": "en"}))
    assert "Became a commitment in a promise that is still being drafted:" in public
    assert "Aydınlık Moda sözü" not in public
    muhtar = _as(app, w.muhtar).get(f"/meetings/{w.meeting.id}").get_data(as_text=True)
    assert f'href="/promises/{promise_id}#c' in muhtar  # the muhtar of Moda reads the draft


def test_the_api_names_the_question_a_commitment_was_made_for(app):
    w, question_id, promise_id = _held_world(app)
    assert _as(app, w.muhtar).post(f"/meetings/{w.meeting.id}/questions/{question_id}/answer",
                                   data={**FORM, "promise_id": str(promise_id)}).status_code == 302
    with committed(app):
        token = token_for(db.session.get(type(w.electricity_staff), w.electricity_staff.id),
                          db.session.get(type(w.electricity), w.electricity.id))
    api = app.test_client()
    promise = api.get(f"/api/v1/promises/{promise_id}", headers=bearer(token)).get_json()["data"]
    first, made = promise["commitments"]
    assert first["made_at_meeting"] is None and made["url"].endswith(f"/promises/{promise_id}#c{made['id']}")
    assert made["made_at_meeting"]["meeting_id"] == w.meeting.id
    assert made["made_at_meeting"]["question_id"] == question_id
    assert made["made_at_meeting"]["url"].endswith(f"/meetings/{w.meeting.id}#question-{question_id}")
    alone = api.get(f"/api/v1/promises/{promise_id}/commitments/{made['id']}", headers=bearer(token)).get_json()
    assert alone["data"]["made_at_meeting"] == made["made_at_meeting"]
    assert alone["data"]["events"][0]["data"]["question"] == question_id
