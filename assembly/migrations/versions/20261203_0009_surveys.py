"""Surveys: questions asked in one or several neighbourhoods; who answered kept apart from what
was answered (sealed until closing, then shuffled into anonymous rows); free texts moderated.

Revision ID: 0009_surveys
Revises: 0012_assisted
Create Date: 2026-12-03 06:20:00+00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_surveys'
down_revision = '0012_assisted'
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'surveys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('body_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('audience', sa.String(length=12), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('opens_at', _TZ, nullable=False),
        sa.Column('closes_at', _TZ, nullable=False),
        sa.Column('closed_at', _TZ, nullable=True),
        sa.Column('published_at', _TZ, nullable=True),
        sa.Column('respondents', sa.Integer(), server_default='0', nullable=False),
        sa.Column('paper_count', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', _TZ, nullable=False),
        sa.CheckConstraint("status IN ('draft', 'scheduled', 'open', 'closed')", name=op.f('ck_surveys_status')),
        sa.CheckConstraint("audience IN ('residents', 'area')", name=op.f('ck_surveys_audience')),
        sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_surveys_window')),
        sa.CheckConstraint('respondents >= 0 AND paper_count >= 0', name=op.f('ck_surveys_counters')),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'],
                                name=op.f('fk_surveys_municipality_id_municipalities'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_surveys_body_id_bodies'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_surveys_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    )
    op.create_index('ix_surveys_window', 'surveys', ['status', 'closes_at'])
    op.create_index('ix_surveys_municipality_id', 'surveys', ['municipality_id'])
    op.create_table(
        'survey_neighbourhoods',
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_neighbourhoods_survey_id_surveys'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'],
                                name=op.f('fk_survey_neighbourhoods_neighbourhood_id_neighbourhoods'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('survey_id', 'neighbourhood_id', name=op.f('pk_survey_neighbourhoods')),
    )
    op.create_index('ix_survey_neighbourhoods_neighbourhood_id', 'survey_neighbourhoods', ['neighbourhood_id'])
    op.create_table(
        'survey_questions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('prompt', sa.String(length=500), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('max_choices', sa.Integer(), nullable=True),
        sa.Column('series', sa.String(length=60), nullable=True),
        sa.CheckConstraint("kind IN ('single', 'multiple', 'scale', 'ranking', 'text')",
                           name=op.f('ck_survey_questions_kind')),
        sa.CheckConstraint('max_choices IS NULL OR max_choices >= 1', name=op.f('ck_survey_questions_max_choices')),
        sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_questions_survey_id_surveys'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_questions')),
        sa.UniqueConstraint('survey_id', 'position', name=op.f('uq_survey_questions_survey_id_position')),
    )
    op.create_index('ix_survey_questions_series', 'survey_questions', ['series'])
    op.create_table(
        'survey_participations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('email_hash', sa.String(length=64), nullable=True),
        sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=12), nullable=False),
        sa.Column('answered_at', _TZ, nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=True),
        sa.CheckConstraint('(user_id IS NULL) <> (email_hash IS NULL)',
                           name=op.f('ck_survey_participations_one_identity')),
        sa.CheckConstraint("source IN ('verified', 'unverified')", name=op.f('ck_survey_participations_source')),
        sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'],
                                name=op.f('fk_survey_participations_survey_id_surveys'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_survey_participations_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'],
                                name=op.f('fk_survey_participations_neighbourhood_id_neighbourhoods'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_participations')),
        sa.UniqueConstraint('survey_id', 'user_id', name=op.f('uq_survey_participations_survey_id_user_id')),
        sa.UniqueConstraint('survey_id', 'email_hash', name=op.f('uq_survey_participations_survey_id_email_hash')),
    )
    op.create_index('ix_survey_participations_user_id', 'survey_participations', ['user_id'])
    op.create_table(
        'survey_answers',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=12), nullable=True),
        sa.Column('neighbourhood_id', sa.Integer(), nullable=True),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.CheckConstraint("source IN ('verified', 'unverified', 'paper') OR source IS NULL",
                           name=op.f('ck_survey_answers_source')),
        sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_answers_survey_id_surveys'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'],
                                name=op.f('fk_survey_answers_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_survey_answers_survey_id', 'survey_answers', ['survey_id'])
    op.create_table(
        'survey_texts',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('moderated_by_id', sa.Integer(), nullable=True),
        sa.Column('moderated_at', _TZ, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'published', 'rejected')", name=op.f('ck_survey_texts_status')),
        sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_texts_survey_id_surveys'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['question_id'], ['survey_questions.id'],
                                name=op.f('fk_survey_texts_question_id_survey_questions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['moderated_by_id'], ['users.id'], name=op.f('fk_survey_texts_moderated_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_texts')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_survey_texts_question', 'survey_texts', ['question_id', 'status'])
    op.create_index('ix_survey_texts_survey_id', 'survey_texts', ['survey_id'])


def downgrade() -> None:
    op.drop_table('survey_texts')
    op.drop_table('survey_answers')
    op.drop_table('survey_participations')
    op.drop_table('survey_questions')
    op.drop_table('survey_neighbourhoods')
    op.drop_table('surveys')
