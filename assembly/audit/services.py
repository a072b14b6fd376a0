"""Recording and reading the audit log."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from assembly.audit.models import AuditEvent
from assembly.db import db


def record(actor, action: str, obj: Any, now: dt.datetime, *, neighbourhood_id: int | None = None,
           **detail: Any) -> AuditEvent:
    """Add an audit event for a privileged action; flushed with the action itself."""
    if neighbourhood_id is None:
        neighbourhood_id = getattr(obj, "neighbourhood_id", None)
        if neighbourhood_id is None and type(obj).__name__ == "Neighbourhood":
            neighbourhood_id = obj.id
    event = AuditEvent(
        created_at=now,
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        neighbourhood_id=neighbourhood_id,
        detail={key: value for key, value in detail.items() if value is not None},
    )
    db.session.add(event)
    db.session.flush()
    return event


def list_events(*, before_id: int | None = None, action: str | None = None, limit: int = 50):
    """Newest first, keyset-paginated by id so the cost does not grow with the log."""
    query = select(AuditEvent).options(joinedload(AuditEvent.actor)).order_by(AuditEvent.id.desc())
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query.limit(limit)))


def known_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
