"""The KR workbook as people use it: one sheet per tier and a definitions sheet, headers in the card's language,
numbers kept as numbers with formats for percent, currency and dates, statuses as coloured words.

Everything is decided here from the KR table (the same frame ``kr_values.csv`` is written from); the writer in
``flows/publish.py`` only lays the cells out. The CSV keeps its machine-friendly snake_case headers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import pandas as pd


class Format(Enum):
    """How a column's cells are shown."""

    TEXT = "@"
    INTEGER = "#,##0"
    SCORE = "0.00"
    PERCENT = "0.0%"
    BY_UNIT = "unit"  # a KR value: formatted by the KR's own unit


@dataclass(frozen=True)
class Column:
    key: str
    header_en: str
    header_zh: str
    meaning_en: str
    meaning_zh: str
    format: Format
    width: int


COLUMNS: tuple[Column, ...] = (
    Column("owner_name", "Owner", "负责人", "The person, team or company the scorecard belongs to",
           "记分卡所属的个人、团队或公司", Format.TEXT, 24),
    Column("team_id", "Team", "团队", "The person's team (people only)", "该成员所在团队（仅个人）", Format.TEXT, 14),
    Column("objective_title", "Objective", "目标", "The objective the key result belongs to", "关键结果所属目标",
           Format.TEXT, 36),
    Column("kr_title", "Key result", "关键结果", "What is measured", "衡量的内容", Format.TEXT, 40),
    Column("source", "Source", "来源", "computed from the exports, or a manual check-in", "由导出数据计算，或人工填报",
           Format.TEXT, 10),
    Column("baseline", "Baseline", "基线", "Where the key result started", "关键结果的起点", Format.BY_UNIT, 12),
    Column("target", "Target", "目标值", "What counts as done", "完成的标准", Format.BY_UNIT, 12),
    Column("actual", "Actual", "实际值", "The value the engine computed for the quarter", "本季度计算得到的数值",
           Format.BY_UNIT, 12),
    Column("attainment", "Attainment", "达成率", "Progress from baseline to target", "从基线到目标的进度",
           Format.PERCENT, 11),
    Column("score", "Score", "得分", "The grade, 0.0 to 1.0", "评分，0.0 至 1.0", Format.SCORE, 8),
    Column("computed_score", "Computed score", "计算得分", "The grade the engine computed, before any adjustment",
           "调整前由引擎计算的评分", Format.SCORE, 9),
    Column("adjusted_score", "Adjusted score", "调整后得分",
           "The grade as adjusted at quarter end (empty: not adjusted)",
           "季度末调整后的评分（空白：未调整）", Format.SCORE, 9),
    Column("adjustment_reason", "Adjustment reason", "调整原因", "Why the grade was adjusted", "调整评分的原因",
           Format.TEXT, 30),
    Column("adjusted_by", "Adjusted by", "调整人", "Who adjusted the grade", "调整评分的人", Format.TEXT, 14),
    Column("status", "Status", "状态", "On track, at risk, off track or no data", "正常、有风险、落后或无数据",
           Format.TEXT, 10),
    Column("weight_share", "Weight", "权重", "The key result's share of its objective",
           "关键结果在所属目标中的权重占比", Format.PERCENT, 9),
    Column("rows", "Rows", "行数", "Source rows behind the value", "数值背后的源数据行数", Format.INTEGER, 8),
    Column("month_1_actual", "Month 1", "第1月", "The value of the quarter's first month", "季度第一个月的数值",
           Format.BY_UNIT, 11),
    Column("month_2_actual", "Month 2", "第2月", "The value of the quarter's second month", "季度第二个月的数值",
           Format.BY_UNIT, 11),
    Column("month_3_actual", "Month 3", "第3月", "The value of the quarter's third month", "季度第三个月的数值",
           Format.BY_UNIT, 11),
    Column("previous_actual", "Previous quarter", "上季度实际值",
           "The same key result of the same owner in the previous quarter, computed from the same exports",
           "同一负责人同一关键结果在上季度的数值，由同一批导出数据计算", Format.BY_UNIT, 12),
    Column("previous_score", "Previous score", "上季度得分", "Its grade in the previous quarter", "上季度的评分",
           Format.SCORE, 9),
    Column("lineage_text", "Source data", "数据来源", "What was counted, from which rows of which files",
           "统计了什么、来自哪些文件的哪些行", Format.TEXT, 60),
)

TIERS = (("company", "Company", "公司"), ("team", "Teams", "团队"), ("person", "People", "个人"))
STATUS_FILL = {"green": "DCFCE7", "yellow": "FEF3C7", "red": "FEE2E2", "no_data": "E5E7EB"}
"""Cell colours of the statuses (the scorecards' chip colours, lightened for a sheet)."""


@dataclass(frozen=True)
class Cell:
    value: object
    number_format: str | None = None
    fill: str | None = None


@dataclass(frozen=True)
class Sheet:
    name: str
    headers: list[str]
    widths: list[int]
    rows: list[list[Cell]]


def unit_format(unit: str, currency: str) -> str:
    """A spreadsheet number format for a KR value in its unit."""
    return {"percent": "0.0%", "currency": f'#,##0 "{currency}"', "count": "#,##0", "days": '0.0 "d"',
            "hours": '0.0 "h"', "ratio": "0.00"}.get(unit, "#,##0.##")


def _value(v: object) -> object:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    return v.item() if hasattr(v, "item") else v


@dataclass(frozen=True)
class Words:
    """The localized words of coded cells, as the scorecards show them."""

    status: dict[str, str]
    source: dict[str, str]


def _cell(col: Column, row: dict, currency: str, words: Words) -> Cell:
    v = _value(row.get(col.key))
    if col.key == "status":
        code = str(v) if v is not None else "no_data"
        return Cell(words.status.get(code, code), fill=STATUS_FILL.get(code))
    if col.key == "source" and v is not None:
        return Cell(words.source.get(str(v), str(v)))
    if col.format is Format.BY_UNIT:
        return Cell(v, unit_format(str(row.get("unit")), currency) if v is not None else None)
    if col.format is Format.TEXT:
        return Cell(None if v is None else str(v))
    return Cell(v, col.format.value)


def _headers(kr: pd.DataFrame, zh: bool) -> list[str]:
    """Column headers in the locale; the month columns are named by their month (e.g. 2018-01)."""
    out = []
    for col in COLUMNS:
        header = col.header_zh if zh else col.header_en
        if col.key.startswith("month_") and f"{col.key[:7]}" in kr.columns:
            labels = kr[col.key[:7]].dropna()
            header = str(labels.iloc[0]) if len(labels) else header
        out.append(header)
    return out


def workbook_model(kr: pd.DataFrame, locale: str, currency: str, words: Words) -> list[Sheet]:
    """The sheets of kr_values.xlsx: one per tier (in company, team, person order) and the definitions."""
    zh = locale == "zh-CN"
    headers = _headers(kr, zh)
    widths = [c.width for c in COLUMNS]
    sheets = []
    for tier, name_en, name_zh in TIERS:
        records = kr[kr["tier"] == tier].to_dict("records")
        rows = [[_cell(c, r, currency, words) for c in COLUMNS] for r in records]
        sheets.append(Sheet(name_zh if zh else name_en, headers, widths, rows))
    definitions = [[Cell(h), Cell(c.meaning_zh if zh else c.meaning_en)] for h, c in zip(headers, COLUMNS,
                                                                                          strict=True)]
    sheets.append(Sheet("定义" if zh else "Definitions", ["列" if zh else "Column", "含义" if zh else "Meaning"],
                        [22, 60], definitions))
    return sheets
