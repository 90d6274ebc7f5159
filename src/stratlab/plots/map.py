"""The strategy map: layered layout with the fewest crossings, links, node hover."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io import load_model
from ..render import STATUS_COLORS, STATUSES
from ._common import (
    BAND_FILLS,
    INVERSE_COLOR,
    LINK_COLOR,
    STATUS_SYMBOLS,
    apply_layout,
    esc,
    fmt_num,
    scores_frame,
    wrap_label,
)

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from ..model import Model
    from ..typing import HistoryLike


# --------------------------------------------------------------------------- map layout


@dataclass(frozen=True)
class MapLayout:
    """Positions of the objectives of a strategy map (computed once per model)."""

    ids: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    bands: tuple[tuple[str, str], ...]  # (perspective id, name), bottom to top


#: Above this many objective links a strategy map draws line widths in 0.5 px steps.
LINK_STYLE_LIMIT = 60


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
        """Pairs of links that cross (each pair once), over every pair at once."""
        if len(edges) < 2:
            return 0
        seg = np.array(
            [
                (band_of[a], xs[a], band_of[b], xs[b])
                if band_of[a] <= band_of[b]
                else (band_of[b], xs[b], band_of[a], xs[a])
                for a, b in edges
            ],
            dtype=float,
        )
        y0, x0, y1, x1 = (seg[:, k] for k in range(4))
        i, j = np.triu_indices(len(seg), k=1)
        lo, hi = np.maximum(y0[i], y0[j]), np.minimum(y1[i], y1[j])
        keep = lo < hi  # the two links share a band interval
        i, j, lo, hi = i[keep], j[keep], lo[keep], hi[keep]

        def at(y: np.ndarray, k: np.ndarray) -> np.ndarray:  # x of link k at height y
            return x0[k] + (x1[k] - x0[k]) * (y - y0[k]) / (y1[k] - y0[k])

        d_lo = at(lo, i) - at(lo, j)
        d_hi = at(hi, i) - at(hi, j)
        return int(np.count_nonzero(d_lo * d_hi < 0))

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


def band_shapes(layout: MapLayout) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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
                "fillcolor": BAND_FILLS[i % 2],
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


def link_traces(
    model: Model,
    layout: MapLayout,
    *,
    group_of: Any,
    style_of: Any,
    hover_of: Any,
    arrows: bool = True,
) -> list[go.Scatter]:
    """Link lines (one trace per style group) with arrowheads, plus a hover trace at midpoints.

    ``arrows=False`` leaves the arrowheads out (a large map: hundreds of them
    are clutter, and plotly.js spends a third of each redraw on them).
    """
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
                mode="lines+markers" if arrows else "lines",
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
            f"• {esc(m.name)}: {fmt_num(v)} {esc(m.unit)} (score {fmt_num(score_of.get(m.id), 2)})"
        )
    for okr in model.okrs:
        measures_of.setdefault(f"okr:{okr.aligns_to}", []).append(
            f"• {esc(okr.objective)} (score {fmt_num(score_of.get(okr.id), 2)})"
        )
    coverage = frame["coverage"].to_dict() if "coverage" in frame.columns else {}
    persp = {p.id: p.name for p in model.perspectives}
    out = {}
    for o in model.objectives:
        parts = [
            f"<b>{esc(o.name)}</b> ({esc(o.id)})",
            f"{esc(persp.get(o.perspective, o.perspective))}",
            f"score {fmt_num(score_of.get(o.id), 2)} · {esc(status_of.get(o.id, 'no data'))}",
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
        sc = fmt_num(score_of.get(oid), 2)
        name = model.get(oid).name
        d["text"].append(f"{wrap_label(name)}<br><b>{sc}</b>" if labels else sc)
        d["hovertext"].append(hover[oid])
        d["customdata"].append(oid)
    return out


def strategy_map(
    model: Model,
    scores: pd.DataFrame | None = None,
    *,
    history: HistoryLike | None = None,
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
        measures and OKRs.  A large map stays legible and quick to redraw:
        above 60 links, widths in 0.5 px steps and no arrowheads; above 200
        objectives, scores in the hover text only.
    """
    import plotly.graph_objects as go

    model = load_model(model)
    frame = scores_frame(model, scores, history)
    layout = map_layout_cached(model)
    labels = len(layout.ids) <= 40 if labels is None else labels
    wmax = max([abs(lk.weight or 0.0) for lk in model.objective_links] + [1e-9])

    # one trace per line style: widths in steps of 0.1 px, or 0.5 px on a large map
    # (each trace costs plotly.js a layer to draw: 800 links in 100 traces took a
    # second to redraw; in 30, a third of that)
    coarse = len(model.objective_links) > LINK_STYLE_LIMIT

    def group_of(lk: Any) -> tuple[float, bool, bool]:
        share = abs(lk.weight or 0.0) / wmax
        width = 1 + round(8 * share) / 2 if coarse else round(1 + 4 * share, 1)
        return (width, lk.lag > 0, (lk.weight or 0.0) < 0)

    def style_of(g: tuple[float, bool, bool]) -> dict[str, Any]:
        width, lagged, inverse = g
        name = ("inverse" if inverse else "link") + (" (lagged)" if lagged else "")
        return {
            "width": width,
            "dash": "dash" if lagged else "solid",
            "color": INVERSE_COLOR if inverse else LINK_COLOR,
            "name": name,
            "legendgroup": name,
            "mid_symbol": "line-ew-open" if inverse else "circle",
        }

    names = {o.id: o.name for o in model.objectives}

    def hover_of(lk: Any) -> str:
        parts = [
            f"<b>{esc(names[lk.source])} → {esc(names[lk.target])}</b>",
            f"weight {fmt_num(lk.weight)}"
            + (" (inverse: reads 1 − cause)" if (lk.weight or 0) < 0 else ""),
            f"lag {lk.lag} {esc(model.period)}{'s' if lk.lag != 1 else ''}",
        ]
        if lk.rationale:
            parts.append(esc(lk.rationale))
        return "<br>".join(parts)

    traces = link_traces(
        model, layout, group_of=group_of, style_of=style_of, hover_of=hover_of, arrows=not coarse
    )
    seen: set[str] = set()
    for t in traces:
        if t.meta.get("role") == "link":
            t.showlegend = t.name not in seen
            seen.add(t.name)
    nodes = _node_data(model, layout, frame, labels=labels)
    size = 22 if len(layout.ids) <= 40 else 12 if len(layout.ids) <= 200 else 8
    # above 200 objectives the scores are in the hover text only (unreadable as labels)
    mode = "markers+text" if len(layout.ids) <= 200 else "markers"
    for st in STATUSES:
        d = nodes[st]
        traces.append(
            go.Scatter(
                x=d["x"],
                y=d["y"],
                mode=mode,
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
    shapes, annotations = band_shapes(layout)
    n_bands = len(layout.bands)
    apply_layout(
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
    ``batch_update`` (one redraw of a live figure).
    """
    import contextlib

    frame = scores_frame(model, scores)
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
    return model.cache.get("plots.map_layout", lambda: map_layout(model))


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
