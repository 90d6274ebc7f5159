"""Benchmark stratlab.goal_seek and stratlab.plan_portfolio on the generated cascade.

Baselines measured in the same run:

1. goal seeking on the 1,600-objective cascade (make_cascade): against the
   spreadsheet way made exact, a linear programme whose matrix is built by
   finite differences of ``whatif()`` (one what-if per lever; a sample of them
   is timed and scaled to every lever, printed as such).  That LP ignores
   clipping, so it is a lower bound on the cost of the baseline, not a rival
   answer.
2. the portfolio on 40 initiatives (goal ``effect``): against brute force over
   every subset, each subset rolled up by the engine (``rollup_all``).  2^40
   subsets do not fit in a run: a sample of subsets is timed and scaled (printed
   as such); brute force over the first 8 initiatives runs in full and its
   answer is checked against plan_portfolio on those 14.
3. the portfolio on 20 initiatives x 2,000 Monte Carlo scenarios (goal
   ``p_green``): against brute force over every subset on the same scenarios
   (one roll-up of all scenarios per subset): timed on a sample, scaled to 2^20;
   in full on the first 7 initiatives, answers compared.

Run: ``.venv/bin/python benchmarks/bench_planning.py`` (not part of the tests).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np

import stratlab
from stratlab.datasets import make_cascade
from stratlab.engine import compile_model, rollup_all, score_kr_values, score_measure_values
from stratlab.planning import goal_seek, plan_portfolio
from stratlab.simulation import draw_scenarios

SAMPLE_WHATIF, SAMPLE_SUBSETS = 15, 40


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def driver_total(model: Any) -> np.ndarray:
    ids = {m.id: i for i, m in enumerate(model.measures)}
    d = np.zeros((len(ids), len(ids)))
    for lk in model.links:
        if lk.kind == "driver":
            d[ids[lk.target], ids[lk.source]] += lk.coefficient
    return np.linalg.inv(np.eye(len(ids)) - d)


def uplift_vectors(model: Any, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Long-run natural-unit change of every measure and key result, per initiative."""
    m_ids = {m.id: i for i, m in enumerate(model.measures)}
    k_ids = {k.id: i for i, k in enumerate(model.key_results)}
    um = np.zeros((len(m_ids), len(model.initiatives)))
    uk = np.zeros((len(k_ids), len(model.initiatives)))
    for p, ini in enumerate(model.initiatives):
        for key, amount in ini.uplift:
            if key in m_ids:
                um[m_ids[key], p] += amount
            else:
                uk[k_ids[key], p] += amount
    return total @ um, uk


def brute_force(costs: np.ndarray, budget: float, value: Any, subsets: Any) -> tuple[Any, ...]:
    best: tuple[float, float, tuple[int, ...]] | None = None
    for sel in subsets:
        cost = float(np.dot(sel, costs))
        if cost > budget:
            continue
        val = value(np.array(sel))
        if best is None or val > best[0] + 1e-9 or (abs(val - best[0]) <= 1e-9 and cost < best[1]):
            best = (val, cost, tuple(sel))
    assert best is not None
    return best


def with_initiatives(data: dict[str, Any], n: int) -> Any:
    return stratlab.load_model({**data, "initiatives": data["initiatives"][:n]})


def bench_goal_seek() -> None:
    model = stratlab.load_model(make_cascade())
    t_base, base = timed(lambda: stratlab.whatif(model, {}, horizon=0).long_run.set_index("id"))
    goal = float(base.loc["financial", "score_after"]) + 0.05
    t_ours, res = timed(lambda: goal_seek(model, targets={"financial": goal}))
    check = stratlab.whatif(model, list(res.changes), horizon=0).long_run.set_index("id")
    reached = float(check.loc["financial", "score_after"])
    levers = [m.id for m in model.measures] + [k.id for k in model.key_results]
    rng = np.random.default_rng(0)
    sample = rng.choice(levers, size=SAMPLE_WHATIF, replace=False)
    t0 = time.perf_counter()
    for lid in sample:
        _ = stratlab.whatif(model, [(str(lid), "shift", 1e-3)], horizon=0).long_run
    t_fd = (time.perf_counter() - t0) / SAMPLE_WHATIF * len(levers)
    print(
        f"goal seek, cascade ({len(model.objectives)} objectives, {len(levers)} levers), "
        f"financial {base.loc['financial', 'score_after']:.3f} → ≥ {goal:.3f}"
    )
    print(
        f"  stratlab.goal_seek ({res.solver}): {t_ours:8.2f} s   "
        f"{len(res.changes)} levers move, effort {res.effort:.4g}; whatif() reaches "
        f"{reached:.6f} (goal {goal:.6f}, difference {reached - goal:+.1e})"
    )
    print(
        f"  finite-difference LP: {SAMPLE_WHATIF} what-ifs timed, scaled to {len(levers)}: "
        f"{t_fd:8.1f} s (first what-if, caches cold: {t_base:.2f} s)"
    )
    print(f"  speed-up vs finite differences: {t_fd / t_ours:6.1f}x")


def bench_effect() -> None:
    data = make_cascade(n_initiatives=40)
    model = stratlab.load_model(data)
    budget = 5_000_000.0
    t_ours, res = timed(lambda: plan_portfolio(model, budget=budget))
    compiled = compile_model(model)
    p_top = len(model.perspectives) - 1
    total = driver_total(model)
    m0 = np.array([m.current for m in model.measures], dtype=float)
    k0 = np.array([k.current for k in model.key_results], dtype=float)

    def evaluator(mod: Any) -> Any:
        dm, dk = uplift_vectors(mod, total)

        def value(sel: np.ndarray) -> float:
            ms = score_measure_values(mod, m0 + dm @ sel)
            ks = score_kr_values(mod, k0 + dk @ sel)
            return float(rollup_all(compiled, ms, ks)["perspective"][p_top])

        return value

    value = evaluator(model)
    rng = np.random.default_rng(1)
    sample = (rng.random((SAMPLE_SUBSETS, 40)) < 0.5).astype(int)
    t_sample, _ = timed(lambda: [value(s) for s in sample])
    t_brute = t_sample / SAMPLE_SUBSETS * 2.0**40
    print(f"portfolio (effect), cascade, 40 initiatives, budget {budget:,.0f}")
    print(
        f"  stratlab.plan_portfolio: {t_ours:8.2f} s   {len(res.selected)} selected, "
        f"{res.budget_used:,.0f} used, {res.before:.5f} → {res.after:.5f}"
    )
    print(
        f"  brute force: {SAMPLE_SUBSETS} subsets timed, scaled to 2^40: {t_brute / 86400 / 365:,.0f} years"
    )
    print(f"  speed-up vs brute force: {t_brute / t_ours:9.3g}x")
    small = with_initiatives(data, 8)
    t_small, res_small = timed(lambda: plan_portfolio(small, budget=budget))
    costs = np.array([i.budget for i in small.initiatives])
    t_bf, best = timed(
        lambda: brute_force(costs, budget, evaluator(small), itertools.product([0, 1], repeat=8))
    )
    agree = abs(best[0] - res_small.after) <= 1e-9 and best[1] == res_small.budget_used
    print(
        f"  first 8 initiatives: plan_portfolio {t_small:.2f} s, full brute force "
        f"{t_bf:.1f} s ({t_bf / t_small:.0f}x); same answer: {agree}"
    )


def bench_p_green() -> None:
    data = make_cascade(n_initiatives=20)
    model = stratlab.load_model(data)
    samples, seed, budget = 2000, 1, 4_000_000.0
    # the objective most in doubt among those the initiatives move
    summary = stratlab.simulate(model, samples=samples, seed=seed, elapsed=0.5).summary()
    summary = summary.set_index("id")
    moved: set[str] = set()
    for ini in model.initiatives:
        lr = stratlab.whatif(model, [(k, "shift", v) for k, v in ini.uplift], horizon=0).long_run
        moved |= set(lr.loc[(lr["kind"] == "objective") & (lr["delta"].abs() > 1e-6), "id"])
    doubt = (summary.loc[sorted(moved), "p_green"] - 0.5).abs()
    target = str(doubt.idxmin())

    def run(mod: Any) -> Any:
        return plan_portfolio(
            mod,
            budget=budget,
            target=target,
            goal="p_green",
            samples=samples,
            seed=seed,
            elapsed=0.5,
        )

    t_ours, res = timed(lambda: run(model))
    scen = draw_scenarios(model, samples=samples, seed=seed, elapsed=0.5)
    total = driver_total(model)
    green = model.thresholds.green
    o_pos = [o.id for o in model.objectives].index(target)
    starts = np.array([k.start for k in model.key_results])
    ranges = np.array([k.target for k in model.key_results]) - starts

    def evaluator(mod: Any) -> Any:
        dm, dk = uplift_vectors(mod, total)

        def value(sel: np.ndarray) -> float:
            ms = score_measure_values(mod, (scen.m_values + (dm @ sel)[:, None]).T).T
            kv = starts[:, None] + scen.k_grades * ranges[:, None] + (dk @ sel)[:, None]
            ks = score_kr_values(mod, kv.T).T
            return float(np.mean(scen.roll(ms, ks)["objective"][o_pos] >= green - 1e-9))

        return value

    value = evaluator(model)
    rng = np.random.default_rng(2)
    sample = (rng.random((SAMPLE_SUBSETS // 4, 20)) < 0.5).astype(int)
    t_sample, _ = timed(lambda: [value(s) for s in sample])
    t_brute = t_sample / len(sample) * 2.0**20
    print(
        f"portfolio (p_green), cascade, 20 initiatives x {samples} scenarios, target {target} "
        f"(P(green) {res.before:.3f} now), budget {budget:,.0f}"
    )
    print(
        f"  stratlab.plan_portfolio: {t_ours:8.2f} s   {len(res.selected)} selected, "
        f"P(green) {res.before:.4f} → {res.after:.4f}"
    )
    print(f"  brute force: {len(sample)} subsets timed, scaled to 2^20: {t_brute / 3600:8.1f} h")
    print(f"  speed-up vs brute force: {t_brute / t_ours:9.3g}x")
    small = with_initiatives(data, 7)
    t_small, res_small = timed(lambda: run(small))
    costs = np.array([i.budget for i in small.initiatives])
    t_bf, best = timed(
        lambda: brute_force(costs, budget, evaluator(small), itertools.product([0, 1], repeat=7))
    )
    agree = abs(best[0] - res_small.after) <= 1e-12 and best[1] == res_small.budget_used
    print(
        f"  first 7 initiatives: plan_portfolio {t_small:.2f} s, full brute force "
        f"{t_bf:.1f} s ({t_bf / t_small:.0f}x); same answer: {agree}"
    )


def main() -> None:
    bench_goal_seek()
    bench_effect()
    bench_p_green()


if __name__ == "__main__":
    main()
