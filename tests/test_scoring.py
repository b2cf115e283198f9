"""Grading: attainment, score, status bands and pace, with every expected value worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from transforms.calendar import Quarter
from transforms.config import MetricDef
from transforms.key_results import compute_actuals
from transforms.metrics import Engine, Org
from transforms.scoring import NO_DATA, attainment, grade, pace, score, status

NaN = float("nan")


def att(actual, baseline, target, direction) -> float:
    """Attainment of one KR."""
    s = attainment(pd.Series([actual], dtype="float64"), pd.Series([baseline], dtype="float64"),
                   pd.Series([target], dtype="float64"), pd.Series([direction]))
    return float(s.iloc[0])


# -- attainment by direction ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "actual, baseline, target, expected",
    [
        (15, 10, 20, 0.5),     # (15 - 10) / (20 - 10)
        (20, 10, 20, 1.0),
        (25, 10, 20, 1.5),     # over-achievement kept in attainment
        (5, 10, 20, -0.5),     # fell below the baseline
        (15, NaN, 20, 0.75),   # no baseline: from zero, 15 / 20
        (0, NaN, 20, 0.0),
    ],
)
def test_attainment_increase(actual, baseline, target, expected):
    assert att(actual, baseline, target, "increase") == pytest.approx(expected)


@pytest.mark.parametrize(
    "actual, baseline, target, expected",
    [
        (90, 100, 80, 0.5),    # (90 - 100) / (80 - 100) = -10 / -20
        (80, 100, 80, 1.0),
        (70, 100, 80, 1.5),    # better than the target
        (110, 100, 80, -0.5),  # worse than the baseline
        (100, NaN, 80, 0.8),   # no baseline: target / actual = 80 / 100
        (40, NaN, 80, 2.0),    # 80 / 40
    ],
)
def test_attainment_decrease(actual, baseline, target, expected):
    assert att(actual, baseline, target, "decrease") == pytest.approx(expected)


def test_attainment_decrease_to_zero_actual_without_baseline_is_full_marks():
    # nothing left (0 complaints) against a target of 5: as good as it gets
    a = att(0, NaN, 5, "decrease")
    assert a >= 1.0
    assert float(score(pd.Series([a])).iloc[0]) == 1.0


@pytest.mark.parametrize(
    "actual, baseline, target, expected",
    [
        (75, 50, 100, 0.5),    # not yet at the threshold: (75 - 50) / (100 - 50)
        (100, 50, 100, 1.0),   # threshold reached
        (120, 50, 100, 1.4),   # (120 - 50) / 50, over-achievement kept
        (75, NaN, 100, 0.75),  # no baseline: 75 / 100
        (30, 50, 100, -0.4),   # (30 - 50) / 50
    ],
)
def test_attainment_at_least(actual, baseline, target, expected):
    assert att(actual, baseline, target, "at_least") == pytest.approx(expected)


def test_attainment_at_least_met_from_a_better_baseline_is_full_marks():
    # "stay at least 90" from 95: 92 still meets it. Linear would be (92 - 95) / (90 - 95) = 0.6
    assert att(92, 95, 90, "at_least") == pytest.approx(1.0)
    assert att(90, 95, 90, "at_least") == pytest.approx(1.0)


def test_attainment_at_least_missed_from_a_better_baseline_is_not_full_marks():
    # "stay at least 90" from 95, actual 85: the threshold is missed, so the KR cannot score 1.0.
    # (The linear formula gives (85 - 95) / (90 - 95) = 2.0 here, which would read as over-achievement.)
    a = att(85, 95, 90, "at_least")
    assert a < 1.0
    assert status(score(pd.Series([a])), 0.4, 0.7).iloc[0] != "green"


@pytest.mark.parametrize(
    "actual, baseline, target, expected",
    [
        (25, 30, 20, 0.5),     # (25 - 30) / (20 - 30)
        (20, 30, 20, 1.0),
        (10, 30, 20, 2.0),     # (10 - 30) / -10, comfortably under the cap
        (25, NaN, 20, 0.8),    # no baseline: 20 / 25
        (15, NaN, 20, 20 / 15),  # met without baseline: 1.33, at least 1
        (35, 30, 20, -0.5),    # (35 - 30) / -10
    ],
)
def test_attainment_at_most(actual, baseline, target, expected):
    assert att(actual, baseline, target, "at_most") == pytest.approx(expected)


def test_attainment_at_most_met_from_a_better_baseline_is_full_marks():
    # "stay at most 20" from 10; 15 still meets it. Linear would be (15 - 10) / (20 - 10) = 0.5
    assert att(15, 10, 20, "at_most") == pytest.approx(1.0)


def test_attainment_at_most_missed_from_a_better_baseline_is_not_full_marks():
    # "stay at most 20" from 10, actual 25 breaks the cap: linear gives (25 - 10) / (20 - 10) = 1.5
    a = att(25, 10, 20, "at_most")
    assert a < 1.0
    assert status(score(pd.Series([a])), 0.4, 0.7).iloc[0] != "green"


@pytest.mark.parametrize(
    "actual, direction, expected",
    [
        (50, "increase", 1.0),   # baseline == target == 50: reached
        (60, "increase", 1.0),   # all or nothing, no 1.2
        (49, "increase", 0.0),
        (50, "decrease", 1.0),
        (40, "decrease", 1.0),
        (60, "decrease", 0.0),
        (50, "at_least", 1.0),
        (49, "at_least", 0.0),
        (51, "at_most", 0.0),
    ],
)
def test_attainment_baseline_equals_target(actual, direction, expected):
    assert att(actual, 50, 50, direction) == pytest.approx(expected)


def test_attainment_no_data_stays_no_data():
    a = attainment(pd.Series([NaN, NaN], dtype="float64"), pd.Series([0.0, NaN]), pd.Series([10.0, 10.0]),
                   pd.Series(["increase", "decrease"]))
    assert a.isna().all()


# -- score and status -----------------------------------------------------------------------------------------

def test_score_clips_but_attainment_keeps_over_achievement():
    krs = pd.DataFrame(
        {
            "actual": [150.0, -20.0, 50.0],
            "baseline": [0.0, 0.0, 0.0],
            "target": [100.0, 100.0, 100.0],
            "direction": ["increase"] * 3,
            "quarterly_value": ["period"] * 3,
        }
    )
    g = grade(krs, 0.4, 0.7)
    # 150 / 100 = 1.5 -> score 1.0; -20 / 100 = -0.2 -> score 0.0; 0.5 stays
    assert g["attainment"].tolist() == pytest.approx([1.5, -0.2, 0.5])
    assert g["score"].tolist() == pytest.approx([1.0, 0.0, 0.5])
    assert g["status"].tolist() == ["green", "red", "yellow"]


def test_status_band_edges_default():
    p = pd.Series([0.0, 0.39999, 0.4, 0.69999, 0.7, 1.0, NaN])
    assert status(p, 0.4, 0.7).tolist() == ["red", "red", "yellow", "yellow", "green", "green", NO_DATA]


def test_status_band_edges_from_computed_scores():
    # (4 - 0) / (10 - 0) = 0.4 and (7 - 0) / (10 - 0) = 0.7 land exactly on the edges
    krs = pd.DataFrame({"actual": [4.0, 7.0, 3.9], "baseline": [0.0] * 3, "target": [10.0] * 3,
                        "direction": ["increase"] * 3, "quarterly_value": ["period"] * 3})
    assert grade(krs, 0.4, 0.7)["status"].tolist() == ["yellow", "green", "red"]


def test_custom_bands():
    p = pd.Series([0.29, 0.3, 0.59, 0.6])
    assert status(p, 0.3, 0.6).tolist() == ["red", "yellow", "yellow", "green"]
    krs = pd.DataFrame({"actual": [5.0], "baseline": [0.0], "target": [10.0], "direction": ["increase"],
                        "quarterly_value": ["period"]})
    # 0.5 is yellow by default but green when green starts at 0.5
    assert grade(krs, 0.4, 0.7)["status"].iloc[0] == "yellow"
    assert grade(krs, 0.2, 0.5)["status"].iloc[0] == "green"


def test_no_data_kr_is_its_own_state():
    krs = pd.DataFrame({"actual": [NaN, 0.0], "baseline": [NaN, NaN], "target": [10.0, 10.0],
                        "direction": ["increase", "increase"], "quarterly_value": ["period", "period"]})
    g = grade(krs, 0.4, 0.7)
    assert math.isnan(g["score"].iloc[0])
    assert g["status"].iloc[0] == NO_DATA
    # a real 0 is red, not no data
    assert g["score"].iloc[1] == 0.0
    assert g["status"].iloc[1] == "red"


# -- pace -----------------------------------------------------------------------------------------------------

def test_pace_mid_quarter_cumulative_versus_not():
    scores = pd.Series([0.3, 0.3, 0.6, 0.1])
    cumulative = pd.Series([True, False, True, True])
    expected, progress = pace(scores, cumulative, 0.5)
    # cumulative: expected 0.5 of the way; 0.3 / 0.5 = 0.6, 0.6 / 0.5 = 1.2 -> capped at 1, 0.1 / 0.5 = 0.2
    assert expected.iloc[0] == 0.5 and expected.iloc[2] == 0.5
    assert math.isnan(expected.iloc[1])
    assert progress.tolist() == pytest.approx([0.6, 0.3, 1.0, 0.2])


def test_pace_closed_quarter_is_the_score():
    scores = pd.Series([0.3, NaN])
    expected, progress = pace(scores, pd.Series([True, True]), None)
    assert expected.isna().all()
    assert progress.iloc[0] == 0.3 and math.isnan(progress.iloc[1])
    _, progress_full = pace(scores, pd.Series([True, True]), 1.0)
    assert progress_full.iloc[0] == 0.3


def test_grade_judges_status_against_pace():
    krs = pd.DataFrame(
        {
            "actual": [30.0, 30.0, NaN],
            "baseline": [0.0, 0.0, 0.0],
            "target": [100.0, 100.0, 100.0],
            "direction": ["increase"] * 3,
            "quarterly_value": ["period"] * 3,
            "is_cumulative": [True, False, True],
        }
    )
    g = grade(krs, 0.4, 0.7, elapsed=1 / 3)
    # score 0.3 each. Cumulative after a third of the quarter: 0.3 / (1/3) = 0.9 -> green.
    # The rate-like KR is judged as it stands: 0.3 -> red. No data stays no data.
    assert g["score"].tolist()[:2] == pytest.approx([0.3, 0.3])
    assert g["expected_score"].iloc[0] == pytest.approx(1 / 3)
    assert g["progress"].tolist()[:2] == pytest.approx([0.9, 0.3])
    assert g["status"].tolist() == ["green", "red", NO_DATA]


# -- months on target -----------------------------------------------------------------------------------------

def test_grade_months_on_target_uses_share_as_attainment():
    krs = pd.DataFrame(
        {
            # the actual of a months_on_target KR is already the share of months that met the target
            "actual": [2 / 3, 1.0, 0.0],
            "baseline": [50.0, 50.0, 50.0],
            "target": [100.0, 100.0, 100.0],
            "direction": ["increase", "decrease", "increase"],
            "quarterly_value": ["months_on_target"] * 3,
        }
    )
    g = grade(krs, 0.4, 0.7)
    # not (2/3 - 50) / 50: the share is the attainment
    assert g["attainment"].tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert g["score"].tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert g["status"].tolist() == ["yellow", "green", "red"]


def test_months_on_target_end_to_end_from_monthly_values():
    # distributors' monthly sales vs target; a KR "sales >= 100 each month" per team
    ds = pd.DataFrame(
        {
            "team_id": ["T1", "T1", "T1", "T2", "T2", "T2"],
            "month_at": pd.to_datetime(["2018-01-01", "2018-02-01", "2018-03-01"] * 2),
            "sales_amount": [120.0, 90.0, 100.0, 50.0, 60.0, 200.0],
        }
    )
    people = pd.DataFrame({"person_id": ["p1", "p2"], "team_id": ["T1", "T2"],
                           "started_at": pd.to_datetime([pd.NaT] * 2), "ended_at": pd.to_datetime([pd.NaT] * 2)})
    metrics = {"sales": MetricDef.model_validate({"definition": {"kind": "sum", "table": "ds",
                                                                 "column": "sales_amount", "time": "month_at"}})}
    engine = Engine(metrics=metrics, tables={"ds": ds}, org=Org("ACME", people, ["T1", "T2"]), fiscal_start_month=4)
    krs = pd.DataFrame(
        {
            "tier": ["team", "team", "company"],
            "owner_id": ["T1", "T2", "ACME"],
            "kr_id": ["k"] * 3,
            "metric": ["sales"] * 3,
            "quarterly_value": ["months_on_target"] * 3,
            "partial_credit": [False] * 3,
            "baseline": [NaN] * 3,
            "target": [100.0, 100.0, 200.0],
            "direction": ["increase"] * 3,
        }
    )
    out = compute_actuals(krs, engine, None, Quarter(2017, 4, 4))
    # T1: 120 yes, 90 no, 100 yes -> 2/3; T2: 50, 60 no, 200 yes -> 1/3;
    # company (target 200): 170 no, 150 no, 300 yes -> 1/3
    assert out["actual"].tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    assert out["is_cumulative"].tolist() == [False, False, False]
    g = grade(out, 0.4, 0.7)
    assert g["score"].tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    assert g["status"].tolist() == ["yellow", "red", "red"]


def test_months_on_target_lower_is_better():
    ds = pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p1"],
            "at": pd.to_datetime(["2018-01-10", "2018-02-10", "2018-03-10"]),
            "hours": [10.0, 30.0, 20.0],
        }
    )
    people = pd.DataFrame({"person_id": ["p1"], "team_id": ["T1"], "started_at": pd.to_datetime([pd.NaT]),
                           "ended_at": pd.to_datetime([pd.NaT])})
    metrics = {"h": MetricDef.model_validate({"definition": {"kind": "mean", "table": "ds", "column": "hours",
                                                             "time": "at"}})}
    engine = Engine(metrics=metrics, tables={"ds": ds}, org=Org("ACME", people, ["T1"]), fiscal_start_month=4)
    krs = pd.DataFrame({"tier": ["person", "team", "company"], "owner_id": ["p1", "T1", "ACME"], "kr_id": ["k"] * 3,
                        "metric": ["h"] * 3, "quarterly_value": ["months_on_target"] * 3,
                        "partial_credit": [False] * 3, "baseline": [NaN] * 3, "target": [20.0] * 3,
                        "direction": ["at_most"] * 3})
    out = compute_actuals(krs, engine, None, Quarter(2017, 4, 4))
    # at most 20 h: Jan 10 yes, Feb 30 no, Mar 20 yes -> 2/3 at every tier (one person)
    assert out["actual"].tolist() == pytest.approx([2 / 3] * 3)
    assert grade(out, 0.4, 0.7)["status"].tolist() == ["yellow"] * 3
