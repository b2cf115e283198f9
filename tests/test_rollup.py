"""Roll-up of graded KRs to objectives and owners, alignment links and value roll-up, worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from transforms.rollup import (
    alignment,
    distribution,
    kr_weight_shares,
    objective_scores,
    owner_scores,
    value_rollup,
)

NaN = float("nan")
PERSON_TEAM = {"p1": "T1", "p2": "T1", "p3": "T2"}


def graded_krs() -> pd.DataFrame:
    rows = [
        # tier, owner, objective, kr, score, weight, parent objective
        ("person", "p1", "O1", "k1", 0.5, 2.0, "TO1"),
        ("person", "p1", "O1", "k2", 1.0, 1.0, "TO1"),
        ("person", "p1", "O1", "k3", NaN, 1.0, "TO1"),   # no data: leaves the weights
        ("person", "p1", "O2", "k4", 0.2, 1.0, None),
        ("person", "p2", "O3", "k5", NaN, 1.0, "TO1"),
        ("person", "p2", "O3", "k6", NaN, 3.0, "TO1"),   # every KR without data
        ("person", "p3", "O4", "k7", 0.9, 1.0, "TO2"),
        ("person", "p3", "O5", "k8", NaN, 1.0, None),
        ("team", "T1", "TO1", "k9", 0.8, 1.0, "CO1"),
        ("team", "T2", "TO2", "k10", 0.3, 1.0, "CO1"),
        ("company", "ACME", "CO1", "k11", 0.35, 1.0, None),
    ]
    df = pd.DataFrame(rows, columns=["tier", "owner_id", "objective_id", "kr_id", "score", "weight",
                                     "parent_objective_id"])
    df["progress"] = df["score"]  # a closed quarter: progress is the score
    df["objective_title_en"] = df["objective_id"] + " title"
    return df


def _obj(objs: pd.DataFrame, owner: str, objective: str) -> pd.Series:
    sel = objs[(objs["owner_id"] == owner) & (objs["objective_id"] == objective)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_objective_weighted_mean_with_no_data_kr_leaving_weights():
    objs = objective_scores(graded_krs(), 0.4, 0.7)
    o1 = _obj(objs, "p1", "O1")
    # (0.5 * 2 + 1.0 * 1) / (2 + 1) = 2 / 3; k3 (no data, weight 1) is not counted as 0
    assert o1["score"] == pytest.approx(2 / 3)
    assert o1["progress"] == pytest.approx(2 / 3)
    assert o1["status"] == "yellow"
    assert o1["objective_title_en"] == "O1 title"
    assert o1["parent_objective_id"] == "TO1"
    assert _obj(objs, "p1", "O2")["score"] == pytest.approx(0.2)
    assert _obj(objs, "p1", "O2")["status"] == "red"
    # team and company objectives
    assert _obj(objs, "T1", "TO1")["score"] == pytest.approx(0.8)
    assert _obj(objs, "T1", "TO1")["status"] == "green"
    assert _obj(objs, "T2", "TO2")["status"] == "red"
    assert _obj(objs, "ACME", "CO1")["score"] == pytest.approx(0.35)
    assert _obj(objs, "ACME", "CO1")["status"] == "red"
    # one row per (tier, owner, objective): 5 person + 2 team + 1 company
    assert len(objs) == 8


def test_objective_with_only_no_data_krs_is_no_data():
    objs = objective_scores(graded_krs(), 0.4, 0.7)
    o3 = _obj(objs, "p2", "O3")
    assert math.isnan(o3["score"])
    assert o3["status"] == "no_data"


def test_objective_weights_are_relative():
    krs = pd.DataFrame({"tier": ["person"] * 3, "owner_id": ["p1"] * 3, "objective_id": ["O"] * 3,
                        "kr_id": ["a", "b", "c"], "score": [0.0, 0.6, 1.0], "progress": [0.0, 0.6, 1.0],
                        "weight": [0.5, 0.25, 0.25]})
    objs = objective_scores(krs, 0.4, 0.7)
    # 0 * 0.5 + 0.6 * 0.25 + 1.0 * 0.25 = 0.4 (weights sum to 1)
    assert objs["score"].iloc[0] == pytest.approx(0.4)
    assert objs["status"].iloc[0] == "yellow"
    # zero weight: the KR does not count at all
    krs["weight"] = [0.0, 1.0, 1.0]
    assert objective_scores(krs, 0.4, 0.7)["score"].iloc[0] == pytest.approx(0.8)


def test_owner_is_mean_of_objectives():
    objs = objective_scores(graded_krs(), 0.4, 0.7)
    owners = owner_scores(objs, 0.4, 0.7).set_index(["tier", "owner_id"])
    # p1: (2/3 + 0.2) / 2 = 0.4333 -> yellow (not weighted by KR count)
    assert owners.loc[("person", "p1"), "score"] == pytest.approx((2 / 3 + 0.2) / 2)
    assert owners.loc[("person", "p1"), "status"] == "yellow"
    # p2: its only objective has no data -> the owner has no data
    assert math.isnan(owners.loc[("person", "p2"), "score"])
    assert owners.loc[("person", "p2"), "status"] == "no_data"
    # p3: O4 0.9, O5 no data -> 0.9
    assert owners.loc[("person", "p3"), "score"] == pytest.approx(0.9)
    assert owners.loc[("person", "p3"), "status"] == "green"
    assert owners.loc[("team", "T1"), "score"] == pytest.approx(0.8)
    assert owners.loc[("team", "T2"), "status"] == "red"
    assert owners.loc[("company", "ACME"), "score"] == pytest.approx(0.35)
    assert owners.loc[("company", "ACME"), "status"] == "red"


def test_owner_status_uses_progress_mid_quarter():
    objs = pd.DataFrame({"tier": ["person", "person"], "owner_id": ["p1", "p1"], "objective_id": ["A", "B"],
                         "score": [0.3, 0.2], "progress": [0.9, 0.6]})
    owners = owner_scores(objs, 0.4, 0.7)
    # score (0.3 + 0.2) / 2 = 0.25 but progress against pace (0.9 + 0.6) / 2 = 0.75 -> green
    assert owners["score"].iloc[0] == pytest.approx(0.25)
    assert owners["progress"].iloc[0] == pytest.approx(0.75)
    assert owners["status"].iloc[0] == "green"


def test_owner_without_objective_weights_is_not_weighted_and_objectives_share_equally():
    objs = objective_scores(graded_krs(), 0.4, 0.7)
    owners = owner_scores(objs, 0.4, 0.7)
    assert not owners["weighted"].any()
    assert objs["objective_weight"].isna().all()
    # p1: O1 and O2 both graded -> 1/2 each; p3: O4 graded, O5 no data -> 1 and not counted
    assert _obj(objs, "p1", "O1")["weight_share"] == 0.5
    assert _obj(objs, "p1", "O2")["weight_share"] == 0.5
    assert _obj(objs, "p3", "O4")["weight_share"] == 1.0
    assert math.isnan(_obj(objs, "p3", "O5")["weight_share"])


def objective_weighted_krs() -> pd.DataFrame:
    rows = [
        # tier, owner, objective, kr, score, progress, weight, objective weight
        ("person", "p1", "O1", "k1", 0.2, 0.4, 1.0, 1.0),
        ("person", "p1", "O2", "k2", 0.9, 1.0, 2.0, 3.0),
        ("person", "p1", "O2", "k3", NaN, NaN, 5.0, 3.0),   # no data: leaves the KR weights of O2
        ("person", "p1", "O3", "k4", NaN, NaN, 1.0, 4.0),   # an objective with no data: leaves the weights
        ("person", "p2", "O4", "k5", 1.0, 1.0, 1.0, 0.0),   # weight 0: graded, but counts for nothing
        ("person", "p2", "O5", "k6", 0.4, 0.4, 1.0, 2.0),
        ("person", "p3", "O6", "k7", 0.2, 0.2, 1.0, 2.0),   # p3 weights O6 only: not a weighted owner
        ("person", "p3", "O7", "k8", 0.6, 0.6, 1.0, NaN),
        ("person", "p4", "O8", "k9", 0.1, 0.1, 1.0, 1.0),   # O8's KR rows disagree (1 and 3): no weight
        ("person", "p4", "O8", "k10", 0.3, 0.3, 1.0, 3.0),
        ("person", "p4", "O9", "k11", 0.8, 0.8, 1.0, 1.0),
    ]
    return pd.DataFrame(rows, columns=["tier", "owner_id", "objective_id", "kr_id", "score", "progress", "weight",
                                       "objective_weight"])


def test_owner_with_objective_weights_is_their_weighted_mean_over_graded_objectives():
    objs = objective_scores(objective_weighted_krs(), 0.4, 0.7)
    owners = owner_scores(objs, 0.4, 0.7).set_index(["tier", "owner_id"])
    p1 = owners.loc[("person", "p1")]
    # O1 = 0.2 (weight 1), O2 = 0.9 (weight 3; k3 has no data), O3 no data (weight 4, left out):
    # (0.2 * 1 + 0.9 * 3) / (1 + 3) = 2.9 / 4 = 0.725 -> green; the plain mean would be 0.55 (yellow)
    assert bool(p1["weighted"]) is True
    assert p1["score"] == pytest.approx(0.725)
    assert p1["status"] == "green"
    # progress is weighted the same way: (0.4 * 1 + 1.0 * 3) / 4 = 0.85
    assert p1["progress"] == pytest.approx(0.85)
    # the shares shown are the ones used: 1/4 and 3/4 of the graded objectives' weights, none for O3
    assert _obj(objs, "p1", "O1")["weight_share"] == 0.25
    assert _obj(objs, "p1", "O2")["weight_share"] == 0.75
    assert math.isnan(_obj(objs, "p1", "O3")["weight_share"])
    assert _obj(objs, "p1", "O3")["objective_weight"] == 4.0
    # p2: O4 (1.0) weighs 0, O5 (0.4) weighs 2: (1.0 * 0 + 0.4 * 2) / 2 = 0.4
    assert bool(owners.loc[("person", "p2"), "weighted"]) is True
    assert owners.loc[("person", "p2"), "score"] == pytest.approx(0.4)
    assert _obj(objs, "p2", "O4")["weight_share"] == 0.0
    assert _obj(objs, "p2", "O5")["weight_share"] == 1.0


def test_owner_weighting_only_some_objectives_or_with_disagreeing_rows_takes_the_plain_mean():
    objs = objective_scores(objective_weighted_krs(), 0.4, 0.7)
    owners = owner_scores(objs, 0.4, 0.7).set_index(["tier", "owner_id"])
    # p3: O6 has a weight, O7 none -> plain mean (0.2 + 0.6) / 2 = 0.4, shares 1/2 each
    assert bool(owners.loc[("person", "p3"), "weighted"]) is False
    assert owners.loc[("person", "p3"), "score"] == pytest.approx(0.4)
    assert _obj(objs, "p3", "O6")["weight_share"] == 0.5
    # p4: O8's KR rows say 1 and 3 -> O8 has no objective weight, flagged; O8 = (0.1 + 0.3) / 2 = 0.2
    o8 = _obj(objs, "p4", "O8")
    assert math.isnan(o8["objective_weight"])
    assert bool(o8["objective_weight_conflict"]) is True
    assert bool(_obj(objs, "p4", "O9")["objective_weight_conflict"]) is False
    # -> p4 is not weighted: (0.2 + 0.8) / 2 = 0.5
    assert bool(owners.loc[("person", "p4"), "weighted"]) is False
    assert owners.loc[("person", "p4"), "score"] == pytest.approx(0.5)


def test_owner_whose_graded_objectives_all_weigh_zero_has_no_score():
    krs = pd.DataFrame({"tier": ["person"] * 2, "owner_id": ["p1"] * 2, "objective_id": ["A", "B"],
                        "kr_id": ["a", "b"], "score": [0.9, NaN], "progress": [0.9, NaN], "weight": [1.0, 1.0],
                        "objective_weight": [0.0, 5.0]})
    objs = objective_scores(krs, 0.4, 0.7)
    owner = owner_scores(objs, 0.4, 0.7).iloc[0]
    # A is graded but weighs 0; B weighs 5 but has no data: nothing is left to average
    assert math.isnan(owner["score"])
    assert owner["status"] == "no_data"
    assert objs["weight_share"].isna().all()


def test_kr_weight_shares_are_the_weights_the_objective_used():
    krs = objective_weighted_krs()
    shares = kr_weight_shares(krs)
    # O1: k1 alone -> 1; O2: k2 (weight 2) is graded, k3 (weight 5) has no data -> k2 carries all of O2;
    # O3: k4 has no data -> no share
    assert shares.iloc[0] == 1.0
    assert shares.iloc[1] == 1.0
    assert math.isnan(shares.iloc[2])
    assert math.isnan(shares.iloc[3])
    # O8: two graded KRs of weight 1 -> 1/2 each
    assert shares.iloc[8] == 0.5 and shares.iloc[9] == 0.5
    krs = graded_krs()
    shares = kr_weight_shares(krs)
    # p1's O1: k1 weight 2, k2 weight 1, k3 no data -> 2/3, 1/3, none
    assert shares.iloc[0] == pytest.approx(2 / 3)
    assert shares.iloc[1] == pytest.approx(1 / 3)
    assert math.isnan(shares.iloc[2])


def test_alignment_links_person_to_team_to_company():
    objs = objective_scores(graded_krs(), 0.4, 0.7)
    links = alignment(objs, PERSON_TEAM, "ACME")
    got = {
        (r.parent_tier, r.parent_owner_id, r.parent_objective_id, r.tier, r.owner_id, r.child_objective_id)
        for r in links.itertuples()
    }
    assert got == {
        ("team", "T1", "TO1", "person", "p1", "O1"),
        ("team", "T1", "TO1", "person", "p2", "O3"),
        ("team", "T2", "TO2", "person", "p3", "O4"),
        ("company", "ACME", "CO1", "team", "T1", "TO1"),
        ("company", "ACME", "CO1", "team", "T2", "TO2"),
    }
    # the child's score and status travel with the link
    p1 = links[(links["owner_id"] == "p1")].iloc[0]
    assert p1["score"] == pytest.approx(2 / 3)
    assert p1["status"] == "yellow"


# -- value roll-up --------------------------------------------------------------------------------------------

def value_krs() -> pd.DataFrame:
    rows = [
        # tier, owner, kr, actual, target, rows, rollup, rollup_from
        ("person", "p1", "rev_p", 100.0, 150.0, 3, "score", None),
        ("person", "p2", "rev_p", 200.0, 250.0, 4, "score", None),
        ("person", "p3", "rev_p", 50.0, 100.0, 1, "score", None),
        ("team", "T1", "rev_t", 320.0, 400.0, 9, "value", "rev_p"),   # children 150 + 250 = 400: adds up
        ("team", "T2", "rev_t", 60.0, 120.0, 2, "value", "rev_p"),    # child 100 != 120: warn
        ("team", "T1", "other", 7.0, 10.0, 1, "score", None),         # not a value roll-up: untouched
    ]
    df = pd.DataFrame(rows, columns=["tier", "owner_id", "kr_id", "actual", "target", "rows", "rollup",
                                     "rollup_from"])
    df["lineage_filter"] = "metric"
    return df


def test_value_rollup_sums_children_and_warns_when_targets_do_not_add_up():
    out, warnings = value_rollup(value_krs(), PERSON_TEAM, "ACME")
    out = out.set_index(["tier", "owner_id", "kr_id"])
    # T1 = p1 + p2 = 100 + 200; T2 = p3 = 50 (p3 is the only member of T2 holding rev_p)
    assert out.loc[("team", "T1", "rev_t"), "actual"] == 300.0
    assert out.loc[("team", "T2", "rev_t"), "actual"] == 50.0
    assert out.loc[("team", "T1", "rev_t"), "rows"] == 7   # 3 + 4
    assert out.loc[("team", "T1", "rev_t"), "lineage_filter"] == "sum of 2 person values of rev_p"
    assert out.loc[("team", "T1", "rev_t"), "rollup_children"] == 2  # the card's lineage names them
    # persons and non-value KRs unchanged
    assert out.loc[("person", "p1", "rev_p"), "actual"] == 100.0
    assert out.loc[("team", "T1", "other"), "actual"] == 7.0
    # T1's targets add up (150 + 250 = 400); T2's do not (100 vs 120)
    assert warnings == [{"tier": "team", "owner_id": "T2", "kr_id": "rev_t", "parent_target": 120.0,
                         "children_target": 100.0}]


def test_value_rollup_no_warning_when_targets_add_up_within_tolerance():
    krs = value_krs()
    krs.loc[krs["owner_id"] == "T2", "target"] = 100.5   # within 1 % of the children's 100
    _, warnings = value_rollup(krs, PERSON_TEAM, "ACME")
    assert warnings == []
    krs.loc[krs["owner_id"] == "T2", "target"] = 102.0   # 2 % off
    _, warnings = value_rollup(krs, PERSON_TEAM, "ACME")
    assert [w["owner_id"] for w in warnings] == ["T2"]


def test_value_rollup_company_sums_teams():
    krs = pd.DataFrame(
        [
            ("team", "T1", "rev_t", 300.0, 400.0, 7, "score", None),
            ("team", "T2", "rev_t", 50.0, 100.0, 1, "score", None),
            ("company", "ACME", "rev_c", 999.0, 500.0, 0, "value", "rev_t"),
        ],
        columns=["tier", "owner_id", "kr_id", "actual", "target", "rows", "rollup", "rollup_from"],
    )
    krs["lineage_filter"] = ""
    out, warnings = value_rollup(krs, PERSON_TEAM, "ACME")
    company = out[out["tier"] == "company"].iloc[0]
    assert company["actual"] == 350.0   # 300 + 50
    assert company["rows"] == 8
    assert warnings == []               # 400 + 100 = 500


def test_value_rollup_chain_uses_rolled_up_team_values():
    # person -> team -> company: the company must add up the teams' rolled-up actuals (300 and 50),
    # the values the team scorecards show, not what the teams had before their own roll-up (320, 60).
    krs = value_krs()
    company = pd.DataFrame([("company", "ACME", "rev_c", 0.0, 520.0, 0, "value", "rev_t", "metric")],
                           columns=krs.columns)
    krs = pd.concat([krs, company], ignore_index=True)
    out, _ = value_rollup(krs, PERSON_TEAM, "ACME")
    assert out[out["kr_id"] == "rev_c"]["actual"].iloc[0] == 350.0


def test_value_rollup_without_value_krs_is_a_no_op():
    krs = value_krs()
    krs["rollup"] = "score"
    out, warnings = value_rollup(krs, PERSON_TEAM, "ACME")
    assert warnings == []
    pd.testing.assert_frame_equal(out, krs)


# -- distribution ---------------------------------------------------------------------------------------------

def test_distribution_counts_statuses_and_missing_members():
    owners = pd.DataFrame({"tier": ["person"] * 4, "owner_id": ["p1", "p2", "p3", "p9"],
                           "status": ["green", "red", "green", "yellow"]})
    # members of a team: p1, p2, p3 and p4 (p4 has no scorecard row -> no data); p9 is not a member
    d = distribution(owners, pd.Series(["p1", "p2", "p3", "p4"]))
    assert d == {"red": 1, "yellow": 0, "green": 2, "no_data": 1}


def test_distribution_of_teams_for_the_company():
    objs = objective_scores(graded_krs(), 0.4, 0.7)
    owners = owner_scores(objs, 0.4, 0.7)
    teams = owners[owners["tier"] == "team"]
    # T1 0.8 green, T2 0.3 red
    assert distribution(teams, pd.Series(["T1", "T2"])) == {"red": 1, "yellow": 0, "green": 1, "no_data": 0}
    persons = owners[owners["tier"] == "person"]
    # p1 yellow, p2 no data, p3 green
    assert distribution(persons, pd.Series(["p1", "p2", "p3"])) == {"red": 0, "yellow": 1, "green": 1,
                                                                    "no_data": 1}
