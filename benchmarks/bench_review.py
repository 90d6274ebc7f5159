"""Benchmark the review: the bundled example's quarterly review end to end.

Baselines measured in the same run:

1. the floor: papermill running an EMPTY notebook (kernel start, one empty
   cell) plus nbconvert's stock HTMLExporter on it: the cost of the stack
   itself, which no review can go below;
2. plotly.js alone (the minified bundle embedded in every review).

After a warm-up of each, the review and the floor run ``RUNS`` times,
interleaved (floor, review, floor, review, ...), so that a busy machine slows
both alike.  Each review is compared with the median floor and with the mean
of the floors measured just before and after it.

Targets: review time <= 4x the floor in at least 4 of 5 runs; review HTML
size <= 1.3x plotly.js.  Also times ``stratlab demo`` (run_demo: validate,
score, check links, calibrate, simulate, review) against the same floor, for
information (``--no-demo`` skips it).
Run: ``.venv/bin/python benchmarks/bench_review.py [--runs 5] [--no-demo]``
(not part of the tests).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET = 4.0


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed reviews (default 5)")
    parser.add_argument("--no-demo", action="store_true", help="skip timing stratlab demo")
    args = parser.parse_args()

    import compileall

    from plotly.offline import get_plotlyjs

    import stratlab
    from stratlab.datasets import write_example
    from stratlab.demo import run_demo
    from stratlab.report import run_review

    # the kernel imports stratlab from bytecode, as from an installed wheel (an editable
    # install under PYTHONDONTWRITEBYTECODE=1 would compile every module in every kernel)
    compileall.compile_dir(Path(stratlab.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="bench-review-") as scratch:
        folder = Path(scratch)
        model, history = write_example(folder / "example")
        output = folder / "review.html"

        def review() -> None:
            run_review(model, history, output, progress=False)

        floor(folder)  # warm-up: imports, kernel spec lookup, disk cache
        review()
        floors = [timed(lambda: floor(folder))]
        reviews = []
        for _ in range(args.runs):
            reviews.append(timed(review))
            floors.append(timed(lambda: floor(folder)))
        size = output.stat().st_size
        t_demo = None if args.no_demo else timed(lambda: run_demo(folder / "demo"))

    median = statistics.median(floors)
    print(
        f"floor (papermill empty notebook + nbconvert): median {median:5.2f} s  "
        f"({', '.join(f'{t:.2f}' for t in floors)})"
    )
    # a stock papermill run sometimes waits ~3 s for its kernel to shut down; with such runs
    # among the floors, the fastest floor is the stricter baseline and is shown too
    fastest = min(floors)
    within = 0
    for i, t in enumerate(reviews):
        adjacent = (floors[i] + floors[i + 1]) / 2
        ratio, ratio_adj = t / median, t / adjacent
        within += ratio <= TARGET
        print(
            f"review run {i + 1}: {t:6.2f} s  ratio {ratio:4.2f}x vs median floor, "
            f"{ratio_adj:4.2f}x vs adjacent floors ({adjacent:.2f} s)"
        )
    print(
        f"quarterly review of the example: {within} of {len(reviews)} within {TARGET:g}x "
        f"the median floor (target: at least 4 of 5); median "
        f"{statistics.median(reviews) / median:4.2f}x; against the fastest floor "
        f"({fastest:.2f} s): {sum(t / fastest <= TARGET for t in reviews)} of {len(reviews)} "
        f"within, median {statistics.median(reviews) / fastest:4.2f}x"
    )
    if t_demo is not None:
        print(
            f"stratlab demo end to end: {t_demo:6.2f} s  ratio {t_demo / median:4.2f}x  (for information)"
        )
    plotly_js = len(get_plotlyjs().encode("utf-8"))
    print(
        f"review HTML: {size / 1e6:5.2f} MB; plotly.js alone {plotly_js / 1e6:5.2f} MB; "
        f"ratio {size / plotly_js:4.2f}x  (target <= 1.3x)"
    )


if __name__ == "__main__":
    main()
