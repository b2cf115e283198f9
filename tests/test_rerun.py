"""Single-team re-runs: only that team, its members and (when its roll-up changed) the company are
re-rendered; every other published file stays byte-identical.

Runs the real CLI over the Maven CRM example (2017-Q4: 1 company, 6 teams, 35 people).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import MAVEN, okr_report

QUARTER = "2017-Q4"
TEAM = "Dustin Brinkmann"  # team ids are the managers' names in this export


def run(workspace: Path, out: Path, *args: str):
    p = okr_report("run", "--workspace", str(workspace), "--quarter", QUARTER, "--out", str(out), *args)
    assert p.returncode == 0, p.stderr
    return p


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def manifest(out: Path) -> dict:
    return json.loads((out / QUARTER / "manifest.json").read_text(encoding="utf-8"))


def history(out: Path) -> list[dict]:
    lines = (out / ".runs" / QUARTER / "history.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def kr_rows(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / QUARTER / "kr_values.csv", dtype=str, keep_default_na=False)


def team_members() -> set[str]:
    teams = pd.read_csv(MAVEN / "sales_teams.csv")
    return set(teams.loc[teams["manager"] == TEAM, "sales_agent"])


def card_files(cards: list[dict], keep) -> list[str]:
    return [f"{c['path']}.{ext}" for c in cards if keep(c) for ext in ("html", "pdf")]


def in_team(card: dict) -> bool:
    return (card["tier"] == "team" and card["owner_id"] == TEAM) or (
        card["tier"] == "person" and card["owner_id"] in team_members())


def others(card: dict) -> bool:
    return card["tier"] != "company" and not in_team(card)


def other_kr_rows(df: pd.DataFrame) -> pd.DataFrame:
    scoped = (df["tier"] == "company") | ((df["tier"] == "team") & (df["owner_id"] == TEAM)) | (
        (df["tier"] == "person") & df["owner_id"].isin(team_members()))
    return df[~scoped].reset_index(drop=True)


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """One full run, then a team re-run over the same unchanged exports."""
    out = tmp_path_factory.mktemp("rerun_out")
    run(MAVEN, out)
    before = {"digests": digests(out / QUARTER), "manifest": manifest(out), "kr": kr_rows(out)}
    run(MAVEN, out, "--team", TEAM)
    return out, before


def test_team_rerun_leaves_every_other_scorecard_byte_identical(full):
    out, before = full
    cards = before["manifest"]["cards"]
    assert len(cards) == 42
    assert sum(in_team(c) for c in cards) == 1 + len(team_members())
    after = digests(out / QUARTER)
    for name in card_files(cards, others):
        assert after[name] == before["digests"][name], name
    for name in card_files(cards, in_team):
        assert name in after, name
    # nothing changed in the data, so the company card is the same too
    for name in card_files(cards, lambda c: c["tier"] == "company"):
        assert after[name] == before["digests"][name], name
    pd.testing.assert_frame_equal(other_kr_rows(kr_rows(out)), other_kr_rows(before["kr"]))
    assert len(kr_rows(out)) == len(before["kr"])


def test_team_rerun_of_unchanged_exports_keeps_the_published_version(full):
    out, before = full
    m = manifest(out)
    assert m["run_id"] == before["manifest"]["run_id"], "nothing changed: the version is the one published"
    assert m["scope"] == "all"
    assert len(m["cards"]) == len(before["manifest"]["cards"])
    runs = history(out)
    assert [r["scope"] for r in runs] == ["all", "team"]
    assert runs[-1]["unchanged_since"] == m["run_id"]
    assert runs[-1]["run_id"] != m["run_id"]


def test_changed_deal_rerenders_the_team_and_company_only(full, tmp_path):
    out, before = full
    workspace = tmp_path / "maven"
    shutil.copytree(MAVEN, workspace)
    deals_csv = workspace / "sales_pipeline.csv"
    deals_csv.chmod(deals_csv.stat().st_mode | stat.S_IWUSR)
    deals = pd.read_csv(deals_csv, dtype=str, keep_default_na=False)
    won_in_quarter = ((deals["deal_stage"] == "Won") & deals["sales_agent"].isin(team_members())
                      & (deals["close_date"] >= "2017-10-01") & (deals["close_date"] <= "2017-12-31"))
    i = deals.index[won_in_quarter][0]
    agent = deals.at[i, "sales_agent"]
    deals.at[i, "close_value"] = str(int(deals.at[i, "close_value"]) + 250_000)
    deals.to_csv(deals_csv, index=False)

    team_before = digests(out / QUARTER)
    run(workspace, out, "--team", TEAM)
    after = digests(out / QUARTER)
    cards = before["manifest"]["cards"]
    path = {(c["tier"], c["owner_id"]): c["path"] for c in cards}

    company = next(c["owner_id"] for c in cards if c["tier"] == "company")
    for key in (("team", TEAM), ("person", agent), ("company", company)):
        for ext in ("html", "pdf"):
            name = f"{path[key]}.{ext}"
            assert after[name] != team_before[name], name
    for name in card_files(cards, others):
        assert after[name] == before["digests"][name], name
    pd.testing.assert_frame_equal(other_kr_rows(kr_rows(out)), other_kr_rows(before["kr"]))
    changed = kr_rows(out)
    revenue = changed[(changed["tier"] == "person") & (changed["owner_id"] == agent)
                      & (changed["metric"] == "won_revenue")]
    old = before["kr"][(before["kr"]["tier"] == "person") & (before["kr"]["owner_id"] == agent)
                       & (before["kr"]["metric"] == "won_revenue")]
    if len(revenue):  # the agent has a revenue KR: it moved by exactly the change
        assert float(revenue["actual"].iloc[0]) - float(old["actual"].iloc[0]) == pytest.approx(250_000)
    assert [r["scope"] for r in history(out)] == ["all", "team", "team"]
