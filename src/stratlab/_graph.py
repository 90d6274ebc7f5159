"""Which nodes of a strategy map an input can reach (measures, key results, OKRs, links)."""

from __future__ import annotations

from typing import Any

__all__ = ["downstream", "path_to"]


def _edges(model: Any) -> dict[str, set[str]]:
    succ: dict[str, set[str]] = {}

    def add(a: str, b: str) -> None:
        succ.setdefault(a, set()).add(b)

    for m in model.measures:
        add(m.id, m.objective)
    for okr in model.okrs:
        add(okr.id, okr.aligns_to)
        for kr in okr.key_results:
            add(kr.id, okr.id)
    for lk in model.links:
        add(lk.source, lk.target)
    for o in model.objectives:
        add(o.id, o.perspective)
    return succ


def downstream(model: Any, node: str) -> set[str]:
    """Every node that ``node`` feeds, directly or through the map (not ``node`` itself)."""
    succ = _edges(model)
    seen: set[str] = set()
    stack = list(succ.get(node, ()))
    while stack:
        cur = stack.pop()
        if cur in seen:
            continue
        seen.add(cur)
        stack.extend(succ.get(cur, ()))
    return seen


def path_to(model: Any, node: str, target: str) -> bool:
    """True when ``node`` reaches ``target`` through the map."""
    return node == target or target in downstream(model, node)
