"""Bernoulli selection by geometric gaps has the distribution of one draw per villager."""

import numpy as np
import pytest
from scipy import stats

from ruralgov.model import sampling
from ruralgov.model.sampling import bernoulli_indices, bernoulli_runs


@pytest.mark.parametrize("p", [0.0, 0.003, 0.05, 0.5, 0.97, 1.0])
def test_scalar_probability_selection_counts_and_positions(p):
    rng = np.random.default_rng(1)
    n, reps = 2000, 300
    hits = np.zeros(n)
    counts = []
    for _ in range(reps):
        idx = bernoulli_indices(rng, n, p)
        assert idx.dtype == np.int64 and (np.diff(idx) > 0).all()
        assert idx.size == 0 or (idx[0] >= 0 and idx[-1] < n)
        hits[idx] += 1
        counts.append(idx.size)
    if p in (0.0, 1.0):
        assert set(counts) == {int(p * n)}
        return
    # counts are Binomial(n, p): compare mean and variance with a margin of many SEs
    mean, var = n * p, n * p * (1 - p)
    assert abs(np.mean(counts) - mean) < 5 * np.sqrt(var / reps)
    assert 0.7 * var < np.var(counts) < 1.3 * var
    # every position equally likely: chi-square on positions grouped in 20 bins
    binned = hits.reshape(20, -1).sum(axis=1)
    assert stats.chisquare(binned).pvalue > 1e-4


def test_per_villager_probabilities_are_honoured_by_thinning():
    rng = np.random.default_rng(2)
    n, reps = 400, 4000
    p = np.linspace(0.0, 0.2, n)
    hits = np.zeros(n)
    for _ in range(reps):
        hits[bernoulli_indices(rng, n, p)] += 1
    expected = p * reps
    assert hits[0] == 0
    # grouped in 10 bins of 40 villagers: observed close to expected
    obs, exp = hits.reshape(10, -1).sum(1), expected.reshape(10, -1).sum(1)
    assert np.all(np.abs(obs - exp) < 5 * np.sqrt(exp) + 1)


def test_same_generator_state_same_selection_and_bad_shape_refused():
    a = bernoulli_indices(np.random.default_rng(5), 10_000, 0.01)
    b = bernoulli_indices(np.random.default_rng(5), 10_000, 0.01)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="length 10"):
        bernoulli_indices(np.random.default_rng(5), 10, np.ones(3))


@pytest.mark.parametrize("p", [5e-324, 1e-300, 1e-7, 2e-6])
def test_tiny_probabilities_finish_and_select_almost_nobody(p):
    idx = bernoulli_indices(np.random.default_rng(0), 100_000, p)
    assert idx.size <= 3
    idx = bernoulli_indices(np.random.default_rng(0), 1000, np.full(1000, p))
    assert idx.size <= 3


def _alone(seeds, sizes, p, per_run):
    """Each run's selection by bernoulli_indices on its own generator, end to end, and the
    generators' next draws (what the runs would draw after)."""
    rngs = [np.random.default_rng(s) for s in seeds]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    out = [np.empty(0, dtype=np.int64)]
    for r, (a, n) in enumerate(zip(starts, sizes)):
        if not per_run:
            out.append(a + bernoulli_indices(rngs[r], n, p if np.ndim(p) == 0 else p[a:a + n]))
        elif p[r] > 0:
            out.append(a + bernoulli_indices(rngs[r], n, float(p[r])))
    return np.concatenate(out), [g.random() for g in rngs]


def _together(seeds, sizes, p, per_run):
    rngs = [np.random.default_rng(s) for s in seeds]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    idx = bernoulli_runs(rngs, starts, np.array(sizes), p, per_run=per_run)
    return idx, [g.random() for g in rngs]


@pytest.mark.parametrize("short", [False, True])
def test_many_runs_at_once_draw_exactly_what_each_run_draws_alone(short, monkeypatch):
    """bernoulli_runs (the ensemble's draws) selects what bernoulli_indices selects run by
    run and leaves every generator where it would be: one probability, one per villager
    (float32 and float64; reaching 1; all tiny; a run all 0) and one per run; empty runs;
    ``short``: batches of two gaps, so that the walks must go on past their first batch."""
    if short:
        monkeypatch.setattr(sampling, "_batch", lambda n, q: 2)
    rng = np.random.default_rng(0)
    selected = 0
    for trial in range(600):
        R = int(rng.integers(1, 9))
        sizes = [int(x) for x in rng.integers(0 if trial % 5 == 0 else 1, 300, R)]
        seeds = [int(x) for x in rng.integers(0, 2**31, R)]
        kind = trial % 3
        if kind == 0:
            p = float(rng.choice([0.0, 1e-7, 1e-6, 0.001, 0.05, 0.5, 0.99, 1.0]))
        elif kind == 1:
            scale = rng.choice([1e-7, 0.01, 0.3, 1.0, 2.0])
            p = np.minimum(rng.random(sum(sizes)) * scale, 1.0)
            if R > 1 and sizes[0]:
                p[:sizes[0]] = 0.0  # a run where nobody can be chosen
            p = p.astype(rng.choice([np.float32, np.float64]))
        else:
            p = rng.choice([0.0, 1e-7, 0.02, 0.3, 1.0, 1.5, -1.0], size=R).astype(
                rng.choice([np.float32, np.float64]))
        a, after_a = _alone(seeds, sizes, p, kind == 2)
        b, after_b = _together(seeds, sizes, p, kind == 2)
        assert b.dtype == np.int64
        np.testing.assert_array_equal(a, b)
        assert after_a == after_b
        selected += a.size > 2 * R
    assert selected > 50  # the cases did select villagers


def test_many_runs_refuse_what_one_run_refuses():
    rngs = [np.random.default_rng(1), np.random.default_rng(2)]
    with pytest.raises(ValueError, match="length 5"):
        bernoulli_runs(rngs, np.array([0, 2]), np.array([2, 3]), np.ones(6))
    with pytest.raises(ValueError, match="NaN"):
        bernoulli_runs(rngs, np.array([0, 2]), np.array([2, 3]), float("nan"))
