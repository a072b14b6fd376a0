"""Demo consultation: Kadıköy's council puts a budget line to Caferağa and Osmanağa (the
"budget and zoning changes" on which the 002 seed promises neighbourhoods a say). Both
assemblies vote on it in a session, the muhtars send the counts with their comments before the
deadline, and the council records its decision on each answer's case.

Everything goes through the services on a simulated clock, so the counts are real tallies and
the case timelines are real hash chains.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.assemblies import services as assemblies
from assembly.assemblies import voting
from assembly.cases import services as cases
from assembly.consultations import files, services
from assembly.db import db
from assembly.neighbourhoods.models import Body, BodyStaff, Membership, MembershipRole, Neighbourhood

DAY = dt.timedelta(days=1)

TITLE = "2027 bütçesi: Moda sahili ve Kuşdili Caddesi aydınlatma yenilemesi"
TEXT = """\
Kadıköy Belediye Meclisi, 2027 yılı bütçe taslağına **4.200.000 TL** tutarında yeni bir kalem
eklemeyi öneriyor:

- Moda sahil yolu boyunca 64 eski direğin LED armatürle değiştirilmesi (2.650.000 TL),
- Kuşdili Caddesi ile Osmanağa çarşı sokaklarında 38 yeni direk (1.550.000 TL).

Çalışmanın 2027'nin ilk yarısında yapılması planlanıyor. Mahalle meclislerinin görüşü,
kalemin meclis bütçe komisyonunda görüşülmesinden önce alınacaktır. Ayrıntılar ekteki
taslakta ve keşif özetindedir.
"""

ANSWERS = {  # neighbourhood slug → (votes by login, the assembly's comment)
    "caferaga": ({"ayse": "yes", "mehmet": "yes", "zeynep": "no", "emre": "yes", "ilkay": "abstain"},
                 "Mahalle meclisi kalemi destekliyor. Moda sahilinde akşamları yürüyüş yolu karanlık kalıyor; "
                 "önceliğin **Moda Parkı ile iskele arası** olmasını istiyoruz. Armatürlerin sıcak beyaz ışıklı "
                 "olması ve deniz tarafına ışık taşmaması önerildi."),
    "osmanaga": ({"deniz": "no", "gul": "no"},
                 "Meclisimiz bu haliyle karşı. Kuşdili Caddesi'nde sorun direk sayısı değil, esnafın tabelaları "
                 "ve ağaçların ışığı kapatması. Önce mevcut direklerin bakımı ve ağaç budaması yapılsın; yeni "
                 "direkler için çarşı esnafıyla birlikte yerinde keşif istiyoruz."),
}

DECISIONS = {  # neighbourhood slug → (decision, the council's reasons)
    "caferaga": ("approved", "Bütçe komisyonu kalemi mahallenin önerisiyle birlikte kabul etti: çalışma Moda Parkı–"
                             "iskele arasından başlayacak, sıcak beyaz armatür kullanılacak (karar no. 2026/214)."),
    "osmanaga": ("rejected", "Kuşdili Caddesi için yeni direk bu bütçeden çıkarıldı; yerine bakım ve budama için "
                             "300.000 TL ayrıldı. Yerinde keşif Ocak ayında esnaf ve muhtarlıkla yapılacak."),
}


def _pdf(lines: list[str]) -> bytes:
    """A small one-page PDF (Latin-1 text in Helvetica), built by hand with a correct xref table."""
    text = "BT /F1 11 Tf 56 780 Td 15 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines) + " ET"
    stream = text.encode("latin-1", "replace")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


SUMMARY = ["Kadikoy Belediyesi - 2027 butce taslagi", "Aydinlatma yenilemesi: kesif ozeti", "",
           "Moda sahil yolu: 64 direk, LED armatur ........ 2.650.000 TL",
           "Kusdili Caddesi / Osmanaga carsi: 38 direk .... 1.550.000 TL",
           "Toplam ........................................ 4.200.000 TL"]


def _user(login: str, domain: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{login}@{domain}"))


def _muhtar(hood: Neighbourhood) -> User:
    return db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.neighbourhood_id == hood.id, Membership.role == MembershipRole.MUHTAR.value))


def load_consultations(now: dt.datetime, domain: str) -> int:
    council = db.session.scalar(select(Body).where(Body.slug == "meclis"))
    hoods = {hood.slug: hood for hood in db.session.scalars(select(Neighbourhood).where(
        Neighbourhood.slug.in_(ANSWERS)))}
    if council is None or len(hoods) != len(ANSWERS):
        return 0
    staff = db.session.scalar(select(User).join(BodyStaff, BodyStaff.user_id == User.id)
                              .where(BodyStaff.body_id == council.id).order_by(User.id))
    published, deadline = now - 30 * DAY, now - 3 * DAY
    consultation = services.create_consultation(
        staff, published, council, kind="budget", title=TITLE, text=TEXT, deadline=deadline,
        neighbourhood_ids=[hood.id for hood in hoods.values()],
        links=[services.Link("2027 bütçe taslağı (Belediye Meclisi gündemi)", "https://www.kadikoy.bel.tr/")],
        files=[services.Upload("kesif-ozeti-aydinlatma-2027.pdf", _pdf(SUMMARY))], storage=files.folder())
    for slug, (votes, comment) in ANSWERS.items():
        hood, muhtar = hoods[slug], _muhtar(hoods[slug])
        prepared, opens, closes = now - 26 * DAY, now - 25 * DAY, now - 21 * DAY
        assembly = assemblies.create_assembly(muhtar, prepared, hood, title="Bütçe görüşü: aydınlatma kalemi",
                                              meeting_start=opens + 8 * dt.timedelta(hours=1),
                                              meeting_end=opens + 10 * dt.timedelta(hours=1),
                                              place=f"{hood.name_in('tr')} Muhtarlığı")
        services.put_on_agenda(muhtar, prepared, assembly, consultation)
        assemblies.set_ballot(muhtar, prepared, assembly, method="yes_no", secrecy="secret", opens_at=opens,
                              closes_at=closes)
        assemblies.announce(muhtar, prepared, assembly)
        voting.advance(assembly, opens)
        key = str(assembly.items[0].id)
        for minute, (login, choice) in enumerate(votes.items(), start=1):
            voting.cast_vote(_user(login, domain), opens + minute * dt.timedelta(minutes=23), assembly, {key: choice})
        voting.advance(assembly, closes)
        _answer, case = services.send_answer(muhtar, closes + DAY, consultation, hood, comment=comment)
        cases.receive(staff, closes + 2 * DAY, case)
        decision, reasons = DECISIONS[slug]
        cases.decide(staff, now - 2 * DAY, case, decision=decision, note=reasons)
    return 1
