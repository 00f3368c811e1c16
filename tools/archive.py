"""Build the model archive (``make archive``): what a model library such as the CoMSES Net
Computational Model Library asks for, in its folder layout —

    ruralgov-<version>/
      README.md            what this is, how to run the example, what it should print
      LICENSE  CITATION.cff  codemeta.json  CHANGELOG.md
      code/                the source distribution (pyproject.toml, src/, scenarios/,
                           experiments/, tests/, Makefile, README)
      docs/ODD.md          the model description (ODD protocol) as its own document
      docs/...             getting started, the guides, the tutorial
      requirements.txt     every core dependency pinned to the version the expected output
                           was made with
      environment.json     Python, platform, git revision and those versions, as data
      run_example.sh       fresh virtual environment -> install -> run the example -> compare
      check_example.py     run the example and compare it with results/expected/
      results/expected/    the example's output as made here (series, summary, figure, manifest)
      results/paper/       the published reproduction of the paper (report, figures, verdicts)

Usage: ``python tools/archive.py [--out dist/ruralgov-<version>-comses.zip]``. An existing
archive is never overwritten. Needs the ``build`` package (dev extra).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import pandas as pd
from packaging.requirements import Requirement

import ruralgov
from ruralgov.io.files import atomic_path, require_empty, write_json
from ruralgov.io.provenance import git_revision, utc_now
from ruralgov.model.schema import InputError

ROOT = Path(__file__).resolve().parents[1]

#: the runnable example: a scenario and a seed, run without detail tables
EXAMPLE = ["baseline", "--seed", "1", "--no-detail", "--csv"]


def pinned_requirements(root: str = "ruralgov") -> dict[str, str]:
    """Every package the core of ``root`` needs (the transitive closure of its requirements,
    extras left out), with the version installed here."""
    pins: dict[str, str] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            key = req.name.lower().replace("_", "-")
            if key in pins:
                continue
            try:
                pins[key] = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                raise SystemExit(f"archive: {req.name} (needed by {name}) is not installed; "
                                 "run `make dev` first") from None
            todo.append(req.name)
    return dict(sorted(pins.items()))


def _sdist(stage: Path) -> Path:
    out = stage / "_sdist"
    res = subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir", str(out),
                          str(ROOT)], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"archive: building the source distribution failed:\n{res.stderr}")
    (tar,) = out.glob("ruralgov-*.tar.gz")
    with tarfile.open(tar) as t:
        t.extractall(out, filter="data")
    (src,) = [p for p in out.iterdir() if p.is_dir()]
    return src


def _run_example(out: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "ruralgov", "run", *EXAMPLE, "--out", str(out),
                          "--quiet"], capture_output=True, text=True, cwd=out.parent)
    if res.returncode != 0:
        raise SystemExit(f"archive: the example run failed:\n{res.stderr}")
    for parquet in out.glob("*.parquet"):  # the CSV copies are the readable reference
        parquet.unlink()


def _codemeta(version: str, pins: dict[str, str], git: dict) -> dict:
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    title = re.search(r'^title: "?(.*?)"?$', cff, re.M).group(1)
    return {
        "@context": "https://w3id.org/codemeta/3.0",
        "@type": "SoftwareSourceCode",
        "name": "ruralgov",
        "description": title,
        "version": version,
        "license": "https://spdx.org/licenses/MIT",
        "programmingLanguage": {"@type": "ComputerLanguage", "name": "Python",
                                "version": platform.python_version()},
        "runtimePlatform": f"Python {platform.python_version()}",
        "operatingSystem": ["Linux"],  # the only one the example is tested on
        "softwareRequirements": [f"{k}=={v}" for k, v in pins.items()],
        "author": [{"@type": "Organization", "name": "The ruralgov developers"}],
        "keywords": ["agent-based model", "rural governance", "institutional authority",
                     "compliance", "Mesa", "ODD protocol"],
        "dateCreated": utc_now()[:10],
        "identifier": git.get("commit"),
    }


README = """# ruralgov {version} — model archive

**ruralgov** is an agent-based model of institutional authority, fragmentation and
responsiveness in rural governance (villagers, township governments and county departments
following formal and informal rules on a social network), after Li Songyu (2015). This archive
follows the layout of the CoMSES Net Computational Model Library.

| folder or file | contents |
|---|---|
| `code/` | the source: the Python package (`code/src/ruralgov`), scenarios, experiments, tests |
| `docs/ODD.md` | the model description in the ODD protocol (Grimm et al. 2020), with the ODD 2020 checklist |
| `docs/` | getting started, guides for researchers, trainers and students, the tutorial |
| `requirements.txt` | the core dependencies (not the optional extras), each pinned to the version the expected output was made with |
| `environment.json` | Python version, platform, git revision and the same versions, as data |
| `run_example.sh`, `check_example.py` | the runnable example and its check |
| `results/expected/` | the example's expected output |
| `results/paper/` | the published reproduction of the paper's hypotheses (REPORT.md) |
| `LICENSE`, `CITATION.cff`, `codemeta.json`, `CHANGELOG.md` | licence (MIT), how to cite, metadata, changes |

Made from git revision `{commit}`{dirty} on {date} with Python {python} on {platform}.

## Run the example

You need Python 3.11 (`python3.11`) and a network connection or a package mirror for `pip`.

```sh
bash run_example.sh
```

It creates a fresh virtual environment in `.venv-example/`, installs the pinned dependencies
and the model, runs the baseline county for 200 monthly steps with seed 1
(`ruralgov run {example}`), and compares the output with `results/expected/`. It should end
with

```
example reproduced: series.csv ({rows} steps x {cols} measures) and summary.csv match
results/expected/
```

and exit status 0; any difference is listed and the exit status is 1. With another Python
environment already set up, `pip install -r requirements.txt && pip install --no-deps ./code`
followed by `python check_example.py` does the same.

What the example shows: in the baseline county ({n_villagers:,} villagers in 4 townships) true
compliance settles near {compliance:.2f}, mean legitimacy near {legitimacy:.2f}, with
{petitions:,} petitions and {events} protest events over the run — see
`results/expected/figure.png`.

## Dependencies

Python {python}; {deps}.
Optional extras (not needed for the example): `dashboard` (Solara, the browser dashboard),
`cluster` (Dask, dask-jobqueue), `analysis` (EMA Workbench), `docs` (MkDocs) — see
`code/pyproject.toml`.

## Cite

See `CITATION.cff`; please also cite Li Songyu (2015), 乡村治理中的制度权威建构, *中国行政管理*
2015(3).
"""

RUN_EXAMPLE = """#!/usr/bin/env bash
# Run the archived example in a fresh virtual environment and compare it with
# results/expected/. Exit status 0 when it is reproduced.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3.11}
"$PYTHON" -m venv .venv-example
.venv-example/bin/python -m pip install --quiet --upgrade pip
.venv-example/bin/python -m pip install --quiet -r requirements.txt
.venv-example/bin/python -m pip install --quiet --no-deps ./code
.venv-example/bin/python check_example.py
"""

CHECK_EXAMPLE = '''"""Run the archived example and compare it with results/expected/ (exit status 1 if it
differs). Numbers must agree to 1e-9 relative (identical with the pinned versions on the same
kind of processor; the tolerance only absorbs last-bit differences between processors)."""

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
EXAMPLE = {example!r}


def compare(name, got, want):
    problems = []
    if list(got.columns) != list(want.columns):
        return [f"{{name}}: columns differ: {{sorted(set(got.columns) ^ set(want.columns))}}"]
    if len(got) != len(want):
        return [f"{{name}}: {{len(got)}} rows, expected {{len(want)}}"]
    for col in want.columns:
        a, b = got[col], want[col]
        if pd.api.types.is_numeric_dtype(b) and pd.api.types.is_numeric_dtype(a):
            if not np.allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-12,
                               equal_nan=True):
                worst = int(np.nanargmax(np.abs(a.to_numpy(float) - b.to_numpy(float))))
                problems.append(f"{{name}}.{{col}}: row {{worst}} is {{a.iloc[worst]}}, "
                                f"expected {{b.iloc[worst]}}")
        elif not a.astype(str).equals(b.astype(str)):
            problems.append(f"{{name}}.{{col}}: values differ")
    return problems


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "example"
        subprocess.run([sys.executable, "-m", "ruralgov", "run", *EXAMPLE, "--out", str(out),
                        "--quiet"], check=True)
        problems = []
        for name in ("series.csv", "summary.csv"):
            got = pd.read_csv(out / name)
            want = pd.read_csv(HERE / "results" / "expected" / name)
            problems += compare(name, got, want)
        series = pd.read_csv(out / "series.csv")
    if problems:
        print("example NOT reproduced:")
        print("\\n".join("  " + p for p in problems))
        return 1
    print(f"example reproduced: series.csv ({{len(series)}} steps x {{series.shape[1]}} measures) "
          "and summary.csv match results/expected/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def build_archive(out: Path) -> Path:
    version = ruralgov.__version__
    git = git_revision(ROOT)
    pins = pinned_requirements()
    name = f"ruralgov-{version}"
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / name
        stage.mkdir()
        print(f"archive: source distribution of {name} …", flush=True)
        shutil.copytree(_sdist(Path(tmp)), stage / "code")
        shutil.copytree(ROOT / "docs", stage / "docs",
                        ignore=shutil.ignore_patterns("gen_pages.py", "__pycache__"))
        for f in ("LICENSE", "CITATION.cff", "CHANGELOG.md"):
            shutil.copy2(ROOT / f, stage / f)
        paper = ROOT / "results" / "paper"
        if (paper / "REPORT.md").is_file():
            shutil.copytree(paper, stage / "results" / "paper",
                            ignore=shutil.ignore_patterns("sweeps"))
        print("archive: running the example …", flush=True)
        expected = stage / "results" / "expected"
        expected.parent.mkdir(exist_ok=True)
        _run_example(expected)
        (stage / "requirements.txt").write_text(
            f"# ruralgov {version}: the core dependencies, pinned to the versions the expected\n"
            f"# output was made with (Python {platform.python_version()})\n"
            + "".join(f"{k}=={v}\n" for k, v in pins.items()), encoding="utf-8")
        env = {"python": platform.python_version(), "platform": platform.platform(),
               "ruralgov": version, "git": git, "created_utc": utc_now(), "packages": pins,
               "example": ["ruralgov", "run", *EXAMPLE]}
        write_json(env, stage / "environment.json")
        write_json(_codemeta(version, pins, git), stage / "codemeta.json")
        (stage / "check_example.py").write_text(CHECK_EXAMPLE.format(example=EXAMPLE))
        run = stage / "run_example.sh"
        run.write_text(RUN_EXAMPLE)
        run.chmod(0o755)
        series = pd.read_csv(expected / "series.csv")
        summary = pd.read_csv(expected / "summary.csv").iloc[0]
        manifest = json.loads((expected / "manifest.json").read_text())
        (stage / "README.md").write_text(README.format(
            version=version, commit=git.get("commit") or "unknown",
            dirty=" (with uncommitted changes)" if git.get("dirty") else "",
            date=utc_now()[:10], python=platform.python_version(),
            platform=platform.platform(), example=" ".join(EXAMPLE), rows=len(series),
            cols=series.shape[1], n_villagers=manifest["parameters"]["n_villagers"],
            compliance=summary["compliance_final"], legitimacy=summary["legitimacy_mean_final"],
            petitions=int(summary["petitions_new_total"]),
            events=int(summary["protest_events_total"]),
            deps=", ".join(f"{k} {v}" for k, v in pins.items())), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        require_empty(out, "--out")  # made meanwhile by someone else?
        with atomic_path(out) as partial, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(stage.rglob("*")):
                if path.is_file():
                    z.write(path, path.relative_to(stage.parent).as_posix())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path,
                        default=ROOT / "dist" / f"ruralgov-{ruralgov.__version__}-comses.zip")
    args = parser.parse_args(argv)
    try:
        require_empty(args.out, "--out")
    except InputError as err:
        print(f"archive: {err}", file=sys.stderr)
        return 2
    out = build_archive(args.out)
    with zipfile.ZipFile(out) as z:
        n = len(z.namelist())
    print(f"archive: {out} ({out.stat().st_size / 1e6:.1f} MB, {n} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
