"""Pairwise, lead–lag KPI correlations with intervals, p-values and BH q-values.

Everything is computed with matrix products over masks (one pass per lag, no
Python loop over pairs), on pairwise-complete observations, and agrees with
``scipy.stats`` on the same inputs:

* Pearson: r and the two-sided p-value of :func:`scipy.stats.pearsonr`, and the
  95% interval of ``PearsonRResult.confidence_interval()`` (Fisher z,
  standard error ``1/sqrt(n-3)``; ``(-1, 1)`` when ``n <= 3``).
* Spearman: ranks are taken on each pair's own complete observations (as
  ``scipy.stats.spearmanr(x, y, nan_policy='omit')`` on that pair), p-value from
  the t distribution with ``n-2`` degrees of freedom (as scipy). scipy gives no
  interval; we use Fisher z with standard error ``1/sqrt(n-3)``.
* Kendall: tau-b and the p-value of :func:`scipy.stats.kendalltau` (exact
  null distribution when there are no ties and ``n <= 33``, else the
  tie-corrected normal approximation). Interval: Fisher z with the
  Fieller–Hartley–Pearson (1957) standard error ``sqrt(0.437/(n-4))``.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from stratlab._util import check_int
from stratlab.errors import InputError, Problem, StratlabWarning
from stratlab.limits import Limits
from stratlab.stats._common import (
    METHODS,
    TRANSFORMS,
    as_wide,
    bh_qvalues,
    check_choice,
    check_ids,
    fisher_ci,
    transform_frame,
)

if TYPE_CHECKING:
    from ..typing import HistoryLike

__all__ = ["CORRELATION_COLUMNS", "correlate", "correlate_pairs", "prepare"]

CORRELATION_COLUMNS = [
    "source",
    "target",
    "lag",
    "n",
    "r",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "reason",
]

DEFAULT_MIN_PERIODS = 4
# element budget for the (sources x periods x targets) blocks of the rank methods
_BLOCK = 4_000_000


def prepare(
    history: HistoryLike,
    *,
    transform: str,
    columns: Sequence[str] | None,
    where: str,
) -> pd.DataFrame:
    """Wide history → selected columns → transformed (on the full period grid)."""
    transform = check_choice(transform, TRANSFORMS, "transform", where)
    return transform_frame(_select(history, columns, where), transform)


def correlate(
    history: HistoryLike,
    *,
    method: str = "pearson",
    transform: str = "diff",
    max_lag: int = 0,
    min_periods: int | None = None,
    columns: Sequence[str] | None = None,
    limits: Limits | None = None,
) -> pd.DataFrame:
    """Correlate every pair of KPIs, at lags 0..``max_lag``, with significance.

    Parameters
    ----------
    history : DataFrame or path
        Wide DataFrame (index = periods, one column per KPI id), or anything
        :func:`stratlab.io.load_history` reads (a path, a long DataFrame
        ``period, measure, value``). Missing values are gaps.
    method : {'pearson', 'spearman', 'kendall'}
    transform : {'diff', 'pct_change', 'detrend', 'none'}
        Applied to each series first. Default ``diff`` (period-over-period
        change): levels of trending KPIs correlate spuriously. With ``none`` a
        :class:`~stratlab.errors.StratlabWarning` names the series an ADF test
        (statsmodels ``adfuller``, p > 0.05) cannot call stationary.
    max_lag : int
        Largest lead tested. Row ``(s, t, k)`` is corr(s[t − k], t[t]): the
        source leads by ``k`` periods.  A KPI reported less often than the
        history (a quarterly KPI in a monthly file: one value every third
        month) is read at its own frequency: each pair with it is correlated on
        the history brought to that frequency (the last value reported in each
        quarter), so ``n`` counts the quarters both have and ``k`` counts
        quarters. Lag 0 lists each pair once (source before
        target in column order); lags ≥ 1 list both directions; no self pairs.
    min_periods : int, optional
        Fewest pairwise-complete observations for a result (default 4, the
        smallest n with a finite Pearson/Spearman Fisher-z interval; at least 3).
    columns : list of str, optional
        Restrict to these KPI ids (in this order).
    limits : Limits, optional
        ``max_lag`` may not exceed the usable periods, and the table may not
        exceed ``limits.correlation_rows`` (checked before the work).

    Returns
    -------
    DataFrame
        One row per (source, target, lag), columns in this order:

        ``source``, ``target`` (str), ``lag`` (int), ``n`` (int, pairwise-complete
        observations), ``r`` (coefficient), ``ci_low``, ``ci_high`` (95%
        interval), ``p_value`` (two-sided), ``q_value`` (Benjamini–Hochberg over
        every non-NaN row returned, all lags), ``reason`` (why r is NaN, e.g.
        ``constant series: x`` or ``n=2 < min_periods=4``; missing otherwise).

    Raises
    ------
    InputError
        An unknown option value or column id.
    HistoryError
        A non-numeric column or duplicate periods.
    """
    where = "correlate"
    method = check_choice(method, METHODS, "method", where)
    lag_max = check_int(max_lag, "max_lag", where, minimum=0) or 0
    minp = (
        check_int(min_periods, "min_periods", where, minimum=3, allow_none=True)
        or DEFAULT_MIN_PERIODS
    )
    transform = check_choice(transform, TRANSFORMS, "transform", where)
    wide = _select(history, columns, where)
    data = transform_frame(wide, transform)
    check_lag_work(data, lag_max, limits=limits)
    if transform == "none":
        warn_nonstationary(data, where=where)
    result = correlate_transformed(data, method=method, max_lag=lag_max, min_periods=minp)
    return _at_own_frequencies(result, wide, transform, method, lag_max, minp)


def _at_own_frequencies(
    result: pd.DataFrame, wide: pd.DataFrame, transform: str, method: str, max_lag: int, minp: int
) -> pd.DataFrame:
    """Rows of pairs with a KPI reported less often than the history, recomputed at its frequency.

    A quarterly KPI inside a monthly history has no month-over-month change; a
    pair with it is correlated on the history brought to quarters (the last
    value reported in each), so ``n`` counts the quarters both have.  q-values
    are then recomputed over every row.
    """
    from stratlab.periods import aggregate_frame, column_step, freq_code, own_freq

    if not isinstance(wide.index, pd.PeriodIndex) or len(wide) == 0 or len(result) == 0:
        return result
    base = freq_code(wide.index.freqstr)
    col_freq = {
        str(c): own_freq(base, column_step(wide[c].to_numpy(dtype=float), base))
        for c in wide.columns
    }
    coarse = sorted({f for f in col_freq.values() if f != base}, key="MQY".index)
    if not coarse:
        return result
    rank = {"M": 1, "Q": 2, "Y": 3}
    pair_freq = np.array(
        [
            max(col_freq[s], col_freq[t], key=lambda f: rank.get(f, 0))
            for s, t in zip(result["source"], result["target"], strict=True)
        ],
        dtype=object,
    )
    out = result.copy()
    key = ["source", "target", "lag"]
    for f in coarse:
        rows = np.nonzero(pair_freq == f)[0]
        if not rows.size:
            continue
        agg = aggregate_frame(wide, f)
        res_f = correlate_transformed(
            transform_frame(agg, transform), method=method, max_lag=max_lag, min_periods=minp
        ).set_index(key)
        picked = res_f.reindex(pd.MultiIndex.from_frame(out.iloc[rows][key]))
        for col in CORRELATION_COLUMNS[3:]:
            values = picked[col].to_numpy()
            if col == "n":
                values = np.nan_to_num(values.astype(float)).astype(int)
            out.iloc[rows, out.columns.get_loc(col)] = values
    out["q_value"] = bh_qvalues(out["p_value"].to_numpy(dtype=float))
    out["n"] = out["n"].astype(int)
    return out


def _select(history: HistoryLike, columns: Sequence[str] | None, where: str) -> pd.DataFrame:
    wide = as_wide(history, where=where)
    if columns is not None:
        if isinstance(columns, str):
            columns = [columns]
        cols = check_ids(list(columns), list(wide.columns), "column", where)
        wide = wide[cols]
    return wide


def check_lag_work(data: pd.DataFrame, max_lag: int, *, limits: Limits | None = None) -> None:
    """Refuse a lag beyond the usable periods, or a table over ``limits.correlation_rows``.

    Checked before any correlation is computed: the cost grows with
    (lags + 1) × columns², and a lag longer than the history has no pairs.
    """
    from stratlab.limits import check

    usable = len(data)
    if max_lag > usable:
        raise InputError(
            Problem(
                f"max_lag={max_lag:,} is longer than the history: it has {usable:,} usable "
                "periods (after the transform).",
                fix=f"use a max_lag of at most {usable:,} (a few periods is usual).",
            )
        )
    p = data.shape[1]
    rows = p * (p - 1) // 2 + max_lag * p * (p - 1)
    check(
        "correlation_rows",
        "the number of rows of the correlation table (pairs × lags)",
        rows,
        limits,
        fix="pass fewer columns or a smaller max_lag.",
    )


def correlate_transformed(
    data: pd.DataFrame, *, method: str, max_lag: int, min_periods: int
) -> pd.DataFrame:
    """:func:`correlate` on already-transformed, validated data (same rows and columns)."""
    lag_max, minp = max_lag, min_periods
    names = [str(c) for c in data.columns]
    a = _trim(data.to_numpy(dtype=float))
    p = a.shape[1]

    parts: list[dict[str, np.ndarray]] = []
    for k in range(lag_max + 1):
        if p < 2:
            break
        if k >= a.shape[0]:
            x = np.full((0, p), np.nan)
            y = np.full((0, p), np.nan)
        else:
            x, y = a[: a.shape[0] - k], a[k:]
        if k == 0:
            src, tgt = np.triu_indices(p, 1)
        else:
            src, tgt = np.nonzero(~np.eye(p, dtype=bool))
        res = _pair_stats(x, y, method)
        parts.append(
            {
                "src": src,
                "tgt": tgt,
                "lag": np.full(src.shape, k),
                **{key: val[src, tgt] for key, val in res.items()},
            }
        )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES[c]) for c in CORRELATION_COLUMNS})
    cat = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    return _assemble(cat, names, method, minp)


def correlate_pairs(
    data: pd.DataFrame,
    triples: Sequence[tuple[str, str, int]],
    *,
    method: str = "pearson",
    min_periods: int = DEFAULT_MIN_PERIODS,
) -> pd.DataFrame:
    """Correlations for chosen ``(source, target, lag)`` triples of already-transformed data.

    Same statistics and columns as :func:`correlate` (rows in the order given;
    q-values over these rows only). Used by the link checks, which test only
    the hypothesised pairs.
    """
    names = [str(c) for c in data.columns]
    pos = {c: i for i, c in enumerate(names)}
    a = data.to_numpy(dtype=float)
    order = np.arange(len(triples))
    parts: list[dict[str, np.ndarray]] = []
    lags = np.asarray([k for _, _, k in triples], dtype=int)
    for k in np.unique(lags):
        sel = order[lags == k]
        srcs = sorted({pos[triples[i][0]] for i in sel})
        tgts = sorted({pos[triples[i][1]] for i in sel})
        if k >= a.shape[0]:
            x = np.full((0, len(srcs)), np.nan)
            y = np.full((0, len(tgts)), np.nan)
        else:
            x, y = a[: a.shape[0] - k, srcs], a[k:, tgts]
        res = _pair_stats(x, y, method)
        si = np.searchsorted(srcs, [pos[triples[i][0]] for i in sel])
        ti = np.searchsorted(tgts, [pos[triples[i][1]] for i in sel])
        parts.append(
            {
                "row": sel,
                "src": np.asarray(srcs)[si],
                "tgt": np.asarray(tgts)[ti],
                "lag": np.full(sel.shape, k),
                **{key: val[si, ti] for key, val in res.items()},
            }
        )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES[c]) for c in CORRELATION_COLUMNS})
    cat = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    back = np.argsort(cat.pop("row"))
    cat = {key: val[back] for key, val in cat.items()}
    return _assemble(cat, names, method, min_periods)


_DTYPES = {
    "source": object,
    "target": object,
    "lag": int,
    "n": int,
    "r": float,
    "ci_low": float,
    "ci_high": float,
    "p_value": float,
    "q_value": float,
    "reason": object,
}


def _trim(a: np.ndarray) -> np.ndarray:
    """Drop leading and trailing all-missing rows (keeps relative positions)."""
    rows = np.isfinite(a).any(axis=1)
    if not rows.any():
        return a[:0]
    idx = np.nonzero(rows)[0]
    return a[idx[0] : idx[-1] + 1]


def _assemble(cat: dict[str, np.ndarray], names: list[str], method: str, minp: int) -> pd.DataFrame:
    from scipy import special

    n = cat["n"].astype(float)
    r = cat["r"].copy()
    const_s, const_t = cat["const_x"], cat["const_y"]
    short = n < minp
    bad = short | const_s | const_t
    r[bad] = np.nan
    r = np.clip(r, -1.0, 1.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "pearson":
            ab = n / 2.0 - 1.0
            pval = 2.0 * special.betainc(ab, ab, (1.0 - np.abs(r)) / 2.0)
            se = np.sqrt(1.0 / (n - 3.0))
            small = n <= 3
        elif method == "spearman":
            dof = n - 2.0
            t = r * np.sqrt(np.clip(dof / ((r + 1.0) * (1.0 - r)), 0.0, None))
            pval = 2.0 * special.stdtr(dof, -np.abs(t))
            se = np.sqrt(1.0 / (n - 3.0))
            small = n <= 3
        else:
            pval = cat["p_kendall"].copy()
            se = np.sqrt(0.437 / (n - 4.0))
            small = n <= 4
    pval = np.clip(pval, 0.0, 1.0)
    pval[bad] = np.nan
    lo, hi = fisher_ci(r, n, se)
    lo = np.where(small & ~bad, -1.0, lo)
    hi = np.where(small & ~bad, 1.0, hi)
    lo[bad] = np.nan
    hi[bad] = np.nan

    names_arr = np.asarray(names, dtype=object)
    src_names = names_arr[cat["src"]]
    tgt_names = names_arr[cat["tgt"]]
    reason = np.full(r.shape, None, dtype=object)
    ib = np.nonzero(bad)[0]  # messages for the NaN rows only
    if ib.size:
        n_txt = np.asarray(cat["n"][ib].astype(int).astype(str), dtype=object)
        reason[ib] = np.select(
            [short[ib], const_s[ib] & const_t[ib], const_s[ib]],
            [
                "n=" + n_txt + f" < min_periods={minp}",
                "constant series: " + src_names[ib] + ", " + tgt_names[ib],
                "constant series: " + src_names[ib],
            ],
            default="constant series: " + tgt_names[ib],
        )
    return pd.DataFrame(
        {
            "source": src_names,
            "target": tgt_names,
            "lag": cat["lag"].astype(int),
            "n": cat["n"].astype(int),
            "r": r,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": pval,
            "q_value": bh_qvalues(pval),
            "reason": reason,
        },
        columns=CORRELATION_COLUMNS,
    )


def _pair_stats(x: np.ndarray, y: np.ndarray, method: str) -> dict[str, np.ndarray]:
    """All-pairs statistics between the columns of x (sources) and y (targets).

    Row i of x is paired with row i of y; missing values are dropped pairwise.
    Returns (p, q) arrays ``n``, ``r``, ``const_x``, ``const_y`` (+ ``p_kendall``).
    """
    if method == "pearson":
        return _pearson(x, y)
    if method == "spearman":
        mx, my = np.isfinite(x), np.isfinite(y)
        if mx.all() and my.all():
            from scipy.stats import rankdata

            return _pearson(rankdata(x, axis=0), rankdata(y, axis=0))
        return _spearman_pairwise(x, y)
    return _kendall(x, y)


def _pearson(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    mx, my = np.isfinite(x), np.isfinite(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # centre each column on its own mean first: avoids cancellation in the
        # one-pass sums below (r does not depend on the shift)
        xc = x - np.nan_to_num(np.nanmean(x, axis=0)) if x.size else x
        yc = y - np.nan_to_num(np.nanmean(y, axis=0)) if y.size else y
    fx, fy = mx.astype(float), my.astype(float)
    x0, y0 = np.where(mx, xc, 0.0), np.where(my, yc, 0.0)
    n = fx.T @ fy
    sx, sy = x0.T @ fy, fx.T @ y0
    sxx, syy = (x0 * x0).T @ fy, fx.T @ (y0 * y0)
    sxy = x0.T @ y0
    with np.errstate(divide="ignore", invalid="ignore"):
        vx = sxx - sx * sx / n
        vy = syy - sy * sy / n
        cov = sxy - sx * sy / n
        const_x = ~(vx > 1e-12 * sxx) | (n < 1)
        const_y = ~(vy > 1e-12 * syy) | (n < 1)
        r = cov / np.sqrt(vx * vy)
    return {"n": n, "r": r, "const_x": const_x, "const_y": const_y}


def _blocks(p: int, per_source: int) -> list[slice]:
    size = max(1, _BLOCK // max(per_source, 1))
    return [slice(i, min(i + size, p)) for i in range(0, p, size)]


def _spearman_pairwise(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Spearman with ranks recomputed on each pair's complete observations.

    The average rank of x_i among the x_j kept for pair (s, t) is
    ``sum_j ([x_j < x_i] + ½[x_j = x_i]) · keep_j + ½``: a matrix product of a
    per-source comparison tensor with the target's availability mask.
    """
    t_len, p = x.shape
    q = y.shape[1]
    mx, my = np.isfinite(x), np.isfinite(y)
    fx, fy = mx.astype(float), my.astype(float)
    lx = _less_half(x, mx)  # (p, T, T)
    ly = _less_half(y, my)  # (q, T, T)
    n = fx.T @ fy
    out_r = np.empty((p, q))
    const_x = np.empty((p, q), dtype=bool)
    const_y = np.empty((p, q), dtype=bool)
    # ranks of the targets given each source's mask: (q, T, p) -> blocks over sources
    for blk in _blocks(p, t_len * q * 4):
        nb = n[blk]  # (b, q)
        mean = (nb + 1.0) / 2.0
        keep = fx[:, blk].T[:, :, None] * fy[None, :, :]  # (b, T, q)
        rx = lx[blk] @ fy + 0.5  # (b, T, q): rank of x_{s,i} given target t's mask
        ry = (ly @ fx[:, blk]).transpose(2, 1, 0) + 0.5  # (b, T, q)
        dx = (rx - mean[:, None, :]) * keep
        dy = (ry - mean[:, None, :]) * keep
        vx = np.einsum("sit,sit->st", dx, dx)
        vy = np.einsum("sit,sit->st", dy, dy)
        cov = np.einsum("sit,sit->st", dx, dy)
        with np.errstate(divide="ignore", invalid="ignore"):
            out_r[blk] = cov / np.sqrt(vx * vy)
        const_x[blk] = vx <= 0
        const_y[blk] = vy <= 0
    return {"n": n, "r": out_r, "const_x": const_x, "const_y": const_y}


def _less_half(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(p, T, T) tensor ``([x_j < x_i] + ½[x_j = x_i]) · valid_i · valid_j``."""
    xt = np.where(mask, x, 0.0).T  # (p, T)
    xi, xj = xt[:, :, None], xt[:, None, :]
    both = mask.T[:, :, None] & mask.T[:, None, :]
    return ((xj < xi) + 0.5 * (xj == xi)) * both


def _kendall(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Vectorised tau-b: concordance by products of pairwise sign matrices."""
    from scipy import special

    t_len, p = x.shape
    q = y.shape[1]
    mx, my = np.isfinite(x), np.isfinite(y)
    fx, fy = mx.astype(float), my.astype(float)
    n = fx.T @ fy
    iu, ju = np.triu_indices(t_len, 1)
    x0, y0 = np.where(mx, x, 0.0), np.where(my, y, 0.0)
    # sign(x_i - x_j) over i<j, zero where either is missing: (p, P)
    sx = (np.sign(x0[iu] - x0[ju]) * (mx[iu] & mx[ju])).T
    sy = (np.sign(y0[iu] - y0[ju]) * (my[iu] & my[ju])).T
    s = sx @ sy.T  # concordant - discordant, (p, q)
    # tie-group sizes of each element within each pair's complete observations
    ex = (x0.T[:, :, None] == x0.T[:, None, :]) & mx.T[:, :, None] & mx.T[:, None, :]
    ey = (y0.T[:, :, None] == y0.T[:, None, :]) & my.T[:, :, None] & my.T[:, None, :]
    eyf = ey.astype(float)
    ties = {k: np.empty((p, q)) for k in ("xt", "yt", "x0", "y0", "x1", "y1")}
    for blk in _blocks(p, t_len * q * 4):
        keep = fx[:, blk].T[:, :, None] * fy[None, :, :]  # (b, T, q)
        cx = ex[blk].astype(float) @ fy  # (b, T, q)
        cy = (eyf @ fx[:, blk]).transpose(2, 1, 0)  # (b, T, q)
        for c, pre in ((cx, "x"), (cy, "y")):
            ties[pre + "t"][blk] = np.einsum("sit,sit->st", keep, c - 1.0) / 2.0
            ties[pre + "0"][blk] = np.einsum("sit,sit->st", keep, (c - 1.0) * (c - 2.0))
            ties[pre + "1"][blk] = np.einsum("sit,sit->st", keep, (c - 1.0) * (2.0 * c + 5.0))
    tot = n * (n - 1.0) / 2.0
    xt, yt = np.rint(ties["xt"]), np.rint(ties["yt"])
    const_x = (xt >= tot) | (n < 2)
    const_y = (yt >= tot) | (n < 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = s / np.sqrt(tot - xt) / np.sqrt(tot - yt)
        m = n * (n - 1.0)
        var = (
            (m * (2.0 * n + 5.0) - ties["x1"] - ties["y1"]) / 18.0
            + 2.0 * xt * yt / m
            + ties["x0"] * ties["y0"] / (9.0 * m * (n - 2.0))
        )
        z = s / np.sqrt(var)
        pval = 2.0 * special.ndtr(-np.abs(z))
    # exact null distribution (scipy's 'auto' rule): no ties and n <= 33 or near-perfect order
    no_ties = (xt == 0) & (yt == 0) & ~const_x & ~const_y
    dis = np.rint((tot - s) / 2.0)
    exact = no_ties & ((n <= 33) | (np.minimum(dis, tot - dis) <= 1))
    conc = np.where(exact, tot - dis, 0).astype(int)
    for size in np.unique(n[exact]).astype(int):  # one table per sample size
        sel = exact & (n == size)
        pval[sel] = _kendall_exact_table(int(size))[conc[sel]]
    return {"n": n, "r": tau, "const_x": const_x, "const_y": const_y, "p_kendall": pval}


@functools.lru_cache(maxsize=64)
def _mahonian_cdf(n: int, cmax: int) -> tuple[int, ...]:
    """Cumulative counts of permutations of n items with <= c inversions, c = 0..cmax."""
    counts = [1] + [0] * cmax
    for j in range(2, n + 1):
        # multiply the generating function by (1 + x + ... + x^(j-1)), truncated at cmax
        run = 0
        new = [0] * (cmax + 1)
        for c in range(cmax + 1):
            run += counts[c]
            if c - j >= 0:
                run -= counts[c - j]
            new[c] = run
        counts = new
    cum = []
    acc = 0
    for v in counts:
        acc += v
        cum.append(acc)
    return tuple(cum)


@functools.lru_cache(maxsize=64)
def _kendall_exact_table(n: int) -> np.ndarray:
    """Two-sided exact p-value of Kendall's tau without ties, by concordant count (as scipy).

    For n > 33 only the near-perfect orders (0 or 1 discordant or concordant pairs)
    are filled in, as scipy uses the exact distribution only there.
    """
    tot = n * (n - 1) // 2
    out = np.full(tot + 1, np.nan)
    cum = _mahonian_cdf(n, tot // 2) if n <= 33 else _mahonian_cdf(n, 1)
    fact = math.factorial(n)
    for conc in range(tot + 1):
        c = min(conc, tot - conc)
        if n <= 2 or 4 * c == n * (n - 1):
            out[conc] = 1.0
        elif c < len(cum):
            out[conc] = min(1.0, 2 * cum[c] / fact)
    return out


def warn_nonstationary(data: pd.DataFrame, *, where: str, alpha: float = 0.05) -> list[str]:
    """Warn (StratlabWarning) about columns an ADF test cannot call stationary.

    The augmented Dickey–Fuller test with a constant and the AIC lag choice of
    ``statsmodels.tsa.stattools.adfuller(x, autolag="AIC")``, on each column's
    non-missing values, computed for all columns at once
    (:func:`stratlab.stats._adf.adf_batch`: same statistics and MacKinnon
    p-values); columns with fewer than 10 values or no variation are skipped.
    Returns the flagged column ids.
    """
    from stratlab.stats._adf import adf_batch

    _, pvalues = adf_batch(data.to_numpy(dtype=float))
    flagged = [str(c) for c, p in zip(data.columns, pvalues, strict=True) if p > alpha]
    if flagged:
        shown = ", ".join(flagged[:10]) + (
            f" and {len(flagged) - 10} more" if len(flagged) > 10 else ""
        )
        warnings.warn(
            f"{where}: transform='none' correlates levels, but {len(flagged)} series look "
            f"non-stationary (ADF p > {alpha}): {shown}. Trending levels correlate "
            "spuriously; use transform='diff' (the default) or 'detrend'.",
            StratlabWarning,
            stacklevel=3,
        )
    return flagged
