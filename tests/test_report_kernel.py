"""The review kernel's set-up: plotly's renderers without importing nbformat (and jsonschema).

Each check runs in a fresh interpreter (this test process has nbformat imported already).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from stratlab.report._kernel import DeferredModule


def run_fresh(code: str) -> Any:
    """Run ``code`` in a new interpreter; it prints one JSON object last."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_setup_notebook_shows_figures_without_importing_nbformat() -> None:
    out = run_fresh(
        """
        import json, sys
        from importlib.metadata import version
        from stratlab.report import setup_notebook
        setup_notebook()
        after_setup = sorted(m for m in ("nbformat", "jsonschema") if m in sys.modules)
        import plotly.graph_objects as go
        import plotly.io as pio
        import plotly.io._renderers as renderers
        fig = go.Figure(go.Bar(x=["a"], y=[1]))
        bundle = pio.renderers._build_mime_bundle(fig.to_dict())  # what show() displays
        # what pio.show() reads for every figure shown in a notebook
        seen = renderers.nbformat.__version__
        after_show = sorted(m for m in ("nbformat", "jsonschema") if m in sys.modules)
        print(json.dumps({
            "default": pio.renderers.default,
            "after_setup": after_setup,
            "mimetypes": sorted(bundle),
            "version": seen == version("nbformat"),
            "after_show": after_show,
        }))
        """
    )
    assert out == {
        "default": "plotly_mimetype+notebook",
        "after_setup": [],
        "mimetypes": ["application/vnd.plotly.v1+json", "text/html"],
        "version": True,
        "after_show": [],
    }


def test_the_stand_in_loads_the_real_nbformat_on_first_use() -> None:
    out = run_fresh(
        """
        import json, sys
        from stratlab.report import setup_notebook
        setup_notebook()
        import plotly.io._renderers as renderers
        stand_in = renderers.nbformat
        node = stand_in.from_dict({"a": 1})  # anything but __version__ imports nbformat
        import nbformat
        print(json.dumps({
            "stand_in_kept": type(stand_in).__name__,
            "real_in_sys_modules": sys.modules["nbformat"] is nbformat
            and type(nbformat).__name__ == "module",
            "works": node.a == 1 and nbformat.v4.new_notebook().nbformat == 4,
        }))
        """
    )
    assert out == {"stand_in_kept": "DeferredModule", "real_in_sys_modules": True, "works": True}


def test_deferred_module_imports_on_attribute_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "json")
    stand_in = DeferredModule("json")
    monkeypatch.setitem(sys.modules, "json", stand_in)
    dumps = stand_in.dumps  # the real import happens here
    assert dumps([1]) == "[1]"
    assert sys.modules["json"] is not stand_in
    assert type(sys.modules["json"]).__name__ == "module"


@pytest.mark.parametrize("in_review", [True, False])
def test_a_review_kernel_embeds_a_placeholder_for_plotlyjs(in_review: bool) -> None:
    """Under run_review (its environment variable set) the notebook renderer embeds a
    placeholder, not 4.8 MB of plotly.js; in any other kernel, plotly.js itself."""
    from plotly.offline import get_plotlyjs

    from stratlab.plots.plotlyjs import PLOTLYJS_ENV, PLOTLYJS_PLACEHOLDER

    env = f"import os; os.environ[{PLOTLYJS_ENV!r}] = 'placeholder'\n" if in_review else ""
    out = run_fresh(
        env
        + """
import json
from IPython.core.interactiveshell import InteractiveShell
from stratlab.report import setup_notebook
shell = InteractiveShell.instance()
shown = []
shell.display_pub.publish = lambda data, **kw: shown.append(data)
setup_notebook()
import plotly.graph_objects as go
go.Figure(go.Bar(x=["a"], y=[1]))._ipython_display_()
print(json.dumps([d.get("text/html", "") for d in shown]))
"""
    )
    init = out[0]
    assert isinstance(init, str)
    if in_review:
        assert PLOTLYJS_PLACEHOLDER in init and len(init) < 10_000
    else:
        assert PLOTLYJS_PLACEHOLDER not in init and get_plotlyjs()[:2000] in init


@pytest.mark.parametrize("collecting", [True, False])
def test_setup_notebook_imports_the_review_libraries_frozen(collecting: bool) -> None:
    """The libraries every review uses are imported by setup_notebook, then frozen out of
    the garbage collector's later passes; the collector is left on (or off) as found."""
    out = run_fresh(
        f"""
        import gc, json, sys
        from stratlab.report._kernel import REVIEW_IMPORTS
        if not {collecting}:
            gc.disable()
        before = gc.get_freeze_count()
        from stratlab.report import setup_notebook
        setup_notebook()
        print(json.dumps({{
            "imported": [m for m in REVIEW_IMPORTS if m not in sys.modules],
            "frozen": gc.get_freeze_count() - before,
            "objects_left": len(gc.get_objects()),
            "enabled": gc.isenabled(),
        }}))
        """
    )
    assert out["imported"] == []
    assert out["frozen"] > 100_000  # pandas, scipy and plotly alone make that many
    assert out["objects_left"] < 1_000
    assert out["enabled"] is collecting


@pytest.mark.parametrize("chosen", [None, "seaborn"])
def test_setup_notebook_makes_stratlabs_template_the_default(chosen: str | None) -> None:
    """A figure a template makes looks like stratlab's charts (plotly_white, cut to 2-D),
    and plotly's own default template is never built; a default the notebook chose stays."""
    out = run_fresh(
        f"""
        import json
        import plotly.io as pio
        if {chosen!r} is not None:
            pio.templates.default = {chosen!r}
        from stratlab.report import setup_notebook
        setup_notebook()
        import plotly.graph_objects as go
        from stratlab.plots._common import white_template
        fig = go.Figure(go.Bar(x=["a"], y=[1]))
        print(json.dumps({{
            "default": pio.templates.default,
            "white": json.loads(fig.to_json())["layout"]["template"]
            == json.loads(json.dumps(white_template())),
            "plotly_built": isinstance(pio.templates._templates["plotly"], go.layout.Template),
        }}))
        """
    )
    if chosen is None:
        assert out == {"default": "stratlab_white", "white": True, "plotly_built": False}
    else:
        assert out["default"] == chosen and out["white"] is False
