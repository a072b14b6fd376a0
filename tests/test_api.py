"""The JSON API for bodies through the test client: tokens, listing with cursors, one case with
its timeline, outcome events with idempotency keys (also under concurrency on PostgreSQL),
JSON errors, CSRF exemption and the per-token rate limit."""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from assembly.accounts.models import User
from assembly.cases import api_tokens
from assembly.cases import queries
from assembly.cases import services as cases
from assembly.cases.models import ApiToken, Case, CaseEvent, IdempotentRequest
from assembly.db import db
from tests import case_factories as cf
from tests import factories
from tests.api_support import bearer, committed, token_for
from tests.support import english_client, isolated_app

MINUTE = dt.timedelta(minutes=1)
T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def client(app):
    return english_client(app)


@pytest.fixture
def site(app):
    """Five council cases forwarded a minute apart, one police case, and a token of each body."""
    with committed(app):
        w = cf.world()
        council = [cf.forwarded(w, T0 + number * MINUTE, f"Lamp {number}") for number in range(5)]
        police = cf.forwarded(w, T0, "Dark corner", body=w.other_body)
        token = token_for(w.staff, w.body)
        police_token = token_for(w.other_staff, w.other_body, "Police IT")
        site = {"token": token, "police_token": police_token, "references": [case.reference for case in council],
                "police_case": police.reference, "body": w.body.slug, "police": w.other_body.slug,
                "body_id": w.body.id, "staff": w.staff.id}
    return site


def _get(client, path: str, token: str, **params):
    return client.get(path, headers=bearer(token), query_string=params)


def _post_event(client, token: str, reference: str, payload, key: str | None = "key-1", **headers):
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/cases/{reference}/events", headers=bearer(token, **headers), json=payload)


def _events_of(app, reference: str) -> list[CaseEvent]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        return queries.events_of(case)


def _error(response) -> dict:
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    return response.get_json()["error"]


# --- authentication ------------------------------------------------------------------------------

def test_requests_without_a_valid_token_get_401_in_json(app, client, site):
    missing = client.get("/api/v1/cases")
    assert missing.status_code == 401
    assert _error(missing)["code"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert _get(client, "/api/v1/cases", "asm_not-a-real-token").status_code == 401
    wrong_scheme = client.get("/api/v1/cases", headers={"Authorization": f"Basic {site['token']}"})
    assert wrong_scheme.status_code == 401


def test_a_revoked_token_stops_working(app, client, site):
    assert _get(client, "/api/v1/body", site["token"]).status_code == 200
    with committed(app):
        token = db.session.scalar(select(ApiToken).where(ApiToken.body_id == site["body_id"]))
        api_tokens.revoke_token(db.session.get(User, site["staff"]), factories.now(), token.body, token.id)
    response = _get(client, "/api/v1/body", site["token"])
    assert response.status_code == 401
    assert "revoked" in _error(response)["message"]


def test_the_token_says_which_body_it_acts_for(app, client, site):
    response = _get(client, "/api/v1/body", site["token"])
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["slug"] == site["body"]
    assert data["municipality"]["code"] == "KDK"
    assert data["token"]["name"] == "Council IT"
    assert site["token"].startswith(data["token"]["prefix"])
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        used = db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.body_id == site["body_id"]))
    assert used is not None


# --- listing and reading -------------------------------------------------------------------------

def test_the_list_shows_only_the_bodys_own_cases(client, site):
    response = _get(client, "/api/v1/cases", site["token"])
    assert response.status_code == 200
    listed = response.get_json()
    assert [case["reference"] for case in listed["data"]] == site["references"]
    assert listed["next_cursor"] is None
    first = listed["data"][0]
    assert first["status"] == "forwarded" and first["status_label"] == "Forwarded"
    assert first["title"] == "Lamp 0"
    assert first["forward_reason"] == "Urgent: the street is dark at night."
    assert first["category"]["service_code"].startswith("KDK.lighting-")
    assert first["url"].endswith(f"/cases/{first['reference']}")
    assert first["forwarded_at"] == "2026-10-01T09:00:00.000000Z"
    police = _get(client, "/api/v1/cases", site["police_token"]).get_json()["data"]
    assert [case["reference"] for case in police] == [site["police_case"]]


def test_paging_with_the_cursor_visits_every_case_once(client, site):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _get(client, "/api/v1/cases", site["token"], **params).get_json()
        seen += [case["reference"] for case in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == site["references"]
    assert pages == 3


def test_paging_while_cases_change_skips_none(client, site):
    """An offset-based page 2 would skip a case when one of page 1 changes; (updated_at, id) does not."""
    first = _get(client, "/api/v1/cases", site["token"], limit=2).get_json()
    changed_seen, changed_unseen = site["references"][0], site["references"][3]
    for number, reference in enumerate((changed_seen, changed_unseen)):
        assert _post_event(client, site["token"], reference, {"kind": "received"}, key=f"k{number}").status_code == 201
    seen, cursor = [case["reference"] for case in first["data"]], first["next_cursor"]
    while cursor:
        page = _get(client, "/api/v1/cases", site["token"], limit=2, cursor=cursor).get_json()
        seen += [case["reference"] for case in page["data"]]
        cursor = page["next_cursor"]
    assert set(seen) == set(site["references"])
    assert seen[-2:] == [changed_seen, changed_unseen]  # moved to the end, seen (again) there
    assert seen.count(changed_unseen) == 1


def test_status_and_updated_since_filter_the_list(client, site):
    reference = site["references"][2]
    assert _post_event(client, site["token"], reference, {"kind": "received"}).status_code == 201
    received = _get(client, "/api/v1/cases", site["token"], status="received").get_json()["data"]
    assert [case["reference"] for case in received] == [reference]
    since = (T0 + 3 * MINUTE).isoformat()
    recent = _get(client, "/api/v1/cases", site["token"], updated_since=since).get_json()["data"]
    assert [case["reference"] for case in recent] == [site["references"][3], site["references"][4], reference]
    naive = _get(client, "/api/v1/cases", site["token"], updated_since="2026-10-01T09:04:00").get_json()["data"]
    assert [case["reference"] for case in naive] == [site["references"][4], reference]


@pytest.mark.parametrize("params, field", [
    ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"status": "lost"}, "status"), ({"updated_since": "yesterday"}, "updated_since"),
    ({"updated_since": "9999-12-31T23:59:59-01:00"}, "updated_since"),
    ({"cursor": "not-a-cursor"}, "cursor"), ({"cursor": "WyJ4IiwxXQ"}, "cursor"),
])
def test_invalid_list_parameters_are_named_in_a_422(client, site, params, field):
    response = _get(client, "/api/v1/cases", site["token"], **params)
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_failed"
    assert list(error["fields"]) == [field]


def test_one_case_comes_with_its_hash_chained_events(client, site):
    reference = site["references"][0]
    _post_event(client, site["token"], reference, {"kind": "received", "note": "Thank you."})
    response = _get(client, f"/api/v1/cases/{reference.lower()}", site["token"])
    assert response.status_code == 200
    case = response.get_json()["data"]
    assert case["reference"] == reference and case["status"] == "received"
    first, second = case["events"]
    assert (first["seq"], first["kind"], second["kind"], second["note"]) == (1, "forwarded", "received", "Thank you.")
    assert first["prev_hash"] == "0" * 64 and second["prev_hash"] == first["hash"]
    assert second["actor"].startswith("API: Council IT")


def test_other_bodies_cases_do_not_exist_for_a_token(client, site):
    unknown = _get(client, "/api/v1/cases/KDK-CAFERAGA-2026-9999", site["token"])
    foreign = _get(client, f"/api/v1/cases/{site['police_case']}", site["token"])
    assert unknown.status_code == foreign.status_code == 404
    assert _error(unknown) == _error(foreign)
    write = _post_event(client, site["token"], site["police_case"], {"kind": "received"})
    assert write.status_code == 404
    assert _error(write) == _error(unknown)


# --- writing --------------------------------------------------------------------------------------

def test_the_whole_lifecycle_through_the_api(app, client, site):
    reference = site["references"][0]
    steps = [
        {"kind": "received", "note": "Registered as 2026/118."},
        {"kind": "scheduled", "meeting_at": "2026-12-01T18:00:00+03:00", "agenda_number": "41",
         "record_url": "https://example.org/meeting/41"},
        {"kind": "decided", "decision": "approved", "note": "Approved unanimously."},
        {"kind": "in_progress", "progress": 40, "note": "Lamps ordered."},
        {"kind": "done"},
    ]
    for number, step in enumerate(steps):
        response = _post_event(client, site["token"], reference, step, key=f"step-{number}")
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["data"]["kind"] == step["kind"]
    created = _get(client, f"/api/v1/cases/{reference}", site["token"]).get_json()["data"]
    assert created["status"] == "done" and created["progress"] == 100 and created["decision"] == "approved"
    assert created["council_meeting_at"] == "2026-12-01T15:00:00.000000Z"
    assert created["agenda_number"] == "41"
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        assert cases.verify_chain(case, queries.events_of(case)) is None


def test_a_retried_write_with_the_same_key_creates_one_event(app, client, site):
    reference = site["references"][1]
    payload = {"kind": "received", "note": "Got it."}
    first = _post_event(client, site["token"], reference, payload, key="retry-me")
    retry = _post_event(client, site["token"], reference, payload, key="retry-me")
    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert [event.kind for event in _events_of(app, reference)] == ["forwarded", "received"]
    with app.app_context():
        stored = db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.key == "retry-me"))
        assert (stored.status_code, stored.response) == (201, first.get_json())


def test_a_key_reused_for_another_request_is_refused(app, client, site):
    reference = site["references"][1]
    assert _post_event(client, site["token"], reference, {"kind": "received"}, key="once").status_code == 201
    other_body = _post_event(client, site["token"], reference, {"kind": "received", "note": "x"}, key="once")
    other_case = _post_event(client, site["token"], site["references"][2], {"kind": "received"}, key="once")
    for response in (other_body, other_case):
        assert response.status_code == 422
        error = _error(response)
        assert error["code"] == "idempotency_key_reused"
        assert "Idempotency-Key" in error["message"]
    assert len(_events_of(app, site["references"][2])) == 1


def test_keys_belong_to_a_body(app, client, site):
    """Another body may use the same key for its own request."""
    council = _post_event(client, site["token"], site["references"][0], {"kind": "received"}, key="shared")
    police = _post_event(client, site["police_token"], site["police_case"], {"kind": "received"}, key="shared")
    assert council.status_code == police.status_code == 201
    assert "Idempotent-Replayed" not in police.headers


def test_only_a_successful_write_uses_up_its_key(app, client, site):
    reference = site["references"][0]
    refused = _post_event(client, site["token"], reference, {"kind": "done"}, key="k")
    assert refused.status_code == 409
    assert _post_event(client, site["token"], reference, {"kind": "received"}, key="k").status_code == 201


@pytest.mark.parametrize("key, code", [(None, "idempotency_key_missing"), ("", "idempotency_key_invalid"),
                                       ("x" * 201, "idempotency_key_invalid"), ("with space", "idempotency_key_invalid")])
def test_a_write_needs_a_valid_idempotency_key(app, client, site, key, code):
    headers = {} if key is None else {"Idempotency-Key": key}
    response = client.post(f"/api/v1/cases/{site['references'][0]}/events",
                           headers=bearer(site["token"], **headers), json={"kind": "received"})
    assert response.status_code == 400
    assert _error(response)["code"] == code
    assert len(_events_of(app, site["references"][0])) == 1


def test_an_illegal_transition_is_a_409(app, client, site):
    response = _post_event(client, site["token"], site["references"][0], {"kind": "done"})
    assert response.status_code == 409
    error = _error(response)
    assert error["code"] == "invalid_transition"
    assert "Forwarded" in error["message"]
    assert len(_events_of(app, site["references"][0])) == 1


@pytest.mark.parametrize("payload, field", [
    ({"kind": "closed"}, "kind"),
    ({"note": "no kind"}, "kind"),
    ({"kind": ["received"]}, "kind"),
    ({"kind": "received", "progress": 5}, "progress"),
    ({"kind": "received", "note": 42}, "note"),
    ({"kind": "received", "note": "x" * 2001}, "note"),
])
def test_the_shape_of_an_event_is_checked(client, site, payload, field):
    response = _post_event(client, site["token"], site["references"][0], payload)
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_failed"
    assert field in error["fields"]


def _received(client, site, number: int = 0) -> str:
    reference = site["references"][number]
    assert _post_event(client, site["token"], reference, {"kind": "received"}, key=f"r{number}").status_code == 201
    return reference


@pytest.mark.parametrize("payload, field", [
    ({"kind": "scheduled"}, "meeting_at"),
    ({"kind": "scheduled", "meeting_at": "2026-12-01T18:00:00"}, "meeting_at"),
    ({"kind": "scheduled", "meeting_at": "2026-12-01T18:00:00Z", "record_url": "ftp://x"}, "record_url"),
    ({"kind": "scheduled", "meeting_at": "2026-12-01T18:00:00Z", "agenda_number": "1" * 41}, "agenda_number"),
    ({"kind": "decided"}, "decision"),
    ({"kind": "decided", "decision": "maybe"}, "decision"),
    ({"kind": "decided", "decision": "rejected"}, "note"),
    ({"kind": "decided", "decision": "referred"}, "refer_to"),
    ({"kind": "decided", "decision": "referred", "refer_to": "nobody"}, "refer_to"),
    ({"kind": "decided", "decision": "approved", "refer_to": "nobody"}, "refer_to"),
])
def test_rules_of_the_steps_come_back_as_field_errors(app, client, site, payload, field):
    reference = _received(client, site)
    response = _post_event(client, site["token"], reference, payload, key="step")
    assert response.status_code == 422, response.get_json()
    assert field in _error(response)["fields"]
    assert len(_events_of(app, reference)) == 2


def test_progress_is_a_whole_percentage(client, site):
    reference = _received(client, site)
    assert _post_event(client, site["token"], reference, {"kind": "decided", "decision": "approved"},
                       key="d").status_code == 201
    for number, progress in enumerate((150, -1, 50.5, "50", True)):
        response = _post_event(client, site["token"], reference, {"kind": "in_progress", "progress": progress},
                               key=f"p{number}")
        assert response.status_code == 422
        assert list(_error(response)["fields"]) == ["progress"]


def test_a_referral_names_the_other_body_by_slug(app, client, site):
    reference = _received(client, site)
    response = _post_event(client, site["token"], reference,
                           {"kind": "decided", "decision": "referred", "refer_to": site["police"],
                            "note": "A matter for the police."})
    assert response.status_code == 201
    assert response.get_json()["data"]["data"]["referred_to"] == "Kadıköy Emniyeti"
    police = _get(client, "/api/v1/cases", site["police_token"]).get_json()["data"]
    assert [case["referred_from"] for case in police if case["referred_from"]] == [reference]


@pytest.mark.parametrize("body", [b"{not json", b"", b"NaN", b"[" * 100_000])
def test_a_body_that_is_not_json_is_a_400(client, site, body):
    response = client.post(f"/api/v1/cases/{site['references'][0]}/events", data=body,
                           headers=bearer(site["token"], **{"Idempotency-Key": "k", "Content-Type": "application/json"}))
    assert response.status_code == 400
    assert _error(response)["code"] == "invalid_json"


def test_a_json_value_that_is_not_an_object_is_a_422(client, site):
    response = _post_event(client, site["token"], site["references"][0], ["received"])
    assert response.status_code == 422


# --- plumbing ---------------------------------------------------------------------------------------

def test_unknown_addresses_and_methods_answer_in_json(client, site):
    missing = client.get("/api/v1/nothing-here", headers=bearer(site["token"]))
    assert missing.status_code == 404 and _error(missing)["code"] == "not_found"
    wrong_method = client.delete("/api/v1/cases", headers=bearer(site["token"]))
    assert wrong_method.status_code == 405 and _error(wrong_method)["code"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]


def test_api_writes_need_no_csrf_token(database_url):
    with isolated_app(database_url, WTF_CSRF_ENABLED=True) as csrf_app:
        with committed(csrf_app):
            w = cf.world()
            reference = cf.forwarded(w, T0).reference
            token = token_for(w.staff, w.body)
        response = _post_event(csrf_app.test_client(), token, reference, {"kind": "received"})
        assert response.status_code == 201
        form_post = csrf_app.test_client().post(f"/cases/{reference}/events/received", data={})
        assert form_post.status_code == 400  # the web form still needs its token


def test_the_rate_limit_counts_per_token(database_url):
    with isolated_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_API="2 per minute") as limited:
        with committed(limited):
            w = cf.world()
            first, second = token_for(w.staff, w.body, "one"), token_for(w.staff, w.body, "two")
        api = limited.test_client()
        assert [_get(api, "/api/v1/body", first).status_code for _ in range(2)] == [200, 200]
        refused = _get(api, "/api/v1/body", first)
        assert refused.status_code == 429
        assert _error(refused)["code"] == "too_many_requests"
        assert refused.headers["Retry-After"] and refused.headers["X-RateLimit-Limit"] == "2"
        assert _get(api, "/api/v1/body", second).status_code == 200


# --- concurrency (PostgreSQL, real commits) ----------------------------------------------------------

SIMULTANEOUS = 8
BARRIER_TIMEOUT = 300  # a safety net so a broken run fails instead of hanging; nothing asserts on time


@pytest.mark.postgres
@pytest.mark.parametrize("tokens", ["one token", "a token per request"])
def test_simultaneous_identical_writes_make_one_event(concurrent_app, tokens):
    """All requests start together (a barrier). With one token they queue on the token's
    last_used_at row; with a token each, they meet at the unique (body_id, key) constraint:
    the losers wait for the winner's commit, fail to insert the key and return its answer."""
    with committed(concurrent_app):
        w = cf.world()
        reference = cf.forwarded(w, T0).reference
        count = 1 if tokens == "one token" else SIMULTANEOUS
        secrets = [token_for(w.staff, w.body, f"token {n}") for n in range(count)]
    key = str(uuid.uuid4())
    barrier = threading.Barrier(SIMULTANEOUS, timeout=BARRIER_TIMEOUT)
    payload = {"kind": "received", "note": "Registered."}

    def one(number: int):
        client = concurrent_app.test_client()
        barrier.wait()
        return _post_event(client, secrets[number % len(secrets)], reference, payload, key=key)

    with ThreadPoolExecutor(max_workers=SIMULTANEOUS) as pool:
        responses = list(pool.map(one, range(SIMULTANEOUS)))

    assert [response.status_code for response in responses] == [201] * SIMULTANEOUS
    assert len({response.get_data() for response in responses}) == 1
    assert sum("Idempotent-Replayed" not in response.headers for response in responses) == 1
    with concurrent_app.app_context():
        assert [event.kind for event in _events_of(concurrent_app, reference)] == ["forwarded", "received"]
        assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 1
