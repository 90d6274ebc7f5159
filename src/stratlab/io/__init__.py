"""Reading and writing: model files (YAML, JSON, Excel) and KPI histories (CSV, Excel, Parquet, databases, DataFrame).

Readers report every problem with its location: the line of a YAML/JSON file
(found by composing the YAML node tree, which never constructs objects), or the
sheet, row and column of a workbook or CSV.  Writers are atomic: they write a
temporary file beside the target and move it into place.

Data flows one way: :mod:`._model_files` reads a file into plain data and hands
it to :func:`stratlab.model.build_model` (the model knows nothing of files);
:mod:`._history` brings a history onto one period grid (:mod:`._sources` reads
databases and Parquet files for it); :mod:`._atomic` is the
one writer every output goes through.
"""

from __future__ import annotations

from ._atomic import atomic_path, atomic_write
from ._history import HISTORY_SUFFIXES, history_from_frame, load_history
from ._model_files import (
    EXCEL_SHEETS,
    MODEL_SUFFIXES,
    load_model,
    read_model_file,
    save_model,
    write_model_file,
)
from ._sources import DatabaseSource, is_source, is_url, mask_url

__all__ = [
    "EXCEL_SHEETS",
    "HISTORY_SUFFIXES",
    "MODEL_SUFFIXES",
    "DatabaseSource",
    "atomic_path",
    "atomic_write",
    "history_from_frame",
    "is_source",
    "is_url",
    "load_history",
    "load_model",
    "mask_url",
    "read_model_file",
    "save_model",
    "write_model_file",
]
