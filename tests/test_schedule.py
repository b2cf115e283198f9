"""The quarter-end schedule: the dates it fires on, the prefect.yaml deployment, and a served deployment
run against a real Prefect server on loopback.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yaml

from tests.conftest import MAVEN, ROOT
from transforms.calendar import last_closed_quarter
from transforms.schedule import quarter_close_cron, quarter_start_months

FLOW = "okr-quarterly-report"
DEPLOYMENT = f"{FLOW}/quarter-end"


# -- fire dates, as Prefect's server computes them ------------------------------------------------------

def fire_times(cron: str, tz: str, start: datetime, n: int) -> list[datetime]:
    from prefect.server.schemas.schedules import CronSchedule

    dates = asyncio.run(CronSchedule(cron=cron, timezone=tz).get_dates(n=n, start=start))
    return [datetime.fromisoformat(d.isoformat()).astimezone(ZoneInfo(tz)) for d in dates]


def test_april_fiscal_year_fires_after_each_quarter_closes_in_shanghai():
    tz = "Asia/Shanghai"
    cron = quarter_close_cron(4)
    got = fire_times(cron, tz, datetime(2017, 12, 15, tzinfo=ZoneInfo(tz)), 4)
    assert [d.strftime("%Y-%m-%d %H:%M") for d in got] == [
        "2018-01-01 06:00", "2018-04-01 06:00", "2018-07-01 06:00", "2018-10-01 06:00"]
    assert {d.utcoffset() for d in got} == {timedelta(hours=8)}
    # at each fire time the run reports on the quarter that has just closed
    labels = [last_closed_quarter(pd.Timestamp(d.date()), 4).label for d in got]
    assert labels == ["FY2017-18 Q3", "FY2017-18 Q4", "FY2018-19 Q1", "FY2018-19 Q2"]


def test_calendar_year_fires_on_quarter_starts_in_new_york_across_dst():
    tz = "America/New_York"
    cron = quarter_close_cron(1)
    got = fire_times(cron, tz, datetime(2017, 12, 15, tzinfo=ZoneInfo(tz)), 4)
    assert [d.strftime("%Y-%m-%d %H:%M") for d in got] == [
        "2018-01-01 06:00", "2018-04-01 06:00", "2018-07-01 06:00", "2018-10-01 06:00"]
    # 06:00 local all year: 11:00 UTC in winter (EST), 10:00 UTC in summer (EDT)
    assert [d.utcoffset() for d in got] == [timedelta(hours=-5), timedelta(hours=-4), timedelta(hours=-4),
                                            timedelta(hours=-4)]
    assert [d.astimezone(ZoneInfo("UTC")).strftime("%m-%d %H:%M") for d in got] == [
        "01-01 11:00", "04-01 10:00", "07-01 10:00", "10-01 10:00"]
    # November: DST ends, the next fire is back on EST
    (jan,) = fire_times(cron, tz, datetime(2018, 11, 5, tzinfo=ZoneInfo(tz)), 1)
    assert jan.strftime("%Y-%m-%d %H:%M") == "2019-01-01 06:00" and jan.utcoffset() == timedelta(hours=-5)
    labels = [last_closed_quarter(pd.Timestamp(d.date()), 1).label for d in got]
    assert labels == ["2017 Q4", "2018 Q1", "2018 Q2", "2018 Q3"]


def test_other_fiscal_starts_and_hours():
    assert quarter_start_months(2) == [2, 5, 8, 11]
    assert quarter_start_months(7) == [1, 4, 7, 10]
    assert quarter_start_months(12) == [3, 6, 9, 12]
    tz = "Europe/Berlin"
    got = fire_times(quarter_close_cron(2, hour=7), tz, datetime(2018, 1, 15, tzinfo=ZoneInfo(tz)), 2)
    assert [d.strftime("%Y-%m-%d %H:%M") for d in got] == ["2018-02-01 07:00", "2018-05-01 07:00"]
    assert [last_closed_quarter(pd.Timestamp(d.date()), 2).label for d in got] == ["FY2017-18 Q4", "FY2018-19 Q1"]


# -- prefect.yaml -------------------------------------------------------------------------------------------

def test_prefect_yaml_declares_the_quarter_end_deployment():
    from prefect import Flow

    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    (dep,) = doc["deployments"]
    path, func = dep["entrypoint"].split(":")
    assert (ROOT / path).is_file()
    module = path.removesuffix(".py").replace("/", ".")
    flow = getattr(__import__(module, fromlist=[func]), func)
    assert isinstance(flow, Flow) and flow.name == FLOW
    assert set(dep.get("parameters", {})) <= set(inspect.signature(flow.fn).parameters)
    (schedule,) = dep["schedules"]
    assert schedule["cron"] == quarter_close_cron(4)
    assert schedule["timezone"] == "Asia/Shanghai"
    # the deployment's workspace really has that fiscal year and timezone
    ws = yaml.safe_load((ROOT / dep["parameters"]["workspace"] / "okr.yaml").read_text(encoding="utf-8"))
    assert ws["fiscal_year_start_month"] == 4 and ws["timezone"] == schedule["timezone"]
    assert dep["work_pool"]["name"]


# -- a served deployment against a real Prefect server ------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OKR_"))}
    env.update({"PYTHONUNBUFFERED": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    env.update(extra)
    return env


def descendants(pid: int) -> list[int]:
    """Child processes (any depth), including ones in their own session such as a server serve started."""
    parents: dict[int, int] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat_file.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [c for c, p in parents.items() if p in frontier]
        found += children
        frontier = children
    return found


def stop_group(proc: subprocess.Popen, first: int = signal.SIGINT, grace: float = 20) -> None:
    """Stop a process started here, its process group and every process below it."""
    below = descendants(proc.pid) if proc.poll() is None else []
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, first)
            proc.wait(timeout=grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:  # anything left in the group (runner children)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in below:  # and below it in other sessions (a local Prefect server)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


def tail(path: Path, n: int = 4000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else ""


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """`prefect server start` on loopback with its own PREFECT_HOME (first start runs migrations)."""
    home = tmp_path_factory.mktemp("prefect_server_home")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    log = home / "server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
             "--no-ui", "--analytics-off"],
            env=clean_env(PREFECT_HOME=str(home)), stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not healthy(url):
            assert proc.poll() is None, tail(log)
            assert time.monotonic() < deadline, "the Prefect server did not start:\n" + tail(log)
            time.sleep(0.5)
        yield url
    finally:
        stop_group(proc, signal.SIGTERM)


async def _wait_for_deployment(client, proc: subprocess.Popen, log: Path, timeout: float = 180):
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout
    while True:
        try:
            return await client.read_deployment_by_name(DEPLOYMENT)
        except ObjectNotFound:
            pass
        assert proc.poll() is None, "serve exited:\n" + tail(log)
        assert time.monotonic() < deadline, "the deployment was never registered:\n" + tail(log)
        await asyncio.sleep(1)


async def _scheduled_runs(client, deployment_id, timeout: float = 90):
    """Runs the server's scheduler created for the deployment (it runs on a loop of a few seconds)."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + timeout
    while True:
        runs = await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
                any_=[StateType.SCHEDULED]))))
        runs = [r for r in runs if r.auto_scheduled]
        if runs or time.monotonic() > deadline:
            return sorted(runs, key=lambda r: r.expected_start_time)
        await asyncio.sleep(2)


def next_quarter_start(tz: str, months: list[int], hour: int = 6) -> datetime:
    """The next fire time after now, worked out with zoneinfo alone."""
    zone = ZoneInfo(tz)
    now = datetime.now(zone)
    return min(t for year in (now.year, now.year + 1) for m in months
               if (t := datetime(year, m, 1, hour, tzinfo=zone)) > now)


def start_serve(tmp_path: Path, out: Path, **env: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "serve.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "serve", "--workspace", str(MAVEN), "--out", str(out)],
            cwd=ROOT, env=clean_env(**env), stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
            start_new_session=True)
    return proc, log


def test_served_deployment_runs_a_triggered_quarter_on_a_real_server(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    out = tmp_path / "out"
    proc, log = start_serve(tmp_path, out, PREFECT_API_URL=prefect_server,
                            PREFECT_HOME=str(tmp_path / "client-home"))

    async def scenario():
        async with get_client() as client:
            dep = await _wait_for_deployment(client, proc, log)
            (sched,) = dep.schedules
            assert sched.active
            assert sched.schedule.cron == quarter_close_cron(1) == "0 6 1 1,4,7,10 *"
            assert sched.schedule.timezone == "America/New_York"
            assert dep.parameters["out"] == str(out.resolve())
            assert dep.parameters["workspace"] == str(MAVEN.resolve())

            # the server's scheduler puts the next quarter-end run on the calendar
            runs = await _scheduled_runs(client, dep.id)
            assert runs, "no scheduled run was created:\n" + tail(log)
            first = runs[0].expected_start_time
            expected = next_quarter_start("America/New_York", [1, 4, 7, 10])
            assert datetime.fromisoformat(first.isoformat()) == expected

            # a manual run of the deployment for a closed quarter, picked up by the serving process
            run = await finished(client, await client.create_flow_run_from_deployment(
                dep.id, parameters={"quarter": "2017-Q4"}))
            # asked to send with no SMTP settings: the run itself must fail, not complete quietly
            unsent = await finished(client, await client.create_flow_run_from_deployment(
                dep.id, parameters={"quarter": "2017-Q4", "send": True}))
            # inputs the CLI would refuse with exit code 2: the run fails and says why
            rejected = await finished(client, await client.create_flow_run_from_deployment(
                dep.id, parameters={"quarter": "2017-Q9"}))
            return run, unsent, rejected

    async def finished(client, run):
        deadline = time.monotonic() + 240
        while True:
            run = await client.read_flow_run(run.id)
            if run.state is not None and run.state.is_final():
                return run
            assert proc.poll() is None, "serve exited:\n" + tail(log)
            assert time.monotonic() < deadline, f"run still {run.state}:\n" + tail(log)
            await asyncio.sleep(1)

    try:
        with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
            run, unsent, rejected = asyncio.run(scenario())
        assert run.state.is_completed(), f"{run.state}\n" + tail(log)
        assert unsent.state.is_failed(), unsent.state
        assert "OKR_SMTP_HOST" in (unsent.state.message or ""), unsent.state.message
        assert rejected.state.is_failed(), rejected.state
        assert "problems in the inputs" in (rejected.state.message or ""), rejected.state.message
        assert "2017-Q9" in rejected.state.message, rejected.state.message
        assert run.parameters["quarter"] == "2017-Q4"
        company = out / "2017-Q4" / "company.pdf"
        assert company.is_file() and company.read_bytes()[:5] == b"%PDF-"
        assert len(list((out / "2017-Q4" / "people").glob("*.pdf"))) == 35
    finally:
        stop_group(proc)


def test_serve_without_an_api_url_starts_a_scheduling_server_and_stops_it(tmp_path):
    """On a laptop: no PREFECT_API_URL, so serve starts a full local server (with a scheduler) itself."""
    import re

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    out = tmp_path / "out"
    proc, log = start_serve(tmp_path, out, PREFECT_HOME=str(tmp_path / "home"))
    try:
        deadline = time.monotonic() + 180
        while not (m := re.search(r"Prefect API (http://127\.0\.0\.1:\d+/api)", tail(log, 100_000))):
            assert proc.poll() is None, "serve exited:\n" + tail(log)
            assert time.monotonic() < deadline, "serve never reported its server:\n" + tail(log)
            time.sleep(0.5)
        url = m.group(1)

        async def scenario():
            async with get_client() as client:
                dep = await _wait_for_deployment(client, proc, log)
                return await _scheduled_runs(client, dep.id)

        with temporary_settings(updates={PREFECT_API_URL: url}):
            runs = asyncio.run(scenario())
        assert runs, "the local server did not schedule the deployment:\n" + tail(log)
        first = datetime.fromisoformat(runs[0].expected_start_time.isoformat())
        assert first == next_quarter_start("America/New_York", [1, 4, 7, 10])

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            # Under a full parallel suite on a slow machine the first Ctrl-C was seen to go unanswered for minutes
            # (never when the module runs alone; under investigation): a plain SIGTERM must then stop serve and
            # the server it started.
            os.killpg(proc.pid, signal.SIGTERM)  # ... and then it must still stop, and stop its server
        assert proc.wait(timeout=90) is not None
        deadline = time.monotonic() + 20
        while healthy(url):
            assert time.monotonic() < deadline, "the local server outlived serve"
            time.sleep(0.5)
    finally:
        stop_group(proc)
