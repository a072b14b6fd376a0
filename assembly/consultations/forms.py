from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from assembly.forms import WallClockField


def kind_choices():
    return [("budget", _l("Budget line")), ("zoning", _l("Zoning plan change"))]


class ConsultationForm(FlaskForm):
    kind = SelectField(_l("Kind of draft"), choices=kind_choices, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(_l("This field is required.")), Length(max=200)],
                        description=_l("e.g. “2031 budget: lighting of the Moda seaside park”"))
    text = TextAreaField(_l("The draft"), validators=[DataRequired(_l("This field is required.")),
                                                     Length(max=20000)],
                         description=_l("Markdown: **bold**, *italic*, lists and links."))
    deadline = WallClockField(_l("Deadline for answers"), validators=[InputRequired(_l("This field is required."))],
                              note=_l("Local time of the municipality."))
    neighbourhood_ids = SelectMultipleField(_l("Neighbourhoods consulted"), coerce=int, widget=ListWidget(
        prefix_label=False), option_widget=CheckboxInput(), validators=[Optional()])
    links = TextAreaField(_l("Document links"), validators=[Optional(), Length(max=5000)],
                          description=_l("One per line: a title, a vertical bar, the address. "
                                         "e.g. “Budget draft | https://…”"))
    files = MultipleFileField(_l("PDF documents"), description=_l("PDF files only, at most 2 MB each."))


class AgendaForm(FlaskForm):
    assembly_id = SelectField(_l("Session"), coerce=int, validators=[InputRequired(_l("Choose a session."))])


class AnswerForm(FlaskForm):
    comment = TextAreaField(_l("The assembly's comment"), validators=[
        DataRequired(_l("Please write the assembly's comment.")), Length(max=5000)],
        description=_l("What the assembly says about the draft, beside the result of its vote. Markdown."))
