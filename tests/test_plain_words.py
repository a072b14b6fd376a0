"""Words people read: ballots in plain words, counts with plural forms, separators and digits
that cannot be misread in any script (issue 11, points 11, 14 and 15)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import render_template_string
from flask_babel import force_locale

from assembly.i18n import format_coordinates, ngettext
from tests import assembly_factories as af
from tests.assembly_factories import OPENS, HOUR, client_of, committed
from tests.support import app_config, text

TEMPLATES = Path(__file__).resolve().parent.parent / "assembly" / "templates"


@pytest.fixture(scope="module")
def plain_app():
    """An app for formatting only; it never connects to its database."""
    from assembly import create_app
    return create_app(app_config("sqlite://"))


# --- point 15: counts -----------------------------------------------------------------------------

COUNTS = {
    "en": ("1 vote needed", "2 votes needed"),
    "sv": ("1 röst krävs", "2 röster krävs"),
    "tr": ("1 oy gerekli", "2 oy gerekli"),
    "fa": ("۱ رأی لازم", "۲ رأی لازم"),
}


@pytest.mark.parametrize("locale", sorted(COUNTS))
def test_counts_of_one_and_two_take_their_own_forms_in_templates(plain_app, locale):
    template = '{{ ngettext("%(num)s vote needed", "%(num)s votes needed", n, num=n|number) }}'
    with plain_app.test_request_context("/"), force_locale(locale):
        shown = tuple(render_template_string(template, n=n) for n in (1, 2))
    assert shown == COUNTS[locale]


@pytest.mark.parametrize("locale, one, two", [
    ("en", "You can choose at most 1 item.", "You can choose at most 2 items."),
    ("sv", "Du kan välja högst 1 punkt.", "Du kan välja högst 2 punkter."),
    ("tr", "En fazla 1 madde seçebilirsiniz.", "En fazla 2 madde seçebilirsiniz."),
    ("fa", "حداکثر ۱ مورد را می‌توانید انتخاب کنید.", "حداکثر ۲ مورد را می‌توانید انتخاب کنید."),
])
def test_counts_of_one_and_two_take_their_own_forms_in_code(plain_app, locale, one, two):
    with plain_app.test_request_context("/"), force_locale(locale):
        assert ngettext("You can choose at most %(num)s item.", "You can choose at most %(num)s items.", 1) == one
        assert ngettext("You can choose at most %(num)s item.", "You can choose at most %(num)s items.", 2) == two


# A message that starts with a count followed by a word is a count and needs ngettext; so does one
# that puts a count before "days", "hours", "minutes", "votes", "items" and the like.
COUNTED = re.compile(r"""(?<![n])_\(\s*["'][^"']*%\((num|hours|electorate)\)[sd] (days|hours|minutes|votes|items|"""
                     r"""supports|cases|residents|verified residents|comments|proposals|characters|rows|codes|ids|visible)\b""")


def test_no_count_in_a_template_or_module_is_written_without_plural_forms():
    root = TEMPLATES.parent
    offenders = [f"{path.relative_to(root)}: {match.group(0)}"
                 for path in [*root.rglob("*.html"), *root.rglob("*.txt"), *root.rglob("*.py")]
                 if "translations" not in path.parts and "migrations" not in path.parts
                 for match in COUNTED.finditer(path.read_text(encoding="utf-8"))]
    assert not offenders, "\n".join(offenders)


# --- point 11: ballots in plain words -------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "tr", "fa", "sv"])
def test_the_voting_help_page_explains_the_methods_in_every_language(client, lang):
    response = client.get(f"/help/voting?lang={lang}")
    assert response.status_code == 200
    page = text(response)
    assert "k =" not in page and "k:" not in page
    if lang == "en":
        assert "compares the items two at a time" in page and "Experts call this the Schulze method" in page


def test_a_session_page_explains_the_method_without_k_or_a_bare_method_name(app, clock):
    with committed(app):
        s = af.voting_open("ranked", "secret", items=3, k=2, voters=1)
        url, voter = s.url, s.voters[0]
    clock.now = OPENS + HOUR
    page = client_of(app, voter).get(url).get_data(as_text=True)
    words = re.sub(r"<[^>]+>", " ", page)
    assert "k =" not in words and "Schulze" not in words
    assert "2 items win" in words and "Ranked: put the items in your order of preference" in words
    assert "taken one pair at a time" in words and 'href="/help/voting"' in page
    # The instructions are not the legend (a long legend sits on the box's border).
    legend = re.search(r"<legend>(.*?)</legend>", page, re.S).group(1)
    assert legend.strip() == "Rank the items" and 'id="rank-instructions"' in page


@pytest.mark.parametrize("k, kind", [(1, "radio"), (2, "checkbox")])
def test_approval_with_a_single_choice_uses_radio_buttons(app, clock, k, kind):
    with committed(app):
        s = af.voting_open("approval", "secret", items=3, k=k, voters=1)
        url, voter, items = s.url, s.voters[0], s.items
    clock.now = OPENS + HOUR
    client = client_of(app, voter)
    page = client.get(url).get_data(as_text=True)
    inputs = re.findall(r'<input type="(\w+)" name="approve"', page)
    assert inputs == [kind] * 3
    if k == 1:
        assert "Choose one item" in page
        assert client.post(f"{url}/vote", data={"approve": items[1]}).status_code == 303


# --- point 14: separators, digits and punctuation ---------------------------------------------------

def test_no_template_uses_a_middle_dot_that_reads_as_a_persian_zero():
    offenders = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                 if "·" in path.read_text(encoding="utf-8")]
    assert not offenders


@pytest.mark.parametrize("locale, expected", [
    ("en", "41.01234, 29"),
    ("sv", "41,01234; 29"),
    ("tr", "41,01234; 29"),
    ("fa", "۴۱٫۰۱۲۳۴، ۲۹"),
])
def test_coordinates_are_written_the_reader_s_way(plain_app, locale, expected):
    with plain_app.test_request_context("/"), force_locale(locale):
        assert format_coordinates(41.012341, 29.0) == expected


def test_persian_quorum_shows_a_persian_percent_sign(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "open", items=1, voters=1, quorum_percent=25)
        url = s.url
    page = client_of(app).get(f"{url}?lang=fa").get_data(as_text=True)
    assert "۲۵٪" in page and "25%" not in page
