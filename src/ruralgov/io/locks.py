"""Locks on a results folder, so that concurrent writers (sweep shards, requeued cluster jobs,
a second copy of the same command) never run the same runs twice or touch each other's files.

A lock is a small JSON file ``<folder>/locks/<scope>.lock`` created with ``O_EXCL`` (atomic on
local and network file systems alike), holding who holds it — host, PID, start time and a tag
that names the holder's files — and refreshed (its modification time) every
[`HEARTBEAT_S`][ruralgov.io.locks.HEARTBEAT_S] seconds while it is held. A scope is a set of
runs: shard ``I/N`` holds the runs whose index is I - 1 modulo N; the whole sweep is ``1/1``.
Two scopes *overlap* when some run belongs to both. Taking a lock (checking the holders and
writing one's own file, under a short-lived guard) fails while a live holder of the same or an
overlapping scope exists; a lock is *stale*, and taken over, when its holder's
process is gone (same host) or its heartbeat is older than
[`STALE_S`][ruralgov.io.locks.STALE_S] (another host, which cannot be asked).
"""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruralgov.model.schema import InputError

__all__ = ["FolderLock", "LockHeld", "Holder", "HEARTBEAT_S", "STALE_S", "scopes_overlap",
           "live_tags"]

HEARTBEAT_S = 30.0
"""How often a held lock is refreshed (seconds)."""

STALE_S = 600.0
"""A lock held from another host whose heartbeat is older than this (seconds) is stale."""


def scopes_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether shard ``a = (I, N)`` and shard ``b = (J, M)`` share a run: some index x with
    x = I - 1 (mod N) and x = J - 1 (mod M), which exists exactly when I - 1 and J - 1 agree
    modulo gcd(N, M) (Chinese remainder theorem)."""
    g = math.gcd(a[1], b[1])
    return (a[0] - 1) % g == (b[0] - 1) % g


@dataclass(frozen=True)
class Holder:
    """Who holds a lock (as written in its file)."""

    scope: tuple[int, int]
    host: str
    pid: int
    started_utc: str
    tag: str
    path: Path

    def describe(self) -> str:
        return (f"shard {self.scope[0]}/{self.scope[1]} held by PID {self.pid} on {self.host} "
                f"since {self.started_utc} ({self.path})")


class LockHeld(InputError):
    """A live holder has the same or an overlapping scope."""

    def __init__(self, folder: Path, holder: Holder):
        super().__init__(
            f"{folder}: another sweep is writing these runs: {holder.describe()}. Wait for it "
            "(or add --wait to queue behind it); if that process is gone, its lock is taken "
            "over automatically")
        self.holder = holder


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(scope=tuple(data["scope"]), host=data["host"], pid=int(data["pid"]),
                      started_utc=data["started_utc"], tag=data["tag"], path=path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        # a lock file being written right now, or garbage: judge it by its age alone
        return Holder(scope=(1, 1), host="?", pid=-1, started_utc="?", tag="?", path=path)


def _stale(holder: Holder) -> bool:
    try:
        age = time.time() - holder.path.stat().st_mtime
    except FileNotFoundError:
        return True
    if holder.host == socket.gethostname() and holder.pid > 0:
        return not _pid_alive(holder.pid)
    return age > STALE_S


GUARD = "guard"
"""The short-lived lock (``locks/guard``) a newcomer holds while it checks the holders and
writes its own lock file, so that two newcomers never both go ahead."""


def _write_new(path: Path, record: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(record, f)


class _Guard:
    """Mutual exclusion for the moment of taking a lock (milliseconds). A guard left by a
    process that died inside it is removed: same host, its PID is gone; otherwise after
    60 seconds."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> None:
        record = {"host": socket.gethostname(), "pid": os.getpid()}
        while True:
            try:
                _write_new(self.path, record)
                return
            except FileExistsError:
                try:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                    age = time.time() - self.path.stat().st_mtime
                except (OSError, ValueError):
                    data, age = {}, 0.0
                dead = (data.get("host") == socket.gethostname()
                        and not _pid_alive(int(data.get("pid", -1))))
                if dead or age > 60:
                    self.path.unlink(missing_ok=True)
                else:
                    time.sleep(0.01)

    def __exit__(self, *exc: Any) -> None:
        self.path.unlink(missing_ok=True)


def _holders(folder: Path) -> list[Holder]:
    return [h for p in sorted((folder / "locks").glob("*.lock")) if (h := _read(p))]


def live_tags(folder: Path | str) -> set[str]:
    """The tags of every live lock holder of ``folder`` (their files must not be touched)."""
    return {h.tag for h in _holders(Path(folder)) if not _stale(h)}


class FolderLock:
    """Hold the runs of ``scope`` in ``folder`` (a context manager).

    Args:
        folder: the results folder.
        scope: ``(I, N)``: shard I of N; ``(1, 1)`` is every run.
        wait: if a live holder overlaps, wait for it (polling) instead of raising
            [`LockHeld`][ruralgov.io.locks.LockHeld]; a number is the most seconds to wait.
    """

    def __init__(self, folder: Path | str, scope: tuple[int, int] = (1, 1),
                 wait: bool | float = False):
        self.folder = Path(folder)
        self.scope = (int(scope[0]), int(scope[1]))
        self.wait = wait
        self.tag = (f"s{self.scope[0]}of{self.scope[1]}-{os.getpid()}-"
                    f"{uuid.uuid4().hex[:8]}")
        self.path = self.folder / "locks" / f"{self.tag}.lock"
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # -------------------------------------------------------------- taking and releasing
    def _conflict(self) -> Holder | None:
        for h in _holders(self.folder):
            if h.path == self.path or not scopes_overlap(self.scope, h.scope):
                continue
            if _stale(h):
                h.path.unlink(missing_ok=True)  # its holder is gone: taken over
                continue
            return h
        return None

    def acquire(self) -> FolderLock:
        (self.folder / "locks").mkdir(parents=True, exist_ok=True)
        record = {"scope": list(self.scope), "host": socket.gethostname(), "pid": os.getpid(),
                  "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "tag": self.tag}
        deadline = None if self.wait is True else time.monotonic() + float(self.wait or 0)
        delay = 0.2
        while True:
            with _Guard(self.folder / "locks" / GUARD):  # one newcomer at a time
                holder = self._conflict()
                if holder is None:
                    _write_new(self.path, record)
                    break
            if not self.wait or (deadline is not None and time.monotonic() > deadline):
                raise LockHeld(self.folder, holder)
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)
        self._beat = threading.Thread(target=self._heartbeat, daemon=True,
                                      name=f"ruralgov-lock-{self.tag}")
        self._beat.start()
        return self

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                os.utime(self.path)
            except FileNotFoundError:  # pragma: no cover - removed by hand
                return

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()
