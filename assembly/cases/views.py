"""Forwarding (muhtar), public case tracking, body scoreboards and the staff inbox."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.validators import InputRequired

from assembly import page_cache, permissions
from assembly.cases import api_tokens, confirmations, queries, services, wording
from assembly.cases.events import KINDS, FieldType
from assembly.cases.forms import EVENT_FORMS, FixForm, ForwardForm, InboxFilterForm, LookupForm, TokenForm
from assembly.cases.models import CASE_LIFECYCLE, OPEN_STATUSES, Case
from assembly.db import db
from assembly.errors import NotFound
from assembly.extensions import limiter
from assembly.forms import ButtonForm, LazyForm, ReasonForm
from assembly.i18n import current_locale, localized_name, ngettext, use_timezone, wall_clock_to_utc
from assembly.meetings import photos as question_photos
from assembly.neighbourhoods import context
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.neighbourhoods.models import Body, Category, Neighbourhood
from assembly.params import MAX_ID, parse_int, query_int
from assembly.proposals import photos as proposal_photos
from assembly.proposals import services as proposal_services
from assembly.rate_limits import person_key
from assembly.web import call_service, form_status, now, require

bp = Blueprint("cases", __name__)
bp.url_value_preprocessor(context.from_url)  # the neighbourhood of /n/<slug>/…


def _body(body_id: int) -> Body:
    body = db.session.get(Body, body_id)
    if body is None:
        raise NotFound(_("There is no such body."))
    use_timezone(body.municipality.timezone)
    return body


# --- forwarding (the muhtar) -------------------------------------------------------------------

def _forward_form(proposal, form=None) -> ForwardForm:
    form = form or ForwardForm(formdata=None)
    form.body_id.choices = [(b.id, b.name) for b in services.bodies_for(proposal)]
    default = services.default_body(proposal)
    if form.body_id.data is None and default is not None:
        form.body_id.data = default.id
    return form


@bp.route("/n/<slug>/p/<int:proposal_id>/forward", methods=["GET", "POST"])
@login_required
def forward(slug: str, proposal_id: int):
    neighbourhood = current_neighbourhood()
    proposal = proposal_services.get_proposal(current_user, neighbourhood, proposal_id)
    require("forward", proposal)
    form = _forward_form(proposal, ForwardForm())
    if form.validate_on_submit():
        body = db.session.get(Body, form.body_id.data)
        case = call_service(form, services.forward, current_user, now(), proposal, body, form.note.data,
                            form.reason.data) if body else None
        if case is not None:
            flash(_("Forwarded as case %(reference)s.", reference=case.reference), "success")
            return redirect(url_for(".show", reference=case.reference))
    return render_template("cases/forward.html", neighbourhood=neighbourhood, proposal=proposal, form=form,
                           cases=queries.cases_of_proposal(proposal.id),
                           accepted=proposal.status == "accepted"), form_status()


# --- public tracking ------------------------------------------------------------------------------

@bp.route("/cases")
def lookup():
    form = LookupForm(request.args)
    if form.ref.data:
        reference = queries.normalise_reference(form.ref.data)
        if db.session.scalar(select(Case.id).where(Case.reference == reference)):
            return redirect(url_for(".show", reference=reference))
        form.ref.errors = [_("There is no case with this reference number.")]
        return render_template("cases/lookup.html", form=form, example=_example()), 404
    return render_template("cases/lookup.html", form=form, example=_example())


def _example() -> str:
    return queries.example_reference(current_locale())


def _case(reference: str) -> Case:
    case = queries.get_by_reference(reference)
    use_timezone(case.neighbourhood.municipality.timezone)
    return case


def _event_form(case, kind: str, submitted: bool = False):
    """The inbox form of one kind of event: the submitted one, or an empty one."""
    form = EVENT_FORMS[kind]() if submitted else EVENT_FORMS[kind](formdata=None)
    for field in KINDS[kind].fields:
        if field.type == FieldType.BODY:
            form[field.name].choices = queries.other_bodies(case)
    if kind == "scheduled":  # the words of this kind of body: a council meeting, planned work …
        for name in ("meeting_at", "agenda_number", "record_url"):
            form[name].label.text = wording.label(case.body.kind, name)
        form.meeting_at.validators = [InputRequired(wording.label(case.body.kind, "meeting_required"))]
    return form


def _origin_photos(case) -> list:
    """The photos of what the case was made from, as its own page shows them: the proposal's or
    the meeting question's (a consultation answer has none)."""
    if case.proposal_id is not None:
        if permissions.can(current_user, "view_proposal_photos", case.proposal):
            return proposal_photos.photos_of([case.proposal_id])[case.proposal_id]
    elif case.meeting_question_id is not None:
        if permissions.can(current_user, "view_question_photos", case.meeting_question):
            return question_photos.photos_of([case.meeting_question_id])[case.meeting_question_id]
    return []


def _case_page(case, status: int = 200, failed: str | None = None, failed_form=None, fix_form=None):
    staff = current_user.is_authenticated and permissions.can(current_user, "act_for_body", case)
    may_answer = permissions.can(current_user, "confirm_fix", case)
    allowed = services.allowed_steps(case) if staff else frozenset()
    kind = case.body.kind
    forms = {step: failed_form if step == failed else LazyForm(lambda step=step: _event_form(case, step))
             for step in KINDS}
    if case.status in OPEN_STATUSES and now() <= case.due_at:
        page_cache.valid_until(case.due_at)  # overdue from then on
    return render_template(
        "cases/show.html", case=case, events=queries.events_of(case), linked=queries.linked_cases(case),
        overdue=services.is_overdue(case, now()), status_label=wording.for_kind(kind), staff=staff, allowed=allowed,
        words=lambda key, **values: wording.label(kind, key, **values),
        receive=forms["received"], schedule=forms["scheduled"], decide=forms["decided"],
        progress=forms["in_progress"], done=forms["done"], failed=failed,
        timezone=case.neighbourhood.municipality.timezone,
        photos=_origin_photos(case),
        may_answer=may_answer, my_answer=confirmations.answer_of(current_user, case) if may_answer else None,
        confirmed=confirmations.confirmed_count(case) if case.status == "done" else 0,
        fix_form=fix_form or LazyForm(lambda: FixForm(formdata=None)), button=LazyForm(ButtonForm),
        reason_form=LazyForm(lambda: ReasonForm(formdata=None)),
    ), status


@bp.route("/cases/<reference>")
@page_cache.for_visitors
def show(reference: str):
    case = _case(reference)
    return _case_page(case)


def _event_fields(case, kind: str, form) -> dict:
    """The form's values as the service takes them: local times to UTC, a chosen body to the body."""
    fields = {}
    for field in KINDS[kind].fields:
        value = form[field.name].data
        if field.type == FieldType.DATETIME and value is not None:
            value = wall_clock_to_utc(value, case.neighbourhood.municipality.timezone)
        elif field.type == FieldType.BODY:
            value = db.session.get(Body, value) if value else None
        fields[field.name] = value
    return fields


@bp.route("/cases/<reference>/events/<kind>", methods=["POST"])
@login_required
def act(reference: str, kind: str):
    case = _case(reference)
    require("act_for_body", case)
    if kind not in KINDS:
        raise NotFound()
    form = _event_form(case, kind, submitted=True)
    if form.validate_on_submit():
        fields = _event_fields(case, kind, form)
        if call_service(form, services.apply_event, current_user, now(), case, kind, fields) is not None:
            flash(_("The case has been updated."), "success")
            return redirect(url_for(".show", reference=case.reference))
    return _case_page(case, 400, failed=kind, failed_form=form)


@bp.route("/cases/<reference>/fixed", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)
def fixed(reference: str):
    """Is it really fixed? The author's or a follower's answer after the case was marked done."""
    case = _case(reference)
    require("confirm_fix", case)
    form = FixForm()
    if form.validate_on_submit():
        if call_service(form, confirmations.answer, current_user, now(), case, form.answer.data,
                        form.note.data) is not None:
            flash(_("Thank you: your confirmation has been recorded.") if form.answer.data == "yes" else
                  _("Thank you. The case has been reopened and the body and the muhtar have been told."), "success")
            return redirect(url_for(".show", reference=case.reference))
    for message in g.pop("page_errors", []):
        flash(message, "error")
    return _case_page(case, 400, fix_form=form)


@bp.route("/bodies/<int:body_id>")
def body(body_id: int):
    found = _body(body_id)
    return render_template("cases/body.html", board=queries.scoreboard(found, now()),
                           overdue=queries.overdue_cases(found, now()))


# --- the staff inbox --------------------------------------------------------------------------------

@bp.route("/staff")
@login_required
def staff_desk():
    require("view_staff_desk")
    return render_template("cases/staff_desk.html", bodies=queries.staff_bodies(current_user))


@bp.route("/staff/bodies/<int:body_id>", methods=["GET", "POST"])
@login_required
def inbox(body_id: int):
    body = _body(body_id)
    require("act_for_body", body)
    if request.method == "POST":
        return _bulk_receive(body)
    neighbourhood_id, category_id, page = query_int("neighbourhood"), query_int("category"), query_int("page")
    form = InboxFilterForm(request.args)
    label = wording.for_kind(body.kind)
    form.status.choices = [("", _("All")), *((value, label(value)) for value, _text in CASE_LIFECYCLE.choices())]
    neighbourhoods = list(db.session.scalars(select(Neighbourhood).where(
        Neighbourhood.municipality_id == body.municipality_id).order_by(Neighbourhood.slug)))
    form.neighbourhood.choices = [(0, _("All"))] + [(n.id, localized_name(n.names, n.slug)) for n in neighbourhoods]
    form.category.choices = [(0, _("All"))] + [(c.id, localized_name(c.names, c.slug)) for c in db.session.scalars(
        select(Category).where(Category.municipality_id == body.municipality_id).order_by(Category.slug))]
    form.validate()
    filters = queries.InboxFilters(status=form.status.data or None, neighbourhood_id=neighbourhood_id or None,
                                         category_id=category_id or None, overdue=bool(form.overdue.data),
                                         page=page or 1)
    cases, total = queries.inbox(current_user, body, filters, now())
    photos = proposal_photos.photos_of(queries.proposals_with_visible_photos(cases))
    args = {k: v for k, v in request.args.items() if k not in {"page", "lang"}}
    return render_template("cases/inbox.html", body=body, form=form, cases=cases, total=total, page=filters.page,
                           pages=max(1, -(-total // queries.PAGE_SIZE)), page_args=args, button=ButtonForm(),
                           status_label=label, is_overdue=lambda c: services.is_overdue(c, now()),
                           photos=photos, points=[(c.latitude, c.longitude, f"{c.reference} {c.title}",
                                                   url_for(".show", reference=c.reference))
                                                  for c in cases if c.latitude is not None])


def _bulk_receive(body: Body):
    """Acknowledge several forwarded cases at once; all or none."""
    if not ButtonForm().validate_on_submit():
        flash(_("The form has expired. Please submit it again."), "error")
        return redirect(url_for(".inbox", body_id=body.id))
    ids = [number for number in (parse_int(value, 1, MAX_ID) for value in request.form.getlist("case"))
           if number is not None]
    if not ids:
        flash(_("Choose at least one case."), "error")
        return redirect(url_for(".inbox", body_id=body.id))

    def receive_all():
        cases = queries.cases_for_actions(current_user, body, ids)
        for case in cases:
            services.receive(current_user, now(), case)
        return cases

    done = call_service(None, receive_all)
    if done is not None:
        flash(ngettext("%(num)s case marked as received.", "%(num)s cases marked as received.", len(done)), "success")
    else:
        for message in g.pop("page_errors", []):
            flash(message, "error")
    return redirect(url_for(".inbox", body_id=body.id))


@bp.route("/staff/bodies/<int:body_id>/tokens", methods=["GET", "POST"])
@login_required
def tokens(body_id: int):
    body = _body(body_id)
    require("act_for_body", body)
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        created = call_service(form, api_tokens.create_token, current_user, now(), body, form.name.data)
        if created is not None:
            secret = created[1]
    return render_template("cases/tokens.html", body=body, form=form, secret=secret, button=ButtonForm(),
                           tokens=api_tokens.tokens_of(body)), 200 if secret or request.method == "GET" else 400


@bp.route("/staff/bodies/<int:body_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(body_id: int, token_id: int):
    body = _body(body_id)
    require("act_for_body", body)
    if ButtonForm().validate_on_submit():
        api_tokens.revoke_token(current_user, now(), body, token_id)
        flash(_("The token has been revoked; systems using it can no longer connect."), "info")
    return redirect(url_for(".tokens", body_id=body.id))
