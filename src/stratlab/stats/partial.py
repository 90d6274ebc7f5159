"""Partial correlations between KPIs, controlling for the others or for given covariates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from stratlab.errors import InputError, Problem
from stratlab.stats._common import bh_qvalues, check_choice, check_ids, fisher_ci
from stratlab.stats.correlation import prepare

if TYPE_CHECKING:
    from ..typing import HistoryLike

__all__ = ["PARTIAL_COLUMNS", "partial_correlate"]

PARTIAL_COLUMNS = [
    "source",
    "target",
    "n",
    "r",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "reason",
]


def partial_correlate(
    history: HistoryLike,
    *,
    covariates: Sequence[str] | None = None,
    transform: str = "diff",
    method: str = "pearson",
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Partial correlation of every pair of KPIs.

    Each pair is controlled for all the other columns (``covariates=None``), or
    for the given ``covariates`` (pairs are then formed among the remaining
    columns). Computed on the periods where every variable involved is present
    (listwise-complete, after the transform), from the inverse covariance matrix
    (all others) or from least-squares residuals on the covariates plus an
    intercept. ``spearman`` ranks those complete rows first.

    The p-value is pingouin's: a t-test of r with ``n − 2 − k`` degrees of
    freedom (k = number of variables controlled for); the 95% interval is Fisher
    z with standard error ``1/sqrt(n − 3 − k)`` (pingouin's ``compute_esci``).
    Columns that are constant on the complete rows are left out of the controls;
    their pairs are NaN with a reason.

    Parameters
    ----------
    history : DataFrame or path
        As for :func:`stratlab.correlate`.
    covariates : list of str, optional
        KPI ids to control for; default: every other column.
    transform : {'diff', 'pct_change', 'detrend', 'none'}
    method : {'pearson', 'spearman'}
    columns : list of str, optional
        Restrict the analysis (pairs and default controls) to these ids.

    Returns
    -------
    DataFrame
        Columns in this order: ``source``, ``target``, ``n`` (complete rows
        used), ``r``, ``ci_low``, ``ci_high``, ``p_value``, ``q_value``
        (Benjamini–Hochberg over the rows), ``reason`` (why r is NaN).

    Raises
    ------
    InputError
        Unknown option, unknown ids, fewer than two columns to pair (a covariate
        also listed in ``columns`` is controlled for, not paired).
    """
    where = "partial_correlate"
    method = check_choice(method, ("pearson", "spearman"), "method", where)
    covs = [covariates] if isinstance(covariates, str) else list(covariates or [])
    cols = None if columns is None else ([columns] if isinstance(columns, str) else list(columns))
    if cols is not None:
        cols = cols + [c for c in covs if c not in cols]
    data = prepare(history, transform=transform, columns=cols, where=where)
    names = [str(c) for c in data.columns]
    check_ids(covs, names, "covariate", where)
    pair_names = [c for c in names if c not in set(covs)]
    if len(pair_names) < 2:
        raise InputError(
            Problem(
                f"{where}: need at least two columns besides the covariates, got "
                f"{', '.join(pair_names) or 'none'}.",
                fix="pass more KPI columns, or fewer covariates.",
            )
        )
    used = pair_names + covs
    a = data[used].to_numpy(dtype=float)
    a = a[np.isfinite(a).all(axis=1)]
    n = a.shape[0]
    if method == "spearman" and n:
        from scipy.stats import rankdata

        a = rankdata(a, axis=0)
    const = np.ptp(a, axis=0) == 0 if n else np.ones(a.shape[1], dtype=bool)
    npair = len(pair_names)
    r = np.full((npair, npair), np.nan)
    keep_pairs = np.nonzero(~const[:npair])[0]
    keep_covs = [npair + i for i in range(len(covs)) if not const[npair + i]]
    if covs:
        k = len(keep_covs)
        z = np.column_stack([np.ones(n), a[:, keep_covs]]) if n else np.ones((0, 1))
        y = a[:, keep_pairs]
        if n:
            beta, *_ = np.linalg.lstsq(z, y, rcond=None)
            resid = y - z @ beta
            r_sub = _corr(resid)
        else:
            r_sub = np.full((len(keep_pairs), len(keep_pairs)), np.nan)
    else:
        k = max(len(keep_pairs) - 2, 0)
        if n > 1 and len(keep_pairs):
            cov = np.cov(a[:, keep_pairs], rowvar=False).reshape(len(keep_pairs), -1)
            prec = np.linalg.pinv(cov)
            d = np.sqrt(np.diag(prec))
            with np.errstate(divide="ignore", invalid="ignore"):
                r_sub = -prec / np.outer(d, d)
        else:
            r_sub = np.full((len(keep_pairs), len(keep_pairs)), np.nan)
    r[np.ix_(keep_pairs, keep_pairs)] = r_sub

    src, tgt = np.triu_indices(npair, 1)
    rr = np.clip(r[src, tgt], -1.0, 1.0)
    dof = float(n - 2 - k)
    short = np.full(src.shape, dof < 1)
    bad_const = const[src] | const[tgt]
    from scipy import special

    with np.errstate(divide="ignore", invalid="ignore"):
        t = rr * np.sqrt(dof / (1.0 - rr * rr))
        pval = 2.0 * special.stdtr(dof, -np.abs(t))
        se = np.sqrt(1.0 / (n - 3.0 - k)) if n - 3 - k > 0 else np.nan
    lo, hi = fisher_ci(rr, np.full(rr.shape, float(n)), np.full(rr.shape, se))
    if n - 3 - k <= 0:
        lo, hi = np.full(rr.shape, -1.0), np.full(rr.shape, 1.0)
    bad = bad_const | short
    for arr in (rr, pval, lo, hi):
        arr[bad] = np.nan
    names_arr = np.asarray(pair_names, dtype=object)
    reason = np.select(
        [short, const[src], const[tgt]],
        [
            np.full(
                src.shape, f"n={n} too few for k={k} controls (needs n >= {k + 3})", dtype=object
            ),
            "constant series: " + names_arr[src],
            "constant series: " + names_arr[tgt],
        ],
        default=np.full(src.shape, None, dtype=object),
    )
    return pd.DataFrame(
        {
            "source": names_arr[src],
            "target": names_arr[tgt],
            "n": np.full(src.shape, n, dtype=int),
            "r": rr,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": pval,
            "q_value": bh_qvalues(pval),
            "reason": reason,
        },
        columns=PARTIAL_COLUMNS,
    )


def _corr(a: np.ndarray) -> np.ndarray:
    c = a - a.mean(axis=0)
    ss = np.sqrt((c * c).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (c.T @ c) / np.outer(ss, ss)
