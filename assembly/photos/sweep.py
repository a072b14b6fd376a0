"""Removing photo files that no database row names.

`photos.files` deletes what a failed request wrote; a file can still be left behind when the
process died between writing and committing, when the store could not be reached to delete, or
by a restore of an older database next to newer files. Such a file is never served (only rows
are), but it takes space and may hold a picture someone meant to withdraw.

A file younger than the grace period is kept whatever the database says: it may belong to a
request that has written it and not yet committed.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from assembly.db import db
from assembly.photos.models import Photo
from assembly.photos.storage import PARTIAL

BATCH = 500
KEY_LENGTH = 32


@dataclass
class Swept:
    checked: int = 0
    removed: list[str] = field(default_factory=list)


def _batches(listing, cutoff: dt.datetime) -> Iterator[list[str]]:
    batch: list[str] = []
    for name, modified in listing:
        if modified > cutoff:
            continue
        batch.append(name)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def sweep(store, now: dt.datetime, grace: dt.timedelta, *, dry_run: bool = False) -> Swept:
    """Delete (or with `dry_run` only list) the store's files older than `grace` whose key no
    photo row holds, and unfinished local `.part` files as old."""
    result = Swept()
    for names in _batches(store.listing(), now - grace):  # a folder (a page of a bucket) is listed before its files go
        keys = {name[:KEY_LENGTH] for name in names}
        known = set(db.session.scalars(select(Photo.storage_key).where(Photo.storage_key.in_(keys))))
        result.checked += len(names)
        for name in names:
            if PARTIAL.match(name) or name[:KEY_LENGTH] not in known:
                if not dry_run:
                    store.delete(name)
                result.removed.append(name)
    return result
