"""Photos: checked by decoding (not by name), re-encoded without EXIF/GPS, thumbnails, served with
safe headers, stored locally or in an S3-compatible store, hidden by the muhtar with a public
reason; the proposal form keeps what was typed when a photo is refused."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from assembly.cases import services as cases
from assembly.db import db
from assembly.errors import NotAllowed, NotFound
from assembly.photos import processing
from assembly.photos import services as photos
from assembly.photos.models import Photo
from assembly.photos.storage import LocalStore, S3Store
from assembly.photos.web import PHOTO_ENDPOINTS
from assembly.proposals import photos as proposal_photos
from assembly.proposals.models import Proposal
from tests import case_factories as cf
from tests import factories
from tests import proposal_factories as pf
from tests.photo_support import GPS_IFD, bomb, exif_of, jpeg, png, s3_endpoint, store  # noqa: F401 - fixtures
from tests.support import client_of, committed, counting_statements, text



@pytest.fixture
def site(app, store):
    with committed(app):
        w = pf.world(slug="moda-photos")
        people = {"author": w.author, "muhtar": w.muhtar, "neighbour": factories.resident(w.hood),
                  "other_muhtar": factories.muhtar(factories.neighbourhood(slug="elsewhere-photos"))}
        category_id = w.category.id
    return {"people": people, "category": category_id}


def _form(category_id, files=(), **overrides):
    values = {"title": "Broken bench in Moda park", "category_id": str(category_id),
              "body": "The bench by the sea is **broken**.", "address_text": "Moda Parkı",
              "latitude": "40.9838", "longitude": "29.0265",
              "photos": [(io.BytesIO(data), name) for name, data in files]}
    values.update(overrides)
    return values


def _proposal_photos(app, title="Broken bench in Moda park"):
    with app.app_context():
        proposal = db.session.scalar(select(Proposal).where(Proposal.title == title))
        if proposal is None:
            return None, []
        return proposal.id, proposal_photos.photos_of([proposal.id])[proposal.id]


# --- checking and re-encoding -------------------------------------------------------------------

def test_exif_and_gps_do_not_survive_re_encoding():
    original = jpeg(gps=True)
    assert GPS_IFD in exif_of(original) and b"Exif" in original  # the input does carry them
    encoded = processing.encode(original, 10_000_000)
    for output in (encoded.photo, encoded.thumb):
        assert exif_of(output) == {}
        assert b"Exif" not in output and b"PhoneMaker" not in output and b"taken at home" not in output
        with Image.open(io.BytesIO(output)) as image:
            assert image.format == "JPEG"
            assert "exif" not in image.info and "comment" not in image.info and "icc_profile" not in image.info


def test_the_exif_orientation_is_applied_to_the_pixels_before_it_is_dropped():
    encoded = processing.encode(jpeg(size=(64, 48), orientation=6), 10_000_000)  # rotated 90°
    assert (encoded.width, encoded.height) == (48, 64)


def test_thumbnails_are_small_and_large_photos_are_scaled_down():
    encoded = processing.encode(jpeg(size=(3000, 1500)), 10_000_000)
    assert (encoded.width, encoded.height) == (processing.MAX_SIDE, processing.MAX_SIDE // 2)
    with Image.open(io.BytesIO(encoded.thumb)) as thumb:
        assert max(thumb.size) == processing.THUMB_SIDE


def test_a_transparent_png_becomes_a_jpeg():
    encoded = processing.encode(png(), 10_000_000)
    with Image.open(io.BytesIO(encoded.photo)) as image:
        assert image.format == "JPEG" and image.mode == "RGB"


@pytest.mark.parametrize("data", [b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a not really",
                                  b"%PDF-1.4 a document", jpeg()[:200]])
def test_what_pillow_cannot_decode_as_jpeg_png_or_webp_is_not_an_image(data):
    with pytest.raises(processing.NotAnImage):
        processing.encode(data, 10_000_000)


def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded():
    data = bomb()
    assert len(data) < 100_000
    with pytest.raises(processing.TooManyPixels):
        processing.encode(data, 40_000_000)


# --- the proposal form ----------------------------------------------------------------------------

def test_the_author_publishes_a_proposal_with_photos(app, site, store):
    author = client_of(app, site["people"]["author"])
    response = author.post("/n/moda-photos/proposals/new", content_type="multipart/form-data", data=_form(
        site["category"], files=[("bench.jpg", jpeg(gps=True)), ("sign.png", png())]))
    assert response.status_code == 302, text(response)
    proposal_id, attached = _proposal_photos(app)
    assert [p.position for p in attached] == [0, 1]
    for photo in attached:
        assert GPS_IFD not in exif_of(store.get(f"{photo.storage_key}.jpg"))
        assert store.get(f"{photo.storage_key}-thumb.jpg") is not None
    page = client_of(app).get(f"/n/moda-photos/p/{proposal_id}")
    html = page.get_data(as_text=True)
    assert f"/photos/{attached[0].id}/thumb.jpg" in html and 'id="proposal-map"' in html


def test_photo_headers_are_safe(app, site):
    author = client_of(app, site["people"]["author"])
    author.post("/n/moda-photos/proposals/new", content_type="multipart/form-data",
                data=_form(site["category"], files=[("<script>.jpg", jpeg())]))
    _, [photo] = _proposal_photos(app)
    for url in (f"/photos/{photo.id}.jpg", f"/photos/{photo.id}/thumb.jpg"):
        response = client_of(app).get(url)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"] == \
            f'inline; filename="photo-{photo.id}{"-thumb" if "thumb" in url else ""}.jpg"'
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"].startswith("public, max-age=")
        assert response.headers["ETag"]
        again = client_of(app).get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
    assert client_of(app).get("/photos/999999.jpg").status_code == 404


@pytest.mark.parametrize(("files", "message"), [
    ([("notes.jpg", b"this is a text file, whatever its name says")],
     "“notes.jpg” is not a photo we can read. Send a JPEG, PNG or WebP image."),
    ([("huge.jpg", b"\xff" * (64 * 1024 + 1))], "“huge.jpg” is larger than 0.1 MB."),
    ([(f"p{n}.jpg", jpeg()) for n in range(3)], "You can attach at most 2 photos."),
    ([("bomb.png", bomb())], "“bomb.png” has too many pixels; make it smaller and try again."),
])
def test_refused_photos_give_a_message_and_the_form_keeps_what_was_typed(app, site, files, message):
    app.config.update(PHOTO_MAX_COUNT=2, PHOTO_MAX_BYTES=64 * 1024)
    try:
        author = client_of(app, site["people"]["author"])
        response = author.post("/n/moda-photos/proposals/new", content_type="multipart/form-data",
                               data=_form(site["category"], files=files, title="Keep this title"))
    finally:
        app.config.update(PHOTO_MAX_COUNT=4, PHOTO_MAX_BYTES=8 * 1024 * 1024)
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert 'value="Keep this title"' in page and "The bench by the sea is **broken**." in page
    assert 'value="Moda Parkı"' in page and 'value="40.9838"' in page
    with app.app_context():  # nothing half-written
        assert db.session.scalar(select(func.count()).select_from(Proposal)
                                 .where(Proposal.title == "Keep this title")) == 0
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_the_refusal_is_translated(app, site):
    author = client_of(app, site["people"]["author"])
    author.environ_base["HTTP_ACCEPT_LANGUAGE"] = "sv"
    response = author.post("/n/moda-photos/proposals/new?lang=sv", content_type="multipart/form-data",
                           data=_form(site["category"], files=[("x.jpg", b"not an image")]))
    assert response.status_code == 400
    assert "”x.jpg” är inte ett foto vi kan läsa" in text(response)


def test_photos_can_be_added_while_editing_up_to_the_limit(app, site):
    app.config.update(PHOTO_MAX_COUNT=2)
    try:
        author = client_of(app, site["people"]["author"])
        author.post("/n/moda-photos/proposals/new", content_type="multipart/form-data",
                    data=_form(site["category"], files=[("a.jpg", jpeg())], save_as_draft="y"))
        proposal_id, _ = _proposal_photos(app)
        url = f"/n/moda-photos/p/{proposal_id}/edit"
        assert author.post(url, content_type="multipart/form-data",
                           data=_form(site["category"], files=[("b.jpg", jpeg())])).status_code == 302
        refused = author.post(url, content_type="multipart/form-data",
                              data=_form(site["category"], files=[("c.jpg", jpeg())]))
        assert refused.status_code == 400 and "You can attach at most 2 photos." in text(refused)
    finally:
        app.config.update(PHOTO_MAX_COUNT=4)
    assert len(_proposal_photos(app)[1]) == 2


def test_attaching_is_refused_to_everyone_but_the_author(ctx, store):
    w = pf.world(slug="moda-attach")
    proposal = pf.proposal(w)
    encoded = photos.prepare([photos.Upload("a.jpg", jpeg())])
    neighbour = factories.resident(w.hood)
    for who in (neighbour, w.muhtar):
        with pytest.raises(NotAllowed):
            photos.attach(who, factories.now(), "proposal", proposal, encoded)
    [photo] = photos.attach(w.author, factories.now(), "proposal", proposal, encoded)
    with pytest.raises(NotAllowed):
        photos.remove(w.muhtar, factories.now(), photo)
    photos.remove(w.author, factories.now(), photo)
    assert photos.count_of("proposal", proposal.id) == 0
    assert store.get(f"{photo.storage_key}.jpg") is not None  # until the removal is committed
    db.session.commit()
    assert store.get(f"{photo.storage_key}.jpg") is None and store.get(f"{photo.storage_key}-thumb.jpg") is None


# --- hiding ---------------------------------------------------------------------------------------

def _published_with_photo(app, site):
    author = client_of(app, site["people"]["author"])
    author.post("/n/moda-photos/proposals/new", content_type="multipart/form-data",
                data=_form(site["category"], files=[("bench.jpg", jpeg())]))
    proposal_id, [photo] = _proposal_photos(app)
    return proposal_id, photo.id


def test_the_muhtar_hides_a_photo_with_a_public_reason(app, site):
    proposal_id, photo_id = _published_with_photo(app, site)
    muhtar = client_of(app, site["people"]["muhtar"])
    assert muhtar.post(f"/photos/{photo_id}/hide", data={"reason": ""}).status_code == 302
    with app.app_context():
        assert db.session.get(Photo, photo_id).hidden_at is None  # no reason, not hidden
    response = muhtar.post(f"/photos/{photo_id}/hide", data={"reason": "Shows a neighbour's face."})
    assert response.status_code == 302
    public = client_of(app)
    assert public.get(f"/photos/{photo_id}.jpg").status_code == 404
    assert public.get(f"/photos/{photo_id}/thumb.jpg").status_code == 404
    page = text(public.get(f"/n/moda-photos/p/{proposal_id}"))
    assert "Shows a neighbour's face." in page and f"/photos/{photo_id}/thumb.jpg" not in page
    for who in ("author", "neighbour"):
        assert client_of(app, site["people"][who]).get(f"/photos/{photo_id}.jpg").status_code == 404
    seen = muhtar.get(f"/photos/{photo_id}.jpg")
    assert seen.status_code == 200 and seen.headers["Cache-Control"] == "private, no-store"
    assert muhtar.post(f"/photos/{photo_id}/restore").status_code == 302
    assert public.get(f"/photos/{photo_id}.jpg").status_code == 200


def test_no_one_but_the_neighbourhoods_muhtar_hides_a_photo(app, site):
    _, photo_id = _published_with_photo(app, site)
    assert client_of(app).post(f"/photos/{photo_id}/hide", data={"reason": "x"}).status_code == 302  # login
    for who in ("author", "neighbour", "other_muhtar"):
        response = client_of(app, site["people"][who]).post(f"/photos/{photo_id}/hide", data={"reason": "No."})
        assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Photo, photo_id).hidden_at is None


def test_photos_of_a_hidden_proposal_are_not_served_to_the_public(ctx, store):
    w = pf.world(slug="moda-hidden")
    proposal = pf.proposal(w)
    [photo] = photos.attach(w.author, factories.now(), "proposal", proposal,
                            photos.prepare([photos.Upload("a.jpg", jpeg())]))
    assert photos.viewable(factories.user(), photo.id) is photo
    proposal.hidden_at, proposal.hidden_reason = factories.now(), "Off topic."
    db.session.flush()
    with pytest.raises(NotFound):
        photos.viewable(factories.user(), photo.id)
    assert photos.viewable(w.muhtar, photo.id) is photo


# --- an S3-compatible store ------------------------------------------------------------------------

def test_photos_go_to_and_come_from_an_s3_compatible_store(app, site, s3_endpoint, monkeypatch):
    s3 = S3Store("assembly-photos", endpoint_url=s3_endpoint, region="eu-north-1", access_key_id="test",
                 secret_access_key="test", prefix="moda/")
    s3.client.create_bucket(Bucket="assembly-photos",
                            CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    app.extensions["assembly_photo_store"] = s3
    proposal_id, photo_id = _published_with_photo(app, site)
    with app.app_context():
        key = db.session.get(Photo, photo_id).storage_key
    stored = s3.client.get_object(Bucket="assembly-photos", Key=f"moda/{key}.jpg")
    assert stored["ContentType"] == "image/jpeg"
    body = stored["Body"].read()
    assert exif_of(body) == {}
    served = client_of(app).get(f"/photos/{photo_id}.jpg")
    assert served.status_code == 200 and served.get_data() == body
    assert s3.get(f"{key}-thumb.jpg") is not None
    s3.delete(f"{key}-thumb.jpg")
    assert s3.get(f"{key}-thumb.jpg") is None


def test_the_store_is_chosen_by_setting(tmp_path):
    from assembly import create_app
    from assembly.config import ConfigError
    from assembly.photos.storage import make_store
    from tests.support import app_config

    local = create_app(app_config("sqlite://", PHOTO_DIRECTORY=str(tmp_path)))
    assert isinstance(make_store(local), LocalStore) and make_store(local).folder == tmp_path
    s3 = create_app(app_config("sqlite://", PHOTO_STORAGE="s3", PHOTO_S3_BUCKET="b",
                               PHOTO_S3_ENDPOINT_URL="http://127.0.0.1:9", PHOTO_S3_REGION="us-east-1"))
    assert isinstance(make_store(s3), S3Store)
    with pytest.raises(ConfigError):
        create_app(app_config("sqlite://", PHOTO_STORAGE="s3"))
    with pytest.raises(ConfigError):
        create_app(app_config("sqlite://", PHOTO_STORAGE="ftp"))


# --- the staff inbox: pins and photos at a cost that does not grow ---------------------------------

def _inbox_statements(app, store, cases_count: int) -> list[str]:
    with committed(app):
        w = cf.world(code=f"IN{cases_count}", hood_code=f"MODA{cases_count}")
        staff, body_id = w.staff, w.body.id
        for number in range(cases_count):
            proposal = cf.proposal(w, factories.now(), f"Lamp {number}")
            proposal.latitude, proposal.longitude = 40.98 + number / 1000, 29.02
            photos.attach(w.author, factories.now(), "proposal", proposal,
                          photos.prepare([photos.Upload("a.jpg", jpeg()), photos.Upload("b.png", png())]))
            cases.forward(w.muhtar, factories.now(), proposal, w.body, reason="Urgent.")
    client = client_of(app, staff)
    with counting_statements(app, transaction_control=False) as statements:
        page = client.get(f"/staff/bodies/{body_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('class="photo-strip"') == cases_count and html.count("data-lat=") == cases_count
    return statements


def test_the_inbox_shows_pins_and_photos_in_the_same_number_of_statements(app, store):
    few, many = _inbox_statements(app, store, 1), _inbox_statements(app, store, 4)
    assert len(few) == len(many), "\n".join(many)


# --- the documented nginx site lets every photo form's larger request through ------------------------

def test_the_nginx_location_for_larger_requests_matches_every_photo_form(app):
    operations = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text(encoding="utf-8")
    pattern = re.search(r"location ~ (\^.*\$) \{\n\s+client_max_body_size 42m;", operations).group(1)
    values = {"slug": "moda", "proposal_id": 12, "meeting_id": 3, "promise_id": 4, "commitment_id": 5}
    assert {"proposals.new", "proposals.edit", "meetings.ask", "promises.progress", "api_v1.record_progress"} \
        <= PHOTO_ENDPOINTS
    with app.test_request_context():
        for endpoint in PHOTO_ENDPOINTS:
            rule = next(app.url_map.iter_rules(endpoint))
            path = rule.build({name: values[name] for name in rule.arguments})[1]
            assert re.fullmatch(pattern, path), (endpoint, path, pattern)
