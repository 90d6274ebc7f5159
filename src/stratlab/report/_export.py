"""Executed notebook -> one self-contained, deterministic HTML page."""

from __future__ import annotations

import re
import threading
from collections.abc import Collection
from importlib import resources
from typing import Any

from stratlab.plots.plotlyjs import (
    PLOTLY_MIME,
    PLOTLYJS_PLACEHOLDER,
    PlotlyBundle,
    cartesian_bundle,
    choose_bundle,
    trace_types,
)

__all__ = ["normalise_notebook", "notebook_to_html"]

# plotly's notebook renderer names each figure's <div> with a random uuid4.
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
# <script src="http..."></script>: CDN loads (plotly adds MathJax to every figure); a
# review must open offline, so they are dropped.
_REMOTE_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>", re.IGNORECASE
)
# Execution-time metadata that would make two runs differ.
_VOLATILE_CELL_KEYS = ("execution", "papermill", "collapsed", "scrolled")
_VOLATILE_NB_KEYS = ("start_time", "end_time", "duration", "exception", "input_path", "output_path")


def normalise_notebook(
    nb: Any, *, stable_ids: Collection[str] = (), plotly_js: PlotlyBundle = "cartesian"
) -> Any:
    """Make an executed notebook deterministic and self-contained, in place.

    - drops execution timestamps (papermill and nbclient cell metadata,
      papermill's start/end times and paths),
    - renames plotly's random figure ids ``<uuid>`` to ``stratlab-plot-N``
      (numbered in order of appearance),
    - removes ``<script src=...>`` tags that load from the network (the
      MathJax CDN tag plotly adds to every figure); plotly.js itself is
      embedded inline by the ``plotly_mimetype+notebook`` renderer (or, from
      a kernel of run_review, put in place of its placeholder here).

    - gives cells a fixed id where theirs is not one of ``stable_ids`` (the
      template's): papermill names the injected-parameters cell at random.
    - with ``plotly_js='cartesian'`` (the default), swaps the embedded full
      plotly.js for the vendored cartesian partial bundle of the same version
      (about a third of the size), unless a figure draws a trace type that
      bundle lacks; ``'full'`` keeps plotly.py's full bundle.

    Returns the notebook for chaining.
    """
    from plotly.offline import get_plotlyjs

    chosen = choose_bundle(plotly_js, trace_types(nb))
    bundle = cartesian_bundle if chosen == "cartesian" else get_plotlyjs
    full: list[str] = []  # plotly.py's bundle (4.8 MB), read only for a notebook that has it
    meta = nb.get("metadata", {})
    papermill = meta.get("papermill")
    if isinstance(papermill, dict):
        for key in _VOLATILE_NB_KEYS:
            papermill.pop(key, None)
    meta.pop("widgets", None)
    ids: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        uid = match.group(0)
        if uid not in ids:
            ids[uid] = f"stratlab-plot-{len(ids) + 1}"
        return ids[uid]

    for index, cell in enumerate(nb.get("cells", [])):
        if "id" in cell and cell["id"] not in stable_ids:
            tags = cell.get("metadata", {}).get("tags") or []
            cell["id"] = (
                "injected-parameters" if "injected-parameters" in tags else f"added-cell-{index}"
            )
        cell_meta = cell.get("metadata", {})
        for key in _VOLATILE_CELL_KEYS:
            cell_meta.pop(key, None)
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data or "text/html" not in data:
                continue
            html = data["text/html"]
            if isinstance(html, list):
                html = "".join(html)
            if "plotly-graph-div" in html:
                html = _UUID.sub(rename, html)
            html = _REMOTE_SCRIPT.sub("", html)
            if PLOTLYJS_PLACEHOLDER in html:  # a kernel of run_review: no plotly.js sent
                html = html.replace(PLOTLYJS_PLACEHOLDER, bundle())
            elif chosen == "cartesian" and "plotly.js" in html:
                full = full or [get_plotlyjs()]
                if full[0] in html:
                    html = html.replace(full[0], cartesian_bundle())
            data["text/html"] = html
    return nb


def notebook_to_html(nb: Any, *, title: str, show_code: bool = False) -> str:
    """Export an executed notebook to one HTML page (nbconvert's lab template).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed (and normalised) notebook.
    title : str
        The page ``<title>`` (escaped by nbconvert).
    show_code : bool
        Show code cells; by default only their outputs appear.
    """
    exporter = _exporter(show_code)
    slim, stashed = _for_export(nb)
    body, _ = exporter.from_notebook_node(slim, resources={"metadata": {"name": title}})
    # the outputs go back in after the export, in one pass (each key once, in page order)
    return _OUTPUT_KEY.sub(lambda m: stashed.pop(m.group(0), m.group(0)), str(body))


#: per thread, per ``show_code``: one exporter, so its Jinja environment compiles the
#: page templates once per process (a new exporter compiles ten of them: 0.2-0.4 s)
_EXPORTERS = threading.local()
_PAGE_TEMPLATE = "stratlab_review.html.j2"


def _exporter(show_code: bool) -> Any:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    cache: dict[bool, Any] = _EXPORTERS.__dict__.setdefault("by_show_code", {})
    if show_code not in cache:
        page = resources.files("stratlab.report").joinpath("review.html.j2")
        config = Config()
        config.HTMLExporter.template_name = "lab"
        config.HTMLExporter.template_file = _PAGE_TEMPLATE
        config.HTMLExporter.exclude_input = not show_code
        config.HTMLExporter.exclude_input_prompt = True
        config.HTMLExporter.exclude_output_prompt = True
        # the page template is found by name before nbconvert's own (it extends lab's
        # index.html.j2; the package's other templates are not on nbconvert's path)
        loader = DictLoader({_PAGE_TEMPLATE: page.read_text(encoding="utf-8")})
        cache[show_code] = HTMLExporter(config=config, extra_loaders=[loader])
    return cache[show_code]


# nbconvert writes a text/html output into the page as it is (html sanitising is off):
# each one waits outside the export behind a key like this.
_OUTPUT_KEY = re.compile(r"stratlab-output-[0-9]+-[0-9a-f]{16}")


def _for_export(nb: Any) -> tuple[Any, dict[str, str]]:
    """A light copy of ``nb`` for nbconvert, and the HTML outputs taken out of it.

    nbconvert deep-copies the notebook, renders the page, then parses and
    re-writes all of it with BeautifulSoup (to add alt text to images and
    make cells focusable).  A review's text/html outputs (its tables, its
    plotly figures with their JSON, the embedded plotly.js) are most of that
    work, and the page template writes them as they are: each is replaced by
    a unique key here and put back after the export.  The page is the same
    one, as a browser reads it; only BeautifulSoup's re-spelling of the
    outputs' own markup (``<br>`` as ``<br/>``, ``&nbsp;`` as the character)
    is skipped.  The plotly JSON (which the export does not show where
    text/html is present) is dropped.
    """
    import hashlib

    import nbformat

    stashed: dict[str, str] = {}
    cells = []
    for cell in nb.get("cells", []):
        outputs = []
        for output in cell.get("outputs", []) or []:
            data = output.get("data")
            if data and "text/html" in data:
                html = data["text/html"]
                html = "".join(html) if isinstance(html, list) else html
                digest = hashlib.blake2b(html.encode("utf-8"), digest_size=8).hexdigest()
                key = f"stratlab-output-{len(stashed)}-{digest}"
                stashed[key] = html
                data = {k: v for k, v in data.items() if k != PLOTLY_MIME}
                data["text/html"] = key
                output = {**output, "data": data}
            outputs.append(output)
        cells.append({**cell, "outputs": outputs} if "outputs" in cell else dict(cell))
    slim = nbformat.from_dict({**nb, "cells": cells})
    return slim, stashed
