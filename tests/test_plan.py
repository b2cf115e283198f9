"""Plan expansion: owner patterns, specific rows overriding patterns, and stepped targets before the due quarter."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from transforms.calendar import Quarter
from transforms.metrics import Org
from transforms.plan import expand_plan, objective_weight_problems, owners_for, quarter_target
from transforms.problems import Problem

Q4 = Quarter(2017, 4, 4)   # [2018-01-01, 2018-04-01)
NaN = float("nan")


def org() -> Org:
    people = pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "team_id": ["T1", "T1", "T2", "T2", None, "T2"],
            "role": ["sales", "manager", "sales", "sales", "sales", "sales"],
            "started_at": pd.to_datetime(["2016-01-01", "2016-01-01", "2017-06-01", "2016-01-01", "2016-01-01",
                                          "2018-03-15"]),
            # p4 left in the summer of 2017: not active in Q4. p6 joined mid-March: active in Q4.
            "ended_at": pd.to_datetime([pd.NaT, pd.NaT, pd.NaT, "2017-06-30", pd.NaT, pd.NaT]),
        }
    )
    return Org("ACME", people, ["T1", "T2"])


# -- owners_for -----------------------------------------------------------------------------------------------

def test_star_for_company_and_teams():
    o = org()
    assert owners_for("*", "company", o, Q4) == ["ACME"]
    assert owners_for("ACME", "company", o, Q4) == ["ACME"]
    assert owners_for("OTHER", "company", o, Q4) == []
    assert owners_for("*", "team", o, Q4) == ["T1", "T2"]
    assert owners_for("T2", "team", o, Q4) == ["T2"]


def test_star_for_persons_is_every_active_person_with_a_team():
    # p4 left before Q4; p5 has no team; p6 joined during Q4
    assert sorted(owners_for("*", "person", org(), Q4)) == ["p1", "p2", "p3", "p6"]


def test_team_and_role_patterns():
    o = org()
    assert sorted(owners_for("team:T1", "person", o, Q4)) == ["p1", "p2"]
    assert sorted(owners_for("team:T2", "person", o, Q4)) == ["p3", "p6"]   # p4 is no longer active
    assert owners_for("team:T9", "person", o, Q4) == []
    assert sorted(owners_for("role:sales", "person", o, Q4)) == ["p1", "p3", "p6"]  # p5 has no team
    assert owners_for("role:manager", "person", o, Q4) == ["p2"]
    assert owners_for("p2", "person", o, Q4) == ["p2"]


def test_active_people_depend_on_the_quarter():
    # in FY2017-18 Q1 ([2017-04-01, 2017-07-01)) p4 was still there, p3 joined in June, p6 not yet
    assert sorted(owners_for("*", "person", org(), Quarter(2017, 1, 4))) == ["p1", "p2", "p3", "p4"]


def test_role_pattern_without_role_column_matches_nobody():
    o = org()
    o = Org(o.company_id, o.people.drop(columns="role"), o.team_ids)
    # there are no roles to match: the pattern must not turn into an owner literally named "role:sales"
    assert owners_for("role:sales", "person", o, Q4) == []


# -- expand_plan ----------------------------------------------------------------------------------------------

def plan_frame() -> pd.DataFrame:
    rows = [
        # tier, owner, objective, kr, metric, target, weight
        ("company", "*", "CO1", "c1", "rev", 1000.0, NaN),
        ("team", "*", "TO1", "t1", "rev", 400.0, 2.0),
        ("team", "T2", "TO1", "t1", "rev", 99.0, NaN),        # overrides the '*' row for T2
        ("person", "*", "PO1", "k1", "won", 10.0, NaN),
        ("person", "p3", "PO1", "k1", "won", 7.0, NaN),       # overrides '*' for p3
        ("person", "team:T1", "PO2", "k2", "calls", 50.0, NaN),
        ("person", "role:sales", "PO3", "k3", "demos", 5.0, NaN),
    ]
    return pd.DataFrame(rows, columns=["tier", "owner_id", "objective_id", "kr_id", "metric", "target", "weight"])


def test_expand_plan_patterns_and_overrides():
    out = expand_plan(plan_frame(), org(), Q4)
    got = {(r.tier, r.owner_id, r.kr_id): r.target for r in out.itertuples()}
    assert got == {
        ("company", "ACME", "c1"): 1000.0,
        ("team", "T1", "t1"): 400.0,
        ("team", "T2", "t1"): 99.0,     # specific row wins
        ("person", "p1", "k1"): 10.0,
        ("person", "p2", "k1"): 10.0,
        ("person", "p3", "k1"): 7.0,    # specific row wins
        ("person", "p6", "k1"): 10.0,
        ("person", "p1", "k2"): 50.0,
        ("person", "p2", "k2"): 50.0,
        ("person", "p1", "k3"): 5.0,
        ("person", "p3", "k3"): 5.0,
        ("person", "p6", "k3"): 5.0,
    }
    # one row per (tier, owner, KR)
    assert not out.duplicated(["tier", "owner_id", "kr_id"]).any()
    # company first, then teams, then persons
    assert out["tier"].tolist()[:3] == ["company", "team", "team"]
    assert set(out["tier"].tolist()[3:]) == {"person"}
    assert "_specific" not in out.columns


def test_expand_plan_override_wins_regardless_of_row_order():
    plan = plan_frame().iloc[::-1].reset_index(drop=True)   # specific rows now come before the patterns
    out = expand_plan(plan, org(), Q4).set_index(["tier", "owner_id", "kr_id"])
    assert out.loc[("team", "T2", "t1"), "target"] == 99.0
    assert out.loc[("person", "p3", "k1"), "target"] == 7.0
    assert out.loc[("person", "p1", "k1"), "target"] == 10.0


def test_expand_plan_fills_defaults():
    out = expand_plan(plan_frame(), org(), Q4).set_index(["tier", "owner_id", "kr_id"])
    row = out.loc[("company", "ACME", "c1")]
    assert row["direction"] == "increase"
    assert row["weight"] == 1.0                 # blank weight -> default 1
    assert row["quarterly_value"] == "period"
    assert row["rollup"] == "score"
    assert bool(row["partial_credit"]) is False
    assert math.isnan(row["baseline"])
    assert out.loc[("team", "T1", "t1"), "weight"] == 2.0   # given weight kept


def test_expand_plan_with_no_owners_is_empty():
    plan = pd.DataFrame([("person", "team:T9", "O", "k", "m", 1.0)],
                        columns=["tier", "owner_id", "objective_id", "kr_id", "metric", "target"])
    out = expand_plan(plan, org(), Q4)
    assert out.empty
    assert "kr_id" in out.columns


# -- stepped targets ------------------------------------------------------------------------------------------

def test_quarter_target_linear_share_before_due_quarter():
    baseline = pd.Series([4.0, 4.0, 4.0, 0.0, NaN, 1.0])
    target = pd.Series([10.0, 10.0, 10.0, 100.0, 10.0, 2.5])
    due = pd.Series([2, 2, 2, 4, 2, np.nan])
    # q1 of due q2: 4 + (10 - 4) * 1/2 = 7; q1 of due q4 from 0 to 100: 25; no baseline or due: unchanged
    assert quarter_target(baseline, target, due, 1).tolist() == pytest.approx([7, 7, 7, 25, 10, 2.5])
    # due quarter and after: the full target
    assert quarter_target(baseline, target, due, 2).tolist() == pytest.approx([10, 10, 10, 50, 10, 2.5])
    # q3 of due q4: 0 + 100 * 3/4 = 75
    assert quarter_target(baseline, target, due, 3).tolist() == pytest.approx([10, 10, 10, 75, 10, 2.5])


def test_quarter_target_for_a_decrease():
    # lost leads from 200 down to 170 by Q4: Q2 aims halfway, 200 - 30 * 2/4 = 185
    assert quarter_target(pd.Series([200.0]), pd.Series([170.0]), pd.Series([4]), 2).iloc[0] == pytest.approx(185)


def test_expand_plan_applies_stepped_target():
    plan = pd.DataFrame(
        [("team", "*", "TO1", "hc", "headcount_x", 1.0, 2.5, 2)],
        columns=["tier", "owner_id", "objective_id", "kr_id", "metric", "baseline", "target", "due_quarter"],
    )
    # headcount x2.5 by Q2: in Q1 the target is 1 + 1.5 * 1/2 = 1.75; in Q4 it is 2.5
    q1 = expand_plan(plan, org(), Quarter(2017, 1, 4))
    assert q1["target"].tolist() == pytest.approx([1.75, 1.75])
    q4 = expand_plan(plan, org(), Q4)
    assert q4["target"].tolist() == pytest.approx([2.5, 2.5])
    assert q4["owner_id"].tolist() == ["T1", "T2"]


# -- objective weights ----------------------------------------------------------------------------------------

def weighted_plan(weights: list[float]) -> pd.DataFrame:
    """Six KR rows indexed by spreadsheet row (2-7), with the given objective weights."""
    rows = [
        # tier, owner, objective, kr
        ("person", "*", "PO1", "k1"),
        ("person", "*", "PO1", "k2"),
        ("person", "*", "PO2", "k3"),
        ("person", "p3", "PO9", "k9"),      # another owner as written: weighted on its own
        ("team", "*", "TO1", "t1"),
        ("team", "*", "TO2", "t2"),
    ]
    df = pd.DataFrame(rows, columns=["tier", "owner_id", "objective_id", "kr_id"], index=range(2, 8))
    df["objective_weight"] = weights
    return df


def problems(plan: pd.DataFrame) -> list[Problem]:
    return objective_weight_problems(plan, "plan.xlsx", "plan", {"objective_weight": "Objective Weight"})


def test_objective_weights_given_consistently_are_no_problem():
    # every KR row of an objective repeats its weight; p3 (as written) weights its one objective; teams none
    assert problems(weighted_plan([2.0, 2.0, 1.0, 5.0, NaN, NaN])) == []
    # no weights anywhere: the plan does not weight objectives at all
    assert problems(weighted_plan([NaN] * 6)) == []
    assert problems(weighted_plan([2.0, 2.0, 1.0, 5.0, NaN, NaN]).drop(columns="objective_weight")) == []


def test_objective_weight_conflict_names_file_row_column_and_value():
    got = problems(weighted_plan([2.0, 3.0, 1.0, NaN, NaN, NaN]))
    assert got == [Problem("plan.xlsx", "expected 2, the objective weight given on row 2 for objective 'PO1' of "
                                        "owner '*' (every KR row of one objective and owner carries the same "
                                        "weight)", sheet="plan", row=3, column="Objective Weight", value=3.0)]
    assert str(got[0]) == ("plan.xlsx, sheet 'plan', row 3, column 'Objective Weight': value 3: expected 2, the "
                           "objective weight given on row 2 for objective 'PO1' of owner '*' (every KR row of one "
                           "objective and owner carries the same weight)")


def test_objective_weight_left_blank_on_one_kr_row_is_a_conflict():
    got = problems(weighted_plan([NaN, 2.0, 1.0, NaN, NaN, NaN]))
    assert got == [Problem("plan.xlsx", "the cell is empty: expected 2, the objective weight given on row 3 for "
                                        "objective 'PO1' of owner '*' (every KR row of one objective and owner "
                                        "carries the same weight)", sheet="plan", row=2, column="Objective Weight")]


def test_an_owner_weighting_only_some_objectives_is_a_problem():
    # teams '*': TO1 has weight 4, TO2 none
    got = problems(weighted_plan([NaN, NaN, NaN, NaN, 4.0, NaN]))
    assert got == [Problem("plan.xlsx", "the cell is empty: expected an objective weight for objective 'TO2', as "
                                        "owner '*' weights its other objectives (TO1); weight every objective of "
                                        "an owner or none", sheet="plan", row=7, column="Objective Weight")]


def test_expand_plan_keeps_objective_weights_and_leaves_them_blank_by_default():
    plan = plan_frame()
    plan["objective_weight"] = [NaN, 3.0, 3.0, NaN, NaN, NaN, NaN]
    out = expand_plan(plan, org(), Q4).set_index(["tier", "owner_id", "kr_id"])
    assert out.loc[("team", "T1", "t1"), "objective_weight"] == 3.0
    assert out.loc[("team", "T2", "t1"), "objective_weight"] == 3.0
    assert math.isnan(out.loc[("person", "p1", "k1"), "objective_weight"])
    assert expand_plan(plan_frame(), org(), Q4)["objective_weight"].isna().all()   # no column: blank
