"""Developer tool: regenerate the bundled history, ``python -m stratlab.datasets``.

Run it after changing the generator; ``tests/test_datasets.py`` checks that the
committed ``northwind_history.csv`` equals ``generate_history(seed=0)``.
"""

from __future__ import annotations

from importlib import resources

from stratlab.datasets._northwind import _write_csv, generate_history

if __name__ == "__main__":
    target = resources.files("stratlab.datasets").joinpath("data").joinpath("northwind_history.csv")
    _write_csv(generate_history(seed=0), str(target))
    print(f"wrote {target}")
