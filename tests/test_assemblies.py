"""Assembly sessions through their services and pages: the lifecycle, agenda and ballot rules
fixed at opening, who may manage a session, quorum end to end, results computed once,
outcomes of the proposals, counts from the room, minutes, attendance CSV, iCalendar and
notifications."""
from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from assembly.assemblies import services, voting
from assembly.assemblies.models import AgendaItem, BallotResult
from assembly.audit.models import AuditEvent
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from assembly.neighbourhoods import residents
from assembly.notifications.models import Notification
from assembly.proposals.models import Proposal
from tests import assembly_factories as af
from tests import factories
from tests.assembly_factories import client_of, committed
from tests.assembly_factories import CLOSES, DAY, HOUR, OPENS, PREPARED
from tests.support import text




def _proposal_status(proposal_id: int) -> str:
    return db.session.scalar(select(Proposal.status).where(Proposal.id == proposal_id))


def _notifications(kind: str) -> dict[int, int]:
    rows = db.session.execute(select(Notification.user_id, func.count()).where(Notification.kind == kind)
                              .group_by(Notification.user_id))
    return dict(rows.all())


def _outcome_notifications(user) -> list[str]:
    """Statuses the user heard of after a vote (not the earlier "on the agenda")."""
    params = db.session.scalars(select(Notification.params).where(
        Notification.user_id == user.id, Notification.kind == "proposal_status")).all()
    return [p["status"] for p in params if p["status"] != "on_agenda"]


def late_resident(session: af.Session, at: dt.datetime):
    """A resident the muhtar verified at `at` (the factories verify at the real clock, before T0)."""
    person = factories.user()
    membership = residents.request_membership(person, at, session.hood, "Street 9")
    residents.approve_membership(session.muhtar, at, session.hood, membership.id)
    return person


# --- the lifecycle ---------------------------------------------------------------------------------

def test_a_session_goes_from_draft_to_minuted_and_every_step_is_audited(ctx):
    s = af.draft("yes_no", "secret", items=2, voters=2)
    assembly = s.assembly
    assert assembly.status == "draft" and [item.position for item in assembly.items] == [1, 2]
    assert [_proposal_status(p.id) for p in s.proposals] == ["on_agenda", "on_agenda"]

    services.announce(s.muhtar, PREPARED, assembly)
    assert assembly.status == "announced" and assembly.announced_at == PREPARED
    voting.advance(assembly, OPENS - dt.timedelta(seconds=1))
    assert assembly.status == "announced" and assembly.ballot.opened_at is None

    voting.advance(assembly, OPENS + HOUR)
    assert assembly.status == "voting"
    assert assembly.ballot.opened_at == OPENS  # the window's start, not whenever someone looked
    voting.cast_vote(s.voters[0], OPENS + HOUR, assembly, af.yes_no(s, "yes", "no"))

    voting.advance(assembly, CLOSES)
    assert assembly.status == "closed"
    services.write_minutes(s.muhtar, CLOSES + HOUR, assembly, minutes="We met.", attendance=12,
                           bodies_present="Police")
    assert assembly.status == "minuted" and assembly.minutes_html == "<p>We met.</p>\n"

    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "Assembly",
                                                                 AuditEvent.object_id == assembly.id)
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["assembly.create", "ballot.set", "assembly.announce", "assembly.minutes"]


def test_announcing_needs_a_draft_with_agenda_and_ballot(ctx):
    no_items = af.draft(items=0)
    with pytest.raises(ValidationFailed):
        services.announce(no_items.muhtar, PREPARED, no_items.assembly)
    no_ballot = af.draft(ballot=False)
    with pytest.raises(ValidationFailed):
        services.announce(no_ballot.muhtar, PREPARED, no_ballot.assembly)
    too_many = af.draft("approval", items=2)
    services.set_ballot(too_many.muhtar, PREPARED, too_many.assembly, method="approval", secrecy="secret",
                        opens_at=OPENS, closes_at=CLOSES, approval_k=3)
    with pytest.raises(ValidationFailed):
        services.announce(too_many.muhtar, PREPARED, too_many.assembly)
    assert too_many.assembly.status == "draft"

    s = af.announced()
    with pytest.raises(InvalidTransition):
        services.announce(s.muhtar, PREPARED, s.assembly)


def test_a_draft_whose_voting_time_passed_is_set_up_again_not_announced(ctx):
    """Announcing late would open and at once close the vote: every item rejected, unvoted."""
    s = af.draft(items=1)
    late = CLOSES + HOUR
    with pytest.raises(ValidationFailed) as refused:
        services.announce(s.muhtar, late, s.assembly)
    assert "opens_at" in refused.value.reasons and s.assembly.status == "draft"
    # A draft never opened, so its ballot and agenda can still be changed.
    services.set_ballot(s.muhtar, late, s.assembly, method="yes_no", secrecy="secret", opens_at=late + HOUR,
                        closes_at=late + DAY)
    services.add_agenda_item(s.muhtar, late, s.assembly, af.ready_proposal(s.w, now=late).id)
    services.announce(s.muhtar, late, s.assembly)
    voting.advance(s.assembly, late + HOUR)
    assert s.assembly.status == "voting" and [_proposal_status(p.id) for p in s.proposals] == ["on_agenda"]


@pytest.mark.parametrize("fields, field", [
    ({"method": "lottery"}, "method"),
    ({"secrecy": "whispered"}, "secrecy"),
    ({"opens_at": PREPARED - HOUR}, "opens_at"),
    ({"closes_at": OPENS}, "closes_at"),
    ({"quorum_percent": 101}, "quorum_percent"),
    ({"majority": "unanimity"}, "majority"),
    ({"method": "approval", "approval_k": None}, "approval_k"),
    ({"method": "ranked", "approval_k": 0}, "approval_k"),
])
def test_ballot_rules_are_checked(ctx, fields, field):
    s = af.draft(ballot=False)
    values = {"method": "yes_no", "secrecy": "secret", "opens_at": OPENS, "closes_at": CLOSES,
              "quorum_percent": 10, "majority": "simple", "approval_k": None} | fields
    with pytest.raises(ValidationFailed) as refused:
        services.set_ballot(s.muhtar, PREPARED, s.assembly, **values)
    assert field in refused.value.reasons
    assert s.assembly.ballot is None


def test_the_neighbourhoods_rules_are_the_ballots_defaults(ctx):
    w = af.world(quorum_percent=25, majority="two_thirds")
    s = af.draft(w=w, ballot=False)
    ballot = services.set_ballot(s.muhtar, PREPARED, s.assembly, method="yes_no", secrecy="open",
                                 opens_at=OPENS, closes_at=CLOSES, approval_k=4)
    assert (ballot.quorum_percent, ballot.majority, ballot.approval_k) == (25, "two_thirds", None)


# --- rules fixed when voting opens -------------------------------------------------------------------

@pytest.mark.parametrize("looked", [False, True], ids=["before anyone looked", "after advance"])
def test_the_ballot_cannot_change_once_voting_opened(ctx, looked):
    s = af.announced("approval", k=1)
    if looked:
        voting.advance(s.assembly, OPENS)
    with pytest.raises(InvalidTransition):
        services.set_ballot(s.muhtar, OPENS, s.assembly, method="approval", secrecy="open",
                            opens_at=OPENS + HOUR, closes_at=CLOSES + DAY, approval_k=2)
    db.session.refresh(s.ballot)
    assert (s.ballot.secrecy, s.ballot.approval_k, s.ballot.closes_at) == ("secret", 1, CLOSES)


@pytest.mark.parametrize("looked", [False, True], ids=["before anyone looked", "after advance"])
def test_the_agenda_cannot_change_once_voting_opened(ctx, looked):
    s = af.announced(items=2)
    extra = af.ready_proposal(s.w)
    if looked:
        voting.advance(s.assembly, OPENS)
    with pytest.raises(InvalidTransition):
        services.add_agenda_item(s.muhtar, OPENS, s.assembly, extra.id)
    with pytest.raises(InvalidTransition):
        services.remove_agenda_item(s.muhtar, OPENS, s.assembly, s.assembly.items[0].id)
    db.session.expire_all()
    assert s.items == [str(item.id) for item in db.session.scalars(
        select(AgendaItem).where(AgendaItem.assembly_id == s.assembly.id).order_by(AgendaItem.position))]
    assert _proposal_status(extra.id) == "open"


def test_an_announced_session_may_still_be_prepared_before_opening(ctx):
    s = af.announced(items=2)
    extra = af.ready_proposal(s.w)
    services.add_agenda_item(s.muhtar, PREPARED, s.assembly, extra.id)
    removed = s.assembly.items[0]
    services.remove_agenda_item(s.muhtar, PREPARED, s.assembly, removed.id)
    assert [item.proposal_id for item in s.assembly.items] == [s.proposals[1].id, extra.id]
    assert _proposal_status(s.proposals[0].id) == "open"
    services.set_ballot(s.muhtar, PREPARED, s.assembly, method="yes_no", secrecy="open", opens_at=OPENS + HOUR,
                        closes_at=CLOSES)
    assert s.ballot.secrecy == "open"


def test_an_announced_session_keeps_a_countable_agenda(ctx):
    """After announcing, the agenda and k must still fit: otherwise nobody could vote and the
    ballot could never be counted (the session page would fail on every visit)."""
    s = af.announced("approval", items=2, k=2)
    with pytest.raises(ValidationFailed):
        services.remove_agenda_item(s.muhtar, PREPARED, s.assembly, s.assembly.items[0].id)
    with pytest.raises(ValidationFailed):
        services.set_ballot(s.muhtar, PREPARED, s.assembly, method="ranked", secrecy="secret", opens_at=OPENS,
                            closes_at=CLOSES, approval_k=3)
    single = af.announced("yes_no", items=1)
    with pytest.raises(ValidationFailed):
        services.remove_agenda_item(single.muhtar, PREPARED, single.assembly, single.assembly.items[0].id)
    assert len(single.assembly.items) == 1


def test_only_ready_open_proposals_of_the_neighbourhood_go_onto_the_agenda(ctx):
    s = af.draft(items=1)
    fresh = af.pf.proposal(s.w, now=PREPARED)  # open, but nobody supported it yet
    with pytest.raises(ValidationFailed):
        services.add_agenda_item(s.muhtar, PREPARED, s.assembly, fresh.id)
    with pytest.raises(ValidationFailed):
        services.add_agenda_item(s.muhtar, PREPARED, s.assembly, s.proposals[0].id)  # already there
    elsewhere = af.ready_proposal(af.world())
    with pytest.raises(NotFound):
        services.add_agenda_item(s.muhtar, PREPARED, s.assembly, elsewhere.id)
    assert [p.id for p in services.candidates(s.hood)] == []


# --- who may manage a session -------------------------------------------------------------------------

def _people(s: af.Session) -> dict:
    other = af.world()
    return {"resident": s.voters[0], "muhtar elsewhere": other.muhtar, "admin": factories.admin(),
            "outsider": factories.user()}


@pytest.mark.parametrize("who", ["resident", "muhtar elsewhere", "admin", "outsider"])
def test_only_the_muhtar_of_the_neighbourhood_manages_sessions(ctx, who):
    s = af.draft()
    person = _people(s)[who]
    closed = af.voting_open()
    af.closed(closed, [af.yes_no(closed, "yes", "yes")])
    attempts = [
        lambda: services.create_assembly(person, PREPARED, s.hood, title="Mine"),
        lambda: services.update_assembly(person, PREPARED, s.assembly, title="Mine", meeting_start=None,
                                         meeting_end=None, place=None, online_link=None),
        lambda: services.add_agenda_item(person, PREPARED, s.assembly, af.ready_proposal(s.w).id),
        lambda: services.remove_agenda_item(person, PREPARED, s.assembly, s.assembly.items[0].id),
        lambda: services.set_ballot(person, PREPARED, s.assembly, method="yes_no", secrecy="open",
                                    opens_at=OPENS, closes_at=CLOSES),
        lambda: services.announce(person, PREPARED, s.assembly),
        lambda: services.write_minutes(person, CLOSES, closed.assembly, minutes="Mine", attendance=1,
                                       bodies_present=None),
        lambda: services.record_paper_count(person, CLOSES, closed.assembly, closed.assembly.items[0].id,
                                            yes=100, no=0, abstain=0),
        lambda: voting.attendance_rows(person, closed.assembly),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            attempt()
    assert s.assembly.status == "draft" and s.assembly.title.startswith("Assembly")
    assert closed.assembly.minutes is None and closed.assembly.items[0].paper_yes is None


def test_drafts_are_seen_only_by_the_muhtar(ctx):
    s = af.draft()
    other = af.announced(w=s.w)
    resident = s.voters[0]
    with pytest.raises(NotFound):
        services.get_assembly(resident, s.hood, s.assembly.id)
    assert services.get_assembly(s.muhtar, s.hood, s.assembly.id) is s.assembly
    assert [a.id for a in services.list_assemblies(resident, s.hood)] == [other.assembly.id]
    assert {a.id for a in services.list_assemblies(s.muhtar, s.hood)} == {s.assembly.id, other.assembly.id}
    with pytest.raises(NotFound):  # a session is found only under its own neighbourhood
        services.get_assembly(s.muhtar, af.world().hood, other.assembly.id)


# --- quorum, results and outcomes ----------------------------------------------------------------------

@pytest.mark.parametrize("votes, met", [(3, True), (2, False)], ids=["exactly met", "just missed"])
def test_quorum_end_to_end_counts_the_residents_verified_when_voting_opened(ctx, votes, met):
    # 10 verified residents when voting opens (the author and 9 voters): 30 % needs 3 votes.
    s = af.announced("yes_no", "secret", items=2, voters=9, quorum_percent=30)
    factories.pending(s.hood)  # asked, not verified: not in the electorate
    late_resident(s, OPENS + HOUR)  # verified after opening: not in the electorate
    voting.advance(s.assembly, OPENS + 2 * HOUR)  # nobody looked until later
    assert s.ballot.electorate == 10

    result = af.closed(s, [af.yes_no(s, "yes", "no")] * votes)
    assert result.result["turnout"] == votes
    assert result.result["quorum"] == {"met": met, "required_turnout": 3}
    assert result.result["accepted"] == ([s.items[0]] if met else [])
    assert [item.outcome for item in s.assembly.items] == (["accepted", "rejected"] if met
                                                           else ["rejected", "rejected"])
    assert [_proposal_status(p.id) for p in s.proposals] == (["accepted", "rejected"] if met
                                                             else ["rejected", "rejected"])


def test_accepted_items_move_their_proposals_and_followers_hear_of_it(ctx):
    s = af.voting_open("approval", "open", items=3, voters=3, k=2)
    first, second, _ = s.items
    result = af.closed(s, [[first, second], [first], [second]])
    assert result.result["accepted"] == [first, second]
    assert [_proposal_status(p.id) for p in s.proposals] == ["accepted", "accepted", "rejected"]
    assert sorted(_outcome_notifications(s.w.author)) == ["accepted", "accepted", "rejected"]


def test_the_result_is_computed_once(ctx):
    s = af.voting_open("yes_no", "secret", items=1, voters=2)
    result = af.closed(s, [af.yes_no(s, "yes")])
    voting.advance(s.assembly, CLOSES + DAY)
    voting.advance(s.assembly, CLOSES + 2 * DAY)
    assert af.results_of(s.ballot.id) == 1
    assert voting.result_of(s.assembly).computed_at == CLOSES
    with pytest.raises(InvalidTransition):  # and nothing changes afterwards
        voting.cast_vote(s.voters[1], CLOSES + HOUR, s.assembly, af.yes_no(s, "no"))
    assert voting.result_of(s.assembly).result == result.result
    assert _outcome_notifications(s.w.author) == ["accepted"]


def test_a_second_closer_finds_the_stored_result(ctx):
    """The race of two closers, played in sequence: the claim on the ballot row decides."""
    s = af.voting_open("yes_no", "open", items=1, voters=1)
    voting.cast_vote(s.voters[0], OPENS, s.assembly, af.yes_no(s, "yes"))
    assert voting.close_ballot(s.assembly, CLOSES - dt.timedelta(seconds=1)) is None  # not yet
    first = voting.close_ballot(s.assembly, CLOSES)
    # What a second closer that read the session before the first one closed it does: nothing.
    set_committed_value(s.assembly, "status", "voting")
    set_committed_value(s.ballot, "closed_at", None)
    assert voting.close_ballot(s.assembly, CLOSES + HOUR) is None
    assert voting.result_of(s.assembly).id == first.id and first.computed_at == CLOSES
    assert db.session.scalar(select(func.count()).select_from(BallotResult)
                             .where(BallotResult.ballot_id == s.ballot.id)) == 1


def test_a_session_nobody_looked_at_opens_and_closes_in_one_step(ctx):
    s = af.announced(items=1)
    voting.advance(s.assembly, CLOSES + HOUR)
    assert s.assembly.status == "closed" and s.ballot.opened_at == OPENS
    assert voting.result_of(s.assembly).result["turnout"] == 0
    assert _notifications("voting_open") == {}  # too late to tell anyone voting is open
    assert [a.id for a in services.due_assemblies(CLOSES + DAY)] == []


def test_due_assemblies_are_those_whose_window_passed(ctx):
    waiting = af.announced()
    running = af.voting_open(w=waiting.w)
    assert [a.id for a in services.due_assemblies(PREPARED)] == []
    assert {a.id for a in services.due_assemblies(OPENS)} == {waiting.assembly.id}
    assert {a.id for a in services.due_assemblies(CLOSES)} == {waiting.assembly.id, running.assembly.id}


# --- counts from the room and minutes ---------------------------------------------------------------

def test_paper_counts_are_kept_apart_from_the_online_result(ctx):
    s = af.voting_open("yes_no", "secret", items=2, voters=2)
    item = s.assembly.items[0]
    services.record_paper_count(s.muhtar, OPENS + HOUR, s.assembly, item.id, yes=0, no=40, abstain=3)
    result = af.closed(s, [af.yes_no(s, "yes", "no"), af.yes_no(s, "yes", "")])
    services.record_paper_count(s.muhtar, CLOSES + HOUR, s.assembly, s.assembly.items[1].id, yes=50, no=0,
                                abstain=0)
    first, second = result.result["items"]
    assert (first["yes"], first["no"], first["abstain"]) == (2, 0, 0)
    assert (second["yes"], second["no"]) == (0, 1)
    assert result.result["accepted"] == [s.items[0]]
    assert [i.outcome for i in s.assembly.items] == ["accepted", "rejected"]
    assert (item.paper_yes, item.paper_no, item.paper_abstain) == (0, 40, 3)
    assert voting.result_of(s.assembly).result == result.result


def test_paper_count_refusals(ctx):
    s = af.draft(items=1)
    with pytest.raises(InvalidTransition):
        services.record_paper_count(s.muhtar, PREPARED, s.assembly, s.assembly.items[0].id, yes=1, no=1, abstain=1)
    services.announce(s.muhtar, PREPARED, s.assembly)
    with pytest.raises(ValidationFailed):
        services.record_paper_count(s.muhtar, PREPARED, s.assembly, s.assembly.items[0].id, yes=1, no=-1,
                                    abstain=0)
    other = af.draft(w=s.w, items=1)
    with pytest.raises(NotFound):
        services.record_paper_count(s.muhtar, PREPARED, s.assembly, other.assembly.items[0].id, yes=1, no=1,
                                    abstain=1)
    assert s.assembly.items[0].paper_yes is None


def test_minutes_come_after_closing_and_are_sanitised(ctx):
    s = af.voting_open(items=1)
    with pytest.raises(InvalidTransition):
        services.write_minutes(s.muhtar, OPENS, s.assembly, minutes="Too early", attendance=None,
                               bodies_present=None)
    voting.advance(s.assembly, CLOSES)
    with pytest.raises(ValidationFailed):
        services.write_minutes(s.muhtar, CLOSES, s.assembly, minutes="  ", attendance=None, bodies_present=None)
    with pytest.raises(ValidationFailed):
        services.write_minutes(s.muhtar, CLOSES, s.assembly, minutes="Fine", attendance=-1, bodies_present=None)
    services.write_minutes(s.muhtar, CLOSES, s.assembly, minutes="**Decided** <script>alert(1)</script>",
                           attendance=7, bodies_present="Police")
    assert "<strong>Decided</strong>" in s.assembly.minutes_html and "<script" not in s.assembly.minutes_html
    services.write_minutes(s.muhtar, CLOSES + DAY, s.assembly, minutes="Corrected", attendance=8, bodies_present=None)
    assert (s.assembly.status, s.assembly.attendance, s.assembly.bodies_present) == ("minuted", 8, None)


# --- notifications --------------------------------------------------------------------------------------

def test_residents_are_notified_on_announcing_and_on_opening_once(ctx):
    s = af.draft(voters=2)
    pending = factories.pending(s.hood)
    outsider = factories.resident(af.world().hood)
    residents = {s.w.author.id, *(v.id for v in s.voters)}
    services.announce(s.muhtar, PREPARED, s.assembly)
    assert _notifications("assembly_announced") == dict.fromkeys(residents, 1)
    link = db.session.scalar(select(Notification.link).where(Notification.kind == "assembly_announced"))
    assert link == s.url

    voting.advance(s.assembly, OPENS)
    voting.advance(s.assembly, OPENS + HOUR)
    assert _notifications("voting_open") == dict.fromkeys(residents, 1)
    for person in (s.muhtar, pending.user, outsider):
        assert person.id not in _notifications("assembly_announced") | _notifications("voting_open")


def test_only_residents_who_may_vote_hear_that_voting_opened(ctx):
    s = af.announced(voters=1)
    late = late_resident(s, OPENS + HOUR)
    voting.advance(s.assembly, OPENS + 2 * HOUR)
    assert late.id not in _notifications("voting_open")
    assert s.voters[0].id in _notifications("voting_open")


# --- pages: iCalendar, attendance, management ---------------------------------------------------------

def test_the_calendar_feed_parses_and_carries_the_meetings_in_local_time(app, client):
    with committed(app):
        s = af.announced(items=1)
        hidden = af.draft(w=s.w, items=1)
        slug, title, place, start = s.hood.slug, s.assembly.title, s.assembly.place, s.assembly.meeting_start
        hidden_title = hidden.assembly.title
    response = client.get(f"/n/{slug}/assemblies/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    zones = [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")]
    assert zones == ["Europe/Istanbul"]
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [title]
    event = events[0]
    assert str(event["LOCATION"]) == place
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTSTART").tzinfo == ZoneInfo("Europe/Istanbul")
    assert event.decoded("DTEND") - event.decoded("DTSTART") == 2 * HOUR
    assert str(event["URL"]).endswith(f"/n/{slug}/assemblies/{s.assembly.id}")
    assert hidden_title not in response.get_data(as_text=True)


def _attendance(client, url: str) -> list[list[str]]:
    response = client.get(f"{url}/attendance.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_attendance_list_marks_who_voted_online_and_is_safe_in_spreadsheets(app, clock):
    with committed(app):
        w = af.world()
        dangerous = [factories.resident(w.hood, factories.user(name=name)) for name in
                     ("=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-3+4", "@SUM(A1)")]
        at_tab = factories.user(name="Tab Person")
        residents.approve_membership(w.muhtar, PREPARED - DAY, w.hood,
                                 residents.request_membership(at_tab, PREPARED - DAY, w.hood, "=1+1 Street").id)
        w.supporter = dangerous[1]  # supports the agenda item (its author may not)
        s = af.voting_open("yes_no", "secret", w=w, voters=0, items=1)
        voting.cast_vote(dangerous[0], OPENS, s.assembly, af.yes_no(s, "yes"))
        voting.cast_vote(at_tab, OPENS, s.assembly, af.yes_no(s, "no"))
        factories.pending(s.hood)
        url, muhtar = s.url, s.muhtar
    clock.now = OPENS + HOUR
    rows = _attendance(client_of(app, muhtar), url)
    assert rows[0] == ["Name", "Address", "Voted online", "Present"]
    by_name = {row[0]: row for row in rows[1:]}
    assert len(rows) == 1 + 6  # verified residents only: the author, four dangerous names, Tab Person
    for row in rows[1:]:
        assert not row[0].startswith(("=", "+", "-", "@")) and not row[1].startswith(("=", "+", "-", "@"))
    assert by_name["'=HYPERLINK(\"http://evil.example\",\"x\")"][2] == "yes"
    assert by_name["Tab Person"][1:3] == ["'=1+1 Street", "yes"]
    assert [by_name[name][2] for name in ("'+1+2", "'-3+4", "'@SUM(A1)")] == ["no", "no", "no"]


def test_management_pages_are_refused_to_everyone_but_the_muhtar(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "secret", items=1, voters=1)
        prepared = af.announced(w=s.w, items=1)
        people = _people(s)
        item_id = s.assembly.items[0].id
        prepared_item = prepared.assembly.items[0].id
        candidate = af.ready_proposal(s.w).id
        muhtar, urls = s.muhtar, (s.url, prepared.url)
        slug = s.hood.slug
    clock.now = OPENS + HOUR
    voting_url, prepared_url = urls
    requests = [
        ("get", f"/n/{slug}/assemblies/new", None),
        ("post", f"/n/{slug}/assemblies/new", {"title": "Mine"}),
        ("get", f"{prepared_url}/edit", None),
        ("post", f"{prepared_url}/edit", {"title": "Mine"}),
        ("get", f"{prepared_url}/ballot", None),
        ("post", f"{prepared_url}/ballot", {"method": "yes_no", "secrecy": "open", "opens_at": "2030-03-05T12:00",
                                            "closes_at": "2030-03-06T12:00", "quorum_percent": "0",
                                            "majority": "simple"}),
        ("post", f"{prepared_url}/agenda", {"proposal_id": candidate}),
        ("post", f"{prepared_url}/agenda/{prepared_item}/remove", {}),
        ("post", f"{prepared_url}/announce", {}),
        ("get", f"{voting_url}/minutes", None),
        ("post", f"{voting_url}/minutes", {"minutes": "Mine", "attendance": "3"}),
        ("post", f"{voting_url}/agenda/{item_id}/paper", {"yes": 5, "no": 0, "abstain": 0}),
        ("get", f"{voting_url}/attendance.csv", None),
    ]
    for who, person in people.items():
        client = client_of(app, person)
        for method, url, data in requests:
            response = getattr(client, method)(url, data=data)
            assert response.status_code == 403, (who, method, url, response.status_code)
    anonymous = client_of(app)
    for method, url, data in requests:
        response = getattr(anonymous, method)(url, data=data)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], url
    with app.app_context():
        assert db.session.get(AgendaItem, item_id).paper_yes is None
        assert db.session.scalar(select(AgendaItem.id).where(AgendaItem.proposal_id == candidate)) is None
        assert services.get_assembly(muhtar, s.hood, prepared.assembly.id).ballot.secrecy == "secret"
    # The muhtar gets every page and can do every step.
    muhtar_client = client_of(app, muhtar)
    for method, url, data in requests:
        if method == "get":
            assert muhtar_client.get(url).status_code == 200, url
    response = muhtar_client.post(f"{voting_url}/agenda/{item_id}/paper", data={"yes": 5, "no": 1, "abstain": 0})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(AgendaItem, item_id).paper_yes == 5


def test_the_muhtar_prepares_and_announces_a_session_through_the_pages(app, clock):
    with committed(app):
        w = af.world()
        voter = factories.resident(w.hood)
        proposal = af.ready_proposal(w)
        slug, muhtar, proposal_id, voter_id = w.hood.slug, w.muhtar, proposal.id, voter.id
    client = client_of(app, muhtar)
    response = client.post(f"/n/{slug}/assemblies/new", data={
        "title": "Mahalle meclisi", "meeting_start": "2030-03-04T20:00", "meeting_end": "2030-03-04T22:00",
        "place": "Muhtarlık"})
    assert response.status_code == 302
    url = response.headers["Location"].split("#")[0]
    assert client.post(f"{url}/agenda", data={"proposal_id": proposal_id}).status_code == 302
    assert client.post(f"{url}/ballot", data={
        "method": "yes_no", "secrecy": "secret", "opens_at": "2030-03-04T12:00", "closes_at": "2030-03-05T12:00",
        "quorum_percent": "10", "majority": "simple"}).status_code == 302
    assert client.post(f"{url}/announce").status_code == 302
    with app.app_context():
        assembly_id = int(url.rsplit("/", 1)[1])
        assembly = services.get_assembly(muhtar, w.hood, assembly_id)
        assert assembly.status == "announced"
        istanbul = dt.timezone(dt.timedelta(hours=3))
        assert assembly.meeting_start == dt.datetime(2030, 3, 4, 20, 0, tzinfo=istanbul)
        assert assembly.ballot.opens_at == dt.datetime(2030, 3, 4, 12, 0, tzinfo=istanbul)
        assert _notifications("assembly_announced").get(voter_id) == 1
    page = text(client.get(url))
    assert "Mahalle meclisi" in page and "Online voting opens on" in page


def test_the_session_page_shows_paper_counts_apart_from_the_online_votes(app, clock):
    with committed(app):
        s = af.voting_open("yes_no", "secret", items=1, voters=2)
        services.record_paper_count(s.muhtar, OPENS, s.assembly, s.assembly.items[0].id, yes=17, no=4, abstain=2)
        af.closed(s, [af.yes_no(s, "yes"), af.yes_no(s, "no")])
        url = s.url
    clock.now = CLOSES + HOUR
    response = client_of(app).get(url)
    page = text(response)
    assert "Counted in the room (shown separately, not added): yes 17, no 4, abstain 2" in page
    assert "Yes 1, no 1, abstain 0" in page
    html = response.get_data(as_text=True)
    assert "<td>1</td><td>1</td><td>0</td>" in html  # the online votes alone …
    assert "<td>18</td>" not in html and "<td>5</td>" not in html  # … never summed with the room's


def test_the_pages_refuse_to_change_rules_or_agenda_once_voting_opened(app, clock):
    with committed(app):
        s = af.voting_open("approval", "secret", items=2, k=1, voters=1)
        candidate = af.ready_proposal(s.w).id
        url, muhtar, item_id = s.url, s.muhtar, s.assembly.items[0].id
    clock.now = OPENS + HOUR
    client = client_of(app, muhtar)
    page = client.get(url).get_data(as_text=True)
    assert f"{url}/ballot" not in page and f"{url}/agenda" not in page  # no way offered …
    response = client.post(f"{url}/ballot", data={  # … and none taken
        "method": "approval", "secrecy": "open", "opens_at": "2030-03-05T12:00", "closes_at": "2030-03-06T12:00",
        "quorum_percent": "0", "majority": "simple", "approval_k": "2"})
    assert response.status_code == 400
    assert "Voting has opened: the rules of the ballot can no longer change." in text(response)
    assert client.post(f"{url}/agenda", data={"proposal_id": candidate}).status_code == 400
    assert client.post(f"{url}/agenda/{item_id}/remove").status_code == 400
    with app.app_context():
        assembly = services.get_assembly(muhtar, s.hood, s.assembly.id)
        assert (assembly.ballot.secrecy, assembly.ballot.approval_k, len(assembly.items)) == ("secret", 1, 2)
