"""Secret ballots: nothing the app shows links a voter to what they voted.

The proof is a controlled experiment. The same neighbourhood is built twice, each in a fresh
database of its own (so every id, name and time is the same), and the same voters cast the
same votes at the same moments — except that who cast which ballot is permuted. Then every
GET route of the app (taken from `app.url_map`, URL parameters filled with the worlds' slugs
and ids) is requested as an anonymous visitor, the muhtar, a voter, another resident, the
admin and body staff, while voting is open and after closing (with a case forwarded). If any
page or download linked a voter to their choices, it would differ between the two worlds.
A control session with an *open* ballot shows the method can see such a link: there the
voter's own page shows their choices while voting, and exactly those pages differ.

The data model is checked too: papers of secret ballots carry no user and no time, their
keys are random, SQLite keeps no hidden rowid, and the published order is the receipts'.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import hashlib
import itertools
import json
import re
import uuid

import pytest
from sqlalchemy import DateTime, create_engine, inspect, select, text
from sqlalchemy.exc import OperationalError

from assembly import create_app
from assembly.accounts.models import User
from assembly.assemblies import services, voting
from assembly.assemblies.models import BallotPaper
from assembly.assisted import services as assisted
from assembly.cases import services as cases
from assembly.cli import upgrade_database
from assembly.db import db
from assembly.neighbourhoods.models import Body, Membership, Neighbourhood
from assembly.surveys import responses as survey_responses
from assembly.surveys import services as survey_services
from tests import assembly_factories as af
from tests import survey_factories as sf
from tests import factories
from tests import proposal_factories as pf
from tests.assembly_factories import CLOSES, HOUR, OPENS
from tests.support import login, postgres_url, skip_or_fail
from tests.support import app_config

SETUP = OPENS - dt.timedelta(days=3)  # the factories' clock while a world is built


# --- two identical worlds ------------------------------------------------------------------------

@contextlib.contextmanager
def fresh_app(backend: str, tmp_path, name: str):
    """An app on a database of its own, migrated from scratch."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / name}.sqlite3"
        upgrade_database(url)
        app = create_app(app_config(url))
        try:
            yield app
        finally:
            app.extensions["assembly_db"].engine.dispose()
        return
    base = postgres_url()
    database = f"assembly_secrecy_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    except Exception as error:  # noqa: BLE001 - reported as the reason
        admin.dispose()
        skip_or_fail(f"cannot create a PostgreSQL test database: {error}")
    url = base.rsplit("/", 1)[0] + "/" + database
    app = None
    try:
        upgrade_database(url)
        app = create_app(app_config(url))
        yield app
    finally:
        if app is not None:
            app.extensions["assembly_db"].engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


class Receipts:
    """Receipt codes chosen by the test: a ballot's code follows its content, not its voter."""

    def __init__(self) -> None:
        self.next: list[str] = []

    def __call__(self) -> str:
        return self.next.pop()

    def expect(self, vote) -> str:
        digest = hashlib.sha256(repr(vote).encode()).hexdigest()[:20].upper()
        code = "-".join(digest[i:i + 5] for i in range(0, 20, 5))
        self.next.append(code)
        return code


# Votes by voter position; the second world hands them out rotated by one.
SECRET_YES_NO = [("yes", "no"), ("no", "yes"), ("yes", "abstain")]
SECRET_RANKED = [(1, 2), (2, 1), (1, None)]
OPEN_CONTROL = [("yes",), ("no",), ("abstain",)]
# Survey questionnaires (single, multiple, scale, ranking, free text), handed out the same way.
SURVEY_ANSWERS = [(0, [0, 1], 4, [2, 0, 1], "Mer ljus vid torget"), (1, [2], 2, [0, 1, 2], "Färre bilar"),
                  (2, [3], 5, [1, 2, 0], "Tack för att ni frågar")]


def _ranked(session: af.Session, ranks) -> list[list[str]]:
    return [[item] for rank, item in sorted((r, i) for r, i in zip(ranks, session.items) if r is not None)]


def build_world(app, monkeypatch, rotate: int) -> dict:
    """Build the neighbourhood, cast the votes (rotated by `rotate`) and commit; ids and names out."""
    for module in (factories, pf, af):
        monkeypatch.setattr(module, "_seq", itertools.count(1))
    monkeypatch.setattr(factories, "now", lambda: SETUP)
    receipts = Receipts()
    monkeypatch.setattr(voting, "new_receipt", receipts)
    with app.app_context():
        w = af.world(slug="moda")
        voters = [factories.resident(w.hood, factories.user(email=f"{name.split()[0].lower()}@example.org", name=name))
                  for name in ("Alice Voter", "Bob Voter", "Carol Voter")]
        other = factories.resident(w.hood, factories.user(email="dave@example.org", name="Dave Neighbour"))
        admin = factories.admin()
        body = factories.body(w.hood.municipality)
        staff = factories.staff(body)
        sessions = {
            "secret yes/no": af.announced("yes_no", "secret", w=w, voters=0, items=2),
            "secret ranked": af.announced("ranked", "secret", w=w, voters=0, items=2, k=1),
            "open control": af.announced("yes_no", "open", w=w, voters=0, items=1),
        }
        for session in sessions.values():
            session.voters = voters
            voting.advance(session.assembly, OPENS)
        survey = survey_services.create_survey(w.muhtar, SETUP, w.hood, title="Trygghet", audience="residents",
                                               opens_at=OPENS, closes_at=CLOSES)
        for spec in sf.QUESTIONS:
            survey_services.add_question(w.muhtar, SETUP, survey, **spec)
        survey_services.publish(w.muhtar, SETUP, survey)
        codes = {}
        for position, voter in enumerate(voters):
            ballot = (position + rotate) % len(voters)
            at = OPENS + (position + 1) * dt.timedelta(minutes=7)
            yes_no = af.yes_no(sessions["secret yes/no"], *SECRET_YES_NO[ballot])
            receipts.expect(yes_no)
            codes[voter.display_name] = voting.cast_vote(voter, at, sessions["secret yes/no"].assembly, yes_no)
            ranked = _ranked(sessions["secret ranked"], SECRET_RANKED[ballot])
            receipts.expect(ranked)
            voting.cast_vote(voter, at, sessions["secret ranked"].assembly, ranked)
            open_vote = af.yes_no(sessions["open control"], *OPEN_CONTROL[ballot])
            answers = {str(q.id): answer for q, answer in zip(survey.questions, SURVEY_ANSWERS[ballot])}
            if position == 0:
                # The first voter came to the muhtar's office: their survey answers and their open
                # vote are entered by the muhtar (assisted participation), marked as such.
                membership = db.session.scalar(select(Membership).where(Membership.user_id == voter.id,
                                                                        Membership.role == "resident"))
                consent = assisted.Consent(given=True, method="office", given_at=at)
                assisted.on_behalf(w.muhtar, at, membership, "vote", consent, sessions["open control"].assembly,
                                   vote=open_vote)
                assisted.on_behalf(w.muhtar, at, membership, "survey_answer", consent, survey, answers=answers)
                continue
            voting.cast_vote(voter, at, sessions["open control"].assembly, open_vote)
            survey_responses.respond(voter, at, survey, answers)
        db.session.commit()
        return {
            "slug": w.hood.slug, "code": w.hood.municipality.code, "body": body.id,
            "sessions": {name: s.assembly.id for name, s in sessions.items()},
            # Proposal pages show a session's outcome, not its ballots: two of them are enough.
            "proposals": [sessions["secret yes/no"].proposals[0].id, sessions["secret ranked"].proposals[0].id],
            "people": {"muhtar": w.muhtar.email, "voter": voters[0].email, "resident": other.email,
                       "admin": admin.email, "staff": staff.email},
            "voters": [(v.id, v.display_name, v.email) for v in voters], "codes": codes,
            # The muhtar's page for acting in a voter's name (assisted participation).
            "memberships": list(db.session.scalars(select(Membership.id).where(
                Membership.user_id.in_([v.id for v in voters]), Membership.role == "resident"))),
            "survey": survey.id,
        }


def close_and_forward(app, world: dict) -> None:
    """Close the ballots and forward an accepted item, as the muhtar does the day after."""
    with app.app_context():
        muhtar = db.session.scalar(select(User).where(User.email == world["people"]["muhtar"]))
        hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == world["slug"]))
        for assembly_id in world["sessions"].values():
            voting.advance(services.get_assembly(muhtar, hood, assembly_id), CLOSES)
        assert survey_responses.close_survey(survey_services.get_survey(muhtar, hood, world["survey"]), CLOSES)
        assembly = services.get_assembly(muhtar, hood, world["sessions"]["secret yes/no"])
        accepted = [item.proposal for item in assembly.items if item.outcome == "accepted"]
        assert accepted, "the secret yes/no ballot should accept an item"
        case = cases.forward(muhtar, CLOSES + HOUR, accepted[0], db.session.get(Body, world["body"]))
        world["reference"] = case.reference
        db.session.commit()


# --- the crawler ----------------------------------------------------------------------------------

def urls(app, world: dict) -> list[str]:
    """Every GET route of the app with its parameters filled from the world (all combinations)."""
    values = {
        "slug": [world["slug"]], "assembly_id": list(world["sessions"].values()),
        "proposal_id": world["proposals"], "comment_id": [1], "body_id": [world["body"]],
        "code": [world["code"]], "reference": [world.get("reference", "NONE-2030-0001")],
        "service_request_id": [world.get("reference", "NONE-2030-0001")], "format": ["json", "xml"],
        "token": ["not-a-token"], "batch": ["not-a-batch"], "kind": ["agenda", "results", "minutes"],
        # No consultation in this world: its pages show only counts (see test_consultation_views).
        "consultation_id": [1], "document_id": [1],
        "membership_id": world["memberships"], "survey_id": [world["survey"]], "series": ["least-safe"],
        "promise_id": [1], "commitment_id": [1],
        # Meetings with bodies hold no ballots: an address that finds none is enough.
        "meeting_id": [1], "question_id": [1],
        "photo_id": [1],
    }
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.endpoint.endswith("_pdf"):  # the PDF of a printable page is made from that page's HTML, crawled
            continue
        missing = rule.arguments - values.keys()
        assert not missing, f"the crawler does not know how to fill {missing} in {rule.rule}: teach it"
        names = sorted(rule.arguments)
        with app.test_request_context():
            for combination in itertools.product(*(values[name] for name in names)):
                found.append(app.url_for(rule.endpoint, **dict(zip(names, combination))))
    return found


_VOLATILE = [
    (re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")'), r"\1CSRF\2"),
    (re.compile(r'(value=")[^"]*("[^>]*name="csrf_token")'), r"\1CSRF\2"),
    (re.compile(r'("csrf_token":\s*")[^"]*(")'), r"\1CSRF\2"),
    # A fresh one-time token in every form that must be stored once (assembly.submissions).
    (re.compile(r'(name="form_token"[^>]*value=")[^"]*(")'), r"\1TOKEN\2"),
    # A free-text survey answer's key is drawn at random when the survey closes (in both worlds).
    (re.compile(r'(name="text" value=")[0-9a-f]{32}(")'), r"\1KEY\2"),
]


def normalised(body: str) -> str:
    for pattern, replacement in _VOLATILE:
        body = pattern.sub(replacement, body)
    return body


def crawl(app, world: dict, clock: af.Clock, at: dt.datetime,
          roles: tuple[str, ...]) -> dict[tuple[str, str], tuple[int, str, str]]:
    clock.now = at
    seen = {}
    clients = {"anonymous": app.test_client()}
    for role, email in world["people"].items():
        if role not in roles:
            continue
        clients[role] = app.test_client()
        login(clients[role], email)
    for role, client in clients.items():
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        for url in urls(app, world):
            response = client.get(url)
            # A PDF is printed from an HTML page of the same address that is crawled too (its bytes
            # carry the moment it was made): its status and type are compared, not its bytes.
            textual = response.mimetype.startswith("text/") or response.mimetype.endswith(("json", "xml"))
            if response.mimetype == "application/pdf":
                body = ""
            elif textual:
                body = normalised(response.get_data(as_text=True))
            else:  # a photo
                body = hashlib.sha256(response.get_data()).hexdigest()
            seen[role, url] = (response.status_code, response.mimetype, body)
    return seen


# --- the experiment -----------------------------------------------------------------------------------

BACKENDS = ["sqlite", "postgresql"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_page_links_a_voter_to_a_secret_ballot(backend, tmp_path, monkeypatch):
    clock = af.Clock(SETUP)
    monkeypatch.setattr("assembly.web.utcnow", clock)
    phases = {"voting": OPENS + 2 * HOUR, "closed": CLOSES + 2 * HOUR}
    observed, worlds = [], []
    for rotate in (0, 1):
        with fresh_app(backend, tmp_path, f"world-{rotate}") as app:
            world = build_world(app, monkeypatch, rotate)
            # Body staff see more than a visitor only once a case has been forwarded.
            seen = {("voting", *key): value for key, value in
                    crawl(app, world, clock, phases["voting"], ("muhtar", "voter", "resident", "admin")).items()}
            close_and_forward(app, world)
            seen |= {("closed", *key): value for key, value in
                     crawl(app, world, clock, phases["closed"], tuple(world["people"])).items()}
        observed.append(seen)
        worlds.append(world)
    first, second = observed
    assert first.keys() == second.keys()

    # The crawl reached the pages that matter, with the results on them.
    secret = f"/n/moda/assemblies/{worlds[0]['sessions']['secret yes/no']}"
    assert first["closed", "muhtar", f"{secret}/ballots.json"][0] == 200
    assert first["closed", "muhtar", f"{secret}/attendance.csv"][0] == 200
    assert "Alice Voter" in first["closed", "muhtar", f"{secret}/attendance.csv"][2]
    assert first["voting", "voter", secret][0] == 200 and "You have voted." in first["voting", "voter", secret][2]
    assert f"/cases/{worlds[0]['reference']}" in {url for _, _, url in first}
    # The survey's pages were reached, its results counted (3 questionnaires) and its texts moderable.
    survey = f"/n/moda/surveys/{worlds[0]['survey']}"
    assert first["voting", "voter", survey][0] == 200 and "You have answered." in first["voting", "voter", survey][2]
    assert first["closed", "anonymous", f"{survey}/results"][0] == 200
    assert "Färre bilar" in first["closed", "muhtar", f"{survey}/moderation"][2]
    assert first["closed", "anonymous", f"/api/v1/surveys/{worlds[0]['survey']}"][0] == 200
    # The answers the muhtar entered are counted, not marked: the same pages in both worlds say so.
    assert "1 of the online answers was entered by the muhtar" in first["closed", "anonymous", f"{survey}/results"][2]
    helped = f"/n/moda/assisted/{worlds[0]['memberships'][0]}"
    assert first["voting", "muhtar", f"{helped}/surveys/{worlds[0]['survey']}"][0] == 200
    assert "has already answered" in first["voting", "muhtar", f"{helped}/surveys/{worlds[0]['survey']}"][2]
    assert first["voting", "muhtar", f"{helped}/assemblies/{worlds[0]['sessions']['open control']}"][0] == 200
    assert sum(status == 200 for status, _, _ in first.values()) > 100
    assert not [key for key, (status, _, _) in first.items() if status >= 500]

    differing = {key for key in first if first[key] != second[key]}
    control = f"/n/moda/assemblies/{worlds[0]['sessions']['open control']}"
    # Only the voter's own page of the open ballot, while voting, shows what was voted:
    # the control that the experiment sees a link where there is one.
    assert differing == {("voting", "voter", control)}, _explain(first, second, differing)

    # Directly: the receipts went to the voters only; the document names nobody.
    for (phase, role, url), (_, _, body) in first.items():
        for code in worlds[0]["codes"].values():
            assert code not in body, (phase, role, url)
    published = first["closed", "anonymous", f"{secret}/ballots.json"][2]
    for _, name, email in worlds[0]["voters"]:
        assert name not in published and email not in published
    document = json.loads(published)
    assert set(document["meta"]) == {"assembly", "neighbourhood", "ballot", "secrecy", "opens_at", "closes_at",
                                     "items"}
    assert all(set(entry) == {"vote"} for entry in document["ballots"])
    assert document["receipts"] == sorted(document["receipts"]) and len(document["receipts"]) == 3


def _explain(first, second, differing) -> str:
    lines = []
    for key in sorted(differing)[:3]:
        a, b = first[key], second[key]
        lines.append(f"{key}: status {a[0]} vs {b[0]}")
        lines.extend(itertools.islice(difflib.unified_diff(a[2].splitlines(), b[2].splitlines(), lineterm=""), 40))
    return "\n".join(lines)


# --- the data model -------------------------------------------------------------------------------------

def test_secret_papers_carry_no_voter_no_time_and_no_receipt(ctx):
    s = af.voting_open("yes_no", "secret", items=1, voters=3)
    for voter in s.voters:
        voting.cast_vote(voter, OPENS, s.assembly, af.yes_no(s, "yes"))
    columns = {c["name"]: c for c in inspect(db.session.connection()).get_columns("ballot_papers")}
    assert set(columns) == {"id", "ballot_id", "voter_id", "choices"}
    assert not [name for name, c in columns.items() if isinstance(c["type"], DateTime)]
    participations = {c["name"] for c in inspect(db.session.connection()).get_columns("participations")}
    # Who and when; what only sealed, until closing.
    assert participations == {"id", "ballot_id", "user_id", "voted_at", "receipt_hash", "sealed"}
    assert db.session.execute(select(BallotPaper.id).where(BallotPaper.ballot_id == s.ballot.id)).all() == []
    af.closed(s, [])
    rows = db.session.execute(select(BallotPaper.voter_id, BallotPaper.choices)
                              .where(BallotPaper.ballot_id == s.ballot.id)).all()
    assert len(rows) == 3 and all(voter is None for voter, _ in rows)
    assert all(set(choices) == {"vote"} for _, choices in rows)
    keys = db.session.scalars(select(BallotPaper.id).where(BallotPaper.ballot_id == s.ballot.id)).all()
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys) and len(set(keys)) == 3


def test_the_paper_table_has_no_hidden_order(ctx):
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ballot_papers'")).scalar_one()
        assert "WITHOUT ROWID" in sql.upper()
        with pytest.raises(OperationalError), db.session.begin_nested():
            db.session.execute(text("SELECT rowid FROM ballot_papers"))
    else:  # no sequence behind the key
        default = connection.execute(text(
            "SELECT column_default FROM information_schema.columns "
            "WHERE table_name = 'ballot_papers' AND column_name = 'id'")).scalar_one()
        assert default is None
        sequences = connection.execute(text(
            "SELECT count(*) FROM information_schema.sequences WHERE sequence_name LIKE 'ballot_papers%'")).scalar_one()
        assert sequences == 0


def test_the_published_order_does_not_depend_on_the_casting_order(ctx, monkeypatch):
    s = af.voting_open("yes_no", "secret", items=2, voters=5)
    votes = [af.yes_no(s, *choices) for choices in
             (("yes", "no"), ("no", "no"), ("yes", "yes"), ("abstain", ""), ("no", "yes"))]
    codes = {voter.id: f"{index:05X}-AAAAA-BBBBB-CCCCC" for index, voter in enumerate(s.voters)}
    queue: list[str] = []
    monkeypatch.setattr(voting, "new_receipt", queue.pop)
    documents = []
    for order in (s.voters, s.voters[::-1], s.voters[2:] + s.voters[:2]):
        savepoint = db.session.begin_nested()
        for minute, voter in enumerate(order):
            queue.append(codes[voter.id])
            voting.cast_vote(voter, OPENS + dt.timedelta(minutes=minute), s.assembly, votes[s.voters.index(voter)])
        documents.append(voting.close_ballot(s.assembly, CLOSES).document)
        savepoint.rollback()
        db.session.expire_all()
    assert documents[0] == documents[1] == documents[2]
    receipts = documents[0]["receipts"]
    assert receipts == sorted(receipts) and len(receipts) == 5
    assert receipts != [voting.receipt_hash(codes[v.id]) for v in s.voters]  # not the casting order by chance
    assert all(set(entry) == {"vote"} for entry in documents[0]["ballots"])
    assert "voters" not in documents[0]["meta"]
