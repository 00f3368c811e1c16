"""Reporting and analysis of results: verdicts, sensitivity analysis and figures."""

from __future__ import annotations

import importlib

#: What ``ruralgov.analysis`` gave before the layers (now in ``analysis.sensitivity``).
_SENSITIVITY = ("analyze", "point_means", "main_effects", "sobol_indices", "morris_indices")


def __getattr__(name: str):
    if name in _SENSITIVITY:
        return getattr(importlib.import_module("ruralgov.analysis.sensitivity"), name)
    raise AttributeError(f"module 'ruralgov.analysis' has no attribute {name!r}")
