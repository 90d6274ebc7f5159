"""Live plotly figures: a plain ``go.Figure`` shown by a small anywidget.

plotly's own ``FigureWidget`` ships its 5 MB front end with every figure and,
under anywidget 0.11, a model that has not loaded it within 2 s ignores the
kernel for good; it never refreshes its synced state after a change (a front
end that connects late draws the figure as it was built), and sizes the plot
once, often at plotly.js's 700 px fallback.

:class:`LiveFigure` (made by :func:`live_figure`) holds a plain ``go.Figure``
that the explorers change in place.  Its synced state ``_figure`` is always
the whole current figure, each trace and each top-level layout key as its own
JSON text, set anew after every change (``with live.batch_update() as fig:
...``), so Voilà, a reloaded JupyterLab tab or a second view draws what the
kernel has now.  The front end (``static/live_figure.js``, a few kB) re-parses and redraws only
the traces and layout keys whose text changed, and asks the kernel once per
page for plotly.js — the vendored cartesian partial bundle,
:mod:`stratlab.plots.plotlyjs` — draws with ``Plotly.react`` once its element
has a width, and follows every later change of width.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

#: CSS class of the ipywidgets Box holding a live figure (see :func:`figure_box`).
FIGURE_CLASS = "stratlab-figure"

_CSS = (
    f".{FIGURE_CLASS}{{min-width:0;overflow:hidden}}"
    f".{FIGURE_CLASS} > *{{width:100%;min-width:0;flex:1 1 auto}}"
    f".{FIGURE_CLASS} .stratlab-plot{{width:100%;max-width:100%}}"
)
_CONFIG = {"displaylogo": False, "responsive": False}


def _parts(fig: Any) -> tuple[list[str], dict[str, str]]:
    """Each trace and each top-level layout key of ``fig`` as JSON text.

    Serialised straight from the figure's own property dicts (``_data``,
    ``_layout``): ``to_plotly_json`` deep-copies the figure first, which was
    two thirds of the time on a 500-objective map.  numpy arrays become JSON
    lists.
    """
    from plotly.io.json import to_json_plotly

    data, layout = getattr(fig, "_data", None), getattr(fig, "_layout", None)
    if not isinstance(data, list) or not isinstance(layout, dict):  # another plotly
        whole = fig.to_plotly_json()
        data, layout = whole["data"], whole["layout"]
    return (
        [to_json_plotly(trace) for trace in data],
        {key: to_json_plotly(value) for key, value in layout.items()},
    )


def _bundle_of(fig: Any) -> str:
    from stratlab.plots.plotlyjs import choose_bundle

    return choose_bundle("cartesian", {str(t.type or "scatter") for t in fig.data})


@cache
def _widget_class() -> type:
    import anywidget
    import traitlets

    class LiveFigure(anywidget.AnyWidget):
        """A plain plotly figure shown live (see the module docstring)."""

        _esm = (
            resources.files("stratlab.widgets")
            .joinpath("static")
            .joinpath("live_figure.js")
            .read_text(encoding="utf-8")
        )
        _css = _CSS
        _figure = traitlets.Dict().tag(sync=True)
        _bundle = traitlets.Unicode("cartesian").tag(sync=True)

        def __init__(self, fig: Any) -> None:
            self.fig = fig
            self._depth = 0
            self._sent = _parts(fig)
            super().__init__(_figure=self._state(), _bundle=_bundle_of(fig))
            self.on_msg(self._on_msg)

        def _state(self) -> dict[str, Any]:
            data, layout = self._sent
            return {"data": list(data), "layout": dict(layout), "config": _CONFIG}

        @contextlib.contextmanager
        def batch_update(self) -> Iterator[Any]:
            """Change ``self.fig`` inside; what changed is sent once, at the end."""
            self._depth += 1
            try:
                yield self.fig
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.push()

        def show(self, fig: Any) -> None:
            """Show ``fig`` from now on (only what differs from the current figure is sent)."""
            self.fig = fig
            self.push()

        def push(self) -> bool:
            """Bring the synced state up to the figure; True if anything changed.

            The state is replaced whole (an ordinary widget update, which no
            front end misses, however late its model loads); the front end
            re-parses and redraws only the traces and layout keys whose text
            changed.
            """
            sent = _parts(self.fig)
            if sent == self._sent:
                return False
            self._sent = sent
            bundle = _bundle_of(self.fig)
            with self.hold_sync():
                if bundle != self._bundle:
                    self._bundle = bundle
                self._figure = self._state()
            return True

        def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
            if not isinstance(content, dict) or content.get("type") != "plotly-js?":
                return
            from stratlab.plots.plotlyjs import PlotlyBundle, plotly_script

            bundle: PlotlyBundle = "full" if content.get("bundle") == "full" else "cartesian"
            script = plotly_script(bundle).encode("utf-8")
            self.send({"type": "plotly-js", "bundle": bundle}, buffers=[script])

    return LiveFigure


def live_figure(fig: Any) -> Any:
    """A :class:`LiveFigure` widget showing ``fig`` (a plotly ``Figure``, changed in place)."""
    return _widget_class()(fig)


def figure_box(live: Any, **layout: Any) -> Any:
    """An ipywidgets Box holding the live figure ``live``, which the plot fills."""
    import ipywidgets as w

    # a column: its child (the live figure's element) takes the box's whole width
    box = w.VBox([live], layout=w.Layout(min_width="0", **layout))
    box.add_class(FIGURE_CLASS)
    return box


def synced_state(live: Any) -> dict[str, Any]:
    """What a front end connecting now receives, parsed: ``{'data': [...], 'layout': {...}}``."""
    state = live.get_state()["_figure"]
    return {
        "data": [json.loads(text) for text in state["data"]],
        "layout": {key: json.loads(text) for key, text in state["layout"].items()},
    }


def batch(live: Any) -> Any:
    """``live.batch_update()``: change ``live.fig`` inside, one message at the end."""
    return live.batch_update()
