"""Leaf scores (measures, key results), status, and the roll-up of one period."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._compile import Compiled, solve_weighted

if TYPE_CHECKING:
    from ..model import Model


# --------------------------------------------------------------------------- leaf scores


def measure_params(model: Model) -> dict[str, np.ndarray]:
    """The measures' scoring parameters as arrays (cached on the model)."""
    return model.cache.get("engine.measure_params", lambda: _measure_params(model))


def _measure_params(model: Model) -> dict[str, np.ndarray]:
    ms = model.measures
    nan = np.nan
    params = {
        "baseline": np.array(
            [m.baseline if m.baseline is not None else nan for m in ms], dtype=float
        ),
        "target": np.array([m.target if m.target is not None else nan for m in ms], dtype=float),
        "band": np.array([m.direction == "band" for m in ms], dtype=bool),
        "lo": np.array([m.band[0] if m.band else nan for m in ms], dtype=float),
        "hi": np.array([m.band[1] if m.band else nan for m in ms], dtype=float),
        "tol": np.array([m.tolerance if m.tolerance else nan for m in ms], dtype=float),
        "cap": np.array([m.cap for m in ms], dtype=float),
    }
    return params


def params_at(model: Model, at: Any) -> dict[str, np.ndarray]:
    """Measure parameters with the targets in force at period ``at`` (phased ``targets``)."""
    p = measure_params(model)
    if at is None or not any(m.targets for m in model.measures):
        return p
    target = np.array(
        [np.nan if (t := m.target_at(at)) is None else t for m in model.measures], dtype=float
    )
    return {**p, "target": target}


def targets_in_force(model: Model, periods: Any) -> np.ndarray:
    """Targets in force (periods × measures) for each period (phased ``targets``, else ``target``)."""
    rows = [params_at(model, per)["target"] for per in periods]
    return np.array(rows, dtype=float).reshape(len(rows), len(model.measures))


def score_measure_values(model: Model, values: np.ndarray, *, at: Any = None) -> np.ndarray:
    """Score measure values (last axis in model order) to [0, cap]; NaN stays NaN.

    ``at`` (a period) scores against the targets in force then (phased ``targets``).
    """
    return score_with_params(params_at(model, at), np.asarray(values, dtype=float))


def score_rows(model: Model, values: np.ndarray, periods: Any) -> np.ndarray:
    """Score a periods × measures block, each row against the targets in force in its period."""
    p = measure_params(model)
    if any(m.targets for m in model.measures) and len(periods):
        p = {**p, "target": targets_in_force(model, periods)}
    return score_with_params(p, np.asarray(values, dtype=float))


def score_with_params(p: dict[str, np.ndarray], values: np.ndarray) -> np.ndarray:
    """DESIGN.md's measure score, with measure parameters ``p`` broadcast against ``values``.

    ``p`` holds ``baseline, target, band, lo, hi, tol, cap`` arrays (see
    ``measure_params``), shaped to broadcast with ``values`` — e.g. sliced
    ``[idx, None]`` for a measures × samples block.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        linear = (values - p["baseline"]) / (p["target"] - p["baseline"])
        outside = np.maximum(p["lo"] - values, values - p["hi"])
        band = np.where(outside <= 0, 1.0, 1.0 - outside / p["tol"])
    raw = np.where(p["band"], band, linear)
    return np.where(np.isnan(values), np.nan, np.clip(raw, 0.0, p["cap"]))


def score_kr_values(model: Model, values: np.ndarray) -> np.ndarray:
    """Grade key-result values (last axis in model order) 0.0–1.0; NaN stays NaN."""
    krs = model.key_results
    start = np.array([kr.start for kr in krs], dtype=float)
    target = np.array([kr.target for kr in krs], dtype=float)
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        raw = (values - start) / (target - start)
    return np.where(np.isnan(values), np.nan, np.clip(raw, 0.0, 1.0))


def status_of(
    scores: np.ndarray, green: np.ndarray | float, amber: np.ndarray | float
) -> np.ndarray:
    """``green``/``amber``/``red`` by threshold, ``no data`` where the score is NaN."""
    scores = np.asarray(scores, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.select(
            [np.isnan(scores), scores >= green, scores >= amber],
            ["no data", "green", "amber"],
            default="red",
        )


# --------------------------------------------------------------------------- roll-up


def rollup_all(
    compiled: Compiled,
    measure_scores: np.ndarray,
    kr_scores: np.ndarray,
    *,
    lagged: dict[int, np.ndarray] | None = None,
    links: bool = True,
) -> dict[str, Any]:
    """Roll leaf scores up to OKRs, objectives and perspectives for one point in time.

    ``lagged`` maps a lag k ≥ 1 to the objective scores k periods earlier; when it
    is None every link is read at the same time (the steady state).  With
    ``links=False`` objectives are scored from their own measures and OKRs only.
    An objective with measures or OKRs of its own but no score on any of them
    gets no score (``objective_blocked`` marks them): links alone don't make a
    status.
    """

    okr = solve_weighted(compiled.kr_weights, kr_scores, compiled.okr_children)
    inputs = compiled.objective_inputs
    values = np.concatenate([measure_scores, okr.scores])
    # an objective with measures or OKRs of its own but no data on any of them has no
    # score: its links alone don't make a status (DESIGN.md, "Honest statuses")
    own_data = (abs(inputs) @ np.isfinite(values).astype(float)) > 0
    blocked = compiled.has_own_inputs & ~own_data
    if not links:
        obj = solve_weighted(inputs, values)
    elif lagged is None:
        obj = solve_weighted(
            inputs, values, compiled.all_links, full_weight=compiled.full_weight, blocked=blocked
        )
    else:
        n = len(compiled.objectives)
        fixed = [
            (mat, lagged.get(lag, np.full(n, np.nan)))
            for lag, mat in compiled.links.items()
            if lag > 0
        ]
        obj = solve_weighted(
            inputs,
            values,
            compiled.links.get(0),
            fixed=fixed,
            full_weight=compiled.full_weight,
            blocked=blocked,
        )
    if blocked.any() and links:
        obj.coverage[blocked] = 0.0  # none of its own inputs had a score
    persp = solve_weighted(compiled.perspective_weights, obj.scores)
    return {
        "okr": okr.scores,
        "okr_coverage": okr.coverage,
        "objective": obj.scores,
        "objective_coverage": obj.coverage,
        "objective_blocked": blocked,
        "perspective": persp.scores,
        "perspective_coverage": persp.coverage,
    }
