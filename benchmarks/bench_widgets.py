"""Benchmark the what-if explorer: one control change → result and figure updated in Python.

Each repeat moves one measure control (alternating between two values, so
every change is real) and times the whole observer path: the what-if
(``stratlab.whatif``), the status column, the recoloured strategy map
(``FigureWidget.batch_update``) and the before/after HTML table.  Rendering in
the browser is not included (it happens in the front end, off the kernel).

Targets: median < 30 ms on the bundled example (with its 60-month history) and
< 150 ms on a generated 500-objective map.  A baseline measured in the same
run is printed beside each: one bare ``stratlab.whatif(...)`` on the same
change, so the explorer's overhead (figure + table) is visible.

Run: ``.venv/bin/python benchmarks/bench_widgets.py`` (not part of the tests).
"""

from __future__ import annotations

import statistics
import time
import warnings
from typing import Any

from stratlab.datasets import load_example, make_cascade
from stratlab.io import load_model
from stratlab.propagation import whatif
from stratlab.widgets import whatif_explorer

REPEATS = 31


def time_changes(explorer: Any, control: str, values: tuple[float, float]) -> list[float]:
    ctl = explorer.controls[control]
    times = []
    for i in range(REPEATS):
        t0 = time.perf_counter()
        ctl.value = values[i % 2]
        times.append(time.perf_counter() - t0)
    return times


def time_bare(model: Any, history: Any, control: str, values: tuple[float, float]) -> list[float]:
    times = []
    for i in range(REPEATS):
        t0 = time.perf_counter()
        whatif(model, {control: values[i % 2]}, history, horizon=0).long_run  # noqa: B018
        times.append(time.perf_counter() - t0)
    return times


def run(label: str, model: Any, history: Any, target_ms: float) -> bool:
    t0 = time.perf_counter()
    explorer = whatif_explorer(model, history)
    build = time.perf_counter() - t0
    measure = model.measures[0]
    ctl = explorer.controls[measure.id]
    lo, hi = ctl.min, ctl.max
    values = (lo + 0.3 * (hi - lo), lo + 0.7 * (hi - lo))
    times = time_changes(explorer, measure.id, values)
    bare = time_bare(model, explorer._engine.history, measure.id, values)
    assert explorer.result["score_delta"].abs().max() > 0, "the change moved nothing"
    med = statistics.median(times) * 1e3
    med_bare = statistics.median(bare) * 1e3
    print(
        f"{label}: {len(model.objectives)} objectives, {len(model.measures)} measures, "
        f"{len(explorer.controls)} controls, {len(explorer.figure.data)} traces; build {build:.2f} s"
    )
    print(
        f"  control change -> result + figure + table: median {med:.1f} ms "
        f"(p90 {sorted(times)[int(0.9 * len(times))] * 1e3:.1f} ms) over {REPEATS} changes"
    )
    print(
        f"  baseline, bare whatif().long_run: median {med_bare:.1f} ms (explorer overhead x{med / med_bare:.1f})"
    )
    ok = med < target_ms
    print(
        f"  target < {target_ms:.0f} ms: ratio {med / target_ms:.2f} -> {'OK' if ok else 'MISSED'}"
    )
    return ok


def main() -> None:
    warnings.simplefilter("ignore")  # feedback-loop stability warnings of the generated map
    model, history = load_example()
    ok1 = run("example (Northwind, with history)", model, history, 30.0)
    big = load_model(
        make_cascade(
            n_objectives=500,
            n_measures=1000,
            n_key_results=200,
            n_links=1500,
            n_driver_links=50,
            n_initiatives=5,
            seed=0,
        )
    )
    ok2 = run("500-objective map (make_cascade)", big, None, 150.0)
    print("ALL OK" if ok1 and ok2 else "SOME TARGETS MISSED")


if __name__ == "__main__":
    main()
