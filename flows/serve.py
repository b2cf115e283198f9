"""Serving the report flow on its quarter-end schedule.

Prefect's temporary server does not run schedules, so with no ``PREFECT_API_URL`` this starts a local
Prefect server on loopback (SQLite under PREFECT_HOME) and stops it on exit; with ``PREFECT_API_URL``
set, the deployment registers with that server.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from transforms.config import Workspace
from transforms.schedule import quarter_close_cron

DEPLOYMENT = "quarter-end"


def cron_for(ws: Workspace) -> str:
    return ws.schedule_cron or quarter_close_cron(ws.fiscal_year_start_month, ws.schedule_hour)


@contextmanager
def api_server():
    """Yield the API URL: the configured one, or a local server started (and stopped) here."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        yield url
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=int(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")))
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        yield server.api_url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def serve(ws: Workspace, workspace_dir: Path, out: str | None = None, send: bool = False) -> None:
    """Register the scheduled deployment and run its flow runs until interrupted."""
    from prefect.schedules import Cron

    from flows.pipeline import okr_report

    parameters = {"workspace": str(workspace_dir), "send": send}
    if out:
        parameters["out"] = out
    okr_report.serve(
        name=DEPLOYMENT,
        schedules=[Cron(cron_for(ws), timezone=ws.timezone)],
        parameters=parameters,
        description=f"Quarter-end OKR scorecards for {ws.company.name}",
        tags=["okr-report"],
        print_starting_message=False,
    )
