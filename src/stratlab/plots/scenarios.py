"""What-if figures: the before/after chart and the no-kernel what-if (precomputed scenarios)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._util import check_int, did_you_mean
from ..errors import InputError, Problem
from ..io import load_model
from ..model import Thresholds
from ..render import STATUS_COLORS
from ._common import (
    STATUS_SYMBOLS,
    apply_layout,
    esc,
    fmt_num,
    need_columns,
    status_name,
    thresholds_of,
)
from .scorecard import unique_labels

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from ..model import Model
    from ..typing import HistoryLike, ModelLike


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

    frame = need_columns(whatif, ("id", "kind", "name", "before", "after", "delta"), "whatif_chart")
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
    y = unique_labels([str(n) for n in sub["name"]], list(sub["id"]))
    before = sub["before"].to_numpy(dtype=float)
    after = sub["after"].to_numpy(dtype=float)
    delta = sub["delta"].to_numpy(dtype=float)
    statuses = []
    for i, a in zip(sub["id"], after, strict=True):
        g, am = (
            thresholds_of(model, i)
            if model is not None
            else (Thresholds().green, Thresholds().amber)
        )
        statuses.append(status_name(a, g, am))
    cx: list[float | None] = []
    cy: list[str | None] = []
    for b, a, lab in zip(before, after, y, strict=True):
        cx += [b, a, None]
        cy += [lab, lab, None]
    hover = [
        f"<b>{lab}</b><br>before {fmt_num(b, 3)} → after {fmt_num(a, 3)} (Δ {fmt_num(d, 3)})<br>{st}"
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
                f"{'+' if d > 0 else ''}{fmt_num(d, 2)}" if np.isfinite(d) and d != 0 else ""
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
    apply_layout(
        fig,
        title,
        xaxis={"title": "score"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 26 * len(y) + 140),
        margin={"l": 200},
    )
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


def _default_inputs(model: Model, history: HistoryLike, limit: int = 8) -> list[str]:
    """The inputs that move the top perspective most (sensitivity), at most ``limit``."""
    from ..propagation import sensitivity

    sens = sensitivity(model, history)
    if len(sens):
        ranked = sens.assign(_abs=sens["swing"].abs()).groupby("input", sort=False)["_abs"].sum()
        order = list(ranked.sort_values(ascending=False, kind="stable").index)
    else:
        order = [m.id for m in model.measures] + [k.id for k in model.key_results]
    return [i for i in order if _input_grid(model, i, 3) is not None][:limit]


def whatif_scenarios(
    model: ModelLike,
    history: HistoryLike | None = None,
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

    model = load_model(model)
    steps = check_int(
        steps, "steps", "whatif_scenarios", minimum=2, maximum=41, fix="e.g. steps=9."
    )
    chosen = _default_inputs(model, history) if inputs is None else _check_inputs(model, inputs)
    bar_ids, labels = _bars(model)
    long_run = _LongRun(model, history, period, bar_ids)
    before = long_run.before
    thresholds = [thresholds_of(model, i) for i in bar_ids]

    def look(values: np.ndarray) -> tuple[list[str], list[str], list[str]]:
        statuses = [status_name(v, g, a) for v, (g, a) in zip(values, thresholds, strict=True)]
        colors = [STATUS_COLORS[s] for s in statuses]
        texts = [
            f"{fmt_num(v, 2)} {s}" if np.isfinite(v) else "no data"
            for v, s in zip(values, statuses, strict=True)
        ]
        hovers = [
            f"<b>{lab}</b><br>long-run score {fmt_num(v, 3)} ({s})<br>no change: {fmt_num(b, 3)}"
            f" (Δ {fmt_num(v - b, 3)})"
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
                f"<b>{lab}</b><br>no change: {fmt_num(b, 3)}"
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
        grid = _input_grid(model, input_id, steps)
        if grid is None:  # pragma: no cover - checked above
            continue
        now = long_run.current.get(input_id, np.nan)
        span = abs(grid[-1] - grid[0])
        if np.isfinite(now) and not np.any(np.abs(grid - now) <= 1e-9 * max(span, 1.0)):
            grid = np.sort(np.append(grid, now))
        active = int(np.argmin(np.abs(grid - now))) if np.isfinite(now) else 0
        step_list, first = _steps(long_run, look, input_id, grid, active, now, k)
        y_max = max(
            y_max, *(float(np.nanmax(np.append(s["args"][0]["y"][0], 0.0))) for s in step_list)
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
        buttons.append(_select_button(name, k, len(chosen)))
    fig = go.Figure(traces)
    apply_layout(
        fig,
        title,
        yaxis={"title": "long-run score", "range": [0, 1.1 * y_max]},
        xaxis={"type": "category"},
        height=520,
        sliders=sliders,
        updatemenus=[_DROPDOWN | {"buttons": buttons}],
        showlegend=False,
        margin={"t": 110},
    )
    meta = {"stratlab": "whatif_scenarios", "view": "long_run", "ids": bar_ids}
    fig.layout.meta = meta | {"inputs": chosen, "values": all_values}
    return fig


#: the input picker of whatif_scenarios (its buttons are added per figure)
_DROPDOWN: dict[str, Any] = {
    "direction": "down",
    "showactive": True,
    "x": 1.0,
    "xanchor": "right",
    "y": 1.02,
    "yanchor": "bottom",
}


class _LongRun:
    """Long-run scores of the bars for a change, read from ``whatif(...).to_frame("long run")``."""

    def __init__(self, model: Model, history: HistoryLike | None, period: Any, ids: list[str]):
        import pandas as pd

        self.model, self.history, self.period, self.ids = model, history, period, ids
        base = self._frame(None)
        # rows of the bars in every long-run frame (one row per node, in model order)
        self.rows = pd.Index(base["id"]).get_indexer(ids)
        self.before = base["score_before"].to_numpy(dtype=float)[self.rows]
        leaves = base[base["kind"].isin(["measure", "key_result"])]
        self.current = dict(zip(leaves["id"], leaves["before"].to_numpy(dtype=float), strict=True))

    def _frame(self, changes: Any) -> pd.DataFrame:
        """``whatif(...).long_run`` (read only: the result's own frame, not a copy)."""
        from ..propagation import whatif

        res = whatif(self.model, changes, self.history, horizon=0, period=self.period)
        return res.long_run

    def sweep(self, input_id: str, values: np.ndarray) -> np.ndarray:
        """The bars' long-run scores with ``input_id`` set to each value (one row per value)."""
        from ..propagation import _long_run_sweep

        after = _long_run_sweep(self.model, self.history, input_id, values, period=self.period)
        return np.asarray(after, dtype=float)[:, self.rows]


def _check_inputs(model: Model, inputs: Sequence[str]) -> list[str]:
    chosen = [str(i) for i in inputs]
    problems = []
    for i in chosen:
        if i not in model or model.kind_of(i) not in ("measure", "key_result"):
            leaves = [m.id for m in model.measures] + [k.id for k in model.key_results]
            problems.append(
                Problem(
                    f"whatif_scenarios: {i!r} is not a measure or key result of the model.",
                    fix=did_you_mean(i, leaves) or "pass measure or key-result ids.",
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
    return chosen


def _bars(model: Model) -> tuple[list[str], list[str]]:
    """The bars: every objective of the top perspective, then the perspective itself."""
    top = model.perspectives[-1]
    objectives = [o for o in model.objectives if o.perspective == top.id]
    if not objectives:
        raise InputError(
            Problem(
                f"whatif_scenarios: the top perspective {top.id!r} has no objectives.",
                fix="add an objective to it, or reorder the perspectives (bottom to top).",
            )
        )
    ids = [o.id for o in objectives] + [top.id]
    names = [o.name for o in objectives] + [f"{top.name} (overall)"]
    return ids, unique_labels(names, ids)


def _select_button(name: str, k: int, n: int) -> dict[str, Any]:
    """The dropdown entry that shows input ``k``'s bars and slider only."""
    return {
        "label": name,
        "method": "update",
        "args": [
            {"visible": [True] + [j == k for j in range(n)]},
            {f"sliders[{j}].visible": j == k for j in range(n)},
        ],
    }


def _steps(
    long_run: _LongRun,
    look: Any,
    input_id: str,
    grid: np.ndarray,
    active: int,
    now: float,
    k: int,
) -> tuple[list[dict[str, Any]], tuple[np.ndarray, list[str], list[str], list[str]] | None]:
    """The slider steps of one input (each restyles bar trace ``k + 1``) and the active step's look."""
    unit = esc(getattr(long_run.model.get(input_id), "unit", "") or "")
    step_list = []
    first: tuple[np.ndarray, list[str], list[str], list[str]] | None = None
    for j, (value, after) in enumerate(zip(grid, long_run.sweep(input_id, grid), strict=True)):
        colors, texts, hovers = look(after)
        if j == active:
            first = (after, colors, texts, hovers)
        label = fmt_num(value, 3) + (f" {unit}" if unit else "")
        if np.isfinite(now) and j == active:
            label += " (now)"
        restyle: dict[str, list[Any]] = {"y": [after.tolist()], "marker.color": [colors]}
        restyle.update(text=[texts], hovertext=[hovers])
        step_list.append({"label": label, "method": "restyle", "args": [restyle, [k + 1]]})
    return step_list, first
