"""Demo cases: accepted items forwarded to bodies, in every state of the lifecycle, one of them
overdue and one referred to a second body; and an API token for a council."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.cases import inbox, services
from assembly.db import db
from assembly.neighbourhoods.models import Body, BodyStaff, Neighbourhood
from assembly.proposals.models import Proposal


@dataclass
class DemoCase:
    proposal: str  # title
    body: str  # body slug
    note: str
    steps: list[tuple] = field(default_factory=list)  # (days ago, kind, fields)
    reason: str | None = None  # for items the assembly did not accept


CASES: dict[str, list[DemoCase]] = {
    "caferaga": [
        DemoCase("Moda Parkı'ndaki sokak ışıkları yanmıyor", "elektrik",
                 "Mahalle meclisi 4 evet oyuyla kabul etti. Arızalı altı direğin onarımını rica ederiz.",
                 [(32, "received", {"note": "Arıza kaydı açıldı."}),
                  (30, "decided", {"decision": "approved", "note": "Lambalar ve iki yeni LED armatür programa alındı."}),
                  (20, "in_progress", {"progress": 60, "note": "Dört direğin lambası değişti."})]),
        DemoCase("Moda Parkı'ndaki sokak ışıkları yanmıyor", "meclis",
                 "Parkın girişlerine kalıcı LED aydınlatma için belediye meclisinin kararı gerekiyor.",
                 [(31, "received", {}),
                  (6, "scheduled", {"meeting_in_days": 4, "agenda_number": "14",
                                    "note": "Aralık ayı meclis toplantısının gündemine alındı."})]),
        DemoCase("Yoğurtçu Parkı'na açık hava spor aletleri", "meclis",
                 "Oylamada kabul edilmedi ancak kırık aletler güvenlik sorunu yaratıyor.",
                 reason="Kırık spor aletleri çocuklar için tehlikeli; oylamadan bağımsız olarak incelenmesi gerekiyor."),
    ],
    "dolatabad": [
        DemoCase("استقرار کانکس پلیس در میدان نماز", "kalantari", "مصوبه نشست شورایاری محله.",
                 [(31, "received", {}),
                  (25, "decided", {"decision": "approved", "note": "کانکس در ضلع شمالی میدان مستقر می‌شود."}),
                  (18, "in_progress", {"progress": 50}),
                  (10, "done", {"note": "کانکس مستقر شد و از ۱۸ تا ۲۴ فعال است."})]),
        DemoCase("ساماندهی دستفروشان بلوار دولت‌آباد", "shahrdari", "مصوبه نشست شورایاری محله.",
                 [(30, "received", {}),
                  (25, "decided", {"decision": "referred", "refer_to": "kalantari",
                                   "note": "برخورد با سد معبر نیازمند همکاری پلیس است."})]),
    ],
    "jarntorget": [
        DemoCase("Bättre belysning och kameror vid Järntorget", "tekniska",
                 "Områdesstämman biföll förslaget. Belysningen är det första steget.",
                 [(2, "received", {"note": "Ärendet är fördelat till gatuenheten."})]),
        DemoCase("Bättre belysning och kameror vid Järntorget", "polisen",
                 "Frågan om kamerabevakning gäller polisen.",
                 [(30, "received", {}),
                  (21, "decided", {"decision": "approved",
                                   "note": "Polisen ansöker om kamerabevakning av Järntorget i medborgarlöftet."})]),
        DemoCase("Fler bänkar i Stadsparken", "fullmaktige", "Områdesstämman biföll förslaget.",
                 [(29, "received", {}),
                  (12, "decided", {"decision": "rejected",
                                   "note": "Ingen budget i år; förslaget tas upp i budgeten för nästa år."})]),
    ],
}

FORWARDED_DAYS_AGO = 33


def _staff_of(body: Body) -> User:
    return db.session.scalar(select(User).join(BodyStaff, BodyStaff.user_id == User.id)
                             .where(BodyStaff.body_id == body.id).order_by(User.id))


def load_cases(neighbourhood: Neighbourhood, muhtar: User, now: dt.datetime) -> int:
    bodies = {b.slug: b for b in db.session.scalars(select(Body).where(
        Body.municipality_id == neighbourhood.municipality_id))}
    specs = CASES.get(neighbourhood.slug, [])
    for spec in specs:
        proposal = db.session.scalar(select(Proposal).where(Proposal.neighbourhood_id == neighbourhood.id,
                                                            Proposal.title == spec.proposal))
        forwarded = now - dt.timedelta(days=FORWARDED_DAYS_AGO)
        case = services.forward(muhtar, forwarded, proposal, bodies[spec.body], spec.note, spec.reason)
        staff = _staff_of(case.body)
        for days_ago, kind, fields in spec.steps:
            when = now - dt.timedelta(days=days_ago)
            fields = dict(fields)
            if "meeting_in_days" in fields:
                fields["meeting_at"] = now + dt.timedelta(days=fields.pop("meeting_in_days"))
            if "refer_to" in fields:
                fields["refer_to"] = bodies[fields["refer_to"]]
            services.apply_event(staff, when, case, kind, fields)
    return len(specs)


def demo_api_token(now: dt.datetime) -> str | None:
    """A token for the Kadıköy council, so a newcomer can try the API at once."""
    body = db.session.scalar(select(Body).where(Body.slug == "meclis"))
    if body is None:
        return None
    _token, secret = inbox.create_token(_staff_of(body), now, body, "Demo token")
    return secret
