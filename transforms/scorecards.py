"""Scorecard view models and the KR table: the presentation-ready shape of the quarter's results.

Everything a template shows is decided here (which rows, in which order, bar widths as clamped
integers); templates only lay it out and format numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from transforms import charts, story
from transforms import config as cfg
from transforms.adjustments import adjusted_text, adjustment_columns, adjustment_vm
from transforms.calendar import Quarter
from transforms.forecast import FORECAST_COLUMNS
from transforms.history import kr_overall_shares
from transforms.lineage import KrRef, LineageContext, Rollup, kr_lineage, lineage_context
from transforms.naming import scorecard_path
from transforms.report import QuarterResults, build_teams
from transforms.review import Reviewed
from transforms.rollup import leavers_in

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
    first, second = ("team_name", "team_name_en") if locale == "zh-CN" else ("team_name_en", "team_name")
    for t in teams.to_dict("records"):
        names[("team", str(t["team_id"]))] = _text(t.get(first)) or _text(t.get(second)) or str(t["team_id"])
    for pid, name in zip(res.org.people["person_id"], res.org.people["person_name"]):
        names[("person", str(pid))] = _text(name) or str(pid)
    return names


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def kr_table(res: QuarterResults, names: dict[tuple[str, str], str], locale: str,
             lineage_texts: dict[tuple[str, str, str], str] | None = None) -> pd.DataFrame:
    """One row per tier, owner and KR: the machine-readable output with lineage (raw, and in plain words as the
    cards say it), and the same KR of the same owner in the previous quarter."""
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
            "weight_share": k["weight_share"],
            "objective_weight": k["objective_weight"],
            "baseline": k["baseline"],
            "target": k["target"],
            "actual": k["actual"],
            "attainment": k["attainment"],
            "score": k["score"],
            "expected_score": k["expected_score"],
            "status": k["status"],
            "rows": k["rows"],
            "covered": k["covered"],
            "covered_of": k["covered_of"],
            "lineage_tables": k["lineage_tables"],
            "lineage_filter": k["lineage_filter"],
            **_outlook_columns(k),
        }
    )
    out["lineage"] = [
        f"{t} · {f} · {n} {rows_word}" for t, f, n in zip(k["lineage_tables"], k["lineage_filter"], k["rows"])
    ]
    keys = list(zip(k["tier"].astype(str), k["owner_id"].astype(str), k["kr_id"].astype(str)))
    out["lineage_text"] = [(lineage_texts or {}).get(key) for key in keys]
    _add_previous(out, res, keys)
    _review_columns(out, res.review)
    adjustment_columns(out, k)
    labels = k["month_labels"].fillna("").astype(str).str.split("|")
    for i in (1, 2, 3):
        out[f"month_{i}"] = [lab[i - 1] if len(lab) >= i and lab[i - 1] else None for lab in labels]
        out[f"month_{i}_actual"] = k[f"month_{i}"]
    return out


def _outlook_columns(k: pd.DataFrame) -> dict[str, object]:
    """The forecast and confidence columns of the KR table (empty at quarter end or without check-ins)."""
    out: dict[str, object] = {c: k[c] for c in FORECAST_COLUMNS if c in k.columns}
    out["confidence"] = k["confidence"] if "confidence" in k.columns else np.nan
    out["confidence_flag"] = k["confidence_flag"] if "confidence_flag" in k.columns else None
    return out


def review_notes(reviewed: Reviewed | None, keys: set[tuple[str, str]]) -> list[str] | None:
    """The findings about a card's objectives and KRs, one line per objective or KR after its title; None
    when the plan was not reviewed."""
    if reviewed is None:
        return None
    objectives = {o for o, _ in keys}
    grouped: dict[tuple, list[str]] = {}
    for f in reviewed.findings:
        if (f.kr_id is None and f.objective_id in objectives) or (f.objective_id, f.kr_id) in keys:
            grouped.setdefault((f.objective_id, f.kr_id), []).append(f.message)
    sep = "；" if reviewed.locale == "zh-CN" else "; "
    return [f"{reviewed.titles.get(key, key[1] or key[0])}: {sep.join(messages)}"
            for key, messages in grouped.items()]


def _review_columns(out: pd.DataFrame, reviewed: Reviewed | None) -> None:
    """The KR's own findings and its objective's, as codes and as the messages the cards show (in place)."""
    pairs = list(zip(out["objective_id"].astype(str), out["kr_id"].astype(str), strict=True))
    if reviewed is None:
        for name in ("review_codes", "review_notes", "objective_review_codes", "objective_review_notes"):
            out[name] = None
        return
    own: dict[tuple, list] = {}
    for f in reviewed.findings:
        own.setdefault((f.objective_id, f.kr_id), []).append(f)
    for prefix, key in (("", lambda o, k: (o, k)), ("objective_", lambda o, k: (o, None))):
        found = [own.get(key(o, k), []) for o, k in pairs]
        out[f"{prefix}review_codes"] = [";".join(dict.fromkeys(f.code.value for f in fs)) for fs in found]
        out[f"{prefix}review_notes"] = [" | ".join(f.message for f in fs) for fs in found]


def _add_previous(out: pd.DataFrame, res: QuarterResults, keys: list[tuple[str, str, str]]) -> None:
    """The same KR of the same owner one quarter earlier (in place; empty where it was not computed)."""
    previous = res.quarter.shift(-1).label
    h = res.history.krs
    h = h[h["quarter"] == previous].set_index(["tier", "owner_id", "kr_id"])
    out["previous_quarter"] = previous if res.history.quarters and res.history.quarters[-1] == previous else None
    out["previous_actual"] = [h["actual"].get(key) if key in h.index else None for key in keys]
    out["previous_score"] = [h["score"].get(key) if key in h.index else None for key in keys]


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


def _kr_vm(row: dict, look: _Lookups) -> dict:
    locale = look.locale
    key = story.OwnerKey(str(row["tier"]), str(row["owner_id"]))
    earlier = story.kr_history(look.res.history, key, str(row["kr_id"]))
    kr_points = [{"quarter": q, "value": v, "status": st, "is_current": False} for q, v, st in earlier] + [
        {"quarter": look.res.quarter.label, "value": _f(row.get("actual")), "status": str(row["status"]),
         "is_current": True}]
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
        "weight": _f(row.get("weight")),
        "weight_share": _f(row.get("weight_share")),
        "trend": _trend(row, locale),
        "lineage": _lineage_text(row, look),
        "note": _text(row.get("note")) or None,
        "covered": _covered_text(row, locale),
        "share": _f(row.get("share")),
        "short_by": story.short_by(row),
        "history": kr_points,
        "is_cumulative": bool(row.get("is_cumulative")),
        "trend_chart": _trend_chart(row, look),
        "history_chart": history_chart(kr_points, scores=False),
        "decimals": value_decimals([row.get("baseline"), row.get("target"), row.get("actual")], str(row["unit"])),
        "baseline_note": baseline_note(row),
        "pace": pace_state(row, look.res.elapsed is not None),
        "forecast": forecast_vm(row),
        "confidence": _f(row.get("confidence")),
        "confidence_flag": _text(row.get("confidence_flag")) or None,
        **adjustment_vm(row),
    }


def forecast_vm(row: dict) -> dict | None:
    """A mid-quarter KR's projected quarter value, interval and chance of reaching the target; None when the
    KR is not forecast (quarter end, check-in KRs)."""
    value = _f(row.get("forecast"))
    if value is None:
        return None
    return {"value": value, "low": _f(row.get("forecast_low")), "high": _f(row.get("forecast_high")),
            "p": _f(row.get("forecast_p")), "basis": str(row.get("forecast_basis")),
            "quarters": int(_f(row.get("forecast_quarters")) or 0), "score": _f(row.get("forecast_score"))}


def likely_misses(records: list[dict]) -> int | None:
    """KRs whose chance of reaching the target is under one half (where there is no chance, a projected value
    short of the target); None when nothing is forecast."""
    forecast = [r for r in records if _f(r.get("forecast")) is not None]
    if not forecast:
        return None
    return sum((_f(r.get("forecast_p")) < 0.5) if _f(r.get("forecast_p")) is not None
               else (_f(r.get("forecast_score")) or 0) < 1 for r in forecast)


DECIMALS = {"percent": (1, 100.0), "days": (1, 1.0), "hours": (1, 1.0), "number": (2, 1.0), "ratio": (2, 1.0),
            "count": (2, 1.0)}


def value_decimals(values: list[object], unit: str) -> int | None:
    """The decimals that show every one of a KR's numbers at the unit's precision, so its baseline, target and
    actual line up (2.91 / 2.20, not 2.91 / 2.2); None for currencies, which keep their own format."""
    if unit not in DECIMALS:
        return None
    cap, scale = DECIMALS[unit]
    need = 0
    for v in values:
        x = _f(v)
        if x is None:
            continue
        exact = round(x * scale, cap)
        need = max(need, next(d for d in range(cap + 1) if round(exact, d) == exact))
    return need


def baseline_note(row: dict) -> str | None:
    """Why a KR has no baseline on the card: growth KRs are graded from zero; the others do not use one."""
    if _f(row.get("baseline")) is not None:
        return None
    return "from_zero" if str(row["direction"]) == "increase" else "not_applicable"


def pace_state(row: dict, mid_quarter: bool) -> str | None:
    """Mid-quarter only: ahead/behind the score expected by now; rates and ratios are judged as they stand."""
    if not mid_quarter:
        return None
    score, expected = _f(row.get("score")), _f(row.get("expected_score"))
    if score is None:
        return None
    if expected is None:
        return "not_applicable"
    return "ahead" if score >= expected else "behind"


def _lineage_text(row: dict, look: _Lookups) -> str:
    """The KR's lineage in plain words in the card's language (kr_values.csv keeps the raw filter)."""
    rollup = None
    children = _f(row.get("rollup_children"))
    if children is not None and _text(row.get("rollup_from")):
        child = str(row["rollup_from"])
        rollup = Rollup(int(children), child, look.kr_metrics.get(child, str(row["metric"])))
    quarterly = _text(row.get("quarterly_value")) or "period"
    kr = KrRef(str(row["metric"]), str(row["tier"]), int(row["rows"]), quarterly, rollup)
    return kr_lineage(look.lineage, kr, look.locale) + adjusted_text(row, look.locale)


def _trend_chart(row: dict, look: _Lookups) -> charts.TrendChart | None:
    """The KR's months against its target (running totals for cumulative KRs), pace mid-quarter."""
    trend = _trend(row, look.locale)
    if not trend:
        return None
    return charts.trend_chart(charts.TrendRequest(
        tuple(t["label"] for t in trend), tuple(t["value"] for t in trend), _f(row.get("target")),
        bool(row.get("is_cumulative")), look.res.elapsed, str(row["direction"]), height=10.0))


def history_chart(points: list[dict], scores: bool) -> charts.HistoryChart | None:
    """Earlier quarters beside this one; none when there is no earlier quarter to draw. An owner's scores get
    the larger chart with its labels inside; a KR's values a strip as low as its monthly trend beside it."""
    if len(points) < 2:
        return None
    size = {"width": 54.0, "height": 24.0} if scores else {"width": 60.0, "height": 10.0, "inside_labels": False}
    current = str(points[-1]["quarter"])
    return charts.history_chart(charts.HistoryRequest(
        tuple(charts.HistoryPoint(short_quarter(p["quarter"], current), p["value"], p["status"]) for p in points),
        scores, **size))


def short_quarter(label: str, current: str) -> str:
    """``Q3`` for a quarter of the current one's fiscal year (``FY2017-18 Q3`` beside ``FY2017-18 Q4``), else the
    whole label: a chart's names stay short where the year goes without saying."""
    year, _, q = str(label).rpartition(" ")
    return q if year and year == current.rpartition(" ")[0] else str(label)


def _covered_text(row: dict, locale: str) -> str | None:
    """A coverage's two counts in words ("11 of 27"), shown beside its share."""
    n, of = _f(row.get("covered")), _f(row.get("covered_of"))
    if n is None or of is None:
        return None
    return f"{of:,.0f} 个中的 {n:,.0f} 个" if locale == "zh-CN" else f"{n:,.0f} of {of:,.0f}"


def _group(records: list[dict], *keys: str) -> dict[tuple, list[dict]]:
    """Group records by key columns, keeping first-seen order."""
    out: dict[tuple, list[dict]] = {}
    for r in records:
        out.setdefault(tuple(str(r[k]) for k in keys), []).append(r)
    return out


@dataclass(frozen=True)
class _Lookups:
    """What every card of one run looks things up in (built once per run, not once per card)."""

    res: QuarterResults
    kr_records: list[dict]
    locale: str
    lineage: LineageContext
    kr_metrics: dict[str, str]
    names: dict[tuple[str, str], str]
    titles: dict[str, str]
    kr_titles: dict[str, str]
    kr_titles_both: dict[str, dict[str, str]]
    objectives: dict[tuple, dict]
    owners: dict[tuple, dict]
    children: dict[tuple, list[dict]]
    person_team: dict
    member_context: tuple


def _lookups(res: QuarterResults, ws: cfg.Workspace, tables: dict, locale: str) -> _Lookups:
    names = owner_names(res, ws, tables, locale)
    kr_records = res.krs.assign(share=kr_overall_shares(res.krs, res.objectives)).to_dict("records")
    objectives = {k: v[0] for k, v in _group(res.objectives.to_dict("records"), "tier", "owner_id",
                                              "objective_id").items()}
    owners = {k: v[0] for k, v in _group(res.owners.to_dict("records"), "tier", "owner_id").items()}
    person_team = res.org.person_team().astype("object").to_dict()
    titles: dict[str, str] = {}
    kr_titles: dict[str, str] = {}
    both: dict[str, dict[str, str]] = {}
    for r in kr_records:
        titles.setdefault(str(r["objective_id"]), title(r, "objective_title", locale))
        kr_titles.setdefault(str(r["kr_id"]), title(r, "kr_title", locale))
        both.setdefault(str(r["kr_id"]), {loc: title(r, "kr_title", loc) for loc in ("zh-CN", "en")})
    plan_order = {oid: i for i, oid in enumerate(titles)}
    left = leavers(res)
    member_context = (res, _members(res, person_team), names, titles, plan_order, objectives, owners, left)
    children = _group(res.alignment.to_dict("records"), "parent_tier", "parent_owner_id", "parent_objective_id")
    kr_metrics = {str(r["kr_id"]): str(r["metric"]) for r in kr_records}
    return _Lookups(res, kr_records, locale, lineage_context(ws, tables), kr_metrics, names, titles, kr_titles,
                    both, objectives, owners, children, person_team, member_context)


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
    look = _lookups(res, ws, tables, locale)
    wanted = set(owners) if owners is not None else None
    quarter = res.quarter
    common = {
        "locale": locale,
        "currency": ws.currency,
        "company_name": look.names[("company", ws.company.id)],
        "quarter_label": quarter.label,
        "period_text": period_text(quarter),
        "as_of": (res.as_of or quarter.last_day).strftime("%Y-%m-%d"),
        "is_mid_quarter": res.elapsed is not None,
        "elapsed_pct": _pct(res.elapsed if res.elapsed is not None else 1.0),
        "generated_at": generated_at,
        "run_id": run_id,
        "bands": {"red_below": ws.status_bands.red_below, "green_from": ws.status_bands.green_from},
    }
    out = []
    for (tier, owner_id), records in _group(look.kr_records, "tier", "owner_id").items():
        if wanted is not None and (tier, owner_id) not in wanted:
            continue
        notes = list(global_notes or []) if tier == "company" else []
        out.append({**common, **_card(look, tier, owner_id, records, notes)})
    return out


def _card(look: _Lookups, tier: str, owner_id: str, records: list[dict], extra_notes: list[str]) -> dict:
    """The owner-specific part of one scorecard: score, objectives with their KRs, members, notes."""
    res, names, person_team = look.res, look.names, look.person_team
    me = look.owners[(tier, owner_id)]
    weighted = bool(me["weighted"])
    groups = _group(records, "objective_id")
    rows = [look.objectives[(tier, owner_id, oid)] for (oid,) in groups]
    objectives = [_objective_vm(look, o, krs, weighted) for o, krs in zip(rows, groups.values(), strict=True)]
    members, columns, dist = _member_table(tier, owner_id, look.member_context)
    dq: list[str] = list(res.notes)
    for m in dict.fromkeys(r["metric"] for r in records):
        dq += res.metric_notes.get(m, [])
    dq += [_value_warning(w, look.locale) for w in res.value_warnings
           if w["tier"] == tier and str(w["owner_id"]) == owner_id]
    dq += [n for n in [_weighting_note(rows, weighted, look.locale)] if n]
    dq += extra_notes
    kq = review_notes(res.review, {(str(r["objective_id"]), str(r["kr_id"])) for r in records})
    path = scorecard_path(tier, owner_id)
    return {
        "tier": tier,
        "owner_id": owner_id,
        "owner_name": names.get((tier, owner_id), owner_id),
        "team_id": _text(person_team.get(owner_id)) if tier == "person" else owner_id if tier == "team" else None,
        "team_name": names.get(("team", str(person_team.get(owner_id)))) if tier == "person" else None,
        "score": _f(me["score"]),
        "status": str(me["status"]),
        "weighted": weighted,
        "counts": kr_counts(records),
        "objective_counts": {"total": len(rows), "with_data": sum(_f(o["score"]) is not None for o in rows)},
        "objectives": objectives,
        "members": members,
        "member_columns": columns,
        "distribution": dist,
        "data_quality_notes": list(dict.fromkeys(dq)),
        "kr_quality_notes": kq,
        "links": {"index": "../" * path.count("/") + "index.html", "pdf": path.rsplit("/", 1)[-1] + ".pdf"},
        "path": path,
        **_story(look, story.OwnerKey(tier, owner_id), me, records, members),
        "left_on": look.member_context[-1].get(owner_id) if tier == "person" else None,
        "how_made": story.how_made(tier, len(records), len(rows), kr_counts(records)["no_data"], look.locale),
    }


def _story(look: _Lookups, key: story.OwnerKey, me: dict, records: list[dict], members: list[dict]) -> dict:
    """Page one: the score against earlier quarters, what moved it, the red KRs' gaps and what to act on next."""
    res = look.res
    points = story.score_history(res.history, key, _f(me["score"]), str(me["status"]), res.quarter.label)
    previous = res.quarter.shift(-1).label
    prev_krs = res.history.krs[res.history.krs["quarter"] == previous]
    moved = story.movers(records, prev_krs, key)
    named = lambda items: [{**m, "title": look.kr_titles[m["kr_id"]]} for m in items]  # noqa: E731
    by_id = {str(r["kr_id"]): r for r in records}
    gaps = [{"kr_id": str(r["kr_id"]), "title": look.kr_titles[str(r["kr_id"])], "unit": str(r["unit"]),
             "actual": _f(r.get("actual")), "target": _f(r.get("target")), "short_by": story.short_by(r),
             "score": _f(r.get("score"))}
            for r in records if str(r["status"]) == "red"]
    counted = story.counted_members(members, res.leavers_rule)
    rollup = story.members_rollup([m["score"] for m in counted], [m["status"] for m in counted]) if counted else None
    return {
        "history": points,
        "history_chart": history_chart(points, scores=True),
        "history_quarters": list(res.history.quarters),
        "change": story.change(points, previous),
        "focus": story.focus(records, look.kr_titles_both, look.locale),
        "movers": {"up": named(moved["up"]), "down": named(moved["down"])},
        "gaps": sorted(gaps, key=lambda g: (-(_f(by_id[g["kr_id"]].get("share")) or 0.0), g["kr_id"]))[:story.TOP],
        "behind": named(story.behind_pace(records)) if res.elapsed is not None else [],
        "likely_miss": likely_misses(records),
        "rollup": rollup,
        "leavers_note": story.leavers_rule_text(res.leavers_rule, [(m["name"], m["left_on"]) for m in members
                                                                   if m.get("left_on")], look.locale),
    }


def kr_counts(records: list[dict]) -> dict[str, int]:
    """A partition of the owner's KRs: each is counted once, KRs without data only as ``no_data``.

    ``computed`` and ``manual`` are the KRs with data by where their value came from.
    """
    graded = [r for r in records if r["status"] != "no_data"]
    return {
        "krs": len(records),
        "computed": sum(r["source"] == "computed" for r in graded),
        "manual": sum(r["source"] == "manual" for r in graded),
        "no_data": len(records) - len(graded),
    }


def _objective_vm(look: _Lookups, o: dict, krs: list[dict], weighted: bool) -> dict:
    """One objective; its weight and share are shown only when the owner's score used them."""
    tier, owner_id, oid = str(o["tier"]), str(o["owner_id"]), str(o["objective_id"])
    parent = o.get("parent_objective_id")
    aligned = [
        {"owner_name": look.names.get((c["tier"], str(c["owner_id"])), str(c["owner_id"])),
         "title": look.titles.get(str(c["child_objective_id"]), ""),
         "score": _f(c["score"]), "status": str(c["status"])}
        for c in look.children.get((tier, owner_id, oid), [])
    ]
    groups: dict[str, list[dict]] = {}
    for child in aligned:
        groups.setdefault(child["title"], []).append(child)
    return {
        "objective_id": oid,
        "title": look.titles.get(oid, oid),
        "aligned_groups": [{"title": t, "children": c} for t, c in groups.items()],
        "score": _f(o["score"]),
        "status": str(o["status"]),
        "objective_weight": _f(o.get("objective_weight")) if weighted else None,
        "weight_share": _f(o.get("weight_share")) if weighted else None,
        "aligned_to": look.titles.get(str(parent)) if _text(parent) else None,
        "aligned_children": aligned,
        "krs": [_kr_vm(r, look) for r in krs],
    }


def _weighting_note(objectives: list[dict], weighted: bool, locale: str) -> str | None:
    """Why the plan's objective weights were not used for this owner (the card numbers objectives O1, O2..)."""
    codes = [f"O{i}" for i in range(1, len(objectives) + 1)]
    has = [c for c, o in zip(codes, objectives) if _f(o.get("objective_weight")) is not None]
    clash = [c for c, o in zip(codes, objectives) if bool(o.get("objective_weight_conflict"))]
    if weighted or not (has or clash):
        return None
    if locale == "zh-CN":
        why = ([f"仅 {'、'.join(has)} 设置了目标权重"] if has else []) + \
              ([f"{'、'.join(clash)} 的各关键结果给出的目标权重不一致"] if clash else [])
        return f"未使用目标权重：{'；'.join(why)}。得分为有数据目标的简单平均。"
    why = ([f"only {', '.join(has)} {'has' if len(has) == 1 else 'have'} one"] if has else []) + \
          ([f"the key results of {', '.join(clash)} give different ones"] if clash else [])
    return f"Objective weights are not used: {'; '.join(why)}. The score is the plain mean of the objectives with data."


def leavers(res: QuarterResults) -> dict[str, str]:
    """person_id -> the day they left, for people who left during the quarter (or before a mid-quarter as-of)."""
    end = res.quarter.end if res.as_of is None else res.as_of + pd.Timedelta(days=1)
    return leavers_in(res.org.people, res.quarter.start, end)


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


def _member_table(tier: str, owner_id: str, context: tuple) -> tuple[list[dict], list[str], dict[str, int]]:
    """Rows of the member table / heatmap: a team's people, or the company's teams."""
    res, members_of, names, titles, plan_order, objectives_by_key, own, left = context
    empty = {"red": 0, "yellow": 0, "green": 0, "no_data": 0}
    members = members_of.get((tier, owner_id), [])
    if tier == "person" or not members:
        return [], [], empty
    child_tier = members[0][0]
    ids = sorted({oid for (t, _, oid) in objectives_by_key if t == child_tier}, key=lambda x: plan_order.get(x, 0))
    from_dir = "" if tier == "company" else "../"
    rows = []
    dist = dict(empty)
    for _, mid in members:
        cells = []
        for oid in ids:
            c = objectives_by_key.get((child_tier, mid, oid))
            cells.append({"score": _f(c["score"]), "status": str(c["status"])} if c else
                         {"score": None, "status": "no_data"})
        me = own.get((child_tier, mid))
        status = str(me["status"]) if me else "no_data"
        dist[status] = dist.get(status, 0) + 1
        rows.append({
            "owner_id": mid,
            "name": names.get((child_tier, mid), mid),
            "href": from_dir + scorecard_path(child_tier, mid) + ".html",
            "score": _f(me["score"]) if me else None,
            "status": status,
            "cells": cells,
            "left_on": left.get(mid) if child_tier == "person" else None,
        })
    rows.sort(key=lambda r: (-(r["score"] if r["score"] is not None else -1), r["name"]))
    return rows, [titles.get(o, o) for o in ids], dist


def _value_warning(w: dict, locale: str) -> str:
    if locale == "zh-CN":
        return (f"{w['kr_id']}：下级目标合计 {w['children_target']:,.0f}，与本级目标 {w['parent_target']:,.0f} "
                "不一致")
    return (f"{w['kr_id']}: children's targets add up to {w['children_target']:,.0f}, not the "
            f"{w['parent_target']:,.0f} set here")


@dataclass(frozen=True)
class IndexHeader:
    """What the index page says about its quarter: which version, for whom, in which language and currency."""

    quarter: Quarter
    quarter_label: str
    generated_at: str
    run_id: str
    locale: str
    currency: str
    fallback_company_name: str


def index_model(cards: list[dict], header: IndexHeader) -> dict:
    """The quarter's index page: every scorecard with its score, the company named as on its own card."""
    order = {"company": 0, "team": 1, "person": 2}
    rows = sorted(cards, key=lambda c: (order[c["tier"]], c["team_name"] or "", c["owner_name"]))
    company = next((c["owner_name"] for c in cards if c["tier"] == "company"), header.fallback_company_name)
    return {
        "locale": header.locale, "currency": header.currency, "company_name": company,
        "quarter_label": header.quarter_label, "period_text": period_text(header.quarter),
        "generated_at": header.generated_at, "run_id": header.run_id,
        "rows": [
            {"tier": c["tier"], "owner_id": c["owner_id"], "name": c["owner_name"], "team_name": c["team_name"],
             "score": c["score"], "status": c["status"], "html_href": c["path"] + ".html",
             "pdf_href": c["path"] + ".pdf"}
            for c in rows
        ],
    }


def period_text(quarter: Quarter) -> str:
    """``2018-01-01 – 2018-03-31``: the quarter's days as every page shows them."""
    return f"{quarter.start:%Y-%m-%d} – {quarter.last_day:%Y-%m-%d}"


CARD_SUMMARY_KEYS = ("tier", "owner_id", "owner_name", "team_name", "path", "score", "status", "change", "focus",
                     "likely_miss")


def card_summaries(cards: list[dict]) -> list[dict]:
    """What the index and the manifest keep of each scorecard."""
    return [{k: c.get(k) for k in CARD_SUMMARY_KEYS} for c in cards]


def status_counts(owners: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Statuses per tier, for the run summary."""
    out = {}
    for tier, g in owners.groupby("tier"):
        out[str(tier)] = {k: int((g["status"] == k).sum()) for k in ("green", "yellow", "red", "no_data")}
    return out


__all__ = ["IndexHeader", "build_scorecards", "index_model", "kr_table", "owner_names", "period_text", "status_counts",
           "np"]
