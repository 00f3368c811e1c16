"""The one evaluator every study runs its simulations on: this process, a local pool of
processes, or an existing Dask cluster — never a scheduler of the project's own.

* [`evaluator`][ruralgov.study.evaluator.evaluator] — a context manager giving an
  [`Evaluator`][ruralgov.study.evaluator.Evaluator] whose ``map`` runs a function over tasks
  in order (with progress), serially, on a pool or on Dask, and shuts down what it started;
  the sweep engine ([`run_sweep`][ruralgov.study.sweep.run_sweep]: experiments, robustness,
  posterior draws, the calibration's point estimate and SBC reference table, search
  generations, reproduction) and the lever table use it.
* A local pool is spawn-safe or refused with one message
  ([`check_spawn_safe`][ruralgov.study.evaluator.check_spawn_safe]); its workers die with the
  process that started them, even when it is killed.
* A Dask scheduler is checked before any work
  ([`check_scheduler`][ruralgov.study.evaluator.check_scheduler]).

The calibration's ABC-SMC runs on pyabc's own samplers (a local multicore sampler, or its Dask
sampler on the same cluster): pyabc decides which particles to simulate, so its sampler is the
loop there, with the same two choices.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruralgov.model.schema import InputError
from ruralgov.study.processes import die_with_parent

__all__ = ["Evaluator", "evaluator", "process_pool", "dask_executor", "check_scheduler",
           "check_spawn_safe", "open_executor", "close_executor"]


def process_pool(workers: int) -> cf.Executor:
    """A local pool of ``workers`` fresh (spawned) processes that die with this one."""
    # Mesa 3.3 sets the 'spawn' start method when imported; say so explicitly, so the pool
    # behaves the same whether or not mesa was imported first.
    # Workers die with the sweep, even when it is killed (no orphaned workers holding cores).
    return cf.ProcessPoolExecutor(max_workers=workers,
                                  mp_context=multiprocessing.get_context("spawn"),
                                  initializer=die_with_parent)


def check_scheduler(address: str, option: str = "--scheduler", timeout_s: float = 5.0) -> str:
    """Check, before any work, that a Dask scheduler answers at ``address`` (``tcp://host:port``
    or a scheduler JSON file): a TCP connection within ``timeout_s``. Returns the address.

    Raises:
        InputError: Dask missing, a malformed address or file, or nothing listening there."""
    import json
    import socket
    from urllib.parse import urlsplit

    from ruralgov.io.extras import require

    require("distributed", f"{option} (a Dask cluster)")
    where = address
    if address.endswith(".json"):
        try:
            where = json.loads(Path(address).read_text(encoding="utf-8"))["address"]
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(f"{option} {address}: not a readable Dask scheduler file (a JSON "
                             "object with an address)") from None
    url = urlsplit(where if "://" in str(where) else f"tcp://{where}")
    try:
        host, port = url.hostname, url.port
    except ValueError:
        host = port = None
    if url.scheme not in ("tcp", "tls") or not host or not port:
        raise InputError(f"{option} {address}: give tcp://HOST:PORT or a scheduler JSON file")
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as err:
        raise InputError(f"{option} {address}: no Dask scheduler answers there "
                         f"({err.strerror or type(err).__name__}); start the cluster first, or "
                         "drop the option to run on this machine") from None
    return address


def dask_executor(address: str) -> tuple[cf.Executor, Any]:
    """An executor on the Dask cluster at ``address`` and its client (to close)."""
    check_scheduler(address)
    from distributed import Client

    try:
        if address.endswith(".json") and Path(address).is_file():
            client = Client(scheduler_file=address, timeout="30s")
        else:
            client = Client(address, timeout="30s")
    except (OSError, TimeoutError) as err:
        raise InputError(f"--scheduler {address}: cannot connect ({err})") from None
    return client.get_executor(), client


def open_executor(executor: cf.Executor | None, workers: int | None, scheduler: str | None,
              pending: int, functions: dict[str, Any] | None = None
              ) -> tuple[cf.Executor | None, Any, str, int]:
    """(executor, what this call owns and must close: None, "pool" or a Dask client, a name
    for the log, the number of workers)."""
    if executor is not None:
        return executor, None, type(executor).__name__, workers or os.cpu_count() or 1
    if scheduler:
        executor, client = dask_executor(scheduler)
        return executor, client, f"dask {scheduler}", max(1, sum(client.nthreads().values()))
    n_workers = workers or os.cpu_count() or 1
    if n_workers > 1 and pending > 1:
        check_spawn_safe(functions)
        return process_pool(n_workers), "pool", f"process pool x{n_workers}", n_workers
    return None, None, "serial", 1


_GUARD = re.compile(r"""if\s+__name__\s*==\s*['"]__main__['"]""")


def check_spawn_safe(functions: dict[str, Any] | None = None) -> None:
    """Refuse, with one message, a local process pool that cannot work: its workers are
    started fresh ('spawn') and import the main module again, so a script that starts a
    sweep at its top level, without ``if __name__ == "__main__":``, would start it again in
    every worker (the pool restarted over and over); and a reporter defined in a notebook or
    an interactive session cannot be imported by them at all.

    Raises:
        InputError: naming the script or the reporters, and what to do."""
    main = sys.modules.get("__main__")
    file = getattr(main, "__file__", None)
    spec = getattr(getattr(main, "__spec__", None), "name", None)
    in_main = sorted(name for name, fn in (functions or {}).items()
                     if callable(fn) and getattr(fn, "__module__", None) == "__main__")
    if file is None:  # a notebook, an interactive session, python -c
        if in_main:
            raise InputError(
                f"reporters {', '.join(in_main)}: defined in this notebook or session, where "
                "a process pool's workers cannot import them; put them in a module (a file "
                "beside the notebook: reporters={'name': 'module:function'}), or run with "
                "workers=1")
        return
    rerun = spec is None or not (spec == "__main__" or spec.endswith(".__main__"))
    if not rerun:
        return
    try:
        source = Path(file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    if not _GUARD.search(source):
        raise InputError(
            f"{file}: this script starts a process pool at its top level; each worker "
            "imports the script again and would start it again. Put the script's work under "
            "if __name__ == \"__main__\": (Python's rule for multiprocessing), or run with "
            "workers=1")


def close_executor(executor: cf.Executor | None, own: Any) -> None:
    """Shut down what ``open_executor`` created (a pool, a Dask client); leave a given one."""
    if own == "pool":
        executor.shutdown(cancel_futures=True)
    elif own is not None:
        own.close()


@dataclass
class Evaluator:
    """Where a study's simulations run: ``executor`` None means this process."""

    executor: cf.Executor | None
    kind: str
    workers: int

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
            progress: Callable[[int, int], None] | None = None,
            chunksize: int = 1) -> list[Any]:
        """``fn`` over ``tasks``, results in the tasks' order; ``progress(done, total)``
        after each (``fn`` must be importable by a worker: a module's function)."""
        tasks = list(tasks)
        out: list[Any] = []
        results: Iterator[Any]
        if self.executor is None:
            results = map(fn, tasks)
        elif isinstance(self.executor, cf.ProcessPoolExecutor):
            results = self.executor.map(fn, tasks, chunksize=chunksize)
        else:  # Dask's executor has no chunksize
            results = self.executor.map(fn, tasks)
        for r in results:
            out.append(r)
            if progress:
                progress(len(out), len(tasks))
        return out


@contextmanager
def evaluator(workers: int | None = None, scheduler: str | None = None,
              executor: cf.Executor | None = None, pending: int = 2,
              functions: dict[str, Any] | None = None) -> Iterator[Evaluator]:
    """An [`Evaluator`][ruralgov.study.evaluator.Evaluator] for ``pending`` tasks: the given
    ``executor``; or the Dask cluster at ``scheduler``; or a local pool of ``workers``
    (default: every core) when there is more than one task and more than one worker; else
    this process. What it starts it shuts down on leaving, also on an error or Ctrl+C.

    Raises:
        InputError: a scheduler that does not answer, or a pool that cannot work here
            (a script without the ``__main__`` guard, reporters defined in a notebook)."""
    ex, own, kind, n = open_executor(executor, workers, scheduler, pending, functions)
    try:
        yield Evaluator(ex, kind, n)
    finally:
        close_executor(ex, own)
