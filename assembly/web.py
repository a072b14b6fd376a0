"""Request plumbing shared by all blueprints: extensions, the one commit per request,
security headers, error pages and the helpers views use to call services."""
from __future__ import annotations

import datetime as dt
import functools
import logging
from urllib.parse import urlsplit
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from assembly import i18n, permissions
from assembly.db import WRITE_INTENT, utcnow
from assembly.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from assembly.extensions import babel, csrf, db, limiter, login_manager
from assembly.params import InvalidParameter
from assembly.urls import external_url

T = TypeVar("T")
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


def now() -> dt.datetime:
    """The request's clock; services receive it as an argument."""
    if "now" not in g:
        g.now = utcnow()
    return g.now


def reads_first(view: Callable[..., T]) -> Callable[..., T]:
    """Mark a hot write view whose many reads need not hold SQLite's write lock (see
    `Database.begin_writing`, called by `call_service`). Apply outermost, above login_required."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        WRITE_INTENT.set(False)
        return view(*args, **kwargs)

    return wrapper


def call_service(form: FlaskForm | None, service: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Run a service; on a domain error roll back and show the message on the form.

    Returns the service's result, or None when it refused (the form then carries
    the errors and keeps what the user typed).
    """
    db.begin_writing()
    try:
        return service(*args, **kwargs)
    except (NotAllowed, NotFound):
        db.rollback()
        raise
    except DomainError as error:
        db.rollback()
        _attach_errors(form, error)
        return None


def _attach_errors(form: FlaskForm | None, error: DomainError) -> None:
    reasons = error.reasons if isinstance(error, ValidationFailed) else {error.field: [error.message]}
    g.form_failed = True
    for field_name, messages in reasons.items():
        field = getattr(form, field_name, None) if (form is not None and field_name) else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            g.setdefault("page_errors", []).extend(messages)


def form_status() -> int:
    """HTTP status for a page that re-shows a form: 400 after a refused submission."""
    if g.get("form_failed") or (request.method == "POST"):
        return 400
    return 200


def _commit_or_rollback(response):
    # One commit per request, here: an acknowledged write is a committed write.
    if response.status_code < 400:
        db.commit()
    else:
        db.rollback()
    return response


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", current_app.config["CONTENT_SECURITY_POLICY"])
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if _logged_in_without_loading():
        response.headers.setdefault("Cache-Control", "private, no-store")
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
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
    def can(action: str, obj: Any = None) -> bool:
        return permissions.can(current_user, action, obj)

    return {"can": can, "page_errors": g.get("page_errors", [])}


def proposal_title(proposal) -> str:
    """A hidden proposal's title may be what was hidden: only its author and moderators see it."""
    if proposal.hidden_at is not None and not (permissions.can(current_user, "moderate", proposal)
                                               or proposal.author_id == getattr(current_user, "id", None)):
        return _("Proposal hidden by moderation")
    return proposal.title


def require(action: str, obj: Any = None) -> None:
    """Abort with 403 unless the policy module allows the current user."""
    if not permissions.can(current_user, action, obj):
        if not current_user.is_authenticated:
            abort(login_manager.unauthorized())
        abort(403)


def init_app(app: Flask) -> None:
    app.config["CONTENT_SECURITY_POLICY"] = content_security_policy(app.config.get("MAP_TILE_URL"))
    db.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    i18n.init_app(app)

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
    app.jinja_env.globals["external_url"] = external_url
