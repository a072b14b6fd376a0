"""The notification list: read, mark read."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from flask_login import current_user, login_required

from assembly.forms import ButtonForm
from assembly.notifications import services
from assembly.params import query_int
from assembly.web import now, require

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _unread_notifications() -> dict:
    def unread_notifications() -> int:  # counted once per request, and only if a page asks
        if not current_user.is_authenticated:
            return 0
        if "unread_notifications" not in g:
            g.unread_notifications = services.unread_count(current_user)
        return g.unread_notifications

    return {"unread_notifications": unread_notifications}


@bp.route("/")
@login_required
def index():
    require("read_notifications")
    items = services.list_for(current_user, before_id=query_int("before"))
    return render_template("notifications/index.html", items=items, render=services.render_notification,
                           button=ButtonForm(), next_before=items[-1].id if len(items) == 30 else None)


@bp.route("/read", methods=["POST"])
@login_required
def mark_all_read():
    if ButtonForm().validate_on_submit():
        services.mark_read(current_user, now())
    return redirect(url_for(".index"))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    if ButtonForm().validate_on_submit():
        services.mark_read(current_user, now(), notification_id)
    return redirect(url_for(".index"))
