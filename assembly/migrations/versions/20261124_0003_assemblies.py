"""Assemblies: sessions, agenda items, ballots, participation, secret ballot papers, results.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 02:56:44.974693+00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assemblies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('meeting_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('meeting_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('place', sa.String(length=300), nullable=True),
    sa.Column('online_link', sa.String(length=500), nullable=True),
    sa.Column('minutes', sa.Text(), nullable=True),
    sa.Column('minutes_html', sa.Text(), nullable=True),
    sa.Column('attendance', sa.Integer(), nullable=True),
    sa.Column('bodies_present', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'announced', 'voting', 'closed', 'minuted')", name=op.f('ck_assemblies_status')),
    sa.CheckConstraint('attendance IS NULL OR attendance >= 0', name=op.f('ck_assemblies_attendance')),
    sa.CheckConstraint('meeting_end IS NULL OR meeting_start IS NOT NULL AND meeting_end > meeting_start', name=op.f('ck_assemblies_meeting_times')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assemblies_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhoods.id'], name=op.f('fk_assemblies_neighbourhood_id_neighbourhoods'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assemblies'))
    )
    with op.batch_alter_table('assemblies', schema=None) as batch_op:
        batch_op.create_index('ix_assemblies_list', ['neighbourhood_id', 'status', 'meeting_start'], unique=False)

    op.create_table('ballots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('secrecy', sa.String(length=10), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('quorum_percent', sa.Integer(), nullable=False),
    sa.Column('majority', sa.String(length=12), nullable=False),
    sa.Column('approval_k', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('electorate', sa.Integer(), nullable=True),
    sa.Column('turnout', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("majority IN ('simple', 'two_thirds')", name=op.f('ck_ballots_majority')),
    sa.CheckConstraint("method IN ('yes_no', 'approval', 'ranked')", name=op.f('ck_ballots_method')),
    sa.CheckConstraint("secrecy IN ('open', 'secret')", name=op.f('ck_ballots_secrecy')),
    sa.CheckConstraint('approval_k IS NULL OR approval_k >= 1', name=op.f('ck_ballots_approval_k')),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_ballots_window')),
    sa.CheckConstraint('electorate IS NULL OR electorate >= 0', name=op.f('ck_ballots_electorate')),
    sa.CheckConstraint('quorum_percent BETWEEN 0 AND 100', name=op.f('ck_ballots_quorum_percent')),
    sa.CheckConstraint('turnout >= 0', name=op.f('ck_ballots_turnout')),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_ballots_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots')),
    sa.UniqueConstraint('assembly_id', name=op.f('uq_ballots_assembly_id'))
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index('ix_ballots_window', ['closes_at'], unique=False)

    op.create_table('agenda_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('paper_yes', sa.Integer(), nullable=True),
    sa.Column('paper_no', sa.Integer(), nullable=True),
    sa.Column('paper_abstain', sa.Integer(), nullable=True),
    sa.Column('paper_entered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('accepted', 'rejected')", name=op.f('ck_agenda_items_outcome')),
    sa.CheckConstraint('paper_yes IS NULL OR (paper_yes >= 0 AND paper_no >= 0 AND paper_abstain >= 0)', name=op.f('ck_agenda_items_paper_counts')),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_agenda_items_assembly_id_assemblies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_agenda_items_proposal_id_proposals'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_items')),
    sa.UniqueConstraint('assembly_id', 'proposal_id', name=op.f('uq_agenda_items_assembly_id_proposal_id'))
    )
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.create_index('ix_agenda_items_proposal_id', ['proposal_id'], unique=False)

    op.create_table('ballot_papers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=True),
    sa.Column('receipt_hash', sa.String(length=64), nullable=True),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.CheckConstraint('(voter_id IS NULL) <> (receipt_hash IS NULL)', name=op.f('ck_ballot_papers_open_or_secret')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_papers_ballot_id_ballots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voter_id'], ['users.id'], name=op.f('fk_ballot_papers_voter_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_papers')),
    sa.UniqueConstraint('ballot_id', 'voter_id', name=op.f('uq_ballot_papers_ballot_id_voter_id')),
    sa.UniqueConstraint('receipt_hash', name=op.f('uq_ballot_papers_receipt_hash')),
    sqlite_with_rowid=False
    )
    op.create_table('ballot_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_results_ballot_id_ballots'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_results')),
    sa.UniqueConstraint('ballot_id', name=op.f('uq_ballot_results_ballot_id'))
    )
    op.create_table('participations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('voted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_participations_ballot_id_ballots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_participations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participations')),
    sa.UniqueConstraint('ballot_id', 'user_id', name=op.f('uq_participations_ballot_id_user_id'))
    )
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.create_index('ix_participations_user_id', ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_index('ix_participations_user_id')

    op.drop_table('participations')
    op.drop_table('ballot_results')
    op.drop_table('ballot_papers')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_index('ix_agenda_items_proposal_id')

    op.drop_table('agenda_items')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index('ix_ballots_window')

    op.drop_table('ballots')
    with op.batch_alter_table('assemblies', schema=None) as batch_op:
        batch_op.drop_index('ix_assemblies_list')

    op.drop_table('assemblies')
