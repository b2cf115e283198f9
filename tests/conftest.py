"""Shared fixtures: real CLI runs over the demo workspace, done once per test session."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
MAVEN = ROOT / "data" / "examples" / "maven_crm"
DEMO_QUARTER = "FY2017-18-Q4"
DEMO_SLUG = "FY2017-18-Q4"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

# one orchestration database per test worker: two workers' engines never share (and lock) one SQLite file
os.environ["PREFECT_HOME"] = str(Path.home() / ".cache" / "okr-report-tests" / f"prefect-{WORKER}")
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    out: Path


SLOW_FIRST = ("test_one_truth.py", "test_dask.py", "test_delivery.py", "test_atomic_publish.py", "test_demo_e2e.py")
"""Modules that take minutes: started first, so that no worker is left with one of them at the end."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))


@pytest.fixture(scope="session", autouse=True)
def worker_prefect_server():
    """One Prefect server per test worker that every command-line run of the tests reports to, so each run
    does not start an engine of its own (the shared demo run still does: that path is tested there)."""
    from flows.serve import local_server

    with local_server() as url:
        os.environ["OKR_TEST_PREFECT_API_URL"] = url
        yield url
    os.environ.pop("OKR_TEST_PREFECT_API_URL", None)


def okr_report(*args: str, env: dict[str, str] | None = None, timeout: int = 900,
               own_engine: bool = False) -> subprocess.CompletedProcess:
    """Run the real console script (same interpreter as the tests), reporting to the worker's Prefect
    server, or with ``own_engine`` starting Prefect's temporary local engine as a user's first run does."""
    full_env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    if not own_engine and os.environ.get("OKR_TEST_PREFECT_API_URL"):
        full_env["PREFECT_API_URL"] = os.environ["OKR_TEST_PREFECT_API_URL"]
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "flows.cli", *args]
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)


def run_cli(*args: str, out: Path, env: dict[str, str] | None = None, own_engine: bool = False) -> CliRun:
    p = okr_report(*args, "--out", str(out), env=env, own_engine=own_engine)
    return CliRun(p.returncode, p.stdout, p.stderr, out)


def shared_run(tmp_path_factory, name: str, *args: str, own_engine: bool = False) -> CliRun:
    """A CLI run made once for the whole test session, whichever worker asks first; the others wait for it
    and read its outputs (tests never write into them)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if WORKER != "main" else base
    out = root / f"shared-{name}"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = root / f"shared-{name}.json"
        if record.is_file():
            return CliRun(**{**json.loads(record.read_text(encoding="utf-8")), "out": out})
        run = run_cli(*args, out=out, own_engine=own_engine)
        record.write_text(json.dumps({**asdict(run), "out": str(out)}), encoding="utf-8")
        return run


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> CliRun:
    """The demo workspace's last quarter, rendered once for every test that reads its outputs."""
    return shared_run(tmp_path_factory, "demo", "run", "--workspace", str(DEMO), "--quarter", DEMO_QUARTER,
                      own_engine=True)


@pytest.fixture(scope="session")
def demo_folder(demo_run) -> Path:
    assert demo_run.returncode == 0, demo_run.stderr
    return demo_run.out / DEMO_SLUG


@pytest.fixture(scope="session")
def okr_cli():
    """The console-script runner (``okr_report``) for tests that call commands other than a demo run."""
    return okr_report

