"""Rejection ABC from a reference table with regression adjustment (issue 28: ABC-SMC's
populations degenerate; this posterior is a kernel-weighted sample, and the same table checks
its coverage): the adjustment, the coverage of the method as used, and the calibration end
to end — blocks kept, a larger table continuing from them, one clear message for a bad file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ruralgov.model.schema import InputError
from ruralgov.study import rejection, sbc
from ruralgov.study.calibrate import _Target, calibrate, effective_sample_size, load_targets
from ruralgov.study.rejection import adjust, coverage, kernel_weights, posterior

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "experiments" / "calibration" / "targets.yaml"
UNIT = (np.zeros(1), np.ones(1))  # one parameter with the prior U(0, 1)


def _toy(noise: float, n: int = 2000, seed: int = 1):
    """theta ~ U(0, 1) observed as y = theta + noise; the observation 0.5, tolerance 0.1."""
    rng = np.random.default_rng(seed)
    theta = rng.random(n)
    y = theta + rng.normal(0.0, noise, n)
    targets = [_Target(name="y", measure="x", value=0.5, tolerance=0.1,
                       source="a made-up target")]
    return targets, pd.DataFrame({"theta": theta}), pd.DataFrame({"y": y})


def test_the_adjustment_moves_accepted_draws_to_where_they_would_meet_the_observation():
    """y = theta exactly: every accepted draw, moved along the regression to error 0, lands
    on the truth, whatever the tolerance; without the adjustment they spread over it."""
    targets, params, values = _toy(noise=0.0)
    values["y"] = params["theta"] * 0.6 + 0.2  # a slope: the error is linear in theta
    post, near, dist = posterior(targets, params, values, 200, UNIT, regression=True)
    raw, _, _ = posterior(targets, params, values, 200, UNIT, regression=False)
    truth = (0.5 - 0.2) / 0.6
    assert np.all(np.diff(dist) >= 0) and len(post) == 200
    assert raw.theta.std() > 0.02  # a tenth of the table: spread over ±0.05 of the truth
    # on the logit scale the relation is not exactly linear; the spread still shrinks 20-fold
    assert post.theta.std() < raw.theta.std() / 20
    assert abs(np.average(post.theta, weights=post.weight) - truth) < 0.01


def test_adjusted_values_never_leave_the_prior():
    rng = np.random.default_rng(3)
    theta = rng.random((100, 2)) * [1.0, 10.0] + [0.0, 5.0]
    err = rng.normal(0, 3, (100, 1)) + theta[:, :1] * 40  # a steep slope: large moves
    out = adjust(theta, err, np.ones(100), np.array([0.0, 5.0]), np.array([1.0, 15.0]))
    assert np.all(out >= [0.0, 5.0]) and np.all(out <= [1.0, 15.0])
    assert not np.allclose(out, theta)


def test_too_few_weighted_rows_for_the_regression_are_left_as_they_were():
    theta = np.array([[0.2], [0.4], [0.6]])
    err = np.array([[0.1, 0.2], [0.3, 0.1], [np.nan, 0.0]])
    assert np.array_equal(adjust(theta, err, np.ones(3), *UNIT), theta)


def test_the_rank_statistic_counts_weights_not_particles():
    post = np.array([[0.0], [1.0], [2.0]])
    truth, v = np.array([0.5]), np.zeros(1)
    # all the weight below the truth: near the top; equal weights: a third of the way
    assert rejection.rank_statistic(post, np.array([1.0, 0, 0]), truth, v)[0] == \
        pytest.approx(1 / (1 + 1 / 3))
    assert rejection.rank_statistic(post, np.ones(3), truth, v)[0] == pytest.approx(1 / 4)
    # a tie is split at random: V = 1 puts the truth above the tied particle
    assert rejection.rank_statistic(post, np.ones(3), np.array([1.0]), np.ones(1))[0] == \
        pytest.approx((1 + 2) / 4)


def test_an_integer_parameter_is_adjusted_within_its_cells():
    """theta uniform on the whole numbers 1..24, y = theta + N(0, 1), observed 1.0 (at the
    prior's lower edge): the adjusted posterior is whole numbers within the prior whose
    weighted mean is the exact posterior's (whole numbers enter the regression at the middle
    of their cells, so those at the edge move too)."""
    rng = np.random.default_rng(5)
    theta = rng.integers(1, 25, 4000).astype(float)
    y = theta + rng.normal(0, 1, theta.size)
    targets = [_Target(name="y", measure="x", value=1.0, tolerance=1.0,
                       source="a made-up target")]
    bounds = (np.array([1.0]), np.array([25.0]), np.array([True]))
    post, _, _ = posterior(targets, pd.DataFrame({"theta": theta}), pd.DataFrame({"y": y}),
                           150, bounds)
    assert post.theta.eq(post.theta.round()).all()
    assert post.theta.between(1, 24).all()
    grid = np.arange(1, 25)
    exact = np.exp(-0.5 * (1.0 - grid) ** 2)
    exact_mean = float((grid * exact).sum() / exact.sum())
    # (entering at k rather than k + ½, the mean falls to 1.28 against the exact 1.52)
    assert np.average(post.theta, weights=post.weight) == pytest.approx(exact_mean, abs=0.1)


def test_a_target_missing_for_a_truth_leaves_the_others_to_the_regression():
    """A synthetic truth without a value for one target: that column drops out of the
    regression; the others still adjust."""
    rng = np.random.default_rng(2)
    theta = rng.random((60, 1))
    err = np.column_stack([theta[:, 0] * 10 - 5, np.full(60, np.nan)])
    out = adjust(theta, err, np.ones(60), *UNIT)
    assert not np.allclose(out, theta)
    assert np.allclose(out, adjust(theta, err[:, :1], np.ones(60), *UNIT))


def test_kernel_weights_fall_with_distance_and_keep_the_farthest():
    w = kernel_weights(np.array([0.0, 0.5, 1.0]))
    assert w[0] == 1.0 and w[0] > w[1] > w[2] > 0
    assert effective_sample_size(kernel_weights(np.linspace(0, 1, 100))) > 70


@pytest.mark.parametrize("regression", [False, True])
def test_the_method_as_used_covers_at_the_nominal_rates(regression):
    targets, params, values = _toy(noise=0.1)
    res = coverage(targets, params, values, 40, UNIT, regression=regression)
    row = res["parameters"][0]
    assert row["coverage_50"] == pytest.approx(0.5, abs=0.05)
    assert row["coverage_90"] == pytest.approx(0.9, abs=0.04)
    assert row["passes"] and sum(row["rank_histogram"]) == len(params)


def test_the_adjustment_rescues_a_tolerance_far_too_wide():
    """Little noise and a fifth of the table accepted: the raw posterior is far wider than
    the truth's uncertainty and over-covers; adjusted, it is about right."""
    targets, params, values = _toy(noise=0.02, n=1000)
    raw = coverage(targets, params, values, 200, UNIT, regression=False)["parameters"][0]
    adj = coverage(targets, params, values, 200, UNIT, regression=True)["parameters"][0]
    assert raw["coverage_50"] > 0.8 and not raw["passes"]
    assert adj["coverage_50"] == pytest.approx(0.5, abs=0.1)


def test_accepting_too_many_is_refused():
    targets, params, values = _toy(noise=0.1, n=50)
    with pytest.raises(InputError, match="abc.accept: 50; allowed: 2 to 49"):
        posterior(targets, params, values, 50, UNIT)


def _file(tmp_path: Path, **abc) -> Path:
    doc = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    doc["abc"] = {"method": "rejection", "predictive_draws": 3, **abc}
    doc["profiles"]["quick"] = {k: v for k, v in doc["profiles"]["quick"].items()
                                if k not in ("population", "generations", "predictive_draws")}
    doc["profiles"]["quick"]["steps"] = 24
    path = tmp_path / "rejection.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_a_rejection_calibration_end_to_end_keeps_and_grows_its_table(tmp_path, monkeypatch):
    monkeypatch.setattr(rejection, "BLOCK", 20)
    path, out = _file(tmp_path, reference=30, accept=12), tmp_path / "cal"
    report = calibrate(path, profile="quick", out=out, workers=1, progress=False)
    text = report.read_text()
    assert "rejection ABC from a reference table of 30 draws" in text
    assert "## Identification" in text
    assert "adjusted exactly as this calibration's posterior" in text  # its own coverage
    data = json.loads((out / "calibration.json").read_text())
    assert ("regression adjustment" in text) == data["generations"][0]["adjusted"]
    post = pd.read_parquet(out / "posterior.parquet")
    acc = pd.read_parquet(out / "accepted.parquet")
    assert len(post) == len(acc) == 12 and data["method"] == "rejection"
    assert np.all(np.diff(acc.distance) >= 0) and set(acc.row) <= set(range(30))
    assert data["generations"][0]["ess"] == pytest.approx(effective_sample_size(post.weight))
    for p in data["posterior"]:
        assert p["prior_low"] <= p["ci_low"] <= p["ci_high"] <= p["prior_high"]
    assert post.matter_window.eq(post.matter_window.round()).all()  # an integer parameter
    check = json.loads((out / "sbc" / "sbc.json").read_text())
    assert check["reference"] == 30 and check["accept"] == 12 and "regression" in check["method"]
    blocks = sorted(p.name for p in (out / "reference").glob("block-*.parquet"))
    assert blocks == ["block-000.parquet", "block-001.parquet"]
    assert len(pd.read_parquet(out / "reference" / "block-001.parquet")) == 10  # partial
    # the raw sweeps of full blocks may go: the kept blocks are the table
    shutil.rmtree(out / "reference" / "block-000")
    calibrate(path, profile="quick", out=out, workers=1, progress=False)
    assert not (out / "reference" / "block-000").exists()  # not simulated again
    pd.testing.assert_frame_equal(pd.read_parquet(out / "posterior.parquet"), post)
    # a larger table is the same calibration gone further: the partial block grows, one more
    calibrate(_file(tmp_path, reference=50, accept=12), profile="quick", out=out, workers=1,
              progress=False)
    grown = json.loads((out / "calibration.json").read_text())
    assert grown["generations"][0]["simulations"] == 50
    assert not (out / "reference" / "block-000").exists()
    # and it is the table a calibration of 50 from scratch simulates, draw for draw and seed
    # for seed: growing changed nothing already there
    fresh = tmp_path / "fresh"
    calibrate(_file(tmp_path, reference=50, accept=12), profile="quick", out=fresh,
              workers=1, progress=False)
    for b in range(3):
        old = pd.read_parquet(out / "reference" / f"block-00{b}.parquet")
        new = pd.read_parquet(fresh / "reference" / f"block-00{b}.parquet")
        cols = ["run_id", "seed", *load_targets(path, "quick")[0].priors,
                "petitions_escalated_per_1000_year"]
        pd.testing.assert_frame_equal(old[cols].reset_index(drop=True),
                                      new[cols].reset_index(drop=True))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "posterior.parquet"),
                                  pd.read_parquet(fresh / "posterior.parquet"))


@pytest.mark.parametrize("abc, message", [
    ({"reference": 40, "accept": 40}, "abc.accept: 40; allowed: fewer than abc.reference"),
    ({"accept": 10}, "method rejection needs reference"),
])
def test_a_bad_rejection_file_is_one_clear_message(tmp_path, abc, message):
    with pytest.raises(InputError, match=message) as err:
        load_targets(_file(tmp_path, **abc))
    assert "rejection.yaml" in str(err.value)


def test_sbc_of_a_rejection_calibration_is_refused(tmp_path):
    from ruralgov.study.sbc import sbc

    with pytest.raises(InputError, match="checks its own coverage"):
        sbc(_file(tmp_path, reference=40, accept=10), out=tmp_path / "x", draws=20)


def test_the_first_block_is_the_simulation_based_calibrations_table():
    """Block 0 of a rejection table is, draw for draw, the reference table of
    `ruralgov calibrate --sbc 500` (a calibration can start from one); a partial block is the
    first rows of the full one; other blocks have other seeds."""
    from ruralgov.study.sbc import _reference_experiment, reference_seed

    spec, _ = load_targets(TARGETS)
    seed = sbc.reference_seed(spec)
    assert seed == reference_seed(spec)
    full = _reference_experiment(spec, 500, seed).runs()
    assert [(r.seed, r.values) for r in rejection._block_experiment(spec, seed, 0, 500).runs()
            ] == [(r.seed, r.values) for r in full]
    part = rejection._block_experiment(spec, seed, 0, 30).runs()
    assert [(r.seed, r.values) for r in part] == [(r.seed, r.values) for r in full[:30]]
    other = rejection._block_experiment(spec, seed, 1, 30).runs()
    assert {r.seed for r in part}.isdisjoint({r.seed for r in other})


def test_the_rejection_profile_switches_the_method_and_adds_priors():
    smc, _ = load_targets(TARGETS)
    rej, _ = load_targets(TARGETS, "rejection")
    assert smc.abc.method == "smc" and rej.abc.method == "rejection"
    assert list(rej.priors)[:len(smc.priors)] == list(smc.priors)
    assert set(rej.priors) - set(smc.priors) == {
        "diffuse_support", "diffuse_support_level", "diffuse_support_sd"}
    from ruralgov.study.targets import definition_hash

    assert definition_hash(rej) != definition_hash(smc)


def test_a_profile_switching_the_method_must_give_what_it_needs(tmp_path):
    doc = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    doc["profiles"]["bad"] = {"method": "rejection", "accept": 10}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"t.yaml: profiles.bad: .*needs reference"):
        load_targets(path, "bad")
