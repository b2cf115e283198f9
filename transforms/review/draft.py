"""A plan as the review reads it: objectives holding their KRs, each with the words in one language and
whatever numbers the plan gives. Built from a plan frame with the plan table's column names (a workspace's
staged plan, or a plan file whose headers were recognised); every column but the titles is optional."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

TITLE_COLUMNS = ("objective_title_zh", "objective_title_en", "kr_title_zh", "kr_title_en")


@dataclass(frozen=True)
class DraftKR:
    kr_id: str
    title: str
    row: int | None
    tier: str | None
    owner_id: str | None
    metric: str | None
    direction: str | None
    baseline: float | None
    target: float | None
    weight: float | None
    due_quarter: float | None


@dataclass(frozen=True)
class DraftObjective:
    objective_id: str
    title: str
    row: int | None
    tier: str | None
    owner_id: str | None
    parent_objective_id: str | None
    krs: tuple[DraftKR, ...]


@dataclass(frozen=True)
class Draft:
    """The plan's objectives in file order, and the columns holding at least one value."""

    objectives: tuple[DraftObjective, ...]
    columns: frozenset[str]


def _text(v: object) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    s = str(v).strip()
    return s or None


def _number(v: object) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(f) else f


def _title(rec: dict, stem: str, locale: str) -> str:
    """The title in ``locale``, else in the other language."""
    first, second = ("zh", "en") if locale == "zh-CN" else ("en", "zh")
    return _text(rec.get(f"{stem}_{first}")) or _text(rec.get(f"{stem}_{second}")) or ""


def _kr(rec: dict, row: int | None, locale: str) -> DraftKR:
    return DraftKR(
        kr_id=_text(rec.get("kr_id")) or "", title=_title(rec, "kr_title", locale), row=row,
        tier=_text(rec.get("tier")), owner_id=_text(rec.get("owner_id")), metric=_text(rec.get("metric")),
        direction=_text(rec.get("direction")), baseline=_number(rec.get("baseline")),
        target=_number(rec.get("target")), weight=_number(rec.get("weight")),
        due_quarter=_number(rec.get("due_quarter")))


def draft(plan: pd.DataFrame, locale: str) -> Draft:
    """Objectives (one per objective id, tier and owner) with their KRs, in the plan's order; a row without a
    KR title or id stands for the objective alone. The frame's index is taken as the file's row numbers."""
    groups: dict[tuple, tuple[dict, int | None, list[DraftKR]]] = {}
    for row, rec in zip(plan.index, plan.to_dict("records"), strict=True):
        key = (_text(rec.get("objective_id")), _text(rec.get("tier")), _text(rec.get("owner_id")))
        line = int(row) if isinstance(row, (int, float)) and not pd.isna(row) else None
        if key not in groups:
            groups[key] = (rec, line, [])
        kr = _kr(rec, line, locale)
        if kr.title or kr.kr_id:
            groups[key][2].append(kr)
    objectives = tuple(
        DraftObjective(objective_id=key[0] or "", title=_title(rec, "objective_title", locale), row=line,
                       tier=key[1], owner_id=key[2], parent_objective_id=_text(rec.get("parent_objective_id")),
                       krs=tuple(krs))
        for key, (rec, line, krs) in groups.items())
    return Draft(objectives, frozenset(c for c in plan.columns if plan[c].notna().any()))
