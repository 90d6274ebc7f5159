"""The what-if engine behind the explorers: a cached baseline, changes in, scores out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model
    from ..typing import HistoryLike


LINK_PREFIX = "link:"
TABLE_COLUMNS = ["id", "kind", "name", "before", "after", "delta", "score_after", "status"]
LINK_SEP = "->"


def link_key(source: str, target: str) -> str:
    """The ``controls`` key of a link-weight control: ``'link:source->target'`` (as in ``whatif``)."""
    return f"{LINK_PREFIX}{source}{LINK_SEP}{target}"


def views_of(model: Model) -> list[str]:
    """``['long run', 'now', 'in 1 month', 'in 2 months', …]`` up to the model's largest lag (≤ 6)."""
    max_lag = min(6, max([lk.lag for lk in model.links] + [0]))
    unit = model.period or "period"
    return ["long run", "now"] + [
        f"in {k} {unit}{'s' if k != 1 else ''}" for k in range(1, max_lag + 1)
    ]


def view_step(view: str) -> int | None:
    """Periods from now of a view: ``None`` for the long run, 0 for now, k for ``in k …``."""
    if view == "long run":
        return None
    if view == "now":
        return 0
    parts = view.split()
    if len(parts) == 3 and parts[0] == "in" and parts[1].isdigit():
        return int(parts[1])
    raise ValueError(view)


def view_caption(view: str) -> str:
    """What a view shows, for the map title and the table."""
    if view == "long run":
        return "long run: every link, lagged ones included, has acted"
    if view == "now":
        return "now: lag-0 links only; lagged causes read from the history"
    return f"{view}: links with a lag up to {view_step(view)} have acted"


# --------------------------------------------------------------------------- engine


class Engine:
    """Instant what-if for one model and history, through :func:`stratlab.propagation.whatif`.

    The history is checked once and the thresholds and base leaf values are read
    once; ``whatif`` caches its baseline on the model, so an update is one
    ``whatif(...).to_frame()`` plus a status column.
    """

    def __init__(self, model: Model, history: HistoryLike) -> None:
        from ..engine import check_history
        from ..propagation import whatif

        self._whatif = whatif
        self.model = model
        self.history = None if history is None else check_history(model, history)
        self.links = {link_key(lk.source, lk.target): lk for lk in model.objective_links}
        base = self._frame({})
        self.ids = base["id"].to_numpy()
        th = [model.status_thresholds(i) for i in self.ids]
        self.green = np.array([t.green for t in th], dtype=float)
        self.amber = np.array([t.amber for t in th], dtype=float)
        self.leaf = (base["kind"].isin(["measure", "key_result"])).to_numpy()
        before = base.set_index("id")["before"]
        self.m_values = before.reindex([m.id for m in model.measures]).to_numpy(dtype=float)
        self.k_values = before.reindex([k.id for k in model.key_results]).to_numpy(dtype=float)

    def _frame(self, changes: Mapping[str, float], view: str = "now") -> pd.DataFrame:
        step = view_step(view)
        result = self._whatif(self.model, dict(changes), self.history, horizon=max(step or 0, 0))
        if view == "long run":
            return result.long_run.copy()
        if not step:
            return result.to_frame()
        return result._frame(*(path[step] for path in result._paths))

    def views(self) -> list[str]:
        """The views of this model: ``long run``, ``now`` and ``in k <period>s`` up to the largest lag."""
        return views_of(self.model)

    def run(
        self, changes: Mapping[str, float], view: str = "long run"
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(what-if frame with a ``status`` column, after-score frame for the map)."""
        import pandas as pd

        from ..engine import status_of

        frame = self._frame(changes, view)
        after = frame["score_after"].to_numpy(dtype=float)
        status = status_of(after, self.green, self.amber)
        frame["status"] = status
        scores = pd.DataFrame(
            {
                "id": self.ids,
                "score": after,
                "status": status,
                "value": np.where(self.leaf, frame["after"].to_numpy(dtype=float), np.nan),
            }
        )
        return frame, scores
