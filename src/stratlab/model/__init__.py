"""The validated, immutable strategy model.

A :class:`Model` is built from a mapping (read from YAML, JSON or Excel by
:mod:`stratlab.io`) by :func:`build_model`, which checks everything at once and
raises a single :class:`~stratlab.errors.ModelError` listing every problem with
its location.  Models are frozen: a scenario is a new model (:meth:`Model.replace`),
never a mutation.  This package knows nothing of files: reading and writing
model files is :mod:`stratlab.io` (:func:`stratlab.load_model`,
:func:`stratlab.save_model`).

Modules: :mod:`._types` (the frozen dataclasses and :func:`to_dict`),
:mod:`._schema` (the field registry that drives validation, writing and the
JSON Schema), :mod:`._check` (problem locations and the checker),
:mod:`._build` (:func:`build_model`).
"""

from __future__ import annotations

from ._build import build_model, data_get
from ._check import Locator, path_str
from ._schema import FORMAT_VERSION, SECTIONS, SLUG, THRESHOLD_KEYS, TOP, FieldSpec, model_schema
from ._types import (
    DEFAULT_PERSPECTIVES,
    OKR,
    Benchmark,
    Initiative,
    KeyResult,
    Link,
    Measure,
    Model,
    NodeKind,
    Objective,
    Perspective,
    Thresholds,
    to_dict,
)

__all__ = [
    "DEFAULT_PERSPECTIVES",
    "FORMAT_VERSION",
    "OKR",
    "SECTIONS",
    "SLUG",
    "THRESHOLD_KEYS",
    "TOP",
    "Benchmark",
    "FieldSpec",
    "Initiative",
    "KeyResult",
    "Link",
    "Locator",
    "Measure",
    "Model",
    "NodeKind",
    "Objective",
    "Perspective",
    "Thresholds",
    "build_model",
    "data_get",
    "model_schema",
    "path_str",
    "to_dict",
]
