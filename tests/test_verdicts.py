"""The pre-registered decision rules give the verdicts they promise on data with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydantic
import pytest

from ruralgov.analysis.verdicts import Hypothesis, evaluate


def runs(f, levels=(0.0, 0.25, 0.5, 0.75, 1.0), reps=10, noise=0.05, seed=0, b=None):
    rng = np.random.default_rng(seed)
    rows = []
    grid = [(x, None) for x in levels] if b is None else [(x, y) for x in levels for y in b]
    for p, (x, y) in enumerate(grid):
        for _ in range(reps):
            val = f(x) if y is None else f(x, y)
            rows.append({"point": p, "x": x, "y": y, "status": "ok",
                         "m": val + rng.normal(0, noise)})
    return pd.DataFrame(rows)


def hyp(kind, direction="positive", min_effect=0.02, **extra):
    test = {"kind": kind, "measure": "m", "min_effect": min_effect, **extra}
    if kind != "inverted_u":
        test["direction"] = direction
    if "factors" not in extra:
        test.setdefault("factor", "x")
    return Hypothesis(id="T1", claim="test", tests=[test])


@pytest.mark.parametrize("kind", ["slope", "difference"])
def test_monotone_effects(kind):
    up = runs(lambda x: 0.5 + 0.2 * x, reps=30)
    assert evaluate(up, hyp(kind)).verdict == "supported"
    assert evaluate(up, hyp(kind, "negative")).verdict == "not supported"
    flat = runs(lambda x: 0.5, reps=40, noise=0.01)
    assert evaluate(flat, hyp(kind)).verdict == "not supported"  # no effect worth the name
    weak = runs(lambda x: 0.5 + 0.04 * x, reps=6, noise=0.05)  # CI straddles min_effect
    v = evaluate(weak, hyp(kind))  # a design too small to show twice the bar: no conclusion
    assert v.verdict == "inconclusive" and v.detail["power_supported"] < 0.8
    at_bar = runs(lambda x: 0.5 + 0.02 * x, reps=40, noise=0.01)  # an effect at the bar
    v = evaluate(at_bar, hyp(kind))  # ... in a design that could have shown twice the bar
    assert v.ci_low < 0.02 < v.ci_high
    assert v.verdict == "mixed" and v.detail["power_supported"] >= 0.8
    v = evaluate(up, hyp(kind))
    assert v.ci_low < v.effect < v.ci_high and v.effect == pytest.approx(0.2, abs=0.03)


def test_inverted_u():
    levels = np.linspace(0, 1, 7)
    bump = runs(lambda x: 0.5 - (x - 0.5) ** 2, levels=levels, noise=0.02)
    v = evaluate(bump, hyp("inverted_u"))
    assert v.verdict == "supported" and v.detail["vertex"] == pytest.approx(0.5, abs=0.05)
    rising = runs(lambda x: 0.2 * x, levels=levels, noise=0.02)
    assert evaluate(rising, hyp("inverted_u")).verdict != "supported"
    valley = runs(lambda x: (x - 0.5) ** 2, levels=levels, noise=0.02)
    assert evaluate(valley, hyp("inverted_u")).verdict == "not supported"


def test_interaction():
    synergy = runs(lambda a, b: 0.1 * a + 0.1 * b + 0.3 * a * b, levels=(0, 1), b=(0, 1))
    h = hyp("interaction", factors=["x", "y"])
    assert evaluate(synergy, h).verdict == "supported"
    additive = runs(lambda a, b: 0.1 * a + 0.1 * b, levels=(0, 1), b=(0, 1), reps=40,
                    noise=0.01)
    assert evaluate(additive, h).verdict == "not supported"


def test_bad_hypothesis_blocks_are_refused():
    with pytest.raises(pydantic.ValidationError, match="direction"):
        Hypothesis(id="H1", claim="c", tests=[{"kind": "slope", "measure": "m", "factor": "x"}])
    with pytest.raises(pydantic.ValidationError, match="factors"):
        Hypothesis(id="H1", claim="c", tests=[{"kind": "interaction", "measure": "m",
                                               "direction": "positive"}])
    with pytest.raises(pydantic.ValidationError, match="tests"):
        Hypothesis(id="H1", claim="c", tests=[])


def test_overall_verdict_of_several_tests():
    from ruralgov.analysis.verdicts import Verdict, overall

    def v(x):
        return Verdict(x, 0.0, 0.0, 0.0, 10, {})

    assert overall([v("supported"), v("supported")]) == "supported"
    assert overall([v("not supported")] * 3) == "not supported"
    assert overall([v("supported"), v("not supported")]) == "mixed"
    assert overall([v("supported"), v("mixed")]) == "mixed"
    assert overall([v("inconclusive")] * 2) == "inconclusive"
    assert overall([v("supported"), v("inconclusive")]) == "mixed"


def test_mean_threshold_and_contrast_tests():
    # mean: no factor; the hysteresis of H8 is such a test
    pos = runs(lambda x: 3.0, reps=10, noise=1.0)
    assert evaluate(pos, Hypothesis(id="T", claim="c", tests=[
        {"kind": "mean", "measure": "m", "direction": "positive", "min_effect": 1}])
    ).verdict == "supported"
    with pytest.raises(pydantic.ValidationError, match="takes no factor"):
        Hypothesis(id="T", claim="c", tests=[{"kind": "mean", "measure": "m", "factor": "x",
                                              "direction": "positive"}])
    # threshold: a step between two adjacent levels vs a straight line
    levels = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    step = runs(lambda x: 0.8 if x < 0.5 else 0.2, levels=levels, reps=20, noise=0.02)
    v = evaluate(step, hyp("threshold", min_effect=0.5))
    assert v.verdict == "supported" and v.detail["jump_from"] == 0.4
    assert v.detail["jump_to"] == 0.6
    line = runs(lambda x: 0.8 - 0.6 * x, levels=levels, reps=20, noise=0.02)
    v = evaluate(line, hyp("threshold", min_effect=0.5))
    assert v.verdict == "not supported" and v.effect < 0.35  # 1/5 for an exact line
    # contrast: x moves m by 0.3, y by 0.05
    both = runs(lambda x, y: 0.3 * x + 0.05 * y, levels=(0.0, 1.0), b=(0.0, 1.0), reps=20,
                noise=0.02)
    assert evaluate(both, hyp("contrast", factors=["x", "y"])).verdict == "supported"
    assert evaluate(both, hyp("contrast", factors=["y", "x"])).verdict == "not supported"


# --- checks apart from findings, sound statistics (issue 15) --------------------------------

def test_a_check_never_decides_the_verdict():
    up = runs(lambda x: 0.5 + 0.2 * x, reps=20)
    h = Hypothesis(id="T", claim="c", tests=[
        {"kind": "slope", "factor": "x", "measure": "m", "direction": "positive",
         "min_effect": 0.02, "role": "check", "because": "a rule says so"},
        {"kind": "slope", "factor": "x", "measure": "m", "direction": "negative",
         "min_effect": 0.02}])
    vs = [evaluate(up, h, test=t) for t in h.tests]
    assert [v.verdict for v in vs] == ["supported", "not supported"]
    assert [v.counts for v in vs] == [False, True]
    from ruralgov.analysis.verdicts import checks_status, overall

    assert overall(vs) == "not supported"  # the supported check does not count
    assert checks_status(vs) == "passed"
    assert overall(vs[:1]) == "checks only"
    with pytest.raises(pydantic.ValidationError, match="because"):
        Hypothesis(id="T", claim="c", tests=[{"kind": "mean", "measure": "m", "role": "check",
                                              "direction": "positive"}])


def test_closed_forms_and_zero_width_intervals_are_flagged_as_checks():
    exact = runs(lambda x: 0.9 ** (4 * x), noise=0.0)  # like fidelity = λ^levels
    v = evaluate(exact, hyp("slope", "negative"))
    assert v.verdict == "supported" and not v.counts
    assert v.flags and v.flags[0].startswith("deterministic")
    noisy = runs(lambda x: 0.5 + 0.2 * x, reps=10)
    noisy["n"] = 1.0 - noisy["m"]  # an identity between two columns
    v = evaluate(noisy, hyp("slope", closed_form="1 - n"))
    assert not v.counts and "closed form" in v.flags[0]
    v = evaluate(noisy, hyp("slope", closed_form="2 * x"))  # a wrong closed form: a finding
    assert v.counts and not v.flags


def test_benjamini_hochberg_downgrades_weak_findings_among_many():
    from ruralgov.analysis.verdicts import Verdict, control_fdr

    def v(p):
        return Verdict("supported", 1.0, 0.5, 1.5, 10, {"p": p})

    strong, weak = [v(1e-4) for _ in range(3)], [v(0.02) for _ in range(1)]
    weak[0].detail["power_supported"] = 0.9  # a design that could decide: mixed
    nulls = [Verdict("mixed", 0.0, -1, 1, 10, {"p": 0.6}) for _ in range(20)]
    control_fdr([strong + weak, nulls])
    assert all(x.verdict == "supported" for x in strong)
    # p = 0.02 is below 0.025 alone, but not among 24 findings: 0.02 * 24 / 4 = 0.12
    assert weak[0].verdict == "mixed" and weak[0].detail["verdict_unadjusted"] == "supported"
    assert weak[0].detail["p_adjusted"] == pytest.approx(0.12)
    alone = [v(0.02)]
    control_fdr([alone])
    assert alone[0].verdict == "supported"
    underpowered = [v(0.02), *[v(0.5) for _ in range(9)]]
    underpowered[0].detail["power_supported"] = 0.3
    control_fdr([underpowered])
    assert underpowered[0].verdict == "inconclusive"


def test_p_value_and_power_follow_the_evidence():
    strong = evaluate(runs(lambda x: 0.5 + 0.2 * x, reps=30, noise=0.02), hyp("slope"))
    weak = evaluate(runs(lambda x: 0.5 + 0.03 * x, reps=4, noise=0.1), hyp("slope"))
    assert strong.detail["p"] < 0.001 < 0.3 < weak.detail["p"]
    assert strong.detail["power_supported"] > 0.95 > 0.5 > weak.detail["power_supported"]
    assert strong.detail["power_equivalence"] > 0.95 and weak.detail["power_equivalence"] < 0.05
    # the p-value agrees with the interval: below 0.025 exactly when the interval clears
    # the smallest effect
    for v in (strong, weak):
        assert (v.detail["p"] < 0.025) == (v.ci_low > 0.02)


def test_p_values_go_below_the_bootstrap_floor_so_fdr_control_can_rank_them():
    """A bootstrap of 2,000 resamples cannot give a p below 1/2,001 by itself; beyond it the
    normal tail with the bootstrap's standard error ranks clear effects by their strength."""
    from ruralgov.analysis.verdicts import N_BOOT

    ps = [evaluate(runs(lambda x, b=b: 0.5 + b * x, reps=30, noise=0.02), hyp("slope"))
          .detail["p"] for b in (0.06, 0.1, 0.2)]
    assert all(p < 1 / (N_BOOT + 1) for p in ps)
    assert ps[0] > ps[1] > ps[2]


def test_a_null_is_an_equivalence_within_the_bar():
    """Two one-sided tests: p_equivalence below 0.025 exactly when the 95 % interval lies
    within ±min_effect, which is what makes "not supported" a conclusion about a null."""
    flat = evaluate(runs(lambda x: 0.5, reps=40, noise=0.01), hyp("slope"))
    assert flat.verdict == "not supported" and flat.detail["p_equivalence"] < 0.025
    assert -0.02 < flat.ci_low < flat.ci_high < 0.02
    vague = evaluate(runs(lambda x: 0.5, reps=4, noise=0.1, seed=2), hyp("slope"))
    assert vague.detail["p_equivalence"] > 0.025 and vague.verdict == "inconclusive"
    clear = evaluate(runs(lambda x: 0.5 + 0.2 * x, reps=30, noise=0.02), hyp("slope"))
    assert clear.detail["p_equivalence"] > 0.99


def test_the_two_lines_breakpoint_is_chosen_again_in_every_resample():
    from ruralgov.analysis.verdicts import _two_lines_kernel

    x = np.array([0.0, 1, 2, 3, 4])
    n = np.ones(5)
    peak1 = np.array([0.0, 2, 1, 0.5, 0])     # highest at level 1
    peak3 = np.array([0.0, 0.5, 1, 2, 0])     # highest at level 3
    out = _two_lines_kernel(x, n)(np.stack([peak1, peak3], axis=1))
    # column 0: rise over [0, 1] = 2, fall over [1, 4]; column 1: rise over [0, 3], fall 2
    assert out[1, 0] == pytest.approx(2.0) and out[2, 1] == pytest.approx(2.0)
    fall0 = -np.polyfit(x[1:], peak1[1:], 1)[0] * 3
    rise1 = np.polyfit(x[:4], peak3[:4], 1)[0] * 3
    assert out[2, 0] == pytest.approx(fall0) and out[1, 1] == pytest.approx(rise1)
    with pytest.raises(ValueError, match="at least 3 levels"):
        _two_lines_kernel(np.array([0.0, 1.0]), np.ones(2))


def test_two_lines_tells_an_inverted_u_from_a_curve_that_only_flattens():
    levels = np.linspace(0, 1, 7)
    bump = runs(lambda x: 0.5 - (x - 0.5) ** 2, levels=levels, noise=0.02)
    v = evaluate(bump, hyp("two_lines"))
    assert v.verdict == "supported" and v.detail["breakpoint"] == pytest.approx(0.5)
    assert v.detail["rise"] > 0.02 and v.detail["fall"] > 0.02
    flattening = runs(lambda x: 1 - np.exp(-6 * x), levels=levels, noise=0.02)
    assert evaluate(flattening, hyp("inverted_u")).verdict == "supported"  # the quadratic errs
    v = evaluate(flattening, hyp("two_lines"))
    assert v.verdict != "supported" and v.detail["fall_ci_low"] < 0  # no fall worth the name
    valley = runs(lambda x: (x - 0.5) ** 2, levels=levels, noise=0.02)
    assert evaluate(valley, hyp("two_lines")).verdict == "not supported"


def test_threshold_is_judged_against_a_simulated_straight_line():
    levels = np.round(np.linspace(0, 0.9, 10), 2)
    # a noisy straight line: the largest step's share is far above 1/9 by noise alone
    line = runs(lambda x: 0.8 - 0.1 * x, levels=levels, reps=4, noise=0.05)
    v = evaluate(line, hyp("threshold", min_effect=0.11))
    assert v.detail["null_mean"] > 0.2 and v.detail["bar"] == v.detail["null_q95"]
    assert v.verdict != "supported"
    step = runs(lambda x: 0.8 if x < 0.45 else 0.3, levels=levels, reps=4, noise=0.05)
    assert evaluate(step, hyp("threshold", min_effect=0.11)).verdict == "supported"


def test_counts_per_1000_villagers_do_not_change_with_the_county_size():
    small = runs(lambda x: 3.0 * x, reps=10, noise=0.3).assign(n_villagers=600)
    big = small.assign(m=small.m * 2, n_villagers=1200)
    a = evaluate(small, hyp("slope", scale="per_1000_villagers", min_effect=0.5))
    b = evaluate(big, hyp("slope", scale="per_1000_villagers", min_effect=0.5))
    assert a.effect == pytest.approx(b.effect) == pytest.approx(5.0, rel=0.1)
    assert a.verdict == b.verdict == "supported"
    raw = evaluate(big, hyp("slope", min_effect=0.5))
    assert raw.effect == pytest.approx(2 * evaluate(small, hyp("slope", min_effect=0.5)).effect)


def test_where_keeps_one_moderator_level_and_the_final_window_is_checked():
    both = runs(lambda x, y: 0.2 * x * y, levels=(0.0, 0.5, 1.0), b=(0.0, 1.0), reps=10,
                noise=0.01)
    both = both.rename(columns={"m": "m_final"})
    h = Hypothesis(id="T", claim="c", tests=[
        {"kind": "slope", "factor": "x", "measure": "m_final", "direction": "positive",
         "min_effect": 0.02, "where": {"y": w}} for w in (0.0, 1.0)])
    off, on = (evaluate(both, h, test=t) for t in h.tests)
    assert off.verdict == "not supported" and on.verdict == "supported"
    # the effect still grows in the window's second half: not stationary
    both["m_final_drift"] = 0.1 * both.x + np.random.default_rng(1).normal(0, 0.005, len(both))
    moving = evaluate(both, h, test=h.tests[1])
    assert moving.detail["stationary"] is False
    assert moving.detail["drift_effect"] == pytest.approx(0.1, abs=0.02)
    both["m_final_drift"] = np.random.default_rng(2).normal(0, 0.005, len(both))
    assert evaluate(both, h, test=h.tests[1]).detail["stationary"] is True
