"""Surveys: every role and refusal, one answer per person (changed, never duplicated), sealed
answers shuffled into anonymous rows at closing, results with small groups hidden, moderation
of free texts, paper questionnaires, the e-mail link, CSV, the comparison over time and the API."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, inspect, select, text

from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.notifications.models import OutboxEmail
from assembly.surveys import responses, results, services
from assembly.accounts.models import User
from assembly.surveys.models import Survey, SurveyAnswer, SurveyParticipation, SurveyText
from tests import factories
from tests import survey_factories as sf
from tests.support import committed, counting_statements, login


def _participations(survey) -> int:
    return db.session.scalar(select(func.count()).select_from(SurveyParticipation)
                             .where(SurveyParticipation.survey_id == survey.id))


# --- creating and publishing ---------------------------------------------------------------------------

def test_a_muhtar_creates_and_publishes_a_survey(ctx):
    w = sf.world(publish=False)
    assert services.shown_status(w.survey, sf.DURING) == "draft"
    services.publish(w.muhtar, sf.BEFORE, w.survey)
    assert [services.shown_status(w.survey, t) for t in (sf.BEFORE, sf.DURING, sf.CLOSES)] == \
        ["scheduled", "open", "closed"]
    with pytest.raises(InvalidTransition):
        services.add_question(w.muhtar, sf.BEFORE, w.survey, kind="scale", prompt="Too late?")


def test_body_staff_prepare_a_survey_and_a_muhtar_publishes_it(ctx):
    hood = factories.neighbourhood(locale="sv")
    muhtar = factories.muhtar(hood)
    staff = factories.staff(factories.body(hood.municipality, kind="police"))
    survey = services.create_survey(staff, sf.BEFORE, hood, title="Polisens trygghetsenkät", audience="area",
                                    opens_at=sf.OPENS, closes_at=sf.CLOSES)
    services.add_question(staff, sf.BEFORE, survey, kind="scale", prompt="Hur trygg är du?")
    with pytest.raises(NotAllowed):
        services.publish(staff, sf.BEFORE, survey)
    services.publish(muhtar, sf.BEFORE, survey)
    assert survey.status == "scheduled"


def test_nobody_else_creates_or_edits_a_survey(ctx):
    w = sf.world(publish=False)
    other_staff = factories.staff(factories.body(factories.municipality()))
    for person in (w.residents[0], factories.user(), other_staff):
        with pytest.raises(NotAllowed):
            services.create_survey(person, sf.BEFORE, w.hood, title="X", audience="area", opens_at=sf.OPENS,
                                   closes_at=sf.CLOSES)
        with pytest.raises(NotAllowed):
            services.add_question(person, sf.BEFORE, w.survey, kind="scale", prompt="X")


def test_a_survey_must_close_after_it_opens_and_a_question_needs_options(ctx):
    hood = factories.neighbourhood()
    muhtar = factories.muhtar(hood)
    with pytest.raises(ValidationFailed) as refused:
        services.create_survey(muhtar, sf.BEFORE, hood, title="X", audience="area", opens_at=sf.CLOSES,
                               closes_at=sf.OPENS)
    assert "closes_at" in refused.value.reasons
    w = sf.world(publish=False)
    with pytest.raises(ValidationFailed) as refused:
        services.add_question(w.muhtar, sf.BEFORE, w.survey, kind="single", prompt="Which?", options=["only one"])
    assert "options" in refused.value.reasons
    with pytest.raises(ValidationFailed) as refused:
        services.add_question(w.muhtar, sf.BEFORE, w.survey, kind="scale", prompt="X", series="Not A Key!")
    assert "series" in refused.value.reasons


# --- answering ---------------------------------------------------------------------------------------

def test_answering_twice_changes_the_answer_and_never_duplicates_it(ctx):
    w = sf.world()
    resident = w.residents[0]
    assert responses.respond(resident, sf.DURING, w.survey, sf.full_answer(w, single=0)) is True
    assert responses.respond(resident, sf.DURING, w.survey, sf.full_answer(w, single=2)) is False
    assert _participations(w.survey) == 1 and w.survey.respondents == 1
    responses.close_survey(w.survey, sf.CLOSES)
    result = results.question_result(w.survey.questions[0].id)
    assert [row["count"] for row in result["rows"]] == [0, 0, 1]  # only the latest answer counts


def test_a_non_resident_cannot_answer_a_residents_only_survey(ctx):
    w = sf.world(audience="residents")
    outsider = factories.user()
    elsewhere = factories.resident(factories.neighbourhood())
    pending = factories.pending(w.hood).user
    for person in (outsider, elsewhere, pending):
        with pytest.raises(NotAllowed):
            responses.respond(person, sf.DURING, w.survey, sf.full_answer(w))
    with pytest.raises(NotAllowed):
        responses.respond(outsider, sf.DURING, w.survey, sf.full_answer(w), email_hash="a" * 64)
    assert _participations(w.survey) == 0


def test_nobody_answers_before_opening_or_after_closing(ctx):
    w = sf.world()
    resident = w.residents[0]
    with pytest.raises(InvalidTransition):
        responses.respond(resident, sf.BEFORE, w.survey, sf.full_answer(w))
    responses.respond(resident, sf.DURING, w.survey, sf.full_answer(w, single=0))
    with pytest.raises(InvalidTransition):  # changing after closing, before the tick has counted
        responses.respond(resident, sf.CLOSES, w.survey, sf.full_answer(w, single=1))
    responses.close_survey(w.survey, sf.CLOSES)
    with pytest.raises(InvalidTransition):  # and after it has
        responses.respond(resident, sf.CLOSES + dt.timedelta(hours=1), w.survey, sf.full_answer(w, single=1))
    assert results.question_result(w.survey.questions[0].id)["rows"][0]["count"] == 1


def test_answers_are_checked_against_the_questions(ctx):
    w = sf.world()
    resident = w.residents[0]
    wrong = [({w.q(0): 7}, "q" + w.q(0)), ({w.q(1): [0, 1, 2]}, "q" + w.q(1)), ({w.q(2): 6}, "q" + w.q(2)),
             ({w.q(3): [0, 0, 1]}, "q" + w.q(3)), ({w.q(4): "x" * 1001}, "q" + w.q(4)), ({}, None)]
    for answer, field in wrong:
        with pytest.raises(ValidationFailed) as refused:
            responses.respond(resident, sf.DURING, w.survey, answer)
        assert field in refused.value.reasons
    assert _participations(w.survey) == 0 and w.survey.respondents == 0


def test_anyone_in_the_area_answers_unverified_and_is_counted_apart(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_MIN_GROUP", 1)
    w = sf.world(audience="area")
    responses.respond(w.residents[0], sf.DURING, w.survey, sf.full_answer(w, single=0))
    worker = factories.user()  # works there, has an account, is nobody's resident
    responses.respond(worker, sf.DURING, w.survey, sf.full_answer(w, single=1))
    by_mail = responses.email_hash("Someone@Example.org ")
    responses.respond(None, sf.DURING, w.survey, sf.full_answer(w, single=1), email_hash=by_mail)
    responses.respond(None, sf.DURING, w.survey, sf.full_answer(w, single=2),
                      email_hash=responses.email_hash("someone@example.org"))  # the same address: a change
    assert _participations(w.survey) == 3
    responses.close_survey(w.survey, sf.CLOSES)
    result = results.question_result(w.survey.questions[0].id)
    groups = {g["key"]: g for g in result["groups"]}
    assert [r["count"] for r in result["rows"]] == [1, 1, 1]
    assert groups["verified"]["questionnaires"] == 1 and groups["unverified"]["questionnaires"] == 2
    assert [r["count"] for r in groups["unverified"]["rows"]] == [0, 1, 1]


# --- closing: who answered kept apart from what ----------------------------------------------------------

def test_closing_shuffles_the_sealed_answers_into_anonymous_rows(ctx):
    w = sf.world(residents=4)
    for index, person in enumerate(w.residents):
        responses.respond(person, sf.DURING, w.survey, sf.full_answer(w, single=index % 3, text=f"Idé nummer {index}"))
    sealed = db.session.scalars(select(SurveyParticipation.sealed)
                                .where(SurveyParticipation.survey_id == w.survey.id)).all()
    assert len({len(envelope) for envelope in sealed}) == 1  # one size, whatever was answered
    assert all(b"nummer" not in envelope for envelope in sealed)
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)
                             .where(SurveyAnswer.survey_id == w.survey.id)) == 0
    assert responses.close_survey(w.survey, sf.CLOSES) is True
    assert responses.close_survey(w.survey, sf.CLOSES) is False  # once
    db.session.expire_all()
    assert db.session.scalars(select(SurveyParticipation.sealed)
                              .where(SurveyParticipation.survey_id == w.survey.id)).all() == [None] * 4
    rows = db.session.execute(select(SurveyAnswer.id, SurveyAnswer.source, SurveyAnswer.answers)
                              .where(SurveyAnswer.survey_id == w.survey.id)).all()
    assert len(rows) == 4 and all(re.fullmatch(r"[0-9a-f]{32}", key) for key, _, _ in rows)
    assert all(source is None for _, source, _ in rows)  # 4 < SURVEY_MIN_GROUP: stored without the group
    assert all(w.q(4) not in answers for _, _, answers in rows)  # free texts are kept apart
    texts = db.session.scalars(select(SurveyText.body).where(SurveyText.survey_id == w.survey.id)).all()
    assert sorted(texts) == [f"Idé nummer {i}" for i in range(4)]


# --- results -----------------------------------------------------------------------------------------

def test_results_count_percent_and_hide_small_groups(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_MIN_GROUP", 3)
    w = sf.world(residents=3, hoods=2)
    for index, person in enumerate(w.residents):
        responses.respond(person, sf.DURING, w.survey, sf.full_answer(w, single=0 if index else 1, scale=index + 3))
    responses.enter_paper(w.muhtar, sf.DURING, w.survey, sf.full_answer(w, single=2), neighbourhood_id=w.other_hood.id)
    responses.close_survey(w.survey, sf.CLOSES)
    found = results.survey_results(w.survey)
    assert found.questionnaires == 4 and found.by_source == {"verified": 3, "paper": 1}
    single = found.questions[0]
    assert [(r["count"], str(r["percent"])) for r in single.total["rows"]] == \
        [(2, "50.0"), (1, "25.0"), (1, "25.0")]
    groups = {g["key"]: g for g in single.groups}
    assert groups["verified"]["hidden"] is False and [r["count"] for r in groups["verified"]["rows"]] == [2, 1, 0]
    assert groups["paper"]["hidden"] is True and "rows" not in groups["paper"]
    assert groups[f"neighbourhood:{w.other_hood.slug}"]["hidden"] is True
    assert str(found.questions[2].total["mean"]) == "4.00"  # scale: (3 + 4 + 5 + 4) / 4
    ranking = found.questions[3].total["rows"]
    assert [r["count"] for r in ranking] == [0, 0, 4] and str(ranking[2]["mean_rank"]) == "1.00"


def test_free_texts_are_shown_only_after_moderation(ctx, app):
    w = sf.world(residents=2)
    responses.respond(w.residents[0], sf.DURING, w.survey, sf.full_answer(w, text="Mer belysning vid torget"))
    responses.respond(w.residents[1], sf.DURING, w.survey, sf.full_answer(w, text="Grannen X är en tjuv"))
    with pytest.raises(InvalidTransition):
        results.moderate_text(w.muhtar, sf.DURING, w.survey, "0" * 32, True)
    responses.close_survey(w.survey, sf.CLOSES)
    question = w.survey.questions[4].id
    assert results.question_result(question)["texts"] == []
    texts = {t.body: t for t in results.texts_to_moderate(w.muhtar, w.survey)}
    with pytest.raises(NotAllowed):
        results.moderate_text(w.residents[0], sf.CLOSES, w.survey, texts["Mer belysning vid torget"].id, True)
    with pytest.raises(NotAllowed):
        results.texts_to_moderate(w.residents[0], w.survey)
    results.moderate_text(w.muhtar, sf.CLOSES, w.survey, texts["Mer belysning vid torget"].id, True)
    results.moderate_text(w.muhtar, sf.CLOSES, w.survey, texts["Grannen X är en tjuv"].id, False)
    assert results.question_result(question)["texts"] == ["Mer belysning vid torget"]


def test_paper_questionnaires_are_entered_by_the_muhtar_only(ctx):
    w = sf.world()
    with pytest.raises(InvalidTransition):
        responses.enter_paper(w.muhtar, sf.BEFORE, w.survey, sf.full_answer(w), neighbourhood_id=None)
    with pytest.raises(NotAllowed):
        responses.enter_paper(w.residents[0], sf.DURING, w.survey, sf.full_answer(w), neighbourhood_id=None)
    responses.enter_paper(w.muhtar, sf.DURING, w.survey, sf.full_answer(w, text="På papper"), neighbourhood_id=None)
    responses.enter_paper(w.muhtar, sf.DURING, w.survey, sf.full_answer(w, text=None), neighbourhood_id=None)
    assert w.survey.paper_count == 2 and w.survey.respondents == 0


def test_the_same_question_is_compared_over_time(ctx):
    w = sf.world()
    responses.respond(w.residents[0], sf.DURING, w.survey, sf.full_answer(w, single=0))
    responses.close_survey(w.survey, sf.CLOSES)
    later = services.create_survey(w.muhtar, sf.CLOSES, w.hood, title="Trygghet 2031", audience="residents",
                                   opens_at=sf.OPENS + dt.timedelta(days=365),
                                   closes_at=sf.CLOSES + dt.timedelta(days=365))
    services.add_question(w.muhtar, sf.CLOSES, later, **sf.QUESTIONS[0])
    services.publish(w.muhtar, sf.CLOSES, later)
    for person in w.residents[:2]:
        responses.respond(person, sf.DURING + dt.timedelta(days=365), later, {str(later.questions[0].id): 1})
    responses.close_survey(later, sf.CLOSES + dt.timedelta(days=365))
    comparison = results.series_comparison(w.hood.id, "least-safe")
    assert [entry[0].id for entry in comparison["entries"]] == [w.survey.id, later.id]
    assert [str(entry[3]["Järntorget"]["percent"]) for entry in comparison["entries"]] == ["100.0", "0.0"]
    assert results.series_keys(w.hood.id) == ["least-safe"]


# --- through HTTP ---------------------------------------------------------------------------------------

@pytest.fixture
def site(app, clock):
    with committed(app):
        w = sf.world(audience="area", residents=2, questions=sf.QUESTIONS[:1] + sf.QUESTIONS[4:])
        return {"slug": w.hood.slug, "survey": w.survey.id, "muhtar": w.muhtar.email,
                "residents": [p.email for p in w.residents], "q": [q.id for q in w.survey.questions]}


def test_a_resident_answers_through_the_page_and_a_visitor_through_an_e_mail_link(app, client, clock, site):
    base = f"/n/{site['slug']}/surveys/{site['survey']}"
    clock.now = sf.DURING
    login(client, site["residents"][0])
    page = client.get(base)
    assert page.status_code == 200 and f'name="q{site["q"][0]}"' in page.get_data(as_text=True)
    answered = client.post(f"{base}/answer", data={f"q{site['q'][0]}": "1", f"q{site['q'][1]}": "Hej"})
    assert answered.status_code == 303
    again = client.post(f"{base}/answer", data={f"q{site['q'][0]}": "2"})
    assert again.status_code == 303
    refused = client.post(f"{base}/answer", data={f"q{site['q'][0]}": "9"})
    assert refused.status_code == 400 and "Choose one of the options." in refused.get_data(as_text=True)
    visitor = app.test_client()
    assert visitor.post(f"{base}/email", data={"email": "not an address"}).status_code == 400
    assert visitor.post(f"{base}/email", data={"email": "pendlare@example.org"}).status_code == 303
    with app.app_context():
        mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "pendlare@example.org")).one()
        link = re.search(r"http://localhost(/n/\S+)", mail.body_text).group(1)
        assert "pendlare" not in link
    assert visitor.get(link).status_code == 200
    assert visitor.get(link[:-3] + "xyz").status_code == 404
    assert visitor.post(link, data={f"q{site['q'][0]}": "0"}).status_code == 303
    assert visitor.post(link, data={f"q{site['q'][0]}": "1"}).status_code == 303
    with app.app_context():
        rows = db.session.execute(select(SurveyParticipation.source, SurveyParticipation.email_hash).where(
            SurveyParticipation.survey_id == site["survey"])).all()
        assert sorted(source for source, _ in rows) == ["unverified", "verified"]


def test_results_page_csv_and_api_after_closing(app, client, clock, site):
    base = f"/n/{site['slug']}/surveys/{site['survey']}"
    with committed(app):
        survey = db.session.get(Survey, site["survey"])
        question = survey.questions[0]
        question.options = ["=HYPERLINK(\"http://evil\")", "B", "C"]
        for email in site["residents"]:
            person = db.session.scalar(select(User).where(User.email == email))
            responses.respond(person, sf.DURING, survey, {str(question.id): 0,
                                                          str(survey.questions[1].id): f"Text from {email}"})
        responses.close_survey(survey, sf.CLOSES)
    clock.now = sf.CLOSES + dt.timedelta(hours=1)
    page = client.get(f"{base}/results")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in body and "<table" in body and "100" in body
    exported = client.get(f"{base}/results.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][0] == "Fråga" and len(rows) == 4  # the neighbourhood speaks Swedish
    assert rows[1][2].startswith("'=HYPERLINK") and all(not cell.startswith("=") for row in rows for cell in row)
    api = client.get(f"/api/v1/surveys/{site['survey']}").get_json()["data"]
    assert api["counted"] is True and api["questions"][0]["rows"][0]["count"] == 2
    assert api["questions"][0]["rows"][0]["percent"] == 100.0
    listed = client.get(f"/api/v1/neighbourhoods/{site['slug']}/surveys").get_json()["data"]
    assert [s["id"] for s in listed] == [site["survey"]]
    # Free texts: hidden until the muhtar publishes one on the moderation page.
    shown = f"Text from {site['residents'][0]}"
    assert shown not in body
    muhtar = app.test_client()
    login(muhtar, site["muhtar"])
    listing = muhtar.get(f"{base}/moderation").get_data(as_text=True)
    key = re.search(r'name="text" value="([0-9a-f]{32})">\s*<button[^>]*value="publish"', listing.split(shown)[1]).group(1)
    assert muhtar.post(f"{base}/moderation", data={"text": key, "decision": "publish"}).status_code == 303
    assert muhtar.post(f"{base}/moderation", data={"text": key, "decision": "maybe"}).status_code == 400
    after = client.get(f"{base}/results").get_data(as_text=True)
    assert shown in after and f"Text from {site['residents'][1]}" not in after


def test_roles_through_http(app, clock, site):
    base = f"/n/{site['slug']}/surveys/{site['survey']}"
    clock.now = sf.DURING
    resident = app.test_client()
    login(resident, site["residents"][0])
    assert resident.get(f"/n/{site['slug']}/surveys/new").status_code == 403
    assert resident.get(f"{base}/paper").status_code == 403
    assert resident.get(f"{base}/moderation").status_code == 403
    muhtar = app.test_client()
    login(muhtar, site["muhtar"])
    assert muhtar.get(f"/n/{site['slug']}/surveys/new").status_code == 200
    assert muhtar.post(f"{base}/paper", data={f"q{site['q'][0]}": "2"}).status_code == 303
    assert muhtar.get(f"{base}/moderation").status_code == 200
    anonymous = app.test_client()
    assert anonymous.post(f"{base}/answer", data={f"q{site['q'][0]}": "2"}).status_code in (302, 401)
    created = muhtar.post(f"/n/{site['slug']}/surveys/new", data={
        "title": "Ny enkät", "audience": "residents", "opens_at": "2030-05-01T10:00", "closes_at": "2030-05-10T10:00"})
    assert created.status_code == 303


def test_anonymous_rows_carry_no_person_no_time_and_no_hidden_order(ctx):
    connection = db.session.connection()
    columns = {table: {c["name"] for c in inspect(connection).get_columns(table)}
               for table in ("survey_answers", "survey_texts", "survey_participations")}
    assert columns["survey_answers"] == {"id", "survey_id", "source", "neighbourhood_id", "answers"}
    assert columns["survey_texts"] == {"id", "survey_id", "question_id", "body", "status", "moderated_by_id",
                                       "moderated_at"}
    # Who and when, and the answers only sealed until closing.
    assert columns["survey_participations"] == {"id", "survey_id", "user_id", "email_hash", "neighbourhood_id",
                                                "source", "answered_at", "sealed"}
    if connection.dialect.name == "sqlite":
        for table in ("survey_answers", "survey_texts"):
            sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar_one()
            assert "WITHOUT ROWID" in sql.upper()
    else:
        assert connection.execute(text("SELECT count(*) FROM information_schema.sequences "
                                       "WHERE sequence_name LIKE 'survey_answers%' "
                                       "OR sequence_name LIKE 'survey_texts%'")).scalar_one() == 0


def test_the_counters_equal_a_recount(ctx):
    from assembly.integrity import check_counters  # noqa: PLC0415
    w = sf.world()
    for person in w.residents:
        responses.respond(person, sf.DURING, w.survey, sf.full_answer(w))
    responses.respond(w.residents[0], sf.DURING, w.survey, sf.full_answer(w, single=1))
    responses.enter_paper(w.muhtar, sf.DURING, w.survey, sf.full_answer(w), neighbourhood_id=None)
    responses.close_survey(w.survey, sf.CLOSES)
    assert [m for m in check_counters() if m.counter.startswith("surveys.")] == []


def test_the_list_and_results_pages_cost_the_same_whatever_the_data(app, client, clock, monkeypatch):
    """A constant number of statements: one more survey, more answers, more groups add none."""
    monkeypatch.setitem(app.config, "SURVEY_MIN_GROUP", 1)
    with committed(app):
        w = sf.world(residents=2, hoods=2)
        slug, survey_id = w.hood.slug, w.survey.id
        for person in w.residents:
            responses.respond(person, sf.DURING, w.survey, sf.full_answer(w))
        responses.close_survey(w.survey, sf.CLOSES)
    clock.now = sf.CLOSES + dt.timedelta(hours=1)

    def cost() -> tuple[int, int]:
        counts = []
        for path in (f"/n/{slug}/surveys/", f"/n/{slug}/surveys/{survey_id}/results"):
            with counting_statements(app, transaction_control=False) as statements:
                assert client.get(path).status_code == 200
            counts.append(len(statements))
        return tuple(counts)

    before = cost()
    with committed(app):
        survey = db.session.get(Survey, survey_id)
        hood = survey.neighbourhoods[0]
        muhtar = db.session.scalar(select(User).where(User.email == w.muhtar.email))
        for _ in range(5):
            responses.enter_paper(muhtar, sf.DURING, survey, {str(survey.questions[0].id): 1},
                                  neighbourhood_id=sorted(survey.neighbourhood_ids)[1])
        other = services.create_survey(muhtar, sf.BEFORE, hood, title="Second", audience="area", opens_at=sf.OPENS,
                                       closes_at=sf.CLOSES)
        services.add_question(muhtar, sf.BEFORE, other, kind="scale", prompt="Safe?")
        services.publish(muhtar, sf.BEFORE, other)
    assert cost() == before
