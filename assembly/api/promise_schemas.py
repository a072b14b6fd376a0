"""The API's contract for promises and programmes (see `api.schemas` for the conventions): what
`/api/v1/promises…` answers and the progress it accepts. The OpenAPI document is made from these."""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assembly.api.schemas import Answer, Hash, Timestamp
from assembly.promises.models import IndicatorKind, PromiseKind, PromiseStatus

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
Indicator = Literal[tuple(kind.value for kind in IndicatorKind)]  # type: ignore[valid-type]
State = Literal["not_started", "in_progress", "done", "overdue"]


class PromiseBody(Answer):
    slug: str
    name: str
    signed_at: Timestamp | None = Field(description="When the body signed; null while it has not.")


class PromiseNeighbourhood(Answer):
    slug: str
    name: str
    cosigned_at: Timestamp | None = Field(description="When the neighbourhood's muhtar co-signed.")


class MeetingOrigin(Answer):
    """The question of a meeting with bodies that a commitment answers (made at that meeting)."""

    meeting_id: int
    question_id: int
    url: str = Field(json_schema_extra={"format": "uri"}, description="The question on the meeting's public page.")


class Commitment(Answer):
    """One commitment: what the responsible bodies do, how it is measured, by when."""

    id: int
    url: str = Field(json_schema_extra={"format": "uri"}, description="The commitment on the public page.")
    position: int = Field(ge=1)
    title: str
    description: str
    responsible: list[str] = Field(description="Slugs of the responsible bodies.")
    indicator: Indicator = Field(description="count, yes_no (0 or 1), percent (0-100), or survey_question "
                                             "(a survey question's result, in percent).")
    indicator_label: str
    survey_question_id: int | None = Field(description="For survey_question: the question (of the surveys API).")
    survey_option: int | None = Field(description="For survey_question: the option (0-based) whose share is the "
                                                  "indicator.")
    baseline: float | None
    target: float | None
    current_value: float | None = Field(description="The latest value; for survey_question, the share in the "
                                                    "latest counted survey that asks the question.")
    progress: int = Field(ge=0, le=100)
    state: State
    overdue: bool = Field(description="Not done and past due_on (in the place's calendar).")
    due_on: dt.date
    budget: int | None = Field(description="Whole units of currency.")
    currency: str | None
    done_at: Timestamp | None
    updated_at: Timestamp
    event_count: int = Field(ge=0)
    made_at_meeting: MeetingOrigin | None = Field(description="For a commitment the body made at a meeting "
                                                              "with bodies, in answer to a question: that question.")


class CommitmentEvent(Answer):
    """One step of a commitment's hash-chained progress timeline."""

    seq: int = Field(ge=1)
    kind: Literal["committed", "progress", "done"]
    body: str | None = Field(description="Slug of the body that recorded the step (null for the terms).")
    actor: str
    note: str | None
    data: dict[str, Any] = Field(description="percent, value, evidence links and photos (per photo the SHA-256 of "
                                             "the stored photo and of its thumbnail: {photo, thumb}); for "
                                             "committed, the terms.")
    created_at: Timestamp
    prev_hash: Hash
    hash: Hash


class CommitmentWithEvents(Commitment):
    events: list[CommitmentEvent]


class PromiseSummary(Answer):
    id: int
    url: str = Field(json_schema_extra={"format": "uri"}, description="The public page.")
    kind: Literal[tuple(kind.value for kind in PromiseKind)]  # type: ignore[valid-type]
    status: Literal[tuple(status.value for status in PromiseStatus)]  # type: ignore[valid-type]
    locale: str
    title: str
    period_start: dt.date
    period_end: dt.date
    published_at: Timestamp | None
    updated_at: Timestamp


class Promise(PromiseSummary):
    summary: str = Field(description="Markdown.")
    booklet_pdf: str = Field(json_schema_extra={"format": "uri"}, description="The printable booklet as PDF.")
    report_dates: list[dt.date] = Field(description="When follow-up reports are due.")
    bodies: list[PromiseBody]
    neighbourhoods: list[PromiseNeighbourhood]
    proposals: list[int] = Field(description="Ids of the accepted proposals the promise answers.")
    surveys: list[int] = Field(description="Ids of the surveys whose results the promise answers.")
    commitments: list[Commitment]


class PromisePage(Answer):
    data: list[PromiseSummary]
    next_after_id: int | None = Field(description="Pass as `after_id` for the next page; null on the last page.")


class PromiseResponse(Answer):
    data: Promise


class CommitmentResponse(Answer):
    data: CommitmentWithEvents


class CommitmentEventResponse(Answer):
    data: CommitmentEvent


class PromiseListQuery(BaseModel):
    """The parameters of GET /api/v1/promises."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Promises per page.")
    after_id: int | None = Field(None, ge=0, le=2_147_483_647, description="next_after_id of the previous page.")


class ProgressInput(BaseModel):
    """Progress on a commitment your body is responsible for."""

    model_config = ConfigDict(extra="forbid")

    percent: int = Field(ge=0, le=100, description="How far the commitment is; 100 means done. Never lower "
                                                  "than before.")
    value: float | None = Field(None, ge=0, le=1_000_000_000, description="The indicator's new value: a whole "
                                "number for count, 0 or 1 for yes_no, 0-100 for percent; not for survey_question.")
    note: str | None = Field(None, max_length=2000, description="What was done (public).")
    evidence: list[str] = Field(default_factory=list, max_length=5,
                                description="Public links (https://…) to minutes, photos or statistics.")
