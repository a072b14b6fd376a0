"""Sealed secret ballots: votes wait sealed beside their participation and reach the ballot
box only in the closing transaction; receipts leave the ballot papers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 18:40:00+00:00

A secret ballot that is still being voted on cannot be carried over: its papers are already
unlinkable, so a voter could no longer change their vote without being counted twice. The
upgrade refuses to run while such a ballot is open (close it first, or wait for it to close).
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _paper_columns(with_receipt: bool) -> list:
    columns = [
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('ballot_id', sa.Integer(), nullable=False),
        sa.Column('voter_id', sa.Integer(), nullable=True),
    ]
    if with_receipt:
        columns.append(sa.Column('receipt_hash', sa.String(length=64), nullable=True))
    columns += [
        sa.Column('choices', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_papers_ballot_id_ballots'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['voter_id'], ['users.id'], name=op.f('fk_ballot_papers_voter_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_papers')),
        sa.UniqueConstraint('ballot_id', 'voter_id', name=op.f('uq_ballot_papers_ballot_id_voter_id')),
    ]
    if with_receipt:
        columns += [
            sa.CheckConstraint('(voter_id IS NULL) <> (receipt_hash IS NULL)',
                               name=op.f('ck_ballot_papers_open_or_secret')),
            sa.UniqueConstraint('receipt_hash', name=op.f('uq_ballot_papers_receipt_hash')),
        ]
    return columns


def _rebuild_sqlite_papers(with_receipt: bool) -> None:
    # A batch copy would lose WITHOUT ROWID (reflection does not see it), and with it the
    # guarantee that the physical order of papers is their random key's.
    op.create_table('_ballot_papers_new', *_paper_columns(with_receipt), sqlite_with_rowid=False)
    if with_receipt:
        op.execute("INSERT INTO _ballot_papers_new (id, ballot_id, voter_id, receipt_hash, choices) "
                   "SELECT id, ballot_id, voter_id, CASE WHEN voter_id IS NULL THEN lower(hex(randomblob(32))) END, "
                   "choices FROM ballot_papers")
    else:
        op.execute("INSERT INTO _ballot_papers_new (id, ballot_id, voter_id, choices) "
                   "SELECT id, ballot_id, voter_id, choices FROM ballot_papers")
    op.drop_table('ballot_papers')
    op.rename_table('_ballot_papers_new', 'ballot_papers')


def upgrade() -> None:
    bind = op.get_bind()
    open_secret = bind.execute(sa.text(
        "SELECT count(*) FROM ballots JOIN assemblies ON assemblies.id = ballots.assembly_id "
        "WHERE ballots.secrecy = 'secret' AND assemblies.status = 'voting'")).scalar()
    if open_secret:
        raise RuntimeError(f"{open_secret} secret ballot(s) are open for voting; run this upgrade after they close")
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE ballots SET closed_at = (SELECT computed_at FROM ballot_results "
               "WHERE ballot_results.ballot_id = ballots.id)")
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sealed', sa.LargeBinary(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_participations_receipt_hash'), ['receipt_hash'])
    if bind.dialect.name == 'sqlite':
        _rebuild_sqlite_papers(with_receipt=False)
    else:
        op.drop_constraint(op.f('ck_ballot_papers_open_or_secret'), 'ballot_papers', type_='check')
        op.drop_constraint(op.f('uq_ballot_papers_receipt_hash'), 'ballot_papers', type_='unique')
        op.drop_column('ballot_papers', 'receipt_hash')


def downgrade() -> None:
    bind = op.get_bind()
    # Papers of closed secret ballots lose their receipts for good (they were never linked);
    # give each a random placeholder so the old check constraint holds.
    if bind.dialect.name == 'sqlite':
        _rebuild_sqlite_papers(with_receipt=True)
    else:
        op.add_column('ballot_papers', sa.Column('receipt_hash', sa.String(length=64), nullable=True))
        op.execute("UPDATE ballot_papers SET receipt_hash = md5(random()::text) || md5(random()::text) "
                   "WHERE voter_id IS NULL")
        op.create_unique_constraint(op.f('uq_ballot_papers_receipt_hash'), 'ballot_papers', ['receipt_hash'])
        op.create_check_constraint(op.f('ck_ballot_papers_open_or_secret'), 'ballot_papers',
                                   '(voter_id IS NULL) <> (receipt_hash IS NULL)')
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_participations_receipt_hash'), type_='unique')
        batch_op.drop_column('sealed')
        batch_op.drop_column('receipt_hash')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
