from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assembly.accounts.models import User
from assembly.db import Base, intpk, one_of, utcnow
from assembly.lifecycle import Lifecycle
from assembly.neighbourhoods.models import Category, Neighbourhood


class ProposalStatus(str, enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    ON_AGENDA = "on_agenda"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FORWARDED = "forwarded"
    WITHDRAWN = "withdrawn"


S = ProposalStatus
PROPOSAL_LIFECYCLE: Lifecycle[ProposalStatus] = Lifecycle(
    "proposal", ProposalStatus,
    labels={S.DRAFT: _l("Draft"), S.OPEN: lazy_pgettext("proposal status", "Open"), S.ON_AGENDA: _l("On the agenda"),
            S.ACCEPTED: _l("Accepted"), S.REJECTED: _l("Rejected"), S.FORWARDED: _l("Forwarded"),
            S.WITHDRAWN: _l("Withdrawn")},
    # Moderation is not here: hiding changes what is shown, not the status. An open proposal
    # may be forwarded without a vote, with a public reason (cases.services.forward).
    transitions={S.DRAFT: {S.OPEN, S.WITHDRAWN}, S.OPEN: {S.ON_AGENDA, S.FORWARDED, S.WITHDRAWN},
                 S.ON_AGENDA: {S.OPEN, S.ACCEPTED, S.REJECTED}, S.ACCEPTED: {S.FORWARDED},
                 S.REJECTED: {S.FORWARDED}, S.FORWARDED: set(), S.WITHDRAWN: set()},
    groups={
        # What the public lists show.
        "listed": (S.OPEN, S.ON_AGENDA, S.ACCEPTED, S.REJECTED, S.FORWARDED),
        # What a visitor may filter the list by (drafts only ever show to their author).
        "filterable": (S.OPEN, S.ON_AGENDA, S.ACCEPTED, S.REJECTED, S.FORWARDED, S.WITHDRAWN),
        # Where comments are open.
        "discussable": (S.OPEN, S.ON_AGENDA, S.ACCEPTED, S.REJECTED, S.FORWARDED),
    },
)
del S


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(one_of("status", ProposalStatus), name="status"),
        CheckConstraint("hidden_reason IS NULL OR hidden_at IS NOT NULL", name="hidden_reason"),
        CheckConstraint("support_count >= 0 AND comment_count >= 0 AND report_count >= 0", name="counters"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="point_complete"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180)",
                        name="point_range"),
        # The lists show what is not hidden; the few hidden ones have an index of their own.
        Index("ix_proposals_list", "neighbourhood_id", "status", "published_at",
              sqlite_where=text("hidden_at IS NULL"), postgresql_where=text("hidden_at IS NULL")),
        Index("ix_proposals_hidden", "neighbourhood_id", "hidden_at",
              sqlite_where=text("hidden_at IS NOT NULL"), postgresql_where=text("hidden_at IS NOT NULL")),
        Index("ix_proposals_by_support", "neighbourhood_id", "support_count", "id"),
        Index("ix_proposals_by_comments", "neighbourhood_id", "comment_count", "id"),
        Index("ix_proposals_by_published", "neighbourhood_id", "published_at", "id"),
        # The map reads only proposals with a point; without this it would scan all the others.
        Index("ix_proposals_points", "neighbourhood_id", "published_at",
              sqlite_where=text("latitude IS NOT NULL"), postgresql_where=text("latitude IS NOT NULL")),
        Index("ix_proposals_category", "category_id", "published_at"),
        # One category's or one status's shown proposals in each order of the list: a narrowed list
        # of more than COUNT_CAP matches reads its page along these (migration 0025; fewer matches
        # are read through the filter and sorted in full, proposals.services._SORTED_IN_FULL).
        *(Index(f"ix_proposals_{name}", "neighbourhood_id", column, order, "id",
                sqlite_where=text("hidden_at IS NULL"), postgresql_where=text("hidden_at IS NULL"))
          for name, column, order in (("category_newest", "category_id", "published_at"),
                                      ("category_support", "category_id", "support_count"),
                                      ("category_comments", "category_id", "comment_count"),
                                      ("status_support", "status", "support_count"),
                                      ("status_comments", "status", "comment_count"))),
        # Proposals ready for an agenda, most supported first: the session page's candidates
        # and the list's "ready" filter.
        Index("ix_proposals_ready", "neighbourhood_id", "support_count", "id",
              sqlite_where=text("ready_at IS NOT NULL"), postgresql_where=text("ready_at IS NOT NULL")),
        Index("ix_proposals_author", "author_id"),
    )

    id: Mapped[intpk]
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address_text: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=ProposalStatus.DRAFT.value)
    # Hiding is about display only: a hidden proposal keeps its status and its place in the
    # agenda, the ballot and the forwarding. An empty reason means hidden automatically by reports.
    hidden_at: Mapped[dt.datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    support_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    comment_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    report_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    search_key: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]
    edited_at: Mapped[dt.datetime | None]
    ready_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    neighbourhood: Mapped[Neighbourhood] = relationship()
    author: Mapped[User] = relationship()
    category: Mapped[Category] = relationship()

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class ProposalVersion(Base):
    """The text of an open proposal before each edit, so readers can see what changed."""

    __tablename__ = "proposal_versions"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[dt.datetime]


class ProposalEvent(Base):
    """Every change of a proposal's status: who, when, why. Append-only."""

    __tablename__ = "proposal_events"
    __table_args__ = (Index("ix_proposal_events_proposal", "proposal_id", "id"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="RESTRICT"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class Support(Base):
    __tablename__ = "supports"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"), Index("ix_supports_user_id", "user_id"))

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"), Index("ix_follows_user_id", "user_id"))

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_proposal", "proposal_id", "id"),
        Index("ix_comments_parent_id", "parent_id"),
        CheckConstraint("report_count >= 0", name="report_count"),
    )

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[dt.datetime | None]
    deleted_at: Mapped[dt.datetime | None]
    hidden_at: Mapped[dt.datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    report_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    author: Mapped[User] = relationship()
    proposal: Mapped[Proposal] = relationship()


class Report(Base):
    """A verified resident's complaint about a proposal or a comment (exactly one) of their neighbourhood."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("(proposal_id IS NULL) <> (comment_id IS NULL)", name="one_target"),
        Index("uq_reports_proposal_reporter", "proposal_id", "reporter_id", unique=True,
              sqlite_where=text("comment_id IS NULL"), postgresql_where=text("comment_id IS NULL")),
        Index("uq_reports_comment_reporter", "comment_id", "reporter_id", unique=True,
              sqlite_where=text("comment_id IS NOT NULL"), postgresql_where=text("comment_id IS NOT NULL")),
        Index("ix_reports_queue", "neighbourhood_id", "resolved_at"),
    )

    id: Mapped[intpk]
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="CASCADE"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]

    reporter: Mapped[User] = relationship()
    proposal: Mapped[Proposal | None] = relationship()
    comment: Mapped[Comment | None] = relationship()


class ModerationAction(Base):
    """The public moderation log of a neighbourhood. Append-only."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        CheckConstraint("action IN ('hide', 'restore', 'auto_hide', 'dismiss')", name="action"),
        Index("ix_moderation_actions_log", "neighbourhood_id", "id"),
        Index("ix_moderation_actions_proposal", "proposal_id", "id"),  # a proposal's history
    )

    id: Mapped[intpk]
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhoods.id", ondelete="RESTRICT"))
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="RESTRICT"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    moderator: Mapped[User | None] = relationship()
    proposal: Mapped[Proposal | None] = relationship()
    comment: Mapped[Comment | None] = relationship()
