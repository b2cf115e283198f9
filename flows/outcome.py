"""What a run did, for the command line's summary: outcomes, the run clock, and runs that changed nothing.

No orchestration engine here: a run that finds nothing changed is answered from the published manifest.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from flows import console
from flows import publish as pub
from flows.manifest import Manifest
from flows.prepare import PreparedRun
from transforms.problems import Problem
from transforms.scorecards import status_counts

if TYPE_CHECKING:  # the delivery module needs the orchestration engine; only its summary's type is named here
    from flows.delivery import DeliverySummary


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
    delivery: DeliverySummary | None = None
    unchanged: bool = False
    scope: str = "all"
    outside_scope: list[str] = field(default_factory=list)
    likely_miss: int | None = None
    """Mid-quarter: KRs (of every card) with under a 50% chance of reaching the target."""


class RunClock:
    """The run's id, start time and seconds per stage."""

    def __init__(self) -> None:
        self.started = datetime.now(UTC)
        self.t0 = time.perf_counter()
        self.run_id = f"{self.started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, message: str | None = None) -> Iterator[None]:
        if message:
            console.step(message)
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t

    def rounded(self) -> dict[str, float]:
        out = {k: round(v, 3) for k, v in self.seconds.items()}
        out["total"] = round(time.perf_counter() - self.t0, 3)
        return out


def outcome_from_manifest(prep: PreparedRun, manifest: Manifest, folder: str, seconds: dict[str, float],
             delivery: DeliverySummary | None, warnings: list[Problem]) -> RunOutcome:
    cards = manifest.cards
    company = next((c for c in cards if c["tier"] == "company"), None)
    statuses = status_counts(pd.DataFrame(cards, columns=["tier", "status"]))
    return RunOutcome(
        True, warnings=warnings, quarter_label=prep.variant.label, folder=folder,
        company_score=None if company is None else company["score"],
        company_status="" if company is None else company["status"], cards=card_counts(cards),
        rendered=manifest.rendered, reused=manifest.reused, kr_rows=manifest.kr_rows, statuses=statuses,
        seconds=seconds, run_id=manifest.run_id, delivery=delivery, scope=prep.scope.kind.value,
        likely_miss=_likely_miss(cards))


def _likely_miss(cards: list[dict]) -> int | None:
    counts = [c.get("likely_miss") for c in cards if c.get("likely_miss") is not None]
    return sum(counts) if counts else None


def card_counts(cards: list[dict]) -> dict[str, int]:
    out = {"company": 0, "team": 0, "person": 0}
    for c in cards:
        out[c["tier"]] += 1
    return out



def record_unchanged(prep: PreparedRun) -> RunOutcome:
    """Keep the published version as it is and add the run to the quarter's history."""
    manifest = prep.published_manifest
    assert manifest is not None and prep.published is not None
    clock = RunClock()
    try:
        pub.recover(prep.root, prep.variant.slug)  # what a killed run left behind
        pub.append_history(prep.root, prep.variant.slug, {
            "run_id": clock.run_id, "variant": prep.variant.slug, "scope": prep.scope.kind.value,
            "started_at": clock.started.isoformat(timespec="seconds"), "unchanged_since": manifest.run_id,
            "rendered": 0, "reused": len(manifest.cards)})
    except OSError as exc:
        return RunOutcome(False, problems=[Problem(str(prep.root), f"the run history cannot be written "
                                                                   f"({exc.strerror}); the published scorecards "
                                                                   "are unchanged")])
    outcome = outcome_from_manifest(prep, manifest, str(prep.root / prep.variant.slug), clock.rounded(), None, [])
    outcome.unchanged, outcome.rendered, outcome.reused, outcome.run_id = True, 0, len(manifest.cards), clock.run_id
    return outcome
