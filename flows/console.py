"""Terminal output of the CLI: progress for long steps, summaries and problem reports."""

from __future__ import annotations

import sys

from rich.console import Console

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)
_state = {"last": -1}


def progress(done: int, total: int) -> None:
    """A single updating line on a terminal; a few milestone lines otherwise."""
    if total <= 0:
        return
    pct = int(done * 100 / total)
    if sys.stderr.isatty():
        end = "\n" if done == total else "\r"
        err.file.write(f"  rendering PDFs {done}/{total} ({pct}%){end}")
        err.file.flush()
    elif pct // 25 != _state["last"] // 25 or done == total:
        err.print(f"  rendering PDFs {done}/{total} ({pct}%)")
    _state["last"] = pct


def step(text: str) -> None:
    err.print(f"[dim]·[/dim] {text}")
