"""Type aliases for what stratlab's functions accept.

``ModelLike``: a :class:`~stratlab.model.Model`, the path of a model file
(YAML, JSON or Excel) or a mapping in the file format.  ``HistoryLike``: a
history DataFrame (long or wide), the path of a CSV, Excel or Parquet history,
a database URL or a :class:`~stratlab.io.DatabaseSource` (a table or query).
Every public function that takes a model or a history accepts these and
converts them once (:func:`stratlab.load_model`, :func:`stratlab.load_history`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import pandas as pd

    from .io import DatabaseSource
    from .model import Model

__all__ = ["HistoryLike", "ModelLike"]

ModelLike = Union["Model", str, "os.PathLike[str]", Mapping[str, Any]]
HistoryLike = Union["pd.DataFrame", str, "os.PathLike[str]", "DatabaseSource"]
