"""The quarter's OKR results from staged tables: the nodes in the order the flow runs them.

``compute_quarter`` is the one entry point the flow calls; each step is a plain function of frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from transforms import config as cfg
from transforms.adjustments import apply_adjustments, of_quarter, pending_note
from transforms.calendar import Quarter
from transforms.contracts import MEMBERSHIPS, table_contracts
from transforms.forecast import (
    FORECAST_COLUMNS,
    Basis,
    ForecastRequest,
    confidence_flags,
    forecast_krs,
    latest_confidence,
)
from transforms.history import History, combine, quarter_points, same_point
from transforms.key_results import compute_actuals, latest_checkins
from transforms.metrics import Engine, MetricError, Org
from transforms.plan import expand_plan
from transforms.quality import (
    data_end_note,
    kept_rows_notes,
    merge_notes,
    partial_periods,
    uncovered_metrics,
)
from transforms.review import Lexicon, Reviewed, review_plan
from transforms.rollup import (
    alignment,
    kr_weight_shares,
    leavers_in,
    objective_scores,
    owner_scores,
    value_rollup,
)
from transforms.scoring import attainment, grade
from transforms.tables import membership_at


@dataclass
class QuarterResults:
    """Everything the scorecards and tables are built from."""

    quarter: Quarter
    as_of: pd.Timestamp | None
    elapsed: float | None
    org: Org
    krs: pd.DataFrame
    objectives: pd.DataFrame
    owners: pd.DataFrame
    alignment: pd.DataFrame
    value_warnings: list[dict] = field(default_factory=list)
    review: Reviewed | None = None
    """The plan's KR-quality review in the run's language (None: not reviewed)."""
    metric_notes: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    history: History = field(default_factory=History)
    leavers_rule: str = "count"
    """okr.yaml's ``leavers``: whether the KRs of people who left during the quarter count for their team."""


def build_teams(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The teams table, or one derived from the people directory when no teams export is configured."""
    if "teams" in tables and not tables["teams"].empty:
        return tables["teams"]
    ids = tables["people"]["team_id"].dropna().astype(str).drop_duplicates().sort_values()
    return pd.DataFrame({"team_id": ids.to_numpy(), "team_name": ids.to_numpy(), "team_name_en": ids.to_numpy(),
                         "lead_id": np.nan})


def build_org(ws: cfg.Workspace, tables: Mapping[str, pd.DataFrame], at: pd.Timestamp | None = None) -> Org:
    """Who belongs where; with dated team memberships, a person's team is the one they were in on the day
    before ``at`` (the period's end)."""
    people = tables["people"].copy()
    people["person_id"] = people["person_id"].astype(str)
    memberships = tables.get(MEMBERSHIPS)
    if at is not None and memberships is not None and not memberships.empty:
        day = pd.Series(at - pd.Timedelta(days=1), index=people.index)
        dated = membership_at(memberships, people["person_id"], day)
        latest = memberships.sort_values("started_at", kind="stable").drop_duplicates("person_id", keep="last")
        before = people["person_id"].map(latest[latest["started_at"] < at].set_index("person_id")["team_id"])
        people["team_id"] = dated.fillna(before).fillna(people["team_id"])
    for col in ("started_at", "ended_at"):
        if col not in people.columns:
            people[col] = pd.NaT
    teams = build_teams(tables)
    return Org(ws.company.id, people.reset_index(drop=True), teams["team_id"].astype(str).tolist())


def elapsed_share(quarter: Quarter, as_of: pd.Timestamp | None) -> float | None:
    """Share of the quarter elapsed at ``as_of`` (None once the quarter is closed)."""
    if as_of is None or as_of >= quarter.last_day:
        return None
    days = (as_of.normalize() - quarter.start).days + 1
    return max(0.0, min(1.0, days / (quarter.end - quarter.start).days))


def compute_quarter(
    ws: cfg.Workspace,
    tables: Mapping[str, pd.DataFrame],
    quarter: Quarter,
    as_of: pd.Timestamp | None = None,
    locale: str | None = None,
    history_depth: int = 0,
) -> QuarterResults:
    """Expand the plan, compute every KR, roll up value KRs, grade, and roll scores up; with ``history_depth``,
    the same for that many earlier quarters, for the comparisons and trends."""
    engine = _engine(ws, tables, quarter, as_of)
    res = _results(ws, tables, quarter, as_of, locale, engine)
    res.krs = _outlook(ws, tables, res, engine)
    if history_depth:
        dated = MEMBERSHIPS in tables and not tables[MEMBERSHIPS].empty  # then each quarter has its own org
        res.history = compute_history(ws, tables, quarter, as_of, history_depth, None if dated else engine)
    return res


def _engine(ws: cfg.Workspace, tables: Mapping[str, pd.DataFrame], quarter: Quarter,
            as_of: pd.Timestamp | None) -> Engine:
    org = build_org(ws, tables, at=quarter.end if as_of is None else as_of + pd.Timedelta(days=1))
    return Engine(ws.metrics, tables, org, ws.fiscal_year_start_month, table_contracts(ws))


def _results(ws: cfg.Workspace, tables: Mapping[str, pd.DataFrame], quarter: Quarter, as_of: pd.Timestamp | None,
             locale: str | None, engine: Engine) -> QuarterResults:
    """One quarter's results with a given engine (earlier quarters may share the current one's caches)."""
    org = engine.org
    bands = ws.status_bands
    elapsed = elapsed_share(quarter, as_of)
    as_of = as_of if elapsed is not None else None
    krs = expand_plan(tables["plan"], org, quarter)
    krs = compute_actuals(krs, engine, tables.get("checkins"), quarter, as_of)
    person_team = org.person_team().dropna().astype(str).to_dict()
    krs, warnings = value_rollup(krs, person_team, ws.company.id, leavers=_excluded(ws, org, quarter, as_of))
    krs = grade(krs, bands.red_below, bands.green_from, elapsed)
    adjustments = of_quarter(tables.get("adjustments"), quarter)
    krs = apply_adjustments(krs, adjustments, (bands.red_below, bands.green_from), elapsed)
    krs["weight_share"] = kr_weight_shares(krs)
    objectives = objective_scores(krs, bands.red_below, bands.green_from)
    owners = owner_scores(objectives, bands.red_below, bands.green_from)
    links = alignment(objectives, person_team, ws.company.id)
    return QuarterResults(
        quarter=quarter,
        as_of=as_of,
        elapsed=elapsed,
        org=org,
        krs=krs,
        objectives=objectives,
        owners=owners,
        alignment=links,
        value_warnings=warnings,
        metric_notes=merge_notes(
            partial_periods(tables, ws.metrics, sorted(krs["metric"].unique()), quarter, ws.fiscal_year_start_month,
                            locale or ws.locale),
            kept_rows_notes(tables, ws.metrics, sorted(krs["metric"].unique()), locale or ws.locale)),
        notes=data_end_note(tables, quarter, as_of, locale or ws.locale)
        + pending_note(adjustments, elapsed, locale or ws.locale),
        leavers_rule=ws.leavers,
    )


def _outlook(ws: cfg.Workspace, tables: Mapping[str, pd.DataFrame], res: QuarterResults,
             engine: Engine) -> pd.DataFrame:
    """The KRs with their forecast (mid-quarter runs), the owner's latest confidence and where they disagree."""
    krs = res.krs
    if res.as_of is not None:
        def covered(name: str, quarter: Quarter) -> bool:
            return name not in uncovered_metrics(tables, ws.metrics, [name], quarter)

        request = ForecastRequest(engine, krs, res.quarter, res.as_of, ws.forecast_quarters, covered)
        outlook = forecast_krs(request, attainment)
        krs = krs.assign(**{c: outlook[c].to_numpy() for c in outlook.columns})
    else:
        krs = krs.assign(**{c: np.nan for c in FORECAST_COLUMNS}).assign(forecast_basis=Basis.NONE.value)
    until = res.quarter.end if res.as_of is None else res.as_of + pd.Timedelta(days=1)
    krs["confidence"] = latest_confidence(krs, latest_checkins(tables.get("checkins"), until), ws.confidence_scale)
    bands = ws.status_bands
    krs["confidence_flag"] = confidence_flags(krs, bands.red_below, bands.green_from)
    return krs


def _excluded(ws: cfg.Workspace, org: Org, quarter: Quarter, as_of: pd.Timestamp | None) -> frozenset[str]:
    """The people whose KRs do not count for their team: those who left during the quarter, under
    ``leavers: exclude`` (none under ``leavers: count``)."""
    if ws.leavers != "exclude":
        return frozenset()
    end = quarter.end if as_of is None else as_of + pd.Timedelta(days=1)
    return frozenset(leavers_in(org.people, quarter.start, end))


def with_review(res: QuarterResults, ws: cfg.Workspace, tables: Mapping[str, pd.DataFrame], lexicon: Lexicon,
                locale: str | None) -> QuarterResults:
    """The results with the plan's KR-quality review, people judged by the teams they are in this quarter."""
    person_team = res.org.person_team().dropna().astype(str).to_dict()
    res.review = review_plan(tables["plan"], lexicon, locale or ws.locale, ws, person_team)
    return res


def compute_history(ws: cfg.Workspace, tables: Mapping[str, pd.DataFrame], quarter: Quarter,
                    as_of: pd.Timestamp | None, depth: int, engine: Engine | None = None) -> History:
    """The ``depth`` quarters before ``quarter``, each computed as its own run would (mid-quarter: at the same
    day of each quarter); a quarter the metrics cannot be computed for is left out with a note."""
    points, labels, notes = [], [], []
    for back in range(depth, 0, -1):
        q = quarter.shift(-back)
        at = same_point(quarter.start, as_of, q.start, q.last_day)
        try:
            res = _results(ws, tables, q, at, None, engine or _engine(ws, tables, q, at))
        except MetricError as exc:
            notes.append(f"{q.label}: {exc}")
            continue
        uncovered = uncovered_metrics(tables, ws.metrics, sorted(res.krs["metric"].unique()), q)
        points.append(quarter_points(res.krs, res.objectives, res.owners, (q.label, q.index()), uncovered))
        labels.append(q.label)
    return combine(points, labels, notes)
