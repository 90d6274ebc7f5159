"""Exported reviews in headless Chromium, offline: charts render, no JS errors,
the no-kernel slider works, and user text cannot run as script.

Needs Debian's chromium (skipped locally when absent, a failure under CI).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import report_fixtures as fx
from browser import Browser, Page, require_chromium

from stratlab.report import BATCH_COLUMNS, run_review
from stratlab.report._batch import write_index


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = require_chromium()
    with Browser(executable) as b:
        yield b


# Three years of quarters before the fixture's 2024: steady, so that 2024Q4's drop in
# wait time (lower is better) lies outside its natural process limits (an XmR signal).
EARLIER = """\
2021Q1,21,8.6,1.2,3
2021Q2,23,8.9,0.8,4
2021Q3,22,8.5,1.5,3
2021Q4,24,8.8,1.1,4
2022Q1,21,8.6,0.9,3
2022Q2,23,8.9,1.4,4
2022Q3,22,8.5,1.0,3
2022Q4,24,8.8,1.2,4
2023Q1,21,8.6,0.8,3
2023Q2,23,8.9,1.3,4
2023Q3,22,8.5,1.1,3
2023Q4,24,8.8,1.0,4
"""
COMMENT = "Wait time <b>halved</b> & NPS up"
COMMENTS_CSV = f"""\
id;period;comment;action;owner;due
wait_min;2024Q4;"{COMMENT}";;;
loyalty;2024Q4;On track;Survey lapsed customers;<i>CX</i> lead;2024-11-15
growth;2024Q4;Pricing under review;Pricing review;CFO;2025-02-28
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    model, history = fx.write_inputs(tmp_path_factory.mktemp("browser"))
    header, *rows = fx.HISTORY_CSV.splitlines(keepends=True)
    history.write_text(header + EARLIER + "".join(rows), encoding="utf-8")
    return model, history


@pytest.fixture(scope="module")
def review_path(inputs: tuple[Path, Path]) -> Path:
    """The shipped quarterly review of a model it has never seen (names carry script)."""
    model, history = inputs
    comments = model.parent / "comments.csv"
    comments.write_text(COMMENTS_CSV, encoding="utf-8")
    return run_review(
        model,
        history,
        model.parent / "review.html",
        parameters={"samples": 200, "horizon": 2},
        progress=False,
        comments=comments,
    )


@pytest.fixture(scope="module")
def page(browser: Browser, review_path: Path) -> Page:
    return browser.open(review_path)


def test_every_chart_renders_offline_without_errors(page: Page, review_path: Path) -> None:
    from plotly.offline import get_plotlyjs

    from stratlab.plots.plotlyjs import cartesian_bundle

    assert page.count_plot_divs() >= 4
    assert page.count_plots() == page.count_plot_divs()
    assert page.errors == []
    assert page.requests == []  # nothing fetched from the network
    assert page.evaluate("document.querySelectorAll('.jp-CodeCell .jp-InputArea').length") == 0
    html = review_path.read_text(encoding="utf-8")
    # the cartesian partial bundle embedded exactly once, the full plotly.js not at all
    assert html.count(cartesian_bundle()[:2000]) == 1
    assert get_plotlyjs()[:2000] not in html
    assert page.evaluate("typeof Plotly.register") == "function"
    assert "hl-ipython3" not in html  # no code


def test_meeting_pack_comments_trend_arrows_and_spc_signal(page: Page) -> None:
    text = page.evaluate("document.body.innerText")
    assert COMMENT in text  # shown literally, not as markup
    assert page.evaluate("document.querySelectorAll('.sl-comment b').length") == 0
    assert "Survey lapsed customers" in text and "<i>CX</i> lead" in text
    # open actions: the one due before the end of 2024Q4 is overdue
    assert page.evaluate("document.querySelectorAll('.sl-actions .sl-overdue').length") == 1
    # trend arrows, coloured by whether the change is good for the measure
    wait = "document.querySelector('.sl-scorecard tr[data-id=\"wait_min\"] .sl-trend')"
    assert page.evaluate(f"{wait}.textContent").startswith("▼")  # 7.1 -> 6.0
    assert page.evaluate(f"{wait}.classList.contains('sl-better')")
    assert page.evaluate(f"getComputedStyle({wait}).color") == "rgb(0, 158, 115)"
    assert page.evaluate("document.querySelectorAll('.sl-trend').length") >= 8
    # the XmR chart marks wait_min's last value as a signal, and the table names it
    signals = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')]"
        ".filter(g => g.layout.meta && g.layout.meta.stratlab === 'spc_chart')"
        ".flatMap(g => g.data.filter(t => t.meta && t.meta.role === 'signal')"
        ".map(t => [t.meta.id, t.meta.kind, String(t.x[t.x.length - 1]).slice(0, 10)]))"
    )
    assert ["wait_min", "improvement", "2024-10-01"] in signals  # 2024Q4
    assert page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')]"
        ".filter(g => g.layout.meta && g.layout.meta.stratlab === 'spc_chart')"
        ".every(g => g.querySelectorAll('.scatterlayer .trace').length === g.data.length)"
    )
    assert "XmR signals in 2024Q4" in text and "outside limits" in text
    assert page.errors == []


def _whatif_plot(page: Page) -> str:
    (plot_id,) = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')]"
        ".filter(g => g.layout && g.layout.meta && g.layout.meta.stratlab === 'whatif_scenarios')"
        ".map(g => g.id)"
    )
    return str(plot_id)


def _bars(page: Page, plot_id: str, trace: int) -> list[float]:
    return list(
        page.evaluate(f"Array.from(document.getElementById({json.dumps(plot_id)}).data[{trace}].y)")
    )


def test_whatif_slider_moves_the_bars_without_a_kernel(
    page: Page, inputs: tuple[Path, Path]
) -> None:
    from stratlab.io import load_history, load_model
    from stratlab.propagation import whatif

    strategy = load_model(inputs[0])
    history = load_history(inputs[1], strategy)
    plot_id = _whatif_plot(page)
    assert plot_id in page.slider_plots()
    meta = page.evaluate(f"document.getElementById({json.dumps(plot_id)}).layout.meta")
    before = page.plot_state(plot_id)
    assert before["active"] > 0  # starts at the current value, not at the baseline
    page.click_slider_step(plot_id, 0)
    after = page.plot_state(plot_id)
    assert after["active"] == 0
    assert after["data"] != before["data"]
    # the bars now show the precomputed long run with the first input at its first value
    ref = whatif(strategy, {meta["inputs"][0]: meta["values"][0][0]}, history).long_run
    expected = ref.set_index("id").loc[meta["ids"], "score_after"].tolist()
    assert _bars(page, plot_id, 1) == pytest.approx(expected, abs=1e-9)
    assert page.errors == []


def test_whatif_dropdown_switches_input_and_its_slider_works(page: Page) -> None:
    plot_id = _whatif_plot(page)
    gd = f"document.getElementById({json.dumps(plot_id)})"
    n = page.evaluate(f"{gd}.layout.updatemenus[0].buttons.length")
    assert n >= 2
    # press the second button as plotly's dropdown does (Plotly.update with its args)
    page.evaluate(
        f"(() => {{ const b = {gd}.layout.updatemenus[0].buttons[1];"
        f" return Plotly.update({gd}, b.args[0], b.args[1]).then(() => true); }})()"
    )
    page.settle(0.3)
    visible = page.evaluate(f"{gd}.layout.sliders.map(s => s.visible)")
    assert visible == [False, True] + [False] * (n - 2)
    assert page.evaluate(f"{gd}.querySelectorAll('.slider-container').length") == 1
    bars = _bars(page, plot_id, 2)
    last = page.evaluate(f"{gd}.layout.sliders[1].steps.length") - 1
    page.click_slider_step(plot_id, last)
    assert page.evaluate(f"{gd}.layout.sliders[1].active") == last
    assert _bars(page, plot_id, 2) != bars
    assert page.errors == []


def test_user_text_is_shown_not_run(page: Page) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined"
    text = page.evaluate("document.body.innerText")
    assert fx.PWNED_SCRIPT in text
    assert fx.PWNED_IMG in text
    assert page.evaluate("document.querySelectorAll('img[onerror]').length") == 0
    # chart labels show the name literally too (plotly reads entities, not tags)
    labels = page.evaluate(
        "[...document.querySelectorAll('.xtick text')].map(t => t.textContent).join('|')"
    )
    assert fx.PWNED_IMG in labels


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.browser
def test_bundled_example_review_is_email_sized_and_renders_offline(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The issue's acceptance check: the example's review is <= 2 MiB and draws every chart."""
    from stratlab.datasets import write_example

    folder = tmp_path_factory.mktemp("example")
    model, history = write_example(folder)
    review = run_review(model, history, folder / "review.html", progress=False)
    assert review.stat().st_size <= 2 * 2**20
    page = browser.open(review)
    assert page.count_plot_divs() >= 12
    assert page.count_plots() == page.count_plot_divs()
    assert page.errors == []
    assert page.requests == []
    kinds = page.evaluate(
        "[...new Set([...document.querySelectorAll('.js-plotly-plot')]"
        ".flatMap(g => g.data.map(t => t.type || 'scatter')))].sort()"
    )
    assert set(kinds) <= {"bar", "heatmap", "histogram", "scatter"}


def test_batch_index_text_is_shown_not_run(browser: Browser, tmp_path: Path) -> None:
    unit = '<img src=x onerror="window.__pwned = 4">'
    table = pd.DataFrame(
        [
            [
                unit,
                "m",
                "h",
                str(tmp_path / "u.html"),
                "ok",
                "<script>window.__pwned = 5</script>",
                "",
            ]
        ],
        columns=BATCH_COLUMNS,
    )
    (tmp_path / "u.html").write_text("<p>u</p>", encoding="utf-8")  # linked: it exists
    index = write_index(table, tmp_path / "index.html", title="Reviews")
    page = browser.open(index, wait_plots=False)
    page.settle(0.3)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert unit in page.evaluate("document.body.innerText")
    assert page.evaluate("document.querySelector('a').getAttribute('href')") == "u.html"
    assert page.errors == []


def test_harness_detects_script_errors_and_requests(browser: Browser, tmp_path: Path) -> None:
    """The checks above can fail: a page that runs script, errs and fetches is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<html><body><p>x</p>"
        "<script>window.__pwned = 1; console.error('logged'); throw new Error('thrown');</script>"
        '<script src="https://example.invalid/x.js"></script>'
        "</body></html>",
        encoding="utf-8",
    )
    page = browser.open(bad, wait_plots=False)
    page.settle(0.5)
    assert page.evaluate("window.__pwned") == 1
    assert any("logged" in e for e in page.errors)
    assert any("thrown" in e for e in page.errors)
    assert page.requests == ["https://example.invalid/x.js"]
