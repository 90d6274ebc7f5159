"""Monte Carlo: reproducibility, distributions, the roll-up rule, variance shares."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stratlab import InputError, compile_model, load_model, score
from stratlab.datasets import load_example, make_random_map
from stratlab.engine import relink
from stratlab.scoring import rollup_all, score_kr_values
from stratlab.simulation import BLOCK, default_elapsed, simulate

SUMMARY = ["id", "kind", "name", "mean", "p05", "p50", "p95", "p_green"]


@pytest.fixture(scope="module")
def example():
    return load_example()


def test_same_seed_identical_and_chunking_irrelevant(example):
    model, history = example
    a = simulate(model, history, samples=5000, seed=7, elapsed=0.5)
    b = simulate(model, history, samples=5000, seed=7, elapsed=0.5, chunk_size=BLOCK)
    c = simulate(model, history, samples=5000, seed=7, elapsed=0.5, chunk_size=5000)
    np.testing.assert_array_equal(a.samples("growth"), b.samples("growth"))
    np.testing.assert_array_equal(a._scores, c._scores)
    assert a.summary().equals(b.summary())
    assert a.seed == 7


def test_different_seed_different_but_close(example):
    model, history = example
    a = simulate(model, history, samples=8000, seed=1, elapsed=0.5).summary()
    b = simulate(model, history, samples=8000, seed=2, elapsed=0.5).summary()
    assert not np.allclose(a["mean"], b["mean"], equal_nan=True)
    np.testing.assert_allclose(a["mean"], b["mean"], atol=0.02)


def test_summary_shape_and_ranges(example):
    model, history = example
    res = simulate(model, history, samples=4000, seed=3, elapsed=0.5)
    s = res.summary()
    assert list(s.columns) == SUMMARY
    assert list(s["id"]) == list(score(model)["id"])
    ok = s.dropna(subset=["mean"])
    assert len(ok) == len(s)
    assert (ok["p05"] <= ok["p50"]).all() and (ok["p50"] <= ok["p95"]).all()
    assert ((ok["p_green"] >= 0) & (ok["p_green"] <= 1)).all()
    assert res.samples("growth").shape == (4000,)
    assert "<table" in res._repr_html_()
    assert res.to_frame().equals(s)


def test_spread_zero_is_the_deterministic_score(example):
    model, _ = example
    res = simulate(model, samples=300, seed=0, elapsed=1.0, spread=0)
    det = score(model).set_index("id")["score"]
    s = res.summary().set_index("id")
    np.testing.assert_allclose(s["mean"], det[s.index], atol=2e-6)
    np.testing.assert_allclose(s["p95"] - s["p05"], 0.0, atol=2e-6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 50), spread=st.floats(1e-4, 0.05))
def test_mean_converges_to_deterministic_score(seed, spread):
    model = load_model(make_random_map(seed=seed))
    det = score(model).set_index("id")["score"]
    res = simulate(model, samples=1000, seed=seed, elapsed=1.0, spread=spread)
    s = res.summary().set_index("id")
    ok = det.notna()
    err = (s["mean"] - det)[ok].abs().max()
    assert err <= 3 * spread + 1e-5


def test_weight_uncertainty_is_the_same_rollup():
    d = make_random_map(seed=4)
    ranged = 0
    for lk in d["links"]:
        if "weight" in lk and ranged < 3:
            w = lk["weight"]
            lk["weight"] = sorted([w * 0.5, w * 1.5])
            ranged += 1
    model = load_model(d)
    compiled = compile_model(model)
    res = simulate(model, samples=400, seed=5, elapsed=0.6)
    ranged_links = [lk for lk in model.objective_links if lk.weight_range]
    assert len(ranged_links) == 3
    assert res._weights.shape == (len(ranged_links), 400)
    ms = np.array([res.samples(m.id) for m in model.measures])
    ks = np.array([res.samples(k.id) for k in model.key_results])
    objs = np.array([res.samples(o.id) for o in model.objectives])
    for i in range(0, 400, 37):
        values = {(lk.source, lk.target): res._weights[j, i] for j, lk in enumerate(ranged_links)}
        lo = np.array([lk.weight_range[0] for lk in ranged_links])
        hi = np.array([lk.weight_range[1] for lk in ranged_links])
        assert ((res._weights[:, i] >= lo) & (res._weights[:, i] <= hi)).all()
        rolled = rollup_all(relink(compiled, values), ms[:, i], ks[:, i])
        np.testing.assert_allclose(objs[:, i], rolled["objective"], atol=2e-5)
    # without weight uncertainty nothing is drawn for weights
    plain = simulate(model, samples=100, seed=5, elapsed=0.6, weight_uncertainty=False)
    assert plain._weights.shape == (0, 100)


def test_uncertain_weight_is_beta_pert_with_its_mode_at_the_point_weight():
    from scipy import stats

    d = make_random_map(seed=4)
    link = next(lk for lk in d["links"] if "weight" in lk and not isinstance(lk["weight"], list))
    w = abs(float(link["weight"]))
    sign = 1.0 if float(link["weight"]) > 0 else -1.0
    lo, hi = sorted([sign * 0.9 * w, sign * 2.0 * w])
    point = sign * w
    link["weight"], link["weight_range"] = point, [lo, hi]
    model = load_model(d)
    res = simulate(model, samples=4000, seed=11, elapsed=0.6)
    ranged = [lk for lk in model.objective_links if lk.weight_range]
    draws = res._weights[
        next(
            i
            for i, lk in enumerate(ranged)
            if lk.source == link["from"] and lk.target == link["to"]
        )
    ]
    # independent reference: the PERT distribution on [lo, hi] with mode at the point weight
    a = 1 + 4 * (point - lo) / (hi - lo)
    b = 1 + 4 * (hi - point) / (hi - lo)
    ks = stats.kstest((draws - lo) / (hi - lo), stats.beta(a, b).cdf)
    assert ks.pvalue > 0.01
    assert draws.mean() == pytest.approx((lo + 4 * point + hi) / 6, abs=0.01 * (hi - lo))


def test_measure_outcomes_default_and_history_volatility(example):
    d = {
        "stratlab": 1,
        "name": "M",
        "objectives": [{"id": "o", "name": "O", "perspective": "financial"}],
        "measures": [
            {"id": "m", "name": "M", "objective": "o", "baseline": 10, "target": 30, "current": 20},
            {"id": "low", "name": "L", "objective": "o", "direction": "lower",
             "baseline": 9, "target": 4, "current": 6},
        ],
    }  # fmt: skip
    res = simulate(d, samples=20000, seed=1, elapsed=0.5)
    x = res.samples("m")  # score sd = 10 % of the range (the documented default)
    assert x.mean() == pytest.approx(0.5, abs=0.005)
    assert x.std() == pytest.approx(0.1, rel=0.03)
    y = res.samples("low")
    assert y.mean() == pytest.approx(0.6, abs=0.005)
    assert y.std() == pytest.approx(0.1, rel=0.03)
    model, history = example
    res = simulate(model, history, samples=20000, seed=1, elapsed=0.5, horizon=4)
    m = model.get("csat")  # current 86.7 in 78..90: inside the range
    sd = history["csat"].diff().std(ddof=1) * 2 / (m.target - m.baseline)
    x = res.samples("csat")
    inside = (x > 0) & (x < 1)
    assert inside.mean() > 0.9
    assert np.percentile(x, 84) - np.percentile(x, 50) == pytest.approx(sd, rel=0.06)


def test_key_result_beta_model():
    d = {
        "stratlab": 1,
        "name": "KR",
        "objectives": [{"id": "o", "name": "O", "perspective": "financial"}],
        "okrs": [
            {
                "id": "okr",
                "objective": "Grow",
                "aligns_to": "o",
                "key_results": [
                    {"id": "kr", "name": "KR", "start": 0, "target": 100, "current": 30,
                     "confidence": 0.5},
                ],
            }
        ],
    }  # fmt: skip
    res = simulate(d, samples=40000, seed=2, elapsed=0.5)
    g = res.samples("kr")
    mu = 0.3 / 0.5
    kappa = (2 + 38 * 0.5) / (1 - 0.5 + 0.01)
    assert g.mean() == pytest.approx(mu, abs=0.003)
    assert g.std() == pytest.approx(np.sqrt(mu * (1 - mu) / (kappa + 1)), rel=0.03)
    # tighter as the quarter elapses
    late = simulate(d, samples=20000, seed=2, elapsed=0.9).samples("kr")
    assert late.std() < g.std()
    np.testing.assert_allclose(res.samples("o"), g, atol=1e-6)
    grade = score_kr_values(load_model(d), np.array([30.0]))
    assert grade[0] == pytest.approx(0.3)


def test_variance_share_matches_squared_correlations():
    d = make_random_map(seed=9, n_driver_links=0)
    model = load_model(d)
    res = simulate(model, samples=20000, seed=3, elapsed=0.5, spread=0.3)
    vs = res.variance_share()
    assert list(vs.columns) == ["input", "objective", "share"]
    sums = vs.groupby("objective")["share"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)
    # independent inputs, linear map: share ≈ squared correlation
    obj = vs["objective"].iloc[0]
    grp = vs[vs["objective"] == obj].head(3)
    y = res.samples(obj)
    for _, row in grp.iterrows():
        r = np.corrcoef(res.samples(row["input"]), y)[0, 1]
        assert row["share"] == pytest.approx(r**2, abs=0.03)


def test_default_elapsed():
    import datetime as dt

    assert default_elapsed(dt.date(2025, 1, 1)) == pytest.approx(1 / 90)
    assert default_elapsed(dt.date(2025, 12, 31)) == 1.0
    assert 0 < default_elapsed() <= 1


def test_bad_inputs(example):
    model, _ = example
    with pytest.raises(InputError, match="samples=0 must be an integer >= 1"):
        simulate(model, samples=0)
    with pytest.raises(InputError, match=r"elapsed=0 must be the share .* \(0, 1\]"):
        simulate(model, elapsed=0)
    with pytest.raises(InputError, match=r"elapsed=1\.5"):
        simulate(model, elapsed=1.5)
    with pytest.raises(InputError, match="spread=-1 must be a number ≥ 0"):
        simulate(model, spread=-1)
    with pytest.raises(InputError, match="seed=-1"):
        simulate(model, seed=-1)
    with pytest.raises(InputError, match="chunk_size=0"):
        simulate(model, chunk_size=0)
    with pytest.raises(InputError, match="horizon=0"):
        simulate(model, horizon=0)
    with pytest.raises(InputError, match=r"GiB of memory.*use samples ≤"):
        simulate(model, samples=10**9)
    res = simulate(model, samples=10, seed=1, elapsed=0.5)
    with pytest.raises(InputError, match="did you mean 'growth'"):
        res.samples("grwth")


def test_p_green_counts_a_score_exactly_at_the_threshold():
    # 7 in 0..10 scores exactly 0.7 = green (score() says green); 6.9 scores 0.69 (amber).
    # Samples are stored as float32, where 0.7 is 0.69999999: p_green must still be 1.
    d = {
        "stratlab": 1,
        "name": "G",
        "objectives": [{"id": "o", "name": "O", "perspective": "financial"}],
        "measures": [
            {"id": "m", "name": "M", "objective": "o", "baseline": 0, "target": 10, "current": 7},
            {"id": "n", "name": "N", "objective": "o", "baseline": 0, "target": 10,
             "current": 6.9, "thresholds": {"green": 0.7, "amber": 0.4}},
        ],
    }  # fmt: skip
    det = score(d).set_index("id")
    assert det.loc["m", "status"] == "green" and det.loc["n", "status"] == "amber"
    s = simulate(d, samples=50, seed=1, elapsed=0.5, spread=0).summary().set_index("id")
    assert s.loc["m", "p_green"] == 1.0
    assert s.loc["n", "p_green"] == 0.0
    assert s.loc["o", "p_green"] == 0.0  # (0.7 + 0.69) / 2 < 0.7


def test_progress_bar_only_when_shown(capsys: pytest.CaptureFixture[str]) -> None:
    """A bar on stderr when asked; otherwise none, and tqdm is not imported (tqdm.auto
    imports ipywidgets in a notebook kernel)."""
    import subprocess
    import sys

    model, history = load_example()
    quiet = simulate(model, history, samples=300, seed=1, progress=False)
    assert capsys.readouterr().err == ""
    shown = simulate(model, history, samples=300, seed=1, progress=True)
    assert "simulate" in capsys.readouterr().err
    np.testing.assert_array_equal(quiet.summary()["p50"], shown.summary()["p50"])
    code = (
        "import sys\n"
        "from stratlab.datasets import load_example\n"
        "from stratlab.simulation import simulate\n"
        "simulate(*load_example(), samples=100, seed=0, progress=False)\n"
        "print('tqdm' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"
