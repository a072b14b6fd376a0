"""Survey results: counts and percentages per option, broken down by who answered (verified
residents, unverified, paper) and by neighbourhood, with groups smaller than SURVEY_MIN_GROUP
hidden; moderated free texts; the same question compared over time (its series key).

`question_result(question_id)` is the service other domains use (e.g. a promise's indicator).
Results exist once a survey is closed and counted (`surveys.closed_at`); before that they are None.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from assembly import permissions
from assembly.db import db
from assembly.errors import InvalidTransition, NotFound
from assembly.surveys.models import (
    QuestionKind,
    Source,
    Survey,
    SurveyAnswer,
    SurveyNeighbourhood,
    SurveyQuestion,
    SurveyText,
    TextStatus,
)
from assembly.surveys.services import SCALE

SOURCES = (Source.VERIFIED.value, Source.UNVERIFIED.value, Source.PAPER.value)


def percent(count: int, total: int) -> Decimal:
    if not total:
        return Decimal("0.0")
    return (Decimal(count) * 100 / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _one_decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def option_labels(question: SurveyQuestion) -> list[str]:
    if question.kind == QuestionKind.SCALE.value:
        return [str(n) for n in SCALE]
    return list(question.options)


def _tally(question: SurveyQuestion, answers: list) -> dict:
    """Counts for one question over the given answers (each the stored value, or None)."""
    labels = option_labels(question)
    given = [a for a in answers if a is not None]
    answered = len(given)
    counts = Counter()
    rank_sum = Counter()
    if question.kind in (QuestionKind.SINGLE.value,):
        counts.update(given)
    elif question.kind == QuestionKind.MULTIPLE.value:
        for chosen in given:
            counts.update(chosen)
    elif question.kind == QuestionKind.SCALE.value:
        counts.update(value - 1 for value in given)
    elif question.kind == QuestionKind.RANKING.value:
        for order in given:
            counts[order[0]] += 1
            for place, option in enumerate(order, start=1):
                rank_sum[option] += place
    rows = []
    for index, label in enumerate(labels):
        row = {"option": label, "count": counts[index], "percent": percent(counts[index], answered)}
        if question.kind == QuestionKind.RANKING.value:
            row["mean_rank"] = _one_decimal(rank_sum[index] / answered if answered else None)
        rows.append(row)
    result = {"answered": answered, "rows": rows}
    if question.kind == QuestionKind.SCALE.value:
        result["mean"] = _one_decimal(sum(given) / answered if answered else None)
    return result


@dataclass
class QuestionResult:
    question: SurveyQuestion
    total: dict
    groups: list[dict] = field(default_factory=list)   # {"key", "label", "hidden", "answered", "rows"}
    texts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        q = self.question
        return {"question_id": q.id, "survey_id": q.survey_id, "kind": q.kind, "prompt": q.prompt,
                "series": q.series, "options": option_labels(q), **self.total,
                "groups": [{key: value for key, value in g.items() if key != "label"} for g in self.groups],
                "texts": list(self.texts)}


@dataclass
class SurveyResults:
    survey: Survey
    questionnaires: int
    by_source: dict[str, int]
    questions: list[QuestionResult]
    min_group: int


def min_group() -> int:
    return int(current_app.config["SURVEY_MIN_GROUP"])


def source_label(source: str) -> str:
    return {Source.VERIFIED.value: _("Verified residents"), Source.UNVERIFIED.value: _("Not verified"),
            Source.PAPER.value: _("Paper questionnaires")}.get(source, source)


def survey_results(survey: Survey, *, questions: list[SurveyQuestion] | None = None) -> SurveyResults | None:
    """All results of a closed survey, in two statements (questionnaires, published texts)."""
    if survey.closed_at is None:
        return None
    questions = list(survey.questions) if questions is None else questions
    rows = db.session.execute(select(SurveyAnswer.source, SurveyAnswer.neighbourhood_id, SurveyAnswer.answers)
                              .where(SurveyAnswer.survey_id == survey.id)).all()
    texts: dict[int, list[str]] = defaultdict(list)
    for question_id, body in db.session.execute(
            select(SurveyText.question_id, SurveyText.body).where(
                SurveyText.survey_id == survey.id, SurveyText.status == TextStatus.PUBLISHED.value)
            .order_by(SurveyText.body)):
        texts[question_id].append(body)
    smallest = min_group()
    by_source = Counter(source for source, _hood, _a in rows if source is not None)
    by_hood = Counter(hood for _s, hood, _a in rows if hood is not None)
    hoods = sorted(survey.neighbourhoods, key=lambda h: h.slug)
    results = []
    for question in questions:
        key = str(question.id)
        total = _tally(question, [answers.get(key) for _s, _h, answers in rows])
        groups = []
        for source in SOURCES:
            size = by_source[source]
            if size == 0:
                continue
            group = {"key": source, "label": source_label(source), "hidden": size < smallest, "questionnaires": size}
            if not group["hidden"]:
                group.update(_tally(question, [a.get(key) for s, _h, a in rows if s == source]))
            groups.append(group)
        if len(hoods) > 1:
            for hood in hoods:
                size = by_hood[hood.id]
                if size == 0:
                    continue
                group = {"key": f"neighbourhood:{hood.slug}", "label": hood.name_in(hood.default_locale),
                         "neighbourhood": hood, "hidden": size < smallest, "questionnaires": size}
                if not group["hidden"]:
                    group.update(_tally(question, [a.get(key) for _s, h, a in rows if h == hood.id]))
                groups.append(group)
        results.append(QuestionResult(question=question, total=total, groups=groups, texts=texts[question.id]))
    return SurveyResults(survey=survey, questionnaires=len(rows), by_source=dict(by_source), questions=results,
                         min_group=smallest)


def question_result(question_id: int) -> dict | None:
    """Counts and percentages of one question of a closed survey (None before it is counted, or
    for no such question): the service a joint promise can use as an indicator.

    {"question_id", "survey_id", "kind", "prompt", "series", "options", "answered",
     "rows": [{"option", "count", "percent"(Decimal, of those who answered) [, "mean_rank"]}],
     ["mean" for a 1–5 scale], "groups": [...], "texts": [published free texts]}
    """
    question = db.session.get(SurveyQuestion, question_id)
    if question is None:
        return None
    results = survey_results(question.survey, questions=[question])
    if results is None:
        return None
    return results.questions[0].as_dict()


# --- moderation of free texts --------------------------------------------------------------------------

def texts_to_moderate(actor, survey: Survey) -> list[SurveyText]:
    """Every free text of a closed survey, ordered by what it says (never by arrival)."""
    permissions.require(actor, "moderate_survey", survey)
    return list(db.session.scalars(select(SurveyText).where(SurveyText.survey_id == survey.id)
                                   .order_by(SurveyText.question_id, SurveyText.status, SurveyText.body)))


def moderate_text(actor, now: dt.datetime, survey: Survey, text_id: str, publish: bool) -> SurveyText:
    permissions.require(actor, "moderate_survey", survey)
    if survey.closed_at is None:
        raise InvalidTransition(_("Free-text answers can be published once the survey is closed."))
    text = db.session.get(SurveyText, text_id)
    if text is None or text.survey_id != survey.id:
        raise NotFound(_("There is no such answer."))
    text.status = TextStatus.PUBLISHED.value if publish else TextStatus.REJECTED.value
    text.moderated_by_id = actor.id
    text.moderated_at = now
    db.session.flush()
    return text


# --- over time -----------------------------------------------------------------------------------

def series_keys(neighbourhood_id: int) -> list[str]:
    return list(db.session.scalars(
        select(SurveyQuestion.series).distinct()
        .join(SurveyNeighbourhood, SurveyNeighbourhood.survey_id == SurveyQuestion.survey_id)
        .join(Survey, Survey.id == SurveyQuestion.survey_id)
        .where(SurveyNeighbourhood.neighbourhood_id == neighbourhood_id, SurveyQuestion.series.is_not(None),
               Survey.closed_at.is_not(None)).order_by(SurveyQuestion.series)))


def series_comparison(neighbourhood_id: int, series: str) -> dict:
    """The question of a series in every counted survey of the neighbourhood, oldest first:
    {"surveys": [(survey, question, result dict)], "options": [every option text, in first-seen order]}."""
    found = db.session.execute(
        select(SurveyQuestion, Survey)
        .join(Survey, Survey.id == SurveyQuestion.survey_id)
        .join(SurveyNeighbourhood, SurveyNeighbourhood.survey_id == Survey.id)
        .where(SurveyNeighbourhood.neighbourhood_id == neighbourhood_id, SurveyQuestion.series == series,
               Survey.closed_at.is_not(None))
        .order_by(Survey.closes_at).limit(20)).all()
    entries, options = [], []
    for question, survey in found:
        result = survey_results(survey, questions=[question]).questions[0]
        percents = {row["option"]: row for row in result.total["rows"]}
        for option in percents:
            if option not in options:
                options.append(option)
        entries.append((survey, question, result.total, percents))
    return {"entries": entries, "options": options}


def csv_rows(results: SurveyResults) -> list[list[str]]:
    """The aggregated results as CSV rows (no questionnaire, no free text): one row per question,
    group and option."""
    header = [_("Question"), _("Group"), _("Option"), _("Count"), _("Percent"), _("Answered"), _("Mean rank")]
    out = [header]
    for result in results.questions:
        question = result.question
        if question.kind == QuestionKind.TEXT.value:
            continue
        for group in [{"label": _("Everyone"), "hidden": False, **result.total}] + result.groups:
            if group["hidden"]:
                out.append([question.prompt, group["label"], _("(group too small to show)"), "", "", "", ""])
                continue
            for row in group["rows"]:
                out.append([question.prompt, group["label"], row["option"], str(row["count"]), str(row["percent"]),
                            str(group["answered"]), "" if row.get("mean_rank") is None else str(row["mean_rank"])])
    return out
