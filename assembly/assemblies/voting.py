"""Casting votes, secrecy, and results computed once by the tally module.

Secret ballots keep who voted (`Participation`) apart from what was voted (`BallotPaper`):
the paper has no user, no time and a random key; the voter gets a receipt code once and
only its hash is stored, so the published ballot list can be checked but not linked.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from assembly import permissions, tally
from assembly.assemblies.models import (
    AgendaItem,
    Assembly,
    AssemblyStatus,
    Ballot,
    BallotPaper,
    BallotResult,
    Participation,
    Secrecy,
)
from assembly.assemblies.services import _move
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.neighbourhoods.models import Membership, MembershipRole, MembershipStatus
from assembly.proposals import services as proposals
from assembly.proposals.models import ProposalStatus


def receipt_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def new_receipt() -> str:
    raw = secrets.token_hex(10).upper()
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


def rules_of(ballot: Ballot, items: list[AgendaItem]) -> tally.Rules:
    return tally.Rules(method=ballot.method, items=tuple(str(item.id) for item in items),
                       electorate=ballot.electorate or 0, quorum_percent=ballot.quorum_percent,
                       majority=ballot.majority, k=ballot.approval_k or 1)


def eligible(user, assembly: Assembly) -> bool:
    """A verified resident of the neighbourhood since before voting opened."""
    ballot = assembly.ballot
    if ballot is None or ballot.opened_at is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id, Membership.neighbourhood_id == assembly.neighbourhood_id,
            Membership.role == MembershipRole.RESIDENT.value, Membership.status == MembershipStatus.VERIFIED.value,
            Membership.verified_at <= ballot.opened_at)
    ) is not None


def has_voted(user, ballot: Ballot) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(
        select(Participation.id).where(Participation.ballot_id == ballot.id, Participation.user_id == user.id)
    ) is not None


def own_open_vote(user, ballot: Ballot):
    """The user's current choices in an open ballot (None for secret ballots)."""
    if ballot.secrecy != Secrecy.OPEN.value or not getattr(user, "is_authenticated", False):
        return None
    paper = db.session.scalar(select(BallotPaper).where(BallotPaper.ballot_id == ballot.id,
                                                        BallotPaper.voter_id == user.id))
    return paper.choices["vote"] if paper else None


def _validated_vote(ballot: Ballot, items: list[AgendaItem], vote) -> object:
    try:
        tally.tally(rules_of(ballot, items), [vote])
    except tally.TallyError as error:
        if error.code == "too_many_approvals":
            raise ValidationFailed(_("You can choose at most %(num)d items.", num=ballot.approval_k)) from None
        raise ValidationFailed(_("This ballot is not valid. Please check your choices.")) from None
    return vote


def cast_vote(actor, now: dt.datetime, assembly: Assembly, vote, receipt: str | None = None) -> str | None:
    """Record or change the actor's vote. Returns a new receipt code for a first secret vote.

    One participation per voter is enforced by the database's unique constraint; a
    second request finds it and changes the vote instead (secret: only with the receipt).
    """
    permissions.require(actor, "vote", assembly)
    ballot = assembly.ballot
    if assembly.status != AssemblyStatus.VOTING.value or ballot is None or not (
            ballot.opens_at <= now < ballot.closes_at):
        raise InvalidTransition(_("Voting is not open for this session."))
    if not eligible(actor, assembly):
        raise NotAllowed(_("Only residents who were verified when voting opened can vote."))
    vote = _validated_vote(ballot, list(assembly.items), vote)
    try:
        with db.session.begin_nested():
            db.session.add(Participation(ballot_id=ballot.id, user_id=actor.id, voted_at=now))
    except IntegrityError:
        _change_vote(actor, ballot, vote, receipt)
        return None
    db.session.execute(update(Ballot).where(Ballot.id == ballot.id).values(turnout=Ballot.turnout + 1)
                       .execution_options(synchronize_session=False))
    code = None
    if ballot.secrecy == Secrecy.SECRET.value:
        code = new_receipt()
        paper = BallotPaper(id=secrets.token_hex(16), ballot_id=ballot.id, receipt_hash=receipt_hash(code),
                            choices={"vote": vote})
    else:
        paper = BallotPaper(id=secrets.token_hex(16), ballot_id=ballot.id, voter_id=actor.id, choices={"vote": vote})
    db.session.add(paper)
    db.session.flush()
    return code


def _change_vote(actor, ballot: Ballot, vote, receipt: str | None) -> None:
    if ballot.secrecy == Secrecy.OPEN.value:
        statement = update(BallotPaper).where(BallotPaper.ballot_id == ballot.id, BallotPaper.voter_id == actor.id)
    else:
        if not receipt or not receipt.strip():
            raise ValidationFailed(_("You have already voted. To change a secret vote, enter your receipt code."),
                                   "receipt")
        statement = update(BallotPaper).where(BallotPaper.ballot_id == ballot.id,
                                              BallotPaper.receipt_hash == receipt_hash(receipt))
    changed = db.session.execute(statement.values(choices={"vote": vote})
                                 .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise ValidationFailed(_("This receipt code does not belong to a ballot of this vote."), "receipt")


# --- closing and results ----------------------------------------------------------------------

def ballots_document(assembly: Assembly) -> dict:
    """The publishable list of ballots: secret → votes with receipt hashes; open → with names."""
    ballot = assembly.ballot
    items = list(assembly.items)
    rules = rules_of(ballot, items)
    papers = list(db.session.scalars(
        select(BallotPaper).options(joinedload(BallotPaper.voter)).where(BallotPaper.ballot_id == ballot.id)))
    votes = [paper.choices["vote"] for paper in papers]
    meta = {"assembly": assembly.title, "neighbourhood": assembly.neighbourhood.slug, "ballot": ballot.id,
            "secrecy": ballot.secrecy, "opens_at": ballot.opens_at.isoformat(),
            "closes_at": ballot.closes_at.isoformat(),
            "items": {str(item.id): item.proposal.title for item in items}}
    if ballot.secrecy == Secrecy.SECRET.value:
        return tally.ballots_document(rules, votes, [paper.receipt_hash for paper in papers], meta)
    meta["voters"] = sorted(paper.voter.display_name for paper in papers)
    return tally.ballots_document(rules, votes, None, meta)


def close_ballot(assembly: Assembly, now: dt.datetime) -> BallotResult:
    """Count once: the unique constraint on the result lets only one closer win a race."""
    ballot = assembly.ballot
    document = ballots_document(assembly)
    result = tally.tally_document(document)
    stored = BallotResult(ballot_id=ballot.id, computed_at=now, digest=tally.digest(document),
                          result=result.to_dict(), document=document)
    try:
        with db.session.begin_nested():
            db.session.add(stored)
    except IntegrityError:
        db.session.refresh(assembly)
        return db.session.scalar(select(BallotResult).where(BallotResult.ballot_id == ballot.id))
    _move(assembly, AssemblyStatus.VOTING, AssemblyStatus.CLOSED, now)
    accepted = set(result.accepted)
    for item in assembly.items:
        item.outcome = "accepted" if str(item.id) in accepted else "rejected"
        if item.proposal.status == ProposalStatus.ON_AGENDA.value:
            to = ProposalStatus.ACCEPTED if item.outcome == "accepted" else ProposalStatus.REJECTED
            proposals.transition(item.proposal, to, None, now, assembly.title)
            proposals.notify_followers(item.proposal, "proposal_status", now, status=to.value)
    db.session.flush()
    return stored


def result_of(assembly: Assembly) -> BallotResult | None:
    if assembly.ballot is None:
        return None
    return db.session.scalar(select(BallotResult).where(BallotResult.ballot_id == assembly.ballot.id))


def receipt_counted(result: BallotResult, code: str) -> bool:
    wanted = receipt_hash(code)
    return any(entry.get("receipt") == wanted for entry in result.document["ballots"])


def attendance_rows(actor, assembly: Assembly) -> list[tuple[str, str, bool]]:
    """Verified residents (name, address, voted online) so the muhtar can avoid double votes in the room."""
    permissions.require(actor, "manage_assemblies", assembly)
    ballot = assembly.ballot
    voted = set() if ballot is None else set(db.session.scalars(
        select(Participation.user_id).where(Participation.ballot_id == ballot.id)))
    rows = db.session.execute(
        select(Membership).options(joinedload(Membership.user)).where(
            Membership.neighbourhood_id == assembly.neighbourhood_id, Membership.role == MembershipRole.RESIDENT.value,
            Membership.status == MembershipStatus.VERIFIED.value)
    ).scalars()
    return sorted(((m.user.display_name, m.address or "", m.user_id in voted) for m in rows),
                  key=lambda row: row[0].casefold())

