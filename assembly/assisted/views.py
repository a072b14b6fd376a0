"""The muhtar's assisted-participation desk: register a resident, act in their name (a proposal,
a support, a comment, a survey's answers, a question or a support at a meeting, a vote in an
open ballot)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assembly import permissions
from assembly.assemblies import services as assemblies
from assembly.assemblies import voting
from assembly.assemblies.forms import vote_from_form
from assembly.assemblies.models import Secrecy
from assembly.assisted import services
from assembly.assisted.forms import (
    CommentOnBehalfForm,
    ContactForm,
    MeetingQuestionOnBehalfForm,
    MeetingSupportOnBehalfForm,
    ProposalOnBehalfForm,
    RegisterResidentForm,
    SupportOnBehalfForm,
    SurveyOnBehalfForm,
    VoteOnBehalfForm,
)
from assembly.errors import DomainError, NotAllowed, NotFound
from assembly.extensions import limiter
from assembly.i18n import current_locale, localized_name, utc_to_wall_clock, wall_clock_to_utc
from assembly.meetings import services as meetings
from assembly.meetings.models import MEETING_LIFECYCLE
from assembly.neighbourhoods import context, residents
from assembly.neighbourhoods.context import current_neighbourhood
from assembly.params import query_int
from assembly.proposals.services import ProposalInput, categories_of, proposal_link
from assembly.rate_limits import person_key
from assembly.surveys import responses as survey_responses
from assembly.surveys import services as surveys
from assembly.surveys.forms import AnswerErrors, raw_answers
from assembly.surveys.models import SurveyStatus
from assembly.web import call_service, form_status, now, require

bp = Blueprint("assisted", __name__)
bp.url_value_preprocessor(context.from_url)

_FORMS = {"proposal": ProposalOnBehalfForm, "support": SupportOnBehalfForm, "comment": CommentOnBehalfForm}


def _desk_limit(view):
    return limiter.limit(lambda: current_app.config["RATELIMIT_MUHTAR"], methods=["POST"], key_func=person_key)(view)


def _index_page(neighbourhood, form: RegisterResidentForm):
    after = query_int("after")
    verified = residents.verified_residents(current_user, neighbourhood, after_id=after)
    return render_template("assisted/index.html", neighbourhood=neighbourhood, form=form, residents=verified,
                           entries=services.recent_entries(current_user, neighbourhood),
                           consent_labels=services.consent_labels(), labels=services.entry_labels(),
                           next_after=verified[-1].id if len(verified) == 100 else None)


@bp.route("/n/<slug>/assisted", methods=["GET", "POST"])
@login_required
@_desk_limit
def index(slug: str):
    neighbourhood = current_neighbourhood()
    require("assist_residents", neighbourhood)
    form = RegisterResidentForm()
    if request.method == "GET":
        form.locale.data = neighbourhood.default_locale or current_locale()
    if form.validate_on_submit():
        membership = call_service(form, services.register_resident, current_user, now(), neighbourhood,
                                  display_name=form.display_name.data, address=form.address.data,
                                  phone=form.phone.data, locale=form.locale.data)
        if membership is not None:
            flash(_("%(name)s is registered as a verified resident. You can now act in their name.",
                    name=membership.user.display_name), "success")
            return redirect(url_for(".act", slug=slug, membership_id=membership.id))
    return _index_page(neighbourhood, form), form_status()


# --- acting in a resident's name --------------------------------------------------------------------

def _resident(membership_id: int):
    """The neighbourhood and the membership of the resident the muhtar acts for (403 for anyone else)."""
    neighbourhood = current_neighbourhood()
    require("assist_residents", neighbourhood)
    membership = services.resident_membership(neighbourhood, membership_id)
    require("act_on_behalf", membership)
    return neighbourhood, membership


def _offer_now(form, neighbourhood) -> None:
    """Consent is usually given just now: a fresh form offers the present moment."""
    form.consent_at.data = utc_to_wall_clock(now(), neighbourhood.municipality.timezone)


def _enter(errors, neighbourhood, membership, action: str, form, target, **data):
    """`services.on_behalf` with the form's consent. A refusal by the rules the action applies as
    if the resident had acted (not verified when voting opened, a meeting that does not cover them,
    a secret ballot …) is shown on the form like any other refusal: the muhtar may act for this
    resident (checked by the view), but not this time."""
    consent = services.Consent(given=bool(form.consent.data), method=form.consent_method.data or None,
                               given_at=wall_clock_to_utc(form.consent_at.data, neighbourhood.municipality.timezone))

    def run():
        try:
            return services.on_behalf(current_user, now(), membership, action, consent, target, **data)
        except NotAllowed as refusal:
            raise DomainError(refusal.message) from None

    return call_service(errors, run)


def _page_errors() -> list[str]:
    return list(g.pop("page_errors", []))


def _forms(neighbourhood, action: str | None = None):
    """The three forms of the page; only the submitted one reads the request."""
    forms = {name: cls(prefix=name, formdata=None if name != action else request.form)
             for name, cls in _FORMS.items()}
    for name, form in forms.items():
        if name != action:
            _offer_now(form, neighbourhood)
    forms["proposal"].category_id.choices = [(c.id, localized_name(c.names, c.slug))
                                             for c in categories_of(neighbourhood)]
    proposal_choices = [(p.id, p.title) for p in services.open_proposals(neighbourhood)]
    forms["support"].proposal_id.choices = proposal_choices
    forms["comment"].proposal_id.choices = proposal_choices
    return forms


def _contact_form(neighbourhood, membership, posted: bool = False) -> ContactForm | None:
    """The form for a phone number or an e-mail address the resident now has: for an account a
    muhtar registered, while it lacks one of them and nobody has chosen its password."""
    user = membership.user
    if not permissions.can(current_user, "add_resident_contact", membership) \
            or services.owner_chose_password(user) or (user.phone and user.email):
        return None
    form = ContactForm(prefix="contact", formdata=request.form if posted else None)
    if not posted:
        _offer_now(form, neighbourhood)
    return form


def _act_page(neighbourhood, membership, forms, contact: ContactForm | None = None):
    open_surveys = surveys.open_surveys(neighbourhood, now())
    ballots = assemblies.voting_now(neighbourhood, now())
    return render_template(
        "assisted/act.html", neighbourhood=neighbourhood, membership=membership, forms=forms,
        actions=services.ON_BEHALF_ACTIONS, page_errors=_page_errors(), surveys=open_surveys,
        answered=survey_responses.answered_among(membership.user, [s.id for s in open_surveys]),
        meetings=meetings.open_for_questions(neighbourhood), ballots=ballots,
        secret=Secrecy.SECRET.value, contact=contact or _contact_form(neighbourhood, membership))


@bp.route("/n/<slug>/assisted/<int:membership_id>")
@login_required
def act(slug: str, membership_id: int):
    neighbourhood, membership = _resident(membership_id)
    return _act_page(neighbourhood, membership, _forms(neighbourhood))


@login_required
@_desk_limit
def act_post(slug: str, membership_id: int, action: str):
    neighbourhood, membership = _resident(membership_id)
    forms = _forms(neighbourhood, action)
    form = forms[action]
    if form.validate_on_submit():
        if action == "proposal":
            target, data = neighbourhood, {"data": ProposalInput(title=form.title.data, body=form.body.data,
                                                                 category_id=form.category_id.data)}
        else:
            target = services.open_proposal(neighbourhood, form.proposal_id.data)
            data = {"body": form.body.data} if action == "comment" else {}
        result = _enter(form, neighbourhood, membership, action, form, target, **data) \
            if target is not None else None
        if target is None:
            form.proposal_id.errors = [_("Choose one of the offered proposals.")]
        elif result is not None:
            flash(_("Entered in the name of %(name)s and marked as entered by the muhtar.",
                    name=membership.user.display_name), "success")
            proposal = result if action != "comment" else result.proposal
            return redirect(proposal_link(proposal))
    return _act_page(neighbourhood, membership, forms), 400


for _action in _FORMS:  # one address per action: …/assisted/<id>/proposal, …/support, …/comment
    bp.add_url_rule(f"/n/<slug>/assisted/<int:membership_id>/{_action}", endpoint=f"act_{_action}",
                    view_func=act_post, methods=["POST"], defaults={"action": _action})


@bp.route("/n/<slug>/assisted/<int:membership_id>/contact", methods=["POST"])
@login_required
@_desk_limit
def contact(slug: str, membership_id: int):
    """A phone number or an e-mail address for an account a muhtar registered (checked as at sign-up)."""
    neighbourhood, membership = _resident(membership_id)
    require("add_resident_contact", membership)
    form = _contact_form(neighbourhood, membership, posted=True)
    if form is None:  # the account has both already, or is the resident's own now
        flash(_("Nothing can be added to this account."), "error")
        return redirect(url_for(".act", slug=slug, membership_id=membership.id))
    if form.validate_on_submit():
        consent = services.Consent(given=bool(form.consent.data), method=form.consent_method.data or None,
                                   given_at=wall_clock_to_utc(form.consent_at.data,
                                                              neighbourhood.municipality.timezone))
        user = call_service(form, services.add_contact, current_user, now(), membership, consent,
                            phone=form.phone.data, email=form.email.data)
        if user is not None:
            flash(_("Added to the account of %(name)s. A message tells them how to choose a password of their own.",
                    name=user.display_name), "success")
            return redirect(url_for(".act", slug=slug, membership_id=membership.id, _anchor="contact"))
    return _act_page(neighbourhood, membership, _forms(neighbourhood), contact=form), 400


# --- a survey's answers -------------------------------------------------------------------------------

@bp.route("/n/<slug>/assisted/<int:membership_id>/surveys/<int:survey_id>", methods=["GET", "POST"])
@login_required
@_desk_limit
def survey(slug: str, membership_id: int, survey_id: int):
    """The muhtar types in the answers a resident gives them. They are sealed and counted like
    every online answer, without the resident's name; only how many the muhtar entered is shown."""
    neighbourhood, membership = _resident(membership_id)
    found = surveys.get_survey(current_user, neighbourhood, survey_id)
    form = SurveyOnBehalfForm(formdata=request.form if request.method == "POST" else None)
    errors: dict[str, list[str]] = {}
    if request.method == "GET":
        _offer_now(form, neighbourhood)
    elif not form.validate_on_submit():
        errors = {"page": [_("The form has expired. Please submit it again.")]} if form.csrf_token.errors else {}
    else:
        collected = AnswerErrors(form)
        first = not survey_responses.has_answered(membership.user, found)
        if _enter(collected, neighbourhood, membership, "survey_answer", form, found,
                  answers=raw_answers(request.form, found)) is not None:
            flash(_("The answers of %(name)s have been entered. They are counted without their name, like "
                    "every answer.", name=membership.user.display_name) if first else
                  _("The answers of %(name)s have been changed. Only their latest answers count.",
                    name=membership.user.display_name), "success")
            return redirect(url_for(".act", slug=slug, membership_id=membership.id, _anchor="surveys"), 303)
        errors = collected.as_dict()
    return render_template(
        "assisted/survey.html", neighbourhood=neighbourhood, membership=membership, survey=found, form=form,
        status=surveys.shown_status(found, now()), open=SurveyStatus.OPEN.value, answer_errors=errors,
        posted=request.form if request.method == "POST" else None,
        has_answered=survey_responses.has_answered(membership.user, found)), form_status()


# --- a question or a support at a meeting ------------------------------------------------------------

def _meeting_of(neighbourhood, meeting_id: int):
    meeting = meetings.get_meeting(current_user, meeting_id)
    if neighbourhood.id not in meeting.neighbourhood_ids:
        raise NotFound(_("There is no such meeting."))
    return meeting


def _meeting_forms(neighbourhood, membership, meeting, questions, action: str | None = None):
    forms = {"question": MeetingQuestionOnBehalfForm(prefix="question",
                                                     formdata=request.form if action == "question" else None),
             "support": MeetingSupportOnBehalfForm(prefix="support",
                                                   formdata=request.form if action == "support" else None)}
    for name, form in forms.items():
        if name != action:
            _offer_now(form, neighbourhood)
    forms["question"].body_id.choices = [(row.body_id, f"{row.body.name} — {row.representative}")
                                         for row in meeting.invited]
    supported = meetings.supported_by(membership.user, meeting)
    forms["support"].question_id.choices = [
        (q.id, f"{q.body.name}: {q.text}") for q in questions
        if q.author_id != membership.user_id and q.id not in supported]
    return forms


def _meeting_page(neighbourhood, membership, meeting, questions, forms):
    return render_template(
        "assisted/meeting.html", neighbourhood=neighbourhood, membership=membership, meeting=meeting,
        questions=questions, forms=forms, page_errors=_page_errors(),
        asking=MEETING_LIFECYCLE.contains("asking", meeting.status), status_label=MEETING_LIFECYCLE.label,
    ), form_status()


@bp.route("/n/<slug>/assisted/<int:membership_id>/meetings/<int:meeting_id>")
@login_required
def meeting(slug: str, membership_id: int, meeting_id: int):
    neighbourhood, membership = _resident(membership_id)
    found = _meeting_of(neighbourhood, meeting_id)
    questions = meetings.questions_of(found)
    return _meeting_page(neighbourhood, membership, found, questions,
                         _meeting_forms(neighbourhood, membership, found, questions))


@login_required
@_desk_limit
def meeting_post(slug: str, membership_id: int, meeting_id: int, action: str):
    neighbourhood, membership = _resident(membership_id)
    found = _meeting_of(neighbourhood, meeting_id)
    questions = meetings.questions_of(found)
    forms = _meeting_forms(neighbourhood, membership, found, questions, action)
    form = forms[action]
    if form.validate_on_submit():
        if action == "question":
            result = _enter(form, neighbourhood, membership, "meeting_question", form, found,
                            body_id=form.body_id.data, text=form.text.data)
        else:
            result = _enter(form, neighbourhood, membership, "meeting_support", form,
                            meetings.get_question(found, form.question_id.data))
        if result is not None:
            flash(_("Entered in the name of %(name)s and marked as entered by the muhtar.",
                    name=membership.user.display_name), "success")
            return redirect(url_for("meetings.show", meeting_id=found.id, _anchor=f"question-{result.id}"))
    g.form_failed = True
    return _meeting_page(neighbourhood, membership, found, questions, forms)


for _action in ("question", "support"):  # …/assisted/<id>/meetings/<meeting id>/question, …/support
    bp.add_url_rule(f"/n/<slug>/assisted/<int:membership_id>/meetings/<int:meeting_id>/{_action}",
                    endpoint=f"meeting_{_action}", view_func=meeting_post, methods=["POST"],
                    defaults={"action": _action})


# --- a vote in an open ballot ------------------------------------------------------------------------------

@bp.route("/n/<slug>/assisted/<int:membership_id>/assemblies/<int:assembly_id>", methods=["GET", "POST"])
@login_required
@_desk_limit
def vote(slug: str, membership_id: int, assembly_id: int):
    """An open ballot's vote (who voted what is public there anyway). A secret ballot is not offered
    and is refused: the resident votes on paper at the meeting."""
    neighbourhood, membership = _resident(membership_id)
    session = assemblies.get_assembly(current_user, neighbourhood, assembly_id)
    ballot = session.ballot
    form = VoteOnBehalfForm(formdata=request.form if request.method == "POST" else None)
    chosen = None
    if request.method == "GET":
        _offer_now(form, neighbourhood)
    elif form.validate_on_submit() and ballot is not None:
        chosen = vote_from_form(request.form, session)
        if _enter(form, neighbourhood, membership, "vote", form, session, vote=chosen) is not None:
            flash(_("The vote of %(name)s has been recorded and is marked as entered by the muhtar.",
                    name=membership.user.display_name), "success")
            return redirect(url_for(".act", slug=slug, membership_id=membership.id, _anchor="votes"), 303)
    secret = ballot is not None and ballot.secrecy == Secrecy.SECRET.value
    voting_open = ballot is not None and assemblies.shown_status(session, now()) == "voting"
    return render_template(
        "assisted/vote.html", neighbourhood=neighbourhood, membership=membership, assembly=session, ballot=ballot,
        form=form, page_errors=_page_errors(), secret=secret, voting_open=voting_open,
        eligible=voting_open and not secret and voting.eligible(membership.user, session),
        has_voted=voting_open and not secret and voting.has_voted(membership.user, ballot),
        own_vote=chosen, method_explanation=assemblies.method_explanation), form_status()
