"""Accounts without e-mail (a confirmed phone number instead), the SMS outbox and its one-time
codes, and assisted participation (a muhtar acting for a resident, with recorded consent).

Revision ID: 0012_assisted
Revises: 0015_mail
Create Date: 2026-12-03 06:30:00+00:00

`users.email` becomes optional; a check constraint keeps every account reachable: by e-mail, by
phone, or through the muhtar's office (`assisted`, an account a muhtar registered). On SQLite the
users table is rebuilt in batch mode (env.py turns foreign keys off meanwhile, so the tables that
refer to users keep their rows). A downgrade refuses to run while an account has no e-mail.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_assisted'
down_revision = '0015_mail'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('phone_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('assisted', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)
        batch_op.create_unique_constraint(op.f('uq_users_phone'), ['phone'])
        batch_op.create_check_constraint(op.f('ck_users_reachable'),
                                         'email IS NOT NULL OR phone IS NOT NULL OR assisted')

    op.create_table(
        'outbox_sms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('to_number', sa.String(length=16), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('purpose', sa.String(length=12), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('not_before', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('provider_id', sa.String(length=100), nullable=True),
        sa.CheckConstraint("purpose IN ('code', 'notification', 'digest')", name=op.f('ck_outbox_sms_purpose')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outbox_sms_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_sms')),
    )
    op.create_index('ix_outbox_sms_pending', 'outbox_sms', ['sent_at', 'id'], unique=False)
    op.create_index(op.f('ix_outbox_sms_user_id'), 'outbox_sms', ['user_id'], unique=False)

    op.create_table(
        'phone_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=10), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose IN ('confirm', 'reset', 'login')", name=op.f('ck_phone_codes_purpose')),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_phone_codes_attempts')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_phone_codes_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_codes')),
    )
    op.create_index('ix_phone_codes_user', 'phone_codes', ['user_id', 'purpose', 'created_at'], unique=False)

    op.create_table(
        'assisted_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
        sa.Column('muhtar_id', sa.Integer(), nullable=False),
        sa.Column('resident_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('object_type', sa.String(length=40), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('consent_method', sa.String(length=10), nullable=False),
        sa.Column('consent_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("consent_method IN ('office', 'door', 'phone')",
                           name=op.f('ck_assisted_entries_consent_method')),
        sa.ForeignKeyConstraint(['muhtar_id'], ['users.id'], name=op.f('fk_assisted_entries_muhtar_id_users'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'],
                                name=op.f('fk_assisted_entries_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_assisted_entries_resident_id_users'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assisted_entries')),
    )
    op.create_index('ix_assisted_entries_object', 'assisted_entries', ['object_type', 'object_id'], unique=False)
    op.create_index('ix_assisted_entries_neighbourhood', 'assisted_entries', ['neighbourhood_id', 'id'], unique=False)
    op.create_index(op.f('ix_assisted_entries_resident_id'), 'assisted_entries', ['resident_id'], unique=False)


def downgrade() -> None:
    without = op.get_bind().execute(sa.text('SELECT count(*) FROM users WHERE email IS NULL')).scalar()
    if without:
        raise RuntimeError(f'{without} accounts have no e-mail address; the previous schema requires one')
    op.drop_index(op.f('ix_assisted_entries_resident_id'), table_name='assisted_entries')
    op.drop_index('ix_assisted_entries_neighbourhood', table_name='assisted_entries')
    op.drop_index('ix_assisted_entries_object', table_name='assisted_entries')
    op.drop_table('assisted_entries')
    op.drop_index('ix_phone_codes_user', table_name='phone_codes')
    op.drop_table('phone_codes')
    op.drop_index(op.f('ix_outbox_sms_user_id'), table_name='outbox_sms')
    op.drop_index('ix_outbox_sms_pending', table_name='outbox_sms')
    op.drop_table('outbox_sms')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_reachable'), type_='check')
        batch_op.drop_constraint(op.f('uq_users_phone'), type_='unique')
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_column('assisted')
        batch_op.drop_column('phone_confirmed_at')
        batch_op.drop_column('phone')
