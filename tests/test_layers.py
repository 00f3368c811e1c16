"""The package is layered (see ``ruralgov/__init__.py``): model → io → analysis → study → app.

A module imports only from its own layer or the layers before it, there is no import cycle, and
the agents reach the model as ``self.model`` without importing the model module (as in Mesa's
examples). Imports inside ``if TYPE_CHECKING:`` blocks are for annotations only and never run;
they are left out of the cycle check but must still respect the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ruralgov"
LAYERS = ("model", "io", "analysis", "study", "app")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported ruralgov module, whether only for type checking) for every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (use absolute ruralgov.… paths)"
            base = node.module or ""
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        for name in names:
            if name == "ruralgov" or name.startswith("ruralgov."):
                out.append((name, id(node) in typing_only))
    return out


MODULES = {_module_name(p): p for p in SRC.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The module an import names (``ruralgov.model.state.F32`` → ``ruralgov.model.state``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_reaches_up_a_layer(module):
    own = _layer(module)
    if own is None:  # ruralgov/__init__.py and __main__.py stand above the layers
        return
    for name, _ in _imports(MODULES[module]):
        target = _resolve(name)
        layer = _layer(target) if target else None
        assert layer is None or layer <= own, (
            f"{module} (layer {LAYERS[own]}) imports {name} (layer {LAYERS[layer]})")


def test_no_import_cycle():
    graph = {m: {t for name, typing in _imports(p) if not typing
                 and (t := _resolve(name)) and t != m and t != "ruralgov"}
             for m, p in MODULES.items()}
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for t in graph[m]:
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " → ".join(path + [m, t]))
            if t not in state:
                visit(t, path + [m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])


def test_the_agents_do_not_import_the_model_module():
    names = {name for name, _ in _imports(MODULES["ruralgov.model.agents"])}
    assert not any(n.startswith("ruralgov.model.county") or n.endswith("RuralGovernanceModel")
                   for n in names), names


def test_the_checks_see_a_violation():
    """The walker finds imports inside functions and resolves names to modules."""
    names = [n for n, _ in _imports(MODULES["ruralgov.app.cli"])]
    assert any(_layer(_resolve(n)) == LAYERS.index("study") for n in names)
    assert _resolve("ruralgov.model.state.F32") == "ruralgov.model.state"


def test_old_module_paths_still_import_the_moved_modules():
    import importlib

    import ruralgov

    for old, new in ruralgov.MOVED.items():
        assert importlib.import_module(f"ruralgov.{old}") is importlib.import_module(
            f"ruralgov.{new}"), old
    from ruralgov.analysis import analyze
    from ruralgov.analysis.sensitivity import analyze as analyze_moved
    from ruralgov.model import RuralGovernanceModel
    from ruralgov.model.county import RuralGovernanceModel as model_moved
    from ruralgov.runner import run_scenario
    from ruralgov.study.runner import run_scenario as moved

    assert run_scenario is moved and analyze is analyze_moved
    assert RuralGovernanceModel is model_moved


def test_import_ruralgov_is_light():
    """``import ruralgov`` (and the parameter registry) do not import Mesa or pandas."""
    import subprocess
    import sys

    code = ("import sys, ruralgov, ruralgov.model.params; "
            "heavy = [m for m in ('mesa', 'pandas', 'scipy') if m in sys.modules]; "
            "assert not heavy, heavy; "
            "from ruralgov import RuralGovernanceModel; assert 'mesa' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_no_function_is_longer_than_80_lines():
    """A function a newcomer can read at once (docstring included)."""
    long = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > 80:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, long


def test_the_model_class_stays_small():
    lines = (SRC / "model" / "county.py").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("class RuralGovernanceModel"))
    end = next((i for i, line in enumerate(lines[start + 1:], start + 1)
                if line and not line.startswith((" ", "#"))), len(lines))
    assert end - start <= 200, f"RuralGovernanceModel is {end - start} lines"


def test_a_step_makes_no_dense_matrix_product():
    """Dense products go to a multi-threaded BLAS whose threads fight other processes for the
    cores (two large runs at once, a sweep's workers); every product in the model's step is a
    sparse one (the network), which runs on one thread."""
    sparse = ("weights", "matrix", "elder_ties", "rows")
    dense = []
    for path in (SRC / "model").rglob("*.py"):
        if path.name == "classic.py":  # the reference models, not the step
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                left = ast.unparse(node.left)
                if not any(name in left for name in sparse):
                    dense.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                    "np.dot", "np.matmul", "np.einsum", "np.inner", "np.tensordot"):
                dense.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node)}")
    assert not dense, dense
