"""Review summaries: status counts, attainment by period and over time, tornados, outlook fan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._util import check_int
from ..errors import InputError, Problem
from ..io import load_model
from ..render import STATUS_COLORS, STATUSES
from ._common import apply_layout, esc, fmt_num, need_columns
from .scorecard import unique_labels
from .simulation import fan_chart, tornado

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from ..model import Model
    from ..typing import HistoryLike


# --------------------------------------------------------------------------- review summaries

NODE_KINDS = ("perspective", "objective", "measure", "okr", "key_result")


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

    frame = need_columns(scores, ("kind", "status"), "status_counts")
    unknown = [str(kinds)] if isinstance(kinds, str) else [k for k in kinds if k not in NODE_KINDS]
    if unknown:
        raise InputError(
            Problem(
                f"status_counts: unknown node kind {unknown[0]!r}.",
                fix=f"pass a list of kinds among {', '.join(NODE_KINDS)}.",
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
    apply_layout(fig, title, barmode="stack", yaxis={"title": "count"}, height=340)
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

    from ..engine import status_of

    model = load_model(model)
    periods = int(
        check_int(periods, "periods", "attainment_by_period", minimum=1, fix="pass e.g. periods=8.")
    )
    shown = _objective_scores(model, history_scores, "attainment_by_period").iloc[-periods:]
    ids = list(shown.columns)
    names = [o.name for o in model.objectives]
    labels = unique_labels(names, ids)
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
                f"<b>{esc(n)}</b><br>{esc(period)}: score {fmt_num(v, 2)} · {s}"
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
    apply_layout(
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
    labels = unique_labels([o.name for o in model.objectives], ids)
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
    apply_layout(fig, title, yaxis={"range": [0, top * 1.05], "title": "score"}, height=420)
    return fig


def objective_tornados(
    model: Model,
    history: HistoryLike | None = None,
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
    from ..propagation import sensitivity, whatif

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
    history: HistoryLike | None = None,
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

    from ..simulation import simulate

    model = load_model(model)
    horizon = int(
        check_int(horizon, "horizon", "outlook_fan", minimum=1, fix="pass e.g. horizon=4.")
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
