"""The OKR plan expanded to one row per (tier, owner, KR) for a quarter.

Plan rows may name an owner (``T03``), every owner of a tier (``*``), every member of a team
(``team:T03``) or everyone with a role (``role:sales``). A row naming the owner wins over a pattern.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.calendar import Quarter
from transforms.metrics import Org

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
    people = org.people[org.active(quarter.start, quarter.end) & org.people["team_id"].notna()]
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
    for col in ("baseline", "due_quarter", "parent_objective_id", "rollup_from"):
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
