"""Reviews: papermill-run templates exported as self-contained HTML.

``run_review`` runs one template (shipped by name, or a notebook path) and
writes one HTML page; ``run_batch`` runs one review per business unit in
parallel with an ``index.html``; ``setup_notebook`` is called in a template's
first cell so plotly figures survive the export.  ``scorecard_table``,
``spc_signals`` and ``open_actions``' HTML renderers build the tables a
review meeting is run from.  papermill, nbconvert and
plotly are imported only when these run.
"""

from stratlab.report._batch import BATCH_COLUMNS, read_manifest, run_batch
from stratlab.report._meeting import (
    SCORECARD_COLUMNS,
    SIGNAL_COLUMNS,
    actions_html,
    review_period,
    scorecard_html,
    scorecard_table,
    signals_html,
    spc_signals,
)
from stratlab.report._review import PLOTLY_RENDERER, run_review, setup_notebook
from stratlab.report._templates import list_templates, load_template, validate_parameters

__all__ = [
    "BATCH_COLUMNS",
    "PLOTLY_RENDERER",
    "SCORECARD_COLUMNS",
    "SIGNAL_COLUMNS",
    "actions_html",
    "list_templates",
    "load_template",
    "read_manifest",
    "review_period",
    "run_batch",
    "run_review",
    "scorecard_html",
    "scorecard_table",
    "setup_notebook",
    "signals_html",
    "spc_signals",
    "validate_parameters",
]
