"""Review figures: status counts, attainment by period / over time, tornados, outlook fan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from viz_fixtures import SCRIPT, all_strings, tiny_model

from stratlab import plots
from stratlab.errors import InputError
from stratlab.render import STATUS_COLORS
from stratlab.scoring import score, score_history


def _assert_escaped(fig: go.Figure) -> None:
    texts = all_strings(fig.to_plotly_json())
    assert not any("<script" in s or "<img" in s for s in texts)
    joined = "\n".join(texts)
    assert "&lt;script&gt;" in joined and "&lt;img" in joined


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return tiny_model()


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    idx = pd.period_range("2023Q1", periods=10, freq="Q", name="period")
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "m_a": np.linspace(1, 9, 10),
            "m_b": np.linspace(19, 11, 10),
            "m_c": rng.uniform(40, 95, 10),
            "m_e": rng.uniform(1, 11, 10),
            "m_d": rng.uniform(0, 100, 10),
            "kr1": np.linspace(0, 9, 10),
        },
        index=idx,
    )
    frame.iloc[2, 3] = np.nan  # a gap: that period has no score for m_e
    return frame


def test_esc_quotes_as_numeric_entities() -> None:
    # plotly.js decodes numeric entities in labels, not &quot;
    assert plots.esc("a \"b\" 'c' <d>") == "a &#34;b&#34; &#x27;c&#x27; &lt;d&gt;"


def test_status_counts(model) -> None:  # type: ignore[no-untyped-def]
    scores = score(model)
    fig = plots.status_counts(scores)
    rows = scores[scores["kind"].isin(["objective", "measure", "key_result"])]
    present = [s for s in ("green", "amber", "red", "no data") if (rows["status"] == s).any()]
    assert [t.name for t in fig.data] == present
    assert fig.layout.barmode == "stack"
    for trace in fig.data:
        assert trace.marker.color == STATUS_COLORS[trace.name]
        assert list(trace.x) == ["objective", "measure", "key_result"]
        expected = [((rows["kind"] == k) & (rows["status"] == trace.name)).sum() for k in trace.x]
        assert list(trace.y) == expected
    assert sum(sum(t.y) for t in fig.data) == len(rows)
    okr = plots.status_counts(scores, kinds=["key_result", "okr"])
    assert list(okr.data[0].x) == ["key_result", "okr"]
    with pytest.raises(InputError, match=r"unknown node kind 'kpi'"):
        plots.status_counts(scores, kinds=["kpi"])
    with pytest.raises(InputError, match=r"unknown node kind 'okr'"):
        plots.status_counts(scores, kinds="okr")
    with pytest.raises(InputError, match=r"no okr to count"):
        plots.status_counts(scores[scores["kind"] != "okr"], kinds=["okr"])
    with pytest.raises(InputError, match=r"no column 'status'"):
        plots.status_counts(scores[["id", "kind"]])


def test_attainment_by_period_slider_is_the_score_history(model, history) -> None:  # type: ignore[no-untyped-def]
    past = score_history(model, history)
    fig = plots.attainment_by_period(model, past, periods=4)
    assert len(fig.data) == 1
    assert fig.layout.meta["stratlab"] == "attainment_by_period"
    slider = fig.layout.sliders[0]
    assert [s.label for s in slider.steps] == [str(p) for p in past.index[-4:]]
    assert slider.active == 3
    ids = [o.id for o in model.objectives]
    green, amber = model.thresholds.green, model.thresholds.amber
    for step, (_, row) in zip(slider.steps, past.iloc[-4:].iterrows(), strict=True):
        assert step.method == "restyle"
        look = step.args[0]
        (y,) = look["y"]
        expected = row[ids].to_numpy(dtype=float)
        got = np.array([np.nan if v is None else v for v in y], dtype=float)
        np.testing.assert_allclose(got, expected, atol=1e-12, equal_nan=True)
        want = [
            "no data"
            if np.isnan(v)
            else "green"
            if v >= green
            else "amber"
            if v >= amber
            else "red"
            for v in expected
        ]
        assert look["text"] == [want]
        assert look["marker.color"] == [[STATUS_COLORS[s] for s in want]]
    # the bars start on the last period
    np.testing.assert_allclose(
        np.array(fig.data[0].y, dtype=float), past.iloc[-1][ids].to_numpy(dtype=float)
    )
    assert list(fig.data[0].marker.color) == slider.steps[-1].args[0]["marker.color"][0]
    assert len(plots.attainment_by_period(model, past).layout.sliders[0].steps) == 8
    assert len(plots.attainment_by_period(model, past, periods=50).layout.sliders[0].steps) == 10
    _assert_escaped(fig)
    assert "Alpha &lt;script&gt;" in fig.data[0].x[0]


def test_attainment_by_period_statuses_cover_every_colour(model) -> None:  # type: ignore[no-untyped-def]
    ids = [o.id for o in model.objectives]
    past = pd.DataFrame(
        [[0.9, 0.5, 0.1, np.nan, 0.7, 0.4]],
        columns=ids,
        index=pd.period_range("2024Q1", periods=1, freq="Q", name="period"),
    )
    fig = plots.attainment_by_period(model, past)
    assert list(fig.data[0].text) == ["green", "amber", "red", "no data", "green", "amber"]
    assert list(fig.data[0].marker.color) == [
        STATUS_COLORS[s] for s in ["green", "amber", "red", "no data", "green", "amber"]
    ]


@pytest.mark.parametrize("periods", [0, 1.5, True])
def test_attainment_by_period_bad_periods(model, history, periods) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        InputError, match=r"attainment_by_period: periods=\S+ must be an integer >= 1"
    ):
        plots.attainment_by_period(model, score_history(model, history), periods=periods)


def test_attainment_figures_bad_frames(model, history) -> None:  # type: ignore[no-untyped-def]
    past = score_history(model, history)
    for fn in (plots.attainment_by_period, plots.attainment_over_time):
        with pytest.raises(InputError, match=r"needs the DataFrame of stratlab.score_history"):
            fn(model, past.to_numpy())
        with pytest.raises(InputError, match=r"no column for objective 'a'"):
            fn(model, past.drop(columns="a"))
        with pytest.raises(InputError, match=r"has no period"):
            fn(model, past.iloc[:0])


def test_attainment_over_time(model, history) -> None:  # type: ignore[no-untyped-def]
    past = score_history(model, history)
    fig = plots.attainment_over_time(model, past)
    assert len(fig.data) == len(model.objectives)
    for trace, o in zip(fig.data, model.objectives, strict=True):
        assert trace.meta["id"] == o.id
        assert list(trace.x) == [str(p) for p in past.index]
        np.testing.assert_allclose(trace.y, past[o.id].to_numpy(), atol=1e-12, equal_nan=True)
    _assert_escaped(fig)


def test_objective_tornados(model) -> None:  # type: ignore[no-untyped-def]
    from stratlab.propagation import sensitivity

    sens = sensitivity(model)
    figs = plots.objective_tornados(model, objectives=["d", "a"], title=f"{{name}} {SCRIPT}")
    reached = [o for o in ["d", "a"] if (sens["objective"] == o).any()]
    assert len(figs) == len(reached) and reached[0] == "d"
    assert all(len(f.data) == 2 for f in figs)
    assert figs[0].layout.title.text.startswith("Delta &lt;script&gt;")
    krs = plots.objective_tornados(model, objectives=["d"], input_kind="key_result")
    assert [list(f.data[0].y) for f in krs] == [["Signups"]]
    with pytest.raises(InputError, match=r"'m_a' is not an objective"):
        plots.objective_tornados(model, objectives=["m_a"])
    with pytest.raises(InputError, match=r"unknown input_kind 'okr'"):
        plots.objective_tornados(model, input_kind="okr")


def test_outlook_fan_steps_equal_simulations(model) -> None:  # type: ignore[no-untyped-def]
    from stratlab.simulation import simulate

    fig = plots.outlook_fan(model, ids=["d"], samples=64, seed=1, horizon=2, elapsed=0.5)
    median = next(t for t in fig.data if (t.meta or {}).get("role") == "median")
    expected = [
        simulate(model, samples=64, seed=1, horizon=h, elapsed=0.5, progress=False)
        .summary()
        .set_index("id")
        .loc["d", "p50"]
        for h in (1, 2)
    ]
    np.testing.assert_allclose(median.y, expected, atol=1e-12)
    assert "next 2 quarters" in fig.layout.title.text
    with pytest.raises(InputError, match=r"outlook_fan: horizon=\S+ must be an integer >= 1"):
        plots.outlook_fan(model, horizon=0)
