"""Safe, stable file names for owner ids that come from exports."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_stem(owner_id: str) -> str:
    """A file stem made of [A-Za-z0-9._-] that cannot traverse paths or hit reserved names.

    Ids that had to be changed get a short hash suffix so two different ids never share a file.
    """
    text = unicodedata.normalize("NFKC", str(owner_id))
    clean = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("._-")[:60]
    if clean != text or not clean or clean.lower() in _RESERVED:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        clean = f"{clean or 'id'}-{digest}"
    return clean


def scorecard_path(tier: str, owner_id: str) -> str:
    """Path of a scorecard (without extension) relative to the quarter folder."""
    if tier == "company":
        return "company"
    folder = "teams" if tier == "team" else "people"
    return f"{folder}/{safe_stem(owner_id)}"
