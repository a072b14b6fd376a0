"""Comments on proposals: one level of replies, a short edit window, deletion that keeps replies."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from assembly import permissions
from assembly.db import db
from assembly.errors import InvalidTransition, NotFound, ValidationFailed
from assembly.i18n import ngettext
from assembly.proposals.models import Comment, Proposal
from assembly.proposals.services import _bump, discussable, follow, notify_followers
from assembly.text import clean_plain, render_markdown

COMMENT_MAX = 5000


def _clean_body(body: str) -> str:
    text = clean_plain(body)
    if not text:
        raise ValidationFailed(_("Please write a comment."), "body")
    if len(text) > COMMENT_MAX:
        raise ValidationFailed(ngettext("A comment may be at most %(num)s character long.",
                                        "A comment may be at most %(num)s characters long.", COMMENT_MAX), "body")
    return text


def add_comment(actor, now: dt.datetime, proposal: Proposal, body: str, parent_id: int | None = None) -> Comment:
    permissions.require(actor, "comment", proposal)
    if not discussable(proposal):
        raise InvalidTransition(_("This proposal is not open for discussion."))
    text = _clean_body(body)
    parent = None
    if parent_id:
        parent = db.session.get(Comment, parent_id)
        if parent is None or parent.proposal_id != proposal.id:
            raise NotFound(_("The comment you reply to does not exist."))
        if parent.parent_id is not None:
            parent = db.session.get(Comment, parent.parent_id)  # replies stay one level deep
    comment = Comment(proposal_id=proposal.id, author_id=actor.id, parent_id=parent.id if parent else None,
                      body=text, body_html=render_markdown(text), created_at=now)
    db.session.add(comment)
    db.session.flush()
    _bump(Proposal.comment_count, proposal, +1)
    notify_followers(proposal, "proposal_comment", now, skip_user_id=actor.id, name=actor.display_name)
    follow(actor, now, proposal)
    return comment


def _own_comment(actor, comment: Comment) -> None:
    permissions.require(actor, "edit_comment", comment)
    if comment.deleted_at is not None:
        raise InvalidTransition(_("This comment has been deleted."))


def edit_window() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["COMMENT_EDIT_MINUTES"])


def can_still_edit(comment: Comment, now: dt.datetime) -> bool:
    return comment.deleted_at is None and comment.hidden_at is None and now - comment.created_at <= edit_window()


def edit_comment(actor, now: dt.datetime, comment: Comment, body: str) -> Comment:
    _own_comment(actor, comment)
    if not can_still_edit(comment, now):
        minutes = current_app.config["COMMENT_EDIT_MINUTES"]
        raise InvalidTransition(ngettext("Comments can only be edited within %(num)s minute of writing them.",
                                         "Comments can only be edited within %(num)s minutes of writing them.",
                                         minutes))
    comment.body = _clean_body(body)
    comment.body_html = render_markdown(comment.body)
    comment.edited_at = now
    db.session.flush()
    return comment


def delete_comment(actor, now: dt.datetime, comment: Comment) -> Comment:
    """The text goes; the place in the thread (and the replies) stay."""
    _own_comment(actor, comment)
    comment.body = ""
    comment.body_html = ""
    comment.deleted_at = now
    db.session.flush()
    _bump(Proposal.comment_count, comment.proposal, -1)
    return comment


def get_comment(proposal: Proposal, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.proposal_id != proposal.id:
        raise NotFound(_("There is no such comment."))
    return comment


_THREAD = (select(Comment).options(joinedload(Comment.author)).where(Comment.proposal_id == bindparam("proposal_id"))
           .order_by(func.coalesce(Comment.parent_id, Comment.id), Comment.id))  # built once


def thread(proposal: Proposal) -> list[tuple[Comment, list[Comment]]]:
    """Top-level comments with their replies, oldest first, in one query."""
    comments = list(db.session.scalars(_THREAD, {"proposal_id": proposal.id}))
    threads: list[tuple[Comment, list[Comment]]] = []
    by_id: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id is None:
            replies: list[Comment] = []
            threads.append((comment, replies))
            by_id[comment.id] = replies
        else:
            by_id.setdefault(comment.parent_id, []).append(comment)
    return threads
