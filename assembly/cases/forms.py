from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from assembly.cases import events
from assembly.cases.events import FieldType
from assembly.forms import WallClockField


class ForwardForm(FlaskForm):
    body_id = SelectField(_l("Send to"), coerce=int, validators=[InputRequired(_l("This field is required."))])
    note = TextAreaField(_l("Covering note"), validators=[Optional(), Length(max=2000)])
    reason = TextAreaField(_l("Public reason for forwarding an item the assembly did not accept"),
                           validators=[Optional(), Length(max=1000)])


def _fix_choices():
    return [("yes", _l("Yes, it is fixed")), ("no", _l("No, it is not fixed"))]


class FixForm(FlaskForm):
    """Is it really fixed? Asked of the proposal's author and followers when a case is done."""

    answer = RadioField(_l("Is it really fixed?"), choices=_fix_choices,
                        validators=[InputRequired(_l("Answer yes or no."))])
    note = TextAreaField(_l("What is still wrong? (needed for a no; shown publicly)"),
                         validators=[Optional(), Length(max=2000)])


def decision_choices():
    return [("approved", _l("Approved")), ("rejected", _l("Rejected")), ("deferred", _l("Deferred")),
            ("referred", _l("Referred to another body"))]


def _form_field(field: events.EventField, required: bool):
    """The inbox form field of an event field, with the declaration's label, limit and requirement.
    Rules across fields (a rejection needs a note …) are the service's, shown on the same form."""
    if field.type == FieldType.DATETIME:
        # Typed in the calendar of the reader's language (Solar Hijri in Persian); the view words
        # its label and its "required" message for the kind of body (cases.wording).
        return WallClockField(field.label, note=field.help or None,
                              validators=[InputRequired(field.required_message) if required else Optional()])
    if field.type == FieldType.PERCENT:
        return IntegerField(field.label, description=field.help or "", validators=[
            InputRequired(field.required_message) if required else Optional(),
            NumberRange(0, 100, _l("Enter a number between %(min)s and %(max)s."))])
    if field.type == FieldType.DECISION:
        return SelectField(field.label, choices=decision_choices, description=field.help or "",
                           validators=[DataRequired(field.required_message) if required else Optional()])
    if field.type == FieldType.BODY:  # the view offers the municipality's other bodies
        return SelectField(field.label, coerce=int, description=field.help or "", validators=[Optional()])
    text_field = TextAreaField if field.multiline else StringField
    return text_field(field.label, description=field.help or "",
                      validators=[Optional(), Length(max=field.max_length)] if field.max_length else [Optional()])


def event_form(kind: events.EventKind) -> type[FlaskForm]:
    """The inbox form of a kind of event, derived from its declaration in `cases.events`."""
    attributes = {field.name: _form_field(field, field.name in kind.required) for field in kind.fields}
    return type(f"{kind.schema_name}Form", (FlaskForm,), attributes)


EVENT_FORMS: dict[str, type[FlaskForm]] = {name: event_form(kind) for name, kind in events.KINDS.items()}


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
