"""Meetings' questions as owners of photos (`photos.owners`): the resident who asks attaches
photos with the question (the broken lamp, the blocked pavement); the meeting's organiser or the
muhtar of the asker's neighbourhood may hide one with a public reason."""
from __future__ import annotations

import datetime as dt

from assembly.db import db
from assembly.meetings import services
from assembly.meetings.models import Meeting, MeetingQuestion
from assembly.photos import services as photos
from assembly.photos import web as photo_web

KIND = "question"

photos.register_owner(photos.Owner(
    kind=KIND, load=lambda owner_id: db.session.get(MeetingQuestion, owner_id),
    attach_action="attach_question_photo", view_action="view_question_photos", hide_action="hide_question_photo",
    neighbourhood_id=lambda question: question.neighbourhood_id,
    url=lambda question: f"/meetings/{question.meeting_id}"))
photo_web.accepts_photos("meetings.ask")


def ask_with_photos(actor, now: dt.datetime, meeting: Meeting, *, body_id: int | None, text: str,
                    uploads: list[photos.Upload]) -> MeetingQuestion:
    """A question and its photos, all or nothing: the photos are checked before anything is written."""
    encoded = photos.prepare(uploads)
    question = services.ask(actor, now, meeting, body_id=body_id, text=text)
    photos.attach(actor, now, KIND, question, encoded)
    return question


def photos_of(question_ids) -> dict[int, list]:
    """The photos of a page's questions, in one statement."""
    return photos.photos_of(KIND, question_ids)
