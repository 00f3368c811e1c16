"""A calibration's targets file: its schema, the simulation of one parameter set, and the
calibration's distance — what every method of `ruralgov calibrate` (ABC-SMC, rejection from a
reference table) and its checks (simulation-based calibration, the point estimate) share.

A targets file (``experiments/calibration/targets.yaml``) names the county to simulate, uniform
priors over uncertain parameters, and the targets — each a measure of one run (a summary
column, or an expression of them), the observed value, a tolerance, and the source it comes
from. ``held_out: true`` targets are not fitted; the posterior-predictive check asks whether
the calibrated model reproduces them. The distance is the root mean square of the fitted
targets' errors in units of their tolerances (1 = off by one tolerance on average).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydantic
from pydantic import ConfigDict, Field

from ruralgov.io.expression import Expression, parse
from ruralgov.io.finder import find_named
from ruralgov.io.scenario import MAX_STEPS, read_spec
from ruralgov.model.params import REGISTRY
from ruralgov.model.schema import InputError, validate_params
from ruralgov.study.experiment import ReporterSpec, reporter_measures, split_reporters

__all__ = ["load_targets", "simulate", "error", "distance", "band", "definition_hash"]

class _Target(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    measure: str = Field(min_length=1, max_length=300)
    value: float
    tolerance: float = Field(gt=0)
    source: str = Field(min_length=10)
    quote: str = ""
    held_out: bool = False
    scale: Literal["linear", "log"] = "linear"
    printed_as: Literal["figure", "range"] = "figure"
    definition: str = ""


class _ABC(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["smc", "rejection"] = "smc"
    population: pydantic.StrictInt | None = Field(default=None, ge=4, le=100_000)
    generations: pydantic.StrictInt | None = Field(default=None, ge=1, le=100)
    min_epsilon: float = Field(default=1.0, ge=0)
    reference: pydantic.StrictInt | None = Field(default=None, ge=10, le=10_000_000)
    accept: pydantic.StrictInt | None = Field(default=None, ge=2, le=1_000_000)
    regression: bool = True
    predictive_draws: pydantic.StrictInt = Field(default=20, ge=1, le=10_000)

    @pydantic.model_validator(mode="after")
    def _needs(self):
        need = (("population", "generations") if self.method == "smc"
                else ("reference", "accept"))
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"method {self.method} needs {' and '.join(missing)}")
        return self


class _Profile(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["smc", "rejection"] | None = None
    priors: dict[str, tuple[float, float]] = Field(default_factory=dict)
    population: pydantic.StrictInt | None = Field(default=None, ge=4, le=100_000)
    generations: pydantic.StrictInt | None = Field(default=None, ge=1, le=100)
    reference: pydantic.StrictInt | None = Field(default=None, ge=10, le=10_000_000)
    accept: pydantic.StrictInt | None = Field(default=None, ge=2, le=1_000_000)
    predictive_draws: pydantic.StrictInt | None = Field(default=None, ge=1, le=10_000)
    steps: pydantic.StrictInt | None = Field(default=None, ge=1, le=MAX_STEPS)
    parameters: dict[str, Any] = Field(default_factory=dict)


class _File(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    scenario: str = Field(min_length=1)
    steps: pydantic.StrictInt = Field(ge=1, le=MAX_STEPS)
    parameters: dict[str, Any] = Field(default_factory=dict)
    root_seed: pydantic.StrictInt = Field(ge=0, lt=2**63)
    priors: dict[str, tuple[float, float]] = Field(min_length=1)
    targets: list[_Target] = Field(min_length=1)
    abc: _ABC
    profiles: dict[str, _Profile] = Field(default_factory=dict)
    reporters: dict[str, str | ReporterSpec] = Field(default_factory=dict)


def load_targets(name_or_path: str | Path = "calibration/targets",
                 profile: str | None = None) -> tuple[_File, Path]:
    """Load and check a targets file: priors over numeric parameters within their bounds,
    fixed parameters valid, every target's measure an expression of per-run summaries, at
    least one target fitted."""
    from ruralgov.model.measures import SUMMARY_MEASURES

    path = find_named(name_or_path, "experiment", nested=True)
    spec, _ = read_spec(path, _File, "a targets file must be a mapping with title, description, "
                        "scenario, steps, root_seed, priors, targets and abc", kind="targets")
    if profile is not None:
        if profile not in spec.profiles:
            raise InputError(f"{path}: profiles: no profile {profile!r}; it has "
                             f"{', '.join(spec.profiles) or 'none'}")
        prof = spec.profiles[profile]
        fields = {k: v for k, v in prof.model_dump().items()
                  if k in ("method", "population", "generations", "reference", "accept",
                           "predictive_draws") and v is not None}
        try:  # checked again: the profile may switch the method, which needs other fields
            abc = _ABC.model_validate({**spec.abc.model_dump(), **fields})
        except pydantic.ValidationError as e:
            raise InputError(f"{path}: profiles.{profile}: "
                             f"{'; '.join(x['msg'] for x in e.errors())}") from None
        spec = spec.model_copy(update={"abc": abc, "steps": prof.steps or spec.steps,
                                       "parameters": {**spec.parameters, **prof.parameters},
                                       "priors": {**spec.priors, **prof.priors}})
    validate_params(spec.parameters, source=str(path), prefix="parameters")
    if spec.abc.method == "rejection" and spec.abc.accept >= spec.abc.reference:
        raise InputError(f"{path}: abc.accept: {spec.abc.accept}; allowed: fewer than "
                         f"abc.reference ({spec.abc.reference}), the simulations it is "
                         f"chosen from{f' (profile {profile})' if profile else ''}")
    for name, (lo, hi) in spec.priors.items():
        p = REGISTRY.get(name)
        where = f"{path}: priors.{name}"
        if p is None or p.type == "bool" or p.role == "switch":
            raise InputError(f"{where}: not a numeric model parameter; `ruralgov params` "
                             "lists them")
        if not (p.lo <= lo < hi <= p.hi):
            raise InputError(f"{where}: [{lo:g}, {hi:g}] must be low < high within the "
                             f"allowed {p.allowed()}")
        if p.type == "int" and math.ceil(lo) >= math.floor(hi):
            raise InputError(f"{where}: [{lo:g}, {hi:g}] holds fewer than two whole numbers; "
                             "an integer prior needs at least two (else fix the parameter "
                             "under parameters)")
        if name in spec.parameters:
            raise InputError(f"{where}: also fixed under parameters; a parameter is either "
                             "calibrated or fixed")
    end, step = split_reporters(str(path), spec.reporters, base_dir=path.parent)
    _check_targets(spec, path, frozenset(SUMMARY_MEASURES) | reporter_measures(end, step))
    from ruralgov.io.scenario import load_scenario
    from ruralgov.model.footprint import check_fits

    check_fits(load_scenario(spec.scenario).resolved(spec.parameters), f"{path}: parameters")
    if all(t.held_out for t in spec.targets):
        raise InputError(f"{path}: targets: every target is held out; fit at least one")
    return spec, path


def _seed(root_seed: int, params: dict[str, float], draw: int = 0) -> int:
    key = json.dumps({k: round(float(v), 12) for k, v in sorted(params.items())})
    h = hashlib.sha256(f"{root_seed}:{draw}:{key}".encode()).digest()
    return int.from_bytes(h[:8], "big") >> 1


def simulate(spec: _File, params: dict[str, float], seed: int) -> dict[str, float]:
    """One run of the targets file's county with ``params``: every target's measured value."""
    from ruralgov.study.runner import run_scenario

    overrides = {**spec.parameters, **{k: _value(spec, k, v) for k, v in params.items()}}
    end, step = split_reporters("targets", spec.reporters)
    summary = run_scenario(spec.scenario, seed=seed, steps=spec.steps, overrides=overrides,
                           collect_detail=False, reporters=end,
                           series_reporters=step).summary
    out = {}
    for t in spec.targets:
        value = _measure(t).evaluate(summary)
        out[t.name] = float(value.ravel()[0]) if value.size else np.nan
    return out


def _prior_range(spec: _File, name: str) -> tuple[float, float]:
    """The range a prior draws from: its own, or [lo, hi + 1) for an integer parameter, whose
    value is then the whole part of the draw (each of lo..hi equally likely; rounding a draw
    from [lo, hi] would give the two ends half the weight)."""
    lo, hi = spec.priors[name]
    if REGISTRY[name].type == "int":
        return float(math.ceil(lo)), float(math.floor(hi) + 1)
    return float(lo), float(hi)


def _value(spec: _File, name: str, draw: float) -> float | int:
    """A prior's draw as the parameter's value (see _prior_range)."""
    if REGISTRY[name].type != "int":
        return float(draw)
    return int(min(math.floor(draw), math.floor(spec.priors[name][1])))


def _measure(t: _Target) -> Expression:
    """A target's measure, parsed (never evaluated as code)."""
    return parse(t.measure, None, "targets")


def _check_targets(spec: _File, path: Path, measures: frozenset[str]) -> None:
    """Every target: a unique name, finite value and tolerance, and a measure in the grammar of
    [`ruralgov.io.expression`][ruralgov.io.expression] over numeric per-run summaries that
    gives a number on a made-up summary (a dry run before any simulation: ``x / 0`` is caught
    here, not after hours of runs)."""
    seen: dict[str, int] = {}
    # distinct made-up values, so that an expression that is finite for real data is finite
    # here (a / (b - c) with b == c would not be)
    probe = {m: 0.3 + 0.7 * ((hashlib.sha256(m.encode()).digest()[0] + 1) / 257)
             for m in measures}
    for i, t in enumerate(spec.targets):
        where = f"{path}: targets.{i}"
        if t.name in seen:
            raise InputError(f"{where}.name: {t.name!r} is also the name of targets.{seen[t.name]}"
                             "; give each target its own name")
        seen[t.name] = i
        for field in ("value", "tolerance"):
            if not np.isfinite(getattr(t, field)):
                raise InputError(f"{where}.{field}: {getattr(t, field)}; allowed: a finite "
                                 "number")
        if t.scale == "log" and not (t.value > 0 and t.tolerance > 1):
            raise InputError(f"{where}: scale log needs value > 0 and tolerance > 1 (a factor: "
                             f"value/tolerance to value x tolerance); got value {t.value:g}, "
                             f"tolerance {t.tolerance:g}")
        expr = parse(t.measure, measures, f"{where}.measure")
        if not expr.names:
            raise InputError(f"{where}.measure: {t.measure!r} reads no measure (a constant); "
                             "allowed: an expression of per-run summary measures")
        value = expr.evaluate(probe)
        if value.shape != () or np.isinf(value):  # NaN may be the probe's values only
            raise InputError(f"{where}.measure: {t.measure!r} gives {value} on a made-up "
                             "summary of positive measures (a division by zero, the log of "
                             "zero or an overflow); allowed: an expression that gives a number")


def error(t: _Target, x, observed=None):
    """How far ``x`` (a number or an array) is from a target's value (or from ``observed``,
    a synthetic observation), in units of the target's tolerance: the difference over the
    tolerance, or on the log scale the log ratio over the log of the tolerance factor
    (x / value = tolerance is 1; a value of zero or below counts as a thousandth of the
    target's, so that a county without a single event is far off, not infinitely far). NaN
    stays NaN."""
    x = np.asarray(x, dtype=float)
    ref = t.value if observed is None else np.asarray(observed, dtype=float)
    if t.scale == "linear":
        return (x - ref) / t.tolerance
    floor = t.value / 1000.0
    return np.log(np.maximum(x, floor) / np.maximum(ref, floor)) / np.log(t.tolerance)


def band(t: _Target | dict) -> tuple[float, float]:
    """The values within a target's tolerance (a target or its row in a report)."""
    value, tol, scale = ((t["observed"], t["tolerance"], t["scale"]) if isinstance(t, dict)
                         else (t.value, t.tolerance, t.scale))
    if scale == "log":
        return value / tol, value * tol
    return value - tol, value + tol


def distance(targets: list[_Target], values) -> np.ndarray:
    """The calibration's distance: the root mean square of the targets' errors in units of
    their tolerances, a value that is not a finite number counting as 1,000 tolerances off.
    ``values`` maps each target's name to a number or an array (one distance per element)."""
    sq = 0.0
    for t in targets:
        e = np.asarray(error(t, values[t.name]))
        sq = sq + np.where(np.isfinite(e), e, 1e3) ** 2
    return np.sqrt(sq / len(targets))


def definition_hash(spec: _File) -> str:
    """What identifies a calibration: the targets file's definition (after its profile), less
    how far to run it (``abc.generations``, ``abc.min_epsilon``, ``abc.reference``): a
    calibration continued with more generations, a lower floor or a larger reference table is
    the same calibration, gone further. (The profiles are left out too: the one chosen is
    already applied.)"""
    doc = spec.model_dump(mode="json")
    doc.pop("profiles")
    if not doc["reporters"]:  # (a file without custom reporters: as before they existed)
        doc.pop("reporters")
    for key in ("generations", "min_epsilon", "reference"):
        doc["abc"].pop(key)
    if doc["abc"]["method"] == "smc":  # (as before there was another method)
        for key in ("method", "accept", "regression"):
            doc["abc"].pop(key)
    else:
        doc["abc"].pop("population")
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
