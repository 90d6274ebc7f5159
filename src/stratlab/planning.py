"""From what-if to what-must: goal seeking and an initiative portfolio under a budget.

Both are exact optimisation problems on the engine's long-run map (the long
run of :func:`stratlab.whatif`): objectives are linear in the leaf scores,
``a = (I − B)⁻¹(V·s + c)`` (:func:`stratlab.propagation.long_run_map`), and
each measure or key result is scored by its piecewise-linear rule, clipped to
``[0, cap]``.  Driver links move measures in natural units, as what-if does.

Goal seeking (:func:`goal_seek`)
    The decision is each lever's own shift, in *raw score units* (a change of
    ``target − baseline`` in natural units is 1).  The effort is
    ``Σ effortᵢ × |Δscoreᵢ|``.  A lever moves at most to its cap (its raw score
    stays within ``[0, cap]``, or where it already is) and only in its good
    direction unless ``allow_worse``.  Where no score can reach a clip point
    (0 or the cap) the problem is a linear programme (HiGHS through
    :func:`scipy.optimize.linprog`).  Where one can — a lever below its
    baseline, a measure pushed by a driver link past its target — the clip is
    modelled exactly with two binary variables per such score
    (:func:`scipy.optimize.milp`); the optimum is then polished by the linear
    programme of the chosen regimes.  Plans are applied as shifts
    (``whatif(model, result.changes, history)``), which reproduces the targets.

Portfolio (:func:`plan_portfolio`)
    Initiatives' uplifts are shifts (natural units) that add up when several
    initiatives touch the same leaf.  For every leaf an initiative moves
    (directly or through driver links), every combination of the initiatives
    that move it is scored exactly (clipping, bands) and chosen by continuous
    variables tied to the binary selection, so the mixed-integer programme is
    exact.  ``goal="p_green"`` maximises the share of Monte Carlo scenarios
    (the draws of :func:`stratlab.simulate` with the same seed) in which the
    target is green (sample-average approximation, one binary per scenario).
    Ties are broken by the lower total budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from ._util import did_you_mean
from .errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from .engine import Change, LongRunMap
    from .model import Model

__all__ = [
    "GOAL_SEEK_COLUMNS",
    "PORTFOLIO_COLUMNS",
    "PORTFOLIO_TOTAL_COLUMNS",
    "GoalSeekResult",
    "PortfolioResult",
    "goal_seek",
    "plan_portfolio",
]

GOAL_SEEK_COLUMNS = [
    "id",
    "kind",
    "name",
    "unit",
    "before",
    "after",
    "change",
    "score_before",
    "score_after",
]
PORTFOLIO_COLUMNS = ["id", "name", "budget", "selected", "marginal_effect"]
PORTFOLIO_TOTAL_COLUMNS = ["target", "goal", "budget", "budget_used", "before", "after"]
TARGET_KINDS = ("objective", "perspective", "okr")
MAX_SHARED = 12  # initiatives moving one leaf: 2**12 combinations at most
_TOL = 1e-9
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


# --------------------------------------------------------------------------- leaves


@dataclass(frozen=True, eq=False)
class _Leaves:
    """Measures then key results: values, raw-score transform ``(v − b)/r``, caps."""

    ids: list[str]
    kinds: list[str]
    value: np.ndarray
    score: np.ndarray
    b: np.ndarray
    r: np.ndarray  # NaN where the leaf has no linear piece to move along
    cap: np.ndarray
    valid_lo: np.ndarray  # natural-unit range where the raw formula is the score (bands)
    valid_hi: np.ndarray
    n_m: int

    @property
    def raw(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.value - self.b) / self.r


def _leaves(model: Model, eng: LongRunMap) -> _Leaves:
    ids, kinds = [], []
    b, r, cap, vlo, vhi = [], [], [], [], []
    for m, v in zip(model.measures, eng.m_values, strict=True):
        ids.append(m.id)
        kinds.append("measure")
        cap.append(float(m.cap))
        if m.direction == "band":
            lo, hi = m.band or (math.nan, math.nan)
            tol = float(m.tolerance) if m.tolerance else math.nan
            if not (math.isfinite(tol) and tol > 0 and math.isfinite(v)):
                b.append(math.nan)
                r.append(math.nan)
                vlo.append(-math.inf)
                vhi.append(math.inf)
            elif v <= (lo + hi) / 2:  # the low side: rises to 1 at the band's low end
                b.append(lo - tol)
                r.append(tol)
                vlo.append(-math.inf)
                vhi.append(hi)
            else:
                b.append(hi + tol)
                r.append(-tol)
                vlo.append(lo)
                vhi.append(math.inf)
        else:
            base = math.nan if m.baseline is None else float(m.baseline)
            rng = math.nan if m.target is None else float(m.target) - base
            b.append(base)
            r.append(rng if rng != 0 else math.nan)
            vlo.append(-math.inf)
            vhi.append(math.inf)
    for kr in model.key_results:
        ids.append(kr.id)
        kinds.append("key_result")
        rng = float(kr.target) - float(kr.start)
        b.append(float(kr.start))
        r.append(rng if rng != 0 else math.nan)
        cap.append(1.0)
        vlo.append(-math.inf)
        vhi.append(math.inf)
    value = np.concatenate([eng.m_values, eng.k_values]).astype(float)
    score = np.concatenate([eng.m_scores, eng.k_scores]).astype(float)
    r_arr = np.array(r, dtype=float)
    r_arr[~np.isfinite(value)] = np.nan
    return _Leaves(
        ids,
        kinds,
        value,
        score,
        np.array(b, dtype=float),
        r_arr,
        np.array(cap, dtype=float),
        np.array(vlo, dtype=float),
        np.array(vhi, dtype=float),
        len(model.measures),
    )


def _response(eng: LongRunMap, leaves: _Leaves, cols: Sequence[int]) -> Any:
    """Natural-unit long-run change of every leaf per unit natural shift of leaves ``cols``.

    Sparse ``(n_leaves × len(cols))`` (CSC): driver links for measures, the
    key result itself for key results.
    """
    from scipy import sparse

    n = len(leaves.ids)
    cols = [int(j) for j in cols]
    m_pos = [p for p, j in enumerate(cols) if j < leaves.n_m]
    k_pos = [p for p, j in enumerate(cols) if j >= leaves.n_m]
    rows_, cols_, vals = [cols[p] for p in k_pos], list(k_pos), [1.0] * len(k_pos)
    if m_pos:
        drv = eng.driver_response([cols[p] for p in m_pos]).tocoo()
        rows_ += drv.row.tolist()
        cols_ += [m_pos[c] for c in drv.col.tolist()]
        vals += drv.data.tolist()
    return sparse.csc_matrix((vals, (rows_, cols_)), shape=(n, len(cols)))


def _score_leaf(model: Model, leaves: _Leaves, j: int, values: np.ndarray) -> np.ndarray:
    """Exact score of leaf ``j`` at natural values (any shape), by the scoring rules."""
    from .engine import score_kr_values, score_measure_values

    flat = np.asarray(values, dtype=float).ravel()
    if j < leaves.n_m:
        arr = np.full((flat.size, leaves.n_m), np.nan)
        arr[:, j] = flat
        out = score_measure_values(model, arr)[:, j]
    else:
        n_k = len(leaves.ids) - leaves.n_m
        arr = np.full((flat.size, n_k), np.nan)
        arr[:, j - leaves.n_m] = flat
        out = score_kr_values(model, arr)[:, j - leaves.n_m]
    return out.reshape(np.shape(values))


# --------------------------------------------------------------------------- checks


def _check_target_id(model: Model, node: Any, what: str) -> str:
    if not isinstance(node, str) or node not in model:
        options = [o.id for o in model.objectives] + [p.id for p in model.perspectives]
        options += [o.id for o in model.okrs]
        close = did_you_mean(str(node), options)
        raise InputError(
            Problem(
                f"{what} {node!r} is not an objective, perspective or OKR of the model.",
                fix=close or "use an objective, perspective or OKR id.",
            )
        )
    kind = model.kind_of(node)
    if kind not in TARGET_KINDS:
        raise InputError(
            Problem(
                f"{what} {node!r} is a {kind}; targets are objectives, perspectives or OKRs.",
                fix="target the objective it belongs to, or change it directly with whatif().",
            )
        )
    return node


def _check_targets(model: Model, targets: Any) -> dict[str, float]:
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Mapping) or not targets:
        raise InputError(
            Problem(
                f"targets={targets!r} must be a non-empty mapping of node id to score.",
                fix="e.g. targets={'financial': 0.7}.",
            )
        )
    out: dict[str, float] = {}
    for node, goal in targets.items():
        _check_target_id(model, node, "target")
        if isinstance(goal, bool) or not isinstance(goal, (int, float, np.number)):
            raise InputError(
                Problem(f"target {node}={goal!r} is not a number.", fix=f"e.g. {{{node!r}: 0.7}}.")
            )
        if not math.isfinite(float(goal)):
            raise InputError(Problem(f"target {node}={goal!r} must be finite.", fix="e.g. 0.7."))
        out[node] = float(goal)
    return out


def _check_levers(model: Model, levers: Any, leaves: _Leaves) -> list[int]:
    pos = {k: i for i, k in enumerate(leaves.ids)}
    usable = np.isfinite(leaves.r) & np.isfinite(leaves.value)
    if levers is None:
        return [int(i) for i in np.flatnonzero(usable)]
    if isinstance(levers, str):
        levers = [levers]
    out: list[int] = []
    problems: list[Problem] = []
    for lever in levers:
        if lever not in pos:
            close = did_you_mean(str(lever), leaves.ids)
            kind = model.kind_of(lever) if isinstance(lever, str) and lever in model else None
            problems.append(
                Problem(
                    f"lever {lever!r} is a {kind}; levers are measures and key results."
                    if kind
                    else f"lever {lever!r} is not a measure or key result of the model.",
                    fix=close or "use measure or key-result ids (their scores roll up).",
                )
            )
            continue
        i = pos[lever]
        if not usable[i]:
            problems.append(
                Problem(
                    f"lever {lever!r} has no current value (or no range to move along).",
                    fix="give it a `current` value or history, or leave it out of the levers.",
                )
            )
            continue
        if i not in out:
            out.append(i)
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError(
            Problem("no levers to move.", fix="name at least one measure or key result.")
        )
    return out


def _check_effort(effort: Any, lever_ids: list[str]) -> np.ndarray:
    out = np.ones(len(lever_ids))
    if effort is None:
        return out
    if not isinstance(effort, Mapping):
        raise InputError(
            Problem(
                f"effort={effort!r} must be a mapping of lever id to a weight > 0.",
                fix="e.g. effort={'wait_min': 2}.",
            )
        )
    pos = {k: i for i, k in enumerate(lever_ids)}
    for key, val in effort.items():
        if key not in pos:
            close = did_you_mean(str(key), lever_ids)
            raise InputError(
                Problem(
                    f"effort given for {key!r}, which is not one of the levers.",
                    fix=close or "give effort for lever ids only.",
                )
            )
        if (
            isinstance(val, bool)
            or not isinstance(val, (int, float, np.number))
            or not (math.isfinite(float(val)) and float(val) > 0)
        ):
            raise InputError(
                Problem(
                    f"effort {key}={val!r} must be a number > 0.",
                    fix=f"e.g. effort={{{key!r}: 2}}.",
                )
            )
        out[pos[key]] = float(val)
    return out


def _rows(eng: LongRunMap, nodes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    try:
        em, ek, base = eng.rows(nodes)
    except RuntimeError as exc:  # singular (I − B): a closed loop with gain 1
        raise InputError(
            Problem(
                "the long run of this map is not defined: a feedback loop has gain 1.",
                fix="weaken a link in the loop, or give its objectives a measure or OKR with data.",
            )
        ) from exc
    for node, val in zip(nodes, base, strict=True):
        if not np.isfinite(val):
            raise InputError(
                Problem(
                    f"{node!r} has no score (none of its inputs has data), so it cannot be a target.",
                    fix="give its measures current values or a history.",
                )
            )
    return np.hstack([em, ek]), base


# --------------------------------------------------------------------------- goal seeking


@dataclass(frozen=True, eq=False)
class GoalSeekResult:
    """The smallest change of the levers that brings every target to its score.

    Attributes
    ----------
    model : Model
    targets : dict
        ``{node id: score}`` asked for.
    effort : float
        ``Σ effortᵢ × |Δscoreᵢ|`` of the plan (raw score units).
    changes : tuple of Change
        The plan as what-if shifts: ``whatif(model, result.changes, history)``.
    reached : dict
        ``{node id: long-run score}`` after the plan (from :func:`stratlab.whatif`).
    solver : str
        ``'linprog'`` or ``'milp'`` (clip points within reach).
    """

    model: Model
    targets: dict[str, float]
    effort: float
    changes: tuple[Change, ...]
    reached: dict[str, float]
    solver: str
    _frame: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The levers that move, then the targets.

        Returns
        -------
        pandas.DataFrame
            ``id, kind, name, unit, before, after, change, score_before,
            score_after``: one row per lever that moves (natural units for
            ``before``/``after``/``change``; long-run values, driver links
            included), then one row per target (scores throughout, unit
            ``score``).
        """
        return self._frame.copy()

    def __repr__(self) -> str:
        moved = len(self.changes)
        reached = ", ".join(f"{k} {v:.3f}" for k, v in self.reached.items())
        return (
            f"<GoalSeekResult: {moved} lever(s) move, effort {self.effort:.4g}; reached {reached}>"
        )

    def html(self) -> str:
        """The plan as an HTML table (the shared renderer of notebooks and reports)."""
        from .render import result_html

        goals = ", ".join(f"{k} ≥ {v:g}" for k, v in self.targets.items())
        return result_html(
            f"Goal seek: {goals}",
            self._frame,
            summary={"effort": self.effort, "levers moved": len(self.changes)},
            status_column=None,
        )

    def _repr_html_(self) -> str:
        return self.html()


@dataclass(frozen=True, eq=False)
class _Program:
    """min c·v  s.t.  A v ≤ b, bounds, some variables integral."""

    c: np.ndarray
    a: Any  # sparse
    b: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integral: np.ndarray


def _solve(prog: _Program) -> np.ndarray | None:
    """Optimal point, or None when infeasible. MILP first if needed, then polished by LP."""
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    lb, ub = prog.lb.copy(), prog.ub.copy()
    if prog.integral.any():
        cons = [LinearConstraint(prog.a, -np.inf, prog.b)] if prog.a.shape[0] else []
        res = milp(
            prog.c,
            integrality=prog.integral.astype(int),
            bounds=Bounds(lb, ub),
            constraints=cons,
            options={"mip_rel_gap": 1e-9},
        )
        if res.status == 2:
            return None
        if res.x is None:
            raise RuntimeError(f"the optimiser stopped: {res.message}")
        z = np.round(res.x[prog.integral])
        lb[prog.integral] = z
        ub[prog.integral] = z
    res = linprog(
        prog.c,
        A_ub=prog.a if prog.a.shape[0] else None,
        b_ub=prog.b if prog.a.shape[0] else None,
        bounds=np.column_stack([lb, ub]),
        method="highs",
        options=_LP_OPTIONS,
    )
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"the optimiser stopped: {res.message}")
    return np.asarray(res.x)


def goal_seek(
    model: Any,
    history: Any = None,
    *,
    targets: Mapping[str, float],
    levers: Sequence[str] | None = None,
    effort: Mapping[str, float] | None = None,
    view: str = "long run",
    allow_worse: bool = False,
) -> GoalSeekResult:
    """The smallest change of the levers that brings every target node to at least its score.

    Minimises ``Σ effortᵢ × |Δscoreᵢ|`` over the levers (raw scores: a change
    of ``target − baseline`` is 1) subject to every target's long-run score
    being at least its goal; each lever moves at most to its cap and only in
    its good direction unless ``allow_worse``.  Exact: see
    :mod:`stratlab.planning`.

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path, optional
        Current values as in :func:`stratlab.score`.
    targets : mapping
        ``{node id: score}``; nodes are objectives, perspectives or OKRs.
    levers : sequence of str, optional
        Measures and key results that may move (default: every one with a
        current value).
    effort : mapping, optional
        ``{lever id: weight > 0}``: the cost of one unit of its score (default 1).
    view : {'long run'}
        The long run of :func:`stratlab.whatif` (every lag settled).
    allow_worse : bool, default False
        Let levers move against their good direction (down to a score of 0).

    Returns
    -------
    GoalSeekResult
        ``.to_frame()`` → ``id, kind, name, unit, before, after, change,
        score_before, score_after`` (the levers that move, then the targets);
        ``.changes`` for :func:`stratlab.whatif`; ``.effort``; ``.reached``.

    Raises
    ------
    InputError
        Unknown ids, a bad option, or targets the levers cannot reach (the
        message names the target and the most it can reach).
    """
    from scipy import sparse

    from .engine import Change, long_run_map
    from .io import load_model
    from .propagation import whatif

    model = load_model(model)
    if view not in ("long run", "long_run"):
        raise InputError(
            Problem(
                f"view={view!r}: goal seeking plans for the long run.",
                fix="use view='long run' (the steady state of whatif(), every lag settled).",
            )
        )
    if not isinstance(allow_worse, bool):
        raise InputError(
            Problem(
                f"allow_worse={allow_worse!r} must be True or False.", fix="e.g. allow_worse=True."
            )
        )
    goals = _check_targets(model, targets)
    eng = long_run_map(model, history)
    leaves = _leaves(model, eng)
    lev = _check_levers(model, levers, leaves)
    lever_ids = [leaves.ids[i] for i in lev]
    weights = _check_effort(effort, lever_ids)
    nodes = list(goals)
    coef, base = _rows(eng, nodes)
    need = np.array([goals[n] for n in nodes]) - base

    # lever boxes (raw score units of each lever's own shift)
    n_l = len(lev)
    x0_l = leaves.raw[lev]
    cap_l = leaves.cap[lev]
    hi = np.maximum(cap_l - x0_l, 0.0)
    lo = -np.maximum(x0_l, 0.0) if allow_worse else np.zeros(n_l)
    # natural and raw change of every leaf per unit raw shift of each lever
    resp = (_response(eng, leaves, lev) @ sparse.diags(leaves.r[lev])).tocsr()
    inv_r = np.where(
        np.isfinite(leaves.r), 1.0 / np.where(np.isfinite(leaves.r), leaves.r, 1.0), 0.0
    )
    m_raw = (sparse.diags(inv_r) @ resp).tocsr()
    touched = np.diff(resp.indptr) > 0
    relevant = np.flatnonzero(
        touched & (np.abs(coef).max(axis=0, initial=0.0) > 0) & np.isfinite(leaves.r)
    )
    _check_band_reach(leaves, relevant, resp[relevant], lo, hi)
    m_rel = m_raw[relevant]
    useful = np.diff(m_rel.tocsc().indptr) > 0
    hi = np.where(useful, hi, 0.0)  # a lever that reaches no target does not move
    lo = np.where(useful, lo, 0.0)
    x0 = leaves.raw[relevant]
    cap = leaves.cap[relevant]
    pos, neg = m_rel.maximum(0.0), m_rel.minimum(0.0)
    xmin = x0 + pos @ lo + neg @ hi
    xmax = x0 + pos @ hi + neg @ lo
    eps = 1e-12
    linear = (xmin >= -eps) & (xmax <= cap + eps)
    const = ~linear & ((xmin >= cap - eps) | (xmax <= eps))
    cross = np.flatnonzero(~linear & ~const)
    lin_idx = np.flatnonzero(linear)
    n_c = cross.size
    # variables: d+ (n_l), d- (n_l), s (n_c), zlo (n_c), zhi (n_c); the shift is d+ − d-
    n_v = 2 * n_l + 3 * n_c
    s0_cross = np.clip(x0[cross], 0.0, cap[cross])
    # target rows: coef·(s − s0) ≥ need  →  −(…) ≤ −need
    c_rel = coef[:, relevant]
    gain_lin = np.asarray(sparse.csr_matrix(c_rel[:, lin_idx]) @ m_rel[lin_idx].todense())
    target_rows = np.hstack(
        [-gain_lin, gain_lin, -c_rel[:, cross], np.zeros((len(nodes), 2 * n_c))]
    )
    target_rhs = -(need + c_rel[:, cross] @ s0_cross)
    blocks: list[Any] = [sparse.csr_matrix(target_rows)]
    rhs_parts = [target_rhs]
    if n_c:
        # exact clip of the leaves that can cross 0 or their cap (x = x0 + M·shift):
        #   zlo = 1 ⇔ s = 0 ≥ x,  zhi = 1 ⇔ s = cap ≤ x,  otherwise s = x
        mc = m_rel[cross]
        eye = sparse.identity(n_c, format="csr")
        lo_m = sparse.diags(np.minimum(xmin[cross], 0.0))
        hi_m = sparse.diags(cap[cross] - np.maximum(xmax[cross], cap[cross]))
        cap_d = sparse.diags(cap[cross])
        blocks.append(
            sparse.bmat(
                [
                    [-mc, mc, eye, lo_m, None],  # s − x ≤ −xmin·zlo
                    [mc, -mc, -eye, None, hi_m],  # x − s ≤ (xmax − cap)·zhi
                    [None, None, eye, cap_d, None],  # s ≤ cap·(1 − zlo)
                    [None, None, -eye, None, cap_d],  # s ≥ cap·zhi
                    [None, None, None, eye, eye],  # zlo + zhi ≤ 1
                ],
                format="csr",
            )
        )
        rhs_parts += [x0[cross], -x0[cross], cap[cross], np.zeros(n_c), np.ones(n_c)]
    lb = np.zeros(n_v)
    ub = np.concatenate(
        [
            hi,
            -lo,
            cap[cross],
            (xmin[cross] < 0).astype(float),
            (xmax[cross] > cap[cross]).astype(float),
        ]
    )
    integral = np.zeros(n_v, dtype=bool)
    integral[2 * n_l + n_c :] = True
    cost = np.concatenate([weights, weights, np.zeros(3 * n_c)])
    prog = _Program(
        cost,
        sparse.vstack(blocks, format="csr"),
        np.concatenate(rhs_parts),
        lb,
        ub,
        integral,
    )
    sol = _solve(prog)
    if sol is None:
        offset = c_rel[:, cross] @ s0_cross
        lever_raw = (m_raw[lev], x0_l, cap_l)
        _explain_infeasible(
            model, nodes, goals, base, offset, prog, useful & (hi > 0), lever_raw, allow_worse
        )
    delta = sol[:n_l] - sol[n_l : 2 * n_l]
    delta[np.abs(delta) < 1e-13] = 0.0
    shift = delta * leaves.r[lev]
    moving = np.flatnonzero(delta != 0)
    changes = tuple(Change(lever_ids[i], "shift", float(shift[i])) for i in moving)
    long_run = whatif(model, list(changes), history, horizon=0).long_run.set_index("id")
    frame = _goal_frame(model, long_run, [lever_ids[i] for i in moving], nodes)
    reached = {n: float(long_run.loc[n, "score_after"]) for n in nodes}
    return GoalSeekResult(
        model,
        goals,
        float(weights @ np.abs(delta)),
        changes,
        reached,
        "milp" if integral.any() else "linprog",
        frame,
    )


def _check_band_reach(
    leaves: _Leaves, relevant: np.ndarray, resp: Any, lo: np.ndarray, hi: np.ndarray
) -> None:
    """A band measure moved by a driver link must stay on its side of the band."""
    pos, neg = resp.maximum(0.0), resp.minimum(0.0)
    vmin = leaves.value[relevant] + pos @ lo + neg @ hi
    vmax = leaves.value[relevant] + pos @ hi + neg @ lo
    bad = (vmin < leaves.valid_lo[relevant] - _TOL) | (vmax > leaves.valid_hi[relevant] + _TOL)
    for j in relevant[bad]:
        raise InputError(
            Problem(
                f"band measure {leaves.ids[j]!r} could be carried across its band by driver "
                "links, where its score is not piecewise linear along one side.",
                fix=f"leave the levers that drive {leaves.ids[j]!r} out, or plan it with whatif().",
            )
        )


def _explain_infeasible(
    model: Model,
    nodes: list[str],
    goals: dict[str, float],
    base: np.ndarray,
    offset: np.ndarray,
    prog: _Program,
    useful: np.ndarray,
    lever_raw: tuple[np.ndarray, np.ndarray, np.ndarray],
    allow_worse: bool,
) -> NoReturn:
    """Raise InputError naming each target the levers cannot reach, and the most they can do."""
    n_t = len(nodes)
    clip_a, clip_b = prog.a[n_t:], prog.b[n_t:]
    problems: list[Problem] = []
    for t, node in enumerate(nodes):
        # the target rows hold −gain: minimise them for the most this target can reach
        row = np.asarray(prog.a[t].todense()).ravel()
        single = _Program(row, clip_a, clip_b, prog.lb, prog.ub, prog.integral)
        sol = _solve(single)
        gain = 0.0 if sol is None else float(-(row @ sol))
        reach = base[t] + gain - offset[t]
        n_l = useful.size
        if sol is None:
            at_cap = np.zeros(n_l, dtype=bool)
        else:  # at its cap: pushed to its limit, or its score at the cap (driver links)
            resp, x0, cap = lever_raw
            final = x0 + resp @ (sol[:n_l] - sol[n_l : 2 * n_l])
            at_cap = (sol[:n_l] >= prog.ub[:n_l] - 1e-9) | (final >= cap - 1e-9)
        if at_cap[useful].all() and not allow_worse:
            how = "every lever at its cap"
        else:
            how = (
                f"the best use of them ({int(at_cap[useful].sum())} of {int(useful.sum())} "
                "levers that reach it at their cap, the others held back because they also hurt it)"
            )
        if reach < goals[node] - 1e-9:
            kind = model.kind_of(node)
            problems.append(
                Problem(
                    f"{node} can reach at most {reach:.3f} with these levers: {how} "
                    f"(the {kind} is at {base[t]:.3f} now; the target is {goals[node]:g}; "
                    f"{int(useful.sum())} lever(s) reach it).",
                    fix="lower the target, add levers (levers=[...], --lever ID)"
                    + (", or allow_worse=True." if not allow_worse else "."),
                )
            )
    if not problems:
        problems.append(
            Problem(
                f"the targets {', '.join(f'{n} ≥ {goals[n]:g}' for n in nodes)} can each be "
                "reached, but not all together with these levers.",
                fix="lower one of the targets, or add levers.",
            )
        )
    raise InputError(problems)


def _goal_frame(
    model: Model, long_run: pd.DataFrame, moved: list[str], nodes: list[str]
) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for i in moved:
        r = long_run.loc[i]
        item = model.get(i)
        rows.append(
            (
                i,
                r["kind"],
                r["name"],
                item.unit,
                r["before"],
                r["after"],
                r["after"] - r["before"],
                r["score_before"],
                r["score_after"],
            )
        )
    for n in nodes:
        r = long_run.loc[n]
        rows.append(
            (
                n,
                r["kind"],
                r["name"],
                "score",
                r["score_before"],
                r["score_after"],
                r["score_after"] - r["score_before"],
                r["score_before"],
                r["score_after"],
            )
        )
    frame = pd.DataFrame(rows, columns=GOAL_SEEK_COLUMNS)
    for col in GOAL_SEEK_COLUMNS[4:]:
        frame[col] = frame[col].astype(float)
    return frame


# --------------------------------------------------------------------------- portfolio


@dataclass(frozen=True, eq=False)
class PortfolioResult:
    """The initiatives to fund within a budget, and what they do to the target.

    Attributes
    ----------
    model : Model
    target : str
    goal : str
        ``'effect'`` (long-run score of the target) or ``'p_green'``
        (probability that the target is green, over the Monte Carlo scenarios).
    budget, budget_used : float
    before, after : float
        The target's long-run score (``effect``) or P(green) (``p_green``)
        without any initiative and with the selected ones.
    selected : tuple of str
        Selected initiative ids, in model order.
    samples, seed : int or None
        The scenarios (``p_green`` only).
    """

    model: Model
    target: str
    goal: str
    budget: float
    budget_used: float
    before: float
    after: float
    selected: tuple[str, ...]
    samples: int | None
    seed: int | None
    _frame: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per initiative.

        Returns
        -------
        pandas.DataFrame
            ``id, name, budget, selected, marginal_effect`` in model order;
            ``marginal_effect`` is, for a selected initiative, what the
            portfolio loses without it, and for one not selected, what adding
            it would gain (budget aside), in the goal's units (score or
            probability).
        """
        return self._frame.copy()

    def totals(self) -> pd.DataFrame:
        """``target, goal, budget, budget_used, before, after`` (one row)."""
        import pandas as pd

        return pd.DataFrame(
            [(self.target, self.goal, self.budget, self.budget_used, self.before, self.after)],
            columns=PORTFOLIO_TOTAL_COLUMNS,
        )

    def __repr__(self) -> str:
        what = "score" if self.goal == "effect" else "P(green)"
        return (
            f"<PortfolioResult: {len(self.selected)} of {len(self._frame)} initiatives, "
            f"{self.budget_used:,.0f} of {self.budget:,.0f}; {self.target} {what} "
            f"{self.before:.3f} → {self.after:.3f}>"
        )

    def html(self) -> str:
        """The portfolio as an HTML table (the shared renderer of notebooks and reports)."""
        from .render import result_html

        what = "score" if self.goal == "effect" else "P(green)"
        return result_html(
            f"Portfolio for {self.target} ({what}) within {self.budget:,.0f}",
            self._frame,
            summary={
                "budget used": self.budget_used,
                f"{what} before": self.before,
                f"{what} after": self.after,
            },
            status_column=None,
        )

    def _repr_html_(self) -> str:
        return self.html()


@dataclass(frozen=True, eq=False)
class _Table:
    """Per moved leaf: the initiatives that move it and each combination's contribution."""

    members: list[list[int]]  # initiative positions moving each leaf
    combos: list[list[tuple[int, ...]]]  # combinations (positions), the empty one first
    gain: list[np.ndarray]  # (n_combos,) effect, or (n_combos × samples) for p_green


def _contributions(
    model: Model,
    leaves: _Leaves,
    shifts: np.ndarray,
    coef: np.ndarray,
    values: np.ndarray,
) -> _Table:
    """Exact contribution of every combination of initiatives at each moved leaf.

    ``shifts`` (n_leaves × n_initiatives) natural-unit long-run changes;
    ``coef`` (n_leaves,) or (n_leaves × samples) the target's effect per unit
    score; ``values`` (n_leaves,) or (n_leaves × samples) the leaf values.
    """
    members, combos, gains = [], [], []
    moved = np.flatnonzero(
        (np.abs(shifts).max(axis=1, initial=0.0) > 0)
        & np.isfinite(leaves.value)
        & (np.abs(coef).reshape(len(leaves.ids), -1).max(axis=1) > 0)
    )
    for j in moved:
        who = [int(p) for p in np.flatnonzero(shifts[j] != 0)]
        if len(who) > MAX_SHARED:
            raise InputError(
                Problem(
                    f"{leaves.ids[j]!r} is moved by {len(who)} initiatives; the portfolio "
                    f"enumerates their combinations exactly (at most {MAX_SHARED}).",
                    fix="merge some of those initiatives, or plan fewer at a time.",
                )
            )
        sets: list[tuple[int, ...]] = [()]
        for k in range(1, len(who) + 1):
            sets += list(combinations(who, k))
        v = values[j]
        s_before = _score_leaf(model, leaves, int(j), v)
        rows = []
        for combo in sets:
            dv = float(shifts[j, list(combo)].sum()) if combo else 0.0
            rows.append(_score_leaf(model, leaves, int(j), v + dv) - s_before)
        members.append(who)
        combos.append(sets)
        gains.append(np.asarray(rows) * coef[j])
    return _Table(members, combos, gains)


def _portfolio_program(
    table: _Table, budgets: np.ndarray, budget: float
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Constraint matrix and bounds of x (initiatives) and w (combinations) rows: A v ≤/= b."""
    n_p = budgets.size
    offsets = []
    n_v = n_p
    for sets in table.combos:
        offsets.append(n_v)
        n_v += len(sets)
    rows: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []
    budget_row = np.zeros(n_v)
    budget_row[:n_p] = budgets
    rows.append(budget_row)
    lo.append(-np.inf)
    hi.append(budget)
    for off, who, sets in zip(offsets, table.members, table.combos, strict=True):
        one = np.zeros(n_v)
        one[off : off + len(sets)] = 1.0
        rows.append(one)
        lo.append(1.0)
        hi.append(1.0)
        for p in who:
            row = np.zeros(n_v)
            for k, combo in enumerate(sets):
                if p in combo:
                    row[off + k] = 1.0
            row[p] = -1.0
            rows.append(row)
            lo.append(0.0)
            hi.append(0.0)
    a = np.array(rows).reshape(-1, n_v)
    return a, np.array([lo, hi]), offsets


def _evaluate(table: _Table, sel: np.ndarray) -> np.ndarray:
    """Total contribution of a selection (0/1 per initiative): scalar or per sample."""
    total: Any = 0.0
    for who, sets, gain in zip(table.members, table.combos, table.gain, strict=True):
        chosen = tuple(p for p in who if sel[p])
        total = total + gain[sets.index(chosen)]
    return np.asarray(total, dtype=float)


def plan_portfolio(
    model: Any,
    history: Any = None,
    *,
    budget: float,
    target: str | None = None,
    goal: str = "effect",
    samples: int = 2000,
    seed: int | None = None,
    elapsed: float | None = None,
) -> PortfolioResult:
    """The initiatives to fund within a budget, for the most effect on a target or P(green).

    Exact (see :mod:`stratlab.planning`): a mixed-integer programme over the
    initiatives' uplifts (long-run shifts, driver links and clipping included,
    as in :func:`stratlab.whatif`); ties go to the lower total budget.

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path, optional
    budget : float
        Money available (same unit as the initiatives' ``budget``), > 0.
    target : str, optional
        Objective, perspective or OKR (default: the top perspective).
    goal : {'effect', 'p_green'}
        Maximise the target's long-run score, or the probability that it is
        green over Monte Carlo scenarios (the draws of :func:`stratlab.simulate`
        with this ``seed``, ``samples`` and ``elapsed``).
    samples : int, default 2000
        Scenarios for ``p_green`` (one binary variable each).
    seed : int, optional
        Seed of the scenarios (None draws fresh entropy, reported as ``result.seed``).
    elapsed : float, optional
        Share of the OKR period elapsed, as for :func:`stratlab.simulate`.

    Returns
    -------
    PortfolioResult
        ``.to_frame()`` → ``id, name, budget, selected, marginal_effect``;
        ``.totals()`` → ``target, goal, budget, budget_used, before, after``.

    Raises
    ------
    InputError
        No initiatives, an initiative without a budget, a budget that funds
        nothing, an unknown target or goal, a bad option.
    """
    import pandas as pd

    from .engine import long_run_map
    from .io import load_model

    model = load_model(model)
    if goal not in ("effect", "p_green"):
        close = did_you_mean(str(goal), ["effect", "p_green"])
        raise InputError(
            Problem(
                f"goal={goal!r} is not a portfolio goal.",
                fix=close or "use goal='effect' or goal='p_green'.",
            )
        )
    if (
        isinstance(budget, bool)
        or not isinstance(budget, (int, float, np.number))
        or not math.isfinite(float(budget))
    ):
        raise InputError(Problem(f"budget={budget!r} is not a number.", fix="e.g. budget=600000."))
    budget = float(budget)
    inits = list(model.initiatives)
    if not inits:
        raise InputError(
            Problem(
                "the model has no initiatives to choose from.",
                fix="add initiatives with a budget and an uplift.",
            )
        )
    unpriced = [i.id for i in inits if i.budget is None]
    if unpriced:
        raise InputError(
            Problem(
                f"initiative(s) without a budget: {', '.join(unpriced)}.",
                fix="give every initiative a `budget` (0 if it costs nothing).",
            )
        )
    budgets = np.array([float(i.budget or 0.0) for i in inits])
    if budget <= 0 or not (budgets <= budget).any():
        cheapest = int(np.argmin(budgets))
        raise InputError(
            Problem(
                f"a budget of {budget:,.0f} funds nothing: the cheapest initiative, "
                f"{inits[cheapest].id}, costs {budgets[cheapest]:,.0f}.",
                fix=f"give a budget of at least {budgets[cheapest]:,.0f}.",
            )
        )
    node = (
        model.perspectives[-1].id if target is None else _check_target_id(model, target, "target")
    )
    if goal == "p_green":
        for name, val, least in (("samples", samples, 1),):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < least:
                raise InputError(
                    Problem(
                        f"{name}={val!r} must be a whole number ≥ {least}.",
                        fix="e.g. samples=2000.",
                    )
                )
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
        ):
            raise InputError(
                Problem(f"seed={seed!r} must be a whole number ≥ 0.", fix="e.g. seed=1.")
            )
        if elapsed is not None and (
            isinstance(elapsed, bool)
            or not isinstance(elapsed, (int, float))
            or not 0 < elapsed <= 1
        ):
            raise InputError(
                Problem(
                    f"elapsed={elapsed!r} must be the share of the period elapsed, in (0, 1].",
                    fix="e.g. elapsed=0.5.",
                )
            )

    eng = long_run_map(model, history)
    leaves = _leaves(model, eng)
    pos = {k: i for i, k in enumerate(leaves.ids)}
    # long-run natural-unit change of every leaf, per initiative (shifts add up)
    uplift = np.zeros((len(leaves.ids), len(inits)))
    for p, ini in enumerate(inits):
        for key, amount in ini.uplift:
            uplift[pos[key], p] += float(amount)
    touched = np.flatnonzero(np.abs(uplift).max(axis=1, initial=0.0) > 0)
    shifts = np.asarray(_response(eng, leaves, [int(j) for j in touched]) @ uplift[touched])
    coef, base = _rows(eng, [node])
    green = float(model.thresholds.green)
    from scipy import sparse

    if goal == "effect":
        table = _contributions(model, leaves, shifts, coef[0], leaves.value)
        before = float(base[0])
        scale = max([float(np.abs(g).max(initial=0.0)) for g in table.gain] + [1e-300])
        a, bounds, offsets = _portfolio_program(table, budgets, budget)
        c = np.zeros(a.shape[1])
        for off, gain in zip(offsets, table.gain, strict=True):
            c[off : off + gain.size] = -gain / scale  # scaled: HiGHS's gaps are absolute too
        integral = np.zeros(a.shape[1], dtype=int)
        integral[: len(inits)] = 1
        keep = 1e-9  # the tie-break keeps the optimum to this (scaled) tolerance

        def value_of(sel: np.ndarray) -> float:
            return before + float(_evaluate(table, sel))

    else:
        from .simulation import default_elapsed, draw_scenarios

        scen = draw_scenarios(
            model,
            history,
            samples=int(samples),
            seed=None if seed is None else int(seed),
            elapsed=default_elapsed() if elapsed is None else float(elapsed),
        )
        seed = scen.seed
        k_rng = np.array([float(k.target) - float(k.start) for k in model.key_results])
        k_start = np.array([float(k.start) for k in model.key_results])
        values = np.vstack([scen.m_values, k_start[:, None] + scen.k_grades * k_rng[:, None]])
        m_scores = _score_all(model, leaves, values)
        kind = model.kind_of(node)
        i_node = _position(model, node)
        rolled = scen.roll(m_scores[: leaves.n_m], m_scores[leaves.n_m :])
        base_s = rolled[kind][i_node]
        # per-sample effect of each moved leaf's score on the target (linear at fixed weights)
        cand = np.flatnonzero(
            (np.abs(shifts).max(axis=1, initial=0.0) > 0) & np.isfinite(leaves.value)
        )
        coef_s: np.ndarray = coef[0]  # the same map in every sample at point weights
        if scen.weights_vary:  # drawn link weights: each sample's own (linear) map
            coef_s = np.zeros((len(leaves.ids), int(samples)))
            for j in cand:
                bumped = m_scores.copy()
                bumped[j] += 1.0
                rolled_j = scen.roll(bumped[: leaves.n_m], bumped[leaves.n_m :])
                coef_s[j] = rolled_j[kind][i_node] - base_s
            coef_s[np.abs(coef_s) < 1e-15] = 0.0
        table = _contributions(model, leaves, shifts, coef_s, values)
        thr = green - _TOL
        zero = np.zeros(int(samples))
        worst = base_s + sum((g.min(axis=0) for g in table.gain), zero)
        best = base_s + sum((g.max(axis=0) for g in table.gain), zero)
        # samples green whatever is funded need no variable; nor those never green
        open_ = np.flatnonzero((worst < thr) & (best >= thr))
        a0, bounds0, offsets = _portfolio_program(table, budgets, budget)
        n_x = a0.shape[1]
        # green_s ⇔ base + Σ gain·w ≥ thr:  Σ gain·w − (thr − worst)·y ≥ worst − base
        # (rows scaled to a largest entry of 100, so HiGHS's absolute tolerances stay tiny)
        rows = np.zeros((open_.size, n_x))
        for off, gain in zip(offsets, table.gain, strict=True):
            rows[:, off : off + gain.shape[0]] = gain[:, open_].T
        big = thr - worst[open_]
        row_scale = 100.0 / np.maximum(
            np.maximum(np.abs(rows).max(axis=1, initial=0.0), big), 1e-300
        )
        y_block = sparse.diags(-big * row_scale)
        a = (
            sparse.bmat(
                [
                    [sparse.csr_matrix(a0), None],
                    [sparse.csr_matrix(rows * row_scale[:, None]), y_block],
                ],
                format="csr",
            )
            if open_.size
            else sparse.csr_matrix(a0)
        )
        lo_y = (worst[open_] - base_s[open_]) * row_scale
        bounds = np.hstack([bounds0, np.vstack([lo_y, np.full(open_.size, np.inf)])])
        c = np.zeros(a.shape[1])
        c[n_x:] = -1.0
        integral = np.zeros(a.shape[1], dtype=int)
        integral[: len(inits)] = 1
        integral[n_x:] = 1
        before = float(np.mean(base_s >= thr))
        keep = 0.5  # whole samples

        def value_of(sel: np.ndarray) -> float:
            return float(np.mean(base_s + _evaluate(table, sel) >= thr))

    sel = _solve_portfolio(c, a, bounds, integral, budgets, keep, value_of, len(inits))
    after = value_of(sel)
    marginal = []
    for p in range(len(inits)):
        other = sel.copy()
        other[p] = not sel[p]
        diff = value_of(other) - after
        marginal.append(-diff if sel[p] else diff)
    frame = pd.DataFrame(
        {
            "id": [i.id for i in inits],
            "name": [i.name for i in inits],
            "budget": budgets,
            "selected": sel,
            "marginal_effect": np.array(marginal, dtype=float),
        },
        columns=PORTFOLIO_COLUMNS,
    )
    return PortfolioResult(
        model,
        node,
        goal,
        budget,
        float(budgets[sel].sum()),
        before,
        after,
        tuple(i.id for i, s in zip(inits, sel, strict=True) if s),
        int(samples) if goal == "p_green" else None,
        seed if goal == "p_green" else None,
        frame,
    )


def _solve_portfolio(
    c: np.ndarray,
    a: Any,
    bounds: np.ndarray,
    integral: np.ndarray,
    budgets: np.ndarray,
    keep: float,
    value_of: Any,
    n_p: int,
) -> np.ndarray:
    """Best selection (maximise −c·v), then the cheapest one keeping that optimum."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_v = c.size
    box = Bounds(np.zeros(n_v), np.ones(n_v))
    opts = {"mip_rel_gap": 1e-9}
    res = milp(
        c, integrality=integral, bounds=box, constraints=LinearConstraint(a, *bounds), options=opts
    )
    if res.x is None:
        raise RuntimeError(f"the optimiser stopped: {res.message}")
    first = np.round(res.x[:n_p]).astype(bool)
    from scipy import sparse

    a2 = sparse.vstack([sparse.csr_matrix(a), sparse.csr_matrix(c)], format="csr")
    lo2 = np.append(bounds[0], -np.inf)
    hi2 = np.append(bounds[1], float(c @ res.x) + keep)
    cost = np.zeros(n_v)
    cost[:n_p] = budgets / max(float(budgets.max()), 1.0)
    res2 = milp(
        cost,
        integrality=integral,
        bounds=box,
        constraints=LinearConstraint(a2, lo2, hi2),
        options=opts,
    )
    if res2.x is None:
        return first
    cheaper = np.round(res2.x[:n_p]).astype(bool)
    # the exact value decides (the solver's tolerances never trade optimum for budget)
    return cheaper if value_of(cheaper) >= value_of(first) - 1e-12 else first


def _position(model: Model, node: str) -> int:
    """Position of a node among the nodes of its kind, in model order."""
    kind = model.kind_of(node)
    if kind == "objective":
        return [o.id for o in model.objectives].index(node)
    if kind == "perspective":
        return [p.id for p in model.perspectives].index(node)
    return [o.id for o in model.okrs].index(node)


def _score_all(model: Model, leaves: _Leaves, values: np.ndarray) -> np.ndarray:
    """Scores of every leaf (rows) at natural values (leaves × samples)."""
    from .engine import score_kr_values, score_measure_values

    ms = score_measure_values(model, values[: leaves.n_m].T).T
    ks = score_kr_values(model, values[leaves.n_m :].T).T
    return np.vstack([ms, ks])
