"""Right-to-left: in Persian the layout mirrors, measured on the rendered page (bounding boxes),
not only read from attributes; text that mixes scripts keeps the order the bidi algorithm gives it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from assembly.accounts.models import User
from assembly.db import utcnow
from assembly.neighbourhoods.models import Category, Neighbourhood
from assembly.proposals import discussion
from assembly.proposals import services as proposals
from tests.browser.support import goto

MIXED_TITLE = "روشنایی کوچه Moda Sahil ۱۲"
MIXED_COMMENT = "LED lamps از شهرداری خواسته شد"  # starts with Latin: a left-to-right paragraph

# The client rectangle of one occurrence of `word` in the text of the element, via a DOM Range.
WORD_BOX = """([selector, word]) => {
    const root = document.querySelector(selector);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.data.indexOf(word);
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + word.length);
        const r = range.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    }
    return null;
}"""


def word_box(page, selector: str, word: str) -> dict:
    box = page.evaluate(WORD_BOX, [selector, word])
    assert box is not None, f"{word!r} not found in {selector}"
    return box


def text_box(page, selector: str) -> dict:
    """Where the text of an element is drawn (a block's own box spans the whole line)."""
    return page.locator(selector).first.evaluate("""el => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const r = range.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    }""")


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not visible"
    return {**found, "right": found["x"] + found["width"], "bottom": found["y"] + found["height"]}


@pytest.fixture(scope="module")
def mixed_proposal(site) -> str:
    """A proposal in Dowlatabad whose title and comment mix Persian and Latin script."""
    now = utcnow()
    with site.database() as session:
        hood = session.scalar(select(Neighbourhood).where(Neighbourhood.slug == "dolatabad"))
        author = session.scalar(select(User).where(User.email.like("ali@%")))
        neighbour = session.scalar(select(User).where(User.email.like("fatemeh@%")))
        category = session.scalar(select(Category).where(Category.municipality_id == hood.municipality_id,
                                                         Category.slug == "lighting"))
        proposal = proposals.create_proposal(author, now, hood, proposals.ProposalInput(
            title=MIXED_TITLE, body="کوچه شب‌ها تاریک است؛ چراغ **LED 40W** پیشنهاد می‌شود.", category_id=category.id))
        discussion.add_comment(neighbour, now, proposal, MIXED_COMMENT)
        return f"/n/dolatabad/p/{proposal.id}"


@pytest.fixture
def persian(contexts):
    return contexts.new(lang="fa").new_page()


def test_the_page_is_right_to_left(persian):
    goto(persian, "/")
    assert persian.locator("html").get_attribute("dir") == "rtl"
    assert persian.locator("html").get_attribute("lang") == "fa"
    assert persian.evaluate("getComputedStyle(document.body).direction") == "rtl"


def test_the_navigation_starts_on_the_right(persian):
    goto(persian, "/")
    width = persian.viewport_size["width"]
    brand = box(persian, ".site-nav .brand")
    links = [box(persian, f".nav-links li:nth-child({n}) a") for n in (1, 2, 3)]
    languages = box(persian, ".language-switcher")
    assert brand["right"] > width - 200, f"the brand is not at the right edge: {brand}"
    assert brand["x"] > links[0]["right"] - 1
    assert links[0]["x"] > links[1]["right"] - 1 > links[2]["right"] - 1, links
    assert languages["x"] < links[-1]["x"], "the language switcher should sit at the far (left) end"
    # English, for comparison, starts on the left.
    goto(persian, "/?lang=en")
    assert box(persian, ".site-nav .brand")["x"] < 200


def test_form_labels_sit_at_the_right_of_their_fields(persian):
    goto(persian, "/account/register")
    for name in ("email", "display_name", "password", "locale"):
        label, field = text_box(persian, f"label[for={name}]"), box(persian, f"#{name}")
        assert abs(label["right"] - field["right"]) <= 2, f"{name}: label text {label} not at the right of {field}"
        assert label["left"] > field["x"] + field["width"] / 3, f"{name}: the label text does not start on the right"
        assert label["bottom"] <= field["y"] + 1, f"{name}: the label is not above its field"
    goto(persian, "/account/login")
    checkbox, label = box(persian, "#remember"), text_box(persian, "label[for=remember]")
    assert checkbox["x"] > label["right"] - 1, "a checkbox stands at the right of its label in Persian"


def test_mixed_script_title_keeps_its_order(persian, mixed_proposal):
    goto(persian, mixed_proposal)
    title = "main h1"
    words = {w: word_box(persian, title, w) for w in ("روشنایی", "کوچه", "Moda", "Sahil")}
    # The paragraph is right-to-left: Persian words run from the right ...
    assert words["روشنایی"]["left"] > words["کوچه"]["right"] - 1
    # ... the Latin run comes after them, i.e. further left, and keeps its own left-to-right order.
    assert words["کوچه"]["left"] > words["Sahil"]["right"] - 1
    assert words["Moda"]["right"] <= words["Sahil"]["left"] + 1
    letters = [word_box(persian, title, letter)["left"] for letter in ("M", "o", "d")]
    assert letters == sorted(letters), "the letters of “Moda” must not be reversed"
    heading = box(persian, title)
    assert abs(words["روشنایی"]["right"] - heading["right"]) < 4, "the title starts at the right edge"


def test_latin_first_content_stays_left_to_right_in_a_persian_page(persian, mixed_proposal):
    goto(persian, mixed_proposal)
    comment = "article.comment .user-text"
    lamps, asked = word_box(persian, comment, "LED"), word_box(persian, comment, "lamps")
    persian_word = word_box(persian, comment, "شهرداری")
    assert lamps["right"] <= asked["left"] + 1
    assert persian_word["left"] > asked["right"] - 1, "the paragraph runs left to right (it starts in Latin)"
    assert persian.locator(comment).evaluate("el => getComputedStyle(el).direction") == "ltr"
    # A Turkish title shown with the Persian interface: «Moda Parkı'ndaki …» reads left to right.
    goto(persian, "/n/caferaga/proposals")
    card = "a[href$='/p/1']"
    moda, park = word_box(persian, card, "Moda"), word_box(persian, card, "Parkı'ndaki")
    assert moda["right"] <= park["left"] + 1
    # A person's Latin name in <bdi> keeps its order too.
    goto(persian, "/n/caferaga")
    selma, surname = word_box(persian, "dl.facts bdi", "Selma"), word_box(persian, "dl.facts bdi", "Yıldırım")
    assert selma["right"] <= surname["left"] + 1


def test_persian_renders_with_a_real_font(persian):
    """Missing fonts show every letter as the same empty box: real glyphs differ in width."""
    goto(persian, "/")
    widths = persian.evaluate("""() => ['ا', 'ش', 'ه', 'م'].map(ch => {
        const span = document.createElement('span');
        span.textContent = ch.repeat(10);
        document.querySelector('main').append(span);
        const w = span.getBoundingClientRect().width;
        span.remove();
        return Math.round(w);
    })""")
    assert len(set(widths)) > 2, f"Persian letters all have the same width ({widths}): is a Persian font installed?"
