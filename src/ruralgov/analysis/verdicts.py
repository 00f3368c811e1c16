"""Pre-registered tests of the paper's hypotheses: a statistic, its bootstrap confidence
interval, a p-value, the design's power, and a decision rule fixed in the experiment file
before anything runs.

A hypothesis block in an experiment file (``experiments/paper/*.yaml``):

    hypothesis:
      id: H1
      claim: Stronger formal authority (enforcement) raises compliance.
      paper: 制度权威…表现为人们对制度的服从关系
      built_in: The utility rises with the perceived sanction.   # by construction
      emergent: Whether the effect survives the feedbacks.        # the model's finding
      tests:                   # one or more parts of the claim, each with its own verdict
        - name: compliance rises with enforcement
          role: finding        # finding (left to the interplay of mechanisms) | check
          because: ""          # a check: the rule or identity that writes the effect in
          kind: slope          # slope | difference | inverted_u | two_lines | interaction |
                               # mean | threshold | contrast
          factor: enforcement  # interaction, contrast: factors: [a, b]
          measure: compliance_final
          scale: absolute      # absolute | per_1000_villagers (counts: scale-free)
          where: {}            # only the runs with these factor values (e.g. one moderator level)
          closed_form: null    # an expression in the run's columns the measure may equal
          credits: [mech_enforcement]  # the mechanism switches a finding credits (knock-outs)
          direction: positive  # positive | negative
          min_effect: 0.02     # smallest effect that counts, in the measure's (scaled) units

**Checks and findings.** A *check* (manipulation check) is an effect written into the rules
of the model or an identity between measures: it shows the model does what it says, and is no
evidence for the claim. A *finding* is left to the interplay of mechanisms. Only findings
decide a hypothesis's verdict. For a direction test of one factor (``slope``, ``difference``)
the class is computed from the model's signed causal graph (``ruralgov.model.causal``): a
check if every causal path from the factor to the measure has one sign, a finding if paths of
both signs meet; ``detail["causal"]`` keeps the counts and the shortest path of each sign.
Other tests keep the labelled ``role``. A test is counted as a check all the same — flagged —
when its measure is the same in every run of a design point (a closed form of the factors,
e.g. fidelity = λ^levels), when its interval has zero width, or when it equals its
``closed_form`` expression in every run.

Statistics (``effect``), all computed from the runs' means per design point (the same numbers
as least squares over the runs):

* ``slope`` — least-squares slope of the measure on the factor across runs, times the factor's
  range (the change across the range studied);
* ``difference`` — mean at the factor's highest value minus mean at its lowest;
* ``interaction`` — difference in differences over the extreme values of two factors:
  (high a, high b) - (high a, low b) - (low a, high b) + (low a, low b);
* ``two_lines`` — Simonsohn's (2018) two-lines test of an inverted U: the breakpoint is the
  level of the factor with the highest mean (kept at least one level from either end); a
  straight line is fitted on each side; the effect is the smaller of the rise on the left and
  the fall on the right (each the slope times its side's range): positive only if the measure
  really rises and then falls. (``inverted_u``, a quadratic's curvature with its vertex inside
  the range, is kept for old files; a quadratic can be "significant" for a curve that only
  flattens.)
* ``mean`` — the mean of the measure over all runs (no factor; e.g. a hysteresis in steps);
* ``threshold`` — the largest change between adjacent levels of the factor as a share of all
  the change between adjacent levels; it has no natural zero, so its null distribution is
  simulated — a straight line through the level means with the runs' own scatter around their
  point means — and the bar is the larger of ``min_effect`` and the null's 95th percentile;
* ``contrast`` — factors [a, b]: |effect of a| - |effect of b|, each the mean at the factor's
  highest value minus the mean at its lowest (does a matter more than b?).

The 95 % confidence interval is a bias-corrected and accelerated (BCa) bootstrap over runs,
resampled within design points (``scipy.stats.bootstrap``, one sample per design point, 2,000
resamples, seeded); where BCa is undefined (a design point with one run, no variation) the
percentile interval; for ``two_lines`` the breakpoint is chosen again in every resample, so
its uncertainty is in the interval. ``p`` is the one-sided p-value of "the effect lies beyond
``min_effect`` on the predicted side", the level at which the BCa interval's bound reaches
``min_effect``; beyond what 2,000 resamples resolve (1/2,001) it is the normal tail with the
bootstrap's standard error, so that the false-discovery control below can rank clear effects.

Verdict: **supported** if the interval lies wholly on the predicted side and beyond
``min_effect`` (for ``inverted_u``: curvature interval below 0 and the vertex interval inside
the range; for ``threshold``: above the bar); **not supported** if the interval lies wholly on
the other side, or wholly within ±``min_effect`` — an equivalence, no effect worth the name
(``p_equivalence``, two one-sided tests, below 0.025 exactly then; for ``threshold``: wholly
below the bar); otherwise **mixed** if the design had the power to decide (below) and
**inconclusive** if it had not: no conclusion may be drawn from an inconclusive test (for
``inverted_u`` and ``threshold``, which have no simulated power: mixed).
[`control_fdr`][ruralgov.analysis.verdicts.control_fdr] then controls the false-discovery rate
across all findings of a reproduction (Benjamini–Hochberg): a "supported" whose adjusted p is
not below 0.025 becomes mixed or inconclusive by the same rule.

Power is for the decisions the rule makes, simulated from the bootstrap (the sampling error of
the effect, shifted to a true effect and judged by the same interval rule):
``power_supported``, the chance of a "supported" verdict if the true effect were twice
``min_effect`` (at ``min_effect`` itself an interval beyond it has at most a 2.5 % chance
whatever the design, so the bar's double is the smallest effect a design can be asked to show
beyond it); ``power_equivalence``, the chance of the equivalence if the true effect were zero.
Below 0.8 for ``power_supported`` a verdict that is neither supported nor not supported is
inconclusive. (Light judgements, for robustness studies, compute no power and say mixed.)
A finding's final window is checked for stationarity: the same statistic on
``<measure>_drift`` (the second half of the window minus the first half).

A hypothesis's verdict comes from its findings only: supported, not supported or inconclusive
if every finding is, mixed otherwise; "checks only" if it has none.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic
from pydantic import ConfigDict, Field

from ruralgov.io.expression import parse
from ruralgov.model.schema import InputError

__all__ = ["Hypothesis", "Verdict", "evaluate", "evaluate_all", "overall", "control_fdr",
           "checks_status", "N_BOOT", "FDR_Q"]

N_BOOT = 2000
#: Two-sided false-discovery rate across findings (one-sided p below FDR_Q / 2 after
#: adjustment), the level of the 95 % intervals.
FDR_Q = 0.05
N_NULL = 1000

Kind = Literal["slope", "difference", "inverted_u", "two_lines", "interaction", "mean",
               "threshold", "contrast"]


class _Test(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)
    role: Literal["finding", "check"] = "finding"
    because: str = Field(default="", max_length=500)
    kind: Kind
    measure: str = Field(min_length=1)
    factor: str | None = None
    factors: list[str] | None = None
    direction: Literal["positive", "negative"] | None = None
    min_effect: float = Field(default=0.0, ge=0)
    scale: Literal["absolute", "per_1000_villagers"] = "absolute"
    where: dict[str, float] = Field(default_factory=dict)
    closed_form: str | None = Field(default=None, min_length=1, max_length=300)
    #: the mechanism switches (``mech_*``) the finding is credited to: knock-outs switch each
    #: off (the finding should vanish) and all the others off (it should persist)
    credits: list[str] = Field(default_factory=list)

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
        if self.kind not in ("inverted_u", "threshold", "two_lines") and self.direction is None:
            raise ValueError(f"a {self.kind} test needs direction: positive or negative")
        if self.role == "check" and self.credits:
            raise ValueError("a check credits no mechanism (credits are for findings)")
        if self.role == "check" and not self.because:
            raise ValueError("a check needs because: the rule or identity that writes the "
                             "effect in")
        return self

    @property
    def sign(self) -> float:
        return -1.0 if self.direction == "negative" else 1.0


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
    verdict: str  # supported | not supported | mixed | inconclusive
    effect: float
    ci_low: float
    ci_high: float
    n_runs: int
    detail: dict[str, Any]
    #: "finding" or "check" as labelled; ``flags`` say why a labelled finding counts as a check
    role: str = "finding"
    flags: list[str] = field(default_factory=list)

    @property
    def counts(self) -> bool:
        """Whether this test is a finding that decides the hypothesis's verdict."""
        return self.role == "finding" and not self.flags

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "effect": self.effect, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "n_runs": self.n_runs, "role": self.role,
                "counts_as": "finding" if self.counts else "check", "flags": list(self.flags),
                **self.detail}


def overall(verdicts: list[Verdict]) -> str:
    """From the findings only: supported, not supported or inconclusive if every one is,
    mixed otherwise; "checks only" if there is no finding."""
    found = [v for v in verdicts if v.counts]
    if not found:
        return "checks only"
    kinds = {v.verdict for v in found}
    if len(kinds) == 1:
        return kinds.pop()
    return "mixed"


def checks_status(verdicts: list[Verdict]) -> str:
    """The manipulation checks: "passed" if every check is supported, "failed" if any is
    not, "none" without checks."""
    checks = [v for v in verdicts if not v.counts]
    if not checks:
        return "none"
    return "passed" if all(v.verdict == "supported" for v in checks) else "failed"


def control_fdr(families: list[list[Verdict]], q: float = FDR_Q) -> None:
    """Benjamini–Hochberg across every finding in ``families`` (in place): each finding gets
    ``p_adjusted``; a "supported" whose adjusted one-sided p is not below q/2 becomes "mixed"
    (``verdict_unadjusted`` keeps the first). Checks are left alone."""
    found = [v for fam in families for v in fam if v.counts and np.isfinite(v.detail.get("p",
                                                                                       np.nan))]
    if not found:
        return
    p = np.array([v.detail["p"] for v in found])
    order = np.argsort(p)
    m = p.size
    adj = np.empty(m)
    adj[order] = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    adj = np.minimum(adj, 1.0)
    for v, a in zip(found, adj):
        v.detail["p_adjusted"] = float(a)
        v.detail["fdr_family"] = m
        v.detail["verdict_unadjusted"] = v.verdict
        if v.verdict == "supported" and not a < q / 2:
            v.verdict = _undecided(v.detail.get("power_supported", np.nan))


def evaluate_all(runs: pd.DataFrame, hypothesis: Hypothesis, seed: int = 0) -> list[Verdict]:
    """Every test of a hypothesis (seeded bootstrap, one seed per test)."""
    return [evaluate(runs, hypothesis, seed + i, test=t) for i, t in enumerate(hypothesis.tests)]


# --- the data of one test: runs grouped by design point -------------------------------------

@dataclass
class _Points:
    y: list[np.ndarray]                      # the measure's values, one array per design point
    x: dict[str, np.ndarray]                 # factor -> its value at each design point
    n: np.ndarray                            # runs per design point


def _points(df: pd.DataFrame, t: _Test, measure: str) -> _Points:
    factors = ([t.factor] if t.factor else []) + (t.factors or [])
    keys = ["point"] if "point" in df else (factors or None)
    groups = [g for _, g in df.groupby(keys, sort=True)] if keys else [df]
    y = [g[measure].to_numpy(dtype=float) for g in groups]
    x = {f: np.array([float(g[f].iloc[0]) for g in groups]) for f in factors}
    return _Points(y, x, np.array([a.size for a in y], dtype=float))


def _wmean(n: np.ndarray, m: np.ndarray, sel: np.ndarray) -> np.ndarray:
    return (n[sel] @ m[sel]) / n[sel].sum()


def _wslope(x: np.ndarray, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Least-squares slope of the runs on x, from point means m (P, B) with counts n."""
    dx = x - (n @ x) / n.sum()
    return ((n * dx) @ m) / (n * dx * dx).sum()


def _two_lines_break(pts: _Points, f: str) -> float:
    x = pts.x[f]
    levels = np.unique(x)
    means = np.array([_wmean(pts.n, np.array([a.mean() for a in pts.y]), x == v)
                      for v in levels])
    at = int(np.clip(np.argmax(means), 1, levels.size - 2))
    return float(levels[at])


def _two_lines_kernel(x: np.ndarray, n: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The two-lines statistic with its breakpoint chosen in every resample (the level with
    the highest mean, kept one level from either end): a breakpoint fixed from the data before
    resampling would leave its own uncertainty out of the interval."""
    levels = np.unique(x)
    if levels.size < 3:
        raise ValueError(f"a two_lines test needs at least 3 levels of its factor, got "
                         f"{levels.size}")
    sides = [(x <= xc, x >= xc, xc) for xc in levels[1:-1]]

    def two_lines(m):
        means = np.stack([_wmean(n, m, x == v) for v in levels])  # (levels, B)
        at = np.clip(np.argmax(means, axis=0), 1, levels.size - 2) - 1
        rise = np.stack([_wslope(x[lt], n[lt], m[lt]) * (xc - x.min()) for lt, _, xc in sides])
        fall = np.stack([-_wslope(x[rt], n[rt], m[rt]) * (x.max() - xc) for _, rt, xc in sides])
        cols = np.arange(m.shape[1])
        rise, fall = rise[at, cols], fall[at, cols]
        return np.stack([np.minimum(rise, fall), rise, fall])
    return two_lines


def _kernel(t: _Test, pts: _Points) -> Callable[[np.ndarray], np.ndarray]:
    """The statistic as a function of point means (P, B) -> (k, B); row 0 is the effect."""
    n = pts.n
    if t.kind == "slope":
        x = pts.x[t.factor]
        span = x.max() - x.min()
        return lambda m: (_wslope(x, n, m) * span)[None]
    if t.kind == "difference":
        x = pts.x[t.factor]
        return lambda m: (_wmean(n, m, x == x.max()) - _wmean(n, m, x == x.min()))[None]
    if t.kind == "mean":
        return lambda m: (n @ m / n.sum())[None]
    if t.kind == "interaction":
        a, b = (pts.x[f] for f in t.factors)

        def inter(m):
            cell = {(i, j): _wmean(n, m, (a == va) & (b == vb))
                    for i, va in enumerate((a.min(), a.max()))
                    for j, vb in enumerate((b.min(), b.max()))}
            return (cell[1, 1] - cell[1, 0] - cell[0, 1] + cell[0, 0])[None]
        return inter
    if t.kind == "contrast":
        xs = [pts.x[f] for f in t.factors]

        def contrast(m):
            sizes = [np.abs(_wmean(n, m, x == x.max()) - _wmean(n, m, x == x.min()))
                     for x in xs]
            return np.stack([sizes[0] - sizes[1], *sizes])
        return contrast
    if t.kind == "threshold":
        x = pts.x[t.factor]
        levels = np.unique(x)

        def threshold(m):
            means = np.stack([_wmean(n, m, x == v) for v in levels])
            steps = np.abs(np.diff(means, axis=0))
            with np.errstate(invalid="ignore", divide="ignore"):
                return (steps.max(axis=0) / steps.sum(axis=0))[None]
        return threshold
    if t.kind == "two_lines":
        return _two_lines_kernel(pts.x[t.factor], n)
    x = pts.x[t.factor]  # inverted_u: weighted least squares on point means = OLS on runs
    design = np.stack([x * x, x, np.ones_like(x)], axis=1)
    w = np.sqrt(n)
    pinv = np.linalg.pinv(design * w[:, None])

    def quadratic(m):
        c2, c1, _ = pinv @ (w[:, None] * m)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.stack([c2, -c1 / (2 * c2)])
    return quadratic


def _statistic(kernel, pts: _Points):
    def stat(*samples, axis=-1):
        means = np.stack([np.mean(s, axis=axis) for s in samples])
        shape = means.shape[1:]
        out = kernel(means.reshape(len(samples), -1))
        return out.reshape((out.shape[0],) + shape)
    return stat


def _bootstrap(pts: _Points, kernel, seed: int, level: float = 0.95):
    """(estimate (k,), low (k,), high (k,), boot (k, B), the scipy result, method)."""
    from scipy import stats

    est = kernel(np.array([[a.mean()] for a in pts.y]))[:, 0]
    stat = _statistic(kernel, pts)
    method = "BCa" if pts.n.min() >= 2 else "percentile"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.bootstrap(pts.y, stat, n_resamples=N_BOOT, vectorized=True,
                              method=method, confidence_level=level,
                              random_state=np.random.default_rng(seed))
        lo, hi = np.atleast_1d(res.confidence_interval.low), np.atleast_1d(
            res.confidence_interval.high)
        if method == "BCa" and not np.all(np.isfinite(lo[:1]) & np.isfinite(hi[:1])):
            method = "percentile"  # BCa undefined (no variation within points)
            res = stats.bootstrap(pts.y, stat, n_resamples=0, bootstrap_result=res,
                                  vectorized=True, method=method, confidence_level=level)
            lo, hi = np.atleast_1d(res.confidence_interval.low), np.atleast_1d(
                res.confidence_interval.high)
    boot = np.atleast_2d(res.bootstrap_distribution)
    return est, lo.astype(float), hi.astype(float), boot, res, stat, method


def _p_beyond(pts: _Points, stat, res, method: str, bar: float, sign: float,
              est: float) -> float:
    """One-sided p of "effect beyond ``bar`` on the ``sign`` side": the largest (1 - level)/2
    at which the two-sided interval's bound on that side still reaches the bar."""
    from scipy import stats

    b = N_BOOT

    def bound(level: float) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = stats.bootstrap(pts.y, stat, n_resamples=0, bootstrap_result=res,
                                vectorized=True, method=method, confidence_level=level)
        lo, hi = np.atleast_1d(r.confidence_interval.low)[0], np.atleast_1d(
            r.confidence_interval.high)[0]
        return sign * (lo if sign > 0 else hi)

    lo_level, hi_level = 1e-6, 1 - 2.0 / b
    boot = np.atleast_2d(res.bootstrap_distribution)[0]
    if not bound(lo_level) > bar:
        return float(max(0.5, np.mean(sign * boot <= bar)))
    if bound(hi_level) > bar:  # beyond what the resamples resolve: the normal tail
        return min(1.0 / (b + 1), _p_normal(sign * est - bar, boot))
    for _ in range(30):  # the bound falls as the level rises
        mid = (lo_level + hi_level) / 2
        if bound(mid) > bar:
            lo_level = mid
        else:
            hi_level = mid
    return float((1 - (lo_level + hi_level) / 2) / 2)


def _p_normal(excess: float, boot: np.ndarray) -> float:
    """One-sided p of an estimate ``excess`` beyond its bar, from the normal distribution with
    the bootstrap's standard error."""
    from scipy import stats

    se = float(np.std(boot, ddof=1)) if boot.size > 1 else 0.0
    if not se > 0:
        return 0.0 if excess > 0 else 1.0
    return float(stats.norm.sf(excess / se))


def _p_equivalence(est: float, boot: np.ndarray, m: float) -> float:
    """Two one-sided tests (Schuirmann 1987) of "the effect lies within ±m": the larger of the
    two one-sided p-values, each from the normal distribution with the bootstrap's standard
    error. Below 0.025 is the same decision as the 95 % interval wholly within ±m."""
    if not (np.isfinite(est) and m > 0):
        return np.nan
    return max(_p_normal(est + m, boot), _p_normal(m - est, boot))


def _power(est: float, lo: float, hi: float, boot: np.ndarray, m: float, sign: float):
    """The design's power for the decisions it can make (see the module text), simulated
    from the bootstrap's sampling error, shifted: (P(supported | true effect 2m), P(within
    ±m, the equivalence | true effect 0))."""
    if not np.all(np.isfinite([est, lo, hi])) or m <= 0:
        return np.nan, np.nan
    s_lo, s_hi = sorted((sign * lo, sign * hi))
    below, above = sign * est - s_lo, s_hi - sign * est  # the interval about the estimate
    err = sign * (boot - est)
    supported = np.mean(2 * m + err - below > m)
    null = np.mean((err - below > -m) & (err + above < m))
    return float(supported), float(null)


#: The power below which a verdict that is neither supported nor not supported is
#: "inconclusive": the design could not have shown an effect twice the bar.
POWER_CONCLUSIVE = 0.8


def _undecided(power: float) -> str:
    """The verdict of an interval that is neither beyond the bar nor within it nor on the
    other side: "mixed" where the design had the power to decide, "inconclusive" where not
    (or its power is unknown only because the test has no bar)."""
    return "mixed" if np.isfinite(power) and power >= POWER_CONCLUSIVE else "inconclusive"


def _flags(df: pd.DataFrame, pts: _Points, t: _Test, y: np.ndarray, lo: float,
           hi: float, est: float) -> list[str]:
    flags = []
    spread = max(np.std(a) for a in pts.y)
    if spread <= 1e-12 * (1 + np.abs(y).max()) and len(pts.y) > 1:
        flags.append("deterministic: the measure is the same in every run of a design point "
                     "(a closed form of the factors)")
    elif hi - lo <= 1e-9 * max(1.0, abs(est)):
        flags.append("zero-width interval")
    if t.closed_form:
        try:
            expr = parse(t.closed_form, df.columns, "closed_form")
            expected = np.broadcast_to(expr.evaluate(df), len(df))
        except InputError as exc:  # checked when the file was read; reported, not fatal
            flags.append(f"closed_form {t.closed_form!r} could not be evaluated: {exc}")
        else:
            if np.allclose(df[t.measure].to_numpy(dtype=float), expected, rtol=1e-6,
                           atol=1e-9, equal_nan=True):
                flags.append(f"matches the closed form {t.closed_form}")
    return flags


def _decide(t: _Test, lo: float, hi: float, bar: float, vertex_ci=None, x=None) -> str:
    if t.kind == "inverted_u":
        vlo, vhi = vertex_ci
        inside = x.min() < vlo and vhi < x.max()
        if hi < 0 and inside:
            return "supported"
        if lo > 0 or (hi < 0 and (vhi < x.min() or vlo > x.max())):
            return "not supported"  # a U, or a monotone curve with its vertex outside
        return "mixed"
    if t.kind == "threshold":
        return "supported" if lo > bar else "not supported" if hi < bar else "mixed"
    slo, shi = sorted((t.sign * lo, t.sign * hi))
    if slo > bar:
        return "supported"
    if shi < 0 or (-bar < slo and shi < bar):
        return "not supported"
    return "mixed"


def _threshold_null(pts: _Points, kernel, seed: int) -> np.ndarray:
    """The statistic on N_NULL data sets with no threshold: a straight line through the point
    means plus the runs' own scatter about their point means, resampled within points."""
    f = next(iter(pts.x))
    x, n = pts.x[f], pts.n
    means = np.array([a.mean() for a in pts.y])
    b = _wslope(x, n, means[:, None])[0]
    fit = (n @ means) / n.sum() + b * (x - (n @ x) / n.sum())
    rng = np.random.default_rng(seed)
    sim = np.stack([fit[i] + (a - a.mean())[rng.integers(0, a.size, (N_NULL, a.size))]
                    .mean(axis=1) for i, a in enumerate(pts.y)])
    return kernel(sim)[0]


def _stationarity(df: pd.DataFrame, t: _Test, seed: int, kernel, pts: _Points) -> dict:
    """Is the effect still moving in the final window? ``<measure>_drift`` is the window's
    second half minus its first. For the statistics that are linear in the means (slope,
    difference, interaction, mean) the effect's drift is the statistic of the drift, with its
    interval: moving if the interval excludes zero and the drift exceeds half the smallest
    effect. For contrast and two_lines, the statistic at the end of the window minus at its
    start (point estimate): moving if it exceeds half the smallest effect. Not judged for
    inverted_u and threshold."""
    drift = t.measure + "_drift"
    if (not t.measure.endswith("_final") or drift not in df or df[drift].isna().any()
            or t.kind in ("inverted_u", "threshold")):
        return {}
    d = df[drift].to_numpy(dtype=float)
    if t.scale == "per_1000_villagers":
        d = d / df["n_villagers"].to_numpy(dtype=float) * 1000.0
    half = max(t.min_effect, 1e-12) / 2
    if t.kind in ("slope", "difference", "interaction", "mean"):
        dpts = _points(df.assign(**{drift: d}), t, drift)
        dest, dlo, dhi, *_ = _bootstrap(dpts, _kernel(t, dpts), seed + 104729)
        moving = bool((dlo[0] > 0 or dhi[0] < 0) and abs(dest[0]) > half)
        return {"drift_effect": float(dest[0]), "drift_ci_low": float(dlo[0]),
                "drift_ci_high": float(dhi[0]), "stationary": not moving}
    dm = np.array([[x.mean()] for x in _points(df.assign(**{drift: d}), t, drift).y])
    m = np.array([[a.mean()] for a in pts.y])
    change = float(kernel(m + dm / 2)[0, 0] - kernel(m - dm / 2)[0, 0])
    return {"drift_effect": change, "stationary": not abs(change) > half}


def evaluate(runs: pd.DataFrame, hypothesis: Hypothesis, seed: int = 0,
             test: _Test | None = None, light: bool = False) -> Verdict:
    """Apply one pre-registered test (default: the hypothesis's first) to the finished runs.

    ``light`` gives the verdict, effect and interval only (no p-value, power or
    stationarity check): for robustness studies that judge a test thousands of times."""
    t = test or hypothesis.tests[0]
    df = runs[runs.status == "ok"] if "status" in runs else runs
    for f, v in t.where.items():
        if f not in df:
            raise ValueError(f"{hypothesis.id}: where: {f!r} is not a column of the runs")
        df = df[np.isclose(df[f].to_numpy(dtype=float), v)]
    cols = [t.measure] + ([t.factor] if t.factor else []) + (t.factors or [])
    missing = [c for c in cols if c not in df]
    if missing:
        raise ValueError(f"{hypothesis.id}: {', '.join(missing)} not among the runs' columns")
    df = df.dropna(subset=cols).reset_index(drop=True)
    if len(df) < 4:
        raise ValueError(f"{hypothesis.id}: only {len(df)} usable runs")
    df = df.copy()
    if t.scale == "per_1000_villagers":
        if "n_villagers" not in df:
            raise ValueError(f"{hypothesis.id}: scale per_1000_villagers needs n_villagers")
        df[t.measure] = df[t.measure] / df["n_villagers"] * 1000.0
    pts = _points(df, t, t.measure)
    kernel = _kernel(t, pts)
    est, lo, hi, boot, res, stat, method = _bootstrap(pts, kernel, seed)
    effect, lo0, hi0 = float(est[0]), float(lo[0]), float(hi[0])
    detail: dict[str, Any] = {"test": t.name or t.kind, "kind": t.kind, "measure": t.measure,
                              "min_effect": t.min_effect, "scale": t.scale,
                              "interval": method}
    if t.because:
        detail["because"] = t.because
    if t.where:
        detail["where"] = dict(t.where)
    bar = t.min_effect
    vertex_ci = None
    if t.kind == "inverted_u":
        vertex_ci = (float(lo[1]), float(hi[1]))
        x = pts.x[t.factor]
        detail.update(vertex=float(est[1]), vertex_ci_low=vertex_ci[0],
                      vertex_ci_high=vertex_ci[1], range_low=float(x.min()),
                      range_high=float(x.max()))
    elif t.kind == "two_lines":
        detail.update(breakpoint=_two_lines_break(pts, t.factor), rise=float(est[1]),
                      fall=float(est[2]), rise_ci_low=float(lo[1]), rise_ci_high=float(hi[1]),
                      fall_ci_low=float(lo[2]), fall_ci_high=float(hi[2]))
    elif t.kind == "contrast":
        detail.update({f"effect_{f}": float(v) for f, v in zip(t.factors, est[1:])})
    elif t.kind == "threshold":
        x = pts.x[t.factor]
        levels = np.unique(x)
        means = np.array([_wmean(pts.n, np.array([a.mean() for a in pts.y]), x == v)
                          for v in levels])
        at = int(np.argmax(np.abs(np.diff(means))))
        null = _threshold_null(pts, kernel, seed + 7919)
        q95 = float(np.nanpercentile(null, 95))
        bar = max(t.min_effect, q95)
        detail.update(jump_from=float(levels[at]), jump_to=float(levels[at + 1]),
                      null_mean=float(np.nanmean(null)), null_q95=q95, bar=bar,
                      p=float((1 + np.sum(null >= effect)) / (N_NULL + 1)))
    verdict = _decide(t, lo0, hi0, bar, vertex_ci, pts.x.get(t.factor))
    role = _role(df, t, detail)
    if light:
        return Verdict(verdict=verdict, effect=effect, ci_low=lo0, ci_high=hi0,
                       n_runs=len(df), detail=detail, role=role,
                       flags=_flags(df, pts, t, df[t.measure].to_numpy(dtype=float), lo0,
                                    hi0, effect))
    if t.kind not in ("inverted_u", "threshold"):
        detail["p"] = _p_beyond(pts, stat, res, method, bar, t.sign, effect)
        detail["power_supported"], detail["power_equivalence"] = _power(
            effect, lo0, hi0, boot[0], bar, t.sign)
        detail["p_equivalence"] = _p_equivalence(effect, boot[0], bar)
        if verdict == "mixed" and bar > 0:
            verdict = _undecided(detail["power_supported"])
    flags = _flags(df, pts, t, df[t.measure].to_numpy(dtype=float), lo0, hi0, effect)
    detail.update(_stationarity(df, t, seed, kernel, pts))
    return Verdict(verdict=verdict, effect=effect, ci_low=lo0, ci_high=hi0, n_runs=len(df),
                   detail=detail, role=role, flags=flags)


#: the kinds of test whose direction the causal paths decide (one factor, one sign)
DIRECTION_KINDS = ("slope", "difference")


def _role(df: pd.DataFrame, t: _Test, detail: dict[str, Any]) -> str:
    """A test's role: for a direction test (one factor, one sign) its class computed from
    the model's causal paths (check: every path one sign; finding: both), otherwise as
    labelled; the paths go into ``detail["causal"]``."""
    causal = _causal(df, t)
    if causal is None:
        return t.role
    detail["causal"] = causal
    if t.kind in DIRECTION_KINDS and causal["class"] in ("check", "finding"):
        return causal["class"]
    return t.role


def _causal(df: pd.DataFrame, t: _Test) -> dict[str, Any] | None:
    """The causal class and paths of a test (ruralgov.model.causal) in the county of the
    runs (their first row's switches), for each factor; None for a test without one."""
    from ruralgov.model import causal
    from ruralgov.model.params import defaults

    factors = [t.factor] if t.factor else list(t.factors or [])
    if not factors:
        return None
    params = defaults()
    row = df.iloc[0]
    params.update({k: row[k].item() if hasattr(row[k], "item") else row[k]
                   for k in params if k in df.columns})
    per = {f: causal.classify_in(params, f, t.measure) for f in factors}
    if len(factors) == 1:
        return dict(per[factors[0]])
    classes = {c["class"] for c in per.values()}
    mixed = "finding" in classes or len(classes) > 1
    return {"class": "finding" if mixed else classes.pop(), "factors": per}
