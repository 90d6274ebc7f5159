"""Calibration measures the link: intervals that cover known strengths over seeds,
a zero link that covers 0, nothing dropped, one verdict with check_links, and the
power-aware verdicts (mde_r, underpowered / not supported, best lag by evidence).

The generator here is written for these tests: objectives move by independent
standard-normal increments, and an effect's increment is
``sum_j beta_j * cause_j increment (lag_j) + noise`` with the noise variance chosen so
that every increment has variance 1. The standardised slopes are then exactly the
``beta_j`` (the causes are independent), which is what calibrate estimates on
``diff``.  Each objective has one measure equal to its level (scores are linear:
baseline 0, target 1000, levels stay near 500), so nothing is clipped.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from stratlab.io import load_model
from stratlab.stats.calibration import CALIBRATION_COLUMNS, calibrate
from stratlab.stats.links import VERDICTS, check_links, mde_r

#: (source, target, true standardised slope, lag) of the generator; all in the model.
TRUTH = [
    ("a", "c", 0.6, 1),
    ("b", "c", 0.0, 0),  # a zero link the analyst believes in
    ("d", "e", 0.5, 0),  # a single incoming link
]


def _generate(seed: int, periods: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    inc = {k: rng.normal(size=periods) for k in "abd"}
    for target in ("c", "e"):
        into = [(s, b, lag) for s, t, b, lag in TRUTH if t == target]
        own_sd = np.sqrt(1.0 - sum(b**2 for _, b, _ in into))
        y = own_sd * rng.normal(size=periods)
        for src, beta, lag in into:
            y[lag:] += beta * inc[src][: periods - lag]
            y[:lag] += beta * rng.normal(size=lag)  # causes before the window
        inc[target] = y
    index = pd.period_range("2019-01", periods=periods, freq="M", name="period")
    return pd.DataFrame({f"{k}_kpi": 500 + np.cumsum(v) for k, v in inc.items()}, index=index)


def _spec(weights: dict[tuple[str, str], float] | None = None) -> dict[str, object]:
    weights = weights or {}
    persp = {"a": "learning", "b": "learning", "d": "learning", "c": "process", "e": "process"}
    return {
        "stratlab": 1,
        "name": "Known strengths",
        "period": "month",
        "objectives": [{"id": k, "name": k.upper(), "perspective": p} for k, p in persp.items()],
        "measures": [
            {"id": f"{k}_kpi", "name": k, "objective": k, "baseline": 0, "target": 1000}
            for k in persp
        ],
        "links": [
            {"from": s, "to": t, "weight": weights.get((s, t), 0.4), "lag": lag}
            for s, t, _, lag in TRUTH
        ],
    }


@pytest.mark.slow
def test_intervals_cover_known_strengths_over_seeds() -> None:
    model = load_model(_spec())
    truth = {(s, t): b for s, t, b, _ in TRUTH}
    covered: dict[tuple[str, str], list[bool]] = {k: [] for k in truth}
    widths = []
    for seed in range(24):
        frame = calibrate(model, _generate(seed), n_boot=100, seed=seed).to_frame()
        for row in frame.itertuples():
            key = (row.source, row.target)
            covered[key].append(row.ci_low <= truth[key] <= row.ci_high)
            widths.append(row.ci_high - row.ci_low)
    rates = {k: float(np.mean(v)) for k, v in covered.items()}
    pooled = float(np.mean([c for v in covered.values() for c in v]))
    # nominal 90%: 72 intervals, binomial sd ~0.035; percentile bootstraps run a little low
    assert 0.78 <= pooled <= 0.98, rates
    assert min(rates.values()) >= 0.66, rates
    assert rates[("b", "c")] >= 0.75  # the zero link's interval covers 0
    assert min(widths) > 0.1  # never a zero-width interval (one link into e included)


def test_nothing_disappears_and_the_note_says_why() -> None:
    model = load_model(_spec())
    cal = calibrate(model, _generate(3), n_boot=100, seed=0)
    frame = cal.to_frame()
    assert list(frame.columns) == CALIBRATION_COLUMNS
    assert set(frame["verdict"]) <= set(VERDICTS)
    assert frame["note"].notna().all()
    new = cal.model
    assert [(lk.source, lk.target, lk.lag) for lk in new.links] == [
        (lk.source, lk.target, lk.lag) for lk in model.links
    ]
    by = frame.set_index(["source", "target"])
    zero = by.loc[("b", "c")]
    assert zero["verdict"] in ("not supported", "underpowered")
    assert "prior kept" in zero["note"]
    assert next(lk for lk in new.links if lk.source == "b").weight == 0.4
    # the supported ones move to the estimate at 3 significant digits, inside their range
    for lk in new.links:
        if by.loc[(lk.source, lk.target), "verdict"] == "supported":
            est = by.loc[(lk.source, lk.target), "estimate"]
            assert lk.weight == float(f"{est:.3g}")
            assert lk.weight_range is not None
            assert lk.weight_range[0] <= lk.weight <= lk.weight_range[1]
    single = by.loc[("d", "e")]
    assert single["verdict"] == "supported" and single["ci_low"] < 0.5 < single["ci_high"]
    assert single["r2"] == pytest.approx(single["estimate"] ** 2)  # one cause: R² = r²


def test_sign_flipped_link_is_contradicted_in_both_and_never_flipped() -> None:
    model = load_model(_spec({("a", "c"): -0.5}))
    history = _generate(5)
    checks = check_links(model, history).set_index(["source", "target"])
    cal = calibrate(model, history, n_boot=100, seed=0)
    row = cal.to_frame().set_index(["source", "target"]).loc[("a", "c")]
    assert checks.loc[("a", "c"), "verdict"] == "contradicted"
    assert row["verdict"] == "contradicted"
    assert row["estimate"] > 0.3  # reported as measured ...
    assert "not flipped" in row["note"]
    assert next(lk for lk in cal.model.links if lk.source == "a").weight == -0.5  # ... kept


def test_sign_flipped_link_on_the_bundled_example() -> None:
    from stratlab.datasets import load_example

    model, history = load_example()
    flipped = tuple(
        dataclasses.replace(lk, weight=-(lk.weight or 0))
        if (lk.source, lk.target) == ("skills", "speed")
        else lk
        for lk in model.links
    )
    model = model.replace(links=flipped)
    checks = check_links(model, history).set_index(["source", "target"])
    cal = calibrate(model, history, n_boot=20, seed=0)
    row = cal.to_frame().set_index(["source", "target"]).loc[("skills", "speed")]
    assert checks.loc[("skills", "speed"), "verdict"] == row["verdict"] == "contradicted"
    kept = next(lk for lk in cal.model.links if (lk.source, lk.target) == ("skills", "speed"))
    assert kept.weight is not None and kept.weight < 0


def test_low_r2_keeps_the_prior() -> None:
    model = load_model(_spec())
    frame = calibrate(model, _generate(1), n_boot=0, min_r2=0.5).to_frame()
    row = frame.set_index(["source", "target"]).loc[("d", "e")]
    assert row["verdict"] == "supported" and row["r2"] < 0.5
    assert "R²" in row["note"] and "prior kept" in row["note"]
    assert np.isnan(row["ci_low"])  # n_boot=0: no interval


def test_bad_min_r2() -> None:
    from stratlab.errors import InputError

    with pytest.raises(InputError, match=r"min_r2=2 must be a number in \[0, 1\)"):
        calibrate(load_model(_spec()), _generate(0), min_r2=2)


# ----------------------------------------------------------------- verdicts with power


def test_mde_r_has_80_percent_power() -> None:
    """Independent check by simulation: bivariate normal with rho = mde_r(n)."""
    from scipy import stats

    n, reps = 30, 3000
    rho = mde_r(n)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(reps, n))
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=(reps, n))
    xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
    r = (xc * yc).sum(1) / np.sqrt((xc**2).sum(1) * (yc**2).sum(1))
    t = r * np.sqrt((n - 2) / (1 - r**2))
    p = 2 * stats.t.sf(np.abs(t), n - 2)
    power = float((p < 0.05).mean())
    assert power == pytest.approx(0.8, abs=0.025)
    assert mde_r(23) == pytest.approx(np.tanh(2.80158 / np.sqrt(20)), abs=1e-4)
    assert np.isnan(mde_r(3))


def test_underpowered_versus_not_supported() -> None:
    # the zero link b -> c on 24 months cannot be told from a meaningful one; on 400 it can
    model = load_model(_spec())
    short = check_links(model, _generate(2, periods=24)).set_index(["source", "target"])
    long = check_links(model, _generate(2, periods=400)).set_index(["source", "target"])
    assert short.loc[("b", "c"), "verdict"] == "underpowered"
    assert short.loc[("b", "c"), "mde_r"] > 0.3
    assert "cannot tell" in short.loc[("b", "c"), "reason"]
    assert long.loc[("b", "c"), "verdict"] == "not supported"
    assert long.loc[("b", "c"), "mde_r"] < 0.3


def test_best_lag_by_evidence_not_by_abs_r() -> None:
    """A long lag with 3 pairs can have the largest |r| by chance; the p-value wins."""
    from scipy import stats

    spec = _spec()
    spec["links"] = [{"from": "d", "to": "e", "weight": 0.5, "lag": 0}]  # type: ignore[index]
    model = load_model(spec)
    for seed in range(200):  # the first generator seed where |r| and p disagree
        hist = _generate(seed, periods=12)
        d, e = hist["d_kpi"].diff().to_numpy()[1:], hist["e_kpi"].diff().to_numpy()[1:]
        res = {k: stats.pearsonr(d[: len(d) - k], e[k:]) for k in range(9)}
        by_abs_r = max(res, key=lambda k: abs(res[k][0]))
        by_p = min(res, key=lambda k: res[k][1])
        if by_abs_r != by_p:
            break
    else:
        pytest.fail("no disagreement found")
    got = check_links(model, hist, max_lag=8, min_periods=3).iloc[0]
    assert got["best_lag"] == by_p
    assert got["r"] == pytest.approx(res[by_p][0])
    assert bool(got["lag_mismatch"]) == (by_p != 0)


def test_lag_mismatch_is_flagged() -> None:
    spec = _spec()
    spec["links"][0]["lag"] = 0  # type: ignore[index]  # truth: lag 1
    model = load_model(spec)
    history = _generate(4, periods=120)
    row = check_links(model, history).set_index(["source", "target"]).loc[("a", "c")]
    assert row["hypothesised_lag"] == 0 and row["best_lag"] == 1 and bool(row["lag_mismatch"])
    cal = calibrate(model, history, n_boot=0).to_frame().set_index(["source", "target"])
    assert "consider lag: 1" in cal.loc[("a", "c"), "note"]


@pytest.mark.slow
def test_bundled_generator_coverage_over_seeds() -> None:
    """Northwind's generator at other seeds: the true weights are standardised slopes of
    the latent attainments; the measures add noise, which attenuates the observed slope
    a little, so coverage runs below the nominal 90% (about 0.73 over these seeds)."""
    from stratlab.datasets import generate_history, load_example, true_links_frame

    model, _ = load_example()
    truth = true_links_frame().set_index(["source", "target"])
    real: list[bool] = []
    decoy: list[bool] = []
    for seed in range(1, 5):
        frame = calibrate(model, generate_history(seed=seed), n_boot=100, seed=seed).to_frame()
        for row in frame[frame["kind"] == "objective"].itertuples():
            w = truth.loc[(row.source, row.target), "weight"]
            (decoy if w == 0 else real).append(row.ci_low <= w <= row.ci_high)
    assert 0.6 <= np.mean(real) <= 0.98
    assert all(decoy)  # the decoy's interval covers 0 at every seed
