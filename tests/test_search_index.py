"""Word search through the index finds what the plain scan found (issue 14), on both databases.

The reference is the scan the list used before the index: a proposal matches when its folded
search key contains every folded word of the query. Results are compared as sets, and the
order of a search is checked on its own.
"""
from __future__ import annotations

import pytest

from assembly.proposals import search, services
from assembly.proposals.services import MAX_PAGE, PAGE_SIZE, ProposalFilters
from assembly.text import fold, search_terms
from tests import factories
from tests import proposal_factories as pf

TEXTS = [
    ("Sokak ışıkları yanmıyor", "Moda'da lambalar karanlık."),
    ("İstasyon önüne bank", "Yaşlılar ayakta bekliyor, ISIK da yok."),
    ("روشنایی کوچه", "چراغ‌های کوچه خاموش است."),
    ("كوچة باريك", "پیاده‌رو ۱۲ متر"),
    ("Otobüs 12 durağı", "Durakta gölgelik yok."),
    ("Lampor på gatan", "Det är mörkt vid busshållplatsen."),
    ("file_name 100% now", "Underscores and percent signs"),
    ("Park", "The park is dark at night"),
    ("Trees for the park", "Shade in summer, ab"),
    ("Ağaç dikimi", "Mahallede hiç ağaç yok, parkta da."),
]
QUERIES = ["ışık", "ISIK", "İSTASYON", "istasyon", "كوچه", "کوچه", "۱۲", "12", "park", "PARK dark", "ağaç",
           "AGAC", "_", "file_", "100", "gatan", "ab", "ab park", "ka", "zzzz", "street lamps", "چراغ ها", "mörkt"]


@pytest.fixture
def w(ctx):
    w = pf.world()
    for title, body in TEXTS:
        pf.proposal(w, title=title, body=body)
    return w


def _reference(w, query: str) -> set[str]:
    """The plain scan: every word of the query inside the folded key."""
    terms = search_terms(query)
    found = set()
    for title, body in TEXTS:
        key = fold(f"{title} {body} ")
        if all(term in key for term in terms):
            found.add(title)
    return found


@pytest.mark.parametrize("query", QUERIES)
def test_the_index_finds_what_the_scan_found(w, query):
    page = services.list_proposals(w.author, w.hood, ProposalFilters(query=query))
    assert {p.title for p in page.items} == _reference(w, query)
    assert page.total == len(_reference(w, query))


@pytest.mark.parametrize("sort", ["newest", "supported", "discussed", "relevant"])
def test_every_order_of_a_search_finds_the_same_proposals(w, sort):
    page = services.list_proposals(w.author, w.hood, ProposalFilters(query="park", sort=sort))
    assert {p.title for p in page.items} == _reference(w, "park")


def test_a_search_is_ranked_title_first(w):
    # "park" opens the key of "Park", ends the title of "Trees for the park", is in the text of "Ağaç dikimi".
    page = services.list_proposals(w.author, w.hood, ProposalFilters(query="park"))
    assert [p.title for p in page.items] == ["Park", "Trees for the park", "Ağaç dikimi"]
    newest = services.list_proposals(w.author, w.hood, ProposalFilters(query="park", sort="newest"))
    assert [p.title for p in newest.items] == ["Ağaç dikimi", "Trees for the park", "Park"]


def test_the_index_follows_edits_withdrawals_and_other_neighbourhoods(w):
    proposal = pf.proposal(w, title="Çöp konteyneri")
    assert _titles(w, "konteyner") == {"Çöp konteyneri"}
    services.update_proposal(w.author, factories.now(), proposal, pf.data(w.category, title="Yeni başlık"))
    assert _titles(w, "konteyner") == set()
    assert _titles(w, "BAŞLIK") == {"Yeni başlık"}
    elsewhere = pf.world()
    pf.proposal(elsewhere, title="Başlık başka mahallede")
    assert _titles(w, "başlık") == {"Yeni başlık"}
    services.withdraw_proposal(w.author, factories.now(), proposal)
    assert _titles(w, "başlık") == set()  # withdrawn: not in the current list
    assert _titles(w, "başlık", status="withdrawn") == {"Yeni başlık"}


def _titles(w, query: str, **filters) -> set[str]:
    return {p.title for p in services.list_proposals(w.author, w.hood, ProposalFilters(query=query, **filters)).items}


def test_filters_combine_with_a_search_as_before(w):
    other_kind = pf.category(w.hood)
    pf.proposal(pf.World(w.hood, w.muhtar, other_kind, w.author), title="Park bench", body="x")
    assert _titles(w, "park", category_id=other_kind.id) == {"Park bench"}
    assert _titles(w, "park", category_id=w.category.id) == _reference(w, "park")
    assert _titles(w, "park", ready=True) == set()  # none has reached the threshold


def test_deep_pages_are_capped_where_the_count_stops(w, monkeypatch):
    monkeypatch.setattr(services, "COUNT_CAP", 4)
    monkeypatch.setattr(services, "MAX_PAGE", 2)
    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    first = services.list_proposals(w.author, w.hood, ProposalFilters(page=1))
    assert first.capped and first.total == 4 and first.pages == 2
    deep = services.list_proposals(w.author, w.hood, ProposalFilters(page=45_000))
    assert deep.page == 2 and len(deep.items) == 2 and not deep.has_next
    every = services.list_proposals(w.author, w.hood, ProposalFilters(page=2))
    assert [p.id for p in deep.items] == [p.id for p in every.items]


def test_a_search_counts_at_most_its_cap(w, monkeypatch):
    monkeypatch.setattr(search, "SEARCH_CAP", 2)
    monkeypatch.setattr(search, "SEARCH_SCAN", 3)
    page = services.list_proposals(w.author, w.hood, ProposalFilters(query="a", page=99))
    assert page.capped and page.total == 2 and page.page == 1


def test_the_cap_counts_the_neighbourhoods_own_matches(w, monkeypatch):
    """Newer matches elsewhere do not crowd out this neighbourhood's older ones."""
    monkeypatch.setattr(search, "SEARCH_CAP", 2)
    monkeypatch.setattr(search, "SEARCH_SCAN", 3)
    elsewhere = pf.world()
    for number in range(5):
        pf.proposal(elsewhere, title=f"Park elsewhere {number}")
    assert _titles(w, "park", sort="newest") == {"Ağaç dikimi", "Trees for the park"}
    assert services.list_proposals(w.author, w.hood, ProposalFilters(query="park")).capped


def test_the_page_limits_stay_what_the_templates_say():
    assert MAX_PAGE * PAGE_SIZE == services.COUNT_CAP
    assert search.SEARCH_SCAN == search.SEARCH_CAP + 1
