"""Live ipywidgets explorers: what-if, correlations, Monte Carlo.

Every explorer is a plain Python object holding its controls (``.controls``),
its current result (``.result``) and its figure (``.figure``), and displays as
an ipywidgets box in a notebook.  They work headless (tests, scripts): set a
control's ``.value`` and read the result.  ipywidgets and plotly are imported
when an explorer is built, never at ``import stratlab``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError, Problem
from .model import load_model

if TYPE_CHECKING:
    import pandas as pd

    from .model import Model

__all__ = [
    "CorrelationExplorer",
    "SimulationExplorer",
    "WhatIfExplorer",
    "correlation_explorer",
    "simulation_explorer",
    "whatif_explorer",
]

_LINK_PREFIX = "link:"
_TABLE_COLUMNS = ["id", "kind", "name", "before", "after", "delta", "score_after", "status"]
_LINK_SEP = "->"


def link_key(source: str, target: str) -> str:
    """The ``controls`` key of a link-weight control: ``'link:source->target'`` (as in ``whatif``)."""
    return f"{_LINK_PREFIX}{source}{_LINK_SEP}{target}"


# --------------------------------------------------------------------------- engine


class _Engine:
    """Instant what-if for one model and history, through :func:`stratlab.propagation.whatif`.

    The history is checked once and the thresholds and base leaf values are read
    once; ``whatif`` caches its baseline on the model, so an update is one
    ``whatif(...).to_frame()`` plus a status column.
    """

    def __init__(self, model: Model, history: Any) -> None:
        from .propagation import whatif
        from .scoring import _check_history

        self._whatif = whatif
        self.model = model
        self.history = None if history is None else _check_history(model, history)
        self.links = {link_key(lk.source, lk.target): lk for lk in model.objective_links}
        base = self._frame({})
        self.ids = base["id"].to_numpy()
        th = [model.status_thresholds(i) for i in self.ids]
        self.green = np.array([t.green for t in th], dtype=float)
        self.amber = np.array([t.amber for t in th], dtype=float)
        self.leaf = (base["kind"].isin(["measure", "key_result"])).to_numpy()
        before = base.set_index("id")["before"]
        self.m_values = before.reindex([m.id for m in model.measures]).to_numpy(dtype=float)
        self.k_values = before.reindex([k.id for k in model.key_results]).to_numpy(dtype=float)

    def _frame(self, changes: Mapping[str, float], view: str = "now") -> pd.DataFrame:
        result = self._whatif(self.model, dict(changes), self.history, horizon=0)
        return result.long_run.copy() if view == "long run" else result.to_frame()

    def run(
        self, changes: Mapping[str, float], view: str = "long run"
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(what-if frame with a ``status`` column, after-score frame for the map)."""
        import pandas as pd

        from .scoring import status_of

        frame = self._frame(changes, view)
        after = frame["score_after"].to_numpy(dtype=float)
        status = status_of(after, self.green, self.amber)
        frame["status"] = status
        scores = pd.DataFrame(
            {
                "id": self.ids,
                "score": after,
                "status": status,
                "value": np.where(self.leaf, frame["after"].to_numpy(dtype=float), np.nan),
            }
        )
        return frame, scores


# --------------------------------------------------------------------------- what-if explorer


def _span(points: list[float | None], pad: float = 0.15) -> tuple[float, float]:
    finite = [float(p) for p in points if p is not None and math.isfinite(p)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    span = hi - lo
    if span == 0:
        span = abs(lo) or 1.0
    return lo - pad * span, hi + pad * span


class WhatIfExplorer:
    """Live what-if controls over a strategy map (build with :func:`whatif_explorer`).

    Attributes
    ----------
    controls : dict of str → ipywidgets.FloatSlider
        One control per measure and key result (keyed by id) and per objective
        link (keyed ``'link:source->target'``, as in ``whatif``).
    result : DataFrame
        The current what-if (``stratlab.whatif``; its ``long_run`` or, with
        ``view.value == 'now'``, its ``to_frame()``): ``id,
        kind, name, before, after, delta, score_before, score_after,
        score_delta, status`` (``before``/``after`` in natural units for
        measures and key results, scores otherwise; ``status`` of ``score_after``).
    figure : plotly FigureWidget (or Figure)
        The live strategy map, coloured by the after scores.
    scenarios : dict of name → dict of changes
        Saved scenarios (:meth:`save_scenario`).
    widget : ipywidgets.Widget
        The whole panel (displayed when the explorer is the last expression of a cell).
    """

    def __init__(self, model: Model, history: Any = None, *, view: str = "long run") -> None:
        import ipywidgets as w

        if view not in ("long run", "now"):
            raise InputError(
                Problem(
                    f"whatif_explorer: view={view!r} is not a view.",
                    fix="use view='long run' (every link has acted) or view='now' (instant effect).",
                )
            )

        from . import plots

        self.model = model
        self._engine = _Engine(model, history)
        self._hold = 0
        self._dirty = False
        self.scenarios: dict[str, dict[str, float]] = {}
        self.controls: dict[str, Any] = {}
        self._initial: dict[str, float] = {}
        self._build_controls(w)
        self.view = w.ToggleButtons(
            options=["long run", "now"],
            value=view,
            tooltips=[
                "steady state: every link, lagged ones included, has acted",
                "instant effect: lag-0 links only; lagged causes read from the history",
            ],
        )
        self.result, self._after_scores = self._engine.run({}, view)
        self.figure = self._make_figure(plots.strategy_map(model, self._after_scores))
        self.table = w.HTML()
        self.compare_html = w.HTML()
        self._render_table()
        self.widget = self._build_panel(w)
        for ctl in self.controls.values():
            ctl.observe(self._on_change, names="value")

    # ............................................................... building
    def _build_controls(self, w: Any) -> None:
        eng = self._engine
        model = self.model
        style = {"description_width": "45%"}
        layout = w.Layout(width="98%")
        by_persp: dict[str, list[Any]] = {p.id: [] for p in model.perspectives}
        for i, m in enumerate(model.measures):
            base = eng.m_values[i]
            pts = [m.baseline, m.target, base]
            if m.direction == "band" and m.band:
                tol = m.tolerance or 0.0
                pts += [m.band[0] - tol, m.band[1] + tol]
            lo, hi = _span(pts)
            value = float(base) if math.isfinite(base) else lo
            ctl = self._slider(w, m.id, m.name, m.unit, lo, hi, value, style, layout)
            by_persp[model.get(m.objective).perspective].append(ctl)
        for i, kr in enumerate(model.key_results):
            base = eng.k_values[i]
            lo, hi = _span([kr.start, kr.target, base])
            value = float(base) if math.isfinite(base) else lo
            ctl = self._slider(w, kr.id, f"KR: {kr.name}", kr.unit, lo, hi, value, style, layout)
            p = model.perspective_of(kr.okr)
            by_persp.setdefault(p or "(unaligned)", []).append(ctl)
        link_ctls = []
        names = {o.id: o.name for o in model.objectives}
        for key, lk in eng.links.items():
            wgt = float(lk.weight or 0.0)
            if lk.weight_range is not None:
                lo, hi = (float(v) for v in lk.weight_range)
            else:
                lo, hi = min(-1.0, 2 * wgt), max(1.0, 2 * wgt)
            ctl = w.FloatSlider(
                value=wgt,
                min=lo,
                max=hi,
                step=0.05,
                description=f"{names[lk.source]} → {names[lk.target]}",
                tooltip=key,
                readout_format=".2f",
                continuous_update=False,
                style=style,
                layout=layout,
            )
            self.controls[key] = ctl
            self._initial[key] = wgt
            link_ctls.append(ctl)
        self._groups: list[tuple[str, list[Any]]] = []
        persp_names = {p.id: p.name for p in model.perspectives}
        for persp in reversed(model.perspectives):
            if by_persp.get(persp.id):
                self._groups.append((persp_names[persp.id], by_persp[persp.id]))
        if by_persp.get("(unaligned)"):
            self._groups.append(("Unaligned OKRs", by_persp["(unaligned)"]))
        if link_ctls:
            self._groups.append(("Link weights", link_ctls))

    def _slider(
        self,
        w: Any,
        node_id: str,
        name: str,
        unit: str,
        lo: float,
        hi: float,
        value: float,
        style: dict[str, str],
        layout: Any,
    ) -> Any:
        step = (hi - lo) / 200.0
        # ipywidgets renders ``description`` as text (description_allow_html is False)
        ctl = w.FloatSlider(
            value=min(max(value, lo), hi),
            min=lo,
            max=hi,
            step=step,
            description=f"{name} ({unit})" if unit else name,
            tooltip=node_id,
            readout_format=".3g",
            continuous_update=False,
            style=style,
            layout=layout,
        )
        self.controls[node_id] = ctl
        self._initial[node_id] = float(ctl.value)
        return ctl

    def _make_figure(self, fig: Any) -> Any:
        import plotly.graph_objects as go

        try:
            return go.FigureWidget(fig)
        except (ImportError, ValueError):  # anywidget missing: a plain figure in an Output
            self._output = True
            return fig

    def _build_panel(self, w: Any) -> Any:
        acc = w.Accordion(children=[w.VBox(ctls) for _, ctls in self._groups])
        for i, (title, _) in enumerate(self._groups):
            acc.set_title(i, title)
        reset = w.Button(description="Reset", icon="undo", tooltip="back to the model's values")
        reset.on_click(lambda _b: self.reset())
        name = w.Text(placeholder="scenario name", layout=w.Layout(width="180px"))
        save = w.Button(description="Save scenario", icon="save")

        def _save(_b: Any) -> None:
            if name.value.strip():
                self.save_scenario(name.value.strip())

        save.on_click(_save)
        path = w.Text(placeholder="scenario.yaml or .csv", layout=w.Layout(width="200px"))
        export = w.Button(description="Export", icon="download")
        message = w.HTML()

        def _export(_b: Any) -> None:
            try:
                out = self.export_scenario(path.value.strip(), name=name.value.strip() or None)
                message.value = f"written: {_esc(str(out))}"
            except InputError as err:
                message.value = f"<span style='color:#D55E00'>{_esc(str(err))}</span>"

        export.on_click(_export)
        fig_box: Any = self.figure
        if getattr(self, "_output", False):
            fig_box = w.Output()
            self._fig_output = fig_box
            self._show_static()
        left = w.VBox(
            [
                self.view,
                acc,
                w.HBox([reset]),
                w.HBox([name, save]),
                w.HBox([path, export]),
                message,
            ],
            layout=w.Layout(width="38%"),
        )
        right = w.VBox([fig_box, self.table, self.compare_html], layout=w.Layout(width="62%"))
        return w.HBox([left, right])

    def _show_static(self) -> None:
        from IPython import get_ipython

        out = getattr(self, "_fig_output", None)
        if out is None or get_ipython() is None:
            return
        from IPython.display import display

        with out:
            out.clear_output(wait=True)
            display(self.figure)

    # ............................................................... updating
    def _on_change(self, _change: Any) -> None:
        if self._hold:
            self._dirty = True
        else:
            self._update()

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Merge a burst of control changes into one update (and one redraw)."""
        self._hold += 1
        try:
            yield
        finally:
            self._hold -= 1
            if not self._hold and self._dirty:
                self._dirty = False
                self._update()

    def changes(self) -> dict[str, float]:
        """Controls moved from the model's values: ``{id or 'source->target': value}``."""
        return {
            k: float(c.value)
            for k, c in self.controls.items()
            if not math.isclose(float(c.value), self._initial[k], rel_tol=0, abs_tol=1e-12)
        }

    def _split(self, changes: Mapping[str, float]) -> tuple[dict[str, float], dict[str, float]]:
        values = {k: v for k, v in changes.items() if not k.startswith(_LINK_PREFIX)}
        weights = {k: v for k, v in changes.items() if k.startswith(_LINK_PREFIX)}
        return values, weights

    def _model_with_weights(self, weights: Mapping[str, float]) -> Model:
        if not weights:
            return self.model
        links = tuple(
            dataclasses.replace(lk, weight=float(weights[link_key(lk.source, lk.target)]))
            if lk.kind == "objective" and link_key(lk.source, lk.target) in weights
            else lk
            for lk in self.model.links
        )
        return dataclasses.replace(self.model, links=links)

    def _update(self) -> None:
        from . import plots

        changes = self.changes()
        _values, weights = self._split(changes)
        self.result, self._after_scores = self._engine.run(changes, self.view.value)
        if weights != getattr(self, "_drawn_weights", {}):
            plots.update_link_widths(self.figure, self._model_with_weights(weights))
            self._drawn_weights = weights
        plots.update_strategy_map(self.figure, self.model, self._after_scores)
        self._render_table()
        if getattr(self, "_output", False):
            self._show_static()

    def _render_table(self) -> None:
        from .render import table_html

        res = self.result
        moved = res[(res["score_delta"].abs() > 1e-9) | res["id"].isin(list(self.changes()))]
        if moved.empty:
            self.table.value = table_html(
                res[res["kind"].isin(["perspective", "objective"])],
                columns=_TABLE_COLUMNS,
                title="Before → after",
                notes=["Move a control to see its effect up the map."],
                max_rows=12,
            )
            return
        order = moved.reindex(
            moved["delta"].abs().sort_values(ascending=False, kind="stable").index
        )
        self.table.value = table_html(
            order, title="Before → after", notes=[f"{len(moved)} nodes moved."], max_rows=25
        )

    # ............................................................... public API
    def set(self, values: Mapping[str, float] | None = None, /, **more: float) -> pd.DataFrame:
        """Set several controls at once (one update); returns the new :attr:`result`."""
        changes = {**(values or {}), **more}
        unknown = [k for k in changes if k not in self.controls]
        if unknown:
            raise InputError(
                Problem(
                    f"whatif_explorer: no control {unknown[0]!r}.",
                    fix="use a measure or key-result id, or 'link:source->target' for a link "
                    f"(e.g. {next(iter(self.controls), '')!r}).",
                )
            )
        with self.hold():
            for k, v in changes.items():
                ctl = self.controls[k]
                with ctl.hold_trait_notifications():
                    ctl.value = float(v)
        return self.result

    def reset(self) -> None:
        """Every control back to the model's value."""
        with self.hold():
            for k, ctl in self.controls.items():
                ctl.value = self._initial[k]

    def save_scenario(self, name: str) -> dict[str, float]:
        """Save the current changes under ``name`` (replacing a scenario of that name)."""
        if not isinstance(name, str) or not name.strip():
            raise InputError(
                Problem("save_scenario: the name is empty.", fix="give the scenario a name.")
            )
        self.scenarios[name] = self.changes()
        self.compare_html.value = self._compare_html()
        return dict(self.scenarios[name])

    def load_scenario(self, name: str) -> pd.DataFrame:
        """Apply a saved scenario (every other control back to the model's value)."""
        changes = self._scenario(name)
        with self.hold():
            for k, ctl in self.controls.items():
                ctl.value = changes.get(k, self._initial[k])
        return self.result

    def _scenario(self, name: str) -> dict[str, float]:
        if name not in self.scenarios:
            raise InputError(
                Problem(
                    f"no saved scenario {name!r}.",
                    fix=f"save it first (explorer.save_scenario); saved: {sorted(self.scenarios)}.",
                )
            )
        return self.scenarios[name]

    def compare(self, kinds: tuple[str, ...] = ("perspective", "objective")) -> pd.DataFrame:
        """Saved scenarios side by side.

        Returns
        -------
        DataFrame
            ``id, kind, name, score_before`` and one column of after-scores per saved
            scenario (in saving order), for the nodes of ``kinds``.
        """
        base = self.result[["id", "kind", "name", "score_before"]].copy()
        for name, changes in self.scenarios.items():
            frame, _ = self._engine.run(changes, self.view.value)
            base[name] = frame["score_after"].to_numpy()
        return base[base["kind"].isin(list(kinds))].reset_index(drop=True)

    def _compare_html(self) -> str:
        from .render import table_html

        if not self.scenarios:
            return ""
        return table_html(self.compare(), title="Saved scenarios", status_column=None, max_rows=30)

    def export_scenario(self, path: str | Path, *, name: str | None = None) -> Path:
        """Write a scenario (saved ``name``, default: the current changes) to YAML or CSV.

        ``.yaml``/``.yml``: ``scenario, model, set`` (measure / key-result values),
        ``weights`` (link weights) and ``effects`` (objective and perspective
        scores before → after).  ``.csv``: the what-if table (the columns of :attr:`result`).
        """
        import yaml

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".yaml", ".yml", ".csv"):
            raise InputError(
                Problem(
                    f"cannot export a scenario to {str(path)!r}: unknown file type {suffix or '(none)'}.",
                    fix="end the file name with .yaml, .yml or .csv.",
                )
            )
        changes = self._scenario(name) if name is not None else self.changes()
        frame, _ = self._engine.run(changes, self.view.value)
        if suffix == ".csv":
            frame.to_csv(path, index=False)
            return path
        values, weights = self._split(changes)
        effects = frame[frame["kind"].isin(["perspective", "objective"])]
        doc = {
            "scenario": name or "current",
            "model": self.model.name,
            "view": self.view.value,
            "set": values,
            "weights": weights,
            "effects": {
                r.id: {
                    "before": _num(r.score_before),
                    "after": _num(r.score_after),
                    "delta": _num(r.score_delta),
                }
                for r in effects.itertuples(index=False)
            },
        }
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _num(x: Any) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def _esc(text: str) -> str:
    import html

    return html.escape(text)


def whatif_explorer(model: Any, history: Any = None, *, view: str = "long run") -> WhatIfExplorer:
    """A live what-if panel: move measures, key results and link weights, watch the map.

    Parameters
    ----------
    model : Model or path
    history : DataFrame or path, optional
        KPI history: controls start at the latest values; lagged links read it.
    view : {'long run', 'now'}
        Initial view (a toggle in the panel, ``explorer.view``): the steady
        state where every link, lagged ones included, has acted; or the instant
        effect (``whatif(...).to_frame()``).

    Returns
    -------
    WhatIfExplorer
        ``.controls`` (id → slider; links as ``'link:source->target'``), ``.result``
        (the what-if frame plus ``status``), ``.figure`` (the live
        strategy map), ``.set()``, ``.reset()``, ``.save_scenario()``,
        ``.compare()``, ``.export_scenario()``.  Displays as a widget.
    """
    return WhatIfExplorer(load_model(model), history, view=view)


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
    figure : FigureWidget
        Scatter of source[t − lag] against target[t] (transformed).
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
        self.controls = {
            "source": w.Dropdown(options=options, value=src, description="source (leads)"),
            "target": w.Dropdown(options=options, value=tgt, description="target"),
            "lag": w.IntSlider(value=lag, min=0, max=max_lag, description="lag"),
        }
        self.figure = go.FigureWidget(
            go.Scatter(
                x=[],
                y=[],
                mode="markers",
                marker={"color": "#0072B2", "size": 8, "opacity": 0.75},
                hoverinfo="text",
            )
        )
        self.figure.update_layout(template="plotly_white", height=380, margin={"t": 50})
        self.stats = w.HTML()
        self.result: dict[str, Any] = {}
        self._update()
        for c in self.controls.values():
            c.observe(lambda _ch: self._update(), names="value")
        self.widget = w.VBox(
            [w.HBox(list(self.controls.values())), w.HBox([self.figure, self.stats])]
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

        from .plots import esc
        from .render import table_html

        s, t = self.controls["source"].value, self.controls["target"].value
        lag = int(self.controls["lag"].value)
        x = self._t[s].shift(lag)
        y = self._t[t]
        ok = x.notna() & y.notna()
        periods = [str(p) for p in self._t.index[ok]]
        self.result = self._row(s, t, lag)
        sn, tn = self._names.get(s, s), self._names.get(t, t)
        with self.figure.batch_update():
            tr = self.figure.data[0]
            tr.x = x[ok].to_numpy()
            tr.y = y[ok].to_numpy()
            tr.hovertext = [f"{p}" for p in periods]
            self.figure.layout.title = f"{esc(sn)} (t − {lag}) vs {esc(tn)} (t)"
            self.figure.layout.xaxis.title = esc(sn)
            self.figure.layout.yaxis.title = esc(tn)
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
    history: Any,
    *,
    model: Any = None,
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
    from .stats import correlate
    from .stats._common import as_wide, transform_frame

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
    figure : FigureWidget
        Distribution of the chosen node's attainment with the green line.
    fan_figure : FigureWidget
        The fan chart of the chosen node over the horizon.
    """

    def __init__(
        self,
        model: Model,
        history: Any,
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
        self.controls = {
            "samples": w.IntSlider(
                value=samples,
                min=100,
                max=max(20000, samples),
                step=100,
                description="samples",
                continuous_update=False,
            ),
            "confidence_shift": w.FloatSlider(
                value=0.0,
                min=-0.5,
                max=0.5,
                step=0.05,
                description="confidence ±",
                continuous_update=False,
            ),
            "node": w.Dropdown(options=options_, value=model.objectives[-1].id, description="node"),
            "horizon": w.IntSlider(
                value=horizon, min=1, max=24, description="horizon", continuous_update=False
            ),
        }
        self.figure = go.FigureWidget()
        self.fan_figure = go.FigureWidget()
        self.summary_html = w.HTML()
        self.result: Any = None
        self.fan: pd.DataFrame | None = None
        self._update()
        for c in self.controls.values():
            c.observe(lambda _ch: self._update(), names="value")
        self.widget = w.VBox(
            [
                w.HBox(list(self.controls.values())[:2]),
                w.HBox(list(self.controls.values())[2:]),
                w.HBox([self.figure, self.fan_figure]),
                self.summary_html,
            ]
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

        from . import plots
        from .render import table_html

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
        dist = plots.attainment_distribution(
            {node: self.result.samples(node)}, model=self.model, green=self.model.thresholds.green
        )
        fan = plots.fan_chart(self.fan, model=self.model, title="Attainment over the horizon")
        for target, new in ((self.figure, dist), (self.fan_figure, fan)):
            with target.batch_update():
                target.data = ()
                target.add_traces(list(new.data))
                target.layout = new.layout
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


def simulation_explorer(
    model: Any,
    history: Any = None,
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
        from .simulation import simulate as default_simulate

        simulate = default_simulate
    return SimulationExplorer(
        m, history, simulate=simulate, seed=seed, samples=samples, horizon=horizon, options=options
    )
