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
        result = self._whatif(self.model, dict(changes), self.history, horizon=0)
        return result.long_run.copy() if view == "long run" else result.to_frame()

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
