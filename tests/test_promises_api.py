"""The promises part of the JSON API: reading promises, commitments and their timelines with a
body's token, and recording progress idempotently, refused for another body's commitment."""
from __future__ import annotations

import datetime as dt

import pytest

from assembly.db import db
from assembly.promises import queries
from assembly.promises.models import Commitment
from tests import case_factories as cf
from tests import promise_factories as pr
from tests.api_support import bearer, committed, token_for
from tests.support import english_client

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def client(app):
    return english_client(app)


@pytest.fixture
def site(app):
    with committed(app):
        w = cf.world()
        promise = pr.published(w, NOW)
        draft = pr.draft(w, NOW, title="Taslak")
        outsider = cf.world(code="ANK", hood_code="KIZILAY")
        council, police = promise.commitments
        return {"promise": promise.id, "draft": draft.id, "council": council.id, "police": police.id,
                "token": token_for(w.staff, w.body), "police_token": token_for(w.other_staff, w.other_body, "Police"),
                "outsider": token_for(outsider.staff, outsider.body, "Elsewhere")}


def _progress(client, site, token, commitment, payload, key="key-1"):
    headers = bearer(token, **({"Idempotency-Key": key} if key else {}))
    return client.post(f"/api/v1/promises/{site['promise']}/commitments/{commitment}/progress", headers=headers,
                       json=payload)


def test_a_body_lists_its_promises_drafts_included(client, site):
    first = client.get("/api/v1/promises?limit=1", headers=bearer(site["token"])).get_json()
    assert [p["id"] for p in first["data"]] == [site["promise"]] and first["next_after_id"] == site["promise"]
    second = client.get(f"/api/v1/promises?limit=1&after_id={first['next_after_id']}", headers=bearer(site["token"]))
    assert [p["status"] for p in second.get_json()["data"]] == ["draft"]
    assert client.get("/api/v1/promises", headers=bearer(site["outsider"])).get_json()["data"] == []
    assert client.get("/api/v1/promises?limit=0", headers=bearer(site["token"])).status_code == 422


def test_a_promise_and_a_commitment_with_its_timeline(client, site):
    promise = client.get(f"/api/v1/promises/{site['promise']}", headers=bearer(site["outsider"])).get_json()["data"]
    assert promise["status"] == "published" and [c["indicator"] for c in promise["commitments"]] == ["count", "yes_no"]
    assert promise["booklet_pdf"].endswith(f"/promises/{site['promise']}/booklet.pdf")
    assert all(b["signed_at"] for b in promise["bodies"])
    commitment = client.get(f"/api/v1/promises/{site['promise']}/commitments/{site['council']}",
                            headers=bearer(site["token"])).get_json()["data"]
    assert commitment["budget"] == 1_200_000 and commitment["currency"] == "TRY"
    assert [e["kind"] for e in commitment["events"]] == ["committed"] and commitment["events"][0]["prev_hash"] == "0" * 64
    # another body's draft is not shown; its own is
    assert client.get(f"/api/v1/promises/{site['draft']}", headers=bearer(site["outsider"])).status_code == 404
    assert client.get(f"/api/v1/promises/{site['draft']}", headers=bearer(site["token"])).status_code == 200
    assert client.get(f"/api/v1/promises/{site['promise']}/commitments/999999",
                      headers=bearer(site["token"])).status_code == 404


def test_progress_is_recorded_once_per_key(app, client, site):
    payload = {"percent": 25, "value": 10, "note": "On lamba.", "evidence": ["https://kadikoy.example/a"]}
    first = _progress(client, site, site["token"], site["council"], payload)
    assert first.status_code == 201, first.get_json()
    event = first.get_json()["data"]
    assert (event["seq"], event["kind"], event["data"]["value"]) == (2, "progress", 10.0)
    again = _progress(client, site, site["token"], site["council"], payload)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    reused = _progress(client, site, site["token"], site["council"], {**payload, "percent": 30})
    assert reused.status_code == 422 and reused.get_json()["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        commitment = db.session.get(Commitment, site["council"])
        assert commitment.event_count == 2 and len(queries.events_of(commitment)) == 2


def test_another_bodys_commitment_is_refused(app, client, site):
    refused = _progress(client, site, site["police_token"], site["council"], {"percent": 50})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    elsewhere = _progress(client, site, site["outsider"], site["council"], {"percent": 50}, key="other")
    assert elsewhere.status_code == 403
    with app.app_context():
        assert db.session.get(Commitment, site["council"]).event_count == 1


@pytest.mark.parametrize(("payload", "key", "status", "code"), [
    ({"percent": 50}, None, 400, "idempotency_key_missing"),
    ({"percent": 101}, "k", 422, "validation_failed"),
    ({"percent": 50, "value": 0.5}, "k", 422, "validation_failed"),
    ({"percent": 50, "surprise": 1}, "k", 422, "validation_failed"),
    (["percent"], "k", 422, "validation_failed"),
])
def test_bad_progress_requests(client, site, payload, key, status, code):
    response = _progress(client, site, site["token"], site["council"], payload, key=key)
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_a_done_commitment_takes_no_more_progress(client, site):
    assert _progress(client, site, site["police_token"], site["police"], {"percent": 100, "value": 1}).status_code == 201
    again = _progress(client, site, site["police_token"], site["police"], {"percent": 100, "note": "x"}, key="k2")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_transition"
