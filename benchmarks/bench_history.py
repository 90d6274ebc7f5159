"""Benchmark stratlab.load_history on a long and a wide CSV: 240 months x 300 KPIs.

Baseline measured in the same run: plain pandas on the same file —
``read_csv`` then ``pivot`` (long) or ``read_csv`` with the period as a
``PeriodIndex`` (wide), with none of stratlab's checks (period parsing, located
errors, units, unknown ids, the cadence).  Printed: seconds and the ratio
stratlab / pandas.  Target: within 10x of bare pandas for both forms.
Run: ``.venv/bin/python benchmarks/bench_history.py`` (not part of the tests).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from stratlab.io import load_history

N_PERIODS, N_KPI = 240, 300


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(50, 10, (N_PERIODS, N_KPI)).round(2)
    values[rng.random(values.shape) < 0.05] = np.nan  # gaps, as real exports have
    periods = pd.period_range("2005-01", periods=N_PERIODS, freq="M").astype(str)
    wide = pd.DataFrame(values, columns=[f"kpi_{i:03d}" for i in range(N_KPI)])
    wide.insert(0, "period", periods)
    long = wide.melt(id_vars="period", var_name="measure", value_name="value").dropna()
    folder = Path(tempfile.mkdtemp())
    wide_csv, long_csv = folder / "wide.csv", folder / "long.csv"
    wide.to_csv(wide_csv, index=False)
    long.to_csv(long_csv, index=False)

    def pandas_wide() -> None:
        frame = pd.read_csv(wide_csv)
        frame.index = pd.PeriodIndex(frame.pop("period"), freq="M")

    def pandas_long() -> None:
        frame = pd.read_csv(long_csv)
        frame["period"] = pd.PeriodIndex(frame["period"], freq="M")
        frame.pivot(index="period", columns="measure", values="value")

    load_history(wide_csv)  # warm-up (imports)
    for name, ours, base in (
        ("wide", lambda: load_history(wide_csv), pandas_wide),
        ("long", lambda: load_history(long_csv), pandas_long),
    ):
        t_ours, t_base = best_of(ours), best_of(base)
        print(
            f"{name}: load_history {t_ours:.3f} s, bare pandas {t_base:.3f} s, "
            f"ratio {t_ours / t_base:.1f}x"
        )


if __name__ == "__main__":
    main()
