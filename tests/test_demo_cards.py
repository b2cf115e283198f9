"""Every demo scorecard, in Chinese and in English: no page but a card's last is under a quarter full, a
key-result table continued on a new page repeats its header there, and the words are the card's language.

The fill of a page is measured on the PDF itself (poppler's word boxes): how far down the page's body, between
the running header and footer, its lowest word reaches.
"""

from __future__ import annotations

import html as html_lib
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
    pages = {c["path"]: render_html(c) for c in cards}
    for path, page in pages.items():
        (folder / f"{path}.html").parent.mkdir(parents=True, exist_ok=True)
        (folder / f"{path}.html").write_text(page, encoding="utf-8")
    render_pdfs([(page, str(folder / f"{path}.pdf")) for path, page in pages.items()], processes=1)
    return folder


@pytest.fixture(scope="module")
def demo_en_html(demo_en_cards) -> dict[str, str]:
    return {str(p.relative_to(demo_en_cards)): p.read_text(encoding="utf-8") for p in demo_en_cards.rglob("*.html")}


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


# -- the card's language -------------------------------------------------------------------------------

ACRONYMS = {"FY", "PDF"}  # quarter labels (FY2017-18 Q4) and the link to the PDF


RUN_ID = re.compile(r"\b\d{8}T\d{6}Z-[0-9a-f]+\b")  # the run id in every card's footer is an id too


def visible_text(page: str) -> str:
    page = re.sub(r"<style.*?</style>|<script.*?</script>|<title>.*?</title>", " ", page, flags=re.S)
    return RUN_ID.sub(" ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))


def workspace_ids() -> set[str]:
    """Every id a card may show as written: table, column and file names, filter values, and the Latin words
    the company itself writes in its Chinese titles (MQL, CRM)."""
    from flows.config_io import load_workspace
    from flows.extract import read_all

    ws, ws_dir = load_workspace(DEMO)
    text = (DEMO / "okr.yaml").read_text(encoding="utf-8")
    ids = set(re.findall(r"[A-Za-z][A-Za-z_]+", text))  # every key, value and path the config names
    raw, _ = read_all({"plan": ws.sources["plan"]}, ws_dir)
    plan = raw["plan"]
    zh_titles = " ".join(str(v) for c in plan.columns if "ZH" in c for v in plan[c].dropna())
    return ids | set(re.findall(r"[A-Za-z][A-Za-z_]+", zh_titles)) | ACRONYMS


def test_chinese_cards_have_no_english_words_but_ids(demo_folder):
    allowed = workspace_ids()
    found: dict[str, str] = {}
    for card in sorted(demo_folder.rglob("*.html")):
        if card.name == "index.html":
            continue
        for word in re.findall(r"[A-Za-z][A-Za-z_]+", visible_text(card.read_text(encoding="utf-8"))):
            if word not in allowed:
                found.setdefault(word, str(card.relative_to(demo_folder)))
    assert found == {}


def test_english_cards_have_no_chinese_but_names_and_notes(demo_en_html):
    import pandas as pd

    people = pd.read_excel(DEMO / "exports" / "people.xlsx", sheet_name="员工名册")
    cjk = r"[\u3000-\u9fff\uff00-\uffef]+"
    notes = pd.read_excel(DEMO / "exports" / "checkins.xlsx", sheet_name="checkins")["备注"].dropna().astype(str)
    names = set(people["姓名"].astype(str)) | set(re.findall(cjk, (DEMO / "okr.yaml").read_text(encoding="utf-8")))
    names |= {run for note in notes for run in re.findall(cjk, note)}  # check-in notes are shown as written
    found: dict[str, str] = {}
    for path, page in demo_en_html.items():
        for run in re.findall(cjk, visible_text(page)):
            if run not in names:
                found.setdefault(run, path)
    assert found == {}
