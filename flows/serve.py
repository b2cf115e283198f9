"""Serving the report flow on its quarter-end schedule.

Prefect's temporary (ephemeral) server does not run its scheduler service, so scheduled runs would
never be created. With no ``PREFECT_API_URL``, ``serve`` therefore starts a full local Prefect server
on loopback (SQLite under PREFECT_HOME, scheduler on) and stops it on exit; with ``PREFECT_API_URL``
set, the deployment registers with that server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from transforms.config import Workspace
from transforms.schedule import quarter_close_cron

DEPLOYMENT = "quarter-end"
FLOW_NAME = "okr-quarterly-report"
LOOPBACK = "127.0.0.1"


def cron_for(ws: Workspace) -> str:
    return ws.schedule_cron or quarter_close_cron(ws.fiscal_year_start_month, ws.schedule_hour)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:  # noqa: S310 - loopback only
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stop(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """Stop the server and anything it started (it runs in its own process group)."""
    if proc.poll() is not None:
        return
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextmanager
def local_server(timeout: float | None = None) -> Iterator[str]:
    """A full Prefect server (API + scheduler, no UI) on a free loopback port; yields its API URL."""
    port = _free_port()
    api_url = f"http://{LOOPBACK}:{port}/api"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PREFECT__SERVER_EPHEMERAL", "PREFECT__SERVER_WEBSERVER_ONLY")}
    env.update({"PREFECT_SERVER_UI_ENABLED": "false", "PREFECT_SERVER_API_HOST": LOOPBACK,
                "PREFECT_SERVER_API_PORT": str(port)})
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
           "--host", LOOPBACK, "--port", str(port), "--log-level", "error", "--lifespan", "on"]
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        limit = timeout or float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"))
        deadline = time.monotonic() + limit
        while not _healthy(api_url):
            if proc.poll() is not None:
                raise RuntimeError(f"the local Prefect server exited with code {proc.returncode} while starting")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local Prefect server did not answer within {limit:.0f} s")
            time.sleep(0.25)
        yield api_url
    finally:
        _stop(proc)


@contextmanager
def api_server() -> Iterator[str]:
    """Yield the API URL: the configured one (environment or Prefect profile), or a local server started
    (and stopped) here."""
    url = os.environ.get("PREFECT_API_URL") or _configured_api_url()
    if url:
        yield url
        return
    previous = None
    if threading.current_thread() is threading.main_thread():
        # a plain SIGTERM (systemd, docker stop) must still stop the server we start
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with _served_locally() as url:
            yield url
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _configured_api_url() -> str | None:
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _served_locally() -> Iterator[str]:
    with local_server() as url:
        os.environ["PREFECT_API_URL"] = url
        from prefect.settings import PREFECT_API_URL, temporary_settings

        try:
            with temporary_settings(updates={PREFECT_API_URL: url}):
                yield url
        finally:
            os.environ.pop("PREFECT_API_URL", None)


def serve(ws: Workspace, workspace_dir: Path, out: str | None = None, send: bool = False) -> None:
    """Register the scheduled deployment and run its flow runs until interrupted."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.pipeline import okr_report

    parameters: dict[str, object] = {"workspace": str(Path(workspace_dir).resolve()), "send": send}
    if out:
        # runs execute in child processes: never depend on this process's working directory
        parameters["out"] = str(Path(out).expanduser().resolve())
    okr_report.serve(
        name=DEPLOYMENT,
        schedules=[Cron(cron_for(ws), timezone=ws.timezone)],
        parameters=parameters,
        description=f"Quarter-end OKR scorecards for {ws.company.name}",
        tags=["okr-report"],
        print_starting_message=False,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
