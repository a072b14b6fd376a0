"""Factories for the consultation tests (call inside an app context): Kadıköy with its council
and the police (each with staff), two consulted neighbourhoods and one that is not, each with a
muhtar and verified residents; sessions driven by the real services on the simulated clock of
`tests.assembly_factories` (prepared at PREPARED, voting from OPENS to CLOSES)."""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from assembly.accounts.models import User
from assembly.actors import SystemActor
from assembly.assemblies import services as assemblies
from assembly.assemblies import voting
from assembly.assemblies.models import Assembly
from assembly.consultations import services
from assembly.consultations.models import Consultation
from assembly.db import db
from assembly.neighbourhoods import structure
from assembly.neighbourhoods.models import Body, Municipality, Neighbourhood
from tests import factories
from tests.assembly_factories import CLOSES, DAY, OPENS, PREPARED

_seq = itertools.count(1)
DEADLINE = CLOSES + 2 * DAY
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class Hood:
    hood: Neighbourhood
    muhtar: User
    residents: list[User] = field(default_factory=list)


@dataclass
class ConsultationWorld:
    municipality: Municipality
    council: Body
    staff: User
    police: Body
    police_staff: User
    moda: Hood
    caferaga: Hood
    fenerbahce: Hood  # not consulted


def _hood(owner: Municipality, name: str, n: int) -> Hood:
    hood = structure.create_neighbourhood(
        SystemActor(), factories.now(), municipality=owner, slug=f"{name.lower()}-{n}", code=f"{name.upper()}{n}",
        names={"tr": name, "en": name}, default_locale="tr", quorum_percent=0, support_threshold=1)
    return Hood(hood, factories.muhtar(hood), [factories.resident(hood) for _ in range(3)])


def world() -> ConsultationWorld:
    n = next(_seq)
    now = factories.now()
    owner = structure.create_municipality(SystemActor(), now, code=f"KDK{n}", name="Kadıköy",
                                          timezone="Europe/Istanbul", default_locale="tr")
    council = structure.create_body(SystemActor(), now, municipality=owner, slug=f"council-{n}",
                                    name="Kadıköy Belediye Meclisi", kind="council")
    police = structure.create_body(SystemActor(), now, municipality=owner, slug=f"police-{n}",
                                   name="Kadıköy Emniyeti", kind="police")
    w = ConsultationWorld(owner, council, factories.staff(council), police, factories.staff(police),
                          _hood(owner, "Moda", n), _hood(owner, "Caferaga", n), _hood(owner, "Fenerbahce", n))
    db.session.flush()
    return w


def consultation(w: ConsultationWorld, storage: Path, *, deadline: dt.datetime = DEADLINE, **overrides) -> Consultation:
    values = dict(kind="budget", title="2031 bütçesi: Moda sahil parkı aydınlatması",
                  text="Sahil parkına **48 LED direk** için 2.400.000 TL.", deadline=deadline,
                  neighbourhood_ids=[w.moda.hood.id, w.caferaga.hood.id],
                  links=[services.Link("Bütçe taslağı", "https://kadikoy.example/butce-2031")],
                  files=[services.Upload("ek-1.pdf", PDF)], storage=storage)
    values.update(overrides)
    return services.create_consultation(w.staff, PREPARED, w.council, **values)


def session(h: Hood, item: Consultation | None = None, *, closes: dt.datetime = CLOSES) -> Assembly:
    """A draft session of the neighbourhood with the consultation on its agenda and a secret yes/no vote."""
    assembly = assemblies.create_assembly(h.muhtar, PREPARED, h.hood, title=f"Mahalle meclisi {next(_seq)}")
    if item is not None:
        services.put_on_agenda(h.muhtar, PREPARED, assembly, item)
    assemblies.set_ballot(h.muhtar, PREPARED, assembly, method="yes_no", secrecy="secret", opens_at=OPENS,
                          closes_at=closes, quorum_percent=0)
    return assembly


def counted(h: Hood, item: Consultation, votes: list[str]) -> Assembly:
    """A session that voted on the consultation (one vote per resident, in order) and was counted."""
    assembly = session(h, item)
    assemblies.announce(h.muhtar, PREPARED, assembly)
    voting.advance(assembly, OPENS)
    key = str(assembly.items[0].id)
    for minute, (voter, choice) in enumerate(zip(h.residents, votes), start=1):
        voting.cast_vote(voter, OPENS + minute * dt.timedelta(minutes=1), assembly, {key: choice})
    voting.advance(assembly, CLOSES)
    assert assembly.status == "closed"
    return assembly
