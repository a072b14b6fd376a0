"""Reads never write: every GET route leaves the database as it was.

With the demo data loaded (three municipalities in Turkish, Persian and Swedish: proposals at
every stage, hidden ones, sessions announced, voting and minuted with secret and open ballots,
cases at every stage, notifications, invitation codes) and a little more (a draft session, a
report, a password reset link, an API token), every GET route of `app.url_map` is requested
with its URL parameters filled from real rows, by an anonymous visitor (in all four languages),
a resident, a muhtar, a body's staff member and an admin (each in their own language). A snapshot
of every table (row counts and a checksum of the contents, and the rows themselves to say what
changed) must be the same before and after, and no INSERT, UPDATE or DELETE may be sent at all
(a write rolled back by an error page still took locks).

Then the clock is moved past every ballot's `closes_at` without the scheduler's tick: the session
pages show the vote as closed but must neither close it nor count it.

The only GET writes allowed are named in `ALLOWED_WRITES`, each with its reason.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import defaultdict

import pytest
from sqlalchemy import event, func, select

from assembly.accounts import services as accounts
from assembly.accounts.models import User
from assembly.assemblies import services as sessions
from assembly.assemblies import voting
from assembly.assemblies.models import Assembly, Ballot
from assembly.cases import api_tokens
from assembly.cases.models import Case
from assembly.consultations.models import ConsultationDocument
from assembly.db import db, utcnow
from assembly.demo import DEMO_PASSWORD
from assembly.meetings.models import Meeting, MeetingQuestion
from assembly.neighbourhoods.models import Body, BodyStaff, InviteCode, Membership, Municipality, Neighbourhood
from assembly.photos.models import Photo
from assembly.notifications.models import Notification, OutboxEmail
from assembly.promises.models import Commitment, Promise
from assembly.proposals import moderation
from assembly.proposals.models import Comment, Proposal
from assembly.surveys import responses as survey_responses
from assembly.surveys import results as survey_results
from assembly.surveys.models import Survey
from tests import assembly_factories as af
from tests import factories
from tests.api_support import bearer
from tests.assembly_factories import CLOSES, OPENS
from tests.support import fingerprint, login, snapshot, snapshot_changes

LANGUAGES = ["en", "tr", "fa", "sv"]
ANY_CONVERTER = re.compile(r"<any\(([^)]*)\):(\w+)>")
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|DROP|ALTER|CREATE)\b", re.IGNORECASE)

# Writes a GET may make, by table and column, with the statement that makes them and the reason.
ALLOWED_WRITES = {
    ("api_tokens", "last_used_at"): (
        re.compile(r"^UPDATE api_tokens SET last_used_at=[^,]+ WHERE api_tokens\.id = \S+$"),  # that column only
        "an API request records when its bearer token was last used (to the minute, see "
        "`cases.api_tokens.LAST_USE_PRECISION`), shown to the body's staff on the tokens page",
    ),
}
ALLOWED_COLUMNS = {table: {column} for table, column in ALLOWED_WRITES}


class WriteLog:
    """The data-changing statements the app sends while it records, by the URL being requested."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.url: str | None = None
        self.seen: dict[str, list[str]] = defaultdict(list)
        self.allowed: set[tuple[str, str]] = set()

    def __enter__(self) -> WriteLog:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)

    def _statement(self, _connection, _cursor, statement, _parameters, _context, _many) -> None:
        if self.url is None or not WRITE.match(statement):
            return
        one_line = " ".join(statement.split())
        allowed = [write for write, (pattern, _reason) in ALLOWED_WRITES.items() if pattern.match(one_line)]
        if allowed:
            self.allowed.update(allowed)
        else:
            self.seen[self.url].append(one_line)


# --- the world ----------------------------------------------------------------------------------------

def _load_world(app, monkeypatch) -> dict:
    """The demo data and what it lacks; returns the people and the secrets the crawl needs."""
    monkeypatch.setitem(app.config, "LOAD_DEMO_DATA", True)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        now = utcnow()
        hood = db.session.scalar(select(Neighbourhood).order_by(Neighbourhood.id))
        muhtar = db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.neighbourhood_id == hood.id, Membership.role == "muhtar", Membership.status == "verified"))
        resident = db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).join(
            Neighbourhood, Neighbourhood.id == Membership.neighbourhood_id).where(
            Membership.role == "resident", Membership.status == "verified",
            Neighbourhood.default_locale != hood.default_locale).order_by(User.id))
        # The staff member of the body with the most cases among those who read a third language.
        staff, busiest = db.session.execute(
            select(User, BodyStaff.body_id).join(BodyStaff, BodyStaff.user_id == User.id)
            .join(Case, Case.body_id == BodyStaff.body_id).where(User.locale.not_in([muhtar.locale, resident.locale]))
            .group_by(User.id, BodyStaff.body_id).order_by(func.count(Case.id).desc(), User.id)).first()
        admin = db.session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id))
        # What the demo does not make: a draft session, a reported proposal, a reset link, a token.
        sessions.create_assembly(muhtar, now, hood, title="Autumn assembly (draft)")
        reported = db.session.scalar(select(Proposal).where(
            Proposal.status == "open", Proposal.hidden_at.is_(None)).order_by(Proposal.id))
        reporter = db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.neighbourhood_id == reported.neighbourhood_id, Membership.role == "resident",
            Membership.status == "verified", User.id != reported.author_id).order_by(User.id))
        moderation.report(reporter, now, reported, "Not about the neighbourhood.")
        accounts.request_password_reset(resident.email, now)
        mail = db.session.scalar(select(OutboxEmail.body_text).where(OutboxEmail.body_text.like("%/account/reset/%"))
                                 .order_by(OutboxEmail.id.desc()))
        _token, api_secret = api_tokens.create_token(staff, now, db.session.get(Body, busiest), "Reads never write")
        db.session.commit()
        return {
            "people": {"resident": resident.email, "muhtar": muhtar.email, "staff": staff.email,
                       "admin": admin.email},
            "reset_token": re.search(r"/account/reset/([\w-]+)", mail).group(1),
            "api_secret": api_secret,
        }


def _first_of_each(rows, key) -> list:
    chosen = {}
    for row in rows:
        chosen.setdefault(key(row), row)
    return list(chosen.values())


def _contexts(world: dict) -> list[dict]:
    """Consistent sets of URL values taken from real rows: a proposal of each status (hidden or
    not) with its neighbourhood, a session of each status and kind of ballot, a case of each
    status, every municipality, and of each municipality a neighbourhood, the body with the
    most cases and a batch of invitation codes; comments, kept and deleted."""
    scalars = db.session.scalars
    contexts: list[dict] = [{"token": world["reset_token"]}]
    hoods = _first_of_each(scalars(select(Neighbourhood).order_by(Neighbourhood.id)), lambda n: n.municipality_id)
    contexts += [{"slug": hood.slug} for hood in hoods]
    contexts += [{"code": m.code} for m in scalars(select(Municipality).order_by(Municipality.id))]
    cases_at = select(func.count()).select_from(Case).where(Case.body_id == Body.id).scalar_subquery()
    bodies = _first_of_each(scalars(select(Body).order_by(cases_at.desc(), Body.id)), lambda b: b.municipality_id)
    contexts += [{"body_id": body.id} for body in bodies]
    proposals = _first_of_each(scalars(select(Proposal).order_by(Proposal.id)),
                               lambda p: (p.status, p.hidden_at is None))
    contexts += [{"slug": p.neighbourhood.slug, "proposal_id": p.id} for p in proposals]
    comments = _first_of_each(scalars(select(Comment).order_by(Comment.id)), lambda c: c.deleted_at is None)
    contexts += [{"slug": c.proposal.neighbourhood.slug, "proposal_id": c.proposal_id, "comment_id": c.id}
                 for c in comments]
    meetings = _first_of_each(
        db.session.execute(select(Assembly, Ballot).outerjoin(Ballot, Ballot.assembly_id == Assembly.id)
                           .order_by(Assembly.id)),
        lambda row: (row.Assembly.status, row.Ballot.secrecy if row.Ballot else None))
    contexts += [{"slug": row.Assembly.neighbourhood.slug, "assembly_id": row.Assembly.id} for row in meetings]
    cases = _first_of_each(scalars(select(Case).order_by(Case.id)), lambda c: c.status)
    contexts += [{"reference": c.reference} for c in cases] + [{"service_request_id": c.reference} for c in cases]
    consultations = list(scalars(select(ConsultationDocument).order_by(ConsultationDocument.id)))
    contexts += [{"consultation_id": d.consultation_id, "document_id": d.id} for d in consultations if d.stored_name]
    contexts += [{"consultation_id": d.consultation_id} for d in consultations[:1]]
    held = _first_of_each(scalars(select(Meeting).order_by(Meeting.id)), lambda m: m.status)
    contexts += [{"meeting_id": m.id} for m in held]
    asked = _first_of_each(scalars(select(MeetingQuestion).order_by(MeetingQuestion.id)), lambda q: q.follow_up)
    contexts += [{"meeting_id": q.meeting_id, "question_id": q.id} for q in asked]
    shown_and_hidden = _first_of_each(scalars(select(Photo).order_by(Photo.id)),
                                      lambda p: (p.owner_kind, p.hidden_at is None))
    contexts += [{"photo_id": photo.id} for photo in shown_and_hidden]
    batches = _first_of_each(scalars(select(InviteCode).order_by(InviteCode.id)),
                             lambda c: c.neighbourhood.municipality_id)
    contexts += [{"slug": code.neighbourhood.slug, "batch": code.batch} for code in batches]
    residents = _first_of_each(scalars(select(Membership).where(Membership.role == "resident",
                                                                Membership.status == "verified")
                                       .order_by(Membership.id)), lambda m: m.neighbourhood_id)
    contexts += [{"slug": m.neighbourhood.slug, "membership_id": m.id} for m in residents]
    contexts += [{"promise_id": promise.id} for promise in scalars(select(Promise).order_by(Promise.id))]
    commitments = _first_of_each(scalars(select(Commitment).order_by(Commitment.id)), lambda c: c.promise_id)
    contexts += [{"promise_id": c.promise_id, "commitment_id": c.id} for c in commitments]
    surveys = _first_of_each(scalars(select(Survey).order_by(Survey.id)), lambda s: (s.status, s.audience))
    for survey in surveys:
        slug = survey.neighbourhoods[0].slug
        contexts += [{"slug": slug, "survey_id": survey.id}, {"survey_id": survey.id},
                     {"slug": slug, "survey_id": survey.id, "token": survey_responses.email_token(survey, "a@b.se")}]
    contexts += [{"slug": "jarntorget", "series": key} for key in survey_results.series_keys(
        db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == "jarntorget")))]
    # The muhtar's pages for a resident's survey answers, meeting question and vote (assisted participation).
    for m in residents:
        here = {"slug": m.neighbourhood.slug, "membership_id": m.id}
        contexts += [dict(here, survey_id=survey.id) for survey in surveys
                     if m.neighbourhood_id in survey.neighbourhood_ids]
        contexts += [dict(here, meeting_id=meeting.id) for meeting in held
                     if m.neighbourhood_id in meeting.neighbourhood_ids]
        contexts += [dict(here, assembly_id=row.Assembly.id) for row in meetings
                     if row.Assembly.neighbourhood_id == m.neighbourhood_id]
    return contexts


def _get_urls(app, contexts: list[dict], extra_queries: dict) -> list[str]:
    """Every GET route with each context that fills all its parameters (`any(…)` converters take
    each of their values); a route that no context fills fails the test rather than being skipped."""
    urls, unfilled = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        choices = {name: [value.strip() for value in values.split(",")]
                   for values, name in ANY_CONVERTER.findall(rule.rule)}
        free = set(rule.arguments) - choices.keys()
        matching = [c for c in contexts if c.keys() == free] or ([{}] if not free else [])
        if not matching:
            unfilled.append(rule.rule)
        fixed = [dict(zip(choices, values)) for values in itertools.product(*choices.values())]
        for context in matching:
            for values in fixed:
                urls.append(rule.build({**context, **values}, append_unknown=False)[1])
    assert not unfilled, f"GET routes whose parameters no row fills (add a context): {unfilled}"
    for path, queries in extra_queries.items():
        urls += [f"{path}?{query}" for query in queries]
    return urls


# --- the crawl ------------------------------------------------------------------------------------------

def _crawl(client, urls: list[str], log: WriteLog, api_secret: str, languages: list[str]) -> list[str]:
    """Request every URL (the API with a bearer token); returns the server errors."""
    errors = []
    for number, url in enumerate(urls):
        headers = {"Accept-Language": languages[number % len(languages)]}
        if url.startswith("/api/"):
            headers.update(bearer(api_secret))
        log.url = f"{client.role} GET {url}"
        response = client.get(url, headers=headers)
        response.get_data()  # a streamed answer (CSV) runs its queries while it is read
        log.url = None
        if response.status_code >= 500:
            errors.append(f"{client.role} GET {url}: {response.status_code}")
    return errors


def _clients(app, world: dict) -> list:
    clients = []
    for role in ["anonymous", "resident", "muhtar", "staff", "admin"]:
        client = app.test_client()
        client.role = role
        if role != "anonymous":
            login(client, world["people"][role], DEMO_PASSWORD)
        clients.append(client)
    return clients


def _language_of(app, client) -> str | None:
    """The language setting of the person signed in on `client` (None for a visitor)."""
    response = client.get("/account/")
    if response.status_code != 200:
        return None
    found = re.search(r'<html[^>]* lang="([a-z]+)"', response.get_data(as_text=True))
    return found.group(1) if found else None


def _assert_unchanged(before: dict, after: dict, log: WriteLog, errors: list[str]) -> None:
    problems = [f"{url}: {statements[:3]}" for url, statements in sorted(log.seen.items())]
    assert not problems, "GET requests sent writes:\n" + "\n".join(problems)
    assert fingerprint(after) == fingerprint(before), "GET requests changed tables:\n" + "\n".join(
        snapshot_changes(before, after))
    assert not errors, "server errors:\n" + "\n".join(errors)


def test_no_get_route_changes_the_database_for_anyone_in_any_language(app, monkeypatch):
    world = _load_world(app, monkeypatch)
    clients = _clients(app, world)  # logging in writes a login session: before the first snapshot
    with app.app_context():
        contexts = _contexts(world)
        hood = db.session.scalar(select(Neighbourhood.slug).order_by(Neighbourhood.id))
        reference = db.session.scalar(select(Case.reference).order_by(Case.id))
        oldest = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).offset(5).limit(1))
    # Pages that read their query string: filters, searches, paging, a language asked by an anonymous visitor.
    extra = {"/cases": [f"reference={reference}", "reference=NOPE-2026-0001"],
             f"/n/{hood}/proposals": ["q=lamba", "status=forwarded", "sort=supports", "page=2",
                                       "supported=y&followed=y&ready=y&mine=y"],
             "/notifications/": [f"before={oldest}"], "/": [f"lang={language}" for language in LANGUAGES],
             "/api/v1/cases": ["limit=2", "status=decided"]}
    urls = _get_urls(app, contexts, extra)
    assert len(urls) > 150  # the crawl reaches the world, not just the home page
    assert {client.role: _language_of(app, client) for client in clients} == {
        "anonymous": None, "resident": "fa", "muhtar": "tr", "staff": "sv", "admin": "en"}

    engine = app.extensions["assembly_db"].engine
    before = snapshot(app, ignore=ALLOWED_COLUMNS)
    errors: list[str] = []
    with WriteLog(engine) as log:
        for client in clients:
            # Signed-in people read in their own language (their setting wins over the browser's).
            languages = LANGUAGES if client.role == "anonymous" else ["en"]
            errors += _crawl(client, [u for u in urls if client.role == "anonymous" or "lang=" not in u],
                             log, world["api_secret"], languages)
    _assert_unchanged(before, snapshot(app, ignore=ALLOWED_COLUMNS), log, errors)
    assert log.allowed == set(ALLOWED_WRITES), "an allowed write no GET makes any more: remove it from the list"

    # Every ballot's closing time has passed, and the scheduler has not run: pages show the vote as
    # closed, but closing and counting are the tick's work, not theirs.
    with app.app_context():
        latest = db.session.scalar(select(func.max(Ballot.closes_at)))
        live = db.session.scalar(select(func.count()).select_from(Assembly).where(Assembly.status == "voting"))
    assert live, "the demo has a session in voting: the case below needs one"
    monkeypatch.setattr("assembly.web.utcnow", lambda: latest + dt.timedelta(minutes=1))
    session_urls = [url for url in urls if "/assemblies" in url or url in ("/", "/muhtar")]
    with WriteLog(engine) as log:
        for client in clients[:3]:  # the visitor, a resident, a muhtar
            errors += _crawl(client, session_urls, log, world["api_secret"], LANGUAGES)
    _assert_unchanged(before, snapshot(app, ignore=ALLOWED_COLUMNS), log, errors)


# --- one session read after closes_at, before the tick ------------------------------------------------

@pytest.mark.parametrize("secrecy", ["secret", "open"])
def test_a_session_page_read_after_closing_time_before_the_tick_neither_closes_nor_counts(app, clock, secrecy):
    with app.app_context():
        s = af.voting_open("yes_no", secrecy, items=2, voters=2)
        for minute, voter in enumerate(s.voters, start=1):
            voting.cast_vote(voter, OPENS + minute * dt.timedelta(minutes=1), s.assembly, af.yes_no(s, "yes", "no"))
        db.session.commit()
        people, url, assembly_id = [None, s.voters[0].email, s.muhtar.email], s.url, s.assembly.id
    clients = [af.client_of(app) for _ in people]
    for client, email in zip(clients, people):
        if email:
            login(client, email)
    hood_url = url.rsplit("/assemblies", 1)[0]
    paths = [url, f"{url}/result.json", f"{url}/ballots.json", f"{url}/receipt", f"{hood_url}/assemblies/",
             f"{hood_url}/assemblies/calendar.ics", hood_url, "/muhtar", "/"]
    clock.now = CLOSES + dt.timedelta(minutes=5)

    before = snapshot(app)
    with WriteLog(app.extensions["assembly_db"].engine) as log:
        for number, client in enumerate(clients):
            for path in paths:
                log.url = f"GET {path}"
                response = client.get(path, headers={"Accept-Language": LANGUAGES[number]})
                assert response.status_code < 500, (path, response.status_code)
                if path == url:  # the page tells the vote is over
                    assert 'class="status status-closed"' in response.get_data(as_text=True)
                log.url = None
    _assert_unchanged(before, snapshot(app), log, [])

    with app.app_context():
        stored = db.session.get(Assembly, assembly_id)
        assert stored.status == "voting" and stored.ballot.closed_at is None
        assert af.results_of(stored.ballot.id) == 0
    assert af.tick(app, CLOSES + dt.timedelta(minutes=6)) == (1, 0)  # closing and counting: the tick's work
    with app.app_context():
        stored = db.session.get(Assembly, assembly_id)
        assert stored.status == "closed" and af.results_of(stored.ballot.id) == 1


# --- the one GET that stores a choice ---------------------------------------------------------------------

def test_a_language_switch_by_a_signed_in_person_stores_their_choice_and_nothing_else(app):
    """`?lang=` on any page keeps the choice in the session cookie; for a signed-in person it is
    also their setting (accounts.remember_language_switch), so a GET writes `users.locale`. The
    crawl above never switches language as a signed-in person; this is that write, and only it."""
    with app.app_context():
        person = factories.user(locale="tr")
        db.session.commit()
        person_id = person.id
    client = app.test_client()
    login(client, person.email)
    before = snapshot(app, ignore={"users": {"locale"}})
    with WriteLog(app.extensions["assembly_db"].engine) as log:
        log.url = "GET /?lang=fa"
        assert client.get("/?lang=fa").status_code == 200
        log.url = "GET /?lang=fa again"
        assert client.get("/?lang=fa").status_code == 200  # no change, no write
        log.url = None
    assert snapshot(app, ignore={"users": {"locale"}}) == before
    assert dict(log.seen) == {"GET /?lang=fa": [log.seen["GET /?lang=fa"][0]]}
    assert log.seen["GET /?lang=fa"][0].startswith("UPDATE users SET locale=")
    with app.app_context():
        assert db.session.get(User, person_id).locale == "fa"
