"""Word search on PostgreSQL through a word index read newest first.

Revision ID: 0022_search_pg
Revises: 0017_meeting_commitment
Create Date: 2026-12-03 10:00:00+00:00

The trigram index of 0008 finds which proposals contain a word, but not in any order: to take
the newest 2,001 matches of a word found in 2 % of 10^6 proposals, PostgreSQL either fetched
all 20,000 matches from the heap and sorted them (352 ms) or read the primary key backwards
with the `LIKE` as a filter (100,000 rows, 61-82 ms). SQLite's FTS5 reads its lists in rowid
order and stops early; this gives PostgreSQL the same:

- `proposal_search_words` (neighbourhood, word, proposal), primary key in that order: every
  distinct word of a proposal's folded search key (`assembly.text.fold`; a word longer than
  300 letters as overlapping pieces), so the proposals holding a word are one range of the key, read
  backwards from the newest and stopped after the first matches (index-only).
- `proposal_search_vocabulary` (word): every word ever indexed, with a `pg_trgm` GIN index, so
  a query word is turned into the indexed words that contain it (substring search stays
  substring search: `park` finds `parkta`, as on SQLite).
- Three triggers on `proposals` keep the words in step in the same transaction: per statement
  for new and deleted proposals, per row for an edit that changes the key.

The existing rows are indexed here. SQLite: nothing to do (FTS5 already reads in order).
"""
from alembic import op


revision = '0022_search_pg'
down_revision = "0017_meeting_commitment"
branch_labels = None
depends_on = None

# A word of the key is indexed whole up to WORD_PIECE letters (a btree entry holds 300 four-byte
# letters: its limit is 2,704 bytes); a longer one as pieces of WORD_PIECE letters starting every
# WORD_STEP letters, so any part of it of up to WORD_STEP + 1 letters lies inside one piece
# (`assembly.proposals.search.LONGEST_INDEXED_TERM`).
WORD_PIECE = 300
WORD_STEP = 150

# The indexed words of a key, as FROM items and their condition: `FROM x, <this>` yields w.
_WORDS_OF = ("unnest(string_to_array({key}, ' ')) AS u(part), "
             f"generate_series(1, greatest(length(u.part) - {WORD_STEP}, 1), {WORD_STEP}) AS s(start), "
             f"substr(u.part, s.start, {WORD_PIECE}) AS w WHERE u.part <> ''")


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.execute('CREATE TABLE proposal_search_words (neighbourhood_id integer NOT NULL, word text NOT NULL, '
               'proposal_id integer NOT NULL)')
    op.execute('CREATE TABLE proposal_search_vocabulary (word text NOT NULL)')
    # New proposals and deleted ones per statement (a bulk insert indexes its rows in one go), an
    # edit per row and only when the key changed (a support's update of the counter costs nothing).
    # Words enter the vocabulary in sorted order: two transactions adding the same new words never
    # wait on each other crosswise.
    op.execute(f"""
CREATE FUNCTION proposal_search_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO proposal_search_vocabulary (word)
        SELECT DISTINCT w FROM new_rows, {_WORDS_OF.format(key='new_rows.search_key')} ORDER BY w
        ON CONFLICT DO NOTHING;
    INSERT INTO proposal_search_words (neighbourhood_id, word, proposal_id)
        SELECT DISTINCT new_rows.neighbourhood_id, w, new_rows.id FROM new_rows, {_WORDS_OF.format(key='new_rows.search_key')};
    RETURN NULL;
END
$$""")
    op.execute(f"""
CREATE FUNCTION proposal_search_words_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM proposal_search_words AS words USING old_rows, {_WORDS_OF.format(key='old_rows.search_key')}
       AND words.neighbourhood_id = old_rows.neighbourhood_id AND words.word = w AND words.proposal_id = old_rows.id;
    RETURN NULL;
END
$$""")
    op.execute(f"""
CREATE FUNCTION proposal_search_words_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM proposal_search_words
     WHERE neighbourhood_id = OLD.neighbourhood_id AND proposal_id = OLD.id
       AND word IN (SELECT w FROM {_WORDS_OF.format(key='OLD.search_key')});
    INSERT INTO proposal_search_vocabulary (word)
        SELECT DISTINCT w FROM {_WORDS_OF.format(key='NEW.search_key')} ORDER BY w
        ON CONFLICT DO NOTHING;
    INSERT INTO proposal_search_words (neighbourhood_id, word, proposal_id)
        SELECT DISTINCT NEW.neighbourhood_id, w, NEW.id FROM {_WORDS_OF.format(key='NEW.search_key')};
    RETURN NULL;
END
$$""")
    op.execute('CREATE TRIGGER proposal_search_words_insert AFTER INSERT ON proposals '
               'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION proposal_search_words_add()')
    op.execute('CREATE TRIGGER proposal_search_words_delete AFTER DELETE ON proposals '
               'REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION proposal_search_words_remove()')
    op.execute('CREATE TRIGGER proposal_search_words_update AFTER UPDATE OF search_key, neighbourhood_id ON proposals '
               'FOR EACH ROW WHEN (OLD.search_key IS DISTINCT FROM NEW.search_key '
               'OR OLD.neighbourhood_id IS DISTINCT FROM NEW.neighbourhood_id) '
               'EXECUTE FUNCTION proposal_search_words_change()')
    # The rows already there (the triggers hold proposals against writes until this commits),
    # then the keys, built once over the whole table.
    op.execute('INSERT INTO proposal_search_words (neighbourhood_id, word, proposal_id) '
               f"SELECT DISTINCT p.neighbourhood_id, w, p.id FROM proposals AS p, {_WORDS_OF.format(key='p.search_key')}")
    op.execute('INSERT INTO proposal_search_vocabulary (word) SELECT DISTINCT word FROM proposal_search_words')
    op.execute('ALTER TABLE proposal_search_words ADD CONSTRAINT proposal_search_words_pkey '
               'PRIMARY KEY (neighbourhood_id, word, proposal_id)')
    op.execute('ALTER TABLE proposal_search_vocabulary ADD CONSTRAINT proposal_search_vocabulary_pkey '
               'PRIMARY KEY (word)')
    op.execute('CREATE INDEX proposal_search_vocabulary_trgm ON proposal_search_vocabulary '
               'USING gin (word gin_trgm_ops)')
    op.execute('ANALYZE proposal_search_words')
    op.execute('ANALYZE proposal_search_vocabulary')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for trigger in ('proposal_search_words_update', 'proposal_search_words_delete', 'proposal_search_words_insert'):
        op.execute(f'DROP TRIGGER IF EXISTS {trigger} ON proposals')
    for function in ('proposal_search_words_change', 'proposal_search_words_remove', 'proposal_search_words_add'):
        op.execute(f'DROP FUNCTION IF EXISTS {function}()')
    op.execute('DROP TABLE IF EXISTS proposal_search_vocabulary')
    op.execute('DROP TABLE IF EXISTS proposal_search_words')
