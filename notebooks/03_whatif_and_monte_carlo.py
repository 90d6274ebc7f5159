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
# # 3. What-if and Monte Carlo
#
# The map's links carry weights, so the map can answer *what if*: if NPS
# reaches its target, how much does growth move, and when? This notebook uses
# the linear engine (instant what-if, total effects, sensitivity, initiatives,
# dynamics over time), then Monte Carlo for the risk, and finally the
# interactive explorers.

# %%
import pandas as pd
import plotly.io as pio

import stratlab
from stratlab import plots

# Figures embed plotly.js once, so they survive an HTML export of the notebook.
pio.renderers.default = "plotly_mimetype+notebook"
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
pd.set_option("display.precision", 3)

# %%
from stratlab.datasets import load_example

model, history = load_example()
scores = stratlab.score(model, history).set_index("id")
scores.loc[["nps", "loyalty", "growth", "financial"], ["name", "value", "score", "status"]]

# %% [markdown]
# ## An instant what-if
#
# *What if NPS reached its target of 45 this month?* `stratlab.whatif` returns
# before, after and delta for every node. For measures `before`/`after` are in
# natural units; the `score_*` columns are 0–1 scores for every node.

# %%
result = stratlab.whatif(model, {"nps": 45}, history, horizon=12)
now = result.to_frame()
moved = now[now["score_delta"].abs() > 1e-9]
moved[["id", "kind", "before", "after", "score_before", "score_after", "score_delta"]]

# %%
now_by_id = now.set_index("id")
assert now_by_id.loc["loyalty", "score_delta"] > 0.1
assert now_by_id.loc["customer", "score_delta"] > 0
assert now_by_id.loc["growth", "score_delta"] == 0  # loyalty -> growth takes a month
plots.whatif_chart(now, model=model)

# %% [markdown]
# Growth does not move *now*: the link `loyalty → growth` has a one-month lag.
# Changes can also **shift** a value, or change a link weight
# (`link:SOURCE->TARGET`). Driver links move measures in natural units: one
# minute less waiting adds 3 NPS points (`wait_min → nps`, coefficient −3).

# %%
faster = stratlab.whatif(model, [("wait_min", "shift", -1.0)], history).to_frame().set_index("id")
faster.loc[
    ["wait_min", "nps", "speed", "loyalty"], ["kind", "before", "after", "delta", "score_delta"]
]

# %%
assert abs(faster.loc["wait_min", "delta"] + 1.0) < 1e-9
assert abs(faster.loc["nps", "delta"] - 3.0) < 1e-9  # coefficient -3 x (-1 minute)

# %% [markdown]
# ## Dynamics: when effects arrive
#
# `result.trajectory` runs the changed map forward month by month; lagged links
# deliver their effect as time passes. `result.long_run` is where it settles.

# %%
path = result.trajectory
watch = ["loyalty", "growth", "returns", "engagement", "financial"]
timeline = path[path["id"].isin(watch)].pivot(index="period", columns="id", values="score_delta")
timeline[watch].head(8).round(4)

# %%
import plotly.graph_objects as go

assert timeline.loc[0, "growth"] == 0 and timeline.loc[1, "growth"] > 0  # lag 1
assert timeline.loc[1, "returns"] == 0 and timeline.loc[2, "returns"] > 0  # lag 1 + lag 1
assert timeline["engagement"].min() < 0  # growth -> engagement is an inverse link (lag 3)

fig = go.Figure(
    [go.Scatter(x=timeline.index, y=timeline[i], mode="lines+markers", name=i) for i in watch]
)
fig.update_layout(
    title="NPS at target: score change by month",
    xaxis_title="months from now",
    yaxis_title="score delta",
    height=360,
)
fig

# %% [markdown]
# Note the small *negative* effect on engagement from month 4: the map says fast
# growth stretches store teams (`growth → engagement`, weight −0.3, lag 3).
#
# ### Worse before better
#
# The bundled map has no built-in trade-off, but a scenario can create one.
# Suppose (as of mid-2023) each barista gets 4 more training hours a month, and
# the time off the floor adds 0.2 minutes to the peak wait. Speed gets worse at
# once. Skills rise at once (training hours are one of its measures) and reach
# speed a month later (`skills → speed`, lag 1); certification follows two
# months after the training (`training_hours → certified_pct`, lag 2) and lifts
# speed again in month 3.

# %%
training = stratlab.whatif(
    model,
    [("training_hours", "shift", 4.0), ("wait_min", "shift", 0.2)],
    history,
    period="2023-06",
    horizon=6,
)
tr = training.trajectory
speed = tr[tr["id"].isin(["skills", "speed", "loyalty"])].pivot(
    index="period", columns="id", values="score_delta"
)
speed.round(4)

# %%
assert speed.loc[0, "speed"] < 0 < speed.loc[6, "speed"]  # worse before better
assert speed.loc[6, "loyalty"] < 0  # but the longer wait costs NPS (a driver link) for good

# %% [markdown]
# Speed recovers and ends better; loyalty does not, because the wait feeds NPS
# directly. This is the kind of trade-off to make explicit before funding.
#
# ## Total effects and sensitivity
#
# In matrix form the map is `a = B·a + V·s + c`, so `(I − B)⁻¹V` is the total
# effect of every input score on every objective, through all paths and lags
# (the long run). `stratlab.total_effects` lists them.

# %%
effects = stratlab.total_effects(model)
on_growth = effects[effects["objective"] == "growth"]
on_growth.reindex(on_growth["effect"].abs().sort_values(ascending=False).index).head(8)

# %%
# the long-run what-if agrees with the total effect (no clipping here):
nps_effect = on_growth.set_index("input").loc["nps", "effect"]
long_run = result.long_run.set_index("id")
nps_score_change = long_run.loc["nps", "score_delta"]
assert abs(long_run.loc["growth", "score_delta"] - nps_effect * nps_score_change) < 1e-6

# %% [markdown]
# `stratlab.sensitivity` turns this into tornado data: each input's score from 0
# (baseline) to 1 (target), the others held, and the swing it causes in each
# objective of the top perspective.

# %%
sens = stratlab.sensitivity(model, history, top=10)
growth_now = scores.loc["growth", "score"]
assert sens[sens["objective"] == "growth"].iloc[0]["input"] == "revenue_growth"
plots.tornado(
    sens, objective="growth", base=growth_now, names={m.id: m.name for m in model.measures}
)

# %% [markdown]
# Unsurprisingly growth's own measures matter most; the useful part is the
# ranking *below* them — which levers elsewhere in the map reach growth at all.
#
# ## Ranking initiatives
#
# Each initiative's `uplift` is applied as a what-if; initiatives are ranked by
# their long-run effect on the top perspective (Financial) per 100,000 of budget
# (`per=`; the default is per 1,000, column `effect_per_1k`). `target=` ranks by
# the effect on any other perspective or objective; the `note` says why an
# initiative moves nothing there.

# %%
ranked = stratlab.rank_initiatives(model, history, per=100_000)
ranked[["rank", "name", "budget", "effect", "effect_per_100k", "note"]]

# %%
assert ranked["effect_per_100k"].is_monotonic_decreasing
assert ranked.iloc[0]["id"] == "demand_forecasting"

# %% [markdown]
# Demand forecasting is cheap and reaches Financial through `waste → margin`;
# the app relaunch moves the customer perspective but barely reaches Financial
# through a 2-month lag into loyalty. A ranking by effect on *another*
# perspective would differ — run `whatif` with each initiative's uplift to see.

# %% [markdown]
# ## Monte Carlo: how likely is green?
#
# The what-ifs above are single scenarios. `stratlab.simulate` draws many
# possible next months instead: each measure around its current value with its
# own month-to-month volatility from the history, each key result's grade from
# a Beta around its forecast (tighter as the quarter elapses and as the owner's
# confidence rises), and link weights written as ranges (`weight: [0.4, 0.8]`)
# within their range. Every draw is rolled up the map.
#
# OKR forecasts depend on how far into the quarter we are (`elapsed`). By
# default that is today's share of the calendar quarter; we fix it at 0.5 — a
# mid-quarter check-in — so the notebook gives the same numbers any day.

# %%
mc = stratlab.simulate(model, history, samples=2000, seed=7, elapsed=0.5)
summary = mc.summary()
summary[summary["kind"].isin(["perspective", "objective", "okr"])].round(3)

# %%
again = stratlab.simulate(model, history, samples=2000, seed=7, elapsed=0.5).summary()
pd.testing.assert_frame_equal(summary, again)  # same seed, same answer

rows = summary.dropna(subset=["mean"])
assert (rows["p05"] <= rows["p50"]).all() and (rows["p50"] <= rows["p95"]).all()
assert rows["p_green"].between(0, 1).all()

flat = stratlab.simulate(model, history, samples=50, seed=7, elapsed=0.5, spread=0).summary()
assert (flat["p95"] - flat["p05"]).abs().max() < 1e-6  # spread=0: no randomness left

# %% [markdown]
# Loyalty is the coin flip: its median is just under green and about 40 % of
# the draws reach it. Growth is amber in almost every draw.

# %%
p_green = summary.set_index("id")["p_green"]
assert 0.2 < p_green["loyalty"] < 0.6 and p_green["growth"] < 0.1
plots.attainment_distribution(
    {i: mc.samples(i) for i in ["loyalty", "growth", "experience"]}, model=model
)

# %% [markdown]
# ### Fan chart
#
# `horizon` is the number of months ahead for the measures (their spread grows
# with √horizon; no trend is assumed). Running the simulation for 1 to 6
# months and stacking the percentiles gives a fan chart.

# %%
steps = []
for months in range(1, 7):
    s = stratlab.simulate(model, history, samples=1000, seed=7, horizon=months, elapsed=0.5)
    steps.append(s.summary().assign(step=months))
fan = pd.concat(steps, ignore_index=True)
fan = fan[fan["id"].isin(["loyalty", "growth", "financial"])]
width = fan.assign(width=fan["p95"] - fan["p05"]).pivot(index="step", columns="id", values="width")
assert (width.loc[6] > width.loc[1]).all()  # uncertainty widens with the horizon
plots.fan_chart(fan[["id", "step", "p05", "p50", "p95"]], model=model)

# %% [markdown]
# ### What drives the risk
#
# `variance_share()` splits each objective's simulated variance between the
# inputs (measures, key results, uncertain link weights), through the map's
# total effects.

# %%
shares = mc.variance_share()
by_objective = shares.groupby("objective")["share"].sum()
assert ((by_objective - 1).abs() < 1e-6).all()  # shares of each objective add up to 1
loyalty_shares = shares[shares["objective"] == "loyalty"].head(5)
print(loyalty_shares.round(3).to_string(index=False))
link = shares[(shares["input"] == "link:experience->loyalty") & (shares["objective"] == "loyalty")]
assert loyalty_shares.iloc[0]["input"] == "nps"
assert link["share"].sum() < 0.01
plots.variance_attribution(shares, objectives=["loyalty", "growth", "returns", "experience"])

# %% [markdown]
# For loyalty the risk sits in its own measures, NPS above all. The uncertain
# weight `experience → loyalty` (written as the range `[0.4, 0.8]`) adds almost
# nothing: in a normalised roll-up a weight only matters when its cause scores
# differently from the objective it feeds, and experience and loyalty both
# stand near 0.69. A wide weight range is harmless until the scores diverge.
#
# ## From what-if to what-must: goal seeking and a portfolio
#
# What-if runs forward. Planning asks backwards: *what must operations reach for
# Financial to score 0.7?* `stratlab.goal_seek` finds the smallest total change
# of the levers (Σ effort × |Δscore|; a change of `target − baseline` is 1) that
# brings every target to its score in the long run. Each lever moves at most to
# its cap and only in its good direction; driver links and clipping are
# modelled exactly.

# %%
operations = [
    "wait_min",
    "orders_per_labour_hour",
    "waste_pct",
    "stockouts",
    "nps",
    "repeat_rate",
    "labour_cost_pct",
    "gross_margin",
]
plan = stratlab.goal_seek(model, history, targets={"financial": 0.7}, levers=operations)
print(f"effort {plan.effort:.3f}")
plan.to_frame()

# %%
# the plan is a what-if: its long run reaches the target
check = stratlab.whatif(model, plan.changes, history).long_run.set_index("id")
assert check.loc["financial", "score_after"] >= 0.7 - 1e-9
assert {c.key for c in plan.changes} <= set(operations)

# %% [markdown]
# `nps` moves by more than its own shift: the wait-time driver link
# (`wait_min → nps`, −3 points a minute) does part of the work, and the plan
# counts only what has to be pushed. Targets out of reach say how far the
# levers can go:

# %%
try:
    stratlab.goal_seek(model, history, targets={"financial": 0.8}, levers=["wait_min"])
except stratlab.InputError as err:
    message = str(err)
print(message)
assert "financial can reach at most" in message

# %% [markdown]
# The other planning question is which initiatives to fund. `plan_portfolio`
# picks the set within a budget that lifts a target's long-run score most (an
# exact mixed-integer programme over the uplifts; ties go to the cheaper set)…

# %%
portfolio = stratlab.plan_portfolio(model, history, budget=600_000, target="financial")
print(portfolio.totals().to_string(index=False))
portfolio.to_frame()

# %%
assert portfolio.budget_used <= 600_000 and portfolio.after > portfolio.before

# %% [markdown]
# …or that makes it most often green over Monte Carlo scenarios (the draws of
# `simulate` with the same seed). Loyalty is green in about 40 % of the
# scenarios today:

# %%
greener = stratlab.plan_portfolio(
    model,
    history,
    budget=600_000,
    target="loyalty",
    goal="p_green",
    samples=2000,
    seed=7,
    elapsed=0.5,
)
print(f"P(loyalty green): {greener.before:.3f} → {greener.after:.3f}")
greener.to_frame()

# %%
mc_loyalty = stratlab.simulate(model, history, samples=2000, seed=7, elapsed=0.5).summary()
p_now = mc_loyalty.set_index("id").loc["loyalty", "p_green"]
assert abs(greener.before - p_now) < 0.002  # the same scenarios as simulate()
assert greener.after > greener.before + 0.2

# %% [markdown]
# ## Interactive explorers
#
# In Jupyter, `stratlab.whatif_explorer` gives a slider per measure, key result
# and link weight, a live strategy map and a before → after table.

# %%
explorer = stratlab.whatif_explorer(model, history)
explorer

# %% [markdown]
# The explorer is also a plain object: set a control's `.value` (as the slider
# does) and read `.result`. By default it shows the long run (every lag
# played out); moving NPS to 45 gives the same numbers as `result.long_run`
# above.

# %%
explorer.controls["nps"].value = 45
moved = explorer.result[explorer.result["delta"].abs() > 1e-9]
print(moved[["id", "kind", "before", "after", "delta", "status"]].to_string(index=False))

after = explorer.result.set_index("id")["after"]
assert abs(after["loyalty"] - long_run.loc["loyalty", "score_after"]) < 1e-9

# %%
explorer.controls["link:experience->loyalty"].value = 0.8  # a stronger link
print(explorer.changes())
stronger = explorer.result.set_index("id")
assert stronger.loc["loyalty", "after"] != after["loyalty"]
explorer.reset()
assert explorer.changes() == {}

# %% [markdown]
# `stratlab.simulation_explorer` runs the Monte Carlo behind three controls:
# the number of samples, a shift of every key result's confidence, and the
# node whose distribution is drawn. We pass a `simulate` with `elapsed` fixed,
# as above.

# %%
from functools import partial

mc_explorer = stratlab.simulation_explorer(
    model, history, samples=1000, seed=7, simulate=partial(stratlab.simulate, elapsed=0.5)
)
mc_explorer

# %%
okrs = ["mobile_first", "halve_milk_waste"]


def okr_view(result):
    return result.summary().set_index("id").loc[okrs, ["p05", "p50", "p95", "p_green"]]


before = okr_view(mc_explorer.result)
mc_explorer.controls["confidence_shift"].value = -0.3  # owners less sure
less_sure = okr_view(mc_explorer.result)
print("confidence as given:\n", before.round(3), "\n\nconfidence - 0.3:\n", less_sure.round(3))

assert (less_sure["p95"] - less_sure["p05"] > before["p95"] - before["p05"]).all()
assert less_sure.loc["halve_milk_waste", "p_green"] > before.loc["halve_milk_waste", "p_green"]

# %%
mc_explorer.controls["node"].value = "loyalty"
print(f"P(loyalty green) = {mc_explorer.p_green():.2f}")
assert 0 < mc_explorer.p_green() < 1

# %% [markdown]
# Lower confidence widens every key result's range. For the behind-plan milk
# waste OKR that *raises* the chance of green: with a forecast short of green,
# only the spread can get it there. Uncertainty is upside as well as downside.
