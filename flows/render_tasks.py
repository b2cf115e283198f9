"""Rendering a version's scorecards: reused ones are linked from the published version, the rest laid out
over worker processes in one task, or over a Dask cluster one task per team."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import console
from flows.extract import file_sha256
from transforms.runplan import ReusePlan

DASK_BATCH = 50


@dataclass(frozen=True)
class RenderRequest:
    """The cards of one version, where they go, and which can be taken from the published version."""

    cards: list[dict]
    index: dict
    staging: Path
    published: Path | None
    plan: ReusePlan
    processes: int
    dask_address: str | None = None
    published_files: dict[str, str] = field(default_factory=dict)
    """sha256 of the published version's files as its manifest recorded them: a file whose bytes differ was
    changed after publishing and is rendered again, never carried into the new version."""


@dataclass(frozen=True)
class RenderResult:
    rendered: list[str]
    reused: list[str]


def render_version(req: RenderRequest) -> RenderResult:
    """Link what is reusable, render the rest, write the index; returns what was rendered and reused."""
    reused = [p for p in req.plan.reuse if req.published is not None
              and _link_previous(req.published, req.staging, p, req.published_files)]
    kept = set(reused)
    todo = [c for c in req.cards if c["path"] not in kept]
    if req.dask_address:
        render_on_dask(todo, req.staging, req.dask_address)
    else:
        render_scorecards(todo, req.staging, req.processes)
    write_index(req.index, req.staging)
    return RenderResult([c["path"] for c in todo], reused)


@task(cache_policy=NO_CACHE)
def write_index(index: dict, staging: Path) -> None:
    """The quarter's index page."""
    from flows.render import render_index_html

    (staging / "index.html").write_text(render_index_html(index), encoding="utf-8")


@task(cache_policy=NO_CACHE)
def render_scorecards(cards: list[dict], staging: Path, processes: int) -> None:
    """Write HTML and PDF for each card, PDFs laid out over worker processes."""
    from flows.render import render_html, render_pdfs

    jobs = []
    for card in cards:
        target = staging / f"{card['path']}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        html = render_html(card)
        target.write_text(html, encoding="utf-8")
        jobs.append((html, str(staging / f"{card['path']}.pdf")))
    render_pdfs(jobs, processes=processes, progress=_progress(len(jobs)))


@task(cache_policy=NO_CACHE)
def render_batch(cards: list[dict]) -> list[tuple[str, str, bytes]]:
    """HTML and PDF of a batch of scorecards, in memory: runs on a Dask worker."""
    from flows.render import pdf_bytes, render_html

    out = []
    for card in cards:
        html = render_html(card)
        out.append((card["path"], html, pdf_bytes(html)))
    return out


def team_batches(cards: list[dict], size: int) -> list[list[dict]]:
    """One batch per team (its card and its people's), split when a team has more than ``size`` cards; the
    company card and people without a team go in batches of their own."""
    by_team: dict[str | None, list[dict]] = {}
    for card in cards:
        by_team.setdefault(card.get("team_id"), []).append(card)
    return [group[i:i + size] for group in by_team.values() for i in range(0, len(group), size)]


def render_on_dask(cards: list[dict], staging: Path, address: str) -> None:
    """Fan the rendering out to an existing Dask cluster, one task per batch; the flow writes the files."""
    from prefect_dask import DaskTaskRunner

    done = 0
    report = _progress(len(cards))
    with DaskTaskRunner(address=address) as runner:
        futures = [runner.submit(render_batch, parameters={"cards": batch})
                   for batch in team_batches(cards, DASK_BATCH)]
        for future in futures:
            for path, html, pdf in future.result():
                target = staging / f"{path}.html"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(html, encoding="utf-8")
                (staging / f"{path}.pdf").write_bytes(pdf)
                done += 1
            report(done)


def _progress(total: int):
    logger = None
    try:
        logger = get_run_logger()
    except Exception:  # noqa: BLE001 - outside a run there is no run logger
        pass
    marks = {int(total * f) for f in (0.25, 0.5, 0.75)}

    def report(done: int) -> None:
        console.progress(done, total)
        if logger is not None and done in marks:
            logger.info("rendered %d of %d scorecards", done, total)

    return report


def _link_previous(previous: Path, staging: Path, path: str, recorded: dict[str, str]) -> bool:
    """Hard-link (or copy) a card's HTML and PDF from the published version; False when either is missing or
    no longer holds the bytes the published manifest recorded for it."""
    files = [previous / f"{path}.html", previous / f"{path}.pdf"]
    if not all(f.is_file() for f in files):
        return False
    for f in files:
        want = recorded.get(f.relative_to(previous).as_posix())
        if want is not None and file_sha256(f) != want:
            return False
    for f in files:
        dest = staging / f.relative_to(previous)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            dest.hardlink_to(f)
        except OSError:
            shutil.copy2(f, dest)
    return True
