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
    assert evaluate(weak, hyp(kind)).verdict == "mixed"
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
    nulls = [Verdict("mixed", 0.0, -1, 1, 10, {"p": 0.6}) for _ in range(20)]
    control_fdr([strong + weak, nulls])
    assert all(x.verdict == "supported" for x in strong)
    # p = 0.02 is below 0.025 alone, but not among 24 findings: 0.02 * 24 / 4 = 0.12
    assert weak[0].verdict == "mixed" and weak[0].detail["verdict_unadjusted"] == "supported"
    assert weak[0].detail["p_adjusted"] == pytest.approx(0.12)
    alone = [v(0.02)]
    control_fdr([alone])
    assert alone[0].verdict == "supported"


def test_p_value_and_power_follow_the_evidence():
    strong = evaluate(runs(lambda x: 0.5 + 0.2 * x, reps=30, noise=0.02), hyp("slope"))
    weak = evaluate(runs(lambda x: 0.5 + 0.03 * x, reps=4, noise=0.1), hyp("slope"))
    assert strong.detail["p"] < 0.001 < 0.3 < weak.detail["p"]
    assert strong.detail["power_detect"] > 0.95 > 0.5 > weak.detail["power_detect"]
    assert strong.detail["power_null"] > 0.95 and weak.detail["power_null"] < 0.05
    # the p-value agrees with the interval: below 0.025 exactly when the interval clears
    # the smallest effect
    for v in (strong, weak):
        assert (v.detail["p"] < 0.025) == (v.ci_low > 0.02)


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
