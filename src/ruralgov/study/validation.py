"""Validation experiments for the classic models (``experiments/validation/*.yaml``).

Each file names published results of Granovetter (1978) or Epstein (2002) and, for each, a
statistic the reference implementation in [`ruralgov.model.classic`][ruralgov.model.classic]
computes, over many seeds where it is random, and the range that counts as reproducing it — fixed
in the file before anything runs. [`run_validation`][ruralgov.study.validation.run_validation]
computes them; ``ruralgov reproduce`` puts the results, with a figure per model, in its report. A
validation file:

    title: "Granovetter (1978): threshold models of collective behaviour"
    paper: "Granovetter, M. (1978). American Journal of Sociology 83(6), 1420-1443."
    model: granovetter            # granovetter | epstein
    description: ...
    seeds: 30                     # replications of every random statistic
    root_seed: 301
    checks:
      - name: thresholds 0, 1, ..., 99 - everybody riots
        statistic: granovetter_uniform     # see STATISTICS
        published: all 100 riot
        expect: {min: 100, max: 100}       # the value must lie in [min, max]
    profiles:
      quick: {seeds: 10}

Every statistic returns a value (what ``expect`` judges) and, for random ones, the per-seed
values it summarises, which the report shows as a distribution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
from pydantic import ConfigDict, Field

from ruralgov.io import files
from ruralgov.io.finder import find_named, named_files
from ruralgov.io.scenario import read_spec
from ruralgov.model import classic
from ruralgov.model.schema import InputError

__all__ = ["STATISTICS", "Validation", "load_validation", "validation_files", "run_validation",
           "write_json"]


# ------------------------------------------------------------------ statistics
def _granovetter_uniform(seeds, rng, moved: bool = False, n: int = 100):
    t = np.arange(n)
    if moved:
        t[1] = 2  # the person with threshold 1 now needs two others
    return float(classic.granovetter_rioters(t)), None


def _granovetter_critical_sd(seeds, rng, mean: float = 25.0, n: int = 100):
    return classic.granovetter_critical_sd(mean=mean, n=n), None


def _granovetter_full_riots(seeds, rng, mean: float = 25.0, sd: float = 12.2, n: int = 100):
    """Share of sampled crowds (thresholds ~ Normal(mean, sd), rounded) in which more than
    half riot."""
    riot = [classic.granovetter_rioters(np.round(rng.normal(mean, sd, n))) > n / 2
            for _ in range(seeds)]
    return float(np.mean(riot)), [float(x) for x in riot]


def _epstein_runs(seeds, rng, steps, burn_in, **kw):
    return [classic.EpsteinCivilViolence(seed=int(s), **kw).run(steps)[burn_in:]
            for s in rng.integers(0, 2**31, size=seeds)]


def _epstein_punctuated(seeds, rng, steps: int = 150, burn_in: int = 20, quiet: int = 5,
                        burst: int = 20):
    """Share of seeds that are quiet most of the time (median active <= quiet) yet break out
    at least twice (active crossing ``burst`` from below)."""
    runs = _epstein_runs(seeds, rng, steps, burn_in)
    ok = [bool(np.median(a) <= quiet and np.sum((a[1:] >= burst) & (a[:-1] < burst)) >= 2)
          for a in runs]
    return float(np.mean(ok)), [float(a.max()) for a in runs]


def _epstein_cops(seeds, rng, steps: int = 150, burn_in: int = 20, few: float = 0.02,
                  usual: float = 0.04):
    """Median over seeds of the mean number active with few cops, divided by the same with
    the usual number (same seeds)."""
    state = rng.bit_generator.state
    a = [x.mean() for x in _epstein_runs(seeds, rng, steps, burn_in, cop_density=few)]
    rng.bit_generator.state = state  # the same seeds for both
    b = [x.mean() for x in _epstein_runs(seeds, rng, steps, burn_in, cop_density=usual)]
    return float(np.median(a) / max(np.median(b), 1e-9)), [float(x) for x in a]


def _epstein_sudden(seeds, rng, steps: int = 150, start: float = 0.9, end: float = 0.7,
                    at: int = 30, over: int = 100):
    """Share of seeds in which a sudden legitimacy drop (start -> end at step ``at``) gives a
    bigger peak of active agents than the same drop spread over ``over`` steps."""
    wins, ratio = [], []
    for s in rng.integers(0, 2**31, size=seeds):
        sudden = classic.EpsteinCivilViolence(seed=int(s), legitimacy=start).run(
            steps, lambda t: start if t <= at else end)[at:].max()
        gradual = classic.EpsteinCivilViolence(seed=int(s), legitimacy=start).run(
            steps, lambda t: start if t <= at else max(end, start - (start - end)
                                                       * (t - at) / over))[at:].max()
        wins.append(float(sudden > gradual))
        ratio.append(float(sudden / max(gradual, 1)))
    return float(np.mean(wins)), ratio


#: statistic name -> (function(seeds, rng, **parameters) -> (value, per-seed values or None),
#: whether it is random)
STATISTICS: dict[str, tuple[Callable, bool]] = {
    "granovetter_uniform": (_granovetter_uniform, False),
    "granovetter_critical_sd": (_granovetter_critical_sd, False),
    "granovetter_full_riots": (_granovetter_full_riots, True),
    "epstein_punctuated": (_epstein_punctuated, True),
    "epstein_cops": (_epstein_cops, True),
    "epstein_sudden": (_epstein_sudden, True),
}


# ------------------------------------------------------------------ files
class _Expect(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: float = -np.inf
    max: float = np.inf


class _Check(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    statistic: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    published: str = Field(min_length=1)
    expect: _Expect

    @pydantic.field_validator("statistic")
    @classmethod
    def _known(cls, v):
        if v not in STATISTICS:
            raise ValueError(f"unknown statistic {v!r}; allowed: {', '.join(STATISTICS)}")
        return v


class _Profile(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    seeds: int = Field(ge=1, le=10_000)


class _File(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    paper: str = Field(min_length=1)
    model: str = Field(pattern="^(granovetter|epstein)$")
    description: str = ""
    seeds: int = Field(ge=1, le=10_000)
    root_seed: int = Field(ge=0)
    checks: list[_Check] = Field(min_length=1)
    deviations: str = ""
    profiles: dict[str, _Profile] = Field(default_factory=dict)


@dataclass
class Validation:
    name: str
    path: Path
    title: str
    paper: str
    model: str
    description: str
    seeds: int
    root_seed: int
    checks: list[_Check]
    deviations: str = ""
    profile: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)


def validation_files() -> list[Path]:
    """The validation experiment files (``experiments/validation/*.yaml``), sorted by name,
    found as [`named_files`][ruralgov.io.finder.named_files] says (first folder wins)."""
    return list(named_files("experiment", under="validation").values())


def load_validation(name_or_path: str | Path, profile: str | None = None) -> Validation:
    """Load and check a validation file (by path or name under experiments/validation)."""
    bare = Path(name_or_path)
    if not bare.is_file() and not bare.suffix and bare.parent == Path("."):
        name_or_path = f"validation/{name_or_path}"
    path = find_named(name_or_path, "experiment", nested=True)
    spec, _ = read_spec(path, _File, "a validation file must be a mapping with title, paper, "
                        "model, seeds, root_seed and checks")
    seeds = spec.seeds
    if profile is not None:
        if profile not in spec.profiles:
            raise InputError(f"{path}: profiles: no profile {profile!r}; the file has "
                             f"{', '.join(spec.profiles) or 'none'}")
        seeds = spec.profiles[profile].seeds
    for i, c in enumerate(spec.checks):
        if not c.statistic.startswith(spec.model):
            raise InputError(f"{path}: checks.{i}.statistic: {c.statistic} is not a statistic "
                             f"of the {spec.model} model")
    return Validation(name=path.stem, path=path, title=spec.title, paper=spec.paper,
                      model=spec.model, description=" ".join(spec.description.split()),
                      seeds=seeds, root_seed=spec.root_seed, checks=spec.checks,
                      deviations=" ".join(spec.deviations.split()), profile=profile)


def run_validation(v: Validation) -> Validation:
    """Compute every check (seeded: check i draws from SeedSequence(root_seed, i))."""
    v.results = []
    for i, c in enumerate(v.checks):
        fn, random = STATISTICS[c.statistic]
        rng = np.random.default_rng(np.random.SeedSequence(v.root_seed, spawn_key=(i,)))
        try:
            value, samples = fn(v.seeds, rng, **c.parameters)
        except TypeError as err:  # a parameter the statistic does not take
            raise InputError(f"{v.path}: checks.{i}.parameters: {err}") from None
        ok = c.expect.min <= value <= c.expect.max
        v.results.append({"name": c.name, "statistic": c.statistic, "parameters": c.parameters,
                          "published": c.published, "value": value,
                          "expect_min": c.expect.min, "expect_max": c.expect.max,
                          "reproduced": bool(ok), "seeds": v.seeds if random else None,
                          "samples": samples})
    return v


def write_json(v: Validation, path: Path) -> None:
    """Write a computed validation (its checks' results) to ``path`` as plain JSON, atomically
    ([`ruralgov.io.files.write_json`][ruralgov.io.files.write_json]: an unbounded expected
    range, ``-inf`` or ``inf``, is ``null``)."""
    doc = {"name": v.name, "title": v.title, "paper": v.paper, "model": v.model,
           "seeds": v.seeds, "root_seed": v.root_seed, "profile": v.profile,
           "results": v.results}
    files.write_json(doc, path)
