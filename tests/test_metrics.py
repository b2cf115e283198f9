"""Metric evaluation on tiny inline tables; every expected value is worked out by hand in the comments.

Org used throughout (unless a test builds its own): company ACME, team T1 = p1, p2 (sales), team T2 = p3
(manager) and p4 (sales). p4 never appears in any activity table, so p4 has "no data" (NaN), while p3 has
rows outside the period in several tables, so p3 has a real 0 for counts and sums.
The quarter is FY2017-18 Q4 in an April fiscal year: [2018-01-01, 2018-04-01), 90 days, 65 weekdays.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from transforms.calendar import Quarter
from transforms.config import MetricDef, Workspace
from transforms.key_results import compute_actuals
from transforms.metrics import Engine, MetricError, Org, quarter_values

T = pd.Timestamp
NaT = pd.NaT
Q4 = Quarter(2017, 4, 4)
P = Q4.period()


def people_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3", "p4"],
            "team_id": ["T1", "T1", "T2", "T2"],
            "role": ["sales", "sales", "manager", "sales"],
            "started_at": pd.to_datetime(["2016-01-01"] * 4),
            "ended_at": pd.to_datetime([NaT] * 4),
        }
    )


def deals_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10"],
            "person_id": ["p1", "p1", "p1", "p2", "p2", "p3", "p3", "p1", "p2", "p3"],
            "customer_id": ["c1", "c2", "c3", "c1", "c4", "c5", "c6", "c7", "c8", "c9"],
            "region_id": ["R1", "R6", "R1", "R3", "R1", "R2", "R1", "R4", "R2", "R5"],
            "stage": ["won", "won", "lost", "won", "lost", "won", "won", "won", "open", "open"],
            "amount": [100.0, 200.0, 50.0, 300.0, 0.0, 400.0, 80.0, 999.0, 70.0, 60.0],
            "engaged_at": pd.to_datetime(
                ["2017-12-01", "2018-01-15", "2018-01-20", "2018-01-05", "2017-11-01", "2017-10-01",
                 "2017-02-01", "2018-03-20", "2018-02-01", "2018-04-10"]
            ),
            "closed_at": pd.to_datetime(
                ["2018-01-10", "2018-02-10", "2018-03-01", "2018-01-20", "2017-12-20", "2017-11-05",
                 "2017-03-15", "2018-04-02", NaT, NaT]
            ),
        }
    )
# In Q4 (closed_at in [2018-01-01, 2018-04-01)): d1 p1 won 100, d2 p1 won 200, d3 p1 lost 50, d4 p2 won 300.
# Outside Q4: d5 p2 lost (Q3), d6 p3 won (Q3, FY2017-18), d7 p3 won (FY2016-17), d8 p1 won (after Q4),
# d9/d10 open (no close date).


def make_engine(metrics: dict[str, dict], tables: dict[str, pd.DataFrame], people: pd.DataFrame | None = None,
                teams: list[str] | None = None) -> Engine:
    defs = {name: MetricDef.model_validate({"definition": body}) for name, body in metrics.items()}
    people = people_frame() if people is None else people
    org = Org("ACME", people, teams or ["T1", "T2"])
    return Engine(metrics=defs, tables=tables, org=org, fiscal_start_month=4)


def val(res: pd.DataFrame, tier: str, owner: str) -> float:
    """The value of one owner, NaN when the owner is absent (no data)."""
    key = (tier, owner)
    return float(res.loc[key, "value"]) if key in res.index else float("nan")


def rows(res: pd.DataFrame, tier: str, owner: str) -> int:
    key = (tier, owner)
    return int(res.loc[key, "rows"]) if key in res.index else 0


def check(res: pd.DataFrame, expected: dict[tuple[str, str], float]) -> None:
    got = {k: val(res, *k) for k in expected}
    for k, v in expected.items():
        if isinstance(v, float) and math.isnan(v):
            assert math.isnan(got[k]), f"{k}: expected no data, got {got[k]}"
        else:
            assert got[k] == pytest.approx(v), f"{k}: expected {v}, got {got[k]}"


WON = {"stage": "won"}
WON_Q = {"kind": "count", "table": "deals", "time": "closed_at", "where": WON}
CLOSED_Q = {"kind": "count", "table": "deals", "time": "closed_at", "where": {"stage": ["won", "lost"]}}


# -- simple measures ------------------------------------------------------------------------------------------

def test_count_with_where_per_person_team_company():
    e = make_engine({"won": WON_Q}, {"deals": deals_frame()})
    res = e.evaluate("won", P)
    check(res, {
        ("person", "p1"): 2,    # d1, d2
        ("person", "p2"): 1,    # d4
        ("person", "p3"): 0,    # rows only outside the quarter -> real 0
        ("person", "p4"): np.nan,  # no row at all -> no data
        ("team", "T1"): 3,      # 2 + 1
        ("team", "T2"): 0,      # p3's rows make T2 present
        ("company", "ACME"): 3,
    })
    assert rows(res, "person", "p1") == 2
    assert rows(res, "company", "ACME") == 3
    assert list(res.index.names) == ["tier", "owner_id"]


def test_count_without_time_counts_all_rows():
    e = make_engine({"n": {"kind": "count", "table": "deals", "where": {"stage": "open"}}}, {"deals": deals_frame()})
    res = e.evaluate("n", P)
    # open deals regardless of time: d9 (p2), d10 (p3)
    check(res, {("person", "p1"): 0, ("person", "p2"): 1, ("person", "p3"): 1,
                ("team", "T1"): 1, ("team", "T2"): 1, ("company", "ACME"): 2})


def test_sum():
    e = make_engine({"rev": {"kind": "sum", "table": "deals", "column": "amount", "time": "closed_at",
                             "where": WON}}, {"deals": deals_frame()})
    res = e.evaluate("rev", P)
    check(res, {
        ("person", "p1"): 300,  # 100 + 200
        ("person", "p2"): 300,  # d4
        ("person", "p3"): 0,
        ("person", "p4"): np.nan,
        ("team", "T1"): 600,
        ("team", "T2"): 0,
        ("company", "ACME"): 600,
    })


def test_mean():
    e = make_engine({"avg": {"kind": "mean", "table": "deals", "column": "amount", "time": "closed_at",
                             "where": WON}}, {"deals": deals_frame()})
    res = e.evaluate("avg", P)
    check(res, {
        ("person", "p1"): 150,  # (100 + 200) / 2
        ("person", "p2"): 300,
        ("person", "p3"): np.nan,  # no rows in the period: a mean of nothing is no data, not 0
        ("team", "T1"): 200,    # (100 + 200 + 300) / 3
        ("team", "T2"): np.nan,
        ("company", "ACME"): 200,
    })


def test_mean_divide_by_row_by_row_skips_zero_denominators():
    sends = pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p2", "p3", "p3"],
            "sent_at": pd.to_datetime(["2018-01-05", "2018-02-05", "2018-03-05", "2018-01-10", "2018-01-20"]),
            "clicks": [10, 30, 5, 3, 2],
            "recipients": [100, 100, 50, 0, 20],
        }
    )
    e = make_engine({"ctr": {"kind": "mean", "table": "sends", "column": "clicks", "divide_by": "recipients",
                             "time": "sent_at"}}, {"sends": sends})
    res = e.evaluate("ctr", P)
    # row ratios: p1 0.1, 0.3; p2 0.1; p3 (3/0 -> skipped), 0.1
    check(res, {
        ("person", "p1"): 0.2,        # (0.1 + 0.3) / 2
        ("person", "p2"): 0.1,
        ("person", "p3"): 0.1,        # only the 2/20 row
        ("team", "T1"): 0.5 / 3,      # (0.1 + 0.3 + 0.1) / 3, a mean of ratios, not 45 / 250
        ("team", "T2"): 0.1,
        ("company", "ACME"): 0.15,    # (0.1 + 0.3 + 0.1 + 0.1) / 4
    })


def test_distinct():
    e = make_engine({"cust": {"kind": "distinct", "table": "deals", "column": "customer_id", "time": "closed_at",
                              "where": WON}}, {"deals": deals_frame()})
    res = e.evaluate("cust", P)
    check(res, {
        ("person", "p1"): 2,   # c1, c2
        ("person", "p2"): 1,   # c1
        ("person", "p3"): 0,
        ("team", "T1"): 2,     # c1 counted once for the team
        ("team", "T2"): 0,
        ("company", "ACME"): 2,
    })


def test_distinct_first_seen():
    buys = pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p1", "p2", "p2", "p3"],
            "customer_id": ["c1", "c1", "c2", "c2", "c3", "c1"],
            "at": pd.to_datetime(["2017-12-01", "2018-01-05", "2018-02-01", "2018-03-01", "2018-04-05",
                                  "2018-01-15"]),
        }
    )
    e = make_engine({"new": {"kind": "distinct", "table": "buys", "column": "customer_id", "time": "at",
                             "first_seen": True}}, {"buys": buys})
    res = e.evaluate("new", P)
    check(res, {
        ("person", "p1"): 1,   # c1 first seen by p1 in Q3 -> not new; c2 first seen 2018-02-01 -> new
        ("person", "p2"): 1,   # c2 new to p2 (2018-03-01); c3 is after the quarter
        ("person", "p3"): 1,   # c1 new to p3 (2018-01-15)
        ("team", "T1"): 1,     # T1 saw c1 in Q3 already; c2 first on 2018-02-01
        ("team", "T2"): 1,     # c1 first for T2 in Q4
        ("company", "ACME"): 1,  # c1 known since 2017-12-01; only c2 is new for the company
    })


def test_distinct_first_seen_with_wider_windows():
    buys = pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p1", "p3"],
            "customer_id": ["c1", "c2", "c3", "c4"],
            "at": pd.to_datetime(["2017-02-01", "2017-05-01", "2018-01-05", "2016-06-01"]),
        }
    )
    e = make_engine({
        "fy": {"kind": "distinct", "table": "buys", "column": "customer_id", "time": "at", "first_seen": True,
               "window": "fiscal_year_to_date"},
        "all": {"kind": "distinct", "table": "buys", "column": "customer_id", "time": "at", "first_seen": True,
                "window": "all_to_date"},
    }, {"buys": buys})
    # new since the FY start 2017-04-01: c2 (May 2017), c3 (Jan 2018); c1 and c4 are older
    check(e.evaluate("fy", P), _tiers(2, np.nan, 0, 2, 0, 2))
    # all to date: every customer first seen before the end counts: c1, c2, c3 | c4
    check(e.evaluate("all", P), _tiers(3, np.nan, 1, 3, 1, 4))


def test_duration_mean_days_and_hours():
    metrics = {
        "cycle_d": {"kind": "duration_mean", "table": "deals", "start": "engaged_at", "end": "closed_at",
                    "time": "closed_at", "where": WON},
        "cycle_h": {"kind": "duration_mean", "table": "deals", "start": "engaged_at", "end": "closed_at",
                    "time": "closed_at", "where": WON, "unit": "hours"},
    }
    e = make_engine(metrics, {"deals": deals_frame()})
    res = e.evaluate("cycle_d", P)
    # d1: 2017-12-01 -> 2018-01-10 = 31 + 9 = 40 days; d2: 2018-01-15 -> 2018-02-10 = 17 + 9 = 26;
    # d4: 2018-01-05 -> 2018-01-20 = 15
    check(res, {
        ("person", "p1"): 33,    # (40 + 26) / 2
        ("person", "p2"): 15,
        ("person", "p3"): np.nan,
        ("team", "T1"): 27,      # (40 + 26 + 15) / 3 = 81 / 3
        ("team", "T2"): np.nan,
        ("company", "ACME"): 27,
    })
    res_h = e.evaluate("cycle_h", P)
    check(res_h, {("person", "p2"): 15 * 24, ("team", "T1"): 27 * 24, ("company", "ACME"): 27 * 24})


def test_duration_mean_in_hours_written_flat_as_in_okr_yaml():
    # okr.yaml writes metrics flat: its one `unit: hours` is both the unit measured in and the unit shown
    ws = Workspace.model_validate({
        "company": {"id": "ACME", "name": "Acme"},
        "sources": {"people": {"path": "people.csv"}, "plan": {"path": "plan.csv"}},
        "metrics": {
            "first_reply_h": {"kind": "duration_mean", "table": "tickets", "start": "opened_at",
                              "end": "answered_at", "time": "opened_at", "unit": "hours"},
            "first_reply_d": {"kind": "duration_mean", "table": "tickets", "start": "opened_at",
                              "end": "answered_at", "time": "opened_at"},
        },
    })
    tickets = pd.DataFrame({
        "person_id": ["p1", "p1", "p2"],
        "opened_at": pd.to_datetime(["2018-01-02 09:00", "2018-02-01 20:00", "2018-03-05 08:00"]),
        # 09:00 -> 15:00 = 6 h; 20:00 -> 08:00 the next day = 12 h; 08:00 -> 14:00 the next day = 24 + 6 = 30 h
        "answered_at": pd.to_datetime(["2018-01-02 15:00", "2018-02-02 08:00", "2018-03-06 14:00"]),
    })
    e = Engine(metrics=ws.metrics, tables={"tickets": tickets}, org=Org("ACME", people_frame(), ["T1", "T2"]),
               fiscal_start_month=4)
    assert ws.metrics["first_reply_h"].unit == "hours"
    check(e.evaluate("first_reply_h", P), {
        ("person", "p1"): 9,     # (6 + 12) / 2
        ("person", "p2"): 30,
        ("team", "T1"): 16,      # (6 + 12 + 30) / 3 = 48 / 3
        ("company", "ACME"): 16,
    })
    # without a unit both are days: 48 h / 3 = 16 h = 16 / 24 days
    assert ws.metrics["first_reply_d"].unit == "days"
    check(e.evaluate("first_reply_d", P), {("team", "T1"): 16 / 24, ("company", "ACME"): 16 / 24})


def test_ratio_and_zero_denominator():
    e = make_engine({"won": WON_Q, "closed": CLOSED_Q,
                     "win_rate": {"kind": "ratio", "numerator": "won", "denominator": "closed"}},
                    {"deals": deals_frame()})
    res = e.evaluate("win_rate", P)
    check(res, {
        ("person", "p1"): 2 / 3,   # won d1, d2 of closed d1, d2, d3
        ("person", "p2"): 1.0,     # d4 of d4
        ("person", "p3"): np.nan,  # 0 / 0 -> no data, not 0
        ("person", "p4"): np.nan,
        ("team", "T1"): 0.75,      # 3 / 4
        ("team", "T2"): np.nan,
        ("company", "ACME"): 0.75,
    })
    assert rows(res, "team", "T1") == 4  # lineage counts the denominator rows


def test_sla_share():
    enq = pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p1", "p2", "p3"],
            "received_at": pd.to_datetime(["2018-01-02 09:00", "2018-01-03 09:00", "2018-02-01 09:00",
                                           "2018-03-01 08:00", "2017-12-31 23:00"]),
            "first_response_at": pd.to_datetime(["2018-01-02 15:00", "2018-01-03 21:00", "2018-02-02 09:00",
                                                 NaT, "2018-01-01 01:00"]),
        }
    )
    e = make_engine({"sla": {"kind": "sla_share", "table": "enq", "start": "received_at",
                             "end": "first_response_at", "time": "received_at", "within_hours": 12}},
                    {"enq": enq})
    res = e.evaluate("sla", P)
    # p1: 6 h (met), exactly 12 h (met), 24 h (missed); p2: never answered (missed); p3's row is in Q3
    check(res, {
        ("person", "p1"): 2 / 3,
        ("person", "p2"): 0.0,
        ("person", "p3"): np.nan,
        ("person", "p4"): np.nan,
        ("team", "T1"): 0.5,      # 2 of 4
        ("team", "T2"): np.nan,
        ("company", "ACME"): 0.5,
    })


# -- where operators ------------------------------------------------------------------------------------------

def acts_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "activity_id": ["a1", "a2", "a3", "a4", "a5", "a6", "a7"],
            "person_id": ["p1", "p1", "p1", "p2", "p2", "p3", "p3"],
            "at": pd.to_datetime(["2018-01-10"] * 7),
            "amount": [10.0, 20.0, 5.0, 30.0, 15.0, 12.0, 9.0],
            "target": [10.0, 10.0, 10.0, 20.0, 20.0, 10.0, 10.0],
            "kind": ["call", "demo", "call", "email", "demo", "call", "email"],
            "outcome": ["positive", "neutral", None, "negative", "positive", "positive", None],
        }
    )


def _count_where(where: dict) -> pd.DataFrame:
    e = make_engine({"m": {"kind": "count", "table": "acts", "time": "at", "where": where}}, {"acts": acts_frame()})
    return e.evaluate("m", P)


def _tiers(p1, p2, p3, t1, t2, c):
    return {("person", "p1"): p1, ("person", "p2"): p2, ("person", "p3"): p3,
            ("team", "T1"): t1, ("team", "T2"): t2, ("company", "ACME"): c}


@pytest.mark.parametrize(
    "where, expected",
    [
        # scalar shorthand and eq: positive = a1 (p1), a5 (p2), a6 (p3)
        ({"outcome": "positive"}, _tiers(1, 1, 1, 2, 1, 3)),
        ({"outcome": {"eq": "positive"}}, _tiers(1, 1, 1, 2, 1, 3)),
        # ne on a column without blanks: kind != call -> a2 (p1), a4, a5 (p2), a7 (p3)
        ({"kind": {"ne": "call"}}, _tiers(1, 2, 1, 3, 1, 4)),
        # list shorthand and in: positive or neutral -> a1, a2 (p1), a5 (p2), a6 (p3)
        ({"outcome": ["positive", "neutral"]}, _tiers(2, 1, 1, 3, 1, 4)),
        ({"outcome": {"in": ["positive", "neutral"]}}, _tiers(2, 1, 1, 3, 1, 4)),
        # not_in: kind not call/email -> a2 (p1), a5 (p2)
        ({"kind": {"not_in": ["call", "email"]}}, _tiers(1, 1, 0, 2, 0, 2)),
        # amount > 10: a2 20 | a4 30, a5 15 | a6 12
        ({"amount": {"gt": 10}}, _tiers(1, 2, 1, 3, 1, 4)),
        # amount >= 10: a1 10, a2 20 | a4, a5 | a6
        ({"amount": {"ge": 10}}, _tiers(2, 2, 1, 4, 1, 5)),
        # amount < 10: a3 5 | - | a7 9
        ({"amount": {"lt": 10}}, _tiers(1, 0, 1, 1, 1, 2)),
        # amount <= 10: a1, a3 | - | a7
        ({"amount": {"le": 10}}, _tiers(2, 0, 1, 2, 1, 3)),
        # range 5 < amount <= 20: a1 10, a2 20 | a5 15 | a6 12, a7 9
        ({"amount": {"gt": 5, "le": 20}}, _tiers(2, 1, 2, 3, 2, 5)),
        # is_null: outcome blank -> a3 | - | a7 ; not null -> a1, a2 | a4, a5 | a6
        ({"outcome": {"is_null": True}}, _tiers(1, 0, 1, 1, 1, 2)),
        ({"outcome": {"is_null": False}}, _tiers(2, 2, 1, 4, 1, 5)),
        # column comparisons: amount >= target -> a1 (10>=10), a2 | a4 (30>=20) | a6 (12>=10)
        ({"amount": {"ge_col": "target"}}, _tiers(2, 1, 1, 3, 1, 4)),
        # amount > target -> a2 | a4 | a6
        ({"amount": {"gt_col": "target"}}, _tiers(1, 1, 1, 2, 1, 3)),
        # amount < target -> a3 | a5 | a7
        ({"amount": {"lt_col": "target"}}, _tiers(1, 1, 1, 2, 1, 3)),
        # amount <= target -> a1, a3 | a5 | a7
        ({"amount": {"le_col": "target"}}, _tiers(2, 1, 1, 3, 1, 4)),
        # amount >= 1.5 x target: a2 20>=15 | a4 30>=30 | (a6 12 < 15)
        ({"amount": {"ge_col": "target", "times": 1.5}}, _tiers(1, 1, 0, 2, 0, 2)),
        # two columns combine with AND: demo with a positive outcome -> a5 only
        ({"kind": "demo", "outcome": "positive"}, _tiers(0, 1, 0, 1, 0, 1)),
    ],
)
def test_where_operators(where, expected):
    check(_count_where(where), expected)


def test_unknown_where_operator_raises():
    with pytest.raises(MetricError):
        _count_where({"amount": {"between": [1, 2]}})


# -- windows --------------------------------------------------------------------------------------------------

def test_window_fiscal_year_to_date():
    e = make_engine({"won_ytd": {**WON_Q, "window": "fiscal_year_to_date"}}, {"deals": deals_frame()})
    res = e.evaluate("won_ytd", P)
    # FY2017-18 = [2017-04-01, 2018-04-01): d1, d2 (p1), d4 (p2), d6 (p3, 2017-11-05); d7 is FY2016-17
    check(res, _tiers(2, 1, 1, 3, 1, 4))


def test_window_fiscal_year_to_date_of_a_month():
    e = make_engine({"won_ytd": {**WON_Q, "window": "fiscal_year_to_date"}}, {"deals": deals_frame()})
    jan = Q4.months()[0]
    res = e.evaluate("won_ytd", jan)
    # [2017-04-01, 2018-02-01): d1 (p1, Jan 10), d4 (p2, Jan 20), d6 (p3)
    check(res, _tiers(1, 1, 1, 2, 1, 3))


def test_window_all_to_date():
    e = make_engine({"won_all": {**WON_Q, "window": "all_to_date"}}, {"deals": deals_frame()})
    res = e.evaluate("won_all", P)
    # everything won before 2018-04-01: d1, d2 | d4 | d6, d7 ; d8 (2018-04-02) is after the end
    check(res, _tiers(2, 1, 2, 3, 2, 5))


# -- rates ----------------------------------------------------------------------------------------------------

def test_rate_per_weekday_day_week_month_period():
    base = {"won": WON_Q}
    for per in ("weekday", "day", "week", "month", "period"):
        base[f"won_per_{per}"] = {"kind": "rate", "of": "won", "per": per}
    e = make_engine(base, {"deals": deals_frame()})
    # won in Q4: p1 2, p2 1, p3 0, T1 3, T2 0, company 3
    check(e.evaluate("won_per_weekday", P), _tiers(2 / 65, 1 / 65, 0, 3 / 65, 0, 3 / 65))
    check(e.evaluate("won_per_day", P), _tiers(2 / 90, 1 / 90, 0, 3 / 90, 0, 3 / 90))
    # 90 days = 90/7 weeks
    check(e.evaluate("won_per_week", P), _tiers(2 * 7 / 90, 7 / 90, 0, 3 * 7 / 90, 0, 3 * 7 / 90))
    check(e.evaluate("won_per_month", P), _tiers(2 / 3, 1 / 3, 0, 1.0, 0, 1.0))
    check(e.evaluate("won_per_period", P), _tiers(2, 1, 0, 3, 0, 3))
    assert math.isnan(val(e.evaluate("won_per_weekday", P), "person", "p4"))


def test_rate_per_weekday_over_clipped_quarter():
    e = make_engine({"won": WON_Q, "r": {"kind": "rate", "of": "won", "per": "weekday"}}, {"deals": deals_frame()})
    p = P.clipped(T("2018-02-14"))
    # [2018-01-01, 2018-02-15): 23 January weekdays + 10 in Feb 1-14 = 33; won: d1, d2 (p1), d4 (p2)
    check(e.evaluate("r", p), _tiers(2 / 33, 1 / 33, 0, 3 / 33, 0, 3 / 33))


def test_rate_per_month_per_head():
    e = make_engine(
        {"won": WON_Q, "won_pm_ph": {"kind": "rate", "of": "won", "per": "month", "per_head": True,
                                     "head_where": {"role": "sales"}}},
        {"deals": deals_frame()},
    )
    res = e.evaluate("won_pm_ph", P)
    # heads (role sales, active in Q4): p1, p2 (T1), p4 (T2); p3 is a manager
    check(res, {
        ("person", "p1"): 2 / 3,       # 2 won / 3 months / 1 head
        ("person", "p2"): 1 / 3,
        ("person", "p3"): np.nan,      # not a head
        ("person", "p4"): np.nan,      # no data
        ("team", "T1"): 0.5,           # 3 / 3 / 2 heads
        ("team", "T2"): 0.0,           # 0 / 3 / 1 head (p4)
        ("company", "ACME"): 1 / 3,    # 3 / 3 / 3 heads
    })


def test_per_head_counts_only_people_active_in_the_period():
    people = people_frame()
    # p2 left before Q4 started, p4 joined after it ended: neither is a head in Q4
    people.loc[people["person_id"] == "p2", "ended_at"] = T("2017-12-15")
    people.loc[people["person_id"] == "p4", "started_at"] = T("2018-05-01")
    e = make_engine(
        {"won": WON_Q, "r": {"kind": "rate", "of": "won", "per": "period", "per_head": True}},
        {"deals": deals_frame()}, people=people,
    )
    res = e.evaluate("r", P)
    check(res, {
        ("person", "p1"): 2.0,
        ("person", "p2"): np.nan,   # not a head in Q4 any more
        ("team", "T1"): 3.0,        # 3 won / 1 head (p1)
        ("team", "T2"): 0.0,        # 0 / 1 head (p3)
        ("company", "ACME"): 1.5,   # 3 / 2 heads (p1, p3)
    })


def test_rate_on_a_team_owned_table():
    trainings = pd.DataFrame(
        {
            "training_id": ["t1", "t2", "t3", "t4", "t5"],
            "team_id": ["T1", "T1", "T1", "T2", "T2"],
            "held_at": pd.to_datetime(["2018-01-10", "2018-02-10", "2018-03-10", "2018-03-20", "2017-12-01"]),
        }
    )
    e = make_engine({"n": {"kind": "count", "table": "trainings", "time": "held_at"},
                     "per_month": {"kind": "rate", "of": "n", "per": "month"}}, {"trainings": trainings})
    res = e.evaluate("per_month", P)
    # T1: 3 sessions / 3 months = 1.0 ; T2: 1 / 3 ; company 4 / 3 ; no person tier on a team table
    check(res, {("team", "T1"): 1.0, ("team", "T2"): 1 / 3, ("company", "ACME"): 4 / 3,
                ("person", "p1"): np.nan})
    assert "person" not in set(res.index.get_level_values("tier"))


# -- growth ---------------------------------------------------------------------------------------------------

def sales_frame(rows_: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({"person_id": [r[0] for r in rows_], "at": pd.to_datetime([r[1] for r in rows_]),
                         "amount": [r[2] for r in rows_]})


SUM_SALES = {"kind": "sum", "table": "sales", "column": "amount", "time": "at"}


def test_growth_vs_previous_quarter():
    sales = sales_frame([
        ("p1", "2017-11-01", 100), ("p1", "2018-02-01", 150),
        ("p2", "2017-10-15", 50), ("p2", "2018-01-15", 25),
        ("p3", "2017-12-01", 200),                           # nothing in Q4 -> 0
        ("p4", "2018-03-01", 40),                            # nothing in Q3 -> 0 base
    ])
    e = make_engine({"rev": SUM_SALES, "g": {"kind": "growth", "of": "rev"}}, {"sales": sales})
    res = e.evaluate("g", P)
    check(res, {
        ("person", "p1"): 0.5,          # 150 / 100 - 1
        ("person", "p2"): -0.5,         # 25 / 50 - 1
        ("person", "p3"): -1.0,         # 0 / 200 - 1
        ("person", "p4"): np.nan,       # 40 / 0: no base, no growth
        ("team", "T1"): 175 / 150 - 1,  # (150 + 25) / (100 + 50) - 1
        ("team", "T2"): -0.8,           # 40 / 200 - 1
        ("company", "ACME"): 215 / 350 - 1,
    })


def test_growth_compound_from_quarter_label():
    sales = sales_frame([
        ("p1", "2017-08-01", 100), ("p1", "2018-02-01", 121),   # Q2 -> Q4
        ("p2", "2017-08-15", 300), ("p2", "2018-03-01", 363),
        ("p3", "2017-09-01", 100), ("p3", "2018-01-20", 144),
        ("p1", "2017-11-01", 5000),                              # Q3 is skipped by the compounding
    ])
    e = make_engine({"rev": SUM_SALES, "cg": {"kind": "growth", "of": "rev", "compound_from": "FY2017-18 Q2"}},
                    {"sales": sales})
    res = e.evaluate("cg", P)
    # two quarters from Q2 to Q4: (now / base) ** (1/2) - 1
    check(res, {
        ("person", "p1"): 0.1,                  # sqrt(121/100) = 1.1
        ("person", "p2"): 0.1,                  # sqrt(363/300) = sqrt(1.21)
        ("person", "p3"): 0.2,                  # sqrt(144/100) = 1.2
        ("team", "T1"): 0.1,                    # sqrt(484/400)
        ("team", "T2"): 0.2,
        ("company", "ACME"): 1.256 ** 0.5 - 1,  # (121 + 363 + 144) / (100 + 300 + 100) = 628/500
    })


def test_growth_compound_over_three_quarters():
    sales = sales_frame([("p1", "2017-05-01", 1000), ("p1", "2018-02-01", 1331)])
    e = make_engine({"rev": SUM_SALES, "cg": {"kind": "growth", "of": "rev", "compound_from": "2017Q1"}},
                    {"sales": sales})
    res = e.evaluate("cg", P)
    # 1331 / 1000 = 1.1 ** 3 -> 10 % a quarter
    check(res, {("person", "p1"): 0.1, ("team", "T1"): 0.1, ("company", "ACME"): 0.1})


def test_growth_compound_from_not_before_raises():
    sales = sales_frame([("p1", "2018-02-01", 1)])
    e = make_engine({"rev": SUM_SALES, "cg": {"kind": "growth", "of": "rev", "compound_from": "FY2017-18 Q4"}},
                    {"sales": sales})
    with pytest.raises(MetricError):
        e.evaluate("cg", P)


def test_growth_mid_quarter_compares_same_elapsed_length():
    sales = sales_frame([
        ("p1", "2017-10-10", 60), ("p1", "2017-12-10", 40),    # Q3: only Oct 10 lies in the first 45 days
        ("p1", "2018-01-10", 90),
        ("p2", "2017-11-14", 20), ("p2", "2017-11-15", 500),   # Nov 14 in, Nov 15 out
        ("p2", "2018-02-14", 30),
        ("p3", "2017-10-01", 10), ("p3", "2018-02-01", 15), ("p3", "2018-03-01", 1000),  # March is not yet
    ])
    e = make_engine({"rev": SUM_SALES, "g": {"kind": "growth", "of": "rev"}}, {"sales": sales})
    clipped = P.clipped(T("2018-02-14"))
    # now = [2018-01-01, 2018-02-15) = 45 days; base = [2017-10-01, 2017-11-15)
    res = e.evaluate("g", clipped)
    check(res, {
        ("person", "p1"): 0.5,             # 90 / 60 - 1
        ("person", "p2"): 0.5,             # 30 / 20 - 1
        ("person", "p3"): 0.5,             # 15 / 10 - 1
        ("team", "T1"): 120 / 80 - 1,      # (90 + 30) / (60 + 20) - 1 = 0.5
        ("team", "T2"): 0.5,
        ("company", "ACME"): 0.5,          # 135 / 90 - 1
    })


def test_growth_mid_month_compares_same_elapsed_length_of_previous_month():
    sales = sales_frame([
        ("p1", "2018-01-05", 100), ("p1", "2018-01-20", 900),   # only Jan 1-14 should be the base
        ("p1", "2018-02-10", 150),
        ("p3", "2018-01-10", 40), ("p3", "2018-01-25", 60),
        ("p3", "2018-02-05", 20),
    ])
    e = make_engine({"rev": SUM_SALES, "g": {"kind": "growth", "of": "rev"}}, {"sales": sales})
    feb = Q4.months()[1].clipped(T("2018-02-14"))
    # now = [2018-02-01, 2018-02-15) = 14 days; the fair base is [2018-01-01, 2018-01-15)
    res = e.evaluate("g", feb)
    check(res, {
        ("person", "p1"): 0.5,       # 150 / 100 - 1
        ("person", "p3"): -0.5,      # 20 / 40 - 1
        ("team", "T1"): 0.5,
        ("team", "T2"): -0.5,
        ("company", "ACME"): 170 / 140 - 1,
    })


# -- coverage -------------------------------------------------------------------------------------------------

def test_coverage_against_reference_list():
    regions = pd.DataFrame({"region_id": ["R1", "R2", "R3", "R4", "R5", "R6"],
                            "is_active": [True, True, True, True, True, False]})
    e = make_engine({"cov": {"kind": "coverage", "table": "deals", "column": "region_id", "time": "closed_at",
                             "where": WON, "reference": "regions", "reference_column": "region_id",
                             "reference_where": {"is_active": True}}},
                    {"deals": deals_frame(), "regions": regions})
    res = e.evaluate("cov", P)
    # 5 active regions. Won in Q4: d1 p1 R1, d2 p1 R6 (inactive: not counted), d4 p2 R3
    check(res, {
        ("person", "p1"): 1 / 5,
        ("person", "p2"): 1 / 5,
        ("person", "p3"): 0.0,
        ("person", "p4"): np.nan,
        ("team", "T1"): 2 / 5,    # R1, R3
        ("team", "T2"): 0.0,
        ("company", "ACME"): 2 / 5,
    })


# -- conversion -----------------------------------------------------------------------------------------------

def test_conversion_within_window():
    stages = pd.DataFrame(
        {
            "lead_id": ["L1", "L1", "L2", "L2", "L3", "L5", "L5", "L6", "L6", "L7", "L7"],
            "person_id": ["p1", "p1", "p1", "p1", "p2", "p3", "p3", "p3", "p3", "p2", "p2"],
            "stage": ["mql", "sql", "mql", "sql", "mql", "mql", "sql", "mql", "won", "mql", "sql"],
            "changed_at": pd.to_datetime(
                ["2018-01-10", "2018-01-25",    # L1 converts after 15 days: in time
                 "2018-02-01", "2018-03-15",    # L2 after 42 days: too late
                 "2018-03-01",                  # L3 never converts
                 "2017-12-01", "2017-12-05",    # L5 is a Q3 cohort member
                 "2018-01-05", "2018-01-20",    # L6 reaches 'won' after 15 days
                 "2018-01-02", "2018-02-01"]    # L7 after exactly 30 days: still in time
            ),
        }
    )
    e = make_engine({"conv": {"kind": "conversion", "table": "stages", "entity": "lead_id", "stage_column": "stage",
                              "from_stage": "mql", "to_stage": ["sql", "won"], "within_days": 30,
                              "time": "changed_at"}}, {"stages": stages})
    res = e.evaluate("conv", P)
    check(res, {
        ("person", "p1"): 0.5,        # L1 yes, L2 no
        ("person", "p2"): 0.5,        # L3 no, L7 yes
        ("person", "p3"): 1.0,        # L6 yes (L5 not in the cohort)
        ("person", "p4"): np.nan,
        ("team", "T1"): 0.5,          # 2 of L1, L2, L3, L7
        ("team", "T2"): 1.0,
        ("company", "ACME"): 0.6,     # 3 of 5
    })
    assert rows(res, "company", "ACME") == 5


# -- snapshot -------------------------------------------------------------------------------------------------

def test_snapshot_open_at_period_end():
    e = make_engine({"open": {"kind": "snapshot", "table": "deals", "start": "engaged_at", "end": "closed_at"}},
                    {"deals": deals_frame()})
    res = e.evaluate("open", P)
    # open on 2018-04-01: engaged before it and not closed before it.
    # d8 (p1, closed 2018-04-02) and d9 (p2, never closed) are open; d10 (p3) starts after the end.
    check(res, _tiers(1, 1, 0, 2, 0, 2))
    assert math.isnan(val(res, "person", "p4"))
    # at the end of January, open deals are: d2 (engaged Jan 15, closed Feb 10), d3 (Jan 20 -> Mar 1)
    jan = e.evaluate("open", Q4.months()[0])
    check(jan, _tiers(2, 0, 0, 2, 0, 2))


# -- headcount ------------------------------------------------------------------------------------------------

def test_headcount_at_period_end_and_relative_to():
    people = pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3", "p4", "p5"],
            "team_id": ["T1", "T1", "T2", "T2", "T1"],
            "role": ["sales", "sales", "sales", "manager", "sales"],
            "started_at": pd.to_datetime(["2016-01-01", "2018-02-01", "2016-01-01", "2016-01-01", "2018-04-01"]),
            "ended_at": pd.to_datetime([NaT, NaT, "2018-03-31", "2018-01-31", NaT]),
        }
    )
    e = make_engine({"hc": {"kind": "headcount"},
                     "hc_x": {"kind": "headcount", "relative_to": "2017-09-30"},
                     "sales_hc": {"kind": "headcount", "where": {"role": "sales"}}},
                    {}, people=people)
    # on 2018-03-31: p1, p2 (joined Feb), p3 (last day is Mar 31); p4 left in January, p5 joins in April
    check(e.evaluate("hc", P), {("team", "T1"): 2, ("team", "T2"): 1, ("company", "ACME"): 3,
                                ("person", "p1"): np.nan})
    # on 2017-09-30: p1, p3, p4 -> T1 1, T2 2, company 3
    check(e.evaluate("hc_x", P), {("team", "T1"): 2.0, ("team", "T2"): 0.5, ("company", "ACME"): 1.0,
                                  ("person", "p1"): np.nan})
    check(e.evaluate("sales_hc", P), {("team", "T1"): 2, ("team", "T2"): 1, ("company", "ACME"): 3})
    assert "person" not in set(e.evaluate("hc", P).index.get_level_values("tier"))


def test_headcount_team_without_people_is_zero_and_ratio_to_zero_is_no_data():
    people = pd.DataFrame(
        {
            "person_id": ["p1", "p2"],
            "team_id": ["T1", "T2"],
            "started_at": pd.to_datetime(["2016-01-01", "2018-01-10"]),
            "ended_at": pd.to_datetime([NaT, NaT]),
        }
    )
    e = make_engine({"hc": {"kind": "headcount"}, "hc_x": {"kind": "headcount", "relative_to": "2017-12-31"}},
                    {}, people=people, teams=["T1", "T2", "T3"])
    check(e.evaluate("hc", P), {("team", "T1"): 1, ("team", "T2"): 1, ("team", "T3"): 0, ("company", "ACME"): 2})
    # base on 2017-12-31: T1 1, T2 0, T3 0 -> T2 1/0 and T3 0/0 have no data; company 2/1
    check(e.evaluate("hc_x", P), {("team", "T1"): 1.0, ("team", "T2"): np.nan, ("team", "T3"): np.nan,
                                  ("company", "ACME"): 2.0})


# -- manual and milestone -------------------------------------------------------------------------------------

def test_manual_and_milestone_come_from_checkins():
    metrics = {"rank": {"kind": "manual"}, "site": {"kind": "milestone"}}
    e = make_engine(metrics, {})
    assert e.evaluate("rank", P).empty
    assert e.evaluate("site", P).empty
    krs = pd.DataFrame(
        {
            "tier": ["person", "team", "company", "company", "person"],
            "owner_id": ["p1", "T1", "ACME", "ACME", "p2"],
            "kr_id": ["k_rank", "k_rank", "k_site", "k_site2", "k_rank"],
            "metric": ["rank", "rank", "site", "site", "rank"],
            "quarterly_value": ["period"] * 5,
            "partial_credit": [False, False, False, True, False],
            "target": [3.0, 3.0, 1.0, 1.0, 3.0],
            "direction": ["at_most", "at_most", "increase", "increase", "at_most"],
        }
    )
    checkins = pd.DataFrame(
        {
            "kr_id": ["k_rank", "k_rank", "k_rank", "k_rank", "k_site", "k_site2"],
            "owner_id": ["p1", "p1", "p1", "T1", "ACME", "ACME"],
            "checked_at": pd.to_datetime(["2018-01-10", "2018-03-20", "2018-04-05", "2018-02-01", "2018-03-01",
                                          "2018-03-01"]),
            "value": [5.0, 4.0, 2.0, 3.0, 0.5, 0.5],
            "note": ["a", "b", "c", "d", "e", "f"],
        }
    )
    out = compute_actuals(krs, e, checkins, Q4).set_index(["tier", "owner_id", "kr_id"])
    # p1: latest check-in up to 2018-03-31 is 4 (Mar 20); the April one is after the quarter
    assert out.loc[("person", "p1", "k_rank"), "actual"] == 4.0
    assert out.loc[("person", "p1", "k_rank"), "note"] == "b"
    assert out.loc[("team", "T1", "k_rank"), "actual"] == 3.0
    # milestone half done without partial credit -> not done (0); with partial credit -> 0.5
    assert out.loc[("company", "ACME", "k_site"), "actual"] == 0.0
    assert out.loc[("company", "ACME", "k_site2"), "actual"] == 0.5
    # no check-in at all: no data, not 0
    assert math.isnan(out.loc[("person", "p2", "k_rank"), "actual"])
    assert out.loc[("person", "p2", "k_rank"), "rows"] == 0
    assert (out["source"] == "manual").all()


# -- no data vs zero ------------------------------------------------------------------------------------------

def test_no_data_versus_zero():
    t = pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p2"],
            "at": pd.to_datetime(["2018-01-05", "2018-02-05", "2017-11-05"]),
            "amount": [10.0, 20.0, 99.0],
        }
    )
    people = pd.DataFrame({"person_id": ["p1", "p2", "p3"], "team_id": ["T1", "T1", "T2"],
                           "started_at": pd.to_datetime([NaT] * 3), "ended_at": pd.to_datetime([NaT] * 3)})
    e = make_engine({"n": {"kind": "count", "table": "t", "time": "at"},
                     "s": {"kind": "sum", "table": "t", "column": "amount", "time": "at"},
                     "m": {"kind": "mean", "table": "t", "column": "amount", "time": "at"},
                     "r": {"kind": "ratio", "numerator": "s", "denominator": "n"}},
                    {"t": t}, people=people)
    # p1 has rows in Q4; p2 only in Q3 (real 0); p3 none at all (no data); T2 = {p3} has no rows (no data)
    check(e.evaluate("n", P), {("person", "p1"): 2, ("person", "p2"): 0, ("person", "p3"): np.nan,
                               ("team", "T1"): 2, ("team", "T2"): np.nan, ("company", "ACME"): 2})
    check(e.evaluate("s", P), {("person", "p1"): 30, ("person", "p2"): 0, ("person", "p3"): np.nan,
                               ("team", "T1"): 30, ("team", "T2"): np.nan, ("company", "ACME"): 30})
    check(e.evaluate("m", P), {("person", "p1"): 15, ("person", "p2"): np.nan, ("person", "p3"): np.nan,
                               ("team", "T1"): 15, ("team", "T2"): np.nan, ("company", "ACME"): 15})
    # ratio with a zero denominator: no data, never 0 or inf
    check(e.evaluate("r", P), {("person", "p1"): 15, ("person", "p2"): np.nan, ("person", "p3"): np.nan,
                               ("team", "T1"): 15, ("team", "T2"): np.nan, ("company", "ACME"): 15})


def test_empty_table_gives_no_data_even_for_the_company():
    t = pd.DataFrame({"person_id": pd.Series([], dtype=object), "at": pd.Series([], dtype="datetime64[ns]")})
    e = make_engine({"n": {"kind": "count", "table": "t", "time": "at"}}, {"t": t})
    res = e.evaluate("n", P)
    assert math.isnan(val(res, "person", "p1"))
    assert math.isnan(val(res, "team", "T1"))
    # the company has no row at all in the table either: no data, not a count of 0
    assert math.isnan(val(res, "company", "ACME"))


def test_table_without_owner_columns_gives_company_value_only():
    visits = pd.DataFrame({"at": pd.to_datetime(["2018-01-05", "2018-02-01", "2017-12-01"]),
                           "source": ["newsletter", "search", "newsletter"]})
    e = make_engine({"n": {"kind": "count", "table": "visits", "time": "at", "where": {"source": "newsletter"}}},
                    {"visits": visits})
    res = e.evaluate("n", P)
    # only the 2018-01-05 newsletter visit is in Q4; there is no person or team to attribute it to
    assert val(res, "company", "ACME") == 1.0
    assert set(res.index.get_level_values("tier")) == {"company"}


# -- quarter_values -------------------------------------------------------------------------------------------

def test_quarter_values_mean_of_months_and_last_month():
    e = make_engine({"won": WON_Q}, {"deals": deals_frame()})
    # monthly won: Jan p1 1 (d1), p2 1 (d4); Feb p1 1 (d2); Mar none
    q, labels, monthly = quarter_values(e, "won", Q4, "mean_of_months", None)
    assert labels == ["2018-01", "2018-02", "2018-03"]
    check(q, {("person", "p1"): 2 / 3, ("person", "p2"): 1 / 3, ("person", "p3"): 0.0,
              ("team", "T1"): 1.0, ("team", "T2"): 0.0, ("company", "ACME"): 1.0})  # T1: (2 + 1 + 0) / 3
    last, _, _ = quarter_values(e, "won", Q4, "last_month", None)
    check(last, _tiers(0, 0, 0, 0, 0, 0))
    # mid-quarter: only January and the first half of February exist yet
    mid, labels, monthly = quarter_values(e, "won", Q4, "period", T("2018-02-05"))
    assert labels == ["2018-01", "2018-02"]
    check(mid, _tiers(1, 1, 0, 2, 0, 2))  # d2 (Feb 10) is after as_of


# -- errors ---------------------------------------------------------------------------------------------------

def test_unknown_metric_raises():
    e = make_engine({"won": WON_Q}, {"deals": deals_frame()})
    with pytest.raises(MetricError, match="nope"):
        e.evaluate("nope", P)


def test_ratio_of_unknown_metric_raises():
    e = make_engine({"r": {"kind": "ratio", "numerator": "won", "denominator": "missing"}, "won": WON_Q},
                    {"deals": deals_frame()})
    with pytest.raises(MetricError, match="missing"):
        e.evaluate("r", P)


@pytest.mark.parametrize(
    "definition, tables_needed",
    [
        ({"kind": "sum", "table": "deals", "column": "revenue", "time": "closed_at"}, "deals"),
        ({"kind": "count", "table": "deals", "time": "closed_on"}, "deals"),
        ({"kind": "count", "table": "deals", "time": "closed_at", "where": {"status": "won"}}, "deals"),
        ({"kind": "count", "table": "deals", "time": "closed_at", "where": {"amount": {"ge_col": "quota"}}}, "deals"),
        ({"kind": "mean", "table": "deals", "column": "amount", "divide_by": "qty", "time": "closed_at"}, "deals"),
        ({"kind": "sla_share", "table": "deals", "start": "engaged_at", "end": "answered_at", "time": "closed_at",
          "within_hours": 12}, "deals"),
        ({"kind": "duration_mean", "table": "deals", "start": "opened_at", "end": "closed_at"}, "deals"),
        ({"kind": "distinct", "table": "deals", "column": "account", "time": "closed_at"}, "deals"),
        ({"kind": "count", "table": "orders", "time": "closed_at"}, "deals"),
        ({"kind": "snapshot", "table": "deals", "start": "opened_at"}, "deals"),
        ({"kind": "coverage", "table": "deals", "column": "region_id", "time": "closed_at", "reference": "regions",
          "reference_column": "code"}, "deals"),
        ({"kind": "conversion", "table": "deals", "entity": "lead_id", "stage_column": "stage",
          "from_stage": "open", "to_stage": "won", "within_days": 30, "time": "closed_at"}, "deals"),
    ],
)
def test_unknown_column_or_table_raises_metric_error(definition, tables_needed):
    regions = pd.DataFrame({"region_id": ["R1"]})
    e = make_engine({"m": definition}, {"deals": deals_frame(), "regions": regions})
    with pytest.raises(MetricError):
        e.evaluate("m", P)


def test_first_seen_without_time_column_raises_metric_error():
    e = make_engine({"m": {"kind": "distinct", "table": "deals", "column": "customer_id", "first_seen": True}},
                    {"deals": deals_frame()})
    with pytest.raises(MetricError):
        e.evaluate("m", P)


def test_evaluate_is_memoised_per_period():
    e = make_engine({"won": WON_Q}, {"deals": deals_frame()})
    a = e.evaluate("won", P)
    assert e.evaluate("won", P) is a
    # a different period is a different result: January has d1 (p1), d4 (p2)
    jan = e.evaluate("won", Q4.months()[0])
    check(jan, _tiers(1, 1, 0, 2, 0, 2))
