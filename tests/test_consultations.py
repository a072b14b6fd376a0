"""Consultations: the body's staff put a draft to neighbourhoods, each neighbourhood's assembly
votes on it, the muhtar sends the answer before the deadline, and the answer becomes a case."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from assembly import activity
from assembly.assemblies import services as assemblies
from assembly.cases import queries as case_queries
from assembly.cases import services as cases
from assembly.cases.models import Case
from assembly.consultations import queries, services
from assembly.consultations.models import Consultation, ConsultationAnswer, ConsultationDocument
from assembly.db import db
from assembly.demo import load_demo
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from tests import consultation_factories as kf
from tests import factories
from tests import meeting_factories as mf
from tests import proposal_factories as pf
from tests.assembly_factories import CLOSES, DAY, HOUR, PREPARED
from tests.support import count


@pytest.fixture
def k(ctx):
    return kf.world()


@pytest.fixture
def storage(tmp_path):
    return tmp_path / "consultations"


# --- putting a draft to neighbourhoods ---------------------------------------------------------

def test_staff_put_a_draft_with_a_link_and_a_pdf_to_two_neighbourhoods(k, storage):
    made = kf.consultation(k, storage)
    assert made.text_html == "<p>Sahil parkına <strong>48 LED direk</strong> için 2.400.000 TL.</p>\n"
    links = [d for d in made.documents if d.url]
    files = [d for d in made.documents if d.stored_name]
    assert [d.url for d in links] == ["https://kadikoy.example/butce-2031"]
    assert len(files) == 1 and (storage / files[0].stored_name).read_bytes() == kf.PDF
    assert files[0].size == len(kf.PDF) and files[0].title == "ek-1.pdf"
    assert {c.neighbourhood_id for c in made.neighbourhoods} == {k.moda.hood.id, k.caferaga.hood.id}


def test_markdown_of_the_draft_is_sanitised(k, storage):
    made = kf.consultation(k, storage, text='<script>alert(1)</script> [x](javascript:alert(1))')
    assert "<script" not in made.text_html and "href=\"javascript" not in made.text_html
    assert "&lt;script&gt;" in made.text_html  # shown as text, never run


@pytest.mark.parametrize("who", ["resident", "muhtar", "police_staff", "admin"])
def test_only_staff_of_the_body_may_consult(k, storage, who):
    actor = {"resident": lambda: k.moda.residents[0], "muhtar": lambda: k.moda.muhtar,
             "police_staff": lambda: k.police_staff, "admin": factories.admin}[who]()
    with pytest.raises(NotAllowed):
        services.create_consultation(actor, PREPARED, k.council, kind="budget", title="T", text="X",
                                     deadline=kf.DEADLINE, neighbourhood_ids=[k.moda.hood.id], storage=storage)
    assert count(ConsultationDocument) == 0


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kind": "tax"}, "kind"),
    ({"title": " "}, "title"),
    ({"text": ""}, "text"),
    ({"deadline": PREPARED - HOUR}, "deadline"),
    ({"neighbourhood_ids": []}, "neighbourhood_ids"),
    ({"links": [services.Link("x", "javascript:alert(1)")]}, "links"),
    ({"files": [services.Upload("plan.pdf", b"<html>not a pdf</html>")]}, "files"),
    ({"files": [services.Upload("plan.exe", kf.PDF)]}, "files"),
    ({"files": [services.Upload("big.pdf", kf.PDF + b"0" * services.MAX_PDF_BYTES)]}, "files"),
])
def test_a_bad_draft_is_refused_whole_and_writes_no_file(k, storage, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        kf.consultation(k, storage, **overrides)
    assert field in refused.value.reasons
    assert not storage.exists() or not any(storage.iterdir())


def test_neighbourhoods_of_another_municipality_cannot_be_consulted(k, storage):
    elsewhere = factories.neighbourhood()
    with pytest.raises(ValidationFailed) as refused:
        kf.consultation(k, storage, neighbourhood_ids=[k.moda.hood.id, elsewhere.id])
    assert "neighbourhood_ids" in refused.value.reasons


# --- the neighbourhood's assembly answers ------------------------------------------------------

def test_the_answer_becomes_a_case_with_the_vote_and_the_comment(k, storage):
    made = kf.consultation(k, storage)
    kf.counted(k.moda, made, ["yes", "yes", "no"])
    answer, case = services.send_answer(k.moda.muhtar, CLOSES + HOUR, made, k.moda.hood,
                                        comment="Meclis destekliyor; direkler **sahil yolunda** olsun.")
    assert answer.vote_result["counts"] == {"yes": 2, "no": 1, "abstain": 0} | {
        key: value for key, value in answer.vote_result["counts"].items() if key not in ("yes", "no", "abstain")}
    assert answer.vote_result["outcome"] == "accepted" and answer.vote_result["turnout"] == 3
    assert case.body_id == k.council.id and case.consultation_answer_id == answer.id and case.proposal_id is None
    assert case.category_id is None and case.reference.startswith(f"{k.municipality.code}-MODA")
    assert "<strong>sahil yolunda</strong>" in case.text_html
    events = case_queries.events_of(case)
    assert [e.kind for e in events] == ["forwarded"] and cases.verify_chain(case, events) is None


def test_the_body_decides_on_the_answer_on_the_hash_chained_timeline(k, storage):
    made = kf.consultation(k, storage)
    kf.counted(k.moda, made, ["no", "no", "yes"])
    _answer, case = services.send_answer(k.moda.muhtar, CLOSES + HOUR, made, k.moda.hood, comment="Karşıyız.")
    cases.receive(k.staff, CLOSES + 2 * HOUR, case)
    cases.decide(k.staff, CLOSES + DAY, case, decision="rejected",
                 note="Meclis bu kalemi 2032 bütçesine erteledi; mahallenin itirazı kabul edildi.")
    rows = queries.answers(made)
    assert [(row.answer.neighbourhood_id, row.case.decision) for row in rows] == [(k.moda.hood.id, "rejected")]
    assert rows[0].decision_note.startswith("Meclis bu kalemi")
    assert cases.verify_chain(case, case_queries.events_of(case)) is None
    with pytest.raises(NotAllowed):  # another body's staff cannot decide it
        cases.decide(k.police_staff, CLOSES + DAY, case, decision="approved")


def test_answering_after_the_deadline_is_refused_with_the_date(k, storage):
    made = kf.consultation(k, storage)
    kf.counted(k.moda, made, ["yes", "yes", "yes"])
    with pytest.raises(InvalidTransition) as refused:
        services.send_answer(k.moda.muhtar, kf.DEADLINE + dt_minute(), made, k.moda.hood, comment="Geç kaldık.")
    assert "deadline" in refused.value.message
    assert count(ConsultationAnswer) == 0 and count(Case) == 0


def dt_minute():
    return HOUR / 60


def test_answering_twice_is_refused(k, storage):
    made = kf.consultation(k, storage)
    kf.counted(k.moda, made, ["yes", "no", "yes"])
    services.send_answer(k.moda.muhtar, CLOSES + HOUR, made, k.moda.hood, comment="Evet.")
    with pytest.raises(ValidationFailed, match="already answered"):
        services.send_answer(k.moda.muhtar, CLOSES + 2 * HOUR, made, k.moda.hood, comment="Bir daha.")
    assert count(ConsultationAnswer) == 1 and count(Case) == 1


def test_a_neighbourhood_not_consulted_can_neither_vote_on_it_nor_answer(k, storage):
    made = kf.consultation(k, storage)
    with pytest.raises(ValidationFailed, match="not consulted"):
        kf.session(k.fenerbahce, made)
    with pytest.raises(ValidationFailed, match="not consulted"):
        services.send_answer(k.fenerbahce.muhtar, CLOSES + HOUR, made, k.fenerbahce.hood, comment="Biz de.")


@pytest.mark.parametrize("who", ["resident", "other_muhtar", "staff"])
def test_only_the_muhtar_of_the_neighbourhood_sends_its_answer(k, storage, who):
    made = kf.consultation(k, storage)
    kf.counted(k.moda, made, ["yes", "yes", "no"])
    actor = {"resident": k.moda.residents[0], "other_muhtar": k.caferaga.muhtar, "staff": k.staff}[who]
    with pytest.raises(NotAllowed):
        services.send_answer(actor, CLOSES + HOUR, made, k.moda.hood, comment="Evet.")
    with pytest.raises(NotAllowed):  # nor put it on the neighbourhood's agenda
        services.put_on_agenda(actor, PREPARED, kf.session(k.moda), made)


def test_an_answer_needs_a_counted_vote_and_a_comment(k, storage):
    made = kf.consultation(k, storage)
    with pytest.raises(ValidationFailed, match="agenda"):
        services.send_answer(k.moda.muhtar, CLOSES + HOUR, made, k.moda.hood, comment="Evet.")
    kf.counted(k.moda, made, ["yes", "yes", "no"])
    with pytest.raises(ValidationFailed) as refused:
        services.send_answer(k.moda.muhtar, CLOSES + HOUR, made, k.moda.hood, comment="  ")
    assert "comment" in refused.value.reasons


def test_a_session_whose_vote_closes_after_the_deadline_cannot_take_it(k, storage):
    made = kf.consultation(k, storage, deadline=CLOSES - HOUR)
    assembly = kf.session(k.moda)
    with pytest.raises(ValidationFailed, match="closes after the deadline"):
        services.put_on_agenda(k.moda.muhtar, PREPARED, assembly, made)


def test_the_same_consultation_goes_onto_an_agenda_once(k, storage):
    made = kf.consultation(k, storage)
    assembly = kf.session(k.moda, made)
    with pytest.raises(ValidationFailed, match="already on the agenda"):
        services.put_on_agenda(k.moda.muhtar, PREPARED, assembly, made)


def test_a_consultation_item_can_be_taken_off_the_agenda(k, storage):
    made = kf.consultation(k, storage)
    assembly = kf.session(k.moda, made)
    assemblies.remove_agenda_item(k.moda.muhtar, PREPARED, assembly, assembly.items[0].id)
    db.session.flush()
    assert assembly.items == []


def test_lists_for_the_body_and_the_neighbourhood(k, storage):
    made = kf.consultation(k, storage)
    kf.counted(k.moda, made, ["yes", "yes", "no"])
    services.send_answer(k.moda.muhtar, CLOSES + HOUR, made, k.moda.hood, comment="Evet.")
    assert queries.of_body(k.council) == [made] and queries.of_body(k.police) == []
    assert queries.of_neighbourhood(k.moda.hood) == [(made, True)]
    assert queries.of_neighbourhood(k.caferaga.hood) == [(made, False)]
    assert queries.of_neighbourhood(k.fenerbahce.hood) == []


def test_the_database_refuses_a_case_with_two_origins_or_none(k, storage):
    made = kf.consultation(k, storage)
    kf.counted(k.moda, made, ["yes", "yes", "no"])
    _answer, case = services.send_answer(k.moda.muhtar, CLOSES + HOUR, made, k.moda.hood, comment="Evet.")
    with pytest.raises(IntegrityError), db.session.begin_nested():  # no origin
        db.session.execute(update(Case).where(Case.id == case.id).values(consultation_answer_id=None))
    proposal = factories_proposal(k)
    with pytest.raises(IntegrityError), db.session.begin_nested():  # two origins
        db.session.execute(update(Case).where(Case.id == case.id).values(proposal_id=proposal.id))
    question = _meeting_question()
    with pytest.raises(IntegrityError), db.session.begin_nested():  # an answer and a meeting's question
        db.session.execute(update(Case).where(Case.id == case.id).values(meeting_question_id=question.id))
    with pytest.raises(IntegrityError), db.session.begin_nested():  # all three
        db.session.execute(update(Case).where(Case.id == case.id).values(
            meeting_question_id=question.id, proposal_id=proposal.id))
    row = db.session.execute(select(Case.proposal_id, Case.meeting_question_id, Case.consultation_answer_id)
                             .where(Case.id == case.id)).one()
    assert tuple(row) == (None, None, _answer.id)


def test_only_a_consultation_answer_makes_a_case_without_a_category(k, storage):
    made = kf.consultation(k, storage)
    kf.counted(k.moda, made, ["yes"])
    _answer, case = services.send_answer(k.moda.muhtar, CLOSES + HOUR, made, k.moda.hood, comment="Evet.")
    assert case.category_id is None
    question = _meeting_question()
    with pytest.raises(IntegrityError), db.session.begin_nested():  # a meeting's question needs a category
        db.session.execute(update(Case).where(Case.id == case.id).values(
            consultation_answer_id=None, meeting_question_id=question.id))


def _meeting_question():
    """A question asked at a meeting with bodies (in a world of its own: only its id is used)."""
    w = mf.world()
    mf.opened(w)
    return mf.question(w)


def factories_proposal(k):
    """A proposal of Moda (any status: only its id is used)."""
    w = pf.World(hood=k.moda.hood, muhtar=k.moda.muhtar, category=pf.category(k.moda.hood), author=k.moda.residents[0])
    return pf.proposal(w)


def test_the_demo_has_a_council_consultation_answered_by_two_counted_neighbourhoods(ctx, tmp_path, monkeypatch):
    monkeypatch.setattr("assembly.consultations.files.folder", lambda: tmp_path)
    load_demo(factories.now())
    [made] = db.session.scalars(select(Consultation)).all()
    assert made.body.slug == "meclis" and made.kind == "budget" and made.deadline < factories.now()
    rows = queries.answers(made)
    assert sorted(row.answer.neighbourhood.slug for row in rows) == ["caferaga", "osmanaga"]
    for row in rows:
        assert row.answer.vote_result["turnout"] > 0 and row.answer.vote_result["digest"]
        assert row.case.status == "decided" and row.decision_note
        assert cases.verify_chain(row.case, case_queries.events_of(row.case)) is None
    [pdf] = [d for d in made.documents if d.stored_name]
    assert (tmp_path / pdf.stored_name).read_bytes().startswith(b"%PDF-")
    # the neighbourhood page's latest results show the consultation's vote beside the proposals'
    results = activity.latest_results(rows[0].answer.neighbourhood)
    assert made.title in [r.title for r in results if r.consultation_id == made.id]
