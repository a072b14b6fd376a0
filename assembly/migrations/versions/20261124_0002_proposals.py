"""Proposals: supports, comments, follows, reports, moderation log; map bounds; e-mail modes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 02:50:23.116392+00:00
"""
from alembic import op
import sqlalchemy as sa

from history_guard import create_append_only_guard, drop_append_only_guard


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('address_text', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('status_before_hidden', sa.String(length=12), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=True),
    sa.Column('support_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('comment_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('report_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('search_key', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'open', 'on_agenda', 'accepted', 'rejected', 'forwarded', 'withdrawn', 'hidden')", name=op.f('ck_proposals_status')),
    sa.CheckConstraint("status_before_hidden IN ('draft', 'open', 'on_agenda', 'accepted', 'rejected', 'forwarded', 'withdrawn', 'hidden') OR status_before_hidden IS NULL", name=op.f('ck_proposals_status_before_hidden')),
    sa.CheckConstraint('(latitude IS NULL) = (longitude IS NULL)', name=op.f('ck_proposals_point_complete')),
    sa.CheckConstraint('latitude IS NULL OR (latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180)', name=op.f('ck_proposals_point_range')),
    sa.CheckConstraint('support_count >= 0 AND comment_count >= 0 AND report_count >= 0', name=op.f('ck_proposals_counters')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_proposals_author_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_proposals_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_proposals_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index('ix_proposals_author', ['author_id'], unique=False)
        batch_op.create_index('ix_proposals_by_comments', ['neighbourhood_id', 'comment_count'], unique=False)
        batch_op.create_index('ix_proposals_by_published', ['neighbourhood_id', 'published_at'], unique=False)
        batch_op.create_index('ix_proposals_by_support', ['neighbourhood_id', 'support_count'], unique=False)
        batch_op.create_index('ix_proposals_category', ['category_id', 'published_at'], unique=False)
        batch_op.create_index('ix_proposals_list', ['neighbourhood_id', 'status', 'published_at'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=True),
    sa.Column('report_count', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('report_count >= 0', name=op.f('ck_comments_report_count')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['parent_id'], ['comments.id'], name=op.f('fk_comments_parent_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_comments_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_parent_id', ['parent_id'], unique=False)
        batch_op.create_index('ix_comments_proposal', ['proposal_id', 'id'], unique=False)

    op.create_table('follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_follows_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follows_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follows')),
    sa.UniqueConstraint('proposal_id', 'user_id', name=op.f('uq_follows_proposal_id_user_id'))
    )
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.create_index('ix_follows_user_id', ['user_id'], unique=False)

    op.create_table('proposal_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_proposal_events_actor_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_events_proposal_id_proposals'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_events'))
    )
    with op.batch_alter_table('proposal_events', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_events_proposal', ['proposal_id', 'id'], unique=False)

    op.create_table('proposal_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_versions_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_versions')),
    sa.UniqueConstraint('proposal_id', 'number', name=op.f('uq_proposal_versions_proposal_id_number'))
    )
    op.create_table('supports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_supports_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_supports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supports')),
    sa.UniqueConstraint('proposal_id', 'user_id', name=op.f('uq_supports_proposal_id_user_id'))
    )
    with op.batch_alter_table('supports', schema=None) as batch_op:
        batch_op.create_index('ix_supports_user_id', ['user_id'], unique=False)

    op.create_table('moderation_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=True),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('hide', 'restore', 'auto_hide', 'dismiss')", name=op.f('ck_moderation_actions_action')),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_moderation_actions_comment_id_comments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['moderator_id'], ['users.id'], name=op.f('fk_moderation_actions_moderator_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_moderation_actions_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_moderation_actions_proposal_id_proposals'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_actions'))
    )
    with op.batch_alter_table('moderation_actions', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_actions_log', ['neighbourhood_id', 'id'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(proposal_id IS NULL) <> (comment_id IS NULL)', name=op.f('ck_reports_one_target')),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_reports_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_reports_neighbourhood_id_neighbourhoods'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_reports_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_reports_reporter_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_queue', ['neighbourhood_id', 'resolved_at'], unique=False)
        batch_op.create_index('uq_reports_comment_reporter', ['comment_id', 'reporter_id'], unique=True, sqlite_where=sa.text('comment_id IS NOT NULL'), postgresql_where=sa.text('comment_id IS NOT NULL'))
        batch_op.create_index('uq_reports_proposal_reporter', ['proposal_id', 'reporter_id'], unique=True, sqlite_where=sa.text('comment_id IS NULL'), postgresql_where=sa.text('comment_id IS NULL'))

    with op.batch_alter_table('neighbourhoods', schema=None) as batch_op:
        batch_op.add_column(sa.Column('support_threshold_percent', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('min_latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('min_longitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('max_latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('max_longitude', sa.Float(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_neighbourhoods_support_threshold_percent'),
            'support_threshold_percent IS NULL OR support_threshold_percent BETWEEN 1 AND 100')
        batch_op.create_check_constraint(
            op.f('ck_neighbourhoods_bounding_box'),
            '(min_latitude IS NULL AND min_longitude IS NULL AND max_latitude IS NULL AND max_longitude IS NULL)'
            ' OR (min_latitude < max_latitude AND min_longitude < max_longitude)')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_mode', sa.String(length=10), server_default='immediate', nullable=False))
        batch_op.add_column(sa.Column('digest_sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(op.f('ck_users_email_mode'), "email_mode IN ('immediate', 'daily', 'none')")

    create_append_only_guard('proposal_events')
    create_append_only_guard('moderation_actions')



def downgrade() -> None:
    drop_append_only_guard('moderation_actions')
    drop_append_only_guard('proposal_events')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_email_mode'), type_='check')
        batch_op.drop_column('digest_sent_at')
        batch_op.drop_column('email_mode')

    with op.batch_alter_table('neighbourhoods', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_neighbourhoods_bounding_box'), type_='check')
        batch_op.drop_constraint(op.f('ck_neighbourhoods_support_threshold_percent'), type_='check')
        batch_op.drop_column('max_longitude')
        batch_op.drop_column('max_latitude')
        batch_op.drop_column('min_longitude')
        batch_op.drop_column('min_latitude')
        batch_op.drop_column('support_threshold_percent')

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('uq_reports_proposal_reporter', sqlite_where=sa.text('comment_id IS NULL'), postgresql_where=sa.text('comment_id IS NULL'))
        batch_op.drop_index('uq_reports_comment_reporter', sqlite_where=sa.text('comment_id IS NOT NULL'), postgresql_where=sa.text('comment_id IS NOT NULL'))
        batch_op.drop_index('ix_reports_queue')

    op.drop_table('reports')
    with op.batch_alter_table('moderation_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_actions_log')

    op.drop_table('moderation_actions')
    with op.batch_alter_table('supports', schema=None) as batch_op:
        batch_op.drop_index('ix_supports_user_id')

    op.drop_table('supports')
    op.drop_table('proposal_versions')
    with op.batch_alter_table('proposal_events', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_events_proposal')

    op.drop_table('proposal_events')
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.drop_index('ix_follows_user_id')

    op.drop_table('follows')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_proposal')
        batch_op.drop_index('ix_comments_parent_id')

    op.drop_table('comments')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_list')
        batch_op.drop_index('ix_proposals_category')
        batch_op.drop_index('ix_proposals_by_support')
        batch_op.drop_index('ix_proposals_by_published')
        batch_op.drop_index('ix_proposals_by_comments')
        batch_op.drop_index('ix_proposals_author')

    op.drop_table('proposals')
