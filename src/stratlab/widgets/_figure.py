"""Live plotly figures whose synced widget state is always the current figure.

plotly's ``FigureWidget`` (plotly ≥ 6, an anywidget) has three habits that
leave front ends blank, stale or clipped:

* its comm opens *before* it holds any trace (the comm_open carries an empty
  figure; the traces follow in an update that a front end still loading the
  5 MB widget bundle can miss);
* it never refreshes its synced ``_widget_data``/``_widget_layout`` after a
  change: live views get restyle messages, but a front end that connects later
  (Voilà, a reloaded JupyterLab tab, a second view) builds the figure from the
  state at construction;
* its anywidget view sizes the plot once, when the element may still be
  detached (plotly.js then falls back to 700 px), and never again.

:func:`live_figure` returns a widget that opens its comm with the complete
figure, answers every state request (``get_state``) with the figure as it is
now, and asks a view that came up at plotly.js's fallback width to autosize
to its container once it is attached.  Updates stay incremental: change traces
in place inside ``batch_update`` (one restyle of what changed).
"""

from __future__ import annotations

import copy
import time
from functools import cache
from typing import Any

_FALLBACK_WIDTH = 700  # plotly.js's layout.width when the container has no size
_MAX_NUDGES = 4
#: CSS class of the ipywidgets Box holding a live figure (see :func:`figure_box`).
FIGURE_CLASS = "stratlab-figure"


@cache
def _widget_class() -> type:
    import plotly.graph_objects as go

    class LiveFigure(go.FigureWidget):  # type: ignore[misc]
        """A FigureWidget whose synced state is the current figure (see the module docstring)."""

        _stratlab_ready = False
        # the plot fills its box (a FIGURE_CLASS box), so plotly's autosize reads the box's width
        _css = (
            f".{FIGURE_CLASS}{{min-width:0;overflow:hidden}}"
            f".{FIGURE_CLASS} .js-plotly-plot{{width:100%;max-width:100%}}"
        )

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)  # open() below is a no-op until we are ready
            self._stratlab_nudges = 0
            self._stratlab_heard = False  # a view has sent something
            self._stratlab_acked = False  # a view has applied an edit sent by the kernel
            self._stratlab_pinged = False
            self._stratlab_sent = time.monotonic()
            self._stratlab_assume_dead = False
            self._stratlab_born = time.monotonic()
            config = getattr(self, "_config", None) or {}
            self._config = {**config, "responsive": True, "displaylogo": False}
            self.observe(self._stratlab_autosize, names="_js2py_layoutDelta")
            self.observe(self._stratlab_hear, names="_js2py_traceDeltas")
            self._stratlab_ready = True
            self.open()

        def open(self) -> None:
            if self._stratlab_ready:
                super().open()

        def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict[str, Any]:
            keys = (
                {key}
                if isinstance(key, str)
                else set(key)
                if key is not None
                else {"_widget_data", "_widget_layout"}
            )
            if "_widget_data" in keys:
                self._trait_values["_widget_data"] = copy.deepcopy(self._data)
            if "_widget_layout" in keys:
                self._trait_values["_widget_layout"] = copy.deepcopy(self._layout_obj._props)
            state: dict[str, Any] = super().get_state(key=key, drop_defaults=drop_defaults)
            return state

        def _stratlab_hear(self, change: Any) -> None:
            msg = change.get("new") or {}
            if not msg:
                return
            self._stratlab_heard = True
            if (msg.get("trace_edit_id") or msg.get("layout_edit_id") or 0) > 0:
                self._stratlab_acked = True
                self._stratlab_assume_dead = False

        def _stratlab_autosize(self, change: Any) -> None:
            msg = change.get("new") or {}
            if not msg:
                return
            self._stratlab_hear(change)
            width = (msg.get("layout_delta") or {}).get("width")
            first = not self._stratlab_pinged
            if first or (width == _FALLBACK_WIDTH and self._stratlab_nudges < _MAX_NUDGES):
                # the first relayout also tells whether the view hears the kernel
                self._stratlab_pinged = True
                self._stratlab_nudges += 1
                self._send_relayout_msg({"autosize": True})

        def _stratlab_mark(self) -> None:
            if not (self._layout_edit_in_process or self._trace_edit_in_process):
                self._stratlab_sent = time.monotonic()

        def _send_relayout_msg(self, *args: Any, **kwargs: Any) -> None:
            self._stratlab_mark()
            super()._send_relayout_msg(*args, **kwargs)

        def _send_restyle_msg(self, *args: Any, **kwargs: Any) -> None:
            self._stratlab_mark()
            super()._send_restyle_msg(*args, **kwargs)

        def _send_update_msg(self, *args: Any, **kwargs: Any) -> None:
            self._stratlab_mark()
            super()._send_update_msg(*args, **kwargs)

        def stratlab_unresponsive(self) -> bool:
            """A view is on screen but has not yet shown that it applies the kernel's edits.

            anywidget 0.11 gives a model 2 s to load its module; plotly's is
            5 MB, and on a busy machine such a model then ignores every message
            from the kernel for good (its view still draws the state it was
            created with).  A healthy view acknowledges the first edit (the
            autosize sent when it has drawn) at once; until one has, the figure
            is redrawn from a fresh widget rather than patched.
            """
            if self._stratlab_acked:
                return False
            if self._stratlab_assume_dead:
                return True
            return bool(self._stratlab_heard or (self._view_count or 0) > 0)

    return LiveFigure


def live_figure(fig: Any) -> Any:
    """A live widget of ``fig`` (a plotly Figure), or ``fig`` itself when anywidget is missing."""
    try:
        return _widget_class()(fig)
    except (ImportError, ValueError):
        return fig


def figure_box(fig: Any, **layout: Any) -> Any:
    """An ipywidgets Box holding ``fig`` that the plot fills (a plain figure goes in an Output)."""
    import ipywidgets as w

    if hasattr(fig, "batch_update"):
        box = w.Box([fig], layout=w.Layout(min_width="0", **layout))
    else:  # no anywidget: a static figure
        from IPython.display import display

        box = w.Output(layout=w.Layout(min_width="0", **layout))
        with box:
            display(fig)
    box.add_class(FIGURE_CLASS)
    return box


def refresh(fig: Any, box: Any) -> Any:
    """``fig``, or — when its view stopped hearing the kernel — a fresh widget of it in ``box``.

    Call after updating ``fig`` in place: a fresh widget opens its comm with
    the complete current figure, so its view draws the current state whatever
    became of the old model's messages.
    """
    unresponsive = getattr(fig, "stratlab_unresponsive", None)
    if unresponsive is None or not unresponsive():
        return fig
    import plotly.graph_objects as go

    fresh = _widget_class()(go.Figure(fig.to_dict()))
    fresh._stratlab_assume_dead = True  # until its view answers
    box.children = (fresh,)
    fig.close()
    return fresh


def synced_state(fig: Any) -> dict[str, Any]:
    """What a front end connecting now receives: ``{'data': [...], 'layout': {...}}``."""
    state = fig.get_state()
    return {"data": state["_widget_data"], "layout": state["_widget_layout"]}


def batch(fig: Any) -> Any:
    """``fig.batch_update()`` for a widget, a no-op context for a plain figure."""
    import contextlib

    return fig.batch_update() if hasattr(fig, "batch_update") else contextlib.nullcontext()
