"""kr_values.xlsx as people use it, and kr_values.csv as Excel on any Windows reads it: written by the real
writers from a small KR table made here, read back with openpyxl and as bytes."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from openpyxl import load_workbook

from flows.publish import write_csv, write_xlsx
from transforms.workbook import Words, workbook_model

WORDS_ZH = Words({"green": "正常", "yellow": "有风险", "red": "落后", "no_data": "无数据"},
                 {"computed": "自动计算", "manual": "手动填报"})


def _kr() -> pd.DataFrame:
    base = {"quarter": "2024-Q1", "objective_title": "增长", "source": "computed", "direction": "increase",
            "rows": 10, "lineage": "deals · stage = won · 10 行", "lineage_text": "deals 中 stage 为 won 的行数：10 行",
            "previous_actual": 700.0, "previous_score": 0.7, "month_1": "2024-01", "month_2": "2024-02",
            "month_3": "2024-03", "weight_share": 0.5, "attainment": 0.8, "baseline": None}
    rows = [
        {"tier": "company", "owner_id": "acme", "owner_name": "Acme", "team_id": None, "kr_id": "K1",
         "kr_title": "收入", "unit": "currency", "target": 1000.0, "actual": 800.0, "score": 0.8, "status": "green",
         "computed_score": 0.5, "adjusted_score": 0.8, "adjustment_reason": "大客户延期签约", "adjusted_by": "王总",
         "month_1_actual": 200.0, "month_2_actual": 300.0, "month_3_actual": 300.0},
        {"tier": "team", "owner_id": "east", "owner_name": "华东", "team_id": "east", "kr_id": "K2",
         "kr_title": "赢单率", "unit": "percent", "target": 0.5, "actual": 0.25, "score": 0.5, "status": "yellow",
         "month_1_actual": 0.2, "month_2_actual": math.nan, "month_3_actual": 0.3},
        {"tier": "person", "owner_id": "P1", "owner_name": "=HYPERLINK(\"x\")", "team_id": "east", "kr_id": "K3",
         "kr_title": "拜访", "unit": "count", "target": 40.0, "actual": math.nan, "score": math.nan,
         "status": "no_data", "source": "manual", "month_1_actual": math.nan, "month_2_actual": math.nan,
         "month_3_actual": math.nan},
    ]
    return pd.DataFrame([{**base, **r} for r in rows])


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("wb") / "kr_values.xlsx"
    write_xlsx(workbook_model(_kr(), "zh-CN", "CNY", WORDS_ZH), path)
    return load_workbook(path)


def _row(ws, n: int) -> dict:
    return {ws.cell(1, c).value: ws.cell(n, c) for c in range(1, ws.max_column + 1)}


def test_one_sheet_per_tier_and_definitions_in_the_locale(book):
    assert book.sheetnames == ["公司", "团队", "个人", "定义"]
    assert [c.value for c in book["公司"][1]] == [
        "负责人", "团队", "目标", "关键结果", "来源", "基线", "目标值", "实际值", "达成率", "得分", "计算得分",
        "调整后得分", "调整原因", "调整人", "状态", "权重", "行数", "2024-01", "2024-02", "2024-03", "上季度实际值",
        "上季度得分", "数据来源"]
    assert [book[s].max_row for s in ("公司", "团队", "个人")] == [2, 2, 2]
    definitions = {r[0].value: r[1].value for r in book["定义"].iter_rows(min_row=2)}
    assert definitions["得分"] == "评分，0.0 至 1.0"
    assert len(definitions) == 23
    assert _row(book["公司"], 2)["数据来源"].value == "deals 中 stage 为 won 的行数：10 行"
    assert _row(book["公司"], 2)["上季度实际值"].value == 700.0


def test_numbers_stay_numbers_with_formats_by_unit(book):
    company, team = _row(book["公司"], 2), _row(book["团队"], 2)
    assert (company["实际值"].value, company["实际值"].number_format) == (800, '#,##0 "CNY"')
    assert (team["实际值"].value, team["实际值"].number_format) == (0.25, "0.0%")
    assert (team["2024-01"].value, team["2024-02"].value, team["2024-03"].value) == (0.2, None, 0.3)
    assert (company["达成率"].value, company["达成率"].number_format) == (0.8, "0.0%")
    assert (company["得分"].value, company["得分"].number_format) == (0.8, "0.00")
    assert company["基线"].value is None


def test_an_adjusted_grade_stands_beside_the_computed_one(book):
    company, team = _row(book["公司"], 2), _row(book["团队"], 2)
    assert (company["计算得分"].value, company["调整后得分"].value) == (0.5, 0.8)
    assert (company["调整原因"].value, company["调整人"].value) == ("大客户延期签约", "王总")
    assert company["调整后得分"].number_format == "0.00"
    assert (team["调整后得分"].value, team["调整原因"].value) == (None, None)


def test_the_weight_shown_is_the_share_the_engine_used(book):
    weight = _row(book["公司"], 2)["权重"]
    assert (weight.value, weight.number_format) == (0.5, "0.0%")


def test_status_is_a_coloured_localized_word(book):
    cells = [_row(book[s], 2)["状态"] for s in ("公司", "团队", "个人")]
    assert [c.value for c in cells] == ["正常", "有风险", "无数据"]
    assert [c.fill.fgColor.rgb for c in cells] == ["00DCFCE7", "00FEF3C7", "00E5E7EB"]
    assert _row(book["个人"], 2)["来源"].value == "手动填报"


def test_header_frozen_filtered_and_columns_sized(book):
    ws = book["团队"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:W2"
    assert ws.column_dimensions["C"].width == 36
    assert all(ws.cell(1, c).font.b for c in range(1, ws.max_column + 1))


def test_text_a_spreadsheet_would_run_is_inert(book):
    assert _row(book["个人"], 2)["负责人"].value == "'=HYPERLINK(\"x\")"


def test_csv_has_a_byte_order_mark_and_machine_headers(tmp_path):
    path = tmp_path / "kr_values.csv"
    write_csv(_kr(), path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfquarter,objective_title,")
    assert pd.read_csv(path).columns[0] == "quarter"  # readers skip the mark
