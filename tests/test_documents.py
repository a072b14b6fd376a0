"""Paper that counts (issue 13, point 4): the session agenda, the results with the ballots'
fingerprint, the minutes, the forwarding letter and the invitation letters, each as a page and as a
PDF whose text reads back, in the neighbourhood's language (Persian right to left, with its calendar
and digits), with QR codes to the live pages, and only to the people allowed to see them."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from assembly.assemblies import services as assemblies
from assembly.assemblies.models import AgendaItem
from assembly.db import db
from assembly.neighbourhoods import invitations
from tests import case_factories as cf
from tests import factories
from tests.assembly_factories import client_of, committed
from tests.support import isolated_app, pdf_text

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def paper(app):
    with committed(app):
        w = cf.world()
        accepted, _rejected = cf.voted(w, NOW, {"Sokak lambaları": "yes", "Bank": "no"})
        session = db.session.scalar(select(AgendaItem).where(AgendaItem.proposal_id == accepted.id)).assembly
        assemblies.write_minutes(w.muhtar, NOW + 3 * HOUR, session, minutes="Toplantı **sakin** geçti.",
                                 attendance=27, bodies_present="Kadıköy Belediyesi")
        case = cf.forwarded(w, NOW + 4 * HOUR, title="Karanlık sokak")
        batch = invitations.issue_invite_codes(w.muhtar, NOW, w.hood, 2, 30)
        stranger = factories.user()
        return {"w": w, "slug": w.hood.slug, "session": session.id, "case": case.reference, "batch": batch,
                "muhtar": w.muhtar, "stranger": stranger, "draft": assemblies.create_assembly(
                    w.muhtar, NOW, w.hood, title="Taslak").id}


def _get(app, path, user=None, status=200):
    response = client_of(app, user).get(path)
    assert response.status_code == status, (path, response.status_code)
    return response


def test_the_session_documents_are_pages_and_pdfs_in_the_neighbourhoods_language(app, paper):
    base = f"/n/{paper['slug']}/assemblies/{paper['session']}/print"
    agenda = _get(app, f"{base}/agenda").get_data(as_text=True)
    assert 'lang="tr"' in agenda and "Gündem" in agenda and "Sokak lambaları" in agenda
    assert "<svg" in agenda and f"/n/{paper['slug']}/assemblies/{paper['session']}" in agenda  # QR + address
    assert f'href="{base}/agenda.pdf"' in agenda

    results = _get(app, f"{base}/results.pdf")
    assert results.headers["Content-Type"] == "application/pdf"
    text = pdf_text(results.data)
    assert "Sonuçlar" in text and "Sokak lambaları" in text and "Kabul edildi" in text
    digest = _get(app, f"/n/{paper['slug']}/assemblies/{paper['session']}/result.json").json["digest"]
    assert digest in text.replace("\n", "")  # the fingerprint, as published

    minutes = pdf_text(_get(app, f"{base}/minutes.pdf").data)
    assert "Tutanak" in minutes and "sakin" in minutes and "27" in minutes and "Kadıköy Belediyesi" in minutes


@pytest.mark.parametrize(("language", "expected"), [
    ("fa", ("دستور کار", "۲۷")),
    ("sv", ("Dagordning", "Protokoll")),
    ("en", ("Agenda", "Minutes")),
])
def test_a_document_can_be_asked_for_in_another_language(app, paper, language, expected):
    base = f"/n/{paper['slug']}/assemblies/{paper['session']}/print"
    page = _get(app, f"{base}/agenda?language={language}").get_data(as_text=True)
    assert f'lang="{language}"' in page
    assert f'dir="{"rtl" if language == "fa" else "ltr"}"' in page
    assert expected[0] in page
    assert f"{base}/agenda.pdf?language={language}" in page
    minutes = pdf_text(_get(app, f"{base}/minutes.pdf?language={language}").data)
    assert expected[1] in minutes


def test_the_forwarding_letter_carries_the_reference_and_a_qr_code_to_the_case(app, paper):
    page = _get(app, f"/cases/{paper['case']}/letter").get_data(as_text=True)
    assert paper["case"] in page and "Kadıköy Belediye Meclisi" in page and "<svg" in page
    assert f"/cases/{paper['case']}</span>" in page  # the address printed beside the code
    text = pdf_text(_get(app, f"/cases/{paper['case']}/letter.pdf").data)
    assert paper["case"] in text and "Karanlık sokak" in text and "Urgent: the street is dark" in text
    persian = pdf_text(_get(app, f"/cases/{paper['case']}/letter.pdf?language=fa").data)
    assert "شماره" in persian  # "reference number", in Persian
    assert _get(app, f"/cases/{paper['case']}").get_data(as_text=True).count(f"/cases/{paper['case']}/letter\"") == 1


def test_invitation_letters_are_for_the_muhtar_only(app, paper):
    path = f"/n/{paper['slug']}/invites/{paper['batch']}"
    page = _get(app, path, paper["muhtar"])
    assert page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    assert html.count('class="letter"') == 2 and html.count("<svg") == 2 and "/join" in html
    text = pdf_text(_get(app, path + ".pdf", paper["muhtar"]).data)
    assert "Davet" in text or "davet" in text
    _get(app, path, paper["stranger"], status=403)
    _get(app, path + ".pdf", paper["stranger"], status=403)
    assert client_of(app).get(path).status_code == 302  # to the login page


def test_documents_that_do_not_exist_yet_are_not_found(app, paper):
    draft = f"/n/{paper['slug']}/assemblies/{paper['draft']}/print"
    _get(app, f"{draft}/agenda", status=404)  # a draft session is the muhtar's alone
    assert _get(app, f"{draft}/agenda", paper["muhtar"]).status_code == 200
    _get(app, f"{draft}/results", paper["muhtar"], status=404)  # not counted
    _get(app, f"{draft}/minutes.pdf", paper["muhtar"], status=404)  # not written
    _get(app, f"/n/{paper['slug']}/assemblies/{paper['session']}/print/ballots", status=404)
    _get(app, "/cases/KDK-2027-9999/letter.pdf", status=404)


def test_the_session_page_links_its_documents(app, paper):
    page = _get(app, f"/n/{paper['slug']}/assemblies/{paper['session']}").get_data(as_text=True)
    for kind in ("agenda", "results", "minutes"):
        assert f"/assemblies/{paper['session']}/print/{kind}\"" in page


def test_pdfs_are_rate_limited_and_pages_are_not(database_url):
    with isolated_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                      RATELIMIT_KEY_PREFIX=f"documents-{uuid.uuid4().hex}", RATELIMIT_PDF="2 per minute") as app:
        with app.app_context():
            reference = cf.forwarded(cf.world(), NOW).reference
            db.session.commit()
        client = client_of(app)
        statuses = [client.get(f"/cases/{reference}/letter.pdf").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert client.get(f"/cases/{reference}/letter").status_code == 200
