"""Scenario discovery: in which part of the parameter space does an outcome happen?

PRIM (the Patient Rule Induction Method; Friedman & Fisher 1999, as in EMA Workbench: Kwakkel
2017) peels a box of parameter values, one slice at a time, in which the runs with the outcome
concentrate. Every box on the way (the *peeling trajectory*) trades *coverage* (the share of
all runs with the outcome that the box holds) against *density* (the share of the box's runs
that have it). Three things keep a box honest (Bryant & Lempert 2010):

* **a hold-out half**: the design points are split in two at random (every run of a point on
  the same side); the box is found on one half and its coverage and density are reported on
  the other, which it has never seen;
* **few restricted dimensions**: only boxes restricting at most ``max_dims`` parameters are
  candidates; of those whose density reaches ``threshold`` the one of highest coverage;
* **quasi-p values**: for each restriction, the chance of a density at least the box's if the
  restriction were dropped — a one-sided binomial test of the box's k cases among its n runs at
  the density of the box without that restriction. Restrictions whose quasi-p exceeds
  ``alpha`` are dropped, the weakest first, and the box re-evaluated.

Feature scores (extra trees, EMA Workbench's ``get_ex_feature_scores``) rank every factor by
how much it tells runs with the outcome from those without, box or no box.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Discovery", "discover", "in_box", "box_stats", "quasi_p"]


@dataclass
class Discovery:
    """What ``discover`` found: the chosen box, its fit on both halves, the trajectory."""

    box: pd.DataFrame                        # parameter, low, high, quasi_p (restricted only)
    train: dict[str, float]                  # coverage, density, mass, n, cases
    test: dict[str, float]
    trajectory: pd.DataFrame                 # per peeling step, on both halves
    chosen: int                              # the trajectory step chosen (before pruning)
    scores: pd.DataFrame                     # parameter, score (extra trees), by score
    dropped: list[str] = field(default_factory=list)  # restrictions pruned by quasi-p
    dense_enough: bool = True                # a candidate box reached the density threshold
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        box = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in r.items()} for r in self.box.to_dict("records")]
        return {"box": box, "train": self.train, "test": self.test,
                "chosen_step": self.chosen, "dropped_by_quasi_p": self.dropped,
                "dense_enough": self.dense_enough,
                "scores": self.scores.to_dict("records"), **self.settings}


def in_box(x: pd.DataFrame, box: pd.DataFrame) -> np.ndarray:
    """Which rows of ``x`` lie inside ``box`` (parameter, low, high; inclusive)."""
    inside = np.ones(len(x), dtype=bool)
    for r in box.itertuples():
        v = x[r.parameter].to_numpy(dtype=float)
        inside &= (v >= r.low) & (v <= r.high)
    return inside


def box_stats(x: pd.DataFrame, y: np.ndarray, box: pd.DataFrame) -> dict[str, float]:
    """Coverage, density and mass of ``box`` on the runs ``x`` with outcome ``y``."""
    inside = in_box(x, box)
    k, n, cases = int((inside & y).sum()), int(inside.sum()), int(y.sum())
    return {"coverage": k / cases if cases else np.nan, "density": k / n if n else np.nan,
            "mass": n / len(y) if len(y) else np.nan, "n": n, "cases": k}


def quasi_p(x: pd.DataFrame, y: np.ndarray, box: pd.DataFrame) -> list[float]:
    """Per restriction of ``box``: P(at least the box's cases among its runs | the density of
    the box without that restriction), a one-sided binomial test."""
    from scipy import stats

    inside = in_box(x, box)
    k, n = int((inside & y).sum()), int(inside.sum())
    out = []
    for i in range(len(box)):
        loose = in_box(x, box.drop(box.index[i]))
        p0 = (loose & y).sum() / max(int(loose.sum()), 1)
        out.append(float(stats.binom.sf(k - 1, n, p0)) if n else 1.0)
    return out


def _restricted(lim: pd.DataFrame, first: pd.DataFrame) -> pd.DataFrame:
    """The restrictions of a PRIM box against the first (the training half's ranges); a side
    left where it was is open (±inf), so the box does not cut off test runs outside them."""
    rows = []
    for c in lim.columns:
        lo, hi = float(lim[c].iloc[0]), float(lim[c].iloc[1])
        lo0, hi0 = float(first[c].iloc[0]), float(first[c].iloc[1])
        if lo > lo0 or hi < hi0:
            rows.append({"parameter": c, "low": lo if lo > lo0 else -np.inf,
                         "high": hi if hi < hi0 else np.inf})
    return pd.DataFrame(rows, columns=["parameter", "low", "high"])


def _split(groups: np.ndarray, train_share: float, seed: int) -> np.ndarray:
    """A random half of the design points (every run of a point on the same side)."""
    points = np.unique(groups)
    rng = np.random.default_rng(seed)
    take = rng.permutation(points)[: max(1, int(round(train_share * points.size)))]
    return np.isin(groups, take)


def discover(x: pd.DataFrame, y: np.ndarray, groups: np.ndarray | None = None, *,
             threshold: float = 0.8, max_dims: int = 3, train_share: float = 0.5,
             alpha: float = 0.05, seed: int = 0) -> Discovery:
    """Find the box of ``x`` (numeric factors, one row per run) where the runs with ``y`` (a
    boolean outcome) concentrate. ``groups`` (e.g. the design point of each run) keeps every
    run of a group on the same side of the training/test split."""
    from ruralgov.io.extras import require

    prim = require("ema_workbench", "scenario discovery (PRIM)", "analysis.prim")
    fs = require("ema_workbench", "feature scoring", "analysis.feature_scoring")
    x = x.astype(float).reset_index(drop=True)
    y = np.asarray(y, dtype=bool)
    groups = np.arange(len(x)) if groups is None else np.asarray(groups)
    train = _split(groups, train_share, seed)
    xt, yt, xv, yv = x[train].reset_index(drop=True), y[train], x[~train], y[~train]
    if not yt.any() or yt.all():
        raise ValueError(f"the training half has {int(yt.sum())} of {yt.size} runs with the "
                         "outcome: PRIM needs runs with and without it (choose another "
                         "threshold, or run more points)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the whole peeling trajectory: EMA returns only the first box when the last one
        # misses its threshold, so it gets none and the density threshold is applied below
        found = prim.Prim(xt, yt, threshold=0.0).find_box()
        scores = fs.get_ex_feature_scores(x, y, random_state=seed)[0]
    rows, boxes = [], []
    for i, lim in enumerate(found.box_lims):
        b = _restricted(lim, found.box_lims[0])
        boxes.append(b)
        st, sv = box_stats(xt, yt, b), box_stats(xv, yv, b)
        rows.append({"step": i, "res_dim": len(b), **st,
                     **{f"{k}_test": v for k, v in sv.items()}})
    traj = pd.DataFrame(rows)
    small = traj[traj.res_dim <= max_dims]
    dense = small[small.density >= threshold]
    dense_enough = not dense.empty
    pick = (dense.sort_values(["coverage", "res_dim"], ascending=[False, True]) if dense_enough
            else small.sort_values(["density", "coverage"], ascending=False))
    chosen = int(pick.step.iloc[0])
    box, dropped = boxes[chosen].reset_index(drop=True), []
    qp = quasi_p(xt, yt, box)
    while qp and max(qp) > alpha:  # drop the weakest restriction, then judge the rest again
        worst = int(np.argmax(qp))
        dropped.append(str(box.parameter.iloc[worst]))
        box = box.drop(box.index[worst]).reset_index(drop=True)
        qp = quasi_p(xt, yt, box)
    box["quasi_p"] = qp
    scores = (scores.iloc[:, 0].rename("score").rename_axis("parameter").reset_index()
              .sort_values("score", ascending=False, ignore_index=True))
    return Discovery(box=box.reset_index(drop=True), train=box_stats(xt, yt, box),
                     test=box_stats(xv, yv, box), trajectory=traj, chosen=chosen,
                     scores=scores, dropped=dropped, dense_enough=dense_enough,
                     settings={"threshold": threshold, "max_dims": max_dims,
                               "train_share": train_share, "alpha": alpha, "seed": seed,
                               "runs_train": int(train.sum()), "runs_test": int((~train).sum()),
                               "base_rate_train": float(yt.mean()),
                               "base_rate_test": float(yv.mean()) if yv.size else np.nan})


def figure(d: Discovery, title: str):
    """The peeling trajectory on the training half (coverage against density, coloured by the
    number of restricted dimensions) with the same boxes on the test half, the chosen box
    marked on both."""
    import matplotlib.pyplot as plt

    t = d.trajectory
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    sc = ax.scatter(t.coverage, t.density, c=t.res_dim, cmap="viridis", s=18,
                    label="training half")
    ax.plot(t.coverage_test, t.density_test, color="0.6", lw=1, label="same boxes, test half")
    ax.scatter([d.train["coverage"]], [d.train["density"]], marker="*", s=220,
               facecolor="none", edgecolor="crimson", lw=1.5, label="chosen box (training)")
    ax.scatter([d.test["coverage"]], [d.test["density"]], marker="*", s=220, color="crimson",
               label="chosen box (test)")
    ax.set(xlabel="coverage (share of the outcome's runs in the box)",
           ylabel="density (share of the box's runs with the outcome)", xlim=(0, 1.02),
           ylim=(0, 1.02), title=title)
    fig.colorbar(sc, ax=ax, label="restricted dimensions")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


#: how the outcome's runs are told from the others: a value, or a share of the runs
RULES = ("above", "below", "top", "bottom")


def outcome_cases(runs: pd.DataFrame, outcome: str, rule: str, value: float,
                  where: str = "--outcome") -> tuple[np.ndarray, str]:
    """The runs with the outcome: ``outcome`` (a column or an expression of columns in the small
    grammar of ``ruralgov.io.expression``, never evaluated as Python) above or below ``value``,
    or in the top or bottom ``value`` share of the runs; and the rule in words."""
    from ruralgov.io.expression import parse
    from ruralgov.model.schema import InputError

    if rule not in RULES:
        raise InputError(f"rule {rule!r}; allowed: {', '.join(RULES)}")
    expr = parse(outcome, runs.columns, where)
    v = np.broadcast_to(np.asarray(expr.evaluate(runs), dtype=float), len(runs))
    if rule in ("top", "bottom"):
        if not 0 < value < 1:
            raise InputError(f"--{rule} {value}; allowed: a share of the runs between 0 and 1 "
                             "(0.2: the fifth of runs with the highest or lowest outcome)")
        q = np.nanquantile(v, 1 - value if rule == "top" else value)
        cases = v > q if rule == "top" else v < q
        words = f"{outcome} in the {rule} {value:.0%} of runs ({'>' if rule == 'top' else '<'} " \
                f"{q:.4g})"
    else:
        cases = v > value if rule == "above" else v < value
        words = f"{outcome} {'>' if rule == 'above' else '<'} {value:g}"
    return np.where(np.isnan(v), False, cases), words


def discover_sweep(results, outcome: str, rule: str, value: float,
                   factors: list[str] | None = None, out=None, **settings) -> Any:
    """Scenario discovery on a finished sweep: the runs of ``results`` whose ``outcome`` meets
    the rule, over the sweep's factors. Writes a new folder (default
    ``<results>/discovery``): ``DISCOVERY.md``, ``discovery.json`` (box, fit on both halves,
    settings, provenance), ``trajectory.csv``, ``scores.csv`` and ``peeling.png``."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    from ruralgov.io.files import atomic_dir, new_dir, write_figure, write_json, write_text
    from ruralgov.io.provenance import git_revision, utc_now, versions
    from ruralgov.io.results import read_manifest, read_runs
    from ruralgov.model.schema import InputError

    results = Path(results)
    manifest = read_manifest(results)
    runs = read_runs(results)
    runs = runs[runs.status == "ok"].reset_index(drop=True) if len(runs) else runs
    if runs.empty:
        raise InputError(f"{results}: no finished runs; run the sweep first")
    sweep_factors = list(manifest["definition"]["factors"])
    factors = list(factors or sweep_factors)
    bad = [f for f in factors if f not in runs.columns]
    if bad:
        raise InputError(f"--factors: {', '.join(bad)} not among the runs' columns; the sweep's "
                         f"factors are {', '.join(sweep_factors)}")
    numeric = [f for f in factors if pd.api.types.is_numeric_dtype(runs[f])
               and runs[f].nunique() > 1]
    if not numeric:
        raise InputError(f"--factors: none of {', '.join(factors)} varies numerically across "
                         "the runs; PRIM needs at least one")
    cases, words = outcome_cases(runs, outcome, rule, value)
    groups = runs["point"].to_numpy() if "point" in runs else None
    try:
        d = discover(runs[numeric], cases, groups, **settings)
    except ValueError as exc:
        raise InputError(f"{results}: {words}: {exc}") from None
    folder = new_dir(Path(out) if out else results / "discovery")
    try:
        with atomic_dir(folder) as tmp:
            write_json({"outcome": words, "factors": numeric, **d.as_dict(),
                        "sweep": {"folder": str(results),
                                  "experiment": manifest["experiment"]["name"],
                                  "git": manifest.get("git"),
                                  "root_seed": manifest.get("root_seed")},
                        "created_utc": utc_now(), "versions": versions(),
                        "git": git_revision()}, tmp / "discovery.json")
            d.trajectory.to_csv(tmp / "trajectory.csv", index=False)
            d.scores.to_csv(tmp / "scores.csv", index=False)
            write_figure(figure(d, words), tmp / "peeling.png")
            write_text(report(d, words, manifest), tmp / "DISCOVERY.md")
    except BaseException:
        folder.rmdir()
        raise
    return folder


def report(d: Discovery, words: str, manifest: dict[str, Any]) -> str:
    """DISCOVERY.md: the box, its fit on the training and the test half, the scores."""
    s = d.settings
    lines = [f"# Scenario discovery: {words}", "",
             f"Sweep `{manifest['experiment']['name']}`; {s['runs_train']} runs to find the box "
             f"(base rate {s['base_rate_train']:.2f}), {s['runs_test']} held out to test it "
             f"(base rate {s['base_rate_test']:.2f}), split by design point (seed {s['seed']}). "
             f"PRIM with density threshold {s['threshold']:g}, at most {s['max_dims']} "
             f"restricted dimensions, restrictions with a quasi-p above {s['alpha']:g} "
             "dropped (`ruralgov.analysis.discover` explains each).", "",
             "![peeling trajectory](peeling.png)", ""]
    if not d.dense_enough:
        lines += [f"**No box with at most {s['max_dims']} restrictions reaches density "
                  f"{s['threshold']:g}** on the training half; shown is the densest.", ""]
    lines += ["| | coverage | density | mass | runs in the box |", "|---|---:|---:|---:|---:|"]
    for name, st in (("training half", d.train), ("test half", d.test)):
        lines.append(f"| {name} | {st['coverage']:.2f} | {st['density']:.2f} | "
                     f"{st['mass']:.2f} | {st['n']} |")
    lines += ["", "| parameter | low | high | quasi-p |", "|---|---:|---:|---:|"]
    lines += [f"| `{r.parameter}` | {_side(r.low)} | {_side(r.high)} | {r.quasi_p:.2g} |"
              for r in d.box.itertuples()] or ["| (no restriction) | | | |"]
    if d.dropped:
        lines += ["", f"Dropped for a quasi-p above {s['alpha']:g}: "
                  + ", ".join(f"`{p}`" for p in d.dropped) + "."]
    lines += ["", "Feature scores (extra trees; every factor, box or no box):", "",
              "| parameter | score |", "|---|---:|"]
    lines += [f"| `{r.parameter}` | {r.score:.3f} |" for r in d.scores.itertuples()]
    return "\n".join(lines) + "\n"


def _side(v: float) -> str:
    return f"{v:.4g}" if np.isfinite(v) else "—"
