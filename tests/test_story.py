"""Page one worked out by hand: earlier quarters, the change, what moved, the gaps, what to act on, the members'
average beside a team's own score, and a leaver's marker.

A tiny workspace computed for real over two quarters of 2024 (the exports start on 2 January 2024):
  p1 (team T1): k1 = won deals, target 4 (Q1: 1 won -> 0.25; Q2: 3 won -> 0.75)
                k2 = manual progress, target 10 (Q1 check-in 5 -> 0.50; Q2 check-in 8 -> 0.80)
                one objective, equal weights: Q1 0.375, Q2 0.775 -> change +0.40 (up)
                movers: k1 0.5 x (0.75 - 0.25) = +0.25, k2 0.5 x (0.80 - 0.50) = +0.15
  p2 (team T1, left on 15 May 2024): k1 Q1 3 won -> 0.75, Q2 1 won -> 0.25; k2 no check-in -> no data
                Q2 score 0.25 (k1 carries the whole objective): off track, short by 3, the one KR to act on
  T1: t1 = won deals of its members, target 6: Q1 4 -> 0.667, Q2 4 -> 0.667 -> change 0.00 (flat)
      members' average (0.775 + 0.25) / 2 = 0.5125, one of two at risk or off track
  2023 Q3 and Q4: before the exports start, so no point for k1, nor for its owners' scores.
"""

from __future__ import annotations

import pandas as pd
import pytest

from transforms import config as cfg
from transforms.calendar import Quarter
from transforms.report import compute_quarter
from transforms.scorecards import build_scorecards
from transforms.validation import stage_workspace

Q2 = Quarter(2024, 2, 1)


def _tables() -> tuple[cfg.Workspace, dict]:
    ws = cfg.Workspace.model_validate({
        "company": {"id": "acme", "name": "Acme"}, "locale": "en", "currency": "USD",
        "sources": {name: {"path": f"{name}.csv"} for name in ("people", "plan", "checkins", "deals")},
        "metrics": {"progress": {"kind": "manual"},
                    "won": {"kind": "count", "table": "deals", "time": "closed_at", "where": {"stage": "won"}}},
    })
    plan = pd.DataFrame(
        [("person", "*", "O1", "Sell", "k1", "Win deals", "won", 0.0, 4.0, 1.0),
         ("person", "*", "O1", "Sell", "k2", "Progress", "progress", 0.0, 10.0, 1.0),
         ("team", "T1", "TO1", "Team sells", "t1", "Team wins", "won", 0.0, 6.0, 1.0)],
        columns=["tier", "owner_id", "objective_id", "objective_title_en", "kr_id", "kr_title_en", "metric",
                 "baseline", "target", "weight"])
    won = [("p1", "2024-02-10"), ("p2", "2024-01-05"), ("p2", "2024-02-05"), ("p2", "2024-03-05"),
           ("p1", "2024-04-10"), ("p1", "2024-05-10"), ("p1", "2024-06-10"), ("p2", "2024-04-20")]
    raw = {
        "people": pd.DataFrame({"person_id": ["p1", "p2"], "person_name": ["Pat", "Sam"], "team_id": ["T1", "T1"],
                                "ended_at": [None, "2024-05-15"]}),
        "plan": plan,
        "checkins": pd.DataFrame({"kr_id": ["k2", "k2"], "owner_id": ["p1", "p1"],
                                  "checked_at": ["2024-03-20", "2024-06-20"], "value": [5.0, 8.0]}),
        "deals": pd.DataFrame({"deal_id": [f"d{i}" for i in range(len(won) + 1)],
                               "person_id": [p for p, _ in won] + ["p1"],
                               "stage": ["won"] * len(won) + ["open"],
                               "closed_at": [d for _, d in won] + ["2024-01-02"]}),
    }
    for frame in raw.values():
        frame.index = pd.RangeIndex(2, 2 + len(frame))
    tables, problems = stage_workspace(raw, ws)
    assert [p for p in problems if p.severity == "error"] == []
    return ws, tables


@pytest.fixture(scope="module")
def cards() -> dict[str, dict]:
    ws, tables = _tables()
    res = compute_quarter(ws, tables, Q2, None, "en", 3)
    return {c["owner_id"]: c for c in build_scorecards(res, ws, tables, "en", "2024-07-01 06:00", "run-1")}


def test_score_history_and_change(cards):
    p1 = cards["p1"]
    assert [(p["quarter"], p["value"]) for p in p1["history"]] == [
        ("2023 Q3", None), ("2023 Q4", None), ("2024 Q1", pytest.approx(0.375)), ("2024 Q2", pytest.approx(0.775))]
    assert p1["history"][-1]["is_current"] and not any(p["is_current"] for p in p1["history"][:-1])
    assert p1["change"] == {"previous_quarter": "2024 Q1", "previous_score": pytest.approx(0.375),
                            "delta": pytest.approx(0.40), "arrow": "up"}
    t1 = cards["T1"]
    assert t1["change"]["delta"] == pytest.approx(0.0) and t1["change"]["arrow"] == "flat"


def test_what_moved_the_score(cards):
    up = cards["p1"]["movers"]["up"]
    assert [(m["kr_id"], round(m["points"], 6)) for m in up] == [("k1", 0.25), ("k2", 0.15)]
    assert (up[0]["previous_score"], up[0]["score"]) == (pytest.approx(0.25), pytest.approx(0.75))
    assert cards["p1"]["movers"]["down"] == []
    down = cards["p2"]["movers"]["down"]
    assert [(m["kr_id"], round(m["points"], 6)) for m in down] == [("k1", -0.5)]


def test_gaps_and_what_to_act_on(cards):
    p2 = cards["p2"]
    assert p2["score"] == pytest.approx(0.25) and p2["status"] == "red"
    assert [(g["kr_id"], g["short_by"]) for g in p2["gaps"]] == [("k1", 3.0)]
    assert [(f["kr_id"], f["status"], f["actual"], f["target"]) for f in p2["focus"]] == [("k1", "red", 1.0, 4.0)]
    assert p2["focus"][0]["titles"] == {"zh-CN": "Win deals", "en": "Win deals"}
    assert cards["p1"]["focus"] == []  # both of p1's KRs are on track


def test_the_team_score_beside_its_members(cards):
    t1 = cards["T1"]
    assert t1["score"] == pytest.approx(4 / 6)
    assert t1["rollup"] == {"mean": pytest.approx(0.5125), "members": 2, "with_data": 2, "at_risk": 1}
    assert t1["how_made"] == ("The team's score is the weighted score of its own 1 key result (1 objective); "
                              "its members' scores do not enter it.")


def test_a_leaver_is_marked_on_the_card_and_in_the_team(cards):
    assert cards["p2"]["left_on"] == "2024-05-15"
    assert cards["p1"]["left_on"] is None
    assert {m["owner_id"]: m["left_on"] for m in cards["T1"]["members"]} == {"p1": None, "p2": "2024-05-15"}


def test_a_kr_history_holds_the_same_kr_of_the_same_owner(cards):
    k1 = next(k for o in cards["p1"]["objectives"] for k in o["krs"] if k["kr_id"] == "k1")
    assert [(p["quarter"], p["value"]) for p in k1["history"]] == [
        ("2023 Q3", None), ("2023 Q4", None), ("2024 Q1", 1.0), ("2024 Q2", 3.0)]


def test_an_earlier_quarter_equals_its_own_run():
    """Rule one: the earlier quarter's points are what a run of that quarter computes (the engine's caches are
    shared between the quarters of one run; this checks they change nothing)."""
    ws, tables = _tables()
    with_history = compute_quarter(ws, tables, Q2, None, "en", 1).history
    alone = compute_quarter(ws, tables, Q2.shift(-1), None, "en")
    got = with_history.owners.set_index(["tier", "owner_id"])["score"]
    own = alone.owners.assign(owner_id=alone.owners["owner_id"].astype(str)).set_index(["tier", "owner_id"])["score"]
    pd.testing.assert_series_equal(got.sort_index(), own.sort_index(), check_names=False)


def test_baseline_and_decimals_say_what_was_used():
    from transforms.scorecards import baseline_note, value_decimals

    assert baseline_note({"baseline": None, "direction": "increase"}) == "from_zero"
    assert baseline_note({"baseline": None, "direction": "at_most"}) == "not_applicable"
    assert baseline_note({"baseline": 0.0, "direction": "at_most"}) is None
    assert value_decimals([2.91, 2.2, None], "ratio") == 2
    assert value_decimals([0.26, 0.55, 0.645], "percent") == 1  # 26%, 55%, 64.5%
    assert value_decimals([150.0, 600.0, 1448.0], "count") == 0
    assert value_decimals([1.0, 2.5, 2.0], "ratio") == 1
    assert value_decimals([100.0], "currency") is None
