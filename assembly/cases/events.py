"""The steps a body records on a case — received, scheduled, decided, in_progress, done — each
declared once: its fields, which of them it needs, their types and their limits.

Everything that reads or checks these fields is derived from the declarations below:

- `clean()`: the service's validation (`services.apply_event` and the step functions call it),
  with translated errors naming each wrong field;
- the inbox forms (`cases.forms.event_form`);
- the columns and checks of the CSV import of outcomes (`cases.outcome_rows`);
- the API's request models, and so its request validation and its OpenAPI document
  (`api.schemas`).

Every limit equals the size of the column its value is stored in (`EventField.stored_in`);
`tests/test_case_event_declarations.py` compares them, so a limit and its column cannot drift
apart again.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import InstrumentedAttribute

from assembly.cases.models import Case, CaseEvent, Decision
from assembly.errors import ValidationFailed
from assembly.i18n import ngettext
from assembly.neighbourhoods.models import Body
from assembly.text import clean_plain

URL_SCHEMES = ("https://", "http://")
TOO_LONG, NOT_A_WEB_ADDRESS = "too_long", "not_a_web_address"


class FieldType(str, enum.Enum):
    TEXT = "text"          # plain text, cleaned (`clean_plain`) before it is counted and stored
    URL = "url"            # text that is an http(s) address
    DATETIME = "datetime"  # an aware moment (the API asks for a UTC offset, forms for local time)
    PERCENT = "percent"    # a whole number from 0 to 100
    DECISION = "decision"  # one of `Decision`
    BODY = "body"          # another body of the municipality (API: its slug; inbox: a choice)


@dataclass(frozen=True)
class EventField:
    """One field of an event kind. `name` is the same in the service, the API, the CSV file and
    the inbox form."""

    name: str
    type: FieldType
    label: str                      # lazy: the inbox form's label
    description: str                # English: the API documentation
    max_length: int | None = None   # characters, after cleaning (texts, and a body's slug)
    stored_in: tuple[InstrumentedAttribute, ...] = ()
    multiline: bool = False
    in_csv: bool = True             # a column of the CSV import (a referral is made in the inbox only)
    help: str | None = None         # lazy: the form's help text
    required_message: str | None = None  # lazy: when a kind needs this field and it is missing

    def clean(self, value):
        """(cleaned value, None) or (None, translated message). None and "" mean "not given"."""
        if value is None:
            return None, None
        if self.type in (FieldType.TEXT, FieldType.URL):
            return self.clean_text(value)
        if self.type == FieldType.DATETIME:
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                return value, None
            return None, _("Give a date and time with its UTC offset, e.g. 2026-12-01T18:00:00+03:00.")
        if self.type == FieldType.PERCENT:
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100:
                return value, None
            return None, _("Progress is a percentage between 0 and 100.")
        if self.type == FieldType.DECISION:
            if value == "":
                return None, None
            if isinstance(value, str) and value in DECISIONS:
                return value, None
            return None, _("Choose one of the offered decisions.")
        if isinstance(value, Body):  # FieldType.BODY
            return value, None
        return None, _("Choose the other body of this municipality to refer the case to.")

    def clean_text(self, value):
        if not isinstance(value, str):
            return None, _("Give text here.")
        if not valid_unicode(value):
            return None, _("This text contains characters that are not valid Unicode.")
        cleaned = clean_plain(value) or None
        problem = self.text_problem(cleaned) if cleaned is not None else None
        if problem == TOO_LONG:
            return None, ngettext("Give at most %(num)s character.",
                                  "Give at most %(num)s characters.", self.max_length)
        if problem == NOT_A_WEB_ADDRESS:
            return None, _("Give a web address starting with https://.")
        return cleaned, None

    def text_problem(self, cleaned: str) -> str | None:
        """TOO_LONG, NOT_A_WEB_ADDRESS or None for a cleaned text (callers word the message)."""
        if self.max_length is not None and len(cleaned) > self.max_length:
            return TOO_LONG
        if self.type == FieldType.URL and not cleaned.startswith(URL_SCHEMES):
            return NOT_A_WEB_ADDRESS
        return None

    def missing_message(self) -> str:
        return str(self.required_message) if self.required_message else _("This field is required.")


@dataclass(frozen=True)
class EventKind:
    """A step a body records, with its fields in the order forms and documents show them."""

    name: str
    schema_name: str  # the API's request schema, e.g. ScheduledEvent
    summary: str      # English: the API documentation
    fields: tuple[EventField, ...]
    required: frozenset[str] = frozenset()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    def field(self, name: str) -> EventField:
        return next(field for field in self.fields if field.name == name)


def valid_unicode(text: str) -> bool:
    """False for text with lone surrogates (JSON escapes such as \\ud800), which no database stores."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


DECISIONS = tuple(decision.value for decision in Decision)

NOTE = EventField(
    "note", FieldType.TEXT, _l("Public note"), "Public note, shown on the case page and sent to the "
    "item's followers; a rejection needs one (the reason). A referral also passes it to the new case.",
    max_length=2000, stored_in=(CaseEvent.note, Case.note), multiline=True,
    help=_l("Shown on the public case page and sent to the people who follow the item."))
MEETING_AT = EventField(
    "meeting_at", FieldType.DATETIME, _l("Council meeting"), "The council meeting, with its UTC offset.",
    stored_in=(Case.council_meeting_at,), required_message=_l("Give the date of the council meeting."))
AGENDA_NUMBER = EventField(
    "agenda_number", FieldType.TEXT, _l("Agenda number"), "The item's number on the council's agenda.",
    max_length=40, stored_in=(Case.agenda_number,))
RECORD_URL = EventField(
    "record_url", FieldType.URL, _l("Link to the council's own record"),
    "The council's own record of the meeting, an http(s) address.", max_length=500,
    stored_in=(Case.council_record_url,))
DECISION = EventField(
    "decision", FieldType.DECISION, _l("Decision"), "What the body decided.", stored_in=(Case.decision,),
    required_message=_l("Choose one of the offered decisions."))
REFER_TO = EventField(
    "refer_to", FieldType.BODY, _l("Refer to (only for a referral)"),
    "Slug of the other body of your municipality; only with the decision referred.", max_length=60,
    stored_in=(Body.slug,), in_csv=False)
PROGRESS = EventField(
    "progress", FieldType.PERCENT, _l("Progress (percent)"), "How far the work is, in percent.",
    stored_in=(Case.progress,), required_message=_l("Please enter a number."))

KINDS: dict[str, EventKind] = {kind.name: kind for kind in (
    EventKind("received", "ReceivedEvent", "The body has received the case.", (NOTE,)),
    EventKind("scheduled", "ScheduledEvent", "The case is on the agenda of a council meeting (may be repeated).",
              (MEETING_AT, AGENDA_NUMBER, RECORD_URL, NOTE), frozenset({"meeting_at"})),
    EventKind("decided", "DecidedEvent", "The body's decision: approved, rejected (needs a note), deferred, or "
              "referred to another body (needs refer_to).",
              (DECISION, REFER_TO, dataclasses.replace(NOTE, label=_l("Public note (required for a rejection)"),
                                                       help=None)),
              frozenset({"decision"})),
    EventKind("in_progress", "InProgressEvent", "Work on an approved case has progressed (may be repeated).",
              (PROGRESS, NOTE), frozenset({"progress"})),
    EventKind("done", "DoneEvent", "The work is done.", (NOTE,)),
)}
# Every kind of event in a case's timeline; "forwarded" is made by forwarding, and "reopened" by a
# resident who says a done case is not fixed (`cases.confirmations`), not by the body.
TIMELINE_KINDS = ("forwarded", *KINDS, "reopened")


def kind_of(name: str) -> EventKind:
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValidationFailed(_("Unknown step: %(kind)s.", kind=name), "kind")
    return kind


def clean(kind_name: str, values: Mapping) -> dict:
    """The fields of an event of this kind, checked against its declaration: texts cleaned and
    within their limits, types right, required fields given, no field the kind does not take.
    Returns every field of the kind (None when not given); raises ValidationFailed naming every
    wrong field."""
    kind = kind_of(kind_name)
    problems: dict[str | None, list[str]] = {}
    for name in sorted(set(values) - set(kind.names)):
        problems[name] = [_("This field is not used for events of kind %(kind)s.", kind=kind.name)]
    cleaned: dict = {}
    for field in kind.fields:
        value, error = field.clean(values.get(field.name))
        if error is None and value is None and field.name in kind.required:
            error = field.missing_message()
        if error is not None:
            problems[field.name] = [error]
        cleaned[field.name] = value
    if problems:
        raise ValidationFailed(problems, next(iter(problems)))
    return cleaned
