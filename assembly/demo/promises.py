"""Demo promises: the joint citizen promise of the police and the municipality for Järntorget in
Örebro (seed 004: a survey put drugs and violence in public space first; lighting, toilets,
cameras), answering the 2025 safety survey, with a commitment at every stage, one overdue and one
measured by a survey question (the share who feel unsafe at Järntorget, asked again in 2026); and the Tehran district 20 programme
booklet for Dowlatabad (seed 001: police kiosks and stations, lighting, a neighbourhood house)
with its timetable and budget."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import jdatetime
from sqlalchemy import select

from assembly.accounts.models import User
from assembly.db import db
from assembly.i18n import persian_digits
from assembly.neighbourhoods.models import Body, BodyStaff, Membership, Neighbourhood
from assembly.demo.photos import scene_upload, street_at_night
from assembly.promises import photos as progress_photos
from assembly.promises import services
from assembly.proposals.models import Proposal
from assembly.surveys.models import Survey

DAY = dt.timedelta(days=1)


@dataclass
class DemoCommitment:
    title: str
    description: str
    bodies: list[str]
    indicator: str
    label: str
    baseline: float | None
    target: float | None
    due: int  # days from now
    budget: int | None = None
    steps: list[tuple[int, int, float | None, str]] = field(default_factory=list)  # (days ago, %, value, note)
    survey: tuple[str, str, int] | None = None  # (survey title, question prompt, option number)


JARNTORGET_SUMMARY = """\
**Situationen i dag.** Hösten före löftet svarade 1 191 örebroare på en enkät om vad polisen och
kommunen ska prioritera. Flest valde narkotika- och alkoholrelaterad brottslighet (27 procent) och
våld i offentlig miljö (26 procent), med fokus runt Järntorget. Områdesstämman biföll också
förslaget om bättre belysning och kameror vid Järntorget.

**Så följer vi upp.** Polisen och kommunen redovisar läget här var sjätte månad och följer upp
löftet gemensamt innan perioden är slut. Följ med i hur det går!
"""

SAFETY_SURVEY = "Trygghetsenkät 2025: Örebro centrum"

JARNTORGET = [
    DemoCommitment("Arbeta mot narkotika i krogmiljön",
                   "Polisen utbildar krogpersonal och gör gemensamma tillsyner med kommunen enligt metoden "
                   "Krogar mot narkotika.", ["polisen"], "count", "Certifierade krogar runt Järntorget",
                   4, 20, 240, steps=[(200, 30, 8, "Första utbildningsomgången för krogpersonal är genomförd."),
                                      (60, 55, 13, "Fem nya krogar certifierade under våren.")]),
    DemoCommitment("Förbättra belysningen runt Järntorget",
                   "Kommunen byter och kompletterar armaturer på torget, i gångstråken och vid busshållplatsen.",
                   ["tekniska"], "count", "Nya eller utbytta armaturer", 0, 60, -20, budget=2_400_000,
                   steps=[(90, 40, 24, "Busshållplatsen och Järntorgsgatan klara; leveransen av resten är "
                                       "försenad.")]),
    DemoCommitment("Genomföra åtgärdsplan för offentliga toaletter",
                   "Toaletterna vid Järntorget rustas upp och hålls öppna och bemannade kvällstid.",
                   ["tekniska"], "yes_no", "Toaletterna öppna kvällstid", 0, 1, -60, budget=650_000,
                   steps=[(150, 50, None, "Upphandlingen klar."),
                          (100, 100, 1, "Toaletterna öppnade igen med väktare fredag och lördag kväll.")]),
    DemoCommitment("Utöka kamerabevakningen",
                   "Polisen ansöker om kamerabevakning av Järntorget; kommunen står för installationen.",
                   ["polisen", "tekniska"], "yes_no", "Kamerabevakning beviljad och i drift", 0, 1, 300),
    DemoCommitment("Öka tryggheten på kvällar och nätter",
                   "Fler polisiära närvaroinsatser och trygghetsvandringar med boende och fastighetsägare.",
                   ["polisen", "tekniska"], "survey_question", "Andel som känner sig otrygga vid Järntorget",
                   None, 45, 400, steps=[(20, 20, None, "Trygghetsenkäten i höstas: färre känner sig otrygga vid "
                                                        "Järntorget än året innan.")],
                   survey=(SAFETY_SURVEY, "Var i centrum känner du dig otrygg? (högst två)", 0)),
]

DOWLATABAD_SUMMARY = """\
این دفترچه برنامه محله بر اساس **نظر شورایاران**، بازدیدهای میدانی، برنامه پنج‌ساله و اعتبار سال
جاری تنظیم شده و در اختیار شورایاران قرار گرفته است. رعایت زمان‌بندی و تعامل بیش از پیش با
شورایاران اهمیت دارد؛ گزارش پیشرفت هر سه ماه یک بار منتشر می‌شود.
"""

DOWLATABAD = [
    DemoCommitment("تهیه و نصب کانکس‌های پلیس", "مکان استقرار کانکس‌ها با نظر پلیس و به صورت کارشناسی "
                   "تعیین می‌شود.", ["shahrdari", "kalantari"], "count", "کانکس مستقر در محلات منطقه",
                   0, 5, 90, budget=7_500_000_000,
                   steps=[(120, 20, 1, "نخستین کانکس در ضلع شمالی میدان نماز مستقر شد."),
                          (40, 40, 2, "کانکس دوم در بلوار دولت‌آباد نصب شد.")]),
    DemoCommitment("استقرار ایستگاه پلیس در محله", "بر اساس طرح امنیت محله‌محور، ایستگاه پلیس در "
                   "نقاط پرتردد محله مستقر می‌شود.", ["kalantari"], "count", "ایستگاه پلیس فعال در محله",
                   0, 2, 150),
    DemoCommitment("بهسازی روشنایی معابر بلوار دولت‌آباد", "نصب تیرهای چراغ و تعویض لامپ‌ها با لامپ کم‌مصرف "
                   "در بلوار و کوچه‌های اطراف.", ["shahrdari"], "count", "تیر چراغ نصب یا بهسازی‌شده",
                   0, 120, 60, budget=18_000_000_000,
                   steps=[(150, 30, 36, "فاز نخست بلوار انجام شد."),
                          (10, 65, 78, "کوچه‌های یاس و نسترن روشن شدند.")]),
    DemoCommitment("راه‌اندازی سرای محله دولت‌آباد", "ساختمان سرای محله برای جلسات شورایاری، کلاس‌ها "
                   "و خانه جهادی نیکوکاران آماده می‌شود.", ["shahrdari"], "yes_no", "سرای محله افتتاح شد",
                   0, 1, 140, budget=45_000_000_000,
                   steps=[(20, 25, None, "قرارداد بازسازی ساختمان بسته شد.")]),
]


def _staff(body: Body) -> User:
    return db.session.scalar(select(User).join(BodyStaff, BodyStaff.user_id == User.id)
                             .where(BodyStaff.body_id == body.id).order_by(User.id))


def _survey(title: str) -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.title == title))


def _muhtar(neighbourhood: Neighbourhood) -> User:
    return db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.neighbourhood_id == neighbourhood.id, Membership.role == "muhtar").order_by(User.id))


def _load(now: dt.datetime, *, hood_slug: str, kind: str, title: str, summary: str, bodies: list[str],
          start: dt.date, end: dt.date, every: int, proposal: str, commitments: list[DemoCommitment],
          currency: str, created_days_ago: int, report: tuple[str, str], comment: str,
          surveys: tuple[str, ...] = ()) -> None:
    hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == hood_slug))
    if hood is None:
        return
    by_slug = {b.slug: b for b in db.session.scalars(select(Body).where(Body.municipality_id == hood.municipality_id))}
    givers = [by_slug[slug] for slug in bodies]
    written = now - created_days_ago * DAY
    answered = db.session.scalars(select(Proposal).where(Proposal.neighbourhood_id == hood.id,
                                                         Proposal.title == proposal)).all()
    promise = services.create_promise(_staff(givers[0]), written, kind=kind, title=title, summary=summary,
                                      neighbourhoods=[hood], bodies=givers, period_start=start, period_end=end,
                                      report_every_months=every, proposals=list(answered),
                                      surveys=[_survey(title) for title in surveys if _survey(title)])
    made = []
    for spec in commitments:
        responsible = [by_slug[slug] for slug in spec.bodies]
        question_id = option = None
        if spec.survey is not None:
            found = _survey(spec.survey[0])
            if found is None:
                continue
            question_id = next(q.id for q in found.questions if q.prompt == spec.survey[1])
            option = spec.survey[2]
        made.append(services.add_commitment(
            _staff(responsible[0]), written, promise, title=spec.title, description=spec.description,
            bodies=responsible, indicator_kind=spec.indicator, indicator_label=spec.label, baseline=spec.baseline,
            target=spec.target, due_on=(now + spec.due * DAY).date(), budget=spec.budget,
            currency=currency if spec.budget is not None else None, survey_question_id=question_id,
            survey_option=option))
    signed = written + 2 * DAY
    for body in givers:
        services.sign(_staff(body), signed, promise, body)
    services.cosign(_muhtar(hood), signed + DAY, promise, hood)
    services.publish(_staff(givers[0]), signed + DAY, promise)
    specs = [spec for spec in commitments if spec.survey is None or _survey(spec.survey[0])]
    steps = sorted(((step[0], commitment, step[1:]) for commitment, spec in zip(made, specs)
                    for step in spec.steps), key=lambda item: -item[0])  # oldest first
    for number, (days, commitment, (percent, value, note)) in enumerate(steps):
        # The latest step comes with photos of the work, in the step's fingerprints like its note.
        uploads = [scene_upload(f"step-{i}.jpg", street_at_night, f"{title}-{i}") for i in (1, 2)] \
            if number == len(steps) - 1 else []
        progress_photos.record_with_photos(_staff(commitment.responsible[0].body), now - days * DAY, commitment,
                                           uploads=uploads, percent=percent, value=value, note=note)
    first_due = services.report_dates(promise)[0]
    if first_due < now.date():
        body = by_slug[report[0]]
        written_report = services.write_report(_staff(body), now - 5 * DAY, promise, body, first_due, report[1])
        services.comment_report(_muhtar(hood), now - 3 * DAY, written_report, hood, comment)


def load_promises(now: dt.datetime) -> None:
    start = (now - 300 * DAY).date()
    _load(now, hood_slug="jarntorget", kind="promise", title="Medborgarlöfte för Järntorget och city",
          summary=JARNTORGET_SUMMARY, bodies=["polisen", "tekniska"], start=start,
          end=services.add_months(start, 24) - DAY, every=6, proposal="Bättre belysning och kameror vid Järntorget",
          commitments=JARNTORGET, currency="SEK", created_days_ago=300, surveys=(SAFETY_SURVEY,),
          report=("polisen", "**Halvårsuppföljning.** Krogutbildningen är i gång och de första krogarna är "
                             "certifierade. Belysningen är försenad av leveransproblem; kommunen återkommer med "
                             "ny tidplan."),
          comment="Bra att krogarbetet syns. Boende vid busshållplatsen frågar när resten av belysningen kommer.")
    year = jdatetime.date.fromgregorian(date=(now - 200 * DAY).date()).year
    _load(now, hood_slug="dolatabad", kind="programme", title=f"دفترچه برنامه محله دولت‌آباد، سال {persian_digits(str(year))}",
          summary=DOWLATABAD_SUMMARY, bodies=["shahrdari", "kalantari"],
          start=jdatetime.date(year, 1, 1).togregorian(), end=jdatetime.date(year + 2, 1, 1).togregorian() - DAY,
          every=3, proposal="استقرار کانکس پلیس در میدان نماز", commitments=DOWLATABAD, currency="IRR",
          created_days_ago=min(200, (now.date() - jdatetime.date(year, 1, 1).togregorian()).days),
          report=("shahrdari", "گزارش سه‌ماهه: نخستین کانکس پلیس مستقر شد و فاز نخست روشنایی بلوار به پایان رسید."),
          comment="شورایاران از پیشرفت روشنایی راضی‌اند؛ زمان‌بندی ایستگاه پلیس را اعلام کنید.")
