from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.accounts.models import User
from assembly.consultations.models import Consultation
from assembly.db import Base, intpk, one_of, utcnow
from assembly.lifecycle import Lifecycle
from assembly.neighbourhoods.models import Neighbourhood
from assembly.proposals.models import Proposal


class AssemblyStatus(str, enum.Enum):
    DRAFT = "draft"
    ANNOUNCED = "announced"
    VOTING = "voting"
    CLOSED = "closed"
    MINUTED = "minuted"


A = AssemblyStatus
ASSEMBLY_LIFECYCLE: Lifecycle[AssemblyStatus] = Lifecycle(
    "session", AssemblyStatus,
    labels={A.DRAFT: _l("Draft"), A.ANNOUNCED: _l("Announced"), A.VOTING: _l("Voting open"),
            A.CLOSED: _l("Voting closed"), A.MINUTED: _l("Minutes published")},
    # Voting opens and closes by the clock, in the scheduler's tick (assemblies.voting.advance).
    transitions={A.DRAFT: {A.ANNOUNCED}, A.ANNOUNCED: {A.VOTING}, A.VOTING: {A.CLOSED}, A.CLOSED: {A.MINUTED},
                 A.MINUTED: set()},
    groups={"editable": (A.DRAFT, A.ANNOUNCED)},  # the agenda may change (until voting starts)
)
del A


class BallotMethod(str, enum.Enum):
    YES_NO = "yes_no"
    APPROVAL = "approval"
    RANKED = "ranked"


class Secrecy(str, enum.Enum):
    OPEN = "open"
    SECRET = "secret"



class Assembly(Base):
    """One session of a neighbourhood assembly: agenda, optional meeting, minutes, ballot."""

    __tablename__ = "assemblies"
    __table_args__ = (
        CheckConstraint(one_of("status", AssemblyStatus), name="status"),
        CheckConstraint("meeting_end IS NULL OR meeting_start IS NOT NULL AND meeting_end > meeting_start",
                        name="meeting_times"),
        CheckConstraint("attendance IS NULL OR attendance >= 0", name="attendance"),
        Index("ix_assemblies_list", "neighbourhood_id", "status", "meeting_start"),
    )

    id: Mapped[intpk]
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=AssemblyStatus.DRAFT.value)
    meeting_start: Mapped[dt.datetime | None]
    meeting_end: Mapped[dt.datetime | None]
    place: Mapped[str | None] = mapped_column(String(300))
    online_link: Mapped[str | None] = mapped_column(String(500))
    minutes: Mapped[str | None] = mapped_column(Text)
    minutes_html: Mapped[str | None] = mapped_column(Text)
    attendance: Mapped[int | None] = mapped_column(Integer)
    bodies_present: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    announced_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    neighbourhood: Mapped[Neighbourhood] = relationship()
    ballot: Mapped[Ballot | None] = relationship(back_populates="assembly", uselist=False)
    items: Mapped[list[AgendaItem]] = relationship(back_populates="assembly", order_by="AgendaItem.position")


class AgendaItem(Base):
    """One item of a session's agenda: a resident's proposal, or a body's consultation
    (`assembly.consultations`) that the neighbourhood answers with this vote."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        UniqueConstraint("assembly_id", "proposal_id"),
        UniqueConstraint("assembly_id", "consultation_id"),
        CheckConstraint("(proposal_id IS NULL) <> (consultation_id IS NULL)", name="one_subject"),
        CheckConstraint("outcome IS NULL OR outcome IN ('accepted', 'rejected')", name="outcome"),
        CheckConstraint("paper_yes IS NULL OR (paper_yes >= 0 AND paper_no >= 0 AND paper_abstain >= 0)",
                        name="paper_counts"),
        Index("ix_agenda_items_proposal_id", "proposal_id"),
        Index("ix_agenda_items_consultation_id", "consultation_id"),
    )

    id: Mapped[intpk]
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="RESTRICT"))
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(10))
    # A count taken in the room (paper or show of hands), kept apart from online votes.
    paper_yes: Mapped[int | None] = mapped_column(Integer)
    paper_no: Mapped[int | None] = mapped_column(Integer)
    paper_abstain: Mapped[int | None] = mapped_column(Integer)
    paper_entered_at: Mapped[dt.datetime | None]

    assembly: Mapped[Assembly] = relationship(back_populates="items")
    proposal: Mapped[Proposal | None] = relationship()
    consultation: Mapped[Consultation | None] = relationship()

    @property
    def title(self) -> str:
        """What the item is called on the agenda, the ballot and the published ballots file."""
        return self.proposal.title if self.proposal_id is not None else self.consultation.title


class Ballot(Base):
    """The online vote of a session. Its rules are fixed when voting opens."""

    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint("assembly_id"),
        CheckConstraint(one_of("method", BallotMethod), name="method"),
        CheckConstraint(one_of("secrecy", Secrecy), name="secrecy"),
        CheckConstraint("closes_at > opens_at", name="window"),
        CheckConstraint("quorum_percent BETWEEN 0 AND 100", name="quorum_percent"),
        CheckConstraint("majority IN ('simple', 'two_thirds')", name="majority"),
        CheckConstraint("approval_k IS NULL OR approval_k >= 1", name="approval_k"),
        CheckConstraint("electorate IS NULL OR electorate >= 0", name="electorate"),
        CheckConstraint("turnout >= 0", name="turnout"),
        Index("ix_ballots_window", "closes_at"),
    )

    id: Mapped[intpk]
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(10))
    secrecy: Mapped[str] = mapped_column(String(10))
    opens_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime]
    quorum_percent: Mapped[int] = mapped_column(Integer)
    majority: Mapped[str] = mapped_column(String(12))
    approval_k: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[dt.datetime | None]
    # Set by the one closing transaction; a vote is stored only while it is empty.
    closed_at: Mapped[dt.datetime | None]
    electorate: Mapped[int | None] = mapped_column(Integer)
    turnout: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    assembly: Mapped[Assembly] = relationship(back_populates="ballot")


class Participation(Base):
    """Who voted (never what). One per voter and ballot, enforced by the database.

    In a secret ballot the vote waits here, sealed (`sealed`: authenticated encryption under
    a key that is not in the database, padded to one length per ballot), until the closing
    transaction opens every envelope, shuffles them into `BallotPaper`s and empties this
    column. `receipt_hash` is the fingerprint of the voter's receipt: it proves that the
    participation was counted, never what it said.
    """

    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("ballot_id", "user_id"), UniqueConstraint("receipt_hash"),
                      Index("ix_participations_user_id", "user_id"))

    id: Mapped[intpk]
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    voted_at: Mapped[dt.datetime]
    receipt_hash: Mapped[str | None] = mapped_column(String(64))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)

    user: Mapped[User] = relationship()


class BallotPaper(Base):
    """What was voted. For a secret ballot: no user, no time, no receipt, a random key, and
    written only by the closing transaction, all papers at once in shuffled order; on SQLite
    without the hidden rowid."""

    __tablename__ = "ballot_papers"
    __table_args__ = (
        UniqueConstraint("ballot_id", "voter_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"))
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    choices: Mapped[dict]

    voter: Mapped[User | None] = relationship()


class BallotResult(Base):
    """The tally, computed once after closing, with the digest of the ballots it counted."""

    __tablename__ = "ballot_results"
    __table_args__ = (UniqueConstraint("ballot_id"),)

    id: Mapped[intpk]
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="RESTRICT"))
    computed_at: Mapped[dt.datetime]
    digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict]
    document: Mapped[dict]
