"""What the review reports: a finding per lesson broken, with a message and a rewrite in the plan's language."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class Code(StrEnum):
    """The lesson a finding comes from (the seed document's lessons, plus plan structure)."""

    TASK = "task"
    NO_NUMBER = "no_number"
    VAGUE = "vague"
    DILUTION = "dilution"
    ATTEMPTS = "attempts"
    EFFORT = "effort"
    MISMATCH = "mismatch"
    OTHER_TEAM = "other_team"
    STRUCTURE = "structure"


class Severity(StrEnum):
    """``error``: the KR cannot be graded as written; ``warning``: it can, but the lesson says rewrite it."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One lesson broken by one KR (``kr_id``), one objective (``kr_id`` None) or the plan (both None)."""

    objective_id: str | None
    kr_id: str | None
    code: Code
    severity: Severity
    message: str
    suggestion: str | None
    rule: str
    """The rule within the code (``structure.no_baseline``, ``task.verb``...), for tests and for accepting one."""
    row: int | None = None
    """The plan file's row the finding is about, where it has one."""

    def as_json(self) -> dict:
        """The finding as ``okr-report review --format json`` prints it."""
        out = asdict(self)
        return {k: (str(out[k]) if k in ("code", "severity") else out[k])
                for k in ("objective_id", "kr_id", "code", "severity", "message", "suggestion")}


@dataclass(frozen=True)
class Reviewed:
    """Findings of a plan, with what was reviewed: the counts a summary line needs and the checks left out."""

    findings: tuple[Finding, ...]
    objectives: int
    krs: int
    locale: str
    skipped: tuple[str, ...]
    """Checks not run because the plan lacks the column they need (e.g. 'baseline')."""
    titles: dict[tuple[str | None, str | None], str]
    """(objective_id, None) -> the objective's title and (objective_id, kr_id) -> the KR's, as reviewed."""

    @property
    def errors(self) -> int:
        return sum(f.severity is Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity is Severity.WARNING for f in self.findings)
