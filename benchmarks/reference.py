"""Reference implementations the benchmark compares against, measured in the same run.

- extract: the fastest plain readers (pandas with the pyarrow engine for CSV, python-calamine for XLSX);
- transform: DuckDB SQL computing the bench plan's KRs from the same raw text columns (casts included);
  and, like for like, DuckDB doing the product's whole transform job: every mapped column of every CSV
  export cast and checked against its contract (keys, required cells, allowed values, unreadable
  values, owners missing from the people directory), then the KRs for the quarter and each month;
- render: plain WeasyPrint over the same HTML files with a plain process pool.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

Q_START, Q_END = "2018-01-01", "2018-04-01"  # FY2017-18 Q4 of an April fiscal year
PREV_START = "2017-10-01"
MONTH_ENDS = ("2018-02-01", "2018-03-01", "2018-04-01")  # exclusive ends of the quarter's months
WEEKDAYS = 65
TS = "%Y-%m-%d %H:%M:%S"


def read_plain(ws: Path) -> tuple[float, dict[str, pd.DataFrame]]:
    """Plain readers over every export; returns seconds and the frames."""
    from python_calamine import CalamineWorkbook

    t = time.perf_counter()
    frames = {}
    for f in sorted((ws / "exports").iterdir()):
        if f.suffix == ".csv":
            frames[f.stem] = pd.read_csv(f, engine="pyarrow")
        elif f.suffix == ".xlsx":
            rows = CalamineWorkbook.from_path(str(f)).get_sheet_by_index(0).to_python()
            frames[f.stem] = pd.DataFrame(rows[1:], columns=rows[0])
    return time.perf_counter() - t, frames


def read_text(ws: Path) -> dict[str, pd.DataFrame]:
    """The exports as text columns, the shape both transforms start from."""
    out = {}
    for f in sorted((ws / "exports").iterdir()):
        if f.suffix == ".csv":
            out[f.stem] = pd.read_csv(f, dtype=str, engine="pyarrow")
        elif f.suffix == ".xlsx":
            out[f.stem] = pd.read_excel(f, engine="calamine", dtype=str)
    return out


SQL = {
    # person tier
    "p_revenue": f"""
        select person_id as owner_id, sum(amount) as value from deals
        where stage = 'won' and closed_at >= '{Q_START}' and closed_at < '{Q_END}' group by 1""",
    "p_win_rate": f"""
        select person_id as owner_id, avg(case when stage = 'won' then 1.0 else 0.0 end) as value from deals
        where stage in ('won', 'lost') and closed_at >= '{Q_START}' and closed_at < '{Q_END}' group by 1""",
    "p_outreach": f"""
        select person_id as owner_id, count(*) / {WEEKDAYS}.0 as value from activities
        where outcome = 'positive' and occurred_at >= '{Q_START}' and occurred_at < '{Q_END}' group by 1""",
    "p_mqls": f"""
        select person_id as owner_id, count(*) / 3.0 as value from lead_stages
        where stage = 'mql' and changed_at >= '{Q_START}' and changed_at < '{Q_END}' group by 1""",
    # team tier
    "t_enquiry_sla": f"""
        select p.team_id as owner_id,
               avg(case when e.first_response_at - e.received_at <= interval 12 hour then 1.0 else 0.0 end) as value
        from enquiries e join people p using (person_id)
        where e.received_at >= '{Q_START}' and e.received_at < '{Q_END}' group by 1""",
    "t_open_leads": f"""
        select p.team_id as owner_id, count(*) / 3.0 as value
        from leads l join people p using (person_id),
             (values {", ".join(f"(timestamp '{m}')" for m in MONTH_ENDS)}) as m(month_end)
        where l.created_at < m.month_end group by 1""",
    "t_conversion": f"""
        with mql as (select lead_id, person_id, min(changed_at) as at from lead_stages where stage = 'mql'
                     group by 1, 2),
             sql_ as (select lead_id, min(changed_at) as at from lead_stages where stage = 'sql' group by 1)
        select p.team_id as owner_id,
               avg(case when s.at >= m.at and s.at - m.at <= interval 30 day then 1.0 else 0.0 end) as value
        from mql m left join sql_ s using (lead_id) join people p on p.person_id = m.person_id
        where m.at >= '{Q_START}' and m.at < '{Q_END}' group by 1""",
    "t_headcount": """
        select team_id as owner_id,
               count(*) filter (where (started_at is null or started_at <= '2018-03-31')
                                and (ended_at is null or ended_at >= '2018-03-31'))::double
             / nullif(count(*) filter (where (started_at is null or started_at <= '2017-03-31')
                                       and (ended_at is null or ended_at >= '2017-03-31')), 0) as value
        from people where role = 'sales' group by 1""",
    # company tier
    "c_revenue_growth": f"""
        select 'bench' as owner_id,
               sum(amount) filter (where closed_at >= '{Q_START}' and closed_at < '{Q_END}')
             / sum(amount) filter (where closed_at >= '{PREV_START}' and closed_at < '{Q_START}') - 1 as value
        from deals where stage = 'won'""",
    "c_customers": f"""
        select 'bench' as owner_id, count(distinct customer_id)::double as value from deals
        where stage = 'won' and closed_at >= '{Q_START}' and closed_at < '{Q_END}'""",
    "c_win_rate": f"""
        select 'bench' as owner_id, avg(case when stage = 'won' then 1.0 else 0.0 end) as value from deals
        where stage in ('won', 'lost') and closed_at >= '{Q_START}' and closed_at < '{Q_END}'""",
}

CASTS = {
    "people": """select "Employee ID" as person_id, "Team" as team_id, "Role" as role,
                        try_cast("Start Date" as date) as started_at, try_cast("End Date" as date) as ended_at
                 from raw_people""",
    "deals": """select "Owner" as person_id, "Account" as customer_id, "Stage" as stage,
                        cast("Amount" as double) as amount, strptime("Closed", '%Y-%m-%d') as closed_at
                 from raw_deals""",
    "activities": f"""select "Owner" as person_id, "Outcome" as outcome, strptime("Date", '{TS}') as occurred_at
                      from raw_activities""",
    "lead_stages": f"""select "Lead ID" as lead_id, "Owner" as person_id, "Stage" as stage,
                              strptime("Changed", '{TS}') as changed_at from raw_lead_stages""",
    "leads": f"""select "Lead ID" as lead_id, "Owner" as person_id, strptime("Created", '{TS}') as created_at
                 from raw_leads""",
    "enquiries": f"""select "Owner" as person_id, strptime("Received", '{TS}') as received_at,
                            strptime("First Response", '{TS}') as first_response_at from raw_enquiries""",
}


def duckdb_krs(raw: dict[str, pd.DataFrame]) -> tuple[float, dict[str, pd.Series]]:
    """Cast the raw text columns and compute every reference KR; returns seconds and values per KR."""
    import duckdb

    con = duckdb.connect()
    for name, df in raw.items():
        con.register(f"raw_{name}", df)
    t = time.perf_counter()
    for name, sql in CASTS.items():
        con.execute(f"create table {name} as {sql}")
    values = {kr: con.execute(sql).df().set_index("owner_id")["value"] for kr, sql in SQL.items()}
    return time.perf_counter() - t, values


def _plain_pdf(job: tuple[str, str]) -> None:
    from weasyprint import HTML

    html, out = job
    HTML(filename=html).write_pdf(out)


def plain_weasyprint(html_files: list[Path], out: Path, processes: int) -> float:
    """Plain WeasyPrint over the same HTML files with a plain process pool."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(str(f), str(out / f"{i}.pdf")) for i, f in enumerate(html_files)]
    t = time.perf_counter()
    if processes == 1:
        for job in jobs:
            _plain_pdf(job)
    else:
        import multiprocessing

        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("forkserver")) as pool:
            list(pool.map(_plain_pdf, jobs, chunksize=16))
    return time.perf_counter() - t


def _sql_cast(spec, raw_col: str, date_format: str | None) -> str:
    col = f'nullif(trim("{raw_col}"), \'\')'
    if spec.dtype == "datetime":
        return f"try_strptime({col}, '{date_format or '%Y-%m-%d'}')"
    if spec.dtype in ("int", "float"):
        return f"try_cast({col} as double)"
    return col


def _period_sql(start: str, end: str) -> dict[str, str]:
    """The period-dependent KRs of ``SQL`` for one period (quarter or month)."""
    swap = {Q_START: start, Q_END: end}
    out = {}
    for kr, sql in SQL.items():
        if kr in ("t_headcount", "t_open_leads", "c_revenue_growth"):
            continue
        for a, b in swap.items():
            sql = sql.replace(f"'{a}'", f"'{b}'")
        out[kr] = sql
    return out


def duckdb_same_work(raw: dict[str, pd.DataFrame], ws) -> tuple[float, dict[str, int]]:
    """DuckDB doing what the product's transform does: stage and check every CSV export against its
    contract, then every KR for the quarter and its three months. Returns seconds and the problem counts."""
    import duckdb

    from transforms.contracts import CONTRACTS

    con = duckdb.connect()
    for name, df in raw.items():
        con.register(f"raw_{name}", df)
    t = time.perf_counter()
    con.execute(f"create table people as {CASTS['people']}")
    problems: dict[str, int] = {}
    for name, source in ws.sources.items():
        if f"raw_{name}" not in {f"raw_{k}" for k in raw} or not source.path.endswith(".csv"):
            continue
        contract = CONTRACTS[name]
        cols = {c: source.columns.get(c, c) for c in contract.columns if source.columns.get(c, c) in raw[name].columns}
        casts = {c: _sql_cast(contract.columns[c], e, source.date_format) for c, e in cols.items()}
        con.execute(f"create table staged_{name} as select "
                    + ", ".join(f'{expr} as "{c}"' for c, expr in casts.items()) + f" from raw_{name}")
        checks = []  # unreadable values are checked on the raw text, the rules on the staged table
        unreadable = [f"""count(*) filter (where {casts[c]} is null and nullif(trim("{e}"), '') is not null)"""
                      for c, e in cols.items() if contract.columns[c].dtype != "str"]
        for c in cols:
            spec = contract.columns[c]
            if not spec.nullable:
                checks.append(f'count(*) filter (where "{c}" is null)')
            if spec.allowed:
                allowed = ", ".join(f"'{a}'" for a in spec.allowed)
                checks.append(f'count(*) filter (where "{c}" is not null and "{c}" not in ({allowed}))')
        key = ", ".join(f'"{k}"' for k in contract.key)
        checks.append(f"count(*) - count(distinct ({key}))" if len(contract.key) > 1
                      else f"count(*) - count(distinct {key})")
        found = con.execute(f"select {', '.join(checks)} from staged_{name}").fetchone()
        if unreadable:
            found += con.execute(f"select {', '.join(unreadable)} from raw_{name}").fetchone()
        problems[name] = int(sum(found))
        if "person_id" in cols:
            problems[name] += con.execute(f"""select count(*) from staged_{name} s anti join people p
                                              using (person_id)""").fetchone()[0]
    for name, sql in CASTS.items():
        if name != "people":
            con.execute(f"create table {name} as {sql}")
    periods = [(Q_START, Q_END), (Q_START, MONTH_ENDS[0]), (MONTH_ENDS[0], MONTH_ENDS[1]), (MONTH_ENDS[1], Q_END)]
    for start, end in periods:
        for sql in _period_sql(start, end).values():
            con.execute(sql).df()
    for kr in ("t_headcount", "t_open_leads", "c_revenue_growth"):
        con.execute(SQL[kr]).df()
    return time.perf_counter() - t, problems
