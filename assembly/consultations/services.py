"""Consultations: a body's staff put a draft to neighbourhoods; each neighbourhood's assembly
votes on it as an agenda item; the muhtar sends the count with the assembly's comment before
the deadline; the answer becomes a case at the body (`cases.services.forward_answer`).

Reads are in `assembly.consultations.queries`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assembly import permissions
from assembly.assemblies import services as assemblies
from assembly.assemblies.models import AgendaItem, Assembly, Ballot, BallotResult
from assembly.audit.services import record
from assembly.cases import services as cases
from assembly.cases.models import Case
from assembly.consultations.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationDocument,
    ConsultationKind,
    ConsultedNeighbourhood,
)
from assembly.db import db
from assembly.errors import InvalidTransition, ValidationFailed
from assembly.i18n import format_datetime, ngettext
from assembly.neighbourhoods.models import Body, Neighbourhood
from assembly.text import clean_plain, render_markdown

TITLE_LIMIT, TEXT_LIMIT, COMMENT_LIMIT = 200, 20000, 5000
MAX_DOCUMENTS = 10
MAX_PDF_BYTES = 2 * 1024 * 1024  # the request as a whole is bounded by MAX_CONTENT_LENGTH too
PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


# --- writing a consultation -------------------------------------------------------------------

def _check_link(link: Link, errors: dict) -> Link:
    title, url = clean_plain(link.title)[:TITLE_LIMIT], clean_plain(link.url)
    if not url.startswith(("https://", "http://")) or len(url) > 500 or any(c.isspace() for c in url):
        errors.setdefault("links", []).append(
            _("Give each document link as a web address starting with https:// (at most 500 characters)."))
    return Link(title or url[:TITLE_LIMIT], url)


def _check_upload(upload: Upload, errors: dict) -> Upload:
    """A PDF by its name and by its content (the first bytes of every PDF file), within the size."""
    name = clean_plain(Path(upload.filename or "").name)[:TITLE_LIMIT]
    if not name.lower().endswith(".pdf") or not upload.data.startswith(PDF_MAGIC):
        errors.setdefault("files", []).append(
            _("“%(name)s” is not a PDF file. Attach documents as PDF files.", name=name or "?"))
    elif len(upload.data) > MAX_PDF_BYTES:
        errors.setdefault("files", []).append(
            _("“%(name)s” is larger than %(size)s MB.", name=name, size=MAX_PDF_BYTES // (1024 * 1024)))
    return Upload(name, upload.data)


def _consulted(body: Body, neighbourhood_ids: list[int], errors: dict) -> list[Neighbourhood]:
    ids = sorted(set(neighbourhood_ids))
    found = list(db.session.scalars(select(Neighbourhood).where(
        Neighbourhood.id.in_(ids), Neighbourhood.municipality_id == body.municipality_id))) if ids else []
    if not ids:
        errors["neighbourhood_ids"] = [_("Choose at least one neighbourhood to consult.")]
    elif len(found) != len(ids):
        errors["neighbourhood_ids"] = [_("Choose neighbourhoods of this body's municipality.")]
    return found


def create_consultation(actor, now: dt.datetime, body: Body, *, kind: str, title: str, text: str,
                        deadline: dt.datetime | None, neighbourhood_ids: list[int], links: list[Link] = (),
                        files: list[Upload] = (), storage: Path) -> Consultation:
    """Publish a draft of `body` to neighbourhoods of its municipality. Uploaded PDF files are
    written to `storage` (under the instance folder) only after every check has passed."""
    permissions.require(actor, "manage_consultations", body)
    errors: dict[str | None, list[str]] = {}
    if kind not in {k.value for k in ConsultationKind}:
        errors["kind"] = [_("Choose a budget line or a zoning plan change.")]
    title = clean_plain(title)
    if not title or len(title) > TITLE_LIMIT:
        errors["title"] = [ngettext("Please give a title of at most %(num)s character.",
                                     "Please give a title of at most %(num)s characters.", TITLE_LIMIT)]
    text = clean_plain(text)
    if not text or len(text) > TEXT_LIMIT:
        errors["text"] = [ngettext("Please describe the draft in at most %(num)s character.",
                                    "Please describe the draft in at most %(num)s characters.", TEXT_LIMIT)]
    if deadline is None or deadline <= now:
        errors["deadline"] = [_("The deadline for answers must be in the future.")]
    neighbourhoods = _consulted(body, neighbourhood_ids, errors)
    links = [_check_link(link, errors) for link in links]
    files = [_check_upload(upload, errors) for upload in files]
    if len(links) + len(files) > MAX_DOCUMENTS:
        errors.setdefault("files", []).append(
            ngettext("At most %(num)s document.", "At most %(num)s documents.", MAX_DOCUMENTS))
    if errors:
        raise ValidationFailed(errors)
    consultation = Consultation(body_id=body.id, kind=kind, title=title, text=text, text_html=render_markdown(text),
                                deadline=deadline, created_by_id=actor.id, created_at=now)
    db.session.add(consultation)
    db.session.flush()
    db.session.add_all(ConsultedNeighbourhood(consultation_id=consultation.id, neighbourhood_id=hood.id)
                       for hood in neighbourhoods)
    position = 0
    for position, link in enumerate(links, start=1):
        db.session.add(ConsultationDocument(consultation_id=consultation.id, position=position, title=link.title,
                                            url=link.url))
    for position, upload in enumerate(files, start=position + 1):
        db.session.add(ConsultationDocument(consultation_id=consultation.id, position=position,
                                            title=upload.filename, **_store(upload, storage)))
    db.session.flush()
    record(actor, "consultation.create", consultation, now, body=body.id, title=title,
           neighbourhoods=[hood.id for hood in neighbourhoods], documents=len(links) + len(files))
    return consultation


def _store(upload: Upload, storage: Path) -> dict:
    """Write the file under a random name (never the uploaded one) and say where it is."""
    storage.mkdir(parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(16)}.pdf"
    (storage / stored_name).write_bytes(upload.data)
    return {"stored_name": stored_name, "size": len(upload.data), "sha256": hashlib.sha256(upload.data).hexdigest()}


# --- the neighbourhood's side -----------------------------------------------------------------

def is_consulted(consultation: Consultation, neighbourhood_id: int) -> bool:
    return db.session.scalar(select(ConsultedNeighbourhood.id).where(
        ConsultedNeighbourhood.consultation_id == consultation.id,
        ConsultedNeighbourhood.neighbourhood_id == neighbourhood_id)) is not None


def _check_open(consultation: Consultation, neighbourhood: Neighbourhood, now: dt.datetime) -> None:
    if not is_consulted(consultation, neighbourhood.id):
        raise ValidationFailed(_("This neighbourhood was not consulted on this draft."))
    if now > consultation.deadline:
        raise InvalidTransition(_("The deadline for answers passed on %(date)s. Nothing was sent.",
                                  date=format_datetime(consultation.deadline,
                                                       zone=neighbourhood.municipality.timezone)))


def put_on_agenda(actor, now: dt.datetime, assembly: Assembly, consultation: Consultation) -> AgendaItem:
    """The consultation as an item of a session's agenda: residents vote on it with the
    session's ballot, like on any proposal."""
    assemblies.check_agenda_open(actor, assembly, now)
    _check_open(consultation, assembly.neighbourhood, now)
    ballot = assembly.ballot
    if ballot is not None and ballot.closes_at > consultation.deadline:
        raise ValidationFailed(_("This session's vote closes after the deadline for answers. Choose an earlier "
                                 "session or change the voting times first."), "consultation_id")
    item = AgendaItem(assembly_id=assembly.id, consultation_id=consultation.id,
                      position=assemblies.next_position(assembly))
    try:
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError:
        raise ValidationFailed(_("This consultation is already on the agenda."), "consultation_id") from None
    db.session.expire(assembly, ["items"])
    record(actor, "consultation.agenda", assembly, now, consultation=consultation.id)
    return item


def counted_item(consultation: Consultation, neighbourhood_id: int) -> AgendaItem | None:
    """The latest counted agenda item of this consultation in a session of the neighbourhood."""
    return db.session.scalar(
        select(AgendaItem).join(Assembly, Assembly.id == AgendaItem.assembly_id)
        .join(Ballot, Ballot.assembly_id == Assembly.id).join(BallotResult, BallotResult.ballot_id == Ballot.id)
        .where(AgendaItem.consultation_id == consultation.id, Assembly.neighbourhood_id == neighbourhood_id,
               AgendaItem.outcome.is_not(None))
        .order_by(BallotResult.computed_at.desc()).limit(1))


def send_answer(actor, now: dt.datetime, consultation: Consultation, neighbourhood: Neighbourhood, *,
                comment: str) -> tuple[ConsultationAnswer, Case]:
    """The neighbourhood's answer: the count of its assembly's vote and the assembly's comment,
    sent before the deadline, once. It becomes a case at the consulting body."""
    permissions.require(actor, "answer_consultation", neighbourhood)
    _check_open(consultation, neighbourhood, now)
    item = counted_item(consultation, neighbourhood.id)
    if item is None:
        raise ValidationFailed(_("Put the consultation on a session's agenda first: the answer can be sent once "
                                 "that vote has been counted."))
    comment = clean_plain(comment)
    if not comment or len(comment) > COMMENT_LIMIT:
        raise ValidationFailed(ngettext("Please write the assembly's comment in at most %(num)s character.",
                                        "Please write the assembly's comment in at most %(num)s characters.",
                                        COMMENT_LIMIT), "comment")
    answer = ConsultationAnswer(
        consultation_id=consultation.id, neighbourhood_id=neighbourhood.id, agenda_item_id=item.id,
        vote_result=cases.vote_snapshot(AgendaItem.id == item.id), comment=comment,
        comment_html=render_markdown(comment), answered_by_id=actor.id, answered_at=now)
    try:  # one answer per neighbourhood: the database's unique constraint decides between two senders
        with db.session.begin_nested():
            db.session.add(answer)
    except IntegrityError:
        raise ValidationFailed(_("This neighbourhood has already answered this consultation.")) from None
    answer.neighbourhood, answer.consultation = neighbourhood, consultation
    case = cases.forward_answer(actor, now, answer, consultation.body, title=consultation.title)
    record(actor, "consultation.answer", answer, now, consultation=consultation.id, case=case.reference)
    return answer, case
