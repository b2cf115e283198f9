"""What the inline SVG charts cost in WeasyPrint, against today's mini-bars.

    python benchmarks/charts.py [--n 20]
    python benchmarks/charts.py --only charts --n 1    # one form, e.g. under valgrind (below)

Renders a card-like page (the scorecard's CSS, one objective with 12 KR rows laid out as on a card) to
PDF N times in one process, in three forms: each KR's detail row with today's three mini-bars (their
markup copied from scorecard.html); the same with a trend chart per KR instead (labels in one line of
HTML under it, as shipped) plus one history chart; and the charts with their labels inside the SVG. The
forms alternate within each round, and each round's times are also taken as ratios to that round's
bars page, so that drift on a shared machine hits all forms alike. Prints CPU seconds per page (median)
and the median ratio.

Timings on a busy machine wander; instruction counts do not. For those, run one form at a time under
``valgrind --tool=cachegrind --cache-sim=no`` with ``--n 0`` and ``--n 1`` and take the difference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.render import jinja_env, pdf_bytes  # noqa: E402
from transforms.charts import (  # noqa: E402
    HistoryPoint,
    HistoryRequest,
    TrendRequest,
    history_chart,
    trend_chart,
)

MONTHS = ("Jan", "Feb", "Mar")
# (values, target, cumulative, unit): counts, sums, rates, a negative month, a missing month
SERIES = [
    ((410.0, 520.0, 610.0), 1800.0, True, "count"),
    ((1710.0, 1835.0, 1915.0), 2000.0, False, "count"),
    ((0.31, 0.28, 0.35), 0.3, False, "percent"),
    ((120000.0, 95000.0, 143000.0), 400000.0, True, "currency"),
    ((12.0, -4.0, 9.0), 20.0, False, "number"),
    ((3.5, 2.9, None), 3.0, False, "days"),
    ((55.0, 61.0, 58.0), 180.0, True, "count"),
    ((0.92, 0.95, 0.97), 0.95, False, "percent"),
    ((8.0, None, 11.0), 30.0, True, "count"),
    ((1.4, 1.6, 1.5), 1.5, False, "ratio"),
    ((300.0, 340.0, 390.0), 1000.0, True, "count"),
    ((48.0, 44.0, 41.0), 40.0, False, "hours"),
]

# Today's mini-bars, copied from the KR detail row of scorecard.html.
MINI_BARS = (
    '{% for t in kr.trend %}<span class="tm"><span class="tl">{{ t.label }}</span><span class="tbar">'
    '<span class="fill" style="width: {{ t.bar_pct|pct }}%"></span></span>'
    '<span class="tv">{{ t.value|num(kr.unit, currency) }}</span></span>{% endfor %}'
)
PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>{{ css }}</style></head><body>\n'
    '{% from "charts.html" import trend_chart, history_chart %}{% set currency = "CNY" %}\n'
    "<h2>Objectives and key results</h2>\n"
    '{% if history %}{{ history_chart(history, "count", currency) }}{% endif %}\n'
    '<div class="objective"><table class="krs">\n'
    '<colgroup><col class="c-kr"><col class="c-src"><col class="c-val"><col class="c-val"><col class="c-val">'
    '<col class="c-att"><col class="c-krscore"><col class="c-krstatus"></colgroup>\n'
    '<thead><tr><th>Key result</th><th>Source</th><th class="num">Baseline</th><th class="num">Target</th>'
    '<th class="num">Actual</th><th class="num">Attainment</th><th>Score</th><th>Status</th></tr></thead>\n'
    "{% for kr in krs %}<tbody>\n"
    '<tr class="main"><td class="krtitle">Key result number {{ loop.index }} with a title of usual length</td>'
    '<td><span class="src src-computed">Computed</span></td><td class="num">{{ 0|num(kr.unit) }}</td>'
    '<td class="num"><span class="dir">↑</span>{{ kr.target|num(kr.unit) }}</td>'
    '<td class="num"><b>{{ kr.actual|num(kr.unit) }}</b></td><td class="num">{{ 0.8|num("percent") }}</td>'
    '<td><span class="krscore">0.80</span><div class="bar"><div class="fill status-green" style="width: 80%">'
    '</div></div><div class="krweight">weight 8.3%</div></td>'
    '<td><span class="chip status-green">On track</span></td></tr>\n'
    '<tr class="detail"><td colspan="4"><span class="lbl">Monthly trend</span>\n'
    "{% if kr.chart %}{{ trend_chart(kr.chart, kr.unit, currency) }}{% else %}" + MINI_BARS + "{% endif %}\n"
    '</td><td colspan="4"><span class="lbl">Source data</span> leads · status = MQL · 5,460 rows</td></tr>\n'
    "</tbody>{% endfor %}\n"
    "</table></div></body></html>"
)


def _bars(values: tuple[float | None, ...], target: float) -> list[dict]:
    """Today's mini-bars: width grows with |value| against the largest of the values and the target."""
    scale = max([abs(v) for v in values if v is not None] + [abs(target)])
    return [{"label": m, "value": v, "bar_pct": 0 if v is None else round(abs(v) / scale * 100)}
            for m, v in zip(MONTHS, values)]


def _krs(form: str) -> list[dict]:
    krs = []
    for values, target, cumulative, unit in SERIES:
        chart = None
        if form != "bars":
            inside = form == "inside"
            request = TrendRequest(MONTHS, values, target, cumulative, None, "increase",
                                   height=20.0 if inside else 14.0, inside_labels=inside)
            chart = trend_chart(request)
        actual = sum(v for v in values if v is not None) if cumulative else values[-1]
        krs.append({"unit": unit, "target": target, "actual": actual, "trend": _bars(values, target),
                    "chart": chart})
    return krs


def _history() -> object:
    points = [("2024 Q3", 0.42, "red"), ("2024 Q4", None, "no_data"), ("2025 Q1", 0.66, "yellow"),
              ("2025 Q2", 0.81, "green")]
    return history_chart(HistoryRequest(tuple(HistoryPoint(*p) for p in points), scores=True))


def pages() -> dict[str, str]:
    """The page in each form, rendered through the project's Jinja environment."""
    template = jinja_env("en").from_string(PAGE)
    return {
        "bars": template.render(krs=_krs("bars"), history=None),
        "charts": template.render(krs=_krs("charts"), history=_history()),
        "charts, labels in SVG": template.render(krs=_krs("inside"), history=_history()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="rounds (one page of each form per round)")
    parser.add_argument("--only", choices=("bars", "charts", "charts, labels in SVG"), help="render one form")
    args = parser.parse_args()
    html = pages()
    if args.only:
        html = {args.only: html[args.only]}
    pdf_bytes(next(iter(html.values())))  # fonts, caches and imports warm
    cpu: dict[str, list[float]] = {form: [] for form in html}
    wall: dict[str, list[float]] = {form: [] for form in html}
    for _ in range(args.n):
        for form, page in html.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            pdf_bytes(page)
            cpu[form].append(time.process_time() - started_cpu)
            wall[form].append(time.perf_counter() - started)
    if args.only or not args.n:
        return
    print(f"{args.n} rounds, seconds per page (median); 12 KR rows, charts: 12 trend charts + 1 history chart")
    base = statistics.median(cpu["bars"])
    for form, times in cpu.items():
        paired = statistics.median(t / b for t, b in zip(times, cpu["bars"]))
        print(f"  {form:22s} CPU {statistics.median(times):.3f} s  wall {statistics.median(wall[form]):.3f} s  "
              f"x{statistics.median(times) / base:.3f} of bars (round by round x{paired:.3f})")


if __name__ == "__main__":
    main()
