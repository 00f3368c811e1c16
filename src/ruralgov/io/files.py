"""Writing results: one atomic writer, one conversion to plain JSON and one policy for output
folders, used by everything in ruralgov that writes a file.

* **Atomic writes** — [`write_text`][ruralgov.io.files.write_text],
  [`write_json`][ruralgov.io.files.write_json] and
  [`write_parquet`][ruralgov.io.files.write_parquet]; for any other writer
  [`atomic_path`][ruralgov.io.files.atomic_path], and for a whole folder
  [`atomic_dir`][ruralgov.io.files.atomic_dir]. The content is written under a temporary name
  in the same folder, ``.tmp-<pid>-<uuid>-<name>``
  ([`temporary_name`][ruralgov.io.files.temporary_name]:
  unique to the process and to the call, so concurrent writers never share one), then renamed
  into place with ``os.replace``. A reader, or an interrupted process, never sees a partial
  file: there is the old file (or none) or the complete new one. (An interrupted write may
  leave its hidden temporary file behind;
  [`remove_stale_temporaries`][ruralgov.io.files.remove_stale_temporaries] clears old ones.)
* **Plain JSON** — [`plain`][ruralgov.io.files.plain] turns numpy and pandas values (integers,
  floats, booleans, arrays, series, timestamps, missing values), paths, tuples and sets into
  JSON's own types; NaN and infinities become ``null``, as JSON has no such numbers.
* **Output folders** — results are never overwritten:
  [`require_empty`][ruralgov.io.files.require_empty] refuses a file or folder that exists and
  is not empty, with one [`InputError`][ruralgov.model.schema.InputError] naming it;
  [`new_dir`][ruralgov.io.files.new_dir] gives a numbered new folder (``analysis``,
  ``analysis-2``, ...) and [`utc_stamp`][ruralgov.io.files.utc_stamp] the time stamp of a
  time-stamped one; default folders sit under [`RESULTS`][ruralgov.io.files.RESULTS].
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import math
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd

from ruralgov.model.schema import DiskFull, InputError

__all__ = ["RESULTS", "TMP_PREFIX", "temporary_name", "atomic_path", "atomic_dir", "write_text",
           "write_json", "write_json_new", "write_parquet", "remove_stale_temporaries", "plain",
           "dumps", "require_empty", "ensure_writable", "new_dir", "utc_stamp", "DiskFull"]

RESULTS = Path("results")
"""Where results go unless a command is told otherwise (relative to the working directory):
``runs/``, ``sweeps/``, ``paper/`` and ``paper-quick/``."""

TMP_PREFIX = ".tmp-"
"""How every temporary name starts (hidden, and never matching ``part-*`` or ``*.json``)."""


# ------------------------------------------------------------------ atomic writes
def temporary_name(path: Path | str) -> Path:
    """A temporary name beside ``path`` (same folder, so the final rename is atomic), unique to
    this process and this call: ``.tmp-<pid>-<uuid>-<name>``; it keeps ``path``'s suffix, so
    writers that choose a format by suffix (Parquet, PNG) still do."""
    path = Path(path)
    return path.with_name(f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}-{path.name}")


def _disk_full(err: OSError, path: Path) -> OSError:
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(err.errno, f"{path.parent}: no space left on the device (or quota "
                        "exceeded) while writing results; nothing partial was kept — free "
                        "space and run the same command again to go on")
    return err


def write_figure(fig, path: Path | str, dpi: int = 110) -> Path:
    """Save a matplotlib figure atomically (its folder made if need be) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    plt.close(fig)
    return path


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Write ``path`` atomically: the block writes the yielded temporary path, which then
    replaces ``path`` in one step; if the block raises, the temporary file is removed and
    ``path`` is left as it was (a full disk raises [`DiskFull`][ruralgov.io.files.DiskFull]).

        with atomic_path(out / "figure.png") as tmp:
            fig.savefig(tmp)
    """
    path = Path(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _disk_full(err, path) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_new(obj: Any, path: Path | str) -> Path:
    """Write ``obj`` as JSON to ``path`` only if ``path`` does not exist, atomically: the
    complete file appears under its name (a hard link of a finished temporary file), or
    ``FileExistsError`` is raised and nothing changes. For a file several processes may try to
    create at once, such as a sweep's manifest."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        tmp.write_text(dumps(obj), encoding="utf-8")
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError as err:  # a file system without hard links: create exclusively
            if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                                 errno.EMLINK, errno.ENOSYS):
                raise
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(dumps(obj))
    except FileExistsError:
        raise
    except OSError as err:
        raise _disk_full(err, path) from err
    finally:
        tmp.unlink(missing_ok=True)
    return path


@contextmanager
def atomic_dir(path: Path | str, option: str | None = "--out") -> Iterator[Path]:
    """Fill a new folder atomically: the block writes into the yielded temporary folder beside
    ``path``, which then becomes ``path`` in one step (removed if the block raises). ``path``
    must not exist or be an empty folder ([`require_empty`][ruralgov.io.files.require_empty])."""
    path = require_empty(path, option)
    if path.is_symlink():  # a link to an empty folder: fill the folder it names
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    tmp.mkdir()
    try:
        yield tmp
        if path.exists():
            path.rmdir()  # empty, checked above
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(text: str, path: Path | str) -> Path:
    """Write UTF-8 text to ``path`` atomically; return ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_json(obj: Any, path: Path | str) -> Path:
    """Write ``obj`` as indented plain JSON ([`dumps`][ruralgov.io.files.dumps]) to ``path``
    atomically; return ``path``."""
    return write_text(dumps(obj), path)


def write_parquet(df: pd.DataFrame, path: Path | str) -> Path:
    """Write a table to a Parquet file atomically (without the index); return ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return path


def remove_stale_temporaries(folder: Path | str, older_than_s: float = 3600.0) -> int:
    """Remove the temporary files in ``folder`` that interrupted writes left behind, those
    older than ``older_than_s`` seconds: a write in progress in another process (a concurrent
    shard of a sweep, say) is never touched. Returns how many were removed."""
    now = time.time()
    removed = 0
    for tmp in Path(folder).glob(f"{TMP_PREFIX}*"):
        try:
            if now - tmp.stat().st_mtime > older_than_s:
                if tmp.is_dir():
                    shutil.rmtree(tmp)
                else:
                    tmp.unlink()
                removed += 1
        except FileNotFoundError:  # removed meanwhile by its writer or another cleaner
            pass
    return removed


# ------------------------------------------------------------------ plain JSON
def plain(obj: Any) -> Any:
    """``obj`` with every value turned into a type JSON has: numpy integers, floats and booleans
    into Python's; arrays, series, tuples and sets into lists; paths into strings; timestamps
    into ISO 8601 text; NaN, infinities and missing values (``None``, ``pd.NA``, ``NaT``) into
    ``None``. Dictionaries keep their keys (numpy keys become Python's).

    Raises:
        TypeError: a value of another type (say what it is rather than write something
            unreadable).
    """
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, dict):
        return {_key(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return [plain(v) for v in sorted(obj, key=repr)]
    if isinstance(obj, (np.ndarray, pd.Series, pd.Index)):
        return [plain(v) for v in obj.tolist()]
    if isinstance(obj, PurePath):
        return str(obj)
    if obj is pd.NaT or obj is pd.NA:
        return None
    if isinstance(obj, (_dt.datetime, _dt.date, pd.Timestamp)):
        return obj.isoformat()
    if isinstance(obj, np.generic):  # e.g. numpy strings and datetimes
        return plain(obj.item())
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _key(k: Any) -> Any:
    return k.item() if isinstance(k, np.generic) else k


def dumps(obj: Any, **kw: Any) -> str:
    """``obj`` as plain JSON text ([`plain`][ruralgov.io.files.plain]): indented by 2, non-ASCII
    text kept as it is, ending in a newline; keyword arguments go to ``json.dumps``."""
    kw = {"indent": 2, "ensure_ascii": False, **kw}
    return json.dumps(plain(obj), allow_nan=False, **kw) + ("\n" if kw["indent"] else "")


# ------------------------------------------------------------------ output folders
def require_empty(path: Path | str, option: str | None = "--out", *,
                  allow: Iterable[str] = ()) -> Path:
    """``path`` as a ``Path``, if writing there overwrites nothing: it does not exist, or it is
    a folder holding nothing but names in ``allow`` (the files of an earlier run of the same
    command, which that command resumes or renews).

    Raises:
        InputError: ``<option> <path>: already exists and is not empty; results are never
            overwritten — ...``, naming the file or folder (``option``, e.g. ``--out``, is the
            command-line option that chose it; None when no option did).
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return path
    if path.is_dir():
        allowed = set(allow)
        # temporary files are never results (another process's write in progress, or left
        # by one that was killed)
        extra = sorted(p.name for p in path.iterdir()
                       if p.name not in allowed and not p.name.startswith(TMP_PREFIX))
        if not extra:
            return path
        what = "already exists and is not empty"
    else:
        what = "already exists"
    name = f"{option} {path}" if option else str(path)
    raise InputError(f"{name}: {what}; results are never overwritten — choose another "
                     f"{'folder' if path.is_dir() else 'name'} or remove it")


def ensure_writable(folder: Path | str, option: str | None = "--out") -> Path:
    """Create ``folder`` (and its parents) if needed and check that files can be written in
    it — before any work is done, so that a bad output folder costs nothing.

    Raises:
        InputError: it is a file, a dangling link, under a file, read-only or full, naming it
            and why.
    """
    folder = Path(folder)
    name = f"{option} {folder}" if option else str(folder)
    if folder.is_symlink() and not folder.exists():
        raise InputError(f"{name}: a link to {os.readlink(folder)}, which does not exist")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{name}: is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = temporary_name(folder / "write-check")
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        reason = ("no space left on the device" if err.errno in (errno.ENOSPC, errno.EDQUOT)
                  else err.strerror or type(err).__name__)
        raise InputError(f"{name}: cannot write there ({reason})") from None
    return folder


def check_writable(path: Path | str, option: str | None = "--out", *,
                   file: bool = False) -> Path:
    """Check, creating nothing, that ``path`` (a folder or file to be written) can be made:
    the folder itself if it exists, else its nearest existing ancestor, must be a folder in
    which a file can be written (a probe file is made and removed at once). Catches a file in
    the way, a dangling link, a read-only or immutable folder or mount, a full disk — before
    any work, leaving nothing behind. ``file``: ``path`` is a file to be written (it may exist
    and is replaced atomically; it must not be a folder): its folder is checked.

    Raises:
        InputError: naming the option, the path and why.
    """
    from ruralgov.io.finder import check_path_text

    name = f"{option} {path}" if option else str(path)
    path = check_path_text(path, option or "output")
    if path.is_symlink() and not path.exists():
        raise InputError(f"{name}: a link to {os.readlink(path)}, which does not exist")
    if file and path.is_dir():
        raise InputError(f"{name}: is a folder; give a file name")
    here = path.absolute().parent if file else path.absolute()
    while not here.exists():
        if here.is_symlink():
            raise InputError(f"{name}: {here} is a link to {os.readlink(here)}, which does "
                             "not exist")
        here = here.parent
    if not here.is_dir():
        raise InputError(f"{name}: {'is' if here == path.absolute() else f'{here} is'} a "
                         "file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=TMP_PREFIX + "write-check-", dir=here)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        reason = ("no space left on the device" if err.errno in (errno.ENOSPC, errno.EDQUOT)
                  else err.strerror or type(err).__name__)
        raise InputError(f"{name}: cannot write in {here} ({reason})") from None
    return path


def new_dir(base: Path | str, *, create: bool = True) -> Path:
    """The first of ``base``, ``base-2``, ``base-3``, ... that does not exist. With ``create``
    it is created, which claims the name: two processes never get the same folder."""
    base = Path(base)
    out, i = base, 1
    while True:
        if create:
            base.parent.mkdir(parents=True, exist_ok=True)
            try:
                out.mkdir()
                return out
            except FileExistsError:
                pass
        elif not out.exists():
            return out
        i += 1
        out = base.with_name(f"{base.name}-{i}")


def utc_stamp() -> str:
    """The time now (UTC) for a file or folder name: ``20260131T154502Z``."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
