"""The forecast backtest (benchmarks/backtest.py) on the demo at a small size: one quarter replayed at 2/3.

Its naive projection and final values are checked against the raw deals export for one KR, worked out in
plain pandas; the summary's errors are recomputed from its rows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from benchmarks.backtest import replay, scores
from flows.config_io import load_workspace
from flows.extract import read_all
from transforms.calendar import parse_quarter
from transforms.validation import stage_workspace

DEMO = Path(__file__).parent.parent / "data" / "demo"


@pytest.fixture(scope="module")
def replayed() -> pd.DataFrame:
    ws, ws_dir = load_workspace(DEMO)
    raw, _ = read_all(dict(ws.sources), ws_dir)
    tables, _ = stage_workspace(raw, ws)
    return replay(ws, tables, parse_quarter("FY2017-18-Q4", ws.fiscal_year_start_month), 2 / 3)


def test_naive_and_final_from_the_raw_rows(replayed: pd.DataFrame) -> None:
    """A salesperson's lead conversions per working day (p1_kr3): rows of the stage history that move a lead
    to Won in the period, over the period's weekdays (the naive projection takes a rate as it stands)."""
    stages = pd.read_csv(DEMO / "exports" / "lead_stage_history.csv", dtype=str)
    person = replayed.xs("person", level="tier")
    owner = person.xs("p1_kr3", level="kr_id").index[0]
    row = person.loc[(owner, "p1_kr3")]
    won_at = pd.to_datetime(stages.loc[(stages["Owner"] == owner) & (stages["Stage"] == "Won"), "Changed Date"])
    start, end = pd.Timestamp("2018-01-01"), pd.Timestamp("2018-04-01")
    upto = start + pd.Timedelta(days=round((end - start).days * 2 / 3))
    final = ((won_at >= start) & (won_at < end)).sum() / len(pd.bdate_range(start, end - pd.Timedelta(days=1)))
    so_far = ((won_at >= start) & (won_at < upto)).sum() / len(pd.bdate_range(start, upto - pd.Timedelta(days=1)))
    assert final > 0
    assert row["final"] == pytest.approx(final, rel=1e-9)
    assert row["naive"] == pytest.approx(so_far, rel=1e-9)


def test_summary_is_the_mean_of_the_rows(replayed: pd.DataFrame) -> None:
    s = scores([replayed], "2/3")
    f = replayed[replayed["final"].notna() & replayed["naive"].notna() & (replayed["target"].abs() > 0)]
    assert s.krs == len(f) > 500
    assert s.forecast_error == pytest.approx(((f["forecast"] - f["final"]).abs() / f["target"].abs()).mean())
    assert s.naive_error == pytest.approx(((f["naive"] - f["final"]).abs() / f["target"].abs()).mean())
    inside = f[f["low"].notna()]
    assert s.coverage == pytest.approx(((inside["final"] >= inside["low"]) & (inside["final"] <= inside["high"]))
                                       .mean())
    assert s.forecast_error < s.naive_error
