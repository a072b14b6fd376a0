"""Public neighbourhood pages, joining, and the muhtar's membership desk."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assembly import activity, desk, i18n, page_cache
from assembly.assemblies.models import ASSEMBLY_LIFECYCLE
from assembly.assemblies.services import shown_status, status_changes_at
from assembly.cases.wording import status_label as case_status_label
from assembly.extensions import limiter
from assembly.forms import ButtonForm, LazyForm, ReasonForm
from assembly.neighbourhoods import context, directory, invitations, residents
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.neighbourhoods.homes import home_timezone
from assembly.neighbourhoods.forms import InviteCodeForm, IssueInvitesForm, JoinForm
from assembly.params import query_int
from assembly.rate_limits import person_key
from assembly.web import call_service, form_status, now, require

bp = Blueprint("neighbourhoods", __name__)
bp.url_value_preprocessor(context.from_url)  # the neighbourhood of /n/<slug>/…
i18n.register_home_timezone(home_timezone)


def _join_limit(view):
    """Rate-limit asking to join and entering invitation codes (which could otherwise be guessed in
    bulk): per person, and per address at a level a meeting on one Wi-Fi does not reach."""
    view = limiter.limit(lambda: current_app.config["RATELIMIT_JOIN_ADDRESS"], methods=["POST"])(view)
    return limiter.limit(lambda: current_app.config["RATELIMIT_JOIN"], methods=["POST"], key_func=person_key)(view)


def _desk_limit(view):
    """The muhtar's desk counts per muhtar, never per address: a muhtar at the office PC approving
    a meeting's requests shares the address with everyone there."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_MUHTAR"], methods=["POST"], key_func=person_key)(view)


@bp.route("/")
def index():
    membership = directory.current_membership(current_user) if current_user.is_authenticated else None
    return render_template("neighbourhoods/index.html", neighbourhoods=directory.list_neighbourhoods(),
                           membership=membership)


def _life(neighbourhood) -> dict:
    """What the neighbourhood page shows of what is happening there (issue 11, point 9)."""
    life = activity.activity(neighbourhood)
    session = life.next_session
    if session:
        page_cache.valid_until(status_changes_at(session, now()))
    return {"life": life, "session_status": shown_status(session, now()) if session else None,
            "session_label": ASSEMBLY_LIFECYCLE.label, "case_status_label": case_status_label}


@bp.route("/n/<slug>")
@page_cache.for_visitors
def show(slug: str):
    neighbourhood = current_neighbourhood()
    membership = directory.current_membership(current_user) if current_user.is_authenticated else None
    return render_template("neighbourhoods/show.html", neighbourhood=neighbourhood,
                           muhtars=directory.muhtar_names(neighbourhood), membership=membership,
                           join_form=LazyForm(JoinForm), code_form=LazyForm(InviteCodeForm),
                           button=LazyForm(ButtonForm),
                           **_life(neighbourhood))


@bp.route("/n/<slug>/join", methods=["POST"])
@_join_limit
@login_required
def join(slug: str):
    neighbourhood = current_neighbourhood()
    form = JoinForm()
    if not form.validate_on_submit() or call_service(
            form, residents.request_membership, current_user, now(), neighbourhood, form.address.data) is None:
        return render_template("neighbourhoods/show.html", neighbourhood=neighbourhood,
                               muhtars=directory.muhtar_names(neighbourhood),
                               membership=directory.current_membership(current_user),
                               join_form=form, code_form=InviteCodeForm(formdata=None), button=ButtonForm(),
                               **_life(neighbourhood)), 400
    flash(_("Your request has been sent to the muhtar. You will be notified of the decision."), "success")
    return redirect(url_for(".show", slug=slug))


@bp.route("/join", methods=["GET", "POST"])
@_join_limit
@login_required
def redeem():
    form = InviteCodeForm()
    if form.validate_on_submit():
        membership = call_service(form, invitations.redeem_invite, current_user, now(), form.code.data)
        if membership is not None:
            flash(_("Welcome! You are now a verified resident of %(name)s.",
                    name=membership.neighbourhood.name_in(current_user.locale)), "success")
            return redirect(url_for(".show", slug=membership.neighbourhood.slug))
    return render_template("neighbourhoods/redeem.html", form=form,
                           membership=directory.current_membership(current_user)), form_status()


@bp.route("/membership/withdraw", methods=["POST"])
@login_required
def withdraw():
    if ButtonForm().validate_on_submit():
        if call_service(None, residents.withdraw_request, current_user, now()) is not None:
            flash(_("Your request has been withdrawn."), "info")
    return _back_with_errors()


@bp.route("/membership/leave", methods=["POST"])
@login_required
def leave():
    if ButtonForm().validate_on_submit():
        if call_service(None, residents.leave_neighbourhood, current_user, now()) is not None:
            flash(_("You are no longer a resident of the neighbourhood."), "info")
    return _back_with_errors()


def _back_with_errors():
    for message in g.get("page_errors", []):
        flash(message, "error")
    return redirect(url_for(".index"))


# --- the muhtar's desk ------------------------------------------------------------------

@bp.route("/muhtar")
@login_required
def muhtar_desk():
    require("view_muhtar_desk")
    neighbourhoods = directory.muhtar_neighbourhoods(current_user)
    return render_template("neighbourhoods/muhtar_desk.html", neighbourhoods=neighbourhoods,
                           by_id={n.id: n for n in neighbourhoods}, sections=desk.sections(neighbourhoods, now()),
                           now=now())


def _members_page(neighbourhood, status: int = 200, reason_form: ReasonForm | None = None,
                  failed_id: int | None = None):
    after = query_int("after")
    verified = residents.verified_residents(current_user, neighbourhood, after_id=after)
    return render_template(
        "neighbourhoods/members.html", neighbourhood=neighbourhood,
        queue=residents.membership_queue(current_user, neighbourhood), residents=verified,
        button=ButtonForm(), reason_form=reason_form or ReasonForm(formdata=None), failed_id=failed_id,
        next_after=verified[-1].id if len(verified) == 100 else None,
    ), status


@bp.route("/n/<slug>/members")
@login_required
def members(slug: str):
    neighbourhood = current_neighbourhood()
    require("review_memberships", neighbourhood)
    return _members_page(neighbourhood)


@bp.route("/n/<slug>/members/<int:membership_id>/approve", methods=["POST"])
@_desk_limit
@login_required
def approve(slug: str, membership_id: int):
    neighbourhood = current_neighbourhood()
    require("review_memberships", neighbourhood)
    if ButtonForm().validate_on_submit():
        membership = call_service(None, residents.approve_membership, current_user, now(), neighbourhood,
                                  membership_id)
        if membership is not None:
            flash(_("%(name)s is now a verified resident.", name=membership.user.display_name), "success")
            return redirect(url_for(".members", slug=slug))
    return _members_page(neighbourhood, 400)


def _decide_with_reason(slug: str, membership_id: int, service, action: str, done_message: str):
    neighbourhood = current_neighbourhood()
    require(action, neighbourhood)
    form = ReasonForm()
    if form.validate_on_submit():
        membership = call_service(form, service, current_user, now(), neighbourhood, membership_id,
                                  form.reason.data)
        if membership is not None:
            flash(done_message % {"name": membership.user.display_name}, "success")
            return redirect(url_for(".members", slug=slug))
    return _members_page(neighbourhood, 400, reason_form=form, failed_id=membership_id)


@bp.route("/n/<slug>/members/<int:membership_id>/reject", methods=["POST"])
@_desk_limit
@login_required
def reject(slug: str, membership_id: int):
    return _decide_with_reason(slug, membership_id, residents.reject_membership, "review_memberships",
                               _("The request of %(name)s has been rejected."))


@bp.route("/n/<slug>/members/<int:membership_id>/revoke", methods=["POST"])
@_desk_limit
@login_required
def revoke(slug: str, membership_id: int):
    return _decide_with_reason(slug, membership_id, residents.revoke_membership, "revoke_membership",
                               _("The membership of %(name)s has been revoked."))


@bp.route("/n/<slug>/invites", methods=["GET", "POST"])
@_desk_limit
@login_required
def invites(slug: str):
    neighbourhood = current_neighbourhood()
    require("issue_invite_codes", neighbourhood)
    form = IssueInvitesForm()
    if form.validate_on_submit():
        batch = call_service(form, invitations.issue_invite_codes, current_user, now(), neighbourhood,
                             form.count.data, form.valid_days.data)
        if batch is not None:
            return redirect(url_for("documents.invite_letters", slug=slug, batch=batch))
    return render_template("neighbourhoods/invites.html", neighbourhood=neighbourhood, form=form,
                           batches=invitations.invite_batches(current_user, neighbourhood)), form_status()
