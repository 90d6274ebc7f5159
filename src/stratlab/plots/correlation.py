"""Correlations and link verdicts: heatmap with a lag slider, lead-lag, verdict map."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, Problem
from ..io import load_model
from ._common import (
    VERDICT_COLORS,
    VERDICT_DASH,
    apply_layout,
    esc,
    fmt_num,
    line_across,
    need_columns,
    wrap_label,
)
from .map import band_shapes, link_traces, map_layout

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from ..model import Model


# --------------------------------------------------------------------------- correlations


CORR_COLUMNS = ("source", "target", "lag", "n", "r", "p_value", "q_value")


def correlation_heatmap(
    corr: pd.DataFrame,
    *,
    alpha: float = 0.05,
    names: Mapping[str, str] | None = None,
    title: str | None = "Correlations (source leads by the lag)",
) -> go.Figure:
    """Heatmap of r for every (source, target), one frame per lag with a slider.

    Parameters
    ----------
    corr : DataFrame
        Output of :func:`stratlab.stats.correlate` (``source, target, lag, n, r,
        ci_low, ci_high, p_value, q_value, reason``).
    alpha : float
        Cells with ``q_value < alpha`` are marked ``*``.
    names : mapping id → display name, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap trace per lag (only the first visible) and, with more than
        one lag, a slider (``layout.sliders[0]``) with one step per lag.  Lag 0
        is shown symmetrically.
    """
    import plotly.graph_objects as go

    corr = need_columns(corr, CORR_COLUMNS, "correlation_heatmap")
    if corr.empty:
        raise InputError(
            Problem("correlation_heatmap: the frame is empty.", fix="correlate a longer history.")
        )
    labels = dict(names or {})
    ids = list(dict.fromkeys(list(corr["source"]) + list(corr["target"])))
    pos = {k: i for i, k in enumerate(ids)}
    shown = [esc(labels.get(i, i)) for i in ids]
    lags = sorted(int(v) for v in corr["lag"].unique())
    traces = []
    for k, lag in enumerate(lags):
        sub = corr[corr["lag"] == lag]
        n = len(ids)
        z = np.full((n, n), np.nan)
        text = np.full((n, n), "", dtype=object)
        hover = np.full((n, n), "", dtype=object)
        for s, t, r, nn, p, q in sub[
            ["source", "target", "r", "n", "p_value", "q_value"]
        ].itertuples(index=False, name=None):
            cells = [(pos[s], pos[t])] + ([(pos[t], pos[s])] if lag == 0 else [])
            for i, j in cells:
                z[i, j] = r
                star = "*" if q is not None and np.isfinite(q) and q < alpha else ""
                text[i, j] = f"{fmt_num(r, 2)}{star}" if np.isfinite(r) else ""
                hover[i, j] = (
                    f"{esc(labels.get(s, s))} → {esc(labels.get(t, t))}, lag {lag}<br>"
                    f"r {fmt_num(r, 3)} · n {fmt_num(nn)}<br>p {fmt_num(p, 3)} · q {fmt_num(q, 3)}"
                )
        traces.append(
            go.Heatmap(
                z=z,
                x=shown,
                y=shown,
                text=text,
                texttemplate="%{text}" if n <= 25 else None,
                hovertext=hover,
                hoverinfo="text",
                zmin=-1,
                zmax=1,
                zmid=0,
                colorscale="RdBu_r",
                colorbar={"title": "r"},
                visible=k == 0,
                name=f"lag {lag}",
                meta={"lag": lag},
            )
        )
    fig = go.Figure(traces)
    sliders = []
    if len(lags) > 1:
        steps = [
            {
                "method": "update",
                "label": str(lag),
                "args": [{"visible": [j == k for j in range(len(lags))]}],
            }
            for k, lag in enumerate(lags)
        ]
        sliders = [
            {"active": 0, "currentvalue": {"prefix": "lag: "}, "steps": steps, "pad": {"t": 60}}
        ]
    apply_layout(
        fig,
        title,
        sliders=sliders,
        xaxis={"title": "target (effect)", "tickangle": -45},
        yaxis={"title": "source (leads)", "autorange": "reversed"},
        height=max(420, 22 * len(ids) + 260),
    )
    return fig


def lead_lag(
    corr: pd.DataFrame,
    source: str,
    target: str,
    *,
    alpha: float = 0.05,
    names: Mapping[str, str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Cross-correlogram of one pair: r with its 95% interval at every lead and lag.

    Positive lags: ``source`` leads ``target``; negative lags (the reverse rows
    of the frame): ``target`` leads ``source``.  Bars are filled when
    ``q_value < alpha``.

    Returns
    -------
    plotly.graph_objects.Figure
        Two bar traces, ``significant`` and ``not significant``.

    Raises
    ------
    InputError
        The frame has no row for the pair.
    """
    import plotly.graph_objects as go

    corr = need_columns(corr, (*CORR_COLUMNS, "ci_low", "ci_high"), "lead_lag")
    fwd = corr[(corr["source"] == source) & (corr["target"] == target)]
    back = corr[(corr["source"] == target) & (corr["target"] == source)]
    if fwd.empty and back.empty:
        raise InputError(
            Problem(
                f"lead_lag: no correlation rows for {source!r} and {target!r}.",
                fix="check the ids, or correlate with columns including both.",
            )
        )
    rows = []
    for frame, sign in ((fwd, 1), (back, -1)):
        for r in frame.itertuples(index=False):
            lag = int(r.lag) * sign
            if sign < 0 and lag == 0 and not fwd[fwd["lag"] == 0].empty:
                continue
            rows.append((lag, r.r, r.ci_low, r.ci_high, r.n, r.p_value, r.q_value))
    rows.sort()
    labels = dict(names or {})
    s_name, t_name = esc(labels.get(source, source)), esc(labels.get(target, target))
    traces = []
    for sig in (True, False):
        sel = [r for r in rows if (r[6] is not None and np.isfinite(r[6]) and r[6] < alpha) == sig]
        traces.append(
            go.Bar(
                x=[r[0] for r in sel],
                y=[r[1] for r in sel],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [r[3] - r[1] for r in sel],
                    "arrayminus": [r[1] - r[2] for r in sel],
                    "color": "#555555",
                },
                marker={
                    "color": "#0072B2" if sig else "rgba(0,114,178,0.15)",
                    "line": {"color": "#0072B2", "width": 1.5},
                },
                name=f"significant (q < {alpha:g})" if sig else "not significant",
                hovertext=[
                    f"lag {r[0]}: r {fmt_num(r[1], 3)} [{fmt_num(r[2], 2)}, {fmt_num(r[3], 2)}]<br>n {fmt_num(r[4])} · p {fmt_num(r[5], 3)} · q {fmt_num(r[6], 3)}"
                    for r in sel
                ],
                hoverinfo="text",
            )
        )
    fig = go.Figure(traces)
    apply_layout(
        fig,
        title
        if title is not None
        else f"{labels.get(source, source)} vs {labels.get(target, target)}",
        xaxis={
            "title": f"lag (> 0: {s_name} leads; < 0: {t_name} leads)",
            "dtick": 1,
        },
        yaxis={"title": "r", "range": [-1.05, 1.05]},
        barmode="overlay",
        shapes=[line_across("y", 0, {"color": "#333333", "width": 1})],
    )
    return fig


def verdict_map(
    model: Model, checks: pd.DataFrame, *, title: str | None = "Links tested against the data"
) -> go.Figure:
    """The strategy map with every objective link coloured by its verdict.

    Parameters
    ----------
    model : Model
    checks : DataFrame
        Output of ``check_links`` (``source, target, kind, hypothesised_lag,
        best_lag, lag_mismatch, n, r, mde_r, q_value, granger_p, verdict, reason``).  Driver links
        (measure → measure) are not drawn on the map.

    Returns
    -------
    plotly.graph_objects.Figure
        One link trace per verdict (``supported``, ``not supported``,
        ``underpowered``, ``contradicted``, ``untestable``; dashed when lagged), a hover trace at link midpoints
        with r, q, Granger p and the reason, and one grey objective trace.
    """
    import plotly.graph_objects as go

    model = load_model(model)
    checks = need_columns(checks, ("source", "target", "verdict", "r", "q_value"), "verdict_map")
    by_pair = {(r["source"], r["target"]): r for r in checks.to_dict("records")}
    layout = map_layout(model)
    names = {o.id: o.name for o in model.objectives}

    def verdict(lk: Any) -> str:
        row = by_pair.get((lk.source, lk.target))
        v = str(row["verdict"]) if row is not None else "untestable"
        return v if v in VERDICT_COLORS else "untestable"

    def group_of(lk: Any) -> tuple[str, bool]:
        return (verdict(lk), lk.lag > 0)

    def style_of(g: tuple[str, bool]) -> dict[str, Any]:
        v, lagged = g
        return {
            "width": 3.0 if v in ("supported", "contradicted") else 2.0,
            "dash": "dash" if lagged else VERDICT_DASH[v],
            "color": VERDICT_COLORS[v],
            "name": v,
            "legendgroup": v,
            "mid_symbol": {
                "supported": "circle",
                "not supported": "diamond",
                "underpowered": "square-open",
                "contradicted": "x",
                "untestable": "circle-open",
            }[v],
        }

    def hover_of(lk: Any) -> str:
        row = by_pair.get((lk.source, lk.target)) or {}
        parts = [
            f"<b>{esc(names[lk.source])} → {esc(names[lk.target])}</b>",
            f"verdict: {esc(verdict(lk))}",
            f"weight {fmt_num(lk.weight)} · hypothesised lag {lk.lag}",
        ]
        if row:
            parts.append(
                f"best lag {fmt_num(row.get('best_lag'))} · r {fmt_num(row.get('r'), 2)} · q {fmt_num(row.get('q_value'), 3)}"
                f" · Granger p {fmt_num(row.get('granger_p'), 3)}"
            )
            if row.get("mde_r") is not None:
                parts.append(f"detectable |r| ≥ {fmt_num(row.get('mde_r'), 2)} (80% power)")
            if row.get("reason"):
                parts.append(esc(row["reason"]))
        if lk.rationale:
            parts.append(esc(lk.rationale))
        return "<br>".join(parts)

    traces = link_traces(model, layout, group_of=group_of, style_of=style_of, hover_of=hover_of)
    seen: set[str] = set()
    for t in traces:
        if (t.meta or {}).get("role") == "link":
            t.showlegend = t.name not in seen
            seen.add(t.name)
    labels = len(layout.ids) <= 40
    traces.append(
        go.Scatter(
            x=layout.x,
            y=layout.y,
            mode="markers+text" if labels else "markers",
            text=[wrap_label(names[i]) for i in layout.ids],
            textposition="bottom center",
            hovertext=[f"<b>{esc(names[i])}</b> ({esc(i)})" for i in layout.ids],
            hoverinfo="text",
            marker={
                "size": 18 if labels else 9,
                "color": "#FFFFFF",
                "line": {"width": 1.5, "color": "#333333"},
            },
            name="objectives",
            showlegend=False,
            meta={"role": "objectives"},
        )
    )
    fig = go.Figure(traces)
    shapes, annotations = band_shapes(layout)
    apply_layout(
        fig,
        title,
        shapes=shapes,
        annotations=annotations,
        xaxis={"visible": False, "range": [-0.02, 1.02]},
        yaxis={"visible": False, "range": [-0.6, len(layout.bands) - 0.4]},
        height=max(380, 150 * len(layout.bands)),
        legend={"orientation": "h", "y": -0.02, "yanchor": "top", "title": {"text": "verdict"}},
    )
    return fig
