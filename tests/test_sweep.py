"""Sweeps: identical results on every executor, resume after kill -9, shards, failures, and
clear errors for bad experiment files (issue 4)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ruralgov.io.results import read_manifest, read_runs, read_series
from ruralgov.model.schema import InputError
from ruralgov.study.experiment import Experiment, load_experiment, run_seed
from ruralgov.study.sweep import parse_shard, run_sweep

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "experiments" / "smoke.yaml"


def comparable(out) -> pd.DataFrame:
    return read_runs(out).drop(columns=["wall_s"]).sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    rep = run_sweep(load_experiment(SMOKE), out, workers=1, progress=False)
    assert rep.ran == rep.total == 48 and rep.failed == 0
    return out


def test_smoke_experiment_is_about_fifty_short_runs():
    exp = load_experiment("smoke")
    assert 40 <= exp.n_runs <= 60
    assert len({r.seed for r in exp.runs()}) == exp.n_runs  # every run its own seed
    assert len({r.run_id for r in exp.runs()}) == exp.n_runs


def test_runs_table_is_tidy_and_self_describing(serial):
    runs = comparable(serial)
    assert len(runs) == 48 and runs.run_id.is_unique
    assert set(runs.status) == {"ok"}
    # every parameter is a column; the factors vary as designed; seeds are the spawned ones
    from ruralgov.model.params import REGISTRY

    assert set(REGISTRY) <= set(runs.columns)
    assert sorted(runs.coordination.unique()) == [0.0, 0.5, 1.0]
    exp = load_experiment(SMOKE)
    for r in runs.itertuples():
        assert r.seed == run_seed(exp.root_seed, r.point, r.replicate)
    series = read_series(serial)
    assert list(series.columns) == ["run_id", "step", "compliance", "legitimacy_mean",
                                    "petitions_new", "protesters"]
    assert sorted(series.step.unique()) == [5, 10, 15, 20, 25]
    import json

    manifest = json.loads((serial / "manifest.json").read_text())
    assert manifest["n_runs"] == 48 and manifest["root_seed"] == exp.root_seed
    assert manifest["counts"] == {"runs": 48, "done": 48, "ok": 48, "failed": 0, "missing": 0}
    assert manifest["created_utc"] <= manifest["updated_utc"]
    assert manifest["last_invocation"]["executor"] == "serial"
    assert {"commit", "dirty"} <= set(manifest["git"]) and manifest["versions"]["numpy"]


def test_process_pool_gives_identical_results(serial, tmp_path):
    run_sweep(load_experiment(SMOKE), tmp_path, workers=2, progress=False)
    pd.testing.assert_frame_equal(comparable(serial), comparable(tmp_path))
    a = read_series(serial).sort_values(["run_id", "step"]).reset_index(drop=True)
    b = read_series(tmp_path).sort_values(["run_id", "step"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_dask_cluster_gives_identical_results(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        rep = run_sweep(load_experiment(SMOKE), tmp_path, scheduler=cluster.scheduler_address,
                        progress=False)
    assert rep.ran == 48
    pd.testing.assert_frame_equal(comparable(serial), comparable(tmp_path))


def test_shards_are_disjoint_and_together_equal_the_whole(serial, tmp_path):
    exp = load_experiment(SMOKE)
    a = run_sweep(exp, tmp_path, workers=1, shard=(1, 2), progress=False)
    b = run_sweep(exp, tmp_path, workers=1, shard=(2, 2), progress=False)
    assert a.ran + b.ran == 48 and abs(a.ran - b.ran) <= 1
    pd.testing.assert_frame_equal(comparable(serial), comparable(tmp_path))
    with pytest.raises(InputError, match="I/N"):
        parse_shard("3")
    with pytest.raises(InputError, match="1 <= I <= N"):
        parse_shard("3/2")


def test_sweep_killed_with_sigkill_resumes_to_the_same_result(serial, tmp_path):
    exe = Path(sys.executable).with_name("ruralgov")
    cmd = [str(exe), "sweep", str(SMOKE), "--workers", "1", "--out", str(tmp_path), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "runs").glob("part-*.parquet")):
        assert proc.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = read_runs(tmp_path)
    assert 0 < len(partial) < 48  # killed part-way
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"({48 - len(partial)} now, {len(partial)} found done)" in res.stdout
    pd.testing.assert_frame_equal(comparable(serial), comparable(tmp_path))
    s = read_series(tmp_path)
    assert not s.duplicated(["run_id", "step"]).any() and len(s) == 48 * 5
    # a third invocation has nothing left to do
    again = run_sweep(load_experiment(SMOKE), tmp_path, workers=1, progress=False)
    assert again.ran == 0 and again.already == 48
    # every invocation left a record, the killed one too (marked by the one after it)
    import json

    records = [json.loads(f.read_text()) for f in (tmp_path / "log").glob("*.json")]
    assert sorted(r["status"] for r in records) == ["complete", "complete", "killed"]
    (killed,) = [r for r in records if r["status"] == "killed"]
    (resumed,) = [r for r in records if r.get("ran") == 48 - len(partial)]
    assert "ended_utc" not in killed
    assert any("had been killed" in n for n in resumed["recovered"])


def test_a_lost_worker_is_survived(serial, tmp_path):
    from ruralgov.study.sweep import _process_pool

    pool = _process_pool(2)
    killed = []

    def kill_a_worker(done):
        if not killed and pool._processes:
            pid = next(iter(pool._processes))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    rep = run_sweep(load_experiment(SMOKE), tmp_path, executor=pool, workers=2,
                    progress=False, on_batch=kill_a_worker)
    assert killed and rep.ran == 48
    pd.testing.assert_frame_equal(comparable(serial), comparable(tmp_path))


def test_changed_experiment_is_refused_on_resume(serial, tmp_path):
    doc = yaml.safe_load(SMOKE.read_text())
    doc["steps"] = 30
    changed = tmp_path / "smoke.yaml"
    changed.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="different experiment definition"):
        run_sweep(load_experiment(changed), serial, workers=1, progress=False)
    exe = Path(sys.executable).with_name("ruralgov")
    res = subprocess.run([str(exe), "sweep", str(changed), "--out", str(serial)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "different experiment definition" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    import ruralgov.study.runner as runner

    exp = load_experiment(SMOKE)
    bad_seed = exp.runs()[5].seed
    real = runner.run_scenario

    def flaky(scenario, *, seed=None, **kw):
        if seed == bad_seed:
            raise RuntimeError("simulated failure")
        return real(scenario, seed=seed, **kw)

    monkeypatch.setattr(runner, "run_scenario", flaky)
    rep = run_sweep(exp, tmp_path, workers=1, progress=False, batch=1)
    assert rep.ran == 48 and rep.failed == 1
    runs = read_runs(tmp_path)
    bad = runs[runs.status == "failed"]
    assert list(bad.run_id) == [exp.runs()[5].run_id]
    assert "RuntimeError: simulated failure" in bad.error.iloc[0]
    assert np.isnan(bad.compliance_final.iloc[0]) and bad.coordination.notna().all()
    # retried, it succeeds and takes the failed row's place
    monkeypatch.setattr(runner, "run_scenario", real)
    rep2 = run_sweep(exp, tmp_path, workers=1, progress=False, retry_failed=True)
    assert rep2.ran == 1 and rep2.failed == 0
    runs = read_runs(tmp_path)
    assert len(runs) == 48 and set(runs.status) == {"ok"}


def test_a_failing_ensemble_runs_its_runs_alone(tmp_path, monkeypatch):
    """An ensemble that fails is run again one run at a time, so the failure is recorded
    against the run that failed and the others are kept; with ensembles that work, the sweep
    holds exactly what one run at a time gives."""
    import ruralgov.study.runner as runner

    exp = load_experiment(SMOKE)
    bad_seed = exp.runs()[5].seed
    real_alone, real_together = runner.run_scenario, runner.run_ensemble
    together = []

    def flaky_alone(scenario, *, seed=None, **kw):
        if seed == bad_seed:
            raise RuntimeError("simulated failure")
        return real_alone(scenario, seed=seed, **kw)

    def flaky_together(scenario, seeds, **kw):
        together.append(list(seeds))
        if bad_seed in seeds:
            raise RuntimeError("simulated failure")
        return real_together(scenario, seeds, **kw)

    monkeypatch.setattr(runner, "run_scenario", flaky_alone)
    monkeypatch.setattr(runner, "run_ensemble", flaky_together)
    rep = run_sweep(exp, tmp_path / "a", workers=1, progress=False)
    assert rep.ran == 48 and rep.failed == 1
    # each run tried in one ensemble; the smoke design's factors may differ within one
    assert sum(len(g) for g in together) == 48 and max(len(g) for g in together) > 4
    runs = read_runs(tmp_path / "a")
    assert list(runs[runs.status == "failed"].run_id) == [exp.runs()[5].run_id]
    monkeypatch.setattr(runner, "run_scenario", real_alone)
    run_sweep(exp, tmp_path / "b", workers=1, progress=False, batch=1)
    a = runs.set_index("run_id").drop(columns="wall_s").sort_index()
    b = read_runs(tmp_path / "b").set_index("run_id").drop(columns="wall_s").sort_index()
    ok = a.status == "ok"
    pd.testing.assert_frame_equal(a[ok], b[ok], check_dtype=False)  # (NaN rows: floats)


def test_batch_is_checked(tmp_path):
    with pytest.raises(InputError, match="batch"):
        run_sweep(load_experiment(SMOKE), tmp_path, workers=1, progress=False, batch=0)


def test_cli_exit_status_and_final_line_count_failures(tmp_path):
    exe = Path(sys.executable).with_name("ruralgov")
    doc = yaml.safe_load(SMOKE.read_text())
    doc["replications"] = 1
    doc["factors"] = {"enforcement": [0.1, 0.4]}
    f = tmp_path / "tiny.yaml"
    f.write_text(yaml.safe_dump(doc))
    res = subprocess.run([str(exe), "sweep", str(f), "--workers", "1", "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "2/2 runs done" in res.stdout and "0 failed" in res.stdout
    assert "runs/s" in res.stderr  # the progress bar


def test_cli_set_and_profile_give_their_own_sweeps(tmp_path):
    """--set fixes a parameter the design does not vary (a variant with its own name and
    folder); --profile applies a profile the file declares, into its own default folder."""
    from ruralgov.io.results import read_manifest

    exe = Path(sys.executable).with_name("ruralgov")
    doc = yaml.safe_load(SMOKE.read_text())
    doc.update(replications=1, factors={"enforcement": [0.1, 0.4]}, steps=6,
               profiles={"tiny": {"steps": 3, "parameters": {"n_villagers": 80}}})
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(doc))

    def sweep(*extra):
        return subprocess.run([str(exe), "sweep", "tiny.yaml", "--workers", "1", "--quiet",
                               *extra], capture_output=True, text=True, timeout=300,
                              cwd=tmp_path)

    res = sweep("--set", "n_villagers=150", "--set", "suppression=0.3")
    assert res.returncode == 0, res.stderr
    folder = tmp_path / "results" / "sweeps" / "tiny-n_villagers=150,suppression=0.3"
    params = read_manifest(folder)["definition"]["parameters"]
    assert params["n_villagers"] == 150 and params["suppression"] == 0.3
    res = sweep("--profile", "tiny")
    assert res.returncode == 0, res.stderr
    definition = read_manifest(tmp_path / "results" / "sweeps" / "tiny-tiny")["definition"]
    assert definition["profile"] == "tiny" and definition["steps"] == 3
    for extra, message in [(("--set", "enforcement=0.2"), "enforcement is a factor"),
                           (("--set", "colour=1"), "--set colour: unknown parameter"),
                           (("--profile", "huge"), "no profile 'huge'; it has tiny")]:
        res = sweep(*extra)
        assert res.returncode == 2 and message in res.stderr, res.stderr
        assert "Traceback" not in res.stderr


def test_common_random_numbers_give_every_point_the_same_draws(tmp_path):
    """With common_random_numbers the r-th replicate of every point has the same seed, so two
    points that set the same parameters give the same run; without it they differ."""
    doc = yaml.safe_load(SMOKE.read_text())
    doc.update(replications=2, steps=8, design={"type": "crossed", "samples": 3},
               factors={"enforcement": {"draws": [0.2, 0.2, 0.5]}},
               parameters={"n_villagers": 80, "n_townships": 1, "villages_per_township": 2})
    crn = Experiment.from_dict({**doc, "common_random_numbers": True}, name="crn")
    seeds = pd.DataFrame([(r.point, r.replicate, r.seed) for r in crn.runs()],
                         columns=["point", "rep", "seed"])
    assert (seeds.groupby("rep").seed.nunique() == 1).all()
    assert seeds.seed.nunique() == 2
    plain = Experiment.from_dict(doc, name="crn")
    assert plain.definition_hash() != crn.definition_hash()
    measures = ["compliance_final", "grievance_mean_final", "sanctions_final"]
    for exp, same in ((crn, True), (plain, False)):
        runs = exp.run(tmp_path / exp.name / str(same), workers=1, progress=False)
        a, b = (runs[runs.point == k].sort_values("replicate")[measures].to_numpy()
                for k in (0, 1))
        assert np.array_equal(a, b) == same


def test_scenarios_are_a_factor_and_a_sweep_grows_by_scenarios(tmp_path):
    """factors: {scenario: [...]}: every point at every scenario, each run with its scenario's
    parameters (fragmented sets coordination 0) and named in its row; a scenario appended
    with --extend keeps the runs done; analyze reads the named levels."""
    from ruralgov.analysis.sensitivity import analyze
    from ruralgov.io.scenario import load_scenario

    doc = yaml.safe_load(SMOKE.read_text())
    doc.update(replications=2, steps=6, factors={"scenario": ["baseline", "fragmented"],
                                                 "enforcement": [0.1, 0.4]},
               parameters={"n_villagers": 80, "n_townships": 1, "villages_per_township": 2})
    exp = Experiment.from_dict(doc, name="sc")
    assert exp.points.columns.tolist() == ["scenario", "enforcement"]
    assert exp.points.scenario.tolist() == ["baseline"] * 2 + ["fragmented"] * 2
    out = tmp_path / "sc"
    runs = exp.run(out, workers=1, progress=False)
    assert (runs.status == "ok").all() and len(runs) == 8
    frag = load_scenario("fragmented").parameters["coordination"]
    assert set(runs[runs.scenario == "fragmented"].coordination) == {frag}
    assert set(runs[runs.scenario == "baseline"].coordination) != {frag}
    more = Experiment.from_dict({**doc, "factors": {
        "scenario": ["baseline", "fragmented", "grid_management"],
        "enforcement": [0.1, 0.4]}}, name="sc")
    rep = run_sweep(more, out, workers=1, progress=False, extend=True)
    assert (rep.already, rep.ran) == (8, 4)
    grown = read_runs(out).set_index("run_id")
    pd.testing.assert_frame_equal(grown.loc[runs.run_id].drop(columns="wall_s"),
                                  runs.set_index("run_id").drop(columns="wall_s"),
                                  check_like=True)
    assert (analyze(out) / "main_effects.png").exists()


@pytest.mark.parametrize("factors, design, message", [
    ({"scenario": ["baseline", "nowhere"]}, {"type": "factorial"},
     r"factors\.scenario\[1\]: .*nowhere"),
    ({"scenario": ["baseline", "baseline"]}, {"type": "factorial"}, "given twice"),
    ({"scenario": ["baseline"], "enforcement": {"range": [0.1, 0.5]}},
     {"type": "latin", "samples": 4}, "for a factorial or crossed design"),
    ({"scenario": [1, 2]}, {"type": "factorial"}, "a list of scenario names"),
])
def test_a_bad_scenario_factor_is_one_clear_message(factors, design, message):
    doc = yaml.safe_load(SMOKE.read_text())
    doc.update(factors=factors, design=design)
    with pytest.raises(InputError, match=message):
        Experiment.from_dict(doc, name="bad")


def test_a_stop_condition_ends_each_run_at_the_first_step_that_meets_it(tmp_path):
    """stop: a run ends after the first step at or past `after` whose series row meets the
    condition (stopped_at, with the series and summaries of the steps run); a run that never
    meets it goes the whole way (stopped_at NaN) and is the run without a stop condition."""
    from ruralgov.study.runner import StopCondition, run_scenario

    over = {"n_villagers": 120, "n_townships": 1, "villages_per_township": 2}
    full = run_scenario("baseline", seed=5, steps=30, overrides=over, collect_detail=False)
    comp = full.series["compliance"].to_numpy()
    level = float(np.median(comp[10:]))
    first = 10 + int(np.flatnonzero(comp[10:] > level)[0])  # 0-based index of that step
    res = run_scenario("baseline", seed=5, steps=30, overrides=over, collect_detail=False,
                       stop=StopCondition("compliance", above=level, after=11))
    assert res.summary["stopped_at"] == first + 1 and len(res.series) == first + 1
    pd.testing.assert_frame_equal(res.series, full.series.iloc[:first + 1])
    never = run_scenario("baseline", seed=5, steps=30, overrides=over, collect_detail=False,
                         stop=StopCondition("compliance - 2", above=0))
    assert np.isnan(never.summary["stopped_at"]) and len(never.series) == 30
    doc = yaml.safe_load(SMOKE.read_text())
    doc.update(replications=2, steps=30, factors={"enforcement": [0.2, 0.3]}, parameters=over,
               stop={"measure": "compliance", "above": level, "after": 11})
    exp = Experiment.from_dict(doc, name="stop")
    assert exp.definition()["stop"]["above"] == level
    runs = exp.run(tmp_path / "s", workers=1, progress=False, batch=2)
    assert (runs.status == "ok").all() and (runs.stopped_at.dropna() >= 11).all()


@pytest.mark.parametrize("stop, message", [
    ({"measure": "compliance"}, "exactly one of above and below"),
    ({"measure": "compliance", "above": 1, "below": 0}, "exactly one of above and below"),
    ({"measure": "complaince", "above": 0.5}, r"stop.*complaince"),
    ({"measure": "compliance", "above": "high"}, r"stop\.above: 'high'"),
    ({"measure": "compliance", "above": 0.5, "after": -1}, r"stop\.after"),
    ({"measure": "compliance", "above": 0.5, "until": 3}, "a mapping with measure"),
])
def test_a_bad_stop_condition_is_one_clear_message(stop, message):
    doc = yaml.safe_load(SMOKE.read_text())
    doc.update(stop=stop)
    with pytest.raises(InputError, match=message) as err:
        Experiment.from_dict(doc, name="bad")
    assert "<bad>: stop" in str(err.value)


def test_a_finished_sweep_grows_with_extend_and_keeps_its_runs(tmp_path):
    """More replications, then more design points (appended): the runs done are kept, the new
    runs are those of a sweep made that size at once; anything else is refused, naming it."""
    doc = yaml.safe_load(SMOKE.read_text())
    doc.update(replications=2, steps=5, factors={"enforcement": [0.1, 0.4]},
               parameters={"n_villagers": 80, "n_townships": 1, "villages_per_township": 2})

    def exp(**change):
        return Experiment.from_dict({**doc, **change}, name="grow")

    out = tmp_path / "g"
    run_sweep(exp(), out, workers=1, progress=False)
    first = read_runs(out).set_index("run_id").drop(columns="wall_s")
    with pytest.raises(InputError, match=r"replications: 2 → 3\. Only runs are added: rerun "
                                         r"with --extend"):
        run_sweep(exp(replications=3), out, workers=1, progress=False)
    rep = run_sweep(exp(replications=3), out, workers=1, progress=False, extend=True)
    assert (rep.already, rep.ran) == (4, 2)
    more = {"enforcement": [0.1, 0.4, 0.7]}
    rep = run_sweep(exp(replications=3, factors=more), out, workers=1, progress=False,
                    extend=True)
    assert (rep.already, rep.ran) == (6, 3)
    grown = read_runs(out).set_index("run_id").drop(columns="wall_s").sort_index()
    pd.testing.assert_frame_equal(grown.loc[first.index], first.sort_index(),
                                  check_like=True)
    at_once = tmp_path / "once"
    run_sweep(exp(replications=3, factors=more), at_once, workers=1, progress=False)
    pd.testing.assert_frame_equal(
        grown, read_runs(at_once).set_index("run_id").drop(columns="wall_s").sort_index())
    manifest = read_manifest(out)
    assert [h["changes"] for h in manifest["extended"]] == [
        ["replications: 2 → 3"],
        ["factors.enforcement.values: [0.1, 0.4] → [0.1, 0.4, 0.7]",
         "points: 2 → 3, the first 2 unchanged"]]
    assert manifest["n_runs"] == 9
    for change, message in [({"steps": 6}, r"steps: 5 → 6\. Results are never mixed"),
                            ({"replications": 2}, r"replications: 3 → 2\. Results are never"),
                            ({"factors": {"enforcement": [0.4, 0.1, 0.7]}, "replications": 3},
                             r"points: 3 → 3 \(the old points changed\)")]:
        with pytest.raises(InputError, match=message):
            run_sweep(exp(**change), out, workers=1, progress=False, extend=True)


BAD = [
    ({"colour": 1}, "unknown key; allowed: title, description"),
    ({"factors": {"coordinaton": [0.1]}}, "factors.coordinaton: unknown parameter (did you mean"),
    ({"factors": {"coordination": [0.1, 2.0]}}, "factors.coordination"),
    ({"factors": {"coordination": {"range": [0.0, 3.0], "levels": 3}}}, "outside the allowed"),
    ({"factors": {"coordination": {"range": [0.5, 0.1], "levels": 3}}}, "low < high"),
    ({"factors": {"coordination": {"range": [0.0, 1.0]}}}, "needs levels"),
    ({"design": {"type": "sobol", "samples": 10},
      "factors": {"coordination": {"range": [0.0, 1.0]}, "enforcement": {"range": [0.1, 0.5]}}},
     "power of 2"),
    ({"design": {"type": "latin", "samples": 8}, "factors": {"enforcement": [0.1, 0.4]}},
     "needs a range"),
    ({"design": {"type": "latin", "samples": 8}}, "levels is for factorial designs only"),
    ({"design": {"type": "latin"}, "factors": {"coordination": {"range": [0.0, 1.0]}}},
     "design.samples: required"),
    ({"design": {"type": "grid"}}, "design.type"),
    ({"replications": 0}, "replications"),
    ({"root_seed": "abc"}, "root_seed"),
    ({"scenario": "nowhere"}, "no such scenario"),
    ({"parameters": {"n_villagers": 10}}, "fewer than the villages"),
    ({"outputs": {"measures": ["complience"]}}, "unknown measure"),
    ({"factors": {"mech_habit": {"range": [0, 1]}}}, "true/false parameter"),
]


@pytest.mark.parametrize("change,message", BAD)
def test_bad_experiment_files_give_one_clear_message(tmp_path, change, message):
    doc = yaml.safe_load(SMOKE.read_text())
    doc.update(change)
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(InputError) as err:
        load_experiment(f)
    assert message in str(err.value) and str(f) in str(err.value)
    exe = Path(sys.executable).with_name("ruralgov")
    res = subprocess.run([str(exe), "sweep", str(f), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()  # nothing written


def test_missing_experiment_file_and_name():
    with pytest.raises(InputError, match="no such experiment file"):
        load_experiment("nowhere/at/all.yaml")
    with pytest.raises(InputError, match="known experiments: .*smoke"):
        load_experiment("no_such_experiment")


def test_samplers_come_from_salib_and_are_reproducible(tmp_path):
    doc = yaml.safe_load(SMOKE.read_text())
    doc["factors"] = {"coordination": {"range": [0.0, 1.0]},
                      "enforcement": {"range": [0.1, 0.5]},
                      "n_departments": {"range": [1, 8]}}
    for design, n_points in ((("sobol", 8), 8 * (2 * 3 + 2) // 2 * 1), (("latin", 10), 10),
                             (("morris", 3), 3 * 4)):
        doc["design"] = {"type": design[0], "samples": design[1]}
        # Morris: an integer factor only on a grid of whole numbers (7 - 1 = 2 x (4 - 1))
        doc["factors"]["n_departments"]["range"] = [1, 7] if design[0] == "morris" else [1, 8]
        f = tmp_path / f"{design[0]}.yaml"
        f.write_text(yaml.safe_dump(doc))
        a, b = load_experiment(f), load_experiment(f)
        pd.testing.assert_frame_equal(a.points, b.points)
        assert a.points.n_departments.dtype.kind == "i"  # integer factor rounded
        assert a.points.coordination.between(0, 1).all()
        if design[0] == "sobol":
            assert len(a.points) == 8 * (3 + 2)  # N (D + 2), first order
        else:
            assert len(a.points) == n_points


def test_a_small_sweep_runs_serially_by_default_a_large_one_on_a_pool(tmp_path, monkeypatch):
    import ruralgov.study.sweep as sweep

    seen = []
    real = sweep._executor

    def spy(executor, workers, scheduler, pending, functions=None):
        out = real(executor, workers, scheduler, pending, functions)
        seen.append(out[2])
        if out[1] == "pool":
            out[0].shutdown()
            return None, None, "serial", 1
        return out

    monkeypatch.setattr(sweep, "_executor", spy)
    exp = load_experiment(SMOKE)  # 48 tiny runs: well under SERIAL_BELOW_S
    run_sweep(exp, tmp_path / "small", progress=False)
    assert seen == ["serial"]
    monkeypatch.setattr(sweep, "SERIAL_BELOW_S", 0.0)  # as if the runs were long
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    run_sweep(exp, tmp_path / "large", progress=False)
    assert seen[-1] == "process pool x2"


def test_sweep_tasks_keep_arrays_on_the_heap_in_a_dask_worker():
    """Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which makes every large
    array a fresh mmap (an ensemble step twice as slow, measured): a sweep task undoes it, once
    per process; without the variable nothing is changed."""
    import subprocess

    code = ("from ruralgov.io.scenario import load_scenario\n"
            "from ruralgov.study import processes, sweep\n"
            "sweep.execute_batch({'scenario': load_scenario('baseline'), 'base': {}, "
            "'steps': 1, 'outputs': {}, 'all_params': {}, 'runs': []})\n"
            "print(processes._HEAP_DONE)\n")
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    plain = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    dask = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env, "MALLOC_TRIM_THRESHOLD_": "65536"})
    assert plain.stdout.strip() == "[False]", plain.stderr[-2000:]
    assert dask.stdout.strip() == ("[True]" if sys.platform.startswith("linux") else "[False]"), (
        dask.stderr[-2000:])


SCRIPT = '''
from ruralgov.study.experiment import Experiment
def spread(model):
    return float(model.villagers.grievance.std())
def main():
    exp = Experiment.from_dict({"title": "t", "description": "d", "scenario": "baseline",
        "root_seed": 1, "steps": 3, "replications": 2, "design": {"type": "factorial"},
        "parameters": {"n_villagers": 100, "n_townships": 1, "villages_per_township": 2},
        "factors": {"coordination": [0.0, 1.0]}}, reporters={"spread": spread})
    print(len(exp.run("out", workers=2, progress=False)))
'''


@pytest.mark.parametrize("how, ok, says", [
    ("script-unguarded", False, "without|at its top level"),
    ("script-guarded", True, ""),
    ("interactive", False, "defined in this notebook or session"),
])
def test_a_process_pool_that_cannot_work_is_one_clear_message(tmp_path, how, ok, says):
    """A script that sweeps on a pool at its top level (each spawned worker would run it
    again: the pool restarted over and over, then BrokenProcessPool) and a notebook's
    reporter function (no worker can import it) are refused at once; a guarded script runs."""
    code = SCRIPT + ("main()\n" if how != "script-guarded"
                     else "if __name__ == '__main__':\n    main()\n")
    if how == "interactive":
        cmd = [sys.executable, "-c", code]
    else:
        (tmp_path / "s.py").write_text(code, encoding="utf-8")
        cmd = [sys.executable, str(tmp_path / "s.py")]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    if ok:
        assert res.returncode == 0 and res.stdout.strip() == "4", res.stderr
    else:
        assert res.returncode != 0 and "InputError" in res.stderr
        assert re.search(says, res.stderr) and "worker lost" not in res.stderr, res.stderr
