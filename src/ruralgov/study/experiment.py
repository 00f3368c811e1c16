"""Experiment files: which parameters vary, how, how often, for how long.

An experiment is YAML (``experiments/*.yaml``), loaded with ``yaml.safe_load`` only:

    title: Authority x fragmentation x responsiveness
    description: >
      What the experiment asks and how to read it.
    scenario: baseline          # the base scenario, by name or path (relative to this file)
    parameters:                 # fixed changes on top of the scenario (optional)
      n_villagers: 2000
    steps: 200                  # optional; default the scenario's
    replications: 10            # runs per design point, each with its own seed
    root_seed: 20151103         # every run's seed is spawned from it
    common_random_numbers: false  # true: every point's r-th replicate has the same seed
    design:
      type: factorial           # factorial | latin | sobol | morris | crossed
      samples: 64               # latin: points; sobol: base samples N (a power of 2);
                                #   crossed: Latin-hypercube points over the range factors,
                                #   each crossed with every combination of the value lists;
                                #   morris: trajectories
      levels: 4                 # morris: grid levels (default 4)
      second_order: false       # sobol: also second-order indices (default false)
    factors:                    # the parameters that vary
      enforcement: [0.1, 0.3, 0.5]               # values (factorial)
      coordination: {range: [0.0, 1.0], levels: 5}  # evenly spaced values (factorial)
      responsiveness: {range: [0.1, 0.9]}         # a range (latin, sobol, morris)
      scenario: [baseline, fragmented]             # scenarios as a factor (factorial,
                                                   #   crossed): every point at each scenario
    stop: {measure: protesters, above: 100, after: 12}  # end a run early (optional):
                                # after step 12 or later, a series column or expression of
                                # columns above (or below) a value; runs gain stopped_at
    reporters:                  # custom outputs (optional): 'module:function' of the model
      spread: mypkg.reporters:grievance_sd                  # after the last step
      g2: {function: mypkg.reporters:g2, every: step}       # every step: a series column,
                                                            #   g2_final etc. in the runs
    outputs:
      series: true              # also keep per-step series (default false)
      series_every: 5           # keep every 5th step (and the last)
      measures: [compliance, protesters]   # which series columns (default all)

The design is sampled with SALib (Latin hypercube, Saltelli/Sobol', Morris), never re-implemented.
Every problem is one [`InputError`][ruralgov.model.schema.InputError] naming the file, the field
and what is allowed. Nothing here runs a model: see [`ruralgov.study.sweep`][ruralgov.study.sweep].
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic
from pydantic import ConfigDict, Field

from ruralgov.analysis.verdicts import Hypothesis
from ruralgov.io.expression import parse
from ruralgov.io.files import plain
from ruralgov.io.finder import find_named
from ruralgov.io.scenario import MAX_STEPS, Scenario, load_scenario, read_spec
from ruralgov.model.params import REGISTRY
from ruralgov.model.schema import (
    InputError,
    close_names,
    format_pydantic_error,
    validate_params,
)
from ruralgov.study.runner import StopCondition

__all__ = ["Experiment", "RunSpec", "load_experiment", "find_experiment", "run_seed"]


class _Range(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    range: tuple[float, float]
    levels: pydantic.StrictInt | None = Field(default=None, ge=2, le=1000)

    @pydantic.model_validator(mode="after")
    def _ordered(self):
        if not self.range[0] < self.range[1]:
            raise ValueError(f"range must be [low, high] with low < high, got {list(self.range)}")
        return self


class _Draws(pydantic.BaseModel):
    """Explicit values for the sampled points of a crossed design: the k-th point takes the
    k-th value (e.g. draws from a calibration's posterior)."""

    model_config = ConfigDict(extra="forbid")
    draws: list[float] = Field(min_length=1, max_length=100_000)


class _Design(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["factorial", "latin", "sobol", "morris", "crossed"]
    samples: pydantic.StrictInt | None = Field(default=None, ge=1, le=10_000_000)
    levels: pydantic.StrictInt = Field(default=4, ge=2, le=100)
    second_order: pydantic.StrictBool = False


class _Outputs(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    series: pydantic.StrictBool = False
    series_every: pydantic.StrictInt = Field(default=1, ge=1, le=MAX_STEPS)
    measures: list[str] | None = None


class _Profile(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: pydantic.StrictInt | None = Field(default=None, ge=1, le=MAX_STEPS)
    replications: pydantic.StrictInt | None = Field(default=None, ge=1, le=100_000)
    parameters: dict[str, Any] = Field(default_factory=dict)


class ReporterSpec(pydantic.BaseModel):
    """A custom reporter: ``function`` ('module:function' of the model) recorded at the
    ``end`` of a run (a column of the runs table) or every ``step`` (a column of the series,
    summarised as ``<name>_final``, ``_final_drift`` and ``_early`` in the runs table)."""

    model_config = ConfigDict(extra="forbid")
    function: str = Field(min_length=3)
    every: Literal["end", "step"] = "end"


class _ExperimentFile(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    scenario: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    steps: pydantic.StrictInt | None = Field(default=None, ge=1, le=MAX_STEPS)
    replications: pydantic.StrictInt = Field(default=1, ge=1, le=100_000)
    root_seed: pydantic.StrictInt = Field(ge=0, lt=2**63)
    common_random_numbers: pydantic.StrictBool = False
    design: _Design
    factors: dict[str, list[Any] | _Range | _Draws] = Field(min_length=1)
    outputs: _Outputs = Field(default_factory=_Outputs)
    hypothesis: Hypothesis | None = None
    profiles: dict[str, _Profile] = Field(default_factory=dict)
    reporters: dict[str, str | ReporterSpec] = Field(default_factory=dict)
    stop: dict[str, Any] | None = None


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: its id, design point, replicate, seed and changed parameters."""

    index: int
    run_id: str
    point: int
    replicate: int
    seed: int
    values: dict[str, Any]


def run_seed(root_seed: int, point: int, replicate: int) -> int:
    """The seed of one run: spawned from the root seed with numpy's SeedSequence, keyed by the
    run's design point and replicate, so it does not depend on run order, executor or shard."""
    state = np.random.SeedSequence(root_seed, spawn_key=(point, replicate)).generate_state(
        2, np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])  # < 2**63


@dataclass
class Experiment:
    """A loaded, validated experiment with its resolved design."""

    name: str
    title: str
    description: str
    scenario: Scenario
    parameters: dict[str, Any]
    steps: int
    replications: int
    root_seed: int
    design: dict[str, Any]
    factors: dict[str, Any]
    outputs: dict[str, Any]
    points: pd.DataFrame  # one row per design point, one column per factor
    problem: dict[str, Any] | None = None  # the SALib problem (latin, sobol, morris)
    path: Path | None = None
    sha256: str | None = None
    base: dict[str, Any] = field(default_factory=dict)  # every parameter at the base point
    hypothesis: Hypothesis | None = None
    profile: str | None = None  # the profile applied, if any
    profiles: tuple[str, ...] = ()  # the profiles the file declares
    #: custom per-run outputs: name -> function of the model after its last step (or its
    #: ``"module:function"`` name), stored in the runs table beside the built-in measures
    reporters: dict[str, Any] = field(default_factory=dict)
    #: every design point's r-th replicate runs with the same seed (common random numbers:
    #: points differ by their parameters only, not by their draws)
    common_random_numbers: bool = False
    #: scenarios as a factor (``factors: {scenario: [baseline, grid_campaign]}``): name ->
    #: scenario; each design point's ``scenario`` column says which it runs (empty: all run
    #: ``scenario``)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    #: end each run early when a per-step measure crosses a value (BehaviorSpace's stop
    #: condition); the runs table gains ``stopped_at``
    stop: StopCondition | None = None
    #: custom reporters recorded every step (series columns): name -> function of the model
    #: or its ``"module:function"`` name
    series_reporters: dict[str, Any] = field(default_factory=dict)

    def base_of(self, name: str) -> dict[str, Any]:
        """Every parameter of scenario ``name`` (of a scenario factor) with the fixed changes
        applied."""
        return _resolved(self.scenarios[name], self.parameters, str(self.path or self.name))

    @classmethod
    def from_dict(cls, doc: dict[str, Any], name: str = "experiment",
                  reporters: dict[str, Callable[[Any], float]] | None = None,
                  base_dir: Path | str | None = None,
                  profile: str | None = None) -> Experiment:
        """An experiment from a dictionary with the keys of an experiment file (a notebook's
        way: no file needed), validated like one. ``reporters`` adds custom per-run outputs
        as Python functions of the model (for a process pool or a cluster they must be
        importable, i.e. defined in a module, not in the notebook). A scenario named by a
        relative path is looked up in ``base_dir`` (default: the working directory).

            exp = Experiment.from_dict({"title": "t", "description": "d",
                                        "scenario": "baseline", "root_seed": 1,
                                        "design": {"type": "factorial"},
                                        "factors": {"coordination": [0.0, 1.0]}})
            runs = exp.run(workers=1)   # a DataFrame, one row per run
        """
        src = f"<{name}>"
        if not isinstance(doc, dict):
            raise InputError(f"{src}: an experiment is a dict, got {type(doc).__name__}")
        try:
            spec = _ExperimentFile(**{str(k): v for k, v in doc.items()})
        except pydantic.ValidationError as err:
            raise InputError(format_pydantic_error(
                err, src, allowed_keys=tuple(_ExperimentFile.model_fields))) from None
        raw = json.dumps(doc, sort_keys=True, default=repr).encode()
        return _build(spec, raw, src, name, Path(base_dir or Path.cwd()), None, profile,
                      dict(reporters or {}))

    def run(self, out: Path | str | None = None, **sweep: Any) -> pd.DataFrame:
        """Run the experiment (resumably, into ``out``: default ``results/sweeps/<name>``)
        and return its runs table; keyword arguments go to
        [`run_sweep`][ruralgov.study.sweep.run_sweep] (``workers``, ``progress`` …)."""
        from ruralgov.io.results import read_runs
        from ruralgov.study.sweep import run_sweep

        report = run_sweep(self, out, **sweep)
        return read_runs(report.out)

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replications

    def runs(self) -> list[RunSpec]:
        """Every run, in a fixed order (point-major)."""
        out = []
        records = self.points.to_dict("records")
        for point, values in enumerate(records):
            values = {k: plain(v) for k, v in values.items()}
            for rep in range(self.replications):
                out.append(RunSpec(index=len(out), run_id=f"p{point:05d}-r{rep:03d}",
                                   point=point, replicate=rep,
                                   seed=run_seed(self.root_seed, 0 if self.common_random_numbers
                                                 else point, rep), values=values))
        return out

    def variant(self, suffix: str, **params: Any) -> Experiment:
        """The same design and seeds with some fixed parameters changed: a robustness check
        (e.g. ``variant("random-sequential", random_sequential=True)``), named
        ``<name>-<suffix>``. A factor of the design cannot be fixed this way."""
        clash = sorted(set(params) & set(self.factors))
        if clash:
            raise InputError(f"{self.path or self.name}: {', '.join(clash)} is a factor of "
                             "the design and cannot be fixed in a variant")
        base = validate_params({**self.base, **params}, source=f"{self.name}-{suffix}")
        return replace(self, name=f"{self.name}-{suffix}",
                       parameters={**self.parameters, **params}, base=base)

    def definition(self) -> dict[str, Any]:
        """What determines the results: a resumed sweep must have exactly this."""
        return {
            "scenario": _scenario_definition(self.scenario),
            **({"scenario_factor": [_scenario_definition(sc) for sc in self.scenarios.values()]}
               if self.scenarios else {}),
            "parameters": self.parameters, "steps": self.steps,
            "replications": self.replications, "root_seed": self.root_seed,
            "design": self.design, "factors": self.factors, "outputs": self.outputs,
            "points": self.points.to_dict("list"),
            "hypothesis": self.hypothesis.model_dump() if self.hypothesis else None,
            "profile": self.profile,
            **({"common_random_numbers": True} if self.common_random_numbers else {}),
            **({"stop": self.stop.as_dict()} if self.stop else {}),
            **({"reporters": {k: v if isinstance(v, str)
                              else f"{v.__module__}:{v.__qualname__}"
                              for k, v in sorted(self.reporters.items())}}
               if self.reporters else {}),
            **({"series_reporters": dict(sorted(self.series_reporters.items()))}
               if self.series_reporters else {}),
        }

    def definition_hash(self) -> str:
        text = json.dumps(plain(self.definition()), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _scenario_definition(sc: Scenario) -> dict[str, Any]:
    out = {"name": sc.name, "sha256": sc.sha256, "changed_parameters": sc.parameters}
    if sc.interventions:  # (not otherwise: older definitions stay the same)
        out["interventions"] = [iv.as_dict() for iv in sc.interventions]
    if sc.network_sha256:  # field data shape the results: their bytes count
        out["field_data_sha256"] = dict(sorted(sc.network_sha256.items()))
    return out


def _resolved(scenario: Scenario, fixed: dict[str, Any], src: str) -> dict[str, Any]:
    """Every parameter of ``scenario`` with the experiment's fixed changes."""
    return scenario.resolved(fixed) if not fixed else validate_params(
        {**scenario.parameters, **fixed}, source=src, prefix="parameters")


# ------------------------------------------------------------------ finding files
def find_experiment(name_or_path: str | Path) -> Path:
    """The file of an experiment given by path or by name (``smoke``, ``paper/h1``), looked up
    as [`find_named`][ruralgov.io.finder.find_named] says (sub-folders included)."""
    return find_named(name_or_path, "experiment", nested=True)


# ------------------------------------------------------------------ loading
def load_experiment(name_or_path: str | Path, profile: str | None = None,
                    import_reporters: bool = True) -> Experiment:
    """Load, validate and resolve an experiment file (by path or name).

    ``profile`` applies one of the file's ``profiles`` (e.g. ``quick``: fewer steps,
    replications or villagers), declared in the file like everything else.
    ``import_reporters=False`` (``ruralgov validate``) only checks that each reporter's module
    can be found, without running it."""
    path = find_experiment(name_or_path)
    spec, raw = read_spec(path, _ExperimentFile,
                          "an experiment must be a mapping with title, description, scenario, "
                          "root_seed, design and factors", kind="experiment")
    return _build(spec, raw, str(path), path.stem, path.parent, path, profile, {},
                  import_reporters)


def _build(spec: _ExperimentFile, raw: bytes, src: str, name: str, base_dir: Path,
           path: Path | None, profile: str | None, functions: dict[str, Any],
           import_reporters: bool = True) -> Experiment:
    """An experiment from its validated spec (from a file or a dict)."""
    if profile is not None:
        if profile not in spec.profiles:
            raise InputError(f"{src}: profiles: no profile {profile!r}; it has "
                             f"{', '.join(spec.profiles) or 'none'}")
        prof = spec.profiles[profile]
        spec = spec.model_copy(update={
            "steps": prof.steps or spec.steps,
            "replications": prof.replications or spec.replications,
            "parameters": {**spec.parameters, **prof.parameters}})
    scenario = _load_scenario(src, "scenario", spec.scenario, base_dir)
    fixed = {str(k): v for k, v in spec.parameters.items()}
    scenarios = _scenario_factor(src, spec, base_dir)
    if scenarios:
        spec = spec.model_copy(update={"factors": {k: v for k, v in spec.factors.items()
                                                   if k != "scenario"}})
    for sc in scenarios.values() or [scenario]:
        sc.check_structure({**fixed, **spec.factors}, where=f"{src}: parameters/factors")
    base = _resolved(scenario, fixed, src)
    design = spec.design.model_dump()
    factors, points, problem = _resolve_design(src, design["type"], spec, base)
    if scenarios:  # every point at every scenario, scenario by scenario
        factors = {"scenario": {"values": list(scenarios)}, **factors}
        points = pd.concat([points.assign(scenario=sc)[["scenario", *points.columns]]
                            for sc in scenarios], ignore_index=True)
    outputs = spec.outputs.model_dump()
    _check_outputs(src, outputs, spec.hypothesis, factors)
    _check_tests_have_runs(src, spec.hypothesis, points, spec.replications)
    from ruralgov.study.runner import check_intervention_steps

    for sc_name, sc in scenarios.items() or [(None, scenario)]:
        _check_combinations(src, _resolved(sc, fixed, src) if sc_name else base,
                            points[points.scenario == sc_name] if sc_name else points)
        check_intervention_steps(sc, spec.steps or scenario.steps,
                                 f"{src}: steps" + (f" (profile {profile})" if profile else "")
                                 + (f" (scenario {sc_name})" if sc_name else ""))
    reporters, per_step = split_reporters(src, spec.reporters, import_reporters, functions,
                                          base_dir=path.parent if path else base_dir)
    return Experiment(
        name=name, title=spec.title.strip(), description=" ".join(spec.description.split()),
        scenario=scenario, parameters=fixed, steps=spec.steps or scenario.steps,
        replications=spec.replications, root_seed=spec.root_seed, design=design,
        factors=factors, outputs=outputs, points=points, problem=problem, path=path,
        sha256=hashlib.sha256(raw).hexdigest(), base=base, hypothesis=spec.hypothesis,
        profile=profile, profiles=tuple(spec.profiles), reporters=reporters,
        common_random_numbers=spec.common_random_numbers, scenarios=scenarios,
        series_reporters=per_step,
        stop=StopCondition.from_dict(spec.stop, f"{src}: stop") if spec.stop is not None
        else None)


def _load_scenario(src: str, where: str, name: str, base_dir: Path) -> Scenario:
    rel = base_dir / name
    try:
        return load_scenario(rel if rel.is_file() else name)
    except InputError as err:
        raise InputError(f"{src}: {where}: {err}") from None


def _scenario_factor(src: str, spec: _ExperimentFile, base_dir: Path) -> dict[str, Scenario]:
    """``factors: {scenario: [a, b]}``: the scenarios a design crosses its points with."""
    names = spec.factors.get("scenario")
    if names is None:
        return {}
    where = f"{src}: factors.scenario"
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise InputError(f"{where}: a list of scenario names or files, e.g. [baseline, "
                         "grid_campaign]")
    if spec.design.type not in ("factorial", "crossed"):
        raise InputError(f"{where}: scenarios are values, for a factorial or crossed design; "
                         f"a {spec.design.type} design samples numeric ranges")
    out: dict[str, Scenario] = {}
    for k, name in enumerate(names):
        if name in names[:k]:
            raise InputError(f"{where}: {name!r} is given twice; give each scenario once")
        out[name] = _load_scenario(src, f"factors.scenario[{k}]", name, base_dir)
    return out


def _check_outputs(src: str, outputs: dict[str, Any], hypothesis: Hypothesis | None,
                   factors: dict[str, Any]) -> None:
    from ruralgov.model.measures import SERIES_MEASURES, SUMMARY_MEASURES

    if outputs["measures"] is not None:
        bad = [m for m in outputs["measures"] if m not in SERIES_MEASURES]
        if bad:
            raise InputError(f"{src}: outputs.measures: unknown measure(s) {', '.join(bad)}; "
                             f"allowed: {', '.join(SERIES_MEASURES)}")
    if hypothesis is None:
        return
    for i, t in enumerate(hypothesis.tests):
        where = f"{src}: hypothesis.tests.{i}"
        for f in [t.factor] if t.factor else (t.factors or []):
            if f not in factors:
                raise InputError(f"{where}: factor {f!r} is not one of the experiment's "
                                 f"factors ({', '.join(factors)})")
        if t.measure not in SUMMARY_MEASURES:
            raise InputError(f"{where}: measure {t.measure!r} is not a per-run summary "
                             f"measure; allowed: {', '.join(sorted(SUMMARY_MEASURES))}")
        if t.closed_form is not None:  # the grammar of ruralgov.io.expression, never code
            parse(t.closed_form, set(factors) | set(SUMMARY_MEASURES) | set(REGISTRY),
                  f"{where}.closed_form")
        switches = sorted(k for k in REGISTRY if k.startswith("mech_"))
        bad = [c for c in t.credits if c not in switches]
        if bad:
            raise InputError(f"{where}.credits: {', '.join(map(repr, bad))} is not a "
                             f"mechanism switch; allowed: {', '.join(switches)}")
        for f in t.where:
            if f not in factors:
                raise InputError(f"{where}.where: {f!r} is not one of the experiment's "
                                 f"factors ({', '.join(factors)})")


MIN_TEST_RUNS = 4
"""The fewest runs a hypothesis test is computed from (after its ``where`` selection)."""


def _check_tests_have_runs(src: str, hypothesis: Hypothesis | None, points: pd.DataFrame,
                           replications: int) -> None:
    """Every test's ``where`` values are values of the design, and leave it at least
    [`MIN_TEST_RUNS`][ruralgov.study.experiment.MIN_TEST_RUNS] runs; test names are unique."""
    if hypothesis is None:
        return
    names = [t.name for t in hypothesis.tests if t.name]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"{src}: hypothesis.tests: the name {twice[0]!r} is given to more "
                         "than one test; give each test its own name")
    for i, t in enumerate(hypothesis.tests):
        keep = np.ones(len(points), dtype=bool)
        for f, v in t.where.items():
            column = points[f].to_numpy(dtype=float)
            hit = np.isclose(column, v)
            if not hit.any():
                raise InputError(f"{src}: hypothesis.tests.{i}.where.{f}: {v:g} is not a value "
                                 f"of the design; allowed: "
                                 f"{', '.join(f'{x:g}' for x in sorted(set(column)))}")
            keep &= hit
        runs = int(keep.sum()) * replications
        if runs < MIN_TEST_RUNS:
            raise InputError(f"{src}: hypothesis.tests.{i}: {runs} run(s) to compute it from "
                             f"({int(keep.sum())} design point(s) x {replications} "
                             f"replication(s)); allowed: at least {MIN_TEST_RUNS}")


def split_reporters(src: str, reporters: dict[str, str | ReporterSpec],
                    import_reporters: bool = True, functions: dict[str, Any] | None = None,
                    base_dir: Path | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A file's ``reporters:`` (and a notebook's functions, computed at the end) checked and
    split into those computed after the last step and those recorded every step. A module
    named by a reporter that is not importable but lies beside the file (in ``base_dir``) is
    found there ([`modules_beside`][ruralgov.study.experiment.modules_beside])."""
    end = {k: v if isinstance(v, str) else v.function for k, v in reporters.items()
           if isinstance(v, str) or v.every == "end"}
    step = {k: v.function for k, v in reporters.items()
            if isinstance(v, ReporterSpec) and v.every == "step"}
    modules_beside([*end.values(), *step.values()], base_dir)
    return (_resolve_reporters(src, {**end, **(functions or {})}, import_reporters),
            _resolve_reporters(src, step, import_reporters, series=True))


def modules_beside(refs: list[Any], base_dir: Path | None) -> None:
    """Make the modules that ``"module:function"`` reporters name importable from ``base_dir``
    (the folder of the file naming them) when they are not importable otherwise: the folder
    is appended to ``sys.path``, which a sweep's worker processes inherit (on a Dask cluster
    the module must be importable on the workers: installed, or on their PYTHONPATH)."""
    import sys
    from importlib.machinery import PathFinder

    if base_dir is None:
        return
    folder = str(Path(base_dir).resolve())
    for ref in refs:
        if not isinstance(ref, str) or ":" not in ref:
            continue
        top = ref.partition(":")[0].split(".")[0]
        if not top.isidentifier() or top in sys.modules or PathFinder.find_spec(top):
            continue
        if PathFinder.find_spec(top, [folder]) is not None and folder not in sys.path:
            sys.path.append(folder)


def reporter_measures(end: dict[str, Any], step: dict[str, Any]) -> set[str]:
    """The run-level columns custom reporters add: each end reporter's name, and each
    per-step reporter's ``_final``, ``_final_drift`` and ``_early`` summaries."""
    return set(end) | {f"{n}{suffix}" for n in step
                       for suffix in ("_final", "_final_drift", "_early")}


def _resolve_reporters(src: str, reporters: dict[str, Any], import_reporters: bool = True,
                       series: bool = False) -> dict[str, Any]:
    """Check each custom reporter: a name that is not a built-in column (of the series too,
    for a reporter of every step), and a function (or the ``module:function`` name of one that
    imports)."""
    from ruralgov.model.measures import SUMMARY_MEASURES
    from ruralgov.model.observe import SERIES
    from ruralgov.study.runner import locate_reporter, resolve_reporter

    reserved = set(SUMMARY_MEASURES) | set(REGISTRY) | {
        "run_id", "point", "replicate", "seed", "status", "error", "wall_s", "steps",
        "scenario", "stopped_at"} | ({r.name for r in SERIES} if series else set())
    for name, fn in reporters.items():
        where = f"{src}: reporters.{name}"
        if not name.isidentifier() or name in reserved:
            raise InputError(f"{where}: choose a name that is an identifier and not a "
                             "built-in column or parameter")
        if isinstance(fn, str):
            if import_reporters:
                resolve_reporter(fn, where)
            else:
                locate_reporter(fn, where)
        elif not callable(fn):
            raise InputError(f"{where}: a function of the model, or 'module:function'")
    return dict(reporters)


def _resolve_design(src: str, kind: str, spec: _ExperimentFile, base: dict[str, Any]):
    factors: dict[str, Any] = {}
    for name, f in spec.factors.items():
        p = REGISTRY.get(name)
        where = f"{src}: factors.{name}"
        if p is None:
            near = close_names(name)
            hint = f" (did you mean {near}?)" if near else ""
            raise InputError(f"{where}: unknown parameter{hint}; `ruralgov params` lists them")
        if isinstance(f, _Draws):
            factors[name] = _draws(src, where, name, f, kind, spec.design.samples)
            continue
        if isinstance(f, list):
            if kind not in ("factorial", "crossed"):
                raise InputError(f"{where}: a {kind} design needs a range, e.g. "
                                 f"{{range: [{p.lo}, {p.hi}]}}; value lists are for factorial")
            if not f:
                raise InputError(f"{where}: give at least one value")
            for v in f:
                validate_params({name: v}, source=src, prefix=f"factors.{name}")
            twice = [v for i, v in enumerate(f) if v in f[:i]]
            if twice:
                raise InputError(f"{where}: the value {twice[0]!r} is given twice; give each "
                                 "level once (replications repeat a point)")
            factors[name] = {"values": list(f)}
        else:
            if p.type == "bool":
                raise InputError(f"{where}: a true/false parameter takes a list of values "
                                 "(e.g. [false, true]) in a factorial design, not a range")
            lo, hi = f.range
            if lo < p.lo or hi > p.hi:
                raise InputError(f"{where}: range [{lo}, {hi}] outside the allowed "
                                 f"{p.allowed()}")
            if p.type == "int" and math.ceil(lo) > math.floor(hi):
                raise InputError(f"{where}: range [{lo:g}, {hi:g}] holds no whole number; an "
                                 "integer parameter needs at least one")
            if kind == "factorial" or (kind == "crossed" and f.levels is not None):
                if f.levels is None:
                    raise InputError(f"{where}: a range in a factorial design needs levels, "
                                     "e.g. {range: [0, 1], levels: 5}")
                values = np.linspace(lo, hi, f.levels)
                values = (sorted(set(int(round(v)) for v in values)) if p.type == "int"
                          else [float(v) for v in values])
                factors[name] = {"values": values}
            else:
                if f.levels is not None:
                    raise InputError(f"{where}: levels is for factorial designs only")
                if kind == "morris" and p.type == "int":
                    _check_morris_integer(where, lo, hi, spec.design.levels)
                factors[name] = {"range": [float(lo), float(hi)]}
    names = list(factors)
    problem = None
    samples = spec.design.samples
    _check_size(src, kind, spec, factors)  # arithmetically, before anything is built
    if kind == "factorial":
        if samples is not None:
            raise InputError(f"{src}: design.samples: not used by a factorial design (its "
                             "points are every combination of the factors' values)")
        grid = list(itertools.product(*(factors[n]["values"] for n in names)))
        points = pd.DataFrame(grid, columns=names)
    elif kind == "crossed":
        points, problem = _crossed(src, factors, samples, spec.root_seed)
    else:
        points, problem = _sampled(src, kind, names, factors, spec)
    return factors, points, problem


def _draws(src: str, where: str, name: str, f: _Draws, kind: str,
           samples: int | None) -> dict[str, list[float]]:
    if kind != "crossed":
        raise InputError(f"{where}: draws are for crossed designs only")
    if samples is not None and len(f.draws) != samples:
        raise InputError(f"{where}: {len(f.draws)} draws for {samples} samples; give one "
                         "value per sample")
    draws = list(f.draws)
    p = REGISTRY.get(name)
    if p is not None and p.type == "int":  # read as numbers: a whole one is the integer
        draws = [int(v) if float(v).is_integer() else v for v in draws]
    if p is not None and p.type == "bool":  # a switch's draws: 0 or 1 (false or true)
        draws = [bool(v) if v in (0, 1) else v for v in draws]
    for v in draws:
        validate_params({name: v}, source=src, prefix=f"factors.{name}")
    return {"draws": draws}


def _sampled(src: str, kind: str, names: list[str], factors: dict[str, Any],
             spec: _ExperimentFile) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The points of a Latin-hypercube, Sobol' or Morris design (SALib)."""
    samples = spec.design.samples
    if samples is None:
        raise InputError(f"{src}: design.samples: required for a {kind} design")
    problem = {"num_vars": len(names), "names": names,
               "bounds": [factors[n]["range"] for n in names]}
    seed = spec.root_seed % (2**32)
    drawn = problem if kind == "morris" else _whole_number_bins(problem)
    if kind == "latin":
        from SALib.sample import latin

        x = latin.sample(drawn, samples, seed=seed)
    elif kind == "sobol":
        from SALib.sample import sobol

        if samples & (samples - 1):
            raise InputError(f"{src}: design.samples: a Sobol' design needs a power of 2 "
                             f"(e.g. {2 ** math.ceil(math.log2(samples))}), got {samples}")
        x = sobol.sample(drawn, samples, calc_second_order=spec.design.second_order,
                         seed=seed)
    else:
        from SALib.sample import morris

        if len(names) < 2:
            raise InputError(f"{src}: factors: a Morris design needs at least 2 factors")
        x = morris.sample(problem, samples, num_levels=spec.design.levels, seed=seed)
    points = _whole_numbers(pd.DataFrame(x, columns=names), factors, names,
                            rounded=kind == "morris")
    return points, problem


def _whole_number_bins(problem: dict[str, Any]) -> dict[str, Any]:
    """The problem as it is sampled: an integer factor's range [lo, hi] becomes
    [lo, hi + 1) (lo and hi its whole numbers), so that the whole part of a draw gives each of
    lo, ..., hi with the same probability. (Rounding draws from [lo, hi] would give the two
    end values half as often: 1/6, 1/3, 1/3, 1/6 for 1 to 4.)"""
    bounds = [[math.ceil(lo), math.floor(hi) + 1] if REGISTRY[n].type == "int" else [lo, hi]
              for n, (lo, hi) in zip(problem["names"], problem["bounds"])]
    return {**problem, "bounds": bounds}


def _whole_numbers(points: pd.DataFrame, factors: dict[str, Any], names: list[str],
                   rounded: bool) -> pd.DataFrame:
    """Integer factors as whole numbers: the whole part of a draw from the range of
    _whole_number_bins, capped at the top whole number (a draw at exactly hi + 1);
    ``rounded`` for a Morris grid and explicit draws, whose values are whole already."""
    for n in names:
        if REGISTRY[n].type == "int":
            col = points[n].to_numpy(dtype=float)
            points[n] = (np.round(col) if rounded else np.minimum(
                np.floor(col), math.floor(factors[n]["range"][1]))).astype(int)
    return points


def _crossed(src: str, factors: dict[str, Any], samples: int | None, root_seed: int):
    """A crossed design: every combination of the value-list factors at each of ``samples``
    Latin-hypercube points over the range factors. Points are ordered sample by sample, so
    design point p belongs to sample p // (number of combinations)."""
    ranged = [n for n in factors if "range" in factors[n]]
    listed = [n for n in factors if "values" in factors[n]]
    drawn = [n for n in factors if "draws" in factors[n]]
    if samples is None:
        raise InputError(f"{src}: design.samples: required for a crossed design")
    if not ranged and not drawn:
        raise InputError(f"{src}: factors: a crossed design needs at least one factor with "
                         "a range (the Latin hypercube) or draws besides the value lists")
    problem = None
    x = np.empty((samples, 0))
    if ranged:
        from SALib.sample import latin

        problem = {"num_vars": len(ranged), "names": ranged,
                   "bounds": [factors[n]["range"] for n in ranged]}
        x = latin.sample(_whole_number_bins(problem), samples, seed=root_seed % (2**32))
    d = np.array([factors[n]["draws"] for n in drawn], dtype=float).T.reshape(samples, -1)
    grid = list(itertools.product(*(factors[n]["values"] for n in listed)))
    rows = [list(g) + list(x[k]) + list(d[k]) for k in range(samples) for g in grid]
    points = pd.DataFrame(rows, columns=listed + ranged + drawn)
    _whole_numbers(points, factors, ranged, rounded=False)
    _whole_numbers(points, factors, drawn, rounded=True)
    for n in drawn:  # a switch's draws stay true/false
        if REGISTRY[n].type == "bool":
            points[n] = points[n].astype(bool)
    return points, problem


MAX_RUNS = 1_000_000
"""The most runs one experiment may have (design points x replications): a million runs is
already weeks of one core at the default county; larger studies are several experiments."""


def design_points(kind: str, factors: dict[str, Any], samples: int | None,
                  second_order: bool = False) -> int:
    """How many design points a design has, computed without building it: the product of the
    factors' numbers of values (factorial), ``samples`` (latin), ``samples`` x (D + 2) or
    (2D + 2) with second-order indices (Sobol', Saltelli's scheme), ``samples`` x (D + 1)
    (Morris trajectories); D the number of factors."""
    d = len(factors)
    if kind == "factorial":
        return math.prod(len(f["values"]) for f in factors.values())
    if kind == "latin":
        return int(samples)
    if kind == "crossed":
        return int(samples) * math.prod(len(f["values"]) for f in factors.values()
                                         if "values" in f)
    if kind == "sobol":
        return int(samples) * (2 * d + 2 if second_order else d + 2)
    return int(samples) * (d + 1)


def _check_size(src: str, kind: str, spec: _ExperimentFile, factors: dict[str, Any]) -> None:
    if kind != "factorial" and spec.design.samples is None:
        return  # reported where the design is built
    points = design_points(kind, factors, spec.design.samples, spec.design.second_order)
    runs = points * spec.replications
    if runs > MAX_RUNS:
        raise InputError(f"{src}: the design has {points:,} points x {spec.replications:,} "
                         f"replications = {runs:,} runs, more than the {MAX_RUNS:,} allowed "
                         "(split the study into several experiments)")


def _check_morris_integer(where: str, lo: float, hi: float, levels: int) -> None:
    """A Morris design puts an integer factor on ``levels`` equally spaced values; unless they
    are whole numbers they would be rounded, which biases the elementary effects (a linear
    response on [1, 3] with 4 levels gives mu* 1.5 instead of 2). Refused unless exact."""
    step = (hi - lo) / (levels - 1)
    if not (float(lo).is_integer() and float(hi).is_integer() and float(step).is_integer()):
        start = math.ceil(lo)
        ok = start + (levels - 1) * max(1, math.ceil(step))
        raise InputError(f"{where}: an integer parameter in a Morris design needs a grid of "
                         f"whole numbers: with {levels} levels the range [{lo:g}, {hi:g}] "
                         f"steps by {step:.3g}; use e.g. [{start}, {ok}] (whole ends, a "
                         f"multiple of {levels - 1} apart) or another number of levels")


def _check_combinations(src: str, base: dict[str, Any], points: pd.DataFrame) -> None:
    """Refuse design points no model can be built from (e.g. fewer villagers than villages),
    naming the first and how many."""
    def col(name):
        return points[name].to_numpy() if name in points else np.full(len(points), base[name])

    villages = col("n_townships") * col("villages_per_township")
    total, depts = col("rules_total"), col("n_departments")
    for bad, say in (
            (col("n_villagers") < villages, lambda i: (
                f"n_villagers = {col('n_villagers')[i]} is fewer than the villages "
                f"(n_townships x villages_per_township = {villages[i]}); every village needs "
                "a villager")),
            ((total > 0) & (total < depts), lambda i: (
                f"rules_total = {total[i]} is below n_departments = {depts[i]}; every "
                "department issues at least one rule (rules_total 0: rules_per_department "
                "each)"))):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{src}: design point {i}: {say(i)} ({int(bad.sum())} point(s) "
                             "affected)")
