"""Inputs of the engine: the history checked, the leaf values of a period, objective scores per period."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, Problem
from ._compile import compile_model
from ._scores import rollup_all, score_kr_values, score_rows

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model
    from ..typing import HistoryLike


def check_history(model: Model, history: HistoryLike) -> pd.DataFrame:
    import pandas as pd

    from ..io import load_history

    if isinstance(history, pd.DataFrame) and isinstance(history.index, pd.PeriodIndex):
        unknown = [
            c
            for c in history.columns
            if c not in model or model.kind_of(c) not in ("measure", "key_result")
        ]
        if not unknown:
            return history
    return load_history(history, model)


def review_history(model: Model, history: pd.DataFrame, period: Any) -> tuple[pd.DataFrame, Any]:
    """The history at the review period's frequency, and the review period (None: empty history).

    A review period coarser than the history (``2025Q3`` on monthly data) means
    its months brought together by each measure's ``aggregate`` rule
    (:func:`stratlab.periods.aggregate_frame`); a finer one (``2025-08`` on a
    quarterly history) means the period containing it.
    """
    from ..periods import aggregate_frame, as_freq, coarser, freq_code, period_arg

    if len(history.index) == 0:
        if period is not None:
            period_arg(period)
        return history, None
    if period is None:
        return history, history.index[-1]
    have = freq_code(history.index.freqstr)
    per = period_arg(period)
    want = freq_code(per.freqstr)
    if want != "D" and coarser(want, have):
        aggregate = {m.id: m.aggregate for m in model.measures}
        history = aggregate_frame(history, want, aggregate)
        at = per
    else:
        at = as_freq(per, have)
    if at < history.index[0] or at > history.index[-1]:
        raise InputError(
            Problem(
                f"period {at} is outside the history ({history.index[0]} to {history.index[-1]}).",
                fix="choose a period inside the history.",
            )
        )
    return history, at


def leaf_values(
    model: Model, history: pd.DataFrame | None, period: Any
) -> tuple[np.ndarray, np.ndarray, Any]:
    """(measure values, key-result values, review period) — see :func:`review_values`."""
    _, at, mv, kv, _, _ = review_values(model, history, period)
    return mv, kv, at


def review_values(
    model: Model, history: pd.DataFrame | None, period: Any
) -> tuple[Any, Any, np.ndarray, np.ndarray, list[Any], list[Any]]:
    """The values a review period is scored from.

    Returns (history at the review frequency, review period, measure values,
    key-result values, the period each measure value comes from, the same for
    key results).  A value is the latest reported at or before the review
    period; a ``current`` value counts at the latest period of the history (or,
    without a history, at the model's ``as_of``).
    """
    ms, krs = model.measures, model.key_results
    if history is None:
        if period is not None:
            raise InputError(
                Problem("--period needs a history.", fix="give a KPI history, or drop the period.")
            )
        cur_m = np.array([np.nan if m.current is None else m.current for m in ms], dtype=float)
        cur_k = np.array([np.nan if k.current is None else k.current for k in krs], dtype=float)
        now = model_now(model)
        asof_m = [now if m.current is not None else None for m in ms]
        asof_k = [now if k.current is not None else None for k in krs]
        return None, None, cur_m, cur_k, asof_m, asof_k
    hist, at = review_history(model, history, period)
    upto = hist if at is None else hist.loc[:at]
    last: dict[Any, tuple[float, Any]] = {}
    if len(upto):
        mask = upto.notna().to_numpy()
        pos = np.where(mask, np.arange(len(upto))[:, None], -1).max(axis=0)
        last_vals = upto.to_numpy(dtype=float)[np.maximum(pos, 0), np.arange(upto.shape[1])]
        last = {
            c: (last_vals[i], upto.index[pos[i]]) if pos[i] >= 0 else (np.nan, None)
            for i, c in enumerate(upto.columns)
        }

    # ``current`` values are "now": they apply at the latest period of the history and
    # take precedence there; an earlier period is scored from the history alone.
    is_now = at is None or at == hist.index[-1]

    def pick(items: Any) -> tuple[np.ndarray, list[Any]]:
        out, asof = [], []
        for item in items:
            current = getattr(item, "current", None)
            hist_value, hist_at = last.get(item.id, (np.nan, None))
            if is_now and current is not None:
                out.append(current)
                asof.append(at)
            elif hist_value is not None and np.isfinite(hist_value):
                out.append(hist_value)
                asof.append(hist_at)
            else:
                out.append(np.nan)
                asof.append(None)
        return np.array(out, dtype=float), asof

    mv, m_asof = pick(ms)
    kv, k_asof = pick(krs)
    return hist, at, mv, kv, m_asof, k_asof


def model_now(model: Model) -> Any:
    """The model's ``as_of`` date as a period of its cadence (None without one)."""
    if not model.as_of:
        return None
    import pandas as pd

    from ..periods import CADENCE_FREQ

    return pd.Period(model.as_of, freq=CADENCE_FREQ[model.period])


def staleness(
    model: Model, hist: pd.DataFrame | None, at: Any, items: Any, asof: list[Any]
) -> list[bool]:
    """Whether each value is older than its ``max_age`` review periods.

    Age is counted in the KPI's own periods: a quarterly KPI inside a monthly
    history is one period old in the quarter after its last report.
    """
    from ..periods import column_step, freq_code, own_freq

    out = []
    for item, when in zip(items, asof, strict=True):
        if when is None or at is None or hist is None:
            out.append(False)
            continue
        limit = getattr(item, "max_age", None)
        limit = model.max_age if limit is None else limit
        freq = freq_code(hist.index.freqstr)
        if item.id in hist.columns:
            freq = own_freq(freq, column_step(hist[item.id].to_numpy(dtype=float), freq))
        age = at.asfreq(freq, how="end").ordinal - when.asfreq(freq, how="end").ordinal
        out.append(bool(age > limit))
    return out


def objective_history(model: Model, history: pd.DataFrame) -> list[np.ndarray]:
    """Rolled-up objective scores for every period (lagged links read earlier rows; read-only)."""
    return [rolled["objective"] for rolled in rolled_history(model, history).rows]


@dataclass(frozen=True, eq=False)
class RolledHistory:
    """Leaf scores and the roll-up of every period of a history (arrays read-only)."""

    measures: np.ndarray  # periods × measures
    key_results: np.ndarray  # periods × key results
    rows: list[dict[str, Any]]  # rollup_all per period


_ROLLED_PER_MODEL = 8


def rolled_history(model: Model, history: pd.DataFrame, *, links: bool = True) -> RolledHistory:
    """Score and roll up every period of a checked wide history (``rollup_all`` per row).

    Lagged links read the objective scores of earlier rows; ``links=False``
    scores objectives from their own measures and OKRs only.  Several views of
    a review (the scores, movers, trends, link checks) roll up the same
    history: the result is kept per model for the last few histories, by
    content, and its arrays are read-only.
    """
    memo: dict[tuple[str, bool], RolledHistory] = model.cache.get("engine.rolled_history", dict)
    key = (history_content_key(history), links)
    hit = memo.get(key)
    if hit is not None:
        return hit
    compiled = compile_model(model)
    m_all = score_rows(model, history_columns(history, compiled.measures), history.index)
    k_all = score_kr_values(model, history_columns(history, compiled.key_results))
    rows: list[dict[str, Any]] = []
    n = len(compiled.objectives)
    for t in range(len(history)):
        lagged = {
            lag: rows[t - lag]["objective"] if t - lag >= 0 else np.full(n, np.nan)
            for lag in compiled.links
            if lag > 0
        }
        rolled = rollup_all(compiled, m_all[t], k_all[t], lagged=lagged, links=links)
        for value in rolled.values():
            value.setflags(write=False)
        rows.append(rolled)
    m_all.setflags(write=False)
    k_all.setflags(write=False)
    result = RolledHistory(m_all, k_all, rows)
    if len(memo) >= _ROLLED_PER_MODEL:
        memo.pop(next(iter(memo)))
    memo[key] = result
    return result


def history_content_key(history: pd.DataFrame) -> str:
    """A digest of a wide history's columns, every period of its index and its values."""
    import pandas as pd

    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(list(history.columns)).encode())
    index = history.index
    if isinstance(index, pd.PeriodIndex):
        digest.update(str(index.freqstr).encode())
        digest.update(np.ascontiguousarray(index.asi8).tobytes())
    else:
        digest.update(repr([str(i) for i in index]).encode())
    digest.update(np.ascontiguousarray(history.to_numpy(dtype=float)).tobytes())
    return digest.hexdigest()


def history_columns(history: pd.DataFrame, ids: tuple[str, ...]) -> np.ndarray:
    return history.reindex(columns=list(ids)).to_numpy(dtype=float)
