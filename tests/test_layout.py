"""Every demo scorecard, in Chinese and in English, fills its pages: no page but a card's last is under a quarter
full, and a key-result table continued on a new page repeats its header there.

The fill of a page is measured on the PDF itself (poppler's word boxes): how far down the page's body, between
the running header and footer, its lowest word reaches.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DEMO

MM = 72 / 25.4
TOP_MM, BOTTOM_MM = 16, 17  # the @page margins of scorecard.css: running header and footer live there
NEAR_EMPTY = 0.25


def page_words(pdf: Path) -> list[tuple[float, float, list[tuple[float, str]]]]:
    """(page height, body bottom, [(word bottom, word)]) per page."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in re.findall(r"<page (.*?)</page>", out, flags=re.S):
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        words = [(float(y), w) for y, w in re.findall(r'yMax="([\d.]+)">([^<]*)</word>', page)]
        pages.append((height, height - BOTTOM_MM * MM, words))
    return pages


def fills(pdf: Path) -> list[float]:
    """How far down each page's body its lowest word reaches (0 = empty, 1 = down to the footer)."""
    out = []
    for _, bottom, words in page_words(pdf):
        top = TOP_MM * MM
        body = [y for y, _ in words if top < y <= bottom]
        out.append(0.0 if not body else (max(body) - top) / (bottom - top))
    return out


def near_empty(folder: Path) -> dict[str, list[float]]:
    """Cards with a page under a quarter full that is not their last."""
    bad = {}
    for pdf in sorted(folder.rglob("*.pdf")):
        f = fills(pdf)
        if any(x < NEAR_EMPTY for x in f[:-1]):
            bad[str(pdf.relative_to(folder))] = [round(x, 2) for x in f]
    return bad


def continued_without_header(folder: Path, header: str, row_words: tuple[str, ...]) -> list[str]:
    """Pages after the first holding a key-result row (its source chip) but not the table's header word."""
    bad = []
    for pdf in sorted(folder.rglob("*.pdf")):
        for i, (_, _, words) in enumerate(page_words(pdf)[1:], start=2):
            text = {w for _, w in words}
            if text & set(row_words) and header not in text:
                bad.append(f"{pdf.relative_to(folder)} page {i}")
    return bad


@pytest.fixture(scope="module")
def demo_en_cards(tmp_path_factory) -> Path:
    """All 78 demo scorecards in English, through the engine, view models and renderer a run uses."""
    from flows.config_io import load_workspace
    from flows.extract import read_all
    from flows.render import render_html, render_pdfs
    from transforms.calendar import parse_quarter
    from transforms.report import compute_quarter
    from transforms.scorecards import build_scorecards
    from transforms.validation import stage_workspace

    ws, ws_dir = load_workspace(DEMO)
    raw, _ = read_all(dict(ws.sources), ws_dir)
    tables, _ = stage_workspace(raw, ws)
    quarter = parse_quarter("FY2017-18-Q4", ws.fiscal_year_start_month)
    res = compute_quarter(ws, tables, quarter, None, "en", ws.history_quarters)
    cards = build_scorecards(res, ws, tables, "en", "2026-12-01 08:00", "layout")
    folder = tmp_path_factory.mktemp("demo_en_all")
    render_pdfs([(render_html(c), str(folder / f"{c['path']}.pdf")) for c in cards], processes=1)
    return folder


def test_the_page_fill_measure_sees_an_empty_page(tmp_path):
    """The measure itself: a page holding one line at its top is near empty, a full page is not."""
    from flows.render import pdf_bytes

    lines = "".join(f"<p>line {i}</p>" for i in range(200))
    html = (f"<html><body><p>first</p><p style='break-before: page'>alone</p>"
            f"<div style='break-before: page'>{lines}</div>")
    pdf = tmp_path / "probe.pdf"
    pdf.write_bytes(pdf_bytes(html))
    f = fills(pdf)
    assert len(f) >= 3
    assert f[0] < NEAR_EMPTY and f[1] < NEAR_EMPTY
    assert f[2] > 0.9


def test_no_chinese_card_has_a_near_empty_page(demo_folder):
    assert len(list(demo_folder.rglob("*.pdf"))) == 78
    assert near_empty(demo_folder) == {}


def test_no_english_card_has_a_near_empty_page(demo_en_cards):
    assert len(list(demo_en_cards.rglob("*.pdf"))) == 78
    assert near_empty(demo_en_cards) == {}


def test_key_result_tables_repeat_their_header_on_every_page(demo_folder, demo_en_cards):
    assert continued_without_header(demo_folder, "基线", ("自动计算", "手动填报")) == []
    assert continued_without_header(demo_en_cards, "Baseline", ("Computed", "Manual")) == []
