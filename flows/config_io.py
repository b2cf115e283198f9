"""Reading ``okr.yaml``: YAML and schema errors become problems that name the file, line and key."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from transforms.config import Workspace
from transforms.problems import InputError, Problem

CONFIG_NAMES = ("okr.yaml", "okr.yml")


def config_path(workspace: Path) -> Path:
    for name in CONFIG_NAMES:
        if (workspace / name).is_file():
            return workspace / name
    if workspace.is_file():
        return workspace
    raise InputError([Problem(str(workspace), "a workspace folder holding okr.yaml")])


def load_workspace(workspace: Path) -> tuple[Workspace, Path]:
    """Parse and validate the workspace config; returns it and the workspace folder."""
    path = config_path(workspace.expanduser().resolve())
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError([Problem(str(path), f"valid YAML{where}: {problem}")]) from None
    except UnicodeDecodeError:
        raise InputError([Problem(str(path), "a UTF-8 text file")]) from None
    if not isinstance(raw, dict):
        raise InputError([Problem(str(path), "a YAML mapping with keys like company, sources, metrics")])
    try:
        return Workspace.model_validate(raw), path.parent
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"] if not str(p).endswith("Metric"))
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (misspelled?)"
            value = err.get("input") if err["type"] != "missing" else None
            if isinstance(value, (dict, list)):
                value = None
            problems.append(Problem(str(path), f"key '{key}': {msg}", value=value))
        raise InputError(problems) from None
