"""Pages of the documentation site that are generated, not written (run by mkdocs-gen-files at
every build, so they cannot drift from what they describe):

* ``gallery.md`` — one section per scenario file: title, story, the settings it changes (with
  the registry's default and meaning) and the figure of one run of it;
* ``reference/`` — the API reference, one page per public module, read from the docstrings by
  mkdocstrings;
* ``paper/`` — the published reproduction of the paper (``results/paper/REPORT.md``, its
  discussion and figures), the robustness and posterior studies and the calibration;
* ``changelog.md`` and ``citation.md`` from ``CHANGELOG.md`` and ``CITATION.cff``.
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mkdocs_gen_files  # noqa: E402

from ruralgov.analysis.plotting import plot_series  # noqa: E402
from ruralgov.io.scenario import load_scenario  # noqa: E402
from ruralgov.model.params import REGISTRY  # noqa: E402
from ruralgov.study.runner import run_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: every scenario in the gallery is run with this seed (the figure is one run, not an average)
GALLERY_SEED = 1

#: the order of the gallery: the baseline first, then pairs a trainer would contrast
GALLERY_ORDER = ["baseline", "fragmented", "integrated", "suspended_township", "responsive",
                 "lineage_stronghold", "rigid_topdown", "flexible_discretion",
                 "demolition_campaign"]

#: the package's layers, lowest first (ruralgov/__init__.py), with their titles in the reference
LAYERS = {"model": "The model", "io": "Files", "analysis": "Analysis and reporting",
          "study": "Experiments, runs and sweeps", "app": "Command line and dashboard"}


def _title(doc: str) -> str:
    """A short title from a docstring's first line: up to the first bracket, colon, dash or
    full stop, links and literals plain."""
    line = re.sub(r"\[`([^`]+)`\]\[[^\]]+\]", r"\1", doc.split("\n")[0])
    line = re.split(r" \(|: | — |\. |\.$", line.replace("``", ""))[0].strip()
    return line[:1].upper() + line[1:]


def api_modules() -> list[tuple[str, str]]:
    """Every public module of the package (none starting with ``_``), layer by layer, with the
    first line of its docstring as title: a new module gets its page without being listed."""
    src = ROOT / "src" / "ruralgov"
    found = []
    for path in src.rglob("*.py"):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or any(p.startswith("_") for p in parts):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        found.append((parts, "ruralgov." + ".".join(parts), _title(doc) or parts[-1]))
    order = list(LAYERS)
    found.sort(key=lambda f: (order.index(f[0][0]) if f[0][0] in order else len(order),
                              len(f[0]) > 1, f[0]))
    return [(module, title) for _, module, title in found]


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
        if s.watch:
            out += ["", "What to watch (each claim checked over 10 seeds: "
                    "[do the stories hold?](stories.md)):", ""]
            out += [f"* {w.describe()}" for w in s.watch]
        out += ["", "In this run: final compliance "
                f"{sm['compliance_final']:.2f}, mean legitimacy {sm['legitimacy_mean_final']:.2f}, "
                f"{int(sm['petitions_new_total'])} petitions, {int(sm['protest_events_total'])} "
                "protest events.", "", f"![{s.title}](gallery/{s.name}.png)"]
    with mkdocs_gen_files.open("gallery.md", "w") as f:
        f.write("\n".join(out) + "\n")


def reference() -> None:
    summary = []
    for module, title in api_modules():
        path = module.removeprefix("ruralgov.").replace(".", "/")
        is_package = (ROOT / "src" / "ruralgov" / path / "__init__.py").is_file()
        page = f"{path}/index.md" if is_package else f"{path}.md"
        with mkdocs_gen_files.open(f"reference/{page}", "w") as f:
            f.write(f"# {title}: `{module}`\n\n::: {module}\n")
        depth = module.count(".") - 1 - (0 if is_package else 0)
        summary.append("    " * depth + f"* [{title}]({page})")
    with mkdocs_gen_files.open("reference/index.md", "w") as f:
        f.write("# API reference\n\nGenerated from the docstrings. Start with "
                "[the model](model/county.md) and [the parameter registry](model/params.md); "
                "the command line (`ruralgov --help`) is a thin layer over [running a "
                "scenario](study/runner.md), [sweeps](study/sweep.md) and [reproducing the "
                "paper](study/reproduce.md).\n")
    with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as f:
        f.write("* [Overview](index.md)\n" + "\n".join(summary) + "\n")


#: The reports of the studies, copied into the site beside the paper's report: results folder
#: -> (page folder, reports); each folder's figures/ go with them.
STUDIES = {
    "paper": ("paper", ("REPORT.md", "DISCUSSION.md")),
    "robustness": ("paper/robustness", ("ROBUSTNESS.md",)),
    "robustness-posterior": ("paper/robustness-posterior", ("ROBUSTNESS.md",)),
    "calibration/targets": ("paper/calibration", ("CALIBRATION.md",)),
}


def paper() -> None:
    """The paper's report and discussion, the robustness and posterior studies and the
    calibration, each with its figures (a page that says so where a copy has no results)."""
    for folder, (page, names) in STUDIES.items():
        src = ROOT / "results" / folder
        for name in names:
            with mkdocs_gen_files.open(f"{page}/{name}", "w") as f:
                if (src / name).is_file():
                    f.write((src / name).read_text(encoding="utf-8"))
                else:  # e.g. built from an sdist, which has no results
                    f.write("# Not included\n\nThis copy has no "
                            f"`results/{folder}/`; the Makefile's targets produce it.\n")
        for png in sorted((src / "figures").glob("*.png")) + sorted(src.glob("sbc/*.png")):
            with mkdocs_gen_files.open(f"{page}/{png.relative_to(src).as_posix()}", "wb") as f:
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
