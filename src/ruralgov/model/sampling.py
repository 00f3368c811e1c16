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
    batches (``first``: the first batch's positions, already drawn)."""
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
    with its own generator, drawing exactly what that call draws: the same selection, in
    fewer array operations. ``p``: one probability, one per unit, or (``per_run``) one per
    run, a run with p <= 0 drawing nothing. Returns sorted positions."""
    R = len(rngs)
    if per_run:
        q = np.asarray(p, dtype=np.float64)
    elif np.ndim(p) == 0:
        q = np.full(R, float(p))
    else:
        q = (np.maximum.reduceat(p, starts).astype(np.float64) if np.all(sizes > 0) else
             np.array([float(np.max(p[a:a + n])) if n else 0.0 for a, n in zip(starts, sizes)]))
    walk = (q >= 1e-6) & (q < 1.0) & (sizes > 0)
    runs = np.flatnonzero(walk)
    gaps = [rngs[r].geometric(q[r], size=_batch(int(sizes[r]), float(q[r]))) for r in runs]
    lens = np.array([g.size for g in gaps], dtype=np.int64)
    pos = np.cumsum(np.concatenate(gaps)) if gaps else np.empty(0, dtype=np.int64)
    ends = np.cumsum(lens)
    before = np.concatenate([[0], pos[ends[:-1] - 1]]) if gaps else np.empty(0, np.int64)
    pos -= np.repeat(before + 1, lens)  # each run's own walk, from -1
    parts = []
    for i, r in enumerate(runs):  # the rare run whose batch fell short goes on alone
        if pos[ends[i] - 1] < sizes[r]:
            parts.append((r, _geometric_walk(rngs[r], int(sizes[r]), float(q[r]),
                                             first=pos[ends[i] - lens[i]:ends[i]])))
    short = {r for r, _ in parts}
    keep = pos < np.repeat(sizes[runs], lens)
    if short:
        keep &= ~np.isin(np.repeat(runs, lens), list(short))
    cand = {int(r): c for r, c in parts}
    for r in np.flatnonzero(~walk & (q > 0) & (sizes > 0)):  # q >= 1 or tiny: as alone
        cand[int(r)] = _candidates(rngs[r], int(sizes[r]), float(q[r]))
    owner = np.repeat(runs, lens)[keep]
    chosen = pos[keep]
    if cand:
        order = sorted(cand)
        owner = np.concatenate([owner, *(np.full(cand[r].size, r) for r in order)])
        chosen = np.concatenate([chosen, *(cand[r] for r in order)])
        sort = np.argsort(owner, kind="stable")
        owner, chosen = owner[sort], chosen[sort]
    if not per_run and np.ndim(p) > 0:  # thinning, one draw per candidate, run by run
        counts = np.bincount(owner, minlength=R)
        u = np.empty(chosen.size)
        at = 0
        for r in np.flatnonzero(counts):
            rngs[r].random(out=u[at:at + counts[r]])
            at += counts[r]
        glob = chosen + np.asarray(starts)[owner]
        keep = u < np.asarray(p)[glob] / q.astype(np.asarray(p).dtype)[owner]
        return glob[keep]
    return chosen + np.asarray(starts)[owner]


def _candidates(rng: np.random.Generator, n: int, q: float) -> np.ndarray:
    """Candidates at rate q of ``bernoulli_indices`` outside the geometric walk."""
    if q >= 1.0:
        return np.arange(n, dtype=np.int64)
    return np.flatnonzero(rng.random(n) < q)
