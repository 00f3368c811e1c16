"""The model: villagers in numpy arrays, governments as Mesa agents.

Where things are (the layer below everything else; it knows nothing of files or experiments):

* [`county`][ruralgov.model.county] — `RuralGovernanceModel`: builds the state and steps the
  schedule;
* [`schedule`][ruralgov.model.schedule] — `SCHEDULE`, the one ordered tuple of submodels;
* [`state`][ruralgov.model.state] — the declared state variables (ODD §2) and the per-step
  scratch;
* [`submodels`][ruralgov.model.submodels] — one function per ODD submodel, grouped by process;
* [`equations`][ruralgov.model.equations] — the decision equations as small pure functions;
* [`agents`][ruralgov.model.agents], [`network`][ruralgov.model.network],
  [`params`][ruralgov.model.params], [`observe`][ruralgov.model.observe] (reporters) and
  [`measures`][ruralgov.model.measures] (per-run summaries).
"""

from __future__ import annotations

import importlib

__all__ = ["RuralGovernanceModel", "new_seed", "state_arrays"]


def __getattr__(name: str):
    if name in __all__:  # imported on first use: the parameter registry does not need Mesa
        return getattr(importlib.import_module("ruralgov.model.county"), name)
    raise AttributeError(f"module 'ruralgov.model' has no attribute {name!r}")
