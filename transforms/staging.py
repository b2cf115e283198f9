"""Staging: one export -> one canonical table. Renames, value aliases and casts; nothing else.

The raw frame's index is the row number the user sees in the file (CSV line / spreadsheet row),
so every problem can point back at it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.arrow_text import string_chunks, text_array
from transforms.config import Source
from transforms.contracts import Col, Contract
from transforms.problems import Problem, more_like_these

TRUE = {"true", "yes", "y", "1", "是", "t", "x", "done", "✓"}
FALSE = {"false", "no", "n", "0", "否", "f", ""}
_TZ = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_MAX_REPORTED = 20


def stage(
    raw: pd.DataFrame, source: Source, contract: Contract, file: str, workspace_tz: str,
    map_columns: Callable = map,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Rename and cast ``raw`` to ``contract``; return the table and the problems found.

    A column is expected in the export when the contract requires it or when the config maps it by name;
    optional columns the config does not mention are simply empty. Export columns the contract does not use
    are ignored. ``map_columns`` casts the columns (a thread pool's ``map`` casts several at once).
    """
    sheet = source.sheet
    headers = {str(c).strip(): c for c in raw.columns}
    mapped = {source.columns.get(name, name) for name in contract.columns}
    formulas = raw.attrs.get("formula_cells") or {}
    found: dict[str, list[Problem]] = {name: [] for name in contract.columns}  # in column order
    columns: dict[str, object] = {}  # arrays, so building the table does not re-align every column
    jobs: list[tuple[str, pd.Series]] = []
    for name, spec in contract.columns.items():
        if name in source.constants:
            series = pd.Series(source.constants[name], index=raw.index)
        else:
            export = source.columns.get(name, name)
            if export not in headers:
                if spec.required or name in source.columns:
                    found[name].append(_missing_column(file, sheet, contract, name, export, list(headers), mapped,
                                                       name in source.columns))
                columns[name] = _empty(spec, raw.index).array
                continue
            series = raw[headers[export]]
            found[name] += _formula_problems(formulas, headers[export], series, file, sheet, export)
            if source.missing:
                series = without_markers(series, source.missing)
        if name in source.values:
            aliases = {str(k): v for k, v in source.values[name].items()}
            series = series.map(lambda v, a=aliases: a.get(str(v).strip(), v) if _present(v) else v)
        jobs.append((name, series))

    def cast_one(job: tuple[str, pd.Series]) -> tuple[pd.Series, list[tuple[int, object]]]:
        return cast(job[1], contract.columns[job[0]], source, workspace_tz)

    for (name, _), (typed, bad) in zip(jobs, map_columns(cast_one, jobs), strict=True):
        spec, column_label = contract.columns[name], source.columns.get(name, name)
        columns[name] = typed.array
        for row, value in bad[:_MAX_REPORTED]:
            found[name].append(Problem(file, describe(spec, source), sheet=sheet, row=int(row), column=column_label,
                                       value=value, code="type"))
        if len(bad) > _MAX_REPORTED:
            found[name].append(more_like_these(file, sheet, column_label, len(bad) - _MAX_REPORTED))
    out = pd.DataFrame({name: columns[name] for name in contract.columns}, index=raw.index, copy=False)
    return out, [p for name in contract.columns for p in found[name]]


def without_markers(series: pd.Series, markers: list[str]) -> pd.Series:
    """Cells whose text (spaces trimmed) is one of the source's 'missing' markers become empty."""
    text = series.str.strip() if _is_text(series) else series.map(_to_text, na_action="ignore")
    marked = text.isin(markers).fillna(False).to_numpy(dtype=bool)
    return series.where(~marked) if marked.any() else series


def _missing_column(file: str, sheet: str | None, contract: Contract, name: str, export: str, found: list[str],
                    mapped: set[str], configured: bool) -> Problem:
    why = f"okr.yaml maps it to {name}" if configured else f"the {contract.name} table needs it as {name}"
    shown = ", ".join(repr(h) for h in found[:12]) + (f" and {len(found) - 12} more" if len(found) > 12 else "")
    unused = [h for h in found if h not in mapped]
    guess = difflib.get_close_matches(export, unused, n=1, cutoff=0.6)
    hint = f"; was it renamed to {guess[0]!r}? Then map that name in okr.yaml" if guess else ""
    return Problem(file, f"missing column: expected a column named {export!r} in the header row ({why}); "
                         f"the header has {shown or 'no columns'}{hint}", sheet=sheet, column=export, code="column")


def _formula_problems(formulas: dict, raw_column: object, series: pd.Series, file: str, sheet: str | None,
                      label: str) -> list[Problem]:
    out = []
    for (row, col), formula in sorted(formulas.items(), key=lambda kv: kv[0][0]):
        if col != raw_column or (row in series.index and _present(series[row]) and str(series[row]).strip()):
            continue
        out.append(Problem(file, "a formula without a cached value (the file was written by a program that does "
                                 "not calculate formulas): expected a value; open the file in Excel and save it "
                                 "again", sheet=sheet, row=int(row), column=label, value=formula, code="formula"))
    return out


def _present(v: object) -> bool:
    return not (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT)


def _empty(spec: Col, index: pd.Index) -> pd.Series:
    """An optional column the export does not have: all missing, in the column's type."""
    dtype = {"str": "str", "int": "float64", "float": "float64", "datetime": "datetime64[ns]",
             "bool": "boolean"}[spec.dtype]
    return pd.Series(pd.NA if spec.dtype == "bool" else np.nan, index=index, dtype=dtype)


EXAMPLE_DATE = pd.Timestamp("2024-04-30 14:30")


def describe(spec: Col, source: Source) -> str:
    """What a value of this column should look like, as shown to the person fixing the export."""
    if spec.dtype == "datetime":
        if source.date_format:
            return f"expected a date in the format {source.date_format!r}, like {EXAMPLE_DATE:{source.date_format}}"
        if source.dayfirst:
            return "expected a date like 2024-04-30 or 30/04/2024 (day first, as 'dayfirst: true' says)"
        return ("expected a date like 2024-04-30 or 04/30/2024 (month first; if the export writes the day first, "
                "set 'dayfirst: true' for this source in okr.yaml)")
    return "expected " + {"str": "text", "int": "a whole number", "float": "a number",
                          "bool": "true or false (yes/no, 1/0)"}[spec.dtype]


def _blank(s: pd.Series) -> pd.Series:
    if _is_text(s):
        return _blank_stripped(s.str.strip())
    return s.isna() | s.astype("string").str.strip().eq("").fillna(True)


_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[9, 10, 11, 12, 13, 32]] = True
_ASCII_SPACE[0x80:] = True  # a non-ASCII first or last character may be a Unicode space: strip to be sure


def _may_need_strip(s: pd.Series) -> bool:
    """Whether any value starts or ends with a space (or a non-ASCII character that could be one), read from
    Arrow's buffers: clean id, code and date columns then skip a full copy of every string."""
    arr = text_array(s)
    if arr is None:
        return True
    for offsets, data in string_chunks(arr):
        starts, ends = offsets[:-1], offsets[1:]
        filled = ends > starts
        if _ASCII_SPACE[data[starts[filled]]].any() or _ASCII_SPACE[data[ends[filled] - 1]].any():
            return True
    return False


def _blank_stripped(stripped: pd.Series) -> pd.Series:
    return (stripped.isna() | stripped.eq("")).fillna(True).astype(bool)


def _is_text(s: pd.Series) -> bool:
    """A column read as text (CSV), where vectorised string operations apply to every value."""
    return pd.api.types.is_string_dtype(s) and s.dtype != object


def cast(s: pd.Series, spec: Col, source: Source, workspace_tz: str) -> tuple[pd.Series, list[tuple[int, object]]]:
    """Cast one column; returns the typed series and (row, value) pairs that could not be read."""
    stripped = (s.str.strip() if _may_need_strip(s) else s) if _is_text(s) else None
    blank = _blank(s) if stripped is None else _blank_stripped(stripped)
    if spec.dtype == "str":
        if stripped is not None:
            return stripped.where(~blank, np.nan), []
        text = s.map(_to_text, na_action="ignore").astype("object")
        return text.where(~blank, np.nan), []
    if spec.dtype in ("int", "float"):
        num = pd.to_numeric(s.where(~blank), errors="coerce") if _is_text(s) else None
        if num is None or (num.isna() & ~blank).any():
            num = pd.to_numeric(s.where(~blank).map(_numeric_text, na_action="ignore"), errors="coerce")
        bad = num.isna() & ~blank
        if spec.dtype == "int":
            frac = num.notna() & (num != np.floor(num.fillna(0)))
            bad |= frac
            num = num.where(~frac)
        return num.astype("float64"), list(s[bad].items())
    if spec.dtype == "bool":
        low = s.where(~blank).map(_to_text, na_action="ignore").astype("string").str.lower()
        val = pd.Series(pd.NA, index=s.index, dtype="boolean")
        val[low.isin(TRUE).fillna(False)] = True
        val[low.isin(FALSE - {""}).fillna(False)] = False
        bad = val.isna() & ~blank
        return val, list(s[bad].items())
    return _dates(s, blank, source, workspace_tz, stripped)


def _to_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _numeric_text(v: object) -> object:
    if isinstance(v, str):
        return v.strip().replace(",", "").replace("¥", "").replace("$", "")
    return v


def _dates(s: pd.Series, blank: pd.Series, source: Source, workspace_tz: str, stripped: pd.Series | None = None):
    if _is_text(s):
        fast = _fast_text_dates(s, blank, source, workspace_tz, s.str.strip() if stripped is None else stripped)
        if fast is not None:
            return fast
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(workspace_tz).dt.tz_localize(None)
        return out.astype("datetime64[ns]"), []
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    values = s.where(~blank)
    is_dt = values.map(lambda v: isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "isoformat"))
    is_dt = is_dt.astype(bool)  # an empty text column maps to an empty text series, not a mask
    if is_dt.any():
        cells = pd.to_datetime(values[is_dt].map(lambda v: pd.Timestamp(v).tz_localize(None)
                                                 if pd.Timestamp(v).tzinfo else pd.Timestamp(v)))
        out[is_dt] = _to_workspace_tz(cells, source.timezone or workspace_tz, workspace_tz)
    rest = values[~is_dt & ~blank]
    if len(rest):
        is_num = rest.map(lambda v: isinstance(v, (int, float)) or bool(re.fullmatch(r"\d{4,5}(\.\d+)?", str(v))))
        is_num = is_num.astype(bool)
        serial = rest[is_num]
        if len(serial):
            days = pd.to_numeric(serial, errors="coerce")
            ok = days.between(1, 2958465)
            out[serial.index[ok]] = EXCEL_EPOCH + pd.to_timedelta(days[ok], unit="D")
        text = rest[~is_num].astype(str).str.strip()
        if len(text):
            out[text.index] = _parse_text_dates(text, source, workspace_tz)
    bad = out.isna() & ~blank
    return out.dt.round("s"), list(s[bad].items())


_ISO_SHAPES = {None: None, "ISO8601": None, "%Y-%m-%d": (10, None), "%Y-%m-%d %H:%M:%S": (19, " "),
               "%Y-%m-%dT%H:%M:%S": (19, "T")}
"""Formats Arrow's ISO cast reads exactly: (length, date/time separator) a value must have to match."""


def _fast_text_dates(s: pd.Series, blank: pd.Series, source: Source, workspace_tz: str, stripped: pd.Series):
    """One vectorised parse with the declared format (or ISO 8601); values it cannot read go through the
    careful path one by one. Returns None when the column needs the careful path as a whole."""
    parsed = _arrow_dates(stripped.where(~blank), source.date_format)
    if parsed is None:
        try:
            parsed = pd.to_datetime(s.where(~blank), format=source.date_format or "ISO8601", errors="coerce")
        except (ValueError, TypeError):
            return None
        if getattr(parsed.dt, "tz", None) is not None:
            return None
    parsed = _to_workspace_tz(parsed.astype("datetime64[ns]"), source.timezone or workspace_tz, workspace_tz)
    failed = parsed.isna() & ~blank
    if failed.any():
        careful, _ = _dates(s[failed].astype(object), blank[failed], source, workspace_tz)
        parsed = parsed.copy()
        parsed[failed] = careful
    bad = parsed.isna() & ~blank
    return parsed.dt.round("s"), list(s[bad].items())


def _arrow_dates(text: pd.Series, fmt: str | None) -> pd.Series | None:
    """ISO dates through Arrow's cast, all or nothing: None (the caller's slower parse) when the format is not
    an ISO one, or any value is not an exact match, or a date is outside what a timestamp can hold."""
    if fmt not in _ISO_SHAPES:
        return None
    try:
        arr = pa.chunked_array(pa.array(text))
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            return None
        shape = _ISO_SHAPES[fmt]
        if shape is not None:
            length, sep = shape
            fits = pc.equal(pc.utf8_length(arr), length)
            if sep is not None:
                fits = pc.and_(fits, pc.equal(pc.utf8_slice_codeunits(arr, 10, 11), sep))
            if not pc.all(pc.or_kleene(fits, pc.is_null(arr))).as_py():
                return None
        out = arr.cast(pa.timestamp("s")).cast(pa.timestamp("ns"))
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return pd.Series(out.to_pandas().to_numpy(), index=text.index).astype("datetime64[ns]")


_NUMERIC_DATE = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?$"
)
_MONTH_WORD = re.compile(r"[A-Za-z]{3}")


def _parse_text_dates(text: pd.Series, source: Source, workspace_tz: str) -> pd.Series:
    """Text dates, strictly: ISO, or dd/mm/yyyy vs mm/dd/yyyy as the source's ``dayfirst`` says, never guessed
    row by row (13/04/2017 under month-first is an error, not 13 April)."""
    aware = text.str.contains(_TZ)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    source_tz = source.timezone or workspace_tz
    if aware.any():
        parsed = pd.to_datetime(text[aware], errors="coerce", utc=True, format=source.date_format or "ISO8601")
        out[aware] = parsed.dt.tz_convert(workspace_tz).dt.tz_localize(None)
    naive = text[~aware]
    if len(naive):
        if source.date_format:
            parsed = pd.to_datetime(naive, errors="coerce", format=source.date_format)
        else:
            parsed = _numeric_or_iso(naive, source.dayfirst)
        out[naive.index] = _to_workspace_tz(parsed.astype("datetime64[ns]"), source_tz, workspace_tz)
    return out


def _numeric_or_iso(text: pd.Series, dayfirst: bool) -> pd.Series:
    parts = text.str.extract(_NUMERIC_DATE)
    numeric = parts["year"].notna()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if numeric.any():
        p = parts[numeric]
        day, month = (p["a"], p["b"]) if dayfirst else (p["b"], p["a"])
        hour = pd.to_numeric(p["hour"]).fillna(0)
        pm = p["ampm"].str.lower().eq("pm").fillna(False).astype(bool)
        am = p["ampm"].str.lower().eq("am").fillna(False).astype(bool)
        bad_clock = (pm | am) & ((hour < 1) | (hour > 12))
        hour = hour.where(~(am & (hour == 12)), 0).where(~(pm & (hour < 12)), hour + 12)
        fields = pd.DataFrame({
            "year": pd.to_numeric(p["year"]), "month": pd.to_numeric(month), "day": pd.to_numeric(day),
            "hour": hour, "minute": pd.to_numeric(p["minute"]).fillna(0),
            "second": pd.to_numeric(p["second"]).fillna(0),
        })
        ok = fields["month"].between(1, 12) & fields["day"].between(1, 31) & fields["hour"].between(0, 23) \
            & fields["minute"].between(0, 59) & fields["second"].between(0, 59) & ~bad_clock
        if ok.any():
            out[ok[ok].index] = pd.to_datetime(fields[ok], errors="coerce")
    rest = text[~numeric]
    if len(rest):
        iso = pd.to_datetime(rest, errors="coerce", format="ISO8601")
        words = iso.isna() & rest.str.contains(_MONTH_WORD)
        if words.any():
            iso[words] = pd.to_datetime(rest[words], errors="coerce", format="mixed", dayfirst=dayfirst)
        out[rest.index] = iso.astype("datetime64[ns]")
    return out


def _to_workspace_tz(naive: pd.Series, source_tz: str, workspace_tz: str) -> pd.Series:
    """Naive local times of the source's zone as naive times of the workspace's zone."""
    if source_tz == workspace_tz:
        return naive
    aware = naive.dt.tz_localize(source_tz, ambiguous="NaT", nonexistent="NaT")
    return aware.dt.tz_convert(workspace_tz).dt.tz_localize(None)
