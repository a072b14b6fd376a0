"""Casting votes, secrecy, and results computed once by the tally module.

Secret ballots keep who voted (`Participation`) apart from what was voted (`BallotPaper`).
While voting is open a secret vote waits beside its participation in a sealed envelope (see
`assembly.assemblies.sealing`); the one closing transaction opens all envelopes, writes the
papers in shuffled order with random keys and no time, empties the envelopes and counts.
So no transaction id, physical position, insertion order or time links a participation to
a paper. The voter gets a receipt once; its fingerprint is published in a list of its own,
apart from the votes, so it proves that the vote was counted, not what it said.

Casting and closing are serialised on the ballot row: a vote is stored only while
`ballots.closed_at` is empty, and closing sets it first, so an acknowledged vote is counted.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Boolean, bindparam, exists, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import defer, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from assembly import permissions, tally
from assembly.assemblies import sealing
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
from assembly.assemblies.services import move_status, open_if_due
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.i18n import ngettext
from assembly.neighbourhoods.models import Membership, MembershipRole, MembershipStatus, Neighbourhood
from assembly.proposals import services as proposals
from assembly.proposals.models import ProposalStatus

RECEIPT_GROUPS, RECEIPT_GROUP = 4, 5
_RECEIPT_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def normalise_receipt(code: str) -> str:
    """A receipt as typed (any case, with or without dashes and spaces, Persian or Arabic
    digits) in its printed form, e.g. `1A2B3-C4D5E-6F7A8-B9C0D`."""
    raw = re.sub(r"[^0-9A-Z]", "", (code or "").translate(_RECEIPT_DIGITS).upper())
    return "-".join(raw[i:i + RECEIPT_GROUP] for i in range(0, len(raw), RECEIPT_GROUP))


def receipt_hash(code: str) -> str:
    return hashlib.sha256(normalise_receipt(code).encode()).hexdigest()


def new_receipt() -> str:
    raw = secrets.token_hex(RECEIPT_GROUPS * RECEIPT_GROUP // 2).upper()
    return normalise_receipt(raw)


def rules_of(ballot: Ballot | BallotRules, items) -> tally.Rules:
    return tally.Rules(method=ballot.method, items=tuple(str(item.id) for item in items),
                       electorate=ballot.electorate or 0, quorum_percent=ballot.quorum_percent,
                       majority=ballot.majority, k=ballot.approval_k or 1)


def eligible(user, assembly: Assembly | BallotBox) -> bool:
    """A verified resident of the neighbourhood since before voting opened (from the user's
    roles, loaded once per request; `cast_vote` checks it again in the database as it writes)."""
    ballot = assembly.ballot
    if ballot is None or not getattr(user, "is_authenticated", False):
        return False
    return permissions.resident_since(user, assembly.neighbourhood_id, ballot.opens_at)


def _eligible_now(user_id: int, neighbourhood_id: int):
    """SQL: the voter is, at the moment of writing, a verified resident since the ballot opened."""
    return exists().where(
        Membership.user_id == user_id, Membership.neighbourhood_id == neighbourhood_id,
        Membership.role == MembershipRole.RESIDENT.value, Membership.status == MembershipStatus.VERIFIED.value,
        Membership.verified_at <= Ballot.opens_at)


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


def _validated_vote(ballot: Ballot | BallotRules, items, vote) -> object:
    try:
        tally.check_ballot(rules_of(ballot, items), vote)
    except tally.TallyError as error:
        if error.code == "too_many_approvals":
            raise ValidationFailed(ngettext("You can choose at most %(num)s item.", "You can choose at most %(num)s items.", ballot.approval_k)) from None
        raise ValidationFailed(_("This ballot is not valid. Please check your choices.")) from None
    return vote


def _seal_key() -> str:
    return current_app.config["BALLOT_SEAL_KEY"]


# The vote's statements are built once, with bound parameters, not per request: building and
# keying a statement costs more CPU than running it on SQLite (docs/benchmarks.md, the vote path).
_A, _B, _I, _N = Assembly.__table__.c, Ballot.__table__.c, AgendaItem.__table__.c, Neighbourhood.__table__.c
_BALLOT_BOX = (  # plain table columns: a Core statement and rows, no ORM compilation or entities
    select(_A.id, _A.neighbourhood_id, _A.status, _B.id, _B.method, _B.secrecy, _B.opens_at, _B.closes_at,
           _B.quorum_percent, _B.majority, _B.approval_k, _B.electorate, _I.id)
    .select_from(Assembly.__table__)
    .join(Neighbourhood.__table__, _N.id == _A.neighbourhood_id)
    .outerjoin(Ballot.__table__, _B.assembly_id == _A.id)
    .outerjoin(AgendaItem.__table__, _I.assembly_id == _A.id)
    .where(_A.id == bindparam("assembly_id"), _N.slug == bindparam("slug"))
    .order_by(_I.position)
)
_CLAIM = (
    update(Ballot).where(Ballot.id == bindparam("claim_ballot"), Ballot.closed_at.is_(None),
                         Ballot.closes_at > bindparam("claim_now"),
                         _eligible_now(bindparam("claim_user"), bindparam("claim_neighbourhood")))
    .values(turnout=Ballot.turnout + bindparam("claim_counted")).returning(Ballot.turnout)
    .execution_options(synchronize_session=False)
)
_RESEAL = (update(Participation).where(Participation.ballot_id == bindparam("p_ballot"),
                                       Participation.user_id == bindparam("p_user"))
           .values(sealed=bindparam("p_sealed")).execution_options(synchronize_session=False))
_REWRITE = (update(BallotPaper).where(BallotPaper.ballot_id == bindparam("p_ballot"),
                                      BallotPaper.voter_id == bindparam("p_user"))
            .values(choices=bindparam("p_choices")).execution_options(synchronize_session=False))
_PAPER = insert(BallotPaper).values(id=bindparam("paper_id"), ballot_id=bindparam("p_ballot"),
                                    voter_id=bindparam("p_user"), choices=bindparam("p_choices"))
_PARTICIPATIONS: dict[str, object] = {}  # per dialect: INSERT … ON CONFLICT DO NOTHING RETURNING id


def _participation_insert():
    dialect = db.session.get_bind().dialect.name
    if dialect not in _PARTICIPATIONS:
        _PARTICIPATIONS[dialect] = db.insert(Participation).on_conflict_do_nothing().values(
            ballot_id=bindparam("p_ballot"), user_id=bindparam("p_user"), voted_at=bindparam("p_at"),
            sealed=bindparam("p_sealed"), receipt_hash=bindparam("p_receipt")).returning(Participation.id)
    return _PARTICIPATIONS[dialect]


def _one_statement_vote():
    """PostgreSQL: the participation, the claim of the ballot row and the paper as one statement
    (data-modifying CTEs), one round trip instead of three, with the same checks in the same
    order: the participation is claimed first (`ON CONFLICT DO NOTHING` tells a first vote from a
    changed one), the ballot row is claimed only while open and the voter still eligible, counting
    1 for a first vote and 0 for a changed one, and the paper is written (open ballot) or the
    envelope replaced (secret ballot, a changed vote) only if the claim succeeded. Answers the
    turnout (NULL: refused), whether this was a first vote, and how many rows were rewritten.

    The sub-statements share one snapshot: a first vote of the same person committed while this
    one waited on the participation's unique index is not visible to the rewrites here, which
    then rewrite nothing; `cast_vote` rewrites again in a statement of its own (see there)."""
    first = postgresql_insert(Participation).on_conflict_do_nothing().values(
        ballot_id=bindparam("p_ballot"), user_id=bindparam("p_user"), voted_at=bindparam("p_at"),
        sealed=bindparam("p_sealed"), receipt_hash=bindparam("p_receipt")).returning(Participation.id).cte("first_vote")
    is_first = select(first.c.id).exists()
    claim = (
        update(Ballot).where(Ballot.id == bindparam("p_ballot"), Ballot.closed_at.is_(None),
                             Ballot.closes_at > bindparam("claim_now"),
                             _eligible_now(bindparam("p_user"), bindparam("claim_neighbourhood")))
        .values(turnout=Ballot.turnout + select(func.count()).select_from(first).scalar_subquery())
        .returning(Ballot.turnout).cte("claim"))
    claimed = select(claim.c.turnout).exists()
    secret = bindparam("secret", type_=Boolean)
    reseal = (update(Participation).where(Participation.ballot_id == bindparam("p_ballot"),
                                          Participation.user_id == bindparam("p_user"), secret, ~is_first, claimed)
              .values(sealed=bindparam("p_sealed")).returning(Participation.id).cte("reseal"))
    rewrite = (update(BallotPaper).where(BallotPaper.ballot_id == bindparam("p_ballot"),
                                         BallotPaper.voter_id == bindparam("p_user"), ~secret, ~is_first, claimed)
               .values(choices=bindparam("p_choices")).returning(BallotPaper.id).cte("rewrite"))
    paper_columns = BallotPaper.__table__.c
    paper = (insert(BallotPaper).from_select(
        ["id", "ballot_id", "voter_id", "choices"],
        select(bindparam("paper_id", type_=paper_columns.id.type), bindparam("p_ballot", type_=paper_columns.ballot_id.type),
               bindparam("p_user", type_=paper_columns.voter_id.type), bindparam("p_choices", type_=paper_columns.choices.type))
        .where(~secret, is_first, claimed)).returning(BallotPaper.id).cte("paper"))
    rewritten = sum((select(func.count()).select_from(each).scalar_subquery() for each in (reseal, rewrite, paper)),
                    literal_column("0"))
    return select(select(claim.c.turnout).scalar_subquery(), is_first, rewritten)


_ONE_STATEMENT_VOTE = _one_statement_vote()


class BallotRules(NamedTuple):
    """What a vote needs of its ballot: its window and the rules a vote is checked against."""

    id: int
    method: str
    secrecy: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    quorum_percent: int
    majority: str
    approval_k: int | None
    electorate: int | None


class ItemId(NamedTuple):
    id: int


class BallotBox(NamedTuple):
    """What a vote needs of a session, as plain values: its id, neighbourhood and status, its
    ballot's rules, its agenda items' ids in their order. `cast_vote` takes it in place of the
    session, and the policy module reads its `neighbourhood_id` as it reads a session's."""

    id: int
    neighbourhood_id: int
    status: str
    ballot: BallotRules | None
    items: tuple[ItemId, ...]


def ballot_box(slug: str, assembly_id: int) -> BallotBox | None:
    """What a vote needs, in one statement (one row per agenda item): the session by its
    neighbourhood's slug, its ballot and its items' ids — no ORM entity, no proposal."""
    rows = db.session.connection().execute(_BALLOT_BOX, {"slug": slug, "assembly_id": assembly_id}).all()
    if not rows:
        return None
    first = rows[0]
    ballot = BallotRules(*first[3:12]) if first[3] is not None else None
    items = tuple(ItemId(row[12]) for row in rows if row[12] is not None)
    return BallotBox(first[0], first[1], first[2], ballot, items)


_P = Participation.__table__.c
_VOTED = (
    select(_A.title).select_from(Assembly.__table__)
    .join(Neighbourhood.__table__, _N.id == _A.neighbourhood_id)
    .join(Ballot.__table__, _B.assembly_id == _A.id)
    .join(Participation.__table__, (_P.ballot_id == _B.id) & (_P.user_id == bindparam("user_id")))
    .where(_A.id == bindparam("assembly_id"), _N.slug == bindparam("slug"))
)


def voted_title(user, slug: str, assembly_id: int) -> str | None:
    """The session's title if `user` has voted in its ballot, else None (the page a vote lands on)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.execute(_VOTED, {"user_id": user.id, "slug": slug, "assembly_id": assembly_id}).scalar()


def _open_if_due(assembly: Assembly | BallotBox, now: dt.datetime) -> None:
    """`services.open_if_due` for a vote that arrives before the scheduled tick opened voting:
    a ballot box is read as the session entity only then (once per ballot)."""
    if isinstance(assembly, BallotBox):
        ballot = assembly.ballot
        if ballot is None or assembly.status != AssemblyStatus.ANNOUNCED.value or now < ballot.opens_at:
            return
        assembly = db.session.get(Assembly, assembly.id)
    open_if_due(assembly, now)


def cast_vote(actor, now: dt.datetime, assembly: Assembly | BallotBox, vote) -> str | None:
    """Record or change the actor's vote. Returns a new receipt code for a first secret vote.

    One participation per voter is the database's unique constraint: `INSERT … ON CONFLICT DO
    NOTHING` tells a first vote from a changed one without reading. Then the ballot row is
    claimed (`closed_at` still empty, window still open, the voter still a resident verified
    since voting opened) and the turnout counted for a first vote: that row lock serialises
    this vote against the closing transaction, which sets `closed_at` before it reads the
    votes; a refused claim rolls the participation back with the rest. A second vote of the
    same person replaces the first, secret or not (re-voting also lets a pressured voter
    quietly change what they were made to vote). Two or three statements and no read (one on
    PostgreSQL, `_one_statement_vote`): the caller commits once.
    """
    permissions.require(actor, "vote", assembly)
    ballot = assembly.ballot
    if ballot is None or assembly.status not in (AssemblyStatus.ANNOUNCED.value, AssemblyStatus.VOTING.value) \
            or not ballot.opens_at <= now < ballot.closes_at:
        raise InvalidTransition(_("Voting is not open for this session."))
    if not eligible(actor, assembly):
        raise NotAllowed(_("Only residents who were verified when voting opened can vote."))
    items = list(assembly.items)
    vote = _validated_vote(ballot, items, vote)
    _open_if_due(assembly, now)
    secret = ballot.secrecy == Secrecy.SECRET.value
    code = new_receipt() if secret else None
    envelope = sealing.seal(_seal_key(), ballot.id, actor.id, vote, sealing.padded_size(
        [str(item.id) for item in items])) if secret else None
    write = db.session.connection()  # the DML of the vote runs in Core: no ORM persistence step per statement
    participation = {"p_ballot": ballot.id, "p_user": actor.id, "p_at": now, "p_sealed": envelope,
                     "p_receipt": receipt_hash(code) if code else None}
    claim = {"claim_ballot": ballot.id, "claim_now": now, "claim_user": actor.id,
             "claim_neighbourhood": assembly.neighbourhood_id}
    if write.dialect.name == "postgresql":
        turnout, first, rewritten = write.execute(_ONE_STATEMENT_VOTE, {
            **participation, **claim, "secret": secret, "p_choices": {"vote": vote},
            "paper_id": secrets.token_hex(16)}).one()
        # Everything written, unless the statement's snapshot could not see what it had to rewrite.
        done = turnout is not None and (first and secret or rewritten == 1)
    else:
        first = write.execute(_participation_insert(), participation).scalar() is not None
        turnout = write.execute(_CLAIM, {**claim, "claim_counted": 1 if first else 0}).scalar()
        done = False
    if turnout is None:
        if db.session.scalar(select(_eligible_now(actor.id, assembly.neighbourhood_id))
                             .where(Ballot.id == ballot.id)) is False:
            raise NotAllowed(_("Only residents who were verified when voting opened can vote."))
        raise InvalidTransition(_("Voting has closed. Your vote was not recorded."))
    if isinstance(ballot, Ballot):  # the entity a caller may read on: as written, without a reload
        set_committed_value(ballot, "turnout", turnout)
    if done:
        return code if first else None  # a changed vote keeps its first receipt
    if not first:  # the first vote is replaced
        if envelope is not None:
            write.execute(_RESEAL, {"p_ballot": ballot.id, "p_user": actor.id, "p_sealed": envelope})
        else:
            write.execute(_REWRITE, {"p_ballot": ballot.id, "p_user": actor.id, "p_choices": {"vote": vote}})
        return None
    if not secret:
        write.execute(_PAPER, {"paper_id": secrets.token_hex(16), "p_ballot": ballot.id, "p_user": actor.id,
                               "p_choices": {"vote": vote}})
    return code


# --- closing and results ----------------------------------------------------------------------

def ballots_document(assembly: Assembly) -> dict:
    """The publishable list of ballots: secret → votes, and apart from them the receipts'
    fingerprints; open → votes with the voters' names."""
    ballot = assembly.ballot
    items = list(assembly.items)
    rules = rules_of(ballot, items)
    papers = list(db.session.scalars(
        select(BallotPaper).options(joinedload(BallotPaper.voter)).where(BallotPaper.ballot_id == ballot.id)))
    votes = [paper.choices["vote"] for paper in papers]
    meta = {"assembly": assembly.title, "neighbourhood": assembly.neighbourhood.slug, "ballot": ballot.id,
            "secrecy": ballot.secrecy, "opens_at": ballot.opens_at.isoformat(),
            "closes_at": ballot.closes_at.isoformat(),
            "items": {str(item.id): item.title for item in items}}
    if ballot.secrecy == Secrecy.SECRET.value:
        receipts = list(db.session.scalars(select(Participation.receipt_hash).where(
            Participation.ballot_id == ballot.id, Participation.receipt_hash.is_not(None))))
        return tally.ballots_document(rules, votes, receipts, meta)
    meta["voters"] = sorted(paper.voter.display_name for paper in papers)
    return tally.ballots_document(rules, votes, None, meta)


def _empty_ballot_box(ballot: Ballot) -> None:
    """Open every sealed envelope and put the votes into the ballot box in one statement, in
    an order drawn at random, with random keys; then destroy the envelopes."""
    rows = db.session.execute(select(Participation.user_id, Participation.sealed).where(
        Participation.ballot_id == ballot.id, Participation.sealed.is_not(None))).all()
    votes = [sealing.unseal(_seal_key(), ballot.id, user_id, envelope) for user_id, envelope in rows]
    secrets.SystemRandom().shuffle(votes)
    if votes:
        db.session.execute(insert(BallotPaper), [
            {"id": secrets.token_hex(16), "ballot_id": ballot.id, "voter_id": None, "choices": {"vote": vote}}
            for vote in votes])
    db.session.execute(update(Participation).where(Participation.ballot_id == ballot.id)
                       .values(sealed=None).execution_options(synchronize_session=False))


def close_ballot(assembly: Assembly, now: dt.datetime) -> BallotResult | None:
    """Close and count once, in one transaction: claim the ballot row (`closed_at`), which
    waits for every vote still being stored and turns away every later one; empty the
    sealed envelopes into the ballot box; count; store the result. Returns None when the
    window has not closed yet or another closer has already claimed the ballot."""
    ballot = assembly.ballot
    claimed = db.session.execute(
        update(Ballot).where(Ballot.id == ballot.id, Ballot.closed_at.is_(None), Ballot.closes_at <= now)
        .values(closed_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    set_committed_value(ballot, "closed_at", now)
    if ballot.secrecy == Secrecy.SECRET.value:
        _empty_ballot_box(ballot)
    document = ballots_document(assembly)
    result = tally.tally_document(document)
    stored = BallotResult(ballot_id=ballot.id, computed_at=now, digest=tally.digest(document),
                          result=result.to_dict(), document=document)
    db.session.add(stored)
    db.session.flush()
    move_status(assembly, AssemblyStatus.VOTING, AssemblyStatus.CLOSED, now)
    accepted = set(result.accepted)
    for item in assembly.items:
        item.outcome = "accepted" if str(item.id) in accepted else "rejected"
        if item.proposal is not None and item.proposal.status == ProposalStatus.ON_AGENDA.value:
            to = ProposalStatus.ACCEPTED if item.outcome == "accepted" else ProposalStatus.REJECTED
            proposals.transition(item.proposal, to, None, now, assembly.title)
            proposals.notify_followers(item.proposal, "proposal_status", now, status=to.value)
    db.session.flush()
    return stored


def advance(assembly: Assembly, now: dt.datetime) -> Assembly:
    """Open or close voting when the server clock passes the window (idempotent, race-safe).

    Run by the scheduler (`flask assemblies tick`), never by reading a page: closing counts
    the votes, exactly once (see `close_ballot`).
    """
    open_if_due(assembly, now)
    ballot = assembly.ballot
    if ballot is not None and assembly.status == AssemblyStatus.VOTING.value and now >= ballot.closes_at:
        close_ballot(assembly, now)
    return assembly


_RESULT = select(BallotResult).where(BallotResult.ballot_id == bindparam("ballot_id"))
# The session page shows the result, not the document of every counted ballot behind it (megabytes
# for a large vote): it is loaded only where it is read.
_RESULT_SHOWN = _RESULT.options(defer(BallotResult.document))


def result_of(assembly: Assembly, *, with_document: bool = True) -> BallotResult | None:
    if assembly.ballot is None:
        return None
    return db.session.scalar(_RESULT if with_document else _RESULT_SHOWN, {"ballot_id": assembly.ballot.id})


def receipt_counted(result: BallotResult, code: str) -> bool:
    return receipt_hash(code) in set(tally.receipts_of(result.document))


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

