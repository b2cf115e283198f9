"""Adjusted grades and the leavers rule worked out by hand on a tiny workspace computed for real (2024 Q2).

  p1 (team T1): k1 = won deals, target 4: 3 won -> 0.75; k2 = manual progress, target 10: check-in 8 -> 0.80
                objective O1 (equal weights) = 0.775
  p2 (team T1, left on 15 May 2024): k1 1 won -> 0.25; k2 no check-in -> no data; O1 = 0.25
  T1: t1 = the sum of its members' k1 (rollup: value), target 6
      leavers: count   -> 3 + 1 = 4 -> 4/6 = 0.667; members' average (0.775 + 0.25) / 2 = 0.5125
      leavers: exclude -> 3 (p2 left)  -> 3/6 = 0.5;  members' average 0.775 (p1 alone)

Adjustments (quarter end): p2's k1 0.25 -> 0.55 (yellow), p1's k2 0.80 -> 0.60
  p1 O1 = (0.75 + 0.60) / 2 = 0.675 (yellow); p2 O1 = 0.55 (k2 still without data)
  T1's own score does not change (t1 sums actuals, not grades): 0.667; members' average (0.675 + 0.55) / 2 = 0.6125
"""

from __future__ import annotations

import pandas as pd
import pytest

from transforms import config as cfg
from transforms.adjustments import SheetRef, adjustment_problems
from transforms.calendar import Quarter
from transforms.report import compute_quarter
from transforms.scorecards import build_scorecards, kr_table
from transforms.validation import stage_workspace

Q2 = Quarter(2024, 2, 1)
ADJUSTMENTS = pd.DataFrame({"quarter": ["2024-Q2", "2024 Q2"], "kr_id": ["k1", "k2"], "owner_id": ["p2", "p1"],
                            "tier": ["person", None],
                            "adjusted_score": [0.55, 0.6], "reason": ["Two deals slipped past the quarter end",
                                                                      "Progress overstated"],
                            "adjusted_by": ["Ann", "Bo"]})


def _tables(leavers: str = "count", adjustments: pd.DataFrame | None = None) -> tuple[cfg.Workspace, dict]:
    names = ("people", "plan", "checkins", "deals") + (("adjustments",) if adjustments is not None else ())
    ws = cfg.Workspace.model_validate({
        "company": {"id": "acme", "name": "Acme"}, "locale": "en", "currency": "USD", "leavers": leavers,
        "sources": {name: {"path": f"{name}.csv"} for name in names},
        "metrics": {"progress": {"kind": "manual"},
                    "won": {"kind": "count", "table": "deals", "time": "closed_at", "where": {"stage": "won"}}},
    })
    plan = pd.DataFrame(
        [("person", "*", "O1", "Sell", "k1", "Win deals", "won", 0.0, 4.0, 1.0, None, None),
         ("person", "*", "O1", "Sell", "k2", "Progress", "progress", 0.0, 10.0, 1.0, None, None),
         ("team", "T1", "TO1", "Team sells", "t1", "Team wins", "won", 0.0, 6.0, 1.0, "value", "k1")],
        columns=["tier", "owner_id", "objective_id", "objective_title_en", "kr_id", "kr_title_en", "metric",
                 "baseline", "target", "weight", "rollup", "rollup_from"])
    won = [("p1", "2024-04-10"), ("p1", "2024-05-10"), ("p1", "2024-06-10"), ("p2", "2024-04-20")]
    raw = {
        "people": pd.DataFrame({"person_id": ["p1", "p2"], "person_name": ["Pat", "Sam"], "team_id": ["T1", "T1"],
                                "ended_at": [None, "2024-05-15"]}),
        "plan": plan,
        "checkins": pd.DataFrame({"kr_id": ["k2"], "owner_id": ["p1"], "checked_at": ["2024-06-20"], "value": [8.0]}),
        "deals": pd.DataFrame({"deal_id": [f"d{i}" for i in range(len(won))], "person_id": [p for p, _ in won],
                               "stage": ["won"] * len(won), "closed_at": [d for _, d in won]}),
    }
    if adjustments is not None:
        raw["adjustments"] = adjustments.copy()
    for frame in raw.values():
        frame.index = pd.RangeIndex(2, 2 + len(frame))
    tables, problems = stage_workspace(raw, ws)
    assert [p for p in problems if p.severity == "error"] == []
    return ws, tables


def _cards(ws: cfg.Workspace, tables: dict, as_of: pd.Timestamp | None = None) -> dict[str, dict]:
    res = compute_quarter(ws, tables, Q2, as_of, "en")
    return {c["owner_id"]: c for c in build_scorecards(res, ws, tables, "en", "2024-07-01 06:00", "run-1")}


def _kr(card: dict, kr_id: str) -> dict:
    return next(k for o in card["objectives"] for k in o["krs"] if k["kr_id"] == kr_id)


def test_leavers_count_keeps_their_krs_in_the_team():
    cards = _cards(*_tables("count"))
    t1 = cards["T1"]
    assert _kr(t1, "t1")["actual"] == 4.0 and t1["score"] == pytest.approx(4 / 6)
    assert t1["rollup"]["mean"] == pytest.approx(0.5125) and t1["rollup"]["members"] == 2
    assert t1["leavers_note"] == ("Sam (on 2024-05-15) left during the quarter; under the workspace's rule "
                                  "(leavers: count) their key results still count for the team, in its value "
                                  "roll-ups and its members' average.")


def test_leavers_exclude_leaves_their_krs_out_of_the_team():
    cards = _cards(*_tables("exclude"))
    t1 = cards["T1"]
    assert _kr(t1, "t1")["actual"] == 3.0 and t1["score"] == pytest.approx(0.5)
    assert t1["rollup"] == {"mean": pytest.approx(0.775), "members": 1, "with_data": 1, "at_risk": 0}
    assert "(leavers: exclude) their key results do not count for the team" in t1["leavers_note"]
    # the leaver's own card is graded as before, and still listed (marked) in the team's table
    assert cards["p2"]["score"] == pytest.approx(0.25)
    assert {m["owner_id"]: m["left_on"] for m in t1["members"]} == {"p1": None, "p2": "2024-05-15"}


def test_a_team_without_leavers_says_nothing_about_the_rule():
    ws, tables = _tables("exclude")
    tables["people"] = tables["people"].assign(ended_at=pd.NaT)
    assert _cards(ws, tables)["T1"]["leavers_note"] is None


def test_adjusted_grades_roll_up_as_worked_by_hand():
    cards = _cards(*_tables("count", ADJUSTMENTS))
    k1 = _kr(cards["p2"], "k1")
    assert (k1["computed_score"], k1["adjusted_score"], k1["score"]) == (pytest.approx(0.25), 0.55, 0.55)
    assert k1["status"] == "yellow" and k1["adjusted"]
    assert (k1["adjustment_reason"], k1["adjusted_by"]) == ("Two deals slipped past the quarter end", "Ann")
    assert cards["p2"]["score"] == pytest.approx(0.55) and cards["p2"]["status"] == "yellow"
    assert cards["p1"]["score"] == pytest.approx(0.675) and cards["p1"]["status"] == "yellow"
    assert cards["T1"]["score"] == pytest.approx(4 / 6)
    assert cards["T1"]["rollup"]["mean"] == pytest.approx(0.6125)
    assert k1["lineage"].endswith("; the grade was adjusted from the computed 0.25 to 0.55 by Ann: Two deals "
                                  "slipped past the quarter end")
    assert not _kr(cards["p1"], "k1")["adjusted"] and _kr(cards["p1"], "k1")["adjusted_score"] is None


def test_kr_values_carry_the_computed_and_adjusted_scores():
    ws, tables = _tables("count", ADJUSTMENTS)
    res = compute_quarter(ws, tables, Q2, None, "en")
    kr = kr_table(res, {}, "en").set_index(["owner_id", "kr_id"])
    row = kr.loc[("p1", "k2")]
    assert (row["computed_score"], row["adjusted_score"], row["score"]) == (pytest.approx(0.8), 0.6, 0.6)
    assert (row["adjustment_reason"], row["adjusted_by"], row["status"]) == ("Progress overstated", "Bo", "yellow")
    plain = kr.loc[("p1", "k1")]
    assert plain["computed_score"] == plain["score"] == 0.75 and pd.isna(plain["adjusted_score"])


def test_mid_quarter_grades_ignore_adjustments_and_say_so():
    cards = _cards(*_tables("count", ADJUSTMENTS), as_of=pd.Timestamp("2024-05-20"))
    k1 = _kr(cards["p2"], "k1")
    assert k1["score"] == pytest.approx(0.25) and not k1["adjusted"]  # one deal of four by 20 May
    note = ("The adjustments sheet holds 2 adjusted grades; they apply to the quarter-end grade only, not to this "
            "mid-quarter one.")
    assert note in cards["p2"]["data_quality_notes"] and note in cards["T1"]["data_quality_notes"]


def test_an_adjustment_of_a_kr_the_owner_does_not_hold_is_named_by_row_and_column():
    bad = pd.DataFrame({"quarter": ["2024-Q2", "2024-Q2", "2024-Q2", "Q2 next year", "2024-Q1"],
                        "kr_id": ["k1", "t1", "k2", "k1", "t1"], "owner_id": ["p1", "p1", "p2", "p1", "p1"],
                        "tier": [None, None, "team", None, None], "adjusted_score": [0.5, 0.5, 1.5, 0.5, 0.5],
                        "reason": ["ok", "wrong owner", " ", "ok", "another quarter: not checked here"],
                        "adjusted_by": ["Ann", "Ann", "Ann", "Ann", "Ann"]}, index=pd.RangeIndex(2, 7))
    ws, tables = _tables("count")
    res = compute_quarter(ws, tables, Q2, None, "en")
    where = SheetRef("exports/adjustments.csv", None, {"kr_id": "KR", "adjusted_score": "Score", "reason": "Why",
                                                       "quarter": "Quarter"})
    found = [str(p) for p in adjustment_problems(bad, res.krs, where, Q2)]
    assert found == [
        "exports/adjustments.csv, row 3, column 'KR': value 't1': expected a KR that 'p1' holds in the quarter's "
        "plan; that owner holds k1, k2",
        "exports/adjustments.csv, row 4, column 'Score': value 1.5: expected a score from 0 to 1",
        "exports/adjustments.csv, row 4, column 'Why': value ' ': expected a non-empty text: an adjusted grade says "
        "why and who decided it",
        "exports/adjustments.csv, row 4, column 'KR': value 'k2': expected a KR that team 'p2' holds in the quarter's "
        "plan; that owner holds k1, k2",
        "exports/adjustments.csv, row 5, column 'Quarter': value 'Q2 next year': expected a quarter such as "
        "FY2017-18 Q4 or 2024-Q2",
    ]


def test_an_adjustment_belongs_to_the_quarter_it_names():
    """The same sheet, for Q1: Q2's run is graded as computed (k1 of p2: 1 won of 4 -> 0.25, not 0.55)."""
    other = ADJUSTMENTS.assign(quarter=["2024-Q1", "2024-Q1"])
    cards = _cards(*_tables("count", other))
    k1 = _kr(cards["p2"], "k1")
    assert (k1["score"], k1["adjusted"]) == (pytest.approx(0.25), False)
