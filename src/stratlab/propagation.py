"""The linear propagation engine: what-if, total effects, sensitivity, initiatives, dynamics.

Everything here rolls scores up with the one roll-up of :mod:`stratlab.compile`
(:func:`~stratlab.compile.solve_weighted` through
:func:`~stratlab.scoring.rollup_all`), so a what-if scores exactly as
:func:`stratlab.score` does.

Changes
-------
A change is ``(key, op, value)`` with ``op`` ``'set'`` or ``'shift'``:

* a measure or key-result id: ``("nps", "set", 40)``, ``("wait_min", "shift", -1)``;
  a mapping ``{"nps": 40}`` means *set*.
* a link: the key ``link:SOURCE->TARGET`` (or the shell-safe
  ``link:SOURCE:TARGET``) sets or shifts an objective link's ``weight``, or a
  driver link's ``coefficient``.

Setting a measure *pins* it: it holds the set value and driver links into it are
cut.  Shifting it adds to whatever its drivers do.  Changes apply in order
(a set followed by a shift of the same id moves the set value).

Time
----
``now`` (period 0) is the instant effect: lag-0 driver links and lag-0
objective links only, every lagged cause read from the history (or, without a
history, from the state before the change).  The trajectory runs the changed
system forward ``horizon`` periods, lagged effects arriving as time passes.
The long run is the steady state with every lag: driver deltas
``(I − D)⁻¹ u`` in natural units, re-scored and clipped at each measure, then
rolled up with every link read at the same time (``(I − B)⁻¹(V·s + c)``).
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .compile import Compiled, compile_model
from .errors import InputError, Problem, StratlabWarning
from .scoring import (
    _check_history,
    _leaf_values,
    _objective_history,
    rollup_all,
    score_kr_values,
    score_measure_values,
)

if TYPE_CHECKING:
    import pandas as pd
    from scipy import sparse

    from .model import Model

__all__ = [
    "Change",
    "WhatIfResult",
    "parse_changes",
    "rank_initiatives",
    "sensitivity",
    "simulate_dynamics",
    "total_effects",
    "whatif",
]

Op = Literal["set", "shift"]
WHATIF_COLUMNS = [
    "id",
    "kind",
    "name",
    "before",
    "after",
    "delta",
    "score_before",
    "score_after",
    "score_delta",
]
TRAJECTORY_COLUMNS = ["period", *WHATIF_COLUMNS]
_TOL = 1e-9


# --------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class Change:
    """One what-if change: set or shift a measure, key result or link (see module doc)."""

    key: str
    op: Op
    value: float


def _link_key(source: str, target: str) -> str:
    return f"link:{source}->{target}"


def _split_link(key: str) -> tuple[str, str] | None:
    body = key[5:] if key.startswith("link:") else key
    if "->" in body:
        a, b = body.split("->", 1)
    elif key.startswith("link:") and body.count(":") == 1:
        a, b = body.split(":", 1)
    else:
        return None
    return a.strip(), b.strip()


def parse_changes(
    sets: Sequence[str] = (),
    shifts: Sequence[str] = (),
    *,
    model: Model | None = None,
) -> list[Change]:
    """Parse ``--set ID=VALUE`` and ``--shift ID=DELTA`` command-line arguments.

    Parameters
    ----------
    sets, shifts : sequence of str
        ``"nps=40"``, ``"wait_min=-1"``, ``"link:speed->loyalty=0.7"``.
    model : Model, optional
        When given, ids are checked against it (unknown ids raise with a suggestion).

    Returns
    -------
    list of Change
        In argument order, sets first.

    Raises
    ------
    InputError
        Naming the bad argument and how to write it.
    """
    out: list[Change] = []
    problems: list[Problem] = []
    for flag, args, op in (("--set", sets, "set"), ("--shift", shifts, "shift")):
        for arg in args:
            key, sep, text = str(arg).rpartition("=")
            example = f"{flag} nps=40" if op == "set" else f"{flag} wait_min=-1"
            if not sep or not key.strip():
                problems.append(
                    Problem(
                        f"{flag} {arg!r}: expected ID=VALUE.",
                        fix=f"write it like {example} (a link: {flag} 'link:speed->loyalty=0.7').",
                    )
                )
                continue
            try:
                value = float(text.strip())
            except ValueError:
                problems.append(
                    Problem(
                        f"{flag} {arg!r}: {text.strip()!r} is not a number.",
                        fix=f"write it like {example}.",
                    )
                )
                continue
            if not math.isfinite(value):
                problems.append(
                    Problem(f"{flag} {arg!r}: the value must be finite.", fix=f"e.g. {example}.")
                )
                continue
            out.append(Change(key.strip(), op, value))  # type: ignore[arg-type]
    if problems:
        raise InputError(problems)
    if model is not None:
        _check_changes(model, out)
    return out


def _as_changes(changes: Any) -> list[Change]:
    if changes is None:
        return []
    if isinstance(changes, Change):
        return [changes]
    if isinstance(changes, Mapping):
        items: Iterable[Any] = [(k, "set", v) for k, v in changes.items()]
    elif isinstance(changes, (str, bytes)):
        raise InputError(
            Problem(
                f"changes {changes!r} is a string.",
                fix="pass a mapping {'nps': 40} or a list of ('nps', 'set', 40) / ('nps', 'shift', 5).",
            )
        )
    else:
        items = changes
    out: list[Change] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        if isinstance(item, Change):
            out.append(item)
            continue
        if isinstance(item, (tuple, list)) and len(item) == 2:
            item = (item[0], "set", item[1])
        if not (isinstance(item, (tuple, list)) and len(item) == 3):
            problems.append(
                Problem(
                    f"change #{i} {item!r} is not (id, 'set'|'shift', value).",
                    fix="write it like ('nps', 'set', 40) or ('wait_min', 'shift', -1).",
                )
            )
            continue
        key, op, value = item
        if op not in ("set", "shift"):
            close = get_close_matches(str(op), ["set", "shift"], n=1)
            problems.append(
                Problem(
                    f"change #{i} for {key!r}: unknown operation {op!r}.",
                    fix=f"did you mean {close[0]!r}?" if close else "use 'set' or 'shift'.",
                )
            )
            continue
        try:
            num = float(value)
        except (TypeError, ValueError):
            num = math.nan
        if isinstance(value, bool) or not math.isfinite(num):
            problems.append(
                Problem(
                    f"change #{i} for {key!r}: value {value!r} is not a finite number.",
                    fix="give a number, e.g. ('nps', 'set', 40).",
                )
            )
            continue
        out.append(Change(str(key), op, num))
    if problems:
        raise InputError(problems)
    return out


def _check_changes(model: Model, changes: Sequence[Change]) -> None:
    leaves = [m.id for m in model.measures] + [kr.id for kr in model.key_results]
    link_keys = {(lk.source, lk.target) for lk in model.links}
    problems: list[Problem] = []
    for ch in changes:
        pair = _split_link(ch.key)
        if pair is not None:
            if pair not in link_keys:
                options = [_link_key(a, b) for a, b in link_keys]
                close = get_close_matches(_link_key(*pair), options, n=1, cutoff=0.6)
                problems.append(
                    Problem(
                        f"there is no link {pair[0]} → {pair[1]} in the model.",
                        fix=f"did you mean {close[0]!r}?"
                        if close
                        else "change an existing link (written link:SOURCE->TARGET) or add it to the model.",
                    )
                )
            continue
        if ch.key in model and model.kind_of(ch.key) in ("measure", "key_result"):
            continue
        if ch.key in model:
            kind = model.kind_of(ch.key)
            problems.append(
                Problem(
                    f"{ch.key!r} is a {kind}; a what-if changes measures, key results or link weights.",
                    fix="change one of its measures or key results (their scores roll up to it).",
                )
            )
            continue
        close = get_close_matches(ch.key, leaves, n=1, cutoff=0.6)
        problems.append(
            Problem(
                f"{ch.key!r} is not a measure or key result of the model.",
                fix=f"did you mean {close[0]!r}?"
                if close
                else "use a measure or key-result id, or link:SOURCE->TARGET for a link.",
            )
        )
    if problems:
        raise InputError(problems)


# --------------------------------------------------------------------------- node table


@dataclass(frozen=True, eq=False)
class _Nodes:
    ids: list[str]
    kinds: list[str]
    names: list[str]


def _nodes(model: Model) -> _Nodes:
    """Every node in score()'s order: perspectives top first, objectives, measures, OKRs, KRs."""
    cached = model.__dict__.get("_engine_nodes")
    if cached is not None:
        return cached
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
    nodes = _Nodes(ids, kinds, names)
    model.__dict__["_engine_nodes"] = nodes
    return nodes


def _stack(rolled: dict[str, Any], m: np.ndarray, k: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [rolled["perspective"][::-1], rolled["objective"], m, rolled["okr"], k]
    ).astype(float)


# --------------------------------------------------------------------------- baseline (cached)


@dataclass(frozen=True, eq=False)
class _Baseline:
    """The state before any change: leaf values and scores, scored past, roll-up now."""

    model: Model
    compiled: Compiled
    m_values: np.ndarray
    k_values: np.ndarray
    m_scores: np.ndarray
    k_scores: np.ndarray
    past: list[np.ndarray] | None  # objective scores of earlier periods, oldest first
    now: dict[str, Any]

    @cached_property
    def steady(self) -> dict[str, Any]:
        """Roll-up with every link read at the same time (the long run of the current values)."""
        return _safe_rollup(self.compiled, self.m_scores, self.k_scores, None)


def _fingerprint(hist: pd.DataFrame | None) -> str:
    if hist is None:
        return "-"
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(list(hist.columns)).encode())
    h.update(
        repr((str(hist.index[0]), str(hist.index[-1]), len(hist))).encode() if len(hist) else b""
    )
    h.update(np.ascontiguousarray(hist.to_numpy(dtype=float)).tobytes())
    return h.hexdigest()


def _baseline(model: Model, history: Any, period: Any) -> _Baseline:
    hist = None if history is None else _check_history(model, history)
    key = (_fingerprint(hist), None if period is None else str(period))
    cache: dict[Any, _Baseline] = model.__dict__.setdefault("_engine_baselines", {})
    hit = cache.get(key)
    if hit is not None:
        return hit
    compiled = compile_model(model)
    mv, kv, at = _leaf_values(model, hist, period)
    ms, ks = score_measure_values(model, mv), score_kr_values(model, kv)
    past = None
    lagged = None
    if hist is not None and at is not None and any(lag > 0 for lag in compiled.links):
        # each earlier period as score() sees it: the latest value at or before it
        sh = _objective_history(model, hist.loc[:at].ffill())
        past = sh[:-1]
        n = len(compiled.objectives)
        lagged = {
            lag: sh[-1 - lag] if len(sh) > lag else np.full(n, np.nan)
            for lag in compiled.links
            if lag > 0
        }
    now = _safe_rollup(compiled, ms, ks, lagged)
    base = _Baseline(model, compiled, mv, kv, ms, ks, past, now)
    if len(cache) >= 8:
        cache.pop(next(iter(cache)))
    cache[key] = base
    return base


def _safe_rollup(
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
class _Applied:
    compiled: Compiled  # with changed link weights / coefficients
    u: np.ndarray  # exogenous measure delta (natural units)
    pinned: np.ndarray  # measures held at a set value
    pin_values: np.ndarray
    k_after: np.ndarray  # key-result values after


def _apply(base: _Baseline, changes: Sequence[Change]) -> _Applied:
    model, compiled = base.model, base.compiled
    n_m = len(compiled.measures)
    u = np.zeros(n_m)
    pinned = np.zeros(n_m, dtype=bool)
    pin_values = np.full(n_m, np.nan)
    k_after = base.k_values.copy()
    link_values: dict[tuple[str, str], float] = {}
    for ch in changes:
        pair = _split_link(ch.key)
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
        new = _relink(compiled, link_values)
    return _Applied(new, u, pinned, pin_values, k_after)


def _relink(compiled: Compiled, values: dict[tuple[str, str], float]) -> Compiled:
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


def _reach(compiled: Compiled, start: np.ndarray) -> np.ndarray:
    """Measures reachable from ``start`` (indices) along driver links (any lag)."""
    n = len(compiled.measures)
    seen = np.zeros(n, dtype=bool)
    seen[start] = True
    if not compiled.drivers:
        return np.flatnonzero(seen)
    mats = list(compiled.drivers.values())
    union = abs(mats[0])
    for mat in mats[1:]:
        union = union + abs(mat)
    frontier = seen.copy()
    while frontier.any():
        nxt = (union @ frontier.astype(float)) > 0
        frontier = nxt & ~seen
        seen |= nxt
    return np.flatnonzero(seen)


@dataclass(frozen=True, eq=False)
class _Drivers:
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


def _drivers(applied: _Applied) -> _Drivers:
    compiled = applied.compiled
    idx = _reach(compiled, np.flatnonzero(applied.u != 0))
    keep = ~applied.pinned[idx]
    mats = {}
    for lag, mat in compiled.drivers.items():
        sub = mat[idx][:, idx].toarray() if idx.size else np.zeros((0, 0))
        mats[lag] = sub * keep[:, None]
    return _Drivers(idx, mats, applied.u[idx])


# --------------------------------------------------------------------------- stability


def _companion_radius(mats: dict[int, np.ndarray]) -> float:
    """Spectral radius of ``x_t = (I − A0)⁻¹ Σ_k A_k x_{t−k}`` (dense, small)."""
    size = next(iter(mats.values())).shape[0]
    kmax = max(mats)
    if kmax == 0 or size == 0:
        return 0.0
    inv = np.linalg.inv(np.eye(size) - mats.get(0, np.zeros((size, size))))
    comp = np.zeros((size * kmax, size * kmax))
    for lag in range(1, kmax + 1):
        if lag in mats:
            comp[:size, (lag - 1) * size : lag * size] = inv @ mats[lag]
    if kmax > 1:
        comp[size:, : size * (kmax - 1)] = np.eye(size * (kmax - 1))
    return float(np.max(np.abs(np.linalg.eigvals(comp))))


def _loops(mats: dict[int, sparse.csr_matrix], ids: Sequence[str], closed_only: bool) -> list[Any]:
    """Strongly connected sets of the union graph whose companion radius is ≥ 1 − tol."""
    from scipy.sparse.csgraph import connected_components

    union = None
    for mat in mats.values():
        union = abs(mat) if union is None else union + abs(mat)
    if union is None or union.nnz == 0:
        return []
    union = union.tocsr()
    ncomp, labels = connected_components(union, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=ncomp)
    found = []
    for comp in np.flatnonzero(sizes > 1):
        members = np.flatnonzero(labels == comp)
        if closed_only:
            inside = np.asarray(union[members][:, members].sum(axis=1)).ravel()
            if (inside < 1.0 - 1e-9).any():
                continue  # an irreducible block with a leak: radius < 1
        if members.size * max(mats) > 2000:
            continue
        sub = {lag: m[members][:, members].toarray() for lag, m in mats.items()}
        radius = _companion_radius(sub)
        if radius >= 1.0 - 1e-9:
            found.append(([ids[int(i)] for i in members], radius))
    return found


def _normalised_links(compiled: Compiled, rolled: dict[str, Any]) -> dict[int, sparse.csr_matrix]:
    """Objective links per lag, normalised by each effect's weight, restricted to objectives with a score."""
    from scipy import sparse

    avail = np.isfinite(rolled["objective"])
    weight = np.nan_to_num(rolled["objective_coverage"]) * compiled.full_weight
    inv = np.where(avail & (weight > 0), 1.0 / np.where(weight > 0, weight, 1.0), 0.0)
    mask = sparse.diags(avail.astype(float))
    return {lag: (sparse.diags(inv) @ mat @ mask).tocsr() for lag, mat in compiled.links.items()}


def _stability_warnings(compiled: Compiled, rolled: dict[str, Any], pinned: np.ndarray) -> float:
    """Warn (StratlabWarning) for every feedback loop whose gain is ≥ 1; return the largest radius."""
    from scipy import sparse

    found = _loops(_normalised_links(compiled, rolled), compiled.objectives, closed_only=True)
    keep = sparse.diags((~pinned).astype(float))
    drivers = {lag: (keep @ mat).tocsr() for lag, mat in compiled.drivers.items()}
    found += _loops(drivers, compiled.measures, closed_only=False)
    for members, radius in found:
        warnings.warn(
            f"the feedback loop through {', '.join(members)} has gain {radius:.3g} ≥ 1 "
            "(spectral radius of the companion matrix): the trajectory does not settle and "
            "the long run is not reached. Fix: give the loop's objectives a measure or OKR with "
            "data, or weaken a link or driver coefficient in the loop.",
            StratlabWarning,
            stacklevel=3,
        )
    return max((r for _, r in found), default=0.0)


# --------------------------------------------------------------------------- what-if


@dataclass(frozen=True, eq=False)
class WhatIfResult:
    """Before, after and delta of every node, now, over a horizon and in the long run.

    ``before``/``after``/``delta`` are natural-unit values for measures and key
    results and 0–1 scores for perspectives, objectives and OKRs; the
    ``score_*`` columns are scores for every node.  Everything is computed on
    first access and cached.
    """

    model: Model
    changes: tuple[Change, ...]
    horizon: int
    _base: _Baseline = field(repr=False)
    _applied: _Applied = field(repr=False)

    # ----------------------------------------------------------------- internals
    @cached_property
    def _drivers(self) -> _Drivers:
        return _drivers(self._applied)

    def _measure_after(self, delta_idx: np.ndarray) -> np.ndarray:
        a = self._applied
        out = self._base.m_values.copy()
        out[self._drivers.idx] = out[self._drivers.idx] + delta_idx
        return np.where(a.pinned, a.pin_values, out)

    def _lagged(self, t: int, out: list[dict[str, Any]], compiled: Compiled) -> dict[int, Any]:
        past = self._base.past
        n = len(compiled.objectives)
        lagged: dict[int, Any] = {}
        for lag in compiled.links:
            if lag == 0:
                continue
            j = t - lag
            if j >= 0:
                lagged[lag] = out[j]["objective"]
            elif past is not None:
                lagged[lag] = past[len(past) + j] if len(past) + j >= 0 else np.full(n, np.nan)
            else:
                lagged[lag] = self._base.steady["objective"]
        return lagged

    @cached_property
    def _paths(
        self,
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """Per period: (before values, after values, before scores, after scores)."""
        base, applied = self._base, self._applied
        drv = self._drivers.path(self.horizon)
        k_after_scores = score_kr_values(self.model, applied.k_after)
        before_roll: list[dict[str, Any]] = []
        after_roll: list[dict[str, Any]] = []
        bv, av, bs, as_ = [], [], [], []
        for t in range(self.horizon + 1):
            if t == 0:
                before = base.now
            else:
                before = _safe_rollup(
                    base.compiled,
                    base.m_scores,
                    base.k_scores,
                    self._lagged(t, before_roll, base.compiled),
                )
            before_roll.append(before)
            m_after = self._measure_after(drv[t])
            ms_after = score_measure_values(self.model, m_after)
            after = _safe_rollup(
                applied.compiled,
                ms_after,
                k_after_scores,
                self._lagged(t, after_roll, applied.compiled),
            )
            after_roll.append(after)
            bv.append(_stack(before, base.m_values, base.k_values))
            av.append(_stack(after, m_after, applied.k_after))
            bs.append(_stack(before, base.m_scores, base.k_scores))
            as_.append(_stack(after, ms_after, k_after_scores))
        return bv, av, bs, as_

    @cached_property
    def _now(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        base, applied = self._base, self._applied
        if self.horizon == 0 or "_paths" in self.__dict__:
            bv, av, bs, as_ = self._paths
            return bv[0], av[0], bs[0], as_[0]
        drv = self._drivers.path(0)[0]
        m_after = self._measure_after(drv)
        ms_after = score_measure_values(self.model, m_after)
        ks_after = score_kr_values(self.model, applied.k_after)
        after = _safe_rollup(
            applied.compiled, ms_after, ks_after, self._lagged(0, [], applied.compiled)
        )
        return (
            _stack(base.now, base.m_values, base.k_values),
            _stack(after, m_after, applied.k_after),
            _stack(base.now, base.m_scores, base.k_scores),
            _stack(after, ms_after, ks_after),
        )

    @cached_property
    def spectral_radius(self) -> float:
        """Largest companion-matrix spectral radius among feedback loops with gain ≥ 1 (else 0).

        Computing it warns (:class:`~stratlab.StratlabWarning`) for each unstable loop.
        """
        return _stability_warnings(
            self._applied.compiled, self._after_steady[0], self._applied.pinned
        )

    @cached_property
    def _after_steady(self) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]:
        applied = self._applied
        dx = self._drivers.long_run()
        m_after = self._measure_after(dx)
        ms_after = score_measure_values(self.model, m_after)
        ks_after = score_kr_values(self.model, applied.k_after)
        return _safe_rollup(applied.compiled, ms_after, ks_after, None), m_after, ms_after, ks_after

    def _frame(
        self, bv: np.ndarray, av: np.ndarray, bs: np.ndarray, as_: np.ndarray
    ) -> pd.DataFrame:
        import pandas as pd

        nodes = _nodes(self.model)
        return pd.DataFrame(
            {
                "id": nodes.ids,
                "kind": nodes.kinds,
                "name": nodes.names,
                "before": bv,
                "after": av,
                "delta": av - bv,
                "score_before": bs,
                "score_after": as_,
                "score_delta": as_ - bs,
            },
            columns=WHATIF_COLUMNS,
        )

    # ----------------------------------------------------------------- public
    @cached_property
    def delta(self) -> dict[str, float]:
        """``{id: delta}`` now (natural units for measures and key results, scores otherwise)."""
        bv, av, _, _ = self._now
        return dict(zip(_nodes(self.model).ids, (av - bv).tolist(), strict=True))

    def to_frame(self) -> pd.DataFrame:
        """The instant effect ("now").

        Returns
        -------
        pandas.DataFrame
            One row per node (perspectives top first, objectives, measures,
            OKRs, key results): ``id, kind, name, before, after, delta,
            score_before, score_after, score_delta``.
        """
        return self._frame(*self._now)

    @cached_property
    def trajectory(self) -> pd.DataFrame:
        """Before, after and delta per period ``0..horizon`` (0 = now), tidy.

        Columns ``period, id, kind, name, before, after, delta, score_before,
        score_after, score_delta``; ``period`` counts periods from now (the
        model's ``period`` unit).  Warns about unstable feedback loops.
        """
        import pandas as pd

        _ = self.spectral_radius
        bv, av, bs, as_ = self._paths
        frames = []
        for t in range(self.horizon + 1):
            f = self._frame(bv[t], av[t], bs[t], as_[t])
            f.insert(0, "period", t)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)[TRAJECTORY_COLUMNS]

    @cached_property
    def long_run(self) -> pd.DataFrame:
        """The steady state with every lag; same columns as :meth:`to_frame`.

        Warns about unstable feedback loops (then the long run is not reached).
        """
        _ = self.spectral_radius
        base = self._base
        steady, m_after, ms_after, ks_after = self._after_steady
        return self._frame(
            _stack(base.steady, base.m_values, base.k_values),
            _stack(steady, m_after, self._applied.k_after),
            _stack(base.steady, base.m_scores, base.k_scores),
            _stack(steady, ms_after, ks_after),
        )

    def html(self) -> str:
        """The instant effect as an HTML table (the shared renderer of notebooks and reports)."""
        from .render import result_html

        text = ", ".join(f"{c.op} {c.key} {c.value:g}" for c in self.changes) or "no change"
        return result_html(f"What-if: {text}", self.to_frame(), status_column=None)

    def _repr_html_(self) -> str:
        return self.html()


def whatif(
    model: Any,
    changes: Any,
    history: Any = None,
    *,
    horizon: int | None = None,
    period: Any = None,
) -> WhatIfResult:
    """What happens to every node when measures, key results or link weights change.

    Parameters
    ----------
    model : Model, path or mapping
    changes : mapping, list or None
        ``{"nps": 40}`` (set), or a list of ``(id, 'set'|'shift', value)``;
        a link is ``link:SOURCE->TARGET`` (weight of an objective link,
        coefficient of a driver link).  See :mod:`stratlab.propagation`.
    history : DataFrame or path, optional
        KPI history: current values and the lagged causes read from it.
    horizon : int, optional
        Periods of the trajectory (default ``max(8, 3 × the largest lag)``).
    period : str or Period, optional
        Start from this period of the history (as :func:`stratlab.score`).

    Returns
    -------
    WhatIfResult
        ``.to_frame()`` (now), ``.trajectory``, ``.long_run`` with columns
        ``id, kind, name, before, after, delta, score_before, score_after,
        score_delta``.

    Raises
    ------
    InputError
        An unknown id (with the closest match), a bad operation or value.
    """
    from .model import load_model

    model = load_model(model)
    chs = _as_changes(changes)
    _check_changes(model, chs)
    compiled = compile_model(model)
    if horizon is None:
        horizon = max(8, 3 * compiled.max_lag)
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 0:
        raise InputError(
            Problem(
                f"horizon={horizon!r} is not a whole number of periods ≥ 0.", fix="e.g. horizon=8."
            )
        )
    base = _baseline(model, history, period)
    return WhatIfResult(model, tuple(chs), int(horizon), base, _apply(base, chs))


def simulate_dynamics(
    model: Any, changes: Any = None, history: Any = None, *, horizon: int = 12
) -> pd.DataFrame:
    """Trajectories over a horizon with lags and feedback (the what-if trajectory).

    Parameters
    ----------
    model : Model, path or mapping
    changes : mapping or list, optional
        As for :func:`whatif`; None runs the map forward unchanged.
    history : DataFrame or path, optional
    horizon : int, default 12

    Returns
    -------
    pandas.DataFrame
        ``period, id, kind, name, before, after, delta, score_before,
        score_after, score_delta`` for periods ``0..horizon``.

    Warns
    -----
    StratlabWarning
        When a feedback loop's gain is ≥ 1 (the system does not settle).
    """
    return whatif(model, changes, history, horizon=horizon).trajectory


# --------------------------------------------------------------------------- linear system


class _ForwardSolver:
    """Solve ``(I − B) x = r`` for many right-hand sides, ``B`` sparse with few feedback links.

    ``B = F + G``: ``F`` acyclic (solved level by level, sparse products) and
    ``G`` the feedback edges found by a depth-first search; the feedback is
    folded back in exactly through the small system on its cause columns.
    """

    def __init__(self, b: sparse.csr_matrix):
        from scipy import sparse

        n = b.shape[0]
        self.n = n
        b = b.tocsr(copy=True)
        b.eliminate_zeros()
        coo = b.tocoo()
        children: list[list[int]] = [[] for _ in range(n)]
        for r, c in zip(coo.row.tolist(), coo.col.tolist(), strict=True):
            children[c].append(r)  # cause -> effect
        state = np.zeros(n, dtype=np.int8)
        back: set[tuple[int, int]] = set()
        for root in range(n):
            if state[root]:
                continue
            stack = [(root, 0)]
            state[root] = 1
            while stack:
                node, pos = stack[-1]
                if pos < len(children[node]):
                    stack[-1] = (node, pos + 1)
                    nxt = children[node][pos]
                    if state[nxt] == 1:
                        back.add((nxt, node))  # (effect row, cause col)
                    elif state[nxt] == 0:
                        state[nxt] = 1
                        stack.append((nxt, 0))
                else:
                    state[node] = 2
                    stack.pop()
        is_back = np.array(
            [(r, c) in back for r, c in zip(coo.row.tolist(), coo.col.tolist(), strict=True)],
            dtype=bool,
        )
        f = sparse.csr_matrix((coo.data[~is_back], (coo.row[~is_back], coo.col[~is_back])), (n, n))
        g = sparse.csr_matrix((coo.data[is_back], (coo.row[is_back], coo.col[is_back])), (n, n))
        # levels of the acyclic part (longest path from a source)
        level = np.zeros(n, dtype=int)
        fc = f.tocsc()
        indeg = np.diff(f.indptr).copy()
        ready = list(np.flatnonzero(indeg == 0))
        while ready:
            nxt_ready = []
            for c in ready:
                for r in fc.indices[fc.indptr[c] : fc.indptr[c + 1]]:
                    level[r] = max(level[r], level[c] + 1)
                    indeg[r] -= 1
                    if indeg[r] == 0:
                        nxt_ready.append(r)
            ready = nxt_ready
        # renumber by level so that each level is a contiguous block of rows
        perm = np.argsort(level, kind="stable")
        self.perm = perm
        self.inv_perm = np.empty_like(perm)
        self.inv_perm[perm] = np.arange(n)
        f = f[perm][:, perm].tocsr()
        g = g[perm][:, perm].tocsr()
        bounds = np.searchsorted(level[perm], np.arange(int(level.max(initial=0)) + 2))
        self.levels: list[tuple[int, int, sparse.csr_matrix]] = []
        for lev in range(1, int(level.max(initial=0)) + 1):
            lo, hi = int(bounds[lev]), int(bounds[lev + 1])
            if hi > lo:
                self.levels.append((lo, hi, f[lo:hi, :lo].tocsr()))
        self.cols = np.unique(g.indices)
        self.g_cols = g[:, self.cols].tocsr()
        self.singular = False
        if self.cols.size:
            z = self._forward(self.g_cols.toarray())
            small = np.eye(self.cols.size) - z[self.cols]
            try:
                self.k = np.linalg.inv(small)
            except np.linalg.LinAlgError:
                self.singular = True
                self.k = np.full_like(small, np.nan)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """``(I − F)⁻¹ x`` in place, in level order."""
        for lo, hi, frows in self.levels:
            x[lo:hi] += frows @ x[:lo]
        return x

    def solve_permuted(self, rp: np.ndarray) -> np.ndarray:
        """``(I − B)⁻¹ r`` with rows in level order, in place of ``rp``."""
        y = self._forward(rp)
        if self.cols.size:
            corr = self.g_cols @ (self.k @ y[self.cols])
            y += self._forward(corr)
        return y

    def solve(self, r: np.ndarray) -> np.ndarray:
        """``(I − B)⁻¹ r`` for ``r`` of shape (n,) or (n, q) (a new array)."""
        rp = np.asarray(r, dtype=float)[self.perm]
        return self.solve_permuted(rp)[self.inv_perm]


@dataclass(frozen=True, eq=False)
class _Linear:
    """The roll-up at fixed availability: ``a = (I − B)⁻¹ (Vm·s_m + Vo·okr + c)``.

    Normalisation (each effect's denominator) is read from the coverage that
    :func:`~stratlab.scoring.rollup_all` reports, so the weights are exactly
    those of the one roll-up; only the linear algebra is re-arranged.
    """

    compiled: Compiled
    m_avail: np.ndarray
    k_avail: np.ndarray
    obj_avail: np.ndarray
    okr_avail: np.ndarray
    persp_avail: np.ndarray
    weight: np.ndarray  # objective denominators
    links: dict[int, sparse.csr_matrix]  # normalised per lag
    vm: sparse.csr_matrix
    vo: sparse.csr_matrix
    const: np.ndarray
    okr_map: np.ndarray  # (n_okr × n_kr)
    persp: sparse.csr_matrix

    @cached_property
    def total(self) -> sparse.csr_matrix:
        from scipy import sparse

        n = len(self.compiled.objectives)
        out = sparse.csr_matrix((n, n))
        for mat in self.links.values():
            out = out + mat
        return out.tocsr()

    @cached_property
    def solver(self) -> _ForwardSolver:
        return _ForwardSolver(self.total)

    @cached_property
    def permuted(self) -> tuple[sparse.csr_matrix, sparse.csr_matrix, np.ndarray]:
        """``vm``, ``vo`` and ``const`` with rows in the solver's level order."""
        perm = self.solver.perm
        return self.vm[perm].tocsr(), self.vo[perm].tocsr(), self.const[perm]

    def objectives(self, m_scores: np.ndarray, k_scores: np.ndarray) -> np.ndarray:
        """Objective scores for leaf scores of shape (n_m, q) / (n_kr, q) (or 1-D)."""
        okr = self.okr_map @ np.nan_to_num(k_scores)
        rhs = self.vm @ np.nan_to_num(m_scores) + self.vo @ okr
        rhs = rhs + (self.const[:, None] if rhs.ndim == 2 else self.const)
        a = self.solver.solve(rhs)
        a[~self.obj_avail] = np.nan
        return a

    @cached_property
    def driver_scores(self) -> dict[int, sparse.csr_matrix]:
        """Driver links in score space: ``Δs_j = coef × range_i / range_j × Δs_i`` (non-band measures)."""
        from scipy import sparse

        from .scoring import _measure_params

        p = _measure_params(self.compiled.model)
        rng = p["target"] - p["baseline"]
        ok = np.isfinite(rng) & (rng != 0) & ~p["band"] & self.m_avail
        r = np.where(ok, rng, 0.0)
        rinv = np.where(ok, 1.0 / np.where(ok, rng, 1.0), 0.0)
        return {
            lag: (sparse.diags(rinv) @ mat @ sparse.diags(r)).tocsr()
            for lag, mat in self.compiled.drivers.items()
        }

    @cached_property
    def driver_total(self) -> np.ndarray | None:
        """Dense ``(I − D_s)⁻¹`` over every lag (None without drivers)."""
        if not self.driver_scores:
            return None
        n = len(self.compiled.measures)
        total = np.eye(n)
        for mat in self.driver_scores.values():
            total = total - mat.toarray()
        return np.linalg.inv(total)

    @cached_property
    def effects(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense total effects (objectives × measures, objectives × key results), per unit score."""
        vm = self.vm.toarray()
        if self.driver_total is not None:
            vm = vm @ self.driver_total
        em = self.solver.solve(vm * self.m_avail)
        ek = self.solver.solve((self.vo @ self.okr_map) * self.k_avail)
        em[~self.obj_avail] = 0.0
        ek[~self.obj_avail] = 0.0
        return em, ek


def _linear(compiled: Compiled, m_scores: np.ndarray, k_scores: np.ndarray) -> _Linear:
    """The linear roll-up at the availability of these leaf scores (steady state)."""
    from scipy import sparse

    rolled = _safe_rollup(compiled, m_scores, k_scores, None)
    m_avail = np.isfinite(m_scores)
    k_avail = np.isfinite(k_scores)
    obj_avail = np.isfinite(rolled["objective"])
    okr_avail = np.isfinite(rolled["okr"])
    persp_avail = np.isfinite(rolled["perspective"])

    def inv_of(weight: np.ndarray, avail: np.ndarray) -> np.ndarray:
        ok = avail & (weight > 0)
        return np.where(ok, 1.0 / np.where(ok, weight, 1.0), 0.0)

    w_obj = np.nan_to_num(rolled["objective_coverage"]) * compiled.full_weight
    inv_o = sparse.diags(inv_of(w_obj, obj_avail))
    links = _normalised_links(compiled, rolled)
    vm = (inv_o @ compiled.measure_weights @ sparse.diags(m_avail.astype(float))).tocsr()
    vo = (inv_o @ compiled.okr_weights @ sparse.diags(okr_avail.astype(float))).tocsr()
    const = np.zeros(len(compiled.objectives))
    for mat in links.values():
        neg = (abs(mat) - mat) / 2.0
        const += np.asarray(neg.sum(axis=1)).ravel()
    # OKRs: okr = (I − C)⁻¹ K s_k, normalised by each OKR's available weight
    full_okr = (
        np.asarray(compiled.kr_weights.sum(axis=1)).ravel()
        + np.asarray(abs(compiled.okr_children).sum(axis=1)).ravel()
    )
    w_okr = np.nan_to_num(rolled["okr_coverage"]) * full_okr
    inv_k = inv_of(w_okr, okr_avail)
    kn = (inv_k[:, None] * compiled.kr_weights.toarray()) * k_avail
    cn = (inv_k[:, None] * compiled.okr_children.toarray()) * okr_avail
    n_okr = len(compiled.okrs)
    okr_map = np.linalg.solve(np.eye(n_okr) - cn, kn) if n_okr else kn
    full_p = np.asarray(compiled.perspective_weights.sum(axis=1)).ravel()
    w_p = np.nan_to_num(rolled["perspective_coverage"]) * full_p
    persp = (
        sparse.diags(inv_of(w_p, persp_avail))
        @ compiled.perspective_weights
        @ sparse.diags(obj_avail.astype(float))
    ).tocsr()
    return _Linear(
        compiled,
        m_avail,
        k_avail,
        obj_avail,
        okr_avail,
        persp_avail,
        w_obj,
        links,
        vm,
        vo,
        const,
        okr_map,
        persp,
    )


def _full_linear(model: Model) -> _Linear:
    """The linear system with every input available (cached on the model)."""
    cached = model.__dict__.get("_engine_full_linear")
    if cached is not None:
        return cached
    compiled = compile_model(model)
    lin = _linear(
        compiled, np.full(len(compiled.measures), 0.5), np.full(len(compiled.key_results), 0.5)
    )
    model.__dict__["_engine_full_linear"] = lin
    return lin


# --------------------------------------------------------------------------- total effects


def _tidy_effects(
    model: Model, lin: _Linear, em: np.ndarray, ek: np.ndarray, extra: dict[str, Any] | None = None
) -> pd.DataFrame:
    import pandas as pd

    c = lin.compiled
    inputs = np.array(list(c.measures) + list(c.key_results), dtype=object)
    kinds = np.array(
        ["measure"] * len(c.measures) + ["key_result"] * len(c.key_results), dtype=object
    )
    eff = np.hstack([em, ek])
    rows, cols = np.nonzero(np.abs(eff) > 1e-15)
    frame = pd.DataFrame(
        {
            "input": inputs[cols],
            "input_kind": kinds[cols],
            "objective": np.array(c.objectives, dtype=object)[rows],
            "effect": eff[rows, cols],
        }
    )
    for k, v in (extra or {}).items():
        frame[k] = v
    return frame


def total_effects(model: Any, *, by_lag: bool = False, max_lag: int = 200) -> pd.DataFrame:
    """Total effect of every input on every objective: ``(I − B)⁻¹ V`` in score space.

    Inputs are measures (with their driver links, translated to score space:
    ``coefficient × (target − baseline)_cause / (target − baseline)_effect``;
    band measures take no part in drivers) and key results (through their
    OKRs).  Every input counts as available (full coverage); the effect is the
    change of the objective's long-run score per unit of the input's score,
    before any clipping.

    Parameters
    ----------
    model : Model, path or mapping
    by_lag : bool, default False
        Split each effect by the period in which it arrives (the increments of
        the step response; they sum to the total).
    max_lag : int, default 200
        With ``by_lag``, the last period followed (feedback loops never quite end).

    Returns
    -------
    pandas.DataFrame
        ``input, input_kind, objective, effect`` (non-zero effects only); with
        ``by_lag`` the columns are ``input, input_kind, objective, lag, effect``.
    """
    import pandas as pd

    from .model import load_model

    model = load_model(model)
    lin = _full_linear(model)
    if not by_lag:
        em, ek = lin.effects
        return _tidy_effects(model, lin, em, ek)[["input", "input_kind", "objective", "effect"]]
    frames = []
    for lag, (em, ek) in _effects_by_lag(lin, max_lag):
        f = _tidy_effects(model, lin, em, ek, {"lag": lag})
        if len(f):
            frames.append(f)
    cols = ["input", "input_kind", "objective", "lag", "effect"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)[cols]
    return out.sort_values(["input", "objective", "lag"], kind="stable").reset_index(drop=True)


def _effects_by_lag(lin: _Linear, max_lag: int) -> list[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    """Increments of the unit step response of every input, per period."""
    from scipy import sparse

    c = lin.compiled
    n_o, n_m, n_r = len(c.objectives), len(c.measures), len(c.key_results)
    lags = sorted(set(lin.links) | set(lin.driver_scores))
    kmax = max([*lags, 1])
    b0 = lin.links.get(0, sparse.csr_matrix((n_o, n_o)))
    solver0 = _ForwardSolver(b0)
    d0 = lin.driver_scores.get(0)
    d0_inv = None if d0 is None else np.linalg.inv(np.eye(n_m) - d0.toarray())
    # unit steps: identity on measures, identity on key results (through OKRs)
    u_m = np.hstack([np.diag(lin.m_avail.astype(float)), np.zeros((n_m, n_r))])
    okr_in = np.hstack([np.zeros((len(c.okrs), n_m)), lin.okr_map * lin.k_avail])
    s_hist: list[np.ndarray] = []
    a_hist: list[np.ndarray] = []
    out = []
    quiet = 0
    for t in range(max_lag + 1):
        rhs_s = u_m.copy()
        for lag, mat in lin.driver_scores.items():
            if lag > 0 and t - lag >= 0:
                rhs_s += mat @ s_hist[t - lag]
        s_t = rhs_s if d0_inv is None else d0_inv @ rhs_s
        rhs_a = lin.vm @ s_t + lin.vo @ okr_in
        for lag, mat in lin.links.items():
            if lag > 0 and t - lag >= 0:
                rhs_a += mat @ a_hist[t - lag]
        # constant part (inverse links) is not an effect of the inputs
        a_t = solver0.solve(rhs_a)
        a_t[~lin.obj_avail] = 0.0
        s_hist.append(s_t)
        a_hist.append(a_t)
        inc = a_t - (a_hist[t - 1] if t else 0.0)
        if np.abs(inc).max(initial=0.0) > 1e-14:
            out.append((t, (inc[:, :n_m], inc[:, n_m:])))
            quiet = 0
        else:
            quiet += 1
            if quiet >= kmax:
                break
    else:
        warnings.warn(
            f"total_effects(by_lag=True): effects still arriving after {max_lag} periods "
            "(a slow feedback loop); the lags shown do not add up to the total.",
            StratlabWarning,
            stacklevel=3,
        )
    return out


def sensitivity(
    model: Any,
    history: Any = None,
    *,
    low: float = 0.0,
    high: float = 1.0,
    top: int | None = None,
) -> pd.DataFrame:
    """Tornado data: each input's score from ``low`` to ``high``, the swing of each top objective.

    Other inputs stay at their current scores; inputs without a score are left
    out (as in scoring).  The map is linear at fixed availability, so each
    objective's long-run score moves by ``effect × (x − current score)``
    (driver links included, clipping of driven measures ignored).

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path, optional
        Current values are read from it as in :func:`stratlab.score`.
    low, high : float, default 0 and 1
        Input scores at the two ends.
    top : int, optional
        Keep the ``top`` largest swings for each objective.

    Returns
    -------
    pandas.DataFrame
        ``input, input_kind, objective, low, high, swing``, for objectives of
        the top perspective, ranked by ``|swing|`` (largest first) within each
        objective.
    """
    import pandas as pd

    from .model import load_model

    model = load_model(model)
    for name, val in (("low", low), ("high", high)):
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            raise InputError(
                Problem(f"{name}={val!r} is not a finite number.", fix="e.g. low=0, high=1.")
            )
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InputError(Problem(f"top={top!r} must be a whole number ≥ 1.", fix="e.g. top=10."))
    base = _baseline(model, history, None)
    c = base.compiled
    lin = _linear(c, base.m_scores, base.k_scores)
    a0 = lin.objectives(base.m_scores, base.k_scores)
    em, ek = lin.effects
    top_p = model.perspectives[-1].id
    sel = [i for i, o in enumerate(model.objectives) if o.perspective == top_p]
    cur = np.concatenate([base.m_scores, base.k_scores])
    eff = np.hstack([em, ek])
    inputs = list(c.measures) + list(c.key_results)
    kinds = ["measure"] * len(c.measures) + ["key_result"] * len(c.key_results)
    frames = []
    for i in sel:
        ok = np.isfinite(cur) & (np.abs(eff[i]) > 1e-15) & np.isfinite(a0[i])
        idx = np.flatnonzero(ok)
        lo = a0[i] + eff[i, idx] * (low - cur[idx])
        hi = a0[i] + eff[i, idx] * (high - cur[idx])
        f = pd.DataFrame(
            {
                "input": [inputs[j] for j in idx],
                "input_kind": [kinds[j] for j in idx],
                "objective": c.objectives[i],
                "low": lo,
                "high": hi,
                "swing": hi - lo,
            }
        )
        f = f.iloc[np.argsort(-np.abs(f["swing"].to_numpy()), kind="stable")]
        frames.append(f.head(top) if top else f)
    cols = ["input", "input_kind", "objective", "low", "high", "swing"]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def rank_initiatives(model: Any, history: Any = None) -> pd.DataFrame:
    """Initiatives ranked by their long-run effect on the top perspective per unit of budget.

    Each initiative's ``uplift`` is applied as shifts (:func:`whatif`); its
    effect is the change of the top perspective's long-run score.

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path, optional

    Returns
    -------
    pandas.DataFrame
        ``id, name, budget, effect, effect_per_budget, rank``, best first;
        a missing or zero budget gives a NaN ratio, ranked after the others
        (by effect).
    """
    import pandas as pd

    from .model import load_model

    model = load_model(model)
    top = model.perspectives[-1].id
    rows = []
    for ini in model.initiatives:
        res = whatif(model, [(k, "shift", v) for k, v in ini.uplift], history, horizon=0)
        lr = res.long_run
        eff = float(lr.loc[lr["id"] == top, "delta"].iloc[0])
        budget = np.nan if ini.budget is None else float(ini.budget)
        ratio = eff / budget if budget and np.isfinite(budget) else np.nan
        rows.append((ini.id, ini.name, budget, eff, ratio))
    frame = pd.DataFrame(rows, columns=["id", "name", "budget", "effect", "effect_per_budget"])
    if len(frame):
        key_ratio = frame["effect_per_budget"].fillna(-np.inf)
        has = frame["effect_per_budget"].notna()
        order = np.lexsort(
            (-frame["effect"].fillna(-np.inf).to_numpy(), -key_ratio.to_numpy(), ~has.to_numpy())
        )
        frame = frame.iloc[order].reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame
