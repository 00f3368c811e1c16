"""Finding scenarios, experiments and validations by name (ruralgov.io.finder): from any working
directory, the working directory's own files first; the source checkout is recognised by its
pyproject.toml, not guessed from the depth of a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ruralgov.io import finder
from ruralgov.io.finder import CHECKOUT, checkout_of, data_dirs, find_named, named_files
from ruralgov.io.scenario import load_scenario, parse_overrides
from ruralgov.model.schema import InputError
from ruralgov.study.experiment import find_experiment, load_experiment
from ruralgov.study.reproduce import paper_experiments
from ruralgov.study.validation import load_validation, validation_files

ROOT = Path(__file__).resolve().parents[1]


def test_the_checkout_is_this_repository():
    assert CHECKOUT == ROOT


@pytest.mark.parametrize("name, found", [
    ("ruralgov", True), ("someone-else", False), (None, False)])
def test_a_checkout_is_recognised_by_its_pyproject(tmp_path, name, found):
    package = tmp_path / "src" / "ruralgov"
    package.mkdir(parents=True)
    if name is not None:
        (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n')
    assert checkout_of(package) == (tmp_path if found else None)


def test_a_package_outside_a_src_folder_is_no_checkout(tmp_path):
    package = tmp_path / "site-packages" / "ruralgov"
    package.mkdir(parents=True)
    (tmp_path / "site-packages" / "pyproject.toml").write_text('[project]\nname = "ruralgov"\n')
    assert checkout_of(package) is None


def test_names_are_found_from_another_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_named("baseline", "scenario") == ROOT / "scenarios" / "baseline.yaml"
    assert load_scenario("baseline").path == ROOT / "scenarios" / "baseline.yaml"
    assert find_experiment("smoke") == ROOT / "experiments" / "smoke.yaml"
    assert load_experiment("paper/h12_responsiveness").path == (
        ROOT / "experiments" / "paper" / "h12_responsiveness.yaml")
    assert load_validation("epstein").path == ROOT / "experiments" / "validation" / "epstein.yaml"
    assert [f.parent for f in paper_experiments()] == [ROOT / "experiments" / "paper"] * len(
        paper_experiments())
    assert {f.stem for f in validation_files()} >= {"epstein", "granovetter"}


def test_the_working_directory_comes_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    mine = tmp_path / "scenarios" / "baseline.yaml"
    mine.write_text("title: My baseline\nstory: Mine.\n")
    assert data_dirs("scenario")[0].resolve() == (tmp_path / "scenarios").resolve()
    assert find_named("baseline", "scenario").resolve() == mine.resolve()
    assert load_scenario("baseline").title == "My baseline"
    names = named_files("scenario")
    assert names["baseline"].resolve() == mine.resolve()  # first folder wins
    assert "fragmented" in names  # the checkout's others are still found
    assert list(names) == sorted(names)


def test_without_a_checkout_only_the_working_directory_and_the_package_are_searched(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(finder, "CHECKOUT", None)
    assert all(ROOT / "scenarios" != d for d in data_dirs("scenario"))


def test_nested_names_and_unknown_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nested = named_files("experiment", nested=True)
    assert "paper/h12_responsiveness" in nested and "validation/epstein" in nested
    assert set(named_files("experiment", under="paper")) == {f.stem for f in paper_experiments()}
    with pytest.raises(InputError, match="no_such: no such scenario; known scenarios: .*baseline"):
        find_named("no_such", "scenario")
    with pytest.raises(InputError, match="no such experiment file"):
        find_named("nowhere/x.yaml", "experiment", nested=True)


def test_an_unknown_parameter_gets_a_did_you_mean():
    with pytest.raises(InputError, match=r"--set coordinaton: unknown parameter \(did you mean "
                                         r"coordination"):
        parse_overrides(["coordinaton=0.5"])


def _validate(*args, cwd):
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("ruralgov")
    return subprocess.run([str(exe), "validate", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_validate_says_which_file_it_read_when_a_local_one_hides_a_shipped_one(tmp_path):
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "smoke.yaml").write_bytes(
        (ROOT / "experiments" / "smoke.yaml").read_bytes())
    res = _validate("smoke", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"read instead of {ROOT / 'experiments' / 'smoke.yaml'}" in res.stdout
    assert "hides" in res.stderr  # every command that finds it by name says so too


@pytest.mark.parametrize("name, kind", [
    ("calibration/targets", "calibration targets"), ("robustness/uncertainty", "robustness spec"),
    ("validation/granovetter", "validation of a classic model"), ("smoke", "experiment"),
    ("search/quiet_county", "search"),
    ("baseline", "Baseline county")])
def test_validate_recognises_every_file_kind(tmp_path, name, kind):
    res = _validate(name, cwd=tmp_path)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert f"ok ({kind}" in res.stdout


def test_validate_runs_no_reporter_module(tmp_path):
    import yaml

    (tmp_path / "sideeffect.py").write_text(
        "from pathlib import Path\nPath('imported').touch()\ndef r(model):\n    return 1.0\n")
    doc = yaml.safe_load((ROOT / "experiments" / "smoke.yaml").read_text(encoding="utf-8"))
    doc["reporters"] = {"one": "sideeffect:r"}
    f = tmp_path / "exp.yaml"
    f.write_text(yaml.safe_dump(doc), encoding="utf-8")
    import os

    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("ruralgov")
    res = subprocess.run([str(exe), "validate", str(f)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "imported").exists()
    doc["reporters"] = {"one": "nosuchmodule_xyz:r"}
    f.write_text(yaml.safe_dump(doc), encoding="utf-8")
    res = subprocess.run([str(exe), "validate", str(f)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=env)
    assert res.returncode == 2 and "no module 'nosuchmodule_xyz'" in res.stderr
