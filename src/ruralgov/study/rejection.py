"""Rejection ABC from a reference table, with local-linear regression adjustment.

The second method of `ruralgov calibrate` (``abc.method: rejection`` in a targets file), for
models whose ABC-SMC populations degenerate: ``abc.reference`` parameter sets drawn from the
(uniform) priors, each simulated once (the *reference table*); the posterior is made of the
``abc.accept`` simulations nearest to the observed targets by the calibration's distance (the
fitted targets' errors in units of their tolerances), weighted by the Epanechnikov kernel of
their distance, and each moved by the local-linear regression adjustment of Beaumont, Zhang &
Balding (2002, "Approximate Bayesian computation in population genetics", *Genetics* 162):
the parameters, on the logit scale of their prior ranges (Hamilton et al. 2005, so that no
adjusted value leaves its prior), are regressed on the targets' errors among the accepted, and
each accepted simulation's parameters are moved by the fitted slope times its errors, to where
the regression says they would have had to be for the simulation to land on the observations.

Three properties follow. The posterior is a sample of ``accept`` particles whose weights are
a kernel's, never a handful of importance weights (its effective sample size is reported).
The reference table is simulated in blocks of [`BLOCK`][ruralgov.study.rejection.BLOCK] on the
sweep engine (a local process pool, or a Dask cluster), each block kept as a Parquet file as
soon as it is done, so a table of many thousand simulations grows over several sessions and a
calibration with a larger ``abc.reference`` continues from the blocks it holds (the first
blocks are the same draws). And the same table checks the method that produced the
posterior: each of its simulations in turn is a synthetic truth whose posterior is made by the
same acceptance, weights and adjustment (simulation-based calibration, Talts et al. 2018), so
the report's coverage is that of the calibration it accompanies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralgov.model.schema import InputError
from ruralgov.study.targets import _prior_range, error

__all__ = ["BLOCK", "reference_table", "accept", "adjust", "can_adjust", "posterior",
           "kernel_weights", "coverage", "bounds", "rank_statistic", "errors"]

BLOCK = 500
"""Simulations per block of a reference table (its last block may hold fewer)."""
_LOGIT_EPS = 1e-6  # how close to its prior's bounds a parameter goes on the logit scale


def _block_seed(seed: int, block: int) -> int:
    """Block 0 is seeded by the table's seed itself (so that its 500 draws are the
    simulation-based calibration's reference table, ``ruralgov calibrate --sbc 500``); each
    further block by a seed spawned from it."""
    if block == 0:
        return int(seed)
    return int(np.random.SeedSequence(seed, spawn_key=(block,)).generate_state(1)[0])


def _block_experiment(spec, seed: int, block: int, size: int):
    """One block as an experiment: [`BLOCK`][ruralgov.study.rejection.BLOCK] draws, of which
    the first ``size`` are run (a table's last block may be partial; grown, it keeps them)."""
    from ruralgov.study.sbc import _reference_experiment

    return _reference_experiment(spec, BLOCK, _block_seed(seed, block), take=size)


def reference_table(spec, folder: Path, reference: int, seed: int, *,
                    workers: int | None = None, scheduler: str | None = None,
                    progress: bool = True) -> pd.DataFrame:
    """The reference table in ``folder``: ``reference`` draws from the priors, simulated once
    each, in blocks of [`BLOCK`][ruralgov.study.rejection.BLOCK] (the last one possibly
    partial); the blocks ``folder`` already holds are read, the others simulated (a partial
    block grown) and kept, each as ``block-KKK.parquet``, as soon as it is done. Returns
    every simulation that finished, with its block and ``row``, its place in the table."""
    from ruralgov.io.files import write_parquet
    from ruralgov.io.results import read_runs
    from ruralgov.study.sbc import _kept_table
    from ruralgov.study.sweep import run_sweep

    blocks = -(-reference // BLOCK)
    tables = []
    for block in range(blocks):
        size = min(BLOCK, reference - block * BLOCK)
        exp = _block_experiment(spec, seed, block, size)
        kept, raw = folder / f"block-{block:03d}.parquet", folder / f"block-{block:03d}"
        if kept.is_file() and not raw.exists() and len(pd.read_parquet(kept)) == size:
            runs = _kept_table(exp, spec, kept)
        else:
            if progress:
                print(f"reference table: block {block + 1} of {blocks} ({size} simulations)",
                      flush=True)
            run_sweep(exp, raw, workers=workers, scheduler=scheduler, progress=progress,
                      extend=True)
            runs = read_runs(raw)
            write_parquet(runs, kept)
        tables.append(runs.assign(block=block, row=block * BLOCK + runs["point"].astype(int)))
    table = pd.concat(tables, ignore_index=True)
    return table[table.status == "ok"].reset_index(drop=True)


def errors(targets, values: pd.DataFrame) -> np.ndarray:
    """Each target's error (in tolerances) from its observed figure, for each row of
    ``values`` (rows x targets)."""
    return np.stack([np.asarray(error(t, values[t.name].to_numpy(dtype=float)))
                     for t in targets], axis=-1)


def _distance(err: np.ndarray) -> np.ndarray:
    """The calibration's distance from errors (a non-finite error counts as 1,000)."""
    e = np.where(np.isfinite(err), err, 1e3)
    return np.sqrt(np.mean(e * e, axis=-1))


def accept(dist: np.ndarray, k: int) -> np.ndarray:
    """The indices of the ``k`` smallest distances, nearest first."""
    part = np.argpartition(dist, k - 1)[:k]
    return part[np.argsort(dist[part], kind="stable")]


def kernel_weights(dist: np.ndarray) -> np.ndarray:
    """Epanechnikov weights of the accepted distances, 1 - (d / h)^2 with h just above the
    largest (the farthest accepted still counts a little)."""
    h = float(np.max(dist)) * (1 + 1e-3) if np.max(dist) > 0 else 1.0
    return np.clip(1.0 - (dist / h) ** 2, 0.0, None)


def _logit(theta: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    p = np.clip((theta - lo) / (hi - lo), _LOGIT_EPS, 1 - _LOGIT_EPS)
    return np.log(p / (1 - p))


def _expit(z: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return lo + (hi - lo) / (1 + np.exp(-z))


def regressors(err: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which targets (columns) and rows the adjustment regresses on: targets with a finite
    error for some accepted simulation (a synthetic truth may lack one), then rows finite in
    all of those and of positive weight."""
    cols = np.isfinite(err).any(axis=0)
    rows = np.isfinite(err[:, cols]).all(axis=1) & (w > 0)
    return cols, rows


def can_adjust(err: np.ndarray, w: np.ndarray) -> bool:
    """Whether more rows than the regression has coefficients carry weight."""
    cols, rows = regressors(err, w)
    return bool(rows.sum() > cols.sum() + 1)


def adjust(theta: np.ndarray, err: np.ndarray, w: np.ndarray, lo: np.ndarray,
           hi: np.ndarray, integer: np.ndarray | None = None) -> np.ndarray:
    """Beaumont's local-linear adjustment: ``theta`` (accepted x parameters) regressed on
    ``err`` (accepted x targets; the observation is at 0) by least squares weighted with
    ``w``, on the logit scale of each prior's range [lo, hi); every row moved by minus the
    slope times its errors. An ``integer`` parameter's whole number k stands for its cell
    [k, k + 1) of the range: it enters at k + ½ and leaves as the whole part of where it
    moved. Rows with a non-finite error or a zero weight are left as they were; so is
    everything when the regression has too few rows (see `can_adjust`)."""
    integer = np.zeros(theta.shape[1], bool) if integer is None else np.asarray(integer)
    if not can_adjust(err, w):
        return theta.copy()
    cols, ok = regressors(err, w)
    e = err[:, cols]
    z = _logit(theta + 0.5 * integer, lo, hi)
    x = np.column_stack([np.ones(ok.sum()), e[ok]])
    sw = np.sqrt(w[ok])[:, None]
    beta, *_ = np.linalg.lstsq(x * sw, z[ok] * sw, rcond=None)
    moved = z.copy()
    moved[ok] = z[ok] - e[ok] @ beta[1:]
    out = _expit(moved, lo, hi)
    out = np.where(integer, np.minimum(np.floor(out), hi - 1), out)
    return np.where(ok[:, None], out, theta)


def rank_statistic(post: np.ndarray, w: np.ndarray, truth: np.ndarray,
                   v: np.ndarray) -> np.ndarray:
    """The truth's weighted rank among its posterior (accepted x parameters, weights ``w``):
    ``(W_below + V (W_tied + w̄)) / (W + w̄)``, the truth counted as one more particle of the
    mean weight w̄ and ``v`` uniform on [0, 1). With equal weights it is Talts et al.'s
    ``(r + V) / (k + 1)``, exactly uniform on [0, 1] when the method is right; with kernel
    weights approximately (to order 1/k)."""
    below = (w[:, None] * (post < truth)).sum(axis=0)
    ties = (w[:, None] * (post == truth)).sum(axis=0)
    wbar = w.mean() if w.sum() > 0 else 1.0
    return (below + v * (ties + wbar)) / (w.sum() + wbar)


def posterior(targets, params: pd.DataFrame, values: pd.DataFrame, k: int,
              bounds: tuple[np.ndarray, ...], regression: bool = True
              ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The rejection posterior from a reference table (``params``: its parameters, ``values``:
    its targets' values, row for row): the ``k`` simulations nearest to the observed figures
    of the fitted ``targets``, their kernel weights, and (``regression``) their adjusted
    parameters within the prior ``bounds`` (low, high and, optionally, which parameters are
    integers; see `bounds`). Returns the posterior (the parameters
    and ``weight``), the accepted rows (nearest first) and their distances."""
    fitted = [t for t in targets if not t.held_out]
    if not 2 <= k < len(params):
        raise InputError(f"abc.accept: {k}; allowed: 2 to {len(params) - 1} (fewer than the "
                         f"{len(params)} simulations of the reference table)")
    err = errors(fitted, values)
    dist = _distance(err)
    near = accept(dist, k)
    w = kernel_weights(dist[near])
    theta = params.to_numpy(dtype=float)[near]
    post = adjust(theta, err[near], w, *bounds) if regression else theta.copy()
    return pd.DataFrame(post, columns=params.columns).assign(weight=w), near, dist[near]


def coverage(targets, params: pd.DataFrame, values: pd.DataFrame, k: int,
             bounds: tuple[np.ndarray, ...], regression: bool = True
             ) -> dict[str, Any]:
    """Leave-one-out coverage of this method on its own reference table: each simulation in
    turn the truth, its posterior the ``k`` nearest others by the distance from its targets'
    values, kernel-weighted and (``regression``) adjusted exactly as the calibration's
    posterior (integer parameters as whole numbers, so that ties are ties). The truth's
    weighted rank among its posterior (`rank_statistic`) is uniform on [0, 1], approximately
    with unequal weights, if the method is right."""
    from ruralgov.study.sbc import _finish_coverage

    fitted = [t for t in targets if not t.held_out]
    n = len(params)
    if not 2 <= k < n:
        raise InputError(f"abc.accept: {k}; allowed: 2 to {n - 1} (fewer than the {n} "
                         "simulations of the reference table)")
    y = values[[t.name for t in fitted]].to_numpy(dtype=float)
    theta = params.to_numpy(dtype=float)
    rng = np.random.default_rng(0)
    u = np.empty_like(theta)
    dists = np.empty(n)
    block = max(1, 2**20 // n)  # truths at a time: memory O(n), not O(n²)
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        # errors of every simulation from each truth's observation: truths x n x targets
        e = np.stack([_err_from(t, y[:, j], y[rows, j]) for j, t in enumerate(fitted)],
                     axis=-1)
        d = _distance(e)
        d[np.arange(rows.size), rows] = np.inf  # leave the truth out
        for i, r in enumerate(rows):
            near = accept(d[i], k)
            w = kernel_weights(d[i, near])
            post = adjust(theta[near], e[i, near], w, *bounds) if regression else theta[near]
            u[r] = rank_statistic(post, w, theta[r], rng.random(theta.shape[1]))
            dists[r] = float(np.mean(d[i, near]))
    return _finish_coverage(list(params.columns), u, n, k, float(np.mean(dists)))


def _err_from(t, values: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """A target's errors of all ``values`` from each of ``observed`` (observed x values)."""
    return np.asarray(error(t, values[None, :], observed[:, None]))


def bounds(spec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ranges a targets file's priors draw from, and which parameters are integers (an
    integer's range is [lo, hi + 1), each whole number a cell of it)."""
    from ruralgov.model.params import REGISTRY

    lo, hi = zip(*(_prior_range(spec, n) for n in spec.priors))
    integer = [REGISTRY[n].type == "int" for n in spec.priors]
    return (np.asarray(lo, dtype=float), np.asarray(hi, dtype=float),
            np.asarray(integer, dtype=bool))
