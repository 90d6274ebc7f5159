"""plots.spc_chart: XmR panels with limits, signals, target and benchmark lines."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import viz_fixtures as vf

from stratlab import plots
from stratlab.errors import InputError
from stratlab.io import load_model
from stratlab.stats.spc import spc


def _history() -> pd.DataFrame:
    index = pd.period_range("2021Q1", periods=12, freq="Q", name="period")
    return pd.DataFrame(
        {
            # m_b: lower is better; the last value jumps far above the limits (a concern)
            "m_b": [14, 19, 14, 19, 14, 19, 14, 19, 14, 19, 14, 40],
            # m_c: higher is better; steady, no signal
            "m_c": [70, 72, 71, 73, 70, 72, 71, 73, 70, 72, 71, 73],
        },
        index=index,
    )


def _roles(fig: Any, mid: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for trace in fig.data:
        if trace.meta["id"] == mid:
            out.setdefault(trace.meta["role"], []).append(trace)
    return out


def test_panels_limits_signals_and_target() -> None:
    model = vf.tiny_model()
    history = _history()
    fig = plots.spc_chart(history, model, ["m_b", "m_c"])
    table = spc(history, ["m_b", "m_c"])
    b = _roles(fig, "m_b")
    assert set(b) == {"kpi", "centre", "limits", "signal", "target"}
    limits = table[table["measure"] == "m_b"].iloc[0]
    ys = list(b["limits"][0].y)
    assert ys[2] is None  # one trace: the lower limit, a break, the upper limit
    assert [ys[0], ys[1], ys[3], ys[4]] == pytest.approx(
        [limits["lower"], limits["lower"], limits["upper"], limits["upper"]]
    )
    lo, hi = b["limits"][0].meta["lower"], b["limits"][0].meta["upper"]
    assert (lo, hi) == pytest.approx((limits["lower"], limits["upper"]))
    (signal,) = b["signal"]
    assert signal.meta["kind"] == "concern"  # lower is better, the value is high
    assert list(signal.y) == [40.0]
    assert "outside limits" in signal.text[0]
    assert list(b["target"][0].y) == [10.0, 10.0]
    c = _roles(fig, "m_c")
    assert "signal" not in c
    assert c["kpi"][0].xaxis == "x2" and c["kpi"][0].yaxis == "y2"
    assert fig.layout.meta["stratlab"] == "spc_chart"
    # subplot titles are escaped user text
    assert all("<script" not in a.text for a in fig.layout.annotations)


def test_improvement_and_benchmark_line() -> None:
    raw = vf.tiny_model_dict()
    for m in raw["measures"]:
        if m["id"] == "m_c":
            m["benchmark"] = {"value": 85, "label": "national <b>standard</b>"}
        if m["id"] == "m_b":
            m["targets"] = {"2023Q1": 12}
    model = load_model(raw)
    history = _history()
    history.loc[history.index[-1], "m_c"] = 95.0
    fig = plots.spc_chart(history, model, ["m_c"])
    c = _roles(fig, "m_c")
    assert c["signal"][0].meta["kind"] == "improvement"
    (bench,) = c["benchmark"]
    assert list(bench.y) == [85.0, 85.0]
    assert "&lt;b&gt;" in bench.hovertemplate
    # phased targets: the target in force, period by period (10 until 2022Q4, then 12)
    fig = plots.spc_chart(history, model, ["m_b"])
    (target,) = _roles(fig, "m_b")["target"]
    assert list(target.y) == [10.0] * 8 + [12.0] * 4


def test_benchmark_of_reads_mappings_and_objects() -> None:
    from types import SimpleNamespace

    from stratlab.plots.spc import benchmark_of

    assert benchmark_of(SimpleNamespace(benchmark={"value": 95, "label": "4-hour"})) == (
        95.0,
        "4-hour",
    )
    assert benchmark_of(SimpleNamespace(benchmark=SimpleNamespace(value=3, label=None))) == (
        3.0,
        "benchmark",
    )
    assert benchmark_of(SimpleNamespace()) is None


def test_bad_ids() -> None:
    model = vf.tiny_model()
    with pytest.raises(InputError, match="'a' is not a measure or key result"):
        plots.spc_chart(_history(), model, ["a"])
    with pytest.raises(InputError, match="no column 'm_a'"):
        plots.spc_chart(_history(), model, ["m_a"])


@pytest.mark.parametrize("columns", [1, 2, 3, 4])
def test_grid_domains_stay_in_the_unit_interval(columns: int) -> None:
    """Float error once gave a domain of -5.6e-17, which plotly refuses."""
    import plotly.graph_objects as go

    from stratlab.plots.spc import _grid

    for n in range(1, 30):
        layout = _grid(n, columns, [f"t{k}" for k in range(n)])
        go.Layout(layout)  # plotly validates every domain
        for key, axis in layout.items():
            if key != "annotations":
                assert 0 <= axis["domain"][0] < axis["domain"][1] <= 1
