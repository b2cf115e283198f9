"""The quarterly OKR report flow: prepare -> extract -> stage -> compute -> render -> publish -> deliver.

One flow run per quarter; each stage is one task that calls into ``transforms`` (logic) or does I/O.
Whatever the scope of a run, the version it publishes is complete: every scorecard is the one a fresh full
run on the current inputs writes (reused from the published version only when its content is the same).
"""

from __future__ import annotations

import errno
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import closing, console, mail
from flows import publish as pub
from flows.codeinfo import code_digest, render_digest
from flows.config_io import with_lines
from flows.delivery import DeliveryRequest, DeliverySummary, deliver_scorecards, deployment_run, load_cards
from flows.extract import read_source
from flows.locations import source_path
from flows.manifest import InputRecord, Manifest
from flows.outcome import RunClock, RunOutcome, card_counts, outcome_from_manifest, record_unchanged
from flows.prepare import PreparedRun, RunOptions, RunRequest, directory_tables, prepare_run
from flows.render_tasks import RenderRequest, render_version
from flows.review import builtin_lexicon
from transforms.adjustments import SheetRef, adjustment_problems
from transforms.calendar import Quarter
from transforms.config import Workspace
from transforms.contracts import PRESETS
from transforms.problems import InputError, Problem
from transforms.report import QuarterResults, build_teams, compute_quarter, with_review
from transforms.runplan import VariantAsk, outside_scope, reuse_plan
from transforms.scorecards import IndexHeader, build_scorecards, card_summaries, index_model, kr_table
from transforms.tables import Part, relocate
from transforms.validation import stage_workspace
from transforms.workbook import Words, workbook_model

ADJUSTMENT_COLUMNS = tuple(PRESETS["adjustments"].columns)
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


@dataclass
class Computed:
    """The quarter computed and shaped for publishing."""

    results: QuarterResults
    cards: list[dict]
    kr: pd.DataFrame
    teams: pd.DataFrame
    inputs: list[InputRecord]
    warnings: list[Problem]
    generated_at: str


# -- tasks ---------------------------------------------------------------------------------------------

@task(retries=2, retry_delay_seconds=[1, 4], cache_policy=NO_CACHE)
def extract_exports(ws: Workspace, workspace_dir: Path,
                    digests: dict[str, str]) -> tuple[Handoff, list[InputRecord], list[Problem]]:
    """Read every configured export (reading is idempotent, so a flaky share is retried)."""
    raw, inputs, problems = {}, [], []
    for name, source in ws.sources.items():
        try:
            raw[name] = read_source(source, workspace_dir)
        except InputError as exc:
            problems += exc.problems
            continue
        path = source_path(workspace_dir, source.path)
        inputs.append(InputRecord(name, source.path, digests[name], path.stat().st_size, int(len(raw[name]))))
    return Handoff(raw), inputs, problems


@task(cache_policy=NO_CACHE)
def stage_exports(raw: Handoff, ws: Workspace, workspace_dir: Path) -> tuple[Handoff, list[Problem]]:
    """Rename, cast and check every export against its contract."""
    tables, problems = stage_workspace(raw.take(), ws)
    return Handoff(tables), with_lines(problems, workspace_dir)


@task(cache_policy=NO_CACHE)
def compute_results(ws: Workspace, tables: Handoff, quarter: Quarter, as_of: pd.Timestamp | None,
                    locale: str) -> QuarterResults:
    """Every KR value, grade and roll-up of the quarter."""
    res = compute_quarter(ws, tables.value, quarter, as_of, locale, ws.history_quarters)
    return with_review(res, ws, tables.value, builtin_lexicon(), locale)


@task(cache_policy=NO_CACHE)
def build_views(res: QuarterResults, ws: Workspace, tables: Handoff, locale: str, generated_at: str,
                notes: list[str]) -> tuple[list[dict], pd.DataFrame]:
    """Scorecard view models and the KR table."""
    cards = build_scorecards(res, ws, tables.value, locale, generated_at, "", global_notes=notes)
    names = {(c["tier"], c["owner_id"]): c["owner_name"] for c in cards}
    texts = {(c["tier"], c["owner_id"], kr["kr_id"]): kr["lineage"] for c in cards for o in c["objectives"]
             for kr in o["krs"]}
    return cards, kr_table(res, names, locale, texts)


@task(cache_policy=NO_CACHE)
def write_tables(kr: pd.DataFrame, staging: Path, locale: str, currency: str) -> None:
    """kr_values.csv and the Excel workbook (a sheet per tier, in the card's language)."""
    from flows.render import labels

    pub.write_csv(kr, staging / "kr_values.csv")
    ui = labels(locale)
    sheets = workbook_model(kr, locale, currency, Words(ui["status_name"], ui["source_name"]))
    pub.write_xlsx(sheets, staging / "kr_values.xlsx")


@task(cache_policy=NO_CACHE)
def publish_version(out: Path, slug: str, staging: Path, run_id: str) -> str:
    """Swap the quarter folder to the new version atomically (a rename: never retried)."""
    return str(pub.publish(out, slug, staging, run_id))


# -- stages --------------------------------------------------------------------------------------------

def compute_stage(prep: PreparedRun, clock: RunClock) -> Computed | RunOutcome:
    """Extract, stage, check and compute; a RunOutcome with the problems when the inputs are refused."""
    ws, variant = prep.ws, prep.variant
    with clock.stage("extract", f"extracting {len(ws.sources)} exports for {variant.label}"):
        raw, inputs, unreadable = extract_exports(ws, prep.ws_dir, prep.digests)
    clock.seconds["extract"] += prep.hashing_seconds  # hashing the inputs is part of reading them
    with clock.stage("transform", "checking and computing key results"):
        tables, found = stage_exports(raw, ws, prep.ws_dir)  # the readable exports too: one run reports every problem
        found = unreadable + found
        errors = [p for p in found if p.severity == "error"]
        warnings = [p for p in found if p.severity != "error"]
        errors += _quarter_problems(tables.value, variant.quarter) if not errors else []
        if errors:
            return RunOutcome(False, problems=errors, warnings=warnings, quarter_label=variant.label)
        res = compute_results(ws, tables, variant.quarter, variant.as_of, variant.locale)
        errors = adjustment_errors(ws, tables.value, res.krs, variant.quarter)
        if errors:
            return RunOutcome(False, problems=errors, warnings=warnings, quarter_label=variant.label)
        generated = datetime.now(ZoneInfo(ws.timezone)).strftime("%Y-%m-%d %H:%M")
        cards, kr = build_views(res, ws, tables, variant.locale, generated, [w.text(variant.locale) for w in warnings])
        teams = build_teams(tables.take())  # the fact tables are done with: rendering runs without them
    return Computed(res, cards, kr, teams, inputs, warnings, generated)


def adjustment_errors(ws: Workspace, tables: dict[str, pd.DataFrame], krs: pd.DataFrame,
                      quarter: Quarter) -> list[Problem]:
    """Adjusted grades that name no KR of the quarter's plan (or hold a score above 1, a blank reason or name),
    pointed at the adjustments file, sheet, row and column as written."""
    sources = ws.table_sources("adjustments")
    if not sources or "adjustments" not in tables:
        return []
    parts = [Part(name, source, pd.DataFrame(), {c: source.columns.get(c, c) for c in ADJUSTMENT_COLUMNS})
             for name, source in sources]
    first = parts[0]
    labels = first.labels if len(parts) == 1 else {c: c for c in ADJUSTMENT_COLUMNS}
    where = SheetRef(first.source.path, first.source.sheet, labels)
    return relocate(adjustment_problems(tables["adjustments"], krs, where, quarter), parts)


def publish_stage(prep: PreparedRun, done: Computed,
                  clock: RunClock) -> tuple[Manifest, str, list[str]] | RunOutcome:
    """Render what changed into a private version folder, write the tables and manifest, swap it in."""
    variant, root = prep.variant, prep.root
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = pub.new_version(root, variant.slug, clock.run_id)
    except OSError as exc:
        return RunOutcome(False, problems=[_unwritable(root, exc)])
    cards = [{**c, "run_id": clock.run_id} for c in done.cards]
    summaries = card_summaries(cards)
    index = index_model(summaries, IndexHeader(variant.quarter, variant.label, done.generated_at, clock.run_id,
                                               variant.locale, prep.ws.currency, prep.ws.company.name))
    published_hashes = prep.published_manifest.scorecards if prep.published_manifest else {}
    plan = reuse_plan(cards, render_digest(), published_hashes, force=prep.request.options.force)
    try:
        with clock.stage("render", f"rendering {len(plan.render)} of {len(cards)} scorecards"):
            published_files = prep.published_manifest.files if prep.published_manifest else {}
            result = render_version(RenderRequest(cards, index, staging, prep.published, plan, prep.processes,
                                                  prep.request.options.dask_address or prep.ws.dask_address,
                                                  published_files))
        with clock.stage("write"):
            write_tables(done.kr, staging, variant.locale, prep.ws.currency)
        manifest = _manifest(prep, done, clock, summaries, plan.hashes)
        manifest.reopened = closing.reopen_record(prep)
        manifest.rendered, manifest.reused = len(result.rendered), len(result.reused)
        manifest.files = closing.file_hashes(staging)  # what the next run checks before reusing a file
        manifest.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        manifest.seconds = clock.rounded()
        pub.write_json(manifest.to_json(), staging / "manifest.json")
        console.step("publishing")
        folder = publish_version(root, variant.slug, staging, clock.run_id)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return RunOutcome(False, problems=[Problem(str(root), f"the outputs could not be written ({exc.strerror}); "
                                                              "the published scorecards were left as they were")])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pub.append_history(root, variant.slug, manifest.history_entry())
    return manifest, folder, result.rendered


def _manifest(prep: PreparedRun, done: Computed, clock: RunClock, summaries: list[dict],
              hashes: dict[str, str]) -> Manifest:
    v, req = prep.variant, prep.request
    return Manifest(
        run_id=clock.run_id, quarter=v.quarter.label, variant=v.slug,
        period={"start": f"{v.quarter.start:%Y-%m-%d}", "end": f"{v.quarter.last_day:%Y-%m-%d}"},
        as_of=None if v.as_of is None else f"{v.as_of:%Y-%m-%d}", locale=v.locale,
        code_digest=code_digest(), render_digest=render_digest(), fingerprint=prep.fingerprint,
        parameters={"workspace": str(prep.ws_dir), "quarter": req.variant.quarter, "team": prep.scope.team,
                    "person": prep.scope.person, "out": str(prep.root), "locale": v.locale,
                    "as_of": req.variant.as_of, "force": req.options.force},
        scope=prep.scope.kind.value, started_at=clock.started.isoformat(timespec="seconds"),
        inputs=done.inputs, counts=card_counts(summaries), kr_rows=int(len(done.kr)),
        warnings=[str(w) for w in done.warnings], scorecards=hashes, cards=summaries)


def deliver_stage(prep: PreparedRun, cards: list[dict], folder: Path, run_id: str,
                  directory: dict[str, pd.DataFrame] | None = None) -> DeliverySummary:
    """Email (or write to the outbox) the scorecards in the run's scope."""
    tables = directory if directory is not None else directory_tables(prep.ws, prep.ws_dir)
    opts = prep.request.options
    company = next((c["owner_name"] for c in cards if c["tier"] == "company"), prep.ws.company.name)
    return deliver_scorecards(DeliveryRequest(
        cards=cards, folder=folder, out=prep.root, slug=prep.variant.slug, quarter_label=prep.variant.label,
        company=company, locale=prep.variant.locale, people=tables["people"], teams=build_teams(tables),
        executives=prep.ws.executives, scope=prep.scope, send=opts.send, resend=opts.resend, run_id=run_id,
        currency=prep.ws.currency, mail_options=mail.mail_options(prep.ws.mail)))


def run_prepared(prep: PreparedRun) -> RunOutcome:
    """A full run of a checked request: compute, publish the complete version, deliver the scope."""
    refused = closing.run_problems(prep)
    if refused:
        return RunOutcome(False, problems=refused, quarter_label=prep.variant.label)
    if prep.unchanged:
        return keep_published(prep)
    clock = RunClock()
    done = compute_stage(prep, clock)
    if isinstance(done, RunOutcome):
        return done
    published = publish_stage(prep, done, clock)
    if isinstance(published, RunOutcome):
        return published
    manifest, folder, rendered = published
    if not prep.request.options.deliver:  # closing: the version is published, nobody is written to
        outcome = outcome_from_manifest(prep, manifest, folder, clock.rounded(), None, done.warnings)
        outcome.outside_scope = outside_scope(done.cards, rendered, prep.scope)
        return outcome
    with clock.stage("deliver"):
        try:
            directory = {"people": done.results.org.people, "teams": done.teams}
            delivery = deliver_stage(prep, manifest.cards, Path(folder), clock.run_id, directory)
        except (mail.MailConfigError, ValueError) as exc:
            return RunOutcome(False, problems=[Problem("mail settings", str(exc))], quarter_label=prep.variant.label,
                              folder=folder)
    outcome = outcome_from_manifest(prep, manifest, folder, clock.rounded(), delivery, done.warnings)
    outcome.outside_scope = outside_scope(done.cards, rendered, prep.scope)
    return outcome


def keep_published(prep: PreparedRun) -> RunOutcome:
    """Nothing a published file depends on changed: keep that version as it is, record the run, deliver."""
    outcome = record_unchanged(prep)
    if prep.request.options.send:
        try:
            outcome.delivery = deliver_stage(prep, prep.published_manifest.cards, prep.published, outcome.run_id)
        except (mail.MailConfigError, ValueError) as exc:
            return RunOutcome(False, problems=[Problem("mail settings", str(exc))], quarter_label=prep.variant.label)
    return outcome


def _unwritable(root: Path, exc: OSError) -> Problem:
    return Problem(str(root), f"the output folder cannot be written ({exc.strerror}): expected a writable folder "
                              "for --out or 'output:'")


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


# -- flows ---------------------------------------------------------------------------------------------

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
    force: bool = False,
    dask_address: str | None = None,
    deliver: bool = True,
    reopen: str | None = None,
    by: str | None = None,
) -> RunOutcome:
    """Compute, grade and publish one quarter's scorecards for the company, its teams and people (``reopen``: the
    reason for changing a closed quarter; ``deliver`` False publishes without writing any message)."""
    request = RunRequest(workspace, VariantAsk(quarter, as_of, locale), team, person, out,
                         RunOptions(processes, send, resend, force, dask_address, deliver, reopen, by))
    try:
        outcome = run_prepared(prepare_run(request))
    except InputError as exc:
        outcome = RunOutcome(False, problems=exc.problems)
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


@flow(name="okr-send-scorecards", log_prints=False, persist_result=False)
def okr_send(
    workspace: str,
    quarter: str | None = None,
    team: str | None = None,
    person: str | None = None,
    out: str | None = None,
    locale: str | None = None,
    as_of: str | None = None,
    resend: bool = False,
    dry_run: bool = False,
) -> RunOutcome:
    """Email the already published scorecards of one variant (exactly once per recipient and card)."""
    request = RunRequest(workspace, VariantAsk(quarter, as_of, locale), team, person, out,
                         RunOptions(send=not dry_run, resend=resend))
    try:
        prep = prepare_run(request)
        folder = published_folder(prep)
    except InputError as exc:
        return RunOutcome(False, problems=exc.problems)
    cards, _ = load_cards(folder)
    run_id = RunClock().run_id
    try:
        delivery = deliver_stage(prep, cards, folder, run_id)
    except (mail.MailConfigError, ValueError) as exc:
        return RunOutcome(False, problems=[Problem("mail settings", str(exc))], quarter_label=prep.variant.label)
    return RunOutcome(True, quarter_label=prep.variant.label, folder=str(prep.root / prep.variant.slug),
                      delivery=delivery, run_id=run_id)


def published_folder(prep: PreparedRun) -> Path:
    """The published folder of the variant a send addresses, or a problem saying how to make it."""
    if prep.published is None or prep.published_manifest is None:
        raise InputError([Problem(str(prep.root / prep.variant.slug),
                                  f"published scorecards of {prep.variant.label}; run 'okr-report run' with the "
                                  "same --quarter, --as-of and --locale first")])
    return prep.published
