"""The request pipeline, wired by `create_app`: the one commit per request, security headers,
error pages and what every template may use."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from assembly import page_cache, permissions, submissions
from assembly.errors import NotAllowed, NotFound
from assembly.extensions import db
from assembly.params import InvalidParameter
from assembly.urls import absolute_url, external_url
from assembly.web import agenda_title, proposal_title

log = logging.getLogger(__name__)


def content_security_policy(tile_url: str | None) -> str:
    """No inline script or style; images may also come from the configured map tile server."""
    img = "'self' data:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
        img += f" {parts.scheme}://{host}"
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {img}; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def _commit_or_rollback(response):
    # One commit per request, here: an acknowledged write is a committed write.
    if response.status_code < 400:
        db.commit()
    else:
        db.rollback()
    return response


def _security_headers(response):
    # Each header unless the view set its own, in one pass over the response's headers (every
    # request pays for this: docs/benchmarks.md, the fixed cost of a request).
    headers = response.headers
    present = {key.lower() for key in headers.keys()}
    config = current_app.config
    for key, value in config["SECURITY_HEADERS"]:
        if key.lower() not in present:
            headers.add(key, value)
    # In production always (browsers heed it only over HTTPS); elsewhere on HTTPS requests only.
    hsts = config["HSTS_MAX_AGE"]
    if hsts and "strict-transport-security" not in present \
            and (config["ASSEMBLY_ENV"] == "production" or request.is_secure):
        headers.add("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
    if "cache-control" not in present and _logged_in_without_loading():
        headers.add("Cache-Control", "private, no-store")
    if "vary" in present:
        response.vary.update(("Accept-Language", "Cookie"))
    else:
        headers.add("Vary", "Accept-Language, Cookie")
    return response


def _logged_in_without_loading() -> bool:
    """Whether the request is a logged-in one, without loading the user only to find out:
    a user already loaded (or set by an API token), else a login in the session cookie."""
    user = g.get("_login_user")
    if user is not None:
        return bool(user.is_authenticated)
    return "_user_id" in session


def _error_page(error: HTTPException):
    db.rollback()
    for prefix, answer in current_app.extensions["unrouted_errors"].items():
        if request.path.startswith(prefix):  # no route matched: answer in that API's format
            return answer(error)
    code = error.code or 500
    template = code if code in (400, 403, 404, 405, 413, 429) else 500
    message = error.description if isinstance(error, InvalidParameter) else None
    return render_template(f"errors/{template}.html", error=error, message=message), code


def _csrf_error(_error: CSRFError):
    db.rollback()
    return render_template("errors/400.html", csrf_expired=True), 400


def _domain_not_allowed(_error):
    db.rollback()
    return render_template("errors/403.html"), 403


def _domain_not_found(_error):
    db.rollback()
    return render_template("errors/404.html"), 404


def _server_error(error: Exception):
    db.rollback()
    log.exception("unhandled error", exc_info=error)
    return render_template("errors/500.html"), 500


def _template_helpers() -> dict:
    # The user behind the proxy, found once: a page asks `can` a dozen times, and each question
    # through the proxy paid for several look-ups of the request's user.
    user = current_user._get_current_object()

    def can(action: str, obj: Any = None) -> bool:
        return permissions.can(user, action, obj)

    def form_token() -> str:
        page_cache.personal()  # a token of this page's own: never given to another visitor
        return submissions.new_token()

    return {"can": can, "page_errors": g.get("page_errors", []), "form_token": form_token}


def install(app: Flask) -> None:
    """Hooks run around every request, in this order: commit or roll back, then the headers."""
    app.config["CONTENT_SECURITY_POLICY"] = content_security_policy(app.config.get("MAP_TILE_URL"))
    app.config["SECURITY_HEADERS"] = (
        ("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"]),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    )
    app.after_request(_security_headers)
    app.after_request(_commit_or_rollback)  # registered last, so it runs first
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(NotAllowed, _domain_not_allowed)
    app.register_error_handler(NotFound, _domain_not_found)
    app.register_error_handler(Exception, _server_error)
    app.context_processor(_template_helpers)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["proposal_title"] = proposal_title  # a global: macros see it too
    app.jinja_env.globals["agenda_title"] = agenda_title
    app.jinja_env.globals["external_url"] = external_url
    app.jinja_env.globals["absolute_url"] = absolute_url
