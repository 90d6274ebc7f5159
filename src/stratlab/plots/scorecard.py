"""Scorecard bullets and OKR progress bars."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, Problem
from ..io import load_model
from ..render import STATUS_COLORS, STATUSES
from ._common import apply_layout, esc, fmt_num, line_across, scores_frame

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from ..model import Model
    from ..typing import HistoryLike


# --------------------------------------------------------------------------- scorecard & OKRs


def status_bar_traces(
    rows: pd.DataFrame, y: list[str], *, texts: list[str], hovers: list[str], width: float = 0.5
) -> list[go.Bar]:
    import plotly.graph_objects as go

    traces = []
    for st in STATUSES:
        mask = (rows["status"] == st).to_numpy()
        traces.append(
            go.Bar(
                x=np.nan_to_num(rows["score"].to_numpy(dtype=float)[mask], nan=0.0),
                y=[v for v, keep in zip(y, mask, strict=True) if keep],
                orientation="h",
                width=width,
                marker={
                    "color": STATUS_COLORS[st],
                    "line": {"color": "#333333", "width": 0.5},
                    "pattern": {"shape": "/" if st == "no data" else ""},
                },
                text=[v for v, keep in zip(texts, mask, strict=True) if keep],
                textposition="outside",
                cliponaxis=False,
                hovertext=[v for v, keep in zip(hovers, mask, strict=True) if keep],
                hoverinfo="text",
                name=st,
                legendgroup="status",
                meta={"role": "status", "status": st},
            )
        )
    return traces


def _row_bars_figure(
    traces: list[Any],
    title: str | None,
    *,
    xaxis: dict[str, Any],
    n_rows: int,
    left_margin: int,
    shapes: list[dict[str, Any]] | None = None,
) -> go.Figure:
    """One labelled row per item, bars overlaid, legend below (scorecard, OKR progress)."""
    import plotly.graph_objects as go

    fig = go.Figure(traces)
    apply_layout(
        fig,
        title,
        barmode="overlay",
        xaxis=xaxis,
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 26 * n_rows + 120),
        legend={"orientation": "h", "y": -0.08, "yanchor": "top"},
        margin={"l": left_margin},
        **({"shapes": shapes} if shapes else {}),
    )
    return fig


def unique_labels(names: list[str], ids: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    return [
        esc(n) if seen[n] == 1 else f"{esc(n)} ({esc(i)})" for n, i in zip(names, ids, strict=True)
    ]


def scorecard(
    model: Model,
    scores: pd.DataFrame | None = None,
    *,
    history: HistoryLike | None = None,
    title: str | None = "Scorecard",
) -> go.Figure:
    """Bullet charts of every measure on one attainment axis.

    Each measure is a row (grouped by objective, top perspective first): grey
    qualitative bands red/amber/green (from its thresholds), a bar to its
    current score coloured by status, ticks at the baseline (0) and the target
    (1); the text and hover give the natural values (baseline, target,
    current, unit).

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: three background band traces, one bar trace per status
        (``name`` = status), one target-marker trace.
    """
    import plotly.graph_objects as go

    model = load_model(model)
    frame = scores_frame(model, scores, history)
    order = []
    for p in reversed(model.perspectives):
        for o in model.objectives:
            if o.perspective == p.id:
                order += [m for m in model.measures if m.objective == o.id]
    if not order:
        raise InputError(
            Problem("scorecard: the model has no measures.", fix="add measures to the model file.")
        )
    ids = [m.id for m in order]
    rows = frame.reindex(ids)
    rows["status"] = rows["status"].fillna("no data")
    labels = unique_labels([m.name for m in order], ids)
    objs = {o.id: o.name for o in model.objectives}
    y = [f"{lab}" for lab in labels]
    texts, hovers = [], []
    for m, (_, r) in zip(order, rows.iterrows(), strict=True):
        value = r.get("value", m.current)
        unit = esc(m.unit)
        texts.append(f"{fmt_num(value)} {unit}".strip())
        if m.direction == "band" and m.band:
            goal = f"band {fmt_num(m.band[0])}–{fmt_num(m.band[1])} {unit} (tolerance {fmt_num(m.tolerance)})"
        else:
            goal = f"baseline {fmt_num(m.baseline)} → target {fmt_num(m.target)} {unit} ({m.direction} is better)"
        hovers.append(
            "<br>".join(
                [
                    f"<b>{esc(m.name)}</b> ({esc(m.id)})",
                    f"objective: {esc(objs.get(m.objective, m.objective))}",
                    f"current {fmt_num(value)} {unit}",
                    goal,
                    f"score {fmt_num(r['score'], 2)} · {esc(r['status'])}",
                ]
            )
        )
    green = np.array([model.status_thresholds(i).green for i in ids])
    amber = np.array([model.status_thresholds(i).amber for i in ids])
    cap = max([1.0] + [m.cap for m in order])
    bands = [
        ("red range", np.zeros(len(ids)), amber, "#E8E8E8"),
        ("amber range", amber, green - amber, "#D4D4D4"),
        ("green range", green, cap - green, "#BDBDBD"),
    ]
    traces: list[Any] = [
        go.Bar(
            x=width,
            base=base,
            y=y,
            orientation="h",
            width=0.85,
            marker={"color": color},
            hoverinfo="skip",
            name=name,
            showlegend=False,
            meta={"role": "band"},
        )
        for name, base, width, color in bands
    ]
    traces += status_bar_traces(rows, y, texts=texts, hovers=hovers, width=0.4)
    traces.append(
        go.Scatter(
            x=[1.0] * len(ids),
            y=y,
            mode="markers",
            marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": "#000000"}},
            name="target (1)",
            hoverinfo="skip",
            meta={"role": "target"},
        )
    )
    return _row_bars_figure(
        traces,
        title,
        xaxis={"title": "attainment (0 = baseline, 1 = target)", "range": [0, cap * 1.18]},
        n_rows=len(ids),
        left_margin=220,
    )


def okr_progress(
    model: Model,
    scores: pd.DataFrame | None = None,
    *,
    history: HistoryLike | None = None,
    title: str | None = "OKR progress",
) -> go.Figure:
    """OKR grading: each OKR (bold) and its key results as 0–1 progress bars.

    Bars are coloured by status; open diamonds show the owner's confidence;
    hover gives start, current, target and unit.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per status and one ``confidence`` marker trace.
    """
    import pandas as pd
    import plotly.graph_objects as go

    model = load_model(model)
    if not model.okrs:
        raise InputError(
            Problem("okr_progress: the model has no OKRs.", fix="add okrs to the model file.")
        )
    frame = scores_frame(model, scores, history)
    names = {o.id: o.name for o in model.objectives}
    names.update({o.id: o.objective for o in model.okrs})
    y, ids, texts, hovers, conf_x, conf_y, conf_text = [], [], [], [], [], [], []
    for okr in model.okrs:
        label = f"<b>{esc(okr.objective)}</b>"
        y.append(label)
        ids.append(okr.id)
        sc = frame["score"].get(okr.id, np.nan)
        texts.append(f"{fmt_num(sc, 2)}")
        hovers.append(
            f"<b>{esc(okr.objective)}</b> ({esc(okr.id)})<br>aligns to {esc(names.get(okr.aligns_to, okr.aligns_to))}"
            + (f"<br>owner {esc(okr.owner)}" if okr.owner else "")
            + f"<br>score {fmt_num(sc, 2)}"
        )
        for kr in okr.key_results:
            lab = f"   {esc(kr.name)}"
            y.append(lab)
            ids.append(kr.id)
            value = frame["value"].get(kr.id, kr.current) if "value" in frame else kr.current
            texts.append(f"{fmt_num(value)} / {fmt_num(kr.target)} {esc(kr.unit)}".strip())
            hovers.append(
                f"<b>{esc(kr.name)}</b> ({esc(kr.id)})<br>start {fmt_num(kr.start)} · current {fmt_num(value)}"
                f" · target {fmt_num(kr.target)} {esc(kr.unit)}<br>score {fmt_num(frame['score'].get(kr.id), 2)}"
                + (
                    f"<br>confidence {fmt_num(kr.confidence, 2)}"
                    if kr.confidence is not None
                    else ""
                )
            )
            if kr.confidence is not None:
                conf_x.append(kr.confidence)
                conf_y.append(lab)
                conf_text.append(f"confidence {fmt_num(kr.confidence, 2)}")
    rows = pd.DataFrame(
        {
            "score": frame["score"].reindex(ids).to_numpy(dtype=float),
            "status": frame["status"].reindex(ids).fillna("no data").to_numpy(),
        }
    )
    traces: list[Any] = status_bar_traces(rows, y, texts=texts, hovers=hovers, width=0.6)
    traces.append(
        go.Scatter(
            x=conf_x,
            y=conf_y,
            mode="markers",
            marker={"symbol": "diamond-open", "size": 11, "color": "#0072B2", "line": {"width": 2}},
            name="confidence",
            hovertext=conf_text,
            hoverinfo="text",
            meta={"role": "confidence"},
        )
    )
    fig = _row_bars_figure(
        traces,
        title,
        xaxis={"title": "grade (0 = start, 1 = target)", "range": [0, 1.3]},
        n_rows=len(y),
        left_margin=260,
        shapes=[
            line_across(
                "x", model.thresholds.green, {"dash": "dot", "color": STATUS_COLORS["green"]}
            )
        ],
    )
    return fig
