"""The vendored plotly.js partial bundle: same version as plotly.py's, swapped in by the export."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import nbformat
import pytest

from stratlab.plots.plotlyjs import (
    CARTESIAN_TRACES,
    PLOTLY_MIME,
    bundle_version,
    cartesian_bundle,
    choose_bundle,
    trace_types,
)
from stratlab.report._export import normalise_notebook


def test_vendored_bundle_matches_plotly_py_version_and_has_its_licence() -> None:
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    vendored = cartesian_bundle()
    assert vendored.startswith("/**\n* plotly.js (cartesian - minified) v")
    assert bundle_version(vendored) == get_plotlyjs_version()
    assert bundle_version(get_plotlyjs()) == get_plotlyjs_version()
    assert "window.Plotly = Plotly;" in vendored
    assert "</script" not in vendored.lower()  # safe to inline in a <script> element
    assert len(vendored) < len(get_plotlyjs()) / 3
    vendor = resources.files("stratlab.plots").joinpath("vendor")
    assert "MIT License" in vendor.joinpath("LICENSE").read_text(encoding="utf-8")
    assert "Plotly" in vendor.joinpath("LICENSE").read_text(encoding="utf-8")


def test_the_bundle_registers_the_trace_types_it_claims() -> None:
    text = cartesian_bundle()
    for name in CARTESIAN_TRACES:
        # each trace module registers itself with moduleType "trace" and its name
        assert f'moduleType:"trace",name:"{name}"' in text, name
    assert 'moduleType:"trace",name:"sankey"' not in text
    assert 'moduleType:"trace",name:"scattergl"' not in text


def test_every_trace_type_of_the_plots_is_in_the_bundle() -> None:
    """Every trace type the plots module builds (scanned from its source)."""
    plots = resources.files("stratlab").joinpath("plots")
    source = "\n".join(
        f.read_text(encoding="utf-8") for f in plots.iterdir() if f.name.endswith(".py")
    )
    constructors = {m.lower() for m in re.findall(r"\bgo\.([A-Z][A-Za-z]+)\(", source)}
    constructors.discard("figure")
    literal = set(re.findall(r'"type": "([a-z0-9]+)",\s*\n\s*"x"', source))
    used = constructors | literal
    assert used >= {"scatter", "bar", "heatmap"}
    assert used <= CARTESIAN_TRACES, used - CARTESIAN_TRACES


def _notebook(types: list[str]) -> Any:
    from plotly.offline import get_plotlyjs

    init = nbformat.v4.new_output(
        "display_data", data={"text/html": f"<script>x</script>\n<script>{get_plotlyjs()}</script>"}
    )
    figure = nbformat.v4.new_output(
        "display_data",
        data={
            PLOTLY_MIME: {"data": [{"type": t} for t in types], "layout": {}},
            "text/html": '<div class="plotly-graph-div"></div>',
        },
    )
    cell = nbformat.v4.new_code_cell("fig", outputs=[init, figure])
    return nbformat.v4.new_notebook(cells=[cell])


def _html(nb: Any) -> str:
    return str(nb.cells[0].outputs[0].data["text/html"])


def test_export_swaps_in_the_partial_bundle() -> None:
    from plotly.offline import get_plotlyjs

    nb = normalise_notebook(_notebook(["scatter", "bar"]))
    html = _html(nb)
    assert cartesian_bundle() in html
    assert get_plotlyjs()[:5000] not in html
    assert html.startswith("<script>x</script>")


def test_full_plotly_and_other_trace_types_keep_the_full_bundle() -> None:
    from plotly.offline import get_plotlyjs

    full = normalise_notebook(_notebook(["scatter"]), plotly_js="full")
    assert get_plotlyjs() in _html(full)
    sankey = normalise_notebook(_notebook(["scatter", "sankey"]))
    assert get_plotlyjs() in _html(sankey)
    assert cartesian_bundle()[:5000] not in _html(sankey)


@pytest.mark.parametrize(
    ("types", "wanted", "expected"),
    [
        (["scatter", "bar"], "cartesian", "cartesian"),
        (["scatter"], "full", "full"),
        (["scatter", "sankey"], "cartesian", "full"),
    ],
)
def test_the_placeholder_of_a_review_kernel_becomes_the_chosen_bundle(
    types: list[str], wanted: Any, expected: str
) -> None:
    """A kernel of run_review embeds a placeholder; normalising puts the bundle there."""
    from plotly.offline import get_plotlyjs

    from stratlab.plots.plotlyjs import PLOTLYJS_PLACEHOLDER

    nb = _notebook(types)
    init = nb.cells[0].outputs[0]
    init.data["text/html"] = f"<script>x</script>\n<script>{PLOTLYJS_PLACEHOLDER}</script>"
    html = _html(normalise_notebook(nb, plotly_js=wanted))
    bundle = cartesian_bundle() if expected == "cartesian" else get_plotlyjs()
    assert html == f"<script>x</script>\n<script>{bundle}</script>"
    assert PLOTLYJS_PLACEHOLDER not in html


@pytest.mark.parametrize(
    ("wanted", "types", "chosen"),
    [
        ("cartesian", {"scatter", "heatmap"}, "cartesian"),
        ("cartesian", set(), "cartesian"),
        ("cartesian", {"scatter", "scattergl"}, "full"),
        ("full", {"scatter"}, "full"),
    ],
)
def test_choose_bundle(wanted: Any, types: set[str], chosen: str) -> None:
    assert choose_bundle(wanted, types) == chosen


def test_trace_types_default_to_scatter() -> None:
    nb = {"cells": [{"outputs": [{"data": {PLOTLY_MIME: {"data": [{}, {"type": "bar"}]}}}]}]}
    assert trace_types(json.loads(json.dumps(nb))) == {"scatter", "bar"}


def test_export_reuses_one_exporter_per_setting_and_pages_do_not_leak() -> None:
    """One exporter per show_code is kept (templates compiled once); each page is what a
    fresh exporter writes, whatever was exported before it."""
    import stratlab.report._export as export

    first = normalise_notebook(_notebook(["scatter"]))
    second = normalise_notebook(_notebook(["bar"]))
    second.cells.append(nbformat.v4.new_markdown_cell("## Second <i>page</i>"))
    second.cells.append(nbformat.v4.new_code_cell("x = 1  # shown with show_code"))
    jobs = [(first, "one", False), (second, "two", True), (second, "three", False)]

    def fresh(nb: Any, title: str, show_code: bool) -> str:
        export._EXPORTERS.__dict__.clear()
        return export.notebook_to_html(nb, title=title, show_code=show_code)

    expected = [fresh(*job) for job in jobs]
    export._EXPORTERS.__dict__.clear()
    reused = [export.notebook_to_html(nb, title=t, show_code=c) for nb, t, c in jobs]
    assert reused == expected
    assert "shown with show_code" in expected[1]
    assert "shown with show_code" not in expected[2]
    assert "<title>three</title>" in expected[2]
    assert export._exporter(False) is export._exporter(False)
    assert export._exporter(True) is not export._exporter(False)


def test_export_light_copy_gives_the_same_page(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The export keeps the HTML outputs (and plotly's JSON) out of nbconvert: the same page,
    as a browser reads it (nbconvert's BeautifulSoup pass re-spells the outputs' markup)."""
    from bs4 import BeautifulSoup

    import stratlab.report._export as export

    nb = normalise_notebook(_notebook(["scatter"]))
    nb.cells.append(nbformat.v4.new_markdown_cell("## Heading <b>x</b>"))
    stream = nbformat.v4.new_output("stream", name="stdout", text="printed\n")
    table = nbformat.v4.new_output("display_data", data={"text/html": "<p>a<br>b&nbsp;c</p>"})
    nb.cells.append(nbformat.v4.new_code_cell("print('printed')", outputs=[stream, table]))
    light = export.notebook_to_html(nb, title="t")
    monkeypatch.setattr(export, "_for_export", lambda nb: (nb, {}))
    plain = export.notebook_to_html(nb, title="t")
    assert str(BeautifulSoup(light, features="html.parser")) == plain
    assert "<p>a<br>b&nbsp;c</p>" in light  # an output as the kernel wrote it
    assert "<p>a<br/>b\xa0c</p>" in plain  # as BeautifulSoup re-spells it
    assert light.count(cartesian_bundle()[:3000]) == 1
    assert "stratlab-output-" not in light
    assert 'data-mime-type="text/html" tabindex="0"' in light  # nbconvert's own changes kept
    # the notebook itself is not changed
    assert PLOTLY_MIME in nb.cells[0].outputs[1].data
