"""The helpers views use: the request's clock, calling a service with a form, the policy check
that answers 403, the status of a re-shown form. The request pipeline itself (commit, headers,
error pages) is `assembly.pipeline`, put together by `create_app`."""
from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from assembly import permissions, submissions
from assembly.db import READS_UNLOCKED, WRITE_INTENT, utcnow
from assembly.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from assembly.extensions import db, login_manager

T = TypeVar("T")
log = logging.getLogger(__name__)

def now() -> dt.datetime:
    """The request's clock; services receive it as an argument."""
    if "now" not in g:
        g.now = utcnow()
    return g.now


def reads_first(view: Callable[..., T]) -> Callable[..., T]:
    """Mark a hot write view whose reads need not hold SQLite's write lock, nor run in one
    transaction: its writes check again everything they depend on (see `db.READS_UNLOCKED` and
    `Database.begin_writing`, called by `call_service`). Apply outermost, above login_required."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        WRITE_INTENT.set(False)
        READS_UNLOCKED.set(True)
        return view(*args, **kwargs)

    return wrapper


def identity_only(view: Callable[..., T]) -> Callable[..., T]:
    """Mark a hot view that needs to know only who is logged in (id, administrator, language,
    name), not the account: Flask-Login gives it an `accounts.services.Identity`, read as one
    Core row with the login session (the same check), instead of the ORM entity. Anything else
    read of it loads the account after all."""
    view.identity_only = True
    return view


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


def call_once(form: FlaskForm | None, run: Callable[[], T], url_of: Callable[[T], str]) -> tuple[T | None, str | None] | None:
    """`call_service` for a form that must be stored once (`assembly.submissions`): the form's
    one-time token is claimed with what it writes. Returns `(result, None)` the first time,
    `(None, url)` for a form sent again (answer with a redirect to `url`), None when refused."""
    token = request.form.get(submissions.TOKEN_FIELD)
    return call_service(form, submissions.once, current_user, now(), token, run, url_of)


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


def proposal_title(proposal) -> str:
    """A hidden proposal's title may be what was hidden: only its author and moderators see it."""
    if proposal.hidden_at is not None and not (permissions.can(current_user, "moderate", proposal)
                                               or proposal.author_id == getattr(current_user, "id", None)):
        return _("Proposal hidden by moderation")
    return proposal.title


def agenda_title(item) -> str:
    """An agenda item's title as this reader may see it: a proposal's (maybe hidden), or a consultation's."""
    return proposal_title(item.proposal) if item.proposal_id is not None else item.title


def require(action: str, obj: Any = None) -> None:
    """Abort with 403 unless the policy module allows the current user."""
    user = current_user._get_current_object()  # the user, not the proxy: the policy reads it several times
    if not permissions.can(user, action, obj):
        if not user.is_authenticated:
            abort(login_manager.unauthorized())
        abort(403)
