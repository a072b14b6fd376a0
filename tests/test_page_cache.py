"""Pages kept for visitors (assembly.page_cache): given again only while the data and the clock
give the same page, and never to anyone the page was not made for.

These tests need real commits (the data version is read on a connection of its own), so they run
on a database of their own on SQLite and PostgreSQL (`committed_database`), not in the shared,
rolled-back transaction of the other tests (whose apps keep no pages).
"""
from __future__ import annotations

import datetime as dt

import pytest
from flask import render_template_string
from sqlalchemy import update

from assembly import create_app, page_cache
from assembly.db import db
from assembly.proposals.models import Proposal
from tests import assembly_factories as af
from tests import proposal_factories as pf
from tests.assembly_factories import HOUR, OPENS, PREPARED
from tests.support import app_config, committed, counting_statements, login

pytestmark = pytest.mark.parametrize("committed_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def app(committed_database):
    app = create_app(app_config(committed_database, PAGE_CACHE_SECONDS=300))
    assert "page_cache" in app.extensions
    yield app
    app.extensions["assembly_db"].engine.dispose()


@pytest.fixture
def site(app):
    with committed(app):
        w = pf.world()
        proposal = pf.proposal(w, title="Lamps on the sea side")
        return {"proposal": f"/n/{w.hood.slug}/p/{proposal.id}", "list": f"/n/{w.hood.slug}/proposals",
                "hood": f"/n/{w.hood.slug}", "feed": f"/n/{w.hood.slug}/feed.atom", "id": proposal.id,
                "slug": w.hood.slug, "author": w.author.email}


def visit(app, url: str, language: str = "en", **headers):
    """A visitor's first request (a new browser), and the statements it cost."""
    with counting_statements(app) as statements:
        response = app.test_client().get(url, headers={"Accept-Language": language, **headers})
    return response, statements


def kept(app, url: str) -> bool:
    """The page is given from the cache. On PostgreSQL the data version is the cluster's snapshot,
    which a commit anywhere in the cluster (autovacuum's analyze, another database's client) moves:
    the page is then rendered and kept again, so the next visit gets it."""
    return any(visit(app, url)[1] == [] for _ in range(5))


def test_a_visitor_gets_the_page_another_visitor_got_without_a_statement(app, site):
    for url in (site["proposal"], site["list"], site["hood"], site["feed"]):
        first, rendering = visit(app, url)
        again, keeping = visit(app, url)
        assert first.status_code == again.status_code == 200, url
        assert again.get_data() == first.get_data(), url
        assert rendering and not keeping, (url, keeping)
        assert "Set-Cookie" not in first.headers and "Set-Cookie" not in again.headers
        assert again.headers["ETag"] == first.headers["ETag"]


def test_a_browser_asking_again_with_the_etag_gets_a_304(app, site):
    first, _ = visit(app, site["feed"])
    again, _ = visit(app, site["feed"], **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_a_change_of_the_data_is_shown_at_once(app, site):
    assert "Lamps on the sea side" in visit(app, site["proposal"])[0].get_data(as_text=True)
    # written the way a request writes: through the app's engine, committed
    with committed(app):
        db.session.execute(update(Proposal).where(Proposal.id == site["id"]).values(title="Benches in the park"))
    page, statements = visit(app, site["proposal"])
    assert statements, "the page was rendered again"
    assert "Benches in the park" in page.get_data(as_text=True)
    assert "Benches in the park" in visit(app, site["list"])[0].get_data(as_text=True)


def test_a_change_by_another_process_is_shown_at_once(app, site, committed_database):
    visit(app, site["list"])
    other = create_app(app_config(committed_database))  # another worker, or the scheduler
    try:
        with committed(other):
            db.session.execute(update(Proposal).where(Proposal.id == site["id"]).values(title="Trees on the square"))
    finally:
        other.extensions["assembly_db"].engine.dispose()
    assert "Trees on the square" in visit(app, site["list"])[0].get_data(as_text=True)


def test_each_language_has_its_page(app, site):
    english, _ = visit(app, site["hood"], "en")
    persian, _ = visit(app, site["hood"], "fa")
    assert 'dir="rtl"' in persian.get_data(as_text=True) and 'dir="ltr"' in english.get_data(as_text=True)
    assert visit(app, site["hood"], "fa")[0].get_data() == persian.get_data()
    assert visit(app, site["hood"], "en")[0].get_data() == english.get_data()


def test_a_language_switch_is_rendered_and_kept_in_the_session(app, site):
    visit(app, site["hood"], "en")
    client = app.test_client()
    with counting_statements(app) as statements:
        switched = client.get(site["hood"] + "?lang=fa", headers={"Accept-Language": "en"})
    assert statements and 'dir="rtl"' in switched.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session["lang"] == "fa"
    # the choice, kept in the session, is this visitor's own: their pages are rendered for them
    with counting_statements(app) as statements:
        assert 'dir="rtl"' in client.get(site["hood"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert statements


def test_a_logged_in_reader_gets_a_page_of_their_own(app, site):
    visit(app, site["proposal"])
    reader = app.test_client()
    login(reader, site["author"])
    for _ in range(2):
        with counting_statements(app) as statements:
            page = reader.get(site["proposal"], headers={"Accept-Language": "en"})
        assert statements and "Withdraw the proposal" in page.get_data(as_text=True)  # the author's tools
    assert "Withdraw the proposal" not in visit(app, site["proposal"])[0].get_data(as_text=True)


def test_a_request_with_a_remember_me_cookie_is_rendered_for_it(app, site):
    visit(app, site["list"])
    client = app.test_client()
    client.set_cookie("remember_token", "1|not-a-real-one")
    with counting_statements(app) as statements:
        assert client.get(site["list"], headers={"Accept-Language": "en"}).status_code == 200
    assert statements


def test_a_message_waiting_in_the_session_is_shown_not_a_kept_page(app, site):
    visit(app, site["list"])
    client = app.test_client()
    assert client.get(f"/n/{site['slug']}/proposals/new").status_code == 302  # "Please log in" is flashed
    page = client.get(site["list"], headers={"Accept-Language": "en"})
    assert "Please log in to continue." in page.get_data(as_text=True)


def test_a_page_with_a_token_of_its_own_is_never_given_to_another_visitor(app):
    app.config["WTF_CSRF_ENABLED"] = True

    @page_cache.for_visitors
    def with_tokens():
        return render_template_string("{{ csrf_token() }} {{ form_token() }}")

    @page_cache.for_visitors
    def with_form_token():
        return render_template_string("{{ form_token() }}")

    app.add_url_rule("/test-page-cache/csrf", "test_csrf", with_tokens)
    app.add_url_rule("/test-page-cache/form", "test_form", with_form_token)
    for url in ("/test-page-cache/csrf", "/test-page-cache/form"):
        first, second = visit(app, url)[0], visit(app, url)[0]
        assert first.status_code == second.status_code == 200
        assert first.get_data() != second.get_data(), url
        assert "ETag" not in second.headers


def test_a_session_page_is_not_given_after_voting_opened(app, clock):
    with committed(app):
        url = af.announced("yes_no", "secret", items=1, voters=1).url
    clock.now = OPENS - HOUR
    before, _ = visit(app, url)
    assert "Online voting opens on" in before.get_data(as_text=True)
    assert kept(app, url)
    clock.now = OPENS
    after, statements = visit(app, url)
    assert statements and "Online voting opens on" not in after.get_data(as_text=True)


def test_a_case_page_is_not_given_after_its_deadline(app, clock):
    from tests import case_factories as cf

    with committed(app):
        w = cf.world()
        case = cf.forwarded(w, PREPARED)
        url, due = f"/cases/{case.reference}", case.due_at
    clock.now = due - HOUR
    assert "Overdue" not in visit(app, url)[0].get_data(as_text=True)
    assert kept(app, url)
    clock.now = due + HOUR
    assert "Overdue" in visit(app, url)[0].get_data(as_text=True)


def test_the_least_recently_used_pages_are_dropped_beyond_the_size_allowed(app):
    cache = page_cache.PageCache(None, max_bytes=8_000, max_age=dt.timedelta(minutes=5))

    def page(size: int):
        return page_cache._Page(version=("v",), until=PREPARED, status=200, headers=(), body=b"x" * size, etag="e")

    for name in "abcdefgh":
        cache.put((name,), page(900))  # 7,200 bytes
    assert cache.get(("a",)) is not None  # a is now the most recently used
    cache.put(("i",), page(900))
    cache.put(("j",), page(900))  # 9,000 bytes: the two least recently used go
    assert [name for name in "abcdefghij" if cache.get((name,)) is not None] == list("adefghij")
    assert cache._bytes == 7_200
    cache.put(("huge",), page(1_001))  # more than an eighth of the whole: not kept
    assert cache.get(("huge",)) is None
