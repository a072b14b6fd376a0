"""Checks that maintained counters equal a full recount (run by `flask check counters`).

Lists and pages read counters kept in the same transaction as the rows they count; this is
the proof that they did not drift. Each check is one grouped query, whatever the data size.
"""
from __future__ import annotations

from dataclasses import dataclass

import click
from flask.cli import AppGroup
from sqlalchemy import and_, func, select

from assembly.assemblies.models import Ballot, Participation
from assembly.cases.models import Case, CaseEvent
from assembly.db import db
from assembly.meetings.models import Meeting, MeetingQuestion, QuestionSupport
from assembly.neighbourhoods.models import Membership, MembershipRole, MembershipStatus, Neighbourhood
from assembly.proposals.models import Comment, Proposal, Report, Support
from assembly.surveys.models import Source, Survey, SurveyAnswer, SurveyParticipation


@dataclass(frozen=True)
class Mismatch:
    counter: str
    row_id: int
    stored: int
    recounted: int


def _compare(name: str, table, column, count_query) -> list[Mismatch]:
    recount = count_query.subquery()
    rows = db.session.execute(
        select(table.id, column, func.coalesce(recount.c.n, 0))
        .outerjoin(recount, recount.c.key == table.id)
        .where(column != func.coalesce(recount.c.n, 0))
    ).all()
    return [Mismatch(name, row_id, stored, recounted) for row_id, stored, recounted in rows]


def check_counters() -> list[Mismatch]:
    open_proposal_reports = and_(Report.resolved_at.is_(None), Report.comment_id.is_(None))
    checks = [
        ("neighbourhoods.verified_resident_count", Neighbourhood, Neighbourhood.verified_resident_count,
         select(Membership.neighbourhood_id.label("key"), func.count().label("n"))
         .where(Membership.role == MembershipRole.RESIDENT.value,
                Membership.status == MembershipStatus.VERIFIED.value)
         .group_by(Membership.neighbourhood_id)),
        ("proposals.support_count", Proposal, Proposal.support_count,
         select(Support.proposal_id.label("key"), func.count().label("n")).group_by(Support.proposal_id)),
        ("proposals.comment_count", Proposal, Proposal.comment_count,
         select(Comment.proposal_id.label("key"), func.count().label("n"))
         .where(Comment.deleted_at.is_(None)).group_by(Comment.proposal_id)),
        ("proposals.report_count", Proposal, Proposal.report_count,
         select(Report.proposal_id.label("key"), func.count().label("n"))
         .where(open_proposal_reports).group_by(Report.proposal_id)),
        ("comments.report_count", Comment, Comment.report_count,
         select(Report.comment_id.label("key"), func.count().label("n"))
         .where(Report.resolved_at.is_(None), Report.comment_id.is_not(None)).group_by(Report.comment_id)),
        ("surveys.respondents", Survey, Survey.respondents,
         select(SurveyParticipation.survey_id.label("key"), func.count().label("n"))
         .group_by(SurveyParticipation.survey_id)),
        ("surveys.paper_count", Survey, Survey.paper_count,
         select(SurveyAnswer.survey_id.label("key"), func.count().label("n"))
         .where(SurveyAnswer.source == Source.PAPER.value).group_by(SurveyAnswer.survey_id)),
        ("ballots.turnout", Ballot, Ballot.turnout,
         select(Participation.ballot_id.label("key"), func.count().label("n")).group_by(Participation.ballot_id)),
        ("meetings.question_count", Meeting, Meeting.question_count,
         select(MeetingQuestion.meeting_id.label("key"), func.count().label("n"))
         .group_by(MeetingQuestion.meeting_id)),
        ("meeting_questions.support_count", MeetingQuestion, MeetingQuestion.support_count,
         select(QuestionSupport.question_id.label("key"), func.count().label("n"))
         .group_by(QuestionSupport.question_id)),
        ("cases.event_count", Case, Case.event_count,
         select(CaseEvent.case_id.label("key"), func.count().label("n")).group_by(CaseEvent.case_id)),
    ]
    mismatches: list[Mismatch] = []
    for name, table, column, query in checks:
        mismatches.extend(_compare(name, table, column, query))
    return mismatches


checks = AppGroup("check", help="Integrity checks.")


@checks.command("counters")
def counters_command():
    """Recount every maintained counter; exit 1 and list the rows where a counter drifted."""
    mismatches = check_counters()
    for m in mismatches:
        click.echo(f"{m.counter} of row {m.row_id}: stored {m.stored}, recounted {m.recounted}")
    if mismatches:
        raise SystemExit(1)
    click.echo("all counters equal a full recount")
