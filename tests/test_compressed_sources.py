"""Compressed exports are read by what they hold, not by their name: gzip files, a zip holding one export, a
workbook saved under a .csv name. Each is compared with the same export read uncompressed, row numbers and all."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import flows.extract as extract
from flows.extract import file_sha256, read_source
from transforms.config import Source
from transforms.problems import InputError, Problem

HEADER = "Deal ID,Owner,Stage,Amount,Close Date\n"
ROWS = "".join(f"D{i:03d},P{i % 5:02d},won,{100 + i},2024-0{1 + i % 6}-1{i % 10}\n" for i in range(40))
CSV = (HEADER + ROWS).encode("utf-8")
CJK = "客户名称,负责人\n北京分公司,张伟\n上海分公司,李娜\n"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _workbook() -> bytes:
    """Two sheets; the wanted one has a formula openpyxl saves without a result (a formula cell to report)."""
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["not this sheet"])
    ws = wb.create_sheet("Staff")
    ws.append(["Employee ID", "Name", "Team"])
    ws.append(["P01", "Ana", "North"])
    ws.append(["P02", "Bo", "=\"So\"&\"uth\""])
    ws.append(["P03", "Cy", "West"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _problem_text(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_gzip_csv_equals_the_same_csv_uncompressed(tmp_path, monkeypatch):
    _write(tmp_path / "deals.csv", CSV)
    _write(tmp_path / "deals.csv.gz", gzip.compress(CSV))
    plain = read_source(Source(path="deals.csv"), tmp_path)

    def careful(*_args: object) -> None:
        raise AssertionError("a well-formed decompressed CSV must be read by the Arrow fast path")

    monkeypatch.setattr(extract, "_fits", careful)
    monkeypatch.setattr(extract, "_scan_csv", careful)
    packed = read_source(Source(path="deals.csv.gz"), tmp_path)
    pd.testing.assert_frame_equal(packed, plain)
    assert list(packed.index) == list(range(2, 42))
    assert packed.loc[41, "Deal ID"] == "D039" and packed.loc[2, "Amount"] == "100"
    assert packed.attrs["read_problems"] == [] and packed.attrs["formula_cells"] == {}


def test_gzip_csv_in_gb18030_reads_with_its_declared_encoding(tmp_path):
    _write(tmp_path / "leads.csv.gz", gzip.compress(CJK.encode("gb18030")))
    df = read_source(Source(path="leads.csv.gz", encoding="gb18030"), tmp_path)
    assert list(df.columns) == ["客户名称", "负责人"]
    assert df.to_dict("index") == {2: {"客户名称": "北京分公司", "负责人": "张伟"},
                                   3: {"客户名称": "上海分公司", "负责人": "李娜"}}


def test_undeclared_gb18030_inside_gzip_is_an_encoding_problem_of_the_unpacked_text(tmp_path):
    _write(tmp_path / "leads.csv.gz", gzip.compress(CJK.encode("gb18030")))
    with pytest.raises(InputError) as exc:
        read_source(Source(path="leads.csv.gz"), tmp_path)
    assert _problem_text(exc) == [
        "leads.csv.gz, row 1: value '客户名称,负责人': expected UTF-8 text; the file looks like GB18030 (Chinese "
        "Windows or Excel): add 'encoding: gb18030' to this source in okr.yaml"]


def test_zip_with_one_csv_equals_the_csv(tmp_path):
    _write(tmp_path / "deals.csv", CSV)
    _zip(tmp_path / "deals.zip", {"export/deals.csv": CSV})
    pd.testing.assert_frame_equal(read_source(Source(path="deals.zip"), tmp_path),
                                  read_source(Source(path="deals.csv"), tmp_path))


def test_zip_with_one_workbook_equals_the_workbook(tmp_path):
    _write(tmp_path / "people.xlsx", _workbook())
    _zip(tmp_path / "people.zip", {"people.xlsx": _workbook()})
    packed = read_source(Source(path="people.zip", sheet="Staff"), tmp_path)
    pd.testing.assert_frame_equal(packed, read_source(Source(path="people.xlsx", sheet="Staff"), tmp_path))
    assert packed.loc[4, "Name"] == "Cy" and list(packed.index) == [2, 3, 4]
    assert packed.attrs["formula_cells"] == {(3, "Team"): '="So"&"uth"'}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["people.xlsx", "people.zip"]


def test_missing_sheet_in_a_zipped_workbook_names_the_member(tmp_path):
    _zip(tmp_path / "people.zip", {"people.xlsx": _workbook()})
    with pytest.raises(InputError) as exc:
        read_source(Source(path="people.zip", sheet="Staf"), tmp_path)
    assert _problem_text(exc) == ["people.zip, sheet 'Staf': expected a sheet named 'Staf'; the workbook has "
                                  "'Notes', 'Staff' (in 'people.xlsx' inside the zip)"]


def test_gzip_named_csv_is_decompressed_even_where_large_files_are_streamed(tmp_path, monkeypatch):
    _write(tmp_path / "plain.csv", CSV)
    _write(tmp_path / "export.csv", gzip.compress(CSV))
    plain = read_source(Source(path="plain.csv"), tmp_path)
    monkeypatch.setattr(extract, "STREAM_ABOVE", 0)
    pd.testing.assert_frame_equal(read_source(Source(path="export.csv"), tmp_path), plain)


def test_workbook_named_csv_is_read_as_a_workbook(tmp_path):
    _write(tmp_path / "people.xlsx", _workbook())
    _write(tmp_path / "people.csv", _workbook())
    df = read_source(Source(path="people.csv", sheet="Staff"), tmp_path)
    pd.testing.assert_frame_equal(df, read_source(Source(path="people.xlsx", sheet="Staff"), tmp_path))
    assert df.loc[2, "Employee ID"] == "P01"


def test_workbook_under_format_csv_is_refused_without_blaming_the_encoding(tmp_path):
    _write(tmp_path / "people.csv", _workbook())
    with pytest.raises(InputError) as exc:
        read_source(Source(path="people.csv", format="csv"), tmp_path)
    assert _problem_text(exc) == [
        "people.csv: expected CSV text, as 'format: csv' says for this source in okr.yaml, found an Excel "
        "workbook: remove 'format: csv' to read it as a workbook or export the data as CSV"]


def test_zip_with_two_members_names_them(tmp_path):
    _zip(tmp_path / "exports.zip", {"deals.csv": CSV, "leads.csv": CJK.encode("utf-8")})
    with pytest.raises(InputError) as exc:
        read_source(Source(path="exports.zip"), tmp_path)
    assert _problem_text(exc) == [
        "exports.zip: expected a .zip with one member (the export), found 2: 'deals.csv', 'leads.csv'; put one "
        "export per zip and point each source at its own file"]


def test_zip_member_list_is_cut_short_and_an_empty_zip_says_so(tmp_path):
    _zip(tmp_path / "many.zip", {f"part{i}.csv": CSV for i in range(7)})
    _zip(tmp_path / "empty.zip", {})
    with pytest.raises(InputError) as many:
        read_source(Source(path="many.zip"), tmp_path)
    with pytest.raises(InputError) as empty:
        read_source(Source(path="empty.zip"), tmp_path)
    assert "found 7: 'part0.csv', 'part1.csv', 'part2.csv', 'part3.csv', 'part4.csv' and 2 more;" in \
        _problem_text(many)[0]
    assert _problem_text(empty) == ["empty.zip: expected a .zip with one member (the export), found an empty "
                                    "archive; put one export per zip and point each source at its own file"]


def test_truncated_gzip_is_a_gzip_problem_not_an_encoding_one(tmp_path):
    packed = gzip.compress(CSV)
    _write(tmp_path / "deals.csv.gz", packed[: len(packed) // 2])
    with pytest.raises(InputError) as exc:
        read_source(Source(path="deals.csv.gz"), tmp_path)
    [problem] = exc.value.problems
    assert problem.file == "deals.csv.gz" and problem.row is None
    assert problem.expected.startswith("expected gzip-compressed data: the file starts like gzip but cannot be "
                                       "decompressed (")
    assert "encoding" not in str(problem).lower() and "utf-8" not in str(problem).lower()


def test_truncated_zip_is_reported_as_a_damaged_archive(tmp_path):
    packed = _zip(tmp_path / "full.zip", {"deals.csv": CSV}).read_bytes()
    _write(tmp_path / "deals.zip", packed[: len(packed) // 2])
    with pytest.raises(InputError) as exc:
        read_source(Source(path="deals.zip"), tmp_path)
    [problem] = exc.value.problems
    assert problem.expected.startswith("the file starts like a zip archive but is damaged (")
    assert "encoding" not in str(problem).lower()


def test_bad_row_in_gzip_csv_has_the_line_number_of_the_unpacked_file(tmp_path):
    lines = CSV.decode().splitlines(keepends=True)
    lines[4] = "D003,P03,won\n"  # line 5 loses two values
    bad = "".join(lines).encode()
    _write(tmp_path / "deals.csv", bad)
    _write(tmp_path / "deals.csv.gz", gzip.compress(bad))
    plain = read_source(Source(path="deals.csv"), tmp_path)
    packed = read_source(Source(path="deals.csv.gz"), tmp_path)
    pd.testing.assert_frame_equal(packed, plain)
    expected = [Problem("deals.csv", "expected 5 values (one per column), found 3; the row was left out", row=5,
                        value="D003,P03,won", code="width")]
    assert plain.attrs["read_problems"] == expected
    assert packed.attrs["read_problems"] == [dataclasses.replace(p, file="deals.csv.gz") for p in expected]
    assert 5 not in packed.index and list(packed.index[:4]) == [2, 3, 4, 6]


def test_empty_csv_in_a_zip_names_the_member(tmp_path):
    _zip(tmp_path / "deals.zip", {"deals.csv": b""})
    with pytest.raises(InputError) as exc:
        read_source(Source(path="deals.zip"), tmp_path)
    assert _problem_text(exc) == ["deals.zip: the file is empty: expected a header row with the column names "
                                  "(in 'deals.csv' inside the zip)"]


def test_digest_is_of_the_file_as_stored(tmp_path):
    packed = gzip.compress(CSV)
    path = _write(tmp_path / "deals.csv.gz", packed)
    assert file_sha256(path) == hashlib.sha256(packed).hexdigest() != hashlib.sha256(CSV).hexdigest()
