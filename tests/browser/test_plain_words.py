"""Words and layout people read (issue 11): ballots in plain words whose instructions sit inside
their box, the proposal form's coordinates behind the map (and plain fields without JavaScript),
Persian typography, and a header that fits one row on a phone with a favicon."""
from __future__ import annotations

import re

import pytest

from tests.browser.pages import NEIGHBOURHOOD, page_sets
from tests.browser.support import goto

PHONE = {"width": 375, "height": 812}
LANGS = list(NEIGHBOURHOOD)


@pytest.fixture(scope="module")
def pages(site):
    return page_sets(site)


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box


def _inside(inner: dict, outer: dict) -> bool:
    return (inner["x"] >= outer["x"] - .5 and inner["y"] >= outer["y"] - .5
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + .5
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + .5)


def _overlap(a: dict, b: dict) -> bool:
    return not (a["y"] + a["height"] <= b["y"] + .5 or b["y"] + b["height"] <= a["y"] + .5
                or a["x"] + a["width"] <= b["x"] + .5 or b["x"] + b["width"] <= a["x"] + .5)


# --- point 11 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_ranked_ballot_s_instructions_sit_inside_its_box(contexts, pages, viewport):
    page_set = pages[("resident", "fa")]  # the Persian demo neighbourhood votes with a ranked ballot
    page = contexts.new(login=page_set.login, lang="fa", viewport=viewport).new_page()
    goto(page, dict(page_set.paths)["session voting"])
    box = _box(page, "fieldset.ranked")
    legend, instructions = _box(page, "fieldset.ranked legend"), _box(page, "#rank-instructions")
    first_row = _box(page, "fieldset.ranked .rank-row")
    assert _inside(instructions, box), (instructions, box)
    assert instructions["y"] >= legend["y"] + legend["height"] - .5  # below the legend, not on the border
    assert not _overlap(instructions, first_row) and not _overlap(instructions, legend)
    words = page.locator("main").inner_text()
    assert "k =" not in words and "Schulze" not in words and "شولتز" not in words
    assert page.locator("#vote a[href='/help/voting']").count() == 1


def test_approval_with_one_choice_is_a_set_of_radio_buttons(contexts, pages):
    page_set = pages[("resident", "en")]  # the Turkish demo neighbourhood's open vote: approval, one item
    page = contexts.new(login=page_set.login, lang="en").new_page()
    goto(page, dict(page_set.paths)["session voting"])
    kinds = page.locator("#vote input[name=approve]").evaluate_all("els => els.map(e => e.type)")
    assert kinds and set(kinds) == {"radio"}
    radios = page.locator("#vote input[name=approve]")
    radios.nth(0).check()
    radios.nth(1).check()
    assert not radios.nth(0).is_checked() and radios.nth(1).is_checked()


# --- point 12 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_the_map_sets_the_coordinates_which_stay_folded_away(contexts, pages, lang):
    page_set = pages[("resident", lang)]
    page = contexts.new(login=page_set.login, lang=lang).new_page()
    goto(page, dict(page_set.paths)["new proposal"])
    page.wait_for_function("() => !document.getElementById('map-picker').hidden")
    assert not page.locator("#coordinates").evaluate("d => d.open")
    assert not page.locator("#latitude").is_visible() and page.locator("#map-help").is_visible()
    page.locator("#map-picker").scroll_into_view_if_needed()
    map_box = _box(page, "#map-picker")
    page.mouse.click(map_box["x"] + map_box["width"] / 2, map_box["y"] + map_box["height"] / 2)
    latitude, longitude = page.locator("#latitude").input_value(), page.locator("#longitude").input_value()
    assert re.fullmatch(r"-?\d+\.\d{6}", latitude) and re.fullmatch(r"-?\d+\.\d{6}", longitude)
    page.locator("#coordinates summary").click()
    assert page.locator("#latitude").is_visible()  # still there to correct by hand
    hint = page.locator("#body").evaluate("el => document.getElementById(el.getAttribute('aria-describedby')"
                                          ".split(' ')[0]).textContent")
    if lang != "en":
        assert not re.search(r"Markdown|\bbold\b|\bitalic\b", hint), hint


def test_without_javascript_the_coordinates_are_plain_fields(contexts, pages):
    page_set = pages[("resident", "tr")]
    page = contexts.new(login=page_set.login, lang="tr", javascript=False).new_page()
    goto(page, dict(page_set.paths)["new proposal"])
    assert not page.locator("#map-picker").is_visible()
    assert page.locator("#latitude").is_visible() and page.locator("#longitude").is_visible()
    page.fill("#latitude", "40.9869")
    assert page.locator("#latitude").input_value() == "40.9869"


# --- point 14 ---------------------------------------------------------------------------------------

def test_persian_pages_use_separators_digits_and_punctuation_that_read_right(contexts, pages):
    visitor = pages[("visitor", "fa")]
    paths = dict(visitor.paths)
    page = contexts.new(lang="fa").new_page()
    for name in ("neighbourhood", "proposals", "proposal", "session voting", "session with results"):
        goto(page, paths[name])
        main = page.locator("main").inner_text()
        assert "·" not in main, name
    goto(page, paths["session voting"])
    styles = page.locator("ol.agenda").evaluate("el => getComputedStyle(el).listStyleType")
    assert styles == "persian"
    facts = page.locator(".facts").inner_text()
    assert "٪" in facts and "%" not in facts
    assert not re.search(r"[0-9]", facts), facts  # every number in Persian digits
    goto(page, paths["neighbourhood"])
    assert "٪" in page.locator(".facts").first.inner_text()


# --- point 17 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("role", ["visitor", "muhtar"])
def test_the_header_is_one_row_on_a_phone(contexts, pages, lang, role):
    page_set = pages[(role, lang)]
    page = contexts.new(login=page_set.login, lang=lang, viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    goto(page, "/")
    brand, menu = _box(page, ".site-nav .brand"), _box(page, ".menu-button")
    header = _box(page, ".site-header")
    assert header["height"] <= 72, header
    assert abs((brand["y"] + brand["height"] / 2) - (menu["y"] + menu["height"] / 2)) < 8
    assert header["width"] <= PHONE["width"] and menu["x"] + menu["width"] <= PHONE["width"]
    assert not page.locator(".nav-links").is_visible()
    page.locator(".menu-toggle").click()
    assert page.locator(".nav-links").is_visible() and page.locator(".language-switcher").is_visible()
    if role == "muhtar":
        assert page.locator(".nav-links a[href='/muhtar']").is_visible()


def test_there_is_a_favicon(contexts):
    page = contexts.new().new_page()
    goto(page, "/")
    icons = page.locator("link[rel=icon]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert any(href.endswith(".svg") for href in icons) and any(href.endswith(".ico") for href in icons)
    for href in icons:
        response = page.request.get(href)
        assert response.status == 200 and response.headers["content-type"].startswith("image/"), href
