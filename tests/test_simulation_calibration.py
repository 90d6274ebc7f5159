"""Monte Carlo p_green is calibrated: outcomes drawn from a known generative process
turn green about as often as predicted.

Generator: each measure is a random walk with Gaussian steps of a known, per-measure
standard deviation (the process stratlab's Monte Carlo assumes for measures). Its
history (120 months) is shifted so that the walk ends at a chosen current value
around the green line (score 0.7 = value 70 on a 0 → 100 scale); the truth for the
next month is one more step of the same walk. Predictions are grouped into bins of
p_green; in each bin the number of green outcomes must lie inside the central 99.9 %
interval of the Poisson-binomial count implied by the predictions (normal
approximation, mean sum p, variance sum p(1 - p)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stratlab.simulation import simulate

N_MEASURES, N_PERIODS, WORLDS = 240, 120, 3
BINS = np.array([0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0])


def _world(seed: int) -> tuple[dict[str, object], pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sd = rng.uniform(1.0, 6.0, N_MEASURES)
    current = 70 + rng.uniform(-2.5, 2.5, N_MEASURES) * sd
    steps = rng.normal(size=(N_PERIODS - 1, N_MEASURES)) * sd
    walk = np.vstack([np.zeros(N_MEASURES), np.cumsum(steps, axis=0)])
    walk += current - walk[-1]  # ends exactly at `current`
    ids = [f"m{i:03d}" for i in range(N_MEASURES)]
    index = pd.period_range("2016-01", periods=N_PERIODS, freq="M", name="period")
    history = pd.DataFrame(walk, index=index, columns=ids)
    spec = {
        "stratlab": 1,
        "name": "calibration world",
        "period": "month",
        "objectives": [
            {"id": f"o{j}", "name": f"O{j}", "perspective": "process"} for j in range(8)
        ],
        "measures": [
            {"id": m, "name": m, "objective": f"o{i % 8}", "baseline": 0, "target": 100}
            for i, m in enumerate(ids)
        ],
    }
    outcome = current + sd * rng.normal(size=N_MEASURES)  # the truth, one month on
    return spec, history, outcome >= 70.0, sd


def _predicted_and_observed(spread: float) -> tuple[np.ndarray, np.ndarray]:
    preds, hits = [], []
    for seed in range(WORLDS):
        spec, history, green, _ = _world(seed)
        summary = simulate(
            spec, history, samples=4096, seed=seed, horizon=1, elapsed=0.5, spread=spread
        ).summary()
        p = summary.set_index("id").loc[history.columns, "p_green"].to_numpy(dtype=float)
        preds.append(p)
        hits.append(green)
    return np.concatenate(preds), np.concatenate(hits)


def _bins_outside(pred: np.ndarray, hit: np.ndarray) -> list[str]:
    from scipy.stats import norm

    z = norm.ppf(1 - 0.001 / 2)
    bad = []
    which = np.clip(np.digitize(pred, BINS) - 1, 0, len(BINS) - 2)
    for b in range(len(BINS) - 1):
        sel = which == b
        if sel.sum() < 20:
            continue
        mean = pred[sel].sum()
        sd = np.sqrt((pred[sel] * (1 - pred[sel])).sum())
        observed = hit[sel].sum()
        if abs(observed - mean) > z * sd + 0.5:
            bad.append(
                f"bin {BINS[b]:.1f}-{BINS[b + 1]:.1f}: {observed} green, {mean:.1f} expected"
            )
    return bad


@pytest.mark.slow
def test_p_green_is_calibrated_over_bins() -> None:
    pred, hit = _predicted_and_observed(spread=1.0)
    filled = np.bincount(np.clip(np.digitize(pred, BINS) - 1, 0, 5), minlength=6)
    assert (filled >= 20).sum() >= 5  # the check covers the whole range of p_green
    assert _bins_outside(pred, hit) == []
    # the same check catches a Monte Carlo whose spread is wrong (2.5 times too wide)
    wide_pred, wide_hit = _predicted_and_observed(spread=2.5)
    assert _bins_outside(wide_pred, wide_hit) != []
