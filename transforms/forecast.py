"""Mid-quarter forecast of every computed KR: where the quarter will end, how sure that is, and the chance of
reaching the target.

A metric is projected from its parts, the way the engine computes it:

- counts, distinct counts and sums grow through the quarter. Where earlier quarters hold the metric, the
  quarter ends at today's value times the ratio "final / value at the same point" of those quarters (their
  seasonality: end-of-quarter pushes, holidays, slow first weeks): the owner's own ratio when the owner has
  rows enough for it not to be noise, else the ratio of the owner's tier as a whole, mixed half and half
  with the run rate (each alone erred more in the backtests); otherwise at the run rate
  over working days (the weekday calendar rates use), with the spread of a count of that many rows still
  to come at a rate itself estimated from the rows so far;
- a ratio is its projected numerator over its projected denominator; a rate is its projected base over
  the whole quarter's units; a growth is the projected quarter over its base;
- every other kind (means, shares within a time, percentiles, coverage, conversions, snapshots) is a level:
  today's value, moved by half of how much the same point and the final differed in earlier quarters when
  there are any.

A KR graded on the mean of its months, or on its last month, is projected month by month (finished months
as they are, the current and later months at the current month's projected value).

The interval is an 80% one under a normal approximation (on the log scale for ratios learnt from earlier
quarters); the probability of reaching the target comes from the same distribution. Where no spread can be
estimated (a level with no earlier quarter), the forecast has a point but no interval or probability, and
says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from transforms import config as cfg
from transforms.calendar import Period, Quarter
from transforms.history import same_point
from transforms.metrics import Engine, MetricError

Z80 = 1.2816
"""The normal quantile of an 80% two-sided interval."""
CUMULATIVE = ("count", "distinct", "sum")
MIN_QUARTERS = 2
"""Earlier quarters needed to learn a seasonal ratio and its spread."""
BLEND = 0.5
"""Weight of the learnt pattern against the run rate (or, for a level, against today's value): the two
forecasts err in different ways, and their even mix beat either alone in the backtests (benchmarks/
backtest.py, RESULTS.md) - a few earlier quarters are a noisy guide to this one."""
OWN_ROWS = 30
"""Rows so far an owner needs for their own earlier quarters to teach the ratio; with fewer, a handful of
rows would make it noise, and the pattern of all owners of the tier teaches it instead."""
T80 = {1: 3.078, 2: 1.886, 3: 1.638, 4: 1.533, 5: 1.476, 6: 1.440, 7: 1.415, 8: 1.397}
"""Student's t quantile of an 80% interval by degrees of freedom: a spread learnt from n quarters is itself
uncertain, so its interval widens by t / z (n - 1 degrees of freedom)."""


def _widen(n: pd.Series) -> pd.Series:
    """sd factor for a spread learnt from ``n`` quarters (1 where none was learnt)."""
    return n.map(lambda k: T80.get(int(k) - 1, Z80) / Z80 if k >= MIN_QUARTERS else 1.0)


class Basis(StrEnum):
    """What a forecast was learnt from."""

    HISTORY = "history"
    TIER = "tier"
    RUN_RATE = "run_rate"
    AS_IS = "as_is"
    NONE = "none"


@dataclass(frozen=True)
class ForecastRequest:
    """A mid-quarter run's KRs and what is needed to project them."""

    engine: Engine
    krs: pd.DataFrame
    quarter: Quarter
    as_of: pd.Timestamp
    depth: int = 4
    """Earlier quarters (at most) the seasonal ratios are learnt from."""
    covered: Callable[[str, Quarter], bool] = lambda name, quarter: True
    """Whether the exports cover a metric's whole quarter: a quarter they only partly cover would teach a
    ratio of a part (``quality.uncovered_metrics`` decides)."""


@dataclass(frozen=True)
class Projection:
    """One metric projected to the quarter's end, for every owner (index: tier, owner_id)."""

    point: pd.Series
    sd: pd.Series
    basis: pd.Series
    quarters: pd.Series
    """How many earlier quarters the projection learnt from, per owner."""


class Projector:
    """Projects metrics of one quarter at one day, memoised per metric."""

    def __init__(self, engine: Engine, quarter: Quarter, as_of: pd.Timestamp, depth: int,
                 covered: Callable[[str, Quarter], bool]) -> None:
        self.engine = engine
        self.covered = covered
        self.quarter = quarter
        self.now = quarter.period().clipped(as_of)
        self.full = quarter.period()
        self.earlier = [(q, q.period(), q.period().clipped(same_point(quarter.start, as_of, q.start, q.last_day)))
                        for q in (quarter.shift(-k) for k in range(1, depth + 1))]
        self._memo: dict[str, Projection] = {}

    def value(self, name: str, period: Period) -> pd.Series:
        return self.engine.evaluate(name, period)["value"]

    def project(self, name: str) -> Projection:
        if name not in self._memo:
            self._memo[name] = self._project(self.engine.metrics[name].definition, name)
        return self._memo[name]

    def _project(self, d: cfg.Metric, name: str) -> Projection:
        kind = d.kind
        if kind in CUMULATIVE:
            return self._cumulative(name)
        if kind == "ratio":
            return _ratio(self.project(d.numerator), self.project(d.denominator))
        if kind == "rate":
            return self._rate(d, name)
        if kind == "growth":
            return self._growth(d)
        return self._level(name)

    def _pairs(self, name: str) -> list[tuple[pd.Series, pd.Series]]:
        """(value at the same point, final value) of each earlier quarter the exports can compute."""
        out = []
        for q, full, point in self.earlier:
            if not self.covered(name, q):
                continue
            try:
                out.append((self.value(name, point), self.value(name, full)))
            except MetricError:
                continue
        return out

    def _cumulative(self, name: str) -> Projection:
        """Own seasonal ratio for owners with enough rows, else their tier's, else the working-day run rate."""
        x = self.value(name, self.now)
        rows = self.engine.evaluate(name, self.now)["rows"].reindex(x.index).fillna(0)
        pairs = self._pairs(name)
        own = pd.DataFrame({k: np.log(y.reindex(x.index) / p.reindex(x.index)) for k, (p, y) in enumerate(pairs)},
                           index=x.index).replace([np.inf, -np.inf], np.nan)
        tier = pd.DataFrame({k: _tier_sums(y, x.index) / _tier_sums(p, x.index) for k, (p, y) in enumerate(pairs)},
                            index=x.index)
        tier = np.log(tier.where(tier > 0)).replace([np.inf, -np.inf], np.nan)  # a tier with nothing at the point
        use_own = (own.notna().sum(axis=1) >= MIN_QUARTERS) & (rows >= OWN_ROWS)
        logs = _either(own, tier, use_own)
        n = logs.notna().sum(axis=1)
        learnt = n >= MIN_QUARTERS
        g_run = self.full.weekdays / max(self.now.weekdays, 1)
        g = pd.Series(np.where(learnt, np.exp(BLEND * logs.mean(axis=1) + (1 - BLEND) * math.log(g_run)), g_run),
                      index=x.index)
        point = x * g
        per_row = (x / rows.where(rows > 0)).fillna(0.0).abs()
        # rows still to come are a Poisson draw whose rate is itself estimated from the rows so far:
        # variance rows (g - 1) for the draw plus rows (g - 1)^2 for the rate, per row value squared
        draw = per_row ** 2 * rows * (g - 1.0).clip(lower=0) * g
        pattern = (point * logs.std(axis=1, ddof=1) * np.sqrt(1 + 1 / n.clip(lower=1)) * _widen(n)) ** 2
        sd = pd.Series(np.where(learnt, np.sqrt(pattern + np.where(use_own, 0.0, draw)), np.sqrt(draw)),
                       index=x.index)
        basis = np.where(~learnt, Basis.RUN_RATE.value, np.where(use_own, Basis.HISTORY.value, Basis.TIER.value))
        return Projection(point, sd, pd.Series(basis, index=x.index), n.where(learnt, 0))

    def _level(self, name: str) -> Projection:
        """Moved by the owner's own same-point-to-final change (with enough rows), else by the median change of
        the tier's owners, else as it stands."""
        x = self.value(name, self.now)
        rows = self.engine.evaluate(name, self.now)["rows"].reindex(x.index).fillna(0)
        pairs = self._pairs(name)
        own = pd.DataFrame({k: y.reindex(x.index) - p.reindex(x.index) for k, (p, y) in enumerate(pairs)},
                           index=x.index)
        tier = pd.DataFrame({k: _tier_medians(y.reindex(x.index) - p.reindex(x.index)) for k, (p, y)
                             in enumerate(pairs)}, index=x.index)
        use_own = (own.notna().sum(axis=1) >= MIN_QUARTERS) & (rows >= OWN_ROWS)
        diffs = _either(own, tier, use_own)
        n = diffs.notna().sum(axis=1)
        learnt = n >= MIN_QUARTERS
        point = pd.Series(np.where(learnt, x + BLEND * diffs.mean(axis=1), x), index=x.index)
        # an owner's own change varies as much as the owners' changes do, whoever's pattern is used
        spread = np.where(use_own, diffs.std(axis=1, ddof=1), _tier_spread(own))
        sd = pd.Series(np.where(learnt, spread * np.sqrt(1 + 1 / n.clip(lower=1)) * _widen(n), np.nan),
                       index=x.index)
        basis = np.where(~learnt, Basis.AS_IS.value, np.where(use_own, Basis.HISTORY.value, Basis.TIER.value))
        return Projection(point, sd, pd.Series(basis, index=x.index), n.where(learnt, 0))

    def _rate(self, d: cfg.RateMetric, name: str) -> Projection:
        base = self.project(d.of)
        now = self.value(d.of, self.now)
        rate_now = self.value(name, self.now)
        # the rate at the end is the projected base over the whole quarter's units: today's rate times the
        # base's growth, times the units so far over the whole quarter's
        scale = (rate_now / now.where(now != 0)).reindex(base.point.index)
        if not d.per_head:  # a rate of nothing yet is still the base over the units
            scale = scale.fillna(1.0 / max(_units(d.per, self.now), 1e-9))
        units = _units(d.per, self.now) / max(_units(d.per, self.full), 1e-9)
        return Projection(base.point * scale * units, base.sd * scale * units, base.basis, base.quarters)

    def _growth(self, d: cfg.GrowthMetric) -> Projection:
        now = self.project(d.of)
        if d.compound_from:
            from transforms.calendar import parse_quarter

            base_q = parse_quarter(d.compound_from, self.engine.fiscal_start_month)
            n = self.quarter.index() - base_q.index()
            if n <= 0:
                raise MetricError(f"compound_from {d.compound_from!r} is not before {self.quarter.label}")
            base = self.value(d.of, base_q.period()).reindex(now.point.index)
            ratio = now.point / base.where(base != 0)
            point = np.sign(ratio) * np.abs(ratio) ** (1.0 / n) - 1.0
            sd = now.sd / base.where(base != 0) * (np.abs(ratio) ** (1.0 / n - 1.0)) / n
            return Projection(point, sd, now.basis, now.quarters)
        prev = self.value(d.of, self.quarter.shift(-1).period()).reindex(now.point.index)
        return Projection(now.point / prev.where(prev != 0) - 1.0, now.sd / prev.where(prev != 0).abs(),
                          now.basis, now.quarters)


def _units(per: str, period: Period) -> float:
    return {"day": period.days, "weekday": period.weekdays, "week": period.weeks, "month": period.months,
            "period": 1}[per]


def _either(own: pd.DataFrame, tier: pd.DataFrame, use_own: pd.Series) -> pd.DataFrame:
    """Per owner (row), its own earlier quarters or its tier's."""
    if own.shape[1] == 0:
        return own
    return own.where(np.repeat(use_own.to_numpy()[:, None], own.shape[1], axis=1), tier)


def _tier_sums(values: pd.Series, index: pd.MultiIndex) -> pd.Series:
    """Each owner's tier total, on ``index``."""
    totals = values.groupby(level=0).sum()
    return pd.Series(totals.reindex(index.get_level_values(0)).to_numpy(), index=index)


def _tier_medians(values: pd.Series) -> pd.Series:
    """Each owner's tier median of ``values``, on the same index."""
    return values.groupby(level=0).transform("median")


def _tier_spread(diffs: pd.DataFrame) -> np.ndarray:
    """Per owner, the spread of all its tier's owners' changes over all earlier quarters."""
    stacked = diffs.stack()
    spread = stacked.groupby(level=0).std(ddof=1)
    return spread.reindex(diffs.index.get_level_values(0)).to_numpy()


def _ratio(num: Projection, den: Projection) -> Projection:
    idx = num.point.index.union(den.point.index)
    n, d = num.point.reindex(idx), den.point.reindex(idx)
    point = n / d.where(d != 0)
    rel = np.sqrt((num.sd.reindex(idx) / n.where(n != 0)) ** 2 + (den.sd.reindex(idx) / d.where(d != 0)) ** 2)
    # a share of its own denominator (won leads of all leads) cannot be less sure than a binomial draw
    share = (point >= 0) & (point <= 1) & (n <= d)
    binomial = np.sqrt((point * (1 - point)).clip(lower=0) / d.where(d > 0))
    sd = pd.Series(np.where(share, np.minimum(point * rel.fillna(np.inf), binomial.fillna(np.inf)), point * rel),
                   index=idx).replace(np.inf, np.nan)
    basis = num.basis.reindex(idx).where(num.basis.reindex(idx) == den.basis.reindex(idx), Basis.RUN_RATE.value)
    quarters = np.minimum(num.quarters.reindex(idx).fillna(0), den.quarters.reindex(idx).fillna(0))
    return Projection(point, sd, basis, pd.Series(quarters, index=idx))


def probability(point: float, sd: float, target: float, direction: str) -> float | None:
    """Chance that the quarter ends at or beyond the target, in the KR's direction (None without a spread)."""
    if any(v is None or not math.isfinite(v) for v in (point, target)):
        return None
    if sd is None or not math.isfinite(sd):
        return None
    upward = direction in ("increase", "at_least")
    if sd <= 0:
        return float(point >= target if upward else point <= target)
    p_above = 0.5 * (1 + math.erf((point - target) / sd / math.sqrt(2)))
    return p_above if upward else 1 - p_above


FORECAST_COLUMNS = ("forecast", "forecast_low", "forecast_high", "forecast_p", "forecast_basis",
                    "forecast_quarters", "forecast_score")


def forecast_krs(req: ForecastRequest, attainment) -> pd.DataFrame:
    """Per KR row of ``req.krs``: the projected quarter value, its 80% interval, the chance of reaching the
    target, what it was learnt from, and the score the projected value would earn (``attainment`` grades it
    the way the KR is graded)."""
    k = req.krs
    out = pd.DataFrame(index=k.index, columns=list(FORECAST_COLUMNS), dtype=object)
    out["forecast_basis"] = Basis.NONE.value
    out["forecast_quarters"] = 0
    proj = Projector(req.engine, req.quarter, req.as_of, req.depth, req.covered)
    computed = k["source"] == "computed"
    for (metric, how), idx in k[computed].groupby(["metric", "quarterly_value"]).groups.items():
        keys = pd.MultiIndex.from_arrays([k.loc[idx, "tier"], k.loc[idx, "owner_id"].astype(str)])
        if how == "period":
            p = proj.project(metric)
            point, sd = p.point.reindex(keys), p.sd.reindex(keys)
            out.loc[idx, "forecast_basis"] = p.basis.reindex(keys).fillna(Basis.NONE.value).to_numpy()
            out.loc[idx, "forecast_quarters"] = p.quarters.reindex(keys).fillna(0).astype(int).to_numpy()
        elif how in ("mean_of_months", "last_month"):
            point = _by_months(proj, metric, how).reindex(keys)
            sd = pd.Series(np.nan, index=keys)
            out.loc[idx, "forecast_basis"] = Basis.RUN_RATE.value
        else:
            continue
        out.loc[idx, "forecast"] = point.to_numpy()
        out.loc[idx, "forecast_low"] = (point - Z80 * sd).to_numpy()
        out.loc[idx, "forecast_high"] = (point + Z80 * sd).to_numpy()
    for col in ("forecast", "forecast_low", "forecast_high"):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    sd = (out["forecast_high"] - out["forecast"]) / Z80
    out["forecast_p"] = [probability(f, s, t, d) for f, s, t, d in
                         zip(out["forecast"], sd, k["target"], k["direction"].fillna("increase"), strict=True)]
    out["forecast_p"] = pd.to_numeric(out["forecast_p"], errors="coerce")
    out["forecast_score"] = attainment(out["forecast"], k["baseline"], k["target"], k["direction"]).clip(0, 1)
    return out


def _by_months(proj: Projector, metric: str, how: str) -> pd.Series:
    """A KR graded on months: finished months as they are, the current month at its working-day run rate (for
    counts and sums), the months still to come at the current month's value."""
    months = proj.quarter.months()
    as_of_end = proj.now.end
    values, current = [], None
    cumulative = proj.engine.metrics[metric].definition.kind in CUMULATIVE
    for m in months:
        if m.end <= as_of_end:
            values.append(proj.value(metric, m))
        elif m.start < as_of_end:
            part = m.clipped(as_of_end - pd.Timedelta(days=1))
            v = proj.value(metric, part)
            current = v * (m.weekdays / max(part.weekdays, 1)) if cumulative else v
            values.append(current)
        else:
            values.append(current if current is not None else values[-1])
    frame = pd.concat(values, axis=1)
    return frame.iloc[:, -1] if how == "last_month" else frame.mean(axis=1, skipna=True)


class ConfidenceFlag(StrEnum):
    """Where the owner's own confidence and the numbers disagree."""

    HIGH_BUT_MISS = "high_but_miss"
    LOW_BUT_REACH = "low_but_reach"


CONFIDENT, DOUBTFUL = 0.7, 0.3
"""Confidence (0-1) at or above which an owner is confident, at or below which doubtful; the same cut-offs
judge the chance of reaching the target."""


def latest_confidence(krs: pd.DataFrame, latest: pd.DataFrame, scale: float) -> pd.Series:
    """The latest check-in confidence of each KR row on a 0-1 scale (``latest``: one check-in per KR and
    owner, as ``key_results.latest_checkins`` gives)."""
    if latest.empty or "confidence" not in latest.columns:
        return pd.Series(np.nan, index=krs.index)
    c = latest.set_index(["kr_id", "owner_id"])["confidence"].astype("float64") / scale
    keys = pd.MultiIndex.from_arrays([krs["kr_id"].astype(str), krs["owner_id"].astype(str)])
    return pd.Series(c.reindex(keys).to_numpy(), index=krs.index)


def confidence_flags(krs: pd.DataFrame, red_below: float, green_from: float) -> pd.Series:
    """high_but_miss / low_but_reach where the confidence and the outlook disagree; the outlook is the chance
    of reaching the target where there is a forecast, else the grade (green: reach, red: miss)."""
    conf = krs["confidence"]
    p = krs["forecast_p"] if "forecast_p" in krs.columns else pd.Series(np.nan, index=krs.index)
    score = krs["score"]
    miss = np.where(p.notna(), p <= DOUBTFUL, score < red_below)
    reach = np.where(p.notna(), p >= CONFIDENT, score >= green_from)
    out = np.where((conf >= CONFIDENT) & miss & score.notna(), ConfidenceFlag.HIGH_BUT_MISS.value,
                   np.where((conf <= DOUBTFUL) & reach & score.notna(), ConfidenceFlag.LOW_BUT_REACH.value, None))
    return pd.Series(out, index=krs.index, dtype=object)
