"""Photos on progress recorded through the JSON API: a multipart request (a `data` part with the
JSON object, `photo` parts) checked and re-encoded as on the web page, all or nothing, its
fingerprints in the step's hashed content; idempotent over the JSON and the photos' bytes."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from sqlalchemy import func, select

from assembly.db import db
from assembly.photos import processing
from assembly.photos.models import Photo
from assembly.promises import photos as progress_photos
from assembly.promises import queries
from assembly.promises import services as promises
from assembly.promises.models import Commitment
from tests import case_factories as cf
from tests import promise_factories as pr
from tests.api_support import bearer, committed, token_for
from tests.photo_support import GPS_IFD, exif_of, jpeg, png, store  # noqa: F401 - fixture
from tests.support import english_client, text

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
PAYLOAD = {"percent": 40, "value": 16, "note": "Before and after the new lamps."}


@pytest.fixture
def client(app):
    return english_client(app)


@pytest.fixture
def site(app, store):
    with committed(app):
        w = cf.world()
        promise = pr.published(w, NOW)
        council, _police = promise.commitments
        return {"promise": promise.id, "council": council.id, "token": token_for(w.staff, w.body),
                "police_token": token_for(w.other_staff, w.other_body, "Police")}


def _url(site) -> str:
    return f"/api/v1/promises/{site['promise']}/commitments/{site['council']}/progress"


def _post(client, site, files, payload=PAYLOAD, key="key-1", token=None, **parts):
    data = {"data": json.dumps(payload), "photo": [(io.BytesIO(content), name) for name, content in files], **parts}
    return client.post(_url(site),
                       headers=bearer(token or site["token"], **{"Idempotency-Key": key}),
                       content_type="multipart/form-data", data=data)


def _photos() -> list[Photo]:
    return list(db.session.scalars(select(Photo).order_by(Photo.id)))


def _nothing_written(app, site, store) -> None:
    with app.app_context():
        assert db.session.get(Commitment, site["council"]).event_count == 1
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
    assert list(store.listing()) == []


def test_a_step_with_two_photos_without_their_location(app, client, site, store):
    response = _post(client, site, [("before.jpg", jpeg(gps=True)), ("after.png", png())])
    assert response.status_code == 201, response.get_json()
    event = response.get_json()["data"]
    assert (event["kind"], event["data"]["percent"], event["note"]) == ("progress", 40, PAYLOAD["note"])
    assert len(event["data"]["photos"]) == 2
    with app.app_context():
        step = queries.events_of(db.session.get(Commitment, site["council"]))[-1]
        attached = progress_photos.photos_of([step.id])[step.id]
        assert [p.position for p in attached] == [0, 1]
        assert {(p.uploader_id, p.api_token_id is not None) for p in attached} == {(None, True)}
        fingerprints = []
        for photo in attached:
            stored, thumb = store.get(f"{photo.storage_key}.jpg"), store.get(f"{photo.storage_key}-thumb.jpg")
            assert exif_of(stored) == {} and GPS_IFD not in exif_of(stored) and exif_of(thumb) == {}
            fingerprints.append({"photo": processing.digest(stored), "thumb": processing.digest(thumb)})
        assert event["data"]["photos"] == step.data["photos"] == fingerprints
        assert step.hash == event["hash"] == promises.event_hash(step, site["promise"])
    page = text(app.test_client().get(f"/promises/{site['promise']}?lang=en"))
    assert all(f"/photos/{p.id}/thumb.jpg" in page for p in attached)
    result = app.test_cli_runner().invoke(args=["promises", "verify"])
    assert (result.exit_code, result.output) == (0, "2 progress photo(s) match their steps\n"
                                                     "every commitment timeline is intact\n")


def test_the_json_part_may_be_a_file_and_photos_alone_are_a_step(client, site):
    response = client.post(_url(site),
                           headers=bearer(site["token"], **{"Idempotency-Key": "k"}),
                           content_type="multipart/form-data",
                           data={"data": (io.BytesIO(b'{"percent": 0}'), "step.json", "application/json"),
                                 "photo": (io.BytesIO(jpeg()), "after.jpg")})
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["data"]["data"]["photos"]) == 1


@pytest.mark.parametrize(("files", "message"), [
    ([("plan.jpg", b"%PDF-1.4 not a photo")], "“plan.jpg” is not a photo we can read. Send a JPEG, PNG or WebP image."),
    ([("ok.jpg", jpeg()), ("huge.jpg", b"\xff" * (64 * 1024 + 1))], "“huge.jpg” is larger than 0.1 MB."),
    ([(f"p{n}.jpg", jpeg()) for n in range(3)], "You can attach at most 2 photos."),
])
def test_a_refused_photo_writes_nothing(app, client, site, store, files, message):
    before = {name: app.config[name] for name in ("PHOTO_MAX_COUNT", "PHOTO_MAX_BYTES")}
    app.config.update(PHOTO_MAX_COUNT=2, PHOTO_MAX_BYTES=64 * 1024)
    try:
        response = _post(client, site, files)
    finally:
        app.config.update(before)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["message"], error["fields"]) == ("validation_failed", message, {"photo": [message]})
    _nothing_written(app, site, store)
    # nothing used the key up: the same key with good photos records the step
    assert _post(client, site, [("ok.jpg", jpeg())]).status_code == 201


def test_the_photo_messages_are_translated(app, client, site, store):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "tr"
    response = _post(client, site, [("plan.jpg", b"not a photo")])
    assert response.status_code == 422
    message = response.get_json()["error"]["fields"]["photo"][0]
    assert "plan.jpg" in message and "Send a JPEG" not in message
    _nothing_written(app, site, store)


def test_a_replay_returns_the_stored_answer_and_stores_nothing_twice(app, client, site, store):
    files = [("before.jpg", jpeg()), ("after.png", png())]
    first = _post(client, site, files)
    assert first.status_code == 201
    again = _post(client, site, files)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    with app.app_context():
        assert db.session.get(Commitment, site["council"]).event_count == 2 and len(_photos()) == 2
    assert len(list(store.listing())) == 4  # two photos and their thumbnails


def test_the_same_key_with_another_photo_or_other_json_is_refused(app, client, site, store):
    assert _post(client, site, [("before.jpg", jpeg())]).status_code == 201
    for files, payload in (([("before.jpg", jpeg(colour=(0, 0, 255)))], PAYLOAD),
                           ([("before.jpg", jpeg()), ("after.png", png())], PAYLOAD),
                           ([("before.jpg", jpeg())], {**PAYLOAD, "percent": 50}),
                           ([], PAYLOAD)):
        reused = _post(client, site, files, payload)
        assert reused.status_code == 422 and reused.get_json()["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        assert db.session.get(Commitment, site["council"]).event_count == 2 and len(_photos()) == 1


def test_another_bodys_token_is_refused(app, client, site, store):
    refused = _post(client, site, [("before.jpg", jpeg())], token=site["police_token"])
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    _nothing_written(app, site, store)


def test_multipart_without_photos_is_the_json_request(app, client, site):
    """The same JSON object as a part and as a body: the same step, and the same request for its key."""
    first = _post(client, site, [])
    assert first.status_code == 201 and "photos" not in first.get_json()["data"]["data"]
    again = client.post(_url(site),
                        headers=bearer(site["token"], **{"Idempotency-Key": "key-1"}), json=PAYLOAD)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(("parts", "status", "code", "field"), [
    ({"data": None}, 422, "validation_failed", "data"),
    ({"data": "{not json"}, 400, "invalid_json", None),
    ({"data": "[40]"}, 422, "validation_failed", "percent"),
    ({"data": json.dumps({"percent": 40, "photos": []})}, 422, "validation_failed", "photos"),
    ({"photos": (b"x", "a.jpg")}, 422, "validation_failed", "photos"),
    ({"photo": "not a file"}, 422, "validation_failed", "photo"),
])
def test_bad_multipart_requests(app, client, site, store, parts, status, code, field):
    data = {"data": json.dumps(PAYLOAD), **parts}
    data = {name: (io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value
            for name, value in data.items() if value is not None}
    response = client.post(_url(site),
                           headers=bearer(site["token"], **{"Idempotency-Key": "k"}),
                           content_type="multipart/form-data", data=data)
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and (field is None or field in error["fields"])
    _nothing_written(app, site, store)


def test_json_bodies_keep_the_small_limit_multipart_gets_room_for_photos(app, client, site):
    url = _url(site)
    before = {name: app.config[name] for name in ("MAX_CONTENT_LENGTH", "PHOTO_MAX_BYTES")}
    app.config.update(MAX_CONTENT_LENGTH=100_000, PHOTO_MAX_BYTES=200_000)  # bodies the test client keeps in memory
    try:
        response = client.post(url, headers=bearer(site["token"], **{"Idempotency-Key": "k"}),
                               json={"percent": 40, "note": "x" * 100_001})
        assert response.status_code == 413 and response.get_json()["error"]["code"] == "request_entity_too_large"
        # as a file, the JSON part may not be larger than a JSON body
        response = client.post(url, headers=bearer(site["token"], **{"Idempotency-Key": "k"}),
                               content_type="multipart/form-data",
                               data={"data": (io.BytesIO(json.dumps({"percent": 40, "note": "x" * 100_001}).encode()),
                                              "step.json", "application/json")})
        assert response.status_code == 413 and response.get_json()["error"]["code"] == "request_entity_too_large"
        # larger than a JSON body may be, smaller than a photo may be: read, and refused as no photo
        response = _post(client, site, [("big.jpg", b"\xff" * 150_000)])
    finally:
        app.config.update(before)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["photo"] == [
        "“big.jpg” is not a photo we can read. Send a JPEG, PNG or WebP image."]
