"""The one HTML renderer: rich display of models and results, shared with reports.

Every ``_repr_html_`` in stratlab and the report pages go through the Jinja2
templates shipped in ``stratlab/_html`` (loaded with :class:`jinja2.PackageLoader`,
``autoescape=True``), so every piece of user text — names, units, rationales,
OKR statements — is escaped once, in one place.

The status palette (:data:`STATUS_COLORS`) is also defined here, once, and used
by :mod:`stratlab.plots`: an Okabe–Ito based, colour-blind-safe set, always shown
together with a text label (and, in figures, a marker symbol).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from numbers import Number
from typing import TYPE_CHECKING, Any

from .errors import InputError, Problem

if TYPE_CHECKING:
    import jinja2
    import pandas as pd

    from .model import Model

__all__ = [
    "STATUSES",
    "STATUS_COLORS",
    "STATUS_SYMBOLS",
    "format_value",
    "model_html",
    "render_text",
    "result_html",
    "status_chip",
    "table_html",
]

#: Status names, best first.
STATUSES: tuple[str, ...] = ("green", "amber", "red", "no data")

#: Okabe–Ito bluish green, orange and vermillion, and a neutral grey: distinguishable
#: with the common colour-vision deficiencies and in greyscale print (different
#: lightness), and always paired with a text label.
STATUS_COLORS: dict[str, str] = {
    "green": "#009E73",
    "amber": "#E69F00",
    "red": "#D55E00",
    "no data": "#BBBBBB",
}

#: Text symbols shown beside the status word (HTML chips).
STATUS_SYMBOLS: dict[str, str] = {"green": "●", "amber": "▲", "red": "■", "no data": "○"}

_MAX_ROWS = 60


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("stratlab", "_html"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.globals["palette"] = STATUS_COLORS
    env.globals["symbols"] = STATUS_SYMBOLS
    env.filters["num"] = format_value
    return env


def _render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def render_text(source: str, **context: Any) -> str:
    """Render a Jinja template given as text with stratlab's one environment.

    Autoescaped, strict about undefined names, with the ``palette`` and
    ``symbols`` globals and the ``num`` filter (:func:`format_value`): every HTML
    page and table stratlab writes goes through here or :func:`_render`.
    """
    return str(_env().from_string(source).render(**context))


# --------------------------------------------------------------------------- values


def format_value(value: Any, *, digits: int = 3) -> str:
    """A compact text form of a cell: numbers to ``digits`` significant figures, NaN as ``–``."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Number):
        x = float(value)  # type: ignore[arg-type]
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if x == int(x) and abs(x) < 1e15:
            return str(int(x))
        text = f"{x:.{digits}g}"
        if "e" in text and 1e-12 <= abs(x) < 1e15:  # plain decimals, never 1.2e-05
            decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
            text = f"{x:.{decimals}f}"
        return text
    try:
        import pandas as pd

        if pd.isna(value):
            return "–"
    except (TypeError, ValueError):
        pass
    return str(value)


def _is_numeric(values: Iterable[Any]) -> bool:
    seen = False
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, Number):
            return False
        seen = True
    return seen


@dataclass(frozen=True)
class _Cell:
    text: str
    numeric: bool = False
    status: str | None = None


@dataclass(frozen=True)
class _Column:
    label: str
    numeric: bool


@dataclass(frozen=True)
class _Table:
    columns: list[_Column]
    rows: list[list[_Cell]]
    caption: str | None = None
    omitted: int = 0
    total: int = 0


def _table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    status_column: str | None = None,
    caption: str | None = None,
    max_rows: int | None = _MAX_ROWS,
) -> _Table:
    total = len(rows)
    shown = list(rows) if max_rows is None else list(rows[:max_rows])
    numeric = [_is_numeric(r[j] for r in shown) for j in range(len(columns))]
    cells = []
    for r in shown:
        row = []
        for j, c in enumerate(columns):
            v = r[j]
            if status_column is not None and c == status_column:
                row.append(_Cell("", status=format_value(v)))
            else:
                row.append(_Cell(format_value(v), numeric=numeric[j]))
        cells.append(row)
    cols = [_Column(str(c), numeric[j]) for j, c in enumerate(columns)]
    return _Table(cols, cells, caption, total - len(shown), total)


# --------------------------------------------------------------------------- public


def status_chip(status: str) -> str:
    """An HTML chip for a status: colour, symbol and the status word (escaped)."""
    macros = _env().get_template("_macros.html.j2").module
    return str(macros.chip(status))  # type: ignore[attr-defined]


def table_html(
    frame: pd.DataFrame,
    *,
    title: str | None = None,
    status_column: str | None = "status",
    columns: Sequence[str] | None = None,
    summary: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    max_rows: int | None = _MAX_ROWS,
) -> str:
    """A compact HTML table of a DataFrame, with status chips.

    Parameters
    ----------
    frame : DataFrame
        Any table; its index is dropped unless it is named.
    title : str, optional
        Heading above the table.
    status_column : str or None, default ``'status'``
        Column rendered as coloured status chips (when present).
    columns : list of str, optional
        Columns to show, in this order (default: all).
    summary : mapping, optional
        ``label -> value`` pairs shown above the table.
    notes : list of str
        Short notes shown under the title.
    max_rows : int or None, default 60
        Rows shown; the rest are counted in a note.

    Returns
    -------
    str
        An HTML fragment (a ``<div>``); every cell, label and title is escaped.

    Raises
    ------
    InputError
        ``columns`` names a column the frame lacks.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            Problem(
                f"table_html needs a pandas DataFrame, not {type(frame).__name__}.",
                fix="pass a DataFrame (e.g. the result's .to_frame()).",
            )
        )
    if frame.index.name is not None:
        frame = frame.reset_index()
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError(
                Problem(
                    f"table_html: no column {missing[0]!r} in the frame.",
                    fix=f"choose among {list(map(str, frame.columns))}.",
                )
            )
        frame = frame[list(columns)]
    cols = [str(c) for c in frame.columns]
    rows = frame.itertuples(index=False, name=None)
    limit = None if max_rows is None else max_rows
    data = []
    for i, r in enumerate(rows):
        if limit is not None and i >= limit:
            break
        data.append(list(r))
    sc = status_column if status_column in cols else None
    tbl = _table(cols, data, status_column=sc, max_rows=None)
    tbl = _Table(tbl.columns, tbl.rows, None, len(frame) - len(data), len(frame))
    return _render(
        "table.html.j2",
        title=title,
        summary=[(str(k), format_value(v)) for k, v in (summary or {}).items()],
        notes=list(notes),
        tbl=tbl,
    )


def result_html(
    title: str,
    frame: pd.DataFrame,
    *,
    summary: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    status_column: str | None = "status",
    columns: Sequence[str] | None = None,
    max_rows: int | None = _MAX_ROWS,
) -> str:
    """The standard ``_repr_html_`` of a result object: a title, a summary line and a table.

    Result classes (what-if, simulation, link checks…) call this from their
    ``html()``/``_repr_html_`` so notebooks and reports look the same.  See
    :func:`table_html` for the parameters.
    """
    return table_html(
        frame,
        title=title,
        status_column=status_column,
        columns=columns,
        summary=summary,
        notes=notes,
        max_rows=max_rows,
    )


def model_html(model: Model) -> str:
    """Compact HTML summary of a strategy model (``Model._repr_html_``).

    Objectives are listed by perspective, top perspective first, with their
    measures and OKRs; then the objective links and the OKRs.  All user text
    is escaped.
    """
    measures_of: dict[str, list[str]] = {}
    for m in model.measures:
        measures_of.setdefault(m.objective, []).append(m.name)
    okrs_of: dict[str, list[str]] = {}
    for okr in model.okrs:
        okrs_of.setdefault(okr.aligns_to, []).append(okr.objective)
    persp = {p.id: p.name for p in model.perspectives}
    rows: list[list[Any]] = []
    for p in reversed(model.perspectives):
        for o in model.objectives:
            if o.perspective != p.id:
                continue
            rows.append(
                [
                    persp[p.id],
                    o.name,
                    o.id,
                    o.weight,
                    "; ".join(measures_of.get(o.id, [])) or "–",
                    "; ".join(okrs_of.get(o.id, [])) or "–",
                ]
            )
    objectives = _table(
        ["perspective", "objective", "id", "weight", "measures", "OKRs"],
        rows,
        caption="Objectives (top perspective first)",
    )
    names = {o.id: o.name for o in model.objectives}
    names.update({m.id: m.name for m in model.measures})
    link_rows = [
        [
            names.get(lk.source, lk.source),
            names.get(lk.target, lk.target),
            lk.weight if lk.weight is not None else lk.coefficient,
            "driver (coefficient)"
            if lk.kind == "driver"
            else ("inverse" if (lk.weight or 0) < 0 else "objective"),
            lk.lag,
            lk.rationale or "",
        ]
        for lk in model.links
    ]
    links = _table(
        ["cause", "effect", "weight", "kind", "lag", "rationale"], link_rows, caption="Links"
    )
    okr_rows = [
        [
            o.objective,
            names.get(o.aligns_to, o.aligns_to),
            len(o.key_results),
            o.owner or "",
        ]
        for o in model.okrs
    ]
    okrs = _table(["OKR", "aligns to", "key results", "owner"], okr_rows, caption="OKRs")
    counts = [
        ("period", model.period),
        ("perspectives", len(model.perspectives)),
        ("objectives", len(model.objectives)),
        ("measures", len(model.measures)),
        ("links", len(model.links)),
        ("OKRs", len(model.okrs)),
        ("key results", len(model.key_results)),
        ("initiatives", len(model.initiatives)),
    ]
    return _render(
        "model.html.j2",
        name=model.name,
        mission=model.mission,
        vision=model.vision,
        counts=counts,
        objectives=objectives,
        links=links,
        okrs=okrs,
    )
