"""A vote in an open ballot cast by the muhtar in a resident's name, through the assisted page
(the `vote` action); a secret ballot is never offered and is refused: it is cast on paper."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assembly.accounts.models import User
from assembly.assemblies import services as sessions
from assembly.assemblies.models import BallotPaper, Participation
from assembly.assisted import services
from assembly.assisted.models import AssistedEntry
from assembly.db import db
from assembly.i18n import utc_to_wall_clock
from assembly.neighbourhoods.models import Membership, Neighbourhood
from tests import assembly_factories as af
from tests import factories
from tests.assembly_factories import HOUR, OPENS
from tests.support import committed, counting_statements, text


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _membership_id(user_id: int) -> int:
    return db.session.scalar(select(Membership.id).where(Membership.user_id == user_id,
                                                         Membership.role == "resident"))


def _session(app, secrecy: str, method: str = "yes_no") -> dict:
    with committed(app):
        s = af.voting_open(method, secrecy, items=2, voters=2, k=1 if method != "yes_no" else None)
        other = factories.neighbourhood()
        return {"url": s.url, "items": s.items, "slug": s.hood.slug, "assembly": s.assembly.id,
                "voter": s.voters[0].id, "muhtar": s.muhtar.email, "resident": s.voters[1].email,
                "membership": _membership_id(s.voters[0].id), "other_muhtar": factories.muhtar(other).email}


def _hood(s: dict) -> Neighbourhood:
    return db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == s["slug"]))


def _page(s: dict) -> str:
    return f"/n/{s['slug']}/assisted/{s['membership']}/assemblies/{s['assembly']}"


def _as(app, email: str):
    return af.client_of(app, User(email=email))


def _consent_fields(clock, given: bool = True) -> dict:
    fields = {"consent_method": "office",
              "consent_at": utc_to_wall_clock(clock.now, "Europe/Istanbul").strftime("%Y-%m-%dT%H:%M")}
    return dict(fields, consent="y") if given else fields


def test_the_muhtar_casts_an_open_vote_through_the_page(app, clock):
    s = _session(app, "open")
    clock.now = OPENS + HOUR
    muhtar = _as(app, s["muhtar"])
    act = muhtar.get(f"/n/{s['slug']}/assisted/{s['membership']}")
    assert _page(s) in act.get_data(as_text=True)
    page = muhtar.get(_page(s))
    assert page.status_code == 200 and f'name="item-{s["items"][0]}"' in page.get_data(as_text=True)
    assert "Secret ballots cannot be cast this way" in text(page) and "on paper" in text(page)
    ballot = {f"item-{s['items'][0]}": "yes", f"item-{s['items'][1]}": "no"}
    refused = muhtar.post(_page(s), data=dict(ballot, **_consent_fields(clock, given=False)))
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "consent is required" in text(refused)
    assert f'name="item-{s["items"][0]}" value="yes" checked' in body  # the choices are kept
    with app.app_context():
        assert _count(Participation) == 0
    done = muhtar.post(_page(s), data=dict(ballot, **_consent_fields(clock)))
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/assisted/{s['membership']}#votes")
    with app.app_context():
        assert _count(Participation, Participation.user_id == s["voter"]) == 1
        paper = db.session.scalar(select(BallotPaper).where(BallotPaper.voter_id == s["voter"]))
        assert paper.choices["vote"] == {s["items"][0]: "yes", s["items"][1]: "no"}
        entry = db.session.scalar(select(AssistedEntry))
        assert (entry.action, entry.object_type, entry.object_id) == ("vote", "assembly", s["assembly"])
    assert "has already voted" in text(muhtar.get(_page(s)))
    public = app.test_client().get(s["url"], headers={"Accept-Language": "en"})
    assert "1 vote was cast by the muhtar in a resident's name" in text(public)


def test_a_ranked_open_vote_is_entered_too(app, clock):
    s = _session(app, "open", "ranked")
    clock.now = OPENS + HOUR
    done = _as(app, s["muhtar"]).post(_page(s), data=dict(
        {f"rank-{s['items'][0]}": "2", f"rank-{s['items'][1]}": "1"}, **_consent_fields(clock)))
    assert done.status_code == 303
    with app.app_context():
        paper = db.session.scalar(select(BallotPaper).where(BallotPaper.voter_id == s["voter"]))
        assert paper.choices["vote"] == [[s["items"][1]], [s["items"][0]]]


def test_a_secret_ballot_is_not_offered_and_is_refused(app, clock):
    s = _session(app, "secret")
    clock.now = OPENS + HOUR
    muhtar = _as(app, s["muhtar"])
    act = text(muhtar.get(f"/n/{s['slug']}/assisted/{s['membership']}"))
    assert "secret ballot: the resident votes on paper at the meeting" in act
    page = muhtar.get(_page(s))
    assert page.status_code == 200 and "This is a secret ballot" in text(page)
    assert 'name="item-' not in page.get_data(as_text=True) and 'name="consent"' not in page.get_data(as_text=True)
    refused = muhtar.post(_page(s), data=dict({f"item-{s['items'][0]}": "yes"}, **_consent_fields(clock)))
    assert refused.status_code == 400 and "cannot be cast by the muhtar online" in text(refused)
    with app.app_context():
        assert _count(Participation) == 0 and _count(AssistedEntry) == 0


def test_a_resident_verified_after_voting_opened_cannot_vote_through_the_muhtar(app, clock):
    s = _session(app, "open")
    clock.now = OPENS + HOUR
    with committed(app):
        muhtar = db.session.scalar(select(User).where(User.email == s["muhtar"]))
        late = services.register_resident(muhtar, OPENS + HOUR, _hood(s), display_name="Geç Gelen",
                                          address="Moda Cad. 1", phone=None, locale="tr")
        s["membership"] = late.id
    client = _as(app, s["muhtar"])
    assert "Only residents who were verified when voting opened can vote." in text(client.get(_page(s)))
    refused = client.post(_page(s), data=dict({f"item-{s['items'][0]}": "yes"}, **_consent_fields(clock)))
    assert refused.status_code == 400 and "verified when voting opened" in text(refused)
    with app.app_context():
        assert _count(Participation) == 0


@pytest.mark.parametrize("who", ["other_muhtar", "resident"])
def test_only_the_residents_muhtar_opens_the_vote_page(app, clock, who):
    s = _session(app, "open")
    clock.now = OPENS + HOUR
    client = _as(app, s[who])
    assert client.get(_page(s)).status_code == 403
    assert client.post(_page(s), data=dict({f"item-{s['items'][0]}": "yes"},
                                           **_consent_fields(clock))).status_code == 403
    with app.app_context():
        assert _count(Participation) == 0


def test_the_session_page_costs_the_same_with_votes_the_muhtar_cast(app, clock):
    s = _session(app, "open")
    clock.now = OPENS + HOUR
    visitor = app.test_client()

    def cost() -> int:
        with counting_statements(app, transaction_control=False) as statements:
            assert visitor.get(s["url"]).status_code == 200
        return len(statements)

    before = cost()
    with committed(app):
        muhtar = db.session.scalar(select(User).where(User.email == s["muhtar"]))
        assembly = sessions.get_assembly(muhtar, _hood(s), s["assembly"])
        membership = db.session.get(Membership, s["membership"])
        services.on_behalf(muhtar, OPENS + HOUR, membership, "vote",
                           services.Consent(True, "door", OPENS + HOUR), assembly,
                           vote={s["items"][0]: "yes"})
    assert cost() == before
