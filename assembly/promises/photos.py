"""Steps of a commitment's progress as owners of photos (`photos.owners`): the staff of the
responsible body attach photos when they record a step — the street before the work, the new
lamps after it. The muhtars of the promise's neighbourhoods may hide one with a public reason.

The step is on a hash-chained timeline (`assembly.timeline`), and so are its photos: the step's
hashed content lists each photo's fingerprint (SHA-256 of the stored photo and of its thumbnail,
in order), written before the step's hash is computed. A photo can therefore be hidden — the
step and its fingerprints stay as they were, so the chain holds — but never removed or swapped:
`check_photos` (run by `flask promises verify`) reads every such file back and compares."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import func, select

from assembly.db import db, in_batches
from assembly.photos import processing
from assembly.photos import services as photos
from assembly.photos import web as photo_web
from assembly.photos.models import Photo
from assembly.promises import services
from assembly.promises.models import Commitment, CommitmentEvent

KIND = "progress"

photos.register_owner(photos.Owner(
    kind=KIND, load=lambda owner_id: db.session.get(CommitmentEvent, owner_id),
    attach_action="attach_progress_photo", view_action="view_progress_photos", hide_action="hide_progress_photo",
    neighbourhood_id=lambda event: min(event.commitment.promise.neighbourhood_ids),
    url=lambda event: f"/promises/{event.commitment.promise_id}", removable=False))
photo_web.accepts_photos("promises.progress")


def record_with_photos(actor, now: dt.datetime, commitment: Commitment, *, uploads: list[photos.Upload],
                       **progress) -> CommitmentEvent:
    """A progress step and its photos, all or nothing: the photos are checked and re-encoded first,
    their fingerprints go into the step's hashed content, then they are attached to the step."""
    encoded = photos.prepare(uploads)
    event = services.record_progress(actor, now, commitment, photos=[item.fingerprint for item in encoded],
                                     **progress)
    photos.attach(actor, now, KIND, event, encoded)
    return event


def photos_of(event_ids) -> dict[int, list]:
    """The photos of a page's progress steps, in one statement."""
    return photos.photos_of(KIND, event_ids)


def _compare(event: CommitmentEvent, attached: list) -> Iterator[str]:
    recorded = event.data.get("photos") or []
    by_position = {photo.position: photo for photo in attached}
    for position, fingerprint in enumerate(recorded):
        photo = by_position.pop(position, None)
        if photo is None:
            yield f"photo {position + 1} is missing"
            continue
        for part, thumb in (("photo", False), ("thumb", True)):
            data = photos.file_of(photo, thumb)
            label = f"photo {position + 1} (id {photo.id}){' thumbnail' if thumb else ''}"
            if data is None:
                yield f"{label}: the file is missing"
            elif processing.digest(data) != fingerprint.get(part):
                yield f"{label} does not match the fingerprint in its step"
    for photo in by_position.values():
        yield f"photo id {photo.id} is not in the step's fingerprints"


def check_photos(batch: int = 500) -> Iterator[tuple[CommitmentEvent, str]]:
    """Yield (step, problem) for every progress photo that is missing, swapped (its file no longer
    matches the fingerprint in its hash-chained step) or attached afterwards, reading `batch` steps
    and their photos at a time. The files are read from the store (with S3: downloaded)."""
    for events in in_batches(CommitmentEvent, batch):
        attached = photos_of([event.id for event in events])
        for event in events:
            for problem in _compare(event, attached[event.id]):
                yield event, problem


def count() -> int:
    """How many progress photos there are (for the command's summary)."""
    return db.session.scalar(select(func.count()).select_from(Photo).where(Photo.owner_kind == KIND)) or 0


# --- the booklet ------------------------------------------------------------------------------------

BOOKLET_PHOTOS_PER_COMMITMENT = 4  # the booklet is paper: a few photos of the latest work, not the album
BOOKLET_PHOTOS_IN_ALL = 24  # about two pages of thumbnails, whatever the size of the programme


def for_booklet(timelines: list[tuple[int, list[CommitmentEvent]]]) -> tuple[dict[int, list[tuple]], bool]:
    """The photos the printed booklet shows, by commitment id, as (step, photo) pairs: only public
    ones (a hidden photo is never printed, whoever prints: paper is handed on), the newest step's
    first, at most BOOKLET_PHOTOS_PER_COMMITMENT per commitment and BOOKLET_PHOTOS_IN_ALL in all,
    taken in the order of `timelines` ((commitment id, its steps oldest first) in the booklet's
    order). All the steps' photos are read in one statement. The second value is true when public
    photos were left out by the limits."""
    found = photos_of([event.id for _commitment_id, events in timelines for event in events])
    chosen: dict[int, list[tuple]] = {}
    left, more = BOOKLET_PHOTOS_IN_ALL, False
    for commitment_id, events in timelines:
        public = [(event, photo) for event in reversed(events) for photo in found.get(event.id, [])
                  if photo.hidden_at is None]
        take = min(len(public), BOOKLET_PHOTOS_PER_COMMITMENT, left)
        more = more or take < len(public)
        if take:
            chosen[commitment_id] = public[:take]
            left -= take
    return chosen, more
