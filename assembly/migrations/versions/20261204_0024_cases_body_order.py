"""A body's cases in the order of their ids, so the CSV export streams them as it reads them.

Revision ID: 0024_cases_body_order
Revises: 0023_search_key_statistics
Create Date: 2026-12-03 14:35:00+00:00

The export (`cases.exchange.export_rows`) reads a body's cases ordered by id. With no index in
that order, SQLite found them through `ix_cases_body_updated` and sorted all of them in a
temporary B-tree before the first line went out: at 10^6 cases the sorter's memory (up to the
page cache's 16 MB) and the whole sort came before the first byte. `ix_cases_body_id` (body, id)
gives the order itself, on both databases.
"""
from alembic import op


revision = '0024_cases_body_order'
down_revision = "0023_search_key_statistics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_body_id', ['body_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_body_id')
