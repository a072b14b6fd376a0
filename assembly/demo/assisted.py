"""Demo of assisted participation: residents without e-mail whom the muhtar registered at the
office or at their door, and what the muhtar filed in their name with their consent: proposals,
supports, comments, a vote in the neighbourhood's open ballot (never a secret one: those are cast on
paper at the meeting) and answers to its open survey."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.assemblies.models import Assembly, AssemblyStatus, Ballot, Secrecy
from assembly.assisted.services import Consent, on_behalf, register_resident
from assembly.db import db
from assembly.neighbourhoods.models import Category, Membership, Neighbourhood
from assembly.proposals.models import Proposal
from assembly.proposals.services import ProposalInput
from assembly.surveys import services as survey_services
from assembly.surveys.assisted import ACTION as SURVEY_ANSWER


@dataclass
class AssistedDemo:
    name: str
    address: str
    phone: str | None
    consent: str  # office, door or phone
    proposal: tuple[str, str, str] | None = None  # (category slug, title, body)
    comment: str | None = None
    vote: list[str] | None = None  # agenda positions approved in the open (not secret) ballot now open
    survey: list | None = None  # answers to the open survey, one per question in order


DEMOS: dict[str, list[AssistedDemo]] = {
    "caferaga": [
        AssistedDemo("Hatice Yıldırım", "Moda Cad. Şair Nefi Sok. 7/2", None, "door",
                     proposal=("social", "Yaşlılar için haftada bir sağlık taraması",
                               "Sokağımızda yürüyemeyen yaşlılar var. Aile sağlığı merkezinden ayda bir değil, "
                               "haftada bir hemşire gelip tansiyon ve şeker ölçse çok iyi olur."),
                     comment="Ben de destekliyorum; merdivenli sokaklarda çıkmak bizim için çok zor.",
                     vote=["1"]),
        AssistedDemo("Mehmet Ali Korkmaz", "Damga Sok. 14/1", "+90 532 418 27 63", "office",
                     comment="Akşamları sokak çok karanlık, ben de muhtarlığa gelip söyledim.", vote=["2"]),
    ],
    "osmanaga": [
        AssistedDemo("Emine Aktaş", "Söğütlüçeşme Cad. 41/5", None, "office",
                     comment="Pazar günleri çöpler toplanmıyor, kapının önünde kalıyor."),
    ],
    "dolatabad": [
        AssistedDemo("حسن رضایی", "خیابان امام، کوچه بهار، پلاک ۱۲", None, "door",
                     proposal=("social", "کلاس سوادآموزی برای بزرگسالان در مسجد محله",
                               "خیلی از سالمندان محله خواندن و نوشتن بلد نیستند. اگر هفته‌ای دو روز در مسجد "
                               "کلاس سوادآموزی برگزار شود، خودشان می‌توانند پیام‌ها را بخوانند."),
                     comment="من هم با این پیشنهاد موافقم؛ نوه‌هایم همیشه پیام‌ها را برایم می‌خوانند."),
    ],
    "sizdah-aban": [
        AssistedDemo("فاطمه کریمی", "بلوار ۱۳ آبان، کوچه ۵، پلاک ۳", "+98 912 345 6789", "phone",
                     comment="شب‌ها کوچه خیلی تاریک است و من بیرون نمی‌روم."),
    ],
    "jarntorget": [
        AssistedDemo("Gunnel Berg", "Järntorgsgatan 3, lgh 1102", None, "office",
                     proposal=("safety", "Fler bänkar längs vägen till vårdcentralen",
                               "Vi som går med rollator behöver kunna vila på vägen från torget till "
                               "vårdcentralen. Det finns ingen bänk på hela backen."),
                     comment="Jag har pratat med flera grannar som tycker likadant.",
                     survey=[[3], 2, "Backen upp till vårdcentralen är mörk, där går vi aldrig efter fyra."]),
        AssistedDemo("Nils Åkesson", "Olivedalsgatan 9", "+46 70 214 55 81", "door",
                     comment="Bra förslag, jag stöder det.", survey=[[0, 2], 3, ""]),
    ],
}


def register_assisted(neighbourhood: Neighbourhood, muhtar: User, now: dt.datetime) -> list[Membership]:
    """Register the neighbourhood's assisted residents, five to three days ago: before the sessions
    are loaded, so that they count in the electorate of a ballot that opened after."""
    return [register_resident(muhtar, _registered_at(now, index), neighbourhood, display_name=spec.name,
                              address=spec.address, phone=spec.phone, locale=neighbourhood.default_locale)
            for index, spec in enumerate(DEMOS.get(neighbourhood.slug, []))]


def _registered_at(now: dt.datetime, index: int) -> dt.datetime:
    return now - dt.timedelta(days=5 - index, hours=3)


def load_assisted(neighbourhood: Neighbourhood, muhtar: User, now: dt.datetime, memberships: list[Membership]) -> int:
    """File in the name of the residents `register_assisted` registered (after the sessions and the
    surveys: they vote in one and answer the other); returns how many."""
    categories = {c.slug: c for c in db.session.scalars(
        select(Category).where(Category.municipality_id == neighbourhood.municipality_id))}
    open_proposal = db.session.scalar(
        select(Proposal).where(Proposal.neighbourhood_id == neighbourhood.id, Proposal.status == "open",
                               Proposal.hidden_at.is_(None)).order_by(Proposal.id))
    specs = DEMOS.get(neighbourhood.slug, [])
    session = _session_with_open_ballot(neighbourhood, now)
    survey = next(iter(survey_services.open_surveys(neighbourhood, now)), None)
    for index, (spec, membership) in enumerate(zip(specs, memberships, strict=True)):
        when = _registered_at(now, index)
        consent = Consent(given=True, method=spec.consent, given_at=when)
        target = open_proposal
        if spec.proposal and spec.proposal[0] in categories:
            slug, title, body = spec.proposal
            target = on_behalf(muhtar, when, membership, "proposal", consent, neighbourhood,
                               data=ProposalInput(title=title, body=body, category_id=categories[slug].id))
            open_proposal = open_proposal or target  # the next ones support it
        elif target is not None:
            on_behalf(muhtar, when, membership, "support", consent, target)
        if spec.comment and target is not None:
            on_behalf(muhtar, when + dt.timedelta(minutes=10), membership, "comment", consent, target,
                      body=spec.comment)
        # At the office or the door again this week, with a new consent for each.
        later = now - dt.timedelta(hours=6 - index)
        consent = Consent(given=True, method=spec.consent, given_at=later)
        if spec.vote and session is not None:
            items = [str(item.id) for item in session.items]
            on_behalf(muhtar, later, membership, "vote", consent, session,
                      vote=[items[int(position) - 1] for position in spec.vote])
        if spec.survey and survey is not None:
            on_behalf(muhtar, later + dt.timedelta(minutes=5), membership, SURVEY_ANSWER, consent, survey,
                      answers={str(question.id): answer for question, answer in zip(survey.questions, spec.survey)})
    return len(specs)


def _session_with_open_ballot(neighbourhood: Neighbourhood, now: dt.datetime) -> Assembly | None:
    """The neighbourhood's session whose open (not secret) ballot takes votes at `now`."""
    return db.session.scalar(
        select(Assembly).join(Ballot, Ballot.assembly_id == Assembly.id)
        .where(Assembly.neighbourhood_id == neighbourhood.id, Assembly.status == AssemblyStatus.VOTING.value,
               Ballot.secrecy == Secrecy.OPEN.value, Ballot.opens_at <= now, Ballot.closes_at > now)
        .order_by(Assembly.id))
