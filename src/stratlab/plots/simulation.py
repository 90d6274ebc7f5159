"""Monte Carlo and sensitivity: fan chart, attainment distribution, tornado, variance attribution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, Problem
from ..model import Thresholds
from ..render import STATUS_COLORS
from ._common import QUALITATIVE, apply_layout, esc, fmt_num, line_across, line_label, need_columns
from .scorecard import unique_labels

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from ..model import Model


# --------------------------------------------------------------------------- simulation


def as_samples(samples: Any, where: str) -> dict[str, np.ndarray]:
    import pandas as pd

    if isinstance(samples, pd.Series):
        return {str(samples.name or "value"): samples.to_numpy(dtype=float)}
    if isinstance(samples, pd.DataFrame):
        return {str(c): samples[c].to_numpy(dtype=float) for c in samples.columns}
    if isinstance(samples, Mapping):
        return {str(k): np.asarray(v, dtype=float) for k, v in samples.items()}
    arr = np.asarray(samples, dtype=float)
    if arr.ndim == 1:
        return {"value": arr}
    raise InputError(
        Problem(
            f"{where}: samples must be a Series, a DataFrame (one column per id) or a dict id → array.",
            fix="pass result.samples(id) or a DataFrame of draws.",
        )
    )


def fan_chart(
    data: Any,
    *,
    ids: Sequence[str] | None = None,
    model: Model | None = None,
    green: float | None = None,
    title: str | None = "Attainment over the horizon",
) -> go.Figure:
    """Monte Carlo fan chart: median and 50% / 90% bands of attainment over time.

    Parameters
    ----------
    data : DataFrame or dict
        Either a long DataFrame of percentiles with columns ``id``, ``step``
        (or ``period``), ``p05, p50, p95`` and optionally ``p25, p75``; or a
        dict ``id → array (samples × steps)`` of simulated trajectories.
    ids : list of str, optional
        Which nodes to draw (default: all, at most 6).
    model : Model, optional
        For display names and the green threshold.
    green : float, optional
        Green threshold line (default: the model's, else the default :class:`~stratlab.model.Thresholds`).

    Returns
    -------
    plotly.graph_objects.Figure
        Per id: a 90% band trace, a 50% band trace (when available) and a median
        line (``meta.role`` ``band90``/``band50``/``median``).
    """
    import pandas as pd
    import plotly.graph_objects as go

    if isinstance(data, Mapping):
        recs = []
        for k, arr in data.items():
            a = np.asarray(arr, dtype=float)
            if a.ndim != 2:
                raise InputError(
                    Problem(
                        f"fan_chart: trajectories of {k!r} must be 2-D (samples × steps), got {a.ndim}-D.",
                        fix="pass an array of shape (n_samples, horizon).",
                    )
                )
            q = np.nanpercentile(a, [5, 25, 50, 75, 95], axis=0)
            for t in range(a.shape[1]):
                recs.append((k, t, *q[:, t]))
        frame = pd.DataFrame(recs, columns=["id", "step", "p05", "p25", "p50", "p75", "p95"])
    else:
        frame = need_columns(data, ("id", "p05", "p50", "p95"), "fan_chart")
        if "step" not in frame.columns:
            if "period" in frame.columns:
                frame = frame.rename(columns={"period": "step"})
            else:
                raise InputError(
                    Problem(
                        "fan_chart: the frame has no 'step' or 'period' column.",
                        fix="pass percentiles per step: id, step, p05, p50, p95.",
                    )
                )
    all_ids = list(dict.fromkeys(frame["id"]))
    ids = list(ids) if ids is not None else all_ids[:6]
    unknown = [i for i in ids if i not in all_ids]
    if unknown:
        raise InputError(
            Problem(
                f"fan_chart: no trajectory for {unknown[0]!r}.",
                fix=f"choose among {all_ids[:10]}.",
            )
        )
    if green is None:
        green = (model.thresholds if model is not None else Thresholds()).green
    traces = []
    for k, i in enumerate(ids):
        sub = frame[frame["id"] == i].sort_values("step")
        x = [str(v) for v in sub["step"]]
        color = QUALITATIVE[k % len(QUALITATIVE)]
        name = esc(model.get(i).name if model is not None and i in model else i)
        rgba = _rgba(color, 0.15)
        bands = [("p05", "p95", "band90", "90% band")]
        if "p25" in sub.columns and "p75" in sub.columns:
            bands.append(("p25", "p75", "band50", "50% band"))
        for lo, hi, role, label in bands:
            traces.append(
                go.Scatter(
                    x=x + x[::-1],
                    y=list(sub[hi]) + list(sub[lo])[::-1],
                    mode="lines",
                    fill="toself",
                    fillcolor=rgba if role == "band90" else _rgba(color, 0.3),
                    line={"width": 0},
                    hoverinfo="skip",
                    name=f"{name} {label}",
                    legendgroup=i,
                    showlegend=False,
                    meta={"role": role, "id": i},
                )
            )
        traces.append(
            go.Scatter(
                x=x,
                y=list(sub["p50"]),
                mode="lines+markers",
                line={"color": color, "width": 2},
                name=name,
                legendgroup=i,
                customdata=np.column_stack([sub["p05"], sub["p95"]]),
                hovertemplate=f"{name}<br>%{{x}}: median %{{y:.2f}} (90%: %{{customdata[0]:.2f}}–%{{customdata[1]:.2f}})<extra></extra>",
                meta={"role": "median", "id": i},
            )
        )
    fig = go.Figure(traces)
    apply_layout(
        fig,
        title,
        xaxis={"title": "period"},
        yaxis={"title": "attainment"},
        shapes=[line_across("y", green, {"dash": "dash", "color": STATUS_COLORS["green"]})],
        annotations=[line_label("y", green, f"green ≥ {green:g}")],
    )
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def attainment_distribution(
    samples: Any,
    *,
    ids: Sequence[str] | None = None,
    model: Model | None = None,
    green: float | None = None,
    bins: int = 40,
    title: str | None = "Simulated attainment",
) -> go.Figure:
    """Histograms of simulated attainment with the green line and P(green).

    Parameters
    ----------
    samples : Series, DataFrame or dict id → array, or a result with ``.samples(id)``
        Monte Carlo draws of attainment.
    ids : list of str, optional
        With a simulation result: which nodes (default: the top perspective's objectives, ≤ 4).

    Returns
    -------
    plotly.graph_objects.Figure
        One histogram per id, named ``"<name>: P(green) = 0.63"``.
    """
    import plotly.graph_objects as go

    if hasattr(samples, "samples") and callable(samples.samples):
        if ids is None:
            summary = samples.summary()
            objs = summary[summary["kind"] == "objective"]["id"].tolist()
            ids = objs[-4:] if objs else summary["id"].tolist()[:4]
        draws = {i: np.asarray(samples.samples(i), dtype=float) for i in ids}
    else:
        draws = as_samples(samples, "attainment_distribution")
        if ids is not None:
            missing = [i for i in ids if i not in draws]
            if missing:
                raise InputError(
                    Problem(
                        f"attainment_distribution: no samples for {missing[0]!r}.",
                        fix=f"choose among {list(draws)[:10]}.",
                    )
                )
            draws = {i: draws[i] for i in ids}
    if green is None:
        green = (model.thresholds if model is not None else Thresholds()).green
    traces = []
    for k, (i, a) in enumerate(draws.items()):
        a = a[np.isfinite(a)]
        p = float(np.mean(a >= green)) if a.size else float("nan")
        name = esc(model.get(i).name if model is not None and i in model else i)
        traces.append(
            go.Histogram(
                x=a,
                nbinsx=bins,
                histnorm="probability",
                opacity=0.6,
                marker={"color": QUALITATIVE[k % len(QUALITATIVE)]},
                name=f"{name}: P(green) = {fmt_num(p, 2)}",
                meta={"id": i, "p_green": p},
            )
        )
    fig = go.Figure(traces)
    apply_layout(
        fig,
        title,
        barmode="overlay",
        xaxis={"title": "attainment"},
        yaxis={"title": "share of draws"},
        shapes=[
            line_across("x", green, {"dash": "dash", "color": STATUS_COLORS["green"], "width": 2})
        ],
        annotations=[line_label("x", green, f"green ≥ {green:g}")],
    )
    return fig


def tornado(
    sensitivity: pd.DataFrame,
    *,
    objective: str | None = None,
    base: float | None = None,
    top: int = 15,
    names: Mapping[str, str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Tornado chart: the objective's score with each input at its low and high value.

    Parameters
    ----------
    sensitivity : DataFrame
        ``input, input_kind, objective, low, high, swing`` (``sensitivity``).
    objective : str, optional
        Which objective (default: the first in the frame).
    base : float, optional
        The objective's current score (bars start there); default: the mean
        of ``(low + high) / 2``, or the frame's ``base`` column when present.
    top : int
        Largest swings shown.

    Returns
    -------
    plotly.graph_objects.Figure
        Two bar traces, ``input low`` and ``input high``, largest swing on top.
    """
    import plotly.graph_objects as go

    frame = need_columns(sensitivity, ("input", "objective", "low", "high", "swing"), "tornado")
    objs = list(dict.fromkeys(frame["objective"]))
    if not objs:
        raise InputError(Problem("tornado: the frame is empty.", fix="run sensitivity first."))
    objective = objs[0] if objective is None else objective
    if objective not in objs:
        raise InputError(
            Problem(
                f"tornado: no rows for objective {objective!r}.",
                fix=f"choose among {objs[:10]}.",
            )
        )
    sub = frame[frame["objective"] == objective].copy()
    sub["_abs"] = sub["swing"].abs()
    sub = sub.sort_values("_abs", ascending=False).head(top)
    if base is None:
        base = (
            float(sub["base"].iloc[0])
            if "base" in sub.columns
            else float(((sub["low"] + sub["high"]) / 2).mean())
        )
    labels = dict(names or {})
    y = unique_labels([labels.get(i, i) for i in sub["input"]], list(sub["input"]))
    traces = []
    for col, name, color in (("low", "input low", "#56B4E9"), ("high", "input high", "#0072B2")):
        vals = sub[col].to_numpy(dtype=float)
        traces.append(
            go.Bar(
                x=vals - base,
                base=base,
                y=y,
                orientation="h",
                marker={"color": color},
                name=name,
                hovertext=[
                    f"{lab}: {name} → score {fmt_num(v, 3)} (swing {fmt_num(s, 3)})"
                    for lab, v, s in zip(y, vals, sub["swing"], strict=True)
                ],
                hoverinfo="text",
            )
        )
    fig = go.Figure(traces)
    oname = labels.get(objective, objective)
    apply_layout(
        fig,
        title if title is not None else f"What moves {oname} most",
        barmode="overlay",
        xaxis={"title": f"score of {esc(oname)}"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 28 * len(y) + 140),
        margin={"l": 200},
        shapes=[line_across("x", base, {"color": "#333333", "width": 1})],
    )
    return fig


def variance_attribution(
    frame: pd.DataFrame,
    *,
    objectives: Sequence[str] | None = None,
    top: int = 8,
    names: Mapping[str, str] | None = None,
    title: str | None = "Which inputs drive the risk",
) -> go.Figure:
    """Stacked bars: each input's share of every objective's simulated variance.

    Parameters
    ----------
    frame : DataFrame
        ``input, objective, share`` (``simulate(...).variance_share()``).
    objectives : list of str, optional
        Rows to show (default: all).
    top : int
        Inputs with the largest total share get their own colour; the rest are
        summed into ``other``.

    Returns
    -------
    plotly.graph_objects.Figure
        One horizontal bar trace per input (plus ``other``), stacked.
    """
    import plotly.graph_objects as go

    frame = need_columns(frame, ("input", "objective", "share"), "variance_attribution")
    if objectives is not None:
        frame = frame[frame["objective"].isin(list(objectives))]
    if frame.empty:
        raise InputError(
            Problem("variance_attribution: no rows to show.", fix="check the objective ids.")
        )
    objs = list(dict.fromkeys(frame["objective"]))
    totals = frame.groupby("input")["share"].sum().sort_values(ascending=False)
    keep = list(totals.index[:top])
    labels = dict(names or {})
    ylab = unique_labels([labels.get(o, o) for o in objs], objs)
    traces = []
    pivot = (
        frame.pivot_table(index="objective", columns="input", values="share", aggfunc="sum")
        .reindex(objs)
        .fillna(0.0)
    )
    for k, inp in enumerate(keep):
        traces.append(
            go.Bar(
                x=pivot[inp].to_numpy(),
                y=ylab,
                orientation="h",
                name=esc(labels.get(inp, inp)),
                marker={"color": QUALITATIVE[k % len(QUALITATIVE)]},
                hovertemplate=f"{esc(labels.get(inp, inp))}: %{{x:.0%}}<extra>%{{y}}</extra>",
            )
        )
    rest = [c for c in pivot.columns if c not in keep]
    if rest:
        traces.append(
            go.Bar(
                x=pivot[rest].sum(axis=1).to_numpy(),
                y=ylab,
                orientation="h",
                name="other",
                marker={"color": "#CCCCCC"},
                hovertemplate="other inputs: %{x:.0%}<extra>%{y}</extra>",
            )
        )
    fig = go.Figure(traces)
    apply_layout(
        fig,
        title,
        barmode="stack",
        xaxis={"title": "share of variance", "tickformat": ".0%"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 30 * len(objs) + 160),
        margin={"l": 200},
    )
    return fig
