"""Promises and programmes: signed by bodies for neighbourhoods, commitments with indicators (a count,
yes/no, a percentage, or a survey question's result) and a hash-chained, append-only progress
timeline, follow-up reports and muhtars' comments, the surveys and proposals a promise answers.

Revision ID: 0010_promises
Revises: 0009_surveys
Create Date: 2026-12-03 06:51:57.972309+00:00
"""
from alembic import op
import sqlalchemy as sa

from history_guard import create_append_only_guard, drop_append_only_guard


revision = '0010_promises'
down_revision = '0009_surveys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('promises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('summary_html', sa.Text(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('report_every_months', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('promise', 'programme')", name=op.f('ck_promises_kind')),
    sa.CheckConstraint("status IN ('draft', 'published', 'closed')", name=op.f('ck_promises_status')),
    sa.CheckConstraint('period_start <= period_end', name=op.f('ck_promises_period')),
    sa.CheckConstraint('report_every_months IS NULL OR report_every_months BETWEEN 1 AND 24', name=op.f('ck_promises_report_every_months')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_promises_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_promises_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promises'))
    )
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.create_index('ix_promises_municipality', ['municipality_id', 'status', 'period_end'], unique=False)

    op.create_table('promise_bodies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_by_name', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_promise_bodies_body_id_bodies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['promise_id'], ['promises.id'], name=op.f('fk_promise_bodies_promise_id_promises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_promise_bodies_signed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_bodies')),
    sa.UniqueConstraint('promise_id', 'body_id', name=op.f('uq_promise_bodies_promise_id_body_id'))
    )
    with op.batch_alter_table('promise_bodies', schema=None) as batch_op:
        batch_op.create_index('ix_promise_bodies_body', ['body_id'], unique=False)

    op.create_table('promise_follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['promise_id'], ['promises.id'], name=op.f('fk_promise_follows_promise_id_promises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_promise_follows_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_follows')),
    sa.UniqueConstraint('promise_id', 'user_id', name=op.f('uq_promise_follows_promise_id_user_id'))
    )
    with op.batch_alter_table('promise_follows', schema=None) as batch_op:
        batch_op.create_index('ix_promise_follows_user', ['user_id'], unique=False)

    op.create_table('promise_neighbourhoods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('cosigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cosigned_by_id', sa.Integer(), nullable=True),
    sa.Column('cosigned_by_name', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['cosigned_by_id'], ['users.id'], name=op.f('fk_promise_neighbourhoods_cosigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_promise_neighbourhoods_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['promise_id'], ['promises.id'], name=op.f('fk_promise_neighbourhoods_promise_id_promises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_neighbourhoods')),
    sa.UniqueConstraint('promise_id', 'neighbourhood_id', name=op.f('uq_promise_neighbourhoods_promise_id_neighbourhood_id'))
    )
    with op.batch_alter_table('promise_neighbourhoods', schema=None) as batch_op:
        batch_op.create_index('ix_promise_neighbourhoods_neighbourhood', ['neighbourhood_id', 'promise_id'], unique=False)

    op.create_table('promise_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_html', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_promise_reports_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_promise_reports_body_id_bodies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['promise_id'], ['promises.id'], name=op.f('fk_promise_reports_promise_id_promises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_reports')),
    sa.UniqueConstraint('promise_id', 'due_on', 'body_id', name=op.f('uq_promise_reports_promise_id_due_on_body_id'))
    )
    with op.batch_alter_table('promise_reports', schema=None) as batch_op:
        batch_op.create_index('ix_promise_reports_promise', ['promise_id', 'due_on'], unique=False)

    op.create_table('promise_report_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_promise_report_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_promise_report_comments_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['report_id'], ['promise_reports.id'], name=op.f('fk_promise_report_comments_report_id_promise_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_report_comments'))
    )
    with op.batch_alter_table('promise_report_comments', schema=None) as batch_op:
        batch_op.create_index('ix_promise_report_comments_report', ['report_id', 'id'], unique=False)

    op.create_table('promise_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['promise_id'], ['promises.id'], name=op.f('fk_promise_surveys_promise_id_promises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_promise_surveys_survey_id_surveys'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_surveys')),
    sa.UniqueConstraint('promise_id', 'survey_id', name=op.f('uq_promise_surveys_promise_id_survey_id'))
    )
    with op.batch_alter_table('promise_surveys', schema=None) as batch_op:
        batch_op.create_index('ix_promise_surveys_survey', ['survey_id'], unique=False)

    op.create_table('commitments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('indicator_kind', sa.String(length=16), nullable=False),
    sa.Column('indicator_label', sa.String(length=200), nullable=False),
    sa.Column('survey_question_id', sa.Integer(), nullable=True),
    sa.Column('survey_option', sa.Integer(), nullable=True),
    sa.Column('baseline', sa.Float(), nullable=True),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('current_value', sa.Float(), nullable=True),
    sa.Column('progress', sa.Integer(), server_default='0', nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('budget', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_count', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("(indicator_kind = 'survey_question') = (survey_question_id IS NOT NULL AND survey_option IS NOT NULL AND survey_option >= 0)", name=op.f('ck_commitments_survey_indicator')),
    sa.CheckConstraint("indicator_kind IN ('count', 'yes_no', 'percent', 'survey_question')", name=op.f('ck_commitments_indicator_kind')),
    sa.CheckConstraint('budget IS NULL OR budget >= 0', name=op.f('ck_commitments_budget')),
    sa.CheckConstraint('event_count >= 0', name=op.f('ck_commitments_event_count')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_commitments_progress')),
    sa.ForeignKeyConstraint(['promise_id'], ['promises.id'], name=op.f('fk_commitments_promise_id_promises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_question_id'], ['survey_questions.id'], name=op.f('fk_commitments_survey_question_id_survey_questions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitments')),
    sa.UniqueConstraint('promise_id', 'position', name=op.f('uq_commitments_promise_id_position'))
    )
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.create_index('ix_commitments_due', ['done_at', 'due_on'], unique=False)
        batch_op.create_index('ix_commitments_survey_question_id', ['survey_question_id'], unique=False)

    op.create_table('promise_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['promise_id'], ['promises.id'], name=op.f('fk_promise_proposals_promise_id_promises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_promise_proposals_proposal_id_proposals'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_proposals')),
    sa.UniqueConstraint('promise_id', 'proposal_id', name=op.f('uq_promise_proposals_promise_id_proposal_id'))
    )
    with op.batch_alter_table('promise_proposals', schema=None) as batch_op:
        batch_op.create_index('ix_promise_proposals_proposal', ['proposal_id'], unique=False)

    op.create_table('commitment_bodies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_commitment_bodies_body_id_bodies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], name=op.f('fk_commitment_bodies_commitment_id_commitments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_bodies')),
    sa.UniqueConstraint('commitment_id', 'body_id', name=op.f('uq_commitment_bodies_commitment_id_body_id'))
    )
    with op.batch_alter_table('commitment_bodies', schema=None) as batch_op:
        batch_op.create_index('ix_commitment_bodies_body', ['body_id'], unique=False)

    op.create_table('commitment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_commitment_events_actor_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_commitment_events_body_id_bodies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'], name=op.f('fk_commitment_events_commitment_id_commitments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_events')),
    sa.UniqueConstraint('commitment_id', 'seq', name=op.f('uq_commitment_events_commitment_id_seq'))
    )
    create_append_only_guard('commitment_events')


def downgrade() -> None:
    drop_append_only_guard('commitment_events')
    op.drop_table('commitment_events')
    with op.batch_alter_table('commitment_bodies', schema=None) as batch_op:
        batch_op.drop_index('ix_commitment_bodies_body')

    op.drop_table('commitment_bodies')
    with op.batch_alter_table('promise_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_proposals_proposal')

    op.drop_table('promise_proposals')
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.drop_index('ix_commitments_survey_question_id')
        batch_op.drop_index('ix_commitments_due')

    op.drop_table('commitments')
    with op.batch_alter_table('promise_surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_surveys_survey')

    op.drop_table('promise_surveys')
    with op.batch_alter_table('promise_report_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_report_comments_report')

    op.drop_table('promise_report_comments')
    with op.batch_alter_table('promise_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_reports_promise')

    op.drop_table('promise_reports')
    with op.batch_alter_table('promise_neighbourhoods', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_neighbourhoods_neighbourhood')

    op.drop_table('promise_neighbourhoods')
    with op.batch_alter_table('promise_follows', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_follows_user')

    op.drop_table('promise_follows')
    with op.batch_alter_table('promise_bodies', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_bodies_body')

    op.drop_table('promise_bodies')
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.drop_index('ix_promises_municipality')

    op.drop_table('promises')
