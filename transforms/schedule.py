"""When the scheduled run fires: right after each fiscal quarter closes, in the workspace's timezone."""

from __future__ import annotations


def quarter_start_months(fiscal_start_month: int) -> list[int]:
    """Calendar months in which a fiscal quarter starts, e.g. April start -> [1, 4, 7, 10]."""
    return sorted((fiscal_start_month - 1 + 3 * k) % 12 + 1 for k in range(4))


def quarter_close_cron(fiscal_start_month: int, hour: int = 6) -> str:
    """Cron line firing on the first day of every fiscal quarter, when the previous one has closed."""
    months = ",".join(str(m) for m in quarter_start_months(fiscal_start_month))
    return f"0 {hour} 1 {months} *"


_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))
_NAMES = {
    "month": {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
    "weekday": {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())},
}
_EXAMPLE = "expected a cron line 'minute hour day month weekday' like '0 6 1 1,4,7,10 *'"


def cron_problem(line: str) -> str | None:
    """What is wrong with a cron line (None when it is fine), checked before a schedule is ever served.

    Plain five-field syntax is checked in full; the scheduler's extensions (L, W, #, ?) are left to it.
    """
    text = line.strip()
    if text.lower() in _MACROS:
        return None
    fields = text.split()
    if len(fields) != 5:
        return f"{_EXAMPLE}: five fields, this has {len(fields)}"
    for (field, lo, hi), spec in zip(_FIELDS, fields, strict=True):
        bad = _cron_field(spec, field, lo, hi)
        if bad:
            return f"{_EXAMPLE}: {bad}"
    return None


def _cron_field(spec: str, field: str, lo: int, hi: int) -> str | None:
    if field in ("day", "weekday") and any(c in spec.upper() for c in "LW#?"):
        return None
    names = _NAMES.get(field, {})
    for item in spec.split(","):
        base, _, step = item.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return f"the {field} step {step!r} is not a whole number above 0"
        if base == "*":
            continue
        for part in base.split("-", 1):
            value = names.get(part.lower(), int(part) if part.isdigit() else None)
            if value is None:
                return f"the {field} {part!r} is not a number" + (
                    f" or a name like {next(iter(names))}" if names else "")
            if not lo <= value <= hi:
                return f"the {field} {part!r} is not in {lo}-{hi}"
    return None
