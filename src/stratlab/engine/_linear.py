"""The linear system a = B·a + V·s + c: forward solver and total-effect matrices."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ._baseline import Baseline, get_baseline, reachable_measures, safe_rollup
from ._compile import Compiled, compile_model
from ._stability import _normalised_links

if TYPE_CHECKING:
    from scipy import sparse

    from ..model import Model


# --------------------------------------------------------------------------- linear system


class ForwardSolver:
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
class LinearSystem:
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
    def solver(self) -> ForwardSolver:
        return ForwardSolver(self.total)

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

        from ._scores import measure_params

        p = measure_params(self.compiled.model)
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


def linear_system(compiled: Compiled, m_scores: np.ndarray, k_scores: np.ndarray) -> LinearSystem:
    """The linear roll-up at the availability of these leaf scores (steady state)."""
    from scipy import sparse

    rolled = safe_rollup(compiled, m_scores, k_scores, None)
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
    return LinearSystem(
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


#: per baseline: its linear system (the baseline's own lifetime)
_BASELINE_SYSTEMS: weakref.WeakKeyDictionary[Baseline, LinearSystem] = weakref.WeakKeyDictionary()


def baseline_system(base: Baseline) -> LinearSystem:
    """:func:`linear_system` at a baseline's leaf scores, built once per baseline.

    A review asks for it several times for one history (sensitivity, the
    tornados, each Monte Carlo run of the outlook fan, planning).
    """
    hit = _BASELINE_SYSTEMS.get(base)
    if hit is None:
        hit = _BASELINE_SYSTEMS[base] = linear_system(base.compiled, base.m_scores, base.k_scores)
    return hit


def full_linear(model: Model) -> LinearSystem:
    """The linear system with every input available (cached on the model)."""

    def build() -> LinearSystem:
        compiled = compile_model(model)
        return linear_system(
            compiled, np.full(len(compiled.measures), 0.5), np.full(len(compiled.key_results), 0.5)
        )

    return model.cache.get("engine.full_linear", build)


# --------------------------------------------------------------------------- long-run map (planning)


@dataclass(frozen=True, eq=False)
class LongRunMap:
    """The long-run roll-up at the current availability, as a linear map of leaf scores.

    Internal engine API (used by :mod:`stratlab.planning`).  With every link read
    at the same time and leaf scores ``s_m`` (measures) and ``s_k`` (key
    results) that keep the current availability::

        objectives   = objective_scores + Em · (s_m − m_scores) + Ek · (s_k − k_scores)
        OKRs         = okr_scores + okr_map · (s_k − k_scores)
        perspectives = perspective_scores + persp · (objectives − objective_scores)

    ``Em``/``Ek`` are the direct effects ``(I − B)⁻¹V`` (driver links *not*
    folded in: :meth:`driver_response` gives them in natural units, so the
    caller scores and clips each driven measure itself).  This is the map of
    :func:`stratlab.whatif`'s long run, exactly.
    """

    model: Model
    m_values: np.ndarray
    m_scores: np.ndarray
    k_values: np.ndarray
    k_scores: np.ndarray
    objective_scores: np.ndarray
    okr_scores: np.ndarray
    perspective_scores: np.ndarray
    _lin: LinearSystem = field(repr=False)

    def rows(self, node_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Effects of leaf scores on the long-run scores of some nodes.

        Parameters
        ----------
        node_ids : sequence of str
            Objectives, perspectives or OKRs.

        Returns
        -------
        (Em, Ek, base) : (len × n_measures), (len × n_key_results), (len,)
            Per unit of each leaf's score, and the nodes' current long-run scores
            (NaN for a node without a score).
        """
        from scipy import sparse
        from scipy.sparse.linalg import splu

        lin = self._lin
        c = lin.compiled
        n_o, n_m, n_k = len(c.objectives), len(c.measures), len(c.key_results)
        sel_obj = np.zeros((len(node_ids), n_o))
        em = np.zeros((len(node_ids), n_m))
        ek = np.zeros((len(node_ids), n_k))
        base = np.full(len(node_ids), np.nan)
        persp = lin.persp.toarray()
        okr_ek = (lin.vo @ lin.okr_map) * lin.k_avail
        for r, node in enumerate(node_ids):
            kind = self.model.kind_of(node)
            i = c.index[node]
            if kind == "objective":
                sel_obj[r, i] = 1.0
                base[r] = self.objective_scores[i]
            elif kind == "perspective":
                sel_obj[r] = persp[i]
                base[r] = self.perspective_scores[i]
            elif kind == "okr":
                ek[r] = lin.okr_map[i] * lin.k_avail
                base[r] = self.okr_scores[i]
        if sel_obj.any():
            system = (sparse.identity(n_o, format="csc") - lin.total.T).tocsc()
            y = np.asarray(splu(system).solve(np.ascontiguousarray(sel_obj.T)))  # (n_o × len)
            y[~lin.obj_avail] = 0.0
            y = y.T
            em += np.asarray((sparse.csr_matrix(y) @ lin.vm).todense()) * lin.m_avail
            ek += np.asarray(y @ okr_ek)
        return em, ek, base

    def driver_response(self, measures: Sequence[int]) -> sparse.csc_matrix:
        """Long-run natural-unit change of every measure per unit shift of some measures.

        The total driver effect ``(I − D)⁻¹`` (every lag) restricted to the given
        columns (measure positions in model order), as :func:`stratlab.whatif` applies a
        shift.  Sparse ``(n_measures × len)``: a measure without driver links
        moves only itself.
        """
        from scipy import sparse

        c = self._lin.compiled
        n = len(c.measures)
        cols = np.asarray(measures, dtype=int)
        eye = sparse.csc_matrix(
            (np.ones(cols.size), (cols, np.arange(cols.size))), shape=(n, cols.size)
        )
        if not c.drivers or not cols.size:
            return eye
        mats = list(c.drivers.values())
        union = abs(mats[0])
        for mat in mats[1:]:
            union = union + abs(mat)
        linked = np.zeros(n, dtype=bool)
        rows, causes = union.nonzero()
        linked[rows] = True
        linked[causes] = True
        driven = np.flatnonzero(linked[cols])
        if not driven.size:
            return eye
        idx = reachable_measures(c, cols[driven])
        total = np.eye(idx.size)
        for mat in c.drivers.values():
            total = total - mat[idx][:, idx].toarray()
        pos = {int(j): p for p, j in enumerate(idx)}
        rhs = np.zeros((idx.size, driven.size))
        rhs[[pos[int(j)] for j in cols[driven]], np.arange(driven.size)] = 1.0
        sol = sparse.coo_matrix(np.linalg.solve(total, rhs))
        moved = sparse.csc_matrix((sol.data, (idx[sol.row], driven[sol.col])), shape=(n, cols.size))
        keep = np.ones(cols.size)
        keep[driven] = 0.0
        return (eye @ sparse.diags(keep) + moved).tocsc()


def long_run_map(model: Model, history: Any = None) -> LongRunMap:
    """The long-run map of :func:`whatif` as a linear map of leaf scores (internal engine API).

    Parameters
    ----------
    model : Model
    history : DataFrame or path, optional
        Current values as in :func:`stratlab.score`.

    Returns
    -------
    LongRunMap
    """
    base = get_baseline(model, history, None)
    lin = baseline_system(base)
    steady = base.steady
    return LongRunMap(
        model,
        base.m_values,
        base.m_scores,
        base.k_values,
        base.k_scores,
        steady["objective"],
        steady["okr"],
        steady["perspective"],
        lin,
    )
