"""Grading: attainment, 0.0-1.0 score, pace and status band for each KR.

score = (actual - baseline) / (target - baseline), direction-aware, clipped to [0, 1]; the unclipped
value is kept as attainment so over-achievement stays visible. No data stays no data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NO_DATA = "no_data"


def attainment(actual: pd.Series, baseline: pd.Series, target: pd.Series, direction: pd.Series) -> pd.Series:
    """Raw progress from baseline to target (1.0 = target reached), by direction."""
    a = actual.astype("float64")
    t = target.astype("float64")
    b = baseline.astype("float64")
    lower_better = direction.isin(["decrease", "at_most"])
    # A missing baseline means "from zero" when growing, and "from twice the target" is not knowable:
    # for lower-is-better without a baseline use target / actual.
    b_inc = b.fillna(0.0)
    span = t - b_inc
    linear = (a - b_inc) / span.where(span != 0)
    ratio_lower = t / a.where(a > 0)
    ratio_lower = ratio_lower.where(~((a <= 0) & a.notna()), np.inf)
    linear_lower = linear.where(b.notna(), ratio_lower)
    out = linear.where(~lower_better, linear_lower)
    # baseline == target: all or nothing
    met = np.where(lower_better, a <= t, a >= t)
    degenerate = span == 0
    out = out.where(~degenerate, pd.Series(np.where(met, 1.0, 0.0), index=a.index))
    # "stay at least/at most": meeting the threshold is full marks even from a worse baseline; missing it
    # from a baseline that was already on the good side is a lost threshold, graded 0 (no linear scale
    # exists between a good baseline and a threshold that was broken).
    threshold = direction.isin(["at_least", "at_most"])
    met_s = pd.Series(met, index=a.index)
    out = out.where(~(threshold & met_s), out.clip(lower=1.0).fillna(1.0))
    good_baseline = np.where(lower_better, b <= t, b >= t) & b.notna().to_numpy()
    fallback = threshold & ~met_s & pd.Series(good_baseline, index=a.index)
    out = out.where(~fallback, 0.0)
    return out.where(a.notna())


def score(att: pd.Series) -> pd.Series:
    return att.clip(lower=0.0, upper=1.0)


def status(progress: pd.Series, red_below: float, green_from: float) -> pd.Series:
    """Band a progress value; NaN is 'no_data'."""
    s = pd.Series(NO_DATA, index=progress.index, dtype="object")
    s[progress < red_below] = "red"
    s[(progress >= red_below) & (progress < green_from)] = "yellow"
    s[progress >= green_from] = "green"
    return s


def pace(scores: pd.Series, is_cumulative: pd.Series, elapsed: float | None) -> tuple[pd.Series, pd.Series]:
    """Expected score at this point of the quarter and the progress judged against it.

    Cumulative KRs (counts, sums) are expected to grow linearly with elapsed time; rates and ratios
    are judged as they stand.
    """
    if elapsed is None or elapsed >= 1.0:
        return pd.Series(np.nan, index=scores.index), scores
    expected = pd.Series(np.where(is_cumulative, elapsed, np.nan), index=scores.index)
    progress = (scores / expected).clip(upper=1.0).where(is_cumulative, scores)
    return expected, progress


def grade(
    krs: pd.DataFrame, red_below: float, green_from: float, elapsed: float | None = None
) -> pd.DataFrame:
    """Add attainment, score, expected_score, progress and status columns to a KR frame."""
    out = krs.copy()
    att = attainment(out["actual"], out["baseline"], out["target"], out["direction"])
    on_target = out["quarterly_value"] == "months_on_target"
    att = att.where(~on_target, out["actual"])
    out["attainment"] = att
    out["score"] = score(att)
    cumulative = out.get("is_cumulative", pd.Series(False, index=out.index)).fillna(False).astype(bool)
    out["expected_score"], out["progress"] = pace(out["score"], cumulative, elapsed)
    out["status"] = status(out["progress"], red_below, green_from)
    return out
