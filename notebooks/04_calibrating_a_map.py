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
# growth with weight 0.6, brand with 0.3*. `stratlab.calibrate` measures them
# in the KPI history instead — one regression of each objective on its lagged
# causes (month-over-month changes), with bootstrap intervals — and returns a
# new model carrying the weights the data supports.
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
# `estimate`, its 5–95 % bootstrap interval, the number of months used, the
# R² of the effect's regression, the `verdict` of `check_links` (the same
# verdict, from the same test) and a `note` saying what the calibrated model
# does with the link. Driver links (measure → measure) are estimated in
# natural units: *minutes of wait → NPS points*.
#
# ## What a weight means
#
# An objective link's estimate is a **standardised slope**: when the cause
# moves by one standard deviation, by how many standard deviations does the
# effect move, the other causes held fixed? That is the claim an analyst makes
# with a weight of 0.5, it exists for an objective with a single cause too,
# and in Northwind's generator it is exactly the true `weight`.

# %%
report = result.to_frame()
truth = true_links_frame()[["source", "target", "weight", "in_model", "decoy"]]
links = report[report["kind"] == "objective"]
compare = links.merge(
    truth.rename(columns={"weight": "true_weight"}), on=["source", "target"], how="left"
)
compare[
    ["source", "target", "prior", "estimate", "ci_low", "ci_high", "true_weight", "verdict", "note"]
]

# %%
real = compare[compare["true_weight"] != 0]
covered = (real["ci_low"] <= real["true_weight"]) & (real["true_weight"] <= real["ci_high"])
error_prior = (real["prior"] - real["true_weight"]).abs().mean()
error_estimate = (real["estimate"] - real["true_weight"]).abs().mean()
print(f"true weights inside their 90% interval: {covered.mean():.0%}")
print(f"mean error: analyst's weights {error_prior:.3f}, estimates {error_estimate:.3f}")

decoy = compare[compare["decoy"]].iloc[0]
print(
    f"decoy brand -> digital_reach: estimate {decoy['estimate']:.2f}, "
    f"interval {decoy['ci_low']:.2f}..{decoy['ci_high']:.2f}; {decoy['note']}"
)
single = compare.set_index(["source", "target"]).loc[("skills", "speed")]
print(
    f"skills -> speed (its only link): {single['estimate']:.2f} "
    f"[{single['ci_low']:.2f}, {single['ci_high']:.2f}]"
)

# %%
assert covered.mean() >= 0.7
assert error_estimate < 0.1
assert decoy["ci_low"] < 0 < decoy["ci_high"] and "prior kept" in decoy["note"]
assert single["ci_high"] - single["ci_low"] > 0.1
assert len(result.model.links) == len(model.links)  # nothing disappears

# %% [markdown]
# * Most true weights lie inside their intervals, and the estimates are within
#   about 0.1 of the truth on average. The analyst of the bundled file guessed
#   well too; the difference is that an estimate says how sure the data is.
# * An objective with a single cause (`skills → speed`) gets a real estimate and
#   a real interval.
# * The decoy's interval straddles 0, and it **stays in the model** with the
#   analyst's weight and a note: calibration never deletes what the analyst
#   wrote. So do the links the data cannot confirm (underpowered, not
#   supported, contradicted — a sign is never flipped silently), and those
#   whose effect's R² is too low to move the weights. `speed`'s true second
#   cause (`engagement`, missing from the map) cannot be found by calibration
#   at all: `suggest_links` (notebook 2) is the tool for links you did not draw.
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
# calibrated driver coefficients, at 3 significant digits. Saved over a model
# read from a YAML file, it keeps that file's comments, order and layout: only
# the changed numbers change.

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
assert table["change"].abs().max() < 0.1  # scores move, a little

# %% [markdown]
# Measure scores do not change — they are data. Objective scores move a little,
# because the links carry different weights. The larger effect of calibration
# is on what-if and Monte Carlo results, where link weights decide how far a
# change travels up the map: rerun notebook 3 with the calibrated model to
# compare.
