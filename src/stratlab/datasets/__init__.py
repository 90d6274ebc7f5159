"""The bundled example organisation and generated strategy maps.

* :func:`load_example` -- Northwind Coffee, a specialty-coffee chain: its
  strategy model (``northwind.yaml``) and five years of monthly KPI history
  (``northwind_history.csv``); :func:`example_paths`, :func:`write_example`.
* :func:`generate_history` -- the seeded generator of that history, with its
  true causal structure public (:data:`TRUE_LINKS`, :data:`DECOY_LINKS`,
  :data:`UNMODELLED_LINKS`, noise levels; see :mod:`stratlab.datasets._northwind`
  for the model and how true strengths relate to model link weights).
* :func:`make_cascade`, :func:`make_random_map` -- generated model dicts, large
  for benchmarks and small for property tests.
"""

from __future__ import annotations

from ._files import ExamplePaths, example_paths, load_example, write_example
from ._northwind import (
    AR_RHO,
    BURN_IN,
    DECOY_LINKS,
    GAPS,
    INNOVATION_SD,
    KEY_RESULTS,
    LATE_START,
    MEASURES,
    OBJECTIVE_LEVELS,
    ROOT_SD,
    TRUE_LINKS,
    UNMODELLED_LINKS,
    KeyResultSpec,
    MeasureSpec,
    TrueLink,
    generate_history,
    generate_latent,
    true_links_frame,
)
from ._synthetic import make_cascade, make_random_map

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
    "ExamplePaths",
    "KeyResultSpec",
    "MeasureSpec",
    "TrueLink",
    "example_paths",
    "generate_history",
    "generate_latent",
    "load_example",
    "make_cascade",
    "make_random_map",
    "true_links_frame",
    "write_example",
]
