"""stratlab: test, calibrate and simulate Balanced Scorecard strategy maps and OKRs.

The public API is declared once here and loaded lazily, so ``import stratlab``
stays fast: heavy libraries (scipy, plotly, ipywidgets, statsmodels, papermill)
are imported only when a function that needs them is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    HistoryError,
    InputError,
    ModelError,
    Problem,
    ReportError,
    StratlabError,
    StratlabWarning,
)

# public name -> module that defines it (one registry, no if/elif chains)
_LAZY: dict[str, str] = {
    "Model": "stratlab.model",
    "load_model": "stratlab.io",
    "save_model": "stratlab.io",
    "model_schema": "stratlab.model",
    "load_history": "stratlab.io",
    "DatabaseSource": "stratlab.io",
    "compile_model": "stratlab.engine",
    "score": "stratlab.scoring",
    "score_history": "stratlab.scoring",
    "datasets": "stratlab.datasets",
    "correlate": "stratlab.stats",
    "partial_correlate": "stratlab.stats",
    "granger": "stratlab.stats",
    "check_links": "stratlab.stats",
    "suggest_links": "stratlab.stats",
    "calibrate": "stratlab.stats",
    "spc": "stratlab.stats",
    "plots": "stratlab.plots",
    "whatif_explorer": "stratlab.widgets",
    "correlation_explorer": "stratlab.widgets",
    "simulation_explorer": "stratlab.widgets",
    "whatif": "stratlab.propagation",
    "total_effects": "stratlab.propagation",
    "sensitivity": "stratlab.propagation",
    "rank_initiatives": "stratlab.propagation",
    "simulate_dynamics": "stratlab.propagation",
    "simulate": "stratlab.simulation",
    "goal_seek": "stratlab.planning",
    "plan_portfolio": "stratlab.planning",
    "objective_evidence": "stratlab.stats",
    "run_review": "stratlab.report",
    "run_batch": "stratlab.report",
    "run_demo": "stratlab.demo",
    "load_example": "stratlab.datasets",
    # every command is also a function of the same name ("module:attribute" aliases)
    "validate": "stratlab.io:load_model",
    "schema": "stratlab.model:model_schema",
    "example": "stratlab.datasets:write_example",
    "initiatives": "stratlab.propagation:rank_initiatives",
    "review": "stratlab.report:run_review",
    "review_batch": "stratlab.report:run_batch",
    "demo": "stratlab.demo:run_demo",
    "portfolio": "stratlab.planning:plan_portfolio",
    "Limits": "stratlab.limits",
    "limits": "stratlab.limits",
}

__all__ = [
    "HistoryError",
    "InputError",
    "ModelError",
    "Problem",
    "ReportError",
    "StratlabError",
    "StratlabWarning",
    "__version__",
    *_LAZY,
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    __version__: str
    from . import datasets as datasets
    from . import limits as limits
    from . import plots as plots
    from .datasets import load_example as load_example
    from .datasets import write_example as example  # noqa: F401 - command alias
    from .demo import run_demo as demo  # noqa: F401 - command alias
    from .demo import run_demo as run_demo
    from .engine import compile_model as compile_model
    from .io import DatabaseSource as DatabaseSource
    from .io import load_history as load_history
    from .io import load_model as load_model
    from .io import load_model as validate  # noqa: F401 - command alias
    from .io import save_model as save_model
    from .limits import Limits as Limits
    from .model import Model as Model
    from .model import model_schema as model_schema
    from .model import model_schema as schema  # noqa: F401 - command alias
    from .planning import goal_seek as goal_seek
    from .planning import plan_portfolio as plan_portfolio
    from .planning import plan_portfolio as portfolio  # noqa: F401 - command alias
    from .propagation import rank_initiatives as initiatives  # noqa: F401 - command alias
    from .propagation import rank_initiatives as rank_initiatives
    from .propagation import sensitivity as sensitivity
    from .propagation import simulate_dynamics as simulate_dynamics
    from .propagation import total_effects as total_effects
    from .propagation import whatif as whatif
    from .report import run_batch as review_batch  # noqa: F401 - command alias
    from .report import run_batch as run_batch
    from .report import run_review as review  # noqa: F401 - command alias
    from .report import run_review as run_review
    from .scoring import score as score
    from .scoring import score_history as score_history
    from .simulation import simulate as simulate
    from .stats import calibrate as calibrate
    from .stats import check_links as check_links
    from .stats import correlate as correlate
    from .stats import granger as granger
    from .stats import objective_evidence as objective_evidence
    from .stats import partial_correlate as partial_correlate
    from .stats import spc as spc
    from .stats import suggest_links as suggest_links
    from .widgets import correlation_explorer as correlation_explorer
    from .widgets import simulation_explorer as simulation_explorer
    from .widgets import whatif_explorer as whatif_explorer


def __getattr__(name: str) -> Any:
    if name == "__version__":  # written once, in pyproject.toml; read from the package metadata
        from importlib.metadata import version

        globals()[name] = found = version("stratlab")
        return found
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'stratlab' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    mod = importlib.import_module(module)
    value = mod if module.endswith("." + name) else getattr(mod, attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
