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
# # 2. Testing the map against data
#
# A strategy map is a set of hypotheses: *skilled baristas make service faster
# a month later*, *a good visit brings the customer back*. With five years of
# KPI history we can test each link. Northwind's history comes from a seeded
# generator whose true causal structure is public
# (`stratlab.datasets.TRUE_LINKS`), so here we can also grade the tests.
#
# The evidence for an objective is its **own-evidence score**: the weighted mean
# of its measures' scores, without the links (otherwise the test would be
# circular).

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

# %%
from stratlab.datasets import load_example, true_links_frame
from stratlab.stats.links import objective_evidence

model, history = load_example()
evidence = objective_evidence(model, history)
names = {o.id: o.name for o in model.objectives}
evidence.tail(3)

# %% [markdown]
# ## Levels mislead: the decoy link
#
# The map says *a known brand brings app users* (`brand → digital_reach`). The
# generator has no such link: both objectives simply trend upwards. Correlating
# the levels finds a strong, "significant" relationship; correlating the
# month-over-month changes (`transform='diff'`, the default) finds nothing.
# A warning names the trending series when you ask for levels.

# %%
pair = evidence[["brand", "digital_reach"]]
levels = stratlab.correlate(pair, transform="none")
changes = stratlab.correlate(pair, transform="diff")
pd.concat([levels.assign(transform="none"), changes.assign(transform="diff")])[
    ["transform", "source", "target", "n", "r", "ci_low", "ci_high", "p_value"]
]

# %%
r_levels = levels["r"].iloc[0]
r_changes = changes["r"].iloc[0]
print(f"levels r = {r_levels:.2f}, changes r = {r_changes:.2f}")

assert r_levels > 0.4 and levels["p_value"].iloc[0] < 0.001  # spurious
assert abs(r_changes) < 0.2 and changes["p_value"].iloc[0] > 0.05

# %%
plots.kpi_trends(
    history,
    model,
    ["brand_awareness", "app_users"],
    columns=2,
    title="Both trend up; their monthly changes are unrelated",
)

# %% [markdown]
# ## Lead and lag
#
# Links can take time: the map says a good visit shows in loyalty a month
# later. `correlate(..., max_lag=k)` tests every pair at leads 0..k; a row
# `(source, target, lag=k)` is corr(source[t − k], target[t]). q-values are
# Benjamini–Hochberg over every pair and lag tested — with 14 objectives and
# four lags that is several hundred tests, so raw p-values alone would find
# plenty of noise.

# %%
corr = stratlab.correlate(evidence, max_lag=3)
print(len(corr), "tests")
pair_rows = corr[(corr["source"] == "experience") & (corr["target"] == "loyalty")]
pair_rows[["source", "target", "lag", "n", "r", "q_value"]]

# %%
best = pair_rows.loc[pair_rows["r"].idxmax()]
assert best["lag"] == 1 and best["q_value"] < 0.001  # the true lag is one month
plots.lead_lag(corr, "experience", "loyalty", names=names)

# %%
plots.correlation_heatmap(corr, names=names)

# %% [markdown]
# ## Granger tests
#
# A Granger test asks whether the source's *past* improves the prediction of
# the target beyond the target's own past. It sees lagged links well and
# same-month links not at all: `data → digital_reach` acts within the month.

# %%
lagged = stratlab.granger(evidence, "experience", "loyalty", max_lag=3)
same_month = stratlab.granger(evidence, "data", "digital_reach", max_lag=3)
display(lagged)
display(same_month)

assert lagged.loc[lagged["lag"] == 1, "p_value"].iloc[0] < 0.001
assert (same_month["p_value"] > 0.05).all()

# %% [markdown]
# ## A verdict for every link
#
# `stratlab.check_links` does all of this for each link of the map: it tries
# lags around the hypothesised one, keeps the one with the strongest evidence
# (smallest p-value, which accounts for the fewer pairs of longer lags), and
# gives a verdict — **supported**, **contradicted** (significant with the wrong
# sign), **underpowered** (not shown, and the data could not have shown a
# meaningful link: `mde_r`, the smallest |r| detectable at 80 % power, is above
# 0.3), **not supported** (not shown although the data could have shown it) or
# **untestable** (too little data).

# %%
checks = stratlab.check_links(model, history)
checks

# %%
print(checks["verdict"].value_counts().to_string())
decoy = checks.set_index(["source", "target"]).loc[("brand", "digital_reach")]
print("\nbrand -> digital_reach:", decoy["verdict"], "|", decoy["reason"])

assert decoy["verdict"] != "supported"
assert not (checks["verdict"] == "contradicted").any()

# %%
plots.verdict_map(model, checks)

# %% [markdown]
# ## Grading the verdicts against the truth
#
# `true_links_frame()` lists the generator's links with their true strength and
# lag (the decoy has weight 0).

# %%
truth = true_links_frame()[["source", "target", "weight", "lag", "in_model", "decoy"]]
graded = checks.merge(
    truth.rename(columns={"weight": "true_weight", "lag": "true_lag"}),
    on=["source", "target"],
    how="left",
)
graded[["source", "target", "kind", "verdict", "r", "best_lag", "true_lag", "true_weight", "decoy"]]

# %%
objective_rows = graded[graded["kind"] == "objective"]
supported = objective_rows[objective_rows["verdict"] == "supported"]

assert (supported["true_weight"] != 0).all()  # no false positive
assert (supported["best_lag"] == supported["true_lag"]).all()  # and the right lag
missed = objective_rows[
    (objective_rows["verdict"] != "supported") & (objective_rows["true_weight"] != 0)
]
print(
    "true links not supported:",
    list(zip(missed["source"], missed["target"], missed["true_weight"], strict=True)),
)
assert (missed["true_weight"].abs() <= 0.45).all()  # only the weakest ones

# %% [markdown]
# What to read from this:
#
# * Every supported objective link is real, at the right lag.
# * The decoy is caught — it is not supported, with r ≈ 0. Its verdict is
#   "underpowered": sixty months can only detect |r| ≥ 0.36 at 80 % power, so
#   the data cannot rule out a modest link either.
# * The true links that are not confirmed are the weakest ones (true strength
#   0.40–0.45; two of them act with a 2–3 month lag): sixty months of noisy KPIs
#   is not much data. "Underpowered" means *not shown*, not *false*.
# * The driver `training_hours → certified_pct` is supported at lag 0 instead of
#   the hypothesised 2: both KPIs read the same objective (skills), so they move
#   together in the same month whatever the driver does. A common cause can
#   hide or fake a lag.
#
# ## Links the map lacks
#
# `stratlab.suggest_links` searches all objective pairs that the map does not
# connect for strong, significant lead–lag relationships.

# %%
suggestions = stratlab.suggest_links(model, history)
suggestions

# %% [markdown]
# None of these is a true link. `digital_reach → waste` (one month later) comes
# from a **common cause**: data-driven management improves digital reach the
# same month and waste a month later. Controlling for `data` a month earlier
# makes it vanish:

# %%
shifted = pd.DataFrame(
    {
        "digital_reach_prev": evidence["digital_reach"].shift(1),
        "waste": evidence["waste"],
        "data_prev": evidence["data"].shift(1),
    }
)
plain = stratlab.correlate(shifted, columns=["digital_reach_prev", "waste"])
partial = stratlab.partial_correlate(shifted, covariates=["data_prev"])
print(
    f"plain r = {plain['r'].iloc[0]:.2f}, controlling for data: r = {partial['r'].iloc[0]:.2f} "
    f"(p = {partial['p_value'].iloc[0]:.2f})"
)

assert plain["r"].iloc[0] > 0.4
assert partial["p_value"].iloc[0] > 0.05
assert ("digital_reach", "waste") in set(
    zip(suggestions["source"], suggestions["target"], strict=True)
)

# %% [markdown]
# And the true link the map lacks, `engagement → speed` (same month, strength
# 0.45), is *not* suggested: its correlation is nominally significant, but not
# after correcting for the hundreds of pairs searched.

# %%
unmodelled = corr[
    (corr["source"] == "engagement") & (corr["target"] == "speed") & (corr["lag"] == 0)
]
display(unmodelled[["source", "target", "lag", "n", "r", "p_value", "q_value"]])

assert unmodelled["p_value"].iloc[0] < 0.05 < unmodelled["q_value"].iloc[0]

# %% [markdown]
# So suggestions are leads to discuss with the people who run the business,
# not links to add blindly; and a missing suggestion does not prove a link
# absent.
#
# Next: **notebook 3** asks what happens if we move the levers.
