"""Stability of the feedback loops: spectral radius and the loops that make it."""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import StratlabWarning
from ._compile import Compiled

if TYPE_CHECKING:
    from scipy import sparse


# --------------------------------------------------------------------------- stability


def _companion_radius(mats: dict[int, np.ndarray]) -> float:
    """Spectral radius of ``x_t = (I − A0)⁻¹ Σ_k A_k x_{t−k}`` (dense, small)."""
    size = next(iter(mats.values())).shape[0]
    kmax = max(mats)
    if kmax == 0 or size == 0:
        return 0.0
    inv = np.linalg.inv(np.eye(size) - mats.get(0, np.zeros((size, size))))
    comp = np.zeros((size * kmax, size * kmax))
    for lag in range(1, kmax + 1):
        if lag in mats:
            comp[:size, (lag - 1) * size : lag * size] = inv @ mats[lag]
    if kmax > 1:
        comp[size:, : size * (kmax - 1)] = np.eye(size * (kmax - 1))
    return float(np.max(np.abs(np.linalg.eigvals(comp))))


def _loops(mats: dict[int, sparse.csr_matrix], ids: Sequence[str], closed_only: bool) -> list[Any]:
    """Strongly connected sets of the union graph whose companion radius is ≥ 1 − tol."""
    from scipy.sparse.csgraph import connected_components

    union = None
    for mat in mats.values():
        union = abs(mat) if union is None else union + abs(mat)
    if union is None or union.nnz == 0:
        return []
    union = union.tocsr()
    ncomp, labels = connected_components(union, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=ncomp)
    found = []
    for comp in np.flatnonzero(sizes > 1):
        members = np.flatnonzero(labels == comp)
        if closed_only:
            inside = np.asarray(union[members][:, members].sum(axis=1)).ravel()
            if (inside < 1.0 - 1e-9).any():
                continue  # an irreducible block with a leak: radius < 1
        if members.size * max(mats) > 2000:
            continue
        sub = {lag: m[members][:, members].toarray() for lag, m in mats.items()}
        radius = _companion_radius(sub)
        if radius >= 1.0 - 1e-9:
            found.append(([ids[int(i)] for i in members], radius))
    return found


def _normalised_links(compiled: Compiled, rolled: dict[str, Any]) -> dict[int, sparse.csr_matrix]:
    """Objective links per lag, normalised by each effect's weight, restricted to objectives with a score."""
    from scipy import sparse

    avail = np.isfinite(rolled["objective"])
    weight = np.nan_to_num(rolled["objective_coverage"]) * compiled.full_weight
    inv = np.where(avail & (weight > 0), 1.0 / np.where(weight > 0, weight, 1.0), 0.0)
    mask = sparse.diags(avail.astype(float))
    return {lag: (sparse.diags(inv) @ mat @ mask).tocsr() for lag, mat in compiled.links.items()}


#: per compiled model: the loops found for one (objectives with a score, coverage, pinned
#: measures) — all that the loops depend on besides the matrices — so the many what-ifs of a
#: scenario sweep or a widget session find them once.
_FOUND: weakref.WeakKeyDictionary[Compiled, dict[bytes, list[Any]]] = weakref.WeakKeyDictionary()
_FOUND_PER_MODEL = 64


def _find_loops(compiled: Compiled, rolled: dict[str, Any], pinned: np.ndarray) -> list[Any]:
    from scipy import sparse

    found = _loops(_normalised_links(compiled, rolled), compiled.objectives, closed_only=True)
    keep = sparse.diags((~pinned).astype(float))
    drivers = {lag: (keep @ mat).tocsr() for lag, mat in compiled.drivers.items()}
    return found + _loops(drivers, compiled.measures, closed_only=False)


def stability_warnings(compiled: Compiled, rolled: dict[str, Any], pinned: np.ndarray) -> float:
    """Warn (StratlabWarning) for every feedback loop whose gain is ≥ 1; return the largest radius."""
    key = b"|".join(
        np.ascontiguousarray(a).tobytes()
        for a in (
            np.isfinite(rolled["objective"]),
            np.nan_to_num(rolled["objective_coverage"]),
            np.asarray(pinned, dtype=bool),
        )
    )
    memo = _FOUND.setdefault(compiled, {})
    found = memo.get(key)
    if found is None:
        found = _find_loops(compiled, rolled, pinned)
        if len(memo) >= _FOUND_PER_MODEL:
            memo.pop(next(iter(memo)))
        memo[key] = found
    for members, radius in found:
        warnings.warn(
            f"the feedback loop through {', '.join(members)} has gain {radius:.3g} ≥ 1 "
            "(spectral radius of the companion matrix): the trajectory does not settle and "
            "the long run is not reached. Fix: give the loop's objectives a measure or OKR with "
            "data, or weaken a link or driver coefficient in the loop.",
            StratlabWarning,
            stacklevel=3,
        )
    return max((r for _, r in found), default=0.0)
