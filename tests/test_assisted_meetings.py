"""Questions and supports at a meeting with bodies, entered by the muhtar in a resident's name
(assisted participation): the meeting's own rules apply as if the resident had clicked, and the
public meeting page and the printed agenda mark them "entered by the muhtar"."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assembly.accounts.models import User
from assembly.assisted import services
from assembly.assisted.models import AssistedEntry
from assembly.audit.models import AuditEvent
from assembly.db import db
from assembly.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from assembly.i18n import utc_to_wall_clock
from assembly.meetings import assisted
from assembly.meetings import services as meetings
from assembly.meetings.models import Meeting, MeetingQuestion, MeetingStatus, QuestionSupport
from assembly.neighbourhoods.models import Membership, Neighbourhood
from tests import factories
from tests import meeting_factories as mf
from tests.support import client_of, committed, counting_statements, text, translation


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _membership(user) -> Membership:
    return db.session.scalar(select(Membership).where(Membership.user_id == user.id, Membership.role == "resident"))


def _consent(given: bool = True) -> services.Consent:
    return services.Consent(given=given, method="office", given_at=factories.now())


def _ask(w, person=None, *, actor=None, consent=None, text_="Sokak lambaları yanmıyor."):
    return services.on_behalf(actor or w.muhtar, factories.now(), _membership(person or w.resident),
                              "meeting_question", consent or _consent(), w.meeting, body_id=w.electricity.id,
                              text=text_)


def _support(w, question, person=None, *, actor=None):
    return services.on_behalf(actor or w.muhtar, factories.now(), _membership(person or w.resident),
                              "meeting_support", _consent(), question)


# --- the service -------------------------------------------------------------------------------------

def test_a_question_asked_for_a_resident_is_theirs_and_marked(ctx):
    w = mf.world()
    mf.opened(w)
    question = _ask(w)
    assert question.author_id == w.resident.id and question.neighbourhood_id == w.moda.id
    assert w.meeting.question_count == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assisted.meeting_question"))
    assert event.actor_id == w.muhtar.id and event.object_id == question.id
    assert event.detail["resident"] == w.resident.id and event.detail["consent"] == "office"
    marks = assisted.marks_for(w.meeting)
    assert marks.question_ids == {question.id} and not marks.supports


def test_a_support_entered_for_a_resident_is_theirs_and_counted(ctx):
    w = mf.world()
    mf.opened(w)
    question = mf.question(w, author=w.neighbour)
    mf.question(w, text="Başka bir soru", author=w.neighbour)
    _support(w, question)
    assert _count(QuestionSupport, QuestionSupport.user_id == w.resident.id) == 1
    assert question.support_count == 1
    marks = assisted.marks_for(w.meeting)
    assert marks.question_ids == set() and marks.supports == {question.id: 1}
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.actor_id == w.muhtar.id,
                                                             AuditEvent.action.like("assisted.%"))) \
        == "assisted.meeting_support"


def test_the_meetings_own_rules_apply_as_if_the_resident_acted(ctx):
    w = mf.world()
    with pytest.raises(InvalidTransition):  # a draft: not open for questions yet
        _ask(w)
    mf.opened(w)
    own = _ask(w)
    with pytest.raises(DomainError, match="You asked this question"):
        _support(w, own)
    other = mf.question(w, author=w.neighbour)
    _support(w, other)
    with pytest.raises(DomainError, match="already support"):
        _support(w, other)
    with pytest.raises(ValidationFailed):
        _ask(w, text_="")
    assert _count(AssistedEntry) == 2  # the question and one support


def test_a_resident_of_a_neighbourhood_the_meeting_does_not_cover_is_refused(ctx):
    w = mf.world()
    mf.opened(w)
    with pytest.raises(NotAllowed, match="does not cover"):
        _ask(w, w.outsider, actor=w.outside_muhtar)
    question = mf.question(w)
    with pytest.raises(NotAllowed, match="does not cover"):
        _support(w, question, w.outsider, actor=w.outside_muhtar)
    assert _count(AssistedEntry) == 0 and _count(QuestionSupport) == 0


@pytest.mark.parametrize("who", ["other_muhtar", "outside_muhtar", "resident", "staff"])
def test_only_the_muhtar_of_the_residents_neighbourhood_acts(ctx, who):
    """Caferağa's muhtar co-organises the meeting, yet acts only for Caferağa's residents."""
    w = mf.world()
    mf.opened(w)
    actor = {"other_muhtar": w.other_muhtar, "outside_muhtar": w.outside_muhtar, "resident": w.neighbour,
             "staff": w.police_staff}[who]
    with pytest.raises(NotAllowed):
        _ask(w, actor=actor)
    assert _count(MeetingQuestion) == 0


def test_nothing_is_asked_without_consent(ctx):
    w = mf.world()
    mf.opened(w)
    with pytest.raises(ValidationFailed) as refused:
        _ask(w, consent=_consent(given=False))
    assert "consent" in refused.value.reasons
    assert _count(MeetingQuestion) == 0 and _count(AssistedEntry) == 0


# --- the pages ---------------------------------------------------------------------------------------------

@pytest.fixture
def site(app):
    with committed(app):
        w = mf.world()
        mf.opened(w)
        ids = {"w": w, "membership": _membership(w.resident).id, "outsider": _membership(w.outsider).id}
    return ids



def _local_now() -> str:
    return utc_to_wall_clock(factories.now(), "Europe/Istanbul").strftime("%Y-%m-%dT%H:%M")


def test_the_muhtar_asks_and_supports_through_the_pages(app, site):
    w = site["w"]
    base = f"/n/{w.moda.slug}/assisted/{site['membership']}/meetings/{w.meeting.id}"
    muhtar = client_of(app, w.muhtar)
    act = muhtar.get(f"/n/{w.moda.slug}/assisted/{site['membership']}")
    assert base in act.get_data(as_text=True)
    page = muhtar.get(base)
    assert page.status_code == 200 and "Elektrik Dağıtım A.Ş." in text(page)
    form = {"question-body_id": w.electricity.id, "question-text": "Parkın lambası yanmıyor.",
            "question-consent_method": "door", "question-consent_at": _local_now()}
    refused = muhtar.post(f"{base}/question", data=form)
    assert refused.status_code == 400 and "consent is required" in text(refused)
    assert "Parkın lambası yanmıyor.</textarea>" in refused.get_data(as_text=True)
    with app.app_context():
        assert _count(MeetingQuestion) == 0
    done = muhtar.post(f"{base}/question", data=dict(form, **{"question-consent": "y"}))
    assert done.status_code == 302 and f"/meetings/{w.meeting.id}#question-" in done.headers["Location"]
    with app.app_context():
        question = db.session.scalars(select(MeetingQuestion)).one()
        assert question.author_id == w.resident.id
        theirs = meetings.ask(db.session.get(User, w.neighbour.id), factories.now(),
                              db.session.get(Meeting, w.meeting.id), body_id=w.police.id, text="Devriye?")
        theirs_id = theirs.id
        db.session.commit()
    # The resident's own question is not offered for their support; the neighbour's is.
    page = muhtar.get(base).get_data(as_text=True)
    offered = page[page.index('id="support-question_id"'):].split("</select>")[0]
    assert f'<option value="{theirs_id}">' in offered and f'<option value="{question.id}">' not in offered
    supported = muhtar.post(f"{base}/support", data={
        "support-question_id": theirs_id, "support-consent": "y", "support-consent_method": "phone",
        "support-consent_at": _local_now()})
    assert supported.status_code == 302
    public = app.test_client().get(f"/meetings/{w.meeting.id}", headers={"Accept-Language": "en"})
    shown = text(public)
    assert shown.count("(entered by the muhtar)") == 1 and "(1 of them entered by the muhtar)" in shown
    printed = text(app.test_client().get(f"/meetings/{w.meeting.id}/print", headers={"Accept-Language": "en"}))
    assert f"({translation('tr', 'entered by the muhtar')})" in printed  # in the meeting's language


def test_only_the_residents_muhtar_opens_the_meeting_pages(app, site):
    w = site["w"]
    base = f"/n/{w.moda.slug}/assisted/{site['membership']}/meetings/{w.meeting.id}"
    for person in (w.other_muhtar, w.outside_muhtar, w.resident, w.police_staff):
        client = client_of(app, person)
        assert client.get(base).status_code == 403
        assert client.post(f"{base}/question", data={"question-body_id": w.police.id, "question-text": "X",
                                                     "question-consent": "y"}).status_code == 403
    with app.app_context():
        assert _count(MeetingQuestion) == 0


def test_a_meeting_that_does_not_cover_the_neighbourhood_is_not_found(app, site):
    w = site["w"]
    page = f"/n/{w.elsewhere.slug}/assisted/{site['outsider']}/meetings/{w.meeting.id}"
    client = client_of(app, w.outside_muhtar)
    assert client.get(f"/n/{w.elsewhere.slug}/assisted/{site['outsider']}").status_code == 200
    assert client.get(page).status_code == 404
    assert client.post(f"{page}/question", data={"question-body_id": w.police.id, "question-text": "X",
                                                 "question-consent": "y"}).status_code == 404


def test_a_held_meeting_takes_no_more_questions(app, site):
    w = site["w"]
    with committed(app):
        meetings.move(db.session.get(User, w.muhtar.id), factories.now(), db.session.get(Meeting, w.meeting.id),
                      MeetingStatus.HELD)
    base = f"/n/{w.moda.slug}/assisted/{site['membership']}/meetings/{w.meeting.id}"
    muhtar = client_of(app, w.muhtar)
    assert "only while the meeting is open for questions" in text(muhtar.get(base))
    refused = muhtar.post(f"{base}/question", data={
        "question-body_id": w.police.id, "question-text": "Geç kalan soru", "question-consent": "y",
        "question-consent_method": "door", "question-consent_at": _local_now()})
    assert refused.status_code == 400 and "only while the meeting is open for questions" in text(refused)
    with app.app_context():
        assert _count(MeetingQuestion) == 0


def test_the_meeting_page_costs_the_same_with_marks(app, site):
    w = site["w"]
    with committed(app):
        mf.question(w, author=db.session.get(User, w.neighbour.id))
    urls = [f"/meetings/{w.meeting.id}", f"/meetings/{w.meeting.id}/print",
            f"/n/{w.moda.slug}/assisted/{site['membership']}/meetings/{w.meeting.id}"]
    muhtar = client_of(app, w.muhtar)

    def cost() -> list[int]:
        counts = []
        for url in urls:
            muhtar.get(url)
            with counting_statements(app, transaction_control=False) as statements:
                assert muhtar.get(url).status_code == 200
            counts.append(len(statements))
        return counts

    before = cost()
    with committed(app):
        muhtar_user = db.session.get(User, w.muhtar.id)
        moda = db.session.get(Neighbourhood, w.moda.id)
        meeting = db.session.get(Meeting, w.meeting.id)
        asked = []
        for number in range(4):
            person = factories.resident(moda)
            asked.append(services.on_behalf(muhtar_user, factories.now(), _membership(person), "meeting_question",
                                            _consent(), meeting, body_id=w.police.id, text=f"Soru {number}"))
        for question in asked[1:]:
            services.on_behalf(muhtar_user, factories.now(), _membership(db.session.get(User, w.resident.id)),
                               "meeting_support", _consent(), question)
    assert cost() == before
