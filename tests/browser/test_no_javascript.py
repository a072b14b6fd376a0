"""The core path works with JavaScript switched off: log in, propose, comment, vote."""
from __future__ import annotations

import re

from sqlalchemy import select

from assembly.assemblies.models import Assembly
from assembly.neighbourhoods.models import Category, Neighbourhood
from tests.browser.support import goto, log_in, submit

SLUG = "jarntorget"
RESIDENT = "lars"  # has not voted in the demo's open session


def _setting(site):
    with site.database() as session:
        hood = session.scalar(select(Neighbourhood).where(Neighbourhood.slug == SLUG))
        category = session.scalar(select(Category).where(Category.municipality_id == hood.municipality_id,
                                                         Category.slug == "traffic"))
        voting = session.scalar(select(Assembly).where(Assembly.neighbourhood_id == hood.id,
                                                       Assembly.status == "voting"))
        centre = ((hood.min_latitude + hood.max_latitude) / 2, (hood.min_longitude + hood.max_longitude) / 2)
        return category.id, voting.id, centre


def test_log_in_propose_comment_and_vote_without_javascript(site, contexts):
    category_id, assembly_id, (latitude, longitude) = _setting(site)
    page = contexts.new(javascript=False, lang="sv").new_page()

    log_in(page, RESIDENT, site.password)
    assert page.locator("header form[action$='/account/logout']").count() == 1

    goto(page, f"/n/{SLUG}/proposals/new")
    assert page.locator("#map-picker.leaflet-container").count() == 0  # no script ran: no map, fields instead
    page.fill("#title", "Cykelställ vid Järntorget")
    page.select_option("#category_id", str(category_id))
    page.fill("#body", "Det behövs fler cykelställ vid busshållplatsen.\n\n- tak\n- belysning")
    page.fill("#address_text", "Järntorget, hållplats B")
    page.fill("#latitude", f"{latitude:.6f}")
    page.fill("#longitude", f"{longitude:.6f}")
    submit(page, page.locator("main form button[type=submit]"))
    assert re.search(r"/n/jarntorget/p/\d+$", page.url), page.url
    assert page.locator("h1").inner_text() == "Cykelställ vid Järntorget"
    assert page.locator(".user-text li").all_inner_texts() == ["tak", "belysning"]
    assert page.locator("html").get_attribute("lang") == "sv"
    shown = f"({round(latitude, 5)}; {round(longitude, 5)})".replace(".", ",")  # Swedish: decimal commas
    assert shown in page.locator("p.place").inner_text()

    page.fill("#new-comment", "Bra förslag, jag cyklar här varje dag.")
    submit(page, page.locator("form:has(#new-comment) button[type=submit]"))
    assert page.locator("article.comment", has_text="jag cyklar här varje dag").count() == 1

    # A reply opens with <details>, which needs no script either.
    thread = page.locator(".thread", has_text="jag cyklar här varje dag")
    thread.locator("details.reply-box summary").click()
    thread.locator("textarea[name=body]").fill("Håller med!")
    submit(page, thread.locator("details.reply-box button[type=submit]"))
    assert page.locator("article.comment.reply", has_text="Håller med!").count() == 1

    goto(page, f"/n/{SLUG}/assemblies/{assembly_id}")
    ballot = page.locator("#vote")
    ballot.locator("input[type=radio][value=yes]").first.check()
    submit(page, ballot.locator("button[type=submit]"))
    receipt = page.locator(".receipt").inner_text().strip()
    assert len(receipt) >= 8

    goto(page, f"/n/{SLUG}/assemblies/{assembly_id}")
    # Voted: the form offers a change (the last vote counts) and asks for no receipt.
    assert page.locator("#vote input[name=receipt]").count() == 0
    assert page.locator("#vote button[type=submit]").count() == 1
