"""Scores, status and the roll-up up the strategy map (DESIGN.md, "The analysis").

* A measure scores ``(value − baseline) / (target − baseline)`` (the same formula
  serves ``higher`` and ``lower``); a ``band`` measure scores 1 inside
  ``[lo, hi]`` and falls linearly to 0 at ``tolerance`` outside.  Scores are
  clipped to ``[0, cap]``.
* A key result grades ``(current − start) / (target − start)`` clipped to [0, 1];
  an OKR is the weighted mean of its key results and of the OKRs aligned to it.
* An objective is the normalised weighted combination of its measures, aligned
  OKRs and incoming links (see :mod:`stratlab.engine`); a perspective the
  weighted mean of its objectives.
* Status: green ≥ 0.7, amber ≥ 0.4, red below; thresholds overridable in the
  model and per measure.  No score → ``no data``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .engine import (
    Compiled,
    check_history,
    compile_model,
    leaf_values,
    objective_history,
    review_history,
    review_values,
    rolled_history,
    rollup_all,
    score_kr_values,
    score_measure_values,
    staleness,
    status_of,
)
from .errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from .model import Model, Thresholds
    from .typing import HistoryLike, ModelLike

__all__ = [
    "MOVER_COLUMNS",
    "SCORE_COLUMNS",
    "movers",
    "score",
    "score_history",
    "score_measure_values",
    "scores_to_date",
    "status_of",
]

SCORE_COLUMNS = [
    "id",
    "kind",
    "name",
    "perspective",
    "parent",
    "value",
    "baseline",
    "target",
    "score",
    "status",
    "status_rule",
    "coverage",
    "unit",
    "owner",
    "as_of",
    "stale",
]

MOVER_COLUMNS = ["id", "kind", "name", "previous", "score", "change", "status", "since"]


# --------------------------------------------------------------------------- public API


def score(
    model: ModelLike, history: HistoryLike | None = None, *, period: Any = None
) -> pd.DataFrame:
    """Score every node of the strategy map.

    Parameters
    ----------
    model : Model, path or mapping
        The strategy model (see :func:`stratlab.load_model`).
    history : DataFrame or path, optional
        KPI history (see :func:`stratlab.load_history`).  Measures without a
        ``current`` value take their latest value in the history; lagged links
        read their cause from the scored history (each earlier period scored as
        ``score(period=...)`` scores it: the latest value at or before it, no
        ``current``).  Without a history lagged links are read in the steady
        state (the cause's current score).
    period : str or Period, optional
        Score as of this period of the history (default: the latest), written
        as any period label (``2025Q3``, ``2025-07``, ``Jul-2025``, a date).  A
        period coarser than the history (``2025Q3`` on monthly data) scores
        its months brought together by each measure's ``aggregate`` rule
        (``last``: the latest value reported by the period's end; ``mean``,
        ``sum``, ``min``, ``max`` of the values reported inside it); lagged
        links then count periods of that frequency.  The model's ``current``
        values describe the latest period and take precedence there; an
        earlier period is scored from the history alone (the latest value at
        or before it).

    Returns
    -------
    pandas.DataFrame
        One row per node (perspectives top first, objectives, measures, OKRs,
        key results), columns in this order:

        ``id, kind, name, perspective, parent, value, baseline, target, score,
        status, status_rule, coverage, unit, owner, as_of, stale``

        ``value`` is the measure or key-result value used; ``baseline``/``target``
        are the measure's (``target`` is the target in force for the period:
        phased ``targets``; a key result's ``start``/``target``; a band
        measure's band); ``status_rule`` says which threshold gave the status;
        ``coverage`` is the share of an objective's, OKR's or perspective's input
        weight that had a score; ``unit`` is a measure's or key result's unit
        (``""`` elsewhere); ``owner`` the node's owner (a key result's: its
        OKR's; None where there is none); ``as_of`` the period a measure's or
        key result's value comes from (str; the review period for ``current``
        values, the model's ``as_of`` without a history; None without a value
        and for other nodes); ``stale`` (bool) is True when ``as_of`` lies more
        than ``max_age`` periods before the scored period, counted in the KPI's
        own frequency (a quarterly KPI in a monthly history counts quarters).
        ``attrs["period"]`` names the scored period.
    """
    import pandas as pd

    from .io import load_model

    model = load_model(model)
    hist = None if history is None else check_history(model, history)
    compiled = compile_model(model)
    hist, at, m_values, k_values, m_asof, k_asof = review_values(model, hist, period)
    m_scores = score_measure_values(model, m_values, at=at)
    k_scores = score_kr_values(model, k_values)
    lagged = None
    if (
        hist is not None
        and compiled.links
        and any(lag > 0 for lag in compiled.links)
        and at is not None
    ):
        # each earlier period as score() sees it: the latest value at or before it
        sh = objective_history(model, hist.loc[:at].ffill())
        lagged = {
            lag: sh[-1 - lag] if len(sh) > lag else np.full(len(compiled.objectives), np.nan)
            for lag in compiled.links
            if lag > 0
        }
    rolled = rollup_all(compiled, m_scores, k_scores, lagged=lagged)
    frame = _frame(model, compiled, m_values, k_values, m_scores, k_scores, rolled, pd, at=at)
    leaf_ids = [m.id for m in model.measures] + [k.id for k in model.key_results]
    asof = dict(zip(leaf_ids, m_asof + k_asof, strict=True))
    stale = dict(
        zip(
            leaf_ids,
            staleness(model, hist, at, model.measures, m_asof)
            + staleness(model, hist, at, model.key_results, k_asof),
            strict=True,
        )
    )
    pairs = list(zip(frame["id"], frame["kind"], strict=True))
    text = {  # object columns: None stays None (pandas would make missing text NaN)
        "unit": [_unit_of(model, i, k) for i, k in pairs],
        "owner": [_owner_of(model, i, k) for i, k in pairs],
        "as_of": [None if asof.get(i) is None else str(asof[i]) for i, _ in pairs],
    }
    for col, values in text.items():
        frame[col] = pd.Series(values, index=frame.index, dtype=object)
    frame["stale"] = np.array([stale.get(i, False) for i in frame["id"]], dtype=bool)
    frame.attrs["period"] = None if at is None else str(at)
    return frame


def score_history(
    model: ModelLike, history: HistoryLike, *, rollup: bool = True, freq: str | None = None
) -> pd.DataFrame:
    """The score of every node for every period of the history.

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path
    rollup : bool, default True
        With True, objectives are rolled up as in :func:`score`, lagged links
        reading earlier periods.  With False, objectives are scored from their own
        measures and OKRs only — the evidence to test links with, free of the
        links themselves.
    freq : {'M', 'Q', 'Y'}, optional
        Score at this frequency: a finer history is first brought to it by each
        measure's ``aggregate`` rule (so ``freq='Q'`` on monthly data scores
        each quarter as ``score(period='2025Q3')`` reads it).  Default: the
        history's own.

    Each period is scored against the targets in force then (phased ``targets``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period``; one column per node id in the order perspectives,
        objectives, measures, OKRs, key results; scores (NaN where there is none).
    """
    import pandas as pd

    from .io import load_model

    model = load_model(model)
    hist = check_history(model, history)
    if freq is not None and len(hist):
        from .periods import aggregate_frame, coarser, freq_code

        if coarser(freq_code(freq), freq_code(hist.index.freqstr)):
            hist = aggregate_frame(
                hist, freq_code(freq), {m.id: m.aggregate for m in model.measures}
            )
    compiled = compile_model(model)
    rolled = rolled_history(model, hist, links=rollup)
    m_all, k_all, rows = rolled.measures, rolled.key_results, rolled.rows
    objs = [row["objective"] for row in rows]
    data = {}
    persp = np.array([r["perspective"] for r in rows]).reshape(len(rows), -1)
    for i, pid in enumerate(compiled.perspectives):
        data[pid] = persp[:, i]
    obj = np.array(objs).reshape(len(rows), -1)
    for i, oid in enumerate(compiled.objectives):
        data[oid] = obj[:, i]
    for i, mid in enumerate(compiled.measures):
        data[mid] = m_all[:, i]
    okr = np.array([r["okr"] for r in rows]).reshape(len(rows), -1)
    for i, kid in enumerate(compiled.okrs):
        data[kid] = okr[:, i]
    for i, rid in enumerate(compiled.key_results):
        data[rid] = k_all[:, i]
    out = pd.DataFrame(data, index=hist.index)
    out.index.name = "period"
    return out


class _Row(NamedTuple):
    """One node's row of the score table, before status and rule are added."""

    id: str
    kind: str
    name: str
    perspective: str | None
    parent: str | None
    value: float
    baseline: float | None
    target: float | None
    score: float
    thresholds: Thresholds
    coverage: float


def _rows(
    model: Model,
    m_values: np.ndarray,
    k_values: np.ndarray,
    m_scores: np.ndarray,
    k_scores: np.ndarray,
    rolled: dict[str, Any],
    at: Any,
) -> list[_Row]:
    """Every node's row, in score()'s order: perspectives top first, objectives, measures, OKRs, KRs."""
    th, nan = model.thresholds, np.nan
    rows = [
        _Row(p.id, "perspective", p.name, p.id, None, nan, nan, nan,
             rolled["perspective"][i], th, rolled["perspective_coverage"][i])
        for i, p in reversed(list(enumerate(model.perspectives)))
    ]  # fmt: skip
    rows += [
        _Row(o.id, "objective", o.name, o.perspective, o.perspective, nan, nan, nan,
             rolled["objective"][i], th, rolled["objective_coverage"][i])
        for i, o in enumerate(model.objectives)
    ]  # fmt: skip
    for i, m in enumerate(model.measures):
        lo, hi = m.band if m.band else (m.baseline, m.target_at(at))
        rows.append(
            _Row(m.id, "measure", m.name, model.get(m.objective).perspective, m.objective,
                 m_values[i], lo, hi, m_scores[i], model.status_thresholds(m.id), nan)
        )  # fmt: skip
    rows += [
        _Row(okr.id, "okr", okr.objective, model.perspective_of(okr.id), okr.aligns_to,
             nan, nan, nan, rolled["okr"][i], th, rolled["okr_coverage"][i])
        for i, okr in enumerate(model.okrs)
    ]  # fmt: skip
    rows += [
        _Row(kr.id, "key_result", kr.name, model.perspective_of(kr.id), kr.okr,
             k_values[i], kr.start, kr.target, k_scores[i], th, nan)
        for i, kr in enumerate(model.key_results)
    ]  # fmt: skip
    return rows


def _frame(
    model: Model,
    compiled: Compiled,
    m_values: np.ndarray,
    k_values: np.ndarray,
    m_scores: np.ndarray,
    k_scores: np.ndarray,
    rolled: dict[str, Any],
    pd: Any,
    *,
    at: Any = None,
) -> pd.DataFrame:
    rows = _rows(model, m_values, k_values, m_scores, k_scores, rolled, at)

    def floats(values: Any) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    scores = floats(r.score for r in rows)
    green = np.array([r.thresholds.green for r in rows])
    amber = np.array([r.thresholds.amber for r in rows])
    status = status_of(scores, green, amber)
    ids = [r.id for r in rows]
    rules = _status_rules(model, ids, scores, status, green, amber, rolled)
    return pd.DataFrame(
        {
            "id": ids,
            "kind": [r.kind for r in rows],
            "name": [r.name for r in rows],
            "perspective": [r.perspective for r in rows],
            "parent": [r.parent for r in rows],
            "value": floats(r.value for r in rows),
            "baseline": floats(r.baseline for r in rows),
            "target": floats(r.target for r in rows),
            "score": scores,
            "status": status,
            "status_rule": rules,
            "coverage": floats(r.coverage for r in rows),
        },
        columns=SCORE_COLUMNS,
    )


def _status_rules(
    model: Model,
    ids: list[str],
    scores: np.ndarray,
    status: np.ndarray,
    green: np.ndarray,
    amber: np.ndarray,
    rolled: dict[str, Any],
) -> list[str]:
    """Which threshold gave each status (or why there is no score)."""
    flags = rolled.get("objective_blocked", ())
    blocked = {o.id for o, b in zip(model.objectives, flags, strict=False) if b}
    rules = []
    for rid, s, st, g, a in zip(ids, scores, status, green, amber, strict=True):
        if st == "no data" and rid in blocked:
            rules.append(
                "no score: none of its own measures or OKRs has data (links alone don't make a status)"
            )
        elif st == "no data":
            rules.append("no score: no value or history")
        elif st == "green":
            rules.append(f"{s:.2f} ≥ green {g:g}")
        elif st == "amber":
            rules.append(f"{s:.2f} ≥ amber {a:g}, < green {g:g}")
        else:
            rules.append(f"{s:.2f} < amber {a:g}")
    return rules


def _unit_of(model: Model, node_id: str, kind: str) -> str:
    if kind in ("measure", "key_result"):
        return str(model.get(node_id).unit or "")
    return ""


def _owner_of(model: Model, node_id: str, kind: str) -> str | None:
    """The node's owner; a key result's is its OKR's."""
    if kind == "perspective":
        return None
    item = model.get(node_id)
    if kind == "key_result":
        return model.get(item.okr).owner
    return getattr(item, "owner", None)


# --------------------------------------------------------------------------- review helpers


def _node_ids(model: Model) -> list[str]:
    compiled = compile_model(model)
    return [
        *compiled.perspectives,
        *compiled.objectives,
        *compiled.measures,
        *compiled.okrs,
        *compiled.key_results,
    ]


def _scores_to_date(
    model: Model, history: HistoryLike, period: Any
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(scores per period up to the review period, ``score()`` at it or None without a history)."""
    import pandas as pd

    from .periods import CADENCE_FREQ

    empty = pd.DataFrame(
        columns=_node_ids(model),
        index=pd.PeriodIndex([], freq=CADENCE_FREQ[model.period], name="period"),
        dtype=float,
    )
    if history is None:
        if period is not None:
            leaf_values(model, None, period)  # raises: a period needs a history
        return empty, None
    hist = check_history(model, history)
    now = score(model, hist, period=period)
    hist, at = review_history(model, hist, period)
    if at is None:
        return empty.set_axis(hist.index[:0], axis=0), now
    past = score_history(model, hist.loc[:at].ffill())
    past.iloc[-1] = now.set_index("id")["score"].reindex(past.columns).to_numpy(dtype=float)
    return past, now


def scores_to_date(model: ModelLike, history: HistoryLike, *, period: Any = None) -> pd.DataFrame:
    """The score of every node for each period up to the review period, as a review shows them.

    Each period is scored as of that period (the history forward-filled: the
    latest value so far), and the review period's row is exactly
    :func:`score` at that period (so the model's ``current`` values count
    there, as in the rest of the review).

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame, path or None
        KPI history (see :func:`stratlab.load_history`).  None gives an empty frame.
    period : str or Period, optional
        The review period (default: the latest period of the history).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` (the history's periods up to and including the
        review period); one column per node id in the order perspectives,
        objectives, measures, OKRs, key results (as :func:`score_history`);
        scores, NaN where there is none.  No rows without a history.

    Raises
    ------
    InputError
        A period that is not one, outside the history, or given without a history.
    """
    from .io import load_model

    return _scores_to_date(load_model(model), history, period)[0]


def movers(
    model: ModelLike, history: HistoryLike, *, period: Any = None, top: int | None = 5
) -> pd.DataFrame:
    """The measures and key results whose score changed most since the previous period.

    ``previous`` is the score one period before the review period in
    :func:`scores_to_date` (the history forward-filled: the latest value so
    far); ``score`` is :func:`score` at the review period.

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame, path or None
        KPI history (see :func:`stratlab.load_history`).
    period : str or Period, optional
        The review period (default: the latest period of the history).
    top : int or None, default 5
        Rows kept (the largest absolute changes); None keeps every row.

    Returns
    -------
    pandas.DataFrame
        One row per measure or key result with a score in both periods,
        largest absolute change first (ties in model order), columns in this
        order:

        ``id, kind, name, previous, score, change, status, since``

        ``kind`` is ``measure`` or ``key_result``; ``change = score − previous``;
        ``status`` is the status now; ``since`` names the previous period (the
        same on every row).  No rows when the history has fewer than two periods
        up to the review period, or there is no history.

    Raises
    ------
    InputError
        ``top`` not a positive integer; a bad period (as :func:`score`).
    """
    import pandas as pd

    from .io import load_model

    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InputError(
            Problem(
                f"movers: top must be a positive whole number or None, not {top!r}.",
                fix="pass e.g. top=5, or top=None for every measure and key result.",
            )
        )
    model = load_model(model)
    past, now = _scores_to_date(model, history, period)
    if now is None or len(past) < 2:
        frame = pd.DataFrame({c: [] for c in MOVER_COLUMNS}, columns=MOVER_COLUMNS)
        return frame.astype({"previous": float, "score": float, "change": float})
    leaves = now[now["kind"].isin(["measure", "key_result"])]
    previous = past.iloc[-2].reindex(leaves["id"]).to_numpy(dtype=float)
    current = leaves["score"].to_numpy(dtype=float)
    change = current - previous
    keep = np.isfinite(change)
    order = np.argsort(-np.abs(change[keep]), kind="stable")
    if top is not None:
        order = order[:top]
    frame = pd.DataFrame(
        {
            "id": leaves["id"].to_numpy()[keep][order],
            "kind": leaves["kind"].to_numpy()[keep][order],
            "name": leaves["name"].to_numpy()[keep][order],
            "previous": previous[keep][order],
            "score": current[keep][order],
            "change": change[keep][order],
            "status": leaves["status"].to_numpy()[keep][order],
            "since": str(past.index[-2]),
        },
        columns=MOVER_COLUMNS,
    )
    return frame
