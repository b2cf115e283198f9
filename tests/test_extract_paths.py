"""Large CSV files are parsed by Arrow from the file in blocks; the result must equal the in-memory path,
and anything odd (byte-order mark, line breaks inside quotes, blank lines) must still be read correctly."""

from __future__ import annotations

import pandas as pd
import pytest

import flows.extract as extract
from transforms.config import Source

ROWS = "".join(f"A{i},S{i % 7:03d},call,positive,2018-01-{1 + i % 28:02d} 10:00:00\n" for i in range(3000))
HEADER = "Activity ID,Owner,Type,Outcome,Date\n"


def _read_both(tmp_path, monkeypatch, content: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = tmp_path / "activities.csv"
    path.write_bytes(content)
    source = Source(path="activities.csv")
    monkeypatch.setattr(extract, "STREAM_ABOVE", 1 << 40)
    in_memory = extract.read_source(source, tmp_path)
    monkeypatch.setattr(extract, "STREAM_ABOVE", 0)
    streamed = extract.read_source(source, tmp_path)
    return in_memory, streamed


def test_streamed_file_equals_the_in_memory_read(tmp_path, monkeypatch):
    a, b = _read_both(tmp_path, monkeypatch, (HEADER + ROWS).encode())
    pd.testing.assert_frame_equal(a, b)
    assert len(b) == 3000 and b.index[0] == 2 and b.index[-1] == 3001
    assert b.loc[2, "Activity ID"] == "A0" and b.loc[3001, "Owner"] == f"S{2999 % 7:03d}"


@pytest.mark.parametrize("content, row, value", [
    ("\ufeff" + HEADER + ROWS, 2, "A0"),  # byte-order mark
    (HEADER + 'A0,S000,"call\nback",positive,2018-01-01 10:00:00\n' + ROWS[ROWS.index("\n") + 1:], 3, "A1"),
    (HEADER + "A0,S000,call,positive,2018-01-01 10:00:00\n\n" + ROWS[ROWS.index("\n") + 1:], 4, "A1"),
    (HEADER + ROWS.rstrip("\n"), 3001, "A2999"),  # no line break at the end
])
def test_odd_files_keep_the_row_numbers_a_user_sees(tmp_path, monkeypatch, content, row, value):
    a, b = _read_both(tmp_path, monkeypatch, content.encode())
    pd.testing.assert_frame_equal(a, b)
    assert b.loc[row, "Activity ID"] == value
    assert list(b.columns) == ["Activity ID", "Owner", "Type", "Outcome", "Date"]
