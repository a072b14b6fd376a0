"""The neighbourhood page shows what is happening there (issue 11, point 9): open proposals, the
next session, the latest results and case outcomes, each a short list at a constant cost."""
from __future__ import annotations

import datetime as dt
import re

from assembly.activity import OPEN_SHOWN
from assembly.assemblies import services as assemblies
from assembly.proposals import moderation
from assembly.proposals import services as proposals
from tests import case_factories as cf
from tests import factories
from tests.assembly_factories import client_of
from tests.support import committed, counting_statements, text

HOUR = dt.timedelta(hours=1)


def _next_session(w: cf.CaseWorld, now: dt.datetime, title: str):
    item = cf.proposal(w, now, title=f"On the agenda of {title}")
    proposals.support(w.voter, now, item)
    session = assemblies.create_assembly(w.muhtar, now, w.hood, title=title, meeting_start=now + 50 * HOUR,
                                         place="Muhtarlık")
    assemblies.add_agenda_item(w.muhtar, now, session, item.id)
    assemblies.set_ballot(w.muhtar, now, session, method="yes_no", secrecy="secret", opens_at=now + 24 * HOUR,
                          closes_at=now + 48 * HOUR, quorum_percent=0)
    assemblies.announce(w.muhtar, now, session)
    return session


def _section(page: str, heading_id: str) -> str:
    return page.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


def test_the_neighbourhood_page_shows_what_is_happening(app):
    now = factories.now()
    with committed(app):
        w = cf.world()
        for number in range(OPEN_SHOWN + 2):
            cf.proposal(w, now - (OPEN_SHOWN + 2 - number) * HOUR, title=f"Open {number}")
        hidden = cf.proposal(w, now, title="Hidden one")
        moderation.hide(w.muhtar, now, hidden, "Names a neighbour.")
        cf.voted(w, now, {"Street lights": "yes", "A statue": "no"})
        cf.walk(w, cf.forwarded(w, now - 5 * HOUR, title="Pavement at the school"), now - 4 * HOUR, "decided")
        cf.forwarded(w, now - 5 * HOUR, title="Still waiting")
        _next_session(w, now, "December assembly")
        slug = w.hood.slug
    response = client_of(app).get(f"/n/{slug}")
    assert response.status_code == 200
    page = text(response)
    open_list = _section(page, "open-heading")
    assert len(re.findall(r"<li>", open_list)) == OPEN_SHOWN  # bounded, newest first
    assert f"Open {OPEN_SHOWN + 1}" in open_list and "Open 0" not in open_list and "Hidden one" not in open_list
    assert "December assembly" in _section(page, "next-heading") and "Muhtarlık" in _section(page, "next-heading")
    results = _section(page, "results-heading")
    assert "Street lights" in results and "Accepted" in results and "A statue" in results and "Rejected" in results
    outcomes = _section(page, "outcomes-heading")
    assert "Pavement at the school" in outcomes and "Decided: approved" in outcomes
    assert "Still waiting" not in outcomes and "Kadıköy Belediye Meclisi" in outcomes


def test_a_quiet_neighbourhood_says_so(app):
    with committed(app):
        slug = factories.neighbourhood().slug
    page = text(client_of(app).get(f"/n/{slug}"))
    for quiet in ("No open proposals at the moment.", "No session has been announced.",
                  "No vote has been counted yet.", "No forwarded item has been decided yet."):
        assert quiet in page


def test_the_page_costs_the_same_statements_with_more_life(app):
    now = factories.now()
    with committed(app):
        w = cf.world()
        cf.proposal(w, now, title="Only one")
        slug = w.hood.slug
    client = client_of(app)
    with counting_statements(app, transaction_control=False) as few:
        assert client.get(f"/n/{slug}").status_code == 200
    with committed(app):
        for number in range(8):
            cf.proposal(w, now, title=f"More {number}")
        cf.voted(w, now, {f"Voted {number}": "yes" for number in range(7)})
        for number in range(7):
            cf.walk(w, cf.forwarded(w, now - 5 * HOUR, title=f"Case {number}"), now - 4 * HOUR, "done")
        _next_session(w, now, "Next")
    with counting_statements(app, transaction_control=False) as many:
        assert client.get(f"/n/{slug}").status_code == 200
    assert len(many) == len(few), "\n".join(many)
