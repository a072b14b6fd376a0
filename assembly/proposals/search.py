"""Word search over proposals, through an index on both databases.

Every proposal carries a search key (`assembly.text.fold`: Turkish İ/ı, Arabic and Persian letter
forms, digits and diacritics folded in Python), and a query is folded the same way; the
database only finds the keys that contain every word of the query. The index is a trigram
index on the key, made by migration 0008:

- SQLite: the FTS5 table `proposal_search` (trigram tokenizer, case-sensitive, since the key is
  already folded), kept in step with `proposals.search_key` by three triggers;
- PostgreSQL: a GIN index with `pg_trgm`'s `gin_trgm_ops` on `proposals.search_key`, which
  serves `LIKE '%word%'` directly.

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

from sqlalchemy import func, literal, literal_column, select, text
from sqlalchemy.orm import aliased

from assembly.db import db
from assembly.proposals.models import Proposal

TRIGRAM = 3
SHORT_QUERY_SCAN = 10_000
SEARCH_CAP = 2_000  # a search counts (and ranks) at most this many matches: "more than 2,000 found"
SEARCH_SCAN = SEARCH_CAP + 1
FTS_TABLE = "proposal_search"
PG_INDEX = "ix_proposals_search"


def is_search_index(name: str | None) -> bool:
    """The search index's own schema objects, which the models do not declare (Alembic's
    autogenerate and the schema comparison leave them alone)."""
    return bool(name) and (name == PG_INDEX or name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))


def _like(term: str, table=Proposal):
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return table.search_key.like(f"%{escaped}%", escape="\\")


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
        found = aliased(Proposal)
        clauses.append(Proposal.id.in_(
            select(found.id).where(found.neighbourhood_id == neighbourhood_id,
                                   *(_like(term, found) for term in long_terms))
            .order_by(found.id.desc()).limit(SEARCH_SCAN)))
    clauses.extend(_like(term) for term in short_terms)
    return clauses, bool(long_terms)


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
