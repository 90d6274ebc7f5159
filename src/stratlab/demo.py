"""``stratlab demo``: the whole loop on the bundled example organisation."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["run_demo"]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_demo(
    output: str | Path = "stratlab-demo", *, samples: int = 5000, seed: int = 0
) -> dict[str, Path]:
    """Validate, score, check links, calibrate, simulate and review the bundled example.

    Parameters
    ----------
    output : path
        Folder for the outputs (created if missing; the demo's own files in it
        are replaced).
    samples : int
        Monte Carlo samples.
    seed : int
        Seed of every random draw (same seed, same outputs).

    Returns
    -------
    dict
        Name → path of every file written: ``model``, ``history``, ``scores``,
        ``links``, ``calibration``, ``simulation``, ``initiatives``, ``review``.
    """
    from .datasets import write_example
    from .io import atomic_path, load_history, load_model
    from .propagation import rank_initiatives
    from .report import run_review
    from .scoring import score
    from .simulation import simulate
    from .stats import calibrate, check_links

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    model_path, history_path = write_example(out, overwrite=True)
    paths: dict[str, Path] = {"model": model_path, "history": history_path}

    def save(name: str, frame: object) -> None:
        path = out / f"{name}.csv"
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False)  # type: ignore[attr-defined]
        paths[name] = path

    review = out / "review.html"
    # The review runs in its own kernel process: start it first and compute the
    # demo's tables meanwhile (the two use different cores).
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(
            run_review,
            model_path,
            history_path,
            review,
            parameters={"samples": samples, "seed": seed},
            progress=False,
        )
        _say("writing the quarterly review in the background…")
        model = load_model(model_path)
        history = load_history(history_path, model)
        _say(
            f"validated {model_path.name}: {len(model.objectives)} objectives, {len(model.measures)} measures, "
            f"{len(model.links)} links, {len(model.okrs)} OKRs; history {history.index[0]}–{history.index[-1]}"
        )
        scores = score(model, history)
        save("scores", scores)
        counts = scores[scores["kind"] == "objective"]["status"].value_counts().to_dict()
        _say("scored: objectives " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        links = check_links(model, history)
        save("links", links)
        _say(
            "checked links: "
            + ", ".join(f"{k} {v}" for k, v in links["verdict"].value_counts().items())
        )
        save("calibration", calibrate(model, history, seed=seed).to_frame())
        _say("calibrated link weights from history")
        sim = simulate(model, history, samples=samples, seed=seed, elapsed=0.5, progress=False)
        save("simulation", sim.summary())
        _say(f"simulated {samples} Monte Carlo samples")
        save("initiatives", rank_initiatives(model, history))
        pending.result()
    paths["review"] = review
    _say(f"review written: {review.resolve()}")
    return paths
