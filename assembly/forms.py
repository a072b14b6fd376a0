"""Form pieces shared across domains."""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import Select, html_params

from assembly import i18n
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


class WallClockInput:
    """A date-and-time input in the calendar of the reader's language. Gregorian languages get
    the browser's `datetime-local` picker; Persian gets a text box for a Solar Hijri date (the
    browsers' pickers are Gregorian only). Both work without JavaScript; the hint says the format."""

    def __call__(self, field: Field, **attrs) -> Markup:
        attrs.setdefault("id", field.id)
        if i18n.uses_solar_hijri():
            attrs.update(type="text", dir="ltr", autocomplete="off", spellcheck="false",
                         placeholder=i18n.wall_clock_text(i18n._EXAMPLE))
        else:
            attrs.update(type="datetime-local")
        return Markup(f"<input {html_params(name=field.name, value=field._value(), **attrs)}>")


class WallClockField(Field):
    """A local date and time (naive wall-clock time of the place; the view turns it into UTC).

    Typed in the calendar of the reader's language: Solar Hijri in Persian (Persian or Latin
    digits), Gregorian otherwise. A refused value stays in the box with a translated error."""

    widget = WallClockInput()

    def __init__(self, label=None, validators=None, note=None, **kwargs):
        self.note = note
        kwargs.setdefault("description", LazyString(self._hint))
        super().__init__(label, validators, **kwargs)

    def _hint(self) -> str:
        hint = i18n.date_entry_hint()
        return f"{self.note} {hint}" if self.note else hint

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return i18n.wall_clock_text(self.data)

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        self.data = None
        try:
            self.data = i18n.parse_wall_clock(valuelist[0])
        except i18n.DateEntryError as error:
            raise ValueError(str(error)) from None


class LazyForm:
    """A form built the first time the page uses it.

    A page offers the forms of every action its reader might take, and most readers are shown
    none of them (a visitor sees no moderation, no staff steps, no reply box); each form costs
    its fields and a CSRF token, and a token changes a visitor's session (a new cookie) for
    nothing. `LazyForm(lambda: ReasonForm(formdata=None))` stands in for the form in a template."""

    __slots__ = ("_make", "_form", "_hidden")

    def __init__(self, make: Callable[[], FlaskForm]) -> None:
        self._make = make
        self._form = None
        self._hidden = None

    def hidden_tag(self, *fields):
        """The form's hidden fields, written once for the page (a page repeats a button's
        CSRF token in every form it offers; the token is the same for the whole request)."""
        if fields:
            return self._built().hidden_tag(*fields)
        if self._hidden is None:
            self._hidden = self._built().hidden_tag()
        return self._hidden

    def _built(self) -> FlaskForm:
        if self._form is None:
            self._form = self._make()
        return self._form

    def __getattr__(self, name: str):
        return getattr(self._built(), name)

    def __getitem__(self, name: str):
        return self._built()[name]

    def __iter__(self):
        return iter(self._built())

    def __contains__(self, name: str) -> bool:
        return name in self._built()


class QuickSelect(Select):
    """WTForms' select widget, written for a list of many options: without the `inspect.signature`
    of `render_option` it works out on every render (for overrides with an old signature), and an
    option without attributes of its own written directly (the same HTML as `html_params` gives:
    the attributes in name order, the value escaped)."""

    @classmethod
    def _dispatch_render_option(cls):
        return cls.render_option

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{escape(value)}">{escape(choice.label or choice.value)}</option>')


class FilterSelectField(SelectField):
    """A select of a filter form (a GET), with `Optional()` among its validators.

    Without a value it is valid (`Optional` stops and clears the errors), so the check of the
    value against the choices is skipped: it would word an error only to have it cleared, which
    loads WTForms' catalogue of messages for the request."""

    widget = QuickSelect()

    def pre_validate(self, form) -> None:
        if self.raw_data:
            super().pre_validate(form)


# --- a GET filter form shown from plain values -----------------------------------------------------
# A list page shows its filter form on every view, and building it with WTForms (its fields, their
# processing, widgets that sort and format every attribute) cost a fifth of a full render of the
# proposal list. These stand in for the fields in the `field` macro when every value of the query
# would pass the form's checks (the form itself shows a refused value, with its message): the same
# HTML as the WTForms field they replace (`html_params`: attributes in name order, values escaped;
# `escape` of the same label objects, so lazy labels are written as WTForms writes them).

def _attributes(values: dict) -> str:
    """`wtforms.widgets.html_params` for the values these fields have (text, numbers, flags)."""
    parts = []
    for key, value in sorted(values.items()):
        if value is True:
            parts.append(key.rstrip("_"))
        elif value is not False:
            parts.append(f'{key.rstrip("_")}="{escape(value)}"')
    return " ".join(parts)


class ShownField:
    """What the `field` macro reads of a field: a field without errors or a description."""

    type = "Field"
    errors = ()
    description = ""

    def __init__(self, name: str, label, data=None) -> None:
        self.id = self.name = name
        self.text = label
        self.data = data

    def label(self, for_: str | None = None) -> Markup:
        return Markup(f'<label for="{escape(for_ or self.id)}">{escape(self.text)}</label>')


class ShownSearch(ShownField):
    """A `SearchField` with a `Length(max=…)` check: its value is the field's (filtered) data."""

    type = "SearchField"

    def __init__(self, name: str, label, data: str, maxlength: int) -> None:
        super().__init__(name, label, data)
        self.maxlength = maxlength

    def __call__(self, **attributes) -> Markup:
        values = {"id": self.id, "type": "search", "value": self.data or "", "maxlength": self.maxlength,
                  **attributes, "name": self.name}
        return Markup(f"<input {_attributes(values)}>")


class ShownSelect(ShownField):
    """A `FilterSelectField` (`QuickSelect`): `data` is the chosen value, coerced like the
    choices' values, or None."""

    type = "FilterSelectField"

    def __init__(self, name: str, label, data, choices) -> None:
        super().__init__(name, label, data)
        self.choices = choices

    def __call__(self, **attributes) -> Markup:
        html = [f"<select {_attributes({'id': self.id, **attributes, 'name': self.name})}>"]
        for value, label in self.choices:
            selected = "selected " if value == self.data else ""
            html.append(f'<option {selected}value="{escape(value)}">{escape(label or value)}</option>')
        html.append("</select>")
        return Markup("".join(html))


class ShownCheckbox(ShownField):
    """A `BooleanField`: `raw` is the query's value (the box's `value`, "y" without one)."""

    type = "BooleanField"

    def __init__(self, name: str, label, raw: str | None) -> None:
        super().__init__(name, label, raw is not None and raw not in ("false", ""))
        self.raw = raw

    def __call__(self, **attributes) -> Markup:
        values = {"id": self.id, "type": "checkbox", "value": "y" if self.raw is None else self.raw,
                  **attributes, "name": self.name}
        if self.data:
            values.setdefault("checked", True)
        return Markup(f"<input {_attributes(values)}>")
