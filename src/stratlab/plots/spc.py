"""XmR (process-behaviour) chart figures: :func:`spc_chart`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._common import esc, fmt_num, kpi_panels, look, white_template

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
    import plotly.graph_objects as go

    from ..io import load_model
    from ..stats.spc import spc

    model = load_model(model)
    history, ids = kpi_panels(model, history, ids, "spc_chart")
    table = spc(history, ids, baseline=baseline)
    arrays = _Arrays.of(table)
    cols = max(1, min(columns, len(ids)))
    nrows = math.ceil(len(ids) / cols)
    titles = []
    traces: list[dict[str, Any]] = []
    shown: set[str] = set()
    all_x = list(history.index.to_timestamp().to_pydatetime())
    for k, mid in enumerate(ids):
        item = model.get(mid)
        unit = esc(getattr(item, "unit", "") or "")
        titles.append(esc(item.name) + (f" ({unit})" if unit else ""))
        panel = _Panel(mid, item, unit, k, shown)
        rows = np.array(arrays.rows_of.get(mid, []), dtype=int)
        if len(rows):
            target = _target_line(item, model.kind_of(mid), history.index, all_x)
            traces += panel.traces(arrays, rows, [all_x[0], all_x[-1]], target)
    layout = _grid(len(ids), cols, titles) | look(
        title, height=max(320, 230 * nrows + 80), meta={"stratlab": "spc_chart", "ids": ids}
    )
    # the traces, axes and stratlab's look are plain, known-good dicts and the template is
    # plotly's own: skip plotly's per-property validation (most of the time of a 24-panel
    # figure)
    fig = go.Figure(data=traces, layout=layout | {"template": white_template()}, _validate=False)
    return fig


class _Arrays:
    """The :func:`stratlab.spc` table as column arrays, and each measure's rows."""

    def __init__(self, table: pd.DataFrame) -> None:
        import numpy as np
        import pandas as pd

        self.x = np.array(
            pd.PeriodIndex(table["period"]).to_timestamp().to_pydatetime(), dtype=object
        )
        self.value = table["value"].to_numpy(dtype=float)
        self.limits = table[["centre", "lower", "upper"]].to_numpy(dtype=float)
        self.signal = table["signal"].to_numpy(dtype=bool)
        self.rule = table["rule"].to_numpy(dtype=object)
        self.rows_of: dict[str, list[int]] = {}
        for i, mid in enumerate(table["measure"].to_numpy(dtype=object)):
            self.rows_of.setdefault(str(mid), []).append(i)

    @classmethod
    def of(cls, table: pd.DataFrame) -> _Arrays:
        return cls(table)


class _Panel:
    """The traces of one KPI's panel (plain dicts; the legend shows each role once)."""

    def __init__(self, mid: str, item: Any, unit: str, k: int, shown: set[str]) -> None:
        self.mid, self.item, self.unit, self.shown = mid, item, unit, shown
        self.name = esc(item.name)
        self.axis = {
            "xaxis": "x" if k == 0 else f"x{k + 1}",
            "yaxis": "y" if k == 0 else f"y{k + 1}",
        }

    def trace(
        self, role: str, name: str, x: Any, y: Any, hover: str, **style: Any
    ) -> dict[str, Any]:
        group = style.pop("group", role)
        first = group not in self.shown
        self.shown.add(group)
        meta = {"role": role, "id": self.mid, **style.pop("meta", {})}
        return {
            "type": "scatter",
            "x": x,
            "y": y,
            "mode": style.pop("mode", "lines"),
            "name": name,
            "legendgroup": group,
            "showlegend": first,
            "hovertemplate": hover + "<extra></extra>",
            "meta": meta,
            **style,
            **self.axis,
        }

    def traces(
        self,
        a: _Arrays,
        rows: Any,
        ends: list[Any],
        target: tuple[list[Any], list[float]] | None,
    ) -> list[dict[str, Any]]:
        unit, name = self.unit, self.name
        point = f"{name}<br>%{{x|%Y-%m}}: %{{y}} {unit}"
        out = [
            self.trace(
                "kpi",
                "value (common cause)",
                list(a.x[rows]),
                a.value[rows],
                point,
                mode="lines+markers",
                line={"color": _COMMON, "width": 1.5},
                marker={"color": _COMMON, "size": 5},
            )
        ]
        centre, lower, upper = (float(v) for v in a.limits[rows[0]])
        if not math.isnan(upper):
            out.append(
                self.trace(
                    "centre",
                    "centre (mean)",
                    ends,
                    [centre, centre],
                    f"centre {fmt_num(centre)} {unit}",
                    line={"color": "#404040", "width": 1},
                )
            )
            out.append(
                self.trace(
                    "limits",
                    "natural process limits",
                    [ends[0], ends[1], None, ends[0], ends[1]],
                    [lower, lower, None, upper, upper],
                    "limit %{y:.4g}",
                    line={"color": "#404040", "width": 1, "dash": "dot"},
                    meta={"lower": lower, "upper": upper},
                )
            )
        out += self._signals(a, rows, centre, point)
        if target is not None:
            out.append(
                self.trace(
                    "target",
                    "target",
                    target[0],
                    target[1],
                    f"target %{{y}} {unit}",
                    line={"color": _TARGET, "width": 1.2, "dash": "dash", "shape": "hv"},
                )
            )
        bench = benchmark_of(self.item)
        if bench is not None:
            value, label = bench
            out.append(
                self.trace(
                    "benchmark",
                    "benchmark",
                    ends,
                    [value, value],
                    f"{esc(label)} {fmt_num(value)} {unit}",
                    line={"color": _BENCHMARK, "width": 1.2, "dash": "dashdot"},
                    meta={"label": label},
                )
            )
        return out

    def _signals(self, a: _Arrays, rows: Any, centre: float, point: str) -> list[dict[str, Any]]:
        import numpy as np

        sig = rows[a.signal[rows]]
        if not len(sig):
            return []
        direction = getattr(self.item, "direction", None)
        kinds = np.array([signal_kind(direction, float(v), centre) for v in a.value[sig]])
        out = []
        for kind in ("improvement", "concern", "signal"):
            chosen = sig[kinds == kind]
            if len(chosen):
                out.append(
                    self.trace(
                        "signal",
                        _SIGNAL_NAMES[kind],
                        list(a.x[chosen]),
                        a.value[chosen],
                        f"{point}<br>{kind}: %{{text}}",
                        mode="markers",
                        marker={"color": SIGNAL_COLORS[kind], "size": 9},
                        text=[esc(r) for r in a.rule[chosen]],
                        group=f"signal-{kind}",
                        meta={"kind": kind},
                    )
                )
        return out


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
