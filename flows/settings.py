"""Prefect settings for quiet, server-less local runs; applied before Prefect is imported."""

from __future__ import annotations

import os
from importlib.resources import files

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_CONFIG_PATH": str(files("flows").joinpath("prefect_logging.yml")),
}


def apply_defaults() -> None:
    """Set our defaults unless the user set the variable already."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
