"""Form pieces shared across domains."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from assembly.config import LOCALES
from assembly.i18n import LANGUAGE_NAMES


class ButtonForm(FlaskForm):
    """Carries only the CSRF token, for POSTs made by a single button."""


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Please give a reason.")),
                                                   Length(max=500)])


def _language_choices() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES[code]) for code in LOCALES]


def language_field(label=None) -> SelectField:
    # Choices given as a callable: WTForms 3.3 deprecates a literal list of tuples.
    return SelectField(label or _l("Language"), choices=_language_choices, validators=[DataRequired()])


def name_fields(cls):
    """Add one optional `name_<locale>` field per language to a form class."""
    labels = {"en": _l("Name in English"), "tr": _l("Name in Turkish"), "fa": _l("Name in Persian"),
              "sv": _l("Name in Swedish")}
    for code in LOCALES:
        setattr(cls, f"name_{code}", StringField(labels[code], validators=[Length(max=120)]))
    return cls


def names_from(form) -> dict[str, str]:
    return {code: getattr(form, f"name_{code}").data or "" for code in LOCALES}
