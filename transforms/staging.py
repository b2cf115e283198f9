"""Staging: one export -> one canonical table. Renames, value aliases and casts; nothing else.

The raw frame's index is the row number the user sees in the file (CSV line / spreadsheet row),
so every problem can point back at it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from transforms.config import Source
from transforms.contracts import Col, Contract
from transforms.problems import Problem

TRUE = {"true", "yes", "y", "1", "是", "t", "x", "done", "✓"}
FALSE = {"false", "no", "n", "0", "否", "f", ""}
_TZ = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_MAX_REPORTED = 20


def stage(
    raw: pd.DataFrame, source: Source, contract: Contract, file: str, workspace_tz: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """Rename and cast ``raw`` to ``contract``; return the table and the problems found."""
    problems: list[Problem] = []
    sheet = source.sheet
    headers = {str(c).strip(): c for c in raw.columns}
    out = pd.DataFrame(index=raw.index)
    for name, spec in contract.columns.items():
        if name in source.constants:
            out[name] = source.constants[name]
            series = out[name]
        else:
            export = source.columns.get(name, name)
            if export not in headers:
                if spec.required:
                    problems.append(
                        Problem(file, f"missing column {export!r} (canonical {name!r}); found: "
                                f"{', '.join(map(str, headers)) or 'no columns'}", sheet=sheet, column=export)
                    )
                out[name] = _empty(spec)
                continue
            series = raw[headers[export]]
        if name in source.values:
            aliases = {str(k): v for k, v in source.values[name].items()}
            series = series.map(lambda v, a=aliases: a.get(str(v).strip(), v) if _present(v) else v)
        column_label = source.columns.get(name, name)
        out[name], bad = cast(series, spec, source, workspace_tz)
        for row, value in bad[:_MAX_REPORTED]:
            problems.append(
                Problem(file, f"expected {describe(spec, source)}", sheet=sheet, row=int(row), column=column_label,
                        value=value)
            )
        if len(bad) > _MAX_REPORTED:
            problems.append(
                Problem(file, f"{len(bad) - _MAX_REPORTED} more values like these were not understood",
                        sheet=sheet, column=column_label)
            )
    return out, problems


def _present(v: object) -> bool:
    return not (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT)


def _empty(spec: Col) -> pd.Series:
    return pd.Series(dtype={"str": "object", "int": "float64", "float": "float64", "datetime": "datetime64[ns]",
                            "bool": "boolean"}[spec.dtype])


def describe(spec: Col, source: Source) -> str:
    if spec.dtype == "datetime":
        fmt = source.date_format or ("a day-first date" if source.dayfirst else "an ISO date like 2017-04-30")
        return f"a date ({fmt}) or an Excel date"
    return {"str": "text", "int": "a whole number", "float": "a number", "bool": "true/false (yes/no, 1/0)"}[
        spec.dtype
    ]


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | s.astype("string").str.strip().eq("").fillna(True)


def cast(s: pd.Series, spec: Col, source: Source, workspace_tz: str) -> tuple[pd.Series, list[tuple[int, object]]]:
    """Cast one column; returns the typed series and (row, value) pairs that could not be read."""
    blank = _blank(s)
    if spec.dtype == "str":
        text = s.map(_to_text, na_action="ignore").astype("object")
        return text.where(~blank, np.nan), []
    if spec.dtype in ("int", "float"):
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
    return _dates(s, blank, source, workspace_tz)


def _to_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _numeric_text(v: object) -> object:
    if isinstance(v, str):
        return v.strip().replace(",", "").replace("¥", "").replace("$", "")
    return v


def _dates(s: pd.Series, blank: pd.Series, source: Source, workspace_tz: str):
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(workspace_tz).dt.tz_localize(None)
        return out.astype("datetime64[ns]"), []
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    values = s.where(~blank)
    is_dt = values.map(lambda v: isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "isoformat"))
    if is_dt.any():
        cells = pd.to_datetime(values[is_dt].map(lambda v: pd.Timestamp(v).tz_localize(None)
                                                 if pd.Timestamp(v).tzinfo else pd.Timestamp(v)))
        out[is_dt] = _to_workspace_tz(cells, source.timezone or workspace_tz, workspace_tz)
    rest = values[~is_dt & ~blank]
    if len(rest):
        is_num = rest.map(lambda v: isinstance(v, (int, float)) or bool(re.fullmatch(r"\d{4,5}(\.\d+)?", str(v))))
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


def _parse_text_dates(text: pd.Series, source: Source, workspace_tz: str) -> pd.Series:
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
        elif source.dayfirst:
            parsed = pd.to_datetime(naive, errors="coerce", dayfirst=True, format="mixed")
        else:
            parsed = pd.to_datetime(naive, errors="coerce", format="ISO8601")
        out[naive.index] = _to_workspace_tz(parsed, source_tz, workspace_tz)
    return out


def _to_workspace_tz(naive: pd.Series, source_tz: str, workspace_tz: str) -> pd.Series:
    """Naive local times of the source's zone as naive times of the workspace's zone."""
    if source_tz == workspace_tz:
        return naive
    aware = naive.dt.tz_localize(source_tz, ambiguous="NaT", nonexistent="NaT")
    return aware.dt.tz_convert(workspace_tz).dt.tz_localize(None)
