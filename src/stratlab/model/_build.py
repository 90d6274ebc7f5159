"""build_model: a mapping in the file format checked into a Model, every problem at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ModelError, Problem
from ._check import Locator, _Checker, _describe, _no_location, did_you_mean, path_str
from ._schema import SECTIONS, TOP
from ._types import (
    DEFAULT_PERSPECTIVES,
    FORMAT_VERSION,
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
            chk.add(path, f"unknown {what} {value!r}.", did_you_mean(value, options, f"{what}s"))
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


register_builder(build_model)
