"""API tokens: a body's staff create and revoke them; a request with one acts for the body."""
from __future__ import annotations

import datetime as dt
import secrets

from flask_babel import gettext as _
from sqlalchemy import select, update

from assembly import permissions
from assembly.actors import ApiActor
from assembly.audit.services import record
from assembly.cases.models import ApiToken
from assembly.db import db
from assembly.errors import NotFound, ValidationFailed
from assembly.i18n import ngettext
from assembly.neighbourhoods.models import Body
from assembly.tokens import hash_token

TOKEN_PREFIX = "asm_"


# --- API tokens -----------------------------------------------------------------------------


def create_token(actor, now: dt.datetime, body: Body, name: str) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and only its hash is kept."""
    permissions.require(actor, "act_for_body", body)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(ngettext("Give the token a name of at most %(num)s character.",
                                        "Give the token a name of at most %(num)s characters.", 100), "name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(body_id=body.id, name=name, prefix=secret[:12], token_hash=hash_token(secret),
                     created_by_id=getattr(actor, "id", None), created_at=now)
    db.session.add(token)
    db.session.flush()
    record(actor, "api_token.create", body, now, token=token.id, name=name)
    return token, secret


def revoke_token(actor, now: dt.datetime, body: Body, token_id: int) -> ApiToken:
    permissions.require(actor, "act_for_body", body)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.body_id != body.id:
        raise NotFound(_("There is no such token."))
    token.revoked_at = token.revoked_at or now
    db.session.flush()
    record(actor, "api_token.revoke", body, now, token=token.id)
    return token


def tokens_of(body: Body) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.body_id == body.id).order_by(ApiToken.id.desc())))


LAST_USE_PRECISION = dt.timedelta(minutes=1)


def actor_for_token(secret: str, now: dt.datetime) -> ApiActor | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret),
                                                     ApiToken.revoked_at.is_(None)))
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
        # Recorded to the minute: a busy integration does not write (and lock the token) on every call.
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return ApiActor(token)
