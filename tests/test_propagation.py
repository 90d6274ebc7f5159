"""The propagation engine against an independent dense (I − B)⁻¹ computation kept here."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from stratlab import InputError, StratlabWarning, load_model, score
from stratlab.datasets import load_example, make_random_map
from stratlab.propagation import (
    parse_changes,
    rank_initiatives,
    sensitivity,
    simulate_dynamics,
    total_effects,
    whatif,
)

# --------------------------------------------------------------------------- dense reference


def ref_measure_score(m, v: float) -> float:
    if v is None or math.isnan(v):
        return math.nan
    if m.direction == "band":
        lo, hi = m.band
        out = max(lo - v, v - hi)
        raw = 1.0 if out <= 0 else 1.0 - out / m.tolerance
    else:
        raw = (v - m.baseline) / (m.target - m.baseline)
    return min(max(raw, 0.0), m.cap)


def ref_kr_score(kr, v: float) -> float:
    if v is None or math.isnan(v):
        return math.nan
    return min(max((v - kr.start) / (kr.target - kr.start), 0.0), 1.0)


def ref_rollup(model, mval: dict, kval: dict, lagged: dict | None = None) -> dict:
    """Scores of objectives and perspectives, written from DESIGN.md with dense numpy."""
    ms = {m.id: ref_measure_score(m, mval[m.id]) for m in model.measures}
    ks = {kr.id: ref_kr_score(kr, kval[kr.id]) for kr in model.key_results}
    okrs = [o.id for o in model.okrs]
    # OKR availability grows from key results up the cascade
    avail = {o.id: any(not math.isnan(ks[kr.id]) for kr in o.key_results) for o in model.okrs}
    changed = True
    while changed:
        changed = False
        for o in model.okrs:
            if not avail[o.id] and any(c.aligns_to == o.id and avail[c.id] for c in model.okrs):
                avail[o.id] = changed = True
    n = len(okrs)
    a = np.eye(n)
    b = np.zeros(n)
    for i, o in enumerate(model.okrs):
        if not avail[o.id]:
            continue
        terms: list[tuple[str | None, float, float | None]] = [
            (None, kr.weight, ks[kr.id]) for kr in o.key_results if not math.isnan(ks[kr.id])
        ]
        terms += [(c.id, c.weight, None) for c in model.okrs if c.aligns_to == o.id and avail[c.id]]
        w = sum(t[1] for t in terms)
        for cid, wt, val in terms:
            if cid is None:
                b[i] += wt * (val or 0.0) / w
            else:
                a[i, okrs.index(cid)] -= wt / w
    okr = dict(zip(okrs, np.linalg.solve(a, b) if n else [], strict=True))
    # objectives
    objs = [o.id for o in model.objectives]
    oi = {k: i for i, k in enumerate(objs)}
    own: dict[str, list[tuple[float, float]]] = {k: [] for k in objs}
    for m in model.measures:
        if not math.isnan(ms[m.id]):
            own[m.objective].append((m.weight, ms[m.id]))
    for o in model.okrs:
        if o.aligns_to in oi and avail[o.id]:
            own[o.aligns_to].append((o.weight, okr[o.id]))
    links = model.objective_links
    coupled = [lk for lk in links if lagged is None or lk.lag == 0]
    fixed = [] if lagged is None else [lk for lk in links if lk.lag > 0]
    for lk in fixed:
        assert lagged is not None
        x = lagged[lk.lag][lk.source]
        if not math.isnan(x):
            w = lk.weight
            own[lk.target].append((abs(w), x if w > 0 else 1.0 - x))
    have = {k: bool(own[k]) for k in objs}
    changed = True
    while changed:
        changed = False
        for lk in coupled:
            if have[lk.source] and not have[lk.target]:
                have[lk.target] = changed = True
    n = len(objs)
    a = np.eye(n)
    b = np.zeros(n)
    for k in objs:
        if not have[k]:
            continue
        i = oi[k]
        inc = [lk for lk in coupled if lk.target == k and have[lk.source]]
        w = sum(t[0] for t in own[k]) + sum(abs(lk.weight) for lk in inc)
        b[i] = sum(wt * v for wt, v in own[k]) / w
        for lk in inc:
            if lk.weight > 0:
                a[i, oi[lk.source]] -= lk.weight / w
            else:
                a[i, oi[lk.source]] += abs(lk.weight) / w
                b[i] += abs(lk.weight) / w
    sol = np.linalg.solve(a, b)
    out = {k: (sol[oi[k]] if have[k] else math.nan) for k in objs}
    for p in model.perspectives:
        pterms = [(o.weight, out[o.id]) for o in model.objectives if o.perspective == p.id]
        pterms = [t for t in pterms if not math.isnan(t[1])]
        w = sum(t[0] for t in pterms)
        out[p.id] = sum(a_ * b_ for a_, b_ in pterms) / w if w > 0 else math.nan
    return out


def ref_driver_delta(model, u: dict, *, lag0_only: bool) -> dict:
    ids = [m.id for m in model.measures]
    n = len(ids)
    d = np.zeros((n, n))
    for lk in model.driver_links:
        if lag0_only and lk.lag > 0:
            continue
        d[ids.index(lk.target), ids.index(lk.source)] += lk.coefficient
    vec = np.array([u.get(k, 0.0) for k in ids])
    return dict(zip(ids, np.linalg.solve(np.eye(n) - d, vec), strict=True))


# --------------------------------------------------------------------------- fixtures


def chain_model() -> dict:
    """The employee–customer–profit chain (coefficients 0.26 and 0.5/1.3)."""
    return {
        "stratlab": 1,
        "name": "Chain",
        "objectives": [
            {"id": "people", "name": "Engaged employees", "perspective": "learning"},
            {"id": "customers", "name": "Compelling place to shop", "perspective": "customer"},
            {"id": "profit", "name": "Compelling place to invest", "perspective": "financial"},
        ],
        "measures": [
            {"id": "employee_attitude", "name": "Employee attitude", "objective": "people",
             "baseline": 0, "target": 100, "current": 50},
            {"id": "customer_impression", "name": "Customer impression", "objective": "customers",
             "baseline": 0, "target": 100, "current": 50},
            {"id": "revenue_growth", "name": "Revenue growth", "objective": "profit",
             "baseline": -50, "target": 50, "current": 0},
        ],
        "links": [
            {"from": "employee_attitude", "to": "customer_impression", "coefficient": 0.26},
            {"from": "customer_impression", "to": "revenue_growth", "coefficient": 0.5 / 1.3},
            {"from": "people", "to": "customers", "weight": 0.5},
            {"from": "customers", "to": "profit", "weight": 0.5},
        ],
    }  # fmt: skip


def worse_before_better() -> dict:
    """Training costs profit now (inverse lag-0 link) and pays off more, later (via quality, lag 2)."""
    return {
        "stratlab": 1,
        "name": "J-curve",
        "objectives": [
            {"id": "skills", "name": "Skills", "perspective": "learning"},
            {"id": "quality", "name": "Quality", "perspective": "process"},
            {"id": "profit", "name": "Profit", "perspective": "financial"},
        ],
        "measures": [
            {"id": "training_h", "name": "Training hours", "objective": "skills",
             "baseline": 0, "target": 40, "current": 10},
            {"id": "margin", "name": "Margin", "objective": "profit",
             "baseline": 0, "target": 20, "current": 10},
        ],
        "links": [
            {"from": "skills", "to": "profit", "weight": -0.3, "rationale": "time off the floor"},
            {"from": "skills", "to": "quality", "weight": 1.0, "lag": 2},
            {"from": "quality", "to": "profit", "weight": 0.6},
        ],
    }  # fmt: skip


# --------------------------------------------------------------------------- tests


def test_chain_reproduces_published_figures():
    res = whatif(chain_model(), [("employee_attitude", "shift", 5)])
    d = res.to_frame().set_index("id")["delta"]
    assert d["employee_attitude"] == pytest.approx(5.0, abs=1e-12)
    assert d["customer_impression"] == pytest.approx(1.3, abs=1e-12)
    assert d["revenue_growth"] == pytest.approx(0.5, abs=1e-12)
    # the same through the command-line parser, and in the long run
    res2 = whatif(chain_model(), parse_changes([], shifts=["employee_attitude=5"]))
    lr = res2.long_run.set_index("id")["delta"]
    assert lr["revenue_growth"] == pytest.approx(0.5, abs=1e-12)
    assert res2.delta["customer_impression"] == pytest.approx(1.3, abs=1e-12)


def test_frame_columns_and_scores_match_score():
    model, history = load_example()
    res = whatif(model, {"wait_min": 6.5}, history)
    f = res.to_frame()
    assert list(f.columns) == [
        "id", "kind", "name", "before", "after", "delta",
        "score_before", "score_after", "score_delta",
    ]  # fmt: skip
    s = score(model, history)
    assert list(f["id"]) == list(s["id"])
    np.testing.assert_allclose(f["score_before"], s["score"], atol=1e-12)
    row = f.set_index("id").loc["wait_min"]
    assert row["after"] == 6.5
    assert "<table" in res._repr_html_() and "wait_min" in res.html()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_whatif_matches_dense_reference(seed):
    model = load_model(make_random_map(seed=seed, n_driver_links=3))
    rng = np.random.default_rng(seed)
    mval = {m.id: m.current for m in model.measures}
    kval = {kr.id: kr.current for kr in model.key_results}
    lin_ms = [m for m in model.measures if m.direction != "band"]
    m1, m2 = rng.choice(len(lin_ms), 2, replace=False)
    shift = 0.3 * (lin_ms[m1].target - lin_ms[m1].baseline)
    setv = lin_ms[m2].baseline + 0.5 * (lin_ms[m2].target - lin_ms[m2].baseline)
    kr = model.key_results[int(rng.integers(len(model.key_results)))]
    kset = kr.start + 0.8 * (kr.target - kr.start)
    changes = [
        (lin_ms[m1].id, "shift", shift),
        (lin_ms[m2].id, "set", setv),
        (kr.id, "set", kset),
    ]
    res = whatif(model, changes, horizon=3)

    before = ref_rollup(model, mval, kval)  # no history: the steady state
    # long run: driver deltas with every lag, the set measure pinned
    pinned = lin_ms[m2].id
    cut = model.replace(links=[lk for lk in model.links if lk.target != pinned])
    u = {lin_ms[m1].id: shift, pinned: setv - mval[pinned]}
    du = ref_driver_delta(cut, u, lag0_only=False)
    after_m = {k: mval[k] + du[k] for k in mval}
    after_m[pinned] = setv
    after_k = dict(kval, **{kr.id: kset})
    after = ref_rollup(model, after_m, after_k)
    lr = res.long_run.set_index("id")
    for node in [o.id for o in model.objectives] + [p.id for p in model.perspectives]:
        exp = after[node] - before[node]
        got = lr.loc[node, "delta"]
        assert (math.isnan(exp) and math.isnan(got)) or abs(got - exp) < 1e-9, node
    # now: lag-0 drivers and links, lagged causes at their values before
    du0 = ref_driver_delta(cut, u, lag0_only=True)
    now_m = {k: mval[k] + du0[k] for k in mval}
    now_m[pinned] = setv
    lags = {lk.lag for lk in model.objective_links if lk.lag > 0}
    now = ref_rollup(model, now_m, after_k, dict.fromkeys(lags, before))
    f = res.to_frame().set_index("id")
    for node in [o.id for o in model.objectives] + [p.id for p in model.perspectives]:
        exp = now[node] - before[node]
        got = f.loc[node, "delta"]
        assert (math.isnan(exp) and math.isnan(got)) or abs(got - exp) < 1e-9, node
    for m in model.measures:
        assert f.loc[m.id, "after"] == pytest.approx(now_m[m.id], abs=1e-9)
    # the trajectory starts at now
    tr = res.trajectory
    t0 = tr[tr["period"] == 0].set_index("id")
    np.testing.assert_allclose(t0["delta"], f["delta"], atol=1e-12)


def test_link_weight_change_matches_reference():
    model = load_model(make_random_map(seed=11))
    lk = next(lk for lk in model.objective_links if lk.lag == 0)
    res = whatif(model, [(f"link:{lk.source}->{lk.target}", "set", 0.9)])
    new = model.replace(
        links=[
            type(x)(source=x.source, target=x.target, weight=0.9, lag=x.lag)
            if (x.source, x.target) == (lk.source, lk.target)
            else x
            for x in model.links
        ]
    )
    mval = {m.id: m.current for m in model.measures}
    kval = {kr.id: kr.current for kr in model.key_results}
    exp = ref_rollup(new, mval, kval)
    lr = res.long_run.set_index("id")
    for o in model.objectives:
        assert lr.loc[o.id, "after"] == pytest.approx(exp[o.id], abs=1e-9, nan_ok=True)
    # shell-safe spelling gives the same
    res2 = whatif(model, [(f"link:{lk.source}:{lk.target}", "set", 0.9)])
    np.testing.assert_allclose(res2.long_run["after"], res.long_run["after"], atol=1e-12)


def test_worse_before_better():
    res = whatif(worse_before_better(), [("training_h", "shift", 20)], horizon=4)
    tr = res.trajectory
    profit = tr[tr["id"] == "profit"].set_index("period")["delta"]
    dskills = 20 / 40  # score change of the only measure of skills
    w = 1 + 0.3 + 0.6  # margin weight + |links|
    assert profit[0] == pytest.approx(-0.3 * dskills / w, abs=1e-12)
    assert profit[1] == pytest.approx(-0.3 * dskills / w, abs=1e-12)
    for t in (2, 3, 4):
        assert profit[t] == pytest.approx(0.3 * dskills / w, abs=1e-12)
    assert profit[0] < 0 < profit[2]
    lr = res.long_run.set_index("id")
    assert lr.loc["profit", "delta"] == pytest.approx(profit[4], abs=1e-12)


def test_unstable_driver_loop_warns():
    d = chain_model()
    d["links"] = [
        {"from": "employee_attitude", "to": "customer_impression", "coefficient": 2.0, "lag": 1},
        {"from": "customer_impression", "to": "employee_attitude", "coefficient": 0.8, "lag": 1},
    ]
    res = whatif(d, [("employee_attitude", "shift", 1)], horizon=6)
    with pytest.warns(StratlabWarning, match="feedback loop .* gain"):
        tr = res.trajectory
    assert res.spectral_radius == pytest.approx(math.sqrt(1.6), rel=1e-9)
    ea = tr[tr["id"] == "employee_attitude"].set_index("period")["delta"]
    assert abs(ea[6]) > abs(ea[2])  # grows


def test_loop_check_remembered_per_state_still_warns_and_sees_pinning():
    """The loops are found once per (scores, coverage, pinned measures) of a compiled model.

    A repeated what-if warns again with the same radius; setting a loop measure (pinned: its
    driver row no longer applies) breaks the driver loop, even after the unpinned state was
    remembered.
    """
    from stratlab.engine._stability import _FOUND

    d = chain_model()
    d["links"] = [
        {"from": "employee_attitude", "to": "customer_impression", "coefficient": 2.0, "lag": 1},
        {"from": "customer_impression", "to": "employee_attitude", "coefficient": 0.8, "lag": 1},
    ]
    model = load_model(d)
    for value in (1.0, 2.0, 1.0):
        res = whatif(model, [("employee_attitude", "shift", value)], horizon=0)
        with pytest.warns(StratlabWarning, match="feedback loop .* gain"):
            assert res.spectral_radius == pytest.approx(math.sqrt(1.6), rel=1e-9)
    pinned = whatif(model, {"employee_attitude": 50.0}, horizon=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StratlabWarning)
        assert pinned.spectral_radius == 0.0
    memo = _FOUND[pinned._applied.compiled]
    assert len(memo) == 2  # one unpinned state (three what-ifs), one pinned
    assert sorted(len(found) for found in memo.values()) == [0, 1]


def test_stable_feedback_does_not_warn():
    model, _ = load_example()
    with warnings.catch_warnings():
        warnings.simplefilter("error", StratlabWarning)
        out = simulate_dynamics(model, {"nps": 45}, horizon=4)
    assert set(out["period"]) == {0, 1, 2, 3, 4}
    assert list(out.columns[:3]) == ["period", "id", "kind"]


def test_total_effects_match_whatif_and_lags_add_up():
    model = load_model(chain_model())
    te = total_effects(model)
    assert list(te.columns) == ["input", "input_kind", "objective", "effect"]
    e = te.set_index(["input", "objective"])["effect"]
    # a unit score of employee attitude (100 points) -> driver chain + links
    res = whatif(model, [("employee_attitude", "shift", 1.0)]).long_run.set_index("id")
    assert e["employee_attitude", "profit"] * 0.01 == pytest.approx(
        res.loc["profit", "delta"], abs=1e-12
    )
    bl = total_effects(model, by_lag=True)
    assert list(bl.columns) == ["input", "input_kind", "objective", "lag", "effect"]
    sums = bl.groupby(["input", "objective"])["effect"].sum()
    for key, val in e.items():
        assert sums[key] == pytest.approx(val, abs=1e-10)


def test_total_effects_example_by_lag_sums():
    model, _ = load_example()
    te = total_effects(model).set_index(["input", "objective"])["effect"]
    bl = total_effects(model, by_lag=True)
    sums = bl.groupby(["input", "objective"])["effect"].sum()
    # every non-negligible total effect is split over lags, and the lags add up to it
    both = te.index.union(sums.index)
    np.testing.assert_allclose(
        sums.reindex(both, fill_value=0.0), te.reindex(both, fill_value=0.0), atol=1e-9
    )
    assert bl["lag"].max() >= 2


def test_sensitivity_ranked_and_linear():
    model, history = load_example()
    sens = sensitivity(model, history, top=4)
    assert list(sens.columns) == ["input", "input_kind", "objective", "low", "high", "swing"]
    top = {o.id for o in model.objectives if o.perspective == model.perspectives[-1].id}
    assert set(sens["objective"]) <= top
    for _, grp in sens.groupby("objective"):
        assert len(grp) <= 4
        sw = grp["swing"].abs().to_numpy()
        assert (np.diff(sw) <= 1e-15).all()
    # the top input of growth agrees with a what-if on its score (no clipping, no drivers)
    s = score(model, history).set_index("id")
    g = sens[sens["objective"] == "growth"].iloc[0]
    m = model.get(g["input"])
    res = whatif(model, {m.id: m.target}, history).long_run.set_index("id")
    frac = 1.0 - s.loc[m.id, "score"]
    assert res.loc["growth", "delta"] == pytest.approx(frac * g["swing"], abs=1e-9)


def test_rank_initiatives():
    model, _ = load_example()
    r = rank_initiatives(model)
    assert list(r.columns) == [
        "id",
        "name",
        "target",
        "budget",
        "effect",
        "effect_per_1k",
        "rank",
        "note",
    ]
    assert list(r["rank"]) == [1, 2, 3, 4]
    assert (r["target"] == "financial").all()
    ratios = r["effect_per_1k"].to_numpy()
    assert (np.diff(ratios) <= 0).all()
    ini = model.initiatives[0]
    lr = whatif(model, [(k, "shift", v) for k, v in ini.uplift]).long_run.set_index("id")
    row = r.set_index("id").loc[ini.id]
    assert row["effect"] == pytest.approx(lr.loc["financial", "delta"], abs=1e-12)
    assert row["effect_per_1k"] == pytest.approx(row["effect"] * 1000 / ini.budget)
    per = rank_initiatives(model, per=100_000)
    assert per["effect_per_100k"].tolist() == pytest.approx((r["effect_per_1k"] * 100).tolist())
    # no budget: NaN ratio, ranked last
    d = model.to_dict()
    d["initiatives"][0].pop("budget")
    r2 = rank_initiatives(d)
    assert r2.iloc[-1]["id"] == d["initiatives"][0]["id"]
    assert math.isnan(r2.iloc[-1]["effect_per_1k"])


def test_rank_initiatives_by_any_target_and_why_nothing_moves():
    import warnings

    from stratlab.errors import InputError, StratlabWarning

    model, _ = load_example()
    by_customer = rank_initiatives(model, target="customer")
    for row in by_customer.itertuples():  # independent: the what-if on customer
        ini = next(i for i in model.initiatives if i.id == row.id)
        lr = whatif(model, [(k, "shift", v) for k, v in ini.uplift]).long_run.set_index("id")
        assert row.effect == pytest.approx(lr.loc["customer", "delta"], abs=1e-12)
    assert (np.diff(by_customer["effect_per_1k"].to_numpy()) <= 0).all()
    # wait_min measures speed, which feeds experience and margin, never quality
    d = model.to_dict()
    d["initiatives"].append(
        {"id": "queue_app", "name": "Queue app", "budget": 1000, "uplift": {"wait_min": -1}}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", StratlabWarning)
        ranked = rank_initiatives(d, target="quality").set_index("id")
    assert ranked.loc["queue_app", "effect"] == 0
    assert ranked.loc["queue_app", "note"] == "wait_min does not reach quality: no path"
    # nothing moves at all: a warning
    only = dict(d, initiatives=[d["initiatives"][-1]])
    with pytest.warns(StratlabWarning, match="no initiative moves quality"):
        rank_initiatives(only, target="quality")
    with pytest.raises(InputError, match="did you mean 'customer'"):
        rank_initiatives(model, target="custmer")
    with pytest.raises(InputError, match="per=0 must be a positive amount"):
        rank_initiatives(model, per=0)


# --------------------------------------------------------------------------- bad inputs


def test_unknown_id_suggests():
    model, _ = load_example()
    with pytest.raises(InputError, match=r"'np' is not a measure.*did you mean 'nps'"):
        whatif(model, {"np": 40})
    with pytest.raises(InputError, match="'speed' is a objective"):
        whatif(model, {"speed": 1})
    with pytest.raises(InputError, match="no link speed → growth"):
        whatif(model, [("link:speed->growth", "set", 0.5)])
    with pytest.raises(InputError, match=r"unknown operation 'add'.*use 'set' or 'shift'"):
        whatif(model, [("nps", "add", 1)])
    with pytest.raises(InputError, match="not a finite number"):
        whatif(model, [("nps", "set", "high")])
    with pytest.raises(InputError, match="horizon"):
        whatif(model, {"nps": 40}, horizon=-1)
    with pytest.raises(InputError, match="is a string"):
        whatif(model, "nps=40")


def test_parse_changes():
    ch = parse_changes(["nps=40", "link:speed->loyalty=0.7"], shifts=["wait_min=-1"])
    assert [(c.key, c.op, c.value) for c in ch] == [
        ("nps", "set", 40.0),
        ("link:speed->loyalty", "set", 0.7),
        ("wait_min", "shift", -1.0),
    ]
    with pytest.raises(InputError, match=r"--set 'nps': expected ID=VALUE.*--set nps=40"):
        parse_changes(["nps"])
    with pytest.raises(InputError, match=r"--shift 'wait_min=abc': 'abc' is not a number"):
        parse_changes(shifts=["wait_min=abc"])
    model, _ = load_example()
    with pytest.raises(InputError, match="did you mean 'wait_min'"):
        parse_changes(["wait_mn=3"], model=model)


def test_sensitivity_bad_options():
    model, _ = load_example()
    with pytest.raises(InputError, match="top=0 must be"):
        sensitivity(model, top=0)
    with pytest.raises(InputError, match="low=nan is not a finite number"):
        sensitivity(model, low=float("nan"))


def test_long_run_after_is_the_long_run_score_column():
    """The frame-less long run of scenario sweeps: exactly long_run["score_after"]."""
    model, history = load_example()
    for changes in (None, {model.measures[0].id: 0.0}, {model.key_results[0].id: 1.0}):
        res = whatif(model, changes, history, horizon=0)
        np.testing.assert_array_equal(
            res._long_run_after(), res.long_run["score_after"].to_numpy(dtype=float)
        )


@pytest.mark.parametrize("seed", [3, 8])
def test_dense_and_sparse_driver_paths_agree(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small maps read driver matrices densely; large ones sparsely: the same what-if."""
    import stratlab.engine._compile as compile_module
    from stratlab.engine import compile_model

    data = make_random_map(seed=seed, n_driver_links=5)
    drivers = [lk for lk in load_model(data).driver_links]
    assert drivers
    changes = [(drivers[0].source, "shift", 1.5), (drivers[-1].source, "shift", -0.7)]
    dense_model = load_model(data)
    dense = whatif(dense_model, changes, horizon=4)
    assert compile_model(dense_model).dense_drivers is not None
    monkeypatch.setattr(compile_module, "_DENSE_LIMIT", 0)
    sparse_model = load_model(data)
    sparse = whatif(sparse_model, changes, horizon=4)
    assert compile_model(sparse_model).dense_drivers is None
    for view in ("long run", "trajectory"):
        got, ref = sparse.to_frame(view), dense.to_frame(view)
        np.testing.assert_allclose(
            got["after"].to_numpy(dtype=float), ref["after"].to_numpy(dtype=float), atol=1e-12
        )


def test_long_run_sweep_is_one_whatif_per_value() -> None:
    """whatif_scenarios' sweep: each row is that value's whatif long run, the current value
    (no change at all) and a key result included; drivers moved as one what-if moves them."""
    from stratlab.propagation import _long_run_sweep

    model, history = load_example()
    measure = next(m for m in model.measures if any(lk.source == m.id for lk in model.driver_links))
    now = whatif(model, None, history).long_run.set_index("id").loc[measure.id, "before"]
    kr = model.key_results[0]
    for input_id, values in (
        (measure.id, [measure.baseline, float(now), measure.target, 2 * measure.target]),
        (kr.id, [kr.start, kr.target]),
    ):
        rows = _long_run_sweep(model, history, input_id, values)
        assert rows.shape == (len(values), len(whatif(model, None).long_run))
        for row, value in zip(rows, values, strict=True):
            ref = whatif(model, {input_id: value}, history, horizon=0)._long_run_after()
            np.testing.assert_allclose(row, ref, rtol=0, atol=1e-12)
    random_map = load_model(make_random_map(seed=5, n_driver_links=4))
    source = random_map.driver_links[0].source
    rows = _long_run_sweep(random_map, None, source, [0.0, 10.0])
    for row, value in zip(rows, [0.0, 10.0], strict=True):
        ref = whatif(random_map, {source: value}, horizon=0)._long_run_after()
        np.testing.assert_allclose(row, ref, rtol=0, atol=1e-12)


def test_the_baseline_linear_system_is_built_once() -> None:
    """sensitivity, simulate and goal seeking share one linear system per baseline."""
    from stratlab.engine import baseline_system, get_baseline, linear_system

    model, history = load_example()
    base = get_baseline(model, history, None)
    shared = baseline_system(base)
    assert baseline_system(get_baseline(model, history, None)) is shared
    fresh = linear_system(base.compiled, base.m_scores, base.k_scores)
    for got, ref in zip(shared.effects, fresh.effects, strict=True):
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-15)
