"""The API's answers about bodies, cases and events, made through the models of `api.schemas`
(which are also their documentation): what is sent is what the OpenAPI document describes."""
from __future__ import annotations

import datetime as dt

from assembly.api import schemas
from assembly.cases import services as cases
from assembly.cases import wording
from assembly.cases.models import ApiToken, Case, CaseEvent
from assembly.i18n import current_locale, localized_name
from assembly.neighbourhoods.models import Body, Category
from assembly.surveys.services import shown_status
from assembly.urls import external_url


def body(body_: Body, token: ApiToken) -> dict:
    municipality = body_.municipality
    return schemas.BodyResponse(data=schemas.Body(
        slug=body_.slug, name=body_.name, kind=body_.kind, answer_days=body_.answer_days,
        municipality=schemas.Municipality(code=municipality.code, name=municipality.name),
        token=schemas.TokenInfo(name=token.name, prefix=token.prefix, created_at=token.created_at))).dump()


def service_code(category_: Category) -> str:
    """The Open311 service code: unique across municipalities, e.g. KDK.lighting."""
    return f"{category_.municipality.code}.{category_.slug}"


def _category(category_: Category | None) -> schemas.Category | None:
    if category_ is None:
        return None
    return schemas.Category(slug=category_.slug, name=localized_name(category_.names, category_.slug),
                            service_code=service_code(category_))


def _case_fields(case_: Case, categories: dict[int, Category], now: dt.datetime) -> dict:
    neighbourhood = case_.neighbourhood
    return {
        "reference": case_.reference,
        "url": external_url("cases.show", reference=case_.reference),
        "title": case_.title,
        "text": case_.text,
        "text_html": case_.text_html,
        "status": case_.status,
        "status_label": wording.status_label(case_.status, case_.decision, case_.body.kind),
        "decision": case_.decision,
        "progress": case_.progress,
        "overdue": cases.is_overdue(case_, now),
        "neighbourhood": schemas.Neighbourhood(slug=neighbourhood.slug, code=neighbourhood.code,
                                               name=neighbourhood.name_in(current_locale())),
        "category": _category(categories.get(case_.category_id)),
        "latitude": case_.latitude,
        "longitude": case_.longitude,
        "address": case_.address_text,
        "vote_result": case_.vote_result,
        "note": case_.note,
        "forward_reason": case_.forward_reason,
        "referred_from": case_.referred_from.reference if case_.referred_from else None,
        "forwarded_at": case_.forwarded_at,
        "due_at": case_.due_at,
        "received_at": case_.received_at,
        "decided_at": case_.decided_at,
        "done_at": case_.done_at,
        "council_meeting_at": case_.council_meeting_at,
        "agenda_number": case_.agenda_number,
        "council_record_url": case_.council_record_url,
        "updated_at": case_.updated_at,
        "event_count": case_.event_count,
    }


def case_page(found: list[Case], categories: dict[int, Category], now: dt.datetime, next_cursor: str | None) -> dict:
    return schemas.CasePage(data=[schemas.Case(**_case_fields(case_, categories, now)) for case_ in found],
                            next_cursor=next_cursor).dump()


def case_with_events(case_: Case, categories: dict[int, Category], now: dt.datetime,
                     timeline: list[CaseEvent]) -> dict:
    return schemas.CaseResponse(data=schemas.CaseWithEvents(
        **_case_fields(case_, categories, now), events=[_event(event_) for event_ in timeline])).dump()


def _event(event_: CaseEvent) -> schemas.Event:
    return schemas.Event(seq=event_.seq, kind=event_.kind, status=event_.status, actor=event_.actor_name,
                         note=event_.note, data=event_.data, created_at=event_.created_at,
                         prev_hash=event_.prev_hash, hash=event_.hash)


def event(event_: CaseEvent) -> dict:
    """The answer to a recorded event: {"data": event}."""
    return schemas.EventResponse(data=_event(event_)).dump()


# --- consultations ------------------------------------------------------------------------------------

def _neighbourhood(hood) -> schemas.Neighbourhood:
    return schemas.Neighbourhood(slug=hood.slug, code=hood.code, name=hood.name_in(current_locale()))


def _consultation_fields(consultation, now: dt.datetime) -> dict:
    body_ = consultation.body
    return {
        "id": consultation.id, "url": external_url("consultations.show", consultation_id=consultation.id),
        "kind": consultation.kind, "title": consultation.title,
        "body": schemas.ConsultingBody(slug=body_.slug, name=body_.name, municipality=schemas.Municipality(
            code=body_.municipality.code, name=body_.municipality.name)),
        "deadline": consultation.deadline, "open": now <= consultation.deadline,
        "created_at": consultation.created_at,
        "neighbourhoods": [_neighbourhood(c.neighbourhood) for c in consultation.neighbourhoods],
    }


def consultation_list(found: list, now: dt.datetime) -> dict:
    return schemas.ConsultationList(data=[schemas.Consultation(**_consultation_fields(c, now)) for c in found]).dump()


def _document(consultation, document) -> schemas.ConsultationDocument:
    if document.url:
        return schemas.ConsultationDocument(title=document.title, type="link", url=document.url, size=None)
    return schemas.ConsultationDocument(
        title=document.title, type="pdf", size=document.size,
        url=external_url("consultations.document", consultation_id=consultation.id, document_id=document.id))


def _answer(row) -> schemas.ConsultationAnswer:
    answer, case_ = row.answer, row.case
    return schemas.ConsultationAnswer(
        neighbourhood=_neighbourhood(answer.neighbourhood), answered_at=answer.answered_at, comment=answer.comment,
        comment_html=answer.comment_html, vote_result=answer.vote_result,
        case=case_.reference if case_ else None,
        case_url=external_url("cases.show", reference=case_.reference) if case_ else None,
        case_status=case_.status if case_ else None, decision=case_.decision if case_ else None,
        decision_note=row.decision_note)


def consultation_with_answers(consultation, rows: list, now: dt.datetime) -> dict:
    return schemas.ConsultationResponse(data=schemas.ConsultationWithAnswers(
        **_consultation_fields(consultation, now), text=consultation.text, text_html=consultation.text_html,
        documents=[_document(consultation, d) for d in consultation.documents],
        answers=[_answer(row) for row in rows])).dump()


# --- surveys ----------------------------------------------------------------------------------------

def _survey_fields(survey_, slug: str, now: dt.datetime) -> dict:
    return {"id": survey_.id, "title": survey_.title, "status": shown_status(survey_, now),
            "audience": survey_.audience, "opens_at": survey_.opens_at, "closes_at": survey_.closes_at,
            "counted": survey_.closed_at is not None,
            "neighbourhoods": [hood.slug for hood in survey_.neighbourhoods],
            "url": external_url("surveys.show", slug=slug, survey_id=survey_.id)}


def survey_list(surveys, slug: str, now: dt.datetime) -> dict:
    return schemas.SurveyList(data=[schemas.SurveySummary(**_survey_fields(s, slug, now)) for s in surveys]).dump()


def _options(rows) -> list[schemas.SurveyOption] | None:
    if rows is None:
        return None
    return [schemas.SurveyOption(option=row["option"], count=row["count"], percent=float(row["percent"]),
                                 mean_rank=None if row.get("mean_rank") is None else float(row["mean_rank"]))
            for row in rows]


def _number(value) -> float | None:
    return None if value is None else float(value)


def survey(survey_, results_, now: dt.datetime) -> dict:
    """A survey with its questions and, once counted, its aggregated results (never a questionnaire)."""
    slug = survey_.neighbourhoods[0].slug
    by_question = {r.question.id: r for r in results_.questions} if results_ is not None else {}
    questions = []
    for question in survey_.questions:
        result = by_question.get(question.id)
        total = result.total if result is not None else {}
        questions.append(schemas.SurveyQuestion(
            id=question.id, position=question.position, kind=question.kind, prompt=question.prompt,
            series=question.series, options=list(question.options), max_choices=question.max_choices,
            answered=total.get("answered"), rows=_options(total.get("rows")), mean=_number(total.get("mean")),
            groups=[schemas.SurveyGroup(key=g["key"], hidden=g["hidden"], questionnaires=g["questionnaires"],
                                        answered=g.get("answered"), rows=_options(g.get("rows")),
                                        mean=_number(g.get("mean"))) for g in (result.groups if result else [])],
            texts=list(result.texts) if result else []))
    return schemas.SurveyResponse(data=schemas.Survey(
        **_survey_fields(survey_, slug, now), description=survey_.description,
        respondents_online=survey_.respondents, paper_questionnaires=survey_.paper_count,
        questionnaires=results_.questionnaires if results_ is not None else None, questions=questions)).dump()
