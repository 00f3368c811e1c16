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

__all__ = ["bernoulli_indices", "bernoulli_runs"]


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


def _batch(n: int, q: float) -> int:
    """Gaps drawn at once: enough that one batch almost always passes ``n``."""
    return int(n * q + 4.0 * math.sqrt(n * q) + 16)


def _geometric_walk(rng: np.random.Generator, n: int, q: float,
                    first: np.ndarray | None = None) -> np.ndarray:
    """The positions below ``n`` of a Bernoulli(q) process, drawn as geometric gaps in
    batches (``first``: the positions of the whole first batch, uncut, if already drawn)."""
    idx = np.cumsum(rng.geometric(q, size=_batch(n, q))) - 1 if first is None else first
    if idx[-1] >= n:  # the usual case: one batch
        return idx[:np.searchsorted(idx, n)]
    parts = [idx]
    while idx[-1] < n:
        last = int(idx[-1])
        left = n - 1 - last
        idx = last + np.cumsum(rng.geometric(q, size=_batch(left, q)))
        parts.append(idx[:np.searchsorted(idx, n)])
    return np.concatenate(parts)


def bernoulli_runs(rngs: list[np.random.Generator], starts: np.ndarray, sizes: np.ndarray,
                   p: float | np.ndarray, per_run: bool = False) -> np.ndarray:
    """[`bernoulli_indices`][ruralgov.model.sampling.bernoulli_indices] for each of several
    runs whose units lie end to end (run r: ``sizes[r]`` units from ``starts[r]``), each
    with its own generator, drawing exactly what that call draws run by run (the same
    selection, and each generator left in the same state), in a few array operations.

    ``p``: one probability, one per unit, or (``per_run``) one per run, a run whose p is not
    above 0 drawing nothing. Returns sorted positions."""
    starts = np.asarray(starts, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    q = _rates(starts, sizes, p, per_run)
    owner, chosen = _candidates_of_runs(rngs, sizes, q)
    if per_run or np.ndim(p) == 0:
        return chosen + starts[owner]
    return _thin(rngs, starts, owner, chosen, np.asarray(p), q)


def _rates(starts: np.ndarray, sizes: np.ndarray, p: float | np.ndarray,
           per_run: bool) -> np.ndarray:
    """Each run's candidate rate, as ``bernoulli_indices`` takes it: p, or the largest p of
    the run's units."""
    if per_run:
        return np.asarray(p, dtype=np.float64)
    if np.ndim(p) == 0:
        q = np.full(sizes.size, float(p))
    else:
        p = np.asarray(p)
        if p.shape != (int(sizes.sum()),):
            raise ValueError(f"p must be a number or have length {int(sizes.sum())}, got "
                             f"shape {p.shape}")
        q = np.zeros(sizes.size)
        full = sizes > 0  # an empty run owns no units: the next run's segment starts there
        q[full] = np.maximum.reduceat(p, starts[full]) if full.any() else 0.0
    if np.isnan(q).any():
        raise ValueError("p must not be NaN")
    return q


def _candidates_of_runs(rngs: list[np.random.Generator], sizes: np.ndarray,
                        q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(run, position in its run) of each candidate, sorted by run then position: each run's
    walk at rate q (one geometric draw per run), or, at q >= 1 or tiny q, as alone."""
    walking = np.flatnonzero((q >= 1e-6) & (q < 1.0) & (sizes > 0))
    gaps = [rngs[r].geometric(q[r], size=_batch(int(sizes[r]), float(q[r]))) for r in walking]
    lens = np.array([g.size for g in gaps], dtype=np.int64)
    owner = np.repeat(walking, lens)
    pos = np.cumsum(np.concatenate(gaps)) if gaps else np.empty(0, dtype=np.int64)
    ends = np.cumsum(lens)
    # each run's positions are its own cumulative gaps - 1: take off the runs before it
    before = np.concatenate([[0], pos[ends[:-1] - 1]]) if gaps else pos
    pos -= np.repeat(before + 1, lens)
    inside = pos < sizes[owner]
    alone: dict[int, np.ndarray] = {}
    for i in np.flatnonzero(pos[ends - 1] < sizes[walking]) if gaps else ():
        r, batch = int(walking[i]), slice(int(ends[i] - lens[i]), int(ends[i]))
        # the rare run whose first batch fell short goes on as it does alone
        alone[r] = _geometric_walk(rngs[r], int(sizes[r]), float(q[r]), first=pos[batch])
        inside[batch] = False
    for r in np.flatnonzero(((q >= 1.0) | (q < 1e-6)) & (q > 0) & (sizes > 0)):
        alone[int(r)] = _candidates(rngs[r], int(sizes[r]), float(q[r]))
    owner, pos = owner[inside], pos[inside]
    if alone:
        runs = sorted(alone)
        owner = np.concatenate([owner, *(np.full(alone[r].size, r) for r in runs)])
        pos = np.concatenate([pos, *(alone[r] for r in runs)])
        order = np.argsort(owner, kind="stable")
        owner, pos = owner[order], pos[order]
    return owner, pos


def _thin(rngs: list[np.random.Generator], starts: np.ndarray, owner: np.ndarray,
          chosen: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Each candidate kept with probability p / q: one uniform draw per candidate from its
    run's generator, after the run's walk (the order in which the run alone draws)."""
    counts = np.bincount(owner, minlength=len(rngs))
    u = np.empty(chosen.size)
    at = 0
    for r in np.flatnonzero(counts):
        rngs[r].random(out=u[at:at + counts[r]])
        at += counts[r]
    unit = chosen + starts[owner]
    # alone, p[units] / q divides by the Python float q, which NumPy casts to p's dtype
    keep = u < p[unit] / q.astype(p.dtype)[owner]
    return unit[keep]


def _candidates(rng: np.random.Generator, n: int, q: float) -> np.ndarray:
    """Candidates at rate q of ``bernoulli_indices`` outside the geometric walk."""
    if q >= 1.0:
        return np.arange(n, dtype=np.int64)
    return np.flatnonzero(rng.random(n) < q)
