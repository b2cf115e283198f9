"""Closing a quarter for real on the small workspace (9 scorecards, 2024 Q2): close, verify, a tampered file, a
refused run, a mid-quarter run beside it, send, --reopen; and an adjustments sheet read like every export.

The workspace is the good twin of the bad-input corpus with one adjustments row: P02's KR5 (won deals, target
2: D03 and D12 won in Q2 -> 1.00) adjusted to 0.50 by Dee Park. P02 holds that one KR, so the card scores 0.50.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, okr_report

GOOD = ROOT / "tests" / "bad_inputs" / "good"
QUARTER = "2024-Q2"
ADJUSTMENTS = """Quarter,KR,Owner,Tier,Score,Reason,By
2024-Q2,KR5,P02,person,0.5,Customer C12 disputes the deal,Dee Park
"""
SOURCE = """  adjustments:
    path: exports/adjustments.csv
    columns: {quarter: Quarter, kr_id: KR, owner_id: Owner, tier: Tier, adjusted_score: Score, reason: Reason,
              adjusted_by: By}
"""
FILES = 9 * 2 + 3  # every card's HTML and PDF, index.html, kr_values.csv and kr_values.xlsx


def workspace(root: Path, adjustments: str) -> Path:
    ws = root / "ws"
    shutil.copytree(GOOD, ws)
    (ws / "exports" / "adjustments.csv").write_text(adjustments, encoding="utf-8")
    text = (ws / "okr.yaml").read_text(encoding="utf-8")
    (ws / "okr.yaml").write_text(text.replace("\nsources:\n", "\nsources:\n" + SOURCE), encoding="utf-8")
    return ws


def cli(ws: Path, *args: str):
    return okr_report(*args, "--workspace", str(ws), "--quarter", QUARTER, "--out", str(ws / "out"))


def manifest(ws: Path) -> dict:
    return json.loads((ws / "out" / QUARTER / "manifest.json").read_text(encoding="utf-8"))


def history(ws: Path) -> list[dict]:
    lines = (ws / "out" / ".runs" / QUARTER / "history.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    ws = workspace(tmp_path_factory.mktemp("close"), ADJUSTMENTS)
    p = cli(ws, "close", "--by", "Ann Lee")
    assert p.returncode == 0, p.stderr
    return ws, p


def test_close_runs_the_quarter_first_and_records_every_file(closed):
    ws, p = closed
    assert "computed 13 KR values" in p.stdout  # nothing was published: the run came first
    assert f"by Ann Lee: {FILES} files and their sha256 recorded" in p.stdout
    m = manifest(ws)
    assert m["closed"]["by"] == "Ann Lee" and m["reopened"] is None
    folder = ws / "out" / QUARTER
    on_disk = {str(f.relative_to(folder)) for f in folder.rglob("*") if f.is_file()} - {"manifest.json"}
    assert set(m["files"]) == on_disk and len(on_disk) == FILES
    assert [("closed" in h) for h in history(ws)] == [False, True]


def test_the_adjusted_grade_is_in_kr_values(closed):
    ws, _ = closed
    kr = pd.read_csv(ws / "out" / QUARTER / "kr_values.csv", dtype=str, keep_default_na=False)
    row = kr[(kr["owner_id"] == "P02") & (kr["kr_id"] == "KR5")].iloc[0]
    assert (row["computed_score"], row["adjusted_score"], row["score"], row["status"]) == ("1.0", "0.5", "0.5",
                                                                                          "yellow")
    assert (row["adjustment_reason"], row["adjusted_by"]) == ("Customer C12 disputes the deal", "Dee Park")
    p02 = next(c for c in manifest(ws)["cards"] if c["owner_id"] == "P02")
    assert (p02["score"], p02["status"]) == (0.5, "yellow")
    html = (ws / "out" / QUARTER / "people" / "P02.html").read_text(encoding="utf-8")
    assert "computed 1.00 → adjusted <b>0.50</b>" in html and "Customer C12 disputes the deal" in html


def test_verify_ok_then_a_tampered_missing_and_added_file_by_name(closed):
    ws, _ = closed
    p = cli(ws, "verify")
    assert p.returncode == 0, p.stderr
    assert f"OK: {FILES} files in" in p.stdout
    folder = ws / "out" / QUARTER
    html, pdf = folder / "people" / "P03.html", folder / "people" / "P03.pdf"
    saved = html.read_bytes(), pdf.read_bytes()
    html.unlink()  # a new file in its place: the earlier versions sharing its bytes stay as they were
    html.write_bytes(saved[0].replace(b"</body>", b"<p>edited</p></body>"))
    pdf.unlink()
    (folder / "notes.txt").write_text("added by hand", encoding="utf-8")
    try:
        p = cli(ws, "verify")
        assert p.returncode == 1, p.stdout + p.stderr
        assert "  changed: people/P03.html\n  missing: people/P03.pdf\n  added: notes.txt\n" in p.stdout
        assert "3 files differ from manifest.json" in p.stdout
    finally:
        html.unlink()
        html.write_bytes(saved[0])
        pdf.write_bytes(saved[1])
        (folder / "notes.txt").unlink()
    assert cli(ws, "verify").returncode == 0


def test_an_unchanged_run_of_a_closed_quarter_answers_unchanged(closed):
    ws, _ = closed
    before = manifest(ws)
    p = cli(ws, "run")
    assert p.returncode == 0, p.stderr
    assert "nothing changed since the published run" in p.stdout
    assert manifest(ws) == before


def test_a_changed_input_is_refused_and_a_mid_quarter_run_is_not(closed):
    ws, _ = closed
    before = manifest(ws)
    deals = ws / "exports" / "deals.csv"
    deals.write_text(deals.read_text().replace("D05,P05,C05,Closed Won,3200", "D05,P05,C05,Closed Won,5200"))
    p = cli(ws, "run")
    assert p.returncode == 2, p.stdout + p.stderr
    assert f"2024 Q2 was closed on {before['closed']['at']} by Ann Lee" in p.stderr
    assert '--reopen "REASON"' in p.stderr and "Traceback" not in p.stderr
    assert manifest(ws) == before
    p = cli(ws, "run", "--as-of", "2024-05-15")
    assert p.returncode == 0, p.stderr
    assert manifest(ws) == before
    assert cli(ws, "send", "--dry-run").returncode == 0  # read-only: a closed quarter is still mailed


def test_reopen_records_why_and_who_and_leaves_the_quarter_open(closed):
    ws, _ = closed
    before = manifest(ws)
    deals = ws / "exports" / "deals.csv"  # the corrected amount (already there when the refusal test ran here)
    deals.write_text(deals.read_text().replace("D05,P05,C05,Closed Won,3200", "D05,P05,C05,Closed Won,5200"))
    p = cli(ws, "run", "--reopen", "D05 amount corrected in the CRM", "--by", "Bo Chen")
    assert p.returncode == 0, p.stderr
    m = manifest(ws)
    assert m["closed"] is None and len(m["files"]) == FILES  # every run records its files' hashes
    assert {k: m["reopened"][k] for k in ("by", "reason", "closed_at", "closed_by")} == {
        "by": "Bo Chen", "reason": "D05 amount corrected in the CRM", "closed_at": before["closed"]["at"],
        "closed_by": "Ann Lee"}
    assert history(ws)[-1]["reopened"] == m["reopened"]
    p = cli(ws, "verify")
    assert p.returncode == 2 and "is published but not closed" in p.stderr


def test_an_adjustment_of_a_kr_not_in_the_plan_is_refused(tmp_path):
    ws = workspace(tmp_path, ADJUSTMENTS + "2024-Q2,KR5,acme,company,0.9,Wrong owner,Dee Park\n")
    p = cli(ws, "run")
    assert p.returncode == 2, p.stdout + p.stderr
    assert ("exports/adjustments.csv, row 3, column 'KR': value 'KR5': expected a KR that company 'acme' holds "
            "in the quarter's plan; that owner holds KR1, KR2, KR7") in p.stderr
    assert "Traceback" not in p.stderr
    assert not (ws / "out" / QUARTER).exists()


def test_a_tampered_card_is_rendered_again_not_carried_into_the_next_version(tmp_path):
    """A card edited after publishing is not kept by the next run, whether nothing else changed or other
    inputs did: its bytes no longer match the manifest, so it is laid out afresh rather than linked."""
    ws = workspace(tmp_path, ADJUSTMENTS)
    assert cli(ws, "run").returncode == 0
    card = ws / "out" / QUARTER / "people" / "P03.html"
    original = card.read_text(encoding="utf-8")
    card.unlink()  # replaced, as an editor saving a copy does
    card.write_text(original.replace("</body>", "<p>edited by hand</p></body>"), encoding="utf-8")
    tampered = card.stat().st_ino
    p = cli(ws, "run")  # nothing else changed: still not "unchanged", since a file is not as published
    assert p.returncode == 0, p.stderr
    assert "nothing changed" not in p.stdout
    assert "edited by hand" not in (ws / "out" / QUARTER / "people" / "P03.html").read_text(encoding="utf-8")
    card = ws / "out" / QUARTER / "people" / "P03.html"
    card.unlink()
    card.write_text(original.replace("</body>", "<p>edited by hand</p></body>"), encoding="utf-8")
    tampered = card.stat().st_ino
    deals = ws / "exports" / "deals.csv"  # P05's deal: P03's own card content does not change
    deals.write_text(deals.read_text().replace("D05,P05,C05,Closed Won,3200", "D05,P05,C05,Closed Won,5200"))
    p = cli(ws, "run")
    assert p.returncode == 0, p.stderr
    again = ws / "out" / QUARTER / "people" / "P03.html"
    assert again.stat().st_ino != tampered
    assert "edited by hand" not in again.read_text(encoding="utf-8")
    m = manifest(ws)
    assert m["files"]["people/P03.html"] == hashlib.sha256(again.read_bytes()).hexdigest()
    assert 0 < m["reused"] < 9  # the other untouched cards are still reused
