"""Which plotly.js a page gets: the vendored cartesian partial bundle, or the full one.

plotly.py's notebook renderer embeds its full plotly.js (~4.8 MB) once per
notebook.  Reviews and the explorers only draw cartesian traces, so the
exported review swaps that text for the vendored
``plotly.js-cartesian-dist-min`` bundle of the same version (~1.5 MB;
``vendor/README.md`` says where it comes from), and the explorers' live
figures load it in the browser once per page.  A figure with a trace type the
partial bundle lacks gets the full one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any, Literal

__all__ = [
    "CARTESIAN_TRACES",
    "PLOTLYJS_ENV",
    "PLOTLYJS_PLACEHOLDER",
    "PlotlyBundle",
    "bundle_version",
    "cartesian_bundle",
    "choose_bundle",
    "plotly_script",
    "trace_types",
]

PlotlyBundle = Literal["cartesian", "full"]

#: Trace types in ``plotly.js-cartesian-dist-min`` (its README lists them).
CARTESIAN_TRACES = frozenset(
    {
        "bar",
        "box",
        "contour",
        "heatmap",
        "histogram",
        "histogram2d",
        "histogram2dcontour",
        "image",
        "pie",
        "scatter",
        "scatterternary",
        "violin",
    }
)

_VENDOR_FILE = "plotly-cartesian.min.js"
_VERSION = re.compile(r"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+\S*)")
PLOTLY_MIME = "application/vnd.plotly.v1+json"

#: In a kernel started by run_review (this environment variable set to
#: ``placeholder``), setup_notebook makes plotly's notebook renderer embed this
#: comment instead of plotly.js: the kernel does not read and send 4.8 MB that
#: the page replaces anyway; normalise_notebook puts the chosen bundle in its place.
PLOTLYJS_ENV = "STRATLAB_REVIEW_PLOTLYJS"
PLOTLYJS_PLACEHOLDER = "/*stratlab: plotly.js is put here by run_review*/"


@functools.cache
def cartesian_bundle() -> str:
    """The vendored cartesian partial bundle (minified JavaScript)."""
    folder = resources.files("stratlab.plots").joinpath("vendor")
    return folder.joinpath(_VENDOR_FILE).read_text(encoding="utf-8")


def plotly_script(bundle: PlotlyBundle) -> str:
    """The minified plotly.js of ``bundle``: the vendored partial one or plotly.py's full one."""
    if bundle == "cartesian":
        return cartesian_bundle()
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def bundle_version(script: str) -> str | None:
    """The version in a plotly.js bundle's banner (``'4.1.1'``), or None."""
    match = _VERSION.search(script[:400])
    return match.group(1) if match else None


def trace_types(nb: Any) -> set[str]:
    """Trace types of every plotly figure output of a notebook (default ``scatter``)."""
    found: set[str] = set()
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            fig = (output.get("data") or {}).get(PLOTLY_MIME)
            if not isinstance(fig, dict):
                continue
            for trace in fig.get("data") or []:
                found.add(str(trace.get("type") or "scatter"))
    return found


def choose_bundle(wanted: PlotlyBundle, types: Iterable[str]) -> PlotlyBundle:
    """``'cartesian'`` when asked for and every trace type is in it, else ``'full'``."""
    if wanted == "full":
        return "full"
    return "cartesian" if set(types) <= CARTESIAN_TRACES else "full"
