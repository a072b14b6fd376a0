from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from assembly.assisted.services import ADDRESS_MAX, consent_labels
from assembly.forms import WallClockField, language_field
from assembly.meetings.services import QUESTION_MAX
from assembly.proposals.discussion import COMMENT_MAX
from assembly.proposals.services import BODY_MAX, TITLE_MAX


class RegisterResidentForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(_l("Please enter a display name.")),
                                                       Length(max=80)])
    address = StringField(_l("Address in the neighbourhood"), validators=[
        DataRequired(_l("Please give the resident's address in the neighbourhood.")), Length(max=ADDRESS_MAX)])
    phone = TelField(_l("Mobile phone number (if they have one)"), validators=[Optional(), Length(max=32)],
                     description=_l("Leave empty if the resident has no phone. With a number, messages reach "
                                    "them by SMS, and they can set a password of their own later."))
    locale = language_field(_l("Language"))


def _consent_choices():
    return [("", _l("Choose…"))] + list(consent_labels().items())


class ConsentForm(FlaskForm):
    """The resident's consent, asked before every action (see assisted.services.checked_consent)."""

    consent = BooleanField(_l("The resident has agreed that I enter this in their name"))
    consent_method = SelectField(_l("How the resident gave their consent"), choices=_consent_choices)
    consent_at = WallClockField(_l("When the consent was given"))


class ProposalOnBehalfForm(ConsentForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Please give the proposal a title.")),
                                                 Length(max=TITLE_MAX)])
    category_id = SelectField(_l("Category"), coerce=int, validators=[
        InputRequired(_l("Choose one of the offered categories."))])
    body = TextAreaField(_l("Description"), validators=[DataRequired(_l("Please describe the proposal.")),
                                                        Length(max=BODY_MAX)],
                         description=_l("Write down what the resident said, in their words."))


class SupportOnBehalfForm(ConsentForm):
    proposal_id = SelectField(_l("Proposal"), coerce=int, validators=[
        InputRequired(_l("Choose one of the offered proposals."))])


class CommentOnBehalfForm(ConsentForm):
    proposal_id = SelectField(_l("Proposal"), coerce=int, validators=[
        InputRequired(_l("Choose one of the offered proposals."))])
    body = TextAreaField(_l("Comment"), validators=[DataRequired(_l("Please write a comment.")),
                                                    Length(max=COMMENT_MAX)])


class SurveyOnBehalfForm(ConsentForm):
    """The consent; the answers are the questionnaire's own fields (surveys.forms.raw_answers)."""


class VoteOnBehalfForm(ConsentForm):
    """The consent; the vote is the ballot paper's own fields (assemblies.forms.vote_from_form)."""


class MeetingQuestionOnBehalfForm(ConsentForm):
    body_id = SelectField(_l("To"), coerce=int, validators=[
        InputRequired(_l("Choose one of the bodies invited to the meeting."))])
    text = TextAreaField(_l("The resident's question"), validators=[
        DataRequired(_l("Please write the question.")), Length(max=QUESTION_MAX)],
        description=_l("Write down what the resident asks, in their words: one problem, where and since when."))


class MeetingSupportOnBehalfForm(ConsentForm):
    question_id = SelectField(_l("Question"), coerce=int, validators=[
        InputRequired(_l("Choose one of the offered questions."))])


class ContactForm(ConsentForm):
    """A phone number or an e-mail address the resident now has (either, or both); the service
    checks them as at sign-up."""

    phone = TelField(_l("Mobile phone number"), validators=[Optional(), Length(max=32)])
    email = EmailField(_l("E-mail address"), validators=[
        Optional(), Email(_l("Please enter a valid e-mail address."), check_deliverability=False), Length(max=254)])
