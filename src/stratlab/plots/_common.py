"""Shared plotting helpers: palette, escaping, number formats, layout defaults."""

from __future__ import annotations

import copy
import functools
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from ..model import Model
    from ..typing import HistoryLike


#: Marker symbol of each status (shape doubles the colour).
STATUS_SYMBOLS: dict[str, str] = {
    "green": "circle",
    "amber": "diamond",
    "red": "square",
    "no data": "circle-open",
}

#: Link verdict colours (same CVD-safe family as the status palette).
VERDICT_COLORS: dict[str, str] = {
    "supported": "#009E73",
    "not supported": "#E69F00",
    "underpowered": "#56B4E9",
    "contradicted": "#D55E00",
    "untestable": "#999999",
}
VERDICT_DASH = {
    "supported": "solid",
    "not supported": "dash",
    "underpowered": "dashdot",
    "contradicted": "solid",
    "untestable": "dot",
}

LINK_COLOR = "#4D4D4D"
INVERSE_COLOR = "#CC79A7"  # Okabe–Ito reddish purple
BAND_FILLS = ("#F2F2F2", "#FFFFFF")
QUALITATIVE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
_FONT = {"family": "Arial, Helvetica, sans-serif", "size": 12, "color": "#222222"}


# --------------------------------------------------------------------------- helpers


def esc(text: Any) -> str:
    """HTML-escape user text for a plotly label or hover (``None`` → empty).

    Quotes become numeric entities (``&#34;``, ``&#x27;``): plotly.js decodes
    those in labels, but shows a named ``&quot;`` literally.
    """
    return "" if text is None else html.escape(str(text), quote=True).replace("&quot;", "&#34;")


def fmt_num(x: Any, digits: int = 3) -> str:
    from ..render import format_value

    return format_value(x, digits=digits)


def wrap_label(text: str, width: int = 18) -> str:
    """Escape and wrap a label on word boundaries with ``<br>``."""
    words = str(text).split()
    lines: list[str] = []
    line = ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    if line:
        lines.append(line)
    return "<br>".join(esc(x) for x in lines)


# The parts of plotly's "plotly_white" template that 2-D charts read: every figure
# carries its template, and the full one (3-D scenes, maps, polar, 40 trace types) is
# 7 kB of JSON per figure in a saved review.
_TEMPLATE_LAYOUT = (
    "annotationdefaults",
    "autotypenumbers",
    "coloraxis",
    "colorscale",
    "colorway",
    "font",
    "hoverlabel",
    "hovermode",
    "paper_bgcolor",
    "plot_bgcolor",
    "shapedefaults",
    "title",
    "xaxis",
    "yaxis",
)
_TEMPLATE_TRACES = ("bar", "heatmap", "histogram", "scatter")


@functools.cache
def _white_template() -> dict[str, Any]:
    """plotly's ``plotly_white``, cut to what 2-D charts use, read from plotly's own file.

    The same dict as cutting ``pio.templates["plotly_white"].to_plotly_json()``
    (a test checks it), without building and validating plotly's whole
    template first (0.2-0.4 s of every review kernel).
    """
    import json
    from importlib import resources

    try:
        text = (
            resources.files("plotly")
            .joinpath("package_data/templates/plotly_white.json")
            .read_text(encoding="utf-8")
        )
        full = json.loads(text)
    except (OSError, ValueError):  # pragma: no cover - plotly moved its templates
        import plotly.io as pio

        full = pio.templates["plotly_white"].to_plotly_json()
    return {
        "layout": {k: v for k, v in full["layout"].items() if k in _TEMPLATE_LAYOUT},
        "data": {k: v for k, v in full["data"].items() if k in _TEMPLATE_TRACES},
    }


def white_template() -> dict[str, Any]:
    """plotly's ``plotly_white`` template, cut to what 2-D (cartesian) charts use (a copy)."""
    return copy.deepcopy(_white_template())


#: the name :func:`use_white_template` registers the template under in ``plotly.io.templates``
WHITE_TEMPLATE = "stratlab_white"


def use_white_template() -> None:
    """Make :func:`white_template` plotly's default template, unless the default was changed.

    Every stratlab chart sets that template (:func:`apply_layout`); a new
    figure first gets plotly's default, which plotly builds the first time
    (its ``plotly`` template: 0.1-0.2 s of a review kernel) only for it to be
    replaced.  A default chosen by the user (anything but ``plotly``) is kept.
    """
    import plotly.graph_objects as go
    import plotly.io as pio

    if pio.templates.default != "plotly":
        return
    pio.templates[WHITE_TEMPLATE] = go.layout.Template(white_template(), _validate=False)
    pio.templates.default = WHITE_TEMPLATE


def apply_layout(
    fig: go.Figure, title: str | None, *, margin: dict[str, Any] | None = None, **extra: Any
) -> None:
    """Give ``fig`` stratlab's look: plotly's white template, the title, font and margins.

    ``margin`` overrides single sides of the default margins; ``extra`` is any
    other layout (``height``, ``xaxis``, ``sliders``...), merged into the
    figure's current layout as ``update_layout`` would merge it.
    """
    layout = look(title, margin=margin, **extra)
    if getattr(fig, "_in_batch_mode", False) or hasattr(fig, "_view_count"):
        # a FigureWidget, or a figure in a batch: through plotly, whose front end follows
        fig.layout.template = white_template()
        fig.update_layout(**layout)
        return
    # A plain figure gets its whole layout at once, validated as plotly's constructor
    # validates it: update_layout validates the same but takes about six times as long
    # (~10 ms a figure).
    current = fig.layout.to_plotly_json()
    current.pop("template", None)
    fig.layout = _merged(current, layout)
    # the template is plotly's own, valid as it is: set without plotly's per-property
    # validation, as plotly does itself when it builds figures from known-good dicts
    checked = fig.layout._validate
    fig.layout._validate = False
    try:
        fig.layout.template = white_template()
    finally:
        fig.layout._validate = checked


def look(
    title: str | None, *, margin: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """The layout :func:`apply_layout` gives (without the template), as a dict."""
    return {
        "title": {"text": esc(title) if title else None, "x": 0.01, "xanchor": "left"},
        "font": _FONT,
        "margin": {"l": 60, "r": 20, "t": 60 if title else 30, "b": 40, **(margin or {})},
        "hoverlabel": {"align": "left"},
        **extra,
    }


def line_across(axis: str, at: float, line: dict[str, Any]) -> dict[str, Any]:
    """A line across the plot at ``x = at`` (``axis='x'``: vertical) or ``y = at``
    (``'y'``: horizontal): the shape plotly's ``add_vline`` / ``add_hline`` draw."""
    if axis == "x":
        span = {"x0": at, "x1": at, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain"}
    else:
        span = {"x0": 0, "x1": 1, "xref": "x domain", "y0": at, "y1": at, "yref": "y"}
    return {"type": "line", **span, "line": line}


def line_label(axis: str, at: float, text: str) -> dict[str, Any]:
    """The label plotly's ``add_vline`` (``axis='x'``, at the top right) or ``add_hline``
    (``'y'``, at the top left) put on a line drawn by :func:`line_across`."""
    if axis == "x":
        place = {
            "x": at,
            "xanchor": "left",
            "xref": "x",
            "y": 1,
            "yanchor": "top",
            "yref": "y domain",
        }
    else:
        place = {
            "x": 0,
            "xanchor": "left",
            "xref": "x domain",
            "y": at,
            "yanchor": "bottom",
            "yref": "y",
        }
    return {"showarrow": False, "text": text, **place}


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``changes`` as plotly's ``update`` does: dicts merged key by key,
    anything else (values, lists) replaced."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def need_columns(frame: Any, columns: Sequence[str], where: str) -> pd.DataFrame:
    import pandas as pd

    if hasattr(frame, "to_frame") and not isinstance(frame, pd.DataFrame | pd.Series):
        frame = frame.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            Problem(
                f"{where} needs a DataFrame, not {type(frame).__name__}.",
                fix=f"pass a DataFrame with the columns {', '.join(columns)}.",
            )
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            Problem(
                f"{where}: the frame has no column {', '.join(map(repr, missing))}.",
                fix=f"pass the frame returned by the matching stratlab function (columns {', '.join(columns)}).",
            )
        )
    return frame


def status_name(score: float, green: float, amber: float) -> str:
    if score is None or not np.isfinite(score):
        return "no data"
    return "green" if score >= green else "amber" if score >= amber else "red"


def scores_frame(model: Model, scores: Any, history: HistoryLike | None = None) -> pd.DataFrame:
    """A score frame indexed by id with ``name, score, status`` (+ the rest when given).

    Accepts the frame of :func:`stratlab.score`, a what-if frame (``after`` is
    used as the score) or None (the model is scored).
    """
    import pandas as pd

    if scores is None:
        from ..scoring import score

        frame = score(model, history)
    else:
        if hasattr(scores, "to_frame") and not isinstance(scores, pd.DataFrame):
            scores = scores.to_frame()
        if not isinstance(scores, pd.DataFrame) or "id" not in scores.columns:
            raise InputError(
                Problem(
                    "scores must be the DataFrame of stratlab.score (or of whatif).",
                    fix="pass stratlab.score(model, history), or leave scores out.",
                )
            )
        frame = scores.copy()
        if "score" not in frame.columns:
            if "after" not in frame.columns:
                raise InputError(
                    Problem(
                        "scores has neither a 'score' nor an 'after' column.",
                        fix="pass stratlab.score(model, history) or a what-if frame.",
                    )
                )
            frame["score"] = frame["after"]
        if "status" not in frame.columns or "after" in frame.columns:
            frame["status"] = [
                status_name(s, *thresholds_of(model, i))
                for i, s in zip(frame["id"], frame["score"], strict=True)
            ]
    return frame.set_index("id", drop=False)


def thresholds_of(model: Model, node_id: str) -> tuple[float, float]:
    th = model.status_thresholds(node_id) if node_id in model else model.thresholds
    return th.green, th.amber


def kpi_panels(model: Model, history: Any, ids: Any, where: str) -> tuple[pd.DataFrame, list[str]]:
    """The history (loaded if it is a path) and the measure/key-result ids to draw one panel each.

    Default ids: the measures with data, at most 24.  InputError for an id that is
    not a measure or key result, has no column, or when nothing is left to plot.
    """
    import pandas as pd

    from ..io import load_history

    if not (isinstance(history, pd.DataFrame) and isinstance(history.index, pd.PeriodIndex)):
        history = load_history(history, model)
    if ids is None:
        ids = [m.id for m in model.measures if m.id in history and history[m.id].notna().any()][:24]
    ids = list(ids)
    bad = [i for i in ids if i not in model or model.kind_of(i) not in ("measure", "key_result")]
    if bad:
        raise InputError(
            Problem(
                f"{where}: {bad[0]!r} is not a measure or key result of the model.",
                fix="pass ids of measures or key results (see model.measures).",
            )
        )
    nocol = [i for i in ids if i not in history.columns]
    if nocol:
        raise InputError(
            Problem(
                f"{where}: the history has no column {nocol[0]!r}.",
                fix="choose ids that have data in the history.",
            )
        )
    if not ids:
        raise InputError(
            Problem(f"{where}: nothing to plot.", fix="give a history with measure columns.")
        )
    return history, ids
