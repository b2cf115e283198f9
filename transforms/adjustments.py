"""Adjusted grades: a reviewed quarter-end score replaces a KR's computed one, with the reason and who decided.

The adjustments sheet names a quarter and a KR of an owner (and optionally its tier): an adjusted grade belongs
to the quarter it names, so next quarter's run (and the earlier quarters a card compares with) are untouched. At
quarter end the KR's ``score`` becomes
the adjusted score, so its objective, owner, team and company roll up from it; ``computed_score`` keeps what the
engine graded, so a card and ``kr_values.csv`` show both. Mid-quarter grades are never adjusted: an adjustment is
a decision about the final grade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from transforms.calendar import Quarter, parse_quarter
from transforms.problems import Problem
from transforms.scoring import status

COLUMNS = ("computed_score", "adjusted_score", "adjustment_reason", "adjusted_by")


@dataclass(frozen=True)
class SheetRef:
    """Where the adjustments came from, to point a problem at the file, sheet and column as the user wrote them."""

    file: str
    sheet: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v).strip()


def _matches(krs: pd.DataFrame, row: Mapping) -> pd.Series:
    """The KR rows an adjustment names: its owner and KR, and its tier when it gives one."""
    mask = (krs["owner_id"].astype(str) == _text(row["owner_id"])) & (krs["kr_id"].astype(str) == _text(row["kr_id"]))
    tier = _text(row.get("tier"))
    return mask & (krs["tier"] == tier) if tier else mask


def _names(text: object, quarter: Quarter) -> bool | None:
    """Whether a quarter cell names ``quarter`` (None: it names no quarter at all)."""
    try:
        return parse_quarter(_text(text), quarter.start_month) == quarter
    except ValueError:
        return None


def of_quarter(adjustments: pd.DataFrame | None, quarter: Quarter) -> pd.DataFrame | None:
    """The adjustments of ``quarter`` only."""
    if adjustments is None or adjustments.empty:
        return adjustments
    return adjustments[adjustments["quarter"].map(lambda t: _names(t, quarter) is True)]


def adjustment_problems(adjustments: pd.DataFrame | None, krs: pd.DataFrame, where: SheetRef,
                        quarter: Quarter) -> list[Problem]:
    """Adjustments that cannot be applied: a quarter that is none, and for the quarter's own rows a score above
    1, a blank reason or name, a KR the owner does not hold in the quarter's plan (rows are numbered as the
    staged table is: as the spreadsheet shows them)."""
    if adjustments is None or adjustments.empty:
        return []
    out: list[Problem] = []

    def add(r: object, col: str, value: object, expected: str) -> None:
        out.append(Problem(where.file, expected, sheet=where.sheet, row=int(r),  # type: ignore[call-overload]
                           column=where.labels.get(col, col), value=value, code="adjustment"))

    for r, row in adjustments.iterrows():
        named = _names(row["quarter"], quarter)
        if named is None:
            add(r, "quarter", row["quarter"], "expected a quarter such as FY2017-18 Q4 or 2024-Q2")
        if not named:
            continue
        score = row["adjusted_score"]
        if pd.notna(score) and float(score) > 1:
            add(r, "adjusted_score", score, "expected a score from 0 to 1")
        for col in ("reason", "adjusted_by"):
            if pd.notna(row[col]) and not _text(row[col]):
                add(r, col, row[col], "expected a non-empty text: an adjusted grade says why and who decided it")
        if not _matches(krs, row).any():
            tier = _text(row.get("tier"))
            held = sorted(krs.loc[krs["owner_id"].astype(str) == _text(row["owner_id"]), "kr_id"].astype(str).unique())
            owner = f"{tier} {_text(row['owner_id'])!r}" if tier else repr(_text(row["owner_id"]))
            has = f"; that owner holds {', '.join(held)}" if held else "; no KR of the quarter's plan has that owner"
            add(r, "kr_id", row["kr_id"], f"expected a KR that {owner} holds in the quarter's plan{has}")
    return out


def apply_adjustments(krs: pd.DataFrame, adjustments: pd.DataFrame | None, bands: tuple[float, float],
                      elapsed: float | None) -> pd.DataFrame:
    """The graded KRs with adjusted scores put in at quarter end (``elapsed`` None); mid-quarter unchanged.

    Adds ``computed_score`` (always the engine's grade) and ``adjusted_score``, ``adjustment_reason``,
    ``adjusted_by`` (empty where nothing was adjusted); an adjusted KR's progress and status follow its new score.
    """
    out = krs.copy()
    out["computed_score"] = out["score"]
    out["adjusted_score"] = np.nan
    out["adjustment_reason"] = None
    out["adjusted_by"] = None
    if elapsed is not None or adjustments is None or adjustments.empty:
        return out
    for _, row in adjustments.iterrows():
        mask = _matches(out, row)
        out.loc[mask, "adjusted_score"] = float(row["adjusted_score"])
        out.loc[mask, "adjustment_reason"] = _text(row["reason"])
        out.loc[mask, "adjusted_by"] = _text(row["adjusted_by"])
    done = out["adjusted_score"].notna()
    out.loc[done, "score"] = out.loc[done, "adjusted_score"]
    out.loc[done, "progress"] = out.loc[done, "adjusted_score"]
    out.loc[done, "status"] = status(out.loc[done, "progress"], *bands)
    return out


def pending_note(adjustments: pd.DataFrame | None, elapsed: float | None, locale: str) -> list[str]:
    """Mid-quarter: the sheet's adjusted grades are for the quarter-end grade, so this card does not use them."""
    if elapsed is None or adjustments is None or adjustments.empty:
        return []
    n = len(adjustments)
    if locale == "zh-CN":
        return [f"调整表中有 {n} 条调整后的评分；它们只用于季度末的最终评分，本期中评分未使用。"]
    what = "1 adjusted grade" if n == 1 else f"{n} adjusted grades"
    return [f"The adjustments sheet holds {what}; they apply to the quarter-end grade only, not to this "
            "mid-quarter one."]


def _num(v: object) -> float | None:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if np.isnan(x) else x


def adjustment_columns(out: pd.DataFrame, krs: pd.DataFrame) -> None:
    """kr_values' columns for adjusted grades (in place): the engine's score, the adjusted one, why and who."""
    for col in COLUMNS:
        out[col] = krs[col] if col in krs.columns else (krs["score"] if col == "computed_score" else None)


def adjustment_vm(row: Mapping) -> dict:
    """What a KR row of a card shows of an adjustment: the computed grade beside the adjusted one, why and who."""
    adjusted = _num(row.get("adjusted_score"))
    return {"adjusted": adjusted is not None, "computed_score": _num(row.get("computed_score")),
            "adjusted_score": adjusted, "adjustment_reason": _text(row.get("adjustment_reason")) or None,
            "adjusted_by": _text(row.get("adjusted_by")) or None}


def adjusted_text(row: Mapping, locale: str) -> str:
    """The lineage's last words for an adjusted KR: the grade shown is not the computed one, and whose it is."""
    vm = adjustment_vm(row)
    if not vm["adjusted"]:
        return ""
    computed = "—" if vm["computed_score"] is None else f"{vm['computed_score']:.2f}"
    if locale == "zh-CN":
        return (f"；评分已调整：计算得分 {computed}，调整为 {vm['adjusted_score']:.2f}"
                f"（{vm['adjusted_by']}：{vm['adjustment_reason']}）")
    return (f"; the grade was adjusted from the computed {computed} to {vm['adjusted_score']:.2f} by "
            f"{vm['adjusted_by']}: {vm['adjustment_reason']}")
