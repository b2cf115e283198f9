"""The scenarios that once left a published quarter stale or mixed, as plain tests over the small workspace.

Each runs the real command line in this process (one orchestration engine for all of them) and compares the
published final quarter with a fresh full run into an empty folder, file by file as its readers see it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.test_one_truth import GOOD, QUARTER, assert_same, byte_digests, folder_view

AS_OF = "2024-05-15"


def cli(ws: Path, out: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["run", "--workspace", str(ws), "--quarter", QUARTER, "--processes", "1",
                                      "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def ws(tmp_path) -> Path:
    shutil.copytree(GOOD, tmp_path / "ws")
    return tmp_path / "ws"


def fresh(ws: Path, tmp_path: Path, *args: str, folder: str = QUARTER) -> dict[str, object]:
    out = tmp_path / "fresh"
    shutil.rmtree(out, ignore_errors=True)
    cli(ws, out, *args)
    return folder_view(out / folder)


def edit_deal(ws: Path, deal: str, amount: str) -> None:
    path = ws / "exports" / "deals.csv"
    deals = pd.read_csv(path, dtype=str, keep_default_na=False)
    deals.loc[deals["Deal ID"] == deal, "Amount"] = amount
    deals.to_csv(path, index=False)


def test_a_team_run_after_an_edit_elsewhere_leaves_nothing_stale(ws, tmp_path):
    """Scenario 1: an edit in team West, a run for team East, then a full run."""
    out = tmp_path / "out"
    cli(ws, out)
    edit_deal(ws, "D05", "9200")  # P05, team West, won in May
    printed = cli(ws, out, "--team", "East")
    assert "also re-rendered outside --team, because their inputs changed too (not sent): teams/West" in printed
    assert_same(folder_view(out / QUARTER), fresh(ws, tmp_path), "after --team East")
    again = cli(ws, out)
    assert "nothing changed since the published run" in again
    assert_same(folder_view(out / QUARTER), fresh(ws, tmp_path), "after the full run")
    kr = pd.read_csv(out / QUARTER / "kr_values.csv", dtype={"owner_id": str})
    revenue = kr[(kr["tier"] == "team") & (kr["owner_id"] == "West") & (kr["metric"] == "won_revenue")]
    # team West's won deals closing in 2024 Q2 in deals.csv: D05 (now 9,200), D07 (1,500), D09 (2,200)
    assert revenue["actual"].tolist() == [9200 + 1500 + 2200]


def test_mid_quarter_and_other_locale_runs_never_touch_the_final_quarter(ws, tmp_path):
    """Scenarios 2 and 3: --as-of and --locale publish beside the final quarter, scoped runs patch their own."""
    out = tmp_path / "out"
    cli(ws, out)
    final = byte_digests(out / QUARTER)
    cli(ws, out, "--as-of", AS_OF)
    cli(ws, out, "--person", "P02", "--locale", "zh-CN")
    assert byte_digests(out / QUARTER) == final
    variants = [QUARTER, f"{QUARTER}.as-of-{AS_OF}", f"{QUARTER}.zh-CN"]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [*variants, "deliveries"]
    assert sorted(p.name for p in (out / "deliveries").iterdir()) == variants
    cli(ws, out, "--team", "East")
    assert byte_digests(out / QUARTER) == final, "nothing changed: the final quarter is kept as it was"
    mid = json.loads((out / f"{QUARTER}.as-of-{AS_OF}" / "manifest.json").read_text(encoding="utf-8"))
    assert (mid["as_of"], mid["variant"], mid["locale"]) == (AS_OF, f"{QUARTER}.as-of-{AS_OF}", "en")
    zh = folder_view(out / f"{QUARTER}.zh-CN")
    assert_same(zh, fresh(ws, tmp_path, "--locale", "zh-CN", folder=f"{QUARTER}.zh-CN"), "the zh-CN variant")
    # every card of the zh-CN variant is in Chinese, not just the person the scoped run asked for
    assert all('lang="zh-CN"' in text for name, text in zh.items() if name.endswith(".html"))


def test_a_scoped_mid_quarter_run_patches_its_own_variant(ws, tmp_path):
    out = tmp_path / "out"
    cli(ws, out, "--as-of", AS_OF)
    edit_deal(ws, "D07", "2500")  # P05, won on 2024-05-21: after the as-of day, so nothing moves mid-quarter
    edit_deal(ws, "D03", "3500")  # P02, won on 2024-04-03: before it
    printed = cli(ws, out, "--as-of", AS_OF, "--person", "P02")
    assert "outside --person" not in printed
    assert_same(folder_view(out / f"{QUARTER}.as-of-{AS_OF}"),
                fresh(ws, tmp_path, "--as-of", AS_OF, folder=f"{QUARTER}.as-of-{AS_OF}"), "the as-of variant")
    assert not (out / QUARTER).exists(), "a mid-quarter run never publishes the final quarter"


def test_force_renders_every_scorecard_again(ws, tmp_path):
    out = tmp_path / "out"
    cli(ws, out)
    printed = cli(ws, out, "--force")
    assert "scorecards: 9 rendered, 0 reused" in printed
