"""Cases: forwarded items with gapless reference numbers, hash-chained events, API tokens, idempotency.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 02:59:53.998676+00:00
"""
from alembic import op
import sqlalchemy as sa

from history_guard import create_append_only_guard, drop_append_only_guard


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_api_tokens_body_id_bodies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_api_tokens_body_id', ['body_id'], unique=False)

    op.create_table('case_sequences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_case_sequences_neighbourhood_id_neighbourhoods'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_sequences')),
    sa.UniqueConstraint('neighbourhood_id', 'year', name=op.f('uq_case_sequences_neighbourhood_id_year'))
    )
    op.create_table('idempotent_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_idempotent_requests_body_id_bodies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotent_requests')),
    sa.UniqueConstraint('body_id', 'key', name=op.f('uq_idempotent_requests_body_id_key'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('referred_from_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('progress', sa.Integer(), server_default='0', nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_html', sa.Text(), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('address_text', sa.String(length=200), nullable=True),
    sa.Column('vote_result', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('forward_reason', sa.String(length=1000), nullable=True),
    sa.Column('forwarded_by_id', sa.Integer(), nullable=True),
    sa.Column('forwarded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('council_meeting_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agenda_number', sa.String(length=40), nullable=True),
    sa.Column('council_record_url', sa.String(length=500), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_count', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("decision IS NULL OR decision IN ('approved', 'rejected', 'deferred', 'referred')", name=op.f('ck_cases_decision')),
    sa.CheckConstraint("status IN ('forwarded', 'received', 'scheduled', 'decided', 'in_progress', 'done')", name=op.f('ck_cases_status')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_cases_progress')),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_cases_body_id_bodies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_cases_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['forwarded_by_id'], ['users.id'], name=op.f('fk_cases_forwarded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_cases_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_cases_proposal_id_proposals'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['referred_from_id'], ['cases.id'], name=op.f('fk_cases_referred_from_id_cases'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('proposal_id', 'body_id', name=op.f('uq_cases_proposal_id_body_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_body_updated', ['body_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_cases_inbox', ['body_id', 'status', 'updated_at'], unique=False)
        batch_op.create_index('ix_cases_neighbourhood', ['neighbourhood_id', 'forwarded_at'], unique=False)
        batch_op.create_index('ix_cases_proposal_id', ['proposal_id'], unique=False)
        batch_op.create_index('ix_cases_updated', ['updated_at', 'id'], unique=False)

    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_events_actor_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events')),
    sa.UniqueConstraint('case_id', 'seq', name=op.f('uq_case_events_case_id_seq'))
    )
    create_append_only_guard('case_events')


def downgrade() -> None:
    drop_append_only_guard('case_events')
    op.drop_table('case_events')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_updated')
        batch_op.drop_index('ix_cases_proposal_id')
        batch_op.drop_index('ix_cases_neighbourhood')
        batch_op.drop_index('ix_cases_inbox')
        batch_op.drop_index('ix_cases_due')
        batch_op.drop_index('ix_cases_body_updated')

    op.drop_table('cases')
    op.drop_table('idempotent_requests')
    op.drop_table('case_sequences')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_api_tokens_body_id')

    op.drop_table('api_tokens')
