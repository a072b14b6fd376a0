from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    HiddenField,
    MultipleFileField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from assembly.forms import FilterSelectField, ShownCheckbox, ShownSearch, ShownSelect
from assembly.proposals.discussion import COMMENT_MAX
from assembly.proposals.services import ADDRESS_MAX, BODY_MAX, TITLE_MAX
from assembly.text import clean_plain


def optional_int(value) -> int | None:
    """The select's value as a number; the empty prompt (or anything else) is no choice."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ProposalForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Please give the proposal a title.")),
                                                 Length(max=TITLE_MAX)],
                        description=_l("Say in one line what should change, e.g. “The park on Moda Street needs lighting”."))
    # No silent default: the list starts on an empty prompt (see `category_choices` in the views).
    category_id = SelectField(_l("Category"), coerce=optional_int, validators=[
        InputRequired(_l("Choose the category that fits the proposal best."))])
    body = TextAreaField(_l("Description"), validators=[DataRequired(_l("Please describe the proposal.")),
                                                        Length(max=BODY_MAX)],
                         description=_l("What is the problem, where, since when, and what do you propose? "
                                        "You can format the text: **bold**, *italic*, lists (lines that start "
                                        "with “- ”) and links."))
    address_text = StringField(_l("Place (address or landmark)"), validators=[Optional(), Length(max=ADDRESS_MAX)])
    latitude = FloatField(_l("Latitude"), validators=[
        Optional(), NumberRange(-90, 90, _l("Enter a number between %(min)s and %(max)s."))],
        description=_l("Optional. Click the map to fill in, or type the coordinates, e.g. 40.9869."))
    longitude = FloatField(_l("Longitude"), validators=[
        Optional(), NumberRange(-180, 180, _l("Enter a number between %(min)s and %(max)s."))],
        description=_l("e.g. 29.0247"))
    photos = MultipleFileField(_l("Photos (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp"})
    save_as_draft = BooleanField(_l("Save as a draft (only you can see it)"))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(_l("Please write a comment.")),
                                                        Length(max=COMMENT_MAX)])
    parent_id = HiddenField()


class ReportForm(FlaskForm):
    reason = StringField(_l("What is wrong with it?"), validators=[
        DataRequired(_l("Please give a reason.")), Length(max=500)])


def _sort_choices():
    # A callable: WTForms 3.3 deprecates choices given as a literal list of tuples.
    # "Best match" orders a search (and is its default); without a search it means newest.
    return [("newest", _l("Newest")), ("supported", _l("Most supported")), ("discussed", _l("Most discussed")),
            ("relevant", _l("Best match"))]


QUERY_MAX = 200


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    # Cleaned like stored text: the query is shown again, and links can carry any query.
    q = SearchField(_l("Search"), validators=[Optional(), Length(max=QUERY_MAX)], filters=[clean_plain])
    category = FilterSelectField(_l("Category"), coerce=int, validators=[Optional()])
    status = FilterSelectField(_l("Status"), validators=[Optional()])
    sort = FilterSelectField(_l("Sort by"), choices=_sort_choices, validators=[Optional()])
    supported = BooleanField(_l("Supported by me"))
    followed = BooleanField(_l("Followed by me"))
    ready = BooleanField(_l("Ready for the agenda"))
    mine = BooleanField(_l("Written by me (including drafts)"))


class ShownFilters:
    """The list's filter form from the query's plain values, for a query the form would accept:
    the same fields (`data`, and the HTML of the `field` macro) as `FilterForm`, without building
    it (see `assembly.forms.ShownField`)."""

    def __init__(self, args, categories: list, statuses: list) -> None:
        self.q = ShownSearch("q", FilterForm.q.args[0], clean_plain(args.get("q")), QUERY_MAX)
        category = args.get("category")
        self.category = ShownSelect("category", FilterForm.category.args[0],
                                    None if category is None else int(category), categories)
        self.status = ShownSelect("status", FilterForm.status.args[0], args.get("status"), statuses)
        self.sort = ShownSelect("sort", FilterForm.sort.args[0], args.get("sort"), _sort_choices())
        for name in ("supported", "followed", "ready", "mine"):
            setattr(self, name, ShownCheckbox(name, getattr(FilterForm, name).args[0], args.get(name)))

    @staticmethod
    def accepts(args, categories: list, statuses: list) -> bool:
        """Whether `FilterForm` would find nothing wrong with the query (no message to show)."""
        query = args.get("q")
        return ((query is None or len(clean_plain(query)) <= QUERY_MAX)
                and _among(args.get("category"), (str(value) for value, _label in categories))
                and _among(args.get("status"), (value for value, _label in statuses))
                and _among(args.get("sort"), (value for value, _label in _sort_choices())))


def _among(raw: str | None, values) -> bool:
    return raw is None or raw in values


def filter_form(args, categories: list, statuses: list):
    """The list's filter form for the query `args`, with these choices of category and status:
    shown from plain values when the form would accept the query, else the checked `FilterForm`
    (with its messages). Either way the same fields with the same `data`."""
    if ShownFilters.accepts(args, categories, statuses):
        return ShownFilters(args, categories, statuses)
    form = FilterForm(args)
    form.category.choices = categories
    form.status.choices = statuses
    form.validate()
    return form
