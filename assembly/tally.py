"""Vote counting: the one place results are computed, shared by the app and the recount command.

Pure standard library (no Flask, no SQLAlchemy) and JSON-friendly: a published ballots
document (see `tally_document`) recounts to exactly the stored `Result.to_dict()`.
Results carry machine-readable codes, never prose; the UI translates them.

Rules of counting, for every method:
- turnout is the number of ballots cast; an empty ballot counts toward turnout;
- the quorum is met when ``turnout * 100 >= quorum_percent * electorate`` (integers only);
- nothing is accepted when the quorum is missed;
- ties are broken by the published order of the items (``"tie_break": "published_order"``).

Per method:
- ``yes_no``: each item is accepted when the quorum is met and its majority rule holds:
  ``simple`` is ``yes > no``; ``two_thirds`` is ``3 * yes >= 2 * (yes + no) and yes > 0``.
  Abstentions and items left out of a ballot count toward neither side.
- ``approval``: a ballot approves at most k items; items are ranked by approvals, then by
  published order; the first k with at least one approval are accepted. Shares of ballots
  are exact fractions; round them only for display (`rounded_percent`).
- ``ranked``: Schulze method (winning votes). Unranked items rank below all ranked ones and
  tie among themselves. The Schulze relation is split into tiers of unbeaten items; within
  a tier the published order decides; the first k of that order win, if any ballot ranked
  anything.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from itertools import chain, islice, repeat
from operator import add, and_
from typing import Any

FORMAT = "assembly.ballots/2"
# Format 1 put each receipt beside its vote; still read, so that old files recount.
FORMATS = ("assembly.ballots/1", FORMAT)
METHODS = ("yes_no", "approval", "ranked")
MAJORITIES = ("simple", "two_thirds")
CHOICES = ("yes", "no", "abstain")
TIE_BREAK = "published_order"
QUORUM_RULE = "turnout*100>=quorum_percent*electorate"
MAJORITY_RULES = {"simple": "yes>no", "two_thirds": "3*yes>=2*(yes+no) and yes>0"}


class TallyError(ValueError):
    """The input cannot be counted. `code` is machine-readable; `where` points into the input."""

    def __init__(self, code: str, where: str = "", detail: Any = None) -> None:
        self.code, self.where, self.detail = code, where, detail
        text = f"{where}: {code}" if where else code
        super().__init__(text if detail is None else f"{text} ({detail!r})")


class InvalidRules(TallyError):
    """The rules are malformed (unknown method, duplicate item ids, k out of range …)."""


class InvalidBallot(TallyError):
    """A ballot breaks the rules; `where` is ``ballots[i]`` for the first offending ballot."""


class InvalidDocument(TallyError):
    """A ballots document does not follow the schema of `tally_document`."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Rules:
    """How one ballot is counted. `items` are the option ids in their published order.

    `k`: approval → most approvals per ballot and number of items accepted; ranked → number
    of winners; must be 1 for yes_no. `majority` only matters for yes_no.
    """

    method: str
    items: tuple[str, ...]
    electorate: int
    quorum_percent: int = 0
    majority: str = "simple"
    k: int = 1

    def __post_init__(self) -> None:
        plain = {name: getattr(getattr(self, name), "value", getattr(self, name))  # str enums
                 for name in ("method", "majority")}
        for name, value in plain.items():
            object.__setattr__(self, name, value)
        if isinstance(self.items, (str, bytes)) or not isinstance(self.items, Iterable):
            raise InvalidRules("items_not_a_list", "items")
        object.__setattr__(self, "items", tuple(self.items))
        self._check()

    def _check(self) -> None:
        if self.method not in METHODS:
            raise InvalidRules("unknown_method", "method", self.method)
        if not self.items:
            raise InvalidRules("no_items", "items")
        for index, item in enumerate(self.items):
            if not isinstance(item, str) or not item:
                raise InvalidRules("item_not_a_string", f"items[{index}]", item)
        if len(set(self.items)) != len(self.items):
            raise InvalidRules("duplicate_item", "items")
        if not _is_int(self.electorate) or self.electorate < 0:
            raise InvalidRules("invalid_electorate", "electorate", self.electorate)
        if not _is_int(self.quorum_percent) or not 0 <= self.quorum_percent <= 100:
            raise InvalidRules("invalid_quorum_percent", "quorum_percent", self.quorum_percent)
        if self.majority not in MAJORITIES:
            raise InvalidRules("unknown_majority", "majority", self.majority)
        top = 1 if self.method == "yes_no" else len(self.items)
        if not _is_int(self.k) or not 1 <= self.k <= top:
            raise InvalidRules("invalid_k", "k", self.k)

    @cached_property
    def positions(self) -> dict[str, int]:
        """Item id → index in the published order."""
        return {item: index for index, item in enumerate(self.items)}

    @property
    def required_turnout(self) -> int:
        """The smallest turnout that meets the quorum."""
        return -(-self.quorum_percent * self.electorate // 100)

    def quorum_met(self, turnout: int) -> bool:
        return turnout * 100 >= self.quorum_percent * self.electorate

    def to_dict(self) -> dict:
        return {"method": self.method, "items": list(self.items), "electorate": self.electorate,
                "quorum_percent": self.quorum_percent, "majority": self.majority, "k": self.k}

    @classmethod
    def from_dict(cls, data: Any) -> Rules:
        """Strict reader of `to_dict` output; optional keys default as in the constructor."""
        if not isinstance(data, Mapping):
            raise InvalidDocument("not_an_object", "rules")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise InvalidDocument("unknown_key", "rules", sorted(unknown))
        missing = {"method", "items", "electorate"} - set(data)
        if missing:
            raise InvalidDocument("missing_key", "rules", sorted(missing))
        if not isinstance(data["items"], list):
            raise InvalidDocument("items_not_a_list", "rules.items")
        try:
            return cls(**data)
        except InvalidRules as error:
            raise InvalidDocument(error.code, f"rules.{error.where}", error.detail) from None


def majority_met(majority: str, yes: int, no: int) -> bool:
    """simple: yes > no; two_thirds: 3*yes >= 2*(yes+no) and yes > 0 (abstentions ignored)."""
    if majority == "two_thirds":
        return yes > 0 and 3 * yes >= 2 * (yes + no)
    return yes > no


def rounded_percent(share: Fraction, places: int = 0) -> Decimal:
    """`share` as a percentage rounded half up to `places` decimals, for display only."""
    scaled = share * 100 * 10**places
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    return Decimal(whole).scaleb(-places)


# --- results -------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Result:
    """What every method reports; `accepted` is empty when the quorum is missed."""

    rules: Rules
    turnout: int
    quorum_met: bool
    accepted: tuple[str, ...]

    @property
    def method(self) -> str:
        return self.rules.method

    def to_dict(self) -> dict:
        """A canonical JSON-serialisable dict: lists keep a meaningful order, objects do not."""
        return {"method": self.method, "rules": self.rules.to_dict(), "turnout": self.turnout,
                "quorum": {"met": self.quorum_met, "required_turnout": self.rules.required_turnout},
                "accepted": list(self.accepted),
                "explanation": {"quorum": QUORUM_RULE, **self._explanation()},
                **self._details()}

    def _explanation(self) -> dict:
        return {}

    def _details(self) -> dict:
        return {}


@dataclass(frozen=True)
class YesNoItem:
    item: str
    yes: int
    no: int
    abstain: int
    not_voted: int
    majority_met: bool
    accepted: bool

    def outcome(self, quorum_met: bool) -> str:
        if not quorum_met:
            return "quorum_not_met"
        return "accepted" if self.accepted else "majority_not_met"


@dataclass(frozen=True, kw_only=True)
class YesNoResult(Result):
    items: tuple[YesNoItem, ...]

    def _explanation(self) -> dict:
        return {"majority": MAJORITY_RULES[self.rules.majority], "abstain": "counts_neither_side"}

    def _details(self) -> dict:
        return {"items": [{"item": i.item, "yes": i.yes, "no": i.no, "abstain": i.abstain,
                           "not_voted": i.not_voted, "majority_met": i.majority_met,
                           "accepted": i.accepted, "outcome": i.outcome(self.quorum_met)}
                          for i in self.items]}


@dataclass(frozen=True)
class ApprovalCount:
    item: str
    approvals: int
    share: Fraction  # of ballots cast; 0 when no ballot was cast


@dataclass(frozen=True, kw_only=True)
class ApprovalResult(Result):
    counts: tuple[ApprovalCount, ...]  # published order
    ranking: tuple[str, ...]  # most approvals first, ties in published order
    tied_at_cutoff: tuple[str, ...]  # items the tie-break separated at place k, else ()

    def _explanation(self) -> dict:
        return {"accepted": "top_k_with_approvals", "share": "approvals/turnout",
                "tie_break": TIE_BREAK}

    def _details(self) -> dict:
        return {"items": [{"item": c.item, "approvals": c.approvals, "share": str(c.share)}
                          for c in self.counts],
                "ranking": list(self.ranking), "tied_at_cutoff": list(self.tied_at_cutoff)}


@dataclass(frozen=True, kw_only=True)
class RankedResult(Result):
    pairwise: tuple[tuple[int, ...], ...]  # d[a][b]: ballots ranking a above b, published order
    strongest_paths: tuple[tuple[int, ...], ...]  # p[a][b], Schulze widest paths
    tiers: tuple[tuple[str, ...], ...]  # Schulze ranking before the tie-break
    ranking: tuple[str, ...]  # tiers flattened, published order inside a tier
    tied_at_cutoff: tuple[str, ...]  # the tier the tie-break split at place k, else ()

    def _explanation(self) -> dict:
        return {"method": "schulze", "link_strength": "winning_votes",
                "unranked": "tied_below_ranked", "accepted": "top_k_of_ranking_if_any_preference",
                "tie_break": TIE_BREAK}

    def _matrix(self, rows: tuple[tuple[int, ...], ...]) -> dict:
        items = self.rules.items
        return {a: {b: rows[i][j] for j, b in enumerate(items) if j != i} for i, a in enumerate(items)}

    def _details(self) -> dict:
        return {"pairwise": self._matrix(self.pairwise),
                "strongest_paths": self._matrix(self.strongest_paths),
                "tiers": [list(t) for t in self.tiers], "ranking": list(self.ranking),
                "tied_at_cutoff": list(self.tied_at_cutoff)}


def _tied_at_cutoff(groups: Sequence[Sequence[str]], k: int) -> tuple[str, ...]:
    """The group of equals that straddles place k, i.e. where the tie-break decided."""
    seen = 0
    for group in groups:
        if seen < k < seen + len(group):
            return tuple(group)
        seen += len(group)
    return ()


# --- yes / no / abstain ----------------------------------------------------------------------

def _check_yes_no(rules: Rules, ballot: Any) -> None:
    if not isinstance(ballot, Mapping):
        raise InvalidBallot("not_a_mapping")
    for item, choice in ballot.items():
        if not isinstance(item, str) or item not in rules.positions:
            raise InvalidBallot("unknown_item", detail=item)
        if not isinstance(choice, str) or choice not in CHOICES:
            raise InvalidBallot("invalid_choice", detail=choice)


def _tally_yes_no(rules: Rules, ballots: Sequence[Any]) -> YesNoResult:
    counts = Counter()
    for index, ballot in enumerate(ballots):
        _check(_check_yes_no, rules, ballot, index)
        counts.update(ballot.items())
    turnout = len(ballots)
    quorum = rules.quorum_met(turnout)
    items = []
    for item in rules.items:
        yes, no, abstain = (counts[item, choice] for choice in CHOICES)
        passes = majority_met(rules.majority, yes, no)
        items.append(YesNoItem(item, yes, no, abstain, turnout - yes - no - abstain, passes,
                               quorum and passes))
    return YesNoResult(rules=rules, turnout=turnout, quorum_met=quorum, items=tuple(items),
                       accepted=tuple(i.item for i in items if i.accepted))


# --- approval --------------------------------------------------------------------------------

def _check_approval(rules: Rules, ballot: Any) -> None:
    if isinstance(ballot, (str, bytes, Mapping)) or not isinstance(ballot, Collection):
        raise InvalidBallot("not_a_list")
    if len(ballot) > rules.k:
        raise InvalidBallot("too_many_approvals", detail=len(ballot))
    for item in ballot:
        if not isinstance(item, str) or item not in rules.positions:
            raise InvalidBallot("unknown_item", detail=item)
    if len(set(ballot)) != len(ballot):
        raise InvalidBallot("duplicate_item")


def _tally_approval(rules: Rules, ballots: Sequence[Any]) -> ApprovalResult:
    approvals = Counter()
    for index, ballot in enumerate(ballots):
        _check(_check_approval, rules, ballot, index)
        approvals.update(ballot)
    turnout = len(ballots)
    quorum = rules.quorum_met(turnout)
    counts = tuple(ApprovalCount(item, approvals[item], Fraction(approvals[item], turnout or 1))
                   for item in rules.items)
    ranking = tuple(c.item for c in sorted(counts, key=lambda c: -c.approvals))  # stable sort
    groups: dict[int, list[str]] = {}
    for item in ranking:
        groups.setdefault(approvals[item], []).append(item)
    tied = _tied_at_cutoff(list(groups.values()), rules.k)
    if tied and not approvals[tied[0]]:
        tied = ()  # items without approvals are never accepted, so nothing was decided
    accepted = tuple(item for item in ranking[:rules.k] if approvals[item]) if quorum else ()
    return ApprovalResult(rules=rules, turnout=turnout, quorum_met=quorum, accepted=accepted,
                          counts=counts, ranking=ranking, tied_at_cutoff=tied)


# --- ranked (Schulze) ------------------------------------------------------------------------

_RANK_TYPES = frozenset({list, tuple, set, frozenset})


def _check_ranked(rules: Rules, ballot: Any) -> None:
    if type(ballot) not in (list, tuple):
        raise InvalidBallot("not_a_list")
    seen: set[str] = set()
    for rank in ballot:
        if type(rank) not in _RANK_TYPES:
            raise InvalidBallot("rank_not_a_list", detail=rank)
        if not rank:
            raise InvalidBallot("empty_rank")
        for item in rank:
            if not isinstance(item, str) or item not in rules.positions:
                raise InvalidBallot("unknown_item", detail=item)
            if item in seen:
                raise InvalidBallot("duplicate_item", detail=item)
            seen.add(item)


class _RankCodes(dict):
    """Cache: a rank (tuple of item ids) → its bitmask m over published positions, coded as
    ``m << n | m`` so that one addition both extends the set ranked so far and tags the rank."""

    def __init__(self, items: Sequence[str]) -> None:
        super().__init__()
        self.bits = {item: 1 << index for index, item in enumerate(items)}
        self.n = len(items)

    def __missing__(self, rank: tuple[Any, ...]) -> int:
        if not rank or len(set(rank)) != len(rank):
            raise InvalidBallot("invalid_rank")
        try:
            mask = sum(self.bits[item] for item in rank)
        except KeyError:
            raise InvalidBallot("unknown_item") from None
        self[rank] = code = mask << self.n | mask
        return code


def _pairwise(rules: Rules, ballots: Sequence[Any]) -> list[list[int]]:
    """d[a][b], the number of ballots ranking a above b.

    Identical ballots are aggregated first, as tuples of rank codes (`_RankCodes`). Then, rank
    by rank over the aggregated ballots, the key ``(A << n) | R`` counts how often rank R
    appears with A = R plus every item ranked above it: each item of R beats each item
    outside A, unranked items included. The work runs column by column through C-level
    iterators; a Python loop per ballot and rank would be several times slower.
    """
    n, full = len(rules.items), (1 << len(rules.items)) - 1
    if not {list, tuple}.issuperset(map(type, ballots)) or \
            not _RANK_TYPES.issuperset(map(type, chain.from_iterable(ballots))):
        raise InvalidBallot("not_a_list_of_ranks")
    codes = list(map(_RankCodes(rules.items).__getitem__, map(tuple, chain.from_iterable(ballots))))
    aggregated = Counter(map(tuple, map(islice, repeat(iter(codes)), map(len, ballots))))
    groups: dict[tuple[int, int], list[tuple[int, ...]]] = {}
    for key, count in aggregated.items():
        groups.setdefault((count, len(key)), []).append(key)
    followers: Counter = Counter()  # (A << n) | R → ballots
    for (count, _), keys in groups.items():
        column_counts: Counter = Counter()
        state = repeat(0)
        for column in zip(*keys):
            state = list(map(add, map(and_, state, repeat(full << n)), column))
            column_counts.update(state)
        for key, times in column_counts.items():
            followers[key] += times * count
    d = [[0] * n for _ in range(n)]
    for key, count in followers.items():
        above, rank = key >> n, key & full
        if above > full or rank & above != rank:  # an item ranked twice made the sum carry
            raise InvalidBallot("duplicate_item")
        below = [b for b in range(n) if not above >> b & 1]
        for a in range(n):
            if rank >> a & 1:
                row = d[a]
                for b in below:
                    row[b] += count
    return d


def _strongest_paths(d: list[list[int]]) -> list[list[int]]:
    n = len(d)
    p = [[d[a][b] if a != b and d[a][b] > d[b][a] else 0 for b in range(n)] for a in range(n)]
    for i in range(n):
        for j in range(n):
            if j != i and p[j][i]:
                for k in range(n):
                    if k != i and k != j:
                        p[j][k] = max(p[j][k], min(p[j][i], p[i][k]))
    return p


def _tiers(p: list[list[int]]) -> list[list[int]]:
    """Repeatedly take the items no remaining item beats (p[b][a] > p[a][b])."""
    remaining, tiers = list(range(len(p))), []
    while remaining:
        tier = [a for a in remaining if not any(p[b][a] > p[a][b] for b in remaining)]
        if not tier:  # Schulze (2011) proves the relation transitive, so this cannot happen
            raise RuntimeError("schulze_relation_not_transitive")
        tiers.append(tier)
        remaining = [a for a in remaining if a not in tier]
    return tiers


def _tally_ranked(rules: Rules, ballots: Sequence[Any]) -> RankedResult:
    try:
        d = _pairwise(rules, ballots)
    except (InvalidBallot, TypeError):  # find and name the first offending ballot
        for index, ballot in enumerate(ballots):
            _check(_check_ranked, rules, ballot, index)
        raise
    p = _strongest_paths(d)
    items = rules.items
    tiers = tuple(tuple(items[a] for a in tier) for tier in _tiers(p))
    ranking = tuple(item for tier in tiers for item in tier)
    turnout = len(ballots)
    quorum = rules.quorum_met(turnout)
    preferred = any(map(any, d))
    return RankedResult(
        rules=rules, turnout=turnout, quorum_met=quorum,
        accepted=ranking[:rules.k] if quorum and preferred else (),
        pairwise=tuple(map(tuple, d)), strongest_paths=tuple(map(tuple, p)), tiers=tiers,
        ranking=ranking, tied_at_cutoff=_tied_at_cutoff(tiers, rules.k) if preferred else ())


# --- entry points ----------------------------------------------------------------------------

def _check(checker, rules: Rules, ballot: Any, index: int) -> None:
    try:
        checker(rules, ballot)
    except InvalidBallot as error:
        raise InvalidBallot(error.code, f"ballots[{index}]", error.detail) from None
    except TypeError:  # unhashable values and the like
        raise InvalidBallot("malformed", f"ballots[{index}]") from None


_TALLIES = {"yes_no": _tally_yes_no, "approval": _tally_approval, "ranked": _tally_ranked}
_CHECKS = {"yes_no": _check_yes_no, "approval": _check_approval, "ranked": _check_ranked}


def check_ballot(rules: Rules, ballot: Any) -> None:
    """Raise InvalidBallot if this one ballot breaks the rules: the check `tally` makes of each
    ballot, without counting (a vote is checked as it is cast)."""
    _check(_CHECKS[rules.method], rules, ballot, 0)


def tally(rules: Rules, ballots: Iterable[Any]) -> Result:
    """Count `ballots` under `rules`; raises InvalidBallot naming the first bad ballot.

    Ballots: yes_no → mapping item → "yes" | "no" | "abstain" (items may be left out);
    approval → collection of at most k item ids; ranked → list of ranks, each a non-empty
    list of item ids, best first, e.g. [["a"], ["b", "c"]]. Empty ballots are valid.
    """
    if isinstance(ballots, (str, bytes, Mapping)):
        raise InvalidBallot("ballots_not_a_list")
    ballots = ballots if isinstance(ballots, Sequence) else list(ballots)
    return _TALLIES[rules.method](rules, ballots)


def canonical_json(document: Any) -> bytes:
    """The one byte encoding that digests are computed over."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def digest(ballots_document: Any) -> str:
    """SHA-256 (hex) of `canonical_json(ballots_document)`, to check a published file."""
    return hashlib.sha256(canonical_json(ballots_document)).hexdigest()


def _canonical_vote(rules: Rules, vote: Any) -> Any:
    position = rules.positions.__getitem__
    if rules.method == "yes_no":
        return dict(vote)
    if rules.method == "approval":
        return sorted(vote, key=position)
    return [sorted(rank, key=position) for rank in vote]


def ballots_document(rules: Rules, ballots: Sequence[Any], receipts: Sequence[str] | None = None,
                     meta: Mapping[str, Any] | None = None) -> dict:
    """Build the publishable document: votes in canonical form, sorted by the vote itself so
    their order reveals nothing; receipts (if any) in a list of their own, sorted apart, so
    that a receipt proves its ballot was counted but not what it says."""
    tally(rules, ballots)  # validates every ballot
    if receipts is not None and len(receipts) != len(ballots):
        raise InvalidDocument("receipts_do_not_match_ballots", "receipts")
    entries = sorted(({"vote": _canonical_vote(rules, vote)} for vote in ballots),
                     key=lambda entry: canonical_json(entry["vote"]))
    document = {"format": FORMAT, "rules": rules.to_dict(), "ballots": entries}
    if receipts is not None:
        document["receipts"] = sorted(receipts)
    if meta is not None:
        document["meta"] = dict(meta)
    receipts_of(document)  # receipts: strings, unique
    return document


def receipts_of(document: Mapping[str, Any]) -> list[str]:
    """The receipts of a document, checked: the separate list (format 2) or beside each vote (format 1)."""
    if "receipts" in document:
        listed = document["receipts"]
        if not isinstance(listed, list):
            raise InvalidDocument("not_a_list", "receipts")
        if len(listed) != len(document["ballots"]):
            raise InvalidDocument("receipts_do_not_match_ballots", "receipts")
        found = [(f"receipts[{index}]", receipt) for index, receipt in enumerate(listed)]
    else:
        found = [(f"ballots[{index}].receipt", entry["receipt"])
                 for index, entry in enumerate(document["ballots"]) if "receipt" in entry]
    seen: set[str] = set()
    for where, receipt in found:
        if not isinstance(receipt, str) or not receipt:
            raise InvalidDocument("invalid_receipt", where)
        if receipt in seen:
            raise InvalidDocument("duplicate_receipt", where, receipt)
        seen.add(receipt)
    return [receipt for _where, receipt in found]


def _read_entries(document: Mapping[str, Any]) -> list[Any]:
    entries = document["ballots"]
    if not isinstance(entries, list):
        raise InvalidDocument("not_a_list", "ballots")
    allowed = {"vote", "receipt"} if document.get("format") == FORMATS[0] else {"vote"}
    votes = []
    for index, entry in enumerate(entries):
        where = f"ballots[{index}]"
        if not isinstance(entry, Mapping) or "vote" not in entry:
            raise InvalidDocument("missing_vote", where)
        if set(entry) - allowed:
            raise InvalidDocument("unknown_key", where, sorted(set(entry) - allowed))
        votes.append(entry["vote"])
    receipts_of(document)
    return votes


def tally_document(doc: Any) -> Result:
    """Recount a ballots document (as parsed from JSON). Schema::

        {"format": "assembly.ballots/2",              # optional; if present, a known format
         "rules": {"method": "yes_no" | "approval" | "ranked", "items": [str, ...],
                   "electorate": int >= 0, "quorum_percent": 0..100 (default 0),
                   "majority": "simple" | "two_thirds" (default "simple"), "k": int (default 1)},
         "ballots": [{"vote": VOTE}, ...],
         "receipts": [str, ...],                      # optional: unique, as many as ballots
         "meta": {...}}                               # optional, not read; covered by the digest

    Format 1 ("assembly.ballots/1") had no "receipts" list but an optional "receipt" beside
    each vote; such files are still read.

    VOTE is a JSON ballot as `tally` takes it: yes_no → {"item": "yes"|"no"|"abstain"},
    approval → ["item", ...], ranked → [["item"], ["item", "item"], ...].
    """
    if not isinstance(doc, Mapping):
        raise InvalidDocument("not_an_object")
    unknown = set(doc) - {"format", "rules", "ballots", "receipts", "meta"}
    if unknown:
        raise InvalidDocument("unknown_key", "", sorted(unknown))
    for key in ("rules", "ballots"):
        if key not in doc:
            raise InvalidDocument("missing_key", key)
    if "format" in doc and doc["format"] not in FORMATS:
        raise InvalidDocument("unknown_format", "format", doc["format"])
    if "meta" in doc and not isinstance(doc["meta"], Mapping):
        raise InvalidDocument("not_an_object", "meta")
    rules = Rules.from_dict(doc["rules"])
    votes = _read_entries(doc)
    try:
        return tally(rules, votes)
    except InvalidBallot as error:  # point into the document: ballots[i].vote
        where = f"{error.where}.vote" if error.where else "ballots"
        raise InvalidBallot(error.code, where, error.detail) from None
