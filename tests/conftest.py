"""Shared fixtures: real CLI runs over the demo workspace, done once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
MAVEN = ROOT / "data" / "examples" / "maven_crm"
DEMO_QUARTER = "FY2017-18-Q4"
DEMO_SLUG = "FY2017-18-Q4"


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    out: Path


def okr_report(*args: str, env: dict[str, str] | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the real console script (same interpreter as the tests)."""
    full_env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "flows.cli", *args]
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)


def run_cli(*args: str, out: Path, env: dict[str, str] | None = None) -> CliRun:
    p = okr_report(*args, "--out", str(out), env=env)
    return CliRun(p.returncode, p.stdout, p.stderr, out)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> CliRun:
    """The demo workspace's last quarter, rendered once for every test that reads its outputs."""
    out = tmp_path_factory.mktemp("demo_out")
    return run_cli("run", "--workspace", str(DEMO), "--quarter", DEMO_QUARTER, out=out)


@pytest.fixture(scope="session")
def demo_folder(demo_run) -> Path:
    assert demo_run.returncode == 0, demo_run.stderr
    return demo_run.out / DEMO_SLUG


DEMO_Q2_QUARTER = "FY2017-18-Q2"


@pytest.fixture(scope="session")
def okr_cli():
    """The console-script runner (``okr_report``) for tests that call commands other than a demo run."""
    return okr_report


@pytest.fixture(scope="session")
def demo_en_run(tmp_path_factory) -> CliRun:
    """The demo's last quarter rendered in English into its own output folder."""
    out = tmp_path_factory.mktemp("demo_en_out")
    return run_cli("run", "--workspace", str(DEMO), "--quarter", DEMO_QUARTER, "--locale", "en", out=out)


@pytest.fixture(scope="session")
def demo_q2_run(tmp_path_factory) -> CliRun:
    """The demo's FY2017-18 Q2 (the quarter the headcount KR is due), rendered into its own folder."""
    out = tmp_path_factory.mktemp("demo_q2_out")
    return run_cli("run", "--workspace", str(DEMO), "--quarter", DEMO_Q2_QUARTER, out=out)
