"""The batched ADF test equals statsmodels' adfuller (constant, AIC lag) on many series."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from stratlab.errors import StratlabWarning
from stratlab.stats._adf import adf_batch, mackinnon_p
from stratlab.stats.correlation import warn_nonstationary


def _series(seed: int = 0, count: int = 160, rows: int = 130) -> np.ndarray:
    """Random walks, white noise, AR(0.9) and trending walks of many lengths, with gaps."""
    rng = np.random.default_rng(seed)
    out = np.full((rows, count), np.nan)
    for i in range(count):
        n = int(rng.integers(10, rows + 1))
        e = rng.normal(size=n)
        kind = i % 4
        if kind == 0:
            x = np.cumsum(e)
        elif kind == 1:
            x = e
        elif kind == 2:
            x = np.zeros(n)
            for t in range(1, n):
                x[t] = 0.9 * x[t - 1] + e[t]
        else:
            x = 0.05 * np.arange(n) + 0.3 * np.cumsum(e)
        out[rows - n :, i] = x
    out[rng.random(out.shape) < 0.05] = np.nan
    return out


def test_equal_to_adfuller_on_many_series() -> None:
    from statsmodels.tsa.stattools import adfuller

    data = _series()
    stat, pval = adf_batch(data)
    ref_stat = np.full(data.shape[1], np.nan)
    ref_p = np.full(data.shape[1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(data.shape[1]):
            v = data[:, j][np.isfinite(data[:, j])]
            if len(v) >= 10:
                res = adfuller(v, autolag="AIC")
                ref_stat[j], ref_p[j] = res[0], res[1]
    assert np.array_equal(np.isfinite(stat), np.isfinite(ref_stat))
    np.testing.assert_allclose(stat, ref_stat, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(pval, ref_p, rtol=1e-8, atol=1e-12)
    ok = np.isfinite(ref_p)
    for alpha in (0.01, 0.05, 0.1):
        assert ((pval[ok] > alpha) == (ref_p[ok] > alpha)).all()
    # both decisions occur, so the comparison means something
    assert 0.2 < np.mean(ref_p[ok] > 0.05) < 0.8


def test_mackinnon_p_equals_statsmodels() -> None:
    from statsmodels.tsa.adfvalues import mackinnonp

    grid = np.linspace(-25, 5, 601)
    expected = np.array([mackinnonp(x, regression="c", N=1) for x in grid])
    np.testing.assert_allclose(mackinnon_p(grid), expected, rtol=1e-12, atol=1e-15)
    assert np.isnan(mackinnon_p(np.array([np.nan]))[0])


def test_short_and_constant_columns_are_skipped() -> None:
    rng = np.random.default_rng(1)
    data = np.column_stack([np.ones(40), np.r_[rng.normal(size=9), [np.nan] * 31]])
    stat, pval = adf_batch(data)
    assert np.isnan(stat).all() and np.isnan(pval).all()


def test_warning_names_the_trending_series() -> None:
    rng = np.random.default_rng(2)
    n = 120
    frame = pd.DataFrame(
        {"walk": np.cumsum(rng.normal(size=n)) + 0.3 * np.arange(n), "noise": rng.normal(size=n)}
    )
    with pytest.warns(
        StratlabWarning, match=r"1 series look non-stationary \(ADF p > 0.05\): walk"
    ):
        assert warn_nonstationary(frame, where="correlate") == ["walk"]
