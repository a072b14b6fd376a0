"""Consultation pages through HTTP: who may do what, the refusals as translated form errors,
the public pages, the PDF download and the links from the body's and neighbourhood's pages."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from assembly import permissions
from assembly.assemblies.models import AgendaItem
from assembly.cases import services as cases
from assembly.cases.models import Case
from assembly.consultations import services
from assembly.consultations.models import Consultation, ConsultationAnswer
from assembly.db import db
from assembly.notifications.models import Notification
from tests import consultation_factories as kf
from tests.assembly_factories import CLOSES, HOUR, client_of, committed
from tests.support import count, counting_statements, text


@pytest.fixture
def storage(tmp_path, monkeypatch):
    folder = tmp_path / "consultations"
    monkeypatch.setattr("assembly.consultations.files.folder", lambda: folder)
    return folder


@pytest.fixture
def k(app, storage):
    with committed(app):
        world = kf.world()
        made = kf.consultation(world, storage)
        world.consultation_id = made.id
    return world


def _form(k, **overrides):
    data = {"kind": "zoning", "title": "Moda imar planı değişikliği", "text": "Yükseklik sınırı **4 kat**.",
            "deadline": "2030-03-10T17:00", "neighbourhood_ids": [str(k.moda.hood.id)],
            "links": "Plan notları | https://kadikoy.example/imar\n",
            "files": (io.BytesIO(kf.PDF), "plan.pdf")}
    data.update(overrides)
    return data


def test_staff_put_a_draft_with_a_pdf_through_the_form(app, clock, k, storage):
    client = client_of(app, k.staff)
    assert client.get(f"/staff/bodies/{k.council.id}/consultations/new").status_code == 200
    response = client.post(f"/staff/bodies/{k.council.id}/consultations/new", data=_form(k),
                           content_type="multipart/form-data")
    assert response.status_code == 302, text(response)
    page = client.get(response.headers["Location"])
    assert "Moda imar planı değişikliği" in text(page) and "plan.pdf" in text(page)
    with app.app_context():
        made = db.session.scalar(select(Consultation).where(Consultation.title == "Moda imar planı değişikliği"))
        assert made.deadline.isoformat() == "2030-03-10T14:00:00+00:00"  # 17:00 in Istanbul
        stored = [d for d in made.documents if d.stored_name][0]
        document_id = stored.id
    download = client_of(app).get(f"/consultations/{made.id}/documents/{document_id}")
    try:
        assert download.status_code == 200 and download.mimetype == "application/pdf" and download.data == kf.PDF
        assert "attachment" in download.headers["Content-Disposition"]
    finally:
        download.close()


def test_a_file_that_is_not_a_pdf_is_a_form_error_and_nothing_is_stored(app, clock, k, storage):
    client = client_of(app, k.staff)
    before = len(list(storage.iterdir()))
    response = client.post(f"/staff/bodies/{k.council.id}/consultations/new",
                           data=_form(k, files=(io.BytesIO(b"MZ\x90\x00"), "plan.pdf")),
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "is not a PDF file" in text(response)
    assert len(list(storage.iterdir())) == before
    with app.app_context():
        assert count(Consultation) == 1


@pytest.mark.parametrize("who", ["anonymous", "resident", "muhtar", "police_staff"])
def test_others_cannot_put_a_draft_to_neighbourhoods(app, clock, k, who):
    person = {"anonymous": None, "resident": k.moda.residents[0], "muhtar": k.moda.muhtar,
              "police_staff": k.police_staff}[who]
    client = client_of(app, person)
    response = client.post(f"/staff/bodies/{k.council.id}/consultations/new", data=_form(k),
                           content_type="multipart/form-data")
    assert response.status_code == (302 if who == "anonymous" else 403)
    if who == "anonymous":
        assert "/account/login" in response.headers["Location"]
    with app.app_context():
        assert count(Consultation) == 1


def _counted(app, k, hood_name="moda", votes=("yes", "yes", "no")):
    with committed(app):
        hood = getattr(k, hood_name)
        made = db.session.get(Consultation, k.consultation_id)
        kf.counted(hood, made, list(votes))


def test_the_muhtar_puts_it_on_a_session_through_the_page(app, clock, k):
    with committed(app):
        assembly = kf.session(k.moda)
        assembly_id = assembly.id
    client = client_of(app, k.moda.muhtar)
    page = text(client.get(f"/consultations/{k.consultation_id}"))
    assert "Put on the agenda" in page
    response = client.post(f"/consultations/{k.consultation_id}/n/{k.moda.hood.slug}/agenda",
                           data={"assembly_id": str(assembly_id)})
    assert response.status_code == 302
    session_page = text(client.get(response.headers["Location"]))
    assert "2031 bütçesi" in session_page and "Consultation" in session_page


def test_another_neighbourhoods_muhtar_cannot_use_its_sessions(app, clock, k):
    with committed(app):
        assembly_id = kf.session(k.moda).id
    client = client_of(app, k.caferaga.muhtar)
    response = client.post(f"/consultations/{k.consultation_id}/n/{k.moda.hood.slug}/agenda",
                           data={"assembly_id": str(assembly_id)})
    assert response.status_code == 403


def test_the_answer_through_the_page_shows_on_the_public_page_and_becomes_a_case(app, clock, k):
    _counted(app, k)
    clock.now = CLOSES + HOUR
    client = client_of(app, k.moda.muhtar)
    response = client.post(f"/consultations/{k.consultation_id}/n/{k.moda.hood.slug}/answer",
                           data={"comment": "Meclis destekliyor; **sahil yolu** öncelikli."})
    assert response.status_code == 302, text(response)
    page = client_of(app).get(f"/consultations/{k.consultation_id}")
    shown = text(page)
    assert "yes 2, no 1, abstain 0" in shown and "sahil yolu" in shown and "No answer yet." in shown
    with app.app_context():
        answer = db.session.scalar(select(ConsultationAnswer))
        reference = db.session.scalar(select(Case.reference))
    assert answer.neighbourhood_id == k.moda.hood.id and reference in shown
    case_page = text(client_of(app).get(f"/cases/{reference}"))
    assert "the consultation and every neighbourhood" in case_page


def test_a_done_consultation_case_asks_nobody_if_it_is_fixed(app, clock, k):
    _counted(app, k)
    with committed(app):
        made = db.session.get(Consultation, k.consultation_id)
        _answer, case = services.send_answer(k.moda.muhtar, CLOSES + HOUR, made, k.moda.hood, comment="Evet.")
        cases.receive(k.staff, CLOSES + 2 * HOUR, case)
        cases.decide(k.staff, CLOSES + 3 * HOUR, case, decision="approved")
        cases.complete(k.staff, CLOSES + 4 * HOUR, case, "Bütçeye işlendi.")
        reference = case.reference
        assert count(Notification, Notification.kind == "case_fixed_question") == 0
        assert not permissions.can(k.moda.muhtar, "confirm_fix", case)
    for who in (None, k.moda.muhtar, k.moda.residents[0]):
        page = client_of(app, who).get(f"/cases/{reference}")
        assert page.status_code == 200 and "Bütçeye işlendi." in text(page)
        assert f"/cases/{reference}/fixed" not in page.get_data(as_text=True)


def test_answering_after_the_deadline_is_refused_with_a_clear_error(app, clock, k):
    _counted(app, k)
    clock.now = kf.DEADLINE + HOUR
    client = client_of(app, k.moda.muhtar)
    response = client.post(f"/consultations/{k.consultation_id}/n/{k.moda.hood.slug}/answer",
                           data={"comment": "Geç."})
    assert response.status_code == 400 and "The deadline for answers passed on" in text(response)
    with app.app_context():
        assert count(ConsultationAnswer) == 0


def test_answering_twice_is_refused_with_a_clear_error(app, clock, k):
    _counted(app, k)
    clock.now = CLOSES + HOUR
    client = client_of(app, k.moda.muhtar)
    url = f"/consultations/{k.consultation_id}/n/{k.moda.hood.slug}/answer"
    assert client.post(url, data={"comment": "Evet."}).status_code == 302
    again = client.post(url, data={"comment": "Evet, yine."})
    assert again.status_code == 400 and "already answered" in text(again)
    with app.app_context():
        assert count(ConsultationAnswer) == 1


def test_a_neighbourhood_not_consulted_cannot_answer(app, clock, k):
    clock.now = CLOSES + HOUR
    client = client_of(app, k.fenerbahce.muhtar)
    response = client.post(f"/consultations/{k.consultation_id}/n/{k.fenerbahce.hood.slug}/answer",
                           data={"comment": "Biz de."})
    assert response.status_code == 400 and "was not consulted" in text(response)


@pytest.mark.parametrize("who", ["anonymous", "resident", "staff"])
def test_only_the_muhtar_answers(app, clock, k, who):
    _counted(app, k)
    clock.now = CLOSES + HOUR
    person = {"anonymous": None, "resident": k.moda.residents[0], "staff": k.staff}[who]
    response = client_of(app, person).post(f"/consultations/{k.consultation_id}/n/{k.moda.hood.slug}/answer",
                                           data={"comment": "Evet."})
    assert response.status_code == (302 if who == "anonymous" else 403)
    with app.app_context():
        assert count(ConsultationAnswer) == 0


def test_the_body_and_the_neighbourhood_list_it(app, clock, k):
    anonymous = client_of(app)
    assert "2031 bütçesi" in text(anonymous.get(f"/bodies/{k.council.id}/consultations"))
    assert "2031 bütçesi" in text(anonymous.get(f"/n/{k.moda.hood.slug}/consultations"))
    assert "2031 bütçesi" not in text(anonymous.get(f"/n/{k.fenerbahce.hood.slug}/consultations"))
    assert f"/bodies/{k.council.id}/consultations" in anonymous.get(f"/bodies/{k.council.id}").get_data(as_text=True)
    assert f"/n/{k.moda.hood.slug}/consultations" in anonymous.get(f"/n/{k.moda.hood.slug}").get_data(as_text=True)


def test_a_link_document_is_not_served_through_the_download_address(app, k):
    with app.app_context():
        link = [d for d in db.session.get(Consultation, k.consultation_id).documents if d.url][0]
        link_id = link.id
    assert client_of(app).get(f"/consultations/{k.consultation_id}/documents/{link_id}").status_code == 404
    assert client_of(app).get(f"/consultations/{k.consultation_id + 1}/documents/{link_id}").status_code == 404


def test_unknown_consultations_are_404(app):
    assert client_of(app).get("/consultations/999999").status_code == 404



# --- the API ------------------------------------------------------------------------------------------

def test_the_api_lists_and_shows_consultations_without_a_token(app, clock, k):
    _counted(app, k)
    clock.now = CLOSES + HOUR
    client_of(app, k.moda.muhtar).post(f"/consultations/{k.consultation_id}/n/{k.moda.hood.slug}/answer",
                                       data={"comment": "Evet, **sahil yolu**."})
    api = client_of(app)
    listed = api.get(f"/api/v1/consultations?neighbourhood_slug={k.moda.hood.slug}")
    assert listed.status_code == 200 and [c["id"] for c in listed.json["data"]] == [k.consultation_id]
    assert listed.json["data"][0]["open"] is True and listed.json["data"][0]["kind"] == "budget"
    assert api.get(f"/api/v1/consultations?neighbourhood_slug={k.fenerbahce.hood.slug}").json["data"] == []
    assert api.get(f"/api/v1/consultations?municipality={k.municipality.code}").json["data"][0]["id"] == \
        k.consultation_id
    shown = api.get(f"/api/v1/consultations/{k.consultation_id}").json["data"]
    assert {d["type"] for d in shown["documents"]} == {"link", "pdf"}
    [answer] = shown["answers"]
    assert answer["neighbourhood"]["slug"] == k.moda.hood.slug and answer["case_status"] == "forwarded"
    assert answer["vote_result"]["counts"]["yes"] == 2 and "<strong>sahil yolu</strong>" in answer["comment_html"]
    assert answer["case"] and answer["decision"] is None


def test_the_api_refuses_bad_parameters_and_unknown_consultations(app, k):
    api = client_of(app)
    assert api.get("/api/v1/consultations?limit=0").status_code == 422
    assert api.get("/api/v1/consultations?municipality=" + "X" * 13).status_code == 422
    for name in ("municipality", "neighbourhood_slug"):  # a NUL byte: refused, not a 500 on PostgreSQL
        refused = api.get(f"/api/v1/consultations?{name}=A%00B")
        assert refused.status_code == 422 and name in refused.json["error"]["fields"], refused.json
    missing = api.get(f"/api/v1/consultations/{k.consultation_id + 1000}")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_the_public_pages_cost_the_same_number_of_statements_with_more_answers(app, clock, k):
    pages = [f"/consultations/{k.consultation_id}", f"/bodies/{k.council.id}/consultations",
             f"/n/{k.moda.hood.slug}/consultations", f"/api/v1/consultations/{k.consultation_id}",
             "/api/v1/consultations"]

    def cost() -> list[int]:
        counts = []
        for page in pages:
            with counting_statements(app, transaction_control=False) as statements:
                assert client_of(app).get(page).status_code == 200
            counts.append(len(statements))
        return counts

    _counted(app, k)
    clock.now = CLOSES + HOUR
    client_of(app, k.moda.muhtar).post(f"/consultations/{k.consultation_id}/n/{k.moda.hood.slug}/answer",
                                       data={"comment": "Evet."})
    one = cost()
    _counted(app, k, "caferaga", ("no", "no", "yes"))
    client_of(app, k.caferaga.muhtar).post(
        f"/consultations/{k.consultation_id}/n/{k.caferaga.hood.slug}/answer", data={"comment": "Hayır."})
    with app.app_context():
        assert count(ConsultationAnswer) == 2
    assert cost() == one


def test_the_printed_record_of_a_session_shows_the_consultation_item(app, clock, k):
    _counted(app, k)
    with app.app_context():
        assembly_id = db.session.scalar(select(AgendaItem.assembly_id).where(
            AgendaItem.consultation_id == k.consultation_id))
    client = client_of(app, k.moda.muhtar)
    for kind in ("agenda", "results"):
        page = client.get(f"/n/{k.moda.hood.slug}/assemblies/{assembly_id}/print/{kind}")
        assert page.status_code == 200 and "2031 bütçesi" in text(page), kind
    page = client_of(app).get(f"/n/{k.moda.hood.slug}/assemblies/{assembly_id}")
    assert page.status_code == 200 and "2031 bütçesi" in text(page)
    letter = client_of(app, k.moda.muhtar)
    clock.now = CLOSES + HOUR
    letter.post(f"/consultations/{k.consultation_id}/n/{k.moda.hood.slug}/answer", data={"comment": "Evet."})
    with app.app_context():
        reference = db.session.scalar(select(Case.reference))
    assert client_of(app).get(f"/cases/{reference}/letter").status_code == 200
