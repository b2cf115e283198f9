"""Every command refuses a mistaken argument with exit code 2, one clear line and no traceback, before any
orchestration engine starts (its home folder is never even created)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

GOOD = ROOT / "tests" / "bad_inputs" / "good"  # quarter 2024-Q2, teams East and West, people P01-P06
W = ["--workspace", str(GOOD)]

CASES = [
    (["run", *W, "--team", "Easst"], "--team: value 'Easst': a team id or name of the workspace: East, West; "
                                    "did you mean 'East'?"),
    (["run", *W, "--person", "P7"], "--person: value 'P7': a person id from the people directory"),
    (["run", *W, "--team", "East", "--person", "P02"], "--team / --person: value 'East / P02': one of them, not both"),
    (["run", *W, "--quarter", "2024-Q5"], "--quarter: quarter '2024-Q5' is not understood"),
    (["run", *W, "--quarter", "2024-Q2", "--as-of", "2024-01-15"],
     "--as-of: value '2024-01-15': a day within 2024 Q2 (2024-04-01 – 2024-06-30), or leave out --quarter"),
    (["run", *W, "--as-of", "2024-13-01"], "--as-of: value '2024-13-01': expected a date YYYY-MM-DD"),
    (["run", *W, "--as-of", "2999-01-01"], "--as-of: value '2999-01-01': a day that has begun"),
    (["run", *W, "--locale", "fr"], "--locale: value 'fr': one of zh-CN, en"),
    (["run", "--workspace", "/nonexistent/ws"], "/nonexistent/ws: expected a workspace folder holding okr.yaml"),
    (["run", *W, "--quarter", "2024-Q2", "--send"], "mail settings: OKR_SMTP_HOST is not set"),
    (["run", *W, "--processes", "0"], "Invalid value for '--processes' / '-j'"),
    (["run", *W, "--bogus"], "No such option: --bogus"),
    (["send", *W, "--quarter", "2024-Q2", "--team", "Nowhere"], "--team: value 'Nowhere'"),
    (["send", *W, "--quarter", "2024-Q2"], "mail settings: OKR_SMTP_HOST is not set"),
    (["send", *W, "--quarter", "2024-Q2", "--dry-run"], "published scorecards of 2024 Q2; run 'okr-report run'"),
    (["send", *W, "--as-of", "2024-05-15", "--locale", "zh-CN", "--dry-run"],
     "published scorecards of 2024 Q2 (as of 2024-05-15, zh-CN)"),
    (["validate", "--workspace", "/nonexistent/ws"], "expected a workspace folder holding okr.yaml"),
    (["serve", "--workspace", "/nonexistent/ws"], "expected a workspace folder holding okr.yaml"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a[:1] + a[3:]) for a, _ in CASES])
def test_a_mistaken_argument_exits_2_before_the_engine_starts(args, message, tmp_path):
    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OKR_"))}
    env["PREFECT_HOME"] = str(home)
    p = subprocess.run([sys.executable, "-m", "flows.cli", *args, "--out", str(tmp_path / "out")]
                       if args[0] in ("run", "send") else [sys.executable, "-m", "flows.cli", *args],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stdout + p.stderr
    assert message in p.stderr, p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert not home.exists(), "the orchestration engine was started for a mistaken argument"
    assert not (tmp_path / "out").exists() or not any(Path(tmp_path / "out").iterdir())
