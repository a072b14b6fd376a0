from __future__ import annotations

from types import SimpleNamespace

from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from assembly.forms import WallClockField
from assembly.params import parse_int
from assembly.surveys.models import QuestionKind


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


# --- a questionnaire as posted (the fields of templates/surveys/_questionnaire.html) ---------------

def raw_answers(form, survey) -> dict:
    """The questionnaire as posted, in the shape `services.clean_answers` checks (numbers
    range-checked here; anything else is passed on as a value the check refuses)."""
    raw: dict[str, object] = {}
    for question in survey.questions:
        name = f"q{question.id}"
        n = len(question.options)
        if question.kind == QuestionKind.SINGLE.value:
            value = form.get(name, "")
            raw[str(question.id)] = parse_int(value, 0, max(n - 1, 0)) if value else None
            if value and raw[str(question.id)] is None:
                raw[str(question.id)] = -1
        elif question.kind == QuestionKind.MULTIPLE.value:
            chosen = [parse_int(v, 0, max(n - 1, 0)) for v in form.getlist(name)]
            raw[str(question.id)] = [-1 if c is None else c for c in chosen]
        elif question.kind == QuestionKind.SCALE.value:
            value = form.get(name, "")
            raw[str(question.id)] = (parse_int(value, 1, 5) or -1) if value else None
        elif question.kind == QuestionKind.RANKING.value:
            places = {index: form.get(f"{name}-{index}", "") for index in range(n)}
            if not any(places.values()):
                raw[str(question.id)] = None
                continue
            ranks = {index: parse_int(value, 1, n) for index, value in places.items()}
            if any(rank is None for rank in ranks.values()) or len(set(ranks.values())) != n:
                raw[str(question.id)] = [-1]
            else:
                raw[str(question.id)] = [index for index, _rank in sorted(ranks.items(), key=lambda item: item[1])]
        else:
            raw[str(question.id)] = form.get(name, "")
    return raw


class AnswerErrors:
    """Collects a refused questionnaire's messages by field (`q<question id>`, `neighbourhood`),
    for `call_service`; messages without a field go to the page's errors. With `form`, the
    messages of that form's own fields (e.g. the consent of an answer entered by the muhtar)
    go to its fields."""

    def __init__(self, form=None) -> None:
        self._form = form
        self.fields: dict[str, SimpleNamespace] = {}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._form is not None and name in self._form:
            return self._form[name]
        return self.fields.setdefault(name, SimpleNamespace(errors=[]))

    def as_dict(self) -> dict[str, list[str]]:
        found = {name: list(field.errors) for name, field in self.fields.items()}
        found["page"] = list(g.pop("page_errors", []))
        return found
