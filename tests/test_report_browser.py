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


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return fx.write_inputs(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def review_path(inputs: tuple[Path, Path]) -> Path:
    """The shipped quarterly review of a model it has never seen (names carry script)."""
    model, history = inputs
    return run_review(
        model,
        history,
        model.parent / "review.html",
        parameters={"samples": 200, "horizon": 2},
        progress=False,
    )


@pytest.fixture(scope="module")
def page(browser: Browser, review_path: Path) -> Page:
    return browser.open(review_path)


def test_every_chart_renders_offline_without_errors(page: Page, review_path: Path) -> None:
    from plotly.offline import get_plotlyjs

    from stratlab.report._plotlyjs import cartesian_bundle

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
