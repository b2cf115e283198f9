"""Roll-up: KR scores -> objective scores -> owner scores, and the team/company views built on them.

Objective = weighted mean of its graded KRs (KRs with no data leave the weights); owner = mean of
its objectives. Alignment links an objective to its parent's objective one tier up; value roll-up
sums children's actuals for amount KRs and warns when children's targets do not add up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.scoring import status

KEY = ["tier", "owner_id"]
PARENT_TIER = {"person": "team", "team": "company"}


def _weighted(df: pd.DataFrame, value: str, weight: str, by: list[str]) -> pd.Series:
    has = df[value].notna()
    w = df[weight].where(has, 0.0).astype("float64")
    num = (df[value].fillna(0.0) * w).groupby([df[c] for c in by], sort=False).sum()
    den = w.groupby([df[c] for c in by], sort=False).sum()
    return num / den.where(den > 0)


def objective_scores(krs: pd.DataFrame, red_below: float, green_from: float) -> pd.DataFrame:
    """One row per (tier, owner_id, objective_id) with score, progress and status."""
    by = KEY + ["objective_id"]
    score = _weighted(krs, "score", "weight", by)
    progress = _weighted(krs, "progress", "weight", by)
    weight = krs.groupby(by, sort=False)["weight"].sum()
    first = krs.groupby(by, sort=False).first()
    out = pd.DataFrame({"score": score, "progress": progress, "weight": weight})
    for col in ("objective_title_en", "objective_title_zh", "parent_objective_id"):
        out[col] = first[col] if col in first.columns else np.nan
    out["status"] = status(out["progress"], red_below, green_from)
    return out.reset_index()


def owner_scores(objectives: pd.DataFrame, red_below: float, green_from: float) -> pd.DataFrame:
    """One row per (tier, owner_id): mean of its objectives."""
    g = objectives.groupby(KEY, sort=False)
    out = pd.DataFrame({"score": g["score"].mean(), "progress": g["progress"].mean()})
    out["status"] = status(out["progress"], red_below, green_from)
    return out.reset_index()


def parent_owner(tier: str, owner_id: str, person_team: dict[str, str], company_id: str) -> str | None:
    if tier == "person":
        return person_team.get(owner_id)
    if tier == "team":
        return company_id
    return None


def alignment(
    objectives: pd.DataFrame, person_team: dict[str, str], company_id: str
) -> pd.DataFrame:
    """Child objective -> parent objective links (one tier up, the owner's parent)."""
    o = objectives[objectives["parent_objective_id"].notna() & (objectives["tier"] != "company")].copy()
    o["parent_tier"] = o["tier"].map(PARENT_TIER)
    o["parent_owner_id"] = [
        parent_owner(t, str(x), person_team, company_id) for t, x in zip(o["tier"], o["owner_id"])
    ]
    return o.rename(columns={"objective_id": "child_objective_id"})[
        ["parent_tier", "parent_owner_id", "parent_objective_id", "tier", "owner_id", "child_objective_id", "score",
         "status"]
    ]


def value_rollup(
    krs: pd.DataFrame, person_team: dict[str, str], company_id: str, tolerance: float = 0.01
) -> tuple[pd.DataFrame, list[dict]]:
    """Parent KRs with ``rollup: value`` take the sum of their children's actuals.

    Children are the owner's members (team) or teams (company) holding the KR named in ``rollup_from``.
    Returns the updated frame and warnings where children's targets do not add up to the parent's.
    """
    out = krs.copy()
    warnings: list[dict] = []
    parents = out[(out["rollup"] == "value") & out["rollup_from"].notna()]
    if parents.empty:
        return out, warnings
    parent_of = pd.Series(
        [parent_owner(t, str(x), person_team, company_id) for t, x in zip(out["tier"], out["owner_id"])],
        index=out.index,
    )
    order = {"team": 0, "company": 1}
    for i in sorted(parents.index, key=lambda j: order.get(out.at[j, "tier"], 2)):
        p = out.loc[i]
        child_tier = {"company": "team", "team": "person"}[p["tier"]]
        mask = (out["tier"] == child_tier) & (out["kr_id"] == p["rollup_from"])
        if p["tier"] == "team":
            mask &= parent_of == p["owner_id"]
        c = out[mask]
        if c.empty:
            continue
        out.at[i, "actual"] = c["actual"].sum(min_count=1)
        out.at[i, "rows"] = int(c["rows"].sum())
        out.at[i, "lineage_filter"] = f"sum of {len(c)} {child_tier} values of {p['rollup_from']}"
        child_target = float(c["target"].sum())
        if p["target"] and abs(child_target - p["target"]) > tolerance * abs(p["target"]):
            warnings.append(
                {
                    "tier": p["tier"],
                    "owner_id": p["owner_id"],
                    "kr_id": p["kr_id"],
                    "parent_target": float(p["target"]),
                    "children_target": child_target,
                }
            )
    return out, warnings


def distribution(owner: pd.DataFrame, members: pd.Series) -> dict[str, int]:
    """Count of statuses among the given owner ids."""
    s = owner.set_index("owner_id")["status"].reindex(members.astype(str)).fillna("no_data")
    return {k: int((s == k).sum()) for k in ("red", "yellow", "green", "no_data")}
