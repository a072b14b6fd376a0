"""Demo data: three municipalities whose neighbourhoods speak Turkish, Persian and Swedish.

Place names and kinds of problems come from the source documents in shared/seeds;
every person is invented. All demo accounts share the password DEMO_PASSWORD.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from assembly.accounts.models import User
from assembly.accounts.services import hash_password
from assembly.actors import SystemActor
from assembly.db import db
from assembly.demo.assisted import load_assisted, register_assisted
from assembly.demo.sessions import load_sessions
from assembly.demo.cases import demo_api_token, load_cases
from assembly.demo.consultations import load_consultations
from assembly.demo.meetings import load_meetings
from assembly.demo.promises import load_promises
from assembly.demo.photos import load_photos
from assembly.demo.proposals import BOUNDS, load_proposals
from assembly.demo.surveys import load_surveys
from assembly.neighbourhoods import invitations, residents, structure

DEMO_PASSWORD = "demo-assembly-2026"
DEMO_DOMAIN = "assembly.example"


@dataclass
class DemoNeighbourhood:
    slug: str
    code: str
    names: dict[str, str]
    muhtar: tuple[str, str]
    residents: list[tuple[str, str, str]]  # (login, display name, address)
    pending: list[tuple[str, str, str]] = field(default_factory=list)
    quorum_percent: int = 10
    majority: str = "simple"
    support_threshold: int = 3


@dataclass
class DemoMunicipality:
    code: str
    name: str
    timezone: str
    locale: str
    bodies: list[tuple[str, str, str, int]]  # (slug, name, kind, answer days)
    categories: list[tuple[str, dict[str, str], str]]  # (slug, names, default body slug)
    neighbourhoods: list[DemoNeighbourhood]
    staff: list[tuple[str, str, str]]  # (login, display name, body slug)


def _names(en: str, tr: str, fa: str, sv: str) -> dict[str, str]:
    return {"en": en, "tr": tr, "fa": fa, "sv": sv}


CATEGORIES = {
    "lighting": _names("Street lighting", "Sokak aydınlatması", "روشنایی معابر", "Gatubelysning"),
    "traffic": _names("Traffic and parking", "Trafik ve otopark", "ترافیک و پارکینگ", "Trafik och parkering"),
    "animals": _names("Stray animals", "Sokak hayvanları", "حیوانات بی‌سرپرست", "Herrelösa djur"),
    "safety": _names("Safety", "Güvenlik", "امنیت", "Trygghet"),
    "environment": _names("Environment and parks", "Çevre ve parklar", "محیط زیست و پارک‌ها", "Miljö och parker"),
    "social": _names("Social support", "Sosyal destek", "حمایت اجتماعی", "Socialt stöd"),
}

MUNICIPALITIES = [
    DemoMunicipality(
        code="KDK", name="Kadıköy Belediyesi", timezone="Europe/Istanbul", locale="tr",
        bodies=[
            ("meclis", "Kadıköy Belediye Meclisi", "council", 30),
            ("emniyet", "Kadıköy İlçe Emniyet Müdürlüğü", "police", 15),
            ("elektrik", "Elektrik Dağıtım Şirketi – Kadıköy Bölgesi", "utility", 10),
            ("veteriner", "Kadıköy Belediyesi Veteriner İşleri Müdürlüğü", "district", 20),
        ],
        categories=[("lighting", CATEGORIES["lighting"], "elektrik"), ("traffic", CATEGORIES["traffic"], "meclis"),
                    ("animals", CATEGORIES["animals"], "veteriner"), ("safety", CATEGORIES["safety"], "emniyet"),
                    ("environment", CATEGORIES["environment"], "meclis"), ("social", CATEGORIES["social"], "meclis")],
        neighbourhoods=[
            DemoNeighbourhood(
                slug="caferaga", code="CAFERAGA",
                names={"tr": "Caferağa Mahallesi", "en": "Caferağa", "fa": "محله جعفرآغا", "sv": "Caferağa"},
                muhtar=("muhtar.caferaga", "Selma Yıldırım"),
                residents=[("ayse", "Ayşe Korkmaz", "Moda Caddesi 12/3"),
                           ("mehmet", "Mehmet Aydın", "Sakız Gülü Sokak 5"),
                           ("zeynep", "Zeynep Arslan", "Dumlupınar Sokak 8/1"),
                           ("emre", "Emre Şahin", "Bahariye Caddesi 40"),
                           ("ilkay", "İlkay Işık", "Şair Nefi Sokak 2")],
                pending=[("burak", "Burak Çelik", "Güneşli Bahçe Sokak 17")],
            ),
            DemoNeighbourhood(
                slug="osmanaga", code="OSMANAGA",
                names={"tr": "Osmanağa Mahallesi", "en": "Osmanağa", "fa": "محله عثمان‌آغا", "sv": "Osmanağa"},
                muhtar=("muhtar.osmanaga", "Hakan Öztürk"),
                residents=[("deniz", "Deniz Kaya", "Söğütlüçeşme Caddesi 21"),
                           ("gul", "Gül Yılmaz", "Kırmızı Kuşak Sokak 4")],
            ),
        ],
        staff=[("meclis.staff", "Murat Erdem", "meclis"), ("emniyet.staff", "Serkan Polat", "emniyet"),
               ("elektrik.staff", "Canan Aksoy", "elektrik")],
    ),
    DemoMunicipality(
        code="TEH20", name="شهرداری منطقه ۲۰ تهران", timezone="Asia/Tehran", locale="fa",
        bodies=[
            ("shahrdari", "شهرداری منطقه ۲۰", "district", 20),
            ("shora", "شورای اسلامی شهر تهران", "council", 45),
            ("kalantari", "کلانتری ناحیه شهرری", "police", 15),
        ],
        categories=[("lighting", CATEGORIES["lighting"], "shahrdari"), ("safety", CATEGORIES["safety"], "kalantari"),
                    ("social", CATEGORIES["social"], "shahrdari"),
                    ("environment", CATEGORIES["environment"], "shahrdari"),
                    ("traffic", CATEGORIES["traffic"], "shahrdari")],
        neighbourhoods=[
            DemoNeighbourhood(
                slug="dolatabad", code="DOLATABAD",
                names={"fa": "محله دولت‌آباد", "en": "Dowlatabad", "tr": "Devletabad Mahallesi", "sv": "Dowlatabad"},
                muhtar=("shorayar.dolatabad", "مریم رضایی"),
                residents=[("reza", "رضا کریمی", "خیابان فدائیان اسلام، کوچه ۱۲"),
                           ("narges", "نرگس احمدی", "بلوار دولت‌آباد، پلاک ۴۵"),
                           ("ali", "علی موسوی", "خیابان شهید رجایی، کوچه یاس"),
                           ("fatemeh", "فاطمه حسینی", "میدان نماز، کوچه نسترن ۳")],
                pending=[("hossein", "حسین نوری", "خیابان قم، کوچه لاله ۷")],
            ),
            DemoNeighbourhood(
                slug="sizdah-aban", code="SIZDAHABAN",
                names={"fa": "محله سیزده آبان", "en": "Sizdah Aban", "tr": "Sizdeh Aban Mahallesi", "sv": "Sizdah Aban"},
                muhtar=("shorayar.sizdahaban", "حمید صادقی"),
                residents=[("sara", "سارا جعفری", "خیابان سیزده آبان، کوچه بهار ۲")],
            ),
        ],
        staff=[("shahrdari.staff", "پرویز امینی", "shahrdari"), ("kalantari.staff", "مهدی طاهری", "kalantari")],
    ),
    DemoMunicipality(
        code="ORE", name="Örebro kommun", timezone="Europe/Stockholm", locale="sv",
        bodies=[
            ("fullmaktige", "Kommunfullmäktige i Örebro", "council", 30),
            ("polisen", "Lokalpolisområde Örebro", "police", 14),
            ("tekniska", "Tekniska förvaltningen", "district", 21),
        ],
        categories=[("lighting", CATEGORIES["lighting"], "tekniska"), ("safety", CATEGORIES["safety"], "polisen"),
                    ("traffic", CATEGORIES["traffic"], "tekniska"),
                    ("environment", CATEGORIES["environment"], "fullmaktige")],
        neighbourhoods=[
            DemoNeighbourhood(
                slug="jarntorget", code="JARNTORGET",
                names={"sv": "Järntorget och city", "en": "Järntorget and city centre", "tr": "Järntorget ve merkez",
                       "fa": "یرن‌تورگت و مرکز شهر"},
                muhtar=("samordnare.jarntorget", "Karin Lindqvist"),
                residents=[("erik", "Erik Johansson", "Storgatan 14"),
                           ("amina", "Amina Hassan", "Drottninggatan 3B"),
                           ("lars", "Lars Nyberg", "Järntorgsgatan 7"),
                           ("sofia", "Sofia Berg", "Vasagatan 22")],
                pending=[("oskar", "Oskar Holm", "Kungsgatan 9")],
            ),
        ],
        staff=[("polisen.staff", "Johan Ek", "polisen"), ("tekniska.staff", "Maria Sandberg", "tekniska"),
               ("fullmaktige.staff", "Anders Wikström", "fullmaktige")],
    ),
]


def _email(login: str) -> str:
    return f"{login}@{DEMO_DOMAIN}"


class _People:
    """Creates demo accounts, hashing the shared password once."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.password_hash = hash_password(DEMO_PASSWORD)
        self.created: list[str] = []

    def user(self, login: str, display_name: str, locale: str, *, admin: bool = False) -> User:
        user = User(email=_email(login), display_name=display_name, password_hash=self.password_hash,
                    locale=locale, is_admin=admin, created_at=self.now, password_changed_at=self.now)
        db.session.add(user)
        db.session.flush()
        self.created.append(user.email)
        return user


def load_demo(now: dt.datetime) -> str:
    """Create the demo world through the services, so it carries audit events and notifications."""
    system = SystemActor()
    people = _People(now)
    admin = people.user("admin", "Demo Admin", "en", admin=True)
    for spec in MUNICIPALITIES:
        municipality = structure.create_municipality(admin, now, code=spec.code, name=spec.name,
                                                    timezone=spec.timezone, default_locale=spec.locale)
        bodies = {slug: structure.create_body(system, now, municipality=municipality, slug=slug, name=name,
                                             kind=kind, answer_days=days)
                  for slug, name, kind, days in spec.bodies}
        for slug, names, body_slug in spec.categories:
            structure.create_category(system, now, municipality=municipality, slug=slug, names=names,
                                     default_body=bodies[body_slug])
        for login, name, body_slug in spec.staff:
            structure.appoint_staff(admin, now, bodies[body_slug], people.user(login, name, spec.locale))
        for hood in spec.neighbourhoods:
            _load_neighbourhood(admin, people, municipality, hood, spec.locale, now)
    load_consultations(now, DEMO_DOMAIN)
    load_promises(now)
    load_meetings(now, DEMO_DOMAIN)  # after the promises: an answer at Tehran's meeting goes into one
    token = demo_api_token(now)
    return (f"demo loaded: {len(people.created)} accounts, password {DEMO_PASSWORD!r}; "
            f"admin {_email('admin')}\n"
            f"demo API token of the Kadıköy council (shown once): {token}")


def _load_neighbourhood(admin, people: _People, municipality, hood: DemoNeighbourhood, locale: str,
                        now: dt.datetime) -> None:
    neighbourhood = structure.create_neighbourhood(
        admin, now, municipality=municipality, slug=hood.slug, code=hood.code, names=hood.names,
        default_locale=locale, quorum_percent=hood.quorum_percent, majority=hood.majority,
        support_threshold=hood.support_threshold, bounds=BOUNDS.get(hood.slug))
    muhtar = people.user(hood.muhtar[0], hood.muhtar[1], locale)
    structure.appoint_muhtar(admin, now, neighbourhood, muhtar)
    for index, (login, name, address) in enumerate(hood.residents):
        resident = people.user(login, name, locale)
        asked = now - dt.timedelta(days=60 - index)
        membership = residents.request_membership(resident, asked, neighbourhood, address)
        residents.approve_membership(muhtar, asked + dt.timedelta(hours=5), neighbourhood, membership.id)
    for login, name, address in hood.pending:
        residents.request_membership(people.user(login, name, locale), now - dt.timedelta(days=1), neighbourhood,
                                    address)
    invitations.issue_invite_codes(muhtar, now - dt.timedelta(days=3), neighbourhood, 12, 60)
    load_proposals(neighbourhood, muhtar, now, DEMO_DOMAIN)
    helped = register_assisted(neighbourhood, muhtar, now)  # before the sessions: in their electorates
    load_sessions(neighbourhood, muhtar, now, DEMO_DOMAIN)
    load_cases(neighbourhood, muhtar, now)
    load_surveys(neighbourhood, muhtar, now, DEMO_DOMAIN)
    load_assisted(neighbourhood, muhtar, now, helped)  # after the sessions and surveys: votes in one, answers to the other
    load_photos(neighbourhood, muhtar, now)
