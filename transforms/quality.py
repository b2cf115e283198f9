"""Notes for the reader: data-quality facts that affected values (the plan's KR-quality findings come from
``transforms.review``)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from transforms import config as cfg
from transforms.calendar import Period, Quarter


def _base_tables(metrics: Mapping[str, cfg.MetricDef], name: str) -> list[cfg.Metric]:
    d = metrics[name].definition
    if isinstance(d, cfg.RatioMetric):
        return _base_tables(metrics, d.numerator) + _base_tables(metrics, d.denominator)
    if isinstance(d, (cfg.RateMetric, cfg.GrowthMetric)):
        return _base_tables(metrics, d.of)
    return [d]


def _time_columns(metrics: Mapping[str, cfg.MetricDef], name: str) -> list[tuple[str, str]]:
    out = []
    for d in _base_tables(metrics, name):
        table = getattr(d, "table", None)
        col = getattr(d, "time", None) or getattr(d, "start", None)
        if table and col:
            out.append((table, col))
    return out


def _periods(metrics: Mapping[str, cfg.MetricDef], name: str, quarter: Quarter) -> list[Period]:
    periods = [quarter.period()]
    d = metrics[name].definition
    if isinstance(d, cfg.GrowthMetric):
        periods.append(quarter.period().previous())
    return periods


def uncovered_metrics(
    tables: Mapping[str, pd.DataFrame], metrics: Mapping[str, cfg.MetricDef], metric_names: list[str],
    quarter: Quarter, slack_days: int = 7,
) -> set[str]:
    """Metrics whose exports start after a period they read begins (plus a week's slack): their value for
    ``quarter`` would count only part of it, or nothing, so an earlier quarter's comparison leaves them out."""
    out = set()
    for name in metric_names:
        starts = [p.start for p in _periods(metrics, name, quarter)]
        if getattr(metrics[name].definition, "window", "period") == "fiscal_year_to_date":
            starts.append(quarter.fy_start)
        for table, col in _time_columns(metrics, name):
            t = tables.get(table)
            if t is None or col not in t.columns:
                continue
            first = t[col].min()
            if pd.isna(first) or any(first > s + pd.Timedelta(days=slack_days) for s in starts):
                out.add(name)
    return out


def partial_periods(
    tables: Mapping[str, pd.DataFrame], metrics: Mapping[str, cfg.MetricDef], metric_names: list[str],
    quarter: Quarter, start_month: int, locale: str,
) -> dict[str, list[str]]:
    """metric -> notes where a period the metric reads starts before its table's first row."""
    from transforms.calendar import quarter_of

    out: dict[str, list[str]] = {}
    for name in metric_names:
        notes = []
        for table, col in _time_columns(metrics, name):
            t = tables.get(table)
            if t is None or col not in t.columns or t[col].isna().all():
                continue
            first = t[col].min()
            for p in _periods(metrics, name, quarter):
                label = quarter_of(p.start, start_month).label
                if first > p.start and first < p.end:
                    notes.append(_partial_text(locale, table, label, first, "start"))
        if notes:
            out[name] = sorted(set(notes))
    return out


def kept_rows_notes(tables: Mapping[str, pd.DataFrame], metrics: Mapping[str, cfg.MetricDef],
                    metric_names: list[str], locale: str) -> dict[str, list[str]]:
    """metric -> how the event logs it reads were reduced: rows read, the rule, and the rows set aside."""
    out: dict[str, list[str]] = {}
    for name in metric_names:
        notes = []
        for d in _base_tables(metrics, name):
            t = tables.get(getattr(d, "table", None) or "")
            kept = t.attrs.get("kept") if t is not None else None
            if kept is not None:
                notes.append(_kept_text(locale, d.table, kept))
        if notes:
            out[name] = sorted(set(notes))
    return out


def _kept_text(locale: str, table: str, kept) -> str:
    n = kept.rows_read - kept.set_aside
    if locale == "zh-CN":
        return (f"{table} 为事件日志：读取 {kept.rows_read:,} 行，按规则（{kept.rule}）保留 {n:,} 行，"
                f"其余 {kept.set_aside:,} 行不计")
    return f"{table} is an event log: {kept.rows_read:,} rows read, {n:,} kept ({kept.rule}), " \
           f"{kept.set_aside:,} earlier rows set aside"


def merge_notes(*parts: dict[str, list[str]]) -> dict[str, list[str]]:
    """Notes per metric from several checks, in the order given."""
    out: dict[str, list[str]] = {}
    for part in parts:
        for name, notes in part.items():
            out.setdefault(name, []).extend(notes)
    return out


FACT_EXCLUDED = ("people", "teams", "regions", "plan", "checkins", "adjustments", "team_memberships")


def data_end_note(tables: Mapping[str, pd.DataFrame], quarter: Quarter, as_of: pd.Timestamp | None,
                  locale: str, slack_days: int = 7) -> list[str]:
    """One note when the exports as a whole stop well before the period being graded ends."""
    last = None
    for name, t in tables.items():
        if name in FACT_EXCLUDED:
            continue
        for c in t.columns:
            if pd.api.types.is_datetime64_any_dtype(t[c]) and t[c].notna().any():
                last = t[c].max() if last is None else max(last, t[c].max())
    until = as_of if as_of is not None else quarter.last_day
    if last is None or last >= until - pd.Timedelta(days=slack_days) or last < quarter.start:
        return []
    day = last.strftime("%Y-%m-%d")
    if locale == "zh-CN":
        return [f"导出数据截至 {day}，早于 {until:%Y-%m-%d}：之后的数值尚未计入"]
    return [f"the exports end on {day}, before {until:%Y-%m-%d}: later activity is not counted yet"]


def _partial_text(locale: str, table: str, label: str, when: pd.Timestamp, edge: str) -> str:
    day = when.strftime("%Y-%m-%d")
    if locale == "zh-CN":
        verb = "才开始" if edge == "start" else "就结束"
        return f"部分期间：{table} 的数据在 {day} {verb}，{label} 的数值只覆盖该季度的一部分"
    verb = "starts" if edge == "start" else "ends"
    return f"partial period: {table} data {verb} on {day}, so {label} values cover part of that quarter"
