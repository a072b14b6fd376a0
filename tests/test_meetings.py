"""Meetings with bodies: who may set one up, ask, support, order, answer and record, the refusals,
the case a question becomes (and its link back), the followers' notifications in their language."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assembly.cases import queries as case_queries
from assembly.cases.models import Case
from assembly.db import db
from assembly.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from assembly.meetings import services as meetings
from assembly.meetings.models import MEETING_LIFECYCLE, FollowUp, MeetingStatus, QuestionSupport
from assembly.notifications.models import Notification, OutboxEmail
from assembly.notifications.services import render_notification
from tests import factories
from tests import meeting_factories as mf


@pytest.fixture
def w(ctx):
    return mf.world()


def now():
    return factories.now()


def test_a_meeting_spans_neighbourhoods_and_invites_bodies_with_representatives(w):
    m = w.meeting
    assert m.status == "draft" and m.organiser_kind == "muhtars" and m.locale == "tr"
    assert m.neighbourhood_ids == {w.moda.id, w.caferaga.id}
    assert {(row.body.name, row.representative) for row in m.invited} == {
        ("Kadıköy İlçe Emniyet Müdürlüğü", "Komiser Ali Demir"), ("Kadıköy Belediyesi", "Zabıta Müdürü Fatma Şahin"),
        ("Elektrik Dağıtım A.Ş.", "Bölge Sorumlusu Can Arslan")}
    assert MEETING_LIFECYCLE.label("open") == "Open for questions"


def test_a_body_organises_a_meeting_through_its_staff(w):
    m = meetings.create_meeting(w.police_staff, now(), w.municipality, w.hood_input(), organising_body=w.police)
    assert m.organiser_kind == "body" and m.organising_body_id == w.police.id
    # only its staff organise it: not the muhtars of the covered neighbourhoods, not another body
    assert meetings.permissions.can(w.police_staff, "organise_meeting", m)
    assert not meetings.permissions.can(w.muhtar, "organise_meeting", m)
    assert not meetings.permissions.can(w.electricity_staff, "organise_meeting", m)


@pytest.mark.parametrize("who", ["resident", "outside_muhtar", "electricity_staff_for_police"])
def test_who_may_not_set_up_a_meeting(w, who):
    if who == "resident":
        with pytest.raises(NotAllowed):
            meetings.create_meeting(w.resident, now(), w.municipality, w.hood_input())
    elif who == "outside_muhtar":  # a muhtar of none of the covered neighbourhoods
        with pytest.raises(ValidationFailed):
            meetings.create_meeting(w.outside_muhtar, now(), w.municipality, w.hood_input())
    else:
        with pytest.raises(ValidationFailed):
            meetings.create_meeting(w.electricity_staff, now(), w.municipality, w.hood_input(),
                                    organising_body=w.police)


def test_bad_set_up_is_refused_with_reasons_per_field(w):
    other = factories.neighbourhood()
    with pytest.raises(ValidationFailed) as refused:
        meetings.create_meeting(w.muhtar, now(), w.municipality, w.hood_input(
            title=" ", starts_at=None, neighbourhood_ids=[other.id],
            invitations=[mf.Invitation(w.police.id, "")]))
    assert set(refused.value.reasons) == {"title", "starts_at", "neighbourhoods", "bodies"}


def test_the_lifecycle_is_followed_and_refuses_jumps(w):
    with pytest.raises(InvalidTransition):
        meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.CLOSED)
    mf.opened(w)
    meetings.move(w.other_muhtar, now(), w.meeting, MeetingStatus.HELD)  # muhtars organise together
    with pytest.raises(ValidationFailed):  # no minutes yet
        meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.CLOSED)
    meetings.save_minutes(w.muhtar, now(), w.meeting, "**Katılım** yüksekti.<script>alert(1)</script>")
    assert "<strong>Katılım</strong>" in w.meeting.minutes_html and "<script" not in w.meeting.minutes_html
    meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.CLOSED)
    with pytest.raises(InvalidTransition):
        meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.OPEN)
    with pytest.raises(NotAllowed):
        meetings.move(w.outside_muhtar, now(), w.meeting, MeetingStatus.CANCELLED)


def test_residents_of_covered_neighbourhoods_ask_and_others_are_refused(w):
    with pytest.raises(InvalidTransition):  # a draft takes no questions
        mf.question(w)
    mf.opened(w)
    asked = mf.question(w)
    from_caferaga = mf.question(w, "Karakol devriyesi akşamları azaldı.", body=w.police, author=w.neighbour)
    assert (asked.neighbourhood_id, from_caferaga.neighbourhood_id) == (w.moda.id, w.caferaga.id)
    assert w.meeting.question_count == 2
    for stranger in (w.outsider, w.muhtar, w.police_staff, factories.user()):
        with pytest.raises(NotAllowed):
            mf.question(w, author=stranger)


def test_a_question_goes_to_an_invited_body_only(w):
    mf.opened(w)
    uninvited = factories.body(w.municipality, kind="health")
    with pytest.raises(ValidationFailed) as refused:
        meetings.ask(w.resident, now(), w.meeting, body_id=uninvited.id, text="Sağlık ocağı?")
    assert "body_id" in refused.value.reasons
    with pytest.raises(ValidationFailed):
        meetings.ask(w.resident, now(), w.meeting, body_id=w.police.id, text="x" * 1001)


def test_the_database_refuses_a_question_to_a_body_not_at_the_table(w):
    mf.opened(w)
    uninvited = factories.body(w.municipality, kind="health")
    question = mf.question(w)
    question.body_id = uninvited.id
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.flush()


def test_one_support_per_person_counted_at_once(w):
    mf.opened(w)
    question = mf.question(w)
    assert meetings.support(w.neighbour, now(), question) == 1
    with pytest.raises(DomainError, match="already support"):
        meetings.support(w.neighbour, now(), question)
    with pytest.raises(DomainError):  # the author counts already
        meetings.support(w.resident, now(), question)
    with pytest.raises(NotAllowed):
        meetings.support(w.outsider, now(), question)
    assert question.support_count == 1
    assert db.session.scalar(select(QuestionSupport.user_id)) == w.neighbour.id


def test_the_most_supported_rise_and_the_organiser_orders_the_agenda(w):
    mf.opened(w)
    first, second = mf.question(w, "Birinci"), mf.question(w, "İkinci", body=w.police)
    meetings.support(w.neighbour, now(), second)
    assert [q.text for q in meetings.questions_of(w.meeting)] == ["İkinci", "Birinci"]
    meetings.set_agenda(w.muhtar, now(), w.meeting, {first.id: 1, second.id: None})
    assert [q.text for q in meetings.questions_of(w.meeting)] == ["Birinci", "İkinci"]
    with pytest.raises(ValidationFailed):
        meetings.set_agenda(w.muhtar, now(), w.meeting, {first.id: 1, second.id: 1})
    with pytest.raises(NotAllowed):
        meetings.set_agenda(w.resident, now(), w.meeting, {first.id: 2})


def test_answers_are_recorded_at_the_meeting_by_the_organiser_or_the_body_asked(w):
    mf.opened(w)
    to_electricity = mf.question(w)
    meetings.support(w.neighbour, now(), to_electricity)
    with pytest.raises(InvalidTransition):  # not before the meeting
        meetings.record_answer(w.muhtar, now(), to_electricity, answer="Yarın", follow_up="none")
    meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.HELD)
    with pytest.raises(NotAllowed):  # a body answering another body's question
        meetings.record_answer(w.police_staff, now(), to_electricity, answer="Biz bakarız", follow_up="none")
    with pytest.raises(NotAllowed):
        meetings.record_answer(w.resident, now(), to_electricity, answer="Kendim", follow_up="none")
    with pytest.raises(ValidationFailed):
        meetings.record_answer(w.muhtar, now(), to_electricity, answer="", follow_up="promise")
    assert meetings.record_answer(w.electricity_staff, now(), to_electricity,
                                  answer="Lambalar bu hafta değişecek.", follow_up="none") is None
    assert to_electricity.follow_up == FollowUp.NONE.value and to_electricity.answered_at is not None


def test_followers_are_told_of_the_answer_in_their_language(w, app):
    mf.opened(w)
    question = mf.question(w)
    meetings.support(w.neighbour, now(), question)  # the neighbour reads Persian
    meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.HELD)
    meetings.record_answer(w.muhtar, now(), question, answer="Lambalar değişecek.", follow_up="none")
    told = {n.user_id: n for n in db.session.scalars(select(Notification).where(Notification.kind == "meeting_answer"))}
    assert set(told) == {w.resident.id, w.neighbour.id}
    assert told[w.resident.id].link == f"/meetings/{w.meeting.id}#question-{question.id}"
    from flask_babel import force_locale
    with force_locale("en"):
        assert "Elektrik Dağıtım A.Ş. answered a question you follow" in render_notification(told[w.resident.id])
    mails = {m.to_address: m for m in db.session.scalars(select(OutboxEmail))}
    assert "Lambalar değişecek." in mails[w.neighbour.email].body_text
    # a corrected answer tells no one again
    meetings.record_answer(w.muhtar, now(), question, answer="Lambalar yarın değişecek.", follow_up="none")
    assert len(list(db.session.scalars(select(Notification).where(Notification.kind == "meeting_answer")))) == 2


def test_a_question_becomes_a_case_for_its_body_with_one_action(w):
    mf.opened(w)
    question = mf.question(w)
    meetings.support(w.neighbour, now(), question)
    meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.HELD)
    with pytest.raises(ValidationFailed):  # a case needs its category
        meetings.record_answer(w.muhtar, now(), question, answer="İnceleyeceğiz.", follow_up="case")
    case = meetings.record_answer(w.muhtar, now(), question, answer="İnceleyeceğiz.", follow_up="case",
                                  category_id=w.category.id)
    assert case.body_id == w.electricity.id and case.meeting_question_id == question.id and case.proposal_id is None
    assert case.neighbourhood_id == w.moda.id and case.text == question.text and case.note == "İnceleyeceğiz."
    assert case.reference.endswith("-0001")
    assert meetings.cases_by_question(w.meeting) == {question.id: [case]}
    found = case_queries.get_by_reference(case.reference)
    assert found.meeting_question.meeting_id == w.meeting.id
    # the case's timeline tells the question's followers
    kinds = [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == w.neighbour.id))]
    assert "case_event" in kinds and "meeting_answer" in kinds
    with pytest.raises(ValidationFailed):  # a case stays a case
        meetings.record_answer(w.muhtar, now(), question, answer="Vazgeçtik.", follow_up="none")
    # the body moves it on like any case
    from assembly.cases import services as cases
    cases.receive(w.electricity_staff, now(), case, "Alındı")
    assert case.status == "received"


def test_a_case_has_exactly_one_origin(w):
    mf.opened(w)
    question = mf.question(w)
    meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.HELD)
    case = meetings.record_answer(w.muhtar, now(), question, answer="Bakacağız.", follow_up="case",
                                  category_id=w.category.id)
    for proposal_id, question_id in ((None, None),):
        with pytest.raises(IntegrityError):
            with db.session.begin_nested():
                db.session.execute(Case.__table__.update().where(Case.id == case.id)
                                   .values(proposal_id=proposal_id, meeting_question_id=question_id))


def test_attendance_counts_people_and_bodies_present(w):
    mf.opened(w)
    with pytest.raises(InvalidTransition):
        meetings.record_attendance(w.muhtar, now(), w.meeting, headcount=40, present_body_ids=set())
    meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.HELD)
    meetings.record_attendance(w.muhtar, now(), w.meeting, headcount=43, present_body_ids={w.police.id})
    assert w.meeting.headcount == 43
    assert {row.body_id: row.present for row in w.meeting.invited}[w.police.id] is True
    with pytest.raises(ValidationFailed):
        meetings.record_attendance(w.muhtar, now(), w.meeting, headcount=-1, present_body_ids=set())
    with pytest.raises(NotAllowed):
        meetings.record_attendance(w.police_staff, now(), w.meeting, headcount=1, present_body_ids=set())


def test_a_body_asked_stays_invited(w):
    mf.opened(w)
    mf.question(w, body=w.police)
    with pytest.raises(ValidationFailed):
        meetings.update_meeting(w.muhtar, now(), w.meeting, w.hood_input(
            invitations=[mf.Invitation(w.electricity.id, "Can Arslan")]))
    meetings.update_meeting(w.muhtar, now(), w.meeting, w.hood_input(place="Moda Sahnesi"))
    assert w.meeting.place == "Moda Sahnesi"


def test_a_draft_is_seen_only_by_its_organisers(w):
    from assembly.errors import NotFound
    with pytest.raises(NotFound):
        meetings.get_meeting(w.resident, w.meeting.id)
    assert meetings.get_meeting(w.muhtar, w.meeting.id) is w.meeting
    assert meetings.meetings_of(w.resident, w.moda) == []
    mf.opened(w)
    assert meetings.meetings_of(w.resident, w.moda) == [w.meeting]
    assert meetings.meetings_of(w.resident, w.elsewhere) == []


def test_the_counters_equal_a_recount(w):
    from assembly.integrity import check_counters
    mf.opened(w)
    question = mf.question(w)
    meetings.support(w.neighbour, now(), question)
    assert [m for m in check_counters() if m.counter.startswith("meeting")] == []
    db.session.execute(QuestionSupport.__table__.delete())
    found = {(m.counter, m.row_id): (m.stored, m.recounted) for m in check_counters()}
    assert found[("meeting_questions.support_count", question.id)] == (1, 0)


def test_a_case_from_a_question_asks_the_questions_followers_whether_it_is_fixed(w):
    """'Is it fixed?' (issue 13, point 6) for a case made from a meeting's question: its author
    and supporters are asked, and a "no" from one of them reopens it; others may not answer."""
    from assembly.cases import confirmations
    from assembly.cases import services as cases

    mf.opened(w)
    question = mf.question(w)
    meetings.support(w.neighbour, now(), question)
    meetings.move(w.muhtar, now(), w.meeting, MeetingStatus.HELD)
    case = meetings.record_answer(w.muhtar, now(), question, answer="İnceleyeceğiz.", follow_up="case",
                                  category_id=w.category.id)
    for kind, fields in (("received", {}), ("decided", {"decision": "approved", "note": "Onaylandı."}),
                         ("in_progress", {"progress": 50}), ("done", {})):
        cases.apply_event(w.electricity_staff, now(), case, kind, fields)
    asked = {n.user_id for n in db.session.scalars(select(Notification).where(
        Notification.kind == "case_fixed_question"))}
    assert asked == {question.author_id, w.neighbour.id}
    with pytest.raises(NotAllowed):
        confirmations.answer(factories.resident(w.moda), now(), case, "yes")
    confirmations.answer(w.neighbour, now(), case, "no", "Lambalar hâlâ yanmıyor.")
    assert case.status == "in_progress"
