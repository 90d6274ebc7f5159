"""plots.whatif_scenarios: every precomputed step equals stratlab.whatif's long run; the
slider/dropdown wiring works without a kernel; names are escaped; bad inputs explained."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from viz_fixtures import all_strings, tiny_model, tiny_model_dict

from stratlab.errors import InputError
from stratlab.plots import whatif_scenarios
from stratlab.propagation import sensitivity, whatif


@pytest.fixture(scope="module")
def example() -> Any:
    from stratlab.datasets import load_example

    return load_example()


@pytest.fixture(scope="module")
def example_fig(example: Any) -> Any:
    model, history = example
    kr = model.key_results[0].id
    band = next(m.id for m in model.measures if m.direction == "band")
    return whatif_scenarios(model, history, inputs=["nps", "wait_min", kr, band], steps=7)


def _long_run(model: Any, history: Any, input_id: str, value: float, ids: list[str]) -> np.ndarray:
    frame = whatif(model, {input_id: value}, history).long_run.set_index("id")
    return frame.loc[ids, "score_after"].to_numpy(dtype=float)


def test_every_step_equals_whatif_long_run(example: Any, example_fig: Any) -> None:
    model, history = example
    meta = example_fig.layout.meta
    assert meta["view"] == "long_run"
    top = model.perspectives[-1].id
    assert meta["ids"] == [o.id for o in model.objectives if o.perspective == top] + [top]
    for k, input_id in enumerate(meta["inputs"]):
        steps = example_fig.layout.sliders[k].steps
        assert len(steps) == len(meta["values"][k])
        for step, value in zip(steps, meta["values"][k], strict=True):
            y = np.asarray(step.args[0]["y"][0], dtype=float)
            assert list(step.args[1]) == [k + 1]  # restyles this input's bar trace only
            ref = _long_run(model, history, input_id, value, meta["ids"])
            np.testing.assert_allclose(y, ref, rtol=0, atol=1e-9)


def test_grid_runs_from_baseline_past_target_and_starts_at_now(
    example: Any, example_fig: Any
) -> None:
    model, history = example
    meta = example_fig.layout.meta
    nps = model.get("nps")
    values = meta["values"][0]
    assert values[0] == pytest.approx(nps.baseline)
    assert values[-1] == pytest.approx(nps.target + 0.25 * (nps.target - nps.baseline))
    assert values == sorted(values)
    kr = model.get(meta["inputs"][2])
    assert meta["values"][2][0] == pytest.approx(kr.start)
    band = model.get(meta["inputs"][3])
    lo, hi = band.band
    assert meta["values"][3][0] < lo and meta["values"][3][-1] > hi
    # the slider starts at the current value: its bars equal the "no change" markers
    now = whatif(model, None, history).long_run.set_index("id")
    for k, slider in enumerate(example_fig.layout.sliders):
        assert slider.steps[slider.active].label.endswith("(now)")
        bars = np.asarray(example_fig.data[k + 1].y, dtype=float)
        np.testing.assert_allclose(bars, example_fig.data[0].y, atol=1e-9)
        np.testing.assert_allclose(bars, now.loc[meta["ids"], "score_before"], atol=1e-9)


def test_dropdown_switches_trace_and_slider(example_fig: Any) -> None:
    n = len(example_fig.layout.meta["inputs"])
    assert [t.visible for t in example_fig.data[1:]] == [True] + [False] * (n - 1)
    assert [s.visible for s in example_fig.layout.sliders] == [True] + [False] * (n - 1)
    (menu,) = example_fig.layout.updatemenus
    assert len(menu.buttons) == n
    for k, button in enumerate(menu.buttons):
        assert button.method == "update"
        data, layout = button.args
        assert data["visible"] == [True] + [j == k for j in range(n)]
        assert layout == {f"sliders[{j}].visible": j == k for j in range(n)}


def test_default_inputs_are_the_largest_swings(example: Any) -> None:
    model, history = example
    fig = whatif_scenarios(model, history, steps=3)
    sens = sensitivity(model, history)
    total = sens.assign(a=sens["swing"].abs()).groupby("input")["a"].sum()
    expected = list(total.sort_values(ascending=False).index[:8])
    assert fig.layout.meta["inputs"] == expected


def test_names_are_escaped_and_tiny_model_works() -> None:
    model = tiny_model()
    fig = whatif_scenarios(model, inputs=["m_a", "kr1"], steps=5)
    texts = all_strings(fig.to_plotly_json())
    assert not any("<script" in s or "<img" in s for s in texts)
    joined = "\n".join(texts)
    assert "Measure &lt;img" in joined  # the dropdown label of m_a
    assert "&lt;script&gt;" in joined  # m_a's unit on the slider labels
    assert fig.layout.meta["ids"] == ["d", "financial"]
    # m_a (current 3) drives d through a → b → c → d: the last step moves d up
    steps = fig.layout.sliders[0].steps
    assert steps[-1].args[0]["y"][0][0] > steps[0].args[0]["y"][0][0]


def test_bad_inputs_explained() -> None:
    model = tiny_model()
    with pytest.raises(
        InputError, match=r"'m_aa' is not a measure or key result.*did you mean 'm_a'"
    ):
        whatif_scenarios(model, inputs=["m_aa"])
    with pytest.raises(InputError, match=r"'d' is not a measure or key result"):
        whatif_scenarios(model, inputs=["d"])
    with pytest.raises(
        InputError, match=r"whatif_scenarios: steps=1 must be an integer between 2 and 41"
    ):
        whatif_scenarios(model, inputs=["m_a"], steps=1)
    data = tiny_model_dict()
    data["objectives"] = [o for o in data["objectives"] if o["perspective"] != "financial"]
    data["objectives"].append({"id": "d", "name": "Delta", "perspective": "customer"})
    data["perspectives"] = [
        {"id": p, "name": p} for p in ("learning", "process", "customer", "financial")
    ]
    from stratlab.io import load_model

    with pytest.raises(InputError, match=r"top perspective 'financial' has no objectives"):
        whatif_scenarios(load_model(data), inputs=["m_a"])
