"""Explorers driven headless: set a control's value, assert on .result and .figure."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from viz_fixtures import tiny_model

from stratlab.errors import InputError
from stratlab.render import STATUS_COLORS
from stratlab.scoring import score
from stratlab.widgets import (
    correlation_explorer,
    link_key,
    simulation_explorer,
    whatif_explorer,
)


@pytest.fixture()
def explorer():  # type: ignore[no-untyped-def]
    return whatif_explorer(tiny_model())


def _after(ex: Any) -> pd.Series:
    return ex.result.set_index("id")["score_after"]


def _before(ex: Any) -> pd.Series:
    return ex.result.set_index("id")["score_before"]


def _moved(ex: Any) -> set[str]:
    r = ex.result
    return set(r.loc[r["score_delta"].abs() > 1e-12, "id"])


def _node_ids(fig: Any, status: str) -> list[str]:
    return next(
        list(t.customdata)
        for t in fig.data
        if (t.meta or {}).get("role") == "objectives" and t.meta["status"] == status
    )


def test_controls_one_per_measure_key_result_and_link(explorer) -> None:  # type: ignore[no-untyped-def]
    m = explorer.model
    expected = {x.id for x in m.measures} | {k.id for k in m.key_results}
    expected |= {link_key(lk.source, lk.target) for lk in m.objective_links}
    assert set(explorer.controls) == expected
    ctl = explorer.controls["m_b"]  # lower is better: 20 -> 10, current 16
    assert ctl.min < 10 < 16 < 20 < ctl.max and ctl.value == 16
    assert explorer.controls["kr1"].value == 4
    assert explorer.controls["link:c->d"].value == 0.7
    assert list(explorer.result.columns) == [
        "id",
        "kind",
        "name",
        "before",
        "after",
        "delta",
        "score_before",
        "score_after",
        "score_delta",
        "status",
    ]
    assert (explorer.result["delta"] == 0).all()


def test_before_matches_score(explorer) -> None:  # type: ignore[no-untyped-def]
    ref = score(explorer.model).set_index("id")["score"]
    before = _before(explorer)
    assert before.reindex(ref.index).to_numpy() == pytest.approx(ref.to_numpy(), nan_ok=True)


def test_measure_control_lifts_objectives_above_it(explorer) -> None:  # type: ignore[no-untyped-def]
    explorer.controls["m_a"].value = 9.0
    after = _after(explorer)
    before = _before(explorer)
    for node in ("a", "b", "c", "d"):  # the chain a -> b -> c -> d
        assert after[node] > before[node] + 1e-9, node
    assert _moved(explorer) == {
        "m_a",
        "a",
        "b",
        "c",
        "d",
        "learning",
        "process",
        "customer",
        "financial",
    }
    # the reference: the public score of the changed model
    ref = score(explorer.model.with_values({"m_a": 9.0})).set_index("id")["score"]
    assert after.reindex(ref.index).to_numpy() == pytest.approx(ref.to_numpy(), nan_ok=True)


def test_now_view_waits_for_lagged_links(explorer) -> None:  # type: ignore[no-untyped-def]
    from stratlab.propagation import whatif

    explorer.view.value = "now"
    explorer.controls["m_a"].value = 9.0
    after, before = _after(explorer), _before(explorer)
    assert after["c"] > before["c"]
    assert after["d"] == pytest.approx(before["d"])  # c -> d has lag 1: not yet
    ref = whatif(explorer.model, {"m_a": 9.0}).to_frame()
    assert explorer.result["score_after"].to_numpy() == pytest.approx(ref["score_after"].to_numpy())
    explorer.view.value = "long run"
    assert _after(explorer)["d"] > before["d"]


def test_lower_is_better_measure(explorer) -> None:  # type: ignore[no-untyped-def]
    explorer.controls["m_b"].value = 12.0  # shorter cycle time: better
    after, before = _after(explorer), _before(explorer)
    assert after["b"] > before["b"] and after["c"] > before["c"]
    assert after["a"] == before["a"]


def test_key_result_control_moves_its_objective(explorer) -> None:  # type: ignore[no-untyped-def]
    explorer.controls["kr1"].value = 10.0
    after, before = _after(explorer), _before(explorer)
    assert after["kr1"] == 1.0 and after["o1"] == 1.0
    assert explorer.result.set_index("id").loc["kr1", "after"] == 10.0  # natural units
    assert after["c"] > before["c"] and after["d"] > before["d"]  # aligned objective and above
    assert _moved(explorer) == {"kr1", "o1", "c", "d", "customer", "financial"}


def test_inverse_link_lowers_the_effect(explorer) -> None:  # type: ignore[no-untyped-def]
    explorer.controls["m_e"].value = 2.0  # e to target; e -> d is inverse
    after, before = _after(explorer), _before(explorer)
    assert after["e"] > before["e"]
    assert after["d"] < before["d"]


def test_link_weight_control(explorer) -> None:  # type: ignore[no-untyped-def]
    n_traces = len(explorer.figure.data)
    explorer.controls["link:a->b"].value = 0.0  # cut a's influence on b
    after, before = _after(explorer), _before(explorer)
    # b = (|w_mb| s_mb + 0.6 s_a)/1.6 before; with weight 0 it is its own measure only
    assert after["b"] == pytest.approx(score(explorer.model).set_index("id").loc["m_b", "score"])
    assert after["a"] == before["a"]
    assert len(explorer.figure.data) >= n_traces - 1
    widths = [t.line.width for t in explorer.figure.data if (t.meta or {}).get("role") == "link"]
    assert min(widths) == 1.0  # the zero-weight link is drawn thin


def test_figure_updates_in_place(explorer) -> None:  # type: ignore[no-untyped-def]
    fig = explorer.figure
    assert "a" in _node_ids(fig, "red")
    explorer.controls["m_a"].value = 10.0
    assert explorer.figure is fig
    assert "a" in _node_ids(fig, "green") and "a" not in _node_ids(fig, "red")
    green = next(t for t in fig.data if (t.meta or {}).get("status") == "green")
    assert green.marker.color == STATUS_COLORS["green"]
    i = list(green.customdata).index("a")
    assert green.text[i].endswith("<b>1</b>")
    assert (
        "Before → after" in explorer.table.value and "Alpha &lt;script&gt;" in explorer.table.value
    )


def test_burst_of_changes_updates_once(explorer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = []
    original = explorer._update

    def counting() -> None:
        calls.append(1)
        original()

    monkeypatch.setattr(explorer, "_update", counting)
    result = explorer.set({"m_a": 8.0, "m_b": 12.0}, kr1=9.0)
    assert len(calls) == 1
    assert result is explorer.result
    assert set(explorer.changes()) == {"m_a", "m_b", "kr1"}
    with explorer.hold():
        explorer.controls["m_c"].value = 85.0
        explorer.controls["m_d"].value = 60.0
    assert len(calls) == 2


def test_reset(explorer) -> None:  # type: ignore[no-untyped-def]
    explorer.set(m_a=9.0, kr1=1.0)
    explorer.reset()
    assert explorer.changes() == {}
    assert (explorer.result["delta"] == 0).all()
    assert "a" in _node_ids(explorer.figure, "red")


def test_scenarios_compare_and_export(explorer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    explorer.set(m_a=9.0)
    explorer.save_scenario("skills push")
    explorer.reset()
    explorer.set(kr1=10.0, **{"link:c->d": 0.2})
    explorer.save_scenario("okr sprint")
    table = explorer.compare()
    assert list(table.columns) == [
        "id",
        "kind",
        "name",
        "score_before",
        "skills push",
        "okr sprint",
    ]
    t = table.set_index("id")
    ref = score(explorer.model.with_values({"m_a": 9.0})).set_index("id")["score"]
    assert t.loc["d", "skills push"] == pytest.approx(ref["d"])
    assert t.loc["a", "okr sprint"] == pytest.approx(t.loc["a", "score_before"])
    assert "Saved scenarios" in explorer.compare_html.value

    out = explorer.export_scenario(tmp_path / "s.yaml", name="okr sprint")
    doc = yaml.safe_load(out.read_text())
    assert doc["scenario"] == "okr sprint"
    assert doc["set"] == {"kr1": 10.0} and doc["weights"] == {"link:c->d": 0.2}
    assert doc["effects"]["c"]["after"] > doc["effects"]["c"]["before"]
    csv = pd.read_csv(explorer.export_scenario(tmp_path / "s.csv", name="skills push"))
    assert list(csv.columns) == list(explorer.result.columns)
    assert csv.set_index("id").loc["d", "score_after"] == pytest.approx(ref["d"])
    assert csv.set_index("id").loc["m_a", "after"] == 9.0  # natural units

    explorer.load_scenario("skills push")
    assert explorer.changes() == {"m_a": 9.0}


def test_explorer_bad_inputs(explorer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=r"no control 'nope'.*link:source->target"):
        explorer.set(nope=1.0)
    with pytest.raises(InputError, match=r"unknown file type \.txt.*\.yaml, \.yml or \.csv"):
        explorer.export_scenario(tmp_path / "s.txt")
    with pytest.raises(InputError, match=r"no saved scenario 'ghost'.*save it first"):
        explorer.load_scenario("ghost")
    with pytest.raises(InputError, match="the name is empty"):
        explorer.save_scenario("  ")
    with pytest.raises(
        InputError,
        match=r"a strategy model must be a file path, a mapping or a stratlab Model, not int",
    ):
        whatif_explorer(3)
    with pytest.raises(InputError, match=r"view='later' is not a view.*long run"):
        whatif_explorer(explorer.model, view="later")


def test_explorer_with_history_on_example() -> None:
    from stratlab.datasets import load_example

    model, hist = load_example()
    ex = whatif_explorer(model, hist, view="now")
    ref = score(model, hist).set_index("id")["score"]
    before = _before(ex)
    assert before.reindex(ref.index).to_numpy() == pytest.approx(ref.to_numpy(), nan_ok=True)
    ex.controls["wait_min"].value = 4.0  # shorter waits: speed, and (driver) NPS -> loyalty
    after = _after(ex)
    assert after["speed"] > before["speed"]
    assert after["nps"] > before["nps"]  # wait_min -> nps driver link, coefficient -3
    assert after["loyalty"] > before["loyalty"]
    assert ex.widget is not None


def test_correlation_explorer() -> None:
    rng = np.random.default_rng(3)
    idx = pd.period_range("2020-01", periods=40, freq="M", name="period")
    x = rng.normal(size=40).cumsum()
    y = np.r_[0.0, x[:-1]] * 2 + rng.normal(scale=0.1, size=40)  # y follows x one month later
    hist = pd.DataFrame({"x": x, "y": y, "z": rng.normal(size=40)}, index=idx)
    ex = correlation_explorer(hist, max_lag=2)
    ex.controls["source"].value = "x"
    ex.controls["target"].value = "y"
    ex.controls["lag"].value = 1
    assert ex.result["r"] > 0.9 and ex.result["q_value"] < 0.01
    dx, dy = np.diff(x), np.diff(y)
    ref = np.corrcoef(dx[:-1], dy[1:])[0, 1]  # independent: corr of x[t-1] and y[t], differenced
    assert ex.result["r"] == pytest.approx(ref)
    assert len(ex.figure.data[0].x) == 38
    assert "lag 1" in ex.stats.value
    ex.controls["lag"].value = 0
    assert abs(ex.result["r"]) < 0.5


def _fake_simulate(
    model: Any, history: Any, *, samples: int, seed: int | None, horizon: int = 1
) -> Any:
    rng = np.random.default_rng(seed)
    conf = np.mean([kr.confidence for kr in model.key_results])
    sd = 0.1 * np.sqrt(horizon)
    draws = {o.id: np.clip(rng.normal(conf, sd, samples), 0, 1) for o in model.objectives}
    summary = pd.DataFrame(
        {
            "id": list(draws),
            "kind": "objective",
            "name": [model.get(i).name for i in draws],
            "mean": [v.mean() for v in draws.values()],
            "p05": [np.percentile(v, 5) for v in draws.values()],
            "p50": [np.percentile(v, 50) for v in draws.values()],
            "p95": [np.percentile(v, 95) for v in draws.values()],
            "p_green": [np.mean(v >= 0.7) for v in draws.values()],
        }
    )
    return SimpleNamespace(summary=lambda: summary, samples=lambda i: draws[i])


def test_simulation_explorer_with_an_engine() -> None:
    ex = simulation_explorer(tiny_model(), samples=500, seed=1, simulate=_fake_simulate)
    p0 = ex.p_green()
    ex.controls["confidence_shift"].value = 0.3
    assert ex.p_green() > p0
    assert len(ex.figure.data) == 1 and len(ex.figure.data[0].x) == 500
    ex.controls["samples"].value = 1000
    assert len(ex.figure.data[0].x) == 1000
    assert "P(green)" in ex.figure.data[0].name
    assert "P(green) by node" in ex.summary_html.value
    # fan chart: one run per period ahead, spread growing with the horizon
    assert list(ex.fan["step"]) == [1, 2, 3, 4]
    width = (ex.fan["p95"] - ex.fan["p05"]).to_numpy()
    assert width[-1] > width[0]
    assert [t.meta["role"] for t in ex.fan_figure.data] == ["band90", "band50", "median"]
    ex.controls["horizon"].value = 2
    assert len(ex.fan) == 2


def test_simulation_explorer_on_the_example() -> None:
    from stratlab.datasets import load_example

    model, hist = load_example()
    ex = simulation_explorer(model, hist, samples=300, seed=0, horizon=2, elapsed=0.5)
    from stratlab.simulation import simulate

    ref = simulate(model, hist, samples=300, seed=0, horizon=1, elapsed=0.5).summary()
    node = ex.controls["node"].value
    assert ex.p_green() == pytest.approx(float(ref.set_index("id").loc[node, "p_green"]))
    p0 = ex.p_green("speed")
    ex.controls["confidence_shift"].value = 0.4
    assert ex.p_green("speed") >= p0  # more confident OKR owners: no lower odds


# ------------------------------------------------------------------ issue 11: the explorers as a product


@pytest.fixture(scope="module")
def example_explorer():  # type: ignore[no-untyped-def]
    from stratlab.datasets import load_example

    model, hist = load_example()
    return whatif_explorer(model, hist), model, hist


def test_slider_spec_grid_contains_the_value() -> None:
    from stratlab.widgets._controls import nice_step, slider_spec

    assert [nice_step(s) for s in (1.0, 7.3, 160.0, 0.0)] == [0.01, 0.05, 2.0, 0.01]
    spec = slider_spec([9.0, 4.0], 5.873, floor=0.0)  # span 5 ± 15 %: 3.25 .. 9.75, step 0.05
    assert spec.step == 0.05 and spec.value == 5.87 and spec.decimals == 2
    assert spec.lo == pytest.approx(3.27) and spec.hi == pytest.approx(9.72)
    k = (spec.value - spec.lo) / spec.step
    assert k == pytest.approx(round(k), abs=1e-9)
    # a count never goes negative, a percentage never above 100 unless the data do
    assert slider_spec([0.0, 120.0], 30.0, floor=0.0).lo >= 0
    assert slider_spec([40.0, 98.0], 90.0, ceiling=100.0).hi <= 100
    assert slider_spec([40.0, 104.0], 90.0, ceiling=100.0).hi > 104


def test_example_controls_ranges_and_labels(example_explorer) -> None:  # type: ignore[no-untyped-def]
    ex, model, _hist = example_explorer
    for key, ctl in ex.controls.items():
        k = (ctl.value - ctl.min) / ctl.step
        assert k == pytest.approx(round(k), abs=1e-6), key  # the grid holds the value
        assert ctl.min <= ctl.value <= ctl.max
        n_steps = (ctl.max - ctl.min) / ctl.step
        assert 20 <= n_steps <= 260, (key, n_steps)
    for kr in model.key_results:  # counts: never below zero
        if (kr.start or 0) >= 0 and (kr.target or 0) >= 0:
            assert ex.controls[kr.id].min >= 0, kr.id
    for m in model.measures:
        if m.unit == "%":
            assert ex.controls[m.id].max <= 100, m.id
    for lk in model.objective_links:  # link weights keep their sign
        ctl = ex.controls[link_key(lk.source, lk.target)]
        assert (ctl.min >= 0) if (lk.weight or 0) >= 0 else (ctl.max <= 0)
    labels = [ctl.description for ctl in ex.controls.values()]
    for m in model.measures:  # a name stating its unit gets no second one
        if "%" in m.name:
            assert m.name in labels, m.name
    assert not any("(% of COGS) (%)" in t for t in labels)
    assert any("Average wait at peak (min)" in t for t in labels)
    assert all("e+" not in ctl.readout_format for ctl in ex.controls.values())


def test_synced_state_follows_every_change(example_explorer) -> None:  # type: ignore[no-untyped-def]
    """A front end connecting late gets the figure as it is now (Voilà, a reloaded tab)."""
    from stratlab.widgets._figure import synced_state

    ex, _model, _hist = example_explorer
    ex.reset()
    ex.controls["wait_min"].value = ex.controls["wait_min"].min
    state = synced_state(ex.figure_widget)
    live = {
        t.meta["status"]: list(t.customdata)
        for t in ex.figure.data
        if t.meta["role"] == "objectives"
    }
    synced = {
        t["meta"]["status"]: list(t["customdata"])
        for t in state["data"]
        if (t.get("meta") or {}).get("role") == "objectives"
    }
    assert synced == live
    texts = {
        t["meta"]["status"]: t["text"]
        for t in state["data"]
        if (t.get("meta") or {}).get("role") == "objectives"
    }
    assert texts == {
        t.meta["status"]: list(t.text) for t in ex.figure.data if t.meta["role"] == "objectives"
    }
    assert "long run" in state["layout"]["title"]["text"]
    ex.reset()


def test_view_switch_recomputes_at_once(example_explorer) -> None:  # type: ignore[no-untyped-def]
    from stratlab.propagation import whatif

    ex, model, hist = example_explorer
    ex.reset()
    ex.controls["wait_min"].value = 4.0
    ex.view.value = "now"  # no other control moves
    ref = whatif(model, {"wait_min": 4.0}, hist, horizon=0).to_frame()
    assert ex.result["score_after"].to_numpy() == pytest.approx(ref["score_after"].to_numpy())
    assert "now" in ex.figure.layout.title.text and "view: now" in ex.table.value
    assert "in 2 months" in ex.view.options
    ex.view.value = "in 2 months"
    traj = whatif(model, {"wait_min": 4.0}, hist, horizon=2).trajectory
    ref2 = traj[traj["period"] == 2]
    assert ex.result["score_after"].to_numpy() == pytest.approx(ref2["score_after"].to_numpy())
    ex.view.value = "long run"
    ex.reset()


def test_effects_table_grouped_sorted_with_units(example_explorer) -> None:  # type: ignore[no-untyped-def]
    import re

    ex, _model, _hist = example_explorer
    ex.reset()
    ex.controls["wait_min"].value = 4.0
    html = ex.table.value
    assert "table-layout:fixed" in html and "width:100%" in html
    kinds = re.findall(r"font-weight:600;color:#333;border-bottom:1px solid #ddd'>([^<]+)<", html)
    assert kinds[:2] == ["Perspectives", "Objectives"] and "Measures" in kinds
    ids = re.findall(r"data-id='([^']+)'", html)
    res = ex.result.set_index("id")
    objectives = [i for i in ids if res.loc[i, "kind"] == "objective"]
    deltas = [abs(res.loc[i, "score_delta"]) for i in objectives]
    assert deltas == sorted(deltas, reverse=True) and len(objectives) > 1
    assert "→ <b>4 min</b>" in html  # natural units on measures
    assert html.count("class='chip") + html.count('class="chip') >= len(ids) or "status" in html
    ex.reset()


def test_scenarios_remember_view_delete_and_absolute_export(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ex = whatif_explorer(tiny_model())
    ex.view.value = "now"
    ex.set(m_a=9.0)
    ex.save_scenario("now push")
    ex.view.value = "long run"
    ex.reset()
    ex.load_scenario("now push")
    assert ex.view.value == "now" and ex.changes() == {"m_a": 9.0}
    ex._saved.value = "now push"
    monkeypatch.chdir(tmp_path)
    ex._path.value = "out.yaml"
    out = ex.export_scenario("out.yaml", name="now push")
    assert out.is_absolute() and out == tmp_path / "out.yaml"
    assert yaml.safe_load(out.read_text())["view"] == "now"
    ex.delete_scenario("now push")
    assert ex.scenarios == {} and list(ex._saved.options) == []
    with pytest.raises(InputError, match="no saved scenario 'now push'"):
        ex.delete_scenario("now push")
    with pytest.raises(InputError, match="the file name is empty"):
        ex.export_scenario("  ")


def test_correlation_and_simulation_synced_state() -> None:
    from stratlab.widgets._figure import synced_state

    rng = np.random.default_rng(0)
    idx = pd.period_range("2020-01", periods=30, freq="M", name="period")
    hist = pd.DataFrame({"x": rng.normal(size=30).cumsum(), "y": rng.normal(size=30)}, index=idx)
    ce = correlation_explorer(hist, max_lag=1)
    n = 30 - 1 - int(ce.result["lag"])  # differenced once, shifted by the lag
    x = synced_state(ce.figure_widget)["data"][0]["x"]
    assert x == pytest.approx(list(ce.figure.data[0].x))
    assert len(ce.figure.data[0].x) == n
    ex = simulation_explorer(tiny_model(), samples=200, seed=1, simulate=_fake_simulate, horizon=3)
    fan = synced_state(ex.fan_widget)["data"]
    assert [t["meta"]["role"] for t in fan] == ["band90", "band50", "median"]
    assert [t.get("mode") for t in fan[:2]] == ["lines", "lines"]  # no stray band markers
    node = ex.model.get(ex.controls["node"].value).name
    assert node in ex.figure.layout.title.text and "P(green)" in ex.figure.layout.title.text
    assert node in ex.fan_figure.layout.title.text
    ex.controls["horizon"].value = 2
    assert len(synced_state(ex.fan_widget)["data"][2]["x"]) == 2
    assert synced_state(ex.fan_widget) == _parsed(ex.fan_figure)


def _decoded(obj):  # type: ignore[no-untyped-def]
    """``obj`` with plotly's typed arrays (``{dtype, bdata}``) decoded to lists."""
    import base64

    if isinstance(obj, dict) and "bdata" in obj and "dtype" in obj:
        values = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
        if "shape" not in obj:
            return values.tolist()
        return values.reshape([int(n) for n in str(obj["shape"]).split(",")]).tolist()
    if isinstance(obj, dict):
        return {k: _decoded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decoded(v) for v in obj]
    return obj


def _parsed(fig) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """plotly's own serialisation of a figure, for comparison with the synced state."""
    import json

    whole = _decoded(json.loads(fig.to_json()))
    return {"data": whole["data"], "layout": whole["layout"]}


def _recording(live):  # type: ignore[no-untyped-def]
    sent: list[tuple[dict, list]] = []  # type: ignore[type-arg]
    live.send = lambda content, buffers=None: sent.append((content, buffers or []))
    return sent


def test_live_figure_state_follows_each_batch_once() -> None:
    import plotly.graph_objects as go

    from stratlab.widgets._figure import batch, live_figure, synced_state

    fig = go.Figure([go.Scatter(x=[1, 2], y=[3, 4], name="a"), go.Bar(x=[1], y=[2], name="b")])
    fig.update_layout(title={"text": "first"}, height=300)
    live = live_figure(fig)
    states: list[dict] = []  # type: ignore[type-arg]
    live.observe(lambda change: states.append(change["new"]), names="_figure")
    before = live.get_state()["_figure"]
    with batch(live) as f:
        assert f is fig
        f.data[1].y = [5]
        with batch(live):  # nested: one update, at the end of the outer block
            f.layout.title.text = "second"
        assert states == []
    assert len(states) == 1
    after = states[0]
    assert [a == b for a, b in zip(before["data"], after["data"], strict=True)] == [True, False]
    changed = {k for k in after["layout"] if after["layout"][k] != before["layout"].get(k)}
    assert changed == {"title"}
    assert synced_state(live) == _parsed(fig)  # a late front end gets the figure as it is now
    with batch(live):
        pass
    assert len(states) == 1  # nothing changed, nothing sent
    live.show(go.Figure([go.Scatter(x=[0], y=[0])]))  # fewer traces, layout keys gone
    assert len(states) == 2 and len(states[1]["data"]) == 1
    assert "height" not in states[1]["layout"] and "title" not in states[1]["layout"]
    assert synced_state(live) == _parsed(live.fig)


def test_live_figure_serves_plotly_js_once_asked() -> None:
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs_version

    from stratlab.plots.plotlyjs import bundle_version
    from stratlab.widgets._figure import live_figure

    live = live_figure(go.Figure(go.Scatter(x=[1], y=[1])))
    assert live._bundle == "cartesian"
    sent = _recording(live)
    live._on_msg(live, {"type": "something else"}, [])
    assert sent == []
    live._on_msg(live, {"type": "plotly-js?", "bundle": "cartesian"}, [])
    ((content, buffers),) = sent
    assert content == {"type": "plotly-js", "bundle": "cartesian"}
    script = bytes(buffers[0]).decode("utf-8")
    assert "plotly.js (cartesian - minified)" in script[:200]
    assert bundle_version(script) == get_plotlyjs_version()
    # a trace type the partial bundle lacks: the front end is told to load the full one
    polar = live_figure(go.Figure(go.Scatterpolar(r=[1, 2], theta=[0, 90])))
    assert polar._bundle == "full"
    live.show(go.Figure(go.Sankey()))
    assert live._bundle == "full"


def test_busy_mark_shown_when_the_last_update_was_slow() -> None:
    from stratlab.widgets._controls import BUSY_HTML

    ex = whatif_explorer(tiny_model())
    seen: list[str] = []
    ex.busy.observe(lambda change: seen.append(change["new"]), names="value")
    ex._last_update_s = 1.0  # the last update took a second: this one shows the mark
    ex.controls["m_a"].value = 9.0
    assert seen == [BUSY_HTML, ""]
    assert ex._last_update_s < 1.0  # measured anew
    ex._last_update_s = 0.0  # a fast one: no mark, no messages
    ex.controls["m_a"].value = 8.0
    assert seen == [BUSY_HTML, ""]


def test_sliders_of_a_tab_open_their_comms_when_the_tab_is_first_shown() -> None:
    """A front end builds models for the first tab's sliders only; the rest are complete
    widgets in the kernel (set, observed, planned) until their tab is opened."""
    from stratlab.datasets import load_example

    model, history = load_example()
    ex = whatif_explorer(model, history)
    first = ex.tabs.children[0].children
    assert first and all(c.comm is not None for c in first)
    later = [c for c in ex.controls.values() if c not in first]
    assert later and all(c.comm is None for c in later)
    link = ex.controls[next(k for k in ex.controls if k.startswith("link:"))]
    link.value = link.min  # unshown: still drives the result
    assert ex.changes() and ex.result["score_delta"].abs().max() > 0
    k = [t for t in ex.tabs.titles].index("Link weights")
    assert ex.tabs.children[k].children == ()
    ex.tabs.selected_index = k
    page = ex.tabs.children[k].children
    assert link in page and all(c.comm is not None for c in page)
    assert link.get_state()["value"] == link.min
