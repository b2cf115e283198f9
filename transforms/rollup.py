"""Roll-up: KR scores -> objective scores -> owner scores, and the team/company views built on them.

Objective = weighted mean of its graded KRs by their plan weights (KRs with no data leave the
weights). Owner = weighted mean of its graded objectives by their objective weights when every one of
its objectives carries one, otherwise the plain mean of its graded objectives (objectives with no data
leave the weights, like KRs). Each owner row records which of the two it was, and each KR and objective
row the share of the weights it entered its mean with, so a scorecard can show exactly what was used.
Alignment links an objective to its parent's objective one tier up; value roll-up sums children's
actuals for amount KRs and warns when children's targets do not add up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.scoring import status

KEY = ["tier", "owner_id"]
OBJECTIVE_KEY = KEY + ["objective_id"]
PARENT_TIER = {"person": "team", "team": "company"}


def _weighted(df: pd.DataFrame, value: str, weight: str, by: list[str]) -> pd.Series:
    has = df[value].notna()
    w = df[weight].where(has, 0.0).astype("float64")
    num = (df[value].fillna(0.0) * w).groupby([df[c] for c in by], sort=False).sum()
    den = w.groupby([df[c] for c in by], sort=False).sum()
    return num / den.where(den > 0)


def weight_shares(df: pd.DataFrame, value: str, weight: str, by: list[str]) -> pd.Series:
    """Each row's share of its group's weights among the rows with a value, as ``_weighted`` uses them.

    Rows without a value get NaN (they leave the weights); so do all rows of a group whose weights with
    a value add up to 0 (that group has no mean).
    """
    has = df[value].notna()
    w = df[weight].where(has, 0.0).astype("float64")
    den = w.groupby([df[c] for c in by], sort=False).transform("sum")
    return (w / den.where(den > 0)).where(has)


def kr_weight_shares(krs: pd.DataFrame) -> pd.Series:
    """Each graded KR's share of its objective's score (NaN for KRs with no data)."""
    return weight_shares(krs, "score", "weight", OBJECTIVE_KEY)


def _objective_weights(krs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per objective: the objective weight its KR rows agree on (else NaN), and whether they disagree.

    Validation refuses disagreeing rows of one owner as written; rows of different owner patterns
    (``*`` and a named owner) can still meet in one expanded objective, and then no weight is used.
    """
    g = krs.groupby(OBJECTIVE_KEY, sort=False)
    if "objective_weight" not in krs.columns:
        index = g.size().index
        return pd.Series(np.nan, index=index), pd.Series(False, index=index)
    ow = g["objective_weight"]
    low, given, rows = ow.min(), ow.count(), ow.size()
    agreed = (given == rows) & (low == ow.max())
    return low.where(agreed), (given > 0) & ~agreed


def objective_scores(krs: pd.DataFrame, red_below: float, green_from: float) -> pd.DataFrame:
    """One row per (tier, owner_id, objective_id) with score, progress, status and its objective weight.

    ``weight_share`` is the share the objective enters its owner's score with (see ``owner_weights``).
    """
    by = OBJECTIVE_KEY
    score = _weighted(krs, "score", "weight", by)
    progress = _weighted(krs, "progress", "weight", by)
    first = krs.groupby(by, sort=False).first()
    objective_weight, conflict = _objective_weights(krs)
    out = pd.DataFrame({"score": score, "progress": progress, "objective_weight": objective_weight,
                        "objective_weight_conflict": conflict})
    for col in ("objective_title_en", "objective_title_zh", "parent_objective_id"):
        out[col] = first[col] if col in first.columns else np.nan
    out["status"] = status(out["progress"], red_below, green_from)
    out = out.reset_index()
    weights, _ = owner_weights(out)
    out["weight_share"] = weight_shares(out.assign(_w=weights), "score", "_w", KEY)
    return out


def owner_weights(objectives: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The weight each objective enters its owner's score with, and whether its owner is weighted.

    An owner is weighted when every one of its objectives has an objective weight; any other owner
    counts its objectives equally (weight 1 each), so its score is their plain mean.
    """
    if "objective_weight" in objectives.columns:
        given = objectives["objective_weight"].astype("float64")
    else:
        given = pd.Series(np.nan, index=objectives.index)
    weighted = given.notna().groupby([objectives[c] for c in KEY], sort=False).transform("all").astype(bool)
    return given.where(weighted, 1.0), weighted


def owner_scores(objectives: pd.DataFrame, red_below: float, green_from: float) -> pd.DataFrame:
    """One row per (tier, owner_id): the mean of its graded objectives, weighted as ``owner_weights`` says.

    ``weighted`` records whether the owner's objective weights were used (the card shows them only then).
    """
    weights, weighted = owner_weights(objectives)
    df = objectives.assign(_w=weights, _weighted=weighted)
    out = pd.DataFrame({
        "score": _weighted(df, "score", "_w", KEY),
        "progress": _weighted(df, "progress", "_w", KEY),
        "weighted": df.groupby(KEY, sort=False)["_weighted"].first().astype(bool),
    })
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


def leavers_in(people: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> dict[str, str]:
    """person_id -> the day they left, for people whose ``ended_at`` falls in ``[start, end)``."""
    gone = people["ended_at"].notna() & (people["ended_at"] >= start) & (people["ended_at"] < end)
    return {str(i): f"{d:%Y-%m-%d}" for i, d in zip(people.loc[gone, "person_id"], people.loc[gone, "ended_at"])}


def value_rollup(
    krs: pd.DataFrame, person_team: dict[str, str], company_id: str, tolerance: float = 0.01,
    leavers: frozenset[str] = frozenset(),
) -> tuple[pd.DataFrame, list[dict]]:
    """Parent KRs with ``rollup: value`` take the sum of their children's actuals.

    Children are the owner's members (team) or teams (company) holding the KR named in ``rollup_from``; people
    in ``leavers`` (who left during the quarter, under ``leavers: exclude``) are not among a team's children.
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
            mask &= (parent_of == p["owner_id"]) & ~out["owner_id"].astype(str).isin(leavers)
        c = out[mask]
        if c.empty:
            continue
        out.at[i, "actual"] = c["actual"].sum(min_count=1)
        out.at[i, "rows"] = int(c["rows"].sum())
        out.at[i, "lineage_filter"] = f"sum of {len(c)} {child_tier} values of {p['rollup_from']}"
        out.loc[i, "rollup_children"] = len(c)  # the card's lineage says how many values were summed
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
