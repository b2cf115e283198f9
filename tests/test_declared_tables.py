"""Exports taken as they are, by declaration alone: an event log, a funnel in three files, team moves.

Each workspace is written here as a user's system would export it (a gzipped event log with '?' for missing and
day-first dates, no people directory, the team on the fact row; a funnel whose closed deals come in a CSV and a
workbook with different headers, joined to leads and sellers by ids). The product side goes through the normal
API (load, read, stage, compute_quarter); the expected side reads the same files with plain pandas and applies
each KR's definition as written in the test, importing nothing from ``transforms`` or ``flows``.
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from flows.config_io import load_workspace
from flows.extract import read_all
from transforms.calendar import parse_quarter
from transforms.report import compute_quarter
from transforms.validation import stage_workspace

Q_START, Q_END = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-04-01")
TOL = {"rel": 1e-9, "abs": 1e-9}


def _results(ws_dir: Path, quarter: str = "2024-Q1"):
    ws, folder = load_workspace(ws_dir)
    raw, unreadable = read_all(dict(ws.sources), folder)
    tables, problems = stage_workspace(raw, ws)
    errors = [str(p) for p in unreadable + problems if p.severity == "error"]
    assert errors == []
    res = compute_quarter(ws, tables, parse_quarter(quarter, ws.fiscal_year_start_month))
    return res, tables, [p for p in problems if p.severity != "error"]


def _actuals(res, kr_id: str) -> dict[tuple[str, str], float]:
    krs = res.krs[res.krs["kr_id"] == kr_id]
    return {(t, o): float(a) for t, o, a in zip(krs["tier"], krs["owner_id"], krs["actual"], strict=True)}


def _assert_same(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for k, v in expected.items():
        if np.isnan(v):
            assert np.isnan(got[k]), k
        else:
            assert got[k] == pytest.approx(v, **TOL), k


# == an IT incident event log ==================================================================================

HELPDESK = Path(__file__).resolve().parents[1] / "data" / "examples" / "helpdesk"
SUPPORT_YAML = (HELPDESK / "okr.yaml").read_text(encoding="utf-8")
SUPPORT_PLAN = (HELPDESK / "plan.csv").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def support() -> Path:
    """The helpdesk example workspace, as committed (an event log written by its generate.py)."""
    return HELPDESK


@pytest.fixture(scope="module")
def tickets_expected(support) -> pd.DataFrame:
    """The event log reduced by hand: '?' is missing, the latest row per ticket by its update time."""
    raw = pd.read_csv(support / "exports" / "incidents.csv.gz", compression="gzip", dtype=str,
                      na_values=["?"], keep_default_na=False)
    for col in ("opened_at", "sys_updated_at", "resolved_at"):
        raw[col] = pd.to_datetime(raw[col], format="%d/%m/%Y %H:%M")
    raw["reopen_count"] = pd.to_numeric(raw["reopen_count"])
    raw["made_sla"] = raw["made_sla"].map({"true": True, "false": False})
    raw["line"] = np.arange(len(raw))
    latest = raw.sort_values(["sys_updated_at", "line"]).groupby("number").tail(1)
    return latest


@pytest.fixture(scope="module")
def support_results(support):
    return _results(support)


def _by_owner(df: pd.DataFrame, fn) -> dict[tuple[str, str], float]:
    """fn(rows) for the company, each assignment group and each assignee."""
    out = {("company", "helpdesk"): fn(df)}
    for group in sorted(df["assignment_group"].dropna().unique()):
        out[("team", group)] = fn(df[df["assignment_group"] == group])
    for agent in sorted(df["assigned_to"].dropna().unique()):
        out[("person", agent)] = fn(df[df["assigned_to"] == agent])
    return out


def _resolved_in_q(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["incident_state"].isin(["Resolved", "Closed"]) & (df["resolved_at"] >= Q_START)
              & (df["resolved_at"] < Q_END)]


def _only(d: dict, tier: str) -> dict:
    return {k: v for k, v in d.items() if k[0] == tier}


def test_event_log_keeps_the_latest_row_per_ticket(support_results, tickets_expected, support):
    _, tables, warnings = support_results
    staged = tables["tickets"]
    assert len(staged) == tickets_expected["number"].nunique() == 180
    assert staged.attrs["kept"].rows_read == len(pd.read_csv(support / "exports" / "incidents.csv.gz"))
    assert staged.attrs["kept"].set_aside == staged.attrs["kept"].rows_read - 180
    by_id = staged.set_index("ticket_id")["state"].sort_index()
    assert by_id.to_dict() == tickets_expected.set_index("number")["incident_state"].sort_index().to_dict()
    # people come from the owner ids: a warning says so, names are the ids, nobody gets an email
    people = tables["people"].set_index("person_id")
    assert sorted(people.index) == sorted(tickets_expected["assigned_to"].dropna().unique())
    assert (people["person_name"] == people.index).all()
    assert people["email"].isna().all()
    assert [w.code for w in warnings] == ["people"]
    assert "taken from the owner ids in tickets.assignee" in warnings[0].expected


def test_event_log_kr_values(support_results, tickets_expected):
    res, _, _ = support_results
    df = tickets_expected
    opened = df[(df["opened_at"] >= Q_START) & (df["opened_at"] < Q_END)]

    def hours(rows: pd.DataFrame) -> pd.Series:
        return (rows["resolved_at"] - rows["opened_at"]) / pd.Timedelta(hours=1)

    def pct(p: float):
        return lambda rows: float(np.percentile(hours(_resolved_in_q(rows)), p)) if len(_resolved_in_q(rows)) \
            else float("nan")

    def sla(rows: pd.DataFrame) -> float:
        done = _resolved_in_q(rows)
        return float((done["made_sla"] == True).sum() / len(done)) if len(done) else float("nan")  # noqa: E712

    _assert_same(_actuals(res, "K1"), _only(_by_owner(df, pct(50)), "company"))
    _assert_same(_actuals(res, "K2"), _only(_by_owner(df, sla), "company"))
    _assert_same(_actuals(res, "K7"), {("company", "helpdesk"): float((opened["priority"] == "1 - Critical").sum())})
    resolved = _by_owner(df, lambda rows: float(len(_resolved_in_q(rows))))
    _assert_same(_actuals(res, "K3"), _only(resolved, "team"))
    _assert_same(_actuals(res, "K5"), _only(resolved, "person"))
    _assert_same(_actuals(res, "K4"), _only(_by_owner(df, pct(90)), "team"))
    reopened = _by_owner(df, lambda rows: float((_resolved_in_q(rows)["reopen_count"] >= 1).sum()))
    _assert_same(_actuals(res, "K6"), _only(reopened, "person"))
    _assert_same(_actuals(res, "K8"), _only(_by_owner(df, lambda rows: float(
        ((rows["opened_at"] >= Q_START) & (rows["opened_at"] < Q_END)).sum())), "team"))


def test_event_log_lineage_counts_the_rows_set_aside(support_results):
    res, tables, _ = support_results
    kept = tables["tickets"].attrs["kept"]
    assert res.metric_notes["tickets_resolved"] == [
        f"tickets is an event log: {kept.rows_read:,} rows read, 180 kept (the latest row per ticket_id by "
        f"updated_at), {kept.set_aside:,} earlier rows set aside"]


# == a tiny event log, worked out by hand ========================================================================

TINY_YAML = """\
company: {id: it, name: IT}
tables:
  tickets:
    columns: {id: str, state: str, updated: datetime, opened: datetime, resolved: datetime, group: str,
              agent: str, reopens: {type: int, min: 0}}
    key: [id]
    time: opened
    person: agent
    team: group
    keep: {latest_by: updated}
sources:
  tickets: {path: tickets.csv.gz, missing: ["?"]}
  plan: {path: plan.csv}
metrics:
  resolved: {kind: count, table: tickets, time: resolved, where: {state: [Resolved, Closed]}}
  opened: {kind: count, table: tickets}
  median_h: {kind: percentile, p: 50, table: tickets, time: resolved, start: opened, end: resolved, unit: hours}
  p90_h: {kind: percentile, p: 90, table: tickets, time: resolved, start: opened, end: resolved, unit: hours}
  reopened: {kind: count, table: tickets, time: resolved, where: {reopens: {ge: 1}}}
"""
TINY_LOG = """\
id,state,updated,opened,resolved,group,agent,reopens
T2,Closed,2024-01-06 08:00,2024-01-05 10:00,2024-01-05 20:00,db,a2,1
T1,New,2024-01-02 09:00,2024-01-02 09:00,?,net,a1,0
T1,Resolved,2024-01-03 09:00,2024-01-02 09:00,2024-01-03 09:00,net,a1,?
T2,New,2024-01-05 10:00,2024-01-05 10:00,?,net,a2,0
T2,Resolved,2024-01-05 20:00,2024-01-05 10:00,2024-01-05 20:00,net,a2,1
T3,New,2024-02-01 12:00,2024-02-01 12:00,?,db,?,0
T4,Resolved,2023-12-30 10:00,2023-12-20 10:00,2023-12-30 10:00,db,a1,0
"""
TINY_PLAN = """\
tier,owner_id,objective_id,kr_id,kr_title_en,metric,target
company,it,O1,C1,Median under 12 h,median_h,12
company,it,O1,C2,P90 under 24 h,p90_h,24
company,it,O1,C3,Resolve 5,resolved,5
team,*,O2,T1,Resolve 5,resolved,5
team,*,O2,T2,Open at most 5,opened,5
person,*,O3,P1,Resolve 3,resolved,3
person,*,O3,P2,Reopen none,reopened,0
"""


def test_a_tiny_event_log_by_hand(tmp_path):
    import gzip

    (tmp_path / "okr.yaml").write_text(TINY_YAML, encoding="utf-8")
    (tmp_path / "plan.csv").write_text(TINY_PLAN, encoding="utf-8")
    (tmp_path / "tickets.csv.gz").write_bytes(gzip.compress(TINY_LOG.encode("utf-8")))
    res, tables, _ = _results(tmp_path)
    # latest rows: T1 Resolved (net, a1, 24 h), T2 Closed (db, a2, 10 h: it moved to db when it was closed),
    # T3 New (db, nobody), T4 Resolved in December (outside 2024-Q1)
    assert sorted(tables["tickets"]["id"]) == ["T1", "T2", "T3", "T4"]
    assert tables["tickets"].attrs["kept"].set_aside == 3
    assert _actuals(res, "C1") == {("company", "it"): 17.0}  # median of 24 h and 10 h
    assert _actuals(res, "C2") == {("company", "it"): pytest.approx(10 + 0.9 * (24 - 10))}
    assert _actuals(res, "C3") == {("company", "it"): 2.0}
    assert _actuals(res, "T1") == {("team", "db"): 1.0, ("team", "net"): 1.0}
    assert _actuals(res, "T2") == {("team", "db"): 2.0, ("team", "net"): 1.0}  # T4 was opened in December
    assert _actuals(res, "P1") == {("person", "a1"): 1.0, ("person", "a2"): 1.0}
    assert _actuals(res, "P2") == {("person", "a1"): 0.0, ("person", "a2"): 1.0}  # T1's '?' is no reopen


# == a marketing funnel in three files =========================================================================

FUNNEL_YAML = """\
company: {id: olistic, name: Olistic}
fiscal_year_start_month: 1
timezone: UTC
locale: en
tables:
  mqls:
    columns: {mql_id: {type: str, nullable: false}, first_contact_date: date, origin: str}
    key: mql_id
  sellers:
    columns: {seller_id: {type: str, nullable: false}, seller_state: str}
    key: seller_id
  closed_deals:
    columns:
      mql_id: {type: str, nullable: false}
      seller_id: str
      won_date: datetime
      business_segment: str
      declared_monthly_revenue: {type: float, min: 0}
    key: mql_id
    time: won_date
    person: seller_id
    links: {mql_id: mqls, seller_id: sellers}
sources:
  mqls: {path: olist_marketing_qualified_leads.csv}
  sellers: {path: sellers.csv}
  deals_2023: {table: closed_deals, path: closed_deals_2023.csv}
  deals_2024:
    table: closed_deals
    path: closed_deals_2024.xlsx
    sheet: Won
    columns: {mql_id: MQL, seller_id: Seller, won_date: Won on, business_segment: Segment,
              declared_monthly_revenue: Monthly revenue}
  plan: {path: plan.csv}
metrics:
  won_sp: {kind: count, table: closed_deals, where: {sellers.seller_state: SP}, unit: count}
  won_pet: {kind: count, table: closed_deals, where: {business_segment: pet}, unit: count}
  won_paid: {kind: count, table: closed_deals, where: {mqls.origin: paid_search}, unit: count}
  days_contact_to_won:
    {kind: duration_mean, table: closed_deals, start: mqls.first_contact_date, end: won_date, unit: days}
  median_revenue: {kind: percentile, p: 50, table: closed_deals, column: declared_monthly_revenue, unit: currency}
  states_reached:
    {kind: coverage, table: closed_deals, column: sellers.seller_state, reference: sellers,
     reference_column: seller_state, unit: percent}
"""

FUNNEL_PLAN = """\
tier,owner_id,objective_id,objective_title_en,kr_id,kr_title_en,metric,direction,baseline,target
company,olistic,F1,Win sellers everywhere,F1a,Win 30 sellers in SP,won_sp,increase,,30
company,olistic,F1,Win sellers everywhere,F1b,Reach sellers in every state,states_reached,increase,0.5,1
company,olistic,F1,Win sellers everywhere,F1c,Median declared revenue 100k,median_revenue,increase,50000,100000
company,olistic,F1,Win sellers everywhere,F1d,Close within 30 days of first contact,days_contact_to_won,decrease,60,30
person,*,F2,Close my pipeline,F2a,Win 5 pet-shop sellers,won_pet,increase,,5
person,*,F2,Close my pipeline,F2b,Win 5 sellers from paid search,won_paid,increase,,5
person,*,F2,Close my pipeline,F2c,Reach sellers in many states,states_reached,increase,0,0.5
"""

STATES = ["SP", "RJ", "MG", "PR", "SC", "RS", "BA"]
SEGMENTS = ["pet", "home_decor", "car_accessories", "health_beauty"]
ORIGINS = ["paid_search", "organic_search", "social", "direct_traffic"]
SDRS = ["sr-01", "sr-02", "sr-03", "sr-04"]


@pytest.fixture(scope="module")
def funnel(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("funnel")
    rng = np.random.default_rng(11)
    n = 160
    mqls = pd.DataFrame({
        "mql_id": [f"m{i:04d}" for i in range(n)],
        "first_contact_date": [(datetime(2023, 9, 1) + timedelta(days=int(d))).strftime("%Y-%m-%d")
                               for d in rng.integers(0, 150, n)],
        "origin": [ORIGINS[int(k)] for k in rng.integers(0, 4, n)],
    })
    mqls.to_csv(ws / "olist_marketing_qualified_leads.csv", index=False)
    sellers = pd.DataFrame({"seller_id": [f"s{i:03d}" for i in range(90)],
                            "seller_state": [STATES[int(k)] for k in rng.integers(0, 6, 90)]})
    sellers.loc[len(sellers)] = ["s999", "BA"]  # a state no won deal reaches
    sellers.to_csv(ws / "sellers.csv", index=False)
    won = mqls.sample(110, random_state=3).reset_index(drop=True)
    contact = pd.to_datetime(won["first_contact_date"])
    deals = pd.DataFrame({
        "mql_id": won["mql_id"],
        "seller_id": [f"s{int(k):03d}" for k in rng.integers(0, 90, len(won))],
        "sdr_id": [SDRS[int(k)] for k in rng.integers(0, 4, len(won))],
        "won_date": [c + timedelta(days=int(d), hours=int(h)) for c, d, h in
                     zip(contact, rng.integers(1, 90, len(won)), rng.integers(8, 18, len(won)), strict=True)],
        "business_segment": [SEGMENTS[int(k)] for k in rng.integers(0, 4, len(won))],
        "declared_monthly_revenue": rng.integers(0, 200, len(won)) * 1000.0,
    })
    old = deals[deals["won_date"] < datetime(2024, 1, 1)]
    new = deals[deals["won_date"] >= datetime(2024, 1, 1)]
    old.drop(columns="sdr_id").assign(won_date=old["won_date"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(
        ws / "closed_deals_2023.csv", index=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Won"
    sheet.append(["MQL", "Seller", "SDR", "Won on", "Segment", "Monthly revenue"])
    for r in new.itertuples(index=False):
        sheet.append([r.mql_id, r.seller_id, r.sdr_id, r.won_date.to_pydatetime(), r.business_segment,
                      float(r.declared_monthly_revenue)])
    book.save(ws / "closed_deals_2024.xlsx")
    (ws / "okr.yaml").write_text(FUNNEL_YAML, encoding="utf-8")
    (ws / "plan.csv").write_text(FUNNEL_PLAN, encoding="utf-8")
    return ws


@pytest.fixture(scope="module")
def funnel_expected(funnel) -> pd.DataFrame:
    """The closed deals of both files, joined by hand to their lead and seller."""
    a = pd.read_csv(funnel / "closed_deals_2023.csv", parse_dates=["won_date"])
    b = pd.read_excel(funnel / "closed_deals_2024.xlsx", sheet_name="Won").rename(columns={
        "MQL": "mql_id", "Seller": "seller_id", "Won on": "won_date", "Segment": "business_segment",
        "Monthly revenue": "declared_monthly_revenue"}).drop(columns="SDR")
    deals = pd.concat([a, b], ignore_index=True)
    mqls = pd.read_csv(funnel / "olist_marketing_qualified_leads.csv", parse_dates=["first_contact_date"])
    sellers = pd.read_csv(funnel / "sellers.csv")
    return deals.merge(mqls, on="mql_id", how="left").merge(sellers, on="seller_id", how="left")


@pytest.fixture(scope="module")
def funnel_results(funnel):
    return _results(funnel)


def _funnel_owners(df: pd.DataFrame, fn) -> dict[tuple[str, str], float]:
    out = {("company", "olistic"): fn(df)}
    for seller in sorted(df["seller_id"].unique()):
        out[("person", seller)] = fn(df[df["seller_id"] == seller])
    return out


def _in_q(df: pd.DataFrame) -> pd.DataFrame:
    return df[(df["won_date"] >= Q_START) & (df["won_date"] < Q_END)]


def test_funnel_kr_values_through_lookups(funnel, funnel_expected, funnel_results):
    res, tables, warnings = funnel_results
    df = funnel_expected
    assert len(tables["closed_deals"]) == 110
    q = _in_q(df)
    assert 0 < len(q) < 110  # the quarter sees some deals of the second file only
    _assert_same(_actuals(res, "F1a"), {("company", "olistic"): float((q["seller_state"] == "SP").sum())})
    days = (q["won_date"] - q["first_contact_date"]) / pd.Timedelta(days=1)
    _assert_same(_actuals(res, "F1d"), {("company", "olistic"): float(days.mean())})
    _assert_same(_actuals(res, "F1c"), {("company", "olistic"): float(np.median(q["declared_monthly_revenue"]))})
    states = pd.read_csv(funnel / "sellers.csv")["seller_state"].nunique()
    _assert_same(_actuals(res, "F1b"), {("company", "olistic"): q["seller_state"].nunique() / states})

    # people are the sellers named by any deal, also those with no deal in the quarter (their counts are 0)
    def pet(rows):
        return float((_in_q(rows)["business_segment"] == "pet").sum())

    def paid(rows):
        return float((_in_q(rows)["origin"] == "paid_search").sum())

    _assert_same(_actuals(res, "F2a"), _only(_funnel_owners(df, pet), "person"))
    _assert_same(_actuals(res, "F2b"), _only(_funnel_owners(df, paid), "person"))
    assert [w.code for w in warnings] == ["people"]


def test_coverage_keeps_n_of_m(funnel, funnel_expected, funnel_results):
    res, _, _ = funnel_results
    q = _in_q(funnel_expected)
    company = res.krs[(res.krs["kr_id"] == "F1b")].iloc[0]
    states = pd.read_csv(funnel / "sellers.csv")["seller_state"].nunique()
    assert (company["covered"], company["covered_of"]) == (q["seller_state"].nunique(), states)
    from transforms.scorecards import kr_table

    published = kr_table(res, {}, "en")
    row = published[published["kr_id"] == "F1b"].iloc[0]
    assert (row["covered"], row["covered_of"]) == (q["seller_state"].nunique(), states)  # kr_values.csv
    person = res.krs[res.krs["kr_id"] == "F2c"].set_index("owner_id")
    for seller, rows in q.groupby("seller_id"):
        assert (person.at[seller, "covered"], person.at[seller, "covered_of"]) == (rows["seller_state"].nunique(),
                                                                                   states)


def test_union_problems_name_the_file_and_row_they_come_from(funnel, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    for f in funnel.iterdir():
        (ws / f.name).write_bytes(f.read_bytes())
    first = pd.read_csv(ws / "closed_deals_2023.csv")
    book = openpyxl.load_workbook(ws / "closed_deals_2024.xlsx")
    book["Won"]["A3"] = first.at[1, "mql_id"]  # the same lead won twice, once in each file
    book["Won"]["F4"] = -5.0
    book.save(ws / "closed_deals_2024.xlsx")
    ws_cfg, folder = load_workspace(ws)
    raw, _ = read_all(dict(ws_cfg.sources), folder)
    _, problems = stage_workspace(raw, ws_cfg)
    assert [str(p) for p in problems if p.severity == "error"] == [
        "closed_deals_2024.xlsx, sheet 'Won', row 4, column 'Monthly revenue': value -5: expected a number of at "
        "least 0",
        f"closed_deals_2024.xlsx, sheet 'Won', row 3, column 'MQL': value {first.at[1, 'mql_id']!r}: expected a "
        f"unique mql_id; {first.at[1, 'mql_id']!r} is already on row 3 of closed_deals_2023.csv; if the export "
        "is an event log with several rows per key, declare 'keep: {latest_by: <time column>}' under "
        "tables.closed_deals in okr.yaml",
    ]


# == people who move between teams =============================================================================

MOVES_YAML = """\
company: {id: acme, name: Acme}
fiscal_year_start_month: 1
timezone: UTC
tables:
  calls:
    columns: {call_id: {type: str, nullable: false}, rep: str, called_at: datetime, connected: bool}
    key: call_id
    time: called_at
    person: rep
sources:
  people: {path: people.csv, columns: {person_id: id, person_name: name}}
  team_memberships: {path: memberships.csv}
  calls: {path: calls.csv}
  plan: {path: plan.csv}
metrics:
  connected_calls: {kind: count, table: calls, where: {connected: true}, unit: count}
"""

MOVES_PLAN = """\
tier,owner_id,objective_id,kr_id,kr_title_en,metric,target
team,*,T1,T1a,Connect 10 calls,connected_calls,10
person,*,P1,P1a,Connect 5 calls,connected_calls,5
"""


def _moves(tmp_path: Path, memberships: str) -> Path:
    ws = tmp_path / "moves"
    ws.mkdir()
    (ws / "okr.yaml").write_text(MOVES_YAML, encoding="utf-8")
    (ws / "plan.csv").write_text(MOVES_PLAN, encoding="utf-8")
    (ws / "people.csv").write_text("id,name,team_id\nP1,Ann,\nP2,Bo,east\n", encoding="utf-8")
    (ws / "memberships.csv").write_text(memberships, encoding="utf-8")
    calls = ["call_id,rep,called_at,connected"]
    days = ["2024-01-10", "2024-02-14", "2024-02-15", "2024-03-20", "2024-03-21"]
    for i, day in enumerate(days):
        calls += [f"A{i},P1,{day} 10:00,true", f"B{i},P2,{day} 11:00,{'true' if i % 2 else 'false'}"]
    (ws / "calls.csv").write_text("\n".join(calls) + "\n", encoding="utf-8")
    return ws


def test_rows_count_for_the_team_of_their_time(tmp_path):
    # Ann is in east until 14 February (her last day there), then in west; Bo stays in east
    ws = _moves(tmp_path, "person_id,team_id,started_at,ended_at\nP1,east,2023-06-01,2024-02-14\n"
                          "P1,west,2024-02-15,\nP2,east,2023-01-01,\n")
    res, _, _ = _results(ws)
    # by hand: Ann's five calls all connect, two in east (10 Jan, 14 Feb) and three in west; Bo connects on the
    # 2nd and 4th day (14 Feb, 20 Mar), both in east
    assert _actuals(res, "T1a") == {("team", "east"): 4.0, ("team", "west"): 3.0}
    assert _actuals(res, "P1a") == {("person", "P1"): 5.0, ("person", "P2"): 2.0}
    assert res.org.person_team().to_dict() == {"P1": "west", "P2": "east"}


def test_overlapping_memberships_are_refused(tmp_path):
    ws = _moves(tmp_path, "person_id,team_id,started_at,ended_at\nP1,east,2023-06-01,2024-02-20\n"
                          "P1,west,2024-02-15,\nP2,east,2023-01-01,\n")
    ws_cfg, folder = load_workspace(ws)
    raw, _ = read_all(dict(ws_cfg.sources), folder)
    _, problems = stage_workspace(raw, ws_cfg)
    assert [str(p) for p in problems if p.severity == "error"] == [
        "memberships.csv, row 3, column 'started_at': value '2024-02-15': expected a start after the person's "
        "previous membership, which ends on 2024-02-20 (row 2): a person is in one team at a time"]


# == declarations that are wrong say where ====================================================================

def _bad(tmp_path: Path, support: Path, old: str, new: str) -> list[str]:
    from typer.testing import CliRunner

    from flows.cli import app

    ws = tmp_path / "ws"
    (ws / "exports").mkdir(parents=True)
    (ws / "exports" / "incidents.csv.gz").write_bytes((support / "exports" / "incidents.csv.gz").read_bytes())
    (ws / "plan.csv").write_text(SUPPORT_PLAN, encoding="utf-8")
    assert old in SUPPORT_YAML
    (ws / "okr.yaml").write_text(SUPPORT_YAML.replace(old, new, 1), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "--workspace", str(ws)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return [line.strip()[2:] for line in result.output.splitlines() if line.strip().startswith("- ")]


BAD_DECLARATIONS = [
    ("key names no column", "    key: [ticket_id]", "    key: [number]",
     ["okr.yaml, line 20: key 'tables.tickets.key': value 'number': expected a column of the tickets table "
      "(ticket_id, state, priority, opened_at, updated_at, resolved_at, reopen_count, made_sla, assignment_group, "
      "assignee)"]),
    ("unknown column type", "      priority: str", "      priority: txt",
     ["okr.yaml, line 12: key 'tables.tickets.columns.priority.type': value 'txt': expected 'str', 'int', "
      "'float', 'datetime' or 'bool'"]),
    ("keep orders by no column", "keep: {latest_by: updated_at}", "keep: {latest_by: updated}",
     ["okr.yaml, line 24: key 'tables.tickets.keep': value 'updated': expected a column of the tickets table "
      "(ticket_id, state, priority, opened_at, updated_at, resolved_at, reopen_count, made_sla, assignment_group, "
      "assignee); did you mean 'updated_at'?"]),
    ("keep without its rule", "keep: {latest_by: updated_at}", "keep: {}",
     ["okr.yaml, line 24: key 'tables.tickets.keep': expected exactly one of latest_by or first_by (the column "
      "that orders a key's rows)"]),
    ("time is not a datetime", "    time: opened_at", "    time: priority",
     ["okr.yaml, line 21: key 'tables.tickets.time': value 'priority': expected a column of type datetime"]),
    ("a link to no table", "    team: assignment_group", "    team: assignment_group\n    links: {assignee: agents}",
     ["okr.yaml, line 24: key 'tables.tickets.links.assignee': value 'agents': expected a table name; did "
      "you mean 'events'?"]),
    ("a look-up through no link", "where: {priority: 1 - Critical}", "where: {groups.name: x}",
     ["okr.yaml, line 42: key 'metrics.critical_opened.where.groups.name': value 'groups.name': expected a "
      "column of the tickets table, or a look-up through one of its links (<link column or linked "
      "table>.<column>); 'groups' is not a link (its links are: none)"]),
    ("source maps an undeclared column", "      assignee: assigned_to\n",
     "      assignee: assigned_to\n      group: x\n",
     ["okr.yaml, line 35: key 'sources.tickets.columns.group': unknown column of the tickets table: expected one "
      "of ticket_id, state, priority, opened_at, updated_at, resolved_at, reopen_count, made_sla, "
      "assignment_group, assignee (declare a new column under tables.tickets.columns)"]),
    ("percentile of nothing", "p: 90, table: tickets, time: resolved_at, start: opened_at, end: resolved_at",
     "p: 90, table: tickets, time: resolved_at",
     ["okr.yaml, line 52: key 'metrics.p90_hours_to_resolve': expected either 'column' or both 'start' and 'end' "
      "(a duration)"]),
]


@pytest.mark.parametrize("old, new, expected", [pytest.param(o, n, e, id=i) for i, o, n, e in BAD_DECLARATIONS])
def test_bad_declarations_name_the_key_and_line(tmp_path, support, old, new, expected):
    assert _bad(tmp_path, support, old, new) == expected


def test_the_support_workspace_validates(support):
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["validate", "--workspace", str(support)])
    assert result.exit_code == 0, result.output
    assert textwrap.dedent("warning") in result.output


# == the helpdesk example end to end ==========================================================================

def test_helpdesk_run_publishes_cards_that_say_how_the_log_was_read(tmp_path, tickets_expected):
    from tests.conftest import run_cli

    run = run_cli("run", "--workspace", str(HELPDESK), "--quarter", "2024-Q1", out=tmp_path / "out")
    assert run.returncode == 0, run.stderr
    folder = tmp_path / "out" / "2024-Q1"
    agents = sorted(tickets_expected["assigned_to"].dropna().unique())
    groups = sorted(tickets_expected["assignment_group"].unique())
    assert sorted(p.stem.split("-")[0] for p in (folder / "people").glob("*.pdf")) == [a.replace(" ", "_")
                                                                                     for a in agents]
    assert len(list((folder / "teams").glob("*.pdf"))) == len(groups)
    kr = pd.read_csv(folder / "kr_values.csv")
    resolved = kr[(kr["kr_id"] == "K5")].set_index("owner_id")["actual"].to_dict()
    assert resolved == {a: float(len(_resolved_in_q(tickets_expected[tickets_expected["assigned_to"] == a])))
                        for a in agents}
    rows_read = len(pd.read_csv(HELPDESK / "exports" / "incidents.csv.gz"))
    note = (f"tickets is an event log: {rows_read:,} rows read, 180 kept (the latest row per ticket_id by "
            f"updated_at), {rows_read - 180:,} earlier rows set aside")
    html = (folder / "company.html").read_text(encoding="utf-8")
    assert html.count(note) == 1
    lineage = kr.set_index(["owner_id", "kr_id"]).at[("helpdesk", "K7"), "lineage_filter"]
    assert lineage == (f"priority = 1 - Critical; tickets: the latest row per ticket_id by updated_at "
                       f"({rows_read - 180:,} of {rows_read:,} rows set aside)")
    warning = ("okr.yaml: no people source: 6 people taken from the owner ids in tickets.assignee; their names are "
               "their ids and they get no email (add a people source for names, teams and email addresses)")
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["warnings"] == [warning]
    assert html.count(warning) == 1


def _helpdesk_copy(tmp_path: Path, edit_rows=None, yaml_edit: tuple[str, str] | None = None) -> Path:
    """The helpdesk workspace in tmp_path, with its event log's data rows edited (row index -> column -> text)."""
    import gzip

    ws = tmp_path / "helpdesk"
    (ws / "exports").mkdir(parents=True)
    lines = gzip.decompress((HELPDESK / "exports" / "incidents.csv.gz").read_bytes()).decode("utf-8").splitlines()
    header = lines[0].split(",")
    for i, changes in (edit_rows or {}).items():
        cells = lines[i + 1].split(",")
        for col, text in changes.items():
            cells[header.index(col)] = text
        lines[i + 1] = ",".join(cells)
    (ws / "exports" / "incidents.csv.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    yaml_text = SUPPORT_YAML if yaml_edit is None else SUPPORT_YAML.replace(*yaml_edit, 1)
    (ws / "okr.yaml").write_text(yaml_text, encoding="utf-8")
    (ws / "plan.csv").write_text(SUPPORT_PLAN, encoding="utf-8")
    return ws


def test_declared_columns_are_checked_cell_by_cell_like_presets(tmp_path):
    ws = _helpdesk_copy(tmp_path, {10: {"incident_state": "Resolvd"}, 20: {"reopen_count": "two"},
                                   30: {"reopen_count": "-1"}})
    ws_cfg, folder = load_workspace(ws)
    raw, _ = read_all(dict(ws_cfg.sources), folder)
    _, problems = stage_workspace(raw, ws_cfg)
    # data row i is line i + 2 of the decompressed file (line 1 is the header)
    assert [str(p) for p in problems if p.severity == "error"] == [
        "exports/incidents.csv.gz, row 22, column 'reopen_count': value 'two': expected a whole number",
        "exports/incidents.csv.gz, row 12, column 'incident_state': value 'Resolvd': expected one of New, In "
        "Progress, Resolved, Closed (if the export spells it differently, add it under 'values:' for this source "
        "in okr.yaml); did you mean 'Resolved'?",
        "exports/incidents.csv.gz, row 32, column 'reopen_count': value -1: expected a number of at least 0",
    ]


def test_a_filter_value_a_declared_column_never_holds_is_refused(tmp_path):
    ws = _helpdesk_copy(tmp_path, yaml_edit=("where: {state: [Resolved, Closed]}, unit: count",
                                             "where: {state: [Resolved, closed]}, unit: count"))
    assert _validate_lines(ws) == [
        "okr.yaml, line 39: key 'metrics.tickets_resolved.where.state': value 'closed': expected one of New, "
        "In Progress, Resolved, Closed; did you mean 'Closed'? (filters see the values after mapping: an "
        "export's own spellings map onto these under 'sources.tickets.values.state')"]


def _validate_lines(ws: Path) -> list[str]:
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["validate", "--workspace", str(ws)])
    assert result.exit_code == 2, result.output
    return [line.strip()[2:] for line in result.output.splitlines() if line.strip().startswith("- ")]
