"""ruralgov: an agent-based model of institutional authority in rural governance.

Villagers (numpy arrays), township governments and county departments (Mesa agents) follow
formal and informal rules on a social network. See docs/ODD.md for the full description.

The package is layered; each layer imports only the layers listed before it:

* [`ruralgov.model`][ruralgov.model] — the model: state, submodels, equations, agents,
  network, parameters, observation (knows nothing of files or experiments);
* [`ruralgov.io`][ruralgov.io] — reading and writing files: scenarios, field data, result
  folders, provenance;
* [`ruralgov.analysis`][ruralgov.analysis] — reporting and analysis of results: verdicts,
  sensitivity, figures;
* [`ruralgov.study`][ruralgov.study] — experiments, runs, sweeps and the paper's reproduction;
* [`ruralgov.app`][ruralgov.app] — the command line and the browser dashboard.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"

__all__ = ["RuralGovernanceModel", "PARAMS", "defaults", "__version__"]

#: Module paths of ruralgov 0.1 before the layers, still importable (scripts written against
#: them keep working); new code uses the layered paths. (``ruralgov.model`` and
#: ``ruralgov.analysis`` are now packages that give what the old modules gave.)
MOVED = {
    "agents": "model.agents", "rules": "model.equations",
    "network": "model.network", "sampling": "model.sampling", "params": "model.params",
    "schema": "model.schema", "measures": "model.measures", "classic": "model.classic",
    "scenario": "io.scenario", "fielddata": "io.fielddata", "provenance": "io.provenance",
    "verdicts": "analysis.verdicts", "plotting": "analysis.plotting",
    "experiment": "study.experiment", "runner": "study.runner", "sweep": "study.sweep",
    "reproduce": "study.reproduce", "validation": "study.validation", "cli": "app.cli",
    "dashboard": "app.dashboard", "dashboard.app": "app.dashboard.app",
    "dashboard.session": "app.dashboard.session", "dashboard.labels": "app.dashboard.labels",
}
_LAZY = {"RuralGovernanceModel": "ruralgov.model", "PARAMS": "ruralgov.model.params",
         "defaults": "ruralgov.model.params"}


def __getattr__(name: str):
    if name in _LAZY:  # imported on first use: `import ruralgov` stays light
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ruralgov' has no attribute {name!r}")


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old module path (``ruralgov.study.runner``) to the module at its new place."""

    def find_spec(self, fullname, path=None, target=None):
        old = fullname.partition("ruralgov.")[2] if fullname.startswith("ruralgov.") else ""
        if old not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return importlib.import_module("ruralgov." + MOVED[spec.name[len("ruralgov."):]])

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _MovedFinder())  # before the path finder: one module, not a copy
