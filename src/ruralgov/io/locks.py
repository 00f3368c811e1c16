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
[`STALE_S`][ruralgov.io.locks.STALE_S] (another host, which cannot be asked) — or at once when
it was an earlier incarnation of this very SLURM job: a task requeued onto another node after a
node failure (same ``SLURM_JOB_ID``, a higher ``SLURM_RESTART_COUNT``) takes over its own lock,
since SLURM runs one incarnation of a job at a time. Should the earlier one still be writing
(a node cut off from the scheduler but not from the file system), it finds its lock gone at its
next commit and stops ([`LockLost`][ruralgov.io.locks.LockLost]).
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

__all__ = ["FolderLock", "LockHeld", "LockLost", "Holder", "Guard", "HEARTBEAT_S", "STALE_S",
           "GUARD", "MAINTENANCE", "scopes_overlap", "live_tags", "slurm_job"]

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
    pidns: str = ""
    slurm: tuple[str, int] | None = None  # (SLURM_JOB_ID, SLURM_RESTART_COUNT) of the holder

    def describe(self) -> str:
        job = (f", SLURM job {self.slurm[0]} (restart {self.slurm[1]})" if self.slurm
               else "")
        return (f"shard {self.scope[0]}/{self.scope[1]} held by PID {self.pid} on {self.host}"
                f"{job} since {self.started_utc} ({self.path})")


class LockLost(InputError):
    """This invocation's lock file is gone (removed by hand, or taken over after the heartbeat
    stopped): it must stop writing."""


class LockHeld(InputError):
    """A live holder has the same or an overlapping scope."""

    def __init__(self, folder: Path, holder: Holder):
        super().__init__(
            f"{folder}: another sweep is writing these runs: {holder.describe()}. Wait for it "
            "(or add --wait to queue behind it). The lock of a process that has ended on this "
            f"machine is taken over at once; one from another machine after {STALE_S:.0f} s "
            "without its heartbeat")
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


def _pid_namespace() -> str:
    """Which PID namespace this process lives in: PIDs can only be checked within one
    (containers on one host may share its name but not its PIDs)."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _here() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pidns": _pid_namespace(), "pid": os.getpid()}


def slurm_job() -> tuple[str, int] | None:
    """This process's SLURM job — ``(SLURM_JOB_ID, SLURM_RESTART_COUNT)``, the count 0 before
    any requeue — or None outside SLURM. Every task of an array has its own job id, kept
    when it is requeued."""
    job = os.environ.get("SLURM_JOB_ID", "").strip()
    if not job:
        return None
    try:
        restart = int(os.environ.get("SLURM_RESTART_COUNT", "0") or 0)
    except ValueError:
        restart = 0
    return job, restart


def _server_now(folder: Path) -> float:
    """The file system's idea of "now" (a probe file's modification time): on a network file
    system it is the server's clock, the one that also stamps the lock files, so ages compare
    like with like whatever the skew between hosts."""
    probe = folder / f".probe-{os.getpid()}-{uuid.uuid4().hex}"
    try:
        probe.touch()
        return probe.stat().st_mtime
    except OSError:
        return time.time()
    finally:
        probe.unlink(missing_ok=True)


def _read(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(scope=tuple(data["scope"]), host=data["host"], pid=int(data["pid"]),
                      started_utc=data["started_utc"], tag=data["tag"], path=path,
                      pidns=data.get("pidns", ""),
                      slurm=(str(data["slurm"][0]), int(data["slurm"][1]))
                      if data.get("slurm") else None)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        # garbage (a writer killed mid-write): judged by its age alone
        return Holder(scope=(1, 1), host="?", pid=-1, started_utc="?", tag="?", path=path)


def _stale(holder: Holder, now: float) -> bool:
    """Whether a lock's holder is gone: on this machine (same PID namespace) when its process
    has ended; anywhere when its heartbeat is older than STALE_S (which also covers a reused
    PID); a lock file that cannot be read, after a minute; at once when it is held by an
    earlier incarnation of this process's own SLURM job (requeued)."""
    try:
        age = now - holder.path.stat().st_mtime
    except FileNotFoundError:
        return True
    if holder.pid < 0:
        return age > 60
    mine = slurm_job()
    if mine is not None and holder.slurm is not None and holder.slurm[0] == mine[0] \
            and holder.slurm[1] < mine[1]:
        return True  # this job before it was requeued: SLURM ended it
    here = _here()
    if (holder.host, holder.pidns) == (here["host"], here["pidns"]) and \
            not _pid_alive(holder.pid):
        return True
    return age > STALE_S


GUARD = "guard"
"""The short-lived lock (``locks/guard``) a newcomer holds while it checks the holders and
writes its own lock file, so that two newcomers never both go ahead."""

MAINTENANCE = "maintenance"
"""The short-lived lock (``locks/maintenance``) under which one invocation at a time puts the
folder right (removing, quarantining or rewriting files of dead writers)."""

GUARD_WAIT_S = 120.0
"""The longest a guard is waited for before giving up with an error."""


def _write_new(path: Path, record: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(record, f)


class Guard:
    """Mutual exclusion for a moment (taking a lock; tidying a folder), by a file created with
    ``O_EXCL``. A guard whose holder died inside it is broken — same machine: its process is
    gone; anywhere: it is older than a minute or unreadable and old — by renaming it away first
    (so that of two breakers only one succeeds); a holder removes only its own guard."""

    def __init__(self, path: Path):
        self.path = path
        self.record = {**_here(), "token": uuid.uuid4().hex}

    def __enter__(self) -> Guard:
        deadline = time.monotonic() + GUARD_WAIT_S
        delay = 0.005
        while True:
            try:
                _write_new(self.path, self.record)
                return self
            except FileExistsError:
                pass
            if self._dead():
                broken = self.path.with_name(f"{self.path.name}.broken-{uuid.uuid4().hex}")
                try:
                    os.replace(self.path, broken)  # atomic: one breaker wins
                    broken.unlink(missing_ok=True)
                except FileNotFoundError:
                    pass
                continue
            if time.monotonic() > deadline:
                raise InputError(f"{self.path}: held for more than {GUARD_WAIT_S:.0f} s by "
                                 "another process; if none is running, remove that file")
            time.sleep(delay * (0.5 + uuid.uuid4().int % 1000 / 1000))
            delay = min(delay * 2, 0.25)

    def _dead(self) -> bool:
        try:
            age = _server_now(self.path.parent) - self.path.stat().st_mtime
        except FileNotFoundError:
            return False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return age > 10  # garbage left by a writer killed between create and write
        here = _here()
        if (data.get("host"), data.get("pidns")) == (here["host"], here["pidns"]) and \
                not _pid_alive(int(data.get("pid", -1))):
            return True
        return age > 60

    def __exit__(self, *exc: Any) -> None:
        try:
            if json.loads(self.path.read_text(encoding="utf-8")).get("token") == \
                    self.record["token"]:
                self.path.unlink(missing_ok=True)
        except (OSError, ValueError):
            pass


def _holders(folder: Path) -> list[Holder]:
    return [h for p in sorted((folder / "locks").glob("*.lock")) if (h := _read(p))]


def live_tags(folder: Path | str) -> set[str]:
    """The tags of every live lock holder of ``folder`` (their files must not be touched)."""
    folder = Path(folder)
    now = _server_now(folder / "locks") if (folder / "locks").is_dir() else time.time()
    return {h.tag for h in _holders(folder) if not _stale(h, now)}


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
        self.lost = False

    # -------------------------------------------------------------- taking and releasing
    def _conflict(self) -> Holder | None:
        now = _server_now(self.folder / "locks")
        for h in _holders(self.folder):
            if h.path == self.path or not scopes_overlap(self.scope, h.scope):
                continue
            if _stale(h, now):
                h.path.unlink(missing_ok=True)  # its holder is gone: taken over
                continue
            return h
        return None

    def acquire(self) -> FolderLock:
        (self.folder / "locks").mkdir(parents=True, exist_ok=True)
        record = {"scope": list(self.scope), **_here(), "slurm": slurm_job(),
                  "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "tag": self.tag}
        deadline = None if self.wait is True else time.monotonic() + float(self.wait or 0)
        delay = 0.2
        while True:
            with Guard(self.folder / "locks" / GUARD):  # one newcomer at a time
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
            except FileNotFoundError:  # removed: the lock is lost (check() says so)
                self.lost = True
                return
            except OSError:  # a passing network file system error: try again next beat
                continue

    def check(self) -> None:
        """Raise [`LockLost`][ruralgov.io.locks.LockLost] unless this lock is still held
        (called before every commit, so a writer that lost its lock never writes again)."""
        holder = None if self.lost else _read(self.path)
        if holder is None or holder.tag != self.tag:
            raise LockLost(f"{self.folder}: this sweep's lock ({self.path.name}) is gone — "
                           "removed, or taken over after its heartbeat stopped; stopping. "
                           "Finished runs are saved: run the same command again to go on")

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()
