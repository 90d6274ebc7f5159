"""Goal seeking: the smallest change of the levers that brings targets to their scores."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from .._util import did_you_mean
from ..errors import InputError, Problem
from ._common import TOL, Leaves, check_targets, leaves_of, node_rows, response

if TYPE_CHECKING:
    import pandas as pd

    from ..engine import Change
    from ..model import Model
    from ..typing import HistoryLike, ModelLike

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
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def _check_levers(model: Model, levers: Any, leaves: Leaves) -> list[int]:
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
        from ..render import result_html

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
    model: ModelLike,
    history: HistoryLike | None = None,
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
    from ..engine import Change, long_run_map
    from ..io import load_model
    from ..propagation import whatif

    model = load_model(model)
    _check_options(view, allow_worse)
    goals = check_targets(model, targets)
    eng = long_run_map(model, history)
    leaves = leaves_of(model, eng)
    lev = _check_levers(model, levers, leaves)
    lever_ids = [leaves.ids[i] for i in lev]
    weights = _check_effort(effort, lever_ids)
    nodes = list(goals)
    coef, base = node_rows(eng, nodes)
    need = np.array([goals[n] for n in nodes]) - base
    reach = _reach(eng, leaves, lev, coef, allow_worse)
    prog, offset = _program(reach, coef, need, weights)
    sol = _solve(prog)
    if sol is None:
        _explain_infeasible(model, nodes, goals, base, offset, prog, reach, allow_worse)
    n_l = len(lev)
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
        "milp" if prog.integral.any() else "linprog",
        frame,
    )


def _check_options(view: Any, allow_worse: Any) -> None:
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


@dataclass(frozen=True, eq=False)
class _Reach:
    """Where the levers can take the leaves that matter (raw score units)."""

    lo: np.ndarray  # each lever's own shift: lo ≤ shift ≤ hi
    hi: np.ndarray
    x0_l: np.ndarray  # levers' raw scores now, and caps
    cap_l: np.ndarray
    lever_raw: Any  # (levers × levers) raw change of each lever per lever shift (sparse)
    useful: np.ndarray  # levers that reach a leaf that matters
    relevant: np.ndarray  # leaves (positions) that a lever moves and a target feels
    m_rel: Any  # (relevant × levers) raw change per lever shift (sparse)
    x0: np.ndarray
    cap: np.ndarray
    xmin: np.ndarray  # the range of each relevant leaf's raw score over the box
    xmax: np.ndarray
    linear: np.ndarray  # relevant positions that stay inside [0, cap]
    cross: np.ndarray  # relevant positions that can cross 0 or the cap


def _reach(eng: Any, leaves: Leaves, lev: list[int], coef: np.ndarray, allow_worse: bool) -> _Reach:
    """Lever boxes and the raw-score ranges of the leaves they move."""
    from scipy import sparse

    x0_l = leaves.raw[lev]
    cap_l = leaves.cap[lev]
    hi = np.maximum(cap_l - x0_l, 0.0)
    lo = -np.maximum(x0_l, 0.0) if allow_worse else np.zeros(len(lev))
    # natural and raw change of every leaf per unit raw shift of each lever
    resp = (response(eng, leaves, lev) @ sparse.diags(leaves.r[lev])).tocsr()
    finite = np.isfinite(leaves.r)
    inv_r = np.where(finite, 1.0 / np.where(finite, leaves.r, 1.0), 0.0)
    m_raw = (sparse.diags(inv_r) @ resp).tocsr()
    touched = np.diff(resp.indptr) > 0
    relevant = np.flatnonzero(touched & (np.abs(coef).max(axis=0, initial=0.0) > 0) & finite)
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
    return _Reach(
        lo,
        hi,
        x0_l,
        cap_l,
        m_raw[lev],
        useful,
        relevant,
        m_rel,
        x0,
        cap,
        xmin,
        xmax,
        np.flatnonzero(linear),
        cross,
    )


def _program(
    r: _Reach, coef: np.ndarray, need: np.ndarray, weights: np.ndarray
) -> tuple[_Program, np.ndarray]:
    """The (mixed-integer) linear programme, and each target row's constant part."""
    from scipy import sparse

    n_l, cross = r.lo.size, r.cross
    n_c = cross.size
    # variables: d+ (n_l), d- (n_l), s (n_c), zlo (n_c), zhi (n_c); the shift is d+ − d-
    n_v = 2 * n_l + 3 * n_c
    s0_cross = np.clip(r.x0[cross], 0.0, r.cap[cross])
    # target rows: coef·(s − s0) ≥ need  →  −(…) ≤ −need
    c_rel = coef[:, r.relevant]
    gain_lin = np.asarray(sparse.csr_matrix(c_rel[:, r.linear]) @ r.m_rel[r.linear].todense())
    rows = np.hstack([-gain_lin, gain_lin, -c_rel[:, cross], np.zeros((len(need), 2 * n_c))])
    offset = c_rel[:, cross] @ s0_cross
    blocks: list[Any] = [sparse.csr_matrix(rows)]
    rhs_parts = [-(need + offset)]
    x0, cap, xmin, xmax = r.x0[cross], r.cap[cross], r.xmin[cross], r.xmax[cross]
    if n_c:
        # exact clip of the leaves that can cross 0 or their cap (x = x0 + M·shift):
        #   zlo = 1 ⇔ s = 0 ≥ x,  zhi = 1 ⇔ s = cap ≤ x,  otherwise s = x
        mc = r.m_rel[cross]
        eye = sparse.identity(n_c, format="csr")
        lo_m = sparse.diags(np.minimum(xmin, 0.0))
        hi_m = sparse.diags(cap - np.maximum(xmax, cap))
        cap_d = sparse.diags(cap)
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
        rhs_parts += [x0, -x0, cap, np.zeros(n_c), np.ones(n_c)]
    ub = np.concatenate([r.hi, -r.lo, cap, (xmin < 0).astype(float), (xmax > cap).astype(float)])
    integral = np.zeros(n_v, dtype=bool)
    integral[2 * n_l + n_c :] = True
    cost = np.concatenate([weights, weights, np.zeros(3 * n_c)])
    a = sparse.vstack(blocks, format="csr")
    return _Program(cost, a, np.concatenate(rhs_parts), np.zeros(n_v), ub, integral), offset


def _check_band_reach(
    leaves: Leaves, relevant: np.ndarray, resp: Any, lo: np.ndarray, hi: np.ndarray
) -> None:
    """A band measure moved by a driver link must stay on its side of the band."""
    pos, neg = resp.maximum(0.0), resp.minimum(0.0)
    vmin = leaves.value[relevant] + pos @ lo + neg @ hi
    vmax = leaves.value[relevant] + pos @ hi + neg @ lo
    bad = (vmin < leaves.valid_lo[relevant] - TOL) | (vmax > leaves.valid_hi[relevant] + TOL)
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
    box: _Reach,
    allow_worse: bool,
) -> NoReturn:
    """Raise InputError naming each target the levers cannot reach, and the most they can do."""
    useful = box.useful & (box.hi > 0)
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
            resp, x0, cap = box.lever_raw, box.x0_l, box.cap_l
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
