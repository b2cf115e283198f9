"""The one place that says where data lives and how the readers are set up."""

from __future__ import annotations

import os
from pathlib import Path

from transforms.config import Workspace

TEMPLATES_ENV = "OKR_REPORT_TEMPLATES"
"""A folder of templates, CSS and labels to use instead of the built-in ones (a company's own layout)."""

DEFAULT_PROCESSES = max(1, min(os.cpu_count() or 1, 8))


def output_root(ws: Workspace, workspace_dir: Path, out: str | None) -> Path:
    """``--out`` wins; otherwise the config's ``output`` relative to the workspace folder."""
    if out:
        return Path(out).expanduser().resolve()
    path = Path(ws.output).expanduser()
    return (path if path.is_absolute() else workspace_dir / path).resolve()


def source_path(workspace_dir: Path, relative: str) -> Path:
    return (workspace_dir / relative).resolve()


def templates_dir() -> Path:
    """The templates every scorecard is laid out with: ``$OKR_REPORT_TEMPLATES`` or the built-in ones."""
    override = os.environ.get(TEMPLATES_ENV)
    if override:
        return Path(override).expanduser().resolve()
    from importlib.resources import files

    return Path(str(files("report_templates"))).resolve()
