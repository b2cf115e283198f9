"""A draft plan file as written by a team: headers recognised in English or Chinese, objectives written once
above their KRs (merged cells), ids made up where the file has none, numbers such as "35%" read as numbers.

Only the objective and KR title columns are required; a team can review a draft before any data exists.
"""

from __future__ import annotations

import re

import pandas as pd

from transforms.problems import InputError, Problem

ALIASES: dict[str, tuple[str, ...]] = {
    "objective_title": ("objective", "objectives", "objective title", "objective name", "goal", "目标", "目标名称",
                        "目标描述", "目标内容"),
    "kr_title": ("key result", "key results", "kr", "kr title", "key result title", "关键结果", "主要结果",
                 "关键成果", "kr描述", "关键结果描述"),
    "objective_id": ("objective id", "obj id", "objective no", "目标编号", "目标id"),
    "kr_id": ("kr id", "key result id", "kr no", "关键结果编号", "kr编号"),
    "tier": ("tier", "level", "层级", "级别"),
    "owner_id": ("owner", "owner id", "负责人", "负责人id"),
    "parent_objective_id": ("parent objective", "parent objective id", "parent", "上级目标", "上级目标编号"),
    "metric": ("metric", "指标"),
    "direction": ("direction", "方向"),
    "baseline": ("baseline", "基线", "基准", "基准值", "起始值"),
    "target": ("target", "target value", "目标值"),
    "weight": ("weight", "权重"),
    "due_quarter": ("due quarter", "截止季度"),
}
NUMBERS = ("baseline", "target", "weight", "due_quarter")
OBJECTIVE_COLUMNS = ("objective_id", "objective_title_en", "objective_title_zh", "tier", "owner_id",
                     "parent_objective_id")
_LANG = re.compile(r"[\s_\-]*[(（\[]?\s*(en|english|zh|cn|chinese|英文|中文)\s*[)）\]]?$")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _norm(header: str) -> tuple[str, str | None]:
    """A header without case, spacing and its language mark, and the language it marks."""
    text = re.sub(r"\s+", " ", str(header).strip().lower())
    m = _LANG.search(text)
    lang = None
    if m and m.start() > 0:
        lang = "en" if m.group(1) in ("en", "english", "英文") else "zh"
        text = text[: m.start()].strip()
    return text, lang


def _language(cells: pd.Series) -> str:
    filled = [str(v) for v in cells.dropna() if str(v).strip()]
    chinese = sum(bool(_CJK.search(v)) for v in filled)
    return "zh" if filled and 2 * chinese >= len(filled) else "en"


def _mapping(raw: pd.DataFrame) -> dict[str, str]:
    """Plan column -> file header, for every header recognised."""
    lookup = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
    out: dict[str, str] = {}
    for header in raw.columns:
        text, lang = _norm(header)
        name = lookup.get(text)
        if name in ("objective_title", "kr_title"):
            name = f"{name}_{lang or _language(raw[header])}"
        if name and name not in out:
            out[name] = header
    return out


def _number(value: object, column: str, row: int, shown: str, sheet: str | None) -> float:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return float("nan")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(",", "").replace("，", "")
    if not text:
        return float("nan")
    share = text.endswith(("%", "％"))
    try:
        number = float(text.rstrip("%％").strip())
    except ValueError:
        raise InputError([Problem(shown, "expected a number such as 12, 0.35 or 35%", sheet=sheet, row=row,
                                  column=column, value=value)]) from None
    return number / 100 if share else number


def plan_frame(raw: pd.DataFrame, shown: str, sheet: str | None = None) -> pd.DataFrame:
    """The plan columns of a draft plan file, index kept (the file's row numbers)."""
    found = _mapping(raw)
    titles = [c for c in found if c.startswith(("objective_title", "kr_title"))]
    if not any(c.startswith("objective_title") for c in titles) or not any(c.startswith("kr_title") for c in titles):
        raise InputError([Problem(shown, "expected a column of objectives (e.g. 'Objective' or '目标') and one of "
                                  "key results (e.g. 'Key Result' or '关键结果'); found: "
                                  + ", ".join(repr(str(c)) for c in raw.columns), sheet=sheet, row=1)])
    plan = pd.DataFrame({name: raw[header] for name, header in found.items()}, index=raw.index)
    for name in [n for n in plan.columns if n not in NUMBERS]:
        plan[name] = plan[name].map(lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v))
                                    else (str(v).strip() or None))
    plan = plan.dropna(how="all")
    for name in NUMBERS:
        if name in plan.columns:
            plan[name] = [_number(v, found[name], int(r), shown, sheet) for r, v in plan[name].items()]
    return _with_ids(_fill_objectives(plan))


def _fill_objectives(plan: pd.DataFrame) -> pd.DataFrame:
    """Rows whose objective cells are all blank belong to the objective above (a merged cell)."""
    cols = [c for c in OBJECTIVE_COLUMNS if c in plan.columns]
    blank = plan[cols].isna().all(axis=1)
    plan = plan.copy()
    above = plan[cols].where(~blank).ffill()
    plan.loc[blank, cols] = above.loc[blank, cols]
    return plan


def _with_ids(plan: pd.DataFrame) -> pd.DataFrame:
    """Objective ids O1, O2... in order of the objectives' titles, and KR ids O1.1, O1.2..., where missing."""
    plan = plan.copy()
    titles = [c for c in ("objective_title_zh", "objective_title_en") if c in plan.columns]
    if "objective_id" not in plan.columns:
        keys = plan[titles].astype("string").fillna("").agg("|".join, axis=1)
        order = {k: f"O{i}" for i, k in enumerate(dict.fromkeys(keys), start=1)}
        plan["objective_id"] = keys.map(order)
    if "kr_id" not in plan.columns:
        kr_titles = [c for c in ("kr_title_zh", "kr_title_en") if c in plan.columns]
        has_kr = plan[kr_titles].notna().any(axis=1)
        n = has_kr.astype(int).groupby(plan["objective_id"]).cumsum()
        plan["kr_id"] = [f"{o}.{k}" if h else None for o, k, h in zip(plan["objective_id"], n, has_kr, strict=True)]
    return plan
