"""The what-if explorer: controls per perspective and per link, live map, before/after table, scenarios."""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, Problem
from ..io import load_model
from ._engine import LINK_PREFIX, TABLE_COLUMNS, Engine, link_key
from .planning import PlanningPanel

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model
    from ..typing import HistoryLike, ModelLike


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
    planning : PlanningPanel
        "Make it green" (goal seeking moves the sliders to the plan; undoable) and
        a budget box (the initiatives to fund): :mod:`stratlab.widgets.planning`.
    widget : ipywidgets.Widget
        The whole panel (displayed when the explorer is the last expression of a cell).
    """

    def __init__(
        self, model: Model, history: HistoryLike | None = None, *, view: str = "long run"
    ) -> None:
        import ipywidgets as w

        if view not in ("long run", "now"):
            raise InputError(
                Problem(
                    f"whatif_explorer: view={view!r} is not a view.",
                    fix="use view='long run' (every link has acted) or view='now' (instant effect).",
                )
            )

        from .. import plots

        self.model = model
        self._engine = Engine(model, history)
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
        self.planning = PlanningPanel(self, self._engine.history)  # make it green; budget box
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
                self.planning.widget,
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
        values = {k: v for k, v in changes.items() if not k.startswith(LINK_PREFIX)}
        weights = {k: v for k, v in changes.items() if k.startswith(LINK_PREFIX)}
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
        from .. import plots

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
        from ..render import table_html

        res = self.result
        moved = res[(res["score_delta"].abs() > 1e-9) | res["id"].isin(list(self.changes()))]
        if moved.empty:
            self.table.value = table_html(
                res[res["kind"].isin(["perspective", "objective"])],
                columns=TABLE_COLUMNS,
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
        from ..render import table_html

        if not self.scenarios:
            return ""
        return table_html(self.compare(), title="Saved scenarios", status_column=None, max_rows=30)

    def export_scenario(self, path: str | Path, *, name: str | None = None) -> Path:
        """Write a scenario (saved ``name``, default: the current changes) to YAML or CSV.

        ``.yaml``/``.yml``: ``scenario, model, set`` (measure / key-result values),
        ``weights`` (link weights) and ``effects`` (objective and perspective
        scores before → after).  ``.csv``: the what-if table (the columns of :attr:`result`),
        with text that a spreadsheet would run as a formula (starting with ``=``, ``+``,
        ``-``, ``@``, tab or CR) prefixed with ``'``.
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
            from .._xlsx import csv_safe

            # for people: text starting with = + - @ is prefixed with ' (OWASP CSV injection)
            csv_safe(frame).to_csv(path, index=False)
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


def whatif_explorer(
    model: ModelLike, history: HistoryLike | None = None, *, view: str = "long run"
) -> WhatIfExplorer:
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
