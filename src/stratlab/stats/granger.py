"""Granger-causality F-tests between two KPIs (statsmodels' ssr_ftest, in numpy), gap-aware."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from stratlab._util import check_int
from stratlab.errors import InputError, Problem
from stratlab.stats.correlation import prepare

if TYPE_CHECKING:
    from ..typing import HistoryLike

__all__ = ["GRANGER_COLUMNS", "GrangerBest", "granger", "granger_best"]

GRANGER_COLUMNS = ["source", "target", "lag", "f_stat", "p_value", "df_num", "df_den", "reason"]


class GrangerBest(NamedTuple):
    """The lag with the smallest Granger p-value (``lag`` is None when none was testable)."""

    lag: int | None
    p_value: float
    f_stat: float


def granger(
    history: HistoryLike,
    source: str,
    target: str,
    *,
    max_lag: int = 4,
    transform: str = "diff",
) -> pd.DataFrame:
    """Does ``source``'s past help predict ``target``? One F-test per lag 1..``max_lag``.

    For lag L the unrestricted model regresses target[t] on a constant,
    target[t−1..t−L] and source[t−1..t−L]; the restricted one drops the source
    terms. The statistic is statsmodels' ``ssr_ftest`` from
    :func:`statsmodels.tsa.stattools.grangercausalitytests`, computed with numpy
    least squares (the same numbers; tested against statsmodels) on the
    transformed series. With gaps inside, the regressions are fitted on the
    periods whose lags are all present (a shorter but correctly aligned sample)
    — grangercausalitytests would silently treat the gap as adjacent periods.

    Parameters
    ----------
    history : DataFrame or path
        As for :func:`stratlab.correlate`.
    source, target : str
        KPI ids (columns of the history).
    max_lag : int
        Largest lag tested (>= 1).
    transform : {'diff', 'pct_change', 'detrend', 'none'}
        Applied first; default ``diff`` (Granger tests assume stationary series).

    Returns
    -------
    DataFrame
        One row per lag, columns in this order: ``source``, ``target``, ``lag``,
        ``f_stat``, ``p_value``, ``df_num`` (= lag), ``df_den`` (residual degrees
        of freedom), ``reason`` (why the row is NaN: too short or constant).

    Raises
    ------
    InputError
        Unknown ids, ``source == target``, bad ``max_lag`` or transform.
    """
    where = "granger"
    lag_max = check_int(max_lag, "max_lag", where, minimum=1) or 1
    if source == target:
        raise InputError(
            Problem(
                f"{where}: source and target are both {source!r}.",
                fix="pass two different KPI ids.",
            )
        )
    data = prepare(history, transform=transform, columns=[source, target], where=where)
    return granger_table(
        data[source].to_numpy(dtype=float),
        data[target].to_numpy(dtype=float),
        source,
        target,
        lags=list(range(1, lag_max + 1)),
    )


def granger_table(
    x: np.ndarray, y: np.ndarray, source: str, target: str, *, lags: list[int]
) -> pd.DataFrame:
    """:func:`granger` on already-transformed arrays (same periods, NaN = gap)."""
    out = pd.DataFrame(granger_rows(x, y, source, target, lags=lags), columns=GRANGER_COLUMNS)
    out["f_stat"] = out["f_stat"].astype(float)
    out["p_value"] = out["p_value"].astype(float)
    out["df_den"] = out["df_den"].astype(float)
    return out


def granger_rows(
    x: np.ndarray, y: np.ndarray, source: str, target: str, *, lags: list[int]
) -> list[dict[str, Any]]:
    """The rows of :func:`granger_table` (one dict per lag, its columns as keys)."""
    both = np.isfinite(x) & np.isfinite(y)
    rows: list[dict[str, Any]] = []
    if both.any():
        idx = np.nonzero(both)[0]
        x, y = x[idx[0] : idx[-1] + 1], y[idx[0] : idx[-1] + 1]
    else:
        x, y = x[:0], y[:0]
    const = [
        name
        for name, v in ((source, x), (target, y))
        if np.isfinite(v).sum() > 0 and np.nanmax(v) == np.nanmin(v)
    ]
    results: dict[int, tuple[float, float, float]] = {}
    nobs: dict[int, int] = {}
    for lag in lags:
        nobs[lag] = _usable_rows(x, y, lag)
    testable = [lag for lag in lags if nobs[lag] - 2 * lag - 1 >= 1]
    if not const and testable:
        # The same regressions and F statistic as statsmodels' ssr_ftest (tested against
        # it), in numpy: importing statsmodels costs ~1 s, more than a review's link check.
        results = {lag: _ftest(x, y, lag) for lag in testable}
    for lag in lags:
        if const:
            reason: str | None = f"constant series: {', '.join(const)}"
        elif lag not in results:
            reason = f"n={nobs[lag]} usable periods too few for lag {lag} (needs >= {2 * lag + 2})"
        else:
            reason = None
        f, p, dfd = results.get(lag, (np.nan, np.nan, np.nan))
        if reason is None and not np.isfinite(f):
            reason = "degenerate regression (collinear series)"
        rows.append(
            {
                "source": source,
                "target": target,
                "lag": lag,
                "f_stat": f,
                "p_value": p,
                "df_num": lag,
                "df_den": dfd,
                "reason": reason,
            }
        )
    return rows


def granger_best(
    history: HistoryLike,
    source: str,
    target: str,
    *,
    max_lag: int = 4,
    transform: str = "diff",
) -> GrangerBest:
    """The lag in 1..``max_lag`` with the smallest Granger p-value (see :func:`granger`).

    Returns
    -------
    GrangerBest
        ``(lag, p_value, f_stat)``; ``(None, nan, nan)`` when no lag was testable.
    """
    table = granger(history, source, target, max_lag=max_lag, transform=transform)
    ok = table.dropna(subset=["p_value"])
    if ok.empty:
        return GrangerBest(None, float("nan"), float("nan"))
    best = ok.loc[ok["p_value"].idxmin()]
    return GrangerBest(int(best["lag"]), float(best["p_value"]), float(best["f_stat"]))


def _usable_rows(x: np.ndarray, y: np.ndarray, lag: int) -> int:
    return int(_design_rows(x, y, lag).sum())


def _design_rows(x: np.ndarray, y: np.ndarray, lag: int) -> np.ndarray:
    n = len(y)
    ok = np.zeros(n, dtype=bool)
    if n <= lag:
        return ok
    ok[lag:] = np.isfinite(y[lag:])
    for j in range(1, lag + 1):
        ok[lag:] &= np.isfinite(y[lag - j : n - j]) & np.isfinite(x[lag - j : n - j])
    return ok


def _ftest(x: np.ndarray, y: np.ndarray, lag: int) -> tuple[float, float, float]:
    """statsmodels' ssr_ftest on the rows whose lags are all present."""
    from scipy import special

    rows = np.nonzero(_design_rows(x, y, lag))[0]
    ylags = np.column_stack([y[rows - j] for j in range(1, lag + 1)])
    xlags = np.column_stack([x[rows - j] for j in range(1, lag + 1)])
    const = np.ones((len(rows), 1))
    target = y[rows]
    restricted = np.hstack([ylags, const])
    full = np.hstack([ylags, xlags, const])
    ssr_r = _ssr(restricted, target)
    ssr_u = _ssr(full, target)
    df_den = len(rows) - full.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (ssr_r - ssr_u) / ssr_u / lag * df_den
    p = float(special.fdtrc(lag, df_den, f)) if np.isfinite(f) else float("nan")
    return float(f), p, float(df_den)


def _ssr(a: np.ndarray, b: np.ndarray) -> float:
    beta, *_ = np.linalg.lstsq(a, b, rcond=None)
    resid = b - a @ beta
    return float(resid @ resid)
