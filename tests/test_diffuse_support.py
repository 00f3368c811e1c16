"""Diffuse support (ODD §7.13, issue 28): both trusts return toward each villager's standing
support at the rate diffuse_support; the support is drawn once, after the trusts and from
their generator; the first form (rate 0) changes nothing."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ruralgov.model import RuralGovernanceModel
from ruralgov.model.equations import diffuse_pull

SMALL = {"n_villagers": 3000, "n_townships": 2, "villages_per_township": 3}


def test_the_pull_is_a_convex_mix_toward_the_support():
    rng = np.random.default_rng(0)
    trust, support = rng.random(1000), rng.random(1000)
    for rate in (0.0, 0.3, 1.0):
        new = diffuse_pull(trust, support, rate)
        assert np.all((new >= 0) & (new <= 1))
        np.testing.assert_allclose(new - trust, rate * (support - trust))
    np.testing.assert_array_equal(diffuse_pull(trust, support, 1.0), support)


def test_supports_are_drawn_around_their_level_and_clipped():
    model = RuralGovernanceModel(seed=3, diffuse_support_level=0.4, diffuse_support_sd=0.2,
                                 **SMALL)
    s = model.villagers.support
    assert s.dtype == np.float32 and s.min() >= 0 and s.max() <= 1
    inside = s[(s > 0) & (s < 1)]
    assert abs(np.median(s) - 0.4) < 0.02
    assert 0.17 < inside.std() < 0.21  # a little under 0.2: the tails are clipped
    assert (s == 0).any()  # 0.4 / 0.2 = 2 sd: about 2 % of 3,000 sit at the bound


def test_the_other_draws_do_not_depend_on_the_support():
    a = RuralGovernanceModel(seed=4, **SMALL)
    b = RuralGovernanceModel(seed=4, diffuse_support_level=0.9, diffuse_support_sd=0.3,
                             **SMALL)
    for name in ("trust_local", "trust_upper", "legitimacy", "hardship", "mobilisation"):
        np.testing.assert_array_equal(getattr(a.villagers, name), getattr(b.villagers, name))
    for _ in range(12):  # and with the rate at 0 the runs stay identical
        a.step()
        b.step()
    assert a.series().equals(b.series())
    assert not np.array_equal(a.villagers.support, b.villagers.support)


def _one_step(rate: float, seed: int = 5, **params):
    model = RuralGovernanceModel(seed=seed, diffuse_support_level=0.5, diffuse_support_sd=0.15,
                                 **{**SMALL, **params})
    for _ in range(20):
        model.step()
    other = copy.deepcopy(model)
    other.p["diffuse_support"] = rate
    model.step()
    other.step()
    return model, other


@pytest.mark.parametrize("rate", [0.1, 1.0])
def test_both_trusts_move_that_share_of_the_way_to_the_support(rate):
    """The same county one step apart: with the rate the trusts end the step the share rate
    of the way from where they would have been toward the support; legitimacy as before."""
    free, pulled = _one_step(rate)
    v, w = free.villagers, pulled.villagers
    for name in ("trust_local", "trust_upper"):
        want = getattr(v, name) + np.float32(rate) * (v.support - getattr(v, name))
        np.testing.assert_allclose(getattr(w, name), want, atol=1e-6)
    np.testing.assert_array_equal(w.legitimacy, v.legitimacy)
    assert not np.array_equal(w.trust_upper, v.trust_upper)


def test_without_trust_levels_the_support_changes_nothing():
    free, pulled = _one_step(0.5, mech_trust_levels=False)
    assert pulled.series().equals(free.series())
    np.testing.assert_array_equal(pulled.villagers.trust_upper, free.villagers.trust_upper)
