"""Scorecard rendering end to end: real Jinja, real WeasyPrint, real PDF tools; no mocks.

The samples in tests/samples carry hostile text (markup, CSS url(), file and http URLs). The http
URLs point at a server this module runs on 127.0.0.1, so "nothing was fetched" is checked, not assumed.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jinja2
import pytest
from pypdf import PdfReader
from weasyprint import HTML

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows import render  # noqa: E402
from flows.render import (  # noqa: E402
    SafeFetcher,
    format_number,
    format_score,
    index_script_text,
    jinja_env,
    labels,
    render_html,
    render_index_html,
    render_pdfs,
    safe_href,
    stylesheet_text,
    templates_dir,
)

SAMPLES = Path(__file__).parent / "samples"
CARDS = ["person_zh", "team_en", "company_zh"]
DATA_PATHS = ("/img-from-data", "/css-from-data", "/frame", "/x")


# --------------------------------------------------------------------------- fixtures


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.hits.append(self.path)
        body = b"body{}"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    """A real HTTP server on 127.0.0.1 that records every request it gets."""
    handler = type("Recorder", (_Recorder,), {"hits": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], handler.hits
    httpd.shutdown()
    httpd.server_close()


def load(name: str, port: int = 9) -> dict:
    text = (SAMPLES / f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text.replace("__PORT__", str(port)))


@pytest.fixture(scope="module")
def rendered(server, tmp_path_factory):
    """Every sample rendered once to HTML and PDF (in-process), shared by the checks below."""
    port, _ = server
    out = tmp_path_factory.mktemp("cards")
    result, jobs = {}, []
    for name in CARDS:
        vm = load(name, port)
        html = render_html(vm)
        (out / f"{name}.html").write_text(html, encoding="utf-8")
        jobs.append((html, str(out / f"{name}.pdf")))
        result[name] = {"vm": vm, "html": html, "pdf": out / f"{name}.pdf"}
    index_vm = load("index_zh", port)
    index_html = render_index_html(index_vm)
    jobs.append((index_html, str(out / "index.pdf")))
    result["index"] = {"vm": index_vm, "html": index_html, "pdf": out / "index.pdf"}
    seconds = render_pdfs(jobs, processes=1)
    assert len(seconds) == len(jobs) and all(s > 0 for s in seconds)
    return result


# --------------------------------------------------------------------------- helpers


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.style_text: list[str] = []
        self.script_text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.style_text.append(data)
        elif self._in == "script":
            self.script_text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(str(path)).pages]


def kr_titles(vm: dict) -> list[str]:
    return [kr["title"] for objective in vm["objectives"] for kr in objective["krs"]]


def flatten_keys(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        keys.add(prefix + key)
        if isinstance(value, dict):
            keys |= flatten_keys(value, f"{prefix}{key}.")
    return keys


# --------------------------------------------------------------------------- labels and formatting


def test_both_locales_have_the_same_labels():
    assert flatten_keys(labels("zh-CN")) == flatten_keys(labels("en"))
    with pytest.raises(ValueError):
        labels("fr")


@pytest.mark.parametrize(
    ("value", "unit", "locale", "expected"),
    [
        (0.153, "percent", "en", "15.3%"),
        (0.153, "percent", "zh-CN", "15.3%"),
        (1.23, "ratio", "en", "1.23x"),
        (1.23, "ratio", "zh-CN", "1.23倍"),
        (12000, "count", "en", "12,000"),
        (498500, "currency", "zh-CN", "¥498,500"),
        (26270000, "currency", "zh-CN", "¥2627万"),
        (26270000, "currency", "en", "CN¥26.3M"),
        (2.5, "days", "zh-CN", "2.5 天"),
        (19.5, "hours", "en", "19.5 h"),
        (None, "count", "zh-CN", "无数据"),
        (None, "percent", "en", "no data"),
        (float("nan"), "number", "en", "no data"),
        ("12", "number", "en", "no data"),
    ],
)
def test_format_number(value, unit, locale, expected):
    assert format_number(value, unit, locale, "CNY") == expected


def test_format_score():
    assert format_score(0.73, "en") == "0.73"
    assert format_score(0.7, "zh-CN") == "0.70"
    assert format_score(None, "zh-CN") == "无数据"


@pytest.mark.parametrize(
    ("href", "suffix", "kept"),
    [
        ("people/p-0007.html", ".html", True),
        ("../index.html", ".html", True),
        ("company.pdf", ".pdf", True),
        ("../../index.html", ".html", False),
        ("people/../../secret.html", ".html", False),
        ("/etc/p.html", ".html", False),
        ("//evil.example/p.html", ".html", False),
        ("javascript:alert(1)//.html", ".html", False),
        ("https://evil.example/p.html", ".html", False),
        ("file:///etc/passwd.pdf", ".pdf", False),
        ("people/p 1.html", ".html", False),
        ("people/p.pdf", ".html", False),
        (None, ".html", False),
    ],
)
def test_safe_href(href, suffix, kept):
    assert safe_href(href, suffix) == (href if kept else None)


# --------------------------------------------------------------------------- HTML


@pytest.mark.parametrize("name", CARDS + ["index"])
def test_html_has_no_markup_or_css_from_data(rendered, name):
    html = rendered[name]["html"]
    doc = parse(html)
    tags = {tag for tag, _ in doc.tags}
    assert not tags & {"img", "iframe", "svg", "link", "object", "embed"}
    assert "&lt;script&gt;" in html or "&lt;img" in html or "&lt;svg" in html  # escaped, still visible
    # The only script is the index page's static one (sorting and filtering); scorecards have none.
    assert [t for t, _ in doc.tags].count("script") == (1 if name == "index" else 0)
    assert "".join(doc.script_text).strip() == (index_script_text().strip() if name == "index" else "")
    assert not [a for t, a in doc.tags if t == "script" and a]  # inline only: no src, no type
    # The only CSS is the static stylesheet; the only style attributes are integer widths.
    assert [t for t, _ in doc.tags].count("style") == 1
    assert "".join(doc.style_text).strip() == stylesheet_text().strip()
    styles = [attrs["style"] for _, attrs in doc.tags if "style" in attrs]
    assert styles, "bars are expected"
    assert all(re.fullmatch(r"(width|left): (100|[1-9]?[0-9])%", s) for s in styles), styles
    assert not [a for _, a in doc.tags if a.get("rel")]
    for _, attrs in doc.tags:
        if "href" in attrs:
            assert safe_href(attrs["href"], ".pdf" if attrs["href"].endswith(".pdf") else ".html")
        for key in attrs:
            assert not key.startswith("on"), key


def test_unsafe_member_links_are_dropped_and_good_ones_kept(rendered):
    hrefs = [a["href"] for _, a in parse(rendered["team_en"]["html"]).tags if "href" in a]
    assert "../people/p-0007.html" in hrefs
    assert "../index.html" in hrefs and "t-east1.pdf" in hrefs
    for bad in ("javascript:alert(1)", "../../../etc/passwd.html", "https://evil.example/p.html"):
        assert bad not in hrefs
    index_hrefs = [a["href"] for _, a in parse(rendered["index"]["html"]).tags if "href" in a]
    assert "people/p-0007.pdf" in index_hrefs and "company.html" in index_hrefs
    assert "people/../../secret.html" not in index_hrefs
    assert not [h for h in index_hrefs if ":" in h]


def test_status_and_widths_cannot_be_steered_by_data():
    vm = load("person_zh")
    kr = vm["objectives"][0]["krs"][0]
    kr["status"] = 'green" onmouseover="alert(1)'
    kr["score_bar_pct"] = "100%; background: url(file:///etc/passwd)"
    kr["trend"][0]["bar_pct"] = 1000
    vm["objectives"][0]["status"] = "status-red x"
    html = render_html(vm)
    classes = " ".join(a.get("class") or "" for _, a in parse(html).tags)
    assert set(re.findall(r"status-(\S+)", classes)) <= {"red", "yellow", "green", "no_data"}
    assert "onmouseover" not in classes
    assert "url(file" not in " ".join(a.get("style") or "" for _, a in parse(html).tags)
    assert 'style="width: 100%"' in html


def test_missing_view_model_key_fails_loudly():
    vm = load("person_zh")
    del vm["run_id"]
    with pytest.raises(jinja2.UndefinedError):
        render_html(vm)
    vm = load("person_zh")
    del vm["objectives"][0]["krs"][0]["lineage"]
    with pytest.raises(jinja2.UndefinedError):
        render_html(vm)


def test_empty_card_and_ragged_heatmap_render(tmp_path):
    person = load("person_zh")
    person.update(objectives=[], data_quality_notes=[], kr_quality_notes=[], score=None, status="no_data")
    html = render_html(person)
    assert labels("zh-CN")["none"] in html and "无数据" in html
    team = load("team_en")
    team["members"][0]["cells"] = team["members"][0]["cells"][:2]  # fewer cells than columns
    team["members"][1]["cells"] = team["members"][1]["cells"] * 3  # more cells than columns
    html = render_html(team)
    body = re.search(r'<table class="members">.*?<tbody>(.*?)</tbody>', html, flags=re.S).group(1)
    rows = re.findall(r"<tr>.*?</tr>", body, flags=re.S)
    assert len(rows) == len(team["members"])
    assert {row.count('<td class="oscore heatcell status-') for row in rows} == {len(team["member_columns"])}
    seconds = render_pdfs([(render_html(person), str(tmp_path / "empty.pdf"))], processes=1)
    assert len(seconds) == 1 and (tmp_path / "empty.pdf").stat().st_size > 1000


def test_sections_follow_the_tier(rendered):
    person = rendered["person_zh"]["html"]
    team = rendered["team_en"]["html"]
    assert 'class="members"' not in person and '<td class="oscore heatcell' not in person
    assert 'class="members"' in team and '<td class="oscore heatcell' in team
    assert labels("en")["pace"] in team  # mid-quarter card shows pace
    assert labels("zh-CN")["pace"] not in person


# --------------------------------------------------------------------------- PDF


@pytest.mark.parametrize("name", CARDS)
def test_pdf_text_has_owner_krs_and_page_numbers(rendered, name):
    vm = rendered[name]["vm"]
    pages = pdf_pages(rendered[name]["pdf"])
    text = squash("".join(pages))
    assert squash(vm["owner_name"]) in text
    for title in kr_titles(vm):
        assert squash(title) in text, title
    words = labels(vm["locale"])
    total = len(pages)
    assert total >= 2
    for number, page in enumerate(pages, start=1):
        footer = squash(f"{words['page_pre']}{number}{words['page_mid']}{total}{words['page_post']}")
        assert footer in squash(page), (number, footer)


def test_pdf_has_chinese_and_english_titles(rendered):
    text = squash("".join(pdf_pages(rendered["person_zh"]["pdf"])))
    assert "每天完成2次潜在客户转化" in text
    assert "Understandtheweeklynewsletter'seffectiveness" in text
    index_text = squash("".join(pdf_pages(rendered["index"]["pdf"])))
    assert squash("华东销售一部 East China Sales 1") in index_text


def test_index_rows_carry_the_raw_keys_the_page_sorts_by():
    """Scores as exact float text or empty (never "nan", never the formatted "0.70"); a team only for people;
    one list in tier order whatever order the rows came in."""
    vm = load("index_zh")
    rows = vm["rows"]
    rows[0]["score"] = float("nan")
    rows[1].update(score=True, team_name="not shown for a team")
    rows[2]["score"] = 1
    rows[6]["score"] = 0.704
    vm["rows"] = [rows[5], rows[3], *rows[:3], *rows[4:5], *rows[6:]]  # a person and a team before the company
    prepared = render.prepare_index(vm)["ui_rows"]
    assert [r["owner_id"] for r in prepared] == [rows[i]["owner_id"] for i in [0, 3, 1, 2, 4, 5, *range(6, 13)]]
    assert [r["ui_tier_key"] for r in prepared] == ["0"] + ["1"] * 4 + ["2"] * 8
    keys = {r["owner_id"]: r["ui_score_key"] for r in prepared}
    assert [keys[rows[i]["owner_id"]] for i in (0, 1, 2, 6, 7, 11)] == ["", "", "1.0", "0.704", "0.37", ""]
    assert [r["ui_team"] for r in prepared][:5] == [""] * 5
    assert {r["ui_team"] for r in prepared[5:]} == {"华东销售一部 East China Sales 1"}
    assert [r["ui_status_key"] for r in prepared][5:] == ["1", "2", "0", "1", "2", "0", "", "1"]  # red first


def test_index_pdf_is_the_table_without_the_browser_controls(rendered):
    """The filter box, the sort hint and the count belong to the browser; the printed index is the table."""
    index_text = squash("".join(pdf_pages(rendered["index"]["pdf"])))
    for shown in ("全部记分卡", "层级", "个人", "张伟", "无数据"):
        assert shown in index_text, shown
    for control in ("按名称或团队筛选", "点击列标题可排序", "显示13项"):
        assert control not in index_text, control


def test_a_templates_folder_without_the_index_script_uses_the_built_in_one(tmp_path, monkeypatch):
    """A company's templates copied before the index could sort still render its index, sortable."""
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "report_templates", folder, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.js"))
    monkeypatch.setenv("OKR_REPORT_TEMPLATES", str(folder))
    built_in = (ROOT / "report_templates" / "index.js").read_text(encoding="utf-8")
    assert f"<script>\n{built_in}\n</script>" in render_index_html(load("index_zh"))
    broken = tmp_path / "broken"  # another folder: a folder's templates are read once per process
    shutil.copytree(folder, broken)
    (broken / "index.js").write_text(built_in + "\n// '</script><script>alert(1)'\n", encoding="utf-8")
    monkeypatch.setenv("OKR_REPORT_TEMPLATES", str(broken))
    with pytest.raises(ValueError, match="must not contain"):
        render_index_html(load("index_zh"))


def _embedded_fonts(pdf: Path) -> list[tuple[str, str]]:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    fonts = []
    for line in out.splitlines()[2:]:
        tokens = line.split()
        if len(tokens) >= 6:
            fonts.append((tokens[0], tokens[-5]))  # name, "emb" column
    return fonts


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils not installed")
@pytest.mark.parametrize("name", CARDS)
def test_cjk_font_is_embedded(rendered, name):
    fonts = _embedded_fonts(rendered[name]["pdf"])
    cjk = [(n, emb) for n, emb in fonts if re.search(r"Noto.?Sans.?CJK|WenQuanYi|WenQuanYi.?Micro", n)]
    assert cjk, fonts
    assert all(emb == "yes" for _, emb in cjk)


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils not installed")
def test_first_page_rasterises(rendered, tmp_path):
    from PIL import Image

    pdf = rendered["team_en"]["pdf"]
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    (png,) = tmp_path.glob("page*.png")
    with Image.open(png) as image:
        assert image.width > 400 and image.height > 600
        grey = image.convert("L")
        dark = sum(1 for value in grey.getdata() if value < 128)
    assert dark > 2000  # header band, text and bars were drawn


# --------------------------------------------------------------------------- no fetching


def test_rendering_samples_makes_no_request(rendered, server):
    port, hits = server
    assert f"127.0.0.1:{port}" in rendered["team_en"]["html"]  # the payloads are really in there
    assert not [h for h in hits if h.startswith(DATA_PATHS)]


def test_default_fetcher_would_fetch_but_safe_fetcher_does_not(server, tmp_path):
    """Positive control: the same raw markup does reach the server through WeasyPrint's default."""
    port, hits = server
    raw = (
        f'<img src="http://127.0.0.1:{port}/control-%s">'
        f'<p style="background: url(http://127.0.0.1:{port}/control-%s-css)">x</p>'
    )
    HTML(string=raw % ("default", "default")).write_pdf(tmp_path / "a.pdf")
    assert "/control-default" in hits
    HTML(string=raw % ("safe", "safe"), url_fetcher=SafeFetcher()).write_pdf(tmp_path / "b.pdf")
    assert not [h for h in hits if h.startswith("/control-safe")]


def embedded_files(pdf: Path) -> list[bytes]:
    """Contents of files embedded in a PDF, as document attachments or attachment annotations."""
    reader = PdfReader(str(pdf))
    found = [data for datas in reader.attachments.values() for data in datas]
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") == "/FileAttachment":
                found.append(annot["/FS"].get_object()["/EF"]["/F"].get_object().get_data())
    return found


def test_safe_fetcher_keeps_local_files_out_of_the_pdf(tmp_path):
    raw = (
        '<a rel="attachment" href="file:///etc/passwd">a</a>'
        '<img src="file:///etc/passwd"><p style="background: url(file:///etc/hostname)">x</p>'
    )
    HTML(string=raw).write_pdf(tmp_path / "default.pdf")
    leaked = embedded_files(tmp_path / "default.pdf")
    assert any(b"root:" in data for data in leaked)  # control: the default fetcher embeds it
    HTML(string=raw, url_fetcher=SafeFetcher()).write_pdf(tmp_path / "safe.pdf")
    assert not any(b"root:" in data for data in embedded_files(tmp_path / "safe.pdf"))
    assert b"root:" not in (tmp_path / "safe.pdf").read_bytes()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.com/x.png",
        "ftp://example.com/x",
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://evil.example/share/x.css",
        "file:///dev/zero",
        "TEMPLATES/../../../etc/passwd",
        "TEMPLATES/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "TEMPLATES/",
        "TEMPLATES/missing.css",
        "javascript:alert(1)",
    ],
)
def test_safe_fetcher_refuses(url):
    url = url.replace("TEMPLATES", templates_dir().as_uri())
    with pytest.raises(PermissionError):
        SafeFetcher().fetch(url)


def test_safe_fetcher_allows_template_files_and_data_urls():
    fetcher = SafeFetcher()
    response = fetcher.fetch((templates_dir() / "scorecard.css").as_uri())
    try:
        assert response.read().decode("utf-8") == stylesheet_text()
        assert response.content_type == "text/css"
    finally:
        response.close()
    data = fetcher.fetch("data:text/plain;base64,aGVsbG8=")
    try:
        assert data.read() == b"hello"
    finally:
        data.close()


# --------------------------------------------------------------------------- process pool


def test_render_pdfs_in_a_pool_reports_progress(tmp_path):
    html = render_html(load("person_zh"))
    jobs = [(html, str(tmp_path / "out" / f"card-{i}.pdf")) for i in range(5)]
    seen: list[int] = []
    seconds = render_pdfs(jobs, processes=2, progress=seen.append, chunk_size=2)
    assert len(seconds) == 5 and all(s > 0 for s in seconds)
    assert seen == sorted(seen) and seen[-1] == 5
    for _, path in jobs:
        assert Path(path).read_bytes().startswith(b"%PDF")
    assert not list((tmp_path / "out").glob(".*part"))


def test_render_pdfs_names_the_failing_file(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(RuntimeError, match="not-a-dir"):
        render_pdfs([("<p>x</p>", str(blocker / "card.pdf"))], processes=1)


def test_environment_is_reused_per_locale():
    assert jinja_env("en") is jinja_env("en")
    assert jinja_env("en") is not jinja_env("zh-CN")
    assert render.templates_dir() == Path(str(templates_dir()))


CARD_KEYS = set(
    "locale currency company_name tier owner_id owner_name team_name quarter_label period_text as_of"
    " is_mid_quarter elapsed_pct generated_at run_id score status weighted counts objective_counts objectives"
    " members member_columns distribution data_quality_notes kr_quality_notes links history history_quarters change"
    " focus movers gaps behind rollup how_made bands left_on history_chart leavers_note likely_miss".split()
)
OBJECTIVE_KEYS = set(
    "objective_id title score status objective_weight weight_share aligned_to aligned_children aligned_groups"
    " krs".split()
)
KR_KEYS = set(
    "kr_id title source metric unit direction baseline target actual attainment score score_bar_pct"
    " status expected_score weight weight_share trend lineage note covered share short_by history"
    " is_cumulative decimals baseline_note pace trend_chart history_chart adjusted computed_score adjusted_score"
    " adjustment_reason adjusted_by forecast confidence confidence_flag".split()
)
INDEX_ROW_KEYS = set("tier owner_id name team_name score status html_href pdf_href".split())


def test_a_coverage_shows_its_two_counts_beside_its_share():
    html = render_html(load("team_en"))
    assert html.count('<div class="covered">11 of 27</div>') == 1


def test_samples_follow_the_view_model_contract():
    """The samples are the contract other modules build against: same keys at every level."""
    for name in CARDS:
        vm = load(name)
        assert set(vm) == CARD_KEYS
        assert set(vm["counts"]) == {"krs", "computed", "manual", "no_data"}
        assert set(vm["objective_counts"]) == {"total", "with_data"}
        assert set(vm["distribution"]) == {"red", "yellow", "green", "no_data"}
        assert set(vm["links"]) == {"index", "pdf"}
        for objective in vm["objectives"]:
            assert set(objective) == OBJECTIVE_KEYS
            for kr in objective["krs"]:
                assert set(kr) == KR_KEYS
                assert all(set(point) == {"label", "value", "bar_pct"} for point in kr["trend"])
        for member in vm["members"]:
            assert set(member) == {"owner_id", "name", "href", "score", "status", "cells", "left_on"}
    index = load("index_zh")
    assert all(set(row) == INDEX_ROW_KEYS for row in index["rows"])
    vm = load("team_en")
    snapshot = copy.deepcopy(vm)
    render_html(vm)
    assert vm == snapshot  # rendering never mutates the caller's view model


# --------------------------------------------------------------------------- what is shown is what is computed


class _TextOf(HTMLParser):
    """Text of every element carrying one of the given classes, in document order, as (class, text)."""

    def __init__(self, classes: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.classes = classes
        self.found: list[tuple[str, str]] = []
        self._open: list[tuple[str | None, int]] = []  # (class looked for or None, index into found)

    def handle_starttag(self, tag, attrs):
        if tag in ("col", "br", "meta", "link", "img", "input", "hr"):
            return  # void elements have no end tag
        self.handle_data(" ")  # a nested element starts: words on either side stay apart
        hit = next((c for c in (dict(attrs).get("class") or "").split() if c in self.classes), None)
        if hit:
            self.found.append((hit, ""))
        self._open.append((hit, len(self.found) - 1))

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()
        self.handle_data(" ")

    def handle_data(self, data):
        for hit, i in self._open:
            if hit:
                self.found[i] = (self.found[i][0], self.found[i][1] + data)


def texts(html: str, cls: str) -> list[str]:
    parser = _TextOf({cls})
    parser.feed(html)
    return [re.sub(r"\s+", " ", text).strip() for _, text in parser.found]


def summary_counts(html: str) -> tuple[int, list[int]]:
    """The header line's total and its parts, as printed."""
    (line,) = texts(html, "summary-line")
    total = texts(html, "count-krs")
    parts = [int(n) for n in texts(html, "count-part")]
    assert len(total) == 1 and len(parts) == 3, line
    return int(total[0]), parts


def kr_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="main">.*?</tr>', html, flags=re.S)


def test_sample_cards_show_weights_only_when_used_and_counts_add_up(rendered):
    person, team = rendered["person_zh"], rendered["team_en"]
    # person_zh is not weighted: no weight column, no weight share anywhere
    assert person["vm"]["weighted"] is False
    assert texts(person["html"], "weight-share") == []
    assert labels("zh-CN")["weight_share"] not in person["html"]
    assert labels("zh-CN")["score_rule_mean"] in person["html"]
    # team_en is weighted 3 / 2 / 3 / 2: the header, then per objective the glance cell and the detail cell
    assert team["vm"]["weighted"] is True
    shown = texts(team["html"], "weight-share")
    assert shown[0] == "Weight share"
    assert shown[1:5] == ["30%", "20%", "30%", "20%"]
    assert shown[5:] == ["Weight share 30% (plan weight 3)", "Weight share 20% (plan weight 2)",
                         "Weight share 30% (plan weight 3)", "Weight share 20% (plan weight 2)"]
    for name in CARDS:
        html, vm = rendered[name]["html"], rendered[name]["vm"]
        total, parts = summary_counts(html)
        rows = kr_rows(html)
        assert total == sum(parts) == len(rows) == vm["counts"]["krs"]
        # "without data" counts the KRs whose status chip says no data, whatever their source
        assert parts[2] == sum('class="chip status-no_data"' in r for r in rows)
        assert parts[0] == sum("src-computed" in r and 'chip status-no_data' not in r for r in rows)
        assert parts[1] == sum("src-manual" in r and 'chip status-no_data' not in r for r in rows)


def test_member_distribution_adds_up_to_the_members_shown(rendered):
    for name in ("team_en", "company_zh"):
        html, vm = rendered[name]["html"], rendered[name]["vm"]
        legend = re.search(r'<div class="dist">.*?<div class="legend">(.*?)</div>', html, flags=re.S).group(1)
        counts = [int(n) for n in re.findall(r"<b>(\d+)</b>", legend)]
        members = re.findall(r"<tr>\s*<td>.*?</tr>", html.split('class="members"')[1].split("</table>")[0],
                             flags=re.S)
        assert len(counts) == 4
        assert sum(counts) == len(members) == len(vm["members"])


# A tiny workspace computed for real: person p1 with three objectives.
#   O1 (objective weight 1): k1 manual 1 of 10 -> 0.1; k5 computed, 2 won deals of 4 -> 0.5; O1 = 0.3
#   O2 (objective weight 3): k2 manual 9 of 10 -> 0.9 (weight 2); k3 computed, mean lost amount: no lost
#                            deals -> no data (weight 5, left out); O2 = 0.9
#   O3 (objective weight 4): k4 manual without a check-in -> no data; O3 no data, left out
# weighted: (0.3 * 1 + 0.9 * 3) / (1 + 3) = 0.75, shares 25 % / 75 %; unweighted: (0.3 + 0.9) / 2 = 0.6
TINY_PLAN = [
    # owner, objective, objective weight, kr, metric, target, weight
    ("p1", "O1", 1.0, "k1", "progress", 10.0, 1.0),
    ("p1", "O1", 1.0, "k5", "won", 4.0, 1.0),
    ("p1", "O2", 3.0, "k2", "progress", 10.0, 2.0),
    ("p1", "O2", 3.0, "k3", "lost_amount", 100.0, 5.0),
    ("p1", "O3", 4.0, "k4", "progress", 10.0, 1.0),
]


def tiny_card(objective_weights: bool, plan_rows: list[tuple] = TINY_PLAN, locale: str = "en") -> dict:
    import pandas as pd

    from transforms import config as cfg
    from transforms.calendar import Quarter
    from transforms.report import compute_quarter
    from transforms.scorecards import build_scorecards
    from transforms.validation import stage_workspace

    ws = cfg.Workspace.model_validate({
        "company": {"id": "acme", "name": "Acme"}, "locale": "en", "currency": "USD",
        "sources": {name: {"path": f"{name}.csv"} for name in ("people", "plan", "checkins", "deals")},
        "metrics": {
            "progress": {"kind": "manual"},
            "won": {"kind": "count", "table": "deals", "time": "closed_at", "where": {"stage": "won"}},
            "lost_amount": {"kind": "mean", "table": "deals", "column": "amount", "time": "closed_at",
                            "where": {"stage": "lost"}},
        },
    })
    plan = pd.DataFrame([("person", owner, o, f"{o} title", k, f"{k} title", m, 0.0, t, w)
                         for owner, o, _, k, m, t, w in plan_rows],
                        columns=["tier", "owner_id", "objective_id", "objective_title_en", "kr_id", "kr_title_en",
                                 "metric", "baseline", "target", "weight"])
    if objective_weights:
        plan["objective_weight"] = [row[2] for row in plan_rows]
    raw = {
        "people": pd.DataFrame({"person_id": ["p1"], "person_name": ["Pat"], "team_id": ["T1"]}),
        "plan": plan,
        "checkins": pd.DataFrame({"kr_id": ["k1", "k2"], "owner_id": ["p1", "p1"],
                                  "checked_at": ["2024-06-20", "2024-06-21"], "value": [1.0, 9.0]}),
        # two open deals expected to close on the quarter's first and last day: the data covers the quarter
        "deals": pd.DataFrame({"deal_id": ["d1", "d2", "d3", "d4"], "person_id": ["p1"] * 4,
                               "stage": ["won", "won", "open", "open"], "amount": [10.0, 20.0, 30.0, 40.0],
                               "closed_at": ["2024-04-10", "2024-05-10", "2024-04-01", "2024-06-30"]}),
    }
    for frame in raw.values():
        frame.index = pd.RangeIndex(2, 2 + len(frame))  # spreadsheet rows below the header
    tables, problems = stage_workspace(raw, ws)
    assert [p for p in problems if p.severity == "error"] == []
    res = compute_quarter(ws, tables, Quarter(2024, 2, 1))
    (card,) = build_scorecards(res, ws, tables, locale, "2024-07-01 06:00", "run-1")
    return card


def test_weighted_card_shows_the_shares_the_score_used():
    card = tiny_card(objective_weights=True)
    assert card["weighted"] is True
    assert card["score"] == pytest.approx(0.75)
    o1, o2, o3 = card["objectives"]
    assert (o1["score"], o2["score"], o3["score"]) == (pytest.approx(0.3), pytest.approx(0.9), None)
    assert (o1["weight_share"], o2["weight_share"], o3["weight_share"]) == (0.25, 0.75, None)
    assert (o1["objective_weight"], o2["objective_weight"], o3["objective_weight"]) == (1.0, 3.0, 4.0)
    # the shares shown reproduce the score shown: 0.25 * 0.3 + 0.75 * 0.9 = 0.75
    assert sum(o["weight_share"] * o["score"] for o in (o1, o2)) == pytest.approx(card["score"])
    html = render_html(card)
    assert texts(html, "weight-share") == [
        "Weight share", "25%", "75%", "not counted",
        "Weight share 25% (plan weight 1)", "Weight share 75% (plan weight 3)", "Weight share not counted "
        "(plan weight 4)"]
    assert texts(html, "badge")[0].split()[1] == "0.75"
    # each KR shows its share of its objective: k1 and k5 half each, k2 all of O2, k3 and k4 not counted
    assert texts(html, "krweight") == ["weight 50%", "weight 50%", "weight 100%", "weight not counted",
                                       "weight not counted"]
    # each KR counted once: k5 computed; k1, k2 manual; k3 (computed) and k4 (manual) without data
    assert card["counts"] == {"krs": 5, "computed": 1, "manual": 2, "no_data": 2}
    assert summary_counts(html) == (5, [1, 2, 2])
    assert texts(html, "summary-line") == ["5 key results: computed 1 · manual 2 · without data 2"]
    assert texts(html, "score-rule") == ["Score: mean of the objectives with data, weighted by the shares shown · "
                                         "2 of 3 have data"]


def test_unweighted_card_shows_no_objective_weights_and_the_plain_mean():
    card = tiny_card(objective_weights=False)
    assert card["weighted"] is False
    assert card["score"] == pytest.approx(0.6)   # (0.3 + 0.9) / 2
    assert [o["weight_share"] for o in card["objectives"]] == [None, None, None]
    assert [o["objective_weight"] for o in card["objectives"]] == [None, None, None]
    html = render_html(card)
    assert texts(html, "weight-share") == []
    assert labels("en")["weight_share"] not in html
    assert labels("en")["weights_key_objective"] not in html
    assert texts(html, "badge")[0].split()[1] == "0.60"
    assert texts(html, "score-rule") == ["Score: plain mean of the objectives with data · 2 of 3 have data"]
    # KR weights are still used inside each objective, so they are still shown
    assert texts(html, "krweight") == ["weight 50%", "weight 50%", "weight 100%", "weight not counted",
                                       "weight not counted"]
    assert summary_counts(html) == (5, [1, 2, 2])
    assert card["data_quality_notes"] == []


def test_objective_weights_that_meet_from_two_owner_patterns_are_not_used_and_the_card_says_why():
    # k3 comes from a row for every person ('*') with objective weight 5; p1's own row for O2 says 3.
    # Each owner as written is consistent, so validation passes; p1's O2 ends up with two weights.
    rows = [("*", "O2", 5.0, *row[3:]) if row[3] == "k3" else row for row in TINY_PLAN]
    card = tiny_card(objective_weights=True, plan_rows=rows)
    assert card["weighted"] is False
    assert card["score"] == pytest.approx(0.6)   # the plain mean, as if no objective had a weight
    html = render_html(card)
    assert texts(html, "weight-share") == []
    # the card numbers objectives in the order of their KRs: the '*' row comes first, so O2 is shown as O1
    assert [o["objective_id"] for o in card["objectives"]] == ["O2", "O1", "O3"]
    assert card["data_quality_notes"] == [
        "Objective weights are not used: only O2, O3 have one; the key results of O1 give different ones. The "
        "score is the plain mean of the objectives with data."]
    zh = tiny_card(objective_weights=True, plan_rows=rows, locale="zh-CN")
    assert zh["data_quality_notes"] == [
        "未使用目标权重：仅 O2、O3 设置了目标权重；O1 的各关键结果给出的目标权重不一致。得分为有数据目标的简单平均。"]
