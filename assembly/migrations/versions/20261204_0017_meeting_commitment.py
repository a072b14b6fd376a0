"""A meeting's question may be followed by a commitment in a promise of the body asked: the
follow-up kind `commitment` (the check of `meeting_questions.follow_up` widened) and the link on
the commitment, `commitments.meeting_question_id`, unique, so that one question gives at most one
commitment whatever the timing of the requests (the second INSERT is refused by the database).

The link sits on the commitment, as a case's does (`cases.meeting_question_id`): it is where the
commitment comes from, written once with the commitment and hashed into its first timeline step.

Revision ID: 0017_meeting_commitment
Revises: 0016_consultations
Create Date: 2026-12-04 09:00:00.000000+00:00

The downgrade refuses to run while a commitment comes from a meeting's question: the older schema
has no place for its origin nor for the follow-up kind, and its timeline is append-only.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017_meeting_commitment'
down_revision = '0016_consultations'
branch_labels = None
depends_on = None

# Written out here rather than taken from the models: a revision must not change when they do.
WITH_COMMITMENT = "follow_up IS NULL OR follow_up IN ('none', 'case', 'commitment')"
WITHOUT_COMMITMENT = "follow_up IS NULL OR follow_up IN ('none', 'case')"  # as 0011_meetings made it


def upgrade() -> None:
    with op.batch_alter_table('meeting_questions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_meeting_questions_follow_up'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_meeting_questions_follow_up'), WITH_COMMITMENT)

    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_question_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_commitments_meeting_question_id'), ['meeting_question_id'])
        batch_op.create_foreign_key(batch_op.f('fk_commitments_meeting_question_id_meeting_questions'),
                                    'meeting_questions', ['meeting_question_id'], ['id'], ondelete='RESTRICT')


def downgrade() -> None:
    bind = op.get_bind()
    made = bind.execute(sa.text('SELECT count(*) FROM commitments WHERE meeting_question_id IS NOT NULL')).scalar()
    followed = bind.execute(sa.text("SELECT count(*) FROM meeting_questions WHERE follow_up = 'commitment'")).scalar()
    if made or followed:
        raise RuntimeError(f'{made} commitment(s) come from meeting questions ({followed} question(s) followed by '
                           'a commitment); the schema before 0017_meeting_commitment cannot hold them.')
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_commitments_meeting_question_id_meeting_questions'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_commitments_meeting_question_id'), type_='unique')
        batch_op.drop_column('meeting_question_id')

    with op.batch_alter_table('meeting_questions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_meeting_questions_follow_up'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_meeting_questions_follow_up'), WITHOUT_COMMITMENT)
