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
    return run_review(model, history, model.parent / "review.html", progress=False)


@pytest.fixture(scope="module")
def page(browser: Browser, review_path: Path) -> Page:
    return browser.open(review_path)


def test_every_chart_renders_offline_without_errors(page: Page) -> None:
    assert page.count_plot_divs() >= 3
    assert page.count_plots() == page.count_plot_divs()
    assert page.errors == []
    assert page.requests == []  # nothing fetched from the network
    assert page.evaluate("document.querySelectorAll('.jp-CodeCell .jp-InputArea').length") == 0


def test_slider_moves_the_figure_without_a_kernel(page: Page, inputs: tuple[Path, Path]) -> None:
    from stratlab.io import load_history
    from stratlab.model import load_model
    from stratlab.scoring import score

    strategy = load_model(inputs[0])
    history = load_history(inputs[1], strategy)
    (plot_id,) = page.slider_plots()
    before = page.plot_state(plot_id)
    assert before["active"] == len(history) - 1
    page.click_slider_step(plot_id, 0)
    after = page.plot_state(plot_id)
    assert after["active"] == 0
    assert after["data"] != before["data"]
    first = score(strategy, history, period=str(history.index[0]))
    objectives = first[first["kind"] == "objective"]
    _, y, colors = json.loads(after["data"])[0]
    assert y == pytest.approx(objectives["score"].tolist())
    assert len(colors) == len(objectives)
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
