"""The promises part of the JSON API (`/api/v1/promises…`), on the `api.v1` blueprint: promises and
programmes with their commitments, a commitment's hash-chained timeline, and idempotent progress
recorded by a responsible body. Registered by `create_app` (documented in docs/api.md and the
OpenAPI document)."""
from __future__ import annotations

import hashlib

from flask import Response, current_app, jsonify, request
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select

from assembly import permissions
from assembly.api import auth, idempotency
from assembly.api import promise_schemas as schemas
from assembly.api.errors import ApiError, invalid
from assembly.api.v1 import _json_body, bp
from assembly.db import db
from assembly.errors import NotFound, ValidationFailed
from assembly.i18n import ngettext
from assembly.params import MAX_ID, parse_int
from assembly.photos import services as photos
from assembly.photos import web as photo_web
from assembly.promises import photos as progress_photos
from assembly.promises import queries, services, survey_indicator
from assembly.promises.models import Commitment, CommitmentEvent, Promise, PromiseBody
from assembly.urls import external_url
from assembly.web import now

PHOTO_PART, DATA_PART = "photo", "data"  # the parts of a multipart progress request
photo_web.accepts_photos("api_v1.record_progress")  # a multipart request may carry PHOTO_MAX_COUNT photos


def _promise(promise_id: int) -> Promise:
    try:
        promise = queries.get_promise(promise_id)
    except NotFound:
        promise = None
    if promise is None or not permissions.can(auth.current_actor(), "view_promise", promise):
        raise ApiError(404, "not_found", _("There is no such promise (or it is another body's draft)."))
    return promise


def _commitment(promise: Promise, commitment_id: int) -> Commitment:
    found = next((c for c in promise.commitments if c.id == commitment_id), None)
    if found is None:
        raise ApiError(404, "not_found", _("This promise has no such commitment."))
    return found


def _summary_fields(promise: Promise) -> dict:
    return {"id": promise.id, "url": external_url("promises.show", promise_id=promise.id), "kind": promise.kind,
            "status": promise.status, "locale": promise.locale, "title": promise.title,
            "period_start": promise.period_start, "period_end": promise.period_end,
            "published_at": promise.published_at, "updated_at": promise.updated_at}


def _origin(question) -> schemas.MeetingOrigin | None:
    if question is None:
        return None
    return schemas.MeetingOrigin(meeting_id=question.meeting_id, question_id=question.id,
                                 url=external_url("meetings.show", meeting_id=question.meeting_id,
                                                  _anchor=f"question-{question.id}"))


def _commitment_fields(promise: Promise, commitment: Commitment, origins: dict) -> dict:
    today = services.local_today(promise, now())
    state = queries.state_of(commitment, today)
    return {
        "id": commitment.id, "url": external_url("promises.show", promise_id=promise.id, _anchor=f"c{commitment.id}"),
        "position": commitment.position, "title": commitment.title, "description": commitment.description,
        "responsible": [row.body.slug for row in commitment.responsible], "indicator": commitment.indicator_kind,
        "indicator_label": commitment.indicator_label, "survey_question_id": commitment.survey_question_id,
        "survey_option": commitment.survey_option, "baseline": commitment.baseline, "target": commitment.target,
        "current_value": _current(promise, commitment),
        "progress": commitment.progress, "state": state, "overdue": state == "overdue", "due_on": commitment.due_on,
        "budget": commitment.budget, "currency": commitment.currency, "done_at": commitment.done_at,
        "updated_at": commitment.updated_at, "event_count": commitment.event_count,
        "made_at_meeting": _origin(origins.get(commitment.id)),
    }


def _current(promise: Promise, commitment: Commitment) -> float | None:
    if commitment.survey_question_id is None:
        return commitment.current_value
    found = survey_indicator.points(promise.neighbourhood_ids, commitment.survey_question_id,
                                    commitment.survey_option, promise.municipality.timezone)
    return found[-1][1] if found else commitment.baseline


def _event(event: CommitmentEvent, slugs: dict[int, str]) -> schemas.CommitmentEvent:
    return schemas.CommitmentEvent(seq=event.seq, kind=event.kind, body=slugs.get(event.body_id),
                                   actor=event.actor_name, note=event.note, data=event.data,
                                   created_at=event.created_at, prev_hash=event.prev_hash, hash=event.hash)


def _slugs(promise: Promise) -> dict[int, str]:
    return {s.body_id: s.body.slug for s in promise.signatories}


@bp.get("/promises")
def list_promises() -> Response:
    """The promises the token's body gives (drafts included), by id."""
    actor = auth.current_actor()
    problems, limit, after = {}, schemas.DEFAULT_LIMIT, 0
    if request.args.get("limit") is not None:
        limit = parse_int(request.args["limit"], 1, schemas.MAX_LIMIT)
        if limit is None:
            problems["limit"] = [_("Give a whole number from 1 to %(num)d.", num=schemas.MAX_LIMIT)]
    if request.args.get("after_id") is not None:
        after = parse_int(request.args["after_id"], 0, MAX_ID)
        if after is None:
            problems["after_id"] = [_("Give the next_after_id of the previous page.")]
    if problems:
        raise invalid(problems)
    found = list(db.session.scalars(
        select(Promise).where(Promise.id > after, Promise.id.in_(
            select(PromiseBody.promise_id).where(PromiseBody.body_id == actor.api_body_id)))
        .order_by(Promise.id).limit(limit + 1)))
    more = len(found) > limit
    found = found[:limit]
    return jsonify(schemas.PromisePage(data=[schemas.PromiseSummary(**_summary_fields(p)) for p in found],
                                       next_after_id=found[-1].id if more else None).dump())


@bp.get("/promises/<int:promise_id>")
def show_promise(promise_id: int) -> Response:
    promise = _promise(promise_id)
    origins = queries.meeting_origins(promise)
    return jsonify(schemas.PromiseResponse(data=schemas.Promise(
        **_summary_fields(promise), summary=promise.summary,
        booklet_pdf=external_url("promises.booklet_pdf", promise_id=promise.id),
        report_dates=services.report_dates(promise),
        bodies=[schemas.PromiseBody(slug=s.body.slug, name=s.body.name, signed_at=s.signed_at)
                for s in promise.signatories],
        neighbourhoods=[schemas.PromiseNeighbourhood(slug=p.neighbourhood.slug,
                                                     name=p.neighbourhood.name_in(promise.locale),
                                                     cosigned_at=p.cosigned_at) for p in promise.places],
        proposals=[p.id for p in queries.proposals_of(promise)],
        surveys=[s.id for s in queries.surveys_of(promise)],
        commitments=[schemas.Commitment(**_commitment_fields(promise, c, origins)) for c in promise.commitments])).dump())


@bp.get("/promises/<int:promise_id>/commitments/<int:commitment_id>")
def show_commitment(promise_id: int, commitment_id: int) -> Response:
    promise = _promise(promise_id)
    commitment = _commitment(promise, commitment_id)
    slugs = _slugs(promise)
    return jsonify(schemas.CommitmentResponse(data=schemas.CommitmentWithEvents(
        **_commitment_fields(promise, commitment, queries.meeting_origins(promise)),
        events=[_event(e, slugs) for e in queries.events_of(commitment)])).dump())


@bp.post("/promises/<int:promise_id>/commitments/<int:commitment_id>/progress")
def record_progress(promise_id: int, commitment_id: int) -> Response:
    actor = auth.current_actor()
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise ApiError(400, "idempotency_key_missing",
                       _("Send an Idempotency-Key header (for example a new UUID) with every write."))
    if not idempotency.valid_key(key):
        raise ApiError(400, "idempotency_key_invalid",
                       ngettext("An Idempotency-Key has 1 to %(num)s visible ASCII character.",
                                "An Idempotency-Key has 1 to %(num)s visible ASCII characters.", idempotency.MAX_KEY_LENGTH))
    promise = _promise(promise_id)
    commitment = _commitment(promise, commitment_id)
    payload, uploads = _multipart() if request.mimetype == "multipart/form-data" else (_json_body(), [])
    if not isinstance(payload, dict):
        raise invalid({"percent": [_("Send a JSON object with at least the field percent.")]})
    try:
        given = schemas.ProgressInput.model_validate(payload)
    except ValidationError as error:
        problems: dict[str, list[str]] = {}
        for item in error.errors():
            name = str(item["loc"][0]) if item["loc"] else "percent"
            problems.setdefault(name, []).append(_("This value is not valid here."))
        raise invalid(problems) from None

    def act() -> tuple[int, dict]:
        progress = {"percent": given.percent, "value": given.value, "note": given.note, "evidence": given.evidence}
        if uploads:
            permissions.require(actor, "record_progress", commitment)  # before the photos are re-encoded
            try:
                event = progress_photos.record_with_photos(actor, now(), commitment, uploads=uploads, **progress)
            except ValidationFailed as error:  # the photos' messages, on the API's name of the part
                if photos.FIELD not in error.reasons:
                    raise
                raise invalid({PHOTO_PART if name == photos.FIELD else name: list(messages)
                               for name, messages in error.reasons.items() if name}) from None
        else:
            event = services.record_progress(actor, now(), commitment, **progress)
        return 201, schemas.CommitmentEventResponse(data=_event(event, _slugs(promise))).dump()

    # With photos, the request is the JSON object and the SHA-256 of each photo's bytes, in order (a
    # list: never the identity of a JSON request, whose body must be an object); without, as JSON.
    content = [payload, [None if upload.data is None else hashlib.sha256(upload.data).hexdigest()
                         for upload in uploads]] if uploads else payload
    request_hash = idempotency.fingerprint("POST", f"/promises/{promise.id}/commitments/{commitment.id}/progress",
                                           content)
    answer = idempotency.once(actor.api_body_id, key, request_hash, now(), act)
    response = jsonify(answer.body)
    response.status_code = answer.status_code
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _multipart() -> tuple[object, list[photos.Upload]]:
    """A multipart progress request: its `data` part (the JSON object a JSON request sends as its
    body, as a field or a file) and its `photo` files, read as the web form reads them (at most
    PHOTO_MAX_BYTES + 1 bytes of each). Any other part is refused, so that a misspelt one (`photos`)
    does not go unnoticed."""
    unknown = sorted((set(request.form) | set(request.files)) - {DATA_PART, PHOTO_PART})
    if unknown:
        raise invalid({name: [_("This value is not valid here.")] for name in unknown})
    limit = current_app.config["MAX_CONTENT_LENGTH"]  # what a JSON body may be
    data = request.form.getlist(DATA_PART) + [file.stream.read(limit + 1)
                                              for file in request.files.getlist(DATA_PART)]
    if len(data) != 1:
        raise invalid({DATA_PART: [_("Send a JSON object with at least the field percent.")]})
    if len(data[0]) > limit:
        raise ApiError(413, "request_entity_too_large", _("The request body is too large."))
    max_bytes = current_app.config["PHOTO_MAX_BYTES"]
    uploads = photos.read_uploads(request.files.getlist(PHOTO_PART), max_bytes)
    for text in request.form.getlist(PHOTO_PART):  # a field, not a file: checked (and refused) like one
        raw = text.encode("utf-8", "surrogatepass")
        uploads.append(photos.Upload(_("(unnamed file)"), raw if len(raw) <= max_bytes else None))
    return _json_body(data[0]), uploads
