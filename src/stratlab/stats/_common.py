"""Shared plumbing for the statistics functions: input coercion, transforms, BH, checks."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from stratlab._util import did_you_mean
from stratlab.errors import HistoryError, InputError, Problem

if TYPE_CHECKING:
    from ..typing import HistoryLike

TRANSFORMS = ("diff", "pct_change", "detrend", "none")
METHODS = ("pearson", "spearman", "kendall")


def check_choice(value: object, choices: Sequence[str], name: str, where: str) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :class:`InputError`."""
    if not isinstance(value, str) or value not in choices:
        hint = f"{s} " if (s := did_you_mean(value, choices)) else ""
        raise InputError(
            Problem(
                f"{where}: {name}={value!r} is not one of {', '.join(map(repr, choices))}.",
                fix=f"{hint}pass {name}= one of {', '.join(choices)}.",
            )
        )
    return value


def check_ids(ids: Sequence[str], known: Sequence[str], name: str, where: str) -> list[str]:
    """Raise :class:`InputError` naming every id in ``ids`` that is not in ``known``."""
    known_set = set(known)
    problems = []
    for i in ids:
        if i not in known_set:
            fix = did_you_mean(i, known, "history's columns")
            problems.append(Problem(f"{where}: {name} id {i!r} is not in the history.", fix=fix))
    if problems:
        raise InputError(problems)
    return list(ids)


def as_wide(history: HistoryLike, *, where: str) -> pd.DataFrame:
    """Coerce a history to a wide float DataFrame (rows = periods in time order).

    Paths, long DataFrames (``period, measure, value``) and wide DataFrames with a
    ``period`` column go through :func:`stratlab.io.load_history`; a wide DataFrame
    indexed by period is used as is. A :class:`pandas.PeriodIndex` is completed to a
    regular range so that missing periods become gaps (NaN), not silent jumps.
    """
    from stratlab.io import is_source

    if (
        isinstance(history, str | os.PathLike)
        or is_source(history)
        or (
            isinstance(history, pd.DataFrame)
            and any(str(c).strip().lower() == "period" for c in history.columns)
        )
    ):
        from stratlab.io import load_history

        wide = load_history(history)
    elif isinstance(history, pd.DataFrame):
        wide = history
    else:
        raise InputError(
            Problem(
                f"{where}: history must be a DataFrame or a path to a CSV/Excel file, "
                f"not {type(history).__name__}.",
                fix="pass a wide DataFrame (index = periods, one column per KPI id), "
                "a long DataFrame with columns period, measure, value, or a file path.",
            )
        )
    if wide.columns.has_duplicates:
        dup = sorted({str(c) for c in wide.columns[wide.columns.duplicated()]})
        raise HistoryError(
            Problem(
                f"{where}: the history has duplicate columns {', '.join(dup)}.",
                fix="give every KPI column a unique id.",
            )
        )
    dtypes = set(wide.dtypes)
    if all(
        pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt) for dt in dtypes
    ):
        frame = wide.astype(float)  # fast path: already numeric (a copy)
        frame.columns = [str(c) for c in wide.columns]
    else:
        problems = []
        out = {}
        for col in wide.columns:
            try:
                out[str(col)] = pd.to_numeric(wide[col], errors="raise").astype(float)
            except (ValueError, TypeError):
                problems.append(
                    Problem(
                        f"{where}: history column {str(col)!r} is not numeric.",
                        fix="remove text from the column or drop it (missing values may be blank).",
                        column=str(col),
                    )
                )
        if problems:
            raise HistoryError(problems)
        frame = pd.DataFrame(out, index=wide.index)
    if isinstance(frame.index, pd.PeriodIndex) and len(frame.index):
        frame = frame.sort_index()
        if frame.index.has_duplicates:
            raise HistoryError(
                Problem(
                    f"{where}: the history has duplicate periods.",
                    fix="keep one row per period.",
                )
            )
        full = pd.period_range(frame.index.min(), frame.index.max(), freq=frame.index.freq)
        if len(full) != len(frame):
            frame = frame.reindex(full)
        frame.index.name = wide.index.name or "period"
    elif isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.sort_index()
    return frame


def transform_frame(frame: pd.DataFrame, transform: str) -> pd.DataFrame:
    """Apply a documented transform column-wise, keeping the period grid.

    ``diff``: x[t] − x[t−1]; ``pct_change``: x[t]/x[t−1] − 1 (division by zero → NaN);
    ``detrend``: residual of a least-squares line in the period position fitted on
    each column's non-missing values; ``none``: levels.
    """
    if transform == "none":
        return frame.copy()
    a = frame.to_numpy(dtype=float)
    if transform in ("diff", "pct_change"):
        out = np.full(a.shape, np.nan)
        if transform == "diff":
            out[1:] = a[1:] - a[:-1]
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                out[1:] = a[1:] / a[:-1] - 1.0
            out[~np.isfinite(out)] = np.nan
        return pd.DataFrame(out, index=frame.index, columns=frame.columns)
    # detrend
    mask = np.isfinite(a)
    t = np.arange(a.shape[0], dtype=float)[:, None] * np.ones((1, a.shape[1]))
    a0 = np.where(mask, a, 0.0)
    t0 = np.where(mask, t, 0.0)
    n = mask.sum(axis=0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        tm = t0.sum(axis=0) / n
        am = a0.sum(axis=0) / n
        dt = np.where(mask, t - tm, 0.0)
        da = np.where(mask, a - am, 0.0)
        stt = (dt * dt).sum(axis=0)
        slope = np.where(stt > 0, (dt * da).sum(axis=0) / np.where(stt > 0, stt, 1.0), 0.0)
    resid = np.where(mask, da - slope * dt, np.nan)
    return pd.DataFrame(resid, index=frame.index, columns=frame.columns)


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values over the finite entries of ``p`` (NaN kept)."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    ps = p[ok]
    order = np.argsort(ps)  # tie order does not change BH values
    ranked = ps[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.clip(ranked, 0.0, 1.0)
    q[ok] = adj
    return q


def fisher_ci(r: np.ndarray, n: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% Fisher-z interval tanh(atanh(r) ± z·se), as scipy's Pearson interval."""
    from scipy import special

    h = special.ndtri(0.975)
    with np.errstate(divide="ignore", invalid="ignore"):
        zr = np.arctanh(r)
        lo = np.tanh(zr - h * se)
        hi = np.tanh(zr + h * se)
    return lo, hi
