"""Writing a quarter's outputs: everything goes to a private staging folder, then one atomic swap.

``<out>/<quarter>`` is a symbolic link to ``<out>/.runs/<quarter>/<run_id>``; publishing replaces the
link in one ``rename``, so a reader (or a killed run) only ever sees the previous complete set or the
new complete set. Old versions are pruned; the run history is kept beside them.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
from pathlib import Path

import pandas as pd

from transforms.workbook import Sheet

KEEP_VERSIONS = 3
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def runs_dir(out: Path, slug: str) -> Path:
    return out / ".runs" / slug


def published(out: Path, slug: str) -> Path | None:
    """The folder currently published for a quarter, if any."""
    link = out / slug
    if link.is_symlink() or link.is_dir():
        target = link.resolve()
        return target if target.is_dir() else None
    return None


def new_version(out: Path, slug: str, run_id: str) -> Path:
    """A fresh staging folder for this run (never visible as the quarter folder until published)."""
    recover(out, slug)
    path = runs_dir(out, slug) / f".tmp-{run_id}"
    path.mkdir(parents=True, exist_ok=False)
    return path


def publish(out: Path, slug: str, staging: Path, run_id: str) -> Path:
    """Swap the quarter link to the staged version in one rename, then prune old versions."""
    final = staging.with_name(run_id)
    staging.rename(final)
    link = out / slug
    tmp_link = out / f".{slug}.link-{run_id}"
    rel = os.path.relpath(final, out)
    if tmp_link.is_symlink():
        tmp_link.unlink()
    tmp_link.symlink_to(rel, target_is_directory=True)
    if link.exists() and not link.is_symlink():
        # a plain folder from elsewhere: keep it beside the versions rather than deleting user files
        link.rename(runs_dir(out, slug) / f"legacy-{run_id}")
    os.replace(tmp_link, link)
    _fsync_dir(out)
    prune(out, slug)
    return link


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(out: Path, slug: str) -> None:
    """Remove leftovers of runs that died before publishing (staging folders, stray links)."""
    base = runs_dir(out, slug)
    if base.is_dir():
        for p in base.glob(".tmp-*"):
            shutil.rmtree(p, ignore_errors=True)
    for p in out.glob(f".{slug}.link-*"):
        if p.is_symlink():
            p.unlink()


def prune(out: Path, slug: str, keep: int = KEEP_VERSIONS) -> None:
    base = runs_dir(out, slug)
    current = published(out, slug)
    versions = sorted((p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: p.stat().st_mtime)
    for p in versions[:-keep]:
        if current is None or p.resolve() != current:
            shutil.rmtree(p, ignore_errors=True)


def link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of a published version into a new one (a copy where links are not possible)."""
    for path in source.rglob("*"):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
                raise
            shutil.copy2(path, dest)


def neutralise(value: object) -> object:
    """Make text that a spreadsheet would read as a formula inert."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_text_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 with a byte-order mark: Excel on a Chinese (or any non-UTF-8) Windows then reads the text right,
    and every CSV reader of note skips the mark."""
    safe_text_frame(df).to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n",
                               encoding="utf-8-sig")


def write_xlsx(sheets: list[Sheet], path: Path) -> None:
    """The KR workbook as its model says: bold frozen header with a filter, column widths, number formats and
    status fills (write-only mode: fast for large organisations)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(wb, sheet)
    wb.save(path)


def _write_sheet(wb, sheet: Sheet) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(sheet.name)
    ws.freeze_panes = "A2"
    for i, width in enumerate(sheet.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    last = get_column_letter(len(sheet.headers))
    ws.auto_filter.ref = f"A1:{last}{len(sheet.rows) + 1}"
    bold, fills = Font(bold=True), {}
    ws.append([_styled(WriteOnlyCell(ws, value=h), font=bold) for h in sheet.headers])
    for row in sheet.rows:
        out = []
        for cell in row:
            value = neutralise(cell.value)
            c = WriteOnlyCell(ws, value=value)
            if cell.number_format:
                c.number_format = cell.number_format
            if cell.fill:
                c.fill = fills.setdefault(cell.fill, PatternFill("solid", fgColor=cell.fill))
            out.append(c)
        ws.append(out)


def _styled(cell, font):
    cell.font = font
    return cell


def write_json(data: object, path: Path) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


def append_history(out: Path, slug: str, entry: dict) -> None:
    base = runs_dir(out, slug)
    base.mkdir(parents=True, exist_ok=True)
    with (base / "history.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
