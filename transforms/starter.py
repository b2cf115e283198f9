"""The text of a starter ``okr.yaml`` and its ``okr_plan.csv``, built from the guesses of ``inference``.

The YAML is written line by line rather than dumped, because its comments are the point: each inferred
choice carries the reason it was made, so whoever checks the file knows what to look at. Building text is
pure; ``flows/init.py`` writes it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from transforms.contracts import CONTRACTS
from transforms.inference import ColumnGuess, ColumnType, QuarterCount, TableGuess

PLAN_FILE = "okr_plan.csv"
PLAN_COLUMNS = ("tier", "owner_id", "objective_id", "objective_title_en", "kr_id", "kr_title_en", "metric",
                "baseline", "target")
COMMENT_AT = 44
"""Comments start in this column when the line leaves room, so that they read as one column."""


@dataclass(frozen=True)
class SourceFile:
    """Where an export is, relative to the workspace, and how to read it."""

    path: str
    shown: str
    encoding: str | None = None
    delimiter: str = ","
    sheet: str | None = None


@dataclass(frozen=True)
class StarterTable:
    guess: TableGuess
    source: SourceFile
    count: QuarterCount | None = None


@dataclass(frozen=True)
class PeopleSource:
    """A people directory among the exports: mapped onto the ``people`` table as it is."""

    source: SourceFile
    columns: dict[str, str]
    rows: int


@dataclass(frozen=True)
class Starter:
    company_id: str
    company_name: str
    tables: tuple[StarterTable, ...]
    people: PeopleSource | None = None


Line = tuple[str, str]
"""A YAML line and its comment ('' for none)."""


# -- scalars --------------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"[^\W\d][\w .()/-]*")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none", "nan", "inf", "~"}


def scalar(value: object) -> str:
    """A YAML scalar that reads back as exactly this value: plain when it is safe, else double-quoted (a
    JSON string is a valid YAML double-quoted scalar)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and not text.endswith(" ") and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def flow_list(values: Iterable[object]) -> str:
    return "[" + ", ".join(scalar(v) for v in values) + "]"


def flow_map(items: dict[str, object]) -> str:
    return "{" + ", ".join(f"{scalar(k)}: {v}" for k, v in items.items()) + "}"


def render(lines: list[Line]) -> str:
    """Lines with their comments lined up in one column where the lines leave room."""
    out = []
    for text, comment in lines:
        if not comment:
            out.append(text.rstrip())
        elif not text.strip():
            out.append(f"{text}# {comment}")
        else:
            out.append(f"{text.ljust(COMMENT_AT - 2)}  # {comment}" if len(text) < COMMENT_AT - 2 else
                       f"{text}  # {comment}")
    return "\n".join(out) + "\n"


# -- the workspace --------------------------------------------------------------------------------------------

def starter_yaml(starter: Starter) -> str:
    """The whole okr.yaml: company and calendar, declared tables, sources, one starter metric per table."""
    lines: list[Line] = [
        ("", f"Starter workspace written by `okr-report init` from {_exports(starter)}."),
        ("", "Every choice below was read from the data; the comments say why. Check them, then run"),
        ("", "  okr-report validate --workspace <this folder>"),
        ("company:", ""),
        (f"  id: {scalar(starter.company_id)}", ""),
        (f"  name: {scalar(starter.company_name)}", ""),
        ("fiscal_year_start_month: 1", "January: quarters are calendar quarters; set the month your year starts"),
        ("timezone: UTC", "the zone your exports' times are in: set its IANA name, e.g. Europe/Berlin"),
        ("locale: en", ""),
        ("", ""),
        ("tables:", ""),
    ]
    for t in starter.tables:
        lines += table_lines(t)
    lines += [("", ""), ("sources:", "")]
    if starter.people is not None:
        lines += people_lines(starter.people)
    for t in starter.tables:
        lines += source_lines(t)
    lines += plan_source_lines(starter)
    counted = [t for t in starter.tables if t.count]
    heading = ("metrics:", "") if counted else ("metrics: {}", "no table has dates to count by: add metrics by hand")
    lines += [("", ""), heading]
    for t in starter.tables:
        lines += metric_lines(t)
    return render(lines)


def _exports(starter: Starter) -> str:
    n = len(starter.tables) + (starter.people is not None)
    return f"{n} export{'s' if n != 1 else ''}"


def table_lines(t: StarterTable) -> list[Line]:
    g = t.guess
    where = t.source.path + (f", sheet {t.source.sheet}" if t.source.sheet else "")
    lines: list[Line] = [(f"  {g.name}:", f"{where}: {plural(g.rows, 'row')}")]
    if g.name in CONTRACTS:
        lines.append(("    replace: true", f"'{g.name}' is a preset table: declared from this export alone"))
    lines.append(("    columns:", ""))
    lines += [(f"      {c.name}: {column_spec(c, g)}", column_note(c, g)) for c in g.columns]
    if g.key:
        lines.append((f"    key: {flow_list(g.key)}", g.key_note))
    else:
        lines.append(("    ", g.key_note))
    if g.keep is not None:
        word = "latest_by" if g.keep.latest else "first_by"
        which = "latest" if g.keep.latest else "first"
        lines.append((f"    keep: {{{word}: {scalar(g.keep.column)}}}",
                      f"event log: the {which} row of each {g.key[0]} counts"))
    for field, value, note in (("time", g.time, g.time_note), ("person", g.person, g.person_note),
                               ("team", g.team, g.team_note)):
        if value is not None:
            lines.append((f"    {field}: {scalar(value)}", note))
    if g.links:
        lines.append((f"    links: {flow_map({k.column: scalar(k.table) for k in g.links})}",
                      "; ".join(f"{k.share:.0%} of {k.column} are {k.table} keys" for k in g.links)))
    return lines


def column_spec(c: ColumnGuess, g: TableGuess) -> str:
    """``type`` alone, or a flow mapping when the column says more (never empty, a value list, at least 0)."""
    extra: dict[str, object] = {}
    if c.name in g.key:
        extra["nullable"] = "false"
    if c.allowed:
        extra["allowed"] = flow_list(c.allowed)
    if c.non_negative:
        extra["min"] = "0"
    if not extra:
        return c.type.value
    return flow_map({"type": c.type.value, **extra})


def column_note(c: ColumnGuess, g: TableGuess) -> str:
    notes = []
    if not c.header.isascii():
        notes.append(f"header {c.header}")
    if c.note:
        notes.append(c.note)
    if c.allowed:
        notes.append(f"{len(c.allowed)} values in {c.filled:,} rows")
    if c.non_negative:
        notes.append("never negative")
    if c.missing:
        notes.append(f"{', '.join(repr(m) for m in c.missing)}: no value")
    if c.empty and c.filled:
        notes.append(f"{c.empty:,} empty")
    elif not c.filled:
        notes.append("always empty: the type is a guess")
    if c.type is ColumnType.DATETIME and c.date is not None and c.date.format and not g.date_format:
        notes.append(c.date.format)
    return "; ".join(notes)


def _reader_lines(s: SourceFile) -> list[Line]:
    """Where a file is and how to read it: the same keys for a table's source and the people directory."""
    lines: list[Line] = [(f"    path: {scalar(s.path)}", "")]
    if s.sheet:
        lines.append((f"    sheet: {scalar(s.sheet)}", ""))
    if s.encoding:
        lines.append((f"    encoding: {scalar(s.encoding)}", "the file is not UTF-8"))
    if s.delimiter != ",":
        lines.append((f"    delimiter: {scalar(s.delimiter)}", "values are separated by this"))
    return lines


def source_lines(t: StarterTable) -> list[Line]:
    g, s = t.guess, t.source
    lines: list[Line] = [(f"  {g.name}:", ""), *_reader_lines(s)]
    if g.date_format:
        lines.append((f"    date_format: {scalar(g.date_format)}", g.date_note))
    elif g.dayfirst:
        lines.append(("    dayfirst: true", g.date_note))
    elif g.date_note:
        lines.append(("    ", f"dates: {g.date_note}"))
    if g.missing:
        where = [c.name for c in g.columns if c.missing]
        lines.append((f"    missing: {flow_list(g.missing)}", f"stand for no value in {', '.join(where)}"))
    renamed = [(c.name, c.header) for c in g.columns if c.name != c.header]
    if renamed:
        lines.append(("    columns:", "declared name: export header"))
        lines += [(f"      {name}: {scalar(header)}", "") for name, header in renamed]
    return lines


def people_lines(p: PeopleSource) -> list[Line]:
    s = p.source
    lines: list[Line] = [("  people:", f"{s.path}: a people directory, {p.rows:,} people"), *_reader_lines(s)]
    lines.append(("    columns:", "people column: export header"))
    lines += [(f"      {k}: {scalar(v)}", "") for k, v in p.columns.items()]
    if "team_id" not in p.columns:
        lines.append(("    constants: {team_id: null}", "no team column found: map one to group people by team"))
    return lines


def plan_source_lines(starter: Starter) -> list[Line]:
    metrics = [t for t in starter.tables if t.count]
    return [("  plan:", f"{len(metrics)} company KR{'s' if len(metrics) != 1 else ''}, one per starter metric: "
                        "target 10 % above the last complete quarter's rows"),
            (f"    path: {PLAN_FILE}", "")]


def metric_name(table: str) -> str:
    return f"{table}_count"


def metric_label(table: str) -> str:
    return table.replace("_", " ").capitalize()


def metric_lines(t: StarterTable) -> list[Line]:
    g, q = t.guess, t.count
    if q is None:
        why = "no time column" if g.time is None else f"no dates in {g.time}"
        return [("  ", f"no starter metric for {g.name}: {why}")]
    when = f"{q.label}, the last complete quarter" if q.complete else f"{q.label} so far (no quarter is complete)"
    rows = plural(q.rows, "row") + ("" if g.keep is None else f" (one per {g.key[0]})")
    return [
        (f"  {metric_name(g.name)}:", f"{rows} in {when}; the plan aims 10 % higher: {q.target:,}"),
        ("    kind: count", ""),
        (f"    table: {g.name}", ""),
        (f"    time: {scalar(g.time)}", ""),
        ("    unit: count", ""),
        (f"    label_en: {scalar(metric_label(g.name))}", ""),
    ]


# -- the plan -------------------------------------------------------------------------------------------------

def plan_csv(starter: Starter) -> str:
    """One company-tier KR per starter metric, under one starter objective."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(PLAN_COLUMNS)
    for t in starter.tables:
        q = t.count
        if q is None:
            continue
        label = metric_label(t.guess.name)
        title = f"{label}: {q.target:,} in the quarter (10 % above {q.rows:,} in {q.label})"
        writer.writerow(["company", starter.company_id, "O1", "Starter objective: grow what the exports count",
                         metric_name(t.guess.name), title, metric_name(t.guess.name), q.rows, q.target])
    return buf.getvalue()
