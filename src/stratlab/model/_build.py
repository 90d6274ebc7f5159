"""build_model: a mapping in the file format checked into a Model, every problem at once.

The field registry (:data:`~stratlab.model._schema.SECTIONS`) checks every key's
type, range and spelling (:meth:`_Checker.record`); the builders here add what
a single field cannot say — references between sections, consistency inside a
record (baseline vs target vs direction), unique ids, cycles — one small builder
per section.  A record's keys are the dataclass's field names, so a new key
added to the registry and to the dataclass needs no code here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from .._util import did_you_mean
from ..errors import ModelError, Problem
from ..limits import Limits
from ._check import Locator, _Checker, _describe, _no_location, path_str
from ._schema import FORMAT_VERSION, SECTIONS, TOP
from ._types import (
    DEFAULT_PERSPECTIVES,
    OKR,
    Initiative,
    KeyResult,
    Link,
    Measure,
    Model,
    Objective,
    Perspective,
    Thresholds,
    register_builder,
)

Path = tuple[Any, ...]
Record = tuple[dict[str, Any], Path]
T = TypeVar("T")


def _make(cls: type[T], rec: Mapping[str, Any], **context: Any) -> T:
    """An instance of ``cls`` from a checked record: its keys are the field names."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in rec.items() if k in names}, **context)


class _Build:
    """The state of one build: the checker, the records of every section, the ids seen."""

    def __init__(self, data: Mapping[str, Any], top: dict[str, Any], chk: _Checker) -> None:
        self.data, self.top, self.chk = data, top, chk
        self.seen: dict[str, Path] = {}
        self._option_sets: dict[int, frozenset[str]] = {}

    # ----------------------------------------------------------------- records
    def records(self, section: str, raw_items: Any, base: Path, what: str) -> list[Record]:
        out: list[Record] = []
        for i, raw in enumerate(raw_items or ()):
            p = (*base, i)
            rec = self.chk.record(raw, SECTIONS[section], p, what)
            if rec is None:
                continue
            rid = rec.get("id")
            if rid is not None:
                if rid in self.seen:
                    self.chk.add(
                        (*p, "id"),
                        f"duplicate id {rid!r} (first used at {path_str(self.seen[rid])}).",
                        "ids must be unique across the whole file; rename one.",
                    )
                else:
                    self.seen[rid] = (*p, "id")
            out.append((rec, p))
        return out

    def ref(self, value: str | None, options: list[str], path: Path, what: str) -> bool:
        """Is ``value`` one of ``options``?  Reports an unknown reference with a suggestion."""
        if value is None:
            return False
        known = self._option_sets.get(id(options))
        if known is None:
            known = self._option_sets[id(options)] = frozenset(options)
        if value not in known:
            self.chk.add(
                path, f"unknown {what} {value!r}.", did_you_mean(value, options, f"{what}s")
            )
            return False
        return True

    # ----------------------------------------------------------------- sections
    def read_sections(self) -> None:
        top, chk = self.top, self.chk
        self.persp_recs = self.records(
            "perspectives", top.get("perspectives"), ("perspectives",), "perspective"
        )
        if "perspectives" in top and not top["perspectives"]:
            chk.add(
                ("perspectives",),
                "the list of perspectives is empty.",
                "remove the key to use the four BSC perspectives.",
            )
        if "perspectives" not in self.data:
            for dp in DEFAULT_PERSPECTIVES:
                self.seen.setdefault(dp.id, ("perspectives (default)",))
        self.obj_recs = self.records(
            "objectives", top.get("objectives"), ("objectives",), "objective"
        )
        if "objectives" in top and not top["objectives"]:
            chk.add(("objectives",), "the model has no objectives.", "add at least one objective.")
        self.meas_recs = self.records("measures", top.get("measures"), ("measures",), "measure")
        self.okr_recs = self.records("okrs", top.get("okrs"), ("okrs",), "OKR")
        self.kr_recs: list[tuple[dict[str, Any], Path, str]] = []
        for rec, p in self.okr_recs:
            krs = rec.get("key_results")
            if krs is not None and not krs:
                chk.add((*p, "key_results"), "an OKR needs at least one key result.")
            for kr, kp in self.records("key_results", krs, (*p, "key_results"), "key result"):
                self.kr_recs.append((kr, kp, rec.get("id", "")))
        self.init_recs = self.records(
            "initiatives", top.get("initiatives"), ("initiatives",), "initiative"
        )
        # the id lists every reference is checked against (kept alive: ref() caches by id())
        self.objective_ids = [r["id"] for r, _ in self.obj_recs if "id" in r]
        self.measure_ids = [r["id"] for r, _ in self.meas_recs if "id" in r]
        self.okr_ids = [r["id"] for r, _ in self.okr_recs if "id" in r]
        self.kr_ids = [r["id"] for r, _, _ in self.kr_recs if "id" in r]
        self.objective_or_okr = self.objective_ids + self.okr_ids
        self.link_ends = self.objective_ids + self.measure_ids
        self.leaf_ids = self.measure_ids + self.kr_ids
        self.supportable = self.objective_ids + self.measure_ids + self.okr_ids + self.kr_ids

    def perspectives(self) -> tuple[Perspective, ...]:
        if "perspectives" not in self.data:
            return DEFAULT_PERSPECTIVES
        return tuple(
            _make(Perspective, r) for r, _ in self.persp_recs if {"id", "name"} <= r.keys()
        )

    def objectives(self, persp_ids: list[str]) -> list[Objective]:
        out = []
        for r, p in self.obj_recs:
            self.ref(r.get("perspective"), persp_ids, (*p, "perspective"), "perspective")
            if {"id", "name", "perspective"} <= r.keys():
                out.append(_make(Objective, r))
        return out

    def measures(self) -> list[Measure]:
        out = []
        for r, p in self.meas_recs:
            self.ref(r.get("objective"), self.objective_ids, (*p, "objective"), "objective")
            if r.get("direction", "higher") == "band":
                self._check_band(r, p)
            else:
                self._check_scale(r, p)
            self._check_phased_targets(r, p)
            if {"id", "name", "objective"} <= r.keys():
                out.append(_make(Measure, r))
        return out

    def _check_band(self, r: dict[str, Any], p: Path) -> None:
        if "band" not in r:
            self.chk.add(
                (*p, "band"),
                "a measure with direction 'band' needs its band.",
                "add 'band: [lo, hi]' and 'tolerance: x'.",
            )
        if "tolerance" not in r:
            self.chk.add(
                (*p, "tolerance"),
                "a measure with direction 'band' needs a tolerance.",
                "add 'tolerance: x' (distance outside the band where the score reaches 0).",
            )

    def _check_scale(self, r: dict[str, Any], p: Path) -> None:
        """baseline and target of a higher/lower measure: present, distinct, the right way round."""
        chk, direction = self.chk, r.get("direction", "higher")
        for key in ("baseline", "target"):
            if key not in r and (data_get(self.data, p) or {}).get(key) is None:
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

    def _check_phased_targets(self, r: dict[str, Any], p: Path) -> None:
        """Each phased target against the baseline and direction, as ``target`` is checked."""
        chk, direction = self.chk, r.get("direction", "higher")
        if direction == "band":
            if "targets" in r:
                chk.add(
                    (*p, "targets"),
                    "phased 'targets' do not apply to direction 'band'.",
                    "remove 'targets' (a band measure scores against its band).",
                )
            return
        if "baseline" not in r:
            return
        b = r["baseline"]
        raw_keys = data_get(self.data, (*p, "targets")) or {}
        for label, t in r.get("targets", ()):
            tp = (*p, "targets", next((k for k in raw_keys if str(k) == label), label))
            if t == b:
                chk.add(tp, f"target equals baseline ({t:g}): the score is undefined.")
            elif direction == "higher" and t < b:
                chk.add(
                    tp,
                    f"direction is 'higher' but the target {t:g} for {label} is below baseline {b:g}.",
                )
            elif direction == "lower" and t > b:
                chk.add(
                    tp,
                    f"direction is 'lower' but the target {t:g} for {label} is above baseline {b:g}.",
                )

    def okrs(self) -> list[OKR]:
        by_okr: dict[str, list[KeyResult]] = {}
        for r, p, okr_id in self.kr_recs:
            if "start" in r and "target" in r and r["start"] == r["target"]:
                self.chk.add(
                    (*p, "target"),
                    f"target equals start ({r['target']:g}): the grade is undefined.",
                    "set a target different from the start.",
                )
            if {"id", "name", "start", "target"} <= r.keys():
                by_okr.setdefault(okr_id, []).append(_make(KeyResult, r, okr=okr_id))
        out = []
        for r, p in self.okr_recs:
            ok = self.ref(
                r.get("aligns_to"), self.objective_or_okr, (*p, "aligns_to"), "objective or OKR"
            )
            if ok and r.get("aligns_to") == r.get("id"):
                self.chk.add((*p, "aligns_to"), "an OKR cannot align to itself.")
            if {"id", "objective", "aligns_to"} <= r.keys():
                rec = {**r, "key_results": tuple(by_okr.get(r["id"], ()))}
                out.append(_make(OKR, rec))
        _check_okr_cycles(out, self.chk, self.okr_recs)
        return out

    def links(self) -> list[Link]:
        out: list[Link] = []
        self.pairs: dict[tuple[str, str], int] = {}
        objective_set = frozenset(self.objective_ids)
        for i, raw in enumerate(self.top.get("links") or ()):
            p: Path = ("links", i)
            r = self.chk.record(raw, SECTIONS["links"], p, "link")
            if r is None:
                continue
            src, dst = r.get("from"), r.get("to")
            ok_src = self.ref(src, self.link_ends, (*p, "from"), "objective or measure")
            ok_dst = self.ref(dst, self.link_ends, (*p, "to"), "objective or measure")
            if not (ok_src and ok_dst) or src is None or dst is None:
                continue
            if not self._check_pair(src, dst, p, i):
                continue
            if (src in objective_set) != (dst in objective_set):
                self.chk.add(
                    p,
                    f"link {src} → {dst} joins an objective and a measure.",
                    "links join objective → objective (with weight) or measure → measure (with coefficient).",
                )
                continue
            make = self._objective_link if src in objective_set else self._driver_link
            link = make(r, raw, p, src, dst)
            if link is not None:
                out.append(link)
        self._check_lag0_cycles(out)
        return out

    def _check_pair(self, src: str, dst: str, p: Path, i: int) -> bool:
        if src == dst:
            self.chk.add(
                p,
                f"link from {src!r} to itself.",
                "remove it; a self-reinforcing objective needs no link.",
            )
            return False
        if (src, dst) in self.pairs:
            self.chk.add(
                p,
                f"duplicate link {src} → {dst} (also links[{self.pairs[(src, dst)]}]).",
                "keep one link per pair.",
            )
            return False
        self.pairs[(src, dst)] = i
        return True

    def _objective_link(
        self, r: dict[str, Any], raw: Mapping[str, Any], p: Path, src: str, dst: str
    ) -> Link | None:
        chk, weight = self.chk, r.get("weight")
        if r.get("coefficient") is not None:
            chk.add(
                (*p, "coefficient"),
                "an objective → objective link takes a 'weight', not a 'coefficient'.",
                "rename 'coefficient' to 'weight'.",
            )
            return None
        if weight is None:
            if "weight" not in raw:
                chk.add(
                    (*p, "weight"),
                    f"link {src} → {dst} needs a weight.",
                    "add 'weight: 0.5' (negative for an inverse link).",
                )
            return None
        wrange = r.get("weight_range")
        if isinstance(weight, tuple):
            if wrange is not None:
                chk.add(
                    (*p, "weight_range"),
                    "a link has either 'weight: [lo, hi]' or a point weight with 'weight_range', not both.",
                    "write 'weight: 0.5' with 'weight_range: [0.3, 0.7]'.",
                )
                return None
            wrange = weight[1]
            weight = (wrange[0] + wrange[1]) / 2
        elif wrange is not None and not wrange[0] <= weight <= wrange[1]:
            chk.add(
                (*p, "weight_range"),
                f"weight {weight:g} lies outside its range [{wrange[0]:g}, {wrange[1]:g}].",
                "widen the range or correct the weight.",
            )
            return None
        if weight == 0:
            chk.add(
                (*p, "weight"),
                "a link with weight 0 has no effect.",
                "give it a non-zero weight or remove the link.",
            )
            return None
        rec = {**r, "weight": weight, "weight_range": wrange}
        return _make(Link, rec, source=src, target=dst)

    def _driver_link(
        self, r: dict[str, Any], raw: Mapping[str, Any], p: Path, src: str, dst: str
    ) -> Link | None:
        if r.get("weight") is not None and "weight" in raw:
            self.chk.add(
                (*p, "weight"),
                "a measure → measure driver link takes a 'coefficient', not a 'weight'.",
                "rename 'weight' to 'coefficient' (natural units: Δeffect = coefficient × Δcause).",
            )
            return None
        if r.get("coefficient") is None:
            if "coefficient" not in raw:
                self.chk.add(
                    (*p, "coefficient"),
                    f"driver link {src} → {dst} needs a coefficient.",
                    "add 'coefficient: 0.5' (Δeffect = coefficient × Δcause).",
                )
            return None
        rec = {k: v for k, v in r.items() if k != "weight_range"}
        return _make(Link, rec, source=src, target=dst)

    def _check_lag0_cycles(self, links: list[Link]) -> None:
        for kind in ("objective", "driver"):
            cycle = _find_lag0_cycle([lk for lk in links if lk.kind == kind and lk.lag == 0])
            if cycle:
                idx = self.pairs.get((cycle[0], cycle[1]), 0)
                self.chk.add(
                    ("links", idx),
                    f"lag-0 links form a cycle: {' → '.join(cycle)}.",
                    "give at least one link of the loop 'lag: 1' or more (feedback takes time), or remove one.",
                )

    def initiatives(self) -> list[Initiative]:
        out = []
        for r, p in self.init_recs:
            for j, sid in enumerate(r.get("supports", ())):
                self.ref(
                    sid,
                    self.supportable,
                    (*p, "supports", j),
                    "objective, measure, OKR or key result",
                )
            for key, _ in r.get("uplift", ()):
                self.ref(key, self.leaf_ids, (*p, "uplift", key), "measure or key result")
            if {"id", "name"} <= r.keys():
                out.append(_make(Initiative, r))
        return out


def _check_document(data: Any, file: str | None) -> None:
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


def build_model(
    data: Any,
    *,
    file: str | None = None,
    locate: Locator | None = None,
    limits: Limits | None = None,
) -> Model:
    """Validate a raw mapping (as read from a model file) and build a :class:`Model`.

    Parameters
    ----------
    data : mapping
        The model in the file format (see ``stratlab schema``).
    file : str, optional
        The file it was read from, named in every problem.
    locate : callable, optional
        Maps a key path to its location in the file (line, or sheet and row).
    limits : Limits, optional
        A model with more than ``limits.model_nodes`` nodes is refused first.

    Raises
    ------
    ModelError
        Every problem at once, each with its location, key path and fix.
    """
    from ..limits import check_model_size

    check_model_size(data, file=file, limits=limits)
    _check_document(data, file)
    chk = _Checker(file, locate or _no_location)
    top = chk.record(data, TOP, (), "model") or {}
    if "stratlab" in top and top["stratlab"] != FORMAT_VERSION:
        chk.add(
            ("stratlab",),
            f"unsupported format version {top['stratlab']}.",
            f"this stratlab reads version {FORMAT_VERSION}.",
        )
    build = _Build(data, top, chk)
    build.read_sections()
    perspectives = build.perspectives()
    objectives = build.objectives([p.id for p in perspectives])
    measures = build.measures()
    okrs = build.okrs()
    links = build.links()
    initiatives = build.initiatives()
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
        as_of=top.get("as_of"),
        max_age=top.get("max_age", 0),
    )


def data_get(data: Any, path: Path) -> Any:
    """The raw value at a key path, or None."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _check_okr_cycles(okrs: list[OKR], chk: _Checker, okr_recs: list[Record]) -> None:
    parent = {o.id: o.aligns_to for o in okrs}
    for start in parent:
        chain = [start]
        node = parent.get(start)
        while node in parent:
            if node == start:
                where = next((p for r, p in okr_recs if r.get("id") == start), ("okrs",))
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


register_builder(build_model)
