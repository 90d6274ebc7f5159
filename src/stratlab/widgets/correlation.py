"""The correlation explorer: pick a pair and a lag, see the scatter and the lead-lag profile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, Problem
from ..io import load_model
from ._figure import batch, figure_box, live_figure

if TYPE_CHECKING:
    import pandas as pd

    from ..typing import HistoryLike, ModelLike


# --------------------------------------------------------------------------- correlations


class CorrelationExplorer:
    """Pick a pair of KPIs and a lag: scatter of the transformed series, r, p and q.

    Attributes
    ----------
    controls : dict
        ``source`` and ``target`` (Dropdown), ``lag`` (IntSlider).
    result : dict
        The correlation row of the pair at the lag: ``source, target, lag, n, r,
        ci_low, ci_high, p_value, q_value``.
    figure : plotly Figure
        Scatter of source[t − lag] against target[t] (transformed), changed in place.
    figure_widget : LiveFigure
        The widget that shows ``figure`` live.
    """

    def __init__(
        self,
        history: pd.DataFrame,
        corr: pd.DataFrame,
        transformed: pd.DataFrame,
        names: Mapping[str, str],
    ) -> None:
        import ipywidgets as w
        import plotly.graph_objects as go

        self.history = history
        self.corr = corr
        self._t = transformed
        self._names = dict(names)
        self._rows = {(r["source"], r["target"], int(r["lag"])): r for r in corr.to_dict("records")}
        cols = list(transformed.columns)
        options = [(self._names.get(c, c), c) for c in cols]
        max_lag = int(corr["lag"].max()) if len(corr) else 0
        first = corr.dropna(subset=["r"]).sort_values("q_value").head(1)
        src = first["source"].iloc[0] if len(first) else cols[0]
        tgt = first["target"].iloc[0] if len(first) else cols[min(1, len(cols) - 1)]
        lag = int(first["lag"].iloc[0]) if len(first) else 0
        style = {"description_width": "initial"}
        box = w.Layout(width="auto", flex="1 1 220px")
        self.controls = {
            "source": w.Dropdown(
                options=options, value=src, description="source (leads)", style=style, layout=box
            ),
            "target": w.Dropdown(
                options=options, value=tgt, description="target", style=style, layout=box
            ),
            "lag": w.IntSlider(
                value=lag, min=0, max=max_lag, description="lag", style=style, layout=box
            ),
        }
        self.stats = w.HTML(layout=w.Layout(width="auto", flex="1 1 220px"))
        self.result: dict[str, Any] = {}
        fig = go.Figure(
            go.Scatter(
                x=[],
                y=[],
                mode="markers",
                marker={"color": "#0072B2", "size": 8, "opacity": 0.75},
                hoverinfo="text",
            )
        )
        fig.update_layout(template="plotly_white", height=380, autosize=True, margin={"t": 50})
        self.figure = fig
        self.figure_widget = live_figure(fig)
        self._update()
        self._fig_box = figure_box(self.figure_widget, width="auto", flex="3 1 420px")
        for c in self.controls.values():
            c.observe(lambda _ch: self._update(), names="value")
        self.widget = w.VBox(
            [
                w.HBox(list(self.controls.values()), layout=w.Layout(flex_flow="row wrap")),
                w.HBox(
                    [
                        self._fig_box,
                        self.stats,
                    ],
                    layout=w.Layout(flex_flow="row wrap", width="auto"),
                ),
            ],
            layout=w.Layout(width="auto", overflow="hidden"),
        )

    def _row(self, s: str, t: str, lag: int) -> dict[str, Any]:
        row = self._rows.get((s, t, lag))
        if row is None and lag == 0:
            rev = self._rows.get((t, s, 0))
            if rev is not None:
                row = {**rev, "source": s, "target": t}
        if row is None:
            return {
                "source": s,
                "target": t,
                "lag": lag,
                "n": 0,
                "r": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "p_value": np.nan,
                "q_value": np.nan,
                "reason": "same series" if s == t else "not tested",
            }
        return row

    def _update(self) -> None:
        import pandas as pd

        from ..plots import esc
        from ..render import table_html

        s, t = self.controls["source"].value, self.controls["target"].value
        lag = int(self.controls["lag"].value)
        x = self._t[s].shift(lag)
        y = self._t[t]
        ok = x.notna() & y.notna()
        periods = [str(p) for p in self._t.index[ok]]
        self.result = self._row(s, t, lag)
        sn, tn = self._names.get(s, s), self._names.get(t, t)
        with batch(self.figure_widget) as fig:
            tr = fig.data[0]
            tr.x = x[ok].to_numpy()
            tr.y = y[ok].to_numpy()
            tr.hovertext = [f"{p}" for p in periods]
            fig.layout.title = f"{esc(sn)} (t − {lag}) vs {esc(tn)} (t)"
            fig.layout.xaxis.title = esc(sn)
            fig.layout.yaxis.title = esc(tn)
        keys = ["n", "r", "ci_low", "ci_high", "p_value", "q_value"]
        self.stats.value = table_html(
            pd.DataFrame({"statistic": keys, "value": [self.result.get(k) for k in keys]}),
            title=f"lag {lag}",
            notes=[str(self.result["reason"])]
            if isinstance(self.result.get("reason"), str)
            else [],
            status_column=None,
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def correlation_explorer(
    history: HistoryLike,
    *,
    model: ModelLike | None = None,
    corr: pd.DataFrame | None = None,
    max_lag: int = 4,
    method: str = "pearson",
    transform: str = "diff",
    columns: list[str] | None = None,
) -> CorrelationExplorer:
    """Pick a KPI pair and a lag; see the scatter and r, p and q.

    Parameters
    ----------
    history : DataFrame or path
    model : Model, optional
        For display names.
    corr : DataFrame, optional
        A :func:`stratlab.stats.correlate` result (else computed with
        ``max_lag``, ``method``, ``transform``, ``columns``).

    Returns
    -------
    CorrelationExplorer
    """
    from ..stats import as_wide, correlate, transform_frame

    wide = as_wide(history, where="correlation_explorer")
    if columns is not None:
        wide = wide[list(columns)]
    if corr is None:
        corr = correlate(wide, method=method, transform=transform, max_lag=max_lag)
    names: dict[str, str] = {}
    if model is not None:
        m = load_model(model)
        names = {c: m.get(c).name for c in wide.columns if c in m}
    if wide.shape[1] < 2:
        raise InputError(
            Problem(
                "correlation_explorer needs at least two KPI columns.",
                fix="pass a history with two or more measures.",
            )
        )
    return CorrelationExplorer(wide, corr, transform_frame(wide, transform), names)
