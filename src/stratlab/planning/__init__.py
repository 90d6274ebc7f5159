"""From what-if to what-must: goal seeking and an initiative portfolio under a budget.

Both are exact optimisation problems on the engine's long-run map (the long
run of :func:`stratlab.whatif`): objectives are linear in the leaf scores,
``a = (I − B)⁻¹(V·s + c)`` (:func:`stratlab.engine.long_run_map`), and
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

Limits and tolerances
    Targets are met to 1e-9 in score (linear programmes are solved with
    feasibility tolerances of 1e-10; every plan is re-run through
    :func:`stratlab.whatif`, whose numbers the results report).  Optima are
    HiGHS's: exact for linear programmes, within its MIP gaps (relative 1e-9,
    absolute 1e-6 of the objective) for mixed-integer ones: goal seeking's
    effort to about 1e-6; the effect portfolio to 1e-6 of its largest single
    gain (its objective is scaled to that gain); P(green) exactly (whole
    scenarios).  A band measure
    that a driver link could carry across its band, and a leaf moved by more
    than 12 initiatives, are refused with a message.
"""

from ._goal_seek import GOAL_SEEK_COLUMNS, GoalSeekResult, goal_seek
from ._portfolio import PORTFOLIO_COLUMNS, PORTFOLIO_TOTAL_COLUMNS, PortfolioResult, plan_portfolio

__all__ = [
    "GOAL_SEEK_COLUMNS",
    "PORTFOLIO_COLUMNS",
    "PORTFOLIO_TOTAL_COLUMNS",
    "GoalSeekResult",
    "PortfolioResult",
    "goal_seek",
    "plan_portfolio",
]
