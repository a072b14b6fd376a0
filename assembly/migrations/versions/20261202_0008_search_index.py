"""Word search through an index (SQLite FTS5 trigram, PostgreSQL pg_trgm) and a partial index
for the proposals ready for an agenda.

Revision ID: 0008_perf
Revises: 0007
Create Date: 2026-12-02 23:10:00+00:00

SQLite: the FTS5 table `proposal_search` holds a trigram index of `proposals.search_key`
(external content: the text stays in `proposals`), kept in step by three triggers. A batch
operation that rebuilds `proposals` on SQLite drops these triggers: a later revision that does
so must create them again (`create_sqlite_search`).

PostgreSQL: the `pg_trgm` extension (a trusted extension: the database owner may create it)
and a GIN index on `search_key` with `gin_trgm_ops`, which serves `LIKE '%word%'`.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_perf'
down_revision = '0007'
branch_labels = None
depends_on = None

_READY = sa.text('ready_at IS NOT NULL')


def create_sqlite_search() -> None:
    op.execute("CREATE VIRTUAL TABLE proposal_search USING fts5(search_key, content='proposals', "
               "content_rowid='id', tokenize='trigram case_sensitive 1')")
    op.execute("CREATE TRIGGER proposal_search_insert AFTER INSERT ON proposals BEGIN "
               "INSERT INTO proposal_search(rowid, search_key) VALUES (new.id, new.search_key); END")
    op.execute("CREATE TRIGGER proposal_search_delete AFTER DELETE ON proposals BEGIN "
               "INSERT INTO proposal_search(proposal_search, rowid, search_key) "
               "VALUES ('delete', old.id, old.search_key); END")
    op.execute("CREATE TRIGGER proposal_search_update AFTER UPDATE OF search_key ON proposals BEGIN "
               "INSERT INTO proposal_search(proposal_search, rowid, search_key) "
               "VALUES ('delete', old.id, old.search_key); "
               "INSERT INTO proposal_search(rowid, search_key) VALUES (new.id, new.search_key); END")
    op.execute("INSERT INTO proposal_search(proposal_search) VALUES ('rebuild')")


def upgrade() -> None:
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index('ix_proposals_ready', ['neighbourhood_id', 'support_count', 'id'], unique=False,
                              sqlite_where=_READY, postgresql_where=_READY)
    if op.get_bind().dialect.name == 'sqlite':
        create_sqlite_search()
    else:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute('CREATE INDEX ix_proposals_search ON proposals USING gin (search_key gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for trigger in ('proposal_search_update', 'proposal_search_delete', 'proposal_search_insert'):
            op.execute(f'DROP TRIGGER IF EXISTS {trigger}')
        op.execute('DROP TABLE IF EXISTS proposal_search')
    else:
        op.execute('DROP INDEX IF EXISTS ix_proposals_search')
        op.execute('DROP EXTENSION IF EXISTS pg_trgm')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_ready', sqlite_where=_READY, postgresql_where=_READY)
