"""Factories for the case tests (call inside an app context): a municipality with a neighbourhood,
two bodies with staff, and proposals accepted or rejected by a real assembly vote.

Everything goes through the real services and flushes.
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from assembly.accounts.models import User
from assembly.assemblies import services as assemblies
from assembly.assemblies import voting
from assembly.cases import services as cases
from assembly.cases.models import Case
from assembly.actors import SystemActor
from assembly.db import db
from assembly.neighbourhoods import structure
from assembly.neighbourhoods.models import Body, Category, Municipality, Neighbourhood
from assembly.proposals import services as proposals
from assembly.proposals.models import Proposal
from assembly.proposals.services import ProposalInput
from tests import factories

_seq = itertools.count(1)
HOUR = dt.timedelta(hours=1)


@dataclass
class CaseWorld:
    municipality: Municipality
    hood: Neighbourhood
    muhtar: User
    category: Category
    author: User
    voter: User
    body: Body
    staff: User
    other_body: Body
    other_staff: User


def world(code: str = "KDK", hood_code: str = "CAFERAGA", answer_days: int = 30) -> CaseWorld:
    """Kadıköy's Caferağa with the council (answers within `answer_days`) and the police."""
    now = factories.now()
    n = next(_seq)
    owner = structure.create_municipality(SystemActor(), now, code=code, name="Kadıköy", timezone="Europe/Istanbul",
                                      default_locale="tr")
    hood = structure.create_neighbourhood(
        SystemActor(), now, municipality=owner, slug=f"caferaga-{n}", code=hood_code,
        names={"tr": "Caferağa", "en": "Caferağa", "fa": "جعفرآغا", "sv": "Caferağa"}, default_locale="tr",
        quorum_percent=0, support_threshold=1)
    kind = structure.create_category(SystemActor(), now, municipality=owner, slug=f"lighting-{n}",
                                 names={"tr": "Aydınlatma", "en": "Lighting", "fa": "روشنایی"}, default_body=None)
    council = structure.create_body(SystemActor(), now, municipality=owner, slug=f"council-{n}",
                                name="Kadıköy Belediye Meclisi", kind="council", answer_days=answer_days)
    police = structure.create_body(SystemActor(), now, municipality=owner, slug=f"police-{n}", name="Kadıköy Emniyeti",
                               kind="police")
    muhtar = factories.muhtar(hood)
    db.session.flush()
    return CaseWorld(municipality=owner, hood=hood, muhtar=muhtar, category=kind,
                     author=factories.resident(hood), voter=factories.resident(hood), body=council,
                     staff=factories.staff(council), other_body=police, other_staff=factories.staff(police))


def proposal(w: CaseWorld, now: dt.datetime, title: str | None = None,
             body: str = "Sokak lambaları yanmıyor.") -> Proposal:
    """An open proposal."""
    return proposals.create_proposal(w.author, now, w.hood, ProposalInput(
        title=title or f"Proposal {next(_seq)}", body=body, category_id=w.category.id), publish=True)


def voted(w: CaseWorld, now: dt.datetime, votes: dict[str, str]) -> list[Proposal]:
    """Proposals put to a yes/no vote of the assembly (one voter); returns them accepted/rejected.

    The vote opens at now + 1 h and closes at now + 2 h."""
    items = [proposal(w, now, title) for title in votes]
    for item in items:
        proposals.support(w.voter, now, item)
    session = assemblies.create_assembly(w.muhtar, now, w.hood, title=f"Assembly {next(_seq)}")
    for item in items:
        assemblies.add_agenda_item(w.muhtar, now, session, item.id)
    assemblies.set_ballot(w.muhtar, now, session, method="yes_no", secrecy="open", opens_at=now + HOUR,
                          closes_at=now + 2 * HOUR, quorum_percent=0)
    assemblies.announce(w.muhtar, now, session)
    voting.advance(session, now + HOUR)
    agenda = {item.proposal_id: str(item.id) for item in session.items}
    voting.cast_vote(w.voter, now + HOUR, session, {agenda[p.id]: choice for p, choice in zip(items, votes.values())})
    voting.advance(session, now + 2 * HOUR)
    for item in items:
        db.session.refresh(item)
    return items


def forwarded(w: CaseWorld, now: dt.datetime, title: str | None = None, body: Body | None = None) -> Case:
    """A case at `body` (the council by default) made from an open proposal, with a public reason."""
    return cases.forward(w.muhtar, now, proposal(w, now, title), body or w.body,
                         reason="Urgent: the street is dark at night.")


def walk(w: CaseWorld, case: Case, now: dt.datetime, until: str) -> Case:
    """Move a case through received → scheduled → decided (approved) → in_progress → done up to `until`."""
    steps = [
        ("received", {}),
        ("scheduled", {"meeting_at": now + 48 * HOUR, "agenda_number": "2026/41"}),
        ("decided", {"decision": "approved", "note": "Approved unanimously."}),
        ("in_progress", {"progress": 40}),
        ("done", {}),
    ]
    for number, (kind, fields) in enumerate(steps, start=1):
        cases.apply_event(w.staff, now + number * dt.timedelta(minutes=1), case, kind, fields)
        if kind == until:
            break
    return case
