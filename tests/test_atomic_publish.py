"""A run killed at any moment leaves the quarter folder as the previous complete set or the new one.

Each case starts a real run of the small workspace (9 scorecards), waits for the stage's progress line on stderr,
and sends SIGKILL to the whole process group (flow, PDF workers, the local orchestration engine).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flows import publish as pub
from tests.conftest import ROOT, okr_report

WORKSPACE = ROOT / "tests" / "bad_inputs" / "good"
QUARTER = "2024-Q2"


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under a published quarter folder."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_complete(folder: Path) -> None:
    """Every scorecard the manifest lists is there, with the quarter-wide files."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name in ("index.html", "kr_values.csv", "kr_values.xlsx"):
        assert (folder / name).is_file(), name
    assert len(manifest["cards"]) == 9
    for card in manifest["cards"]:
        for ext in (".html", ".pdf"):
            f = folder / f"{card['path']}{ext}"
            assert f.is_file() and f.stat().st_size > 0, f


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    out = tmp_path_factory.mktemp("atomic")
    p = okr_report("run", "--workspace", str(WORKSPACE), "--quarter", QUARTER, "--out", str(out))
    assert p.returncode == 0, p.stderr
    return out, snapshot(out / QUARTER)


def kill_at(out: Path, marker: str) -> str:
    """Start a run and SIGKILL it right after ``marker`` shows on stderr; return what it printed."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    # --force: every scorecard really has to be rendered again
    cmd = [sys.executable, "-m", "flows.cli", "run", "--workspace", str(WORKSPACE), "--quarter", QUARTER,
           "--out", str(out), "--force"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if marker in line:
                os.killpg(proc.pid, signal.SIGKILL)
                break
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=60)
    assert any(marker in line for line in seen), "".join(seen)
    return "".join(seen)


@pytest.mark.parametrize("marker", [
    "extracting",                          # extract
    "checking and computing key results",  # stage + transform
    "rendering PDFs",                      # some PDFs written to the staging folder
    "publishing",                          # the swap
])
def test_sigkill_leaves_previous_or_new_complete_set(published, marker):
    out, before = published
    kill_at(out, marker)
    folder = out / QUARTER
    assert folder.is_dir(), "the quarter folder must survive a killed run"
    after = snapshot(folder)
    if after != before:
        # only a run that got through the swap may change it, and then completely
        assert_complete(folder)
        assert json.loads((folder / "manifest.json").read_text())["run_id"] != ""
    else:
        assert_complete(folder)


def test_next_run_recovers_after_kills(published):
    out, _ = published
    kill_at(out, "rendering PDFs")
    leftovers = list(pub.runs_dir(out, QUARTER).glob(".tmp-*"))
    assert leftovers, "a killed render leaves a staging folder behind (it is private to the run)"
    p = okr_report("run", "--workspace", str(WORKSPACE), "--quarter", QUARTER, "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert not list(pub.runs_dir(out, QUARTER).glob(".tmp-*"))
    assert_complete(out / QUARTER)
    versions = [d for d in pub.runs_dir(out, QUARTER).iterdir() if d.is_dir()]
    assert len(versions) <= pub.KEEP_VERSIONS


def test_swap_interrupted_between_rename_and_link(tmp_path):
    """A crash after the version folder is final but before the link moves keeps the old set."""
    out = tmp_path
    slug = "2017-Q4"
    first = pub.new_version(out, slug, "r1")
    (first / "manifest.json").write_text("{}")
    pub.publish(out, slug, first, "r1")
    second = pub.new_version(out, slug, "r2")
    (second / "manifest.json").write_text('{"new": true}')
    second.rename(second.with_name("r2"))  # the first half of publish(), then the process dies
    assert (out / slug / "manifest.json").read_text() == "{}"
    pub.recover(out, slug)
    assert (out / slug / "manifest.json").read_text() == "{}"
    third = pub.new_version(out, slug, "r3")
    (third / "manifest.json").write_text('{"third": true}')
    pub.publish(out, slug, third, "r3")
    assert json.loads((out / slug / "manifest.json").read_text()) == {"third": True}
