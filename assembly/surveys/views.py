"""Survey pages: the list, creating and editing (drafts), answering (as a resident, with an
account, or through a link mailed to a confirmed address), paper questionnaires, results with
CSV, moderation of free texts, and a question compared over time."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assembly import permissions
from assembly.extensions import limiter
from assembly.forms import ButtonForm
from assembly.i18n import format_percent, utc_to_wall_clock, wall_clock_to_utc
from assembly.neighbourhoods import context
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.notifications.services import queue_email
from assembly.params import parse_int
from assembly.rate_limits import person_key, submitted_email_key
from assembly.surveys import assisted, responses, results, services
from assembly.surveys.forms import AnswerErrors, EmailLinkForm, QuestionForm, SurveyForm, raw_answers
from assembly.surveys.models import SURVEY_LIFECYCLE, Audience, SurveyStatus
from assembly.text import neutralise
from assembly.urls import external_url
from assembly.web import call_service, form_status, now, require

bp = Blueprint("surveys", __name__, url_prefix="/n/<slug>/surveys")
bp.url_value_preprocessor(context.from_url)  # the neighbourhood of /n/<slug>/…


def _tz(neighbourhood) -> str:
    return neighbourhood.municipality.timezone


def _load(survey_id: int):
    neighbourhood = current_neighbourhood()
    return neighbourhood, services.get_survey(current_user, neighbourhood, survey_id)


def _back(neighbourhood, survey, anchor=None):
    return redirect(url_for(".show", slug=neighbourhood.slug, survey_id=survey.id, _anchor=anchor), 303)


def _status(survey) -> str:
    return services.shown_status(survey, now())


def _percent(value) -> str:
    return format_percent(value)


@bp.route("/")
def index(slug: str):
    neighbourhood = current_neighbourhood()
    return render_template("surveys/index.html", neighbourhood=neighbourhood,
                           surveys=services.list_surveys(current_user, neighbourhood), shown_status=_status,
                           status_label=SURVEY_LIFECYCLE.label,
                           series=results.series_keys(neighbourhood.id))


# --- creating and editing --------------------------------------------------------------------------

def _survey_form(neighbourhood, survey=None) -> SurveyForm:
    form = SurveyForm(obj=survey if request.method == "GET" else None)
    form.neighbourhoods.choices = [(hood.id, hood.name_in(hood.default_locale))
                                   for hood in services.neighbourhood_choices(current_user, neighbourhood)]
    if request.method == "GET":
        if survey is not None:
            form.opens_at.data = utc_to_wall_clock(survey.opens_at, _tz(neighbourhood))
            form.closes_at.data = utc_to_wall_clock(survey.closes_at, _tz(neighbourhood))
            form.neighbourhoods.data = sorted(survey.neighbourhood_ids)
        else:
            form.neighbourhoods.data = [neighbourhood.id]
    return form


def _fields(form, neighbourhood) -> dict:
    return {"title": form.title.data, "description": form.description.data or "", "audience": form.audience.data,
            "opens_at": wall_clock_to_utc(form.opens_at.data, _tz(neighbourhood)),
            "closes_at": wall_clock_to_utc(form.closes_at.data, _tz(neighbourhood)),
            "neighbourhood_ids": form.neighbourhoods.data}


@bp.route("/new", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)
def new(slug: str):
    neighbourhood = current_neighbourhood()
    require("create_survey", neighbourhood)
    form = _survey_form(neighbourhood)
    if form.validate_on_submit():
        survey = call_service(form, services.create_survey, current_user, now(), neighbourhood,
                              **_fields(form, neighbourhood))
        if survey is not None:
            flash(_("The survey has been created as a draft. Add its questions, then publish it."), "success")
            return _back(neighbourhood, survey, "questions")
    return render_template("surveys/edit.html", neighbourhood=neighbourhood, form=form, survey=None), form_status()


@bp.route("/<int:survey_id>/edit", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)
def edit(slug: str, survey_id: int):
    neighbourhood, survey = _load(survey_id)
    require("manage_survey", survey)
    form = _survey_form(neighbourhood, survey)
    if form.validate_on_submit():
        if call_service(form, services.update_survey, current_user, now(), survey, neighbourhood,
                        **_fields(form, neighbourhood)) is not None:
            flash(_("The survey has been saved."), "success")
            return _back(neighbourhood, survey)
    return render_template("surveys/edit.html", neighbourhood=neighbourhood, form=form,
                           survey=survey), form_status()


@bp.route("/<int:survey_id>/questions", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)
def add_question(slug: str, survey_id: int):
    neighbourhood, survey = _load(survey_id)
    require("manage_survey", survey)
    form = QuestionForm()
    if form.validate_on_submit() and call_service(
            form, services.add_question, current_user, now(), survey, kind=form.kind.data, prompt=form.prompt.data,
            options=(form.options.data or "").splitlines(), max_choices=form.max_choices.data,
            series=form.series.data) is not None:
        flash(_("The question has been added."), "success")
        return _back(neighbourhood, survey, "questions")
    return _page(neighbourhood, survey, question_form=form, status=400)


@bp.route("/<int:survey_id>/questions/<int:question_id>/remove", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)
def remove_question(slug: str, survey_id: int, question_id: int):
    neighbourhood, survey = _load(survey_id)
    require("manage_survey", survey)
    if ButtonForm().validate_on_submit() and call_service(
            None, services.remove_question, current_user, now(), survey, question_id) is not None:
        flash(_("The question has been removed."), "info")
        return _back(neighbourhood, survey, "questions")
    return _page(neighbourhood, survey, status=400)


@bp.route("/<int:survey_id>/publish", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)
def publish(slug: str, survey_id: int):
    neighbourhood, survey = _load(survey_id)
    require("publish_survey", survey)
    if ButtonForm().validate_on_submit() and call_service(
            None, services.publish, current_user, now(), survey) is not None:
        flash(_("The survey has been published."), "success")
        return _back(neighbourhood, survey)
    return _page(neighbourhood, survey, status=400)


# --- the survey page and answering ---------------------------------------------------------------------

def _posted_neighbourhood(survey) -> int | None:
    value = parse_int(request.form.get("neighbourhood"), 1, 2**31 - 1)
    return value if value in survey.neighbourhood_ids else (None if value is None else -1)


def _page(neighbourhood, survey, *, question_form=None, answer_errors=None, email_form=None, status=200,
          token=None, answered_by_email=False):
    shown = _status(survey)
    manage = permissions.can(current_user, "manage_survey", survey)
    if question_form is None and manage and shown == SurveyStatus.DRAFT.value:
        question_form = QuestionForm(formdata=None)
    respondent = responses.respondent_for(current_user, survey)
    return render_template(
        "surveys/show.html", neighbourhood=neighbourhood, survey=survey, status=shown,
        status_label=SURVEY_LIFECYCLE.label, kind_label=services.kind_label,
        audience_label=services.audience_label, button=ButtonForm(), question_form=question_form,
        can_answer=shown == SurveyStatus.OPEN.value and (respondent is not None or token is not None),
        has_answered=answered_by_email or responses.has_answered(current_user, survey),
        verified=respondent is not None and respondent.source == "verified",
        answer_errors=answer_errors or {}, email_form=email_form or EmailLinkForm(formdata=None),
        email_possible=(shown == SurveyStatus.OPEN.value and survey.audience == Audience.AREA.value
                        and not current_user.is_authenticated and token is None),
        token=token, manage=manage, posted=request.form if answer_errors else None,
        entered_by_muhtar=assisted.entered_by_muhtar(survey) if shown != SurveyStatus.DRAFT.value else 0,
    ), status


@bp.route("/<int:survey_id>")
def show(slug: str, survey_id: int):
    neighbourhood, survey = _load(survey_id)
    return _page(neighbourhood, survey)


def _answer(neighbourhood, survey, *, email_hash=None, token=None):
    if not ButtonForm().validate_on_submit():
        return _page(neighbourhood, survey, status=400, token=token)
    errors = AnswerErrors()
    first = call_service(errors, responses.respond, current_user, now(), survey, raw_answers(request.form, survey),
                         email_hash=email_hash, neighbourhood_id=_posted_neighbourhood(survey))
    if first is None:
        return _page(neighbourhood, survey, answer_errors=errors.as_dict(), status=400, token=token,
                     answered_by_email=email_hash is not None and responses.has_answered_by_email(survey, email_hash))
    flash(_("Thank you! Your answers have been recorded.") if first else
          _("Your answers have been changed. Only your latest answers count."), "success")
    if token is not None:
        return redirect(url_for(".answer_by_email", slug=neighbourhood.slug, survey_id=survey.id, token=token), 303)
    return _back(neighbourhood, survey, "answer")


@bp.route("/<int:survey_id>/answer", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_VOTE"], methods=["POST"], key_func=person_key)
def answer(slug: str, survey_id: int):
    neighbourhood, survey = _load(survey_id)
    return _answer(neighbourhood, survey)


@bp.route("/<int:survey_id>/email", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_RESET_EMAIL"], methods=["POST"], key_func=submitted_email_key)
def email_link(slug: str, survey_id: int):
    """Someone without an account who lives or works in the area asks for a link to answer."""
    neighbourhood, survey = _load(survey_id)
    form = EmailLinkForm()
    if _status(survey) != SurveyStatus.OPEN.value or survey.audience != Audience.AREA.value:
        abort(404)
    if not form.validate_on_submit():
        return _page(neighbourhood, survey, email_form=form, status=400)
    link = external_url("surveys.answer_by_email", slug=neighbourhood.slug, survey_id=survey.id,
                        token=responses.email_token(survey, form.email.data))
    body = render_template("mail/survey_link.txt", survey=survey, link=link)
    queue_email(form.email.data.strip(), _("Your link to answer: %(title)s", title=survey.title), body, now())
    flash(_("We have sent you an e-mail with a link. Open it to answer the survey."), "success")
    return _back(neighbourhood, survey)


@bp.route("/<int:survey_id>/answer/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_VOTE"], methods=["POST"])
def answer_by_email(slug: str, survey_id: int, token: str):
    """The link from the e-mail: whoever opens it has the mailbox. Answers are marked not verified."""
    neighbourhood, survey = _load(survey_id)
    hashed = responses.email_of_token(survey, token)
    if hashed is None or survey.audience != Audience.AREA.value:
        abort(404)
    if request.method == "POST":
        return _answer(neighbourhood, survey, email_hash=hashed, token=token)
    response = Response(*_page(neighbourhood, survey, token=token,
                               answered_by_email=responses.has_answered_by_email(survey, hashed)))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/<int:survey_id>/paper", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_MUHTAR"], methods=["POST"], key_func=person_key)
def paper(slug: str, survey_id: int):
    """The muhtar types in one paper questionnaire at a time."""
    neighbourhood, survey = _load(survey_id)
    require("enter_paper_survey", survey)
    errors, status = {}, 200
    if request.method == "POST":
        collected = AnswerErrors()
        if not ButtonForm().validate_on_submit():
            g.setdefault("page_errors", []).append(_("The form has expired. Please submit it again."))
        elif call_service(collected, responses.enter_paper, current_user, now(), survey,
                          raw_answers(request.form, survey),
                          neighbourhood_id=_posted_neighbourhood(survey)) is not None:
            flash(_("The paper questionnaire has been added. You can type in the next one."), "success")
            return redirect(url_for(".paper", slug=slug, survey_id=survey.id), 303)
        errors, status = collected.as_dict(), 400
    return render_template("surveys/paper.html", neighbourhood=neighbourhood, survey=survey, button=ButtonForm(),
                           answer_errors=errors, posted=request.form if errors else None, status=_status(survey),
                           status_label=SURVEY_LIFECYCLE.label), status


# --- results ----------------------------------------------------------------------------------------------

def _results_or_404(survey):
    found = results.survey_results(survey)
    if found is None:
        abort(404)
    return found


@bp.route("/<int:survey_id>/results")
def show_results(slug: str, survey_id: int):
    neighbourhood, survey = _load(survey_id)
    found = results.survey_results(survey)
    return render_template("surveys/results.html", neighbourhood=neighbourhood, survey=survey, results=found,
                           status=_status(survey), status_label=SURVEY_LIFECYCLE.label, percent=_percent,
                           kind_label=services.kind_label, source_label=results.source_label,
                           entered_by_muhtar=assisted.entered_by_muhtar(survey) if found is not None else 0)


@bp.route("/<int:survey_id>/results.csv")
def results_csv(slug: str, survey_id: int):
    neighbourhood, survey = _load(survey_id)
    found = _results_or_404(survey)
    out = io.StringIO()
    writer = csv.writer(out)
    for row in results.csv_rows(found):
        writer.writerow([neutralise(cell) for cell in row])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{slug}-survey-{survey.id}-results.csv"'})


@bp.route("/<int:survey_id>/moderation", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_WRITE"], methods=["POST"], key_func=person_key)
def moderation(slug: str, survey_id: int):
    """The free texts of a closed survey, each published or kept hidden by a muhtar."""
    neighbourhood, survey = _load(survey_id)
    require("moderate_survey", survey)
    if request.method == "POST":
        text_id = request.form.get("text", "")
        decision = request.form.get("decision")
        if not ButtonForm().validate_on_submit() or decision not in ("publish", "reject") or len(text_id) != 32:
            abort(400)
        if call_service(None, results.moderate_text, current_user, now(), survey, text_id,
                        decision == "publish") is None:
            abort(400)
        flash(_("The answer has been published.") if decision == "publish" else _("The answer will not be shown."),
              "success")
        return redirect(url_for(".moderation", slug=slug, survey_id=survey.id), 303)
    texts = results.texts_to_moderate(current_user, survey)
    return render_template("surveys/moderation.html", neighbourhood=neighbourhood, survey=survey, texts=texts,
                           questions={q.id: q for q in survey.questions}, button=ButtonForm())


@bp.route("/series/<series>")
def series(slug: str, series: str):
    neighbourhood = current_neighbourhood()
    if not services.SERIES_RE.fullmatch(series):
        abort(404)
    comparison = results.series_comparison(neighbourhood.id, series)
    if not comparison["entries"]:
        abort(404)
    return render_template("surveys/series.html", neighbourhood=neighbourhood, series=series,
                           comparison=comparison, percent=_percent)
