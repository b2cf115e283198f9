"""Pure pandas transforms of okr-report: staging, metrics, scoring and roll-ups (no I/O)."""
