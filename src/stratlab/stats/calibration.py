"""Calibrate link weights and driver coefficients from history, with bootstrap intervals.

What is estimated
-----------------
Objective → objective links
    The strength of a link is the **standardised slope** of the effect on the
    cause: the effect's own-evidence score (see :mod:`stratlab.stats.links`) at
    ``t`` is regressed by ordinary least squares on every cause's score at
    ``t − lag`` (after the transform, default ``diff``), with every column
    standardised to mean 0 and standard deviation 1. A slope of 0.5 says: when
    the cause moves by one standard deviation, the effect moves by half of
    one, the other causes held fixed. This scale exists with a single cause
    too (it is then the correlation), so an objective with one incoming link
    gets a real estimate and a real interval. It is the scale of the
    analyst's weights: a prior weight of 0.5 claims exactly that, and an
    inverse link (negative weight) claims a negative slope. Nothing is
    constrained: a slope with the wrong sign is reported as it is.

Measure → measure driver links
    Ordinary least squares, with an intercept, of each driven measure's
    transformed value on its causes' transformed values at their lags
    (default ``diff``: Δeffect = coefficient × Δcause, as DESIGN.md writes
    drivers). The estimate is the coefficient in natural units.

Uncertainty
    Pairs bootstrap: the regression rows (period t with its lagged causes) are
    resampled with replacement ``n_boot`` times (``numpy.random.default_rng(seed)``),
    the whole fit (standardisation included) is redone on each; ``ci_low`` and
    ``ci_high`` are the 5th and 95th percentiles (a 90 % interval). ``r2`` is
    the R² of the effect's regression (one value per effect).

When the weights move
---------------------
The verdict of each link is :func:`stratlab.check_links`' verdict for it
(the same call, the same thresholds: one vocabulary, one source of truth).
The calibrated model takes the estimate (rounded to 3 significant digits)
and its interval as the link's ``weight`` and ``weight_range`` (drivers:
``coefficient``) only when

* the verdict is ``supported`` at the hypothesised lag,
* the effect's ``r2`` is at least ``min_r2`` (default 0.05): below it the
  causes explain too little of the effect to move the analyst's weights, and
* the estimate has the prior's sign (never flipped silently).

Otherwise the link **stays in the model with its prior weight** and the
``note`` says why (contradicted, not supported, underpowered, untestable,
R² too low, another lag, opposite sign). No link is ever dropped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stratlab._util import check_int
from stratlab.stats._common import TRANSFORMS, check_choice, transform_frame
from stratlab.stats.links import _check_thresholds, check_links, evidence_for_tests, load_inputs

if TYPE_CHECKING:
    from ..typing import HistoryLike, ModelLike

__all__ = ["CALIBRATION_COLUMNS", "CalibrationResult", "calibrate"]

CALIBRATION_COLUMNS = [
    "source",
    "target",
    "kind",
    "lag",
    "prior",
    "estimate",
    "ci_low",
    "ci_high",
    "n",
    "r2",
    "verdict",
    "note",
]


def calibrate(
    model: ModelLike,
    history: HistoryLike,
    *,
    n_boot: int = 200,
    seed: int | None = 0,
    transform: str = "diff",
    alpha: float = 0.05,
    min_r: float = 0.2,
    meaningful_r: float = 0.3,
    min_r2: float = 0.05,
) -> CalibrationResult:
    """Estimate the map's link strengths and driver coefficients from a KPI history.

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path
    n_boot : int
        Bootstrap replicates for the intervals (0: no intervals).
    seed : int or None
        Seed of ``numpy.random.default_rng`` for the bootstrap.
    transform : {'diff', 'pct_change', 'detrend', 'none'}
        Applied to scores and values before the regressions and link tests.
    alpha, min_r, meaningful_r : float
        Passed to :func:`stratlab.check_links`, whose verdicts the table repeats.
    min_r2 : float
        Smallest R² of an effect's regression that may move its links'
        weights (default 0.05).

    Returns
    -------
    CalibrationResult
        Computed lazily: ``.to_frame()`` (columns ``source, target, kind, lag,
        prior, estimate, ci_low, ci_high, n, r2, verdict, note``), ``.model``
        (the calibrated Model: every link of the prior, none dropped),
        ``.html()``.
    """
    where = "calibrate"
    boots = check_int(n_boot, "n_boot", where, minimum=0)
    transform = check_choice(transform, TRANSFORMS, "transform", where)
    if seed is not None:
        check_int(seed, "seed", where, minimum=0)
    _check_thresholds(alpha, min_r, where, meaningful_r)
    if not isinstance(min_r2, int | float) or isinstance(min_r2, bool) or not 0 <= min_r2 < 1:
        from stratlab.errors import InputError, Problem

        raise InputError(
            Problem(f"{where}: min_r2={min_r2!r} must be a number in [0, 1).", fix="e.g. 0.05.")
        )
    model, wide = load_inputs(model, history)
    return CalibrationResult(
        prior=model,
        history=wide,
        n_boot=boots or 0,
        seed=seed,
        transform=transform,
        alpha=float(alpha),
        min_r=float(min_r),
        meaningful_r=float(meaningful_r),
        min_r2=float(min_r2),
    )


@dataclass(frozen=True, eq=False, repr=False)
class CalibrationResult:
    """Calibrated weights of a model (see :func:`calibrate`); computed on first use."""

    prior: Any = field(repr=False)
    history: pd.DataFrame = field(repr=False)
    n_boot: int = 200
    seed: int | None = 0
    transform: str = "diff"
    alpha: float = 0.05
    min_r: float = 0.2
    meaningful_r: float = 0.3
    min_r2: float = 0.05

    @cached_property
    def checks(self) -> pd.DataFrame:
        """The :func:`stratlab.check_links` table the verdicts come from."""
        return check_links(
            self.prior,
            self.history,
            alpha=self.alpha,
            min_r=self.min_r,
            meaningful_r=self.meaningful_r,
            transform=self.transform,
        )

    @cached_property
    def _fit(self) -> tuple[pd.DataFrame, dict[tuple[str, str], Any]]:
        rng = np.random.default_rng(self.seed)
        model = self.prior
        evidence = evidence_for_tests(model, self.history, self.transform)
        values = transform_frame(
            self.history.reindex(columns=[m.id for m in model.measures]), self.transform
        )
        fits: dict[tuple[str, str], dict[str, Any]] = {}
        targets = list(dict.fromkeys(lk.target for lk in model.links))
        for tgt in targets:  # one regression per effect
            incoming = [lk for lk in model.links if lk.target == tgt]
            for kind in ("objective", "driver"):
                group = [lk for lk in incoming if lk.kind == kind]
                if group:
                    frame = evidence if kind == "objective" else values
                    for row in _fit_effect(frame, group, kind, self.n_boot, rng):
                        fits[(row["source"], row["target"])] = row
        checks = self.checks.set_index(["source", "target"])
        rows = []
        updates: dict[tuple[str, str], Any] = {}
        for lk in model.links:
            key = (lk.source, lk.target)
            row = dict(fits[key])
            check = checks.loc[key]
            row["verdict"] = str(check["verdict"])
            row["note"], updates[key] = self._decide(lk, row, check)
            rows.append(row)
        return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS), updates

    def _decide(self, lk: Any, row: dict[str, Any], check: Any) -> tuple[str, Any]:
        """(note, the new link or None to keep the prior) for one link."""
        est, lo, hi, r2 = row["estimate"], row["ci_low"], row["ci_high"], row["r2"]
        verdict = row["verdict"]
        kept = "prior kept"
        if verdict == "contradicted":
            return (
                f"contradicted: r={check['r']:.2f} at lag {check['best_lag']} against the "
                f"prior's sign; {kept} (review the link's direction; not flipped)",
                None,
            )
        if verdict == "untestable":
            return f"untestable ({check['reason']}); {kept}", None
        if verdict == "underpowered":
            return (
                f"underpowered: with n={check['n']} only |r| >= {check['mde_r']:.2f} is "
                f"detectable; {kept}",
                None,
            )
        if verdict == "not supported":
            return f"not supported by the data (r={check['r']:.2f}); {kept}", None
        if not np.isfinite(est):
            return f"not estimated: too few complete periods (n={row['n']}); {kept}", None
        if bool(check["lag_mismatch"]):
            return (
                f"supported at lag {check['best_lag']}, not the hypothesised {lk.lag}; {kept} "
                f"(consider lag: {check['best_lag']})",
                None,
            )
        if not r2 >= self.min_r2:
            return (
                f"R²={r2:.3f} < min_r2={self.min_r2}: the causes explain too little of "
                f"{lk.target} to move the weights; {kept}",
                None,
            )
        prior = lk.weight if lk.kind == "objective" else lk.coefficient
        if prior and np.sign(est) != np.sign(prior):
            return (
                f"estimate {est:.3g} has the opposite sign of the prior {prior:.3g} with the "
                f"other causes held fixed; {kept}",
                None,
            )
        value = _sig(est)
        if lk.kind == "driver":
            return f"coefficient set to {value:g}", dataclasses.replace(lk, coefficient=value)
        wrange = None
        if np.isfinite(lo) and np.isfinite(hi):
            low, high = min(_sig(lo), value), max(_sig(hi), value)
            if value > 0:
                low = max(low, 0.0)
            else:
                high = min(high, 0.0)
            wrange = (low, high) if low < high else None
        new = dataclasses.replace(lk, weight=value, weight_range=wrange)
        return f"weight set to {value:g}", new

    def __repr__(self) -> str:
        return f"<CalibrationResult for {self.prior.name!r}: {len(self.prior.links)} links>"

    def to_frame(self) -> pd.DataFrame:
        """One row per link of the prior, in model order.

        Columns, in this order: ``source``, ``target``, ``kind`` ('objective' |
        'driver'), ``lag`` (the hypothesised lag, used for the estimate),
        ``prior`` (the analyst's weight or coefficient), ``estimate``
        (standardised slope for objective links, natural-unit coefficient for
        drivers; NaN when the effect had too few complete periods),
        ``ci_low``, ``ci_high`` (5–95 % bootstrap interval), ``n`` (complete
        periods of the regression), ``r2`` (of the effect's regression),
        ``verdict`` (from :func:`stratlab.check_links`), ``note`` (what the
        calibrated model does with the link, and why).
        """
        return self._fit[0].copy()

    @cached_property
    def model(self) -> Any:
        """A new Model: calibrated where the data supports it, the prior elsewhere.

        Every link of the prior is kept (see the module notes).
        """
        updates = self._fit[1]
        links = tuple(updates.get((lk.source, lk.target)) or lk for lk in self.prior.links)
        return self.prior.replace(links=links)

    def html(self) -> str:
        """An HTML table of :meth:`to_frame` with a one-line summary (the shared renderer)."""
        from stratlab.render import result_html

        frame = self.to_frame()
        moved = int(frame["note"].str.startswith(("weight set", "coefficient set")).sum())
        note = (
            f"{len(frame)} links from {len(self.history)} periods (transform {self.transform}, "
            f"{self.n_boot} bootstrap replicates, 5–95% intervals); {moved} calibrated, "
            f"{len(frame) - moved} keep the prior weight"
        )
        return result_html("Calibration", frame, notes=[note], status_column=None)

    def _repr_html_(self) -> str:
        return self.html()


def _sig(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant digits."""
    return float(f"{x:.{digits}g}")


def _standardised_fit(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched standardised OLS: y (B, n), x (B, n, m) -> (slopes (B, m), R² (B,))."""
    with np.errstate(invalid="ignore", divide="ignore"):
        yc = y - y.mean(axis=1, keepdims=True)
        xc = x - x.mean(axis=1, keepdims=True)
        ysd = np.sqrt((yc**2).sum(axis=1))
        xsd = np.sqrt((xc**2).sum(axis=1))
        yz = yc / ysd[:, None]
        xz = xc / xsd[:, None, :]
        bad = ~np.isfinite(xz).all(axis=(1, 2)) | ~np.isfinite(yz).all(axis=1)
        xz = np.where(np.isfinite(xz), xz, 0.0)
        yz = np.where(np.isfinite(yz), yz, 0.0)
        beta = (np.linalg.pinv(xz) @ yz[:, :, None])[:, :, 0]
        resid = yz - (xz @ beta[:, :, None])[:, :, 0]
        r2 = 1.0 - (resid**2).sum(axis=1)  # yz has unit sum of squares
    beta[bad] = np.nan
    r2[bad] = np.nan
    return beta, r2


def _driver_fit(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched OLS with intercept in natural units -> (coefficients (B, m), R² (B,))."""
    ones = np.ones((*x.shape[:2], 1))
    design = np.concatenate([ones, x], axis=2)
    coef = (np.linalg.pinv(design) @ y[:, :, None])[:, :, 0]
    resid = y - (design @ coef[:, :, None])[:, :, 0]
    yc = y - y.mean(axis=1, keepdims=True)
    sst = (yc**2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(sst > 0, 1.0 - (resid**2).sum(axis=1) / sst, np.nan)
    const = (x.std(axis=1) == 0).any(axis=1) | (sst == 0)
    out = coef[:, 1:]
    out[const] = np.nan
    return out, r2


def _fit_effect(
    frame: pd.DataFrame, group: list[Any], kind: str, n_boot: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    tgt = group[0].target
    y = frame[tgt].to_numpy(dtype=float)
    t_len = len(y)
    cols = []
    for lk in group:
        x = frame[lk.source].to_numpy(dtype=float)
        shifted = np.full(t_len, np.nan)
        if lk.lag < t_len:
            shifted[lk.lag :] = x[: t_len - lk.lag]
        cols.append(shifted)
    xmat = np.column_stack(cols)
    ok = np.isfinite(y) & np.isfinite(xmat).all(axis=1)
    y_ok, x_ok = y[ok], xmat[ok]
    n, m = len(y_ok), len(group)
    prior = np.array(
        [lk.weight if kind == "objective" else lk.coefficient for lk in group], dtype=float
    )
    fit = _standardised_fit if kind == "objective" else _driver_fit
    est = np.full(m, np.nan)
    r2 = np.nan
    lo = np.full(m, np.nan)
    hi = np.full(m, np.nan)
    if n >= m + 3:
        b, r = fit(y_ok[None, :], x_ok[None, :, :])
        est, r2 = b[0], float(r[0])
        if n_boot > 0 and np.isfinite(est).any():
            idx = rng.integers(0, n, size=(n_boot, n))
            boot, _ = fit(y_ok[idx], x_ok[idx])
            with np.errstate(all="ignore"):
                if np.isfinite(boot).any():
                    lo, hi = np.nanpercentile(boot, [5, 95], axis=0)
    return [
        {
            "source": lk.source,
            "target": tgt,
            "kind": kind,
            "lag": int(lk.lag),
            "prior": float(prior[j]),
            "estimate": float(est[j]),
            "ci_low": float(lo[j]),
            "ci_high": float(hi[j]),
            "n": int(n),
            "r2": float(r2),
        }
        for j, lk in enumerate(group)
    ]
