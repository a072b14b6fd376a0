"""Search folds Turkish casing (İ/i, I/ı), Arabic and Persian letter forms and diacritics,
on SQLite and PostgreSQL alike (the folding happens in Python, the database only compares)."""
from __future__ import annotations

import pytest

from assembly.proposals import services
from assembly.proposals.services import ProposalFilters
from assembly.text import fold, search_terms
from tests import proposal_factories as pf


def _found(w, query: str) -> list[str]:
    page = services.list_proposals(w.author, w.hood, ProposalFilters(query=query))
    return sorted(p.title for p in page.items)


@pytest.mark.parametrize("query", ["ISIK", "ışık", "IŞIK", "Işık", "isik", "ışıkları", "SOKAK IŞIK"])
def test_turkish_spellings_find_street_lights(w, query):
    pf.proposal(w, title="Sokak ışıkları", body="Moda'da lambalar yanmıyor.")
    pf.proposal(w, title="Çöp konteynerleri", body="Her gün taşıyor.")
    assert _found(w, query) == ["Sokak ışıkları"]


@pytest.mark.parametrize("query", ["İSTASYON", "istasyon", "Istasyon", "ıstasyon"])
def test_dotted_and_dotless_capitals_match(w, query):
    pf.proposal(w, title="İstasyon önüne bank", body="Yaşlılar ayakta bekliyor.")
    assert _found(w, query) == ["İstasyon önüne bank"]


@pytest.mark.parametrize("query", ["كوچه", "کوچه", "كوچة"])
def test_arabic_letter_forms_find_persian_text(w, query):
    pf.proposal(w, title="روشنایی کوچه", body="چراغ‌های کوچه خاموش است.")
    pf.proposal(w, title="درختکاری", body="پارک محله")
    assert _found(w, query) == ["روشنایی کوچه"]


def test_persian_digits_and_zero_width_non_joiner(w):
    pf.proposal(w, title="Otobüs ۱۲ durağı", body="چراغ‌ها خاموش")
    assert _found(w, "12") == ["Otobüs ۱۲ durağı"]
    assert _found(w, "چراغ ها") == ["Otobüs ۱۲ durağı"]


def test_search_covers_the_body_and_the_place_and_needs_every_word(w):
    pf.proposal(w, title="Lamps", body="The park is dark", address="Yoğurtçu Parkı")
    pf.proposal(w, title="Trees", body="The park needs shade")
    assert _found(w, "park") == ["Lamps", "Trees"]
    assert _found(w, "YOGURTCU") == ["Lamps"]
    assert _found(w, "park dark") == ["Lamps"]
    assert _found(w, "park nothing") == []


def test_like_wildcards_in_the_query_are_literal(w):
    pf.proposal(w, title="Lamps", body="Bright")
    pf.proposal(w, title="Discount 100% now", body="x")
    pf.proposal(w, title="file_name", body="x")
    assert _found(w, "_") == ["file_name"]  # an underscore is a word character, matched literally
    assert _found(w, "p_") == []
    assert _found(w, "100%") == ["Discount 100% now"]
    # Punctuation is not a search word at all: the query is empty and lists everything.
    assert _found(w, "%") == _found(w, "\\") == ["Discount 100% now", "Lamps", "file_name"]


def test_an_empty_query_lists_everything(w):
    pf.proposal(w, title="A")
    pf.proposal(w, title="B")
    assert _found(w, "") == _found(w, "  ,;  ") == ["A", "B"]


def test_the_search_key_follows_edits(w):
    proposal = pf.proposal(w, title="Old title")
    services.update_proposal(w.author, pf.factories.now(), proposal, pf.data(w.category, title="Yeni başlık"))
    assert _found(w, "BAŞLIK") == ["Yeni başlık"]
    assert _found(w, "old") == []


def test_fold_is_the_same_for_all_forms():
    assert len({fold(word) for word in ("ISIK", "ışık", "IŞIK", "Işık", "isik")}) == 1
    assert fold("كوچه") == fold("کوچه")
    assert search_terms("a b c d e f g h i j") == list("abcdefgh")  # at most eight words


@pytest.mark.parametrize("query", ["ISIK", "ışık", "IŞIK", "Işık", "كوچه"])
def test_the_list_page_searches_the_same_way(app, client, query):
    from assembly.db import db

    with app.app_context():
        w = pf.world(slug="moda")
        pf.proposal(w, title="Sokak ışıkları")
        pf.proposal(w, title="کوچه تاریک")
        pf.proposal(w, title="Çöp konteynerleri")
        db.session.commit()
    html = client.get("/n/moda/proposals", query_string={"q": query}).get_data(as_text=True)
    expected = "کوچه تاریک" if query == "كوچه" else "Sokak ışıkları"
    assert expected in html
    assert "Çöp konteynerleri" not in html
    assert ("Sokak ışıkları" in html) != ("کوچه تاریک" in html)
