"""Inputs of the engine: the history checked, the leaf values of a period, objective scores per period."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, Problem
from ._compile import compile_model
from ._scores import rollup_all, score_kr_values, score_measure_values

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


def leaf_values(
    model: Model, history: pd.DataFrame | None, period: Any
) -> tuple[np.ndarray, np.ndarray, Any]:
    import pandas as pd

    ms, krs = model.measures, model.key_results
    if history is None:
        if period is not None:
            raise InputError(
                Problem("--period needs a history.", fix="give a KPI history, or drop the period.")
            )
        cur_m = np.array([np.nan if m.current is None else m.current for m in ms], dtype=float)
        cur_k = np.array([np.nan if k.current is None else k.current for k in krs], dtype=float)
        return cur_m, cur_k, None
    if len(history.index) == 0:
        at = None
        upto = history
    elif period is None:
        at = history.index[-1]
        upto = history
    else:
        try:
            at = pd.Period(str(period), freq=history.index.freq)
        except (ValueError, TypeError):
            raise InputError(
                Problem(
                    f"period {period!r} is not a period.", fix="write it like 2025Q3 or 2025-07."
                )
            ) from None
        if at < history.index[0] or at > history.index[-1]:
            raise InputError(
                Problem(
                    f"period {at} is outside the history ({history.index[0]} to {history.index[-1]}).",
                    fix="choose a period inside the history.",
                )
            )
        upto = history.loc[:at]
    last = upto.ffill().iloc[-1] if len(upto) else pd.Series(dtype=float)

    # ``current`` values are "now": they apply at the latest period of the history and
    # take precedence there; an earlier period is scored from the history alone.
    is_now = at is None or at == history.index[-1]

    def pick(items: Any) -> np.ndarray:
        out = []
        for item in items:
            current = getattr(item, "current", None)
            hist = last.get(item.id, np.nan)
            if is_now and current is not None:
                out.append(current)
            elif hist is not None and np.isfinite(hist):
                out.append(hist)
            else:
                out.append(np.nan)
        return np.array(out, dtype=float)

    return pick(ms), pick(krs), at


def objective_history(model: Model, history: pd.DataFrame) -> list[np.ndarray]:
    """Rolled-up objective scores for every period (lagged links read earlier rows)."""
    compiled = compile_model(model)
    m_all = score_measure_values(model, history_columns(history, compiled.measures))
    k_all = score_kr_values(model, history_columns(history, compiled.key_results))
    out: list[np.ndarray] = []
    n = len(compiled.objectives)
    for t in range(len(history)):
        lagged = {
            lag: out[t - lag] if t - lag >= 0 else np.full(n, np.nan)
            for lag in compiled.links
            if lag > 0
        }
        out.append(rollup_all(compiled, m_all[t], k_all[t], lagged=lagged)["objective"])
    return out


def history_columns(history: pd.DataFrame, ids: tuple[str, ...]) -> np.ndarray:
    return history.reindex(columns=list(ids)).to_numpy(dtype=float)
