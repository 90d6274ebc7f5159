"""Calibrate link weights and driver coefficients from history, with bootstrap intervals.

Objective → objective links
    For each objective with incoming links, its own-evidence score (see
    :mod:`stratlab.stats.links`) at t is regressed on each cause's score at
    ``t − lag`` by non-negative least squares (:func:`scipy.optimize.nnls`),
    after the transform (default ``diff``) and centering every column (which
    plays the role of the intercept). An inverse link (negative weight) enters
    as the negated cause, the roll-up's ``1 − cause`` up to a constant.

    Normalisation: the roll-up (DESIGN.md) normalises an objective's measure,
    OKR and link weights together, so a link weight only means something
    relative to the others. The calibrated weights keep the analyst's total
    link weight into the objective (the balance between links and the
    objective's own measures) and redistribute it by the data:
    ``weight_l = sign_l · b_l / Σ b · Σ |prior weights|``, where ``b`` are the
    NNLS slopes. So the calibrated share ``|weight_l| / Σ|weight|`` estimates
    each link's share of the objective's incoming causal strength. A link whose
    slope is 0 is dropped from the calibrated model (a zero weight is not a valid
    link) and reported with estimate 0.

Measure → measure driver links
    Ordinary least squares, with an intercept, of each driven measure's
    transformed value on its causes' transformed values at their lags
    (default ``diff``: Δeffect = coefficient × Δcause, as DESIGN.md writes
    drivers; with ``transform='none'`` on levels). The estimate is the
    coefficient in natural units.

Uncertainty
    Pairs bootstrap: the regression rows (period t with its lagged causes) are
    resampled with replacement ``n_boot`` times (``numpy.random.default_rng(seed)``);
    ``ci_low``/``ci_high`` are the 5th and 95th percentiles of the calibrated
    quantity, and become the link's ``weight_range`` in the calibrated model
    (objective links; driver links have no range field). ``r2`` is the fit's
    R² on the centred (objective) or intercept (driver) model, per effect.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from stratlab._util import check_int
from stratlab.stats._common import TRANSFORMS, check_choice, transform_frame
from stratlab.stats.links import evidence_for_tests, load_inputs

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
    "r2",
    "n",
]


def calibrate(
    model: Any,
    history: Any,
    *,
    n_boot: int = 200,
    seed: int | None = 0,
    transform: str = "diff",
) -> CalibrationResult:
    """Estimate the map's link weights and driver coefficients from a KPI history.

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path
    n_boot : int
        Bootstrap replicates for the intervals (0: no intervals).
    seed : int or None
        Seed of ``numpy.random.default_rng`` for the bootstrap.
    transform : {'diff', 'pct_change', 'detrend', 'none'}
        Applied to scores and values before the regressions.

    Returns
    -------
    CalibrationResult
        Computed lazily: ``.to_frame()`` (columns ``source, target, kind, lag,
        prior, estimate, ci_low, ci_high, r2, n``), ``.model`` (the calibrated
        Model), ``.dropped_links``, ``.html()``.
    """
    where = "calibrate"
    boots = check_int(n_boot, "n_boot", where, minimum=0)
    transform = check_choice(transform, TRANSFORMS, "transform", where)
    if seed is not None:
        check_int(seed, "seed", where, minimum=0)
    model, wide = load_inputs(model, history)
    return CalibrationResult(
        prior=model, history=wide, n_boot=boots or 0, seed=seed, transform=transform
    )


@dataclass(frozen=True, eq=False, repr=False)
class CalibrationResult:
    """Calibrated weights of a model (see :func:`calibrate`); computed on first use."""

    prior: Any = field(repr=False)
    history: pd.DataFrame = field(repr=False)
    n_boot: int = 200
    seed: int | None = 0
    transform: str = "diff"

    @cached_property
    def _fit(self) -> pd.DataFrame:
        rng = np.random.default_rng(self.seed)
        model = self.prior
        evidence = evidence_for_tests(model, self.history, self.transform)
        values = transform_frame(
            self.history.reindex(columns=[m.id for m in model.measures]), self.transform
        )
        rows: list[dict[str, Any]] = []
        targets = list(dict.fromkeys(lk.target for lk in model.links))
        for tgt in targets:  # one regression per effect
            incoming = [lk for lk in model.links if lk.target == tgt]
            for kind in ("objective", "driver"):
                group = [lk for lk in incoming if lk.kind == kind]
                if group:
                    frame = evidence if kind == "objective" else values
                    rows.extend(_fit_effect(frame, group, kind, self.n_boot, rng))
        order = {(lk.source, lk.target): i for i, lk in enumerate(model.links)}
        out = pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)
        out["_o"] = [order[(s, t)] for s, t in zip(out["source"], out["target"], strict=True)]
        return out.sort_values("_o").drop(columns="_o").reset_index(drop=True)

    def __repr__(self) -> str:
        return f"<CalibrationResult for {self.prior.name!r}: {len(self.prior.links)} links>"

    def to_frame(self) -> pd.DataFrame:
        """One row per link: ``source, target, kind, lag, prior, estimate, ci_low, ci_high, r2, n``.

        ``estimate`` is NaN when the effect had too few complete periods (the
        prior is kept in :attr:`model`).
        """
        return self._fit.copy()

    @cached_property
    def dropped_links(self) -> tuple[tuple[str, str], ...]:
        """Objective links whose calibrated weight is 0 (left out of :attr:`model`)."""
        fit = self._fit
        zero = (fit["kind"] == "objective") & (fit["estimate"] == 0)
        return tuple(zip(fit.loc[zero, "source"], fit.loc[zero, "target"], strict=True))

    @cached_property
    def model(self) -> Any:
        """A new Model with the calibrated weights, ranges and coefficients."""
        fit = self._fit.set_index(["source", "target"])
        links = []
        for lk in self.prior.links:
            row = fit.loc[(lk.source, lk.target)]
            est = float(row["estimate"])
            if not np.isfinite(est):
                links.append(lk)
                continue
            lo, hi = float(row["ci_low"]), float(row["ci_high"])
            if lk.kind == "objective":
                if est == 0:
                    continue
                wrange = (lo, hi) if np.isfinite(lo) and np.isfinite(hi) and lo < hi else None
                if wrange is not None and (wrange[0] * est < 0 or wrange[1] * est < 0):
                    # keep the range on the link's side of zero (NNLS bootstrap may hit 0)
                    wrange = (0.0, hi) if est > 0 else (lo, 0.0)
                links.append(dataclasses.replace(lk, weight=est, weight_range=wrange))
            else:
                links.append(dataclasses.replace(lk, coefficient=est))
        new = dataclasses.replace(self.prior, links=tuple(links))
        self.prior.replace(links=tuple(links))  # validate (raises ModelError if invalid)
        return new

    def html(self) -> str:
        """An HTML table of :meth:`to_frame` with a one-line summary (the shared renderer)."""
        from stratlab.render import result_html

        frame = self.to_frame()
        note = (
            f"{len(frame)} links from {len(self.history)} periods (transform {self.transform}, "
            f"{self.n_boot} bootstrap replicates, 5–95% intervals)"
        )
        return result_html("Calibration", frame, notes=[note], status_column=None)

    def _repr_html_(self) -> str:
        return self.html()


def _fit_effect(
    frame: pd.DataFrame, group: list[Any], kind: str, n_boot: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    from scipy.optimize import nnls

    tgt = group[0].target
    y = frame[tgt].to_numpy(dtype=float)
    t_len = len(y)
    cols = []
    for lk in group:
        x = frame[lk.source].to_numpy(dtype=float)
        shifted = np.full(t_len, np.nan)
        if lk.lag < t_len:
            shifted[lk.lag :] = x[: t_len - lk.lag]
        sign = -1.0 if kind == "objective" and (lk.weight or 0) < 0 else 1.0
        cols.append(sign * shifted)
    xmat = np.column_stack(cols)
    ok = np.isfinite(y) & np.isfinite(xmat).all(axis=1)
    y_ok, x_ok = y[ok], xmat[ok]
    n, m = len(y_ok), len(group)
    prior = np.array(
        [lk.weight if kind == "objective" else lk.coefficient for lk in group], dtype=float
    )
    signs = np.sign(prior)
    total = np.abs(prior).sum()

    def estimate(yy: np.ndarray, xx: np.ndarray) -> tuple[np.ndarray, float]:
        if kind == "objective":
            yc, xc = yy - yy.mean(), xx - xx.mean(axis=0)
            b, _ = nnls(xc, yc)
            resid = yc - xc @ b
            sst = float(yc @ yc)
            s = b.sum()
            est = signs * b / s * total if s > 0 else np.full(m, np.nan)
            if s > 0:
                est[b == 0] = 0.0
        else:
            design = np.column_stack([np.ones(len(yy)), xx])
            coef, *_ = np.linalg.lstsq(design, yy, rcond=None)
            resid = yy - design @ coef
            yc = yy - yy.mean()
            sst = float(yc @ yc)
            est = coef[1:]
        r2 = 1.0 - float(resid @ resid) / sst if sst > 0 else np.nan
        return est, r2

    est = np.full(m, np.nan)
    r2 = np.nan
    lo = np.full(m, np.nan)
    hi = np.full(m, np.nan)
    if n >= m + 3:
        est, r2 = estimate(y_ok, x_ok)
        if n_boot > 0 and np.isfinite(est).any():
            idx = rng.integers(0, n, size=(n_boot, n))
            boot = np.array([estimate(y_ok[i], x_ok[i])[0] for i in idx])
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
            "r2": float(r2),
            "n": int(n),
        }
        for j, lk in enumerate(group)
    ]
