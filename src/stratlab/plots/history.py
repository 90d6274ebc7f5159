"""KPI history: trends per measure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io import load_model
from ..periods import column_step, freq_code
from ..render import STATUS_COLORS
from ._common import apply_layout, esc, fmt_num, kpi_panels

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from ..model import Model


# --------------------------------------------------------------------------- KPI history


def kpi_trends(
    history: pd.DataFrame,
    model: Model,
    ids: Sequence[str] | None = None,
    *,
    columns: int = 3,
    title: str | None = "KPI trends",
) -> go.Figure:
    """Small multiples of KPI histories with their baseline and target lines.

    Parameters
    ----------
    history : DataFrame or path
        Wide KPI history (:func:`stratlab.load_history`).
    model : Model
    ids : list of str, optional
        Measures / key results to show (default: every measure with data, at most 24).
    columns : int
        Panels per row.

    Returns
    -------
    plotly.graph_objects.Figure
        Per panel: the KPI line (``meta.role == 'kpi'``), a dashed target line
        (``'target'``) and a dotted baseline line (``'baseline'``; band
        measures: the band edges).

    Raises
    ------
    InputError
        An id that is not a measure or key result of the model, or has no column.
    """
    import pandas as pd
    from plotly.subplots import make_subplots

    model = load_model(model)
    history, ids = kpi_panels(model, history, ids, "kpi_trends")
    cols = max(1, min(columns, len(ids)))
    nrows = math.ceil(len(ids) / cols)
    subtitles = []
    for i in ids:
        item = model.get(i)
        subtitles.append(f"{esc(item.name)}" + (f" ({esc(item.unit)})" if item.unit else ""))
    fig = make_subplots(
        rows=nrows,
        cols=cols,
        subplot_titles=subtitles,
        vertical_spacing=min(0.12, 0.5 / nrows),
        horizontal_spacing=0.06,
    )
    x = history.index.to_timestamp() if isinstance(history.index, pd.PeriodIndex) else history.index
    x_list = list(x)
    traces: list[dict[str, Any]] = []
    rows: list[int] = []
    cols_of: list[int] = []
    for k, i in enumerate(ids):
        r, c = k // cols + 1, k % cols + 1
        item = model.get(i)
        kind = model.kind_of(i)
        if kind == "measure" and item.direction == "band" and item.band:
            lo, hi = item.band
            tgt_name, base_name = "band high", "band low"
            target, base = hi, lo
        elif kind == "measure":
            target, base = item.target, item.baseline
            tgt_name, base_name = "target", "baseline"
        else:
            target, base = item.target, item.start
            tgt_name, base_name = "target", "start"
        xs, y, mode = _own_frequency_points(history, history[i], x_list)
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": y,
                "mode": mode,
                "line": {"color": "#0072B2", "width": 1.8},
                "name": esc(item.name),
                "showlegend": False,
                "hovertemplate": f"{esc(item.name)}<br>%{{x|%Y-%m}}: %{{y}} {esc(item.unit)}<extra></extra>",
                "meta": {"role": "kpi", "id": i},
            }
        )
        rows.append(r)
        cols_of.append(c)
        for value, name, dash, role in (
            (target, tgt_name, "dash", "target"),
            (base, base_name, "dot", "baseline"),
        ):
            if value is None:
                continue
            line_x, line_y = _reference_line(history, item, kind, role, value, x_list)
            traces.append(
                {
                    "type": "scatter",
                    "x": line_x,
                    "y": line_y,
                    "mode": "lines",
                    "line": {
                        "color": STATUS_COLORS["green"] if role == "target" else "#777777",
                        "dash": dash,
                        "width": 1.2,
                    },
                    "name": name,
                    "legendgroup": role,
                    "showlegend": k == 0,
                    "hovertemplate": f"{name} {fmt_num(value)} {esc(item.unit)}<extra></extra>",
                    "meta": {"role": role, "id": i},
                }
            )
            rows.append(r)
            cols_of.append(c)
    fig.add_traces(traces, rows=rows, cols=cols_of)
    apply_layout(fig, title, height=max(320, 230 * nrows + 80))
    fig.update_annotations(font_size=11)
    return fig


def _own_frequency_points(
    history: pd.DataFrame, series: pd.Series, x_list: list[Any]
) -> tuple[list[Any], np.ndarray, str]:
    """(x, y, mode) of a KPI line: a KPI reported less often than the history (a
    quarterly KPI in a monthly file) is drawn at its own reports, joined."""
    import pandas as pd

    y = series.to_numpy(dtype=float)
    if (
        isinstance(history.index, pd.PeriodIndex)
        and column_step(y, freq_code(history.index.freqstr)) > 1
    ):
        keep = np.isfinite(y)
        return [xv for xv, k in zip(x_list, keep, strict=True) if k], y[keep], "lines+markers"
    return x_list, y, "lines"


def _reference_line(
    history: pd.DataFrame, item: Any, kind: str, role: str, value: float, x_list: list[Any]
) -> tuple[list[Any], list[Any]]:
    """A flat target/baseline line; phased targets as the target in force period by period."""
    import pandas as pd

    if (
        role == "target"
        and kind == "measure"
        and item.targets
        and isinstance(history.index, pd.PeriodIndex)
    ):
        return x_list, [item.target_at(per) for per in history.index]
    return [x_list[0], x_list[-1]], [value, value]
