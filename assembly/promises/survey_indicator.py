"""A commitment measured by a survey question: the share of those who answered the question that
chose one of its options (e.g. "yes, I feel safe in the evening"), read from the surveys' counted
results (`surveys.results`), never typed in. The indicator's values over time are that share in
every counted survey that asks the question again (the same `series` key) for one of the promise's
neighbourhoods, oldest first."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from assembly.db import db
from assembly.errors import ValidationFailed
from assembly.surveys.models import QuestionKind, Survey, SurveyNeighbourhood, SurveyQuestion, SurveyStatus
from assembly.surveys.results import option_labels, survey_results

MEASURABLE = (QuestionKind.SINGLE.value, QuestionKind.MULTIPLE.value, QuestionKind.SCALE.value)
MAX_SURVEYS = 20


def _covering(neighbourhood_ids: set[int]):
    return select(SurveyNeighbourhood.survey_id).where(SurveyNeighbourhood.neighbourhood_id.in_(neighbourhood_ids))


def surveys_for(neighbourhood_ids: set[int], limit: int = 100) -> list[Survey]:
    """Published surveys (scheduled, open or closed) of these neighbourhoods, newest first."""
    if not neighbourhood_ids:
        return []
    return list(db.session.scalars(
        select(Survey).where(Survey.id.in_(_covering(neighbourhood_ids)), Survey.status != SurveyStatus.DRAFT.value)
        .order_by(Survey.closes_at.desc(), Survey.id.desc()).limit(limit)))


def question_choices(neighbourhood_ids: set[int]) -> list[tuple[str, str]]:
    """("<question id>:<option number>", "survey — question: option") for every measurable option."""
    surveys = surveys_for(neighbourhood_ids, limit=30)
    if not surveys:
        return []
    questions = db.session.scalars(select(SurveyQuestion).where(
        SurveyQuestion.survey_id.in_([s.id for s in surveys]), SurveyQuestion.kind.in_(MEASURABLE))
        .order_by(SurveyQuestion.survey_id.desc(), SurveyQuestion.position))
    titles = {s.id: s.title for s in surveys}
    return [(f"{q.id}:{index}", f"{titles[q.survey_id]} — {q.prompt}: {label}")
            for q in questions for index, label in enumerate(option_labels(q))]


def checked(neighbourhood_ids: set[int], question_id: int | None, option: int | None) -> SurveyQuestion:
    """The question, if it can measure a commitment of a promise for these neighbourhoods."""
    question = db.session.get(SurveyQuestion, question_id) if question_id else None
    if question is None or question.kind not in MEASURABLE or not (
            db.session.scalar(select(SurveyNeighbourhood.survey_id).where(
                SurveyNeighbourhood.survey_id == question.survey_id,
                SurveyNeighbourhood.neighbourhood_id.in_(neighbourhood_ids)).limit(1))):
        raise ValidationFailed(_("Choose a question with options from a survey of these neighbourhoods."),
                               "survey_question_id")
    if option is None or not 0 <= option < len(option_labels(question)):
        raise ValidationFailed(_("Choose one of the question's options."), "survey_question_id")
    return question


def describe(question_id: int, option: int) -> tuple[SurveyQuestion, str]:
    question = db.session.get(SurveyQuestion, question_id)
    return question, option_labels(question)[option]


def _share(survey: Survey, question: SurveyQuestion, label: str) -> float | None:
    results = survey_results(survey, questions=[question])
    if results is None:
        return None
    row = next((r for r in results.questions[0].total["rows"] if r["option"] == label), None)
    return float(row["percent"]) if row is not None and results.questions[0].total["answered"] else None


def points(neighbourhood_ids: set[int], question_id: int, option: int, zone: str) -> list[tuple[dt.date, float]]:
    """(day the survey closed, share in percent) for the question and its later askings."""
    question, label = describe(question_id, option)
    asked = select(SurveyQuestion, Survey).join(Survey, Survey.id == SurveyQuestion.survey_id).where(
        Survey.closed_at.is_not(None), Survey.id.in_(_covering(neighbourhood_ids)))
    asked = asked.where(SurveyQuestion.series == question.series) if question.series else asked.where(
        SurveyQuestion.id == question.id)
    found = []
    for other, survey in db.session.execute(asked.order_by(Survey.closed_at).limit(MAX_SURVEYS)):
        share = _share(survey, other, label)
        if share is not None:
            found.append((survey.closed_at.astimezone(ZoneInfo(zone)).date(), share))
    return found


def baseline(question: SurveyQuestion, option: int) -> float | None:
    """The share in the question's own survey, when it is counted: the natural baseline."""
    if question.survey.closed_at is None:
        return None
    return _share(question.survey, question, option_labels(question)[option])
