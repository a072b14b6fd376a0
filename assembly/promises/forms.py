from __future__ import annotations

import datetime as dt
import re

import jdatetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    Field,
    IntegerField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import html_params

from assembly import i18n
from assembly.promises.models import INDICATOR_LABELS
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class ProgressForm(FlaskForm):
    percent = IntegerField(_l("Progress (percent done)"), validators=[
        InputRequired(_l("This field is required.")), NumberRange(0, 100, _l("Enter a number between %(min)s and %(max)s."))])
    value = StringField(_l("New value of the indicator"), validators=[Optional(), Length(max=30)],
                        description=_l("Leave empty if it has not been measured again."))
    note = TextAreaField(_l("What was done (public)"), validators=[Optional(), Length(max=2000)])
    evidence = TextAreaField(_l("Links to evidence, one per line"), validators=[Optional(), Length(max=2600)],
                             description=_l("Minutes, photos, statistics: public addresses starting with https://"))
    photos = MultipleFileField(_l("Photos of the work (optional)"),
                               render_kw={"accept": "image/jpeg,image/png,image/webp"})


class SignForm(FlaskForm):
    body_id = SelectField(_l("Sign for"), coerce=int, validators=[InputRequired(_l("This field is required."))])


class CosignForm(FlaskForm):
    neighbourhood_id = SelectField(_l("Co-sign for"), coerce=int,
                                   validators=[InputRequired(_l("This field is required."))])


class ReportForm(FlaskForm):
    body_id = SelectField(_l("Written by"), coerce=int, validators=[InputRequired(_l("This field is required."))])
    due_on = SelectField(_l("Report for"), validators=[DataRequired(_l("This field is required."))])
    text = TextAreaField(_l("Follow-up report"), validators=[DataRequired(_l("This field is required.")),
                                                             Length(max=20000)],
                         description=_l("What was done, what the indicators show, what comes next. Markdown."))


class CommentForm(FlaskForm):
    neighbourhood_id = SelectField(_l("For the neighbourhood"), coerce=int,
                                   validators=[InputRequired(_l("This field is required."))])
    text = TextAreaField(_l("Comment"), validators=[DataRequired(_l("This field is required.")), Length(max=2000)])


class DayInput:
    """A date in the calendar of the reader's language: the browser's date picker in Gregorian
    languages, a text box for a Solar Hijri date in Persian (the pickers are Gregorian only)."""

    def __call__(self, field, **attrs) -> Markup:
        attrs.setdefault("id", field.id)
        if i18n.uses_solar_hijri():
            attrs.update(type="text", dir="ltr", autocomplete="off", placeholder=day_text(EXAMPLE_DAY))
        else:
            attrs.update(type="date")
        return Markup(f"<input {html_params(name=field.name, value=field._value(), **attrs)}>")


EXAMPLE_DAY = dt.date(2026, 4, 9)
_DAY = re.compile(r"^(\d{1,4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$")


def day_text(value: dt.date | None) -> str:
    if value is None:
        return ""
    if i18n.uses_solar_hijri():
        day = jdatetime.date.fromgregorian(date=value)
        return i18n.persian_digits(f"{day.year:04d}/{day.month:02d}/{day.day:02d}")
    return value.isoformat()


class DayField(Field):
    """A day typed in the reader's calendar (Solar Hijri in Persian, with Persian or Latin digits)."""

    widget = DayInput()

    def _value(self) -> str:
        return self.raw_data[0] if self.raw_data else day_text(self.data)

    def process_formdata(self, valuelist) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        self.data = None
        found = _DAY.match(i18n.latin_digits(valuelist[0].strip()))
        if found is None:
            raise ValueError(_("Enter the date like this: %(example)s.", example=day_text(EXAMPLE_DAY)))
        year, month, day = (int(part) for part in found.groups())
        try:
            if i18n.uses_solar_hijri():
                self.data = jdatetime.date(year, month, day).togregorian()
            else:
                self.data = dt.date(year, month, day)
        except ValueError:
            raise ValueError(_("This date does not exist.")) from None


def kind_choices():
    return [("promise", _l("Citizen promise")), ("programme", _l("Neighbourhood programme"))]


def indicator_choices():
    return [(kind.value, label) for kind, label in INDICATOR_LABELS.items()]


class PromiseForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=kind_choices, validators=[DataRequired(_l("This field is required."))])
    title = StringField(_l("Title"), validators=[DataRequired(_l("This field is required.")), Length(max=200)])
    summary = TextAreaField(_l("The situation today and how the promise was made"),
                            validators=[DataRequired(_l("This field is required.")), Length(max=20000)],
                            description=_l("Markdown. Say what residents asked for (surveys, assemblies) and how "
                                           "the promise will be followed up."))
    neighbourhoods = SelectMultipleField(_l("For the neighbourhoods"), coerce=int)
    bodies = SelectMultipleField(_l("Given by"), coerce=int,
                                 description=_l("Every body chosen signs the promise before it is published."))
    proposals = SelectMultipleField(_l("Accepted proposals it answers"), coerce=int)
    surveys = SelectMultipleField(_l("Surveys whose results it answers"), coerce=int)
    period_start = DayField(_l("Period starts"), validators=[InputRequired(_l("This field is required."))])
    period_end = DayField(_l("Period ends"), validators=[InputRequired(_l("This field is required."))])
    report_every_months = IntegerField(_l("Follow-up report every … months"), validators=[
        Optional(), NumberRange(1, 24, _l("Enter a number between %(min)s and %(max)s."))])


class CommitmentForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("This field is required.")), Length(max=200)])
    description = TextAreaField(_l("What will be done"), validators=[DataRequired(_l("This field is required.")),
                                                                     Length(max=5000)])
    bodies = SelectMultipleField(_l("Responsible"), coerce=int)
    indicator_kind = SelectField(_l("How it is measured"), choices=indicator_choices,
                                 validators=[DataRequired(_l("This field is required."))])
    indicator_label = StringField(_l("Indicator"), validators=[DataRequired(_l("This field is required.")),
                                                               Length(max=200)],
                                  description=_l("E.g. the number of new street lamps."))
    survey_question_id = SelectField(_l("Survey question and answer"), validators=[Optional()],
                                     description=_l("For an indicator measured by a survey: the share of those "
                                                    "who answered that chose this answer."))
    baseline = StringField(_l("Baseline"), validators=[Optional(), Length(max=30)])
    target = StringField(_l("Target"), validators=[Optional(), Length(max=30)])
    due_on = DayField(_l("Due"), validators=[InputRequired(_l("This field is required."))])
    budget = StringField(_l("Budget"), validators=[Optional(), Length(max=20)],
                         description=_l("A whole amount, without separators."))
    currency = StringField(_l("Currency"), validators=[Optional(), Length(max=3)],
                           description=_l("Three letters, e.g. SEK, TRY or IRR."))
