"""Reading ``okr.yaml``: YAML and schema errors become problems that name the file, line and key."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from transforms import config as cfg
from transforms.config import Workspace
from transforms.problems import InputError, Problem, config_problem
from transforms.validation import check_config

CONFIG_NAMES = ("okr.yaml", "okr.yml")


def config_path(workspace: Path) -> Path:
    for name in CONFIG_NAMES:
        if (workspace / name).is_file():
            return workspace / name
    if workspace.is_file():
        return workspace
    raise InputError([Problem(str(workspace), "expected a workspace folder holding okr.yaml")])


def load_workspace(workspace: Path) -> tuple[Workspace, Path]:
    """Parse and validate the workspace config; returns it and the workspace folder."""
    path = config_path(workspace.expanduser().resolve())
    shown = path.name
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if "\t" in problem or "'\\t'" in problem:
            problem += " (indent with spaces, not tabs)"
        where = f" at column {mark.column + 1}" if mark else ""
        raise InputError([Problem(shown, f"invalid YAML{where}: {problem}", line=mark.line + 1 if mark else None,
                                  code="config")]) from None
    except UnicodeDecodeError:
        raise InputError([Problem(shown, "expected a UTF-8 text file")]) from None
    if not isinstance(raw, dict):
        raise InputError([Problem(shown, "expected a YAML mapping with keys like company, sources, metrics")])
    root = yaml.compose(text)
    duplicates = duplicate_keys(root)
    if duplicates:
        raise InputError([config_problem(shown, ".".join(key), f"duplicate key (first at line {first}, again at "
                                                               f"line {again}): expected each key once; YAML would "
                                                               "keep only the last one", line=again)
                          for key, first, again in duplicates])
    lines = key_lines(root)
    try:
        ws = Workspace.model_validate(raw)
    except ValidationError as exc:
        raise InputError([_pydantic_problem(err, shown, lines) for err in exc.errors()]) from None
    problems = []
    for key, expected, value in check_config(ws):
        key = _as_written(key, lines)
        problems.append(config_problem(shown, ".".join(key), expected, value, line=_line(lines, key)))
    if problems:
        raise InputError(problems)
    return ws, path.parent


def with_lines(problems: list[Problem], workspace: Path) -> list[Problem]:
    """Config problems found after loading (metrics against the plan and the tables) get the line of their key
    in okr.yaml, as the loader's own problems have."""
    if not any(p.key is not None and p.line is None for p in problems):
        return problems
    try:
        lines = key_lines(config_path(workspace.expanduser().resolve()).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, InputError):
        return problems
    return [replace(p, line=_line(lines, _as_written(p.key, lines))) if p.key is not None and p.line is None
            else p for p in problems]


def _mappings(node: yaml.Node | None, path: tuple[str, ...] = (),
              inside: frozenset[int] = frozenset()) -> Iterator[tuple[yaml.MappingNode, tuple[str, ...]]]:
    """Every mapping node of a composed YAML document with its key path; an alias is followed wherever it is
    used, but never into itself (a recursive alias)."""
    if node is None or id(node) in inside:
        return
    inside = inside | {id(node)}
    if isinstance(node, yaml.MappingNode):
        yield node, path
        for k, v in node.value:
            yield from _mappings(v, path + (str(k.value),), inside)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            yield from _mappings(v, path + (str(i),), inside)


def key_lines(root: yaml.Node | str | None) -> dict[tuple[str, ...], int]:
    """The line of every mapping key in the YAML document (text or composed node tree), by its key path."""
    if isinstance(root, str):
        try:
            root = yaml.compose(root)
        except yaml.YAMLError:
            return {}
    out: dict[tuple[str, ...], int] = {}
    for node, path in _mappings(root):
        for k, _ in node.value:
            out.setdefault(path + (str(k.value),), k.start_mark.line + 1)
    return out


def duplicate_keys(root: yaml.Node | None) -> list[tuple[tuple[str, ...], int, int]]:
    """(key path, first line, repeated line) of every key written twice in one mapping, which a YAML loader
    silently resolves by keeping the last one. Merge keys (``<<``) may repeat."""
    out, done = [], set()
    for node, path in _mappings(root):
        if id(node) in done:  # a mapping used again through an alias: reported where it is written
            continue
        done.add(id(node))
        first: dict[tuple[str, str], int] = {}
        for k, _ in node.value:
            if not isinstance(k, yaml.ScalarNode) or k.tag == "tag:yaml.org,2002:merge":
                continue
            line = k.start_mark.line + 1
            if (k.tag, k.value) in first:
                out.append((path + (str(k.value),), first[(k.tag, k.value)], line))
            else:
                first[(k.tag, k.value)] = line
    return sorted(out, key=lambda d: d[2])


def _as_written(key: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> tuple[str, ...]:
    """A metric key path named as if written flat, as it is written: below 'definition:' when the metric
    is written in that nested form."""
    if (len(key) > 2 and key[0] == "metrics" and key[2] not in ("unit", "label_en", "label_zh")
            and key[:2] + ("definition",) in lines):
        return key[:2] + ("definition",) + key[2:]
    return key


def _line(lines: dict[tuple[str, ...], int], key: tuple[str, ...]) -> int | None:
    for n in range(len(key), 0, -1):
        if key[:n] in lines:
            return lines[key[:n]]
    return None


def _metric_classes() -> dict[str, type[BaseModel]]:
    union = typing.get_args(cfg.Metric)[0]
    out = {}
    for c in typing.get_args(union):
        out[typing.get_args(c.model_fields["kind"].annotation)[0]] = c
    return out


def _yaml_key(loc: tuple) -> tuple[str, ...]:
    """Pydantic's location as the key path written in okr.yaml (metrics are written flat there)."""
    key = tuple(str(p) for p in loc)
    if len(key) >= 3 and key[0] == "metrics" and key[2] == "definition":
        rest = key[4:] if len(key) >= 4 and key[3] in _metric_classes() else key[3:]
        key = key[:2] + rest
    return key


def _allowed(loc: tuple) -> list[str]:
    """The keys allowed beside an unknown key at ``loc``."""
    parent = tuple(str(p) for p in loc[:-1])
    if not parent:
        model: type[BaseModel] | None = Workspace
    elif parent[0] == "sources" and len(parent) == 2:
        model = cfg.Source
    elif parent in (("company",),):
        model = cfg.Company
    elif parent in (("status_bands",),):
        model = cfg.StatusBands
    elif parent[0] == "metrics" and len(parent) == 4 and parent[2] == "definition":
        return [*_metric_classes()[parent[3]].model_fields, "unit", "label_en", "label_zh"]
    else:
        model = None
    return list(model.model_fields) if model else []


def _pydantic_problem(err: dict, file: str, lines: dict[tuple[str, ...], int]) -> Problem:
    loc = tuple(err["loc"])
    key = _yaml_key(loc)
    kind, msg = err["type"], err["msg"]
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed(loc)
        guess = difflib.get_close_matches(key[-1], allowed, n=1, cutoff=0.6)
        msg = f"unknown key; did you mean {guess[0]!r}?" if guess else \
            f"unknown key; expected one of {', '.join(allowed)}" if allowed else "unknown key (misspelled?)"
        value = None
    elif kind == "union_tag_invalid":
        key = key + ("kind",)
        tags = list(_metric_classes())
        tag = str(err.get("ctx", {}).get("tag", ""))
        guess = difflib.get_close_matches(tag, tags, n=1, cutoff=0.6)
        msg = f"unknown metric kind: expected one of {', '.join(tags)}" + (f"; did you mean {guess[0]!r}?"
                                                                            if guess else "")
        value = tag
    elif kind == "missing":
        msg = "missing: expected this key"
        value = None
    else:
        msg = msg.removeprefix("Value error, ").replace("Input should be", "expected")
    if isinstance(value, (dict, list)):
        value = None
    return config_problem(file, ".".join(key) or "(top level)", msg, value, line=_line(lines, key))
