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
leaves its fit unchanged) and one Cholesky factor of each normal-equations
matrix gives the nested residual sums of squares of every candidate lag's
AIC at once; the refit is one stacked solve per chosen lag.
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
    lo = m - r_max  # pos = lo .. m-1, contiguous: every column is a slice
    xx = np.empty((xpad.shape[0], lags + 2, r_max))
    xx[:, 0] = mask
    np.multiply(xpad[:, lo:m], mask, out=xx[:, 1])
    for i in range(1, lags + 1):  # Δy_{t-i} is dpad[width + pos - i]
        np.multiply(dpad[:, width + lo - i : width + m - i], mask, out=xx[:, 1 + i])
    return dpad[:, width + lo : width + m] * mask, xx.transpose(0, 2, 1)


def _centre_level(xx: np.ndarray, rows: np.ndarray) -> None:
    """Centre the level column (1) over each regression's own rows, in place.

    With a constant in the regression this changes neither γ, its t-ratio nor
    the residuals; it keeps the normal equations well conditioned.
    """
    mask = xx[:, :, 0]
    mean = xx[:, :, 1].sum(axis=1) / rows
    xx[:, :, 1] = (xx[:, :, 1] - mean[:, None]) * mask


def _normal(y: np.ndarray, xx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X'X, X'y, y'y) of stacked regressions."""
    xt = xx.transpose(0, 2, 1)
    return xt @ xx, (xt @ y[:, :, None])[:, :, 0], (y * y).sum(axis=1)


def _masked_gram(
    y: np.ndarray, xx: np.ndarray, rows: np.ndarray, used: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal equations of stacked regressions that use their first ``used[c]`` columns.

    The other columns are decoupled (identity rows and columns, zero right-hand
    side), so one solve serves regressions of different sizes and the nested
    fits of the used columns are unchanged.
    """
    _centre_level(xx, rows)
    gram, xty, yy = _normal(y, xx)
    n_cols = xx.shape[2]
    unused = np.arange(n_cols)[None, :] >= used[:, None]
    gram[unused[:, :, None] | unused[:, None, :]] = 0.0
    gram[:, np.arange(n_cols), np.arange(n_cols)] += unused
    xty[unused] = 0.0
    return gram, xty, yy


def _adf_padded(xpad: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """ADF statistics of right-aligned series of the given lengths (all >= 10)."""
    maxlag = np.ceil(12.0 * (lengths / 100.0) ** 0.25).astype(int)
    maxlag = np.minimum(lengths // 2 - 2, maxlag)
    width = int(maxlag.max()) + 1
    d = np.diff(xpad, axis=1)
    d[np.arange(d.shape[1])[None, :] < (xpad.shape[1] - lengths)[:, None]] = 0.0
    dpad = np.concatenate([np.zeros((d.shape[0], width)), d], axis=1)
    # AIC over the common sample of the largest lag: every nested fit from one
    # Cholesky factor (the residual sum of squares of the first j columns is
    # y'y minus the squared first j entries of L^-1 X'y)
    rows = lengths - 1 - maxlag
    y, xx = _design(xpad, dpad, rows, int(maxlag.max()), width)
    gram, xty, yy = _masked_gram(y, xx, rows, maxlag + 2)
    chol = np.linalg.cholesky(gram)
    z = np.linalg.solve(chol, xty[:, :, None])[:, :, 0]
    ssr = yy[:, None] - np.cumsum(z**2, axis=1)  # ssr[:, j]: first j+1 columns
    k = np.arange(1, xx.shape[2] + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        aic = rows[:, None] * np.log(np.maximum(ssr, 0.0) / rows[:, None]) + 2.0 * k
    aic = aic[:, 1:]  # at least const and y_{t-1}
    beyond = np.arange(aic.shape[1])[None, :] > maxlag[:, None]
    aic = np.where(np.isfinite(aic) & ~beyond, aic, np.inf)
    best = np.argmin(aic, axis=1)  # first minimum: the smallest lag, as statsmodels
    # refit every series at its chosen lag on its own (longer) sample, in one solve
    rows = lengths - 1 - best
    y, xx = _design(xpad, dpad, rows, int(best.max()), width)
    gram, xty, yy = _masked_gram(y, xx, rows, best + 2)
    e1 = np.zeros_like(xty)
    e1[:, 1] = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        sol = np.linalg.solve(gram, np.stack([xty, e1], axis=2))
        coef, inv11 = sol[:, :, 0], sol[:, 1, 1]
        ssr = yy - (coef * xty).sum(axis=1)
        dof = rows - (best + 2)
        return np.asarray(coef[:, 1] / np.sqrt(ssr / dof * inv11))


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
        packed = np.ascontiguousarray(np.where(np.isfinite(packed), packed, 0.0))
        stat[use] = _adf_padded(packed, lengths[use])
    return stat, mackinnon_p(stat)
