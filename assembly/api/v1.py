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

from assembly.api import auth, idempotency, openapi, schemas, serialize
from assembly.api.errors import ApiError, invalid, register
from assembly.api.timestamps import parse_timestamp
from assembly.cases import events, queries, services
from assembly.cases.models import ApiToken, Case, CaseStatus
from assembly.consultations import queries as consultation_queries
from assembly.db import WRITE_INTENT, db
from assembly.errors import NotFound
from assembly.extensions import limiter
from assembly.i18n import ngettext
from assembly.neighbourhoods.models import Body
from assembly.params import MAX_ID, parse_int
from sqlalchemy import select

from assembly.neighbourhoods.models import Neighbourhood
from assembly.surveys import results as survey_results
from assembly.surveys import services as survey_services
from assembly.surveys.models import Survey
from assembly.web import now

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
register(bp)
limiter.limit(lambda: current_app.config["RATELIMIT_API"], key_func=auth.rate_limit_key)(bp)

# Consultations and surveys are public: anyone may read them, as on the site.
PUBLIC_ENDPOINTS = frozenset({"api_v1.openapi_document", "api_v1.list_consultations", "api_v1.show_consultation",
                              "api_v1.list_surveys", "api_v1.show_survey"})
SLUG_RE = re.compile(r"[a-z0-9-]{1,60}")
REFERENCE_RE = re.compile(r"[A-Za-z0-9-]{1,60}")
DEFAULT_LIMIT, MAX_LIMIT = schemas.DEFAULT_LIMIT, schemas.MAX_LIMIT


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
    return jsonify(serialize.body(db.session.get(Body, actor.api_body_id), token))


@bp.get("/cases")
def list_cases() -> Response:
    actor = auth.current_actor()
    status, updated_since, after, limit = _list_parameters()
    cases, more = queries.cases_page(actor.api_body_id, status=status, updated_since=updated_since, after=after,
                                     limit=limit)
    categories = queries.categories_of(cases)
    return jsonify(serialize.case_page(cases, categories, now(), encode_cursor(cases[-1]) if more else None))


@bp.get("/cases/<reference>")
def show_case(reference: str) -> Response:
    case = _case(reference)
    return jsonify(serialize.case_with_events(case, queries.categories_of([case]), now(), queries.events_of(case)))


@bp.post("/cases/<reference>/events")
def add_event(reference: str) -> Response:
    actor = auth.current_actor()
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise ApiError(400, "idempotency_key_missing",
                       _("Send an Idempotency-Key header (for example a new UUID) with every write."))
    if not idempotency.valid_key(key):
        raise ApiError(400, "idempotency_key_invalid",
                       ngettext("An Idempotency-Key has 1 to %(num)s visible ASCII character.",
                                "An Idempotency-Key has 1 to %(num)s visible ASCII characters.", idempotency.MAX_KEY_LENGTH))
    case = _case(reference)
    payload = _json_body()

    def record() -> tuple[int, dict]:
        kind, fields = _event_fields(payload, case)
        event = services.apply_event(actor, now(), case, kind, fields)
        return 201, serialize.event(event)

    request_hash = idempotency.fingerprint("POST", f"/cases/{case.reference}/events", payload)
    answer = idempotency.once(actor.api_body_id, key, request_hash, now(), record)
    response = jsonify(answer.body)
    response.status_code = answer.status_code
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/consultations")
def list_consultations() -> Response:
    args, problems = request.args, {}
    texts = {}
    for name, longest in (("municipality", 12), ("neighbourhood_slug", 60)):
        value = args.get(name) or None
        if value is not None and len(value) > longest:
            problems[name] = [ngettext("At most %(num)s character.", "At most %(num)s characters.", longest)]
        elif value is not None and "\x00" in value:  # no code or slug has one; PostgreSQL refuses it in text
            problems[name] = [_("This value is not valid here.")]
        texts[name] = value
    limit = DEFAULT_LIMIT
    if args.get("limit") is not None:
        limit = parse_int(args["limit"], 1, MAX_LIMIT)
        if limit is None:
            problems["limit"] = [_("Give a whole number from 1 to %(num)d.", num=MAX_LIMIT)]
    if problems:
        raise invalid(problems)
    found = consultation_queries.listed(municipality_code=texts["municipality"],
                                        neighbourhood_slug=texts["neighbourhood_slug"], limit=limit)
    return jsonify(serialize.consultation_list(found, now()))


@bp.get("/consultations/<int:consultation_id>")
def show_consultation(consultation_id: int) -> Response:
    try:
        consultation = consultation_queries.get_consultation(consultation_id)
    except NotFound:
        raise ApiError(404, "not_found", _("There is no such consultation.")) from None
    return jsonify(serialize.consultation_with_answers(consultation, consultation_queries.answers(consultation),
                                                       now()))


# --- surveys: public, aggregated results only ----------------------------------------------------

@bp.get("/neighbourhoods/<slug>/surveys")
def list_surveys(slug: str) -> Response:
    hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == slug)) if SLUG_RE.fullmatch(slug) \
        else None
    if hood is None:
        raise ApiError(404, "not_found", _("There is no such neighbourhood."))
    shown = [s for s in survey_services.list_surveys(None, hood) if s.status != "draft"]
    return jsonify(serialize.survey_list(shown, hood.slug, now()))


@bp.get("/surveys/<int:survey_id>")
def show_survey(survey_id: int) -> Response:
    found = db.session.get(Survey, survey_id)
    if found is None or found.status == "draft":
        raise ApiError(404, "not_found", _("There is no such survey."))
    return jsonify(serialize.survey(found, survey_results.survey_results(found), now()))


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
    position = json.dumps([schemas.timestamp(case.updated_at), case.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    if len(cursor) > schemas.MAX_CURSOR_LENGTH or not cursor.isascii():
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


def _json_body(raw: bytes | str | None = None):
    """The request body (or `raw`, such as a multipart request's JSON part) as JSON, or a 400."""
    try:
        return json.loads(request.get_data(cache=True) if raw is None else raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", _("The request body is not valid JSON.")) from None


def _event_fields(payload, case: Case) -> tuple[str, dict]:
    """Check an event request against its kind's model (`api.schemas`, made from the declarations
    in `cases.events`) and the declaration's limits; the services then check the rules."""
    if not isinstance(payload, dict):
        raise invalid({"kind": [_("Send a JSON object with at least the field kind.")]})
    kind = events.KINDS.get(payload.get("kind")) if isinstance(payload.get("kind"), str) else None
    if kind is None:
        raise invalid({"kind": [_("Choose one of: %(choices)s.", choices=", ".join(events.KINDS))]})
    fields, problems = schemas.event_input(kind, payload)
    if problems:
        raise invalid(problems)
    if "refer_to" in fields:
        slug, message = events.REFER_TO.clean_text(fields["refer_to"])
        body = queries.body_by_slug(case.body.municipality_id, slug) if slug else None
        if body is None:
            raise invalid({"refer_to": [message or _("There is no body with this slug in your municipality.")]})
        fields["refer_to"] = body
    events.clean(kind.name, fields)  # the declaration's limits, before the case's state is looked at
    return kind.name, fields
