"""Hostile input: every bad scenario, experiment or field-data file and every bad command-line
argument gets one clear line naming what is wrong, exit status 2, no traceback, nothing
written — quickly, whatever the file asks for (bounded work before allocation).

A corpus of hand-made hostile files, then property-based mutations of valid files
(hypothesis).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruralgov.io.scenario import load_scenario, load_yaml
from ruralgov.model.schema import InputError
from ruralgov.study.experiment import MAX_RUNS, load_experiment

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("ruralgov")
SMOKE = yaml.safe_load((ROOT / "experiments" / "smoke.yaml").read_text())
BASELINE = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())


def _bomb(levels: int = 9) -> str:
    """A few hundred bytes that stand for 10**levels values through nested aliases."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 10)}]")
    return "\n".join(lines) + "\n"


def _experiment(**changes) -> str:
    return yaml.safe_dump({**SMOKE, **changes})


#: name -> (file name, text, what the one line must say)
CORPUS = {
    "alias bomb": ("bomb.yaml", "title: t\nstory: s\n" + _bomb(), "expands to more than"),
    "self-referring alias": ("loop.yaml", "title: &t [*t]\nstory: s\n", "refers to itself"),
    "deep nesting": ("deep.yaml", "title: t\nstory: s\nparameters: " + "[" * 60 + "]" * 60,
                     "nested more than"),
    "duplicate key": ("dup.yaml", "title: t\nstory: s\ntitle: u\n", "given twice"),
    "huge value echoed": ("long.yaml", "title: t\nstory: s\nsteps: " + str(list(range(5000))),
                          "steps"),
    "unknown key": ("typo.yaml", "title: t\nstory: s\nparamters: {}\n", "unknown key"),
    "wrong type": ("type.yaml", "title: t\nstory: s\nparameters: {coordination: high}\n",
                   "coordination"),
    "out of range": ("range.yaml", "title: t\nstory: s\nparameters: {coordination: 7}\n",
                     "coordination"),
    "not a mapping": ("list.yaml", "- a\n- b\n", "must be a mapping"),
    "not UTF-8": ("latin1.yaml", "title: caf\xe9\nstory: s\n", "not UTF-8"),
    "missing field-data file": ("field.yaml", "title: t\nstory: s\nnetwork: {villagers: "
                                "nope.csv, edges: nope.csv}\n", "no such file"),
    "giant factorial": ("fact.yaml", _experiment(factors={
        "coordination": {"range": [0, 1], "levels": 1000},
        "enforcement": {"range": [0, 1], "levels": 1000},
        "responsiveness": {"range": [0, 1], "levels": 1000}}), "1,000,000,000 points"),
    "giant Sobol": ("sobol.yaml", _experiment(
        design={"type": "sobol", "samples": 8388608},
        factors={"coordination": {"range": [0, 1]}, "enforcement": {"range": [0, 1]}}),
        "33,554,432 points"),
    "biased Morris": ("morris.yaml", _experiment(
        design={"type": "morris", "samples": 4, "levels": 4},
        factors={"coordination": {"range": [0, 1]}, "n_departments": {"range": [1, 3]}}),
        "whole numbers"),
}


def _validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), "validate", str(path)], capture_output=True, text=True,
                          timeout=60, cwd=path.parent)


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_hostile_file_gets_one_line_exit_2_and_nothing_written(case, tmp_path):
    name, text, says = CORPUS[case]
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1") if case == "not UTF-8" else text.encode())
    before = sorted(tmp_path.rglob("*"))
    t0 = time.monotonic()
    res = _validate(path)
    elapsed = time.monotonic() - t0
    assert res.returncode == 2, (res.stdout, res.stderr)
    err = res.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert says in err and name in err, err
    assert len(err) < 700, f"the message echoes too much ({len(err)} characters)"
    assert elapsed < 20, f"{case}: {elapsed:.1f} s before refusing"
    assert sorted(tmp_path.rglob("*")) == before, "something was written"


def test_a_design_at_the_limit_is_accepted_quickly(tmp_path):
    path = tmp_path / "limit.yaml"
    path.write_text(_experiment(factors={"coordination": {"range": [0, 1], "levels": 10}},
                                replications=MAX_RUNS // 10))
    t0 = time.monotonic()
    assert load_experiment(path).n_runs == MAX_RUNS
    assert time.monotonic() - t0 < 10
    path.write_text(_experiment(factors={"coordination": {"range": [0, 1], "levels": 11}},
                                replications=MAX_RUNS // 10))
    with pytest.raises(InputError, match="1,100,000 runs, more than the 1,000,000 allowed"):
        load_experiment(path)


def test_yaml_numbers_as_people_write_them():
    assert load_yaml("a: 1e-1\nb: 2E3\nc: 1.5\nd: 7\ne: '1e-1'\n") == {
        "a": 0.1, "b": 2000.0, "c": 1.5, "d": 7, "e": "1e-1"}


@pytest.mark.parametrize(("args", "says"), [
    (["run", "baseline", "--seed", "-1"], "--seed: -1: allowed 0"),
    (["run", "baseline", "--seed", str(2**64)], "--seed"),
    (["run", "baseline", "--steps", "0"], "--steps: 0: allowed 1"),
    (["run", "baseline", "--steps", "99999999"], "--steps: 99999999: allowed 1"),
    (["run", "baseline", "--set", "coordination=high"], "coordination"),
    (["run", "no_such_scenario"], "no_such_scenario"),
    (["sweep", "smoke", "--shard", "5/4"], "--shard"),
    (["sweep", "smoke", "--wait", "soon"], "--wait"),
])
def test_hostile_arguments_get_one_line_and_exit_2(args, says, tmp_path):
    res = subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path)
    err = res.stderr.strip()
    assert res.returncode == 2, (res.stdout, err)
    assert "Traceback" not in err and says in err, err
    assert not list(tmp_path.iterdir()), "something was written"


def test_an_unusable_out_is_refused_before_the_model_runs(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    t0 = time.monotonic()
    res = subprocess.run([str(EXE), "run", "baseline", "--steps", "1000000", "--out",
                          str(blocker / "sub" / "run")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 2 and "--out" in res.stderr and "Traceback" not in res.stderr
    assert time.monotonic() - t0 < 20, "the model ran before the folder was checked"
    for out in (blocker / "sub", tmp_path / "dangling"):
        if out.name == "dangling":
            out.symlink_to(tmp_path / "nowhere")
        t0 = time.monotonic()
        res = subprocess.run([str(EXE), "sweep", "smoke", "--out", str(out), "--workers", "1"],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert "--out" in res.stderr and time.monotonic() - t0 < 20


def test_morris_on_a_whole_number_grid_is_unbiased(tmp_path):
    """A linear response has the same mu* for an integer factor as for a float one."""
    from ruralgov.analysis.sensitivity import morris_indices

    doc = _experiment(design={"type": "morris", "samples": 6, "levels": 4},
                      factors={"coordination": {"range": [0, 1]},
                               "n_departments": {"range": [1, 4]}})
    path = tmp_path / "m.yaml"
    path.write_text(doc)
    exp = load_experiment(path)
    x = exp.points[["coordination", "n_departments"]].to_numpy(dtype=float)
    assert np.array_equal(x[:, 1], np.round(x[:, 1])), "the grid is whole numbers already"
    y = 2.0 * x[:, 1]  # slope 2 over a range of 3
    t = morris_indices(exp.problem, x, y, 4).set_index("parameter")
    assert t.loc["n_departments", "mu_star"] == pytest.approx(6.0)


# ------------------------------------------------------------------ property-based
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                     st.lists(st.integers(), max_size=5))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["title", "story", "steps", "seed", "parameters", "network",
                            "coordination", "n_villagers", "extra"]), value=_SCALARS)
def test_any_mutation_of_a_scenario_is_loaded_or_refused_cleanly(key, value, tmp_path):
    doc = dict(BASELINE)
    if key in ("coordination", "n_villagers"):
        doc["parameters"] = {key: value}
    else:
        doc[key] = value
    path = tmp_path / "mutant.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    try:
        sc = load_scenario(path)
        sc.resolved()
    except InputError as err:
        message = str(err)
        assert "mutant.yaml" in message and len(message) < 2000
        assert "Traceback" not in message


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["steps", "replications", "root_seed", "design", "factors",
                              "outputs", "scenario", "parameters"]), value=_SCALARS)
def test_any_mutation_of_an_experiment_is_loaded_or_refused_cleanly(field, value, tmp_path):
    path = tmp_path / "mutant.yaml"
    path.write_text(yaml.safe_dump({**SMOKE, field: value}, allow_unicode=True))
    t0 = time.monotonic()
    try:
        load_experiment(path)
    except InputError as err:
        assert "mutant.yaml" in str(err) or "scenario" in str(err), str(err)
    assert time.monotonic() - t0 < 10


# ------------------------------------------------------------------ analyze
def _analyze(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), "analyze", str(folder)], capture_output=True, text=True,
                          timeout=120)


def test_analyze_refuses_the_wrong_folder_in_one_line_leaving_nothing(tmp_path):
    run = tmp_path / "run"
    subprocess.run([str(EXE), "run", "baseline", "--steps", "2", "--seed", "1", "--out",
                    str(run), "--quiet", "--no-figure"], check=True, capture_output=True,
                   timeout=120)
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "manifest.json").write_text("{not json")
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "manifest.json").write_text('{"experiment": {"name": "x"}}')
    for folder, says in ((run, "single run"), (garbage, "unreadable"),
                         (edited, "not a sweep manifest"), (tmp_path / "none", "not a sweep")):
        before = sorted(tmp_path.rglob("*"))
        res = _analyze(folder)
        err = res.stderr.strip()
        assert res.returncode == 2 and says in err, err
        assert "Traceback" not in err and len(err.splitlines()) == 1, err
        assert sorted(tmp_path.rglob("*")) == before


def test_analyze_of_a_sweep_where_every_run_failed_is_refused(tmp_path, monkeypatch):
    import ruralgov.study.runner as runner
    from ruralgov.analysis.sensitivity import analyze
    from ruralgov.study.sweep import run_sweep

    def broken(*a, **kw):
        raise RuntimeError("simulated")

    monkeypatch.setattr(runner, "run_scenario", broken)
    exp = tmp_path / "tiny.yaml"
    exp.write_text(_experiment(factors={"coordination": [0.0, 1.0]}, replications=1))
    run_sweep(load_experiment(exp), tmp_path / "out", workers=1, progress=False)
    with pytest.raises(InputError, match="every one of its 2 runs failed"):
        analyze(tmp_path / "out")
    assert not (tmp_path / "out" / "analysis").exists()


# ------------------------------------------------------------------ output folders
def test_sweep_into_a_run_folder_is_refused_without_touching_it(tmp_path):
    run = tmp_path / "run"
    subprocess.run([str(EXE), "run", "baseline", "--steps", "2", "--seed", "1", "--out",
                    str(run), "--quiet", "--no-figure"], check=True, capture_output=True,
                   timeout=120)
    before = sorted(run.rglob("*"))
    res = subprocess.run([str(EXE), "sweep", "smoke", "--out", str(run), "--workers", "1"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "single run" in res.stderr, res.stderr
    assert sorted(run.rglob("*")) == before


def test_result_folders_follow_the_umask(tmp_path):
    import os

    from ruralgov.study.runner import run_scenario, write_run

    old = os.umask(0o022)
    try:
        folder = write_run(run_scenario("baseline", seed=1, steps=2), tmp_path / "r",
                           figure=False)
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == 0o755


def test_a_full_disk_is_one_line_exit_1_and_the_sweep_resumes_exactly(tmp_path, monkeypatch,
                                                                       capsys):
    import errno

    import ruralgov.io.files as files
    from ruralgov.app.cli import main
    from ruralgov.io.results import read_runs

    real = files.write_parquet
    calls = {"n": 0}

    def filling(df, path):
        calls["n"] += 1
        if calls["n"] > 2:  # the disk fills after the first part (its series and runs)
            with files.atomic_path(path) as tmp:
                raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
        return real(df, path)

    exp = tmp_path / "tiny.yaml"
    exp.write_text(_experiment(replications=10))  # 120 runs: several parts
    monkeypatch.setattr("ruralgov.study.sweep.write_parquet", filling)
    code = main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1",
                 "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "no space left" in err[0], err
    done = len(read_runs(tmp_path / "o"))
    assert 0 < done < 120
    monkeypatch.setattr("ruralgov.study.sweep.write_parquet", real)
    assert main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1",
                 "--quiet"]) == 0
    ref = tmp_path / "ref"
    assert main(["sweep", str(exp), "--out", str(ref), "--workers", "1", "--quiet"]) == 0
    cols = lambda d: read_runs(d).drop(columns="wall_s").sort_values("run_id")  # noqa: E731
    import pandas as pd

    pd.testing.assert_frame_equal(cols(tmp_path / "o").reset_index(drop=True),
                                  cols(ref).reset_index(drop=True))


def test_analyze_of_a_sweep_with_a_corrupt_part_says_how_to_repair(tmp_path):
    from ruralgov.analysis.sensitivity import analyze
    from ruralgov.study.sweep import run_sweep

    exp = tmp_path / "tiny.yaml"
    exp.write_text(_experiment(factors={"coordination": [0.0, 1.0]}, replications=2))
    run_sweep(load_experiment(exp), tmp_path / "out", workers=1, progress=False)
    part = next((tmp_path / "out" / "runs").glob("part-*.parquet"))
    part.write_bytes(b"PAR1 garbage")
    with pytest.raises(InputError, match="unreadable.*run the same `ruralgov sweep` again"):
        analyze(tmp_path / "out")
    run_sweep(load_experiment(exp), tmp_path / "out", workers=1, progress=False)  # repairs
    assert analyze(tmp_path / "out").is_dir()


@pytest.mark.parametrize("argv, saved", [(["robustness"], True), (["reproduce"], True),
                                         (["calibrate", "x.yaml"], True),
                                         (["run", "baseline"], False)])
def test_an_interrupted_command_says_whether_finished_runs_are_saved(argv, saved, capsys):
    """Ctrl+C or SIGTERM in a resumable study (its sweeps keep every finished run) must not
    claim that nothing was written."""
    from ruralgov.app.cli import _dispatch, build_parser

    args = build_parser().parse_args(argv)

    def interrupted(_):
        raise KeyboardInterrupt

    args.func = interrupted
    assert _dispatch(args) == 130
    err = capsys.readouterr().err
    assert ("finished runs are saved" in err) is saved
    assert ("nothing was written" in err) is not saved
