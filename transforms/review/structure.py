"""Plan-level problems: what the numbers and the shape of the plan say, whatever the words."""

from __future__ import annotations

import re
from collections import Counter

from transforms.review.draft import Draft, DraftKR, DraftObjective
from transforms.review.findings import Finding, Severity
from transforms.review.messages import DIRECTIONS
from transforms.review.rules import Context

GROWTH = ("increase", None)
"""Directions graded from a baseline upwards (a plan without a direction column grades upwards)."""
_SHARE = re.compile(r"\d\s*%|\d\s*倍|\d\s*times", re.IGNORECASE)


def is_growth(ctx: Context, kr: DraftKR) -> bool:
    """A KR whose target is a change from where it starts: its metric is a growth one, or its words say it
    rises by a share or a multiple ("revenue up 20%", "2.5倍")."""
    if kr.direction not in GROWTH:
        return False
    if ctx.metrics is not None and kr.metric in ctx.metrics:
        return ctx.metrics[kr.metric].definition.kind == "growth"
    t = ctx.terms(kr.title)
    return bool(_SHARE.search(kr.title)) and t.analyzer.find(t.analyzer.words(kr.title), t.growth) is not None


def _kr_numbers(ctx: Context, o: DraftObjective, kr: DraftKR, has_baseline: bool) -> list[Finding]:
    """Baseline, target and direction of one KR."""
    where = (o.objective_id, kr.kr_id, kr.row)
    b, t = kr.baseline, kr.target
    if has_baseline and b is None and t is not None and is_growth(ctx, kr):
        return [ctx.finding(where, "structure.no_baseline", Severity.WARNING)]
    if b is None or t is None:
        return []
    if b == t and kr.direction in (*GROWTH, "decrease"):  # holding a level (at_least, at_most) may equal it
        return [ctx.finding(where, "structure.same", Severity.ERROR, target=f"{t:g}")]
    wrong = (kr.direction in GROWTH and t < b) or (kr.direction == "decrease" and t > b)
    if wrong:
        shown = DIRECTIONS["zh-CN" if ctx.locale == "zh-CN" else "en"].get(kr.direction or "increase")
        return [ctx.finding(where, "structure.wrong_side", Severity.ERROR, direction=shown, target=f"{t:g}",
                            baseline=f"{b:g}")]
    return []


def _weights(ctx: Context, o: DraftObjective) -> list[Finding]:
    """KR weights given to some KRs only, or written as shares or percentages that do not add up.

    Weights like 1, 2, 1 are relative (normalised when graded) and need not sum to anything."""
    where = (o.objective_id, None, o.row)
    given = [kr.weight for kr in o.krs if kr.weight is not None]
    if not given:
        return []
    if len(given) < len(o.krs):
        return [ctx.finding(where, "structure.weights_missing", Severity.WARNING, n=len(o.krs) - len(given))]
    total = sum(given)
    whole = 1.0 if all(w < 1 for w in given) else 100.0 if 50 <= total <= 150 and max(given) > 5 else None
    if whole is None or abs(total - whole) <= whole * 0.005:
        return []
    return [ctx.finding(where, "structure.weights", Severity.WARNING, total=f"{total:g}", whole=f"{whole:g}")]


def _objective(ctx: Context, o: DraftObjective, ids: set[str], most: int, quarters: int) -> list[Finding]:
    where = (o.objective_id, None, o.row)
    out: list[Finding] = []
    if not o.krs:
        out.append(ctx.finding(where, "structure.no_krs", Severity.ERROR))
    if len(o.krs) > most:
        out.append(ctx.finding(where, "structure.too_many", Severity.WARNING, n=len(o.krs), most=most))
    if o.parent_objective_id and o.parent_objective_id not in ids:
        out.append(ctx.finding(where, "structure.parent", Severity.WARNING, parent=o.parent_objective_id))
    out += _weights(ctx, o)
    for kr_id, n in Counter(kr.kr_id for kr in o.krs if kr.kr_id).items():
        if n > 1:
            out.append(ctx.finding((o.objective_id, kr_id, None), "structure.duplicate", Severity.ERROR, n=n))
    for kr in o.krs:
        if kr.due_quarter is not None and not 1 <= kr.due_quarter <= quarters:
            out.append(ctx.finding((o.objective_id, kr.kr_id, kr.row), "structure.due", Severity.ERROR,
                                   due=f"{kr.due_quarter:g}", quarters=quarters))
    return out


def structure(ctx: Context, plan: Draft, most: int, quarters: int = 4) -> list[Finding]:
    """Every plan-level check; a plan without a baseline column gets one finding, not one per KR."""
    has_baseline = "baseline" in plan.columns
    ids = {o.objective_id for o in plan.objectives}
    out: list[Finding] = []
    growth = [kr for o in plan.objectives for kr in o.krs if is_growth(ctx, kr)]
    if not has_baseline and growth:
        out.append(ctx.finding((None, None, None), "structure.no_baseline_column", Severity.WARNING))
    for o in plan.objectives:
        out += _objective(ctx, o, ids, most, quarters)
        out += [f for kr in o.krs for f in _kr_numbers(ctx, o, kr, has_baseline)]
    return out
