"""Rendering on an existing Dask cluster gives the same outputs as a local run.

The test starts a Prefect server and a local Dask cluster with two worker processes; both the flow
and the workers talk to that server (workers without PREFECT_API_URL would start servers of their own).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import ROOT, okr_report

GOOD = ROOT / "tests" / "bad_inputs" / "good"  # 1 company, 2 teams, 6 people: 9 scorecards
QUARTER = "2024-Q2"


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=180)
    old = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    yield server.api_url
    if old is None:
        os.environ.pop("PREFECT_API_URL", None)
    else:
        os.environ["PREFECT_API_URL"] = old
    server.stop()


@pytest.fixture(scope="module")
def cluster(prefect_api):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def _normalise(text: str, folder: Path) -> str:
    """Drop what differs between two runs by design: run id and generation time."""
    import json

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    text = text.replace(manifest["run_id"], "RUN")
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "TIME", text)


def test_dask_run_matches_local_run(tmp_path, cluster, prefect_api):
    local, remote = tmp_path / "local", tmp_path / "dask"
    p1 = okr_report("run", "--workspace", str(GOOD), "--quarter", QUARTER, "--out", str(local))
    assert p1.returncode == 0, p1.stderr
    env = {"PREFECT_API_URL": prefect_api}
    p2 = okr_report("run", "--workspace", str(GOOD), "--quarter", QUARTER, "--out", str(remote),
                    "--dask-address", cluster.scheduler_address, env=env)
    assert p2.returncode == 0, p2.stderr
    a, b = local / QUARTER, remote / QUARTER
    files_a = sorted(str(f.relative_to(a)) for f in a.rglob("*") if f.is_file())
    files_b = sorted(str(f.relative_to(b)) for f in b.rglob("*") if f.is_file())
    assert files_a == files_b
    assert len([f for f in files_a if f.endswith(".pdf")]) == 9
    assert (a / "kr_values.csv").read_bytes() == (b / "kr_values.csv").read_bytes()
    for name in files_a:
        if name.endswith(".html"):
            assert _normalise((a / name).read_text("utf-8"), a) == _normalise((b / name).read_text("utf-8"), b), name
        if name.endswith(".pdf"):
            ta = "".join(pg.extract_text() or "" for pg in PdfReader(a / name).pages)
            tb = "".join(pg.extract_text() or "" for pg in PdfReader(b / name).pages)
            assert _normalise(ta, a) == _normalise(tb, b), name
            assert len(PdfReader(a / name).pages) == len(PdfReader(b / name).pages)


def test_dask_workers_did_the_rendering(cluster):
    """The batches ran on the cluster's worker processes, not in the flow's process."""
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        log = client.run_on_scheduler(lambda dask_scheduler: [
            key for key in dask_scheduler.transition_log if "render_batch" in str(key)][:1])
    assert log, "no render_batch task reached the scheduler"


def test_dask_batches_follow_teams():
    from flows.render_tasks import team_batches

    cards = [{"path": "company", "team_id": None}]
    cards += [{"path": f"teams/{t}", "team_id": t} for t in ("east", "west")]
    cards += [{"path": f"people/e{i}", "team_id": "east"} for i in range(5)]
    cards += [{"path": f"people/w{i}", "team_id": "west"} for i in range(2)]
    cards += [{"path": "people/x", "team_id": ""}]
    batches = [[c["path"] for c in b] for b in team_batches(cards, size=4)]
    assert batches == [
        ["company"],
        ["teams/east", "people/e0", "people/e1", "people/e2"], ["people/e3", "people/e4"],
        ["teams/west", "people/w0", "people/w1"],
        ["people/x"],
    ]
