"""Word search over proposals, through an index on both databases.

Every proposal carries a search key (`assembly.text.fold`: Turkish İ/ı, Arabic and Persian letter
forms, digits and diacritics folded in Python), and a query is folded the same way; the
database only finds the keys that contain every word of the query, through these indexes:

- SQLite (migration 0008): the FTS5 table `proposal_search` (trigram tokenizer, case-sensitive,
  since the key is already folded), kept in step with `proposals.search_key` by three triggers;
- PostgreSQL (migration 0022): the words of every key in `proposal_search_words` (neighbourhood,
  word, proposal), whose primary key lists the proposals holding a word newest first, and every
  indexed word in `proposal_search_vocabulary` with a `pg_trgm` GIN index. A query word becomes
  the indexed words that contain it (at most VOCABULARY_LIMIT of them: `park` is `park`,
  `parkta`, `parking` ...), and the newest matches are read from those words' lists and stop
  early, as FTS5 does on SQLite. The other words of the query are checked on those proposals.
  A query word found inside more than VOCABULARY_LIMIT indexed words (or longer than
  LONGEST_INDEXED_TERM) is looked up with the trigram GIN index of 0008 on
  `proposals.search_key` (`LIKE '%word%'`), as before.

A search reads at most the newest SEARCH_SCAN matches in the neighbourhood, so a word found
in every proposal costs no more than a rare one; its count stops at SEARCH_CAP ("more than
2,000 proposals found"), and it ranks the matches among those.
A trigram index cannot look up a word of one or two letters. Such words narrow the matches of
the longer words of the query; a query made only of them looks through the newest
SHORT_QUERY_SCAN proposals of the list (see docs/operations.md).

Results are ranked by where the words stand in the key: the key starts with the title, then
the text, then the place, so a proposal with the words in its title comes first.
"""
from __future__ import annotations

from sqlalchemy import bindparam, column, func, literal, literal_column, select, table, text, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlalchemy.types import Text

from assembly.db import db
from assembly.proposals.models import Proposal

TRIGRAM = 3
SHORT_QUERY_SCAN = 10_000
SEARCH_CAP = 2_000  # a search counts (and ranks) at most this many matches: "more than 2,000 found"
SEARCH_SCAN = SEARCH_CAP + 1
FTS_TABLE = "proposal_search"
PG_INDEX = "ix_proposals_search"
# PostgreSQL's word index (migration 0022). Its names start with FTS_TABLE + "_".
WORDS = table("proposal_search_words", column("neighbourhood_id"), column("word"), column("proposal_id"))
VOCABULARY = table("proposal_search_vocabulary", column("word"))
VOCABULARY_LIMIT = 32  # indexed words a query word may stand for and still be read through their lists
CHECK_LIMIT = 4  # another word of the query standing for at most this many indexed words is checked in the index
COUNT_LIMIT = 5_000  # a query of several words is led by the one in fewest proposals, counted up to this
LONGEST_INDEXED_TERM = 151  # any part of a word of up to this many letters is in one indexed piece (0022)


def is_search_index(name: str | None) -> bool:
    """The search index's own schema objects, which the models do not declare (Alembic's
    autogenerate and the schema comparison leave them alone)."""
    return bool(name) and (name == PG_INDEX or name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))


def _pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _like(term: str, table=Proposal):
    # The pattern is written into the statement, not bound: PostgreSQL then plans each word with
    # its own frequency. Bound, a statement run often is planned once for any word (a generic
    # plan), and for a rare word that plan read the whole list by id (2.8 to 4.5 s at 10^6).
    return table.search_key.like(literal(_pattern(term), literal_execute=True), escape="\\")


def _fts_phrase(terms: list[str]) -> str:
    # Each word a quoted string: with the trigram tokenizer, a substring of the key.
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)


def conditions(terms: list[str], neighbourhood_id: int) -> tuple[list, bool]:
    """WHERE clauses for the words, and whether the index can find them (some word has at
    least three letters). Without it the caller bounds the scan.

    The index yields at most the newest SEARCH_SCAN matching proposals of the neighbourhood
    (both databases read the matches newest first and stop there), so a word found in every
    proposal costs no more than one found in SEARCH_SCAN of them."""
    long_terms = [term for term in terms if len(term) >= TRIGRAM]
    short_terms = [term for term in terms if len(term) < TRIGRAM]
    clauses = []
    if long_terms and _dialect() == "sqlite":
        rowid = literal_column(f"{FTS_TABLE}.rowid")
        clauses.append(Proposal.id.in_(
            select(rowid).select_from(text(f"{FTS_TABLE} JOIN proposals AS searched ON searched.id = {FTS_TABLE}.rowid"))
            .where(text(f"{FTS_TABLE} MATCH :search_match AND searched.neighbourhood_id = :search_place")
                   .bindparams(search_match=_fts_phrase(long_terms), search_place=neighbourhood_id))
            .order_by(rowid.desc()).limit(SEARCH_SCAN)))
    elif long_terms:
        clauses.append(Proposal.id.in_(_postgresql_matches(long_terms, neighbourhood_id)))
    clauses.extend(_like(term) for term in short_terms)
    return clauses, bool(long_terms)


def _postgresql_matches(terms: list[str], neighbourhood_id: int):
    """The ids of the newest SEARCH_SCAN proposals of the neighbourhood holding every word, led by
    the word index (migration 0022): one statement here to turn the words into indexed words, and
    the subquery returned reads at most SEARCH_SCAN entries of each indexed word's list."""
    indexed = [term for term in terms if len(term) <= LONGEST_INDEXED_TERM]
    expansions = _expand(indexed, neighbourhood_id, count=len(indexed) > 1) if indexed else {}
    usable = {term: found for term, found in expansions.items() if len(found[0]) <= VOCABULARY_LIMIT}
    found = aliased(Proposal)
    if not usable:  # every word too common a part of other words: the trigram index, as before
        return (select(found.id).where(found.neighbourhood_id == neighbourhood_id,
                                       *(_like(term, found) for term in terms))
                .order_by(found.id.desc()).limit(SEARCH_SCAN))
    # Led by the word in fewest proposals (counted up to COUNT_LIMIT), then by the longest.
    leader = min(usable, key=lambda term: (usable[term][1], -len(term)))
    words = usable[leader][0]
    if not words:
        return select(found.id).where(literal(False))  # no indexed word contains it: nothing matches
    others = [term for term in terms if term != leader]
    # The other words are checked in the word index where they stand for few indexed words (no
    # read of the proposal), else on the proposal's key. Checked for each proposal of the list
    # (OFFSET 0 keeps PostgreSQL from merging the two lists instead, which walks the longer one).
    in_index = [term for term in others if term in usable and len(usable[term][0]) <= CHECK_LIMIT]
    on_key = [term for term in others if term not in in_index]
    branches = []
    for word in words:
        branch = select(WORDS.c.proposal_id.label("id")).where(WORDS.c.neighbourhood_id == neighbourhood_id,
                                                              WORDS.c.word == word)
        for term in in_index:
            other = WORDS.alias()
            branch = branch.where(select(other.c.proposal_id).where(
                other.c.neighbourhood_id == neighbourhood_id, other.c.word.in_(usable[term][0]),
                other.c.proposal_id == WORDS.c.proposal_id).offset(0).exists())
        if on_key:
            branch = branch.join(found, found.id == WORDS.c.proposal_id).where(*(_like(term, found)
                                                                                 for term in on_key))
        branches.append(branch.order_by(WORDS.c.proposal_id.desc()).limit(SEARCH_SCAN))
    if len(branches) == 1:
        return branches[0]
    # A proposal may hold several of the words: each list gives its newest SEARCH_SCAN, together
    # at most len(words) * SEARCH_SCAN ids, of which the newest SEARCH_SCAN distinct ones.
    merged = union_all(*branches).subquery()
    return select(merged.c.id).group_by(merged.c.id).order_by(merged.c.id.desc()).limit(SEARCH_SCAN)


def _expand(terms: list[str], neighbourhood_id: int, count: bool) -> dict[str, tuple[list[str], int]]:
    """For each word: the indexed words containing it (up to VOCABULARY_LIMIT + 1) and, when
    `count`, in how many of the neighbourhood's proposals they stand (up to COUNT_LIMIT)."""
    rows = db.session.execute(text(
        "SELECT t.n, v.words, CASE WHEN :count AND cardinality(v.words) <= :vocabulary_limit THEN "
        "(SELECT count(*) FROM (SELECT 1 FROM proposal_search_words AS w WHERE w.neighbourhood_id = :place "
        "AND w.word = ANY (v.words) LIMIT :count_limit) AS c) ELSE 0 END "
        "FROM unnest(CAST(:patterns AS text[])) WITH ORDINALITY AS t(pattern, n) "
        "CROSS JOIN LATERAL (SELECT coalesce(array_agg(f.word), '{}') AS words FROM (SELECT word FROM "
        "proposal_search_vocabulary WHERE word LIKE t.pattern ESCAPE '\\' LIMIT :vocabulary_limit + 1) AS f) AS v"
    ).bindparams(bindparam("patterns", type_=ARRAY(Text))),
        {"patterns": [_pattern(term) for term in terms], "count": count, "place": neighbourhood_id,
         "vocabulary_limit": VOCABULARY_LIMIT, "count_limit": COUNT_LIMIT}).all()
    return {terms[n - 1]: (list(words), number) for n, words, number in rows}


def short_conditions(terms: list[str], columns) -> list:
    """The words of a query without a word the index can find, on `columns` (a bounded subquery)."""
    return [_like(term, columns) for term in terms]


def rank(terms: list[str]):
    """Lower is better: the sum of the words' first positions in the key (title first)."""
    position = func.instr if _dialect() == "sqlite" else (lambda key, term: func.strpos(key, term))
    score = literal(0)
    for term in terms:
        score = score + position(Proposal.search_key, term)
    return score


def _dialect() -> str:
    return db.session.get_bind().dialect.name
