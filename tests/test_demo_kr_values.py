"""Demo KR values recomputed from the raw exports and compared with what the product published.

The expected side never touches ``transforms`` or ``flows``: every export is read here with plain pandas,
with its encoding, date format, column names and value labels written out by hand (so the workspace's
column mapping and value aliases are checked too). Each KR's formula is stated in its test's docstring,
following the metric definition in data/demo/okr.yaml.

Conventions used by every computation below (they are the product's documented rules):

- a row belongs to a period when its timestamp falls in [start, end); FY2017-18 starts on 2017-04-01,
  so Q4 = [2018-01-01, 2018-04-01) and Q2 = [2017-07-01, 2017-10-01);
- person scope = rows whose owner column names the person; team scope = rows whose owner belongs to the
  team in the people directory (tables with their own team column use that column); company scope = all
  rows;
- an owner with no row at all in a metric's table has no data (NaN), never 0; an owner with rows, but
  none in the period, has a real 0 for counts; a ratio, share or mean over nothing is no data;
- weekdays are Monday to Friday; a quarter has 3 months and (days / 7) weeks.

Floats are compared to 1e-9 relative (kr_values.csv keeps 10 significant digits), counts exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"

EXPORTS = DEMO / "exports"
COMPANY = "xinghe"

Q4 = (pd.Timestamp("2018-01-01"), pd.Timestamp("2018-04-01"))
Q3 = (pd.Timestamp("2017-10-01"), pd.Timestamp("2018-01-01"))
Q2 = (pd.Timestamp("2017-07-01"), pd.Timestamp("2017-10-01"))
PRIOR_FY_Q4 = (pd.Timestamp("2017-01-01"), pd.Timestamp("2017-04-01"))
FY_START = pd.Timestamp("2017-04-01")
DEMO_Q2_QUARTER = "FY2017-18-Q2"

REL = 1e-9
MIN_PERSON_OWNERS = 10

# -- value labels of the exports, written out by hand ------------------------------------------------

TEAM_LABELS = {
    "华东大区": "east",
    "华南大区": "south",
    "华北大区": "north",
    "西南大区": "southwest",
    "华中大区": "central",
    "西北大区": "northwest",
    "渠道分销部": "channel",
    "电商与电话销售部": "ecommerce",
}
ROLE_LABELS = {"销售": "sales", "团队负责人": "team_lead", "高管": "executive"}
YES_NO = {"Yes": True, "No": False}


# -- raw readers ---------------------------------------------------------------------------------------

def _csv(name: str, encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV export as text; empty cells are NaN."""
    return pd.read_csv(EXPORTS / name, encoding=encoding, dtype=str, keep_default_na=False, na_values=[""])


def _dates(s: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(s, format=fmt)


def _xlsx(name: str, sheet: str) -> pd.DataFrame:
    return pd.read_excel(EXPORTS / name, sheet_name=sheet, engine="openpyxl")


ISO = "%Y-%m-%d %H:%M:%S"


@cache
def people() -> pd.DataFrame:
    raw = _xlsx("people.xlsx", "员工名册")
    return pd.DataFrame({
        "person_id": raw["工号"].astype(str),
        "name": raw["姓名"].astype(str),
        "team": raw["团队"].map(TEAM_LABELS),
        "role": raw["角色"].map(ROLE_LABELS),
        "started": pd.to_datetime(raw["入职日期"]),
        "ended": pd.to_datetime(raw["离职日期"]),
    })


@cache
def team_of() -> dict[str, str]:
    p = people()
    return {pid: t for pid, t in zip(p["person_id"], p["team"]) if isinstance(t, str)}


@cache
def team_ids() -> list[str]:
    return _xlsx("teams.xlsx", "teams")["Team ID"].astype(str).tolist()


@cache
def region_codes() -> frozenset[str]:
    return frozenset(_xlsx("regions.xlsx", "regions")["代码"].astype(str))


def salespeople(period: tuple[pd.Timestamp, pd.Timestamp]) -> list[str]:
    """Salespeople with a team, employed at some point in [start, end)."""
    p = people()
    start, end = period
    active = (p["started"] < end) & (p["ended"].isna() | (p["ended"] >= start))
    return sorted(p.loc[active & (p["role"] == "sales") & p["team"].notna(), "person_id"])


def _with_team(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(team=df["person"].map(team_of()))


@cache
def leads() -> pd.DataFrame:
    """leads.csv: GB18030, CRLF, Chinese headers, 'YYYY/MM/DD HH:MM' dates."""
    raw = _csv("leads.csv", encoding="gb18030")
    return _with_team(pd.DataFrame({
        "lead": raw["线索编号"],
        "person": raw["负责人工号"],
        "created": _dates(raw["创建时间"], "%Y/%m/%d %H:%M"),
        "closed": _dates(raw["关闭时间"], "%Y/%m/%d %H:%M"),
    }))


@cache
def stages() -> pd.DataFrame:
    raw = _csv("lead_stage_history.csv")
    stage = raw["Stage"].map({"Prospect": "prospect", "MQL": "mql", "SQL": "sql", "Won": "won", "Lost": "lost"})
    assert stage.notna().all(), "unexpected lead stage label"
    return _with_team(pd.DataFrame({
        "lead": raw["Lead ID"],
        "person": raw["Owner"],
        "stage": stage,
        "at": _dates(raw["Changed Date"], ISO),
    }))


@cache
def activities() -> pd.DataFrame:
    """activities.csv: UTF-8 with a byte order mark."""
    raw = _csv("activities.csv", encoding="utf-8-sig")
    kind = raw["Activity Type"].map({"Call": "call", "Email": "email", "Meeting": "meeting", "Demo": "demo",
                                     "Cross-sell pitch": "cross_sell_pitch"})
    outcome = raw["Result"].map({"Positive": "positive", "Neutral": "neutral", "Negative": "negative"})
    assert kind.notna().all() and outcome.notna().all(), "unexpected activity label"
    return _with_team(pd.DataFrame({
        "person": raw["Assigned To"],
        "lead": raw["Lead ID"],
        "kind": kind,
        "outcome": outcome,
        "at": _dates(raw["Activity Date"], ISO),
    }))


@cache
def deals() -> pd.DataFrame:
    raw = _csv("deals.csv")
    stage = raw["Stage"].map({"Closed Won": "won", "Closed Lost": "lost", "Open": "open"})
    assert stage.notna().all(), "unexpected deal stage label"
    return _with_team(pd.DataFrame({
        "person": raw["Opportunity Owner"],
        "customer": raw["Account ID"],
        "region": raw["Region"],
        "stage": stage,
        "amount": pd.to_numeric(raw["Amount (CNY)"]),
        "closed": _dates(raw["Close Date"], ISO),
        "cross_sell": raw["Cross-sell"].map(YES_NO),
    }))


@cache
def enquiries() -> pd.DataFrame:
    """enquiries.csv: day-first dates 'DD/MM/YYYY HH:MM'; unanswered enquiries have no reply time."""
    raw = _csv("enquiries.csv")
    return _with_team(pd.DataFrame({
        "person": raw["Assigned Rep"],
        "received": _dates(raw["Received"], "%d/%m/%Y %H:%M"),
        "replied": _dates(raw["First Reply"], "%d/%m/%Y %H:%M"),
    }))


@cache
def complaints() -> pd.DataFrame:
    raw = _csv("complaints.csv")
    return _with_team(pd.DataFrame({
        "person": raw["Assignee"],
        "opened": _dates(raw["Opened"], ISO),
        "resolved": _dates(raw["Resolved"], ISO),
    }))


@cache
def surveys() -> pd.DataFrame:
    raw = _csv("surveys.csv")
    return _with_team(pd.DataFrame({
        "person": raw["Salesperson"],
        "at": _dates(raw["Submitted At"], ISO),
        "feature_x": pd.to_numeric(raw["Feature X Score"]),
        "best_other": pd.to_numeric(raw["Best Other Feature Score"]),
        "efficient": raw["Rep Efficient"].map(YES_NO),
        "satisfied": raw["Satisfied"].map(YES_NO),
    }))


@cache
def newsletters() -> pd.DataFrame:
    raw = _csv("newsletter_sends.csv")
    return _with_team(pd.DataFrame({
        "person": raw["Sender"],
        "at": _dates(raw["Sent At"], ISO),
        "recipients": pd.to_numeric(raw["Recipients"]),
        "clicks": pd.to_numeric(raw["Unique Clicks"]),
    }))


@cache
def distributor_sales() -> pd.DataFrame:
    raw = _csv("distributor_sales.csv")
    return pd.DataFrame({
        "team": raw["Channel Team"],
        "month": _dates(raw["Month"], "%Y-%m-%d"),
        "sales": pd.to_numeric(raw["Sales (CNY)"]),
        "target": pd.to_numeric(raw["Target (CNY)"]),
    })


@cache
def trade_events() -> pd.DataFrame:
    raw = _xlsx("trade_events.xlsx", "展会记录")
    return pd.DataFrame({
        "event": raw["展会编号"].astype(str),
        "person": raw["工号"].astype(str),
        "on": pd.to_datetime(raw["参展日期"]),
    })


# -- calendar ----------------------------------------------------------------------------------------

def weekdays(period: tuple[pd.Timestamp, pd.Timestamp]) -> int:
    """Monday-Friday days in [start, end)."""
    start, end = period
    n, day = 0, start
    while day < end:
        n += day.weekday() < 5
        day += timedelta(days=1)
    return n


def weeks(period: tuple[pd.Timestamp, pd.Timestamp]) -> float:
    return (period[1] - period[0]).days / 7.0


def in_period(ts: pd.Series, period: tuple[pd.Timestamp, pd.Timestamp]) -> pd.Series:
    return ((ts >= period[0]) & (ts < period[1])).fillna(False)


# -- per-owner evaluation ----------------------------------------------------------------------------

NAN = float("nan")


def per_owner(
    table: pd.DataFrame,
    scope: str,
    owners: Iterable[str],
    select: Callable[[pd.DataFrame], pd.DataFrame],
    value: Callable[[pd.DataFrame], float],
    empty: float,
) -> dict[str, float]:
    """value(select(owner's rows)) per owner; NaN without any row; ``empty`` when nothing is selected.

    ``scope`` is the column naming the owner ('person' or 'team'), or None for the company.
    """
    out = {}
    for owner in owners:
        mine = table if scope is None else table[table[scope] == owner]
        if mine.empty:
            out[owner] = NAN
            continue
        chosen = select(mine)
        out[owner] = float(value(chosen)) if len(chosen) else empty
    return out


def ratio(num: dict[str, float], den: dict[str, float]) -> dict[str, float]:
    return {k: (num[k] / den[k] if den[k] and not math.isnan(den[k]) else NAN) for k in den}


# -- the product's side --------------------------------------------------------------------------------

def read_kr_values(folder: Path) -> pd.DataFrame:
    table = pd.read_csv(folder / "kr_values.csv", dtype={"owner_id": str, "kr_id": str, "tier": str})
    assert not table.empty
    return table


@pytest.fixture(scope="session")
def q4_values(demo_folder) -> pd.DataFrame:
    return read_kr_values(demo_folder)


@pytest.fixture(scope="session")
def q2_values(tmp_path_factory) -> pd.DataFrame:
    """FY2017-18 Q2 (headcount KR due then, fiscal-year-to-date windows) through the same readers, staging,
    engine and KR table a run uses, written as the run writes kr_values.csv: the scorecards' PDFs are not
    needed to check numbers (the Q4 run above is the full run through the flow)."""
    from flows import publish
    from flows.config_io import load_workspace
    from flows.extract import read_all
    from transforms.calendar import parse_quarter
    from transforms.report import compute_quarter
    from transforms.scorecards import kr_table, owner_names
    from transforms.validation import stage_workspace

    ws, ws_dir = load_workspace(DEMO)
    raw, unreadable = read_all(dict(ws.sources), ws_dir)
    tables, problems = stage_workspace(raw, ws)
    assert not unreadable and not [p for p in problems if p.severity == "error"]
    res = compute_quarter(ws, tables, parse_quarter(DEMO_Q2_QUARTER, ws.fiscal_year_start_month), None, ws.locale)
    folder = tmp_path_factory.mktemp("q2")
    publish.write_csv(kr_table(res, owner_names(res, ws, tables, ws.locale), ws.locale), folder / "kr_values.csv")
    return read_kr_values(folder)


def product_values(table: pd.DataFrame, kr_id: str, tier: str) -> dict[str, float]:
    rows = table[(table["kr_id"] == kr_id) & (table["tier"] == tier)]
    assert not rows.empty, f"{kr_id} has no {tier} row"
    assert not rows["owner_id"].duplicated().any(), f"{kr_id}: one row per owner expected"
    return {o: float(v) for o, v in zip(rows["owner_id"], pd.to_numeric(rows["actual"]))}


def assert_values(table: pd.DataFrame, kr_id: str, tier: str, expected: dict[str, float], *,
                  exact: bool = False, min_owners: int = 1, min_real: int = 1) -> None:
    """Every owner the product graded has the independently computed value."""
    got = product_values(table, kr_id, tier)
    assert len(got) >= min_owners, f"{kr_id}: only {len(got)} {tier} owners"
    missing = sorted(set(got) - set(expected))
    assert not missing, f"{kr_id}: owners the test did not expect: {missing}"
    real = [o for o in got if not math.isnan(expected[o])]
    assert len(real) >= min_real, f"{kr_id}: too few owners with data to compare ({len(real)})"
    wrong = []
    for owner, actual in sorted(got.items()):
        want = expected[owner]
        if math.isnan(want):
            ok = math.isnan(actual)
        elif exact:
            ok = actual == want
        else:
            ok = actual == pytest.approx(want, rel=REL, abs=1e-12)
        if not ok:
            wrong.append(f"{owner}: product {actual!r}, expected {want!r}")
    assert not wrong, f"{kr_id} ({tier}) differs for {len(wrong)} of {len(got)} owners:\n" + "\n".join(wrong)


def sample_people(period) -> list[str]:
    people_ = salespeople(period)
    assert len(people_) >= MIN_PERSON_OWNERS
    return people_


# ===================================================================================================
# company
# ===================================================================================================

def won_revenue(period) -> float:
    d = deals()
    return float(d.loc[(d["stage"] == "won") & in_period(d["closed"], period), "amount"].sum())


def test_c1_kr1_revenue_compound_growth(q4_values):
    """revenue_growth_compound, growth of won_revenue compounded since FY2016-17 Q4.

    won_revenue(P) = sum of 'Amount (CNY)' over deals with Stage 'Closed Won' and 'Close Date' in P.
    n = quarters from FY2016-17 Q4 to FY2017-18 Q4 = 4;
    value = (won_revenue(Q4) / won_revenue(FY2016-17 Q4)) ** (1 / n) - 1.
    """
    now, base = won_revenue(Q4), won_revenue(PRIOR_FY_Q4)
    assert now > 0 and base > 0
    expected = (now / base) ** (1 / 4) - 1
    assert_values(q4_values, "c1_kr1", "company", {COMPANY: expected})


def test_c1_kr2_customer_growth(q4_values):
    """customer_growth = paying_customers(Q4) / paying_customers(Q3) - 1.

    paying_customers(P) = distinct 'Account ID' among 'Closed Won' deals with 'Close Date' in P.
    """
    d = deals()
    won = d[d["stage"] == "won"]

    def customers(period) -> int:
        return won.loc[in_period(won["closed"], period), "customer"].nunique()

    now, before = customers(Q4), customers(Q3)
    assert before > 0
    assert_values(q4_values, "c1_kr2", "company", {COMPANY: now / before - 1})


def region_coverage_fytd(period) -> float:
    """distinct 'Region' of 'Closed Won' deals closed in [FY start, period end), among the provinces
    of regions.xlsx, / number of provinces in regions.xlsx."""
    d = deals()
    rows = d[(d["stage"] == "won") & in_period(d["closed"], (FY_START, period[1]))]
    reached = set(rows["region"].dropna()) & region_codes()
    return len(reached) / len(region_codes())


def test_c1_kr3_region_coverage_q4(q4_values):
    """region_coverage_fytd (coverage, window fiscal_year_to_date) for FY2017-18 Q4:
    provinces with a won deal closed in [2017-04-01, 2018-04-01) / 31 provinces."""
    assert len(region_codes()) == 31
    assert_values(q4_values, "c1_kr3", "company", {COMPANY: region_coverage_fytd(Q4)})


def test_c1_kr3_region_coverage_q2(q2_values):
    """region_coverage_fytd for FY2017-18 Q2: provinces with a won deal closed in [2017-04-01, 2017-10-01)
    / 31. It can only grow over the fiscal year."""
    value = region_coverage_fytd(Q2)
    assert value <= region_coverage_fytd(Q4)
    assert_values(q2_values, "c1_kr3", "company", {COMPANY: value})


# ===================================================================================================
# teams
# ===================================================================================================

def sales_headcount_on(day: pd.Timestamp) -> dict[str, int]:
    """Salespeople per team employed on ``day`` (started on or before it, not ended before it)."""
    p = people()
    on = (p["role"] == "sales") & (p["started"] <= day) & (p["ended"].isna() | (p["ended"] >= day))
    counts = p[on].groupby("team").size()
    return {t: int(counts.get(t, 0)) for t in team_ids()}


def headcount_multiple(quarter_last_day: pd.Timestamp) -> dict[str, float]:
    """sales_headcount_multiple: salespeople on the quarter's last day / salespeople on 2017-03-31."""
    now = sales_headcount_on(quarter_last_day)
    base = sales_headcount_on(pd.Timestamp("2017-03-31"))
    return {t: (now[t] / base[t] if base[t] else NAN) for t in team_ids()}


def test_t1_kr1_headcount_vs_baseline_q4(q4_values):
    """t1_kr1 sales_headcount_multiple (headcount, role sales, relative_to 2017-03-31) at Q4's end:
    per team, salespeople employed on 2018-03-31 / salespeople employed on 2017-03-31."""
    expected = headcount_multiple(pd.Timestamp("2018-03-31"))
    assert_values(q4_values, "t1_kr1", "team", expected, min_owners=len(team_ids()))


def test_t1_kr1_headcount_vs_baseline_q2(q2_values):
    """t1_kr1 in Q2, the quarter it is due: salespeople employed on 2017-09-30 / on 2017-03-31, per team.
    The README's totals (26 on 2017-03-31, 66 on 2017-09-30) are a sanity check of the reading."""
    assert sum(sales_headcount_on(pd.Timestamp("2017-03-31")).values()) == 26
    assert sum(sales_headcount_on(pd.Timestamp("2017-09-30")).values()) == 66
    expected = headcount_multiple(pd.Timestamp("2017-09-30"))
    assert_values(q2_values, "t1_kr1", "team", expected, min_owners=len(team_ids()))


def test_t1_kr2_active_leads_mean_of_month_ends(q4_values):
    """t1_kr2 active_leads (snapshot of leads, start 创建时间, end 关闭时间), quarterly value mean_of_months.

    For each month end M of Q4 (taken as the instant the next month starts: 2018-02-01, 03-01, 04-01):
    leads of the team's people with created < M and (no close time or closed >= M). Value = mean of the
    three month-end counts.
    """
    lds = leads()
    month_ends = [pd.Timestamp("2018-02-01"), pd.Timestamp("2018-03-01"), pd.Timestamp("2018-04-01")]

    def open_at(m):
        return lambda rows: rows[(rows["created"] < m) & (rows["closed"].isna() | (rows["closed"] >= m))]

    monthly = [per_owner(lds, "team", team_ids(), open_at(m), len, 0.0) for m in month_ends]
    expected = {t: sum(m[t] for m in monthly) / 3 for t in team_ids()}
    assert_values(q4_values, "t1_kr2", "team", expected, min_owners=len(team_ids()), min_real=len(team_ids()))


def leads_won_count(scope: str, owners, period) -> dict[str, float]:
    """leads_won = stage-history rows with Stage 'Won' and 'Changed Date' in the period."""
    return per_owner(stages(), scope, owners,
                     lambda r: r[(r["stage"] == "won") & in_period(r["at"], period)], len, 0.0)


def test_t1_kr3_leads_won_per_weekday(q4_values):
    """t1_kr3 leads_won_per_weekday = team's leads_won in Q4 / Monday-Friday days of Q4."""
    days = weekdays(Q4)
    assert days == 65
    won = leads_won_count("team", team_ids(), Q4)
    expected = {t: v / days for t, v in won.items()}
    assert_values(q4_values, "t1_kr3", "team", expected, min_owners=len(team_ids()), min_real=len(team_ids()))


def first_province_sales(period) -> dict[str, float]:
    """new_regions (distinct 'Region', first_seen) per team: provinces whose first 'Closed Won' deal of the
    team (over all time up to the period end) closed inside the period."""
    d = deals()

    def count(rows):
        won = rows[(rows["stage"] == "won") & (rows["closed"] < period[1])]
        first = won.groupby("region")["closed"].min()
        return pd.DataFrame({"first": first[first >= period[0]]})

    return per_owner(d, "team", team_ids(), count, len, 0.0)


def test_t2_kr2_new_provinces_per_month(q4_values):
    """t2_kr2 new_regions_per_month = team's provinces with a first-ever won deal in Q4 / 3 months."""
    new = first_province_sales(Q4)
    expected = {t: v / 3 for t, v in new.items()}
    assert_values(q4_values, "t2_kr2", "team", expected, min_owners=len(team_ids()))


def test_t3_kr1_distributor_months_over_target(q4_values):
    """t3_kr1 distributor_target_share (channel team only): distributor_sales rows with 'Month' in Q4 and
    'Sales (CNY)' >= 1.1 x 'Target (CNY)' / all distributor_sales rows with 'Month' in Q4, per
    'Channel Team'."""
    ds = distributor_sales()
    rows = ds[in_period(ds["month"], Q4) & (ds["team"] == "channel")]
    assert len(rows) > 0
    expected = {"channel": float((rows["sales"] >= 1.1 * rows["target"]).sum()) / len(rows)}
    assert_values(q4_values, "t3_kr1", "team", expected)


def enquiry_sla(period) -> dict[str, float]:
    """Share of the team's enquiries received in the period whose 'First Reply' - 'Received' <= 12 h;
    enquiries never answered are misses."""
    def share(rows):
        met = (rows["replied"] - rows["received"]) <= pd.Timedelta(hours=12)
        return met.fillna(False).mean()

    return per_owner(enquiries(), "team", team_ids(), lambda r: r[in_period(r["received"], period)], share, NAN)


def test_t4_kr1_enquiries_answered_within_12h(q4_values):
    """t4_kr1 enquiries_answered_12h (sla_share, 12 h) per team for Q4."""
    unanswered = enquiries()
    assert unanswered.loc[in_period(unanswered["received"], Q4), "replied"].isna().any(), \
        "the demo should have unanswered enquiries in Q4 (they must count as misses)"
    assert_values(q4_values, "t4_kr1", "team", enquiry_sla(Q4), min_owners=len(team_ids()),
                  min_real=len(team_ids()))


def test_t4_kr1_enquiries_answered_within_12h_q2(q2_values):
    """t4_kr1 enquiries_answered_12h per team for Q2 = [2017-07-01, 2017-10-01)."""
    assert_values(q2_values, "t4_kr1", "team", enquiry_sla(Q2), min_owners=len(team_ids()),
                  min_real=len(team_ids()))


def test_t5_kr3_efficiency_positive_share(q4_values):
    """t5_kr3 efficiency_positive_share = surveys submitted in Q4 with 'Rep Efficient' = Yes / surveys
    submitted in Q4 that answered 'Rep Efficient' (Yes or No; blank answers are left out), per team."""
    s = surveys()
    yes = per_owner(s, "team", team_ids(), lambda r: r[in_period(r["at"], Q4) & r["efficient"].eq(True)],
                    len, 0.0)
    answered = per_owner(s, "team", team_ids(), lambda r: r[in_period(r["at"], Q4) & r["efficient"].notna()],
                         len, 0.0)
    assert_values(q4_values, "t5_kr3", "team", ratio(yes, answered), min_owners=len(team_ids()),
                  min_real=len(team_ids()))


def test_t6_kr2_leads_assigned_per_salesperson_per_weekday(q4_values):
    """t6_kr2 leads_assigned_per_head_weekday = distinct '线索编号' of leads created in Q4 by the team's
    people / Monday-Friday days of Q4 / the team's salespeople employed at some point in Q4."""
    heads: dict[str, int] = {}
    for pid in salespeople(Q4):
        heads[team_of()[pid]] = heads.get(team_of()[pid], 0) + 1
    distinct = per_owner(leads(), "team", team_ids(), lambda r: r[in_period(r["created"], Q4)],
                         lambda r: r["lead"].nunique(), 0.0)
    days = weekdays(Q4)
    expected = {t: (distinct[t] / days / heads[t] if heads.get(t) else NAN) for t in team_ids()}
    assert_values(q4_values, "t6_kr2", "team", expected, min_owners=len(team_ids()), min_real=len(team_ids()))


# ===================================================================================================
# people
# ===================================================================================================

def test_p1_kr1_mqls_per_month(q4_values):
    """p1_kr1 mqls_per_month = stage-history rows of the person with Stage 'MQL' in Q4 / 3 months."""
    owners = sample_people(Q4)
    mqls = per_owner(stages(), "person", owners, lambda r: r[(r["stage"] == "mql") & in_period(r["at"], Q4)],
                     len, 0.0)
    assert_values(q4_values, "p1_kr1", "person", {p: v / 3 for p, v in mqls.items()},
                  min_owners=MIN_PERSON_OWNERS, min_real=MIN_PERSON_OWNERS)


def positive_outreach_per_weekday(period) -> dict[str, float]:
    """activities with 'Result' = Positive and 'Activity Date' in the period / its Monday-Friday days."""
    owners = sample_people(period)
    n = per_owner(activities(), "person", owners,
                  lambda r: r[(r["outcome"] == "positive") & in_period(r["at"], period)], len, 0.0)
    days = weekdays(period)
    return {p: v / days for p, v in n.items()}


def test_p1_kr2_positive_outreach_per_weekday(q4_values):
    """p1_kr2 positive_outreach_per_weekday for Q4 (65 weekdays)."""
    assert_values(q4_values, "p1_kr2", "person", positive_outreach_per_weekday(Q4),
                  min_owners=MIN_PERSON_OWNERS, min_real=MIN_PERSON_OWNERS)


def test_p1_kr2_positive_outreach_per_weekday_q2(q2_values):
    """p1_kr2 positive_outreach_per_weekday for Q2 = [2017-07-01, 2017-10-01) (65 weekdays)."""
    assert weekdays(Q2) == 65
    assert_values(q2_values, "p1_kr2", "person", positive_outreach_per_weekday(Q2),
                  min_owners=MIN_PERSON_OWNERS, min_real=MIN_PERSON_OWNERS)


def test_p1_kr3_leads_won_per_weekday(q4_values):
    """p1_kr3 leads_won_per_weekday = the person's stage-history rows 'Won' in Q4 / 65 weekdays."""
    owners = sample_people(Q4)
    won = leads_won_count("person", owners, Q4)
    assert_values(q4_values, "p1_kr3", "person", {p: v / weekdays(Q4) for p, v in won.items()},
                  min_owners=MIN_PERSON_OWNERS, min_real=MIN_PERSON_OWNERS)


def test_p2_kr1_feature_x_preferred_share(q4_values):
    """p2_kr1 feature_x_preferred_share = surveys in Q4 with 'Feature X Score' > 'Best Other Feature Score'
    / surveys in Q4 where both scores are given, per salesperson."""
    owners = sample_people(Q4)
    s = surveys()
    better = per_owner(s, "person", owners,
                       lambda r: r[in_period(r["at"], Q4) & (r["feature_x"] > r["best_other"])], len, 0.0)
    rated = per_owner(s, "person", owners,
                      lambda r: r[in_period(r["at"], Q4) & r["feature_x"].notna() & r["best_other"].notna()],
                      len, 0.0)
    assert_values(q4_values, "p2_kr1", "person", ratio(better, rated), min_owners=MIN_PERSON_OWNERS,
                  min_real=MIN_PERSON_OWNERS)


def test_p3_kr3_newsletter_click_rate(q4_values):
    """p3_kr3 newsletter_click_rate (mean, divide_by recipients) = mean over the person's newsletters sent
    in Q4 of 'Unique Clicks' / 'Recipients' (sends with no recipient left out)."""
    owners = sample_people(Q4)

    def mean_rate(rows):
        rows = rows[rows["recipients"] != 0]
        return (rows["clicks"] / rows["recipients"]).mean()

    expected = per_owner(newsletters(), "person", owners, lambda r: r[in_period(r["at"], Q4)], mean_rate, NAN)
    assert_values(q4_values, "p3_kr3", "person", expected, min_owners=MIN_PERSON_OWNERS,
                  min_real=MIN_PERSON_OWNERS)


def test_p4_kr1_pitches_per_customer(q4_values):
    """p4_kr1 pitches_per_customer = cross_sell_pitches / customers_to_date, per salesperson:
    cross_sell_pitches = activities of type 'Cross-sell pitch' dated in Q4;
    customers_to_date = distinct 'Account ID' of the person's 'Closed Won' deals closed before 2018-04-01
    (window all_to_date)."""
    owners = sample_people(Q4)
    pitches = per_owner(activities(), "person", owners,
                        lambda r: r[(r["kind"] == "cross_sell_pitch") & in_period(r["at"], Q4)], len, 0.0)
    customers = per_owner(deals(), "person", owners,
                          lambda r: r[(r["stage"] == "won") & (r["closed"] < Q4[1])],
                          lambda r: r["customer"].nunique(), 0.0)
    assert_values(q4_values, "p4_kr1", "person", ratio(pitches, customers), min_owners=MIN_PERSON_OWNERS,
                  min_real=MIN_PERSON_OWNERS)


def test_p5_kr2_prospects_met_per_week(q4_values):
    """p5_kr2 prospect_meetings_per_week = distinct 'Lead ID' of the person's activities of type Meeting
    or Demo dated in Q4 / (90 days / 7) weeks."""
    owners = sample_people(Q4)
    met = per_owner(activities(), "person", owners,
                    lambda r: r[r["kind"].isin(["meeting", "demo"]) & in_period(r["at"], Q4)],
                    lambda r: r["lead"].nunique(), 0.0)
    assert_values(q4_values, "p5_kr2", "person", {p: v / weeks(Q4) for p, v in met.items()},
                  min_owners=MIN_PERSON_OWNERS, min_real=MIN_PERSON_OWNERS)


def test_p6_kr1_complaints_resolved_within_24h(q4_values):
    """p6_kr1 complaints_resolved_24h (sla_share, 24 h) = the person's complaints opened in Q4 with
    'Resolved' - 'Opened' <= 24 h / all their complaints opened in Q4; never resolved = missed."""
    owners = sample_people(Q4)

    def share(rows):
        return ((rows["resolved"] - rows["opened"]) <= pd.Timedelta(hours=24)).fillna(False).mean()

    expected = per_owner(complaints(), "person", owners, lambda r: r[in_period(r["opened"], Q4)], share, NAN)
    assert_values(q4_values, "p6_kr1", "person", expected, min_owners=MIN_PERSON_OWNERS,
                  min_real=MIN_PERSON_OWNERS)


def test_p7_kr1_prospect_to_mql_within_30_days(q4_values):
    """p7_kr1 prospect_to_mql_30d (conversion within a window): the cohort is the leads that became a
    Prospect in Q4 (owner = the Prospect row's 'Owner'); a lead converts when its first MQL row is dated
    0 to 30 days after its Prospect row. Value = converted / cohort."""
    owners = sample_people(Q4)
    st = stages()
    first_mql = st[st["stage"] == "mql"].groupby("lead")["at"].min()

    def share(rows):
        gap = rows["lead"].map(first_mql) - rows["at"]
        return ((gap >= pd.Timedelta(0)) & (gap <= pd.Timedelta(days=30))).fillna(False).mean()

    def cohort(rows):
        started = rows[(rows["stage"] == "prospect") & in_period(rows["at"], Q4)]
        return started.sort_values("at").drop_duplicates("lead")

    expected = per_owner(st, "person", owners, cohort, share, NAN)
    assert_values(q4_values, "p7_kr1", "person", expected, min_owners=MIN_PERSON_OWNERS,
                  min_real=MIN_PERSON_OWNERS)


def test_p8_kr1_trade_events_fiscal_year_to_date(q4_values):
    """p8_kr1 trade_events_fytd = distinct '展会编号' the person attended on a '参展日期' in
    [2017-04-01, 2018-04-01) (a count: compared exactly)."""
    owners = sample_people(Q4)
    expected = per_owner(trade_events(), "person", owners, lambda r: r[in_period(r["on"], (FY_START, Q4[1]))],
                         lambda r: r["event"].nunique(), 0.0)
    assert_values(q4_values, "p8_kr1", "person", expected, exact=True, min_owners=MIN_PERSON_OWNERS,
                  min_real=MIN_PERSON_OWNERS)
