"""Benchmarks of the propagation engine (ratios measured in the same run; not part of the tests).

(a) Monte Carlo on a generated cascade (1,600 objectives, 3,000 measures, 300 key
    results, 5,000 links, 10,000 samples): ``simulate`` against the floor of drawing
    one normal per input per sample (target ≤ 3×) and against a straightforward
    per-objective numpy loop (target: ``simulate`` ≥ 2× faster).
(b) One what-if on the example (target < 5 ms) and on the cascade (< 50 ms).
(c) Loading the cascade's YAML (< 2 s).
(d) Peak memory of a million samples on the example (< 2 GiB).

Run: ``.venv/bin/python benchmarks/bench_engine.py``
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

from stratlab import compile_model, load_model, simulate, whatif
from stratlab.datasets import load_example, make_cascade
from stratlab.scoring import score_measure_values

SAMPLES = 10_000


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def loop_rollup(model, ms: np.ndarray, ks: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Straightforward roll-up: one numpy vector (all samples) per objective, Gauss–Seidel sweeps."""
    c = compile_model(model)
    n_o = len(c.objectives)
    # OKRs: weighted means of key results (and child OKRs), deepest first
    okr_scores: dict[int, np.ndarray] = {}
    kw = c.kr_weights.tocsr()
    ch = c.okr_children.tocsr()
    pending = list(range(len(c.okrs)))
    while pending:
        rest = []
        for i in pending:
            kids = ch.indices[ch.indptr[i] : ch.indptr[i + 1]]
            if any(int(k) not in okr_scores for k in kids):
                rest.append(i)
                continue
            acc = np.zeros(ms.shape[1])
            tot = 0.0
            for j, w in zip(
                kw.indices[kw.indptr[i] : kw.indptr[i + 1]],
                kw.data[kw.indptr[i] : kw.indptr[i + 1]],
                strict=True,
            ):
                acc += w * ks[j]
                tot += w
            for j, w in zip(kids, ch.data[ch.indptr[i] : ch.indptr[i + 1]], strict=True):
                acc += w * okr_scores[int(j)]
                tot += w
            okr_scores[i] = acc / tot
        pending = rest
    mw, ow, links = c.measure_weights.tocsr(), c.okr_weights.tocsr(), c.all_links.tocsr()
    own = []
    denom = np.zeros(n_o)
    for o in range(n_o):
        acc = np.zeros(ms.shape[1])
        for j, w in zip(
            mw.indices[mw.indptr[o] : mw.indptr[o + 1]],
            mw.data[mw.indptr[o] : mw.indptr[o + 1]],
            strict=True,
        ):
            acc += w * ms[j]
            denom[o] += w
        for j, w in zip(
            ow.indices[ow.indptr[o] : ow.indptr[o + 1]],
            ow.data[ow.indptr[o] : ow.indptr[o + 1]],
            strict=True,
        ):
            acc += w * okr_scores[int(j)]
            denom[o] += w
        denom[o] += np.abs(links.data[links.indptr[o] : links.indptr[o + 1]]).sum()
        own.append(acc)
    order = [c.index[o] for o in c.topological_order]
    a = np.full((n_o, ms.shape[1]), 0.5)
    for _ in range(500):
        change = 0.0
        for o in order:
            new = own[o].copy()
            for j, w in zip(
                links.indices[links.indptr[o] : links.indptr[o + 1]],
                links.data[links.indptr[o] : links.indptr[o + 1]],
                strict=True,
            ):
                new += w * a[j] if w > 0 else -w * (1.0 - a[j])
            new /= denom[o]
            change = max(change, float(np.abs(new - a[o]).max()))
            a[o] = new
        if change < tol:
            break
    return a


def baseline_simulation(model, samples: int, seed: int) -> np.ndarray:
    """Draw as simulate does (normals, Beta grades), score, then the per-objective loop."""
    rng = np.random.default_rng(seed)
    cur = np.array([m.current for m in model.measures], dtype=float)
    rngw = np.array(
        [abs(m.target - m.baseline) if m.target is not None else 1.0 for m in model.measures]
    )
    x = cur + 0.1 * rngw * rng.standard_normal((samples, cur.size))
    ms = score_measure_values(model, x).T
    ks = rng.beta(20.0, 10.0, size=(len(model.key_results), samples))
    return loop_rollup(model, ms, ks)


def main() -> None:
    print("stratlab engine benchmarks (ratios measured in this run)\n")
    # (c) load the cascade's YAML
    data = make_cascade()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cascade.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        t_load = best_of(lambda: load_model(path), repeat=2)
    cascade = load_model(data)
    c = compile_model(cascade)
    n_inputs = len(c.measures) + len(c.key_results)
    print(
        f"cascade: {len(c.objectives)} objectives, {len(c.measures)} measures, "
        f"{len(c.key_results)} key results, {len(cascade.links)} links"
    )
    print(f"(c) load cascade YAML: {t_load:.3f} s (target < 2 s)\n")

    # (a) Monte Carlo
    simulate(cascade, samples=BLOCK_WARM, seed=0, elapsed=0.5)  # warm caches (compile, maps)
    rng = np.random.default_rng(0)
    t_floor = best_of(lambda: rng.standard_normal((n_inputs, SAMPLES)))
    t_sim = best_of(lambda: simulate(cascade, samples=SAMPLES, seed=1, elapsed=0.5))
    t_loop = best_of(lambda: baseline_simulation(cascade, SAMPLES, 1), repeat=1)
    # the loop is the same roll-up: check it on simulate's own leaf samples
    res = simulate(cascade, samples=2000, seed=3, elapsed=0.5, weight_uncertainty=False)
    ms = np.array([res.samples(m) for m in c.measures])
    ks = np.array([res.samples(k) for k in c.key_results])
    got = np.array([res.samples(o) for o in c.objectives])
    err = float(np.nanmax(np.abs(loop_rollup(cascade, ms, ks) - got)))
    print(f"(a) simulate {SAMPLES:,} samples: {t_sim:.3f} s")
    print(
        f"    floor (one normal per input per sample): {t_floor:.3f} s -> ratio {t_sim / t_floor:.2f}x (target <= 3x)"
    )
    print(
        f"    per-objective numpy loop: {t_loop:.3f} s -> simulate is {t_loop / t_sim:.2f}x faster (target >= 2x)"
    )
    print(f"    loop vs simulate on the same leaf samples: max |diff| = {err:.1e}\n")

    # (b) what-if
    model, history = load_example()
    whatif(model, {"wait_min": 5.5}, history).to_frame()  # warm the baseline cache
    t_ex = best_of(lambda: whatif(model, {"wait_min": 5.5}, history).to_frame(), repeat=20)
    mid = c.measures[10]
    whatif(cascade, {mid: 1.0}).to_frame()
    t_cas = best_of(lambda: whatif(cascade, [(mid, "shift", 1.0)]).to_frame(), repeat=10)
    print(
        f"(b) what-if (now, full frame): example {t_ex * 1e3:.2f} ms (target < 5 ms), cascade {t_cas * 1e3:.1f} ms (target < 50 ms)"
    )
    cold = time.perf_counter()
    whatif(load_model(data), [(mid, "shift", 1.0)]).to_frame()
    print(
        f"    cascade, cold (compile + baseline + what-if): {(time.perf_counter() - cold) * 1e3:.0f} ms\n"
    )

    # (d) memory of a million samples on the example, in a fresh process
    # VmHWM (not ru_maxrss, which keeps the parent's high-water mark across fork + exec)
    code = (
        "from stratlab import simulate\n"
        "from stratlab.datasets import load_example\n"
        "m, h = load_example()\n"
        "r = simulate(m, h, samples=1_000_000, seed=1, elapsed=0.5)\n"
        "r.summary()\n"
        "r.variance_share()\n"
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0]\n"
        "print(int(hwm.split()[1]))\n"
    )
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    peak = int(out.stdout.strip().splitlines()[-1]) / 2**20  # KiB -> GiB
    print(
        f"(d) 1,000,000 samples on the example: {time.perf_counter() - t:.1f} s, peak RSS {peak:.2f} GiB, summary and variance shares included (target < 2 GiB)"
    )


BLOCK_WARM = 2048

if __name__ == "__main__":
    main()
