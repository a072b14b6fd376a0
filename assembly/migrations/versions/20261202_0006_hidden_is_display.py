"""Hiding is about display: a hidden proposal keeps its status (hidden_at, not status 'hidden').

Hidden proposals get back the status they had, with `hidden_at` from their latest hide. Proposals
that a closed ballot could not move on because they were hidden at the time (they kept
'on_agenda' for ever) get the outcome their agenda item records, as a recorded status change.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00.000000+00:00
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

STATUSES = ('draft', 'open', 'on_agenda', 'accepted', 'rejected', 'forwarded', 'withdrawn')
FORMER_STATUSES = STATUSES + ('hidden',)
TIMESTAMP = sa.DateTime(timezone=True)

# The tables as this revision sees them; data migrations never import the application's models.
proposals = sa.table(
    'proposals', sa.column('id', sa.Integer), sa.column('status', sa.String), sa.column('updated_at', TIMESTAMP),
    sa.column('status_before_hidden', sa.String), sa.column('hidden_at', TIMESTAMP),
    sa.column('hidden_reason', sa.String))
proposal_events = sa.table(
    'proposal_events', sa.column('proposal_id', sa.Integer), sa.column('actor_id', sa.Integer),
    sa.column('from_status', sa.String), sa.column('to_status', sa.String), sa.column('reason', sa.String),
    sa.column('created_at', TIMESTAMP))
moderation_actions = sa.table(
    'moderation_actions', sa.column('proposal_id', sa.Integer), sa.column('comment_id', sa.Integer),
    sa.column('action', sa.String), sa.column('created_at', TIMESTAMP))
agenda_items = sa.table(
    'agenda_items', sa.column('assembly_id', sa.Integer), sa.column('proposal_id', sa.Integer),
    sa.column('outcome', sa.String))
assemblies = sa.table('assemblies', sa.column('id', sa.Integer), sa.column('status', sa.String),
                      sa.column('title', sa.String))


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    now = dt.datetime.now(dt.timezone.utc)
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', TIMESTAMP, nullable=True))
    _hidden_status_to_hidden_at(now)
    _finish_votes_that_hiding_held_up(now)
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_proposals_status_before_hidden'), type_='check')
        batch_op.drop_column('status_before_hidden')
        batch_op.drop_constraint(op.f('ck_proposals_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_proposals_status'), _one_of('status', STATUSES))
        batch_op.create_check_constraint(op.f('ck_proposals_hidden_reason'),
                                         'hidden_reason IS NULL OR hidden_at IS NOT NULL')
        batch_op.drop_index('ix_proposals_list')
        batch_op.create_index('ix_proposals_list', ['neighbourhood_id', 'status', 'published_at'], unique=False,
                              sqlite_where=sa.text('hidden_at IS NULL'), postgresql_where=sa.text('hidden_at IS NULL'))
        batch_op.create_index('ix_proposals_hidden', ['neighbourhood_id', 'hidden_at'], unique=False,
                              sqlite_where=sa.text('hidden_at IS NOT NULL'),
                              postgresql_where=sa.text('hidden_at IS NOT NULL'))
    # Not through batch: on SQLite a rebuilt moderation_actions would lose its append-only triggers.
    op.create_index('ix_moderation_actions_proposal', 'moderation_actions', ['proposal_id', 'id'], unique=False)


def _hidden_status_to_hidden_at(now: dt.datetime) -> None:
    latest_hide = (sa.select(sa.func.max(moderation_actions.c.created_at))
                   .where(moderation_actions.c.proposal_id == proposals.c.id,
                          moderation_actions.c.comment_id.is_(None),
                          moderation_actions.c.action.in_(('hide', 'auto_hide')))
                   .scalar_subquery())
    previous = sa.case((proposals.c.status_before_hidden.in_(STATUSES[1:]), proposals.c.status_before_hidden),
                       else_='open')
    op.execute(proposals.update().where(proposals.c.status == 'hidden').values(
        status=previous, hidden_at=sa.func.coalesce(latest_hide, sa.literal(now, TIMESTAMP))))
    # A reason left behind on a shown proposal would break the new check constraint.
    op.execute(proposals.update().where(proposals.c.hidden_at.is_(None), proposals.c.hidden_reason.is_not(None))
               .values(hidden_reason=None))


def _finish_votes_that_hiding_held_up(now: dt.datetime) -> None:
    """A ballot closed while its item was hidden left it 'on_agenda': give it the recorded outcome."""
    bind = op.get_bind()
    held_up = bind.execute(
        sa.select(agenda_items.c.proposal_id, agenda_items.c.outcome, assemblies.c.title)
        .select_from(agenda_items.join(assemblies, assemblies.c.id == agenda_items.c.assembly_id)
                     .join(proposals, proposals.c.id == agenda_items.c.proposal_id))
        .where(proposals.c.status == 'on_agenda', agenda_items.c.outcome.in_(('accepted', 'rejected')),
               assemblies.c.status.in_(('closed', 'minuted')))
    ).all()
    for proposal_id, outcome, title in held_up:
        bind.execute(proposals.update().where(proposals.c.id == proposal_id, proposals.c.status == 'on_agenda')
                     .values(status=outcome, updated_at=now))
        bind.execute(proposal_events.insert().values(
            proposal_id=proposal_id, actor_id=None, from_status='on_agenda', to_status=outcome, reason=title,
            created_at=now))


def downgrade() -> None:
    op.drop_index('ix_moderation_actions_proposal', table_name='moderation_actions')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_before_hidden', sa.String(length=12), nullable=True))
        batch_op.drop_index('ix_proposals_hidden', sqlite_where=sa.text('hidden_at IS NOT NULL'),
                            postgresql_where=sa.text('hidden_at IS NOT NULL'))
        batch_op.drop_index('ix_proposals_list', sqlite_where=sa.text('hidden_at IS NULL'),
                            postgresql_where=sa.text('hidden_at IS NULL'))
        batch_op.create_index('ix_proposals_list', ['neighbourhood_id', 'status', 'published_at'], unique=False)
        batch_op.drop_constraint(op.f('ck_proposals_hidden_reason'), type_='check')
        batch_op.drop_constraint(op.f('ck_proposals_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_proposals_status'), _one_of('status', FORMER_STATUSES))
        batch_op.create_check_constraint(
            op.f('ck_proposals_status_before_hidden'),
            _one_of('status_before_hidden', FORMER_STATUSES) + ' OR status_before_hidden IS NULL')
    # Hidden is a status again; the statuses that closed ballots gave stay (they are what happened).
    op.execute(proposals.update().where(proposals.c.hidden_at.is_not(None), proposals.c.status != 'draft')
               .values(status_before_hidden=proposals.c.status, status='hidden'))
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('hidden_at')
