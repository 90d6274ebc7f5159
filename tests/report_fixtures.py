"""Small inputs for the report tests: a model whose names try to run script, a
short history, and a tiny review template (fast to execute)."""

from __future__ import annotations

from pathlib import Path

PWNED_SCRIPT = "<script>window.__pwned = 1</script>"
PWNED_IMG = '<img src=x onerror="window.__pwned = 2">'

MODEL_YAML = f"""\
stratlab: 1
name: 'Northwind {PWNED_SCRIPT} Coffee'
mission: Great coffee, made fast
period: quarter
objectives:
  - {{id: skills, name: 'Build {PWNED_IMG} skills', perspective: learning}}
  - {{id: speed, name: Fast service, perspective: process}}
  - {{id: loyalty, name: Loyal customers, perspective: customer}}
  - {{id: growth, name: Profitable growth, perspective: financial, weight: 2}}
measures:
  - {{id: nps, name: Net Promoter Score, objective: loyalty, direction: higher, baseline: 20, target: 45, unit: pts}}
  - {{id: wait_min, name: Wait time, objective: speed, direction: lower, baseline: 9, target: 4, unit: min}}
  - {{id: revenue_growth, name: Revenue growth, objective: growth, direction: higher, baseline: 0, target: 8, unit: '%'}}
  - {{id: training_hours, name: Training hours, objective: skills, direction: higher, baseline: 2, target: 10, unit: h}}
links:
  - {{from: skills, to: speed, weight: 0.5, lag: 1}}
  - {{from: speed, to: loyalty, weight: 0.4}}
  - {{from: loyalty, to: growth, weight: 0.6, lag: 1}}
"""

HISTORY_CSV = """\
period,nps,wait_min,revenue_growth,training_hours
2024Q1,22,8.5,1.0,3
2024Q2,25,8.0,2.0,4
2024Q3,27,7.1,2.5,6
2024Q4,31,6.0,4.0,7
"""

_SETUP = "from stratlab.report import setup_notebook\n\nsetup_notebook()"
_PARAMS = """\
model = None
history = None
period = None
seed = 0
title = None
fail = False"""
_BODY = [
    """\
import html

import numpy as np
import plotly.graph_objects as go
from IPython.display import HTML, display

from stratlab.io import load_history
from stratlab.io import load_model

strategy = load_model(model)
kpis = load_history(history, strategy)
display(HTML(f"<h1 id='review-title'>{html.escape(title or strategy.name)}</h1>"))
names = [html.escape(o.name) for o in strategy.objectives]
import pandas as pd

pd.DataFrame({"objective": [o.name for o in strategy.objectives]})""",
    """\
rng = np.random.default_rng(seed)
fig = go.Figure(go.Bar(x=names, y=rng.uniform(0, 1, len(names))))
fig.update_layout(title="Seeded bars")
fig""",
    """\
periods = [str(p) for p in kpis.index]
values = {p: kpis.loc[p].tolist() for p in periods}
fig = go.Figure(go.Bar(x=list(kpis.columns), y=values[periods[-1]]))
fig.update_layout(
    title="Values by period",
    sliders=[
        dict(
            active=len(periods) - 1,
            steps=[dict(label=p, method="restyle", args=[{"y": [values[p]]}]) for p in periods],
        )
    ],
)
fig""",
    """\
if fail:
    raise ValueError("boom on purpose")""",
    'print("review complete")',
]


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """Write the model and history into ``folder``; return their paths."""
    model = folder / "model.yaml"
    history = folder / "history.csv"
    model.write_text(MODEL_YAML, encoding="utf-8")
    history.write_text(HISTORY_CSV, encoding="utf-8")
    return model, history


def write_mini_template(path: Path) -> Path:
    """A tiny review template: two plotly figures (one with a slider) and an optional failure."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    params = new_code_cell(_PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_code_cell(_SETUP), params, *(new_code_cell(c) for c in _BODY)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"mini-{i}"
    nbformat.write(nb, path)
    return path
