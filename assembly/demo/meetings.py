"""Demo meetings with bodies: a Huzur meeting of Kadıköy's Caferağa and Osmanağa with the police,
the municipality and the electricity company (held, answered, one question become a case, minutes
published), the next one open for questions, and the monthly meeting of Tehran district 20's
neighbourhood councillors with the district mayor and the police chief (seeds 000 and 001), where
one answer became a commitment in the Dowlatabad programme booklet (loaded before the meetings,
`assembly.demo.promises`), since followed by a first step of progress. Every person is invented."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.actors import SystemActor
from assembly.db import db
from assembly.demo.photos import broken_bench, scene_upload
from assembly.meetings import photos as question_photos
from assembly.meetings import services
from assembly.meetings.models import MeetingStatus
from assembly.meetings.services import Invitation, MeetingInput
from assembly.neighbourhoods import structure
from assembly.neighbourhoods.models import Body, Category, Municipality, Neighbourhood
from assembly.promises import services as promises
from assembly.promises.models import Promise, PromiseNeighbourhood

DAY = dt.timedelta(days=1)


def _user(login: str, domain: str) -> User:
    return db.session.scalars(select(User).where(User.email == f"{login}@{domain}")).one()


def _body(municipality: Municipality, slug: str, name: str, kind: str, now: dt.datetime) -> Body:
    """The body of that slug, added when the demo municipality has none."""
    found = db.session.scalars(select(Body).where(Body.municipality_id == municipality.id, Body.slug == slug)).first()
    return found or structure.create_body(SystemActor(), now, municipality=municipality, slug=slug, name=name,
                                          kind=kind, answer_days=20)


def _hoods(*slugs: str) -> list[int]:
    return list(db.session.scalars(select(Neighbourhood.id).where(Neighbourhood.slug.in_(slugs))))


def _category(municipality: Municipality, slug: str) -> int:
    return db.session.scalars(select(Category.id).where(Category.municipality_id == municipality.id,
                                                        Category.slug == slug)).one()


def _local(day: dt.date, hour: int, zone_offset: dt.timedelta) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone(zone_offset)).astimezone(dt.timezone.utc)


def load_meetings(now: dt.datetime, domain: str) -> None:
    _kadikoy(now, domain)
    _tehran(now, domain)


def _kadikoy(now: dt.datetime, domain: str) -> None:
    kadikoy = db.session.scalars(select(Municipality).where(Municipality.code == "KDK")).one()
    police = _body(kadikoy, "emniyet", "Kadıköy İlçe Emniyet Müdürlüğü", "police", now)
    town_hall = _body(kadikoy, "belediye", "Kadıköy Belediyesi – Zabıta Müdürlüğü", "district", now)
    electricity = _body(kadikoy, "elektrik", "Elektrik Dağıtım Şirketi – Kadıköy Bölgesi", "utility", now)
    muhtar = _user("muhtar.caferaga", domain)
    table = [Invitation(police.id, "Komiser Yardımcısı Serkan Polat (Toplum Destekli Polislik)"),
             Invitation(town_hall.id, "Zabıta Amiri Nurten Güler"),
             Invitation(electricity.id, "Bölge Sorumlusu Canan Aksoy")]
    held_on = (now - 12 * DAY).date()
    meeting = services.create_meeting(muhtar, now - 30 * DAY, kadikoy, MeetingInput(
        title="Huzur Toplantısı – Caferağa ve Osmanağa", starts_at=_local(held_on, 18, dt.timedelta(hours=3)),
        ends_at=_local(held_on, 20, dt.timedelta(hours=3)), place="Caferağa Spor Salonu, toplantı odası",
        neighbourhood_ids=_hoods("caferaga", "osmanaga"), invitations=table))
    services.move(muhtar, now - 29 * DAY, meeting, MeetingStatus.OPEN)
    asked = [
        ("ayse", electricity, "Moda Parkı ve Sakız Gülü Sokak'taki lambalar haftalardır yanmıyor; akşam yürümek tedirgin edici.",
         ["mehmet", "deniz", "gul"]),
        ("mehmet", police, "Bahariye Caddesi'nde gece yarısından sonra motosiklet yarışları yapılıyor. Devriye artırılabilir mi?",
         ["ayse", "deniz"]),
        ("deniz", town_hall, "Söğütlüçeşme'de sahipsiz köpek sürüsü okul çıkışında çocukları korkutuyor.",
         ["gul"]),
        ("gul", police, "Kırmızı Kuşak Sokak'ta kaldırımlara park eden araçlar yüzünden bebek arabasıyla geçilemiyor.", []),
    ]
    questions = {}
    for number, (login, body, text, supporters) in enumerate(asked):
        question = services.ask(_user(login, domain), now - (25 - number) * DAY, meeting, body_id=body.id, text=text)
        for supporter in supporters:
            services.support(_user(supporter, domain), now - (20 - number) * DAY, question)
        questions[login] = question
    services.set_agenda(muhtar, now - 14 * DAY, meeting, {questions["ayse"].id: 1, questions["mehmet"].id: 2,
                                                         questions["deniz"].id: 3})
    services.move(muhtar, now - 12 * DAY, meeting, MeetingStatus.HELD)
    recorded = now - 12 * DAY + dt.timedelta(hours=3)
    services.record_answer(muhtar, recorded, questions["ayse"],
                           answer="Arızalı direkler tespit edildi; armatürler iki hafta içinde değiştirilecek. "
                                  "Arıza kaydı açılıyor.", follow_up="case",
                           category_id=_category(kadikoy, "lighting"))
    services.record_answer(muhtar, recorded, questions["mehmet"],
                           answer="Cuma ve cumartesi geceleri 23.00–03.00 arasında Bahariye'de trafik ekibi "
                                  "denetim yapacak.", follow_up="none")
    services.record_answer(muhtar, recorded, questions["deniz"],
                           answer="Veteriner İşleri ile ortak ekip köpekleri kısırlaştırıp aşılayacak; okul "
                                  "saatlerinde zabıta bulunacak.", follow_up="none")
    services.record_attendance(muhtar, recorded, meeting, headcount=46,
                               present_body_ids={police.id, town_hall.id, electricity.id})
    services.save_minutes(muhtar, recorded, meeting, (
        "Toplantıya Caferağa ve Osmanağa mahallelerinden **46 kişi** katıldı.\n\n"
        "- Aydınlatma: elektrik şirketi arızalı direkleri iki hafta içinde onaracak (arıza kaydı açıldı).\n"
        "- Motosiklet gürültüsü: hafta sonu geceleri trafik denetimi yapılacak.\n"
        "- Sahipsiz köpekler: belediye ve veteriner işleri ortak çalışma yapacak.\n\n"
        "Bir sonraki Huzur Toplantısı gelecek ay Osmanağa'da yapılacak."))
    services.move(muhtar, now - 11 * DAY, meeting, MeetingStatus.CLOSED)

    osmanaga = _user("muhtar.osmanaga", domain)
    next_on = (now + 18 * DAY).date()
    upcoming = services.create_meeting(osmanaga, now - 2 * DAY, kadikoy, MeetingInput(
        title="Huzur Toplantısı – Osmanağa ve Caferağa (gelecek ay)",
        starts_at=_local(next_on, 18, dt.timedelta(hours=3)), ends_at=None, place="Osmanağa Muhtarlığı",
        neighbourhood_ids=_hoods("caferaga", "osmanaga"), invitations=table[:2]))
    services.move(osmanaga, now - 2 * DAY, upcoming, MeetingStatus.OPEN)
    question = question_photos.ask_with_photos(
        _user("deniz", domain), now - DAY, upcoming, body_id=police.id,
        text="Yoğurtçu Parkı'nda akşamları içki içen gruplar var; bekçi devriyesi eklenebilir mi?",
        uploads=[scene_upload("yogurtcu-parki.jpg", broken_bench, "yogurtcu")])
    services.support(_user("ayse", domain), now - DAY, question)


def _tehran(now: dt.datetime, domain: str) -> None:
    district = db.session.scalars(select(Municipality).where(Municipality.code == "TEH20")).one()
    mayor = _body(district, "shahrdari", "شهرداری منطقه ۲۰", "district", now)
    police = _body(district, "kalantari", "کلانتری ناحیه شهرری", "police", now)
    organiser = _user("shahrdari.staff", domain)
    tehran = dt.timedelta(hours=3, minutes=30)
    held_on = (now - 8 * DAY).date()
    meeting = services.create_meeting(organiser, now - 28 * DAY, district, MeetingInput(
        title="نشست ماهانه شورایاران منطقه ۲۰ با شهردار و سرکلانتر",
        starts_at=_local(held_on, 10, tehran), ends_at=_local(held_on, 12, tehran),
        place="سالن جلسات شهرداری منطقه ۲۰، شهرری",
        neighbourhood_ids=_hoods("dolatabad", "sizdah-aban"),
        invitations=[Invitation(mayor.id, "حسن شریفی، شهردار منطقه ۲۰"),
                     Invitation(police.id, "سرگرد محمد کاظمی، سرکلانتر")]), organising_body=mayor)
    services.move(organiser, now - 27 * DAY, meeting, MeetingStatus.OPEN)
    first = services.ask(_user("reza", domain), now - 20 * DAY, meeting, body_id=police.id,
                         text="ایستگاه پلیس در محله دولت‌آباد کی مستقر می‌شود؟ شب‌ها در کوچه‌های فرعی احساس امنیت نداریم.")
    second = services.ask(_user("sara", domain), now - 18 * DAY, meeting, body_id=mayor.id,
                          text="خانه‌های جهادی محله سیزده آبان برای کمک به خانواده‌های کم‌برخوردار کجا تشکیل می‌شود؟")
    third = services.ask(_user("narges", domain), now - 17 * DAY, meeting, body_id=mayor.id,
                         text="برنامه دفترچه محله دولت‌آباد برای امسال چیست و چه زمانی اجرا می‌شود؟")
    park = services.ask(_user("fatemeh", domain), now - 16 * DAY, meeting, body_id=mayor.id,
                        text="پارک محله دولت‌آباد شب‌ها تاریک است و وسایل بازی کودکان شکسته؛ برای بهسازی آن "
                             "برنامه‌ای هست؟")
    for login in ("narges", "ali", "fatemeh"):
        services.support(_user(login, domain), now - 15 * DAY, first)
    services.support(_user("reza", domain), now - 15 * DAY, second)
    for login in ("ali", "narges"):
        services.support(_user(login, domain), now - 14 * DAY, park)
    services.move(organiser, now - 8 * DAY, meeting, MeetingStatus.HELD)
    recorded = now - 8 * DAY + dt.timedelta(hours=3)
    services.record_answer(organiser, recorded, first,
                           answer="طرح امنیت محله‌محور در حال اجراست؛ مجوز ۱۵ ایستگاه پلیس گرفته شده و یکی از "
                                  "آن‌ها در دولت‌آباد نصب می‌شود.", follow_up="case",
                           category_id=_category(district, "safety"))
    services.record_answer(organiser, recorded, second,
                           answer="تشکیل خانه‌های جهادی باید تسریع شود؛ محل آن با نظر شورایاران تا پایان ماه اعلام می‌شود.",
                           follow_up="none")
    services.record_answer(organiser, recorded, third,
                           answer="برنامه محلات بر اساس نظر شورایاران، بازدیدهای میدانی و اعتبار امسال تنظیم "
                                  "شده و در اختیار شورایاران قرار گرفته است.", follow_up="none")
    booklet = _programme(district, "dolatabad")
    committed = None
    if booklet is not None:
        committed = services.record_answer(
            organiser, recorded, park,
            answer="بهسازی پارک دولت‌آباد به دفترچه برنامه محله اضافه می‌شود: ۱۰ دستگاه وسایل بازی فرسوده "
                   "تعویض و مسیرهای پارک روشن می‌شود.", follow_up="commitment",
            commitment=promises.MeetingCommitment(
                promise_id=booklet.id, title="بهسازی پارک محله دولت‌آباد", indicator_kind="count",
                indicator_label="وسایل بازی تعویض‌شده", baseline="0", target="10",
                due_on=(now + 75 * DAY).date(), budget=3_000_000_000, currency="IRR"))
    services.record_attendance(organiser, recorded, meeting, headcount=22, present_body_ids={mayor.id, police.id})
    services.save_minutes(organiser, recorded, meeting, (
        "شورایاران محلات دولت‌آباد و سیزده آبان در این نشست حضور داشتند.\n\n"
        "- تهیه و نصب ۵ کانکس پلیس در دستور کار مدیریت شهری است؛ محل استقرار با نظر پلیس تعیین می‌شود.\n"
        "- تشکیل خانه‌های جهادی برای کمک به اقشار کم‌برخوردار تسریع می‌شود.\n"
        "- بهسازی پارک دولت‌آباد و تعویض ۱۰ دستگاه وسایل بازی به دفترچه برنامه محله اضافه شد.\n"
        "- رعایت زمان‌بندی برنامه‌های دفترچه محلات مورد تأکید قرار گرفت."))
    services.move(organiser, now - 7 * DAY, meeting, MeetingStatus.CLOSED)
    if committed is not None:
        promises.record_progress(_user("shahrdari.staff", domain), now - 2 * DAY, committed, percent=30, value=3,
                                 note="سه دستگاه وسایل بازی تازه در پارک نصب شد.")


def _programme(district: Municipality, slug: str) -> Promise | None:
    """The demo's published programme booklet of that neighbourhood (when the promises were loaded)."""
    return db.session.scalars(
        select(Promise).join(PromiseNeighbourhood, PromiseNeighbourhood.promise_id == Promise.id)
        .join(Neighbourhood, Neighbourhood.id == PromiseNeighbourhood.neighbourhood_id)
        .where(Promise.municipality_id == district.id, Neighbourhood.slug == slug, Promise.status == "published")
        .order_by(Promise.id)).first()
