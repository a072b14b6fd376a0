"""Surveys for tests: a neighbourhood with its muhtar and residents, and a survey of every kind
of question, published, with a clock around it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from assembly.db import db
from assembly.surveys import services
from assembly.surveys.models import Survey
from tests import factories

OPENS = dt.datetime(2030, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
CLOSES = OPENS + dt.timedelta(days=14)
BEFORE = OPENS - dt.timedelta(days=2)
DURING = OPENS + dt.timedelta(days=1)

QUESTIONS = [
    dict(kind="single", prompt="Where do you feel least safe?", options=["Järntorget", "Stadsparken", "Hamnen"],
         series="least-safe"),
    dict(kind="multiple", prompt="What should the police prioritise?",
         options=["Drugs", "Traffic", "Vandalism", "Noise"], max_choices=2),
    dict(kind="scale", prompt="How safe do you feel in the evening?"),
    dict(kind="ranking", prompt="Rank these measures", options=["Lighting", "Cameras", "Patrols"]),
    dict(kind="text", prompt="Anything else?"),
]


@dataclass
class World:
    hood: object
    muhtar: object
    residents: list
    survey: Survey
    other_hood: object = None
    questions: list = field(default_factory=list)

    def q(self, index: int) -> str:
        return str(self.survey.questions[index].id)


def world(*, audience: str = "residents", residents: int = 3, questions=QUESTIONS, hoods: int = 1,
          publish: bool = True) -> World:
    hood = factories.neighbourhood(locale="sv")
    other = factories.neighbourhood(owner=hood.municipality, locale="sv") if hoods > 1 else None
    muhtar = factories.muhtar(hood)
    if other is not None:
        factories.muhtar(other, muhtar)
    people = [factories.resident(hood) for _ in range(residents)]
    survey = services.create_survey(muhtar, BEFORE, hood, title="Trygghet i området", description="Hur trygg är du?",
                                    audience=audience, opens_at=OPENS, closes_at=CLOSES,
                                    neighbourhood_ids=[hood.id] + ([other.id] if other else []))
    for spec in questions:
        services.add_question(muhtar, BEFORE, survey, **spec)
    if publish:
        services.publish(muhtar, BEFORE, survey)
    db.session.flush()
    return World(hood=hood, muhtar=muhtar, residents=people, survey=survey, other_hood=other,
                 questions=list(survey.questions))


def full_answer(w: World, *, single=0, multiple=(0, 1), scale=4, ranking=(2, 0, 1), text="Mer ljus") -> dict:
    answers = {w.q(0): single, w.q(1): list(multiple), w.q(2): scale, w.q(3): list(ranking)}
    if text is not None:
        answers[w.q(4)] = text
    return answers
