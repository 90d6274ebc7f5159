"""XmR (process-behaviour) chart figures: :func:`spc_chart`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InputError, Problem
from ._common import apply_layout, esc, fmt_num

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go


__all__ = ["SIGNAL_COLORS", "benchmark_of", "signal_kind", "spc_chart"]

#: Marker colours of signals (Making Data Count: blue improvement, orange concern).
SIGNAL_COLORS: dict[str, str] = {
    "improvement": "#0072B2",
    "concern": "#E69F00",
    "signal": "#CC79A7",
}
_SIGNAL_NAMES = {
    "improvement": "signal: improvement",
    "concern": "signal: concern",
    "signal": "signal (no direction)",
}
_COMMON = "#8C8C8C"
_TARGET = "#009E73"
_BENCHMARK = "#56B4E9"


def benchmark_of(item: Any) -> tuple[float, str] | None:
    """A measure's ``benchmark`` as ``(value, label)``, or None (no benchmark key)."""
    bench = getattr(item, "benchmark", None)
    if bench is None:
        return None
    if isinstance(bench, Mapping):
        value, label = bench.get("value"), bench.get("label")
    elif isinstance(bench, int | float):
        value, label = bench, None
    else:
        value, label = getattr(bench, "value", None), getattr(bench, "label", None)
    if value is None:
        return None
    return float(value), str(label or "benchmark")


def signal_kind(direction: str | None, value: float, centre: float) -> str:
    """``'improvement'``, ``'concern'`` or ``'signal'`` (no direction, band, or on the centre)."""
    if direction not in ("higher", "lower") or value == centre:
        return "signal"
    high = value > centre
    return "improvement" if high == (direction == "higher") else "concern"


def _unit(x: float) -> float:
    """A subplot domain bound, clipped to [0, 1] (float error gives -5e-17)."""
    return min(1.0, max(0.0, round(x, 9)))


def _grid(n: int, cols: int, titles: Sequence[str]) -> dict[str, Any]:
    """Axes and title annotations of an ``n``-panel grid (no plotly validation per subplot)."""
    rows = math.ceil(n / cols)
    hgap, vgap = 0.06, min(0.12, 0.5 / rows)
    width = (1 - hgap * (cols - 1)) / cols
    height = (1 - vgap * (rows - 1)) / rows
    layout: dict[str, Any] = {}
    annotations = []
    for k in range(n):
        r, c = divmod(k, cols)
        x0 = c * (width + hgap)
        y1 = 1 - r * (height + vgap)
        suffix = "" if k == 0 else str(k + 1)
        layout[f"xaxis{suffix}"] = {
            "domain": [_unit(x0), _unit(x0 + width)],
            "anchor": f"y{suffix}",
            "type": "date",
        }
        layout[f"yaxis{suffix}"] = {
            "domain": [_unit(y1 - height), _unit(y1)],
            "anchor": f"x{suffix}",
        }
        annotations.append(
            {
                "text": titles[k],
                "x": x0 + width / 2,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
    layout["annotations"] = annotations
    return layout


def spc_chart(
    history: Any,
    model: Any,
    ids: Sequence[str] | None = None,
    *,
    baseline: int | None = None,
    columns: int = 3,
    title: str | None = "Process behaviour (XmR charts)",
) -> go.Figure:
    """XmR charts of KPIs: values, centre, natural process limits, signals, target, benchmark.

    Parameters
    ----------
    history : DataFrame or path
        Wide KPI history (:func:`stratlab.load_history`).
    model : Model or path
        Gives names, units, directions, targets and benchmarks.
    ids : list of str, optional
        Measures / key results to chart (default: every measure with data, at
        most 24).
    baseline : int, optional
        Limits from the first ``baseline`` values (see :func:`stratlab.spc`).
    columns : int
        Panels per row.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per id; traces carry ``meta.role``: ``'kpi'`` (the values),
        ``'centre'``, ``'limits'`` (lower and upper, dotted), ``'signal'``
        (markers on the values that break a rule, coloured improvement /
        concern by the measure's direction, hover naming the rules),
        ``'target'`` (dashed; a step line when targets are phased) and
        ``'benchmark'`` (when the measure has ``benchmark``); ``meta.id`` is
        the KPI.  Only ``scatter`` traces.

    Raises
    ------
    InputError
        An id that is not a measure or key result of the model, or has no
        column; nothing to chart.
    """
    import numpy as np
    import pandas as pd
    import plotly.graph_objects as go

    from ..io import load_history, load_model
    from ..stats.spc import spc

    model = load_model(model)
    if not (isinstance(history, pd.DataFrame) and isinstance(history.index, pd.PeriodIndex)):
        history = load_history(history, model)
    if ids is None:
        ids = [m.id for m in model.measures if m.id in history and history[m.id].notna().any()][:24]
    ids = list(ids)
    bad = [i for i in ids if i not in model or model.kind_of(i) not in ("measure", "key_result")]
    if bad:
        raise InputError(
            Problem(
                f"spc_chart: {bad[0]!r} is not a measure or key result of the model.",
                fix="pass ids of measures or key results (see model.measures).",
            )
        )
    nocol = [i for i in ids if i not in history.columns]
    if nocol:
        raise InputError(
            Problem(
                f"spc_chart: the history has no column {nocol[0]!r}.",
                fix="choose ids that have data in the history.",
            )
        )
    if not ids:
        raise InputError(
            Problem("spc_chart: nothing to plot.", fix="give a history with measure columns.")
        )
    table = spc(history, ids, baseline=baseline)
    # column arrays once (per-measure pandas indexing costs more than the chart)
    t_measure = table["measure"].to_numpy(dtype=object)
    t_x = np.array(pd.PeriodIndex(table["period"]).to_timestamp().to_pydatetime(), dtype=object)
    t_value = table["value"].to_numpy(dtype=float)
    t_limits = table[["centre", "lower", "upper"]].to_numpy(dtype=float)
    t_signal = table["signal"].to_numpy(dtype=bool)
    t_rule = table["rule"].to_numpy(dtype=object)
    rows_of: dict[str, list[int]] = {}
    for i, mid in enumerate(t_measure):
        rows_of.setdefault(str(mid), []).append(i)
    cols = max(1, min(columns, len(ids)))
    nrows = math.ceil(len(ids) / cols)
    titles = []
    traces: list[dict[str, Any]] = []
    legend_done: set[str] = set()

    def legend(role: str) -> bool:
        if role in legend_done:
            return False
        legend_done.add(role)
        return True

    all_x = list(history.index.to_timestamp().to_pydatetime())
    for k, mid in enumerate(ids):
        item = model.get(mid)
        unit = esc(getattr(item, "unit", "") or "")
        titles.append(esc(item.name) + (f" ({unit})" if unit else ""))
        axis = {"xaxis": "x" if k == 0 else f"x{k + 1}", "yaxis": "y" if k == 0 else f"y{k + 1}"}
        rows = np.array(rows_of.get(mid, []), dtype=int)
        if not len(rows):
            continue
        x = list(t_x[rows])
        x_ends = [all_x[0], all_x[-1]]
        y = t_value[rows]
        name = esc(item.name)
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": y,
                "mode": "lines+markers",
                "line": {"color": _COMMON, "width": 1.5},
                "marker": {"color": _COMMON, "size": 5},
                "name": "value (common cause)",
                "legendgroup": "kpi",
                "showlegend": legend("kpi"),
                "hovertemplate": f"{name}<br>%{{x|%Y-%m}}: %{{y}} {unit}<extra></extra>",
                "meta": {"role": "kpi", "id": mid},
                **axis,
            }
        )
        centre, lower, upper = (float(v) for v in t_limits[rows[0]])
        if not math.isnan(upper):
            traces.append(
                {
                    "type": "scatter",
                    "x": x_ends,
                    "y": [centre, centre],
                    "mode": "lines",
                    "line": {"color": "#404040", "width": 1},
                    "name": "centre (mean)",
                    "legendgroup": "centre",
                    "showlegend": legend("centre"),
                    "hovertemplate": f"centre {fmt_num(centre)} {unit}<extra></extra>",
                    "meta": {"role": "centre", "id": mid},
                    **axis,
                }
            )
            traces.append(
                {
                    "type": "scatter",
                    "x": [x_ends[0], x_ends[1], None, x_ends[0], x_ends[1]],
                    "y": [lower, lower, None, upper, upper],
                    "mode": "lines",
                    "line": {"color": "#404040", "width": 1, "dash": "dot"},
                    "name": "natural process limits",
                    "legendgroup": "limits",
                    "showlegend": legend("limits"),
                    "hovertemplate": "limit %{y:.4g}<extra></extra>",
                    "meta": {"role": "limits", "id": mid, "lower": lower, "upper": upper},
                    **axis,
                }
            )
        sig = rows[t_signal[rows]]
        if len(sig):
            direction = getattr(item, "direction", None)
            kinds = np.array([signal_kind(direction, float(v), centre) for v in t_value[sig]])
            for kind in ("improvement", "concern", "signal"):
                chosen = sig[kinds == kind]
                if not len(chosen):
                    continue
                traces.append(
                    {
                        "type": "scatter",
                        "x": list(t_x[chosen]),
                        "y": t_value[chosen],
                        "mode": "markers",
                        "marker": {"color": SIGNAL_COLORS[kind], "size": 9},
                        "name": _SIGNAL_NAMES[kind],
                        "legendgroup": f"signal-{kind}",
                        "showlegend": legend(f"signal-{kind}"),
                        "text": [esc(r) for r in t_rule[chosen]],
                        "hovertemplate": f"{name}<br>%{{x|%Y-%m}}: %{{y}} {unit}"
                        f"<br>{kind}: %{{text}}<extra></extra>",
                        "meta": {"role": "signal", "id": mid, "kind": kind},
                        **axis,
                    }
                )
        target = _target_line(item, model.kind_of(mid), history.index, all_x)
        if target is not None:
            tx, ty = target
            traces.append(
                {
                    "type": "scatter",
                    "x": tx,
                    "y": ty,
                    "mode": "lines",
                    "line": {"color": _TARGET, "width": 1.2, "dash": "dash", "shape": "hv"},
                    "name": "target",
                    "legendgroup": "target",
                    "showlegend": legend("target"),
                    "hovertemplate": f"target %{{y}} {unit}<extra></extra>",
                    "meta": {"role": "target", "id": mid},
                    **axis,
                }
            )
        bench = benchmark_of(item)
        if bench is not None:
            value, label = bench
            traces.append(
                {
                    "type": "scatter",
                    "x": x_ends,
                    "y": [value, value],
                    "mode": "lines",
                    "line": {"color": _BENCHMARK, "width": 1.2, "dash": "dashdot"},
                    "name": "benchmark",
                    "legendgroup": "benchmark",
                    "showlegend": legend("benchmark"),
                    "hovertemplate": f"{esc(label)} {fmt_num(value)} {unit}<extra></extra>",
                    "meta": {"role": "benchmark", "id": mid, "label": label},
                    **axis,
                }
            )
    layout = _grid(len(ids), cols, titles)
    # the traces and axes above are plain, known-good dicts: skip plotly's per-property
    # validation (most of the time of a 24-panel figure)
    fig = go.Figure(data=traces, layout=layout, _validate=False)
    apply_layout(fig, title, height=max(320, 230 * nrows + 80))
    fig.update_layout(meta={"stratlab": "spc_chart", "ids": ids})
    return fig


def _target_line(
    item: Any, kind: str, index: pd.PeriodIndex, x_all: list[Any]
) -> tuple[list[Any], list[float]] | None:
    """The target in force over the periods: a flat line, or steps for phased ``targets``."""
    if kind == "measure" and getattr(item, "direction", None) == "band":
        return None
    if not len(index):
        return None
    if getattr(item, "targets", ()) and hasattr(item, "target_at"):
        ys = [item.target_at(p) for p in index]
        return x_all, [math.nan if v is None else float(v) for v in ys]
    flat = getattr(item, "target", None)
    if flat is None:
        return None
    return [x_all[0], x_all[-1]], [float(flat), float(flat)]
