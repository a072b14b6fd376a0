"""Attaching photos to things people write, hiding them, and finding the ones a page shows.

The API is generic: a photo belongs to an owner named by (kind, id). A domain that wants photos
registers its kind once with `register_owner` (`photos.owners`) — how to load an owner, which
policy actions let someone attach to it, see it and hide its photos — and then calls `prepare`
and `attach` (see docs/photos.md, "Photos on something else"). Proposals are registered in
`assembly.proposals.photos`, meetings' questions in `assembly.meetings.photos`, progress steps of
commitments in `assembly.promises.photos`.

Files are written to the store (`photos.storage`) before the database row is flushed, under a
random key, through `photos.files`: should the transaction not commit, they are deleted again.
A committed row therefore always has its files, and no file outlives a failed request.
"""
from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select

from assembly import permissions
from assembly.audit.services import record
from assembly.db import db
from assembly.errors import NotAllowed, NotFound, ValidationFailed
from assembly.i18n import format_number
from assembly.i18n import ngettext
from assembly.photos import files, processing
from assembly.photos.models import Photo
from assembly.photos.owners import OWNERS, Owner, owner_of, register_owner
from assembly.photos.storage import store
from assembly.text import clean_plain

__all__ = ["OWNERS", "Owner", "owner_of", "register_owner"]  # the registry, offered here to the domains

FIELD = "photos"  # the form field errors are shown on
REASON_MAX = 500


# --- uploads -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    """An uploaded file as read from the request: its name (for messages only) and its bytes, or
    None when it was larger than allowed (reading stopped there)."""

    name: str
    data: bytes | None


def read_uploads(uploaded: Iterable, max_bytes: int) -> list[Upload]:
    """Read werkzeug FileStorage objects, at most `max_bytes` + 1 of each; empty file inputs are skipped."""
    uploads = []
    for file in uploaded:
        name = clean_plain(getattr(file, "filename", "") or "")[:80]
        data = file.stream.read(max_bytes + 1)
        if not name and not data:
            continue
        uploads.append(Upload(name or _("(unnamed file)"), None if len(data) > max_bytes else data))
    return uploads


def _megabytes(size: int) -> str:
    return _("%(num)s MB", num=format_number(round(size / (1024 * 1024), 1)))


def upload_help() -> str:
    """The description under a form's photo field: how many, which kinds, how large."""
    config = current_app.config
    return _("Up to %(count)s photos (JPEG, PNG or WebP), each at most %(size)s. Location and camera "
             "data are removed from them.", count=format_number(config["PHOTO_MAX_COUNT"]),
             size=_megabytes(config["PHOTO_MAX_BYTES"]))


def prepare(uploads: list[Upload], already: int = 0) -> list[processing.Encoded]:
    """Check and re-encode every upload; refuses all of them (ValidationFailed on `photos`, one
    message per bad file) when one is too large, not an image, or when there would be too many."""
    config = current_app.config
    limit = config["PHOTO_MAX_COUNT"]
    problems: list[str] = []
    if already + len(uploads) > limit:
        problems.append(ngettext("You can attach at most %(num)s photo.", "You can attach at most %(num)s photos.",
                                 limit))
    encoded = []
    for upload in uploads:
        if upload.data is None:
            problems.append(_("“%(name)s” is larger than %(size)s.", name=upload.name,
                              size=_megabytes(config["PHOTO_MAX_BYTES"])))
            continue
        try:
            encoded.append(processing.encode(upload.data, config["PHOTO_MAX_PIXELS"]))
        except processing.TooManyPixels:
            problems.append(_("“%(name)s” has too many pixels; make it smaller and try again.", name=upload.name))
        except processing.NotAnImage:
            problems.append(_("“%(name)s” is not a photo we can read. Send a JPEG, PNG or WebP image.",
                              name=upload.name))
    if problems:
        raise ValidationFailed({FIELD: problems}, FIELD)
    return encoded


def count_of(kind: str, owner_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Photo)
                             .where(Photo.owner_kind == kind, Photo.owner_id == owner_id)) or 0


def attach(actor, now: dt.datetime, kind: str, owner_obj, encoded: list[processing.Encoded]) -> list[Photo]:
    """Store the prepared photos and attach them after the owner's existing ones. The unique
    (owner, position) constraint keeps two simultaneous uploads from both taking the last places."""
    owner = owner_of(kind)
    permissions.require(actor, owner.attach_action, owner_obj)
    if not encoded:
        return []
    positions = db.session.scalar(select(func.coalesce(func.max(Photo.position) + 1, 0))
                                  .where(Photo.owner_kind == kind, Photo.owner_id == owner_obj.id))
    if count_of(kind, owner_obj.id) + len(encoded) > current_app.config["PHOTO_MAX_COUNT"]:
        limit = current_app.config["PHOTO_MAX_COUNT"]
        raise ValidationFailed(ngettext("You can attach at most %(num)s photo.",
                                        "You can attach at most %(num)s photos.", limit), FIELD)
    photos = []
    for offset, item in enumerate(encoded):
        key = secrets.token_hex(16)
        files.put(db.session, store(), f"{key}.jpg", item.photo)
        files.put(db.session, store(), f"{key}-thumb.jpg", item.thumb)
        photo = Photo(owner_kind=kind, owner_id=owner_obj.id, neighbourhood_id=owner.neighbourhood_id(owner_obj),
                      uploader_id=actor.id, api_token_id=getattr(actor, "token_id", None),  # a body's API token
                      position=positions + offset, storage_key=key, width=item.width,
                      height=item.height, byte_size=len(item.photo), thumb_byte_size=len(item.thumb), created_at=now)
        db.session.add(photo)
        photos.append(photo)
    db.session.flush()
    return photos


def remove(actor, now: dt.datetime, photo: Photo) -> None:
    """The uploader takes back a photo while they may still attach to its owner (never one of a
    kind that keeps its photos, such as a hash-chained progress step). The files go once the
    removal is committed."""
    owner = owner_of(photo.owner_kind)
    target = owner.load(photo.owner_id)
    permissions.require(actor, owner.attach_action, target)
    # A photo sent with an API token (no uploader) is never taken back; the muhtar hides (with a public reason).
    if photo.uploader_id is None or photo.uploader_id != actor.id or not owner.removable:
        raise NotAllowed(_("You are not allowed to do this."))
    key = photo.storage_key
    db.session.delete(photo)
    db.session.flush()
    for name in (f"{key}.jpg", f"{key}-thumb.jpg"):
        files.delete_after_commit(db.session, store(), name)


# --- moderation -----------------------------------------------------------------------------------

def hide(actor, now: dt.datetime, photo: Photo, reason: str | None) -> Photo:
    """The muhtar hides a photo; the public reason is shown in its place."""
    permissions.require(actor, "hide_photo", photo)
    reason = clean_plain(reason or "")
    if not reason:
        raise ValidationFailed(_("Please give a reason."), "reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed(ngettext("Give at most %(num)s character.", "Give at most %(num)s characters.",
                                        REASON_MAX), "reason")
    if photo.hidden_at is not None:
        raise ValidationFailed(_("This photo is already hidden."), "reason")
    photo.hidden_at, photo.hidden_reason, photo.hidden_by_id = now, reason, actor.id
    db.session.flush()
    record(actor, "photo.hide", photo, now, reason=reason, owner=f"{photo.owner_kind}:{photo.owner_id}")
    return photo


def restore(actor, now: dt.datetime, photo: Photo) -> Photo:
    permissions.require(actor, "hide_photo", photo)
    if photo.hidden_at is None:
        raise ValidationFailed(_("This photo is not hidden."), "reason")
    photo.hidden_at = photo.hidden_reason = photo.hidden_by_id = None
    db.session.flush()
    record(actor, "photo.restore", photo, now, owner=f"{photo.owner_kind}:{photo.owner_id}")
    return photo


# --- reading ---------------------------------------------------------------------------------------

_OF_OWNERS = (select(Photo).where(Photo.owner_kind == bindparam("kind"),
                                  Photo.owner_id.in_(bindparam("owner_ids", expanding=True)))
              .order_by(Photo.owner_id, Photo.position))  # built once: pages read photos on every view


def photos_of(kind: str, owner_ids: Iterable[int]) -> dict[int, list[Photo]]:
    """The photos of many owners of one kind, in one statement, in their order."""
    ids = sorted(set(owner_ids))
    found: dict[int, list[Photo]] = {owner_id: [] for owner_id in ids}
    if not ids:
        return found
    for photo in db.session.scalars(_OF_OWNERS, {"kind": kind, "owner_ids": ids}):
        found[photo.owner_id].append(photo)
    return found


def get(photo_id: int) -> Photo:
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(_("There is no such photo."))
    return photo


def viewable(actor, photo_id: int) -> Photo:
    """The photo, if `actor` may see it: its owner is visible to them, and it is not hidden
    (a hidden photo is seen only by whoever may hide it). NotFound otherwise."""
    photo = get(photo_id)
    owner = owner_of(photo.owner_kind)
    target = owner.load(photo.owner_id)
    if target is None or not permissions.can(actor, owner.view_action, target):
        raise NotFound(_("There is no such photo."))
    if photo.hidden_at is not None and not permissions.can(actor, "hide_photo", photo):
        raise NotFound(_("There is no such photo."))
    return photo


def file_of(photo: Photo, thumb: bool) -> bytes | None:
    return store().get(f"{photo.storage_key}{'-thumb' if thumb else ''}.jpg")
