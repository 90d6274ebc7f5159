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
from pathlib import Path

from stratlab.datasets import write_example

folder = Path(tempfile.mkdtemp())
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
  0.40–0.45, lags of 2–3 months): sixty months is not much data. "Weak" means
  *not shown*, not *false*.
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
path = stratlab.save_model(calibrated, Path(tempfile.mkdtemp()) / "northwind_calibrated.yaml")
text = path.read_text()
start = text.index("links:")
print(text[start:start + 600])
"""),
    code("""
reloaded = stratlab.load_model(path)
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
