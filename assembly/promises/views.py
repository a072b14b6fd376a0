"""Public pages of promises and programmes (with the indicator charts), the printable booklet and
its PDF, and the forms of staff (progress, signatures, reports) and muhtars (co-signing, comments)."""
from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from assembly import permissions
from assembly.config import LOCALES
from assembly.db import db
from assembly.extensions import limiter
from assembly.errors import NotFound
from assembly.forms import ButtonForm, ReasonForm
from assembly.i18n import format_date, format_number, format_percent, latin_digits, use_place
from assembly.params import MAX_ID, parse_int
from assembly.neighbourhoods import context
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.i18n import localized_name
from assembly.neighbourhoods.models import Body, Neighbourhood
from assembly.printing import pdf_headers, qr_svg, render_pdf
from assembly.rate_limits import person_key
from assembly.photos import services as photo_services
from assembly.promises import charts, queries, services, survey_indicator
from assembly.promises import photos as progress_photos
from assembly.promises.forms import (
    CommentForm,
    CommitmentForm,
    CosignForm,
    ProgressForm,
    PromiseForm,
    ReportForm,
    SignForm,
)
from assembly.promises.models import INDICATOR_LABELS, PROMISE_LIFECYCLE, FollowUpReport, IndicatorKind, Promise
from assembly.urls import external_url
from assembly.web import call_service, now, require

bp = Blueprint("promises", __name__)
bp.url_value_preprocessor(context.from_url)



def _write_limit():
    return limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)


def _promise(promise_id: int) -> Promise:
    promise = queries.get_promise(promise_id)
    require("view_promise", promise)
    use_place(locale=promise.locale, timezone=promise.municipality.timezone)
    return promise


# --- how values read -------------------------------------------------------------------------------

def show_value(commitment, value) -> str:
    """A value of the commitment's indicator in the reader's words."""
    if value is None:
        return "–"
    if commitment.indicator_kind == IndicatorKind.YES_NO.value:
        return _("yes") if value >= 0.5 else _("no")
    if commitment.indicator_kind in (IndicatorKind.PERCENT.value, IndicatorKind.SURVEY_QUESTION.value):
        return format_percent(Decimal(str(round(value, 1))))
    return format_number(int(value) if float(value).is_integer() else round(value, 2))


def _scale_label(commitment):
    """Numbers only (a yes/no scale has none): see `charts.indicator_chart`."""
    def label(value: float) -> str:
        if commitment.indicator_kind == IndicatorKind.YES_NO.value:
            return ""
        return format_number(round(value) if float(value).is_integer() or value >= 10 else round(value, 1))
    return label


def _chart(commitment, series, prefix: str) -> Markup:
    latest = series.points[-1] if series.points else None
    description = _("Baseline %(baseline)s, target %(target)s, latest value %(latest)s.",
                    baseline=show_value(commitment, commitment.baseline),
                    target=show_value(commitment, commitment.target),
                    latest=show_value(commitment, latest[1] if latest else None))
    return charts.indicator_chart(series, title=commitment.indicator_label, description=description,
                                  scale_label=_scale_label(commitment), chart_id=f"{prefix}chart-{commitment.id}")


def _commitment_rows(promise, today: dt.date, prefix: str = "") -> list[dict]:
    zone = ZoneInfo(promise.municipality.timezone)
    events = queries.events_by_commitment(promise)
    origins = queries.meeting_origins(promise)
    rows = []
    for commitment in promise.commitments:
        timeline = events.get(commitment.id, [])
        series = queries.series_of(promise, commitment, timeline, zone)
        survey = None
        if commitment.survey_question_id is not None:
            question, option = survey_indicator.describe(commitment.survey_question_id, commitment.survey_option)
            slug = next((p.neighbourhood.slug for p in promise.places
                         if p.neighbourhood_id in question.survey.neighbourhood_ids), None)
            survey = {"question": question, "option": option,
                      "url": slug and url_for("surveys.show_results", slug=slug, survey_id=question.survey_id)}
        rows.append({
            "commitment": commitment, "state": queries.state_of(commitment, today), "events": timeline,
            "chart": _chart(commitment, series, prefix), "points": series.points,
            "latest": series.points[-1][1] if series.points else commitment.current_value, "survey": survey,
            "bodies": [row.body for row in commitment.responsible],
            "indicator_kind": INDICATOR_LABELS[IndicatorKind(commitment.indicator_kind)],
            "origin": origins.get(commitment.id),
        })
    return rows


def _survey_links(promise) -> list[dict]:
    links = []
    for survey in queries.surveys_of(promise):
        slug = next((p.neighbourhood.slug for p in promise.places if p.neighbourhood_id in survey.neighbourhood_ids),
                    None)
        if slug is not None:
            links.append({"survey": survey, "url": url_for("surveys.show_results", slug=slug, survey_id=survey.id)})
    return links


def _helpers() -> dict:
    return {"show_value": show_value, "state_label": queries.state_label,
            "status_label": PROMISE_LIFECYCLE.label}


# --- public pages ------------------------------------------------------------------------------------

@bp.route("/n/<slug>/promises")
def of_neighbourhood(slug: str):
    neighbourhood = current_neighbourhood()
    return render_template("promises/list.html", neighbourhood=neighbourhood,
                           promises=queries.promises_of_neighbourhood(neighbourhood.id), **_helpers())


@bp.route("/pr/<int:promise_id>")
def short(promise_id: int):
    """The short address printed under the booklet's QR code."""
    return redirect(url_for(".show", promise_id=promise_id), 301)


def _page(promise: Promise, status: int = 200, **forms):
    today = services.local_today(promise, now())
    rows = _commitment_rows(promise, today)
    reports = queries.reports_of(promise)
    user = current_user
    staff_bodies = [s.body for s in promise.signatories if permissions.can(user, "act_for_body", s.body)]
    muhtar_places = [p.neighbourhood for p in promise.places if permissions.can(user, "moderate", p.neighbourhood)]
    written = {(r.report.due_on, r.report.body_id) for r in reports}
    due_choices = [(day.isoformat(), format_date(day)) for day in services.report_dates(promise)
                   if any((day, b.id) not in written for b in staff_bodies)]
    sign_form = forms.get("sign") or SignForm(formdata=None)
    sign_form.body_id.choices = [(s.body_id, s.body.name) for s in promise.signatories
                                 if s.signed_at is None and s.body in staff_bodies]
    cosign_form = forms.get("cosign") or CosignForm(formdata=None)
    cosign_form.neighbourhood_id.choices = [(p.neighbourhood_id, p.neighbourhood.name_in(p.neighbourhood.default_locale))
                                            for p in promise.places
                                            if p.cosigned_at is None and p.neighbourhood in muhtar_places]
    report_form = forms.get("report") or ReportForm(formdata=None)
    report_form.body_id.choices = [(b.id, b.name) for b in staff_bodies]
    report_form.due_on.choices = due_choices
    comment_form = forms.get("comment") or CommentForm(formdata=None)
    comment_form.neighbourhood_id.choices = [(n.id, n.name_in(n.default_locale)) for n in muhtar_places]
    commitment = forms.get("commitment") or commitment_form(promise, CommitmentForm(formdata=None))
    commitment_form(promise, commitment)
    progress_forms = {row["commitment"].id: (forms["progress"] if forms.get("progress_for") == row["commitment"].id
                                            else ProgressForm(formdata=None, percent=row["commitment"].progress))
                      for row in rows}
    for progress_form in progress_forms.values():
        progress_form.photos.description = photo_services.upload_help()
    return render_template(
        "promises/show.html", promise=promise, rows=rows, reports=reports, proposals=queries.proposals_of(promise),
        surveys=_survey_links(promise),
        overdue=[row for row in rows if row["state"] == "overdue"], today=today,
        next_report=services.next_report_due(promise, [r.report for r in reports], today),
        report_dates=services.report_dates(promise), staff_bodies=staff_bodies, muhtar_places=muhtar_places,
        can_record={row["commitment"].id: permissions.can(user, "record_progress", row["commitment"])
                    for row in rows},
        photos=progress_photos.photos_of([event.id for row in rows for event in row["events"]]),
        reason_form=ReasonForm(formdata=None),
        progress_forms=progress_forms, sign_form=sign_form, cosign_form=cosign_form, report_form=report_form,
        comment_form=comment_form, commitment_form=commitment, button=ButtonForm(), following=queries.is_following(user, promise),
        short_url=external_url("promises.short", promise_id=promise.id), **_helpers()), status


@bp.route("/promises/<int:promise_id>")
def show(promise_id: int):
    return _page(_promise(promise_id))


# --- the booklet --------------------------------------------------------------------------------------

def _booklet_locale(promise: Promise) -> str:
    """The booklet's language: the promise's (its neighbourhood's), unless `?language=` asks for
    another one (as for the other printed documents, docs/paper.md)."""
    asked = request.args.get("language")
    return asked if asked in LOCALES else promise.locale


PRINTED_PHOTO_SIDE = 120  # CSS pixels: about 3 cm on paper, as the meetings' printed agenda


def _printed_photos(rows: list[dict], as_pdf: bool) -> tuple[dict[int, list[dict]], bool]:
    """The booklet's progress photos (`progress_photos.for_booklet`) as thumbnails. Inside the PDF
    they are `data:` addresses read from the photo store, the only images besides static files that
    the PDF renderer may read (`printing._fetcher`); the page links the public thumbnail addresses,
    which the browser loads (and caches) as on the live page."""
    chosen, more = progress_photos.for_booklet([(row["commitment"].id, row["events"]) for row in rows])
    printed: dict[int, list[dict]] = {}
    for commitment_id, pairs in chosen.items():
        for step, photo in pairs:
            if as_pdf:
                data = photo_services.file_of(photo, thumb=True)
                if data is None:  # a lost file (`flask promises verify` reports it): the booklet still prints
                    continue
                src = f"data:image/jpeg;base64,{base64.b64encode(data).decode('ascii')}"
            else:
                src = url_for("photos.thumb", photo_id=photo.id)
            scale = PRINTED_PHOTO_SIDE / max(photo.width, photo.height)
            printed.setdefault(commitment_id, []).append({
                "src": src, "step": step, "width": round(photo.width * scale), "height": round(photo.height * scale)})
    return printed, more


def _booklet_html(promise: Promise, locale: str, as_pdf: bool) -> str:
    with force_locale(locale):
        today = services.local_today(promise, now())
        reports = queries.reports_of(promise)
        short_url = external_url("promises.short", promise_id=promise.id)
        rows = _commitment_rows(promise, today, prefix="print-")
        photos, more_photos = _printed_photos(rows, as_pdf)
        return render_template(
            "promises/booklet.html", promise=promise, rows=rows, photos=photos, more_photos=more_photos,
            reports=reports, proposals=queries.proposals_of(promise), surveys=_survey_links(promise), today=today,
            as_pdf=as_pdf,
            report_dates=services.report_dates(promise), short_url=short_url, locale=locale,
            qr=qr_svg(short_url, label=_("The live page of this promise")), **_helpers())


@bp.route("/promises/<int:promise_id>/booklet")
def booklet(promise_id: int):
    promise = _promise(promise_id)
    return _booklet_html(promise, _booklet_locale(promise), as_pdf=False)


@bp.route("/promises/<int:promise_id>/booklet.pdf")
@limiter.limit(lambda: current_app.config["RATELIMIT_PDF"], key_func=person_key)  # a PDF costs a worker a second
def booklet_pdf(promise_id: int):
    promise = _promise(promise_id)
    locale = _booklet_locale(promise)
    pdf = render_pdf(_booklet_html(promise, locale, as_pdf=True))
    return Response(pdf, headers=pdf_headers(f"promise-{promise.id}-{locale}.pdf"))


# --- staff and muhtars ------------------------------------------------------------------------------

def _done(message: str, promise: Promise, anchor: str | None = None):
    flash(message, "success")
    return redirect(url_for(".show", promise_id=promise.id, _anchor=anchor))


@bp.route("/promises/<int:promise_id>/commitments/<int:commitment_id>/progress", methods=["POST"])
@login_required
@_write_limit()
def progress(promise_id: int, commitment_id: int):
    promise = _promise(promise_id)
    commitment = queries.get_commitment(promise, commitment_id)
    require("record_progress", commitment)
    form = ProgressForm()
    if form.validate_on_submit():
        links = (form.evidence.data or "").splitlines()
        uploads = photo_services.read_uploads(request.files.getlist(form.photos.name),
                                              current_app.config["PHOTO_MAX_BYTES"])
        if call_service(form, progress_photos.record_with_photos, current_user, now(), commitment, uploads=uploads,
                        percent=form.percent.data, value=(form.value.data or "").strip() or None,
                        note=form.note.data, evidence=links) is not None:
            return _done(_("The progress has been recorded."), promise, f"c{commitment.id}")
    return _page(promise, 400, progress=form, progress_for=commitment.id)


@bp.route("/promises/<int:promise_id>/sign", methods=["POST"])
@login_required
@_write_limit()
def sign(promise_id: int):
    promise = _promise(promise_id)
    require("manage_promise", promise)
    form = SignForm()
    form.body_id.choices = [(s.body_id, s.body.name) for s in promise.signatories]
    if form.validate_on_submit():
        body = db.session.get(Body, form.body_id.data)
        if call_service(form, services.sign, current_user, now(), promise, body) is not None:
            return _done(_("Signed."), promise)
    return _page(promise, 400, sign=form)


@bp.route("/promises/<int:promise_id>/publish", methods=["POST"])
@login_required
@_write_limit()
def publish(promise_id: int):
    promise = _promise(promise_id)
    require("manage_promise", promise)
    if ButtonForm().validate_on_submit():
        if call_service(None, services.publish, current_user, now(), promise) is not None:
            return _done(_("The promise has been published."), promise)
        for message in g.pop("page_errors", []):
            flash(message, "error")
    return redirect(url_for(".show", promise_id=promise.id))


@bp.route("/promises/<int:promise_id>/cosign", methods=["POST"])
@login_required
@_write_limit()
def cosign(promise_id: int):
    promise = _promise(promise_id)
    require("cosign_promise", promise)
    form = CosignForm()
    form.neighbourhood_id.choices = [(p.neighbourhood_id, p.neighbourhood.slug) for p in promise.places]
    if form.validate_on_submit():
        neighbourhood = db.session.get(Neighbourhood, form.neighbourhood_id.data)
        if call_service(form, services.cosign, current_user, now(), promise, neighbourhood) is not None:
            return _done(_("Co-signed for the neighbourhood."), promise)
    return _page(promise, 400, cosign=form)


@bp.route("/promises/<int:promise_id>/reports", methods=["POST"])
@login_required
@_write_limit()
def report(promise_id: int):
    promise = _promise(promise_id)
    require("manage_promise", promise)
    form = ReportForm()
    form.body_id.choices = [(s.body_id, s.body.name) for s in promise.signatories]
    form.due_on.choices = [(day.isoformat(), day.isoformat()) for day in services.report_dates(promise)]
    if form.validate_on_submit():
        body = db.session.get(Body, form.body_id.data)
        due_on = dt.date.fromisoformat(form.due_on.data)
        if call_service(form, services.write_report, current_user, now(), promise, body, due_on,
                        form.text.data) is not None:
            return _done(_("The follow-up report has been published."), promise, "reports")
    return _page(promise, 400, report=form)


@bp.route("/promises/<int:promise_id>/reports/<int:report_id>/comments", methods=["POST"])
@login_required
@_write_limit()
def comment(promise_id: int, report_id: int):
    promise = _promise(promise_id)
    require("comment_promise", promise)
    found = db.session.get(FollowUpReport, report_id)
    if found is None or found.promise_id != promise.id:
        raise NotFound(_("There is no such report."))
    form = CommentForm()
    form.neighbourhood_id.choices = [(p.neighbourhood_id, p.neighbourhood.slug) for p in promise.places]
    if form.validate_on_submit():
        neighbourhood = db.session.get(Neighbourhood, form.neighbourhood_id.data)
        if call_service(form, services.comment_report, current_user, now(), found, neighbourhood,
                        form.text.data) is not None:
            return _done(_("Your comment has been added."), promise, f"report-{found.id}")
    return _page(promise, 400, comment=form)


@bp.route("/promises/<int:promise_id>/follow", methods=["POST"])
@login_required
@_write_limit()
def follow(promise_id: int):
    promise = _promise(promise_id)
    require("follow")
    if not ButtonForm().validate_on_submit():
        abort(400)
    if queries.is_following(current_user, promise):
        services.unfollow(current_user, now(), promise)
        flash(_("You no longer follow this promise."), "info")
    else:
        services.follow(current_user, now(), promise)
        flash(_("You follow this promise: you will be told of progress and reports."), "success")
    return redirect(url_for(".show", promise_id=promise.id))


@bp.route("/staff/promises")
@login_required
def staff_list():
    require("create_promise")
    roles = permissions.roles_of(current_user)
    return render_template("promises/staff_list.html", promises=queries.promises_of_bodies(roles.staff_of),
                           **_helpers())


# --- writing a promise (staff) ------------------------------------------------------------------------

def _promise_form(form: PromiseForm, municipality_id: int) -> tuple[PromiseForm, dict]:
    found = queries.choices_for(municipality_id)
    form.neighbourhoods.choices = [(n.id, localized_name(n.names, n.slug)) for n in found["neighbourhoods"]]
    form.bodies.choices = [(b.id, b.name) for b in found["bodies"]]
    form.proposals.choices = [(p.id, p.title) for p in found["proposals"]]
    found["surveys"] = survey_indicator.surveys_for({n.id for n in found["neighbourhoods"]})
    form.surveys.choices = [(s.id, s.title) for s in found["surveys"]]
    return form, found


@bp.route("/staff/promises/new", methods=["GET", "POST"])
@login_required
@_write_limit()
def new():
    require("create_promise")
    own = db.session.get(Body, min(permissions.roles_of(current_user).staff_of))
    use_place(locale=own.municipality.default_locale, timezone=own.municipality.timezone)
    form, found = _promise_form(PromiseForm() if request.method == "POST" else PromiseForm(formdata=None),
                                own.municipality_id)
    if request.method == "GET":
        form.bodies.data = [own.id]
    if form.validate_on_submit():
        by_id = {"neighbourhoods": {n.id: n for n in found["neighbourhoods"]},
                 "bodies": {b.id: b for b in found["bodies"]}, "proposals": {p.id: p for p in found["proposals"]},
                 "surveys": {s.id: s for s in found["surveys"]}}
        promise = call_service(
            form, services.create_promise, current_user, now(), kind=form.kind.data, title=form.title.data,
            summary=form.summary.data, neighbourhoods=[by_id["neighbourhoods"][i] for i in form.neighbourhoods.data],
            bodies=[by_id["bodies"][i] for i in form.bodies.data],
            proposals=[by_id["proposals"][i] for i in form.proposals.data],
            surveys=[by_id["surveys"][i] for i in form.surveys.data], period_start=form.period_start.data,
            period_end=form.period_end.data, report_every_months=form.report_every_months.data)
        if promise is not None:
            return _done(_("The draft has been saved. Add its commitments, then every body signs it."), promise,
                         "add-commitment")
    return render_template("promises/new.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/promises/<int:promise_id>/commitments", methods=["POST"])
@login_required
@_write_limit()
def add_commitment(promise_id: int):
    promise = _promise(promise_id)
    require("manage_promise", promise)
    form = commitment_form(promise, CommitmentForm())
    if form.validate_on_submit():
        bodies = [s.body for s in promise.signatories if s.body_id in set(form.bodies.data)]
        question_id, option = _survey_choice(form.survey_question_id.data)
        budget = parse_int(latin_digits((form.budget.data or "").strip()), 0, services.MAX_BUDGET) if form.budget.data else None
        if form.budget.data and budget is None:
            form.budget.errors = [_("Give the budget as a whole amount, 0 or more.")]
            return _page(promise, 400, commitment=form)
        if call_service(form, services.add_commitment, current_user, now(), promise, title=form.title.data,
                        description=form.description.data, bodies=bodies, indicator_kind=form.indicator_kind.data,
                        indicator_label=form.indicator_label.data, due_on=form.due_on.data,
                        baseline=(form.baseline.data or "").strip() or None,
                        target=(form.target.data or "").strip() or None, budget=budget,
                        currency=form.currency.data, survey_question_id=question_id, survey_option=option) is not None:
            return _done(_("The commitment has been added."), promise, "add-commitment")
    return _page(promise, 400, commitment=form)


def commitment_form(promise: Promise, form: CommitmentForm) -> CommitmentForm:
    form.bodies.choices = [(s.body_id, s.body.name) for s in promise.signatories]
    form.survey_question_id.choices = [("", "–")] + survey_indicator.question_choices(promise.neighbourhood_ids)
    return form


def _survey_choice(value: str | None) -> tuple[int | None, int | None]:
    """"<question id>:<option number>" from the form."""
    question, _sep, option = (value or "").partition(":")
    return parse_int(question, 1, MAX_ID), parse_int(option, 0, 1000)
