"""Everything a run decides before it reads the exports: its request, variant, scope and fingerprint.

Plain functions with no orchestration engine, so the command line answers an argument mistake, or finds that
nothing changed, in a second; the flow calls the same functions, so both take the same decisions.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from flows import mail
from flows import publish as pub
from flows.codeinfo import code_digest
from flows.config_io import load_workspace
from flows.extract import file_sha256, read_all, read_source
from flows.locations import DEFAULT_PROCESSES, output_root, source_path
from flows.manifest import Manifest, read_manifest
from transforms.config import Workspace
from transforms.problems import InputError, Problem
from transforms.report import build_teams
from transforms.runplan import (
    Fingerprint,
    Scope,
    ScopeKind,
    Variant,
    VariantAsk,
    VariantError,
    resolve_person,
    resolve_team,
    resolve_variant,
)


@dataclass(frozen=True)
class RunOptions:
    """How a run goes about it: worker processes, email, forced re-rendering, a Dask cluster; whether it delivers
    at all (``close`` publishes without writing messages), and the reason for reopening a closed quarter."""

    processes: int | None = None
    send: bool = False
    resend: bool = False
    force: bool = False
    dask_address: str | None = None
    deliver: bool = True
    reopen: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class RunRequest:
    """One run as asked for on the command line or by a deployment's parameters."""

    workspace: str
    variant: VariantAsk = field(default_factory=VariantAsk)
    team: str | None = None
    person: str | None = None
    out: str | None = None
    options: RunOptions = field(default_factory=RunOptions)


@dataclass
class PreparedRun:
    """A checked request: the workspace, what will be published where, and what it depends on."""

    request: RunRequest
    ws: Workspace
    ws_dir: Path
    root: Path
    variant: Variant
    scope: Scope
    digests: dict[str, str]
    fingerprint: str
    hashing_seconds: float
    published: Path | None
    published_manifest: Manifest | None
    published_intact: bool = True
    """The published files still hold the bytes its manifest recorded (nothing edited after publishing)."""

    @property
    def unchanged(self) -> bool:
        """The published version was made from exactly these inputs, config, code and parameters, and its files
        are as it wrote them."""
        m = self.published_manifest
        return (not self.request.options.force and m is not None and m.fingerprint == self.fingerprint
                and bool(m.cards) and self.published_intact)

    @property
    def processes(self) -> int:
        return self.request.options.processes or DEFAULT_PROCESSES


def today_in(ws: Workspace) -> pd.Timestamp:
    return pd.Timestamp(datetime.now(ZoneInfo(ws.timezone)).date())


def prepare_run(request: RunRequest, today: pd.Timestamp | None = None) -> PreparedRun:
    """Check the request against the workspace; raise InputError listing every mistake."""
    ws, ws_dir = load_workspace(Path(request.workspace))
    try:
        variant = resolve_variant(request.variant, ws.fiscal_year_start_month, ws.locale, today or today_in(ws))
        scope = resolve_scope(ws, ws_dir, request.team, request.person)
    except VariantError as exc:
        raise InputError(exc.problems) from None
    check_mail_settings(ws, request.options.send)
    t = time.perf_counter()
    digests = hash_inputs(ws, ws_dir)
    hashing = time.perf_counter() - t
    root = output_root(ws, ws_dir, request.out)
    published = pub.published(root, variant.slug)
    fingerprint = Fingerprint(ws.model_dump(mode="json"), digests, code_digest(), variant.slug,
                              None if variant.as_of is None else f"{variant.as_of:%Y-%m-%d}").digest()
    manifest = read_manifest(published)
    return PreparedRun(request, ws, ws_dir, root, variant, scope, digests, fingerprint, hashing, published,
                       manifest, files_intact(published, manifest.files if manifest else {}))


def files_intact(folder: Path | None, recorded: dict[str, str]) -> bool:
    """Every file a manifest recorded still holds those bytes (True when it recorded none)."""
    if folder is None:
        return True
    return all((folder / rel).is_file() and file_sha256(folder / rel) == want for rel, want in recorded.items())


def resolve_scope(ws: Workspace, ws_dir: Path, team: str | None, person: str | None) -> Scope:
    """``--team`` (id or name) or ``--person`` checked against the directory exports."""
    if team and person:
        raise VariantError([Problem("--team / --person", "one of them, not both", value=f"{team} / {person}")])
    if not team and not person:
        return Scope()
    tables = directory_tables(ws, ws_dir)
    if team:
        return Scope(ScopeKind.TEAM, resolve_team(team, build_teams(tables)))
    return Scope(ScopeKind.PERSON, resolve_person(str(person), tables["people"]))


def directory_tables(ws: Workspace, ws_dir: Path,
                     names: tuple[str, ...] = ("people", "teams")) -> dict[str, pd.DataFrame]:
    """The people directory and teams export (or the tables named), staged: what scopes, delivery routing and
    the plan review need. Without a people source the directory comes from the owner ids of the fact tables,
    so everything is read."""
    from transforms.contracts import table_contracts
    from transforms.staging import stage
    from transforms.tables import Part, union
    from transforms.validation import stage_workspace

    if "people" not in ws.source_tables():
        raw, problems = read_all(dict(ws.sources), ws_dir)
        tables, found = stage_workspace(raw, ws)
        problems += [p for p in found if p.severity == "error"]
        if problems:
            raise InputError(problems)
        return {name: tables[name] for name in names if name in tables}
    contracts = table_contracts(ws)
    tables, problems = {}, []
    for name in names:
        parts = []
        for source_name, source in ws.table_sources(name):
            try:
                raw = read_source(source, ws_dir)
            except InputError as exc:
                problems += exc.problems
                continue
            frame, found = stage(raw, source, contracts[name], source.path, ws.timezone)
            parts.append(Part(source_name, source, frame, {}))
            problems += [p for p in found if p.severity == "error"]
        if parts:
            tables[name] = union(parts)
    if problems:
        raise InputError(problems)
    return tables


def check_mail_settings(ws: Workspace, send: bool) -> None:
    """okr.yaml's mail: section (a dry run writes the same messages), and for a send the SMTP settings from
    the environment, are checked before anything runs (a credentials block is loaded by the flow, which has
    the engine it lives in)."""
    try:
        options = mail.mail_options(ws.mail)
        if send and not options.credentials_block:
            mail.settings_from_env(sender=options.sender)
    except mail.MailConfigError as exc:
        raise InputError([Problem("mail settings", str(exc))]) from None


_DIGESTS: dict[tuple, str] = {}
"""Digests already computed in this process, by path, inode, size and modification time: the command line
checks for changes before the flow starts, and the flow does not hash the same unchanged files again."""


def hash_inputs(ws: Workspace, workspace_dir: Path) -> dict[str, str]:
    """sha256 of every configured export (the cheap way to know nothing changed)."""
    paths = {name: source_path(workspace_dir, source.path) for name, source in ws.sources.items()}

    def digest(path: Path) -> str:
        try:
            st = path.stat()
        except OSError:
            return "missing"
        key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
        if key not in _DIGESTS:
            _DIGESTS[key] = file_sha256(path)
        return _DIGESTS[key]

    # hashlib releases the GIL on large blocks: two threads hash two files at once
    with ThreadPoolExecutor(max_workers=DEFAULT_PROCESSES) as pool:
        return dict(zip(paths, pool.map(digest, paths.values()), strict=True))
