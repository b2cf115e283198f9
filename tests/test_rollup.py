"""Roll-up of graded KRs to objectives and owners, alignment links and value roll-up, worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from transforms.rollup import alignment, distribution, objective_scores, owner_scores, value_rollup

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
