"""Problems found in the inputs, each pointing at what the user can open and fix."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_PER_COLUMN = 20
"""Problems of one kind shown per file and column before the rest are summed up in one line."""


WHERE_ZH = ("工作表 {!r}", "第 {} 行", "第 {} 行", "列 {!r}", "，")
"""How a Chinese card says where a problem is."""


@dataclass(frozen=True)
class Problem:
    """One defect: where it is (file, sheet, spreadsheet row, column), the value and what was expected.

    ``line`` is used instead of ``row`` for text files that are not tables (the YAML config); ``code`` groups
    problems of one kind (for capping repeated ones) and is not printed.
    """

    file: str
    expected: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: object = None
    severity: str = "error"
    line: int | None = None
    code: str | None = field(default=None, compare=False)
    key: tuple[str, ...] | None = field(default=None, compare=False)
    """For a problem of the config: the key path, so the reader of okr.yaml can add its line."""
    expected_zh: str | None = field(default=None, compare=False)
    """The same message in Chinese, for the warnings a Chinese scorecard shows in its notes."""

    def where(self, words: tuple[str, str, str, str, str] = ("sheet {!r}", "line {}", "row {}", "column {!r}",
                                                             ", ")) -> str:
        """File, sheet, line, row and column, in the given wording (English by default)."""
        sheet, line, row, column, sep = words
        parts = [self.file]
        if self.sheet:
            parts.append(sheet.format(self.sheet))
        if self.line is not None:
            parts.append(line.format(self.line))
        if self.row is not None:
            parts.append(row.format(self.row))
        if self.column:
            parts.append(column.format(self.column))
        return sep.join(parts)

    def text(self, locale: str) -> str:
        """The message in the card's language (English where no Chinese wording exists)."""
        if locale != "zh-CN" or self.expected_zh is None:
            return str(self)
        value = "" if self.value is None else f"：值 {show(self.value)}"
        return f"{self.where(WHERE_ZH)}{value}：{self.expected_zh}"

    def __str__(self) -> str:
        value = "" if self.value is None else f": value {show(self.value)}"
        return f"{self.where()}{value}: {self.expected}"


def show(value: object) -> str:
    """A cell value as the user typed it: text quoted, whole numbers without '.0', long text shortened."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


_show = show


def more_like_these(file: str, sheet: str | None, column: str | None, n: int, severity: str = "error") -> Problem:
    return Problem(file, f"{n} more like these (the first {MAX_PER_COLUMN} are listed above)", sheet=sheet,
                   column=column, severity=severity, code="more")


def cap(problems: Iterable[Problem], limit: int = MAX_PER_COLUMN) -> list[Problem]:
    """Keep the first ``limit`` problems of each kind per file, sheet and column; sum up the rest in one line.

    Problems without a row (a missing column, an unreadable file) are never capped.
    """
    out: list[Problem] = []
    counts: dict[tuple, int] = {}
    summary_at: dict[tuple, int] = {}
    for p in problems:
        if p.row is None or p.code == "more":
            out.append(p)
            continue
        key = (p.file, p.sheet, p.column, p.code or p.expected, p.severity)
        n = counts.get(key, 0) + 1
        counts[key] = n
        if n <= limit:
            out.append(p)
        elif n == limit + 1:
            summary_at[key] = len(out)
            out.append(p)  # placeholder, replaced below
    for key, i in summary_at.items():
        file, sheet, column, _, severity = key
        out[i] = more_like_these(file, sheet, column, counts[key] - limit, severity)
    return out


def config_problem(file: str, key: str, expected: str, value: object = None, line: int | None = None) -> Problem:
    """A problem in the workspace config: the key path and the value lead, then what was expected."""
    shown = "" if value is None else f"value {show(value)}: "
    return Problem(file, f"key {key!r}: {shown}{expected}", line=line, code="config", key=tuple(key.split(".")))


class InputError(Exception):
    """Raised with every problem of a run at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
