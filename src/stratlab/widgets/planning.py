"""The what-if explorer's planning box: "make it green" and a budget box.

"Make it green" runs :func:`stratlab.goal_seek` for an objective or
perspective (target: its green threshold) from the model's current values and
moves the explorer's sliders to the plan; "Undo" puts them back.  The budget
box runs :func:`stratlab.plan_portfolio` and shows the chosen initiatives.
Headless use: ``explorer.planning.make_green("financial")``,
``explorer.planning.undo()``, ``explorer.planning.plan_budget(600_000)``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    from ..planning import GoalSeekResult, PortfolioResult
    from .whatif import WhatIfExplorer


class PlanningPanel:
    """Goal seeking and portfolio planning wired to a :class:`WhatIfExplorer`.

    Attributes
    ----------
    node : ipywidgets.Dropdown
        The objective or perspective to make green.
    budget : ipywidgets.FloatText
        Money available to the budget box.
    output : ipywidgets.HTML
        The last plan, portfolio or message.
    plan : GoalSeekResult or None
        The last goal-seeking plan applied to the sliders.
    portfolio : PortfolioResult or None
        The last portfolio.
    widget : ipywidgets.Widget
    """

    def __init__(self, explorer: WhatIfExplorer, history: Any = None) -> None:
        import ipywidgets as w

        self.explorer = explorer
        self.history = history
        model = explorer.model
        options = [(f"{p.name} (perspective)", p.id) for p in reversed(model.perspectives)]
        options += [(o.name, o.id) for o in model.objectives]
        make = explorer._make
        self.node = make(w.Dropdown, options=options, description="Target", layout={"width": "98%"})
        green = make(w.Button, description="Make it green", icon="bullseye")
        undo = make(w.Button, description="Undo", icon="undo", tooltip="sliders back as before")
        green.on_click(lambda _b: self._safe(lambda: self.make_green(str(self.node.value))))
        undo.on_click(lambda _b: self.undo())
        self.budget = make(w.FloatText, description="Budget", layout={"width": "60%"})
        fund = make(
            w.Button, description="Fund", icon="money", tooltip="best initiatives for the target"
        )
        fund.on_click(
            lambda _b: self._safe(
                lambda: self.plan_budget(float(self.budget.value), target=str(self.node.value))
            )
        )
        self.output = make(w.HTML)
        self.plan: GoalSeekResult | None = None
        self.portfolio: PortfolioResult | None = None
        self._undo: list[dict[str, float]] = []
        rows = [self.node, make(w.HBox, [green, undo])]
        if model.initiatives:
            rows.append(make(w.HBox, [self.budget, fund]))
        rows.append(self.output)
        self.widget = make(w.VBox, rows)

    def _safe(self, action: Any) -> None:
        try:
            action()
        except InputError as err:
            self.output.value = f"<span style='color:#D55E00'>{html.escape(str(err))}</span>"

    def make_green(self, node: str, *, levers: list[str] | None = None) -> GoalSeekResult:
        """Move the sliders to the smallest plan that makes ``node`` green in the long run.

        The plan starts from the model's values (other sliders go back to them)
        and its levers are set to their long-run values; :meth:`undo` restores
        the sliders as they were.
        """
        from ..planning import goal_seek

        ex = self.explorer
        green = ex.model.thresholds.green
        plan = goal_seek(ex.model, self.history, targets={node: green}, levers=levers)
        frame = plan.to_frame()
        moves = frame[frame["kind"].isin(["measure", "key_result"])]
        self._undo.append({k: float(c.value) for k, c in ex.controls.items()})
        with ex.hold():
            ex.reset()
            for lid, after in zip(moves["id"], moves["after"], strict=True):
                ctl = ex.controls[lid]
                if after > ctl.max:
                    ctl.max = float(after)
                if after < ctl.min:
                    ctl.min = float(after)
                ctl.value = float(after)
        self.plan = plan
        self.output.value = plan.html()
        return plan

    def undo(self) -> None:
        """Sliders back to where they were before the last "make it green" (if any)."""
        if not self._undo:
            return
        values = self._undo.pop()
        ex = self.explorer
        with ex.hold():
            for key, val in values.items():
                ex.controls[key].value = val
        self.output.value = ""

    def plan_budget(
        self, budget: float, *, target: str | None = None, goal: str = "effect"
    ) -> PortfolioResult:
        """The initiatives to fund within ``budget`` for ``target`` (:func:`stratlab.plan_portfolio`)."""
        from ..planning import plan_portfolio

        ex = self.explorer
        result = plan_portfolio(ex.model, self.history, budget=budget, target=target, goal=goal)
        self.portfolio = result
        self.output.value = result.html()
        return result
