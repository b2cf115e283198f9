"""Reading exports (CSV / XLSX) as configured; each raw frame is indexed by the row the user sees.

What a file holds decides how it is read, not its name: a gzip-compressed export or a zip archive holding one
export is unpacked in memory and read like the file inside, and a workbook saved under a .csv name is read as
a workbook (unless ``format:`` says otherwise). Row numbers are those of the unpacked file.

A file that cannot be read at all raises ``InputError``. Defects that spoil only some rows or columns (a row
with too few values, merged header cells) are reported in ``frame.attrs["read_problems"]`` and the rest of
the file is still read, so one run reports everything. Spreadsheet cells holding a formula with no saved
result are listed in ``frame.attrs["formula_cells"]`` ({(row, column): formula}) for staging to explain.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import io
import itertools
import re
import zipfile
import zlib
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
_GZIP = b"\x1f\x8b"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
"""How a zip file starts: with its first entry, or (an empty archive) with the end-of-archive record."""
_WORKBOOK_PARTS = frozenset({"[Content_Types].xml", "xl/workbook.xml"})
"""The parts every .xlsx has: what tells a workbook from a zip archive holding an export."""
_XLSX_NAMES = (".xlsx", ".xlsm")
SHOW_MEMBERS = 5
"""Member names listed in the message about a zip that does not hold exactly one export."""

Book = Path | bytes
"""A workbook as a file on disk, or as the bytes of one unpacked from an archive (nothing is written to disk)."""


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_source(source: Source, workspace: Path) -> pd.DataFrame:
    """Read one export as text-ish cells; raise InputError naming the file on anything unreadable.

    The first bytes decide: gzip data is decompressed, a zip that is not a workbook is unpacked (one member),
    a workbook is read as one whatever its name; anything else is read as the name or ``format:`` says.
    """
    path = (workspace / source.path).resolve()
    shown = source.path
    if not path.is_file():
        what = "a folder" if path.is_dir() else "nothing"
        raise InputError([Problem(shown, f"file not found: expected the export here, found {what} at {path}")])
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(_GZIP):
        return _read_unpacked(_gunzip(path, shown), _inner_name(source.path), source, shown)
    workbook = head.startswith(_ZIP) and _is_workbook(path)
    if head.startswith(_ZIP) and not workbook and not _named_xlsx(source.path):
        return _read_member(*_unzip(path, shown), source, shown)
    if _kind(head, workbook, source.path, source, shown) == "xlsx":
        return _read_xlsx(path, source, shown)
    return _read_csv(path, source, shown)


# -- compressed exports -------------------------------------------------------------------------------------

def _named_xlsx(name: str) -> bool:
    return name.lower().endswith(_XLSX_NAMES)


def _inner_name(name: str) -> str:
    """The name of the file inside a gzip file ('deals.csv.gz' holds 'deals.csv'): the fallback for its kind."""
    return name[:-3] if name.lower().endswith(".gz") else name


def _is_workbook(book: Book) -> bool:
    """Whether a zip is an .xlsx workbook (by its parts); False for a damaged zip, which the caller explains."""
    try:
        with zipfile.ZipFile(_stream(book)) as zf:
            return _WORKBOOK_PARTS <= set(zf.namelist())
    except (zipfile.BadZipFile, OSError, EOFError):
        return False


def _kind(head: bytes, workbook: bool, name: str, source: Source, shown: str) -> str:
    """csv or xlsx: an explicit ``format:`` wins, then what the file holds, then its name.

    A workbook under ``format: csv`` is refused with a clear message: read as text it would only produce
    an encoding complaint that sends the user the wrong way.
    """
    excel = workbook or head.startswith(_OLE2)
    if source.format == "csv" and excel:
        raise InputError([Problem(shown, "expected CSV text, as 'format: csv' says for this source in okr.yaml, "
                                         "found an Excel workbook: remove 'format: csv' to read it as a workbook "
                                         "or export the data as CSV")])
    if source.format:
        return source.format
    return "xlsx" if excel or _named_xlsx(name) else "csv"


def _gunzip(path: Path, shown: str) -> bytes:
    """The decompressed bytes of a gzip file; damaged data is reported as such, never as an encoding problem."""
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError([Problem(shown, f"expected gzip-compressed data: the file starts like gzip but cannot be "
                                         f"decompressed ({_first_line(exc)}); was it cut off while copying? "
                                         "compress the export again")]) from None


def _unzip(path: Path, shown: str) -> tuple[str, bytes]:
    """The name and bytes of the one export in a zip archive (folders and macOS metadata do not count)."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
            if len(members) != 1:
                raise InputError([_member_count_problem([i.filename for i in members], shown)])
            member = members[0]
            if member.flag_bits & 0x1:
                raise InputError([Problem(shown, f"the zip member {member.filename!r} is password-protected: "
                                                 "expected a .zip without a password")])
            return member.filename, zf.read(member)
    except NotImplementedError as exc:
        raise InputError([Problem(shown, f"the zip archive uses a compression method that cannot be read "
                                         f"({_first_line(exc)}): expected a .zip made with the usual (deflate) "
                                         "compression")]) from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise InputError([Problem(shown, f"the file starts like a zip archive but is damaged ({_first_line(exc)}): "
                                         "expected a complete .zip (was it cut off while copying?) or .xlsx "
                                         "workbook")]) from None


def _member_count_problem(names: list[str], shown: str) -> Problem:
    if not names:
        found = "found an empty archive"
    else:
        listed = ", ".join(repr(n) for n in names[:SHOW_MEMBERS])
        more = f" and {len(names) - SHOW_MEMBERS} more" if len(names) > SHOW_MEMBERS else ""
        found = f"found {len(names)}: {listed}{more}"
    return Problem(shown, f"expected a .zip with one member (the export), {found}; put one export per zip "
                          "and point each source at its own file")


def _read_member(member: str, data: bytes, source: Source, shown: str) -> pd.DataFrame:
    """The export inside a zip archive; a file-level problem says which member it is about."""
    try:
        return _read_unpacked(data, member, source, shown)
    except InputError as exc:
        raise InputError([dataclasses.replace(p, expected=f"{p.expected} (in {member!r} inside the zip)")
                          for p in exc.problems]) from None


def _read_unpacked(data: bytes, name: str, source: Source, shown: str) -> pd.DataFrame:
    """Read unpacked bytes as CSV or workbook; a second layer of packing is refused, not read as text."""
    workbook = data.startswith(_ZIP) and _is_workbook(data)
    zipped = data.startswith(_ZIP) and not workbook and not _named_xlsx(name)
    if data.startswith(_GZIP) or zipped or data[257:262] == b"ustar":
        raise InputError([Problem(shown, "expected CSV text or an .xlsx workbook once unpacked, found another "
                                         "archive inside: compress the export itself, once")])
    if _kind(data[:8], workbook, name, source, shown) == "xlsx":
        return _read_xlsx(data, source, shown)
    return _read_csv_bytes(data, source, shown)


# -- CSV ----------------------------------------------------------------------------------------------------

ARROW_TEXT = {"engine": "pyarrow", "dtype": str, "keep_default_na": False, "na_values": [""]}
"""Arrow's reader, every cell as text and only empty cells missing: staging does all the casting."""
STREAM_ABOVE = 64 << 20
"""CSV files larger than this (bytes) are parsed by Arrow from the file itself, never held in memory whole."""


def _is_utf8(source: Source) -> bool:
    return (source.encoding or "utf-8").lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def _read_csv(path: Path, source: Source, shown: str) -> pd.DataFrame:
    """A CSV file on disk: a large UTF-8 one is parsed by Arrow from the file itself, never held whole."""
    if _is_utf8(source) and path.stat().st_size > STREAM_ABOVE:
        fast = _arrow_csv_file(path, source)
        if fast is not None:
            return _finish(fast, [], {})
    return _read_csv_bytes(path.read_bytes(), source, shown)


def _read_csv_bytes(data: bytes, source: Source, shown: str) -> pd.DataFrame:
    """CSV from memory (a file's bytes or an unpacked export): Arrow when it is safe, else the careful reader."""
    utf8 = _is_utf8(source)
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

def _read_xlsx(book: Book, source: Source, shown: str) -> pd.DataFrame:
    """A workbook's sheet as raw cells, indexed by spreadsheet row; the file or its unpacked bytes are read."""
    if not zipfile.is_zipfile(_stream(book)):
        raise InputError([Problem(shown, _not_a_workbook(book if isinstance(book, bytes) else book.read_bytes()))])
    rows, merged, sheet = _sheet_rows(book, source, shown)
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
    for (r, c), f in _formulas_without_values(book, sheet).items():
        if r > source.header_row and c < width:
            formulas[(r, columns[c])] = f
    return _finish(df, problems, formulas)


def _stream(book: Book) -> Path | io.BytesIO:
    """What zipfile opens: the path, or a fresh in-memory file over the bytes (each reader seeks its own)."""
    return io.BytesIO(book) if isinstance(book, bytes) else book


def _not_a_workbook(data: bytes) -> str:
    """Why bytes that are not a zip cannot be a workbook, in the words of the user's spreadsheet program."""
    if data.startswith(_OLE2) and _ENCRYPTED in data:
        return ("the workbook is password-protected: expected a workbook without a password (in Excel: "
                "File > Info > Protect Workbook > Encrypt with Password, clear it, save)")
    if data.startswith(_OLE2):
        return "this is an old .xls workbook (or an encrypted one): expected .xlsx (in Excel: File > Save As)"
    if not data:
        return "the file is empty: expected an .xlsx workbook"
    return "the file is damaged or not a spreadsheet: expected an .xlsx workbook"


def _sheet_rows(book: Book, source: Source, shown: str) -> tuple[list[list], list, str]:
    """The configured sheet's cells, its merged ranges and its name (the first sheet when none is set)."""
    try:
        from python_calamine import CalamineWorkbook

        wb = (CalamineWorkbook.from_filelike(io.BytesIO(book)) if isinstance(book, bytes)
              else CalamineWorkbook.from_path(str(book)))
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
    return rows, merged, sheet


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
                               severity="warning", code="header",
                               expected_zh=f"表头单元格 {_letter(i)}{h + 1} 为空，但该列有数值："
                                           "应填写列名；该列已忽略"))
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


def _formulas_without_values(book: Book, sheet: str) -> dict[tuple[int, int], str]:
    """Cells holding a formula but no saved result ({(row, column index): '=formula'}).

    Programs that write workbooks without calculating them (scripts, some exporters) leave formulas with no
    result; readers then see an empty cell. Only the sheet's XML is scanned, and only if it has a formula.
    """
    try:
        with zipfile.ZipFile(_stream(book)) as zf:
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
