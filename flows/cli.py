"""``okr-report``: a thin command line over the flow and the validators.

Commands that do not run a flow (``validate``, ``--help``) never import Prefect, so they start fast.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Optional

import typer

from flows import console
from transforms.problems import InputError, Problem

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Graded quarterly OKR scorecards from CRM "
                  "and spreadsheet exports.")

EXIT_INPUT = 2
EXIT_INTERNAL = 1
EXIT_DELIVERY = 3
EXIT_CHANGED = 1
"""verify: a closed quarter's files differ from the sha256 its manifest recorded."""

WorkspaceOpt = typer.Option(..., "--workspace", "-w", help="Workspace folder holding okr.yaml.")


def report_problems(problems: list[Problem], where: str) -> None:
    errors = [p for p in problems if p.severity == "error"]
    console.err.print(f"[bold red]{len(errors)} problem{'s' if len(errors) != 1 else ''}[/bold red] in {where}:",
                      markup=True)
    for p in errors:
        console.err.print(f"  - {p}", markup=False)


def report_warnings(warnings: list[Problem]) -> None:
    for w in warnings:
        console.err.print(f"  warning: {w}", markup=False)


def _fail_unexpected(exc: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exception(exc)
    else:
        console.err.print(f"internal error: {type(exc).__name__}: {exc}\n(run again with --debug for details)",
                          markup=False)
    raise typer.Exit(EXIT_INTERNAL)


@app.command()
def run(
    workspace: Path = WorkspaceOpt,
    quarter: Optional[str] = typer.Option(None, "--quarter", "-q", help="e.g. FY2017-18-Q4 or 2017-Q4; "
                                          "default: the last closed fiscal quarter (or the one --as-of is in)."),
    team: Optional[str] = typer.Option(None, "--team", help="Deliver and report one team (id or name): its "
                                       "members, lead and the company card."),
    person: Optional[str] = typer.Option(None, "--person", help="Deliver and report one person's scorecard."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: the config's output)."),
    locale: Optional[str] = typer.Option(None, "--locale", help="zh-CN or en; another locale than the config's "
                                         "is published beside the final quarter."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Grade the quarter as of this date (YYYY-MM-DD): "
                                        "pace against elapsed time, published beside the final quarter."),
    processes: Optional[int] = typer.Option(None, "--processes", "-j", min=1, help="PDF worker processes."),
    send: bool = typer.Option(False, "--send", help="Email the scorecards (SMTP settings from OKR_SMTP_*); "
                              "without it the messages are written to an outbox as .eml files."),
    resend: bool = typer.Option(False, "--resend", help="Send again messages the ledger says were sent."),
    force: bool = typer.Option(False, "--force", help="Recompute and re-render every scorecard, reusing nothing."),
    dask_address: Optional[str] = typer.Option(None, "--dask-address", help="Render on an existing Dask "
                                               "cluster (tcp://HOST:PORT); workers need PREFECT_API_URL."),
    reopen: Optional[str] = typer.Option(None, "--reopen", help="Change a closed quarter; the reason is recorded "
                                         "in the manifest and the run history."),
    by: Optional[str] = typer.Option(None, "--by", help="Who reopens (default: the OS user)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Compute, grade and publish one quarter's scorecards."""
    from flows.closing import run_problems
    from flows.outcome import record_unchanged
    from flows.prepare import RunOptions, RunRequest, prepare_run
    from transforms.runplan import VariantAsk

    request = RunRequest(str(workspace), VariantAsk(quarter, as_of, locale), team, person,
                         str(out) if out else None,
                         RunOptions(processes, send, resend, force, dask_address, reopen=reopen, by=by))
    try:
        prep = prepare_run(request)
        refused = run_problems(prep)
        if refused:
            raise InputError(refused)
        if prep.unchanged and not send:
            # answered from the published manifest: no orchestration engine to start
            outcome = record_unchanged(prep)
        else:
            outcome = _run_flow(request, workspace)
    except InputError as exc:
        report_problems(exc.problems, str(workspace))
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the user
        _fail_unexpected(exc, debug)
    if not outcome.ok:
        report_problems(outcome.problems, str(workspace))
        raise typer.Exit(EXIT_INPUT) from None
    print_summary(outcome)
    finish_delivery(outcome.delivery)


def _run_flow(request, workspace: Path):
    from flows.settings import apply_defaults

    apply_defaults()
    console.step(f"running okr-report on {workspace} (starting the local orchestration engine)")
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows.pipeline import okr_report

    v, o = request.variant, request.options
    # heartbeats tell a server that a worker's run crashed; a run in this very process needs none, and
    # stopping the heartbeat thread costs every run a second at its end
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return okr_report(workspace=request.workspace, quarter=v.quarter, team=request.team,
                          person=request.person, out=request.out, locale=v.locale, as_of=v.as_of,
                          processes=o.processes, send=o.send, resend=o.resend, force=o.force,
                          dask_address=o.dask_address, deliver=o.deliver, reopen=o.reopen, by=o.by)


def finish_delivery(d) -> None:
    """Print what was mailed; exit non-zero when any message failed."""
    if d is None:
        return
    w = console.out
    c = d.counts
    if d.mode == "outbox":
        w.print(f"  email dry run: {c.get('written', 0)} messages written to {d.outbox}/ (use --send to mail them)",
                markup=False)
    else:
        w.print(f"  email: {c.get('sent', 0)} sent, {c.get('skipped', 0)} already sent, {c.get('failed', 0)} failed"
                f" (report: {d.report})", markup=False)
    for s in d.skipped:
        w.print(f"  not addressed: {s}", markup=False)
    if d.failed:
        console.err.print(f"{len(d.failed)} messages failed:", markup=False)
        for f in d.failed:
            console.err.print(f"  - {f}", markup=False)
        raise typer.Exit(EXIT_DELIVERY)


def print_summary(o) -> None:
    c = o.cards
    w = console.out
    score = "no data" if o.company_score is None else f"{o.company_score:.2f}"
    w.print(f"okr-report · {o.quarter_label}", markup=False)
    if o.unchanged:
        w.print(f"  nothing changed since the published run (same exports, config, code and templates): "
                f"kept its {c['company'] + c['team'] + c['person']} scorecards (--force renders them again)",
                markup=False)
    else:
        w.print(f"  computed {o.kr_rows:,} KR values for {c['company']} company, {c['team']} teams, "
                f"{c['person']} people", markup=False)
        w.print(f"  scorecards: {o.rendered} rendered, {o.reused} reused (HTML + PDF)", markup=False)
        if o.outside_scope:
            shown = ", ".join(o.outside_scope[:5]) + (f" and {len(o.outside_scope) - 5} more"
                                                       if len(o.outside_scope) > 5 else "")
            w.print(f"  also re-rendered outside --{o.scope}, because their inputs changed too (not sent): {shown}",
                    markup=False)
    people = o.statuses.get("person", {})
    teams = o.statuses.get("team", {})
    w.print(f"  company score {score} ({o.company_status}); teams {_dist(teams)}; people {_dist(people)}",
            markup=False)
    if o.likely_miss is not None:
        w.print(f"  forecast: {o.likely_miss:,} KRs likely to miss their target (under a 50% chance)", markup=False)
    if o.warnings:
        w.print(f"  {len(o.warnings)} data warnings (listed on the company scorecard and in manifest.json)",
                markup=False)
    secs = o.seconds
    parts = ", ".join(f"{k} {secs[k]:.1f}" for k in ("extract", "transform", "render", "write", "deliver")
                      if k in secs)
    w.print(f"  took {secs.get('total', 0):.1f} s" + (f" ({parts})" if parts else ""), markup=False)
    w.print(f"  scorecards are in {o.folder}/", markup=False)
    w.print(f"  open {o.folder}/index.html", markup=False)


def _dist(d: dict) -> str:
    return ", ".join(f"{d.get(k, 0)} {k.replace('_', ' ')}" for k in ("green", "yellow", "red", "no_data")
                     if d.get(k, 0))


@app.command()
def send(
    workspace: Path = WorkspaceOpt,
    quarter: Optional[str] = typer.Option(None, "--quarter", "-q", help="Default: the last closed quarter."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Send the mid-quarter variant of this date."),
    locale: Optional[str] = typer.Option(None, "--locale", help="Send the variant in this locale."),
    team: Optional[str] = typer.Option(None, "--team", help="Only this team's scorecards and its lead."),
    person: Optional[str] = typer.Option(None, "--person", help="Only this person's scorecard."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: the config's output)."),
    resend: bool = typer.Option(False, "--resend", help="Send again messages the ledger says were sent."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Write .eml files to the outbox instead of sending."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Email one published variant: each person their own card, leads their team's, executives the company's."""
    from flows.prepare import RunOptions, RunRequest, prepare_run
    from transforms.runplan import VariantAsk

    request = RunRequest(str(workspace), VariantAsk(quarter, as_of, locale), team, person,
                         str(out) if out else None, RunOptions(send=not dry_run, resend=resend))
    try:
        prep = prepare_run(request)
        if prep.published_manifest is None:
            report_problems([Problem(str(prep.root / prep.variant.slug), f"published scorecards of "
                                     f"{prep.variant.label}; run 'okr-report run' with the same --quarter, "
                                     "--as-of and --locale first")], str(workspace))
            raise typer.Exit(EXIT_INPUT)
        from flows.settings import apply_defaults

        apply_defaults()
        from flows.pipeline import okr_send

        outcome = okr_send(workspace=str(workspace), quarter=quarter, team=team, person=person,
                           out=request.out, locale=locale, as_of=as_of, resend=resend, dry_run=dry_run)
    except InputError as exc:
        report_problems(exc.problems, str(workspace))
        raise typer.Exit(EXIT_INPUT) from None
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001
        _fail_unexpected(exc, debug)
    if not outcome.ok:
        report_problems(outcome.problems, str(workspace))
        raise typer.Exit(EXIT_INPUT)
    console.out.print(f"okr-report · {outcome.quarter_label} · {outcome.folder}", markup=False)
    finish_delivery(outcome.delivery)


@app.command()
def close(
    workspace: Path = WorkspaceOpt,
    quarter: Optional[str] = typer.Option(None, "--quarter", "-q", help="Default: the last closed quarter."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: the config's output)."),
    by: Optional[str] = typer.Option(None, "--by", help="Who closes it (default: the OS user)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Freeze a quarter's final scorecards: run it first if the published version is not what the current inputs
    give, then record every file's sha256 and who closed it."""
    from flows import closing
    from flows.prepare import RunOptions, RunRequest, prepare_run
    from transforms.runplan import VariantAsk

    request = RunRequest(str(workspace), VariantAsk(quarter, None, None), out=str(out) if out else None,
                         options=RunOptions(deliver=False))
    try:
        prep = prepare_run(request)
        problems = closing.close_problems(prep) or closing.run_problems(prep)
        if problems:
            raise InputError(problems)
        m = prep.published_manifest
        if prep.unchanged and m is not None and m.closed:
            console.out.print(f"okr-report · {prep.variant.label}\n  already closed on {m.closed['at']} by "
                              f"{m.closed['by']}: {len(m.files)} files, nothing changed since", markup=False)
            return
        if not prep.unchanged:
            outcome = _run_flow(request, workspace)
            if not outcome.ok:
                raise InputError(outcome.problems)
            print_summary(outcome)
            prep = prepare_run(request)
        manifest = closing.freeze(prep, by)
    except InputError as exc:
        report_problems(exc.problems, str(workspace))
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:  # noqa: BLE001
        _fail_unexpected(exc, debug)
    folder = prep.root / prep.variant.slug
    console.out.print(f"okr-report · {prep.variant.label}\n  closed on {manifest.closed['at']} by "
                      f"{manifest.closed['by']}: {len(manifest.files)} files and their sha256 recorded in "
                      f"{folder}/manifest.json\n  check them any time: okr-report verify --workspace {workspace} "
                      f"--quarter {prep.variant.slug}", markup=False)


@app.command()
def verify(
    workspace: Path = WorkspaceOpt,
    quarter: Optional[str] = typer.Option(None, "--quarter", "-q", help="Default: the last closed quarter."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: the config's output)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Check a closed quarter's files against the sha256 its manifest recorded. Exit code 1 when any differs."""
    from flows import closing
    from flows.prepare import RunRequest, prepare_run
    from transforms.runplan import VariantAsk

    try:
        prep = prepare_run(RunRequest(str(workspace), VariantAsk(quarter, None, None), out=str(out) if out else None))
        problems = closing.verify_problems(prep)
        if problems:
            raise InputError(problems)
        result = closing.verify(prep.published)
    except InputError as exc:
        report_problems(exc.problems, str(workspace))
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:  # noqa: BLE001
        _fail_unexpected(exc, debug)
    print_verified(result, prep.variant.label, prep.root / prep.variant.slug)
    if not result.intact:
        raise typer.Exit(EXIT_CHANGED)


def print_verified(result, label: str, folder: Path) -> None:
    w, closed = console.out, result.manifest.closed
    w.print(f"okr-report · {label} · closed on {closed['at']} by {closed['by']}", markup=False)
    if result.intact:
        w.print(f"  OK: {result.files} files in {folder}/ match the sha256 in manifest.json", markup=False)
        return
    for word, names in (("changed", result.changed), ("missing", result.missing), ("added", result.added)):
        for name in names:
            w.print(f"  {word}: {name}", markup=False)
    n = len(result.changed) + len(result.missing) + len(result.added)
    w.print(f"  {n} {'file differs' if n == 1 else 'files differ'} from manifest.json ({result.files} recorded)",
            markup=False)


@app.command()
def serve(
    workspace: Path = WorkspaceOpt,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: the config's output)."),
    send: bool = typer.Option(False, "--send", help="Email the scorecards after each scheduled run."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Run the flow on its quarter-end schedule (and accept manual runs) until stopped."""
    from flows.config_io import load_workspace

    try:
        ws, ws_dir = load_workspace(workspace)
    except InputError as exc:
        report_problems(exc.problems, str(workspace))
        raise typer.Exit(EXIT_INPUT) from None
    from flows.settings import apply_defaults

    apply_defaults()
    from flows import serve as serving

    cron = serving.cron_for(ws)
    try:
        with serving.api_server() as url:
            console.out.print(f"serving okr-quarterly-report/{serving.DEPLOYMENT}: cron '{cron}' "
                              f"({ws.timezone}), next runs {', '.join(next_runs(cron, ws.timezone))}", markup=False)
            console.out.print(f"  Prefect API {url}; manual run: PREFECT_API_URL={url} prefect deployment run "
                              f"'okr-quarterly-report/{serving.DEPLOYMENT}'; "
                              "stop with Ctrl-C", markup=False)
            serving.serve(ws, ws_dir, str(out) if out else None, send)
    except KeyboardInterrupt:
        console.err.print("stopped", markup=False)
    except Exception as exc:  # noqa: BLE001
        _fail_unexpected(exc, debug)


def next_runs(cron: str, tz: str, n: int = 2) -> list[str]:
    """The next fire times as the server will compute them."""
    import asyncio
    from datetime import datetime

    from prefect.server.schemas.schedules import CronSchedule

    dates = asyncio.run(CronSchedule(cron=cron, timezone=tz).get_dates(n=n, start=datetime.now().astimezone()))
    return [d.strftime("%Y-%m-%d %H:%M %Z") for d in dates]


@app.command()
def validate(
    workspace: Path = WorkspaceOpt,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Check the config and every export against its contract, without running anything."""
    from flows.config_io import load_workspace, with_lines
    from flows.extract import read_all
    from transforms.validation import stage_workspace

    try:
        ws, ws_dir = load_workspace(workspace)
        raw, unreadable = read_all(dict(ws.sources), ws_dir)
        tables, problems = stage_workspace(raw, ws)
        problems = unreadable + with_lines(problems, ws_dir)
    except InputError as exc:
        report_problems(exc.problems, str(workspace))
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:  # noqa: BLE001
        _fail_unexpected(exc, debug)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        report_problems(problems, str(workspace))
        raise typer.Exit(EXIT_INPUT) from None
    report_warnings([p for p in problems if p.severity != "error"])
    rows = sum(len(frame) for frame in raw.values())  # as read: an event log's earlier rows count too
    console.out.print(f"{workspace}: OK - {len(ws.sources)} sources, {rows:,} rows, {len(ws.metrics)} metrics, "
                      f"{len(tables['plan'])} plan rows", markup=False)


@app.command()
def init(
    files: list[Path] = typer.Option(..., "--from", help="An export (CSV, XLSX, or either gzipped); repeat for "
                                     "each file."),
    workspace: Optional[Path] = typer.Option(None, "--workspace", "-w", help="Folder to write okr.yaml and "
                                             "okr_plan.csv into (default: the folder the exports share)."),
    company: Optional[str] = typer.Option(None, "--company", help="Company name (default: the folder's name)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="Read only this sheet of each workbook (default: "
                                        "every sheet with rows)."),
    force: bool = typer.Option(False, "--force", help="Write over an existing okr.yaml and okr_plan.csv."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Write a starter okr.yaml and okr_plan.csv guessed from the exports, with the reason for every guess."""
    from flows.init import InitRequest, init_workspace, print_report

    request = InitRequest(tuple(files), workspace, company, sheet, force)
    try:
        result = init_workspace(request)
    except InputError as exc:
        report_problems(exc.problems, "the exports" if workspace is None else str(workspace))
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:  # noqa: BLE001
        _fail_unexpected(exc, debug)
    report_warnings(result.warnings)
    print_report(result)


@app.command()
def review(
    plan_file: Optional[Path] = typer.Argument(None, help="A plan file (CSV or XLSX) with at least objective and "
                                               "key result columns, in Chinese or English."),
    workspace: Optional[Path] = typer.Option(None, "--workspace", "-w", help="Review this workspace's plan, with "
                                             "its metrics, teams and people."),
    output_format: str = typer.Option("text", "--format", help="text or json."),
    locale: Optional[str] = typer.Option(None, "--locale", help="Language of the messages: zh-CN or en (default: "
                                         "the plan's, or the workspace's)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="The plan's sheet in a workbook (default: the "
                                        "first)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    """Check the plan's KRs against the lessons of good OKRs: tasks, missing numbers, vague or softening words,
    attempts counted as outcomes, effort objectives, KRs that miss their objective or belong to another team,
    and the plan's structure. Exit code 1 when a finding is an error."""
    from flows.review import ReviewOptions, exit_code, print_review, run_review

    if output_format not in ("text", "json"):
        report_problems([Problem("--format", "expected text or json", value=output_format)], "the options")
        raise typer.Exit(EXIT_INPUT)
    try:
        reviewed = run_review(ReviewOptions(plan_file, workspace, locale, sheet, output_format == "json"))
    except InputError as exc:
        report_problems(exc.problems, str(workspace or plan_file or "the options"))
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:  # noqa: BLE001
        _fail_unexpected(exc, debug)
    print_review(reviewed, output_format == "json")
    raise typer.Exit(exit_code(reviewed))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.err.print("interrupted", markup=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
