"""Staging one export onto a canonical table: renames, aliases, casts and the problems pointing back at the file.

Raw frames are indexed by the row number the user sees (header on row 1, data from row 2), like the readers do.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from transforms.config import Source
from transforms.contracts import Col, Contract
from transforms.staging import stage

T = pd.Timestamp

CONTRACT = Contract(
    "deals",
    {
        "deal_id": Col("str", nullable=False),
        "product": Col("str", required=False),
        "amount": Col("float", required=False),
        "qty": Col("int", required=False),
        "closed_at": Col("datetime", required=False),
        "is_cross_sell": Col("bool", required=False),
    },
    key=("deal_id",),
)


def raw(columns: dict[str, list], first_row: int = 2, dtype=None) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.RangeIndex(first_row, first_row + n), dtype=dtype)


def run(frame: pd.DataFrame, tz: str = "UTC", **source_kw):
    source = Source(path="deals.csv", **source_kw)
    return stage(frame, source, CONTRACT, "deals.csv", tz)


# -- renames and aliases --------------------------------------------------------------------------------------

def test_rename_via_columns_mapping():
    frame = raw({"Opportunity ID": ["D1", "D2"], " Close Value ": ["10", "20.5"], "Product": ["A", "B"],
                 "Ignored": ["x", "y"]})
    out, problems = run(frame, columns={"deal_id": "Opportunity ID", "amount": "Close Value", "product": "Product"})
    assert problems == []
    # every canonical column, in contract order, nothing else
    assert list(out.columns) == ["deal_id", "product", "amount", "qty", "closed_at", "is_cross_sell"]
    assert out["deal_id"].tolist() == ["D1", "D2"]
    assert out["amount"].tolist() == [10.0, 20.5]
    assert out["product"].tolist() == ["A", "B"]
    # optional columns absent from the export are empty, not an error
    assert out["qty"].isna().all()
    assert out.index.tolist() == [2, 3]


def test_value_aliases():
    frame = raw({"deal_id": ["D1", "D2", "D3", "D4"], "product": ["GTXPro", " GTXPro ", "MG Special", None]})
    out, problems = run(frame, values={"product": {"GTXPro": "GTX Pro"}})
    assert problems == []
    # aliases match the trimmed text; other values are kept; blanks stay blank
    assert out["product"].tolist()[:3] == ["GTX Pro", "GTX Pro", "MG Special"]
    assert pd.isna(out["product"].iloc[3])


def test_value_alias_applies_before_the_cast():
    frame = raw({"deal_id": ["D1", "D2"], "is_cross_sell": ["cross-sell", "new"]})
    out, problems = run(frame, values={"is_cross_sell": {"cross-sell": True, "new": False}})
    assert problems == []
    assert out["is_cross_sell"].tolist() == [True, False]


def test_constants_fill_a_column():
    frame = raw({"deal_id": ["D1", "D2"]})
    out, problems = run(frame, constants={"product": "Widget", "qty": 1})
    assert problems == []
    assert out["product"].tolist() == ["Widget", "Widget"]
    assert out["qty"].tolist() == [1.0, 1.0]


def test_missing_required_column_is_reported_with_export_name():
    frame = raw({"Deal": ["D1"], "amount": ["5"]})
    out, problems = run(frame, columns={"deal_id": "Opportunity ID"})
    assert len(problems) == 1
    p = problems[0]
    assert p.file == "deals.csv"
    assert p.column == "Opportunity ID"
    assert "Opportunity ID" in p.expected and "deal_id" in p.expected
    assert "Deal" in p.expected   # the columns that were found are listed
    assert out["deal_id"].isna().all()
    assert out["amount"].tolist() == [5.0]


# -- numbers --------------------------------------------------------------------------------------------------

def test_numbers_with_thousands_separators_and_currency():
    frame = raw({"deal_id": ["D1", "D2", "D3", "D4", "D5"],
                 "amount": ["1,234.50", "¥2,000", "$3", " 7 ", ""],
                 "qty": ["1,000", "3", "", "12", "0"]})
    out, problems = run(frame)
    assert problems == []
    assert out["amount"].tolist()[:4] == [1234.5, 2000.0, 3.0, 7.0]
    assert np.isnan(out["amount"].iloc[4])          # blank is missing, not 0 and not a problem
    assert out["qty"].tolist()[:2] == [1000.0, 3.0]
    assert np.isnan(out["qty"].iloc[2])


def test_unparseable_number_reported_with_row_and_export_column():
    frame = raw({"Opportunity": ["D1", "D2", "D3"], "Close Value": ["10", "n/a", "1.2.3"], "qty": ["1", "2.5", "3"]})
    out, problems = run(frame, columns={"deal_id": "Opportunity", "amount": "Close Value"})
    found = {(p.row, p.column, p.value) for p in problems}
    # data starts on row 2: "n/a" is on row 3, "1.2.3" on row 4; qty 2.5 is not a whole number (row 3)
    assert found == {(3, "Close Value", "n/a"), (4, "Close Value", "1.2.3"), (3, "qty", "2.5")}
    assert all(p.file == "deals.csv" for p in problems)
    assert out["amount"].iloc[0] == 10.0
    assert out["amount"].iloc[1:].isna().all()
    assert np.isnan(out["qty"].iloc[1])


def test_row_numbers_follow_a_later_header_row():
    # header on spreadsheet row 3 -> data from row 4
    frame = raw({"deal_id": ["D1", "D2"], "amount": ["oops", "4"]}, first_row=4)
    _, problems = run(frame)
    assert [(p.row, p.column, p.value) for p in problems] == [(4, "amount", "oops")]


def test_many_bad_values_are_summarised():
    frame = raw({"deal_id": [f"D{i}" for i in range(25)], "amount": ["bad"] * 25})
    _, problems = run(frame)
    # the first 20 are listed one by one, then one line for the 5 others
    assert len(problems) == 21
    assert problems[0].row == 2 and problems[19].row == 21
    assert "5 more" in problems[20].expected


# -- dates ----------------------------------------------------------------------------------------------------

def test_iso_dates():
    frame = raw({"deal_id": ["D1", "D2", "D3", "D4"],
                 "closed_at": ["2018-01-15", "2018-01-15 10:30:00", "2018-01-15T10:30:00", ""]})
    out, problems = run(frame)
    assert problems == []
    assert out["closed_at"].tolist()[:3] == [T("2018-01-15"), T("2018-01-15 10:30"), T("2018-01-15 10:30")]
    assert pd.isna(out["closed_at"].iloc[3])
    assert str(out["closed_at"].dtype).startswith("datetime64")
    assert out["closed_at"].dt.tz is None


def test_day_first_dates():
    frame = raw({"deal_id": ["D1", "D2"], "closed_at": ["15/01/2018", "03/04/2018"]})
    out, problems = run(frame, dayfirst=True)
    assert problems == []
    # 03/04/2018 day-first is 3 April, not 4 March
    assert out["closed_at"].tolist() == [T("2018-01-15"), T("2018-04-03")]


def test_day_first_dates_with_dashes():
    # "15-01-2018" is an ordinary day-first date; its trailing "-2018" is not a UTC offset
    frame = raw({"deal_id": ["D1", "D2"], "closed_at": ["15-01-2018", "03-04-2018"]})
    out, problems = run(frame, dayfirst=True)
    assert problems == []
    assert out["closed_at"].tolist() == [T("2018-01-15"), T("2018-04-03")]


def test_explicit_date_format():
    frame = raw({"deal_id": ["D1", "D2", "D3"], "closed_at": ["15.01.2018", "01.04.2018", "2018-01-15"]})
    out, problems = run(frame, date_format="%d.%m.%Y")
    assert out["closed_at"].tolist()[:2] == [T("2018-01-15"), T("2018-04-01")]
    # a value not in the declared format is a problem on its row (row 4), with the format in the message
    assert [(p.row, p.column, p.value) for p in problems] == [(4, "closed_at", "2018-01-15")]
    assert "%d.%m.%Y" in problems[0].expected


def test_explicit_date_format_with_dashes_in_a_non_utc_workspace():
    # "%d-%m-%Y" dates are naive calendar dates: they must not be read as UTC and shifted to +08:00
    frame = raw({"deal_id": ["D1"], "closed_at": ["15-01-2018"]})
    out, problems = run(frame, tz="Asia/Shanghai", date_format="%d-%m-%Y")
    assert problems == []
    assert out["closed_at"].tolist() == [T("2018-01-15")]


def test_excel_serial_dates():
    # serial 43115 = 2018-01-15 (days since 1899-12-30); .5 is noon
    frame = raw({"deal_id": ["D1", "D2", "D3"], "closed_at": [43115, 43115.5, "43101"]}, dtype=object)
    out, problems = run(frame)
    assert problems == []
    assert out["closed_at"].tolist() == [T("2018-01-15"), T("2018-01-15 12:00"), T("2018-01-01")]


def test_timezone_aware_text_is_converted_to_workspace_zone_and_made_naive():
    frame = raw({"deal_id": ["D1", "D2", "D3"],
                 "closed_at": ["2018-01-15T10:00:00+08:00", "2018-01-15T23:30:00Z", "2018-01-15T02:00:00+0000"]})
    out, problems = run(frame, tz="Asia/Shanghai")
    assert problems == []
    # +08:00 is already Shanghai time; 23:30 UTC is 07:30 next day in Shanghai; 02:00 UTC is 10:00
    assert out["closed_at"].tolist() == [T("2018-01-15 10:00"), T("2018-01-16 07:30"), T("2018-01-15 10:00")]
    assert out["closed_at"].dt.tz is None
    utc, _ = run(frame, tz="UTC")
    assert utc["closed_at"].tolist() == [T("2018-01-15 02:00"), T("2018-01-15 23:30"), T("2018-01-15 02:00")]


def test_naive_text_in_a_source_timezone_is_converted():
    frame = raw({"deal_id": ["D1"], "closed_at": ["2018-01-15 09:00"]})
    out, problems = run(frame, tz="Asia/Shanghai", timezone="UTC")
    assert problems == []
    assert out["closed_at"].tolist() == [T("2018-01-15 17:00")]   # 09:00 UTC = 17:00 in Shanghai


def test_timezone_aware_datetime_column_is_converted():
    col = pd.Series(pd.to_datetime(["2018-01-15 02:00", "2018-01-15 20:00"]).tz_localize("UTC"),
                    index=pd.RangeIndex(2, 4))
    frame = pd.DataFrame({"deal_id": ["D1", "D2"], "closed_at": col}, index=pd.RangeIndex(2, 4))
    out, problems = run(frame, tz="Asia/Shanghai")
    assert problems == []
    assert out["closed_at"].tolist() == [T("2018-01-15 10:00"), T("2018-01-16 04:00")]
    assert out["closed_at"].dt.tz is None


def test_spreadsheet_datetimes_mixed_with_text():
    # a spreadsheet column holds datetime cells and the odd text date
    frame = raw({"deal_id": ["D1", "D2", "D3"],
                 "closed_at": [dt.datetime(2018, 1, 15, 10, 0), "2018-01-16", None]}, dtype=object)
    out, problems = run(frame)
    assert problems == []
    assert out["closed_at"].tolist()[:2] == [T("2018-01-15 10:00"), T("2018-01-16")]
    assert pd.isna(out["closed_at"].iloc[2])


def test_spreadsheet_datetimes_follow_the_source_timezone():
    # naive spreadsheet datetimes are in the source's zone, like naive text is
    frame = raw({"deal_id": ["D1"], "closed_at": [dt.datetime(2018, 1, 15, 9, 0)]}, dtype=object)
    out, problems = run(frame, tz="Asia/Shanghai", timezone="UTC")
    assert problems == []
    assert out["closed_at"].tolist() == [T("2018-01-15 17:00")]


def test_unparseable_date_reported():
    frame = raw({"deal_id": ["D1", "D2"], "Close Date": ["2018-01-15", "someday"]})
    out, problems = run(frame, columns={"closed_at": "Close Date"})
    assert [(p.row, p.column, p.value) for p in problems] == [(3, "Close Date", "someday")]
    assert "date" in problems[0].expected
    assert out["closed_at"].iloc[0] == T("2018-01-15")
    assert pd.isna(out["closed_at"].iloc[1])


# -- booleans -------------------------------------------------------------------------------------------------

def test_booleans_from_text():
    values = ["yes", "no", "1", "0", "是", "否", "TRUE", "n", " Y ", ""]
    frame = raw({"deal_id": [f"D{i}" for i in range(len(values))], "is_cross_sell": values})
    out, problems = run(frame)
    assert problems == []
    got = out["is_cross_sell"].tolist()
    assert got[:9] == [True, False, True, False, True, False, True, False, True]
    assert pd.isna(got[9])


def test_unreadable_boolean_reported():
    frame = raw({"deal_id": ["D1", "D2"], "Cross sell?": ["yes", "maybe"]})
    out, problems = run(frame, columns={"is_cross_sell": "Cross sell?"})
    assert [(p.row, p.column, p.value) for p in problems] == [(3, "Cross sell?", "maybe")]
    assert out["is_cross_sell"].iloc[0]
    assert pd.isna(out["is_cross_sell"].iloc[1])


def test_booleans_from_spreadsheet_numbers_and_bools():
    # spreadsheet readers hand over 1/0 cells as floats and TRUE/FALSE cells as bools
    frame = raw({"deal_id": ["D1", "D2", "D3", "D4", "D5"],
                 "is_cross_sell": [1.0, 0.0, None, True, False]}, dtype=object)
    out, problems = run(frame)
    assert problems == []
    got = out["is_cross_sell"].tolist()
    assert got[0] is True and got[1] is False
    assert pd.isna(got[2])
    assert got[3] is True and got[4] is False


# -- text -----------------------------------------------------------------------------------------------------

def test_text_from_spreadsheet_numbers_and_blanks():
    frame = raw({"deal_id": [1001.0, "  D2 ", "", None]}, dtype=object)
    out, problems = run(frame)
    assert problems == []
    # a whole number read from a spreadsheet is an id "1001", not "1001.0"; text is trimmed; blanks are missing
    assert out["deal_id"].tolist()[:2] == ["1001", "D2"]
    assert out["deal_id"].iloc[2:].isna().all()


@pytest.mark.parametrize("sheet", [None, "Deals"])
def test_problem_carries_sheet(sheet):
    frame = raw({"deal_id": ["D1"], "amount": ["x"]})
    source = Source(path="deals.xlsx", sheet=sheet)
    _, problems = stage(frame, source, CONTRACT, "deals.xlsx", "UTC")
    assert problems[0].sheet == sheet
    assert problems[0].row == 2
    text = str(problems[0])
    assert "deals.xlsx" in text and "row 2" in text and "'amount'" in text
