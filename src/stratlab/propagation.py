"""The linear propagation engine: what-if, total effects, sensitivity, initiatives, dynamics.

Everything here rolls scores up with the one roll-up of :mod:`stratlab.engine`
(:func:`~stratlab.engine.solve_weighted` through
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

import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._util import check_int
from .engine import (
    AppliedChanges,
    Baseline,
    Change,
    Compiled,
    DriverDynamics,
    ForwardSolver,
    LinearSystem,
    apply_changes,
    as_changes,
    baseline_system,
    check_changes,
    compile_model,
    driver_dynamics,
    full_linear,
    get_baseline,
    node_table,
    parse_changes,
    safe_rollup,
    score_kr_values,
    score_measure_values,
    stability_warnings,
    stack_scores,
)
from .errors import InputError, Problem, StratlabWarning

if TYPE_CHECKING:
    import pandas as pd

    from .limits import Limits
    from .model import Model
    from .typing import HistoryLike, ModelLike

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


# --------------------------------------------------------------------------- what-if


@dataclass(frozen=True, eq=False, repr=False)
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
    _base: Baseline = field(repr=False)
    _applied: AppliedChanges = field(repr=False)

    # ----------------------------------------------------------------- internals
    @cached_property
    def _drivers(self) -> DriverDynamics:
        return driver_dynamics(self._applied)

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
                before = safe_rollup(
                    base.compiled,
                    base.m_scores,
                    base.k_scores,
                    self._lagged(t, before_roll, base.compiled),
                )
            before_roll.append(before)
            m_after = self._measure_after(drv[t])
            ms_after = score_measure_values(self.model, m_after, at=self._base.at)
            after = safe_rollup(
                applied.compiled,
                ms_after,
                k_after_scores,
                self._lagged(t, after_roll, applied.compiled),
            )
            after_roll.append(after)
            bv.append(stack_scores(before, base.m_values, base.k_values))
            av.append(stack_scores(after, m_after, applied.k_after))
            bs.append(stack_scores(before, base.m_scores, base.k_scores))
            as_.append(stack_scores(after, ms_after, k_after_scores))
        return bv, av, bs, as_

    @cached_property
    def _now(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        base, applied = self._base, self._applied
        if self.horizon == 0 or "_paths" in self.__dict__:
            bv, av, bs, as_ = self._paths
            return bv[0], av[0], bs[0], as_[0]
        drv = self._drivers.path(0)[0]
        m_after = self._measure_after(drv)
        ms_after = score_measure_values(self.model, m_after, at=self._base.at)
        ks_after = score_kr_values(self.model, applied.k_after)
        after = safe_rollup(
            applied.compiled, ms_after, ks_after, self._lagged(0, [], applied.compiled)
        )
        return (
            stack_scores(base.now, base.m_values, base.k_values),
            stack_scores(after, m_after, applied.k_after),
            stack_scores(base.now, base.m_scores, base.k_scores),
            stack_scores(after, ms_after, ks_after),
        )

    @cached_property
    def spectral_radius(self) -> float:
        """Largest companion-matrix spectral radius among feedback loops with gain ≥ 1 (else 0).

        Computing it warns (:class:`~stratlab.StratlabWarning`) for each unstable loop.
        """
        return stability_warnings(
            self._applied.compiled, self._after_steady[0], self._applied.pinned
        )

    @cached_property
    def _after_steady(self) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]:
        applied = self._applied
        dx = self._drivers.long_run()
        m_after = self._measure_after(dx)
        ms_after = score_measure_values(self.model, m_after, at=self._base.at)
        ks_after = score_kr_values(self.model, applied.k_after)
        return safe_rollup(applied.compiled, ms_after, ks_after, None), m_after, ms_after, ks_after

    def _frame(
        self, bv: np.ndarray, av: np.ndarray, bs: np.ndarray, as_: np.ndarray
    ) -> pd.DataFrame:
        import pandas as pd

        nodes = node_table(self.model)
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
        return dict(zip(node_table(self.model).ids, (av - bv).tolist(), strict=True))

    def __repr__(self) -> str:
        text = ", ".join(f"{c.op} {c.key} {c.value:g}" for c in self.changes) or "no change"
        return f"<WhatIfResult on {self.model.name!r}: {text}; horizon {self.horizon}>"

    def to_frame(self, view: str | int = "now") -> pd.DataFrame:
        """Before, after and delta of every node, in one view.

        Parameters
        ----------
        view : {"now", "long run", "trajectory"} or int
            ``"now"`` (default): the instant effect; ``"long run"``: the steady
            state with every lag (:attr:`long_run`); ``"trajectory"``: every
            period ``0..horizon`` (:attr:`trajectory`); an int ``t``: period
            ``t`` of the trajectory.

        Returns
        -------
        pandas.DataFrame
            One row per node (perspectives top first, objectives, measures,
            OKRs, key results): ``id, kind, name, before, after, delta,
            score_before, score_after, score_delta``; the trajectory adds
            ``period`` first.
        """
        if view == "now":
            return self._frame(*self._now)
        if view == "long run":
            return self.long_run.copy()
        if view == "trajectory":
            return self.trajectory.copy()
        if isinstance(view, int) and not isinstance(view, bool) and 0 <= view <= self.horizon:
            traj = self.trajectory
            return traj[traj["period"] == view].drop(columns="period").reset_index(drop=True)
        raise InputError(
            Problem(
                f"to_frame: view={view!r} is not a view of this what-if.",
                fix=f"use 'now', 'long run', 'trajectory' or a period 0..{self.horizon}.",
            )
        )

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
            stack_scores(base.steady, base.m_values, base.k_values),
            stack_scores(steady, m_after, self._applied.k_after),
            stack_scores(base.steady, base.m_scores, base.k_scores),
            stack_scores(steady, ms_after, ks_after),
        )

    def _long_run_after(self) -> np.ndarray:
        """``long_run["score_after"]`` as an array in node-table order, without the frame.

        Internal, for sweeps of many what-ifs (:func:`stratlab.plots.whatif_scenarios`);
        warns as :attr:`long_run` does.
        """
        _ = self.spectral_radius
        steady, _, ms_after, ks_after = self._after_steady
        return stack_scores(steady, ms_after, ks_after)

    def html(self) -> str:
        """The instant effect as an HTML table (the shared renderer of notebooks and reports)."""
        from .render import result_html

        text = ", ".join(f"{c.op} {c.key} {c.value:g}" for c in self.changes) or "no change"
        return result_html(f"What-if: {text}", self.to_frame(), status_column=None)

    def _repr_html_(self) -> str:
        return self.html()


def whatif(
    model: ModelLike,
    changes: Any,
    history: HistoryLike | None = None,
    *,
    horizon: int | None = None,
    period: Any = None,
    limits: Limits | None = None,
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
    limits : Limits, optional
        ``horizon`` may not exceed ``limits.horizon`` (default 1,200 periods).

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
    from .io import load_model

    model = load_model(model)
    chs = as_changes(changes)
    check_changes(model, chs)
    compiled = compile_model(model)
    if horizon is None:
        horizon = max(8, 3 * compiled.max_lag)
    horizon = check_int(horizon, "horizon", minimum=0, fix="e.g. horizon=8.")
    from .limits import check

    check("horizon", "the horizon in periods", int(horizon), limits, fix="e.g. horizon=8.")
    base = get_baseline(model, history, period)
    return WhatIfResult(model, tuple(chs), int(horizon), base, apply_changes(base, chs))


def _long_run_sweep(
    model: Model, history: HistoryLike | None, input_id: str, values: Any, *, period: Any = None
) -> np.ndarray:
    """``whatif(model, {input_id: v}, history, period=period)._long_run_after()`` for each ``v``.

    Internal, for sweeps of many what-ifs of one input (:func:`stratlab.plots.whatif_scenarios`):
    the baseline is looked up (and the history checked) once.  Rows follow ``values``;
    columns the node table.  Warns as :attr:`WhatIfResult.long_run` does.
    """
    from .io import load_model

    model = load_model(model)
    changes = [as_changes({input_id: float(v)}) for v in values]
    for chs in changes:
        check_changes(model, chs)
    base = get_baseline(model, history, period)
    rows = [
        WhatIfResult(model, tuple(chs), 0, base, apply_changes(base, chs))._long_run_after()
        for chs in changes
    ]
    return np.vstack(rows) if rows else np.zeros((0, len(node_table(model).ids)))


def simulate_dynamics(
    model: ModelLike, changes: Any = None, history: HistoryLike | None = None, *, horizon: int = 12
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


# --------------------------------------------------------------------------- total effects


def _tidy_effects(
    model: Model,
    lin: LinearSystem,
    em: np.ndarray,
    ek: np.ndarray,
    extra: dict[str, Any] | None = None,
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


def total_effects(model: ModelLike, *, by_lag: bool = False, max_lag: int = 200) -> pd.DataFrame:
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

    from .io import load_model

    model = load_model(model)
    lin = full_linear(model)
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


def _effects_by_lag(
    lin: LinearSystem, max_lag: int
) -> list[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    """Increments of the unit step response of every input, per period."""
    from scipy import sparse

    c = lin.compiled
    n_o, n_m, n_r = len(c.objectives), len(c.measures), len(c.key_results)
    lags = sorted(set(lin.links) | set(lin.driver_scores))
    kmax = max([*lags, 1])
    b0 = lin.links.get(0, sparse.csr_matrix((n_o, n_o)))
    solver0 = ForwardSolver(b0)
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
    model: ModelLike,
    history: HistoryLike | None = None,
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

    from .io import load_model

    model = load_model(model)
    for name, val in (("low", low), ("high", high)):
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            raise InputError(
                Problem(f"{name}={val!r} is not a finite number.", fix="e.g. low=0, high=1.")
            )
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InputError(Problem(f"top={top!r} must be a whole number ≥ 1.", fix="e.g. top=10."))
    base = get_baseline(model, history, None)
    c = base.compiled
    lin = baseline_system(base)
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


def rank_initiatives(
    model: ModelLike,
    history: HistoryLike | None = None,
    *,
    target: str | None = None,
    per: float = 1000.0,
) -> pd.DataFrame:
    """Initiatives ranked by their long-run effect on a target, in total and per budget.

    Each initiative's ``uplift`` is applied as shifts (:func:`whatif`); its
    effect is the change of the target's long-run score (0–1 attainment).

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path, optional
    target : str, optional
        A perspective or objective id (default: the top perspective).
    per : float
        Budget amount the effect per budget is expressed for (default 1000).

    Returns
    -------
    pandas.DataFrame
        ``id, name, target, budget, effect, effect_per_<per>, rank, note``,
        best first. The ratio column is named after ``per``: ``effect_per_1k``
        (default), ``effect_per_1m``, or ``effect_per_<amount>``; it is
        ``effect × per / budget``. A missing or zero budget gives a NaN ratio,
        ranked after the others (by effect). ``note`` says why an initiative
        moves nothing (e.g. "wait_min does not reach financial: no path").
        A :class:`~stratlab.errors.StratlabWarning` is issued when no
        initiative moves the target.
    """
    import warnings

    import pandas as pd

    from ._graph import path_to
    from ._util import did_you_mean
    from .errors import InputError, Problem, StratlabWarning
    from .io import load_model

    model = load_model(model)
    options = [p.id for p in model.perspectives] + [o.id for o in model.objectives]
    if target is None:
        target = model.perspectives[-1].id
    elif target not in options:
        raise InputError(
            Problem(
                f"initiatives: target {target!r} is not a perspective or objective of the model.",
                fix=did_you_mean(target, options, "perspectives and objectives") or "",
            )
        )
    if (
        not isinstance(per, int | float)
        or isinstance(per, bool)
        or not np.isfinite(per)
        or per <= 0
    ):
        raise InputError(
            Problem(f"initiatives: per={per!r} must be a positive amount.", fix="e.g. per=1000.")
        )
    ratio_col = _per_column(float(per))
    rows = []
    for ini in model.initiatives:
        res = whatif(model, [(k, "shift", v) for k, v in ini.uplift], history, horizon=0)
        lr = res.long_run
        eff = float(lr.loc[lr["id"] == target, "delta"].iloc[0])
        eff = 0.0 if abs(eff) < 1e-12 else eff
        budget = np.nan if ini.budget is None else float(ini.budget)
        ratio = eff * per / budget if budget and np.isfinite(budget) else np.nan
        note = None
        if eff == 0:
            if not ini.uplift:
                note = "no uplift given"
            else:
                lost = [k for k, _ in ini.uplift if not path_to(model, k, target)]
                if len(lost) == len(ini.uplift):
                    note = "; ".join(f"{k} does not reach {target}: no path" for k in lost)
                else:
                    reach = ", ".join(k for k, _ in ini.uplift if k not in lost)
                    note = (
                        f"the uplift on {reach} reaches {target} but does not move its "
                        "score (no data, capped or clipped)"
                    )
        rows.append((ini.id, ini.name, target, budget, eff, ratio, note))
    frame = pd.DataFrame(
        rows, columns=["id", "name", "target", "budget", "effect", ratio_col, "note"]
    )
    if len(frame):
        key_ratio = frame[ratio_col].fillna(-np.inf)
        has = frame[ratio_col].notna()
        order = np.lexsort(
            (-frame["effect"].fillna(-np.inf).to_numpy(), -key_ratio.to_numpy(), ~has.to_numpy())
        )
        frame = frame.iloc[order].reset_index(drop=True)
        if (frame["effect"] == 0).all():
            warnings.warn(
                f"no initiative moves {target}: every effect is 0 (see the note column).",
                StratlabWarning,
                stacklevel=2,
            )
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame[["id", "name", "target", "budget", "effect", ratio_col, "rank", "note"]]


def _per_column(per: float) -> str:
    """``effect_per_1k`` for 1000, ``effect_per_1m`` for a million, else the amount."""
    for size, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if per >= size and (per / size).is_integer():
            return f"effect_per_{int(per / size)}{suffix}"
    return f"effect_per_{per:g}"
