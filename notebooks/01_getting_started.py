# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Getting started: load, validate, score, draw
#
# This notebook walks through the first loop of stratlab on the bundled example,
# **Northwind Coffee** — a 40-store coffee chain with a Balanced Scorecard of 14
# objectives in four perspectives, 30 KPIs, 5 OKRs and 4 initiatives, plus five
# years of monthly KPI history.
#
# You will: load the example, look at the model, see what a mistake in a model
# file looks like, score the map, follow scores over time, and draw the strategy
# map and the scorecard.

# %%
import pandas as pd
import plotly.io as pio
from IPython.display import display

import stratlab
from stratlab import plots

# Figures embed plotly.js once, so they survive an HTML export of the notebook.
pio.renderers.default = "plotly_mimetype+notebook"
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
pd.set_option("display.precision", 3)

# %% [markdown]
# ## The example files
#
# `stratlab.datasets.load_example()` returns the model and its KPI history, ready
# to use. The same two files are on disk — a YAML strategy model and a wide CSV
# history (one `period` column, one column per KPI id) — and `write_example`
# copies them to a folder of yours to edit.

# %%
from stratlab.datasets import example_paths, load_example

model, history = load_example()
paths = example_paths()
print("model file:  ", paths.model.name)
print("history file:", paths.history.name)
print(
    f"{history.shape[0]} periods ({history.index[0]} to {history.index[-1]}), {history.shape[1]} KPI columns"
)

assert history.shape == (60, 41)
assert history.index.freqstr == "M"
assert len(model.objectives) == 14 and len(model.measures) == 30

# %%
print(paths.model.read_text().split("objectives:")[0])

# %% [markdown]
# ## The model
#
# A model is immutable: a what-if or a calibration returns a *new* model. In a
# notebook it displays as a summary table of its perspectives, objectives,
# measures, links, OKRs and initiatives.

# %%
model

# %%
history[["wait_min", "nps", "revenue_growth", "academy_graduates"]].tail(4)

# %% [markdown]
# Key results (`academy_graduates` above) only have the last quarter of
# history: OKRs are quarterly check-ins. Gaps are normal and left as NaN.
#
# ## A model with mistakes
#
# Model files are checked when loaded. Every problem is reported at once, with
# the file, the line, the key path and a fix. Here we copy the example to a
# temporary folder and break it twice: a typo in a key (`tagret`) and a link to
# an objective that does not exist (`grwoth`).

# %%
import tempfile

from stratlab.datasets import write_example

with tempfile.TemporaryDirectory() as folder:
    model_file, history_file = write_example(folder)
    text = model_file.read_text()
    text = text.replace("baseline: 20\n    target: 45", "baseline: 20\n    tagret: 45")
    text = text.replace("{from: loyalty, to: growth", "{from: loyalty, to: grwoth")
    model_file.write_text(text)
    try:
        stratlab.load_model(model_file)
    except stratlab.ModelError as err:
        error = err
        print(err)

# %%
# The same problems as data, e.g. to list them in a table:
problems = pd.DataFrame([vars(p) for p in error.problems])[["line", "path", "message", "fix"]]
display(problems)

assert {p.path for p in error.problems} >= {"measures[22].tagret", "links[11].to"}
assert all(p.line is not None for p in error.problems)
assert any("did you mean 'growth'" in (p.fix or "") for p in error.problems)

# %% [markdown]
# On the command line, `stratlab validate northwind.yaml` prints the same
# paragraph and exits with status 2.
#
# ## Scoring
#
# `stratlab.score` turns every measure and key result into a 0–1 attainment
# (baseline scores 0, target scores 1), gives it a status (green ≥ 0.7, amber ≥
# 0.4, red below) and rolls the scores up the map: an objective combines its own
# measures, the OKRs aligned to it and its incoming links.

# %%
scores = stratlab.score(model, history)
objectives = scores[scores["kind"] == "objective"]
objectives[["id", "name", "perspective", "score", "status", "coverage"]]

# %%
print(scores.groupby(["kind", "status"]).size().unstack(fill_value=0))

perspectives = scores[scores["kind"] == "perspective"].set_index("id")
print("\nperspectives:", perspectives["score"].round(2).to_dict())

assert list(scores.columns) == [
    "id",
    "kind",
    "name",
    "perspective",
    "parent",
    "value",
    "baseline",
    "target",
    "score",
    "status",
    "status_rule",
    "coverage",
    "unit",
    "owner",
    "as_of",
    "stale",
]
assert scores["score"].between(0, 1.2).all()  # revenue growth may stretch to 1.2
assert (objectives.set_index("id").loc["engagement", "status"]) == "red"

# %% [markdown]
# `status_rule` says which threshold produced each status — useful when a
# measure has its own (gross margin: green only from 0.8):

# %%
scores.set_index("id").loc[
    ["gross_margin", "labour_cost_pct", "wait_min"], ["value", "target", "score", "status_rule"]
]

# %% [markdown]
# ## Scores over time
#
# `stratlab.score_history` scores every period of the history. With
# `rollup=False` an objective is scored from its own measures only — that is the
# evidence used to test the links in notebook 2.

# %%
trend = stratlab.score_history(model, history)
own = stratlab.score_history(model, history, rollup=False)
print(trend[["financial", "customer", "process", "learning"]].tail(6).round(3))

assert trend.shape[0] == 60
assert trend.index.equals(history.index)

# %%
yearly = trend[["loyalty", "growth", "engagement"]].groupby(trend.index.year).mean().round(2)
yearly

# %% [markdown]
# ## Figures
#
# `stratlab.plots` returns plotly figures (it never shows them itself); a figure
# displays when it is the last expression of a cell.
#
# The **strategy map**: perspectives as bands, objectives coloured by status,
# links with their weight (dashed when lagged). Hover for measures and OKRs.

# %%
fig_map = plots.strategy_map(model, scores)
fig_map

# %% [markdown]
# The **scorecard**: one bullet chart per measure on the attainment axis, with
# the natural values in the labels and hover.

# %%
fig_card = plots.scorecard(model, scores)
fig_card

# %%
plots.okr_progress(model, scores)

# %%
plots.kpi_trends(history, model, ["wait_min", "nps", "revenue_growth", "staff_turnover"], columns=2)

# %%
# The figures are data: check that they show what the score table says.
on_map = {
    status: list(trace.customdata)
    for trace in fig_map.data
    if (trace.meta or {}).get("role") == "objectives"
    for status in [trace.meta["status"]]
}
by_status = objectives.groupby("status")["id"].apply(set).to_dict()
assert {s: set(ids) for s, ids in on_map.items() if ids} == by_status
bars = sum(len(t.y) for t in fig_card.data if (t.meta or {}).get("role") == "status")
assert bars == len(model.measures)

# %% [markdown]
# Next: **notebook 2** tests the map's links against the history.
