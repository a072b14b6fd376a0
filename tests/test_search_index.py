"""Word search through the index finds what the plain scan found (issue 14), on both databases.

The reference is the scan the list used before the index: a proposal matches when its folded
search key contains every folded word of the query. Results are compared as sets, and the
order of a search is checked on its own.
"""
from __future__ import annotations

import pytest

from sqlalchemy import delete, insert

from assembly.db import db
from assembly.proposals import search, services
from assembly.proposals.models import Proposal
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


# --- Words of different frequency (the word index on PostgreSQL, FTS5 on SQLite) --------------------

LONG_WORD = "x" * 380 + "uzunkelime"  # longer than any indexed piece (migration 0022): found by its parts too


def _corpus_body(n: int) -> str:
    words = ["sokak"]  # in every proposal
    if n % 2 == 0:
        words.append("parkta")  # in half: "park" is also found inside it
    if n % 5 == 0:
        words.append("Park")  # in a fifth, with "parkta" in some
    if n % 10 == 3:
        words.append("KALDIRIM")  # in a tenth
    if n == 17:
        words.append("çeşme")  # in one
    if n % 7 == 0:
        words.append(LONG_WORD)
    if n % 3 == 0:
        words.append("كوچه")  # Arabic letter forms, indexed folded
    return " ".join(words)


@pytest.fixture
def corpus(ctx):
    w = pf.world()
    for n in range(40):
        pf.proposal(w, title=f"Öneri {n}", body=_corpus_body(n))
    return w


FREQUENCY_QUERIES = ["sokak", "park", "PARKTA", "ark", "kaldırım", "KALDIRIM park", "çeşme", "cesme sokak",
                     "sokak kaldirim parkta", "uzunkelime", "xuzun", "x" * 150 + "uzun", "x" * 200, "کوچه sokak",
                     "öneri 17", "17", "zzz", "park zzz", "uzunkelime " + "x" * 160]


def _newest_matches(query: str, scan: int | None = None) -> list[str]:
    """The reference: every word of the query inside the folded key, newest first. With `scan`,
    as documented: the newest `scan` matches of the words of three letters or more, then those
    among them that hold the shorter words too (the corpus is smaller than SHORT_QUERY_SCAN)."""
    terms = search_terms(query)
    keys = {f"Öneri {n}": fold(f"Öneri {n} {_corpus_body(n)} ") for n in reversed(range(40))}
    long_terms = [term for term in terms if len(term) >= search.TRIGRAM] if scan else terms
    if not long_terms:
        scan = None  # only short words: the newest SHORT_QUERY_SCAN proposals are looked through
    found = [title for title, key in keys.items() if all(term in key for term in long_terms)][:scan]
    return [title for title in found if all(term in keys[title] for term in terms)]


@pytest.mark.parametrize("query", FREQUENCY_QUERIES)
def test_words_of_every_frequency_find_what_the_scan_found(corpus, query):
    page = services.list_proposals(corpus.author, corpus.hood, ProposalFilters(query=query, sort="newest"))
    expected = _newest_matches(query)
    assert [p.title for p in page.items] == expected[:PAGE_SIZE]
    assert page.total == len(expected)


@pytest.mark.parametrize("query", FREQUENCY_QUERIES)
def test_the_cap_keeps_the_newest_matches_of_every_frequency(corpus, query, monkeypatch):
    monkeypatch.setattr(search, "SEARCH_CAP", 3)
    monkeypatch.setattr(search, "SEARCH_SCAN", 4)
    page = services.list_proposals(corpus.author, corpus.hood, ProposalFilters(query=query, sort="newest"))
    expected = _newest_matches(query, scan=4)
    assert [p.title for p in page.items] == expected[:3]
    assert page.capped == (len(expected) > 3)


@pytest.mark.parametrize("query", ["park", "ark", "sokak kaldirim parkta", "cesme sokak"])
@pytest.mark.parametrize("limits", [(1, 5_000, 4), (32, 2, 4), (32, 5_000, 1)])
def test_words_in_many_indexed_words_or_many_proposals_find_the_same(corpus, query, limits, monkeypatch):
    """Past VOCABULARY_LIMIT a word is looked up by the trigram index; past COUNT_LIMIT the word
    that leads a query is the longest; past CHECK_LIMIT the other words are checked on the key:
    the same proposals every way."""
    monkeypatch.setattr(search, "VOCABULARY_LIMIT", limits[0])
    monkeypatch.setattr(search, "COUNT_LIMIT", limits[1])
    monkeypatch.setattr(search, "CHECK_LIMIT", limits[2])
    monkeypatch.setattr(search, "SEARCH_CAP", 3)
    monkeypatch.setattr(search, "SEARCH_SCAN", 4)
    page = services.list_proposals(corpus.author, corpus.hood, ProposalFilters(query=query, sort="newest"))
    assert [p.title for p in page.items] == _newest_matches(query, scan=4)[:3]


def test_every_order_ranks_the_same_matches(corpus):
    for sort in ("relevant", "supported", "discussed"):
        page = services.list_proposals(corpus.author, corpus.hood, ProposalFilters(query="kaldırım", sort=sort))
        assert {p.title for p in page.items} == set(_newest_matches("kaldırım"))


def test_the_word_index_follows_edits_of_long_words_bulk_inserts_and_deletions(corpus):
    proposal = pf.proposal(corpus, title="Bir başlık", body="y" * 320 + "sondaki")
    assert _titles(corpus, "ysondaki") == {"Bir başlık"}
    services.update_proposal(corpus.author, factories.now(), proposal,
                             pf.data(corpus.category, title="Bir başlık", body="Yepyeni metin"))
    assert _titles(corpus, "ysondaki") == set()
    assert _titles(corpus, "yepyeni") == {"Bir başlık"}
    # Rows written in bulk by SQL (as the benchmark does) and deleted: indexed, then gone.
    now = factories.now()
    db.session.execute(insert(Proposal), [
        {"neighbourhood_id": corpus.hood.id, "author_id": corpus.author.id, "category_id": corpus.category.id,
         "title": f"Toplu {n}", "body": "b", "body_html": "<p>b</p>", "status": "open",
         "search_key": fold(f"Toplu {n} topluca"), "created_at": now, "published_at": now, "updated_at": now}
        for n in range(3)])
    assert _titles(corpus, "topluca") == {"Toplu 0", "Toplu 1", "Toplu 2"}
    db.session.execute(delete(Proposal).where(Proposal.title.in_(["Toplu 0", "Toplu 2"])))
    assert _titles(corpus, "topluca") == {"Toplu 1"}
