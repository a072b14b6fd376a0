from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class ProgressForm(FlaskForm):
    percent = IntegerField(_l("Progress (percent done)"), validators=[
        InputRequired(_l("This field is required.")), NumberRange(0, 100, _l("Enter a number between %(min)s and %(max)s."))])
    value = StringField(_l("New value of the indicator"), validators=[Optional(), Length(max=30)],
                        description=_l("Leave empty if it has not been measured again."))
    note = TextAreaField(_l("What was done (public)"), validators=[Optional(), Length(max=2000)])
    evidence = TextAreaField(_l("Links to evidence, one per line"), validators=[Optional(), Length(max=2600)],
                             description=_l("Minutes, photos, statistics: public addresses starting with https://"))


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
