"""The node table, the cached baseline (state before any change), applying changes, driver dynamics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ._changes import Change, split_link
from ._compile import Compiled, compile_model
from ._inputs import check_history, history_content_key, objective_history, review_values
from ._scores import rollup_all, score_kr_values, score_measure_values

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model
    from ..typing import HistoryLike


# --------------------------------------------------------------------------- node table


@dataclass(frozen=True, eq=False)
class NodeTable:
    ids: list[str]
    kinds: list[str]
    names: list[str]


def node_table(model: Model) -> NodeTable:
    """Every node in score()'s order: perspectives top first, objectives, measures, OKRs, KRs."""
    return model.cache.get("engine.node_table", lambda: _node_table(model))


def _node_table(model: Model) -> NodeTable:
    ids: list[str] = []
    kinds: list[str] = []
    names: list[str] = []
    groups: list[tuple[str, Sequence[Any]]] = [
        ("perspective", list(reversed(model.perspectives))),
        ("objective", model.objectives),
        ("measure", model.measures),
        ("okr", model.okrs),
        ("key_result", model.key_results),
    ]
    for kind, items in groups:
        for item in items:
            ids.append(item.id)
            kinds.append(kind)
            names.append(item.objective if kind == "okr" else item.name)
    return NodeTable(ids, kinds, names)


def stack_scores(rolled: dict[str, Any], m: np.ndarray, k: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [rolled["perspective"][::-1], rolled["objective"], m, rolled["okr"], k]
    ).astype(float)


# --------------------------------------------------------------------------- baseline (cached)


@dataclass(frozen=True, eq=False)
class Baseline:
    """The state before any change: leaf values and scores, scored past, roll-up now."""

    model: Model
    compiled: Compiled
    m_values: np.ndarray
    k_values: np.ndarray
    m_scores: np.ndarray
    k_scores: np.ndarray
    past: list[np.ndarray] | None  # objective scores of earlier periods, oldest first
    now: dict[str, Any]
    at: Any = None  # the review period (targets in force then)

    @cached_property
    def steady(self) -> dict[str, Any]:
        """Roll-up with every link read at the same time (the long run of the current values)."""
        return safe_rollup(self.compiled, self.m_scores, self.k_scores, None)


def history_fingerprint(hist: pd.DataFrame | None) -> str:
    """A digest of the history's content (``'-'`` for none): the key of cached baselines."""
    return "-" if hist is None else history_content_key(hist)


def get_baseline(model: Model, history: HistoryLike, period: Any) -> Baseline:
    hist = None if history is None else check_history(model, history)
    key = (history_fingerprint(hist), None if period is None else str(period))
    cache: dict[Any, Baseline] = model.cache.get("engine.baselines", dict)
    hit = cache.get(key)
    if hit is not None:
        return hit
    compiled = compile_model(model)
    hist, at, mv, kv, _, _ = review_values(model, hist, period)
    ms, ks = score_measure_values(model, mv, at=at), score_kr_values(model, kv)
    past = None
    lagged = None
    if hist is not None and at is not None and any(lag > 0 for lag in compiled.links):
        # each earlier period as score() sees it: the latest value at or before it
        sh = objective_history(model, hist.loc[:at].ffill())
        past = sh[:-1]
        n = len(compiled.objectives)
        lagged = {
            lag: sh[-1 - lag] if len(sh) > lag else np.full(n, np.nan)
            for lag in compiled.links
            if lag > 0
        }
    now = safe_rollup(compiled, ms, ks, lagged)
    base = Baseline(model, compiled, mv, kv, ms, ks, past, now, at)
    if len(cache) >= 8:
        cache.pop(next(iter(cache)))
    cache[key] = base
    return base


def safe_rollup(
    compiled: Compiled, ms: np.ndarray, ks: np.ndarray, lagged: dict[int, np.ndarray] | None
) -> dict[str, Any]:
    try:
        return rollup_all(compiled, ms, ks, lagged=lagged)
    except (np.linalg.LinAlgError, RuntimeError):
        # (I − B) singular: a closed feedback loop with gain 1 (warned about separately)
        out = rollup_all(compiled, ms, ks, links=False)
        out["objective"] = np.full(len(compiled.objectives), np.nan)
        out["perspective"] = np.full(len(compiled.perspectives), np.nan)
        return out


# --------------------------------------------------------------------------- applying changes


@dataclass(frozen=True, eq=False)
class AppliedChanges:
    compiled: Compiled  # with changed link weights / coefficients
    u: np.ndarray  # exogenous measure delta (natural units)
    pinned: np.ndarray  # measures held at a set value
    pin_values: np.ndarray
    k_after: np.ndarray  # key-result values after


def apply_changes(base: Baseline, changes: Sequence[Change]) -> AppliedChanges:
    model, compiled = base.model, base.compiled
    n_m = len(compiled.measures)
    u = np.zeros(n_m)
    pinned = np.zeros(n_m, dtype=bool)
    pin_values = np.full(n_m, np.nan)
    k_after = base.k_values.copy()
    link_values: dict[tuple[str, str], float] = {}
    for ch in changes:
        pair = split_link(ch.key)
        if pair is not None:
            link = next(lk for lk in model.links if (lk.source, lk.target) == pair)
            raw = link.coefficient if link.kind == "driver" else link.weight
            cur = link_values.get(pair, float(raw or 0.0))
            link_values[pair] = ch.value if ch.op == "set" else cur + ch.value
            continue
        i = compiled.index[ch.key]
        if model.kind_of(ch.key) == "measure":
            if ch.op == "set":
                pinned[i] = True
                pin_values[i] = ch.value
            elif pinned[i]:
                pin_values[i] += ch.value
            else:
                u[i] += ch.value
        else:
            k_after[i] = ch.value if ch.op == "set" else k_after[i] + ch.value
    with np.errstate(invalid="ignore"):
        set_delta = pin_values - base.m_values
    u = np.where(pinned, np.where(np.isfinite(set_delta), set_delta, 0.0), u)
    new = compiled
    if link_values:
        new = relink(compiled, link_values)
    return AppliedChanges(new, u, pinned, pin_values, k_after)


def relink(compiled: Compiled, values: dict[tuple[str, str], float]) -> Compiled:
    model = compiled.model
    links = {k: v.tolil(copy=True) for k, v in compiled.links.items()}
    drivers = {k: v.tolil(copy=True) for k, v in compiled.drivers.items()}
    for (src, dst), val in values.items():
        link = next(lk for lk in model.links if (lk.source, lk.target) == (src, dst))
        target = drivers if link.kind == "driver" else links
        target[link.lag][compiled.index[dst], compiled.index[src]] = val
    return replace(
        compiled,
        links={k: v.tocsr() for k, v in links.items()},
        drivers={k: v.tocsr() for k, v in drivers.items()},
    )


# --------------------------------------------------------------------------- driver dynamics


def reachable_measures(compiled: Compiled, start: np.ndarray) -> np.ndarray:
    """Measures reachable from ``start`` (indices) along driver links (any lag)."""
    n = len(compiled.measures)
    seen = np.zeros(n, dtype=bool)
    seen[start] = True
    union = compiled.driver_union
    if union is None:
        return np.flatnonzero(seen)
    frontier = seen.copy()
    while frontier.any():
        nxt = (union @ frontier.astype(float)) > 0
        frontier = nxt & ~seen
        seen |= nxt
    return np.flatnonzero(seen)


@dataclass(frozen=True, eq=False)
class DriverDynamics:
    """Driver deltas restricted to the measures the change can reach."""

    idx: np.ndarray
    mats: dict[int, np.ndarray]  # lag -> dense (k × k), pinned rows cut
    u: np.ndarray  # (k,)

    def path(self, steps: int) -> list[np.ndarray]:
        k = self.idx.size
        a0 = np.eye(k) - self.mats.get(0, np.zeros((k, k)))
        out: list[np.ndarray] = []
        for t in range(steps + 1):
            rhs = self.u.copy()
            for lag, mat in self.mats.items():
                if lag > 0 and t - lag >= 0:
                    rhs += mat @ out[t - lag]
            out.append(np.linalg.solve(a0, rhs) if k else rhs)
        return out

    def long_run(self) -> np.ndarray:
        k = self.idx.size
        total = np.eye(k)
        for mat in self.mats.values():
            total = total - mat
        try:
            return np.linalg.solve(total, self.u) if k else self.u
        except np.linalg.LinAlgError:
            return np.full(k, np.nan)


def driver_dynamics(applied: AppliedChanges) -> DriverDynamics:
    compiled = applied.compiled
    idx = reachable_measures(compiled, np.flatnonzero(applied.u != 0))
    keep = ~applied.pinned[idx]
    dense = compiled.dense_drivers
    mats = {}
    for lag, mat in compiled.drivers.items():
        if not idx.size:
            sub = np.zeros((0, 0))
        elif dense is not None:
            sub = dense[lag][np.ix_(idx, idx)]
        else:
            sub = mat[idx][:, idx].toarray()
        mats[lag] = sub * keep[:, None]
    return DriverDynamics(idx, mats, applied.u[idx])
