"""Test a strategy map's links against history, and suggest the links it lacks.

Evidence
--------
* Objective → objective links are tested on the objectives' *own-evidence*
  scores: the weighted mean (measure ``weight``) of the objective's measure
  scores from :func:`stratlab.scoring.score_history` with ``rollup=False``,
  renormalised over the measures that have a value in the period. Key results
  are left out of the evidence: their histories are a few in-quarter
  check-ins that would add a level jump; an objective without measures falls
  back to its ``rollup=False`` score (its OKRs). The evidence never contains
  the links themselves, so the test is not circular.
* Measure → measure driver links are tested on the measures' values.

Both are transformed first (default ``diff``), then correlated as
:func:`stratlab.correlate` does (row (s, t, k) = corr(s[t−k], t[t])).

Verdicts (thresholds are keyword arguments)
-------------------------------------------
For each link, lags 0..``link.lag + 2`` (or 0..``max_lag``) are tested;
q-values are Benjamini–Hochberg over every (link, lag) test of the call.
The expected sign is the sign of the link's weight (objective links; an
inverse link expects a negative r) or coefficient (drivers).

``best_lag`` is the lag with the strongest *evidence*: the smallest p-value
(which accounts for the number of pairs each lag has: a longer lag has fewer),
ties going to the lag closest to the hypothesised one. ``lag_mismatch`` is
True when it differs from ``hypothesised_lag``.

``mde_r`` is the smallest |r| the test could detect with 80 % power at that
lag's ``n``, two-sided, at level ``alpha`` (Fisher z:
``tanh((z_{1-alpha/2} + z_{0.8}) / sqrt(n - 3))``; 0.56 for n = 23, 0.36 for
n = 59 at alpha = 0.05). At ``best_lag``:

* ``supported``: ``q_value <= alpha``, ``|r| >= min_r`` and r has the expected sign;
* ``contradicted``: ``q_value <= alpha``, ``|r| >= min_r`` and r has the wrong sign
  (or any sign, for a driver whose coefficient is 0: it states no effect);
* ``underpowered``: not significant (or ``|r| < min_r``) and ``mde_r >
  meaningful_r`` (default 0.3): the data cannot tell a meaningful link from none;
* ``not supported``: not significant (or ``|r| < min_r``) although the test
  had the power to see a meaningful link (``mde_r <= meaningful_r``);
* ``untestable``: no lag has ``min_periods`` pairwise-complete observations,
  or a series is constant or has no evidence.

``granger_p`` is the Granger F-test p-value (source → target) at lag
``max(best_lag, 1)`` on the same transformed series (see :func:`stratlab.granger`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stratlab._util import check_int
from stratlab.errors import InputError, Problem
from stratlab.stats._common import (
    METHODS,
    TRANSFORMS,
    check_choice,
    transform_frame,
)
from stratlab.stats.correlation import (
    DEFAULT_MIN_PERIODS,
    correlate_pairs,
    correlate_transformed,
)
from stratlab.stats.granger import granger_rows

if TYPE_CHECKING:
    from stratlab.model import Model

    from ..typing import HistoryLike, ModelLike

__all__ = [
    "LINK_COLUMNS",
    "SUGGEST_COLUMNS",
    "VERDICTS",
    "check_links",
    "mde_r",
    "objective_evidence",
    "suggest_links",
]

#: The one verdict vocabulary of :func:`check_links` and :func:`stratlab.calibrate`.
VERDICTS: tuple[str, ...] = (
    "supported",
    "not supported",
    "underpowered",
    "contradicted",
    "untestable",
)

LINK_COLUMNS = [
    "source",
    "target",
    "kind",
    "hypothesised_lag",
    "best_lag",
    "lag_mismatch",
    "n",
    "r",
    "mde_r",
    "q_value",
    "granger_p",
    "verdict",
    "reason",
]

SUGGEST_COLUMNS = [
    "source",
    "target",
    "lag",
    "n",
    "r",
    "q_value",
    "direction",
    "source_perspective",
    "target_perspective",
]


def load_inputs(model: ModelLike, history: HistoryLike) -> tuple[Model, pd.DataFrame]:
    """(Model, wide history on the full period grid) from models/paths/frames."""
    from stratlab.io import load_history, load_model

    model = load_model(model)
    if isinstance(history, pd.DataFrame) and isinstance(history.index, pd.PeriodIndex):
        unknown = [
            c
            for c in history.columns
            if c not in model or model.kind_of(str(c)) not in ("measure", "key_result")
        ]
        wide = history if not unknown else load_history(history, model)
    else:
        wide = load_history(history, model)
    wide = wide.sort_index()
    full = pd.period_range(wide.index.min(), wide.index.max(), freq=wide.index.freq)
    if len(full) != len(wide):
        wide = wide.reindex(full)
    return model, wide.astype(float)


def objective_evidence(model: ModelLike, history: HistoryLike) -> pd.DataFrame:
    """Own-evidence score of every objective per period (see the module notes).

    Returns
    -------
    DataFrame
        Indexed by period, one column per objective id (NaN where no measure
        of the objective has a value).
    """
    from stratlab.scoring import score_history

    model, wide = load_inputs(model, history)
    return _weighted_by_objective(model, score_history(model, wide, rollup=False))


def evidence_for_tests(model: Model, wide: pd.DataFrame, transform: str) -> pd.DataFrame:
    """Objective evidence on the scale the link tests use.

    For ``diff``, an objective's change is the weighted mean of the changes of
    its measures that have a value in *both* periods, so a measure that is
    missing in one period (or starts later) does not put a false jump into the
    objective's series.  The other transforms apply to the evidence levels of
    :func:`objective_evidence`.
    """
    from stratlab.scoring import score_history

    scores = score_history(model, wide, rollup=False)
    if transform == "diff":
        return _weighted_by_objective(model, transform_frame(scores, "diff"))
    return transform_frame(_weighted_by_objective(model, scores), transform)


def _weighted_by_objective(model: Model, scores: pd.DataFrame) -> pd.DataFrame:
    """Weighted mean, per period, of each objective's measure columns that have a value.

    An objective without measures keeps its own column of ``scores``.
    """
    out = {}
    for obj in model.objectives:
        measures = [m for m in model.measures if m.objective == obj.id]
        if not measures:
            out[obj.id] = scores[obj.id].to_numpy(dtype=float)
            continue
        vals = scores[[m.id for m in measures]].to_numpy(dtype=float)
        w = np.array([m.weight for m in measures], dtype=float)
        have = np.isfinite(vals)
        den = have @ w
        with np.errstate(invalid="ignore", divide="ignore"):
            out[obj.id] = np.where(den > 0, np.where(have, vals, 0.0) @ w / den, np.nan)
    return pd.DataFrame(out, index=scores.index)


def mde_r(n: Any, *, alpha: float = 0.05, power: float = 0.8) -> Any:
    """Smallest |r| a two-sided test at level ``alpha`` detects with ``power``, given n pairs.

    Fisher z approximation: ``tanh((z_{1-alpha/2} + z_{power}) / sqrt(n - 3))``;
    NaN for ``n <= 3``. Accepts a number or an array.
    """
    from scipy.special import ndtri

    n_arr = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (ndtri(1.0 - alpha / 2.0) + ndtri(power)) / np.sqrt(n_arr - 3.0)
    out = np.where(n_arr > 3, np.tanh(z), np.nan)
    return float(out) if out.ndim == 0 else out


def _check_thresholds(alpha: float, min_r: float, where: str, meaningful_r: float = 0.3) -> None:
    problems = []
    if not isinstance(alpha, int | float) or isinstance(alpha, bool) or not 0 < alpha < 1:
        problems.append(
            Problem(
                f"{where}: alpha={alpha!r} must be a number strictly between 0 and 1.",
                fix="e.g. alpha=0.05.",
            )
        )
    if not isinstance(min_r, int | float) or isinstance(min_r, bool) or not 0 <= min_r < 1:
        problems.append(
            Problem(f"{where}: min_r={min_r!r} must be a number in [0, 1).", fix="e.g. min_r=0.2.")
        )
    if (
        not isinstance(meaningful_r, int | float)
        or isinstance(meaningful_r, bool)
        or not 0 < meaningful_r < 1
    ):
        problems.append(
            Problem(
                f"{where}: meaningful_r={meaningful_r!r} must be a number strictly between 0 and 1.",
                fix="e.g. meaningful_r=0.3 (the smallest |r| that would matter).",
            )
        )
    if problems:
        raise InputError(problems)


def check_links(
    model: ModelLike,
    history: HistoryLike,
    *,
    max_lag: int | None = None,
    alpha: float = 0.05,
    min_r: float = 0.2,
    meaningful_r: float = 0.3,
    method: str = "pearson",
    transform: str = "diff",
    min_periods: int | None = None,
) -> pd.DataFrame:
    """A verdict for every link of the map, from the history.

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path
        KPI history (anything :func:`stratlab.io.load_history` reads).
    max_lag : int, optional
        Test lags 0..``max_lag`` for every link (default: 0..``link.lag + 2``).
    alpha : float
        Significance level applied to the BH q-values, and the level of
        ``mde_r`` (default 0.05).
    min_r : float
        Smallest |r| that counts as support or contradiction (default 0.2).
    meaningful_r : float
        Smallest |r| that would matter (default 0.3): a link that is not
        significant is ``underpowered`` when ``mde_r`` exceeds it, else
        ``not supported``.
    method : {'pearson', 'spearman', 'kendall'}
    transform : {'diff', 'pct_change', 'detrend', 'none'}
    min_periods : int, optional
        Fewest pairwise-complete periods for a test (default 4).

    Returns
    -------
    DataFrame
        One row per link in model order, columns in this order: ``source``,
        ``target``, ``kind`` ('objective' | 'driver'), ``hypothesised_lag``,
        ``best_lag`` (smallest p-value), ``lag_mismatch`` (best lag differs
        from the hypothesised one), ``n``, ``r``, ``mde_r`` (smallest |r|
        detectable at 80 % power with that n), ``q_value`` (at ``best_lag``),
        ``granger_p``, ``verdict`` (one of :data:`VERDICTS`: 'supported' |
        'not supported' | 'underpowered' | 'contradicted' | 'untestable'),
        ``reason`` (why it is not supported, or a note such as a lag other than
        the hypothesised one).

    Raises
    ------
    InputError
        Bad options. ModelError / HistoryError for bad inputs.
    """
    where = "check_links"
    method = check_choice(method, METHODS, "method", where)
    transform = check_choice(transform, TRANSFORMS, "transform", where)
    lag_cap = check_int(max_lag, "max_lag", where, minimum=0, allow_none=True)
    minp = (
        check_int(min_periods, "min_periods", where, minimum=3, allow_none=True)
        or DEFAULT_MIN_PERIODS
    )
    _check_thresholds(alpha, min_r, where, meaningful_r)
    model, wide = load_inputs(model, history)
    links = list(model.links)
    if not links:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})
    measure_ids = [m.id for m in model.measures]
    values = wide.reindex(columns=measure_ids)
    raw = pd.concat([objective_evidence(model, wide), values], axis=1)  # levels, for reasons
    data = pd.concat(
        [evidence_for_tests(model, wide, transform), transform_frame(values, transform)], axis=1
    )

    triples: list[tuple[str, str, int]] = []
    owner: list[int] = []
    for i, link in enumerate(links):
        top = lag_cap if lag_cap is not None else link.lag + 2
        for k in range(top + 1):
            triples.append((link.source, link.target, k))
            owner.append(i)
    table = correlate_pairs(data, triples, method=method, min_periods=minp)
    table["link"] = owner

    thresholds = (alpha, min_r, meaningful_r)
    per_link = dict(iter(table.groupby("link", sort=False)))
    empty = table.iloc[:0]
    rows = []
    for i, link in enumerate(links):  # per link: a handful of rows, only bookkeeping
        sub = per_link.get(i, empty).reset_index(drop=True)
        rows.append(_link_row(link, sub, raw, data, thresholds))
    out = pd.DataFrame(rows, columns=LINK_COLUMNS)
    out["best_lag"] = out["best_lag"].astype("Int64")
    out["lag_mismatch"] = out["lag_mismatch"].astype(bool)
    return out


def _link_row(
    link: Any,
    sub: pd.DataFrame,
    raw: pd.DataFrame,
    data: pd.DataFrame,
    thresholds: tuple[float, float, float],
) -> dict[str, Any]:
    """The check_links row of one link from its correlation rows (one per lag)."""
    row: dict[str, Any] = {
        "source": link.source,
        "target": link.target,
        "kind": link.kind,
        "hypothesised_lag": int(link.lag),
        "best_lag": np.nan,
        "lag_mismatch": False,
        "n": int(sub["n"].max()) if len(sub) else 0,
        "r": np.nan,
        "mde_r": np.nan,
        "q_value": np.nan,
        "granger_p": np.nan,
        "verdict": "untestable",
        "reason": None,
    }
    ok = sub["r"].notna() & sub["p_value"].notna()
    if not ok.any():
        empty = [c for c in (link.source, link.target) if raw[c].notna().sum() == 0]
        row["reason"] = (
            f"no data for {', '.join(empty)}"
            if empty
            else str(sub["reason"].dropna().iloc[0])
            if sub["reason"].notna().any()
            else "no testable lag"
        )
        return row
    # best lag by evidence: smallest p (n-aware), ties -> closest to the hypothesis
    cand = sub[ok]
    key = np.lexsort(
        (
            cand["lag"].to_numpy(),
            np.abs(cand["lag"].to_numpy() - link.lag),
            cand["p_value"].to_numpy(),
        )
    )
    best = int(cand.index[key[0]])
    best_lag = int(sub.loc[best, "lag"])
    q, r = float(sub.loc[best, "q_value"]), float(sub.loc[best, "r"])
    n_best = int(sub.loc[best, "n"])
    mde = float(mde_r(n_best, alpha=thresholds[0]))
    verdict, reason = _verdict(link, best_lag, n_best, r, q, mde, thresholds)
    (g,) = granger_rows(
        data[link.source].to_numpy(dtype=float),
        data[link.target].to_numpy(dtype=float),
        link.source,
        link.target,
        lags=[max(best_lag, 1)],
    )
    row.update(
        best_lag=best_lag,
        lag_mismatch=best_lag != link.lag,
        n=n_best,
        r=r,
        mde_r=mde,
        q_value=q,
        granger_p=float(g["p_value"]),
        verdict=verdict,
        reason=reason,
    )
    return row


def _verdict(
    link: Any,
    best_lag: int,
    n: int,
    r: float,
    q: float,
    mde: float,
    thresholds: tuple[float, float, float],
) -> tuple[str, str | None]:
    """(verdict, reason) at the best lag (see the module notes)."""
    alpha, min_r, meaningful_r = thresholds
    sign = float(np.sign(link.weight if link.kind == "objective" else link.coefficient))
    significant = q <= alpha and abs(r) >= min_r
    if significant and sign * r > 0:
        if best_lag != link.lag:
            return "supported", f"strongest at lag {best_lag}, hypothesised {link.lag}"
        return "supported", None
    if significant:
        if sign == 0:  # a driver coefficient of 0 states no effect at all
            return "contradicted", f"significant r={r:.3f}, but the coefficient 0 states no effect"
        expected = "positive" if sign > 0 else "negative"
        return (
            "contradicted",
            f"significant with the wrong sign (expected {expected} r, got {r:.2f})",
        )
    why = (
        f"not significant: q={q:.3g} > alpha={alpha}"
        if q > alpha
        else f"|r|={abs(r):.3f} < min_r={min_r}"
    )
    if not mde <= meaningful_r:
        return "underpowered", (
            f"{why}; with n={n} only |r| >= {mde:.2f} is detectable "
            f"(80% power), above meaningful_r={meaningful_r}: the data cannot tell"
        )
    return "not supported", (
        f"{why}; n={n} could detect |r| >= {mde:.2f} (80% power): no evidence for the link"
    )


def _paths(model: Model) -> set[tuple[str, str]]:
    """Ordered objective pairs (a, b) joined by a directed path of objective links."""
    succ: dict[str, set[str]] = {}
    for link in model.objective_links:
        succ.setdefault(link.source, set()).add(link.target)
    reach = set()
    for start in succ:
        stack, seen = list(succ[start]), set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            reach.add((start, node))
            stack.extend(succ.get(node, ()))
    return reach


def suggest_links(
    model: ModelLike,
    history: HistoryLike,
    *,
    top: int = 10,
    max_lag: int | None = None,
    alpha: float = 0.05,
    min_r: float = 0.2,
    method: str = "pearson",
    transform: str = "diff",
    include_indirect: bool = False,
    min_periods: int | None = None,
) -> pd.DataFrame:
    """The strongest significant lead–lag pairs between objectives that the map lacks.

    All ordered objective pairs are correlated on their own-evidence scores
    (see the module notes) at lags 0..``max_lag`` (default: the map's largest
    link lag + 2), BH over all of them. Pairs joined by a link (either way)
    are dropped, and so, unless ``include_indirect``, are pairs the map already
    connects through a path of links (either way). A lag-0 pair is oriented
    from the lower perspective to the higher. Of each remaining unordered
    pair, the rows with ``q_value <= alpha`` and ``|r| >= min_r`` are kept and,
    of those, the one with the largest |r|.

    Returns
    -------
    DataFrame
        At most ``top`` rows, upward pairs (source in a lower perspective than
        the target, perspectives listed bottom to top in the model) first, then
        same-level, then downward, each by decreasing |r|. Columns in this
        order: ``source``, ``target``, ``lag``, ``n``, ``r``, ``q_value``,
        ``direction`` ('upward' | 'level' | 'downward'), ``source_perspective``,
        ``target_perspective``.
    """
    where = "suggest_links"
    top_n = check_int(top, "top", where, minimum=1) or 10
    check_choice(method, METHODS, "method", where)
    check_choice(transform, TRANSFORMS, "transform", where)
    check_int(max_lag, "max_lag", where, minimum=0, allow_none=True)
    _check_thresholds(alpha, min_r, where)
    model, wide = load_inputs(model, history)
    if max_lag is None:
        max_lag = max((int(lk.lag) for lk in model.objective_links), default=0) + 2
    table = correlate_transformed(
        evidence_for_tests(model, wide, transform),
        method=method,
        max_lag=max_lag,
        min_periods=check_int(min_periods, "min_periods", where, minimum=3, allow_none=True)
        or DEFAULT_MIN_PERIODS,
    )
    level = {p.id: i for i, p in enumerate(model.perspectives)}
    persp = {o.id: o.perspective for o in model.objectives}
    rank = table["source"].map(persp).map(level) - table["target"].map(persp).map(level)
    flip = (table["lag"] == 0) & (rank > 0)
    src = table["source"].where(~flip, table["target"])
    tgt = table["target"].where(~flip, table["source"])
    table = table.assign(source=src, target=tgt)
    linked = {(lk.source, lk.target) for lk in model.objective_links}
    if not include_indirect:
        linked |= _paths(model)
    linked |= {(b, a) for a, b in linked}
    keep = ~pd.Series(
        [(s, t) in linked for s, t in zip(table["source"], table["target"], strict=True)],
        index=table.index,
        dtype=bool,
    )
    sig = (table["q_value"] <= alpha) & (table["r"].abs() >= min_r) & keep
    cand = table[sig].copy()
    cand["pair"] = [
        tuple(sorted((s, t))) for s, t in zip(cand["source"], cand["target"], strict=True)
    ]
    cand["abs_r"] = cand["r"].abs()
    cand = cand.sort_values("abs_r", ascending=False).drop_duplicates("pair")
    cand["source_perspective"] = cand["source"].map(persp)
    cand["target_perspective"] = cand["target"].map(persp)
    # float: an empty frame keeps the text dtype, which Arrow-backed strings cannot subtract
    diff = cand["target_perspective"].map(level).astype(float) - cand["source_perspective"].map(
        level
    ).astype(float)
    cand["direction"] = np.select([diff > 0, diff == 0], ["upward", "level"], default="downward")
    cand["order"] = np.select([diff > 0, diff == 0], [0, 1], default=2)
    cand = cand.sort_values(["order", "abs_r"], ascending=[True, False]).head(top_n)
    return cand[SUGGEST_COLUMNS].reset_index(drop=True)
