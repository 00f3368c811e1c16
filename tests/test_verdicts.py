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
