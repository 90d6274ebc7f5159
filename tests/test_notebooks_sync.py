"""The tutorials are jupytext percent scripts (linted by ruff) paired with committed .ipynb files.

``make notebooks`` regenerates the .ipynb from the scripts; this test fails when
the two differ, or when a notebook was committed with outputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SCRIPTS = sorted(NOTEBOOKS.glob("[0-9]*.py"))


def test_every_notebook_has_a_script() -> None:
    assert SCRIPTS, "no tutorial scripts found"
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == {p.stem for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_notebook_matches_its_script(script: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    import nbformat

    from_script = jupytext.read(script)
    committed = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    cells = [(c.cell_type, c.source) for c in from_script.cells]
    assert [(c.cell_type, c.source) for c in committed.cells] == cells, (
        f"{script.with_suffix('.ipynb').name} is out of date: run `make notebooks`"
    )
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{script.with_suffix('.ipynb').name} was committed with outputs"
            )
