"""Benchmark stratlab.correlate: 200 KPIs x 120 periods x lags 0-4.

Baselines measured in the same run:

1. a Python loop of scipy.stats.pearsonr (+ confidence_interval) over the same
   (source, target, lag) pairs. The loop is timed on a random subset of the
   pairs and scaled linearly to the full count (printed as such);
2. at lag 0, pandas ``DataFrame.corr()`` (r only; stratlab also gives n, p, CI, q).

Targets: >= 100x faster than the loop; <= 3x the time of DataFrame.corr.
Run: ``.venv/bin/python benchmarks/bench_correlate.py`` (not part of the tests).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

import stratlab.stats as st

N_KPI, N_PERIODS, MAX_LAG, LOOP_SUBSET = 200, 120, 4, 2000


def best_of(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(N_PERIODS, N_KPI)).cumsum(axis=0)
    a[rng.random(a.shape) < 0.05] = np.nan  # gappy, as real KPI histories are
    index = pd.period_range("1995Q1", periods=N_PERIODS, freq="Q", name="period")
    wide = pd.DataFrame(a, index=index, columns=[f"kpi_{i:03d}" for i in range(N_KPI)])

    st.correlate(wide, max_lag=MAX_LAG)  # warm-up (imports)
    t_ours = best_of(lambda: st.correlate(wide, max_lag=MAX_LAG), repeat=3)
    res = st.correlate(wide, max_lag=MAX_LAG)
    n_pairs = len(res)

    diffs = wide.diff()
    idx = rng.choice(n_pairs, size=min(LOOP_SUBSET, n_pairs), replace=False)
    sub = res.iloc[idx]
    shifted = {k: diffs.shift(k) for k in range(MAX_LAG + 1)}

    def loop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s, t, k in zip(sub["source"], sub["target"], sub["lag"], strict=True):
                x = shifted[k][s].to_numpy()
                y = diffs[t].to_numpy()
                m = np.isfinite(x) & np.isfinite(y)
                r = stats.pearsonr(x[m], y[m])
                r.confidence_interval(0.95)

    t_loop_sub = best_of(loop, repeat=1)
    t_loop = t_loop_sub * n_pairs / len(sub)

    t_ours0 = best_of(lambda: st.correlate(wide, max_lag=0), repeat=5)
    t_pandas = best_of(lambda: diffs.corr(), repeat=5)

    print(f"data: {N_KPI} KPIs x {N_PERIODS} periods, 5% gaps, lags 0-{MAX_LAG}: {n_pairs} rows")
    print(f"stratlab.correlate (lags 0-{MAX_LAG}):           {t_ours * 1e3:9.1f} ms")
    print(
        f"scipy pearsonr+CI loop: {len(sub)} pairs timed in {t_loop_sub:.2f} s, "
        f"scaled to {n_pairs} pairs: {t_loop:9.2f} s"
    )
    print(f"  speed-up vs scipy loop: {t_loop / t_ours:8.0f}x   (target >= 100x)")
    print(f"stratlab.correlate (lag 0 only):             {t_ours0 * 1e3:9.1f} ms")
    print(f"pandas DataFrame.corr (lag 0, r only):       {t_pandas * 1e3:9.1f} ms")
    print(f"  time ratio vs DataFrame.corr: {t_ours0 / t_pandas:6.2f}x   (target <= 3x)")


if __name__ == "__main__":
    main()
