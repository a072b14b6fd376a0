"""Demo assembly sessions: for each main neighbourhood a closed session with results, a session
open for voting and an announced upcoming session with its meeting.

Everything goes through the services with a simulated clock, so the results are real tallies.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.assemblies import services, voting
from assembly.db import db
from assembly.neighbourhoods.models import Neighbourhood
from assembly.proposals.models import Proposal


@dataclass
class DemoSession:
    title: str
    agenda: list[str]  # proposal titles
    method: str
    secrecy: str
    opens_in_days: float  # relative to now; negative is in the past
    closes_in_days: float
    k: int | None = None
    place: str | None = None
    votes: dict[str, object] = field(default_factory=dict)  # login → vote, by agenda position ("1", "2" …)
    minutes: str | None = None
    attendance: int | None = None
    bodies_present: str | None = None


SESSIONS: dict[str, list[DemoSession]] = {
    "caferaga": [
        DemoSession(
            "Ekim ayı mahalle meclisi", ["Moda Parkı'ndaki sokak ışıkları yanmıyor",
                                         "Yoğurtçu Parkı'na açık hava spor aletleri"],
            "yes_no", "secret", -40, -35, place="Caferağa Muhtarlığı, Moda Caddesi",
            votes={"ayse": {"1": "yes", "2": "no"}, "mehmet": {"1": "yes", "2": "no"},
                   "zeynep": {"1": "yes", "2": "abstain"}, "emre": {"1": "yes", "2": "yes"}},
            minutes="Toplantıya 23 kişi katıldı. Emniyet ve elektrik dağıtım şirketinden temsilciler dinlendi.\n\n"
                    "- Moda Parkı aydınlatması kabul edildi ve elektrik şirketine iletilecek.\n"
                    "- Spor aletleri önerisi yeterli destek bulamadı.",
            attendance=23, bodies_present="İlçe Emniyet Müdürlüğü, Elektrik Dağıtım Şirketi"),
        DemoSession(
            "Kasım öncelik anketi", ["Bahariye Caddesi'ne yaya geçidi ve hız kesici",
                                     "Sokak hayvanları için mama ve su noktaları"],
            "approval", "open", -1, 5, k=1, votes={"ayse": ["1"], "mehmet": ["1"], "ilkay": ["2"]}),
        DemoSession(
            "Aralık ayı mahalle meclisi", ["Semt kütüphanesi hafta sonu da açık olsun"],
            "yes_no", "secret", 10, 14, place="Caferağa Spor Salonu toplantı odası"),
    ],
    "dolatabad": [
        DemoSession(
            "نشست ماهانه شورایاری — مهر", ["استقرار کانکس پلیس در میدان نماز", "ساماندهی دستفروشان بلوار دولت‌آباد"],
            "yes_no", "secret", -40, -35, place="سرای محله دولت‌آباد",
            votes={"reza": {"1": "yes", "2": "yes"}, "narges": {"1": "yes", "2": "no"},
                   "ali": {"1": "yes", "2": "yes"}, "fatemeh": {"1": "abstain", "2": "yes"}},
            minutes="در این نشست شهردار ناحیه و رئیس کلانتری حضور داشتند.\n\n"
                    "- استقرار کانکس پلیس تصویب شد.\n- ساماندهی دستفروشان به شهرداری منطقه ارجاع می‌شود.",
            attendance=31, bodies_present="شهرداری منطقه ۲۰، کلانتری ناحیه شهرری"),
        DemoSession(
            "اولویت‌بندی طرح‌های آبان", ["راه‌اندازی خانه محله برای کمک به نیازمندان", "روشنایی کوچه یاس"],
            "ranked", "secret", -1, 4, k=1, votes={"reza": [["2"], ["1"]], "narges": [["1"], ["2"]],
                                                   "ali": [["2"], ["1"]]}),
        DemoSession(
            "نشست ماهانه شورایاری — آذر", ["کلاس آموزش رایانه برای سالمندان"],
            "yes_no", "secret", 12, 16, place="سرای محله دولت‌آباد"),
    ],
    "jarntorget": [
        DemoSession(
            "Områdesstämma i oktober", ["Bättre belysning och kameror vid Järntorget", "Fler bänkar i Stadsparken"],
            "yes_no", "open", -40, -35, place="Medborgarhuset, Järntorget",
            votes={"erik": {"1": "yes", "2": "yes"}, "amina": {"1": "yes", "2": "no"},
                   "lars": {"1": "no", "2": "yes"}, "sofia": {"1": "yes", "2": "yes"}},
            minutes="Polisen och kommunen presenterade medborgarlöftet för city.\n\n"
                    "- Belysningen vid Järntorget prioriteras.\n- Fler bänkar i Stadsparken bifölls.",
            attendance=18, bodies_present="Lokalpolisområde Örebro, Tekniska förvaltningen"),
        DemoSession(
            "Omröstning om cykelpassagen", ["Säkrare cykelpassage på Drottninggatan"],
            "yes_no", "secret", -1, 6, votes={"erik": {"1": "yes"}, "sofia": {"1": "no"}}),
        DemoSession(
            "Områdesstämma i december", ["Medborgardialog om narkotika i centrum"],
            "yes_no", "secret", 9, 13, place="Stadsbiblioteket, hörsalen"),
    ],
}


def _proposal(neighbourhood: Neighbourhood, title: str) -> Proposal:
    return db.session.scalar(select(Proposal).where(Proposal.neighbourhood_id == neighbourhood.id,
                                                    Proposal.title == title))


def _user(login: str, domain: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{login}@{domain}"))


def load_sessions(neighbourhood: Neighbourhood, muhtar: User, now: dt.datetime, domain: str) -> int:
    sessions = SESSIONS.get(neighbourhood.slug, [])
    for spec in sessions:
        opens = now + dt.timedelta(days=spec.opens_in_days)
        closes = now + dt.timedelta(days=spec.closes_in_days)
        prepared = min(now, opens) - dt.timedelta(days=1)
        meeting = opens if spec.place else None
        assembly = services.create_assembly(
            muhtar, prepared, neighbourhood, title=spec.title, meeting_start=meeting,
            meeting_end=meeting + dt.timedelta(hours=2) if meeting else None, place=spec.place)
        for title in spec.agenda:
            services.add_agenda_item(muhtar, prepared, assembly, _proposal(neighbourhood, title).id)
        services.set_ballot(muhtar, prepared, assembly, method=spec.method, secrecy=spec.secrecy, opens_at=opens,
                            closes_at=closes, approval_k=spec.k)
        services.announce(muhtar, prepared, assembly)
        if spec.opens_in_days > 0:
            continue
        voting.advance(assembly, opens)
        items = [str(item.id) for item in assembly.items]
        for minute, (login, vote) in enumerate(spec.votes.items(), start=1):
            voting.cast_vote(_user(login, domain), opens + dt.timedelta(minutes=17 * minute), assembly,
                             _with_item_ids(vote, items))
        if spec.closes_in_days > 0:
            continue
        voting.advance(assembly, closes)
        if spec.minutes:
            services.write_minutes(muhtar, closes + dt.timedelta(days=1), assembly, minutes=spec.minutes,
                                   attendance=spec.attendance, bodies_present=spec.bodies_present)
    return len(sessions)


def _with_item_ids(vote, items: list[str]):
    """Demo votes name agenda positions ("1", "2"); ballots use agenda item ids."""
    def item(position: str) -> str:
        return items[int(position) - 1]

    if isinstance(vote, dict):
        return {item(position): choice for position, choice in vote.items()}
    if vote and isinstance(vote[0], list):
        return [[item(position) for position in rank] for rank in vote]
    return [item(position) for position in vote]
