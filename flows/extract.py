"""Reading exports (CSV / XLSX) as configured; each raw frame is indexed by the row the user sees.

A file that cannot be read at all raises ``InputError``. Defects that spoil only some rows or columns (a row
with too few values, merged header cells) are reported in ``frame.attrs["read_problems"]`` and the rest of
the file is still read, so one run reports everything. Spreadsheet cells holding a formula with no saved
result are listed in ``frame.attrs["formula_cells"]`` ({(row, column): formula}) for staging to explain.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd

from transforms.config import Source
from transforms.problems import MAX_PER_COLUMN, InputError, Problem, more_like_these

CSV_ENCODINGS = ("utf-8-sig",)
GUESSES = (("gb18030", "GB18030 (Chinese Windows or Excel)"), ("cp1252", "Windows-1252 (Western Windows or Excel)"))
_CJK = re.compile(r"[\u3400-\u9fff]")
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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
        what = "a folder" if path.is_dir() else "nothing"
        raise InputError([Problem(shown, f"file not found: expected the export here, found {what} at {path}")])
    if source.resolved_format == "xlsx":
        return _read_xlsx(path, source, shown)
    return _read_csv(path, source, shown)


# -- CSV ----------------------------------------------------------------------------------------------------

ARROW_TEXT = {"engine": "pyarrow", "dtype": str, "keep_default_na": False, "na_values": [""]}
"""Arrow's reader, every cell as text and only empty cells missing: staging does all the casting."""
STREAM_ABOVE = 64 << 20
"""CSV files larger than this (bytes) are parsed by Arrow from the file itself, never held in memory whole."""


def _read_csv(path: Path, source: Source, shown: str) -> pd.DataFrame:
    utf8 = (source.encoding or "utf-8").lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")
    if utf8 and path.stat().st_size > STREAM_ABOVE:
        fast = _arrow_csv_file(path, source)
        if fast is not None:
            return _finish(fast, [], {})
    data = path.read_bytes()
    if not data.strip():
        raise InputError([Problem(shown, "the file is empty: expected a header row with the column names")])
    # Arrow checks UTF-8 itself: a UTF-8 file is decoded here only when the careful reader needs the text
    fast = _arrow_csv(data, None, source) if utf8 else None
    if fast is not None:
        return _finish(fast, [], {})
    text = _decode(data, source, shown)
    fast = None if utf8 else _arrow_csv(data, text, source)
    if fast is not None:
        return _finish(fast, [], {})
    h = source.header_row
    n = _fits(text, source)
    if n is not None:
        df = _pandas_csv(text, source, shown)
        if len(df) == n - h:
            df.index = pd.RangeIndex(h + 1, h + 1 + len(df))
            return _finish(df.dropna(how="all"), [], {})
    records, problems = _scan_csv(text, source, shown)
    if not any(c.strip() for c in records.get(h, [])):
        raise InputError([Problem(shown, f"expected the column names on row {h}, found "
                                         f"{'an empty row' if h in records else 'no such row'}", row=h)])
    if not problems:
        df = _pandas_csv(text, source, shown)
        if len(df) == len(records) - h:
            df.index = pd.RangeIndex(h + 1, h + 1 + len(df))
            return _finish(df.dropna(how="all"), [], {})
    # rows that do not fit the header are reported and left out; the others are read as usual
    width = len(records[h])
    keep = [n for n, fields in records.items() if n > h and len(fields) == width]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=source.delimiter, lineterminator="\n")
    writer.writerow(records[h])
    writer.writerows(records[n] for n in keep)
    df = pd.read_csv(io.StringIO(buf.getvalue()), dtype=str, keep_default_na=False, na_values=[""],
                     sep=source.delimiter, header=0, engine="c")
    df.index = pd.Index(keep, dtype="int64")
    return _finish(df.dropna(how="all"), problems, {})


def _arrow_csv(data: bytes, text: str | None, source: Source) -> pd.DataFrame | None:
    """The fast path for well-formed files: pyarrow's multi-threaded reader, when every record is one line.

    Returns None (use the careful reader) when pyarrow is missing, the file does not parse, or the number
    of records differs from the number of lines (blank lines, line breaks inside quotes): only then could
    row numbers drift from what the user sees.
    """
    if source.header_row != 1:
        return None
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return None
    payload = data if text is None else text.encode("utf-8")
    if payload.startswith(b"\xef\xbb\xbf"):
        payload = payload[3:]
    try:
        df = pd.read_csv(io.BytesIO(payload), sep=source.delimiter, **ARROW_TEXT)
    except Exception:  # noqa: BLE001 - any parse trouble goes to the careful reader, which explains it
        return None
    return _one_record_per_line(df, payload.count(b"\n") + (0 if payload.endswith(b"\n") else 1))


def _arrow_csv_file(path: Path, source: Source) -> pd.DataFrame | None:
    """The fast path for a large UTF-8 file, read in blocks: the same checks as ``_arrow_csv``."""
    if source.header_row != 1:
        return None
    newlines, last = 0, b""
    with path.open("rb") as fh:
        if fh.read(3) == b"\xef\xbb\xbf":
            return None  # a byte-order mark: the in-memory path strips it
        fh.seek(0)
        for block in iter(lambda: fh.read(16 << 20), b""):
            newlines += block.count(b"\n")
            last = block[-1:]
    try:
        df = pd.read_csv(path, sep=source.delimiter, **ARROW_TEXT)
    except Exception:  # noqa: BLE001 - the careful reader explains what is wrong
        return None
    return _one_record_per_line(df, newlines + (0 if last == b"\n" else 1))


def _one_record_per_line(df: pd.DataFrame, lines: int) -> pd.DataFrame | None:
    """Arrow's frame indexed by file line, or None when records and lines differ (blank lines, quoted line
    breaks) or the header is odd: row numbers in messages could drift, so the careful reader takes over."""
    if len(df) != lines - 1 or len(df) == 0 or any(not str(c).strip() for c in df.columns):
        return None
    df.index = pd.RangeIndex(2, 2 + len(df))
    return df


def _fits(text: str, source: Source) -> int | None:
    """The quick check: every row has as many values as the header and every quote is closed; returns the
    number of rows (None when a closer look is needed)."""
    try:
        lengths = [len(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter,
                                              strict=True)]
    except csv.Error:
        return None
    h = source.header_row
    if len(lengths) < h or lengths[h - 1] == 0:
        return None
    header = next(itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter), h - 1,
                                   None))
    if not any(c.strip() for c in header):
        return None
    width = lengths[h - 1]
    return len(lengths) if all(n in (0, width) for n in lengths[h:]) else None


def _pandas_csv(text: str, source: Source, shown: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""],
                           sep=source.delimiter, header=source.header_row - 1, skip_blank_lines=False,
                           engine="c")
    except pd.errors.EmptyDataError:
        raise InputError([Problem(shown, "the file is empty: expected a header row with the column names")]) \
            from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError([Problem(shown, f"expected well-formed CSV: {_first_line(exc)}")]) from None


def _decode(data: bytes, source: Source, shown: str) -> str:
    encoding = source.encoding or "utf-8-sig"
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except LookupError:
        raise InputError([Problem(shown, "expected a known encoding name such as utf-8, gb18030 or cp1252 under "
                                         "'encoding:' for this source in okr.yaml", value=source.encoding)]) from None
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        raw_line = data[start: end if end >= 0 else len(data)].rstrip(b"\r")
        guess = _guess_encoding(data)
        if source.encoding and guess:
            expected = (f"expected text in {source.encoding}, the encoding declared for this source; the file "
                        f"looks like {guess[1]}: set 'encoding: {guess[0]}' for it in okr.yaml")
        elif source.encoding:
            expected = (f"expected text in {source.encoding}, the encoding declared for this source; "
                        "fix 'encoding:' for it in okr.yaml")
        elif guess:
            expected = (f"expected UTF-8 text; the file looks like {guess[1]}: add 'encoding: {guess[0]}' "
                        "to this source in okr.yaml")
        else:
            expected = "expected UTF-8 text; set 'encoding:' for this source in okr.yaml to the file's encoding"
        line = raw_line.decode(guess[0] if guess else "utf-8", errors="replace")
        raise InputError([Problem(shown, expected, row=row, value=line, code="encoding")]) from None


def _guess_encoding(data: bytes) -> tuple[str, str] | None:
    for name, label in GUESSES:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if name != "gb18030" or _CJK.search(text):
            return name, label
    return None


def _scan_csv(text: str, source: Source, shown: str) -> tuple[dict[int, list[str]], list[Problem]]:
    """Every record by its row number, and the rows that do not fit the header (cut off, stray quotes)."""
    records: dict[int, list[str]] = {}
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter, strict=True)
    n = 0
    try:
        while True:
            start_line = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            n += 1
            records[n] = fields
    except csv.Error as exc:
        if "unexpected end of data" not in str(exc):
            # a quote in the middle of a value ('12" screen'): read leniently, as spreadsheets do
            return _scan_lenient(text, source, shown)
        line = text.splitlines()[start_line - 1] if start_line <= len(text.splitlines()) else ""
        rest = len(text.splitlines()) - start_line
        problems.append(Problem(
            shown, 'a quote (") opens a value on this row and is never closed, so the rest of the file '
                   f"({rest} more lines) cannot be read: expected a closing quote; remove the stray quote or "
                   "close it", row=n + 1, value=line, code="quote"))
    return records, problems + _field_counts(records, text, source, shown)


def _scan_lenient(text: str, source: Source, shown: str) -> tuple[dict[int, list[str]], list[Problem]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter)
    records = {i + 1: fields for i, fields in enumerate(reader)}
    return records, _field_counts(records, text, source, shown)


def _field_counts(records: dict[int, list[str]], text: str, source: Source, shown: str) -> list[Problem]:
    h = source.header_row
    if h not in records:
        return []
    width = len(records[h])
    bad = [n for n, fields in records.items() if n > h and fields and len(fields) != width]
    last = max((n for n, fields in records.items() if fields), default=0)
    out = []
    for n in bad[:MAX_PER_COLUMN]:
        found = len(records[n])
        if n == last and found < width and not text.endswith(("\n", "\r")):
            expected = (f"expected {width} values (one per column), found {found}: the file ends in the middle "
                        "of this row (was it cut off while exporting or copying?)")
        elif found < width:
            expected = f"expected {width} values (one per column), found {found}; the row was left out"
        else:
            expected = (f"expected {width} values (one per column), found {found}; a value containing "
                        f"{source.delimiter!r} must be in quotes; the row was left out")
        out.append(Problem(shown, expected, row=n, value=source.delimiter.join(records[n]), code="width"))
    if len(bad) > MAX_PER_COLUMN:
        out.append(more_like_these(shown, None, None, len(bad) - MAX_PER_COLUMN))
    return out


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _finish(df: pd.DataFrame, problems: list[Problem], formulas: dict) -> pd.DataFrame:
    df.attrs["read_problems"] = problems
    df.attrs["formula_cells"] = formulas
    return df


# -- XLSX ---------------------------------------------------------------------------------------------------

def _read_xlsx(path: Path, source: Source, shown: str) -> pd.DataFrame:
    if not zipfile.is_zipfile(path):
        data = path.read_bytes()
        if data.startswith(_OLE2) and _ENCRYPTED in data:
            expected = ("the workbook is password-protected: expected a workbook without a password (in Excel: "
                        "File > Info > Protect Workbook > Encrypt with Password, clear it, save)")
        elif data.startswith(_OLE2):
            expected = "this is an old .xls workbook (or an encrypted one): expected .xlsx (in Excel: File > Save As)"
        elif not data:
            expected = "the file is empty: expected an .xlsx workbook"
        else:
            expected = "the file is damaged or not a spreadsheet: expected an .xlsx workbook"
        raise InputError([Problem(shown, expected)])
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
    except Exception as exc:  # calamine raises its own error types
        raise InputError([Problem(shown, f"the workbook cannot be read ({_first_line(exc)}): expected an .xlsx "
                                         "workbook saved by Excel")]) from None
    sheet = source.sheet or (names[0] if names else "")
    if sheet not in names:
        raise InputError([Problem(shown, f"expected a sheet named {sheet!r}; the workbook has "
                                         f"{', '.join(repr(s) for s in names) or 'no sheets'}", sheet=sheet)])
    try:
        ws = wb.get_sheet_by_name(sheet)
        rows = ws.to_python(skip_empty_area=False)
        merged = list(getattr(ws, "merged_cell_ranges", None) or [])
    except Exception as exc:  # noqa: BLE001 - a damaged sheet inside a readable workbook
        raise InputError([Problem(shown, f"the sheet cannot be read ({_first_line(exc)})", sheet=sheet)]) from None
    h = source.header_row - 1
    if len(rows) <= h or not any(c not in (None, "") for c in rows[h]):
        what = "the sheet is empty" if not any(any(c not in (None, "") for c in r) for r in rows) else \
            f"row {source.header_row} is empty"
        raise InputError([Problem(shown, f"{what}: expected the column names on row {source.header_row}",
                                  sheet=sheet)])
    header = [_header_text(c) for c in rows[h]]
    width = max((i + 1 for i, c in enumerate(header) if c), default=0)
    problems = _header_problems(header, rows[h + 1:], merged, h, shown, sheet)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[h + 1:]]
    columns = [c or f"(column {_letter(i)})" for i, c in enumerate(header[:width])]
    df = pd.DataFrame(body, columns=columns, dtype=object)
    df = df.map(lambda v: None if v == "" else v)
    df.index = pd.RangeIndex(source.header_row + 1, source.header_row + 1 + len(df))
    df = df.dropna(how="all")
    formulas = {}
    for (r, c), f in _formulas_without_values(path, sheet).items():
        if r > source.header_row and c < width:
            formulas[(r, columns[c])] = f
    return _finish(df, problems, formulas)


def _header_text(c: object) -> str:
    if c is None or c == "":
        return ""
    if isinstance(c, float) and c.is_integer():
        c = int(c)
    return str(c).strip()


def _header_problems(header: list[str], body: list[list], merged: list, h: int, shown: str,
                     sheet: str) -> list[Problem]:
    out = []
    reported = set()
    for (r0, c0), (r1, c1) in merged:
        if r0 <= h <= r1 and c1 > c0:
            cells = f"{_letter(c0)}{h + 1}:{_letter(c1)}{h + 1}"
            out.append(Problem(shown, f"the header cells {cells} are merged: expected one column name per cell; "
                                      "unmerge them and name each column", sheet=sheet, row=h + 1, code="merged"))
            reported |= set(range(c0, c1 + 1))
    for i in range(max((len(r) for r in body), default=0)):
        name = header[i] if i < len(header) else ""
        if not name and i not in reported and any(i < len(r) and r[i] not in (None, "") for r in body):
            out.append(Problem(shown, f"the header cell {_letter(i)}{h + 1} is empty but the column has values: "
                                      "expected a column name; the column is ignored", sheet=sheet, row=h + 1,
                               severity="warning", code="header"))
    return out


def _letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v\b[^>]*>[^<]+<", re.S)


def _formulas_without_values(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """Cells holding a formula but no saved result ({(row, column index): '=formula'}).

    Programs that write workbooks without calculating them (scripts, some exporters) leave formulas with no
    result; readers then see an empty cell. Only the sheet's XML is scanned, and only if it has a formula.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            part = _sheet_part(zf, sheet)
            if part is None:
                return {}
            xml = zf.read(part)
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return {}
    if not re.search(rb"<(?:\w+:)?f[\s>/]", xml):
        return {}
    out = {}
    for m in _CELL.finditer(xml):
        body = m.group(2) or b""
        f = _FORMULA.search(body)
        if f is None or _VALUE.search(body):
            continue
        ref = _REF.search(m.group(1))
        if ref is None:
            continue
        text = (f.group(1) or b"").decode("utf-8", errors="replace")
        text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        out[(int(ref.group(2)), _column_index(ref.group(1).decode()))] = "=" + text if text else "(shared formula)"
    return out


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> str | None:
    wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rid = None
    for el in wb.iter():
        if el.tag.endswith("}sheet") and el.get("name") == sheet:
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
    if rid is None:
        return None
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    for el in rels:
        if el.get("Id") == rid:
            target = el.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return None


def read_all(sources: dict[str, Source], workspace: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Read every source; the problems of the files that could not be read are returned, not raised."""
    frames, problems = {}, []
    for name, source in sources.items():
        try:
            frames[name] = read_source(source, workspace)
        except InputError as exc:
            problems.extend(exc.problems)
    return frames, problems
