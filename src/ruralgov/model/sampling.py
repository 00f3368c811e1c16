"""Random selection of villagers at a cost proportional to how many are selected.

Many submodels pick a small share of the villagers each step (participants, inspected
villagers, villagers with a dispute). Drawing one uniform number per villager costs O(N)
every step; drawing the *gaps* between selected villagers (geometric, the waiting time of a
Bernoulli process) gives exactly the same distribution at a cost of O(N p). All draws go
through the generator passed in (the model's).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["bernoulli_indices"]


def bernoulli_indices(rng: np.random.Generator, n: int, p: float | np.ndarray) -> np.ndarray:
    """Indices of ``range(n)``, each selected independently with probability ``p``.

    ``p`` is one probability for everyone, or an array of length n (one each): then candidates
    are drawn at the largest rate q = max(p) and each kept with probability p[i] / q
    (thinning), which selects villager i with probability p[i] exactly.

    Returns:
        Sorted int64 indices.
    """
    scalar = np.ndim(p) == 0
    q = float(p) if scalar else (float(np.max(p)) if n else 0.0)
    if not scalar and np.shape(p) != (n,):
        raise ValueError(f"p must be a number or have length {n}, got shape {np.shape(p)}")
    if n == 0 or q <= 0.0:
        return np.empty(0, dtype=np.int64)
    if q >= 1.0:
        candidates = np.arange(n, dtype=np.int64)
    elif q < 1e-6:
        # gaps this long overflow numpy's geometric sampler: one uniform draw each instead
        candidates = np.flatnonzero(rng.random(n) < q)
    else:
        candidates = _geometric_walk(rng, n, q)
    if scalar:
        return candidates
    keep = rng.random(candidates.size) < np.asarray(p)[candidates] / q
    return candidates[keep]


def _geometric_walk(rng: np.random.Generator, n: int, q: float) -> np.ndarray:
    """The positions below ``n`` of a Bernoulli(q) process, drawn as geometric gaps in
    batches large enough that one batch almost always suffices."""
    size = int(n * q + 4.0 * math.sqrt(n * q) + 16)
    idx = np.cumsum(rng.geometric(q, size=size)) - 1
    if idx[-1] >= n:  # the usual case: one batch
        return idx[:np.searchsorted(idx, n)]
    parts = [idx]
    while idx[-1] < n:
        last = int(idx[-1])
        left = n - 1 - last
        size = int(left * q + 4.0 * math.sqrt(left * q) + 16)
        idx = last + np.cumsum(rng.geometric(q, size=size))
        parts.append(idx[:np.searchsorted(idx, n)])
    return np.concatenate(parts)
