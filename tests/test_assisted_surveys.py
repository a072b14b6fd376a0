"""A survey answered through the muhtar (assisted participation): the answers are the resident's,
sealed and shuffled like every online answer; what is marked "entered by the muhtar" is the
participation (a count on the survey's pages, the audit log), never a row that survives the shuffle."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, inspect, select

from assembly.accounts.models import User
from assembly.assisted import services
from assembly.assisted.models import AssistedEntry
from assembly.audit.models import AuditEvent
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.i18n import utc_to_wall_clock
from assembly.neighbourhoods.models import Membership
from assembly.surveys import assisted, responses
from assembly.surveys.models import Survey, SurveyAnswer, SurveyParticipation
from tests import factories
from tests import survey_factories as sf
from tests.support import committed, counting_statements, english_client, text


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _membership(user) -> Membership:
    return db.session.scalar(select(Membership).where(Membership.user_id == user.id, Membership.role == "resident"))


def _consent(at: dt.datetime = sf.DURING, given: bool = True) -> services.Consent:
    return services.Consent(given=given, method="door", given_at=at)


def _enter(w, person, answers=None, *, actor=None, at=sf.DURING, consent=None):
    return services.on_behalf(actor or w.muhtar, at, _membership(person), "survey_answer", consent or _consent(at),
                              w.survey, answers=answers or sf.full_answer(w))


# --- the service -------------------------------------------------------------------------------------

def test_the_muhtar_enters_answers_sealed_like_every_answer(ctx):
    w = sf.world()
    person = w.residents[0]
    assert _enter(w, person) is w.survey
    participation = db.session.scalar(select(SurveyParticipation).where(SurveyParticipation.user_id == person.id))
    assert participation.source == "verified" and participation.sealed is not None
    assert _count(SurveyAnswer) == 0  # sealed until closing, like every online answer
    entry = db.session.scalar(select(AssistedEntry))
    assert (entry.resident_id, entry.action, entry.object_type, entry.object_id) == (
        person.id, "survey_answer", "survey", w.survey.id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assisted.survey_answer"))
    assert event.actor_id == w.muhtar.id and event.object_id == w.survey.id
    assert event.object_type == "Survey" and set(event.detail) == {"resident", "consent", "consent_on", "entry"}
    assert "Mer ljus" not in json.dumps(event.detail)  # that the muhtar entered them, never the answers
    assert assisted.entered_by_muhtar(w.survey) == 1


def test_entering_again_replaces_the_answers_and_counts_the_person_once(ctx):
    w = sf.world()
    _enter(w, w.residents[0])
    _enter(w, w.residents[0], sf.full_answer(w, single=2))
    assert _count(SurveyParticipation, SurveyParticipation.survey_id == w.survey.id) == 1
    assert w.survey.respondents == 1 and assisted.entered_by_muhtar(w.survey) == 1


def test_after_closing_no_row_that_survives_the_shuffle_carries_the_mark(ctx):
    w = sf.world(residents=3)
    _enter(w, w.residents[0], sf.full_answer(w, single=2, text="Entered by the muhtar's hand"))
    for person in w.residents[1:]:
        responses.respond(person, sf.DURING, w.survey, sf.full_answer(w, single=0))
    assert responses.close_survey(w.survey, sf.CLOSES)
    connection = db.session.connection()
    # The anonymous rows have the columns they always had: no mark, no person, no time.
    assert {c["name"] for c in inspect(connection).get_columns("survey_answers")} == {
        "id", "survey_id", "source", "neighbourhood_id", "answers"}
    rows = db.session.execute(select(SurveyAnswer.source, SurveyAnswer.neighbourhood_id)
                              .where(SurveyAnswer.survey_id == w.survey.id)).all()
    assert len(rows) == 3 and len(set(rows)) == 1  # the muhtar's questionnaire looks like the others
    # The mark and the audit log name the survey, never a questionnaire or a text.
    assert db.session.execute(select(AssistedEntry.object_type, AssistedEntry.object_id)).all() == [
        ("survey", w.survey.id)]
    assert not db.session.scalars(select(AuditEvent.object_type).where(
        AuditEvent.object_type.in_(["SurveyAnswer", "SurveyText"]))).all()
    assert db.session.scalar(select(SurveyParticipation.sealed).where(
        SurveyParticipation.user_id == w.residents[0].id)) is None
    assert assisted.entered_by_muhtar(w.survey) == 1


def test_a_closed_survey_is_refused(ctx):
    w = sf.world()
    after = sf.CLOSES + dt.timedelta(hours=1)
    with pytest.raises(InvalidTransition, match="not open"):
        _enter(w, w.residents[0], at=after)
    assert _count(SurveyParticipation) == 0 and _count(AssistedEntry) == 0


def test_a_survey_not_asked_in_the_residents_neighbourhood_is_refused(ctx):
    """Even a survey open to the whole area: the resident would be counted elsewhere, unverified."""
    w = sf.world(audience="area")
    elsewhere = factories.neighbourhood(owner=w.hood.municipality)
    their_muhtar = factories.muhtar(elsewhere)
    person = factories.resident(elsewhere)
    with pytest.raises(NotAllowed, match="not asked in the resident's neighbourhood"):
        _enter(w, person, actor=their_muhtar)
    assert _count(SurveyParticipation) == 0 and _count(AssistedEntry) == 0


@pytest.mark.parametrize("who", ["outsider_muhtar", "resident", "admin"])
def test_only_the_residents_muhtar_enters_answers(ctx, who):
    w = sf.world()
    actor = {"outsider_muhtar": lambda: factories.muhtar(factories.neighbourhood()),
             "resident": lambda: w.residents[1], "admin": lambda: factories.admin()}[who]()
    with pytest.raises(NotAllowed):
        _enter(w, w.residents[0], actor=actor)
    assert _count(SurveyParticipation) == 0


def test_a_pending_resident_cannot_answer_through_the_muhtar(ctx):
    w = sf.world()
    pending = factories.pending(w.hood)
    with pytest.raises(NotAllowed):
        services.on_behalf(w.muhtar, sf.DURING, pending, "survey_answer", _consent(), w.survey,
                           answers=sf.full_answer(w))
    assert _count(SurveyParticipation) == 0


def test_nothing_is_entered_without_consent_or_with_wrong_answers(ctx):
    w = sf.world()
    with pytest.raises(ValidationFailed) as refused:
        _enter(w, w.residents[0], consent=_consent(given=False))
    assert "consent" in refused.value.reasons
    with pytest.raises(ValidationFailed) as wrong:
        _enter(w, w.residents[0], {w.q(0): 9})
    assert f"q{w.q(0)}" in wrong.value.reasons
    assert _count(SurveyParticipation) == 0 and _count(AssistedEntry) == 0 and w.survey.respondents == 0


# --- the pages ---------------------------------------------------------------------------------------------

@pytest.fixture
def site(app, clock):
    with committed(app):
        w = sf.world(residents=2)
        other = factories.neighbourhood()
        ids = {"slug": w.hood.slug, "survey": w.survey.id, "muhtar": w.muhtar.email,
               "resident": w.residents[1].email, "membership": _membership(w.residents[0]).id,
               "person": w.residents[0].id, "q": [q.id for q in w.survey.questions],
               "other_muhtar": factories.muhtar(other).email}
    clock.now = sf.DURING
    return ids


def _local(at: dt.datetime) -> str:
    return utc_to_wall_clock(at, "Europe/Istanbul").strftime("%Y-%m-%dT%H:%M")



def test_the_muhtar_enters_answers_through_the_page(app, site):
    page_url = f"/n/{site['slug']}/assisted/{site['membership']}/surveys/{site['survey']}"
    muhtar = english_client(app, site["muhtar"])
    act = muhtar.get(f"/n/{site['slug']}/assisted/{site['membership']}")
    assert page_url in act.get_data(as_text=True)
    page = muhtar.get(page_url)
    assert page.status_code == 200 and f'name="q{site["q"][0]}"' in page.get_data(as_text=True)
    assert "paper questionnaire" in text(page)
    q = site["q"]
    form = {f"q{q[0]}": "2", f"q{q[1]}": ["0", "3"], f"q{q[2]}": "4", f"q{q[3]}-0": "2", f"q{q[3]}-1": "3",
            f"q{q[3]}-2": "1", f"q{q[4]}": "Fler lampor vid torget", "consent_method": "office",
            "consent_at": _local(sf.DURING)}
    refused = muhtar.post(page_url, data=form)  # the consent box is not ticked
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "consent is required" in text(refused)
    # What was typed is kept: the answers and the consent.
    assert f'name="q{q[0]}" value="2" checked' in body and f'name="q{q[1]}" value="3" checked' in body
    assert f'name="q{q[2]}" value="4" checked' in body and "Fler lampor vid torget</textarea>" in body
    assert '<option value="1" selected>' in body and '<option selected value="office">' in body
    with app.app_context():
        assert _count(SurveyParticipation) == 0
    done = muhtar.post(page_url, data=dict(form, consent="y"))
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/assisted/{site['membership']}#surveys")
    with app.app_context():
        assert _count(SurveyParticipation, SurveyParticipation.user_id == site["person"]) == 1
        assert _count(AssistedEntry, AssistedEntry.action == "survey_answer") == 1
    again = muhtar.get(page_url)
    assert "has already answered" in text(again)
    shown = app.test_client().get(f"/n/{site['slug']}/surveys/{site['survey']}", headers={"Accept-Language": "en"})
    assert "1 of the online answers was entered by the muhtar" in text(shown)


def test_wrong_answers_are_shown_next_to_the_question(app, site):
    page_url = f"/n/{site['slug']}/assisted/{site['membership']}/surveys/{site['survey']}"
    refused = english_client(app, site["muhtar"]).post(page_url, data={
        f"q{site['q'][3]}-0": "1", f"q{site['q'][3]}-1": "1", "consent": "y", "consent_method": "door",
        "consent_at": _local(sf.DURING)})
    assert refused.status_code == 400 and "Give every option a different place" in text(refused)
    with app.app_context():
        assert _count(SurveyParticipation) == 0


def test_only_the_muhtar_of_the_residents_neighbourhood_opens_the_page(app, site):
    page_url = f"/n/{site['slug']}/assisted/{site['membership']}/surveys/{site['survey']}"
    for email in (site["other_muhtar"], site["resident"]):
        client = english_client(app, email)
        assert client.get(page_url).status_code == 403
        assert client.post(page_url, data={f"q{site['q'][0]}": "1", "consent": "y"}).status_code == 403
    assert app.test_client().get(page_url).status_code == 302  # to the login page
    with app.app_context():
        assert _count(SurveyParticipation) == 0


def test_a_survey_of_another_neighbourhood_is_not_found_and_a_closed_one_not_offered(app, site, clock):
    with committed(app):
        muhtar = db.session.scalar(select(User).where(User.email == site["muhtar"]))
        other = factories.neighbourhood()
        factories.muhtar(other, muhtar)
        elsewhere = sf.world().survey.id
    client = english_client(app, site["muhtar"])
    assert client.get(f"/n/{site['slug']}/assisted/{site['membership']}/surveys/{elsewhere}").status_code == 404
    clock.now = sf.CLOSES + dt.timedelta(hours=1)
    page = client.get(f"/n/{site['slug']}/assisted/{site['membership']}/surveys/{site['survey']}")
    assert "This survey is not open for answers." in text(page) and 'name="consent"' not in page.get_data(as_text=True)
    refused = client.post(f"/n/{site['slug']}/assisted/{site['membership']}/surveys/{site['survey']}", data={
        f"q{site['q'][0]}": "1", "consent": "y", "consent_method": "door", "consent_at": _local(clock.now)})
    assert refused.status_code == 400 and "not open for answers" in text(refused)


def test_the_results_show_how_many_answers_the_muhtar_entered(app, site, clock):
    with committed(app):
        survey = db.session.get(Survey, site["survey"])
        muhtar = db.session.scalar(select(User).where(User.email == site["muhtar"]))
        membership = db.session.get(Membership, site["membership"])
        services.on_behalf(muhtar, sf.DURING, membership, "survey_answer", _consent(), survey,
                           answers={str(site["q"][0]): 1})
        responses.close_survey(survey, sf.CLOSES)
    clock.now = sf.CLOSES + dt.timedelta(hours=1)
    page = app.test_client().get(f"/n/{site['slug']}/surveys/{site['survey']}/results",
                                 headers={"Accept-Language": "en"})
    assert "1 of the online answers was entered by the muhtar in a resident's name" in text(page)


def test_the_survey_pages_cost_the_same_with_answers_the_muhtar_entered(app, site):
    urls = [f"/n/{site['slug']}/surveys/{site['survey']}",
            f"/n/{site['slug']}/assisted/{site['membership']}/surveys/{site['survey']}",
            f"/n/{site['slug']}/assisted/{site['membership']}"]
    muhtar = english_client(app, site["muhtar"])

    def cost() -> list[int]:
        counts = []
        for url in urls:
            with counting_statements(app, transaction_control=False) as statements:
                assert muhtar.get(url).status_code == 200
            counts.append(len(statements))
        return counts

    before = cost()
    with committed(app):
        survey = db.session.get(Survey, site["survey"])
        muhtar_user = db.session.scalar(select(User).where(User.email == site["muhtar"]))
        hood = survey.neighbourhoods[0]
        for _ in range(3):
            person = factories.resident(hood)
            services.on_behalf(muhtar_user, sf.DURING, _membership(person), "survey_answer", _consent(), survey,
                               answers={str(site["q"][0]): 0})
    assert cost() == before
