"""Promises and programmes: who may write, sign, co-sign, record progress and report; the
hash-chained progress timeline and `flask promises verify`; overdue commitments; notifications
of followers; the public page and the booklet as PDF in each language."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, text, update

from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.notifications.models import Notification, OutboxEmail
from assembly.promises import queries
from assembly.promises import services as promises
from assembly.promises.models import CommitmentEvent, PromiseFollow
from assembly.proposals.models import Follow
from tests import case_factories as cf
from tests import factories
from tests import promise_factories as pr
from tests.support import count, login, pdf_text, translated_app, translation

pytestmark = pytest.mark.world("cases")
NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def _commitments(promise):
    council, police = promise.commitments
    return council, police


# --- writing, signing, publishing ---------------------------------------------------------------------

def test_staff_write_a_promise_that_every_body_signs_before_it_is_published(w):
    promise = pr.draft(w, NOW)
    assert promise.status == "draft" and promise.body_ids == {w.body.id, w.other_body.id}
    council, police = _commitments(promise)
    assert [e.kind for e in queries.events_of(council)] == ["committed"]  # the terms open the timeline
    promises.sign(w.staff, NOW, promise, w.body)
    with pytest.raises(InvalidTransition):
        promises.publish(w.staff, NOW, promise)  # the police have not signed
    with pytest.raises(NotAllowed):
        promises.sign(w.staff, NOW, promise, w.other_body)  # the council cannot sign for the police
    promises.sign(w.other_staff, NOW, promise, w.other_body)
    promises.publish(w.other_staff, NOW, promise)
    assert promise.status == "published" and promise.published_at == NOW
    with pytest.raises(InvalidTransition):
        promises.add_commitment(w.staff, NOW, promise, title="Late", description="x", bodies=[w.body],
                                indicator_kind="count", indicator_label="n", due_on=dt.date(2026, 5, 1))


@pytest.mark.parametrize("who", ["resident", "muhtar", "outsider staff"])
def test_only_staff_of_a_giving_body_write_a_promise(w, who):
    if who == "resident":
        actor = w.author
    elif who == "muhtar":
        actor = w.muhtar
    else:
        actor = factories.staff(cf.world(code="ANK", hood_code="KIZILAY").body)
    with pytest.raises(NotAllowed):
        promises.create_promise(actor, NOW, kind="promise", title="T", summary="S", neighbourhoods=[w.hood],
                                bodies=[w.body], period_start=pr.START, period_end=pr.END)


def test_bad_terms_are_refused_with_the_field(w):
    promise = pr.draft(w, NOW)
    base = dict(title="T", description="D", bodies=[w.body], indicator_kind="count", indicator_label="n",
                due_on=dt.date(2026, 5, 1))
    cases = [({"due_on": dt.date(2030, 1, 1)}, "due_on"), ({"bodies": [cf.world(code="IZM").body]}, "bodies"),
             ({"indicator_kind": "percent", "target": 120}, "target"), ({"indicator_kind": "yes_no", "target": 2},
                                                                           "target"),
             ({"target": 2.5}, "target"), ({"indicator_kind": "survey_question"}, "survey_question_id"),
             ({"budget": 100}, "currency"), ({"title": "  "}, "title")]
    for change, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            promises.add_commitment(w.staff, NOW, promise, **{**base, **change})
        assert field in refused.value.reasons, change


def test_only_accepted_proposals_of_the_neighbourhoods_are_answered(w):
    accepted, rejected = cf.voted(w, factories.now(), {"Işıklar": "yes", "Banklar": "no"})
    promise = pr.draft(w, NOW, proposals=[accepted])
    assert [p.id for p in queries.proposals_of(promise)] == [accepted.id]
    with pytest.raises(ValidationFailed):
        pr.draft(w, NOW, proposals=[rejected])


def test_muhtars_cosign_only_for_their_own_neighbourhood(w):
    promise = pr.published(w, NOW)
    other = cf.world(code="BSK", hood_code="SINANPASA")
    with pytest.raises(NotAllowed):
        promises.cosign(other.muhtar, NOW, promise, other.hood)
    with pytest.raises(NotAllowed):
        promises.cosign(w.staff, NOW, promise, w.hood)
    place = promises.cosign(w.muhtar, NOW, promise, w.hood)
    assert place.cosigned_by_name == w.muhtar.display_name
    with pytest.raises(InvalidTransition):
        promises.cosign(w.muhtar, NOW, promise, w.hood)


# --- progress --------------------------------------------------------------------------------------

def test_a_body_records_progress_on_its_own_commitments_only(w):
    promise = pr.published(w, NOW)
    council, police = _commitments(promise)
    event = promises.record_progress(w.staff, NOW + DAY, council, percent=30, value=12, note="Moda Caddesi bitti.",
                                     evidence=["https://kadikoy.example/haber/12"])
    assert (event.kind, event.data, council.current_value) == (
        "progress", {"percent": 30, "value": 12.0, "evidence": ["https://kadikoy.example/haber/12"]}, 12)
    assert event.actor_name.endswith(f"({w.body.name})")
    with pytest.raises(NotAllowed):
        promises.record_progress(w.other_staff, NOW + DAY, council, percent=50)  # the police, on the council's
    with pytest.raises(NotAllowed):
        promises.record_progress(w.muhtar, NOW + DAY, council, percent=50)
    assert council.progress == 30 and council.event_count == 2


@pytest.mark.parametrize(("fields", "field"), [
    ({"percent": 20}, "percent"),  # below the 30 % already recorded
    ({"percent": 101}, "percent"),
    ({"percent": 40, "value": 2.5}, "value"),  # a count is whole
    ({"percent": 40, "evidence": ["javascript:alert(1)"]}, "evidence"),
    ({"percent": 40, "evidence": [f"https://e.example/{n}" for n in range(6)]}, "evidence"),
    ({"percent": 30}, "note"),  # nothing changed
])
def test_bad_progress_is_refused_and_nothing_is_written(w, fields, field):
    promise = pr.published(w, NOW)
    council, _police = _commitments(promise)
    promises.record_progress(w.staff, NOW, council, percent=30)
    with pytest.raises(ValidationFailed) as refused:
        promises.record_progress(w.staff, NOW + DAY, council, **fields)
    assert field in refused.value.reasons
    assert council.event_count == 2 and council.progress == 30


def test_progress_needs_a_published_promise_and_stops_when_done(w):
    promise = pr.draft(w, NOW)
    council, police = _commitments(promise)
    with pytest.raises(InvalidTransition):
        promises.record_progress(w.staff, NOW, council, percent=10)
    promises.sign(w.staff, NOW, promise, w.body)
    promises.sign(w.other_staff, NOW, promise, w.other_body)
    promises.publish(w.staff, NOW, promise)
    done = promises.record_progress(w.other_staff, NOW, police, percent=100, value=1, note="Devriye başladı.")
    assert done.kind == "done" and police.done_at == NOW
    with pytest.raises(InvalidTransition):
        promises.record_progress(w.other_staff, NOW, police, percent=100, note="Again")


def test_a_survey_question_measures_a_commitment_from_the_counted_results(ctx):
    from assembly.surveys import responses
    from tests import survey_factories as sf
    sw = sf.world(residents=4)
    for person, single in zip(sw.residents, (0, 0, 0, 1)):  # 3 of 4 feel least safe at Järntorget
        responses.respond(person, sf.DURING, sw.survey, sf.full_answer(sw, single=single))
    responses.close_survey(sw.survey, sf.CLOSES)
    police = factories.body(sw.hood.municipality, kind="police")
    officer = factories.staff(police)
    promise = promises.create_promise(officer, sf.CLOSES, kind="promise", title="Trygg i området", summary="S",
                                      neighbourhoods=[sw.hood], bodies=[police], surveys=[sw.survey],
                                      period_start=dt.date(2030, 1, 1), period_end=dt.date(2031, 12, 31))
    question = sw.survey.questions[0]
    with pytest.raises(ValidationFailed):  # an option the question does not have
        promises.add_commitment(officer, sf.CLOSES, promise, title="T", description="D", bodies=[police],
                                indicator_kind="survey_question", indicator_label="Unsafe at Järntorget",
                                survey_question_id=question.id, survey_option=7, due_on=dt.date(2031, 6, 1))
    with pytest.raises(ValidationFailed):  # a free-text question measures nothing
        promises.add_commitment(officer, sf.CLOSES, promise, title="T", description="D", bodies=[police],
                                indicator_kind="survey_question", indicator_label="x",
                                survey_question_id=sw.survey.questions[4].id, survey_option=0,
                                due_on=dt.date(2031, 6, 1))
    commitment = promises.add_commitment(officer, sf.CLOSES, promise, title="Fewer feel unsafe", description="D",
                                         bodies=[police], indicator_kind="survey_question",
                                         indicator_label="Unsafe at Järntorget", survey_question_id=question.id,
                                         survey_option=0, target=40, due_on=dt.date(2031, 6, 1))
    assert (commitment.baseline, commitment.target) == (75.0, 40.0)  # the baseline is the counted share
    series = queries.series_of(promise, commitment, [], dt.timezone.utc)
    assert series.points[-1] == (sf.CLOSES.date(), 75.0) and series.maximum == 100
    assert [s.id for s in queries.surveys_of(promise)] == [sw.survey.id]
    with pytest.raises(ValidationFailed):
        promises.indicator_value("survey_question", 50)  # never typed in


def test_commitments_past_due_are_overdue_until_done(w):
    promise = pr.published(w, NOW)
    council, police = _commitments(promise)  # due 2026-06-30 and 2027-06-30
    july = dt.date(2026, 7, 1)
    assert promises.is_overdue(council, july) and not promises.is_overdue(council, dt.date(2026, 6, 30))
    assert queries.state_of(council, july) == "overdue" and queries.state_of(police, july) == "not_started"
    promises.record_progress(w.staff, NOW, council, percent=100, value=40)
    assert not promises.is_overdue(council, july) and queries.state_of(council, july) == "done"


# --- reports, followers -------------------------------------------------------------------------------

def test_reports_follow_the_schedule_and_followers_hear_in_their_language(w):
    promise = pr.published(w, NOW, report_every_months=6)
    assert promises.report_dates(promise) == [dt.date(2026, 7, 1), dt.date(2027, 1, 1), dt.date(2027, 7, 1),
                                              pr.END]
    swede, turk = factories.user(locale="sv"), factories.user(locale="tr")
    promises.follow(swede, NOW, promise)
    promises.follow(swede, NOW, promise)  # twice is once
    proposal = cf.proposal(w, NOW)
    db.session.add(Follow(proposal_id=proposal.id, user_id=turk.id))
    from assembly.promises.models import PromiseProposal
    db.session.add(PromiseProposal(promise_id=promise.id, proposal_id=proposal.id))
    db.session.flush()
    report = promises.write_report(w.other_staff, NOW, promise, w.other_body, dt.date(2026, 7, 1), "Devriye **var**.")
    assert "<strong>var</strong>" in report.text_html
    notified = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "promise_report"))}
    assert {swede.id, turk.id} <= notified
    assert count(PromiseFollow) == 1
    with pytest.raises(ValidationFailed):
        promises.write_report(w.other_staff, NOW, promise, w.other_body, dt.date(2026, 7, 1), "Twice")
    with pytest.raises(ValidationFailed):
        promises.write_report(w.staff, NOW, promise, w.body, dt.date(2026, 7, 2), "Not a report date")
    stranger = cf.world(code="ESK")
    with pytest.raises(NotAllowed):
        promises.write_report(stranger.staff, NOW, promise, stranger.body, dt.date(2026, 7, 1), "Not ours")
    comment = promises.comment_report(w.muhtar, NOW, report, w.hood, "Teşekkürler.")
    assert comment.author_name == w.muhtar.display_name
    with pytest.raises(NotAllowed):
        promises.comment_report(w.author, NOW, report, w.hood, "A resident")


def test_followers_are_mailed_in_their_language(database_url, tmp_path_factory):
    with translated_app(database_url, tmp_path_factory) as app, app.app_context():
        w = cf.world()
        promise = pr.published(w, NOW)
        swede = factories.user(locale="sv")
        promises.follow(swede, NOW, promise)
        council, _police = _commitments(promise)
        promises.record_progress(w.staff, NOW, council, percent=30, value=12)
        mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == swede.email))
    expected = translation("sv", "Progress on “%(commitment)s” (%(promise)s): %(percent)s %%.")
    assert expected % {"commitment": "Sokak lambalarını yenilemek", "promise": "Güvenli Caferağa sözü",
                       "percent": "30"} in mail.body_text


# --- the hash chain ---------------------------------------------------------------------------------

def _unguard() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE commitment_events DISABLE TRIGGER commitment_events_append_only"))
    else:
        db.session.execute(text("DROP TRIGGER commitment_events_no_update"))
        db.session.execute(text("DROP TRIGGER commitment_events_no_delete"))


def _verify_cli(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["promises", "verify"])
    return result.exit_code, result.output


@pytest.fixture
def progressed(w):
    promise = pr.published(w, NOW)
    council, police = _commitments(promise)
    for step, percent in enumerate((10, 40, 70), start=1):
        promises.record_progress(w.staff, NOW + step * DAY, council, percent=percent, value=percent // 2)
    return promise


def test_the_timeline_is_append_only_in_the_database(progressed):
    council, _police = _commitments(progressed)
    with pytest.raises(Exception):
        with db.session.begin_nested():
            db.session.execute(update(CommitmentEvent).where(CommitmentEvent.commitment_id == council.id)
                               .values(note="changed"))


def test_intact_timelines_verify(app, progressed):
    council, police = _commitments(progressed)
    assert promises.verify_chain(council, queries.events_of(council)) is None
    assert list(promises.verify_all(batch=1)) == []
    assert _verify_cli(app) == (0, "every commitment timeline is intact\n")


@pytest.mark.parametrize("tamper", ["note", "value", "delete", "move"])
def test_verify_finds_tampering(app, progressed, tamper):
    council, police = _commitments(progressed)
    _unguard()
    where = (CommitmentEvent.commitment_id == council.id, CommitmentEvent.seq == 3)
    if tamper == "note":
        db.session.execute(update(CommitmentEvent).where(*where).values(note="Everything was done."))
    elif tamper == "value":
        db.session.execute(update(CommitmentEvent).where(*where).values(data={"percent": 90, "value": 40}))
    elif tamper == "delete":
        db.session.execute(delete(CommitmentEvent).where(*where))
    else:  # an event moved to the other commitment: its hash covers the commitment
        db.session.execute(delete(CommitmentEvent).where(CommitmentEvent.commitment_id == police.id))
        db.session.execute(update(CommitmentEvent).where(*where).values(commitment_id=police.id, seq=1))
    db.session.expire_all()
    broken = list(promises.verify_all())
    assert broken and broken[0][0].id in (council.id, police.id)
    code, output = _verify_cli(app)
    assert code == 1 and f"promise {progressed.id}, commitment" in output and "timeline(s) broken" in output


# --- pages ------------------------------------------------------------------------------------------

def test_the_public_page_shows_commitments_overdue_and_the_chart(app, client, w, clock):
    clock.now = dt.datetime(2026, 7, 2, 9, 0, tzinfo=dt.timezone.utc)
    promise = pr.published(w, NOW)
    council, _police = _commitments(promise)
    promises.record_progress(w.staff, NOW, council, percent=30, value=12, note="İlk 12 lamba.")
    db.session.commit()
    page = client.get(f"/promises/{promise.id}?lang=en")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Sokak lambalarını yenilemek" in body and 'role="img"' in body and "<polyline" in body
    assert 'id="overdue-heading"' in body  # due 2026-06-30
    assert client.get(f"/pr/{promise.id}").headers["Location"].endswith(f"/promises/{promise.id}")


def test_drafts_are_hidden_from_the_public(app, client, w):
    promise = pr.draft(w, NOW)
    db.session.commit()
    hidden = client.get(f"/promises/{promise.id}")
    assert hidden.status_code in (302, 403, 404) and "Güvenli Caferağa" not in hidden.get_data(as_text=True)
    login(client, w.staff.email)
    assert client.get(f"/promises/{promise.id}").status_code == 200


def test_staff_record_progress_through_the_page_and_others_are_refused(app, client, w):
    promise = pr.published(w, NOW)
    council, _police = _commitments(promise)
    db.session.commit()
    login(client, w.other_staff.email)
    refused = client.post(f"/promises/{promise.id}/commitments/{council.id}/progress", data={"percent": 50})
    assert refused.status_code == 403
    client.post("/account/logout")
    login(client, w.staff.email)
    bad = client.post(f"/promises/{promise.id}/commitments/{council.id}/progress", data={"percent": 50, "value": "x"})
    assert bad.status_code == 400 and 'value="x"' in bad.get_data(as_text=True)
    done = client.post(f"/promises/{promise.id}/commitments/{council.id}/progress",
                       data={"percent": 50, "value": "20", "note": "Yarısı bitti.",
                             "evidence": "https://kadikoy.example/1\r\nhttps://kadikoy.example/2"})
    assert done.status_code == 302
    db.session.expire_all()
    assert council.progress == 50 and queries.events_of(council)[-1].data["evidence"] == [
        "https://kadikoy.example/1", "https://kadikoy.example/2"]


@pytest.mark.parametrize(("lang", "expected"), [
    ("sv", ["Sokak lambalarını yenilemek", "Commitments"]),
    ("fa", ["Güvenli Caferağa sözü", "Commitments"]),
    ("tr", ["Akşam devriyeleri", "Commitments"]),
    ("en", ["Commitments", "Timetable"]),
])
def test_the_booklet_pdf_in_each_language(database_url, tmp_path_factory, lang, expected):
    with translated_app(database_url, tmp_path_factory) as app:
        with app.app_context():
            w = cf.world()
            promise = pr.published(w, NOW)
            promise_id = promise.id
            db.session.commit()
        response = app.test_client().get(f"/promises/{promise_id}/booklet.pdf?language={lang}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"promise-{promise_id}-{lang}.pdf" in response.headers["Content-Disposition"]
    found = pdf_text(response.data)
    for words in expected:
        words = translation(lang, words) or words if lang != "en" else words
        assert words in found, (lang, words)
    assert f"/pr/{promise_id}" in found  # the short address under the QR code
    if lang == "fa":
        assert "۱۴۰۵" in found  # Solar Hijri years in Persian digits
    else:
        assert "2026" in found


def test_staff_write_a_promise_through_the_pages(app, client, w):
    db.session.commit()
    login(client, w.staff.email)
    assert client.get("/staff/promises/new?lang=en").status_code == 200
    refused = client.post("/staff/promises/new", data={"kind": "promise", "title": "Işıklı Moda", "summary": "S",
                                                      "bodies": [w.body.id], "period_start": "2026-01-01",
                                                      "period_end": "2026-12-31"})
    assert refused.status_code == 400 and "Işıklı Moda" in refused.get_data(as_text=True)  # no neighbourhood
    made = client.post("/staff/promises/new", data={
        "kind": "promise", "title": "Işıklı Moda", "summary": "Anket sonuçları.", "neighbourhoods": [w.hood.id],
        "bodies": [w.body.id, w.other_body.id], "period_start": "2026-01-01", "period_end": "2026-12-31",
        "report_every_months": "6"})
    assert made.status_code == 302
    promise_id = int(made.headers["Location"].split("/promises/")[1].split("#")[0])
    added = client.post(f"/promises/{promise_id}/commitments", data={
        "title": "LED", "description": "40 lamba", "bodies": [w.body.id], "indicator_kind": "count",
        "indicator_label": "Lamba", "baseline": "0", "target": "40", "due_on": "2026-06-30", "budget": "5000",
        "currency": "try"})
    assert added.status_code == 302, added.get_data(as_text=True)
    promise = queries.get_promise(promise_id)
    assert [(c.title, c.currency, c.target) for c in promise.commitments] == [("LED", "TRY", 40)]
    assert client.post(f"/promises/{promise_id}/sign", data={"body_id": w.body.id}).status_code == 302
    assert client.post(f"/promises/{promise_id}/sign", data={"body_id": w.other_body.id}).status_code == 403


def test_persian_staff_type_solar_hijri_dates(app, client, w):
    db.session.commit()
    login(client, w.staff.email)
    made = client.post("/staff/promises/new?lang=fa", data={
        "kind": "programme", "title": "برنامه محله", "summary": "برنامه سال", "neighbourhoods": [w.hood.id],
        "bodies": [w.body.id], "period_start": "۱۴۰۵/۰۱/۰۱", "period_end": "1405/12/29"})
    assert made.status_code == 302, made.get_data(as_text=True)
    promise = queries.get_promise(int(made.headers["Location"].split("/promises/")[1].split("#")[0]))
    assert (promise.period_start, promise.period_end) == (dt.date(2026, 3, 21), dt.date(2027, 3, 20))
    wrong = client.post("/staff/promises/new?lang=fa", data={
        "kind": "programme", "title": "x", "summary": "y", "neighbourhoods": [w.hood.id], "bodies": [w.body.id],
        "period_start": "1405/13/01", "period_end": "1405/12/29"})
    assert wrong.status_code == 400
