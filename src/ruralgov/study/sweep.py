"""Run an experiment: many runs, on one core, a process pool, a Dask cluster or SLURM shards.

``run_sweep(experiment, out)`` runs every run of an experiment that ``out`` does not hold yet
and streams the results there:

* ``runs/part-*.parquet`` — one row per run: run id, design point, replicate, seed, status
  (``ok`` / ``failed``), error, wall time, every parameter, every summary measure;
* ``series/part-*.parquet`` — per-step measures (if the experiment keeps them), one row per
  run and kept step;
* ``manifest.json`` — the experiment (file, hash, resolved design), root seed, versions, git
  revision; ``log/*.json`` — one record per invocation (executor, start, end, counts), written
  when it starts and completed when it ends, so a killed one leaves its record too (marked
  ``killed`` by the next invocation).

Parts are written atomically ([`ruralgov.io.files`][ruralgov.io.files]), series first and runs
second: a runs part is the commit record of its runs, so after any interruption the runs it
lists are complete and everything else is simply run again. The folder is read with
[`ruralgov.io.results`][ruralgov.io.results]. Each run's seed comes from the root seed and the
run's design point and replicate
([`ruralgov.study.experiment.run_seed`][ruralgov.study.experiment.run_seed]), so results are
identical whatever the executor, the number of workers, the shard or the order. A new sweep is
written only into an empty folder; an existing sweep folder is resumed, and only by the same
experiment definition (which includes a hash of every input file).

**Concurrent writers** (SLURM array shards, requeued jobs, a command started twice) are safe:
each invocation holds a lock on its runs ([`FolderLock`][ruralgov.io.locks.FolderLock]; a
second invocation over the same or overlapping runs exits naming the holder, or waits with
``wait``), names its files with its own tag and touches no file of another live invocation.
Before running, the lock holder puts the folder right: a series part whose runs part never
came (its writer died) is removed, unreadable parts are moved to ``quarantine/`` and their
runs rerun, and of a run recorded twice (a retried failure) only the best row is kept — so the
raw ``runs/`` and ``series/`` datasets, read with ``pd.read_parquet(folder / "runs")`` or a
DuckDB glob, hold each run once.

Every executor is used through the ``concurrent.futures`` protocol. Runs are grouped into
tasks of several runs so that per-task overhead stays small. The model knows nothing of any
of this.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ruralgov import __version__
from ruralgov.io.files import (
    RESULTS,
    TMP_PREFIX,
    dumps,
    ensure_writable,
    remove_stale_temporaries,
    require_empty,
    utc_stamp,
    write_json,
    write_json_new,
    write_parquet,
)
from ruralgov.io.locks import MAINTENANCE, FolderLock, Guard, live_tags
from ruralgov.io.provenance import git_revision, utc_now, versions
from ruralgov.io.results import read_manifest, read_runs, read_series, run_status
from ruralgov.model.schema import InputError
from ruralgov.study.evaluator import check_scheduler, check_spawn_safe  # noqa: F401 (API)
from ruralgov.study.evaluator import close_executor as _close
from ruralgov.study.evaluator import open_executor as _executor
from ruralgov.study.evaluator import process_pool as _process_pool
from ruralgov.study.processes import heap_for_arrays
from ruralgov.study.progress import Progress

if TYPE_CHECKING:  # pragma: no cover - annotations only (experiment.py runs sweeps)
    from ruralgov.study.experiment import Experiment

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


SWEEP_FILES = ("manifest.json", "runs", "series", "log", "locks", "quarantine")
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
    """Run a batch of runs; never raises for a failing run (it is recorded as failed).

    With ``payload["batch"]`` R > 1, consecutive runs of one design point (same parameters,
    their own seeds) are stepped together, up to R at a time, as an
    [`Ensemble`][ruralgov.model.ensemble.Ensemble]: the same results bit for bit, in less
    time. If an ensemble fails, its runs are run again one at a time, so a failure is still
    recorded against the run that failed."""
    heap_for_arrays()  # a Dask worker's malloc setting would halve an ensemble's speed
    out: list[dict[str, Any]] = []
    try:
        for group in _ensembles(payload):
            if len(group) > 1:
                records = _run_together(group, payload)
                if records is not None:
                    out.extend(records)
                    continue
            for spec in group:
                out.append(_run_alone(spec, payload))
    except KeyboardInterrupt as stop:  # in this process (a serial sweep): keep what finished
        stop.finished_records = out
        raise
    return out


def _ensembles(payload: dict[str, Any]) -> list[list]:
    """The batch's runs in groups to step together: consecutive runs that differ at most in
    parameters of [`PER_RUN`][ruralgov.model.ensemble.PER_RUN] (a design point's replicates,
    and the points of most experiments), at most ``payload["batch"]`` a group (groups of one
    where an ensemble cannot be used: custom reporters, field data, random-sequential
    updating)."""
    from ruralgov.model.ensemble import PER_RUN, SAME_SIGN

    runs, size = payload["runs"], int(payload.get("batch", 1))
    scenarios = [payload["scenario"], *payload.get("scenarios", {}).values()]
    able = (size > 1 and not payload.get("reporters") and not any(s.network for s in scenarios)
            and not payload["all_params"].get("random_sequential") and not payload.get("stop")
            and not payload.get("series_reporters"))

    def shared(spec):
        key = {k: v for k, v in spec.values.items() if k not in PER_RUN}
        key.update({f"{k} > 0": spec.values[k] > 0 for k in SAME_SIGN if k in spec.values})
        return key

    groups: list[list] = []
    for spec in runs:
        last = groups[-1] if groups else None
        if (able and last and len(last) < size and shared(last[0]) == shared(spec)
                and not spec.values.get("random_sequential")):
            last.append(spec)
        else:
            groups.append([spec])
    return groups


def _run_together(group: list, payload: dict[str, Any]) -> list[dict[str, Any]] | None:
    from ruralgov.model.ensemble import PER_RUN
    from ruralgov.study.runner import run_ensemble

    t0 = time.perf_counter()
    try:
        results = run_ensemble(
            _scenario(group[0], payload), [spec.seed for spec in group], steps=payload["steps"],
            overrides={**payload["base"], **{k: v for k, v in _values(group[0]).items()
                                             if k not in PER_RUN}},
            varying=[{k: v for k, v in spec.values.items() if k in PER_RUN}
                     for spec in group])
    except Exception:  # each run again on its own: the failure is recorded per run
        if os.environ.get("RURALGOV_DEBUG"):
            traceback.print_exc()
        return None
    wall = (time.perf_counter() - t0) / len(group)
    return [_record(spec, res, None, payload, wall) for spec, res in zip(group, results)]


def _run_alone(spec, payload: dict[str, Any]) -> dict[str, Any]:
    from ruralgov.study.runner import run_scenario

    t0 = time.perf_counter()
    try:
        res = run_scenario(_scenario(spec, payload), seed=spec.seed, steps=payload["steps"],
                           overrides={**payload["base"], **_values(spec)}, collect_detail=False,
                           reporters=payload.get("reporters"), stop=payload.get("stop"),
                           series_reporters=payload.get("series_reporters"))
        error = None
    except Exception as err:  # a run that fails is data, not the end of the sweep
        res, error = None, err
        if os.environ.get("RURALGOV_DEBUG"):
            traceback.print_exc()
    return _record(spec, res, error, payload, time.perf_counter() - t0)


def _record(spec, res, error: Exception | None, payload: dict[str, Any],
            wall: float) -> dict[str, Any]:
    """One run's row (and thinned series) from its result, or its failure."""
    row: dict[str, Any] = {"run_id": spec.run_id, "point": spec.point,
                           "replicate": spec.replicate, "seed": spec.seed}
    series = None
    if res is not None:
        # the run's summary measures and custom reporters (scenario and seed are in the row)
        summary = {k: v for k, v in res.summary.items() if k not in ("scenario", "seed")}
        row.update(status="ok", error="")
        params = res.parameters
        outputs = payload["outputs"]
        if outputs.get("series"):
            series = _thin(res.series, outputs)
            series.insert(0, "run_id", spec.run_id)
    else:
        summary = {}
        params = {**payload["all_params"], **spec.values}
        row.update(status="failed", error=f"{type(error).__name__}: {error}"[:2000])
    row["wall_s"] = wall
    row.update(params)
    row.update(summary)
    if "scenario" in spec.values:  # a scenario factor: which scenario the run ran
        row["scenario"] = spec.values["scenario"]
    return {"row": row, "series": series}


def _scenario(spec, payload: dict[str, Any]):
    """The scenario a run runs: its design point's (a scenario factor) or the experiment's."""
    name = spec.values.get("scenario")
    return payload["scenario"] if name is None else payload["scenarios"][name]


def _values(spec) -> dict[str, Any]:
    """A run's parameter values (its design point less the scenario it names)."""
    return {k: v for k, v in spec.values.items() if k != "scenario"}


def _thin(series: pd.DataFrame, outputs: dict[str, Any]) -> pd.DataFrame:
    every = outputs.get("series_every", 1)
    keep = (series["step"] % every == 0) | (series.index == len(series) - 1)
    cols = ["step"] + [c for c in (outputs.get("measures") or series.columns)
                       if c != "step" and c in series.columns]
    return series.loc[keep, cols].reset_index(drop=True)


# ------------------------------------------------------------------ storage
PART = re.compile(r"^part-(?P<tag>.+)-(?P<seq>\d{5})\.parquet$")
"""A part's name: ``part-<tag>-<seq>.parquet``, ``tag`` the lock tag of the invocation that
wrote it ([`FolderLock`][ruralgov.io.locks.FolderLock])."""


def _tag_of(name: str) -> str | None:
    """The writer's tag in a part's (or a part's temporary file's) name."""
    m = PART.match(name.split("-", 3)[-1] if name.startswith(TMP_PREFIX) else name)
    return m.group("tag") if m else None


def _recover(out: Path, own: str, scope: Callable[[str], bool]) -> list[str]:
    """Put the folder right before running, while holding the lock of ``scope`` and, so that
    one invocation at a time does this, the folder's maintenance guard: what dead invocations
    left half-done is removed, unreadable parts are set aside, and rows of runs in ``scope``
    that a later row superseded are dropped. A file is removed only if its writer is dead when
    it is looked at: the candidates are listed first and the live writers read after (a writer
    takes its lock before writing its first file). Returns one line per thing done."""
    with Guard(out / "locks" / MAINTENANCE):
        notes = _quarantine_corrupt(out, live_tags(out) - {own})
        orphans = [p for p in (out / "series").glob("part-*.parquet")
                   if not (out / "runs" / p.name).exists()]
        temporaries = [t for sub in ("runs", "series", "log")
                       for t in (out / sub).glob(f"{TMP_PREFIX}*")]
        live = live_tags(out) - {own}
        for part in orphans:
            # a series part whose runs part never came (its writer died between the renames)
            if _tag_of(part.name) not in live and not (out / "runs" / part.name).exists():
                part.unlink(missing_ok=True)
                notes.append(f"removed {part.name}: series of runs that were never committed")
        for tmp in temporaries:
            tag = _tag_of(tmp.name)
            if tag is not None and tag not in live:
                tmp.unlink(missing_ok=True)
        for sub in ("runs", "series", "log"):
            remove_stale_temporaries(out / sub)
        remove_stale_temporaries(out)
        notes += _compact(out, live, scope)
    return notes


def _quarantine_corrupt(out: Path, live: set[str]) -> list[str]:
    """Move every committed part that cannot be read (truncated, garbage) — with its partner
    of the same name — into ``quarantine/``; its runs are then simply run again."""

    notes = []
    for sub in ("runs", "series"):
        for part in sorted((out / sub).glob("part-*.parquet")):
            if _tag_of(part.name) in live:
                continue
            try:  # every page decoded and the table built, as analyze will read it (not
                pd.read_parquet(part)  # only the footer: garbled pages or metadata show here)
                continue
            except OSError as err:
                if err.errno is not None:  # gone, or a passing file-system error: not corrupt
                    continue
                reason = f"{type(err).__name__}: {err}"[:200]
            except MemoryError:  # the machine, not the part: never set aside a good part
                raise
            except Exception as err:  # pyarrow raises several kinds for a broken file
                reason = f"{type(err).__name__}: {err}"[:200]
            q = out / "quarantine" / utc_stamp()
            q.mkdir(parents=True, exist_ok=True)
            for partner in ("runs", "series"):
                src = out / partner / part.name
                if src.exists():
                    os.replace(src, q / f"{partner}-{part.name}")
            notes.append(f"quarantined {sub}/{part.name} ({reason}); its runs will be rerun")
            sys.stderr.write(f"ruralgov: {out}/{sub}/{part.name} is unreadable ({reason}); "
                             f"moved to {q} and its runs will be run again\n")
    return notes


def _compact(out: Path, live: set[str], scope: Callable[[str], bool]) -> list[str]:
    """Keep one row per run in the raw runs and series datasets: for each run in ``scope`` the
    best row (``ok`` over ``failed``, then the latest) stays; older rows of that run are
    removed from their parts, and a superseded ``ok`` row's series rows from the series part
    of the same name (each part rewritten atomically, or removed when nothing is left). Run
    under the folder's maintenance guard."""
    parts = [p for p in sorted((out / "runs").glob("part-*.parquet"))
             if _tag_of(p.name) not in live]
    if not parts:
        return []
    tables = {p: pd.read_parquet(p, columns=["run_id", "status"]) for p in parts}
    rows = pd.concat([t.assign(_part=str(p), _mtime=p.stat().st_mtime, _row=range(len(t)))
                      for p, t in tables.items()], ignore_index=True)
    rows = rows[rows.run_id.map(scope)]
    dup = rows[rows.run_id.duplicated(keep=False)]
    if dup.empty:
        return []
    dup = dup.assign(_ok=(dup.status == "ok").astype(int))
    best = dup.sort_values(["_ok", "_mtime", "_part", "_row"]).groupby("run_id").tail(1)
    drop = dup.drop(best.index)
    notes = []
    for part, gone in drop.groupby("_part"):
        path = Path(part)
        series = out / "series" / path.name
        superseded_ok = set(gone.run_id[gone.status == "ok"])
        if superseded_ok and series.exists():  # a run committed twice: its older series go
            rows_s = pd.read_parquet(series)
            write_parquet(rows_s[~rows_s.run_id.isin(superseded_ok)].reset_index(drop=True),
                          series)
        table = pd.read_parquet(path)
        keep = table.drop(index=gone["_row"].to_numpy())
        if keep.empty and not series.exists():
            path.unlink()
        else:
            write_parquet(keep.reset_index(drop=True), path)
        notes.append(f"{path.name}: dropped {len(gone)} superseded row(s) of "
                     f"{', '.join(sorted(gone.run_id))[:120]}")
    return notes


class _Writer:
    """Buffers finished runs and commits them as parts, every ``every`` runs or seconds.

    A commit writes the series part and the runs part under temporary names, then renames the
    series part into place and then the runs part: the runs part is the commit record, so a
    series part without its runs part is never read, and is removed by the next invocation."""

    def __init__(self, out: Path, tag: str, every_runs: int, every_s: float = 10.0,
                 lock: FolderLock | None = None):
        self.out, self.tag, self.lock = out, tag, lock
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
        if self.lock is not None:
            self.lock.check()  # a writer that lost its lock never writes again
        name = f"part-{self.tag}-{self.seq:05d}.parquet"
        if self.series:
            write_parquet(pd.concat(self.series, ignore_index=True), self.out / "series" / name)
        write_parquet(pd.DataFrame(self.rows), self.out / "runs" / name)  # the commit
        self.rows, self.series = [], []
        self.seq += 1
        self.last = time.monotonic()


def _run_seconds(exp: Experiment) -> float:
    """A rough estimate of one run's time on one core: the default run (2,000 villagers, 200
    steps) takes about 0.35 s."""
    return 0.35 * (exp.base.get("n_villagers", 2000) * exp.steps) / (2000 * 200)


SERIAL_BELOW_S = 10.0
"""A sweep whose estimated work is less than this (seconds on one core) runs in this process
when no number of workers is asked for: starting a process pool (each worker imports ruralgov,
about a second and a half) would cost more than it saves."""


BATCH_VILLAGERS = 131_072
"""By default a sweep steps together as many runs of a design point as make about this many
villagers (at most [`MAX_BATCH`][ruralgov.study.sweep.MAX_BATCH]): past a few tens of thousands
of villagers a step is no longer dominated by its fixed cost, so larger ensembles gain
nothing."""

MAX_BATCH = 64
"""The most runs a sweep steps together by default."""


def default_batch(exp: Experiment) -> int:
    """Runs of one design point stepped together by default (``--batch``): enough for about
    [`BATCH_VILLAGERS`][ruralgov.study.sweep.BATCH_VILLAGERS] villagers, 1 for large
    counties."""
    n = int(exp.base.get("n_villagers", 2000))
    return max(1, min(MAX_BATCH, BATCH_VILLAGERS // max(n, 1)))


def _check_batch(exp: Experiment, batch: int | None) -> int:
    if batch is None:
        return default_batch(exp)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise InputError(f"batch = {batch!r}: allowed a whole number from 1 (1: one run at a "
                         "time)")
    return batch


def _batch_size(exp: Experiment, pending: int, workers: int) -> int:
    """Runs per task: about 2 s of work a task, but at least 4 tasks per worker."""
    est = _run_seconds(exp)
    by_time = max(1, int(2.0 / max(est, 1e-3)))
    by_spread = max(1, math.ceil(pending / (4 * max(workers, 1))))
    return max(1, min(by_time, by_spread, 200))


def _ensemble_task(exp: Experiment, pending: int, workers: int, batch: int, size: int) -> int:
    """Runs per task when runs are stepped together: up to ``batch`` (an ensemble is about
    three times faster, so about 10 s of work), but at least 2 tasks per worker (so that
    finished runs are saved as the sweep goes and the workers share the work; a task is
    written as soon as it is done)."""
    by_time = max(1, int(30.0 / max(_run_seconds(exp), 1e-3)))
    spread = math.ceil(pending / (2 * max(workers, 1)))
    return max(1, min(batch, max(size, by_time), max(spread, 1)))


# ------------------------------------------------------------------ the sweep
def run_sweep(exp: Experiment, out: Path | str | None = None, *, workers: int | None = None,
              scheduler: str | None = None, shard: tuple[int, int] | None = None,
              retry_failed: bool = False, progress: bool = True,
              executor: cf.Executor | None = None, wait: bool | float = False,
              on_batch: Callable[[int], None] | None = None,
              batch: int | None = None, extend: bool = False) -> SweepReport:
    """Run what ``out`` does not hold yet of experiment ``exp`` (or of one shard of it).

    Args:
        workers: local processes (default: all cores, or 1 — this process — when the
            estimated work is under [`SERIAL_BELOW_S`][ruralgov.study.sweep.SERIAL_BELOW_S]);
            1 runs in this process.
        scheduler: address (``tcp://host:8786``) or scheduler file of a running Dask cluster.
        shard: (I, N): only runs whose index is I - 1 modulo N.
        retry_failed: run again the runs recorded as failed (the new row replaces the old).
        executor: any ``concurrent.futures.Executor`` to use instead (tests, notebooks).
        wait: if another live invocation is writing the same or overlapping runs into
            ``out``, wait for it (``True``, or at most this many seconds) instead of refusing
            with [`LockHeld`][ruralgov.io.locks.LockHeld].
        batch: runs of one design point stepped together as an ensemble (same results, less
            time; default [`default_batch`][ruralgov.study.sweep.default_batch]; 1: one at a
            time).
        extend: grow a sweep of fewer replications or points in ``out``, keeping its runs.
    """
    batch = _check_batch(exp, batch)
    if executor is None and not scheduler:  # on this machine: the largest county must fit
        _check_memory(exp)
    t_start = time.monotonic()
    out = _open_folder(exp, Path(out) if out is not None else default_sweep_dir(exp), extend)
    scope = shard or (1, 1)
    runs = [r for r in exp.runs() if r.index % scope[1] == scope[0] - 1]
    in_scope = {r.run_id for r in runs}
    with FolderLock(out, scope, wait=wait) as lock:
        notes = _recover(out, lock.tag, in_scope.__contains__)
        done = run_status(out)
        pending = [r for r in runs if (done.get(r.run_id) != "ok" if retry_failed
                                       else r.run_id not in done)]
        already = len(runs) - len(pending)
        if workers is None and executor is None and not scheduler and \
                len(pending) * _run_seconds(exp) < SERIAL_BELOW_S:
            workers = 1  # small: serial beats starting a pool
        log, record = _start_record(out, lock.tag, notes, shard=list(shard) if shard else None,
                                    runs_in_scope=len(runs), already_done=already,
                                    to_run=len(pending), batch=batch)
        executor, own, kind, n_workers = _executor(
            executor, workers, scheduler, len(pending),
            {**exp.reporters, **exp.series_reporters})
        log.update(executor=kind, workers=n_workers)
        label = f"sweep {exp.name}" + (f" shard {shard[0]}/{shard[1]}" if shard else "")
        bar = Progress(label, len(runs), unit="runs", initial=already, failures=True,
                       enabled=progress)
        size = _batch_size(exp, len(pending), n_workers)
        if batch > 1:
            size = _ensemble_task(exp, len(pending), n_workers, batch, size)
        writer = _Writer(out, lock.tag, every_runs=max(size, 20), lock=lock)
        payload_base = _payload(exp, batch)
        batches = [pending[k:k + size] for k in range(0, len(pending), size)]
        ran = failed_now = 0
        try:
            if executor is None:
                try:
                    ran, failed_now = _run_here(batches, payload_base, writer, bar, on_batch)
                except KeyboardInterrupt as stop:  # what ran is logged
                    ran, failed_now = stop.counts
                    raise
            else:
                ran, failed_now = _run_on(executor, batches, payload_base, writer, bar, ran,
                                          failed_now, on_batch, n_workers=n_workers,
                                          restartable=isinstance(executor, cf.ProcessPoolExecutor)
                                          and own in (None, "pool"))
        finally:
            writer.flush()
            bar.close()
            _close(executor, own)
            with Guard(out / "locks" / MAINTENANCE):
                _compact(out, live_tags(out) - {lock.tag}, in_scope.__contains__)
            failed = _finish(exp, out, runs, log, ran, failed_now, t_start, record)
    return SweepReport(out=out, total=len(runs), already=already, ran=ran, failed=failed,
                       seconds=time.monotonic() - t_start)


def _payload(exp: Experiment, batch: int) -> dict[str, Any]:
    """What every task of the sweep carries besides its runs."""
    return {"scenario": exp.scenario, "scenarios": exp.scenarios, "stop": exp.stop,
            "base": exp.parameters, "steps": exp.steps, "outputs": exp.outputs,
            "all_params": exp.base, "reporters": exp.reporters, "batch": batch,
            "series_reporters": exp.series_reporters}


def _check_memory(exp: Experiment) -> None:
    """Refuse, before any run, a design whose largest county does not fit in the memory this
    process may use ([`check_fits`][ruralgov.model.footprint.check_fits])."""
    from ruralgov.model.footprint import check_fits, largest

    where = f"{exp.path or exp.name}: design"
    if not exp.scenarios:
        check_fits(largest(exp.base, exp.points), where)
    for name in exp.scenarios:  # each scenario's county with the points that run it
        pts = exp.points[exp.points.scenario == name].drop(columns="scenario")
        check_fits(largest(exp.base_of(name), pts), f"{where} (scenario {name})")


def definition_changes(old: dict[str, Any], new: dict[str, Any], where: str = ""
                       ) -> list[str]:
    """What differs between two sweep definitions, one line a field: ``steps: 200 → 240``;
    the design points as counts (``points: 6 → 9, the first 6 unchanged``)."""
    if where == "points.":
        n_old, n_new = (len(next(iter(d.values()), [])) for d in (old, new))
        kept = set(old) == set(new) and all(new[k][:n_old] == v for k, v in old.items())
        return [f"points: {n_old} → {n_new}" + (f", the first {n_old} unchanged" if kept
                                                 else " (the old points changed)")]
    out = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key, "(none)"), new.get(key, "(none)")
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += definition_changes(a, b, f"{where}{key}.")
        else:
            out.append(f"{where}{key}: {a!r} → {b!r}")
    return out


def _as_json(obj: Any) -> Any:
    """``obj`` as the manifest holds it (read back from JSON: lists, plain numbers)."""
    return json.loads(dumps(obj))


def _grows(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``new`` only adds runs to ``old``: more replications, or design points appended
    after the old ones (every old run keeps its point, replicate and seed). The factors and
    design may read differently (a level added) as long as the points only grow."""
    same = {k for k in set(old) | set(new) if old.get(k) == new.get(k)}
    if (set(old) | set(new)) - same - {"replications", "points", "factors", "design",
                                       "scenario_factor"}:
        return False
    old_sc, new_sc = old.get("scenario_factor") or [], new.get("scenario_factor") or []
    if new_sc[:len(old_sc)] != old_sc:  # scenarios may only be appended
        return False
    if new["replications"] < old["replications"]:
        return False
    o, n = old["points"], new["points"]
    return set(o) == set(n) and all(n[k][:len(v)] == v for k, v in o.items())


def _extend(exp: Experiment, out: Path, old: dict[str, Any], digest: str) -> None:
    """Record the grown definition in the manifest, keeping the history of what it was."""
    with Guard(out / "locks" / MAINTENANCE):
        current = read_manifest(out)
        if current.get("definition_sha256") == digest:  # another invocation extended it
            return
        history = current.get("extended", [])
        history.append({"utc": utc_now(), "from_sha256": old["definition_sha256"],
                        "changes": definition_changes(old["definition"],
                                                      _as_json(exp.definition())),
                        "n_runs_before": old.get("n_runs")})
        write_json({**current, "definition_sha256": digest, "definition": exp.definition(),
                    "n_points": len(exp.points), "n_runs": exp.n_runs, "extended": history},
                   out / "manifest.json")


def _open_folder(exp: Experiment, out: Path, extend: bool = False) -> Path:
    """The sweep folder, checked: an existing sweep of the same definition is resumed (or,
    with ``extend``, grown), a new one is created only where nothing would be overwritten,
    and the folder must be writable (checked before anything runs)."""
    digest = exp.definition_hash()
    if (out / "manifest.json").exists():
        old = read_manifest(out)
        if old.get("definition_sha256") != digest:
            before, now = old.get("definition") or {}, _as_json(exp.definition())
            changes = definition_changes(before, now)
            grows = bool(before) and _grows(before, now)
            if grows and extend:
                (out / "locks").mkdir(exist_ok=True)
                _extend(exp, out, old, digest)
                return _open_folder(exp, out)
            file = old.get("experiment", {}).get("file")
            raise InputError(
                f"--out {out}: holds results of a different experiment definition"
                f"{f' ({file})' if file else ''}: {'; '.join(changes) or 'its hash'}. "
                + ("Only runs are added: rerun with --extend to grow the sweep in this folder, "
                   "keeping the runs done" if grows else "Results are never mixed or "
                   "overwritten: choose another --out, or remove that folder"))
    else:
        require_empty(out, "--out", allow=SWEEP_FILES)  # before creating anything
        ensure_writable(out, "--out")
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
        try:  # shards starting together: the first one's manifest stands
            write_json_new(manifest, out / "manifest.json")
        except FileExistsError:
            return _open_folder(exp, out)
    ensure_writable(out, "--out")
    for sub in ("runs", "series", "log", "locks"):
        (out / sub).mkdir(exist_ok=True)
    return out


def _finish(exp: Experiment, out: Path, runs: list, log: dict[str, Any], ran: int,
            failed_now: int, t_start: float, record: Path) -> int:
    """Complete this invocation's log record (written when it started) and the manifest's
    running account; return how many runs in scope are recorded as failed."""
    done = run_status(out)
    failed = sum(1 for r in runs if done.get(r.run_id) == "failed")
    in_scope = sum(1 for r in runs if r.run_id in done)
    log.update(ended_utc=utc_now(), ran=ran, failed_this_time=failed_now,
               done_in_scope=in_scope, failed_in_scope=failed,
               seconds=round(time.monotonic() - t_start, 3),
               status="complete" if in_scope == len(runs) else "stopped")
    write_json(log, record)
    try:  # the running account over every run committed in the folder so far
        manifest = read_manifest(out)
        manifest.update(updated_utc=log["ended_utc"], counts={
            "runs": exp.n_runs, "done": len(done),
            "ok": sum(1 for v in done.values() if v == "ok"),
            "failed": sum(1 for v in done.values() if v != "ok"),
            "missing": exp.n_runs - len(done)}, last_invocation=log)
        write_json(manifest, out / "manifest.json")
    except (OSError, ValueError, InputError):  # pragma: no cover - the log has the record
        pass
    return failed


def _start_record(out: Path, tag: str, notes: list[str], **counts: Any
                  ) -> tuple[dict[str, Any], Path]:
    """This invocation's log record, written at once (a killed invocation leaves its record
    too); records of killed invocations found on the way are marked so."""
    notes = notes + _mark_killed(out, live_tags(out) - {tag})
    log = {"started_utc": utc_now(), "status": "running", "tag": tag, **counts,
           "recovered": notes, "command": sys.argv}
    record = out / "log" / f"{utc_stamp()}-{tag}.json"
    write_json(log, record)
    return log, record


def _mark_killed(out: Path, live: set[str]) -> list[str]:
    """Invocation records still 'running' whose invocation holds no lock any more: it was
    killed (or its machine failed) before it could record its end. Marked so; returns notes."""
    notes = []
    for f in sorted((out / "log").glob("*.json")):
        try:
            rec = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if rec.get("status") == "running" and rec.get("tag") not in live:
            rec.update(status="killed", note="ended without recording its end (killed, or "
                       "its machine failed); its finished runs are in the folder")
            write_json(rec, f)
            notes.append(f"invocation {rec.get('tag')} (started {rec.get('started_utc')}) "
                         "had been killed")
    return notes


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


def _run_here(batches, payload_base, writer, bar, on_batch) -> tuple[int, int]:
    """Run every batch in this process; on Ctrl+C the interrupted batch's finished runs are
    saved too."""
    ran = failed_now = 0
    for b in batches:
        try:
            res = execute_batch({**payload_base, "runs": b})
        except KeyboardInterrupt as stop:
            ran, failed_now = _take(getattr(stop, "finished_records", []), writer, bar, ran,
                                    failed_now, on_batch)
            stop.counts = (ran, failed_now)
            raise
        ran, failed_now = _take(res, writer, bar, ran, failed_now, on_batch)
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
