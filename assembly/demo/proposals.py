"""Demo proposals, supports and comments, in each neighbourhood's language.

The problems are those of the source documents (street lighting, traffic, stray animals,
safety, drugs around a square); the people are invented.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.db import db
from assembly.neighbourhoods.models import Category, Neighbourhood
from assembly.proposals import discussion, moderation, services
from assembly.proposals.services import ProposalInput

# Bounding boxes (south, west, north, east) of the demo neighbourhoods.
BOUNDS = {
    "caferaga": (40.9800, 29.0180, 40.9925, 29.0360),
    "osmanaga": (40.9870, 29.0200, 40.9960, 29.0350),
    "dolatabad": (35.6000, 51.4300, 35.6250, 51.4600),
    "sizdah-aban": (35.5950, 51.4000, 35.6100, 51.4300),
    "jarntorget": (59.2680, 15.2000, 59.2760, 15.2200),
}


@dataclass
class DemoProposal:
    author: str
    category: str
    title: str
    body: str
    point: tuple[float, float] | None = None
    address: str | None = None
    supporters: list[str] = field(default_factory=list)
    comments: list[tuple[str, str, int | None]] = field(default_factory=list)  # (login, text, reply to #)
    state: str = "open"  # open | draft | withdrawn | hidden
    moderation_reason: str | None = None
    days_ago: int = 10


PROPOSALS: dict[str, list[DemoProposal]] = {
    "caferaga": [
        DemoProposal(
            "ayse", "lighting", "Moda Parkı'ndaki sokak ışıkları yanmıyor",
            "Moda Parkı'nın deniz tarafındaki yürüyüş yolunda **altı direğin lambası** iki aydır yanmıyor. "
            "Akşam 18.00'den sonra park tamamen karanlık kalıyor; yaşlılar ve çocuklu aileler parkı kullanamıyor.\n\n"
            "Önerimiz:\n\n- Arızalı lambaların elektrik dağıtım şirketine bildirilmesi,\n"
            "- Parkın girişlerine enerji tasarruflu LED aydınlatma konması.",
            point=(40.9838, 29.0265), address="Moda Parkı, deniz tarafı yürüyüş yolu",
            supporters=["mehmet", "zeynep", "emre", "ilkay"],
            comments=[("mehmet", "Dün akşam köpeğimi gezdirirken fark ettim, gerçekten çok karanlık.", None),
                      ("zeynep", "Geçen kış da aynı sorun vardı; kalıcı bir çözüm lazım.", None),
                      ("ayse", "Kesinlikle. Elektrik şirketine ayrıca dilekçe de verdim.", 1)],
            days_ago=45),
        DemoProposal(
            "mehmet", "traffic", "Bahariye Caddesi'ne yaya geçidi ve hız kesici",
            "Bahariye Caddesi ile Şair Nefi Sokak'ın kesiştiği noktada araçlar çok hızlı geçiyor. "
            "Okul saatlerinde çocuklar karşıdan karşıya geçmekte zorlanıyor. Yaya geçidi çizilmesini ve "
            "hız kesici konmasını öneriyoruz.",
            point=(40.9885, 29.0300), address="Bahariye Cd. / Şair Nefi Sk. kavşağı",
            supporters=["ayse", "emre", "zeynep"], comments=[("emre", "Sabahları 8 ile 9 arası en tehlikeli saatler.", None)],
            days_ago=12),
        DemoProposal(
            "zeynep", "animals", "Sokak hayvanları için mama ve su noktaları",
            "Mahallede çok sayıda sokak kedisi ve köpeği var. Belediyenin veteriner işleri müdürlüğüyle birlikte "
            "parklara mama ve su noktaları kurulmasını, kısırlaştırma çalışmasının da mahallede duyurulmasını "
            "öneriyorum.",
            supporters=["ilkay", "ayse", "mehmet"], days_ago=6),
        DemoProposal(
            "emre", "environment", "Yoğurtçu Parkı'na açık hava spor aletleri",
            "Yoğurtçu Parkı'ndaki eski spor aletleri kırık. Yenilerinin konmasını ve yanına bir içme suyu "
            "çeşmesi yapılmasını öneriyoruz.", point=(40.9840, 29.0330), address="Yoğurtçu Parkı",
            supporters=["ayse", "ilkay", "zeynep"], days_ago=44),
        DemoProposal(
            "zeynep", "social", "Semt kütüphanesi hafta sonu da açık olsun",
            "Semt kütüphanesi cumartesi ve pazar kapalı. Çalışan gençler ve aileler için hafta sonu "
            "10.00–17.00 arası açık olmasını istiyoruz.", supporters=["ayse", "mehmet", "ilkay"], days_ago=5),
        DemoProposal(
            "emre", "safety", "Gece kulüplerinin önünde kavga ve gürültü",
            "Hafta sonları gece 02.00'den sonra Kadife Sokak'ta kavga ve yüksek sesli müzik oluyor. "
            "Bu konuda bir ara bir eleman adı da yazdım: 0555 123 45 67 numaralı kişi sorumlu.",
            point=(40.9862, 29.0290), address="Kadife Sokak", state="hidden",
            moderation_reason="Kişisel telefon numarası içeriyor. Numara çıkarılarak yeniden yazılabilir.",
            days_ago=9),
        DemoProposal(
            "ilkay", "environment", "Dumlupınar Sokak'a ağaç dikimi",
            "Dumlupınar Sokak'ta kaldırımlar geniş ama hiç ağaç yok. Yaz aylarında sokak çok ısınıyor. "
            "Belediyeden sokak boyunca ağaç dikilmesini istiyoruz.",
            state="draft", days_ago=1),
    ],
    "osmanaga": [
        DemoProposal(
            "deniz", "traffic", "Söğütlüçeşme'de kaldırım işgali",
            "Söğütlüçeşme Caddesi'nde dükkânların önündeki tezgâhlar kaldırımı kapatıyor; bebek arabasıyla "
            "yürümek imkânsız. Zabıtanın düzenli denetim yapmasını öneriyoruz.",
            point=(40.9905, 29.0290), supporters=["gul"], days_ago=8),
        DemoProposal(
            "gul", "lighting", "Kırmızı Kuşak Sokak'ta aydınlatma eksik",
            "Sokağın ortasındaki iki direkte lamba yok. Akşamları eve dönerken tedirgin oluyoruz.",
            supporters=["deniz"], comments=[("deniz", "Aynı sorunu ben de yaşıyorum.", None)], days_ago=4),
    ],
    "dolatabad": [
        DemoProposal(
            "reza", "safety", "استقرار کانکس پلیس در میدان نماز",
            "ساکنان محله به‌ویژه در ساعات شب در اطراف **میدان نماز** احساس ناامنی می‌کنند. پیشنهاد می‌کنیم "
            "با هماهنگی کلانتری، یک کانکس پلیس در ضلع شمالی میدان مستقر شود.",
            point=(35.6120, 51.4450), address="میدان نماز، ضلع شمالی",
            supporters=["narges", "ali", "fatemeh"],
            comments=[("narges", "کاملاً موافقم؛ شب‌ها این محدوده خیلی خلوت است.", None),
                      ("ali", "بهتر است روشنایی میدان هم بیشتر شود.", None),
                      ("reza", "پیشنهاد خوبی است؛ در جلسه شورایاری مطرح می‌کنم.", 2)],
            days_ago=45),
        DemoProposal(
            "narges", "social", "راه‌اندازی خانه محله برای کمک به نیازمندان",
            "پیشنهاد می‌شود در ساختمان خالی کنار سرای محله، یک «خانه محله» برای جمع‌آوری و توزیع کمک‌های "
            "خیرین به خانواده‌های کم‌برخوردار راه‌اندازی شود.",
            supporters=["fatemeh", "reza", "ali"], days_ago=7),
        DemoProposal(
            "fatemeh", "traffic", "ساماندهی دستفروشان بلوار دولت‌آباد",
            "دستفروشان پیاده‌روی ضلع جنوبی بلوار را کاملاً گرفته‌اند و عبور سالمندان و کالسکه ممکن نیست. "
            "پیشنهاد می‌کنیم بازارچه‌ای موقت در زمین خالی کنار پارک ایجاد شود.",
            point=(35.6105, 51.4480), address="بلوار دولت‌آباد، ضلع جنوبی", supporters=["reza", "narges", "ali"],
            days_ago=44),
        DemoProposal(
            "narges", "social", "کلاس آموزش رایانه برای سالمندان",
            "در سرای محله کلاس رایگان آموزش کار با تلفن همراه و رایانه برای سالمندان برگزار شود.",
            supporters=["reza", "fatemeh", "ali"], days_ago=4),
        DemoProposal(
            "ali", "lighting", "روشنایی کوچه یاس",
            "تیرهای چراغ برق کوچه یاس از ابتدای پاییز خاموش هستند. لطفاً پیگیری شود.",
            point=(35.6080, 51.4400), address="خیابان شهید رجایی، کوچه یاس", supporters=["reza", "narges", "fatemeh"],
            days_ago=6),
        DemoProposal(
            "fatemeh", "environment", "آگهی فروش لوازم",
            "لوازم منزل با قیمت مناسب به فروش می‌رسد. برای اطلاعات بیشتر تماس بگیرید.",
            state="hidden", moderation_reason="تبلیغ تجاری است و به دستور کار محله ربطی ندارد.", days_ago=5),
    ],
    "sizdah-aban": [
        DemoProposal(
            "sara", "environment", "پاکسازی جوی آب خیابان سیزده آبان",
            "جوی آب ضلع غربی خیابان پر از زباله شده و در بارندگی آب‌گرفتگی ایجاد می‌کند.",
            point=(35.6020, 51.4150), days_ago=5),
    ],
    "jarntorget": [
        DemoProposal(
            "erik", "safety", "Bättre belysning och kameror vid Järntorget",
            "Många av oss känner oss otrygga kring **Järntorget** på kvällar och nätter, särskilt vid "
            "busshållplatsen. Vi föreslår bättre belysning och att kommunen och polisen utreder kamerabevakning.",
            point=(59.2718, 15.2095), address="Järntorget, busshållplatsen",
            supporters=["amina", "lars", "sofia"],
            comments=[("amina", "Håller med. Det är mörkt redan vid fyra på vintern.", None),
                      ("lars", "Belysning först, kameror är en större fråga.", None),
                      ("erik", "Bra poäng, vi kan dela upp förslaget.", 2)],
            days_ago=45),
        DemoProposal(
            "amina", "traffic", "Säkrare cykelpassage på Drottninggatan",
            "Cyklister och fotgängare möts i samma smala passage vid Drottninggatan 3. Vi föreslår en tydlig "
            "markering och en separat cykelbana.",
            point=(59.2730, 15.2120), supporters=["sofia", "erik", "lars"], days_ago=9),
        DemoProposal(
            "lars", "environment", "Fler bänkar i Stadsparken",
            "Äldre som promenerar i Stadsparken har få ställen att vila. Vi föreslår fler bänkar längs ån.",
            point=(59.2700, 15.2150), address="Stadsparken, längs Svartån", supporters=["erik", "amina", "sofia"],
            days_ago=44),
        DemoProposal(
            "lars", "environment", "Fler papperskorgar i city",
            "Det saknas papperskorgar längs Storgatan. Skräpet hamnar i rabatterna.",
            supporters=["erik"], state="withdrawn", days_ago=14),
        DemoProposal(
            "sofia", "safety", "Medborgardialog om narkotika i centrum",
            "Enkäten visade att narkotika och alkohol oroar många. Vi vill att kommunen bjuder in till ett "
            "öppet möte med polisen om vad som görs kring Järntorget.",
            supporters=["erik", "amina", "lars"], days_ago=4),
    ],
}


def _user(login: str, domain: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{login}@{domain}"))


def load_proposals(neighbourhood: Neighbourhood, muhtar: User, now: dt.datetime, domain: str) -> int:
    categories = {c.slug: c for c in db.session.scalars(
        select(Category).where(Category.municipality_id == neighbourhood.municipality_id))}
    created = 0
    for spec in PROPOSALS.get(neighbourhood.slug, []):
        when = now - dt.timedelta(days=spec.days_ago)
        author = _user(spec.author, domain)
        data = ProposalInput(title=spec.title, body=spec.body, category_id=categories[spec.category].id,
                             latitude=spec.point[0] if spec.point else None,
                             longitude=spec.point[1] if spec.point else None, address_text=spec.address)
        proposal = services.create_proposal(author, when, neighbourhood, data, publish=spec.state != "draft")
        for hours, login in enumerate(spec.supporters, start=1):
            services.support(_user(login, domain), when + dt.timedelta(hours=hours), proposal)
        comments = []
        for index, (login, text, reply_to) in enumerate(spec.comments, start=1):
            parent = comments[reply_to - 1].id if reply_to else None
            comments.append(discussion.add_comment(_user(login, domain), when + dt.timedelta(hours=2 * index),
                                                   proposal, text, parent))
        later = when + dt.timedelta(days=1)
        if spec.state == "withdrawn":
            services.withdraw_proposal(author, later, proposal)
        elif spec.state == "hidden":
            moderation.hide(muhtar, later, proposal, spec.moderation_reason or "")
        created += 1
    return created
