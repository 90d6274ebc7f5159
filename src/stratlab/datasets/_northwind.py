"""The Northwind Coffee KPI history generator and its true causal structure.

Everything that determines the bundled history is a public, module-level
constant here, so tests and tutorials can check that link tests and
calibration recover the truth.

The model of the world
----------------------
Each strategy objective ``o`` has a latent attainment ``x_o(t)`` (score units:
0 = baseline, 1 = target; the defaults keep it roughly inside [0, 1.1]).
Time runs in months, ``t = 0`` is ``start``; :data:`BURN_IN` months are
simulated before ``start`` and dropped.

``x_o(t) = mu_o(t) + z_o(t) + sum_l w_l * x_src(l)(t - lag_l)``

* ``z_o`` is the objective's own AR(1) component:
  ``z_o(t) = AR_RHO * z_o(t - 1) + INNOVATION_SD[o] * e_o(t)``, ``e`` i.i.d.
  standard normal, independent across objectives.  These innovations are what
  makes every link visible on period-over-period differences.
* the sum runs over the objective links of :data:`TRUE_LINKS` into ``o``
  (``kind == 'objective'``); ``w_l`` is the true strength (slope of the
  target's attainment on the source's attainment ``lag_l`` months earlier).
* ``mu_o(t)`` is a deterministic drift, chosen so that the expected
  attainment is the straight line :data:`OBJECTIVE_LEVELS` (start level, then
  ``slope`` per month): ``mu_o(t) = L_o(t) - sum_l w_l * L_src(t - lag_l)``.

Measures read their objective:
``score_m(t) = x_o(t) + bias_m + noise_m * e_m(t)`` and
``value_m(t) = baseline + (target - baseline) * score_m(t)`` (see
:data:`MEASURES`), so for ``higher`` and ``lower`` measures the DESIGN.md
score of the value is exactly ``score_m(t)`` before clipping (``lower`` works
because its target is below its baseline).  The ``band`` measure
(``extraction_sec``) uses the same line between the values at attainment 0
and 1 stored in its spec; its band score is not linear in ``x``.

Driver links (``kind == 'driver'``, measure -> measure, natural units) then
add ``coefficient * (value_cause(t - lag) - ref_cause)`` to the driven
measure, where ``ref_cause`` is the cause's value at attainment 0.5, so
``Δ driven = coefficient × Δ cause`` at the lag, as DESIGN.md writes it.
Drivers are applied in the order listed; a driver's cause is never driven.

Values are clipped to the measure's physical range and rounded to its
``decimals``.  Then realistic gaps are punched: :data:`GAPS` (survey or
feed outages) and :data:`LATE_START` (a KPI introduced later).

Decoys
~~~~~~
:data:`DECOY_LINKS` are links the bundled model hypothesises but the
generator does not contain (true weight 0): ``brand -> digital_reach``.  Both
objectives trend upward (deterministic ``mu``) with independent innovations
and no causal path between them, so their levels correlate strongly while
their differences do not: a link check on differenced series should flag it.
:data:`UNMODELLED_LINKS` are true links the bundled model lacks
(``engagement -> speed``): a search for missing links should find them.

True link strengths versus model link weights
---------------------------------------------
The generator's ``weight`` of an objective link is a slope on latent
attainments.  Because every measure's score is ``x_o`` plus noise, it is also
the slope of the target's *own-evidence* score (``score_history(...,
rollup=False)``: the weighted mean of the target's measure scores) on the
source's own-evidence score ``lag`` months earlier; in differences,
``Δ own_target(t) ≈ w * Δ own_source(t - lag) + noise``.  This is what an
unconstrained regression of each objective on its lagged causes estimates.

The model's link ``weight`` means something else: in the roll-up
(DESIGN.md, "Propagation up the map") an objective is the normalised
weighted combination of its own measures (their ``weight``), its OKRs and its
incoming links, with absolute weights summing to 1.  The model weights of the
bundled file are therefore the analyst's *relative* link strengths; the
quantity comparable across the two is the share of a target's incoming link
strength carried by each link, ``w_l / sum |w|`` over the target's true
incoming links (see :func:`true_links_frame`, column ``share``), which is
what a non-negative, normalised calibration should recover (up to the
decoy, which should get no weight).  Inverse links carry a negative ``w``;
the roll-up reads them as ``(1 - cause)``, which differs from ``-cause`` only
by a constant.

Key results
~~~~~~~~~~~
OKRs are quarterly, so key results only have the last quarter of history
(the last three months of the window, one value per month-end check-in),
moving from ``start`` toward ``current`` and ending exactly at ``current``
(:data:`KEY_RESULTS`).  Earlier months are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from stratlab.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AR_RHO",
    "BURN_IN",
    "DECOY_LINKS",
    "GAPS",
    "INNOVATION_SD",
    "KEY_RESULTS",
    "LATE_START",
    "MEASURES",
    "OBJECTIVE_LEVELS",
    "ROOT_SD",
    "TRUE_LINKS",
    "UNMODELLED_LINKS",
    "KeyResultSpec",
    "MeasureSpec",
    "TrueLink",
    "generate_history",
    "generate_latent",
    "true_links_frame",
]


@dataclass(frozen=True)
class TrueLink:
    """One causal link of the generator.

    Attributes
    ----------
    source, target : str
        Objective ids (``kind='objective'``) or measure ids (``kind='driver'``).
    weight : float
        ``objective``: slope of the target's latent attainment on the source's
        ``lag`` months earlier (negative = inverse).  ``driver``: the
        coefficient in natural units (Δ target = weight × Δ source).
        0 for decoys.
    lag : int
        Months.
    kind : {'objective', 'driver'}
    in_model : bool
        Whether the bundled ``northwind.yaml`` hypothesises this link.
    """

    source: str
    target: str
    weight: float
    lag: int
    kind: Literal["objective", "driver"] = "objective"
    in_model: bool = True


@dataclass(frozen=True)
class MeasureSpec:
    """How one measure is generated from its objective's attainment.

    ``at0`` and ``at1`` are the values at attainment 0 and 1 (the model's
    baseline and target for ``higher``/``lower`` measures).  ``noise`` and
    ``bias`` are in score units.  ``lo``/``hi`` is the physical range.
    """

    id: str
    objective: str
    at0: float
    at1: float
    noise: float
    bias: float = 0.0
    decimals: int = 1
    lo: float = 0.0
    hi: float = float("inf")


@dataclass(frozen=True)
class KeyResultSpec:
    """A key result of the bundled model (start, target, current)."""

    id: str
    start: float
    target: float
    current: float
    decimals: int = 1


#: Autoregressive coefficient of every objective's own component.
AR_RHO: float = 0.8

#: Months simulated before ``start`` and discarded.
BURN_IN: int = 36

#: Expected attainment path per objective: (level at ``start``, change per month).
OBJECTIVE_LEVELS: dict[str, tuple[float, float]] = {
    # learning
    "skills": (0.30, 0.48 / 59),
    "engagement": (0.50, -0.08 / 59),
    "data": (0.15, 0.53 / 59),
    # process
    "speed": (0.35, 0.37 / 59),
    "quality": (0.50, 0.28 / 59),
    "waste": (0.30, 0.15 / 59),
    "sourcing": (0.45, 0.35 / 59),
    # customer
    "experience": (0.40, 0.30 / 59),
    "digital_reach": (0.10, 0.42 / 59),
    "brand": (0.20, 0.30 / 59),
    "loyalty": (0.35, 0.27 / 59),
    # financial
    "growth": (0.30, 0.18 / 59),
    "margin": (0.45, -0.09 / 59),
    "returns": (0.30, 0.08 / 59),
}

#: Innovation standard deviation of the objectives without incoming true links.
ROOT_SD: float = 0.06

#: Standard deviation of each objective's own innovations (score units per month):
#: ``ROOT_SD * sqrt(1 - sum w**2)`` over the objective's incoming true links, so that
#: every objective's differenced attainment has about the same variance and the
#: correlation of a link on differences is about its weight (before measurement noise).
INNOVATION_SD: dict[str, float] = {}

#: The generator's causal links (objective links on latent attainments; drivers in natural units).
TRUE_LINKS: tuple[TrueLink, ...] = (
    TrueLink("skills", "speed", 0.60, 1),
    TrueLink("engagement", "speed", 0.45, 0, in_model=False),
    TrueLink("skills", "quality", 0.50, 0),
    TrueLink("sourcing", "quality", 0.45, 2),
    TrueLink("speed", "experience", 0.50, 0),
    TrueLink("quality", "experience", 0.40, 0),
    TrueLink("engagement", "experience", 0.45, 2),
    TrueLink("data", "waste", 0.60, 1),
    TrueLink("data", "digital_reach", 0.55, 0),
    TrueLink("experience", "loyalty", 0.60, 1),
    TrueLink("digital_reach", "loyalty", 0.40, 2),
    TrueLink("loyalty", "growth", 0.60, 1),
    TrueLink("brand", "growth", 0.40, 0),
    TrueLink("speed", "margin", 0.45, 0),
    TrueLink("waste", "margin", 0.50, 0),
    TrueLink("growth", "returns", 0.55, 1),
    TrueLink("margin", "returns", 0.50, 0),
    TrueLink("growth", "engagement", -0.40, 3),
    TrueLink("training_hours", "certified_pct", 3.0, 2, kind="driver"),
    TrueLink("wait_min", "nps", -3.0, 0, kind="driver"),
    TrueLink("orders_per_labour_hour", "labour_cost_pct", -0.6, 0, kind="driver"),
)

for _objective in OBJECTIVE_LEVELS:
    _sum_sq = sum(
        lk.weight**2 for lk in TRUE_LINKS if lk.kind == "objective" and lk.target == _objective
    )
    INNOVATION_SD[_objective] = round(ROOT_SD * float(np.sqrt(1.0 - _sum_sq)), 4)
del _objective, _sum_sq

#: Links the bundled model hypothesises that the generator does not contain (true weight 0).
DECOY_LINKS: tuple[TrueLink, ...] = (TrueLink("brand", "digital_reach", 0.0, 0),)

#: True links that the bundled model lacks.
UNMODELLED_LINKS: tuple[TrueLink, ...] = tuple(link for link in TRUE_LINKS if not link.in_model)

#: How every measure reads its objective.
MEASURES: tuple[MeasureSpec, ...] = (
    MeasureSpec("training_hours", "skills", 4, 12, 0.02),
    MeasureSpec("certified_pct", "skills", 30, 80, 0.015, bias=-0.08, hi=100),
    MeasureSpec("staff_turnover", "engagement", 85, 45, 0.02, bias=-0.05, hi=200),
    MeasureSpec("enps", "engagement", -5, 30, 0.025, bias=0.05, lo=-100, hi=100),
    MeasureSpec("absenteeism", "engagement", 6, 3, 0.02, decimals=2, hi=100),
    MeasureSpec("dashboard_adoption", "data", 20, 90, 0.015, hi=100),
    MeasureSpec("forecast_accuracy", "data", 70, 90, 0.02, hi=100),
    MeasureSpec("wait_min", "speed", 9, 4, 0.015, decimals=2),
    MeasureSpec("orders_per_labour_hour", "speed", 14, 20, 0.015, decimals=2),
    MeasureSpec("remake_pct", "quality", 5, 2, 0.02, decimals=2, hi=100),
    MeasureSpec("audit_score", "quality", 70, 92, 0.02, hi=100),
    MeasureSpec("extraction_sec", "quality", 34, 26, 0.02),
    MeasureSpec("waste_pct", "waste", 8, 4, 0.02, decimals=2, hi=100),
    MeasureSpec("stockouts", "waste", 6, 1, 0.025),
    MeasureSpec("direct_trade_pct", "sourcing", 40, 75, 0.015, hi=100),
    MeasureSpec("supplier_otif", "sourcing", 88, 98, 0.02, bias=0.05, hi=100),
    MeasureSpec("csat", "experience", 78, 90, 0.02, hi=100),
    MeasureSpec("complaints_per_10k", "experience", 12, 5, 0.025, decimals=2),
    MeasureSpec("app_users", "digital_reach", 20, 60, 0.015),
    MeasureSpec("mobile_order_share", "digital_reach", 10, 30, 0.015, hi=100),
    MeasureSpec("brand_awareness", "brand", 25, 40, 0.02, hi=100),
    MeasureSpec("community_events", "brand", 10, 40, 0.015, decimals=0),
    MeasureSpec("nps", "loyalty", 20, 45, 0.015, lo=-100, hi=100),
    MeasureSpec("repeat_rate", "loyalty", 35, 50, 0.015, hi=100),
    MeasureSpec("revenue_growth", "growth", 0, 8, 0.02, bias=0.1, lo=-100),
    MeasureSpec("avg_ticket", "growth", 6.2, 7.4, 0.015, decimals=2),
    MeasureSpec("gross_margin", "margin", 62, 68, 0.02, hi=100),
    MeasureSpec("labour_cost_pct", "margin", 34, 29, 0.015, hi=100),
    MeasureSpec("ebitda_margin", "returns", 12, 18, 0.02, lo=-100, hi=100),
    MeasureSpec("payback_months", "returns", 36, 24, 0.02),
)

#: Key results of the bundled model (history only over the last quarter).
KEY_RESULTS: tuple[KeyResultSpec, ...] = (
    KeyResultSpec("academy_graduates", 0, 120, 96, decimals=0),
    KeyResultSpec("trainee_rating", 3.8, 4.5, 4.1, decimals=2),
    KeyResultSpec("app_rating", 4.1, 4.6, 4.5, decimals=2),
    KeyResultSpec("checkout_sec", 45, 20, 38),
    KeyResultSpec("loyalty_signups", 0, 15000, 6200, decimals=0),
    KeyResultSpec("peak_wait_min", 11, 6, 7.2, decimals=2),
    KeyResultSpec("second_grinder_stores", 0, 40, 40, decimals=0),
    KeyResultSpec("peak_shift_fill", 82, 98, 91),
    KeyResultSpec("rota_lead_days", 3, 14, 10, decimals=0),
    KeyResultSpec("milk_waste_l", 40, 20, 33),
    KeyResultSpec("oat_dispensers", 0, 60, 12, decimals=0),
)

#: Months with no value (survey not run, feed outage), by measure.
GAPS: dict[str, tuple[str, ...]] = {
    "csat": ("2022-08", "2024-03"),
    "supplier_otif": ("2021-11", "2021-12", "2023-06"),
    "app_users": ("2024-10",),
}

#: Measures introduced after the start of the history: first month with data.
LATE_START: dict[str, str] = {"forecast_accuracy": "2023-01"}


def true_links_frame(*, include_decoys: bool = True) -> pd.DataFrame:
    """The generator's links as a table.

    Parameters
    ----------
    include_decoys : bool
        Also list :data:`DECOY_LINKS` (weight 0, ``decoy`` True).

    Returns
    -------
    pandas.DataFrame
        Columns, in order: ``source, target, weight, lag, kind, in_model,
        decoy, share``.  ``share`` is ``|weight| / sum |weight|`` over the
        target's true objective links (what a normalised calibration should
        recover); NaN for drivers, 0 for decoys.
    """
    import pandas as pd

    links = list(TRUE_LINKS) + (list(DECOY_LINKS) if include_decoys else [])
    frame = pd.DataFrame(
        {
            "source": [lk.source for lk in links],
            "target": [lk.target for lk in links],
            "weight": [float(lk.weight) for lk in links],
            "lag": [lk.lag for lk in links],
            "kind": [lk.kind for lk in links],
            "in_model": [lk.in_model for lk in links],
            "decoy": [lk in DECOY_LINKS for lk in links],
        }
    )
    objective = frame["kind"] == "objective"
    total = frame[objective].groupby("target")["weight"].apply(lambda w: w.abs().sum())
    share = frame["weight"].abs() / frame["target"].map(total)
    frame["share"] = share.where(objective).astype(float)
    return frame


def _topological_objectives() -> list[str]:
    """Objectives ordered so that every lag-0 true link goes forward."""
    order: list[str] = []
    remaining = list(OBJECTIVE_LEVELS)
    instant = [lk for lk in TRUE_LINKS if lk.kind == "objective" and lk.lag == 0]
    while remaining:
        for obj in remaining:
            if all(lk.source in order for lk in instant if lk.target == obj):
                order.append(obj)
                remaining.remove(obj)
                break
        else:  # pragma: no cover - the constants are acyclic
            raise RuntimeError("lag-0 cycle in TRUE_LINKS")
    return order


def _check_options(start: str, periods: int) -> pd.PeriodIndex:
    import pandas as pd

    problems: list[Problem] = []
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 4:
        problems.append(
            Problem(
                f"generate_history(periods={periods!r}): periods must be an integer of at least 4.",
                fix="pass e.g. periods=60 (five years of months).",
            )
        )
    try:
        first = pd.Period(start, freq="M")
    except (ValueError, TypeError):
        problems.append(
            Problem(
                f"generate_history(start={start!r}): not a month.",
                fix="pass the first month as 'YYYY-MM', e.g. start='2021-01'.",
            )
        )
    if problems:
        raise InputError(problems)
    return pd.period_range(first, periods=periods, freq="M", name="period")


def _simulate(
    rng: np.random.Generator, periods: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Latent attainments (burn-in included) and objective means ``L_o(t)``."""
    total = BURN_IN + periods
    t = np.arange(total, dtype=float) - BURN_IN
    objectives = list(OBJECTIVE_LEVELS)
    levels = {o: OBJECTIVE_LEVELS[o][0] + OBJECTIVE_LEVELS[o][1] * t for o in objectives}
    incoming: dict[str, list[TrueLink]] = {o: [] for o in objectives}
    for lk in TRUE_LINKS:
        if lk.kind == "objective":
            incoming[lk.target].append(lk)
    # deterministic drift so that E[x_o(t)] = L_o(t)
    mu = {}
    for o in objectives:
        m = levels[o].copy()
        for lk in incoming[o]:
            a0, slope = OBJECTIVE_LEVELS[lk.source]
            m -= lk.weight * (a0 + slope * (t - lk.lag))
        mu[o] = m
    # own AR(1) components, drawn in a fixed order (objective order of OBJECTIVE_LEVELS)
    shocks = rng.standard_normal((len(objectives), total))
    own: dict[str, np.ndarray] = {}
    for i, o in enumerate(objectives):
        z = np.empty(total)
        sd = INNOVATION_SD[o]
        z[0] = shocks[i, 0] * sd / np.sqrt(1.0 - AR_RHO**2)
        for k in range(1, total):
            z[k] = AR_RHO * z[k - 1] + sd * shocks[i, k]
        own[o] = z
    order = _topological_objectives()
    x = {o: np.empty(total) for o in objectives}
    for k in range(total):
        for o in order:
            value = mu[o][k] + own[o][k]
            for lk in incoming[o]:
                j = k - lk.lag
                src = (
                    x[lk.source][j]
                    if j >= 0
                    else levels[lk.source][0] - OBJECTIVE_LEVELS[lk.source][1] * (lk.lag - k)
                )
                value += lk.weight * src
            x[o][k] = value
    return x, levels


def generate_latent(*, seed: int = 0, start: str = "2021-01", periods: int = 60) -> pd.DataFrame:
    """The latent objective attainments behind :func:`generate_history`.

    Same seed, same draws: these are exactly the ``x_o(t)`` that the history
    of the same ``seed``, ``start`` and ``periods`` was generated from.

    Returns
    -------
    pandas.DataFrame
        Index: monthly ``PeriodIndex`` named ``period``; one float column per
        objective id (in the order of :data:`OBJECTIVE_LEVELS`).
    """
    import pandas as pd

    index = _check_options(start, periods)
    x, _ = _simulate(np.random.default_rng(seed), periods)
    return pd.DataFrame({o: v[BURN_IN:] for o, v in x.items()}, index=index)


def generate_history(
    *,
    seed: int = 0,
    start: str = "2021-01",
    periods: int = 60,
    gaps: bool = True,
    key_results: bool = True,
) -> pd.DataFrame:
    """Monthly KPI history of Northwind Coffee with a known causal structure.

    See the module docstring for the model; its parameters are the
    module-level constants (:data:`TRUE_LINKS`, :data:`MEASURES`, ...).

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the bundled history is ``seed=0``.
    start : str
        First month, ``'YYYY-MM'``.
    periods : int
        Number of months (at least 4).  The level paths are tuned for 60.
    gaps : bool
        Punch the realistic gaps of :data:`GAPS` and :data:`LATE_START`
        (those that fall inside the window).
    key_results : bool
        Add one column per key result, with values only in the last three
        months (the current quarter's check-ins), ending at ``current``.

    Returns
    -------
    pandas.DataFrame
        Wide history: index a monthly ``PeriodIndex`` named ``period``;
        columns the measure ids in the order of :data:`MEASURES`, then the
        key-result ids in the order of :data:`KEY_RESULTS`; float values
        (NaN where there is no data).
    """
    import pandas as pd

    index = _check_options(start, periods)
    rng = np.random.default_rng(seed)
    x, _ = _simulate(rng, periods)
    noise = rng.standard_normal((len(MEASURES), periods))
    specs = {m.id: m for m in MEASURES}
    raw: dict[str, np.ndarray] = {}
    for i, m in enumerate(MEASURES):
        score = x[m.objective][BURN_IN:] + m.bias + m.noise * noise[i]
        raw[m.id] = m.at0 + (m.at1 - m.at0) * score
    for lk in TRUE_LINKS:
        if lk.kind != "driver":
            continue
        cause = specs[lk.source]
        ref = (cause.at0 + cause.at1) / 2.0
        series = raw[lk.source]
        lagged = np.concatenate([np.full(lk.lag, series[0]), series[: periods - lk.lag]])
        raw[lk.target] = raw[lk.target] + lk.weight * (lagged - ref)
    data: dict[str, np.ndarray] = {}
    for m in MEASURES:
        data[m.id] = np.round(np.clip(raw[m.id], m.lo, m.hi), m.decimals) + 0.0
    frame = pd.DataFrame(data, index=index, dtype=float)
    if gaps:
        for mid, months in GAPS.items():
            for month in months:
                period = pd.Period(month, freq="M")
                if period in frame.index:
                    frame.loc[period, mid] = np.nan
        for mid, month in LATE_START.items():
            frame.loc[frame.index < pd.Period(month, freq="M"), mid] = np.nan
    if key_results:
        kr_noise = rng.standard_normal((len(KEY_RESULTS), 2))
        n_hist = min(3, periods)
        for i, kr in enumerate(KEY_RESULTS):
            column = np.full(periods, np.nan)
            progress = np.array([1 / 3, 2 / 3, 1.0])[-n_hist:]
            jitter = np.concatenate([0.08 * kr_noise[i], [0.0]])[-n_hist:]
            share = np.clip(progress + jitter * (progress < 1), 0.0, 1.0)
            values = kr.start + (kr.current - kr.start) * share
            column[periods - n_hist :] = np.round(values, kr.decimals) + 0.0
            frame[kr.id] = column
    frame.index.name = "period"
    return frame


def _write_csv(frame: pd.DataFrame, path: str) -> None:
    """Write a generated history as the bundled wide CSV (``period`` column first)."""
    frame.to_csv(path, index_label="period", lineterminator="\n")
