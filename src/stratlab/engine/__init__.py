"""The engine: the one place where the propagation maths lives.

Internal API (stable inside stratlab; scoring, what-if, simulation, plots and
widgets use these names and nothing private):

* :mod:`._compile` — :func:`compile_model` turns a validated model into sparse
  matrices (:class:`Compiled`, cached per model); :func:`solve_weighted` is the one
  normalised weighted roll-up.
* :mod:`._scores` — leaf scores (:func:`score_measure_values`, :func:`score_rows`
  with the targets in force per period,
  :func:`score_kr_values`, :func:`score_with_params`), :func:`status_of` and
  :func:`rollup_all` (one period, every level).
* :mod:`._inputs` — :func:`check_history`, :func:`review_history` (the history at
  the review period's frequency), :func:`review_values` / :func:`leaf_values` (the
  values a period is scored from, and where each comes from), :func:`staleness`
  and :func:`objective_history` / :func:`rolled_history` (the roll-up of every
  period, kept per model and history).
* :mod:`._changes` — what-if changes (:class:`Change`, :func:`parse_changes`).
* :mod:`._baseline` — the node table (:func:`node_table`), the cached state before
  any change (:func:`get_baseline`), :func:`apply_changes` and driver dynamics.
* :mod:`._stability` — spectral radius and feedback loops (:func:`stability_warnings`).
* :mod:`._linear` — the linear system ``a = B·a + V·s + c``
  (:func:`linear_system`, :class:`LinearSystem`, :func:`full_linear`), and the
  long run of what-if as a linear map of leaf scores (:func:`long_run_map`,
  :class:`LongRunMap`, used by goal seeking and portfolio planning).

Data flows one way: model → compile → inputs → scores → roll-up; nothing here
imports plots, widgets, report or the command line.
"""

from __future__ import annotations

from ._baseline import (
    AppliedChanges,
    Baseline,
    DriverDynamics,
    NodeTable,
    apply_changes,
    driver_dynamics,
    get_baseline,
    history_fingerprint,
    node_table,
    reachable_measures,
    relink,
    safe_rollup,
    stack_scores,
)
from ._changes import Change, Op, as_changes, check_changes, link_key, parse_changes, split_link
from ._compile import Compiled, RollupResult, compile_model, solve_weighted
from ._inputs import (
    check_history,
    history_columns,
    leaf_values,
    model_now,
    objective_history,
    review_history,
    review_values,
    rolled_history,
    staleness,
)
from ._linear import (
    ForwardSolver,
    LinearSystem,
    LongRunMap,
    baseline_system,
    full_linear,
    linear_system,
    long_run_map,
)
from ._scores import (
    measure_params,
    params_at,
    rollup_all,
    score_kr_values,
    score_measure_values,
    score_rows,
    score_with_params,
    status_of,
    targets_in_force,
)
from ._stability import stability_warnings

__all__ = [
    "AppliedChanges",
    "Baseline",
    "Change",
    "Compiled",
    "DriverDynamics",
    "ForwardSolver",
    "LinearSystem",
    "LongRunMap",
    "NodeTable",
    "Op",
    "RollupResult",
    "apply_changes",
    "as_changes",
    "baseline_system",
    "check_changes",
    "check_history",
    "compile_model",
    "driver_dynamics",
    "full_linear",
    "get_baseline",
    "history_columns",
    "history_fingerprint",
    "leaf_values",
    "linear_system",
    "link_key",
    "long_run_map",
    "measure_params",
    "model_now",
    "node_table",
    "objective_history",
    "params_at",
    "parse_changes",
    "reachable_measures",
    "relink",
    "review_history",
    "review_values",
    "rolled_history",
    "rollup_all",
    "safe_rollup",
    "score_kr_values",
    "score_measure_values",
    "score_rows",
    "score_with_params",
    "solve_weighted",
    "split_link",
    "stability_warnings",
    "stack_scores",
    "staleness",
    "status_of",
    "targets_in_force",
]
