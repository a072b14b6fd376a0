"""Photo files written and deleted in step with the database transaction.

A photo's files are written to the store before its row is flushed (`services.attach`), so that
no committed row ever names a file that was not written. Should the transaction then not commit
— a later step of the request refused, a constraint failed at commit, the session was closed —
the files it wrote are deleted again here: no file outlives the rows that would have named it.
Likewise a photo removed by its uploader loses its files only once the removal is committed, so
a removal that rolls back leaves the row with its files.

The bookkeeping lives in `session.info` and is driven by the session's events: `after_commit`
(the outermost transaction committed), `after_soft_rollback` of a SAVEPOINT (what was written
inside it), and `after_transaction_end` of the outermost transaction without a commit (rollback
or close). What a crash leaves behind (the process killed between writing and committing) is
found by `flask photos sweep` (`photos.sweep`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_WRITTEN = "assembly_photo_files_written"  # files to delete unless the transaction commits
_DOOMED = "assembly_photo_files_doomed"    # files to delete once the transaction commits


@dataclass(frozen=True)
class _Entry:
    store: Any
    name: str
    transaction: SessionTransaction | None  # the innermost transaction it was written in


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def put(session: Session, store, name: str, data: bytes) -> None:
    """Write a file that belongs to rows of this session's transaction."""
    entry = _Entry(store, name, _innermost(session))
    session.info.setdefault(_WRITTEN, []).append(entry)  # before writing: a failed write may leave a part
    store.put(name, data)


def delete_after_commit(session: Session, store, name: str) -> None:
    """Delete a file once the transaction that dropped its row has committed."""
    session.info.setdefault(_DOOMED, []).append(_Entry(store, name, _innermost(session)))


def pending(session: Session) -> tuple[list[str], list[str]]:
    """(written, to delete) names of this session's transaction: for tests and debugging."""
    return ([e.name for e in session.info.get(_WRITTEN, [])], [e.name for e in session.info.get(_DOOMED, [])])


def _delete(entries: list[_Entry]) -> None:
    for entry in entries:
        try:
            entry.store.delete(entry.name)
        except Exception:  # noqa: BLE001 - a store that cannot be reached now: `flask photos sweep` later
            log.warning("could not delete photo file %s; `flask photos sweep` will", entry.name, exc_info=True)


def _within(entry: _Entry, transaction: SessionTransaction) -> bool:
    current = entry.transaction
    while current is not None:
        if current is transaction:
            return True
        current = current.parent
    return False


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    _delete(session.info.pop(_DOOMED, []))


@event.listens_for(Session, "after_soft_rollback")
def _savepoint_rolled_back(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        return  # the outermost transaction: `_ended` has handled it
    for key, delete_files in ((_WRITTEN, True), (_DOOMED, False)):
        entries = session.info.get(key)
        if not entries:
            continue
        undone = [entry for entry in entries if _within(entry, previous)]
        session.info[key] = [entry for entry in entries if not _within(entry, previous)]
        if delete_files:
            _delete(undone)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    # The outermost transaction ended; after a commit `_committed` has emptied both lists.
    session.info.pop(_DOOMED, None)
    _delete(session.info.pop(_WRITTEN, []))
