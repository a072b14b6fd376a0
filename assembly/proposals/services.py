"""Proposals: writing, the lifecycle, supports, following, lists and search.

Services take the acting user and `now`, check the policy module, flush and never commit.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import String, bindparam, delete, func, literal_column, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from assembly import permissions
from assembly.accounts.models import User
from assembly.db import db
from assembly.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from assembly.i18n import ngettext
from assembly.neighbourhoods.models import Category, Membership, MembershipRole, MembershipStatus, Neighbourhood
from assembly.notifications.services import notify, notify_all, register_message
from assembly.proposals import search
from assembly.proposals.models import (
    PROPOSAL_LIFECYCLE,
    Follow,
    Proposal,
    ProposalEvent,
    ProposalStatus,
    ProposalVersion,
    Support,
)
from assembly.text import clean_plain, fold, render_markdown, search_terms

S = ProposalStatus
TITLE_MAX = 200
BODY_MAX = 20000
ADDRESS_MAX = 200

# Until revision 0006 hiding was a status; events recorded then still name it.
FORMER_HIDDEN_STATUS = "hidden"


def _status_message(p: dict) -> str:
    return _("“%(title)s” is now: %(status)s.", title=p["title"], status=PROPOSAL_LIFECYCLE.label(p["status"]))


register_message("proposal_status", _status_message)


# --- the lifecycle -------------------------------------------------------------------

def transition(proposal: Proposal, to: ProposalStatus, actor, now: dt.datetime, reason: str | None = None) -> None:
    """Move a proposal to another status and record who, when and why."""
    current = ProposalStatus(proposal.status)
    PROPOSAL_LIFECYCLE.check(current, to, _("A proposal that is “%(current)s” cannot become “%(new)s”.",
                                            current=PROPOSAL_LIFECYCLE.label(current),
                                            new=PROPOSAL_LIFECYCLE.label(to)))
    # Conditional on the status we read, so two simultaneous moves cannot both apply.
    changed = db.session.execute(
        update(Proposal).where(Proposal.id == proposal.id, Proposal.status == current.value)
        .values(status=to.value, updated_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise InvalidTransition(_("The proposal was changed in the meantime. Please reload the page."))
    set_committed_value(proposal, "status", to.value)
    set_committed_value(proposal, "updated_at", now)
    db.session.add(ProposalEvent(proposal_id=proposal.id, actor_id=getattr(actor, "id", None),
                                 from_status=current.value, to_status=to.value, reason=reason, created_at=now))
    db.session.flush()


def notify_followers(proposal: Proposal, kind: str, now: dt.datetime, *, skip_user_id: int | None = None,
                     **params) -> None:
    """Tell every follower (but `skip_user_id`) in a few set-based statements, however many follow."""
    followers = select(Follow.user_id).where(Follow.proposal_id == proposal.id)
    if skip_user_id is not None:
        followers = followers.where(Follow.user_id != skip_user_id)
    notify_all(followers, kind, now, link=proposal_link(proposal), title=proposal.title, **params)


def proposal_link(proposal: Proposal) -> str:
    return f"/n/{proposal.neighbourhood.slug}/p/{proposal.id}"


# --- writing -----------------------------------------------------------------------

@dataclass
class ProposalInput:
    title: str
    body: str
    category_id: int | None
    latitude: float | None = None
    longitude: float | None = None
    address_text: str | None = None


def _validated(neighbourhood: Neighbourhood, data: ProposalInput) -> dict:
    errors: dict[str | None, list[str]] = {}
    title = clean_plain(data.title)
    body = clean_plain(data.body)
    if not title:
        errors.setdefault("title", []).append(_("Please give the proposal a title."))
    elif len(title) > TITLE_MAX:
        errors.setdefault("title", []).append(ngettext("The title may be at most %(num)s character long.",
                                                       "The title may be at most %(num)s characters long.", TITLE_MAX))
    if not body:
        errors.setdefault("body", []).append(_("Please describe the proposal."))
    elif len(body) > BODY_MAX:
        errors.setdefault("body", []).append(ngettext("The text may be at most %(num)s character long.",
                                                      "The text may be at most %(num)s characters long.", BODY_MAX))
    category = db.session.get(Category, data.category_id) if data.category_id else None
    if data.category_id is None:
        errors.setdefault("category_id", []).append(_("Choose the category that fits the proposal best."))
    elif category is None or category.municipality_id != neighbourhood.municipality_id:
        errors.setdefault("category_id", []).append(_("Choose one of the offered categories."))
    address = clean_plain(data.address_text or "") or None
    if address and len(address) > ADDRESS_MAX:
        errors.setdefault("address_text", []).append(
            ngettext("The address may be at most %(num)s character long.",
                     "The address may be at most %(num)s characters long.", ADDRESS_MAX))
    latitude, longitude = data.latitude, data.longitude
    if (latitude is None) != (longitude is None):
        errors.setdefault("latitude", []).append(_("Give both latitude and longitude, or neither."))
    elif latitude is not None:
        if not (math.isfinite(latitude) and math.isfinite(longitude)
                and -90 <= latitude <= 90 and -180 <= longitude <= 180):
            errors.setdefault("latitude", []).append(_("This is not a valid point on the map."))
        elif not neighbourhood.contains(latitude, longitude):
            errors.setdefault("latitude", []).append(
                _("The point lies outside the neighbourhood. Choose a place inside its area."))
    if errors:
        raise ValidationFailed(errors)
    return {"title": title, "body": body, "body_html": render_markdown(body), "category_id": category.id,
            "latitude": latitude, "longitude": longitude, "address_text": address,
            "search_key": fold(f"{title} {body} {address or ''}")}


def create_proposal(actor, now: dt.datetime, neighbourhood: Neighbourhood, data: ProposalInput,
                    publish: bool = True) -> Proposal:
    permissions.require(actor, "create_proposal", neighbourhood)
    values = _validated(neighbourhood, data)
    proposal = Proposal(neighbourhood_id=neighbourhood.id, author_id=actor.id, status=S.DRAFT.value,
                        created_at=now, updated_at=now, **values)
    db.session.add(proposal)
    db.session.flush()
    db.session.add(ProposalEvent(proposal_id=proposal.id, actor_id=actor.id, from_status=None,
                                 to_status=S.DRAFT.value, created_at=now))
    follow(actor, now, proposal)
    if publish:
        publish_proposal(actor, now, proposal)
    return proposal


def publish_proposal(actor, now: dt.datetime, proposal: Proposal) -> Proposal:
    permissions.require(actor, "edit_proposal", proposal)
    transition(proposal, S.OPEN, actor, now)
    proposal.published_at = now
    db.session.flush()
    return proposal


def update_proposal(actor, now: dt.datetime, proposal: Proposal, data: ProposalInput) -> Proposal:
    """Drafts change freely. An open proposal may change only while nobody has supported or
    commented on it, and every such edit keeps the previous text as a version."""
    permissions.require(actor, "edit_proposal", proposal)
    if proposal.status not in (S.DRAFT.value, S.OPEN.value):
        raise InvalidTransition(_("This proposal can no longer be edited."))
    if proposal.status == S.OPEN.value and (proposal.support_count or proposal.comment_count):
        raise InvalidTransition(_("This proposal can no longer be edited: residents have already supported "
                                  "or discussed it."))
    values = _validated(proposal.neighbourhood, data)
    if proposal.status == S.OPEN.value:
        number = (db.session.scalar(select(func.max(ProposalVersion.number))
                                    .where(ProposalVersion.proposal_id == proposal.id)) or 0) + 1
        db.session.add(ProposalVersion(proposal_id=proposal.id, number=number, title=proposal.title,
                                       body=proposal.body, body_html=proposal.body_html, replaced_at=now))
        proposal.edited_at = now
    for key, value in values.items():
        setattr(proposal, key, value)
    proposal.updated_at = now
    db.session.flush()
    return proposal


def withdraw_proposal(actor, now: dt.datetime, proposal: Proposal, reason: str | None = None) -> Proposal:
    permissions.require(actor, "edit_proposal", proposal)
    transition(proposal, S.WITHDRAWN, actor, now, clean_plain(reason or "")[:500] or None)
    notify_followers(proposal, "proposal_status", now, skip_user_id=actor.id, status=S.WITHDRAWN.value)
    return proposal


def versions(proposal: Proposal) -> list[ProposalVersion]:
    return list(db.session.scalars(
        select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id)
        .order_by(ProposalVersion.number.desc())
    ))


_EVENTS = (select(ProposalEvent).options(joinedload(ProposalEvent.actor))
           .where(ProposalEvent.proposal_id == bindparam("proposal_id")).order_by(ProposalEvent.id))


def events(proposal: Proposal) -> list[ProposalEvent]:
    return list(db.session.scalars(_EVENTS, {"proposal_id": proposal.id}))


# --- supports and following --------------------------------------------------------------

def support(actor, now: dt.datetime, proposal: Proposal) -> int:
    """Add the resident's support; the database's unique constraint keeps it to one."""
    permissions.require(actor, "support_proposal", proposal)
    if proposal.status != S.OPEN.value:
        raise InvalidTransition(_("Only open proposals can be supported."))
    if proposal.hidden_at is not None:
        raise InvalidTransition(_("A hidden proposal cannot be supported."))
    try:
        with db.session.begin_nested():
            db.session.add(Support(proposal_id=proposal.id, user_id=actor.id, created_at=now))
    except IntegrityError:
        raise DomainError(_("You already support this proposal.")) from None
    count = _bump(Proposal.support_count, proposal, +1)
    _mark_ready_if_crossed(proposal, count, now)
    return count


def withdraw_support(actor, now: dt.datetime, proposal: Proposal) -> int:
    permissions.require(actor, "support_proposal", proposal)
    if proposal.status != S.OPEN.value:
        raise InvalidTransition(_("Supports can only be withdrawn while the proposal is open."))
    removed = db.session.execute(
        delete(Support).where(Support.proposal_id == proposal.id, Support.user_id == actor.id)
    ).rowcount
    if removed != 1:
        raise DomainError(_("You do not support this proposal."))
    return _bump(Proposal.support_count, proposal, -1)


def _bump(column, proposal: Proposal, delta: int) -> int:
    """Change a counter in the database (never read-modify-write) and return its new value."""
    value = db.session.execute(
        update(Proposal).where(Proposal.id == proposal.id).values({column.key: column + delta})
        .returning(column).execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(proposal, column.key, value)
    return value


def _mark_ready_if_crossed(proposal: Proposal, count: int, now: dt.datetime) -> None:
    neighbourhood = proposal.neighbourhood
    if count < neighbourhood.effective_support_threshold() or proposal.ready_at is not None:
        return
    marked = db.session.execute(
        update(Proposal).where(Proposal.id == proposal.id, Proposal.ready_at.is_(None)).values(ready_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != 1:
        return
    set_committed_value(proposal, "ready_at", now)
    muhtar_ids = db.session.scalars(
        select(Membership.user_id).where(
            Membership.neighbourhood_id == neighbourhood.id, Membership.role == MembershipRole.MUHTAR.value,
            Membership.status == MembershipStatus.VERIFIED.value)
    ).all()

    followers = set(db.session.scalars(select(Follow.user_id).where(Follow.proposal_id == proposal.id)))
    for user in db.session.scalars(select(User).where(User.id.in_(set(muhtar_ids) | followers))):
        notify(user, "proposal_ready", now, link=proposal_link(proposal), title=proposal.title, supports=count)


_SUPPORTED = select(Support.proposal_id).where(Support.user_id == bindparam("user_id"),
                                               Support.proposal_id.in_(bindparam("proposal_ids", expanding=True)))
_FOLLOWS = select(func.count()).select_from(Follow).where(Follow.user_id == bindparam("user_id"),
                                                          Follow.proposal_id == bindparam("proposal_id"))


def supported_ids(user, proposal_ids: list[int]) -> set[int]:
    if not proposal_ids or not getattr(user, "is_authenticated", False):
        return set()
    return set(db.read(_SUPPORTED, {"user_id": user.id, "proposal_ids": list(proposal_ids)}).scalars())


def follows(user, proposal: Proposal) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.read(_FOLLOWS, {"user_id": user.id, "proposal_id": proposal.id}).scalar() > 0


def follow(actor, now: dt.datetime, proposal: Proposal) -> None:
    permissions.require(actor, "follow", proposal)
    try:
        with db.session.begin_nested():
            db.session.add(Follow(proposal_id=proposal.id, user_id=actor.id, created_at=now))
    except IntegrityError:
        pass  # following twice is following


def unfollow(actor, now: dt.datetime, proposal: Proposal) -> None:
    permissions.require(actor, "follow", proposal)
    db.session.execute(delete(Follow).where(Follow.proposal_id == proposal.id, Follow.user_id == actor.id))


# --- reading ----------------------------------------------------------------------------

_WITH_AUTHOR_AND_CATEGORY = (joinedload(Proposal.author), joinedload(Proposal.category))
_IN_NEIGHBOURHOOD = (select(Proposal).options(*_WITH_AUTHOR_AND_CATEGORY)
                     .where(Proposal.id == bindparam("proposal_id"),
                            Proposal.neighbourhood_id == bindparam("neighbourhood_id")))


def get_proposal(viewer, neighbourhood: Neighbourhood, proposal_id: int) -> Proposal:
    proposal = db.session.scalar(_IN_NEIGHBOURHOOD, {"proposal_id": proposal_id, "neighbourhood_id": neighbourhood.id})
    if proposal is None or not permissions.can(viewer, "view_proposal", proposal):
        raise NotFound(_("There is no such proposal."))
    set_committed_value(proposal, "neighbourhood", neighbourhood)
    return proposal


SORTS = {
    "newest": (Proposal.published_at.desc(), Proposal.id.desc()),
    "supported": (Proposal.support_count.desc(), Proposal.id.desc()),
    "discussed": (Proposal.comment_count.desc(), Proposal.id.desc()),
}
# A narrowed list (a category, one status, the hidden, the ready) sorted in an order no index of
# that filter gives: the same order by expressions no index gives, so the database reads the matches
# through the filter's own index and sorts them (the count has said there are at most COUNT_CAP).
# Ordered by an indexed column instead, it walks the whole list in that order until it has found a
# page of matches: fast while the matches are spread, 250-400 ms at 10^6 proposals when they are at
# the end of the order (the oldest, the least supported). Newest first is the filters' indexes' own
# order (ix_proposals_list, _category, _hidden), but not the ready filter's on PostgreSQL (SQLite
# reads the ready ones through a subquery of their partial index).
_SORTED_IN_FULL = {
    "newest": SORTS["newest"],
    "supported": ((Proposal.support_count + literal_column("0")).desc(), Proposal.id.desc()),
    "discussed": ((Proposal.comment_count + literal_column("0")).desc(), Proposal.id.desc()),
}
_READY_NEWEST_POSTGRESQL = ((Proposal.published_at + literal_column("interval '0 seconds'")).desc(), Proposal.id.desc())
# Not a status: the list filter for proposals hidden by moderation, whatever their status.
HIDDEN_FILTER = "hidden"
PAGE_SIZE = 20
COUNT_CAP = 10_000
MAX_PAGE = COUNT_CAP // PAGE_SIZE
RELEVANCE = "relevant"  # the order of a search when no other is chosen


@dataclass
class ProposalFilters:
    query: str = ""
    category_id: int | None = None
    status: str | None = None
    supported_by_me: bool = False
    followed: bool = False
    ready: bool = False
    mine: bool = False
    sort: str = ""  # "" = newest, or best match first for a search
    page: int = 1


@dataclass(frozen=True, slots=True)
class ListedAuthor:
    display_name: str


@dataclass(frozen=True, slots=True)
class ListedCategory:
    slug: str
    names: dict


@dataclass(frozen=True, slots=True)
class ListedProposal:
    """A proposal as a list shows it: read as a row of the columns its card shows (and those
    `web.proposal_title` and the policy read of a hidden one), not as an ORM object with its text."""
    id: int
    neighbourhood_id: int
    author_id: int
    title: str
    status: str
    latitude: float | None
    longitude: float | None
    hidden_at: dt.datetime | None
    ready_at: dt.datetime | None
    published_at: dt.datetime | None
    created_at: dt.datetime
    support_count: int
    comment_count: int
    author: ListedAuthor
    category: ListedCategory

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None


# The columns of a listed proposal, then its author's name and its category (joined as the ORM's
# joinedload did: LEFT OUTER JOIN, so the database plans the list as before).
_LISTED_COLUMNS = (Proposal.id, Proposal.neighbourhood_id, Proposal.author_id, Proposal.title, Proposal.status,
                   Proposal.latitude, Proposal.longitude, Proposal.hidden_at, Proposal.ready_at,
                   Proposal.published_at, Proposal.created_at, Proposal.support_count, Proposal.comment_count,
                   User.display_name, Category.slug, Category.names)


def _listed(query):
    """`query` (a select of proposals) as the rows of `ListedProposal`."""
    return (query.with_only_columns(*_LISTED_COLUMNS)
            .outerjoin(User, User.id == Proposal.author_id).outerjoin(Category, Category.id == Proposal.category_id))


def _listed_rows(statement, values: dict) -> list[ListedProposal]:
    return [ListedProposal(*row[:13], ListedAuthor(row[13]), ListedCategory(row[14], row[15]))
            for row in db.read(statement, values)]


@dataclass
class ProposalPage:
    items: list[ListedProposal]
    total: int
    page: int
    pages: int
    capped: bool = False
    supported: set[int] = field(default_factory=set)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages  # a capped count stops at MAX_PAGE pages


@dataclass(frozen=True)
class _ListShape:
    """Which conditions a list of proposals has; its values are bound parameters, so the statements
    of one shape are built once (a page is mostly the same few shapes)."""
    mine: bool
    status: str  # "listed", "one" (a status), "hidden", or "any" (one's own, every status)
    category: bool
    ready: bool
    supported: bool
    followed: bool
    dialect: str  # the database's: some conditions are written for its planner


_LIST_PLACE, _LIST_VIEWER = bindparam("list_neighbourhood"), bindparam("list_viewer")
_LIST_STATUS, _LIST_CATEGORY = bindparam("list_status"), bindparam("list_category")
_list_queries: dict = {}


def _list_query(shape: _ListShape):
    query = select(Proposal).where(Proposal.neighbourhood_id == _LIST_PLACE)
    if shape.mine:
        query = query.where(Proposal.author_id == _LIST_VIEWER)
    if shape.status == "hidden":
        query = query.where(Proposal.hidden_at.is_not(None))
    elif shape.status == "one":
        query = query.where(Proposal.status == _LIST_STATUS)
        if not shape.mine:
            query = query.where(Proposal.hidden_at.is_(None))
    elif shape.status == "listed":
        query = query.where(Proposal.status.in_(PROPOSAL_LIFECYCLE.values("listed")), Proposal.hidden_at.is_(None))
    if shape.category:
        query = query.where(Proposal.category_id == _LIST_CATEGORY)
    if shape.ready and shape.dialect == "sqlite":
        # Few proposals are ready: found through their partial index (ix_proposals_ready), then
        # sorted (SQLite's planner would otherwise walk the whole list index looking for them).
        ready = select(Proposal.id).where(Proposal.neighbourhood_id == _LIST_PLACE, Proposal.ready_at.is_not(None))
        query = query.where(Proposal.id.in_(ready))
    elif shape.ready:
        # PostgreSQL checks the row itself: given the subquery, it walked the list newest first
        # and looked each proposal up again by its key to find the ready ones (62 ms at 10^6).
        query = query.where(Proposal.ready_at.is_not(None))
    if shape.supported:
        query = query.where(Proposal.id.in_(select(Support.proposal_id).where(Support.user_id == _LIST_VIEWER)))
    if shape.followed:
        query = query.where(Proposal.id.in_(select(Follow.proposal_id).where(Follow.user_id == _LIST_VIEWER)))
    return query


def _list_statements(shape: _ListShape, sort: str) -> tuple:
    """(the list's query, its capped count, one page of it in `sort` order, and the same page sorted
    in full for a narrowed list of at most COUNT_CAP matches or None), built once per shape."""
    key = (shape, sort)
    found = _list_queries.get(key)
    if found is None:
        query = _list_query(shape)
        count = select(func.count()).select_from(query.with_only_columns(Proposal.id).limit(COUNT_CAP + 1).subquery())
        page = in_full = None
        if sort in SORTS:
            page = (_listed(query).order_by(*SORTS[sort])
                    .limit(bindparam("list_limit")).offset(bindparam("list_offset")))
            narrowed = shape.category or shape.ready or shape.status in ("one", "hidden")
            if narrowed:
                order = _READY_NEWEST_POSTGRESQL if (sort == "newest" and shape.ready
                                                     and shape.dialect == "postgresql") else _SORTED_IN_FULL[sort]
                in_full = page.order_by(None).order_by(*order)
                if shape.category and shape.dialect == "sqlite":
                    # SQLite knows only how many proposals a category has on average: given the
                    # category's proposals as a list of ids, it reads them and no other list.
                    of_category = aliased(Proposal)
                    in_full = in_full.where(Proposal.id.in_(select(of_category.id).where(
                        of_category.category_id == _LIST_CATEGORY, of_category.neighbourhood_id == _LIST_PLACE)))
        found = _list_queries[key] = (query, count, page, in_full)
    return found


def list_proposals(viewer, neighbourhood: Neighbourhood, filters: ProposalFilters) -> ProposalPage:
    """One page of proposals: a count and a page query plus one for the viewer's supports,
    whatever the number of proposals (no query per row)."""
    authenticated = getattr(viewer, "is_authenticated", False)
    mine = bool(filters.mine and authenticated)
    if filters.status == HIDDEN_FILTER:
        status = "hidden"
    elif mine:
        status = "one" if filters.status else "any"
    elif PROPOSAL_LIFECYCLE.contains("filterable", filters.status or ""):
        status = "one"
    else:
        status = "listed"
    shape = _ListShape(mine=mine, status=status, category=bool(filters.category_id), ready=bool(filters.ready),
                       supported=bool(filters.supported_by_me and authenticated),
                       followed=bool(filters.followed and authenticated),
                       dialect=db.session.get_bind().dialect.name)
    values = {"list_neighbourhood": neighbourhood.id, "list_viewer": viewer.id if authenticated else None,
              "list_status": filters.status, "list_category": filters.category_id}
    terms = search_terms(filters.query)
    if terms:
        query = _list_statements(shape, "")[0]
        clauses, indexed = search.conditions(terms, neighbourhood.id)
        if indexed:
            query = query.where(*clauses)
        else:  # only words of one or two letters: no index can find them; bound the scan
            newest = (query.with_only_columns(Proposal.id, Proposal.search_key).order_by(Proposal.id.desc())
                      .limit(search.SHORT_QUERY_SCAN).subquery())
            # Matched on the bounded subquery's rows: PostgreSQL cannot push the LIKE below its
            # LIMIT into a scan of the whole table.
            query = query.where(Proposal.id.in_(select(newest.c.id).where(*search.short_conditions(terms,
                                                                                                   newest.c))))
    sort = filters.sort if filters.sort in SORTS or (filters.sort == RELEVANCE and terms) else \
        (RELEVANCE if terms else "newest")
    if terms:
        return _search_page(viewer, query, values, terms, sort, filters.page)
    _query, count, listing, in_full = _list_statements(shape, sort)
    # Count at most COUNT_CAP matches, so the cost of a page does not grow with the data.
    total = db.session.scalar(count, values) or 0
    capped = total > COUNT_CAP
    if in_full is not None and not capped:  # few matches: sorted in full, not looked for along an index
        listing = in_full
    total = min(total, COUNT_CAP)
    pages = max(1, -(-total // PAGE_SIZE))
    # Deep pages are capped where the count stops: beyond MAX_PAGE, narrow the list instead.
    page = min(max(1, filters.page), MAX_PAGE if capped else pages)
    items = _listed_rows(listing, {**values, "list_limit": PAGE_SIZE, "list_offset": (page - 1) * PAGE_SIZE})
    return ProposalPage(items=items, total=total, page=page, pages=pages, capped=capped,
                        supported=supported_ids(viewer, [p.id for p in items]))


_BY_IDS = _listed(select(Proposal).where(Proposal.id.in_(bindparam("ids", expanding=True))))


def _search_page(viewer, query, values: dict, terms: list[str], sort: str, page_number: int) -> ProposalPage:
    """A page of search results in two statements: the matches' ids with the key they are
    ordered by (at most SEARCH_CAP + 1: the index yields no more), counted and ordered here,
    then the page's proposals."""
    cap = search.SEARCH_CAP
    published = type_coerce(func.coalesce(Proposal.published_at, Proposal.created_at), String)
    key = {RELEVANCE: search.rank(terms), "newest": published, "supported": -Proposal.support_count,
           "discussed": -Proposal.comment_count}[sort]
    # (key, ±id) tuples sort in their natural order; the timestamps stay as the database gives them.
    newest_first = sort == "newest"
    rows = db.session.execute(query.with_only_columns(key, Proposal.id if newest_first else -Proposal.id)
                              .order_by(Proposal.id.desc()).limit(cap + 1), values).all()
    capped = len(rows) > cap
    rows = rows[:cap]  # the newest `cap` (the statement returns them newest first)
    rows.sort(reverse=newest_first)
    total = len(rows)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page_number), pages)
    ids = [abs(row[1]) for row in rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]]
    found = {proposal.id: proposal for proposal in _listed_rows(_BY_IDS, {"ids": ids})} if ids else {}
    return ProposalPage(items=[found[number] for number in ids], total=total, page=page, pages=pages,
                        capped=capped, supported=supported_ids(viewer, ids))


MAP_POINTS = 500
# The points are found through their partial index first: asked in one query with the hidden filter,
# SQLite's planner walks the whole list by date instead when points are rare (seconds at 10^6).
_NEWEST_POINTS = (select(Proposal.id).where(Proposal.neighbourhood_id == bindparam("neighbourhood_id"),
                                            Proposal.status.in_(PROPOSAL_LIFECYCLE.values("listed")),
                                            Proposal.latitude.is_not(None))
                  .order_by(Proposal.published_at.desc()).limit(bindparam("limit")))
_MAP_POINTS = (select(Proposal.id, Proposal.title, Proposal.latitude, Proposal.longitude)
               .where(Proposal.id.in_(_NEWEST_POINTS), Proposal.hidden_at.is_(None))
               .order_by(Proposal.published_at.desc()))


def map_points(neighbourhood: Neighbourhood, limit: int = MAP_POINTS) -> list:
    """The newest `limit` listed proposals with a point, less any hidden among them: their id, title,
    latitude and longitude (rows, not proposals: up to 500 of them on every list page)."""
    return db.read(_MAP_POINTS, {"neighbourhood_id": neighbourhood.id, "limit": limit}).all()


_CATEGORIES = (select(Category.id, Category.slug, Category.names)
               .where(Category.municipality_id == bindparam("municipality_id")).order_by(Category.slug))


def categories_of(neighbourhood: Neighbourhood) -> list:
    """The categories a proposal of the neighbourhood may have: rows of id, slug and names (the
    choices of the list's filter and of the writing form)."""
    return db.read(_CATEGORIES, {"municipality_id": neighbourhood.municipality_id}).all()


_FEED = (select(Proposal).options(*_WITH_AUTHOR_AND_CATEGORY)
         .where(Proposal.neighbourhood_id == bindparam("neighbourhood_id"),
                Proposal.status.in_(PROPOSAL_LIFECYCLE.values("listed")), Proposal.hidden_at.is_(None)))
_FEEDS = {False: _FEED.order_by(Proposal.published_at.desc()).limit(bindparam("limit")),
          True: _FEED.where(Proposal.category_id == bindparam("category_id"))
          .order_by(Proposal.published_at.desc()).limit(bindparam("limit"))}


def feed_entries(neighbourhood: Neighbourhood, category_id: int | None = None, limit: int = 50) -> list[Proposal]:
    return list(db.session.scalars(_FEEDS[bool(category_id)], {"neighbourhood_id": neighbourhood.id,
                                                              "category_id": category_id, "limit": limit}))


def discussable(proposal: Proposal) -> bool:
    return PROPOSAL_LIFECYCLE.contains("discussable", proposal.status) and proposal.hidden_at is None

