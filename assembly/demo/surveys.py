"""Demo surveys in Järntorget (Örebro), after the citizen promise of seed 004: police and
municipality asked everyone who lives or works in the area what to prioritise (1,191 answers;
drugs and alcohol 27 %, violence in public places 26 %).

Two closed safety surveys a year apart (the same questions, so they can be compared over time)
and one open survey. The closed surveys' questionnaires are written as the closing transaction
leaves them (anonymous rows, shuffled), in one bulk insert each, so the demo loads fast; the
open survey is answered through the service by the demo residents.
"""
from __future__ import annotations

import datetime as dt
import random
import secrets

from sqlalchemy import insert, select, update

from assembly.accounts.models import User
from assembly.db import db
from assembly.surveys import responses, services
from assembly.surveys.models import (
    Source,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyStatus,
    SurveyText,
    TextStatus,
)

PRIORITIES = ["Narkotika- och alkoholrelaterad brottslighet", "Våld i offentlig miljö",
              "Skadegörelse och nedskräpning", "Trafiksäkerhet", "Ungdomsbrottslighet", "Stölder och inbrott"]
PLACES = ["Järntorget", "Stortorget", "Resecentrum", "Stadsparken", "Hamnen"]
MEASURES = ["Bättre belysning", "Kameraövervakning", "Fler polispatruller på kvällar", "Fältgruppen ute bland unga"]

QUESTIONS = [
    dict(kind="single", prompt="Vilket område ska polis och kommun prioritera de kommande åren?", options=PRIORITIES,
         series="trygghet-prioritering"),
    dict(kind="multiple", prompt="Var i centrum känner du dig otrygg? (högst två)", options=PLACES, max_choices=2,
         series="trygghet-platser"),
    dict(kind="scale", prompt="Hur trygg känner du dig i centrum på kvällen? (1 = inte alls, 5 = mycket)",
         series="trygghet-kvall"),
    dict(kind="ranking", prompt="Rangordna åtgärderna: vad gör mest nytta?", options=MEASURES),
    dict(kind="text", prompt="Vad mer vill du säga till polisen och kommunen?"),
]

TEXTS = [
    ("Belysningen i gångtunneln vid Resecentrum är trasig sedan länge.", True),
    ("Det behövs fler vuxna ute på kvällarna, inte bara kameror.", True),
    ("Tack för att ni frågar oss! Trygghetsvandringen i våras var bra.", True),
    ("Bänkarna vid Järntorget används för langning på kvällarna.", True),
    ("Ring mig så berättar jag vem som säljer vid busshållplatsen, 070-123 45 67", False),
    ("Mer städning efter helgerna runt Stortorget.", None),
]


def _weighted(rng: random.Random, weights: list[float]) -> int:
    return rng.choices(range(len(weights)), weights=weights)[0]


def _questionnaire(rng: random.Random, question_ids: list[str], weights: dict) -> dict:
    places = sorted(set(rng.choices(range(len(PLACES)), weights=weights["places"], k=rng.choice((1, 2)))))
    ranking = sorted(range(len(MEASURES)), key=lambda i: rng.random() / weights["measures"][i])
    return {question_ids[0]: _weighted(rng, weights["priority"]), question_ids[1]: places,
            question_ids[2]: 1 + _weighted(rng, weights["scale"]), question_ids[3]: ranking}


def _closed_survey(muhtar, hood, title: str, opens: dt.datetime, closes: dt.datetime, counts: dict, weights: dict,
                   seed: int, texts: bool) -> Survey:
    survey = services.create_survey(muhtar, opens - dt.timedelta(days=7), hood, title=title,
                                    description="Polisen och Örebro kommun vill veta vad du som bor eller arbetar "
                                                "i centrum tycker att vi ska prioritera. Svaren ligger till grund "
                                                "för medborgarlöftet för de kommande åren.",
                                    audience="area", opens_at=opens, closes_at=closes)
    for spec in QUESTIONS:
        services.add_question(muhtar, opens - dt.timedelta(days=7), survey, **spec)
    services.publish(muhtar, opens - dt.timedelta(days=6), survey)
    ids = [str(q.id) for q in survey.questions]
    rng = random.Random(seed)
    rows = []
    for source, number in counts.items():
        for _ in range(number):
            rows.append({"id": secrets.token_hex(16), "survey_id": survey.id, "source": source,
                         "neighbourhood_id": hood.id, "answers": _questionnaire(rng, ids, weights)})
    rng.shuffle(rows)
    db.session.execute(insert(SurveyAnswer), rows)
    if texts:
        db.session.execute(insert(SurveyText), [
            {"id": secrets.token_hex(16), "survey_id": survey.id, "question_id": int(ids[4]), "body": body,
             "status": TextStatus.PENDING.value if verdict is None else
             (TextStatus.PUBLISHED.value if verdict else TextStatus.REJECTED.value),
             "moderated_by_id": None if verdict is None else muhtar.id,
             "moderated_at": None if verdict is None else closes + dt.timedelta(days=2)} for body, verdict in TEXTS])
    online = counts.get(Source.VERIFIED.value, 0) + counts.get(Source.UNVERIFIED.value, 0)
    # Who answered online: invented people, each known by a confirmed address's hash (demo only).
    db.session.execute(insert(SurveyParticipation), [
        {"survey_id": survey.id, "user_id": None, "email_hash": secrets.token_hex(32), "neighbourhood_id": hood.id,
         "source": source, "answered_at": opens + (closes - opens) * rng.random(), "sealed": None}
        for source in (Source.VERIFIED.value, Source.UNVERIFIED.value) for _ in range(counts.get(source, 0))])
    db.session.execute(update(Survey).where(Survey.id == survey.id).values(
        status=SurveyStatus.CLOSED.value, closed_at=closes, respondents=online,
        paper_count=counts.get(Source.PAPER.value, 0)))
    db.session.expire(survey)
    return survey


def load_surveys(hood, muhtar, now: dt.datetime, domain: str) -> None:
    if hood.slug != "jarntorget":
        return
    this_year = {"priority": [27, 26, 15, 12, 12, 8], "places": [40, 15, 25, 12, 8], "scale": [14, 24, 30, 22, 10],
                 "measures": [1.4, 1.0, 1.3, 1.1]}
    last_year = {"priority": [22, 29, 17, 13, 10, 9], "places": [45, 14, 22, 11, 8], "scale": [18, 27, 29, 18, 8],
                 "measures": [1.5, 1.1, 1.2, 1.0]}
    _closed_survey(muhtar, hood, "Trygghetsenkät 2025: Örebro centrum", now - dt.timedelta(days=400),
                   now - dt.timedelta(days=379), {"verified": 64, "unverified": 181, "paper": 38}, last_year,
                   seed=2025, texts=False)
    _closed_survey(muhtar, hood, "Trygghetsenkät 2026: Örebro centrum", now - dt.timedelta(days=45),
                   now - dt.timedelta(days=24), {"verified": 96, "unverified": 248, "paper": 61}, this_year,
                   seed=2026, texts=True)
    survey = services.create_survey(
        muhtar, now - dt.timedelta(days=5), hood, title="Trygghetsvandring i december: var ska vi gå?",
        description="Vi planerar nästa trygghetsvandring med polisen och fastighetsägarna. Berätta var du vill "
                    "att vi går och vad vi ska titta på.", audience="area",
        opens_at=now - dt.timedelta(days=2), closes_at=now + dt.timedelta(days=20))
    services.add_question(muhtar, now - dt.timedelta(days=5), survey, kind="multiple",
                          prompt="Vilka platser ska trygghetsvandringen besöka? (högst tre)", options=PLACES,
                          max_choices=3)
    services.add_question(muhtar, now - dt.timedelta(days=5), survey, kind="scale",
                          prompt="Hur trygg känner du dig i centrum på kvällen? (1 = inte alls, 5 = mycket)",
                          series="trygghet-kvall")
    services.add_question(muhtar, now - dt.timedelta(days=5), survey, kind="text",
                          prompt="Finns det en särskild plats vi ska titta på?")
    services.publish(muhtar, now - dt.timedelta(days=4), survey)
    ids = [str(q.id) for q in survey.questions]
    answers = {"erik": ({ids[0]: [0, 2], ids[1]: 2}, "Gångtunneln vid Resecentrum"),
               "amina": ({ids[0]: [0], ids[1]: 3}, ""), "lars": ({ids[0]: [3, 4], ids[1]: 4}, "")}
    for login, (answer, text) in answers.items():
        person = db.session.scalar(select(User).where(User.email == f"{login}@{domain}"))
        responses.respond(person, now - dt.timedelta(days=1), survey, {**answer, ids[2]: text})
