"""API authentication: `Authorization: Bearer <token>` → the body's ApiActor, or 401."""
from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from assembly.api.errors import ApiError
from assembly.actors import ApiActor
from assembly.cases.api_tokens import actor_for_token
from assembly.rate_limits import client_key, hashed_key
from assembly.web import now


def bearer_token() -> str | None:
    """The token of the Authorization header, or None when there is none."""
    scheme, _sep, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def authenticate() -> ApiActor:
    """The acting body of this request; kept in `g.api_actor`."""
    token = bearer_token()
    actor = actor_for_token(token, now()) if token else None
    if actor is None:
        message = (_("This API token is not valid or has been revoked.") if token else
                   _("Send an API token of your body: Authorization: Bearer <token>."))
        raise ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="assembly"'})
    g.api_actor = actor
    return actor


def current_actor() -> ApiActor:
    return g.api_actor


def rate_limit_key() -> str:
    """Count per token (without a database look-up), or per client address without one."""
    token = bearer_token()
    return hashed_key("api-token", token) if token else client_key()
