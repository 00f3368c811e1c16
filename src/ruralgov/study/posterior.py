"""A scenario over draws from a calibration's posterior: intervals that include parameter
uncertainty, not only seed noise (``ruralgov run SCENARIO --posterior N``).

N particles are drawn, by weight and with replacement, from the posterior of
`ruralgov calibrate` (by default the shipped calibration's,
``results/calibration/targets/posterior.parquet``); the scenario runs once at each, with its
own seed, on the sweep engine (a local process pool, or one process for small work). What the
scenario or ``--set`` fixes is not drawn: a scenario that changes a calibrated parameter keeps
its change. The folder is a sweep folder (``runs.parquet``, its manifest) with
``posterior_intervals.csv``: for each headline measure the median and the central 90 % over
the runs, whose spread is parameter and seed uncertainty together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralgov.io.files import RESULTS, new_dir, utc_stamp, write_text
from ruralgov.io.finder import scenario_ref
from ruralgov.io.scenario import load_scenario
from ruralgov.model.schema import InputError

__all__ = ["DEFAULT_POSTERIOR", "HEADLINE", "posterior_experiment", "run_posterior",
           "intervals"]

DEFAULT_POSTERIOR = RESULTS / "calibration" / "targets" / "posterior.parquet"
"""The shipped calibration's posterior (relative to the working folder)."""

#: The measures whose intervals are printed and written (summary columns of a run).
HEADLINE = ("compliance_final", "legitimacy_mean_final", "pressure_mean_final",
            "petitions_new_per_1000_year", "petitions_escalated_per_1000_year",
            "petitions_collective_per_1000_year", "protest_episodes_per_100k_year",
            "sanctions_per_1000_year", "disputes_formal_per_1000_year",
            "trust_upper_share_final", "trust_local_share_final")


def posterior_experiment(scenario: str | Path, n: int, seed: int, *,
                         steps: int | None = None, overrides: dict[str, Any] | None = None,
                         posterior: Path | str | None = None):
    """The experiment of ``n`` runs of ``scenario``, one at each of ``n`` posterior draws."""
    from ruralgov.study.experiment import Experiment
    from ruralgov.study.robustness import posterior_draws

    if not 1 <= n <= 100_000:
        raise InputError(f"--posterior: {n}; allowed: a number of draws from 1 to 100,000")
    path = Path(posterior) if posterior is not None else DEFAULT_POSTERIOR
    if posterior is None and not path.is_file():
        raise InputError(f"--posterior: the shipped posterior {path} is not here (run from the "
                         "project folder, or give --posterior-file, the posterior.parquet of "
                         "`ruralgov calibrate`)")
    sc = load_scenario(scenario)
    overrides = dict(overrides or {})
    fixed = {**sc.parameters, **overrides}
    draws = posterior_draws(path, n, seed)
    factors = {k: {"draws": v} for k, v in draws.items() if k not in fixed}
    if not factors:
        raise InputError(f"--posterior: {sc.name} (with --set) fixes every parameter the "
                         f"posterior {path} has ({', '.join(draws)}): nothing to draw")
    doc = {"title": f"{sc.title}: {n} posterior draws",
           "description": f"{sc.name} once at each of {n} draws from {path} "
                          f"({', '.join(factors)}).",
           "scenario": scenario_ref(sc.name, sc.path),
           "parameters": overrides, "steps": steps or sc.steps, "replications": 1,
           "root_seed": int(seed), "design": {"type": "crossed", "samples": n},
           "factors": factors}
    return Experiment.from_dict(doc, name=f"{sc.name}-posterior")


def intervals(runs: pd.DataFrame, measures: tuple[str, ...] = HEADLINE) -> pd.DataFrame:
    """Median and central 90 % over the runs that finished, per measure."""
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    rows = []
    for m in measures:
        if m not in ok:
            continue
        v = ok[m].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        lo, med, hi = (np.quantile(v, [0.05, 0.5, 0.95]) if v.size else (np.nan,) * 3)
        rows.append({"measure": m, "median": med, "low_5": lo, "high_95": hi, "runs": v.size})
    return pd.DataFrame(rows)


def run_posterior(scenario: str | Path, n: int, seed: int | None = None, *,
                  steps: int | None = None, overrides: dict[str, Any] | None = None,
                  posterior: Path | str | None = None,
                  out: Path | str | None = None, workers: int | None = None,
                  progress: bool = True) -> tuple[Path, pd.DataFrame]:
    """Run ``scenario`` at ``n`` posterior draws; return the folder and the intervals. The
    seed (the draws' and the runs' root) is ``seed``, the scenario's own or a fresh one."""
    from ruralgov.io.results import read_runs
    from ruralgov.study.runner import _seed
    from ruralgov.study.sweep import run_sweep

    seed = _seed(seed, load_scenario(scenario))

    exp = posterior_experiment(scenario, n, seed, steps=steps, overrides=overrides,
                               posterior=posterior)
    if out is None:
        out = new_dir(RESULTS / "runs" / exp.scenario.name
                      / f"{utc_stamp()}-seed{seed}-posterior{n}", create=False)
    report = run_sweep(exp, out, workers=workers, progress=progress)
    table = intervals(read_runs(report.out))
    write_text(table.to_csv(index=False), Path(report.out) / "posterior_intervals.csv")
    return Path(report.out), table
