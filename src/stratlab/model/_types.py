"""The model's objects: frozen dataclasses, and the model as a plain mapping in the file format."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar

from .._util import did_you_mean
from ..errors import ModelError, Problem
from ._schema import FORMAT_VERSION, SECTIONS, FieldSpec

T = TypeVar("T")

# build_model registers itself here when stratlab.model is imported, so that
# Model.replace re-validates without this module importing _build (which imports it).
_BUILDER: dict[str, Callable[..., Model]] = {}


def register_builder(build: Callable[..., Model]) -> None:
    """Called once by :mod:`stratlab.model._build`: the validating constructor."""
    _BUILDER["build_model"] = build


NodeKind = Literal["perspective", "objective", "measure", "okr", "key_result"]


# --------------------------------------------------------------------------- objects


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    """Status thresholds on a 0–1 score: green ≥ ``green``, amber ≥ ``amber``, red below."""

    green: float = 0.7
    amber: float = 0.4


@dataclass(frozen=True, kw_only=True)
class Perspective:
    id: str
    name: str
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class Objective:
    id: str
    name: str
    perspective: str
    weight: float = 1.0
    description: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Benchmark:
    """An outside reference value for a measure (an industry median, a peer), drawn in reviews."""

    value: float
    label: str | None = None


@dataclass(frozen=True, kw_only=True)
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
    aggregate: Literal["last", "mean", "sum", "min", "max"] = "last"
    targets: tuple[tuple[str, float], ...] = ()
    max_age: int | None = None
    benchmark: Benchmark | None = None

    def target_at(self, period: Any) -> float | None:
        """The target in force for ``period``: the latest ``targets`` entry starting by its end, else ``target``."""
        if not self.targets or period is None:
            return self.target
        end = _period_end(period)
        best = self.target
        for label, value in self.targets:  # sorted by start
            start = _label_start(label)
            if start is not None and start <= end:
                best = value
        return best


@functools.lru_cache(maxsize=4096)
def _label_start(label: str) -> Any:
    """When a phased target's period starts (labels are parsed once)."""
    from ..periods import parse_period

    period = parse_period(label)
    return None if period is None else period.start_time


def _period_end(period: Any) -> Any:
    try:
        return _hashable_period_end(period)
    except TypeError:  # unhashable: not cached
        return _hashable_period_end.__wrapped__(period)


@functools.lru_cache(maxsize=4096)
def _hashable_period_end(period: Any) -> Any:
    """When ``period`` ends (computed once per period: every measure asks for each period)."""
    import pandas as pd

    if isinstance(period, pd.Period):
        return period.end_time
    from ..periods import period_arg

    return period_arg(period).end_time


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
class OKR:
    id: str
    objective: str
    aligns_to: str
    key_results: tuple[KeyResult, ...]
    weight: float = 1.0
    owner: str | None = None


@dataclass(frozen=True, kw_only=True)
class Initiative:
    id: str
    name: str
    budget: float | None = None
    supports: tuple[str, ...] = ()
    uplift: tuple[tuple[str, float], ...] = ()
    description: str | None = None
    owner: str | None = None


DEFAULT_PERSPECTIVES: tuple[Perspective, ...] = (
    Perspective(id="learning", name="Learning & Growth"),
    Perspective(id="process", name="Internal Process"),
    Perspective(id="customer", name="Customer"),
    Perspective(id="financial", name="Financial"),
)


class ModelCache:
    """Derived data computed once per model: compiled matrices, the node table,
    baselines per history, the map layout.

    Models are immutable, so what is derived from one never goes stale; a new model
    (:meth:`Model.replace`, :meth:`Model.with_values`) starts with an empty cache.
    The cache is not pickled (a model sent to a worker process recomputes).
    """

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}

    def get(self, key: str, build: Callable[[], T]) -> T:
        """The value cached under ``key``, built by ``build()`` the first time."""
        try:
            return self._items[key]
        except KeyError:
            value = self._items[key] = build()
            return value

    def __reduce__(self) -> tuple[type[ModelCache], tuple[()]]:
        return (ModelCache, ())

    def __repr__(self) -> str:
        return f"ModelCache({', '.join(sorted(self._items)) or 'empty'})"


@dataclass(frozen=True, kw_only=True, repr=False)
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
    period: Literal["quarter", "month", "year"] = "quarter"
    mission: str | None = None
    vision: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    stratlab: int = FORMAT_VERSION
    as_of: str | None = None
    max_age: int = 0
    source: str | None = field(default=None, compare=False, repr=False)
    cache: ModelCache = field(default_factory=ModelCache, init=False, compare=False, repr=False)

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
        return _BUILDER["build_model"](to_dict(new), file=self.source)

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
                        fix=did_you_mean(
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

    def __repr__(self) -> str:
        n_kr = sum(len(o.key_results) for o in self.okrs)
        return (
            f"<Model {self.name!r}: {len(self.perspectives)} perspectives, "
            f"{len(self.objectives)} objectives, {len(self.measures)} measures, "
            f"{len(self.links)} links, {len(self.okrs)} OKRs ({n_kr} key results), "
            f"{len(self.initiatives)} initiatives; period {self.period}>"
        )

    def _repr_html_(self) -> str:
        from ..render import model_html

        return model_html(self)


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
        elif isinstance(value, Benchmark):
            value = {"value": value.value, **({"label": value.label} if value.label else {})}
        elif key == "targets":
            if not value:
                continue
            value = dict(value)
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
    if model.as_of:
        out["as_of"] = model.as_of
    if model.max_age:
        out["max_age"] = model.max_age
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
