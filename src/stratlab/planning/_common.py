"""What goal seeking and portfolio planning share: leaves, checks, rows of the long-run map."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._util import did_you_mean
from ..errors import InputError, Problem

if TYPE_CHECKING:
    from ..engine import LongRunMap
    from ..model import Model

TARGET_KINDS = ("objective", "perspective", "okr")
TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Leaves:
    """Measures then key results: values, raw-score transform ``(v − b)/r``, caps."""

    ids: list[str]
    kinds: list[str]
    value: np.ndarray
    score: np.ndarray
    b: np.ndarray
    r: np.ndarray  # NaN where the leaf has no linear piece to move along
    cap: np.ndarray
    valid_lo: np.ndarray  # natural-unit range where the raw formula is the score (bands)
    valid_hi: np.ndarray
    n_m: int

    @property
    def raw(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.value - self.b) / self.r


def leaves_of(model: Model, eng: LongRunMap) -> Leaves:
    ids, kinds = [], []
    b, r, cap, vlo, vhi = [], [], [], [], []
    for m, v in zip(model.measures, eng.m_values, strict=True):
        ids.append(m.id)
        kinds.append("measure")
        cap.append(float(m.cap))
        if m.direction == "band":
            lo, hi = m.band or (math.nan, math.nan)
            tol = float(m.tolerance) if m.tolerance else math.nan
            if not (math.isfinite(tol) and tol > 0 and math.isfinite(v)):
                b.append(math.nan)
                r.append(math.nan)
                vlo.append(-math.inf)
                vhi.append(math.inf)
            elif v <= (lo + hi) / 2:  # the low side: rises to 1 at the band's low end
                b.append(lo - tol)
                r.append(tol)
                vlo.append(-math.inf)
                vhi.append(hi)
            else:
                b.append(hi + tol)
                r.append(-tol)
                vlo.append(lo)
                vhi.append(math.inf)
        else:
            base = math.nan if m.baseline is None else float(m.baseline)
            rng = math.nan if m.target is None else float(m.target) - base
            b.append(base)
            r.append(rng if rng != 0 else math.nan)
            vlo.append(-math.inf)
            vhi.append(math.inf)
    for kr in model.key_results:
        ids.append(kr.id)
        kinds.append("key_result")
        rng = float(kr.target) - float(kr.start)
        b.append(float(kr.start))
        r.append(rng if rng != 0 else math.nan)
        cap.append(1.0)
        vlo.append(-math.inf)
        vhi.append(math.inf)
    value = np.concatenate([eng.m_values, eng.k_values]).astype(float)
    score = np.concatenate([eng.m_scores, eng.k_scores]).astype(float)
    r_arr = np.array(r, dtype=float)
    r_arr[~np.isfinite(value)] = np.nan
    return Leaves(
        ids,
        kinds,
        value,
        score,
        np.array(b, dtype=float),
        r_arr,
        np.array(cap, dtype=float),
        np.array(vlo, dtype=float),
        np.array(vhi, dtype=float),
        len(model.measures),
    )


def response(eng: LongRunMap, leaves: Leaves, cols: Sequence[int]) -> Any:
    """Natural-unit long-run change of every leaf per unit natural shift of leaves ``cols``.

    Sparse ``(n_leaves × len(cols))`` (CSC): driver links for measures, the
    key result itself for key results.
    """
    from scipy import sparse

    n = len(leaves.ids)
    cols = [int(j) for j in cols]
    m_pos = [p for p, j in enumerate(cols) if j < leaves.n_m]
    k_pos = [p for p, j in enumerate(cols) if j >= leaves.n_m]
    rows_, cols_, vals = [cols[p] for p in k_pos], list(k_pos), [1.0] * len(k_pos)
    if m_pos:
        drv = eng.driver_response([cols[p] for p in m_pos]).tocoo()
        rows_ += drv.row.tolist()
        cols_ += [m_pos[c] for c in drv.col.tolist()]
        vals += drv.data.tolist()
    return sparse.csc_matrix((vals, (rows_, cols_)), shape=(n, len(cols)))


def score_leaf(model: Model, leaves: Leaves, j: int, values: np.ndarray) -> np.ndarray:
    """Exact score of leaf ``j`` at natural values (any shape), by the scoring rules."""
    from ..engine import measure_params, score_kr_values, score_with_params

    flat = np.asarray(values, dtype=float).ravel()
    if j < leaves.n_m:  # the measure's own parameters, broadcast over the values
        params = {k: v[j] for k, v in measure_params(model).items()}
        out = np.asarray(score_with_params(params, flat), dtype=float)
    else:
        n_k = len(leaves.ids) - leaves.n_m
        arr = np.full((flat.size, n_k), np.nan)
        arr[:, j - leaves.n_m] = flat
        out = score_kr_values(model, arr)[:, j - leaves.n_m]
    return out.reshape(np.shape(values))


# --------------------------------------------------------------------------- checks


def check_target_id(model: Model, node: Any, what: str) -> str:
    if not isinstance(node, str) or node not in model:
        options = [o.id for o in model.objectives] + [p.id for p in model.perspectives]
        options += [o.id for o in model.okrs]
        close = did_you_mean(str(node), options)
        raise InputError(
            Problem(
                f"{what} {node!r} is not an objective, perspective or OKR of the model.",
                fix=close or "use an objective, perspective or OKR id.",
            )
        )
    kind = model.kind_of(node)
    if kind not in TARGET_KINDS:
        raise InputError(
            Problem(
                f"{what} {node!r} is a {kind}; targets are objectives, perspectives or OKRs.",
                fix="target the objective it belongs to, or change it directly with whatif().",
            )
        )
    return node


def check_targets(model: Model, targets: Any) -> dict[str, float]:
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Mapping) or not targets:
        raise InputError(
            Problem(
                f"targets={targets!r} must be a non-empty mapping of node id to score.",
                fix="e.g. targets={'financial': 0.7}.",
            )
        )
    out: dict[str, float] = {}
    for node, goal in targets.items():
        check_target_id(model, node, "target")
        if isinstance(goal, bool) or not isinstance(goal, (int, float, np.number)):
            raise InputError(
                Problem(f"target {node}={goal!r} is not a number.", fix=f"e.g. {{{node!r}: 0.7}}.")
            )
        if not math.isfinite(float(goal)):
            raise InputError(Problem(f"target {node}={goal!r} must be finite.", fix="e.g. 0.7."))
        out[node] = float(goal)
    return out


def node_rows(eng: LongRunMap, nodes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    try:
        em, ek, base = eng.rows(nodes)
    except RuntimeError as exc:  # singular (I − B): a closed loop with gain 1
        raise InputError(
            Problem(
                "the long run of this map is not defined: a feedback loop has gain 1.",
                fix="weaken a link in the loop, or give its objectives a measure or OKR with data.",
            )
        ) from exc
    for node, val in zip(nodes, base, strict=True):
        if not np.isfinite(val):
            raise InputError(
                Problem(
                    f"{node!r} has no score (none of its inputs has data), so it cannot be a target.",
                    fix="give its measures current values or a history.",
                )
            )
    return np.hstack([em, ek]), base


# --------------------------------------------------------------------------- goal seeking


def position(model: Model, node: str) -> int:
    """Position of a node among the nodes of its kind, in model order."""
    kind = model.kind_of(node)
    if kind == "objective":
        return [o.id for o in model.objectives].index(node)
    if kind == "perspective":
        return [p.id for p in model.perspectives].index(node)
    return [o.id for o in model.okrs].index(node)


def score_all(model: Model, leaves: Leaves, values: np.ndarray) -> np.ndarray:
    """Scores of every leaf (rows) at natural values (leaves × samples)."""
    from ..engine import score_kr_values, score_measure_values

    ms = score_measure_values(model, values[: leaves.n_m].T).T
    ks = score_kr_values(model, values[leaves.n_m :].T).T
    return np.vstack([ms, ks])
