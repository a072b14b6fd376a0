"""Proposal list indexes that also order by id, and a partial index for map points.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 03:24:39.267030+00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_by_comments'))
        batch_op.create_index('ix_proposals_by_comments', ['neighbourhood_id', 'comment_count', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_proposals_by_published'))
        batch_op.create_index('ix_proposals_by_published', ['neighbourhood_id', 'published_at', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_proposals_by_support'))
        batch_op.create_index('ix_proposals_by_support', ['neighbourhood_id', 'support_count', 'id'], unique=False)
        batch_op.create_index('ix_proposals_points', ['neighbourhood_id', 'published_at'], unique=False, sqlite_where=sa.text('latitude IS NOT NULL'), postgresql_where=sa.text('latitude IS NOT NULL'))



def downgrade() -> None:
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_points', sqlite_where=sa.text('latitude IS NOT NULL'), postgresql_where=sa.text('latitude IS NOT NULL'))
        batch_op.drop_index('ix_proposals_by_support')
        batch_op.create_index(batch_op.f('ix_proposals_by_support'), ['neighbourhood_id', 'support_count'], unique=False)
        batch_op.drop_index('ix_proposals_by_published')
        batch_op.create_index(batch_op.f('ix_proposals_by_published'), ['neighbourhood_id', 'published_at'], unique=False)
        batch_op.drop_index('ix_proposals_by_comments')
        batch_op.create_index(batch_op.f('ix_proposals_by_comments'), ['neighbourhood_id', 'comment_count'], unique=False)

