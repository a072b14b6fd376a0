"""Serving photos, and the muhtar's hiding (and the uploader's removing) of one."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assembly.extensions import limiter
from assembly.forms import ButtonForm, ReasonForm
from assembly.photos import services
from assembly.photos.web import photo_response
from assembly.rate_limits import person_key
from assembly.web import call_service, now, require

bp = Blueprint("photos", __name__, url_prefix="/photos")


def _write_limit():
    return limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)


def _serve(photo_id: int, thumb: bool):
    photo = services.viewable(current_user, photo_id)
    data = services.file_of(photo, thumb)
    if data is None:
        return _("This photo's file is missing."), 404, {"Content-Type": "text/plain; charset=utf-8"}
    suffix = "-thumb" if thumb else ""
    return photo_response(data, f"photo-{photo.id}{suffix}.jpg", public=photo.hidden_at is None,
                          etag=f"{photo.storage_key}{suffix}")


@bp.route("/<int:photo_id>.jpg")
def full(photo_id: int):
    return _serve(photo_id, thumb=False)


@bp.route("/<int:photo_id>/thumb.jpg")
def thumb(photo_id: int):
    return _serve(photo_id, thumb=True)


def _back(photo):
    owner = services.owner_of(photo.owner_kind)
    return redirect(owner.url(owner.load(photo.owner_id)) + f"#photo-{photo.id}")


def _flash_errors() -> None:
    for message in g.pop("page_errors", []):
        flash(message, "error")


@bp.route("/<int:photo_id>/hide", methods=["POST"])
@login_required
@_write_limit()
def hide(photo_id: int):
    photo = services.get(photo_id)
    require("hide_photo", photo)
    form = ReasonForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return _back(photo)
    if call_service(None, services.hide, current_user, now(), photo, form.reason.data) is not None:
        flash(_("The photo is hidden; the reason is shown in its place."), "success")
    _flash_errors()
    return _back(photo)


@bp.route("/<int:photo_id>/restore", methods=["POST"])
@login_required
@_write_limit()
def restore(photo_id: int):
    photo = services.get(photo_id)
    require("hide_photo", photo)
    if ButtonForm().validate_on_submit() and call_service(None, services.restore, current_user, now(),
                                                          photo) is not None:
        flash(_("The photo is visible again."), "success")
    _flash_errors()
    return _back(photo)


@bp.route("/<int:photo_id>/remove", methods=["POST"])
@login_required
@_write_limit()
def remove(photo_id: int):
    photo = services.get(photo_id)
    back = _back(photo)
    if ButtonForm().validate_on_submit() and call_service(None, services.remove, current_user, now(),
                                                          photo) is not None:
        flash(_("The photo has been removed."), "success")
    _flash_errors()
    return back
