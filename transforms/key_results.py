"""Key-result actuals: the plan's KRs joined to metric values (computed) or check-ins (manual)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms import config as cfg
from transforms.calendar import Quarter
from transforms.metrics import Engine, lineage, quarter_values

MANUAL_KINDS = ("manual", "milestone")
CUMULATIVE_KINDS = ("count", "distinct", "sum")
MAX_MONTHS = 3


def latest_checkins(checkins: pd.DataFrame, until: pd.Timestamp) -> pd.DataFrame:
    """The latest check-in per (kr_id, owner_id) on or before ``until`` (exclusive end)."""
    cols = ["kr_id", "owner_id", "value", "checked_at", "note", "confidence"]
    if checkins is None or checkins.empty:
        return pd.DataFrame(columns=cols)
    c = checkins[checkins["checked_at"] < until]
    c = c.sort_values("checked_at", kind="stable").drop_duplicates(["kr_id", "owner_id"], keep="last")
    for col in ("note", "confidence"):
        if col not in c.columns:
            c = c.assign(**{col: np.nan})
    return c[cols]


def compute_actuals(
    krs: pd.DataFrame,
    engine: Engine,
    checkins: pd.DataFrame | None,
    quarter: Quarter,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Attach actual, rows, lineage, monthly trend and source to each expanded KR row."""
    metrics = engine.metrics
    out = krs.copy()
    kinds = out["metric"].map(lambda m: metrics[m].definition.kind)
    out["source"] = np.where(kinds.isin(MANUAL_KINDS), "manual", "computed")
    out["metric_kind"] = kinds
    out["unit"] = out["metric"].map(lambda m: metrics[m].unit)
    out["is_cumulative"] = kinds.isin(CUMULATIVE_KINDS) & (out["quarterly_value"] == "period")
    for col in ("actual", "rows", "covered", "covered_of"):
        out[col] = np.nan
    out["lineage_tables"] = ""
    out["lineage_filter"] = ""
    out["note"] = None
    out["month_labels"] = None
    for i in range(1, MAX_MONTHS + 1):
        out[f"month_{i}"] = np.nan

    _attach_computed(out, engine, quarter, as_of)
    manual = out["source"] == "manual"
    if manual.any():
        _attach_manual(out, manual, checkins, quarter, as_of)
    out["rows"] = out["rows"].fillna(0).astype("int64")
    return out


def _attach_computed(out: pd.DataFrame, engine: Engine, quarter: Quarter, as_of: pd.Timestamp | None) -> None:
    """Quarter and monthly values, row counts and lineage of the KRs computed from the exports (in place)."""
    metrics = engine.metrics
    key = pd.MultiIndex.from_arrays([out["tier"], out["owner_id"].astype(str)])
    computed = out["source"] == "computed"
    for (metric, how), idx in out[computed].groupby(["metric", "quarterly_value"]).groups.items():
        q, labels, monthly = quarter_values(engine, metric, quarter, how, as_of)
        k = key[out.index.get_indexer(idx)]
        out.loc[idx, "actual"] = q["value"].reindex(k).to_numpy()
        out.loc[idx, "rows"] = q["rows"].reindex(k).fillna(0).to_numpy()
        if "covered" in q.columns:  # a coverage: the two counts behind the share
            out.loc[idx, "covered"] = q["covered"].reindex(k).to_numpy()
            out.loc[idx, "covered_of"] = q["of"].reindex(k).to_numpy()
        for i, m in enumerate(monthly[:MAX_MONTHS], start=1):
            out.loc[idx, f"month_{i}"] = m["value"].reindex(k).to_numpy()
        out.loc[idx, "month_labels"] = "|".join(labels)
        if how == "months_on_target":
            out.loc[idx, "actual"] = _share_on_target(out.loc[idx], len(monthly))
        tables, filt = lineage(metrics, metric)
        out.loc[idx, "lineage_tables"] = ",".join(tables)
        out.loc[idx, "lineage_filter"] = filt + _kept_lineage(engine, tables)


def _kept_lineage(engine: Engine, tables: list[str]) -> str:
    """How the event logs among ``tables`` were reduced, for the lineage: rule and rows set aside."""
    parts = []
    for t in tables:
        kept = engine.tables[t].attrs.get("kept") if t in engine.tables else None
        if kept is not None:
            parts.append(f"; {t}: {kept.rule} ({kept.set_aside:,} of {kept.rows_read:,} rows set aside)")
    return "".join(parts)


def _attach_manual(out: pd.DataFrame, manual: pd.Series, checkins: pd.DataFrame | None, quarter: Quarter,
                   as_of: pd.Timestamp | None) -> None:
    """The latest check-in of each manual KR up to the period end (in place)."""
    latest = latest_checkins(checkins, quarter.end if as_of is None else as_of + pd.Timedelta(days=1))
    latest = latest.set_index(["kr_id", "owner_id"])
    mk = pd.MultiIndex.from_arrays([out.loc[manual, "kr_id"], out.loc[manual, "owner_id"].astype(str)])
    got = latest.reindex(mk)
    values = got["value"].to_numpy(dtype="float64")
    is_milestone = (out.loc[manual, "metric_kind"] == "milestone").to_numpy()
    partial = out.loc[manual, "partial_credit"].fillna(False).astype(bool).to_numpy()
    # a milestone without partial credit is done (1) or not (0)
    values = np.where(is_milestone & ~partial & ~np.isnan(values), (values >= 1.0).astype(float), values)
    out.loc[manual, "actual"] = values
    out.loc[manual, "rows"] = got["value"].notna().astype(int).to_numpy()
    out.loc[manual, "note"] = got["note"].to_numpy()
    out.loc[manual, "lineage_tables"] = "checkins"
    out.loc[manual, "lineage_filter"] = "latest check-in up to the period end"


def _share_on_target(rows: pd.DataFrame, n_months: int) -> np.ndarray:
    """Share of elapsed months whose value met the target (direction-aware)."""
    if n_months == 0:
        return np.full(len(rows), np.nan)
    months = rows[[f"month_{i}" for i in range(1, n_months + 1)]].to_numpy(dtype="float64")
    target = rows["target"].to_numpy(dtype="float64")[:, None]
    lower = rows["direction"].isin(["decrease", "at_most"]).to_numpy()[:, None]
    met = np.where(lower, months <= target, months >= target).astype(float)
    met[np.isnan(months)] = np.nan
    with np.errstate(invalid="ignore"):
        return np.nanmean(met, axis=1)


def metric_kind(metrics: dict[str, cfg.MetricDef], name: str) -> str:
    return metrics[name].definition.kind
