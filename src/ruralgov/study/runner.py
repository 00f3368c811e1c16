"""Run one scenario and write self-describing results.

The model knows nothing of files or experiments; this module builds a model from a scenario, steps
it, turns the run into tables ([`run_scenario`][ruralgov.study.runner.run_scenario]) and writes
them atomically into a new folder that is never overwritten
([`write_run`][ruralgov.study.runner.write_run]).
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from ruralgov import __version__
from ruralgov.io.files import RESULTS, atomic_dir, new_dir, utc_stamp, write_json
from ruralgov.io.provenance import git_revision, utc_now, versions
from ruralgov.io.scenario import MAX_STEPS, Scenario, load_scenario
from ruralgov.model.county import RuralGovernanceModel, new_seed
from ruralgov.model.footprint import check_fits
from ruralgov.model.measures import summarise
from ruralgov.model.schema import InputError

__all__ = ["RunResult", "StopCondition", "run_scenario", "run_ensemble", "write_run",
           "default_out_dir"]

DETAIL_TABLES = ("villages", "townships", "departments", "rules")


@dataclass(frozen=True)
class StopCondition:
    """End a run early, as BehaviorSpace's stop condition does: after a step at or past
    ``after`` whose series row has ``measure`` (a column of the per-step series, or an
    expression of columns in the grammar of [`ruralgov.io.expression`][ruralgov.io.expression])
    above ``above`` or below ``below``."""

    measure: str
    above: float | None = None
    below: float | None = None
    after: int = 0

    def __post_init__(self):
        if (self.above is None) == (self.below is None):
            raise InputError(f"stop: {self.as_dict()}: give exactly one of above and below")
        if isinstance(self.after, bool) or not isinstance(self.after, int) or self.after < 0:
            raise InputError(f"stop.after: {self.after!r}; allowed: a whole number of steps, "
                             "0 or more")
        _ = self._parsed  # parsed (and so checked) once, now

    @classmethod
    def from_dict(cls, doc: Any, where: str = "stop") -> StopCondition:
        """A stop condition from its mapping in a file, or one message naming the field."""
        allowed = ("measure", "above", "below", "after")
        if not isinstance(doc, dict) or "measure" not in doc or set(doc) - set(allowed):
            raise InputError(f"{where}: a mapping with measure, above or below, and "
                             f"optionally after (e.g. {{measure: protesters, above: 100}}); "
                             f"got {doc!r}")
        for key in ("above", "below"):
            v = doc.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise InputError(f"{where}.{key}: {v!r}; allowed: a number")
        try:
            return cls(str(doc["measure"]), doc.get("above"), doc.get("below"),
                       doc.get("after", 0))
        except InputError as err:
            raise InputError(f"{where}: {err}") from None

    @cached_property
    def _parsed(self):
        """The measure, parsed in the project's grammar over the series columns."""
        from ruralgov.io.expression import parse
        from ruralgov.model.observe import SERIES

        return parse(self.measure, [r.name for r in SERIES], "stop.measure")

    def as_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "above": self.above, "below": self.below,
                "after": self.after}

    def met(self, step: int, row: dict[str, Any]) -> bool:
        """Whether a run stops after ``step`` (1-based) whose series row is ``row``."""
        if step < self.after:
            return False
        v = float(self._parsed.evaluate(row))
        return v > self.above if self.above is not None else v < self.below


@dataclass
class RunResult:
    """Everything one run produced."""

    scenario: Scenario
    seed: int
    steps: int
    parameters: dict[str, Any]
    overrides: dict[str, Any]
    series: pd.DataFrame
    summary: dict[str, Any]
    details: dict[str, pd.DataFrame] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    population_source: str = "generated"

    def manifest(self) -> dict[str, Any]:
        """Provenance: scenario, resolved parameters, seed, versions, git revision, timings."""
        sc = self.scenario
        return {
            "ruralgov_version": __version__,
            "created_utc": utc_now(),
            "scenario": {"name": sc.name, "title": sc.title, "story": sc.story,
                         "file": str(sc.path) if sc.path else None, "sha256": sc.sha256,
                         "changed_parameters": sc.parameters,
                         "interventions": [iv.as_dict() for iv in sc.interventions],
                         "field_data": {k: {"file": str(sc.network[k]), "sha256": v}
                                        for k, v in sc.network_sha256.items()}},
            "overrides": self.overrides,
            "seed": self.seed,
            "steps": self.steps,
            "parameters": self.parameters,
            "population": self.population_source,
            "versions": versions(),
            "git": git_revision(),
            "timings_s": self.timings,
            "command": sys.argv if sys.argv and sys.argv[0] else None,
        }


def run_scenario(scenario: Scenario | str | Path, *, seed: int | None = None,
                 steps: int | None = None, overrides: dict[str, Any] | None = None,
                 collect_detail: bool = True,
                 progress: Callable[[int, int], None] | None = None,
                 reporters: dict[str, Any] | None = None,
                 stop: StopCondition | None = None,
                 series_reporters: dict[str, Any] | None = None) -> RunResult:
    """Build the model of a scenario, run it and return its tables.

    The seed is, in order: ``seed``, the scenario's own, or a fresh one from the operating
    system; whichever it is, it is recorded in the result. With ``stop`` the run ends after
    the first step that meets it (its summary gains ``stopped_at``: that step, or NaN when
    the run went the whole way). ``reporters`` are computed once, after the last step
    (name -> function of the model or its ``"module:function"`` name); ``series_reporters``
    every step, as columns of the series summarised like the mean measures.
    """
    scenario, overrides, params, n_steps = _prepare(scenario, steps, overrides)
    seed = _seed(seed, scenario)
    population = None
    if scenario.network:
        scenario.check_inputs()  # the files are still those the scenario was loaded with
        from ruralgov.io.fielddata import load_population

        population = load_population(**scenario.network)
    t0 = time.perf_counter()
    try:
        model = RuralGovernanceModel(seed=seed, population=population,
                                     collect_detail=collect_detail,
                                     interventions=scenario.interventions, **params)
    except ValueError as err:  # impossible combination, e.g. fewer villagers than villages
        if isinstance(err, InputError):
            raise
        raise InputError(f"{scenario.path or scenario.name}: parameters: {err}") from None
    initial = dict(model.p)  # (interventions change model.p as the run goes)
    for name, ref in (series_reporters or {}).items():
        model.add_reporter(name, resolve_reporter(ref, f"reporters.{name}"))
    t1 = time.perf_counter()
    stopped = float("nan")
    for i in range(n_steps):
        model.step()
        if progress is not None:
            progress(i + 1, n_steps)
        if stop is not None and stop.met(i + 1, model.observer.rows[-1]):
            stopped = i + 1
            break
    t2 = time.perf_counter()
    series = model.series()
    details = {name: model.detail(name) for name in DETAIL_TABLES} if collect_detail else {}
    summary = {"scenario": scenario.name, "seed": seed,
               **summarise(series, extra=tuple(series_reporters or ()))}
    if stop is not None:
        summary["stopped_at"] = stopped
        n_steps = len(series)
    for name, ref in (reporters or {}).items():  # custom outputs: functions of the model
        summary[name] = resolve_reporter(ref, f"reporters.{name}")(model)
    return RunResult(scenario=scenario, seed=seed, steps=n_steps, parameters=initial,
                     overrides=overrides, series=series, summary=summary, details=details,
                     timings=_timings(t1 - t0, t2 - t1, n_steps),
                     population_source=model.population.source)


def run_ensemble(scenario: Scenario | str | Path, seeds: list[int], *,
                 steps: int | None = None, overrides: dict[str, Any] | None = None,
                 varying: list[dict[str, Any]] | None = None) -> list[RunResult]:
    """Run a scenario once per seed (with ``varying[r]`` the run's own values of parameters
    of [`PER_RUN`][ruralgov.model.ensemble.PER_RUN]), all runs stepped together as an
    [`Ensemble`][ruralgov.model.ensemble.Ensemble]: the results are those of
    [`run_scenario`][ruralgov.study.runner.run_scenario] with each seed and overrides (bit
    for bit), in less time. For generated counties without detail tables or custom
    reporters; the timings are the ensemble's divided among its runs."""
    from ruralgov.model.ensemble import Ensemble

    scenario, overrides, params, n_steps = _prepare(scenario, steps, overrides)
    if scenario.network:
        raise InputError(f"{scenario.path or scenario.name}: an ensemble needs a generated "
                         "county (this scenario has field data): run one at a time")
    seeds = [_seed(seed, scenario) for seed in seeds]
    varying = [dict(v) for v in varying] if varying else [{} for _ in seeds]
    own = [scenario.resolved({**overrides, **v}) for v in varying]  # checked, per run
    t0 = time.perf_counter()
    try:
        model = Ensemble(seeds, interventions=scenario.interventions, **params,
                         varying=[{k: p[k] for k in v} for p, v in zip(own, varying)])
    except ValueError as err:
        if isinstance(err, InputError):
            raise
        raise InputError(f"{scenario.path or scenario.name}: parameters: {err}") from None
    initial = [dict(m.p) for m in model.members]
    t1 = time.perf_counter()
    for _ in range(n_steps):
        model.step()
    t2 = time.perf_counter()
    share = len(seeds)
    out = []
    for member, start, v in zip(model.members, initial, varying):
        series = member.series()
        summary = {"scenario": scenario.name, "seed": member.seed, **summarise(series)}
        out.append(RunResult(scenario=scenario, seed=member.seed, steps=n_steps,
                             parameters=start, overrides={**overrides, **v}, series=series,
                             summary=summary,
                             timings=_timings((t1 - t0) / share, (t2 - t1) / share, n_steps),
                             population_source="generated"))
    return out


def _prepare(scenario: Scenario | str | Path, steps: int | None,
             overrides: dict[str, Any] | None) -> tuple[Scenario, dict, dict, int]:
    """The scenario loaded, the overrides, the resolved parameters and the steps, checked."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    overrides = dict(overrides or {})
    params = scenario.resolved(overrides)
    n_steps = int(steps if steps is not None else scenario.steps)
    if not 1 <= n_steps <= MAX_STEPS:
        raise InputError(f"steps = {n_steps}: allowed 1 to {MAX_STEPS:,}")
    check_intervention_steps(scenario, n_steps)
    check_fits(params, str(scenario.path or scenario.name))
    return scenario, overrides, params, n_steps


def check_intervention_steps(scenario: Scenario, steps: int, option: str = "steps") -> None:
    """Refuse a run too short for the scenario's interventions: one that would come after the
    last step would silently never be applied while the record lists it."""
    late = [iv.step for iv in scenario.interventions if iv.step > steps]
    if late:
        raise InputError(f"{option} = {steps}: the scenario {scenario.name} has an intervention "
                         f"at step {max(late)}, which a run of {steps} steps never reaches; "
                         f"allowed: {max(late)} steps or more (or a scenario without it)")


def _seed(seed: int | None, scenario: Scenario) -> int:
    """The run's seed: ``seed``, the scenario's own, or a fresh one; checked."""
    seed = seed if seed is not None else scenario.seed
    seed = new_seed() if seed is None else int(seed)
    if not 0 <= seed < 2**63:
        raise InputError(f"seed = {seed}: allowed 0 to 2**63 - 1 (a whole number)")
    return seed


def _timings(init: float, run: float, steps: int) -> dict[str, float]:
    return {"init": round(init, 6), "run": round(run, 6), "per_step": round(run / steps, 6)}


def default_out_dir(result: RunResult, root: Path = RESULTS / "runs") -> Path:
    """results/runs/<scenario>/<UTC time>-seed<seed>: a new folder for every run (numbered
    ``-2``, ``-3``, ... if that name is taken)."""
    return new_dir(root / result.scenario.name / f"{utc_stamp()}-seed{result.seed}",
                   create=False)


def write_run(result: RunResult, out_dir: Path | str, *, csv: bool = False,
              figure: bool = True) -> Path:
    """Write series, summary, detail tables, manifest and figure into ``out_dir``.

    The folder must not exist yet (or be empty): results are never overwritten. Files are
    written into a temporary folder beside it and renamed into place in one step, so a
    half-written result is never visible ([`atomic_dir`][ruralgov.io.files.atomic_dir]).
    """
    with atomic_dir(out_dir) as tmp:
        files = []
        tables = {"series": result.series, "summary": pd.DataFrame([result.summary]),
                  **result.details}
        for name, df in tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
            files.append(f"{name}.parquet")
            if csv:
                df.to_csv(tmp / f"{name}.csv", index=False)
                files.append(f"{name}.csv")
        if figure:
            from ruralgov.analysis.plotting import plot_series

            plot_series(result.series, title=f"{result.scenario.title} — seed {result.seed}",
                        path=tmp / "figure.png")
            files.append("figure.png")
        manifest = result.manifest()
        manifest["files"] = files + ["manifest.json"]
        write_json(manifest, tmp / "manifest.json")
    return Path(out_dir)


def locate_reporter(ref: str, where: str = "reporter") -> None:
    """Check that the module a reporter names (``"package.module:function"``) can be found,
    without importing it (``ruralgov validate`` runs nothing a file names): each package
    along the dotted path is looked up with the path finder only."""
    from importlib.machinery import PathFinder

    module, sep, attr = str(ref).partition(":")
    if not sep or not attr.isidentifier() or not all(p.isidentifier()
                                                     for p in module.split(".")):
        raise InputError(f"{where}: {ref!r} is not 'module:function' naming a function")
    search, name = None, ""
    for part in module.split("."):
        name = f"{name}.{part}" if name else part
        loaded = sys.modules.get(name)
        if loaded is not None:
            search = getattr(loaded, "__path__", None)
            continue
        spec = PathFinder.find_spec(name, search)
        if spec is None:
            raise InputError(f"{where}: {ref!r}: no module {name!r} on the search path")
        search = spec.submodule_search_locations


def resolve_reporter(ref: str | Callable[[Any], Any], where: str = "reporter"
                     ) -> Callable[[Any], Any]:
    """The function a reporter names (``"package.module:function"``), imported."""
    if callable(ref):
        return ref
    module, _, attr = str(ref).partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr) if attr else None
    except (ImportError, AttributeError) as err:
        raise InputError(f"{where}: {ref!r} cannot be imported ({err})") from None
    if not callable(fn):
        raise InputError(f"{where}: {ref!r} is not 'module:function' naming a function")
    return fn
