"""Factories for the meeting tests (call inside an app context): Kadıköy with two covered
neighbourhoods and one that is not, the police, the municipality and the electricity company, each
with staff, and a Huzur meeting of the muhtars. Everything goes through the real services."""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from assembly.accounts.models import User
from assembly.actors import SystemActor
from assembly.db import db
from assembly.meetings import services as meetings
from assembly.meetings.models import Meeting, MeetingQuestion, MeetingStatus
from assembly.meetings.services import Invitation, MeetingInput
from assembly.neighbourhoods import structure
from assembly.neighbourhoods.models import Body, Category, Municipality, Neighbourhood
from assembly.promises import services as promises
from assembly.promises.models import Promise
from assembly.promises.services import MeetingCommitment
from tests import factories

_seq = itertools.count(1)
STARTS = dt.datetime(2026, 12, 10, 15, 0, tzinfo=dt.timezone.utc)  # 18:00 in Istanbul


@dataclass
class MeetingWorld:
    municipality: Municipality
    moda: Neighbourhood
    caferaga: Neighbourhood
    elsewhere: Neighbourhood  # of the same municipality, not covered
    muhtar: User  # of Moda, the organiser
    other_muhtar: User  # of Caferağa
    outside_muhtar: User  # of the uncovered neighbourhood
    police: Body
    municipality_body: Body
    electricity: Body
    police_staff: User
    electricity_staff: User
    resident: User  # of Moda
    neighbour: User  # of Caferağa
    outsider: User  # a resident of the uncovered neighbourhood
    category: Category
    meeting: Meeting

    def hood_input(self, **changes) -> MeetingInput:
        values = dict(title="Huzur Toplantısı – Moda ve Caferağa", starts_at=STARTS,
                      ends_at=STARTS + dt.timedelta(hours=2), place="Moda Kültür Merkezi",
                      neighbourhood_ids=[self.moda.id, self.caferaga.id],
                      invitations=[Invitation(self.police.id, "Komiser Ali Demir"),
                                   Invitation(self.municipality_body.id, "Zabıta Müdürü Fatma Şahin"),
                                   Invitation(self.electricity.id, "Bölge Sorumlusu Can Arslan")])
        values.update(changes)
        return MeetingInput(**values)


def world(locale: str = "tr", timezone: str = "Europe/Istanbul") -> MeetingWorld:
    now = factories.now()
    n = next(_seq)
    system = SystemActor()
    # "M" keeps the codes and addresses apart from other factories' Kadıköy (the consultation
    # tests make both worlds in one test, each numbered by its own counter).
    owner = structure.create_municipality(system, now, code=f"KDKM{n}", name="Kadıköy", timezone=timezone,
                                          default_locale=locale)

    def hood(slug: str, name: str) -> Neighbourhood:
        return structure.create_neighbourhood(system, now, municipality=owner, slug=f"{slug}-m{n}",
                                              code=f"{slug.upper()}M{n}", names={locale: name, "en": name},
                                              default_locale=locale)

    def body(slug: str, name: str, kind: str) -> Body:
        return structure.create_body(system, now, municipality=owner, slug=f"{slug}-{n}", name=name, kind=kind)

    moda, caferaga, elsewhere = hood("moda", "Moda"), hood("caferaga", "Caferağa"), hood("fikirtepe", "Fikirtepe")
    police = body("emniyet", "Kadıköy İlçe Emniyet Müdürlüğü", "police")
    municipality_body = body("belediye", "Kadıköy Belediyesi", "district")
    electricity = body("elektrik", "Elektrik Dağıtım A.Ş.", "utility")
    category = structure.create_category(system, now, municipality=owner, slug=f"lighting-{n}",
                                         names={"tr": "Aydınlatma", "en": "Lighting", "fa": "روشنایی"}, default_body=electricity)
    w = MeetingWorld(
        municipality=owner, moda=moda, caferaga=caferaga, elsewhere=elsewhere,
        muhtar=factories.muhtar(moda), other_muhtar=factories.muhtar(caferaga),
        outside_muhtar=factories.muhtar(elsewhere), police=police, municipality_body=municipality_body,
        electricity=electricity, police_staff=factories.staff(police), electricity_staff=factories.staff(electricity),
        resident=factories.resident(moda, factories.user(locale="tr")),
        neighbour=factories.resident(caferaga, factories.user(locale="fa")),
        outsider=factories.resident(elsewhere), category=category, meeting=None)  # type: ignore[arg-type]
    w.meeting = meetings.create_meeting(w.muhtar, now, owner, w.hood_input())
    db.session.flush()
    return w


def opened(w: MeetingWorld) -> Meeting:
    meetings.move(w.muhtar, factories.now(), w.meeting, MeetingStatus.OPEN)
    return w.meeting


def question(w: MeetingWorld, text: str = "Moda sahilinde sokak lambaları yanmıyor.", body: Body | None = None,
             author: User | None = None) -> MeetingQuestion:
    return meetings.ask(author or w.resident, factories.now(), w.meeting, body_id=(body or w.electricity).id,
                        text=text)


PROMISE_START = dt.date(2026, 1, 1)
PROMISE_END = dt.date(2027, 12, 31)


def promise(w: MeetingWorld, *, body: Body | None = None, staff: User | None = None,
            hoods: list[Neighbourhood] | None = None, publish: bool = True,
            title: str = "Aydınlık Moda sözü") -> Promise:
    """A promise of one body (the electricity company unless said) for Moda (unless said), with one
    commitment, signed and published (unless `publish=False`)."""
    body, staff = body or w.electricity, staff or w.electricity_staff
    now = factories.now()
    made = promises.create_promise(staff, now, kind="promise", title=title, summary="Sokaklar aydınlık olsun.",
                                   neighbourhoods=hoods or [w.moda], bodies=[body], period_start=PROMISE_START,
                                   period_end=PROMISE_END, report_every_months=6)
    promises.add_commitment(staff, now, made, title="Trafoları yenilemek", description="Üç trafo yenilenecek.",
                            bodies=[body], indicator_kind="count", indicator_label="Yenilenen trafo",
                            baseline=0, target=3, due_on=dt.date(2026, 9, 30))
    if publish:
        promises.sign(staff, now, made, body)
        promises.publish(staff, now, made)
    return made


def terms(made: Promise | None, **changes) -> MeetingCommitment:
    """What the electricity company committed to at the meeting, in `made`."""
    values = dict(promise_id=made.id if made else None, title="Moda Parkı lambalarını onarmak",
                  indicator_kind="count", indicator_label="Onarılan lamba", baseline="0", target="12",
                  due_on=dt.date(2027, 3, 31))
    values.update(changes)
    return MeetingCommitment(**values)
