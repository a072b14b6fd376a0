"""Photos on the progress steps of a promise's commitments: body staff attach before/after photos
when they record progress; each photo's fingerprint is in the step's hashed content, so that
`flask promises verify` finds a photo file that was swapped, lost or added afterwards; a muhtar
hides one with a public reason without touching the chain; the page reads every step's photos in
one statement."""
from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy import text as sql

from assembly.accounts.models import User
from assembly.db import db
from assembly.errors import NotAllowed
from assembly.photos import processing
from assembly.photos import services as photos
from assembly.neighbourhoods.models import Body
from assembly.photos.models import Photo
from assembly.promises import photos as progress_photos
from assembly.promises import queries
from assembly.promises import services as promises
from assembly.promises.models import Commitment, CommitmentEvent
from tests import case_factories as cf
from tests import promise_factories as pr
from tests.api_support import bearer, token_for
from tests.photo_support import GPS_IFD, exif_of, jpeg, png, store  # noqa: F401 - fixture
from tests.support import committed, counting_statements, login, pdf_images, pdf_text, text

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


@dataclass
class Site:
    w: cf.CaseWorld
    promise_id: int
    council_id: int  # the council's commitment; the police's is the other one


@pytest.fixture
def site(app, store) -> Site:
    """A published promise, committed in an app context of its own (each request then has its own
    `g`, and so its own logged-in person)."""
    with committed(app):
        w = cf.world()
        promise = pr.published(w, NOW)
        return Site(w, promise.id, promise.commitments[0].id)


def _post(client, site, files=(), lang="en", **fields):
    data = {"percent": "40", "value": "16", "note": "Before and after the new lamps.", **fields,
            "photos": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/promises/{site.promise_id}/commitments/{site.council_id}/progress?lang={lang}",
                       content_type="multipart/form-data", data=data)


def _as(app, person=None):
    client = app.test_client()
    if person is not None:
        login(client, person.email)
    return client


def _verify(app, *args) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["promises", "verify", *args])
    return result.exit_code, result.output


def _council(site) -> Commitment:
    return db.session.get(Commitment, site.council_id)


def _steps(site) -> list[CommitmentEvent]:
    return queries.events_of(_council(site))


def _attached(event) -> list[Photo]:
    return progress_photos.photos_of([event.id])[event.id]


def _unguard() -> None:
    """Let the test change the append-only timeline, as someone with the database's keys could."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sql("ALTER TABLE commitment_events DISABLE TRIGGER commitment_events_append_only"))
    else:
        db.session.execute(sql("DROP TRIGGER commitment_events_no_update"))


def _recorded_with_photos(app, site, *files):
    response = _post(_as(app, site.w.staff), site, files or [("before.jpg", jpeg(gps=True)), ("after.png", png())])
    assert response.status_code == 302, text(response)
    with app.app_context():
        step = _steps(site)[-1]
        return step, _attached(step)


# --- recording ---------------------------------------------------------------------------------------

def test_staff_attach_photos_whose_fingerprints_are_in_the_hashed_step(app, site, store):
    step, attached = _recorded_with_photos(app, site)
    assert step.kind == "progress" and [p.position for p in attached] == [0, 1]
    assert {p.owner_kind for p in attached} == {"progress"} and {p.uploader_id for p in attached} == {site.w.staff.id}
    fingerprints = []
    for photo in attached:
        stored, thumb = store.get(f"{photo.storage_key}.jpg"), store.get(f"{photo.storage_key}-thumb.jpg")
        assert exif_of(stored) == {} and GPS_IFD not in exif_of(stored) and exif_of(thumb) == {}
        fingerprints.append({"photo": processing.digest(stored), "thumb": processing.digest(thumb)})
    assert step.data["photos"] == fingerprints
    with app.app_context():
        assert promises.event_hash(step, site.promise_id) == step.hash
        assert promises.verify_chain(_council(site), _steps(site)) is None
    assert _verify(app) == (0, "2 progress photo(s) match their steps\nevery commitment timeline is intact\n")
    page = text(_as(app).get(f"/promises/{site.promise_id}?lang=en"))
    assert all(f"/photos/{p.id}/thumb.jpg" in page for p in attached)
    assert _as(app).get(f"/photos/{attached[0].id}.jpg").status_code == 200


def test_photos_alone_are_a_step(app, site):
    response = _post(_as(app, site.w.staff), site, [("after.jpg", jpeg())], percent="0", value="", note="")
    assert response.status_code == 302
    with app.app_context():
        assert len(_attached(_steps(site)[-1])) == 1


def test_chains_recorded_before_photos_existed_still_verify(app, site):
    with committed(app):
        promises.record_progress(db.session.get(User, site.w.staff.id), NOW + DAY, _council(site), percent=10,
                                 note="Started.")
    with app.app_context():
        assert "photos" not in _steps(site)[-1].data
    assert _verify(app) == (0, "every commitment timeline is intact\n")


@pytest.mark.parametrize(("files", "message"), [
    ([("plan.jpg", b"%PDF-1.4 not a photo")], "“plan.jpg” is not a photo we can read. Send a JPEG, PNG or WebP image."),
    ([("huge.jpg", b"\xff" * (64 * 1024 + 1))], "“huge.jpg” is larger than 0.1 MB."),
    ([(f"p{n}.jpg", jpeg()) for n in range(3)], "You can attach at most 2 photos."),
])
def test_refused_photos_keep_the_form_and_append_nothing(app, site, store, files, message):
    app.config.update(PHOTO_MAX_COUNT=2, PHOTO_MAX_BYTES=64 * 1024)
    try:
        response = _post(_as(app, site.w.staff), site, files, note="Keep this note.")
    finally:
        app.config.update(PHOTO_MAX_COUNT=4, PHOTO_MAX_BYTES=8 * 1024 * 1024)
    assert response.status_code == 400
    page = text(response)
    assert message in page and "Keep this note.</textarea>" in page and 'value="16"' in page
    with app.app_context():
        assert [step.kind for step in _steps(site)] == ["committed"]
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
    assert list(store.listing()) == []


def test_only_the_responsible_bodys_staff_attach(app, site, store):
    w = site.w
    for who in (w.other_staff, w.muhtar, w.author):
        assert _post(_as(app, who), site, [("a.jpg", jpeg())]).status_code == 403
    assert list(store.listing()) == []
    with app.app_context():
        staff, other_staff, muhtar = (db.session.get(User, p.id) for p in (w.staff, w.other_staff, w.muhtar))
        step = promises.record_progress(staff, NOW + DAY, _council(site), percent=10, note="Started.")
        encoded = photos.prepare([photos.Upload("a.jpg", jpeg())])
        for who in (other_staff, muhtar):
            with pytest.raises(NotAllowed):
                photos.attach(who, NOW + DAY, progress_photos.KIND, step, encoded)


def test_a_photo_of_a_step_is_never_removed_not_even_by_its_uploader(app, site):
    _step, [photo, _other] = _recorded_with_photos(app, site)
    assert _as(app, site.w.staff).post(f"/photos/{photo.id}/remove").status_code == 403
    with app.app_context():
        with pytest.raises(NotAllowed):
            photos.remove(db.session.get(User, site.w.staff.id), NOW, db.session.get(Photo, photo.id))


# --- the chain finds what was changed -----------------------------------------------------------------

def test_verify_finds_a_swapped_photo_file(app, site, store):
    _step, [photo, _other] = _recorded_with_photos(app, site)
    store.put(f"{photo.storage_key}.jpg", processing.encode(jpeg(colour=(0, 0, 255)), 10**7).photo)
    code, output = _verify(app)
    assert code == 1 and f"photo 1 (id {photo.id}) does not match the fingerprint in its step" in output
    assert f"promise {site.promise_id}, commitment {site.council_id}, event 2" in output
    assert _verify(app, "--no-photos")[0] == 0  # the chain itself is intact


def test_verify_finds_a_swapped_thumbnail_and_a_lost_file(app, site, store):
    _step, [photo, other] = _recorded_with_photos(app, site)
    store.put(f"{photo.storage_key}-thumb.jpg", jpeg())
    store.delete(f"{other.storage_key}.jpg")
    code, output = _verify(app)
    assert code == 1 and "2 photo problem(s)" in output
    assert f"photo 1 (id {photo.id}) thumbnail does not match" in output
    assert f"photo 2 (id {other.id}): the file is missing" in output


def test_verify_finds_a_photo_row_dropped_or_added_afterwards(app, site):
    step, [photo, _other] = _recorded_with_photos(app, site)
    with committed(app):
        db.session.execute(delete(Photo).where(Photo.id == photo.id))
        [added] = photos.attach(db.session.get(User, site.w.staff.id), NOW, progress_photos.KIND,
                                db.session.get(CommitmentEvent, step.id),
                                photos.prepare([photos.Upload("c.jpg", jpeg())]))
    code, output = _verify(app)
    assert code == 1 and "photo 1 is missing" in output
    assert f"photo id {added.id} is not in the step's fingerprints" in output


def test_changing_the_fingerprints_in_the_step_breaks_the_chain(app, site):
    step, _attached_photos = _recorded_with_photos(app, site)
    with committed(app):
        _unguard()
        forged = dict(step.data, photos=[{"photo": "0" * 64, "thumb": "0" * 64}])
        db.session.execute(update(CommitmentEvent).where(CommitmentEvent.id == step.id).values(data=forged))
    code, output = _verify(app, "--no-photos")
    assert code == 1 and f"event {step.seq} (id {step.id}) does not match its hash chain" in output


# --- hiding -----------------------------------------------------------------------------------------

def test_the_muhtar_hides_a_photo_and_the_chain_still_holds(app, site):
    w = site.w
    step, [photo, _other] = _recorded_with_photos(app, site)
    for who in (w.staff, w.other_staff, w.author):
        assert _as(app, who).post(f"/photos/{photo.id}/hide", data={"reason": "No."}).status_code == 403
    muhtar = _as(app, w.muhtar)
    assert "Hide this photo" in text(muhtar.get(f"/promises/{site.promise_id}?lang=en"))
    response = muhtar.post(f"/photos/{photo.id}/hide", data={"reason": "A child's face is recognisable."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/promises/{site.promise_id}#photo-{photo.id}")
    public = _as(app)
    assert public.get(f"/photos/{photo.id}.jpg").status_code == 404
    assert public.get(f"/photos/{photo.id}/thumb.jpg").status_code == 404
    page = text(public.get(f"/promises/{site.promise_id}?lang=en"))
    assert "A child's face is recognisable." in page and f"/photos/{photo.id}/thumb.jpg" not in page
    assert step.hash in page  # the step stays, with its fingerprint
    assert muhtar.get(f"/photos/{photo.id}.jpg").headers["Cache-Control"] == "private, no-store"
    assert _verify(app) == (0, "2 progress photo(s) match their steps\nevery commitment timeline is intact\n")
    assert muhtar.post(f"/photos/{photo.id}/restore").status_code == 302
    assert public.get(f"/photos/{photo.id}.jpg").status_code == 200


def test_the_api_shows_the_fingerprints_of_a_steps_photos(app, site):
    step, _attached_photos = _recorded_with_photos(app, site)
    with committed(app):
        token = token_for(db.session.get(User, site.w.staff.id), db.session.get(Body, site.w.body.id))
    answer = app.test_client().get(f"/api/v1/promises/{site.promise_id}/commitments/{site.council_id}",
                                   headers=bearer(token))
    events = answer.get_json()["data"]["events"]
    assert events[-1]["data"]["photos"] == step.data["photos"] and events[-1]["hash"] == step.hash


# --- the page's cost -------------------------------------------------------------------------------------

def _page_statements(app, site, steps: int) -> list[str]:
    for number in range(steps):
        with committed(app):
            staff, council = db.session.get(User, site.w.staff.id), _council(site)
            encoded = photos.prepare([photos.Upload("before.jpg", jpeg()), photos.Upload("after.png", png())])
            step = promises.record_progress(staff, NOW + (number + 1) * DAY, council, percent=council.progress + 1,
                                            note=f"Step {number}", photos=[item.fingerprint for item in encoded])
            photos.attach(staff, NOW, progress_photos.KIND, step, encoded)
    client = _as(app, site.w.muhtar)  # sees every photo with its hide button
    client.get(f"/promises/{site.promise_id}?lang=en")
    with counting_statements(app, transaction_control=False) as statements:
        page = client.get(f"/promises/{site.promise_id}?lang=en")
    assert page.status_code == 200 and text(page).count("Hide this photo") >= 2 * steps
    return statements


def test_the_page_reads_the_photos_of_all_steps_in_one_statement(app, site):
    few = _page_statements(app, site, 1)
    many = _page_statements(app, site, 3)
    assert len(many) == len(few), "\n".join(many)
    assert sum("FROM photos" in statement for statement in many) == 1


# --- the booklet ---------------------------------------------------------------------------------------

def _step(app, site, sizes, day: int, police: bool = False) -> list[int]:
    """A progress step of the council's (or the police's) commitment on day `day` after NOW, with one
    JPEG photo of each size (thumbnails keep sizes under 320 pixels, so that each is recognisable in
    the PDF); the photos' ids, in order."""
    with committed(app):
        staff = db.session.get(User, (site.w.other_staff if police else site.w.staff).id)
        council, patrols = _council(site).promise.commitments
        commitment = patrols if police else council
        encoded = photos.prepare([photos.Upload(f"{width}.jpg", jpeg(size=(width, height))) for width, height in sizes])
        step = promises.record_progress(staff, NOW + day * DAY, commitment, percent=min(commitment.progress + 1, 99),
                                        note=f"Day {day}", photos=[item.fingerprint for item in encoded])
        photos.attach(staff, NOW, progress_photos.KIND, step, encoded)
        return [photo.id for photo in _attached(step)]


def _hide(app, site, photo_id) -> None:
    response = _as(app, site.w.muhtar).post(f"/photos/{photo_id}/hide", data={"reason": "A face."})
    assert response.status_code == 302


def _thumbs_in(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'src="/photos/(\d+)/thumb\.jpg"', page)]


def test_the_booklet_shows_the_public_photos_of_the_steps_newest_first(app, site):
    older = _step(app, site, [(60, 40), (61, 40)], day=1)
    newer = _step(app, site, [(62, 40), (63, 40)], day=2)
    _hide(app, site, newer[0])
    for who in (None, site.w.muhtar):  # hidden photos are never printed, not even when the muhtar prints
        page = text(_as(app, who).get(f"/promises/{site.promise_id}/booklet?language=en"))
        assert _thumbs_in(page) == [newer[1], *older], who
        assert page.count('alt="Photo of the progress recorded on Mar 3, 2026"') == 1
        assert page.count('alt="Photo of the progress recorded on Mar 2, 2026"') == 2
        assert "More photos of the progress" not in page
    tr = text(_as(app).get(f"/promises/{site.promise_id}/booklet?language=tr"))
    assert "tarihinde kaydedilen ilerlemenin fotoğrafı" in tr


def test_the_booklet_shows_a_few_photos_of_each_commitment_and_a_few_in_all(app, site, monkeypatch):
    steps = [_step(app, site, [(60 + 2 * n, 40), (61 + 2 * n, 40)], day=n + 1) for n in range(3)]
    police = _step(app, site, [(90, 40), (91, 40)], day=1, police=True)
    page = text(_as(app).get(f"/promises/{site.promise_id}/booklet?language=en"))
    assert progress_photos.BOOKLET_PHOTOS_PER_COMMITMENT == 4
    assert _thumbs_in(page) == [*steps[2], *steps[1], *police]  # the council's newest two steps, then the police's
    assert "More photos of the progress are on the live page." in page
    monkeypatch.setattr(progress_photos, "BOOKLET_PHOTOS_IN_ALL", 3)
    page = text(_as(app).get(f"/promises/{site.promise_id}/booklet?language=en"))
    assert _thumbs_in(page) == [*steps[2], steps[1][0]]
    assert "More photos of the progress are on the live page." in page


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_the_booklet_pdf_embeds_the_public_thumbnails(app, site, lang):
    _step(app, site, [(70, 50), (71, 50)], day=1)
    hidden, shown = _step(app, site, [(72, 50), (73, 50)], day=2, police=True)
    _hide(app, site, hidden)
    response = _as(app).get(f"/promises/{site.promise_id}/booklet.pdf?language={lang}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert sorted(pdf_images(response.data)) == [(70, 50), (71, 50), (73, 50)]  # not the hidden (72, 50)
    found = pdf_text(response.data)
    if lang == "fa":  # right to left, the captions in Solar Hijri dates with Persian digits
        assert "۱۴۰۴" in found and "Mar" not in found
        page = text(_as(app).get(f"/promises/{site.promise_id}/booklet?language=fa"))
        assert page.count("عکس پیشرفت ثبت‌شده در") == 3 and 'dir="rtl"' in page
    else:
        assert "Mar 2, 2026" in found and "Mar 3, 2026" in found


def test_a_lost_thumbnail_leaves_the_pdf_without_it(app, site, store):
    first, second = _step(app, site, [(70, 50), (71, 50)], day=1)
    with app.app_context():
        store.delete(f"{db.session.get(Photo, first).storage_key}-thumb.jpg")
    response = _as(app).get(f"/promises/{site.promise_id}/booklet.pdf?language=en")
    assert response.status_code == 200 and pdf_images(response.data) == [(71, 50)]


def _booklet_statements(app, site, steps: int) -> tuple[list[str], int]:
    """The statements of the booklet page after `steps` more steps on each commitment, and how many
    thumbnails it shows."""
    for number in range(steps):
        _step(app, site, [(60, 40), (61, 40)], day=number + 1)
        _step(app, site, [(62, 40)], day=number + 1, police=True)
    client = _as(app)
    client.get(f"/promises/{site.promise_id}/booklet?language=en")
    with counting_statements(app, transaction_control=False) as statements:
        page = client.get(f"/promises/{site.promise_id}/booklet?language=en")
    assert page.status_code == 200
    return statements, len(_thumbs_in(text(page)))


def test_the_booklet_reads_the_photos_of_all_steps_in_one_statement(app, site):
    few, few_thumbs = _booklet_statements(app, site, 1)
    many, many_thumbs = _booklet_statements(app, site, 3)  # four steps on each commitment
    assert (few_thumbs, many_thumbs) == (2 + 1, 4 + 4)
    assert len(many) == len(few), "\n".join(many)
    assert sum("FROM photos" in statement for statement in many) == 1
