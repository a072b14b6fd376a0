"""JSON representations of bodies, cases and events for the API (see openapi.py for their schemas)."""
from __future__ import annotations

import datetime as dt

from assembly.cases import services as cases
from assembly.cases.models import ApiToken, Case, CaseEvent
from assembly.i18n import current_locale, localized_name
from assembly.neighbourhoods.models import Body, Category
from assembly.urls import external_url


def timestamp(value: dt.datetime | None) -> str | None:
    """RFC 3339 in UTC with microseconds, e.g. 2026-11-24T09:30:00.000000Z."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def body(body_: Body, token: ApiToken) -> dict:
    municipality = body_.municipality
    return {"slug": body_.slug, "name": body_.name, "kind": body_.kind, "answer_days": body_.answer_days,
            "municipality": {"code": municipality.code, "name": municipality.name},
            "token": {"name": token.name, "prefix": token.prefix, "created_at": timestamp(token.created_at)}}


def category(category_: Category | None) -> dict | None:
    if category_ is None:
        return None
    return {"slug": category_.slug, "name": localized_name(category_.names, category_.slug),
            "service_code": service_code(category_)}


def service_code(category_: Category) -> str:
    """The Open311 service code: unique across municipalities, e.g. KDK.lighting."""
    return f"{category_.municipality.code}.{category_.slug}"


def case(case_: Case, categories: dict[int, Category], now: dt.datetime) -> dict:
    neighbourhood = case_.neighbourhood
    return {
        "reference": case_.reference,
        "url": external_url("cases.show", reference=case_.reference),
        "title": case_.title,
        "text": case_.text,
        "text_html": case_.text_html,
        "status": case_.status,
        "status_label": cases.status_label(case_.status, case_.decision, case_.body.kind),
        "decision": case_.decision,
        "progress": case_.progress,
        "overdue": cases.is_overdue(case_, now),
        "neighbourhood": {"slug": neighbourhood.slug, "code": neighbourhood.code,
                          "name": neighbourhood.name_in(current_locale())},
        "category": category(categories.get(case_.category_id)),
        "latitude": case_.latitude,
        "longitude": case_.longitude,
        "address": case_.address_text,
        "vote_result": case_.vote_result,
        "note": case_.note,
        "forward_reason": case_.forward_reason,
        "referred_from": case_.referred_from.reference if case_.referred_from else None,
        "forwarded_at": timestamp(case_.forwarded_at),
        "due_at": timestamp(case_.due_at),
        "received_at": timestamp(case_.received_at),
        "decided_at": timestamp(case_.decided_at),
        "done_at": timestamp(case_.done_at),
        "council_meeting_at": timestamp(case_.council_meeting_at),
        "agenda_number": case_.agenda_number,
        "council_record_url": case_.council_record_url,
        "updated_at": timestamp(case_.updated_at),
        "event_count": case_.event_count,
    }


def event(event_: CaseEvent) -> dict:
    return {"seq": event_.seq, "kind": event_.kind, "status": event_.status, "actor": event_.actor_name,
            "note": event_.note, "data": event_.data, "created_at": timestamp(event_.created_at),
            "prev_hash": event_.prev_hash, "hash": event_.hash}

