"""Pages of the documentation site that are generated, not written (run by mkdocs-gen-files at
every build, so they cannot drift from what they describe):

* ``gallery.md`` — one section per scenario file: title, story, the settings it changes (with
  the registry's default and meaning) and the figure of one run of it;
* ``reference/`` — the API reference, one page per public module, read from the docstrings by
  mkdocstrings;
* ``paper/`` — the published reproduction of the paper (``results/paper/REPORT.md``, its
  discussion and figures);
* ``changelog.md`` and ``citation.md`` from ``CHANGELOG.md`` and ``CITATION.cff``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mkdocs_gen_files  # noqa: E402

from ruralgov.model.params import REGISTRY  # noqa: E402
from ruralgov.analysis.plotting import plot_series  # noqa: E402
from ruralgov.study.runner import run_scenario  # noqa: E402
from ruralgov.io.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: every scenario in the gallery is run with this seed (the figure is one run, not an average)
GALLERY_SEED = 1

#: the order of the gallery: the baseline first, then pairs a trainer would contrast
GALLERY_ORDER = ["baseline", "fragmented", "integrated", "suspended_township", "responsive",
                 "lineage_stronghold", "rigid_topdown", "flexible_discretion",
                 "demolition_campaign"]

#: public modules with a page in the API reference, in reading order
API_MODULES = [
    ("ruralgov.model.county", "The model"),
    ("ruralgov.model.equations", "Decision rules"),
    ("ruralgov.model.agents", "Township and department agents"),
    ("ruralgov.model.network", "Population and network"),
    ("ruralgov.model.params", "Parameter registry"),
    ("ruralgov.model.measures", "Measures"),
    ("ruralgov.io.scenario", "Scenario files"),
    ("ruralgov.study.runner", "Running a scenario"),
    ("ruralgov.io.fielddata", "Field data"),
    ("ruralgov.study.experiment", "Experiment files"),
    ("ruralgov.model.sampling", "Designs and seeds"),
    ("ruralgov.study.sweep", "Sweeps"),
    ("ruralgov.analysis.sensitivity", "Analysis"),
    ("ruralgov.analysis.verdicts", "Verdicts"),
    ("ruralgov.study.reproduce", "Reproducing the paper"),
    ("ruralgov.model.classic", "Classic models"),
    ("ruralgov.study.validation", "Validation"),
    ("ruralgov.analysis.plotting", "Plotting"),
    ("ruralgov.io.provenance", "Provenance"),
    ("ruralgov.model.schema", "Input validation"),
    ("ruralgov.app.cli", "Command line"),
    ("ruralgov.app.dashboard.session", "Dashboard computations"),
    ("ruralgov.app.dashboard.labels", "Dashboard labels"),
    ("ruralgov.app.dashboard.app", "Dashboard page"),
]


def _value(v) -> str:
    return str(v).lower() if isinstance(v, bool) else f"{v}"


def gallery() -> None:
    paths = {p.stem: p for p in sorted((ROOT / "scenarios").glob("*.yaml"))}
    names = [n for n in GALLERY_ORDER if n in paths] + sorted(set(paths) - set(GALLERY_ORDER))
    scenarios = [load_scenario(paths[n]) for n in names]
    out = ["# Scenario gallery", "",
           "Every scenario shipped with ruralgov, generated from its file in `scenarios/` when "
           "this site is built. Each figure is **one run** "
           f"(seed {GALLERY_SEED}, the scenario's own length) — reproduce it with "
           f"`ruralgov run <name> --seed {GALLERY_SEED}`, and remember that another seed gives "
           "another run: compare scenarios with a sweep, not with single runs.", "",
           "| scenario | in one sentence |", "|---|---|"]
    out += [f"| [{s.title}](#{s.name.replace('_', '-')}) | {s.summary_line} |"
            for s in scenarios]
    for s in scenarios:
        result = run_scenario(s, seed=GALLERY_SEED, collect_detail=False)
        buf = io.BytesIO()
        fig = plot_series(result.series, title=s.title)
        fig.savefig(buf, format="png", dpi=80)
        plt.close(fig)
        with mkdocs_gen_files.open(f"gallery/{s.name}.png", "wb") as f:
            f.write(buf.getvalue())
        sm = result.summary
        out += ["", f"## {s.name} {{#{s.name.replace('_', '-')}}}", "", f"**{s.title}**", "",
                s.story, "", f"`ruralgov run {s.name} --seed {GALLERY_SEED}` · "
                f"{s.steps} steps · file `scenarios/{s.name}.yaml`", ""]
        if s.parameters:
            out += ["| setting | default | here | meaning |", "|---|---|---|---|"]
            for key, value in s.parameters.items():
                p = REGISTRY[key]
                out.append(f"| `{key}` | {_value(p.default)} | **{_value(value)}** | {p.doc} |")
        else:
            out.append("Every setting at its default (the registry's values).")
        out += ["", "In this run: final compliance "
                f"{sm['compliance_final']:.2f}, mean legitimacy {sm['legitimacy_mean_final']:.2f}, "
                f"{int(sm['petitions_new_total'])} petitions, {int(sm['protest_events_total'])} "
                "protest events.", "", f"![{s.title}](gallery/{s.name}.png)"]
    with mkdocs_gen_files.open("gallery.md", "w") as f:
        f.write("\n".join(out) + "\n")


def reference() -> None:
    summary = []
    for module, title in API_MODULES:
        page = f"{module.removeprefix('ruralgov.').replace('.', '/')}.md"
        with mkdocs_gen_files.open(f"reference/{page}", "w") as f:
            f.write(f"# {title}: `{module}`\n\n::: {module}\n")
        summary.append(f"* [{title}]({page})")
    with mkdocs_gen_files.open("reference/index.md", "w") as f:
        f.write("# API reference\n\nGenerated from the docstrings. Start with "
                "[the model](model.md) and [the parameter registry](params.md); the command "
                "line (`ruralgov --help`) is a thin layer over [running a scenario](runner.md), "
                "[sweeps](sweep.md) and [reproducing the paper](reproduce.md).\n")
    with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as f:
        f.write("* [Overview](index.md)\n" + "\n".join(summary) + "\n")


def paper() -> None:
    src = ROOT / "results" / "paper"
    if not (src / "REPORT.md").is_file():  # e.g. built from an sdist, which has no results
        for name in ("REPORT.md", "DISCUSSION.md"):
            with mkdocs_gen_files.open(f"paper/{name}", "w") as f:
                f.write("# Not included\n\nThis copy has no `results/paper/`; run "
                        "`make paper` to produce it.\n")
        return
    for name in ("REPORT.md", "DISCUSSION.md"):
        with mkdocs_gen_files.open(f"paper/{name}", "w") as f:
            f.write((src / name).read_text(encoding="utf-8"))
    for png in sorted((src / "figures").glob("*.png")):
        with mkdocs_gen_files.open(f"paper/figures/{png.name}", "wb") as f:
            f.write(png.read_bytes())


def project_files() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    with mkdocs_gen_files.open("changelog.md", "w") as f:
        f.write(changelog)
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    licence = re.search(r"## Licence and citation\n\n(.*?)(?=\n## |\Z)", readme, re.S)
    with mkdocs_gen_files.open("citation.md", "w") as f:
        f.write("# Citing ruralgov, and its licence\n\n"
                + (licence.group(1).strip() if licence else "") + "\n\n"
                "`CITATION.cff`, in the Citation File Format (validated against the CFF 1.2.0 "
                "schema by the tests):\n\n```yaml\n" + cff + "```\n")


gallery()
reference()
paper()
project_files()
