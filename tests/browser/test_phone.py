"""At phone size (375×812 CSS px) the key pages do not scroll sideways and every tap target is
at least 24×24 CSS px (WCAG 2.2 SC 2.5.8), in every language."""
from __future__ import annotations

import pytest

from tests.browser.pages import NEIGHBOURHOOD, page_sets
from tests.browser.support import goto

PHONE = {"width": 375, "height": 812}
KEY_PAGES = {
    "visitor": ["home", "neighbourhood", "proposals", "proposal", "session with results", "case", "login",
                "register"],
    "resident": ["neighbourhood", "new proposal", "proposal with discussion", "session voting", "notifications"],
    "muhtar": ["muhtar desk", "residents and requests", "proposal with moderation", "ballot set-up", "announced session"],
    "staff": ["inbox", "case to act on"],
}

# Buttons and form controls must be 24×24 themselves. A link may be smaller when it sits in a
# sentence (the inline exception) or when a 24 px circle around it touches no other target
# (the spacing exception).
TAP_TARGETS = """() => {
    const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
    const visible = el => {
        const r = el.getBoundingClientRect(), style = getComputedStyle(el);
        return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && r.right > 0 && r.left < innerWidth;
    };
    const inSentence = el => {
        if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
        const block = el.parentElement;
        const own = (el.textContent || '').trim().length;
        return (block.textContent || '').trim().length > own + 2;
    };
    const targets = [...document.querySelectorAll(selector)].filter(visible)
        .map(el => ({el, r: el.getBoundingClientRect()}));
    const small = t => t.r.width < 23.5 || t.r.height < 23.5;
    const centre = r => [r.left + r.width / 2, r.top + r.height / 2];
    const distanceToBox = ([x, y], r) => Math.hypot(Math.max(r.left - x, 0, x - r.right), Math.max(r.top - y, 0, y - r.bottom));
    const describe = t => `${t.el.outerHTML.slice(0, 160)} (${Math.round(t.r.width)}×${Math.round(t.r.height)})`;
    const problems = [];
    for (const t of targets.filter(small)) {
        if (t.el.tagName === 'A' || t.el.getAttribute('role') === 'button' && t.el.tagName === 'IMG') {
            if (inSentence(t.el)) continue;
            const c = centre(t.r);
            const crowded = targets.some(o => o.el !== t.el && !o.el.contains(t.el) && !t.el.contains(o.el) && (
                distanceToBox(c, o.r) < 12 || (small(o) && Math.hypot(c[0] - centre(o.r)[0], c[1] - centre(o.r)[1]) < 24)));
            if (!crowded) continue;
            problems.push('link too small and too close to another target: ' + describe(t));
        } else {
            problems.push('control smaller than 24×24: ' + describe(t));
        }
    }
    return problems;
}"""

# What pokes out on the right or left: elements not inside a box that scrolls, or positioned ones
# (an absolutely positioned element escapes a scrolling box that is not positioned itself).
TOO_WIDE = """(width) => [...document.querySelectorAll('body *')].filter(el => {
        const r = el.getBoundingClientRect();
        if (!r.width || (r.right <= width + 1 && r.left >= -1) || el.closest('.skip-link')) return false;
        if (getComputedStyle(el).position === 'absolute') return true;
        for (let p = el.parentElement; p; p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== 'visible') return false;
        }
        return true;
    }).slice(0, 5).map(el => el.outerHTML.slice(0, 160))"""


def _targets_and_widths(page) -> list[str]:
    problems = []
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]")
    if max(widths[:2]) > PHONE["width"]:
        wide = page.evaluate(TOO_WIDE, PHONE["width"])
        problems.append(f"scrolls sideways: scrollWidth {widths[:2]} > {PHONE['width']}; too wide: {wide}")
    problems += page.evaluate(TAP_TARGETS)
    return problems


@pytest.fixture(scope="module")
def pages(site):
    return page_sets(site)


@pytest.mark.parametrize("lang", list(NEIGHBOURHOOD))
@pytest.mark.parametrize("role", list(KEY_PAGES))
def test_key_pages_fit_a_phone(site, contexts, pages, role, lang):
    page_set = pages[(role, lang)]
    paths = dict(page_set.paths)
    page = contexts.new(login=page_set.login, lang=lang, viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    problems = []
    for name in KEY_PAGES[role]:
        goto(page, paths[name])
        problems += [f"{name} ({paths[name]}, {lang}): {p}" for p in _targets_and_widths(page)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", list(NEIGHBOURHOOD))
def test_the_muhtar_desk_is_one_column_of_cards_on_a_phone(site, contexts, pages, lang):
    """Issue 11, point 6: on a phone the desk's sections stack, each as wide as the screen allows,
    with nothing clipped or scrolling sideways inside them."""
    page_set = pages[("muhtar", lang)]
    page = contexts.new(login=page_set.login, lang=lang, viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    goto(page, dict(page_set.paths)["muhtar desk"])
    boxes = page.evaluate("""() => [...document.querySelectorAll('.desk-section')].map(el => {
        const r = el.getBoundingClientRect();
        return {left: r.left, right: r.right, clipped: el.scrollWidth > el.clientWidth + 1};
    })""")
    assert len(boxes) == 7
    assert len({round(box["left"]) for box in boxes}) == 1  # one column
    assert all(box["right"] <= PHONE["width"] and box["left"] >= 0 and not box["clipped"] for box in boxes), boxes
    assert page.locator(".desk table, .desk-section table").count() == 0
    assert not _targets_and_widths(page)
