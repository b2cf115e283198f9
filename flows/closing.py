"""Closing a quarter: its final version frozen with the sha256 of every file, checked later by ``verify``.

A close publishes a new version of the quarter folder like any run: the files of the published version are
linked into a private folder, its manifest gains the hashes and a ``closed`` record, and the quarter link is
swapped. A run that would change a closed quarter is refused unless it gives a reason to reopen it.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flows import publish as pub
from flows.extract import file_sha256
from flows.manifest import Manifest, read_manifest
from flows.outcome import RunClock
from flows.prepare import PreparedRun
from transforms.problems import Problem

MANIFEST = "manifest.json"


def who(by: str | None) -> str:
    """The name a close or a reopening is recorded under: ``--by``, else the user running the command."""
    if by and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _closed_words(closed: dict) -> str:
    return f"on {closed.get('at', '?')} by {closed.get('by', '?')}"


def run_problems(prep: PreparedRun) -> list[Problem]:
    """Why a run may not go ahead: it would change a closed quarter without --reopen, or --reopen names a
    quarter that is not closed. Mid-quarter and other-locale variants are never closed."""
    m, reopen = prep.published_manifest, prep.request.options.reopen
    where = str(prep.root / prep.variant.slug)
    closed = m.closed if m is not None else None
    if reopen is not None and not reopen.strip():
        return [Problem("--reopen", "expected the reason for reopening the quarter", value=reopen)]
    if reopen is not None and not closed:
        return [Problem("--reopen", f"expected a closed quarter: {prep.variant.label} ({where}) is not closed",
                        value=reopen)]
    if not closed or prep.unchanged or reopen:
        return []
    return [Problem(where, f"{prep.variant.label} was closed {_closed_words(closed)}, and this run would change "
                           "it (the exports, okr.yaml, the code or templates, the parameters differ, or --force): "
                           "its scorecards stay as they were closed. To change them, run again with --reopen "
                           "\"REASON\" (recorded in the manifest and the run history), then close it again with "
                           "'okr-report close'")]


def reopen_record(prep: PreparedRun) -> dict[str, str] | None:
    """What the new manifest says about the closed version a ``--reopen`` run replaces."""
    m, opts = prep.published_manifest, prep.request.options
    if not opts.reopen or m is None or not m.closed:
        return None
    return {"at": now(), "by": who(opts.by), "reason": opts.reopen.strip(), "closed_at": m.closed.get("at", ""),
            "closed_by": m.closed.get("by", "")}


def close_problems(prep: PreparedRun) -> list[Problem]:
    """Only a quarter's final grade can be closed: not one still running (graded as of a day)."""
    if prep.variant.as_of is None:
        return []
    q = prep.variant.quarter
    return [Problem("--quarter", f"a quarter that has ended: {q.label} runs until {q.last_day:%Y-%m-%d}, so only "
                                 "its mid-quarter grade exists", value=prep.request.variant.quarter or q.label)]


def file_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file of a version folder but its manifest, by path relative to the folder."""
    return {p.relative_to(folder).as_posix(): file_sha256(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST}


def freeze(prep: PreparedRun, by: str | None) -> Manifest:
    """Publish the published version again, closed: linked files, hashes and the close record in its manifest."""
    root, slug = prep.root, prep.variant.slug
    manifest, source = prep.published_manifest, prep.published
    assert manifest is not None and source is not None
    version = RunClock().run_id
    staging = pub.new_version(root, slug, version)
    try:
        pub.link_tree(source, staging)
        (staging / MANIFEST).unlink()  # a link to the published manifest: written anew, never through the link
        manifest.files = file_hashes(staging)
        manifest.closed = {"at": now(), "by": who(by), "version": version}
        pub.write_json(manifest.to_json(), staging / MANIFEST)
        pub.publish(root, slug, staging, version)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    pub.append_history(root, slug, {"run_id": version, "variant": slug, "started_at": manifest.closed["at"],
                                    "closed": manifest.closed, "version_of": manifest.run_id,
                                    "files": len(manifest.files)})
    return manifest


@dataclass
class Verified:
    """A closed version's files against its manifest: which changed, went missing or were added."""

    manifest: Manifest
    files: int
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not (self.changed or self.missing or self.added)


def verify_problems(prep: PreparedRun) -> list[Problem]:
    """verify needs a published, closed quarter."""
    where = str(prep.root / prep.variant.slug)
    m = prep.published_manifest
    if prep.published is None or m is None:
        return [Problem(where, f"published scorecards of {prep.variant.label}; run 'okr-report run' and "
                               "'okr-report close' first")]
    if not m.closed or not m.files:
        return [Problem(where, f"a closed quarter: {prep.variant.label} is published but not closed, so no hashes "
                               "were recorded; close it with 'okr-report close'")]
    return []


def verify(folder: Path) -> Verified:
    """Recompute the sha256 of every file of the published folder and compare with its manifest."""
    manifest = read_manifest(folder)
    assert manifest is not None
    found = file_hashes(folder)
    recorded = manifest.files
    return Verified(manifest, len(recorded),
                    changed=sorted(p for p in recorded if p in found and found[p] != recorded[p]),
                    missing=sorted(p for p in recorded if p not in found),
                    added=sorted(p for p in found if p not in recorded))
