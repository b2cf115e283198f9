"""Metric evaluation: one declarative definition -> a value per owner at every tier, for one period.

Every metric is evaluated for all owners at once (person, team and company) with group-bys, so the
cost does not grow with the number of scorecards. The result of an evaluation is a frame indexed by
(tier, owner_id) with the value and the number of source rows behind it (lineage).

No data is NaN, never 0: an owner with no row at all in a metric's table has no data; an owner with
rows, but none in the period, has a real 0 for counts and sums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from transforms import config as cfg
from transforms.calendar import Period, Quarter, parse_quarter
from transforms.contracts import MEMBERSHIPS, PRESETS, Contract, PathError, resolve_path
from transforms.tables import membership_at

TIERS = ("person", "team", "company")
PERSON_KEY, TEAM_KEY = "_person_key", "_team_key"
"""Integer owner codes (-1 = no owner) attached to each table once, so every group-by runs on integers."""


class MetricError(ValueError):
    """A metric definition that cannot be evaluated against the tables (names the metric)."""


@dataclass
class Org:
    """Who belongs where: the people directory reduced to what scoping needs."""

    company_id: str
    people: pd.DataFrame  # person_id, team_id, started_at, ended_at (+ role, ...)
    team_ids: list[str]

    def person_team(self) -> pd.Series:
        return self.people.set_index("person_id")["team_id"]

    def active(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
        """Mask of people employed at some point in [start, end)."""
        p = self.people
        started = p["started_at"].isna() | (p["started_at"] < end)
        not_ended = p["ended_at"].isna() | (p["ended_at"] >= start)
        return started & not_ended


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Owner codes per row and the owner ids they stand for (ids as text)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int32), pd.Index(pd.Index(uniques).astype(str), dtype=object)


def _index(tier: str, owners: pd.Index) -> pd.MultiIndex:
    """(tier, owner_id) for unique owners, built from levels and codes: no factorising of a constant column."""
    ids = owners.astype(str)
    if not ids.is_unique:
        return pd.MultiIndex.from_arrays([[tier] * len(ids), ids], names=["tier", "owner_id"])
    codes = [np.zeros(len(ids), dtype=np.int8), np.arange(len(ids))]
    return pd.MultiIndex(levels=[pd.Index([tier], dtype=object), pd.Index(ids, dtype=object)], codes=codes,
                         names=["tier", "owner_id"], verify_integrity=False)


def _frame(parts: list[tuple[str, pd.Series, pd.Series]]) -> pd.DataFrame:
    """Stack per-tier value and row-count series into one (tier, owner_id) frame."""
    frames = []
    for tier, value, rows in parts:
        idx = value.index.union(rows.index)
        f = pd.DataFrame(
            {"value": value.reindex(idx).astype("float64"), "rows": rows.reindex(idx).fillna(0).astype("int64")}
        )
        f.index = _index(tier, pd.Index(idx))
        frames.append(f)
    if not frames:
        return empty_result()
    return pd.concat(frames)


def empty_result() -> pd.DataFrame:
    return pd.DataFrame(
        {"value": pd.Series(dtype="float64"), "rows": pd.Series(dtype="int64")},
        index=pd.MultiIndex.from_arrays([[], []], names=["tier", "owner_id"]),
    )


def where_mask(df: pd.DataFrame, where: Mapping[str, object], table: str) -> pd.Series:
    """Evaluate a declarative filter: column -> value | [values] | {op: operand}."""
    mask = pd.Series(True, index=df.index)
    for col, cond in where.items():
        if col not in df.columns:
            raise MetricError(f"filter column {col!r} is not a column of table {table!r}")
        s = df[col]
        if isinstance(cond, list):
            mask &= s.isin(cond).fillna(False)
        elif isinstance(cond, dict):
            factor = float(cond.get("times", 1.0))
            for op, operand in cond.items():
                mask &= _op(df, s, op, operand, factor, table)
        else:
            mask &= (s == cond).fillna(False)
    return mask.astype(bool)


def _op(df: pd.DataFrame, s: pd.Series, op: str, operand: object, factor: float, table: str) -> pd.Series:
    if op == "times":
        return pd.Series(True, index=s.index)
    if op.endswith("_col"):
        if operand not in df.columns:
            raise MetricError(f"filter compares with {operand!r}, which is not a column of table {table!r}")
        other = df[operand] * factor
        op = op[:-4]
    else:
        other = operand
    if op == "eq":
        r = s == other
    elif op == "ne":
        r = s != other
    elif op == "in":
        r = s.isin(list(other))  # type: ignore[arg-type]
    elif op == "not_in":
        r = ~s.isin(list(other))  # type: ignore[arg-type]
    elif op == "gt":
        r = s > other
    elif op == "ge":
        r = s >= other
    elif op == "lt":
        r = s < other
    elif op == "le":
        r = s <= other
    elif op == "is_null":
        r = s.isna() if operand else s.notna()
    else:
        raise MetricError(f"unknown filter operator {op!r} in table {table!r}")
    return pd.Series(r, index=s.index).fillna(False).astype(bool)


def where_columns(where: Mapping[str, object]) -> list[str]:
    """Every column a filter reads: its keys and the columns it compares with."""
    cols = list(where)
    for cond in where.values():
        if isinstance(cond, dict):
            cols += [v for op, v in cond.items() if op.endswith("_col") and isinstance(v, str)]
    return cols


def describe_where(where: Mapping[str, object]) -> str:
    parts = []
    for col, cond in where.items():
        if isinstance(cond, list):
            parts.append(f"{col} in ({', '.join(map(str, cond))})")
        elif isinstance(cond, dict):
            times = cond.get("times")
            for op, operand in cond.items():
                if op == "times":
                    continue
                sym = {"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}.get(
                    op.removesuffix("_col"), op
                )
                rhs = f"{times} x {operand}" if op.endswith("_col") and times else operand
                parts.append(f"{col} {sym} {rhs}")
        else:
            parts.append(f"{col} = {cond}")
    return " and ".join(parts)


@dataclass
class Engine:
    """Evaluates named metrics over staged tables, memoising per (metric, period)."""

    metrics: Mapping[str, cfg.MetricDef]
    tables: Mapping[str, pd.DataFrame]
    org: Org
    fiscal_start_month: int
    contracts: Mapping[str, Contract] = field(default_factory=lambda: dict(PRESETS))
    _cache: dict[tuple, pd.DataFrame] = field(default_factory=dict)
    _prepared: dict[str, pd.DataFrame] = field(default_factory=dict)
    _owner_ids: dict[str, dict[str, pd.Index]] = field(default_factory=dict)
    _masks: dict[tuple, pd.Series] = field(default_factory=dict)

    # -- tables -------------------------------------------------------------------------------------
    def table(self, name: str) -> pd.DataFrame:
        """A staged table with integer person and team codes attached (once per run)."""
        if name in self._prepared:
            return self._prepared[name]
        if name not in self.tables:
            raise MetricError(f"table {name!r} has no source in the workspace")
        df = self.tables[name]
        person_col, team_col = self._owner_columns(name, df)
        owners: dict[str, pd.Index] = {}
        extra: dict[str, np.ndarray] = {}
        if person_col is not None:
            extra[PERSON_KEY], owners["person"] = _codes(df[person_col])
        if team_col is not None:
            extra[TEAM_KEY], owners["team"] = _codes(df[team_col])
        elif person_col is not None and self._dated_teams(name) is not None:
            extra[TEAM_KEY], owners["team"] = _codes(membership_at(self.tables[MEMBERSHIPS], df[person_col],
                                                                   df[self._dated_teams(name)]))
        elif person_col is not None:
            person, ids = extra[PERSON_KEY], owners["person"]
            team_of, owners["team"] = _codes(pd.Series(ids, dtype=object).map(self.org.person_team()))
            extra[TEAM_KEY] = np.where(person >= 0, np.append(team_of, -1)[person], -1)
        df = df.assign(**extra)
        self._prepared[name] = df
        self._owner_ids[name] = owners
        return df

    def _dated_teams(self, name: str) -> str | None:
        """The time column that decides a row's team when people move between teams (dated memberships and a
        declared ``time`` column); None: a row counts for its person's team."""
        c = self.contracts.get(name)
        m = self.tables.get(MEMBERSHIPS)
        if c is None or c.time is None or m is None or m.empty or c.time not in self.tables[name].columns:
            return None
        return c.time

    def _owner_columns(self, name: str, df: pd.DataFrame) -> tuple[str | None, str | None]:
        """The columns naming a row's person and team, as the table's contract declares them."""
        c = self.contracts.get(name)
        if c is None:  # a table no contract describes: the canonical owner column names
            return (("person_id" if "person_id" in df.columns and name != "people" else None),
                    ("team_id" if "team_id" in df.columns and name != "people" else None))
        return (c.person if c.person in df.columns else None), (c.team if c.team in df.columns else None)

    def _named(self, table: str, tier: str, s: pd.Series) -> pd.Series:
        """A series indexed by owner code, re-indexed by owner id."""
        return pd.Series(s.to_numpy(), index=self._owner_ids[table][tier].take(s.index.to_numpy()), name=s.name)

    def _column(self, table: str, col: str | None) -> None:
        """Make sure ``col`` is a column of the prepared table; a look-up path is resolved and added."""
        if col is None or col in self.table(table).columns:
            return
        if table not in self.contracts or "." not in col:
            raise MetricError(f"column {col!r} is not a column of table {table!r}")
        try:
            hops = resolve_path(dict(self.contracts), table, col)
        except PathError as exc:
            raise MetricError(f"column {col!r} of table {table!r}: {exc}") from None
        self._prepared[table] = self.table(table).assign(**{col: self._follow(table, hops)})

    def _follow(self, table: str, hops: list[tuple[str, str]]) -> np.ndarray:
        """Values at the end of a look-up path, one per row of ``table`` (missing where a link finds no row)."""
        values = self.tables[table][hops[0][1]]
        for target, col in hops[1:]:
            if target not in self.tables:
                raise MetricError(f"a look-up reads table {target!r}, which has no source in the workspace")
            other = self.tables[target]
            key = self.contracts[target].key[0]
            pos = pd.Index(other[key]).get_indexer(pd.Index(values))
            picked = other[col].iloc[np.maximum(pos, 0)] if len(other) else pd.Series(np.nan, index=values.index)
            values = pd.Series(picked.to_numpy(), index=values.index).where(pos >= 0) if len(other) else picked
        return values.to_numpy()

    def _columns(self, table: str, cols: list[str | None]) -> pd.DataFrame:
        """The prepared table once every named column (look-ups included) is on it."""
        for c in cols:
            self._column(table, c)
        return self.table(table)

    # -- entry point --------------------------------------------------------------------------------
    def evaluate(self, name: str, period: Period) -> pd.DataFrame:
        key = (name, period.start, period.end, period.kind)
        if key not in self._cache:
            if name not in self.metrics:
                raise MetricError(f"metric {name!r} is not defined in the workspace")
            self._cache[key] = self._evaluate(self.metrics[name].definition, period)
        return self._cache[key]

    def _evaluate(self, d: cfg.Metric, period: Period) -> pd.DataFrame:
        kind = d.kind
        if kind in ("count", "distinct", "sum", "mean"):
            return self._measure(d, period)  # type: ignore[arg-type]
        return getattr(self, f"_{kind}")(d, period)

    # -- helpers ------------------------------------------------------------------------------------
    def _window(self, window: str, period: Period) -> pd.Timestamp | None:
        if window == "fiscal_year_to_date":
            from transforms.calendar import quarter_of

            return quarter_of(period.start, self.fiscal_start_month).fy_start
        if window == "all_to_date":
            return None
        return period.start

    def _where(self, table: str, where: Mapping[str, object]) -> pd.Series:
        """A table's filter mask, memoised: the months and the quarter of a metric share it."""
        key = (table, repr(sorted(where.items(), key=str)))
        if key not in self._masks:
            df = self._columns(table, where_columns(where))
            self._masks[key] = where_mask(df, where, table)
        return self._masks[key]

    def _time(self, d: cfg.Metric) -> str | None:
        """A measure's time column: its own, or its table's declared one."""
        own = getattr(d, "time", None)
        c = self.contracts.get(getattr(d, "table", ""))
        return own if own is not None else (c.time if c is not None else None)

    def _rows(self, d: cfg._Measure, period: Period, columns: list[str | None]) -> pd.DataFrame:
        """The rows a measure counts in the period, with only the columns it reads (and owner codes)."""
        time = self._time(d)
        mask = self._where(d.table, d.where)
        df = self._columns(d.table, [time, *columns])
        if time is not None:
            lo = self._window(d.window, period)
            t = df[time]
            in_time = t < period.end
            if lo is not None:
                in_time &= t >= lo
            mask = mask & in_time.fillna(False)
        keep = [k for k in (PERSON_KEY, TEAM_KEY) if k in df.columns]
        keep += [c for c in dict.fromkeys(columns) if c is not None and c not in keep]
        return df.loc[mask.to_numpy(), keep]

    def _keys(self, table: str) -> list[tuple[str, str | None]]:
        df = self.table(table)
        keys: list[tuple[str, str | None]] = []
        if PERSON_KEY in df.columns:
            keys.append(("person", PERSON_KEY))
        if TEAM_KEY in df.columns:
            keys.append(("team", TEAM_KEY))
        keys.append(("company", None))
        return keys

    def _present(self, table: str) -> dict[str, pd.Index]:
        """Owners that have at least one row in the table: only they can have a 0."""
        df = self.table(table)
        out = {tier: ids for tier, ids in self._owner_ids[table].items()}
        out["company"] = pd.Index([self.org.company_id] if len(df) else [])
        return out

    def _grouped(self, rows: pd.DataFrame, table: str, agg) -> list[tuple[str, pd.Series, pd.Series]]:
        """Apply ``agg(frame_grouped_or_whole)`` per tier; returns (tier, value, row count)."""
        out = []
        for tier, key in self._keys(table):
            if key is None:
                value = pd.Series([agg(rows)], index=[self.org.company_id], dtype="float64")
                count = pd.Series([len(rows)], index=[self.org.company_id])
            else:
                codes = rows[key].to_numpy()
                sub = rows if (codes >= 0).all() else rows[codes >= 0]
                groups = sub.groupby(key, sort=False)
                value = self._named(table, tier, agg(groups))
                count = self._named(table, tier, groups.size())
            out.append((tier, value, count))
        return out

    # -- simple measures ----------------------------------------------------------------------------
    def _measure(self, d: cfg._Measure, period: Period) -> pd.DataFrame:
        kind = d.kind  # type: ignore[attr-defined]
        col = getattr(d, "column", None)
        self._column(d.table, col)
        if kind == "distinct" and d.first_seen:  # type: ignore[attr-defined]
            return self._first_seen(d, period)  # type: ignore[arg-type]
        rows = self._rows(d, period, [col, getattr(d, "divide_by", None)])
        if kind == "mean" and d.divide_by:  # type: ignore[attr-defined]
            self._column(d.table, d.divide_by)  # type: ignore[attr-defined]
            den = rows[d.divide_by].where(rows[d.divide_by] != 0)  # type: ignore[attr-defined]
            rows = rows.assign(_ratio=rows[col] / den)
            col = "_ratio"

        def agg(g):
            if kind == "count":
                return g.size() if hasattr(g, "ngroups") else float(len(g))
            s = g[col]
            if kind == "distinct":
                return s.nunique()
            if kind == "sum":
                return s.sum()
            return s.mean()

        parts = self._grouped(rows, d.table, agg)
        return self._fill(parts, d.table, zero=kind != "mean")

    def _fill(self, parts, table: str, zero: bool) -> pd.DataFrame:
        """Owners present in the table but with no rows in the period get 0 (counts) or stay NaN."""
        present = self._present(table)
        filled = []
        for tier, value, count in parts:
            idx = value.index.union(present[tier])
            value = value.reindex(idx)
            if zero:
                value = value.fillna(0.0)
            value = value.where(idx.isin(present[tier]))
            filled.append((tier, value, count.reindex(idx).fillna(0)))
        return _frame(filled)

    def _first_seen(self, d: cfg.DistinctMetric, period: Period) -> pd.DataFrame:
        time = self._time(d)
        if time is None:
            raise MetricError(f"first_seen on table {d.table!r} needs a 'time' column")
        mask = self._where(d.table, d.where)
        df = self._columns(d.table, [time, d.column])
        rows = df[mask & (df[time] < period.end).fillna(False)]
        lo = self._window(d.window, period)
        parts = []
        for tier, key in self._keys(d.table):
            sub = rows if key is None else rows[rows[key] >= 0]
            first = sub.groupby([d.column] if key is None else [key, d.column], sort=False)[time].min()
            new = first if lo is None else first[first >= lo]
            if key is None:
                value = pd.Series([float(len(new))], index=[self.org.company_id])
                count = pd.Series([len(new)], index=[self.org.company_id])
            else:
                count = self._named(d.table, tier, new.groupby(level=0).size())
                value = count.astype("float64")
            parts.append((tier, value, count))
        return self._fill(parts, d.table, zero=True)

    # -- composite kinds ----------------------------------------------------------------------------
    def _ratio(self, d: cfg.RatioMetric, period: Period) -> pd.DataFrame:
        num = self.evaluate(d.numerator, period)
        den = self.evaluate(d.denominator, period)
        return _divide(num, den)

    def _sla_share(self, d: cfg.SlaShareMetric, period: Period) -> pd.DataFrame:
        for c in (d.start, d.end):
            self._column(d.table, c)
        rows = self._rows(d, period, [d.start, d.end])
        met = ((rows[d.end] - rows[d.start]) <= pd.Timedelta(hours=d.within_hours)).fillna(False)
        rows = rows.assign(_met=met.astype("float64"))
        parts = self._grouped(rows, d.table, lambda g: g["_met"].mean())
        return self._fill(parts, d.table, zero=False)

    def _duration_mean(self, d: cfg.DurationMeanMetric, period: Period) -> pd.DataFrame:
        for c in (d.start, d.end):
            self._column(d.table, c)
        rows = self._rows(d, period, [d.start, d.end])
        per = pd.Timedelta(days=1) if d.unit == "days" else pd.Timedelta(hours=1)
        rows = rows.assign(_duration=(rows[d.end] - rows[d.start]) / per)
        parts = self._grouped(rows, d.table, lambda g: g["_duration"].mean())
        return self._fill(parts, d.table, zero=False)

    def _rate(self, d: cfg.RateMetric, period: Period) -> pd.DataFrame:
        base = self.evaluate(d.of, period)
        units = {
            "day": period.days,
            "weekday": period.weekdays,
            "week": period.weeks,
            "month": period.months,
            "period": 1,
        }[d.per]
        out = base.copy()
        out["value"] = out["value"] / units if units else np.nan
        if d.per_head:
            heads = self._heads(d.head_where, period)
            h = heads.reindex(out.index)
            out["value"] = out["value"] / h.where(h > 0)
        return out

    def _heads(self, where: Mapping[str, object], period: Period) -> pd.Series:
        p = self.org.people
        people = p[self.org.active(period.start, period.end) & where_mask(p, where, "people")]
        team = people.groupby(people["team_id"].dropna().astype(str)).size()
        idx = pd.MultiIndex.from_tuples(
            [("person", str(x)) for x in people["person_id"]]
            + [("team", t) for t in team.index]
            + [("company", self.org.company_id)],
            names=["tier", "owner_id"],
        )
        values = [1.0] * len(people) + [float(v) for v in team.values] + [float(len(people))]
        return pd.Series(values, index=idx)

    def _growth(self, d: cfg.GrowthMetric, period: Period) -> pd.DataFrame:
        now = self.evaluate(d.of, period)
        if d.compound_from and period.kind == "quarter" and period.quarter is not None:
            base_q = parse_quarter(d.compound_from, self.fiscal_start_month)
            n = period.quarter.index() - base_q.index()
            if n <= 0:
                raise MetricError(f"compound_from {d.compound_from!r} is not before {period.label}")
            base = self.evaluate(d.of, _same_length(base_q.period(), period))
            ratio = _divide(now, base)
            ratio["value"] = np.sign(ratio["value"]) * np.abs(ratio["value"]) ** (1.0 / n) - 1.0
            return ratio
        prev = self.evaluate(d.of, _same_length(period.previous(), period))
        out = _divide(now, prev)
        out["value"] = out["value"] - 1.0
        return out

    def _coverage(self, d: cfg.CoverageMetric, period: Period) -> pd.DataFrame:
        """Share of the reference values reached; ``covered`` and ``of`` keep the two counts ("11 of 27")."""
        self._column(d.table, d.column)
        ref_mask = self._where(d.reference, d.reference_where)
        ref = self._columns(d.reference, [d.reference_column])
        ref_values = ref.loc[ref_mask, d.reference_column].dropna()
        size = ref_values.nunique()
        rows = self._rows(d, period, [d.column])
        rows = rows[rows[d.column].isin(ref_values)]
        parts = self._grouped(rows, d.table, lambda g: g[d.column].nunique())
        out = self._fill(parts, d.table, zero=True)
        out["covered"] = out["value"]
        out["of"] = float(size) if size else np.nan
        out["value"] = out["value"] / size if size else np.nan
        return out

    def _percentile(self, d: cfg.PercentileMetric, period: Period) -> pd.DataFrame:
        """The p-th percentile (linear between closest ranks, as pandas' quantile) of a column or a duration."""
        if d.column is not None:
            rows = self._rows(d, period, [d.column])
            values = pd.to_numeric(rows[d.column], errors="coerce")
        else:
            rows = self._rows(d, period, [d.start, d.end])
            per = pd.Timedelta(days=1) if d.unit == "days" else pd.Timedelta(hours=1)
            values = (rows[d.end] - rows[d.start]) / per
        rows = rows.assign(_measured=values.astype("float64"))
        rows = rows[rows["_measured"].notna().to_numpy()]
        q = d.p / 100.0
        parts = self._grouped(rows, d.table, lambda g: g["_measured"].quantile(q))
        return self._fill(parts, d.table, zero=False)

    def _conversion(self, d: cfg.ConversionMetric, period: Period) -> pd.DataFrame:
        start = self._conversion_starts(d)
        time = self._time(d)
        lo = self._window(d.window, period)
        in_period = (start[time] < period.end) & ((start[time] >= lo) if lo is not None else True)
        cohort = start[in_period.fillna(False).to_numpy()]
        cohort = cohort[~cohort["_entity"].duplicated()]
        gap = cohort["_reached_at"] - cohort[time]
        ok = (gap >= pd.Timedelta(0)) & (gap <= pd.Timedelta(days=d.within_days))
        cohort = cohort.assign(_converted=ok.fillna(False).astype("float64"))
        parts = self._grouped(cohort, d.table, lambda g: g["_converted"].mean())
        return self._fill(parts, d.table, zero=False)

    def _conversion_starts(self, d: cfg.ConversionMetric) -> pd.DataFrame:
        """Every entity's start-stage rows with the time it first reached a target stage; the same for every
        period, so worked out once per metric."""
        key = ("conversion", repr(d))
        if key not in self._cache:
            time = self._time(d)
            mask = self._where(d.table, d.where)
            df = self._columns(d.table, [d.entity, d.stage_column, time])
            df = df[mask.to_numpy()]
            to = [d.to_stage] if isinstance(d.to_stage, str) else list(d.to_stage)
            codes, _ = pd.factorize(df[d.entity])
            at_target = df[d.stage_column].isin(to).to_numpy() & (codes >= 0)
            reached = pd.Series(df[time].to_numpy(), index=codes).loc[at_target]
            first = reached.groupby(level=0).min()
            is_start = (df[d.stage_column] == d.from_stage).fillna(False).to_numpy()
            keep = [k for k in (PERSON_KEY, TEAM_KEY) if k in df.columns] + [time]
            start = df.loc[is_start, keep].assign(_entity=codes[is_start])
            start["_reached_at"] = first.reindex(start["_entity"].to_numpy()).to_numpy()
            self._cache[key] = start
        return self._cache[key]

    def _snapshot(self, d: cfg.SnapshotMetric, period: Period) -> pd.DataFrame:
        self._column(d.table, d.start)
        self._column(d.table, d.end)
        df = self.table(d.table)
        at = period.end
        mask = self._where(d.table, d.where) & (df[d.start] < at).fillna(False)
        if d.end is not None:
            mask &= (df[d.end].isna() | (df[d.end] >= at)).fillna(False)
        rows = df[mask]
        parts = self._grouped(rows, d.table, lambda g: g.size() if hasattr(g, "ngroups") else float(len(g)))
        return self._fill(parts, d.table, zero=True)

    def _headcount(self, d: cfg.HeadcountMetric, period: Period) -> pd.DataFrame:
        now = self._heads_at(d.where, period.end)
        if d.relative_to:
            base = self._heads_at(d.where, pd.Timestamp(d.relative_to) + pd.Timedelta(days=1))
            return _divide(now, base)
        return now

    def _heads_at(self, where: Mapping[str, object], at: pd.Timestamp) -> pd.DataFrame:
        """People employed on the day before ``at`` (exclusive end), per team and company."""
        p = self.org.people
        day = at - pd.Timedelta(days=1)
        active = (p["started_at"].isna() | (p["started_at"] <= day)) & (
            p["ended_at"].isna() | (p["ended_at"] >= day)
        )
        people = p[active & where_mask(p, where, "people")]
        team = people.groupby(people["team_id"].dropna().astype(str)).size().astype("float64")
        team = team.reindex(pd.Index(self.org.team_ids, dtype=str)).fillna(0.0)
        company = pd.Series([float(len(people))], index=[self.org.company_id])
        return _frame([("team", team, team), ("company", company, company)])

    def _manual(self, d: cfg.ManualMetric, period: Period) -> pd.DataFrame:
        return empty_result()

    _milestone = _manual


def _same_length(base: Period, like: Period) -> Period:
    """The comparison period cut to the same elapsed length as a (possibly partial) current period."""
    months = 3 if like.kind == "quarter" else 1
    full_end = like.start + pd.DateOffset(months=months)
    if like.end >= full_end:
        return base
    elapsed = like.end - like.start
    return Period(base.start, min(base.end, base.start + elapsed), base.kind, base.label, base.quarter)


def _divide(num: pd.DataFrame, den: pd.DataFrame) -> pd.DataFrame:
    idx = num.index.union(den.index)
    n = num["value"].reindex(idx)
    dd = den["value"].reindex(idx)
    value = n / dd.where(dd != 0)
    rows = den["rows"].reindex(idx).fillna(0).astype("int64")
    return pd.DataFrame({"value": value.astype("float64"), "rows": rows}, index=idx)


def lineage(metrics: Mapping[str, cfg.MetricDef], name: str) -> tuple[list[str], str]:
    """Source tables and a readable filter for a metric, following composite metrics."""
    d = metrics[name].definition
    if isinstance(d, cfg.RatioMetric):
        t1, f1 = lineage(metrics, d.numerator)
        t2, f2 = lineage(metrics, d.denominator)
        return sorted(set(t1) | set(t2)), f"({f1}) / ({f2})"
    if isinstance(d, (cfg.RateMetric, cfg.GrowthMetric)):
        t, f = lineage(metrics, d.of)
        suffix = f" per {d.per}" if isinstance(d, cfg.RateMetric) else " vs previous period"
        if isinstance(d, cfg.RateMetric) and d.per_head:
            suffix += " per head"
        if isinstance(d, cfg.GrowthMetric) and d.compound_from:
            suffix = f" compounded since {d.compound_from}"
        return t, f + suffix
    if isinstance(d, cfg.HeadcountMetric):
        return ["people"], describe_where(d.where) or "all people"
    if isinstance(d, (cfg.ManualMetric, cfg.MilestoneMetric)):
        return ["checkins"], "latest check-in"
    table = d.table
    bits = [describe_where(getattr(d, "where", {}))]
    if isinstance(d, cfg.SlaShareMetric):
        bits.append(f"{d.end} - {d.start} <= {d.within_hours:g} h")
    if isinstance(d, cfg.ConversionMetric):
        bits.append(f"{d.from_stage} -> {d.to_stage} within {d.within_days:g} d")
    if isinstance(d, cfg.CoverageMetric):
        bits.append(f"distinct {d.column} / {d.reference}")
    if isinstance(d, cfg.PercentileMetric):
        of = d.column if d.column is not None else f"{d.end} - {d.start} in {d.unit}"
        bits.append(f"p{d.p:g} of {of}")
    if isinstance(d, cfg.DistinctMetric) and d.first_seen:
        bits.append(f"{d.column} seen for the first time")
    tables = [table] + ([d.reference] if isinstance(d, cfg.CoverageMetric) else [])
    return tables, " and ".join(b for b in bits if b) or "all rows"


def quarter_values(engine: Engine, name: str, quarter: Quarter, how: str, as_of: pd.Timestamp | None):
    """Quarter value plus the monthly values, for one metric at every owner."""
    months = [m for m in quarter.months() if as_of is None or m.start <= as_of]
    monthly = [engine.evaluate(name, m.clipped(as_of)) for m in months]
    if how == "period" or not monthly:
        q = engine.evaluate(name, quarter.period().clipped(as_of))
    elif how == "last_month":
        q = monthly[-1]
    else:  # mean_of_months; months_on_target is decided against targets in scoring
        stacked = pd.concat([m["value"] for m in monthly], axis=1)
        rows = sum(m["rows"].reindex(stacked.index).fillna(0) for m in monthly)
        q = pd.DataFrame({"value": stacked.mean(axis=1, skipna=True), "rows": rows.astype("int64")})
    return q, [m.label for m in months], monthly
