"""Consultations: a body's draft (budget line, zoning change) put to neighbourhoods, answered by
their assemblies. An agenda item is a proposal or a consultation; a case comes from a proposal
from a meeting's question or from a consultation answer (exactly one origin, checked by the
database: the two-origin check of 0011_meetings becomes a three-origin one).

Revision ID: 0016_consultations
Revises: 0013_photos
Create Date: 2026-12-03 06:13:10.743552+00:00

The downgrade refuses to run while consultations exist: agenda items and cases of a
consultation have no place in the older schema (they would lose their subject or origin).
"""
from alembic import op
import sqlalchemy as sa

# The same expressions as the models' (assembly.cases.models.ONE_ORIGIN), written out here because
# a revision must not change when the models do. A sum of CASEs reads alike in SQLite and PostgreSQL.
THREE_ORIGINS = ("(CASE WHEN proposal_id IS NOT NULL THEN 1 ELSE 0 END)"
                 " + (CASE WHEN meeting_question_id IS NOT NULL THEN 1 ELSE 0 END)"
                 " + (CASE WHEN consultation_answer_id IS NOT NULL THEN 1 ELSE 0 END) = 1")
TWO_ORIGINS = "(proposal_id IS NULL) <> (meeting_question_id IS NULL)"  # as 0011_meetings made it


revision = '0016_consultations'
down_revision = '0013_photos'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consultations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_html', sa.Text(), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('budget', 'zoning')", name=op.f('ck_consultations_kind')),
    sa.ForeignKeyConstraint(['body_id'], ['bodies.id'], name=op.f('fk_consultations_body_id_bodies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_consultations_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultations'))
    )
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index('ix_consultations_body', ['body_id', 'created_at'], unique=False)

    op.create_table('consultation_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('stored_name', sa.String(length=80), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.CheckConstraint('(url IS NULL) <> (stored_name IS NULL)', name=op.f('ck_consultation_documents_link_or_file')),
    sa.CheckConstraint('size IS NULL OR size > 0', name=op.f('ck_consultation_documents_size')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_documents_consultation_id_consultations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_documents')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_consultation_documents_stored_name'))
    )
    with op.batch_alter_table('consultation_documents', schema=None) as batch_op:
        batch_op.create_index('ix_consultation_documents_consultation_id', ['consultation_id', 'position'], unique=False)

    op.create_table('consulted_neighbourhoods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consulted_neighbourhoods_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_consulted_neighbourhoods_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consulted_neighbourhoods')),
    sa.UniqueConstraint('consultation_id', 'neighbourhood_id', name=op.f('uq_consulted_neighbourhoods_consultation_id_neighbourhood_id'))
    )
    with op.batch_alter_table('consulted_neighbourhoods', schema=None) as batch_op:
        batch_op.create_index('ix_consulted_neighbourhoods_neighbourhood', ['neighbourhood_id', 'consultation_id'], unique=False)

    op.create_table('consultation_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=False),
    sa.Column('vote_result', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('comment_html', sa.Text(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_items.id'], name=op.f('fk_consultation_answers_agenda_item_id_agenda_items'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_consultation_answers_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_answers_consultation_id_consultations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_consultation_answers_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_answers')),
    sa.UniqueConstraint('consultation_id', 'neighbourhood_id', name=op.f('uq_consultation_answers_consultation_id_neighbourhood_id'))
    )
    with op.batch_alter_table('consultation_answers', schema=None) as batch_op:
        batch_op.create_index('ix_consultation_answers_neighbourhood_id', ['neighbourhood_id'], unique=False)
        batch_op.create_index('ix_consultation_answers_agenda_item_id', ['agenda_item_id'], unique=False)

    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consultation_id', sa.Integer(), nullable=True))
        batch_op.alter_column('proposal_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index('ix_agenda_items_consultation_id', ['consultation_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_agenda_items_assembly_id_consultation_id'), ['assembly_id', 'consultation_id'])
        batch_op.create_foreign_key(batch_op.f('fk_agenda_items_consultation_id_consultations'), 'consultations', ['consultation_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_check_constraint(batch_op.f('ck_agenda_items_one_subject'),
                                         '(proposal_id IS NULL) <> (consultation_id IS NULL)')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cases_one_origin'), type_='check')
        batch_op.add_column(sa.Column('consultation_answer_id', sa.Integer(), nullable=True))
        batch_op.alter_column('category_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index('ix_cases_consultation_answer_id', ['consultation_answer_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_cases_consultation_answer_id_body_id'), ['consultation_answer_id', 'body_id'])
        batch_op.create_foreign_key(batch_op.f('fk_cases_consultation_answer_id_consultation_answers'), 'consultation_answers', ['consultation_answer_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_check_constraint(batch_op.f('ck_cases_one_origin'), THREE_ORIGINS)
        batch_op.create_check_constraint(batch_op.f('ck_cases_category'),
                                         'consultation_answer_id IS NOT NULL OR category_id IS NOT NULL')



def downgrade() -> None:
    consultations = op.get_bind().execute(sa.text("SELECT count(*) FROM consultations")).scalar()
    if consultations:
        raise RuntimeError(f"{consultations} consultation(s) exist; their agenda items and cases have no place "
                           "in the older schema, so this downgrade would lose them")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cases_category'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_cases_one_origin'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_cases_consultation_answer_id_consultation_answers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_cases_consultation_answer_id_body_id'), type_='unique')
        batch_op.drop_index('ix_cases_consultation_answer_id')
        batch_op.alter_column('category_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('consultation_answer_id')
        batch_op.create_check_constraint(batch_op.f('ck_cases_one_origin'), TWO_ORIGINS)

    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_agenda_items_one_subject'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_agenda_items_consultation_id_consultations'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_agenda_items_assembly_id_consultation_id'), type_='unique')
        batch_op.drop_index('ix_agenda_items_consultation_id')
        batch_op.alter_column('proposal_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('consultation_id')

    with op.batch_alter_table('consultation_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_consultation_answers_agenda_item_id')
        batch_op.drop_index('ix_consultation_answers_neighbourhood_id')

    op.drop_table('consultation_answers')
    with op.batch_alter_table('consulted_neighbourhoods', schema=None) as batch_op:
        batch_op.drop_index('ix_consulted_neighbourhoods_neighbourhood')

    op.drop_table('consulted_neighbourhoods')
    with op.batch_alter_table('consultation_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_consultation_documents_consultation_id')

    op.drop_table('consultation_documents')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_index('ix_consultations_body')

    op.drop_table('consultations')
