"""Secret ballots against someone who reads the database.

Sixty residents vote through HTTP (real commits, the app's own code path) in a secret ballot,
and — as a control — the same residents cast the same choices in an open ballot, whose papers
are written as the votes arrive. Then an attacker with read access to every table and to the
system columns (PostgreSQL `xmin` and `ctid`, SQLite `rowid` and the physical order of a table)
tries every join we know of to link a participation to a ballot paper: equal or neighbouring
transaction ids, physical order, insertion order, the participation's time, the paper's key.
Each method predicts every voter's choice; the test knows the truth and counts the hits.

Chance is what an attacker gets from the published result alone: guessing the most common
choice for everyone hits a share `q` of the voters. A method "links" when it hits more than
`q` plus three standard deviations. The control shows the methods do link where a link exists
(the open ballot's papers, stripped of their voter column); the secret ballot must stay at
chance, while voting (the papers are not there yet; the envelopes are all one size) and after.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import Counter

import pytest
from sqlalchemy import text

from assembly import create_app
from assembly.db import db
from tests import assembly_factories as af
from tests.assembly_factories import CLOSES, OPENS
from tests.support import app_config, login

VOTERS = 60
CHOICES = ("yes", "no", "abstain")


@pytest.fixture
def box_app(committed_database, monkeypatch):
    app = create_app(app_config(committed_database))
    clock = af.Clock(OPENS + dt.timedelta(minutes=5))
    monkeypatch.setattr("assembly.web.utcnow", clock)
    app.clock = clock
    yield app
    app.extensions["assembly_db"].engine.dispose()


def _cast_through_http(app) -> dict:
    with af.committed(app):
        secret = af.voting_open("yes_no", "secret", items=1, voters=VOTERS)
        control = af.voting_open("yes_no", "open", items=1, voters=0, w=secret.w)
        data = {"secret": (secret.url, secret.items[0], secret.ballot.id),
                "control": (control.url, control.items[0], control.ballot.id),
                "voters": [(voter.id, voter.email) for voter in secret.voters]}
    chooser = random.Random(20261202)
    truth = {}
    for minute, (user_id, email) in enumerate(data["voters"]):
        app.clock.now = OPENS + dt.timedelta(minutes=5 + minute)
        client = app.test_client()
        login(client, email)
        truth[user_id] = chooser.choice(CHOICES)
        for url, item, _ballot in (data["secret"], data["control"]):
            response = client.post(f"{url}/vote", data={f"item-{item}": truth[user_id]})
            assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return {"truth": truth, "secret": data["secret"][2], "control": data["control"][2]}


# --- what the attacker reads ----------------------------------------------------------------------------

def _rows(app, ballot_id: int) -> tuple[list[dict], list[dict]]:
    """Participations and papers of a ballot with every system column the backend offers."""
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            participations = connection.execute(text(
                "SELECT user_id, id, voted_at, xmin::text::bigint AS xid, ctid::text AS ctid, sealed "
                "FROM participations WHERE ballot_id = :b"), {"b": ballot_id}).mappings().all()
            papers = connection.execute(text(
                "SELECT id, choices, xmin::text::bigint AS xid, ctid::text AS ctid "
                "FROM ballot_papers WHERE ballot_id = :b"), {"b": ballot_id}).mappings().all()
        else:
            participations = connection.execute(text(
                "SELECT user_id, id, voted_at, rowid AS physical, sealed FROM participations "
                "WHERE ballot_id = :b"), {"b": ballot_id}).mappings().all()
            # WITHOUT ROWID: a plain scan returns the rows in the order they lie in the file.
            papers = connection.execute(text("SELECT id, choices FROM ballot_papers WHERE ballot_id = :b"),
                                        {"b": ballot_id}).mappings().all()
            papers = [dict(paper, physical=position) for position, paper in enumerate(papers)]
        db.session.rollback()
    return [dict(row) for row in participations], [dict(row) for row in papers]


def _choice(paper: dict) -> str:
    choices = paper["choices"]
    if isinstance(choices, str):  # SQLite's JSON comes back as text through a raw query
        choices = json.loads(choices)
    return next(iter(choices["vote"].values()), "")


def _ctid(value: str) -> tuple[int, int]:
    block, offset = value.strip("()").split(",")
    return int(block), int(offset)


def _by_rank(participations, papers, participation_key, paper_key) -> dict[int, str]:
    ordered = sorted(participations, key=participation_key)
    ranked = sorted(papers, key=paper_key)
    return {p["user_id"]: _choice(paper) for p, paper in zip(ordered, ranked)}


def _by_equal_column(participations, papers, column: str, shift: int, fallback: str) -> dict[int, str]:
    """Pair on `paper.column == participation.column + shift`; several candidates: their most
    common choice; none: the overall most common."""
    candidates: dict[object, list[str]] = {}
    for paper in papers:
        candidates.setdefault(paper[column], []).append(_choice(paper))
    guesses = {}
    for p in participations:
        found = candidates.get(p[column] + shift)
        guesses[p["user_id"]] = Counter(found).most_common(1)[0][0] if found else fallback
    return guesses


def attacks(participations: list[dict], papers: list[dict]) -> dict[str, dict[int, str]]:
    """Every method, each a guess of every voter's choice."""
    majority = Counter(map(_choice, papers)).most_common(1)[0][0] if papers else CHOICES[0]
    methods = {
        "insertion order (participation id) ~ paper key": _by_rank(
            participations, papers, lambda p: p["id"], lambda paper: paper["id"]),
        "participation time ~ paper key": _by_rank(
            participations, papers, lambda p: (p["voted_at"], p["id"]), lambda paper: paper["id"]),
    }
    if participations and "ctid" in participations[0]:
        for shift in range(-3, 4):
            methods[f"xmin {shift:+d}"] = _by_equal_column(participations, papers, "xid", shift, majority)
        methods["ctid order"] = _by_rank(participations, papers, lambda p: _ctid(p["ctid"]),
                                         lambda paper: _ctid(paper["ctid"]))
        methods["xmin order"] = _by_rank(participations, papers, lambda p: (p["xid"], p["id"]),
                                         lambda paper: (paper["xid"], _ctid(paper["ctid"])))
        methods["insertion order ~ ctid order"] = _by_rank(participations, papers, lambda p: p["id"],
                                                           lambda paper: _ctid(paper["ctid"]))
        methods["participation time ~ ctid order"] = _by_rank(
            participations, papers, lambda p: (p["voted_at"], p["id"]), lambda paper: _ctid(paper["ctid"]))
    else:
        methods["rowid order ~ page order"] = _by_rank(participations, papers, lambda p: p["physical"],
                                                       lambda paper: paper["physical"])
        methods["participation time ~ page order"] = _by_rank(
            participations, papers, lambda p: (p["voted_at"], p["id"]), lambda paper: paper["physical"])
    return methods


def chance_bound(truth: dict[int, str]) -> float:
    """The hit rate of guessing the most common choice for all, plus three standard deviations."""
    n = len(truth)
    q = Counter(truth.values()).most_common(1)[0][1] / n
    return q + 3 * math.sqrt(q * (1 - q) / n)


def hit_rates(truth: dict[int, str], methods: dict[str, dict[int, str]]) -> dict[str, float]:
    return {name: sum(guess.get(user) == choice for user, choice in truth.items()) / len(truth)
            for name, guess in methods.items()}


@pytest.mark.parametrize("committed_database", ["sqlite", "postgresql"], indirect=True)
def test_a_database_reader_cannot_link_a_secret_vote_to_its_voter(box_app):
    cast = _cast_through_http(box_app)
    truth, bound = cast["truth"], chance_bound(cast["truth"])

    # The control: the open ballot's papers were written as the votes came; with the voter
    # column ignored, the same methods find the link (so they are not blind).
    participations, papers = _rows(box_app, cast["control"])
    control = hit_rates(truth, attacks(participations, papers))
    assert max(control.values()) == 1.0, control

    # While voting: no paper exists yet, and every sealed vote has the same size.
    participations, papers = _rows(box_app, cast["secret"])
    assert len(participations) == VOTERS and papers == []
    assert len({len(bytes(p["sealed"])) for p in participations}) == 1

    box_app.clock.now = CLOSES
    assert af.tick(box_app, CLOSES) == (2, 0)  # the secret ballot and the control
    participations, papers = _rows(box_app, cast["secret"])
    assert len(papers) == VOTERS and all(p["sealed"] is None for p in participations)
    assert sorted(map(_choice, papers)) == sorted(truth.values())  # every vote counted, as cast
    rates = hit_rates(truth, attacks(participations, papers))
    linked = {name: rate for name, rate in rates.items() if rate > bound}
    assert not linked, f"linked above chance ({bound:.2f}): {linked}; all: {rates}"
    # The closing note quotes these figures.
    print(f"\nlink attack hit rates (chance bound {bound:.2f}): "
          + ", ".join(f"{name} {rate:.2f}" for name, rate in sorted(rates.items()))
          + f"; control {max(control.values()):.2f}")


def test_production_needs_its_own_seal_key(tmp_path):
    from assembly import config

    def settings(**given) -> dict:
        values = config.defaults(tmp_path) | {"ASSEMBLY_ENV": "production", "SECRET_KEY": "s" * 64,
                                              "BASE_URL": "https://assembly.example"} | given
        config.finalise(values)
        return values

    with pytest.raises(config.ConfigError, match="BALLOT_SEAL_KEY must be set"):
        settings()
    with pytest.raises(config.ConfigError, match="BALLOT_SEAL_KEY must be set"):
        settings(BALLOT_SEAL_KEY="short")
    with pytest.raises(config.ConfigError, match="must differ from SECRET_KEY"):
        settings(BALLOT_SEAL_KEY="s" * 64)
    assert settings(BALLOT_SEAL_KEY="k" * 64)["BALLOT_SEAL_KEY"] == "k" * 64
