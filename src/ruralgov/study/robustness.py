"""Robustness of the verdicts across the parameter space.

A verdict in the report measures Monte-Carlo noise at one parameter point. Here each
hypothesis experiment is re-judged at many points of a Latin hypercube over the uncertain
parameters it does not manipulate (``experiments/robustness/uncertainty.yaml``): at each point
the experiment's own design — factors, replications, steps, county, in the profile the file
names — is run, and its pre-registered tests applied
([`ruralgov.analysis.verdicts`][ruralgov.analysis.verdicts], intervals only). Per test, the
share of points where it is supported, mixed and not supported; PRIM boxes (EMA Workbench)
describe the region where it is supported; a second root seed (a second hypercube, new seeds)
shows whether the shares are stable.

Each hypothesis's study is an ordinary experiment file with a ``crossed`` design (the
hypercube crossed with the experiment's factorial design), written into the output folder and
run by the sweep engine — resumable, shardable, on a process pool or a Dask cluster — so
nothing here schedules anything. A robustness spec file:

    title: ...
    description: ...
    samples: 200              # hypercube points per hypothesis
    root_seeds: [1501, 1502]  # one study per root seed; two show the shares' stability
    hypothesis_profile: quick # the profile of each hypothesis experiment run at every point
    ranges:                   # plausible ranges of the uncertain parameters
      w_legitimacy: [1.0, 3.0]
    profiles:
      quick: {samples: 6, root_seeds: [1501]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic
from pydantic import ConfigDict, Field

from ruralgov.analysis.verdicts import evaluate
from ruralgov.io.files import (
    RESULTS,
    atomic_path,
    require_empty,
    write_figure,
    write_json,
    write_parquet,
)
from ruralgov.io.finder import find_named
from ruralgov.io.provenance import git_revision, utc_now, versions
from ruralgov.io.results import read_runs
from ruralgov.io.scenario import read_spec
from ruralgov.model.params import REGISTRY
from ruralgov.model.schema import InputError
from ruralgov.study.experiment import Experiment, load_experiment

__all__ = ["robustness", "resummarise", "load_spec", "robustness_experiment", "summarise",
           "seed_noise", "ROBUSTNESS_FILES"]

ROBUSTNESS_FILES = ("ROBUSTNESS.md", "robustness.json", "robustness.parquet", "experiments",
                    "sweeps", "figures")
"""What a robustness folder holds; another study into it renews these (resuming sweeps)."""

#: Shares of two root seeds that differ by more than this are reported as unstable.
STABLE = 0.05

NOISE_DRAWS = 10_000
"""Simulated sets of studies behind [`seed_noise`][ruralgov.study.robustness.seed_noise]."""

NOISE_SEED = 0
"""The seed of their generator, fixed: the yardstick is the same on every machine."""

#: The columns of robustness.parquet that are the verdicts (the rest: each point's parameters).
TABLE_COLUMNS = ("root_seed", "id", "test", "role", "counts_as", "sample", "verdict", "effect",
                 "beyond")


def _distinct_seeds(seeds):
    if seeds is not None and len(set(seeds)) != len(seeds):
        raise ValueError("each root seed once (a second, different seed shows the shares' "
                         "stability)")
    return seeds


class _Profile(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    samples: pydantic.StrictInt | None = Field(default=None, ge=2, le=100_000)
    root_seeds: list[pydantic.StrictInt] | None = Field(default=None, min_length=1,
                                                        max_length=8)
    _distinct = pydantic.field_validator("root_seeds")(classmethod(
        lambda cls, v: _distinct_seeds(v)))


class _Spec(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    samples: pydantic.StrictInt = Field(ge=2, le=100_000)
    root_seeds: list[pydantic.StrictInt] = Field(min_length=1, max_length=8)
    hypothesis_profile: Literal["quick", "full"] = "quick"
    ranges: dict[str, tuple[float, float]] = Field(min_length=1)
    profiles: dict[str, _Profile] = Field(default_factory=dict)

    _distinct = pydantic.field_validator("root_seeds")(classmethod(
        lambda cls, v: _distinct_seeds(v)))


def load_spec(name_or_path: str | Path = "robustness/uncertainty",
              profile: str | None = None) -> tuple[_Spec, Path]:
    """Load and check a robustness spec (every range an uncertain or lever parameter, inside
    its allowed bounds, low below high)."""
    path = find_named(name_or_path, "experiment", nested=True)
    spec, _ = read_spec(path, _Spec, "a robustness spec must be a mapping with title, "
                        "description, samples, root_seeds and ranges", kind="robustness")
    for name, (lo, hi) in spec.ranges.items():
        p = REGISTRY.get(name)
        where = f"{path}: ranges.{name}"
        if p is None or p.role not in ("uncertainty", "lever") or p.type == "bool":
            raise InputError(f"{where}: not an uncertain or policy parameter with a numeric "
                             "range; `ruralgov params` lists them")
        if not (p.lo <= lo < hi <= p.hi):
            raise InputError(f"{where}: [{lo:g}, {hi:g}] must be low < high within the "
                             f"allowed {p.allowed()}")
    if profile is not None:
        if profile not in spec.profiles:
            raise InputError(f"{path}: profiles: no profile {profile!r}; it has "
                             f"{', '.join(spec.profiles) or 'none'}")
        prof = spec.profiles[profile]
        spec = spec.model_copy(update={"samples": prof.samples or spec.samples,
                                       "root_seeds": prof.root_seeds or spec.root_seeds})
    return spec, path


def varied(exp: Experiment, spec: _Spec) -> dict[str, tuple[float, float]]:
    """The ranges a hypothesis's study varies: every range of the spec except the parameters
    the experiment manipulates (its factors) or fixes (its parameters)."""
    return {n: r for n, r in spec.ranges.items()
            if n not in exp.factors and n not in exp.parameters}


def robustness_experiment(exp: Experiment, spec: _Spec, root_seed: int,
                          draws: dict[str, list[float]] | None = None) -> dict[str, Any]:
    """The experiment file (as a mapping) of one hypothesis's study at one root seed: the
    experiment's design crossed with a Latin hypercube over the spec's ranges, or, given
    ``draws`` (parameter -> one value per sample, e.g. from a posterior), with those points."""
    h = exp.hypothesis
    factors: dict[str, Any] = {f: exp.factors[f]["values"] for f in exp.factors}
    if draws is None:
        factors.update({n: {"range": [lo, hi]} for n, (lo, hi) in varied(exp, spec).items()})
    else:
        factors.update({n: {"draws": v} for n, v in draws.items()
                        if n not in exp.factors and n not in exp.parameters})
    return {
        "title": f"Robustness of {h.id}: {exp.title}"[:200],
        "description": f"{exp.description} Crossed with {spec.samples} "
                       + ("Latin-hypercube points" if draws is None else "posterior draws")
                       + f" over {len(factors) - len(exp.factors)} parameters "
                       "(ruralgov robustness).",
        "scenario": _scenario_ref(exp),
        "parameters": dict(exp.parameters), "steps": exp.steps,
        "replications": exp.replications, "root_seed": int(root_seed),
        "design": {"type": "crossed", "samples": spec.samples},
        "factors": factors, "hypothesis": h.model_dump(exclude_defaults=True)}


def _scenario_ref(exp: Experiment) -> str:
    """The experiment's scenario as a study's experiment file names it: by name where the
    name finds the same file (a scenario of the project), so the file runs on any machine;
    else by its path."""
    from ruralgov.io.finder import scenario_ref

    return scenario_ref(exp.scenario.name, exp.scenario.path)


def _shown(path: Path | str) -> str:
    """A path as the study records it: relative to the working folder when inside it (the
    project's own files), so the record does not name the machine it ran on."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _study_seed(root_seed: int, index: int) -> int:
    """Each hypothesis's study gets its own root seed, spawned from the spec's."""
    return int(np.random.SeedSequence(root_seed, spawn_key=(index,)).generate_state(1)[0])


def _judge(runs: pd.DataFrame, exp: Experiment, per_sample: int, seed: int) -> list[dict]:
    """Every test at every hypercube point (light verdicts: interval and decision)."""
    h = exp.hypothesis
    ok = runs[runs.status == "ok"].copy()
    ok["sample"] = ok["point"] // per_sample
    rows = []
    for k, g in ok.groupby("sample"):
        for i, t in enumerate(h.tests):
            try:
                v = evaluate(g, h, seed + i, test=t, light=True)
                verdict, effect = v.verdict, v.effect
                counts, bar = v.counts, v.detail.get("bar", t.min_effect)
            except ValueError:
                verdict, effect, counts, bar = "not measurable", np.nan, t.role == "finding", 0
            rows.append({"id": h.id, "test": t.name or t.kind, "role": t.role,
                         "counts_as": "finding" if counts else "check", "sample": int(k),
                         "verdict": verdict, "effect": effect,
                         "beyond": _beyond(t, effect, bar)})
    return rows


def _beyond(t, effect: float, bar: float) -> bool:
    """Whether a point estimate lies beyond the smallest effect on the predicted side (a
    negative curvature for a quadratic): the direction of a verdict without its power."""
    if not np.isfinite(effect):
        return False
    if t.kind == "inverted_u":
        return bool(effect < 0)
    if t.kind == "threshold":
        return bool(effect > bar)
    return bool(t.sign * effect > bar)


def check_posterior(path: Path | str, option: str = "--posterior") -> pd.DataFrame:
    """A calibration's ``posterior.parquet``, checked: readable Parquet, a ``weight`` column of
    finite non-negative weights that do not all vanish, and every other column a numeric model
    parameter with finite values inside its allowed range.

    Raises:
        InputError: naming the option, the file and what is wrong."""
    from ruralgov.model.params import REGISTRY

    name = f"{option} {path}"
    if not Path(path).is_file():
        raise InputError(f"{name}: no such file (the posterior.parquet of `ruralgov calibrate`)")
    try:
        post = pd.read_parquet(path)
    except Exception as err:  # noqa: BLE001 - pyarrow raises several kinds for a non-Parquet file
        raise InputError(f"{name}: not a Parquet file ({type(err).__name__}); give the "
                         "posterior.parquet of `ruralgov calibrate`") from None
    if "weight" not in post or len(post) == 0:
        raise InputError(f"{name}: not a posterior of `ruralgov calibrate` (no weight column "
                         "or no particles)")
    for c in post.columns:
        values = pd.to_numeric(post[c], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise InputError(f"{name}: column {c!r} holds values that are not finite numbers")
        if c == "weight":
            if (values < 0).any() or values.sum() <= 0:
                raise InputError(f"{name}: weight must be non-negative and not all zero")
            continue
        p = REGISTRY.get(c)
        if p is None or p.type == "bool" or p.role == "switch":
            raise InputError(f"{name}: column {c!r} is not a numeric model parameter; "
                             "`ruralgov params` lists them")
        if values.min() < p.lo or values.max() > p.hi:
            raise InputError(f"{name}: column {c!r} has values from {values.min():g} to "
                             f"{values.max():g}; allowed {p.allowed()}")
    return post


def posterior_draws(path: Path | str, n: int, seed: int) -> dict[str, list[float]]:
    """``n`` particles drawn (with replacement, by weight) from a calibration's posterior
    (``posterior.parquet`` of `ruralgov calibrate`): parameter -> values."""
    post = check_posterior(path)
    rng = np.random.default_rng(seed)
    k = rng.choice(len(post), size=n, p=post.weight / post.weight.sum())
    def value(c: str, v) -> float | int:  # an integer parameter's particles stay whole
        p = REGISTRY.get(c)
        return int(round(float(v))) if p is not None and p.type == "int" else float(v)

    return {c: [value(c, v) for v in post[c].to_numpy()[k]] for c in post.columns
            if c != "weight"}


def robustness(profile: str | None = None, only: list[str] | None = None,
               out: Path | str | None = None, workers: int | None = None,
               progress: bool = True, spec: str | Path = "robustness/uncertainty",
               posterior: Path | str | None = None) -> Path:
    """Run the robustness study of every hypothesis (or ``only`` some); return the report.

    With ``posterior`` (a calibration's ``posterior.parquet``) the points are draws from the
    posterior instead of a Latin hypercube over the spec's ranges: the share of points where a
    test is supported is then its posterior probability of being supported."""
    from ruralgov.study.reproduce import paper_experiments
    from ruralgov.study.sweep import run_sweep

    sp, spec_path = load_spec(spec, profile)
    exps = [load_experiment(f, profile=None if sp.hypothesis_profile == "full"
                            else sp.hypothesis_profile) for f in paper_experiments()]
    if only:
        wanted = {x.strip().upper() for x in only}
        bad = wanted - {e.hypothesis.id.upper() for e in exps}
        if bad:
            raise InputError(f"--only {','.join(sorted(bad))}: unknown; the hypotheses are "
                             f"{', '.join(e.hypothesis.id for e in exps)}")
        exps = [e for e in exps if e.hypothesis.id.upper() in wanted]
    out = Path(out) if out else RESULTS / ("robustness-quick" if profile else "robustness")
    if posterior is not None:
        check_posterior(posterior)
    require_empty(out, "--out", allow=ROBUSTNESS_FILES)
    (out / "experiments").mkdir(parents=True, exist_ok=True)
    rows, points = [], []
    for seed in sp.root_seeds:
        draws = None if posterior is None else posterior_draws(posterior, sp.samples, seed)
        for exp in exps:
            index = [f.stem for f in paper_experiments()].index(exp.path.stem)
            doc = robustness_experiment(exp, sp, _study_seed(seed, index), draws)
            path = out / "experiments" / f"{exp.name}-{seed}.yaml"
            _write_yaml(doc, path)
            rexp = load_experiment(path)
            run_sweep(rexp, out / "sweeps" / rexp.name, workers=workers, progress=progress)
            runs = read_runs(out / "sweeps" / rexp.name)
            per = len(exp.points)
            cols = [c for c in rexp.points.columns if c not in exp.factors]
            lhs = rexp.points.iloc[::per][cols].reset_index(drop=True)
            points.append(lhs.assign(id=exp.hypothesis.id, root_seed=seed,
                                     sample=np.arange(len(lhs))))
            rows += [{"root_seed": seed, **r} for r in _judge(runs, exp, per, seed)]
    table = pd.DataFrame(rows)
    lhs = pd.concat(points, ignore_index=True)
    write_parquet(table.merge(lhs, on=["id", "root_seed", "sample"]), out / "robustness.parquet")
    summary = summarise(table, lhs)
    manifest = {"created_utc": utc_now(), "versions": versions(), "git": git_revision(),
                "spec": _shown(spec_path), "profile": profile, "samples": sp.samples,
                "posterior": _shown(posterior) if posterior else None,
                "root_seeds": sp.root_seeds, "hypothesis_profile": sp.hypothesis_profile,
                "tests": summary}
    write_json(manifest, out / "robustness.json")
    fig = _figure(summary, out / "figures" / "robustness.png")
    from ruralgov.io.files import write_text

    return write_text(_report(manifest, fig.relative_to(out), sp), out / "ROBUSTNESS.md")


def summarise(table: pd.DataFrame, lhs: pd.DataFrame) -> list[dict[str, Any]]:
    """Per test: the share of hypercube points per verdict (each root seed and pooled), the
    largest difference between root seeds, and the PRIM box where it is supported (found on
    half of the points, its coverage and density those on the other half, at most three
    restrictions each with its quasi-p value:
    [`discover`][ruralgov.analysis.discover.discover])."""
    from ruralgov.io.extras import available

    out = []
    kinds = ("supported", "mixed", "not supported", "not measurable")
    for (hid, test), g in table.groupby(["id", "test"], sort=False):
        seeds = dict(iter(g.groupby("root_seed")))
        per_seed = {int(s): {k: float((gs.verdict == k).mean()) for k in kinds}
                    for s, gs in seeds.items()}
        pooled = {k: float((g.verdict == k).mean()) for k in kinds}
        spread = (max(abs(a[k] - b[k]) for a in per_seed.values() for b in per_seed.values()
                      for k in kinds) if len(per_seed) > 1 else None)
        noise = (seed_noise([pooled[k] for k in kinds], [len(gs) for gs in seeds.values()])
                 if spread is not None else None)
        row = {"id": hid, "test": test, "role": g.role.iloc[0],
               "counts_as": g.counts_as.mode().iloc[0], "points": int(len(g)),
               "shares": pooled, "per_seed": per_seed, "seed_difference": spread,
               "stable": None if spread is None else bool(spread <= STABLE),
               "seed_noise_95": noise,
               "within_noise": None if spread is None else bool(spread <= noise),
               "estimate_beyond": float(g.beyond.mean()) if "beyond" in g else None}
        supported = (g.verdict == "supported").to_numpy()
        if 0.05 < supported.mean() < 0.95 and len(g) >= 20:
            x = g[["root_seed", "sample"]].merge(
                lhs[lhs.id == hid], on=["root_seed", "sample"], how="left")
            x = x.drop(columns=["root_seed", "sample", "id"]).dropna(axis=1)
            row["prim_missing"] = not available("ema_workbench")
            if not row["prim_missing"]:
                row["prim"] = _where_supported(x, supported)
        out.append(row)
    return out


def _where_supported(x: pd.DataFrame, supported: np.ndarray) -> dict[str, Any]:
    """The PRIM box of the points where a test is supported, judged on held-out points."""
    from ruralgov.analysis.discover import discover

    try:
        d = discover(x, supported)
    except ValueError as exc:  # a half without supported (or other) points
        return {"limits": [], "coverage": np.nan, "density": np.nan, "note": str(exc)}
    return {"limits": d.box.to_dict("records"), "coverage": d.test["coverage"],
            "density": d.test["density"], "mass": d.test["mass"],
            "coverage_train": d.train["coverage"], "density_train": d.train["density"],
            "base_rate": float(supported.mean()), "dropped_by_quasi_p": d.dropped}


def seed_noise(shares: list[float], points: list[int]) -> float:
    """How far apart independent studies' shares fall by sampling alone: the 95th percentile
    of the largest difference, over verdicts and pairs of root seeds, between studies of
    ``points`` points each whose verdicts are drawn with the pooled ``shares``
    ([`NOISE_DRAWS`][ruralgov.study.robustness.NOISE_DRAWS] simulated sets of studies). A
    Latin hypercube is stratified, so it varies less than this: the yardstick is generous to
    instability, never to stability."""
    p = np.clip(np.asarray(shares, dtype=float), 0.0, None)
    p = p / p.sum()
    rng = np.random.default_rng(NOISE_SEED)
    sims = np.stack([rng.multinomial(n, p, size=NOISE_DRAWS) / n for n in points])
    largest = np.abs(sims[:, None] - sims[None, :]).max(axis=(0, 1, 3))
    return float(np.quantile(largest, 0.95))


def resummarise(folder: Path | str) -> Path:
    """The summary, figure and report of a finished study computed again from its
    robustness.parquet — after a change to how studies are summarised — without running
    anything. The study's own provenance (when, which code) is kept; ``summarised`` records
    this one."""
    from ruralgov.io.files import write_text

    folder = Path(folder)
    data, meta = folder / "robustness.parquet", folder / "robustness.json"
    for f in (data, meta):
        if not f.is_file():
            raise InputError(f"{f}: no such file (a finished `ruralgov robustness` folder "
                             "holds robustness.parquet and robustness.json)")
    merged = pd.read_parquet(data)
    missing = [c for c in TABLE_COLUMNS if c not in merged]
    if missing:
        raise InputError(f"{data}: columns {', '.join(missing)} missing; allowed: the table "
                         "`ruralgov robustness` writes")
    lhs = merged.drop(columns=[c for c in TABLE_COLUMNS
                               if c not in ("id", "root_seed", "sample")])
    lhs = lhs.drop_duplicates(["id", "root_seed", "sample"])
    manifest = json.loads(meta.read_text())
    sp, _ = load_spec(manifest["spec"], manifest.get("profile"))
    manifest["tests"] = summarise(merged[list(TABLE_COLUMNS)], lhs)
    manifest["summarised"] = {"created_utc": utc_now(), "versions": versions(),
                              "git": git_revision()}
    write_json(manifest, meta)
    fig = _figure(manifest["tests"], folder / "figures" / "robustness.png")
    return write_text(_report(manifest, fig.relative_to(folder), sp), folder / "ROBUSTNESS.md")


def _write_yaml(doc: dict, path: Path) -> None:
    import yaml

    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                       encoding="utf-8")


def _figure(summary: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(summary, key=lambda r: (r["counts_as"] != "finding", r["id"]))
    labels = [f"{r['id']} {r['test'][:45]}" + (" (check)" if r["counts_as"] == "check" else "")
              for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(rows) + 1.2))
    left = np.zeros(len(rows))
    for k, colour in (("supported", "#1b7837"), ("mixed", "#bdbdbd"),
                      ("not supported", "#b2182b"), ("not measurable", "#ffffff")):
        share = np.array([r["shares"][k] for r in rows])
        ax.barh(np.arange(len(rows)), share, left=left, color=colour, edgecolor="#636363",
                linewidth=0.3, label=k)
        left += share
    ax.set_yticks(np.arange(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of hypercube points")
    ax.legend(fontsize=7, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    return write_figure(fig, path, dpi=110)


def _report(manifest: dict, fig: Path, spec: _Spec) -> str:
    git = manifest["git"]
    where = (f"{spec.samples} Latin-hypercube points over {len(spec.ranges)} uncertain "
             "parameters (those it manipulates or fixes left out)."
             if not manifest.get("posterior") else
             f"{spec.samples} draws from the posterior `{manifest['posterior']}` (its "
             "parameters that the experiment manipulates or fixes left out): the share of "
             "points where a test is supported is its posterior probability of being "
             "supported.")
    seeds = spec.root_seeds
    lines = [
        "# Robustness: do the verdicts hold across the parameter space?", "",
        f"Each hypothesis experiment ({spec.hypothesis_profile} profile) re-judged at "
        f"{where} Root seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}; "
        f"spec `{Path(manifest['spec']).name}`. At each point the tests' intervals and "
        "decision rules are those of the report (without the false-discovery adjustment, "
        "which belongs to one reproduction).", "",
        f"ruralgov {manifest['versions'].get('ruralgov')}, git "
        f"{(git.get('commit') or 'unknown')[:10]}{' (dirty)' if git.get('dirty') else ''}, "
        f"{manifest['created_utc']}." + _summarised(manifest), "",
        f"![shares of verdicts]({fig.as_posix()})", "",
        "The verdict at a point depends on the design's power there as much as on the "
        "effect; the column *estimate beyond* gives the share of points whose point estimate "
        "lies beyond the smallest effect on the predicted side, whatever its interval. "
        f"Shares of two root seeds more than {STABLE} apart are marked unstable; beside the "
        "difference, *noise* is how far apart two independent studies of as many points "
        "fall by sampling alone (95th percentile, simulated from the pooled shares): a "
        "difference within it says more points are needed, not that the verdict moved.", "",
        "| hypothesis | test | role | supported | mixed | not supported | estimate beyond | "
        "seeds differ by | where it is supported (PRIM box; coverage, density on held-out "
        "points) |",
        "|---|---|---|---:|---:|---:|---:|---:|---|"]
    for r in manifest["tests"]:
        sh = r["shares"]
        diff = "—" if r["seed_difference"] is None else (
            f"{r['seed_difference']:.2f}" + ("" if r["stable"] else " **unstable**")
            + (f" (noise {r['seed_noise_95']:.2f})" if r.get("seed_noise_95") else ""))
        box = "not computed: needs the analysis extra" if r.get("prim_missing") else "—"
        if "prim" in r:
            lim = "; ".join(f"{x['parameter']} {x['low']:.3g}–{x['high']:.3g}"
                            + (f" (quasi-p {x['quasi_p']:.2g})" if "quasi_p" in x else "")
                            for x in r["prim"]["limits"]) or "everywhere"
            box = (f"{lim} ({r['prim']['coverage']:.0%}, {r['prim']['density']:.0%})"
                   if np.isfinite(r["prim"]["coverage"]) else "—")
        est = "—" if r.get("estimate_beyond") is None else f"{r['estimate_beyond']:.0%}"
        lines.append(f"| {r['id']} | {r['test']} | {r['counts_as']} | {sh['supported']:.0%} | "
                     f"{sh['mixed']:.0%} | {sh['not supported']:.0%} | {est} | {diff} | "
                     f"{box} |")
    lines += ["", "Data: `robustness.parquet` (one row per root seed, hypothesis, test and "
              "hypercube point, with the point's parameters), `robustness.json` (this table), "
              "`experiments/` (the generated experiment files, runnable with `ruralgov sweep`)."]
    return "\n".join(lines + [""])


def _summarised(manifest: dict) -> str:
    """When the summary was computed again from the study's data (``resummarise``)."""
    again = manifest.get("summarised")
    if not again:
        return ""
    g = again["git"]
    return (f" Summarised again from its data (no run repeated) with git "
            f"{(g.get('commit') or 'unknown')[:10]}{' (dirty)' if g.get('dirty') else ''}, "
            f"{again['created_utc']}.")


def read_summary(folder: Path) -> list[dict[str, Any]] | None:
    """The per-test summary of a robustness folder, if there is one."""
    f = Path(folder) / "robustness.json"
    return json.loads(f.read_text())["tests"] if f.is_file() else None
