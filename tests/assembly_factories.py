"""Factories for the assembly and voting tests (call inside an app context).

Sessions are driven through the real services with a simulated clock, like
`assembly.demo.sessions`: prepared at `T0 - DAY`, voting opens at `T0` and closes at
`T0 + DAY`. The factories' residents are verified at the real clock, long before `T0`.
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from assembly.accounts.models import User
from assembly.assemblies import sealing, services, voting
from assembly.assemblies.cli import tick_assemblies
from assembly.assemblies.models import (
    Assembly,
    Ballot,
    BallotPaper,
    BallotResult,
    Participation,
)
from assembly.db import db
from assembly.proposals import services as proposals
from assembly.proposals.models import Proposal
from tests import factories
from tests import proposal_factories as pf
from tests.support import client_of, committed  # noqa: F401 - re-exported for the test modules

T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
PREPARED = T0 - DAY
OPENS = T0
CLOSES = T0 + DAY

_seq = itertools.count(1)


class Clock:
    """The request clock of the app (`assembly.web.utcnow`), moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Session:
    """One assembly session with its neighbourhood, muhtar, voters and agenda."""

    w: pf.World
    assembly: Assembly
    proposals: list[Proposal]
    voters: list[User] = field(default_factory=list)

    @property
    def hood(self):
        return self.w.hood

    @property
    def muhtar(self) -> User:
        return self.w.muhtar

    @property
    def ballot(self) -> Ballot:
        return self.assembly.ballot

    @property
    def items(self) -> list[str]:
        """Agenda item ids as ballots name them, in the published order."""
        return [str(item.id) for item in self.assembly.items]

    @property
    def url(self) -> str:
        return f"/n/{self.hood.slug}/assemblies/{self.assembly.id}"


def ready_proposal(w: pf.World, title: str | None = None, now: dt.datetime = PREPARED) -> Proposal:
    """An open proposal that reached the support threshold (the world's threshold is 1)."""
    proposal = pf.proposal(w, title=title or f"Agenda item {next(_seq)}", now=now)
    proposals.support(w.neighbour(), now, proposal)
    assert proposal.ready_at is not None
    return proposal


def world(**rules) -> pf.World:
    """`pf.world`, but one support makes a proposal ready for the agenda (threshold 1)."""
    rules.setdefault("support_threshold", 1)
    return pf.world(**rules)


def draft(method: str = "yes_no", secrecy: str = "secret", *, items: int = 2, voters: int = 3,
          k: int | None = None, quorum_percent: int = 0, majority: str | None = None,
          w: pf.World | None = None, titles: list[str] | None = None, meeting: bool = True,
          ballot: bool = True) -> Session:
    """A draft session with its agenda and (unless `ballot=False`) its ballot set up."""
    w = w or world()
    people = [factories.resident(w.hood) for _ in range(voters)]
    if people and w.supporter is None:
        w.supporter = people[0]  # supports the agenda's proposals (their author may not)
    titles = titles or [None] * items
    agenda = [ready_proposal(w, title) for title in titles]
    start = OPENS + 8 * HOUR if meeting else None
    assembly = services.create_assembly(
        w.muhtar, PREPARED, w.hood, title=f"Assembly {next(_seq)}", meeting_start=start,
        meeting_end=start + 2 * HOUR if start else None, place="Muhtarlık, Moda Caddesi" if meeting else None)
    for proposal in agenda:
        services.add_agenda_item(w.muhtar, PREPARED, assembly, proposal.id)
    if ballot:
        if k is None and method != "yes_no":
            k = 1
        services.set_ballot(w.muhtar, PREPARED, assembly, method=method, secrecy=secrecy, opens_at=OPENS,
                            closes_at=CLOSES, quorum_percent=quorum_percent, majority=majority, approval_k=k)
    return Session(w=w, assembly=assembly, proposals=agenda, voters=people)


def announced(*args, **kwargs) -> Session:
    session = draft(*args, **kwargs)
    services.announce(session.muhtar, PREPARED, session.assembly)
    return session


def voting_open(*args, **kwargs) -> Session:
    session = announced(*args, **kwargs)
    voting.advance(session.assembly, OPENS)
    assert session.assembly.status == "voting"
    return session


def closed(session: Session, votes: dict[User, object] | list, at: dt.datetime = CLOSES) -> BallotResult:
    """Cast `votes` (voter → vote, or votes for `session.voters` in order) and close the ballot."""
    pairs = votes.items() if isinstance(votes, dict) else zip(session.voters, votes)
    for minute, (voter, vote) in enumerate(pairs, start=1):
        voting.cast_vote(voter, OPENS + minute * dt.timedelta(minutes=1), session.assembly, vote)
    voting.advance(session.assembly, at)
    assert session.assembly.status == "closed"
    return voting.result_of(session.assembly)


def yes_no(session: Session, *choices: str) -> dict[str, str]:
    """A yes/no ballot from one choice per agenda item ("" leaves an item out)."""
    return {item: choice for item, choice in zip(session.items, choices) if choice}


def stored_counts(ballot_id: int) -> dict[str, int]:
    """The maintained turnout next to full counts of participations and papers (a secret
    vote is a sealed envelope beside its participation until closing, a paper after)."""
    db.session.expire_all()
    sealed = db.session.scalar(select(func.count()).select_from(Participation).where(
        Participation.ballot_id == ballot_id, Participation.sealed.is_not(None)))
    return {
        "turnout": db.session.scalar(select(Ballot.turnout).where(Ballot.id == ballot_id)),
        "participations": db.session.scalar(select(func.count()).select_from(Participation)
                                            .where(Participation.ballot_id == ballot_id)),
        "papers": sealed + db.session.scalar(select(func.count()).select_from(BallotPaper)
                                             .where(BallotPaper.ballot_id == ballot_id)),
    }


def current_vote(ballot_id: int, user_id: int):
    """What a voter's stored vote says while voting is open: the open ballot's paper, or the
    secret ballot's envelope opened with the app's key."""
    db.session.expire_all()
    envelope = db.session.scalar(select(Participation.sealed).where(Participation.ballot_id == ballot_id,
                                                                    Participation.user_id == user_id))
    if envelope is not None:
        return sealing.unseal(current_app.config["BALLOT_SEAL_KEY"], ballot_id, user_id, envelope)
    return db.session.scalar(select(BallotPaper.choices).where(BallotPaper.ballot_id == ballot_id,
                                                               BallotPaper.voter_id == user_id))["vote"]


def tick(app, at: dt.datetime) -> tuple[int, int]:
    """Run the scheduler's tick at `at`, as cron would: its own app context, real commits."""
    with app.app_context():
        return tick_assemblies(at)


def results_of(ballot_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(BallotResult).where(BallotResult.ballot_id == ballot_id))


# --- shared by the session and voting view tests ---------------------------------------------

def __getattr__(name: str):
    # The `clock` fixture lives with the other fixtures (tests/fixtures.py, which imports this
    # module); modules that still import it from here get it, loaded on first use.
    if name == "clock":
        from tests.fixtures import clock
        return clock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
