"""Meetings with bodies: meetings over several neighbourhoods with invited bodies and their
representatives, residents' questions and supports, answers; a case may come from a meeting's
question instead of a proposal (`cases.meeting_question_id`, exactly one origin).

Revision ID: 0011_meetings
Revises: 0008_perf
Create Date: 2026-12-03 06:12:20.266475+00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_meetings'
down_revision = '0008_perf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('organiser_kind', sa.String(length=10), nullable=False),
    sa.Column('organising_body_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('place', sa.String(length=300), nullable=True),
    sa.Column('headcount', sa.Integer(), nullable=True),
    sa.Column('minutes', sa.Text(), nullable=True),
    sa.Column('minutes_html', sa.Text(), nullable=True),
    sa.Column('question_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(organiser_kind = 'body') = (organising_body_id IS NOT NULL)", name=op.f('ck_meetings_organiser')),
    sa.CheckConstraint("locale IN ('en', 'tr', 'fa', 'sv')", name=op.f('ck_meetings_locale')),
    sa.CheckConstraint("organiser_kind IN ('muhtars', 'body')", name=op.f('ck_meetings_organiser_kind')),
    sa.CheckConstraint("status IN ('draft', 'open', 'held', 'closed', 'cancelled')", name=op.f('ck_meetings_status')),
    sa.CheckConstraint('ends_at IS NULL OR ends_at > starts_at', name=op.f('ck_meetings_ends_after_start')),
    sa.CheckConstraint('headcount IS NULL OR headcount >= 0', name=op.f('ck_meetings_headcount')),
    sa.CheckConstraint('question_count >= 0', name=op.f('ck_meetings_question_count')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_meetings_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_meetings_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organising_body_id'], ['bodies.id'], name=op.f('fk_meetings_organising_body_id_bodies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_municipality', ['municipality_id', 'starts_at'], unique=False)

    op.create_table('meeting_bodies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('representative', sa.String(length=200), nullable=False),
    sa.Column('present', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_meeting_bodies_body_id_bodies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_bodies_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_bodies')),
    sa.UniqueConstraint('meeting_id', 'body_id', name=op.f('uq_meeting_bodies_meeting_id_body_id'))
    )
    with op.batch_alter_table('meeting_bodies', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_bodies_body', ['body_id'], unique=False)

    op.create_table('meeting_neighbourhoods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_neighbourhoods_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_meeting_neighbourhoods_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_neighbourhoods')),
    sa.UniqueConstraint('meeting_id', 'neighbourhood_id', name=op.f('uq_meeting_neighbourhoods_meeting_id_neighbourhood_id'))
    )
    with op.batch_alter_table('meeting_neighbourhoods', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_neighbourhoods_neighbourhood', ['neighbourhood_id', 'meeting_id'], unique=False)

    op.create_table('meeting_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('support_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('agenda_position', sa.Integer(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('follow_up', sa.String(length=10), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("follow_up IS NULL OR follow_up IN ('none', 'case')", name=op.f('ck_meeting_questions_follow_up')),
    sa.CheckConstraint('(answer IS NULL) = (answered_at IS NULL)', name=op.f('ck_meeting_questions_answered')),
    sa.CheckConstraint('agenda_position IS NULL OR agenda_position >= 1', name=op.f('ck_meeting_questions_agenda_position')),
    sa.CheckConstraint('follow_up IS NULL OR answer IS NOT NULL', name=op.f('ck_meeting_questions_follow_up_after_answer')),
    sa.CheckConstraint('support_count >= 0', name=op.f('ck_meeting_questions_support_count')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_meeting_questions_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_meeting_questions_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_meeting_questions_body_id_bodies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id', 'body_id'], ['meeting_bodies.meeting_id', 'meeting_bodies.body_id'], name='fk_meeting_questions_invited_body', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_questions_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_meeting_questions_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_questions'))
    )
    with op.batch_alter_table('meeting_questions', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_questions_agenda', ['meeting_id', 'agenda_position'], unique=False)
        batch_op.create_index('ix_meeting_questions_author', ['author_id'], unique=False)
        batch_op.create_index('ix_meeting_questions_ranked', ['meeting_id', 'support_count', 'id'], unique=False)

    op.create_table('meeting_question_supports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['meeting_questions.id'], name=op.f('fk_meeting_question_supports_question_id_meeting_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_meeting_question_supports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_question_supports')),
    sa.UniqueConstraint('question_id', 'user_id', name=op.f('uq_meeting_question_supports_question_id_user_id'))
    )
    with op.batch_alter_table('meeting_question_supports', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_question_supports_user', ['user_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_question_id', sa.Integer(), nullable=True))
        batch_op.alter_column('proposal_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index('ix_cases_meeting_question_id', ['meeting_question_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_cases_meeting_question_id_body_id'), ['meeting_question_id', 'body_id'])
        batch_op.create_foreign_key(batch_op.f('fk_cases_meeting_question_id_meeting_questions'), 'meeting_questions', ['meeting_question_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_check_constraint(batch_op.f('ck_cases_one_origin'),
                                         '(proposal_id IS NULL) <> (meeting_question_id IS NULL)')



def downgrade() -> None:
    # A case made from a meeting's question has no proposal: the older schema cannot hold it, and
    # its timeline is append-only, so such cases stop the downgrade rather than being lost.
    from_meetings = op.get_bind().execute(
        sa.text('SELECT count(*) FROM cases WHERE meeting_question_id IS NOT NULL')).scalar()
    if from_meetings:
        raise RuntimeError(f'{from_meetings} case(s) come from meeting questions; '
                           'the schema before 0011_meetings cannot hold them.')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cases_one_origin'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_cases_meeting_question_id_meeting_questions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_cases_meeting_question_id_body_id'), type_='unique')
        batch_op.drop_index('ix_cases_meeting_question_id')
        batch_op.alter_column('proposal_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('meeting_question_id')

    with op.batch_alter_table('meeting_question_supports', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_question_supports_user')

    op.drop_table('meeting_question_supports')
    with op.batch_alter_table('meeting_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_questions_ranked')
        batch_op.drop_index('ix_meeting_questions_author')
        batch_op.drop_index('ix_meeting_questions_agenda')

    op.drop_table('meeting_questions')
    with op.batch_alter_table('meeting_neighbourhoods', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_neighbourhoods_neighbourhood')

    op.drop_table('meeting_neighbourhoods')
    with op.batch_alter_table('meeting_bodies', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_bodies_body')

    op.drop_table('meeting_bodies')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_municipality')

    op.drop_table('meetings')
