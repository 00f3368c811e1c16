"""The benchmark script runs and writes benchmarks/latest.json in its documented shape.

Speed itself is never asserted here (benchmarks measure it); this only keeps the benchmark
from rotting, on tiny sizes."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_script_writes_the_stable_shape(tmp_path):
    out = tmp_path / "bench.json"
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "3000",
         "--reference-sizes", "200", "--sweep-runs", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    r = json.loads(out.read_text())
    assert {"cpu", "cores", "python", "numpy", "mesa", "date", "git_revision"} <= set(r["machine"])
    (m,) = r["model"]
    assert m["villagers"] == 3000 and "error" not in m
    for key in ("villager_steps_per_s", "step_s", "steady_bytes_per_villager",
                "peak_bytes_per_villager", "collect_share"):
        assert m[key] > 0, key
    assert abs(sum(m["submodel_share"].values()) - 1) < 1e-9
    # CPU time beside wall time, min and median of repeats (a shared machine inflates wall)
    for key in ("step_cpu_min_s", "step_cpu_median_s", "step_wall_min_s",
                "step_wall_median_s", "step_wall_cpu_ratio", "villager_steps_per_cpu_s"):
        assert m[key] > 0, key
    assert m["step_cpu_min_s"] <= m["step_cpu_median_s"] and m["step_repeats"] == 20
    f = r["fit"]  # step = a + b N
    assert f["per_villager_s"] > 0 and len(f["step_cpu_median_s"]) == len(f["sizes"])
    (fl,) = r["floor"]  # draws and sparse products timed inside the steps, and the rest
    assert fl["villagers"] == 3000 and fl["draws_cpu_s"] > 0 and fl["sparse_products_cpu_s"] > 0
    assert fl["draws_cpu_s"] + fl["sparse_products_cpu_s"] < fl["step_cpu_median_s"]
    assert fl["rest_in_kxn_passes"] > 0 and fl["budget_s"] is None  # 3,000: no target
    th = r["threads"]  # two runs at once: default threading vs one thread each
    assert th["two_at_once_default_step_s"] > 0 and th["ratio"] > 0
    st = r["startup"]
    assert 0 < st["import_cpu_median_s"] and 0 < st["help_cpu_median_s"]
    (w,) = r["network"]
    assert w["villagers"] == 3000 and w["build_s"] > 0 and w["peak_bytes"] >= 0
    (x,) = r["reference"]
    assert x["villagers"] == 200 and x["ratio"] > 1  # vectorised beats per-agent Mesa
    assert r["sweep"]["runs"] == 1 and r["sweep"]["run_s"] > 0
    assert {e["executor"].split()[0] for e in r["sweep"]["executors"]} >= {"serial", "process"}
    serial = [e for e in r["sweep"]["executors"] if e["executor"].startswith("serial")]
    assert all(e["cpu_s"] > 0 and e["runs_per_cpu_s"] > 0 for e in serial)  # judged on CPU
    assert r["sweep"]["ensemble_vs_one_at_a_time"] > 0
    (u,) = r["update_schemes"]
    assert u["colours"] > 1 and u["random_sequential_step_s"] > 0
    assert "| 3,000 |" in res.stdout  # the printed table


def test_dashboard_benchmark_runs_in_a_browser_and_writes_its_fields(tmp_path):
    import os
    import shutil

    import pytest

    pytest.importorskip("solara", reason="the dashboard extra is not installed")
    if not Path(shutil.which("chromium") or "/usr/bin/chromium").exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed")
    out = tmp_path / "dashboard.json"
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "dashboard.py"), "--villagers", "500",
         "--clicks", "2", "--play", "1", "--single-only", "--json", str(out)],
        capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    (row,) = json.loads(out.read_text())["dashboard"]
    assert row["villagers"] == 500 and row["mode"] == "single" and row["clicks"] == 2
    for key in ("server_answers_s", "page_usable_s", "step_latency_median_s",
                "server_cpu_per_click_s", "play_steps_per_s"):
        assert row[key] > 0, key
    assert row["step_latency_min_s"] <= row["step_latency_median_s"]


def test_room_benchmark_soaks_forty_phones_over_http(tmp_path):
    """A bounded soak: 40 simulated phones against a real `ruralgov room` server, every round
    run by the barrier (the script checks the round count after each); speed is not asserted."""
    out = tmp_path / "room.json"
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "room.py"), "--participants", "40",
         "--rounds", "2", "--months", "2", "--set", "n_villagers=1200",
         "--set", "n_townships=4", "--set", "villages_per_township=2", "--json", str(out)],
        capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    r = json.loads(out.read_text())
    assert r["participants"] == 40 and len(r["rounds"]) == 2
    assert all(x["round_s"] > 0 and x["server_cpu_s"] >= 0 for x in r["rounds"])
    assert isinstance(r["within_target"], bool) and r["target_s"] == 1.0
