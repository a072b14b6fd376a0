"""Cases through their services: forwarding and its refusals, reference numbers, the body's
lifecycle per role, notifications, overdue figures, and the tamper-evident hash chain."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from assembly.cases import queries
from assembly.cases import services as cases
from assembly.cases.models import Case, CaseEvent, CaseSequence
from assembly.actors import SystemActor
from assembly.db import db
from assembly.errors import InvalidTransition, NotAllowed, ValidationFailed
from assembly.neighbourhoods import structure
from assembly.notifications.models import Notification
from assembly.proposals import services as proposals
from assembly.proposals.models import ProposalEvent, ProposalStatus
from tests import case_factories as cf
from tests import factories

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)

# `w` (tests/fixtures.py) is `cf.world()`: Kadıköy with the council and the police.
pytestmark = pytest.mark.world("cases")


@pytest.fixture
def t0(w):
    """A moment after the world was made: votes open an hour later, cases are forwarded after that."""
    return factories.now()


@pytest.fixture
def case(w, t0):
    return cf.forwarded(w, t0)


def _events(case_: Case) -> list[tuple[str, str]]:
    return [(event.kind, event.status) for event in queries.events_of(case_)]


def _second_hood(w, code: str = "MODA"):
    hood = structure.create_neighbourhood(SystemActor(), factories.now(), municipality=w.municipality,
                                      slug=f"moda-{code.lower()}", code=code, names={"tr": "Moda"},
                                      default_locale="tr", quorum_percent=0, support_threshold=1)
    return hood, factories.muhtar(hood)


# --- forwarding ---------------------------------------------------------------------------------

def test_an_accepted_item_is_forwarded_freely(w, t0):
    [accepted] = cf.voted(w, t0, {"Sokak lambaları": "yes"})
    assert accepted.status == ProposalStatus.ACCEPTED.value
    at = t0 + 3 * cf.HOUR
    case = cases.forward(w.muhtar, at, accepted, w.body, note="Lütfen inceleyin.")
    assert case.reference == f"KDK-CAFERAGA-{at.year}-0001"
    assert (case.status, case.forward_reason, case.note) == ("forwarded", None, "Lütfen inceleyin.")
    assert case.due_at == at + 30 * DAY
    assert case.vote_result["outcome"] == "accepted" and case.vote_result["counts"]["yes"] == 1
    assert accepted.status == ProposalStatus.FORWARDED.value
    assert db.session.scalar(select(ProposalEvent.to_status).where(ProposalEvent.proposal_id == accepted.id)
                             .order_by(ProposalEvent.id.desc()).limit(1)) == "forwarded"
    assert _events(case) == [("forwarded", "forwarded")]
    assert queries.events_of(case)[0].data == {"body": w.body.name}


@pytest.mark.parametrize("outcome", ["rejected", "open"])
def test_a_rejected_or_never_voted_item_needs_a_public_reason(w, t0, outcome):
    item = cf.voted(w, t0, {"Bank": "no"})[0] if outcome == "rejected" else cf.proposal(w, t0)
    assert item.status == outcome
    with pytest.raises(ValidationFailed) as refused:
        cases.forward(w.muhtar, t0 + 3 * cf.HOUR, item, w.body, reason="   ")
    assert refused.value.field == "reason"
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    case = cases.forward(w.muhtar, t0 + 3 * cf.HOUR, item, w.body, reason="Çocuklar için tehlikeli.")
    assert case.forward_reason == "Çocuklar için tehlikeli."
    assert queries.events_of(case)[0].data["reason"] == "Çocuklar için tehlikeli."  # public, in the timeline
    assert item.status == ProposalStatus.FORWARDED.value


@pytest.mark.parametrize("state", ["draft", "withdrawn", "on_agenda"])
def test_items_that_are_not_ready_cannot_be_forwarded(w, t0, state):
    if state == "draft":
        item = proposals.create_proposal(w.author, t0, w.hood, proposals.ProposalInput(
            title="Taslak", body="Henüz değil.", category_id=w.category.id), publish=False)
    elif state == "withdrawn":
        item = proposals.withdraw_proposal(w.author, t0, cf.proposal(w, t0))
    else:
        item = cf.proposal(w, t0)
        proposals.transition(item, ProposalStatus.ON_AGENDA, w.muhtar, t0)
    with pytest.raises(InvalidTransition):
        cases.forward(w.muhtar, t0, item, w.body, reason="Neden olmasın.")


def test_the_same_item_goes_to_a_body_once_and_a_second_body_gets_a_linked_case(w, t0):
    [accepted] = cf.voted(w, t0, {"Işıklar": "yes"})
    at = t0 + 3 * cf.HOUR
    first = cases.forward(w.muhtar, at, accepted, w.body)
    with pytest.raises(ValidationFailed) as refused:
        cases.forward(w.muhtar, at, accepted, w.body)
    assert refused.value.field == "body_id"
    # Still accepted by the assembly: the second body needs no reason either.
    second = cases.forward(w.muhtar, at, accepted, w.other_body)
    assert second.forward_reason is None
    # The refused duplicate gave its number back: no gap.
    assert [first.reference[-4:], second.reference[-4:]] == ["0001", "0002"]
    assert queries.linked_cases(first) == [second]
    assert queries.linked_cases(second) == [first]
    assert [c.body_id for c in queries.cases_of_proposal(accepted.id)] == [w.body.id, w.other_body.id]


@pytest.mark.parametrize("who", ["author", "resident", "staff", "admin", "other_muhtar"])
def test_only_the_muhtar_of_the_neighbourhood_forwards(w, t0, who):
    item = cf.proposal(w, t0)
    actor = {"author": lambda: w.author, "resident": lambda: w.voter, "staff": lambda: w.staff,
             "admin": factories.admin, "other_muhtar": lambda: _second_hood(w)[1]}[who]()
    with pytest.raises(NotAllowed):
        cases.forward(actor, t0, item, w.body, reason="Acil.")
    assert item.status == "open"
    assert db.session.scalar(select(func.count()).select_from(CaseSequence)) == 0


def test_a_body_of_another_municipality_is_refused(w, t0):
    stranger = factories.body(factories.municipality())
    with pytest.raises(ValidationFailed) as refused:
        cases.forward(w.muhtar, t0, cf.proposal(w, t0), stranger, reason="Acil.")
    assert refused.value.field == "body_id"


def test_reference_numbers_are_sequential_per_neighbourhood_and_year(w, t0):
    this_year = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)
    next_year = dt.datetime(2027, 1, 2, 9, 0, tzinfo=dt.timezone.utc)
    moda, moda_muhtar = _second_hood(w)
    references = [cf.forwarded(w, this_year).reference for _ in range(3)]
    other = proposals.create_proposal(factories.resident(moda), this_year, moda, proposals.ProposalInput(
        title="Moda sahili", body="Çöp kutuları.", category_id=w.category.id), publish=True)
    references.append(cases.forward(moda_muhtar, this_year, other, w.body, reason="Acil.").reference)
    references.append(cf.forwarded(w, next_year).reference)
    assert references == ["KDK-CAFERAGA-2026-0001", "KDK-CAFERAGA-2026-0002", "KDK-CAFERAGA-2026-0003",
                          "KDK-MODA-2026-0001", "KDK-CAFERAGA-2027-0001"]
    assert queries.get_by_reference(" kdk-caferaga-2026-0002 ").reference == "KDK-CAFERAGA-2026-0002"


# --- the body's work ------------------------------------------------------------------------------

def test_staff_takes_a_case_from_forwarded_to_done(w, t0, case):
    at = t0 + DAY
    cases.receive(w.staff, at, case, note="Kayda alındı.")
    assert (case.status, case.received_at) == ("received", at)
    meeting = t0 + 10 * DAY
    cases.schedule(w.staff, at + MINUTE, case, meeting_at=meeting, agenda_number="2026/41",
                   record_url="https://meclis.example.org/2026/41")
    assert (case.status, case.council_meeting_at, case.agenda_number) == ("scheduled", meeting, "2026/41")
    cases.decide(w.staff, at + 2 * MINUTE, case, decision="approved", note="Oy birliğiyle kabul.")
    assert (case.status, case.decision, case.decided_at) == ("decided", "approved", at + 2 * MINUTE)
    assert cases.status_label(case.status, case.decision) == "Decided: approved"
    cases.progress(w.staff, at + 3 * MINUTE, case, percent=40)
    cases.progress(w.staff, at + 4 * MINUTE, case, percent=70)
    assert (case.status, case.progress) == ("in_progress", 70)
    cases.complete(w.staff, at + 5 * MINUTE, case, note="Lambalar takıldı.")
    assert (case.status, case.progress, case.done_at) == ("done", 100, at + 5 * MINUTE)
    assert _events(case) == [("forwarded", "forwarded"), ("received", "received"), ("scheduled", "scheduled"),
                             ("decided", "decided"), ("in_progress", "in_progress"),
                             ("in_progress", "in_progress"), ("done", "done")]
    events = queries.events_of(case)
    assert events[0].prev_hash == cases.GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[1].actor_name == f"{w.staff.display_name} ({w.body.name})"
    assert case.event_count == 7
    assert cases.verify_chain(case, events) is None


def test_a_rejection_needs_a_public_reason_and_ends_the_case(w, case):
    at = case.forwarded_at + DAY
    cases.receive(w.staff, at, case)
    with pytest.raises(ValidationFailed) as refused:
        cases.decide(w.staff, at, case, decision="rejected", note=" ")
    assert refused.value.field == "note"
    cases.decide(w.staff, at, case, decision="rejected", note="Bütçe yok.")
    assert queries.events_of(case)[-1].note == "Bütçe yok."
    for kind, fields in [("scheduled", {"meeting_at": at}), ("decided", {"decision": "approved"}),
                         ("in_progress", {"progress": 10}), ("done", {}), ("received", {})]:
        with pytest.raises(InvalidTransition):
            cases.apply_event(w.staff, at, case, kind, fields)


def test_a_deferred_case_goes_back_onto_an_agenda_and_is_decided_again(w, case):
    at = case.forwarded_at + DAY
    cf.walk(w, case, at, until="scheduled")
    cases.decide(w.staff, at + DAY, case, decision="deferred", note="Bir sonraki oturuma.")
    with pytest.raises(InvalidTransition):
        cases.progress(w.staff, at + DAY, case, percent=10)
    cases.schedule(w.staff, at + 2 * DAY, case, meeting_at=at + 20 * DAY, agenda_number="2026/52")
    cases.decide(w.staff, at + 3 * DAY, case, decision="approved")
    assert [e.kind for e in queries.events_of(case)][-3:] == ["decided", "scheduled", "decided"]
    assert (case.status, case.decision) == ("decided", "approved")


def test_a_referral_creates_a_linked_case_at_the_other_body(w, case):
    at = case.forwarded_at + DAY
    cases.receive(w.staff, at, case)
    for wrong in (None, w.body, factories.body(factories.municipality())):
        with pytest.raises(ValidationFailed) as refused:
            cases.decide(w.staff, at, case, decision="referred", refer_to=wrong)
        assert refused.value.field == "refer_to"
    cases.decide(w.staff, at, case, decision="referred", note="Emniyetin konusu.", refer_to=w.other_body)
    linked = queries.linked_cases(case)
    assert len(linked) == 1 and linked[0].referred_from_id == case.id
    referral = linked[0]
    assert (referral.body_id, referral.status, referral.reference[-4:]) == (w.other_body.id, "forwarded", "0002")
    assert queries.events_of(referral)[0].data == {"body": w.other_body.name, "referred_from": case.reference}
    assert queries.events_of(case)[-1].data == {"decision": "referred", "referred_to": w.other_body.name}
    with pytest.raises(InvalidTransition):
        cases.progress(w.staff, at, case, percent=10)
    # Now the police's case: their staff act on it, the council's do not.
    with pytest.raises(NotAllowed):
        cases.receive(w.staff, at, referral)
    cases.receive(w.other_staff, at, referral)
    assert referral.status == "received"


@pytest.mark.parametrize("who", ["other_staff", "muhtar", "author", "admin", "anonymous"])
def test_only_staff_of_the_body_act_on_its_cases(w, case, who):
    from flask_login import AnonymousUserMixin

    actor = {"other_staff": lambda: w.other_staff, "muhtar": lambda: w.muhtar, "author": lambda: w.author,
             "admin": factories.admin, "anonymous": AnonymousUserMixin}[who]()
    for kind, fields in [("received", {}), ("decided", {"decision": "rejected", "note": "Hayır."})]:
        with pytest.raises(NotAllowed):
            cases.apply_event(actor, case.forwarded_at + DAY, case, kind, fields)
    assert (case.status, case.event_count) == ("forwarded", 1)


@pytest.mark.parametrize("until, refused", [
    (None, ["scheduled", "decided", "in_progress", "done"]),
    ("received", ["received", "in_progress", "done"]),
    ("scheduled", ["received", "in_progress", "done"]),
    ("decided", ["received", "scheduled", "decided"]),  # approved: only progress or done follow
    ("in_progress", ["received", "scheduled", "decided"]),
    ("done", ["received", "scheduled", "decided", "in_progress", "done"]),
])
def test_illegal_transitions_are_refused(w, case, until, refused):
    at = case.forwarded_at + DAY
    if until:
        cf.walk(w, case, at, until=until)
    fields = {"meeting_at": at, "decision": "approved", "progress": 50}
    before = (case.status, case.event_count)
    for kind in refused:
        with pytest.raises(InvalidTransition):
            cases.apply_event(w.staff, at + DAY, case, kind, fields)
    assert (case.status, case.event_count) == before


def test_input_rules_of_the_steps(w, case):
    at = case.forwarded_at + DAY
    cases.receive(w.staff, at, case)
    for fields, field in [({}, "meeting_at"), ({"meeting_at": at, "record_url": "javascript:alert(1)"}, "record_url")]:
        with pytest.raises(ValidationFailed) as refused:
            cases.apply_event(w.staff, at, case, "scheduled", fields)
        assert refused.value.field == field
    with pytest.raises(ValidationFailed):
        cases.apply_event(w.staff, at, case, "decided", {"decision": "maybe"})
    with pytest.raises(ValidationFailed):
        cases.apply_event(w.staff, at, case, "archived", {})
    cases.decide(w.staff, at, case, decision="approved")
    for percent in (-1, 101):
        with pytest.raises(ValidationFailed):
            cases.progress(w.staff, at, case, percent=percent)
    assert case.event_count == 3


def test_followers_get_a_notification_for_every_event(w, t0, case):
    proposal = case.proposal
    proposals.follow(w.voter, t0, proposal)
    cf.walk(w, case, t0 + DAY, until="decided")

    def notified(user) -> list[dict]:
        return [n.params for n in db.session.scalars(select(Notification).where(
            Notification.user_id == user.id, Notification.kind == "case_event").order_by(Notification.id))]

    # The author follows their own proposal since publishing: the forwarding and three steps.
    assert [p["status"] for p in notified(w.author)] == ["forwarded", "received", "scheduled", "decided"]
    assert notified(w.author)[-1] == {"reference": case.reference, "status": "decided", "decision": "approved",
                                      "title": proposal.title, "body_kind": "council"}
    assert [p["status"] for p in notified(w.voter)] == ["received", "scheduled", "decided"]
    assert notified(w.staff) == []


# --- overdue and the scoreboard ---------------------------------------------------------------------

def test_a_case_is_overdue_while_undecided_after_the_deadline(w, case):
    due = case.due_at
    assert due == case.forwarded_at + 30 * DAY
    assert not cases.is_overdue(case, due)
    assert cases.is_overdue(case, due + MINUTE)
    cases.receive(w.staff, due + MINUTE, case)
    assert cases.is_overdue(case, due + DAY)  # received is not an answer
    assert queries.overdue_cases(w.body, due + DAY) == [case]
    cases.decide(w.staff, due + DAY, case, decision="rejected", note="Bütçe yok.")
    assert not cases.is_overdue(case, due + 2 * DAY)
    assert queries.overdue_cases(w.body, due + 2 * DAY) == []


def test_scoreboard_counts_and_medians(w, t0):
    quick, slow, silent = (cf.forwarded(w, t0) for _ in range(3))
    cases.receive(w.staff, t0 + 2 * DAY, quick)
    cases.decide(w.staff, t0 + 4 * DAY, quick, decision="approved")
    cases.receive(w.staff, t0 + 4 * DAY, slow)
    cf.forwarded(w, t0, body=w.other_body)  # another body's case does not count
    board = queries.scoreboard(w.body, t0 + 40 * DAY)
    assert (board.total, board.open, board.overdue) == (3, 2, 2)
    assert board.median_days_to_receive == 3.0
    assert board.median_days_to_decide == 4.0
    early = queries.scoreboard(w.body, t0 + 10 * DAY)
    assert (early.open, early.overdue) == (2, 0)
    assert silent.status == "forwarded"
    empty = queries.scoreboard(w.other_body, t0)
    assert (empty.total, empty.median_days_to_receive) == (1, None)


# --- the hash chain ------------------------------------------------------------------------------------

def _unguard() -> None:
    """Drop the append-only guard inside this test's transaction (rolled back with it)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
    else:
        db.session.execute(text("DROP TRIGGER case_events_no_update"))
        db.session.execute(text("DROP TRIGGER case_events_no_delete"))


def _chain(case_: Case):
    db.session.expire_all()
    return cases.verify_chain(case_, queries.events_of(case_))


@pytest.fixture
def walked(w, t0):
    """Two finished cases and an untouched one; all chains intact."""
    done = [cf.walk(w, cf.forwarded(w, t0), t0 + DAY, until="done") for _ in range(2)]
    return done + [cf.forwarded(w, t0)]


def _verify_cli(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["cases", "verify"])
    return result.exit_code, result.output


def test_intact_chains_verify(app, walked):
    assert [_chain(c) for c in walked] == [None, None, None]
    assert list(cases.verify_all(batch=2)) == []
    assert _verify_cli(app) == (0, "every case timeline is intact\n")


def test_an_edited_event_is_found(app, walked):
    target = walked[1]
    _unguard()
    db.session.execute(update(CaseEvent).where(CaseEvent.case_id == target.id, CaseEvent.seq == 3)
                       .values(note="Tarih değiştirildi."))
    broken = _chain(target)
    assert isinstance(broken, CaseEvent) and broken.seq == 3
    assert [(c.id, p.seq) for c, p in cases.verify_all(batch=2)] == [(target.id, 3)]
    code, output = _verify_cli(app)
    assert code == 1
    assert f"{target.reference}: event 3 " in output and "1 case timeline(s) broken" in output


def test_an_edited_timestamp_or_status_is_found(walked):
    first, second = walked[0], walked[1]
    recorded = queries.events_of(first)[3].created_at
    _unguard()
    db.session.execute(update(CaseEvent).where(CaseEvent.case_id == first.id, CaseEvent.seq == 4)
                       .values(created_at=recorded + dt.timedelta(seconds=1)))
    db.session.execute(update(CaseEvent).where(CaseEvent.case_id == second.id, CaseEvent.seq == 2)
                       .values(status="done"))
    assert _chain(first).seq == 4
    assert _chain(second).seq == 2


@pytest.mark.parametrize("seq, found", [(2, 2), (6, 6)])
def test_a_deleted_event_is_found(app, walked, seq, found):
    target = walked[0]
    _unguard()
    db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == target.id, CaseEvent.seq == seq))
    assert _chain(target) == found  # the missing sequence number (the last one: by the event count)
    code, output = _verify_cli(app)
    assert code == 1 and f"{target.reference}: event {found} is missing" in output


def test_reordered_events_are_found(app, walked):
    target = walked[1]
    _unguard()
    swap = [(2, -2), (3, 2), (-2, 3)]
    for old, new in swap:
        db.session.execute(update(CaseEvent).where(CaseEvent.case_id == target.id, CaseEvent.seq == old)
                           .values(seq=new))
    broken = _chain(target)
    assert isinstance(broken, CaseEvent) and broken.seq == 2 and broken.kind == "scheduled"
    assert _verify_cli(app)[0] == 1


def test_a_whole_rewritten_chain_is_still_found_when_hashes_are_not_recomputed(walked):
    """Moving an event to another case keeps its hash, but the hash covers the reference."""
    first, second = walked[0], walked[1]
    _unguard()
    db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == second.id, CaseEvent.seq == 1))
    db.session.execute(update(CaseEvent).where(CaseEvent.case_id == first.id, CaseEvent.seq == 1)
                       .values(case_id=second.id))
    assert _chain(second).seq == 1
    assert _chain(first) == 1


def test_the_database_refuses_to_change_or_delete_events(walked):
    target = walked[0]
    for statement in (update(CaseEvent).where(CaseEvent.case_id == target.id).values(note="x"),
                      delete(CaseEvent).where(CaseEvent.case_id == target.id)):
        with pytest.raises(DBAPIError) as refused:
            with db.session.begin_nested():
                db.session.execute(statement)
        assert "append-only" in str(refused.value)
    assert _chain(target) is None
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.case_id == target.id)) == 6
