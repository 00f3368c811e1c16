"""A missing optional extra is one clear message naming the extra (never a traceback), and
the extras the messages name are the ones ``pyproject.toml`` declares."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ruralgov.io import extras
from ruralgov.model.schema import InputError

ROOT = Path(__file__).resolve().parents[1]

# run in a child process with the module hidden (sys.modules[name] = None makes it unimportable)
HIDE = """
import sys
for name in {hide!r}:
    sys.modules[name] = None
from ruralgov.app.cli import main
sys.exit(main({argv!r}))
"""


def _run_without(hide: list[str], argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HIDE.format(hide=hide, argv=argv)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_every_extra_named_is_declared_and_brings_its_module():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    for module, extra in extras.EXTRAS.items():
        assert extra in declared, (module, extra)
        names = " ".join(declared[extra]).lower().replace("-", "_")
        assert module.split("_")[0] in names or module in names or module == "distributed", (
            f"the extra {extra!r} does not list {module}")


def test_require_names_the_extra_and_the_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyabc", None)
    with pytest.raises(InputError) as err:
        extras.require("pyabc", "ruralgov calibrate")
    msg = str(err.value)
    assert "ruralgov calibrate" in msg and "'calibrate'" in msg
    assert "pip install 'ruralgov[calibrate]'" in msg
    assert not extras.available("pyabc")


def test_require_returns_the_module_when_installed():
    assert extras.require("duckdb", "SQL").__name__ == "duckdb"
    assert extras.available("ema_workbench")


@pytest.mark.parametrize("hide, argv, extra", [
    (["pyabc"], ["calibrate", "--profile", "quick", "--quiet"], "calibrate"),
    (["distributed"], ["sweep", "smoke", "--scheduler", "tcp://127.0.0.1:9"], "cluster"),
    (["solara"], ["dashboard", "baseline"], "dashboard"),
    (["optuna"], ["search", "search/quiet_county", "--profile", "quick", "--quiet"],
     "analysis"),
])
def test_a_command_without_its_extra_says_which_to_install(hide, argv, extra, tmp_path):
    argv = [*argv, "--out", str(tmp_path / "out")] if argv[0] != "dashboard" else argv
    res = _run_without(hide, argv, tmp_path)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr, res.stderr
    assert f"pip install 'ruralgov[{extra}]'" in res.stderr, res.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.parquet"))


def test_analyze_without_ema_workbench_skips_prim_and_names_the_extra(monkeypatch, tmp_path):
    import pandas as pd

    from ruralgov.analysis.sensitivity import _scenario_discovery

    monkeypatch.setitem(sys.modules, "ema_workbench", None)
    ok = pd.DataFrame({"a": [0.0, 0.5, 1.0, 0.2, 0.8], "point": range(5),
                       "compliance_final": [0.1, 0.5, 0.9, 0.3, 0.7]})
    text = "\n".join(_scenario_discovery(ok, ["a"], tmp_path))
    assert "Skipped" in text and "pip install 'ruralgov[analysis]'" in text
    assert not (tmp_path / "prim.csv").exists()
