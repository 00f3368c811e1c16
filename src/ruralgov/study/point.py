"""The calibrated county as one point: the posterior particle that fits best over fresh seeds,
and the stocks that county settles at.

ABC-SMC keeps a particle when *its one simulation* lands within the tolerance; a particle
kept that way may owe its small distance to its seed (the best distances of a final
population are, re-run with other seeds, one and a half to two times larger). The point
estimate therefore re-runs the ``candidates`` particles of the final population with the
smallest distances, each over ``seeds`` fresh seeds on the sweep engine, and takes the one
whose mean distance over those seeds is smallest: a point near the posterior's mode chosen
on out-of-sample fit, not on a lucky draw. With it come the means of the slow stocks
(legitimacy, trust in the township, trust in the levels above) over the final window, the
values at which a county started there needs no long burn-in.

``ruralgov calibrate --point`` writes ``point.json`` (every candidate's fit, the chosen one,
its stocks) and ``point/`` (the runs) into the calibration folder. The model's defaults are
set from ``point.json`` by hand, in ``ruralgov.model.params`` (one home per parameter); a test
holds the two together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralgov.io.files import write_json
from ruralgov.model.schema import InputError

__all__ = ["point", "STOCKS"]

STOCKS = {"legitimacy_initial": "legitimacy_mean_final",
          "trust_local_initial": "trust_local_mean_final",
          "trust_upper_initial": "trust_upper_mean_final"}
"""Initial stock parameter -> the summary measure whose stationary value it takes."""
_SEED_KEY = 2**31 - 2  # apart from the generations' keys and the SBC's (2**31 - 1)


def _candidates(folder: Path, spec, count: int) -> pd.DataFrame:
    """The ``count`` particles of the final generation with the smallest distances (of a
    rejection calibration: the accepted simulations, as run, nearest first)."""
    from ruralgov.io.extras import require
    from ruralgov.study.targets import _value

    if spec.abc.method == "rejection":
        acc = pd.read_parquet(folder / "accepted.parquet").head(count)
        out = acc[list(spec.priors)].reset_index(drop=True)
        return out.assign(abc_distance=acc["distance"].to_numpy(dtype=float), generation=0)
    pyabc = require("pyabc", "ruralgov calibrate --point")
    history = pyabc.History(f"sqlite:///{folder / 'abc.db'}")
    pop = history.get_population_extended(t=history.max_t).sort_values("distance")
    top = pop.head(count).reset_index(drop=True)
    out = pd.DataFrame({name: [_value(spec, name, float(v)) for v in top[f"par_{name}"]]
                        for name in spec.priors})
    out["abc_distance"] = top["distance"].to_numpy(dtype=float)
    out["generation"] = int(history.max_t)
    return out


def _experiment(spec, cands: pd.DataFrame, seeds: int, root_seed: int):
    """The candidates as an experiment: the calibration's county at each, ``seeds`` runs."""
    from ruralgov.study.experiment import Experiment

    factors = {name: {"draws": cands[name].tolist()} for name in spec.priors}
    doc = {"title": f"Point estimate: {spec.title}"[:200],
           "description": f"The {len(cands)} best particles of the final ABC generation, "
                          f"each run with {seeds} fresh seeds.",
           "scenario": spec.scenario, "parameters": dict(spec.parameters),
           "steps": spec.steps, "replications": seeds, "root_seed": int(root_seed),
           "design": {"type": "crossed", "samples": len(cands)}, "factors": factors}
    return Experiment.from_dict(doc, name="calibration-point")


def fit_table(spec, runs: pd.DataFrame) -> pd.DataFrame:
    """Per design point: the mean distance over its runs (each run's root mean square error
    over the fitted targets, in tolerances) and every target's and stock's mean."""
    from ruralgov.study.sbc import _target_values
    from ruralgov.study.targets import distance

    values = _target_values(spec, runs)
    fitted = [t for t in spec.targets if not t.held_out]
    per_run = pd.DataFrame({"point": runs["point"].to_numpy(), "distance": distance(
        fitted, {t.name: values[t.name].to_numpy(dtype=float) for t in fitted})})
    for t in spec.targets:
        per_run[t.name] = values[t.name].to_numpy(dtype=float)
    for col in STOCKS.values():
        per_run[col] = runs[col].to_numpy(dtype=float)
    table = per_run.groupby("point").mean()
    table["distance_max"] = per_run.groupby("point")["distance"].max()
    table["runs"] = per_run.groupby("point").size()
    return table


def point(folder: Path | str, candidates: int = 20, seeds: int = 5,
          workers: int | None = None, scheduler: str | None = None,
          progress: bool = True) -> Path:
    """Choose the calibration's point estimate (see the module); write ``point.json``."""
    from ruralgov.io.provenance import git_revision, utc_now, versions
    from ruralgov.io.results import read_runs
    from ruralgov.study.sweep import run_sweep
    from ruralgov.study.targets import definition_hash, load_targets

    folder = Path(folder)
    meta = folder / "calibration.json"
    if not meta.is_file():
        raise InputError(f"{folder}: no calibration.json; run `ruralgov calibrate` into it "
                         "first (--point picks a point of a finished calibration)")
    manifest = json.loads(meta.read_text(encoding="utf-8"))
    if manifest.get("status") != "done":
        raise InputError(f"{meta}: status {manifest.get('status')!r}; --point needs a "
                         "finished calibration")
    spec, _ = load_targets(manifest["targets_file"], manifest["profile"])
    if definition_hash(spec) != manifest["definition_sha256"]:
        raise InputError(f"{meta}: calibrated other targets than {manifest['targets_file']} "
                         "now defines (the file changed since); calibrate again")
    if not (2 <= candidates <= 10_000 and 2 <= seeds <= 1000):
        raise InputError(f"--point-candidates {candidates}, --point-seeds {seeds}; allowed: "
                         "2 to 10,000 candidates and 2 to 1,000 seeds")
    cands = _candidates(folder, spec, candidates)
    seed = int(np.random.SeedSequence(spec.root_seed, spawn_key=(_SEED_KEY,))
               .generate_state(1)[0])
    run_sweep(_experiment(spec, cands, seeds, seed), folder / "point", workers=workers,
              scheduler=scheduler, progress=progress)
    runs = read_runs(folder / "point")
    runs = runs[runs.status == "ok"].reset_index(drop=True)
    if runs.empty:
        raise InputError(f"{folder / 'point'}: no run finished; see its log")
    table = fit_table(spec, runs)
    result = _result(spec, cands, table, seeds)
    result.update({"created_utc": utc_now(), "versions": versions(), "git": git_revision(),
                   "targets_file": manifest["targets_file"], "profile": manifest["profile"],
                   "definition_sha256": manifest["definition_sha256"], "root_seed": seed})
    return write_json(result, folder / "point.json")


def _result(spec, cands: pd.DataFrame, table: pd.DataFrame, seeds: int) -> dict[str, Any]:
    rows = []
    for i, c in cands.iterrows():
        if i not in table.index:
            continue
        r = table.loc[i]
        rows.append({"candidate": int(i), "abc_distance": float(c.abc_distance),
                     "distance_mean": float(r.distance), "distance_max": float(r.distance_max),
                     "runs": int(r.runs),
                     "parameters": {n: c[n].item() if hasattr(c[n], "item") else c[n]
                                    for n in spec.priors},
                     "targets": {t.name: float(r[t.name]) for t in spec.targets},
                     "stocks": {p: float(r[m]) for p, m in STOCKS.items()}})
    rows.sort(key=lambda r: r["distance_mean"])
    best = rows[0]
    within = {t.name: _within(t, best["targets"][t.name]) for t in spec.targets
              if not t.held_out}
    return {"seeds": seeds, "chosen": best, "fitted_within_tolerance": within,
            "candidates": rows}


def _within(t, value: float) -> bool:
    from ruralgov.study.targets import error

    return bool(np.isfinite(value) and abs(float(error(t, value))) <= 1)
