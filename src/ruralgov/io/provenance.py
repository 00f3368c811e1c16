"""What every result carries: package versions, git revision and time."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path

__all__ = ["versions", "git_revision", "utc_now"]

_PACKAGES = ("ruralgov", "mesa", "numpy", "scipy", "pandas", "networkx", "pyarrow",
             "pydantic", "PyYAML", "matplotlib")


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a run depends on."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[name] = "not installed"
    return out


def git_revision(path: Path | None = None) -> dict[str, object]:
    """The git commit of the source tree ruralgov is imported from, and whether it has
    uncommitted changes; ``None`` values outside a checkout (e.g. installed from a wheel)."""
    where = path or Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, timeout=10)
        if rev.returncode != 0:
            return {"commit": None, "dirty": None}
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=where, capture_output=True, text=True, timeout=10)
        return {"commit": rev.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
