"""Figures: trace structure, status colours, hover content, escaping, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from viz_fixtures import IMG, SCRIPT, all_strings, tiny_model

from stratlab import plots
from stratlab.errors import InputError
from stratlab.render import STATUS_COLORS
from stratlab.scoring import score


def _nodes(fig: go.Figure) -> dict[str, go.Scatter]:
    return {t.meta["status"]: t for t in fig.data if (t.meta or {}).get("role") == "objectives"}


def _assert_escaped(fig: go.Figure) -> None:
    texts = all_strings(fig.to_plotly_json())
    assert not any("<script" in s or "<img" in s for s in texts)
    joined = "\n".join(texts)
    assert "&lt;script&gt;" in joined or "&lt;img" in joined


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return tiny_model()


@pytest.fixture(scope="module")
def example():  # type: ignore[no-untyped-def]
    from stratlab.datasets import load_example

    return load_example()


def test_strategy_map_nodes_by_status(model) -> None:  # type: ignore[no-untyped-def]
    scores = score(model)
    fig = plots.strategy_map(model, scores)
    nodes = _nodes(fig)
    assert set(nodes) == {"green", "amber", "red", "no data"}
    expected = scores[scores["kind"] == "objective"].set_index("id")["status"]
    for st, trace in nodes.items():
        assert trace.marker.color == STATUS_COLORS[st]
        assert trace.name == st
        assert sorted(trace.customdata) == sorted(expected[expected == st].index)
    # labelled with the score
    red = nodes["red"]
    i = list(red.customdata).index("a")
    assert red.text[i].endswith("<b>0.3</b>")
    # bands bottom → top: learning at y=0, financial at y=3
    assert red.y[i] == 0.0
    assert 3.0 in nodes["amber"].y


def test_strategy_map_links_width_dash_inverse(model) -> None:  # type: ignore[no-untyped-def]
    fig = plots.strategy_map(model)
    links = [t for t in fig.data if (t.meta or {}).get("role") == "link"]
    by_name = {t.name: t for t in links}
    assert by_name["link (lagged)"].line.dash == "dash"  # c -> d, lag 1
    assert by_name["inverse"].line.color != by_name["link"].line.color  # e -> d
    widths = sorted(t.line.width for t in links)
    assert widths[0] < widths[-1]  # width grows with |weight|
    assert max(widths) == 5.0  # the strongest link (0.7)
    n_segments = sum(list(t.x).count(None) for t in links)
    assert n_segments == len(model.objective_links)
    hover = next(t for t in fig.data if (t.meta or {}).get("role") == "link-hover")
    assert len(hover.x) == 4
    assert any("inverse" in h for h in hover.hovertext)
    assert any("lag 1 quarter" in h for h in hover.hovertext)


def test_strategy_map_hover_lists_measures_and_okrs(model) -> None:  # type: ignore[no-untyped-def]
    fig = plots.strategy_map(model)
    hover = {
        cid: h
        for t in _nodes(fig).values()
        for cid, h in zip(t.customdata, t.hovertext, strict=True)
    }
    assert "Satisfaction: 80 %" in hover["c"]
    assert "OKRs:" in hover["c"] and "Win &lt;img" in hover["c"]
    assert "Measures:" in hover["a"] and "Measure &lt;img" in hover["a"]


def test_strategy_map_escapes(model) -> None:  # type: ignore[no-untyped-def]
    _assert_escaped(plots.strategy_map(model))


def test_update_strategy_map_recolours_in_place(model) -> None:  # type: ignore[no-untyped-def]
    fig = plots.strategy_map(model)
    n = len(fig.data)
    better = score(model.with_values({"m_a": 10.0}))
    plots.update_strategy_map(fig, model, better)
    assert len(fig.data) == n
    assert "a" in _nodes(fig)["green"].customdata


def test_scorecard(model) -> None:  # type: ignore[no-untyped-def]
    scores = score(model)
    fig = plots.scorecard(model, scores)
    status = {t.name: t for t in fig.data if (t.meta or {}).get("role") == "status"}
    assert status["green"].marker.color == STATUS_COLORS["green"]
    assert len(status["green"].y) == 1  # m_c
    assert len(status["red"].y) == 2  # m_a, m_e
    n_rows = sum(len(t.y) for t in status.values())
    assert n_rows == len(model.measures)
    hover = status["amber"].hovertext
    assert any("baseline 20 → target 10 days (lower is better)" in h for h in hover)
    assert [t.meta["role"] for t in fig.data].count("band") == 3
    _assert_escaped(fig)


def test_okr_progress(model) -> None:  # type: ignore[no-untyped-def]
    fig = plots.okr_progress(model)
    status = {t.name: t for t in fig.data if (t.meta or {}).get("role") == "status"}
    assert len(status["amber"].y) == 2  # the OKR and its key result at 0.4
    conf = next(t for t in fig.data if (t.meta or {}).get("role") == "confidence")
    assert list(conf.x) == [0.5]
    _assert_escaped(fig)


def test_okr_progress_needs_okrs() -> None:
    from stratlab.io import load_model

    m = load_model(
        {
            "stratlab": 1,
            "name": "x",
            "objectives": [{"id": "a", "name": "A", "perspective": "learning"}],
        }
    )
    with pytest.raises(InputError, match="no OKRs"):
        plots.okr_progress(m)


def test_kpi_trends_with_targets(model) -> None:  # type: ignore[no-untyped-def]
    idx = pd.period_range("2024Q1", periods=5, freq="Q", name="period")
    hist = pd.DataFrame({"m_a": [1, 2, 3, 4, 5.0], "m_b": [19, 18, 17, 16, 15.0]}, index=idx)
    fig = plots.kpi_trends(hist, model)
    roles = [t.meta["role"] for t in fig.data]
    assert roles.count("kpi") == 2 and roles.count("target") == 2 and roles.count("baseline") == 2
    target_b = next(t for t in fig.data if t.meta == {"role": "target", "id": "m_b"})
    assert list(target_b.y) == [10, 10]
    assert list(fig.data[0].y) == [1, 2, 3, 4, 5]
    _assert_escaped(fig)  # unit of m_a in the subplot title
    with pytest.raises(InputError, match="'m_z' is not a measure"):
        plots.kpi_trends(hist, model, ids=["m_z"])
    with pytest.raises(InputError, match="no column 'm_c'"):
        plots.kpi_trends(hist, model, ids=["m_c"])


def _corr_frame() -> pd.DataFrame:
    rows = []
    for lag in (0, 1, 2):
        for s, t, r in (("x", "y", 0.8), ("y", "x", -0.2), ("x", "z", 0.1)):
            if lag == 0 and s == "y":
                continue
            rows.append(
                (
                    s,
                    t,
                    lag,
                    30,
                    r / (lag + 1),
                    r - 0.1,
                    r + 0.1,
                    0.001 if abs(r) > 0.5 else 0.5,
                    0.002 if abs(r) > 0.5 else 0.6,
                    None,
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "source",
            "target",
            "lag",
            "n",
            "r",
            "ci_low",
            "ci_high",
            "p_value",
            "q_value",
            "reason",
        ],
    )


def test_correlation_heatmap_lag_slider() -> None:
    corr = _corr_frame()
    fig = plots.correlation_heatmap(corr, names={"x": SCRIPT})
    assert len(fig.data) == 3
    assert [t.visible for t in fig.data] == [True, False, False]
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["0", "1", "2"]
    assert steps[2].args[0]["visible"] == [False, False, True]
    z0 = np.array(fig.data[0].z)
    assert z0[0, 1] == pytest.approx(0.8) and z0[1, 0] == pytest.approx(0.8)  # lag 0 symmetric
    assert fig.data[0].text[0][1] == "0.8*"  # significant
    _assert_escaped(fig)
    with pytest.raises(InputError, match="no column 'q_value'"):
        plots.correlation_heatmap(corr.drop(columns="q_value"))


def test_correlation_heatmap_on_example(example) -> None:  # type: ignore[no-untyped-def]
    from stratlab.stats import correlate

    _, hist = example
    corr = correlate(hist, max_lag=1, columns=["wait_min", "nps", "csat"])
    fig = plots.correlation_heatmap(corr)
    assert len(fig.data) == 2 and len(fig.layout.sliders[0].steps) == 2


def test_lead_lag() -> None:
    fig = plots.lead_lag(_corr_frame(), "x", "y")
    sig, nonsig = fig.data
    assert sorted(sig.x) == [0, 1, 2]  # x leads y
    assert sorted(nonsig.x) == [-2, -1]  # y leads x (reverse rows)
    i = list(sig.x).index(1)
    assert sig.y[i] == pytest.approx(0.4)
    assert sig.error_y.array[i] == pytest.approx(0.9 - 0.4)
    with pytest.raises(InputError, match="no correlation rows for 'x' and 'nope'"):
        plots.lead_lag(_corr_frame(), "x", "nope")


def test_verdict_map(model) -> None:  # type: ignore[no-untyped-def]
    checks = pd.DataFrame(
        {
            "source": ["a", "b", "c"],
            "target": ["b", "c", "d"],
            "kind": "objective",
            "hypothesised_lag": [0, 0, 1],
            "best_lag": [0, 1, 1],
            "n": 20,
            "r": [0.6, 0.1, -0.5],
            "mde_r": [0.58, 0.58, 0.58],
            "q_value": [0.01, 0.5, 0.02],
            "granger_p": [0.02, 0.4, 0.03],
            "verdict": ["supported", "underpowered", "contradicted"],
            "reason": [None, f"small r {SCRIPT}", None],
        }
    )
    fig = plots.verdict_map(model, checks)
    links = {t.name: t for t in fig.data if (t.meta or {}).get("role") == "link"}
    assert set(links) == {"supported", "underpowered", "contradicted", "untestable"}  # e->d: no row
    assert links["supported"].line.color == plots.VERDICT_COLORS["supported"]
    assert links["contradicted"].line.dash == "dash"  # lagged
    hover = next(t for t in fig.data if (t.meta or {}).get("role") == "link-hover").hovertext
    assert any("verdict: underpowered" in h and "small r &lt;script&gt;" in h for h in hover)
    assert any("detectable |r| ≥ 0.58" in h for h in hover)
    assert links["underpowered"].line.color == plots.VERDICT_COLORS["underpowered"]
    _assert_escaped(fig)


def test_verdict_map_on_example(example) -> None:  # type: ignore[no-untyped-def]
    m, _ = example
    checks = pd.DataFrame(
        [(lk.source, lk.target, "supported", 0.5, 0.01) for lk in m.objective_links],
        columns=["source", "target", "verdict", "r", "q_value"],
    )
    fig = plots.verdict_map(m, checks)
    links = [t for t in fig.data if (t.meta or {}).get("role") == "link"]
    assert {t.name for t in links} == {"supported"}
    assert sum(list(t.x).count(None) for t in links) == len(m.objective_links)


def test_fan_chart_from_trajectories() -> None:
    rng = np.random.default_rng(1)
    traj = {"growth": rng.normal(0.5, 0.1, size=(400, 6)).cumsum(axis=1) / 3}
    fig = plots.fan_chart(traj)
    roles = [t.meta["role"] for t in fig.data]
    assert roles == ["band90", "band50", "median"]
    median = fig.data[2]
    assert list(median.y) == pytest.approx(list(np.percentile(traj["growth"], 50, axis=0)))
    band = fig.data[0]  # p95 forward then p05 backward
    assert band.y[0] == pytest.approx(np.percentile(traj["growth"][:, 0], 95))
    assert band.y[-1] == pytest.approx(np.percentile(traj["growth"][:, 0], 5))


def test_fan_chart_from_percentile_frame(model) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(
        {
            "id": "c",
            "step": [1, 2, 3],
            "p05": [0.1, 0.2, 0.3],
            "p50": [0.4, 0.5, 0.6],
            "p95": [0.7, 0.8, 0.9],
        }
    )
    fig = plots.fan_chart(frame, model=model)
    assert [t.meta["role"] for t in fig.data] == ["band90", "median"]
    assert fig.data[1].name.startswith("Gamma &lt;img")
    with pytest.raises(InputError, match="no trajectory for 'zz'"):
        plots.fan_chart(frame, ids=["zz"])
    with pytest.raises(InputError, match="no 'step' or 'period'"):
        plots.fan_chart(frame.drop(columns="step"))


def test_attainment_distribution_p_green() -> None:
    rng = np.random.default_rng(7)
    draws = pd.DataFrame({"a": rng.uniform(0, 1, 1000), "b": rng.normal(0.8, 0.1, 1000)})
    fig = plots.attainment_distribution(draws, green=0.7)
    assert len(fig.data) == 2
    for t, col in zip(fig.data, ["a", "b"], strict=True):
        ref = float(np.mean(draws[col] >= 0.7))
        assert t.meta["p_green"] == pytest.approx(ref)
        assert f"P(green) = {ref:.2g}" in t.name
    assert fig.layout.shapes[0].x0 == 0.7  # the green line
    with pytest.raises(InputError, match="no samples for 'z'"):
        plots.attainment_distribution(draws, ids=["z"])


def test_tornado_orders_by_swing() -> None:
    frame = pd.DataFrame(
        {
            "input": ["m1", "m2", "m3"],
            "input_kind": "measure",
            "objective": "g",
            "low": [0.5, 0.3, 0.55],
            "high": [0.6, 0.9, 0.58],
            "swing": [0.1, 0.6, 0.03],
        }
    )
    fig = plots.tornado(frame, base=0.56, names={"m2": IMG})
    low, high = fig.data
    assert low.y[0] == "&lt;img src=x onerror=alert(1)&gt;"  # largest swing first
    assert high.x[0] == pytest.approx(0.9 - 0.56) and high.base == 0.56
    _assert_escaped(fig)
    with pytest.raises(InputError, match="no rows for objective 'zz'"):
        plots.tornado(frame, objective="zz")


def test_variance_attribution_stacks_to_shares() -> None:
    frame = pd.DataFrame(
        {
            "input": ["x", "y", "z", "x", "y"],
            "objective": ["g", "g", "g", "h", "h"],
            "share": [0.5, 0.3, 0.2, 0.9, 0.1],
        }
    )
    fig = plots.variance_attribution(frame, top=2)
    assert [t.name for t in fig.data] == ["x", "y", "other"]
    total = sum(np.asarray(t.x) for t in fig.data)
    assert total == pytest.approx([1.0, 1.0])
    assert fig.layout.barmode == "stack"


def test_whatif_chart(model) -> None:  # type: ignore[no-untyped-def]
    before = score(model).set_index("id")["score"]
    after = score(model.with_values({"m_a": 10.0})).set_index("id")["score"]
    frame = pd.DataFrame(
        {
            "id": before.index,
            "kind": score(model)["kind"].to_numpy(),
            "name": score(model)["name"].to_numpy(),
            "before": before.to_numpy(),
            "after": after.to_numpy(),
            "delta": (after - before).to_numpy(),
        }
    )
    fig = plots.whatif_chart(frame, model=model)
    _connector, _before, a = fig.data
    # largest moves first: objective a and its perspective (its only objective), +0.7
    assert set(list(a.y)[:2]) == {
        "Alpha &lt;script&gt;window.__pwned=1&lt;/script&gt;",
        "Learning &amp; Growth",
    }
    assert list(a.marker.color[:2]) == [STATUS_COLORS["green"]] * 2
    assert list(a.text[:2]) == ["+0.7", "+0.7"]
    assert "Phi (unrelated)" not in a.y[:6] or a.text[list(a.y).index("Phi (unrelated)")] == ""
    _assert_escaped(fig)
    with pytest.raises(InputError, match="no column 'delta'"):
        plots.whatif_chart(frame.drop(columns="delta"))


def test_every_figure_from_the_example_exports(example, tmp_path) -> None:  # type: ignore[no-untyped-def]
    m, hist = example
    scores = score(m, hist)
    for fig in (
        plots.strategy_map(m, scores),
        plots.scorecard(m, scores),
        plots.okr_progress(m, scores),
        plots.kpi_trends(hist, m, ids=["wait_min", "nps"]),
    ):
        assert isinstance(fig, go.Figure)
        html = fig.to_html(include_plotlyjs=False, full_html=False)
        assert "Plotly.newPlot" in html


def test_map_layout_untangles_links() -> None:
    from stratlab.model import build_model
    from stratlab.plots import map_layout

    objectives = [
        {"id": "a1", "name": "A1", "perspective": "learning"},
        {"id": "a2", "name": "A2", "perspective": "learning"},
        {"id": "a3", "name": "A3", "perspective": "learning"},
        {"id": "b3", "name": "B3", "perspective": "process"},
        {"id": "b1", "name": "B1", "perspective": "process"},
        {"id": "b2", "name": "B2", "perspective": "process"},
    ]
    links = [{"from": f"a{i}", "to": f"b{i}", "weight": 1} for i in (1, 2, 3)]
    model = build_model({"stratlab": 1, "name": "t", "objectives": objectives, "links": links})
    layout = map_layout(model)
    x = dict(zip(layout.ids, layout.x, strict=True))
    # file order crosses a3→b3 with both other links; the sweeps leave no crossing:
    # the effects stand in the same left-to-right order as their causes
    causes = sorted(["a1", "a2", "a3"], key=lambda k: x[k])
    effects = sorted(["b1", "b2", "b3"], key=lambda k: x[k])
    assert [c[1] for c in causes] == [e[1] for e in effects]


def test_large_map_is_legible_and_light() -> None:
    """Above 60 links: widths in 0.5 px steps, no arrowheads; above 200 objectives:
    scores in the hover only.  A small map keeps arrowheads, labels and 0.1 px widths."""
    from stratlab.datasets import make_cascade
    from stratlab.io import load_model
    from stratlab.plots import strategy_map

    big = load_model(
        make_cascade(
            n_objectives=210, n_measures=210, n_key_results=10, n_links=120, n_initiatives=1, seed=2
        )
    )
    fig = strategy_map(big)
    links = [t for t in fig.data if t.meta["role"] == "link"]
    assert {t.mode for t in links} == {"lines"}
    assert all((t.line.width * 2) == int(t.line.width * 2) for t in links)
    nodes = [t for t in fig.data if t.meta["role"] == "objectives"]
    assert {t.mode for t in nodes} == {"markers"}
    assert sum(len(t.x) for t in nodes) == 210
    small = strategy_map(load_model(make_cascade(n_objectives=12, n_links=15, seed=2)))
    assert {t.mode for t in small.data if t.meta["role"] == "link"} == {"lines+markers"}
    assert {t.mode for t in small.data if t.meta["role"] == "objectives"} == {"markers+text"}


def test_white_template_is_plotlys_and_set_as_is() -> None:
    """The template is read from plotly's file: the same as plotly's validated plotly_white
    (cut to the 2-D parts); apply_layout sets it unvalidated, the rest still validated."""
    import json

    import plotly.io as pio

    from stratlab.plots._common import _TEMPLATE_LAYOUT, _TEMPLATE_TRACES, apply_layout

    full = pio.templates["plotly_white"].to_plotly_json()
    expected = {
        "layout": {k: v for k, v in full["layout"].items() if k in _TEMPLATE_LAYOUT},
        "data": {k: v for k, v in full["data"].items() if k in _TEMPLATE_TRACES},
    }
    # compared as JSON: what the page receives
    assert json.loads(json.dumps(plots._common.white_template())) == json.loads(
        json.dumps(expected)
    )
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    apply_layout(fig, "t", height=300)
    assert fig.to_dict()["layout"]["template"] == json.loads(json.dumps(expected))
    assert fig.layout.template.layout.paper_bgcolor == "white"
    assert fig.layout._validate  # only the template skipped validation
    with pytest.raises(ValueError, match="heigth"):
        apply_layout(fig, "t", heigth=300)
    # a FigureWidget (whose front end follows each change) gets it through plotly
    widget = go.FigureWidget(go.Bar(x=["a"], y=[1]))
    apply_layout(widget, "t")
    assert widget.to_dict()["layout"]["template"] == json.loads(json.dumps(expected))


def test_apply_layout_merges_as_update_layout_does() -> None:
    """apply_layout sets the layout in one validated assignment; the result is what
    plotly's (six times slower) update_layout gives, merged into what was there."""
    import json

    from stratlab.plots._common import _FONT, apply_layout, white_template

    def start() -> go.Figure:
        fig = go.Figure(go.Bar(x=["a"], y=[1]))
        fig.layout.xaxis.title.text = "kept"
        fig.layout.shapes = [{"type": "line", "x0": 0, "x1": 1, "y0": 0, "y1": 1}]
        return fig

    extra = {"xaxis": {"range": [0, 2]}, "height": 300, "sliders": [{"steps": []}]}
    fig = start()
    apply_layout(fig, "<b>t</b>", margin={"l": 200}, **extra)
    reference = start()
    reference.layout.template = white_template()
    reference.update_layout(
        title={"text": "&lt;b&gt;t&lt;/b&gt;", "x": 0.01, "xanchor": "left"},
        font=_FONT,
        margin={"l": 200, "r": 20, "t": 60, "b": 40},
        hoverlabel={"align": "left"},
        **extra,
    )
    assert json.loads(fig.to_json()) == json.loads(reference.to_json())
    assert fig.layout.xaxis.title.text == "kept" and len(fig.layout.shapes) == 1


@pytest.mark.parametrize("axis", ["x", "y"])
def test_lines_across_are_plotlys_vline_and_hline(axis: str) -> None:
    import json

    from stratlab.plots._common import line_across, line_label

    line = {"dash": "dash", "color": "#009E73"}
    ours = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    ours.update_layout(
        shapes=[line_across(axis, 0.7, line)], annotations=[line_label(axis, 0.7, "g")]
    )
    plotlys = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    if axis == "x":
        plotlys.add_vline(x=0.7, line=line, annotation_text="g", annotation_position="top right")
    else:
        plotlys.add_hline(y=0.7, line=line, annotation_text="g", annotation_position="top left")
    assert json.loads(ours.to_json()) == json.loads(plotlys.to_json())
