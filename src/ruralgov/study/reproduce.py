"""Reproduce the paper's arguments: run every hypothesis experiment (``experiments/paper``)
through the sweep layer, apply its pre-registered tests
([`ruralgov.analysis.verdicts`][ruralgov.analysis.verdicts]) and write a report with a figure,
the numbers and the verdict per hypothesis.

``reproduce(profile="quick")`` uses each file's ``quick`` profile (small county, few
replications: minutes on two cores, what CI runs); ``profile="full"`` the files as written
(the one to publish). Sweeps are resumable, so an interrupted reproduction continues where it
stopped. The output folder must be empty or hold an earlier reproduction
([`REPRODUCTION_FILES`][ruralgov.study.reproduce.REPRODUCTION_FILES]), whose files are renewed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ruralgov.analysis.verdicts import evaluate_all, overall
from ruralgov.io.files import (
    RESULTS,
    atomic_path,
    require_empty,
    write_json,
    write_parquet,
    write_text,
)
from ruralgov.io.finder import named_files
from ruralgov.io.provenance import git_revision, utc_now, versions
from ruralgov.io.results import read_runs
from ruralgov.model.schema import InputError
from ruralgov.study import validation as _validation
from ruralgov.study.experiment import Experiment, load_experiment
from ruralgov.study.sweep import run_sweep
from ruralgov.study.validation import Validation, load_validation, run_validation, validation_files

__all__ = ["reproduce", "paper_experiments", "REPRODUCTION_FILES"]

REPRODUCTION_FILES = ("REPORT.md", "DISCUSSION.md", "verdicts.json", "sweeps", "data", "figures",
                      "validation")
"""What a reproduction folder holds: another reproduction into it renews these (resuming its
sweeps); a folder holding anything else is refused. DISCUSSION.md is the developers' text
beside a published report, kept as it is."""


def paper_experiments() -> list[Path]:
    """The hypothesis experiment files (``experiments/paper/*.yaml``), in order of hypothesis
    id, found as [`named_files`][ruralgov.io.finder.named_files] says (first folder wins)."""
    return list(named_files("experiment", under="paper").values())


#: The robustness check of the update scheme: each experiment again, with villagers deciding
#: in random-sequential order (graph colouring) instead of synchronously.
UPDATE_CHECK = ("random-sequential", {"random_sequential": True})


def reproduce(profile: str = "quick", only: list[str] | None = None,
              out: Path | str | None = None, workers: int | None = None,
              progress: bool = True, update_check: bool = True) -> Path:
    """Run and judge the hypotheses; return the report's path.

    With ``update_check`` every experiment is run a second time with random-sequential
    updating, judged by the same tests, and the report says whether any verdict depends on
    the update scheme."""
    if profile not in ("quick", "full"):
        raise InputError(f"--profile {profile!r}: choose quick or full")
    out = Path(out) if out else RESULTS / ("paper" if profile == "full" else "paper-quick")
    exps: list[Experiment] = []
    for f in paper_experiments():
        exp = load_experiment(f, profile=None if profile == "full" else profile)
        if exp.hypothesis is None:
            raise InputError(f"{f}: an experiment under experiments/paper needs a hypothesis")
        exps.append(exp)
    if only:
        wanted = {x.strip().upper() for x in only}
        known = {e.hypothesis.id.upper() for e in exps}
        classic_names = {f.stem.upper() for f in validation_files()}
        bad = wanted - known - classic_names
        if bad:
            raise InputError(f"--only {','.join(sorted(bad))}: unknown; the hypotheses are "
                             f"{', '.join(e.hypothesis.id for e in exps)} and the classic "
                             f"models {', '.join(f.stem for f in validation_files())}")
        exps = [e for e in exps if e.hypothesis.id.upper() in wanted]
    validations = validation_files()
    if only:
        names = {x.strip().lower() for x in only}
        validations = [f for f in validations if f.stem.lower() in names]
    require_empty(out, "--out", allow=REPRODUCTION_FILES)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    sections, table = [], []
    for exp in exps:
        h = exp.hypothesis
        folder = out / "sweeps" / exp.name
        run_sweep(exp, folder, workers=workers, progress=progress)
        runs = read_runs(folder)
        _tidy(runs, out / "data" / f"{exp.name}.parquet")
        verdicts = evaluate_all(runs, h, seed=exp.root_seed % (2**32))
        verdict = overall(verdicts)
        fig = _figure(runs, exp, out / "figures" / f"{h.id}.png")
        row = {"id": h.id, "claim": h.claim, "verdict": verdict,
               "file": exp.path.name if exp.path else exp.name,
               "definition_sha256": exp.definition_hash(), "root_seed": exp.root_seed,
               "tests": [v.as_dict() for v in verdicts], "experiment": exp.name,
               "runs": int((runs.status == "ok").sum())}
        if update_check:
            suffix, params = UPDATE_CHECK
            alt = exp.variant(suffix, **params)
            run_sweep(alt, out / "sweeps" / alt.name, workers=workers, progress=progress)
            alt_runs = read_runs(out / "sweeps" / alt.name)
            _tidy(alt_runs, out / "data" / f"{alt.name}.parquet")
            alt_verdicts = evaluate_all(alt_runs, h, seed=exp.root_seed % (2**32))
            row["update_check"] = {
                "scheme": suffix, "experiment": alt.name, "verdict": overall(alt_verdicts),
                "tests": [v.as_dict() for v in alt_verdicts],
                "runs": int((alt_runs.status == "ok").sum())}
        table.append(row)
        sections.append(_section(exp, verdicts, verdict, fig.relative_to(out)))
    checked = []
    for f in validations:
        v = run_validation(load_validation(f, profile=None if profile == "full" else profile))
        (out / "validation").mkdir(exist_ok=True)
        _validation.write_json(v, out / "validation" / f"{v.name}.json")
        fig = _validation_figure(v, out / "figures" / f"{v.name}.png")
        checked.append({"name": v.name, "title": v.title, "seeds": v.seeds,
                        "reproduced": sum(r["reproduced"] for r in v.results),
                        "checks": len(v.results)})
        sections.append(_validation_section(v, fig.relative_to(out)))
    manifest = {"created_utc": utc_now(), "profile": profile, "versions": versions(),
                "git": git_revision(), "hypotheses": table, "classic_models": checked}
    write_json(manifest, out / "verdicts.json")
    return write_text(_report(profile, table, sections, manifest,
                              discussion=(out / "DISCUSSION.md").is_file()), out / "REPORT.md")


def _tidy(runs: pd.DataFrame, path: Path) -> None:
    """One table of every run of an experiment (factors, seed, summaries), for readers who
    want to re-analyse without re-running; rewritten from the sweep's parts each time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_parquet(runs.sort_values("run_id"), path)


def _figure(runs: pd.DataFrame, exp: Experiment, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tests = exp.hypothesis.tests
    fig, axes = plt.subplots(1, len(tests), figsize=(4.2 * len(tests), 3.4), squeeze=False)
    ok = runs[runs.status == "ok"]
    for ax, t in zip(axes[0], tests):
        x = t.factor or (t.factors[0] if t.factors else next(iter(exp.factors)))
        hue = t.factors[1] if t.factors else None
        groups = [(None, ok)] if hue is None else list(ok.groupby(hue))
        for level, g in groups:
            stats = g.groupby(x)[t.measure].agg(["mean", "std", "count"])
            half = 1.96 * stats["std"] / np.sqrt(stats["count"].clip(lower=1))
            label = None if level is None else f"{hue} = {level:g}"
            ax.errorbar(stats.index, stats["mean"], yerr=half, marker="o", capsize=3,
                        label=label)
        ax.set_xlabel(x)
        ax.set_ylabel(t.measure.replace("_", " "))
        ax.set_title(t.name or t.kind, fontsize=9)
        if hue:
            ax.legend(fontsize=7)
    fig.suptitle(f"{exp.hypothesis.id}: mean ± 95 % CI over replications", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def _validation_figure(v: Validation, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ruralgov.model import classic

    random = [r for r in v.results if r["samples"] is not None]
    fig, axes = plt.subplots(1, len(random) + 1, figsize=(4.0 * (len(random) + 1), 3.3),
                             squeeze=False)
    ax = axes[0][0]
    if v.model == "granovetter":
        sds = np.linspace(2, 25, 200)
        ax.plot(sds, [classic.granovetter_expected_equilibrium(25, s) for s in sds])
        ax.axvline(12.2, color="grey", ls="--", label="published critical sd 12.2")
        ax.set_xlabel("sd of thresholds (mean 25, N = 100)")
        ax.set_ylabel("equilibrium rioters")
        ax.legend(fontsize=7)
    else:
        a = classic.EpsteinCivilViolence(seed=v.root_seed).run(150)
        ax.plot(np.arange(1, a.size + 1), a, lw=1)
        ax.set_xlabel("step")
        ax.set_ylabel("active agents")
        ax.set_title(f"fixed legitimacy, seed {v.root_seed}", fontsize=9)
    for ax, r in zip(axes[0][1:], random):
        ax.hist(r["samples"], bins=20)
        ax.set_title(r["name"][:55] + ("…" if len(r["name"]) > 55 else ""), fontsize=7)
        ax.set_xlabel({"granovetter_full_riots": "full riot (1) or not (0)",
                       "epstein_punctuated": "peak active agents",
                       "epstein_cops": "mean active, few cops",
                       "epstein_sudden": "peak ratio sudden / gradual"}.get(r["statistic"],
                                                                            "value"))
        ax.set_ylabel(f"seeds (of {r['seeds']})")
    fig.suptitle(v.title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def _validation_section(v: Validation, fig: Path) -> str:
    n_ok = sum(r["reproduced"] for r in v.results)
    lines = [f"## Classic model: {v.title}", "", f"Reference: {v.paper}", "",
             f"**{n_ok} of {len(v.results)} published results reproduced.** "
             f"`experiments/validation/{v.path.name}` — {v.description}", "",
             f"![{v.name}]({fig.as_posix()})", "",
             "| published result | statistic | expected range | model | seeds | reproduced |",
             "|---|---|---|---:|---:|---|"]
    for r in v.results:
        lo, hi = r["expect_min"], r["expect_max"]
        rng = (f"{lo:g}" if lo == hi else f"{lo:g} – {hi:g}").replace("inf", "∞")
        lines.append(f"| {r['name']}: {r['published']} | `{r['statistic']}` | {rng} | "
                     f"{r['value']:.4g} | {r['seeds'] or '—'} | "
                     f"{'yes' if r['reproduced'] else '**no**'} |")
    if v.deviations:
        lines += ["", f"Known deviation: {v.deviations}"]
    return "\n".join(lines + [""])


def _section(exp: Experiment, verdicts, verdict: str, fig: Path) -> str:
    h = exp.hypothesis
    lines = [f"## {h.id}: {h.claim}", ""]
    if h.paper:
        lines += [f"Paper: {h.paper}", ""]
    lines += [f"**Verdict: {verdict}.**", ""]
    if h.emergent:
        lines += [f"*Emergent — what the model finds:* {h.emergent}", ""]
    if h.built_in:
        lines += [f"*Built in by construction:* {h.built_in}", ""]
    lines += [
              f"Design: `experiments/paper/{exp.path.name}` — {exp.design['type']} over "
              f"{', '.join(exp.factors)}; {len(exp.points)} design points × "
              f"{exp.replications} replications, {exp.steps} steps, "
              f"{exp.base['n_villagers']:,} villagers. {exp.description}", "",
              f"![{h.id}]({fig.as_posix()})", "",
              "| test | statistic | effect | 95 % CI | smallest effect that counts | verdict |",
              "|---|---|---:|---:|---:|---|"]
    for t, v in zip(h.tests, verdicts):
        stat = {"slope": f"slope of {t.measure} on {t.factor} × range",
                "difference": f"{t.measure}: highest minus lowest {t.factor}",
                "interaction": f"{t.measure}: difference in differences over "
                               f"{' × '.join(t.factors or [])}",
                "inverted_u": f"curvature of {t.measure} in {t.factor}",
                "mean": f"mean of {t.measure}",
                "threshold": f"{t.measure}: largest step between adjacent {t.factor} "
                             "levels, as a share of all steps",
                "contrast": f"{t.measure}: |effect of {(t.factors or ['', ''])[0]}| − "
                            f"|effect of {(t.factors or ['', ''])[1]}|"}[t.kind]
        if t.kind == "inverted_u":
            stat += (f" (vertex {v.detail['vertex']:.3g}, CI {v.detail['vertex_ci_low']:.3g}"
                     f"–{v.detail['vertex_ci_high']:.3g})")
        if t.kind == "threshold" and "jump_from" in v.detail:
            stat += f" (between {v.detail['jump_from']:g} and {v.detail['jump_to']:g})"
        pred = t.direction or ("a share above the smallest effect" if t.kind == "threshold"
                               else "negative curvature, vertex inside")
        lines.append(f"| {t.name or t.kind} (predicted {pred}) | {stat} | {v.effect:.4g} | "
                     f"{v.ci_low:.4g} – {v.ci_high:.4g} | {t.min_effect:g} | {v.verdict} |")
    return "\n".join(lines + [""])


#: The project's description of what the model tests (docs/hypotheses.md), linked from the report
#: as the documentation site serves both: the report at paper/REPORT.md, the page at the top.
_CONCEPT = "../hypotheses.md"


def _concept(section: str, anchor: str) -> str:
    """A link to a section of docs/hypotheses.md that names the file in plain text."""
    return f"[docs/hypotheses.md §{section}]({_CONCEPT}#{anchor})"


def _report(profile: str, table: list[dict], sections: list[str], manifest: dict,
            discussion: bool = False) -> str:
    git = manifest["git"]
    head = [
        "# Does the model support the paper's arguments?", "",
        "Each hypothesis of Li (2015), as listed in the project's "
        + _concept("7", "7-hypotheses-and-realism-patterns") + ", is an experiment "
        "in `experiments/paper/` with its tests and decision rules written down before it ran "
        "(`ruralgov.analysis.verdicts`: effect, 95 % bootstrap confidence interval over runs, and "
        "supported / not supported / mixed). The model was not tuned to make any claim come "
        "out supported; where a claim is not supported the numbers say so.", "",
        f"Profile: **{profile}**"
        + (" — small counties and few replications, a quick check, not the published result."
           if profile == "quick" else "."),
        f"ruralgov {manifest['versions'].get('ruralgov')}, git "
        f"{(git.get('commit') or 'unknown')[:10]}{' (dirty)' if git.get('dirty') else ''}, "
        f"{manifest['created_utc']}.", "",
        *(["**Discussion** of the verdicts that are mixed or not supported, from the "
           "mechanisms: [DISCUSSION.md](DISCUSSION.md) (written by the developers after the "
           "run; it changes no verdict).", ""] if discussion else []),
        "Data: `data/<experiment>.parquet`, one row per run (factors, seed, per-run "
        "summaries); `verdicts.json`, every number of this report.", "",
        "Regenerate: `ruralgov reproduce --profile " + profile + "` (resumable; "
        "`--only H1,R2,epstein` for some). Each section says first what the model *finds* — "
        "the part of the claim left to the interplay of mechanisms — and then what it builds "
        "in by construction.", ""]
    paper = [r for r in table if not r["id"].upper().startswith("R")]
    realism = [r for r in table if r["id"].upper().startswith("R")]
    for title, rows in (("The paper's hypotheses ("
                         + _concept("7", "7-hypotheses-and-realism-patterns") + ")", paper),
                        ("Realism patterns from outside the paper (pattern-oriented "
                         "modelling)", realism)):
        if not rows:
            continue
        counts = {k: sum(r["verdict"] == k for r in rows)
                  for k in ("supported", "mixed", "not supported")}
        head += [f"### {title}", "",
                 f"{counts['supported']} supported, {counts['mixed']} mixed, "
                 f"{counts['not supported']} not supported.", "",
                 "| id | claim | verdict | runs |", "|---|---|---|---:|"]
        for r in rows:
            alt = r.get("update_check", {}).get("verdict")
            flag = "" if alt in (None, r["verdict"]) else f" (random-sequential: {alt})"
            head.append(f"| [{r['id']}](#{_anchor(r)}) | {r['claim']} | {r['verdict']}{flag} "
                        f"| {r['runs']} |")
        head.append("")
    if manifest.get("classic_models"):
        head += ["### Classic models the protest submodel stands on ("
                 + _concept("9", "9-classic-models") + ")", "",
                 "| model | published results reproduced | seeds |", "|---|---|---:|"]
        for c in manifest["classic_models"]:
            head.append(f"| {c['title']} | {c['reproduced']} of {c['checks']} | {c['seeds']} |")
        head.append("")
    return "\n".join(head + sections + _update_check(table) + _manifest(table, manifest))


def _manifest(table: list[dict], manifest: dict) -> list[str]:
    git = manifest["git"]
    lines = ["## Manifest", "",
             f"Created {manifest['created_utc']} from git "
             f"{git.get('commit') or 'unknown'}"
             f"{' (uncommitted changes)' if git.get('dirty') else ''}"
             f", profile {manifest['profile']}. Versions: "
             + ", ".join(f"{k} {v}" for k, v in manifest["versions"].items()) + ".", "",
             "| id | experiment file | root seed | runs | definition (sha256, first 12) |",
             "|---|---|---:|---:|---|"]
    for r in table:
        runs = str(r["runs"]) + (f" + {r['update_check']['runs']} random-sequential"
                                 if "update_check" in r else "")
        lines.append(f"| {r['id']} | `experiments/paper/{r['file']}` | {r['root_seed']} | "
                     f"{runs} | `{r['definition_sha256'][:12]}` |")
    lines += ["", "Every run's seed is spawned from the root seed by design point and "
              "replicate; `sweeps/<experiment>/manifest.json` (not committed) and "
              "`data/<experiment>.parquet` hold each run's parameters and seed."]
    return lines + [""]


def _anchor(row: dict) -> str:
    """The GitHub-style anchor of a hypothesis section's heading."""
    import re

    text = f"{row['id']}: {row['claim']}".lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _update_check(table: list[dict]) -> list[str]:
    """The robustness section: verdicts and effects under both update schemes."""
    checked = [r for r in table if "update_check" in r]
    if not checked:
        return []
    same = [r for r in checked if r["update_check"]["verdict"] == r["verdict"]]
    lines = [
        "## Robustness: does a verdict depend on the update scheme?", "",
        "By default villagers decide synchronously, all from last step's state (ODD §3). Each "
        "experiment was run again with random-sequential updating — the independent sets of a "
        "graph colouring decide one after another in a random order, each seeing the choices "
        "already made this step — with the same design, seeds and tests.", "",
        f"**{len(same)} of {len(checked)} verdicts are the same under both schemes.**", "",
        "| hypothesis | test | effect, synchronous | effect, random-sequential | verdict, "
        "synchronous | verdict, random-sequential |", "|---|---|---:|---:|---|---|"]
    for r in checked:
        alt = r["update_check"]
        for t, u in zip(r["tests"], alt["tests"]):
            lines.append(f"| {r['id']} | {t['test']} | {t['effect']:.4g} "
                         f"({t['ci_low']:.3g} – {t['ci_high']:.3g}) | {u['effect']:.4g} "
                         f"({u['ci_low']:.3g} – {u['ci_high']:.3g}) | {t['verdict']} | "
                         f"{u['verdict']} |")
    differ = [r["id"] for r in checked if r not in same]
    if differ:
        lines += ["", f"Verdicts that change with the update scheme: {', '.join(differ)}. "
                  "These claims hold (or fail) only under one reading of how villagers "
                  "learn of each other's choices; treat them as fragile."]
    return lines + [""]
