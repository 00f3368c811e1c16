"""Sweep folders under concurrent writers (SLURM array shards, requeued jobs, a command started
twice): nothing is lost, nothing is run twice, the raw datasets hold each run once.

The acceptance test of the data-integrity issue: four shards and a duplicate invocation start
at once into one folder, one shard is killed mid-way, the sweep is resumed, and the runs and
series equal a serial sweep's row for row with no duplicates — read both through
``read_runs``/``read_series`` and as raw Parquet datasets (what ``pd.read_parquet(folder)`` and
DuckDB globs see).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ruralgov.io.locks import FolderLock, LockHeld, scopes_overlap
from ruralgov.io.results import read_runs, read_series
from ruralgov.study.experiment import load_experiment
from ruralgov.study.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("ruralgov")


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    """240 short runs of a small county, keeping the series (the issue's reproduction)."""
    doc = yaml.safe_load((ROOT / "experiments" / "smoke.yaml").read_text())
    doc["parameters"] = {"n_villagers": 100, "n_townships": 2, "villages_per_township": 2}
    doc["steps"] = 30
    doc["replications"] = 20
    doc["outputs"] = {"series": True, "measures": ["compliance", "petitions_new"]}
    path = tmp_path_factory.mktemp("exp") / "shards.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def serial(experiment, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial") / "out"
    run_sweep(load_experiment(experiment), out, workers=1, progress=False)
    return out


def _runs(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["wall_s"]).sort_values("run_id").reset_index(drop=True)


def _series(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["run_id", "step"]).reset_index(drop=True)


def _raw(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(folder / table)


def _sweep(experiment: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([str(EXE), "sweep", str(experiment), "--out", str(out),
                             "--workers", "1", "--quiet", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_four_shards_a_duplicate_and_a_kill_then_resume_equal_a_serial_sweep(
        experiment, serial, tmp_path):
    out = tmp_path / "sweep"
    procs = {f"{j}/4": _sweep(experiment, out, "--shard", f"{j}/4") for j in range(1, 5)}
    procs["1/4 again"] = _sweep(experiment, out, "--shard", "1/4")
    # kill shard 3 once it has committed something
    deadline = time.monotonic() + 120
    while not list((out / "runs").glob("part-s3of4-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert procs["3/4"].poll() is None, "shard 3 finished before it could be killed"
    os.kill(procs["3/4"].pid, signal.SIGKILL)
    results = {k: (p.wait(timeout=300), p.stderr.read()) for k, p in procs.items()}
    for k, (code, err) in results.items():
        if k == "3/4":
            assert code == -signal.SIGKILL
        else:
            assert code in (0, 2), (k, code, err)
            assert "Traceback" not in err, err
    refused = [k for k, (code, _) in results.items() if code == 2]
    assert set(refused) <= {"1/4", "1/4 again"} and len(refused) <= 1
    for k in refused:
        assert "another sweep is writing these runs" in results[k][1]
        assert "PID" in results[k][1] and len(results[k][1].strip().splitlines()) == 1
    # resume every shard at once: what the kill left is cleaned, what is missing is run
    again = [_sweep(experiment, out, "--shard", f"{j}/4") for j in range(1, 5)]
    assert [p.wait(timeout=300) for p in again] == [0, 0, 0, 0], [p.stderr.read() for p in again]

    pd.testing.assert_frame_equal(_runs(read_runs(out)), _runs(read_runs(serial)))
    pd.testing.assert_frame_equal(_series(read_series(out)), _series(read_series(serial)))
    raw_runs, raw_series = _raw(out, "runs"), _raw(out, "series")
    assert not raw_runs.run_id.duplicated().any()
    assert not raw_series.duplicated(["run_id", "step"]).any()
    pd.testing.assert_frame_equal(_runs(raw_runs), _runs(read_runs(serial)),
                                  check_dtype=False)
    pd.testing.assert_frame_equal(_series(raw_series), _series(read_series(serial)),
                                  check_dtype=False)
    assert not list((out / "locks").glob("*.lock")), "a lock outlived its holder's exit"
    # what a DuckDB glob sees (the guide's recipe): every run once, the serial sweep's values
    duckdb = pytest.importorskip("duckdb")
    sql = duckdb.sql(f"SELECT * FROM read_parquet('{out}/runs/*.parquet')").df()
    pd.testing.assert_frame_equal(_runs(sql[raw_runs.columns]), _runs(raw_runs),
                                  check_dtype=False)


def test_a_second_identical_sweep_is_refused_naming_the_holder(experiment, tmp_path):
    out = tmp_path / "sweep"
    first = _sweep(experiment, out)
    deadline = time.monotonic() + 60
    while not list((out / "locks").glob("*.lock")) and time.monotonic() < deadline:
        time.sleep(0.02)
    second = subprocess.run([str(EXE), "sweep", str(experiment), "--out", str(out),
                             "--workers", "1", "--quiet"], capture_output=True, text=True,
                            timeout=120)
    first.kill()
    first.wait()
    assert second.returncode == 2, second.stderr
    assert "another sweep is writing these runs" in second.stderr
    assert f"PID {first.pid}" in second.stderr
    # the holder is gone: the lock is stale and taken over, and the sweep completes
    third = subprocess.run([str(EXE), "sweep", str(experiment), "--out", str(out),
                            "--workers", "1", "--quiet"], capture_output=True, text=True,
                           timeout=300)
    assert third.returncode == 0, third.stderr
    assert len(read_runs(out)) == 240 and not _raw(out, "runs").run_id.duplicated().any()


def test_wait_queues_behind_the_holder(tmp_path):
    folder = tmp_path / "f"
    with FolderLock(folder, (1, 2)):
        with pytest.raises(LockHeld, match="shard 1/2 held by PID"):
            FolderLock(folder, (1, 4)).acquire()  # overlaps: runs 0, 4, 8, ...
        FolderLock(folder, (2, 2)).acquire().release()  # disjoint: fine
        t0 = time.monotonic()
        with pytest.raises(LockHeld):
            FolderLock(folder, (1, 1), wait=0.5).acquire()
        assert time.monotonic() - t0 >= 0.5
    with FolderLock(folder, (1, 1), wait=1.0):  # free again
        pass


def test_a_dead_holders_lock_is_taken_over(tmp_path):
    folder = tmp_path / "f"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (folder / "locks").mkdir(parents=True)
    import json
    import socket

    (folder / "locks" / "s1of1-x.lock").write_text(json.dumps(
        {"scope": [1, 1], "host": socket.gethostname(), "pid": int(dead.stdout),
         "pidns": os.readlink("/proc/self/ns/pid"), "started_utc": "2026-01-01T00:00:00Z",
         "tag": "s1of1-x"}))
    with FolderLock(folder, (1, 1)):
        assert not (folder / "locks" / "s1of1-x.lock").exists()


@pytest.mark.parametrize(("a", "b", "overlap"), [
    ((1, 1), (3, 7), True), ((1, 2), (2, 2), False), ((1, 2), (1, 4), True),
    ((2, 4), (1, 2), False), ((2, 4), (2, 6), True), ((1, 3), (2, 5), True)])
def test_shard_overlap_is_exact(a, b, overlap):
    assert scopes_overlap(a, b) is overlap
    n = 2 * a[1] * b[1]  # enough runs to show every residue pair
    brute = any(x % a[1] == a[0] - 1 and x % b[1] == b[0] - 1 for x in range(n))
    assert brute is overlap


def test_retried_failures_leave_one_row_per_run_in_the_raw_dataset(tmp_path, monkeypatch):
    import ruralgov.study.runner as runner

    exp = load_experiment(ROOT / "experiments" / "smoke.yaml")
    bad = {exp.runs()[5].seed, exp.runs()[9].seed}
    real = runner.run_scenario

    def flaky(scenario, *, seed=None, **kw):
        if seed in bad:
            raise RuntimeError("simulated failure")
        return real(scenario, seed=seed, **kw)

    monkeypatch.setattr(runner, "run_scenario", flaky)  # (one run at a time: batch 1)
    run_sweep(exp, tmp_path, workers=1, progress=False, batch=1)
    bad.discard(exp.runs()[9].seed)  # one succeeds when retried, one fails again
    run_sweep(exp, tmp_path, workers=1, progress=False, retry_failed=True, batch=1)
    raw = _raw(tmp_path, "runs")
    assert len(raw) == 48 and not raw.run_id.duplicated().any()
    assert raw.set_index("run_id").status[exp.runs()[9].run_id] == "ok"
    assert raw.set_index("run_id").status[exp.runs()[5].run_id] == "failed"
    assert (raw.status == "failed").sum() == 1


def test_a_corrupt_part_is_quarantined_and_its_runs_rerun(experiment, serial, tmp_path):
    out = tmp_path / "sweep"
    exp = load_experiment(experiment)
    run_sweep(exp, out, workers=1, progress=False)
    part = sorted((out / "runs").glob("part-*.parquet"))[1]
    part.write_bytes(part.read_bytes()[:100])  # truncated
    series = sorted((out / "series").glob("part-*.parquet"))[0]
    series.write_bytes(b"garbage")
    rep = run_sweep(exp, out, workers=1, progress=False)
    assert rep.ran > 0
    assert len(list((out / "quarantine").rglob("*.parquet"))) == 4  # both parts, both pairs
    pd.testing.assert_frame_equal(_runs(_raw(out, "runs")), _runs(read_runs(serial)),
                                  check_dtype=False)
    pd.testing.assert_frame_equal(_series(_raw(out, "series")), _series(read_series(serial)),
                                  check_dtype=False)


def test_pool_workers_die_with_a_killed_sweep(experiment, tmp_path):
    import psutil

    proc = subprocess.Popen([str(EXE), "sweep", str(experiment), "--out", str(tmp_path / "o"),
                             "--workers", "2", "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    workers: list = []
    def command(p) -> str:  # (a short-lived child, e.g. git asked for the revision, may be
        try:                  # gone between the listing and the question)
            return " ".join(p.cmdline())
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            return ""

    while time.monotonic() < deadline:
        workers = [p for p in psutil.Process(proc.pid).children(recursive=True)
                   if "spawn_main" in command(p)]
        if len(workers) >= 2:
            break
        time.sleep(0.1)
    assert len(workers) >= 2, "the pool did not start"
    tree = psutil.Process(proc.pid).children(recursive=True)  # workers and resource tracker
    proc.kill()
    proc.wait(timeout=30)
    gone, alive = psutil.wait_procs(tree, timeout=20)
    assert not alive, [p.cmdline() for p in alive]


# ------------------------------------------------------------------ from a review
def test_sigterm_saves_finished_runs_and_releases_the_lock(experiment, serial, tmp_path):
    out = tmp_path / "o"
    proc = _sweep(experiment, out)
    deadline = time.monotonic() + 120
    while not list((out / "runs").glob("part-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # a cluster's time limit, scancel
    assert proc.wait(timeout=60) == 143, proc.stderr.read()
    assert "finished runs are saved" in proc.stderr.read()
    assert not list((out / "locks").glob("*.lock"))  # released: a requeue starts at once
    assert read_runs(out).shape[0] > 0
    assert _sweep(experiment, out).wait(timeout=300) == 0
    pd.testing.assert_frame_equal(_runs(read_runs(out)), _runs(read_runs(serial)))


def test_temporaries_never_block_a_new_sweep_folder(experiment, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / ".tmp-999999-deadbeef-write-check").write_text("left by a killed start")
    exp = load_experiment(experiment)
    rep = run_sweep(exp, out, workers=1, progress=False)
    assert rep.ran == exp.n_runs


def test_a_garbled_guard_left_by_a_killed_process_is_broken(tmp_path):
    folder = tmp_path / "f"
    (folder / "locks").mkdir(parents=True)
    guard = folder / "locks" / "guard"
    guard.write_text("")  # killed between creating and writing it
    old = time.time() - 30
    os.utime(guard, (old, old))
    t0 = time.monotonic()
    with FolderLock(folder, (1, 1)):
        pass
    assert time.monotonic() - t0 < 10


def test_a_lock_with_a_stopped_heartbeat_is_stale_even_if_its_pid_lives(tmp_path):
    import json
    import socket

    from ruralgov.io.locks import STALE_S

    folder = tmp_path / "f"
    (folder / "locks").mkdir(parents=True)
    lock = folder / "locks" / "s1of1-reused.lock"
    lock.write_text(json.dumps(  # our own PID: alive, as a reused PID would be
        {"scope": [1, 1], "host": socket.gethostname(), "pid": os.getpid(),
         "pidns": os.readlink("/proc/self/ns/pid"), "started_utc": "2026-01-01T00:00:00Z",
         "tag": "s1of1-reused"}))
    with pytest.raises(LockHeld):
        FolderLock(folder, (1, 1)).acquire()
    old = time.time() - STALE_S - 60
    os.utime(lock, (old, old))
    with FolderLock(folder, (1, 1)):
        assert not lock.exists()


def _foreign_lock(folder: Path, job: str | None, restart: int = 0) -> Path:
    """A fresh lock of shard 1/1 held from another machine (whose PIDs cannot be asked), by
    SLURM job ``job`` at restart count ``restart`` (None: not under SLURM)."""
    (folder / "locks").mkdir(parents=True, exist_ok=True)
    lock = folder / "locks" / "s1of1-node7.lock"
    lock.write_text(json.dumps(
        {"scope": [1, 1], "host": "node7.cluster", "pid": 4242, "pidns": "pid:[1]",
         "started_utc": "2026-01-01T00:00:00Z", "tag": "s1of1-node7",
         "slurm": [job, restart] if job else None}))
    return lock


@pytest.mark.parametrize("held_by, here, taken", [
    (("812", 0), {"SLURM_JOB_ID": "812", "SLURM_RESTART_COUNT": "1"}, True),  # requeued
    (("812", 1), {"SLURM_JOB_ID": "812", "SLURM_RESTART_COUNT": "3"}, True),
    (("812", 0), {"SLURM_JOB_ID": "812"}, False),  # the same incarnation: a second step
    (("812", 0), {"SLURM_JOB_ID": "813", "SLURM_RESTART_COUNT": "1"}, False),  # another task
    ((None, 0), {"SLURM_JOB_ID": "812", "SLURM_RESTART_COUNT": "1"}, False),  # not SLURM's
])
def test_a_requeued_slurm_task_takes_over_its_own_lock_at_once(tmp_path, monkeypatch, held_by,
                                                                here, taken):
    """A task requeued onto another node after a node failure: its earlier incarnation's lock
    has a fresh heartbeat and a host that cannot be asked, yet it is this job's (same
    SLURM_JOB_ID, lower SLURM_RESTART_COUNT), which SLURM has ended."""
    for name in ("SLURM_JOB_ID", "SLURM_RESTART_COUNT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in here.items():
        monkeypatch.setenv(name, value)
    folder = tmp_path / "f"
    lock = _foreign_lock(folder, *held_by)
    if taken:
        with FolderLock(folder, (1, 1)) as mine:
            assert not lock.exists()
            assert json.loads(mine.path.read_text())["slurm"] == [
                here["SLURM_JOB_ID"], int(here["SLURM_RESTART_COUNT"])]
    else:
        with pytest.raises(LockHeld, match="node7.cluster"):
            FolderLock(folder, (1, 1)).acquire()
        assert lock.exists()


def test_a_requeued_array_task_runs_its_shard_again_at_once(experiment, serial, tmp_path):
    """The command line, as the job script runs it: the requeued task (restart count 1) finds
    its first incarnation's lock from the failed node and finishes the sweep (exit 0)."""
    out = tmp_path / "o"
    _foreign_lock(out, "812", 0)
    env = {**os.environ, "SLURM_JOB_ID": "812", "SLURM_RESTART_COUNT": "1"}
    proc = subprocess.run([str(EXE), "sweep", str(experiment), "--out", str(out), "--workers",
                           "1", "--quiet"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    pd.testing.assert_frame_equal(_runs(read_runs(out)), _runs(read_runs(serial)))


def test_a_writer_that_lost_its_lock_stops_writing(tmp_path):
    from ruralgov.io.locks import LockLost

    lock = FolderLock(tmp_path / "f", (1, 1)).acquire()
    lock.path.unlink()  # removed by hand, or taken over
    with pytest.raises(LockLost, match="lock .* is gone"):
        lock.check()
    lock.release()
