"""The quarterly OKR report flow: extract -> stage -> compute -> render -> publish.

One flow run per quarter; each stage is one task that calls into ``transforms`` (logic) or does I/O.
Rendering is batched over worker processes inside one task, never one task per scorecard.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import secrets
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import console, mail
from flows import publish as pub
from flows.config_io import load_workspace
from flows.delivery import deliver_scorecards, deployment_run, load_cards
from flows.extract import file_sha256, read_source
from flows.locations import DEFAULT_PROCESSES, output_root, source_path
from transforms.calendar import Quarter, last_closed_quarter, parse_quarter
from transforms.config import Workspace
from transforms.problems import InputError, Problem
from transforms.report import QuarterResults, build_teams, compute_quarter
from transforms.scorecards import (
    build_scorecards,
    card_summaries,
    index_model,
    kr_table,
    merge_scoped,
    merge_scoped_table,
    status_counts,
)
from transforms.validation import stage_workspace

VOLATILE_KEYS = ("generated_at", "run_id")
_OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR)


class _QuietOutputErrors(logging.Filter):
    """A full disk or an unwritable output folder reaches the user as one problem line (exit code 2); Prefect's
    task log would print a traceback for the same thing."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, OSError) and exc.errno in _OUTPUT_ERRNOS:
            return False
        text = record.getMessage()
        return not any(f"[Errno {n}]" in text or f"OSError({n}," in text for n in _OUTPUT_ERRNOS)


logging.getLogger("prefect.task_runs").addFilter(_QuietOutputErrors())


@dataclass
class RunOutcome:
    """What a run did, for the CLI summary (or the problems that stopped it)."""

    ok: bool
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    quarter_label: str = ""
    folder: str = ""
    company_score: float | None = None
    company_status: str = ""
    cards: dict[str, int] = field(default_factory=dict)
    rendered: int = 0
    reused: int = 0
    kr_rows: int = 0
    statuses: dict = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    run_id: str = ""
    delivery: object | None = None
    unchanged: bool = False


def code_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("okr-report")
    except PackageNotFoundError:
        return "0+unknown"


def template_version() -> str:
    """Digest of the templates and CSS: a change re-renders every scorecard."""
    from importlib.resources import files

    h = hashlib.sha256()
    root = files("report_templates")
    for name in sorted(p.name for p in root.iterdir() if p.name.endswith((".html", ".css", ".yaml"))):
        h.update(name.encode())
        h.update(root.joinpath(name).read_bytes())
    return h.hexdigest()[:16]


# -- tasks ---------------------------------------------------------------------------------------------

class Handoff:
    """Exports and tables passed between tasks in a box.

    Prefect keeps every task's parameters and result until the flow run ends; the flow empties the box
    when the data is no longer needed, so gigabytes of exports are not held through rendering."""

    def __init__(self, value: dict[str, pd.DataFrame]):
        self.value: dict[str, pd.DataFrame] | None = value

    def take(self) -> dict[str, pd.DataFrame]:
        value, self.value = self.value, None
        if value is None:
            raise RuntimeError("the data in this box was already taken")
        return value


@task(retries=2, retry_delay_seconds=[1, 4], cache_policy=NO_CACHE)
def extract_exports(ws: Workspace, workspace_dir: Path,
                    digests: dict[str, str] | None = None) -> tuple[Handoff, list[dict], list[Problem]]:
    """Read every configured export and hash it for the manifest (unless the digests are known)."""
    digests = digests or {}
    raw, inputs, problems = {}, [], []
    for name, source in ws.sources.items():
        try:
            raw[name] = read_source(source, workspace_dir)
        except InputError as exc:
            problems += exc.problems
            continue
        path = source_path(workspace_dir, source.path)
        digest = digests.get(name) if digests.get(name) not in (None, "missing") else file_sha256(path)
        inputs.append({"table": name, "path": source.path, "sha256": digest,
                       "bytes": path.stat().st_size, "rows": int(len(raw[name]))})
    return Handoff(raw), inputs, problems


@task(cache_policy=NO_CACHE)
def stage_exports(raw: Handoff, ws: Workspace) -> tuple[Handoff, list[Problem]]:
    """Rename, cast and check every export against its contract."""
    tables, problems = stage_workspace(raw.take(), ws)
    return Handoff(tables), problems


@task(cache_policy=NO_CACHE)
def compute_results(ws: Workspace, tables: Handoff, quarter: Quarter, as_of: pd.Timestamp | None,
                    locale: str) -> QuarterResults:
    """Every KR value, grade and roll-up of the quarter."""
    return compute_quarter(ws, tables.value, quarter, as_of, locale)


@task(cache_policy=NO_CACHE)
def build_views(res: QuarterResults, ws: Workspace, tables: Handoff, locale: str, run_id: str,
                generated_at: str, notes: list[str]) -> tuple[list[dict], pd.DataFrame]:
    """Scorecard view models and the KR table."""
    cards = build_scorecards(res, ws, tables.value, locale, generated_at, run_id, global_notes=notes)
    return cards, kr_table(res, _names(cards), locale)


@task(retries=2, retry_delay_seconds=[1, 4], cache_policy=NO_CACHE)
def read_previous(previous: Path | None) -> tuple[dict, pd.DataFrame | None]:
    """The last published manifest and KR table of the quarter (for scoped re-runs)."""
    if previous is None or not (previous / "manifest.json").is_file():
        return {}, None
    manifest = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))
    table = previous / "kr_values.csv"
    if not table.is_file():
        return manifest, None
    text_cols = {c: str for c in ("quarter", "tier", "owner_id", "owner_name", "team_id", "objective_id",
                                  "objective_title", "parent_objective_id", "kr_id", "kr_title", "lineage")}
    return manifest, pd.read_csv(table, dtype=text_cols, keep_default_na=False, na_values=[""])


def _names(cards: list[dict]) -> dict:
    return {(c["tier"], c["owner_id"]): c["owner_name"] for c in cards}


def card_hash(card: dict, template: str) -> str:
    stable = {k: v for k, v in card.items() if k not in VOLATILE_KEYS}
    blob = json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((template + blob).encode("utf-8")).hexdigest()


def plan_render(cards: list[dict], staging: Path, previous: Path | None,
                in_scope: set[tuple[str, str]] | None) -> tuple[list[dict], dict[str, str], int, str]:
    """Copy what can be reused from the published version; return the cards that need rendering."""
    template = template_version()
    old = _previous_hashes(previous)
    todo, hashes, reused = [], {}, 0
    for card in cards:
        path = card["path"]
        h = card_hash(card, template)
        hashes[path] = h
        key = (card["tier"], card["owner_id"])
        keep = previous is not None and (old.get(path) == h or (in_scope is not None and key not in in_scope))
        if keep and _copy_previous(previous, staging, path):
            hashes[path] = old.get(path, h)
            reused += 1
            continue
        todo.append(card)
    return todo, hashes, reused, template


@task(cache_policy=NO_CACHE)
def render_scorecards(cards: list[dict], index: dict, staging: Path, previous: Path | None,
                      in_scope: set[tuple[str, str]] | None, processes: int) -> dict:
    """Write HTML and PDF for each card, reusing unchanged (or out-of-scope) ones from the last run."""
    from flows.render import render_html, render_index_html, render_pdfs

    todo, hashes, reused, template = plan_render(cards, staging, previous, in_scope)
    jobs = []
    for card in todo:
        target = staging / f"{card['path']}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        html = render_html(card)
        target.write_text(html, encoding="utf-8")
        jobs.append((html, str(staging / f"{card['path']}.pdf")))
    (staging / "index.html").write_text(render_index_html(index), encoding="utf-8")
    render_pdfs(jobs, processes=processes, progress=_progress(len(jobs)))
    return {"hashes": hashes, "rendered": len(jobs), "reused": reused, "template": template}


@task(cache_policy=NO_CACHE)
def render_batch(cards: list[dict]) -> list[tuple[str, str, bytes]]:
    """HTML and PDF of a batch of scorecards, in memory: runs on a Dask worker."""
    from flows.render import pdf_bytes, render_html

    out = []
    for card in cards:
        html = render_html(card)
        out.append((card["path"], html, pdf_bytes(html)))
    return out


DASK_BATCH = 50


def team_batches(cards: list[dict], size: int) -> list[list[dict]]:
    """One batch per team (its card and its people's), split when a team has more than ``size`` cards; the
    company card and people without a team go in batches of their own."""
    by_team: dict[str | None, list[dict]] = {}
    for card in cards:
        by_team.setdefault(card.get("team_id"), []).append(card)
    return [group[i:i + size] for group in by_team.values() for i in range(0, len(group), size)]


def render_on_dask(cards: list[dict], index: dict, staging: Path, previous: Path | None,
                   in_scope: set[tuple[str, str]] | None, address: str) -> dict:
    """Fan the rendering out to an existing Dask cluster, one task per batch; the flow writes the files."""
    from prefect_dask import DaskTaskRunner

    from flows.render import render_index_html

    todo, hashes, reused, template = plan_render(cards, staging, previous, in_scope)
    batches = team_batches(todo, DASK_BATCH)
    done = 0
    report = _progress(len(todo))
    with DaskTaskRunner(address=address) as runner:
        futures = [runner.submit(render_batch, parameters={"cards": batch}) for batch in batches]
        for future in futures:
            for path, html, pdf in future.result():
                target = staging / f"{path}.html"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(html, encoding="utf-8")
                (staging / f"{path}.pdf").write_bytes(pdf)
                done += 1
            report(done)
    (staging / "index.html").write_text(render_index_html(index), encoding="utf-8")
    return {"hashes": hashes, "rendered": len(todo), "reused": reused, "template": template}


def _progress(total: int):
    logger = None
    try:
        logger = get_run_logger()
    except Exception:
        pass
    marks = {int(total * f) for f in (0.25, 0.5, 0.75)}

    def report(done: int) -> None:
        from flows import console

        console.progress(done, total)
        if logger is not None and done in marks:
            logger.info("rendered %d of %d scorecards", done, total)

    return report


def _previous_hashes(previous: Path | None) -> dict[str, str]:
    if previous is None or not (previous / "manifest.json").is_file():
        return {}
    try:
        return json.loads((previous / "manifest.json").read_text(encoding="utf-8")).get("scorecards", {})
    except (OSError, ValueError):
        return {}


def _copy_previous(previous: Path, staging: Path, path: str) -> bool:
    files = [previous / f"{path}.html", previous / f"{path}.pdf"]
    if not all(f.is_file() for f in files):
        return False
    for f in files:
        dest = staging / f.relative_to(previous)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            dest.hardlink_to(f)
        except OSError:
            shutil.copy2(f, dest)
    return True


@task(cache_policy=NO_CACHE)
def write_tables(kr: pd.DataFrame, staging: Path) -> None:
    """kr_values.csv and the Excel workbook."""
    pub.write_csv(kr, staging / "kr_values.csv")
    pub.write_xlsx(kr, staging / "kr_values.xlsx")


@task(retries=2, retry_delay_seconds=[1, 4], cache_policy=NO_CACHE)
def publish_version(out: Path, slug: str, staging: Path, run_id: str) -> str:
    """Swap the quarter folder to the new version atomically."""
    return str(pub.publish(out, slug, staging, run_id))


# -- the flow ------------------------------------------------------------------------------------------

@task(cache_policy=NO_CACHE)
def hash_inputs(ws: Workspace, workspace_dir: Path) -> dict[str, str]:
    """sha256 of every configured export (the cheap way to know nothing changed)."""
    paths = {name: source_path(workspace_dir, source.path) for name, source in ws.sources.items()}

    def digest(path: Path) -> str:
        return file_sha256(path) if path.is_file() else "missing"

    # hashlib releases the GIL on large blocks: two threads hash two files at once
    with ThreadPoolExecutor(max_workers=DEFAULT_PROCESSES) as pool:
        return dict(zip(paths, pool.map(digest, paths.values()), strict=True))


def run_fingerprint(ws: Workspace, inputs: dict[str, str], q: Quarter, locale: str,
                    cutoff: pd.Timestamp | None) -> str:
    """Everything a quarter's outputs depend on: config, exports, code, templates, locale, cut-off date."""
    blob = json.dumps({"config": ws.model_dump(mode="json"), "inputs": inputs, "code": code_version(),
                       "templates": template_version(), "locale": locale, "quarter": q.label,
                       "as_of": None if cutoff is None else f"{cutoff:%Y-%m-%d}"}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def reuse_unchanged(ws: Workspace, ws_dir: Path, out: str | None, q: Quarter, fingerprint: str, run_id: str,
                    started: datetime, t0: float, team: str | None, person: str | None, send: bool, resend: bool,
                    locale: str) -> RunOutcome | None:
    """Nothing the outputs depend on changed: publish the last version again (hard links), then deliver.

    Returns None when there is no such version, so the full run goes ahead.
    """
    root = output_root(ws, ws_dir, out)
    previous = pub.published(root, q.slug)
    manifest, _ = read_previous(previous) if previous is not None else ({}, None)
    if not manifest or manifest.get("fingerprint") != fingerprint or not manifest.get("cards"):
        return None
    cards = manifest["cards"]
    try:
        staging = pub.new_version(root, q.slug, run_id)
    except OSError as exc:
        return RunOutcome(False, problems=[_unwritable(root, exc)])
    try:
        pub.link_tree(previous, staging)
        manifest.update({
            "run_id": run_id, "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"), "rendered": 0, "reused": len(cards),
            "unchanged_since": manifest.get("unchanged_since") or manifest["run_id"],
            "scope": "person" if person else "team" if team else "all",
            "seconds": {"total": round(time.perf_counter() - t0, 3)},
        })
        (staging / "manifest.json").unlink()
        pub.write_json(manifest, staging / "manifest.json")
        folder = publish_version(root, q.slug, staging, run_id)
        pub.append_history(root, q.slug, {k: manifest[k] for k in ("run_id", "scope", "started_at", "finished_at",
                                                                    "rendered", "reused", "parameters")})
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return RunOutcome(False, problems=[Problem(str(root), f"the outputs could not be written ({exc.strerror}); "
                                                              "the published scorecards were left as they were")])
    delivery = None
    if send:
        tables = _people_and_teams(ws, ws_dir)
        if isinstance(tables, list):
            return RunOutcome(False, problems=tables, quarter_label=q.label)
        company = next((c["owner_name"] for c in cards if c["tier"] == "company"), ws.company.name)
        try:
            delivery = deliver_scorecards(cards, Path(folder), root, q.slug, q.label, company, locale,
                                          tables["people"], build_teams(tables), ws.executives, team, person, send,
                                          resend, run_id, ws.mail.get("credentials_block"))
        except (mail.MailConfigError, ValueError) as exc:
            return RunOutcome(False, problems=[Problem("mail settings", str(exc))], quarter_label=q.label)
    company = next((c for c in cards if c["tier"] == "company"), None)
    statuses: dict[str, dict[str, int]] = {}
    for c in cards:
        statuses.setdefault(c["tier"], {}).setdefault(c["status"], 0)
        statuses[c["tier"]][c["status"]] += 1
    return RunOutcome(True, quarter_label=q.label, folder=folder,
                      company_score=None if company is None else company["score"],
                      company_status="" if company is None else company["status"], cards=_card_counts(cards),
                      rendered=0, reused=len(cards), kr_rows=int(manifest.get("kr_rows", 0)), statuses=statuses,
                      seconds=manifest["seconds"], run_id=run_id, delivery=delivery, unchanged=True)


def _unwritable(root: Path, exc: OSError) -> Problem:
    return Problem(str(root), f"the output folder cannot be written ({exc.strerror}): expected a writable folder "
                              "for --out or 'output:'")


def _people_and_teams(ws: Workspace, ws_dir: Path) -> dict | list[Problem]:
    """Only the directory exports, staged: what routing needs."""
    from transforms.contracts import CONTRACTS
    from transforms.staging import stage

    sources = {k: v for k, v in ws.sources.items() if k in ("people", "teams")}
    raw, _, problems = extract_exports(ws.model_copy(update={"sources": sources}), ws_dir)
    if problems:
        return problems
    tables = {}
    for name, frame in raw.take().items():
        tables[name], found = stage(frame, ws.sources[name], CONTRACTS[name], ws.sources[name].path, ws.timezone)
        if [p for p in found if p.severity == "error"]:
            return found
    return tables


def resolve_quarter(ws: Workspace, quarter: str | None) -> Quarter:
    if quarter:
        return parse_quarter(quarter, ws.fiscal_year_start_month)
    today = pd.Timestamp(datetime.now(ZoneInfo(ws.timezone)).date())
    return last_closed_quarter(today, ws.fiscal_year_start_month)


def scope_owners(res: QuarterResults, team: str | None, person: str | None) -> set[tuple[str, str]] | None:
    """Scorecards a single-team or single-person run may re-render (its company card only if changed)."""
    if not team and not person:
        return None
    people = res.org.people
    owners: set[tuple[str, str]] = {("company", res.org.company_id)}
    if team:
        owners.add(("team", team))
        owners |= {("person", str(p)) for p in people.loc[people["team_id"] == team, "person_id"]}
    if person:
        owners.add(("person", person))
        t = people.loc[people["person_id"] == person, "team_id"]
        if len(t) and pd.notna(t.iloc[0]):
            owners.add(("team", str(t.iloc[0])))
    return owners


def _scope_problems(res: QuarterResults, team: str | None, person: str | None) -> list[Problem]:
    out = []
    if team and team not in res.org.team_ids:
        out.append(Problem("--team", f"a team id of the workspace: {', '.join(res.org.team_ids)}", value=team))
    if person and person not in set(res.org.people["person_id"]):
        out.append(Problem("--person", "a person id from the people directory", value=person))
    return out


def _quarter_problems(tables: dict, quarter: Quarter) -> list[Problem]:
    """A quarter with no row in any dated table is almost certainly a typo."""
    lo, hi = None, None
    for name, t in tables.items():
        if name in ("people", "plan", "checkins", "teams", "regions"):
            continue
        for col in t.columns:
            if pd.api.types.is_datetime64_any_dtype(t[col]) and t[col].notna().any():
                lo = t[col].min() if lo is None else min(lo, t[col].min())
                hi = t[col].max() if hi is None else max(hi, t[col].max())
    if lo is None or (hi >= quarter.start and lo < quarter.end):
        return []
    return [Problem("--quarter", f"expected a quarter within the data, which runs from {lo:%Y-%m-%d} to "
                                 f"{hi:%Y-%m-%d}", value=quarter.label)]


@flow(name="okr-quarterly-report", log_prints=False, persist_result=False)
def okr_report(
    workspace: str,
    quarter: str | None = None,
    team: str | None = None,
    person: str | None = None,
    out: str | None = None,
    locale: str | None = None,
    as_of: str | None = None,
    processes: int | None = None,
    send: bool = False,
    resend: bool = False,
    dask_address: str | None = None,
) -> RunOutcome:
    """Compute, grade and publish one quarter's scorecards for the company, its teams and people."""
    outcome = run_quarter(workspace, quarter, team, person, out, locale, as_of, processes, send, resend,
                          dask_address)
    if not outcome.ok and deployment_run():
        # the CLI prints the problems and exits 2; a scheduled or triggered run has no terminal, so it fails
        raise InputsRejected(outcome.problems)
    return outcome


class InputsRejected(ValueError):
    """The inputs of a deployment run were refused: the flow run ends Failed and its message lists why."""

    def __init__(self, problems: list[Problem]):
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} problems in the inputs: {shown}{more}")
        self.problems = problems


def run_quarter(workspace: str, quarter: str | None, team: str | None, person: str | None, out: str | None,
                locale: str | None, as_of: str | None, processes: int | None, send: bool, resend: bool,
                dask_address: str | None) -> RunOutcome:
    """The body of the quarterly flow (see ``okr_report``); it runs inside the flow run."""
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    try:
        ws, ws_dir = load_workspace(Path(workspace))
        q = resolve_quarter(ws, quarter)
    except (InputError, ValueError) as exc:
        return RunOutcome(False, problems=_as_problems(exc))
    locale = locale or ws.locale
    cutoff = pd.Timestamp(as_of) if as_of else None
    if cutoff is None:
        today = pd.Timestamp(datetime.now(ZoneInfo(ws.timezone)).date())
        cutoff = today if q.start <= today <= q.last_day else None
    t = time.perf_counter()
    digests = hash_inputs(ws, ws_dir)
    hashing = time.perf_counter() - t
    fingerprint = run_fingerprint(ws, digests, q, locale, cutoff)
    if not team and not person:
        unchanged = reuse_unchanged(ws, ws_dir, out, q, fingerprint, run_id, started, t0, team, person, send,
                                    resend, locale)
        if unchanged is not None:
            return unchanged

    t = time.perf_counter()
    console.step(f"extracting {len(ws.sources)} exports for {q.label}")
    raw, inputs, unreadable = extract_exports(ws, ws_dir, digests)
    # reading the inputs to hash them (run fingerprint, manifest) is part of extracting them
    seconds["extract"] = hashing + time.perf_counter() - t

    t = time.perf_counter()
    console.step("checking and computing key results")
    tables, found = stage_exports(raw, ws)  # the readable exports too: one run reports every problem
    found = unreadable + found
    errors = [p for p in found if p.severity == "error"]
    warnings = [p for p in found if p.severity != "error"]
    errors += _quarter_problems(tables.value, q) if not errors else []
    if errors:
        return RunOutcome(False, problems=errors, warnings=warnings, quarter_label=q.label)
    res = compute_results(ws, tables, q, cutoff, locale)
    errors = _scope_problems(res, team, person)
    if errors:
        return RunOutcome(False, problems=errors, quarter_label=q.label)
    generated = datetime.now(ZoneInfo(ws.timezone)).strftime("%Y-%m-%d %H:%M")
    cards, kr = build_views(res, ws, tables, locale, run_id, generated, [str(w) for w in warnings])
    teams = build_teams(tables.take())  # the fact tables are done with: rendering runs without them
    seconds["transform"] = time.perf_counter() - t

    root = output_root(ws, ws_dir, out)
    try:
        root.mkdir(parents=True, exist_ok=True)
        previous = pub.published(root, q.slug)
        staging = pub.new_version(root, q.slug, run_id)
    except OSError as exc:
        return RunOutcome(False, problems=[_unwritable(root, exc)])
    in_scope = scope_owners(res, team, person)
    old_manifest, old_kr = read_previous(previous) if in_scope is not None else ({}, None)
    summaries = card_summaries(cards)
    if in_scope is not None and old_manifest.get("cards") and old_kr is not None:
        summaries = merge_scoped(old_manifest["cards"], summaries, in_scope)
        kr = merge_scoped_table(old_kr, kr, in_scope)
    index = index_model(summaries, q.label, f"{q.start:%Y-%m-%d} – {q.last_day:%Y-%m-%d}", generated, run_id,
                        locale, ws.currency, next((c["owner_name"] for c in summaries if c["tier"] == "company"),
                                                  ws.company.name))
    try:
        t = time.perf_counter()
        console.step(f"rendering {len(cards)} scorecards")
        address = dask_address or ws.dask_address
        if address:
            rendered = render_on_dask(cards, index, staging, previous, in_scope, address)
        else:
            rendered = render_scorecards(cards, index, staging, previous, in_scope,
                                         processes or DEFAULT_PROCESSES)
        seconds["render"] = time.perf_counter() - t
        t = time.perf_counter()
        write_tables(kr, staging)
        finished = datetime.now(UTC)
        manifest = {
            "run_id": run_id,
            "quarter": q.label,
            "period": {"start": f"{q.start:%Y-%m-%d}", "end": f"{q.last_day:%Y-%m-%d}"},
            "as_of": None if res.as_of is None else f"{res.as_of:%Y-%m-%d}",
            "code_version": code_version(),
            "template_version": rendered["template"],
            "parameters": {"workspace": str(ws_dir), "quarter": quarter, "team": team, "person": person,
                           "out": str(root), "locale": locale, "as_of": as_of},
            "scope": "person" if person else "team" if team else "all",
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": finished.isoformat(timespec="seconds"),
            "inputs": inputs,
            "counts": _card_counts(summaries),
            "rendered": rendered["rendered"],
            "reused": rendered["reused"],
            "kr_rows": int(len(kr)),
            "warnings": [str(w) for w in warnings],
            "scorecards": rendered["hashes"],
            "fingerprint": fingerprint,
            "cards": summaries,
        }
        seconds["write"] = time.perf_counter() - t
        manifest["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
        manifest["seconds"]["total"] = round(time.perf_counter() - t0, 3)
        pub.write_json(manifest, staging / "manifest.json")
        console.step("publishing")
        folder = publish_version(root, q.slug, staging, run_id)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return RunOutcome(False, problems=[Problem(str(root), f"the outputs could not be written ({exc.strerror}); "
                                                              "the published scorecards were left as they were")])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pub.append_history(root, q.slug, {k: manifest[k] for k in ("run_id", "scope", "started_at", "finished_at",
                                                                "rendered", "reused", "parameters")})
    t = time.perf_counter()
    try:
        delivery = deliver_scorecards(
            summaries, Path(folder), root, q.slug, q.label, index["company_name"], locale,
            res.org.people, teams, ws.executives, team, person, send, resend, run_id,
            ws.mail.get("credentials_block"))
    except (mail.MailConfigError, ValueError) as exc:
        return RunOutcome(False, problems=[Problem("mail settings", str(exc))], quarter_label=q.label,
                          folder=folder)
    seconds = {**manifest["seconds"], "deliver": round(time.perf_counter() - t, 3),
               "total": round(time.perf_counter() - t0, 3)}
    company = res.owners[res.owners["tier"] == "company"]
    return RunOutcome(
        True,
        warnings=warnings,
        quarter_label=q.label,
        folder=folder,
        company_score=None if company.empty or pd.isna(company["score"].iloc[0]) else float(company["score"].iloc[0]),
        company_status="" if company.empty else str(company["status"].iloc[0]),
        cards=_card_counts(summaries),
        rendered=rendered["rendered"],
        reused=rendered["reused"],
        kr_rows=int(len(kr)),
        statuses=status_counts(res.owners),
        seconds=seconds,
        run_id=run_id,
        delivery=delivery,
    )


def _card_counts(cards: list[dict]) -> dict[str, int]:
    out = {"company": 0, "team": 0, "person": 0}
    for c in cards:
        out[c["tier"]] += 1
    return out


def _as_problems(exc: Exception) -> list[Problem]:
    if isinstance(exc, InputError):
        return exc.problems
    return [Problem("--quarter", str(exc))]


@flow(name="okr-send-scorecards", log_prints=False, persist_result=False)
def okr_send(
    workspace: str,
    quarter: str | None = None,
    team: str | None = None,
    person: str | None = None,
    out: str | None = None,
    resend: bool = False,
    dry_run: bool = False,
) -> RunOutcome:
    """Email the already published scorecards of a quarter (exactly once per recipient and card)."""
    try:
        ws, ws_dir = load_workspace(Path(workspace))
        q = resolve_quarter(ws, quarter)
    except (InputError, ValueError) as exc:
        return RunOutcome(False, problems=_as_problems(exc))
    root = output_root(ws, ws_dir, out)
    folder = pub.published(root, q.slug)
    if folder is None:
        return RunOutcome(False, problems=[Problem(str(root / q.slug), "published scorecards; run "
                                                   "'okr-report run' for this quarter first")])
    cards, manifest = load_cards(folder)
    tables = _people_and_teams(ws, ws_dir)
    if isinstance(tables, list):
        return RunOutcome(False, problems=tables, quarter_label=q.label)
    company = next((c["owner_name"] for c in cards if c["tier"] == "company"), ws.company.name)
    locale = manifest.get("parameters", {}).get("locale") or ws.locale
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    try:
        delivery = deliver_scorecards(
            cards, folder, root, q.slug, q.label, company, locale, tables["people"], build_teams(tables),
            ws.executives, team, person, not dry_run, resend, run_id, ws.mail.get("credentials_block"))
    except (mail.MailConfigError, ValueError) as exc:
        return RunOutcome(False, problems=[Problem("mail settings", str(exc))], quarter_label=q.label)
    return RunOutcome(True, quarter_label=q.label, folder=str(root / q.slug), delivery=delivery, run_id=run_id)
