"""Benchmark stratlab.correlate at lag 0 for every transform: 200 KPIs x 120 periods.

Baseline measured in the same run: pandas ``DataFrame.corr()`` on the same
frame (r only; stratlab also gives n, p, CI, q and, for ``transform='none'``,
the ADF stationarity check of every column, batched).

Target: every transform <= 3x the time of DataFrame.corr.
Run: ``.venv/bin/python benchmarks/bench_transforms.py`` (not part of the tests).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

import stratlab.stats as st
from stratlab.stats.correlation import warn_nonstationary

N_KPI, N_PERIODS = 200, 120
TRANSFORMS = ("diff", "pct_change", "detrend", "none")


def best_of(fn, repeat: int = 7) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def adf_loop(frame: pd.DataFrame) -> None:
    """The previous check: one statsmodels adfuller (AIC lag) per column."""
    from statsmodels.tsa.stattools import adfuller

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for col in frame.columns:
            adfuller(frame[col].dropna().to_numpy(), autolag="AIC")


def main() -> None:
    rng = np.random.default_rng(0)
    a = 100 + rng.normal(size=(N_PERIODS, N_KPI)).cumsum(axis=0)
    a[rng.random(a.shape) < 0.05] = np.nan  # gappy, as real KPI histories are
    index = pd.period_range("2016-01", periods=N_PERIODS, freq="M", name="period")
    wide = pd.DataFrame(a, index=index, columns=[f"kpi_{i:03d}" for i in range(N_KPI)])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tr in TRANSFORMS:  # warm-up (imports)
            st.correlate(wide, transform=tr)
        t_pandas = best_of(lambda: wide.corr())
        print(f"data: {N_KPI} KPIs x {N_PERIODS} periods, 5% gaps, lag 0")
        print(f"pandas DataFrame.corr (r only):          {t_pandas * 1e3:8.1f} ms")
        worst = 0.0
        for tr in TRANSFORMS:
            t = best_of(lambda tr=tr: st.correlate(wide, transform=tr))
            worst = max(worst, t / t_pandas)
            print(
                f"stratlab.correlate(transform={tr!r:13}): {t * 1e3:8.1f} ms"
                f"   ratio {t / t_pandas:5.2f}x"
            )
        t_adf = best_of(lambda: warn_nonstationary(wide, where="bench"))
        t_loop = best_of(lambda: adf_loop(wide), repeat=1)
    print(f"batched ADF check alone:                 {t_adf * 1e3:8.1f} ms")
    print(f"adfuller loop (the previous check):      {t_loop * 1e3:8.1f} ms")
    print(f"  worst ratio vs DataFrame.corr: {worst:5.2f}x   (target <= 3x)")


if __name__ == "__main__":
    main()
