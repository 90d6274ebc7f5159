"""Augmented Dickey–Fuller tests for many series at once.

The same test as ``statsmodels.tsa.stattools.adfuller(x, regression="c",
autolag="AIC")`` — the regression
``Δy_t = α + γ·y_{t−1} + Σ_{i=1..p} δ_i·Δy_{t−i} + e_t`` on each series'
non-missing values, the lag ``p`` chosen by AIC over ``0..maxlag``
(``maxlag = ceil(12·(n/100)^{1/4})``, at most ``n//2 − 2``) on the common
sample of the largest lag, then refitted on its own sample; the statistic is
the t-ratio of γ and the p-value MacKinnon's (1994, 2010) approximation that
statsmodels uses (``mackinnonp``) — but batched: series of the same length
share one stacked QR decomposition, whose nested residual sums of squares
give every candidate lag's AIC at once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["adf_batch", "mackinnon_p"]


def mackinnon_p(stat: np.ndarray) -> np.ndarray:
    """MacKinnon's approximate p-values of ADF statistics (constant, one series), vectorised.

    Equal to ``statsmodels.tsa.adfvalues.mackinnonp(stat, regression="c", N=1)``
    element by element (same tables).
    """
    from scipy.special import ndtr
    from statsmodels.tsa import adfvalues as av

    stat = np.asarray(stat, dtype=float)
    small = np.polynomial.polynomial.polyval(stat, av._tau_smallps["c"][0])
    large = np.polynomial.polynomial.polyval(stat, av._tau_largeps["c"][0])
    p = ndtr(np.where(stat <= av._tau_stars["c"][0], small, large))
    p = np.where(stat > av._tau_maxs["c"][0], 1.0, p)
    p = np.where(stat < av._tau_mins["c"][0], 0.0, p)
    return np.where(np.isfinite(stat), p, np.nan)


def _design(x: np.ndarray, lags: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, X) of the ADF regression with ``lags`` lagged differences, last ``rows`` rows.

    x: (C, n) levels. X columns: const, y_{t-1}, Δy_{t-1}, ..., Δy_{t-lags}.
    """
    d = np.diff(x, axis=1)  # (C, n-1)
    m = d.shape[1]
    y = d[:, m - rows :]
    cols = [np.ones_like(y), x[:, m - rows : m]]
    for i in range(1, lags + 1):
        cols.append(d[:, m - rows - i : m - i])
    return y, np.stack(cols, axis=2)


def _adf_equal_length(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(statistics, used lags) for series of one length (rows of x)."""
    c, n = x.shape
    maxlag = int(np.ceil(12.0 * (n / 100.0) ** 0.25))
    maxlag = min(n // 2 - 2, maxlag)
    if maxlag < 0:
        return np.full(c, np.nan), np.full(c, -1)
    # AIC over the common sample of the largest lag: nested fits from one QR
    rows = n - 1 - maxlag
    y, xx = _design(x, maxlag, rows)
    q, r = np.linalg.qr(xx)
    z = np.einsum("cnk,cn->ck", q, y)
    ssr = (y**2).sum(axis=1)[:, None] - np.cumsum(z**2, axis=1)  # ssr[:, j]: first j+1 cols
    k = np.arange(1, xx.shape[2] + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        aic = rows * np.log(np.maximum(ssr, 0.0) / rows) + 2.0 * k
    aic = aic[:, 1:]  # at least const and y_{t-1}
    aic = np.where(np.isfinite(aic), aic, np.inf)
    best = np.argmin(aic, axis=1)  # first minimum: the smallest lag, as statsmodels
    stats = np.full(c, np.nan)
    for lag in np.unique(best):
        sel = best == lag
        rows_l = n - 1 - int(lag)
        y, xx = _design(x[sel], int(lag), rows_l)
        q, r = np.linalg.qr(xx)
        z = np.einsum("cnk,cn->ck", q, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.linalg.solve(r, z[:, :, None])[:, :, 0]
            resid = y - np.einsum("cnk,ck->cn", xx, coef)
            dof = rows_l - xx.shape[2]
            sigma2 = (resid**2).sum(axis=1) / dof
            rinv = np.linalg.inv(r)
            var = sigma2 * (rinv[:, 1, :] ** 2).sum(axis=1)  # [(R'R)^-1]_{11}
            stats[sel] = coef[:, 1] / np.sqrt(var)
    return stats, best


def adf_batch(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ADF statistic and p-value of every column of ``values`` (NaNs dropped per column).

    Columns with fewer than 10 values or no variation give NaN.
    """
    a = np.asarray(values, dtype=float)
    ok = np.isfinite(a)
    counts = ok.sum(axis=0)
    stat = np.full(a.shape[1], np.nan)
    for length in np.unique(counts):
        if length < 10:
            continue
        cols = np.nonzero(counts == length)[0]
        block = a[:, cols].T
        block = block[ok[:, cols].T].reshape(len(cols), int(length))
        varying = np.ptp(block, axis=1) > 0
        if not varying.any():
            continue
        s, _ = _adf_equal_length(block[varying])
        stat[cols[varying]] = s
    return stat, mackinnon_p(stat)
