"""Surveys in the browser: a resident answers a survey on a phone in Persian (right to left,
Persian digits), and axe-core finds no WCAG 2.1 A/AA violation on the survey pages."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from assembly.accounts.models import User
from assembly.db import db, utcnow
from assembly.neighbourhoods.models import Neighbourhood
from assembly.surveys import responses, services
from assembly.surveys.models import Survey, SurveyParticipation
from tests.browser.pages import PEOPLE
from tests.browser.support import format_violations, goto, run_axe, submit
from tests.browser.test_phone import PHONE, _targets_and_widths

QUESTIONS = [
    dict(kind="single", prompt="کجای محله در شب احساس ناامنی می‌کنید؟",
         options=["میدان نماز", "بلوار دولت‌آباد", "پارک محله"], series="naamani-shab"),
    dict(kind="multiple", prompt="پلیس به چه چیزهایی بیشتر رسیدگی کند؟ (حداکثر دو مورد)",
         options=["مواد مخدر", "سرقت", "رانندگی پرخطر", "مزاحمت خیابانی"], max_choices=2),
    dict(kind="scale", prompt="شب‌ها در محله چقدر احساس امنیت می‌کنید؟"),
    dict(kind="ranking", prompt="این اقدام‌ها را رتبه‌بندی کنید", options=["روشنایی بیشتر", "گشت پلیس", "دوربین"]),
    dict(kind="text", prompt="پیشنهاد دیگری دارید؟"),
]


@pytest.fixture(scope="module")
def persian_surveys(site):
    """In Dowlatabad: a survey open now and one counted yesterday (paper questionnaires)."""
    with site.app.app_context():
        hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == "dolatabad"))
        muhtar = db.session.scalar(select(User).where(User.email.like(f"{PEOPLE['muhtar']['fa']}@%")))
        now = utcnow()
        ids = {}
        for name, opens, closes, made in (("open", now - dt.timedelta(hours=1), now + dt.timedelta(days=7), now),
                                          ("closed", now - dt.timedelta(days=10), now - dt.timedelta(minutes=5),
                                           now - dt.timedelta(days=11))):
            survey = services.create_survey(muhtar, made, hood, title=f"نظرسنجی امنیت محله ({name})",
                                            description="پلیس و شهرداری می‌خواهند بدانند چه چیزی برای شما مهم است.",
                                            audience="residents", opens_at=opens, closes_at=closes)
            for spec in QUESTIONS:
                services.add_question(muhtar, made, survey, **spec)
            services.publish(muhtar, made, survey)
            ids[name] = survey.id
        closed = db.session.get(Survey, ids["closed"])
        qs = [str(q.id) for q in closed.questions]
        for index in range(12):
            responses.enter_paper(muhtar, now, closed, {qs[0]: index % 3, qs[1]: [index % 4], qs[2]: 1 + index % 5,
                                                        qs[3]: [index % 3, (index + 1) % 3, (index + 2) % 3]},
                                  neighbourhood_id=None)
        responses.close_survey(closed, now)
        db.session.commit()
        return ids


def test_a_resident_answers_a_survey_on_a_phone_in_persian(site, contexts, persian_surveys):
    page = contexts.new(login=PEOPLE["resident"]["fa"], lang="fa", viewport=PHONE, is_mobile=True,
                        has_touch=True).new_page()
    path = f"/n/dolatabad/surveys/{persian_surveys['open']}"
    goto(page, path)
    assert page.locator("html").get_attribute("dir") == "rtl"
    problems = _targets_and_widths(page)
    assert not problems, "\n".join(problems)
    questions = page.locator("fieldset.question")
    assert questions.count() == 5
    questions.nth(0).get_by_label("پارک محله").check()
    questions.nth(1).get_by_label("سرقت").check()
    questions.nth(1).get_by_label("مواد مخدر").check()
    questions.nth(2).get_by_label("۴").check()  # the scale in Persian digits
    for index, place in enumerate(["۲", "۱", "۳"]):
        questions.nth(3).locator("select").nth(index).select_option(label=place)
    questions.nth(4).locator("textarea").fill("لطفاً چراغ‌های کوچهٔ پشت مدرسه را تعمیر کنید.")
    submit(page, page.locator("#answer form button[type=submit]"), status=200)
    assert "سپاس! پاسخ‌های شما ثبت شد." in page.locator("main").inner_text()
    assert "شما پاسخ داده‌اید" in page.locator("#answer").inner_text()
    problems = _targets_and_widths(page)
    assert not problems, "\n".join(problems)
    # Changing: the second answer replaces the first.
    page.locator("fieldset.question").nth(0).get_by_label("میدان نماز").check()
    submit(page, page.locator("#answer form button[type=submit]"), status=200)
    assert "پاسخ‌های شما تغییر کرد" in page.locator("main").inner_text()
    with site.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyParticipation).where(
            SurveyParticipation.survey_id == persian_surveys["open"])) == 1


def _survey_pages(persian_surveys) -> list[tuple[str | None, str, str]]:
    fa, sv = "/n/dolatabad/surveys", "/n/jarntorget/surveys"
    return [
        (None, "fa", f"{fa}/"), (None, "fa", f"{fa}/{persian_surveys['open']}"),
        (None, "fa", f"{fa}/{persian_surveys['closed']}/results"), (None, "fa", f"{fa}/series/naamani-shab"),
        (PEOPLE["resident"]["fa"], "fa", f"{fa}/{persian_surveys['open']}"),
        (PEOPLE["muhtar"]["fa"], "fa", f"{fa}/{persian_surveys['open']}/paper"),
        (PEOPLE["muhtar"]["fa"], "fa", f"{fa}/new"),
        (None, "sv", f"{sv}/"), (None, "sv", f"{sv}/2/results"), (None, "sv", f"{sv}/3"),
        (None, "sv", f"{sv}/series/trygghet-prioritering"),
        (PEOPLE["resident"]["sv"], "sv", f"{sv}/3"),
        (PEOPLE["muhtar"]["sv"], "sv", f"{sv}/2/moderation"), (PEOPLE["muhtar"]["sv"], "sv", f"{sv}/3/paper"),
        (None, "en", f"{sv}/2/results"),
    ]


def test_survey_pages_have_no_wcag_violations(site, contexts, axe_script, persian_surveys):
    problems = []
    for login, lang, path in _survey_pages(persian_surveys):
        context = contexts.new(login=login, lang=lang)
        context.add_init_script(path=str(axe_script))
        page = context.new_page()
        goto(page, path)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        violations = run_axe(page)
        if violations:
            problems.append(format_violations(f"{path} ({lang}, {login or 'visitor'})", violations))
        context.close()
    assert not problems, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(problems)
