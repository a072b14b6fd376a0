"""Casting votes: who may vote and when, changing a vote, receipts, invalid ballots, the vote
pages, and the published ballots that recount (here and with `flask recount`) to exactly
the stored result, whatever the order the votes came in."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import flask
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from assembly import tally
from assembly.assemblies import services, voting
from assembly.assemblies import sealing
from assembly.assemblies.models import BallotPaper, Participation
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.models import Base
from assembly.neighbourhoods import directory, residents
from tests import assembly_factories as af
from tests import factories
from tests.assembly_factories import client_of, committed
from tests.assembly_factories import CLOSES, HOUR, OPENS
from tests.support import text

RECEIPT = re.compile(r"\b[0-9A-F]{5}-[0-9A-F]{5}-[0-9A-F]{5}-[0-9A-F]{5}\b")



def _papers(ballot_id: int) -> list[dict]:
    db.session.expire_all()
    return [paper.choices["vote"] for paper in db.session.scalars(
        select(BallotPaper).where(BallotPaper.ballot_id == ballot_id))]


# --- who may vote, and when ---------------------------------------------------------------------------

def test_a_vote_is_stored_as_participation_and_paper(ctx):
    s = af.voting_open("yes_no", "open", items=2, voters=2)
    assert voting.cast_vote(s.voters[0], OPENS, s.assembly, af.yes_no(s, "yes", "abstain")) is None
    assert af.stored_counts(s.ballot.id) == {"turnout": 1, "participations": 1, "papers": 1}
    assert _papers(s.ballot.id) == [af.yes_no(s, "yes", "abstain")]
    assert voting.has_voted(s.voters[0], s.ballot) and not voting.has_voted(s.voters[1], s.ballot)
    assert voting.own_open_vote(s.voters[0], s.ballot) == af.yes_no(s, "yes", "abstain")


@pytest.mark.parametrize("when", ["announced", "before the window", "at closing", "after closing"])
def test_no_vote_outside_the_window(ctx, when):
    s = af.announced(voters=1, items=1)
    if when == "announced":
        at = OPENS - dt.timedelta(seconds=1)  # not yet open, and nobody opened it
    elif when == "before the window":
        voting.advance(s.assembly, OPENS)
        at = OPENS - dt.timedelta(seconds=1)
    elif when == "at closing":
        voting.advance(s.assembly, OPENS)
        at = CLOSES  # the window is [opens_at, closes_at)
    else:
        voting.advance(s.assembly, OPENS)
        voting.advance(s.assembly, CLOSES)
        at = CLOSES + HOUR
    with pytest.raises(InvalidTransition):
        voting.cast_vote(s.voters[0], at, s.assembly, af.yes_no(s, "yes"))
    assert af.stored_counts(s.ballot.id) == {"turnout": 0, "participations": 0, "papers": 0}


def test_a_vote_after_the_opening_time_opens_the_window_before_the_scheduler_does(ctx):
    s = af.announced(voters=2, items=1)
    assert s.assembly.status == "announced"
    assert voting.cast_vote(s.voters[0], OPENS + HOUR, s.assembly, af.yes_no(s, "yes")) is not None
    assert s.assembly.status == "voting" and s.ballot.opened_at == OPENS
    assert s.ballot.electorate == services.electorate(s.hood.id, OPENS)
    assert af.stored_counts(s.ballot.id) == {"turnout": 1, "participations": 1, "papers": 1}


def _voter(kind: str, s: af.Session):
    if kind == "non-resident":
        return factories.user()
    if kind == "pending resident":
        return factories.pending(s.hood).user
    if kind == "resident elsewhere":
        return factories.resident(af.world().hood)
    if kind == "muhtar":
        return s.muhtar
    if kind == "admin":
        return factories.admin()
    if kind == "verified after opening":
        person = factories.user()
        membership = residents.request_membership(person, OPENS, s.hood, "Street 3")
        residents.approve_membership(s.muhtar, OPENS + HOUR, s.hood, membership.id)
        return person
    if kind == "revoked resident":
        person = s.voters[0]
        membership = directory.current_membership(person)
        residents.revoke_membership(s.muhtar, OPENS, s.hood, membership.id, "Moved away.")
        return person
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["non-resident", "pending resident", "resident elsewhere", "muhtar", "admin",
                                  "verified after opening", "revoked resident"])
def test_only_residents_verified_when_voting_opened_may_vote(ctx, kind):
    s = af.voting_open("yes_no", "secret", voters=1, items=1)
    person = _voter(kind, s)
    with pytest.raises(NotAllowed):
        voting.cast_vote(person, OPENS + 2 * HOUR, s.assembly, af.yes_no(s, "yes"))
    assert not voting.eligible(person, s.assembly)
    assert af.stored_counts(s.ballot.id) == {"turnout": 0, "participations": 0, "papers": 0}


# --- invalid ballots --------------------------------------------------------------------------------

def test_approval_with_more_than_k_items_is_refused(ctx):
    s = af.voting_open("approval", "secret", items=3, k=2, voters=1)
    with pytest.raises(ValidationFailed) as refused:
        voting.cast_vote(s.voters[0], OPENS, s.assembly, s.items)
    assert refused.value.message == "You can choose at most 2 items."
    assert af.stored_counts(s.ballot.id)["participations"] == 0
    voting.cast_vote(s.voters[0], OPENS, s.assembly, s.items[:2])
    assert af.stored_counts(s.ballot.id)["papers"] == 1


@pytest.mark.parametrize("method, vote", [
    ("ranked", lambda items: [[items[0]], [items[0]]]),  # an item ranked twice
    ("ranked", lambda items: [[items[0]], []]),  # an empty rank
    ("ranked", lambda items: [["999999"]]),  # not on the agenda
    ("ranked", lambda items: [items[0], items[1]]),  # ranks must be lists
    ("ranked", lambda items: {items[0]: 1}),
    ("approval", lambda items: [items[0], items[0]]),
    ("approval", lambda items: ["999999"]),
    ("yes_no", lambda items: {items[0]: "maybe"}),
    ("yes_no", lambda items: {"999999": "yes"}),
    ("yes_no", lambda items: [items[0]]),
])
def test_invalid_ballots_are_refused(ctx, method, vote):
    s = af.voting_open(method, "open", items=3, k=2 if method == "approval" else None, voters=1)
    with pytest.raises(ValidationFailed):
        voting.cast_vote(s.voters[0], OPENS, s.assembly, vote(s.items))
    assert af.stored_counts(s.ballot.id) == {"turnout": 0, "participations": 0, "papers": 0}


# --- changing a vote ---------------------------------------------------------------------------------

def test_an_open_vote_can_be_changed_and_the_last_one_counts(ctx):
    s = af.voting_open("ranked", "open", items=3, voters=1, k=1)
    first, second, third = s.items
    voting.cast_vote(s.voters[0], OPENS, s.assembly, [[first], [second, third]])
    voting.cast_vote(s.voters[0], OPENS + HOUR, s.assembly, [[third], [first]])
    assert af.stored_counts(s.ballot.id) == {"turnout": 1, "participations": 1, "papers": 1}
    result = af.closed(s, [])
    assert result.document["ballots"] == [{"vote": [[third], [first]]}]
    assert result.result["accepted"] == [third]


def test_a_secret_vote_changes_by_voting_again_and_receipts_prove_counting_only(ctx):
    s = af.voting_open("yes_no", "secret", items=2, voters=2)
    voter, other = s.voters
    code = voting.cast_vote(voter, OPENS, s.assembly, af.yes_no(s, "yes", "yes"))
    other_code = voting.cast_vote(other, OPENS, s.assembly, af.yes_no(s, "no", "no"))
    assert RECEIPT.fullmatch(code) and code != other_code
    elsewhere = af.voting_open("yes_no", "secret", items=2, voters=1)
    foreign = voting.cast_vote(elsewhere.voters[0], OPENS, elsewhere.assembly, af.yes_no(elsewhere, "yes", "yes"))

    # Voting again replaces the first vote: no new receipt, still one vote per voter.
    assert voting.cast_vote(voter, OPENS + HOUR, s.assembly, af.yes_no(s, "no", "abstain")) is None
    assert af.stored_counts(s.ballot.id) == {"turnout": 2, "participations": 2, "papers": 2}
    result = af.closed(s, [])
    published = sorted(json.dumps(entry["vote"], sort_keys=True) for entry in result.document["ballots"])
    assert published == sorted(json.dumps(vote, sort_keys=True)
                               for vote in (af.yes_no(s, "no", "abstain"), af.yes_no(s, "no", "no")))
    # The receipts are published apart from the votes, and nothing in an entry names a receipt.
    assert all(set(entry) == {"vote"} for entry in result.document["ballots"])
    assert result.document["receipts"] == sorted([voting.receipt_hash(code), voting.receipt_hash(other_code)])
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    for typed in (code, f"  {code.lower()} ", code.replace("-", " "), code.replace("-", ""), persian):
        assert voting.receipt_counted(result, typed), typed
    assert voting.receipt_counted(result, other_code)
    assert not voting.receipt_counted(result, foreign)
    assert result.result["accepted"] == []


def test_only_the_fingerprint_of_a_receipt_and_a_sealed_vote_are_stored(ctx):
    s = af.voting_open("approval", "secret", items=2, k=1, voters=1)
    code = voting.cast_vote(s.voters[0], OPENS, s.assembly, [s.items[0]])
    participation = db.session.scalar(select(Participation).where(Participation.ballot_id == s.ballot.id))
    assert participation.receipt_hash == hashlib.sha256(code.encode()).hexdigest()
    # Sealed: the same size as any vote of this ballot, opened only with the key and only as this voter's.
    size = sealing.padded_size(list(s.items))
    assert len(participation.sealed) == 1 + sealing.NONCE_BYTES + size + 16
    key = flask.current_app.config["BALLOT_SEAL_KEY"]
    assert sealing.unseal(key, s.ballot.id, s.voters[0].id, participation.sealed) == [s.items[0]]
    for wrong_key, voter_id in ((key + "x", s.voters[0].id), (key, s.voters[0].id + 1)):
        with pytest.raises(sealing.EnvelopeError):
            sealing.unseal(wrong_key, s.ballot.id, voter_id, participation.sealed)
    assert db.session.scalar(select(BallotPaper).where(BallotPaper.ballot_id == s.ballot.id)) is None
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            assert code not in repr(tuple(row)), table.name
    af.closed(s, [])
    paper = db.session.scalar(select(BallotPaper).where(BallotPaper.ballot_id == s.ballot.id))
    assert paper.voter_id is None and paper.choices == {"vote": [s.items[0]]}
    db.session.refresh(participation)
    assert participation.sealed is None  # the envelope is destroyed in the closing transaction


# --- the vote pages ------------------------------------------------------------------------------------

def _vote_form(page: str, url: str) -> bool:
    return f'action="{url}/vote"' in page


def test_the_vote_form_is_shown_only_to_eligible_residents_during_the_window(app, clock):
    with committed(app):
        s = af.announced("yes_no", "secret", items=1, voters=1)
        people = {"voter": s.voters[0], "muhtar": s.muhtar, "elsewhere": factories.resident(af.world().hood),
                  "late": factories.user(), "admin": factories.admin()}
        residents.approve_membership(s.muhtar, OPENS + HOUR, s.hood,
                                 residents.request_membership(people["late"], OPENS, s.hood, "Street 4").id)
        url, ballot_id = s.url, s.ballot.id
    clients = {who: client_of(app, person) for who, person in people.items()} | {"anonymous": client_of(app)}
    for who, client in clients.items():
        assert not _vote_form(client.get(url).get_data(as_text=True), url), ("before", who)

    clock.now = OPENS + 2 * HOUR
    pages = {who: text(client.get(url)) for who, client in clients.items()}
    assert _vote_form(pages["voter"], url)
    for who in ("muhtar", "elsewhere", "late", "admin", "anonymous"):
        assert not _vote_form(pages[who], url), who
    assert "Only residents who were verified when voting opened can vote." in pages["late"]
    assert "Voting is open. Log in to vote." in pages["anonymous"]

    clock.now = CLOSES  # closed by the clock; counted only by the scheduler, never by a page view
    for who, client in clients.items():
        page = text(client.get(url))
        assert not _vote_form(page, url) and "The votes are being counted" in page, ("closing", who)
    with app.app_context():
        assert af.results_of(ballot_id) == 0
    assert af.tick(app, CLOSES) == (1, 0)
    for who, client in clients.items():
        page = client.get(url).get_data(as_text=True)
        assert not _vote_form(page, url) and "Results" in page, ("after", who)


def test_a_first_secret_vote_shows_its_receipt_once(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "secret", items=2, voters=1)
        url, items, voter, ballot_id = s.url, s.items, s.voters[0], s.ballot.id
    clock.now = OPENS + HOUR
    client = client_of(app, voter)
    response = client.post(f"{url}/vote", data={f"item-{items[0]}": "yes", f"item-{items[1]}": "no"})
    # Post, redirect, get: a refresh of the receipt page never sends the vote again.
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{url}/receipt")
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200 and "no-store" in shown.headers["Cache-Control"]
    page = text(shown)
    assert "Your vote has been recorded" in page and "it is shown only once" in page
    codes = RECEIPT.findall(page)
    assert len(set(codes)) == 1
    code = codes[0]
    refreshed = client.get(response.headers["Location"])
    assert refreshed.status_code == 302 and not RECEIPT.search(text(refreshed))
    with app.app_context():
        assert db.session.scalar(select(Participation.receipt_hash).where(Participation.ballot_id == ballot_id)) \
            == voting.receipt_hash(code)
    again = text(client.get(url))
    assert "You have voted." in again and code not in again and "Change my vote" in again
    assert 'name="receipt"' not in client.get(url).get_data(as_text=True)

    # Voting again changes the vote, and no new receipt is handed out.
    changed = client.post(f"{url}/vote", data={f"item-{items[0]}": "no"})
    assert changed.status_code == 303
    assert "Your vote has been recorded." in text(client.get(changed.headers["Location"]))
    with app.app_context():
        assert af.stored_counts(ballot_id) == {"turnout": 1, "participations": 1, "papers": 1}

    af.tick(app, CLOSES)
    clock.now = CLOSES
    published = json.loads(client_of(app).get(f"{url}/ballots.json").data)
    assert published["ballots"] == [{"vote": {items[0]: "no"}}]
    assert published["receipts"] == [voting.receipt_hash(code)]


def test_an_open_vote_through_the_page_shows_the_voters_own_choices(app, clock):
    with committed(app):
        s = af.voting_open("approval", "open", items=3, k=2, voters=1)
        url, items, voter = s.url, s.items, s.voters[0]
    clock.now = OPENS + HOUR
    client = client_of(app, voter)
    response = client.post(f"{url}/vote", data={"approve": [items[2], items[0]]})
    assert response.status_code == 303
    page = client.get(url).get_data(as_text=True)
    checked = re.findall(r'name="approve" value="(\d+)" checked', page)
    assert sorted(checked) == sorted([items[0], items[2]])
    too_many = client.post(f"{url}/vote", data={"approve": items})
    assert too_many.status_code == 400 and "Your vote was not recorded." in text(too_many)
    assert "You can choose at most 2 items." in text(too_many)


def test_a_vote_lands_on_its_light_confirmation_and_leaves_the_session_cookie_alone(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "open", items=2, voters=2)
        url, items, (voter, other) = s.url, s.items, s.voters
    clock.now = OPENS + HOUR
    client = client_of(app, voter)
    for choice in ("yes", "no"):  # a first vote and a changed one
        response = client.post(f"{url}/vote", data={f"item-{items[0]}": choice})
        assert response.status_code == 303 and response.headers["Location"] == f"{url}/voted"
        assert "Set-Cookie" not in response.headers  # no flash message: the cookie is not signed again
        landing = client.get(response.headers["Location"])
        assert landing.status_code == 200 and "no-store" in landing.headers["Cache-Control"]
        page = text(landing)
        assert "Your vote has been recorded." in page and s.assembly.title in page
        assert f'href="{url}#vote"' in landing.get_data(as_text=True)
    # Only a voter is told so: someone who has not voted is sent to the session page, a visitor to log in.
    not_yet = client_of(app, other).get(f"{url}/voted")
    assert not_yet.status_code == 302 and not_yet.headers["Location"].endswith(f"{url}#vote")
    assert "/account/login" in client_of(app).get(f"{url}/voted").headers["Location"]
    assert client.get(f"/n/{s.w.hood.slug}/assemblies/{s.assembly.id + 1000}/voted").status_code == 302


def test_ranks_from_the_page_become_a_ranked_ballot(app, clock):
    with committed(app):
        s = af.voting_open("ranked", "open", items=4, k=1, voters=1)
        url, items, voter, ballot_id = s.url, s.items, s.voters[0], s.ballot.id
    clock.now = OPENS + HOUR
    client = client_of(app, voter)
    response = client.post(f"{url}/vote", data={f"rank-{items[0]}": "3", f"rank-{items[1]}": "1",
                                                 f"rank-{items[2]}": "3", f"rank-{items[3]}": "zero"})
    assert response.status_code == 303
    with app.app_context():
        assert _papers(ballot_id) == [[[items[1]], [items[0], items[2]]]]


def test_voting_through_the_page_is_refused_to_others(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "secret", items=1, voters=1)
        late = factories.user()
        residents.approve_membership(s.muhtar, OPENS + HOUR, s.hood,
                                 residents.request_membership(late, OPENS, s.hood, "Street 5").id)
        people = [s.muhtar, factories.resident(af.world().hood), late, factories.user()]
        url, item, ballot_id = s.url, s.items[0], s.ballot.id
    clock.now = OPENS + 2 * HOUR
    for person in people:
        assert client_of(app, person).post(f"{url}/vote", data={f"item-{item}": "yes"}).status_code == 403
    anonymous = client_of(app).post(f"{url}/vote", data={f"item-{item}": "yes"})
    assert anonymous.status_code == 302 and "/account/login" in anonymous.headers["Location"]
    with app.app_context():
        assert af.stored_counts(ballot_id) == {"turnout": 0, "participations": 0, "papers": 0}


def test_the_receipt_check_says_counted_or_not_counted(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "secret", items=1, voters=2)
        code = voting.cast_vote(s.voters[0], OPENS, s.assembly, af.yes_no(s, "yes"))
        url = s.url
    clock.now = OPENS + HOUR
    client = client_of(app)
    assert client.get(f"{url}/ballots.json").status_code == 404  # nothing published while voting
    assert client.get(f"{url}/result.json").status_code == 404
    assert "Check your receipt code" not in text(client.get(url))
    assert client.post(f"{url}/receipt-check", data={"receipt": code}).status_code == 400  # nothing to check yet

    clock.now = CLOSES
    af.tick(app, CLOSES)
    page = text(client.get(url))
    assert "Check your receipt code" in page and 'method="post"' in page
    counted = text(client.post(f"{url}/receipt-check", data={"receipt": code.lower()}))
    assert "Your ballot is in the published list and was counted." in counted
    missing = text(client.post(f"{url}/receipt-check", data={"receipt": "AAAAA-BBBBB-CCCCC-DDDDD"}))
    assert "No ballot with this receipt code is in the published list." in missing
    assert "was counted" not in missing
    # The old GET form is gone: a receipt in a URL checks nothing.
    assert "was counted" not in text(client.get(f"{url}?receipt={code}"))


def test_an_open_ballot_has_no_receipt_check_and_names_its_voters(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "open", items=1, voters=2)
        af.closed(s, [af.yes_no(s, "yes"), af.yes_no(s, "no")])
        url, names = s.url, sorted(v.display_name for v in s.voters)
    clock.now = CLOSES + HOUR
    page = text(client_of(app).get(f"{url}?receipt=AAAAA-BBBBB-CCCCC-DDDDD"))
    assert "Check your receipt code" not in page and "No ballot with this receipt code" not in page
    assert "This was an open vote" in page
    document = json.loads(client_of(app).get(f"{url}/ballots.json").data)
    assert document["meta"]["voters"] == names
    assert all(set(entry) == {"vote"} for entry in document["ballots"])


# --- recounting the published ballots -------------------------------------------------------------------

def _recount(runner, path) -> tuple[str, dict]:
    outcome = runner.invoke(args=["recount", str(path)])
    assert outcome.exit_code == 0, outcome.output
    first, rest = outcome.output.split("\n", 1)
    assert first.startswith("digest: ")
    return first.removeprefix("digest: "), json.loads(rest)


def test_the_recount_command_refuses_a_tampered_file(app, tmp_path):
    path = tmp_path / "ballots.json"
    path.write_text(json.dumps({"rules": {"method": "approval", "items": ["1", "2"], "electorate": 3, "k": 1},
                                "ballots": [{"vote": ["1", "2"]}]}))
    outcome = app.test_cli_runner().invoke(args=["recount", str(path)])
    assert outcome.exit_code != 0 and "too_many_approvals" in outcome.output


def _votes(method: str, items: int, k: int | None):
    positions = st.integers(0, items - 1)
    if method == "yes_no":
        return st.dictionaries(positions, st.sampled_from(tally.CHOICES))
    if method == "approval":
        return st.lists(positions, unique=True, max_size=k)
    # A rank (or none) per item, as the page's selects give them.
    return st.lists(st.one_of(st.none(), st.integers(1, items)), min_size=items, max_size=items)


@st.composite
def elections(draw):
    method = draw(st.sampled_from(tally.METHODS))
    items = draw(st.integers(1, 4))
    k = None if method == "yes_no" else draw(st.integers(1, items))
    voters = draw(st.integers(0, 6))
    votes = [draw(_votes(method, items, k)) for _ in range(voters)]
    changes = draw(st.lists(st.tuples(st.integers(0, voters - 1), _votes(method, items, k)), max_size=3)) \
        if voters else []
    return {"method": method, "secrecy": draw(st.sampled_from(["secret", "open"])), "items": items, "k": k,
            "quorum_percent": draw(st.integers(0, 100)), "majority": draw(st.sampled_from(tally.MAJORITIES)),
            "votes": votes, "changes": changes, "order": draw(st.permutations(range(voters))),
            "shuffle": draw(st.randoms(use_true_random=False))}


def _ballot(method: str, drawn, ids: list[str]):
    if method == "yes_no":
        return {ids[position]: choice for position, choice in drawn.items()}
    if method == "approval":
        return [ids[position] for position in drawn]
    ranks: dict[int, list[str]] = {}
    for position, rank in enumerate(drawn):
        if rank is not None:
            ranks.setdefault(rank, []).append(ids[position])
    return [ranks[rank] for rank in sorted(ranks)]


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(election=elections())
def test_published_ballots_recount_to_the_stored_result_in_any_order(app, tmp_path, election):
    """Random votes cast in a random order through the services, changed now and then; the
    published document recounts (in Python, over HTTP and with `flask recount`) to exactly
    the stored result and digest, and to the tally of the votes as intended."""
    method = election["method"]
    with app.app_context():
        s = af.voting_open(method, election["secrecy"], items=election["items"], voters=len(election["votes"]),
                           k=election["k"], quorum_percent=election["quorum_percent"],
                           majority=election["majority"])
        ids = s.items
        final = [_ballot(method, vote, ids) for vote in election["votes"]]
        receipts = {}
        for minute, index in enumerate(election["order"]):
            receipts[index] = voting.cast_vote(s.voters[index], OPENS + minute * dt.timedelta(minutes=1),
                                               s.assembly, final[index])
        for index, vote in election["changes"]:
            final[index] = _ballot(method, vote, ids)
            voting.cast_vote(s.voters[index], OPENS + HOUR, s.assembly, final[index])
        voting.advance(s.assembly, CLOSES)
        stored = voting.result_of(s.assembly)
        expected = tally.tally(voting.rules_of(s.ballot, list(s.assembly.items)), final).to_dict()
        url, digest, result, document = s.url, stored.digest, stored.result, stored.document
        assert af.stored_counts(s.ballot.id)["turnout"] == len(final)
        db.session.commit()

    assert result == expected
    # The voters and the proposals' author (and, when nobody votes, the neighbour who supported them).
    assert result["rules"]["electorate"] == len(final) + 1 + (0 if final else 1)
    assert tally.tally_document(json.loads(json.dumps(document))).to_dict() == result
    assert tally.digest(document) == digest
    # The published order carries no meaning: any permutation recounts to the same result.
    permuted = dict(document, ballots=election["shuffle"].sample(document["ballots"], len(document["ballots"])))
    assert tally.tally_document(permuted).to_dict() == result
    assert all(set(entry) == {"vote"} for entry in document["ballots"])
    if election["secrecy"] == "secret":  # every first vote's receipt, in a list of its own
        assert document["receipts"] == sorted(voting.receipt_hash(code) for code in receipts.values())
    else:
        assert "receipts" not in document

    response = app.test_client().get(f"{url}/ballots.json")
    assert response.status_code == 200 and response.headers["X-Ballots-Digest"] == digest
    downloaded = json.loads(response.data)
    assert downloaded == document
    assert tally.tally_document(downloaded).to_dict() == result and tally.digest(downloaded) == digest
    published = json.loads(app.test_client().get(f"{url}/result.json").data)
    assert (published["digest"], published["result"]) == (digest, result)

    path = tmp_path / f"{url.replace('/', '-')}.json"
    path.write_bytes(response.data)
    assert _recount(app.test_cli_runner(), path) == (digest, result)
