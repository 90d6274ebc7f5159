"""The what-if explorer's planning box, headless: make it green, undo, the budget box."""

from __future__ import annotations

import pytest

import stratlab


@pytest.fixture(scope="module")
def example():  # type: ignore[no-untyped-def]
    return stratlab.datasets.load_example()


def test_make_it_green_moves_the_sliders_to_the_plan_and_undo(example) -> None:  # type: ignore[no-untyped-def]
    model, history = example
    ex = stratlab.whatif_explorer(model, history)
    ex.set({"csat": 80.0})  # something moved before: undo must bring it back
    before = {k: float(c.value) for k, c in ex.controls.items()}
    plan = ex.planning.make_green("financial")
    # the explorer's long run (sliders set to the plan) reaches green, as the plan says
    after = ex.result.set_index("id")
    assert after.loc["financial", "score_after"] >= model.thresholds.green - 1e-9
    assert after.loc["financial", "score_after"] == pytest.approx(
        plan.reached["financial"], abs=1e-9
    )
    moved = {c.key for c in plan.changes}
    assert set(ex.changes()) == moved  # csat went back to the model's value
    assert "Goal seek" in ex.planning.output.value
    ex.planning.undo()
    assert {k: float(c.value) for k, c in ex.controls.items()} == before
    ex.planning.undo()  # nothing left to undo: no change
    assert {k: float(c.value) for k, c in ex.controls.items()} == before


def test_make_it_green_out_of_reach_shows_the_message(example) -> None:  # type: ignore[no-untyped-def]
    model, _ = example
    ex = stratlab.whatif_explorer(model)
    ex.planning.node.value = "engagement"
    with pytest.raises(stratlab.InputError, match="engagement can reach at most"):
        ex.planning.make_green("engagement", levers=["absenteeism"])
    ex.planning._safe(lambda: ex.planning.make_green("engagement", levers=["absenteeism"]))
    assert "can reach at most" in ex.planning.output.value
    assert ex.changes() == {}


def test_budget_box_shows_the_portfolio(example) -> None:  # type: ignore[no-untyped-def]
    model, history = example
    ex = stratlab.whatif_explorer(model, history)
    res = ex.planning.plan_budget(600_000, target="financial")
    ref = stratlab.plan_portfolio(model, history, budget=600_000, target="financial")
    assert res.selected == ref.selected
    assert "Portfolio for financial" in ex.planning.output.value
    ex.planning.budget.value = 0.0
    ex.planning._safe(lambda: ex.planning.plan_budget(0.0))
    assert "funds nothing" in ex.planning.output.value
