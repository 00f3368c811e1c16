"""Pre-registered tests of the paper's hypotheses: a statistic, its bootstrap confidence
interval, and a decision rule fixed in the experiment file before anything runs.

A hypothesis block in an experiment file (``experiments/paper/*.yaml``):

    hypothesis:
      id: H1
      claim: Stronger formal authority (enforcement) raises compliance.
      paper: 制度权威…表现为人们对制度的服从关系
      built_in: The utility rises with the perceived sanction.   # by construction
      emergent: Whether the effect survives the feedbacks.        # the model's finding
      tests:                   # one or more parts of the claim, each with its own verdict
        - name: compliance rises with enforcement
          kind: slope          # slope | difference | inverted_u | interaction | mean |
                               # threshold | contrast
          factor: enforcement  # interaction: factors: [a, b]
          measure: compliance_final
          direction: positive  # positive | negative (slope, difference, interaction)
          min_effect: 0.02     # smallest effect that counts, in the measure's units

Statistics (``effect``) and decision rules:

* ``slope`` — least-squares slope of the measure on the factor across runs, times the factor's
  range (the change across the range studied);
* ``difference`` — mean at the factor's highest value minus mean at its lowest;
* ``interaction`` — difference in differences over the extreme values of two factors:
  (high a, high b) - (high a, low b) - (low a, high b) + (low a, low b);
* ``inverted_u`` — quadratic fit; the effect is the curvature (negative for an inverted U),
  and the vertex must lie inside the factor's range;
* ``mean`` — the mean of the measure over all runs (no factor; e.g. a hysteresis in steps);
* ``threshold`` — the largest change between adjacent levels of the factor as a share of all
  the change between adjacent levels (1 / (levels - 1) for a straight line, 1 for a single
  step); the jump's location is reported;
* ``contrast`` — factors [a, b]: |effect of a| - |effect of b|, each the mean at the factor's
  highest value minus the mean at its lowest (does a matter more than b?).

The 95 % confidence interval is a percentile bootstrap over runs, resampled within design
points (2,000 resamples, seeded). Verdict: **supported** if the interval lies wholly on the
predicted side and beyond ``min_effect`` (for ``inverted_u``: curvature interval below 0 and
the vertex interval inside the range; for ``threshold``: interval above ``min_effect``, the
share that counts as a threshold); **not supported** if the interval lies wholly on the
other side, or wholly within ±``min_effect`` (no effect worth the name; for ``threshold``:
wholly below ``min_effect``); **mixed** otherwise.
The hypothesis as a whole is supported if every test is, not supported if every test is not,
and mixed otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic
from pydantic import ConfigDict, Field

__all__ = ["Hypothesis", "Verdict", "evaluate", "evaluate_all", "overall"]

N_BOOT = 2000


class _Test(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)
    kind: Literal["slope", "difference", "inverted_u", "interaction", "mean", "threshold",
                  "contrast"]
    measure: str = Field(min_length=1)
    factor: str | None = None
    factors: list[str] | None = None
    direction: Literal["positive", "negative"] | None = None
    min_effect: float = Field(default=0.0, ge=0)

    @pydantic.model_validator(mode="after")
    def _consistent(self):
        if self.kind in ("interaction", "contrast"):
            if not self.factors or len(self.factors) != 2:
                raise ValueError(f"a {self.kind} test needs factors: [a, b]")
        elif self.kind == "mean":
            if self.factor or self.factors:
                raise ValueError("a mean test takes no factor")
        elif not self.factor:
            raise ValueError(f"a {self.kind} test needs factor")
        if self.kind not in ("inverted_u", "threshold") and self.direction is None:
            raise ValueError(f"a {self.kind} test needs direction: positive or negative")
        return self


class Hypothesis(pydantic.BaseModel):
    """The hypothesis block of an experiment file."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    claim: str = Field(min_length=1)
    paper: str = ""
    #: What the model builds in by construction, and what is left to emerge from the interplay
    #: of mechanisms (the model's real finding; docs/hypotheses.md section 7).
    built_in: str = ""
    emergent: str = ""
    tests: list[_Test] = Field(min_length=1)


@dataclass
class Verdict:
    verdict: str  # supported | not supported | mixed
    effect: float
    ci_low: float
    ci_high: float
    n_runs: int
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "effect": self.effect, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "n_runs": self.n_runs, **self.detail}


def _statistic(df: pd.DataFrame, t: _Test) -> tuple[float, dict[str, float]]:
    y = df[t.measure].to_numpy(dtype=float)
    if t.kind == "slope":
        x = df[t.factor].to_numpy(dtype=float)
        span = x.max() - x.min()
        slope = np.polyfit(x, y, 1)[0] if span > 0 else np.nan
        return float(slope * span), {}
    if t.kind == "difference":
        x = df[t.factor]
        return float(y[x == x.max()].mean() - y[x == x.min()].mean()), {}
    if t.kind == "interaction":
        a, b = (df[f] for f in t.factors)
        cell = {}
        for ka, va in (("lo", a.min()), ("hi", a.max())):
            for kb, vb in (("lo", b.min()), ("hi", b.max())):
                cell[ka + kb] = y[(a == va).to_numpy() & (b == vb).to_numpy()].mean()
        return float(cell["hihi"] - cell["hilo"] - cell["lohi"] + cell["lolo"]), {}
    if t.kind == "mean":
        return float(y.mean()), {}
    if t.kind == "threshold":
        means = df.groupby(t.factor)[t.measure].mean()  # sorted by level
        steps = np.abs(np.diff(means.to_numpy(dtype=float)))
        total = steps.sum()
        if steps.size == 0 or total == 0:
            return np.nan, {}
        at = int(np.argmax(steps))
        return float(steps[at] / total), {"jump_from": float(means.index[at]),
                                          "jump_to": float(means.index[at + 1])}
    if t.kind == "contrast":
        sizes = []
        for f in t.factors:
            x = df[f]
            sizes.append(abs(y[(x == x.max()).to_numpy()].mean()
                             - y[(x == x.min()).to_numpy()].mean()))
        return float(sizes[0] - sizes[1]), {f"effect_{f}": float(v)
                                             for f, v in zip(t.factors, sizes)}
    x = df[t.factor].to_numpy(dtype=float)  # inverted_u
    c2, c1, _ = np.polyfit(x, y, 2)
    vertex = -c1 / (2 * c2) if c2 != 0 else np.nan
    return float(c2), {"vertex": float(vertex)}


def overall(verdicts: list[Verdict]) -> str:
    """supported if every test is, not supported if every test is not, else mixed."""
    kinds = {v.verdict for v in verdicts}
    if len(kinds) == 1 and kinds <= {"supported", "not supported"}:
        return kinds.pop()
    return "mixed"


def evaluate_all(runs: pd.DataFrame, hypothesis: Hypothesis, seed: int = 0) -> list[Verdict]:
    """Every test of a hypothesis (seeded bootstrap, one seed per test)."""
    return [evaluate(runs, hypothesis, seed + i, test=t) for i, t in enumerate(hypothesis.tests)]


def evaluate(runs: pd.DataFrame, hypothesis: Hypothesis, seed: int = 0,
             test: _Test | None = None) -> Verdict:
    """Apply one pre-registered test (default: the hypothesis's first) to the finished runs."""
    t = test or hypothesis.tests[0]
    df = runs[runs.status == "ok"] if "status" in runs else runs
    cols = [t.measure] + ([t.factor] if t.factor else []) + (t.factors or [])
    df = df.dropna(subset=cols).reset_index(drop=True)
    if len(df) < 4:
        raise ValueError(f"{hypothesis.id}: only {len(df)} usable runs")
    effect, extra = _statistic(df, t)
    rng = np.random.default_rng(seed)
    groups = [g.to_numpy() for _, g in df.groupby("point").groups.items()] if "point" in df \
        else [np.arange(len(df))]
    boots, vertices = [], []
    for _ in range(N_BOOT):
        idx = np.concatenate([rng.choice(g, size=g.size, replace=True) for g in groups])
        e, ex = _statistic(df.iloc[idx], t)
        boots.append(e)
        if "vertex" in ex:
            vertices.append(ex["vertex"])
    lo, hi = (float(v) for v in np.nanpercentile(boots, [2.5, 97.5]))
    detail: dict[str, Any] = {"test": t.name or t.kind, "kind": t.kind, "measure": t.measure,
                              "min_effect": t.min_effect, **extra}
    if t.kind == "inverted_u":
        x = df[t.factor]
        vlo, vhi = (float(v) for v in np.nanpercentile(vertices, [2.5, 97.5]))
        detail.update(vertex_ci_low=vlo, vertex_ci_high=vhi,
                      range_low=float(x.min()), range_high=float(x.max()))
        inside = x.min() < vlo and vhi < x.max()
        if hi < 0 and inside:
            verdict = "supported"
        elif lo > 0 or (hi < 0 and (vhi < x.min() or vlo > x.max())):
            verdict = "not supported"  # a U, or a monotone curve with its vertex outside
        else:
            verdict = "mixed"
    elif t.kind == "threshold":
        verdict = ("supported" if lo > t.min_effect else
                   "not supported" if hi < t.min_effect else "mixed")
    else:
        sign = 1.0 if t.direction == "positive" else -1.0
        slo, shi = sorted((sign * lo, sign * hi))
        if slo > t.min_effect:
            verdict = "supported"
        elif shi < 0 or (-t.min_effect < slo and shi < t.min_effect):
            verdict = "not supported"
        else:
            verdict = "mixed"
    return Verdict(verdict=verdict, effect=effect, ci_low=lo, ci_high=hi, n_runs=len(df),
                   detail=detail)
