"""Augmented Dickey–Fuller tests for many series at once.

The same test as ``statsmodels.tsa.stattools.adfuller(x, regression="c",
autolag="AIC")`` — the regression
``Δy_t = α + γ·y_{t−1} + Σ_{i=1..p} δ_i·Δy_{t−i} + e_t`` on each series'
non-missing values, the lag ``p`` chosen by AIC over ``0..maxlag``
(``maxlag = ceil(12·(n/100)^{1/4})``, at most ``n//2 − 2``) on the common
sample of the largest lag, then refitted on its own sample; the statistic is
the t-ratio of γ and the p-value MacKinnon's (1994, 2010) approximation that
statsmodels uses (``mackinnonp``) — but batched: every series' regression
rows are stacked (right-aligned, the rows outside its sample zeroed, which
leaves its fit unchanged) into one QR decomposition whose nested residual
sums of squares give every candidate lag's AIC at once; the refit is one
stacked QR per chosen lag.
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


def _design(
    xpad: np.ndarray, dpad: np.ndarray, rows: np.ndarray, lags: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stacked (y, X) of the ADF regression with ``lags`` lagged differences.

    ``xpad`` (C, L) holds each series right-aligned (zeros before it), ``dpad``
    its differences with ``width`` extra zeros on the left. Series c uses its
    last ``rows[c]`` differences; earlier rows are zero in y and X, which
    leaves its least-squares fit unchanged. X columns: const, y_{t-1},
    Δy_{t-1}, ..., Δy_{t-lags}.
    """
    length = xpad.shape[1]
    m = length - 1
    r_max = int(rows.max())
    pos = np.arange(m - r_max, m)  # positions in the differences
    mask = (pos[None, :] >= m - rows[:, None]).astype(float)  # (C, R)
    y = dpad[:, width + pos] * mask
    cols = [mask, xpad[:, pos] * mask]
    for i in range(1, lags + 1):
        cols.append(dpad[:, width + pos - i] * mask)
    return y, np.stack(cols, axis=2)


def _fit_t(y: np.ndarray, xx: np.ndarray, dof: np.ndarray) -> np.ndarray:
    """t-ratio of the second column's coefficient in each stacked regression."""
    q, r = np.linalg.qr(xx)
    z = np.einsum("cnk,cn->ck", q, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.linalg.solve(r, z[:, :, None])[:, :, 0]
        resid = y - np.einsum("cnk,ck->cn", xx, coef)
        sigma2 = (resid**2).sum(axis=1) / dof
        rinv = np.linalg.inv(r)
        var = sigma2 * (rinv[:, 1, :] ** 2).sum(axis=1)  # [(R'R)^-1]_{11}
        return np.asarray(coef[:, 1] / np.sqrt(var))


def _adf_padded(xpad: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """ADF statistics of right-aligned series of the given lengths (all >= 10)."""
    maxlag = np.ceil(12.0 * (lengths / 100.0) ** 0.25).astype(int)
    maxlag = np.minimum(lengths // 2 - 2, maxlag)
    width = int(maxlag.max()) + 1
    d = np.diff(xpad, axis=1)
    d[np.arange(d.shape[1])[None, :] < (xpad.shape[1] - lengths)[:, None]] = 0.0
    dpad = np.concatenate([np.zeros((d.shape[0], width)), d], axis=1)
    # AIC over the common sample of the largest lag: nested fits from one QR
    rows = lengths - 1 - maxlag
    y, xx = _design(xpad, dpad, rows, int(maxlag.max()), width)
    q, _ = np.linalg.qr(xx)
    z = np.einsum("cnk,cn->ck", q, y)
    ssr = (y**2).sum(axis=1)[:, None] - np.cumsum(z**2, axis=1)  # ssr[:, j]: first j+1 cols
    k = np.arange(1, xx.shape[2] + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        aic = rows[:, None] * np.log(np.maximum(ssr, 0.0) / rows[:, None]) + 2.0 * k
    aic = aic[:, 1:]  # at least const and y_{t-1}
    too_many = np.arange(aic.shape[1])[None, :] > maxlag[:, None]
    aic = np.where(np.isfinite(aic) & ~too_many, aic, np.inf)
    best = np.argmin(aic, axis=1)  # first minimum: the smallest lag, as statsmodels
    stats = np.full(len(lengths), np.nan)
    for lag in np.unique(best):
        sel = best == lag
        rows_l = lengths[sel] - 1 - int(lag)
        y, xx = _design(xpad[sel], dpad[sel], rows_l, int(lag), width)
        stats[sel] = _fit_t(y, xx, rows_l - (int(lag) + 2))
    return stats


def adf_batch(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ADF statistic and p-value of every column of ``values`` (NaNs dropped per column).

    Columns with fewer than 10 values or no variation give NaN.
    """
    a = np.asarray(values, dtype=float)
    ok = np.isfinite(a)
    lengths = ok.sum(axis=0)
    stat = np.full(a.shape[1], np.nan)
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(np.where(ok, a, np.nan), axis=0, initial=-np.inf) - np.nanmin(
            np.where(ok, a, np.nan), axis=0, initial=np.inf
        )
    use = np.nonzero((lengths >= 10) & (spread > 0))[0]
    if use.size:
        length = int(lengths[use].max())
        # right-align each column's non-missing values (stable sort keeps their order)
        sub = a[:, use]
        order = np.argsort(np.isfinite(sub), axis=0, kind="stable")
        packed = np.take_along_axis(sub, order, axis=0)[a.shape[0] - length :].T
        packed = np.where(np.isfinite(packed), packed, 0.0)
        stat[use] = _adf_padded(packed, lengths[use])
    return stat, mackinnon_p(stat)
