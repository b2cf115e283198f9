"""Backtest of the mid-quarter forecast: replay earlier quarters of a workspace at 1/3 and 2/3 of each
quarter, forecast every computed KR, and compare with the value the quarter really ended at, next to a
naive linear projection (a running total scaled by calendar days, every other KR taken as it stands).

    python benchmarks/backtest.py --workspace data/demo --quarters FY2017-18-Q2 FY2017-18-Q3 FY2017-18-Q4

Errors are absolute and expressed as a share of the KR's target (KRs have different units); coverage is the
share of final values inside the forecast's 80% interval. Prints one table.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.config_io import load_workspace  # noqa: E402
from flows.extract import read_all  # noqa: E402
from transforms.calendar import Quarter, parse_quarter  # noqa: E402
from transforms.report import compute_quarter  # noqa: E402
from transforms.validation import stage_workspace  # noqa: E402

FRACTIONS = (1 / 3, 2 / 3)
KEY = ["tier", "owner_id", "kr_id"]


@dataclass(frozen=True)
class Scores:
    """The backtest of one workspace at one point of the quarter."""

    point: str
    krs: int
    forecast_error: float
    naive_error: float
    coverage: float
    with_interval: int


def replay(ws, tables: dict, quarter: Quarter, fraction: float) -> pd.DataFrame:
    """Forecast and naive projection of every computed KR at ``fraction`` of ``quarter``, beside its final."""
    days = (quarter.end - quarter.start).days
    elapsed = max(1, round(days * fraction))
    as_of = quarter.start + pd.Timedelta(days=elapsed - 1)
    mid = compute_quarter(ws, tables, quarter, as_of, ws.locale, 0).krs
    final = compute_quarter(ws, tables, quarter, None, ws.locale, 0).krs.set_index(KEY)["actual"]
    mid = mid[(mid["source"] == "computed") & mid["forecast"].notna()].set_index(KEY)
    naive = np.where(mid["is_cumulative"].astype(bool), mid["actual"] * days / elapsed, mid["actual"])
    return pd.DataFrame({"forecast": mid["forecast"], "low": mid["forecast_low"], "high": mid["forecast_high"],
                         "naive": naive, "final": final.reindex(mid.index), "target": mid["target"]})


def scores(frames: list[pd.DataFrame], point: str) -> Scores:
    f = pd.concat(frames)
    f = f[f["final"].notna() & f["naive"].notna() & (f["target"].abs() > 0)]
    scale = f["target"].abs()
    interval = f[f["low"].notna()]
    inside = ((interval["final"] >= interval["low"]) & (interval["final"] <= interval["high"])).mean()
    return Scores(point, len(f), float(((f["forecast"] - f["final"]).abs() / scale).mean()),
                  float(((f["naive"] - f["final"]).abs() / scale).mean()), float(inside), len(interval))


def backtest(workspace: Path, quarters: list[str]) -> list[Scores]:
    ws, ws_dir = load_workspace(workspace)
    raw, _ = read_all(dict(ws.sources), ws_dir)
    tables, _ = stage_workspace(raw, ws)
    qs = [parse_quarter(q, ws.fiscal_year_start_month) for q in quarters]
    out = []
    for fraction, name in zip(FRACTIONS, ("1/3", "2/3"), strict=True):
        out.append(scores([replay(ws, tables, q, fraction) for q in qs], name))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--quarters", nargs="+", required=True)
    args = parser.parse_args()
    print(f"{args.workspace} ({', '.join(args.quarters)})")
    print(f"{'point':<6} {'KRs':>5} {'forecast error':>15} {'naive error':>12} {'ratio':>6} {'coverage 80%':>13}")
    for s in backtest(args.workspace, args.quarters):
        print(f"{s.point:<6} {s.krs:>5} {s.forecast_error:>15.3f} {s.naive_error:>12.3f} "
              f"{s.forecast_error / s.naive_error:>6.2f} {s.coverage:>8.0%} of {s.with_interval}")


if __name__ == "__main__":
    main()
