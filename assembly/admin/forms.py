from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, FloatField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from assembly.forms import language_field, name_fields

_required = DataRequired(_l("This field is required."))


class MunicipalityForm(FlaskForm):
    code = StringField(_l("Code"), validators=[_required, Length(max=12)],
                       description=_l("Capital letters, used in reference numbers, e.g. KDK."))
    name = StringField(_l("Name"), validators=[_required, Length(max=200)])
    timezone = StringField(_l("Time zone"), default="Europe/Istanbul", validators=[_required, Length(max=64)])
    default_locale = language_field(_l("Default language"))


def _majority_choices():
    return [("simple", _l("Simple majority (more yes than no)")),
            ("two_thirds", _l("Two-thirds majority of yes and no votes"))]


@name_fields
class NeighbourhoodForm(FlaskForm):
    slug = StringField(_l("Web address (slug)"), validators=[_required, Length(max=60)],
                       description=_l("Lower-case letters, digits and hyphens, e.g. caferaga."))
    code = StringField(_l("Code"), validators=[_required, Length(max=20)],
                       description=_l("Capital letters, used in reference numbers, e.g. CAFERAGA."))
    default_locale = language_field(_l("Default language"))
    quorum_percent = IntegerField(_l("Quorum (percent of verified residents)"), default=10, validators=[
        InputRequired(_l("Please enter a number.")),
        NumberRange(0, 100, _l("Enter a number between %(min)s and %(max)s."))])
    majority = SelectField(_l("Majority rule"), choices=_majority_choices, validators=[_required])
    support_threshold = IntegerField(_l("Supports needed to reach the agenda"), default=10, validators=[
        InputRequired(_l("Please enter a number.")),
        NumberRange(1, 100000, _l("Enter a number between %(min)s and %(max)s."))])


def _coordinate(label, low, high):
    return FloatField(label, validators=[Optional(), NumberRange(low, high, _l(
        "Enter a number between %(min)s and %(max)s."))])


@name_fields
class NeighbourhoodEditForm(FlaskForm):
    default_locale = language_field(_l("Default language"))
    quorum_percent = NeighbourhoodForm.quorum_percent
    majority = NeighbourhoodForm.majority
    support_threshold = NeighbourhoodForm.support_threshold
    support_threshold_percent = IntegerField(
        _l("Or a share of the verified residents (percent)"), validators=[
            Optional(), NumberRange(1, 100, _l("Enter a number between %(min)s and %(max)s."))],
        description=_l("When set, a proposal needs this share of the residents, and at least the number above."))
    min_latitude = _coordinate(_l("Area: southern latitude"), -90, 90)
    min_longitude = _coordinate(_l("Area: western longitude"), -180, 180)
    max_latitude = _coordinate(_l("Area: northern latitude"), -90, 90)
    max_longitude = _coordinate(_l("Area: eastern longitude"), -180, 180)


def body_kind_choices():
    return [("council", _l("Municipal council")), ("district", _l("District municipality")),
            ("police", _l("Police")), ("utility", _l("Utility company")),
            ("health", _l("Health directorate")), ("other", _l("Other public body"))]


class BodyForm(FlaskForm):
    slug = StringField(_l("Web address (slug)"), validators=[_required, Length(max=60)])
    name = StringField(_l("Name"), validators=[_required, Length(max=200)])
    kind = SelectField(_l("Kind"), choices=body_kind_choices, validators=[_required])
    answer_days = IntegerField(_l("Answer within (days)"), default=30, validators=[
        InputRequired(_l("Please enter a number.")),
        NumberRange(1, 365, _l("Enter a number between %(min)s and %(max)s."))])


@name_fields
class CategoryForm(FlaskForm):
    slug = StringField(_l("Web address (slug)"), validators=[_required, Length(max=60)])
    default_body = SelectField(_l("Default recipient"), coerce=int, validators=[InputRequired()])


class AppointForm(FlaskForm):
    email = EmailField(_l("E-mail address of the person"), validators=[
        _required, Email(_l("Please enter a valid e-mail address."), check_deliverability=False),
        Length(max=254)])
