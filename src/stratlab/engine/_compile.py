"""The model compiled once into sparse matrices, and the weighted roll-up solver.

Everything that rolls scores up the map (scoring, score histories, what-if,
dynamics, Monte Carlo) goes through :func:`solve_weighted`, so there is one
implementation of DESIGN.md's rule: an objective's attainment is the weighted
combination of its own measures, aligned OKRs and incoming links, weights
normalised so their absolute values sum to 1 over the inputs that have a score,
an inverse link entering as ``1 − cause``.

In matrix form, for the objectives that have data::

    a = B·a + V·s + c

with ``B`` the normalised signed link weights among objectives read at the same
time (lag 0, and every lag in the steady state), ``V`` the normalised weights of
measures and OKRs, and ``c`` the constant part of inverse links and of lagged
causes read from the history.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

    from ..model import Model

__all__ = ["Compiled", "RollupResult", "compile_model", "solve_weighted"]


@dataclass(frozen=True, eq=False)
class Compiled:
    """Index maps and sparse matrices of a model (rows are effects, columns causes).

    Attributes
    ----------
    objectives, measures, okrs, key_results, perspectives : tuple of str
        Node ids in model order; the position is the row/column index.
    measure_weights : csr (n_objectives × n_measures)
        Each measure's weight on its objective.
    okr_weights : csr (n_objectives × n_okrs)
        Each OKR's weight on the objective it aligns to.
    links : dict lag -> csr (n_objectives × n_objectives)
        Signed objective-link weights, ``[effect, cause]``.
    kr_weights : csr (n_okrs × n_key_results); okr_children : csr (n_okrs × n_okrs)
        Key results and child OKRs feeding each OKR.
    perspective_weights : csr (n_perspectives × n_objectives)
        Objective weights in their perspective.
    drivers : dict lag -> csr (n_measures × n_measures)
        Driver coefficients, ``[effect, cause]``, natural units.
    """

    model: Model
    objectives: tuple[str, ...]
    measures: tuple[str, ...]
    okrs: tuple[str, ...]
    key_results: tuple[str, ...]
    perspectives: tuple[str, ...]
    measure_weights: sparse.csr_matrix
    okr_weights: sparse.csr_matrix
    links: dict[int, sparse.csr_matrix]
    kr_weights: sparse.csr_matrix
    okr_children: sparse.csr_matrix
    perspective_weights: sparse.csr_matrix
    drivers: dict[int, sparse.csr_matrix]

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of every id within its own kind."""
        out: dict[str, int] = {}
        for ids in (self.objectives, self.measures, self.okrs, self.key_results, self.perspectives):
            out.update({k: i for i, k in enumerate(ids)})
        return out

    @cached_property
    def objective_inputs(self) -> sparse.csr_matrix:
        """Measures then OKRs as one input matrix (n_objectives × (n_measures + n_okrs))."""
        from scipy import sparse

        return sparse.hstack([self.measure_weights, self.okr_weights]).tocsr()

    @cached_property
    def has_own_inputs(self) -> np.ndarray:
        """Objectives with measures or aligned OKRs of their own (bool, n_objectives)."""
        return np.diff(self.objective_inputs.indptr) > 0

    @cached_property
    def max_lag(self) -> int:
        return max([*self.links, *self.drivers, 0])

    @cached_property
    def all_links(self) -> sparse.csr_matrix:
        """Sum of the link matrices over every lag (the steady-state coupling)."""
        from scipy import sparse

        n = len(self.objectives)
        total = sparse.csr_matrix((n, n))
        for mat in self.links.values():
            total = total + mat
        return total.tocsr()

    @cached_property
    def full_weight(self) -> np.ndarray:
        """Sum of absolute raw input weights of each objective (the denominator at full coverage)."""
        return (
            np.asarray(self.measure_weights.sum(axis=1)).ravel()
            + np.asarray(self.okr_weights.sum(axis=1)).ravel()
            + np.asarray(abs(self.all_links).sum(axis=1)).ravel()
        )

    @cached_property
    def driver_union(self) -> Any:
        """``|drivers|`` summed over every lag (which measure drives which); dense when small."""
        n = len(self.measures)
        if not self.drivers:
            return None
        mats = list(self.drivers.values())
        union = abs(mats[0])
        for mat in mats[1:]:
            union = union + abs(mat)
        return union.toarray() if n * n <= _DENSE_LIMIT else union.tocsr()

    @cached_property
    def dense_drivers(self) -> dict[int, np.ndarray] | None:
        """The driver matrices as dense arrays per lag, for small maps (else None)."""
        n = len(self.measures)
        if n * n > _DENSE_LIMIT:
            return None
        return {lag: mat.toarray() for lag, mat in self.drivers.items()}

    @cached_property
    def topological_order(self) -> tuple[str, ...]:
        """Objectives ordered so every lag-0 cause comes before its effect."""
        n = len(self.objectives)
        lag0 = self.links.get(0)
        indeg = np.zeros(n, dtype=int)
        children: list[list[int]] = [[] for _ in range(n)]
        if lag0 is not None:
            coo = lag0.tocoo()
            for effect, cause in zip(coo.row, coo.col, strict=True):
                indeg[effect] += 1
                children[cause].append(int(effect))
        ready = [i for i in range(n) if indeg[i] == 0]
        order: list[int] = []
        while ready:
            i = ready.pop(0)
            order.append(i)
            for j in children[i]:
                indeg[j] -= 1
                if indeg[j] == 0:
                    ready.append(j)
        return tuple(self.objectives[i] for i in order)


def compile_model(model: Model) -> Compiled:
    """Compile a model into sparse matrices (cached on the model: compile once)."""
    return model.cache.get("engine.compiled", lambda: _compile(model))


def _compile(model: Model) -> Compiled:
    from scipy import sparse

    objectives = tuple(o.id for o in model.objectives)
    measures = tuple(m.id for m in model.measures)
    okrs = tuple(o.id for o in model.okrs)
    krs = tuple(kr.id for kr in model.key_results)
    perspectives = tuple(p.id for p in model.perspectives)
    oi = {k: i for i, k in enumerate(objectives)}
    mi = {k: i for i, k in enumerate(measures)}
    ki = {k: i for i, k in enumerate(okrs)}
    ri = {k: i for i, k in enumerate(krs)}
    pi = {k: i for i, k in enumerate(perspectives)}

    def mat(
        rows: list[int], cols: list[int], vals: list[float], shape: tuple[int, int]
    ) -> sparse.csr_matrix:
        return sparse.csr_matrix((np.asarray(vals, dtype=float), (rows, cols)), shape=shape)

    n_o, n_m, n_k, n_r, n_p = len(objectives), len(measures), len(okrs), len(krs), len(perspectives)
    mw = mat(
        [oi[m.objective] for m in model.measures],
        list(range(n_m)),
        [m.weight for m in model.measures],
        (n_o, n_m),
    )
    aligned = [o for o in model.okrs if o.aligns_to in oi]
    ow = mat(
        [oi[o.aligns_to] for o in aligned],
        [ki[o.id] for o in aligned],
        [o.weight for o in aligned],
        (n_o, n_k),
    )
    children = [o for o in model.okrs if o.aligns_to in ki]
    oc = mat(
        [ki[o.aligns_to] for o in children],
        [ki[o.id] for o in children],
        [o.weight for o in children],
        (n_k, n_k),
    )
    kw = mat(
        [ki[kr.okr] for kr in model.key_results],
        [ri[kr.id] for kr in model.key_results],
        [kr.weight for kr in model.key_results],
        (n_k, n_r),
    )
    pw = mat(
        [pi[o.perspective] for o in model.objectives],
        list(range(n_o)),
        [o.weight for o in model.objectives],
        (n_p, n_o),
    )

    links: dict[int, sparse.csr_matrix] = {}
    drivers: dict[int, sparse.csr_matrix] = {}
    for lag in sorted({lk.lag for lk in model.objective_links}):
        sel = [lk for lk in model.objective_links if lk.lag == lag]
        links[lag] = mat(
            [oi[lk.target] for lk in sel],
            [oi[lk.source] for lk in sel],
            [float(lk.weight or 0.0) for lk in sel],
            (n_o, n_o),
        )
    for lag in sorted({lk.lag for lk in model.driver_links}):
        sel = [lk for lk in model.driver_links if lk.lag == lag]
        drivers[lag] = mat(
            [mi[lk.target] for lk in sel],
            [mi[lk.source] for lk in sel],
            [float(lk.coefficient or 0.0) for lk in sel],
            (n_m, n_m),
        )
    return Compiled(
        model, objectives, measures, okrs, krs, perspectives, mw, ow, links, kw, oc, pw, drivers
    )


@dataclass(frozen=True)
class RollupResult:
    """Scores of the effects of one weighted roll-up, with coverage (share of weight that had data)."""

    scores: np.ndarray
    coverage: np.ndarray


@dataclass(frozen=True, eq=False)
class _Prepared:
    """A raw-weight matrix made ready for repeated roll-ups (dense when small)."""

    mat: Any
    absm: Any
    neg: Any  # |w| where w < 0
    rowsum: np.ndarray
    dense: bool


_PREPARED: dict[int, _Prepared] = {}
_DENSE_LIMIT = 250_000  # cells; small maps are faster as dense numpy arrays


def _prepare(mat: Any) -> _Prepared:
    """Derived forms of a weight matrix, computed once per matrix object (weakly cached)."""
    key = id(mat)
    hit = _PREPARED.get(key)
    if hit is not None:
        return hit
    dense = mat.shape[0] * mat.shape[1] <= _DENSE_LIMIT
    m = mat.toarray() if dense else mat.tocsr()
    absm = abs(m) if dense else abs(m).tocsr()
    neg = (absm - m) / 2.0
    prepared = _Prepared(m, absm, neg, np.asarray(absm.sum(axis=1)).ravel().astype(float), dense)
    _PREPARED[key] = prepared
    weakref.finalize(mat, _PREPARED.pop, key, None)
    return prepared


def solve_weighted(
    inputs: sparse.csr_matrix,
    values: np.ndarray,
    coupling: sparse.csr_matrix | None = None,
    *,
    fixed: list[tuple[sparse.csr_matrix, np.ndarray]] | None = None,
    full_weight: np.ndarray | None = None,
    blocked: np.ndarray | None = None,
) -> RollupResult:
    """Weighted roll-up with renormalisation over the inputs that have a score.

    Parameters
    ----------
    inputs : csr (n × m)
        Non-negative raw weights of exogenous inputs (measures, OKRs…).
    values : ndarray (m,)
        Their scores; NaN where there is none.
    coupling : csr (n × n), optional
        Signed raw weights among the effects themselves, read simultaneously
        (a negative weight is an inverse link: ``1 − cause``).
    fixed : list of (csr (n × n), ndarray (n,)), optional
        Signed raw weights of lagged links whose cause values are known (read
        from the history); NaN causes are left out.
    full_weight : ndarray (n,), optional
        Denominator of the coverage (default: the sum of every raw weight given).
    blocked : ndarray of bool (n,), optional
        Effects that get no score whatever their inputs (and so are left out
        as causes of the others): objectives with inputs of their own but no
        data on any of them.

    Returns
    -------
    RollupResult
        ``scores`` (NaN for effects with no scored input) and ``coverage``.

    Notes
    -----
    Matrices are prepared once per object (absolute values, inverse parts, row
    sums; dense when small), so pass the same matrix objects on repeated calls.
    """
    inp = _prepare(inputs)
    n = inputs.shape[0]
    finite = np.isfinite(values)
    v0 = np.where(finite, values, 0.0)
    weight = inp.mat @ finite.astype(float)
    rhs = inp.mat @ v0
    total_full = inp.rowsum.copy()
    for mat, cause in fixed or ():
        lag = _prepare(mat)
        fin = np.isfinite(cause).astype(float)
        weight = weight + lag.absm @ fin
        rhs = rhs + lag.mat @ np.where(fin > 0, cause, 0.0) + lag.neg @ fin
        total_full = total_full + lag.rowsum
    avail = weight > 0
    free = np.ones(n, dtype=bool) if blocked is None else ~np.asarray(blocked, dtype=bool)
    avail &= free
    cpl = _prepare(coupling) if coupling is not None and coupling.nnz else None
    if cpl is not None:
        total_full = total_full + cpl.rowsum
        while True:
            grown = (avail | ((cpl.absm @ avail.astype(float)) > 0)) & free
            if (grown == avail).all():
                break
            avail = grown
        weight = weight + cpl.absm @ avail.astype(float)
        rhs = rhs + cpl.neg @ avail.astype(float)
    if full_weight is not None:
        total_full = full_weight
    scores = np.full(n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.where(total_full > 0, weight / total_full, np.nan)
    idx = np.flatnonzero(avail)
    if idx.size == 0:
        return RollupResult(scores, coverage)
    inv = 1.0 / weight[idx]
    b = rhs[idx] * inv
    if cpl is not None:
        if cpl.dense:
            sub = cpl.mat[np.ix_(idx, idx)]
            if sub.any():
                b = np.linalg.solve(np.eye(idx.size) - inv[:, None] * sub, b)
        else:
            from scipy import sparse
            from scipy.sparse.linalg import spsolve

            sub = cpl.mat[idx][:, idx]
            if sub.nnz:
                system = sparse.identity(idx.size, format="csc") - sparse.diags(inv) @ sub
                b = spsolve(system.tocsc(), b)
    scores[idx] = b
    return RollupResult(scores, coverage)
