"""Portfolio planning: the initiatives to fund within a budget, for effect or P(green)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from .._util import check_int, did_you_mean
from ..errors import InputError, Problem
from ._common import (
    TOL,
    Leaves,
    check_target_id,
    leaves_of,
    node_rows,
    position,
    response,
    score_all,
    score_leaf,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model
    from ..typing import HistoryLike, ModelLike

PORTFOLIO_COLUMNS = ["id", "name", "budget", "selected", "marginal_effect"]
PORTFOLIO_TOTAL_COLUMNS = ["target", "goal", "budget", "budget_used", "before", "after"]
MAX_SHARED = 12  # initiatives moving one leaf: 2**12 combinations at most


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
        from ..render import result_html

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
    leaves: Leaves,
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
        s_before = score_leaf(model, leaves, int(j), v)
        rows = []
        for combo in sets:
            dv = float(shifts[j, list(combo)].sum()) if combo else 0.0
            rows.append(score_leaf(model, leaves, int(j), v + dv) - s_before)
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
    model: ModelLike,
    history: HistoryLike | None = None,
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

    from ..engine import long_run_map
    from ..io import load_model

    model = load_model(model)
    inits = list(model.initiatives)
    budget, budgets = _check_budget(inits, budget)
    node = model.perspectives[-1].id if target is None else check_target_id(model, target, "target")
    _check_goal(goal, samples, seed, elapsed)
    eng = long_run_map(model, history)
    leaves = leaves_of(model, eng)
    pos = {k: i for i, k in enumerate(leaves.ids)}
    # long-run natural-unit change of every leaf, per initiative (shifts add up)
    uplift = np.zeros((len(leaves.ids), len(inits)))
    for p, ini in enumerate(inits):
        for key, amount in ini.uplift:
            uplift[pos[key], p] += float(amount)
    touched = np.flatnonzero(np.abs(uplift).max(axis=1, initial=0.0) > 0)
    shifts = np.asarray(response(eng, leaves, [int(j) for j in touched]) @ uplift[touched])
    coef, base = node_rows(eng, [node])
    if goal == "effect":
        problem = _effect_problem(model, leaves, shifts, coef[0], float(base[0]), budgets, budget)
    else:
        problem = _p_green_problem(
            model, history, node, leaves, shifts, coef[0], budgets, budget, samples, seed, elapsed
        )
    sel = _solve_portfolio(problem, budgets)
    after = problem.value_of(sel)
    marginal = []
    for p in range(len(inits)):
        other = sel.copy()
        other[p] = not sel[p]
        diff = problem.value_of(other) - after
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
        problem.before,
        after,
        tuple(i.id for i, s in zip(inits, sel, strict=True) if s),
        int(samples) if goal == "p_green" else None,
        problem.seed,
        frame,
    )


@dataclass(frozen=True, eq=False)
class _Problem:
    """maximise −c·v subject to bounds[0] ≤ A v ≤ bounds[1], v ∈ [0, 1], some integral."""

    c: np.ndarray
    a: Any
    bounds: np.ndarray
    integral: np.ndarray
    keep: float  # the tie-break keeps the optimum to this (objective units)
    value_of: Callable[[np.ndarray], float]  # the exact value of a selection
    before: float
    seed: int | None = None


def _check_budget(inits: list[Any], budget: Any) -> tuple[float, np.ndarray]:
    if (
        isinstance(budget, bool)
        or not isinstance(budget, (int, float, np.number))
        or not math.isfinite(float(budget))
    ):
        raise InputError(Problem(f"budget={budget!r} is not a number.", fix="e.g. budget=600000."))
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
    if float(budget) <= 0 or not (budgets <= float(budget)).any():
        cheapest = int(np.argmin(budgets))
        raise InputError(
            Problem(
                f"a budget of {float(budget):,.0f} funds nothing: the cheapest initiative, "
                f"{inits[cheapest].id}, costs {budgets[cheapest]:,.0f}.",
                fix=f"give a budget of at least {budgets[cheapest]:,.0f}.",
            )
        )
    return float(budget), budgets


def _check_goal(goal: Any, samples: Any, seed: Any, elapsed: Any) -> None:
    if goal not in ("effect", "p_green"):
        close = did_you_mean(str(goal), ["effect", "p_green"])
        raise InputError(
            Problem(
                f"goal={goal!r} is not a portfolio goal.",
                fix=close or "use goal='effect' or goal='p_green'.",
            )
        )
    if goal != "p_green":
        return
    check_int(samples, "samples", minimum=1, fix="e.g. samples=2000.")
    check_int(seed, "seed", minimum=0, allow_none=True, fix="e.g. seed=1.")
    if elapsed is not None and (
        isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) or not 0 < elapsed <= 1
    ):
        raise InputError(
            Problem(
                f"elapsed={elapsed!r} must be the share of the period elapsed, in (0, 1].",
                fix="e.g. elapsed=0.5.",
            )
        )


def _effect_problem(
    model: Model,
    leaves: Leaves,
    shifts: np.ndarray,
    coef: np.ndarray,
    before: float,
    budgets: np.ndarray,
    budget: float,
) -> _Problem:
    """Maximise the target's long-run score."""
    table = _contributions(model, leaves, shifts, coef, leaves.value)
    scale = max([float(np.abs(g).max(initial=0.0)) for g in table.gain] + [1e-300])
    a, bounds, offsets = _portfolio_program(table, budgets, budget)
    c = np.zeros(a.shape[1])
    for off, gain in zip(offsets, table.gain, strict=True):
        c[off : off + gain.size] = -gain / scale  # scaled: HiGHS's gaps are absolute too
    integral = np.zeros(a.shape[1], dtype=int)
    integral[: budgets.size] = 1

    def value_of(sel: np.ndarray) -> float:
        return before + float(_evaluate(table, sel))

    return _Problem(c, a, bounds, integral, 1e-9, value_of, before)


def _scenario_effects(
    model: Model,
    history: HistoryLike | None,
    node: str,
    leaves: Leaves,
    coef: np.ndarray,
    moved: np.ndarray,
    samples: int,
    seed: int | None,
    elapsed: float | None,
) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """Scenarios, leaf values per sample, the target per sample, its per-sample effects."""
    from ..simulation import default_elapsed, draw_scenarios

    scen = draw_scenarios(
        model,
        history,
        samples=samples,
        seed=seed,
        elapsed=default_elapsed() if elapsed is None else float(elapsed),
    )
    k_rng = np.array([float(k.target) - float(k.start) for k in model.key_results])
    k_start = np.array([float(k.start) for k in model.key_results])
    values = np.vstack([scen.m_values, k_start[:, None] + scen.k_grades * k_rng[:, None]])
    scores = score_all(model, leaves, values)
    kind, i_node = model.kind_of(node), position(model, node)
    base_s = scen.roll(scores[: leaves.n_m], scores[leaves.n_m :])[kind][i_node]
    if not scen.weights_vary:  # the same map in every sample at point weights
        return scen, values, base_s, coef
    coef_s = np.zeros((len(leaves.ids), samples))  # each sample's own (linear) map
    for j in moved:
        bumped = scores.copy()
        bumped[j] += 1.0
        coef_s[j] = scen.roll(bumped[: leaves.n_m], bumped[leaves.n_m :])[kind][i_node] - base_s
    coef_s[np.abs(coef_s) < 1e-15] = 0.0
    return scen, values, base_s, coef_s


def _p_green_problem(
    model: Model,
    history: HistoryLike | None,
    node: str,
    leaves: Leaves,
    shifts: np.ndarray,
    coef: np.ndarray,
    budgets: np.ndarray,
    budget: float,
    samples: int,
    seed: int | None,
    elapsed: float | None,
) -> _Problem:
    """Maximise the number of scenarios in which the target is green."""
    from scipy import sparse

    q = int(samples)
    moved = np.flatnonzero(
        (np.abs(shifts).max(axis=1, initial=0.0) > 0) & np.isfinite(leaves.value)
    )
    scen, values, base_s, coef_s = _scenario_effects(
        model, history, node, leaves, coef, moved, q, seed, elapsed
    )
    table = _contributions(model, leaves, shifts, coef_s, values)
    thr = float(model.thresholds.green) - TOL
    worst = base_s + sum((g.min(axis=0) for g in table.gain), np.zeros(q))
    best = base_s + sum((g.max(axis=0) for g in table.gain), np.zeros(q))
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
    scale = 100.0 / np.maximum(np.maximum(np.abs(rows).max(axis=1, initial=0.0), big), 1e-300)
    a = sparse.csr_matrix(a0)
    if open_.size:
        y_block = sparse.diags(-big * scale)
        a = sparse.bmat([[a, None], [sparse.csr_matrix(rows * scale[:, None]), y_block]], "csr")
    lo_y = (worst[open_] - base_s[open_]) * scale
    bounds = np.hstack([bounds0, np.vstack([lo_y, np.full(open_.size, np.inf)])])
    c = np.zeros(a.shape[1])
    c[n_x:] = -1.0
    integral = np.zeros(a.shape[1], dtype=int)
    integral[: budgets.size] = 1
    integral[n_x:] = 1

    def value_of(sel: np.ndarray) -> float:
        return float(np.mean(base_s + _evaluate(table, sel) >= thr))

    return _Problem(c, a, bounds, integral, 0.5, value_of, float(np.mean(base_s >= thr)), scen.seed)


def _solve_portfolio(problem: _Problem, budgets: np.ndarray) -> np.ndarray:
    """Best selection (maximise −c·v), then the cheapest one keeping that optimum."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    c, a, bounds, integral = problem.c, problem.a, problem.bounds, problem.integral
    n_p, n_v = budgets.size, c.size
    box = Bounds(np.zeros(n_v), np.ones(n_v))
    opts = {"mip_rel_gap": 1e-9}
    res = milp(
        c, integrality=integral, bounds=box, constraints=LinearConstraint(a, *bounds), options=opts
    )
    if res.x is None:
        raise RuntimeError(f"the optimiser stopped: {res.message}")
    first = np.round(res.x[:n_p]).astype(bool)
    a2 = sparse.vstack([sparse.csr_matrix(a), sparse.csr_matrix(c)], format="csr")
    lo2 = np.append(bounds[0], -np.inf)
    hi2 = np.append(bounds[1], float(c @ res.x) + problem.keep)
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
    better = problem.value_of(cheaper) >= problem.value_of(first) - 1e-12
    return cheaper if better else first
