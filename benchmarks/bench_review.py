"""Benchmark the review: the bundled example's quarterly review end to end.

Baselines measured in the same run:

1. the floor: papermill running an EMPTY notebook (kernel start, one empty
   cell) plus nbconvert's stock HTMLExporter on it: the cost of the stack
   itself, which no review can go below;
2. plotly.js alone (the minified bundle embedded in every review).

Targets: review time <= 4x the floor; review HTML size <= 1.3x plotly.js.
Also times ``stratlab demo`` (run_demo: validate, score, check links,
calibrate, simulate, review) against the same floor, for information.
Run: ``.venv/bin/python benchmarks/bench_review.py`` (not part of the tests).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def floor(folder: Path) -> None:
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    empty = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    empty.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    src, out = folder / "empty.ipynb", folder / "empty.out.ipynb"
    nbformat.write(empty, src)
    pm.execute_notebook(
        str(src), str(out), kernel_name="python3", progress_bar=False, cwd=str(folder)
    )
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(out, as_version=4))
    (folder / "empty.html").write_text(body, encoding="utf-8")


def main() -> None:
    from plotly.offline import get_plotlyjs

    from stratlab.datasets import write_example
    from stratlab.demo import run_demo
    from stratlab.report import run_review

    with tempfile.TemporaryDirectory(prefix="bench-review-") as scratch:
        folder = Path(scratch)
        model, history = write_example(folder / "example")
        floor(folder)  # warm-up: imports, kernel spec lookup, disk cache
        t_floor = best_of(lambda: floor(folder), 3)
        output = folder / "review.html"
        t_review = best_of(lambda: run_review(model, history, output, progress=False), 2)
        size = output.stat().st_size
        t_demo = best_of(lambda: run_demo(folder / "demo"), 1)

    plotly_js = len(get_plotlyjs().encode("utf-8"))
    print(f"floor (papermill empty notebook + nbconvert): {t_floor:6.2f} s")
    print(
        f"quarterly review of the example:             {t_review:6.2f} s  ratio {t_review / t_floor:4.2f}x  (target <= 4x)"
    )
    print(
        f"stratlab demo end to end:                    {t_demo:6.2f} s  ratio {t_demo / t_floor:4.2f}x  (target <= 4x)"
    )
    print(
        f"review HTML: {size / 1e6:5.2f} MB; plotly.js alone {plotly_js / 1e6:5.2f} MB; ratio {size / plotly_js:4.2f}x  (target <= 1.3x)"
    )


if __name__ == "__main__":
    main()
