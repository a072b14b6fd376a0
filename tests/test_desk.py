"""The muhtar's desk is a to-do list (issue 11, point 6): each kind of waiting work a section with
its count and links, at a cost in statements that does not grow with the work or the neighbourhoods."""
from __future__ import annotations

import datetime as dt
import re

from assembly.accounts.models import User
from assembly.assemblies import services as assemblies
from assembly.desk import SHOWN
from assembly.proposals import moderation
from assembly.proposals import services as proposals
from tests import case_factories as cf
from tests import factories
from tests.assembly_factories import client_of
from tests.support import committed, counting_statements, text

DAY = dt.timedelta(days=1)


def _work(w: cf.CaseWorld, now: dt.datetime, times: int = 1) -> None:
    """`times` of each kind of waiting work in the neighbourhood of `w`."""
    for number in range(times):
        factories.pending(w.hood)
        reported = cf.proposal(w, now, title=f"Reported {number}")
        moderation.report(w.voter, now, reported, "Insults a neighbour by name.")
        ready = cf.proposal(w, now, title=f"Ready {number}")
        proposals.support(w.voter, now, ready)
        cf.voted(w, now, {f"Accepted {number}": "yes"})  # leaves a closed session to minute
        cf.forwarded(w, now - 40 * DAY, title=f"Overdue {number}")  # the council answers within 30 days
        assemblies.create_assembly(w.muhtar, now, w.hood, title=f"Draft session {number}")


def _sections(page: str) -> dict[str, int]:
    return {key: int(count) for key, count in re.findall(
        r'id="desk-(\w+)".*?<span class="desk-count">(\d+)</span>', page, re.S)}


def test_every_kind_of_waiting_work_is_a_section_with_its_count_and_links(app):
    now = factories.now()
    with committed(app):
        w = cf.world()
        _work(w, now)
        slug, muhtar = w.hood.slug, User(email=w.muhtar.email)
    response = client_of(app, muhtar).get("/muhtar")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _sections(page) == {"requests": 1, "reports": 1, "ready": 1, "forward": 1, "overdue": 1, "announce": 1,
                               "minutes": 1}
    shown = text(response)
    for title in ("Reported 0", "Ready 0", "Accepted 0", "Overdue 0", "Draft session 0"):
        assert title in shown, title
    assert f"/n/{slug}/members" in page and f"/n/{slug}/reports" in page
    assert re.search(rf'/n/{slug}/p/\d+/forward', page)
    assert re.search(r'/cases/KDK-CAFERAGA-\d{4}-\d{4}', page)
    assert re.search(rf'/n/{slug}/assemblies/\d+', page)
    assert "<table" not in page  # cards on a phone, never clipped columns


def test_an_empty_desk_says_nothing_is_waiting(app):
    with committed(app):
        hood = factories.neighbourhood()
        muhtar = User(email=factories.muhtar(hood).email)
    page = text(client_of(app, muhtar).get("/muhtar"))
    assert set(_sections(client_of(app, muhtar).get("/muhtar").get_data(as_text=True)).values()) == {0}
    assert page.count("Nothing waiting.") == 7


def test_the_desk_costs_the_same_statements_for_more_work_and_more_neighbourhoods(app):
    now = factories.now()
    with committed(app):
        w = cf.world()
        _work(w, now)
        muhtar = User(email=w.muhtar.email)
    client = client_of(app, muhtar)
    with counting_statements(app, transaction_control=False) as few:
        assert client.get("/muhtar").status_code == 200
    with committed(app):
        second = cf.world(code="KDQ", hood_code="MODA")
        factories.muhtar(second.hood, w.muhtar)
        _work(w, now, times=SHOWN + 2)
        _work(second, now, times=2)
    with counting_statements(app, transaction_control=False) as many:
        response = client.get("/muhtar")
    assert len(many) == len(few), "\n".join(many)
    counts = _sections(response.get_data(as_text=True))
    assert counts["requests"] == 1 + SHOWN + 2 + 2 and counts["overdue"] == 1 + SHOWN + 2 + 2
    assert text(response).count("Caferağa") >= 2  # with two neighbourhoods, each row says where


def test_only_muhtars_have_a_desk(app):
    with committed(app):
        hood = factories.neighbourhood()
        resident = User(email=factories.resident(hood).email)
    assert client_of(app, resident).get("/muhtar").status_code == 403
    assert client_of(app).get("/muhtar").status_code == 302
