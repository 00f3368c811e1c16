"""No process outlives its parent: helpers for the processes ruralgov starts (pool workers of
a sweep, the dashboard's server).

* [`die_with_parent`][ruralgov.study.processes.die_with_parent] — called in a child: on Linux
  the kernel sends it a signal when its parent dies (``PR_SET_PDEATHSIG``), even by SIGKILL;
  everywhere a watchdog thread also ends it once its parent is gone.
* [`run_child`][ruralgov.study.processes.run_child] — run a command as a child that dies with
  this process and receives the SIGTERM, SIGHUP or SIGINT this process gets (service managers
  and test fixtures stop programs with SIGTERM).
* [`heap_for_arrays`][ruralgov.study.processes.heap_for_arrays] — in a worker whose malloc was
  told to hand memory back at once (Dask's nanny does), keep large arrays on the heap again.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["die_with_parent", "run_child", "heap_for_arrays"]

_PR_SET_PDEATHSIG = 1


def _pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover - no prctl
        return False


def die_with_parent(sig: int = signal.SIGTERM, poll_s: float = 1.0) -> None:
    """End this process when its parent ends (call it first thing in a child process; in a
    ``multiprocessing`` child the parent is known even if it died before this call)."""
    import multiprocessing

    known = multiprocessing.parent_process()
    parent = known.pid if known is not None and known.pid else os.getppid()
    _pdeathsig(sig)
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:  # re-parented: the parent is gone
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="ruralgov-parent-watch").start()


def run_child(cmd: Sequence[str], **popen: Any) -> int:
    """Run ``cmd`` to its end and return its exit status. The child dies with this process
    (even if this one is killed), and SIGTERM, SIGHUP and SIGINT sent to this process are passed
    on to it; if it has not stopped 10 seconds after one, it is killed."""
    child = subprocess.Popen(list(cmd), preexec_fn=lambda: _pdeathsig(signal.SIGTERM),
                             **popen)
    received: list[int] = []

    def forward(signum, frame):
        received.append(signum)
        if child.poll() is None:
            child.send_signal(signal.SIGTERM if signum != signal.SIGINT else signal.SIGINT)

    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    deadline = None
    try:
        while True:
            try:
                return child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                if received and deadline is None:
                    deadline = time.monotonic() + 10
                if deadline is not None and time.monotonic() > deadline:
                    child.kill()
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if child.poll() is None:  # pragma: no cover - an exception above
            child.kill()
            child.wait()


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_HEAP_DONE: list[bool] = []


def heap_for_arrays() -> bool:
    """Undo, in this process, a ``MALLOC_TRIM_THRESHOLD_`` from the environment; True if done.

    Dask's nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (so that freed memory
    goes back to the system at once). Setting it switches off glibc's adaptive threshold, so
    every array over 128 KiB — an ensemble's step makes hundreds — is a fresh ``mmap`` whose
    pages fault in again: measured, an R = 64 ensemble step took 70 ms instead of 36. Here
    arrays up to 64 MiB come from the heap, which keeps up to 128 MiB it does not need (37.8 ms).
    Called once per process by every sweep task; does nothing without the variable, or off
    glibc."""
    if _HEAP_DONE:
        return _HEAP_DONE[0]
    done = False
    if "MALLOC_TRIM_THRESHOLD_" in os.environ and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            done = bool(libc.mallopt(_M_MMAP_THRESHOLD, 64 * 2**20)
                        and libc.mallopt(_M_TRIM_THRESHOLD, 128 * 2**20))
        except (OSError, AttributeError):  # not glibc
            done = False
    _HEAP_DONE.append(done)
    return done
