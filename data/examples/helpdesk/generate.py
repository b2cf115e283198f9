"""Writes exports/incidents.csv.gz: an IT incident event log as a helpdesk exports it.

Every update of a ticket is a row (New, In Progress, Resolved, Closed), '?' stands for a missing value, dates
are day first, the rows are not sorted, and there is no people directory: the assignee and the assignment
group are on each row. Deterministic (seeded), so the example and its tests stay stable.

    python data/examples/helpdesk/generate.py
"""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

GROUPS = ["Service Desk", "Network", "Database"]
AGENTS = ["Agent 01", "Agent 02", "Agent 03", "Agent 04", "Agent 05", "Agent 06"]
PRIORITIES = ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low"]
HEADER = ["number", "incident_state", "priority", "opened_at", "sys_updated_at", "resolved_at", "reopen_count",
          "made_sla", "assignment_group", "assigned_to"]


def _day_first(t: datetime | None) -> str:
    return "?" if t is None else f"{t.day}/{t.month}/{t.year} {t:%H:%M}"


def _ticket(rng: np.random.Generator, i: int) -> list[list[str]]:
    """The event rows of one ticket, from its opening to its last update."""
    opened = datetime(2023, 12, 1) + timedelta(hours=int(rng.integers(0, 24 * 120)))
    group = GROUPS[int(rng.integers(0, 3))]
    agent = "?" if rng.random() < 0.08 else AGENTS[int(rng.integers(0, 6))]
    priority = PRIORITIES[int(rng.integers(0, 4))]
    resolve_h = float(rng.gamma(2.0, 20.0))
    states = ["New", "In Progress"] + (["Resolved"] if rng.random() < 0.8 else [])
    if states[-1] == "Resolved" and rng.random() < 0.5:
        states.append("Closed")
    rows, t = [], opened
    for k, state in enumerate(states):
        t = opened if k == 0 else t + timedelta(minutes=int(rng.integers(5, 600)))
        done = state in ("Resolved", "Closed")
        resolved = opened + timedelta(hours=resolve_h) if done else None
        if resolved is not None:
            t = max(t, resolved)
        reopen = "?" if rng.random() < 0.1 else str(int(rng.integers(0, 3)) if done else 0)
        sla = "?" if not done else ("true" if resolve_h < 40 else "false")
        rows.append([f"INC{i:05d}", state, priority, _day_first(opened), _day_first(t), _day_first(resolved),
                     reopen, sla, group, agent])
    return rows


def event_log(seed: int = 7, tickets: int = 180) -> str:
    """The whole export as CSV text, rows in no particular order."""
    rng = np.random.default_rng(seed)
    rows = [row for i in range(tickets) for row in _ticket(rng, i)]
    order = rng.permutation(len(rows))
    return ",".join(HEADER) + "\n" + "".join(",".join(rows[i]) + "\n" for i in order)


if __name__ == "__main__":
    out = Path(__file__).resolve().parent / "exports" / "incidents.csv.gz"
    out.write_bytes(gzip.compress(event_log().encode("utf-8"), mtime=0))
    print(f"wrote {out}")
