"""Scoring and the roll-up, against hand computations written out beside each test."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stratlab import InputError, load_model, score, score_history
from stratlab.model import build_model
from stratlab.scoring import score_measure_values, status_of


def by_id(frame: pd.DataFrame) -> dict[str, float]:
    return dict(zip(frame["id"], frame["score"], strict=True))


def test_columns_and_kinds(mini_path: Path) -> None:
    frame = score(mini_path)
    assert list(frame.columns) == [
        "id",
        "kind",
        "name",
        "perspective",
        "parent",
        "value",
        "baseline",
        "target",
        "score",
        "status",
        "status_rule",
        "coverage",
        "unit",
        "owner",
        "as_of",
        "stale",
    ]
    assert frame["kind"].tolist()[:4] == ["perspective"] * 4
    assert frame["id"].tolist()[:4] == ["financial", "customer", "process", "learning"]  # top first
    assert set(frame["kind"]) == {"perspective", "objective", "measure", "okr", "key_result"}


def test_roll_up_matches_hand_computation(mini_path: Path) -> None:
    s = by_id(score(mini_path))
    # leaves, by DESIGN.md's formulas
    nps, wait, rev, train = (31 - 20) / 25, (9 - 6) / (9 - 4), 5 / 8, 12 / 20
    kr = (10 - 14) / (7 - 14)
    # objectives: weighted inputs normalised by the sum of |weights|; no history → lagged links
    # read the cause's current score (steady state)
    skills = (train + kr) / 2
    speed = (wait + 0.5 * skills) / 1.5
    loyalty = (nps + 0.4 * speed) / 1.4
    growth = (rev + 0.6 * loyalty) / 1.6
    expected = {
        "nps": nps,
        "wait_min": wait,
        "revenue_growth": rev,
        "training_hours": train,
        "onboarding_days": kr,
        "faster_onboarding": kr,
        "skills": skills,
        "speed": speed,
        "loyalty": loyalty,
        "growth": growth,
        "learning": skills,
        "process": speed,
        "customer": loyalty,
        "financial": growth,
    }
    for key, value in expected.items():
        assert s[key] == pytest.approx(value, abs=1e-12), key


def test_inverse_link_enters_as_one_minus_cause(write, mini_yaml) -> None:
    text = mini_yaml.replace(
        "  - {from: wait_min, to: nps",
        "  - {from: growth, to: skills, weight: -0.5, lag: 2}\n  - {from: wait_min, to: nps",
    )
    s = by_id(score(write(text)))
    train, kr = 0.6, 4 / 7
    # skills = (train + kr + 0.5 (1 − growth)) / 2.5 and growth depends on skills: solve the
    # 4-equation linear system independently
    a = np.zeros((4, 4))
    b = np.zeros(4)
    # order: skills, speed, loyalty, growth
    a[0] = [2.5, 0, 0, 0.5]
    b[0] = train + kr + 0.5
    a[1] = [-0.5, 1.5, 0, 0]
    b[1] = 0.6
    a[2] = [0, -0.4, 1.4, 0]
    b[2] = 0.44
    a[3] = [0, 0, -0.6, 1.6]
    b[3] = 5 / 8
    sol = np.linalg.solve(a, b)
    assert [s["skills"], s["speed"], s["loyalty"], s["growth"]] == pytest.approx(sol, abs=1e-12)


def test_missing_inputs_are_left_out_and_coverage_reported(write, mini_yaml) -> None:
    text = mini_yaml.replace("current: 5, unit", "unit").replace(
        "current: 6, unit: min", "unit: min"
    )
    frame = score(write(text)).set_index("id")
    # speed's own measure wait_min has no data either: no score
    # growth has only its loyalty link left, but its own measure has no data: no score
    assert np.isnan(frame.loc["growth", "score"]) and frame.loc["growth", "status"] == "no data"
    assert "links alone don't make a status" in frame.loc["growth", "status_rule"]
    assert frame.loc["growth", "coverage"] == 0
    assert np.isnan(frame.loc["speed", "score"])
    # loyalty is left with nps (its speed link has no score): weight 1 of 1.4
    assert frame.loc["loyalty", "score"] == pytest.approx((31 - 20) / 25)
    assert frame.loc["loyalty", "coverage"] == pytest.approx(1 / 1.4)
    # the financial perspective has no objective with a score
    assert frame.loc["financial", "status"] == "no data"
    assert frame.loc["revenue_growth", "status"] == "no data"
    assert frame.loc["revenue_growth", "status_rule"].startswith("no score")


def test_objective_without_any_data_has_no_score(write) -> None:
    model = {
        "stratlab": 1,
        "name": "x",
        "objectives": [
            {"id": "a", "name": "A", "perspective": "learning"},
            {"id": "b", "name": "B", "perspective": "financial"},
        ],
        "measures": [{"id": "m", "name": "M", "objective": "a", "baseline": 0, "target": 1}],
        "links": [{"from": "a", "to": "b", "weight": 1}],
    }
    frame = score(model).set_index("id")
    assert np.isnan(frame.loc["a", "score"]) and np.isnan(frame.loc["b", "score"])
    assert frame.loc["b", "status"] == "no data" and frame.loc["financial", "status"] == "no data"


def test_band_cap_and_thresholds(write, mini_yaml) -> None:
    text = mini_yaml.replace(
        '  - {id: revenue_growth, name: Revenue growth, objective: growth, direction: higher, baseline: 0, target: 8, current: 5, unit: "%"}',
        "  - {id: revenue_growth, name: Revenue growth, objective: growth, baseline: 0, target: 8, current: 10, cap: 1.2, thresholds: {green: 0.9, amber: 0.5}}\n"
        "  - {id: temp, name: Temperature, objective: growth, direction: band, band: [60, 70], tolerance: 5, current: 73}",
    )
    frame = score(write(text)).set_index("id")
    assert frame.loc["revenue_growth", "score"] == pytest.approx(1.2)  # 10/8 capped at 1.2
    assert frame.loc["temp", "score"] == pytest.approx(1 - 3 / 5)
    assert frame.loc["temp", "status"] == "amber"
    assert frame.loc["revenue_growth", "status_rule"] == "1.20 ≥ green 0.9"
    assert frame.loc["temp", "baseline"] == 60 and frame.loc["temp", "target"] == 70


def test_status_rule_boundaries() -> None:
    assert status_of(np.array([0.7, 0.6999, 0.4, 0.3999, np.nan]), 0.7, 0.4).tolist() == [
        "green",
        "amber",
        "amber",
        "red",
        "no data",
    ]


def history_frame() -> pd.DataFrame:
    idx = pd.period_range("2024Q1", periods=4, freq="Q")
    return pd.DataFrame(
        {
            "training_hours": [4.0, 8.0, 16.0, 12.0],
            "wait_min": [8.0, 7.0, np.nan, 5.0],
            "nps": [25.0, 28.0, 30.0, 35.0],
            "revenue_growth": [1.0, 2.0, 4.0, 6.0],
        },
        index=idx,
    )


def test_score_history_reads_lagged_causes_from_earlier_periods(mini_path: Path) -> None:
    hist = history_frame()
    sh = score_history(mini_path, hist)
    train = hist["training_hours"].to_numpy() / 20
    wait = (9 - hist["wait_min"].to_numpy()) / 5
    nps = (hist["nps"].to_numpy() - 20) / 25
    rev = hist["revenue_growth"].to_numpy() / 8
    skills = train  # no key-result history: the OKR is left out
    # at t=2 speed's own measure has no value: no score (its skills link alone is no status)
    speed = np.array(
        [wait[0], (wait[1] + 0.5 * skills[0]) / 1.5, np.nan, (wait[3] + 0.5 * skills[2]) / 1.5]
    )
    loyalty = np.where(np.isnan(speed), nps, (nps + 0.4 * speed) / 1.4)
    growth = np.array([rev[0], *((rev[1:] + 0.6 * loyalty[:-1]) / 1.6)])
    np.testing.assert_allclose(sh["skills"], skills, atol=1e-12)
    np.testing.assert_allclose(sh["speed"], speed, atol=1e-12)
    np.testing.assert_allclose(sh["loyalty"], loyalty, atol=1e-12)
    np.testing.assert_allclose(sh["growth"], growth, atol=1e-12)
    own = score_history(mini_path, hist, rollup=False)
    np.testing.assert_allclose(own["speed"], np.r_[wait[:2], np.nan, wait[3]], atol=1e-12)
    assert list(sh.columns[:4]) == ["learning", "process", "customer", "financial"]


def test_score_now_uses_current_values_and_lagged_history(mini_path: Path) -> None:
    hist = history_frame()
    now = by_id(score(mini_path, hist))
    sh = score_history(mini_path, hist)
    wait = (9 - 6) / 5  # current value beats the history
    assert now["wait_min"] == pytest.approx(wait)
    assert now["speed"] == pytest.approx((wait + 0.5 * sh["skills"].iloc[-2]) / 1.5)
    at = by_id(score(mini_path, hist, period="2024Q2"))
    assert at["nps"] == pytest.approx((28 - 20) / 25)  # history at the period beats current
    assert at["wait_min"] == pytest.approx((9 - 7) / 5)
    assert by_id(score(mini_path, hist, period="2024Q4")) == now  # the latest period is "now"
    assert np.isnan(at["onboarding_days"])  # no key-result history: today's value is not back-dated
    gap = by_id(score(mini_path, hist, period="2024Q3"))
    assert gap["wait_min"] == pytest.approx((9 - 7) / 5)  # latest value at or before the period


def test_lagged_cause_is_the_score_as_of_that_period(mini_path: Path) -> None:
    # wait_min has a gap in 2024Q3. score(period="2024Q3") carries 7 forward, so the lagged
    # link loyalty -> growth (lag 1) must read that loyalty at 2024Q4, not one rolled up
    # without wait_min. Hand computation:
    hist = history_frame()
    hist.loc[pd.Period("2024Q2", "Q"), "training_hours"] = 10.0
    skills_q2 = 10 / 20
    speed_q3 = ((9 - 7) / 5 + 0.5 * skills_q2) / 1.5  # wait_min 7 carried forward
    loyalty_q3 = ((30 - 20) / 25 + 0.4 * speed_q3) / 1.4
    growth_q4 = (5 / 8 + 0.6 * loyalty_q3) / 1.6  # revenue_growth: current 5 counts now
    at_q3 = by_id(score(mini_path, hist, period="2024Q3"))
    assert at_q3["loyalty"] == pytest.approx(loyalty_q3, abs=1e-12)
    now = by_id(score(mini_path, hist))
    assert now["growth"] == pytest.approx(growth_q4, abs=1e-12)
    # the what-if starts from the same state
    from stratlab import whatif

    before = whatif(mini_path, {}, hist).to_frame().set_index("id")["score_before"]
    assert before["growth"] == pytest.approx(growth_q4, abs=1e-12)


def test_bad_periods(mini_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"period 2030Q1 is outside the history \(2024Q1 to 2024Q4\)"
    ):
        score(mini_path, history_frame(), period="2030Q1")
    with pytest.raises(InputError, match=r"period 'soon' is not a period"):
        score(mini_path, history_frame(), period="soon")
    with pytest.raises(InputError, match=r"--period needs a history"):
        score(mini_path, period="2024Q1")


# --------------------------------------------------------------------------- properties


@st.composite
def measure_case(draw):
    baseline = draw(st.floats(-1e4, 1e4))
    span = draw(st.floats(1e-3, 1e4)) * draw(st.sampled_from([-1, 1]))
    cap = draw(st.floats(1, 2))
    return baseline, baseline + span, cap


def one_measure_model(baseline: float, target: float, cap: float):
    return build_model(
        {
            "stratlab": 1,
            "name": "p",
            "objectives": [{"id": "o", "name": "O", "perspective": "learning"}],
            "measures": [
                {
                    "id": "m",
                    "name": "M",
                    "objective": "o",
                    "direction": "higher" if target > baseline else "lower",
                    "baseline": baseline,
                    "target": target,
                    "cap": cap,
                }
            ],
        }
    )


@given(measure_case(), st.lists(st.floats(-1e5, 1e5), min_size=2, max_size=20))
@settings(max_examples=60, deadline=None)
def test_scores_within_cap_and_monotone(case, values) -> None:
    baseline, target, cap = case
    model = one_measure_model(baseline, target, cap)
    vals = np.sort(np.array(values))
    scores = score_measure_values(model, vals[:, None])[:, 0]
    assert ((scores >= 0) & (scores <= cap + 1e-12)).all()
    diffs = np.diff(scores)
    if target > baseline:
        assert (diffs >= -1e-12).all()  # monotone for higher
    else:
        assert (diffs <= 1e-12).all()  # anti-monotone for lower


@given(st.floats(0, 1))
@settings(max_examples=30, deadline=None)
def test_equal_input_scores_roll_up_to_that_score(x: float) -> None:
    from conftest import MINI_YAML

    data = yaml.safe_load(MINI_YAML)
    for m in data["measures"]:
        m["current"] = m["baseline"] + x * (m["target"] - m["baseline"])
    for kr in data["okrs"][0]["key_results"]:
        kr["current"] = kr["start"] + x * (kr["target"] - kr["start"])
    frame = score(data)
    agg = frame[frame["kind"].isin(["objective", "perspective", "okr"])]
    np.testing.assert_allclose(agg["score"], x, atol=1e-9)


@given(st.integers(0, 10_000))
@settings(max_examples=15, deadline=None)
def test_reordering_the_file_changes_nothing(seed: int) -> None:
    from conftest import MINI_YAML

    data = yaml.safe_load(MINI_YAML)
    rng = random.Random(seed)
    shuffled = {k: data[k] for k in rng.sample(list(data), len(data))}
    for key in ("objectives", "measures", "links"):
        rng.shuffle(shuffled[key])
    shuffled["perspectives"] = data["perspectives"]  # their order is the map's bottom-to-top order
    a = score(data).set_index("id").sort_index()
    b = score(shuffled).set_index("id").sort_index()
    pd.testing.assert_frame_equal(a, b)


def test_load_model_accepts_models_and_dicts(mini_path: Path) -> None:
    model = load_model(mini_path)
    assert load_model(model) is model
    assert load_model(model.to_dict()) == model


def test_rolled_history_is_kept_per_history_content() -> None:
    """score(), score_history() and the link checks roll up the same history once per model;
    a history that differs anywhere (a value, a period in the middle) is rolled up anew."""
    from stratlab.datasets import load_example
    from stratlab.engine import check_history, rolled_history
    from stratlab.engine._inputs import history_content_key

    model, history = load_example()
    wide = check_history(model, history)
    first = rolled_history(model, wide)
    assert rolled_history(model, wide.copy()) is first
    assert rolled_history(model, wide, links=False) is not first
    assert not first.measures.flags.writeable
    assert not first.rows[-1]["objective"].flags.writeable
    changed = wide.copy()
    changed.iloc[len(changed) // 2, 0] += 1.0
    assert rolled_history(model, changed) is not first
    # the same values and the same first and last periods, one period in the middle moved
    months = pd.PeriodIndex(["2025-01", "2025-02", "2025-04"], freq="M")
    moved = pd.PeriodIndex(["2025-01", "2025-03", "2025-04"], freq="M")
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=months)
    assert history_content_key(frame) != history_content_key(frame.set_axis(moved))
    # kept results are the same numbers as a fresh model's
    fresh, _ = load_example()
    pd.testing.assert_frame_equal(score_history(model, history), score_history(fresh, history))
