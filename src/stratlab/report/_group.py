"""The group page of a review batch: every unit side by side, and a weighted roll-up.

``unit_summary`` runs in each batch worker (picklable dicts only);
``group_rollup`` and ``write_group_page`` combine them.  The page is plain
HTML (no script): a units × objectives status grid, a units × perspectives
heatmap of scores, each unit's biggest movers and stale KPIs, and the group
roll-up (units weighted by the manifest's ``weight``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["ROLLUP_COLUMNS", "group_rollup", "unit_summary", "write_group_page"]

#: Columns of :func:`group_rollup`, in order.
ROLLUP_COLUMNS = ["kind", "id", "name", "perspective", "units", "weight", "score", "status"]


def unit_summary(model: Any, history: Any, *, period: Any = None, top: int = 3) -> dict[str, Any]:
    """What the group page shows of one unit (plain, picklable data).

    Returns
    -------
    dict
        ``nodes``: perspectives and objectives (``id, kind, name, perspective,
        score, status``); ``movers``: the ``top`` biggest movers (``name, kind,
        change, status``) and ``since``; ``stale``: stale KPIs (``name,
        as_of``); ``period``: the scored period.
    """
    from stratlab.io import load_history, load_model
    from stratlab.scoring import movers, score

    strategy = load_model(model)
    kpis = None if history is None else load_history(history, strategy)
    scores = score(strategy, kpis, period=period)
    top_nodes = scores[scores["kind"].isin(["perspective", "objective"])]
    nodes = [
        {
            "id": str(r.id),
            "kind": str(r.kind),
            "name": str(r.name),
            "perspective": str(r.perspective),
            "score": float(r.score),
            "status": str(r.status),
        }
        for r in top_nodes.itertuples(index=False)
    ]
    moved_rows: list[dict[str, Any]] = []
    since = None
    if kpis is not None and len(kpis) >= 2:
        moved = movers(strategy, kpis, period=period, top=top)
        since = moved["since"].iloc[0] if len(moved) else None
        moved_rows = [
            {
                "name": str(r.name),
                "kind": str(r.kind),
                "change": float(r.change),
                "status": str(r.status),
            }
            for r in moved.itertuples(index=False)
        ]
    stale = []
    if "stale" in scores.columns:
        rows = scores[scores["stale"].astype(bool)]
        stale = [{"name": str(r.name), "as_of": str(r.as_of)} for r in rows.itertuples(index=False)]
    persp_names = {p.id: p.name for p in strategy.perspectives}
    return {
        "nodes": nodes,
        "perspective_names": persp_names,
        "movers": moved_rows,
        "since": None if since is None else str(since),
        "stale": stale,
        "period": scores.attrs.get("period"),
        "green": strategy.thresholds.green,
        "amber": strategy.thresholds.amber,
    }


def _status(value: float, green: float, amber: float) -> str:
    if value != value:
        return "no data"
    return "green" if value >= green else ("amber" if value >= amber else "red")


def group_rollup(
    summaries: Mapping[str, Mapping[str, Any] | None], weights: Mapping[str, float]
) -> Any:
    """Perspective and objective scores across units, weighted by unit ``weight``.

    A node's group score is the weighted mean of the scores of the units that
    have it with a score (units without data on it are left out, and their
    weight with them); the status uses the first unit's thresholds.

    Returns
    -------
    pandas.DataFrame
        Columns ``kind, id, name, perspective, units`` (how many units have a
        score), ``weight`` (their total weight), ``score, status``;
        perspectives first, then objectives, in first-seen order.
    """
    import pandas as pd

    order: list[tuple[str, str]] = []
    info: dict[tuple[str, str], dict[str, Any]] = {}
    green, amber = 0.7, 0.4
    first = True
    for unit, summary in summaries.items():
        if not summary:
            continue
        if first:
            green, amber, first = summary["green"], summary["amber"], False
        w = float(weights.get(unit, 1.0))
        for node in summary["nodes"]:
            key = (node["kind"], node["id"])
            if key not in info:
                order.append(key)
                info[key] = {"name": node["name"], "perspective": node["perspective"], "sum": 0.0}
                info[key].update(weight=0.0, units=0)
            if node["score"] == node["score"]:
                info[key]["sum"] += w * node["score"]
                info[key]["weight"] += w
                info[key]["units"] += 1
    rows = []
    for kind in ("perspective", "objective"):
        for key in order:
            if key[0] != kind:
                continue
            d = info[key]
            value = d["sum"] / d["weight"] if d["weight"] > 0 else math.nan
            rows.append(
                {
                    "kind": kind,
                    "id": key[1],
                    "name": d["name"],
                    "perspective": d["perspective"],
                    "units": d["units"],
                    "weight": d["weight"],
                    "score": value,
                    "status": _status(value, green, amber),
                }
            )
    return pd.DataFrame(rows, columns=ROLLUP_COLUMNS)


def _heat(value: float | None) -> str:
    """A background colour for a 0–1 score (white → Okabe–Ito blue; grey for none)."""
    if value is None or value != value:
        return "#eeeeee"
    t = min(1.0, max(0.0, value))
    r, g, b = (round(255 + (c - 255) * t) for c in (0x00, 0x72, 0xB2))
    return f"#{r:02x}{g:02x}{b:02x}"


def write_group_page(
    path: Path,
    *,
    title: str,
    units: Sequence[Mapping[str, Any]],
    summaries: Mapping[str, Mapping[str, Any] | None],
    weights: Mapping[str, float],
) -> Path:
    """Write ``group.html`` (escaped; links only to reviews that exist).

    ``units`` are the batch rows (``unit``, ``href`` or None, ``status``).
    """
    from stratlab.io import atomic_write
    from stratlab.render import render_text

    rollup = group_rollup(summaries, weights)
    objectives = rollup[rollup["kind"] == "objective"].to_dict("records")
    perspectives = rollup[rollup["kind"] == "perspective"].to_dict("records")
    cells: dict[str, dict[str, Any]] = {}
    for unit, summary in summaries.items():
        cells[unit] = {n["id"]: n for n in (summary or {}).get("nodes", [])}
    html = render_text(
        resources.files("stratlab.report").joinpath("group.html.j2").read_text(encoding="utf-8"),
        heat=_heat,
        weights=weights,
        title=title,
        units=units,
        summaries=summaries,
        cells=cells,
        objectives=objectives,
        perspectives=perspectives,
    )
    return atomic_write(path, html)
