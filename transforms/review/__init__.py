"""KR-quality review: the seed document's lessons applied to an OKR plan, in Chinese and English.

``review(request)`` takes a plan (``draft``), the lexicons and the workspace's review settings, and returns a
``Reviewed``: findings with a code per lesson (``Code``), a severity, a message and a rewrite in the
requested language. Word lists live in ``lexicons/*.yaml`` beside these rules; the caller reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from transforms import config as cfg
from transforms.review.draft import Draft, draft
from transforms.review.findings import Code, Finding, Reviewed, Severity
from transforms.review.lexicon import LanguageLexicon, Lexicon
from transforms.review.rules import Context, effort, kr_findings, mismatch
from transforms.review.structure import structure

__all__ = ["Code", "Draft", "Finding", "LanguageLexicon", "Lexicon", "ReviewRequest", "Reviewed", "Severity",
           "draft", "review", "review_plan"]


@dataclass(frozen=True)
class ReviewRequest:
    """A plan to review and what the rules need to judge it."""

    plan: Draft
    lexicon: Lexicon
    locale: str
    settings: cfg.ReviewSettings | None = None
    person_teams: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, cfg.MetricDef] | None = None
    table_columns: Mapping[str, frozenset[str]] = field(default_factory=dict)


def review(req: ReviewRequest) -> Reviewed:
    """Every finding of the plan: objective rules, then each KR's, then the plan's structure."""
    s = req.settings or cfg.ReviewSettings()
    ctx = Context(req.lexicon.extended(s.lexicon), req.locale, s.function, s.team_functions, req.person_teams,
                  req.metrics, req.table_columns)
    out: list[Finding] = []
    for o in req.plan.objectives:
        out += effort(ctx, o) + mismatch(ctx, o)
        for kr in o.krs:
            out += kr_findings(ctx, o, kr)
    out += structure(ctx, req.plan, s.max_krs_per_objective)
    order = {(None, None): (-1, -1)}
    for i, o in enumerate(req.plan.objectives):
        order.setdefault((o.objective_id, None), (i, -1))
        for j, kr in enumerate(o.krs):
            order.setdefault((o.objective_id, kr.kr_id), (i, j))
    out.sort(key=lambda f: order.get((f.objective_id, f.kr_id), (len(order), 0)))
    seen: set[tuple] = set()
    unique = []
    for f in out:
        key = (f.objective_id, f.kr_id, f.rule)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    skipped = tuple(c for c in ("baseline", "target", "direction", "weight") if c not in req.plan.columns)
    krs = len({(o.objective_id, kr.kr_id or kr.title) for o in req.plan.objectives for kr in o.krs})
    titles = {(o.objective_id, None): o.title for o in req.plan.objectives}
    titles.update({(o.objective_id, kr.kr_id): kr.title for o in req.plan.objectives for kr in o.krs})
    return Reviewed(tuple(unique), len({o.objective_id for o in req.plan.objectives}), krs, req.locale, skipped,
                    titles)


def review_plan(plan: pd.DataFrame, lexicon: Lexicon, locale: str, ws: cfg.Workspace | None = None,
                person_teams: Mapping[str, str] | None = None) -> Reviewed:
    """Review a plan frame (plan table columns), with a workspace's settings, metrics and tables when there is
    one; ``person_teams`` (person id -> team id) gives people their team's function."""
    from transforms.contracts import table_contracts

    columns = {name: frozenset(c.columns) for name, c in table_contracts(ws).items()} if ws else {}
    return review(ReviewRequest(
        draft(plan, locale), lexicon, locale, ws.review if ws else cfg.ReviewSettings(), person_teams or {},
        ws.metrics if ws else None, columns))
