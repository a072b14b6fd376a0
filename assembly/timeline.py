"""Hash-chained, append-only timelines: the mechanism shared by case timelines
(`cases.services`) and commitment progress (`promises.services`).

An owner row (a case, a commitment) keeps an `event_count`; each event row keeps its `seq`
(1, 2, …; unique per owner), the SHA-256 of the previous event (`prev_hash`, the genesis hash for
the first) and of its own canonical content (`hash`). A later edit, deletion or reordering of an
event breaks the chain at that event, which `verify_chain` finds.

Appending claims the next number with a conditional update of the owner's counter
(`claim_seq`), so two simultaneous writers to one owner cannot both append the same number: one
fails cleanly instead of forking the chain.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from assembly.db import db, in_batches

GENESIS = "0" * 64


def canonical(content: dict) -> bytes:
    """The canonical bytes of an event's content: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(content: dict) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def claim_seq(owner, **values: Any) -> int | None:
    """The owner's next sequence number, claimed by `UPDATE … SET event_count = event_count + 1
    WHERE event_count = <the count read>` (with `values` set in the same statement); None when
    another writer appended in the meantime."""
    model = type(owner)
    seq = db.session.execute(
        update(model).where(model.id == owner.id, model.event_count == owner.event_count)
        .values(event_count=model.event_count + 1, **values)
        .returning(model.event_count).execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if seq is not None:
        set_committed_value(owner, "event_count", seq)
    return seq


def previous_hash(event_model, owner_column, owner_id: int, seq: int) -> str:
    """The hash the event number `seq` of an owner chains to."""
    if seq == 1:
        return GENESIS
    return db.session.scalar(select(event_model.hash).where(owner_column == owner_id, event_model.seq == seq - 1))


def verify_chain(events: list, expected_count: int, hash_of: Callable[[Any], str]):
    """The first event that does not match the chain (an edited, deleted or reordered event),
    or the missing sequence number, or None when the chain is intact."""
    previous = GENESIS
    for expected, event in enumerate(events, start=1):
        if event.seq != expected:
            return expected
        if event.prev_hash != previous or hash_of(event) != event.hash:
            return event
        previous = event.hash
    if len(events) != expected_count:
        return len(events) + 1
    return None


def verify_all(owner_model, event_model, owner_column, hash_of: Callable[[Any, Any], str],
               batch: int = 500) -> Iterator[tuple[Any, Any]]:
    """Yield (owner, problem) for every owner whose chain is broken, reading `batch` owners and
    their events at a time. `hash_of(event, owner)` recomputes an event's hash."""
    for owners in in_batches(owner_model, batch):
        by_owner: dict[int, list] = {owner.id: [] for owner in owners}
        for event in db.session.scalars(select(event_model).where(owner_column.in_(by_owner))
                                        .order_by(owner_column, event_model.seq)):
            by_owner[getattr(event, owner_column.key)].append(event)
        for owner in owners:
            problem = verify_chain(by_owner[owner.id], owner.event_count,
                                   lambda event, owner=owner: hash_of(event, owner))
            if problem is not None:
                yield owner, problem
