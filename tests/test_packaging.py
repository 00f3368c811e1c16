"""Installed from the wheel into a fresh virtual environment, without the checkout: the core
commands work with the scenarios and experiments shipped as package data, the core installs
without the extras, and the dashboard works once its extra is added."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import ruralgov

from .conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


def _run(args, cwd, timeout=600, check=True):
    res = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))}\n{res.stdout}\n{res.stderr}")
    return res


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    pytest.importorskip("build", reason="the build package (dev extra) builds the wheel")
    tmp = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "build", "--outdir", str(tmp / "dist"), str(ROOT)], cwd=tmp)
    wheels = list((tmp / "dist").glob("ruralgov-*.whl"))
    sdists = list((tmp / "dist").glob("ruralgov-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    _run([sys.executable, "-m", "venv", str(tmp / "venv")], cwd=tmp)
    py = tmp / "venv" / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "--quiet", str(wheels[0])], cwd=tmp, timeout=900)
    work = tmp / "elsewhere"  # no checkout here: names must resolve from package data
    work.mkdir()
    return {"py": py, "exe": tmp / "venv" / "bin" / "ruralgov", "work": work,
            "wheel": wheels[0], "sdist": sdists[0]}


def test_sdist_holds_the_source_not_the_results(installed):
    import tarfile

    names = tarfile.open(installed["sdist"]).getnames()
    assert any(n.endswith("src/ruralgov/model/county.py") for n in names)
    assert any(n.endswith("docs/ODD.md") for n in names)
    assert not any("/results/" in n or "test-artifacts" in n for n in names)


def test_core_commands_work_from_the_wheel(installed):
    exe, work = str(installed["exe"]), installed["work"]
    assert _run([exe, "--version"], work).stdout.strip() == f"ruralgov {ruralgov.__version__}"
    assert "baseline" in _run([exe, "scenarios"], work).stdout
    out = _run([exe, "run", "baseline", "--steps", "5", "--quiet", "--out", "run1"], work)
    assert (work / "run1" / "series.parquet").is_file(), out.stdout
    _run([exe, "sweep", "smoke", "--workers", "1", "--out", "sweep1", "--quiet"], work)
    assert (work / "sweep1" / "manifest.json").is_file()
    assert ": ok (experiment" in _run([exe, "validate", "paper/h13_example"], work).stdout
    listed = _run([exe, "experiments"], work).stdout
    assert "paper/h13_example" in listed and "smoke" in listed
    assert "validation/granovetter" in listed and "INVALID" not in listed
    # the core has no dashboard: one clear message, no traceback
    res = _run([exe, "dashboard"], work, check=False)
    assert res.returncode == 2 and "ruralgov[dashboard]" in res.stderr
    assert "Traceback" not in res.stderr
    import zipfile

    names = zipfile.ZipFile(installed["wheel"]).namelist()
    assert "ruralgov/app/room_static/room.js" in names
    # the bundled Chinese font travels with its licence
    assert {"ruralgov/fonts/RuralGovSansSC-Regular.ttf", "ruralgov/fonts/OFL.txt",
            "ruralgov/fonts/RuralGovSansSC-Regular.woff2"} <= set(names)



def test_dashboard_works_once_its_extra_is_installed(installed):
    py, exe, work = installed["py"], str(installed["exe"]), installed["work"]
    _run([str(py), "-m", "pip", "install", "--quiet", f"{installed['wheel']}[dashboard]"],
         work, timeout=900)
    port = free_port()
    proc = subprocess.Popen([exe, "dashboard", "--port", str(port)], cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(120):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stdout.read()) from None
                time.sleep(0.5)
        else:
            raise AssertionError("the dashboard did not start")
        assert b"solara" in page.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
