"""The OpenAPI 3.1 document of the JSON API and the Open311 endpoints, served at
/api/v1/openapi.json. Every schema in it is the JSON Schema of a pydantic model of
`api.schemas` — the models that validate requests and serialise answers — so the document
and the code cannot disagree; this module only adds the operations (paths, parameters,
status codes). A test validates the document and checks that it names every route.
"""
from __future__ import annotations

import copy
import functools

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from assembly.api import idempotency, schemas
from assembly.api import promise_schemas as promise
from assembly.cases import events
from assembly.params import MAX_ID

VERSION = "1.3.0"
REF = "#/components/schemas/{model}"

DESCRIPTION = """\
Read the cases forwarded to your body and record what happened to them; read forwarded
items publicly as Open311 GeoReport v2 service requests. The guide with examples is
docs/api.md in the source repository.

**Authentication** (`/api/v1`): `Authorization: Bearer <token>`. Staff create and revoke a
body's tokens on the body's staff page; a token is shown once and acts as staff of its body
only. The consultations, the Open311 endpoints and this document need no token.

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

# The models whose schemas are components, with the mode they are used in.
ANSWERS: tuple[type[BaseModel], ...] = (
    schemas.Error, schemas.BodyResponse, schemas.CasePage, schemas.CaseResponse, schemas.EventResponse,
    schemas.Open311Discovery, schemas.Open311Services, schemas.Open311Requests, schemas.Open311OneRequest,
    schemas.Open311Errors, schemas.ConsultationList, schemas.ConsultationResponse, schemas.SurveyList,
    schemas.SurveyResponse,
    promise.PromisePage, promise.PromiseResponse, promise.CommitmentResponse, promise.CommitmentEventResponse,
)
REQUESTS: tuple[type[BaseModel], ...] = (schemas.EventInput, promise.ProgressInput)


def _components() -> dict:
    _refs, top = models_json_schema([(model, "serialization") for model in ANSWERS]
                                    + [(model, "validation") for model in REQUESTS], ref_template=REF)
    return top["$defs"]


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _json(description: str, model: type[BaseModel], headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": _ref(model)}}}
    if headers:
        answer["headers"] = headers
    return answer


ERRORS = {
    "400": "Bad request: no or an invalid Idempotency-Key, or a body that is not JSON.",
    "401": "No token, or the token is not valid or revoked.",
    "404": "Your body has no case with this reference (other bodies' cases are never shown).",
    "409": "The case's status does not allow this event (code invalid_transition).",
    "413": "The request body is too large.",
    "422": "Invalid parameters or fields (code validation_failed, with fields), or an "
           "Idempotency-Key reused for a different request (code idempotency_key_reused).",
    "429": "Too many requests for this token (setting RATELIMIT_API).",
}


def _errors(*codes: str, **texts: str) -> dict:
    """Error answers; `texts` (e.g. e404="…") word a code for this operation."""
    return {code: _json(texts.get(f"e{code}", ERRORS.get(code, "")), schemas.Error) for code in codes}


def _open311(description: str, model: type[BaseModel]) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)},
                                                    "text/xml": {"schema": {"type": "string"}}}}


def _open311_errors(*codes: str) -> dict:
    texts = {"400": "Invalid filters.", "404": "Unknown jurisdiction_id or service request.",
             "429": "Too many requests from this address (setting RATELIMIT_API)."}
    return {code: _open311(texts[code], schemas.Open311Errors) for code in codes}


def _query(model: type[BaseModel]) -> list[dict]:
    """The query parameters of an operation: one per field of `model`, with its JSON Schema."""
    schema = model.model_json_schema(mode="validation")
    parameters = []
    for name, field in schema["properties"].items():
        field = {key: value for key, value in field.items() if key != "title"}
        description = field.pop("description", "")
        if "anyOf" in field:  # optional: a query parameter is absent rather than null
            field = {**next(option for option in field.pop("anyOf") if option.get("type") != "null"), **field}
            field.pop("default", None)
        parameters.append({"name": name, "in": "query", "required": name in schema.get("required", ()),
                           "description": description, "schema": field})
    return parameters


FORMAT = {"name": "format", "in": "path", "required": True, "description": "json or xml.",
          "schema": {"type": "string", "enum": ["json", "xml"]}}
REFERENCE = {"name": "reference", "in": "path", "required": True, "description": "The case's reference number.",
             "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,60}$"}}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": True,
    "description": "A new unique key per request (e.g. a UUID); reuse it only to retry the same request.",
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH, "pattern": "^[!-~]+$"}}
PUBLIC = {"security": []}
PROMISE_ID = {"name": "promise_id", "in": "path", "required": True, "description": "The promise's id.",
              "schema": {"type": "integer", "minimum": 1}}
COMMITMENT_ID = {"name": "commitment_id", "in": "path", "required": True, "description": "The commitment's id.",
                 "schema": {"type": "integer", "minimum": 1}}
NO_PROMISE = "No such promise or commitment (or it is another body's draft)."
PHOTO_TYPES = "image/jpeg, image/png, image/webp"
PROGRESS_WITH_PHOTOS = {
    "schema": {
        "type": "object", "required": ["data"], "additionalProperties": False,
        "properties": {
            "data": {"type": "string", "contentMediaType": "application/json",
                     "contentSchema": _ref(promise.ProgressInput),
                     "description": "The JSON object a JSON request sends as its body (a field or a file)."},
            "photo": {"type": "array", "items": {"type": "string", "format": "binary"},
                      "description": "Photos of the work (JPEG, PNG or WebP), in order: at most PHOTO_MAX_COUNT "
                                     "(4 by default), each at most PHOTO_MAX_BYTES (8 MB by default). They are "
                                     "re-encoded without location or camera data; one bad photo refuses the "
                                     "request (422, field photo) and nothing is recorded. The Idempotency-Key "
                                     "covers the JSON and the bytes of each photo."},
        },
    },
    "encoding": {"data": {"contentType": "application/json, text/plain"}, "photo": {"contentType": PHOTO_TYPES}},
}


def _promise_paths() -> dict:
    return {
        "/api/v1/promises": {"get": {
            "operationId": "listPromises", "tags": ["Promises"],
            "summary": "The promises and programmes your body gives (drafts too), ordered by id.",
            "parameters": _query(promise.PromiseListQuery),
            "responses": {"200": _json("One page of promises.", promise.PromisePage), **_errors("401", "422", "429")},
        }},
        "/api/v1/promises/{promise_id}": {"get": {
            "operationId": "getPromise", "tags": ["Promises"],
            "summary": "A published promise (or a draft of your body) with its commitments.",
            "parameters": [PROMISE_ID],
            "responses": {"200": _json("The promise.", promise.PromiseResponse),
                          **_errors("401", "404", "429", e404=NO_PROMISE)},
        }},
        "/api/v1/promises/{promise_id}/commitments/{commitment_id}": {"get": {
            "operationId": "getCommitment", "tags": ["Promises"],
            "summary": "One commitment with its hash-chained progress timeline.",
            "parameters": [PROMISE_ID, COMMITMENT_ID],
            "responses": {"200": _json("The commitment.", promise.CommitmentResponse),
                          **_errors("401", "404", "429", e404=NO_PROMISE)},
        }},
        "/api/v1/promises/{promise_id}/commitments/{commitment_id}/progress": {"post": {
            "operationId": "recordProgress", "tags": ["Promises"],
            "summary": "Record progress on a commitment your body is responsible for.",
            "description": "Only a responsible body of the commitment may record (403 otherwise), on a published "
                           "promise, while the commitment is not done; percent never goes down, 100 means done. "
                           "To attach photos, send multipart/form-data: the JSON object in the part data and "
                           "each photo in a part photo.",
            "parameters": [PROMISE_ID, COMMITMENT_ID, IDEMPOTENCY_KEY],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref(promise.ProgressInput)},
                                        "multipart/form-data": PROGRESS_WITH_PHOTOS}},
            "responses": {
                "201": _json("The new timeline event (or, for a retry, the stored answer of the first request).",
                             promise.CommitmentEventResponse,
                             headers={"Idempotent-Replayed": {"description": "true when this is a stored answer.",
                                                              "schema": {"type": "string", "enum": ["true"]}}}),
                **_errors("400", "401", "403", "404", "409", "413", "422", "429", e404=NO_PROMISE,
                          e403="Your body is not responsible for this commitment.",
                          e409="The promise is not published, or the commitment is done (code "
                               "invalid_transition)."),
            },
        }},
    }


def _paths() -> dict:
    steps = ", ".join(events.KINDS)
    return {
        "/api/v1/openapi.json": {"get": {
            **PUBLIC, "operationId": "openapi", "tags": ["API"], "summary": "This document.",
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
        "/api/v1/body": {"get": {
            "operationId": "getBody", "tags": ["API"], "summary": "The body the token belongs to (who am I).",
            "responses": {"200": _json("The body.", schemas.BodyResponse), **_errors("401", "429")},
        }},
        "/api/v1/cases": {"get": {
            "operationId": "listCases", "tags": ["API"], "summary": "The body's cases, ordered by (updated_at, id).",
            "parameters": _query(schemas.CaseListQuery),
            "responses": {"200": _json("One page of cases.", schemas.CasePage), **_errors("401", "422", "429")},
        }},
        "/api/v1/cases/{reference}": {"get": {
            "operationId": "getCase", "tags": ["API"], "summary": "One case with its hash-chained timeline.",
            "parameters": [REFERENCE],
            "responses": {"200": _json("The case.", schemas.CaseResponse), **_errors("401", "404", "429")},
        }},
        "/api/v1/cases/{reference}/events": {"post": {
            "operationId": "addEvent", "tags": ["API"],
            "summary": f"Record the next step of a case: {steps}.",
            "description": "Allowed steps: forwarded → received → scheduled* → decided; approved → in_progress* → "
                           "done; deferred → scheduled or decided again; rejected and referred end the case at "
                           "this body (referred makes a new case at the other body). Texts are counted after "
                           "surrounding spaces are removed.",
            "parameters": [REFERENCE, IDEMPOTENCY_KEY],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(schemas.EventInput)}}},
            "responses": {
                "201": _json("The new event (or, for a retry, the stored answer of the first request).",
                             schemas.EventResponse,
                             headers={"Idempotent-Replayed": {"description": "true when this is a stored answer.",
                                                              "schema": {"type": "string", "enum": ["true"]}}}),
                **_errors("400", "401", "404", "409", "413", "422", "429"),
            },
        }},
        "/api/v1/consultations": {"get": {
            **PUBLIC, "operationId": "listConsultations", "tags": ["Consultations"],
            "summary": "Drafts (budget lines, zoning changes) that bodies put to neighbourhoods, newest first.",
            "parameters": _query(schemas.ConsultationListQuery),
            "responses": {"200": _json("The consultations.", schemas.ConsultationList),
                          "422": _json("Invalid parameters (code validation_failed, with fields).", schemas.Error),
                          **_errors("429")},
        }},
        "/api/v1/consultations/{consultation_id}": {"get": {
            **PUBLIC, "operationId": "getConsultation", "tags": ["Consultations"],
            "summary": "One consultation with its documents, the neighbourhoods' answers with their vote "
                       "results, and the body's decision on each answer.",
            "parameters": [{"name": "consultation_id", "in": "path", "required": True,
                            "description": "The consultation's number.",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}],
            "responses": {"200": _json("The consultation.", schemas.ConsultationResponse),
                          "404": _json("There is no such consultation.", schemas.Error), **_errors("429")},
        }},
        "/api/v1/neighbourhoods/{slug}/surveys": {"get": {
            **PUBLIC, "operationId": "listSurveys", "tags": ["Surveys"],
            "summary": "The published surveys of a neighbourhood, newest closing first (at most 100).",
            "parameters": [{"name": "slug", "in": "path", "required": True, "description": "The neighbourhood's slug.",
                            "schema": {"type": "string", "pattern": "^[a-z0-9-]{1,60}$"}}],
            "responses": {"200": _json("The surveys.", schemas.SurveyList),
                          "404": _json("No neighbourhood with this slug.", schemas.Error), **_errors("429")},
        }},
        "/api/v1/surveys/{survey_id}": {"get": {
            **PUBLIC, "operationId": "getSurvey", "tags": ["Surveys"],
            "summary": "A published survey with its questions and, once counted, its aggregated results.",
            "description": "Counts and percentages per option, for everyone and per group (verified residents, "
                           "not verified, paper, neighbourhood); a group smaller than the server's "
                           "SURVEY_MIN_GROUP has only its size. Never a single questionnaire; free texts only "
                           "once a muhtar has published them.",
            "parameters": [{"name": "survey_id", "in": "path", "required": True, "description": "The survey's id.",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}],
            "responses": {"200": _json("The survey.", schemas.SurveyResponse),
                          "404": _json("No published survey with this id.", schemas.Error), **_errors("429")},
        }},
        "/open311/v2/discovery.{format}": {"get": {
            **PUBLIC, "operationId": "open311Discovery", "tags": ["Open311"], "summary": "Open311 service discovery.",
            "parameters": [FORMAT],
            "responses": {"200": _open311("The discovery document.", schemas.Open311Discovery),
                          **_open311_errors("429")},
        }},
        "/open311/v2/services.{format}": {"get": {
            **PUBLIC, "operationId": "open311Services", "tags": ["Open311"],
            "summary": "The categories as Open311 services; service_code is <municipality code>.<category slug>.",
            "parameters": [FORMAT, *_query(schemas.Open311Query)],
            "responses": {"200": _open311("The services.", schemas.Open311Services),
                          **_open311_errors("404", "429")},
        }},
        "/open311/v2/requests.{format}": {"get": {
            **PUBLIC, "operationId": "open311Requests", "tags": ["Open311"],
            "summary": "Cases as service requests, newest first, at most 1000.",
            "description": "Without dates: requested in the last 90 days. start_date and end_date may be at most "
                           "90 days apart; one alone spans 90 days from (or to) it. service_request_id overrides "
                           "the other filters.",
            "parameters": [FORMAT, *_query(schemas.Open311RequestsQuery)],
            "responses": {"200": _open311("The service requests.", schemas.Open311Requests),
                          **_open311_errors("400", "404", "429")},
        }},
        "/open311/v2/requests/{service_request_id}.{format}": {"get": {
            **PUBLIC, "operationId": "open311Request", "tags": ["Open311"],
            "summary": "One service request (a list of one, as the spec says).",
            "parameters": [{"name": "service_request_id", "in": "path", "required": True,
                            "description": "The case's reference number.", "schema": {"type": "string"}},
                           FORMAT, *_query(schemas.Open311Query)],
            "responses": {"200": _open311("The service request.", schemas.Open311OneRequest),
                          **_open311_errors("404", "429")},
        }},
        **_promise_paths(),
    }


@functools.cache
def _document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Assembly API", "version": VERSION, "description": DESCRIPTION,
                 "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}},
        "servers": [{"url": "/"}],
        "tags": [{"name": "API", "description": "For bodies, with a token of the body."},
                 {"name": "Consultations", "description": "Public and read only, no token."},
                 {"name": "Promises", "description": "Citizen promises and programmes, with a token of a body."},
                 {"name": "Open311", "description": "GeoReport v2, public and read only."},
                 {"name": "Surveys", "description": "Surveys and their aggregated results, public and read only."}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "An API token of your body."}},
                       "schemas": _components()},
        "paths": _paths(),
    }


def document() -> dict:
    """A fresh copy of the document (callers may change it)."""
    return copy.deepcopy(_document())
