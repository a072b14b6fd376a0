"""E-mails: whom an outbox e-mail is for (its unsubscribe link and headers) and in which language
(the HTML part's lang and direction).

Revision ID: 0015_mail
Revises: 0014_desk
Create Date: 2026-12-03 06:30:00.000000+00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_mail'
down_revision = '0014_desk'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('locale', sa.String(length=5), nullable=True))
        batch_op.create_foreign_key(op.f('fk_outbox_emails_user_id_users'), 'users', ['user_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_outbox_emails_user_id', ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_emails_user_id')
        batch_op.drop_constraint(op.f('fk_outbox_emails_user_id_users'), type_='foreignkey')
        batch_op.drop_column('locale')
        batch_op.drop_column('user_id')
