"""Benchmark the what-if explorer in a real browser: input → redraw, and first display.

JupyterLab is started on 127.0.0.1 (a temp dir, the project's kernel) and
driven in Debian's Chromium with Playwright (``tests/jupyter_harness.py``).

* **input → redraw**: the first measure's slider handle is dragged (real mouse
  events); the time runs from the pointer release to the moment both the map
  (the last DOM change inside the map's box) and the before → after
  table have redrawn, in the page's clock.  Repeated, alternating left/right;
  medians.  Goals: ≤ 100 ms on the bundled example, ≤ 300 ms on a generated
  500-objective map (``make_cascade``: 500 objectives, 500 measures, 50 key
  results, 800 links).
* **first display**: after a cell that imports stratlab and loads the model
  has run, the cell ``whatif_explorer(model, history)`` is run; times until
  the controls are on screen and until the map is drawn.  Goal ≤ 3 s.

Two baselines printed beside each median are measured in the same run:

* the kernel-side time of the same control change (``bench_widgets.py``'s
  path: what-if, figure update, table), the part no front end can remove;
* plotly.js's own redraw of the same change: ``Plotly.react`` from the map
  before the change to the map after it, in a bare page holding only the
  vendored plotly.js, in the same Chromium — the floor of any front end that
  draws this map with plotly.js.

Run: ``.venv/bin/python benchmarks/bench_widgets_browser.py`` (not part of the tests).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from jupyter_harness import (
    CHROMIUM_FLAGS,
    chromium_path,
    start_server,
    stop_server,
    write_notebook,
)

REPEATS = 15
BIG = (
    "make_cascade(n_objectives=500, n_measures=500, n_key_results=50, n_links=800, "
    "n_driver_links=20, n_initiatives=2, seed=0)"
)

_SETUP = """() => {
  const box = document.querySelector('.stratlab-figure');
  const table = document.querySelector('.stratlab-effects').parentElement;
  window.__bench = {up: 0, plot: 0, table: 0};
  // the map's box: a restyle of the plot, or a fresh figure widget, both mutate it
  new MutationObserver(() => { window.__bench.plot = performance.now(); })
    .observe(box, {childList: true, subtree: true, characterData: true, attributes: true});
  new MutationObserver(() => { window.__bench.table = performance.now(); })
    .observe(table, {childList: true, subtree: true, characterData: true});
  document.addEventListener('pointerup', () => {
    window.__bench.up = performance.now(); window.__bench.plot = 0; window.__bench.table = 0;
  }, true);
  return true;
}"""


def _kernel_ms(model_expr: str, imports: str) -> float:
    """Median kernel-side time of one control change (the same explorer, headless)."""
    import stratlab  # noqa: F401
    from stratlab.datasets import load_example, make_cascade  # noqa: F401
    from stratlab.io import load_model  # noqa: F401
    from stratlab.widgets import whatif_explorer

    scope: dict[str, Any] = {}
    exec(imports, scope)
    model, history = eval(model_expr, scope)
    ex = whatif_explorer(model, history)
    ctl = ex.controls[model.measures[0].id]
    values = (ctl.value - 3 * ctl.step, ctl.value + 3 * ctl.step)
    times = []
    for i in range(REPEATS):
        t0 = time.perf_counter()
        ctl.value = values[i % 2]
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


_REACT_JS = """async ([before, after, repeats]) => {
  const g = document.getElementById('g');
  const cfg = {displaylogo: false};
  const copy = s => JSON.parse(JSON.stringify(s));
  await Plotly.react(g, copy(before).data, copy(before).layout, cfg);
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const s = copy(i % 2 ? before : after);
    const t0 = performance.now();
    await Plotly.react(g, s.data, s.layout, cfg);
    times.push(performance.now() - t0);
  }
  return times;
}"""


def _plotly_floor_ms(browser: Any, model_expr: str, imports: str) -> float:
    """Median time plotly.js takes to redraw the map for one control change (a bare page)."""
    from stratlab.datasets import load_example, make_cascade  # noqa: F401
    from stratlab.io import load_model  # noqa: F401
    from stratlab.plots.plotlyjs import cartesian_bundle
    from stratlab.widgets import whatif_explorer
    from stratlab.widgets._figure import synced_state

    scope: dict[str, Any] = {}
    exec(imports, scope)
    model, history = eval(model_expr, scope)
    ex = whatif_explorer(model, history)
    ctl = ex.controls[model.measures[0].id]
    before = synced_state(ex.figure_widget)
    ctl.value = ctl.value - 3 * ctl.step
    after = synced_state(ex.figure_widget)
    with tempfile.TemporaryDirectory(prefix="stratlab-bench-") as folder:
        page_path = Path(folder) / "plotly.html"
        page_path.write_text(
            "<html><body><div id='g' style='width:848px'></div><script>"
            + cartesian_bundle()
            + "</script></body></html>",
            encoding="utf-8",
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(page_path.as_uri())
        times = page.evaluate(_REACT_JS, [before, after, REPEATS])
        page.close()
    return float(statistics.median(times))


def _run_cell(page: Any, index: int) -> None:
    page.evaluate(
        f"""() => {{ const nb = window.jupyterapp.shell.currentWidget;
        nb.content.activeCellIndex = {index};
        return window.jupyterapp.commands.execute('notebook:run-cell'); }}"""
    )


def _wait(page: Any, js: str, timeout: float = 300.0) -> float:
    t0 = time.monotonic()
    page.wait_for_function(js, timeout=timeout * 1000, polling=20)
    return time.monotonic() - t0


def measure(browser: Any, label: str, imports: str, model_expr: str, goal_ms: float) -> bool:
    root = Path(tempfile.mkdtemp(prefix="stratlab-bench-"))
    write_notebook(
        root / "bench.ipynb",
        [
            f"import stratlab\n{imports}\nmodel, history = {model_expr}",
            "wi = stratlab.whatif_explorer(model, history)\nwi",
        ],
    )
    server = start_server("lab", root, "bench.ipynb")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{server.url}/lab/tree/bench.ipynb?token={server.token}")
        page.wait_for_function(
            "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            " const k = w && w.sessionContext && w.sessionContext.session"
            " && w.sessionContext.session.kernel; return k && k.status === 'idle'; }",
            timeout=120_000,
        )
        _run_cell(page, 0)
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.content.widgets[0].model.executionCount === 1"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
            timeout=300_000,
        )
        t0 = time.monotonic()
        _run_cell(page, 1)
        # (run-cell resolves when the cell has run: both times count from t0)
        _wait(page, "() => document.querySelector('.jp-OutputArea .noUi-handle') !== null")
        first_controls = time.monotonic() - t0
        _wait(
            page,
            "() => [...document.querySelectorAll('.js-plotly-plot')].some(g => g.querySelectorAll('g.trace').length > 0)",
        )
        first_map = time.monotonic() - t0
        page.wait_for_timeout(1500)
        page.evaluate(_SETUP)
        handle = page.locator(".jp-OutputArea .noUi-handle").first
        handle.scroll_into_view_if_needed()
        latencies = []
        for i in range(REPEATS):
            box = handle.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            dx = -25 if i % 2 == 0 else 25
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + dx, y, steps=3)
            page.mouse.up()
            page.wait_for_function(
                "() => window.__bench.plot > window.__bench.up && window.__bench.table > window.__bench.up",
                timeout=60_000,
                polling=10,
            )
            page.wait_for_timeout(
                700
            )  # the last mutation of the redraw (or of a fresh widget) counts
            b = page.evaluate("() => window.__bench")
            latencies.append(max(b["plot"], b["table"]) - b["up"])
        page.close()
    finally:
        stop_server(server)
    kernel = _kernel_ms(model_expr, imports)
    floor = _plotly_floor_ms(browser, model_expr, imports)
    med = statistics.median(latencies)
    ok = med <= goal_ms and first_map <= 3.0
    print(f"{label}")
    print(
        f"  input -> redraw in the browser: median {med:.0f} ms "
        f"(min {min(latencies):.0f}, max {max(latencies):.0f}) over {REPEATS} drags; "
        f"goal <= {goal_ms:.0f} ms: ratio {med / goal_ms:.2f}"
    )
    print(
        f"  baseline, kernel-side update of the same change: median {kernel:.0f} ms "
        f"(browser / kernel x{med / kernel:.1f})"
    )
    print(
        f"  baseline, plotly.js redrawing the same change in a bare page: median {floor:.0f} ms; "
        f"kernel + plotly.js {kernel + floor:.0f} ms (browser / that sum x{med / (kernel + floor):.2f})"
    )
    print(
        f"  first display after the kernel imported stratlab: controls {first_controls:.2f} s, "
        f"map drawn {first_map:.2f} s; goal <= 3 s: ratio {first_map / 3.0:.2f}"
    )
    print(f"  -> {'OK' if ok else 'MISSED'}")
    return ok


def main() -> None:
    warnings.simplefilter("ignore")
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise SystemExit("Debian's chromium is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        only_example = "--example" in sys.argv
        ok2 = True
        try:
            ok1 = measure(
                browser,
                "example (Northwind, with its history)",
                "from stratlab.datasets import load_example",
                "load_example()",
                100.0,
            )
            if not only_example:
                ok2 = measure(
                    browser,
                    "500-objective map (make_cascade)",
                    "from stratlab.datasets import make_cascade\nfrom stratlab.io import load_model",
                    f"(load_model({BIG}), None)",
                    300.0,
                )
        finally:
            browser.close()
    print("ALL OK" if ok1 and ok2 else "SOME GOALS MISSED")


if __name__ == "__main__":
    main()
