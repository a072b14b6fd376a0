"""The main pages of the demo site, per role and language, found in the demo database.

Each language looks at the neighbourhood that speaks it (English at the Turkish one), and
logs in as the people of that neighbourhood, so the pages carry content in their own script.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.assemblies.models import Assembly
from assembly.cases.models import Case
from assembly.db import db
from assembly.meetings.models import Meeting, MeetingNeighbourhood
from assembly.neighbourhoods.models import Body, BodyStaff, InviteCode, Membership, Neighbourhood
from assembly.proposals.models import Proposal
from assembly.surveys.models import Survey, SurveyNeighbourhood

ROLES = ("visitor", "resident", "muhtar", "staff", "admin")

NEIGHBOURHOOD = {"en": "caferaga", "tr": "caferaga", "fa": "dolatabad", "sv": "jarntorget"}
# Who looks at the pages: people the journey does not use, so its steps do not meet theirs.
PEOPLE = {
    "resident": {"en": "emre", "tr": "ilkay", "fa": "fatemeh", "sv": "erik"},
    "muhtar": {"en": "muhtar.caferaga", "tr": "muhtar.caferaga", "fa": "shorayar.dolatabad",
               "sv": "samordnare.jarntorget"},
    "staff": {"en": "meclis.staff", "tr": "meclis.staff", "fa": "shahrdari.staff", "sv": "polisen.staff"},
    "admin": {lang: "admin" for lang in NEIGHBOURHOOD},
}


@dataclass(frozen=True)
class PageSet:
    login: str | None
    paths: tuple[tuple[str, str], ...]  # (name, path)


def _first(statement):
    return db.session.scalars(statement.limit(1)).first()


def _user(login: str) -> User:
    return db.session.scalar(select(User).where(User.email.like(f"{login}@%")))


def page_sets(site) -> dict[tuple[str, str], PageSet]:
    """{(role, language): the pages that person sees}."""
    with site.app.app_context():
        return {(role, lang): PageSet(PEOPLE[role][lang] if role != "visitor" else None,
                                      tuple(_paths(role, NEIGHBOURHOOD[lang], PEOPLE.get(role, {}).get(lang))))
                for role in ROLES for lang in NEIGHBOURHOOD}


def _paths(role: str, slug: str, login: str | None):
    hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == slug))
    n = f"/n/{slug}"
    discussed = _first(select(Proposal).where(Proposal.neighbourhood_id == hood.id, Proposal.hidden_at.is_(None),
                                              Proposal.status.in_(("open", "accepted", "forwarded", "on_agenda")))
                       .order_by(Proposal.comment_count.desc(), Proposal.latitude.is_(None), Proposal.id))
    on_agenda = _first(select(Proposal).where(Proposal.neighbourhood_id == hood.id, Proposal.status == "on_agenda",
                                              Proposal.hidden_at.is_(None))
                       .order_by(Proposal.latitude.is_(None), Proposal.id))
    hidden = _first(select(Proposal).where(Proposal.neighbourhood_id == hood.id, Proposal.hidden_at.is_not(None)))
    sessions = {a.status: a for a in db.session.scalars(
        select(Assembly).where(Assembly.neighbourhood_id == hood.id).order_by(Assembly.id))}
    case = _first(select(Case).where(Case.neighbourhood_id == hood.id).order_by(Case.event_count.desc()))
    if role == "visitor":
        yield "home", "/"
        yield "neighbourhood", n
        yield "proposals", f"{n}/proposals"
        yield "proposal", f"{n}/p/{discussed.id}"
        if hidden is not None:
            yield "hidden proposal", f"{n}/p/{hidden.id}"
        yield "moderation log", f"{n}/moderation"
        yield "sessions", f"{n}/assemblies"
        yield "session with results", f"{n}/assemblies/{sessions['closed' if 'closed' in sessions else 'minuted'].id}"
        yield "count check", f"{n}/assemblies/{sessions['closed' if 'closed' in sessions else 'minuted'].id}/check"
        yield "session voting", f"{n}/assemblies/{sessions['voting'].id}"
        counted = sessions['closed' if 'closed' in sessions else 'minuted'].id
        yield "printable agenda", f"{n}/assemblies/{counted}/print/agenda"
        yield "printable results", f"{n}/assemblies/{counted}/print/results"
        if "minuted" in sessions:
            yield "printable minutes", f"{n}/assemblies/{sessions['minuted'].id}/print/minutes"
        yield "case lookup", "/cases"
        yield "case", f"/cases/{case.reference}"
        yield "forwarding letter", f"/cases/{case.reference}/letter"
        yield "body scoreboard", f"/bodies/{case.body_id}"
        yield "login", "/account/login"
        yield "register", "/account/register"
        yield "forgotten password", "/account/forgot"
        yield "not found", "/n/no-such-place"
    elif role == "resident":
        yield "home", "/"
        yield "neighbourhood", n
        yield "proposals", f"{n}/proposals"
        yield "new proposal", f"{n}/proposals/new"
        yield "proposal with discussion", f"{n}/p/{discussed.id}"
        yield "proposal on the agenda", f"{n}/p/{on_agenda.id}"
        yield "session voting", f"{n}/assemblies/{sessions['voting'].id}"
        yield "notifications", "/notifications/"
        yield "account", "/account/"
        yield "invitation code", "/join"
    elif role == "muhtar":
        announced = sessions.get("announced")
        closed = sessions.get("closed") or sessions.get("minuted")
        accepted = _first(select(Proposal).where(Proposal.neighbourhood_id == hood.id,
                                                 Proposal.status.in_(("accepted", "forwarded"))))
        batch = _first(select(InviteCode.batch).where(InviteCode.neighbourhood_id == hood.id))
        yield "muhtar desk", "/muhtar"
        yield "residents and requests", f"{n}/members"
        yield "invitation letters", f"{n}/invites"
        yield "letters to print", f"{n}/invites/{batch}"
        yield "reports", f"{n}/reports"
        yield "proposal with moderation", f"{n}/p/{discussed.id}"
        yield "call a session", f"{n}/assemblies/new"
        yield "announced session", f"{n}/assemblies/{announced.id}"
        yield "ballot set-up", f"{n}/assemblies/{announced.id}/ballot"
        yield "closed session", f"{n}/assemblies/{closed.id}"
        yield "minutes", f"{n}/assemblies/{closed.id}/minutes"
        yield "forward", f"{n}/p/{accepted.id}/forward"
        # Assisted participation: the desk, a resident's page, and what can be entered in their name.
        helped = _first(select(Membership).join(User, User.id == Membership.user_id).where(
            Membership.neighbourhood_id == hood.id, Membership.role == "resident", Membership.status == "verified",
            User.assisted.is_(True)).order_by(Membership.id))
        yield "assisted participation", f"{n}/assisted"
        if helped is not None:
            act = f"{n}/assisted/{helped.id}"
            yield "act for a resident", act
            survey = _first(select(Survey).join(SurveyNeighbourhood, SurveyNeighbourhood.survey_id == Survey.id)
                            .where(SurveyNeighbourhood.neighbourhood_id == hood.id, Survey.status == "scheduled")
                            .order_by(Survey.id))
            if survey is not None:
                yield "answers for a resident", f"{act}/surveys/{survey.id}"
            meeting = _first(select(Meeting).join(MeetingNeighbourhood, MeetingNeighbourhood.meeting_id == Meeting.id)
                             .where(MeetingNeighbourhood.neighbourhood_id == hood.id, Meeting.status == "open"))
            if meeting is not None:
                yield "a meeting question for a resident", f"{act}/meetings/{meeting.id}"
            if "voting" in sessions:
                yield "a vote for a resident", f"{act}/assemblies/{sessions['voting'].id}"
    elif role == "staff":
        user = _user(login)
        body = db.session.scalar(select(Body).join(BodyStaff, BodyStaff.body_id == Body.id)
                                 .where(BodyStaff.user_id == user.id))
        # Received or scheduled: the page offers several forms at once.
        own_case = _first(select(Case).where(Case.body_id == body.id, Case.status != "done")
                          .order_by(Case.status.in_(("received", "scheduled")).desc(), Case.event_count.desc()))
        yield "staff desk", "/staff"
        yield "inbox", f"/staff/bodies/{body.id}"
        if own_case is not None:
            yield "case to act on", f"/cases/{own_case.reference}"
        yield "API tokens", f"/staff/bodies/{body.id}/tokens"
        yield "import outcomes", f"/staff/bodies/{body.id}/import"
        yield "neighbourhood (not a member)", n
    elif role == "admin":
        code = hood.municipality.code
        body = _first(select(Body).where(Body.municipality_id == hood.municipality_id)
                      .order_by(Body.id))
        yield "administration", "/admin/"
        yield "municipality", f"/admin/m/{code}"
        yield "neighbourhood settings", f"/admin/n/{slug}"
        yield "body", f"/admin/bodies/{body.id}"
        yield "audit log", "/admin/audit"
        yield "new municipality", "/admin/municipalities/new"
        yield "new neighbourhood", f"/admin/m/{code}/neighbourhoods/new"
        yield "new body", f"/admin/m/{code}/bodies/new"
        yield "new category", f"/admin/m/{code}/categories/new"


# Printed documents are in the language of their neighbourhood, whatever the reader's (docs/paper.md).
PRINTED = ("printable agenda", "printable results", "printable minutes", "forwarding letter", "letters to print")
SPOKEN = {"caferaga": "tr", "dolatabad": "fa", "jarntorget": "sv"}


def expected_language(name: str, lang: str) -> str:
    return SPOKEN[NEIGHBOURHOOD[lang]] if name in PRINTED else lang


def expected_status(name: str) -> int:
    return 404 if name == "not found" else 200
