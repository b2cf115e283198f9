"""Benchmark workspaces shaped like the demo, at any size (generated on demand, cached, not committed).

    python benchmarks/generate.py --size 2k      # 2,000 salespeople in 40 teams

Volumes scale with the number of salespeople (bench-2k: ~5 M activities, ~1 M leads, ~2.5 M lead
stage rows, ~50 k deals) over one fiscal year plus the quarter before it. Generation is vectorised
and seeded, so a size always yields the same files.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
SIZES = {"200": 200, "2k": 2_000, "20k": 20_000}
START = pd.Timestamp("2017-01-01")
END = pd.Timestamp("2018-04-01")
SECONDS = int((END - START).total_seconds())
PER_PERSON = {"leads": 500, "activities": 2_500, "deals": 25, "enquiries": 40}


def _times(rng: np.random.Generator, n: int) -> pd.Series:
    """Timestamps in working hours, more of them later in the period (the company grows)."""
    u = rng.random(n) ** 0.8
    day = (u * (SECONDS // 86400)).astype("int64")
    seconds = rng.integers(9 * 3600, 19 * 3600, n)
    return pd.Series(START + pd.to_timedelta(day, unit="D") + pd.to_timedelta(seconds, unit="s"))


def people(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    teams = max(2, n // 50)
    ids = np.array([f"S{i:06d}" for i in range(n)])
    team_ids = np.array([f"T{t:03d}" for t in range(teams)])
    team_of = team_ids[np.arange(n) % teams]
    start = START - pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    late = rng.random(n) < 0.55  # hired during the year: headcount grows
    start = pd.Series(start).where(~late, START + pd.to_timedelta(rng.integers(0, 300, n), unit="D"))
    end = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    leavers = rng.random(n) < 0.05
    end[leavers] = start[leavers] + pd.to_timedelta(rng.integers(60, 400, leavers.sum()), unit="D")
    directory = pd.DataFrame({
        "Employee ID": ids, "Name": [f"Salesperson {i}" for i in range(n)],
        "Email": [f"s{i}@bench.example.com" for i in range(n)], "Team": team_of, "Role": "sales",
        "Start Date": start.dt.date, "End Date": end.dt.date,
    })
    team_table = pd.DataFrame({"Team ID": team_ids, "Team Name": [f"Team {t}" for t in range(teams)],
                               "Lead ID": ids[:teams]})
    return directory, team_table


BLOCK = 5_000_000
"""Rows generated and written at a time: bench-20k's 50 M activities would not fit in memory at once."""


def _blocks(total: int) -> list[tuple[int, int]]:
    return [(lo, min(total, lo + BLOCK)) for lo in range(0, total, BLOCK)]


def facts(rng: np.random.Generator, ids: np.ndarray, ramp: np.ndarray):
    """Yield (table, block of rows); a size with one block per table draws exactly what it always drew."""
    n = len(ids)
    # leads and their stage history
    for lo, hi in _blocks(PER_PERSON["leads"] * n):
        yield from _leads(rng, ids, ramp, lo, hi)
    for lo, hi in _blocks(PER_PERSON["activities"] * n):
        k = hi - lo
        yield "activities", pd.DataFrame({
            "Activity ID": np.char.add("A", np.arange(lo, hi).astype(str)),
            "Owner": ids[rng.choice(n, k, p=ramp)],
            "Type": rng.choice(["call", "email", "meeting", "demo"], k, p=[0.45, 0.35, 0.12, 0.08]),
            "Outcome": rng.choice(["positive", "neutral", "negative"], k, p=[0.3, 0.5, 0.2]),
            "Date": _times(rng, k).dt.strftime("%Y-%m-%d %H:%M:%S"),
        })
    # deals
    k = PER_PERSON["deals"] * n
    engaged = _times(rng, k)
    closed = engaged + pd.to_timedelta(rng.exponential(40, k), unit="D")
    stage = rng.choice(["won", "lost", "open"], k, p=[0.45, 0.35, 0.2])
    closed = closed.where((stage != "open") & (closed < END))
    stage = np.where(closed.isna() & (stage != "open"), "open", stage)
    yield "deals", pd.DataFrame({
        "Deal ID": np.char.add("D", np.arange(k).astype(str)), "Owner": ids[rng.choice(n, k, p=ramp)],
        "Account": np.char.add("C", rng.integers(0, max(100, n * 10), k).astype(str)),
        "Stage": stage, "Amount": np.where(stage == "won", rng.gamma(2.0, 15000, k).round(2), 0.0),
        "Engaged": engaged.dt.strftime("%Y-%m-%d"), "Closed": closed.dt.strftime("%Y-%m-%d"),
    })
    # enquiries
    k = PER_PERSON["enquiries"] * n
    received = _times(rng, k)
    answered = received + pd.to_timedelta(rng.exponential(8, k), unit="h")
    answered = answered.where(rng.random(k) > 0.05)
    yield "enquiries", pd.DataFrame({
        "Enquiry ID": np.char.add("E", np.arange(k).astype(str)), "Owner": ids[rng.choice(n, k, p=ramp)],
        "Received": received.dt.strftime("%Y-%m-%d %H:%M:%S"),
        "First Response": answered.dt.strftime("%Y-%m-%d %H:%M:%S"),
    })


def _leads(rng: np.random.Generator, ids: np.ndarray, ramp: np.ndarray, lo: int, hi: int):
    n, k = len(ids), hi - lo
    owner = ids[rng.choice(n, k, p=ramp)]
    created = _times(rng, k)
    lead_ids = np.char.add("LD", np.arange(lo, hi).astype(str))
    yield "leads", pd.DataFrame({"Lead ID": lead_ids, "Owner": owner, "Source": rng.choice(
        ["web", "event", "referral", "newsletter"], k), "Created": created.dt.strftime("%Y-%m-%d %H:%M:%S")})
    stages, times, who, lid = [], [], [], []
    t = created
    alive = np.ones(k, dtype=bool)
    for stage, p_next, gap_days in (("prospect", 1.0, 0), ("mql", 0.7, 12), ("sql", 0.5, 15), ("won", 0.35, 25)):
        alive &= rng.random(k) < p_next
        t = t + pd.to_timedelta(rng.exponential(gap_days + 0.01, k), unit="D")
        keep = alive & (t < END).to_numpy()
        stages.append(np.full(keep.sum(), stage))
        times.append(t[keep])
        who.append(owner[keep])
        lid.append(lead_ids[keep])
    lost = ~alive & (rng.random(k) < 0.6)
    stages.append(np.full(lost.sum(), "lost"))
    times.append((created + pd.to_timedelta(rng.exponential(30, k), unit="D"))[lost].clip(upper=END
                                                                                     - pd.Timedelta(seconds=1)))
    who.append(owner[lost])
    lid.append(lead_ids[lost])
    yield "lead_stages", pd.DataFrame({
        "Lead ID": np.concatenate(lid), "Owner": np.concatenate(who), "Stage": np.concatenate(stages),
        "Changed": pd.concat(times, ignore_index=True).dt.strftime("%Y-%m-%d %H:%M:%S"),
    })


PLAN = [
    # tier, owner, objective, kr, metric, direction, baseline, target, quarterly_value
    ("company", "bench", "C1", "c_revenue_growth", "won_revenue_growth", "increase", 0, 0.2, "period"),
    ("company", "bench", "C1", "c_win_rate", "win_rate", "increase", 0.4, 0.6, "period"),
    ("company", "bench", "C1", "c_customers", "customers_won", "increase", 1000, 20000, "period"),
    ("team", "*", "T1", "t_headcount", "headcount_vs_start", "increase", 1, 2.5, "period"),
    ("team", "*", "T1", "t_open_leads", "open_leads", "increase", 1000, 30000, "mean_of_months"),
    ("team", "*", "T1", "t_enquiry_sla", "enquiries_12h", "increase", 0.5, 0.9, "period"),
    ("team", "*", "T1", "t_conversion", "mql_to_sql_30d", "increase", 0.2, 0.5, "period"),
    ("person", "*", "P1", "p_outreach", "positive_outreach_per_weekday", "increase", 1, 4, "period"),
    ("person", "*", "P1", "p_revenue", "won_revenue", "increase", 10000, 120000, "period"),
    ("person", "*", "P1", "p_win_rate", "win_rate", "increase", 0.4, 0.6, "period"),
    ("person", "*", "P1", "p_mqls", "mqls_per_month", "increase", 5, 30, "period"),
]

CONFIG = """\
company: {{id: bench, name: Bench Corp}}
fiscal_year_start_month: 4
timezone: UTC
locale: en
currency: USD
output: out
sources:
  people:
    path: exports/people.xlsx
    columns: {{person_id: Employee ID, person_name: Name, email: Email, team_id: Team, role: Role,
              started_at: Start Date, ended_at: End Date}}
  teams:
    path: exports/teams.xlsx
    columns: {{team_id: Team ID, team_name: Team Name, team_name_en: Team Name, lead_id: Lead ID}}
  plan: {{path: exports/okr_plan.xlsx}}
  leads:
    path: exports/leads.csv
    columns: {{lead_id: Lead ID, person_id: Owner, source: Source, created_at: Created}}
    date_format: "%Y-%m-%d %H:%M:%S"
  lead_stages:
    path: exports/lead_stages.csv
    columns: {{lead_id: Lead ID, person_id: Owner, stage: Stage, changed_at: Changed}}
    date_format: "%Y-%m-%d %H:%M:%S"
  activities:
    path: exports/activities.csv
    columns: {{activity_id: Activity ID, person_id: Owner, activity_type: Type, outcome: Outcome,
              occurred_at: Date}}
    date_format: "%Y-%m-%d %H:%M:%S"
  deals:
    path: exports/deals.csv
    columns: {{deal_id: Deal ID, person_id: Owner, customer_id: Account, stage: Stage, amount: Amount,
              engaged_at: Engaged, closed_at: Closed}}
    date_format: "%Y-%m-%d"
  enquiries:
    path: exports/enquiries.csv
    columns: {{enquiry_id: Enquiry ID, person_id: Owner, received_at: Received, first_response_at: First Response}}
    date_format: "%Y-%m-%d %H:%M:%S"
metrics:
  won_revenue: {{kind: sum, table: deals, column: amount, time: closed_at, where: {{stage: won}}, unit: currency}}
  won_deals: {{kind: count, table: deals, time: closed_at, where: {{stage: won}}}}
  closed_deals: {{kind: count, table: deals, time: closed_at, where: {{stage: [won, lost]}}}}
  win_rate: {{kind: ratio, numerator: won_deals, denominator: closed_deals, unit: percent}}
  won_revenue_growth: {{kind: growth, of: won_revenue, unit: percent}}
  customers_won: {{kind: distinct, table: deals, column: customer_id, time: closed_at, where: {{stage: won}}}}
  headcount_vs_start: {{kind: headcount, where: {{role: sales}}, relative_to: "2017-03-31", unit: ratio}}
  open_leads: {{kind: snapshot, table: leads, start: created_at}}
  enquiries_12h: {{kind: sla_share, table: enquiries, start: received_at, end: first_response_at,
                  time: received_at, within_hours: 12, unit: percent}}
  mql_to_sql_30d: {{kind: conversion, table: lead_stages, entity: lead_id, stage_column: stage, time: changed_at,
                   from_stage: mql, to_stage: sql, within_days: 30, unit: percent}}
  positive_outreach: {{kind: count, table: activities, time: occurred_at, where: {{outcome: positive}}}}
  positive_outreach_per_weekday: {{kind: rate, of: positive_outreach, per: weekday}}
  mqls: {{kind: count, table: lead_stages, time: changed_at, where: {{stage: mql}}}}
  mqls_per_month: {{kind: rate, of: mqls, per: month}}
"""


def write_xlsx(df: pd.DataFrame, path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        df.to_excel(xw, index=False, sheet_name="Sheet1")


def generate(size: str, force: bool = False) -> Path:
    """Write (or reuse) the bench-<size> workspace; returns its folder."""
    n = SIZES[size]
    ws = CACHE / f"bench-{size}"
    done = ws / ".complete"
    if done.exists() and not force:
        return ws
    t0 = time.perf_counter()
    rng = np.random.default_rng(n)
    (ws / "exports").mkdir(parents=True, exist_ok=True)
    directory, teams = people(rng, n)
    write_xlsx(directory, ws / "exports" / "people.xlsx")
    write_xlsx(teams, ws / "exports" / "teams.xlsx")
    plan = pd.DataFrame(PLAN, columns=["tier", "owner_id", "objective_id", "kr_id", "metric", "direction",
                                       "baseline", "target", "quarterly_value"])
    plan["objective_title_en"] = plan["objective_id"].map({"C1": "Grow profitably", "T1": "Build the pipeline",
                                                           "P1": "Sell more"})
    plan["kr_title_en"] = plan["kr_id"].str.replace("_", " ").str.capitalize()
    write_xlsx(plan, ws / "exports" / "okr_plan.xlsx")
    ramp = rng.gamma(4.0, 1.0, n)
    ramp = ramp / ramp.sum()
    started: set[str] = set()
    for name, df in facts(rng, directory["Employee ID"].to_numpy(), ramp):
        path = ws / "exports" / f"{name}.csv"
        df.to_csv(path, index=False, mode="a" if name in started else "w", header=name not in started)
        started.add(name)
        del df
    (ws / "okr.yaml").write_text(CONFIG.format(), encoding="utf-8")
    done.write_text(f"generated in {time.perf_counter() - t0:.1f} s\n")
    return ws


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="2k")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    ws = generate(args.size, args.force)
    total = sum(f.stat().st_size for f in (ws / "exports").iterdir())
    print(f"{ws} ({total / 1e6:.0f} MB): {(ws / '.complete').read_text().strip()}")


if __name__ == "__main__":
    main()
