"""The validated, immutable strategy model.

A :class:`Model` is built from a mapping (read from YAML, JSON or Excel by
:mod:`stratlab.io`) by :func:`build_model`, which checks everything at once and
raises a single :class:`~stratlab.errors.ModelError` listing every problem with
its location.  Models are frozen: a scenario is a new model (:meth:`Model.replace`),
never a mutation.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from .errors import ModelError, Problem

__all__ = [
    "DEFAULT_PERSPECTIVES",
    "OKR",
    "Initiative",
    "KeyResult",
    "Link",
    "Measure",
    "Model",
    "Objective",
    "Perspective",
    "Thresholds",
    "build_model",
    "load_model",
    "model_schema",
    "save_model",
]

NodeKind = Literal["perspective", "objective", "measure", "okr", "key_result"]
SLUG = re.compile(r"^[a-z0-9_]+$")
FORMAT_VERSION = 1


# --------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class Thresholds:
    """Status thresholds on a 0–1 score: green ≥ ``green``, amber ≥ ``amber``, red below."""

    green: float = 0.7
    amber: float = 0.4


@dataclass(frozen=True)
class Perspective:
    id: str
    name: str
    description: str | None = None


@dataclass(frozen=True)
class Objective:
    id: str
    name: str
    perspective: str
    weight: float = 1.0
    description: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Measure:
    id: str
    name: str
    objective: str
    direction: Literal["higher", "lower", "band"] = "higher"
    baseline: float | None = None
    target: float | None = None
    current: float | None = None
    unit: str = ""
    weight: float = 1.0
    band: tuple[float, float] | None = None
    tolerance: float | None = None
    cap: float = 1.0
    thresholds: Thresholds | None = None
    description: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Link:
    """A cause → effect link.

    Objective → objective links carry a ``weight`` (negative: inverse link, the
    effect reads ``1 − cause``); measure → measure driver links carry a
    ``coefficient`` in natural units (Δeffect = coefficient × Δcause).
    """

    source: str
    target: str
    weight: float | None = None
    coefficient: float | None = None
    lag: int = 0
    rationale: str | None = None
    weight_range: tuple[float, float] | None = None

    @property
    def kind(self) -> Literal["objective", "driver"]:
        return "driver" if self.coefficient is not None else "objective"


@dataclass(frozen=True)
class KeyResult:
    id: str
    name: str
    okr: str
    start: float
    target: float
    current: float | None = None
    unit: str = ""
    confidence: float | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class OKR:
    id: str
    objective: str
    aligns_to: str
    key_results: tuple[KeyResult, ...]
    weight: float = 1.0
    owner: str | None = None


@dataclass(frozen=True)
class Initiative:
    id: str
    name: str
    budget: float | None = None
    supports: tuple[str, ...] = ()
    uplift: tuple[tuple[str, float], ...] = ()
    description: str | None = None
    owner: str | None = None


DEFAULT_PERSPECTIVES: tuple[Perspective, ...] = (
    Perspective("learning", "Learning & Growth"),
    Perspective("process", "Internal Process"),
    Perspective("customer", "Customer"),
    Perspective("financial", "Financial"),
)


@dataclass(frozen=True)
class Model:
    """A validated strategy map: perspectives, objectives, measures, links, OKRs, initiatives.

    Build one with :func:`load_model`; change one with :meth:`replace` (returns a new model).
    """

    name: str
    objectives: tuple[Objective, ...]
    perspectives: tuple[Perspective, ...] = DEFAULT_PERSPECTIVES
    measures: tuple[Measure, ...] = ()
    links: tuple[Link, ...] = ()
    okrs: tuple[OKR, ...] = ()
    initiatives: tuple[Initiative, ...] = ()
    period: Literal["quarter", "month"] = "quarter"
    mission: str | None = None
    vision: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    stratlab: int = FORMAT_VERSION
    source: str | None = field(default=None, compare=False, repr=False)

    # ----------------------------------------------------------------- lookups
    @cached_property
    def key_results(self) -> tuple[KeyResult, ...]:
        return tuple(kr for okr in self.okrs for kr in okr.key_results)

    @cached_property
    def _index(self) -> dict[str, tuple[NodeKind, Any]]:
        index: dict[str, tuple[NodeKind, Any]] = {}
        groups: list[tuple[NodeKind, Sequence[Any]]] = [
            ("perspective", self.perspectives),
            ("objective", self.objectives),
            ("measure", self.measures),
            ("okr", self.okrs),
            ("key_result", self.key_results),
        ]
        for kind, items in groups:
            for item in items:
                index[item.id] = (kind, item)
        return index

    def kind_of(self, node_id: str) -> NodeKind:
        """The kind of a node id: perspective, objective, measure, okr or key_result."""
        return self._index[node_id][0]

    def get(self, node_id: str) -> Any:
        """The object with this id (any kind); ``KeyError`` if unknown."""
        return self._index[node_id][1]

    @cached_property
    def _perspectives_of(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {p.id: p.id for p in self.perspectives}
        out.update({o.id: o.perspective for o in self.objectives})
        out.update({m.id: out.get(m.objective) for m in self.measures})
        for okr in self.okrs:  # follow the cascade up to a strategy objective
            node, seen = okr.aligns_to, {okr.id}
            while node in self._index and self._index[node][0] == "okr" and node not in seen:
                seen.add(node)
                node = self._index[node][1].aligns_to
            out[okr.id] = (
                out.get(node) if node in out and self._index[node][0] == "objective" else None
            )
        out.update({kr.id: out.get(kr.okr) for kr in self.key_results})
        return out

    def perspective_of(self, node_id: str) -> str | None:
        """The perspective a node sits in (an OKR's: that of the objective its cascade aligns to)."""
        return self._perspectives_of.get(node_id)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._index

    @property
    def ids(self) -> list[str]:
        """Every node id, in file order, perspectives first."""
        return list(self._index)

    @property
    def objective_links(self) -> tuple[Link, ...]:
        return tuple(link for link in self.links if link.kind == "objective")

    @property
    def driver_links(self) -> tuple[Link, ...]:
        return tuple(link for link in self.links if link.kind == "driver")

    def status_thresholds(self, node_id: str) -> Thresholds:
        """Thresholds in force for a node: the measure's own, else the model's."""
        item = self._index.get(node_id, (None, None))[1]
        own = getattr(item, "thresholds", None)
        return own if isinstance(own, Thresholds) else self.thresholds

    # ----------------------------------------------------------------- changes
    def replace(self, **changes: Any) -> Model:
        """A new model with fields replaced (``model.replace(links=...)``), re-validated."""
        new = dataclasses.replace(self, **changes)
        return build_model(to_dict(new), file=self.source)

    def with_values(self, values: Mapping[str, float]) -> Model:
        """A new model whose measures' and key results' ``current`` values are set."""
        unknown = [
            k for k in values if self._index.get(k, ("",))[0] not in ("measure", "key_result")
        ]
        if unknown:
            raise ModelError(
                [
                    Problem(
                        f"{k!r} is not a measure or key result of the model",
                        fix=_suggest(
                            k, [m.id for m in self.measures] + [kr.id for kr in self.key_results]
                        ),
                    )
                    for k in unknown
                ]
            )
        measures = tuple(
            dataclasses.replace(m, current=float(values[m.id])) if m.id in values else m
            for m in self.measures
        )
        okrs = tuple(
            dataclasses.replace(
                o,
                key_results=tuple(
                    dataclasses.replace(kr, current=float(values[kr.id])) if kr.id in values else kr
                    for kr in o.key_results
                ),
            )
            for o in self.okrs
        )
        return dataclasses.replace(self, measures=measures, okrs=okrs)

    def to_dict(self) -> dict[str, Any]:
        """The model as a plain mapping in the file format (round-trips through :func:`build_model`)."""
        return to_dict(self)

    def _repr_html_(self) -> str:
        from .render import model_html

        return model_html(self)


# --------------------------------------------------------------------------- schema registry
# One declarative table drives validation, JSON Schema, defaults and writing.


@dataclass(frozen=True)
class FieldSpec:
    type: str  # str | slug | number | int | choice | ref | list | mapping | weight | pair | thresholds | refs | uplift
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
        "choice", doc="The unit of every lag", choices=("quarter", "month"), default="quarter"
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


# --------------------------------------------------------------------------- locations


Locator = Callable[[tuple[Any, ...]], dict[str, Any]]


def _no_location(path: tuple[Any, ...]) -> dict[str, Any]:
    return {}


def path_str(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _suggest(word: str, options: Sequence[str], what: str = "") -> str | None:
    close = get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    if what and options:
        shown = ", ".join(repr(o) for o in list(options)[:12])
        more = ", …" if len(options) > 12 else ""
        return f"use one of the {what}: {shown}{more}."
    return None


class _Checker:
    """Collects problems while converting the raw mapping into model objects."""

    def __init__(self, file: str | None, locate: Locator):
        self.file = file
        self.locate = locate
        self.problems: list[Problem] = []

    def add(self, path: tuple[Any, ...], message: str, fix: str | None = None) -> None:
        loc = self.locate(path)
        # a missing key is located at its parent
        probe = path
        while not loc and probe:
            probe = probe[:-1]
            loc = self.locate(probe)
        self.problems.append(
            Problem(message, fix=fix, file=self.file, path=path_str(path) or None, **loc)
        )

    # -- scalar checks -------------------------------------------------------
    def number(
        self, value: Any, path: tuple[Any, ...], spec: FieldSpec | None = None
    ) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                try:
                    num = float(value.strip().replace(",", ""))
                except ValueError:
                    self.add(
                        path,
                        f"must be a number, got the text {value!r}.",
                        "write a plain number such as 45 or 0.5.",
                    )
                    return None
                self.add(
                    path,
                    f"must be a number, got the text {value!r} (quoted).",
                    f"remove the quotes: {num:g}.",
                )
                return None
            self.add(
                path,
                f"must be a number, got {_describe(value)}.",
                "write a plain number such as 45 or 0.5.",
            )
            return None
        num = float(value)
        if not math.isfinite(num):
            self.add(
                path,
                f"must be a finite number, got {value}.",
                "write a finite number (not .nan or .inf).",
            )
            return None
        if spec is not None:
            if spec.minimum is not None and num < spec.minimum:
                self.add(path, f"must be at least {spec.minimum:g}, got {num:g}.")
                return None
            if spec.maximum is not None and num > spec.maximum:
                self.add(path, f"must be at most {spec.maximum:g}, got {num:g}.")
                return None
            if spec.exclusive_minimum is not None and num <= spec.exclusive_minimum:
                self.add(path, f"must be greater than {spec.exclusive_minimum:g}, got {num:g}.")
                return None
        return num

    def check(self, value: Any, spec: FieldSpec, path: tuple[Any, ...]) -> Any:
        t = spec.type
        if t in ("str", "ref"):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and t == "str":
                return str(value)
            if t == "str" and isinstance(value, str) and not value.strip() and not spec.required:
                return value  # an empty optional text (e.g. unit: "") is fine
            if not isinstance(value, str) or not value.strip():
                self.add(path, f"must be a non-empty text, got {_describe(value)}.")
                return None
            return value.strip() if t == "ref" else value
        if t == "slug":
            if not isinstance(value, str) or not SLUG.match(value):
                hint = re.sub(r"[^a-z0-9_]+", "_", str(value).lower()).strip("_") or "my_id"
                self.add(
                    path,
                    f"id {value!r} is not a slug (lower-case letters, digits and _ only).",
                    f"use {hint!r}.",
                )
                return None
            return value
        if t == "number":
            return self.number(value, path, spec)
        if t == "int":
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or float(value) != int(value)
            ):
                self.add(path, f"must be a whole number, got {_describe(value)}.")
                return None
            if spec.minimum is not None and value < spec.minimum:
                self.add(
                    path,
                    f"must be {spec.minimum:g} or more, got {value}.",
                    "lags count periods and cannot be negative." if path[-1] == "lag" else None,
                )
                return None
            return int(value)
        if t == "choice":
            if value not in spec.choices:
                self.add(
                    path,
                    f"{value!r} is not one of {', '.join(spec.choices)}.",
                    _suggest(str(value), spec.choices, "choices")
                    or f"use one of {', '.join(spec.choices)}.",
                )
                return None
            return value
        if t == "pair":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                self.add(
                    path,
                    f"must be a pair [lo, hi], got {_describe(value)}.",
                    "write e.g. [60, 80].",
                )
                return None
            lo = self.number(value[0], (*path, 0))
            hi = self.number(value[1], (*path, 1))
            if lo is None or hi is None:
                return None
            if lo > hi:
                self.add(path, f"lo {lo:g} is above hi {hi:g}.", f"write [{hi:g}, {lo:g}].")
                return None
            return (lo, hi)
        if t == "weight":
            if isinstance(value, (list, tuple)):
                pair = self.check(value, S("pair"), path)
                return None if pair is None else ("range", pair)
            return self.number(value, path)
        if t == "thresholds":
            if not isinstance(value, Mapping):
                self.add(
                    path, f"must be a mapping {{green: 0.7, amber: 0.4}}, got {_describe(value)}."
                )
                return None
            for key in value:
                if key not in THRESHOLD_KEYS:
                    self.add(
                        (*path, key),
                        f"unknown key {key!r}.",
                        _suggest(str(key), THRESHOLD_KEYS, "keys"),
                    )
            green = self.number(value.get("green", 0.7), (*path, "green"))
            amber = self.number(value.get("amber", 0.4), (*path, "amber"))
            if green is None or amber is None:
                return None
            if not 0 <= amber <= green:
                self.add(path, f"needs 0 ≤ amber ≤ green, got green {green:g}, amber {amber:g}.")
                return None
            return Thresholds(green, amber)
        if t == "refs":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)):
                self.add(path, f"must be a list of ids, got {_describe(value)}.")
                return None
            out = [self.check(v, S("ref"), (*path, i)) for i, v in enumerate(value)]
            return tuple(v for v in out if v is not None)
        if t == "uplift":
            if not isinstance(value, Mapping):
                self.add(path, f"must be a mapping of id: change, got {_describe(value)}.")
                return None
            pairs = []
            for key, change in value.items():
                num = self.number(change, (*path, key))
                if num is not None:
                    pairs.append((str(key), num))
            return tuple(pairs)
        if t == "list":
            if not isinstance(value, (list, tuple)):
                self.add(
                    path,
                    f"must be a list, got {_describe(value)}.",
                    "write one item per line starting with '- '.",
                )
                return None
            return value
        raise AssertionError(f"unknown field type {t}")  # pragma: no cover - registry bug

    def record(
        self, raw: Any, specs: Mapping[str, FieldSpec], path: tuple[Any, ...], what: str
    ) -> dict[str, Any] | None:
        if not isinstance(raw, Mapping):
            self.add(path, f"each {what} must be a mapping of keys, got {_describe(raw)}.")
            return None
        out: dict[str, Any] = {}
        for key in raw:
            if key not in specs:
                fix = _suggest(str(key), list(specs), "keys")
                if raw[key] is None and " " in str(key).strip():
                    fix = "a text containing ', ' inside {…} splits into keys: put the text in quotes, e.g. name: \"Fast, consistent service\"."
                self.add((*path, key), f"unknown key {key!r} in {what}.", fix)
        for key, spec in specs.items():
            if key not in raw or raw[key] is None:
                if spec.required:
                    self.add(
                        (*path, key),
                        f"{what} is missing required key {key!r}.",
                        f"add '{key}:' ({spec.doc or spec.type}).",
                    )
                continue
            value = self.check(raw[key], spec, (*path, key))
            if value is not None:
                out[key] = value
        return out


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"{type(value).__name__} {value!r}"


# --------------------------------------------------------------------------- build


def build_model(data: Any, *, file: str | None = None, locate: Locator | None = None) -> Model:
    """Validate a raw mapping (as read from a model file) and build a :class:`Model`.

    Every problem is collected and reported at once in one :class:`ModelError`.
    """
    chk = _Checker(file, locate or _no_location)
    if data is None:
        raise ModelError(
            Problem("the model is empty.", fix="start from `stratlab example DIR`.", file=file),
            file=file,
        )
    if not isinstance(data, Mapping):
        raise ModelError(
            Problem(
                f"the document must be a mapping of keys (stratlab, name, objectives, …), got {_describe(data)}.",
                fix="see `stratlab schema` or `stratlab example DIR`.",
                file=file,
                line=1 if file else None,
            ),
            file=file,
        )
    top = chk.record(data, TOP, (), "model")
    assert top is not None
    if "stratlab" in top and top["stratlab"] != FORMAT_VERSION:
        chk.add(
            ("stratlab",),
            f"unsupported format version {top['stratlab']}.",
            f"this stratlab reads version {FORMAT_VERSION}.",
        )

    seen: dict[str, tuple[Any, ...]] = {}

    def records(
        section: str, raw_items: Any, base: tuple[Any, ...], what: str
    ) -> list[tuple[dict[str, Any], tuple[Any, ...]]]:
        out: list[tuple[dict[str, Any], tuple[Any, ...]]] = []
        for i, raw in enumerate(raw_items or ()):
            p = (*base, i)
            rec = chk.record(raw, SECTIONS[section], p, what)
            if rec is None:
                continue
            rid = rec.get("id")
            if rid is not None:
                if rid in seen:
                    chk.add(
                        (*p, "id"),
                        f"duplicate id {rid!r} (first used at {path_str(seen[rid])}).",
                        "ids must be unique across the whole file; rename one.",
                    )
                else:
                    seen[rid] = (*p, "id")
            out.append((rec, p))
        return out

    persp_recs = records("perspectives", top.get("perspectives"), ("perspectives",), "perspective")
    if "perspectives" in top and not top["perspectives"]:
        chk.add(
            ("perspectives",),
            "the list of perspectives is empty.",
            "remove the key to use the four BSC perspectives.",
        )
    if "perspectives" not in data:
        for dp in DEFAULT_PERSPECTIVES:
            seen.setdefault(dp.id, ("perspectives (default)",))
    obj_recs = records("objectives", top.get("objectives"), ("objectives",), "objective")
    if "objectives" in top and not top["objectives"]:
        chk.add(("objectives",), "the model has no objectives.", "add at least one objective.")
    meas_recs = records("measures", top.get("measures"), ("measures",), "measure")
    okr_raw = records("okrs", top.get("okrs"), ("okrs",), "OKR")
    kr_recs: list[tuple[dict[str, Any], tuple[Any, ...], str]] = []
    for rec, p in okr_raw:
        krs = rec.get("key_results")
        if krs is not None and not krs:
            chk.add((*p, "key_results"), "an OKR needs at least one key result.")
        for kr, kp in records("key_results", krs, (*p, "key_results"), "key result"):
            kr_recs.append((kr, kp, rec.get("id", "")))
    init_recs = records("initiatives", top.get("initiatives"), ("initiatives",), "initiative")

    perspectives = (
        tuple(
            Perspective(r["id"], r["name"], r.get("description"))
            for r, _ in persp_recs
            if "id" in r and "name" in r
        )
        if "perspectives" in data
        else DEFAULT_PERSPECTIVES
    )
    persp_ids = [p.id for p in perspectives]
    objective_ids = [r["id"] for r, _ in obj_recs if "id" in r]
    measure_ids = [r["id"] for r, _ in meas_recs if "id" in r]
    okr_ids = [r["id"] for r, _ in okr_raw if "id" in r]
    kr_ids = [r["id"] for r, _, _ in kr_recs if "id" in r]

    option_sets: dict[tuple[int, ...], frozenset[str]] = {}

    def ref(value: str | None, options: list[str], path: tuple[Any, ...], what: str) -> bool:
        if value is None:
            return False
        key = (id(options), len(options))
        known = option_sets.get(key)
        if known is None:
            known = option_sets[key] = frozenset(options)
        if value not in known:
            chk.add(path, f"unknown {what} {value!r}.", _suggest(value, options, f"{what}s"))
            return False
        return True

    # lists kept alive for the whole build, so ref()'s set cache stays valid
    objective_set = frozenset(objective_ids)
    objective_or_okr = objective_ids + okr_ids
    link_ends = objective_ids + measure_ids
    leaf_ids = measure_ids + kr_ids
    supportable = objective_ids + measure_ids + okr_ids + kr_ids

    objectives = []
    for r, p in obj_recs:
        ref(r.get("perspective"), persp_ids, (*p, "perspective"), "perspective")
        if {"id", "name", "perspective"} <= r.keys():
            objectives.append(
                Objective(
                    r["id"],
                    r["name"],
                    r["perspective"],
                    r.get("weight", 1.0),
                    r.get("description"),
                    r.get("owner"),
                )
            )

    measures = []
    for r, p in meas_recs:
        ref(r.get("objective"), objective_ids, (*p, "objective"), "objective")
        direction = r.get("direction", "higher")
        if direction == "band":
            if "band" not in r:
                chk.add(
                    (*p, "band"),
                    "a measure with direction 'band' needs its band.",
                    "add 'band: [lo, hi]' and 'tolerance: x'.",
                )
            if "tolerance" not in r:
                chk.add(
                    (*p, "tolerance"),
                    "a measure with direction 'band' needs a tolerance.",
                    "add 'tolerance: x' (distance outside the band where the score reaches 0).",
                )
        else:
            for key in ("baseline", "target"):
                if key not in r:
                    if (data_get(data, p) or {}).get(key) is not None:
                        continue  # present but invalid: reported already
                    chk.add(
                        (*p, key),
                        f"measure is missing {key!r}.",
                        f"add '{key}:' (the value that scores {0 if key == 'baseline' else 1}).",
                    )
            if "baseline" in r and "target" in r:
                b, t = r["baseline"], r["target"]
                if b == t:
                    chk.add(
                        (*p, "target"),
                        f"target equals baseline ({t:g}): the score is undefined.",
                        "set a target different from the baseline.",
                    )
                elif direction == "higher" and t < b:
                    chk.add(
                        (*p, "direction"),
                        f"direction is 'higher' but target {t:g} is below baseline {b:g}.",
                        "set 'direction: lower', or swap baseline and target.",
                    )
                elif direction == "lower" and t > b:
                    chk.add(
                        (*p, "direction"),
                        f"direction is 'lower' but target {t:g} is above baseline {b:g}.",
                        "set 'direction: higher', or swap baseline and target.",
                    )
            for key in ("band", "tolerance"):
                if key in r:
                    chk.add(
                        (*p, key),
                        f"{key!r} only applies to direction 'band'.",
                        "set 'direction: band' or remove the key.",
                    )
        if {"id", "name", "objective"} <= r.keys():
            measures.append(
                Measure(
                    r["id"],
                    r["name"],
                    r["objective"],
                    direction,
                    r.get("baseline"),
                    r.get("target"),
                    r.get("current"),
                    str(r.get("unit", "")),
                    r.get("weight", 1.0),
                    r.get("band"),
                    r.get("tolerance"),
                    r.get("cap", 1.0),
                    r.get("thresholds"),
                    r.get("description"),
                    r.get("owner"),
                )
            )

    key_results_by_okr: dict[str, list[KeyResult]] = {}
    for r, p, okr_id in kr_recs:
        if "start" in r and "target" in r and r["start"] == r["target"]:
            chk.add(
                (*p, "target"),
                f"target equals start ({r['target']:g}): the grade is undefined.",
                "set a target different from the start.",
            )
        if {"id", "name", "start", "target"} <= r.keys():
            key_results_by_okr.setdefault(okr_id, []).append(
                KeyResult(
                    r["id"],
                    r["name"],
                    okr_id,
                    r["start"],
                    r["target"],
                    r.get("current"),
                    str(r.get("unit", "")),
                    r.get("confidence"),
                    r.get("weight", 1.0),
                )
            )

    okrs = []
    for r, p in okr_raw:
        ok = ref(r.get("aligns_to"), objective_or_okr, (*p, "aligns_to"), "objective or OKR")
        if ok and r.get("aligns_to") == r.get("id"):
            chk.add((*p, "aligns_to"), "an OKR cannot align to itself.")
        if {"id", "objective", "aligns_to"} <= r.keys():
            okrs.append(
                OKR(
                    r["id"],
                    r["objective"],
                    r["aligns_to"],
                    tuple(key_results_by_okr.get(r["id"], ())),
                    r.get("weight", 1.0),
                    r.get("owner"),
                )
            )
    _check_okr_cycles(okrs, chk, okr_raw)

    links = []
    pairs: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(top.get("links") or ()):
        p = ("links", i)
        lrec = chk.record(raw, SECTIONS["links"], p, "link")
        if lrec is None:
            continue
        r = lrec
        src, dst = r.get("from"), r.get("to")
        ok_src = ref(src, link_ends, (*p, "from"), "objective or measure")
        ok_dst = ref(dst, link_ends, (*p, "to"), "objective or measure")
        if not (ok_src and ok_dst):
            continue
        assert src is not None and dst is not None
        if src == dst:
            chk.add(
                p,
                f"link from {src!r} to itself.",
                "remove it; a self-reinforcing objective needs no link.",
            )
            continue
        if (src, dst) in pairs:
            chk.add(
                p,
                f"duplicate link {src} → {dst} (also links[{pairs[(src, dst)]}]).",
                "keep one link per pair.",
            )
            continue
        pairs[(src, dst)] = i
        src_is_obj, dst_is_obj = src in objective_set, dst in objective_set
        weight = r.get("weight")
        coef = r.get("coefficient")
        if src_is_obj != dst_is_obj:
            chk.add(
                p,
                f"link {src} → {dst} joins an objective and a measure.",
                "links join objective → objective (with weight) or measure → measure (with coefficient).",
            )
            continue
        if src_is_obj:
            if coef is not None:
                chk.add(
                    (*p, "coefficient"),
                    "an objective → objective link takes a 'weight', not a 'coefficient'.",
                    "rename 'coefficient' to 'weight'.",
                )
                continue
            if weight is None:
                if "weight" not in raw:
                    chk.add(
                        (*p, "weight"),
                        f"link {src} → {dst} needs a weight.",
                        "add 'weight: 0.5' (negative for an inverse link).",
                    )
                continue
            wrange = r.get("weight_range")
            if isinstance(weight, tuple):
                if wrange is not None:
                    chk.add(
                        (*p, "weight_range"),
                        "a link has either 'weight: [lo, hi]' or a point weight with 'weight_range', not both.",
                        "write 'weight: 0.5' with 'weight_range: [0.3, 0.7]'.",
                    )
                    continue
                wrange = weight[1]
                weight = (wrange[0] + wrange[1]) / 2
            elif wrange is not None and not wrange[0] <= weight <= wrange[1]:
                chk.add(
                    (*p, "weight_range"),
                    f"weight {weight:g} lies outside its range [{wrange[0]:g}, {wrange[1]:g}].",
                    "widen the range or correct the weight.",
                )
                continue
            if weight == 0:
                chk.add(
                    (*p, "weight"),
                    "a link with weight 0 has no effect.",
                    "give it a non-zero weight or remove the link.",
                )
                continue
            links.append(
                Link(
                    src,
                    dst,
                    weight=weight,
                    lag=r.get("lag", 0),
                    rationale=r.get("rationale"),
                    weight_range=wrange,
                )
            )
        else:
            if weight is not None and "weight" in raw:
                chk.add(
                    (*p, "weight"),
                    "a measure → measure driver link takes a 'coefficient', not a 'weight'.",
                    "rename 'weight' to 'coefficient' (natural units: Δeffect = coefficient × Δcause).",
                )
                continue
            if coef is None:
                if "coefficient" not in raw:
                    chk.add(
                        (*p, "coefficient"),
                        f"driver link {src} → {dst} needs a coefficient.",
                        "add 'coefficient: 0.5' (Δeffect = coefficient × Δcause).",
                    )
                continue
            links.append(
                Link(src, dst, coefficient=coef, lag=r.get("lag", 0), rationale=r.get("rationale"))
            )
    for kind in ("objective", "driver"):
        cycle = _find_lag0_cycle([lk for lk in links if lk.kind == kind and lk.lag == 0])
        if cycle:
            idx = pairs.get((cycle[0], cycle[1]), 0)
            chk.add(
                ("links", idx),
                f"lag-0 links form a cycle: {' → '.join(cycle)}.",
                "give at least one link of the loop 'lag: 1' or more (feedback takes time), or remove one.",
            )

    initiatives = []
    for r, p in init_recs:
        for j, sid in enumerate(r.get("supports", ())):
            ref(
                sid,
                supportable,
                (*p, "supports", j),
                "objective, measure, OKR or key result",
            )
        for key, _ in r.get("uplift", ()):
            ref(key, leaf_ids, (*p, "uplift", key), "measure or key result")
        if {"id", "name"} <= r.keys():
            initiatives.append(
                Initiative(
                    r["id"],
                    r["name"],
                    r.get("budget"),
                    r.get("supports", ()),
                    r.get("uplift", ()),
                    r.get("description"),
                    r.get("owner"),
                )
            )

    if chk.problems:
        raise ModelError(chk.problems, file=file)
    return Model(
        name=top["name"],
        objectives=tuple(objectives),
        perspectives=perspectives,
        measures=tuple(measures),
        links=tuple(links),
        okrs=tuple(okrs),
        initiatives=tuple(initiatives),
        period=top.get("period", "quarter"),
        mission=top.get("mission"),
        vision=top.get("vision"),
        thresholds=top.get("thresholds", Thresholds()),
        stratlab=top["stratlab"],
        source=file,
    )


def data_get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _check_okr_cycles(
    okrs: list[OKR], chk: _Checker, okr_raw: list[tuple[dict[str, Any], tuple[Any, ...]]]
) -> None:
    parent = {o.id: o.aligns_to for o in okrs}
    for start in parent:
        chain = [start]
        node = parent.get(start)
        while node in parent:
            if node == start:
                where = next((p for r, p in okr_raw if r.get("id") == start), ("okrs",))
                chk.add(
                    (*where, "aligns_to"),
                    f"OKRs align in a circle: {' → '.join([*chain, start])}.",
                    "make one of them align to a strategy objective.",
                )
                return
            if node in chain:
                break
            chain.append(node)
            node = parent.get(node)


def _find_lag0_cycle(links: Sequence[Link]) -> list[str] | None:
    graph: dict[str, list[str]] = {}
    for link in links:
        graph.setdefault(link.source, []).append(link.target)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in list(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


# --------------------------------------------------------------------------- writing


def _clean(record: Mapping[str, Any], specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if value is None or (
            key in specs and specs[key].default is not None and value == specs[key].default
        ):
            continue
        if isinstance(value, Thresholds):
            value = {"green": value.green, "amber": value.amber}
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def to_dict(model: Model) -> dict[str, Any]:
    """The model as a plain mapping in the file format."""
    out: dict[str, Any] = {"stratlab": model.stratlab, "name": model.name}
    for key in ("mission", "vision"):
        if getattr(model, key):
            out[key] = getattr(model, key)
    out["period"] = model.period
    if model.thresholds != Thresholds():
        out["thresholds"] = {"green": model.thresholds.green, "amber": model.thresholds.amber}
    if model.perspectives != DEFAULT_PERSPECTIVES:
        out["perspectives"] = [
            _clean(dataclasses.asdict(p), SECTIONS["perspectives"]) for p in model.perspectives
        ]
    out["objectives"] = [
        _clean(dataclasses.asdict(o), SECTIONS["objectives"]) for o in model.objectives
    ]
    if model.measures:
        out["measures"] = [
            _clean(
                {f.name: getattr(m, f.name) for f in dataclasses.fields(m)}, SECTIONS["measures"]
            )
            for m in model.measures
        ]
    if model.links:
        rows = []
        for lk in model.links:
            row: dict[str, Any] = {"from": lk.source, "to": lk.target}
            if lk.weight is not None:
                rng = lk.weight_range
                if rng is not None and abs((rng[0] + rng[1]) / 2 - lk.weight) <= 1e-12 * max(
                    1.0, abs(lk.weight)
                ):
                    row["weight"] = list(rng)
                else:
                    row["weight"] = lk.weight
                    if rng is not None:
                        row["weight_range"] = list(rng)
            if lk.coefficient is not None:
                row["coefficient"] = lk.coefficient
            if lk.lag:
                row["lag"] = lk.lag
            if lk.rationale:
                row["rationale"] = lk.rationale
            rows.append(row)
        out["links"] = rows
    if model.okrs:
        out["okrs"] = [
            {
                **_clean(
                    {
                        "id": o.id,
                        "objective": o.objective,
                        "aligns_to": o.aligns_to,
                        "weight": o.weight,
                        "owner": o.owner,
                    },
                    SECTIONS["okrs"],
                ),
                "key_results": [
                    _clean(
                        {
                            f.name: getattr(kr, f.name)
                            for f in dataclasses.fields(kr)
                            if f.name != "okr"
                        },
                        SECTIONS["key_results"],
                    )
                    for kr in o.key_results
                ],
            }
            for o in model.okrs
        ]
    if model.initiatives:
        out["initiatives"] = [
            _clean(
                {
                    **{f.name: getattr(i, f.name) for f in dataclasses.fields(i)},
                    "uplift": dict(i.uplift) or None,
                },
                SECTIONS["initiatives"],
            )
            for i in model.initiatives
        ]
    return out


def iter_nodes(model: Model) -> Iterator[tuple[NodeKind, Any]]:
    """Every node with its kind, perspectives first, then objectives, measures, OKRs, key results."""
    yield from model._index.values()


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
    schema = obj(TOP)
    schema["properties"]["stratlab"] = {"const": FORMAT_VERSION, "description": "Format version"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "stratlab strategy model",
        **schema,
        "$defs": defs,
    }


# --------------------------------------------------------------------------- files


def load_model(source: str | Path | Mapping[str, Any] | Model) -> Model:
    """Load and validate a strategy model.

    Parameters
    ----------
    source : path, mapping or Model
        A YAML (``.yaml``/``.yml``), JSON (``.json``) or Excel (``.xlsx``) file,
        or a mapping in the same format.  A :class:`Model` is returned as is.

    Returns
    -------
    Model

    Raises
    ------
    ModelError
        Listing every problem with its file, line (or sheet and row), key path and fix.
    """
    if isinstance(source, Model):
        return source
    if isinstance(source, Mapping):
        return build_model(source)
    if not isinstance(source, (str, Path)):
        from .errors import InputError

        raise InputError(
            Problem(
                f"a strategy model must be a file path, a mapping or a stratlab Model, not {type(source).__name__}.",
                fix="pass stratlab.load_model(path) or the path of a .yaml, .json or .xlsx model file.",
            )
        )
    from .io import read_model_file

    return read_model_file(source)


def save_model(model: Model, path: str | Path) -> Path:
    """Write a model to YAML, JSON or Excel (by the file's suffix), atomically."""
    from .io import write_model_file

    return write_model_file(model, path)
