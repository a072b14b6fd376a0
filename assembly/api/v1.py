"""The JSON API for bodies (`/api/v1`): who am I, the body's cases with cursor pagination,
one case with its timeline, and idempotent outcome events. Documented in docs/api.md and by
the OpenAPI document served at /api/v1/openapi.json."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _

from assembly.api import auth, idempotency, openapi, queries, serialize
from assembly.api.errors import ApiError, invalid, register
from assembly.api.timestamps import parse_timestamp
from assembly.cases import services
from assembly.cases.models import ApiToken, Case, CaseStatus, Decision
from assembly.db import WRITE_INTENT, db
from assembly.extensions import limiter
from assembly.neighbourhoods.models import Body
from assembly.params import MAX_ID, parse_int
from assembly.text import clean_plain
from assembly.web import now

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
register(bp)
limiter.limit(lambda: current_app.config["RATELIMIT_API"], key_func=auth.rate_limit_key)(bp)

PUBLIC_ENDPOINTS = frozenset({"api_v1.openapi_document"})
REFERENCE_RE = re.compile(r"[A-Za-z0-9-]{1,60}")
DEFAULT_LIMIT, MAX_LIMIT = 50, 200

# Which fields each kind of event takes, and which of them it needs.
EVENT_FIELDS: dict[str, frozenset[str]] = {
    "received": frozenset({"note"}),
    "scheduled": frozenset({"note", "meeting_at", "agenda_number", "record_url"}),
    "decided": frozenset({"note", "decision", "refer_to"}),
    "in_progress": frozenset({"note", "progress"}),
    "done": frozenset({"note"}),
}
REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"meeting_at"}), "decided": frozenset({"decision"}), "in_progress": frozenset({"progress"}),
}
TEXT_LIMITS = {"note": 2000, "agenda_number": 40, "record_url": 500, "refer_to": 60}


@bp.before_request
def _authenticate() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        WRITE_INTENT.set(True)  # an authenticated request may write (the token's last use, to the minute)
        auth.authenticate()


@bp.after_request
def _not_cached(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")  # answers depend on the token
    return response


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return jsonify(openapi.document())


@bp.get("/body")
def who_am_i() -> Response:
    actor = auth.current_actor()
    token = db.session.get(ApiToken, actor.token_id)
    return jsonify({"data": serialize.body(db.session.get(Body, actor.api_body_id), token)})


@bp.get("/cases")
def list_cases() -> Response:
    actor = auth.current_actor()
    status, updated_since, after, limit = _list_parameters()
    cases, more = queries.cases_page(actor.api_body_id, status=status, updated_since=updated_since, after=after,
                                     limit=limit)
    categories = queries.categories_of(cases)
    return jsonify({"data": [serialize.case(case, categories, now()) for case in cases],
                    "next_cursor": encode_cursor(cases[-1]) if more else None})


@bp.get("/cases/<reference>")
def show_case(reference: str) -> Response:
    case = _case(reference)
    document = serialize.case(case, queries.categories_of([case]), now())
    document["events"] = [serialize.event(event) for event in services.events_of(case)]
    return jsonify({"data": document})


@bp.post("/cases/<reference>/events")
def add_event(reference: str) -> Response:
    actor = auth.current_actor()
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise ApiError(400, "idempotency_key_missing",
                       _("Send an Idempotency-Key header (for example a new UUID) with every write."))
    if not idempotency.valid_key(key):
        raise ApiError(400, "idempotency_key_invalid",
                       _("An Idempotency-Key has 1 to %(num)d visible ASCII characters.", num=idempotency.MAX_KEY_LENGTH))
    case = _case(reference)
    payload = _json_body()

    def record() -> tuple[int, dict]:
        kind, fields = _event_fields(payload, case)
        event = services.apply_event(actor, now(), case, kind, fields)
        return 201, {"data": serialize.event(event)}

    request_hash = idempotency.fingerprint("POST", f"/cases/{case.reference}/events", payload)
    answer = idempotency.once(actor.api_body_id, key, request_hash, now(), record)
    response = jsonify(answer.body)
    response.status_code = answer.status_code
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


# --- parameters ------------------------------------------------------------------------------------

def _case(reference: str) -> Case:
    actor = auth.current_actor()
    case = queries.case_at_body(actor.api_body_id, reference) if REFERENCE_RE.fullmatch(reference) else None
    if case is None:
        raise ApiError(404, "not_found", _("Your body has no case with this reference number."))
    return case


def _list_parameters() -> tuple[str | None, dt.datetime | None, tuple[dt.datetime, int] | None, int]:
    args, problems = request.args, {}
    status = args.get("status") or None
    if status is not None and status not in {s.value for s in CaseStatus}:
        problems["status"] = [_("Choose one of: %(choices)s.", choices=", ".join(s.value for s in CaseStatus))]
    updated_since = None
    if args.get("updated_since"):
        updated_since = parse_timestamp(args["updated_since"], assume_utc=True)
        if updated_since is None:
            problems["updated_since"] = [_("Give a date and time in ISO 8601, e.g. 2026-01-31T12:00:00Z.")]
    limit = DEFAULT_LIMIT
    if args.get("limit") is not None:
        limit = parse_int(args["limit"], 1, MAX_LIMIT)
        if limit is None:
            problems["limit"] = [_("Give a whole number from 1 to %(num)d.", num=MAX_LIMIT)]
    after = None
    if args.get("cursor"):
        after = decode_cursor(args["cursor"])
        if after is None:
            problems["cursor"] = [_("This cursor is not valid. Use the next_cursor of a previous answer.")]
    if problems:
        raise invalid(problems)
    return status, updated_since, after, limit


def encode_cursor(case: Case) -> str:
    """Opaque to clients: the (updated_at, id) position of the last case of a page."""
    position = json.dumps([serialize.timestamp(case.updated_at), case.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    if len(cursor) > 200 or not cursor.isascii():
        return None
    try:
        updated_at, case_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    when = parse_timestamp(updated_at, assume_utc=False) if isinstance(updated_at, str) else None
    if when is None or not isinstance(case_id, int) or isinstance(case_id, bool) or not 0 <= case_id <= MAX_ID:
        return None
    return when, case_id


def _reject_constant(name: str):
    raise ValueError(name)


def _json_body():
    try:
        return json.loads(request.get_data(cache=True), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", _("The request body is not valid JSON.")) from None


def _text(value, name: str, problems: dict) -> str | None:
    if not isinstance(value, str):
        problems[name] = [_("Give text here.")]
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        problems[name] = [_("This text contains characters that are not valid Unicode.")]
        return None
    cleaned = clean_plain(value)
    if len(cleaned) > TEXT_LIMITS[name]:
        problems[name] = [_("Give at most %(num)d characters.", num=TEXT_LIMITS[name])]
        return None
    return cleaned


def _event_fields(payload, case: Case) -> tuple[str, dict]:
    """Check the shape of an event request; the services then check the rules."""
    if not isinstance(payload, dict):
        raise invalid({"kind": [_("Send a JSON object with at least the field kind.")]})
    kind = payload.get("kind")
    if not isinstance(kind, str) or kind not in EVENT_FIELDS:
        raise invalid({"kind": [_("Choose one of: %(choices)s.", choices=", ".join(EVENT_FIELDS))]})
    problems: dict[str, list[str]] = {}
    for name in payload.keys() - EVENT_FIELDS[kind] - {"kind"}:
        problems[name] = [_("This field is not used for events of kind %(kind)s.", kind=kind)]
    for name in REQUIRED_FIELDS.get(kind, frozenset()):
        if payload.get(name) is None:
            problems[name] = [_("This field is required for events of kind %(kind)s.", kind=kind)]
    fields: dict = {}
    for name in EVENT_FIELDS[kind]:
        value = payload.get(name)
        if value is None or name in problems:
            continue
        if name == "meeting_at":
            fields[name] = parse_timestamp(value, assume_utc=False) if isinstance(value, str) else None
            if fields[name] is None:
                problems[name] = [_("Give a date and time with its UTC offset, e.g. 2026-12-01T18:00:00+03:00.")]
        elif name == "progress":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
                problems[name] = [_("Progress is a percentage between 0 and 100.")]
            fields[name] = value
        elif name == "decision":
            if not isinstance(value, str) or value not in {d.value for d in Decision}:
                problems[name] = [_("Choose one of: %(choices)s.", choices=", ".join(d.value for d in Decision))]
            fields[name] = value
        else:
            fields[name] = _text(value, name, problems)
    if fields.get("refer_to") is not None and fields.get("decision") != Decision.REFERRED.value:
        problems.setdefault("refer_to", [_("Name another body only when the decision is %(decision)s.",
                                           decision=Decision.REFERRED.value)])
    if fields.get("refer_to") is not None and "refer_to" not in problems:
        fields["refer_to"] = queries.body_by_slug(case.body.municipality_id, fields["refer_to"])
        if fields["refer_to"] is None:
            problems["refer_to"] = [_("There is no body with this slug in your municipality.")]
    if problems:
        raise invalid(problems)
    return kind, fields
