"""Optional extras: a module an optional feature needs, imported, or one clear message naming
the extra that installs it (never an ``ImportError`` traceback).

The extras are declared in ``pyproject.toml``; :data:`EXTRAS` says which one brings which
module, so that the message and the packaging cannot disagree (a test holds them together).
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

from ruralgov.model.schema import InputError

EXTRAS: dict[str, str] = {
    "pyabc": "calibrate",
    "distributed": "cluster",
    "dask_jobqueue": "cluster",
    "ema_workbench": "analysis",
    "duckdb": "analysis",
    "optuna": "analysis",
    "solara": "dashboard",
    "uvicorn": "room",
    "starlette": "room",
    "segno": "room",
}


def missing_message(module: str, purpose: str, detail: str = "") -> str:
    """The message for a missing ``module``: what needs it, the extra, the install command."""
    extra = EXTRAS[module]
    why = f" ({detail})" if detail else ""
    return (f"{purpose} needs the optional extra '{extra}': {module} is not installed{why}; "
            f"install it with: pip install 'ruralgov[{extra}]'")


def available(module: str) -> bool:
    """Whether ``module`` can be imported (quietly: some print deprecation warnings)."""
    try:
        require(module, "")
    except InputError:
        return False
    return True


def require(module: str, purpose: str, attr: str | None = None) -> ModuleType:
    """``module`` (or its submodule ``attr``) imported.

    Raises:
        InputError: it is not installed, naming ``purpose``, the extra and the command."""
    name = f"{module}.{attr}" if attr else module
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except ImportError as err:
        detail = "" if getattr(err, "name", None) in (module, name) else str(err)
        raise InputError(missing_message(module, purpose, detail)) from None
