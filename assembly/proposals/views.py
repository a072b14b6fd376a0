"""Proposal pages: list, map, write, support, discuss, moderate, feed."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assembly import page_cache
from assembly.assisted import services as assisted
from assembly.cases.queries import case_rows_of_proposal
from assembly.cases.wording import status_label as case_status_label
from assembly.extensions import limiter
from assembly.forms import ButtonForm, LazyForm, ReasonForm
from assembly.i18n import format_number, localized_name
from assembly.neighbourhoods import context
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.params import MAX_ID, parse_int, query_int
from assembly.photos import services as photo_services
from assembly.proposals import discussion, moderation, services
from assembly.proposals import photos as proposal_photos
from assembly.proposals.forms import CommentForm, ProposalForm, ReportForm, filter_form
from assembly.proposals.models import PROPOSAL_LIFECYCLE
from assembly.proposals.services import ProposalFilters, ProposalInput
from assembly.rate_limits import person_key
from assembly.web import call_once, call_service, form_status, now, require

bp = Blueprint("proposals", __name__, url_prefix="/n/<slug>")
bp.url_value_preprocessor(context.from_url)  # the neighbourhood of /n/<slug>/…


def _write_limit():
    """Per person (per address only before logging in): a meeting on one Wi-Fi supports and
    comments at the same time."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)


def _category_choices(neighbourhood):
    return [(c.id, localized_name(c.names, c.slug)) for c in services.categories_of(neighbourhood)]


def _category_prompt(neighbourhood):
    """The writing form's categories, after an empty prompt the select starts on."""
    return [("", _("Choose a category…"))] + _category_choices(neighbourhood)


def _proposal(slug: str, proposal_id: int):
    neighbourhood = current_neighbourhood()
    return neighbourhood, services.get_proposal(current_user, neighbourhood, proposal_id)


def _back(neighbourhood, proposal, anchor: str | None = None):
    return redirect(url_for(".show", slug=neighbourhood.slug, proposal_id=proposal.id,
                            _anchor=anchor) if anchor else
                    url_for(".show", slug=neighbourhood.slug, proposal_id=proposal.id))


def _flash_errors() -> None:
    for message in g.pop("page_errors", []):
        flash(message, "error")


# --- lists and feeds -------------------------------------------------------------------

@bp.route("/proposals")
@page_cache.for_visitors
def index(slug: str):
    neighbourhood = current_neighbourhood()
    category_id, page_number = query_int("category"), query_int("page")
    form = filter_form(request.args, [(0, _("All categories"))] + _category_choices(neighbourhood),
                       [("", _("All current")), *PROPOSAL_LIFECYCLE.choices("filterable"),
                        (services.HIDDEN_FILTER, _("Hidden by moderation"))])
    filters = ProposalFilters(
        query=form.q.data or "", category_id=category_id or None, status=form.status.data or None,
        supported_by_me=bool(form.supported.data), followed=bool(form.followed.data), ready=bool(form.ready.data),
        mine=bool(form.mine.data), sort=form.sort.data or "", page=page_number or 1)
    page = services.list_proposals(current_user, neighbourhood, filters)
    args = {k: v for k, v in request.args.items() if k not in {"page", "lang"}}
    return render_template("proposals/index.html", neighbourhood=neighbourhood, form=form, page=page,
                           points=services.map_points(neighbourhood), page_args=args,
                           status_label=PROPOSAL_LIFECYCLE.label)


@bp.route("/feed.atom")
@page_cache.for_visitors
def feed(slug: str):
    neighbourhood = current_neighbourhood()
    category_id = query_int("category") or None
    entries = services.feed_entries(neighbourhood, category_id)
    body = render_template("proposals/feed.xml", neighbourhood=neighbourhood, entries=entries,
                           category_id=category_id, updated=entries[0].published_at if entries else
                           neighbourhood.created_at)
    return body, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}


# --- writing ---------------------------------------------------------------------------

def _input(form: ProposalForm) -> ProposalInput:
    return ProposalInput(title=form.title.data or "", body=form.body.data or "", category_id=form.category_id.data,
                         latitude=form.latitude.data, longitude=form.longitude.data,
                         address_text=form.address_text.data)


def _uploads(form: ProposalForm) -> list[photo_services.Upload]:
    return photo_services.read_uploads(request.files.getlist(form.photos.name),
                                       current_app.config["PHOTO_MAX_BYTES"])


def _editor(neighbourhood, form, proposal=None):
    form.photos.description = photo_services.upload_help()
    existing = proposal_photos.photos_of([proposal.id])[proposal.id] if proposal else []
    return render_template("proposals/edit.html", neighbourhood=neighbourhood, form=form, proposal=proposal,
                           photos=existing, button=ButtonForm(),
                           tile_url=current_app.config["MAP_TILE_URL"],
                           attribution=current_app.config["MAP_ATTRIBUTION"]), form_status()


@bp.route("/proposals/new", methods=["GET", "POST"])
@login_required
@_write_limit()
def new(slug: str):
    neighbourhood = current_neighbourhood()
    require("create_proposal", neighbourhood)
    form = ProposalForm()
    form.category_id.choices = _category_prompt(neighbourhood)
    if form.validate_on_submit():
        outcome = call_once(
            form, lambda: proposal_photos.create_with_photos(current_user, now(), neighbourhood, _input(form),
                                                             _uploads(form), publish=not form.save_as_draft.data),
            lambda proposal: url_for(".show", slug=neighbourhood.slug, proposal_id=proposal.id))
        if outcome is not None:
            proposal, again = outcome
            if again:
                return redirect(again, 303)
            flash(_("Your draft has been saved.") if form.save_as_draft.data else
                  _("Your proposal has been published."), "success")
            return _back(neighbourhood, proposal)
    return _editor(neighbourhood, form)


@bp.route("/p/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, proposal_id: int):
    neighbourhood, proposal = _proposal(slug, proposal_id)
    require("edit_proposal", proposal)
    form = ProposalForm(obj=proposal if request.method == "GET" else None)
    form.category_id.choices = _category_prompt(neighbourhood)
    del form.save_as_draft
    if form.validate_on_submit():
        if call_service(form, proposal_photos.update_with_photos, current_user, now(), proposal, _input(form),
                        _uploads(form)) is not None:
            flash(_("Your changes have been saved."), "success")
            return _back(neighbourhood, proposal)
    return _editor(neighbourhood, form, proposal)


def _author_action(slug: str, proposal_id: int, service, message: str):
    neighbourhood, proposal = _proposal(slug, proposal_id)
    require("edit_proposal", proposal)
    if ButtonForm().validate_on_submit() and call_service(None, service, current_user, now(), proposal) is not None:
        flash(message, "success")
    _flash_errors()
    return _back(neighbourhood, proposal)


@bp.route("/p/<int:proposal_id>/publish", methods=["POST"])
@login_required
def publish(slug: str, proposal_id: int):
    return _author_action(slug, proposal_id, services.publish_proposal, _("Your proposal has been published."))


@bp.route("/p/<int:proposal_id>/withdraw", methods=["POST"])
@login_required
def withdraw(slug: str, proposal_id: int):
    return _author_action(slug, proposal_id, services.withdraw_proposal, _("Your proposal has been withdrawn."))


# --- the proposal page ----------------------------------------------------------------------

def _page(neighbourhood, proposal, *, comment_form=None, report_form=None, reason_form=None, failed=None,
          status=200):

    threads = discussion.thread(proposal)
    return render_template(
        "proposals/show.html", neighbourhood=neighbourhood, proposal=proposal, threads=threads,
        supported=proposal.id in services.supported_ids(current_user, [proposal.id]),
        following=services.follows(current_user, proposal), history=moderation.history(proposal),
        # Earlier versions may hold what was hidden.
        versions=services.versions(proposal) if proposal.edited_at and proposal.hidden_at is None else [],
        comment_form=comment_form or LazyForm(lambda: CommentForm(formdata=None)),
        report_form=report_form or LazyForm(lambda: ReportForm(formdata=None)),
        reason_form=reason_form or LazyForm(lambda: ReasonForm(formdata=None)), failed=failed,
        button=LazyForm(ButtonForm),
        now=now(), can_still_edit=discussion.can_still_edit, status_label=PROPOSAL_LIFECYCLE.label,
        discussable=services.discussable(proposal), threshold=neighbourhood.effective_support_threshold(),
        cases=case_rows_of_proposal(proposal.id), case_status_label=case_status_label,
        assisted=assisted.marks_for(proposal),
        photos=proposal_photos.photos_of([proposal.id])[proposal.id],
    ), status


@bp.route("/p/<int:proposal_id>")
@page_cache.for_visitors
def show(slug: str, proposal_id: int):
    neighbourhood, proposal = _proposal(slug, proposal_id)
    return _page(neighbourhood, proposal)


@bp.route("/p/<int:proposal_id>/support", methods=["POST"])
@login_required
@_write_limit()
def support(slug: str, proposal_id: int):
    neighbourhood, proposal = _proposal(slug, proposal_id)
    require("support_proposal", proposal)
    withdrawing = request.form.get("withdraw") == "1"
    service = services.withdraw_support if withdrawing else services.support
    if ButtonForm().validate_on_submit():
        outcome = call_once(None, lambda: service(current_user, now(), proposal),
                            lambda _count: url_for(".show", slug=slug, proposal_id=proposal.id, _anchor="support"))
        if outcome is not None and outcome[1]:
            return redirect(outcome[1], 303)
        if outcome is not None:
            flash(_("Your support has been withdrawn.") if withdrawing else _("Thank you for your support."),
                  "success")
    _flash_errors()
    return _back(neighbourhood, proposal, "support")


@bp.route("/p/<int:proposal_id>/follow", methods=["POST"])
@login_required
def follow(slug: str, proposal_id: int):
    neighbourhood, proposal = _proposal(slug, proposal_id)
    require("follow", proposal)
    if ButtonForm().validate_on_submit():
        if request.form.get("unfollow") == "1":
            services.unfollow(current_user, now(), proposal)
            flash(_("You no longer follow this proposal."), "info")
        else:
            services.follow(current_user, now(), proposal)
            flash(_("You follow this proposal and will be notified of changes."), "success")
    return _back(neighbourhood, proposal)


# --- comments ---------------------------------------------------------------------------

@bp.route("/p/<int:proposal_id>/comments", methods=["POST"])
@login_required
@_write_limit()
def comment(slug: str, proposal_id: int):
    neighbourhood, proposal = _proposal(slug, proposal_id)
    require("comment", proposal)
    form = CommentForm()
    if form.validate_on_submit():
        parent_id = parse_int(form.parent_id.data, 1, MAX_ID)
        outcome = call_once(
            form, lambda: discussion.add_comment(current_user, now(), proposal, form.body.data, parent_id),
            lambda created: url_for(".show", slug=slug, proposal_id=proposal.id, _anchor=f"comment-{created.id}"))
        if outcome is not None:
            created, again = outcome
            return redirect(again, 303) if again else _back(neighbourhood, proposal, f"comment-{created.id}")
    return _page(neighbourhood, proposal, comment_form=form, failed=("comment", form.parent_id.data or ""),
                 status=400)


@bp.route("/p/<int:proposal_id>/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_comment(slug: str, proposal_id: int, comment_id: int):
    neighbourhood, proposal = _proposal(slug, proposal_id)
    target = discussion.get_comment(proposal, comment_id)
    require("edit_comment", target)
    form = CommentForm(obj=target if request.method == "GET" else None)
    if form.validate_on_submit():
        if call_service(form, discussion.edit_comment, current_user, now(), target, form.body.data) is not None:
            return _back(neighbourhood, proposal, f"comment-{target.id}")
    return render_template("proposals/edit_comment.html", neighbourhood=neighbourhood, proposal=proposal,
                           comment=target, form=form), form_status()


@bp.route("/p/<int:proposal_id>/comments/<int:comment_id>/delete", methods=["POST"])
@login_required
def delete_comment(slug: str, proposal_id: int, comment_id: int):
    neighbourhood, proposal = _proposal(slug, proposal_id)
    target = discussion.get_comment(proposal, comment_id)
    require("edit_comment", target)
    if ButtonForm().validate_on_submit() and call_service(
            None, discussion.delete_comment, current_user, now(), target) is not None:
        flash(_("Your comment has been deleted."), "info")
    _flash_errors()
    return _back(neighbourhood, proposal, f"comment-{target.id}")


# --- reports and moderation -------------------------------------------------------------------

def _target(proposal, comment_id: int | None):
    return discussion.get_comment(proposal, comment_id) if comment_id else proposal


@bp.route("/p/<int:proposal_id>/report", methods=["POST"], defaults={"comment_id": None})
@bp.route("/p/<int:proposal_id>/comments/<int:comment_id>/report", methods=["POST"])
@login_required
@_write_limit()
def report(slug: str, proposal_id: int, comment_id: int | None):
    neighbourhood, proposal = _proposal(slug, proposal_id)
    target = _target(proposal, comment_id)
    require("report", target)
    form = ReportForm()
    if form.validate_on_submit():
        outcome = call_once(form, lambda: moderation.report(current_user, now(), target, form.reason.data),
                            lambda _report: url_for(".show", slug=slug, proposal_id=proposal.id))
        if outcome is not None:
            if outcome[1]:
                return redirect(outcome[1], 303)
            flash(_("Thank you. The muhtar will look at your report."), "success")
            return _back(neighbourhood, proposal)
    return _page(neighbourhood, proposal, report_form=form, failed=("report", comment_id or ""), status=400)


_MODERATION = {
    "hide": (moderation.hide, lambda: _("It is now hidden; the reason is shown in its place.")),
    "restore": (moderation.restore, lambda: _("It is visible again.")),
    "dismiss": (moderation.dismiss_reports, lambda: _("The reports have been closed.")),
}


@bp.route("/p/<int:proposal_id>/moderate/<action>", methods=["POST"], defaults={"comment_id": None})
@bp.route("/p/<int:proposal_id>/comments/<int:comment_id>/moderate/<action>", methods=["POST"])
@login_required
def moderate(slug: str, proposal_id: int, action: str, comment_id: int | None):
    if action not in _MODERATION:
        return render_template("errors/404.html"), 404
    neighbourhood = current_neighbourhood()
    proposal = services.get_proposal(current_user, neighbourhood, proposal_id)
    target = _target(proposal, comment_id)
    require("moderate", proposal)
    form = ReasonForm()
    service, message = _MODERATION[action]
    if form.validate_on_submit():
        if call_service(form, service, current_user, now(), target, form.reason.data) is not None:
            flash(message(), "success")
            if request.form.get("back") == "queue":
                return redirect(url_for(".reports", slug=slug))
            return _back(neighbourhood, proposal)
    return _page(neighbourhood, proposal, reason_form=form, failed=(action, comment_id or ""), status=400)


@bp.route("/reports")
@login_required
def reports(slug: str):
    neighbourhood = current_neighbourhood()
    require("moderate", neighbourhood)
    return render_template("proposals/reports.html", neighbourhood=neighbourhood,
                           items=moderation.queue(current_user, neighbourhood), reason_form=ReasonForm(formdata=None),
                           ready=services.list_proposals(current_user, neighbourhood,
                                                         ProposalFilters(ready=True, status="open")).items)


@bp.route("/moderation")
def moderation_log(slug: str):
    neighbourhood = current_neighbourhood()
    entries = moderation.moderation_log(neighbourhood, query_int("before"))
    return render_template("proposals/moderation_log.html", neighbourhood=neighbourhood, entries=entries,
                           next_before=entries[-1].id if len(entries) == 50 else None)
