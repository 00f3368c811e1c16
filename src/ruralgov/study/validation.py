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

import warnings
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
           "write_json", "epstein_docking", "DOCKING_SETTINGS"]


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


def _granovetter_cascade_critical_sd(seeds, rng, mean: float = 25.0, n: int = 100):
    """The critical spread found by running the cascade on sampled crowds (``seeds`` crowds
    per sd on a grid of 0.5): the first sd at which most of them riot in full."""
    sd, grid, share = classic.granovetter_cascade_critical_sd(
        mean=mean, n=n, seeds=seeds, seed=int(rng.integers(2**31)))
    return sd, [float(x) for x in share]


DOCKING_SETTINGS = {"legitimacy": 0.82, "cop_density": 0.04, "max_jail": 30,
                    "citizen_density": 0.7, "vision": 7, "k": 2.3, "threshold": 0.1}
"""The Epstein settings of the docking with Mesa's bundled example: Epstein's run 1
(legitimacy 0.82, 4 % cops, jail terms up to 30) on Mesa's 40 x 40 torus, 70 % citizens."""


def _mesa_epstein(seed: int, steps: int, settings: dict) -> tuple[np.ndarray, np.ndarray, int]:
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence

    m = EpsteinCivilViolence(
        seed=seed, citizen_density=settings["citizen_density"],
        cop_density=settings["cop_density"], citizen_vision=settings["vision"],
        cop_vision=settings["vision"], legitimacy=settings["legitimacy"],
        max_jail_term=settings["max_jail"], active_threshold=settings["threshold"],
        arrest_prob_constant=settings["k"], max_iters=steps + 1)
    for _ in range(steps):
        m.step()
    df = m.datacollector.get_model_vars_dataframe()
    citizens = int(df.iloc[0][["active", "quiet", "arrested"]].sum())
    return df["active"].to_numpy()[1:], df["arrested"].to_numpy()[1:], citizens


def _own_epstein(seed: int, steps: int, settings: dict, variant: str):
    if variant == "sequential":
        m = classic.EpsteinSequential(seed=seed, **settings)
        active = m.run(steps)
        return active, np.array([h["jailed"] for h in m.history]), m.n_citizens
    kw = {k: v for k, v in settings.items() if k != "citizen_density"}
    m = classic.EpsteinCivilViolence(seed=seed, agent_density=settings["citizen_density"],
                                     **kw)
    active = m.run(steps)
    return active, np.array([h["jailed"] for h in m.history]), m.agent_pos.size


def epstein_docking(seeds: int, rng: np.random.Generator, steps: int = 200,
                    burn_in: int = 50, variants: tuple[str, ...] = ("sequential",),
                    settings: dict | None = None):
    """Dock ``ruralgov.model.classic``'s Epstein model with Mesa's bundled example: ``seeds``
    runs of each at the same settings
    ([`DOCKING_SETTINGS`][ruralgov.study.validation.DOCKING_SETTINGS]), per-run statistics
    after ``burn_in`` ([`outburst_statistics`][ruralgov.model.classic.outburst_statistics]),
    and, for each of ``variants``, a two-sample Kolmogorov–Smirnov test per statistic against
    Mesa's runs, Holm-adjusted across the statistics. Returns (per-run statistics, one row per
    run with a ``model`` column; the tests, one row per variant and statistic). The variant
    "sequential" is the docking variant; "synchronous" the vectorised model (the negative
    control: its schedule differs, and the tests should see it)."""
    import pandas as pd
    from scipy import stats

    settings = {**DOCKING_SETTINGS, **(settings or {})}
    rows = []
    for s in rng.integers(0, 2**31, size=(seeds, 1 + len(variants))):
        a, j, n = _mesa_epstein(int(s[0]), steps, settings)
        rows.append({"model": "mesa", **classic.outburst_statistics(a[burn_in:], j[burn_in:], n)})
        for v, sv in zip(variants, s[1:]):
            a, j, n = _own_epstein(int(sv), steps, settings, v)
            rows.append({"model": v, **classic.outburst_statistics(a[burn_in:], j[burn_in:],
                                                                    n)})
    runs = pd.DataFrame(rows)
    tests = []
    for v in variants:
        part = []
        for col in [c for c in runs.columns if c != "model"]:
            x = runs.loc[runs.model == "mesa", col].dropna().to_numpy()
            y = runs.loc[runs.model == v, col].dropna().to_numpy()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # exact p unavailable with ties: asymptotic
                p = stats.ks_2samp(x, y).pvalue if min(x.size, y.size) >= 5 else np.nan
            part.append({"variant": v, "statistic": col, "mesa_mean": _mean(x),
                         "variant_mean": _mean(y), "mesa_n": int(x.size),
                         "variant_n": int(y.size), "p": float(p)})
        p = np.array([r["p"] for r in part])
        ok = np.isfinite(p)
        order = np.argsort(p[ok])
        holm = np.empty(ok.sum())
        holm[order] = np.minimum(1, np.maximum.accumulate(
            p[ok][order] * (ok.sum() - np.arange(ok.sum()))))
        adj = np.full(p.size, np.nan)
        adj[ok] = holm
        tests += [{**r, "p_holm": float(q)} for r, q in zip(part, adj)]
    return runs, pd.DataFrame(tests)


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if x.size else float("nan")


def _epstein_docking(seeds, rng, steps: int = 200, burn_in: int = 50):
    """The smallest Holm-adjusted p-value of the docking tests (above 0.05: no statistic's
    distribution differs from Mesa's example); the per-seed mean active fractions."""
    runs, tests = epstein_docking(seeds, rng, steps=steps, burn_in=burn_in)
    return float(np.nanmin(tests.p_holm)), [float(x) for x in
                                       runs.loc[runs.model == "sequential", "active_mean"]]


#: statistic name -> (function(seeds, rng, **parameters) -> (value, per-seed values or None),
#: whether it is random)
STATISTICS: dict[str, tuple[Callable, bool]] = {
    "granovetter_uniform": (_granovetter_uniform, False),
    "granovetter_critical_sd": (_granovetter_critical_sd, False),
    "granovetter_full_riots": (_granovetter_full_riots, True),
    "granovetter_cascade_critical_sd": (_granovetter_cascade_critical_sd, True),
    "epstein_punctuated": (_epstein_punctuated, True),
    "epstein_cops": (_epstein_cops, True),
    "epstein_sudden": (_epstein_sudden, True),
    "epstein_docking": (_epstein_docking, True),
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
                        "model, seeds, root_seed and checks", kind="validation")
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
