"""Contract checks on staged tables, the plan and the config: keys, nulls, allowed values, ranges, references.

Each check returns problems instead of raising, so a run reports every defect at once. Every check is driven
by ``transforms.contracts`` (the one place the canonical tables are declared) and the workspace config.
The checks are plain pandas: staging has already cast each column to its contract type, reporting every value
it could not read in the export's own spelling, so what is left to check here is the contract's rules.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pandas as pd

from transforms import config as cfg
from transforms.contracts import MEMBERSHIPS, PRESETS, Contract, PathError, resolve_path, table_contracts
from transforms.keys import duplicated_rows
from transforms.plan import objective_weight_problems
from transforms.problems import Problem, cap, config_problem
from transforms.schedule import cron_problem
from transforms.tables import (
    KeptRows,
    Part,
    derived_people,
    derived_teams,
    keep_rows,
    overlapping_memberships,
    owned_tables,
    place,
    relocate,
    union,
)

_MAX = 20
MUST_HAVE_ROWS = ("people", "plan")
"""Tables that mean nothing empty; any other table with a header and no rows just has no data yet."""


def _rows(mask: pd.Series) -> list:
    return list(mask[mask].index)


def _did_you_mean(word: str, choices) -> str:
    guess = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {guess[0]!r}?" if guess else ""


def check_table(df: pd.DataFrame, contract: Contract, file: str, sheet: str | None,
                labels: Mapping[str, str]) -> list[Problem]:
    """Nulls, allowed values, ranges and key uniqueness of one staged table."""
    return check_cells(df, contract, file, sheet, labels) + check_key(df, contract, file, sheet, labels)


def check_cells(df: pd.DataFrame, contract: Contract, file: str, sheet: str | None,
                labels: Mapping[str, str]) -> list[Problem]:
    """Nulls, allowed values and ranges, cell by cell."""
    out: list[Problem] = []

    def add(row, col, value, expected, code):
        out.append(Problem(file, expected, sheet=sheet, row=int(row) if row is not None else None,
                           column=labels.get(col, col) if col else None, value=value, code=code))

    for col, spec in contract.columns.items():
        if col not in df.columns:
            continue
        s = df[col]
        if not spec.nullable:
            for r in _rows(s.isna()):
                add(r, col, None, "the cell is empty: expected a value", "required")
        if spec.allowed is not None:
            shown = ", ".join(map(str, spec.allowed))
            bad = s.notna() & ~s.isin(spec.allowed)
            for r in _rows(bad):
                add(r, col, s[r], f"expected one of {shown} (if the export spells it "
                                  f"differently, add it under 'values:' for this source in okr.yaml)"
                                  f"{_did_you_mean(s[r], spec.allowed)}", "allowed")
        if spec.min_value is not None and spec.dtype in ("int", "float"):
            for r in _rows((s < spec.min_value).fillna(False)):
                add(r, col, s[r], f"expected a number of at least {spec.min_value:g}", "range")
    return out


def check_key(df: pd.DataFrame, contract: Contract, file: str, sheet: str | None, labels: Mapping[str, str],
              place: Callable[[int], str] = lambda r: f"row {r}") -> list[Problem]:
    """Every complete key once; a repeat names the row (``place``) where the key was first seen."""
    out: list[Problem] = []
    key = [k for k in contract.key if k in df.columns]
    if not key or len(key) != len(contract.key):
        return out
    complete = df[key].notna().all(axis=1)
    keyed = df[key] if complete.all() else df.loc[complete, key]
    dup = duplicated_rows(keyed, key)
    if not dup.any():
        return out
    first_row = {}
    for r, values in keyed.loc[dup, key].iterrows():
        k = tuple(values)
        if k not in first_row:
            first_row[k] = r
            continue
        value = ", ".join(str(v) for v in k)
        label = " + ".join(labels.get(c, c) for c in key)
        expected = f"expected a unique {label}; {value!r} is already on {place(first_row[k])}"
        if contract.name == "people" and "team_id" in df.columns:
            there, here = df.at[first_row[k], "team_id"], df.at[r, "team_id"]
            if pd.notna(there) and pd.notna(here) and there != here:
                expected += (f" (team {there!r} there, {here!r} here: a person can only be in one team at a "
                             "time; for moves between teams add a team_memberships source with dates)")
        if contract.keep_by is None and contract.name not in ("people", "plan", "teams", "regions"):
            expected += ("; if the export is an event log with several rows per key, declare "
                         f"'keep: {{latest_by: <time column>}}' under tables.{contract.name} in okr.yaml")
        out.append(Problem(file, expected, sheet=sheet, row=int(r), column=labels.get(key[0], key[0]),
                           value=value, code="duplicate"))
    return out


def check_people(people: pd.DataFrame, teams: pd.DataFrame | None, file: str, sheet: str | None,
                 labels: Mapping[str, str]) -> list[Problem]:
    """People must belong to known teams and report to known managers."""
    out = []
    if teams is not None:
        known = set(teams["team_id"].dropna().astype(str))
        bad = people["team_id"].notna() & ~people["team_id"].astype(str).isin(known)
        for r in _rows(bad):
            hint = _did_you_mean(people.at[r, "team_id"], known)
            out.append(Problem(file, f"expected a team listed in the teams export{hint}", sheet=sheet, row=int(r),
                               column=labels.get("team_id", "team_id"), value=people.at[r, "team_id"], code="team"))
    if "manager_id" in people.columns:
        ids = set(people["person_id"].dropna().astype(str))
        bad = people["manager_id"].notna() & ~people["manager_id"].astype(str).isin(ids)
        for r in _rows(bad):
            out.append(Problem(file, "expected a person listed in the people directory", sheet=sheet, row=int(r),
                               column=labels.get("manager_id", "manager_id"), value=people.at[r, "manager_id"],
                               code="manager"))
    ended = people["ended_at"].notna() & people["started_at"].notna() & (people["ended_at"] < people["started_at"])
    for r in _rows(ended):
        out.append(Problem(file, f"expected an end date on or after the start date "
                                 f"{people.at[r, 'started_at']:%Y-%m-%d}", sheet=sheet, row=int(r),
                           column=labels.get("ended_at", "ended_at"), value=f"{people.at[r, 'ended_at']:%Y-%m-%d}",
                           code="dates"))
    return out


def check_owners(df: pd.DataFrame, people_ids: set[str], file: str, sheet: str | None,
                 labels: Mapping[str, str], column: str = "person_id") -> list[Problem]:
    """Rows owned by someone missing from the people directory (left out of person and team scores)."""
    if column not in df.columns or df.empty:
        return []
    unknown = df[column].notna() & ~df[column].astype(str).isin(people_ids)
    if not unknown.any():
        return []
    values = sorted(df.loc[unknown, column].astype(str).unique())
    first = int(unknown[unknown].index[0])
    shown = ", ".join(values[:5]) + (" ..." if len(values) > 5 else "")
    n = int(unknown.sum())
    what = "1 row names an owner" if n == 1 else f"{n} rows name owners"
    return [Problem(file, f"{what} missing from the people directory ({shown}); "
                          f"{'it counts' if n == 1 else 'they count'} for the company only", sheet=sheet, row=first,
                    column=labels.get(column, column), value=values[0], severity="warning", code="owner",
                    expected_zh=f"{n} 行的负责人不在员工名册中（{shown}），只计入公司")]


def check_plan(plan: pd.DataFrame, ws: cfg.Workspace, team_ids: set[str] | None, people_ids: set[str] | None,
               file: str, sheet: str | None, labels: Mapping[str, str]) -> list[Problem]:
    """Metrics exist, owners exist, targets differ from baselines, alignment has no cycle.

    ``team_ids`` / ``people_ids`` are None when those tables could not be read (owners are then not checked).
    """
    out = []

    def add(r, col, value, expected, code):
        out.append(Problem(file, expected, sheet=sheet, row=int(r), column=labels.get(col, col), value=value,
                           code=code))

    for r, m in plan["metric"].items():
        if pd.notna(m) and m not in ws.metrics:
            add(r, "metric", m, f"expected a metric defined under 'metrics:' in okr.yaml"
                                f"{_did_you_mean(m, ws.metrics)}", "metric")
    tiers = ("company", "team", "person")
    for r, row in plan.iterrows():
        owner, tier = str(row["owner_id"]), row["tier"]
        if pd.isna(row["owner_id"]) or tier not in tiers:
            pass
        elif tier == "company" and owner not in ("*", ws.company.id):
            add(r, "owner_id", owner, f"expected the company id {ws.company.id!r} or '*'", "owner")
        elif tier == "team" and team_ids is not None and owner != "*" and owner not in team_ids:
            add(r, "owner_id", owner, f"expected a team id from the teams export or '*'"
                                      f"{_did_you_mean(owner, team_ids)}", "owner")
        elif tier == "person" and people_ids is not None and not (
                owner == "*" or owner.startswith(("role:", "team:")) or owner in people_ids):
            add(r, "owner_id", owner, "expected a person id from the people directory, '*', 'team:<team id>' or "
                                      f"'role:<role>'{_did_you_mean(owner, people_ids)}", "owner")
        b, t = row.get("baseline"), row.get("target")
        if pd.notna(b) and pd.notna(t) and float(b) == float(t):
            add(r, "target", t, f"expected a target different from the baseline {b:g} (there is nothing to "
                                "achieve otherwise)", "target")
        d = row.get("direction")
        if pd.notna(b) and pd.notna(t) and d == "increase" and t < b:
            add(r, "target", t, f"expected a target above the baseline {b:g} for direction 'increase'", "target")
        if pd.notna(b) and pd.notna(t) and d == "decrease" and t > b:
            add(r, "target", t, f"expected a target below the baseline {b:g} for direction 'decrease'", "target")
    out += _alignment(plan, file, sheet, labels)
    out += objective_weight_problems(plan, file, sheet, dict(labels))
    return out


_RANK = {"person": 0, "team": 1, "company": 2}


def _alignment(plan: pd.DataFrame, file: str, sheet: str | None, labels: Mapping[str, str]) -> list[Problem]:
    """Parents exist, sit one tier above, and never lead back to the objective (one problem per loop)."""
    if "parent_objective_id" not in plan.columns:
        return []
    parent, row_of, tiers = {}, {}, {}
    for r, row in plan.iterrows():
        if pd.isna(row["objective_id"]) or row["tier"] not in _RANK:
            continue
        oid = str(row["objective_id"])
        row_of.setdefault(oid, r)
        tiers.setdefault(oid, row["tier"])
        if pd.notna(row["parent_objective_id"]) and oid not in parent:
            parent[oid] = str(row["parent_objective_id"])
    col = labels.get("parent_objective_id", "parent_objective_id")
    out, in_loop = [], set()
    for oid in sorted(parent, key=lambda o: row_of[o]):
        path, cur = [oid], parent[oid]
        while cur in parent and cur not in path:
            path.append(cur)
            cur = parent[cur]
        if cur in path and cur == oid and oid not in in_loop:
            in_loop |= set(path)
            loop = " -> ".join(path + [oid])
            out.append(Problem(file, f"expected objectives to align upwards without a loop; {loop} goes round "
                                     "in a circle", sheet=sheet, row=int(row_of[oid]), column=col,
                               value=parent[oid], code="alignment"))
    for oid, p in sorted(parent.items(), key=lambda kv: row_of[kv[0]]):
        r = row_of[oid]
        if p not in row_of:
            out.append(Problem(file, f"expected the id of an objective in the plan{_did_you_mean(p, row_of)}",
                               sheet=sheet, row=int(r), column=col, value=p, code="alignment"))
        elif oid not in in_loop and _RANK.get(tiers[p], 0) != _RANK.get(tiers[oid], 0) + 1:
            out.append(Problem(file, f"expected a parent objective one tier above this {tiers[oid]} objective "
                                     f"({p} is a {tiers[p]} objective)", sheet=sheet, row=int(r), column=col,
                               value=p, code="alignment"))
    return out


# -- the config against the contracts ------------------------------------------------------------------------

ConfigIssue = tuple[tuple[str, ...], str, object]
"""(key path as written flat in okr.yaml, what was expected, the value found)."""


def check_config(ws: cfg.Workspace) -> list[ConfigIssue]:
    """Config keys naming canonical tables, columns, values and time zones that do not exist."""
    out = _check_sources(ws)
    out += _check_tables(ws)
    out += _check_zones(ws)
    if ws.schedule_cron is not None:
        expected = cron_problem(ws.schedule_cron)
        if expected:
            out.append((("schedule_cron",), expected, ws.schedule_cron))
    for name, metric in ws.metrics.items():
        out += check_filter_values(ws, name, metric.definition)
    return out


def _check_sources(ws: cfg.Workspace) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    contracts = table_contracts(ws)
    for name, src in ws.sources.items():
        table = src.table_name(name)
        contract = contracts.get(table)
        if contract is None:
            at = ("sources", name, "table") if src.table else ("sources", name)
            out.append((at, f"unknown table: expected a preset table ({', '.join(sorted(PRESETS))}), a table "
                            "declared under 'tables:', or 'table: <name>' on this source to say which table it "
                            f"feeds{_did_you_mean(table, contracts)}", src.table))
            continue
        cols = list(contract.columns)
        for section in ("columns", "values", "constants"):
            for key in getattr(src, section):
                if key not in contract.columns:
                    out.append((("sources", name, section, key),
                                f"unknown column of the {table} table: expected one of {', '.join(cols)}"
                                f"{_did_you_mean(key, cols)} (declare a new column under "
                                f"tables.{table}.columns)", None))
    return out


def _check_tables(ws: cfg.Workspace) -> list[ConfigIssue]:
    """Declarations name their own columns as key, time, owners and ordering; links lead to keyed tables."""
    out: list[ConfigIssue] = []
    contracts = table_contracts(ws)
    for name, decl in ws.tables.items():
        c = contracts[name]
        cols = list(c.columns)
        at = ("tables", name)
        if not cols:
            out.append((at + ("columns",), "expected at least one column", None))
        if decl.replace and name not in PRESETS:
            out.append((at + ("replace",), f"'replace' only applies to a preset table ({name} is a new one)", True))
        named = [("key", k) for k in (decl.key or [])] + [(f, getattr(decl, f)) for f in ("time", "person", "team")]
        named += [("links", col) for col in decl.links]
        if decl.keep is not None:
            named.append(("keep", decl.keep.by))
        for field, col in named:
            if col is not None and col not in c.columns:
                out.append((at + (field,), f"expected a column of the {name} table ({', '.join(cols)})"
                                           f"{_did_you_mean(col, cols)}", col))
        if decl.time is not None and decl.time in c.columns and c.columns[decl.time].dtype != "datetime":
            out.append((at + ("time",), "expected a column of type datetime", decl.time))
        if decl.keep is not None and not c.key:
            out.append((at + ("keep",), "expected a 'key' too: an event log keeps one row per key", None))
        for col, target in decl.links.items():
            t = contracts.get(target)
            if t is None:
                out.append((at + ("links", col), f"expected a table name{_did_you_mean(target, contracts)}", target))
            elif len(t.key) != 1:
                out.append((at + ("links", col), f"expected a table with a one-column key ({target} has "
                                                 f"{' + '.join(t.key) or 'no key'})", target))
    return out


# -- time zones ----------------------------------------------------------------------------------------------

_ZONE_HINTS = {
    "china standard time": "Asia/Shanghai", "beijing": "Asia/Shanghai", "tokyo standard time": "Asia/Tokyo",
    "korea standard time": "Asia/Seoul", "taipei standard time": "Asia/Taipei",
    "singapore standard time": "Asia/Singapore", "india standard time": "Asia/Kolkata",
    "gmt standard time": "Europe/London", "w. europe standard time": "Europe/Berlin",
    "romance standard time": "Europe/Paris", "russian standard time": "Europe/Moscow",
    "eastern standard time": "America/New_York", "central standard time": "America/Chicago",
    "mountain standard time": "America/Denver", "pacific standard time": "America/Los_Angeles",
    "aus eastern standard time": "Australia/Sydney",
}
"""Zone names people copy from Windows or say out loud, which are not IANA names, and the IANA zone meant."""

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?00)?$", re.IGNORECASE)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_problem(name: str) -> str | None:
    """What is wrong with a time zone name (None when it is an IANA zone the run can use)."""
    if name in _zones():
        return None
    expected = "expected an IANA time zone name like Asia/Shanghai or America/New_York"
    text = name.strip()
    offset = _OFFSET.match(text)
    if offset:
        hours = int(offset[2])
        sign = "-" if offset[1] == "+" else "+"
        zone = "Etc/UTC" if hours == 0 else f"Etc/GMT{sign}{hours}"
        if zone not in _zones():
            return f"{expected} (a fixed offset is not a zone name)"
        return (f"{expected} (the zone of a place follows its daylight saving time); for a fixed offset of "
                f"{offset[1]}{hours} hours write {zone!r} (IANA reverses the sign in Etc/GMT names)")
    if text.lower() in _ZONE_HINTS:
        return f"{expected}; did you mean {_ZONE_HINTS[text.lower()]!r}? ({text!r} is not an IANA name)"
    lower = {z.lower(): z for z in _zones()}
    if text.lower() in lower:
        return f"{expected}; did you mean {lower[text.lower()]!r}?"
    if text.isalpha() and text.isupper() and len(text) <= 5:
        return f"{expected} (an abbreviation like {text} can stand for several zones: name the place's zone)"
    return expected + _did_you_mean(text, sorted(_zones()))


def _check_zones(ws: cfg.Workspace) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    expected = zone_problem(ws.timezone)
    if expected:
        out.append((("timezone",), expected, ws.timezone))
    for name, src in ws.sources.items():
        expected = zone_problem(src.timezone) if src.timezone is not None else None
        if expected:
            out.append((("sources", name, "timezone"), expected, src.timezone))
    return out


# -- filter values against the allowed values of a column ----------------------------------------------------

def _filters(d: cfg.Metric) -> list[tuple[str, str, cfg.Where]]:
    """(field, table, filter) of every filter a metric definition carries."""
    out = []
    if isinstance(d, cfg.HeadcountMetric):
        out.append(("where", "people", d.where))
    elif isinstance(getattr(d, "where", None), dict) and isinstance(getattr(d, "table", None), str):
        out.append(("where", d.table, d.where))
    if isinstance(d, cfg.RateMetric):
        out.append(("head_where", "people", d.head_where))
    if isinstance(d, cfg.CoverageMetric):
        out.append(("reference_where", d.reference, d.reference_where))
    return out


def _compared(cond: object) -> list[tuple[tuple[str, ...], object]]:
    """The values a filter condition compares a column with, each with its key below the column."""
    if isinstance(cond, list):
        return [((), v) for v in cond]
    if not isinstance(cond, dict):
        return [((), cond)]
    out: list[tuple[tuple[str, ...], object]] = []
    for op, operand in cond.items():
        if op in ("eq", "ne"):
            out.append(((op,), operand))
        elif op in ("in", "not_in") and isinstance(operand, list):
            out += [((op,), v) for v in operand]
    return out


def _not_lists(cond: object) -> list[tuple[tuple[str, ...], str, object]]:
    """'in' / 'not_in' with one value instead of a list (a text would be read letter by letter)."""
    if not isinstance(cond, dict):
        return []
    return [((op,), f"expected a list of values, e.g. {{{op}: [{operand}]}}", operand)
            for op, operand in cond.items() if op in ("in", "not_in") and not isinstance(operand, list)]


def check_filter_values(ws: cfg.Workspace, name: str, d: cfg.Metric) -> list[ConfigIssue]:
    """Filter values (and conversion stages) a column with allowed values can never hold: such a filter
    matches no row, so every card would silently show 'no data'."""
    out: list[ConfigIssue] = []
    for field, table, where in _filters(d):
        for col, cond in where.items():
            key = ("metrics", name, field, col)
            out += [(key + sub, expected, v) for sub, expected, v in _not_lists(cond)]
            for sub, value in _compared(cond):
                expected = _value_problem(ws, table, col, value)
                if expected:
                    out.append((key + sub, expected, value))
    if isinstance(d, cfg.ConversionMetric):
        to = [d.to_stage] if isinstance(d.to_stage, str) else d.to_stage
        for field, value in [("from_stage", d.from_stage)] + [("to_stage", v) for v in to]:
            expected = _value_problem(ws, d.table, d.stage_column, value)
            if expected:
                out.append((("metrics", name, field), expected, value))
    return out


def _value_problem(ws: cfg.Workspace, table: str, col: str, value: object) -> str | None:
    """Why ``value`` can never be in ``table.col`` (None when it can, or when the column has no allowed list)."""
    contracts = table_contracts(ws)
    if table not in contracts:
        return None
    try:
        table, col = resolve_path(contracts, table, col)[-1]
    except PathError:
        return None  # reported by check_metrics, with the path
    spec = contracts[table].columns[col]
    if spec.allowed is None or (value is not None and value in spec.allowed):
        return None
    expected = f"expected one of {', '.join(map(str, spec.allowed))}"
    if value is None:
        return f"{expected} (an empty value matches no row; for rows where {col} is empty write {{is_null: true}})"
    where = f"sources.{table}.values.{col}"
    aliases = {str(k): v for _, src in ws.table_sources(table) for k, v in src.values.get(col, {}).items()}
    if str(value) in aliases and aliases[str(value)] in spec.allowed:
        mapped = aliases[str(value)]
        return (f"{expected}; did you mean {mapped!r}? (filters see the values after mapping: {where} maps "
                f"{str(value)!r} to {mapped!r})")
    lower = {a.lower(): a for a in spec.allowed}
    guess = (f"; did you mean {lower[str(value).lower()]!r}?" if str(value).lower() in lower
             else _did_you_mean(str(value).lower(), spec.allowed))
    return (f"{expected}{guess} (filters see the values after mapping: an export's own spellings map onto "
            f"these under '{where}')")


Field = tuple[str, ...]
"""A key path below a metric, e.g. ('where', 'sellers.state')."""


def _metric_refs(d: cfg.Metric) -> tuple[str | None, list[tuple[Field, str]], list[tuple[str, str]]]:
    """(table, [(field, column)], [(field, metric)]) a metric definition refers to."""
    cols: list[tuple[Field, str]] = []
    for f in ("column", "time", "start", "end", "divide_by", "stage_column", "entity"):
        v = getattr(d, f, None)
        if isinstance(v, str):
            cols.append(((f,), v))
    for c, cond in (getattr(d, "where", None) or {}).items():
        cols.append((("where", c), c))
        if isinstance(cond, dict):
            cols += [(("where", c, op), v) for op, v in cond.items() if op.endswith("_col") and isinstance(v, str)]
    metrics = [(f, getattr(d, f)) for f in ("of", "numerator", "denominator") if isinstance(getattr(d, f, None), str)]
    return getattr(d, "table", None), cols, metrics


def check_metrics(ws: cfg.Workspace, used: set[str]) -> list[Problem]:
    """Metrics the plan uses (and the metrics they build on) name tables, columns and metrics that exist."""
    out, seen, todo = [], set(), sorted(m for m in used if m in ws.metrics)
    contracts = table_contracts(ws)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        d = ws.metrics[name].definition
        table, cols, refs = _metric_refs(d)

        def add(field: str, value: object, expected: str, name: str = name) -> None:
            out.append(_metric_problem(name, (field,), expected, value))

        if d.kind == "headcount":
            table = "people"
            cols = [(("where", c), c) for c in (d.where or {})]
        if table is not None:
            out.extend(_column_refs(ws, contracts, name, table, cols))
        ref = getattr(d, "reference", None)
        if ref is not None and ref in contracts:
            out.extend(_column_refs(ws, contracts, name, ref, [(("reference_column",), d.reference_column)]))
        for field, m in refs:
            if m not in ws.metrics:
                add(field, m, f"expected a metric defined under 'metrics:'{_did_you_mean(m, ws.metrics)}")
            else:
                todo.append(m)
    return out


def _metric_problem(metric: str, field: Field, expected: str, value: object) -> Problem:
    """A metric's problem, with its key path for the line (a column path like 'sellers.state' is one key)."""
    key = ("metrics", metric, *field)
    return replace(config_problem("okr.yaml", ".".join(key), expected, value), key=key)


def _column_refs(ws: cfg.Workspace, contracts: Mapping[str, Contract], metric: str, table: str,
                 cols: list[tuple[Field, str]]) -> list[Problem]:
    """The metric's table has a source (or is derived) and every column it names exists, look-ups included."""
    def problem(field: Field, value: object, expected: str) -> Problem:
        return _metric_problem(metric, field, expected, value)

    derivable = {"teams", "people"} if "plan" in ws.source_tables() else set()
    if table not in ws.source_tables() and table not in derivable:
        tables = ws.source_tables()
        return [problem(("table",), table, f"expected a table with a source under 'sources:' ({', '.join(tables)})"
                                        f"{_did_you_mean(table, tables)}")]
    if table not in contracts:
        return []
    out = []
    for field, c in cols:
        try:
            resolve_path(dict(contracts), table, c)
        except PathError as exc:
            known = list(contracts[table].columns)
            out.append(problem(field, c, f"{exc}{_did_you_mean(c, known) if '.' not in c else ''}"))
    return out


# -- everything at once --------------------------------------------------------------------------------------

STAGING_THREADS = 2


def _stage_one(name: str, source: cfg.Source, frame: pd.DataFrame, contract: Contract,
               workspace_tz: str) -> tuple[pd.DataFrame, list[Problem], dict[str, str], bool]:
    """Stage and check the cells of one export: the table, its problems, its column labels and whether later
    checks can use it. Keys are checked on the whole table (all its exports, event logs reduced)."""
    from transforms.staging import stage

    found: list[Problem] = list(frame.attrs.get("read_problems") or [])
    labels = {c: source.columns.get(c, c) for c in contract.columns}
    # a table's columns are cast side by side too: the largest export would otherwise run alone at the end
    with ThreadPoolExecutor(max_workers=STAGING_THREADS) as columns:
        table, staged = stage(frame, source, contract, source.path, workspace_tz, columns.map)
    found += staged
    # a cell staging could not read (or a formula with no result) is empty now: reported once, not twice
    unread = {(p.row, p.column) for p in staged if p.code in ("formula", "type")}
    missing = {p.column for p in staged if p.code == "column"}  # already reported once for the column
    found += [p for p in check_cells(table, contract, source.path, source.sheet, labels)
              if p.column not in missing and not (p.code == "required" and (p.row, p.column) in unread)]
    if table.empty:
        if name in MUST_HAVE_ROWS:
            found.append(Problem(source.path, f"no rows below the header: expected at least one "
                                              f"{'person' if name == 'people' else 'key result'}",
                                 sheet=source.sheet, code="empty"))
        elif not frame.attrs.get("read_problems"):
            found.append(Problem(source.path, f"no rows below the header: the {name} table has no data, so "
                                              "its metrics show 'no data'", sheet=source.sheet,
                                 severity="warning", code="empty",
                                 expected_zh=f"表头下没有数据行：{name} 表没有数据，其指标显示为“无数据”"))
    usable = not any(p.code in ("column", "empty") and p.severity == "error" for p in found)
    return table, found, labels, usable


def _assemble(parts: list[Part], contract: Contract) -> tuple[pd.DataFrame, list[Problem]]:
    """One table from its staged exports: unioned, an event log reduced, keys and owners checked."""
    table = union(parts)
    table, set_aside = keep_rows(table, contract)
    if contract.keep_by is not None:
        table.attrs["kept"] = KeptRows(len(table) + set_aside, set_aside, contract.keep_text())
    first = parts[0]
    labels = first.labels if len(parts) == 1 else {c: c for c in contract.columns}
    found = check_key(table, contract, first.source.path, first.source.sheet, labels, place(parts))
    return table, relocate(found, parts)


def stage_workspace(raw: Mapping[str, pd.DataFrame], ws: cfg.Workspace) -> tuple[dict[str, pd.DataFrame],
                                                                                 list[Problem]]:
    """Stage every source that could be read to its table's contract and run every check; problems are errors
    or warnings. Sources missing from ``raw`` could not be read (their problems are the reader's); checks that
    need them are skipped rather than reporting follow-on errors."""
    contracts = table_contracts(ws)
    todo = [(ws_name, source, raw[ws_name], contracts[source.table_name(ws_name)])
            for ws_name, source in ws.sources.items()
            if ws_name in raw and source.table_name(ws_name) in contracts]
    # tables are independent and Arrow/NumPy kernels release the GIL: two threads keep both cores busy
    with ThreadPoolExecutor(max_workers=STAGING_THREADS) as pool:
        done = list(pool.map(lambda job: _stage_one(job[3].name, *job[1:], ws.timezone), todo))
    parts: dict[str, list[Part]] = {}
    problems: list[Problem] = []
    spoilt: set[str] = set()
    for (ws_name, source, _, contract), (table, found, names, ok) in zip(todo, done, strict=True):
        parts.setdefault(contract.name, []).append(Part(ws_name, source, table, names))
        problems += found
        if not ok:
            spoilt.add(contract.name)
    tables: dict[str, pd.DataFrame] = {}
    for name, table_parts in parts.items():
        tables[name], found = _assemble(table_parts, contracts[name])
        problems += found
    usable = set(tables) - spoilt
    problems += _directory(tables, contracts, ws, usable, parts)
    return tables, cap(problems)


def _directory(tables: dict[str, pd.DataFrame], contracts: Mapping[str, Contract], ws: cfg.Workspace,
               usable: set[str], parts: Mapping[str, list[Part]]) -> list[Problem]:
    """People, teams and the plan checked against each other; a missing directory derived from the owner ids."""
    problems: list[Problem] = []
    sourced = set(ws.source_tables())
    if "people" not in sourced and not spoilt_owners(usable, tables, contracts):
        tables["people"] = derived_people(tables, contracts, contracts["people"])
        usable.add("people")
        problems.append(_derived_note(tables, contracts))
    if "teams" not in sourced and "people" in usable:
        tables["teams"] = derived_teams(tables, contracts)
        usable.add("teams")
    teams = tables["teams"] if "teams" in usable else None
    if MEMBERSHIPS in usable:
        problems += _membership_problems(tables[MEMBERSHIPS], parts[MEMBERSHIPS])
    if "people" in usable and "people" in parts:
        first = parts["people"][0]
        problems += relocate(check_people(tables["people"], teams, first.source.path, first.source.sheet,
                                          first.labels if len(parts["people"]) == 1 else {}), parts["people"])
    people_ids = set(tables["people"]["person_id"].dropna().astype(str)) if "people" in usable else None
    if people_ids is not None and "people" in parts:
        for name in owned_tables(tables, contracts):
            if contracts[name].person is None or name not in parts:
                continue
            first = parts[name][0]
            labels = first.labels if len(parts[name]) == 1 else {}
            problems += relocate(check_owners(tables[name], people_ids, first.source.path, first.source.sheet,
                                              labels, column=contracts[name].person), parts[name])
    if "plan" in usable:
        first = parts["plan"][0]
        team_ids = set(teams["team_id"].dropna().astype(str)) if teams is not None else None
        problems += relocate(check_plan(tables["plan"], ws, team_ids, people_ids, first.source.path,
                                        first.source.sheet, first.labels if len(parts["plan"]) == 1 else {}),
                             parts["plan"])
        problems += check_metrics(ws, set(tables["plan"]["metric"].dropna().astype(str)))
    return problems


def _membership_problems(memberships: pd.DataFrame, parts: list[Part]) -> list[Problem]:
    """A person is in one team at a time: a membership may not start before the previous one ended."""
    first, where = parts[0], place(parts)
    labels = first.labels if len(parts) == 1 else {}
    out = []
    for row, earlier in overlapping_memberships(memberships):
        ended = memberships.at[earlier, "ended_at"]
        until = "has no end date" if pd.isna(ended) else f"ends on {ended:%Y-%m-%d}"
        out.append(Problem(first.source.path, f"expected a start after the person's previous membership, which "
                                              f"{until} ({where(earlier)}): a person is in one team at a time",
                           sheet=first.source.sheet, row=row, column=labels.get("started_at", "started_at"),
                           value=f"{memberships.at[row, 'started_at']:%Y-%m-%d}", code="membership"))
    return relocate(out, parts)


def spoilt_owners(usable: set[str], tables: Mapping[str, pd.DataFrame], contracts: Mapping[str, Contract]) -> bool:
    """Whether a table owner ids would come from could not be staged (no directory is derived from half the ids)."""
    return any(n not in usable for n in owned_tables(tables, contracts))


def _derived_note(tables: Mapping[str, pd.DataFrame], contracts: Mapping[str, Contract]) -> Problem:
    sources = [f"{n}.{contracts[n].person}" for n in owned_tables(tables, contracts) if contracts[n].person]
    n = len(tables["people"])
    return Problem("okr.yaml", f"no people source: {n} {'person' if n == 1 else 'people'} taken from the owner ids "
                               f"in {', '.join(sources) or 'no table'}; their names are their ids and they get no "
                               "email (add a people source for names, teams and email addresses)",
                   severity="warning", code="people",
                   expected_zh=f"没有员工名册：{n} 人取自 {'、'.join(sources) or '（无）'} 中的负责人编号；姓名即编号，"
                               "没有邮箱（添加员工名册可得到姓名、团队和邮箱）")
