"""The OKR plan expanded to one row per (tier, owner, KR) for a quarter.

Plan rows may name an owner (``T03``), every owner of a tier (``*``), every member of a team
(``team:T03``) or everyone with a role (``role:sales``). A row naming the owner wins over a pattern.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.calendar import Quarter
from transforms.metrics import Org
from transforms.problems import Problem, show

PLAN_DEFAULTS = {
    "direction": "increase",
    "weight": 1.0,
    "quarterly_value": "period",
    "rollup": "score",
    "partial_credit": False,
}


def owners_for(pattern: str, tier: str, org: Org, quarter: Quarter) -> list[str]:
    """Resolve an owner pattern to concrete owner ids for the quarter."""
    if tier == "company":
        return [org.company_id] if pattern in ("*", org.company_id) else []
    if tier == "team":
        return list(org.team_ids) if pattern == "*" else [pattern]
    # people outside every team (executives, say) have no '*' cards; where nobody has a team, everybody counts
    in_team = org.people["team_id"].notna()
    people = org.people[org.active(quarter.start, quarter.end) & (in_team if in_team.any() else True)]
    if pattern == "*":
        return people["person_id"].astype(str).tolist()
    if pattern.startswith("team:"):
        return people.loc[people["team_id"] == pattern[5:], "person_id"].astype(str).tolist()
    if pattern.startswith("role:"):
        if "role" not in people.columns:
            return []
        return people.loc[people["role"] == pattern[5:], "person_id"].astype(str).tolist()
    return [pattern]


def expand_plan(plan: pd.DataFrame, org: Org, quarter: Quarter) -> pd.DataFrame:
    """One row per (tier, owner_id, kr_id) with the quarter's target."""
    plan = plan.copy()
    for col, default in PLAN_DEFAULTS.items():
        if col not in plan.columns:
            plan[col] = default
        else:
            plan[col] = plan[col].where(plan[col].notna(), default)
    # no default objective weight: blank means the owner's objectives count equally
    for col in ("baseline", "due_quarter", "parent_objective_id", "rollup_from", "objective_weight"):
        if col not in plan.columns:
            plan[col] = np.nan
    plan["_specific"] = ~plan["owner_id"].astype(str).str.contains(r"^\*$|^team:|^role:", regex=True)
    rows = []
    for rec in plan.to_dict("records"):
        for owner in owners_for(str(rec["owner_id"]), rec["tier"], org, quarter):
            rows.append({**rec, "owner_id": owner})
    if not rows:
        return plan.iloc[0:0].drop(columns="_specific")
    out = pd.DataFrame(rows)
    out = out.sort_values("_specific", kind="stable").drop_duplicates(["tier", "owner_id", "kr_id"], keep="last")
    out["target"] = quarter_target(out["baseline"], out["target"], out["due_quarter"], quarter.q)
    order = {"company": 0, "team": 1, "person": 2}
    out["_order"] = out["tier"].map(order)
    out = out.sort_values(["_order", "owner_id"], kind="stable").drop(columns=["_order", "_specific"])
    return out.reset_index(drop=True)


def quarter_target(baseline: pd.Series, target: pd.Series, due: pd.Series, q: int) -> pd.Series:
    """For 'by Qn' KRs, quarters before the due one aim at a linear share of the way there."""
    due = pd.to_numeric(due, errors="coerce")
    base = pd.to_numeric(baseline, errors="coerce")
    share = (q / due).clip(upper=1.0)
    stepped = base + (target - base) * share
    use = due.notna() & base.notna() & (q < due)
    return target.where(~use, stepped).astype("float64")


def objective_weight_problems(plan: pd.DataFrame, file: str, sheet: str | None,
                              labels: dict[str, str]) -> list[Problem]:
    """An objective has one weight per owner, so every KR row of it must repeat the same one.

    Rows are grouped by tier, owner (as written) and objective. Within an owner, either every objective
    carries a weight or none does: a score weighted for some objectives only would follow no one rule.
    """
    if "objective_weight" not in plan.columns or plan["objective_weight"].isna().all():
        return []
    column = labels.get("objective_weight", "objective_weight")
    keyed = plan[plan[["tier", "owner_id", "objective_id"]].notna().all(axis=1)]
    out: list[Problem] = []
    weighted: dict[tuple[str, str], list[str]] = {}
    unweighted: list[tuple[str, str, str, int]] = []  # tier, owner, objective, its first row
    for (tier, owner, oid), rows in keyed.groupby(["tier", "owner_id", "objective_id"], sort=False):
        given = rows["objective_weight"].dropna()
        if given.empty:
            unweighted.append((str(tier), str(owner), str(oid), int(rows.index[0])))
            continue
        weighted.setdefault((str(tier), str(owner)), []).append(str(oid))
        ref_row, ref = int(given.index[0]), float(given.iloc[0])
        for r, v in rows["objective_weight"].items():
            if pd.isna(v) or float(v) != ref:
                out.append(Problem(file, _conflict_text(v, ref, ref_row, str(oid), str(owner)), sheet=sheet,
                                   row=int(r), column=column, value=None if pd.isna(v) else v,
                                   code="objective_weight"))
    for tier, owner, oid, r in unweighted:
        if (tier, owner) in weighted:
            others = ", ".join(weighted[(tier, owner)])
            out.append(Problem(file, f"the cell is empty: expected an objective weight for objective {oid!r}, as "
                                     f"owner {owner!r} weights its other objectives ({others}); weight every "
                                     "objective of an owner or none", sheet=sheet, row=r, column=column,
                               code="objective_weight"))
    return sorted(out, key=lambda p: p.row or 0)


def _conflict_text(value: object, ref: float, ref_row: int, oid: str, owner: str) -> str:
    what = "the cell is empty: expected" if pd.isna(value) else "expected"
    return (f"{what} {show(ref)}, the objective weight given on row {ref_row} for objective {oid!r} of owner "
            f"{owner!r} (every KR row of one objective and owner carries the same weight)")
