"""`make archive` (tools/archive.py): the model archive holds what a model library such as
CoMSES asks for, and — unpacked in a fresh folder, installed into a fresh virtual environment
from its own pinned requirements — runs its example and reproduces the expected output; a
changed expected output is caught; an existing archive is never overwritten."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import ruralgov

ROOT = Path(__file__).resolve().parents[1]
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("archive") / "ruralgov-comses.zip"
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "archive.py"), "--out", str(out)],
                         capture_output=True, text=True, timeout=900, env=ENV)
    assert res.returncode == 0, res.stderr
    return out


def test_the_makefile_builds_it_with_this_tool():
    make = (ROOT / "Makefile").read_text()
    assert "\narchive:" in make and "tools/archive.py" in make


def test_archive_has_code_odd_pinned_dependencies_example_and_expected_output(archive):
    top = f"ruralgov-{ruralgov.__version__}/"
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        for need in ("README.md", "LICENSE", "CITATION.cff", "codemeta.json", "requirements.txt",
                     "environment.json", "run_example.sh", "check_example.py",
                     "code/pyproject.toml", "code/src/ruralgov/model/county.py",
                     "code/scenarios/baseline.yaml", "docs/ODD.md",
                     "results/expected/series.csv", "results/expected/summary.csv",
                     "results/expected/manifest.json", "results/expected/figure.png"):
            assert top + need in names, need
        assert not any("/results/paper/sweeps/" in n for n in names)
        odd = z.read(top + "docs/ODD.md").decode()
        reqs = z.read(top + "requirements.txt").decode()
        meta = json.loads(z.read(top + "codemeta.json"))
        manifest = json.loads(z.read(top + "results/expected/manifest.json"))
    assert odd == (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    pins = dict(line.split("==") for line in reqs.splitlines() if line and line[0] != "#")
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for text in core:
        name = Requirement(text).name.lower().replace("_", "-")
        assert pins.get(name) == metadata.version(name), name
    assert meta["version"] == ruralgov.__version__
    assert manifest["seed"] == 1 and manifest["versions"]["ruralgov"] == ruralgov.__version__


def test_archive_runs_from_a_fresh_folder_and_reproduces_its_expected_output(archive, tmp_path):
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path)
    (folder,) = tmp_path.iterdir()
    env = {**ENV, "PYTHON": getattr(sys, "_base_executable", sys.executable)}
    res = subprocess.run(["bash", "run_example.sh"], cwd=folder, capture_output=True, text=True,
                         timeout=900, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "example reproduced" in res.stdout
    # the model that ran is the archive's own code, installed in the archive's environment
    py = folder / ".venv-example" / "bin" / "python"
    where = subprocess.run([str(py), "-c", "import ruralgov; print(ruralgov.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=ENV)
    assert str(folder / ".venv-example") in where.stdout, where.stdout
    # a different expected output is caught
    series = folder / "results" / "expected" / "series.csv"
    lines = series.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[100].split(",")
    col = header.index("compliance")
    row[col] = str(float(row[col]) + 1e-6)
    lines[100] = ",".join(row)
    series.write_text("\n".join(lines) + "\n")
    res = subprocess.run([str(py), "check_example.py"], cwd=folder, capture_output=True,
                         text=True, timeout=600, env=ENV)
    assert res.returncode == 1 and "NOT reproduced" in res.stdout and "compliance" in res.stdout


def test_an_existing_archive_is_never_overwritten(archive):
    before = archive.stat().st_mtime_ns, archive.read_bytes()
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "archive.py"), "--out",
                          str(archive)], capture_output=True, text=True, timeout=300, env=ENV)
    assert res.returncode == 2 and "never overwritten" in res.stderr
    assert (archive.stat().st_mtime_ns, archive.read_bytes()) == before
