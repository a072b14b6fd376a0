"""What a muhtar meets on a session page in the first week (issue 11, points 7 and 8): voting
opened now, a warning for a vote that closes before the meeting, a refused announcement that
stays on the page with the reason beside the times, taking an item off the agenda only on
purpose, and the count from the room shown where it is entered."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from assembly.assemblies import services
from assembly.assemblies.models import AgendaItem, Assembly, Ballot
from assembly.audit.models import AuditEvent
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.notifications.models import Notification
from tests import assembly_factories as af
from tests import factories
from tests.assembly_factories import CLOSES, DAY, HOUR, OPENS, PREPARED, client_of, committed
from tests.support import text


# --- open voting now -------------------------------------------------------------------------

def test_the_muhtar_opens_voting_now_through_the_lifecycle(ctx):
    s = af.announced(voters=2)
    now = PREPARED + HOUR
    services.open_voting_now(s.muhtar, now, s.assembly)
    assert s.assembly.status == "voting"
    assert (s.ballot.opens_at, s.ballot.opened_at, s.ballot.closes_at) == (now, now, CLOSES)
    assert s.ballot.electorate == 3  # the two voters and the proposals' author
    told = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "voting_open"))
    assert told == 3
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "ballot.open_now")) == 1
    with pytest.raises(InvalidTransition):  # only once
        services.open_voting_now(s.muhtar, now + HOUR, s.assembly)


def test_voting_now_is_refused_to_others_to_drafts_and_after_the_window(ctx):
    s = af.announced(voters=1)
    with pytest.raises(NotAllowed):
        services.open_voting_now(s.voters[0], PREPARED, s.assembly)
    draft = af.draft(w=s.w)
    with pytest.raises(InvalidTransition):
        services.open_voting_now(s.muhtar, PREPARED, draft.assembly)
    with pytest.raises(ValidationFailed) as refused:
        services.open_voting_now(s.muhtar, CLOSES + HOUR, s.assembly)
    assert refused.value.reasons == {"closes_at": ["The time set for the vote to close has passed. "
                                                   "Please set new times."]}
    assert s.assembly.status == "announced" and s.ballot.opened_at is None


def test_the_session_page_offers_open_voting_now_to_the_muhtar_only(app, clock):
    with committed(app):
        s = af.announced(voters=1)
        url, muhtar, voter = s.url, s.muhtar, s.voters[0]
    clock.now = PREPARED + HOUR
    assert f"{url}/open-voting" not in client_of(app, voter).get(url).get_data(as_text=True)
    assert client_of(app, voter).post(f"{url}/open-voting").status_code == 403
    client = client_of(app, muhtar)
    assert f"{url}/open-voting" in client.get(url).get_data(as_text=True)
    response = client.post(f"{url}/open-voting")
    assert response.status_code == 302 and response.headers["Location"].endswith("#vote")
    assert "Voting is open now." in text(client.get(url))
    with app.app_context():
        assert db.session.get(Assembly, s.assembly.id).status == "voting"


# --- a vote that closes before the meeting ------------------------------------------------------

def test_a_vote_closing_before_the_meeting_gets_a_warning_not_a_refusal(app, clock):
    with committed(app):
        s = af.draft(voters=1)  # meeting at OPENS + 8 h, vote OPENS … CLOSES: no warning
        assert services.window_warnings(s.assembly) == []
        url, muhtar, slug = s.url, s.muhtar, s.hood.slug
    client = client_of(app, muhtar)
    assert "closes before the meeting starts" not in text(client.get(url))
    response = client.post(f"{url}/ballot", data={
        "method": "yes_no", "secrecy": "secret", "opens_at": "2030-03-04T12:00", "closes_at": "2030-03-04T14:00",
        "quorum_percent": "0", "majority": "simple"}, follow_redirects=True)
    assert response.status_code == 200  # saved …
    assert "The online vote closes before the meeting starts" in text(response)  # … with a warning
    assert "The online vote closes before the meeting starts" in text(client.get(url))
    assert "closes before the meeting starts" not in text(client_of(app).get(url))  # the muhtar's alone
    with app.app_context():
        assert db.session.scalar(select(Ballot.closes_at).where(Ballot.assembly_id == s.assembly.id)) \
            < db.session.scalar(select(Assembly.meeting_start).where(Assembly.id == s.assembly.id))


# --- a refused announcement ----------------------------------------------------------------------

def test_a_refused_announcement_stays_on_the_session_page_with_the_reason_beside_the_times(app, clock):
    with committed(app):
        s = af.draft(voters=1)
        url, muhtar = s.url, s.muhtar
    clock.now = OPENS + HOUR  # the time set for the vote to open has passed
    client = client_of(app, muhtar)
    response = client.post(f"{url}/announce", data={"opens_at": "2030-03-04T12:00", "closes_at": "2030-03-05T12:00"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<h2 id="agenda-heading">' in page  # the session page, not an error page
    announce = page[page.index('id="announce"'):]
    announce = announce[:announce.index("</form>")]
    opens = re.search(r'<div class="field has-error">.*?</div>', announce, re.S).group(0)
    assert 'name="opens_at"' in opens and 'value="2030-03-04T12:00"' in opens  # the input is kept …
    assert "The time set for the vote to open has passed. Please set new times." in text(response)  # … with why
    response = client.post(f"{url}/announce", data={"opens_at": "2030-03-05T12:00", "closes_at": "2030-03-06T12:00"})
    assert response.status_code == 302
    with app.app_context():
        assembly = db.session.get(Assembly, s.assembly.id)
        assert assembly.status == "announced"
        assert assembly.ballot.opens_at == OPENS + DAY  # 12:00 in Istanbul is 09:00 UTC


def test_an_announcement_without_a_ballot_says_why_on_the_page(app, clock):
    with committed(app):
        s = af.draft(voters=1, ballot=False)
        url, muhtar = s.url, s.muhtar
    response = client_of(app, muhtar).post(f"{url}/announce", data={})
    assert response.status_code == 400
    announce = response.get_data(as_text=True).split('id="announce"', 1)[1].split("</form>", 1)[0]
    assert "Set up the online vote first." in announce


# --- taking an item off the agenda; the count from the room --------------------------------------------

def test_an_item_comes_off_the_agenda_only_when_confirmed_from_its_actions(app, clock):
    with committed(app):
        s = af.draft(items=2, voters=1)
        url, muhtar, item_id, title = s.url, s.muhtar, s.assembly.items[0].id, s.proposals[0].title
    client = client_of(app, muhtar)
    page = client.get(url).get_data(as_text=True)
    item = page[page.index(f'id="item-{item_id}"'):]
    title_line = item[:item.index("</a>")]
    assert "/remove" not in title_line  # not beside the title …
    actions = item[item.index('class="item-actions"'):item.index("</li>")]
    assert f"/agenda/{item_id}/remove" in actions and 'name="confirm"' in actions  # … but among its actions
    refused = client.post(f"{url}/agenda/{item_id}/remove")
    assert refused.status_code == 400
    assert "Tick the box to confirm that the item should come off the agenda." in text(refused)
    with app.app_context():
        assert db.session.get(AgendaItem, item_id) is not None
    assert client.post(f"{url}/agenda/{item_id}/remove", data={"confirm": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(AgendaItem, item_id) is None
    page = client.get(url).get_data(as_text=True)
    assert f'id="item-{item_id}"' not in page and f">{title}</option>" in page  # a candidate again


def test_the_count_from_the_room_is_shown_where_it_is_entered(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "secret", items=1, voters=1)
        services.record_paper_count(s.muhtar, OPENS, s.assembly, s.assembly.items[0].id, yes=17, no=4, abstain=2)
        url, muhtar, item_id = s.url, s.muhtar, s.assembly.items[0].id
    clock.now = OPENS + HOUR
    response = client_of(app, muhtar).get(url)
    assert "Count taken in the room: 17 yes, 4 no, 2 abstain" in text(response)
    page = response.get_data(as_text=True)
    form = page[page.index(f"/agenda/{item_id}/paper"):]
    form = form[:form.index("</form>")]
    assert 'value="17"' in form and 'value="4"' in form and 'value="2"' in form
    assert "Correct the count taken in the room" in text(response)
