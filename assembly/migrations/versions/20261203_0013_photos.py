"""Photos attached to proposals (and other owners by kind), and residents' answers to "is it
really fixed?" for done cases.

Revision ID: 0013_photos
Revises: 0010_promises
Create Date: 2026-12-03 06:30:00+00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_photos'
down_revision = '0010_promises'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_kind', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('thumb_byte_size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(hidden_at IS NULL) = (hidden_reason IS NULL)', name=op.f('ck_photos_hidden_reason')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_photos_position')),
    sa.CheckConstraint('width > 0 AND height > 0 AND byte_size > 0 AND thumb_byte_size > 0',
                       name=op.f('ck_photos_sizes')),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_photos_hidden_by_id_users'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'],
                            name=op.f('fk_photos_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_photos_uploader_id_users'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('owner_kind', 'owner_id', 'position', name=op.f('uq_photos_owner_kind_owner_id_position')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_photos_storage_key'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index('ix_photos_hidden_by_id', ['hidden_by_id'], unique=False)
        batch_op.create_index('ix_photos_neighbourhood', ['neighbourhood_id', 'created_at'], unique=False)
        batch_op.create_index('ix_photos_uploader_id', ['uploader_id'], unique=False)

    op.create_table('case_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('done_seq', sa.Integer(), nullable=False),
    sa.Column('answer', sa.String(length=3), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("answer = 'yes' OR note IS NOT NULL", name=op.f('ck_case_confirmations_no_has_note')),
    sa.CheckConstraint("answer IN ('yes', 'no')", name=op.f('ck_case_confirmations_answer')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_confirmations_case_id_cases'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_confirmations_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_confirmations')),
    sa.UniqueConstraint('case_id', 'user_id', 'done_seq', name=op.f('uq_case_confirmations_case_id_user_id_done_seq'))
    )
    with op.batch_alter_table('case_confirmations', schema=None) as batch_op:
        batch_op.create_index('ix_case_confirmations_answers', ['case_id', 'answer', 'created_at'], unique=False)
        batch_op.create_index('ix_case_confirmations_user_id', ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_confirmations', schema=None) as batch_op:
        batch_op.drop_index('ix_case_confirmations_user_id')
        batch_op.drop_index('ix_case_confirmations_answers')
    op.drop_table('case_confirmations')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index('ix_photos_uploader_id')
        batch_op.drop_index('ix_photos_neighbourhood')
        batch_op.drop_index('ix_photos_hidden_by_id')
    op.drop_table('photos')
