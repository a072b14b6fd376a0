"""The notification list: read, mark read; unsubscribing from notification e-mails by link."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from assembly.extensions import limiter
from assembly.forms import ButtonForm
from assembly.notifications import services
from assembly.params import query_int
from assembly.web import call_service, now, require

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


# --- unsubscribing by the link in an e-mail (no login: the signed token names the person) ---------

def _write_limit():
    return limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"])


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@_write_limit()
def unsubscribe(token: str):
    """The link in the text of an e-mail: a page that asks, and a button (with CSRF) that stops them."""
    user = services.user_of_unsubscribe_token(token)
    if user is None:
        return render_template("notifications/unsubscribe.html", user=None, form=None), 404
    form = ButtonForm()
    done = False
    if form.validate_on_submit():
        call_service(form, services.unsubscribe, user)
        done = True
    return render_template("notifications/unsubscribe.html", user=user, form=form, token=token,
                           done=done or user.email_mode == "none")


@bp.route("/unsubscribe/<token>/one-click", methods=["GET", "POST"])
@_write_limit()
def unsubscribe_one_click(token: str):
    """RFC 8058: the mail program POSTs `List-Unsubscribe=One-Click` to the List-Unsubscribe address.
    The only POST without a CSRF token (exempted in the composition root): the signed token in the
    address is the proof, and it can do nothing but stop e-mails. A GET (someone opening the
    address) gets the page that asks."""
    if request.method == "GET":
        return redirect(url_for(".unsubscribe", token=token))
    user = services.user_of_unsubscribe_token(token)
    if user is None:
        return Response("unknown unsubscribe link\n", status=404, mimetype="text/plain")
    if request.form.get("List-Unsubscribe") != "One-Click":
        return Response("expected List-Unsubscribe=One-Click\n", status=400, mimetype="text/plain")
    call_service(None, services.unsubscribe, user)
    return Response("unsubscribed\n", status=200, mimetype="text/plain")
