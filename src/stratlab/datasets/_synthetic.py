"""Random strategy maps in the model-file format: large ones for benchmarks, small ones for tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from stratlab.errors import InputError, Problem

__all__ = ["make_cascade", "make_random_map"]

_PERSPECTIVES = (
    {"id": "learning", "name": "Learning & Growth"},
    {"id": "process", "name": "Internal Process"},
    {"id": "customer", "name": "Customer"},
    {"id": "financial", "name": "Financial"},
)


def _count(name: str, value: Any, minimum: int, caller: str) -> Problem | None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        return Problem(
            f"{caller}({name}={value!r}): {name} must be an integer of at least {minimum}.",
            fix=f"pass {name} as a whole number >= {minimum}.",
        )
    return None


def _share(name: str, value: Any, caller: str) -> Problem | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        return Problem(
            f"{caller}({name}={value!r}): {name} must be a number between 0 and 1.",
            fix=f"pass {name} as a fraction, e.g. {name}=0.1.",
        )
    return None


def _ids(prefix: str, n: int) -> list[str]:
    width = max(2, len(str(n)))
    return [f"{prefix}{i + 1:0{width}d}" for i in range(n)]


def _sample_pairs(
    rng: np.random.Generator, n: int, count: int, *, forward: bool, taken: set[tuple[int, int]]
) -> list[tuple[int, int]]:
    """``count`` distinct ordered pairs (i, j), i < j when ``forward`` else i > j, not in ``taken``."""
    out: list[tuple[int, int]] = []
    while len(out) < count:
        need = count - len(out)
        a = rng.integers(0, n, size=2 * need + 8)
        b = rng.integers(0, n, size=2 * need + 8)
        for i, j in zip(a.tolist(), b.tolist(), strict=True):
            if i == j:
                continue
            lo, hi = (i, j) if i < j else (j, i)
            pair = (lo, hi) if forward else (hi, lo)
            if pair in taken:
                continue
            taken.add(pair)
            out.append(pair)
            if len(out) == count:
                break
    return out


def _random_map(
    caller: str,
    *,
    n_objectives: int,
    n_measures: int,
    n_key_results: int,
    n_links: int,
    n_driver_links: int,
    n_initiatives: int,
    seed: int | None,
    feedback_share: float,
    lagged_share: float,
    inverse_share: float,
    band_share: float,
    period: str,
) -> dict[str, Any]:
    problems = [
        p
        for p in (
            _count("n_objectives", n_objectives, 1, caller),
            _count("n_measures", n_measures, 0, caller),
            _count("n_key_results", n_key_results, 0, caller),
            _count("n_links", n_links, 0, caller),
            _count("n_driver_links", n_driver_links, 0, caller),
            _count("n_initiatives", n_initiatives, 0, caller),
            _share("feedback_share", feedback_share, caller),
            _share("lagged_share", lagged_share, caller),
            _share("inverse_share", inverse_share, caller),
            _share("band_share", band_share, caller),
        )
        if p is not None
    ]
    if period not in ("quarter", "month"):
        problems.append(
            Problem(
                f"{caller}(period={period!r}): unknown period.",
                fix="pass period='quarter' or period='month'.",
            )
        )
    if problems:
        raise InputError(problems)
    n_feedback = round(n_links * feedback_share)
    n_forward = n_links - n_feedback
    max_forward = n_objectives * (n_objectives - 1) // 2
    if n_forward > max_forward or n_feedback > max_forward:
        raise InputError(
            Problem(
                f"{caller}: {n_links} links do not fit between {n_objectives} objectives "
                f"(at most {max_forward} in each direction).",
                fix="ask for fewer links or more objectives.",
            )
        )
    higher_or_lower = n_measures - round(n_measures * band_share)
    max_drivers = higher_or_lower * (higher_or_lower - 1) // 2
    if n_driver_links > max_drivers:
        raise InputError(
            Problem(
                f"{caller}: {n_driver_links} driver links do not fit between "
                f"{higher_or_lower} non-band measures (at most {max_drivers}).",
                fix="ask for fewer driver links or more measures.",
            )
        )
    rng = np.random.default_rng(seed)

    def r3(x: float) -> float:
        return round(float(x), 3)

    # objectives: index order is a topological order; perspectives by quartile
    objective_ids = _ids("o", n_objectives)
    objectives = []
    for i, oid in enumerate(objective_ids):
        quarter = min(3, 4 * i // n_objectives)
        objectives.append(
            {
                "id": oid,
                "name": f"Objective {i + 1}",
                "perspective": _PERSPECTIVES[quarter]["id"],
                "weight": float(rng.choice([1.0, 1.0, 2.0])),
            }
        )

    # measures: one per objective first, then at random
    measure_ids = _ids("m", n_measures)
    owners = list(range(min(n_objectives, n_measures)))
    owners += rng.integers(0, n_objectives, size=n_measures - len(owners)).tolist()
    n_band = round(n_measures * band_share)
    is_band = np.zeros(n_measures, dtype=bool)
    if n_band:
        is_band[rng.choice(n_measures, size=n_band, replace=False)] = True
    measures: list[dict[str, Any]] = []
    for k, mid in enumerate(measure_ids):
        m: dict[str, Any] = {
            "id": mid,
            "name": f"Measure {k + 1}",
            "objective": objective_ids[owners[k]],
        }
        if is_band[k]:
            lo = r3(rng.uniform(0, 50))
            hi = r3(lo + rng.uniform(1, 10))
            tol = r3(rng.uniform(0.5, 5))
            m.update(direction="band", band=[lo, hi], tolerance=tol)
            m["current"] = r3(rng.uniform(lo - 1.5 * tol, hi + 1.5 * tol))
        else:
            low = r3(rng.uniform(0, 50))
            high = r3(low + rng.uniform(5, 50))
            direction = "higher" if rng.random() < 0.5 else "lower"
            baseline, target = (low, high) if direction == "higher" else (high, low)
            m.update(direction=direction, baseline=baseline, target=target)
            m["current"] = r3(baseline + (target - baseline) * rng.uniform(-0.2, 1.3))
            if rng.random() < 0.1:
                m["cap"] = 1.2
        m["unit"] = "pts"
        m["weight"] = float(rng.choice([0.5, 1.0, 1.0, 2.0]))
        measures.append(m)

    # objective links: forward DAG (lag 0 or lagged) plus lagged feedback
    taken: set[tuple[int, int]] = set()
    links: list[dict[str, Any]] = []
    forward = _sample_pairs(rng, n_objectives, n_forward, forward=True, taken=taken)
    backward = _sample_pairs(rng, n_objectives, n_feedback, forward=False, taken=taken)
    for (i, j), is_feedback in [(p, False) for p in forward] + [(p, True) for p in backward]:
        weight = r3(rng.uniform(0.1, 1.0))
        if rng.random() < inverse_share:
            weight = -weight
        lag = int(rng.integers(1, 4)) if is_feedback or rng.random() < lagged_share else 0
        link: dict[str, Any] = {"from": objective_ids[i], "to": objective_ids[j], "weight": weight}
        if lag:
            link["lag"] = lag
        links.append(link)

    # driver links between non-band measures, forward in index order (acyclic)
    plain = [k for k in range(n_measures) if not is_band[k]]
    for i, j in _sample_pairs(rng, len(plain), n_driver_links, forward=True, taken=set()):
        coefficient = r3(rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 2.0))
        driver: dict[str, Any] = {
            "from": measure_ids[plain[i]],
            "to": measure_ids[plain[j]],
            "coefficient": coefficient,
        }
        if rng.random() < lagged_share:
            driver["lag"] = int(rng.integers(1, 4))
        links.append(driver)

    # OKRs with 2-4 key results; some cascade to an earlier OKR
    okrs: list[dict[str, Any]] = []
    kr_ids = _ids("kr", n_key_results)
    sizes: list[int] = []
    left = n_key_results
    while left > 0:
        size = min(left, int(rng.integers(2, 5)))
        sizes.append(size)
        left -= size
    okr_ids = _ids("okr", len(sizes))
    used = 0
    for q, (okr_id, size) in enumerate(zip(okr_ids, sizes, strict=True)):
        if q > 0 and rng.random() < 0.25:
            aligns_to = okr_ids[int(rng.integers(0, q))]
        else:
            aligns_to = objective_ids[int(rng.integers(0, n_objectives))]
        key_results = []
        for kid in kr_ids[used : used + size]:
            start = r3(rng.uniform(0, 100))
            target = r3(start + rng.choice([-1.0, 1.0]) * rng.uniform(5, 100))
            key_results.append(
                {
                    "id": kid,
                    "name": f"Key result {kid}",
                    "start": start,
                    "target": target,
                    "current": r3(start + (target - start) * rng.uniform(-0.1, 1.2)),
                    "unit": "pts",
                    "confidence": round(float(rng.uniform(0, 1)), 2),
                    "weight": float(rng.choice([1.0, 1.0, 2.0])),
                }
            )
        used += size
        okrs.append(
            {
                "id": okr_id,
                "objective": f"OKR {q + 1}",
                "aligns_to": aligns_to,
                "key_results": key_results,
                "weight": float(rng.choice([1.0, 1.0, 2.0])),
            }
        )

    # initiatives
    initiatives = []
    for p, iid in enumerate(_ids("init", n_initiatives)):
        supports = sorted({objective_ids[int(x)] for x in rng.integers(0, n_objectives, size=2)})
        uplift: dict[str, float] = {}
        if n_measures:
            for k in rng.choice(n_measures, size=min(2, n_measures), replace=False).tolist():
                uplift[measure_ids[k]] = r3(rng.normal(0, 2)) or 0.5
        initiatives.append(
            {
                "id": iid,
                "name": f"Initiative {p + 1}",
                "budget": float(round(rng.uniform(1e4, 1e6), -3)),
                "supports": supports,
                "uplift": uplift,
            }
        )

    return {
        "stratlab": 1,
        "name": f"Random map (seed {seed})",
        "period": period,
        "thresholds": {"green": 0.7, "amber": 0.4},
        "perspectives": [dict(p) for p in _PERSPECTIVES],
        "objectives": objectives,
        "measures": measures,
        "links": links,
        "okrs": okrs,
        "initiatives": initiatives,
    }


def make_cascade(
    *,
    n_objectives: int = 1600,
    n_measures: int = 3000,
    n_key_results: int = 300,
    n_links: int = 5000,
    seed: int | None = 0,
    n_driver_links: int = 100,
    n_initiatives: int = 20,
    feedback_share: float = 0.05,
    lagged_share: float = 0.2,
    inverse_share: float = 0.05,
    band_share: float = 0.05,
    period: str = "quarter",
) -> dict[str, Any]:
    """A large generated strategy map (a model dict, valid in the file format), for benchmarks.

    Objectives are numbered in a topological order and spread over the four
    BSC perspectives by quartile.  Of the ``n_links`` objective links,
    ``feedback_share`` point backward with lag 1-3 (feedback loops, allowed);
    the rest point forward (lag 0, or 1-3 with probability ``lagged_share``),
    so the lag-0 links form a DAG.  Driver links join non-band measures in
    index order.  Every objective has at least one measure when
    ``n_measures >= n_objectives``; every measure and key result has a
    ``current`` value, so the model scores without a history.

    Parameters
    ----------
    n_objectives, n_measures, n_key_results, n_links : int
        Sizes (``n_links`` counts objective links only).
    seed : int or None
        Seed of ``numpy.random.default_rng``: same seed, same dict.
    n_driver_links, n_initiatives : int
        Measure-to-measure driver links; initiatives.
    feedback_share, lagged_share, inverse_share, band_share : float
        Shares of backward (lagged) links, of lagged forward links, of
        negative link weights and of ``band`` measures.
    period : {'quarter', 'month'}

    Returns
    -------
    dict
        ``stratlab, name, period, thresholds, perspectives, objectives,
        measures, links, okrs, initiatives``; pass it to ``stratlab.load_model``.

    Raises
    ------
    InputError
        A size or share that is not valid, or more links than fit.
    """
    return _random_map(
        "make_cascade",
        n_objectives=n_objectives,
        n_measures=n_measures,
        n_key_results=n_key_results,
        n_links=n_links,
        n_driver_links=n_driver_links,
        n_initiatives=n_initiatives,
        seed=seed,
        feedback_share=feedback_share,
        lagged_share=lagged_share,
        inverse_share=inverse_share,
        band_share=band_share,
        period=period,
    )


def make_random_map(
    *,
    n_objectives: int = 8,
    n_measures: int = 14,
    n_key_results: int = 6,
    n_links: int = 10,
    seed: int | None = 0,
    n_driver_links: int = 2,
    n_initiatives: int = 2,
    feedback_share: float = 0.2,
    lagged_share: float = 0.3,
    inverse_share: float = 0.25,
    band_share: float = 0.15,
    period: str = "quarter",
) -> dict[str, Any]:
    """A small random strategy map (model dict) for property tests.

    Same construction as :func:`make_cascade` with small sizes and more of
    everything unusual (inverse and feedback links, band measures, stretch
    caps, OKR cascades), so random maps exercise every scoring rule.

    Parameters
    ----------
    See :func:`make_cascade`.

    Returns
    -------
    dict
        A model dict valid in the file format.

    Raises
    ------
    InputError
        A size or share that is not valid, or more links than fit.
    """
    return _random_map(
        "make_random_map",
        n_objectives=n_objectives,
        n_measures=n_measures,
        n_key_results=n_key_results,
        n_links=n_links,
        n_driver_links=n_driver_links,
        n_initiatives=n_initiatives,
        seed=seed,
        feedback_share=feedback_share,
        lagged_share=lagged_share,
        inverse_share=inverse_share,
        band_share=band_share,
        period=period,
    )
