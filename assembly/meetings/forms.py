from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from assembly.forms import WallClockField
from assembly.meetings.models import FOLLOW_UP_LABELS, FollowUp
from assembly.promises.forms import DayField
from assembly.promises.models import INDICATOR_LABELS, IndicatorKind
from assembly.promises.services import MEETING_INDICATORS
from assembly.meetings.services import ANSWER_MAX, HEADCOUNT_MAX, MINUTES_MAX, QUESTION_MAX, TITLE_MAX

_required = _l("This field is required.")


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MeetingForm(FlaskForm):
    """The representatives are fields `representative-<body id>` added by the view: a body with a
    representative named is invited."""

    title = StringField(_l("Title"), validators=[DataRequired(_required), Length(max=TITLE_MAX)],
                        description=_l("e.g. “Huzur meeting of Moda and Caferağa”"))
    organiser = SelectField(_l("Organised by"), validators=[DataRequired(_required)])
    starts_at = WallClockField(_l("Meeting starts"), validators=[InputRequired(_required)],
                               note=_l("Local time of the municipality."))
    ends_at = WallClockField(_l("Meeting ends"), validators=[Optional()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    neighbourhoods = Checkboxes(_l("Neighbourhoods covered"), coerce=int,
                                description=_l("Residents of these neighbourhoods may ask questions."))


class QuestionForm(FlaskForm):
    body_id = SelectField(_l("To"), coerce=int, validators=[InputRequired(_required)])
    text = TextAreaField(_l("Your question"), validators=[DataRequired(_required), Length(max=QUESTION_MAX)],
                         description=_l("One problem, where and since when, so the body can answer at the meeting."))
    photos = MultipleFileField(_l("Photos (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp"})


def follow_up_choices():
    return [(kind.value, FOLLOW_UP_LABELS[kind.value]) for kind in FollowUp]


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("The body's answer"), validators=[DataRequired(_required), Length(max=ANSWER_MAX)])
    follow_up = RadioField(_l("What follows"), choices=follow_up_choices, default=FollowUp.NONE.value,
                           validators=[InputRequired(_required)])
    category_id = SelectField(_l("Category of the case"), coerce=int, validators=[Optional()],
                              description=_l("Only for a case: it is forwarded to the body at once."))
    # Only for a commitment: the promise of the body it goes into, and its terms.
    promise_id = SelectField(_l("Promise"), coerce=int, validators=[Optional()])
    title = StringField(_l("What the body commits to"), validators=[Optional(), Length(max=200)],
                        description=_l("A short title, e.g. “Repair the lamps of Moda Park”."))
    description = TextAreaField(_l("What will be done"), validators=[Optional(), Length(max=5000)],
                                description=_l("Leave empty to use the answer."))
    indicator_kind = SelectField(_l("How it is measured"), choices=lambda: [
        (kind, INDICATOR_LABELS[IndicatorKind(kind)]) for kind in MEETING_INDICATORS], validators=[Optional()])
    indicator_label = StringField(_l("Indicator"), validators=[Optional(), Length(max=200)],
                                  description=_l("E.g. the number of lamps repaired."))
    baseline = StringField(_l("Baseline"), validators=[Optional(), Length(max=30)])
    target = StringField(_l("Target"), validators=[Optional(), Length(max=30)],
                         description=_l("For yes or no: 1 for yes."))
    due_on = DayField(_l("Due"), validators=[Optional()])
    budget = StringField(_l("Budget"), validators=[Optional(), Length(max=20)],
                         description=_l("A whole amount, without separators."))
    currency = StringField(_l("Currency"), validators=[Optional(), Length(max=3)],
                           description=_l("Three letters, e.g. SEK, TRY or IRR."))


class AttendanceForm(FlaskForm):
    headcount = IntegerField(_l("Residents present"), validators=[
        Optional(), NumberRange(0, HEADCOUNT_MAX, _l("Enter a number between %(min)s and %(max)s."))])
    present = Checkboxes(_l("Bodies present"), coerce=int)


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("Minutes"), validators=[Optional(), Length(max=MINUTES_MAX)],
                            description=_l("Markdown: **bold**, lists with -, links."))
