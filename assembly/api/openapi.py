"""The OpenAPI 3 document of the JSON API and the Open311 endpoints, served at
/api/v1/openapi.json. A test validates it and checks that it names every route."""
from __future__ import annotations

import copy

from assembly.cases.models import CaseStatus, Decision
from assembly.neighbourhoods.models import BodyKind

VERSION = "1.0.0"
STATUSES = [status.value for status in CaseStatus]
DECISIONS = [decision.value for decision in Decision]
EVENT_KINDS = ["forwarded", "received", "scheduled", "decided", "in_progress", "done"]
TIMESTAMP = {"type": "string", "format": "date-time"}
HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}

DESCRIPTION = """\
Read the cases forwarded to your body and record what happened to them; read forwarded
items publicly as Open311 GeoReport v2 service requests. The guide with examples is
docs/api.md in the source repository.

**Authentication** (`/api/v1`): `Authorization: Bearer <token>`. Staff create and revoke a
body's tokens on the body's staff page; a token is shown once and acts as staff of its body
only. The Open311 endpoints and this document need no token.

**Pagination**: `GET /api/v1/cases` is ordered by `(updated_at, id)`. Pass the answer's
`next_cursor` as `cursor` (with the same `status`) for the next page; `next_cursor` is null on
the last page. A case that changes while you page moves to the end of the order, so it is
seen again rather than skipped. For incremental sync keep the largest `updated_at` you have
seen and ask with `updated_since` (inclusive) next time.

**Idempotency**: every `POST` needs an `Idempotency-Key` header (1-200 visible ASCII
characters, e.g. a UUID). A retry with the same key and the same body gets the stored answer
(same status and body, header `Idempotent-Replayed: true`) and creates nothing; the same key
with a different request is refused with 422 `idempotency_key_reused`. Only successful writes
use up a key.

**Errors**: `{"error": {"code": "...", "message": "...", "fields": {...}}}`; `code` is stable,
`message` is in the language of `Accept-Language`, `fields` names the wrong fields (422 only).
Open311 errors use the Open311 format: `[{"code": 404, "description": "..."}]` or
`<errors><error><code>404</code><description>...</description></error></errors>`.
"""


def _nullable(schema: dict) -> dict:
    schema = {**schema, "nullable": True}
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _object(properties: dict, required: list[str] | None = None, **extra) -> dict:
    return {"type": "object", "required": list(properties) if required is None else required,
            "properties": properties, **extra}


def _text(max_length: int | None = None, **extra) -> dict:
    return {"type": "string", **({"maxLength": max_length} if max_length else {}), **extra}


CASE = _object({
    "reference": {"type": "string", "example": "KDK-CAFERAGA-2026-0042"},
    "url": {"type": "string", "format": "uri", "description": "The public tracking page."},
    "title": {"type": "string"},
    "text": {"type": "string", "description": "The proposal's text (Markdown) when it was forwarded."},
    "text_html": {"type": "string", "description": "The same text as sanitised HTML."},
    "status": {"type": "string", "enum": STATUSES},
    "status_label": {"type": "string", "description": "The status in words, in the request's language."},
    "decision": _nullable({"type": "string", "enum": DECISIONS}),
    "progress": {"type": "integer", "minimum": 0, "maximum": 100},
    "overdue": {"type": "boolean", "description": "Not yet decided and past due_at."},
    "neighbourhood": _object({"slug": {"type": "string"}, "code": {"type": "string"}, "name": {"type": "string"}}),
    "category": _nullable(_object({"slug": {"type": "string"}, "name": {"type": "string"},
                                   "service_code": {"type": "string", "example": "KDK.lighting"}})),
    "latitude": _nullable({"type": "number"}),
    "longitude": _nullable({"type": "number"}),
    "address": _nullable({"type": "string"}),
    "vote_result": {"type": "object", "additionalProperties": True,
                    "description": "Snapshot of the assembly's vote; empty when it was not voted on."},
    "note": _nullable({"type": "string", "description": "The muhtar's note when forwarding."}),
    "forward_reason": _nullable({"type": "string", "description": "Public reason for forwarding an item the "
                                                                  "assembly did not accept."}),
    "referred_from": _nullable({"type": "string", "description": "Reference of the case that was referred here."}),
    "forwarded_at": TIMESTAMP,
    "due_at": {**TIMESTAMP, "description": "The body's answer deadline."},
    "received_at": _nullable(TIMESTAMP),
    "decided_at": _nullable(TIMESTAMP),
    "done_at": _nullable(TIMESTAMP),
    "council_meeting_at": _nullable(TIMESTAMP),
    "agenda_number": _nullable({"type": "string"}),
    "council_record_url": _nullable({"type": "string"}),
    "updated_at": TIMESTAMP,
    "event_count": {"type": "integer", "minimum": 0},
})

EVENT = _object({
    "seq": {"type": "integer", "minimum": 1},
    "kind": {"type": "string", "enum": EVENT_KINDS},
    "status": {"type": "string", "enum": STATUSES, "description": "The case's status after this event."},
    "actor": {"type": "string"},
    "note": _nullable({"type": "string"}),
    "data": {"type": "object", "additionalProperties": True},
    "created_at": TIMESTAMP,
    "prev_hash": {**HASH, "description": "hash of the previous event (64 zeros for the first)."},
    "hash": {**HASH, "description": "SHA-256 of the event's canonical content, which includes prev_hash."},
})

NOTE = _nullable(_text(2000, description="Public note; a rejection needs one (the reason)."))


def _event_input(kind: str, properties: dict, required: tuple[str, ...] = ()) -> dict:
    return _object({"kind": {"type": "string", "enum": [kind]}, "note": NOTE, **properties},
                   required=["kind", *required], additionalProperties=False)


EVENT_INPUTS = {
    "ReceivedEvent": _event_input("received", {}),
    "ScheduledEvent": _event_input("scheduled", {
        "meeting_at": {**TIMESTAMP, "description": "The council meeting, with its UTC offset."},
        "agenda_number": _nullable(_text(40)),
        "record_url": _nullable(_text(500, pattern="^https?://")),
    }, ("meeting_at",)),
    "DecidedEvent": _event_input("decided", {
        "decision": {"type": "string", "enum": DECISIONS},
        "refer_to": _nullable(_text(60, description="Slug of the other body of your municipality; "
                                                    "only with the decision referred.")),
    }, ("decision",)),
    "InProgressEvent": _event_input("in_progress", {"progress": {"type": "integer", "minimum": 0, "maximum": 100}},
                                    ("progress",)),
    "DoneEvent": _event_input("done", {}),
}

ERROR = _object({"error": _object({
    "code": {"type": "string", "example": "invalid_transition"},
    "message": {"type": "string"},
    "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
}, required=["code", "message"])})

BODY = _object({"data": _object({
    "slug": {"type": "string"}, "name": {"type": "string"},
    "kind": {"type": "string", "enum": [kind.value for kind in BodyKind]},
    "answer_days": {"type": "integer"},
    "municipality": _object({"code": {"type": "string"}, "name": {"type": "string"}}),
    "token": _object({"name": {"type": "string"}, "prefix": {"type": "string"}, "created_at": TIMESTAMP}),
})})

OPEN311_SERVICE = _object({
    "service_code": {"type": "string", "example": "KDK.lighting"},
    "service_name": {"type": "string"},
    "description": {"type": "string"},
    "metadata": {"type": "boolean", "enum": [False]},
    "type": {"type": "string", "enum": ["realtime"]},
    "keywords": {"type": "string"},
    "group": {"type": "string", "description": "The municipality's name."},
})

OPEN311_REQUEST = _object({
    "service_request_id": {"type": "string", "description": "The case's reference number."},
    "status": {"type": "string", "enum": ["open", "closed"]},
    "status_notes": {"type": "string"},
    "service_name": {"type": "string"},
    "service_code": {"type": "string"},
    "description": {"type": "string"},
    "agency_responsible": {"type": "string"},
    "service_notice": _nullable({"type": "string"}),
    "requested_datetime": TIMESTAMP,
    "updated_datetime": TIMESTAMP,
    "expected_datetime": _nullable(TIMESTAMP),
    "address": _nullable({"type": "string"}),
    "lat": _nullable({"type": "number"}),
    "long": _nullable({"type": "number"}),
})

OPEN311_DISCOVERY = _object({
    "changeset": {"type": "string"}, "contact": {"type": "string"}, "key_service": {"type": "string"},
    "endpoints": {"type": "array", "items": _object({
        "specification": {"type": "string"}, "url": {"type": "string"}, "changeset": {"type": "string"},
        "type": {"type": "string", "enum": ["production", "test"]},
        "formats": {"type": "array", "items": {"type": "string"}},
    })},
})

OPEN311_ERRORS = {"type": "array", "items": _object({"code": {"type": "integer"}, "description": {"type": "string"}})}

SCHEMAS = {
    "Error": ERROR, "Body": BODY, "Case": CASE, "Event": EVENT,
    "CaseWithEvents": {**CASE, "required": [*CASE["required"], "events"],
                       "properties": {**CASE["properties"],
                                      "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}},
    "CasePage": _object({"data": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
                         "next_cursor": _nullable({"type": "string"})}),
    **EVENT_INPUTS,
    "EventInput": {
        "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in EVENT_INPUTS],
        "discriminator": {"propertyName": "kind", "mapping": {
            schema["properties"]["kind"]["enum"][0]: f"#/components/schemas/{name}"
            for name, schema in EVENT_INPUTS.items()}},
    },
    "Open311Service": OPEN311_SERVICE, "Open311Request": OPEN311_REQUEST, "Open311Discovery": OPEN311_DISCOVERY,
    "Open311Errors": OPEN311_ERRORS,
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _error(description: str) -> dict:
    return _json(description, _ref("Error"))


ERRORS = {
    "400": _error("Bad request: no or an invalid Idempotency-Key, or a body that is not JSON."),
    "401": _error("No token, or the token is not valid or revoked."),
    "404": _error("Your body has no case with this reference (other bodies' cases are never shown)."),
    "409": _error("The case's status does not allow this event (code invalid_transition)."),
    "413": _error("The request body is too large."),
    "422": _error("Invalid parameters or fields (code validation_failed, with fields), or an "
                  "Idempotency-Key reused for a different request (code idempotency_key_reused)."),
    "429": _error("Too many requests for this token (setting RATELIMIT_API)."),
}


def _errors(*codes: str) -> dict:
    return {code: ERRORS[code] for code in codes}


def _open311(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema},
                                                    "text/xml": {"schema": {"type": "string"}}}}


def _open311_errors(*codes: str) -> dict:
    texts = {"400": "Invalid filters.", "404": "Unknown jurisdiction_id or service request.",
             "429": "Too many requests from this address (setting RATELIMIT_API)."}
    return {code: _open311(texts[code], _ref("Open311Errors")) for code in codes}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


FORMAT = {"name": "format", "in": "path", "required": True, "description": "json or xml.",
          "schema": {"type": "string", "enum": ["json", "xml"]}}
JURISDICTION = _query("jurisdiction_id", "Optional: a municipality's code, to read only its data.",
                      {"type": "string", "maxLength": 12})
REFERENCE = {"name": "reference", "in": "path", "required": True, "description": "The case's reference number.",
             "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,60}$"}}
PUBLIC = {"security": []}

PATHS = {
    "/api/v1/openapi.json": {"get": {
        **PUBLIC, "operationId": "openapi", "tags": ["API"], "summary": "This document.",
        "responses": {"200": _json("The OpenAPI document.", {"type": "object"})},
    }},
    "/api/v1/body": {"get": {
        "operationId": "getBody", "tags": ["API"], "summary": "The body the token belongs to (who am I).",
        "responses": {"200": _json("The body.", _ref("Body")), **_errors("401", "429")},
    }},
    "/api/v1/cases": {"get": {
        "operationId": "listCases", "tags": ["API"], "summary": "The body's cases, ordered by (updated_at, id).",
        "parameters": [
            _query("status", "Only cases with this status.", {"type": "string", "enum": STATUSES}),
            _query("updated_since", "Only cases changed at or after this time (UTC when no offset is given).",
                   TIMESTAMP),
            _query("limit", "Cases per page.", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
            _query("cursor", "next_cursor of the previous page.", {"type": "string", "maxLength": 200}),
        ],
        "responses": {"200": _json("One page of cases.", _ref("CasePage")), **_errors("401", "422", "429")},
    }},
    "/api/v1/cases/{reference}": {"get": {
        "operationId": "getCase", "tags": ["API"], "summary": "One case with its hash-chained timeline.",
        "parameters": [REFERENCE],
        "responses": {"200": _json("The case.", _object({"data": _ref("CaseWithEvents")})),
                      **_errors("401", "404", "429")},
    }},
    "/api/v1/cases/{reference}/events": {"post": {
        "operationId": "addEvent", "tags": ["API"],
        "summary": "Record the next step of a case: received, scheduled, decided, in_progress or done.",
        "description": "Allowed steps: forwarded → received → scheduled* → decided; approved → in_progress* → done; "
                       "deferred → scheduled or decided again; rejected and referred end the case at this body "
                       "(referred makes a new case at the other body).",
        "parameters": [REFERENCE, {
            "name": "Idempotency-Key", "in": "header", "required": True,
            "description": "A new unique key per request (e.g. a UUID); reuse it only to retry the same request.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("EventInput")}}},
        "responses": {
            "201": _json("The new event (or, for a retry, the stored answer of the first request).",
                         _object({"data": _ref("Event")}),
                         headers={"Idempotent-Replayed": {"description": "true when this is a stored answer.",
                                                          "schema": {"type": "string", "enum": ["true"]}}}),
            **_errors("400", "401", "404", "409", "413", "422", "429"),
        },
    }},
    "/open311/v2/discovery.{format}": {"get": {
        **PUBLIC, "operationId": "open311Discovery", "tags": ["Open311"], "summary": "Open311 service discovery.",
        "parameters": [FORMAT],
        "responses": {"200": _open311("The discovery document.", _ref("Open311Discovery")),
                      **_open311_errors("429")},
    }},
    "/open311/v2/services.{format}": {"get": {
        **PUBLIC, "operationId": "open311Services", "tags": ["Open311"],
        "summary": "The categories as Open311 services; service_code is <municipality code>.<category slug>.",
        "parameters": [FORMAT, JURISDICTION],
        "responses": {"200": _open311("The services.", {"type": "array", "items": _ref("Open311Service")}),
                      **_open311_errors("404", "429")},
    }},
    "/open311/v2/requests.{format}": {"get": {
        **PUBLIC, "operationId": "open311Requests", "tags": ["Open311"],
        "summary": "Cases as service requests, newest first, at most 1000.",
        "description": "Without dates: requested in the last 90 days. start_date and end_date may be at most "
                       "90 days apart; one alone spans 90 days from (or to) it. service_request_id overrides "
                       "the other filters.",
        "parameters": [
            FORMAT, JURISDICTION,
            _query("service_request_id", "Reference numbers, comma-separated."),
            _query("service_code", "Service codes, comma-separated."),
            _query("start_date", "Earliest requested_datetime.", TIMESTAMP),
            _query("end_date", "Latest requested_datetime.", TIMESTAMP),
            _query("status", "open, closed, or both comma-separated.",
                   {"type": "string", "pattern": "^(open|closed)(,(open|closed))?$"}),
        ],
        "responses": {"200": _open311("The service requests.", {"type": "array", "items": _ref("Open311Request")}),
                      **_open311_errors("400", "404", "429")},
    }},
    "/open311/v2/requests/{service_request_id}.{format}": {"get": {
        **PUBLIC, "operationId": "open311Request", "tags": ["Open311"],
        "summary": "One service request (a list of one, as the spec says).",
        "parameters": [{"name": "service_request_id", "in": "path", "required": True,
                        "description": "The case's reference number.", "schema": {"type": "string"}}, FORMAT],
        "responses": {"200": _open311("The service request.", {"type": "array", "items": _ref("Open311Request"),
                                                               "minItems": 1, "maxItems": 1}),
                      **_open311_errors("404", "429")},
    }},
}


def document() -> dict:
    """A fresh copy of the document (callers may change it)."""
    return copy.deepcopy({
        "openapi": "3.0.3",
        "info": {"title": "Assembly API", "version": VERSION, "description": DESCRIPTION,
                 "license": {"name": "AGPL-3.0-or-later"}},
        "servers": [{"url": "/"}],
        "tags": [{"name": "API", "description": "For bodies, with a token of the body."},
                 {"name": "Open311", "description": "GeoReport v2, public and read only."}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "An API token of your body."}},
                       "schemas": SCHEMAS},
        "paths": PATHS,
    })
