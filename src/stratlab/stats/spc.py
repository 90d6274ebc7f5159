"""Process-behaviour charts (XmR): natural process limits and signals of change.

The rule set is the one of Wheeler's *Understanding Variation* (the XmR
chart, "natural process limits") as used by NHS England's "Making Data Count"
guidance, with Wheeler's run length of 8:

- **centre** = the mean of the values; **average moving range** mR̄ = the mean
  of |x_t − x_{t−1}| over consecutive observed values;
- **limits** = centre ± 2.66 × mR̄ (2.66 = 3 / d₂, d₂ = 1.128 for ranges of
  two; one "sigma" is mR̄ / 1.128);
- a **signal** is a value that breaks one of these rules (each rule's points
  are all marked):

  ``outside limits``  a value above the upper or below the lower limit;
  ``shift``           8 (``run``) or more values in a row on one side of the
                      centre (a value on the centre breaks the run);
  ``trend``           6 (``trend``) or more values in a row each higher (or
                      each lower) than the one before (a tie breaks it);
  ``2 of 3``          2 out of 3 consecutive values more than two sigma from
                      the centre on the same side (the two are marked).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stratlab._util import check_int
from stratlab.errors import InputError, Problem
from stratlab.stats._common import as_wide, check_ids

__all__ = ["SPC_COLUMNS", "SPC_RULES", "XMR_E2", "spc", "xmr_signals"]

#: Columns of :func:`spc`'s table, in order.
SPC_COLUMNS = ["measure", "period", "value", "centre", "lower", "upper", "signal", "rule"]

#: Scaling factor from the average moving range to the natural process limits (3 / 1.128).
XMR_E2 = 2.66

#: The rules, in the order they are named in the ``rule`` column.
SPC_RULES = {
    "outside limits": "a value above the upper or below the lower natural process limit",
    "shift": "8 or more values in a row on the same side of the centre line",
    "trend": "6 or more values in a row, each higher (or each lower) than the one before",
    "2 of 3": "2 of 3 consecutive values more than two sigma from the centre, on the same side",
}


def _runs(flags: np.ndarray, length: int) -> np.ndarray:
    """Mark every element of each run of ``True`` at least ``length`` long."""
    out = np.zeros(len(flags), dtype=bool)
    start = 0
    for i in range(len(flags) + 1):
        if i == len(flags) or not flags[i]:
            if i - start >= length:
                out[start:i] = True
            start = i + 1
    return out


def xmr_signals(
    values: np.ndarray, centre: float, lower: float, upper: float, *, run: int = 8, trend: int = 6
) -> list[list[str]]:
    """The rules each value breaks (names of :data:`SPC_RULES`), one list per value.

    ``values`` are the observed values in time order (no NaN); the limits are
    three sigma from the centre, so two sigma is two thirds of the way to them.
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    hits: dict[str, np.ndarray] = {}
    hits["outside limits"] = (x > upper) | (x < lower)
    above, below = x > centre, x < centre
    hits["shift"] = _runs(above, run) | _runs(below, run)
    # a trend of `trend` values is trend-1 consecutive steps in one direction
    step = np.diff(x)
    rising = np.zeros(n, dtype=bool)
    falling = np.zeros(n, dtype=bool)
    for steps, mark in ((step > 0, rising), (step < 0, falling)):
        in_run = _runs(steps, trend - 1)
        mark[1:] |= in_run
        mark[:-1] |= in_run
    hits["trend"] = rising | falling
    two = np.zeros(n, dtype=bool)
    two_up = centre + 2 * (upper - centre) / 3
    two_down = centre - 2 * (centre - lower) / 3
    for side in (x > two_up, x < two_down):
        for i in range(max(n - 2, 1)):
            window = side[i : i + 3]
            if window.sum() >= 2:
                two[i : i + 3] |= window
    hits["2 of 3"] = two
    return [[name for name in SPC_RULES if hits[name][i]] for i in range(n)]


def spc(
    history: Any,
    ids: list[str] | tuple[str, ...] | None = None,
    *,
    baseline: int | None = None,
    run: int = 8,
    trend: int = 6,
) -> pd.DataFrame:
    """XmR process-behaviour charts of KPI histories: limits and signals per value.

    Each measure's observed values (gaps skipped; moving ranges are taken
    between consecutive observed values) get a centre line, natural process
    limits and the rules they break; see the module docstring for the rule set
    (Wheeler's *Understanding Variation*, NHS "Making Data Count").

    Parameters
    ----------
    history : DataFrame or path
        Wide KPI history (:func:`stratlab.load_history`), a long frame
        (``period, measure, value``) or a file.
    ids : list of str, optional
        Columns to chart (default: every column with at least one value).
    baseline : int, optional
        Compute the centre and limits from the first ``baseline`` observed
        values of each measure only (limits "fixed" on a baseline period, then
        extended); default: all values.  At least 2.
    run : int
        Values in a row on one side of the centre that make a shift (8 as in
        Wheeler; Making Data Count uses 7).
    trend : int
        Values in a row rising or falling that make a trend (6).

    Returns
    -------
    pandas.DataFrame
        One row per observed value, columns in this order:

        - ``measure`` : the column id
        - ``period`` : the period (the history's index value)
        - ``value`` : the value
        - ``centre`` : the mean (of the baseline values)
        - ``lower``, ``upper`` : centre ∓ 2.66 × average moving range
          (NaN with fewer than 2 values)
        - ``signal`` : bool, the value breaks at least one rule
        - ``rule`` : the rules it breaks, ``', '``-joined in the order
          ``outside limits, shift, trend, 2 of 3`` (empty when none)

    Raises
    ------
    InputError
        Unknown ids (with a close match); ``baseline``, ``run`` or ``trend``
        not a whole number ≥ 2.
    HistoryError
        A history that cannot be read.
    """
    wide = as_wide(history, where="spc")
    check_int(baseline, "baseline", "spc", minimum=2, allow_none=True)
    check_int(run, "run", "spc", minimum=2)
    check_int(trend, "trend", "spc", minimum=2)
    if ids is None:
        chosen = [c for c in wide.columns if wide[c].notna().any()]
    else:
        if isinstance(ids, str):
            raise InputError(
                Problem(
                    f"spc: ids must be a list of ids, not the string {ids!r}.",
                    fix=f"write ids=[{ids!r}].",
                )
            )
        chosen = check_ids(list(ids), list(wide.columns), "ids", "spc")
    # plain numpy per measure and one DataFrame at the end (a review charts ~30 KPIs)
    periods = wide.index.to_numpy()
    matrix = wide[chosen].to_numpy(dtype=float) if chosen else np.empty((len(wide), 0))
    cols: dict[str, list[Any]] = {c: [] for c in SPC_COLUMNS}
    for k, mid in enumerate(chosen):
        mask = ~np.isnan(matrix[:, k])
        x = matrix[mask, k]
        base = x if baseline is None else x[:baseline]
        n = len(x)
        if len(base) >= 2:
            centre = float(base.mean())
            mr_bar = float(np.abs(np.diff(base)).mean())
            lower, upper = centre - XMR_E2 * mr_bar, centre + XMR_E2 * mr_bar
            rules = xmr_signals(x, centre, lower, upper, run=run, trend=trend)
        else:
            centre = float(base.mean()) if len(base) else float("nan")
            lower = upper = float("nan")
            rules = [[] for _ in range(n)]
        cols["measure"] += [mid] * n
        cols["period"] += list(periods[mask])
        cols["value"] += x.tolist()
        cols["centre"] += [centre] * n
        cols["lower"] += [lower] * n
        cols["upper"] += [upper] * n
        cols["signal"] += [bool(r) for r in rules]
        cols["rule"] += [", ".join(r) for r in rules]
    frame = pd.DataFrame(cols, columns=SPC_COLUMNS)
    if isinstance(wide.index, pd.PeriodIndex):
        frame["period"] = pd.PeriodIndex(frame["period"], freq=wide.index.freq)
    return frame.astype(
        {
            "measure": "str",
            "value": float,
            "centre": float,
            "lower": float,
            "upper": float,
            "signal": bool,
            "rule": "str",
        }
    )
