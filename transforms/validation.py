"""Contract checks on staged tables and the plan: keys, nulls, allowed values, ranges, references.

Each check returns problems instead of raising, so a run reports every defect at once.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from transforms import config as cfg
from transforms.contracts import Contract
from transforms.problems import Problem

_MAX = 20


def _rows(mask: pd.Series) -> list:
    return list(mask[mask].index[:_MAX])


def check_table(df: pd.DataFrame, contract: Contract, file: str, sheet: str | None,
                labels: Mapping[str, str]) -> list[Problem]:
    """Nulls, allowed values, ranges and key uniqueness of one staged table."""
    out: list[Problem] = []

    def add(row, col, value, expected):
        out.append(Problem(file, expected, sheet=sheet, row=int(row) if row is not None else None,
                           column=labels.get(col, col) if col else None, value=value))

    for col, spec in contract.columns.items():
        if col not in df.columns:
            continue
        s = df[col]
        if not spec.nullable:
            for r in _rows(s.isna()):
                add(r, col, None, "a value is required here (the cell is empty)")
        if spec.allowed is not None:
            bad = s.notna() & ~s.isin(spec.allowed)
            for r in _rows(bad):
                add(r, col, s[r], f"one of {', '.join(spec.allowed)} (add a value alias in the config if the "
                                  f"export spells it differently)")
        if spec.min_value is not None and spec.dtype in ("int", "float"):
            for r in _rows((s < spec.min_value).fillna(False)):
                add(r, col, s[r], f"a value >= {spec.min_value:g}")
    key = [k for k in contract.key if k in df.columns]
    if key and len(key) == len(contract.key):
        dup = df.duplicated(key, keep="first")
        for r in _rows(dup):
            first = df.index[(df[key] == df.loc[r, key]).all(axis=1)][0]
            value = ", ".join(str(df.at[r, k]) for k in key)
            add(r, key[0], value, f"a unique {' + '.join(key)}; the same value is already on row {first}")
    return out


def check_people(people: pd.DataFrame, teams: pd.DataFrame, file: str, sheet: str | None,
                 labels: Mapping[str, str]) -> list[Problem]:
    """People must belong to known teams and report to known managers."""
    out = []
    known = set(teams["team_id"].dropna().astype(str))
    bad = people["team_id"].notna() & ~people["team_id"].astype(str).isin(known)
    for r in _rows(bad):
        out.append(Problem(file, "a team listed in the teams export", sheet=sheet, row=int(r),
                           column=labels.get("team_id", "team_id"), value=people.at[r, "team_id"]))
    if "manager_id" in people.columns:
        ids = set(people["person_id"].astype(str))
        bad = people["manager_id"].notna() & ~people["manager_id"].astype(str).isin(ids)
        for r in _rows(bad):
            out.append(Problem(file, "a person listed in the people directory", sheet=sheet, row=int(r),
                               column=labels.get("manager_id", "manager_id"), value=people.at[r, "manager_id"]))
    ended = people["ended_at"].notna() & people["started_at"].notna() & (people["ended_at"] < people["started_at"])
    for r in _rows(ended):
        out.append(Problem(file, "an end date on or after the start date", sheet=sheet, row=int(r),
                           column=labels.get("ended_at", "ended_at"), value=str(people.at[r, "ended_at"].date())))
    return out


def check_owners(df: pd.DataFrame, people_ids: set[str], file: str, sheet: str | None,
                 labels: Mapping[str, str], severity: str = "warning") -> list[Problem]:
    """Rows owned by someone missing from the people directory (left out of person and team scores)."""
    if "person_id" not in df.columns or df.empty:
        return []
    unknown = df["person_id"].notna() & ~df["person_id"].astype(str).isin(people_ids)
    if not unknown.any():
        return []
    values = sorted(df.loc[unknown, "person_id"].astype(str).unique())
    first = int(unknown[unknown].index[0])
    shown = ", ".join(values[:5]) + (" ..." if len(values) > 5 else "")
    return [Problem(file, f"{int(unknown.sum())} rows name owners missing from the people directory ({shown}); "
                          "they count for the company only", sheet=sheet, row=first,
                    column=labels.get("person_id", "person_id"), value=values[0], severity=severity)]


def check_plan(plan: pd.DataFrame, ws: cfg.Workspace, team_ids: set[str], people_ids: set[str], file: str,
               sheet: str | None, labels: Mapping[str, str]) -> list[Problem]:
    """Metrics exist, owners exist, targets differ from baselines, alignment has no cycle."""
    out = []

    def add(r, col, value, expected):
        out.append(Problem(file, expected, sheet=sheet, row=int(r), column=labels.get(col, col), value=value))

    for r, m in plan["metric"].items():
        if pd.notna(m) and m not in ws.metrics:
            add(r, "metric", m, f"a metric defined under 'metrics:' in the workspace config "
                                f"({len(ws.metrics)} defined)")
    for r, row in plan.iterrows():
        owner, tier = str(row["owner_id"]), row["tier"]
        if tier == "company" and owner not in ("*", ws.company.id):
            add(r, "owner_id", owner, f"the company id {ws.company.id!r} or '*'")
        elif tier == "team" and owner != "*" and owner not in team_ids:
            add(r, "owner_id", owner, "a team id from the teams export or '*'")
        elif tier == "person" and not (owner == "*" or owner.startswith(("role:", "team:")) or owner in people_ids):
            add(r, "owner_id", owner, "a person id from the people directory, '*', 'team:<id>' or 'role:<role>'")
        b, t = row.get("baseline"), row.get("target")
        if pd.notna(b) and pd.notna(t) and float(b) == float(t):
            add(r, "target", t, "a target different from the baseline (nothing to achieve otherwise)")
        d = row.get("direction")
        if pd.notna(b) and pd.notna(t) and d == "increase" and t < b:
            add(r, "target", t, f"a target above the baseline {b:g} for direction 'increase'")
        if pd.notna(b) and pd.notna(t) and d == "decrease" and t > b:
            add(r, "target", t, f"a target below the baseline {b:g} for direction 'decrease'")
    out += _alignment_cycles(plan, file, sheet, labels)
    return out


def _alignment_cycles(plan: pd.DataFrame, file: str, sheet: str | None, labels: Mapping[str, str]) -> list[Problem]:
    if "parent_objective_id" not in plan.columns:
        return []
    parent = {}
    row_of = {}
    tiers = {}
    for r, row in plan.iterrows():
        oid = str(row["objective_id"])
        row_of.setdefault(oid, r)
        tiers[oid] = row["tier"]
        if pd.notna(row["parent_objective_id"]):
            parent[oid] = str(row["parent_objective_id"])
    out = []
    known = set(row_of)
    rank = {"person": 0, "team": 1, "company": 2}
    for oid, p in parent.items():
        r = row_of[oid]
        if p not in known:
            out.append(Problem(file, "the id of an objective in the plan", sheet=sheet, row=int(r),
                               column=labels.get("parent_objective_id", "parent_objective_id"), value=p))
            continue
        seen, cur = {oid}, p
        while cur in parent and cur not in seen:
            seen.add(cur)
            cur = parent[cur]
        if cur in seen:
            out.append(Problem(file, f"an alignment without cycles; {oid} leads back to itself",
                               sheet=sheet, row=int(r),
                               column=labels.get("parent_objective_id", "parent_objective_id"), value=p))
        elif rank.get(tiers[p], 0) != rank.get(tiers[oid], 0) + 1:
            out.append(Problem(file, f"a parent objective one tier above {tiers[oid]} (found {tiers[p]})",
                               sheet=sheet, row=int(r),
                               column=labels.get("parent_objective_id", "parent_objective_id"), value=p))
    return out


def stage_workspace(raw: Mapping[str, pd.DataFrame], ws: cfg.Workspace) -> tuple[dict[str, pd.DataFrame],
                                                                                 list[Problem]]:
    """Stage every source to its contract and run every check; problems are errors or warnings."""
    from transforms.contracts import CONTRACTS
    from transforms.staging import stage

    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    labels: dict[str, dict[str, str]] = {}
    for name, frame in raw.items():
        source = ws.sources[name]
        contract = CONTRACTS.get(name)
        if contract is None:
            problems.append(Problem("okr.yaml", f"key 'sources.{name}': a canonical table name, one of "
                                                f"{', '.join(sorted(CONTRACTS))}"))
            continue
        labels[name] = {c: source.columns.get(c, c) for c in contract.columns}
        table, found = stage(frame, source, contract, source.path, ws.timezone)
        problems += found
        problems += check_table(table, contract, source.path, source.sheet, labels[name])
        tables[name] = table
    if problems:
        return tables, problems
    people_src = ws.sources["people"]
    from transforms.report import build_teams

    teams = build_teams(tables)
    problems += check_people(tables["people"], teams, people_src.path, people_src.sheet, labels["people"])
    people_ids = set(tables["people"]["person_id"].astype(str))
    for name, table in tables.items():
        if name not in ("people", "plan", "checkins"):
            src = ws.sources[name]
            problems += check_owners(table, people_ids, src.path, src.sheet, labels[name])
    plan_src = ws.sources["plan"]
    problems += check_plan(tables["plan"], ws, set(teams["team_id"].astype(str)), people_ids, plan_src.path,
                           plan_src.sheet, labels["plan"])
    return tables, problems
