"""The three explorers in real front ends: JupyterLab and Voilà in Debian's Chromium.

The test starts the servers itself (127.0.0.1, free ports, a token, a temp dir,
the project's kernel), opens a notebook with ``whatif_explorer``,
``correlation_explorer`` and ``simulation_explorer`` on the bundled example,
and checks what an analyst sees: every figure drawn with its traces, no error
from stratlab in the console, a slider move that brings the map and the table
to ``whatif()``'s numbers, a click on a handle that changes nothing, a view
switch that recomputes at once and says so, nothing wider than its container.
Voilà builds every widget from the kernel's state after the notebook ran: the
late-connecting front end.  Screenshots go to ``build/browser/`` (on failure,
and of the three explorers at 1,280 px; set ``STRATLAB_UPDATE_SCREENSHOTS=1`` to
copy those into ``docs/img/``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_harness import (
    CHROMIUM_FLAGS,
    Server,
    chromium_path,
    start_server,
    stop_server,
    write_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.kernel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "browser"
CONTROL = "wait_min"  # "Average wait at peak" (min), in the Internal Process tab
CONTROL_LABEL = "Average wait at peak (min)"
CONTROL_TAB = "Internal Process"
WIDTH = 1280


def _need_browser() -> str:
    pytest.importorskip("playwright.sync_api")
    path = chromium_path()
    if path is None:
        message = "Debian's chromium is missing (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return str(path)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("explorers")
    write_notebook(root / "explorers.ipynb")
    settings = root / ".lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    return root


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    executable = _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def example() -> tuple[Any, Any]:
    import stratlab

    return stratlab.load_example()


@contextlib.contextmanager
def _page(browser: Any, name: str) -> Iterator[tuple[Any, list[str]]]:
    """A 1,280 px page collecting console errors; a screenshot under build/ if the test fails."""
    page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    try:
        yield page, errors
    except BaseException:
        SHOTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(SHOTS / f"FAILED-{name}.png"), full_page=True)
        raise
    finally:
        page.close()


# ---------------------------------------------------------------- reading the page

_PLOTS_JS = """() => {
  // a list, or a typed array as plotly.py sends numpy arrays ({dtype, bdata: base64})
  const SIZE = {f8: 8, f4: 4, i4: 4, u4: 4, i2: 2, u2: 2, i1: 1, u1: 1};
  const count = x => Array.isArray(x) ? x.length
    : (x && x.bdata ? atob(x.bdata).length / (SIZE[x.dtype] || 8) : 0);
  return [...document.querySelectorAll('.js-plotly-plot')].map(g => ({
    traces: (g.data || []).length,
    drawn: g.querySelectorAll('g.trace').length,
    points: (g.data || []).map(t => count(t.x)),
    title: ((g.layout || {}).title || {}).text || '',
    width: Math.max(g.getBoundingClientRect().width,
      ...[...g.querySelectorAll('svg.main-svg')].map(s => s.getBoundingClientRect().width)),
    box: g.parentElement.getBoundingClientRect().width,
  }));
}"""

_MAP_JS = """() => {
  const g = [...document.querySelectorAll('.js-plotly-plot')]
    .find(g => (g.data || []).some(t => t.meta && t.meta.role === 'objectives'));
  const out = {};
  for (const t of g.data) {
    if (!t.meta || t.meta.role !== 'objectives') continue;
    (t.customdata || []).forEach((id, i) => { out[id] = t.text[i]; });
  }
  return {title: g.layout.title.text, nodes: out};
}"""

_LINKS_JS = """() => {
  const g = [...document.querySelectorAll('.js-plotly-plot')]
    .find(g => (g.data || []).some(t => t.meta && t.meta.role === 'objectives'));
  const links = (g._fullData || []).filter(t => t.meta && t.meta.role === 'link');
  return {
    traces: (g._fullData || []).filter(t => t.visible === true).length,  // empty ones are not drawn
    drawn: g.querySelectorAll('.scatterlayer g.trace').length,
    arrows: [...g.querySelectorAll('.scatterlayer g.trace')]
      .filter((el, i) => ((g._fullData[i] || {}).meta || {}).role === 'link')
      .reduce((n, el) => n + el.querySelectorAll('path.point').length, 0),
    widths: links.map(t => t.line.width).sort().join(','),
  };
}"""

_TABLE_JS = """() => {
  const t = document.querySelector('.stratlab-effects');
  const rows = {};
  for (const tr of t.querySelectorAll('tr[data-id]')) {
    rows[tr.dataset.id] = [...tr.querySelectorAll('td')].map(td => td.innerText.trim());
  }
  return {text: t.innerText, rows: rows};
}"""

_OVERFLOW_JS = """() => {
  const bad = [];
  for (const area of document.querySelectorAll('.jp-OutputArea-output')) {
    if (!area.querySelector('.jupyter-widgets')) continue;
    const r = area.getBoundingClientRect();
    for (const el of area.querySelectorAll('.jupyter-widgets, .js-plotly-plot, table, .widget-label, .widget-html-content')) {
      if (el.offsetParent === null) continue;  // hidden (another tab)
      const e = el.getBoundingClientRect();
      if (e.width > 0 && e.right > r.right + 1) bad.push(`${el.className}: right ${e.right} > ${r.right}`);
      if (el.classList.contains('stratlab-figure')) continue;  // plot widths are checked apart
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
        bad.push(`${el.className}: content ${el.scrollWidth} px in ${el.clientWidth} px`);
    }
  }
  return bad;
}"""


_TABS_JS = """() => [...document.querySelectorAll('.stratlab-tabs .lm-TabBar-tabLabel')]
  .filter(t => t.offsetParent !== null && t.scrollWidth > t.clientWidth + 1)
  .map(t => t.innerText)"""


def _plots(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(_PLOTS_JS))


def _wait_plots(page: Any, n: int = 4, timeout: float = 150.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    plots: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        plots = _plots(page)
        if len(plots) >= n and all(p["drawn"] > 0 for p in plots[:n]):
            return plots
        page.wait_for_timeout(500)
    raise AssertionError(f"the explorers' figures did not draw within {timeout} s: {plots}")


def _score(text: str) -> float:
    m = re.search(r"<b>([−\-]?[\d.]+)</b>", text)
    assert m, text
    return float(m.group(1).replace("−", "-"))


def _after(cell: str) -> float:
    m = re.search(r"→\s*([−\-]?[\d,.]+)", cell)
    assert m, cell
    return float(m.group(1).replace("−", "-").replace(",", ""))


def _expected(model: Any, history: Any, changes: dict[str, float], view: str) -> Any:
    from stratlab.propagation import whatif

    res = whatif(model, changes, history, horizon=0)
    frame = res.long_run if view == "long run" else res.to_frame()
    return frame.set_index("id")


def _check_map_and_table(page: Any, expected: Any, view: str) -> None:
    drawn = page.evaluate(_MAP_JS)
    assert view in drawn["title"], drawn["title"]
    objectives = [i for i in expected.index if expected.loc[i, "kind"] == "objective"]
    for oid in objectives:
        want = float(expected.loc[oid, "score_after"])
        assert _score(drawn["nodes"][oid]) == pytest.approx(want, abs=0.006), oid
    table = page.evaluate(_TABLE_JS)
    assert f"view: {view}" in table["text"]
    moved = expected[expected["score_delta"].abs() > 1e-9]
    assert len(table["rows"]) >= min(len(moved), 40)
    for oid, cells in table["rows"].items():
        row = expected.loc[oid]
        want = row["after"] if row["kind"] in ("measure", "key_result") else row["score_after"]
        assert _after(cells[1]) == pytest.approx(float(want), rel=0.01, abs=0.006), (oid, cells)


def _control_handle(page: Any) -> Any:
    """The slider handle of CONTROL (its tab opened first)."""
    page.get_by_role("tab", name=CONTROL_TAB).first.click()
    row = page.locator(".stratlab-control", has=page.get_by_text(CONTROL_LABEL, exact=True)).last
    handle = row.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    return handle


def _readout(page: Any) -> str:
    row = page.locator(".stratlab-control", has=page.get_by_text(CONTROL_LABEL, exact=True)).last
    return str(row.locator(".widget-readout").first.inner_text()).strip()


def _wait_for(page: Any, predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the page")
        page.wait_for_timeout(200)


def _errors_from_stratlab(errors: list[str]) -> list[str]:
    return [e for e in errors if "stratlab" in e.lower() or "Traceback" in e]


def _explorer_checks(page: Any, model: Any, history: Any) -> None:
    """Click without moving, move one step, switch the view: map and table follow whatif()."""
    from stratlab.widgets import whatif_explorer

    headless = whatif_explorer(model, history)
    start = float(headless.controls[CONTROL].value)

    before_map = page.evaluate(_MAP_JS)
    handle = _control_handle(page)
    readout = _readout(page)
    handle.click()  # press and release on the handle, no movement
    page.wait_for_timeout(1500)
    assert _readout(page) == readout
    assert page.evaluate(_MAP_JS) == before_map
    assert "Move a control" in page.evaluate(_TABLE_JS)["text"]

    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 60, y, steps=6)  # drag left: shorter waits
    page.mouse.up()
    _wait_for(page, lambda: _readout(page) != readout)
    moved = float(_readout(page).replace(",", ""))  # the readout shows the grid value exactly
    assert moved < start
    _wait_for(page, lambda: "nodes moved" in page.evaluate(_TABLE_JS)["text"])
    page.wait_for_timeout(500)
    _check_map_and_table(page, _expected(model, history, {CONTROL: moved}, "long run"), "long run")

    page.get_by_role("button", name="now", exact=True).first.click()
    _wait_for(page, lambda: "view: now" in page.evaluate(_TABLE_JS)["text"])
    page.wait_for_timeout(500)
    _check_map_and_table(page, _expected(model, history, {CONTROL: moved}, "now"), "now")

    # a link weight: its links redrawn at once, every trace still drawn, arrows included
    links_before = page.evaluate(_LINKS_JS)
    page.get_by_role("tab", name="Link weights").first.click()
    weight = page.locator(".stratlab-control .noUi-handle").locator("visible=true").first
    weight.scroll_into_view_if_needed()
    box = weight.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 80, y, steps=6)
    page.mouse.up()
    # the moved link is drawn thinner
    _wait_for(page, lambda: page.evaluate(_LINKS_JS)["widths"] != links_before["widths"])
    page.wait_for_timeout(500)
    links = page.evaluate(_LINKS_JS)
    assert links["drawn"] == links["traces"], links  # no trace missing from the picture
    assert links["arrows"] == links_before["arrows"] > 0, (links_before, links)


def _check_layout(page: Any, plots: list[dict[str, Any]]) -> None:
    for p in plots:
        assert p["width"] <= p["box"] + 1, p
        assert p["width"] > 200, p  # sized to its box, not collapsed
    bad = page.evaluate(_OVERFLOW_JS)
    assert bad == [], "\n".join(bad)
    assert page.evaluate(_TABS_JS) == []  # no tab title cut


def _check_widths(page: Any) -> None:
    """Nothing clipped or overflowing from 1,000 to 1,400 px wide; plots follow their boxes."""
    for width in (1000, 1400, WIDTH):
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(1500)
        _check_layout(page, _plots(page))


# ---------------------------------------------------------------- the tests


def test_explorers_in_jupyterlab(chromium: Any, workdir: Path, example: tuple[Any, Any]) -> None:
    model, history = example
    server: Server = start_server("lab", workdir, "explorers.ipynb")
    try:
        with _page(chromium, "jupyterlab") as (page, errors):
            page.goto(f"{server.url}/lab/tree/explorers.ipynb?token={server.token}")
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " const k = w && w.sessionContext && w.sessionContext.session"
                " && w.sessionContext.session.kernel; return k && k.status === 'idle'; }",
                timeout=90_000,
            )
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            t0 = time.monotonic()
            plots = _wait_plots(page)
            print(f"jupyterlab: figures drawn {time.monotonic() - t0:.1f} s after run-all")
            assert [p["traces"] for p in plots] == [len(p["points"]) for p in plots]
            assert plots[1]["points"][0] > 10  # the correlation scatter
            assert plots[3]["traces"] == 3  # fan: 90 % band, 50 % band, median
            _check_layout(page, plots)
            _explorer_checks(page, model, history)
            assert _errors_from_stratlab(errors) == []
    finally:
        stop_server(server)


def test_explorers_in_voila(chromium: Any, workdir: Path, example: tuple[Any, Any]) -> None:
    model, history = example
    server: Server = start_server("voila", workdir, "explorers.ipynb")
    try:
        with _page(chromium, "voila") as (page, errors):
            page.goto(f"{server.url}/?token={server.token}", timeout=150_000)
            t0 = time.monotonic()
            plots = _wait_plots(page)
            print(f"voila: figures drawn {time.monotonic() - t0:.1f} s after the page opened")
            # built from the kernel's state after the notebook ran: nothing blank or stale
            assert all(p["traces"] > 0 and p["drawn"] > 0 for p in plots)
            assert plots[1]["points"][0] > 10  # the correlation scatter
            assert plots[2]["traces"] == 1 and plots[3]["traces"] == 3
            page.wait_for_timeout(1000)
            _check_layout(page, plots)
            _screenshots(page)
            _check_widths(page)
            _explorer_checks(page, model, history)
            assert _errors_from_stratlab(errors) == []
    finally:
        stop_server(server)


def _screenshots(page: Any) -> None:
    """The three explorers at 1,280 px, for the README and the tutorials."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    outputs = page.locator(".jp-OutputArea-output", has=page.locator(".jupyter-widgets"))
    names = ["whatif_explorer", "correlation_explorer", "simulation_explorer"]
    docs = ROOT / "docs" / "img"
    for i, name in enumerate(names):
        target = SHOTS / f"{name}.png"
        outputs.nth(i).screenshot(path=str(target), type="png")
        if os.environ.get("STRATLAB_UPDATE_SCREENSHOTS"):
            docs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, docs / f"{name}.png")
