"""Directed search: which lever settings reach objectives under constraints (``ruralgov search``).

BehaviorSearch and EMA Workbench's many-objective optimisation ask the question a sweep
cannot: *which settings keep protest lowest while compliance stays above 0.7?* A search file
names the levers (parameters searched over a range or a list of values), one to three
objectives (measures of a run to minimise or maximise, in the grammar of
[`ruralgov.io.expression`][ruralgov.io.expression]) and constraints (a measure at least or at
most a value)::

    title: A quiet county that complies
    description: Lowest protest with compliance above 0.7.
    scenario: baseline
    parameters: {n_villagers: 2000}     # fixed changes (optional)
    steps: 240                          # optional; default the scenario's
    replications: 3                     # runs per candidate, the same seeds for every one
    root_seed: 11
    levers:
      responsiveness: {range: [0.1, 0.9]}   # a range (whole numbers for an integer parameter)
      grid_management: [false, true]        # values to choose from
    objectives:
      - {measure: protest_episodes_per_100k_year, direction: minimize}
    constraints:
      - {measure: compliance_final, at_least: 0.7}
    population: 12                      # candidates per generation
    generations: 6
    reporters: {}                       # custom outputs, as in experiment files (optional)

The search is optuna's NSGA-II (Deb et al. 2002), the evolutionary many-objective method EMA
Workbench's optimisation also offers, chosen because optuna's ask-and-tell interface leaves
every simulation to this project's sweep engine, it handles constraints (Deb's
constrained domination: a feasible candidate beats an infeasible one) and its draws come from
one seeded generator. Each generation is an ordinary sweep (a crossed design whose points are
the candidates) in ``<out>/gen-NNN`` — on a process pool or a Dask cluster, resumable, with
progress — and runs with **common random numbers**: every candidate's r-th replicate has the
same seed, so candidates differ by their levers, not by their luck. A candidate's objective
is the mean over its replicates.

Resumable: the search is replayed from its first generation on every invocation (the sampler
is seeded by ``root_seed`` and told the finished generations' results, so it proposes the same
candidates) and only what the generation folders do not hold is run; an interrupted search
continues, and raising ``generations`` extends a finished one. Any other change is refused,
naming the field. Writes ``trials.parquet`` (one row per candidate: generation, levers,
objectives with standard errors, constraints, feasible, Pareto-optimal), ``pareto.png``,
``SEARCH.md`` and ``search.json`` (definition, seed, versions, git revision).
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic
from pydantic import ConfigDict, Field

from ruralgov.io.expression import Expression, parse
from ruralgov.io.finder import find_named
from ruralgov.io.scenario import MAX_STEPS, read_spec
from ruralgov.model.params import REGISTRY
from ruralgov.model.schema import InputError, validate_params
from ruralgov.study.experiment import (
    Experiment,
    ReporterSpec,
    reporter_measures,
    split_reporters,
)

__all__ = ["SearchSpec", "load_search", "run_search", "pareto_mask"]


class _Range(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    range: tuple[float, float]


class _Objective(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    measure: str = Field(min_length=1, max_length=300)
    direction: Literal["minimize", "maximize"]


class _Constraint(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    measure: str = Field(min_length=1, max_length=300)
    at_least: float | None = None
    at_most: float | None = None

    @pydantic.model_validator(mode="after")
    def _one_bound(self):
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of at_least and at_most")
        return self


class _Profile(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: pydantic.StrictInt | None = Field(default=None, ge=1, le=MAX_STEPS)
    replications: pydantic.StrictInt | None = Field(default=None, ge=1, le=1000)
    population: pydantic.StrictInt | None = Field(default=None, ge=2, le=10_000)
    generations: pydantic.StrictInt | None = Field(default=None, ge=1, le=1000)
    parameters: dict[str, Any] = Field(default_factory=dict)


class SearchSpec(pydantic.BaseModel):
    """A search file, validated (the module's docstring shows one)."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    scenario: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    steps: pydantic.StrictInt | None = Field(default=None, ge=1, le=MAX_STEPS)
    replications: pydantic.StrictInt = Field(default=1, ge=1, le=1000)
    root_seed: pydantic.StrictInt = Field(ge=0, lt=2**63)
    levers: dict[str, list[Any] | _Range] = Field(min_length=1)
    objectives: list[_Objective] = Field(min_length=1, max_length=3)
    constraints: list[_Constraint] = Field(default_factory=list)
    population: pydantic.StrictInt = Field(default=12, ge=2, le=10_000)
    generations: pydantic.StrictInt = Field(default=5, ge=1, le=1000)
    profiles: dict[str, _Profile] = Field(default_factory=dict)
    reporters: dict[str, str | ReporterSpec] = Field(default_factory=dict)


def load_search(name_or_path: str | Path, profile: str | None = None
                ) -> tuple[SearchSpec, Path]:
    """Load and check a search file (by path, or by name under ``experiments/``, e.g.
    ``search/quiet_county``): levers are numeric or listed parameters within their bounds,
    objectives and constraints are expressions of per-run summary measures."""
    from ruralgov.model.measures import SUMMARY_MEASURES

    path = find_named(name_or_path, "experiment", nested=True)
    spec, _ = read_spec(path, SearchSpec, "a search file must be a mapping with title, "
                        "description, scenario, root_seed, levers and objectives",
                        kind="search")
    if profile is not None:
        if profile not in spec.profiles:
            raise InputError(f"{path}: profiles: no profile {profile!r}; it has "
                             f"{', '.join(spec.profiles) or 'none'}")
        prof = spec.profiles[profile]
        spec = spec.model_copy(update={
            **{k: v for k, v in prof.model_dump().items()
               if k != "parameters" and v is not None},
            "parameters": {**spec.parameters, **prof.parameters}})
    validate_params(spec.parameters, source=str(path), prefix="parameters")
    for name, lever in spec.levers.items():
        _check_lever(f"{path}: levers.{name}", name, lever)
        if name in spec.parameters:
            raise InputError(f"{path}: levers.{name}: also fixed under parameters; a "
                             "parameter is either searched or fixed")
    end, step = split_reporters(str(path), spec.reporters, base_dir=path.parent)
    measures = set(SUMMARY_MEASURES) | reporter_measures(end, step)
    for kind in ("objectives", "constraints"):
        for i, item in enumerate(getattr(spec, kind)):
            parse(item.measure, measures, f"{path}: {kind}.{i}.measure")
    _generation(spec, path, [{n: _example(lv) for n, lv in spec.levers.items()}], 0)
    return spec, path


def _check_lever(where: str, name: str, lever: list[Any] | _Range) -> None:
    p = REGISTRY.get(name)
    if p is None:
        raise InputError(f"{where}: not a model parameter; `ruralgov params` lists them")
    if isinstance(lever, _Range):
        lo, hi = lever.range
        if p.type == "bool" or not (p.lo <= lo < hi <= p.hi):
            raise InputError(f"{where}: range [{lo:g}, {hi:g}] must be low < high within the "
                             f"allowed {p.allowed()}" + (" (a switch: list its values, "
                                                         "[false, true])" if p.type == "bool"
                                                         else ""))
        if p.type == "int" and math.ceil(lo) > math.floor(hi):
            raise InputError(f"{where}: range [{lo:g}, {hi:g}] holds no whole number; an "
                             "integer parameter needs at least one")
        return
    if not lever:
        raise InputError(f"{where}: give at least one value")
    for k, value in enumerate(lever):
        validate_params({name: value}, source=where, prefix=f"[{k}]")


def _example(lever: list[Any] | _Range) -> Any:
    return lever[0] if isinstance(lever, list) else lever.range[0]


def _generation(spec: SearchSpec, path: Path, candidates: list[dict[str, Any]],
                generation: int) -> Experiment:
    """Generation ``generation`` of the search file ``path`` as an experiment: a crossed
    design whose points are the candidates, ``replications`` runs each with common random
    numbers."""
    doc = {"title": f"{spec.title}: generation {generation}",
           "description": f"Generation {generation} of the search {spec.title!r}.",
           "scenario": spec.scenario, "parameters": spec.parameters,
           "replications": spec.replications, "root_seed": spec.root_seed,
           "common_random_numbers": True,
           "design": {"type": "crossed", "samples": len(candidates)},
           "factors": {n: {"draws": [c[n] for c in candidates]} for n in spec.levers},
           "reporters": {k: v if isinstance(v, str) else v.model_dump()
                         for k, v in spec.reporters.items()}}
    if spec.steps is not None:
        doc["steps"] = spec.steps
    try:
        return Experiment.from_dict(doc, name=f"gen-{generation:03d}", base_dir=path.parent)
    except InputError as err:
        raise InputError(f"{path}: {err}") from None


def definition(spec: SearchSpec) -> dict[str, Any]:
    """What identifies a search: its file less how far to run it (``generations``) and its
    profiles (the one chosen is already applied)."""
    doc = spec.model_dump(mode="json")
    for key in ("generations", "profiles"):
        doc.pop(key)
    return doc


def definition_hash(spec: SearchSpec) -> str:
    return hashlib.sha256(json.dumps(definition(spec), sort_keys=True).encode()).hexdigest()


def pareto_mask(values: np.ndarray, directions: list[str]) -> np.ndarray:
    """Which rows of ``values`` (candidates x objectives) no other row dominates: at least as
    good on every objective and better on one (NaN rows are never optimal)."""
    v = np.asarray(values, dtype=float) * np.where(
        np.asarray(directions) == "maximize", -1.0, 1.0)  # all minimised
    ok = np.isfinite(v).all(axis=1)
    keep = ok.copy()
    for i in np.flatnonzero(ok):
        others = v[ok]
        dominated = ((others <= v[i]).all(axis=1) & (others < v[i]).any(axis=1)).any()
        keep[i] = not dominated
    return keep


def _sampler(spec: SearchSpec):
    """optuna's NSGA-II, seeded by the search's root seed, with Deb's constrained domination
    (a trial's constraints are stored on it before it is told)."""
    from ruralgov.io.extras import require

    optuna = require("optuna", "ruralgov search")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constraints_func is marked experimental in some 4.x
        sampler = optuna.samplers.NSGAIISampler(
            population_size=spec.population, seed=spec.root_seed % (2**32),
            constraints_func=(lambda t: t.user_attrs["constraints"]) if spec.constraints
            else None)
    directions = [o.direction for o in spec.objectives]
    return optuna, optuna.create_study(sampler=sampler, directions=directions)


def _suggest(trial, spec: SearchSpec) -> dict[str, Any]:
    out = {}
    for name, lever in spec.levers.items():
        if isinstance(lever, list):
            out[name] = trial.suggest_categorical(name, lever)
        elif REGISTRY[name].type == "int":
            out[name] = trial.suggest_int(name, int(np.ceil(lever.range[0])),
                                          int(np.floor(lever.range[1])))
        else:
            out[name] = trial.suggest_float(name, *lever.range)
    return out


def _scores(spec: SearchSpec, runs: pd.DataFrame, n: int) -> pd.DataFrame:
    """One row per candidate (design point): each objective's and constraint's mean over the
    replicates and its standard error, the constraints' violations (at most 0: met) and the
    runs that failed."""
    from ruralgov.model.measures import SUMMARY_MEASURES

    ok = runs[runs.status == "ok"]
    rows = pd.DataFrame(index=pd.RangeIndex(n, name="candidate"))
    rows["runs_failed"] = runs.groupby("point").status.apply(
        lambda s: int((s != "ok").sum())).reindex(rows.index, fill_value=0)
    allowed = set(SUMMARY_MEASURES) | set(ok.columns)
    for kind, items in (("objective", spec.objectives), ("constraint", spec.constraints)):
        for i, item in enumerate(items):
            expr: Expression = parse(item.measure, allowed, f"{kind}s.{i}.measure")
            v = pd.Series(np.broadcast_to(np.asarray(expr.evaluate(ok), dtype=float),
                                          len(ok)), index=ok.index)
            g = v.groupby(ok.point)
            rows[f"{kind}_{i}"] = g.mean().reindex(rows.index)
            rows[f"{kind}_{i}_se"] = (g.std(ddof=1) / np.sqrt(g.count())).reindex(rows.index)
            if kind == "constraint":
                m = rows[f"{kind}_{i}"]
                rows[f"violation_{i}"] = (item.at_least - m if item.at_least is not None
                                          else m - item.at_most)
    return rows


def _open(spec: SearchSpec, out: Path, path: Path, profile: str | None) -> None:
    """A search folder: new, or one of the same search whose generations ``spec`` runs at
    least as far (more generations continue it; fewer would drop finished ones from its
    tables). Created once, even by two invocations at the same time."""
    from ruralgov.io.files import write_json_new
    from ruralgov.io.provenance import utc_now
    from ruralgov.study.sweep import definition_changes

    out.mkdir(parents=True, exist_ok=True)
    meta = out / "search.json"
    if not meta.exists() and any(out.iterdir()):
        raise InputError(f"{out}: not empty and not a search folder; give another --out")
    try:
        write_json_new({"search": str(path), "profile": profile,
                        "definition": definition(spec),
                        "definition_sha256": definition_hash(spec),
                        "created_utc": utc_now()}, meta)
        return
    except FileExistsError:  # a search begun before: the same one?
        old = json.loads(meta.read_text(encoding="utf-8"))
    if old.get("definition_sha256") != definition_hash(spec):
        changes = definition_changes(old.get("definition", {}), definition(spec))
        raise InputError(f"{out}: holds another search ({'; '.join(changes) or 'changed'})"
                         "; use another --out, or restore the file (only generations may "
                         "grow)")
    done = len(list(out.glob("gen-*")))
    if spec.generations < done:
        raise InputError(f"{out}: holds {done} generations; --generations {spec.generations} "
                         f"would leave some out of its tables: give {done} or more")


def run_search(name_or_path: str | Path, *, profile: str | None = None,
               out: Path | str | None = None, generations: int | None = None,
               progress: bool = True, **sweep: Any) -> Path:
    """Run (or continue) a search file; return its folder (default
    ``results/search/<name>[-<profile>]``). ``generations`` overrides the file's;
    other keyword arguments go to [`run_sweep`][ruralgov.study.sweep.run_sweep]
    (``workers``, ``scheduler``, ``executor``)."""
    from ruralgov.io.files import RESULTS
    from ruralgov.io.results import read_runs
    from ruralgov.study.sweep import run_sweep

    spec, path = load_search(name_or_path, profile)
    if generations is not None:
        spec = spec.model_copy(update={"generations": int(generations)})
    out = Path(out) if out else RESULTS / "search" / (path.stem + (f"-{profile}" if profile
                                                                    else ""))
    optuna, study = _sampler(spec)  # (a missing extra is said before a folder is made)
    _open(spec, out, path, profile)
    rows = []
    for g in range(spec.generations):
        trials = [study.ask() for _ in range(spec.population)]
        candidates = [_suggest(t, spec) for t in trials]
        exp = _generation(spec, path, candidates, g)
        folder = out / f"gen-{g:03d}"
        if progress:
            print(f"search {path.stem}: generation {g + 1}/{spec.generations}", flush=True)
        run_sweep(exp, folder, progress=progress, **sweep)
        scores = _scores(spec, read_runs(folder), len(candidates))
        for k, (trial, cand) in enumerate(zip(trials, candidates)):
            s = scores.loc[k]
            values = [float(s[f"objective_{i}"]) for i in range(len(spec.objectives))]
            if spec.constraints:
                trial.set_user_attr("constraints", [float(s[f"violation_{i}"]) for i in
                                                    range(len(spec.constraints))])
            if np.isfinite(values).all():
                study.tell(trial, values)
            else:  # every replicate failed: the sampler ignores the candidate
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            rows.append({"generation": g, "candidate": k, "trial": trial.number, **cand,
                         **s.to_dict()})
    return _finish(spec, path, out, pd.DataFrame(rows), profile)


def _finish(spec: SearchSpec, path: Path, out: Path, trials: pd.DataFrame,
            profile: str | None) -> Path:
    """Feasibility and the Pareto front over every candidate; ``trials.parquet``,
    ``pareto.png``, ``SEARCH.md`` and the results in ``search.json``."""
    from ruralgov.io.files import write_figure, write_json, write_parquet, write_text
    from ruralgov.io.provenance import git_revision, utc_now, versions

    n_c = len(spec.constraints)
    viol = trials[[f"violation_{i}" for i in range(n_c)]].to_numpy(dtype=float)
    trials["feasible"] = (viol <= 0).all(axis=1) if n_c else True
    obj = trials[[f"objective_{i}" for i in range(len(spec.objectives))]].to_numpy(float)
    front = np.zeros(len(trials), dtype=bool)
    feasible = trials["feasible"].to_numpy()
    front[feasible] = pareto_mask(obj[feasible], [o.direction for o in spec.objectives])
    trials["pareto"] = front
    write_parquet(trials, out / "trials.parquet")
    write_figure(_figure(spec, trials), out / "pareto.png")
    meta = json.loads((out / "search.json").read_text())
    meta.update({"generations_run": spec.generations, "population": spec.population,
                 "candidates": len(trials), "feasible": int(feasible.sum()),
                 "pareto": int(front.sum()), "root_seed": spec.root_seed,
                 "finished_utc": utc_now(), "versions": versions(), "git": git_revision()})
    write_json(meta, out / "search.json")
    write_text(report(spec, trials, meta), out / "SEARCH.md")
    return out


def _label(spec: SearchSpec, kind: str, i: int) -> str:
    item = (spec.objectives if kind == "objective" else spec.constraints)[i]
    return item.measure


def _figure(spec: SearchSpec, trials: pd.DataFrame):
    """Two objectives: every candidate, the feasible ones filled, the Pareto front joined.
    One (or the first of three): the best feasible value found, generation by generation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
    feas = trials[trials.feasible]
    if len(spec.objectives) >= 2:
        x, y = "objective_0", "objective_1"
        ax.scatter(trials[x], trials[y], s=18, facecolors="none", edgecolors="#999999",
                   label="every candidate")
        ax.scatter(feas[x], feas[y], s=18, color="#4393c3", label="feasible")
        front = trials[trials.pareto].sort_values(x)
        ax.plot(front[x], front[y], "o-", color="#d6604d", label="Pareto front")
        ax.set_xlabel(_label(spec, "objective", 0))
        ax.set_ylabel(_label(spec, "objective", 1))
    else:
        sign = -1.0 if spec.objectives[0].direction == "maximize" else 1.0
        ax.scatter(trials.generation + 1, trials.objective_0, s=14, color="#bbbbbb",
                   label="every candidate")
        best = (feas.groupby("generation").objective_0.agg("max" if sign < 0 else "min")
                .reindex(range(spec.generations)))
        best = (best * sign).cummin() * sign
        ax.plot(best.index + 1, best.to_numpy(), "o-", color="#d6604d",
                label="best feasible so far")
        ax.set_xlabel("generation")
        ax.set_ylabel(_label(spec, "objective", 0))
    ax.set_title(spec.title, fontsize=10)
    ax.legend(fontsize=8)
    return fig


def report(spec: SearchSpec, trials: pd.DataFrame, meta: dict[str, Any]) -> str:
    """SEARCH.md: the question, the method, and the Pareto-optimal lever settings."""
    lines = [f"# {spec.title}", "", " ".join(spec.description.split()), "",
             f"NSGA-II (optuna) over {', '.join(f'`{n}`' for n in spec.levers)}: "
             f"{spec.generations} generations of {spec.population} candidates, each run "
             f"{spec.replications} times on the scenario `{spec.scenario}` with common random "
             f"numbers (every candidate's r-th run has the same seed; root seed "
             f"{spec.root_seed}); values are means over the runs ± standard error. "
             f"{meta['feasible']} of {meta['candidates']} candidates meet the constraints"
             + (" (" + "; ".join(f"`{c.measure}` "
                                 + (f">= {c.at_least:g}" if c.at_least is not None
                                    else f"<= {c.at_most:g}") for c in spec.constraints) + ")"
                if spec.constraints else "")
             + f"; {meta['pareto']} of those are Pareto-optimal (no other feasible candidate "
             "is at least as good on every objective and better on one).", "",
             "![search](pareto.png)", "", "## Pareto-optimal lever settings", ""]
    front = trials[trials.pareto]
    if front.empty:
        lines.append("No candidate meets the constraints: the search found no feasible "
                     "setting (run more generations, or the constraints cannot be met "
                     "together in this county).")
        return "\n".join(lines) + "\n"
    heads = [f"`{n}`" for n in spec.levers] + [
        f"{o.direction} `{o.measure}`" for o in spec.objectives] + [
        f"`{c.measure}`" for c in spec.constraints]
    lines += ["| generation | " + " | ".join(heads) + " |",
              "|---:|" + "---:|" * len(heads)]
    for _, r in front.sort_values("objective_0").iterrows():
        cells = [_cell(r[n]) for n in spec.levers]
        cells += [f"{r[f'objective_{i}']:.4g} ± {r[f'objective_{i}_se']:.2g}"
                  for i in range(len(spec.objectives))]
        cells += [f"{r[f'constraint_{i}']:.4g}" for i in range(len(spec.constraints))]
        lines.append(f"| {int(r.generation) + 1} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    return f"{v:.4g}" if isinstance(v, float) else str(v)
