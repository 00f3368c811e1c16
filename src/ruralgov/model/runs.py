"""The runs a model steps: one county, or many stacked in the same arrays (an ensemble).

A model steps R >= 1 independent runs at once. Villagers, townships, villages and
departments of run r occupy one contiguous segment of their arrays (run 0 first); the social
network is block-diagonal, so no tie crosses runs. Every random draw goes through
[`Runs`][ruralgov.model.runs.Runs], which makes it from the generator of the run that owns
the drawn unit, in the same order and number as that run would make alone: each run of an
ensemble is bit-identical to the same run stepped on its own. Counts and means of a step are
taken per run (length-R arrays). With R = 1 every helper is the plain call on the one
generator, so a single county pays nothing for this.

The submodels never loop over runs; only the helpers here do (a handful of calls per step
and run, against the hundreds of array operations a step shares among all runs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ruralgov.model.sampling import bernoulli_indices, bernoulli_runs

__all__ = ["Runs", "LEVELS", "Varying", "uniform"]

#: The units whose arrays are stacked run by run.
LEVELS = ("villager", "township", "village", "lineage", "department")

F32 = np.float32


class Varying(RuntimeError):
    """A parameter in which the runs of an ensemble differ was read as one value."""


def uniform(values: np.ndarray) -> bool:
    """Whether every element of ``values`` has the same bits as the first (so ``-0.0`` and
    ``0.0`` differ, and NaNs agree): one of them then stands for all, exactly."""
    b = np.ascontiguousarray(values).view(np.uint8).reshape(values.size, -1)
    return bool((b == b[0]).all())


@dataclass
class Runs:
    """R runs stacked: each run's generator and where its units lie.

    Attributes:
        r: the number of runs R.
        rngs: one generator per run (the run's own ``model.rng``).
        params: each run's parameters (its model's ``p``; runs of an ensemble may differ in
            some, [`PER_RUN`][ruralgov.model.ensemble.PER_RUN]).
        offsets: per level (``LEVELS``), R + 1 offsets: run r owns units
            ``offsets[level][r]:offsets[level][r + 1]``.
        blocks: for each block of villagers the compliance decision works on, the runs'
            pieces in it: (run, slice), each piece exactly a block of that run alone.
        shared: the parameters as one mapping that raises
            [`Varying`][ruralgov.model.runs.Varying] on reading one in which the runs differ
            (an ensemble's ``p``); None for one run.
    """

    rngs: list[np.random.Generator]
    params: list[dict]
    offsets: dict[str, np.ndarray]
    blocks: list[list[tuple[int, slice]]]
    shared: Mapping | None = None

    @classmethod
    def of(cls, members: Sequence, block: int, shared: Mapping | None = None) -> Runs:
        """The runs of these models (each built alone): their generators, parameters and
        sizes; each run's own blocks merged into shared blocks of at most ``block``
        villagers; ``shared`` as the attribute."""
        sts = [m.structure for m in members]
        sizes = {"villager": [st.n for st in sts], "township": [st.n_townships for st in sts],
                 "village": [st.n_villages for st in sts],
                 "lineage": [m.rules.stance.shape[0] for m in members],
                 "department": [len(m.departments) for m in members]}
        offsets = {lv: np.concatenate([[0], np.cumsum(sizes[lv])]).astype(np.int64)
                   for lv in LEVELS}
        run_blocks = [st.blocks for st in sts]
        blocks: list[list[tuple[int, slice]]] = []
        width = block + 1
        for r, own in enumerate(run_blocks):
            base = int(offsets["villager"][r])
            for b in own:
                piece = slice(base + b.start, base + b.stop)
                n = piece.stop - piece.start
                if width + n > block:
                    blocks.append([])
                    width = 0
                blocks[-1].append((r, piece))
                width += n
        return cls(rngs=[m.rng for m in members], params=[m.p for m in members],
                   offsets=offsets, blocks=blocks, shared=shared)

    def __post_init__(self) -> None:
        #: Number of runs R (read on every helper call: an attribute, not a property).
        self.r = len(self.rngs)

    # ------------------------------------------------------------------ shape
    def sizes(self, level: str = "villager") -> np.ndarray:
        """Units of each run at ``level``."""
        return np.diff(self.offsets[level])

    def owner(self, idx: np.ndarray, level: str = "villager") -> np.ndarray:
        """The run of each unit in ``idx``."""
        return np.searchsorted(self.offsets[level], idx, side="right") - 1

    def groups(self, idx: np.ndarray, level: str = "villager"
               ) -> Iterator[tuple[int, np.ndarray | slice]]:
        """(run, positions in ``idx`` of that run's units, in their order in ``idx``) for each
        run that has units in ``idx`` (for one run, always that run)."""
        if self.r == 1:
            yield 0, slice(None)
            return
        if _is_sorted(idx):  # contiguous pieces
            cut = np.searchsorted(idx, self.offsets[level]).tolist()
            for r in range(self.r):
                if cut[r + 1] > cut[r]:
                    yield r, slice(cut[r], cut[r + 1])
            return
        own = self.owner(idx, level)
        order = np.argsort(own, kind="stable")
        cut = np.searchsorted(own[order], np.arange(self.r + 1)).tolist()
        for r in range(self.r):
            if cut[r + 1] > cut[r]:
                yield r, order[cut[r]:cut[r + 1]]

    def rows(self, values: np.ndarray, level: str = "villager") -> np.ndarray | None:
        """``values`` (units along the last axis) viewed as ... x R x units-per-run when every
        run has as many units at ``level`` (runs of one parameter set do); else None."""
        size = self.sizes(level)
        if size.size and np.all(size == size[0]):
            return values.reshape(*values.shape[:-1], self.r, int(size[0]))
        return None

    def segments(self, level: str = "villager") -> Iterator[tuple[int, slice]]:
        """(run, slice of its units at ``level``)."""
        o = self.offsets[level]
        for r in range(self.r):
            yield r, slice(int(o[r]), int(o[r + 1]))

    # ------------------------------------------------------------------ parameters
    def values(self, fn) -> np.ndarray:
        """``fn(q)`` of each run's parameters ``q``, per run (e.g. ``lambda q:
        q["coordination"]``). Where ``fn`` reads no parameter in which the runs differ it is
        called once, on ``shared``: ``fn`` must read parameters as ``q[name]``."""
        if self.r == 1:
            return np.array([fn(self.params[0])])
        if self.shared is not None:
            try:
                return np.full(self.r, fn(self.shared))
            except Varying:
                pass
        return np.array([fn(q) for q in self.params])

    def spread(self, values: np.ndarray, dtype: type = F32, idx: np.ndarray | None = None,
               level: str = "villager") -> np.ndarray | np.generic:
        """Per-run values as ``dtype`` for every unit at ``level`` (or the units ``idx``);
        for one run, or runs whose values are the same bits as ``dtype``, a ``dtype`` scalar:
        the number each run alone computes with."""
        values = np.asarray(values)
        if self.r == 1:
            return dtype(values[0])
        v = values.astype(dtype)
        if uniform(v):
            return v[0]
        if idx is None:
            return np.repeat(v, self.sizes(level))
        return v[self.owner(idx, level)]

    def param(self, fn, dtype: type = F32, idx: np.ndarray | None = None,
              level: str = "villager") -> np.ndarray | np.generic:
        """``spread(values(fn), ...)``: a quantity computed from each run's parameters, for
        every unit (or the units ``idx``); for one run, or runs with the same value, a
        ``dtype`` scalar."""
        if self.r == 1:
            return dtype(fn(self.params[0]))
        return self.spread(self.values(fn), dtype, idx, level)

    # ------------------------------------------------------------------ draws
    def random(self, owners: np.ndarray | None = None, level: str = "villager",
               dtype: type = np.float64) -> np.ndarray:
        """A uniform draw per unit: every unit at ``level`` (``owners`` None) or each unit
        listed in ``owners`` (any order, repeats allowed)."""
        if self.r == 1:
            n = int(self.offsets[level][1]) if owners is None else owners.size
            return self.rngs[0].random(n, dtype=dtype)
        if owners is None:
            out = np.empty(int(self.offsets[level][-1]), dtype=dtype)
            for r, sl in self.segments(level):
                self.rngs[r].random(dtype=dtype, out=out[sl])
            return out
        out = np.empty(owners.size, dtype=dtype)
        for r, pos in self.groups(owners, level):
            if isinstance(pos, slice):  # written in place: the same draws
                self.rngs[r].random(dtype=dtype, out=out[pos])
            else:
                out[pos] = self.rngs[r].random(pos.size, dtype=dtype)
        return out

    def integers(self, low: int, high: int, owners: np.ndarray,
                 level: str = "villager") -> np.ndarray:
        """An integer in [low, high) per unit listed in ``owners``."""
        if self.r == 1:
            return self.rngs[0].integers(low, high, size=owners.size)
        out = np.empty(owners.size, dtype=np.int64)
        for r, pos in self.groups(owners, level):
            out[pos] = self.rngs[r].integers(low, high, size=_count(out, pos))
        return out

    def random_block(self, rows: int, block: int, dtype: type = np.float32) -> np.ndarray:
        """Uniform draws for ``rows`` x the villagers of block number ``block``: each run's
        piece drawn as that run draws its own block."""
        pieces = self.blocks[block]
        if len(pieces) == 1:
            r, sl = pieces[0]
            return self.rngs[r].random((rows, sl.stop - sl.start), dtype=dtype)
        return np.concatenate([self.rngs[r].random((rows, sl.stop - sl.start), dtype=dtype)
                               for r, sl in pieces], axis=1)

    def bernoulli(self, p: float | np.ndarray, per_run: bool = False) -> np.ndarray:
        """Villagers selected independently with probability ``p`` (one for everyone, one
        each, or with ``per_run`` one per run, a run with p <= 0 drawing nothing), sorted
        ([`bernoulli_indices`][ruralgov.model.sampling.bernoulli_indices] per run, all runs'
        draws made at once by [`bernoulli_runs`][ruralgov.model.sampling.bernoulli_runs])."""
        if self.r == 1:
            q = float(p[0]) if per_run else p
            if per_run and not q > 0:
                return np.empty(0, dtype=np.int64)
            return bernoulli_indices(self.rngs[0], int(self.offsets["villager"][1]), q)
        o = self.offsets["villager"]
        return bernoulli_runs(self.rngs, o[:-1], np.diff(o), p, per_run=per_run)

    # ------------------------------------------------------------------ per-run summaries
    def count(self, idx: np.ndarray, level: str = "villager") -> np.ndarray:
        """How many of the units in ``idx`` each run owns."""
        if self.r == 1:
            return np.array([idx.size])
        if _is_sorted(idx):  # where each run's piece ends
            return np.diff(np.searchsorted(idx, self.offsets[level]))
        return np.bincount(self.owner(idx, level), minlength=self.r)

    def integer_totals(self, values: np.ndarray, idx: np.ndarray, level: str = "villager"
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Per run, the sum of the integers ``values[idx]`` (exact, as float64) and how many
        of the units ``idx`` (sorted) it owns; a mean is the one over the other, as NumPy
        computes the mean of integers."""
        if not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"integer_totals sums integers, got {values.dtype}")
        cut = np.searchsorted(idx, self.offsets[level])
        total = np.concatenate([[0], np.cumsum(values[idx], dtype=np.int64)])
        return (total[cut[1:]] - total[cut[:-1]]).astype(np.float64), np.diff(cut)

    def count_true(self, flags: np.ndarray, level: str = "villager") -> np.ndarray:
        """How many units of each run ``flags`` marks (units along the last axis)."""
        if self.r == 1:
            return np.array([np.count_nonzero(flags)])
        if (rows := self.rows(flags, level)) is not None:
            axes = tuple(a for a in range(rows.ndim) if a != rows.ndim - 2)
            return np.count_nonzero(rows, axis=axes)
        return np.array([np.count_nonzero(flags[..., sl]) for _, sl in self.segments(level)])

    def total(self, values: np.ndarray, level: str = "villager") -> np.ndarray:
        """Sum of ``values`` over each run's units (as ``values.sum()`` of the run alone)."""
        if self.r == 1:
            return np.array([values.sum()])
        if (rows := self.rows(values, level)) is not None:
            return rows.sum(axis=-1)
        return np.array([values[sl].sum() for _, sl in self.segments(level)])

    def mean(self, values: np.ndarray, level: str = "villager") -> np.ndarray:
        """Mean of ``values`` over each run's units (as ``values.mean()`` of the run alone)."""
        if self.r == 1:
            return np.array([values.mean()])
        if (rows := self.rows(values, level)) is not None:
            return rows.mean(axis=-1)
        return np.array([values[sl].mean() for _, sl in self.segments(level)])

    def std(self, values: np.ndarray, level: str = "villager") -> np.ndarray:
        """Standard deviation of ``values`` over each run's units."""
        if self.r == 1:
            return np.array([values.std()])
        if (rows := self.rows(values, level)) is not None:
            return rows.std(axis=-1)
        return np.array([values[sl].std() for _, sl in self.segments(level)])

    def max(self, values: np.ndarray, level: str = "villager") -> np.ndarray:
        """Largest of ``values`` over each run's units (0 for a run without units)."""
        if self.r == 1:
            return np.array([values.max() if values.size else 0])
        if (rows := self.rows(values, level)) is not None and rows.shape[-1]:
            return rows.max(axis=-1)
        return np.array([values[sl].max() if sl.stop > sl.start else 0
                         for _, sl in self.segments(level)])

    def apply(self, fn, *arrays: np.ndarray, level: str = "villager") -> np.ndarray:
        """``fn`` of each run's pieces of ``arrays`` (units along the last axis), per run."""
        if self.r == 1:
            return np.array([fn(*arrays)])
        return np.array([fn(*(a[..., sl] for a in arrays)) for _, sl in self.segments(level)])


def _is_sorted(idx: np.ndarray) -> bool:
    return idx.size < 2 or bool(np.all(idx[1:] >= idx[:-1]))


def _count(out: np.ndarray, pos: np.ndarray | slice) -> int:
    return pos.stop - pos.start if isinstance(pos, slice) else int(pos.size)
