"""The quarterly review's "What it takes" section: goal seeking and the portfolio."""

from __future__ import annotations

from pathlib import Path

import pytest

import stratlab


@pytest.mark.kernel
def test_review_shows_what_it_takes(tmp_path: Path) -> None:
    from stratlab.datasets import write_example
    from stratlab.report import run_review

    model_path, history_path = write_example(tmp_path / "ex")
    out = run_review(
        model_path,
        history_path,
        tmp_path / "review.html",
        parameters={"samples": 200, "horizon": 2},
        progress=False,
    )
    html = out.read_text(encoding="utf-8")
    assert "What it takes" in html
    assert "What Financial needs to reach green (0.7)" in html
    model = stratlab.load_model(model_path)
    budget = sum(i.budget or 0.0 for i in model.initiatives) / 2
    chosen = stratlab.plan_portfolio(model, history_path, budget=budget, target="financial")
    assert f"Initiatives to fund with {budget:,.0f} (half of their total)" in html
    assert f"Financial {chosen.before:.3f} → {chosen.after:.3f}" in html
