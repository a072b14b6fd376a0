from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from assembly.forms import WallClockField

_note = TextAreaField(_l("Public note"), validators=[Optional(), Length(max=5000)],
                      description=_l("Shown on the public case page and sent to the people who follow the item."))


class ForwardForm(FlaskForm):
    body_id = SelectField(_l("Send to"), coerce=int, validators=[InputRequired(_l("This field is required."))])
    note = TextAreaField(_l("Covering note"), validators=[Optional(), Length(max=2000)])
    reason = TextAreaField(_l("Public reason for forwarding an item the assembly did not accept"),
                           validators=[Optional(), Length(max=1000)])


class ReceiveForm(FlaskForm):
    note = _note


class ScheduleForm(FlaskForm):
    # Labelled for the kind of body by the view (see cases.wording); required by the service,
    # whose message names what the date is for (a council meeting, planned work …).
    meeting_at = WallClockField(_l("Council meeting"), validators=[Optional()])
    agenda_number = StringField(_l("Agenda number"), validators=[Optional(), Length(max=40)])
    record_url = StringField(_l("Link to the council's own record"), validators=[Optional(), Length(max=500)])
    note = _note


def decision_choices():
    return [("approved", _l("Approved")), ("rejected", _l("Rejected")), ("deferred", _l("Deferred")),
            ("referred", _l("Referred to another body"))]


class DecideForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=decision_choices, validators=[DataRequired()])
    refer_to = SelectField(_l("Refer to (only for a referral)"), coerce=int, validators=[Optional()])
    note = TextAreaField(_l("Public note (required for a rejection)"), validators=[Optional(), Length(max=5000)])


class ProgressForm(FlaskForm):
    percent = IntegerField(_l("Progress (percent)"), validators=[
        InputRequired(_l("Please enter a number.")), NumberRange(0, 100, _l("Enter a number between %(min)s and %(max)s."))])
    note = _note


class DoneForm(FlaskForm):
    note = _note


class InboxFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()])
    neighbourhood = SelectField(_l("Neighbourhood"), coerce=int, validators=[Optional()])
    category = SelectField(_l("Category"), coerce=int, validators=[Optional()])
    overdue = BooleanField(_l("Only overdue"))


class TokenForm(FlaskForm):
    name = StringField(_l("Name of the token"), validators=[DataRequired(_l("This field is required.")),
                                                           Length(max=100)],
                       description=_l("e.g. “Council document system”"))


class LookupForm(FlaskForm):
    class Meta:
        csrf = False

    ref = SearchField(_l("Reference number"), validators=[Optional(), Length(max=60)])
