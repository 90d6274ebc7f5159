"""The schema registry: one declarative table drives validation, JSON Schema, defaults and writing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SLUG = re.compile(r"^[a-z0-9_]+$")
FORMAT_VERSION = 1

# --------------------------------------------------------------------------- schema registry
# One declarative table drives validation, JSON Schema, defaults and writing.


@dataclass(frozen=True)
class FieldSpec:
    type: str  # str | slug | number | int | choice | ref | list | mapping | weight | pair | thresholds | refs | uplift | date | targets | benchmark
    required: bool = False
    doc: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    default: Any = None


S = FieldSpec
SECTIONS: dict[str, dict[str, FieldSpec]] = {
    "perspectives": {
        "id": S("slug", True, "Unique id"),
        "name": S("str", True, "Display name"),
        "description": S("str", doc="Optional description"),
    },
    "objectives": {
        "id": S("slug", True, "Unique id"),
        "name": S("str", True, "Display name"),
        "perspective": S("ref", True, "Id of the perspective it belongs to"),
        "weight": S("number", doc="Weight in its perspective's score", minimum=0, default=1.0),
        "description": S("str"),
        "owner": S("str"),
    },
    "measures": {
        "id": S("slug", True, "Unique id"),
        "name": S("str", True, "Display name"),
        "objective": S("ref", True, "Id of the objective it measures"),
        "direction": S(
            "choice",
            doc="Which way is better",
            choices=("higher", "lower", "band"),
            default="higher",
        ),
        "baseline": S("number", doc="Value that scores 0"),
        "target": S("number", doc="Value that scores 1"),
        "current": S("number", doc="Current value; else the latest in the history"),
        "unit": S("str", default=""),
        "weight": S("number", doc="Relative weight inside its objective", minimum=0, default=1.0),
        "band": S("pair", doc="[lo, hi]: scores 1 inside (direction: band)"),
        "tolerance": S(
            "number", doc="Distance outside the band where the score reaches 0", exclusive_minimum=0
        ),
        "cap": S("number", doc="Highest score (above 1 allows stretch)", minimum=1, default=1.0),
        "thresholds": S("thresholds", doc="Status thresholds for this measure"),
        "description": S("str"),
        "owner": S("str"),
        "aggregate": S(
            "choice",
            doc="How finer periods of the history make one review period",
            choices=("last", "mean", "sum", "min", "max"),
            default="last",
        ),
        "targets": S(
            "targets",
            doc="Phased targets {PERIOD: value}: the entry for the period, else the latest earlier one, else 'target'",
        ),
        "max_age": S(
            "int",
            doc="Review periods a value may be carried before it is stale (default: the model's max_age)",
            minimum=0,
        ),
        "benchmark": S("benchmark", doc="Outside reference {value, label}, drawn in reviews"),
    },
    "links": {
        "from": S("ref", True, "Cause: an objective or a measure"),
        "to": S("ref", True, "Effect: an objective or a measure"),
        "weight": S("weight", doc="Objective link strength (negative: inverse); or [lo, hi]"),
        "weight_range": S(
            "pair", doc="[lo, hi] uncertainty range around a point weight (e.g. from calibration)"
        ),
        "coefficient": S("number", doc="Measure driver link: Δeffect = coefficient × Δcause"),
        "lag": S("int", doc="Periods before the cause shows in the effect", minimum=0, default=0),
        "rationale": S("str"),
    },
    "okrs": {
        "id": S("slug", True, "Unique id"),
        "objective": S("str", True, "The OKR's objective statement"),
        "aligns_to": S("ref", True, "A strategy objective or another OKR"),
        "key_results": S("list", True, "Its key results"),
        "weight": S("number", minimum=0, default=1.0),
        "owner": S("str"),
    },
    "key_results": {
        "id": S("slug", True, "Unique id"),
        "name": S("str", True, "Display name"),
        "start": S("number", True, "Value at the start of the period (scores 0)"),
        "target": S("number", True, "Value that scores 1"),
        "current": S("number", doc="Current value"),
        "unit": S("str", default=""),
        "confidence": S("number", doc="Owner's confidence 0–1", minimum=0, maximum=1),
        "weight": S("number", minimum=0, default=1.0),
    },
    "initiatives": {
        "id": S("slug", True, "Unique id"),
        "name": S("str", True, "Display name"),
        "budget": S("number", doc="Cost", minimum=0),
        "supports": S("refs", doc="Ids it supports"),
        "uplift": S("uplift", doc="Expected change per measure / key result if funded"),
        "description": S("str"),
        "owner": S("str"),
    },
}
TOP: dict[str, FieldSpec] = {
    "stratlab": S("int", True, "Format version (1)"),
    "name": S("str", True, "Organisation or unit name"),
    "mission": S("str"),
    "vision": S("str"),
    "period": S(
        "choice",
        doc="The review cadence and the unit of every lag",
        choices=("quarter", "month", "year"),
        default="quarter",
    ),
    "as_of": S("date", doc="The date that is 'now' (fixes the elapsed share of the period)"),
    "max_age": S(
        "int",
        doc="Review periods a value may be carried before it is stale (default 0)",
        minimum=0,
        default=0,
    ),
    "thresholds": S("thresholds", doc="Status thresholds for every node"),
    "perspectives": S("list", doc="Bottom to top; default: the four BSC perspectives"),
    "objectives": S("list", True),
    "measures": S("list"),
    "links": S("list"),
    "okrs": S("list"),
    "initiatives": S("list"),
}
THRESHOLD_KEYS = ("green", "amber")
BENCHMARK_KEYS = ("value", "label")


# --------------------------------------------------------------------------- schema


def model_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the model file, built from the same registry as validation."""

    def prop(spec: FieldSpec, section: str | None = None) -> dict[str, Any]:
        num = {"type": "number"}
        for key, attr in (
            ("minimum", "minimum"),
            ("maximum", "maximum"),
            ("exclusiveMinimum", "exclusive_minimum"),
        ):
            if getattr(spec, attr) is not None:
                num[key] = getattr(spec, attr)
        table: dict[str, dict[str, Any]] = {
            "str": {"type": "string"},
            "ref": {"type": "string", "pattern": SLUG.pattern},
            "slug": {"type": "string", "pattern": SLUG.pattern},
            "number": num,
            "int": {"type": "integer", "minimum": spec.minimum if spec.minimum is not None else 0},
            "choice": {"enum": list(spec.choices)},
            "pair": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            "weight": {
                "oneOf": [
                    {"type": "number"},
                    {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                ]
            },
            "thresholds": {"$ref": "#/$defs/thresholds"},
            "refs": {"type": "array", "items": {"type": "string", "pattern": SLUG.pattern}},
            "uplift": {"type": "object", "additionalProperties": {"type": "number"}},
            "date": {"type": "string", "format": "date"},
            "targets": {
                "type": "object",
                "additionalProperties": {"type": "number"},
                "propertyNames": {"description": "a period: 2025Q3, 2025-07, 2025 or a date"},
            },
            "benchmark": {"$ref": "#/$defs/benchmark"},
        }
        if spec.type == "list":
            out: dict[str, Any] = {"type": "array", "items": {"$ref": f"#/$defs/{section}"}}
        else:
            out = dict(table[spec.type])
        if spec.doc:
            out["description"] = spec.doc
        if spec.default is not None and spec.type != "list":
            out["default"] = spec.default
        return out

    def obj(specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": [k for k, s in specs.items() if s.required],
            "properties": {
                k: prop(s, "key_results" if k == "key_results" else k) for k, s in specs.items()
            },
        }

    defs = {name: obj(specs) for name, specs in SECTIONS.items()}
    defs["thresholds"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {k: {"type": "number", "minimum": 0, "maximum": 1} for k in THRESHOLD_KEYS},
    }
    defs["benchmark"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["value"],
        "properties": {
            "value": {"type": "number", "description": "The reference value"},
            "label": {"type": "string", "description": "What it is, e.g. 'peer median'"},
        },
    }
    schema = obj(TOP)
    schema["properties"]["stratlab"] = {"const": FORMAT_VERSION, "description": "Format version"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "stratlab strategy model",
        **schema,
        "$defs": defs,
    }
