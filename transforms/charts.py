"""Geometry of the two small inline charts of a scorecard: a KR's monthly trend and an owner's history.

Every coordinate is computed here in viewBox units and rounded to 0.1, so a template only draws. A chart
is drawn at its box size in millimetres (1 unit = 1 mm). The output records check in their constructors
that every coordinate is a finite number inside the box and every class name comes from a fixed set, so
nothing else can reach an SVG attribute.

Labels go inside the SVG (``inside_labels``: rows are kept free for them and every label has a position)
or beside it in HTML (the plot fills the box and label positions are None). WeasyPrint lays SVG text out
letter by letter, which makes it the costly part of a chart: the trend charts, a dozen per card, put
their labels beside by default; the history chart, one per card, inside.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace

STATUSES = ("red", "yellow", "green", "no_data")
TONES = ("met", "short", "plain")
"""A trend column's class: on target (on pace, when cumulative) in its month, short of it, no target."""
DIRECTIONS = ("increase", "decrease", "at_least", "at_most")
LOWER_IS_BETTER = ("decrease", "at_most")
MONTHS_PER_QUARTER = 3

# Layout in viewBox units (mm when drawn at the box size). Label fonts are 2.3 units (6.5 pt).
EDGE = 1.0  # without labels inside: room above the plot (line widths, the target at the top)
EDGE_BOTTOM = 0.5
LABEL_ROW = 3.0  # with labels inside: room for the value labels above the columns (and under negative ones)
AXIS_ROW = 3.0  # with labels inside: room for the month or quarter names under the plot
TARGET_GUTTER = 12.0  # with labels inside: room right of a trend's plot for the target's value
TICK_GUTTER = 7.0  # with labels inside: room right of a score history's plot for "1.00"
COLUMN_SHARE = 0.5  # a centred column's width as a share of its slot
MAX_COLUMN = 9.0
SPAN_GAP = 1.0  # a cumulative column covers its month but this much at its start
MIN_SPAN = 0.6  # the narrowest column (a month under way that has only just begun)
GAP_BOX = 2.4  # height of the hollow marker of a month or quarter without a value
ABOVE = 0.7  # a label's baseline this far above what it labels
BELOW = 2.4  # a label's baseline this far below what it labels (its text hangs under the point)
BESIDE = 0.8  # a label right of a horizontal line: baseline this far below it, text centred on it
TEXT_H = 1.9  # height of a label's digits above their baseline
NAME_BASELINE = 0.8  # month and quarter names: the last line's baseline this far above the bottom edge
NAME_SIZE = 2.1  # font size of month and quarter names ...
MIN_NAME_SIZE = 1.4  # ... made smaller, not below this, when they do not fit their slots
LINE_STEP = 1.15  # a name on two lines: baseline to baseline, in font sizes
EM_NARROW, EM_WIDE = 0.62, 1.0  # estimated width of a Latin letter or digit, of a CJK character, in font sizes
MIN_WIDTH, MIN_HEIGHT = 30.0, 10.0

_X_FIELDS = frozenset({"x", "w", "label_x", "plot_x0", "plot_x1"})
_Y_FIELDS = frozenset({"y", "h", "label_y", "zero_y", "name_size"})
_OPTIONAL = frozenset({"label_x", "label_y"})  # None: the label goes beside the chart
_POINTS = re.compile(r"^-?\d+\.\d,-?\d+\.\d( -?\d+\.\d,-?\d+\.\d)*$")


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class TrendRequest:
    """One KR's months as the scorecard knows them (labels already localized, values as computed)."""

    labels: tuple[str, ...]
    values: tuple[float | None, ...]
    target: float | None
    cumulative: bool
    elapsed: float | None
    direction: str
    width: float = 60.0
    height: float = 14.0
    inside_labels: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(str(label) for label in self.labels))
        object.__setattr__(self, "values", tuple(_finite(v) for v in self.values))
        object.__setattr__(self, "target", _finite(self.target))
        object.__setattr__(self, "elapsed", _share(self.elapsed))
        if len(self.labels) != len(self.values):
            raise ValueError(f"{len(self.labels)} month labels for {len(self.values)} values")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {self.direction!r}")
        _check_size(self.width, self.height, self.inside_labels)


@dataclass(frozen=True)
class HistoryPoint:
    """One quarter of an owner's (or a KR's) history: its label, value (None: no data) and status."""

    label: str
    value: float | None
    status: str


@dataclass(frozen=True)
class HistoryRequest:
    """Quarters oldest first, the current one last; ``scores`` fixes the scale to 0-1."""

    points: tuple[HistoryPoint, ...]
    scores: bool
    width: float = 70.0
    height: float = 25.0
    inside_labels: bool = True

    def __post_init__(self) -> None:
        points = tuple(
            HistoryPoint(str(p.label), _finite(p.value), p.status if p.status in STATUSES else "no_data")
            for p in self.points
        )
        object.__setattr__(self, "points", points)
        _check_size(self.width, self.height, self.inside_labels)


# --------------------------------------------------------------------------- output records


@dataclass(frozen=True)
class Column:
    """A column from the zero line; its value is raw (the template formats it for the unit)."""

    x: float
    y: float
    w: float
    h: float
    value: float
    label_x: float | None
    label_y: float | None
    is_negative: bool
    status: str
    current: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES + TONES:
            raise ValueError(f"column status {self.status!r} is not a chart class")


@dataclass(frozen=True)
class TextRow:
    """One line of text to draw at a position (a name too long for its slot takes two)."""

    text: str
    label_x: float
    label_y: float


@dataclass(frozen=True)
class AxisLabel:
    """A month or quarter name with the value it stands for (None: no data) and, when the labels go
    inside, the line or two to draw under its column (none when they go beside)."""

    text: str
    value: float | None
    current: bool
    rows: tuple[TextRow, ...]


@dataclass(frozen=True)
class Gap:
    """A month or quarter without a value: a hollow marker box and where its "no data" label goes."""

    x: float
    y: float
    w: float
    h: float
    label_x: float | None
    label_y: float | None


@dataclass(frozen=True)
class Reference:
    """A horizontal reference (the target, a scale tick): its line's y and its value's label position."""

    y: float
    value: float
    label_x: float | None
    label_y: float | None


@dataclass(frozen=True)
class TrendChart:
    """A KR's months: columns (running totals when cumulative), the line through them, target and pace."""

    width: float
    height: float
    plot_x0: float
    plot_x1: float
    zero_y: float
    zero_axis: bool
    columns: tuple[Column, ...]
    lines: tuple[str, ...]
    target: Reference | None
    pace: str | None
    labels: tuple[AxisLabel, ...]
    name_size: float
    gaps: tuple[Gap, ...]
    direction: str
    cumulative: bool
    inside_labels: bool

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {self.direction!r}")
        _check_chart(self, [*self.lines, *([self.pace] if self.pace is not None else [])])


@dataclass(frozen=True)
class HistoryChart:
    """Quarters side by side: columns coloured by status, the current one last and highlighted."""

    width: float
    height: float
    plot_x0: float
    plot_x1: float
    zero_y: float
    zero_axis: bool
    columns: tuple[Column, ...]
    labels: tuple[AxisLabel, ...]
    name_size: float
    gaps: tuple[Gap, ...]
    ticks: tuple[Reference, ...]
    scores: bool
    inside_labels: bool

    def __post_init__(self) -> None:
        _check_chart(self, [])


# --------------------------------------------------------------------------- checks


def _finite(value: object) -> float | None:
    """A number as a float; None, NaN, infinities and non-numbers become None (no data)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _share(value: object) -> float | None:
    """A share of the quarter, kept within 0-1 (a late or early run day must not push a line out)."""
    number = _finite(value)
    return None if number is None else min(1.0, max(0.0, number))


def _check_size(width: float, height: float, inside_labels: bool) -> None:
    """A box too small for a plot (and its label rows) would give columns of no height or negative ones."""
    least = MIN_HEIGHT + (LABEL_ROW * 2 + AXIS_ROW if inside_labels else 0.0)
    if not (_finite(width) and _finite(height) and width >= MIN_WIDTH and height >= least):
        raise ValueError(f"a chart needs at least {MIN_WIDTH} x {least} units, not {width} x {height}")


def _check_chart(chart: TrendChart | HistoryChart, polylines: Sequence[str]) -> None:
    """Every coordinate finite and inside the viewBox; polylines numbers only, inside it too."""
    _check_size(chart.width, chart.height, False)
    for record in _records(chart):
        for f in fields(record):
            value = getattr(record, f.name)
            limit = chart.width if f.name in _X_FIELDS else chart.height if f.name in _Y_FIELDS else None
            if limit is None or (value is None and f.name in _OPTIONAL):
                continue
            if not (_finite(value) is not None and 0.0 <= value <= limit):
                raise ValueError(f"{type(record).__name__}.{f.name}={value!r} outside 0-{limit}")
        _check_extent(record, chart.width, chart.height)
    for points in polylines:
        if not _POINTS.match(points):
            raise ValueError(f"polyline points must be numbers only: {points[:40]!r}")
        for pair in points.split(" "):
            x, y = (float(n) for n in pair.split(","))
            if not (0.0 <= x <= chart.width and 0.0 <= y <= chart.height):
                raise ValueError(f"polyline point {pair} outside the viewBox")


def _check_extent(record: object, width: float, height: float) -> None:
    """A box ends inside the viewBox too (give or take the 0.1 of rounding its start and size)."""
    x, w, y, h = (getattr(record, name, None) for name in ("x", "w", "y", "h"))
    if None not in (x, w, y, h) and (x + w > width + 0.1 or y + h > height + 0.1):  # type: ignore[operator]
        raise ValueError(f"{type(record).__name__} at {x},{y} size {w}x{h} leaves the {width}x{height} box")


def _records(record: object) -> Iterable[object]:
    """The chart and every record inside it, however deep."""
    yield record
    for f in fields(record):  # type: ignore[arg-type]
        value = getattr(record, f.name)
        for item in value if isinstance(value, tuple) else (value,):
            if is_dataclass(item):
                yield from _records(item)


# --------------------------------------------------------------------------- shared geometry


def _r(value: float) -> float:
    """Rounded to 0.1 (and never -0.0, which would print as "-0.0")."""
    return round(value, 1) + 0.0


def _at(value: float | None) -> float | None:
    """A label coordinate, rounded; None stays None (the label goes beside the chart)."""
    return None if value is None else _r(value)


@dataclass(frozen=True)
class _Plot:
    """The plot rectangle, the value range it shows (always including 0), and whether labels go inside."""

    left: float
    right: float
    top: float
    bottom: float
    lo: float
    hi: float
    inside: bool

    def y(self, value: float) -> float:
        clipped = min(self.hi, max(self.lo, value))
        return self.bottom - (clipped - self.lo) / (self.hi - self.lo) * (self.bottom - self.top)


def _range(values: Iterable[float]) -> tuple[float, float]:
    """lo..hi spanning 0 and every value; a flat range (all zero) gets a height of 1 to divide by."""
    numbers = [0.0, *values]
    lo, hi = min(numbers), max(numbers)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _plot(size: tuple[float, float], gutter: float, lo_hi: tuple[float, float], negatives: bool,
          names: _Names | None) -> _Plot:
    """With labels inside (``names``): rows for the value labels on top (and under negative columns), the
    names at the bottom and a gutter on the right. Without: the plot fills the box but for thin edges."""
    width, height = size
    if names is None:
        return _Plot(0.0, width, EDGE, height - EDGE_BOTTOM, lo_hi[0], lo_hi[1], False)
    bottom = height - names.row_height - (LABEL_ROW if negatives else 0.0)
    return _Plot(0.0, width - gutter, LABEL_ROW, bottom, lo_hi[0], lo_hi[1], True)


def _column(plot: _Plot, left: float, right: float, value: float, status: str) -> Column:
    """A column from the zero line to the value, its label above it (below it when negative)."""
    zero, end = plot.y(0.0), plot.y(value)
    top, bottom = min(zero, end), max(zero, end)
    negative = value < 0
    label_y = bottom + BELOW if negative else top - ABOVE
    return Column(
        x=_r(left), y=_r(top), w=_r(right - left), h=_r(bottom - top), value=value,
        label_x=_at((left + right) / 2 if plot.inside else None), label_y=_at(label_y if plot.inside else None),
        is_negative=negative, status=status,
    )


def _clear_of(column: Column, line_y: float) -> Column:
    """A value label that would sit on a horizontal line (the target, the top tick) moves past it, away
    from its column, so the line never strikes through the number."""
    if column.label_y is None or not (column.label_y - TEXT_H - 0.2 <= line_y <= column.label_y + 0.3):
        return column
    label_y = line_y + BELOW if column.is_negative else line_y - ABOVE
    return replace(column, label_y=_r(label_y))


def _gap(plot: _Plot, left: float, right: float) -> Gap:
    """A hollow box standing on the zero line (hanging from it when there is no room above)."""
    zero = plot.y(0.0)
    height = min(GAP_BOX, plot.bottom - plot.top)
    y = zero - height if zero - height >= plot.top else zero
    label_y = y - ABOVE if y >= LABEL_ROW else y + height + BELOW
    return Gap(
        x=_r(left), y=_r(y), w=_r(right - left), h=_r(height),
        label_x=_at((left + right) / 2 if plot.inside else None), label_y=_at(label_y if plot.inside else None),
    )


def _reference(plot: _Plot, value: float, height: float) -> Reference:
    """A horizontal line at ``value`` and its label just right of the plot, centred on the line."""
    y = plot.y(value)
    if not plot.inside:
        return Reference(y=_r(y), value=value, label_x=None, label_y=None)
    return Reference(y=_r(y), value=value, label_x=_r(plot.right + 1.0), label_y=_r(min(height, y + BESIDE)))


@dataclass(frozen=True)
class _Names:
    """How the names under the columns are set: their font size, and on one line or two."""

    size: float
    two_lines: bool

    @property
    def row_height(self) -> float:
        return AXIS_ROW + (self.size * LINE_STEP if self.two_lines else 0.0)


def _text_width(text: str) -> float:
    """A generous estimate of a text's width, in font sizes (no font metrics here)."""
    return sum(EM_WIDE if ord(ch) >= 0x2E80 else EM_NARROW for ch in text)


def _lines(text: str, two: bool) -> tuple[str, ...]:
    """A name on one line, or split at its last space (a fiscal year over its quarter)."""
    head, _, tail = text.rpartition(" ")
    return (head, tail) if two and head else (text,)


def _fit_names(texts: Sequence[str], slot: float) -> _Names:
    """Names as large as fit their slots, up to the usual size: on one line, or split at their last space
    when two lines allow a larger size (a quarter like "FY2017-18 Q4"); never below the smallest size."""
    room = slot * 0.92
    one = room / max([_text_width(t) for t in texts] + [1e-9])
    two = room / max([_text_width(line) for t in texts for line in _lines(t, True)] + [1e-9])
    if one >= NAME_SIZE or one >= two:
        return _Names(_r(max(MIN_NAME_SIZE, min(NAME_SIZE, one))), False)
    return _Names(_r(max(MIN_NAME_SIZE, min(NAME_SIZE, two))), True)


def _names(names: _Names | None, texts: Sequence[str], values: Sequence[float | None], centres: Sequence[float],
           height: float) -> tuple[AxisLabel, ...]:
    """Month (or quarter) names under the plot, with their values; the last one is the current period."""
    last = len(texts) - 1
    labels = []
    for i, (text, value, centre) in enumerate(zip(texts, values, centres)):
        rows: tuple[TextRow, ...] = ()
        if names is not None:
            lines = _lines(text, names.two_lines)
            step = names.size * LINE_STEP
            bottom = height - NAME_BASELINE
            rows = tuple(TextRow(line, _r(centre), _r(bottom - (len(lines) - 1 - k) * step))
                         for k, line in enumerate(lines))
        labels.append(AxisLabel(text=text, value=value, current=i == last, rows=rows))
    return tuple(labels)


def _polylines(points: Sequence[tuple[float, float] | None]) -> tuple[str, ...]:
    """Runs of consecutive points as polyline strings; None breaks the line, lone points draw nothing."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return tuple(" ".join(f"{_r(x):.1f},{_r(y):.1f}" for x, y in run) for run in runs if len(run) >= 2)


def _met(value: float, goal: float, direction: str) -> str:
    """Whether a month reached its goal, the way its KR counts: at most the goal when lower is better."""
    lower = direction in LOWER_IS_BETTER
    return "met" if (value <= goal if lower else value >= goal) else "short"


# --------------------------------------------------------------------------- monthly trend


@dataclass(frozen=True)
class _Span:
    """A month's column edges, the x where the line meets its value, and when that value holds (0-1)."""

    left: float
    right: float
    vertex: float
    t: float

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


def running_totals(values: Sequence[float | None]) -> tuple[float | None, ...]:
    """The total at each month end; a month without a value adds nothing and stays a gap."""
    total, out = 0.0, []
    for value in values:
        if value is not None:
            total += value
        out.append(None if value is None else total)
    return tuple(out)


def _month_spans(req: TrendRequest, plot: _Plot, slots: int) -> list[_Span]:
    """Where each month's column goes on the quarter's time axis (plot.left at its start, plot.right at
    its end). A cumulative total is the total at its month's end (at the run's day for the month under
    way): its column covers the month up to then and the line meets its top right corner, exactly where
    the pace line has the total expected by then. Any other value is the month's own: a column centred
    in the month and the line through its top."""
    width = plot.right - plot.left
    slot = width / slots
    col = min(MAX_COLUMN, slot * COLUMN_SHARE)
    spans = []
    for i in range(len(req.values)):
        start = plot.left + i * slot
        if not req.cumulative:
            centre = start + slot / 2
            spans.append(_Span(centre - col / 2, centre + col / 2, centre, (i + 0.5) / slots))
            continue
        t = (i + 1) / slots
        if req.elapsed is not None and i / slots < req.elapsed < t:
            t = req.elapsed
        end = plot.left + t * width
        spans.append(_Span(min(start + SPAN_GAP, end - MIN_SPAN), end, end, t))
    return spans


def trend_chart(req: TrendRequest) -> TrendChart | None:
    """The monthly trend of one KR, or None when no month has a value (the card then says so in words)."""
    series = running_totals(req.values) if req.cumulative else req.values
    known = [v for v in series if v is not None]
    if not known:
        return None
    lo_hi = _range([*known, *([req.target] if req.target is not None else [])])
    slots = max(MONTHS_PER_QUARTER, len(series))
    names = _fit_names(req.labels, (req.width - TARGET_GUTTER) / slots) if req.inside_labels else None
    plot = _plot((req.width, req.height), TARGET_GUTTER, lo_hi, any(v < 0 for v in known), names)
    spans = _month_spans(req, plot, slots)
    columns, gaps, points = [], [], []
    for value, span in zip(series, spans):
        if value is None:
            gaps.append(_gap(plot, span.left, span.right))
            points.append(None)
            continue
        goal = None if req.target is None else req.target * (span.t if req.cumulative else 1.0)
        column = _column(plot, span.left, span.right, value, "plain" if goal is None else _met(value, goal,
                                                                                                req.direction))
        columns.append(column if req.target is None else _clear_of(column, plot.y(req.target)))
        points.append((span.vertex, plot.y(value)))
    if req.cumulative and series[0] is not None:
        points.insert(0, (plot.left, plot.y(0.0)))  # a running total starts the quarter at 0
    return TrendChart(
        width=req.width, height=req.height, plot_x0=plot.left, plot_x1=plot.right, zero_y=_r(plot.y(0.0)),
        zero_axis=plot.lo < 0 < plot.hi, columns=tuple(columns), lines=_polylines(points),
        target=None if req.target is None else _reference(plot, req.target, req.height),
        pace=_pace(req, plot), labels=_names(names, req.labels, series, [s.centre for s in spans], req.height),
        name_size=names.size if names else NAME_SIZE, gaps=tuple(gaps), direction=req.direction,
        cumulative=req.cumulative, inside_labels=req.inside_labels,
    )


def _pace(req: TrendRequest, plot: _Plot) -> str | None:
    """Mid-quarter, a cumulative KR is on pace on the line from 0 at the start to the target at the end.
    (Any other KR's pace is its target itself: no extra line.)"""
    if not req.cumulative or req.elapsed is None or req.target is None:
        return None
    return _polylines([(plot.left, plot.y(0.0)), (plot.right, plot.y(req.target))])[0]


# --------------------------------------------------------------------------- history


def history_chart(req: HistoryRequest) -> HistoryChart | None:
    """Quarters side by side, or None when no quarter has a value (the card then says so in words)."""
    values = [p.value for p in req.points]
    known = [v for v in values if v is not None]
    if not known:
        return None
    lo_hi = (0.0, 1.0) if req.scores else _range(known)
    negatives = not req.scores and any(v < 0 for v in known)
    gutter = TICK_GUTTER if req.scores else 0.0
    texts = [p.label for p in req.points]
    names = _fit_names(texts, (req.width - gutter) / len(texts)) if req.inside_labels else None
    plot = _plot((req.width, req.height), gutter, lo_hi, negatives, names)
    slot = (plot.right - plot.left) / len(req.points)
    col = min(MAX_COLUMN, slot * COLUMN_SHARE)
    centres = [plot.left + (i + 0.5) * slot for i in range(len(req.points))]
    columns, gaps = [], []
    for i, (point, centre) in enumerate(zip(req.points, centres)):
        if point.value is None:
            gaps.append(_gap(plot, centre - col / 2, centre + col / 2))
            continue
        column = _column(plot, centre - col / 2, centre + col / 2, point.value, point.status)
        column = _clear_of(column, plot.y(1.0)) if req.scores else column
        columns.append(replace(column, current=i == len(req.points) - 1))
    ticks = tuple(_reference(plot, v, req.height) for v in (0.0, 1.0)) if req.scores else ()
    return HistoryChart(
        width=req.width, height=req.height, plot_x0=plot.left, plot_x1=plot.right, zero_y=_r(plot.y(0.0)),
        zero_axis=plot.lo < 0 < plot.hi, columns=tuple(columns),
        labels=_names(names, texts, values, centres, req.height), name_size=names.size if names else NAME_SIZE,
        gaps=tuple(gaps),
        ticks=ticks, scores=req.scores, inside_labels=req.inside_labels,
    )
