"""``okr-report init``: read exports, guess their declarations, write a starter okr.yaml and okr_plan.csv.

The exports are read by the same readers a run uses (``read_source``), so what init saw is what validate
and run will see; the guessing and the text of the files are pure (``transforms.inference``,
``transforms.starter``). A file that cannot be used is a problem naming it, never a traceback.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.table import Table

from flows import console
from flows.extract import GUESSES, read_source
from transforms import inference
from transforms.config import Source
from transforms.problems import InputError, Problem
from transforms.starter import PLAN_FILE, PeopleSource, SourceFile, Starter, StarterTable, plan_csv, starter_yaml

CONFIG_FILE = "okr.yaml"
_CJK = re.compile(r"[\u3400-\u9fff]")
_SUFFIXES = (".gz", ".zip", ".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
RESERVED = {"plan": "plan_export", "people": "people_export"}
"""Table names a starter workspace uses itself: an export of that name is declared under another."""


@dataclass(frozen=True)
class InitRequest:
    files: tuple[Path, ...]
    workspace: Path | None = None
    company: str | None = None
    sheet: str | None = None
    force: bool = False


@dataclass(frozen=True)
class Export:
    """One table's worth of an export: a CSV file or one sheet of a workbook, as text cells."""

    stem: str
    source: SourceFile
    cells: pd.DataFrame


@dataclass
class InitResult:
    workspace: Path
    config: Path
    plan: Path
    starter: Starter
    warnings: list[Problem] = field(default_factory=list)


def init_workspace(request: InitRequest) -> InitResult:
    """Write the starter files, or raise InputError naming the file at fault (nothing is written then)."""
    workspace = workspace_dir(request)
    refuse_overwrite(workspace, request.force)
    warnings: list[Problem] = []
    exports = read_exports(request.files, workspace, request.sheet, warnings)
    name = request.company or workspace.name or "company"
    starter = build_starter(exports, inference.snake_name(name) or "company", name)
    workspace.mkdir(parents=True, exist_ok=True)
    plan = _write(workspace / PLAN_FILE, plan_csv(starter))
    config = _write(workspace / CONFIG_FILE, starter_yaml(starter))
    return InitResult(workspace, config, plan, starter, warnings)


def workspace_dir(request: InitRequest) -> Path:
    """--workspace, else the folder the exports share."""
    if request.workspace is not None:
        return request.workspace.expanduser().resolve()
    parents = [str(p.expanduser().resolve().parent) for p in request.files]
    return Path(os.path.commonpath(parents))


def refuse_overwrite(workspace: Path, force: bool) -> None:
    if workspace.exists() and not workspace.is_dir():
        raise InputError([Problem(str(workspace), "expected a folder for the workspace, found a file")])
    if force:
        return
    there = [workspace / n for n in (CONFIG_FILE, "okr.yml", PLAN_FILE) if (workspace / n).exists()]
    if there:
        raise InputError([Problem(str(p), "already exists: expected a workspace without a config or plan; "
                                          "init leaves it as it is (--force writes over it)") for p in there])


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


# -- reading --------------------------------------------------------------------------------------------------

def read_exports(files: Sequence[Path], workspace: Path, sheet: str | None,
                 warnings: list[Problem]) -> list[Export]:
    """Every file's tables; the problems of all unusable files at once."""
    exports: list[Export] = []
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="okr-init-") as tmp:
        for path in files:
            try:
                exports += read_export(path, workspace, sheet, Path(tmp), warnings)
            except InputError as exc:
                problems += exc.problems
    if problems:
        raise InputError(problems)
    return exports


def read_export(path: Path, workspace: Path, sheet: str | None, tmp: Path,
                warnings: list[Problem]) -> list[Export]:
    shown = str(path)
    full = path.expanduser().resolve()
    if not full.is_file():
        found = "a folder" if full.is_dir() else "nothing"
        raise InputError([Problem(shown, f"file not found: expected an export (CSV or XLSX) here, found {found} "
                                         f"at {full}")])
    relative = Path(os.path.relpath(full, workspace)).as_posix()
    plain = _plain_file(full, shown, tmp)
    stem = _stem(path.name)
    try:
        if _is_workbook(plain):
            frames = _read_workbook(plain, shown, sheet)
        else:
            frame, encoding, delimiter = _read_csv(plain)
            frames = [(None, frame, encoding, delimiter)]
    except InputError as exc:
        raise InputError([dataclasses.replace(p, file=shown) for p in exc.problems]) from None
    out = []
    for sheet_name, frame, encoding, delimiter in frames:
        where = shown + (f", sheet {sheet_name!r}" if sheet_name else "")
        warnings += [dataclasses.replace(p, file=shown) for p in frame.attrs.get("read_problems", [])]
        if frame.empty:
            raise InputError([Problem(shown, "only a header row: expected rows of data to infer the columns from",
                                      sheet=sheet_name)])
        source = SourceFile(relative, where, encoding, delimiter, sheet_name)
        out.append(Export(stem if len(frames) == 1 else f"{stem} {sheet_name}", source,
                          inference.text_cells(frame)))
    return out


def _stem(name: str) -> str:
    """The file name without its format and compression suffixes (``tickets.csv.gz`` -> ``tickets``)."""
    while name.lower().endswith(_SUFFIXES):
        name = name[: name.rfind(".")]
    return name


def _plain_file(path: Path, shown: str, tmp: Path) -> Path:
    """The export itself, or its content unpacked into ``tmp`` when it is gzip or a zip of one file (by
    content, not by name)."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        out = tmp / f"{len(list(tmp.iterdir()))}-{_stem(path.name)}"
        try:
            with gzip.open(path) as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        except (OSError, EOFError) as exc:
            raise InputError([Problem(shown, f"the gzip file cannot be unpacked ({exc}): expected a complete "
                                             "gzip file")]) from None
        return out
    if magic == b"PK\x03\x04" and not _is_workbook(path):
        return _unzip(path, shown, tmp)
    return path


def _unzip(path: Path, shown: str, tmp: Path) -> Path:
    with zipfile.ZipFile(path) as zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) != 1:
            raise InputError([Problem(shown, f"expected a zip archive holding one export, found {len(members)} "
                                             "files in it")])
        out = tmp / f"{len(list(tmp.iterdir()))}-{Path(members[0].filename).name}"
        with zf.open(members[0]) as src, out.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


def _is_workbook(path: Path) -> bool:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return True
    try:
        with zipfile.ZipFile(path) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _read_csv(path: Path) -> tuple[pd.DataFrame, str | None, str]:
    """The file read as a run reads it; a file that is not UTF-8 is read again in the encoding it looks
    like, which the source then declares."""
    delimiter = _delimiter(path)
    source = Source(path=str(path), format="csv", delimiter=delimiter)
    try:
        return read_source(source, path.parent), None, delimiter
    except InputError as exc:
        encoding = _guess_encoding(path.read_bytes()) if any(p.code == "encoding" for p in exc.problems) else None
        if encoding is None:
            raise
    source = Source(path=str(path), format="csv", delimiter=delimiter, encoding=encoding)
    return read_source(source, path.parent), encoding, delimiter


def _delimiter(path: Path) -> str:
    """The separator the header line uses most: comma, semicolon, tab or bar."""
    with path.open("rb") as fh:
        first = fh.read(1 << 16).split(b"\n", 1)[0]
    counts = {d: first.count(d.encode()) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _guess_encoding(data: bytes) -> str | None:
    for name, _label in GUESSES:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if name != "gb18030" or _CJK.search(text):
            return name
    return None


def _read_workbook(path: Path, shown: str, sheet: str | None) -> list[tuple[str, pd.DataFrame, None, str]]:
    """The asked sheet, else every sheet with a header and rows (the empty ones are passed over)."""
    names = _sheets_with_rows(path)
    if names is None or sheet is not None:
        # an unreadable workbook, or the sheet the user named: the reader explains what is wrong with it
        names = [sheet] if sheet is not None else [None]
    elif not names:
        raise InputError([Problem(shown, "no sheet has a header row and rows below it: expected at least one")])
    out = []
    for name in names:
        frame = read_source(Source(path=str(path), format="xlsx", sheet=name), path.parent)
        out.append((name or "", frame, None, ","))
    return out


def _sheets_with_rows(path: Path) -> list[str] | None:
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        return [n for n in wb.sheet_names if wb.get_sheet_by_name(n).height >= 2]
    except Exception:  # noqa: BLE001 - the reader reports the workbook's trouble in its own words
        return None


# -- guessing -------------------------------------------------------------------------------------------------

def build_starter(exports: Sequence[Export], company_id: str, company_name: str) -> Starter:
    """Guess every table, find the people directory and the links between tables, count the last quarter."""
    guesses, frames, people = [], {}, None
    taken: set[str] = set()
    for n, export in enumerate(exports, start=1):
        guess = inference.guess_table(_table_name(export.stem, n, taken), export.cells)
        if people is None and inference.is_people_directory(export.stem, guess):
            guess = dataclasses.replace(guess, name="people")
            people = PeopleSource(export.source, inference.people_columns(guess), guess.rows)
        taken.add(guess.name)
        guesses.append(guess)
        frames[guess.name] = inference.declared_frame(guess, export.cells)
    guesses = inference.guess_links(guesses, frames)
    tables = tuple(StarterTable(g, e.source, inference.last_quarter_count(g, frames[g.name]))
                   for g, e in zip(guesses, exports) if g.name != "people" or people is None)
    return Starter(company_id, company_name, tables, people)


def _table_name(stem: str, n: int, taken: set[str]) -> str:
    base = inference.snake_name(stem) or f"table_{n}"
    base = RESERVED.get(base, base)
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


# -- the summary ----------------------------------------------------------------------------------------------

def print_report(result: InitResult) -> None:
    """What was read and decided, per export, and the command to run next."""
    s = result.starter
    if s.people is not None:
        console.out.print(f"{s.people.source.shown}: people directory ({s.people.rows:,} people), columns "
                          + ", ".join(f"{k} = {v}" for k, v in s.people.columns.items()), markup=False)
    for t in s.tables:
        console.out.print(summary_table(t))
    console.out.print(f"wrote {result.config} and {result.plan}", markup=False)
    console.out.print(f"next: okr-report validate --workspace {result.workspace}", markup=False)


def summary_table(t: StarterTable) -> Table:
    g = t.guess
    table = Table(title=f"{t.source.shown} -> {g.name} ({g.rows:,} rows)", title_justify="left")
    for heading in ("column", "declared as", "type", "role"):
        table.add_column(heading, overflow="fold")
    for c in g.columns:
        table.add_row(c.header, c.name, c.type.value, ", ".join(_roles(c, g)))
    return table


def _roles(c: inference.ColumnGuess, g: inference.TableGuess) -> list[str]:
    roles = []
    if c.name in g.key:
        roles.append("key")
    if g.keep is not None and c.name == g.keep.column:
        roles.append("latest row per key")
    roles += [word for word, name in (("time", g.time), ("person", g.person), ("team", g.team)) if c.name == name]
    roles += [f"-> {k.table}" for k in g.links if k.column == c.name]
    if c.missing:
        roles.append("missing " + " ".join(c.missing))
    if c.allowed:
        roles.append(f"{len(c.allowed)} values")
    if c.non_negative:
        roles.append("min 0")
    if c.date is not None and c.date.format:
        roles.append(c.date.format)
    return roles
