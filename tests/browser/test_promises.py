"""Promises in a real browser: the Järntorget citizen promise (Swedish) and the Dowlatabad
programme booklet (Persian, right to left, Solar Hijri dates), as a page and as the printable
booklet, each clean under axe-core; staff see the progress form."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from assembly.promises.models import Promise
from tests.browser.support import format_violations, goto, run_axe

PROMISES = {"sv": "Medborgarlöfte för Järntorget och city", "fa": "دفترچه برنامه محله دولت‌آباد"}


def _promise_id(site, lang: str) -> int:
    with site.database() as session:
        return session.scalar(select(Promise.id).where(Promise.title.startswith(PROMISES[lang])))


def _inline_start_aligned(page, selector: str, rtl: bool) -> bool:
    """The element's text starts at the inline start of its container (right in RTL)."""
    return page.evaluate("""([selector, rtl]) => {
        const element = document.querySelector(selector);
        const range = document.createRange();
        range.selectNodeContents(element);
        const text = range.getBoundingClientRect();
        const box = element.getBoundingClientRect();
        return rtl ? Math.abs(box.right - text.right) < 4 : Math.abs(text.left - box.left) < 4;
    }""", [selector, rtl])


@pytest.mark.parametrize("lang", ["sv", "fa"])
def test_the_promise_page_and_its_booklet(site, contexts, axe_script, lang):
    promise_id = _promise_id(site, lang)
    context = contexts.new(lang=lang)
    context.add_init_script(path=str(axe_script))
    page = context.new_page()
    problems = []
    rtl = lang == "fa"

    goto(page, f"/promises/{promise_id}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if rtl else "ltr")
    assert PROMISES[lang] in page.locator("h1").inner_text()
    assert page.locator("svg.chart[role=img]").count() >= 4
    if lang == "sv":  # the lighting is overdue; the toilets are done
        assert "Förbättra belysningen runt Järntorget" in page.locator("#overdue-heading + ul").inner_text()
        assert page.locator(".state-done").count() >= 1
    else:  # Solar Hijri dates in Persian digits
        assert "۱۴۰" in page.locator("main").inner_text()
    assert _inline_start_aligned(page, "main h1", rtl)
    problems += [format_violations(f"promise page ({lang})", v) for v in [run_axe(page)] if v]

    goto(page, f"/promises/{promise_id}/booklet")
    assert page.locator("html").get_attribute("dir") == ("rtl" if rtl else "ltr")
    assert page.locator("svg.qr").count() == 1 and page.locator(".short-url").inner_text().endswith(f"/pr/{promise_id}")
    assert page.locator("main svg.chart").count() >= 4
    assert _inline_start_aligned(page, "main h1", rtl)
    problems += [format_violations(f"booklet ({lang})", v) for v in [run_axe(page)] if v]
    response = page.request.get(f"/promises/{promise_id}/booklet.pdf")
    assert response.ok and response.body().startswith(b"%PDF-")
    assert not problems, "\n".join(problems)


def test_staff_of_a_responsible_body_see_the_progress_form(site, contexts, axe_script):
    promise_id = _promise_id(site, "sv")
    context = contexts.new(login="polisen.staff", lang="sv")
    context.add_init_script(path=str(axe_script))
    page = context.new_page()
    goto(page, f"/promises/{promise_id}")
    forms = page.locator("form[action*='/progress']")
    assert forms.count() >= 2  # the police's open commitments, not the municipality's alone
    violations = run_axe(page)
    assert not violations, format_violations("promise page as police staff", violations)
