"""The mid-quarter forecast worked out by hand on a tiny workspace (calendar quarters of 2024, exports from
2 January 2024), run at 15 August 2024: 45 days into Q3, the same point of Q2 is 16 May, of Q1 15 February;
Q4 2023 is before the exports, so it teaches nothing.

Won deals: p1 won 2 by 15 Feb and 6 in all in Q1 (ratio 3), 3 by 16 May and 6 in all in Q2 (ratio 2), 4 by
   15 Aug in Q3; p2 sells in Q3 only (3 won, 1 lost by 15 Aug). Neither has the 30 rows an owner needs for
   its own ratio, so both take their tier's: all people together won as p1 did, exp(mean(ln 3, ln 2))
   = sqrt(6), mixed half and half (geometrically) with the run rate 66/34 (below): g = sqrt(sqrt(6) 66/34).
   The pattern's spread s = |ln 3 - ln 2| / sqrt(2), widened by sqrt(1 + 1/2) and by t/z = 3.078 / 1.2816
   (a spread from two quarters), and the owner's own rows still to come, a Poisson count at a rate learnt
   from x rows: variance x (g - 1) g. sd = sqrt((forecast s sqrt(1.5) t/z)^2 + x (g - 1) g).
Win share (won / closed): both parts have the same ratio, so p2's 3/4 stays 0.75, with the binomial spread
   sqrt(0.75 * 0.25 / 4g) of a share of 4g closed deals, the smaller of it and the ratio's.
Lost deals: nobody lost one before Q3, so the run rate over working days applies: 66 weekdays in Q3, 34 up
   to 15 Aug, g = 66/34; p2's 1 lost -> g, sd sqrt(1 (g - 1) g); p1 has none, so 0 for certain.
The 80% interval is forecast +- 1.2816 sd; the chance of reaching the target is the normal probability.
Confidence is on a 0-10 scale: p2 says 8 on the win share (chance 0.15: "confident, but a miss") and 2 on
lost deals (chance 0.78 of staying at most 3: "doubtful, but reached"); p1 says 9 on won deals (0.54: agreed).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from transforms import config as cfg
from transforms.calendar import Quarter
from transforms.report import compute_quarter
from transforms.scorecards import build_scorecards, kr_table
from transforms.validation import stage_workspace

Q3 = Quarter(2024, 3, 1)
AS_OF = pd.Timestamp("2024-08-15")
Z = 1.2816


def _phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _tables() -> tuple[cfg.Workspace, dict]:
    ws = cfg.Workspace.model_validate({
        "company": {"id": "acme", "name": "Acme"}, "locale": "en", "currency": "USD", "confidence_scale": 10,
        "sources": {name: {"path": f"{name}.csv"} for name in ("people", "plan", "checkins", "deals")},
        "metrics": {"won": {"kind": "count", "table": "deals", "time": "closed_at", "where": {"stage": "won"}},
                    "lost": {"kind": "count", "table": "deals", "time": "closed_at", "where": {"stage": "lost"}},
                    "closed": {"kind": "count", "table": "deals", "time": "closed_at",
                               "where": {"stage": ["won", "lost"]}},
                    "win_share": {"kind": "ratio", "numerator": "won", "denominator": "closed", "unit": "percent"}},
    })
    plan = pd.DataFrame(
        [("person", "*", "O1", "Sell", "k1", "Win 8 deals", "won", 0.0, 8.0, "increase"),
         ("person", "*", "O1", "Sell", "k2", "Win 90% of closed deals", "win_share", 0.5, 0.9, "increase"),
         ("person", "*", "O1", "Sell", "k3", "Lose at most 3 deals", "lost", None, 3.0, "at_most")],
        columns=["tier", "owner_id", "objective_id", "objective_title_en", "kr_id", "kr_title_en", "metric",
                 "baseline", "target", "direction"])
    won = [("p1", d) for d in ("2024-01-10", "2024-02-12", "2024-02-20", "2024-03-05", "2024-03-20", "2024-03-28",
                               "2024-04-10", "2024-05-02", "2024-05-15", "2024-06-03", "2024-06-20", "2024-06-27",
                               "2024-07-08", "2024-07-22", "2024-08-01", "2024-08-14")]
    won += [("p2", d) for d in ("2024-07-15", "2024-08-05", "2024-08-13")]
    rows = [(p, "won", d) for p, d in won] + [("p2", "lost", "2024-08-06"), ("p1", "open", "2024-01-02")]
    raw = {
        "people": pd.DataFrame({"person_id": ["p1", "p2"], "person_name": ["Pat", "Sam"], "team_id": ["T1", "T1"]}),
        "plan": plan,
        "checkins": pd.DataFrame({"kr_id": ["k1", "k2", "k3"], "owner_id": ["p1", "p2", "p2"],
                                  "checked_at": ["2024-08-12", "2024-08-14", "2024-08-14"],
                                  "value": [None, None, None], "confidence": [9.0, 8.0, 2.0]}),
        "deals": pd.DataFrame({"deal_id": [f"d{i}" for i in range(len(rows))], "person_id": [r[0] for r in rows],
                               "stage": [r[1] for r in rows], "closed_at": [r[2] for r in rows]}),
    }
    for frame in raw.values():
        frame.index = pd.RangeIndex(2, 2 + len(frame))
    tables, problems = stage_workspace(raw, ws)
    assert [p for p in problems if p.severity == "error"] == []
    return ws, tables


@pytest.fixture(scope="module")
def result():
    ws, tables = _tables()
    return ws, tables, compute_quarter(ws, tables, Q3, AS_OF, "en", 0)


def _row(res, owner: str, kr: str) -> pd.Series:
    k = res.krs
    return k[(k["owner_id"] == owner) & (k["kr_id"] == kr)].iloc[0]


G = math.sqrt(math.sqrt(6) * 66 / 34)
PATTERN = abs(math.log(3) - math.log(2)) / math.sqrt(2) * math.sqrt(1.5) * 3.078 / Z


def _sd(point: float, x: int, g: float) -> float:
    return math.sqrt((point * PATTERN) ** 2 + x * (g - 1) * g)


def test_learnt_from_the_same_point_of_earlier_quarters_of_the_tier(result):
    _, _, res = result
    for owner, x in (("p1", 4), ("p2", 3)):
        r = _row(res, owner, "k1")
        point, sd = x * G, _sd(x * G, x, G)
        assert r["actual"] == x
        assert (r["forecast_basis"], r["forecast_quarters"]) == ("tier", 2)
        assert r["forecast"] == pytest.approx(point, rel=1e-9)
        assert (r["forecast_low"], r["forecast_high"]) == (pytest.approx(point - Z * sd, rel=1e-9),
                                                           pytest.approx(point + Z * sd, rel=1e-9))
        assert r["forecast_p"] == pytest.approx(_phi((point - 8) / sd), rel=1e-9)
        assert r["forecast_score"] == pytest.approx(min(1.0, point / 8), rel=1e-9)


def test_run_rate_over_working_days_without_earlier_quarters(result):
    _, _, res = result
    assert pd.bdate_range("2024-07-01", "2024-09-30").size == 66
    assert pd.bdate_range("2024-07-01", "2024-08-15").size == 34
    g = 66 / 34
    r = _row(res, "p2", "k3")
    sd = math.sqrt((g - 1) * g)
    assert (r["forecast_basis"], r["forecast_quarters"]) == ("run_rate", 0)
    assert r["forecast"] == pytest.approx(g, rel=1e-9)
    assert r["forecast_high"] == pytest.approx(g + Z * sd, rel=1e-9)
    assert r["forecast_p"] == pytest.approx(_phi((3 - g) / sd), rel=1e-9)  # at most 3
    none = _row(res, "p1", "k3")
    assert (none["forecast"], none["forecast_low"], none["forecast_p"]) == (0, 0, 1.0)


def test_a_ratio_from_its_projected_parts(result):
    _, _, res = result
    r = _row(res, "p2", "k2")
    sd = math.sqrt(0.75 * 0.25 / (4 * G))
    assert r["actual"] == pytest.approx(0.75)
    assert r["forecast"] == pytest.approx(0.75, rel=1e-9)
    assert r["forecast_low"] == pytest.approx(0.75 - Z * sd, rel=1e-9)
    assert r["forecast_p"] == pytest.approx(_phi((0.75 - 0.9) / sd), rel=1e-9)


def test_confidence_beside_the_outlook(result):
    _, _, res = result
    assert (_row(res, "p1", "k1")["confidence"], _row(res, "p1", "k1")["confidence_flag"]) == (
        pytest.approx(0.9), None)
    assert _row(res, "p2", "k2")["confidence_flag"] == "high_but_miss"
    assert (_row(res, "p2", "k3")["confidence"], _row(res, "p2", "k3")["confidence_flag"]) == (
        pytest.approx(0.2), "low_but_reach")
    assert pd.isna(_row(res, "p1", "k2")["confidence"])


def test_cards_and_kr_table_show_the_forecast(result):
    ws, tables, res = result
    cards = {c["owner_id"]: c for c in build_scorecards(res, ws, tables, "en", "2024-08-16 06:00", "run-1")}
    assert cards["p2"]["likely_miss"] == 2  # k1 chance 0.41, k2 0.15; k3 0.78
    assert cards["p1"]["likely_miss"] == 0  # k1 0.54; k2 every closed deal won, in every quarter; k3 none lost
    k2 = next(kr for o in cards["p2"]["objectives"] for kr in o["krs"] if kr["kr_id"] == "k2")
    assert k2["forecast"]["basis"] == "tier" and k2["confidence_flag"] == "high_but_miss"
    table = kr_table(res, {}, "en").set_index(["owner_id", "kr_id"])
    assert table.loc[("p2", "k3"), "forecast"] == pytest.approx(66 / 34, rel=1e-9)
    assert table.loc[("p2", "k2"), "confidence_flag"] == "high_but_miss"
