"""Vote counting: hand-checked examples, Schulze examples from the literature, properties."""
from __future__ import annotations

import enum
import hashlib
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assembly.tally import (
    FORMAT, FORMATS, InvalidBallot, InvalidDocument, InvalidRules, Rules, TallyError, ballots_document,
    canonical_json, digest, majority_met, rounded_percent, tally, tally_document,
)


def expand(profile: list[tuple[int, str]]) -> list[list[list[str]]]:
    """[(5, "ACBED"), …] → 5 ballots [["A"], ["C"], ["B"], ["E"], ["D"]], …"""
    return [[[letter] for letter in order] for count, order in profile for _ in range(count)]


def ranked(items: str, ballots: list, k: int = 1, **rules) -> object:
    return tally(Rules("ranked", tuple(items), electorate=rules.pop("electorate", len(ballots)),
                       k=k, **rules), ballots)


# --- yes / no / abstain ----------------------------------------------------------------------

def test_yes_no_counts_every_choice_and_the_items_left_out():
    rules = Rules("yes_no", ("lights", "bins"), electorate=10)
    ballots = [{"lights": "yes", "bins": "no"}, {"lights": "yes"}, {"lights": "no", "bins": "abstain"},
               {}, {"bins": "yes"}]
    result = tally(rules, ballots)
    assert result.turnout == 5  # the empty ballot counts toward turnout
    lights, bins = result.items
    assert (lights.yes, lights.no, lights.abstain, lights.not_voted) == (2, 1, 0, 2)
    assert (bins.yes, bins.no, bins.abstain, bins.not_voted) == (1, 1, 1, 2)
    assert result.accepted == ("lights",)  # bins: 1 yes, 1 no is not a majority
    items = result.to_dict()["items"]
    assert [i["outcome"] for i in items] == ["accepted", "majority_not_met"]
    assert result.to_dict()["explanation"]["majority"] == "yes>no"


@pytest.mark.parametrize(("electorate", "quorum_percent", "turnout", "met"), [
    (40, 10, 4, True),    # exactly 10 % of 40
    (40, 10, 3, False),   # one voter fewer
    (41, 10, 5, True),    # 10 % of 41 is 4.1: five voters are needed …
    (41, 10, 4, False),   # … and four are not enough (no float rounding)
    (3, 34, 2, True),     # 34 % of 3 is 1.02: two voters are needed …
    (3, 34, 1, False),    # … one is not enough
    (0, 50, 0, True),     # an empty electorate: 0 >= 0
    (7, 100, 7, True),
    (7, 100, 6, False),
])
def test_quorum_boundary_uses_integer_arithmetic(electorate, quorum_percent, turnout, met):
    rules = Rules("yes_no", ("x",), electorate=electorate, quorum_percent=quorum_percent)
    assert rules.quorum_met(turnout) is met
    result = tally(rules, [{"x": "yes"}] * turnout)
    assert result.quorum_met is met
    assert result.accepted == (("x",) if met and turnout else ())


def test_quorum_just_missed_rejects_every_item_with_the_reason():
    rules = Rules("yes_no", ("x", "y"), electorate=20, quorum_percent=25)
    assert rules.required_turnout == 5
    missed = tally(rules, [{"x": "yes", "y": "yes"}] * 4)
    assert not missed.quorum_met and missed.accepted == ()
    assert {i["outcome"] for i in missed.to_dict()["items"]} == {"quorum_not_met"}
    assert missed.to_dict()["quorum"] == {"met": False, "required_turnout": 5}
    met = tally(rules, [{"x": "yes", "y": "yes"}] * 4 + [{}])
    assert met.quorum_met and met.accepted == ("x", "y")


@pytest.mark.parametrize(("majority", "yes", "no", "passes"), [
    ("simple", 5, 4, True),
    ("simple", 4, 4, False),
    ("simple", 1, 0, True),
    ("simple", 0, 0, False),
    ("two_thirds", 2, 1, True),     # 3*2 = 6 >= 2*3 = 6: exactly two thirds passes
    ("two_thirds", 20, 10, True),
    ("two_thirds", 19, 10, False),  # 57 < 58: just below two thirds
    ("two_thirds", 3, 2, False),
    ("two_thirds", 1, 0, True),
    ("two_thirds", 0, 0, False),    # nobody said yes
])
def test_majority_rules(majority, yes, no, passes):
    assert majority_met(majority, yes, no) is passes
    rules = Rules("yes_no", ("x",), electorate=100, majority=majority)
    ballots = [{"x": "yes"}] * yes + [{"x": "no"}] * no + [{"x": "abstain"}] * 7
    assert tally(rules, ballots).items[0].accepted is passes


def test_two_thirds_rule_is_stated_in_the_result():
    rules = Rules("yes_no", ("x",), electorate=3, majority="two_thirds")
    explanation = tally(rules, []).to_dict()["explanation"]
    assert explanation["majority"] == "3*yes>=2*(yes+no) and yes>0"
    assert explanation["quorum"] == "turnout*100>=quorum_percent*electorate"


@pytest.mark.parametrize(("ballot", "code"), [
    ({"nope": "yes"}, "unknown_item"),
    ({"x": "maybe"}, "invalid_choice"),
    ({"x": True}, "invalid_choice"),
    (["x"], "not_a_mapping"),
    ({"x": ["yes"]}, "invalid_choice"),
])
def test_invalid_yes_no_ballots_name_the_first_bad_ballot(ballot, code):
    rules = Rules("yes_no", ("x",), electorate=5)
    with pytest.raises(InvalidBallot) as error:
        tally(rules, [{"x": "yes"}, {}, ballot, {"x": "maybe"}])
    assert (error.value.code, error.value.where) == (code, "ballots[2]")
    assert isinstance(error.value, ValueError)


# --- approval --------------------------------------------------------------------------------

def test_approval_ranks_by_approvals_and_accepts_the_top_k():
    rules = Rules("approval", ("park", "lights", "bins", "bench"), electorate=50, k=2)
    ballots = [{"park", "lights"}, ["lights", "bins"], ("lights",), [], ["park"], frozenset({"bins", "park"})]
    result = tally(rules, ballots)
    assert result.turnout == 6
    assert [(c.item, c.approvals) for c in result.counts] == [
        ("park", 3), ("lights", 3), ("bins", 2), ("bench", 0)]
    assert result.ranking == ("park", "lights", "bins", "bench")
    assert result.accepted == ("park", "lights")
    assert result.tied_at_cutoff == ()  # park and lights tie, but both are inside the top 2
    assert result.counts[0].share == Fraction(1, 2)
    assert result.to_dict()["items"][2] == {"item": "bins", "approvals": 2, "share": "1/3"}


def test_approval_tie_at_the_cutoff_is_broken_by_published_order():
    rules = Rules("approval", ("a", "b", "c", "d"), electorate=10, k=2)
    result = tally(rules, [["d", "b"], ["c", "a"], ["d", "c"], ["b"]])
    # d: 2, b: 2, c: 2, a: 1 → three items tie for two places; published order b, c, d
    assert result.ranking == ("b", "c", "d", "a")
    assert result.accepted == ("b", "c")
    assert result.tied_at_cutoff == ("b", "c", "d")
    assert result.to_dict()["explanation"]["tie_break"] == "published_order"


def test_approval_never_accepts_an_item_nobody_approved():
    rules = Rules("approval", ("a", "b", "c"), electorate=10, k=2)
    result = tally(rules, [["a"], [], ["a"]])
    assert result.accepted == ("a",)
    assert result.tied_at_cutoff == ()
    assert tally(rules, []).accepted == ()
    assert tally(rules, []).counts[0].share == 0


def test_priority_survey_percentages_are_exact_and_rounded_only_for_display():
    # the 1,191-answer survey of DESIGN.md: 27 % drugs/alcohol, 26 % violence in public space
    rules = Rules("approval", ("drugs", "violence", "traffic"), electorate=5000, k=1)
    ballots = [["drugs"]] * 322 + [["violence"]] * 310 + [["traffic"]] * 559
    result = tally(rules, ballots)
    drugs, violence, traffic = result.counts
    assert drugs.share == Fraction(322, 1191)
    assert (rounded_percent(drugs.share), rounded_percent(violence.share)) == (Decimal(27), Decimal(26))
    assert rounded_percent(drugs.share, 1) == Decimal("27.0")
    assert rounded_percent(traffic.share, 2) == Decimal("46.94")
    assert sum(c.share for c in result.counts) == 1


@pytest.mark.parametrize(("share", "places", "shown"), [
    (Fraction(1, 8), 0, "13"),      # 12.5 rounds half up
    (Fraction(1, 8), 1, "12.5"),
    (Fraction(1, 3), 1, "33.3"),
    (Fraction(2, 3), 0, "67"),
    (Fraction(0), 1, "0.0"),
    (Fraction(1), 0, "100"),
])
def test_rounded_percent(share, places, shown):
    assert str(rounded_percent(share, places)) == shown


@pytest.mark.parametrize(("ballot", "code"), [
    (["a", "b", "c"], "too_many_approvals"),
    (["a", "zz"], "unknown_item"),
    (["a", "a"], "duplicate_item"),
    ("ab", "not_a_list"),
    ({"a": 1}, "not_a_list"),
    ([1], "unknown_item"),
    ([["a"]], "unknown_item"),
])
def test_invalid_approval_ballots(ballot, code):
    rules = Rules("approval", ("a", "b", "c"), electorate=5, k=2)
    with pytest.raises(InvalidBallot) as error:
        tally(rules, [["a"], ballot])
    assert (error.value.code, error.value.where) == (code, "ballots[1]")


# --- ranked: Schulze, examples from the literature ---------------------------------------------

# Markus Schulze, "A new monotonic, clone-independent, reversal symmetric, and
# condorcet-consistent single-winner election method", Social Choice and Welfare 36 (2011)
# 267–303; the same worked examples are in the Wikipedia/Electowiki article "Schulze method"
# (Examples 1–4). Example 1: 45 voters, 5 candidates.
SCHULZE_EXAMPLE_1 = [(5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"), (7, "CAEBD"),
                     (2, "CBADE"), (7, "DCEBA"), (8, "EBADC")]


def test_schulze_example_1_matrices_and_ranking_from_the_source():
    result = ranked("ABCDE", expand(SCHULZE_EXAMPLE_1))
    data = result.to_dict()
    # d[X,Y] as printed in the source (row X, columns in order, diagonal left out)
    assert data["pairwise"] == {
        "A": {"B": 20, "C": 26, "D": 30, "E": 22},
        "B": {"A": 25, "C": 16, "D": 33, "E": 18},
        "C": {"A": 19, "B": 29, "D": 17, "E": 24},
        "D": {"A": 15, "B": 12, "C": 28, "E": 14},
        "E": {"A": 23, "B": 27, "C": 21, "D": 31},
    }
    # p[X,Y], the strengths of the strongest paths, as printed in the source
    assert data["strongest_paths"] == {
        "A": {"B": 28, "C": 28, "D": 30, "E": 24},
        "B": {"A": 25, "C": 28, "D": 33, "E": 24},
        "C": {"A": 25, "B": 29, "D": 29, "E": 24},
        "D": {"A": 25, "B": 28, "C": 28, "E": 24},
        "E": {"A": 25, "B": 28, "C": 28, "D": 31},
    }
    assert result.accepted == ("E",)  # winner E
    assert result.ranking == ("E", "A", "C", "B", "D")
    assert result.tiers == (("E",), ("A",), ("C",), ("B",), ("D",))
    assert result.tied_at_cutoff == ()
    assert data["explanation"]["method"] == "schulze"


def test_schulze_example_1_with_two_winners_takes_the_top_two():
    assert ranked("ABCDE", expand(SCHULZE_EXAMPLE_1), k=2).accepted == ("E", "A")


def test_schulze_example_2_30_voters_4_candidates():
    # Schulze (2011) / Wikipedia "Schulze method", Example 2: winner D, ranking D > A > C > B
    profile = [(5, "ACBD"), (2, "ACDB"), (3, "ADCB"), (4, "BACD"), (3, "CBDA"), (3, "CDBA"),
               (1, "DACB"), (5, "DBAC"), (4, "DCBA")]
    result = ranked("ABCD", expand(profile))
    assert result.accepted == ("D",)
    assert result.ranking == ("D", "A", "C", "B")


def test_schulze_example_3_30_voters_5_candidates():
    # Schulze (2011) / Wikipedia "Schulze method", Example 3: winner B, ranking B > A > D > E > C
    profile = [(3, "ABDEC"), (5, "ADEBC"), (1, "ADECB"), (2, "BADEC"), (2, "BDECA"), (4, "CABDE"),
               (6, "CBADE"), (2, "DBECA"), (5, "DECAB")]
    result = ranked("ABCDE", expand(profile))
    assert result.accepted == ("B",)
    assert result.ranking == ("B", "A", "D", "E", "C")


def test_schulze_example_4_tie_is_broken_by_published_order():
    # Schulze (2011) / Wikipedia "Schulze method", Example 4 (9 voters): B and D are both
    # potential winners (p[B,D] = p[D,B]), then A and C tie: B ≈ D > A ≈ C.
    profile = [(3, "ABCD"), (2, "DABC"), (2, "DBCA"), (2, "CBDA")]
    result = ranked("ABCD", expand(profile))
    assert result.tiers == (("B", "D"), ("A", "C"))
    assert result.ranking == ("B", "D", "A", "C")
    assert result.accepted == ("B",)
    assert result.tied_at_cutoff == ("B", "D")
    p = result.to_dict()["strongest_paths"]
    assert p["B"]["D"] == p["D"]["B"] and p["A"]["C"] == p["C"]["A"]
    # published in the other order, the same tie goes to D
    assert ranked("DCBA", expand(profile)).accepted == ("D",)
    # two seats: the tied pair fills them both, so no tie-break decided anything
    two = ranked("ABCD", expand(profile), k=2)
    assert (two.accepted, two.tied_at_cutoff) == (("B", "D"), ())


def test_condorcet_cycle_is_a_full_tie():
    result = ranked("abc", [[["a"], ["b"], ["c"]], [["b"], ["c"], ["a"]], [["c"], ["a"], ["b"]]])
    assert result.tiers == (("a", "b", "c"),)
    assert result.accepted == ("a",)
    assert result.tied_at_cutoff == ("a", "b", "c")


# --- ranked: partial rankings, ties, empty ballots ---------------------------------------------

def test_unranked_items_rank_below_ranked_ones_and_tie_among_themselves():
    d = ranked("abcd", [[["b"]]]).to_dict()["pairwise"]
    assert d["b"] == {"a": 1, "c": 1, "d": 1}
    assert d["a"] == {"b": 0, "c": 0, "d": 0}
    assert d["c"]["d"] == d["d"]["c"] == 0


def test_ties_within_a_rank():
    d = ranked("abcd", [[["a"], ["b", "c"], ["d"]]]).to_dict()["pairwise"]
    assert d["a"] == {"b": 1, "c": 1, "d": 1}
    assert d["b"] == {"a": 0, "c": 0, "d": 1}
    assert d["c"] == {"a": 0, "b": 0, "d": 1}
    assert d["d"] == {"a": 0, "b": 0, "c": 0}
    as_sets = ranked("abcd", [[("a",), {"c", "b"}, frozenset({"d"})]]).to_dict()["pairwise"]
    assert as_sets == d


def test_a_complete_ranking_equals_the_same_ranking_without_its_last_rank():
    full = ranked("abc", [[["c"], ["a"], ["b"]]])
    short = ranked("abc", [[["c"], ["a"]]])
    assert full.pairwise == short.pairwise and full.ranking == short.ranking == ("c", "a", "b")


def test_empty_ballots_count_toward_turnout_but_elect_nobody():
    result = ranked("abc", [[], [], []], electorate=10, quorum_percent=30)
    assert result.turnout == 3 and result.quorum_met
    assert result.accepted == () and result.tied_at_cutoff == ()
    assert result.ranking == ("a", "b", "c")
    assert ranked("abc", []).accepted == ()


def test_ranked_quorum_missed_keeps_the_ranking_but_accepts_nothing():
    result = ranked("ABCDE", expand(SCHULZE_EXAMPLE_1), electorate=451, quorum_percent=10)
    assert not result.quorum_met and result.accepted == ()
    assert result.ranking == ("E", "A", "C", "B", "D")
    assert ranked("ABCDE", expand(SCHULZE_EXAMPLE_1), electorate=450, quorum_percent=10).quorum_met


@pytest.mark.parametrize(("ballot", "code"), [
    ([["a"], ["zz"]], "unknown_item"),
    ([["a"], ["b", "a"]], "duplicate_item"),
    ([["a", "a"]], "duplicate_item"),
    ([["a"], []], "empty_rank"),
    ([["a"], "bc"], "rank_not_a_list"),
    (["a", "b"], "rank_not_a_list"),
    ("abc", "not_a_list"),
    ({"a": 1}, "not_a_list"),
    ([[1]], "unknown_item"),
    ([[["a"]]], "unknown_item"),
])
def test_invalid_ranked_ballots_name_the_first_bad_ballot(ballot, code):
    ballots = [[["a"], ["b"]], [], ballot, [["a"], ["a"]]]
    with pytest.raises(InvalidBallot) as error:
        ranked("abc", ballots)
    assert (error.value.code, error.value.where) == (code, "ballots[2]")


# --- rules -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("arguments", "code"), [
    (dict(method="plurality", items=("a",), electorate=1), "unknown_method"),
    (dict(method="ranked", items=(), electorate=1), "no_items"),
    (dict(method="ranked", items=("a", "a"), electorate=1), "duplicate_item"),
    (dict(method="ranked", items=("a", ""), electorate=1), "item_not_a_string"),
    (dict(method="ranked", items="ab", electorate=1), "items_not_a_list"),
    (dict(method="ranked", items=("a",), electorate=-1), "invalid_electorate"),
    (dict(method="ranked", items=("a",), electorate=True), "invalid_electorate"),
    (dict(method="ranked", items=("a",), electorate=1, quorum_percent=101), "invalid_quorum_percent"),
    (dict(method="ranked", items=("a",), electorate=1, majority="most"), "unknown_majority"),
    (dict(method="approval", items=("a", "b"), electorate=1, k=3), "invalid_k"),
    (dict(method="approval", items=("a", "b"), electorate=1, k=0), "invalid_k"),
    (dict(method="yes_no", items=("a", "b"), electorate=1, k=2), "invalid_k"),
])
def test_invalid_rules(arguments, code):
    with pytest.raises(InvalidRules) as error:
        Rules(**arguments)
    assert error.value.code == code


class Majority(str, enum.Enum):  # as the models spell it
    TWO_THIRDS = "two_thirds"


def test_rules_accept_str_enums_and_lists_and_stay_plain_data():
    rules = Rules("yes_no", ["a"], electorate=3, majority=Majority.TWO_THIRDS)
    assert rules == Rules("yes_no", ("a",), electorate=3, majority="two_thirds")
    assert type(rules.majority) is str and rules.items == ("a",)
    assert Rules.from_dict(json.loads(json.dumps(rules.to_dict()))) == rules


# --- documents, digests and the recount --------------------------------------------------------

def test_digest_is_sha256_of_the_canonical_json_encoding():
    document = {"b": [1, 2], "a": "Caferağa – çay", "c": {"z": None, "y": True}}
    expected = '{"a":"Caferağa – çay","b":[1,2],"c":{"y":true,"z":null}}'.encode()
    assert canonical_json(document) == expected
    assert digest(document) == hashlib.sha256(expected).hexdigest()
    assert digest(json.loads(json.dumps(document, indent=2))) == digest(document)


def test_ballots_document_is_canonical_and_recounts_to_the_stored_result():
    rules = Rules("ranked", ("a", "b", "c"), electorate=10, quorum_percent=20)
    ballots = [[["c", "a"], ["b"]], [], [["b"]]]
    document = ballots_document(rules, ballots, receipts=["R-2", "R-3", "R-1"], meta={"ballot": 7})
    assert document == {
        "format": FORMAT,
        "rules": {"method": "ranked", "items": ["a", "b", "c"], "electorate": 10,
                  "quorum_percent": 20, "majority": "simple", "k": 1},
        # Sorted by the vote itself; ties inside a vote in published order.
        "ballots": [{"vote": [["a", "c"], ["b"]]}, {"vote": [["b"]]}, {"vote": []}],
        # The receipts in a list of their own: a receipt shows that a ballot was counted, not which.
        "receipts": ["R-1", "R-2", "R-3"],
        "meta": {"ballot": 7},
    }
    stored = tally(rules, ballots)
    recounted = tally_document(json.loads(canonical_json(document)))
    assert recounted == stored
    assert canonical_json(recounted.to_dict()) == canonical_json(stored.to_dict())


def test_minimal_document_without_format_receipts_or_meta():
    doc = {"rules": {"method": "yes_no", "items": ["x"], "electorate": 4, "quorum_percent": 50},
           "ballots": [{"vote": {"x": "yes"}}, {"vote": {}}]}
    result = tally_document(doc)
    assert result.accepted == ("x",) and result.turnout == 2


GOOD_RULES = {"method": "approval", "items": ["a", "b"], "electorate": 4, "k": 1}


@pytest.mark.parametrize(("doc", "error_type", "code", "where"), [
    ([], InvalidDocument, "not_an_object", ""),
    ({"ballots": []}, InvalidDocument, "missing_key", "rules"),
    ({"rules": GOOD_RULES}, InvalidDocument, "missing_key", "ballots"),
    ({"rules": GOOD_RULES, "ballots": [], "extra": 1}, InvalidDocument, "unknown_key", ""),
    ({"format": "other/9", "rules": GOOD_RULES, "ballots": []}, InvalidDocument, "unknown_format", "format"),
    ({"rules": GOOD_RULES, "ballots": [], "meta": []}, InvalidDocument, "not_an_object", "meta"),
    ({"rules": GOOD_RULES, "ballots": {}}, InvalidDocument, "not_a_list", "ballots"),
    ({"rules": GOOD_RULES, "ballots": [["a"]]}, InvalidDocument, "missing_vote", "ballots[0]"),
    ({"rules": GOOD_RULES, "ballots": [{"vote": [], "who": 1}]}, InvalidDocument, "unknown_key", "ballots[0]"),
    ({"rules": GOOD_RULES, "ballots": [{"vote": [], "receipt": "R"}]}, InvalidDocument, "unknown_key",
     "ballots[0]"),
    ({"format": FORMATS[0], "rules": GOOD_RULES, "ballots": [{"vote": [], "receipt": 5}]}, InvalidDocument,
     "invalid_receipt", "ballots[0].receipt"),
    ({"format": FORMATS[0], "rules": GOOD_RULES,
      "ballots": [{"vote": [], "receipt": "R"}, {"vote": [], "receipt": "R"}]},
     InvalidDocument, "duplicate_receipt", "ballots[1].receipt"),
    ({"rules": GOOD_RULES, "ballots": [{"vote": []}], "receipts": "R"}, InvalidDocument, "not_a_list",
     "receipts"),
    ({"rules": GOOD_RULES, "ballots": [{"vote": []}], "receipts": ["R", "S"]}, InvalidDocument,
     "receipts_do_not_match_ballots", "receipts"),
    ({"rules": GOOD_RULES, "ballots": [{"vote": []}, {"vote": []}], "receipts": ["R", "R"]}, InvalidDocument,
     "duplicate_receipt", "receipts[1]"),
    ({"rules": GOOD_RULES, "ballots": [{"vote": []}], "receipts": [""]}, InvalidDocument, "invalid_receipt",
     "receipts[0]"),
    ({"rules": [], "ballots": []}, InvalidDocument, "not_an_object", "rules"),
    ({"rules": {**GOOD_RULES, "seats": 2}, "ballots": []}, InvalidDocument, "unknown_key", "rules"),
    ({"rules": {"method": "approval", "items": ["a"]}, "ballots": []}, InvalidDocument, "missing_key", "rules"),
    ({"rules": {**GOOD_RULES, "items": "ab"}, "ballots": []}, InvalidDocument, "items_not_a_list",
     "rules.items"),
    ({"rules": {**GOOD_RULES, "k": 3}, "ballots": []}, InvalidDocument, "invalid_k", "rules.k"),
    ({"rules": GOOD_RULES, "ballots": [{"vote": ["a"]}, {"vote": ["a", "b"]}]}, InvalidBallot,
     "too_many_approvals", "ballots[1].vote"),
])
def test_invalid_documents_say_what_and_where(doc, error_type, code, where):
    with pytest.raises(error_type) as error:
        tally_document(doc)
    assert (error.value.code, error.value.where) == (code, where)
    assert isinstance(error.value, TallyError)


def test_results_are_canonical_json_without_floats():
    rules = Rules("approval", ("a", "b", "c"), electorate=9, k=2)
    data = tally(rules, [["a", "b"], ["b"], ["c"]]).to_dict()
    assert json.loads(canonical_json(data)) == data
    assert data["items"][1] == {"item": "b", "approvals": 2, "share": "2/3"}
    assert data["ranking"] == ["b", "a", "c"] and data["accepted"] == ["b", "a"]
    assert data["tied_at_cutoff"] == ["a", "c"]


# --- properties --------------------------------------------------------------------------------

ITEMS = ("a", "b", "c", "d", "e")


@st.composite
def elections(draw):
    """Rules and valid ballots for any method, with repeated ballots to exercise aggregation."""
    method = draw(st.sampled_from(("yes_no", "approval", "ranked")))
    items = tuple(draw(st.permutations(ITEMS))[:draw(st.integers(1, len(ITEMS)))])
    k = 1 if method == "yes_no" else draw(st.integers(1, len(items)))
    rules = Rules(method, items, electorate=draw(st.integers(0, 60)),
                  quorum_percent=draw(st.integers(0, 100)),
                  majority=draw(st.sampled_from(("simple", "two_thirds"))), k=k)
    if method == "yes_no":
        vote = st.dictionaries(st.sampled_from(items), st.sampled_from(("yes", "no", "abstain")))
    elif method == "approval":
        vote = st.lists(st.sampled_from(items), unique=True, max_size=k)
    else:
        vote = st.permutations(items).flatmap(lambda order: st.lists(
            st.integers(0, len(order)), min_size=len(order), max_size=len(order)).map(
            lambda cuts: _ranks(order, cuts)))
    distinct = draw(st.lists(vote, max_size=8))
    ballots = draw(st.lists(st.sampled_from(distinct), max_size=30)) if distinct else []
    return rules, ballots


def _ranks(order, cuts):
    """Split an order into ranks: item i goes to rank cuts[i] (0 = unranked); ranks renumbered."""
    used = sorted({c for c in cuts if c})
    return [[item for item, c in zip(order, cuts) if c == level] for level in used]


def naive_pairwise(items, ballots):
    """Reference: rank position per item, unranked = after all ranks."""
    d = {a: {b: 0 for b in items if b != a} for a in items}
    for ballot in ballots:
        position = {item: len(ballot) for item in items}
        position.update({item: level for level, rank in enumerate(ballot) for item in rank})
        for a in items:
            for b in items:
                if a != b and position[a] < position[b]:
                    d[a][b] += 1
    return d


@settings(max_examples=200)
@given(elections(), st.randoms(use_true_random=False))
def test_permuting_the_ballots_never_changes_the_result(election, random):
    rules, ballots = election
    shuffled = list(ballots)
    random.shuffle(shuffled)
    assert tally(rules, shuffled) == tally(rules, ballots)


@settings(max_examples=200)
@given(elections())
def test_recount_of_the_published_json_equals_the_stored_result(election):
    rules, ballots = election
    stored = tally(rules, ballots)
    doc = ballots_document(rules, ballots)
    assert tally_document(json.loads(json.dumps(doc))) == stored
    assert json.loads(json.dumps(stored.to_dict())) == stored.to_dict()
    assert digest(json.loads(json.dumps(doc))) == digest(doc)


@settings(max_examples=300)
@given(elections().filter(lambda e: e[0].method == "ranked"))
def test_aggregated_pairwise_matrix_equals_the_naive_count(election):
    rules, ballots = election
    result = tally(rules, ballots)
    assert result.to_dict()["pairwise"] == naive_pairwise(rules.items, ballots)
    winners = [a for a in rules.items
               if all(result.to_dict()["pairwise"][a][b] > result.to_dict()["pairwise"][b][a]
                      for b in rules.items if b != a)]
    if winners:  # a Condorcet winner always tops the Schulze ranking
        assert result.ranking[0] == winners[0] and result.tiers[0] == (winners[0],)


def test_tally_module_imports_the_standard_library_only():
    import ast
    import sys
    from pathlib import Path

    from assembly import tally as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
