"""Goal seeking and portfolio planning, checked against independent computations.

Reference values come from a linear programme built here by finite differences
of :func:`stratlab.whatif`, from hand-computed optima, and from brute-force
enumeration of every subset of initiatives rolled up by the engine's one
roll-up (``rollup_all``) or by the Monte Carlo scenarios' roll-up.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from scipy.optimize import linprog

import stratlab
from stratlab.datasets import make_random_map
from stratlab.engine import compile_model, rollup_all, score_kr_values, score_measure_values
from stratlab.planning import (
    GOAL_SEEK_COLUMNS,
    PORTFOLIO_COLUMNS,
    PORTFOLIO_TOTAL_COLUMNS,
    goal_seek,
    plan_portfolio,
)

# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def example() -> tuple[Any, Any]:
    return stratlab.datasets.load_example()


def _long_run(model: Any, changes: Any, history: Any = None) -> Any:
    return stratlab.whatif(model, changes, history, horizon=0).long_run.set_index("id")


def _raw(model: Any, lid: str, value: float) -> tuple[float, float, float]:
    """(raw score, natural range, cap) of a linear measure or key result, computed here."""
    kind = model.kind_of(lid)
    item = model.get(lid)
    if kind == "measure":
        rng = item.target - item.baseline
        return (value - item.baseline) / rng, rng, item.cap
    rng = item.target - item.start
    return (value - item.start) / rng, rng, 1.0


def _tiny_model(measures: list[dict[str, Any]], links: list[dict[str, Any]] | None = None) -> Any:
    return stratlab.load_model(
        {
            "stratlab": 1,
            "name": "tiny",
            "objectives": [{"id": "o", "name": "O", "perspective": "financial"}],
            "measures": [
                {"objective": "o", "direction": "higher", "baseline": 0, "target": 10, **m}
                for m in measures
            ],
            "links": links or [],
        }
    )


# --------------------------------------------------------------------------- goal seeking


def test_goal_seek_plan_reaches_targets_in_whatif(example: Any) -> None:
    model, history = example
    res = goal_seek(model, history, targets={"financial": 0.8, "customer": 0.75})
    lr = _long_run(model, list(res.changes), history)
    for node, goal in {"financial": 0.8, "customer": 0.75}.items():
        assert lr.loc[node, "score_after"] >= goal - 1e-9
        assert res.reached[node] == pytest.approx(lr.loc[node, "score_after"], abs=1e-12)
    frame = res.to_frame()
    assert list(frame.columns) == GOAL_SEEK_COLUMNS
    levers = frame[frame["kind"].isin(["measure", "key_result"])].set_index("id")
    assert len(levers) == len(res.changes) > 0
    for lid, row in levers.iterrows():
        assert row["after"] == pytest.approx(lr.loc[lid, "after"], abs=1e-9)
        assert row["score_after"] >= row["score_before"] - 1e-12  # good direction only
        assert row["unit"] == model.get(lid).unit
    targets = frame[frame["unit"] == "score"].set_index("id")
    assert targets.loc["financial", "after"] == pytest.approx(0.8, abs=1e-9)
    assert "GoalSeekResult" in repr(res) and "<table" in res._repr_html_()


def test_goal_seek_effort_equals_independent_lp(example: Any) -> None:
    """Finite differences of whatif() give the linear map; scipy's LP gives the optimum."""
    model, _ = example
    base = _long_run(model, [])
    goals = {"financial": 0.85, "process": 0.8}
    levers, hi, cols = [], [], []
    leaf_ids = [m.id for m in model.measures if m.direction != "band"]
    leaf_ids += [kr.id for kr in model.key_results]
    h = 1e-3
    for lid in leaf_ids:
        x0, rng, cap = _raw(model, lid, base.loc[lid, "before"])
        if x0 >= cap:
            continue
        lr = _long_run(model, [(lid, "shift", h * rng)])
        levers.append(lid)
        hi.append(cap - x0)
        cols.append((lr["score_after"] - base["score_after"]) / h)
    g = np.column_stack(cols)  # every node × lever, per unit raw score
    targets = list(goals)
    a_t = g[[base.index.get_loc(t) for t in targets]]
    need = np.array([goals[t] - base.loc[t, "score_after"] for t in targets])
    # measures moved by driver links stay inside their score range (no clip point is reached
    # in this example: every driven measure starts inside [0, cap] and drivers help it)
    meas = [m.id for m in model.measures if m.direction != "band"]
    rows = [base.index.get_loc(m) for m in meas]
    caps = np.array([model.get(m).cap for m in meas])
    x_m = np.array([_raw(model, m, base.loc[m, "before"])[0] for m in meas])
    a_ub = np.vstack([-a_t, g[rows]])
    b_ub = np.concatenate([-need, caps - x_m])
    ref = linprog(
        np.ones(len(levers)),
        A_ub=a_ub,
        b_ub=b_ub,
        bounds=list(zip(np.zeros(len(levers)), hi, strict=True)),
        method="highs",
    )
    assert ref.status == 0
    res = goal_seek(model, targets=goals)
    assert res.effort == pytest.approx(ref.fun, abs=1e-6)
    lr = _long_run(model, list(res.changes))
    for t, goal in goals.items():
        assert lr.loc[t, "score_after"] >= goal - 1e-9


def test_goal_seek_respects_effort_and_lever_list(example: Any) -> None:
    model, _ = example
    res = goal_seek(
        model,
        targets={"speed": 0.8},
        levers=["wait_min", "orders_per_labour_hour"],
        effort={"wait_min": 3.0},
    )
    lr = _long_run(model, list(res.changes))
    assert lr.loc["speed", "score_after"] >= 0.8 - 1e-9
    moved = {c.key for c in res.changes}
    assert moved <= {"wait_min", "orders_per_labour_hour"}
    # speed = (2·wait + orders + 2·OKR)/5 with OKR fixed: the cheap lever goes first, to its cap
    orders = next(c for c in res.changes if c.key == "orders_per_labour_hour")
    assert model.get("orders_per_labour_hour").target == pytest.approx(
        lr.loc["orders_per_labour_hour", "after"]
    )
    assert orders.value > 0


def test_goal_seek_dead_zone_below_baseline_is_exact() -> None:
    """A lever below its baseline must first climb to 0: hand-computed optimum 0.96."""
    model = _tiny_model(
        [
            {"id": "a", "name": "A", "current": -5},  # raw −0.5, score 0
            {"id": "b", "name": "B", "current": 5},
            {"id": "c", "name": "C", "current": 5},
        ]
    )
    # o = (a + b + c)/3 ≥ 0.6: raising b and c to 0.9 each costs 1.2 × 0.8 = 0.96;
    # using a costs 0.5 of dead zone + 0.8 = 1.3 (0.8 if the dead zone were ignored)
    res = goal_seek(model, targets={"o": 0.6}, effort={"b": 1.2, "c": 1.2})
    assert res.effort == pytest.approx(0.96, abs=1e-9)
    assert {c.key for c in res.changes} == {"b", "c"}
    assert res.solver == "milp"
    assert _long_run(model, list(res.changes)).loc["o", "score_after"] >= 0.6 - 1e-9


def test_goal_seek_driver_harm_clipped_at_zero_is_exact() -> None:
    """A lever that drives another measure down: the harm stops at that measure's 0."""
    model = _tiny_model(
        [
            {"id": "d", "name": "D", "current": 2, "weight": 3},  # raw 0.2
            {"id": "m", "name": "M", "current": 0.5},  # raw 0.05
        ],
        [{"from": "d", "to": "m", "coefficient": -1}],
    )
    # o = (3 d + m)/4 ≥ 0.5 → 3(0.2 + Δ) + max(0, 0.05 − Δ) ≥ 2 → Δ = 1.4/3 (m clipped at 0);
    # the linear map without clipping would need Δ = 0.675, raising m instead costs 0.8+
    res = goal_seek(model, targets={"o": 0.5})
    assert res.effort == pytest.approx(1.4 / 3, abs=1e-9)
    assert [c.key for c in res.changes] == ["d"]
    lr = _long_run(model, list(res.changes))
    assert lr.loc["o", "score_after"] == pytest.approx(0.5, abs=1e-9)
    assert lr.loc["m", "score_after"] == 0.0


def test_goal_seek_allow_worse_trades_one_lever_for_another() -> None:
    """Only an inverse link helps: the lever must get worse, which needs allow_worse."""
    model = stratlab.load_model(
        {
            "stratlab": 1,
            "name": "inverse",
            "objectives": [
                {"id": "cause", "name": "Cause", "perspective": "process"},
                {"id": "goal", "name": "Goal", "perspective": "financial"},
            ],
            "measures": [
                {
                    "id": "x",
                    "name": "X",
                    "objective": "cause",
                    "direction": "higher",
                    "baseline": 0,
                    "target": 10,
                    "current": 8,
                },
            ],
            "links": [{"from": "cause", "to": "goal", "weight": -1}],
        }
    )
    with pytest.raises(stratlab.InputError, match=r"goal can reach at most 0\.200"):
        goal_seek(model, targets={"goal": 0.5})
    res = goal_seek(model, targets={"goal": 0.5}, allow_worse=True)
    assert res.effort == pytest.approx(0.3, abs=1e-9)
    assert res.changes[0].value == pytest.approx(-3.0)


def test_goal_seek_infeasible_names_the_binding_target(example: Any) -> None:
    model, _ = example
    with pytest.raises(
        stratlab.InputError,
        match=r"financial can reach at most \d\.\d+ with these levers: every lever at its cap",
    ) as info:
        goal_seek(model, targets={"financial": 1.5})
    # the most it can reach is every lever set to its cap, by whatif()
    reach = float(str(info.value).split("at most ")[1].split(" ")[0])
    base = _long_run(model, [])
    caps = []
    for lid in [m.id for m in model.measures if m.direction != "band"] + [
        k.id for k in model.key_results
    ]:
        x0, rng, cap = _raw(model, lid, base.loc[lid, "before"])
        if x0 < cap:
            caps.append((lid, "shift", (cap - x0) * rng))
    at_caps = _long_run(model, caps).loc["financial", "score_after"]
    assert reach == pytest.approx(at_caps, abs=5e-4)
    with pytest.raises(stratlab.InputError, match=r"speed can reach at most"):
        goal_seek(model, targets={"speed": 0.95}, levers=["orders_per_labour_hour"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"targets": {"finacial": 0.7}}, r"did you mean 'financial'"),
        ({"targets": {"nps": 0.7}}, r"'nps' is a measure; targets are objectives"),
        ({"targets": {"financial": "high"}}, r"is not a number"),
        ({"targets": {}}, r"non-empty mapping"),
        ({"targets": {"financial": 0.7}, "levers": ["wait_mins"]}, r"did you mean 'wait_min'"),
        ({"targets": {"financial": 0.7}, "levers": ["speed"]}, r"'speed' is a objective"),
        ({"targets": {"financial": 0.7}, "effort": {"nps": 0}}, r"must be a number > 0"),
        ({"targets": {"financial": 0.7}, "effort": {"npss": 1}}, r"not one of the levers"),
        ({"targets": {"financial": 0.7}, "view": "now"}, r"plans for the long run"),
    ],
)
def test_goal_seek_bad_input(example: Any, kwargs: dict[str, Any], match: str) -> None:
    model, _ = example
    with pytest.raises(stratlab.InputError, match=match):
        goal_seek(model, **kwargs)


def test_goal_seek_targets_already_met_move_nothing(example: Any) -> None:
    model, _ = example
    res = goal_seek(model, targets={"financial": 0.1})
    assert res.changes == () and res.effort == 0.0
    assert list(res.to_frame()["id"]) == ["financial"]


# --------------------------------------------------------------------------- portfolio


def _random_model(n_initiatives: int, seed: int) -> Any:
    return stratlab.load_model(make_random_map(seed=seed, n_initiatives=n_initiatives))


def _driver_total(model: Any) -> np.ndarray:
    """Long-run natural-unit response (I − D)⁻¹ of the driver links, built from the model."""
    ids = [m.id for m in model.measures]
    d = np.zeros((len(ids), len(ids)))
    for lk in model.links:
        if lk.kind == "driver":
            d[ids.index(lk.target), ids.index(lk.source)] += lk.coefficient
    return np.linalg.inv(np.eye(len(ids)) - d)


def _subset_shifts(model: Any, sel: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    m_ids = [m.id for m in model.measures]
    k_ids = [k.id for k in model.key_results]
    um, uk = np.zeros(len(m_ids)), np.zeros(len(k_ids))
    for s, ini in zip(sel, model.initiatives, strict=True):
        if s:
            for key, amount in ini.uplift:
                if key in m_ids:
                    um[m_ids.index(key)] += amount
                else:
                    uk[k_ids.index(key)] += amount
    return _driver_total(model) @ um, uk


def _brute_force(model: Any, budget: float, value: Any) -> tuple[float, float, tuple[int, ...]]:
    """Best value within budget over every subset; ties (1e-9) go to the lower budget."""
    best: tuple[float, float, tuple[int, ...]] | None = None
    costs = [ini.budget for ini in model.initiatives]
    for sel in itertools.product([0, 1], repeat=len(costs)):
        cost = float(np.dot(sel, costs))
        if cost > budget:
            continue
        val = value(sel)
        if best is None or val > best[0] + 1e-9 or (abs(val - best[0]) <= 1e-9 and cost < best[1]):
            best = (val, cost, sel)
    assert best is not None
    return best


def test_portfolio_effect_equals_brute_force() -> None:
    model = _random_model(12, seed=3)
    compiled = compile_model(model)
    top = model.perspectives[-1].id
    p_top = [p.id for p in model.perspectives].index(top)
    m0 = np.array([m.current for m in model.measures], dtype=float)
    k0 = np.array([k.current for k in model.key_results], dtype=float)

    def value(sel: tuple[int, ...]) -> float:
        dm, dk = _subset_shifts(model, sel)
        ms = score_measure_values(model, m0 + dm)
        ks = score_kr_values(model, k0 + dk)
        return float(rollup_all(compiled, ms, ks)["perspective"][p_top])

    budget = 2_000_000.0
    best, cost, sel = _brute_force(model, budget, value)
    res = plan_portfolio(model, budget=budget)
    assert res.after == pytest.approx(best, abs=1e-9)
    assert res.budget_used == cost
    assert res.selected == tuple(i.id for s, i in zip(sel, model.initiatives, strict=True) if s)
    assert res.before == pytest.approx(value((0,) * 12), abs=1e-12)
    frame = res.to_frame()
    assert list(frame.columns) == PORTFOLIO_COLUMNS
    assert list(res.totals().columns) == PORTFOLIO_TOTAL_COLUMNS
    # the plan, applied with whatif(), gives the same long-run score
    changes = [
        (k, "shift", v) for i in model.initiatives if i.id in res.selected for k, v in i.uplift
    ]
    assert _long_run(model, changes).loc[top, "score_after"] == pytest.approx(res.after, abs=1e-9)
    # marginal effects: what each selected initiative adds, from the brute-force values
    for p, row in frame.iterrows():
        other = list(sel)
        other[p] = 1 - other[p]
        diff = best - value(tuple(other))
        assert row["marginal_effect"] == pytest.approx(diff if sel[p] else -diff, abs=1e-9)


def test_portfolio_ties_go_to_the_lower_budget() -> None:
    data = {
        "stratlab": 1,
        "name": "ties",
        "objectives": [{"id": "o", "name": "O", "perspective": "financial"}],
        "measures": [
            {
                "id": "a",
                "name": "A",
                "objective": "o",
                "direction": "higher",
                "baseline": 0,
                "target": 10,
                "current": 5,
            }
        ],
        "initiatives": [
            {"id": "big", "name": "Big", "budget": 300, "uplift": {"a": 5}},
            {"id": "small", "name": "Small", "budget": 100, "uplift": {"a": 5}},
            {"id": "both", "name": "Extra", "budget": 50, "uplift": {"a": 1}},
        ],
    }
    res = plan_portfolio(data, budget=1000, target="o")
    # every set reaching the cap scores 1; the cheapest is 'small' alone
    assert res.selected == ("small",)
    assert res.after == pytest.approx(1.0)


def _p_green_brute_force(
    model: Any, history: Any, target: str, samples: int, seed: int, budget: float
) -> tuple[float, float, tuple[int, ...]]:
    """Every subset applied to the same scenarios, rolled up with each sample's link weights."""
    from stratlab.simulation import draw_scenarios

    scen = draw_scenarios(model, history, samples=samples, seed=seed, elapsed=0.5)
    green = model.thresholds.green
    o_pos = [o.id for o in model.objectives].index(target)
    starts = np.array([k.start for k in model.key_results])
    ranges = np.array([k.target for k in model.key_results]) - starts

    def value(sel: tuple[int, ...]) -> float:
        dm, dk = _subset_shifts(model, sel)
        ms = score_measure_values(model, (scen.m_values + dm[:, None]).T).T
        kv = starts[:, None] + scen.k_grades * ranges[:, None] + dk[:, None]
        ks = score_kr_values(model, kv.T).T
        obj = scen.roll(ms, ks)["objective"][o_pos]
        return float(np.mean(obj >= green - 1e-9))

    best = _brute_force(model, budget, value)
    return best[0], best[1], best[2]


def test_portfolio_p_green_with_drawn_link_weights(example: Any) -> None:
    """The example's experience → loyalty weight is drawn: each sample has its own map."""
    model, history = example
    best, cost, _ = _p_green_brute_force(model, history, "loyalty", 500, 11, 600_000)
    res = plan_portfolio(
        model,
        history,
        budget=600_000,
        target="loyalty",
        goal="p_green",
        samples=500,
        seed=11,
        elapsed=0.5,
    )
    assert res.after == pytest.approx(best, abs=1e-12) and res.budget_used == cost
    assert res.after > res.before + 0.2


def test_portfolio_p_green_equals_brute_force_on_the_same_scenarios() -> None:
    from stratlab.simulation import draw_scenarios

    model = _random_model(12, seed=5)
    sim = stratlab.simulate(model, samples=400, seed=2, elapsed=0.5).summary().set_index("id")
    objectives = sim[sim["kind"] == "objective"]
    # the objective most in doubt: P(green) nearest one half
    target = str((objectives["p_green"] - 0.5).abs().idxmin())
    samples, seed = 400, 7
    scen = draw_scenarios(model, samples=samples, seed=seed, elapsed=0.5)
    green = model.thresholds.green
    o_pos = [o.id for o in model.objectives].index(target)
    starts = np.array([k.start for k in model.key_results])
    ranges = np.array([k.target for k in model.key_results]) - starts

    def value(sel: tuple[int, ...]) -> float:
        dm, dk = _subset_shifts(model, sel)
        ms = score_measure_values(model, (scen.m_values + dm[:, None]).T).T
        kv = starts[:, None] + scen.k_grades * ranges[:, None] + dk[:, None]
        ks = score_kr_values(model, kv.T).T
        obj = scen.roll(ms, ks)["objective"][o_pos]
        return float(np.mean(obj >= green - 1e-9))

    budget = 1_500_000.0
    best, cost, _ = _brute_force(model, budget, value)
    res = plan_portfolio(
        model, budget=budget, target=target, goal="p_green", samples=samples, seed=seed, elapsed=0.5
    )
    assert res.after == pytest.approx(best, abs=1e-12)
    assert res.budget_used == cost
    assert res.before == pytest.approx(value((0,) * 12), abs=1e-12)
    assert res.after > res.before
    # P(green) before is simulate()'s, for the same seed (float32 storage aside)
    ref = stratlab.simulate(model, samples=samples, seed=seed, elapsed=0.5).summary()
    assert res.before == pytest.approx(
        float(ref.set_index("id").loc[target, "p_green"]), abs=2 / samples
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"budget": 0},
            r"a budget of 0 funds nothing: the cheapest initiative, demand_forecasting",
        ),
        ({"budget": 50_000}, r"funds nothing"),
        ({"budget": "lots"}, r"is not a number"),
        ({"budget": 600_000, "goal": "p_gren"}, r"did you mean 'p_green'"),
        ({"budget": 600_000, "target": "finance"}, r"did you mean 'financial'"),
        ({"budget": 600_000, "goal": "p_green", "samples": 0}, r"samples=0 must be"),
    ],
)
def test_portfolio_bad_input(example: Any, kwargs: dict[str, Any], match: str) -> None:
    model, _ = example
    with pytest.raises(stratlab.InputError, match=match):
        plan_portfolio(model, **kwargs)


def test_portfolio_needs_priced_initiatives() -> None:
    data = make_random_map(seed=1, n_initiatives=2)
    del data["initiatives"][0]["budget"]
    with pytest.raises(stratlab.InputError, match=r"without a budget: init01"):
        plan_portfolio(data, budget=1e6)
    data["initiatives"] = []
    with pytest.raises(stratlab.InputError, match=r"no initiatives"):
        plan_portfolio(data, budget=1e6)


def test_portfolio_on_the_example(example: Any) -> None:
    model, history = example
    res = plan_portfolio(model, history, budget=600_000, target="financial")
    assert res.budget_used <= 600_000
    assert res.after >= res.before
    assert "PortfolioResult" in repr(res) and "<table" in res._repr_html_()


@pytest.mark.parametrize("seed", range(6))
def test_goal_seek_plans_hold_in_whatif_on_random_maps(seed: int) -> None:
    """Bands, stretch caps, inverse and feedback links, drivers: whatif() agrees with the plan."""
    model = stratlab.load_model(make_random_map(seed=seed, n_driver_links=4))
    base = _long_run(model, [])
    objectives = base[(base["kind"] == "objective") & base["score_after"].notna()]
    node = str(objectives["score_after"].idxmin())
    top = model.perspectives[-1].id
    goals = {
        node: float(objectives.loc[node, "score_after"]) + 0.1,
        top: float(base.loc[top, "score_after"]) + 0.1,
    }
    for allow_worse in (False, True):
        try:
            res = goal_seek(model, targets=goals, allow_worse=allow_worse)
        except stratlab.InputError as err:
            assert "can reach at most" in str(err) or "not all together" in str(err)
            continue
        lr = _long_run(model, list(res.changes))
        for target, goal in goals.items():
            assert lr.loc[target, "score_after"] >= goal - 1e-9
        frame = res.to_frame().set_index("id")
        for key in [c.key for c in res.changes]:
            score_after = lr.loc[key, "score_after"]
            assert frame.loc[key, "score_after"] == pytest.approx(score_after, abs=1e-9)
            cap = model.get(key).cap if model.kind_of(key) == "measure" else 1.0
            assert -1e-12 <= score_after <= cap + 1e-12
            if not allow_worse:
                assert score_after >= lr.loc[key, "score_before"] - 1e-12


def test_goal_seek_okr_target_moves_its_key_results(example: Any) -> None:
    model, history = example
    res = goal_seek(model, history, targets={"mobile_first": 0.9})
    assert {c.key for c in res.changes} <= {"app_rating", "checkout_sec", "loyalty_signups"}
    lr = _long_run(model, list(res.changes), history)
    assert lr.loc["mobile_first", "score_after"] >= 0.9 - 1e-9
