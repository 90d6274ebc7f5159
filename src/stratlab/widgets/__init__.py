"""Live ipywidgets explorers: what-if, correlations, Monte Carlo.

Every explorer is a plain Python object holding its controls (``.controls``),
its current result (``.result``) and its figure (``.figure``), and displays as
an ipywidgets box in a notebook.  They work headless (tests, scripts): set a
control's ``.value`` and read the result.  ipywidgets and plotly are imported
when an explorer is built, never at ``import stratlab``.

One module per explorer (:mod:`.whatif`, :mod:`.correlation`,
:mod:`.simulation`); :mod:`._engine` is the cached what-if engine they share.
"""

from __future__ import annotations

from ._engine import link_key
from .correlation import CorrelationExplorer, correlation_explorer
from .simulation import SimulationExplorer, simulation_explorer
from .whatif import WhatIfExplorer, whatif_explorer

__all__ = [
    "CorrelationExplorer",
    "SimulationExplorer",
    "WhatIfExplorer",
    "correlation_explorer",
    "link_key",
    "simulation_explorer",
    "whatif_explorer",
]
