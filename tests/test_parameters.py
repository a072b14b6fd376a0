"""No parameter gives a 5xx: whole numbers in paths, query strings and forms are range-checked
before they reach the database (SQLite stops at 2**63 - 1, PostgreSQL's INTEGER at 2**31 - 1).

The routes and their integer parameters come from `app.url_map`; the query parameters each
page reads are recorded while it answers, and those in `assembly.params.QUERY_INTEGERS` (the
list `query_int` enforces) must be refused when wrong. A scan of the source makes sure no view
reads a number any other way, and every IntegerField of a form has bounds.
"""
from __future__ import annotations

import datetime as dt
import importlib
import inspect
import io
import pkgutil
import re
from pathlib import Path

import pytest
from flask_babel import force_locale
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import IntegerField
from wtforms.fields.core import UnboundField
from wtforms.validators import NumberRange

import assembly
from assembly import params
from assembly.accounts import services as accounts
from assembly.assemblies import services as sessions
from assembly.consultations import files
from assembly.consultations import services as consultations
from assembly.db import db
from assembly.meetings import services as meetings
from assembly.meetings.models import MeetingStatus
from assembly.meetings.services import Invitation, MeetingInput
from assembly.i18n import format_number
from assembly.neighbourhoods import invitations
from assembly.neighbourhoods.models import Membership
from assembly.notifications.models import OutboxEmail
from assembly.photos import services as photos
from assembly.proposals import discussion
from assembly.surveys import services as survey_services
from assembly.proposals import photos as proposal_photos
from assembly.proposals import services as proposals
from assembly.proposals.models import Comment
from assembly.proposals.services import ProposalInput
from tests import assembly_factories as af
from tests import case_factories as cf
from tests import promise_factories
from tests import factories
from tests.api_support import bearer, token_for
from tests.assembly_factories import HOUR, OPENS
from tests.photo_support import jpeg
from tests.support import login
from tests.support import text, translated_app, translation

SOURCE = Path(assembly.__file__).resolve().parent
OUT_OF_RANGE = ["-1", "0", str(2**31), str(2**63), str(10**23), "abc", "²", "1" * 5000]
INT_PARAMETER = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")
ANY_PARAMETER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
KNOWN_CONVERTERS = {None, "int", "any", "path"}
# Pages the `everything` fixture below does not reach (they still get every wrong value, and must not fail).
NOT_REACHED = {"assemblies.ballots_json": "exists once a ballot is closed",
               "assemblies.result_json": "exists once a ballot is closed",
               "assemblies.check_count": "exists once a ballot is closed",
               "notifications.unsubscribe": "exists for the signed token of an e-mail's unsubscribe link",
               "surveys.results_csv": "exists once a survey is counted",
               "surveys.series": "exists once a survey asking the series' question is counted",
               "surveys.answer_by_email": "opens with the link of an e-mail, not a password reset token"}


@pytest.fixture
def everything(app) -> dict:
    """One of everything a route can name, and one person who may open every page."""
    with app.app_context():
        now = factories.now()
        w = cf.world()
        boss = w.muhtar
        boss.is_admin = True
        factories.resident(w.hood, boss)
        factories.staff(w.body, boss)
        case = cf.forwarded(w, now)
        proposal = proposals.create_proposal(boss, now, w.hood, ProposalInput(
            title="Lamps on the sea side", body="They are broken.", category_id=w.category.id), publish=True)
        comment = discussion.add_comment(boss, now, proposal, "Yes, the street is dark.")
        [photo] = photos.attach(boss, now, proposal_photos.KIND, proposal,
                                photos.prepare([photos.Upload("lamp.jpg", jpeg())]))
        session = sessions.create_assembly(boss, now, w.hood, title="Spring assembly")
        batch = invitations.issue_invite_codes(boss, now, w.hood, 1, 30)
        accounts.request_password_reset(w.author.email, now)
        mail = db.session.scalar(select(OutboxEmail.body_text).where(OutboxEmail.body_text.like("%/account/reset/%")))
        reset = re.search(r"/account/reset/([\w-]+)", mail).group(1)
        api_token = token_for(w.staff, w.body)
        consultation = consultations.create_consultation(
            w.staff, now, w.body, kind="budget", title="Budget line", text="Lamps.", deadline=now + 30 * HOUR,
            neighbourhood_ids=[w.hood.id], links=[consultations.Link("Draft", "https://example.org/draft")],
            files=[consultations.Upload("draft.pdf", b"%PDF-1.4\n%%EOF\n")], storage=files.folder())
        meeting = meetings.create_meeting(boss, now, w.municipality, MeetingInput(
            title="Huzur", starts_at=now, ends_at=None, place=None, neighbourhood_ids=[w.hood.id],
            invitations=[Invitation(w.body.id, "Ali Demir")]))
        meetings.move(boss, now, meeting, MeetingStatus.OPEN)
        question = meetings.ask(boss, now, meeting, body_id=w.body.id, text="Lambalar?")
        helped = db.session.scalar(select(Membership.id).where(Membership.user_id == w.author.id))
        promise = promise_factories.published(w, now)
        survey = survey_services.create_survey(boss, now, w.hood, title="Safety", audience="area",
                                               opens_at=now + dt.timedelta(days=1), closes_at=now + dt.timedelta(days=9))
        survey_services.add_question(boss, now, survey, kind="scale", prompt="Safe?", series="safe")
        survey_services.publish(boss, now, survey)
        db.session.commit()
        values = {"slug": w.hood.slug, "code": w.municipality.code, "body_id": w.body.id, "proposal_id": proposal.id,
                  "comment_id": comment.id, "assembly_id": session.id, "reference": case.reference,
                  "service_request_id": case.reference, "batch": batch, "token": reset, "format": "json",
                  "consultation_id": consultation.id,
                  "document_id": [d.id for d in consultation.documents if d.stored_name][0],
                  "meeting_id": meeting.id, "question_id": question.id, "to": "held",
                  "action": "hide", "kind": "agenda", "membership_id": helped, "survey_id": survey.id,
                  "series": "safe", "promise_id": promise.id, "commitment_id": promise.commitments[0].id,
                  "report_id": 1, "photo_id": photo.id,
                  **dict.fromkeys(("item_id", "staff_id", "notification_id", "token_id"), 1)}
        return {"values": values, "email": boss.email, "api_token": api_token}


def _client(app, everything):
    client = app.test_client()
    login(client, everything["email"])
    return client


def _path(rule: str, values: dict, **overrides) -> str:
    return ANY_PARAMETER.sub(lambda m: str({**values, **overrides}[m.group(2)]), rule)


def _routes(app, method: str | None = None):
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static" and (method is None or method in rule.methods):
            yield rule


def _get(client, path: str, everything: dict):
    headers = bearer(everything["api_token"]) if path.startswith("/api/") else {}
    response = client.get(path, headers=headers)
    response.get_data()  # streamed answers (CSV export) fail while they are read
    return response


def test_every_route_parameter_uses_a_known_converter(app):
    """A new converter (float, a custom one) would need its own range check here."""
    used = {m.group(1) for rule in _routes(app) for m in ANY_PARAMETER.finditer(rule.rule)}
    assert used <= KNOWN_CONVERTERS
    assert app.url_map.converters["int"] is params.IdConverter


def test_integers_in_paths_outside_1_to_max_id_are_not_found(app, everything):
    client = _client(app, everything)
    checked = 0
    for rule in _routes(app):
        for name in INT_PARAMETER.findall(rule.rule):
            for value in OUT_OF_RANGE:
                path = _path(rule.rule, everything["values"], **{name: value})
                for method in sorted(rule.methods & {"GET", "POST"}):
                    response = client.open(path, method=method)
                    assert response.status_code == 404, (method, path, response.status_code)
                    checked += 1
            for method in sorted(rule.methods & {"GET", "POST"}):  # the largest id is routed, and found or not
                path = _path(rule.rule, everything["values"], **{name: params.MAX_ID})
                assert client.open(path, method=method).status_code < 500, (method, path)
    assert checked > 100


class RecordingArgs(ImmutableMultiDict):
    """Query parameters that remember which names the view looked for, however it read them."""

    asked: set[str] = set()

    def __getitem__(self, key):
        RecordingArgs.asked.add(key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):  # noqa: A002 - the signature of MultiDict
        RecordingArgs.asked.add(key)
        return super().getlist(key, type)

    def __contains__(self, key) -> bool:
        RecordingArgs.asked.add(key)
        return super().__contains__(key)


def _values(name: str) -> list[str]:
    low, high = params.QUERY_INTEGERS.get(name, (1, params.MAX_ID))
    return [*OUT_OF_RANGE, str(low - 1), str(low), str(high), str(high + 1)]


def test_query_parameters_out_of_range_never_give_a_server_error(app, everything, monkeypatch):
    """Each page is asked once which query parameters it reads; then each of them gets every
    value that is not a whole number in range (and the edges of its range)."""
    monkeypatch.setattr(app.request_class, "parameter_storage_class", RecordingArgs)
    client = _client(app, everything)
    read: dict[str, set[str]] = {}
    refused: dict[str, set[str]] = {name: set() for name in params.QUERY_INTEGERS}
    for rule in _routes(app, "GET"):
        base = _path(rule.rule, everything["values"])
        RecordingArgs.asked.clear()
        status = _get(client, base, everything).status_code
        assert status < 400 or (rule.endpoint in NOT_REACHED and status == 404), (base, status)
        read[rule.endpoint] = RecordingArgs.asked - {"lang"}  # the language switch: a locale code or nothing
        for name in sorted(read[rule.endpoint]):
            for value in _values(name):
                response = _get(client, f"{base}?{name}={value}", everything)
                assert response.status_code < 500, (base, name, value, response.status_code)
                if response.status_code == 400 and name in refused:
                    refused[name].add(rule.endpoint)
    # The pages that read a listed parameter refuse a wrong value (through query_int) …
    for name, readers in refused.items():
        assert readers == {endpoint for endpoint, names in read.items() if name in names}, name
    # … and the recording saw the pages that use them.
    assert refused["page"] >= {"proposals.index", "cases.inbox"}
    assert refused["category"] >= {"proposals.index", "proposals.feed", "cases.inbox", "case_exchange.export"}
    assert refused["neighbourhood"] >= {"cases.inbox", "case_exchange.export"}
    assert refused["before"] >= {"proposals.moderation_log", "admin.audit_log", "notifications.index"}
    assert refused["after"] >= {"neighbourhoods.members"}


@pytest.mark.parametrize("locale", ["en", "tr", "fa", "sv"])
def test_a_wrong_query_integer_is_a_translated_400(database_url, tmp_path_factory, locale):
    with translated_app(database_url, tmp_path_factory) as app:
        with app.app_context():
            factories.neighbourhood(slug="moda")
            db.session.commit()
        response = app.test_client().get(f"/n/moda/proposals?page={10**23}&lang={locale}")
        with app.test_request_context(), force_locale(locale):
            bounds = {"name": "page", "min": format_number(1), "max": format_number(params.MAX_PAGE)}
    assert response.status_code == 400
    message = "The address is not valid: %(name)s must be a whole number from %(min)s to %(max)s."
    assert (translation(locale, message) if locale != "en" else message) % bounds in text(response)


def test_the_api_answers_wrong_numbers_in_its_own_format(app, everything):
    client = app.test_client()
    for value in OUT_OF_RANGE:
        response = client.get(f"/api/v1/cases?limit={value}", headers=bearer(everything["api_token"]))
        assert response.status_code == 422
        assert list(response.get_json()["error"]["fields"]) == ["limit"]
    for path in ("/api/v1/cases/0", f"/open311/v2/requests/{10**23}.json", f"/open311/v2/requests.json?page={2**63}"):
        assert client.get(path).status_code < 500


def test_raw_numbers_in_forms_never_give_a_server_error(app, everything):
    client = _client(app, everything)
    values = everything["values"]
    slug, proposal_id, body_id = values["slug"], values["proposal_id"], values["body_id"]
    for value in OUT_OF_RANGE:
        commented = client.post(f"/n/{slug}/p/{proposal_id}/comments", data={"body": f"Reply {value[:5]}",
                                                                            "parent_id": value})
        assert commented.status_code < 500, value
        received = client.post(f"/staff/bodies/{body_id}", data={"case": value})
        assert received.status_code == 302, value
    with app.app_context():
        # A parent that is not a number of these rows makes a comment at the top level, as before.
        assert all(c.parent_id is None for c in db.session.scalars(select(Comment).where(
            Comment.body.like("Reply %"))))


def test_ranks_that_are_not_numbers_in_range_do_not_break_a_vote(app, clock):
    with app.app_context():
        s = af.voting_open("ranked", "open", items=4, k=1, voters=1)
        db.session.commit()
        url, items, voter = s.url, s.items, s.voters[0]
    clock.now = OPENS + HOUR
    client = af.client_of(app, voter)
    response = client.post(f"{url}/vote", follow_redirects=True, data={
        f"rank-{items[0]}": "1", f"rank-{items[1]}": "²", f"rank-{items[2]}": "1" * 5000,
        f"rank-{items[3]}": str(10**23)})
    assert response.status_code == 200
    assert "Your vote has been recorded." in text(response)


def test_the_csv_import_refuses_a_huge_progress_by_line(app, everything):
    client = _client(app, everything)
    reference = everything["values"]["reference"]
    rows = f"reference,status,date,note,progress\n{reference},in_progress,2026-11-24,,{'9' * 5000}\n"
    response = client.post(f"/staff/bodies/{everything['values']['body_id']}/import",
                           data={"file": (io.BytesIO(rows.encode()), "outcomes.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "whole number from 0 to 100" in text(response)


# --- the code reads numbers only through the checked helpers ---------------------------------------

UNCHECKED = re.compile(r"type=int\b|\.isdigit\(\)|\bint\(\s*request\b|\bint\(\s*form\.")


def test_no_view_reads_a_number_around_the_checked_helpers():
    """`request.args.get(…, type=int)`, `int(request…)` and `str.isdigit()` (true for "²", which
    int() refuses) are how the 500s came in: numbers go through query_int or parse_int."""
    found = [f"{path.relative_to(SOURCE.parent)}:{number}: {line.strip()}"
             for path in SOURCE.rglob("*.py") for number, line in enumerate(path.read_text().splitlines(), 1)
             if UNCHECKED.search(line)]
    assert not found, "\n".join(found)


def test_every_query_integer_a_view_reads_is_in_the_list():
    read = {name for path in SOURCE.rglob("*.py")
            for name in re.findall(r"query_int\(\"(\w+)\"\)", path.read_text())}
    assert read == set(params.QUERY_INTEGERS)


def _forms():
    for module in pkgutil.walk_packages(assembly.__path__, "assembly."):
        if module.name.endswith(("forms", "views")):
            imported = importlib.import_module(module.name)
            for _name, cls in inspect.getmembers(imported, inspect.isclass):
                if issubclass(cls, FlaskForm) and cls.__module__ == module.name:
                    yield cls


def test_every_integer_field_of_a_form_is_bounded():
    checked = 0
    for form in _forms():
        for name, field in inspect.getmembers(form, lambda f: isinstance(f, UnboundField)):
            if not issubclass(field.field_class, IntegerField):
                continue
            ranges = [v for v in field.kwargs.get("validators", []) if isinstance(v, NumberRange)]
            assert ranges, f"{form.__name__}.{name} has no NumberRange"
            assert ranges[0].min is not None and ranges[0].max is not None, f"{form.__name__}.{name}"
            assert -params.MAX_ID <= ranges[0].min <= ranges[0].max <= params.MAX_ID, f"{form.__name__}.{name}"
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize(("text_", "low", "high", "expected"), [
    ("12", 1, 100, 12), (" 7 ", 1, 100, 7), ("+3", 1, 100, 3), ("-3", -5, 5, -3), ("١٢", 1, 100, 12),
    ("0", 1, 100, None), ("101", 1, 100, None), ("", 1, 100, None), (None, 1, 100, None), ("abc", 1, 100, None),
    ("²", 1, 100, None), ("1.5", 1, 100, None), ("1e3", 1, 10**4, None), ("-", 1, 100, None),
    ("9" * 21, 1, 10**30, None), (str(2**31), 1, params.MAX_ID, None),
    (str(params.MAX_ID), 1, params.MAX_ID, params.MAX_ID),
])
def test_parse_int(text_, low, high, expected):
    assert params.parse_int(text_, low, high) == expected
