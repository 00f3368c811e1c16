"""Robustness across the parameter space (issue 15, item 3): the crossed design, the study on
the sweep engine, the shares per verdict, their stability under a second root seed, PRIM
boxes, and one clear message for a bad spec."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ruralgov.model.schema import InputError
from ruralgov.study.experiment import load_experiment
from ruralgov.study.robustness import load_spec, robustness, summarise

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path, doc, name="spec.yaml"):
    f = tmp_path / name
    f.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return f


def test_a_crossed_design_repeats_the_factorial_design_at_each_hypercube_point(tmp_path):
    f = _write(tmp_path, {
        "title": "t", "description": "d", "scenario": "baseline", "root_seed": 5,
        "replications": 1, "steps": 3, "design": {"type": "crossed", "samples": 4},
        "parameters": {"n_villagers": 120, "n_townships": 1, "villages_per_township": 2},
        "factors": {"enforcement": [0.1, 0.5], "coordination": [0.0, 1.0],
                    "w_cost": {"range": [1.5, 4.5]}, "peer_weight": {"range": [0.2, 0.8]}}},
        "x.yaml")
    exp = load_experiment(f)
    pts = exp.points
    assert len(pts) == 4 * 4 and exp.n_runs == 16
    blocks = pts.groupby(np.arange(16) // 4)
    for _, b in blocks:  # one hypercube point per block of 4, the full factorial inside it
        assert b.w_cost.nunique() == 1 and b.peer_weight.nunique() == 1
        assert set(zip(b.enforcement, b.coordination)) == {(0.1, 0.0), (0.1, 1.0),
                                                           (0.5, 0.0), (0.5, 1.0)}
    # a Latin hypercube: one point in each quarter of every range
    assert sorted(np.floor((pts.w_cost.iloc[::4] - 1.5) / 0.75).astype(int)) == [0, 1, 2, 3]
    bad = yaml.safe_load(f.read_text())
    bad["factors"] = {"enforcement": [0.1, 0.5]}
    with pytest.raises(InputError, match="crossed design needs at least one factor with a range"):
        load_experiment(_write(tmp_path, bad, "bad.yaml"))


def test_robustness_study_of_one_hypothesis(tmp_path):
    spec = _write(tmp_path, {
        "title": "t", "description": "d", "samples": 3, "root_seeds": [11, 12],
        "hypothesis_profile": "quick",
        "ranges": {"w_cost": [2.0, 4.0], "answer_relief": [0.4, 0.8],
                   "responsiveness": [0.1, 0.9]}})
    out = tmp_path / "rb"
    report = robustness(only=["H12"], out=out, workers=1, progress=False, spec=spec)
    text = report.read_text()
    assert "| H12 | responsiveness lowers escalation | finding |" in text
    data = json.loads((out / "robustness.json").read_text())
    tests = data["tests"]
    h12 = load_experiment(ROOT / "experiments" / "paper" / "h12_responsiveness.yaml")
    assert [t["test"] for t in tests] == [t.name for t in h12.hypothesis.tests]
    for t in tests:
        assert t["points"] == 6 and abs(sum(t["shares"].values()) - 1) < 1e-9
        # a supported test's estimate is beyond its smallest effect: never fewer of those
        assert t["estimate_beyond"] >= t["shares"]["supported"]
        assert set(t["per_seed"]) == {"11", "12"} and t["seed_difference"] is not None
    # the factor H12 manipulates is not varied; the generated files run with `ruralgov sweep`
    gen = load_experiment(out / "experiments" / "h12_responsiveness-11.yaml")
    assert gen.design["type"] == "crossed" and gen.factors["responsiveness"]["values"] == [
        0.2, 0.5, 0.8]
    assert set(gen.factors) == {"responsiveness", "suppression", "w_cost", "answer_relief"}
    # the generated file names the project's scenario by name: it runs on another machine
    assert yaml.safe_load((out / "experiments" / "h12_responsiveness-11.yaml").read_text())[
        "scenario"] == h12.scenario.name
    table = pd.read_parquet(out / "robustness.parquet")
    assert len(table) == 2 * 3 * len(tests) and table.w_cost.between(2.0, 4.0).all()
    assert table.groupby("root_seed").w_cost.nunique().tolist() == [3, 3]
    # resumable: again, nothing new runs and the table is the same
    robustness(only=["H12"], out=out, workers=1, progress=False, spec=spec)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "robustness.parquet"), table)
    # the paper's report says, per test, where it holds (and, from a posterior study, how
    # probably): the numbers of robustness.json, in the hypothesis's section and verdicts.json
    from ruralgov.study.reproduce import reproduce

    rep = reproduce("quick", only=["H12"], out=tmp_path / "paper", workers=1, progress=False,
                    update_check=False, size_check=False, knockouts="none", robustness=out,
                    posterior=out)
    text = rep.read_text()
    assert "**Across the parameter space**" in text
    doc = json.loads((tmp_path / "paper" / "verdicts.json").read_text())
    assert set(doc["studies"]) == {"robustness", "posterior"}
    row = doc["hypotheses"][0]
    assert [t["test"] for t in row["robustness"]] == [t["test"] for t in tests]
    for t in tests:
        share = f"{t['shares']['supported']:.0%}"
        assert f"| {t['test']} | {t['counts_as']} | {share} |" in text
    with pytest.raises(InputError, match="no robustness.json"):
        reproduce("quick", only=["H12"], out=tmp_path / "p2", robustness=tmp_path)
    # summarised again from its data alone (after an update): the same shares, no run, the
    # study's own provenance kept and the new summary's recorded; from the command line too
    from ruralgov.study.robustness import resummarise

    before = json.loads((out / "robustness.json").read_text())
    for sweep in (out / "sweeps").iterdir():  # nothing to run from: only the data is read
        sweep.rename(tmp_path / sweep.name)
    res = subprocess.run([sys.executable, "-m", "ruralgov", "robustness", "--summary-only",
                          "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    after = json.loads((out / "robustness.json").read_text())
    assert after["git"] == before["git"] and after["created_utc"] == before["created_utc"]
    assert "summarised" in after and "Summarised again" in (out / "ROBUSTNESS.md").read_text()
    for a, b in zip(before["tests"], after["tests"]):
        assert a == {k: v for k, v in b.items() if k in a}
        assert b["within_noise"] == (b["seed_difference"] <= b["seed_noise_95"])
    (out / "robustness.parquet").unlink()
    with pytest.raises(InputError, match="robustness.parquet: no such file"):
        resummarise(out)
    res = subprocess.run([sys.executable, "-m", "ruralgov", "robustness", "--summary-only"],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and "--out FOLDER" in res.stderr and "Traceback" not in res.stderr


def test_prim_finds_where_a_verdict_holds():
    rng = np.random.default_rng(0)
    n = 200
    lhs = pd.DataFrame({"w_cost": rng.uniform(1.5, 4.5, n), "peer_weight": rng.uniform(0, 1, n),
                        "id": "H1", "root_seed": np.repeat([1, 2], n // 2),
                        "sample": np.tile(np.arange(n // 2), 2)})
    verdict = np.where(lhs.w_cost < 2.5, "supported", "mixed")
    table = lhs[["id", "root_seed", "sample"]].assign(
        test="t", role="finding", counts_as="finding", verdict=verdict, effect=0.0)
    (row,) = summarise(table, lhs)
    assert row["shares"]["supported"] == pytest.approx((lhs.w_cost < 2.5).mean())
    limits = {x["parameter"]: x for x in row["prim"]["limits"]}
    # the densest box that covers most cases: w_cost below about 2.5 (density >= 0.8)
    assert set(limits) == {"w_cost"} and 2.4 < limits["w_cost"]["high"] < 2.9
    # judged on the held-out half of the points, each restriction with its quasi-p value
    assert row["prim"]["density"] >= 0.8 and row["prim"]["coverage"] > 0.85
    assert limits["w_cost"]["quasi_p"] < 0.05 and row["prim"]["density_train"] >= 0.8


@pytest.mark.parametrize("change,message", [
    ({"ranges": {"w_magic": [0, 1]}}, r"ranges.w_magic: not an uncertain or policy parameter"),
    ({"ranges": {"w_cost": [4, 2]}}, r"ranges.w_cost: \[4, 2\] must be low < high"),
    ({"ranges": {"w_cost": [1, 30]}}, r"ranges.w_cost: \[1, 30\] must be low < high within"),
    ({"samples": 1}, "samples"),
    ({"root_seeds": []}, "root_seeds"),
])
def test_a_bad_spec_is_one_clear_message(tmp_path, change, message):
    doc = {"title": "t", "description": "d", "samples": 3, "root_seeds": [1],
           "ranges": {"w_cost": [2.0, 4.0]}, **change}
    f = _write(tmp_path, doc)
    with pytest.raises(InputError, match=message):
        load_spec(f)
    exe = Path(sys.executable).with_name("ruralgov")
    res = subprocess.run([str(exe), "robustness", "--spec", str(f), "--out",
                          str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr and str(f) in res.stderr


def test_the_shipped_spec_loads_and_its_quick_profile_is_small():
    spec, path = load_spec()
    assert spec.samples >= 200 and len(spec.root_seeds) >= 2
    quick, _ = load_spec(profile="quick")
    assert quick.samples < 20 and path.parent.name == "robustness"


def test_posterior_probability_of_the_verdicts(tmp_path, monkeypatch):
    """Points drawn from a calibration's posterior instead of the hypercube: each drawn point
    is a particle of the posterior, drawn by weight (a particle of weight 0 never is)."""
    post = pd.DataFrame({"w_cost": [2.5, 3.5, 9.0], "answer_relief": [0.5, 0.7, 0.9],
                         "weight": [0.5, 0.5, 0.0]})
    post.to_parquet(tmp_path / "posterior.parquet")
    spec = _write(tmp_path, {"title": "t", "description": "d", "samples": 3,
                             "root_seeds": [11], "ranges": {"w_cost": [2.0, 4.0]}})
    out = tmp_path / "rb"
    robustness(only=["H12"], out=out, workers=1, progress=False, spec=spec,
               posterior=tmp_path / "posterior.parquet")
    gen = load_experiment(out / "experiments" / "h12_responsiveness-11.yaml")
    assert set(gen.factors["w_cost"]["draws"]) <= {2.5, 3.5}
    pairs = set(zip(gen.points.w_cost, gen.points.answer_relief))
    assert pairs <= {(2.5, 0.5), (3.5, 0.7)}  # whole particles, not mixed coordinates
    assert "draws from the posterior" in (out / "ROBUSTNESS.md").read_text()
    # paths inside the working folder are recorded relative to it (not the machine's)
    monkeypatch.chdir(tmp_path)
    robustness(only=["H12"], out=out, workers=1, progress=False, spec=spec,
               posterior=tmp_path / "posterior.parquet")
    doc = json.loads((out / "robustness.json").read_text())
    assert (doc["posterior"], doc["spec"]) == ("posterior.parquet", spec.name)
    with pytest.raises(InputError, match="no such file"):
        robustness(only=["H12"], out=tmp_path / "x", spec=spec, posterior=tmp_path / "no")


def test_draws_need_one_value_per_sample(tmp_path):
    f = _write(tmp_path, {
        "title": "t", "description": "d", "scenario": "baseline", "root_seed": 5,
        "steps": 3, "design": {"type": "crossed", "samples": 3},
        "factors": {"enforcement": [0.1, 0.5], "w_cost": {"draws": [2.0, 3.0]}}}, "x.yaml")
    with pytest.raises(InputError, match=r"factors.w_cost: 2 draws for 3 samples"):
        load_experiment(f)


def test_a_test_newer_than_the_study_is_listed_as_not_in_it():
    """A test an experiment file gained after its robustness study ran gets a row saying so,
    not silence."""
    from ruralgov.study.reproduce import _space_section

    study = {"samples": 200, "root_seeds": [1, 2], "hypothesis_profile": "quick"}
    old = {"test": "old test", "counts_as": "finding", "seed_difference": 0.01, "stable": True,
           "shares": {"supported": 0.5, "mixed": 0.25, "not supported": 0.25}}
    row = {"robustness": [old], "tests": [{"test": "old test", "counts_as": "finding"},
                                          {"test": "new test", "counts_as": "finding"}]}
    text = _space_section(row, {"robustness": study})
    assert "| old test | finding | 50% | 25% | 25% | 0.01 |" in text
    assert "| new test | finding | not in the study (the test is newer than it) |" in text


def test_seed_noise_is_the_spread_of_independent_studies():
    """The yardstick for two root seeds: 0 when every point gives the same verdict; about
    1.96 standard errors of a difference of two shares near one half; smaller with more
    points; the same on every call (its generator's seed is fixed)."""
    from ruralgov.study.robustness import seed_noise

    assert seed_noise([1.0, 0.0, 0.0], [200, 200]) == 0.0
    half = seed_noise([0.5, 0.5], [200, 200])
    assert half == pytest.approx(1.96 * np.sqrt(0.25 * 2 / 200), abs=0.01)
    assert seed_noise([0.5, 0.5], [800, 800]) < 0.6 * half
    assert seed_noise([0.3, 0.3, 0.4], [200, 200]) == seed_noise([0.3, 0.3, 0.4], [200, 200])
    # three root seeds: the largest difference of any pair, so wider than two
    assert seed_noise([0.5, 0.5], [200, 200, 200]) > half
