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
import pandas as pd
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
    "extra key in an intervention": ("iv.yaml", "title: t\nstory: s\ninterventions:\n"
                                     "  - {step: 5, set: {responsiveness: 0.9}, when: now}\n",
                                     "interventions.0.when: unknown key; allowed: step, "
                                     "township, set"),
    "very deep nesting": ("deeper.yaml", "title: t\nstory: s\nparameters: {a: " + "[" * 600
                          + "]" * 600 + "}\n", "nested more than"),
    "very deep block nesting": ("block.yaml", "title: t\nstory: s\nparameters:\n" + "".join(
        "  " * (i + 1) + f"k{i}:\n" for i in range(400)) + "  " * 401 + "x\n",
        "nested more than"),
    "a list as a key": ("key.yaml", "title: t\nstory: s\n? [a, b]\n: 1\n",
                        "a key must be a name or a number"),
    "a huge file": ("huge.yaml", "title: t\nstory: " + "x" * 2_100_000 + "\n",
                    "a file of this kind has at most"),
    "NUL in a field-data path": ("nul.yaml", 'title: t\nstory: s\nnetwork: {villagers: "a\\0b",'
                                 " edges: e.csv}\n", "a path with a NUL byte"),
    "a folder as field data": ("dir.yaml", "title: t\nstory: s\nnetwork: {villagers: ., "
                               "edges: .}\n", "is a folder"),
    "a level given twice": ("twice.yaml", _experiment(factors={"coordination": [0.1, 0.1]}),
                            "given twice"),
    "octal-looking number": ("octal.yaml", "title: t\nstory: s\nparameters: {n_villagers: "
                             "0400}\n", "got str '0400'"),
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
    (["run", "baseline", "--set", "coordination=" + "[" * 500 + "]" * 500], "nested more than"),
    (["robustness", "--workers", "0"], "--workers: 0: allowed 1"),
    (["reproduce", "--workers", "-3"], "--workers: -3: allowed 1"),
    (["calibrate", "--workers", "0"], "--workers: 0: allowed 1"),
    (["sweep", "smoke", "--workers", "0"], "--workers: 0: allowed 1"),
    (["robustness", "--only", ""], "--only ''"),
    (["reproduce", "--only", "H1,,H2"], "--only 'H1,,H2'"),
    (["robustness", "--posterior", "missing.parquet"], "--posterior missing.parquet: no such"),
    (["calibrate", "--profile", "quick", "--dask", "tcp://127.0.0.1:9"],
     "--dask tcp://127.0.0.1:9: no Dask scheduler answers"),
    (["sweep", "smoke", "--scheduler", "tcp://127.0.0.1:9"], "--scheduler tcp://127.0.0.1:9"),
    (["sweep", "smoke", "--scheduler", "nonsense"], "give tcp://HOST:PORT"),
    (["run", "baseline", "--set", "n_villagers=0x100"], "got str '0x100'"),
    (["run", "baseline", "--set", "n_villagers=3:20"], "got str '3:20'"),
    (["run", "baseline", "--out", "x" * 300], "a file or folder name has at most 255"),
    (["levers", "--steps", "0"], "--steps: 0: allowed 2 to 10,000"),
    (["levers", "--only", "", "--list"], "--only: give parts of lever names"),
    (["levers", "--out", "a.md", "--csv", "a.md"], "--out and --csv name the same file"),
    (["analyze", "nowhere", "--measures", ""], "--measures ''"),
    (["calibrate", str(ROOT / "scenarios" / "baseline.yaml")],
     "this is a scenario file, not a calibration targets file"),
    (["robustness", "--spec", str(ROOT / "experiments" / "smoke.yaml")],
     "this is an experiment file, not a robustness spec file"),
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


def _garble_pages(part: Path) -> None:
    """Overwrite the middle of a Parquet file's data pages, leaving its footer intact."""
    import pyarrow.parquet as pq

    raw = bytearray(part.read_bytes())
    footer = int.from_bytes(raw[-8:-4], "little")
    start, end = 4, len(raw) - 8 - footer
    for i in range(start + (end - start) // 4, start + 3 * (end - start) // 4):
        raw[i] = (raw[i] * 7 + 13) % 256
    part.write_bytes(bytes(raw))
    pq.read_metadata(part)  # the footer still reads
    with pytest.raises(Exception):  # noqa: B017 - pyarrow raises several kinds
        pq.read_table(part)


@pytest.mark.parametrize("sub", ["runs", "series"])
def test_a_part_with_garbled_pages_is_quarantined_and_rerun_and_analyze_agrees(tmp_path, sub):
    from ruralgov.analysis.sensitivity import analyze
    from ruralgov.io.results import read_runs
    from ruralgov.study.sweep import run_sweep

    exp = tmp_path / "tiny.yaml"
    exp.write_text(_experiment(factors={"coordination": [0.0, 1.0]}, replications=2))
    out = tmp_path / "out"
    run_sweep(load_experiment(exp), out, workers=1, progress=False)
    before = read_runs(out).drop(columns=["wall_s"])
    _garble_pages(next((out / sub).glob("part-*.parquet")))
    rep = run_sweep(load_experiment(exp), out, workers=1, progress=False)
    assert rep.ran == 4 and rep.failed == 0  # every run of the damaged part ran again
    assert list((out / "quarantine").rglob(f"{sub}-part-*.parquet"))
    after = read_runs(out).drop(columns=["wall_s"])
    pd.testing.assert_frame_equal(before, after)  # the same seeds give the same runs
    assert analyze(out).is_dir()
    assert run_sweep(load_experiment(exp), out, workers=1, progress=False).ran == 0


def _cli(args, cwd, timeout=120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, **kw)


def _one_line_exit_2(res, *says):
    err = res.stderr.strip()
    assert res.returncode == 2, (res.stdout, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for s in says:
        assert s in err, err


@pytest.mark.parametrize("text", ["title: t\n", "not parquet at all"])
def test_a_posterior_that_is_not_one_is_refused_before_any_folder(tmp_path, text):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    res = _cli(["robustness", "--profile", "quick", "--posterior", str(bad), "--out",
                str(tmp_path / "o")], tmp_path)
    _one_line_exit_2(res, "--posterior", "not a Parquet file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]
    post = tmp_path / "p.parquet"
    pd.DataFrame({"weight": [1.0, 1.0], "w_magic": [0.1, 0.2]}).to_parquet(post)
    res = _cli(["robustness", "--profile", "quick", "--posterior", str(post)], tmp_path)
    _one_line_exit_2(res, "column 'w_magic' is not a numeric model parameter")
    pd.DataFrame({"weight": [1.0, 1.0], "misreporting": [0.1, 7.0]}).to_parquet(post)
    res = _cli(["robustness", "--profile", "quick", "--posterior", str(post)], tmp_path)
    _one_line_exit_2(res, "column 'misreporting' has values from 0.1 to 7")
    assert not (tmp_path / "results").exists()


def _immutable(folder: Path) -> bool:
    """Make ``folder`` immutable (chattr +i); False where this machine does not allow it."""
    import shutil

    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0


@pytest.mark.parametrize("argv", [
    ["run", "baseline", "--steps", "2"], ["analyze", "SWEEP"],
    ["calibrate", "--profile", "quick"], ["robustness", "--profile", "quick"],
    ["reproduce", "--only", "H13"], ["levers", "--seeds", "3", "--csv"]])
def test_an_out_in_an_immutable_or_file_path_is_refused_before_any_work(tmp_path, argv):
    from ruralgov.study.sweep import run_sweep

    if "SWEEP" in argv:
        exp = tmp_path / "tiny.yaml"
        exp.write_text(_experiment(factors={"coordination": [0.0, 1.0]}, replications=2,
                                   steps=3))
        run_sweep(load_experiment(exp), tmp_path / "sweep", workers=1, progress=False)
        argv = [a if a != "SWEEP" else str(tmp_path / "sweep") for a in argv]
    option = "--csv" if argv[-1] == "--csv" else "--out"
    argv = argv[:-1] if option == "--csv" else argv
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    t0 = time.monotonic()
    res = _cli([*argv, option, str(blocker / "sub")], tmp_path)
    _one_line_exit_2(res, f"{option} {blocker / 'sub'}", "a file, not a folder")
    assert time.monotonic() - t0 < 30
    locked = tmp_path / "locked"
    locked.mkdir()
    if not _immutable(locked):
        pytest.skip("chattr +i is not allowed here")
    try:
        res = _cli([*argv, option, str(locked / ("x.csv" if option == "--csv" else "out"))],
                   tmp_path)
        _one_line_exit_2(res, option, "cannot write in")
        res = _cli([*argv, option, str(locked)], tmp_path)  # the folder itself, empty
        _one_line_exit_2(res, option, "is a folder; give a file name" if option == "--csv"
                         else "cannot write in")
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert not (tmp_path / "results").exists()


def test_an_intervention_the_run_never_reaches_is_refused(tmp_path):
    sc = tmp_path / "late.yaml"
    sc.write_text("title: t\nstory: s\nsteps: 60\ninterventions:\n"
                  "  - {step: 50, set: {responsiveness: 0.9}}\n")
    res = _cli(["run", str(sc), "--steps", "30"], tmp_path)
    _one_line_exit_2(res, "--steps = 30", "intervention at step 50", "allowed: 50 steps or more")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.yaml"]
    from ruralgov.study.runner import run_scenario

    with pytest.raises(InputError, match="intervention at step 50"):
        run_scenario(sc, seed=1, steps=30)
    assert run_scenario(sc, seed=1, steps=50, collect_detail=False).steps == 50


def test_a_county_too_large_for_the_memory_limit_is_refused_before_it_is_built(tmp_path):
    import resource

    limit = 3 * 2**30

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    t0 = time.monotonic()
    res = subprocess.run([str(EXE), "run", "baseline", "--set", "n_villagers=20000000"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         preexec_fn=cap)
    _one_line_exit_2(res, "--set: n_villagers = 20,000,000 needs about", "allowed here")
    assert time.monotonic() - t0 < 30 and not list(tmp_path.iterdir())
    targets = tmp_path / "t.yaml"
    doc = yaml.safe_load((ROOT / "experiments" / "calibration" / "targets.yaml").read_text())
    doc["parameters"]["n_villagers"] = 20_000_000
    targets.write_text(yaml.safe_dump(doc, allow_unicode=True))
    res = subprocess.run([str(EXE), "calibrate", str(targets)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, preexec_fn=cap)
    _one_line_exit_2(res, "t.yaml: parameters: n_villagers = 20,000,000")


def test_the_footprint_estimate_is_near_the_measured_memory():
    """The estimate is within a factor of two of what a county really takes (peak resident
    memory of a child process building and stepping it, less that of a small county's)."""
    from ruralgov.io.scenario import load_scenario
    from ruralgov.model.footprint import county_bytes

    # the peak resident memory of the child's own address space (VmHWM starts afresh at exec;
    # ru_maxrss would carry over the forking test process's peak)
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from ruralgov.study.runner import run_scenario\n"
            "n = int(sys.argv[1])\n"
            "run_scenario('baseline', seed=1, steps=2, overrides={'n_villagers': n}, "
            "collect_detail=False)\n"
            "hwm = [l for l in Path('/proc/self/status').read_text().splitlines() "
            "if l.startswith('VmHWM:')][0]\n"
            "print(int(hwm.split()[1]) * 1024)\n")
    peak = {n: int(subprocess.run([sys.executable, "-c", code, str(n)], capture_output=True,
                                  text=True, timeout=300, check=True).stdout)
            for n in (2_000, 300_000)}
    measured = peak[300_000] - peak[2_000]
    estimate = county_bytes(load_scenario("baseline").resolved({"n_villagers": 300_000})) \
        - county_bytes(load_scenario("baseline").resolved({"n_villagers": 2_000}))
    assert 0.5 < estimate / measured < 2.0, (estimate, measured)


def test_a_busy_dashboard_port_is_one_line_exit_2(tmp_path):
    import socket

    pytest.importorskip("solara")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = _cli(["dashboard", "--port", str(port)], tmp_path)
    _one_line_exit_2(res, f"--port {port}", "another program uses it")


@pytest.mark.parametrize("kind, samples", [("latin", 4000), ("sobol", 1024),
                                           ("crossed", 4000)])
def test_integer_factors_in_sampled_designs_take_every_value_equally_often(tmp_path, kind,
                                                                           samples):
    design = {"type": kind, "samples": samples}
    factors = {"n_departments": {"range": [1, 4]}, "coordination": {"range": [0.0, 1.0]}}
    if kind == "crossed":
        factors["enforcement"] = [0.1]
    path = tmp_path / "ints.yaml"
    path.write_text(_experiment(design=design, factors=factors, replications=1))
    values = load_experiment(path).points.n_departments.to_numpy()
    shares = np.bincount(values, minlength=5)[1:] / values.size
    assert values.min() == 1 and values.max() == 4
    np.testing.assert_allclose(shares, 0.25, atol=0.03)  # was 1/6, 1/3, 1/3, 1/6


def test_the_morris_hint_suggests_a_range_it_accepts(tmp_path):
    import re

    path = tmp_path / "m.yaml"
    path.write_text(_experiment(design={"type": "morris", "samples": 4, "levels": 4},
                                factors={"coordination": {"range": [0, 1]},
                                         "n_departments": {"range": [1.5, 4.5]}}))
    with pytest.raises(InputError, match="whole numbers") as err:
        load_experiment(path)
    lo, hi = map(int, re.search(r"use e\.g\. \[(\d+), (\d+)\]", str(err.value)).groups())
    assert (lo, hi) != (1.5, 4.5)
    path.write_text(_experiment(design={"type": "morris", "samples": 4, "levels": 4},
                                factors={"coordination": {"range": [0, 1]},
                                         "n_departments": {"range": [lo, hi]}}))
    assert load_experiment(path).n_runs > 0


def test_ctrl_c_in_a_serial_sweep_keeps_the_runs_of_the_task_that_finished(tmp_path,
                                                                           monkeypatch):
    """A serial sweep runs tasks of many runs in this process (60 for field data): Ctrl+C in
    the middle of one keeps the runs of that task that had finished."""
    from ruralgov.io.results import run_status
    from ruralgov.study import sweep

    exp = tmp_path / "tiny.yaml"
    exp.write_text(_experiment(factors={"coordination": [0.0, 1.0]}, replications=4,
                               steps=3))
    real, calls = sweep._run_alone, []

    def stop_at_the_fifth(spec, payload):
        calls.append(spec.run_id)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(spec, payload)

    monkeypatch.setattr(sweep, "_run_alone", stop_at_the_fifth)
    monkeypatch.setattr(sweep, "_batch_size", lambda *a: 60)  # one task, as for field data
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(load_experiment(exp), tmp_path / "out", workers=1, batch=1,
                        progress=False)
    assert len(calls) == 5
    assert sorted(run_status(tmp_path / "out")) == sorted(calls[:4])
    monkeypatch.setattr(sweep, "_run_alone", real)
    rep = sweep.run_sweep(load_experiment(exp), tmp_path / "out", workers=1, batch=1,
                          progress=False)
    assert rep.already == 4 and rep.ran == 4


def test_a_link_to_an_empty_folder_as_out_is_filled(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    res = _cli(["run", "baseline", "--steps", "2", "--set", "n_villagers=200", "--set",
                "n_townships=1", "--set", "villages_per_township=2", "--out",
                str(tmp_path / "link"), "--quiet", "--no-figure"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert (real / "series.parquet").is_file() and (tmp_path / "link").is_symlink()


def _scenario_with_intervention(tmp_path: Path) -> Path:
    sc = tmp_path / "late.yaml"
    sc.write_text("title: t\nstory: s\nsteps: 60\ninterventions:\n"
                  "  - {step: 50, set: {responsiveness: 0.9}}\n")
    return sc


def test_an_experiment_shorter_than_its_scenario_s_interventions_is_refused(tmp_path):
    sc = _scenario_with_intervention(tmp_path)
    exp = tmp_path / "exp.yaml"
    exp.write_text(_experiment(scenario=str(sc), steps=30))
    res = _cli(["validate", str(exp)], tmp_path)
    _one_line_exit_2(res, "steps = 30", "intervention at step 50")
    res = _cli(["sweep", str(exp), "--out", str(tmp_path / "o")], tmp_path)
    _one_line_exit_2(res, "intervention at step 50")
    assert not (tmp_path / "o").exists()
    doc = yaml.safe_load(_experiment(scenario=str(sc), steps=60))
    doc["profiles"] = {"quick": {"steps": 20}}
    exp.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match=r"steps \(profile quick\) = 20"):
        load_experiment(exp, profile="quick")


@pytest.mark.parametrize("change, says", [
    (lambda t: t.update(where={"self_interest": 0.7}), "where.self_interest: 0.7 is not a value"),
    (lambda t: None, "1 run(s) to compute it from"),
])
def test_a_hypothesis_test_without_runs_to_compute_it_is_refused_at_load(tmp_path, change,
                                                                         says):
    doc = yaml.safe_load((ROOT / "experiments" / "paper" / "r4_reported_inspected.yaml")
                         .read_text(encoding="utf-8"))
    change(doc["hypothesis"]["tests"][1])
    if "run(s)" in says:
        doc["replications"] = 1
        doc["factors"] = {k: v[:1] if isinstance(v, list) else v
                          for k, v in doc["factors"].items()}
    f = tmp_path / "r4.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True))
    res = _cli(["validate", str(f)], tmp_path)
    _one_line_exit_2(res, says)


def test_two_tests_of_one_name_and_twice_the_same_root_seed_are_refused(tmp_path):
    from ruralgov.study.robustness import load_spec

    doc = yaml.safe_load((ROOT / "experiments" / "paper" / "r4_reported_inspected.yaml")
                         .read_text(encoding="utf-8"))
    doc["hypothesis"]["tests"][1]["name"] = doc["hypothesis"]["tests"][0]["name"]
    f = tmp_path / "r4.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(InputError, match="is given to more than one test"):
        load_experiment(f)
    spec = yaml.safe_load((ROOT / "experiments" / "robustness" / "uncertainty.yaml")
                          .read_text(encoding="utf-8"))
    spec["root_seeds"] = [7, 7]
    g = tmp_path / "spec.yaml"
    g.write_text(yaml.safe_dump(spec, allow_unicode=True))
    with pytest.raises(InputError, match="each root seed once"):
        load_spec(g)


def test_the_dashboard_refuses_bad_field_data_before_serving(tmp_path):
    pytest.importorskip("solara")
    (tmp_path / "v.csv").write_text("id,township,village\nx,1\n")
    (tmp_path / "e.csv").write_text("source,target\n")
    sc = tmp_path / "field.yaml"
    sc.write_text("title: t\nstory: s\nnetwork: {villagers: v.csv, edges: e.csv}\n")
    res = _cli(["dashboard", str(sc), "--port", "18799"], tmp_path, timeout=60)
    _one_line_exit_2(res, "v.csv")


def test_an_integer_prior_takes_each_whole_number_equally_often():
    from ruralgov.study.calibrate import _prior_range, _value

    class Spec:
        priors = {"n_departments": (1, 4)}

    lo, hi = _prior_range(Spec, "n_departments")
    draws = np.random.default_rng(0).uniform(lo, hi, 40_000)
    values = np.array([_value(Spec, "n_departments", d) for d in draws])
    np.testing.assert_allclose(np.bincount(values, minlength=5)[1:] / values.size, 0.25,
                               atol=0.01)
    assert _value(Spec, "n_departments", 5.0) == 4  # a draw at the open end is capped


def test_a_sweep_whose_largest_county_does_not_fit_is_refused_before_any_run(tmp_path):
    import resource

    exp = tmp_path / "big.yaml"
    exp.write_text(_experiment(factors={"n_villagers": [400, 20_000_000]}, replications=1))
    limit = 3 * 2**30

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    res = subprocess.run([str(EXE), "sweep", str(exp), "--out", str(tmp_path / "o"),
                          "--workers", "1"], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, preexec_fn=cap)
    _one_line_exit_2(res, "big.yaml: design: n_villagers = 20,000,000 needs about")
    assert not (tmp_path / "o").exists()


def test_an_integer_range_or_prior_without_whole_numbers_is_refused(tmp_path):
    exp = tmp_path / "e.yaml"
    exp.write_text(_experiment(design={"type": "latin", "samples": 8},
                               factors={"coordination": {"range": [0, 1]},
                                        "n_departments": {"range": [2.2, 2.8]}}))
    _one_line_exit_2(_cli(["validate", str(exp)], tmp_path), "holds no whole number")
    doc = yaml.safe_load((ROOT / "experiments" / "calibration" / "targets.yaml").read_text())
    doc["priors"]["n_departments"] = [2.2, 2.8]
    t = tmp_path / "t.yaml"
    t.write_text(yaml.safe_dump(doc, allow_unicode=True))
    _one_line_exit_2(_cli(["validate", str(t)], tmp_path), "fewer than two whole numbers")


def test_a_mistyped_key_is_checked_as_the_kind_the_file_nearly_is(tmp_path):
    doc = yaml.safe_load((ROOT / "experiments" / "calibration" / "targets.yaml").read_text())
    doc["target"] = doc.pop("targets")
    t = tmp_path / "t.yaml"
    t.write_text(yaml.safe_dump(doc, allow_unicode=True))
    for cmd in (["calibrate", str(t)], ["validate", str(t)]):
        res = _cli(cmd, tmp_path)
        assert res.returncode == 2 and "Traceback" not in res.stderr
        assert "this is a scenario file" not in res.stderr and "targets" in res.stderr
