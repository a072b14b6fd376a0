"""Photos on meetings' questions: the asker attaches them with the question (checked, re-encoded
without EXIF/GPS, refused with the typed question kept), they are shown on the meeting page and on
paper, the organiser or the asker's muhtar hides one with a public reason, and the page reads the
photos of all its questions in one statement."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from assembly.db import db
from assembly.errors import NotAllowed
from assembly.meetings import photos as question_photos
from assembly.meetings import services as meetings
from assembly.meetings.models import Meeting, MeetingQuestion, MeetingStatus
from assembly.photos import services as photos
from assembly.photos.models import Photo
from assembly.photos.storage import LocalStore
from tests import factories
from tests import meeting_factories as mf
from tests.photo_support import GPS_IFD, bomb, exif_of, jpeg, png, store  # noqa: F401 - fixture
from tests.support import PASSWORD, client_of, committed, counting_statements, csrf_token, isolated_app, pdf_text, text

QUESTION = "Moda sahilinde sokak lambaları yanmıyor."


@pytest.fixture
def w(app, store):
    """A meeting of the muhtars of Moda and Caferağa, open for questions."""
    with committed(app):
        world = mf.world()
        meetings.move(world.muhtar, factories.now(), world.meeting, MeetingStatus.OPEN)
    return world



def _ask(client, w, files=(), question=QUESTION, lang="en", **extra):
    return client.post(f"/meetings/{w.meeting.id}/questions?lang={lang}", content_type="multipart/form-data", data={
        "body_id": str(w.electricity.id), "text": question,
        "photos": [(io.BytesIO(data), name) for name, data in files], **extra})


def _photos_of_question(app, question=QUESTION):
    with app.app_context():
        found = db.session.scalar(select(MeetingQuestion).where(MeetingQuestion.text == question))
        if found is None:
            return None, []
        return found.id, question_photos.photos_of([found.id])[found.id]


def _stored_files(store: LocalStore) -> list[str]:
    return sorted(name for name, _modified in store.listing())


def test_the_asker_attaches_photos_without_their_location_and_everyone_sees_them(app, w, store):
    response = _ask(client_of(app, w.resident), w, [("lamp.jpg", jpeg(gps=True)), ("pole.png", png())])
    assert response.status_code == 302, text(response)
    question_id, attached = _photos_of_question(app)
    assert [p.position for p in attached] == [0, 1] and {p.owner_kind for p in attached} == {"question"}
    for photo in attached:
        stored = store.get(f"{photo.storage_key}.jpg")
        assert exif_of(stored) == {} and GPS_IFD not in exif_of(stored) and b"taken at home" not in stored
        assert exif_of(store.get(f"{photo.storage_key}-thumb.jpg")) == {}
    public = client_of(app)
    page = text(public.get(f"/meetings/{w.meeting.id}"))
    assert all(f"/photos/{p.id}/thumb.jpg" in page for p in attached)
    served = public.get(f"/photos/{attached[0].id}.jpg")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    printed = text(public.get(f"/meetings/{w.meeting.id}/print"))
    assert f"/photos/{attached[0].id}/thumb.jpg" in printed


def test_the_printed_agenda_carries_the_photos_inside_the_pdf(app, w):
    _ask(client_of(app, w.resident), w, [("lamp.jpg", jpeg(size=(400, 300)))])
    response = client_of(app).get(f"/meetings/{w.meeting.id}/print.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert b"/Subtype /Image" in response.data or b"/Subtype/Image" in response.data
    assert QUESTION in pdf_text(response.data)


@pytest.mark.parametrize(("files", "message"), [
    ([("notes.jpg", b"this is a text file, whatever its name says")],
     "“notes.jpg” is not a photo we can read. Send a JPEG, PNG or WebP image."),
    ([("huge.jpg", b"\xff" * (64 * 1024 + 1))], "“huge.jpg” is larger than 0.1 MB."),
    ([(f"p{n}.jpg", jpeg()) for n in range(3)], "You can attach at most 2 photos."),
    ([("bomb.png", bomb())], "“bomb.png” has too many pixels; make it smaller and try again."),
])
def test_refused_photos_keep_the_question_and_write_nothing(app, w, store, files, message):
    app.config.update(PHOTO_MAX_COUNT=2, PHOTO_MAX_BYTES=64 * 1024)
    try:
        response = _ask(client_of(app, w.resident), w, files, question="Keep this question, please.")
    finally:
        app.config.update(PHOTO_MAX_COUNT=4, PHOTO_MAX_BYTES=8 * 1024 * 1024)
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert "Keep this question, please.</textarea>" in page
    assert f'<option selected value="{w.electricity.id}">' in page
    assert _photos_of_question(app, "Keep this question, please.") == (None, [])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
    assert _stored_files(store) == []


def test_the_refusal_is_translated(app, w):
    response = _ask(client_of(app, w.resident), w, [("x.jpg", b"not an image")], lang="tr")
    assert response.status_code == 400 and "“x.jpg”" in text(response)
    assert "Send a JPEG" not in text(response)


def test_only_residents_of_the_covered_neighbourhoods_ask_with_photos(app, w, store):
    for who in (w.outsider, w.muhtar, w.electricity_staff):
        assert _ask(client_of(app, who), w, [("lamp.jpg", jpeg())]).status_code == 403
    assert _ask(client_of(app), w, [("lamp.jpg", jpeg())]).status_code == 302  # to the login page
    assert _stored_files(store) == []


def test_photos_are_attached_only_by_the_asker_while_the_meeting_is_open(ctx, store):
    w = mf.world()
    meetings.move(w.muhtar, factories.now(), w.meeting, MeetingStatus.OPEN)
    question = meetings.ask(w.resident, factories.now(), w.meeting, body_id=w.police.id, text="Devriye?")
    encoded = photos.prepare([photos.Upload("a.jpg", jpeg())])
    for who in (w.neighbour, w.muhtar, w.police_staff):
        with pytest.raises(NotAllowed):
            photos.attach(who, factories.now(), question_photos.KIND, question, encoded)
    [photo] = photos.attach(w.resident, factories.now(), question_photos.KIND, question, encoded)
    meetings.move(w.muhtar, factories.now(), w.meeting, MeetingStatus.HELD)
    with pytest.raises(NotAllowed):
        photos.attach(w.resident, factories.now(), question_photos.KIND, question, encoded)
    with pytest.raises(NotAllowed):  # what was asked stays as the meeting took it
        photos.remove(w.resident, factories.now(), photo)


def test_the_asker_takes_a_photo_back_while_the_meeting_is_open(app, w, store):
    asker = client_of(app, w.resident)
    _ask(asker, w, [("lamp.jpg", jpeg())])
    _, [photo] = _photos_of_question(app)
    assert client_of(app, w.neighbour).post(f"/photos/{photo.id}/remove").status_code == 403
    assert "Remove this photo" in text(asker.get(f"/meetings/{w.meeting.id}"))
    response = asker.post(f"/photos/{photo.id}/remove")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/meetings/{w.meeting.id}#photo-{photo.id}")
    assert _photos_of_question(app)[1] == [] and _stored_files(store) == []


def test_a_question_that_becomes_a_case_brings_its_photos_to_the_case_page(app, w):
    _ask(client_of(app, w.resident), w, [("lamp.jpg", jpeg())])
    question_id, [photo] = _photos_of_question(app)
    with committed(app):
        muhtar = db.session.get(type(w.muhtar), w.muhtar.id)
        meeting = db.session.get(Meeting, w.meeting.id)
        meetings.move(muhtar, factories.now(), meeting, MeetingStatus.HELD)
        case = meetings.record_answer(muhtar, factories.now(), db.session.get(MeetingQuestion, question_id),
                                      answer="The lamps will be replaced.", follow_up="case",
                                      category_id=w.category.id)
        reference = case.reference
    page = text(client_of(app, w.electricity_staff).get(f"/cases/{reference}?lang=en"))
    assert f"/photos/{photo.id}/thumb.jpg" in page


# --- hiding -----------------------------------------------------------------------------------------

def test_the_organisers_hide_a_photo_with_a_public_reason(app, w):
    _ask(client_of(app, w.resident), w, [("lamp.jpg", jpeg())])
    _, [photo] = _photos_of_question(app)
    for who in (w.resident, w.neighbour, w.outside_muhtar, w.police_staff):
        assert client_of(app, who).post(f"/photos/{photo.id}/hide", data={"reason": "No."}).status_code == 403
    organiser = client_of(app, w.other_muhtar)  # Caferağa's muhtar organises the meeting of the muhtars too
    assert "Hide this photo" in text(organiser.get(f"/meetings/{w.meeting.id}"))
    response = organiser.post(f"/photos/{photo.id}/hide", data={"reason": "Shows a neighbour's car plate."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/meetings/{w.meeting.id}#photo-{photo.id}")
    public = client_of(app)
    assert public.get(f"/photos/{photo.id}.jpg").status_code == 404
    assert public.get(f"/photos/{photo.id}/thumb.jpg").status_code == 404
    pages = {"A photo was hidden.": text(public.get(f"/meetings/{w.meeting.id}?lang=en")),
             "Bir fotoğraf gizlendi.": text(public.get(f"/meetings/{w.meeting.id}/print"))}  # the meeting's language
    for hidden, page in pages.items():
        assert hidden in page and "Shows a neighbour's car plate." in page
        assert f"/photos/{photo.id}/thumb.jpg" not in page
    assert client_of(app, w.resident).get(f"/photos/{photo.id}.jpg").status_code == 404  # the asker too
    seen = organiser.get(f"/photos/{photo.id}.jpg")
    assert seen.status_code == 200 and seen.headers["Cache-Control"] == "private, no-store"
    assert organiser.post(f"/photos/{photo.id}/restore").status_code == 302
    assert public.get(f"/photos/{photo.id}.jpg").status_code == 200


def test_at_a_bodys_meeting_its_staff_and_the_askers_muhtar_hide(app, store):
    with committed(app):
        w = mf.world()
        meeting = meetings.create_meeting(w.police_staff, factories.now(), w.municipality, w.hood_input(),
                                          organising_body=w.police)
        meetings.move(w.police_staff, factories.now(), meeting, MeetingStatus.OPEN)
        meeting_id = meeting.id
        question = meetings.ask(w.resident, factories.now(), meeting, body_id=w.electricity.id, text="Lamba?")
        [photo] = photos.attach(w.resident, factories.now(), question_photos.KIND, question,
                                photos.prepare([photos.Upload("a.jpg", jpeg())]))
        photo_id = photo.id
    assert client_of(app, w.electricity_staff).post(f"/photos/{photo_id}/hide", data={"reason": "x"}).status_code == 403
    assert client_of(app, w.other_muhtar).post(f"/photos/{photo_id}/hide", data={"reason": "x"}).status_code == 403
    for who in (w.police_staff, w.muhtar):  # the organising body; the muhtar of Moda, where the asker lives
        assert client_of(app, who).post(f"/photos/{photo_id}/hide", data={"reason": "A face."}).status_code == 302
        assert client_of(app, who).post(f"/photos/{photo_id}/restore").status_code == 302
    assert client_of(app).get(f"/meetings/{meeting_id}").status_code == 200


def test_a_photo_of_a_question_is_as_public_as_its_meeting(ctx, store):
    w = mf.world()
    meetings.move(w.muhtar, factories.now(), w.meeting, MeetingStatus.OPEN)
    question = meetings.ask(w.resident, factories.now(), w.meeting, body_id=w.police.id, text="Devriye?")
    [photo] = photos.attach(w.resident, factories.now(), question_photos.KIND, question,
                            photos.prepare([photos.Upload("a.jpg", jpeg())]))
    assert photos.viewable(factories.user(), photo.id) is photo
    assert photo.owner is question


# --- CSRF on the multipart form ------------------------------------------------------------------------

def test_the_multipart_question_form_needs_its_csrf_token(database_url, tmp_path):
    with isolated_app(database_url, WTF_CSRF_ENABLED=True) as app:
        files = LocalStore(tmp_path / "csrf-photos")
        app.extensions["assembly_photo_store"] = files
        with committed(app):
            w = mf.world()
            meetings.move(w.muhtar, factories.now(), w.meeting, MeetingStatus.OPEN)
        client = app.test_client()
        assert client.post("/account/login", data={"email": w.resident.email, "password": PASSWORD,
                                                   "csrf_token": csrf_token(client, "/account/login")}).status_code == 302
        refused = _ask(client, w, [("lamp.jpg", jpeg())])
        assert refused.status_code == 400 and "Bad request" in text(refused)
        assert _stored_files(files) == [] and _photos_of_question(app) == (None, [])
        token = csrf_token(client, f"/meetings/{w.meeting.id}")
        assert _ask(client, w, [("lamp.jpg", jpeg())], csrf_token=token).status_code == 302
        assert len(_photos_of_question(app)[1]) == 1 and len(_stored_files(files)) == 2


# --- the page's cost ------------------------------------------------------------------------------------

def _page_statements(app, w, questions: int) -> list[str]:
    for number in range(questions):
        with committed(app):
            asker = factories.resident(db.session.get(type(w.moda), w.moda.id))
            meeting = db.session.get(Meeting, w.meeting.id)
            question = meetings.ask(asker, factories.now(), meeting, body_id=w.police.id, text=f"Soru {number}")
            photos.attach(asker, factories.now(), question_photos.KIND, question,
                          photos.prepare([photos.Upload("a.jpg", jpeg()), photos.Upload("b.png", png())]))
    client = client_of(app, w.other_muhtar)  # an organiser: every photo with its hide button
    client.get(f"/meetings/{w.meeting.id}")
    with counting_statements(app, transaction_control=False) as statements:
        page = client.get(f"/meetings/{w.meeting.id}")
    assert page.status_code == 200 and text(page).count('class="photo"') >= 2 * questions
    return statements


def test_the_page_reads_the_photos_of_all_its_questions_in_one_statement(app, w):
    few = _page_statements(app, w, 1)
    many = _page_statements(app, w, 4)
    assert len(many) == len(few), "\n".join(many)
    assert sum("FROM photos" in statement for statement in many) == 1
