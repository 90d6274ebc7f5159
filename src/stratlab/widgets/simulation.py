"""The Monte Carlo explorer: samples and horizon in, fan chart and P(green) out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io import load_model
from ._controls import BUSY_HTML
from ._figure import figure_box, live_figure

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model
    from ..typing import HistoryLike, ModelLike


# --------------------------------------------------------------------------- Monte Carlo


class SimulationExplorer:
    """Monte Carlo controls: samples, a shift of every key result's confidence, a node, a horizon.

    Attributes
    ----------
    controls : dict
        ``samples`` (IntSlider), ``confidence_shift`` (FloatSlider, added to every
        key result's confidence, clipped to [0, 1]), ``node`` (Dropdown),
        ``horizon`` (IntSlider, periods of the fan chart).
    result : SimulationResult
        The one-period-ahead run (``.summary()``, ``.samples(id)``).
    fan : DataFrame
        ``id, step, p05, p25, p50, p75, p95`` of the chosen node for steps 1..horizon.
    figure : plotly Figure
        Distribution of the chosen node's attainment with the green line.
    fan_figure : plotly Figure
        The fan chart of the chosen node over the horizon.
    figure_widget, fan_widget : LiveFigure
        The widgets that show them live (a run replaces both figures).
    """

    def __init__(
        self,
        model: Model,
        history: HistoryLike,
        *,
        simulate: Callable[..., Any],
        seed: int | None,
        samples: int,
        horizon: int,
        options: Mapping[str, Any],
    ) -> None:
        import ipywidgets as w
        import plotly.graph_objects as go

        self.model = model
        self.history = history
        self._simulate = simulate
        self._options = dict(options)
        self.seed = seed
        options_ = [(f"{o.name}", o.id) for o in model.objectives]
        options_ += [(f"[perspective] {p.name}", p.id) for p in model.perspectives]
        style = {"description_width": "initial"}
        box = w.Layout(width="auto", flex="1 1 240px")
        self.controls = {
            "samples": w.IntSlider(
                value=samples,
                min=100,
                max=max(20000, samples),
                step=100,
                description="samples",
                continuous_update=False,
                style=style,
                layout=box,
            ),
            "confidence_shift": w.FloatSlider(
                value=0.0,
                min=-0.5,
                max=0.5,
                step=0.05,
                description="confidence shift (every KR)",
                continuous_update=False,
                style=style,
                layout=box,
            ),
            "node": w.Dropdown(
                options=options_,
                value=model.objectives[-1].id,
                description="node",
                style=style,
                layout=box,
            ),
            "horizon": w.IntSlider(
                value=horizon,
                min=1,
                max=24,
                description=f"horizon ({model.period or 'period'}s)",
                continuous_update=False,
                style=style,
                layout=box,
            ),
        }
        self.busy = w.HTML(layout=w.Layout(min_width="110px"))
        self.summary_html = w.HTML(layout=w.Layout(width="auto"))
        self.result: Any = None
        self.fan: pd.DataFrame | None = None
        self.figure: Any = go.Figure()
        self.fan_figure: Any = go.Figure()
        self._update()  # complete figures first, then their widgets: the comms open with them
        self.figure_widget = live_figure(self.figure)
        self.fan_widget = live_figure(self.fan_figure)
        cell = {"width": "auto", "flex": "1 1 420px"}
        self._boxes = (figure_box(self.figure_widget, **cell), figure_box(self.fan_widget, **cell))
        for c in self.controls.values():
            c.observe(lambda _ch: self._update(), names="value")
        self.widget = w.VBox(
            [
                w.HBox(
                    [*self.controls.values(), self.busy],
                    layout=w.Layout(flex_flow="row wrap", align_items="center", width="auto"),
                ),
                w.HBox(
                    [self._boxes[0], self._boxes[1]],
                    layout=w.Layout(flex_flow="row wrap", width="auto"),
                ),
                self.summary_html,
            ],
            layout=w.Layout(width="auto", overflow="hidden"),
        )

    def shifted_model(self) -> Model:
        """The model with every key result's confidence shifted by the control."""
        shift = float(self.controls["confidence_shift"].value)
        if shift == 0:
            return self.model

        def moved(c: float | None) -> float:
            return float(np.clip((0.5 if c is None else c) + shift, 0.0, 1.0))

        okrs = tuple(
            dataclasses.replace(
                o,
                key_results=tuple(
                    dataclasses.replace(kr, confidence=moved(kr.confidence)) for kr in o.key_results
                ),
            )
            for o in self.model.okrs
        )
        return dataclasses.replace(self.model, okrs=okrs)

    def _run(self, model: Model, n: int, horizon: int) -> Any:
        return self._simulate(
            model, self.history, samples=n, seed=self.seed, horizon=horizon, **self._options
        )

    def _update(self) -> None:
        import pandas as pd

        from .. import plots
        from ..render import table_html

        self.busy.value = BUSY_HTML
        try:
            self._compute(pd, plots, table_html)
        finally:
            self.busy.value = ""

    def _compute(self, pd: Any, plots: Any, table_html: Any) -> None:
        n = int(self.controls["samples"].value)
        node = self.controls["node"].value
        horizon = int(self.controls["horizon"].value)
        model = self.shifted_model()
        runs = [self._run(model, n, h) for h in range(1, horizon + 1)]
        self.result = runs[0]
        rows = []
        for step, res in enumerate(runs, start=1):
            q = np.nanpercentile(np.asarray(res.samples(node), dtype=float), [5, 25, 50, 75, 95])
            rows.append((node, step, *q))
        self.fan = pd.DataFrame(rows, columns=["id", "step", "p05", "p25", "p50", "p75", "p95"])
        name = self.model.get(node).name
        dist = plots.attainment_distribution(
            {node: self.result.samples(node)},
            model=self.model,
            green=self.model.thresholds.green,
            title=f"{name}: attainment next {self.model.period or 'period'}",
        )
        p = dist.data[0].meta.get("p_green", float("nan"))
        dist.update_layout(
            title={
                "text": f"{_esc(name)}: attainment next {self.model.period or 'period'}"
                f" · P(green) = {p:.2f}"
            },
            legend={"orientation": "h", "y": -0.25},
        )
        fan = plots.fan_chart(
            self.fan,
            model=self.model,
            title=f"{_esc(name)}: attainment over {horizon} {self.model.period or 'period'}s",
        )
        for fig in (dist, fan):
            fig.update_layout(
                autosize=True, height=360, margin={"l": 50, "r": 20, "t": 60, "b": 40}
            )
        self.figure, self.fan_figure = dist, fan
        if hasattr(self, "fan_widget"):  # only what changed is sent
            self.figure_widget.show(dist)
            self.fan_widget.show(fan)
        summary = self.result.summary()
        cols = [
            c
            for c in ("id", "kind", "name", "mean", "p05", "p50", "p95", "p_green")
            if c in summary.columns
        ]
        sub = (
            summary[summary["kind"].isin(["perspective", "objective"])]
            if "kind" in summary
            else summary
        )
        self.summary_html.value = table_html(
            sub, columns=cols, title="P(green) by node", status_column=None
        )

    def p_green(self, node: str | None = None) -> float:
        """P(attainment ≥ green) of a node (default: the chosen one) in the current result."""
        node = node or self.controls["node"].value
        summary = self.result.summary().set_index("id")
        return float(summary.loc[node, "p_green"])

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _esc(text: str) -> str:
    import html

    return html.escape(text)


def simulation_explorer(
    model: ModelLike,
    history: HistoryLike | None = None,
    *,
    samples: int = 1000,
    seed: int | None = 0,
    horizon: int = 4,
    simulate: Callable[..., Any] | None = None,
    **options: Any,
) -> SimulationExplorer:
    """Monte Carlo panel: number of samples, confidence shift → distribution and P(green).

    Parameters
    ----------
    model : Model or path
    history : DataFrame or path, optional
    samples : int
        Initial number of draws.
    seed : int or None
        Seed of every run (same controls, same figure).
    horizon : int
        Initial periods of the fan chart (one run per period ahead).
    simulate : callable, optional
        ``simulate(model, history, samples=, seed=, horizon=, **options)``
        returning a result with ``.summary()`` and ``.samples(id)`` (default:
        :func:`stratlab.simulation.simulate`).
    **options
        Passed to ``simulate`` (e.g. ``elapsed=0.5``, ``spread=1``).

    Returns
    -------
    SimulationExplorer
    """
    m = load_model(model)
    if simulate is None:
        from ..simulation import simulate as default_simulate

        simulate = default_simulate
    return SimulationExplorer(
        m, history, simulate=simulate, seed=seed, samples=samples, horizon=horizon, options=options
    )
