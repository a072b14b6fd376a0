"""Meeting pages over HTTP: setting up, asking and supporting, the organiser's agenda and answers,
attendance and minutes, the refusals (403, 400 with the form kept), the calendar entry, the
printable agenda and minutes (Persian: right to left, Solar Hijri dates) and the statement count."""
from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from sqlalchemy import select

from assembly.db import db
from assembly.meetings import services as meetings
from assembly.meetings.models import Meeting, MeetingQuestion, MeetingStatus
from tests import factories
from tests import meeting_factories as mf
from assembly.accounts.models import User
from tests.support import committed, counting_statements, login, pdf_text, text, translation


@pytest.fixture
def w(app):
    """The world, committed in an app context of its own: each request then has its own `g`."""
    with committed(app):
        return mf.world()


def _move(app, w, to: MeetingStatus) -> None:
    with committed(app):
        meetings.move(db.session.get(User, w.muhtar.id), factories.now(), db.session.get(Meeting, w.meeting.id), to)


def _ask(app, w, text_: str = "Moda sahilinde sokak lambaları yanmıyor.", body=None, author=None) -> int:
    with committed(app):
        person = db.session.get(User, (author or w.resident).id)
        return meetings.ask(person, factories.now(), db.session.get(Meeting, w.meeting.id),
                            body_id=(body or w.electricity).id, text=text_).id


def _as(app, person):
    client = app.test_client()
    login(client, person.email)
    return client


def test_a_muhtar_sets_up_a_meeting_of_several_neighbourhoods(app, w):
    client = _as(app, w.muhtar)
    page = client.get(f"/n/{w.moda.slug}/meetings/new")
    assert page.status_code == 200 and "Elektrik Dağıtım A.Ş." in text(page)
    response = client.post(f"/n/{w.moda.slug}/meetings/new", data={
        "title": "Huzur Toplantısı Aralık", "organiser": "muhtars", "starts_at": "2026-12-20T18:00",
        "place": "Muhtarlık", "neighbourhoods": [str(w.moda.id), str(w.caferaga.id)],
        f"representative-{w.police.id}": "Komiser Ali Demir", f"representative-{w.electricity.id}": "Can Arslan"})
    assert response.status_code == 302
    with app.app_context():
        meeting = db.session.scalars(select(Meeting).where(Meeting.title == "Huzur Toplantısı Aralık")).one()
        assert meeting.neighbourhood_ids == {w.moda.id, w.caferaga.id}
        assert meeting.body_ids == {w.police.id, w.electricity.id}
        assert meeting.starts_at == dt.datetime(2026, 12, 20, 15, 0, tzinfo=dt.timezone.utc)  # Istanbul is UTC+3


def test_set_up_without_bodies_keeps_the_form(app, w):
    client = _as(app, w.muhtar)
    response = client.post(f"/n/{w.moda.slug}/meetings/new", data={
        "title": "Eksik", "organiser": "muhtars", "starts_at": "2026-12-20T18:00",
        "neighbourhoods": [str(w.moda.id)]})
    assert response.status_code == 400
    assert "Invite at least one body" in text(response) and 'value="Eksik"' in response.get_data(as_text=True)


def test_residents_and_outsiders_cannot_set_up_meetings(app, w):
    assert _as(app, w.resident).get(f"/n/{w.moda.slug}/meetings/new").status_code == 403


def test_a_resident_asks_and_a_neighbour_supports(app, w):
    _move(app, w, MeetingStatus.OPEN)
    resident = _as(app, w.resident)
    page = resident.get(f"/meetings/{w.meeting.id}")
    assert translation("tr", "Ask a question") in text(page)
    response = resident.post(f"/meetings/{w.meeting.id}/questions",
                             data={"body_id": w.police.id, "text": "Parkta gece güvenlik yok."})
    assert response.status_code == 302
    with app.app_context():
        question_id = db.session.scalars(select(MeetingQuestion.id)).one()
    neighbour = _as(app, w.neighbour)
    assert neighbour.post(f"/meetings/{w.meeting.id}/questions/{question_id}/support").status_code == 302
    assert neighbour.post(f"/meetings/{w.meeting.id}/questions/{question_id}/support").status_code == 302
    with neighbour.session_transaction() as kept:
        assert ("error", translation("fa", "You already support this question.")) in kept["_flashes"]
    with app.app_context():
        assert db.session.get(MeetingQuestion, question_id).support_count == 1


def test_refusals_over_http(app, w):
    _move(app, w, MeetingStatus.OPEN)
    question_id = _ask(app, w)
    outsider = _as(app, w.outsider)
    assert "Ask a question" not in text(outsider.get(f"/meetings/{w.meeting.id}"))
    assert outsider.post(f"/meetings/{w.meeting.id}/questions",
                         data={"body_id": w.police.id, "text": "Benim de sorum var"}).status_code == 403
    assert outsider.post(f"/meetings/{w.meeting.id}/questions/{question_id}/support").status_code == 403
    empty = _as(app, w.resident).post(f"/meetings/{w.meeting.id}/questions", data={"body_id": w.police.id, "text": ""})
    assert empty.status_code == 400
    _move(app, w, MeetingStatus.HELD)
    police = _as(app, w.police_staff)  # the question was put to the electricity company
    assert police.get(f"/meetings/{w.meeting.id}/questions/{question_id}/answer").status_code == 403
    assert police.post(f"/meetings/{w.meeting.id}/questions/{question_id}/answer",
                       data={"answer": "Biz", "follow_up": "none"}).status_code == 403
    assert _as(app, w.resident).post(f"/meetings/{w.meeting.id}/status/closed").status_code == 403
    assert _as(app, w.resident).get(f"/meetings/{w.meeting.id}/record").status_code == 403


def test_the_organiser_orders_answers_and_makes_a_case(app, w):
    _move(app, w, MeetingStatus.OPEN)
    first, second = _ask(app, w, "Lambalar"), _ask(app, w, "Devriye", body=w.police)
    muhtar = _as(app, w.muhtar)
    assert muhtar.post(f"/meetings/{w.meeting.id}/agenda",
                       data={f"position-{second}": "1", f"position-{first}": "2"}).status_code == 302
    assert muhtar.post(f"/meetings/{w.meeting.id}/status/held").status_code == 302
    page = muhtar.get(f"/meetings/{w.meeting.id}/questions/{first}/answer")
    assert page.status_code == 200 and f'<option selected value="{w.category.id}"' in page.get_data(as_text=True)
    response = muhtar.post(f"/meetings/{w.meeting.id}/questions/{first}/answer",
                           data={"answer": "Arıza kaydı açılacak.", "follow_up": "case", "category_id": w.category.id},
                           follow_redirects=True)
    assert response.status_code == 200 and "Arıza kaydı açılacak." in text(response)
    assert 'href="/cases/' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(MeetingQuestion, first).follow_up == "case"
        reference = meetings.cases_by_question(db.session.get(Meeting, w.meeting.id))[first][0].reference
    case_page = muhtar.get(f"/cases/{reference}")
    assert f"/meetings/{w.meeting.id}#question-{first}" in case_page.get_data(as_text=True)
    # attendance and minutes, then publishing
    assert muhtar.post(f"/meetings/{w.meeting.id}/attendance",
                       data={"headcount": "37", "present": [str(w.police.id)]}).status_code == 302
    assert muhtar.post(f"/meetings/{w.meeting.id}/minutes",
                       data={"minutes": "# Tutanak\n\n<img src=x onerror=alert(1)> Katılım iyi."}).status_code == 302
    assert muhtar.post(f"/meetings/{w.meeting.id}/status/closed").status_code == 302
    public = app.test_client().get(f"/meetings/{w.meeting.id}")
    body = public.get_data(as_text=True)
    assert "Tutanak" in body and "<img src=x" not in body and "37" in body
    assert body.index("Devriye") < body.index("Lambalar")  # the organiser's order


def test_the_calendar_entry(app, w):
    _move(app, w, MeetingStatus.OPEN)
    response = app.test_client().get(f"/meetings/{w.meeting.id}/meeting.ics")
    event = icalendar.Calendar.from_ical(response.data).walk("VEVENT")[0]
    assert str(event["summary"]) == w.meeting.title and "Komiser Ali Demir" in str(event["description"])
    assert event.decoded("dtstart").utcoffset() == dt.timedelta(hours=3)


def test_a_draft_is_not_public(app, w):
    assert app.test_client().get(f"/meetings/{w.meeting.id}").status_code == 404
    assert _as(app, w.muhtar).get(f"/meetings/{w.meeting.id}").status_code == 200


def test_the_page_costs_a_constant_number_of_statements(app, w):
    _move(app, w, MeetingStatus.OPEN)
    _ask(app, w)
    client = _as(app, w.neighbour)
    client.get(f"/meetings/{w.meeting.id}")
    with counting_statements(app, transaction_control=False) as few:
        client.get(f"/meetings/{w.meeting.id}")
    for n in range(6):
        with committed(app):
            asker = factories.resident(db.session.get(type(w.caferaga), w.caferaga.id))
        question_id = _ask(app, w, f"Soru {n}", body=w.police, author=asker)
        with committed(app):
            meetings.support(factories.resident(db.session.get(type(w.moda), w.moda.id)), factories.now(),
                             db.session.get(MeetingQuestion, question_id))
    with counting_statements(app, transaction_control=False) as many:
        client.get(f"/meetings/{w.meeting.id}")
    assert len(many) == len(few)


def test_printable_minutes_in_turkish(app, w):
    _move(app, w, MeetingStatus.OPEN)
    _ask(app, w, "Moda sahilinde lambalar yanmıyor.")
    response = app.test_client().get(f"/meetings/{w.meeting.id}/print.pdf", headers={"Accept-Language": "en"})
    assert response.headers["Content-Type"] == "application/pdf"
    content = pdf_text(response.data)
    assert "Moda sahilinde lambalar yanmıyor." in content and "Komiser Ali Demir" in content
    assert "Gündem" in content  # the meeting's language, whatever the reader's


def test_printable_minutes_in_persian(app):
    with committed(app):
        w = mf.world(locale="fa", timezone="Asia/Tehran")
        w.meeting.title = "نشست ماهانه شورایاران منطقه ۲۰"
        meetings.move(w.muhtar, factories.now(), w.meeting, MeetingStatus.OPEN)
        mf.question(w, "ایستگاه پلیس در محله دولت‌آباد")
        meetings.move(w.muhtar, factories.now(), w.meeting, MeetingStatus.HELD)
        meetings.save_minutes(w.muhtar, factories.now(), w.meeting, "کانکس‌های پلیس نصب می‌شود.")
        meetings.move(w.muhtar, factories.now(), w.meeting, MeetingStatus.CLOSED)
    page = app.test_client().get(f"/meetings/{w.meeting.id}/print")
    html = page.get_data(as_text=True)
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    assert "۱۴۰۵" in html  # 10 December 2026 is 19 Azar 1405 in the Solar Hijri calendar
    content = pdf_text(app.test_client().get(f"/meetings/{w.meeting.id}/print.pdf").data)
    assert "ایستگاه پلیس در محله دولت‌آباد".replace("\u200c", "") in content.replace("\u200c", "")
    assert "نشست ماهانه شورایاران منطقه" in content and "۲۰" in content  # pdftotext reorders the number
    assert "دستور کار" in content and "صورت‌جلسه".replace("\u200c", "") in content.replace("\u200c", "")

