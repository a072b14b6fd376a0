"""The API's contract as pydantic models: what the JSON API answers (bodies, cases, events,
errors), what it accepts (an event of each kind, generated from the declarations in
`assembly.cases.events`), its query parameters, and the Open311 documents.

The same models validate requests, serialise answers and, through their JSON Schema, make the
OpenAPI document (`api.openapi`): the document cannot describe something the code does not do.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from flask_babel import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from assembly.api.timestamps import parse_timestamp
from assembly.cases import events
from assembly.cases.events import EventField, EventKind, FieldType
from assembly.cases.models import CaseStatus
from assembly.neighbourhoods.models import BodyKind

STATUSES = tuple(status.value for status in CaseStatus)
Status = Literal[STATUSES]  # type: ignore[valid-type]
DecisionValue = Literal[events.DECISIONS]  # type: ignore[valid-type]


def timestamp(value: dt.datetime) -> str:
    """RFC 3339 in UTC with microseconds, e.g. 2026-11-24T09:30:00.000000Z."""
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


DATE_TIME = {"type": "string", "format": "date-time"}
Timestamp = Annotated[dt.datetime, PlainSerializer(timestamp, return_type=str), WithJsonSchema(DATE_TIME)]
Hash = Annotated[str, Field(pattern="^[0-9a-f]{64}$")]


class Answer(BaseModel):
    """Base of the answers: serialised with `dump`, in the field order declared here."""

    model_config = ConfigDict(extra="forbid")

    def dump(self) -> dict:
        return self.model_dump(mode="json")


# --- answers of the JSON API ---------------------------------------------------------------------

class Municipality(Answer):
    code: str
    name: str


class TokenInfo(Answer):
    name: str
    prefix: str
    created_at: Timestamp


class Body(Answer):
    """The body a token acts for."""

    slug: str
    name: str
    kind: Literal[tuple(kind.value for kind in BodyKind)]  # type: ignore[valid-type]
    answer_days: int
    municipality: Municipality
    token: TokenInfo


class BodyResponse(Answer):
    data: Body


class Neighbourhood(Answer):
    slug: str
    code: str
    name: str


class Category(Answer):
    slug: str
    name: str
    service_code: str = Field(examples=["KDK.lighting"])


class Case(Answer):
    """A forwarded item at your body."""

    reference: str = Field(examples=["KDK-CAFERAGA-2026-0042"])
    url: str = Field(json_schema_extra={"format": "uri"}, description="The public tracking page.")
    title: str
    text: str = Field(description="The proposal's text (Markdown) when it was forwarded.")
    text_html: str = Field(description="The same text as sanitised HTML.")
    status: Status
    status_label: str = Field(description="The status in words, in the request's language.")
    decision: DecisionValue | None
    progress: int = Field(ge=0, le=100)
    overdue: bool = Field(description="Not yet decided and past due_at.")
    neighbourhood: Neighbourhood
    category: Category | None
    latitude: float | None
    longitude: float | None
    address: str | None
    vote_result: dict[str, Any] = Field(description="Snapshot of the assembly's vote; empty when it was not "
                                                    "voted on.")
    note: str | None = Field(description="The muhtar's note when forwarding.")
    forward_reason: str | None = Field(description="Public reason for forwarding an item the assembly did "
                                                   "not accept.")
    referred_from: str | None = Field(description="Reference of the case that was referred here.")
    forwarded_at: Timestamp
    due_at: Timestamp = Field(description="The body's answer deadline.")
    received_at: Timestamp | None
    decided_at: Timestamp | None
    done_at: Timestamp | None
    council_meeting_at: Timestamp | None
    agenda_number: str | None
    council_record_url: str | None
    updated_at: Timestamp
    event_count: int = Field(ge=0)


class Event(Answer):
    """One step of a case's hash-chained timeline."""

    seq: int = Field(ge=1)
    kind: Literal[events.TIMELINE_KINDS]  # type: ignore[valid-type]
    status: Status = Field(description="The case's status after this event.")
    actor: str
    note: str | None
    data: dict[str, Any] = Field(description="The step's details, e.g. decision, meeting_at, progress.")
    created_at: Timestamp
    prev_hash: Hash = Field(description="hash of the previous event (64 zeros for the first).")
    hash: Hash = Field(description="SHA-256 of the event's canonical content, which includes prev_hash.")


class CaseWithEvents(Case):
    events: list[Event]


class CaseResponse(Answer):
    data: CaseWithEvents


class CasePage(Answer):
    data: list[Case]
    next_cursor: str | None


class EventResponse(Answer):
    data: Event


# --- surveys (public, aggregated results only) ----------------------------------------------------

SURVEY_STATES = ("scheduled", "open", "closed")
QUESTION_KINDS = ("single", "multiple", "scale", "ranking", "text")


class SurveyOption(Answer):
    option: str = Field(description="The option's text (for a 1–5 scale: the number).")
    count: int = Field(description="Answers choosing it; for a ranking, how often it was ranked first.")
    percent: float = Field(description="Of the people who answered the question, one decimal.")
    mean_rank: float | None = Field(None, description="Ranking only: its average place (1 = first).")


class SurveyGroup(Answer):
    key: str = Field(examples=["verified", "unverified", "paper", "neighbourhood:jarntorget"])
    hidden: bool = Field(description="True when the group is smaller than the server's SURVEY_MIN_GROUP: "
                                     "then only its size is given.")
    questionnaires: int
    answered: int | None = None
    rows: list[SurveyOption] | None = None
    mean: float | None = None


class SurveyQuestion(Answer):
    id: int
    position: int
    kind: Literal[QUESTION_KINDS]  # type: ignore[valid-type]
    prompt: str
    series: str | None = Field(None, description="The same key marks the same question in other surveys.")
    options: list[str]
    max_choices: int | None = None
    answered: int | None = Field(None, description="People who answered it (null until the survey is counted).")
    rows: list[SurveyOption] | None = None
    mean: float | None = Field(None, description="1–5 scale only: the average.")
    groups: list[SurveyGroup] = Field(default_factory=list)
    texts: list[str] = Field(default_factory=list, description="Free texts published by the muhtar.")


class SurveySummary(Answer):
    id: int
    title: str
    status: Literal[SURVEY_STATES]  # type: ignore[valid-type]
    audience: Literal["residents", "area"]
    opens_at: Timestamp
    closes_at: Timestamp
    counted: bool = Field(description="True once the survey has closed and its answers are counted.")
    neighbourhoods: list[str] = Field(description="The slugs of the neighbourhoods asked.")
    url: str = Field(json_schema_extra={"format": "uri"})


class Survey(SurveySummary):
    description: str
    respondents_online: int
    paper_questionnaires: int
    questionnaires: int | None = Field(None, description="Questionnaires counted (null until counted).")
    questions: list[SurveyQuestion]


class SurveyList(Answer):
    data: list[SurveySummary]


class SurveyResponse(Answer):
    data: Survey


class ErrorDetail(Answer):
    code: str = Field(examples=["invalid_transition"])
    message: str
    fields: dict[str, list[str]] | None = Field(None, description="The wrong fields or parameters (422 only).")


class Error(Answer):
    error: ErrorDetail


# --- consultations (public) -----------------------------------------------------------------------

class ConsultingBody(Answer):
    slug: str
    name: str
    municipality: Municipality


class ConsultationDocument(Answer):
    title: str
    type: Literal["link", "pdf"]
    url: str = Field(json_schema_extra={"format": "uri"}, description="The link, or the PDF's download address.")
    size: int | None = Field(description="Bytes of a PDF file; null for a link.")


class ConsultationAnswer(Answer):
    """A neighbourhood's answer, and what the body decided on it (the case it became)."""

    neighbourhood: Neighbourhood
    answered_at: Timestamp
    comment: str = Field(description="The assembly's comment (Markdown).")
    comment_html: str = Field(description="The same comment as sanitised HTML.")
    vote_result: dict[str, Any] = Field(description="The count of the assembly's vote on the draft: session, "
                                                    "outcome, counts, turnout, electorate, ballots digest.")
    case: str | None = Field(description="Reference of the case at the body.", examples=["KDK-MODA-2026-0007"])
    case_url: str | None = Field(json_schema_extra={"format": "uri"}, description="The case's public page.")
    case_status: Status | None
    decision: DecisionValue | None
    decision_note: str | None = Field(description="The body's reasons with its latest decision.")


class Consultation(Answer):
    """A draft (budget line, zoning change) a body put to neighbourhoods."""

    id: int
    url: str = Field(json_schema_extra={"format": "uri"}, description="The public page.")
    kind: Literal["budget", "zoning"]
    title: str
    body: ConsultingBody
    deadline: Timestamp = Field(description="Answers are refused after this time.")
    open: bool = Field(description="The deadline has not passed.")
    created_at: Timestamp
    neighbourhoods: list[Neighbourhood] = Field(description="The neighbourhoods consulted.")


class ConsultationWithAnswers(Consultation):
    text: str = Field(description="The draft (Markdown).")
    text_html: str = Field(description="The same text as sanitised HTML.")
    documents: list[ConsultationDocument]
    answers: list[ConsultationAnswer]


class ConsultationList(Answer):
    data: list[Consultation]


class ConsultationResponse(Answer):
    data: ConsultationWithAnswers


# --- what the JSON API accepts --------------------------------------------------------------------

def _offset_timestamp(value: str) -> dt.datetime:
    parsed = parse_timestamp(value, assume_utc=False)
    if parsed is None:
        raise ValueError("not a date-time with a UTC offset")
    return parsed


def _documented(field: EventField, **schema) -> dict:
    extra = {"maxLength": field.max_length} if field.max_length else {}
    return {**extra, **schema}


def _api_type(field: EventField):
    """The JSON type of an event field. Texts are only typed here: their limits count the cleaned
    text and are checked by `events.clean`; the document states them as maxLength."""
    if field.type == FieldType.DATETIME:
        return Annotated[str, AfterValidator(_offset_timestamp), WithJsonSchema(DATE_TIME)]
    if field.type == FieldType.PERCENT:
        return Annotated[int, Field(ge=0, le=100)]
    if field.type == FieldType.DECISION:
        return DecisionValue
    return str  # TEXT, URL, BODY (a body's slug)


def _api_field(kind: EventKind, field: EventField):
    schema = _documented(field, **({"pattern": "^https?://"} if field.type == FieldType.URL else {}))
    annotation = _api_type(field)
    if field.name in kind.required:
        return annotation, Field(description=field.description, json_schema_extra=schema or None)
    return annotation | None, Field(None, description=field.description, json_schema_extra=schema or None)


def _event_input(kind: EventKind) -> type[BaseModel]:
    return create_model(
        kind.schema_name, __doc__=kind.summary,
        __config__=ConfigDict(extra="forbid", strict=True, title=kind.schema_name),
        kind=(Literal[kind.name], ...),
        **{field.name: _api_field(kind, field) for field in kind.fields})


EVENT_INPUTS: dict[str, type[BaseModel]] = {name: _event_input(kind) for name, kind in events.KINDS.items()}


class EventInput(RootModel):
    """The next step of a case; `kind` says which, and which fields it takes."""

    root: Annotated[Union[tuple(EVENT_INPUTS.values())], Field(discriminator="kind")]  # noqa: UP007


def _invalid_message(field: EventField) -> str:
    if field.type == FieldType.DATETIME:
        return _("Give a date and time with its UTC offset, e.g. 2026-12-01T18:00:00+03:00.")
    if field.type == FieldType.PERCENT:
        return _("Progress is a percentage between 0 and 100.")
    if field.type == FieldType.DECISION:
        return _("Choose one of: %(choices)s.", choices=", ".join(events.DECISIONS))
    return _("Give text here.")


def event_input(kind: EventKind, payload: dict) -> tuple[dict, dict[str, list[str]]]:
    """The given fields of an event request of this kind (without kind; absent and null fields
    left out), and the problems of its shape, translated, by field."""
    try:
        parsed = EVENT_INPUTS[kind.name].model_validate(payload)
    except ValidationError as error:
        problems: dict[str, list[str]] = {}
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "kind"
            if problem["type"] == "extra_forbidden":
                message = _("This field is not used for events of kind %(kind)s.", kind=kind.name)
            elif problem["type"] == "missing" or (problem.get("input") is None and name in kind.required):
                message = _("This field is required for events of kind %(kind)s.", kind=kind.name)
            else:
                message = _invalid_message(kind.field(name))
            problems.setdefault(name, [message])
        return {}, problems
    return {name: value for name, value in parsed if name != "kind" and value is not None}, {}


# --- query parameters -----------------------------------------------------------------------------

DEFAULT_LIMIT, MAX_LIMIT, MAX_CURSOR_LENGTH = 50, 200, 200


class CaseListQuery(BaseModel):
    """The parameters of GET /api/v1/cases (read by `v1._list_parameters`)."""

    status: Status | None = Field(None, description="Only cases with this status.")
    updated_since: str | None = Field(None, description="Only cases changed at or after this time (UTC when no "
                                                        "offset is given).", json_schema_extra={"format": "date-time"})
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Cases per page.")
    cursor: str | None = Field(None, max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page.")


class ConsultationListQuery(BaseModel):
    """The parameters of GET /api/v1/consultations (read by `v1.list_consultations`)."""

    municipality: str | None = Field(None, max_length=12, description="Only this municipality's (its code).")
    # Not "neighbourhood": across the site that name is a neighbourhood's id (params.QUERY_INTEGERS).
    neighbourhood_slug: str | None = Field(None, max_length=60, description="Only those put to the neighbourhood "
                                                                            "with this slug.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="At most this many, newest first.")


class Open311Query(BaseModel):
    jurisdiction_id: str | None = Field(None, max_length=12, description="Optional: a municipality's code, to "
                                                                          "read only its data.")


class Open311RequestsQuery(Open311Query):
    service_request_id: str | None = Field(None, description="Reference numbers, comma-separated.")
    service_code: str | None = Field(None, description="Service codes, comma-separated.")
    start_date: str | None = Field(None, description="Earliest requested_datetime.",
                                   json_schema_extra={"format": "date-time"})
    end_date: str | None = Field(None, description="Latest requested_datetime.",
                                 json_schema_extra={"format": "date-time"})
    status: str | None = Field(None, pattern="^(open|closed)(,(open|closed))?$",
                               description="open, closed, or both comma-separated.")


# --- Open311 GeoReport v2 -------------------------------------------------------------------------

class Open311Service(Answer):
    service_code: str = Field(examples=["KDK.lighting"])
    service_name: str
    description: str
    metadata: Literal[False]
    type: Literal["realtime"]
    keywords: str
    group: str = Field(description="The municipality's name.")


class Open311Request(Answer):
    service_request_id: str = Field(description="The case's reference number.")
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str | None
    requested_datetime: str = Field(json_schema_extra={"format": "date-time"})
    updated_datetime: str = Field(json_schema_extra={"format": "date-time"})
    expected_datetime: str | None = Field(json_schema_extra={"format": "date-time"})
    address: str | None
    lat: float | None
    long: float | None


class Open311Endpoint(Answer):
    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class Open311Discovery(Answer):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Open311Endpoint]


class Open311Error(Answer):
    code: int
    description: str


class Open311Errors(RootModel):
    root: list[Open311Error]


class Open311Services(RootModel):
    root: list[Open311Service]


class Open311Requests(RootModel):
    root: list[Open311Request]


class Open311OneRequest(RootModel):
    root: Annotated[list[Open311Request], Field(min_length=1, max_length=1)]
