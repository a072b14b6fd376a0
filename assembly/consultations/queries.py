"""Every read of consultations: one page, one small constant number of statements."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import joinedload, selectinload

from assembly.assemblies import services as assemblies
from assembly.assemblies.models import AgendaItem, Assembly, Ballot
from assembly.cases.models import Case, CaseEvent
from assembly.consultations.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationDocument,
    ConsultedNeighbourhood,
)
from assembly.db import db
from assembly.errors import NotFound
from assembly.neighbourhoods.models import Body, Municipality, Neighbourhood

LIST_LIMIT = 100


def get_consultation(consultation_id: int) -> Consultation:
    consultation = db.session.scalar(
        select(Consultation).options(
            joinedload(Consultation.body).joinedload(Body.municipality),
            selectinload(Consultation.documents),
            selectinload(Consultation.neighbourhoods).joinedload(ConsultedNeighbourhood.neighbourhood))
        .where(Consultation.id == consultation_id))
    if consultation is None:
        raise NotFound(_("There is no such consultation."))
    return consultation


def get_document(consultation_id: int, document_id: int) -> ConsultationDocument:
    document = db.session.scalar(select(ConsultationDocument).where(
        ConsultationDocument.id == document_id, ConsultationDocument.consultation_id == consultation_id))
    if document is None:
        raise NotFound(_("There is no such document."))
    return document


@dataclass
class AnswerRow:
    """A neighbourhood's answer with the case it became and the body's decision on it."""

    answer: ConsultationAnswer
    case: Case | None
    decision_note: str | None


def answers(consultation: Consultation) -> list[AnswerRow]:
    """The answers, each with its case at the consulting body and the note of its latest decision."""
    rows = db.session.execute(
        select(ConsultationAnswer, Case)
        .options(joinedload(ConsultationAnswer.neighbourhood))
        .outerjoin(Case, and_(Case.consultation_answer_id == ConsultationAnswer.id,
                              Case.body_id == consultation.body_id))
        .where(ConsultationAnswer.consultation_id == consultation.id)
        .order_by(ConsultationAnswer.answered_at, ConsultationAnswer.id)).all()
    case_ids = [case.id for _answer, case in rows if case is not None]
    notes: dict[int, str | None] = {}
    if case_ids:
        for case_id, note in db.session.execute(
                select(CaseEvent.case_id, CaseEvent.note)
                .where(CaseEvent.case_id.in_(case_ids), CaseEvent.kind == "decided").order_by(CaseEvent.seq)):
            notes[case_id] = note  # the latest decision wins
    return [AnswerRow(answer, case, notes.get(case.id) if case else None) for answer, case in rows]


def neighbourhoods_of(body: Body) -> list[Neighbourhood]:
    """The neighbourhoods a body may consult: those of its municipality."""
    return list(db.session.scalars(select(Neighbourhood).where(Neighbourhood.municipality_id == body.municipality_id)
                                   .order_by(Neighbourhood.slug)))


def listed(*, municipality_code: str | None, neighbourhood_slug: str | None, limit: int) -> list[Consultation]:
    """For the API: newest first, optionally of one municipality or put to one neighbourhood."""
    query = (select(Consultation).join(Body, Body.id == Consultation.body_id)
             .options(joinedload(Consultation.body).joinedload(Body.municipality),
                      selectinload(Consultation.neighbourhoods).joinedload(ConsultedNeighbourhood.neighbourhood)))
    if municipality_code:
        query = query.join(Municipality, Municipality.id == Body.municipality_id).where(
            Municipality.code == municipality_code)
    if neighbourhood_slug:
        query = query.where(exists().where(
            ConsultedNeighbourhood.consultation_id == Consultation.id,
            ConsultedNeighbourhood.neighbourhood_id == select(Neighbourhood.id).where(
                Neighbourhood.slug == neighbourhood_slug).scalar_subquery()))
    return list(db.session.scalars(query.order_by(Consultation.created_at.desc(), Consultation.id.desc())
                                   .limit(limit)))


def of_body(body: Body, limit: int = LIST_LIMIT) -> list[Consultation]:
    return list(db.session.scalars(select(Consultation).where(Consultation.body_id == body.id)
                                   .order_by(Consultation.created_at.desc(), Consultation.id.desc()).limit(limit)))


def of_neighbourhood(neighbourhood: Neighbourhood, limit: int = LIST_LIMIT) -> list[tuple[Consultation, bool]]:
    """The consultations put to the neighbourhood, newest first, with whether it has answered."""
    answered = exists().where(ConsultationAnswer.consultation_id == Consultation.id,
                              ConsultationAnswer.neighbourhood_id == neighbourhood.id)
    return [(consultation, bool(done)) for consultation, done in db.session.execute(
        select(Consultation, answered.label("answered")).options(joinedload(Consultation.body))
        .join(ConsultedNeighbourhood, ConsultedNeighbourhood.consultation_id == Consultation.id)
        .where(ConsultedNeighbourhood.neighbourhood_id == neighbourhood.id)
        .order_by(Consultation.deadline.desc(), Consultation.id.desc()).limit(limit))]


def sessions_for_agenda(neighbourhood_id: int, now: dt.datetime, limit: int = 20) -> list[Assembly]:
    """The neighbourhood's sessions whose agenda can still change (voting not started)."""
    found = db.session.scalars(
        select(Assembly).options(joinedload(Assembly.ballot))
        .where(Assembly.neighbourhood_id == neighbourhood_id,
               Assembly.status.in_(assemblies.EDITABLE))
        .order_by(Assembly.created_at.desc()).limit(limit)).unique()
    return [assembly for assembly in found if assemblies.agenda_can_change(assembly, now)]


def agenda_items_of(consultation: Consultation, neighbourhood_id: int) -> list[tuple[Assembly, Ballot | None]]:
    """Sessions of the neighbourhood that have the consultation on their agenda."""
    return [(assembly, assembly.ballot) for assembly in db.session.scalars(
        select(Assembly).options(joinedload(Assembly.ballot))
        .join(AgendaItem, AgendaItem.assembly_id == Assembly.id)
        .where(AgendaItem.consultation_id == consultation.id, Assembly.neighbourhood_id == neighbourhood_id)
        .order_by(Assembly.created_at)).unique()]
