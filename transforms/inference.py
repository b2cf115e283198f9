"""Guessing a table declaration from an export's cells: types, date styles, keys and the columns that matter.

``okr-report init`` writes a starter okr.yaml from these guesses, so each guess carries a short reason that
ends up as a comment beside the line it explains. Everything here works on frames of text cells (what
``text_cells`` makes of a CSV or spreadsheet frame) and never touches a file.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import pandas as pd


class ColumnType(StrEnum):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    DATETIME = "datetime"
    BOOL = "bool"


class DateOrder(StrEnum):
    ISO = "iso"
    YEAR_FIRST = "year_first"
    DAY_FIRST = "day_first"
    MONTH_FIRST = "month_first"


@dataclass(frozen=True)
class DateStyle:
    """How a date column is written; ``format`` is None when ISO 8601 (read without one) or when the values
    mix shapes (some with a time, some without), which only the day order can describe."""

    order: DateOrder
    format: str | None
    evidence: str | None = None
    """A value that settles the order (a day above 12), or None when nothing did."""

    @property
    def assumed(self) -> bool:
        return self.order in (DateOrder.DAY_FIRST, DateOrder.MONTH_FIRST) and self.evidence is None


@dataclass(frozen=True)
class ColumnGuess:
    position: int
    header: str
    name: str
    type: ColumnType
    filled: int
    empty: int
    distinct: int
    missing: tuple[str, ...] = ()
    date: DateStyle | None = None
    allowed: tuple[str, ...] = ()
    non_negative: bool = False
    note: str = ""

    @property
    def unique(self) -> bool:
        return self.empty == 0 and self.distinct == self.filled and self.filled > 0


@dataclass(frozen=True)
class Keep:
    """An event log: one row per key, the latest (or first) by ``column``."""

    column: str
    latest: bool = True


@dataclass(frozen=True)
class Link:
    column: str
    table: str
    share: float


@dataclass(frozen=True)
class TableGuess:
    name: str
    rows: int
    columns: tuple[ColumnGuess, ...]
    key: tuple[str, ...] = ()
    key_note: str = ""
    keep: Keep | None = None
    entities: int = 0
    time: str | None = None
    time_note: str = ""
    person: str | None = None
    person_note: str = ""
    team: str | None = None
    team_note: str = ""
    links: tuple[Link, ...] = ()
    missing: tuple[str, ...] = ()
    date_format: str | None = None
    dayfirst: bool = False
    date_note: str = ""

    def column(self, name: str) -> ColumnGuess:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class QuarterCount:
    """Rows of a table in one calendar quarter: the baseline of a starter KR."""

    label: str
    rows: int
    complete: bool

    @property
    def target(self) -> int:
        """10 % more, rounded up to a whole row (integer arithmetic: 10 * 1.1 is not 11 in floating point)."""
        return (self.rows * 11 + 9) // 10


# -- names ----------------------------------------------------------------------------------------------------

def snake_name(text: str) -> str:
    """A snake_case ASCII name for a header or file name; '' when it has letters ASCII cannot spell, which
    are never transliterated (a guessed spelling would mislead more than a plain ``column_3``)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    if any(ord(ch) > 127 for ch in text):
        return ""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    return f"c_{name}" if name[:1].isdigit() else name


def declared_names(headers: Sequence[str], fallback: str = "column") -> list[str]:
    """One distinct declared name per header, in order: its snake_case form, else ``column_<n>``."""
    out: list[str] = []
    for n, header in enumerate(headers, start=1):
        base = snake_name(str(header)) or f"{fallback}_{n}"
        name, k = base, 2
        while name in out:
            name, k = f"{base}_{k}", k + 1
        out.append(name)
    return out


def _tokens(name: str) -> list[str]:
    return [t for t in name.split("_") if t]


def _is_id_name(name: str, header: str) -> bool:
    """Names that promise an identifier: id, ..._id, ..._number, ..._no (or 编号 / 号 / ID in the header)."""
    last = _tokens(name)[-1:] or [""]
    return last[0] in ("id", "number", "no", "nr", "num") or header.strip().endswith(("编号", "号", "ID", "Id"))


# -- cells ----------------------------------------------------------------------------------------------------

def _cell_text(v: object) -> str | None:
    """A spreadsheet cell as the text a CSV would hold: dates in ISO, whole numbers without '.0'."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return v.strftime("%Y-%m-%d" if (v.hour, v.minute, v.second) == (0, 0, 0) else "%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    text = str(v).strip()
    return text or None


def text_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as stripped text, blanks as None: CSV and spreadsheet frames look alike from here on."""
    out = pd.DataFrame({i: frame.iloc[:, i].astype(object).map(_cell_text) for i in range(frame.shape[1])},
                       index=frame.index, dtype=object)
    return out.set_axis([str(c) for c in frame.columns], axis=1)


# -- one column -----------------------------------------------------------------------------------------------

MISSING_WORDS = frozenset({"?", "??", "n/a", "na", "n.a.", "#n/a", "-", "--", "—", "null", "none", "nil", "nan",
                           "missing", "(blank)", "(empty)"})
"""Cells that stand for 'no value' when they sit among the values of an otherwise typed column."""
TRUE_WORDS = frozenset({"true", "yes", "y", "t", "是"})
FALSE_WORDS = frozenset({"false", "no", "n", "f", "否"})
_INT = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)")
_FLOAT = re.compile(r"[+-]?(?:(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_TIME = r"(?P<time>(?: \d{1,2}:\d{2}(?::\d{2})?)?)"
_YMD = re.compile(r"(?P<y>\d{4})(?P<sep>[/.])(?P<a>\d{1,2})(?P=sep)(?P<b>\d{1,2})" + _TIME)
_DMY = re.compile(r"(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})" + _TIME)
ALLOWED_MAX = 12
ALLOWED_MIN_ROWS = 20


def markers(values: Iterable[str]) -> tuple[str, ...]:
    """The missing markers of a column: only where every other value has one type that is not text."""
    values = list(values)
    found = tuple(sorted(v for v in values if v.lower() in MISSING_WORDS))
    rest = [v for v in values if v.lower() not in MISSING_WORDS]
    if not found or not rest:
        return ()
    kind, _, _ = classify(rest)
    return found if kind is not ColumnType.STR else ()


def classify(values: Sequence[str]) -> tuple[ColumnType, DateStyle | None, str]:
    """The type of a column from its distinct non-empty values, with its date style and a note on a choice
    a reader might not expect (digits read as text)."""
    if not values:
        return ColumnType.STR, None, "no values"
    if all(v.lower() in TRUE_WORDS | FALSE_WORDS for v in values):
        return ColumnType.BOOL, None, ""
    if all(_INT.fullmatch(v) for v in values):
        if any(len(v.lstrip("+-")) > 1 and v.lstrip("+-").startswith("0") for v in values):
            return ColumnType.STR, None, "digits with leading zeros: a code, read as text"
        return ColumnType.INT, None, ""
    if all(_FLOAT.fullmatch(v) for v in values):
        return ColumnType.FLOAT, None, ""
    style = date_style(values)
    if style is not None:
        return ColumnType.DATETIME, style, ""
    return ColumnType.STR, None, ""


def date_style(values: Sequence[str]) -> DateStyle | None:
    """The one way every value is written as a date, or None. Day-first or month-first is decided by a value
    above 12 in one place; both seen means these are not dates of one style."""
    if all(_ISO.fullmatch(v) for v in values):
        style = DateStyle(DateOrder.ISO, None)
    elif all(_YMD.fullmatch(v) for v in values):
        first = _YMD.fullmatch(values[0])
        style = DateStyle(DateOrder.YEAR_FIRST, _time_format(values, _YMD, f"%Y{first['sep']}%m{first['sep']}%d"))
    elif all(_DMY.fullmatch(v) for v in values):
        style = _day_or_month_first(values)
    else:
        return None
    if style is None or parse_dates(pd.Series(list(values), dtype=object), style).isna().any():
        return None
    return style


def _day_or_month_first(values: Sequence[str]) -> DateStyle | None:
    matches = [_DMY.fullmatch(v) for v in values]
    if len({m["sep"] for m in matches}) > 1:
        return None
    day_first = next((m.group(0) for m in matches if int(m["a"]) > 12), None)
    month_first = next((m.group(0) for m in matches if int(m["b"]) > 12), None)
    if day_first and month_first:
        return None
    sep = matches[0]["sep"]
    if day_first:
        return DateStyle(DateOrder.DAY_FIRST, _time_format(values, _DMY, f"%d{sep}%m{sep}%Y"), day_first)
    return DateStyle(DateOrder.MONTH_FIRST, _time_format(values, _DMY, f"%m{sep}%d{sep}%Y"), month_first)


def _time_format(values: Sequence[str], pattern: re.Pattern, date_part: str) -> str | None:
    """The date format with its time part, when every value has the same one; None when they differ."""
    shapes = {pattern.fullmatch(v)["time"].count(":") for v in values}
    if len(shapes) > 1:
        return None
    return date_part + {0: "", 1: " %H:%M", 2: " %H:%M:%S"}[shapes.pop()]


def parse_dates(cells: pd.Series, style: DateStyle) -> pd.Series:
    """Text dates read as their style says (naive; ISO values with an offset are moved to UTC)."""
    if style.order is DateOrder.ISO:
        parsed = pd.to_datetime(cells, format="ISO8601", errors="coerce", utc=True)
        return parsed.dt.tz_convert(None)
    if style.format is not None:
        return pd.to_datetime(cells, format=style.format, errors="coerce")
    return pd.to_datetime(cells, format="mixed", dayfirst=style.order is DateOrder.DAY_FIRST, errors="coerce")


def guess_column(position: int, header: str, name: str, cells: pd.Series,
                 missing: frozenset[str] = frozenset()) -> ColumnGuess:
    """What one column holds, with the table's missing markers read as empty."""
    present = cells[cells.notna()]
    seen = tuple(sorted({v for v in present.unique() if v in missing}))
    present = present[~present.isin(list(missing))]
    values = list(present.unique())
    kind, style, note = classify(values)
    if kind is ColumnType.INT and _is_id_name(name, header):
        kind, note = ColumnType.STR, "digits, but an identifier: read as text"
    non_negative = False
    if kind in (ColumnType.INT, ColumnType.FLOAT) and values:
        numbers = pd.to_numeric(pd.Series(values, dtype=object).str.replace(",", ""), errors="coerce")
        non_negative = bool(numbers.min() >= 0)
    allowed: tuple[str, ...] = ()
    if kind is ColumnType.STR and 2 <= len(values) <= ALLOWED_MAX and len(present) >= max(ALLOWED_MIN_ROWS,
                                                                                          4 * len(values)):
        allowed = tuple(sorted(values))
    return ColumnGuess(position, header, name, kind, filled=len(present), empty=len(cells) - len(present),
                       distinct=len(values), missing=seen, date=style, allowed=allowed,
                       non_negative=non_negative, note=note)


# -- one table ------------------------------------------------------------------------------------------------

def guess_table(name: str, cells: pd.DataFrame) -> TableGuess:
    """Every column's guess and the table's key, event-log rule, time, person and team columns."""
    headers = [str(c) for c in cells.columns]
    names = declared_names(headers)
    frame = cells.set_axis(names, axis=1)
    missing = sorted({m for col in names for m in markers(frame[col].dropna().unique())})
    columns = tuple(guess_column(i, h, n, frame[n], frozenset(missing))
                    for i, (h, n) in enumerate(zip(headers, names), start=1))
    frame = blank_missing(frame, missing)
    table = TableGuess(name, len(frame), columns, missing=tuple(missing))
    table = _with_key(table, frame)
    table = _with_time(table, frame)
    table = _with_owner(table)
    table = _with_dates(table)
    return _without_allowed(table, {*table.key, table.person, table.team})


def blank_missing(frame: pd.DataFrame, missing: Iterable[str]) -> pd.DataFrame:
    """The frame with its missing markers as empty cells."""
    missing = list(missing)
    return frame.mask(frame.isin(missing)) if missing else frame


def _without_allowed(table: TableGuess, names: set[str | None]) -> TableGuess:
    """Owner, key and link columns hold ids that grow with the data: never a fixed list of values."""
    cols = tuple(replace(c, allowed=()) if c.name in names else c for c in table.columns)
    return replace(table, columns=cols)


def _key_order(table: TableGuess) -> list[ColumnGuess]:
    """Columns that may be keys, id-named ones first: text only, as id-named digits are (a count or an amount
    that happens to be unique in the export is no key)."""
    usable = [c for c in table.columns if c.type is ColumnType.STR and c.empty == 0 and c.filled > 0]
    return sorted(usable, key=lambda c: (not _is_id_name(c.name, c.header), c.position))


def _with_key(table: TableGuess, frame: pd.DataFrame) -> TableGuess:
    rows = f"{table.rows:,} rows"
    candidates = _key_order(table)
    for c in candidates:
        if c.unique and _is_id_name(c.name, c.header):
            return replace(table, key=(c.name,), entities=table.rows, key_note=f"{rows}, {c.name} unique: key")
    log = _event_log(table, frame, candidates)
    if log is not None:
        return log
    for c in candidates:
        if c.unique:
            return replace(table, key=(c.name,), entities=table.rows, key_note=f"{rows}, {c.name} unique: key")
    # a pair may hold a date (one row per distributor and month), never two
    dates = [c for c in table.columns if c.type is ColumnType.DATETIME and c.empty == 0]
    for a, b in _pairs(candidates[:12] + dates[:4]):
        if a.type is not ColumnType.DATETIME and not frame.duplicated(subset=[a.name, b.name]).any():
            return replace(table, key=(a.name, b.name), entities=table.rows,
                           key_note=f"{rows}, {a.name} + {b.name} unique together: key")
    return replace(table, key_note=f"{rows}; no column or pair of columns is unique and never empty: no key")


def _pairs(cols: Sequence[ColumnGuess]) -> Iterable[tuple[ColumnGuess, ColumnGuess]]:
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            yield a, b


CHANGE_WORDS = ("updated", "update", "changed", "change", "modified", "modify", "last", "edited")
CHANGE_ZH = ("更新", "修改", "变更")


def _event_log(table: TableGuess, frame: pd.DataFrame, candidates: list[ColumnGuess]) -> TableGuess | None:
    """An id that repeats but is unique with a 'last updated' column: the rows are changes of one entity."""
    changed = [c for c in table.columns if c.type is ColumnType.DATETIME and c.empty == 0
               and (any(t in CHANGE_WORDS for t in _tokens(c.name)) or any(w in c.header for w in CHANGE_ZH))]
    for entity in (c for c in candidates if _is_id_name(c.name, c.header) and not c.unique):
        for when in changed:
            if not frame.duplicated(subset=[entity.name, when.name]).any():
                note = (f"{table.rows:,} rows, {entity.distinct:,} {entity.name} values: {entity.name} repeats, "
                        f"unique with {when.name}")
                return replace(table, key=(entity.name,), keep=Keep(when.name), entities=entity.distinct,
                               key_note=note)
    return None


OPEN_WORDS = ("created", "create", "creation", "opened", "open", "raised", "submitted", "received", "registered")
OPEN_ZH = ("创建", "开始", "提交", "登记")
DATE_WORDS = ("date", "at", "on", "time", "day", "timestamp", "when")
DATE_ZH = ("日期", "时间")


def _time_tier(c: ColumnGuess) -> int:
    tokens = _tokens(c.name)
    if any(t in OPEN_WORDS for t in tokens) or any(w in c.header for w in OPEN_ZH):
        return 0
    if any(t in DATE_WORDS for t in tokens) or any(w in c.header for w in DATE_ZH):
        return 1
    return 2


def _with_time(table: TableGuess, frame: pd.DataFrame) -> TableGuess:
    """The column that places a row in a quarter: a created/opened one, the earliest in its row if several."""
    dates = [c for c in table.columns if c.type is ColumnType.DATETIME and c.filled > 0]
    if table.keep is not None and len(dates) > 1:
        dates = [c for c in dates if c.name != table.keep.column]
    if not dates:
        return replace(table, time_note="no date column: no time column")
    tier = min(_time_tier(c) for c in dates)
    best = [c for c in dates if _time_tier(c) == tier]
    filled = [c for c in best if c.filled * 2 >= table.rows]
    best = filled or best
    kind = ("named created/opened", "named like a date", "a date column")[tier]
    if len(best) == 1:
        return replace(table, time=best[0].name, time_note=f"{kind}: time column")
    parsed = pd.DataFrame({c.name: parse_dates(frame[c.name], c.date) for c in best})
    wins = parsed.dropna(how="all").idxmin(axis=1, skipna=True).value_counts()
    pick = max(best, key=lambda c: (int(wins.get(c.name, 0)), -c.position))
    note = (f"{kind}, earliest of {', '.join(c.name for c in best)} in {int(wins.get(pick.name, 0)):,} of "
            f"{int(wins.sum()):,} rows: time column")
    return replace(table, time=pick.name, time_note=note)


PERSON_WORDS = ("owner", "assignee", "assigned", "agent", "salesperson", "salesman", "rep", "handler",
                "responsible", "consultant")
PERSON_ZH = ("负责人", "跟进人", "业务员", "销售员", "经办人", "处理人", "销售")
GROUP_WORDS = ("team", "group", "department", "dept", "division", "squad", "manager")
GROUP_ZH = ("团队", "部门", "小组", "组")
TEAM_WORDS = (*GROUP_WORDS, "region", "office", "branch")
TEAM_ZH = (*GROUP_ZH, "大区", "区域")
PERSON_MAX = 1000


def _rank(c: ColumnGuess, words: Sequence[str], zh: Sequence[str]) -> int | None:
    """The position of the first word a column's name holds (a lower one is a better match), or None."""
    tokens = _tokens(c.name)
    hits = [i for i, w in enumerate(words) if w in tokens] + [len(words) + i for i, w in enumerate(zh)
                                                             if w in c.header]
    return min(hits) if hits else None


def _owner_column(table: TableGuess, words: Sequence[str], zh: Sequence[str],
                  skip: set[str | None]) -> ColumnGuess | None:
    """A text column named like an owner (or team) whose values repeat: a few to hundreds of them."""
    ranked = [(rank, c.position, c) for c in table.columns
              if c.type is ColumnType.STR and c.name not in skip and 1 <= c.distinct <= PERSON_MAX
              and c.distinct < c.filled and (rank := _rank(c, words, zh)) is not None]
    return min(ranked, key=lambda r: r[:2])[2] if ranked else None


def _with_owner(table: TableGuess) -> TableGuess:
    skip = set(table.key) if table.keep is not None or len(table.key) == 1 else set()
    person = _owner_column(table, PERSON_WORDS, PERSON_ZH, skip)
    out = table
    if person is not None:
        out = replace(out, person=person.name,
                      person_note=f"named like an owner, {_distinct(person)}: person column")
    # a team owns rows of facts (a reference list's region column says where, not who)
    team = _owner_column(table, TEAM_WORDS, TEAM_ZH, skip | {out.person}) if out.person or out.time else None
    if team is not None:
        out = replace(out, team=team.name, team_note=f"named like a team, {_distinct(team)}: team column")
    return out


def _distinct(c: ColumnGuess) -> str:
    return f"{c.distinct:,} distinct value{'' if c.distinct == 1 else 's'}"


def _with_dates(table: TableGuess) -> TableGuess:
    """One reading rule for the whole source: a format when every date column has the same one, else the day
    order (which reads dates with and without times alike), else nothing for ISO dates."""
    styles = [(c.name, c.date) for c in table.columns if c.date is not None]
    other = [(n, s) for n, s in styles if s.order is not DateOrder.ISO]
    if not other:
        return table
    evidence = next((s.evidence for _, s in other if s.evidence), None)
    orders = {s.order for _, s in other}
    formats = {s.format for _, s in other}
    if len(formats) == 1 and None not in formats and len(other) == len(styles):
        fmt = formats.pop()
        return replace(table, date_format=fmt, date_note=_order_note(orders, evidence))
    if DateOrder.DAY_FIRST in orders and DateOrder.MONTH_FIRST not in orders:
        return replace(table, dayfirst=True, date_note=f"day first: {evidence} seen; the date columns differ in "
                                                       "shape, so no single format")
    if DateOrder.YEAR_FIRST in orders:
        return replace(table, date_note="year-first dates in more than one shape: check how they are read")
    return replace(table, date_note=_order_note(orders, evidence))


def _order_note(orders: set[DateOrder], evidence: str | None) -> str:
    if orders == {DateOrder.YEAR_FIRST}:
        return "year first"
    word = "day" if DateOrder.DAY_FIRST in orders else "month"
    if evidence:
        return f"{word} first: {evidence} seen"
    return "no day above 12 seen: month first assumed, check"


# -- across tables --------------------------------------------------------------------------------------------

LINK_SHARE = 0.9
"""Share of a column's filled cells that must be keys of the other table for the column to link to it."""


def _stem(name: str) -> str:
    return re.sub(r"_?(id|no|number|num|nr|code|key)$", "", name)


def _singular(name: str) -> str:
    last = _tokens(name)[-1] if _tokens(name) else name
    if last.endswith("ies"):
        return last[:-3] + "y"
    return last[:-1] if last.endswith("s") else last


def _names_match(column: str, key: str, table: str) -> bool:
    stem = _stem(column)
    return column == key or (bool(stem) and (stem == _stem(key) or stem in (table, _singular(table))
                                             or stem.endswith("_" + _singular(table))))


def guess_links(tables: Sequence[TableGuess], frames: dict[str, pd.DataFrame]) -> list[TableGuess]:
    """Columns whose values are (mostly) keys of another table under a similar name: look-ups through them."""
    keys = {t.name: (t.key[0], set(frames[t.name][t.key[0]].dropna())) for t in tables if len(t.key) == 1}
    logs = {t.name for t in tables if t.keep is not None}
    out = []
    for t in tables:
        links = []
        own = set(t.key) if len(t.key) == 1 else set()
        for c in t.columns:
            if c.type not in (ColumnType.STR, ColumnType.INT) or c.name in own or c.filled == 0:
                continue
            cells = frames[t.name][c.name].dropna()
            # the person column's tie to the people directory is what ``person:`` says already
            found = [Link(c.name, other, float(cells.isin(values).mean())) for other, (key, values) in keys.items()
                     if other != t.name and _names_match(c.name, key, other)
                     and not (other == "people" and c.name == t.person)]
            found = [link for link in found if link.share >= LINK_SHARE]
            if found:
                # a tie goes to the table named like the column (lead_id: leads), then to one that is no event log
                links.append(max(found, key=lambda link: (link.share, _stem(c.name) in (link.table,
                                                                                        _singular(link.table)),
                                                          link.table not in logs)))
        out.append(_linked(t, tuple(links)))
    return out


def _linked(table: TableGuess, links: tuple[Link, ...]) -> TableGuess:
    """A link column holds another table's ids: text, like the key it points at, and no fixed value list."""
    names = {link.column for link in links}
    cols = tuple(replace(c, type=ColumnType.STR, non_negative=False, allowed=(),
                         note=c.note or "holds another table's keys: read as text")
                 if c.name in names and c.type is not ColumnType.STR else c for c in table.columns)
    return _without_allowed(replace(table, columns=cols, links=links), names)


# -- the starter KR -------------------------------------------------------------------------------------------

def kept_rows(table: TableGuess, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that count after the event-log rule: the latest (or first) row of each key."""
    if table.keep is None:
        return frame
    order = parse_dates(frame[table.keep.column], table.column(table.keep.column).date)
    ranked = frame.assign(_order=order).sort_values("_order", kind="stable", na_position="first")
    return ranked.drop_duplicates(subset=list(table.key), keep="last" if table.keep.latest else "first") \
        .drop(columns="_order").sort_index()


def last_quarter_count(table: TableGuess, frame: pd.DataFrame) -> QuarterCount | None:
    """Rows in the last calendar quarter the time column has passed; when it has passed none, the quarter so
    far (marked incomplete). ``frame`` has the declared column names and missing markers blanked."""
    if table.time is None:
        return None
    rows = kept_rows(table, frame)
    when = parse_dates(rows[table.time], table.column(table.time).date).dropna()
    if when.empty:
        return None
    quarters = when.dt.to_period("Q")
    latest = when.max()
    current = latest.to_period("Q")
    done = latest.normalize() == current.end_time.normalize()
    pick = current if done else current - 1
    count = int((quarters == pick).sum())
    if count == 0:
        pick, count = current, int((quarters == current).sum())
    return QuarterCount(f"{pick.year} Q{pick.quarter}", count, done or pick != current)


def declared_frame(table: TableGuess, cells: pd.DataFrame) -> pd.DataFrame:
    """The export's text cells under the declared names, missing markers blanked."""
    return blank_missing(cells.set_axis([c.name for c in table.columns], axis=1), table.missing)


# -- the people directory -------------------------------------------------------------------------------------

PEOPLE_NAMES = frozenset({"people", "person", "persons", "staff", "employees", "employee", "users", "members",
                          "team_members", "sales_team", "sales_teams", "salespeople", "sales_reps", "agents",
                          "员工", "人员", "员工名册", "花名册", "销售人员"})
"""File names of a people directory (an export of whom the other tables' owners are)."""
_PEOPLE_FIELDS = {
    "person_name": (("name", "full", "display"), ("姓名", "名字")),
    "email": (("email", "mail", "e_mail"), ("邮箱", "邮件")),
    "region_id": (("region", "office", "province", "state"), ("省份", "区域", "地区")),
    "started_at": (("started", "start", "hired", "hire", "joined"), ("入职",)),
    "ended_at": (("ended", "end", "left", "terminated", "leaving"), ("离职",)),
}


def is_people_directory(stem: str, table: TableGuess) -> bool:
    return (stem.strip().lower() in PEOPLE_NAMES or table.name in PEOPLE_NAMES) and len(table.key) == 1 \
        and table.keep is None


def people_columns(table: TableGuess) -> dict[str, str]:
    """The people table's columns (person_id, person_name, team_id, ...) -> the directory's headers."""
    key = table.column(table.key[0])
    out = {"person_id": key.header}
    used = {key.name}
    for field, (words, zh) in _PEOPLE_FIELDS.items():
        wanted = ColumnType.DATETIME if field.endswith("_at") else ColumnType.STR
        hit = next((c for c in table.columns if c.name not in used and c.type is wanted
                    and _rank(c, words, zh) is not None and _rank(c, GROUP_WORDS, GROUP_ZH) is None),
                   None)
        if hit is not None:
            out[field] = hit.header
            used.add(hit.name)
    out.setdefault("person_name", key.header)
    team = _owner_column(table, TEAM_WORDS, TEAM_ZH, used)
    if team is not None:
        out["team_id"] = team.header
    return dict(sorted(out.items(), key=lambda kv: _PEOPLE_ORDER.index(kv[0])))


_PEOPLE_ORDER = ("person_id", "person_name", "email", "team_id", "region_id", "started_at", "ended_at")
