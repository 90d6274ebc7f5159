"""Plotly figures for every stratlab result (returned, never shown).

Every function takes a model and/or a result DataFrame (the column contracts of
:func:`stratlab.score`, ``whatif``, ``sensitivity``, ``simulate``,
:func:`stratlab.stats.correlate` and ``check_links``) and returns a
``plotly.graph_objects.Figure``.  plotly is imported inside the functions, so
``import stratlab`` stays fast.

Status colours come from :data:`stratlab.render.STATUS_COLORS` (colour-blind
safe) and are always doubled by a marker symbol and a text label.  Every piece
of user text (names, units, rationales) is HTML-escaped before it reaches a
plotly label or hover text, which plotly renders as HTML.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError, Problem
from .model import load_model
from .render import STATUS_COLORS, STATUSES

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from .model import Model

__all__ = [
    "STATUS_SYMBOLS",
    "VERDICT_COLORS",
    "attainment_by_period",
    "attainment_distribution",
    "attainment_over_time",
    "correlation_heatmap",
    "fan_chart",
    "kpi_trends",
    "lead_lag",
    "objective_tornados",
    "okr_progress",
    "outlook_fan",
    "scorecard",
    "status_counts",
    "strategy_map",
    "tornado",
    "update_strategy_map",
    "variance_attribution",
    "verdict_map",
    "whatif_chart",
    "whatif_scenarios",
]

#: Marker symbol of each status (shape doubles the colour).
STATUS_SYMBOLS: dict[str, str] = {
    "green": "circle",
    "amber": "diamond",
    "red": "square",
    "no data": "circle-open",
}

#: Link verdict colours (same CVD-safe family as the status palette).
VERDICT_COLORS: dict[str, str] = {
    "supported": "#009E73",
    "weak": "#E69F00",
    "contradicted": "#D55E00",
    "untestable": "#999999",
}
_VERDICT_DASH = {"supported": "solid", "weak": "dash", "contradicted": "solid", "untestable": "dot"}

_LINK_COLOR = "#4D4D4D"
_INVERSE_COLOR = "#CC79A7"  # Okabe–Ito reddish purple
_BAND_FILLS = ("#F2F2F2", "#FFFFFF")
_QUALITATIVE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
_FONT = {"family": "Arial, Helvetica, sans-serif", "size": 12, "color": "#222222"}


# --------------------------------------------------------------------------- helpers


def esc(text: Any) -> str:
    """HTML-escape user text for a plotly label or hover (``None`` → empty).

    Quotes become numeric entities (``&#34;``, ``&#x27;``): plotly.js decodes
    those in labels, but shows a named ``&quot;`` literally.
    """
    return "" if text is None else html.escape(str(text), quote=True).replace("&quot;", "&#34;")


def _fmt(x: Any, digits: int = 3) -> str:
    from .render import format_value

    return format_value(x, digits=digits)


def _wrap(text: str, width: int = 18) -> str:
    """Escape and wrap a label on word boundaries with ``<br>``."""
    words = str(text).split()
    lines: list[str] = []
    line = ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    if line:
        lines.append(line)
    return "<br>".join(esc(x) for x in lines)


def _layout(fig: go.Figure, title: str | None, **extra: Any) -> None:
    fig.update_layout(
        title={"text": esc(title) if title else None, "x": 0.01, "xanchor": "left"},
        template="plotly_white",
        font=_FONT,
        margin={"l": 60, "r": 20, "t": 60 if title else 30, "b": 40},
        hoverlabel={"align": "left"},
        **extra,
    )


def _need_columns(frame: Any, columns: Sequence[str], where: str) -> pd.DataFrame:
    import pandas as pd

    if hasattr(frame, "to_frame") and not isinstance(frame, pd.DataFrame | pd.Series):
        frame = frame.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            Problem(
                f"{where} needs a DataFrame, not {type(frame).__name__}.",
                fix=f"pass a DataFrame with the columns {', '.join(columns)}.",
            )
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            Problem(
                f"{where}: the frame has no column {', '.join(map(repr, missing))}.",
                fix=f"pass the frame returned by the matching stratlab function (columns {', '.join(columns)}).",
            )
        )
    return frame


def _status(score: float, green: float, amber: float) -> str:
    if score is None or not np.isfinite(score):
        return "no data"
    return "green" if score >= green else "amber" if score >= amber else "red"


def _scores(model: Model, scores: Any, history: Any = None) -> pd.DataFrame:
    """A score frame indexed by id with ``name, score, status`` (+ the rest when given).

    Accepts the frame of :func:`stratlab.score`, a what-if frame (``after`` is
    used as the score) or None (the model is scored).
    """
    import pandas as pd

    if scores is None:
        from .scoring import score

        frame = score(model, history)
    else:
        if hasattr(scores, "to_frame") and not isinstance(scores, pd.DataFrame):
            scores = scores.to_frame()
        if not isinstance(scores, pd.DataFrame) or "id" not in scores.columns:
            raise InputError(
                Problem(
                    "scores must be the DataFrame of stratlab.score (or of whatif).",
                    fix="pass stratlab.score(model, history), or leave scores out.",
                )
            )
        frame = scores.copy()
        if "score" not in frame.columns:
            if "after" not in frame.columns:
                raise InputError(
                    Problem(
                        "scores has neither a 'score' nor an 'after' column.",
                        fix="pass stratlab.score(model, history) or a what-if frame.",
                    )
                )
            frame["score"] = frame["after"]
        if "status" not in frame.columns or "after" in frame.columns:
            frame["status"] = [
                _status(s, *_thresholds(model, i))
                for i, s in zip(frame["id"], frame["score"], strict=True)
            ]
    return frame.set_index("id", drop=False)


def _thresholds(model: Model, node_id: str) -> tuple[float, float]:
    th = model.status_thresholds(node_id) if node_id in model else model.thresholds
    return th.green, th.amber


# --------------------------------------------------------------------------- map layout


@dataclass(frozen=True)
class MapLayout:
    """Positions of the objectives of a strategy map (computed once per model)."""

    ids: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    bands: tuple[tuple[str, str], ...]  # (perspective id, name), bottom to top


def _index(layout: MapLayout) -> dict[str, int]:
    return {k: i for i, k in enumerate(layout.ids)}


def map_layout(model: Model, *, sweeps: int = 6) -> MapLayout:
    """Objective positions: perspectives as bands bottom → top, objectives spread in x.

    Within a band, objectives are ordered by the barycentre of their linked
    objectives in the other bands (Sugiyama-style sweeps, up then down, ``sweeps``
    times), which keeps links short and crossings few; the order with the fewest
    crossings seen is kept.
    """
    persp = [p.id for p in model.perspectives]
    level = {p: i for i, p in enumerate(persp)}
    band_of = {o.id: level[o.perspective] for o in model.objectives}
    edges = [(lk.source, lk.target) for lk in model.objective_links]
    neighbours: dict[str, list[str]] = {o.id: [] for o in model.objectives}
    for a, b in edges:
        if band_of[a] != band_of[b]:
            neighbours[a].append(b)
            neighbours[b].append(a)
    bands = [[o.id for o in model.objectives if o.perspective == p] for p in persp]

    def place(order: list[list[str]]) -> dict[str, float]:
        return {oid: (j + 1) / (len(m) + 1) for m in order for j, oid in enumerate(m)}

    def crossings(xs: dict[str, float]) -> int:
        segs = []
        for a, b in edges:
            (ya, xa), (yb, xb) = (band_of[a], xs[a]), (band_of[b], xs[b])
            if ya > yb:
                ya, xa, yb, xb = yb, xb, ya, xa
            segs.append((ya, xa, yb, xb))
        count = 0
        for i in range(len(segs)):
            for j in range(i + 1, len(segs)):
                a0, ax0, a1, ax1 = segs[i]
                b0, bx0, b1, bx1 = segs[j]
                lo, hi = max(a0, b0), min(a1, b1)
                if lo >= hi:
                    continue

                # x of each segment at the shared band interval's ends
                def at(y: float, y0: float, x0: float, y1: float, x1: float) -> float:
                    return x0 + (x1 - x0) * (y - y0) / (y1 - y0)

                d_lo = at(lo, a0, ax0, a1, ax1) - at(lo, b0, bx0, b1, bx1)
                d_hi = at(hi, a0, ax0, a1, ax1) - at(hi, b0, bx0, b1, bx1)
                count += d_lo * d_hi < 0
        return count

    xs = place(bands)
    best, best_cross = [list(m) for m in bands], crossings(xs)
    for sweep in range(sweeps):
        sequence = range(len(bands)) if sweep % 2 == 0 else reversed(range(len(bands)))
        for band in sequence:
            bands[band].sort(
                key=lambda oid: (
                    float(np.mean([xs[n] for n in neighbours[oid]]))
                    if neighbours[oid]
                    else xs[oid],
                    xs[oid],
                )
            )
            xs = place(bands)
        cross = crossings(xs)
        if cross < best_cross:
            best, best_cross = [list(m) for m in bands], cross
    xs = place(best)
    ids = tuple(o.id for o in model.objectives)
    x = np.array([xs[i] for i in ids], dtype=float)
    y = np.array([float(band_of[i]) for i in ids], dtype=float)
    return MapLayout(ids, x, y, tuple((p.id, p.name) for p in model.perspectives))


def _band_shapes(layout: MapLayout) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    shapes, annotations = [], []
    for i, (_pid, name) in enumerate(layout.bands):
        shapes.append(
            {
                "type": "rect",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": i - 0.5,
                "y1": i + 0.5,
                "fillcolor": _BAND_FILLS[i % 2],
                "line": {"width": 0},
                "layer": "below",
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "yref": "y",
                "x": 0.0,
                "y": i + 0.45,
                "text": f"<b>{esc(name)}</b>",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"size": 12, "color": "#555555"},
            }
        )
    return shapes, annotations


def _segment(
    x0: float, y0: float, x1: float, y1: float, shrink: float = 0.06
) -> tuple[float, float]:
    """End point of a link stopped short of its target node (room for the arrowhead)."""
    dx, dy = x1 - x0, (y1 - y0) * 0.5
    d = math.hypot(dx, dy)
    if d <= shrink or d == 0:
        return x1, y1
    f = (d - shrink) / d
    return x0 + (x1 - x0) * f, y0 + (y1 - y0) * f


def _link_traces(
    model: Model,
    layout: MapLayout,
    *,
    group_of: Any,
    style_of: Any,
    hover_of: Any,
) -> list[go.Scatter]:
    """Link lines (one trace per style group) with arrowheads, plus a hover trace at midpoints."""
    import plotly.graph_objects as go

    links = [lk for lk in model.objective_links if lk.source in model and lk.target in model]
    idx = _index(layout)
    groups: dict[Any, list[Any]] = {}
    for lk in links:
        g = group_of(lk)
        if g is None:
            continue
        groups.setdefault(g, []).append(lk)
    traces: list[go.Scatter] = []
    mid_x: list[float] = []
    mid_y: list[float] = []
    mid_text: list[str] = []
    mid_sym: list[str] = []
    mid_col: list[str] = []
    for g, members in groups.items():
        style = style_of(g)
        xs: list[float | None] = []
        ys: list[float | None] = []
        sizes: list[float] = []
        for lk in members:
            i, j = idx[lk.source], idx[lk.target]
            x0, y0, x1, y1 = (
                float(v) for v in (layout.x[i], layout.y[i], layout.x[j], layout.y[j])
            )
            head = 9 + 2 * style["width"]
            if y0 == y1:  # same band: bend over the nodes in between
                mx, my = (x0 + x1) / 2, y0 + 0.3
                ex, ey = _segment(mx, my, x1, y1, 0.03)
                xs += [x0, mx, ex, None]
                ys += [y0, my, ey, None]
                sizes += [0, 0, head, 0]
                mid_x.append(mx)
                mid_y.append(my)
            else:
                ex, ey = _segment(x0, y0, x1, y1)
                xs += [x0, ex, None]
                ys += [y0, ey, None]
                sizes += [0, head, 0]
                mid_x.append(x0 + (ex - x0) * 0.5)
                mid_y.append(y0 + (ey - y0) * 0.5)
            mid_text.append(hover_of(lk))
            mid_sym.append(style.get("mid_symbol", "circle"))
            mid_col.append(style["color"])
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                line={"width": style["width"], "color": style["color"], "dash": style["dash"]},
                marker={
                    "symbol": "arrow",
                    "size": sizes,
                    "angleref": "previous",
                    "color": style["color"],
                },
                name=style["name"],
                legendgroup=style.get("legendgroup", style["name"]),
                showlegend=style.get("showlegend", True),
                hoverinfo="skip",
                meta={"role": "link", "group": str(g)},
            )
        )
    if mid_x:
        traces.append(
            go.Scatter(
                x=mid_x,
                y=mid_y,
                mode="markers",
                marker={
                    "symbol": mid_sym,
                    "size": 9,
                    "color": mid_col,
                    "opacity": 0.9,
                    "line": {"width": 1, "color": mid_col},
                },
                hovertext=mid_text,
                hoverinfo="text",
                name="link details",
                showlegend=False,
                meta={"role": "link-hover"},
            )
        )
    return traces


def _objective_hover(model: Model, frame: pd.DataFrame) -> dict[str, str]:
    """Hover text of every objective: score, status, coverage, measures and OKRs."""
    measures_of: dict[str, list[str]] = {}
    score_of = frame["score"].to_dict()
    status_of = frame["status"].to_dict()
    value_of = frame["value"].to_dict() if "value" in frame.columns else {}
    for m in model.measures:
        v = value_of.get(m.id, m.current)
        measures_of.setdefault(m.objective, []).append(
            f"• {esc(m.name)}: {_fmt(v)} {esc(m.unit)} (score {_fmt(score_of.get(m.id), 2)})"
        )
    for okr in model.okrs:
        measures_of.setdefault(f"okr:{okr.aligns_to}", []).append(
            f"• {esc(okr.objective)} (score {_fmt(score_of.get(okr.id), 2)})"
        )
    coverage = frame["coverage"].to_dict() if "coverage" in frame.columns else {}
    persp = {p.id: p.name for p in model.perspectives}
    out = {}
    for o in model.objectives:
        parts = [
            f"<b>{esc(o.name)}</b> ({esc(o.id)})",
            f"{esc(persp.get(o.perspective, o.perspective))}",
            f"score {_fmt(score_of.get(o.id), 2)} · {esc(status_of.get(o.id, 'no data'))}",
        ]
        cov = coverage.get(o.id)
        if cov is not None and np.isfinite(cov) and cov < 1:
            parts.append(f"coverage {cov:.0%}")
        ms = measures_of.get(o.id)
        if ms:
            parts += ["Measures:", *ms[:12]]
            if len(ms) > 12:
                parts.append(f"… {len(ms) - 12} more")
        okrs = measures_of.get(f"okr:{o.id}")
        if okrs:
            parts += ["OKRs:", *okrs[:8]]
        out[o.id] = "<br>".join(parts)
    return out


def _node_data(
    model: Model, layout: MapLayout, frame: pd.DataFrame, *, labels: bool
) -> dict[str, dict[str, list[Any]]]:
    """x, y, text, hovertext and ids of the objective nodes, split by status."""
    hover = _objective_hover(model, frame)
    score_of = frame["score"].to_dict()
    status_of = frame["status"].to_dict()
    out: dict[str, dict[str, list[Any]]] = {
        s: {"x": [], "y": [], "text": [], "hovertext": [], "customdata": []} for s in STATUSES
    }
    for i, oid in enumerate(layout.ids):
        st = status_of.get(oid, "no data")
        st = st if st in out else "no data"
        d = out[st]
        d["x"].append(float(layout.x[i]))
        d["y"].append(float(layout.y[i]))
        sc = _fmt(score_of.get(oid), 2)
        name = model.get(oid).name
        d["text"].append(f"{_wrap(name)}<br><b>{sc}</b>" if labels else sc)
        d["hovertext"].append(hover[oid])
        d["customdata"].append(oid)
    return out


def strategy_map(
    model: Model,
    scores: pd.DataFrame | None = None,
    *,
    history: Any = None,
    title: str | None = None,
    labels: bool | None = None,
) -> go.Figure:
    """The strategy map: perspectives as bands (bottom → top), objectives coloured by status.

    Parameters
    ----------
    model : Model
    scores : DataFrame, optional
        :func:`stratlab.score` output (or a what-if frame: ``after`` is shown).
        Default: the model is scored (with ``history`` when given).
    history : DataFrame or path, optional
        Used only when ``scores`` is None.
    title : str, optional
        Default: the model's name.
    labels : bool, optional
        Objective names under the nodes (default: when there are ≤ 40 objectives;
        the score is always shown).

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: one line trace per link style (width ∝ ``|weight|``, dashed
        when lagged, purple with a ``−`` marker when inverse) with arrowheads, a
        hover trace at link midpoints (weight, lag, rationale), and one node
        trace per status named ``green``, ``amber``, ``red``, ``no data``
        (``meta['role'] == 'objectives'``), hover listing the objective's
        measures and OKRs.
    """
    import plotly.graph_objects as go

    model = load_model(model)
    frame = _scores(model, scores, history)
    layout = map_layout_cached(model)
    labels = len(layout.ids) <= 40 if labels is None else labels
    wmax = max([abs(lk.weight or 0.0) for lk in model.objective_links] + [1e-9])

    def group_of(lk: Any) -> tuple[float, bool, bool]:
        width = round(1 + 4 * abs(lk.weight or 0.0) / wmax, 1)
        return (width, lk.lag > 0, (lk.weight or 0.0) < 0)

    def style_of(g: tuple[float, bool, bool]) -> dict[str, Any]:
        width, lagged, inverse = g
        name = ("inverse" if inverse else "link") + (" (lagged)" if lagged else "")
        return {
            "width": width,
            "dash": "dash" if lagged else "solid",
            "color": _INVERSE_COLOR if inverse else _LINK_COLOR,
            "name": name,
            "legendgroup": name,
            "mid_symbol": "line-ew-open" if inverse else "circle",
        }

    names = {o.id: o.name for o in model.objectives}

    def hover_of(lk: Any) -> str:
        parts = [
            f"<b>{esc(names[lk.source])} → {esc(names[lk.target])}</b>",
            f"weight {_fmt(lk.weight)}"
            + (" (inverse: reads 1 − cause)" if (lk.weight or 0) < 0 else ""),
            f"lag {lk.lag} {esc(model.period)}{'s' if lk.lag != 1 else ''}",
        ]
        if lk.rationale:
            parts.append(esc(lk.rationale))
        return "<br>".join(parts)

    traces = _link_traces(model, layout, group_of=group_of, style_of=style_of, hover_of=hover_of)
    seen: set[str] = set()
    for t in traces:
        if t.meta.get("role") == "link":
            t.showlegend = t.name not in seen
            seen.add(t.name)
    nodes = _node_data(model, layout, frame, labels=labels)
    size = 22 if len(layout.ids) <= 40 else 12 if len(layout.ids) <= 200 else 8
    for st in STATUSES:
        d = nodes[st]
        traces.append(
            go.Scatter(
                x=d["x"],
                y=d["y"],
                mode="markers+text",
                text=d["text"],
                textposition="bottom center",
                hovertext=d["hovertext"],
                hoverinfo="text",
                customdata=d["customdata"],
                marker={
                    "size": size,
                    "color": STATUS_COLORS[st],
                    "symbol": STATUS_SYMBOLS[st],
                    "line": {"width": 1.5, "color": "#333333" if st != "no data" else "#777777"},
                },
                name=st,
                legendgroup="status",
                legendgrouptitle={"text": "status"} if st == "green" else None,
                meta={"role": "objectives", "status": st},
            )
        )
    fig = go.Figure(traces)
    shapes, annotations = _band_shapes(layout)
    n_bands = len(layout.bands)
    _layout(
        fig,
        model.name if title is None else title,
        shapes=shapes,
        annotations=annotations,
        xaxis={"visible": False, "range": [-0.02, 1.02], "fixedrange": False},
        yaxis={"visible": False, "range": [-0.6, n_bands - 0.4]},
        height=max(380, 150 * n_bands),
        legend={"orientation": "h", "y": -0.02, "yanchor": "top"},
    )
    fig.layout.meta = {"stratlab": "strategy_map", "labels": labels}
    return fig


def update_strategy_map(fig: go.Figure, model: Model, scores: pd.DataFrame) -> go.Figure:
    """Recolour the objective nodes of a :func:`strategy_map` figure in place.

    Used by the what-if explorer: only the four node traces change, inside one
    ``batch_update`` when the figure is a ``FigureWidget`` (one redraw).
    """
    import contextlib

    frame = _scores(model, scores)
    labels = bool((fig.layout.meta or {}).get("labels", True))
    nodes = _node_data(model, map_layout_cached(model), frame, labels=labels)
    ctx = fig.batch_update() if hasattr(fig, "batch_update") else contextlib.nullcontext()
    with ctx:
        for t in fig.data:
            meta = t.meta if isinstance(t.meta, dict) else {}
            if meta.get("role") != "objectives":
                continue
            d = nodes[meta["status"]]
            t.x, t.y, t.text, t.hovertext, t.customdata = (
                d["x"],
                d["y"],
                d["text"],
                d["hovertext"],
                d["customdata"],
            )
    return fig


def map_layout_cached(model: Model) -> MapLayout:
    """:func:`map_layout`, cached on the (immutable) model."""
    cached = model.__dict__.get("_stratlab_map_layout")
    if cached is None:
        cached = map_layout(model)
        model.__dict__["_stratlab_map_layout"] = cached
    return cached


def update_link_widths(fig: go.Figure, model: Model) -> go.Figure:
    """Redraw the link traces of a :func:`strategy_map` figure for new link weights."""
    import contextlib

    new = strategy_map(model, _placeholder_scores(model), labels=False)
    roles = ("link", "link-hover")
    new_links = [t for t in new.data if (t.meta or {}).get("role") in roles]
    old_links = [t for t in fig.data if (t.meta or {}).get("role") in roles]
    if len(old_links) == len(new_links):
        ctx = fig.batch_update() if hasattr(fig, "batch_update") else contextlib.nullcontext()
        with ctx:
            for o, n in zip(old_links, new_links, strict=True):
                o.update(n.to_plotly_json(), overwrite=True)
        return fig
    nodes = tuple(t for t in fig.data if (t.meta or {}).get("role") not in roles)
    fig.data = nodes
    fig.add_traces(new_links)
    k = len(nodes)
    fig.data = tuple(fig.data[k:]) + tuple(fig.data[:k])
    return fig


def _placeholder_scores(model: Model) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {"id": [o.id for o in model.objectives], "score": np.nan, "status": "no data"}
    )


# --------------------------------------------------------------------------- scorecard & OKRs


def _status_bar_traces(
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
    traces: list[Any], title: str | None, *, xaxis: dict[str, Any], n_rows: int, left_margin: int
) -> go.Figure:
    """One labelled row per item, bars overlaid, legend below (scorecard, OKR progress)."""
    import plotly.graph_objects as go

    fig = go.Figure(traces)
    _layout(
        fig,
        title,
        barmode="overlay",
        xaxis=xaxis,
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 26 * n_rows + 120),
        legend={"orientation": "h", "y": -0.08, "yanchor": "top"},
    )
    fig.update_layout(margin={"l": left_margin})
    return fig


def _unique_labels(names: list[str], ids: list[str]) -> list[str]:
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
    history: Any = None,
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
    frame = _scores(model, scores, history)
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
    labels = _unique_labels([m.name for m in order], ids)
    objs = {o.id: o.name for o in model.objectives}
    y = [f"{lab}" for lab in labels]
    texts, hovers = [], []
    for m, (_, r) in zip(order, rows.iterrows(), strict=True):
        value = r.get("value", m.current)
        unit = esc(m.unit)
        texts.append(f"{_fmt(value)} {unit}".strip())
        if m.direction == "band" and m.band:
            goal = (
                f"band {_fmt(m.band[0])}–{_fmt(m.band[1])} {unit} (tolerance {_fmt(m.tolerance)})"
            )
        else:
            goal = f"baseline {_fmt(m.baseline)} → target {_fmt(m.target)} {unit} ({m.direction} is better)"
        hovers.append(
            "<br>".join(
                [
                    f"<b>{esc(m.name)}</b> ({esc(m.id)})",
                    f"objective: {esc(objs.get(m.objective, m.objective))}",
                    f"current {_fmt(value)} {unit}",
                    goal,
                    f"score {_fmt(r['score'], 2)} · {esc(r['status'])}",
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
    traces += _status_bar_traces(rows, y, texts=texts, hovers=hovers, width=0.4)
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
    history: Any = None,
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
    frame = _scores(model, scores, history)
    names = {o.id: o.name for o in model.objectives}
    names.update({o.id: o.objective for o in model.okrs})
    y, ids, texts, hovers, conf_x, conf_y, conf_text = [], [], [], [], [], [], []
    for okr in model.okrs:
        label = f"<b>{esc(okr.objective)}</b>"
        y.append(label)
        ids.append(okr.id)
        sc = frame["score"].get(okr.id, np.nan)
        texts.append(f"{_fmt(sc, 2)}")
        hovers.append(
            f"<b>{esc(okr.objective)}</b> ({esc(okr.id)})<br>aligns to {esc(names.get(okr.aligns_to, okr.aligns_to))}"
            + (f"<br>owner {esc(okr.owner)}" if okr.owner else "")
            + f"<br>score {_fmt(sc, 2)}"
        )
        for kr in okr.key_results:
            lab = f"   {esc(kr.name)}"
            y.append(lab)
            ids.append(kr.id)
            value = frame["value"].get(kr.id, kr.current) if "value" in frame else kr.current
            texts.append(f"{_fmt(value)} / {_fmt(kr.target)} {esc(kr.unit)}".strip())
            hovers.append(
                f"<b>{esc(kr.name)}</b> ({esc(kr.id)})<br>start {_fmt(kr.start)} · current {_fmt(value)}"
                f" · target {_fmt(kr.target)} {esc(kr.unit)}<br>score {_fmt(frame['score'].get(kr.id), 2)}"
                + (f"<br>confidence {_fmt(kr.confidence, 2)}" if kr.confidence is not None else "")
            )
            if kr.confidence is not None:
                conf_x.append(kr.confidence)
                conf_y.append(lab)
                conf_text.append(f"confidence {_fmt(kr.confidence, 2)}")
    rows = pd.DataFrame(
        {
            "score": frame["score"].reindex(ids).to_numpy(dtype=float),
            "status": frame["status"].reindex(ids).fillna("no data").to_numpy(),
        }
    )
    traces: list[Any] = _status_bar_traces(rows, y, texts=texts, hovers=hovers, width=0.6)
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
    )
    fig.add_vline(x=model.thresholds.green, line={"dash": "dot", "color": STATUS_COLORS["green"]})
    return fig


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
    from plotly.subplots import make_subplots

    from .io import load_history

    model = load_model(model)
    import pandas as pd

    if not (isinstance(history, pd.DataFrame) and isinstance(history.index, pd.PeriodIndex)):
        history = load_history(history, model)
    if ids is None:
        ids = [m.id for m in model.measures if m.id in history and history[m.id].notna().any()][:24]
    ids = list(ids)
    bad = [i for i in ids if i not in model or model.kind_of(i) not in ("measure", "key_result")]
    if bad:
        raise InputError(
            Problem(
                f"kpi_trends: {bad[0]!r} is not a measure or key result of the model.",
                fix="pass ids of measures or key results (see model.measures).",
            )
        )
    nocol = [i for i in ids if i not in history.columns]
    if nocol:
        raise InputError(
            Problem(
                f"kpi_trends: the history has no column {nocol[0]!r}.",
                fix="choose ids that have data in the history.",
            )
        )
    if not ids:
        raise InputError(
            Problem("kpi_trends: nothing to plot.", fix="give a history with measure columns.")
        )
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
        series = history[i]
        traces.append(
            {
                "type": "scatter",
                "x": x_list,
                "y": series.to_numpy(dtype=float),
                "mode": "lines",
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
            traces.append(
                {
                    "type": "scatter",
                    "x": [x_list[0], x_list[-1]],
                    "y": [value, value],
                    "mode": "lines",
                    "line": {
                        "color": STATUS_COLORS["green"] if role == "target" else "#777777",
                        "dash": dash,
                        "width": 1.2,
                    },
                    "name": name,
                    "legendgroup": role,
                    "showlegend": k == 0,
                    "hovertemplate": f"{name} {_fmt(value)} {esc(item.unit)}<extra></extra>",
                    "meta": {"role": role, "id": i},
                }
            )
            rows.append(r)
            cols_of.append(c)
    fig.add_traces(traces, rows=rows, cols=cols_of)
    _layout(fig, title, height=max(320, 230 * nrows + 80))
    fig.update_annotations(font_size=11)
    return fig


# --------------------------------------------------------------------------- correlations


_CORR_COLUMNS = ("source", "target", "lag", "n", "r", "p_value", "q_value")


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

    corr = _need_columns(corr, _CORR_COLUMNS, "correlation_heatmap")
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
                text[i, j] = f"{_fmt(r, 2)}{star}" if np.isfinite(r) else ""
                hover[i, j] = (
                    f"{esc(labels.get(s, s))} → {esc(labels.get(t, t))}, lag {lag}<br>"
                    f"r {_fmt(r, 3)} · n {_fmt(nn)}<br>p {_fmt(p, 3)} · q {_fmt(q, 3)}"
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
    _layout(
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

    corr = _need_columns(corr, (*_CORR_COLUMNS, "ci_low", "ci_high"), "lead_lag")
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
                    f"lag {r[0]}: r {_fmt(r[1], 3)} [{_fmt(r[2], 2)}, {_fmt(r[3], 2)}]<br>n {_fmt(r[4])} · p {_fmt(r[5], 3)} · q {_fmt(r[6], 3)}"
                    for r in sel
                ],
                hoverinfo="text",
            )
        )
    fig = go.Figure(traces)
    _layout(
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
    )
    fig.add_hline(y=0, line={"color": "#333333", "width": 1})
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
        best_lag, n, r, q_value, granger_p, verdict, reason``).  Driver links
        (measure → measure) are not drawn on the map.

    Returns
    -------
    plotly.graph_objects.Figure
        One link trace per verdict (``supported``, ``weak``, ``contradicted``,
        ``untestable``; dashed when lagged), a hover trace at link midpoints
        with r, q, Granger p and the reason, and one grey objective trace.
    """
    import plotly.graph_objects as go

    model = load_model(model)
    checks = _need_columns(checks, ("source", "target", "verdict", "r", "q_value"), "verdict_map")
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
            "dash": "dash" if lagged else _VERDICT_DASH[v],
            "color": VERDICT_COLORS[v],
            "name": v,
            "legendgroup": v,
            "mid_symbol": {
                "supported": "circle",
                "weak": "diamond",
                "contradicted": "x",
                "untestable": "circle-open",
            }[v],
        }

    def hover_of(lk: Any) -> str:
        row = by_pair.get((lk.source, lk.target)) or {}
        parts = [
            f"<b>{esc(names[lk.source])} → {esc(names[lk.target])}</b>",
            f"verdict: {esc(verdict(lk))}",
            f"weight {_fmt(lk.weight)} · hypothesised lag {lk.lag}",
        ]
        if row:
            parts.append(
                f"best lag {_fmt(row.get('best_lag'))} · r {_fmt(row.get('r'), 2)} · q {_fmt(row.get('q_value'), 3)}"
                f" · Granger p {_fmt(row.get('granger_p'), 3)}"
            )
            if row.get("reason"):
                parts.append(esc(row["reason"]))
        if lk.rationale:
            parts.append(esc(lk.rationale))
        return "<br>".join(parts)

    traces = _link_traces(model, layout, group_of=group_of, style_of=style_of, hover_of=hover_of)
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
            text=[_wrap(names[i]) for i in layout.ids],
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
    shapes, annotations = _band_shapes(layout)
    _layout(
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


# --------------------------------------------------------------------------- simulation


def _as_samples(samples: Any, where: str) -> dict[str, np.ndarray]:
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
        Green threshold line (default: the model's, else 0.7).

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
        frame = _need_columns(data, ("id", "p05", "p50", "p95"), "fan_chart")
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
        green = model.thresholds.green if model is not None else 0.7
    traces = []
    for k, i in enumerate(ids):
        sub = frame[frame["id"] == i].sort_values("step")
        x = [str(v) for v in sub["step"]]
        color = _QUALITATIVE[k % len(_QUALITATIVE)]
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
    _layout(fig, title, xaxis={"title": "period"}, yaxis={"title": "attainment"})
    fig.add_hline(
        y=green,
        line={"dash": "dash", "color": STATUS_COLORS["green"]},
        annotation_text=f"green ≥ {green:g}",
        annotation_position="top left",
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
        draws = _as_samples(samples, "attainment_distribution")
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
        green = model.thresholds.green if model is not None else 0.7
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
                marker={"color": _QUALITATIVE[k % len(_QUALITATIVE)]},
                name=f"{name}: P(green) = {_fmt(p, 2)}",
                meta={"id": i, "p_green": p},
            )
        )
    fig = go.Figure(traces)
    _layout(
        fig,
        title,
        barmode="overlay",
        xaxis={"title": "attainment"},
        yaxis={"title": "share of draws"},
    )
    fig.add_vline(
        x=green,
        line={"dash": "dash", "color": STATUS_COLORS["green"], "width": 2},
        annotation_text=f"green ≥ {green:g}",
        annotation_position="top right",
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

    frame = _need_columns(sensitivity, ("input", "objective", "low", "high", "swing"), "tornado")
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
    y = _unique_labels([labels.get(i, i) for i in sub["input"]], list(sub["input"]))
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
                    f"{lab}: {name} → score {_fmt(v, 3)} (swing {_fmt(s, 3)})"
                    for lab, v, s in zip(y, vals, sub["swing"], strict=True)
                ],
                hoverinfo="text",
            )
        )
    fig = go.Figure(traces)
    oname = labels.get(objective, objective)
    _layout(
        fig,
        title if title is not None else f"What moves {oname} most",
        barmode="overlay",
        xaxis={"title": f"score of {esc(oname)}"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 28 * len(y) + 140),
    )
    fig.add_vline(x=base, line={"color": "#333333", "width": 1})
    fig.update_layout(margin={"l": 200})
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

    frame = _need_columns(frame, ("input", "objective", "share"), "variance_attribution")
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
    ylab = _unique_labels([labels.get(o, o) for o in objs], objs)
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
                marker={"color": _QUALITATIVE[k % len(_QUALITATIVE)]},
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
    _layout(
        fig,
        title,
        barmode="stack",
        xaxis={"title": "share of variance", "tickformat": ".0%"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 30 * len(objs) + 160),
    )
    fig.update_layout(margin={"l": 200})
    return fig


def whatif_chart(
    whatif: pd.DataFrame,
    *,
    model: Model | None = None,
    kinds: Sequence[str] = ("perspective", "objective"),
    top: int = 30,
    title: str | None = "What-if: before → after",
) -> go.Figure:
    """Dumbbell chart of a what-if: each node's score before (grey) and after (by status).

    Parameters
    ----------
    whatif : DataFrame
        ``id, kind, name, before, after, delta`` (``whatif(...).to_frame()``).
    model : Model, optional
        For status thresholds (default green 0.7, amber 0.4).
    kinds : list of str
        Node kinds shown.
    top : int
        Largest ``|delta|`` shown (rows that moved first).

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: ``change`` (connector lines), ``before`` and ``after``
        (marker colours by status of the after value).
    """
    import plotly.graph_objects as go

    frame = _need_columns(
        whatif, ("id", "kind", "name", "before", "after", "delta"), "whatif_chart"
    )
    sub = frame[frame["kind"].isin(list(kinds))].copy()
    if sub.empty:
        raise InputError(
            Problem(
                f"whatif_chart: no rows of kind {list(kinds)}.",
                fix="pass the full what-if frame, or other kinds.",
            )
        )
    sub["_abs"] = sub["delta"].abs().fillna(0.0)
    sub = sub.sort_values("_abs", ascending=False, kind="stable").head(top)
    y = _unique_labels([str(n) for n in sub["name"]], list(sub["id"]))
    before = sub["before"].to_numpy(dtype=float)
    after = sub["after"].to_numpy(dtype=float)
    delta = sub["delta"].to_numpy(dtype=float)
    statuses = []
    for i, a in zip(sub["id"], after, strict=True):
        g, am = _thresholds(model, i) if model is not None else (0.7, 0.4)
        statuses.append(_status(a, g, am))
    cx: list[float | None] = []
    cy: list[str | None] = []
    for b, a, lab in zip(before, after, y, strict=True):
        cx += [b, a, None]
        cy += [lab, lab, None]
    hover = [
        f"<b>{lab}</b><br>before {_fmt(b, 3)} → after {_fmt(a, 3)} (Δ {_fmt(d, 3)})<br>{st}"
        for lab, b, a, d, st in zip(y, before, after, delta, statuses, strict=True)
    ]
    traces = [
        go.Scatter(
            x=cx,
            y=cy,
            mode="lines",
            line={"color": "#999999", "width": 3},
            name="change",
            hoverinfo="skip",
        ),
        go.Scatter(
            x=before,
            y=y,
            mode="markers",
            marker={"color": "#FFFFFF", "size": 11, "line": {"color": "#555555", "width": 2}},
            name="before",
            hovertext=hover,
            hoverinfo="text",
        ),
        go.Scatter(
            x=after,
            y=y,
            mode="markers+text",
            marker={
                "color": [STATUS_COLORS[s] for s in statuses],
                "symbol": [STATUS_SYMBOLS[s] for s in statuses],
                "size": 13,
                "line": {"color": "#333333", "width": 1},
            },
            text=[
                f"{'+' if d > 0 else ''}{_fmt(d, 2)}" if np.isfinite(d) and d != 0 else ""
                for d in delta
            ],
            textposition="middle right",
            name="after",
            hovertext=hover,
            hoverinfo="text",
            meta={"status": statuses},
        ),
    ]
    fig = go.Figure(traces)
    _layout(
        fig,
        title,
        xaxis={"title": "score"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 26 * len(y) + 140),
    )
    fig.update_layout(margin={"l": 200})
    return fig


# --------------------------------------------------------------------------- no-kernel what-if


def _input_grid(model: Model, input_id: str, steps: int) -> np.ndarray | None:
    """Values of one input from its baseline (start) to a quarter beyond its target.

    Band measures run from a tolerance below the band to a tolerance above it.
    None when the input has no usable range.
    """
    item = model.get(input_id)
    if model.kind_of(input_id) == "key_result":
        lo, hi = float(item.start), float(item.target)
    elif item.direction == "band" and item.band is not None:
        b_lo, b_hi = (float(x) for x in item.band)
        tol = float(item.tolerance) if item.tolerance else 0.25 * (b_hi - b_lo) or 1.0
        return np.linspace(b_lo - tol, b_hi + tol, steps)
    elif item.baseline is not None and item.target is not None:
        lo, hi = float(item.baseline), float(item.target)
    else:
        return None
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo == hi:
        return None
    return np.linspace(lo, hi + 0.25 * (hi - lo), steps)


def _default_inputs(model: Model, history: Any, limit: int = 8) -> list[str]:
    """The inputs that move the top perspective most (sensitivity), at most ``limit``."""
    from .propagation import sensitivity

    sens = sensitivity(model, history)
    if len(sens):
        ranked = sens.assign(_abs=sens["swing"].abs()).groupby("input", sort=False)["_abs"].sum()
        order = list(ranked.sort_values(ascending=False, kind="stable").index)
    else:
        order = [m.id for m in model.measures] + [k.id for k in model.key_results]
    return [i for i in order if _input_grid(model, i, 3) is not None][:limit]


def whatif_scenarios(
    model: Any,
    history: Any = None,
    *,
    inputs: Sequence[str] | None = None,
    steps: int = 9,
    period: Any = None,
    title: str | None = "What-if: move one input, watch the top objectives (long run)",
) -> go.Figure:
    """A what-if that works without a kernel: precomputed scenarios behind a dropdown and a slider.

    Pick a measure or key result in the dropdown, move the slider: the bars
    show the long-run score (:attr:`stratlab.whatif` ``.long_run``,
    ``score_after``: where each node settles if the input held that value,
    every lag and driver link played out) of every objective of the top
    perspective, and of the top perspective itself (last bar).  Grey diamonds
    mark the long run with no change.  Every scenario is computed here, so the
    figure needs no kernel: exported to HTML, the slider restyles the bars in
    the browser.

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path, optional
        Current values (and lagged causes), as for :func:`stratlab.whatif`.
    inputs : list of str, optional
        Measure / key-result ids.  Default: the (at most) 8 inputs with the
        largest total swing on the top perspective's objectives
        (``sensitivity``).
    steps : int, default 9
        Values per input, evenly spaced from its baseline (key result: start)
        to a quarter of the range beyond its target (band measures: a
        tolerance either side of the band).  The input's current value is
        added as one more step, where the slider starts.
    period : str or Period, optional
        Start from this period of the history (as :func:`stratlab.score`).
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: ``no change`` markers; trace ``k + 1``: the bars of input
        ``k`` (only the selected input's trace visible).  ``layout.sliders[k]``
        belongs to input ``k`` (only the selected one visible); each step
        restyles trace ``k + 1`` (``y``, ``marker.color``, ``text``,
        ``hovertext``).  ``layout.updatemenus[0]`` is the dropdown.
        ``layout.meta``: ``{'stratlab': 'whatif_scenarios', 'view':
        'long_run', 'ids': bar node ids, 'inputs': input ids, 'values': per
        input the list of input values (one per step)}``.

    Raises
    ------
    InputError
        An id that is not a measure or key result, an input without a
        baseline/target range, a bad ``steps``, or a top perspective without
        objectives.
    """
    import plotly.graph_objects as go

    from .propagation import _nodes, whatif

    model = load_model(model)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 2 <= steps <= 41:
        raise InputError(
            Problem(
                f"whatif_scenarios: steps={steps!r} must be a whole number from 2 to 41.",
                fix="e.g. steps=9.",
            )
        )
    if inputs is None:
        chosen = _default_inputs(model, history)
    else:
        chosen = [str(i) for i in inputs]
        problems = []
        for i in chosen:
            if i not in model or model.kind_of(i) not in ("measure", "key_result"):
                from difflib import get_close_matches

                leaves = [m.id for m in model.measures] + [k.id for k in model.key_results]
                close = get_close_matches(i, leaves, n=1)
                problems.append(
                    Problem(
                        f"whatif_scenarios: {i!r} is not a measure or key result of the model.",
                        fix=f"did you mean {close[0]!r}?"
                        if close
                        else "pass measure or key-result ids.",
                    )
                )
            elif _input_grid(model, i, 3) is None:
                problems.append(
                    Problem(
                        f"whatif_scenarios: {i!r} has no range to vary (baseline and target "
                        "missing or equal).",
                        fix="give the measure a baseline and a target, or choose another input.",
                    )
                )
        if problems:
            raise InputError(problems)
    if not chosen:
        raise InputError(
            Problem(
                "whatif_scenarios: the model has no measure or key result with a range to vary.",
                fix="give measures a baseline and a target.",
            )
        )
    top = model.perspectives[-1]
    bar_ids = [o.id for o in model.objectives if o.perspective == top.id]
    if not bar_ids:
        raise InputError(
            Problem(
                f"whatif_scenarios: the top perspective {top.id!r} has no objectives.",
                fix="add an objective to it, or reorder the perspectives (bottom to top).",
            )
        )
    bar_ids.append(top.id)
    names = [o.name for o in model.objectives if o.perspective == top.id] + [
        f"{top.name} (overall)"
    ]
    labels = _unique_labels(names, bar_ids)
    pos = {k: i for i, k in enumerate(_nodes(model).ids)}
    rows = np.array([pos[i] for i in bar_ids])

    def long_run(changes: Any) -> tuple[np.ndarray, np.ndarray]:
        """(before, after) long-run scores of the bars, as whatif(...).long_run."""
        res = whatif(model, changes, history, horizon=0, period=period)
        steady, _, ms, ks = res._after_steady
        from .propagation import _stack

        after = _stack(steady, ms, ks)[rows]
        base = res._base
        before = _stack(base.steady, base.m_scores, base.k_scores)[rows]
        return before, after

    before, _ = long_run(None)
    base_values = whatif(model, None, history, horizon=0, period=period)._base
    current = dict(
        zip(
            [m.id for m in model.measures] + [k.id for k in model.key_results],
            np.concatenate([base_values.m_values, base_values.k_values]).tolist(),
            strict=True,
        )
    )
    thresholds = [_thresholds(model, i) for i in bar_ids]

    def look(values: np.ndarray) -> tuple[list[str], list[str], list[str]]:
        statuses = [_status(v, g, a) for v, (g, a) in zip(values, thresholds, strict=True)]
        colors = [STATUS_COLORS[s] for s in statuses]
        texts = [
            f"{_fmt(v, 2)} {s}" if np.isfinite(v) else "no data"
            for v, s in zip(values, statuses, strict=True)
        ]
        hovers = [
            f"<b>{lab}</b><br>long-run score {_fmt(v, 3)} ({s})<br>no change: {_fmt(b, 3)}"
            f" (Δ {_fmt(v - b, 3)})"
            for lab, v, s, b in zip(labels, values, statuses, before, strict=True)
        ]
        return colors, texts, hovers

    traces: list[Any] = [
        go.Scatter(
            x=labels,
            y=before,
            mode="markers",
            marker={"symbol": "diamond-open", "size": 14, "color": "#333333", "line": {"width": 2}},
            name="no change (long run)",
            hovertext=[
                f"<b>{lab}</b><br>no change: {_fmt(b, 3)}"
                for lab, b in zip(labels, before, strict=True)
            ],
            hoverinfo="text",
        )
    ]
    sliders: list[dict[str, Any]] = []
    buttons: list[dict[str, Any]] = []
    all_values: list[list[float]] = []
    y_max = float(np.nanmax(np.append(before, 1.0)))
    for k, input_id in enumerate(chosen):
        item = model.get(input_id)
        grid = _input_grid(model, input_id, int(steps))
        if grid is None:  # pragma: no cover - checked above
            continue
        now = current.get(input_id, np.nan)
        span = abs(grid[-1] - grid[0])
        if np.isfinite(now) and not np.any(np.abs(grid - now) <= 1e-9 * max(span, 1.0)):
            grid = np.sort(np.append(grid, now))
        active = int(np.argmin(np.abs(grid - now))) if np.isfinite(now) else 0
        unit = esc(getattr(item, "unit", "") or "")
        step_list = []
        first: tuple[np.ndarray, list[str], list[str], list[str]] | None = None
        for j, value in enumerate(grid):
            _, after = long_run({input_id: float(value)})
            y_max = max(y_max, float(np.nanmax(np.append(after, 0.0))))
            colors, texts, hovers = look(after)
            if j == active:
                first = (after, colors, texts, hovers)
            label = _fmt(value, 3) + (f" {unit}" if unit else "")
            if np.isfinite(now) and j == active:
                label += " (now)"
            step_list.append(
                {
                    "label": label,
                    "method": "restyle",
                    "args": [
                        {
                            "y": [after.tolist()],
                            "marker.color": [colors],
                            "text": [texts],
                            "hovertext": [hovers],
                        },
                        [k + 1],
                    ],
                }
            )
        if first is None:  # pragma: no cover - active is an index of grid
            continue
        all_values.append([float(v) for v in grid])
        name = esc(item.name)
        traces.append(
            go.Bar(
                x=labels,
                y=first[0],
                marker={"color": first[1], "line": {"color": "#333333", "width": 1}},
                text=first[2],
                textposition="outside",
                hovertext=first[3],
                hoverinfo="text",
                name=name,
                visible=k == 0,
                showlegend=False,
            )
        )
        sliders.append(
            {
                "active": active,
                "visible": k == 0,
                "currentvalue": {"prefix": f"{name}: "},
                "pad": {"t": 50},
                "steps": step_list,
            }
        )
        buttons.append(
            {
                "label": name,
                "method": "update",
                "args": [
                    {"visible": [True] + [j == k for j in range(len(chosen))]},
                    {f"sliders[{j}].visible": j == k for j in range(len(chosen))},
                ],
            }
        )
    fig = go.Figure(traces)
    _layout(
        fig,
        title,
        yaxis={"title": "long-run score", "range": [0, 1.1 * y_max]},
        xaxis={"type": "category"},
        height=520,
        sliders=sliders,
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "showactive": True,
                "x": 1.0,
                "xanchor": "right",
                "y": 1.02,
                "yanchor": "bottom",
            }
        ],
        showlegend=False,
    )
    fig.update_layout(margin={"t": 110})
    fig.layout.meta = {
        "stratlab": "whatif_scenarios",
        "view": "long_run",
        "ids": bar_ids,
        "inputs": chosen,
        "values": all_values,
    }
    return fig


# --------------------------------------------------------------------------- review summaries

_KINDS = ("perspective", "objective", "measure", "okr", "key_result")


def status_counts(
    scores: pd.DataFrame,
    *,
    kinds: Sequence[str] = ("objective", "measure", "key_result"),
    title: str | None = "Status counts",
) -> go.Figure:
    """How many nodes of each kind are green, amber, red or without data.

    Parameters
    ----------
    scores : DataFrame
        The frame of :func:`stratlab.score` (columns ``kind`` and ``status`` are used).
    kinds : list of str
        Node kinds counted, one bar each, in this order (kinds with no node are left out).
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        Stacked bars: one bar trace per status present (``name`` and
        ``meta.status`` = status, colour from
        :data:`stratlab.render.STATUS_COLORS`), ``x`` the kinds, ``y`` the counts.

    Raises
    ------
    InputError
        Not a score frame, an unknown kind, or no node of the given kinds.
    """
    import plotly.graph_objects as go

    frame = _need_columns(scores, ("kind", "status"), "status_counts")
    unknown = [str(kinds)] if isinstance(kinds, str) else [k for k in kinds if k not in _KINDS]
    if unknown:
        raise InputError(
            Problem(
                f"status_counts: unknown node kind {unknown[0]!r}.",
                fix=f"pass a list of kinds among {', '.join(_KINDS)}.",
            )
        )
    rows = frame[frame["kind"].isin(list(kinds))]
    if not len(rows):
        raise InputError(
            Problem(
                f"status_counts: the scores have no {' or '.join(kinds)} to count.",
                fix="pass the kinds the model has (e.g. kinds=['objective', 'measure']).",
            )
        )
    present = [k for k in kinds if (rows["kind"] == k).any()]
    counts = {(k, st): n for (k, st), n in rows.groupby(["kind", "status"]).size().items() if n}
    traces = [
        go.Bar(
            x=[esc(k) for k in present],
            y=[counts.get((k, st), 0) for k in present],
            name=st,
            marker={"color": STATUS_COLORS[st]},
            hovertemplate=f"%{{x}}: %{{y}} {st}<extra></extra>",
            meta={"role": "status", "status": st},
        )
        for st in STATUSES
        if any((k, st) in counts for k in present)
    ]
    fig = go.Figure(traces)
    _layout(fig, title, barmode="stack", yaxis={"title": "count"}, height=340)
    return fig


def _objective_scores(model: Model, frame: Any, where: str) -> pd.DataFrame:
    """The objective columns of a score-history frame, checked (rows: periods)."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            Problem(
                f"{where} needs the DataFrame of stratlab.score_history, not {type(frame).__name__}.",
                fix="pass stratlab.score_history(model, history) (or scoring.scores_to_date).",
            )
        )
    ids = [o.id for o in model.objectives]
    missing = [i for i in ids if i not in frame.columns]
    if missing:
        raise InputError(
            Problem(
                f"{where}: the score history has no column for objective {missing[0]!r}.",
                fix="pass the score history of this model (stratlab.score_history(model, history)).",
            )
        )
    if not len(frame):
        raise InputError(
            Problem(
                f"{where}: the score history has no period.",
                fix="give a KPI history with at least one period.",
            )
        )
    return frame[ids]


def attainment_by_period(
    model: Model,
    history_scores: pd.DataFrame,
    *,
    periods: int = 8,
    title: str | None = "Objective attainment by period",
) -> go.Figure:
    """Objective scores as bars, with a slider that steps through the last periods.

    The slider works in a saved page without a kernel (its steps restyle the
    bars with values computed here).

    Parameters
    ----------
    model : Model
    history_scores : DataFrame
        Scores per period: :func:`stratlab.score_history` or
        :func:`stratlab.scoring.scores_to_date` (rows: periods, one column per
        node id; the objective columns are used).
    periods : int, default 8
        The last periods the slider offers; it starts on the last one.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace (``x`` the objective names, escaped; ``y`` the scores of
        the last period; colours and ``text`` the status from
        :func:`stratlab.scoring.status_of` with each objective's thresholds);
        ``layout.sliders[0].steps``: one per period, ``method='restyle'``,
        ``args[0]`` with that period's ``y``, ``marker.color``, ``text`` and
        ``hovertext``.  ``layout.meta.stratlab == 'attainment_by_period'``.

    Raises
    ------
    InputError
        Not a score history of the model, no period, or ``periods`` not a
        positive whole number.
    """
    import plotly.graph_objects as go

    from .scoring import status_of

    model = load_model(model)
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise InputError(
            Problem(
                f"attainment_by_period: periods must be a positive whole number, not {periods!r}.",
                fix="pass e.g. periods=8.",
            )
        )
    shown = _objective_scores(model, history_scores, "attainment_by_period").iloc[-periods:]
    ids = list(shown.columns)
    names = [o.name for o in model.objectives]
    labels = _unique_labels(names, ids)
    green = np.array([model.status_thresholds(i).green for i in ids], dtype=float)
    amber = np.array([model.status_thresholds(i).amber for i in ids], dtype=float)
    values = shown.to_numpy(dtype=float)
    statuses = status_of(values, green, amber)
    steps, looks = [], []
    for t, period in enumerate(shown.index):
        y = [None if np.isnan(v) else float(v) for v in values[t]]
        sts = [str(s) for s in statuses[t]]
        look = {
            "y": y,
            "marker.color": [STATUS_COLORS[s] for s in sts],
            "text": sts,
            "hovertext": [
                f"<b>{esc(n)}</b><br>{esc(period)}: score {_fmt(v, 2)} · {s}"
                for n, v, s in zip(names, values[t], sts, strict=True)
            ],
        }
        looks.append(look)
        steps.append(
            {
                "label": esc(period),
                "method": "restyle",
                "args": [{k: [v] for k, v in look.items()}],
            }
        )
    last = looks[-1]
    top = max([1.0, *(v for v in values.ravel() if np.isfinite(v))])
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=last["y"],
            marker={"color": last["marker.color"], "line": {"color": "#333333", "width": 0.5}},
            text=last["text"],
            textposition="outside",
            cliponaxis=False,
            hovertext=last["hovertext"],
            hoverinfo="text",
            name="objectives",
            meta={"role": "objectives"},
        )
    )
    _layout(
        fig,
        title,
        yaxis={"range": [0, top * 1.12], "title": "score"},
        height=420,
        sliders=[
            {
                "active": len(steps) - 1,
                "currentvalue": {"prefix": "Period: "},
                "pad": {"t": 90},
                "steps": steps,
            }
        ],
        meta={"stratlab": "attainment_by_period"},
    )
    return fig


def attainment_over_time(
    model: Model,
    history_scores: pd.DataFrame,
    *,
    title: str | None = "Objective attainment over time",
) -> go.Figure:
    """One line per objective: its score in every period of the history.

    Parameters
    ----------
    model : Model
    history_scores : DataFrame
        Scores per period (:func:`stratlab.score_history` or
        :func:`stratlab.scoring.scores_to_date`).
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One line trace per objective in model order (``name`` its escaped
        name, ``meta.id`` its id, ``x`` the periods as text, ``y`` its scores).

    Raises
    ------
    InputError
        Not a score history of the model, or no period.
    """
    import plotly.graph_objects as go

    model = load_model(model)
    frame = _objective_scores(model, history_scores, "attainment_over_time")
    x = [str(p) for p in frame.index]
    ids = list(frame.columns)
    labels = _unique_labels([o.name for o in model.objectives], ids)
    values = frame.to_numpy(dtype=float)
    traces = [
        go.Scatter(
            x=x,
            y=values[:, k],
            mode="lines",
            name=label,
            hovertemplate=f"{label}<br>%{{x}}: %{{y:.2f}}<extra></extra>",
            meta={"role": "objective", "id": oid},
        )
        for k, (oid, label) in enumerate(zip(ids, labels, strict=True))
    ]
    top = max([1.0, *(v for v in values.ravel() if np.isfinite(v))])
    fig = go.Figure(traces)
    _layout(fig, title, yaxis={"range": [0, top * 1.05], "title": "score"}, height=420)
    return fig


def objective_tornados(
    model: Model,
    history: Any = None,
    *,
    objectives: Sequence[str] | None = None,
    input_kind: str | None = None,
    top: int = 10,
    title: str = "What moves {name} most (long run)",
) -> list[go.Figure]:
    """One :func:`tornado` per objective: what moves its long-run score most.

    The sensitivity (:func:`stratlab.propagation.sensitivity`) and the long
    run with no change (:func:`stratlab.propagation.whatif`, the bars' base)
    are computed once for all objectives.

    Parameters
    ----------
    model : Model
    history : DataFrame or path, optional
    objectives : list of str, optional
        Objective ids (default: every objective), in this order.
    input_kind : {'measure', 'key_result'}, optional
        Only inputs of this kind (default: both).
    top : int, default 10
        Largest swings per chart.
    title : str
        Chart title; ``{name}`` is the objective's name (escaped when drawn).

    Returns
    -------
    list of plotly.graph_objects.Figure
        One tornado per requested objective that some input moves (possibly empty).

    Raises
    ------
    InputError
        An id that is not an objective of the model, or an unknown ``input_kind``.
    """
    from .propagation import sensitivity, whatif

    model = load_model(model)
    ids = [o.id for o in model.objectives] if objectives is None else list(objectives)
    bad = [i for i in ids if i not in model or model.kind_of(i) != "objective"]
    if bad:
        raise InputError(
            Problem(
                f"objective_tornados: {bad[0]!r} is not an objective of the model.",
                fix="pass ids of objectives (see model.objectives).",
            )
        )
    if input_kind not in (None, "measure", "key_result"):
        raise InputError(
            Problem(
                f"objective_tornados: unknown input_kind {input_kind!r}.",
                fix="pass input_kind='measure', 'key_result' or None.",
            )
        )
    sens = sensitivity(model, history)
    if input_kind is not None:
        sens = sens[sens["input_kind"] == input_kind]
    steady = whatif(model, None, history, horizon=0).long_run.set_index("id")["score_after"]
    names: dict[str, str] = {o.id: o.name for o in model.objectives}
    names.update({m.id: m.name for m in model.measures})
    names.update({k.id: k.name for k in model.key_results})
    return [
        tornado(
            sens,
            objective=o,
            base=float(steady[o]),
            top=top,
            names=names,
            title=title.format(name=names[o]),
        )
        for o in ids
        if (sens["objective"] == o).any()
    ]


def outlook_fan(
    model: Model,
    history: Any = None,
    *,
    ids: Sequence[str] | None = None,
    samples: int = 2000,
    seed: int | None = 0,
    horizon: int = 4,
    elapsed: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """Monte Carlo fan chart of attainment 1, 2, … ``horizon`` periods ahead.

    Each step is one :func:`stratlab.simulation.simulate` run with that
    horizon (same samples, seed and elapsed share), so step ``h`` equals
    ``simulate(..., horizon=h).summary()``.

    Parameters
    ----------
    model : Model
    history : DataFrame or path, optional
    ids : list of str, optional
        Nodes drawn (default: the objectives of the top perspective).
    samples, seed, elapsed
        As :func:`stratlab.simulation.simulate`.
    horizon : int, default 4
        Last step.
    title : str, optional
        Default: ``Top objectives over the next {horizon} {period}s``.

    Returns
    -------
    plotly.graph_objects.Figure
        As :func:`fan_chart` (per id: ``band90`` and ``median`` traces).

    Raises
    ------
    InputError
        ``horizon`` not a positive whole number (and as ``simulate``).
    """
    import pandas as pd

    from .simulation import simulate

    model = load_model(model)
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise InputError(
            Problem(
                f"outlook_fan: horizon must be a positive whole number, not {horizon!r}.",
                fix="pass e.g. horizon=4.",
            )
        )
    if ids is None:
        top = model.perspectives[-1].id
        ids = [o.id for o in model.objectives if o.perspective == top]
    steps = [
        simulate(
            model,
            history,
            samples=samples,
            seed=seed,
            horizon=h,
            elapsed=elapsed,
            progress=False,
        )
        .summary()
        .assign(step=h)
        for h in range(1, horizon + 1)
    ]
    fan = pd.concat(steps, ignore_index=True)
    if title is None:
        title = f"Top objectives over the next {horizon} {model.period}s"
    return fan_chart(fan[fan["id"].isin(list(ids))], model=model, title=title)
