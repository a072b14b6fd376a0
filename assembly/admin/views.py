"""Administration: municipalities, neighbourhoods, bodies, categories, appointments, audit log."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from assembly.admin.forms import (
    AppointForm,
    BodyForm,
    CategoryForm,
    MunicipalityForm,
    NeighbourhoodEditForm,
    NeighbourhoodForm,
)
from assembly.audit import services as audit
from assembly.db import db
from assembly.errors import NotFound
from assembly.forms import ButtonForm, ReasonForm, names_from
from assembly.neighbourhoods import directory, structure
from assembly.neighbourhoods.models import Body, BodyStaff, Membership, Municipality
from assembly.params import query_int
from assembly.web import call_service, form_status, now, require

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _only_admins():
    require("administer")


def _municipality(code: str) -> Municipality:
    found = db.session.scalar(select(Municipality).where(Municipality.code == code))
    if found is None:
        raise NotFound()
    return found


@bp.route("/")
def dashboard():
    return render_template("admin/dashboard.html", municipalities=directory.list_municipalities())


@bp.route("/municipalities/new", methods=["GET", "POST"])
def new_municipality():
    form = MunicipalityForm()
    if form.validate_on_submit():
        municipality = call_service(form, structure.create_municipality, current_user, now(),
                                    code=form.code.data, name=form.name.data, timezone=form.timezone.data,
                                    default_locale=form.default_locale.data)
        if municipality is not None:
            flash(_("The municipality has been created."), "success")
            return redirect(url_for(".municipality", code=municipality.code))
    return render_template("admin/form.html", form=form, title=_("New municipality")), form_status()


@bp.route("/m/<code>")
def municipality(code: str):
    return render_template("admin/municipality.html", municipality=_municipality(code))


@bp.route("/m/<code>/neighbourhoods/new", methods=["GET", "POST"])
def new_neighbourhood(code: str):
    municipality = _municipality(code)
    form = NeighbourhoodForm()
    if request.method == "GET":
        form.default_locale.data = municipality.default_locale
    if form.validate_on_submit():
        neighbourhood = call_service(
            form, structure.create_neighbourhood, current_user, now(), municipality=municipality,
            slug=form.slug.data, code=form.code.data, names=names_from(form),
            default_locale=form.default_locale.data, quorum_percent=form.quorum_percent.data,
            majority=form.majority.data, support_threshold=form.support_threshold.data)
        if neighbourhood is not None:
            flash(_("The neighbourhood has been created. Now appoint its muhtar."), "success")
            return redirect(url_for(".neighbourhood", slug=neighbourhood.slug))
    return render_template("admin/form.html", form=form, title=_("New neighbourhood in %(name)s",
                           name=municipality.name)), form_status()


def _neighbourhood_page(neighbourhood, form, appoint, status=200):
    return render_template("admin/neighbourhood.html", neighbourhood=neighbourhood, form=form,
                           appoint=appoint, muhtars=directory.muhtars_of(neighbourhood),
                           dismiss=ReasonForm(formdata=None)), status


@bp.route("/n/<slug>", methods=["GET", "POST"])
def neighbourhood(slug: str):
    neighbourhood = directory.get_neighbourhood(slug)
    form = NeighbourhoodEditForm(obj=neighbourhood if request.method == "GET" else None)
    if request.method == "GET":
        for locale, name in neighbourhood.names.items():
            getattr(form, f"name_{locale}").data = name
    if form.validate_on_submit():
        if call_service(form, structure.update_neighbourhood, current_user, now(), neighbourhood,
                        names=names_from(form), default_locale=form.default_locale.data,
                        quorum_percent=form.quorum_percent.data, majority=form.majority.data,
                        support_threshold=form.support_threshold.data,
                        support_threshold_percent=form.support_threshold_percent.data,
                        bounds=(form.min_latitude.data, form.min_longitude.data, form.max_latitude.data,
                                form.max_longitude.data)) is not None:
            flash(_("The neighbourhood has been saved."), "success")
            return redirect(url_for(".neighbourhood", slug=slug))
    return _neighbourhood_page(neighbourhood, form, AppointForm(formdata=None), form_status())


@bp.route("/n/<slug>/muhtars", methods=["POST"])
def appoint_muhtar(slug: str):
    neighbourhood = directory.get_neighbourhood(slug)
    appoint = AppointForm()
    if appoint.validate_on_submit():
        user = call_service(appoint, directory.user_by_email, appoint.email.data)
        if user is not None and call_service(appoint, structure.appoint_muhtar, current_user, now(),
                                             neighbourhood, user) is not None:
            flash(_("%(name)s is now muhtar of this neighbourhood.", name=user.display_name), "success")
            return redirect(url_for(".neighbourhood", slug=slug))
    return _neighbourhood_page(neighbourhood, NeighbourhoodEditForm(formdata=None, obj=neighbourhood), appoint, 400)


@bp.route("/muhtars/<int:membership_id>/dismiss", methods=["POST"])
def dismiss_muhtar(membership_id: int):
    appointment = directory.get_by_id(Membership, membership_id)
    form = ReasonForm()
    if form.validate_on_submit() and call_service(form, structure.dismiss_muhtar, current_user, now(),
                                                  appointment, form.reason.data) is not None:
        flash(_("The muhtar has been dismissed."), "success")
    else:
        # Field errors, and the service's refusals that belong to no field (already dismissed).
        for message in [m for messages in form.errors.values() for m in messages] + g.get("page_errors", []):
            flash(message, "error")
    return redirect(url_for(".neighbourhood", slug=appointment.neighbourhood.slug))


@bp.route("/m/<code>/bodies/new", methods=["GET", "POST"])
def new_body(code: str):
    municipality = _municipality(code)
    form = BodyForm()
    if form.validate_on_submit():
        body = call_service(form, structure.create_body, current_user, now(), municipality=municipality,
                            slug=form.slug.data, name=form.name.data, kind=form.kind.data,
                            answer_days=form.answer_days.data)
        if body is not None:
            flash(_("The body has been created."), "success")
            return redirect(url_for(".body", body_id=body.id))
    return render_template("admin/form.html", form=form, title=_("New body in %(name)s",
                           name=municipality.name)), form_status()


def _body_page(body: Body, appoint: AppointForm, status: int = 200):
    staff = list(db.session.scalars(select(BodyStaff).where(BodyStaff.body_id == body.id).order_by(BodyStaff.id)))
    return render_template("admin/body.html", body=body, staff=staff, appoint=appoint), status


@bp.route("/bodies/<int:body_id>", methods=["GET", "POST"])
def body(body_id: int):
    body = directory.get_by_id(Body, body_id)
    appoint = AppointForm()
    if appoint.validate_on_submit():
        user = call_service(appoint, directory.user_by_email, appoint.email.data)
        if user is not None and call_service(appoint, structure.appoint_staff, current_user, now(),
                                             body, user) is not None:
            flash(_("%(name)s has been added to the staff.", name=user.display_name), "success")
            return redirect(url_for(".body", body_id=body.id))
    return _body_page(body, appoint, form_status())


@bp.route("/staff/<int:staff_id>/remove", methods=["POST"])
def remove_staff(staff_id: int):
    staff = directory.get_by_id(BodyStaff, staff_id)
    body_id = staff.body_id
    if ButtonForm().validate_on_submit():
        structure.remove_staff(current_user, now(), staff)
        flash(_("The person has been removed from the staff."), "success")
    return redirect(url_for(".body", body_id=body_id))


@bp.route("/m/<code>/categories/new", methods=["GET", "POST"])
def new_category(code: str):
    municipality = _municipality(code)
    form = CategoryForm()
    form.default_body.choices = [(0, _("None"))] + [(b.id, b.name) for b in municipality.bodies]
    if form.validate_on_submit():
        default_body = db.session.get(Body, form.default_body.data) if form.default_body.data else None
        category = call_service(form, structure.create_category, current_user, now(),
                                municipality=municipality, slug=form.slug.data, names=names_from(form),
                                default_body=default_body)
        if category is not None:
            flash(_("The category has been created."), "success")
            return redirect(url_for(".municipality", code=municipality.code))
    return render_template("admin/form.html", form=form, title=_("New category in %(name)s",
                           name=municipality.name)), form_status()


@bp.route("/audit")
def audit_log():
    require("read_audit_log")
    action = request.args.get("action") or None
    events = audit.list_events(before_id=query_int("before"), action=action)
    return render_template("admin/audit.html", events=events, actions=audit.known_actions(), action=action,
                           next_before=events[-1].id if len(events) == 50 else None)
