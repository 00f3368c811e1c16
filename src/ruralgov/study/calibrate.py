"""Calibration to observed magnitudes: approximate Bayesian computation (ABC-SMC).

A targets file (``experiments/calibration/targets.yaml``) names the county to simulate, uniform
priors over uncertain parameters, and the targets — each a measure of one run (a summary
column, or an expression of them such as ``sanctions_total / (persuasions_total + ...)``), the
observed value, a tolerance, and the source it comes from. ``held_out: true`` targets are not
fitted; the posterior-predictive check asks whether the calibrated model reproduces them.

The sampler is pyabc's ABC-SMC (Klinger, Rickert & Hasenauer 2018): sequential populations of
particles with shrinking acceptance thresholds, kept in an SQLite database, so an interrupted
calibration continues where it stopped; ``--dask`` runs the simulations on an existing Dask
cluster (pyabc's ``DaskDistributedSampler``). pyabc was chosen over ELFI (unmaintained since
2023) and sbi (neural posteriors: a PyTorch dependency and training that is hard to make
reproducible): it is the kept implementation of ABC-SMC in Python, works with this stack on
Python 3.11, and stores every population. The distance is the root mean square of the targets'
errors in units of their tolerances (1 = off by one tolerance on average).

Each simulation's seed is derived from the root seed and the particle's parameter values, so
any particle can be re-run exactly; pyabc proposes particles from numpy's global generator,
which is seeded for each generation from the root seed and the generation's number, and each
generation starts from the populations the database holds: with one worker a calibration is
reproducible bit for bit, also when it was killed and resumed (kill -9 loses at most the
generation under way, which is then run again as it would have been); with several workers
(or on Dask) the order of acceptance, hence the populations, may differ.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralgov.io.files import (
    RESULTS,
    atomic_path,
    require_empty,
    write_figure,
    write_json,
    write_parquet,
)
from ruralgov.io.provenance import git_revision, utc_now, versions
from ruralgov.model.params import REGISTRY
from ruralgov.model.schema import InputError
from ruralgov.study.targets import (  # noqa: F401 (the targets file's API, as before)
    _ABC,
    _File,
    _measure,
    _prior_range,
    _Profile,
    _seed,
    _Target,
    _value,
    band,
    definition_hash,
    distance,
    error,
    load_targets,
    simulate,
)

__all__ = ["calibrate", "load_targets", "simulate", "render", "error", "distance", "band",
           "identification", "effective_sample_size", "DEGENERATE_ESS",
           "CALIBRATION_FILES"]

CALIBRATION_FILES = ("CALIBRATION.md", "calibration.json", "abc.db", "posterior.parquet",
                     "predictive.parquet", "calibrated.yaml", "figures", "sbc", "point",
                     "point.json", "reference", "accepted.parquet")
"""What a calibration folder holds; calibrating into it again continues the ABC run."""


class _Model:
    """pyabc's model: parameters in, the fitted targets' values out (a picklable object)."""

    def __init__(self, spec: _File):
        self.spec = spec

    def __call__(self, par) -> dict[str, float]:
        params = {k: float(par[k]) for k in self.spec.priors}
        values = simulate(self.spec, params, _seed(self.spec.root_seed, params))
        return {t.name: values[t.name] for t in self.spec.targets if not t.held_out}


class _Distance:
    """pyabc's distance: [`distance`][ruralgov.study.calibrate.distance] over the fitted
    targets."""

    def __init__(self, spec: _File):
        self.targets = [t for t in spec.targets if not t.held_out]

    def __call__(self, x: dict, x0: dict) -> float:
        return float(distance(self.targets, x))


def _sampler(workers: int | None, dask: str | None):
    from pyabc import sampler

    if dask:
        from ruralgov.io.extras import require

        Client = require("distributed", "--dask").Client
        return sampler.DaskDistributedSampler(dask_client=Client(dask))
    if workers == 1:
        return sampler.SingleCoreSampler()
    import os

    return sampler.MulticoreEvalParallelSampler(n_procs=workers or os.cpu_count() or 1)


def _scaled_transition(pyabc, scales: dict[str, float]):
    """pyabc's multivariate normal transition fitted in units of each prior's width.

    Fitted on the raw particles, a kernel over parameters of very different scales (a
    dispute rate of 0.004 beside a weight of 10) has a covariance whose smallest eigenvalues
    fall below scipy's cut-off for a singular matrix: the kernel then lives in a subspace,
    gives a density of 0 to a sixth of its own proposals, and their importance weights
    (prior / transition density) become infinite — the population's total weight nan. In
    prior-width units every direction is of order one. The density is that of the scaled
    parameters; its constant Jacobian cancels when the weights are normalised."""

    import scipy.stats as st
    from pyabc.transition import multivariatenormal as mvn

    class ScaledTransition(mvn.Transition):
        def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
            if len(X) == 0:
                raise mvn.NotEnoughParticles("Fitting not possible.")
            self._cols = list(X.columns)
            self._scale = np.array([scales[c] for c in self._cols])
            self._z = X.to_numpy(dtype=float) / self._scale
            self._w = np.asarray(w, dtype=float)
            bw = mvn.silverman_rule_of_thumb(1 / (self._w**2).sum(), len(self._cols))
            self._cov = mvn.smart_cov(self._z, self._w) * bw**2
            self._normal = st.multivariate_normal(cov=self._cov, allow_singular=True)

        def _draw(self, size: int) -> np.ndarray:  # pyabc's draws, in prior-width units
            pick = np.random.choice(len(self._w), size=size, p=self._w, replace=True)
            noise = np.random.multivariate_normal(np.zeros(len(self._cols)), self._cov,
                                                  size=size)
            return (self._z[pick] + noise) * self._scale

        def rvs_single(self):
            return pyabc.Parameter(dict(zip(self._cols, self._draw(1)[0])))

        def rvs(self, size: int | None = None):
            if size is None:
                return self.rvs_single()
            return pd.DataFrame(self._draw(size), columns=self._cols)

        def pdf(self, x):
            if isinstance(x, pd.DataFrame):
                z = x[self._cols].to_numpy(dtype=float) / self._scale
                return np.array([(self._normal.pdf(zi - self._z) * self._w).sum()
                                 for zi in z])
            z = np.array([x[c] for c in self._cols], dtype=float) / self._scale
            return float((self._normal.pdf(z - self._z) * self._w).sum())

    return ScaledTransition()


def calibrate(targets: str | Path = "calibration/targets", profile: str | None = None,
              out: Path | str | None = None, workers: int | None = None,
              progress: bool = True, dask: str | None = None) -> Path:
    """Run (or continue) the calibration; write the posterior, the predictive check and the
    report; return the report's path."""
    from ruralgov.io.extras import require

    spec, path = load_targets(targets, profile)
    out = Path(out) if out else RESULTS / "calibration" / (path.stem + (f"-{profile}"
                                                                       if profile else ""))
    require_empty(out, "--out", allow=CALIBRATION_FILES)
    out.mkdir(parents=True, exist_ok=True)
    if spec.abc.method == "rejection":
        return _rejection(spec, path, out, profile, workers, dask, progress)
    pyabc = require("pyabc", "ruralgov calibrate (approximate Bayesian computation)")
    for name in ("History", "Sampler", "Epsilon", "Distance", "Acceptor", "Population",
                 "Transition", "Adaptation", "Predictor", "Sumstat", "Util"):
        logging.getLogger(f"ABC.{name}").setLevel(logging.WARNING)
    logging.getLogger("ABC").setLevel(logging.INFO)  # its lines reach the terminal as ours
    prior = pyabc.Distribution(**{k: pyabc.RV("uniform", lo, hi - lo) for k in spec.priors
                                  for lo, hi in [_prior_range(spec, k)]})
    observed = {t.name: t.value for t in spec.targets if not t.held_out}
    sampler = _sampler(workers, dask)

    scales = {k: hi - lo for k in spec.priors for lo, hi in [_prior_range(spec, k)]}

    def smc():
        return pyabc.ABCSMC(_Model(spec), prior, _Distance(spec),
                            population_size=spec.abc.population, sampler=sampler,
                            transitions=_scaled_transition(pyabc, scales))

    db = "sqlite:///" + str((out / "abc.db").resolve())
    history = smc().load(db, 1, observed) if (out / "abc.db").is_file() \
        else smc().new(db, observed)
    _check_resume(history, spec, out)
    log = logging.getLogger("ABC")
    saved = log.handlers[:]
    log.handlers = [_Progress(spec.abc.generations, history.n_populations)] if progress \
        else [logging.NullHandler()]
    try:
        # One generation per call, each from what the database holds and a generator seeded
        # for that generation: an uninterrupted calibration and one resumed after kill -9
        # take the same path, so they give the same posterior (with one worker).
        while history.n_populations < spec.abc.generations and not (
                history.n_populations and history.get_all_populations().epsilon.iloc[-1]
                <= spec.abc.min_epsilon):
            abc = smc()
            history = abc.load(db, 1, observed)
            before = history.n_populations
            np.random.seed(_generation_seed(spec.root_seed, before))
            abc.run(max_nr_populations=1, minimum_epsilon=spec.abc.min_epsilon)
            if history.n_populations == before:  # pyabc stopped without a new population
                break
    finally:
        log.handlers = saved
    return _finish_smc(spec, path, out, history, profile, progress)


def _generation_seed(root_seed: int, generation: int) -> int:
    """The seed of numpy's global generator (which pyabc proposes from) for one generation."""
    return int(np.random.SeedSequence(root_seed, spawn_key=(generation,)).generate_state(1)[0])


class _Progress(logging.Handler):
    """Turns pyabc's log lines into one progress line per generation."""

    def __init__(self, generations: int, before: int):
        super().__init__(logging.INFO)
        self.generations, self.before, self.eps = generations, before, None

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("t: "):
            self.eps = msg.split("eps: ")[-1].rstrip(".")
        elif msg.startswith("Accepted:"):
            self.before += 1
            rate = msg.split("=")[-1].split(",")[0].strip()
            print(f"calibration: generation {self.before}/{self.generations}, epsilon "
                  f"{float(self.eps):.3g}, acceptance {float(rate):.0%}", flush=True)


def _check_resume(history, spec: _File, out: Path) -> None:
    """A continued calibration must be the same calibration: refuse another targets file."""
    meta = out / "calibration.json"
    key = definition_hash(spec)
    if meta.is_file() and json.loads(meta.read_text()).get("definition_sha256") != key:
        raise InputError(f"{out}: holds a calibration of other targets or settings; choose "
                         "another --out (results are never overwritten)")
    if not meta.is_file():
        write_json({"definition_sha256": key, "status": "running"}, meta)


def _rejection(spec: _File, path: Path, out: Path, profile, workers, dask, progress) -> Path:
    """Rejection ABC with regression adjustment from a reference table in ``out/reference``
    (``ruralgov.study.rejection``); its simulation-based calibration, from the same table,
    into ``out/sbc``."""
    from ruralgov.study import rejection, sbc

    _check_resume(None, spec, out)
    table = rejection.reference_table(spec, out / "reference", spec.abc.reference,
                                      sbc.reference_seed(spec), workers=workers,
                                      scheduler=dask, progress=progress)
    k = spec.abc.accept
    if len(table) <= k:
        raise InputError(f"{out / 'reference'}: only {len(table)} of {spec.abc.reference} "
                         f"simulations finished, not more than the {k} to accept; see the "
                         "blocks' logs")
    names, bounds = list(spec.priors), rejection.bounds(spec)
    values = sbc._target_values(spec, table)
    post, near, dist = rejection.posterior(spec.targets, table[names], values, k, bounds,
                                           spec.abc.regression)
    accepted = pd.concat([table.iloc[near][["row", *names]].reset_index(drop=True),
                          values.iloc[near].reset_index(drop=True)], axis=1)
    accepted = accepted.assign(distance=dist, weight=post.weight.to_numpy())
    write_parquet(accepted, out / "accepted.parquet")
    if progress:
        print(f"calibration: {k} of {len(table):,} simulations accepted (distance at most "
              f"{accepted.distance.max():.3g}); coverage on the same table", flush=True)
    adjusted = spec.abc.regression and rejection.can_adjust(
        rejection.errors([t for t in spec.targets if not t.held_out], accepted),
        post.weight.to_numpy())
    cov = rejection.coverage(spec.targets, table[names], values, k, bounds,
                             spec.abc.regression)
    cov.update({"targets_file": str(path), "profile": profile, "root_seed": spec.root_seed,
                "definition_sha256": definition_hash(spec),
                "failed_runs": spec.abc.reference - len(table),
                "method": "rejection" + (" with regression adjustment"
                                         if spec.abc.regression else "")})
    (out / "sbc").mkdir(exist_ok=True)
    write_json(cov, out / "sbc" / "sbc.json")
    sbc._figure(cov, out / "sbc" / "sbc.png")
    gens = [{"generation": 0, "epsilon": float(accepted.distance.max()),
             "simulations": spec.abc.reference, "finished": len(table),
             "ess": effective_sample_size(post.weight), "adjusted": bool(adjusted)}]
    return _finish(spec, path, out, post, gens, profile, progress)


def _finish_smc(spec: _File, path: Path, out: Path, history, profile, progress) -> Path:
    df, w = history.get_distribution()
    post = df[list(spec.priors)].reset_index(drop=True).assign(weight=np.asarray(w))
    pops = history.get_all_populations()
    gens = [{"generation": int(r.t), "epsilon": float(r.epsilon), "simulations": int(r.samples),
             "ess": effective_sample_size(history.get_distribution(m=0, t=int(r.t))[1])}
            for r in pops.itertuples() if r.t >= 0]
    return _finish(spec, path, out, post, gens, profile, progress)


def _finish(spec: _File, path: Path, out: Path, post: pd.DataFrame, gens: list[dict],
            profile, progress) -> Path:
    """The posterior, its predictive check, the manifest, the calibrated scenario, the
    figure and the report."""
    for c in spec.priors:  # an integer parameter's particles as the values the model ran with
        if REGISTRY[c].type == "int":
            post[c] = [_value(spec, c, v) for v in post[c]]
    write_parquet(post, out / "posterior.parquet")
    rng = np.random.default_rng(spec.root_seed)
    picks = rng.choice(len(post), size=spec.abc.predictive_draws, p=post.weight / post.weight.sum())
    rows = []
    for i, k in enumerate(picks):
        params = {c: float(post.loc[k, c]) for c in spec.priors}
        rows.append({"draw": i, **params,
                     **simulate(spec, params, _seed(spec.root_seed, params, draw=i + 1))})
        if progress:
            print(f"calibration: predictive check {i + 1}/{len(picks)}", flush=True)
    pred = pd.DataFrame(rows)
    write_parquet(pred, out / "predictive.parquet")
    summary = _summary(spec, post, pred)
    manifest = {"created_utc": utc_now(), "versions": versions(), "git": git_revision(),
                "targets_file": str(path), "profile": profile, "root_seed": spec.root_seed,
                "definition_sha256": definition_hash(spec), "method": spec.abc.method,
                "status": "done", "generations": gens, **summary}
    write_json(manifest, out / "calibration.json")
    _write_scenario(spec, summary, out / "calibrated.yaml")
    _figure(spec, post, pred, out / "figures" / "calibration.png")
    return render(out)


def effective_sample_size(weights) -> float:
    """Kish's effective sample size of importance weights, (sum w)^2 / sum w^2: the number of
    equally weighted particles the population is worth (N when the weights are equal, 1 when
    one particle carries them all)."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w * w)) if w.size and np.any(w) else 0.0


#: An ABC-SMC population worth fewer equally weighted particles than this share of its size
#: is degenerate: its intervals and predictive draws rest on a handful of particles.
DEGENERATE_ESS = 0.2


def render(out: Path | str) -> Path:
    """(Re)write a finished calibration's ``CALIBRATION.md`` from its ``calibration.json``,
    with the simulation-based calibration of ``sbc/`` when there is one."""
    from ruralgov.io.files import write_text

    out = Path(out)
    manifest = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    if manifest.get("status") != "done" or any(
            "interval_ratio" not in p for p in manifest.get("posterior", [])):
        raise InputError(f"{out}: not a finished calibration of this version (its "
                         "calibration.json has no identification); calibrate again into a "
                         "new folder")
    spec, _ = load_targets(manifest["targets_file"], manifest["profile"])
    sbc = out / "sbc" / "sbc.json"
    sbc_result = json.loads(sbc.read_text(encoding="utf-8")) if sbc.is_file() else None
    if sbc_result is not None and sbc_result.get("definition_sha256") != \
            manifest["definition_sha256"]:
        sbc_result = None  # the method was checked for other targets: not this report's
    point = out / "point.json"
    point_result = json.loads(point.read_text(encoding="utf-8")) if point.is_file() else None
    if point_result is not None and point_result.get("definition_sha256") != \
            manifest["definition_sha256"]:
        point_result = None
    text = _report(spec, manifest, Path("figures") / "calibration.png", sbc_result,
                   point_result)
    return write_text(text, out / "CALIBRATION.md")


def _wquantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    cw = np.cumsum(w[order]) / w.sum()
    return float(x[order][np.searchsorted(cw, q).clip(0, x.size - 1)])


def _summary(spec: _File, post: pd.DataFrame, pred: pd.DataFrame) -> dict[str, Any]:
    w = post.weight.to_numpy()
    params = []
    for c, (lo, hi) in spec.priors.items():
        x = post[c].to_numpy()
        row = {"parameter": c, "prior_low": lo, "prior_high": hi,
               "mean": float(np.average(x, weights=w)), "median": _wquantile(x, w, 0.5),
               "ci_low": _wquantile(x, w, 0.05), "ci_high": _wquantile(x, w, 0.95)}
        row["interval_ratio"] = interval_ratio(spec, c, row["ci_low"], row["ci_high"])
        row["identification"] = identification(row["interval_ratio"])
        # the posterior's median in the outer tenth of the prior: the data pull beyond it
        edge = (row["median"] - lo) / (hi - lo)
        row["at_prior_edge"] = "low" if edge < 0.1 else "high" if edge > 0.9 else None
        params.append(row)
    checks = []
    for t in spec.targets:
        v = pred[t.name].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        lo, hi = (np.quantile(v, [0.05, 0.95]) if v.size else (np.nan, np.nan))
        checks.append({"target": t.name, "observed": t.value, "tolerance": t.tolerance,
                       "scale": t.scale, "held_out": t.held_out,
                       "predicted_median": float(np.median(v)) if v.size else np.nan,
                       "predicted_low": float(lo), "predicted_high": float(hi),
                       "within_tolerance": float(np.mean(np.abs(error(t, v)) <= 1))
                       if v.size else 0.0,
                       "printed_as": t.printed_as,
                       "reproduced": bool(v.size) and reproduced(t, float(lo), float(hi))})
    return {"posterior": params, "predictive": checks}


def reproduced(t: _Target, low: float, high: float) -> bool:
    """Whether the central 90 % of predictions, ``low`` to ``high``, reproduces a target:
    holds its figure, or for a figure printed as a range ("above 95 %", "one- to
    two-thirds": the target's band) overlaps that range."""
    if t.printed_as == "range":
        b_lo, b_hi = band(t)
        return low <= b_hi and b_lo <= high
    return low <= t.value <= high


def interval_ratio(spec: _File, name: str, low: float, high: float) -> float:
    """A central 90 % posterior interval's width over that of the prior's central 90 %; for
    an integer parameter the share of its whole values the interval holds over 0.9 (an
    uninformative posterior gives about 1 either way)."""
    lo, hi = spec.priors[name]
    if REGISTRY[name].type == "int":
        whole = math.floor(hi) - math.ceil(lo) + 1
        return (high - low + 1) / (0.9 * whole)
    return (high - low) / (0.9 * (hi - lo))


IDENTIFIED, UNIDENTIFIED = 0.5, 0.8
"""Posterior/prior interval ratios: at most IDENTIFIED the data pin a parameter down; above
UNIDENTIFIED its posterior is about its prior (the data say little about it)."""


def identification(ratio: float) -> str:
    """The width of a parameter's central 90 % posterior interval over that of its (uniform)
    prior, as a word."""
    return ("identified" if ratio <= IDENTIFIED else "weakly identified"
            if ratio <= UNIDENTIFIED else "unidentified")


def _write_scenario(spec: _File, summary: dict, path: Path) -> None:
    """The calibrated baseline: the targets file's scenario at the posterior medians, a
    scenario file `ruralgov run` takes."""
    import yaml

    from ruralgov.io.scenario import load_scenario

    base = load_scenario(spec.scenario)
    values = {p["parameter"]: _value(spec, p["parameter"], round(p["median"], 4))
              for p in summary["posterior"]}
    doc = {"title": f"{base.title}, calibrated (posterior medians)",
           "story": f"The {base.name} scenario in the calibration's county, with the posterior "
                    "medians of `ruralgov calibrate` for the parameters it calibrates, run as "
                    "long as the calibration runs it (its measures are the means over the last "
                    "quarter; CALIBRATION.md beside this file says against which "
                    "observations).",
           "steps": spec.steps,
           "parameters": {**base.parameters, **spec.parameters, **values}}
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                       encoding="utf-8")


def _figure(spec: _File, post: pd.DataFrame, pred: pd.DataFrame, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(spec.priors)
    n = len(names) + len(spec.targets)
    cols = 4
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.5 * rows), squeeze=False)
    ax_list = list(axes.ravel())
    for ax, c in zip(ax_list, names):
        lo, hi = spec.priors[c]
        ax.hist(post[c], weights=post.weight, bins=15, range=(lo, hi), color="#4393c3")
        ax.set_xlim(lo, hi)
        ax.set_title(f"posterior: {c}", fontsize=8)
    for ax, t in zip(ax_list[len(names):], spec.targets):
        v = pred[t.name].dropna()
        ax.hist(v, bins=15, color="#bdbdbd" if t.held_out else "#92c5de")
        ax.axvspan(*band(t), color="#d6604d", alpha=0.2)
        if t.scale == "log":
            ax.set_xscale("symlog", linthresh=t.value / 10)
        ax.axvline(t.value, color="#b2182b")
        ax.set_title(("held out: " if t.held_out else "fitted: ") + t.name[:38], fontsize=7)
    for ax in ax_list[n:]:
        ax.axis("off")
    fig.tight_layout()
    return write_figure(fig, path, dpi=100)


def _tol(t: dict | _Target) -> str:
    scale = t["scale"] if isinstance(t, dict) else t.scale
    tol = t["tolerance"] if isinstance(t, dict) else t.tolerance
    return f"×/÷ {tol:g}" if scale == "log" else f"± {tol:g}"


def _report(spec: _File, manifest: dict, fig: Path, sbc: dict | None = None,
            point: dict | None = None) -> str:
    git = manifest["git"]
    lines = [f"# {spec.title}", "", " ".join(spec.description.split()), "",
             f"Targets file `{Path(manifest['targets_file']).name}`"
             + (f", profile {manifest['profile']}" if manifest["profile"] else "")
             + f"; {_method_words(spec, manifest)}, "
             f"{sum(g['simulations'] for g in manifest['generations']):,} simulations of "
             f"{spec.parameters.get('n_villagers', 'the scenario’s')} villagers for "
             f"{spec.steps} steps (measures over the last quarter); ruralgov "
             f"{manifest['versions'].get('ruralgov')}, git "
             f"{(git.get('commit') or 'unknown')[:10]}{' (dirty)' if git.get('dirty') else ''}, "
             f"{manifest['created_utc']}.", "", f"![posterior and predictive check]({fig})", ""]
    lines += _ess_lines(spec, manifest)
    lines += _fit_lines(spec, manifest)
    lines += ["", "## Targets and sources", "",
              "| target | use | measure | observed | tolerance | definition | source |",
              "|---|---|---|---:|---|---|---|"]
    for t in spec.targets:
        src = t.source + (f" («{t.quote}»)" if t.quote else "")
        lines.append(f"| {t.name} | {'held out' if t.held_out else 'fitted'} | "
                     f"`{t.measure}` | {t.value:g} | {_tol(t)} | {t.definition} | {src} |")
    lines += ["", "## Identification", "",
              "The width of each parameter's central 90 % posterior interval over the width of "
              "the central 90 % of its uniform prior: at most "
              f"{IDENTIFIED:g} identified, above {UNIDENTIFIED:g} unidentified (the data say "
              "little about it: its posterior is about its prior).", "",
              "| parameter | prior | median | 90 % credible interval | interval ratio | "
              "identification | at the prior's edge |", "|---|---|---:|---|---:|---|---|"]
    for p in manifest["posterior"]:
        lines.append(f"| `{p['parameter']}` | uniform {p['prior_low']:g}–{p['prior_high']:g} "
                     f"| {p['median']:.3g} | {p['ci_low']:.3g} – {p['ci_high']:.3g} | "
                     f"{p['interval_ratio']:.2f} | {p['identification']} | "
                     f"{p['at_prior_edge'] or ''} |")
    lines += _sbc_lines(sbc)
    lines += _point_lines(spec, point)
    data = ("`posterior.parquet` (the last generation's particles and weights), "
            "`predictive.parquet`, `abc.db` (every generation, pyabc's database)"
            if spec.abc.method == "smc" else
            "`posterior.parquet` (the adjusted particles and their kernel weights), "
            "`accepted.parquet` (the accepted simulations as run, with their distances and "
            "targets), `predictive.parquet`, `reference/` (the reference table, one Parquet "
            "file per block)")
    lines += ["", "The calibrated baseline (posterior medians) is `calibrated.yaml`, a scenario "
              f"that extends the targets file's scenario. Data: {data}."]
    return "\n".join(lines + [""])


def _method_words(spec: _File, manifest: dict) -> str:
    """How the posterior was sampled, in a few words for the report's first paragraph."""
    gens = manifest["generations"]
    if spec.abc.method == "rejection":
        g = gens[0]
        failed = g["simulations"] - g.get("finished", g["simulations"])
        return (f"rejection ABC from a reference table of {g['simulations']:,} draws from "
                "the priors" + (f" ({failed} failed)" if failed else "")
                + f": the {spec.abc.accept} nearest accepted (distance at most "
                f"{g['epsilon']:.3g}), Epanechnikov-weighted"
                + (", with local-linear regression adjustment (Beaumont, Zhang & Balding "
                   "2002) on the logit scale of the priors" if g.get("adjusted") else
                   ", not adjusted (too few weighted simulations for the regression)"
                   if spec.abc.regression else ""))
    return (f"ABC-SMC, {spec.abc.population} particles per generation, {len(gens)} "
            "generations (epsilon " + " → ".join(f"{g['epsilon']:.3g}" for g in gens) + ")")


def _point_lines(spec: _File, point: dict | None) -> list[str]:
    """The point estimate's section (``ruralgov calibrate --point``), if it was chosen."""
    lines = ["", "## Point estimate", ""]
    if point is None:
        return lines + ["Not chosen for this calibration: `ruralgov calibrate --point` re-runs "
                        "the best particles over fresh seeds and keeps the one that fits best."]
    c = point["chosen"]
    lines += [f"Of the {len(point['candidates'])} particles of the final generation with the "
              f"smallest distances, each re-run with {point['seeds']} fresh seeds, the one "
              f"with the smallest mean distance: {c['distance_mean']:.3g} tolerances (at most "
              f"{c['distance_max']:.3g} on one seed; its own ABC distance "
              f"{c['abc_distance']:.3g}). Its values and the means of its runs (`point.json`):",
              "", "| parameter | value |", "|---|---:|"]
    lines += [f"| `{k}` | {v:.4g} |" for k, v in {**c["parameters"], **c["stocks"]}.items()]
    lines += ["", "| target | use | observed | tolerance | mean over the seeds | within |",
              "|---|---|---:|---|---:|---|"]
    for t in spec.targets:
        v = c["targets"][t.name]
        ok = "" if t.held_out else ("yes" if abs(float(error(t, v))) <= 1 else "**no**")
        lines.append(f"| {t.name} | {'held out' if t.held_out else 'fitted'} | {t.value:g} | "
                     f"{_tol(t)} | {v:.3g} | {ok} |")
    return lines


def _sbc_lines(sbc: dict | None) -> list[str]:
    """The coverage section (simulation-based calibration), or how to make it."""
    lines = ["", "## Simulation-based calibration", ""]
    if sbc is None:
        return lines + ["Not run for this calibration: `ruralgov calibrate --sbc N` (into this "
                        "folder) checks the method's coverage on N synthetic truths."]
    lines += ["![coverage](sbc/sbc.png)", "",
              f"{sbc['reference']} parameter sets drawn from the priors, each simulated once "
              "(the reference table); each in turn is a synthetic truth whose ABC posterior is "
              f"the {sbc['accept']} nearest other simulations by the calibration's distance "
              + ("(kernel-weighted and adjusted exactly as this calibration's posterior: the "
                 "coverage is that of the method used) " if sbc.get("method") else "")
              + f"(an acceptance share of {sbc['acceptance_share']:.1%}; mean distance of the "
              f"accepted {sbc['mean_distance_accepted']:.2f} tolerances). The true value should "
              "lie inside the central 50 % and 90 % posterior intervals that often; a "
              "parameter passes when both coverages are within 10 points. "
              f"**{'All parameters pass' if sbc['passes'] else 'Not every parameter passes'}"
              "**.", "",
              "| parameter | coverage of the 50 % interval | coverage of the 90 % interval "
              "| passes |", "|---|---|---|---|"]
    for p in sbc["parameters"]:
        c50, c90 = p["coverage_50_ci"], p["coverage_90_ci"]
        lines.append(f"| `{p['parameter']}` | {p['coverage_50']:.2f} ({c50[0]:.2f}–{c50[1]:.2f})"
                     f" | {p['coverage_90']:.2f} ({c90[0]:.2f}–{c90[1]:.2f}) | "
                     f"{'yes' if p['passes'] else '**no**'} |")
    return lines


def _ess_lines(spec: _File, manifest: dict) -> list[str]:
    """The population's effective sample size per generation, and a warning when the final
    one is degenerate (calibrations before this was recorded say nothing)."""
    ess = [g.get("ess") for g in manifest["generations"]]
    if not ess or ess[-1] is None:
        return []
    n = spec.abc.population if spec.abc.method == "smc" else spec.abc.accept
    line = ("**Effective sample size** of each generation's weighted particles (Kish): "
            + " → ".join(f"{e:.1f}" for e in ess) + f" of {n}.")
    if ess[-1] < DEGENERATE_ESS * n:
        line += (f" **The {'final population' if spec.abc.method == 'smc' else 'posterior'} "
                 f"is degenerate** (worth {ess[-1]:.1f} equally "
                 "weighted particles): its credible intervals, identification ratios and "
                 "predictive draws rest on a handful of particles and understate the "
                 "uncertainty. Calibrate with more particles per generation before reading "
                 "them as a posterior.")
    return [line, ""]


def _fit_lines(spec: _File, manifest: dict) -> list[str]:
    """The posterior-predictive check: the headline and the table."""
    fitted = [c for c in manifest["predictive"] if not c["held_out"]]
    held = [c for c in manifest["predictive"] if c["held_out"]]
    edges = [f"`{p['parameter']}` ({p['at_prior_edge']})" for p in manifest["posterior"]
             if p["at_prior_edge"]]
    lines = ["## Posterior-predictive check", "",
             f"**{sum(c['reproduced'] for c in fitted)} of {len(fitted)} fitted targets and "
             f"{sum(c['reproduced'] for c in held)} of {len(held)} held-out targets are "
             "reproduced** by the calibrated model: the observed value lies inside the central "
             f"90 % of the predictions of {spec.abc.predictive_draws} particles drawn from the "
             "posterior, each run again with a new seed (a figure the source prints as a range "
             "— \"above 95 %\" — is reproduced when those 90 % overlap the range). \"Within "
             "tolerance\" is the share of "
             "those predictions inside the target's tolerance."
             + (" The posterior's median lies at the edge of the prior for "
                + ", ".join(edges) + ": the observations pull beyond the range the model "
                "was allowed." if edges else "")
             + " A target no parameter value reproduces is a structural misfit of the "
             "model, reported here and not tuned away.", "",
             "| target | use | observed | tolerance | predicted median | 90 % of predictions "
             "| within tolerance | reproduced |", "|---|---|---:|---|---:|---|---:|---|"]
    for c in manifest["predictive"]:
        observed = (f"{c['observed']:g}" if c.get("printed_as", "figure") == "figure" else
                    "{:.3g} – {:.3g} (range)".format(*band(c)))
        lines.append(f"| {c['target']} | {'held out' if c['held_out'] else 'fitted'} | "
                     f"{observed} | {_tol(c)} | {c['predicted_median']:.3g} | "
                     f"{c['predicted_low']:.3g} – {c['predicted_high']:.3g} | "
                     f"{c['within_tolerance']:.0%} | {'yes' if c['reproduced'] else '**no**'} |")
    return lines
