"""Factories for the promise tests (call inside an app context): a joint promise of the council and
the police of `tests.case_factories.world`, with a commitment by each, signed and published."""
from __future__ import annotations

import datetime as dt

from assembly.promises import services as promises
from assembly.promises.models import Promise
from tests.case_factories import CaseWorld

START = dt.date(2026, 1, 1)
END = dt.date(2027, 12, 31)


def draft(w: CaseWorld, now: dt.datetime, *, proposals=(), report_every_months: int | None = 6,
          title: str = "Güvenli Caferağa sözü") -> Promise:
    promise = promises.create_promise(
        w.staff, now, kind="promise", title=title, summary="Mahalle anketinde **aydınlatma** öne çıktı.",
        neighbourhoods=[w.hood], bodies=[w.body, w.other_body], period_start=START, period_end=END,
        report_every_months=report_every_months, proposals=list(proposals))
    promises.add_commitment(w.staff, now, promise, title="Sokak lambalarını yenilemek",
                            description="Moda Caddesi'ndeki 40 lamba LED ile değiştirilecek.", bodies=[w.body],
                            indicator_kind="count", indicator_label="Yenilenen lamba", baseline=0, target=40,
                            due_on=dt.date(2026, 6, 30), budget=1_200_000, currency="TRY")
    promises.add_commitment(w.other_staff, now, promise, title="Akşam devriyeleri",
                            description="Cuma ve cumartesi akşamları yaya devriye.", bodies=[w.other_body],
                            indicator_kind="yes_no", indicator_label="Devriye başladı mı?", baseline=0, target=1,
                            due_on=dt.date(2027, 6, 30))
    return promise


def published(w: CaseWorld, now: dt.datetime, **kwargs) -> Promise:
    promise = draft(w, now, **kwargs)
    promises.sign(w.staff, now, promise, w.body)
    promises.sign(w.other_staff, now, promise, w.other_body)
    promises.publish(w.staff, now, promise)
    return promise
