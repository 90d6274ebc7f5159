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
# # 4. Calibrating a map
#
# The link weights in a strategy map are usually judgement: *loyalty drives
# 60 % of growth, brand 30 %*. `stratlab.calibrate` estimates them from the KPI
# history instead — one regression of each objective on its lagged causes
# (month-over-month changes, non-negative), with bootstrap intervals — and
# returns a new model carrying the calibrated weights.
#
# As in notebook 2, Northwind's history comes from a generator whose true
# strengths are public, so we can see how close calibration gets.

# %%
import pandas as pd
import plotly.io as pio

import stratlab

# Figures embed plotly.js once, so they survive an HTML export of the notebook.
pio.renderers.default = "plotly_mimetype+notebook"
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
pd.set_option("display.precision", 3)

# %%
from stratlab.datasets import load_example, true_links_frame

model, history = load_example()
result = stratlab.calibrate(model, history, n_boot=200, seed=0)
result

# %% [markdown]
# The table has one row per link: the analyst's `prior` weight, the
# `estimate`, its 5–95 % bootstrap interval, the fit's R² for that effect, and
# the number of months used. Driver links (measure → measure) are estimated in
# natural units: *minutes of wait → NPS points*.
#
# ## What a weight means
#
# In the roll-up an objective combines its own measures and its incoming
# links, with all weights normalised together. So a link weight is *relative*:
# calibration keeps the analyst's total link weight into each objective (the
# balance between links and measures) and redistributes it according to the
# data. The comparable quantity is each link's **share** of its target's
# incoming weight, which the generator's truth also gives (`share`).

# %%
report = result.to_frame()
truth = true_links_frame()[["source", "target", "weight", "share", "in_model", "decoy"]]
links = report[report["kind"] == "objective"].copy()
links["prior_share"] = links["prior"].abs() / links.groupby("target")["prior"].transform(
    lambda w: w.abs().sum()
)
links["calibrated_share"] = links["estimate"].abs() / links.groupby("target")["estimate"].transform(
    lambda w: w.abs().sum()
)
compare = links.merge(
    truth.rename(columns={"weight": "true_weight", "share": "true_share"}),
    on=["source", "target"],
    how="left",
)
compare[
    [
        "source",
        "target",
        "prior",
        "estimate",
        "ci_low",
        "ci_high",
        "prior_share",
        "calibrated_share",
        "true_share",
        "decoy",
    ]
]

# %%
shared = compare[compare.groupby("target")["target"].transform("size") > 1]
error_prior = (shared["prior_share"] - shared["true_share"]).abs().mean()
error_calibrated = (shared["calibrated_share"] - shared["true_share"]).abs().mean()
print(f"mean share error: analyst's weights {error_prior:.3f}, calibrated {error_calibrated:.3f}")

decoy = compare[compare["decoy"]].iloc[0]
print(
    f"decoy brand -> digital_reach: calibrated share {decoy['calibrated_share']:.2f}, "
    f"interval {decoy['ci_low']:.2f}..{decoy['ci_high']:.2f}"
)

assert error_calibrated < error_prior
assert decoy["calibrated_share"] < 0.1 and decoy["ci_low"] == 0

# %% [markdown]
# * Where an objective has several causes, the calibrated shares are closer to
#   the truth than the analyst's guesses, and the decoy link's weight collapses
#   towards zero (its interval touches 0).
# * An objective with a single modelled cause keeps its prior weight with a
#   zero-width interval: with one link there is nothing to redistribute. `speed`
#   is such a case — and its true second cause (`engagement`, missing from the
#   map) cannot be found by calibration at all. Calibration tunes the links you
#   drew; `suggest_links` (notebook 2) is the tool for the ones you did not.
#
# ## Driver coefficients

# %%
drivers = report[report["kind"] == "driver"].merge(
    truth[["source", "target", "weight"]].rename(columns={"weight": "true"}),
    on=["source", "target"],
)
drivers[["source", "target", "lag", "prior", "estimate", "ci_low", "ci_high", "true", "r2"]]

# %%
assert (drivers["estimate"] * drivers["true"] > 0).all()  # every sign right
nps = drivers.set_index("source").loc["wait_min"]
assert nps["ci_low"] <= nps["true"] <= nps["ci_high"]

# %% [markdown]
# `wait_min → nps` recovers the true −3 NPS points per minute within its
# interval. `orders_per_labour_hour → labour_cost_pct` comes out steeper than
# the true −0.6: the two KPIs also share a path at objective level (speed →
# margin), and a two-variable regression credits the driver with it. Read a
# driver coefficient as *what moved together*, and check it against the map.
#
# ## Save the calibrated model and re-score
#
# `result.model` is a new, validated model: the calibrated weights, their
# intervals as `weight_range` (used by the Monte Carlo in notebook 3), and the
# calibrated driver coefficients. Save it like any model.

# %%
import tempfile
from pathlib import Path

calibrated = result.model
with tempfile.TemporaryDirectory() as folder:
    path = stratlab.save_model(calibrated, Path(folder) / "northwind_calibrated.yaml")
    reloaded = stratlab.load_model(path)
    text = path.read_text()
start = text.index("links:")
print(text[start : start + 600])

# %%
before = stratlab.score(model, history).set_index("id")
after = stratlab.score(reloaded, history).set_index("id")
table = pd.DataFrame(
    {
        "name": before["name"],
        "kind": before["kind"],
        "prior map": before["score"],
        "calibrated map": after["score"],
    }
)
table["change"] = table["calibrated map"] - table["prior map"]
table = table[table["kind"].isin(["perspective", "objective"])]
table.sort_values("change", key=abs, ascending=False).head(8)

# %%
assert reloaded.links == calibrated.links  # the file round-trips
assert reloaded.links != model.links  # and it is a different map
measures = before["kind"] == "measure"
assert (before.loc[measures, "score"] == after.loc[measures, "score"]).all()  # data unchanged
assert table["change"].abs().max() < 0.05  # scores move, a little

# %% [markdown]
# Measure scores do not change — they are data. Objective scores move a little,
# because the links carry different weights. The larger effect of calibration
# is on what-if and Monte Carlo results, where link weights decide how far a
# change travels up the map: rerun notebook 3 with the calibrated model to
# compare.
