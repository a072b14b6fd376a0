"""Factories and checks for the proposals tests (call inside an app context).

Kept apart from tests/factories.py so the proposal tests can grow without touching the
shared factories; everything goes through the real services and flushes.
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from sqlalchemy import func, select

from assembly.accounts.models import User
from assembly.actors import SystemActor
from assembly.db import db
from assembly.neighbourhoods import structure
from assembly.neighbourhoods.models import Category, Neighbourhood
from assembly.proposals import services
from assembly.proposals.models import Comment, Proposal, Support
from assembly.proposals.services import ProposalInput
from tests import factories

_seq = itertools.count(1)

# Moda, Kadıköy: a small box the map tests can step out of.
BOUNDS = (40.9800, 29.0180, 40.9925, 29.0360)
INSIDE = (40.9838, 29.0265)
OUTSIDE = (41.0400, 29.0000)


def category(neighbourhood: Neighbourhood, slug: str | None = None) -> Category:
    slug = slug or f"category-{next(_seq)}"
    return structure.create_category(SystemActor(), factories.now(), municipality=neighbourhood.municipality,
                                 slug=slug, names={"tr": f"Kategori {slug}", "en": f"Category {slug}"},
                                 default_body=None)


@dataclass
class World:
    """One neighbourhood with a muhtar, a category and an author who is a verified resident."""

    hood: Neighbourhood
    muhtar: User
    category: Category
    author: User
    supporter: User | None = None  # made on first need: authors cannot support their own proposals

    def neighbour(self) -> User:
        """A verified resident besides the author, who supports what the author proposes."""
        if self.supporter is None:
            self.supporter = factories.resident(self.hood)
        return self.supporter


def world(slug: str | None = None, bounds=BOUNDS, **rules) -> World:
    hood = factories.neighbourhood(slug=slug, bounds=bounds, **rules)
    muhtar = factories.muhtar(hood)
    kind = category(hood)
    author = factories.resident(hood)
    db.session.flush()
    return World(hood=hood, muhtar=muhtar, category=kind, author=author)


def data(kind: Category, title: str | None = None, body: str = "The lamps on the sea side are broken.",
         point: tuple[float, float] | None = None, address: str | None = None) -> ProposalInput:
    latitude, longitude = point if point else (None, None)
    return ProposalInput(title=title or f"Proposal {next(_seq)}", body=body, category_id=kind.id,
                         latitude=latitude, longitude=longitude, address_text=address)


def proposal(w: World, author: User | None = None, *, publish: bool = True, now: dt.datetime | None = None,
             **fields) -> Proposal:
    return services.create_proposal(author or w.author, now or factories.now(), w.hood, data(w.category, **fields),
                                    publish=publish)


def recount(proposal_: Proposal) -> dict[str, int]:
    """The counters as a full recount computes them, next to the stored ones."""
    db.session.flush()
    supports = db.session.scalar(select(func.count()).select_from(Support)
                                 .where(Support.proposal_id == proposal_.id))
    comments = db.session.scalar(select(func.count()).select_from(Comment)
                                 .where(Comment.proposal_id == proposal_.id, Comment.deleted_at.is_(None)))
    stored = db.session.execute(select(Proposal.support_count, Proposal.comment_count)
                                .where(Proposal.id == proposal_.id)).one()
    return {"support_count": stored.support_count, "supports": supports,
            "comment_count": stored.comment_count, "comments": comments}


def assert_counters_match(proposal_: Proposal) -> None:
    counts = recount(proposal_)
    assert counts["support_count"] == counts["supports"], counts
    assert counts["comment_count"] == counts["comments"], counts
