"""Every figure of stratlab.plots, built from the example, renders in headless Chromium.

One offline page (plotly.js embedded once) holds them all: each plot container must
draw its SVG, with no JavaScript error and no network request.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import Browser, require_chromium

import stratlab
from stratlab import plots


def all_figures() -> dict[str, object]:
    model, history = stratlab.load_example()
    scores = stratlab.score(model, history)
    corr = stratlab.correlate(history[["csat", "nps", "wait_min", "repeat_rate"]], max_lag=2)
    checks = stratlab.check_links(model, history)
    sim = stratlab.simulate(model, history, samples=300, seed=0, elapsed=0.5)
    sens = stratlab.sensitivity(model, history)
    growth = model.get("growth").id
    return {
        "strategy_map": plots.strategy_map(model, scores),
        "scorecard": plots.scorecard(model, scores),
        "okr_progress": plots.okr_progress(model, scores),
        "kpi_trends": plots.kpi_trends(history, model, ids=["nps", "wait_min"]),
        "correlation_heatmap": plots.correlation_heatmap(corr),
        "lead_lag": plots.lead_lag(corr, "csat", "repeat_rate"),
        "verdict_map": plots.verdict_map(model, checks),
        "outlook_fan": plots.outlook_fan(model, history, samples=200, horizon=2, elapsed=0.5),
        "attainment_distribution": plots.attainment_distribution(sim, ids=[growth], model=model),
        "tornado": plots.tornado(sens, objective=growth),
        "variance_attribution": plots.variance_attribution(sim.variance_share()),
        "whatif_chart": plots.whatif_chart(
            stratlab.whatif(model, {"nps": 45}).long_run, model=model
        ),
        "whatif_scenarios": plots.whatif_scenarios(model, history),
        "status_counts": plots.status_counts(scores),
        "attainment_by_period": plots.attainment_by_period(
            model, stratlab.score_history(model, history)
        ),
        "attainment_over_time": plots.attainment_over_time(
            model, stratlab.score_history(model, history)
        ),
    }


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    import plotly.io as pio

    figures = all_figures()
    parts = [
        pio.to_html(fig, full_html=False, include_plotlyjs=(i == 0), div_id=f"fig-{name}")
        for i, (name, fig) in enumerate(figures.items())
    ]
    path = tmp_path_factory.mktemp("figures") / "figures.html"
    path.write_text("<html><body>" + "\n".join(parts) + "</body></html>", encoding="utf-8")
    return path, list(figures)


def test_every_figure_renders_offline(page_path: tuple[Path, list[str]]) -> None:
    executable = require_chromium()
    path, names = page_path
    with Browser(executable) as browser:
        page = browser.open(path)
        assert page.count_plot_divs() == len(names)
        assert page.wait_plots() == len(names)
        drawn = page.evaluate(
            "Array.from(document.querySelectorAll('.js-plotly-plot'))"
            ".filter(d => d.querySelector('svg.main-svg')).map(d => d.id)"
        )
        assert sorted(drawn) == sorted(f"fig-{n}" for n in names)
        assert page.errors == []
        assert page.requests == []
