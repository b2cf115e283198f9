"""The run manifest: what a published version was made from, written once per version as ``manifest.json``."""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path


@dataclass(frozen=True)
class InputRecord:
    """One export as it was read: its table, path, sha256, size and row count."""

    table: str
    path: str
    sha256: str
    bytes: int
    rows: int


@dataclass
class Manifest:
    """Everything a published version depends on and what the run that made it did."""

    run_id: str
    quarter: str
    variant: str
    period: dict[str, str]
    as_of: str | None
    locale: str
    code_digest: str
    render_digest: str
    fingerprint: str
    parameters: dict[str, object]
    scope: str
    started_at: str
    finished_at: str = ""
    inputs: list[InputRecord] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    rendered: int = 0
    reused: int = 0
    kr_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    scorecards: dict[str, str] = field(default_factory=dict)
    cards: list[dict] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    """sha256 of every file of the version folder but manifest.json, by relative path: the next run links a
    card from this version only when its files still hold these bytes, and ``verify`` checks a closed one."""
    closed: dict[str, str] | None = None
    """``{"at", "by", "version"}`` once the quarter was closed (frozen) with this version."""
    reopened: dict[str, str] | None = None
    """``{"at", "by", "reason", "closed_at", "closed_by"}`` when this version was made by reopening a closed one."""

    def to_json(self) -> dict:
        return asdict(self)

    def history_entry(self) -> dict:
        """The line this version adds to the quarter's run history."""
        return {"run_id": self.run_id, "variant": self.variant, "scope": self.scope, "started_at": self.started_at,
                "finished_at": self.finished_at, "rendered": self.rendered, "reused": self.reused,
                "parameters": self.parameters, **({"reopened": self.reopened} if self.reopened else {})}

    @classmethod
    def from_json(cls, data: dict) -> Manifest | None:
        """A manifest read back; None when it was written by a version of the product with another layout."""
        names = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
        if not isinstance(data, dict) or not required <= set(data):
            return None
        values = {k: v for k, v in data.items() if k in names}
        try:
            values["inputs"] = [InputRecord(**i) for i in values.get("inputs", [])]
        except TypeError:
            return None
        return cls(**values)



def read_manifest(folder: Path | None) -> Manifest | None:
    """The manifest of a published version, or None when there is none (or it cannot be read)."""
    if folder is None:
        return None
    try:
        return Manifest.from_json(json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
