"""Idempotent API writes: a request carrying an `Idempotency-Key` acts at most once per body.

The key is claimed by inserting its row *before* acting, in the same transaction as the
action, and the answer is stored in that row. The unique (body_id, key) constraint does the
rest: a simultaneous request with the same key waits on the uncommitted row and then fails
to insert, and answers with the stored response; if the first request failed, its
transaction (claim included) is rolled back and the key is free again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assembly.cases.models import IdempotentRequest
from assembly.db import db
from assembly.errors import DomainError

MAX_KEY_LENGTH = 200


class KeyReused(DomainError):
    """The key was already used for a request with other content."""


@dataclass
class Answer:
    status_code: int
    body: dict
    replayed: bool = False


def fingerprint(method: str, target: str, payload) -> str:
    """The request's identity: method, canonical target and canonical JSON body."""
    canonical = json.dumps([method, target, payload], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def valid_key(key: str | None) -> bool:
    """1 to 200 visible ASCII characters (a UUID is a good choice)."""
    return bool(key) and len(key) <= MAX_KEY_LENGTH and all("!" <= ch <= "~" for ch in key)


def _stored(body_id: int, key: str, request_hash: str) -> Answer | None:
    earlier = db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.body_id == body_id,
                                                                IdempotentRequest.key == key))
    if earlier is None:
        return None
    if earlier.request_hash != request_hash:
        raise KeyReused(_("This Idempotency-Key was already used for a different request. Use a new key "
                          "for every new request, and the same key only to retry the same request."))
    return Answer(earlier.status_code, earlier.response, replayed=True)


def once(body_id: int, key: str, request_hash: str, now: dt.datetime,
         action: Callable[[], tuple[int, dict]]) -> Answer:
    """Run `action` (returning status code and JSON body) unless this key was used before;
    then give the stored answer instead. Flushes, never commits."""
    earlier = _stored(body_id, key, request_hash)
    if earlier is not None:
        return earlier
    claim = IdempotentRequest(body_id=body_id, key=key, request_hash=request_hash, status_code=0, response={},
                              created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(claim)
    except IntegrityError:
        # A simultaneous request with this key has committed meanwhile: answer as it did.
        earlier = _stored(body_id, key, request_hash)
        if earlier is None:  # pragma: no cover - the conflicting row cannot vanish after a unique violation
            raise
        return earlier
    status_code, body = action()
    claim.status_code, claim.response = status_code, body
    db.session.flush()
    return Answer(status_code, body)
