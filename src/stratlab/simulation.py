"""Monte Carlo simulation of the strategy map.

Inputs are drawn independently, then rolled up with the same rule as
:func:`stratlab.score` (the linear normalised system of
:mod:`stratlab.propagation`, exact at fixed availability; scores are clipped at
each measure and key result).  Objectives are rolled up with every link read at
the same time: the scores the map settles to if the drawn outcomes persisted
(the long run of :func:`stratlab.whatif`; the same as :func:`stratlab.score`
without a history).

Distributions
-------------
Measures
    ``Normal(current, σ·√horizon·spread)`` in natural units.  ``σ`` is the
    standard deviation of the history's period-over-period changes of that
    measure (at least two changes needed); otherwise 10 % of
    ``|target − baseline|`` (band measures: 10 % of the band width, or of the
    tolerance for a point band).  Driver links pass each measure's shock on in
    natural units, with every lag (``(I − D)⁻¹ ε``).
Key results
    The grade ``g ∈ [0, 1]`` is ``Beta(μκ, (1 − μ)κ)``.  The mean ``μ`` is
    the forecast: progress ``p = (current − start)/(target − start)``
    extrapolated linearly to the end of the period, ``p / elapsed``, clipped to
    ``[m, 1 − m]`` with a margin ``m = min(0.01, 1/κ)``.  The concentration
    rises as the period elapses and with the owner's confidence ``c``
    (default 0.5)::

        κ = (2 + 38·c) / (1 − elapsed + 0.01) / spread²

    (κ = 21 at the start of a quarter with c = 0.5, about 2 100 at its end).
Link weights
    A link written ``weight: [lo, hi]`` (or a point ``weight`` with a
    ``weight_range``) is drawn from a Beta-PERT on the range with its mode at
    the point weight ``m`` (the midpoint for ``[lo, hi]``)::

        w = lo + (hi − lo)·Beta(1 + 4(m − lo)/(hi − lo), 1 + 4(hi − m)/(hi − lo))

    (``Beta(3, 3)`` for a symmetric range; mean ``(lo + 4m + hi)/6``), each
    side's distance from ``m`` scaled by ``spread``.

``spread = 0`` turns every input into its mean (a deterministic run).
Samples are drawn in fixed blocks of :data:`BLOCK` samples, each block from its
own generator spawned from ``numpy.random.SeedSequence(seed)``, so results do
not depend on ``chunk_size``.
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ._parallel import progress_bar, run_chunks
from ._util import check_int, did_you_mean
from .engine import (
    LinearSystem,
    baseline_system,
    check_history,
    compile_model,
    get_baseline,
    measure_params,
    node_table,
    score_with_params,
)
from .errors import InputError, Problem, StratlabWarning
from .periods import elapsed_share

if TYPE_CHECKING:
    import pandas as pd

    from .limits import Limits
    from .model import Model
    from .typing import HistoryLike, ModelLike

__all__ = ["BLOCK", "SimulationResult", "simulate"]

BLOCK = 2048
SUMMARY_COLUMNS = ["id", "kind", "name", "mean", "p05", "p50", "p95", "p_green"]


def default_elapsed(today: _dt.date | None = None) -> float:
    """Share of the current calendar quarter elapsed by ``today`` (inclusive), in (0, 1]."""
    today = today or _dt.date.today()
    q0 = _dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    q1 = _dt.date(q0.year + (q0.month == 10), (q0.month + 2) % 12 + 1, 1)
    return ((today - q0).days + 1) / (q1 - q0).days


@dataclass(frozen=True, eq=False)
class _Uncertain:
    """Objective links with uncertain weights, folded in by a low-rank (Woodbury) update."""

    rows: np.ndarray  # effect objective rows R (unique)
    pos: np.ndarray  # per link: position of its effect in rows
    cause: np.ndarray  # per link: cause objective index
    mean_w: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    denom: np.ndarray  # per link: base denominator of its effect
    active: np.ndarray  # per link: both ends have a score
    z: np.ndarray  # (I − B)⁻¹ E_R  (n × r)
    pert_a: np.ndarray  # Beta-PERT shape parameters: mode at the point weight
    pert_b: np.ndarray


def _uncertain_links(model: Model, lin: LinearSystem, spread: float) -> _Uncertain | None:
    c = lin.compiled
    sel = [lk for lk in model.objective_links if lk.weight_range is not None]
    if not sel or spread == 0:
        return None
    eff = np.array([c.index[lk.target] for lk in sel])
    cause = np.array([c.index[lk.source] for lk in sel])
    mean_w = np.array([float(lk.weight or 0.0) for lk in sel])
    lo = np.array([lk.weight_range[0] for lk in sel if lk.weight_range])
    hi = np.array([lk.weight_range[1] for lk in sel if lk.weight_range])
    lo = mean_w - spread * (mean_w - lo)
    hi = mean_w + spread * (hi - mean_w)
    active = lin.obj_avail[eff] & lin.obj_avail[cause] & (lin.weight[eff] > 0)
    rows, pos = np.unique(eff, return_inverse=True)
    e_r = np.zeros((len(c.objectives), rows.size))
    e_r[rows, np.arange(rows.size)] = 1.0
    z = lin.solver.solve(e_r)
    denom = np.where(active, lin.weight[eff], 1.0)
    width = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(width > 0, (mean_w - lo) / width, 0.5)
    pert_a, pert_b = 1.0 + 4.0 * rel, 1.0 + 4.0 * (1.0 - rel)
    return _Uncertain(rows, pos, cause, mean_w, lo, hi, denom, active, z, pert_a, pert_b)


def _woodbury(unc: _Uncertain, y0: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Objective scores (n × q) for sampled weights ``w`` (q × n_links); ``y0`` at mean weights."""
    q = w.shape[0]
    r = unc.rows.size
    dw = (w - unc.mean_w) * unc.active
    dabs = (np.abs(w) - np.abs(unc.mean_w)) * unc.active
    dneg = (np.maximum(-w, 0.0) - np.maximum(-unc.mean_w, 0.0)) * unc.active
    diag = np.zeros((q, r))
    drhs = np.zeros((q, r))
    np.add.at(diag.T, unc.pos, (dabs / unc.denom).T)
    np.add.at(drhs.T, unc.pos, (dneg / unc.denom).T)
    off = -dw / unc.denom  # (q × links) at (pos, cause)
    y = y0 + unc.z @ drhs.T  # (n × q)
    dy = diag * y[unc.rows].T  # (q × r)
    np.add.at(dy.T, unc.pos, off.T * y[unc.cause])
    dz = diag[:, :, None] * unc.z[unc.rows][None, :, :]  # (q × r × r)
    for j in range(unc.pos.size):
        dz[:, unc.pos[j], :] += off[:, j, None] * unc.z[unc.cause[j]][None, :]
    dz[:, np.arange(r), np.arange(r)] += 1.0
    t = np.linalg.solve(dz, dy[:, :, None])[:, :, 0]  # (q × r)
    return y - unc.z @ t.T


@dataclass(frozen=True, eq=False)
class _Plan:
    """Everything fixed before drawing: means, spreads, maps (arrays are features × samples)."""

    model: Model
    lin: LinearSystem
    m_mean: np.ndarray
    m_sd: np.ndarray  # natural units
    m_scale: np.ndarray  # sd / (target − baseline) for linear measures, else 0
    m_offset: np.ndarray  # score of the current value for linear measures, else 0
    m_cap: np.ndarray
    m_avail: np.ndarray
    special: np.ndarray  # measures handled in natural units (driver links, band)
    special_drv: np.ndarray  # positions in ``special`` touched by drivers
    drv_gain: np.ndarray | None  # (T − I) among those
    k_alpha: np.ndarray
    k_beta: np.ndarray
    k_fixed: np.ndarray  # grades when deterministic (spread 0)
    k_avail: np.ndarray
    unc: _Uncertain | None
    n_weights: int
    spread: float


def _plan(
    model: Model,
    history: HistoryLike,
    *,
    horizon: int,
    elapsed: float,
    spread: float,
    weight_uncertainty: bool,
) -> _Plan:
    base = get_baseline(model, history, None)
    c = base.compiled
    p = measure_params(model)
    lin = baseline_system(base)
    # measure spreads
    default = 0.1 * np.abs(p["target"] - p["baseline"])
    band_w = np.where(p["hi"] > p["lo"], p["hi"] - p["lo"], p["tol"])
    default = np.where(p["band"], 0.1 * band_w, default)
    sd = default.copy()
    if history is not None:
        hist = check_history(model, history)
        diffs = hist.reindex(columns=list(c.measures)).diff()
        counts = diffs.notna().sum().to_numpy()
        vol = diffs.std(ddof=1).to_numpy(dtype=float)
        sd = np.where((counts >= 2) & np.isfinite(vol), vol, default)
    m_avail = np.isfinite(base.m_scores)
    sd = np.where(m_avail, np.nan_to_num(sd) * math.sqrt(horizon) * spread, 0.0)
    linear = m_avail & ~p["band"]
    rng_ = np.where(linear, p["target"] - p["baseline"], 1.0)
    scale = np.where(linear, sd / rng_, 0.0)
    offset = np.where(linear, (base.m_values - p["baseline"]) / rng_, 0.0)
    # driver links pass shocks on (every lag, natural units)
    touched = np.zeros(len(c.measures), dtype=bool)
    total = None
    for mat in c.drivers.values():
        rows, cols = mat.nonzero()
        touched[rows] = True
        touched[cols] = True
        total = mat if total is None else total + mat
    touched &= m_avail
    gain = None
    drv = np.flatnonzero(touched)
    if total is not None and drv.size:
        sub = total[drv][:, drv].toarray()
        try:
            gain = np.linalg.inv(np.eye(drv.size) - sub) - np.eye(drv.size)
        except np.linalg.LinAlgError:
            warnings.warn(
                "driver links form a loop with gain 1: measure shocks are not passed on. "
                "Fix: weaken a driver coefficient in the loop.",
                StratlabWarning,
                stacklevel=3,
            )
    special = np.flatnonzero(touched | (p["band"] & m_avail))
    special_drv = np.flatnonzero(touched[special])
    # key results: Beta around the forecast
    krs = model.key_results
    start = np.array([kr.start for kr in krs], dtype=float)
    target = np.array([kr.target for kr in krs], dtype=float)
    conf = np.array([0.5 if kr.confidence is None else kr.confidence for kr in krs], dtype=float)
    k_avail = np.isfinite(base.k_scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        progress = (base.k_values - start) / (target - start)
    mu = np.clip(np.nan_to_num(progress / elapsed), 0.0, 1.0)
    if spread > 0:
        kappa = (2.0 + 38.0 * conf) / (1.0 - elapsed + 0.01) / spread**2
        margin = np.minimum(0.01, 1.0 / kappa)
        mu_b = np.clip(mu, margin, 1.0 - margin)
        alpha, beta = mu_b * kappa, (1.0 - mu_b) * kappa
    else:
        alpha = beta = np.ones_like(mu)
    k_fixed = np.where(k_avail, mu, 0.0)
    unc = _uncertain_links(model, lin, spread) if weight_uncertainty else None
    n_w = 0 if unc is None else unc.pos.size
    return _Plan(
        model,
        lin,
        base.m_values,
        sd,
        scale,
        offset,
        p["cap"],
        m_avail,
        special,
        special_drv,
        gain,
        alpha,
        beta,
        k_fixed,
        k_avail,
        unc,
        n_w,
        spread,
    )


def _draw_block(plan: _Plan, rng: np.random.Generator, size: int) -> tuple[np.ndarray, ...]:
    """One block of draws, always in the same order: measures, key results, weights."""
    z = rng.standard_normal((plan.m_sd.size, size))
    grades = rng.beta(plan.k_alpha[:, None], plan.k_beta[:, None], size=(plan.k_alpha.size, size))
    if plan.unc is None:
        weights = np.empty((0, size))
    else:
        weights = rng.beta(
            plan.unc.pert_a[:, None], plan.unc.pert_b[:, None], size=(plan.n_weights, size)
        )
    return z, grades, weights


def _score_subset(model: Model, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    """:func:`~stratlab.scoring.score_measure_values` for the measures ``idx`` (rows of ``values``)."""
    return score_with_params({k: v[idx, None] for k, v in measure_params(model).items()}, values)


def _measure_scores(plan: _Plan, z: np.ndarray) -> np.ndarray:
    """Scores (in place of ``z``, measures × samples) of the drawn measure outcomes.

    Linear measures are scored in one fused pass (``offset + z·sd/range``,
    clipped to ``[0, cap]``); measures with driver links or a band are computed
    in natural units and scored by the same formula as
    :func:`stratlab.scoring.score_measure_values`.  Measures without a score
    come out 0 (masked by the caller).
    """
    sp = plan.special
    nat = None
    if sp.size:
        nat = z[sp] * plan.m_sd[sp, None]
        if plan.drv_gain is not None:
            d = plan.special_drv
            nat[d] += plan.drv_gain @ nat[d]
        nat += plan.m_mean[sp, None]
    z *= plan.m_scale[:, None]
    z += plan.m_offset[:, None]
    np.clip(z, 0.0, plan.m_cap[:, None], out=z)
    if nat is not None:
        z[sp] = _score_subset(plan.model, sp, nat)
    z[~plan.m_avail] = 0.0
    return z


def _roll_block(
    plan: _Plan, z: np.ndarray, grades: np.ndarray, wdraw: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Leaf scores, OKRs, objectives and perspectives of a block (features × samples)."""
    ms = _measure_scores(plan, z)
    if plan.spread == 0:
        ks = np.broadcast_to(plan.k_fixed[:, None], grades.shape).copy()
    else:
        ks = grades
        ks[~plan.k_avail] = 0.0
    okr, obj, persp, w = _roll_scores(plan, ms, ks, wdraw)
    return ms, ks, okr, obj, persp, w


def _roll_scores(
    plan: _Plan, ms: np.ndarray, ks: np.ndarray, wdraw: np.ndarray
) -> tuple[np.ndarray, ...]:
    """OKRs, objectives, perspectives and link weights of leaf scores (features × samples)."""
    lin = plan.lin
    okr = lin.okr_map @ ks
    vm, vo, const = lin.permuted
    rhs = vm @ ms
    rhs += vo @ okr
    rhs += const[:, None]
    obj = lin.solver.solve_permuted(rhs)[lin.solver.inv_perm]
    w = wdraw
    if plan.unc is not None:
        w = plan.unc.lo[:, None] + (plan.unc.hi - plan.unc.lo)[:, None] * wdraw
        if plan.unc.active.any():
            obj = _woodbury(plan.unc, obj, w.T)
    obj[~lin.obj_avail] = 0.0
    persp = lin.persp @ obj
    return okr, obj, persp, w


def _sample_chunk(plan: _Plan, blocks: list[tuple[Any, int]]) -> tuple[np.ndarray, ...]:
    """Stored rows (float32; weights float64) of consecutive blocks, each from its own seed."""
    parts = [_draw_block(plan, np.random.default_rng(seq), size) for seq, size in blocks]
    z, grades, wdraw = (np.hstack(x) for x in zip(*parts, strict=True))
    ms, ks, okr, obj, persp, w = _roll_block(plan, z, grades, wdraw)
    return (*(r.astype(np.float32) for r in (persp[::-1], obj, ms, okr, ks)), np.asarray(w, float))


@dataclass(frozen=True, eq=False, repr=False)
class SimulationResult:
    """Monte Carlo samples of every node's score, with lazy summaries.

    Attributes
    ----------
    model : Model
    n_samples : int
    seed : int
        The entropy of the ``SeedSequence`` (pass it back as ``seed`` to repeat the run).
    horizon : int
    elapsed : float
    """

    model: Model
    n_samples: int
    seed: int
    horizon: int
    elapsed: float
    _scores: np.ndarray = field(repr=False)  # (nodes × samples) float32, node_table order
    _weights: np.ndarray = field(repr=False)  # (uncertain links × samples)
    _plan: _Plan = field(repr=False)

    @cached_property
    def _col(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(node_table(self.model).ids)}

    def samples(self, node_id: str) -> np.ndarray:
        """Score samples of one node (float64 copy); InputError for an unknown id."""
        if node_id not in self._col:
            raise InputError(
                Problem(
                    f"{node_id!r} is not a node of the model.",
                    fix=did_you_mean(node_id, list(self._col)) or "use a node id of the model.",
                )
            )
        return self._scores[self._col[node_id]].astype(float)

    @cached_property
    def _summary(self) -> pd.DataFrame:
        import pandas as pd

        nodes = node_table(self.model)
        n = len(nodes.ids)
        th = self.model.thresholds
        green = np.array(
            [
                self.model.status_thresholds(i).green if k == "measure" else th.green
                for i, k in zip(nodes.ids, nodes.kinds, strict=True)
            ]
        )
        mean = np.full(n, np.nan)
        pct = np.full((3, n), np.nan)
        p_green = np.full(n, np.nan)
        ok = np.flatnonzero(np.isfinite(self._scores[:, 0]))
        step = max(1, 2**24 // max(1, self.n_samples))  # ≤ 128 MiB of float64 at a time
        for start in range(0, ok.size, step):
            cols = ok[start : start + step]
            stored = self._scores[cols]
            block = stored.astype(float)
            mean[cols] = block.mean(axis=1)
            pct[:, cols] = np.percentile(block, [5, 50, 95], axis=1)
            # samples are stored as float32: compare at that precision, so a score exactly
            # at the threshold (0.7 → 0.69999999 in float32) counts as green, as in score()
            p_green[cols] = (stored >= green[cols, None].astype(np.float32)).mean(axis=1)
        return pd.DataFrame(
            {
                "id": nodes.ids,
                "kind": nodes.kinds,
                "name": nodes.names,
                "mean": mean,
                "p05": pct[0],
                "p50": pct[1],
                "p95": pct[2],
                "p_green": p_green,
            },
            columns=SUMMARY_COLUMNS,
        )

    def summary(self) -> pd.DataFrame:
        """Mean, percentiles and probability of green of every node's score.

        Returns
        -------
        pandas.DataFrame
            ``id, kind, name, mean, p05, p50, p95, p_green``, one row per node
            (perspectives top first, objectives, measures, OKRs, key results);
            scores throughout; ``p_green`` = P(score ≥ the node's green
            threshold).  Nodes without a score have NaN.
        """
        return self._summary.copy()

    def __repr__(self) -> str:
        return (
            f"<SimulationResult on {self.model.name!r}: {self.n_samples} samples, seed "
            f"{self.seed}, horizon {self.horizon}, elapsed {self.elapsed:g}>"
        )

    def to_frame(self) -> pd.DataFrame:
        """The summary (same as :meth:`summary`): ``id, kind, name, mean, p05, p50, p95, p_green``."""
        return self.summary()

    def variance_share(self) -> pd.DataFrame:
        """Each input's share of each objective's variance (first-order linear attribution).

        The roll-up is linear in the leaf scores at fixed link weights, so an
        input ``i`` (a measure's or key result's score, or an uncertain link
        weight) contributes ``G[o, i]² · var(i)`` to objective ``o``'s variance;
        ``G`` is the total effect ``(I − B)⁻¹V`` (for a weight: the derivative of
        the objective at the sample means).  Shares are these contributions
        divided by their sum, per objective; inputs are treated as independent
        (a driven measure's score is its own input).

        Returns
        -------
        pandas.DataFrame
            ``input, objective, share``, non-zero shares, largest first within
            each objective (objectives in model order).
        """
        import pandas as pd

        plan, lin = self._plan, self._plan.lin
        c = lin.compiled
        nodes = node_table(self.model)
        m0 = nodes.kinds.index("measure") if c.measures else 0
        r0 = nodes.kinds.index("key_result") if c.key_results else 0
        em = lin.solver.solve(lin.vm.toarray())
        ek = lin.solver.solve(lin.vo @ lin.okr_map)
        var_m = np.nan_to_num(self._scores[m0 : m0 + len(c.measures)].astype(float).var(axis=1))
        var_k = np.nan_to_num(self._scores[r0 : r0 + len(c.key_results)].astype(float).var(axis=1))
        contrib = [em**2 * var_m, ek**2 * var_k]
        names = list(c.measures) + list(c.key_results)
        unc = plan.unc
        if unc is not None and self._weights.shape[0]:
            o0 = nodes.kinds.index("objective")
            means = self._scores[o0 : o0 + len(c.objectives)].astype(float).mean(axis=1)
            eff = unc.rows[unc.pos]
            w = unc.mean_w
            x_c, a_e = means[unc.cause], means[eff]
            direct = np.where(w >= 0, x_c - a_e, x_c - 1.0 + a_e) / unc.denom * unc.active
            g = unc.z[:, unc.pos] * direct
            contrib.append(g**2 * self._weights.var(axis=1))
            names += [
                f"link:{c.objectives[s]}->{c.objectives[e]}"
                for s, e in zip(unc.cause, eff, strict=True)
            ]
        total = np.hstack(contrib)
        total[~lin.obj_avail] = 0.0
        sums = total.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(sums > 0, total / sums, 0.0)
        frames = []
        for o in range(share.shape[0]):
            idx = np.flatnonzero(share[o] > 1e-12)
            idx = idx[np.argsort(-share[o, idx], kind="stable")]
            frames.append(
                pd.DataFrame(
                    {
                        "input": [names[j] for j in idx],
                        "objective": c.objectives[o],
                        "share": share[o, idx],
                    }
                )
            )
        cols = ["input", "objective", "share"]
        if not frames:
            return pd.DataFrame(columns=cols)
        return pd.concat(frames, ignore_index=True)[cols]

    def html(self) -> str:
        """The summary as an HTML table (the shared renderer of notebooks and reports)."""
        from .render import result_html

        return result_html(
            f"Monte Carlo: {self.n_samples:,} samples, seed {self.seed}",
            self.summary(),
            status_column=None,
        )

    def _repr_html_(self) -> str:
        return self.html()


def simulate(
    model: ModelLike,
    history: HistoryLike | None = None,
    *,
    samples: int = 10_000,
    seed: int | None = None,
    horizon: int | None = None,
    elapsed: float | None = None,
    chunk_size: int | None = None,
    progress: bool | None = None,
    weight_uncertainty: bool = True,
    spread: float = 1.0,
    limits: Limits | None = None,
    client: Any = None,
) -> SimulationResult:
    """Monte Carlo: probability of reaching each objective and what drives the risk.

    Distributions are documented in :mod:`stratlab.simulation`.

    Parameters
    ----------
    model : Model, path or mapping
    history : DataFrame or path, optional
        Current values, and each measure's period-over-period volatility.
    samples : int, default 10 000
    seed : int, optional
        Same seed, same result (whatever ``chunk_size``).  None draws fresh
        entropy, reported as ``result.seed``.
    horizon : int, optional
        Periods ahead for measure outcomes (spread grows as √horizon); default 1.
    elapsed : float, optional
        Share of the OKR period elapsed, in (0, 1]; default: by the model's ``as_of``, else
        by the last period with data, else today (:func:`stratlab.periods.elapsed_share`).
    chunk_size : int, optional
        Samples rolled up at once (rounded up to whole blocks of 2 048); bounds memory.
    progress : bool, optional
        Show a tqdm progress bar (default: for 200 000 samples or more).
    weight_uncertainty : bool, default True
        Draw link weights written as ``[lo, hi]``.
    spread : float, default 1
        Scales every input's spread (0: deterministic).
    limits : Limits, optional
        samples × nodes may not exceed ``limits.sample_values`` (1.5 GiB of
        float32 scores by default), checked before any draw.
    client : dask.distributed.Client or str, optional
        Run the chunks as Dask tasks (``'local:N'``: a LocalCluster); same samples as here.

    Returns
    -------
    SimulationResult
        ``.summary()`` → ``id, kind, name, mean, p05, p50, p95, p_green``;
        ``.samples(id)``; ``.variance_share()`` → ``input, objective, share``.

    Raises
    ------
    InputError
        A bad option, or more samples than fit in memory.
    """
    from .io import load_model

    model = load_model(model)
    samples = check_int(samples, "samples", minimum=1, fix="e.g. samples=10_000.")
    horizon = (
        1 if horizon is None else check_int(horizon, "horizon", minimum=1, fix="e.g. horizon=1.")
    )
    if elapsed is None:
        elapsed = elapsed_share(model, None if history is None else check_history(model, history))
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) or not 0 < elapsed <= 1:
        raise InputError(
            Problem(
                f"elapsed={elapsed!r} must be the share of the period elapsed, in (0, 1].",
                fix="e.g. elapsed=0.5 halfway through the quarter.",
            )
        )
    if (
        isinstance(spread, bool)
        or not isinstance(spread, (int, float))
        or not (math.isfinite(spread) and spread >= 0)
    ):
        raise InputError(Problem(f"spread={spread!r} must be a number ≥ 0.", fix="e.g. spread=1."))
    if seed is not None:
        seed = check_int(seed, "seed", minimum=0, fix="e.g. seed=42.")
    compiled = compile_model(model)
    n_nodes = len(node_table(model).ids)
    from .limits import check
    from .limits import resolve as resolve_limits

    lim = resolve_limits(limits)
    check(
        "sample_values",
        f"samples × nodes ({samples:,} × {n_nodes:,}, "
        f"{samples * n_nodes * 4 / 2**30:.1f} GiB of memory for the float32 scores)",
        samples * n_nodes,
        lim,
        fix=f"use samples ≤ {lim.sample_values // max(1, n_nodes):,}.",
    )
    check("horizon", "the horizon in periods", horizon, lim, fix="e.g. horizon=4.")
    width = len(compiled.measures) + len(compiled.key_results) + 2 * len(compiled.objectives)
    if chunk_size is None:
        blocks_per_chunk = max(1, (2**25) // max(1, width * 8 * BLOCK))
    else:
        chunk_size = int(
            check_int(chunk_size, "chunk_size", minimum=1, fix="e.g. chunk_size=8192.")
        )
        blocks_per_chunk = -(-chunk_size // BLOCK)
    plan = _plan(
        model,
        history,
        horizon=horizon,
        elapsed=float(elapsed),
        spread=float(spread),
        weight_uncertainty=weight_uncertainty,
    )
    ss = np.random.SeedSequence(seed)
    entropy = int(ss.entropy)  # type: ignore[arg-type]
    n_blocks = -(-samples // BLOCK)
    children = ss.spawn(n_blocks)
    store = np.empty((n_nodes, samples), dtype=np.float32)
    weights = np.empty((plan.n_weights, samples))
    n_p = len(compiled.perspectives)
    layout: list[tuple[slice, np.ndarray]] = [
        (slice(0, n_p), plan.lin.persp_avail),
        (slice(n_p, n_p + len(compiled.objectives)), plan.lin.obj_avail),
    ]
    o0 = n_p + len(compiled.objectives)
    for n_k, avail in (
        (len(compiled.measures), plan.m_avail),
        (len(compiled.okrs), plan.lin.okr_avail),
        (len(compiled.key_results), plan.k_avail),
    ):
        layout.append((slice(o0, o0 + n_k), avail))
        o0 += n_k
    show = samples >= 200_000 if progress is None else bool(progress)
    starts = range(0, n_blocks, blocks_per_chunk)
    sizes = [(children[b], min(BLOCK, samples - b * BLOCK)) for b in range(n_blocks)]
    with progress_bar(show, samples, desc="simulate", unit="sample") as bar:

        def put(i: int, part: tuple[np.ndarray, ...]) -> None:
            lo, hi = starts[i] * BLOCK, starts[i] * BLOCK + part[0].shape[1]
            for (sl, _), arr in zip(layout, part[:-1], strict=True):  # layout[0]: perspectives
                store[sl, lo:hi] = arr
            weights[:, lo:hi] = part[-1]
            bar.update(hi - lo)

        items = [sizes[b0 : b0 + blocks_per_chunk] for b0 in starts]
        run_chunks(_sample_chunk, plan, items, put, client=client)
    avail_p = plan.lin.persp_avail
    # nodes without a score
    for sl, avail in layout[1:]:
        store[sl][~avail] = np.nan
    store[:n_p][~avail_p[::-1]] = np.nan
    return SimulationResult(model, samples, entropy, horizon, float(elapsed), store, weights, plan)


# --------------------------------------------------------------------------- engine API for planning


@dataclass(frozen=True, eq=False)
class Scenarios:
    """Seeded Monte Carlo draws of every leaf, and their roll-up (internal API for planning).

    The draws are those of :func:`simulate` with the same ``seed``, ``samples``
    and options (same blocks, same order).  Arrays are features × samples.

    Attributes
    ----------
    m_values : ndarray (n_measures × samples)
        Drawn measure values, natural units (driver links included); NaN rows
        for measures without a score.
    k_grades : ndarray (n_key_results × samples)
        Drawn key-result grades (0–1 raw scores); NaN rows where none.
    seed : int
    """

    model: Model
    m_values: np.ndarray
    k_grades: np.ndarray
    seed: int
    _weights: np.ndarray = field(repr=False)  # (uncertain links × samples), uniform draws
    _plan: _Plan = field(repr=False)

    @property
    def weights_vary(self) -> bool:
        """Whether link weights were drawn (then each sample has its own roll-up)."""
        unc = self._plan.unc
        return unc is not None and bool(unc.active.any())

    def roll(self, m_scores: np.ndarray, k_scores: np.ndarray) -> dict[str, np.ndarray]:
        """Roll leaf scores up with each sample's drawn link weights.

        Parameters
        ----------
        m_scores, k_scores : ndarray (n × samples)
            Leaf scores (NaN treated as missing, as in :func:`simulate`).

        Returns
        -------
        dict
            ``okr``, ``objective``, ``perspective`` (n × samples); NaN rows for
            nodes without a score.
        """
        plan = self._plan
        ms = np.where(plan.m_avail[:, None], np.nan_to_num(m_scores), 0.0)
        ks = np.where(plan.k_avail[:, None], np.nan_to_num(k_scores), 0.0)
        okr, obj, persp, _ = _roll_scores(plan, ms, ks, self._weights.copy())
        lin = plan.lin
        okr[~lin.okr_avail] = np.nan
        obj[~lin.obj_avail] = np.nan
        persp[~lin.persp_avail] = np.nan
        return {"okr": okr, "objective": obj, "perspective": persp}


def draw_scenarios(
    model: Model,
    history: HistoryLike | None = None,
    *,
    samples: int,
    seed: int | None,
    elapsed: float,
    horizon: int = 1,
    spread: float = 1.0,
    weight_uncertainty: bool = True,
) -> Scenarios:
    """Draw leaf outcomes exactly as :func:`simulate` does (options already validated)."""
    plan = _plan(
        model,
        history,
        horizon=horizon,
        elapsed=float(elapsed),
        spread=float(spread),
        weight_uncertainty=weight_uncertainty,
    )
    ss = np.random.SeedSequence(seed)
    entropy = int(ss.entropy)  # type: ignore[arg-type]
    n_blocks = -(-samples // BLOCK)
    parts = [
        _draw_block(plan, np.random.default_rng(child), min(BLOCK, samples - b * BLOCK))
        for b, child in enumerate(ss.spawn(n_blocks))
    ]
    z, grades, wdraw = (np.hstack(x) for x in zip(*parts, strict=True))
    nat = z * plan.m_sd[:, None]
    if plan.drv_gain is not None:
        d = plan.special[plan.special_drv]
        nat[d] += plan.drv_gain @ nat[d]
    values = nat + plan.m_mean[:, None]
    values[~plan.m_avail] = np.nan
    if plan.spread == 0:
        grades = np.broadcast_to(plan.k_fixed[:, None], grades.shape).copy()
    grades = grades.astype(float)
    grades[~plan.k_avail] = np.nan
    return Scenarios(model, values, grades, entropy, wdraw, plan)
