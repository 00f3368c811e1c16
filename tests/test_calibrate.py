"""`ruralgov calibrate` (issue 15, item 5): ABC-SMC against a targets file whose every target
names its source and tolerance; posterior, predictive check on held-out targets, a calibrated
scenario; resumable, reproducible with one worker, one clear message for a bad file."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ruralgov.io.scenario import load_scenario
from ruralgov.model.params import REGISTRY
from ruralgov.model.schema import InputError
from ruralgov.study.calibrate import (
    _Target,
    band,
    calibrate,
    effective_sample_size,
    error,
    identification,
    load_targets,
    reproduced,
)

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "experiments" / "calibration" / "targets.yaml"


def test_quick_calibration_end_to_end_resumes_and_reproduces(tmp_path):
    out = tmp_path / "cal"
    report = calibrate(profile="quick", out=out, workers=1, progress=False)
    text = report.read_text()
    assert "## Identification" in text and "## Posterior-predictive check" in text
    assert "held out" in text and "1998年共104批次农民集体上访" in text  # sources quoted
    assert "central 90 % of the predictions" in text
    data = json.loads((out / "calibration.json").read_text())
    spec, _ = load_targets(profile="quick")
    assert len(data["generations"]) == spec.abc.generations
    eps = [g["epsilon"] for g in data["generations"]]
    assert eps[-1] < eps[0]  # each population accepts only closer particles than the last
    assert [p["parameter"] for p in data["posterior"]] == list(spec.priors)
    for p in data["posterior"]:
        assert p["prior_low"] <= p["ci_low"] <= p["median"] <= p["ci_high"] <= p["prior_high"]
        if REGISTRY[p["parameter"]].type == "int":  # the share of whole values it holds
            want = ((p["ci_high"] - p["ci_low"] + 1)
                    / (0.9 * (p["prior_high"] - p["prior_low"] + 1)))
        else:
            want = (p["ci_high"] - p["ci_low"]) / (0.9 * (p["prior_high"] - p["prior_low"]))
        assert p["interval_ratio"] == pytest.approx(want)
        assert p["identification"] == identification(p["interval_ratio"])
    post = pd.read_parquet(out / "posterior.parquet")
    assert len(post) == spec.abc.population and post.weight.sum() == pytest.approx(1)
    # each generation's effective sample size, the last one the posterior's own weights'
    assert data["generations"][0]["ess"] == pytest.approx(spec.abc.population)  # the prior
    assert data["generations"][-1]["ess"] == pytest.approx(
        effective_sample_size(post.weight))
    assert "**Effective sample size**" in text
    pred = pd.read_parquet(out / "predictive.parquet")
    assert len(pred) == spec.abc.predictive_draws
    held = [c for c in data["predictive"] if c["held_out"]]
    assert held and all(0 <= c["within_tolerance"] <= 1 for c in held)
    # the calibrated baseline is a scenario the model runs: the posterior medians
    sc = load_scenario(out / "calibrated.yaml")
    med = {p["parameter"]: p["median"] for p in data["posterior"]}
    assert sc.parameters["policy_credit"] == pytest.approx(med["policy_credit"], abs=1e-4)
    # in the calibration's county, as long as the calibration runs it
    assert sc.steps == spec.steps and sc.parameters["n_villagers"] == 300
    assert sc.parameters["villages_per_township"] == spec.parameters["villages_per_township"]
    # resumable: again into the same folder, nothing is simulated anew
    sims = sum(g["simulations"] for g in data["generations"])
    calibrate(profile="quick", out=out, workers=1, progress=False)
    again = json.loads((out / "calibration.json").read_text())
    assert sum(g["simulations"] for g in again["generations"]) == sims
    pd.testing.assert_frame_equal(pd.read_parquet(out / "posterior.parquet"), post)
    # reproducible with one worker: a second calibration from scratch gives the same posterior
    calibrate(profile="quick", out=tmp_path / "cal2", workers=1, progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cal2" / "posterior.parquet"),
                                  post)
    # continued with one more generation: the first ones are kept, one more is run
    doc = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    doc["profiles"]["quick"]["generations"] += 1
    longer = tmp_path / "longer.yaml"
    longer.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    calibrate(longer, profile="quick", out=tmp_path / "cal2", workers=1, progress=False)
    more = json.loads((tmp_path / "cal2" / "calibration.json").read_text())
    assert len(more["generations"]) == spec.abc.generations + 1
    assert more["generations"][:-1] == data["generations"]
    # another targets file into the same folder is refused, never mixed
    doc = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    doc["targets"][0]["value"] = 0.5
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match="holds a calibration of other targets"):
        calibrate(other, profile="quick", out=out, workers=1, progress=False)


@pytest.mark.parametrize("change,message", [
    (lambda d: d["priors"].update(w_magic=[0, 1]), r"priors.w_magic: not a numeric model"),
    (lambda d: d["priors"].update(misreporting=[0.5, 2.0]), r"priors.misreporting: \[0.5, 2\]"),
    (lambda d: d["targets"][0].update(tolerance=0.5), r"targets.0: scale log .*tolerance 0.5"),
    (lambda d: d["targets"][0].update(value=0), r"targets.0: scale log needs value > 0"),
    (lambda d: d["targets"][0].update(scale="cubic"), r"targets.0.scale"),
    (lambda d: d["targets"][0].update(measure="sanctions_total / nonsense"),
     r"targets.0.measure: .*'nonsense' is not a name it may read"),
    (lambda d: d["targets"][0].pop("source"), r"targets.0.source"),
    (lambda d: d["targets"][0].update(tolerance=0), r"targets.0.tolerance"),
    (lambda d: [t.update(held_out=True) for t in d["targets"]], "every target is held out"),
    (lambda d: d["parameters"].update(policy_credit=0.3), "also fixed under parameters"),
    (lambda d: d["targets"][0].update(value=float("nan")), r"targets.0.value: nan"),
    (lambda d: d["targets"][1].update(tolerance=float("inf")), r"targets.1.tolerance: inf"),
    (lambda d: d["targets"][1].update(name=d["targets"][0]["name"]),
     r"targets.1.name: .* also the name of targets.0"),
    (lambda d: d["targets"][0].update(measure="sanctions_total / 0"),
     r"targets.0.measure: .* gives inf on a made-up summary"),
    (lambda d: d["targets"][0].update(measure="log(sanctions_total - sanctions_total)"),
     r"targets.0.measure: .* gives -inf"),
    (lambda d: d["targets"][0].update(measure=5), r"targets.0.measure"),
    (lambda d: d["targets"][0].update(measure="0.5"), r"targets.0.measure: .* reads no measure"),
    (lambda d: d["targets"][0].update(measure="@pd.io.common.os.system('touch pwned')"),
     r"targets.0.measure: .*'@' at position 1 is not allowed"),
    (lambda d: d["targets"][0].update(measure="@Path('pwned').touch()"),
     r"targets.0.measure: .*'@' at position 1 is not allowed"),
])
def test_a_bad_targets_file_is_one_clear_message(tmp_path, change, message):
    doc = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    change(doc)
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_targets(f)
    exe = Path(sys.executable).with_name("ruralgov")
    res = subprocess.run([str(exe), "calibrate", str(f), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr and str(f) in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() and not (tmp_path / "pwned").exists()
    assert not Path("pwned").exists()


def test_a_calibration_killed_mid_generation_resumes_to_the_same_posterior(tmp_path):
    """kill -9 during the second generation, then the same command again: the posterior is
    the one an uninterrupted calibration gives (each generation is seeded for itself and
    starts from what the database holds)."""
    import os
    import signal

    whole = tmp_path / "whole"
    calibrate(profile="quick", out=whole, workers=1, progress=False)
    exe = Path(sys.executable).with_name("ruralgov")
    cut = tmp_path / "cut"
    cmd = [str(exe), "calibrate", "--profile", "quick", "--workers", "1", "--out", str(cut)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in child.stdout:  # the first generation is in the database: kill it
            if line.startswith("calibration: generation 1/"):  # committed; the next begins
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert not (cut / "posterior.parquet").exists()  # it did not finish
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(cut / "posterior.parquet"),
                                  pd.read_parquet(whole / "posterior.parquet"))


def test_sigterm_to_a_calibration_and_its_workers_ends_it_without_tracebacks(tmp_path):
    """pkill reaches pyabc's forked workers as well as the command: each worker ends quietly,
    the command says how to go on (it used to print a traceback per worker)."""
    import os
    import signal
    import time

    import psutil

    cmd = [sys.executable, "-m", "ruralgov", "calibrate", "--profile", "quick", "--workers",
           "2", "--out", str(tmp_path / "c")]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(
                psutil.Process(child.pid).children()) < 2:
            time.sleep(0.1)
        assert len(psutil.Process(child.pid).children()) >= 2, "no workers started"
        time.sleep(1.0)
        os.killpg(child.pid, signal.SIGTERM)  # as pkill -f does: every process of the command
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    # no worker's traceback (each used to print one); the command's own exit is that of
    # Ctrl-C (a signal Python happens to handle inside a finalizer is reported there: a race
    # of signals and Python's finalizers, not of the workers)
    assert "Process ForkProcess" not in err and "multiprocessing/process.py" not in err, err


def test_a_measure_undefined_only_on_the_made_up_summary_is_accepted(tmp_path):
    """The dry run refuses a division by zero, not an expression whose made-up values fall
    outside its domain (log of compliance minus a half is defined for real compliance)."""
    doc = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    doc["targets"][0]["measure"] = "log(compliance_final - 0.5) + sqrt(sanctions_total - 1)"
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    spec, _ = load_targets(f)
    assert spec.targets[0].measure.startswith("log(")


def _target(**kw) -> _Target:
    return _Target(**{"name": "t", "measure": "x", "source": "a source of ten", **kw})


def test_errors_are_in_units_of_the_tolerance_on_either_scale():
    lin = _target(value=0.5, tolerance=0.1)
    assert error(lin, [0.4, 0.5, 0.65]) == pytest.approx([-1, 0, 1.5])
    assert band(lin) == pytest.approx((0.4, 0.6))
    log = _target(value=10.0, tolerance=2.0, scale="log")
    assert error(log, [5.0, 10.0, 20.0, 40.0]) == pytest.approx([-1, 0, 1, 2])
    assert band(log) == pytest.approx((5.0, 20.0))
    # no event at all is far off, not infinitely: as a thousandth of the target
    assert error(log, [0.0])[0] == pytest.approx(-math.log2(1000))
    assert math.isnan(error(log, [float("nan")])[0])


def test_a_figure_printed_as_a_range_is_reproduced_when_the_predictions_overlap_it():
    """'above 95 %' (0.95-1): predictions 0.958-0.975 lie wholly inside it, though not
    around its midpoint; a single printed figure must lie inside the predictions."""
    point = _target(value=0.975, tolerance=0.025)
    ranged = _target(value=0.975, tolerance=0.025, printed_as="range")
    assert not reproduced(point, 0.958, 0.974)
    assert reproduced(ranged, 0.958, 0.974)
    assert reproduced(ranged, 0.90, 0.951) and not reproduced(ranged, 0.90, 0.949)
    assert reproduced(point, 0.958, 0.98)
    log = _target(value=10.0, tolerance=2.0, scale="log", printed_as="range")  # 5 to 20
    assert reproduced(log, 19.0, 40.0) and not reproduced(log, 21.0, 40.0)
    spec, _ = load_targets(TARGETS)
    assert {t.name for t in spec.targets if t.printed_as == "range"} == {
        "T11 share of mediated disputes resolved, 2004-2006", "T8 hierarchical trust"}


def test_the_effective_sample_size_counts_equally_weighted_particles():
    from ruralgov.study.calibrate import DEGENERATE_ESS, _ess_lines

    assert effective_sample_size(np.ones(50)) == pytest.approx(50)
    assert effective_sample_size([1.0, 0, 0, 0]) == pytest.approx(1)
    assert effective_sample_size([3.0, 1.0]) == pytest.approx(16 / 10)
    spec, _ = load_targets(profile="quick")
    n = spec.abc.population
    healthy = {"generations": [{"ess": n}, {"ess": 0.9 * n}]}
    assert "degenerate" not in " ".join(_ess_lines(spec, healthy))
    bad = {"generations": [{"ess": n}, {"ess": DEGENERATE_ESS * n * 0.9}]}
    assert "**The final population is degenerate**" in " ".join(_ess_lines(spec, bad))
    assert _ess_lines(spec, {"generations": [{"epsilon": 1.0}]}) == []  # not recorded then


def test_identification_words_follow_the_interval_ratio():
    assert identification(0.2) == "identified"
    assert identification(0.6) == "weakly identified"
    assert identification(0.95) == "unidentified"


def test_an_uninformative_posterior_has_an_interval_ratio_near_one():
    from types import SimpleNamespace

    import numpy as np

    from ruralgov.study.calibrate import interval_ratio

    spec = SimpleNamespace(priors={"policy_credit": (0.0, 1.0), "detention_term": (1, 3)})
    rng = np.random.default_rng(4)
    flat = rng.uniform(0, 1, 20000)  # the prior itself
    lo, hi = np.quantile(flat, [0.05, 0.95])
    assert interval_ratio(spec, "policy_credit", lo, hi) == pytest.approx(1.0, abs=0.02)
    assert interval_ratio(spec, "policy_credit", 0.45, 0.55) == pytest.approx(0.111, abs=1e-3)
    whole = rng.integers(1, 4, 20000)  # 1, 2, 3 alike
    lo, hi = np.quantile(whole, [0.05, 0.95])
    assert interval_ratio(spec, "detention_term", lo, hi) == pytest.approx(1 / 0.9)
    assert identification(interval_ratio(spec, "detention_term", 2, 2)) == "identified"


def test_the_transition_gives_its_own_proposals_a_density_whatever_the_scales():
    """A population of the county's calibration (tests/data/calibration_population.csv, 14
    parameters from a dispute rate of 0.004 to a weight of 10): pyabc's kernel fitted on the
    raw particles gave a sixth of its own proposals density 0 (a covariance scipy takes as
    singular), hence infinite weights and a population of total weight nan. Fitted in
    prior-width units, every proposal has a positive density and the draws keep pyabc's
    spread."""
    import numpy as np
    import pyabc

    from ruralgov.study.calibrate import _scaled_transition

    pop = pd.read_csv(Path(__file__).parent / "data" / "calibration_population.csv")
    w = pop.pop("weight").to_numpy()
    spec, _ = load_targets("calibration/targets")
    scales = {k: hi - lo for k, (lo, hi) in spec.priors.items()}
    scales.setdefault("petition_persistence", 0.9)  # the prior of the calibration it came from
    np.random.seed(0)
    tr = _scaled_transition(pyabc, scales)
    tr.fit(pop, w / w.sum())
    draws = tr.rvs(3000)
    assert (tr.pdf(draws) > 0).all()
    raw = pyabc.MultivariateNormalTransition()
    raw.fit(pop, w / w.sum())
    ratio = draws.std() / raw.rvs(3000).std()
    assert ratio.between(0.9, 1.1).all(), ratio


def test_a_custom_reporter_can_be_a_calibration_target(tmp_path):
    """A targets file's reporters (as in experiment files) add measures a target may read:
    an end reporter by its name, a per-step one by its _final summary."""
    from ruralgov.study.calibrate import simulate
    from ruralgov.study.runner import run_scenario

    doc = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    doc["reporters"] = {
        "g2": {"function": "tests.test_observe:mean_grievance_squared", "every": "step"},
        "sd": "tests.test_observe:final_grievance_sd"}
    doc["targets"][0].update(measure="g2_final", value=0.1, tolerance=2, scale="log")
    doc["targets"][1].update(measure="sd * 10", value=1.0, tolerance=3, scale="log")
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    spec, _ = load_targets(f, "quick")
    params = {k: (lo + hi) / 2 for k, (lo, hi) in spec.priors.items()}
    got = simulate(spec, params, seed=3)
    from ruralgov.study.calibrate import _value
    from tests.test_observe import final_grievance_sd, mean_grievance_squared

    res = run_scenario(spec.scenario, seed=3, steps=spec.steps, collect_detail=False,
                       overrides={**spec.parameters,
                                  **{k: _value(spec, k, v) for k, v in params.items()}},
                       reporters={"sd": final_grievance_sd},
                       series_reporters={"g2": mean_grievance_squared})
    assert got[doc["targets"][0]["name"]] == pytest.approx(res.summary["g2_final"])
    assert got[doc["targets"][1]["name"]] == pytest.approx(10 * res.summary["sd"])
    doc["targets"][0]["measure"] = "g3_final"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"targets\.0\.measure.*g3_final"):
        load_targets(f)
