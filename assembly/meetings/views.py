"""Meeting pages: the list of a neighbourhood's meetings, setting one up, the public page with
questions and supports, recording at the meeting, the calendar entry and the printable
agenda/minutes (a page, and a PDF in the meeting's language)."""
from __future__ import annotations

import base64
import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select
from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assembly import i18n, permissions
from assembly.db import db
from assembly.errors import NotFound
from assembly.extensions import limiter
from assembly.forms import ButtonForm, ReasonForm
from assembly.i18n import format_date, latin_digits, localized_name, utc_to_wall_clock, wall_clock_to_utc
from assembly.meetings import photos as question_photos
from assembly.meetings import assisted, services
from assembly.meetings.forms import AnswerForm, AttendanceForm, MeetingForm, MinutesForm, QuestionForm
from assembly.meetings.models import FOLLOW_UP_LABELS, MEETING_LIFECYCLE, FollowUp, MeetingStatus
from assembly.meetings.services import Invitation, MeetingInput
from assembly.neighbourhoods import context
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.neighbourhoods.models import Body, Category, Neighbourhood
from assembly.params import MAX_ID, parse_int
from assembly.photos import services as photo_services
from assembly.printing import pdf_headers, qr_svg, render_pdf
from assembly.promises import queries as promise_queries
from assembly.promises import services as promise_services
from assembly.promises.models import Commitment
from assembly.promises.services import MeetingCommitment
from assembly.rate_limits import person_key
from assembly.urls import external_url, site_host
from assembly.web import call_service, form_status, now, require

bp = Blueprint("meetings", __name__)
bp.url_value_preprocessor(context.from_url)  # /n/<slug>/meetings names a neighbourhood


def _write_limit():
    return limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)


def _flash_errors() -> None:
    for message in g.pop("page_errors", []):
        flash(message, "error")


def _meeting(meeting_id: int):
    meeting = services.get_meeting(current_user, meeting_id)
    municipality = meeting.municipality
    i18n.use_place(locale=municipality.default_locale, timezone=municipality.timezone)
    return meeting


def _question(meeting, question_id: int):
    return services.get_question(meeting, question_id)


def _back(meeting, anchor: str | None = None):
    return redirect(url_for(".show", meeting_id=meeting.id, _anchor=anchor))


# --- a neighbourhood's meetings and setting one up ---------------------------------------------------

@bp.route("/n/<slug>/meetings")
def index(slug: str):
    neighbourhood = current_neighbourhood()
    return render_template("meetings/index.html", neighbourhood=neighbourhood,
                           meetings=services.meetings_of(current_user, neighbourhood),
                           status_label=MEETING_LIFECYCLE.label)


def _organiser_choices(municipality_id: int) -> list[tuple[str, str]]:
    roles = permissions.roles_of(current_user)
    choices = []
    hoods = db.session.scalars(select(Neighbourhood.id).where(Neighbourhood.municipality_id == municipality_id))
    if roles.muhtar_of & set(hoods):
        choices.append(("muhtars", _("The muhtars of the neighbourhoods, together")))
    for body in db.session.scalars(select(Body).where(Body.id.in_(roles.staff_of),
                                                         Body.municipality_id == municipality_id)):
        choices.append((f"body-{body.id}", body.name))
    return choices


def _prepare(form: MeetingForm, municipality) -> list[Body]:
    form.organiser.choices = _organiser_choices(municipality.id)
    form.neighbourhoods.choices = [(hood.id, hood.name_in(i18n.current_locale()))
                                   for hood in municipality.neighbourhoods]
    return list(municipality.bodies)


def _input(form: MeetingForm, municipality, bodies: list[Body]) -> MeetingInput:
    zone = municipality.timezone
    invitations = [Invitation(body.id, request.form.get(f"representative-{body.id}", ""))
                   for body in bodies if request.form.get(f"representative-{body.id}", "").strip()]
    return MeetingInput(title=form.title.data, starts_at=wall_clock_to_utc(form.starts_at.data, zone),
                        ends_at=wall_clock_to_utc(form.ends_at.data, zone), place=form.place.data,
                        neighbourhood_ids=list(form.neighbourhoods.data or []), invitations=invitations)


def _editor(form, municipality, bodies, representatives, meeting=None, neighbourhood=None):
    return render_template("meetings/edit.html", form=form, municipality=municipality, bodies=bodies,
                           representatives=representatives, meeting=meeting,
                           neighbourhood=neighbourhood), form_status()


@bp.route("/n/<slug>/meetings/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    neighbourhood = current_neighbourhood()
    require("create_meeting")
    municipality = neighbourhood.municipality
    form = MeetingForm()
    bodies = _prepare(form, municipality)
    if not form.organiser.choices:
        raise NotFound(_("You organise no meetings in this municipality."))
    if request.method == "GET":
        form.neighbourhoods.data = [neighbourhood.id]
    if form.validate_on_submit():
        chosen = form.organiser.data
        organising_body = db.session.get(Body, int(chosen.removeprefix("body-"))) if chosen.startswith("body-") else None
        meeting = call_service(form, services.create_meeting, current_user, now(), municipality,
                               _input(form, municipality, bodies), organising_body=organising_body)
        if meeting is not None:
            flash(_("The meeting has been saved as a draft. Open it for questions when it is ready."), "success")
            return _back(meeting)
    _flash_errors()
    representatives = {body.id: request.form.get(f"representative-{body.id}", "") for body in bodies}
    return _editor(form, municipality, bodies, representatives, neighbourhood=neighbourhood)


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int):
    meeting = _meeting(meeting_id)
    require("organise_meeting", meeting)
    municipality = meeting.municipality
    form = MeetingForm(obj=meeting if request.method == "GET" else None)
    bodies = _prepare(form, municipality)
    current = "muhtars" if meeting.organising_body_id is None else f"body-{meeting.organising_body_id}"
    if current not in dict(form.organiser.choices):
        form.organiser.choices.append((current, meeting.organising_body.name if meeting.organising_body else current))
    if request.method == "GET":
        form.organiser.data = current
        form.starts_at.data = utc_to_wall_clock(meeting.starts_at, municipality.timezone)
        form.ends_at.data = utc_to_wall_clock(meeting.ends_at, municipality.timezone)
        form.neighbourhoods.data = sorted(meeting.neighbourhood_ids)
        representatives = {row.body_id: row.representative for row in meeting.invited}
    else:
        representatives = {body.id: request.form.get(f"representative-{body.id}", "") for body in bodies}
    if form.validate_on_submit():
        if call_service(form, services.update_meeting, current_user, now(), meeting,
                        _input(form, municipality, bodies)) is not None:
            flash(_("The meeting has been saved."), "success")
            return _back(meeting)
    _flash_errors()
    return _editor(form, municipality, bodies, representatives, meeting=meeting)


@bp.route("/meetings/<int:meeting_id>/status/<to>", methods=["POST"])
@login_required
def move(meeting_id: int, to: str):
    meeting = _meeting(meeting_id)
    require("organise_meeting", meeting)
    try:
        target = MeetingStatus(to)
    except ValueError:
        raise NotFound() from None
    if ButtonForm().validate_on_submit():
        call_service(None, services.move, current_user, now(), meeting, target)
        if not g.get("form_failed"):
            flash(_("The meeting is now: %(status)s.", status=MEETING_LIFECYCLE.label(target)), "success")
    _flash_errors()
    return _back(meeting)


# --- the public page, questions and supports -------------------------------------------------------

def _page(meeting, question_form: QuestionForm | None = None):
    questions = services.questions_of(meeting)
    asking = MEETING_LIFECYCLE.contains("asking", meeting.status)
    can_ask = asking and permissions.can(current_user, "ask_meeting_question", meeting)
    if can_ask:
        question_form = question_form or QuestionForm(formdata=None)
        question_form.body_id.choices = [(row.body_id, f"{row.body.name} — {row.representative}")
                                         for row in meeting.invited]
        question_form.photos.description = photo_services.upload_help()
    return render_template(
        "meetings/show.html", meeting=meeting, questions=questions, question_form=question_form if can_ask else None,
        photos=question_photos.photos_of([q.id for q in questions]), reason_form=ReasonForm(formdata=None),
        supported=services.supported_by(current_user, meeting), cases=services.cases_by_question(meeting),
        commitments=services.commitments_by_question(meeting),
        assisted=assisted.marks_for(meeting),
        button=ButtonForm(), status_label=MEETING_LIFECYCLE.label, follow_up_label=FOLLOW_UP_LABELS.get,
        organiser=permissions.can(current_user, "organise_meeting", meeting),
        moves=[state.value for state in MEETING_LIFECYCLE.transitions[MeetingStatus(meeting.status)]],
        asking=asking, recording=MEETING_LIFECYCLE.contains("recording", meeting.status),
        ordering=MEETING_LIFECYCLE.contains("ordering", meeting.status)), form_status()


@bp.route("/meetings/<int:meeting_id>")
def show(meeting_id: int):
    return _page(_meeting(meeting_id))


@bp.route("/meetings/<int:meeting_id>/questions", methods=["POST"])
@login_required
@_write_limit()
def ask(meeting_id: int):
    meeting = _meeting(meeting_id)
    require("ask_meeting_question", meeting)
    form = QuestionForm()
    form.body_id.choices = [(row.body_id, row.body.name) for row in meeting.invited]
    if form.validate_on_submit():
        uploads = photo_services.read_uploads(request.files.getlist(form.photos.name),
                                              current_app.config["PHOTO_MAX_BYTES"])
        question = call_service(form, question_photos.ask_with_photos, current_user, now(), meeting,
                                body_id=form.body_id.data, text=form.text.data, uploads=uploads)
        if question is not None:
            flash(_("Your question has been added. Others from the neighbourhoods can support it."), "success")
            return _back(meeting, f"question-{question.id}")
    g.form_failed = True
    return _page(meeting, form)


@bp.route("/meetings/<int:meeting_id>/questions/<int:question_id>/support", methods=["POST"])
@login_required
@_write_limit()
def support(meeting_id: int, question_id: int):
    meeting = _meeting(meeting_id)
    question = _question(meeting, question_id)
    require("support_meeting_question", question)
    if ButtonForm().validate_on_submit() and call_service(None, services.support, current_user, now(),
                                                          question) is not None:
        flash(_("Thank you for your support."), "success")
    _flash_errors()
    return _back(meeting, f"question-{question.id}")


@bp.route("/meetings/<int:meeting_id>/agenda", methods=["POST"])
@login_required
def agenda(meeting_id: int):
    meeting = _meeting(meeting_id)
    require("organise_meeting", meeting)
    if ButtonForm().validate_on_submit():
        positions = {}
        for key, value in request.form.items():
            if key.startswith("position-"):
                question_id = parse_int(key.removeprefix("position-"), 1, MAX_ID)
                if question_id is None:
                    continue
                positions[question_id] = parse_int(value, 1, services.AGENDA_MAX) if value.strip() else None
                if value.strip() and positions[question_id] is None:
                    positions[question_id] = 0  # refused by the service with its message
        call_service(None, services.set_agenda, current_user, now(), meeting, positions)
        if not g.get("form_failed"):
            flash(_("The agenda has been ordered."), "success")
    _flash_errors()
    return _back(meeting, "agenda")


# --- recording at the meeting ----------------------------------------------------------------------

def _answer_form(meeting, question, form: AnswerForm) -> tuple[AnswerForm, list]:
    categories = list(db.session.scalars(select(Category).where(
        Category.municipality_id == meeting.municipality_id).order_by(Category.slug)))
    form.category_id.choices = [(0, "—")] + [(c.id, localized_name(c.names, c.slug)) for c in categories]
    if request.method == "GET":  # the category whose cases usually go to this body
        form.category_id.data = next((c.id for c in categories if c.default_body_id == question.body_id), 0)
    found = promise_queries.open_promises_for(current_user, question)
    form.promise_id.choices = [(0, "—")] + [
        (p.id, _("%(title)s (%(start)s to %(end)s)", title=p.title, start=format_date(p.period_start),
                 end=format_date(p.period_end))) for p in found]
    if request.method == "GET" and len(found) == 1:
        form.promise_id.data = found[0].id
    return form, found


def _terms(form: AnswerForm) -> MeetingCommitment:
    budget_text = latin_digits((form.budget.data or "").strip())
    budget = parse_int(budget_text, 0, promise_services.MAX_BUDGET) if budget_text else None
    if budget_text and budget is None:
        budget = -1  # refused by the service with its message
    return MeetingCommitment(
        promise_id=form.promise_id.data or None, title=form.title.data or "", description=form.description.data,
        indicator_kind=form.indicator_kind.data or "", indicator_label=form.indicator_label.data or "",
        baseline=(form.baseline.data or "").strip() or None, target=(form.target.data or "").strip() or None,
        due_on=form.due_on.data, budget=budget, currency=form.currency.data)


@bp.route("/meetings/<int:meeting_id>/questions/<int:question_id>/answer", methods=["GET", "POST"])
@login_required
def answer(meeting_id: int, question_id: int):
    meeting = _meeting(meeting_id)
    question = _question(meeting, question_id)
    require("answer_meeting_question", question)
    form, found = _answer_form(meeting, question, AnswerForm(obj=question if request.method == "GET" else None))
    if request.method == "GET":
        form.follow_up.data = question.follow_up or "none"
    if form.validate_on_submit():
        commitment = _terms(form) if form.follow_up.data == FollowUp.COMMITMENT.value else None
        made = call_service(form, services.record_answer, current_user, now(), question, answer=form.answer.data,
                            follow_up=form.follow_up.data, category_id=form.category_id.data or None,
                            commitment=commitment)
        if not g.get("form_failed"):
            if isinstance(made, Commitment):
                flash(_("The answer has been recorded and the commitment added to “%(promise)s”.",
                        promise=made.promise.title), "success")
            elif made is not None:
                flash(_("The answer has been recorded and case %(reference)s forwarded to %(body)s.",
                        reference=made.reference, body=question.body.name), "success")
            else:
                flash(_("The answer has been recorded."), "success")
            return _back(meeting, f"question-{question.id}")
    _flash_errors()
    return render_template("meetings/answer.html", meeting=meeting, question=question, form=form,
                           promises=found, made=services.commitments_by_question(meeting).get(question.id),
                           recording=MEETING_LIFECYCLE.contains("recording", meeting.status)), form_status()


def _record_page(meeting, attendance: AttendanceForm | None = None, minutes: MinutesForm | None = None):
    attendance = attendance or AttendanceForm(formdata=None, headcount=meeting.headcount,
                                              present=[row.body_id for row in meeting.invited if row.present])
    attendance.present.choices = [(row.body_id, f"{row.body.name} — {row.representative}") for row in meeting.invited]
    minutes = minutes or MinutesForm(formdata=None, minutes=meeting.minutes)
    return render_template("meetings/record.html", meeting=meeting, attendance=attendance, minutes=minutes,
                           recording=MEETING_LIFECYCLE.contains("recording", meeting.status)), form_status()


@bp.route("/meetings/<int:meeting_id>/record")
@login_required
def record(meeting_id: int):
    meeting = _meeting(meeting_id)
    require("organise_meeting", meeting)
    return _record_page(meeting)


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["POST"])
@login_required
def attendance(meeting_id: int):
    meeting = _meeting(meeting_id)
    require("organise_meeting", meeting)
    form = AttendanceForm()
    form.present.choices = [(row.body_id, row.body.name) for row in meeting.invited]
    if form.validate_on_submit() and call_service(
            form, services.record_attendance, current_user, now(), meeting, headcount=form.headcount.data,
            present_body_ids=set(form.present.data or [])) is None and not g.get("form_failed"):
        flash(_("The attendance has been saved."), "success")
        return redirect(url_for(".record", meeting_id=meeting.id))
    _flash_errors()
    return _record_page(meeting, attendance=form)


@bp.route("/meetings/<int:meeting_id>/minutes", methods=["POST"])
@login_required
def minutes(meeting_id: int):
    meeting = _meeting(meeting_id)
    require("organise_meeting", meeting)
    form = MinutesForm()
    if form.validate_on_submit() and call_service(
            form, services.save_minutes, current_user, now(), meeting, form.minutes.data) is None \
            and not g.get("form_failed"):
        flash(_("The minutes have been saved."), "success")
        return redirect(url_for(".record", meeting_id=meeting.id))
    _flash_errors()
    return _record_page(meeting, minutes=form)


# --- calendar and paper ------------------------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/meeting.ics")
def calendar(meeting_id: int):
    meeting = _meeting(meeting_id)
    zone = ZoneInfo(meeting.municipality.timezone)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Assembly//Meetings with bodies//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-timezone", str(zone))
    event = icalendar.Event()
    event.add("uid", f"meeting-{meeting.id}@{site_host()}")
    event.add("dtstamp", meeting.updated_at)
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", (meeting.ends_at or meeting.starts_at + dt.timedelta(hours=2)).astimezone(zone))
    event.add("summary", meeting.title)
    if meeting.place:
        event.add("location", meeting.place)
    if meeting.status == MeetingStatus.CANCELLED.value:
        event.add("status", "CANCELLED")
    event.add("url", external_url("meetings.show", meeting_id=meeting.id))
    event.add("description", "\n".join(f"{row.body.name}: {row.representative}" for row in meeting.invited))
    cal.add_component(event)
    cal.add_missing_timezones()
    return Response(cal.to_ical(), mimetype="text/calendar",
                    headers={"Content-Disposition": f'inline; filename="meeting-{meeting.id}.ics"'})


PRINTED_PHOTO_SIDE = 120  # CSS pixels: about 3 cm on paper


def _printed_photos(questions, as_pdf: bool) -> dict[int, list[dict]]:
    """The questions' photos as paper shows them: the public ones as thumbnails (inside a PDF as
    data: addresses, the only images besides static files the PDF renderer may read), the hidden
    ones as their public reason, whoever prints."""
    printed: dict[int, list[dict]] = {}
    for question_id, found in question_photos.photos_of([q.id for q in questions]).items():
        for photo in found:
            scale = PRINTED_PHOTO_SIDE / max(photo.width, photo.height)
            item = {"photo": photo, "src": None, "width": round(photo.width * scale),
                    "height": round(photo.height * scale)}
            if photo.hidden_at is None:
                if as_pdf:
                    data = photo_services.file_of(photo, thumb=True)
                    item["src"] = f"data:image/jpeg;base64,{base64.b64encode(data).decode()}" if data else None
                else:
                    item["src"] = url_for("photos.thumb", photo_id=photo.id)
            printed.setdefault(question_id, []).append(item)
    return printed


def _printable(meeting, as_pdf: bool) -> str:
    """The agenda (and, once written, the minutes) in the meeting's language and time zone."""
    with force_locale(meeting.locale):
        link = external_url("meetings.show", meeting_id=meeting.id)
        questions = services.questions_of(meeting)
        return render_template("meetings/print.html", meeting=meeting, questions=questions,
                               photos=_printed_photos(questions, as_pdf),
                               cases=services.cases_by_question(meeting), assisted=assisted.marks_for(meeting),
                               commitments=services.commitments_by_question(meeting), as_pdf=as_pdf, link=link,
                               qr=qr_svg(link, label=_("The meeting's page")), status_label=MEETING_LIFECYCLE.label,
                               follow_up_label=FOLLOW_UP_LABELS.get)


@bp.route("/meetings/<int:meeting_id>/print")
def printable(meeting_id: int):
    return _printable(_meeting(meeting_id), as_pdf=False)


@bp.route("/meetings/<int:meeting_id>/print.pdf")
@limiter.limit(lambda: current_app.config["RATELIMIT_PDF"], key_func=person_key)  # a second of a worker each
def printable_pdf(meeting_id: int):
    meeting = _meeting(meeting_id)
    pdf = render_pdf(_printable(meeting, as_pdf=True))
    return Response(pdf, headers=pdf_headers(f"meeting-{meeting.id}.pdf"))
