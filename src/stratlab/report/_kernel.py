"""Kernel-side set-up of a review: the libraries imported up front, out of the collector's way,
and plotly's renderers imported without nbformat.

A review kernel imports about a thousand modules (numpy, pandas, scipy, plotly)
in its first cells.  Python's cyclic garbage collector runs every few hundred
allocations and, as the heap grows, walks every object those imports made:
0.3-0.4 s of a review.  :func:`setup_notebook` runs
:func:`import_review_libraries` inside :func:`frozen_heap`: the collector is
paused while they import, then everything imported so far moves to the
permanent generation (:func:`gc.freeze`), which later collections never walk;
it collects as usual afterwards.

plotly.io's renderer module imports ``nbformat`` when it is first imported,
only to read ``nbformat.__version__`` in :func:`plotly.io.show` (called for
every figure a notebook displays).  Importing nbformat imports jsonschema,
whose format checkers, where ``rfc3987-syntax`` is installed
(jupyter_events pulls it in), compile about forty Earley grammars at import:
1.5-3 s of every review kernel, for a module the review never uses.
:func:`import_plotly_renderers` imports the renderers with a stand-in for
nbformat that knows its version (from the installed distribution's
metadata) and loads the real module on the first read of anything else;
``sys.modules`` holds the real nbformat, or nothing, afterwards.
"""

from __future__ import annotations

import gc
import importlib
import sys
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "REVIEW_IMPORTS",
    "DeferredModule",
    "frozen_heap",
    "import_plotly_renderers",
    "import_review_libraries",
]

#: what every shipped review template imports: numpy, pandas and scipy.sparse (the engine),
#: plotly's figures and stratlab's readers, scoring, tables and charts
REVIEW_IMPORTS = (
    "numpy",
    "pandas",
    "scipy.sparse",
    "plotly.graph_objects",
    "stratlab.io",
    "stratlab.scoring",
    "stratlab.render",
    "stratlab.plots",
)


def import_review_libraries(modules: Iterable[str] = REVIEW_IMPORTS) -> None:
    """Import plotly's renderers (without nbformat) and ``modules``."""
    import_plotly_renderers()
    for name in modules:
        importlib.import_module(name)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused, then freeze the heap.

    Everything alive after the block (modules imported in it, their classes
    and tables) moves to the permanent generation (:func:`gc.freeze`), which
    later collections skip.  The collector is left as it was found (enabled,
    unless it was disabled).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


class DeferredModule(types.ModuleType):
    """A module whose real import waits for the first attribute read.

    Unlike :class:`importlib.util.LazyLoader`, looking it up in
    ``sys.modules`` (``import_module`` reads ``__spec__``) does not load it.
    """

    def __getattr__(self, attr: str) -> Any:
        # only called for attributes a plain module object lacks
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        return getattr(real, attr)


def import_plotly_renderers() -> None:
    """Import ``plotly.io._renderers`` without importing nbformat (see the module docstring).

    Does nothing if the renderers or nbformat are already imported.
    """
    if "plotly.io._renderers" in sys.modules or "nbformat" in sys.modules:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        known = version("nbformat")
    except PackageNotFoundError:  # not installed: plotly finds no nbformat, as it would
        known = None
    if known is None:
        importlib.import_module("plotly.io._renderers")
        return
    stand_in = DeferredModule("nbformat")
    setattr(stand_in, "__version__", known)  # noqa: B010 (a module attribute mypy does not know)
    sys.modules["nbformat"] = stand_in
    try:
        importlib.import_module("plotly.io._renderers")
    finally:
        if sys.modules.get("nbformat") is stand_in:
            del sys.modules["nbformat"]
