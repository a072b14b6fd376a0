from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from assembly.forms import WallClockField


def audience_choices():
    return [("residents", _l("Verified residents only")),
            ("area", _l("Everyone who lives or works in the area (answers marked as not verified)"))]


def kind_choices():
    return [("single", _l("Single choice")), ("multiple", _l("Multiple choice")),
            ("scale", _l("Scale from 1 to 5")), ("ranking", _l("Ranking")), ("text", _l("Free text"))]


class SurveyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("This field is required.")), Length(max=200)],
                        description=_l("e.g. “Safety in our neighbourhood”"))
    description = TextAreaField(_l("Introduction"), validators=[Optional(), Length(max=5000)],
                                description=_l("Who asks, why, and what happens with the answers."))
    audience = SelectField(_l("Who may answer"), choices=audience_choices, validators=[DataRequired()])
    neighbourhoods = SelectMultipleField(_l("Neighbourhoods"), coerce=int, validators=[Optional()])
    opens_at = WallClockField(_l("Opens"), validators=[InputRequired(_l("This field is required."))])
    closes_at = WallClockField(_l("Closes"), validators=[InputRequired(_l("This field is required."))])


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Kind of question"), choices=kind_choices, validators=[DataRequired()])
    prompt = StringField(_l("Question"), validators=[DataRequired(_l("Please write the question.")),
                                                     Length(max=500)])
    options = TextAreaField(_l("Options, one per line"), validators=[Optional(), Length(max=5000)],
                            description=_l("For single choice, multiple choice and ranking."))
    max_choices = IntegerField(_l("At most this many choices (multiple choice)"), validators=[
        Optional(), NumberRange(1, 20, _l("Enter a number between %(min)s and %(max)s."))])
    series = StringField(_l("Series key (to compare with the same question in other surveys)"),
                         validators=[Optional(), Length(max=60)],
                         description=_l("e.g. “safety-priorities”. Use the same key when you ask the question again."))


class EmailLinkForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[
        DataRequired(_l("This field is required.")),
        Email(_l("Please enter a valid e-mail address."), check_deliverability=False), Length(max=254)])
