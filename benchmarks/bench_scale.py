"""Benchmark scale: review-batch on generated units through Dask, and Monte Carlo on workers.

Measured in the same run, against baselines measured in the same run:

(a) ``review-batch`` on N generated units (the example model, each unit with its own
    seeded history) on a Dask LocalCluster of 1 worker and of 2 workers: wall time and
    the speed-up ratio (baseline: 1 worker); the local process pool (``--jobs 2``, the
    default backend) for comparison.
(b) per-unit cost against one ``stratlab review`` of the same unit run as its own
    command (baseline: that single review's wall time, Python start-up included):
    overhead = (batch time x workers / N) / single review.
(c) peak memory (max RSS) of this process, of a Dask worker and of the largest review
    kernel (each kernel is a child process of a worker).
(d) Monte Carlo on the 1,600-objective cascade (``datasets.make_cascade``): ``simulate``
    through Dask (2 workers) against the local run (baseline), checked equal to 1e-12.
    The samples are capped by ``limits.sample_values`` (every sample of every node is
    kept): 10^6 samples x ~5,000 nodes would need ~20 GB, so the largest size allowed
    is run and the 10^6 time is extrapolated linearly (printed as such).

Run: ``.venv/bin/python benchmarks/bench_scale.py --units 8`` (not part of the tests;
``--units 40`` is the issue's size and takes ~4 minutes of 2 cores per backend).
"""

from __future__ import annotations

import argparse
import csv
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_units(folder: Path, n: int) -> Path:
    """N units: the example model and a seeded history each; a CSV manifest."""
    from stratlab.datasets import example_paths, generate_history

    model = folder / "northwind.yaml"
    model.write_text(example_paths().model.read_text(encoding="utf-8"), encoding="utf-8")
    manifest = folder / "units.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit", "model", "history"])
        for i in range(n):
            history = folder / f"unit{i:03d}.csv"
            frame = generate_history(seed=100 + i)
            frame.to_csv(history, index_label="period")
            writer.writerow([f"unit{i:03d}", model.name, history.name])
    return manifest


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def worker_peaks(client) -> tuple[float, float]:
    """(max RSS of a worker, max RSS of its largest finished child, i.e. a kernel) in MiB."""

    def peaks() -> tuple[int, int]:
        import resource as r

        return r.getrusage(r.RUSAGE_SELF).ru_maxrss, r.getrusage(r.RUSAGE_CHILDREN).ru_maxrss

    values = list(client.run(peaks).values())
    return max(v[0] for v in values) / 1024, max(v[1] for v in values) / 1024


def bench_batch(n_units: int) -> None:
    import distributed

    from stratlab.report import run_batch

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        root = Path(scratch)
        manifest = make_units(root, n_units)
        # (b) one review as its own command
        cli = Path(sys.executable).with_name("stratlab")
        t_single, _ = timed(
            lambda: subprocess.run(
                [
                    str(cli),
                    "review",
                    str(root / "northwind.yaml"),
                    str(root / "unit000.csv"),
                    "-o",
                    str(root / "single.html"),
                ],
                check=True,
                capture_output=True,
            )
        )
        print(f"(b) one `stratlab review` (baseline): {t_single:.1f} s")
        times: dict[int, float] = {}
        peaks: dict[int, tuple[float, float]] = {}
        for workers in (1, 2):
            with (
                distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                    host="127.0.0.1",
                ) as cluster,
                distributed.Client(cluster) as client,
            ):
                t, table = timed(
                    lambda c=client, w=workers: run_batch(manifest, root / f"dask{w}", client=c)
                )
                assert (table["status"] == "ok").all(), table["error"].tolist()  # type: ignore[index]
                times[workers] = t
                peaks[workers] = worker_peaks(client)
            print(
                f"(a) {n_units} units on Dask, {workers} worker(s): {t:.1f} s ({t / n_units:.2f} s/unit of wall time)"
            )
        t_pool, _ = timed(lambda: run_batch(manifest, root / "pool", jobs=2))
        print(f"(a) local process pool, --jobs 2: {t_pool:.1f} s")
        same = all(
            (root / "dask2" / p.name).read_bytes() == p.read_bytes()
            for p in (root / "pool").iterdir()
        )
        print(f"    Dask outputs equal the local pool's byte for byte: {same}")
        print(f"(a) speed-up 2 workers vs 1 worker: {times[1] / times[2]:.2f}x (ideal 2.00x)")
        per_unit = times[2] * 2 / n_units
        print(
            f"(b) per-unit cost on Dask (2 workers): {per_unit:.2f} s of worker time; "
            f"vs one `stratlab review`: {per_unit / t_single:.2f}x"
        )
        client_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker_mib, kernel_mib = peaks[2]
        print(
            f"(c) peak memory: this process {client_mib:.0f} MiB; a worker {worker_mib:.0f} MiB; "
            f"a review kernel {kernel_mib:.0f} MiB"
        )
        hours = 2000 * per_unit / 3600
        print(
            f"    2,000 units: {hours:.1f} core-hours at this per-unit cost "
            f"(e.g. {hours * 60 / 32:.0f} min on 32 cores)"
        )


def bench_monte_carlo(samples: int) -> None:
    import distributed
    import numpy as np

    from stratlab import compile_model, load_model, simulate
    from stratlab.datasets import make_cascade
    from stratlab.engine import node_table
    from stratlab.limits import Limits

    cascade = load_model(make_cascade())
    c = compile_model(cascade)
    n_nodes = len(node_table(cascade).ids)
    store = Limits().sample_values  # float32 scores: 4 bytes each
    cap = store // n_nodes // 2048 * 2048
    run_n = min(samples, cap)
    print(
        f"\n(d) cascade: {len(c.objectives)} objectives, {n_nodes} nodes; {samples:,} samples asked, "
        f"{run_n:,} run (sample store limit {4 * store / 2**20:.0f} MiB, limits.sample_values)"
    )
    simulate(cascade, samples=2048, seed=0, elapsed=0.5)  # warm caches
    t_local, local = timed(
        lambda: simulate(cascade, samples=run_n, seed=1, elapsed=0.5, progress=False)
    )
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        simulate(
            cascade, samples=2048, seed=0, elapsed=0.5, client=client
        )  # workers import stratlab
        t_dask, remote = timed(
            lambda: simulate(
                cascade, samples=run_n, seed=1, elapsed=0.5, client=client, progress=False
            )
        )
    diff = float(np.nanmax(np.abs(remote._scores - local._scores)))  # type: ignore[attr-defined]
    print(
        f"(d) local (baseline): {t_local:.1f} s; Dask 2 workers: {t_dask:.1f} s; ratio {t_local / t_dask:.2f}x; max |diff| {diff:.1e}"
    )
    if run_n < samples:
        scale = samples / run_n
        print(
            f"    extrapolated to {samples:,} samples (linear; not run: the store would need "
            f"{samples * n_nodes * 4 / 2**30:.1f} GiB): local {t_local * scale:.0f} s, Dask {t_dask * scale:.0f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=8, help="generated units (the issue asks 40)")
    parser.add_argument(
        "--samples", type=int, default=1_000_000, help="Monte Carlo samples on the cascade"
    )
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--skip-mc", action="store_true")
    args = parser.parse_args()
    if not args.skip_batch:
        bench_batch(args.units)
    if not args.skip_mc:
        bench_monte_carlo(args.samples)


if __name__ == "__main__":
    main()
