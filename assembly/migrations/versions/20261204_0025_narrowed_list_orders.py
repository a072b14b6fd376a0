"""A neighbourhood's proposals of one category or one status in each order the list offers.

Revision ID: 0025_narrowed_list_orders
Revises: 0024_cases_body_order
Create Date: 2026-12-04 16:30:00+00:00

A list narrowed to at most COUNT_CAP (10,000) matches is read through its filter's index and
sorted in full (`proposals.services._SORTED_IN_FULL`). Beyond that it is read along an index of
the order, and with only the neighbourhood's indexes of the order (`ix_proposals_by_support`,
`_by_comments`) the database walks the whole list until it has a page of matches: 20,000 proposals
of one category, all of them the least supported, took 0.4-0.6 s at 10^6 proposals. These indexes
(for what the public lists show: not hidden) give each order of one category's or one status's
proposals (newest first of one status is `ix_proposals_list`), so such a page reads its own rows.
"""
import sqlalchemy as sa
from alembic import op


revision = '0025_narrowed_list_orders'
down_revision = "0024_cases_body_order"
branch_labels = None
depends_on = None

SHOWN = "hidden_at IS NULL"
INDEXES = {
    "ix_proposals_category_newest": ["neighbourhood_id", "category_id", "published_at", "id"],
    "ix_proposals_category_support": ["neighbourhood_id", "category_id", "support_count", "id"],
    "ix_proposals_category_comments": ["neighbourhood_id", "category_id", "comment_count", "id"],
    "ix_proposals_status_support": ["neighbourhood_id", "status", "support_count", "id"],
    "ix_proposals_status_comments": ["neighbourhood_id", "status", "comment_count", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "proposals", columns, unique=False,
                        sqlite_where=sa.text(SHOWN), postgresql_where=sa.text(SHOWN))


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="proposals")
