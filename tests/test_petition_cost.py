"""The cost of petitioning (ODD §7.9): a villager ready to petition files this month with
chance petition_propensity; at 1 (the first form) every ready villager files and nothing is
drawn, so results are those of the model without the parameter (pinned by the golden test)."""

from __future__ import annotations

import numpy as np
import pytest

from ruralgov.model.params import UNCALIBRATED
from ruralgov.study.runner import run_scenario
from tests.twins import one_step_apart

# the county these rules were written in (the defaults before calibration), where the
# events they count are frequent; each test sets what it checks
SMALL = {**UNCALIBRATED, **{"n_villagers": 6000, "n_townships": 3, "villages_per_township": 5}}


def _one_step_apart(propensity: float) -> tuple[int, int]:
    """New petitions in the same step of the same county, filed by everyone ready (1) and by
    ``propensity``: the copies share the villagers who are ready."""
    everyone, some = one_step_apart("petition_propensity", propensity, seed=5, params=SMALL)
    return int(everyone.petitions_new), int(some.petitions_new)


@pytest.mark.parametrize("propensity", [0.2, 0.5])
def test_a_ready_villager_files_with_the_chance_of_the_propensity(propensity):
    everyone, some = _one_step_apart(propensity)
    assert everyone > 200  # enough ready villagers for the share to be measured
    sd = np.sqrt(everyone * propensity * (1 - propensity))
    assert abs(some - propensity * everyone) < 4 * sd, (some, everyone)


def test_nobody_files_at_propensity_zero():
    off = run_scenario("baseline", seed=1, steps=40, collect_detail=False,
                       overrides={**SMALL, "petition_propensity": 0.0})
    on = run_scenario("baseline", seed=1, steps=40, collect_detail=False, overrides=SMALL)
    assert off.series.petitions_new.sum() == 0 and on.series.petitions_new.sum() > 0
    assert off.series.petitions_answered.sum() == 0
    assert off.series.petitions_escalated.sum() == 0


def test_a_lower_propensity_means_fewer_petitions_a_year():
    rates = [run_scenario("baseline", seed=2, steps=60, collect_detail=False,
                          overrides={**SMALL, "petition_propensity": p})
             .summary["petitions_new_per_1000_year"] for p in (1.0, 0.3, 0.05)]
    assert rates[0] > rates[1] > rates[2] > 0
