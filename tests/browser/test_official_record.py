"""The official record in a real browser (issue 11, points 1, 2 and 4): a downloaded ballots file is
fingerprinted in the browser (the app's CSP allows its own script) and recounted by the server,
with and without JavaScript; a Persian muhtar calls a session in the Solar Hijri calendar without
JavaScript; a case page shows local times."""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from assembly.assemblies.models import Assembly, BallotResult
from assembly.neighbourhoods.models import Neighbourhood
from tests.browser.support import goto, submit

SLUG = "caferaga"


def _closed_session(site, slug: str = SLUG) -> tuple[str, str]:
    with site.database() as session:
        hood = session.scalar(select(Neighbourhood).where(Neighbourhood.slug == slug))
        closed = session.scalar(select(Assembly).where(Assembly.neighbourhood_id == hood.id,
                                                       Assembly.status.in_(("closed", "minuted"))).order_by(Assembly.id))
        digest = session.scalar(select(BallotResult.digest).where(BallotResult.ballot_id == closed.ballot.id))
        return f"/n/{slug}/assemblies/{closed.id}", digest


def _download(page, path: str) -> bytes:
    response = page.request.get(f"{path}/ballots.json")
    assert response.ok
    return response.body()


def test_the_ballots_file_is_fingerprinted_in_the_browser_and_recounted(site, contexts, tmp_path):
    path, digest = _closed_session(site)
    page = contexts.new(lang="en").new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    goto(page, path)
    page.locator(f"a[href$='{path}/check']").click()
    page.wait_for_url(re.compile(r"/check$"))
    data = _download(page, path)
    assert hashlib.sha256(data).hexdigest() == digest  # what `sha256sum` of the download prints
    file = tmp_path / "ballots.json"
    file.write_bytes(data)

    page.set_input_files("#ballots-file", str(file))
    status = page.locator("#browser-fingerprint")
    status.wait_for(state="visible")
    assert "is the published one" in status.inner_text() and digest in status.inner_text()
    recount = page.locator("#browser-recount")
    recount.wait_for(state="visible")
    assert "Counted again in your browser: the same result as the published one." in recount.inner_text()
    submit(page, page.locator("form.check-count button[type=submit]"))
    found = page.locator("#check").inner_text()
    assert "The file is exactly the published ballots file." in found
    assert "Counted again, its ballots give exactly the published result." in found
    assert not [e for e in errors if "Content Security Policy" in e], errors

    changed = tmp_path / "changed.json"
    changed.write_bytes(data.replace(b'"yes"', b'"no"', 1))
    page.set_input_files("#ballots-file", str(changed))
    page.wait_for_function("document.getElementById('browser-fingerprint').textContent.includes('NOT')")
    page.wait_for_function("document.querySelector('#browser-recount .recount-verdict').textContent.includes('NOT')")


def test_the_count_is_checked_without_javascript(site, contexts, tmp_path):
    path, digest = _closed_session(site, "dolatabad")
    page = contexts.new(lang="fa", javascript=False).new_page()
    goto(page, f"{path}/check")
    file = tmp_path / "ballots.json"
    file.write_bytes(_download(page, path))
    page.set_input_files("#ballots-file", str(file))
    submit(page, page.locator("form.check-count button[type=submit]"))
    assert page.locator("#check .check-results li.ok").count() == 2
    assert digest in page.locator("#check").inner_text()


def test_a_persian_muhtar_calls_a_session_in_the_solar_hijri_calendar_without_javascript(site, contexts):
    page = contexts.new(login="shorayar.sizdahaban", lang="fa", javascript=False).new_page()
    goto(page, "/n/sizdah-aban/assemblies/new")
    field = page.locator("#meeting_start")
    assert field.get_attribute("type") == "text"
    assert "۱۴۰۵/۰۱/۲۰ ۱۸:۳۰" in page.locator("#meeting_start-help").inner_text()
    page.fill("#title", "نشست آزمایشی تقویم")
    field.fill("۱۴۰۴/۱۲/۳۰ ۱۸:۳۰")  # 1404 is not a leap year
    submit(page, page.locator("main form button[type=submit]"), status=400)
    assert page.locator("#meeting_start-error").count() == 1
    assert page.locator("#meeting_start").input_value() == "۱۴۰۴/۱۲/۳۰ ۱۸:۳۰"
    page.locator("#meeting_start").fill("۱۴۰۹/۰۱/۲۰ ۱۸:۳۰")
    submit(page, page.locator("main form button[type=submit]"))
    assert re.search(r"/assemblies/\d+$", page.url)
    assert "۲۰ فروردین ۱۴۰۹" in page.locator("main").inner_text()
    assert "۱۸:۳۰" in page.locator("main").inner_text()


def test_a_case_page_shows_the_places_time_and_names_its_zone(site, contexts):
    page = contexts.new(lang="tr").new_page()
    goto(page, "/cases?ref=")
    with site.database() as session:
        from assembly.cases.models import Case, CaseEvent

        case = session.scalar(select(Case).join(Neighbourhood, Neighbourhood.id == Case.neighbourhood_id)
                              .where(Neighbourhood.slug == SLUG).order_by(Case.id))
        first = session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 1))
        reference, created = case.reference, first.created_at
    goto(page, f"/cases/{reference}")
    from zoneinfo import ZoneInfo

    local = created.astimezone(ZoneInfo("Europe/Istanbul")).strftime("%H:%M")
    shown = page.locator(".events li time").first
    assert shown.inner_text().endswith(local)
    assert shown.get_attribute("datetime").endswith("+03:00")
    assert "Türkiye" in page.locator(".timeline").inner_text()


def _random_documents(count: int = 60) -> list[dict]:
    """Ballots documents of every method, with ties and empty ballots, from a fixed seed."""
    import random

    from assembly import tally

    rng = random.Random(11)
    documents = []
    for number in range(count):
        method = ("yes_no", "approval", "ranked")[number % 3]
        items = [str(i) for i in range(1, rng.randint(2, 5) + 1)]
        k = 1 if method == "yes_no" else rng.randint(1, len(items))
        ballots = []
        for _ in range(rng.randint(0, 12)):
            if method == "yes_no":
                ballots.append({i: rng.choice(tally.CHOICES) for i in items if rng.random() < 0.8})
            elif method == "approval":
                ballots.append(rng.sample(items, rng.randint(0, k)))
            else:
                chosen = rng.sample(items, rng.randint(0, len(items)))
                ranks, position = [], 0
                while position < len(chosen):
                    size = rng.randint(1, len(chosen) - position)
                    ranks.append(chosen[position:position + size])
                    position += size
                ballots.append(ranks)
        rules = tally.Rules(method=method, items=items, electorate=12, quorum_percent=rng.choice([0, 25, 60]),
                            majority=rng.choice(["simple", "two_thirds"]), k=k)
        documents.append(tally.ballots_document(rules, ballots))
    return documents


def test_the_browser_counts_like_the_server(site, contexts):
    """The script's count (what a resident sees without sending the file) equals the tally's."""
    from assembly import tally

    path, _digest = _closed_session(site)
    page = contexts.new(lang="en").new_page()
    goto(page, f"{path}/check")
    for document in _random_documents():
        expected = tally.tally_document(document).to_dict()
        counted = page.evaluate("(doc) => window.assemblyRecount(doc)", document)
        assert counted["turnout"] == expected["turnout"]
        assert counted["quorum"] == expected["quorum"]["met"]
        assert counted["accepted"] == expected["accepted"], document
        if expected["method"] == "yes_no":
            assert counted["items"] == {i["item"]: {"yes": i["yes"], "no": i["no"], "abstain": i["abstain"]}
                                        for i in expected["items"]}
        else:
            assert counted["ranking"] == expected["ranking"], document
        if expected["method"] == "approval":
            assert counted["items"] == {i["item"]: {"approvals": i["approvals"]} for i in expected["items"]}
