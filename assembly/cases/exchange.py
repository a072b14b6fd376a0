"""CSV exchange with a body's own systems: a streamed export of its cases and an all-or-nothing
import of outcomes (the rows are checked by `outcome_rows`). The formats are described in
docs/csv.md ("CSV exchange")."""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from assembly import permissions
from assembly.audit.services import record
from assembly.cases import outcome_rows, queries, services
from assembly.cases.queries import InboxFilters
from assembly.cases.models import OPEN_STATUSES, Case
from assembly.cases.outcome_rows import MAX_ROWS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, LineError, Row
from assembly.db import db
from assembly.errors import DomainError
from assembly.i18n import localized_name
from assembly.neighbourhoods.models import Body, Category, Neighbourhood
from assembly.text import FORMULA_STARTS, neutralise

__all__ = ["EXPORT_COLUMNS", "MAX_ROWS", "OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "ImportReport", "LineError",
           "FORMULA_STARTS", "export_rows", "import_outcomes", "neutralise"]

log = logging.getLogger(__name__)

BOM = "\ufeff"
EXPORT_COLUMNS = ("reference", "title", "neighbourhood", "category", "status", "decision", "progress",
                  "forwarded_at", "due_at", "received_at", "decided_at", "council_meeting_at", "agenda_number",
                  "overdue", "url_path")


def case_path(reference: str) -> str:
    """The public tracking page of a case."""
    return f"/cases/{reference}"


# --- export ---------------------------------------------------------------------------------------

def export_rows(actor, now: dt.datetime, body: Body, filters: InboxFilters | None = None, *,
                batch: int = 1000) -> Iterator[str]:
    """The body's cases as CSV text in chunks of `batch` lines; the first chunk starts with the
    UTF-8 byte order mark and the header. Rows are fetched `batch` at a time (a server-side
    cursor on PostgreSQL), so memory stays flat however many cases there are.

    The permission is checked at once, not when the first chunk is asked for."""
    permissions.require(actor, "act_for_body", body)
    zone = ZoneInfo(body.municipality.timezone)
    neighbourhoods = {row.id: localized_name(row.names, row.slug) for row in db.session.execute(
        select(Neighbourhood.id, Neighbourhood.names, Neighbourhood.slug)
        .where(Neighbourhood.municipality_id == body.municipality_id))}
    categories = {row.id: localized_name(row.names, row.slug) for row in db.session.execute(
        select(Category.id, Category.names, Category.slug).where(Category.municipality_id == body.municipality_id))}
    query = _export_query(body, filters or InboxFilters(), now).execution_options(yield_per=batch)

    def cells(row) -> list[str]:
        values = [row.reference, row.title, neighbourhoods.get(row.neighbourhood_id, ""),
                  categories.get(row.category_id, ""), row.status, row.decision or "", str(row.progress),
                  _local(row.forwarded_at, zone), _local(row.due_at, zone), _local(row.received_at, zone),
                  _local(row.decided_at, zone), _local(row.council_meeting_at, zone), row.agenda_number or "",
                  "yes" if row.status in OPEN_STATUSES and now > row.due_at else "no",
                  case_path(row.reference)]
        return [neutralise(value) for value in values]

    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write(BOM)
        writer.writerow(EXPORT_COLUMNS)
        result = db.session.execute(query)
        try:
            for number, row in enumerate(result, start=1):
                writer.writerow(cells(row))
                if number % batch == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        finally:
            result.close()
        if buffer.tell():
            yield buffer.getvalue()

    return chunks()


def _export_query(body: Body, filters: InboxFilters, now: dt.datetime):
    query = select(Case.reference, Case.title, Case.neighbourhood_id, Case.category_id, Case.status, Case.decision,
                   Case.progress, Case.forwarded_at, Case.due_at, Case.received_at, Case.decided_at,
                   Case.council_meeting_at, Case.agenda_number)
    return queries.filtered(query, body, filters, now).order_by(Case.id)


def _local(value: dt.datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat(timespec="seconds") if value is not None else ""


# --- import ---------------------------------------------------------------------------------------

@dataclass
class ImportReport:
    applied: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_outcomes(actor, now: dt.datetime, body: Body, data: bytes) -> ImportReport:
    """Check every row of the file first; apply all of them, in one savepoint, only if none is wrong."""
    permissions.require(actor, "act_for_body", body)
    text = outcome_rows.decode(data)
    if text is None:
        return ImportReport(errors=[LineError(0, _("the file is not UTF-8. Save it as “CSV UTF-8” and try again."))])
    errors: list[LineError] = []
    lines = outcome_rows.read(text, errors)
    if not lines:
        return ImportReport(errors=errors)
    rows = outcome_rows.Checker(body, now, errors).check(lines)
    if errors:
        return ImportReport(errors=sorted(errors, key=lambda error: error.line))
    return _apply(actor, now, body, rows)


def _apply(actor, now: dt.datetime, body: Body, rows: list[Row]) -> ImportReport:
    """Apply the checked rows through the case services; any failure undoes all of them."""
    cases = {case.id: case for case in db.session.scalars(select(Case).where(Case.id.in_({r.case_id for r in rows})))}
    line = 0
    try:
        with db.session.begin_nested():
            for row in rows:
                line = row.line
                services.apply_event(actor, now, cases[row.case_id], row.kind, row.fields)
            record(actor, "cases.import", body, now, rows=len(rows))
    except DomainError as error:
        return ImportReport(errors=[LineError(line, error.message)])
    except SQLAlchemyError:
        log.exception("CSV import of outcomes failed at line %d", line)
        return ImportReport(errors=[LineError(line, _("the row could not be saved, so nothing was imported. "
                                                      "Please try again."))])
    return ImportReport(applied=len(rows))
