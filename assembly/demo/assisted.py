"""Demo of assisted participation: residents without e-mail whom the muhtar registered at the
office or at their door, and what the muhtar filed in their name with their consent."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.assisted.services import Consent, on_behalf, register_resident
from assembly.db import db
from assembly.neighbourhoods.models import Category, Neighbourhood
from assembly.proposals.models import Proposal
from assembly.proposals.services import ProposalInput


@dataclass
class AssistedDemo:
    name: str
    address: str
    phone: str | None
    consent: str  # office, door or phone
    proposal: tuple[str, str, str] | None = None  # (category slug, title, body)
    comment: str | None = None


DEMOS: dict[str, list[AssistedDemo]] = {
    "caferaga": [
        AssistedDemo("Hatice Yıldırım", "Moda Cad. Şair Nefi Sok. 7/2", None, "door",
                     proposal=("social", "Yaşlılar için haftada bir sağlık taraması",
                               "Sokağımızda yürüyemeyen yaşlılar var. Aile sağlığı merkezinden ayda bir değil, "
                               "haftada bir hemşire gelip tansiyon ve şeker ölçse çok iyi olur."),
                     comment="Ben de destekliyorum; merdivenli sokaklarda çıkmak bizim için çok zor."),
        AssistedDemo("Mehmet Ali Korkmaz", "Damga Sok. 14/1", "+90 532 418 27 63", "office",
                     comment="Akşamları sokak çok karanlık, ben de muhtarlığa gelip söyledim."),
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
                     comment="Jag har pratat med flera grannar som tycker likadant."),
        AssistedDemo("Nils Åkesson", "Olivedalsgatan 9", "+46 70 214 55 81", "door",
                     comment="Bra förslag, jag stöder det."),
    ],
}


def load_assisted(neighbourhood: Neighbourhood, muhtar: User, now: dt.datetime) -> int:
    """Register the neighbourhood's assisted residents and file in their name; returns how many."""
    categories = {c.slug: c for c in db.session.scalars(
        select(Category).where(Category.municipality_id == neighbourhood.municipality_id))}
    open_proposal = db.session.scalar(
        select(Proposal).where(Proposal.neighbourhood_id == neighbourhood.id, Proposal.status == "open",
                               Proposal.hidden_at.is_(None)).order_by(Proposal.id))
    specs = DEMOS.get(neighbourhood.slug, [])
    for index, spec in enumerate(specs):
        when = now - dt.timedelta(days=5 - index, hours=3)
        membership = register_resident(muhtar, when, neighbourhood, display_name=spec.name, address=spec.address,
                                       phone=spec.phone, locale=neighbourhood.default_locale)
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
    return len(specs)
