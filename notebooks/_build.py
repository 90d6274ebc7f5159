"""Write the tutorial notebooks (without outputs) from the cell lists below.

Run ``.venv/bin/python notebooks/_build.py`` after editing, then check them with
``.venv/bin/python -m pytest --nbval-lax notebooks -q``.  The notebooks are the
committed artefact; this script only keeps their source easy to edit and review.
pytest does not collect it (the file name does not start with ``test_``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import pandas as pd
import plotly.io as pio

import stratlab
from stratlab import plots

# Figures embed plotly.js once, so they survive an HTML export of the notebook.
pio.renderers.default = "plotly_mimetype+notebook"
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
pd.set_option("display.precision", 3)"""


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip("\n"))


# --------------------------------------------------------------------------- 01
GETTING_STARTED = [
    md("""
# 1. Getting started: load, validate, score, draw

This notebook walks through the first loop of stratlab on the bundled example,
**Northwind Coffee** — a 40-store coffee chain with a Balanced Scorecard of 14
objectives in four perspectives, 30 KPIs, 5 OKRs and 4 initiatives, plus five
years of monthly KPI history.

You will: load the example, look at the model, see what a mistake in a model
file looks like, score the map, follow scores over time, and draw the strategy
map and the scorecard.
"""),
    code(SETUP),
    md("""
## The example files

`stratlab.datasets.load_example()` returns the model and its KPI history, ready
to use. The same two files are on disk — a YAML strategy model and a wide CSV
history (one `period` column, one column per KPI id) — and `write_example`
copies them to a folder of yours to edit.
"""),
    code("""
from stratlab.datasets import example_paths, load_example

model, history = load_example()
paths = example_paths()
print("model file:  ", paths.model.name)
print("history file:", paths.history.name)
print(f"{history.shape[0]} periods ({history.index[0]} to {history.index[-1]}), {history.shape[1]} KPI columns")

assert history.shape == (60, 41)
assert history.index.freqstr == "M"
assert len(model.objectives) == 14 and len(model.measures) == 30
"""),
    code("""
print(paths.model.read_text().split("objectives:")[0])
"""),
    md("""
## The model

A model is immutable: a what-if or a calibration returns a *new* model. In a
notebook it displays as a summary table of its perspectives, objectives,
measures, links, OKRs and initiatives.
"""),
    code("""
model
"""),
    code("""
history[["wait_min", "nps", "revenue_growth", "academy_graduates"]].tail(4)
"""),
    md("""
Key results (`academy_graduates` above) only have the last quarter of
history: OKRs are quarterly check-ins. Gaps are normal and left as NaN.

## A model with mistakes

Model files are checked when loaded. Every problem is reported at once, with
the file, the line, the key path and a fix. Here we copy the example to a
temporary folder and break it twice: a typo in a key (`tagret`) and a link to
an objective that does not exist (`grwoth`).
"""),
    code("""
import tempfile

from stratlab.datasets import write_example

with tempfile.TemporaryDirectory() as folder:
    model_file, history_file = write_example(folder)
    text = model_file.read_text()
    text = text.replace("baseline: 20, target: 45", "baseline: 20, tagret: 45")
    text = text.replace("{from: loyalty, to: growth", "{from: loyalty, to: grwoth")
    model_file.write_text(text)
    try:
        stratlab.load_model(model_file)
    except stratlab.ModelError as err:
        error = err
        print(err)
"""),
    code("""
# The same problems as data, e.g. to list them in a table:
problems = pd.DataFrame([vars(p) for p in error.problems])[["line", "path", "message", "fix"]]
display(problems)

assert {p.path for p in error.problems} >= {"measures[22].tagret", "links[11].to"}
assert all(p.line is not None for p in error.problems)
assert any("did you mean 'growth'" in (p.fix or "") for p in error.problems)
"""),
    md("""
On the command line, `stratlab validate northwind.yaml` prints the same
paragraph and exits with status 2.

## Scoring

`stratlab.score` turns every measure and key result into a 0–1 attainment
(baseline scores 0, target scores 1), gives it a status (green ≥ 0.7, amber ≥
0.4, red below) and rolls the scores up the map: an objective combines its own
measures, the OKRs aligned to it and its incoming links.
"""),
    code("""
scores = stratlab.score(model, history)
objectives = scores[scores["kind"] == "objective"]
objectives[["id", "name", "perspective", "score", "status", "coverage"]]
"""),
    code("""
print(scores.groupby(["kind", "status"]).size().unstack(fill_value=0))

perspectives = scores[scores["kind"] == "perspective"].set_index("id")
print("\\nperspectives:", perspectives["score"].round(2).to_dict())

assert list(scores.columns) == [
    "id", "kind", "name", "perspective", "parent", "value",
    "baseline", "target", "score", "status", "status_rule", "coverage",
]
assert scores["score"].between(0, 1.2).all()  # revenue growth may stretch to 1.2
assert (objectives.set_index("id").loc["engagement", "status"]) == "red"
"""),
    md("""
`status_rule` says which threshold produced each status — useful when a
measure has its own (gross margin: green only from 0.8):
"""),
    code("""
scores.set_index("id").loc[["gross_margin", "labour_cost_pct", "wait_min"], ["value", "target", "score", "status_rule"]]
"""),
    md("""
## Scores over time

`stratlab.score_history` scores every period of the history. With
`rollup=False` an objective is scored from its own measures only — that is the
evidence used to test the links in notebook 2.
"""),
    code("""
trend = stratlab.score_history(model, history)
own = stratlab.score_history(model, history, rollup=False)
print(trend[["financial", "customer", "process", "learning"]].tail(6).round(3))

assert trend.shape[0] == 60
assert trend.index.equals(history.index)
"""),
    code("""
yearly = trend[["loyalty", "growth", "engagement"]].groupby(trend.index.year).mean().round(2)
yearly
"""),
    md("""
## Figures

`stratlab.plots` returns plotly figures (it never shows them itself); a figure
displays when it is the last expression of a cell.

The **strategy map**: perspectives as bands, objectives coloured by status,
links with their weight (dashed when lagged). Hover for measures and OKRs.
"""),
    code("""
fig_map = plots.strategy_map(model, scores)
fig_map
"""),
    md("""
The **scorecard**: one bullet chart per measure on the attainment axis, with
the natural values in the labels and hover.
"""),
    code("""
fig_card = plots.scorecard(model, scores)
fig_card
"""),
    code("""
plots.okr_progress(model, scores)
"""),
    code("""
plots.kpi_trends(history, model, ["wait_min", "nps", "revenue_growth", "staff_turnover"], columns=2)
"""),
    code("""
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
"""),
    md("""
Next: **notebook 2** tests the map's links against the history.
"""),
]

# --------------------------------------------------------------------------- 02
TESTING_THE_MAP = [
    md("""
# 2. Testing the map against data

A strategy map is a set of hypotheses: *skilled baristas make service faster
a month later*, *a good visit brings the customer back*. With five years of
KPI history we can test each link. Northwind's history comes from a seeded
generator whose true causal structure is public
(`stratlab.datasets.TRUE_LINKS`), so here we can also grade the tests.

The evidence for an objective is its **own-evidence score**: the weighted mean
of its measures' scores, without the links (otherwise the test would be
circular).
"""),
    code(SETUP),
    code("""
from stratlab.datasets import load_example, true_links_frame
from stratlab.stats.links import objective_evidence

model, history = load_example()
evidence = objective_evidence(model, history)
names = {o.id: o.name for o in model.objectives}
evidence.tail(3)
"""),
    md("""
## Levels mislead: the decoy link

The map says *a known brand brings app users* (`brand → digital_reach`). The
generator has no such link: both objectives simply trend upwards. Correlating
the levels finds a strong, "significant" relationship; correlating the
month-over-month changes (`transform='diff'`, the default) finds nothing.
A warning names the trending series when you ask for levels.
"""),
    code("""
pair = evidence[["brand", "digital_reach"]]
levels = stratlab.correlate(pair, transform="none")
changes = stratlab.correlate(pair, transform="diff")
pd.concat([levels.assign(transform="none"), changes.assign(transform="diff")])[
    ["transform", "source", "target", "n", "r", "ci_low", "ci_high", "p_value"]
]
"""),
    code("""
r_levels = levels["r"].iloc[0]
r_changes = changes["r"].iloc[0]
print(f"levels r = {r_levels:.2f}, changes r = {r_changes:.2f}")

assert r_levels > 0.4 and levels["p_value"].iloc[0] < 0.001   # spurious
assert abs(r_changes) < 0.2 and changes["p_value"].iloc[0] > 0.05
"""),
    code("""
plots.kpi_trends(history, model, ["brand_awareness", "app_users"], columns=2,
                 title="Both trend up; their monthly changes are unrelated")
"""),
    md("""
## Lead and lag

Links can take time: the map says a good visit shows in loyalty a month
later. `correlate(..., max_lag=k)` tests every pair at leads 0..k; a row
`(source, target, lag=k)` is corr(source[t − k], target[t]). q-values are
Benjamini–Hochberg over every pair and lag tested — with 14 objectives and
four lags that is several hundred tests, so raw p-values alone would find
plenty of noise.
"""),
    code("""
corr = stratlab.correlate(evidence, max_lag=3)
print(len(corr), "tests")
pair_rows = corr[(corr["source"] == "experience") & (corr["target"] == "loyalty")]
pair_rows[["source", "target", "lag", "n", "r", "q_value"]]
"""),
    code("""
best = pair_rows.loc[pair_rows["r"].idxmax()]
assert best["lag"] == 1 and best["q_value"] < 0.001  # the true lag is one month
plots.lead_lag(corr, "experience", "loyalty", names=names)
"""),
    code("""
plots.correlation_heatmap(corr, names=names)
"""),
    md("""
## Granger tests

A Granger test asks whether the source's *past* improves the prediction of
the target beyond the target's own past. It sees lagged links well and
same-month links not at all: `data → digital_reach` acts within the month.
"""),
    code("""
lagged = stratlab.granger(evidence, "experience", "loyalty", max_lag=3)
same_month = stratlab.granger(evidence, "data", "digital_reach", max_lag=3)
display(lagged)
display(same_month)

assert lagged.loc[lagged["lag"] == 1, "p_value"].iloc[0] < 0.001
assert (same_month["p_value"] > 0.05).all()
"""),
    md("""
## A verdict for every link

`stratlab.check_links` does all of this for each link of the map: it tries
lags around the hypothesised one, keeps the best, and gives a verdict —
**supported**, **weak** (not significant or too small), **contradicted**
(significant with the wrong sign) or **untestable** (too little data).
"""),
    code("""
checks = stratlab.check_links(model, history)
checks
"""),
    code("""
print(checks["verdict"].value_counts().to_string())
decoy = checks.set_index(["source", "target"]).loc[("brand", "digital_reach")]
print("\\nbrand -> digital_reach:", decoy["verdict"], "|", decoy["reason"])

assert decoy["verdict"] != "supported"
assert not (checks["verdict"] == "contradicted").any()
"""),
    code("""
plots.verdict_map(model, checks)
"""),
    md("""
## Grading the verdicts against the truth

`true_links_frame()` lists the generator's links with their true strength and
lag (the decoy has weight 0).
"""),
    code("""
truth = true_links_frame()[["source", "target", "weight", "lag", "in_model", "decoy"]]
graded = checks.merge(
    truth.rename(columns={"weight": "true_weight", "lag": "true_lag"}),
    on=["source", "target"], how="left",
)
graded[["source", "target", "kind", "verdict", "r", "best_lag", "true_lag", "true_weight", "decoy"]]
"""),
    code("""
objective_rows = graded[graded["kind"] == "objective"]
supported = objective_rows[objective_rows["verdict"] == "supported"]

assert (supported["true_weight"] != 0).all()                  # no false positive
assert (supported["best_lag"] == supported["true_lag"]).all()  # and the right lag
missed = objective_rows[(objective_rows["verdict"] != "supported") & (objective_rows["true_weight"] != 0)]
print("true links not supported:", list(zip(missed["source"], missed["target"], missed["true_weight"], strict=True)))
assert (missed["true_weight"].abs() <= 0.45).all()            # only the weakest ones
"""),
    md("""
What to read from this:

* Every supported objective link is real, at the right lag.
* The decoy is caught — it is "weak", with r ≈ 0.
* The true links that are not confirmed are the weakest ones (true strength
  0.40–0.45; two of them act with a 2–3 month lag): sixty months of noisy KPIs
  is not much data. "Weak" means *not shown*, not *false*.
* The driver `training_hours → certified_pct` is supported at lag 0 instead of
  the hypothesised 2: both KPIs read the same objective (skills), so they move
  together in the same month whatever the driver does. A common cause can
  hide or fake a lag.

## Links the map lacks

`stratlab.suggest_links` searches all objective pairs that the map does not
connect for strong, significant lead–lag relationships.
"""),
    code("""
suggestions = stratlab.suggest_links(model, history)
suggestions
"""),
    md("""
None of these is a true link. `digital_reach → waste` (one month later) comes
from a **common cause**: data-driven management improves digital reach the
same month and waste a month later. Controlling for `data` a month earlier
makes it vanish:
"""),
    code("""
shifted = pd.DataFrame({
    "digital_reach_prev": evidence["digital_reach"].shift(1),
    "waste": evidence["waste"],
    "data_prev": evidence["data"].shift(1),
})
plain = stratlab.correlate(shifted, columns=["digital_reach_prev", "waste"])
partial = stratlab.partial_correlate(shifted, covariates=["data_prev"])
print(f"plain r = {plain['r'].iloc[0]:.2f}, controlling for data: r = {partial['r'].iloc[0]:.2f} "
      f"(p = {partial['p_value'].iloc[0]:.2f})")

assert plain["r"].iloc[0] > 0.4
assert partial["p_value"].iloc[0] > 0.05
assert ("digital_reach", "waste") in set(zip(suggestions["source"], suggestions["target"], strict=True))
"""),
    md("""
And the true link the map lacks, `engagement → speed` (same month, strength
0.45), is *not* suggested: its correlation is nominally significant, but not
after correcting for the hundreds of pairs searched.
"""),
    code("""
unmodelled = corr[(corr["source"] == "engagement") & (corr["target"] == "speed") & (corr["lag"] == 0)]
display(unmodelled[["source", "target", "lag", "n", "r", "p_value", "q_value"]])

assert unmodelled["p_value"].iloc[0] < 0.05 < unmodelled["q_value"].iloc[0]
"""),
    md("""
So suggestions are leads to discuss with the people who run the business,
not links to add blindly; and a missing suggestion does not prove a link
absent.

Next: **notebook 3** asks what happens if we move the levers.
"""),
]

# --------------------------------------------------------------------------- 03
WHATIF = [
    md("""
# 3. What-if and Monte Carlo

The map's links carry weights, so the map can answer *what if*: if NPS
reaches its target, how much does growth move, and when? This notebook uses
the linear engine (instant what-if, total effects, sensitivity, initiatives,
dynamics over time), then Monte Carlo for the risk, and finally the
interactive explorers.
"""),
    code(SETUP),
    code("""
from stratlab.datasets import load_example

model, history = load_example()
scores = stratlab.score(model, history).set_index("id")
scores.loc[["nps", "loyalty", "growth", "financial"], ["name", "value", "score", "status"]]
"""),
    md("""
## An instant what-if

*What if NPS reached its target of 45 this month?* `stratlab.whatif` returns
before, after and delta for every node. For measures `before`/`after` are in
natural units; the `score_*` columns are 0–1 scores for every node.
"""),
    code("""
result = stratlab.whatif(model, {"nps": 45}, history, horizon=12)
now = result.to_frame()
moved = now[now["score_delta"].abs() > 1e-9]
moved[["id", "kind", "before", "after", "score_before", "score_after", "score_delta"]]
"""),
    code("""
now_by_id = now.set_index("id")
assert now_by_id.loc["loyalty", "score_delta"] > 0.1
assert now_by_id.loc["customer", "score_delta"] > 0
assert now_by_id.loc["growth", "score_delta"] == 0  # loyalty -> growth takes a month
plots.whatif_chart(now, model=model)
"""),
    md("""
Growth does not move *now*: the link `loyalty → growth` has a one-month lag.
Changes can also **shift** a value, or change a link weight
(`link:SOURCE->TARGET`). Driver links move measures in natural units: one
minute less waiting adds 3 NPS points (`wait_min → nps`, coefficient −3).
"""),
    code("""
faster = stratlab.whatif(model, [("wait_min", "shift", -1.0)], history).to_frame().set_index("id")
faster.loc[["wait_min", "nps", "speed", "loyalty"], ["kind", "before", "after", "delta", "score_delta"]]
"""),
    code("""
assert abs(faster.loc["wait_min", "delta"] + 1.0) < 1e-9
assert abs(faster.loc["nps", "delta"] - 3.0) < 1e-9  # coefficient -3 x (-1 minute)
"""),
    md("""
## Dynamics: when effects arrive

`result.trajectory` runs the changed map forward month by month; lagged links
deliver their effect as time passes. `result.long_run` is where it settles.
"""),
    code("""
path = result.trajectory
watch = ["loyalty", "growth", "returns", "engagement", "financial"]
timeline = path[path["id"].isin(watch)].pivot(index="period", columns="id", values="score_delta")
timeline[watch].head(8).round(4)
"""),
    code("""
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
"""),
    md("""
Note the small *negative* effect on engagement from month 4: the map says fast
growth stretches store teams (`growth → engagement`, weight −0.3, lag 3).

### Worse before better

The bundled map has no built-in trade-off, but a scenario can create one.
Suppose (as of mid-2023) each barista gets 4 more training hours a month, and
the time off the floor adds 0.2 minutes to the peak wait. Speed gets worse at
once. Skills rise at once (training hours are one of its measures) and reach
speed a month later (`skills → speed`, lag 1); certification follows two
months after the training (`training_hours → certified_pct`, lag 2) and lifts
speed again in month 3.
"""),
    code("""
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
"""),
    code("""
assert speed.loc[0, "speed"] < 0 < speed.loc[6, "speed"]  # worse before better
assert speed.loc[6, "loyalty"] < 0  # but the longer wait costs NPS (a driver link) for good
"""),
    md("""
Speed recovers and ends better; loyalty does not, because the wait feeds NPS
directly. This is the kind of trade-off to make explicit before funding.

## Total effects and sensitivity

In matrix form the map is `a = B·a + V·s + c`, so `(I − B)⁻¹V` is the total
effect of every input score on every objective, through all paths and lags
(the long run). `stratlab.total_effects` lists them.
"""),
    code("""
effects = stratlab.total_effects(model)
on_growth = effects[effects["objective"] == "growth"]
on_growth.reindex(on_growth["effect"].abs().sort_values(ascending=False).index).head(8)
"""),
    code("""
# the long-run what-if agrees with the total effect (no clipping here):
nps_effect = on_growth.set_index("input").loc["nps", "effect"]
long_run = result.long_run.set_index("id")
nps_score_change = long_run.loc["nps", "score_delta"]
assert abs(long_run.loc["growth", "score_delta"] - nps_effect * nps_score_change) < 1e-6
"""),
    md("""
`stratlab.sensitivity` turns this into tornado data: each input's score from 0
(baseline) to 1 (target), the others held, and the swing it causes in each
objective of the top perspective.
"""),
    code("""
sens = stratlab.sensitivity(model, history, top=10)
growth_now = scores.loc["growth", "score"]
assert sens[sens["objective"] == "growth"].iloc[0]["input"] == "revenue_growth"
plots.tornado(sens, objective="growth", base=growth_now, names={m.id: m.name for m in model.measures})
"""),
    md("""
Unsurprisingly growth's own measures matter most; the useful part is the
ranking *below* them — which levers elsewhere in the map reach growth at all.

## Ranking initiatives

Each initiative's `uplift` is applied as a what-if; initiatives are ranked by
their long-run effect on the top perspective (Financial) per unit of budget.
"""),
    code("""
ranked = stratlab.rank_initiatives(model, history)
ranked["effect_per_100k"] = ranked["effect_per_budget"] * 100_000
ranked[["rank", "name", "budget", "effect", "effect_per_100k"]]
"""),
    code("""
assert ranked["effect_per_budget"].is_monotonic_decreasing
assert ranked.iloc[0]["id"] == "demand_forecasting"
"""),
    md("""
Demand forecasting is cheap and reaches Financial through `waste → margin`;
the app relaunch moves the customer perspective but barely reaches Financial
through a 2-month lag into loyalty. A ranking by effect on *another*
perspective would differ — run `whatif` with each initiative's uplift to see.
"""),
    md("""
## Monte Carlo: how likely is green?

The what-ifs above are single scenarios. `stratlab.simulate` draws many
possible next months instead: each measure around its current value with its
own month-to-month volatility from the history, each key result's grade from
a Beta around its forecast (tighter as the quarter elapses and as the owner's
confidence rises), and link weights written as ranges (`weight: [0.4, 0.8]`)
within their range. Every draw is rolled up the map.

OKR forecasts depend on how far into the quarter we are (`elapsed`). By
default that is today's share of the calendar quarter; we fix it at 0.5 — a
mid-quarter check-in — so the notebook gives the same numbers any day.
"""),
    code("""
mc = stratlab.simulate(model, history, samples=2000, seed=7, elapsed=0.5)
summary = mc.summary()
summary[summary["kind"].isin(["perspective", "objective", "okr"])].round(3)
"""),
    code("""
again = stratlab.simulate(model, history, samples=2000, seed=7, elapsed=0.5).summary()
pd.testing.assert_frame_equal(summary, again)  # same seed, same answer

rows = summary.dropna(subset=["mean"])
assert (rows["p05"] <= rows["p50"]).all() and (rows["p50"] <= rows["p95"]).all()
assert rows["p_green"].between(0, 1).all()

flat = stratlab.simulate(model, history, samples=50, seed=7, elapsed=0.5, spread=0).summary()
assert (flat["p95"] - flat["p05"]).abs().max() < 1e-6  # spread=0: no randomness left
"""),
    md("""
Loyalty is the coin flip: its median is just under green and about 40 % of
the draws reach it. Growth is amber in almost every draw.
"""),
    code("""
p_green = summary.set_index("id")["p_green"]
assert 0.2 < p_green["loyalty"] < 0.6 and p_green["growth"] < 0.1
plots.attainment_distribution(
    {i: mc.samples(i) for i in ["loyalty", "growth", "experience"]}, model=model
)
"""),
    md("""
### Fan chart

`horizon` is the number of months ahead for the measures (their spread grows
with √horizon; no trend is assumed). Running the simulation for 1 to 6
months and stacking the percentiles gives a fan chart.
"""),
    code("""
steps = []
for months in range(1, 7):
    s = stratlab.simulate(model, history, samples=1000, seed=7, horizon=months, elapsed=0.5)
    steps.append(s.summary().assign(step=months))
fan = pd.concat(steps, ignore_index=True)
fan = fan[fan["id"].isin(["loyalty", "growth", "financial"])]
width = fan.assign(width=fan["p95"] - fan["p05"]).pivot(index="step", columns="id", values="width")
assert (width.loc[6] > width.loc[1]).all()  # uncertainty widens with the horizon
plots.fan_chart(fan[["id", "step", "p05", "p50", "p95"]], model=model)
"""),
    md("""
### What drives the risk

`variance_share()` splits each objective's simulated variance between the
inputs (measures, key results, uncertain link weights), through the map's
total effects.
"""),
    code("""
shares = mc.variance_share()
by_objective = shares.groupby("objective")["share"].sum()
assert ((by_objective - 1).abs() < 1e-6).all()  # shares of each objective add up to 1
loyalty_shares = shares[shares["objective"] == "loyalty"].head(5)
print(loyalty_shares.round(3).to_string(index=False))
link = shares[(shares["input"] == "link:experience->loyalty") & (shares["objective"] == "loyalty")]
assert loyalty_shares.iloc[0]["input"] == "nps"
assert link["share"].sum() < 0.01
plots.variance_attribution(shares, objectives=["loyalty", "growth", "returns", "experience"])
"""),
    md("""
For loyalty the risk sits in its own measures, NPS above all. The uncertain
weight `experience → loyalty` (written as the range `[0.4, 0.8]`) adds almost
nothing: in a normalised roll-up a weight only matters when its cause scores
differently from the objective it feeds, and experience and loyalty both
stand near 0.69. A wide weight range is harmless until the scores diverge.

## Interactive explorers

In Jupyter, `stratlab.whatif_explorer` gives a slider per measure, key result
and link weight, a live strategy map and a before → after table.
"""),
    code("""
explorer = stratlab.whatif_explorer(model, history)
explorer
"""),
    md("""
The explorer is also a plain object: set a control's `.value` (as the slider
does) and read `.result`. By default it shows the long run (every lag
played out); moving NPS to 45 gives the same numbers as `result.long_run`
above.
"""),
    code("""
explorer.controls["nps"].value = 45
moved = explorer.result[explorer.result["delta"].abs() > 1e-9]
print(moved[["id", "kind", "before", "after", "delta", "status"]].to_string(index=False))

after = explorer.result.set_index("id")["after"]
assert abs(after["loyalty"] - long_run.loc["loyalty", "score_after"]) < 1e-9
"""),
    code("""
explorer.controls["link:experience->loyalty"].value = 0.8  # a stronger link
print(explorer.changes())
stronger = explorer.result.set_index("id")
assert stronger.loc["loyalty", "after"] != after["loyalty"]
explorer.reset()
assert explorer.changes() == {}
"""),
    md("""
`stratlab.simulation_explorer` runs the Monte Carlo behind three controls:
the number of samples, a shift of every key result's confidence, and the
node whose distribution is drawn. We pass a `simulate` with `elapsed` fixed,
as above.
"""),
    code("""
from functools import partial

mc_explorer = stratlab.simulation_explorer(
    model, history, samples=1000, seed=7, simulate=partial(stratlab.simulate, elapsed=0.5)
)
mc_explorer
"""),
    code("""
okrs = ["mobile_first", "halve_milk_waste"]


def okr_view(result):
    return result.summary().set_index("id").loc[okrs, ["p05", "p50", "p95", "p_green"]]


before = okr_view(mc_explorer.result)
mc_explorer.controls["confidence_shift"].value = -0.3  # owners less sure
less_sure = okr_view(mc_explorer.result)
print("confidence as given:\\n", before.round(3), "\\n\\nconfidence - 0.3:\\n", less_sure.round(3))

assert (less_sure["p95"] - less_sure["p05"] > before["p95"] - before["p05"]).all()
assert less_sure.loc["halve_milk_waste", "p_green"] > before.loc["halve_milk_waste", "p_green"]
"""),
    code("""
mc_explorer.controls["node"].value = "loyalty"
print(f"P(loyalty green) = {mc_explorer.p_green():.2f}")
assert 0 < mc_explorer.p_green() < 1
"""),
    md("""
Lower confidence widens every key result's range. For the behind-plan milk
waste OKR that *raises* the chance of green: with a forecast short of green,
only the spread can get it there. Uncertainty is upside as well as downside.
"""),
]


# --------------------------------------------------------------------------- 04
SETUP_NO_PLOTS = SETUP.replace("from stratlab import plots\n", "")

CALIBRATING = [
    md("""
# 4. Calibrating a map

The link weights in a strategy map are usually judgement: *loyalty drives
60 % of growth, brand 30 %*. `stratlab.calibrate` estimates them from the KPI
history instead — one regression of each objective on its lagged causes
(month-over-month changes, non-negative), with bootstrap intervals — and
returns a new model carrying the calibrated weights.

As in notebook 2, Northwind's history comes from a generator whose true
strengths are public, so we can see how close calibration gets.
"""),
    code(SETUP_NO_PLOTS),
    code("""
from stratlab.datasets import load_example, true_links_frame

model, history = load_example()
result = stratlab.calibrate(model, history, n_boot=200, seed=0)
result
"""),
    md("""
The table has one row per link: the analyst's `prior` weight, the
`estimate`, its 5–95 % bootstrap interval, the fit's R² for that effect, and
the number of months used. Driver links (measure → measure) are estimated in
natural units: *minutes of wait → NPS points*.

## What a weight means

In the roll-up an objective combines its own measures and its incoming
links, with all weights normalised together. So a link weight is *relative*:
calibration keeps the analyst's total link weight into each objective (the
balance between links and measures) and redistributes it according to the
data. The comparable quantity is each link's **share** of its target's
incoming weight, which the generator's truth also gives (`share`).
"""),
    code("""
report = result.to_frame()
truth = true_links_frame()[["source", "target", "weight", "share", "in_model", "decoy"]]
links = report[report["kind"] == "objective"].copy()
links["prior_share"] = links["prior"].abs() / links.groupby("target")["prior"].transform(lambda w: w.abs().sum())
links["calibrated_share"] = links["estimate"].abs() / links.groupby("target")["estimate"].transform(lambda w: w.abs().sum())
compare = links.merge(truth.rename(columns={"weight": "true_weight", "share": "true_share"}),
                      on=["source", "target"], how="left")
compare[["source", "target", "prior", "estimate", "ci_low", "ci_high",
         "prior_share", "calibrated_share", "true_share", "decoy"]]
"""),
    code("""
shared = compare[compare.groupby("target")["target"].transform("size") > 1]
error_prior = (shared["prior_share"] - shared["true_share"]).abs().mean()
error_calibrated = (shared["calibrated_share"] - shared["true_share"]).abs().mean()
print(f"mean share error: analyst's weights {error_prior:.3f}, calibrated {error_calibrated:.3f}")

decoy = compare[compare["decoy"]].iloc[0]
print(f"decoy brand -> digital_reach: calibrated share {decoy['calibrated_share']:.2f}, "
      f"interval {decoy['ci_low']:.2f}..{decoy['ci_high']:.2f}")

assert error_calibrated < error_prior
assert decoy["calibrated_share"] < 0.1 and decoy["ci_low"] == 0
"""),
    md("""
* Where an objective has several causes, the calibrated shares are closer to
  the truth than the analyst's guesses, and the decoy link's weight collapses
  towards zero (its interval touches 0).
* An objective with a single modelled cause keeps its prior weight with a
  zero-width interval: with one link there is nothing to redistribute. `speed`
  is such a case — and its true second cause (`engagement`, missing from the
  map) cannot be found by calibration at all. Calibration tunes the links you
  drew; `suggest_links` (notebook 2) is the tool for the ones you did not.

## Driver coefficients
"""),
    code("""
drivers = report[report["kind"] == "driver"].merge(
    truth[["source", "target", "weight"]].rename(columns={"weight": "true"}), on=["source", "target"])
drivers[["source", "target", "lag", "prior", "estimate", "ci_low", "ci_high", "true", "r2"]]
"""),
    code("""
assert (drivers["estimate"] * drivers["true"] > 0).all()  # every sign right
nps = drivers.set_index("source").loc["wait_min"]
assert nps["ci_low"] <= nps["true"] <= nps["ci_high"]
"""),
    md("""
`wait_min → nps` recovers the true −3 NPS points per minute within its
interval. `orders_per_labour_hour → labour_cost_pct` comes out steeper than
the true −0.6: the two KPIs also share a path at objective level (speed →
margin), and a two-variable regression credits the driver with it. Read a
driver coefficient as *what moved together*, and check it against the map.

## Save the calibrated model and re-score

`result.model` is a new, validated model: the calibrated weights, their
intervals as `weight_range` (used by the Monte Carlo in notebook 3), and the
calibrated driver coefficients. Save it like any model.
"""),
    code("""
import tempfile
from pathlib import Path

calibrated = result.model
with tempfile.TemporaryDirectory() as folder:
    path = stratlab.save_model(calibrated, Path(folder) / "northwind_calibrated.yaml")
    reloaded = stratlab.load_model(path)
    text = path.read_text()
start = text.index("links:")
print(text[start : start + 600])
"""),
    code("""
before = stratlab.score(model, history).set_index("id")
after = stratlab.score(reloaded, history).set_index("id")
table = pd.DataFrame({"name": before["name"], "kind": before["kind"],
                      "prior map": before["score"], "calibrated map": after["score"]})
table["change"] = table["calibrated map"] - table["prior map"]
table = table[table["kind"].isin(["perspective", "objective"])]
table.sort_values("change", key=abs, ascending=False).head(8)
"""),
    code("""
assert reloaded.links == calibrated.links            # the file round-trips
assert reloaded.links != model.links                  # and it is a different map
measures = before["kind"] == "measure"
assert (before.loc[measures, "score"] == after.loc[measures, "score"]).all()  # data unchanged
assert table["change"].abs().max() < 0.05             # scores move, a little
"""),
    md("""
Measure scores do not change — they are data. Objective scores move a little,
because the links carry different weights. The larger effect of calibration
is on what-if and Monte Carlo results, where link weights decide how far a
change travels up the map: rerun notebook 3 with the calibrated model to
compare.
"""),
]


NOTEBOOKS = {
    "01_getting_started.ipynb": GETTING_STARTED,
    "02_testing_the_map.ipynb": TESTING_THE_MAP,
    "03_whatif_and_monte_carlo.ipynb": WHATIF,
    "04_calibrating_a_map.ipynb": CALIBRATING,
}


def build(name: str, cells: list[nbformat.NotebookNode]) -> Path:
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):  # stable ids: rebuilding gives the same file
        cell["id"] = f"cell-{i:02d}"
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    path = HERE / name
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


def main(names: list[str]) -> None:
    written = [
        build(name, cells)
        for name, cells in NOTEBOOKS.items()
        if not names or any(n in name for n in names)
    ]
    # code cells formatted like the rest of the project (ruff reads the notebooks)
    ruff = Path(sys.executable).with_name("ruff")
    subprocess.run([str(ruff), "format", "--quiet", *map(str, written)], check=True)
    for path in written:
        print("wrote", path)


if __name__ == "__main__":
    main(sys.argv[1:])
