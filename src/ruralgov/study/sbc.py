"""Simulation-based calibration of the calibration method: does ABC, with these targets,
tolerances and this distance, give intervals that cover the truth as often as they say?

The coverage property (Prangle, Blum, Popovic & Sisson 2014, "Diagnostic tools for
approximate Bayesian computation using the coverage property", *Australian & New Zealand
Journal of Statistics* 56(4); Talts et al. 2018 for simulation-based calibration in general):
if the method is right, a parameter drawn from the prior and then estimated from data
simulated with it lies inside the central 50 % posterior interval half the time and inside the
central 90 % interval nine times in ten. With ABC this is checked cheaply on one reference
table: ``draws`` parameter sets from the prior, each simulated once on the sweep engine (a
local process pool or a Dask cluster; resumable, with progress). Each simulation in turn is the
synthetic truth; its ABC posterior is made of the ``accept`` nearest other simulations by the
calibration's own distance (the fitted targets' errors in units of their tolerances, measured
from the synthetic observation). The acceptance share plays the part of ABC-SMC's final
tolerance: what is validated is ABC at that tolerance, of which ABC-SMC is a sampler.

``ruralgov calibrate --sbc N`` writes ``sbc/`` into the calibration's folder: the reference
sweep, ``sbc.json`` (coverage per parameter with binomial intervals), ``sbc.png``; and the
calibration report gains its coverage section.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralgov.io.files import write_figure, write_json, write_parquet
from ruralgov.model.schema import InputError

__all__ = ["sbc", "coverage", "NOMINAL", "COVERAGE_SLACK"]

NOMINAL = (0.5, 0.9)
"""The central posterior intervals whose coverage is checked."""
COVERAGE_SLACK = 0.10
"""A parameter passes when each interval's coverage is within this of its nominal level."""
_SEED_KEY = 2**31 - 1  # the reference table's seed: spawned from the root seed, apart from
# the generations' (which use spawn keys 0, 1, ...)


def reference_seed(spec) -> int:
    """The reference table's seed: spawned from the targets file's root seed (apart from the
    generations' and the point estimate's)."""
    return int(np.random.SeedSequence(spec.root_seed, spawn_key=(_SEED_KEY,))
               .generate_state(1)[0])


def _reference_experiment(spec, draws: int, root_seed: int, take: int | None = None):
    """The reference table as an experiment: the targets file's county at ``draws`` iid
    draws from the (uniform) priors (only the first ``take`` of them, if given: the same
    values as the first ``take`` rows of the whole table)."""
    from ruralgov.study.experiment import Experiment
    from ruralgov.study.targets import _prior_range, _value

    rng = np.random.default_rng(root_seed)
    factors = {}
    for name in spec.priors:
        lo, hi = _prior_range(spec, name)
        factors[name] = {"draws": [_value(spec, name, float(v))
                                   for v in rng.uniform(lo, hi, size=draws)[:take]]}
    draws = draws if take is None else min(take, draws)
    doc = {"title": f"SBC reference table: {spec.title}"[:200],
           "description": f"{draws} draws from the priors of the calibration, simulated once "
                          "each (simulation-based calibration of the method).",
           "scenario": spec.scenario, "parameters": dict(spec.parameters),
           "steps": spec.steps, "replications": 1, "root_seed": int(root_seed),
           "design": {"type": "crossed", "samples": draws}, "factors": factors}
    return Experiment.from_dict(doc, name="sbc-reference")


def _target_values(spec, runs: pd.DataFrame) -> pd.DataFrame:
    """Every target's measure on every run of the reference table."""
    from ruralgov.study.targets import _measure

    cols = {c: runs[c].to_numpy(dtype=float) for c in runs.columns
            if pd.api.types.is_numeric_dtype(runs[c])}
    return pd.DataFrame({t.name: np.broadcast_to(_measure(t).evaluate(cols), len(runs))
                         for t in spec.targets})


def coverage(spec, params: pd.DataFrame, values: pd.DataFrame, accept: int
             ) -> dict[str, Any]:
    """Leave-one-out coverage on a reference table: each row the truth, its posterior the
    ``accept`` nearest other rows by the calibration's distance over the fitted targets. The
    truth's rank r among its posterior sample (Talts et al. 2018) decides: it lies in the
    central interval of level a when (r + V)/(accept + 1), V uniform on [0, 1), is within a/2
    of ½ — uniform on [0, 1] if the method is right, so the expected coverage is exactly a
    for any sample size, where quantiles of a few draws would under-cover."""
    from ruralgov.study.targets import error

    fitted = [t for t in spec.targets if not t.held_out]
    n = len(params)
    if not 2 <= accept < n:
        raise InputError(f"--sbc-accept: {accept}; allowed: 2 to {n - 1} (fewer than the "
                         f"{n} reference simulations)")
    y = values[[t.name for t in fitted]].to_numpy(dtype=float)
    near = np.empty((n, accept), dtype=np.int64)
    dist = np.empty((n, accept))
    block = max(1, 2**22 // n)  # truths at a time: memory stays O(n), not O(n²)
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        sq = np.zeros((rows.size, n))
        for k, t in enumerate(fitted):
            e = error(t, y[None, :, k], y[rows, None, k])  # row: the truth's observation
            sq += np.where(np.isfinite(e), e, 1e3) ** 2
        d = np.sqrt(sq / len(fitted))
        d[np.arange(rows.size), rows] = np.inf  # leave the truth out
        part = np.argpartition(d, accept - 1, axis=1)[:, :accept]
        near[rows] = part
        dist[rows] = np.take_along_axis(d, part, axis=1)
    rng = np.random.default_rng(0)  # ties (integer parameters) broken at random
    u = np.empty((n, params.shape[1]))
    for j, name in enumerate(params.columns):
        theta = params[name].to_numpy(dtype=float)
        post = theta[near]  # n x accept
        below = (post < theta[:, None]).sum(axis=1)
        ties = (post == theta[:, None]).sum(axis=1)
        rank = below + np.floor(rng.random(n) * (ties + 1))
        u[:, j] = (rank + rng.random(n)) / (accept + 1)  # uniform on [0, 1] if right
    return _finish_coverage(list(params.columns), u, n, accept, float(np.mean(dist)))


def _finish_coverage(names: list[str], u: np.ndarray, n: int, accept: int,
                     mean_distance: float, levels=NOMINAL) -> dict[str, Any]:
    """The coverage result from each truth's rank statistic ``u`` (truths x parameters),
    uniform on [0, 1] when the method is right."""
    out: dict[str, Any] = {"reference": n, "accept": accept,
                           "acceptance_share": accept / (n - 1), "parameters": []}
    for j, name in enumerate(names):
        row = {"parameter": name,
               "rank_histogram": np.histogram(u[:, j], bins=10, range=(0, 1))[0].tolist()}
        for level in levels:
            share = float(np.mean(np.abs(u[:, j] - 0.5) <= level / 2))
            row[f"coverage_{int(level * 100)}"] = share
            row[f"coverage_{int(level * 100)}_ci"] = list(_wilson(share, n))
        row["passes"] = all(abs(row[f"coverage_{int(lv * 100)}"] - lv) <= COVERAGE_SLACK
                            for lv in levels)
        out["parameters"].append(row)
    out["passes"] = all(p["passes"] for p in out["parameters"])
    out["mean_distance_accepted"] = mean_distance
    return out


def _kept_table(exp, spec, path: Path) -> pd.DataFrame:
    """The reference table kept as one Parquet file (``reference_runs.parquet``, written by
    every SBC; the raw sweep folder need not be kept), if it holds exactly the runs of
    ``exp`` — the same seeds and parameter draws; otherwise one clear message."""
    runs = pd.read_parquet(path).sort_values("run_id").reset_index(drop=True)
    want = exp.runs()
    same = len(runs) == len(want) and all(
        r.run_id == w.run_id and int(r.seed) == w.seed
        and all(np.isclose(float(getattr(r, k)), float(w.values[k])) for k in spec.priors)
        for r, w in zip(runs.itertuples(), want))
    if not same:
        raise InputError(f"{path}: holds other runs than this SBC asks for (other draws, "
                         "seeds or priors); move it away to simulate the reference table anew")
    return runs


def _wilson(share: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's 95 % interval for a proportion (not empty at 0 or 1)."""
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _figure(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["parameters"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * len(rows), 3.4))
    x = np.arange(len(rows))
    for k, (level, colour) in enumerate(zip(NOMINAL, ("#4393c3", "#d6604d"))):
        key = f"coverage_{int(level * 100)}"
        val = [r[key] for r in rows]
        err = np.array([[r[key] - r[key + "_ci"][0], r[key + "_ci"][1] - r[key]] for r in rows]).T
        ax.bar(x + (k - 0.5) * 0.38, val, 0.36, yerr=err, color=colour,
               label=f"central {int(level * 100)} % interval")
        ax.axhspan(level - COVERAGE_SLACK, level + COVERAGE_SLACK, color=colour, alpha=0.12)
        ax.axhline(level, color=colour, lw=0.8)
    ax.set_xticks(x, [r["parameter"] for r in rows], rotation=40, ha="right", fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("coverage of the true value")
    ax.set_title(f"Simulation-based calibration: {result['reference']} synthetic truths, "
                 f"{result['accept']} accepted each", fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return write_figure(fig, path, dpi=100)


def sbc(targets: str | Path = "calibration/targets", profile: str | None = None,
        out: Path | str | None = None, draws: int = 1000, accept: int | None = None,
        workers: int | None = None, scheduler: str | None = None,
        progress: bool = True) -> Path:
    """Run (or continue) the reference table into ``<calibration folder>/sbc`` and write the
    coverage; return the folder."""
    from ruralgov.io.files import RESULTS
    from ruralgov.io.results import read_runs
    from ruralgov.study.sweep import run_sweep
    from ruralgov.study.targets import definition_hash, load_targets

    spec, path = load_targets(targets, profile)
    if spec.abc.method == "rejection":
        raise InputError(f"{path}: abc.method is rejection, whose calibration checks its own "
                         "coverage on its reference table (the report's simulation-based "
                         "calibration); --sbc is for an ABC-SMC calibration")
    base = Path(out) if out else RESULTS / "calibration" / (path.stem + (f"-{profile}"
                                                                        if profile else ""))
    folder = base / "sbc"
    key = definition_hash(spec)
    meta = base / "calibration.json"
    if meta.is_file() and json.loads(meta.read_text()).get("definition_sha256") != key:
        raise InputError(f"{base}: holds a calibration of other targets or settings than "
                         f"{path}{f' (profile {profile})' if profile else ''}; give the "
                         "calibration's own targets and profile, or another --out")
    accept = accept if accept is not None else max(2, round(0.025 * (draws - 1)))
    if not 2 <= accept < draws:
        raise InputError(f"--sbc-accept: {accept}; allowed: 2 to {draws - 1} (fewer than "
                         f"the {draws} reference simulations)")
    seed = reference_seed(spec)
    exp = _reference_experiment(spec, draws, seed)
    kept = folder / "reference_runs.parquet"
    if not (folder / "reference").exists() and kept.is_file():
        runs = _kept_table(exp, spec, kept)  # the raw sweep was dropped; its table was kept
    else:
        run_sweep(exp, folder / "reference", workers=workers, scheduler=scheduler,
                  progress=progress)
        runs = read_runs(folder / "reference")
        write_parquet(runs, kept)
    runs = runs[runs.status == "ok"].reset_index(drop=True)
    if len(runs) <= accept:
        raise InputError(f"{folder / 'reference'}: only {len(runs)} of {draws} reference runs "
                         f"finished, not more than the {accept} to accept; see its log, rerun "
                         "with --sbc to retry them")
    result = coverage(spec, runs[list(spec.priors)], _target_values(spec, runs), accept)
    result.update({"targets_file": str(path), "profile": profile, "root_seed": spec.root_seed,
                   "definition_sha256": key, "failed_runs": draws - len(runs)})
    write_json(result, folder / "sbc.json")
    _figure(result, folder / "sbc.png")
    return folder
