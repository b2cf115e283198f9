"""Rendering scorecards: view model -> HTML (Jinja) -> PDF (WeasyPrint).

The templates in ``report_templates`` only present. Everything they need beyond the view model
(clamped bar widths, checked links, grouped rows) is prepared here in Python, so that text from the
exports can never reach CSS, a URL or the file system.
"""

from __future__ import annotations

import contextlib
import math
import mimetypes
import multiprocessing
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date, datetime
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
import yaml
from babel import Locale
from babel.dates import format_date
from babel.numbers import (
    format_compact_currency,
    format_currency,
    format_decimal,
    format_percent,
)
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from flows.locations import templates_dir
from transforms import charts

LOCALES = ("zh-CN", "en")
STATUSES = ("red", "yellow", "green", "no_data")
TIERS = ("company", "team", "person")
SOURCES = ("computed", "manual")
ARROWS = ("up", "down", "flat")
FORECAST_BASES = ("history", "tier", "run_rate", "as_is", "none")
CONFIDENCE_FLAGS = ("high_but_miss", "low_but_reach")
PACES = ("ahead", "behind", "not_applicable")
BASELINE_NOTES = ("from_zero", "not_applicable")
DIRECTIONS = ("increase", "decrease", "at_least", "at_most")
UNITS = ("count", "percent", "ratio", "currency", "days", "hours", "number")
STYLESHEET = "scorecard.css"
INDEX_SCRIPT = "index.js"
LABELS = "labels.yaml"

_SAFE_HREF = re.compile(r"^[A-Za-z0-9._/-]+\.(html|pdf)$")
_UP_ONE = "../"
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
_MAX_TEMPLATE_FILE = 5 * 1024 * 1024
_CHART_COLOUR = re.compile(r"--chart-([a-z_]+):\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\s*;")
CHART_COLOURS = (*charts.STATUSES, *charts.TONES, "line", "target", "pace", "axis", "grid", "gap", "text", "muted")

Progress = Callable[[int], None]


# --------------------------------------------------------------------------- template files


@lru_cache(maxsize=4)
def _labels_in(folder: Path) -> dict[str, dict[str, Any]]:
    return yaml.safe_load((folder / LABELS).read_text(encoding="utf-8"))


def _all_labels() -> dict[str, dict[str, Any]]:
    return _labels_in(templates_dir())


def labels(locale: str) -> dict[str, Any]:
    """UI strings of one locale; an unknown locale is an error rather than a silent fallback."""
    if locale not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}; expected one of {LOCALES}")
    return _all_labels()[locale]


def stylesheet_text() -> str:
    """The print CSS, inlined into every page so an HTML scorecard is one standalone file."""
    return _stylesheet_in(templates_dir())


@lru_cache(maxsize=4)
def _stylesheet_in(folder: Path) -> str:
    css = (folder / STYLESHEET).read_text(encoding="utf-8")
    if "</" in css:
        raise ValueError(f"{STYLESHEET} must not contain '</' (it is inlined in a <style> element)")
    return css


def index_script_text() -> str:
    """The index page's sorting and filtering script, inlined so the page stays one standalone file.

    A templates folder copied before the script existed has no ``index.js``; the built-in one is used then.
    """
    own = templates_dir() / INDEX_SCRIPT
    return _script_in(own if own.is_file() else _builtin_templates() / INDEX_SCRIPT)


def _builtin_templates() -> Path:
    from importlib.resources import files

    return Path(str(files("report_templates"))).resolve()


@lru_cache(maxsize=4)
def _script_in(path: Path) -> str:
    script = path.read_text(encoding="utf-8")
    if "</" in script or "<!--" in script:
        raise ValueError(f"{path.name} must not contain '</' or '<!--' (it is inlined in a <script> element)")
    return script


def chart_palette() -> dict[str, str]:
    """The charts' colours, from the ``--chart-*`` properties of the print CSS: the macros write them as
    fill and stroke attributes, because WeasyPrint's SVG renderer does not apply the page's stylesheet
    (nor var()) inside an inline SVG. Every colour a chart uses must be there, as a #hex colour."""
    return _palette_in(templates_dir())


@lru_cache(maxsize=4)
def _palette_in(folder: Path) -> dict[str, str]:
    palette = dict(_CHART_COLOUR.findall(_stylesheet_in(folder)))
    missing = [name for name in CHART_COLOURS if name not in palette]
    if missing:
        raise ValueError(f"{STYLESHEET} lacks the chart colours {', '.join('--chart-' + m for m in missing)}")
    return {name: palette[name] for name in CHART_COLOURS}


# --------------------------------------------------------------------------- formatting


def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale.replace("-", "_"))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_number(value: Any, unit: str, locale: str, currency: str = "CNY", decimals: int | None = None) -> str:
    """Format a KR value for its unit; missing values say "no data" instead of showing a fake 0.

    ``decimals`` fixes the digits after the point (a KR's baseline, target and actual share one count);
    without it, up to the unit's precision is shown.
    """
    text = labels(locale)
    if not _is_number(value):
        return text["no_data"]
    if abs(value) < (0.0005 if unit == "percent" else 0.005):
        value = 0.0  # what rounds to zero shows as 0, never "-0%"
    loc = _babel_locale(locale)
    fixed = "" if decimals is None else ("." + "0" * decimals if decimals else "")
    if unit == "percent":
        return format_percent(value, "#,##0" + (fixed if decimals is not None else ".#") + "%", locale=loc)
    if unit == "ratio":
        return format_decimal(value, "#,##0" + (fixed if decimals is not None else ".##"), locale=loc) \
            + text["ratio_suffix"]
    if unit == "currency" and _CURRENCY_CODE.match(currency or ""):
        if abs(value) >= 1_000_000:  # full digits would not fit a table column
            return format_compact_currency(value, currency, locale=loc, fraction_digits=1)
        if abs(value) >= 1000:
            return format_currency(value, currency, "¤#,##0", locale=loc, currency_digits=False)
        return format_currency(value, currency, locale=loc)
    if unit in ("days", "hours"):
        number = format_decimal(value, "#,##0" + (fixed if decimals is not None else ".#"), locale=loc)
        return f"{number} {text['unit_' + unit]}"
    return format_decimal(value, "#,##0" + (fixed if decimals is not None else ".##"), locale=loc)


def format_score(value: Any, locale: str) -> str:
    """Scores always show two decimals (0.70, not 0.7) so a column of them lines up."""
    if not _is_number(value):
        return labels(locale)["no_data"]
    return format_decimal(round(value, 2) + 0.0, "0.00", locale=_babel_locale(locale))  # never "-0.00"


def format_delta(value: Any, locale: str) -> str:
    """A change in score with its sign (+0.13, -0.10, ±0.00), two decimals like the scores it compares."""
    if not _is_number(value):
        return labels(locale)["no_data"]
    if abs(value) < 0.005:
        return "±" + format_decimal(0, "0.00", locale=_babel_locale(locale))
    return format_decimal(value, "+0.00;-0.00", locale=_babel_locale(locale))


def format_day(value: Any, locale: str) -> str:
    """An ISO date in the reader's style; text that is not a date is shown as given."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return format_date(value, "medium", locale=_babel_locale(locale))
    return labels(locale)["no_data"]


def clamp_pct(value: Any) -> int:
    """An integer 0-100 whatever comes in: the only kind of value allowed into a style attribute."""
    if not _is_number(value):
        return 0
    return max(0, min(100, int(round(value))))


def _score_pct(score: Any) -> int:
    return clamp_pct(score * 100) if _is_number(score) else 0


# --------------------------------------------------------------------------- jinja


def jinja_env(locale: str) -> jinja2.Environment:
    """One cached environment per locale and template folder: templates compile once per process, not per card."""
    return _jinja_env(locale, templates_dir())


@cache
def _jinja_env(locale: str, folder: Path) -> jinja2.Environment:
    text = labels(locale)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = partial(_num_filter, locale=locale)
    env.filters["score"] = partial(format_score, locale=locale)
    env.filters["delta"] = partial(format_delta, locale=locale)
    env.filters["date"] = partial(format_day, locale=locale)
    env.filters["pct"] = clamp_pct
    env.globals["L"] = text
    env.globals["css"] = Markup(stylesheet_text())
    env.globals["index_script"] = Markup(index_script_text())
    env.globals["chart_colour"] = chart_palette()
    return env


def _num_filter(value: Any, unit: str, currency: str = "CNY", decimals: int | None = None, *, locale: str) -> str:
    return format_number(value, unit, locale, currency, decimals)


# --------------------------------------------------------------------------- view-model hardening


def safe_href(href: Any, suffix: str = ".html") -> str | None:
    """Keep a link only if it is a plain relative path to another output file; else drop it.

    One leading ``../`` is accepted (a person's card links back to the quarter's index one folder
    up); any other ``..``, absolute paths, schemes and unusual characters drop the link.
    """
    if not isinstance(href, str) or not href.endswith(suffix) or not _SAFE_HREF.match(href):
        return None
    rest = href.removeprefix(_UP_ONE)
    if rest.startswith("/") or ".." in rest or "//" in rest:
        return None
    return href


def _one_of(value: Any, allowed: Sequence[str], default: str) -> str:
    """Values used to pick a CSS class or a label must come from a fixed set."""
    return value if value in allowed else default


def _status(value: Any) -> str:
    return _one_of(value, STATUSES, "no_data")


def safe_chart(value: Any) -> charts.TrendChart | charts.HistoryChart | None:
    """A chart only as built by transforms.charts, whose constructors check every coordinate (finite,
    inside the viewBox) and class name; anything else (a dict from JSON, a look-alike) is no chart."""
    return value if type(value) in (charts.TrendChart, charts.HistoryChart) else None


def _currency(value: Any) -> str:
    """An ISO 4217 code or the default; anything else would reach babel as a symbol lookup."""
    return value if isinstance(value, str) and _CURRENCY_CODE.match(value) else "CNY"


def _prepare_kr(kr: Mapping[str, Any], mid_quarter: bool) -> dict[str, Any]:
    """Fixed-set values, clamped widths, and pace (ahead/behind) only for mid-quarter runs."""
    expected = kr["expected_score"] if mid_quarter else None
    pace = kr["pace"] if mid_quarter and kr["pace"] in PACES else None
    decimals = kr["decimals"] if isinstance(kr["decimals"], int) and 0 <= kr["decimals"] <= 4 else None
    trend = [{**point, "bar_pct": clamp_pct(point["bar_pct"])} for point in kr["trend"]]
    return {
        **kr,
        "history": [{**p, "status": _status(p["status"])} for p in kr["history"]],
        "ui_trend_chart": safe_chart(kr["trend_chart"]),
        "ui_history_chart": safe_chart(kr["history_chart"]),
        "source": _one_of(kr["source"], SOURCES, "manual"),
        "direction": _one_of(kr["direction"], DIRECTIONS, "increase"),
        "unit": _one_of(kr["unit"], UNITS, "number"),
        "status": _status(kr["status"]),
        "score_bar_pct": clamp_pct(kr["score_bar_pct"]),
        "trend": trend,
        "ui_expected": expected if _is_number(expected) else None,
        "ui_expected_pct": _score_pct(expected) if _is_number(expected) else None,
        "ui_pace": pace,
        "decimals": decimals,
        "baseline_note": _one_of(kr["baseline_note"], BASELINE_NOTES, "not_applicable")
        if kr["baseline_note"] else None,
        "forecast": _forecast(kr["forecast"]) if mid_quarter else None,
        "confidence_flag": kr["confidence_flag"] if kr["confidence_flag"] in CONFIDENCE_FLAGS else None,
    }


def _forecast(forecast: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A forecast with a known basis and numbers that are numbers (None when there is none)."""
    if not forecast or not _is_number(forecast.get("value")):
        return None
    return {**forecast, "basis": _one_of(forecast.get("basis"), FORECAST_BASES, "none"),
            "low": forecast["low"] if _is_number(forecast.get("low")) else None,
            "p": forecast["p"] if _is_number(forecast.get("p")) else None}


def _prepare_objective(objective: Mapping[str, Any], mid_quarter: bool) -> dict[str, Any]:
    """Fixed-set statuses and clamped widths; weights and shares come as the view model decided them."""
    children = [{**child, "status": _status(child["status"])} for child in objective["aligned_children"]]
    groups = [{**g, "children": [{**c, "status": _status(c["status"])} for c in g["children"]]}
              for g in objective["aligned_groups"]]
    return {
        **objective,
        "status": _status(objective["status"]),
        "aligned_children": children,
        "aligned_groups": groups,
        "krs": [_prepare_kr(kr, mid_quarter) for kr in objective["krs"]],
        "ui_bar_pct": _score_pct(objective["score"]),
    }


def _prepare_member(member: Mapping[str, Any], n_columns: int) -> dict[str, Any]:
    """Exactly one heatmap cell per column, so a ragged row can never shift the grid."""
    cells = [{"score": c["score"], "status": _status(c["status"])} for c in member["cells"]]
    cells = cells[:n_columns] + [{"score": None, "status": "no_data"}] * (n_columns - len(cells))
    return {
        **member,
        "href": safe_href(member["href"]),
        "status": _status(member["status"]),
        "cells": cells,
        "ui_bar_pct": _score_pct(member["score"]),
    }


def _distribution(counts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Status segments whose integer widths add up to exactly 100 (largest remainder)."""
    values = {s: int(counts[s]) if _is_number(counts[s]) and counts[s] > 0 else 0 for s in STATUSES}
    total = sum(values.values())
    exact = {s: (values[s] * 100 / total if total else 0.0) for s in STATUSES}
    pcts = {s: int(exact[s]) for s in STATUSES}
    by_remainder = sorted(STATUSES, key=lambda s: exact[s] - pcts[s], reverse=True)
    for status in by_remainder[: (100 - sum(pcts.values())) if total else 0]:
        pcts[status] += 1
    order = ("green", "yellow", "red", "no_data")
    return [{"status": s, "count": values[s], "pct": pcts[s]} for s in order]


def _prepare_story(vm: Mapping[str, Any]) -> dict[str, Any]:
    """Page one's lists with statuses, units and arrows from their fixed sets."""
    change = vm["change"]
    unit = lambda item: {**item, "unit": _one_of(item["unit"], UNITS, "number")}  # noqa: E731
    return {
        "history": [{**p, "status": _status(p["status"])} for p in vm["history"]],
        "change": None if change is None else {**change, "arrow": _one_of(change["arrow"], ARROWS, "flat")},
        "focus": [{**unit(f), "status": _status(f["status"])} for f in vm["focus"]],
        "gaps": [unit(g) for g in vm["gaps"]],
        "behind": [{**b, "status": _status(b["status"])} for b in vm["behind"]],
        "movers": {side: [{**m, "arrow": _one_of(m["arrow"], ARROWS, "flat")} for m in vm["movers"][side]]
                   for side in ("up", "down")},
    }


def prepare_scorecard(vm: Mapping[str, Any]) -> dict[str, Any]:
    """A hardened copy of a scorecard view model plus ``ui_*`` values computed for display."""
    mid = bool(vm["is_mid_quarter"])
    weighted = vm["weighted"] is True
    columns = list(vm["member_columns"])
    return {
        **vm,
        "tier": _one_of(vm["tier"], TIERS, "person"),
        "status": _status(vm["status"]),
        "currency": _currency(vm["currency"]),
        "elapsed_pct": clamp_pct(vm["elapsed_pct"]),
        "weighted": weighted,
        "objectives": [_prepare_objective(o, mid) for o in vm["objectives"]],
        "members": [_prepare_member(m, len(columns)) for m in vm["members"]],
        "member_columns": columns,
        "links": {"index": safe_href(vm["links"]["index"]), "pdf": safe_href(vm["links"]["pdf"], ".pdf")},
        **_prepare_story(vm),
        "ui_history_chart": safe_chart(vm["history_chart"]),
        "ui_distribution": _distribution(vm["distribution"]),
        "ui_detail_colspan": 5 if mid else 4,  # lineage cell: the columns right of "target"
        "ui_glance_colspan": 4 if weighted else 3,  # "none" row: every column right of "#"
    }


_STATUS_RANK = {"red": "0", "yellow": "1", "green": "2"}  # worst first; no data sorts last either way


def _sort_number(value: Any) -> str:
    """A score as the browser's sort key: the float's shortest exact text, or empty (sorted last)."""
    return repr(float(value)) if _is_number(value) else ""


def _prepare_index_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Fixed-set tier and status, checked links, and the raw keys the page's script sorts by."""
    tier = _one_of(row["tier"], TIERS, "person")
    status = _status(row["status"])
    team = row["team_name"] if tier == "person" and isinstance(row["team_name"], str) else ""
    return {
        **row,
        "tier": tier,
        "status": status,
        "html_href": safe_href(row["html_href"]),
        "pdf_href": safe_href(row["pdf_href"], ".pdf"),
        "ui_team": team,
        "ui_bar_pct": _score_pct(row["score"]),
        "ui_score_key": _sort_number(row["score"]),
        "ui_tier_key": str(TIERS.index(tier)),
        "ui_status_key": _STATUS_RANK.get(status, ""),
    }


def prepare_index(index_vm: Mapping[str, Any]) -> dict[str, Any]:
    """Index rows in one list, company -> teams -> people (the model's order within a tier), with checked
    links and sort keys: the page reads right without its script, and the script only reorders and hides."""
    hardened = [_prepare_index_row(row) for row in index_vm["rows"]]
    rows = sorted(hardened, key=lambda r: r["ui_tier_key"])  # stable: the model's order within a tier
    tiers = [t for t in TIERS if any(r["tier"] == t for r in rows)]
    # ui_groups: what an index.html copied before the single table (a company's templates) still reads
    groups = [{"tier": t, "rows": [r for r in rows if r["tier"] == t]} for t in tiers]
    return {**index_vm, "ui_rows": rows, "ui_tiers": tiers, "ui_statuses": list(STATUSES), "ui_groups": groups}


# --------------------------------------------------------------------------- HTML


def render_html(vm: Mapping[str, Any]) -> str:
    """One standalone HTML scorecard (CSS inlined); the same string is what the PDF is made from."""
    context = prepare_scorecard(vm)
    return jinja_env(context["locale"]).get_template("scorecard.html").render(context)


def render_index_html(index_vm: Mapping[str, Any]) -> str:
    """The quarter's index page linking every scorecard's HTML and PDF."""
    context = prepare_index(index_vm)
    return jinja_env(context["locale"]).get_template("index.html").render(context)


# --------------------------------------------------------------------------- fetching


class SafeFetcher(URLFetcher):
    """Resolves only ``data:`` URLs and files inside the templates folder; anything else raises.

    Autoescaping stops markup injection but WeasyPrint would still follow URLs (images, CSS
    ``url()``, attachments) to the network or the local disk; this closes that door.
    """

    def __init__(self, root: str | Path | None = None, **kwargs: Any) -> None:
        kwargs.update(allowed_protocols=("data", "file"), allow_redirects=False)
        super().__init__(**kwargs)
        self.root = Path(root).resolve() if root is not None else templates_dir()

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            return self._fetch_template_file(url)
        raise PermissionError(f"blocked URL: only data: and template files may be fetched ({url[:80]})")

    def _fetch_template_file(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise PermissionError(f"blocked file URL on another host: {url[:80]}")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise PermissionError(f"blocked file URL outside the templates folder: {url[:80]}")
        if path.stat().st_size > _MAX_TEMPLATE_FILE:
            raise PermissionError(f"template file too large: {path.name}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})


# --------------------------------------------------------------------------- PDF

_WORKER: dict[str, Any] = {}


def _init_worker() -> None:
    """Build the font configuration, fetcher and image cache once per process, not once per PDF."""
    from weasyprint.text.fonts import FontConfiguration

    _WORKER.update(font_config=FontConfiguration(), fetcher=SafeFetcher(), cache={})


def _write_pdf(html: str, pdf_path: str) -> float:
    """Render one PDF next to its final name, then rename: a failure never leaves half a file."""
    if not _WORKER:
        _init_worker()
    started = time.perf_counter()
    target = Path(pdf_path)
    partial_file = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # No base_url: relative links stay relative in the PDF and no local path leaks into it.
        document = HTML(string=html, url_fetcher=_WORKER["fetcher"])
        document.write_pdf(partial_file, font_config=_WORKER["font_config"], cache=_WORKER["cache"])
        os.replace(partial_file, target)
    except Exception as exc:
        with contextlib.suppress(OSError):
            partial_file.unlink(missing_ok=True)
        raise RuntimeError(f"PDF rendering failed for {pdf_path}: {type(exc).__name__}: {exc}") from exc
    return time.perf_counter() - started


def pdf_bytes(html: str) -> bytes:
    """One PDF in memory, for workers that share no file system with the flow (a Dask cluster)."""
    if not _WORKER:
        _init_worker()
    document = HTML(string=html, url_fetcher=_WORKER["fetcher"])
    return document.write_pdf(font_config=_WORKER["font_config"], cache=_WORKER["cache"])


def _write_chunk(chunk: Sequence[tuple[str, str]]) -> list[float]:
    """Worker entry point: one IPC round trip for several PDFs."""
    return [_write_pdf(html, path) for html, path in chunk]


def _chunk_size(n_jobs: int, processes: int, largest: int) -> int:
    """Big enough to keep IPC rare, small enough that workers finish at about the same time."""
    return max(1, min(largest, math.ceil(n_jobs / (processes * 4))))


def _pool_context() -> multiprocessing.context.BaseContext:
    """Never fork: the caller may run threads (Prefect does), and forking those can deadlock."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def render_pdfs(
    jobs: Sequence[tuple[str, str]],
    processes: int,
    progress: Progress | None = None,
    chunk_size: int = 16,
) -> list[float]:
    """Render (html, pdf_path) jobs; returns the seconds each job took, in job order.

    ``processes=1`` renders in this process (no pool start-up cost, easy to debug). Otherwise a
    process pool renders chunks of jobs; ``progress`` gets the number of finished jobs so far.
    """
    jobs = list(jobs)
    if processes <= 1 or len(jobs) <= 1:
        return _render_in_process(jobs, progress)
    size = _chunk_size(len(jobs), processes, chunk_size)
    starts = range(0, len(jobs), size)
    seconds = [0.0] * len(jobs)
    workers = min(processes, len(starts))
    with ProcessPoolExecutor(workers, mp_context=_pool_context(), initializer=_init_worker) as pool:
        futures = {pool.submit(_write_chunk, jobs[s : s + size]): s for s in starts}
        finished = 0
        try:
            for future in as_completed(futures):
                start = futures[future]
                chunk_seconds = future.result()
                seconds[start : start + len(chunk_seconds)] = chunk_seconds
                finished += len(chunk_seconds)
                if progress:
                    progress(finished)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return seconds


def _render_in_process(jobs: Sequence[tuple[str, str]], progress: Progress | None) -> list[float]:
    """The processes=1 path: no pool start-up, exceptions surface with their own traceback."""
    seconds = []
    for html, path in jobs:
        seconds.append(_write_pdf(html, path))
        if progress:
            progress(len(seconds))
    return seconds
