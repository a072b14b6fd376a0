"""Open311 GeoReport v2, read only and public (`/open311/v2`): discovery, services (the
categories), requests (the cases) and one request, as JSON or XML by the address's suffix.

Mapping (also in docs/api.md): service_request_id = the case's reference number;
service_code = "<municipality code>.<category slug>" (e.g. KDK.lighting), so codes stay
unique and stable however many municipalities the site serves; status = open | closed
(closed: done, rejected, or referred to another body), with the detailed status in
status_notes; requested_datetime = forwarded_at; agency_responsible = the body's name.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import xml.etree.ElementTree as ET

from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from assembly.api import auth, schemas, serialize
from assembly.api.errors import ApiError, http_message
from assembly.api.timestamps import parse_timestamp
from assembly.cases import queries
from assembly.cases import services as cases
from assembly.cases import wording
from assembly.cases.models import OPEN_STATUSES, Case, CaseStatus
from assembly.db import db
from assembly.errors import DomainError, NotFound
from assembly.extensions import limiter
from assembly.i18n import format_date, format_percent, localized_name, ngettext
from assembly.neighbourhoods.models import Category
from assembly.urls import external_url, site_root
from assembly.web import now

log = logging.getLogger(__name__)

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
limiter.limit(lambda: current_app.config["RATELIMIT_API"], key_func=auth.rate_limit_key)(bp)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-24 00:00"  # when these endpoints last changed; bump with every change
MAX_REQUESTS = 1000
WINDOW = dt.timedelta(days=90)
FORMATS = "<any(json, xml):format>"
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# Lists in XML: the element of each item.
XML_ITEMS = {"services": "service", "service_requests": "request", "endpoints": "endpoint", "formats": "format",
             "errors": "error"}
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_REFERENCE = re.compile(r"[A-Za-z0-9-]{1,60}")
_SERVICE_CODE = re.compile(r"([A-Za-z0-9]{1,12})\.([a-z0-9-]{1,60})")


@bp.get(f"/discovery.{FORMATS}")
def discovery(format: str) -> Response:
    root = external_url("open311.discovery", format="json").rsplit("/", 1)[0]
    production = current_app.config["ASSEMBLY_ENV"] == "production"
    document = schemas.Open311Discovery(
        changeset=CHANGESET,
        contact=_("Questions about this data: ask the municipality that runs %(site)s.", site=site_root()),
        key_service=_("No key is needed: these endpoints only read public data."),
        endpoints=[schemas.Open311Endpoint(specification=SPECIFICATION, url=root, changeset=CHANGESET,
                                           type="production" if production else "test",
                                           formats=["text/xml", "application/json"])])
    return _respond(format, "discovery", document.dump())


@bp.get(f"/services.{FORMATS}")
def service_list(format: str) -> Response:
    categories = queries.services(_jurisdiction())
    return _respond(format, "services", [_service(category) for category in categories])


@bp.get(f"/requests.{FORMATS}")
def service_requests(format: str) -> Response:
    filters = _request_filters(_jurisdiction())
    return _respond(format, "service_requests", _service_requests(queries.service_requests(filters, MAX_REQUESTS)))


@bp.get(f"/requests/<service_request_id>.{FORMATS}")
def service_request(service_request_id: str, format: str) -> Response:
    filters = queries.RequestFilters(references=[service_request_id.strip().upper()],
                                     municipality_id=_jurisdiction())
    found = queries.service_requests(filters, 1) if _REFERENCE.fullmatch(service_request_id.strip()) else []
    if not found:
        raise ApiError(404, "not_found", _("There is no service request with this id."))
    return _respond(format, "service_requests", _service_requests(found))


# --- parameters ------------------------------------------------------------------------------------

def _jurisdiction() -> int | None:
    """Optional jurisdiction_id: a municipality's code. Unknown codes are a 404, as the spec says."""
    code = request.args.get("jurisdiction_id", "").strip()
    if not code:
        return None
    municipality = queries.municipality_by_code(code.upper()) if code.isascii() and len(code) <= 12 else None
    if municipality is None:
        raise ApiError(404, "jurisdiction_not_found", _("There is no jurisdiction with this id."))
    return municipality.id


def _comma_list(name: str) -> list[str]:
    return [item.strip() for item in request.args.get(name, "").split(",") if item.strip()]


def _date(name: str) -> dt.datetime | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    parsed = parse_timestamp(value, assume_utc=True)
    if parsed is None:
        raise ApiError(400, "invalid_date", _("%(name)s must be a date and time such as 2026-01-31T00:00:00Z.",
                                              name=name))
    return parsed


def _shifted(when: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    try:
        return when + delta
    except OverflowError:
        return (dt.datetime.max if delta > dt.timedelta(0) else dt.datetime.min).replace(tzinfo=dt.timezone.utc)


def _request_filters(municipality_id: int | None) -> queries.RequestFilters:
    """The spec's filters: service_request_id (overrides the others), service_code, start_date
    and end_date (at most 90 days apart; the last 90 days by default), status."""
    references = _comma_list("service_request_id")
    codes = _comma_list("service_code")
    statuses = {status.lower() for status in _comma_list("status")}
    if len(references) > MAX_REQUESTS or len(codes) > 100:
        raise ApiError(400, "too_many_values", ngettext("Ask for at most %(num)s id or 100 service codes at once.",
                                                        "Ask for at most %(num)s ids or 100 service codes at once.", MAX_REQUESTS))
    if statuses - {"open", "closed"}:
        raise ApiError(400, "invalid_status", _("status is open, closed, or both separated by a comma."))
    filters = queries.RequestFilters(municipality_id=municipality_id, statuses=statuses)
    if references:
        filters.references = [ref.upper() for ref in references if _REFERENCE.fullmatch(ref)] or ["-"]
        return filters
    start, end = _date("start_date"), _date("end_date")
    if start is None and end is None:
        end = now()
    if start is None:
        start = _shifted(end, -WINDOW)
    if end is None:
        end = _shifted(start, WINDOW)
    if end < start:
        raise ApiError(400, "invalid_date_range", _("end_date must not be before start_date."))
    if end - start > WINDOW:
        raise ApiError(400, "invalid_date_range", _("start_date and end_date may be at most 90 days apart."))
    filters.start, filters.end = start, end
    matched = [_SERVICE_CODE.fullmatch(code) for code in codes]
    filters.service_codes = [(m[1].upper(), m[2]) for m in matched if m] or ([("-", "-")] if codes else [])
    return filters


# --- documents -------------------------------------------------------------------------------------

def _service(category: Category) -> dict:
    name = localized_name(category.names, category.slug)
    return schemas.Open311Service(
        service_code=serialize.service_code(category),
        service_name=name,
        description=_("%(category)s: items forwarded by the neighbourhood assemblies of %(municipality)s.",
                      category=name, municipality=category.municipality.name),
        metadata=False,
        type="realtime",
        keywords=", ".join(sorted(set(category.names.values()))),
        group=category.municipality.name,
    ).dump()


def _service_requests(found: list[Case]) -> list[dict]:
    categories = queries.categories_of(found)
    notes = queries.last_notes(found)
    return [_service_request(case, categories[case.category_id], notes.get(case.id)) for case in found]


def _w3c(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _status_notes(case: Case, note: str | None) -> str:
    text = wording.status_label(case.status, case.decision, case.body.kind)
    if case.status == CaseStatus.IN_PROGRESS.value:
        text = f"{text} ({format_percent(case.progress)})"
    return f"{text} — {note}" if note else text


def _notice(case: Case) -> str | None:
    if case.status not in OPEN_STATUSES:
        return None
    zone = case.neighbourhood.municipality.timezone  # a sentence people read: the place's dates
    if case.status == CaseStatus.SCHEDULED.value and case.council_meeting_at:
        when, kind = format_date(case.council_meeting_at, zone=zone), case.body.kind
        if wording.family(kind) != wording.COUNCIL:
            step = wording.label(kind, "meeting_at")
            if case.agenda_number:
                return _("%(step)s: %(date)s (%(reference)s).", step=step, date=when,
                         reference=wording.label(kind, "agenda_item", num=case.agenda_number))
            return _("%(step)s: %(date)s.", step=step, date=when)
        if case.agenda_number:
            return _("On the agenda of the council meeting of %(date)s, item %(number)s.",
                     date=when, number=case.agenda_number)
        return _("On the agenda of the council meeting of %(date)s.", date=when)
    if cases.is_overdue(case, now()):
        return _("Overdue: the answer was due by %(date)s.", date=format_date(case.due_at, zone=zone))
    return _("The body answers by %(date)s.", date=format_date(case.due_at, zone=zone))


def _service_request(case: Case, category: Category, note: str | None) -> dict:
    return schemas.Open311Request(
        service_request_id=case.reference,
        status="closed" if queries.is_closed(case) else "open",
        status_notes=_status_notes(case, note),
        service_name=localized_name(category.names, category.slug),
        service_code=serialize.service_code(category),
        description=f"{case.title}\n\n{case.text}",
        agency_responsible=case.body.name,
        service_notice=_notice(case),
        requested_datetime=_w3c(case.forwarded_at),
        updated_datetime=_w3c(case.updated_at),
        expected_datetime=_w3c(case.due_at) if case.status in OPEN_STATUSES else None,
        address=case.address_text,
        lat=case.latitude,
        long=case.longitude,
    ).dump()


# --- formats ---------------------------------------------------------------------------------------

def _xml_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _xml_element(tag: str, value) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for name, item in value.items():
            if item is not None:
                element.append(_xml_element(name, item))
    elif isinstance(value, list):
        for item in value:
            element.append(_xml_element(XML_ITEMS[tag], item))
    else:
        element.text = _xml_text(value)
    return element


def _respond(format: str, root: str, document, status: int = 200) -> Response:
    if format == "xml":
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(_xml_element(root, document),
                                                                       encoding="unicode")
    else:
        body = json.dumps(document, ensure_ascii=False)
    response = Response(body.encode("utf-8"), status=status, content_type=MEDIA_TYPES[format])
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, read by browser apps too
    return response


# --- errors ----------------------------------------------------------------------------------------

def _error_format() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


def error_response(status: int, description: str) -> Response:
    """Errors as the spec gives them: [{"code": 404, "description": "…"}] or <errors><error>…"""
    db.rollback()
    errors = schemas.Open311Errors([schemas.Open311Error(code=status, description=description)])
    return _respond(_error_format(), "errors", errors.model_dump(mode="json"), status)


def http_error(error: HTTPException) -> Response:
    response = error_response(error.code or 500, http_message(error))
    response.headers.update({name: value for name, value in error.get_headers() if name.lower() != "content-type"})
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return error_response(error.status, error.message)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Response:
    return error_response(404 if isinstance(error, NotFound) else 400, error.message)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return http_error(error)


@bp.errorhandler(Exception)
def _unexpected_error(error: Exception) -> Response:
    log.exception("unhandled error in Open311", exc_info=error)
    return error_response(500, _("Something went wrong on our side. Please try again later."))
