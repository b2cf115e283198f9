"""Reading exports (CSV / XLSX) as configured; each raw frame is indexed by the row the user sees."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pandas as pd

from transforms.config import Source
from transforms.problems import InputError, Problem

CSV_ENCODINGS = ("utf-8-sig",)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_source(source: Source, workspace: Path) -> pd.DataFrame:
    """Read one export as text-ish cells; raise InputError naming the file on anything unreadable."""
    path = (workspace / source.path).resolve()
    shown = source.path
    if not path.is_file():
        raise InputError([Problem(shown, f"an existing file (looked in {workspace})")])
    if source.resolved_format == "xlsx":
        return _read_xlsx(path, source, shown)
    return _read_csv(path, source, shown)


def _read_csv(path: Path, source: Source, shown: str) -> pd.DataFrame:
    data = path.read_bytes()
    if not data.strip():
        raise InputError([Problem(shown, "a CSV file with a header row (the file is empty)")])
    encoding = source.encoding or "utf-8-sig"
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = "" if source.encoding else "; set 'encoding:' for this source (e.g. gb18030 for Chinese Excel)"
        raise InputError([Problem(shown, f"text in {encoding.replace('-sig', '')}{hint}", row=line,
                                  value=data[exc.start:exc.start + 4].hex(" "))]) from None
    except LookupError:
        raise InputError([Problem(shown, "a known encoding name such as utf-8 or gb18030",
                                  value=source.encoding)]) from None
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""],
                         sep=source.delimiter, header=source.header_row - 1, skip_blank_lines=False,
                         engine="c")
    except pd.errors.EmptyDataError:
        raise InputError([Problem(shown, "a CSV file with a header row (the file is empty)")]) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError([Problem(shown, f"well-formed CSV: {_first_line(exc)}")]) from None
    df.index = pd.RangeIndex(source.header_row + 1, source.header_row + 1 + len(df))
    return df.dropna(how="all")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _read_xlsx(path: Path, source: Source, shown: str) -> pd.DataFrame:
    if not zipfile.is_zipfile(path):
        head = path.read_bytes()[:8]
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            expected = "an unprotected .xlsx workbook (this one is encrypted or in the old .xls format)"
        else:
            expected = "an .xlsx workbook (the file is damaged or not a spreadsheet)"
        raise InputError([Problem(shown, expected)])
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise InputError([Problem(shown, f"a readable .xlsx workbook ({_first_line(exc)})")]) from None
    sheet = source.sheet or wb.sheet_names[0]
    if sheet not in wb.sheet_names:
        raise InputError([Problem(shown, f"a sheet named {sheet!r}; the workbook has "
                                         f"{', '.join(repr(s) for s in wb.sheet_names)}", sheet=sheet)])
    rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    h = source.header_row - 1
    if len(rows) <= h:
        raise InputError([Problem(shown, f"a header on row {source.header_row} (the sheet is empty)", sheet=sheet)])
    header = [str(c).strip() if c not in (None, "") else "" for c in rows[h]]
    width = max((i + 1 for i, c in enumerate(header) if c), default=0)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[h + 1:]]
    df = pd.DataFrame(body, columns=[c or f"(column {i + 1})" for i, c in enumerate(header[:width])], dtype=object)
    df = df.map(lambda v: None if v == "" else v)
    df.index = pd.RangeIndex(source.header_row + 1, source.header_row + 1 + len(df))
    return df.dropna(how="all")


def read_all(sources: dict[str, Source], workspace: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Read every source, collecting problems instead of stopping at the first."""
    frames, problems = {}, []
    for name, source in sources.items():
        try:
            frames[name] = read_source(source, workspace)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return frames, problems
