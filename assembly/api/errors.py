"""Errors of the JSON API, always in one shape:

    {"error": {"code": "validation_failed", "message": "…", "fields": {"note": ["…"]}}}

`code` is stable for programs, `message` is for people (translated like every other text),
`fields` only appears on validation errors.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from assembly.api.idempotency import KeyReused
from assembly.db import db
from assembly.errors import (
    DomainError,
    InvalidTransition,
    NotAllowed,
    NotFound,
    ValidationFailed,
)
from assembly.params import InvalidParameter

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than success, raised by the API's request handling."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields
        self.headers = headers or {}


def invalid(fields: dict[str, list[str]]) -> ApiError:
    """A 422 naming the fields (or parameters) that are wrong."""
    first = next(message for messages in fields.values() for message in messages)
    return ApiError(422, "validation_failed", first, fields)


def error_response(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    error: dict = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    response = jsonify({"error": error})
    response.status_code = status
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def http_message(error: HTTPException) -> str:
    if isinstance(error, InvalidParameter):
        return error.description
    messages = {
        400: _("The request could not be understood."),
        401: _("Send an API token of your body: Authorization: Bearer <token>."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept the method %(method)s.", method=request.method),
        413: _("The request body is too large."),
        429: _("Too many requests. Wait a little and try again."),
    }
    return messages.get(error.code or 500, error.name)


def http_error(error: HTTPException) -> Response:
    db.rollback()
    code = (error.name or "error").lower().replace(" ", "_")
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    return error_response(error.code or 500, code, http_message(error), headers=headers)


def domain_error(error: DomainError) -> Response:
    db.rollback()
    if isinstance(error, NotFound):
        return error_response(404, "not_found", error.message)
    if isinstance(error, NotAllowed):
        return error_response(403, "forbidden", error.message)
    if isinstance(error, KeyReused):
        return error_response(422, "idempotency_key_reused", error.message)
    if isinstance(error, InvalidTransition):
        return error_response(409, "invalid_transition", error.message)
    if isinstance(error, ValidationFailed):
        fields = {name: list(messages) for name, messages in error.reasons.items() if name}
        return error_response(422, "validation_failed", error.message, fields or None)
    return error_response(409, "refused", error.message)


def api_error(error: ApiError) -> Response:
    db.rollback()
    return error_response(error.status, error.code, error.message, error.fields, error.headers)


def unexpected_error(error: Exception) -> Response:
    db.rollback()
    log.exception("unhandled error in the API", exc_info=error)
    return error_response(500, "internal_error", _("Something went wrong on our side. Please try again later."))


def register(bp: Blueprint) -> None:
    bp.register_error_handler(ApiError, api_error)
    bp.register_error_handler(DomainError, domain_error)
    bp.register_error_handler(HTTPException, http_error)
    bp.register_error_handler(Exception, unexpected_error)
