"""Fiscal calendar: quarters, months and the spelling of quarter labels.

A fiscal year is named by the calendar year it starts in. With a start month other than January
it is shown as ``FY2017-18``; quarter folders are ``FY2017-18-Q4`` (or ``2017-Q4`` for calendar years).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from transforms.problems import InputError, Problem

_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_LABEL = re.compile(
    r"^\s*(?:FY)?\s*(?P<year>\d{4})(?:\s*[-/]\s*(?P<end>\d{2}|\d{4}))?\s*[-_ ]?\s*Q(?P<q>[1-4])\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, order=True)
class Quarter:
    """A fiscal quarter: ``fy`` is the calendar year the fiscal year starts in."""

    fy: int
    q: int
    start_month: int = 1

    @property
    def start(self) -> pd.Timestamp:
        month0 = self.start_month - 1 + 3 * (self.q - 1)
        return pd.Timestamp(year=self.fy + month0 // 12, month=month0 % 12 + 1, day=1)

    @property
    def end(self) -> pd.Timestamp:
        """Exclusive end."""
        return self.start + pd.DateOffset(months=3)

    @property
    def last_day(self) -> pd.Timestamp:
        return self.end - pd.Timedelta(days=1)

    @property
    def fy_label(self) -> str:
        if self.start_month == 1:
            return str(self.fy)
        return f"FY{self.fy}-{(self.fy + 1) % 100:02d}"

    @property
    def label(self) -> str:
        """Human label, e.g. ``FY2017-18 Q4`` or ``2017 Q4``."""
        return f"{self.fy_label} Q{self.q}"

    @property
    def slug(self) -> str:
        """Folder name, e.g. ``FY2017-18-Q4`` or ``2017-Q4``."""
        return f"{self.fy_label}-Q{self.q}"

    @property
    def fy_start(self) -> pd.Timestamp:
        return Quarter(self.fy, 1, self.start_month).start

    def shift(self, n: int) -> Quarter:
        idx = self.fy * 4 + (self.q - 1) + n
        return Quarter(idx // 4, idx % 4 + 1, self.start_month)

    def index(self) -> int:
        return self.fy * 4 + self.q - 1

    def months(self) -> list[Period]:
        out = []
        for i in range(3):
            start = self.start + pd.DateOffset(months=i)
            out.append(Period(start, start + pd.DateOffset(months=1), "month", start.strftime("%Y-%m")))
        return out

    def period(self) -> Period:
        return Period(self.start, self.end, "quarter", self.label, quarter=self)


@dataclass(frozen=True)
class Period:
    """A half-open time span [start, end) that metrics are evaluated over."""

    start: pd.Timestamp
    end: pd.Timestamp
    kind: str
    label: str
    quarter: Quarter | None = None

    def previous(self) -> Period:
        if self.kind == "quarter" and self.quarter is not None:
            return self.quarter.shift(-1).period()
        months = 3 if self.kind == "quarter" else 1
        start = self.start - pd.DateOffset(months=months)
        return Period(start, self.start, self.kind, start.strftime("%Y-%m"))

    def clipped(self, as_of: pd.Timestamp | None) -> Period:
        """The part of the period up to and including ``as_of`` (mid-period runs)."""
        if as_of is None:
            return self
        end = min(self.end, as_of.normalize() + pd.Timedelta(days=1))
        end = max(end, self.start)
        return Period(self.start, end, self.kind, self.label, self.quarter)

    @property
    def days(self) -> int:
        return int((self.end - self.start).days)

    @property
    def weekdays(self) -> int:
        return int(np.busday_count(self.start.date(), self.end.date()))

    @property
    def weeks(self) -> float:
        return self.days / 7.0

    @property
    def months(self) -> float:
        """Calendar months covered, fractional for partial months."""
        total = 0.0
        cursor = self.start.normalize().replace(day=1)
        while cursor < self.end:
            nxt = cursor + pd.DateOffset(months=1)
            lo, hi = max(cursor, self.start), min(nxt, self.end)
            if hi > lo:
                total += (hi - lo).days / (nxt - cursor).days
            cursor = nxt
        return total


def parse_quarter(text: str, start_month: int) -> Quarter:
    """Read ``FY2017-18 Q4``, ``FY2017-Q4``, ``2017Q4`` or ``2017-Q4``; raise ValueError otherwise."""
    m = _LABEL.match(text or "")
    if not m:
        raise ValueError(
            f"quarter {text!r} is not understood; expected e.g. 'FY2017-18-Q4', '2017-Q4' or '2017Q4'"
        )
    year, end, q = int(m["year"]), m["end"], int(m["q"])
    if end is not None:
        end_year = int(end) if len(end) == 4 else (year // 100) * 100 + int(end)
        if end_year < year:
            end_year += 100
        expected = year if start_month == 1 else year + 1
        if end_year != expected:
            raise ValueError(f"quarter {text!r}: fiscal year {year}-{end} does not span one year")
    return Quarter(year, q, start_month)


def quarter_of(ts: pd.Timestamp, start_month: int) -> Quarter:
    """The fiscal quarter holding ``ts``."""
    months_in = (ts.month - start_month) % 12
    fy = ts.year if ts.month >= start_month else ts.year - 1
    return Quarter(fy, months_in // 3 + 1, start_month)


def last_closed_quarter(today: pd.Timestamp, start_month: int) -> Quarter:
    """The quarter that closed most recently before ``today``."""
    return quarter_of(today, start_month).shift(-1)


def parse_date_arg(text: str, option_name: str) -> pd.Timestamp:
    """A date given on the command line (e.g. ``--as-of``), read strictly as YYYY-MM-DD before anything runs.

    Raises InputError naming the option and the value: a loose reading would guess at day/month order or
    quietly roll 2018-02-30 over into March.
    """
    m = _DATE.match(text.strip())
    reason = None
    if m:
        year, month, day = (int(g) for g in m.groups())
        last = calendar.monthrange(year, month)[1] if year > 0 and 1 <= month <= 12 else 31
        if year == 0:
            reason = "there is no year 0"
        elif not 1 <= month <= 12:
            reason = f"there is no month {month}"
        elif not 1 <= day <= last:
            reason = "there is no day 0" if day == 0 else f"{_MONTHS[month - 1]} {year} has {last} days"
        elif len(m[2]) < 2 or len(m[3]) < 2:
            reason = f"two digits for the month and the day: {year:04d}-{month:02d}-{day:02d}"
        else:
            return pd.Timestamp(year=year, month=month, day=day)
    expected = "expected a date YYYY-MM-DD" + (f" ({reason})" if reason else "")
    raise InputError([Problem(option_name, expected, value=text)])
