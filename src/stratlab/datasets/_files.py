"""The bundled example files: paths, loading, and copies for ``stratlab example DIR``."""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from stratlab.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from stratlab.model import Model

__all__ = [
    "HISTORY_FILE",
    "MODEL_FILE",
    "ExamplePaths",
    "example_paths",
    "load_example",
    "write_example",
]

#: File names of the bundled example (in ``stratlab/datasets/data/``).
MODEL_FILE = "northwind.yaml"
HISTORY_FILE = "northwind_history.csv"

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


class ExamplePaths(NamedTuple):
    """Where the bundled example files are: ``model, history = example_paths()``."""

    model: Path
    history: Path


def _resource(name: str) -> Path:
    res = resources.files("stratlab.datasets").joinpath("data").joinpath(name)
    if isinstance(res, Path):
        return res
    # installed in a zip: extract once, kept until the interpreter exits
    return _extracted.enter_context(resources.as_file(res))


def example_paths() -> ExamplePaths:
    """Paths of the bundled Northwind Coffee model and KPI history.

    Returns
    -------
    ExamplePaths
        Named tuple ``(model, history)``: ``northwind.yaml`` and
        ``northwind_history.csv`` (wide: a ``period`` column, then one column
        per measure and key-result id).
    """
    return ExamplePaths(_resource(MODEL_FILE), _resource(HISTORY_FILE))


def load_example() -> tuple[Model, pd.DataFrame]:
    """The bundled example organisation, Northwind Coffee, ready to analyse.

    Returns
    -------
    model : Model
        ``northwind.yaml`` loaded with :func:`stratlab.load_model`.
    history : pandas.DataFrame
        ``northwind_history.csv`` loaded with :func:`stratlab.load_history`:
        60 months (2021-01 to 2025-12), index a monthly ``PeriodIndex`` named
        ``period``, one float column per measure and key-result id.  It equals
        ``generate_history(seed=0)``.
    """
    from stratlab.io import load_history, load_model

    paths = example_paths()
    model = load_model(paths.model)
    history = load_history(paths.history, model)
    return model, history


def write_example(
    directory: str | Path, *, overwrite: bool = False, excel: bool = False
) -> list[Path]:
    """Copy the example model and history into ``directory`` to start from.

    Parameters
    ----------
    directory : path
        Created (with its parents) if missing.
    overwrite : bool
        Replace files of the same names; by default an existing file is an
        error and nothing is written.
    excel : bool
        Also write the same model and history as Excel workbooks
        (``northwind.xlsx``: one sheet per section, the layout of
        ``docs/EXCEL.md``; ``northwind_history.xlsx``: one ``history`` sheet
        with month-end dates and %-formatted cells for the ``%`` measures).

    Returns
    -------
    list of Path
        ``[directory/northwind.yaml, directory/northwind_history.csv]``, then
        with ``excel`` ``directory/northwind.xlsx, directory/northwind_history.xlsx``.

    Raises
    ------
    InputError
        ``directory`` is a file, or (without ``overwrite``) one of the files
        exists already.  Nothing is written in that case.
    """
    from stratlab.io import atomic_path

    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise InputError(
            Problem(
                f"{str(folder)!r} is a file, not a folder.",
                fix="give the folder to write the example files into.",
                file=str(folder),
            )
        )
    sources = example_paths()
    targets = [folder / MODEL_FILE, folder / HISTORY_FILE]
    if excel:
        targets += [folder / "northwind.xlsx", folder / "northwind_history.xlsx"]
    if not overwrite:
        existing = [t for t in targets if t.exists()]
        if existing:
            raise InputError(
                [
                    Problem(
                        f"{str(t)!r} exists already; the example would overwrite it.",
                        fix="choose another folder, delete the file, or pass overwrite=True "
                        "(on the command line: --force).",
                        file=str(t),
                    )
                    for t in existing
                ]
            )
    folder.mkdir(parents=True, exist_ok=True)
    for src, dst in zip(sources, targets[:2], strict=True):
        with atomic_path(dst) as tmp:
            tmp.write_bytes(src.read_bytes())
    if excel:
        from stratlab.io import save_model

        model, history = load_example()
        save_model(model, targets[2])
        with atomic_path(targets[3]) as tmp:
            _write_history_workbook(model, history, tmp)
    return targets


def _write_history_workbook(model: Model, history: pd.DataFrame, path: Path) -> None:
    """The history as a spreadsheet holds it: month-end dates, % cells as fractions shown as %."""
    import math

    import openpyxl

    units = {m.id: m.unit for m in model.measures}
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "history"
    ws.append(["period", *history.columns])
    for period, row in history.iterrows():
        ws.append(
            [period.end_time.to_pydatetime().replace(hour=0, minute=0, second=0, microsecond=0)]
        )
        r = ws.max_row
        ws.cell(r, 1).number_format = "yyyy-mm-dd"
        for c, (col, value) in enumerate(row.items(), start=2):
            if value is None or math.isnan(value):
                continue
            cell = ws.cell(r, c)
            if units.get(str(col)) == "%":
                cell.value = round(float(value) / 100, 6)
                cell.number_format = "0.0%"
            else:
                cell.value = float(value)
    wb.save(path)
