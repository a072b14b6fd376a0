"""One-time form tokens, and no author supports their own proposal.

Revision ID: 0014_desk
Revises: 0011_meetings
Create Date: 2026-12-03 06:30:00+00:00

`form_submissions` holds the claimed token of every comment, proposal, support and report form,
so a form sent twice is stored once. In the same transaction the supports that authors gave
their own proposals are deleted and every proposal's `support_count` is counted again: an
author's own support no longer counts toward the threshold, and can no longer be given.
Proposals that became ready for the agenda keep that mark (the muhtar may already have planned
them); the downgrade does not bring the deleted supports back.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_desk'
down_revision = '0011_meetings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('form_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('result_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_submissions_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submissions')),
    sa.UniqueConstraint('token', name=op.f('uq_form_submissions_token'))
    )
    op.create_index('ix_form_submissions_created_at', 'form_submissions', ['created_at'], unique=False)
    op.execute("DELETE FROM supports WHERE user_id = "
               "(SELECT p.author_id FROM proposals p WHERE p.id = supports.proposal_id)")
    op.execute("UPDATE proposals SET support_count = "
               "(SELECT COUNT(*) FROM supports s WHERE s.proposal_id = proposals.id) "
               "WHERE support_count <> (SELECT COUNT(*) FROM supports s WHERE s.proposal_id = proposals.id)")


def downgrade() -> None:
    op.drop_index('ix_form_submissions_created_at', table_name='form_submissions')
    op.drop_table('form_submissions')
