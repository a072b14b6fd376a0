"""Consultation pages: the public draft with its documents and answers, the staff's form, the
muhtar's agenda and answer forms, and the lists of a body and of a neighbourhood."""
from __future__ import annotations

import io

from flask import Blueprint, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assembly import permissions
from assembly.assemblies import services as assemblies
from assembly.cases import wording
from assembly.consultations import files, queries, services
from assembly.consultations.forms import AgendaForm, AnswerForm, ConsultationForm
from assembly.consultations.models import kind_label
from assembly.db import db
from assembly.errors import NotFound
from assembly.extensions import limiter
from assembly.i18n import localized_name, use_timezone, wall_clock_to_utc
from assembly.neighbourhoods import context
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.neighbourhoods.directory import get_neighbourhood
from assembly.neighbourhoods.models import Body
from assembly.rate_limits import person_key
from assembly.web import call_service, form_status, now, require

bp = Blueprint("consultations", __name__)
bp.url_value_preprocessor(context.from_url)  # the neighbourhood of /n/<slug>/…
_writes = limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], key_func=person_key)


def _body(body_id: int) -> Body:
    body = db.session.get(Body, body_id)
    if body is None:
        raise NotFound(_("There is no such body."))
    use_timezone(body.municipality.timezone)
    return body


def _consultation(consultation_id: int):
    consultation = queries.get_consultation(consultation_id)
    use_timezone(consultation.body.municipality.timezone)
    return consultation


# --- public pages -------------------------------------------------------------------------------

def _muhtar_panels(consultation, agenda_form=None, answer_form=None, failed_slug=None) -> list[dict]:
    """For each consulted neighbourhood the reader is muhtar of: its sessions with the item,
    the sessions that can still take it, and whether it can answer now."""
    if not current_user.is_authenticated:
        return []
    panels = []
    answered = {row.answer.neighbourhood_id for row in queries.answers(consultation)}
    for consulted in consultation.neighbourhoods:
        hood = consulted.neighbourhood
        if not permissions.can(current_user, "answer_consultation", hood):
            continue
        sessions = queries.sessions_for_agenda(hood.id, now())
        form = agenda_form if failed_slug == hood.slug and agenda_form is not None else AgendaForm(formdata=None)
        form.assembly_id.choices = [(a.id, a.title) for a in sessions]
        counted = services.counted_item(consultation, hood.id)
        panels.append({
            "hood": hood, "on_agenda": queries.agenda_items_of(consultation, hood.id), "agenda_form": form,
            "answered": hood.id in answered, "counted": counted,
            "answer_form": answer_form if failed_slug == hood.slug and answer_form is not None
            else AnswerForm(formdata=None),
        })
    return panels


def _page(consultation, status: int = 200, **panel_args):
    rows = queries.answers(consultation)
    return render_template(
        "consultations/show.html", consultation=consultation, rows=rows, kind_label=kind_label,
        answered={row.answer.neighbourhood_id for row in rows}, closed=now() > consultation.deadline,
        status_label=wording.for_kind(consultation.body.kind), panels=_muhtar_panels(consultation, **panel_args),
        staff=current_user.is_authenticated and permissions.can(current_user, "manage_consultations",
                                                                consultation.body),
    ), status


@bp.route("/consultations/<int:consultation_id>")
def show(consultation_id: int):
    return _page(_consultation(consultation_id))


@bp.route("/consultations/<int:consultation_id>/documents/<int:document_id>")
def document(consultation_id: int, document_id: int):
    found = queries.get_document(consultation_id, document_id)
    path = files.folder() / found.stored_name if found.stored_name else None
    if path is None or not path.is_file():  # links are shown as links, never redirected through here
        raise NotFound(_("There is no such document."))
    # Read whole (at most MAX_PDF_BYTES): no open file is left to whoever does not read the answer.
    return send_file(io.BytesIO(path.read_bytes()), mimetype="application/pdf", as_attachment=True,
                     download_name=found.title, max_age=3600)


@bp.route("/bodies/<int:body_id>/consultations")
def of_body(body_id: int):
    body = _body(body_id)
    return render_template("consultations/list.html", body=body, consultations=queries.of_body(body),
                           kind_label=kind_label, now=now(),
                           staff=current_user.is_authenticated and permissions.can(
                               current_user, "manage_consultations", body))


@bp.route("/n/<slug>/consultations")
def of_neighbourhood(slug: str):
    neighbourhood = current_neighbourhood()
    return render_template("consultations/neighbourhood.html", neighbourhood=neighbourhood,
                           consultations=queries.of_neighbourhood(neighbourhood), kind_label=kind_label, now=now())


# --- the body's staff ---------------------------------------------------------------------------

def _links(text: str | None) -> list[services.Link]:
    links = []
    for line in (text or "").splitlines():
        if line.strip():
            title, _bar, url = line.rpartition("|") if "|" in line else ("", "", line)
            links.append(services.Link(title.strip(), url.strip()))
    return links


@bp.route("/staff/bodies/<int:body_id>/consultations/new", methods=["GET", "POST"])
@_writes
@login_required
def new(body_id: int):
    body = _body(body_id)
    require("manage_consultations", body)
    form = ConsultationForm()
    form.neighbourhood_ids.choices = [(hood.id, localized_name(hood.names, hood.slug))
                                      for hood in queries.neighbourhoods_of(body)]
    if form.validate_on_submit():
        uploads = [services.Upload(f.filename or "", f.read()) for f in form.files.data or [] if f and f.filename]
        made = call_service(form, services.create_consultation, current_user, now(), body, kind=form.kind.data,
                            title=form.title.data, text=form.text.data,
                            deadline=wall_clock_to_utc(form.deadline.data, body.municipality.timezone),
                            neighbourhood_ids=form.neighbourhood_ids.data or [], links=_links(form.links.data),
                            files=uploads, storage=files.folder())
        if made is not None:
            flash(_("The draft has been put to the neighbourhoods."), "success")
            return redirect(url_for(".show", consultation_id=made.id))
    return render_template("consultations/new.html", body=body, form=form), form_status()


# --- the muhtar ------------------------------------------------------------------------------------

@bp.route("/consultations/<int:consultation_id>/n/<slug>/agenda", methods=["POST"])
@_writes
@login_required
def put_on_agenda(consultation_id: int, slug: str):
    consultation = _consultation(consultation_id)
    hood = get_neighbourhood(slug)
    require("manage_assemblies", hood)
    form = AgendaForm()
    form.assembly_id.choices = [(a.id, a.title) for a in queries.sessions_for_agenda(hood.id, now())]
    if form.validate_on_submit():
        assembly = assemblies.get_assembly(current_user, hood, form.assembly_id.data)
        if call_service(form, services.put_on_agenda, current_user, now(), assembly, consultation) is not None:
            flash(_("The consultation is on the agenda of “%(title)s”.", title=assembly.title), "success")
            return redirect(url_for("assemblies.show", slug=hood.slug, assembly_id=assembly.id, _anchor="agenda"))
    return _page(consultation, 400, agenda_form=form, failed_slug=hood.slug)


@bp.route("/consultations/<int:consultation_id>/n/<slug>/answer", methods=["POST"])
@_writes
@login_required
def answer(consultation_id: int, slug: str):
    consultation = _consultation(consultation_id)
    hood = get_neighbourhood(slug)
    require("answer_consultation", hood)
    form = AnswerForm()
    if form.validate_on_submit():
        sent = call_service(form, services.send_answer, current_user, now(), consultation, hood,
                            comment=form.comment.data)
        if sent is not None:
            flash(_("The answer has been sent to %(body)s as case %(reference)s.", body=consultation.body.name,
                    reference=sent[1].reference), "success")
            return redirect(url_for(".show", consultation_id=consultation.id, _anchor="answers"))
    return _page(consultation, 400, answer_form=form, failed_slug=hood.slug)

