from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from assembly.assemblies.models import BallotMethod
from assembly.forms import WallClockField
from assembly.params import MAX_ID, parse_int

_number = [Optional(), NumberRange(0, 1000000, _l("Enter a number between %(min)s and %(max)s."))]


class AssemblyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("This field is required.")), Length(max=200)],
                        description=_l("e.g. “Neighbourhood assembly, December”"))
    meeting_start = WallClockField(_l("Meeting starts"), validators=[Optional()],
                                   note=_l("Local time of the neighbourhood. Leave empty for an online-only session."))
    meeting_end = WallClockField(_l("Meeting ends"), validators=[Optional()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    online_link = StringField(_l("Online meeting link"), validators=[Optional(), Length(max=500)])


def method_choices():
    return [("yes_no", _l("Yes / no / abstain on each item")),
            ("approval", _l("Approval: tick the items you support, up to a set number")),
            ("ranked", _l("Ranked: put the items in your order of preference"))]


def secrecy_choices():
    # Callables: WTForms 3.3 deprecates choices given as a literal list of tuples.
    return [("secret", _l("Secret: nobody can see who voted what; voters get a receipt")),
            ("open", _l("Open: names are shown after closing, like a show of hands"))]


def majority_choices():
    return [("simple", _l("Simple majority (more yes than no)")),
            ("two_thirds", _l("Two-thirds majority of yes and no votes"))]


class BallotForm(FlaskForm):
    method = SelectField(_l("Voting method"), choices=method_choices, validators=[DataRequired()])
    secrecy = SelectField(_l("Secrecy"), choices=secrecy_choices, validators=[DataRequired()])
    opens_at = WallClockField(_l("Voting opens"), validators=[InputRequired(_l("This field is required."))])
    closes_at = WallClockField(_l("Voting closes"), validators=[InputRequired(_l("This field is required."))])
    quorum_percent = IntegerField(_l("Quorum (percent of verified residents)"), validators=[
        InputRequired(_l("Please enter a number.")),
        NumberRange(0, 100, _l("Enter a number between %(min)s and %(max)s."))])
    majority = SelectField(_l("Majority rule"), choices=majority_choices, validators=[DataRequired()])
    approval_k = IntegerField(_l("How many items each voter may tick (approval) or how many items win (ranked)"), validators=[
        Optional(), NumberRange(1, 100, _l("Enter a number between %(min)s and %(max)s."))])


class AgendaForm(FlaskForm):
    proposal_id = SelectField(_l("Proposal ready for the agenda"), coerce=int, validators=[
        InputRequired(_l("This field is required."))])


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("Minutes"), validators=[DataRequired(_l("Please write the minutes.")),
                                                      Length(max=50000)],
                            description=_l("What was discussed and decided. You can format the text: **bold**, *italic*, lists (lines that start "
                                   "with “- ”) and links."))
    attendance = IntegerField(_l("Number of people present"), validators=_number)
    bodies_present = StringField(_l("Bodies represented"), validators=[Optional(), Length(max=500)],
                                 description=_l("e.g. police, municipality, electricity company"))


class PaperCountForm(FlaskForm):
    yes = IntegerField(_l("Yes"), validators=[InputRequired(_l("Please enter a number."))] + _number[1:])
    no = IntegerField(_l("No"), validators=[InputRequired(_l("Please enter a number."))] + _number[1:])
    abstain = IntegerField(_l("Abstain"), validators=[InputRequired(_l("Please enter a number."))] + _number[1:])


class AnnounceForm(FlaskForm):
    """Announcing, with the vote's times at hand: a refusal for a time that has passed is fixed here."""

    opens_at = WallClockField(_l("Voting opens"), validators=[Optional()])
    closes_at = WallClockField(_l("Voting closes"), validators=[Optional()])


def vote_from_form(form, assembly) -> object:
    """The vote as posted on the ballot paper (templates/assemblies/_ballot_fields.html), in the
    shape `voting.cast_vote` checks."""
    method = assembly.ballot.method
    items = [str(item.id) for item in assembly.items]
    if method == BallotMethod.YES_NO.value:
        return {item: form.get(f"item-{item}") for item in items if form.get(f"item-{item}")}
    if method == BallotMethod.APPROVAL.value:
        return [item for item in form.getlist("approve") if item in items]
    ranks: dict[int, list[str]] = {}
    for item in items:
        rank = parse_int(form.get(f"rank-{item}"), 1, MAX_ID)
        if rank is not None:
            ranks.setdefault(rank, []).append(item)
    return [ranks[number] for number in sorted(ranks)]
