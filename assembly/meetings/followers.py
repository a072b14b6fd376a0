"""Who follows a meeting's question — its author and its supporters — and telling them, each in
their own language (set-based, through the notifications outbox). Used by the meeting services
(an answer was recorded), by the case timeline (a case made from a question moved on) and by the
promises (progress on a commitment made at the meeting in answer to the question)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, union

from assembly.meetings.models import MeetingQuestion, QuestionSupport
from assembly.notifications.services import notify_all


def followers_of(question_id: int):
    """A SELECT of the user ids that follow the question."""
    authors = select(MeetingQuestion.author_id.label("user_id")).where(
        MeetingQuestion.id == question_id, MeetingQuestion.author_id.is_not(None))
    supporters = select(QuestionSupport.user_id).where(QuestionSupport.question_id == question_id)
    return select(union(authors, supporters).subquery().c.user_id)


def followers(question: MeetingQuestion):
    return followers_of(question.id)


def question_link(question: MeetingQuestion) -> str:
    return f"/meetings/{question.meeting_id}#question-{question.id}"


def notify_followers(question: MeetingQuestion, kind: str, now: dt.datetime, **params) -> int:
    return notify_all(followers(question), kind, now, link=question_link(question), **params)
