"""Scorecard view models and the KR table: the presentation-ready shape of the quarter's results.

Everything a template shows is decided here (which rows, in which order, bar widths as clamped
integers); templates only lay it out and format numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from transforms import config as cfg
from transforms.naming import scorecard_path
from transforms.report import QuarterResults, build_teams
from transforms.rollup import distribution

ROWS_WORD = {"en": "rows", "zh-CN": "行"}
MONTH_FMT = {"en": "%b", "zh-CN": "%-m月"}


def _f(v: object) -> float | None:
    """JSON-friendly float: NaN and None become None."""
    if v is None or v is pd.NA:
        return None
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def _pct(v: object) -> int:
    x = _f(v)
    return 0 if x is None else int(round(min(1.0, max(0.0, x)) * 100))


def title(row: pd.Series | dict, prefix: str, locale: str) -> str:
    """Localised title with a fallback to the other language."""
    first, second = (f"{prefix}_zh", f"{prefix}_en") if locale == "zh-CN" else (f"{prefix}_en", f"{prefix}_zh")
    for key in (first, second):
        v = row.get(key)
        if v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v).strip():
            return str(v)
    return ""


def owner_names(res: QuarterResults, ws: cfg.Workspace, tables: dict, locale: str) -> dict[tuple[str, str], str]:
    """(tier, owner_id) -> display name."""
    names: dict[tuple[str, str], str] = {}
    company = ws.company.name_en if locale == "en" and ws.company.name_en else ws.company.name
    names[("company", ws.company.id)] = company
    teams = build_teams(tables)
    for _, t in teams.iterrows():
        names[("team", str(t["team_id"]))] = title(t, "team_name", locale) if locale == "zh-CN" else (
            _text(t.get("team_name_en")) or _text(t.get("team_name")) or str(t["team_id"]))
        if not names[("team", str(t["team_id"]))]:
            names[("team", str(t["team_id"]))] = str(t["team_id"])
    for pid, name in zip(res.org.people["person_id"], res.org.people["person_name"]):
        names[("person", str(pid))] = _text(name) or str(pid)
    return names


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def kr_table(res: QuarterResults, names: dict[tuple[str, str], str], locale: str) -> pd.DataFrame:
    """One row per tier, owner and KR: the machine-readable output with lineage."""
    k = res.krs
    person_team = res.org.person_team().astype("object").to_dict()
    team_id = [
        (person_team.get(o) if t == "person" else (o if t == "team" else None))
        for t, o in zip(k["tier"], k["owner_id"].astype(str))
    ]
    rows_word = ROWS_WORD.get(locale, "rows")
    out = pd.DataFrame(
        {
            "quarter": res.quarter.label,
            "tier": k["tier"],
            "owner_id": k["owner_id"].astype(str),
            "owner_name": [names.get((t, str(o)), str(o)) for t, o in zip(k["tier"], k["owner_id"])],
            "team_id": team_id,
            "objective_id": k["objective_id"],
            "objective_title": [title(r, "objective_title", locale) for r in k.to_dict("records")],
            "parent_objective_id": k["parent_objective_id"],
            "kr_id": k["kr_id"],
            "kr_title": [title(r, "kr_title", locale) for r in k.to_dict("records")],
            "source": k["source"],
            "metric": k["metric"],
            "metric_kind": k["metric_kind"],
            "unit": k["unit"],
            "direction": k["direction"],
            "quarterly_value": k["quarterly_value"],
            "weight": k["weight"],
            "baseline": k["baseline"],
            "target": k["target"],
            "actual": k["actual"],
            "attainment": k["attainment"],
            "score": k["score"],
            "expected_score": k["expected_score"],
            "status": k["status"],
            "rows": k["rows"],
            "lineage_tables": k["lineage_tables"],
            "lineage_filter": k["lineage_filter"],
        }
    )
    out["lineage"] = [
        f"{t} · {f} · {n} {rows_word}" for t, f, n in zip(k["lineage_tables"], k["lineage_filter"], k["rows"])
    ]
    labels = k["month_labels"].fillna("").astype(str).str.split("|")
    for i in (1, 2, 3):
        out[f"month_{i}"] = [lab[i - 1] if len(lab) >= i and lab[i - 1] else None for lab in labels]
        out[f"month_{i}_actual"] = k[f"month_{i}"]
    return out


def _trend(row: dict, locale: str) -> list[dict]:
    if row["source"] != "computed":
        return []
    labels = [lab for lab in str(row.get("month_labels") or "").split("|") if lab]
    values = [_f(row.get(f"month_{i}")) for i in range(1, len(labels) + 1)]
    scale = max([abs(v) for v in values if v is not None] + [abs(_f(row.get("target")) or 0.0)] + [1e-12])
    fmt = MONTH_FMT.get(locale, "%b")
    return [
        {"label": pd.Timestamp(lab + "-01").strftime(fmt), "value": v,
         "bar_pct": 0 if v is None else int(round(min(1.0, abs(v) / scale) * 100))}
        for lab, v in zip(labels, values)
    ]


def _kr_vm(row: dict, locale: str, rows_word: str) -> dict:
    return {
        "kr_id": str(row["kr_id"]),
        "title": title(row, "kr_title", locale),
        "source": row["source"],
        "metric": str(row["metric"]),
        "unit": str(row["unit"]),
        "direction": str(row["direction"]),
        "baseline": _f(row.get("baseline")),
        "target": _f(row.get("target")),
        "actual": _f(row.get("actual")),
        "attainment": _f(row.get("attainment")),
        "score": _f(row.get("score")),
        "score_bar_pct": _pct(row.get("score")),
        "status": str(row["status"]),
        "expected_score": _f(row.get("expected_score")),
        "trend": _trend(row, locale),
        "lineage": f"{row['lineage_tables']} · {row['lineage_filter']} · {int(row['rows'])} {rows_word}",
        "note": _text(row.get("note")) or None,
    }


def build_scorecards(
    res: QuarterResults,
    ws: cfg.Workspace,
    tables: dict,
    locale: str,
    generated_at: str,
    run_id: str,
    owners: Iterable[tuple[str, str]] | None = None,
    global_notes: list[str] | None = None,
) -> list[dict]:
    """One view model per (tier, owner); ``owners`` limits which are built (re-runs)."""
    names = owner_names(res, ws, tables, locale)
    rows_word = ROWS_WORD.get(locale, "rows")
    krs = res.krs
    wanted = set(owners) if owners is not None else None
    obj = res.objectives.set_index(["tier", "owner_id", "objective_id"])
    own = res.owners.set_index(["tier", "owner_id"])
    person_team = res.org.person_team().astype("object").to_dict()
    plan_order = {oid: i for i, oid in enumerate(krs["objective_id"].drop_duplicates())}
    titles = {
        str(r["objective_id"]): title(r, "objective_title", locale)
        for r in krs.drop_duplicates("objective_id").to_dict("records")
    }
    children = res.alignment.groupby(["parent_tier", "parent_owner_id", "parent_objective_id"])
    child_groups = children.groups
    members_of = _members(res, person_team)
    quarter = res.quarter
    period_text = f"{quarter.start:%Y-%m-%d} – {quarter.last_day:%Y-%m-%d}"
    out = []
    for (tier, owner_id), k in krs.groupby(["tier", "owner_id"], sort=False):
        owner_id = str(owner_id)
        if wanted is not None and (tier, owner_id) not in wanted:
            continue
        records = k.to_dict("records")
        objectives = []
        for oid, kk in k.groupby("objective_id", sort=False):
            o = obj.loc[(tier, owner_id, oid)]
            parent = o.get("parent_objective_id")
            aligned = []
            key = (tier, owner_id, oid)
            if key in child_groups:
                for _, c in res.alignment.loc[child_groups[key]].iterrows():
                    aligned.append({
                        "owner_name": names.get((c["tier"], str(c["owner_id"])), str(c["owner_id"])),
                        "title": titles.get(str(c["child_objective_id"]), ""),
                        "score": _f(c["score"]), "status": str(c["status"]),
                    })
            objectives.append({
                "objective_id": str(oid),
                "title": titles.get(str(oid), str(oid)),
                "score": _f(o["score"]),
                "status": str(o["status"]),
                "weight": float(o["weight"]),
                "aligned_to": titles.get(str(parent)) if _text(parent) else None,
                "aligned_children": aligned,
                "krs": [_kr_vm(r, locale, rows_word) for r in kk.to_dict("records")],
            })
        members, columns, dist = _member_table(res, tier, owner_id, members_of, names, titles, plan_order)
        me = own.loc[(tier, owner_id)]
        dq = []
        for m in k["metric"].unique():
            dq += res.metric_notes.get(m, [])
        dq += [_value_warning(w, locale) for w in res.value_warnings
               if w["tier"] == tier and str(w["owner_id"]) == owner_id]
        if tier == "company":
            dq += list(global_notes or [])
        kq = []
        for r in k.drop_duplicates("kr_id").to_dict("records"):
            for note in res.kr_notes.get(str(r["kr_id"]), []):
                kq.append(f"{title(r, 'kr_title', locale)}: {note}")
        path = scorecard_path(tier, owner_id)
        depth = path.count("/")
        out.append({
            "locale": locale,
            "currency": ws.currency,
            "company_name": names[("company", ws.company.id)],
            "tier": tier,
            "owner_id": owner_id,
            "owner_name": names.get((tier, owner_id), owner_id),
            "team_name": names.get(("team", str(person_team.get(owner_id)))) if tier == "person" else None,
            "quarter_label": quarter.label,
            "period_text": period_text,
            "as_of": (res.as_of or quarter.last_day).strftime("%Y-%m-%d"),
            "is_mid_quarter": res.elapsed is not None,
            "elapsed_pct": _pct(res.elapsed if res.elapsed is not None else 1.0),
            "generated_at": generated_at,
            "run_id": run_id,
            "score": _f(me["score"]),
            "status": str(me["status"]),
            "counts": {
                "krs": len(records),
                "computed": int((k["source"] == "computed").sum()),
                "manual": int((k["source"] == "manual").sum()),
                "no_data": int((k["status"] == "no_data").sum()),
            },
            "objectives": objectives,
            "members": members,
            "member_columns": columns,
            "distribution": dist,
            "data_quality_notes": sorted(set(dq), key=dq.index),
            "kr_quality_notes": kq,
            "links": {"index": "../" * depth + "index.html", "pdf": path.rsplit("/", 1)[-1] + ".pdf"},
            "path": path,
        })
    return out


def _members(res: QuarterResults, person_team: dict) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Who appears in the member table of a team (its people) and of the company (its teams)."""
    owners = res.owners
    people = owners[owners["tier"] == "person"]["owner_id"].astype(str)
    teams = owners[owners["tier"] == "team"]["owner_id"].astype(str)
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for pid in people:
        out.setdefault(("team", str(person_team.get(pid))), []).append(("person", pid))
    out[("company", res.org.company_id)] = [("team", t) for t in teams]
    return out


def _member_table(res, tier, owner_id, members_of, names, titles, plan_order):
    members = members_of.get((tier, owner_id), [])
    if tier == "person" or not members:
        return [], [], {"red": 0, "yellow": 0, "green": 0, "no_data": 0}
    child_tier = members[0][0]
    objs = res.objectives[res.objectives["tier"] == child_tier]
    ids = sorted(objs["objective_id"].unique(), key=lambda x: plan_order.get(x, 0))
    grid = objs.set_index(["owner_id", "objective_id"])
    own = res.owners[res.owners["tier"] == child_tier].set_index("owner_id")
    rows = []
    from_dir = "" if tier == "company" else "../"
    for _, mid in members:
        cells = []
        for oid in ids:
            if (mid, oid) in grid.index:
                c = grid.loc[(mid, oid)]
                cells.append({"score": _f(c["score"]), "status": str(c["status"])})
            else:
                cells.append({"score": None, "status": "no_data"})
        rows.append({
            "owner_id": mid,
            "name": names.get((child_tier, mid), mid),
            "href": from_dir + scorecard_path(child_tier, mid) + ".html",
            "score": _f(own.at[mid, "score"]) if mid in own.index else None,
            "status": str(own.at[mid, "status"]) if mid in own.index else "no_data",
            "cells": cells,
        })
    rows.sort(key=lambda r: (-(r["score"] if r["score"] is not None else -1), r["name"]))
    dist = distribution(res.owners[res.owners["tier"] == child_tier], pd.Series([m for _, m in members]))
    return rows, [titles.get(o, o) for o in ids], dist


def _value_warning(w: dict, locale: str) -> str:
    if locale == "zh-CN":
        return (f"{w['kr_id']}：下级目标合计 {w['children_target']:,.0f}，与本级目标 {w['parent_target']:,.0f} "
                "不一致")
    return (f"{w['kr_id']}: children's targets add up to {w['children_target']:,.0f}, not the "
            f"{w['parent_target']:,.0f} set here")


def index_model(cards: list[dict], quarter_label: str, period_text: str, generated_at: str, run_id: str,
                locale: str, currency: str, company_name: str) -> dict:
    """The quarter's index page: every scorecard with its score."""
    order = {"company": 0, "team": 1, "person": 2}
    rows = sorted(cards, key=lambda c: (order[c["tier"]], c["team_name"] or "", c["owner_name"]))
    return {
        "locale": locale, "currency": currency, "company_name": company_name, "quarter_label": quarter_label,
        "period_text": period_text, "generated_at": generated_at, "run_id": run_id,
        "rows": [
            {"tier": c["tier"], "owner_id": c["owner_id"], "name": c["owner_name"], "team_name": c["team_name"],
             "score": c["score"], "status": c["status"], "html_href": c["path"] + ".html",
             "pdf_href": c["path"] + ".pdf"}
            for c in rows
        ],
    }


def status_counts(owners: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Statuses per tier, for the run summary."""
    out = {}
    for tier, g in owners.groupby("tier"):
        out[str(tier)] = {k: int((g["status"] == k).sum()) for k in ("green", "yellow", "red", "no_data")}
    return out


__all__ = ["build_scorecards", "index_model", "kr_table", "owner_names", "status_counts", "np"]
