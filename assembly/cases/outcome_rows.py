"""Reading and checking a CSV file of outcomes line by line, before anything is written.

The format is described in docs/csv.md ("Import of outcomes"); `exchange.import_outcomes`
applies the rows only when this module found no error at all.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from assembly.cases import events, services, wording
from assembly.cases.events import FieldType
from assembly.cases.models import Case, CaseStatus, Decision
from assembly.db import db
from assembly.i18n import ngettext
from assembly.neighbourhoods.models import Body
from assembly.params import parse_int
from assembly.text import clean_plain

REQUIRED_COLUMNS = ("reference", "status", "date", "note")
# The steps and their columns come from the declarations in `cases.events`: every field of a
# step other than the note is an optional column, used only on lines of that step.
STEPS = tuple(events.KINDS)
ONLY_FOR: dict[str, str] = {field.name: kind.name for kind in events.KINDS.values() for field in kind.fields
                            if field.in_csv and field.name not in REQUIRED_COLUMNS}
OPTIONAL_COLUMNS = tuple(ONLY_FOR)
# A decision may be written straight into the status column: "rejected" = decided + rejected.
IMPORTABLE_DECISIONS = (Decision.APPROVED.value, Decision.REJECTED.value, Decision.DEFERRED.value)
MAX_ROWS = 5000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")


@dataclass(frozen=True)
class LineError:
    """A reason the file was refused; line 1 is the header, line 0 the file as a whole."""

    line: int
    message: str

    def __str__(self) -> str:
        return _("line %(line)d: %(message)s", line=self.line, message=self.message)


@dataclass(frozen=True)
class _When:
    """An effective date as written (normalised to UTC when it has a time) and as a moment."""

    text: str
    moment: dt.datetime
    has_time: bool


@dataclass
class Row:
    """A checked line: the step `kind` with the fields `services.apply_event` takes."""

    line: int
    case_id: int
    kind: str
    fields: dict


def decode(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    # UTF-16 text of ASCII letters is valid UTF-8 with a zero byte after every letter.
    return None if "\x00" in text else text


def read(text: str, errors: list[LineError]) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: cell}) for every non-empty record; the header is checked here."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    try:
        start = 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        errors.append(LineError(reader.line_num, _("the line cannot be read as CSV (%(error)s).", error=str(error))))
        return []
    if not records or records[0][0] != 1:
        errors.append(LineError(1, _("the first line must be the header: %(columns)s.",
                                     columns=",".join(REQUIRED_COLUMNS))))
        return []
    columns = _columns(records[0][1], errors)
    if len(records) - 1 > MAX_ROWS:
        errors.append(LineError(0, ngettext("the file has more than %(num)s row; split it into smaller files.",
                                            "the file has more than %(num)s rows; split it into smaller files.", MAX_ROWS)))
    if len(records) == 1:
        errors.append(LineError(1, _("the file has no rows after the header.")))
    if errors:
        return []
    result = []
    for line, cells in records[1:]:
        if len(cells) != len(columns):
            errors.append(LineError(line, _("expected %(expected)d columns but found %(found)d.",
                                            expected=len(columns), found=len(cells))))
        else:
            result.append((line, dict(zip(columns, cells))))
    return result


def _columns(header: list[str], errors: list[LineError]) -> list[str]:
    columns = [cell.strip() for cell in header]
    if tuple(columns[:len(REQUIRED_COLUMNS)]) != REQUIRED_COLUMNS:
        errors.append(LineError(1, _("the header must start with the columns %(columns)s.",
                                     columns=",".join(REQUIRED_COLUMNS))))
        return columns
    for position, column in enumerate(columns[len(REQUIRED_COLUMNS):], start=len(REQUIRED_COLUMNS)):
        if column not in OPTIONAL_COLUMNS:
            errors.append(LineError(1, _("unknown column “%(column)s”; optional columns are %(columns)s.",
                                         column=column, columns=", ".join(OPTIONAL_COLUMNS))))
        elif column in columns[:position]:
            errors.append(LineError(1, _("the column “%(column)s” appears twice.", column=column)))
    return columns


def _text_message(field: events.EventField, problem: str) -> str:
    if problem == events.NOT_A_WEB_ADDRESS or field.type == FieldType.URL:
        return ngettext("%(column)s must be a web address starting with https:// and at most %(num)s character long.",
                        "%(column)s must be a web address starting with https:// and at most %(num)s characters long.",
                        field.max_length, column=field.name)
    if field.name == "note":
        return ngettext("the note is longer than %(num)s character.",
                        "the note is longer than %(num)s characters.", field.max_length)
    if field.name == "agenda_number":
        return ngettext("the agenda number is longer than %(num)s character.",
                        "the agenda number is longer than %(num)s characters.", field.max_length)
    return ngettext("the column “%(column)s” is longer than %(num)s character.",
                    "the column “%(column)s” is longer than %(num)s characters.", field.max_length, column=field.name)


class Checker:
    """Validates rows one after another, following each case through the earlier rows of the file."""

    def __init__(self, body: Body, now: dt.datetime, errors: list[LineError]) -> None:
        self.body, self.now, self.errors = body, now, errors
        self.zone = ZoneInfo(body.municipality.timezone)
        self.state: dict[int, SimpleNamespace] = {}  # case id → status, decision, last date, last line

    def check(self, lines: list[tuple[int, dict[str, str]]]) -> list[Row]:
        cases = self._cases({cells["reference"].strip().upper() for _line, cells in lines})
        rows = []
        for line, cells in lines:
            row = self._row(line, cells, cases)
            if row is not None:
                rows.append(row)
        return rows

    def _cases(self, references: set[str]) -> dict[str, SimpleNamespace]:
        found: dict[str, SimpleNamespace] = {}
        wanted = sorted(references - {""})
        for start in range(0, len(wanted), 500):
            for row in db.session.execute(
                    select(Case.id, Case.reference, Case.body_id, Case.status, Case.decision, Case.forwarded_at)
                    .where(Case.reference.in_(wanted[start:start + 500]))):
                found[row.reference] = SimpleNamespace(**row._asdict())
        return found

    def _error(self, line: int, message: str) -> None:
        self.errors.append(LineError(line, message))

    def _row(self, line: int, cells: dict[str, str], cases: dict[str, SimpleNamespace]) -> Row | None:
        count = len(self.errors)
        case = self._case(line, cells["reference"].strip().upper(), cases)
        kind, decision = self._step(line, cells)
        fields = self._fields(line, cells, kind, decision)
        effective = self._date(line, cells["date"], case)
        if case is not None and kind is not None:
            self._transition(line, case, kind, decision, effective)
        if len(self.errors) > count or case is None or kind is None:
            return None
        fields["effective_date"] = effective.text
        return Row(line, case.id, kind, fields)

    def _case(self, line: int, reference: str, cases: dict[str, SimpleNamespace]) -> SimpleNamespace | None:
        if not reference:
            self._error(line, _("the reference number is missing."))
            return None
        case = cases.get(reference)
        if case is None:
            self._error(line, _("there is no case with the reference number “%(reference)s”.", reference=reference))
        elif case.body_id != self.body.id:
            self._error(line, _("the case “%(reference)s” was forwarded to another body.", reference=reference))
            return None
        return case

    def _step(self, line: int, cells: dict[str, str]) -> tuple[str | None, str | None]:
        status = cells["status"].strip().lower()
        decision = cells.get("decision", "").strip().lower() or None
        if status in IMPORTABLE_DECISIONS:
            if decision and decision != status:
                self._error(line, _("the status says “%(status)s” but the decision says “%(decision)s”.",
                                    status=status, decision=decision))
                return None, None
            return CaseStatus.DECIDED.value, status
        if status not in STEPS:
            self._error(line, _("unknown status “%(status)s”; use one of %(steps)s.", status=status,
                                steps=", ".join(STEPS + IMPORTABLE_DECISIONS)))
            return None, None
        if status == CaseStatus.DECIDED.value:
            if decision == Decision.REFERRED.value:
                self._error(line, _("a referral to another body cannot be imported; refer the case in the inbox."))
                return None, None
            if decision not in IMPORTABLE_DECISIONS:
                self._error(line, _("a decision needs the decision column: %(decisions)s.",
                                    decisions=", ".join(IMPORTABLE_DECISIONS)))
                return None, None
            return status, decision
        return status, None

    def _fields(self, line: int, cells: dict[str, str], kind: str | None, decision: str | None) -> dict:
        """The step's fields from their columns, each checked as its declaration says."""
        for column, step in ONLY_FOR.items():
            if kind and kind != step and cells.get(column, "").strip():
                self._error(line, _("the column “%(column)s” is only used with the status %(status)s.",
                                    column=column, status=step))
        declared = events.KINDS[kind] if kind else None
        fields: dict = {}
        for field in declared.fields if declared else (events.NOTE,):  # a line of unknown step: its note
            if field.type == FieldType.DECISION:
                fields[field.name] = decision  # from the status column, checked by _step
            elif field.in_csv:
                fields[field.name] = self._value(line, field, cells.get(field.name, ""),
                                                 declared is not None and field.name in declared.required)
        if decision == Decision.REJECTED.value and not fields.get("note"):
            self._error(line, _("a rejection needs a reason in the note column; it is shown publicly."))
        return fields if kind else {}

    def _value(self, line: int, field: events.EventField, cell: str, required: bool):
        if field.type == FieldType.DATETIME:
            return self._moment(line, field, cell.strip(), required)
        if field.type == FieldType.PERCENT:
            percent = parse_int(cell, 0, 100)
            if percent is None and (required or cell.strip()):
                self._error(line, _("%(status)s needs the column %(column)s with a whole number from 0 to 100.",
                                    status=ONLY_FOR[field.name], column=field.name))
            return percent
        text = clean_plain(cell) or None
        problem = field.text_problem(text) if text else None
        if problem is not None:
            self._error(line, _text_message(field, problem))
        elif text is None and required:
            self._error(line, _("the status %(status)s needs the column %(column)s.", status=ONLY_FOR[field.name],
                                column=field.name))
        return text

    def _moment(self, line: int, field: events.EventField, value: str, required: bool) -> dt.datetime | None:
        when = self._parse(value) if value else None
        if not value and required:
            self._error(line, _("scheduling needs the date of the council meeting in the column meeting_at.")
                        if field.name == "meeting_at" else
                        _("the status %(status)s needs the column %(column)s.", status=ONLY_FOR[field.name],
                          column=field.name))
        elif value and when is None:
            self._error(line, _("“%(value)s” in %(column)s is not a date like 2026-11-24 or 2026-11-24 18:30.",
                                value=value, column=field.name))
        return when.moment if when else None

    def _parse(self, value: str) -> _When | None:
        """An ISO 8601 date, or date and time (without an offset: the municipality's local time)."""
        if not (_DATE.fullmatch(value) or _DATETIME.fullmatch(value)):
            return None
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        moment = moment.astimezone(dt.timezone.utc)
        has_time = len(value) > 10
        return _When(moment.isoformat() if has_time else value, moment, has_time)

    def _date(self, line: int, value: str, case: SimpleNamespace | None) -> _When | None:
        value = value.strip()
        if not value:
            self._error(line, _("the date is missing."))
            return None
        when = self._parse(value)
        if when is None:
            self._error(line, _("“%(value)s” is not a date like 2026-11-24 or 2026-11-24 18:30.", value=value))
        elif self._before(_When("", self.now, True), when):
            self._error(line, _("the date %(value)s lies in the future.", value=value))
        elif case is not None and self._before(when, _When("", case.forwarded_at, True)):
            self._error(line, _("the date %(value)s is before the case was forwarded.", value=value))
        return when

    def _before(self, first: _When, second: _When) -> bool:
        """Is `first` earlier than `second`? A date without a time is compared as a whole day."""
        if first.has_time and second.has_time:
            return first.moment < second.moment
        return first.moment.astimezone(self.zone).date() < second.moment.astimezone(self.zone).date()

    def _transition(self, line: int, case: SimpleNamespace, kind: str, decision: str | None,
                    effective: _When | None) -> None:
        state = self.state.setdefault(case.id, SimpleNamespace(status=case.status, decision=case.decision,
                                                                date=None, line=None))
        if kind not in services.allowed_steps(state):
            current = wording.status_label(state.status, state.decision, self.body.kind)
            wanted = wording.status_label(kind, decision, self.body.kind)
            if state.line is None:
                self._error(line, _("the case %(reference)s is “%(current)s” and cannot be marked “%(new)s”.",
                                    reference=case.reference, current=current, new=wanted))
            else:
                self._error(line, _("after line %(earlier)d the case %(reference)s is “%(current)s” and cannot "
                                    "be marked “%(new)s”.", earlier=state.line, reference=case.reference,
                                    current=current, new=wanted))
            return
        if effective is not None and state.date is not None and self._before(effective, state.date):
            self._error(line, _("the date is earlier than the date of line %(earlier)d for the same case.",
                                earlier=state.line))
        state.status = kind
        state.decision = decision if kind == CaseStatus.DECIDED.value else state.decision
        state.date = effective or state.date
        state.line = line
