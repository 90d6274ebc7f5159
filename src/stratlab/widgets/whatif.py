"""The what-if explorer: controls per perspective and per link, live map, before/after table, scenarios."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, Problem
from ..io import load_model
from ._controls import (
    BUSY_HTML,
    SharedParts,
    SliderSpec,
    fmt_number,
    label_text,
    lazy_slider_class,
    shown,
    slider_spec,
)
from ._engine import LINK_PREFIX, Engine, link_key, view_caption, views_of
from ._figure import batch, figure_box, live_figure
from .planning import PlanningPanel

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model
    from ..typing import HistoryLike, ModelLike


# --------------------------------------------------------------------------- what-if explorer

_KIND_ORDER = ("perspective", "objective", "okr", "key_result", "measure")
_KIND_TITLE = {
    "perspective": "Perspectives",
    "objective": "Objectives",
    "okr": "OKRs",
    "key_result": "Key results",
    "measure": "Measures",
}


class WhatIfExplorer:
    """Live what-if controls over a strategy map (build with :func:`whatif_explorer`).

    Attributes
    ----------
    controls : dict of str → ipywidgets.FloatSlider
        One control per measure and key result (keyed by id) and per objective
        link (keyed ``'link:source->target'``, as in ``whatif``).  Each slider's
        grid contains its starting value; its range comes from the measure's
        own world (baseline, target, history; ≥ 0 and ≤ 100 % where the data
        are); link weights keep their sign.
    view : ipywidgets.ToggleButtons
        ``'long run'``, ``'now'`` or ``'in k <period>s'`` (up to the model's
        largest lag); a change recomputes at once.
    result : DataFrame
        The current what-if in the chosen view: ``id, kind, name, before,
        after, delta, score_before, score_after, score_delta, status``
        (``before``/``after`` in natural units for measures and key results,
        scores otherwise; ``status`` of ``score_after``).
    figure : plotly Figure
        The strategy map, coloured by the after scores and changed in place;
        its title names the view.
    figure_widget : LiveFigure
        The widget that shows ``figure`` live (its synced state is always the
        current figure).
    table : ipywidgets.HTML
        Before → after of the nodes that moved, grouped by kind, sorted by score change.
    scenarios : dict of name → dict of changes
        Saved scenarios (:meth:`save_scenario`); ``scenario_views`` holds their views.
    planning : PlanningPanel
        "Make it green" (goal seeking moves the sliders to the plan; undoable) and
        a budget box (the initiatives to fund): :mod:`stratlab.widgets.planning`;
        shown in the "Plan" tab.
    widget : ipywidgets.Widget
        The whole panel (displayed when the explorer is the last expression of a cell).
    """

    def __init__(
        self, model: Model, history: HistoryLike | None = None, *, view: str = "long run"
    ) -> None:
        import ipywidgets as w

        views = views_of(model)
        if view not in views:
            raise InputError(
                Problem(
                    f"whatif_explorer: view={view!r} is not a view.",
                    fix="use view='long run' (every link has acted), view='now' (instant effect)"
                    + (f" or one of {views[2:]}." if len(views) > 2 else "."),
                )
            )
        self.model = model
        self._engine = Engine(model, history)
        self._hold = 0
        self._dirty = False
        self.scenarios: dict[str, dict[str, float]] = {}
        self.scenario_views: dict[str, str] = {}
        self.controls: dict[str, Any] = {}
        self._initial: dict[str, float] = {}
        make = self._make = SharedParts()
        self._build_controls(w)
        self.view = make(
            w.ToggleButtons,
            options=views,
            value=view,
            tooltips=[view_caption(v) for v in views],
            style={"button_width": "auto"},
            layout={"width": "auto"},
        )
        self.view_note = make(w.HTML)
        self.busy = make(w.HTML, layout={"min_width": "110px"})
        self.table = make(w.HTML, layout={"width": "auto"})
        self.compare_html = make(w.HTML, layout={"width": "auto"})
        self.message = make(w.HTML)
        self.result, self._after_scores = self._engine.run({}, view)
        self._render_table()
        self._render_view_note()
        self.planning = PlanningPanel(self, self._engine.history)  # make it green; budget box
        self.figure = self._make_figure()
        self.figure_widget = live_figure(self.figure)
        self.widget = self._build_panel(w)
        for ctl in self.controls.values():
            ctl.observe(self._on_change, names="value")
        self.view.observe(self._on_view, names="value")

    # ............................................................... building
    def _history_range(self, node_id: str) -> list[float]:
        hist = self._engine.history
        if hist is None or node_id not in getattr(hist, "columns", ()):
            return []
        col = hist[node_id].dropna()
        return [float(col.min()), float(col.max())] if len(col) else []

    def _build_controls(self, w: Any) -> None:
        eng = self._engine
        model = self.model
        by_persp: dict[str, list[Any]] = {p.id: [] for p in model.perspectives}
        for i, m in enumerate(model.measures):
            base = float(eng.m_values[i])
            pts: list[float | None] = [m.baseline, m.target, *self._history_range(m.id)]
            if m.direction == "band" and m.band:
                tol = m.tolerance or 0.0
                pts += [m.band[0] - tol, m.band[1] + tol]
            row = self._slider(w, m.id, m.name, m.unit, pts, base)
            by_persp[model.get(m.objective).perspective].append(row)
        for i, kr in enumerate(model.key_results):
            base = float(eng.k_values[i])
            pts = [kr.start, kr.target, *self._history_range(kr.id)]
            row = self._slider(w, kr.id, f"KR: {kr.name}", kr.unit, pts, base)
            p = model.perspective_of(kr.okr)
            by_persp.setdefault(p or "(unaligned)", []).append(row)
        link_rows = []
        names = {o.id: o.name for o in model.objectives}
        for key, lk in eng.links.items():
            wgt = float(lk.weight or 0.0)
            if lk.weight_range is not None:
                pts = [float(v) for v in lk.weight_range]
                floor, ceiling = None, None
            elif wgt >= 0:  # a link keeps its sign: flipping it is a model edit
                pts, floor, ceiling = [0.0, max(1.0, 2 * wgt)], 0.0, None
            else:
                pts, floor, ceiling = [min(-1.0, 2 * wgt), 0.0], None, 0.0
            spec = slider_spec(pts, wgt, floor=floor, ceiling=ceiling, pad=0.0)
            text = f"{names[lk.source]} → {names[lk.target]}" + (" (inverse)" if wgt < 0 else "")
            link_rows.append(self._row(w, key, text, key, spec))
        self._groups: list[tuple[str, list[Any]]] = []
        persp_names = {p.id: p.name for p in model.perspectives}
        for persp in reversed(model.perspectives):
            if by_persp.get(persp.id):
                self._groups.append((persp_names[persp.id], by_persp[persp.id]))
        if by_persp.get("(unaligned)"):
            self._groups.append(("Unaligned OKRs", by_persp["(unaligned)"]))
        if link_rows:
            self._groups.append(("Link weights", link_rows))

    def _slider(
        self, w: Any, node_id: str, name: str, unit: str, points: list[float | None], value: float
    ) -> Any:
        percent = unit.strip() == "%"
        floor = 0.0 if all(p is None or p >= 0 for p in [*points, value]) else None
        spec = slider_spec(points, value, floor=floor, ceiling=100.0 if percent else None)
        return self._row(w, node_id, label_text(name, unit), f"{node_id}: {name} [{unit}]", spec)

    def _row(self, w: Any, key: str, text: str, tooltip: str, spec: SliderSpec) -> Any:
        """A control: a full-width slider with an editable readout, its full label above
        (one widget: the description, put on a row of its own by PANEL_CSS)."""
        ctl = self._make(
            lazy_slider_class(),
            value=spec.value,
            min=spec.lo,
            max=spec.hi,
            step=spec.step,
            readout_format=spec.readout_format,
            continuous_update=False,
            description=text,
            tooltip=tooltip,
            layout={"width": "auto", "margin": "0 0 4px 0"},
            style={"description_width": "initial"},
            _dom_classes=(CONTROL_CLASS,),  # in the comm_open: no update message per control
        )
        self.controls[key] = ctl
        self._initial[key] = float(ctl.value)
        return ctl

    def _make_figure(self) -> Any:
        from ..plots import strategy_map

        fig = strategy_map(self.model, self._after_scores, title=self._map_title())
        fig.update_layout(autosize=True, width=None, margin={"l": 10, "r": 10, "t": 60, "b": 10})
        return fig

    def _map_title(self) -> str:
        from ..plots import esc

        return f"{esc(self.model.name)} · what-if, {esc(self.view.value if hasattr(self, 'view') else 'long run')}"

    def _build_panel(self, w: Any) -> Any:
        # a tab's sliders go on screen (and open their comms) when the tab is first
        # opened: a front end builds the first tab's slider models only
        make = self._make
        pages = [
            make(
                w.VBox,
                [shown(c) for c in rows] if k == 0 else [],
                layout={"width": "auto", "padding": "4px"},
            )
            for k, (_, rows) in enumerate(self._groups)
        ]
        tabs = make(
            w.Tab,
            children=[*pages, self._scenario_box(w), self.planning.widget],
            titles=tuple([title for title, _ in self._groups] + ["Scenarios", "Plan"]),
            layout={"width": "auto"},
            _dom_classes=(TABS_CLASS,),  # whole titles, wrapping onto more rows (PANEL_CSS)
        )

        def fill(change: Any) -> None:
            k = change["new"]
            if k is not None and k < len(pages) and not pages[k].children:
                pages[k].children = tuple(shown(c) for c in self._groups[k][1])

        tabs.observe(fill, names="selected_index")
        self.tabs = tabs
        reset = make(
            w.Button, description="Reset", icon="undo", tooltip="back to the model's values"
        )
        reset.on_click(lambda _b: self.reset())
        self.actions = make(w.HBox, [reset], layout={"flex_flow": "row wrap"})
        header = make(
            w.HBox,
            [make(w.HTML, "<b>View</b>"), self.view, self.busy],
            layout={"flex_flow": "row wrap", "align_items": "center", "grid_gap": "8px"},
        )
        fig_box = figure_box(self.figure_widget, width="auto")
        left = make(
            w.VBox,
            [tabs, self.actions],
            layout={
                "width": "40%",
                "min_width": "300px",
                "flex": "1 1 340px",
                "overflow": "hidden",
            },
        )
        right = make(
            w.VBox,
            [self.view_note, fig_box, self.table],
            layout={
                "width": "60%",
                "min_width": "380px",
                "flex": "3 1 520px",
                "overflow": "hidden",
            },
        )
        body = make(
            w.HBox,
            [left, right],
            layout={"width": "auto", "flex_flow": "row wrap", "grid_gap": "12px"},
        )
        style = make(w.HTML, PANEL_CSS, layout={"display": "none"})
        return make(w.VBox, [style, header, body], layout={"width": "auto", "overflow": "hidden"})

    def _scenario_box(self, w: Any) -> Any:
        make = self._make
        full = {"width": "auto", "flex": "1 1 160px"}
        self._name = make(w.Text, placeholder="name of the current scenario", layout=full)
        save = make(
            w.Button, description="Save", icon="save", tooltip="save the current changes and view"
        )
        self._saved = make(w.Dropdown, options=[], description="", layout=full)
        apply = make(
            w.Button, description="Apply", icon="play", tooltip="set the controls and view"
        )
        delete = make(w.Button, description="Delete", icon="trash")
        self._path = make(w.Text, placeholder="file: scenario.yaml or .csv", layout=full)
        export = make(
            w.Button,
            description="Export",
            icon="download",
            tooltip="the chosen saved scenario, else the current one",
        )

        def guarded(action: Callable[[], str]) -> Callable[[Any], None]:
            def run(_b: Any) -> None:
                try:
                    self.message.value = _esc(action())
                except InputError as err:
                    self.message.value = f"<span style='color:#D55E00'>{_esc(str(err))}</span>"

            return run

        def _save() -> str:
            name = self._name.value.strip()
            self.save_scenario(name)
            return f"saved {name!r} ({self.view.value})."

        def _apply() -> str:
            name = self._saved.value or ""
            self.load_scenario(name)
            return f"applied {name!r} ({self.view.value})."

        def _delete() -> str:
            name = self._saved.value or ""
            self.delete_scenario(name)
            return f"deleted {name!r}."

        def _export() -> str:
            out = self.export_scenario(self._path.value.strip(), name=self._saved.value or None)
            return f"written: {out}"

        save.on_click(guarded(_save))
        apply.on_click(guarded(_apply))
        delete.on_click(guarded(_delete))
        export.on_click(guarded(_export))
        wrap = {"flex_flow": "row wrap", "width": "auto"}
        return make(
            w.VBox,
            [
                make(w.HTML, "<b>Save the current changes</b>"),
                make(w.HBox, [self._name, save], layout=wrap),
                make(w.HTML, "<b>Saved scenarios</b>"),
                make(w.HBox, [self._saved, apply, delete], layout=wrap),
                make(w.HTML, "<b>Export</b> (the chosen saved scenario, else the current changes)"),
                make(w.HBox, [self._path, export], layout=wrap),
                self.message,
                self.compare_html,
            ],
            layout={"width": "auto", "padding": "4px"},
        )

    # ............................................................... updating
    def _on_change(self, change: Any) -> None:
        old, new = change.get("old"), change.get("new")
        if (
            isinstance(old, float)
            and isinstance(new, float)
            and math.isclose(old, new, rel_tol=1e-12, abs_tol=1e-12)
        ):
            return
        if self._hold:
            self._dirty = True
        else:
            self._update()

    def _on_view(self, _change: Any) -> None:
        self._render_view_note()
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
        """Controls moved from the model's values: ``{id or 'link:source->target': value}``."""
        return {
            k: float(c.value)
            for k, c in self.controls.items()
            if not math.isclose(float(c.value), self._initial[k], rel_tol=1e-12, abs_tol=1e-12)
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

        # the busy mark costs two messages: shown when the last update was slow
        slow = getattr(self, "_last_update_s", BUSY_AFTER_S) >= BUSY_AFTER_S
        if slow:
            self.busy.value = BUSY_HTML
        start = time.perf_counter()
        try:
            changes = self.changes()
            _values, weights = self._split(changes)
            self.result, self._after_scores = self._engine.run(changes, self.view.value)
            with batch(self.figure_widget) as fig:
                if weights != getattr(self, "_drawn_weights", {}):
                    plots.update_link_widths(fig, self._model_with_weights(weights))
                    self._drawn_weights = weights
                plots.update_strategy_map(fig, self.model, self._after_scores)
                title = self._map_title()
                if fig.layout.title.text != title:
                    fig.layout.title.text = title
            self._render_table()
        finally:
            self._last_update_s = time.perf_counter() - start
            if slow:
                self.busy.value = ""

    def _render_view_note(self) -> None:
        self.view_note.value = f"<div style='font-size:12px;color:#444'>View: <b>{_esc(view_caption(self.view.value))}</b></div>"

    def _render_table(self) -> None:
        self.table.value = effects_table_html(
            self.model, self.result, changed=set(self.changes()), view=self.view.value
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
        self.scenario_views[name] = self.view.value
        self._scenarios_changed(select=name)
        return dict(self.scenarios[name])

    def load_scenario(self, name: str) -> pd.DataFrame:
        """Apply a saved scenario and its view (every other control back to the model's value)."""
        changes = self._scenario(name)
        with self.hold():
            self.view.value = self.scenario_views.get(name, self.view.value)
            for k, ctl in self.controls.items():
                ctl.value = changes.get(k, self._initial[k])
        return self.result

    def delete_scenario(self, name: str) -> None:
        """Forget a saved scenario."""
        self._scenario(name)
        del self.scenarios[name]
        self.scenario_views.pop(name, None)
        self._scenarios_changed()

    def _scenarios_changed(self, select: str | None = None) -> None:
        self.compare_html.value = self._compare_html()
        saved = getattr(self, "_saved", None)
        if saved is not None:
            saved.options = list(self.scenarios)
            saved.value = select if select in self.scenarios else (next(iter(self.scenarios), None))

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
            scenario (in saving order, each in the view it was saved in), for the
            nodes of ``kinds``.
        """
        base = self.result[["id", "kind", "name", "score_before"]].copy()
        for name, changes in self.scenarios.items():
            frame, _ = self._engine.run(changes, self.scenario_views.get(name, self.view.value))
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
        scores before → after), in the scenario's view.  ``.csv``: the what-if
        table (the columns of :attr:`result`), with text that a spreadsheet would
        run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR)
        prefixed with ``'``.  Returns the absolute path written.
        """
        import yaml

        if not str(path).strip():
            raise InputError(
                Problem(
                    "export_scenario: the file name is empty.",
                    fix="give a path ending in .yaml, .yml or .csv.",
                )
            )
        path = Path(path).expanduser().resolve()
        suffix = path.suffix.lower()
        if suffix not in (".yaml", ".yml", ".csv"):
            raise InputError(
                Problem(
                    f"cannot export a scenario to {str(path)!r}: unknown file type {suffix or '(none)'}.",
                    fix="end the file name with .yaml, .yml or .csv.",
                )
            )
        changes = self._scenario(name) if name is not None else self.changes()
        view = self.scenario_views.get(name, self.view.value) if name else self.view.value
        frame, _ = self._engine.run(changes, view)
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
            "view": view,
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


#: An update that took this long (seconds) shows the busy mark during the next one.
BUSY_AFTER_S = 0.15
#: CSS class of the explorer's control tabs.
TABS_CLASS = "stratlab-tabs"
#: CSS class of each slider of the explorer.
CONTROL_CLASS = "stratlab-control"
#: Tab titles never cut (each tab as wide as its title, the bar wrapping onto more
#: rows); each slider's label on a row of its own above the slider, wrapping, never cut.
PANEL_CSS = (
    "<style>"
    f".{CONTROL_CLASS}.widget-slider{{flex-wrap:wrap;height:auto;align-items:center}}"
    f".{CONTROL_CLASS} > .widget-label{{flex:1 0 100%;width:auto!important;max-width:none;"
    "white-space:normal;overflow-wrap:anywhere;text-align:left;line-height:1.25;"
    "font-size:13px;margin:2px 0 -2px 0;height:auto;overflow:visible}"
    f".{TABS_CLASS} > .lm-TabBar{{height:auto;min-height:var(--jp-widgets-horizontal-tab-height,24px)}}"
    f".{TABS_CLASS} > .lm-TabBar .lm-TabBar-content{{flex-wrap:wrap;height:auto}}"
    f".{TABS_CLASS} > .lm-TabBar .lm-TabBar-tab{{flex:0 0 auto;max-width:none;min-width:0}}"
    f".{TABS_CLASS} > .lm-TabBar .lm-TabBar-tabLabel{{overflow:visible;text-overflow:clip}}"
    "</style>"
)


def effects_table_html(
    model: Model, result: pd.DataFrame, *, changed: set[str], view: str, max_rows: int = 40
) -> str:
    """The before → after table: moved nodes grouped by kind, biggest score change first.

    Fixed layout at 100 % of its column (wrapping names), values with their
    units, a status chip per row; the caption names the view.
    """
    from ..render import status_chip

    units: dict[str, str] = {m.id: m.unit for m in model.measures}
    units.update({k.id: k.unit for k in model.key_results})
    moved = result[(result["score_delta"].abs() > 1e-9) | result["id"].isin(list(changed))]
    note = (
        f"{len(moved)} nodes moved."
        if len(moved)
        else "Move a control to see its effect up the map."
    )
    shown = moved if len(moved) else result[result["kind"].isin(["perspective", "objective"])]
    head = (
        "<div class='stratlab-effects' style='width:100%;max-width:100%;overflow:hidden;font-size:12.5px'>"
        f"<div style='font-weight:600;font-size:14px;margin:6px 0 2px'>Before → after "
        f"<span style='font-weight:400;color:#555'>· view: {_esc(view)}</span></div>"
        f"<div style='color:#555;margin-bottom:4px'>{_esc(note)}</div>"
        "<table style='width:100%;table-layout:fixed;border-collapse:collapse'>"
        "<colgroup><col style='width:38%'><col style='width:30%'><col style='width:14%'>"
        "<col style='width:18%'></colgroup>"
        "<thead><tr style='border-bottom:1px solid #999;text-align:left'><th>node</th>"
        "<th>before → after</th><th style='text-align:right'>score Δ</th>"
        "<th style='padding-left:6px'>status</th></tr></thead><tbody>"
    )
    rows: list[str] = []
    count = 0
    cell = "style='padding:2px 4px;overflow-wrap:anywhere;vertical-align:top'"
    for kind in _KIND_ORDER:
        part = shown[shown["kind"] == kind]
        if part.empty:
            continue
        part = part.reindex(
            part["score_delta"].abs().sort_values(ascending=False, kind="stable").index
        )
        rows.append(
            f"<tr><td colspan='4' style='padding:6px 4px 1px;font-weight:600;color:#333;"
            f"border-bottom:1px solid #ddd'>{_KIND_TITLE[kind]}</td></tr>"
        )
        for r in part.itertuples(index=False):
            if count >= max_rows:
                break
            count += 1
            leaf = kind in ("measure", "key_result")
            unit = units.get(str(r.id), "") if leaf else ""
            before = fmt_number(r.before, unit) if leaf else fmt_number(r.score_before)
            after = fmt_number(r.after, unit) if leaf else fmt_number(r.score_after)
            d = float(r.score_delta)
            digits = 2 if abs(d) >= 0.005 else 3
            delta = (
                "0" if not np.isfinite(d) or abs(d) < 5e-4 else f"{d:+.{digits}f}".replace("-", "−")
            )
            rows.append(
                f"<tr data-id='{_esc(str(r.id))}' style='border-bottom:1px solid #eee'>"
                f"<td {cell} title='{_esc(str(r.id))}'>{_esc(str(r.name))}</td>"
                f"<td {cell}>{_esc(before)} → <b>{_esc(after)}</b></td>"
                f"<td {cell.replace('vertical-align:top', 'vertical-align:top;text-align:right')}>{delta}</td>"
                f"<td {cell}>{status_chip(str(r.status))}</td></tr>"
            )
    more = len(shown) - count
    tail = "</tbody></table>"
    if more > 0:
        tail += f"<div style='color:#555'>… {more} more rows (see explorer.result)</div>"
    return head + "".join(rows) + tail + "</div>"


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
    view : str
        Initial view (a toggle in the panel, ``explorer.view``): ``'long run'``,
        the steady state where every link, lagged ones included, has acted;
        ``'now'``, the instant effect (``whatif(...).to_frame()``); or
        ``'in k <period>s'`` (k up to the largest lag), the trajectory k periods on.

    Returns
    -------
    WhatIfExplorer
        ``.controls`` (id → slider; links as ``'link:source->target'``), ``.result``
        (the what-if frame plus ``status``), ``.figure`` (the
        strategy map, shown live by ``.figure_widget``), ``.set()``, ``.reset()``, ``.save_scenario()``,
        ``.compare()``, ``.export_scenario()``.  Displays as a widget.
    """
    return WhatIfExplorer(load_model(model), history, view=view)
