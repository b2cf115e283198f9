"""Chart geometry worked out by hand for small inputs, then the macros through the project's Jinja env, the
SVG read back as XML and the PDF read back with pdftotext.

Layout constants the hand computations use (transforms/charts.py): labels beside the chart leave 1.0 above
the plot and 0.5 under it; labels inside leave 3.0 above, 3.0 under (and 3.0 more under negative columns)
and a 12.0 gutter right of a trend (7.0 right of a score history). Columns are half their slot, at most
9.0 wide; a running total's column covers its month but 1.0 at its start.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from flows.render import chart_palette, jinja_env, pdf_bytes, safe_chart
from transforms.charts import (
    Column,
    HistoryPoint,
    HistoryRequest,
    TrendChart,
    TrendRequest,
    history_chart,
    running_totals,
    trend_chart,
)

MONTHS = ("Jan", "Feb", "Mar")
SVG = "{http://www.w3.org/2000/svg}"


def _trend(values, target, **options):
    """A trend of the first months in a 100 x 40 box, labels beside, unless ``options`` say otherwise."""
    fields = {"cumulative": False, "elapsed": None, "direction": "increase", "width": 100.0, "height": 40.0,
              **options}
    return trend_chart(TrendRequest(MONTHS[: len(values)], tuple(values), target, **fields))


def _boxes(chart) -> list[tuple[float, float, float, float]]:
    return [(c.x, c.y, c.w, c.h) for c in chart.columns]


# --------------------------------------------------------------------------- monthly trend


def test_columns_stand_on_the_zero_line_and_negative_ones_hang_from_it():
    # 100 x 40, labels beside: plot x 0..100, y 1.0..39.5 (38.5 high) for -5..30 (35): 1.1 per unit.
    c = _trend([10, -5, 20], 30)
    assert c.zero_y == 34.0  # 39.5 - 5 * 1.1
    assert c.zero_axis  # the range crosses zero
    # slots of 100/3, columns 9 wide centred at 16.7, 50, 83.3
    assert _boxes(c) == [(12.2, 23.0, 9.0, 11.0), (45.5, 34.0, 9.0, 5.5), (78.8, 12.0, 9.0, 22.0)]
    assert [col.is_negative for col in c.columns] == [False, True, False]
    assert [col.value for col in c.columns] == [10, -5, 20]
    assert c.target.y == 1.0  # 39.5 - 35 * 1.1: the range's top is the target
    assert c.lines == ("16.7,23.0 50.0,39.5 83.3,12.0",)  # through the tops, and the bottom of the negative one
    assert c.pace is None
    assert [col.label_x for col in c.columns] == [None] * 3  # labels go beside, in HTML
    assert [(a.text, a.value, a.rows) for a in c.labels] == [("Jan", 10, ()), ("Feb", -5, ()), ("Mar", 20, ())]


def test_labels_inside_get_their_rows_and_positions():
    # 102 x 44, labels inside: plot x 0..90 (gutter 12), y 3..38 (44 - 3 names - 3 under negatives):
    # 35 high for -5..30, 1 per unit; slots 30, columns 9 wide at 15, 45, 75.
    c = _trend([10, -5, 20], 30, width=102.0, height=44.0, inside_labels=True)
    assert c.zero_y == 33.0
    assert _boxes(c) == [(10.5, 23.0, 9.0, 10.0), (40.5, 33.0, 9.0, 5.0), (70.5, 13.0, 9.0, 20.0)]
    # above a column by 0.7; under a negative one by 2.4 (its text hangs below the baseline)
    assert [(col.label_x, col.label_y) for col in c.columns] == [(15.0, 22.3), (45.0, 40.4), (75.0, 12.3)]
    assert (c.target.y, c.target.label_x, c.target.label_y) == (3.0, 91.0, 3.8)
    assert [[(r.text, r.label_x, r.label_y) for r in a.rows] for a in c.labels] == [
        [("Jan", 15.0, 43.2)], [("Feb", 45.0, 43.2)], [("Mar", 75.0, 43.2)]]
    assert c.name_size == 2.1
    assert [a.current for a in c.labels] == [False, False, True]


def test_a_value_label_on_the_target_line_moves_above_it():
    # 102 x 44 inside, no negatives: y 3..41 for 0..30. 28 -> top 41 - 28 * 38/30 = 5.53, label 4.83,
    # its text 2.93..4.83 would be struck by the target at 3.0: it moves to 3.0 - 0.7.
    c = _trend([28, 10, 10], 30, width=102.0, height=44.0, inside_labels=True)
    assert c.columns[0].label_y == 2.3
    assert c.columns[1].label_y == 27.6  # 41 - 10 * 38/30 - 0.7, clear of the line: left alone


def test_month_colour_says_whether_it_met_the_target_in_its_direction():
    assert [col.status for col in _trend([10, 30, 40], 30).columns] == ["short", "met", "met"]
    assert [col.status for col in _trend([10, 30, 40], 30, direction="at_most").columns] == ["met", "met", "short"]
    assert [col.status for col in _trend([10, 30, 40], None).columns] == ["plain"] * 3


def test_running_totals():
    assert running_totals([10, 20, 30]) == (10, 30, 60)
    assert running_totals([10, None, 30]) == (10, None, 40)  # a month without a value adds nothing


def test_a_cumulative_kr_shows_running_totals_at_each_month_end():
    # 90 x 61.5 beside: y 1..61 for 0..60, 1 per unit. Quarter 0..90, months end at 30, 60, 90.
    c = _trend([10, 20, 30], 60, cumulative=True, width=90.0, height=61.5)
    assert [col.value for col in c.columns] == [10, 30, 60]
    assert _boxes(c) == [(1.0, 51.0, 29.0, 10.0), (31.0, 31.0, 29.0, 30.0), (61.0, 1.0, 29.0, 60.0)]
    # from 0 at the quarter start through each total at its month end
    assert c.lines == ("0.0,61.0 30.0,51.0 60.0,31.0 90.0,1.0",)
    # on pace at a month end: 10 < 60/3, 30 < 60*2/3, 60 = 60
    assert [col.status for col in c.columns] == ["short", "short", "met"]
    assert c.pace is None  # the quarter is over


def test_mid_quarter_a_cumulative_kr_gets_the_pace_line():
    # elapsed 0.5: January is over, February under way (its total is as of mid-quarter, x 45)
    c = _trend([10, 20], 60, cumulative=True, elapsed=0.5, width=90.0, height=61.5)
    assert c.pace == "0.0,61.0 90.0,1.0"  # 0 at the start to the target at the end
    assert _boxes(c) == [(1.0, 51.0, 29.0, 10.0), (31.0, 31.0, 14.0, 30.0)]
    assert c.lines == ("0.0,61.0 30.0,51.0 45.0,31.0",)
    # 30 by mid-quarter is exactly on pace (60 * 0.5): the line meets the pace line there
    assert [col.status for col in c.columns] == ["short", "met"]


def test_mid_quarter_a_rate_has_no_pace_line_its_target_is_its_pace():
    c = _trend([0.2, 0.3], 0.25, elapsed=0.5)
    assert c.pace is None
    assert c.target is not None


def test_months_without_a_value_are_gaps_and_break_the_line():
    # cumulative 10, -, 30 -> totals 10, -, 40 in 90 x 61.5 (y 1..61 for 0..60)
    c = _trend([10, None, 30], 60, cumulative=True, width=90.0, height=61.5)
    assert _boxes(c) == [(1.0, 51.0, 29.0, 10.0), (61.0, 21.0, 29.0, 40.0)]
    assert [(g.x, g.y, g.w, g.h) for g in c.gaps] == [(31.0, 58.6, 29.0, 2.4)]  # 2.4 high on the zero line
    assert c.lines == ("0.0,61.0 30.0,51.0",)  # March alone draws no line
    assert [a.value for a in c.labels] == [10, None, 40]
    # a month alone between gaps draws no line at all
    assert _trend([10, None, 20], None).lines == ()


def test_no_value_at_all_is_no_chart():
    assert _trend([None, None, None], 30) is None
    assert _trend([math.nan, None, math.inf], 30) is None
    assert _trend([], 30) is None


def test_the_range_always_includes_zero_and_the_target():
    # all values far above 0, target below them: still drawn from 0. y 1..39.5 for 0..200
    c = _trend([150, 200, 180], 100)
    assert c.zero_y == 39.5
    assert c.target.y == 20.2  # 39.5 - 100 * 38.5/200 = 20.25, rounded half to even
    assert not c.zero_axis  # nothing below zero: no axis line
    # a target above every value sets the top
    assert _trend([1, 2, 3], 10).target.y == 1.0


# --------------------------------------------------------------------------- history


def _history(points, scores=True):
    """Quarters in the default 70 x 25 box, labels inside."""
    return history_chart(HistoryRequest(tuple(HistoryPoint(*p) for p in points), scores))


def test_history_of_scores_with_a_quarter_without_data():
    # 70 x 25, labels inside: plot x 0..63 (gutter 7), y 3..22 (19 high) for the fixed 0..1
    c = _history([("Q1", 0.5, "yellow"), ("Q2", None, "no_data"), ("Q3", 0.8, "green")])
    # slots of 21, columns 9 wide at 10.5, 31.5, 52.5
    assert _boxes(c) == [(6.0, 12.5, 9.0, 9.5), (48.0, 6.8, 9.0, 15.2)]  # 22 - 0.5 * 19, 22 - 0.8 * 19
    assert [(col.status, col.current) for col in c.columns] == [("yellow", False), ("green", True)]
    assert [(col.label_x, col.label_y) for col in c.columns] == [(10.5, 11.8), (52.5, 6.1)]
    assert [(g.x, g.y, g.w, g.h, g.label_x, g.label_y) for g in c.gaps] == [(27.0, 19.6, 9.0, 2.4, 31.5, 18.9)]
    assert [(t.value, t.y, t.label_x, t.label_y) for t in c.ticks] == [(0.0, 22.0, 64.0, 22.8), (1.0, 3.0, 64.0, 3.8)]
    assert [(a.text, [(r.label_x, r.label_y) for r in a.rows], a.current) for a in c.labels] == [
        ("Q1", [(10.5, 24.2)], False), ("Q2", [(31.5, 24.2)], False), ("Q3", [(52.5, 24.2)], True)]


def test_long_quarter_names_go_on_two_lines_as_large_as_fit():
    # 6 quarters in 63 (70 - gutter 7): slots of 10.5, 92 % of it usable: 9.66. "FY2016-17 Q3" (12 characters
    # at 0.62 em) would need 1.30 on one line; its longest line "FY2016-17" (9) allows 9.66 / 5.58 = 1.73.
    names = [f"FY{y} Q{q}" for y, q in [("2016-17", 3), ("2016-17", 4), ("2017-18", 1), ("2017-18", 2),
                                        ("2017-18", 3), ("2017-18", 4)]]
    c = _history([(n, 0.5, "green") for n in names])
    assert c.name_size == 1.7
    # the last line's baseline 0.8 above the bottom, the one above it 1.7 * 1.15 higher
    assert [(r.text, r.label_x, r.label_y) for r in c.labels[0].rows] == [("FY2016-17", 5.2, 22.2),
                                                                          ("Q3", 5.2, 24.2)]
    assert c.zero_y == 20.0  # the names take 3.0 + 1.955 under the plot: 25 - 4.955
    # without a space to split at, one line made smaller, but not below 1.4
    assert _history([(n.replace(" ", "-"), 0.5, "green") for n in names]).name_size == 1.4


def test_score_scale_is_fixed_from_0_to_1():
    c = _history([("Q1", 0.2, "red"), ("Q2", 0.4, "red"), ("Q3", 1.3, "green")])
    assert [col.h for col in c.columns] == [3.8, 7.6, 19.0]  # 0.2 * 19, 0.4 * 19; above 1 stops at the top
    assert c.columns[2].value == 1.3  # the label still says what it is


def test_history_of_kr_actuals_scales_to_the_data_from_zero():
    # not scores: no gutter, y 3..19 (25 - 3 names - 3 under negatives) for -10..30: 0.4 per unit
    c = _history([("Q1", -10, "red"), ("Q2", 30, "green")], scores=False)
    assert c.zero_y == 15.0 and c.zero_axis
    # slots of 35, columns 9 wide at 17.5, 52.5
    assert _boxes(c) == [(13.0, 15.0, 9.0, 4.0), (48.0, 3.0, 9.0, 12.0)]
    assert c.columns[0].label_y == 21.4  # under the negative column
    assert c.ticks == ()


def test_history_without_any_value_is_no_chart():
    assert _history([("Q1", None, "no_data")]) is None
    assert _history([]) is None


def test_an_unknown_status_is_no_data():
    assert _history([("Q1", 0.5, "purple")]).columns[0].status == "no_data"


# --------------------------------------------------------------------------- what may reach an attribute


def test_records_refuse_coordinates_outside_the_box_and_non_numbers():
    good = _trend([10, -5, 20], 30)
    fields = {f: getattr(good, f) for f in good.__dataclass_fields__}
    bad_column = Column(x=99.5, y=1.0, w=9.0, h=2.0, value=1.0, label_x=None, label_y=None, is_negative=False,
                        status="met")
    for change in ({"zero_y": 40.5}, {"zero_y": math.nan}, {"plot_x1": 101.0}, {"columns": (bad_column,)},
                   {"lines": ("1.0,2.0 javascript:x",)}, {"lines": ("1.0,2.0 150.0,3.0",)},
                   {"pace": "1,2 3,4"}, {"direction": "sideways"}):
        with pytest.raises(ValueError):
            TrendChart(**{**fields, **change})
    assert bad_column.x + bad_column.w > 100  # (what made it bad)
    with pytest.raises(ValueError):
        Column(x=1.0, y=1.0, w=1.0, h=1.0, value=1.0, label_x=None, label_y=None, is_negative=False,
               status='red" onload="x')
    with pytest.raises(ValueError):
        TrendRequest(MONTHS, (1.0, 2.0), None, False, None, "increase")  # 3 labels, 2 values


def test_only_charts_built_by_the_geometry_pass():
    chart = _trend([10, -5, 20], 30)
    assert safe_chart(chart) is chart
    assert safe_chart({"width": 100, "columns": []}) is None
    assert safe_chart(None) is None


def test_palette_has_every_colour_as_hex():
    palette = chart_palette()
    for name in ("met", "short", "plain", "green", "yellow", "red", "no_data", "line", "target", "pace"):
        assert palette[name].startswith("#") and len(palette[name]) in (4, 7)


# --------------------------------------------------------------------------- rendered


def _render(source: str, locale: str = "en", **charts) -> str:
    return jinja_env(locale).from_string(source).render(**charts)


def _svg(markup: str) -> ET.Element:
    return ET.fromstring(f"<root>{markup}</root>").find(f"{SVG}svg")


def test_trend_macro_draws_the_geometry_and_writes_the_values_beside():
    chart = _trend([10, -5, 20], 30)
    out = _render('{% from "charts.html" import trend_chart %}{{ trend_chart(c, "count", "CNY") }}', c=chart)
    svg = _svg(out)
    assert svg.get("viewBox") == "0 0 100.0 40.0" and svg.get("role") == "img" and svg.get("aria-label")
    assert svg.find(f"{SVG}title").text == "Monthly trend"
    rects = svg.findall(f"{SVG}rect")
    assert [(r.get("class"), r.get("x"), r.get("y"), r.get("width"), r.get("height")) for r in rects] == [
        ("col short", "12.2", "23.0", "9.0", "11.0"), ("col short", "45.5", "34.0", "9.0", "5.5"),
        ("col short", "78.8", "12.0", "9.0", "22.0")]
    assert {r.get("fill") for r in rects} == {chart_palette()["short"]}
    polylines = svg.findall(f"{SVG}polyline")
    assert [p.get("points") for p in polylines] == ["16.7,23.0 50.0,39.5 83.3,12.0"]
    lines = {ln.get("class"): ln.get("y1") for ln in svg.findall(f"{SVG}line")}
    assert lines == {"axis": "34.0", "target": "1.0"}
    assert svg.findall(f"{SVG}text") == []  # labels beside, in HTML
    assert "Jan 10 · Feb -5 · Mar 20 · Target ↑30" in out


def test_trend_macro_with_labels_inside_and_a_pace_line():
    chart = _trend([10, 20], 60, cumulative=True, elapsed=0.5, width=90.0, height=61.5, inside_labels=True)
    svg = _svg(_render('{% from "charts.html" import trend_chart %}{{ trend_chart(c, "count", "CNY") }}', c=chart))
    assert [p.get("class") for p in svg.findall(f"{SVG}polyline")] == ["pace", "line"]
    texts = [(t.get("class"), t.text) for t in svg.findall(f"{SVG}text")]
    assert texts == [("v", "10"), ("v", "30"), ("name", "Jan"), ("name", "Feb"), ("tv", "↑60")]


def test_history_macro_marks_the_current_quarter_and_the_empty_one():
    chart = _history([("Q1", 0.5, "yellow"), ("Q2", None, "no_data"), ("Q3", 0.8, "green")])
    svg = _svg(_render('{% from "charts.html" import history_chart %}{{ history_chart(c, "count", "CNY") }}', c=chart))
    rects = [(r.get("class"), r.get("x"), r.get("y")) for r in svg.findall(f"{SVG}rect")]
    assert rects == [("col yellow", "6.0", "12.5"), ("col green current", "48.0", "6.8"), ("gap", "27.0", "19.6")]
    assert svg.findall(f"{SVG}rect")[2].get("fill") == "none"  # hollow
    texts = [t.text for t in svg.findall(f"{SVG}text")]
    assert texts == ["0.50", "0.80", "no data", "Q1", "Q2", "Q3", "0.00", "1.00"]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_charts_reach_the_pdf_with_their_labels(tmp_path, locale):
    months = ("7月", "8月", "9月") if locale == "zh-CN" else MONTHS
    trend = trend_chart(TrendRequest(months, (1710.0, None, 1915.0), 2000.0, False, None, "at_least"))
    inside = trend_chart(TrendRequest(months, (410.0, 520.0, 610.0), 1800.0, True, 0.9, "increase",
                                      height=20.0, inside_labels=True))
    history = _history([("2024 Q4", 0.42, "red"), ("2025 Q1", None, "no_data"), ("2025 Q2", 0.81, "green")])
    page = ('{% from "charts.html" import trend_chart, history_chart %}<html><head><style>{{ css }}</style></head>'
            '<body>{{ trend_chart(t, "count", "CNY") }}{{ trend_chart(i, "count", "CNY") }}'
            '{{ history_chart(h, "count", "CNY") }}</body></html>')
    pdf = tmp_path / "charts.pdf"
    pdf.write_bytes(pdf_bytes(_render(page, locale, t=trend, i=inside, h=history)))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    no_data = "无数据" if locale == "zh-CN" else "no data"
    for word in ("1,710", "1,915", "≥2,000", "410", "930", "1,540", "↑1,800", "0.42", "0.81", "1.00", "2025 Q2",
                 no_data, months[1]):
        assert word in text, word
