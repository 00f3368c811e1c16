"""Analyse a sweep: tables of means with confidence intervals, main effects and interactions,
Sobol' and Morris sensitivity indices (SALib), figures and a Markdown summary.

``analyze(results_dir)`` reads the sweep's ``manifest.json`` and runs table
([`ruralgov.io.results`][ruralgov.io.results]) and writes into a new folder
``<results>/analysis`` (``analysis-2``, ... if one exists: never overwritten), which appears
complete or not at all:

* ``point_means.csv`` — per design point and measure: mean, standard deviation, n and the 95 %
  confidence interval of the mean over replications (Student t);
* factorial designs: ``main_effects.csv`` and ``main_effects.png``; ``interaction_*.png``
  heatmaps for each pair of factors;
* Sobol' designs: ``sobol.csv`` (S1, ST with confidence intervals) and ``sobol_<measure>.png``;
* Morris designs: ``morris.csv`` (mu*, sigma, mu* confidence) and ``morris_<measure>.png``;
* Latin hypercube designs: ``correlations.csv`` (Spearman rank correlations);
* every design, if the optional ``ema-workbench`` is installed (``ruralgov[analysis]``):
  ``prim.csv`` — scenario discovery with PRIM: the boxes of parameter space where conflict is
  high (protesters in the top fifth of runs) or compliance low (bottom fifth);
* ``SUMMARY.md`` — what was analysed and the main numbers.

Analysis is downstream of the model and the sweep: nothing here runs a model.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralgov.io.files import atomic_dir, new_dir, write_text
from ruralgov.io.results import read_manifest, read_runs
from ruralgov.model.schema import InputError

__all__ = ["analyze", "DEFAULT_MEASURES", "point_means", "main_effects", "sobol_indices",
           "morris_indices"]

#: Per-run summary measures analysed unless ``measures`` says otherwise.
DEFAULT_MEASURES = ("compliance_final", "voluntary_share_final", "legitimacy_mean_final",
                    "grievance_mean_final", "petitions_new_final", "protesters_final",
                    "substitution_index_final")

_LABELS = {
    "compliance_final": "compliance (share of live rules kept)",
    "voluntary_share_final": "voluntary share of compliers",
    "legitimacy_mean_final": "mean legitimacy (0-1)",
    "grievance_mean_final": "mean grievance (0-1)",
    "petitions_new_final": "new petitions per step",
    "protesters_final": "protesters per step",
    "substitution_index_final": "disputes settled by elders (share)",
}


def _label(m: str) -> str:
    return _LABELS.get(m, m.replace("_", " "))


def _t95(n: np.ndarray) -> np.ndarray:
    from scipy import stats

    n = np.asarray(n, dtype=float)
    out = np.full(n.shape, np.nan)
    ok = n > 1
    out[ok] = stats.t.ppf(0.975, n[ok] - 1)
    return out


def point_means(runs: pd.DataFrame, factors: list[str], measures: list[str]) -> pd.DataFrame:
    """Mean, sd, n and 95 % CI of each measure over the replications of each design point."""
    ok = runs[runs.status == "ok"]
    g = ok.groupby("point")
    rows = []
    first = ok.drop_duplicates("point").set_index("point")[factors]
    for m in measures:
        agg = g[m].agg(["mean", "std", "count"])
        half = _t95(agg["count"].to_numpy()) * agg["std"].to_numpy() / np.sqrt(
            np.maximum(agg["count"].to_numpy(), 1))
        df = pd.DataFrame({"point": agg.index, "measure": m, "mean": agg["mean"].to_numpy(),
                           "sd": agg["std"].to_numpy(), "n": agg["count"].to_numpy(),
                           "ci_low": agg["mean"].to_numpy() - half,
                           "ci_high": agg["mean"].to_numpy() + half})
        rows.append(df.join(first, on="point"))
    return pd.concat(rows, ignore_index=True)


def main_effects(runs: pd.DataFrame, factors: list[str], measures: list[str]) -> pd.DataFrame:
    """Mean of each measure at each level of each factor, over all other factors and
    replications, with a 95 % CI over design points (factorial designs)."""
    ok = runs[runs.status == "ok"]
    per_point = ok.groupby("point")[measures].mean().join(
        ok.drop_duplicates("point").set_index("point")[factors])
    rows = []
    for f in factors:
        for level, sub in per_point.groupby(f):
            for m in measures:
                v = sub[m].dropna().to_numpy()
                n = v.size
                sd = v.std(ddof=1) if n > 1 else float("nan")
                half = float(_t95(np.array([n]))[0] * sd / math.sqrt(n)) if n > 1 else np.nan
                rows.append({"factor": f, "level": level, "measure": m,
                             "mean": v.mean() if n else np.nan, "n_points": n,
                             "ci_low": v.mean() - half if n else np.nan,
                             "ci_high": v.mean() + half if n else np.nan})
    return pd.DataFrame(rows)


def sobol_indices(problem: dict[str, Any], y: np.ndarray, second_order: bool = False,
                  seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol' indices with 95 % confidence intervals (SALib)."""
    from SALib.analyze import sobol

    res = sobol.analyze(problem, np.asarray(y, dtype=float), calc_second_order=second_order,
                        print_to_console=False, seed=seed)
    t = pd.DataFrame({"parameter": problem["names"], "S1": res["S1"],
                      "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]})
    # an index whose 95 % half-width exceeds it is not told apart from zero (or from itself
    # doubled): more base samples or replications are needed before reading it
    t["uncertain"] = (t.S1_conf > t.S1.abs()) | (t.ST_conf > t.ST.abs())
    return t


def morris_indices(problem: dict[str, Any], x: np.ndarray, y: np.ndarray, levels: int = 4,
                   seed: int = 0) -> pd.DataFrame:
    """Morris elementary effects: mu*, mu*'s 95 % confidence, sigma (SALib)."""
    from SALib.analyze import morris

    res = morris.analyze(problem, np.asarray(x, dtype=float), np.asarray(y, dtype=float),
                         num_levels=levels, print_to_console=False, seed=seed)
    return pd.DataFrame({"parameter": problem["names"], "mu_star": res["mu_star"],
                         "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"],
                         "mu": res["mu"]})


def analyze(results: Path | str, measures: list[str] | None = None,
            out: Path | str | None = None) -> Path:
    """Analyse the sweep in ``results``; return the folder the analysis was written to."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = Path(results)
    manifest = read_manifest(results)
    factors = list(manifest["definition"]["factors"])
    runs = read_runs(results)
    if runs.empty:
        raise InputError(f"{results}: no finished runs yet; run the sweep first")
    if not (runs.status == "ok").any():
        raise InputError(f"{results}: every one of its {len(runs)} runs failed, nothing to "
                         "analyse; the runs table's error column says why (rerun with "
                         "`ruralgov sweep … --retry-failed` once fixed)")
    measures = list(measures or [m for m in DEFAULT_MEASURES if m in runs.columns])
    bad = [m for m in measures if m not in runs.columns]
    if bad:
        summary_cols = sorted(c for c in runs.columns if c.endswith(("_final", "_total",
                                                                       "_peak")))
        raise InputError(f"--measures: unknown {', '.join(bad)}; the runs table has "
                         f"{', '.join(summary_cols)}")
    folder = new_dir(Path(out) if out else results / "analysis")  # claims the name
    try:
        with atomic_dir(folder) as tmp:
            _write_analysis(plt, tmp, results, manifest, runs, factors, measures)
    except BaseException:
        folder.rmdir()  # the empty folder that claimed the name
        raise
    return folder


def _write_analysis(plt, out: Path, results: Path, manifest: dict[str, Any], runs: pd.DataFrame,
                    factors: list[str], measures: list[str]) -> None:
    definition = manifest["definition"]
    design = definition["design"]
    n_failed = int((runs.status != "ok").sum())
    expected = int(manifest.get("n_runs", len(runs)))
    lines = [f"# Analysis of `{manifest['experiment']['name']}`", "",
             f"{manifest['experiment']['title']}.", "",
             manifest["experiment"].get("description", ""), "",
             f"* design: **{design['type']}** over {', '.join(factors)}; "
             f"{manifest['n_points']} design points x {definition['replications']} "
             f"replications, {definition['steps']} steps each",
             f"* runs: {len(runs)} of {expected} finished, {n_failed} failed "
             "(failed runs are left out)",
             f"* measures: last-quarter means of the per-step series ({', '.join(measures)})",
             f"* ruralgov {manifest['ruralgov_version']}, git "
             f"{(manifest['git'].get('commit') or 'unknown')[:10]}, root seed "
             f"{manifest['root_seed']}", ""]
    pm = point_means(runs, factors, measures)
    pm.to_csv(out / "point_means.csv", index=False)
    lines += ["## Tables", "", "* `point_means.csv`: mean, sd, n and 95 % CI per design point "
              "and measure", ""]
    kind = design["type"]
    ok = runs[runs.status == "ok"]
    if kind == "factorial":
        lines += _factorial_section(plt, out, runs, ok, factors, measures)
    elif kind in ("sobol", "morris"):
        lines += _indices_section(plt, out, definition, ok, kind, factors, measures)
    elif kind in ("latin", "crossed"):
        lines += _correlation_section(out, ok, factors, measures)
    lines += _scenario_discovery(ok, factors, out)
    lines += ["## Reading the results yourself", "",
              "```python", "import pandas as pd",
              f"runs = pd.read_parquet('{results}/runs')      # one row per run",
              "```", "",
              "or with DuckDB: `SELECT * FROM read_parquet('" f"{results}/runs/*.parquet')`.", ""]
    write_text("\n".join(lines), out / "SUMMARY.md")


def _factorial_section(plt, out: Path, runs: pd.DataFrame, ok: pd.DataFrame,
                       factors: list[str], measures: list[str]) -> list[str]:
    """Main effects (table, figure) and two-way interaction heatmaps."""
    lines: list[str] = []
    me = main_effects(runs, factors, measures)
    me.to_csv(out / "main_effects.csv", index=False)
    _plot_main_effects(plt, me, factors, measures, out / "main_effects.png")
    lines += ["## Main effects", "", "![main effects](main_effects.png)", "",
              "Range of the factor-level means (largest minus smallest), by measure:", "",
              "| measure | " + " | ".join(factors) + " |",
              "|---|" + "---:|" * len(factors)]
    for m in measures:
        cells = []
        for f in factors:
            sub = me[(me.factor == f) & (me.measure == m)]
            cells.append(f"{sub['mean'].max() - sub['mean'].min():.3g}")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines.append("")
    for i, a in enumerate(factors):
        for b in factors[i + 1:]:
            name = f"interaction_{a}_x_{b}.png"
            _plot_heatmaps(plt, ok, a, b, measures, out / name)
            lines += [f"![{a} x {b}]({name})", ""]
    return lines


def _indices_section(plt, out: Path, definition: dict[str, Any], ok: pd.DataFrame, kind: str,
                     factors: list[str], measures: list[str]) -> list[str]:
    """Sobol' or Morris indices per measure (table, figure)."""
    lines: list[str] = []
    design = definition["design"]
    problem = {"num_vars": len(factors), "names": factors,
               "bounds": [definition["factors"][f]["range"] for f in factors]}
    x = pd.DataFrame(definition["points"])[factors].to_numpy(dtype=float)
    per_point = ok.groupby("point")[measures].mean().reindex(range(len(x)))
    noise = _seed_noise(ok, measures)
    tables = []
    for m in measures:
        y = per_point[m].to_numpy()
        if np.isnan(y).any():
            lines += [f"* {m}: skipped — {int(np.isnan(y).sum())} design point(s) "
                      "without a finished run", ""]
            continue
        if kind == "sobol":
            t = sobol_indices(problem, y, design.get("second_order", False))
        else:
            t = morris_indices(problem, x, y, design.get("levels", 4))
        t = t.sort_values("ST" if kind == "sobol" else "mu_star", ascending=False,
                          kind="stable").reset_index(drop=True)
        t.insert(0, "measure", m)
        tables.append(t)
        _plot_indices(plt, t, kind, m, out / f"{kind}_{m}.png")
        lines += [f"### {_label(m)}", "", f"![{m}]({kind}_{m}.png)", "",
                  _markdown(t.drop(columns="measure")), ""]
        lines += _index_warnings(t, kind, noise.get(m))
    if tables:
        pd.concat(tables).to_csv(out / f"{kind}.csv", index=False)
    return lines


def _seed_noise(ok: pd.DataFrame, measures: list[str]) -> dict[str, float]:
    """Per measure, the share of the variance of the design points' means that is seed noise:
    the mean within-point variance over the replications, divided by their number, over the
    variance of the point means (NaN without replications)."""
    reps = ok.groupby("point").size()
    if reps.min() < 2:
        return {}
    within = ok.groupby("point")[measures].var(ddof=1).mean() / reps.mean()
    between = ok.groupby("point")[measures].mean().var(ddof=1)
    return {m: float(within[m] / between[m]) if between[m] > 0 else float("nan")
            for m in measures}


def _index_warnings(t: pd.DataFrame, kind: str, noise: float | None) -> list[str]:
    """What a reader must know before reading the indices."""
    lines = []
    if kind == "sobol" and t.uncertain.any():
        lines.append(f"**Warning:** the 95 % interval is wider than the index for "
                     f"{', '.join(t.parameter[t.uncertain])}: these indices are not told apart "
                     "from zero; run more base samples (or replications) before reading them.")
    if noise is not None and np.isfinite(noise):
        lines.append(f"Seed noise is {noise:.0%} of the variance between design points (the "
                     "replications' variance over their number); "
                     + ("the indices mostly measure noise: add replications." if noise > 0.5
                        else "the indices measure the parameters."))
    elif noise is None:
        lines.append("One replication per point: the indices include seed noise, which the "
                     "design cannot separate (give replications: 2 or more).")
    return lines + ([""] if lines else [])


def _correlation_section(out: Path, ok: pd.DataFrame, factors: list[str],
                         measures: list[str]) -> list[str]:
    """Spearman rank correlations of each factor with each measure (Latin hypercube)."""
    lines: list[str] = []
    rows = []
    for f in factors:
        for m in measures:
            rho = ok[[f, m]].corr(method="spearman").iloc[0, 1]
            rows.append({"factor": f, "measure": m, "spearman_rho": rho})
    cor = pd.DataFrame(rows)
    cor.to_csv(out / "correlations.csv", index=False)
    lines += ["## Rank correlations (Spearman)", "",
              _markdown(cor.pivot(index="factor", columns="measure",
                                  values="spearman_rho").reset_index()), ""]
    return lines


def _scenario_discovery(ok: pd.DataFrame, factors: list[str], out: Path) -> list[str]:
    """Two standard questions of a design, answered by
    [`discover`][ruralgov.analysis.discover.discover] (PRIM on half of the design points,
    tested on the other half, at most three restricted factors, each with its quasi-p value):
    where do runs of high conflict and of low compliance concentrate? ``ruralgov discover``
    asks any other."""
    from ruralgov.io.extras import available, missing_message

    cases = []
    if "protesters_final" in ok:
        v = ok["protesters_final"]
        cases.append(("high conflict: protesters in the top fifth of runs",
                      (v > v.quantile(0.8)).to_numpy()))
    if "compliance_final" in ok:
        v = ok["compliance_final"]
        cases.append(("low compliance: in the bottom fifth of runs",
                      (v < v.quantile(0.2)).to_numpy()))
    numeric = [f for f in factors if ok[f].nunique() > 1
               and pd.api.types.is_numeric_dtype(ok[f])]  # (not a scenario factor)
    lines = ["## Scenario discovery (PRIM)", "",
             "Each box is found on a random half of the design points and its coverage and "
             "density are those on the other half (`ruralgov discover` for any other outcome, "
             "with the peeling trajectory).", ""]
    if not available("ema_workbench"):
        return lines + ["Skipped: " + missing_message("ema_workbench", "PRIM scenario "
                                                       "discovery") + ".", ""]
    from ruralgov.analysis.discover import discover

    rows = []
    groups = ok["point"].to_numpy() if "point" in ok else None
    for label, y in cases:
        if not y.any() or y.all() or not numeric:
            continue
        try:
            d = discover(ok[numeric], y, groups)
        except ValueError as exc:  # too few runs with (or without) the outcome in a half
            lines += [f"**{label}** — no box: {exc}.", ""]
            continue
        t = d.test
        lines += [f"**{label}** — on the held-out half: coverage {t['coverage']:.2f} (share "
                  f"of such runs inside), density {t['density']:.2f} (share of runs inside "
                  f"that are such; {d.settings['base_rate_test']:.2f} overall), mass "
                  f"{t['mass']:.2f}:", ""]
        if d.box.empty:
            lines += ["(no restriction survives its quasi-p test)", ""]
            rows.append({"case": label, "parameter": None, "low": np.nan, "high": np.nan,
                         "quasi_p": np.nan, **{f"{k}_test": v for k, v in t.items()}})
        for r in d.box.itertuples():
            lines.append(f"* {r.parameter} in [{r.low:.3g}, {r.high:.3g}] "
                         f"(quasi-p {r.quasi_p:.2g})")
            rows.append({"case": label, "parameter": r.parameter, "low": r.low,
                         "high": r.high, "quasi_p": r.quasi_p,
                         **{f"{k}_test": v for k, v in t.items()}})
        lines.append("")
    if rows:
        pd.DataFrame(rows).to_csv(out / "prim.csv", index=False)
    return lines


def _markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        out.append("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v)
                                     for v in row) + " |")
    return "\n".join(out)


def _plot_main_effects(plt, me, factors, measures, path):
    fig, axes = plt.subplots(len(measures), len(factors),
                             figsize=(3.2 * len(factors), 2.4 * len(measures)), squeeze=False)
    for i, m in enumerate(measures):
        for j, f in enumerate(factors):
            ax = axes[i][j]
            sub = me[(me.factor == f) & (me.measure == m)].sort_values("level")
            try:
                lv, names = sub["level"].astype(float), None
            except (TypeError, ValueError):  # named levels (a scenario factor): in a row
                lv, names = np.arange(len(sub), dtype=float), sub["level"].astype(str).tolist()
            ax.plot(lv, sub["mean"], marker="o", color="tab:blue")
            ax.fill_between(lv, sub["ci_low"], sub["ci_high"], alpha=0.25, color="tab:blue")
            if names:
                ax.set_xticks(lv, names, rotation=30, ha="right", fontsize=7)
            if i == len(measures) - 1:
                ax.set_xlabel(f)
            if j == 0:
                ax.set_ylabel(_label(m), fontsize=8)
    fig.suptitle("Main effects (mean over the other factors; band: 95 % CI over points)")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _tick(v) -> str:
    return f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v)


def _plot_heatmaps(plt, ok, a, b, measures, path):
    fig, axes = plt.subplots(1, len(measures), figsize=(3.3 * len(measures), 3.0),
                             squeeze=False)
    for ax, m in zip(axes[0], measures):
        table = ok.groupby([a, b])[m].mean().unstack(b)
        im = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto",
                       cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [_tick(v) for v in table.columns], fontsize=7)
        ax.set_yticks(range(table.shape[0]), [_tick(v) for v in table.index], fontsize=7)
        ax.set_xlabel(b)
        ax.set_ylabel(a)
        ax.set_title(_label(m), fontsize=8)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(f"Interaction of {a} and {b} (mean over runs)")
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_indices(plt, t, kind, measure, path):
    """Horizontal bars, the most influential parameter on top, one label per row (labels
    never overlap however many parameters)."""
    y = np.arange(len(t))[::-1]
    height = max(2.6, 0.32 * len(t) + 1.2)
    if kind == "sobol":
        fig, ax = plt.subplots(figsize=(6.4, height))
        ax.barh(y + 0.2, t.S1, 0.4, xerr=t.S1_conf, label="first order S1", capsize=2)
        ax.barh(y - 0.2, t.ST, 0.4, xerr=t.ST_conf, label="total ST", capsize=2)
        ax.set_xlabel("Sobol' index (share of variance)")
        ax.legend(fontsize=8, loc="lower right")
        axes = [ax]
    else:
        fig, axes = plt.subplots(1, 2, figsize=(8.0, height), sharey=True)
        axes[0].barh(y, t.mu_star, xerr=t.mu_star_conf, color="#4393c3", capsize=2)
        axes[0].set_xlabel("mu* (mean absolute elementary effect)")
        axes[1].barh(y, t.sigma, color="#d6604d")
        axes[1].set_xlabel("sigma (non-linearity / interactions)")
    axes[0].set_yticks(y, t.parameter, fontsize=8)
    axes[0].set_title(_label(measure), fontsize=9, loc="left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
