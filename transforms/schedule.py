"""When the scheduled run fires: right after each fiscal quarter closes, in the workspace's timezone."""

from __future__ import annotations


def quarter_start_months(fiscal_start_month: int) -> list[int]:
    """Calendar months in which a fiscal quarter starts, e.g. April start -> [1, 4, 7, 10]."""
    return sorted((fiscal_start_month - 1 + 3 * k) % 12 + 1 for k in range(4))


def quarter_close_cron(fiscal_start_month: int, hour: int = 6) -> str:
    """Cron line firing on the first day of every fiscal quarter, when the previous one has closed."""
    months = ",".join(str(m) for m in quarter_start_months(fiscal_start_month))
    return f"0 {hour} 1 {months} *"
