"""`ruralgov analyze`: its tables are right, SALib is used correctly (Ishigami), figures and a
summary are written, and bad input gives one clear message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ruralgov.analysis.sensitivity import (
    analyze,
    main_effects,
    morris_indices,
    point_means,
    sobol_indices,
)
from ruralgov.io.results import read_runs
from ruralgov.model.schema import InputError
from ruralgov.study.experiment import load_experiment
from ruralgov.study.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]


def test_sobol_indices_reproduce_the_ishigami_function():
    from SALib.sample import sobol
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sobol.sample(problem, 1024, calc_second_order=False, seed=1)
    t = sobol_indices(problem, Ishigami.evaluate(x))
    # analytic values: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    np.testing.assert_allclose(t.S1, [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(t.ST, [0.558, 0.442, 0.244], atol=0.05)
    # x3 has no first-order effect: its S1 is not told apart from zero, the others are
    assert t.uncertain.tolist() == [False, False, True]


def test_morris_ranks_a_known_linear_function():
    from SALib.sample import morris

    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    x = morris.sample(problem, 20, num_levels=4, seed=2)
    y = 5 * x[:, 0] + 1 * x[:, 1] + 0 * x[:, 2]
    t = morris_indices(problem, x, y)
    np.testing.assert_allclose(t.mu_star, [5, 1, 0], atol=1e-9)
    np.testing.assert_allclose(t.sigma, 0, atol=1e-9)  # linear: no interactions


def test_point_means_and_main_effects_match_a_hand_computation(smoke):
    runs = read_runs(smoke)
    pm = point_means(runs, ["enforcement"], ["compliance_final"])
    p0 = runs[runs.point == 0].compliance_final
    row = pm[pm.point == 0].iloc[0]
    assert row["mean"] == pytest.approx(p0.mean()) and row["n"] == len(p0) == 4
    assert row.ci_low < row["mean"] < row.ci_high
    me = main_effects(runs, ["enforcement", "coordination", "responsiveness"],
                      ["compliance_final"])
    hand = runs.groupby("point").compliance_final.mean().groupby(
        runs.groupby("point").enforcement.first()).mean()
    got = me[(me.factor == "enforcement")].set_index("level")["mean"]
    np.testing.assert_allclose(got.loc[hand.index], hand.to_numpy())


def test_analyze_writes_tables_figures_and_summary_never_overwriting(smoke):
    a = analyze(smoke)
    b = analyze(smoke)
    assert a != b and a.name == "analysis" and b.name == "analysis-2"
    for f in ("point_means.csv", "main_effects.csv", "main_effects.png", "SUMMARY.md",
              "interaction_enforcement_x_coordination.png"):
        assert (a / f).stat().st_size > 0, f
    text = (a / "SUMMARY.md").read_text()
    assert "48 of 48 finished" in text and "pd.read_parquet" in text
    me = pd.read_csv(a / "main_effects.csv")
    assert set(me.factor) == {"enforcement", "coordination", "responsiveness"}


def test_analyze_a_sobol_sweep_end_to_end(tmp_path):
    import yaml

    doc = yaml.safe_load((ROOT / "experiments" / "smoke.yaml").read_text())
    doc.update(design={"type": "sobol", "samples": 4}, replications=1, steps=10,
               factors={"enforcement": {"range": [0.05, 0.5]},
                        "coordination": {"range": [0.0, 1.0]}})
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(doc, sort_keys=False))
    run_sweep(load_experiment(f), tmp_path / "out", workers=1, progress=False)
    out = analyze(tmp_path / "out", measures=["compliance_final"])
    t = pd.read_csv(out / "sobol.csv")
    assert sorted(t.parameter) == ["coordination", "enforcement"]
    assert t.ST.is_monotonic_decreasing  # the most influential first
    assert {"S1", "S1_conf", "ST", "ST_conf", "uncertain"} <= set(t.columns)
    assert (out / "sobol_compliance_final.png").is_file()
    text = (out / "SUMMARY.md").read_text()
    assert "One replication per point" in text  # the indices include seed noise
    if t.uncertain.any():  # four base samples: most intervals are wide
        assert "the 95 % interval is wider than the index" in text


def test_seed_noise_is_the_replications_share_of_the_variance_between_points():
    from ruralgov.analysis.sensitivity import _seed_noise

    rng = np.random.default_rng(3)
    point = np.repeat(np.arange(200), 4)
    signal = rng.normal(0, 2.0, 200)[point]  # between points: variance 4
    ok = pd.DataFrame({"point": point, "y": signal + rng.normal(0, 1.0, point.size)})
    # within: variance 1 over 4 replications = 0.25, over 4 + 0.25
    assert _seed_noise(ok, ["y"])["y"] == pytest.approx(0.25 / 4.25, rel=0.25)
    assert _seed_noise(ok[ok.index % 4 == 0], ["y"]) == {}  # one replication: unknown


def test_morris_tables_are_sorted_by_mu_star(tmp_path):
    import yaml

    doc = yaml.safe_load((ROOT / "experiments" / "smoke.yaml").read_text())
    doc.update(design={"type": "morris", "samples": 4, "levels": 4}, replications=2,
               steps=10, factors={"enforcement": {"range": [0.05, 0.5]},
                                  "coordination": {"range": [0.0, 1.0]},
                                  "responsiveness": {"range": [0.1, 0.9]}})
    f = tmp_path / "m.yaml"
    f.write_text(yaml.safe_dump(doc, sort_keys=False))
    run_sweep(load_experiment(f), tmp_path / "out", workers=1, progress=False)
    out = analyze(tmp_path / "out", measures=["compliance_final"])
    t = pd.read_csv(out / "morris.csv")
    assert sorted(t.parameter) == ["coordination", "enforcement", "responsiveness"]
    assert t.mu_star.is_monotonic_decreasing
    assert "Seed noise is" in (out / "SUMMARY.md").read_text()


def test_analyze_bad_input_is_one_clear_message(tmp_path, smoke):
    with pytest.raises(InputError, match="not a sweep folder"):
        analyze(tmp_path)
    with pytest.raises(InputError, match="unknown complience_final"):
        analyze(smoke, measures=["complience_final"])
    exe = Path(sys.executable).with_name("ruralgov")
    res = subprocess.run([str(exe), "analyze", str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_analyze_reports_scenario_discovery(smoke):
    out = analyze(smoke, out=smoke / "prim-check")
    text = (out / "SUMMARY.md").read_text()
    assert "## Scenario discovery (PRIM)" in text and "high conflict" in text
    assert "on the held-out half" in text
    prim = pd.read_csv(out / "prim.csv")
    assert "low compliance: in the bottom fifth of runs" in set(prim.case)
    assert {"quasi_p", "coverage_test", "density_test"} <= set(prim.columns)
