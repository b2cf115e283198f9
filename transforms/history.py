"""Earlier quarters of the same owners: the points a card compares with and draws its trends from.

They are computed from the same exports with the same plan, exactly as a run for that quarter would
compute them, so a comparison never disagrees with what that quarter's own cards say. A KR whose exports
start after an earlier quarter began is left out of that quarter (its value would count only part of it),
and so is its owner's score for that quarter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

OWNER_COLUMNS = ["tier", "owner_id", "quarter", "quarter_index", "score", "status"]
KR_COLUMNS = ["tier", "owner_id", "kr_id", "quarter", "quarter_index", "actual", "score", "status", "share"]
OBJECTIVE_KEY = ["tier", "owner_id", "objective_id"]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


@dataclass(frozen=True)
class History:
    """Points of earlier quarters (oldest first); ``notes`` say which quarters were left out and why."""

    quarters: tuple[str, ...] = ()
    owners: pd.DataFrame = field(default_factory=lambda: _empty(OWNER_COLUMNS))
    krs: pd.DataFrame = field(default_factory=lambda: _empty(KR_COLUMNS))
    notes: tuple[str, ...] = ()
    basis: str = "computed"


def kr_overall_shares(krs: pd.DataFrame, objectives: pd.DataFrame) -> pd.Series:
    """Each KR's share of its owner's score: its objective's share times its share within the objective."""
    key = pd.MultiIndex.from_frame(krs[OBJECTIVE_KEY].astype({"owner_id": str}))
    shares = objectives.assign(owner_id=objectives["owner_id"].astype(str)).set_index(OBJECTIVE_KEY)["weight_share"]
    objective_share = shares.reindex(key).to_numpy(dtype="float64")
    return pd.Series(objective_share * krs["weight_share"].to_numpy(dtype="float64"), index=krs.index)


def quarter_points(krs: pd.DataFrame, objectives: pd.DataFrame, owners: pd.DataFrame,
                   quarter: tuple[str, int], uncovered: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One earlier quarter's owner and KR points; KRs of ``uncovered`` metrics (and their owners) have none."""
    label, index = quarter
    left_out = krs["metric"].isin(uncovered) & (krs["source"] == "computed")
    k = pd.DataFrame({
        "tier": krs["tier"], "owner_id": krs["owner_id"].astype(str), "kr_id": krs["kr_id"].astype(str),
        "quarter": label, "quarter_index": index,
        "actual": krs["actual"].astype("float64").mask(left_out),
        "score": krs["score"].astype("float64").mask(left_out),
        "status": krs["status"].astype(str).mask(left_out, "no_data"),
        "share": kr_overall_shares(krs, objectives).mask(left_out),
    })
    hit = k.loc[left_out.to_numpy(), ["tier", "owner_id"]].drop_duplicates()
    o = owners.assign(owner_id=owners["owner_id"].astype(str))
    partial = pd.MultiIndex.from_frame(o[["tier", "owner_id"]]).isin(pd.MultiIndex.from_frame(hit))
    out = pd.DataFrame({
        "tier": o["tier"], "owner_id": o["owner_id"], "quarter": label, "quarter_index": index,
        "score": o["score"].astype("float64").mask(partial),
        "status": o["status"].astype(str).mask(partial, "no_data"),
    })
    return out[OWNER_COLUMNS], k[KR_COLUMNS]


def combine(points: list[tuple[pd.DataFrame, pd.DataFrame]], labels: list[str], notes: list[str]) -> History:
    """The earlier quarters' points in one History, oldest quarter first."""
    if not points:
        return History(notes=tuple(notes))
    owners = pd.concat([p[0] for p in points], ignore_index=True).sort_values("quarter_index", kind="stable")
    krs = pd.concat([p[1] for p in points], ignore_index=True).sort_values("quarter_index", kind="stable")
    return History(tuple(labels), owners.reset_index(drop=True), krs.reset_index(drop=True), tuple(notes))


def series(frame: pd.DataFrame, key: dict[str, str], value: str) -> list[tuple[str, float | None, str]]:
    """``(quarter, value, status)`` of one owner (or one owner's KR), oldest first."""
    mask = np.ones(len(frame), dtype=bool)
    for col, v in key.items():
        mask &= (frame[col].astype(str) == v).to_numpy()
    rows = frame[mask]
    return [(str(q), None if pd.isna(x) else float(x), str(s))
            for q, x, s in zip(rows["quarter"], rows[value], rows["status"])]


def same_point(quarter_start: pd.Timestamp, as_of: pd.Timestamp | None, earlier_start: pd.Timestamp,
               earlier_last_day: pd.Timestamp) -> pd.Timestamp | None:
    """A mid-quarter run compares with earlier quarters at the same day of the quarter (None: whole quarters)."""
    if as_of is None:
        return None
    return min(earlier_start + (as_of.normalize() - quarter_start), earlier_last_day)
