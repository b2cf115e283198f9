"""Fiscal calendar: quarter bounds, labels, parsing and period arithmetic, checked against hand-counted dates."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.calendar import Period, Quarter, last_closed_quarter, parse_date_arg, parse_quarter, quarter_of
from transforms.problems import InputError

T = pd.Timestamp


# -- quarter bounds in an April fiscal year -------------------------------------------------------------------

@pytest.mark.parametrize(
    "q, start, end, last_day",
    [
        # FY2017-18 starts 2017-04-01: Q1 Apr-Jun, Q2 Jul-Sep, Q3 Oct-Dec, Q4 Jan-Mar of the next calendar year
        (1, "2017-04-01", "2017-07-01", "2017-06-30"),
        (2, "2017-07-01", "2017-10-01", "2017-09-30"),
        (3, "2017-10-01", "2018-01-01", "2017-12-31"),
        (4, "2018-01-01", "2018-04-01", "2018-03-31"),
    ],
)
def test_april_fiscal_year_quarter_bounds(q, start, end, last_day):
    quarter = Quarter(2017, q, 4)
    assert quarter.start == T(start)
    assert quarter.end == T(end)  # exclusive
    assert quarter.last_day == T(last_day)
    assert quarter.fy_start == T("2017-04-01")


def test_calendar_year_quarter_bounds():
    q = Quarter(2017, 4, 1)
    assert (q.start, q.end, q.last_day) == (T("2017-10-01"), T("2018-01-01"), T("2017-12-31"))
    assert q.fy_start == T("2017-01-01")


def test_october_fiscal_year_wraps_into_next_calendar_year():
    # start month 10: Q1 = Oct-Dec 2017, Q2 = Jan-Mar 2018
    assert Quarter(2017, 1, 10).start == T("2017-10-01")
    assert Quarter(2017, 2, 10).start == T("2018-01-01")
    assert Quarter(2017, 4, 10).end == T("2018-10-01")


# -- labels and slugs -----------------------------------------------------------------------------------------

def test_labels_and_slugs():
    assert Quarter(2017, 4, 4).label == "FY2017-18 Q4"
    assert Quarter(2017, 4, 4).slug == "FY2017-18-Q4"
    assert Quarter(2017, 4, 4).fy_label == "FY2017-18"
    assert Quarter(2017, 4, 1).label == "2017 Q4"
    assert Quarter(2017, 4, 1).slug == "2017-Q4"
    # the two-digit end year wraps at the century
    assert Quarter(2099, 1, 4).fy_label == "FY2099-00"


def test_period_label_and_months_labels():
    q = Quarter(2017, 4, 4)
    p = q.period()
    assert (p.start, p.end, p.kind, p.label, p.quarter) == (T("2018-01-01"), T("2018-04-01"), "quarter",
                                                            "FY2017-18 Q4", q)
    months = q.months()
    assert [m.label for m in months] == ["2018-01", "2018-02", "2018-03"]
    assert [m.start for m in months] == [T("2018-01-01"), T("2018-02-01"), T("2018-03-01")]
    assert [m.end for m in months] == [T("2018-02-01"), T("2018-03-01"), T("2018-04-01")]
    assert all(m.kind == "month" for m in months)


def test_shift_and_index_cross_fiscal_years():
    q4 = Quarter(2017, 4, 4)
    assert q4.shift(1) == Quarter(2018, 1, 4)
    assert q4.shift(-1) == Quarter(2017, 3, 4)
    assert q4.shift(-4) == Quarter(2016, 4, 4)
    assert Quarter(2017, 1, 4).shift(-1) == Quarter(2016, 4, 4)
    # index: 2017 * 4 + 3 = 8071; two quarters earlier is 8069
    assert q4.index() == 8071
    assert q4.index() - Quarter(2017, 2, 4).index() == 2


# -- parsing --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    ["FY2017-18-Q4", "FY2017-18 Q4", "fy2017-18 q4", "  FY2017-18Q4 ", "FY2017/18 Q4", "FY2017-2018-Q4",
     "2017Q4", "2017-Q4", "2017 Q4", "FY2017-Q4", "FY2017_Q4"],
)
def test_parse_quarter_accepted_spellings(text):
    assert parse_quarter(text, 4) == Quarter(2017, 4, 4)


def test_parse_quarter_keeps_start_month():
    q = parse_quarter("2017-Q2", 1)
    assert q == Quarter(2017, 2, 1)
    assert q.start == T("2017-04-01")
    # the same spelling in an April fiscal year is a different span of time
    assert parse_quarter("2017-Q2", 4).start == T("2017-07-01")


@pytest.mark.parametrize(
    "text",
    ["", "2017", "Q4", "FY2017-18 Q5", "FY2017-18 Q0", "17-Q4", "FY2017-19 Q4", "FY2017-17 Q4", "2017 Q4 extra",
     "FY2017-18-Q4-Q1"],
)
def test_parse_quarter_rejections(text):
    with pytest.raises(ValueError):
        parse_quarter(text, 4)


def test_parse_quarter_rejects_none():
    with pytest.raises(ValueError):
        parse_quarter(None, 4)  # type: ignore[arg-type]


def test_parse_quarter_calendar_year_rejects_two_year_label():
    # with a January start a fiscal year lies within one calendar year, so "2017-18" is inconsistent
    with pytest.raises(ValueError):
        parse_quarter("FY2017-18 Q4", 1)


# -- quarter_of / last_closed_quarter -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "ts, expected",
    [
        ("2017-04-01", Quarter(2017, 1, 4)),
        ("2017-06-30 23:59", Quarter(2017, 1, 4)),
        ("2017-12-31", Quarter(2017, 3, 4)),
        ("2018-01-01", Quarter(2017, 4, 4)),
        ("2018-03-31", Quarter(2017, 4, 4)),
        ("2018-04-01", Quarter(2018, 1, 4)),
        ("2017-03-31", Quarter(2016, 4, 4)),
    ],
)
def test_quarter_of_april_year(ts, expected):
    assert quarter_of(T(ts), 4) == expected


def test_last_closed_quarter_at_boundaries():
    # the day after Q4 ends Q4 is the last closed quarter
    assert last_closed_quarter(T("2018-04-01"), 4) == Quarter(2017, 4, 4)
    # on the last day of Q4 it is still open, so Q3 is the latest closed one
    assert last_closed_quarter(T("2018-03-31"), 4) == Quarter(2017, 3, 4)
    # first day of a fiscal year -> the previous fiscal year's Q4
    assert last_closed_quarter(T("2017-04-01"), 4) == Quarter(2016, 4, 4)
    # calendar year: 2018-01-01 closes 2017 Q4
    assert last_closed_quarter(T("2018-01-01"), 1) == Quarter(2017, 4, 1)
    assert last_closed_quarter(T("2018-01-01"), 1).slug == "2017-Q4"


# -- Period arithmetic ----------------------------------------------------------------------------------------

def test_period_days_weekdays_weeks_months_for_fy2017_q4():
    p = Quarter(2017, 4, 4).period()
    # Jan 31 + Feb 28 + Mar 31 = 90 days
    assert p.days == 90
    # Jan 2018 starts on a Monday: 20 + (29, 30, 31) = 23; Feb: 4 whole weeks = 20;
    # Mar starts on a Thursday: 20 + (29, 30) = 22 -> 65 weekdays
    assert p.weekdays == 65
    assert p.weeks == pytest.approx(90 / 7)
    assert p.months == pytest.approx(3.0)


def test_period_weekdays_fy2017_q1():
    # Apr 2017: 20 (1-2 and 29-30 are weekends); May: 20 + (29, 30, 31) = 23; Jun: 20 + (29, 30) = 22 -> 65
    assert Quarter(2017, 1, 4).period().weekdays == 65


def test_period_fractional_months_and_clipping():
    p = Quarter(2017, 4, 4).period().clipped(T("2018-02-14 15:30"))
    # up to and including 14 Feb: [2018-01-01, 2018-02-15)
    assert (p.start, p.end) == (T("2018-01-01"), T("2018-02-15"))
    assert p.label == "FY2017-18 Q4" and p.kind == "quarter"
    assert p.days == 45  # 31 + 14
    # January whole (1.0) + 14 of 28 February days (0.5)
    assert p.months == pytest.approx(1.5)
    # Jan 23 weekdays + Feb 1-14 (Thu 1, Fri 2, 5-9, 12-14) = 10 -> 33
    assert p.weekdays == 33


def test_period_clipped_edge_cases():
    p = Quarter(2017, 4, 4).period()
    assert p.clipped(None) == p
    # after the end: unchanged end
    assert p.clipped(T("2018-06-01")).end == T("2018-04-01")
    # before the start: empty period, never negative
    early = p.clipped(T("2017-12-01"))
    assert early.end == early.start == T("2018-01-01")
    assert early.days == 0 and early.weekdays == 0 and early.months == 0.0


def test_period_previous():
    q4 = Quarter(2017, 4, 4).period()
    prev = q4.previous()
    assert (prev.start, prev.end, prev.label) == (T("2017-10-01"), T("2018-01-01"), "FY2017-18 Q3")
    feb = Quarter(2017, 4, 4).months()[1]
    jan = feb.previous()
    assert (jan.start, jan.end, jan.kind) == (T("2018-01-01"), T("2018-02-01"), "month")
    # the previous of Q1 is the previous fiscal year's Q4
    assert Quarter(2017, 1, 4).period().previous().label == "FY2016-17 Q4"


def test_period_months_of_arbitrary_span():
    # 15 Jan to 15 Mar 2018: 17/31 of January + February + 14/31 of March
    p = Period(T("2018-01-15"), T("2018-03-15"), "custom", "x")
    assert p.months == pytest.approx(17 / 31 + 1 + 14 / 31)
    assert p.days == 59  # 17 + 28 + 14


# -- dates given on the command line -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2018-03-31", T("2018-03-31")),
    (" 2018-03-31 ", T("2018-03-31")),     # stray spaces around a pasted value
    ("2016-02-29", T("2016-02-29")),       # 2016 is a leap year
    ("2000-02-29", T("2000-02-29")),       # divisible by 400: a leap year
])
def test_parse_date_arg_reads_iso_dates(text, expected):
    assert parse_date_arg(text, "--as-of") == expected


@pytest.mark.parametrize("text, why", [
    ("2018-13-01", " (there is no month 13)"),
    ("2018-00-10", " (there is no month 0)"),
    ("2018-02-30", " (February 2018 has 28 days)"),
    ("1900-02-29", " (February 1900 has 28 days)"),   # divisible by 100, not by 400: not a leap year
    ("2018-04-31", " (April 2018 has 30 days)"),
    ("2018-04-00", " (there is no day 0)"),
    ("0000-01-01", " (there is no year 0)"),
    ("2018-3-1", " (two digits for the month and the day: 2018-03-01)"),
    ("31/03/2018", ""),
    ("2018-03-31T10:00", ""),
    ("March 31", ""),
    ("", ""),
    ("２０１８-03-31", ""),                 # full-width digits are not read as digits
])
def test_parse_date_arg_refuses_anything_else(text, why):
    with pytest.raises(InputError) as err:
        parse_date_arg(text, "--as-of")
    assert [str(p) for p in err.value.problems] == [f"--as-of: value {text!r}: expected a date YYYY-MM-DD{why}"]
