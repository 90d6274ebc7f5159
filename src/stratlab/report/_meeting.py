"""The tables a review meeting is run from: the room scorecard, actions, SPC signals.

Each has a DataFrame builder with fixed columns and an HTML renderer (Jinja
with autoescape: every user string is escaped).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SCORECARD_COLUMNS",
    "SIGNAL_COLUMNS",
    "actions_html",
    "review_period",
    "scorecard_html",
    "scorecard_table",
    "signals_html",
    "spc_signals",
]

#: Columns of :func:`scorecard_table`, in order.
SCORECARD_COLUMNS = [
    "perspective",
    "kind",
    "id",
    "name",
    "owner",
    "unit",
    "value",
    "target",
    "score",
    "status",
    "previous",
    "change",
    "trend",
    "as_of",
    "stale",
    "coverage",
    "benchmark",
    "benchmark_label",
    "comment",
]
#: Columns of :func:`spc_signals`, in order.
SIGNAL_COLUMNS = ["id", "name", "unit", "value", "centre", "lower", "upper", "kind", "rule"]

_STATUS_ORDER = {"red": 0, "amber": 1, "green": 2, "no data": 3}
_TREND_COLORS = {"better": "#009E73", "worse": "#D55E00", "flat": "#6E6E6E"}
_ARROWS = {"up": "▲", "down": "▼", "flat": "▶"}


def review_period(history: pd.DataFrame | None, period: Any = None) -> Any:
    """The review period as a ``pandas.Period`` (default: the history's last), or None."""
    import pandas as pd

    if period is not None:
        if history is not None and isinstance(history.index, pd.PeriodIndex):
            from stratlab.periods import as_freq, period_arg

            return as_freq(period_arg(period), history.index.freqstr)
        return period
    if history is None or not len(history):
        return None
    return history.index[-1]


def _trend(direction: str | None, change: float, value: float, band: Any) -> str:
    if change is None or math.isnan(change):
        return ""
    if change == 0:
        return "flat"
    if direction == "band" and band:
        mid = (band[0] + band[1]) / 2
        before = abs(value - change - mid)
        return "better" if abs(value - mid) < before else "worse"
    up_is_good = direction != "lower"
    return "better" if (change > 0) == up_is_good else "worse"


def scorecard_table(
    model: Any,
    history: Any,
    *,
    period: Any = None,
    comments: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Objectives and their measures for the review meeting, by perspective then status.

    Parameters
    ----------
    model : Model or path
    history : DataFrame, path or None
    period : period label, optional
        The review period (default: the history's last).
    comments : DataFrame, optional
        :func:`stratlab.comments.load_comments` output; the comments for the
        review period fill the ``comment`` column.
    scores : DataFrame, optional
        ``stratlab.score(model, history, period=period)`` when already
        computed (saves scoring the review period again).

    Returns
    -------
    pandas.DataFrame
        Rows: per perspective (top first, as in :func:`stratlab.score`), its
        objectives worst status first,
        each followed by its measures worst status first.  Columns in order:
        ``perspective, kind, id, name, owner, unit, value, target`` (the target
        in force), ``score, status, previous`` (last period's value; for an
        objective, its score), ``change`` (value − previous), ``trend``
        (``better``/``worse``/``flat`` for the measure's direction; empty
        without a previous value), ``as_of, stale, coverage, benchmark,
        benchmark_label, comment``.
    """
    import pandas as pd

    from stratlab.comments import comments_for
    from stratlab.io import load_history, load_model
    from stratlab.scoring import score

    model = load_model(model)
    if history is not None and not (
        isinstance(history, pd.DataFrame) and isinstance(history.index, pd.PeriodIndex)
    ):
        history = load_history(history, model)
    now = review_period(history, period)
    if scores is None:
        scores = score(model, history, period=None if now is None else str(now))
    previous = None
    if history is not None and now is not None and (now - 1) in history.index:
        previous = score(model, history, period=str(now - 1)).set_index("id")
    said = comments_for(comments, now)
    persp_names = {p.id: p.name for p in model.perspectives}
    by_id = scores.set_index("id")
    rows: list[dict[str, Any]] = []

    def row(node_id: str, kind: str) -> dict[str, Any]:
        s = by_id.loc[node_id]
        item = model.get(node_id)
        if kind == "measure":
            value = float(s["value"])
            prev = float(previous.loc[node_id, "value"]) if previous is not None else math.nan
        else:
            value = float(s["score"])
            prev = float(previous.loc[node_id, "score"]) if previous is not None else math.nan
        change = value - prev
        bench = getattr(item, "benchmark", None)
        return {
            "perspective": persp_names.get(str(s["perspective"]), s["perspective"]),
            "kind": kind,
            "id": node_id,
            "name": item.name,
            "owner": getattr(item, "owner", None) or "",
            "unit": getattr(item, "unit", "") or "",
            "value": value if kind == "measure" else math.nan,
            "target": float(s["target"]) if kind == "measure" else math.nan,
            "score": float(s["score"]),
            "status": s["status"],
            "previous": prev,
            "change": change,
            "trend": _trend(
                getattr(item, "direction", "higher"), change, value, getattr(item, "band", None)
            ),
            "as_of": s.get("as_of", None) if kind == "measure" else None,
            "stale": bool(s.get("stale", False)) if kind == "measure" else False,
            "coverage": float(s["coverage"]) if kind == "objective" else math.nan,
            "benchmark": float(bench.value) if bench is not None else math.nan,
            "benchmark_label": (bench.label or "benchmark") if bench is not None else "",
            "comment": said.get(node_id, ""),
        }

    def status_key(r: dict[str, Any]) -> tuple[int, float]:
        sc = r["score"]
        return (_STATUS_ORDER.get(str(r["status"]), 4), sc if sc == sc else math.inf)

    for persp in reversed(model.perspectives):  # the top perspective first
        objectives = [row(o.id, "objective") for o in model.objectives if o.perspective == persp.id]
        for obj in sorted(objectives, key=status_key):
            rows.append(obj)
            measures = [row(m.id, "measure") for m in model.measures if m.objective == obj["id"]]
            rows.extend(sorted(measures, key=status_key))
    frame = pd.DataFrame(rows, columns=SCORECARD_COLUMNS)
    frame.attrs["period"] = None if now is None else str(now)
    frame.attrs["previous"] = None if previous is None or now is None else str(now - 1)
    return frame


def _render(source: str, **context: Any) -> str:
    """Render with stratlab's one Jinja environment, plus the trend colours and arrows."""
    from stratlab.render import render_text

    return render_text(source, trend_colors=_TREND_COLORS, arrows=_ARROWS, **context)


_STYLE = """<style>
.sl-room{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:13px;color:#222}
.sl-room table{border-collapse:collapse;margin:2px 0 8px;width:100%}
.sl-room th,.sl-room td{padding:3px 7px;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}
.sl-room thead th{background:#f3f3f3;border-bottom:1px solid #bdbdbd;white-space:nowrap}
.sl-room .sl-num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.sl-room .sl-persp td{background:#eef3f8;font-weight:600;border-top:2px solid #c9d6e3}
.sl-room .sl-objective td{font-weight:600}
.sl-room .sl-measure td.sl-name{padding-left:22px}
.sl-room .sl-chip{display:inline-block;padding:0 6px;border-radius:8px;color:#000;font-size:12px;white-space:nowrap}
.sl-room .sl-trend{font-weight:600;white-space:nowrap}
.sl-room .sl-stale{color:#8a5a00;background:#fff3d6;border-radius:6px;padding:0 5px;font-size:11px;margin-left:4px}
.sl-room .sl-overdue{color:#fff;background:#D55E00;border-radius:6px;padding:0 5px;font-size:11px;margin-left:4px}
.sl-room .sl-comment{color:#333;font-style:italic;max-width:28em}
.sl-room .sl-muted{color:#777}
.sl-room .sl-asof{white-space:nowrap}
.sl-room caption{text-align:left;font-weight:600;font-size:15px;padding:2px 0 4px}
</style>"""

_SCORECARD = (
    _STYLE
    + """<div class="sl-room"><table class="sl-scorecard">
{%- if caption %}<caption>{{ caption }}</caption>{% endif %}
<thead><tr><th>Objective / measure</th><th>Owner</th><th class="sl-num">Value</th>
<th class="sl-num">Target</th><th class="sl-num">Score</th><th>Status</th>
<th>Change{% if previous %} since {{ previous }}{% endif %}</th><th>As of</th>
<th class="sl-num">Benchmark</th><th>Comment</th></tr></thead><tbody>
{%- set ns = namespace(persp=None) %}
{%- for r in rows %}
{%- if r.perspective != ns.persp %}{% set ns.persp = r.perspective %}
<tr class="sl-persp"><td colspan="10">{{ r.perspective }}</td></tr>{% endif %}
<tr class="sl-{{ r.kind }}" data-id="{{ r.id }}">
<td class="sl-name">{{ r.name }}</td>
<td>{{ r.owner or '' }}</td>
<td class="sl-num">{% if r.kind == 'measure' %}{{ r.value | num }}{% if r.unit %} <span class="sl-muted">{{ r.unit }}</span>{% endif %}{% endif %}</td>
<td class="sl-num">{% if r.kind == 'measure' %}{{ r.target | num }}{% endif %}</td>
<td class="sl-num">{{ r.score | num }}{% if r.kind == 'objective' and r.coverage == r.coverage and r.coverage < 0.995 %} <span class="sl-muted" title="share of the objective's inputs with data">({{ (r.coverage * 100) | round | int }}% covered)</span>{% endif %}</td>
<td><span class="sl-chip" style="background:{{ palette.get(r.status, palette['no data']) }}">{{ symbols.get(r.status, '') }} {{ r.status }}</span></td>
<td>{% if r.trend %}<span class="sl-trend sl-{{ r.trend }}" style="color:{{ trend_colors[r.trend] }}" title="{{ r.trend }} than {{ previous }}">{{ arrows['up'] if r.change > 0 else (arrows['down'] if r.change < 0 else arrows['flat']) }} {{ ('%+.2f' if r.kind == 'objective' else '%+.3g') | format(r.change) }}</span> <span class="sl-muted">{{ r.trend }}</span>{% endif %}</td>
<td class="sl-asof">{% if r.as_of %}{{ r.as_of }}{% endif %}{% if r.stale %}<span class="sl-stale" title="the value is carried from an earlier period">stale</span>{% endif %}</td>
<td class="sl-num">{% if r.benchmark == r.benchmark %}{{ r.benchmark | num }} <span class="sl-muted">{{ r.benchmark_label }}</span>{% endif %}</td>
<td class="sl-comment">{{ r.comment }}</td>
</tr>
{%- endfor %}
</tbody></table></div>"""
)


def scorecard_html(frame: pd.DataFrame, *, caption: str | None = None) -> str:
    """The room scorecard as HTML: status chips, coloured trend arrows, stale marks, comments.

    ``frame`` is :func:`scorecard_table` output.  Every user string is escaped.
    """
    rows = frame.to_dict("records")
    for r in rows:
        as_of = r.get("as_of")
        r["as_of"] = "" if as_of is None or as_of != as_of else str(as_of)
    return _render(_SCORECARD, rows=rows, caption=caption, previous=frame.attrs.get("previous"))


_ACTIONS = (
    _STYLE
    + """<div class="sl-room"><table class="sl-actions">
{%- if caption %}<caption>{{ caption }}</caption>{% endif %}
<thead><tr><th>Action</th><th>About</th><th>Owner</th><th>Due</th><th>Raised</th></tr></thead><tbody>
{%- for r in rows %}
<tr{% if r.overdue %} class="sl-is-overdue"{% endif %}><td>{{ r.action }}</td><td>{{ r.name }}</td><td>{{ r.owner }}</td>
<td class="sl-num">{{ r.due }}{% if r.overdue %}<span class="sl-overdue">overdue</span>{% endif %}</td><td>{{ r.period }}</td></tr>
{%- endfor %}
</tbody></table></div>"""
)


def actions_html(actions: pd.DataFrame, *, caption: str | None = "Open actions") -> str:
    """Open actions (:func:`stratlab.comments.open_actions`) as HTML, overdue ones marked."""
    if not len(actions):
        return '<p class="sl-muted">No open actions.</p>'
    rows = actions.to_dict("records")
    for r in rows:
        due = r["due"]
        r["due"] = "" if due is None or due != due else due.strftime("%Y-%m-%d")
        r["period"] = str(r["period"])
    return _render(_ACTIONS, rows=rows, caption=caption)


def spc_signals(model: Any, history: Any, *, period: Any = None) -> pd.DataFrame:
    """The XmR signals of the review period, one row per measure that signals.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, name, unit, value, centre, lower, upper, kind, rule``:
        ``kind`` is ``improvement``/``concern`` by the measure's direction
        (``signal`` for band measures), ``rule`` the rules broken
        (:func:`stratlab.spc`).
    """
    import pandas as pd

    from stratlab.io import load_model
    from stratlab.plots.spc import signal_kind
    from stratlab.stats.spc import spc

    model = load_model(model)
    now = review_period(history, period)
    ids = [m.id for m in model.measures if history is not None and m.id in history.columns]
    if now is None or not ids:
        return pd.DataFrame(columns=SIGNAL_COLUMNS)
    upto = history.loc[:now]
    table = spc(upto, [i for i in ids if upto[i].notna().any()])
    hits = table[(table["period"] == now) & table["signal"]]
    rows = []
    for r in hits.itertuples(index=False):
        item = model.get(str(r.measure))
        rows.append(
            {
                "id": r.measure,
                "name": item.name,
                "unit": item.unit,
                "value": r.value,
                "centre": r.centre,
                "lower": r.lower,
                "upper": r.upper,
                "kind": signal_kind(item.direction, float(r.value), float(r.centre)),
                "rule": r.rule,
            }
        )
    return pd.DataFrame(rows, columns=SIGNAL_COLUMNS)


def signals_html(signals: pd.DataFrame, *, period: Any = None) -> str:
    """The "signals this period" table (escaped), or a sentence when there are none."""
    from stratlab.render import table_html

    if not len(signals):
        return (
            '<p class="sl-muted">No process-behaviour signal this period: every KPI '
            "moved within its natural process limits (common-cause variation).</p>"
        )
    title = f"XmR signals in {period}" if period is not None else "XmR signals"
    return table_html(
        signals,
        columns=["name", "unit", "value", "centre", "lower", "upper", "kind", "rule"],
        title=title,
        status_column=None,
    )
