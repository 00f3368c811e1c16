"""Run an experiment: many runs, on one core, a process pool, a Dask cluster or SLURM shards.

``run_sweep(experiment, out)`` runs every run of an experiment that ``out`` does not hold yet
and streams the results there:

* ``runs/part-*.parquet`` — one row per run: run id, design point, replicate, seed, status
  (``ok`` / ``failed``), error, wall time, every parameter, every summary measure;
* ``series/part-*.parquet`` — per-step measures (if the experiment keeps them), one row per
  run and kept step;
* ``manifest.json`` — the experiment (file, hash, resolved design), root seed, versions, git
  revision; ``log/*.json`` — one record per invocation (executor, start, end, counts).

Parts are written atomically ([`ruralgov.io.files`][ruralgov.io.files]), series first and runs
second: a runs part is the commit record of its runs, so after any interruption the runs it
lists are complete and everything else is simply run again (a series part without its runs
part is an orphan: never read, and removed once it is old). The folder is read with
[`ruralgov.io.results`][ruralgov.io.results]. Each run's seed comes from the root seed and the
run's design point and replicate
([`ruralgov.study.experiment.run_seed`][ruralgov.study.experiment.run_seed]), so results are
identical whatever the executor, the number of workers, the shard or the order. A new sweep is
written only into an empty folder; an existing sweep folder is resumed, and only by the same
experiment definition.

Every executor is used through the ``concurrent.futures`` protocol. Runs are grouped into
tasks of several runs so that per-task overhead stays small. The model knows nothing of any
of this.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ruralgov import __version__
from ruralgov.io.files import (
    RESULTS,
    remove_stale_temporaries,
    require_empty,
    utc_stamp,
    write_json,
    write_parquet,
)
from ruralgov.io.provenance import git_revision, utc_now, versions
from ruralgov.io.results import read_manifest, read_runs, read_series, run_status
from ruralgov.model.schema import InputError
from ruralgov.study.experiment import Experiment
from ruralgov.study.progress import Progress

__all__ = ["run_sweep", "SweepReport", "default_sweep_dir", "read_runs", "read_series",
           "parse_shard", "execute_batch"]


@dataclass
class SweepReport:
    out: Path
    total: int  # runs in the experiment (or shard)
    already: int  # found done on disk
    ran: int
    failed: int  # failed among all runs on disk for this experiment or shard
    seconds: float


def default_sweep_dir(experiment: Experiment) -> Path:
    """results/sweeps/<experiment>: the same folder every time, so rerunning resumes."""
    return RESULTS / "sweeps" / experiment.name


SWEEP_FILES = ("manifest.json", "runs", "series", "log")
"""What a sweep folder holds; a folder holding anything else and no manifest is refused."""


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/8"`` -> (2, 8): the 2nd of 8 disjoint parts (1-based, as SLURM array indices)."""
    if text is None:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise InputError(f"--shard {text!r}: expected I/N, e.g. 3/10") from None
    if not (n >= 1 and 1 <= i <= n):
        raise InputError(f"--shard {text}: need 1 <= I <= N")
    return i, n


# ------------------------------------------------------------------ the work of one task
def execute_batch(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Run a batch of runs; never raises for a failing run (it is recorded as failed)."""
    from ruralgov.model.measures import summarise
    from ruralgov.study.runner import run_scenario

    scenario = payload["scenario"]
    base, steps, outputs = payload["base"], payload["steps"], payload["outputs"]
    out = []
    for spec in payload["runs"]:
        t0 = time.perf_counter()
        row: dict[str, Any] = {"run_id": spec.run_id, "point": spec.point,
                               "replicate": spec.replicate, "seed": spec.seed}
        series = None
        try:
            res = run_scenario(scenario, seed=spec.seed, steps=steps,
                               overrides={**base, **spec.values}, collect_detail=False)
            summary = {k: v for k, v in summarise(res.series).items()}
            row.update(status="ok", error="")
            params = res.parameters
            if outputs.get("series"):
                series = _thin(res.series, outputs)
                series.insert(0, "run_id", spec.run_id)
        except Exception as err:  # a run that fails is data, not the end of the sweep
            summary = {}
            params = {**payload["all_params"], **spec.values}
            row.update(status="failed", error=f"{type(err).__name__}: {err}"[:2000])
            if os.environ.get("RURALGOV_DEBUG"):
                traceback.print_exc()
        row["wall_s"] = time.perf_counter() - t0
        row.update(params)
        row.update(summary)
        out.append({"row": row, "series": series})
    return out


def _thin(series: pd.DataFrame, outputs: dict[str, Any]) -> pd.DataFrame:
    every = outputs.get("series_every", 1)
    keep = (series["step"] % every == 0) | (series.index == len(series) - 1)
    cols = ["step"] + [c for c in (outputs.get("measures") or series.columns)
                       if c != "step" and c in series.columns]
    return series.loc[keep, cols].reset_index(drop=True)


# ------------------------------------------------------------------ storage
def _done_runs(out: Path) -> dict[str, str]:
    """run id -> status for committed runs; tidies what interrupted writes left behind."""
    done = run_status(out)
    # orphans: series parts whose runs part was never committed (an interrupted write). They
    # are never read; removed once old, so that a part another shard is committing right now
    # (series written, runs not yet) is never touched.
    stems = {p.name for p in (out / "runs").glob("part-*.parquet")}
    now = time.time()
    for part in (out / "series").glob("part-*.parquet"):
        try:
            if part.name not in stems and now - part.stat().st_mtime > 3600:
                part.unlink()
        except FileNotFoundError:  # pragma: no cover - removed meanwhile
            pass
    for sub in ("runs", "series", "log"):
        remove_stale_temporaries(out / sub)
    remove_stale_temporaries(out)
    return done


class _Writer:
    """Buffers finished runs and commits them as parts, every ``every`` runs or seconds."""

    def __init__(self, out: Path, tag: str, every_runs: int, every_s: float = 10.0):
        self.out, self.tag = out, tag
        self.every_runs, self.every_s = every_runs, every_s
        self.rows: list[dict] = []
        self.series: list[pd.DataFrame] = []
        self.last = time.monotonic()
        self.seq = 0

    def add(self, records: list[dict[str, Any]]) -> None:
        for r in records:
            self.rows.append(r["row"])
            if r["series"] is not None:
                self.series.append(r["series"])
        if len(self.rows) >= self.every_runs or time.monotonic() - self.last > self.every_s:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        name = f"part-{self.tag}-{self.seq:05d}-{uuid.uuid4().hex[:8]}.parquet"
        if self.series:
            write_parquet(pd.concat(self.series, ignore_index=True), self.out / "series" / name)
        write_parquet(pd.DataFrame(self.rows), self.out / "runs" / name)  # the commit
        self.rows, self.series = [], []
        self.seq += 1
        self.last = time.monotonic()


# ------------------------------------------------------------------ executors
def _process_pool(workers: int) -> cf.Executor:
    # Mesa 3.3 sets the 'spawn' start method when imported; say so explicitly, so the pool
    # behaves the same whether or not mesa was imported first.
    return cf.ProcessPoolExecutor(max_workers=workers,
                                  mp_context=multiprocessing.get_context("spawn"))


def _dask_executor(address: str) -> tuple[cf.Executor, Any]:
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--scheduler needs Dask: pip install 'ruralgov[cluster]'") from None
    try:
        if address.endswith(".json") and Path(address).is_file():
            client = Client(scheduler_file=address, timeout="30s")
        else:
            client = Client(address, timeout="30s")
    except (OSError, TimeoutError) as err:
        raise InputError(f"--scheduler {address}: cannot connect ({err})") from None
    return client.get_executor(), client


def _batch_size(exp: Experiment, pending: int, workers: int) -> int:
    """Runs per task: about 2 s of work a task, but at least 4 tasks per worker."""
    n = exp.base.get("n_villagers", 2000)
    est = 0.35 * (n * exp.steps) / (2000 * 200)  # seconds: the default run takes ~0.35 s
    by_time = max(1, int(2.0 / max(est, 1e-3)))
    by_spread = max(1, math.ceil(pending / (4 * max(workers, 1))))
    return max(1, min(by_time, by_spread, 200))


# ------------------------------------------------------------------ the sweep
def run_sweep(exp: Experiment, out: Path | str | None = None, *, workers: int | None = None,
              scheduler: str | None = None, shard: tuple[int, int] | None = None,
              retry_failed: bool = False, progress: bool = True,
              executor: cf.Executor | None = None,
              on_batch: Callable[[int], None] | None = None) -> SweepReport:
    """Run what ``out`` does not hold yet of experiment ``exp`` (or of one shard of it).

    Args:
        workers: local processes (default: all cores); 1 runs in this process.
        scheduler: address (``tcp://host:8786``) or scheduler file of a running Dask cluster.
        shard: (I, N): only runs whose index is I - 1 modulo N.
        retry_failed: run again the runs recorded as failed (a success then takes their
            place in [`read_runs`][ruralgov.io.results.read_runs]).
        executor: any ``concurrent.futures.Executor`` to use instead (tests, notebooks).
    """
    t_start = time.monotonic()
    out = Path(out) if out is not None else default_sweep_dir(exp)
    manifest_path = out / "manifest.json"
    digest = exp.definition_hash()
    if manifest_path.exists():
        old = read_manifest(out)
        if old.get("definition_sha256") != digest:
            raise InputError(
                f"--out {out}: holds results of a different experiment definition "
                f"({old.get('experiment', {}).get('file')}, definition "
                f"{str(old.get('definition_sha256'))[:12]}…; now {digest[:12]}…). Results are "
                "never mixed or overwritten: choose another --out, or remove that folder")
    else:
        manifest = {
            "ruralgov_version": __version__, "created_utc": utc_now(),
            "experiment": {"name": exp.name, "title": exp.title, "description": exp.description,
                           "file": str(exp.path) if exp.path else None, "sha256": exp.sha256},
            "definition_sha256": digest, "definition": exp.definition(),
            "n_points": len(exp.points), "n_runs": exp.n_runs, "root_seed": exp.root_seed,
            "seeding": "numpy SeedSequence(root_seed, spawn_key=(point, replicate))",
            "versions": versions(), "git": git_revision(),
            "tables": {"runs": "runs/part-*.parquet", "series": "series/part-*.parquet"},
        }
        # a new sweep: only into an empty folder (or one another shard is just starting)
        require_empty(out, "--out", allow=SWEEP_FILES)
        out.mkdir(parents=True, exist_ok=True)
        write_json(manifest, manifest_path)
    for sub in ("runs", "series", "log"):
        (out / sub).mkdir(exist_ok=True)

    runs = exp.runs()
    if shard is not None:
        i, n = shard
        runs = [r for r in runs if r.index % n == i - 1]
    done = _done_runs(out)
    if retry_failed:
        pending = [r for r in runs if done.get(r.run_id) != "ok"]
    else:
        pending = [r for r in runs if r.run_id not in done]
    already = len(runs) - len(pending)

    own_client = None
    kind = "serial"
    n_workers = 1
    if executor is not None:
        kind = type(executor).__name__
        n_workers = workers or os.cpu_count() or 1
    elif scheduler:
        executor, own_client = _dask_executor(scheduler)
        kind = f"dask {scheduler}"
        n_workers = max(1, sum(own_client.nthreads().values()))
    else:
        n_workers = workers or os.cpu_count() or 1
        if n_workers > 1 and len(pending) > 1:
            executor = _process_pool(n_workers)
            kind = f"process pool x{n_workers}"

    tag = (f"s{shard[0]}of{shard[1]}" if shard else "all") + f"-{uuid.uuid4().hex[:6]}"
    log = {"started_utc": utc_now(), "executor": kind, "workers": n_workers,
           "shard": list(shard) if shard else None, "runs_in_scope": len(runs),
           "already_done": already, "to_run": len(pending), "command": sys.argv}
    label = f"sweep {exp.name}" + (f" shard {shard[0]}/{shard[1]}" if shard else "")
    bar = Progress(label, len(runs), unit="runs", initial=already, failures=True,
                   enabled=progress)
    batch = _batch_size(exp, len(pending), n_workers)
    writer = _Writer(out, tag, every_runs=max(batch, 20))
    payload_base = {"scenario": exp.scenario, "base": exp.parameters, "steps": exp.steps,
                    "outputs": exp.outputs, "all_params": exp.base}
    batches = [pending[k:k + batch] for k in range(0, len(pending), batch)]
    ran = 0
    failed_now = 0
    try:
        if executor is None:
            for b in batches:
                res = execute_batch({**payload_base, "runs": b})
                ran, failed_now = _take(res, writer, bar, ran, failed_now, on_batch)
        else:
            ran, failed_now = _run_on(executor, batches, payload_base, writer, bar, ran,
                                      failed_now, on_batch, restartable=own_client is None
                                      and isinstance(executor, cf.ProcessPoolExecutor),
                                      n_workers=n_workers)
    finally:
        writer.flush()
        bar.close()
        if own_client is not None:
            own_client.close()
        elif executor is not None and kind.startswith("process pool"):
            executor.shutdown(cancel_futures=True)
        done = _done_runs(out)
        failed = sum(1 for r in runs if done.get(r.run_id) == "failed")
        log.update(ended_utc=utc_now(), ran=ran, failed_this_time=failed_now,
                   done_in_scope=sum(1 for r in runs if r.run_id in done),
                   failed_in_scope=failed, seconds=round(time.monotonic() - t_start, 3))
        write_json(log, out / "log" / f"{utc_stamp()}-{tag}.json")
        # the manifest's running account: over every run committed in the folder so far
        try:
            manifest = read_manifest(out)
            manifest.update(updated_utc=log["ended_utc"], counts={
                "runs": exp.n_runs, "done": len(done),
                "ok": sum(1 for v in done.values() if v == "ok"),
                "failed": sum(1 for v in done.values() if v != "ok"),
                "missing": exp.n_runs - len(done)}, last_invocation=log)
            write_json(manifest, manifest_path)
        except (OSError, ValueError):  # pragma: no cover - the log above has the record
            pass
    return SweepReport(out=out, total=len(runs), already=already, ran=ran, failed=failed,
                       seconds=time.monotonic() - t_start)


def _take(res, writer, bar, ran, failed_now, on_batch):
    writer.add(res)
    f = sum(1 for r in res if r["row"]["status"] != "ok")
    ran += len(res)
    failed_now += f
    if bar is not None:
        bar.update(len(res), f)
    if on_batch:
        on_batch(ran)
    return ran, failed_now


def _run_on(executor, batches, payload_base, writer, bar, ran, failed_now, on_batch, *,
            restartable: bool, n_workers: int):
    """Submit every batch; survive a broken process pool by restarting it and resubmitting
    the batches that had not come back (a worker killed by the OS, say)."""
    todo = list(range(len(batches)))
    attempts = 0
    created = None
    while todo:
        futures = {executor.submit(execute_batch, {**payload_base, "runs": batches[k]}): k
                   for k in todo}
        finished = []
        try:
            for fut in cf.as_completed(futures):
                res = fut.result()
                finished.append(futures[fut])
                ran, failed_now = _take(res, writer, bar, ran, failed_now, on_batch)
            todo = []
        except cf.process.BrokenProcessPool:
            if not restartable or attempts >= 3:
                raise
            attempts += 1
            executor.shutdown(cancel_futures=True)
            executor = created = _process_pool(n_workers)
            todo = [k for k in todo if k not in set(finished)]
            sys.stderr.write(f"\nworker lost; restarting the pool and resubmitting "
                             f"{len(todo)} task(s)\n")
    if created is not None:
        created.shutdown()
    return ran, failed_now
