"""The ensemble engine: R runs stacked in one model are each bit-identical to the same run
stepped alone (series and final state), with scheduled events, interventions and every
mechanism's branches; what it refuses, it refuses with a message."""

from __future__ import annotations

import numpy as np
import pytest

from ruralgov import RuralGovernanceModel
from ruralgov.model.ensemble import Ensemble
from ruralgov.model.schema import InputError

STATE = ("legitimacy", "grievance", "attachment", "trust_local", "trust_upper", "deterrence",
         "stage", "pet_age", "pet_level", "pet_dept", "detained_for", "silenced_for",
         "hardship", "assisted", "protesting")

EVENTS = dict(campaign=True, campaign_start=4, campaign_duration=8, scandal=True,
              scandal_start=10, scandal_duration=4, withdrawal_step=18)
TURN = [{"step": 7, "set": {"responsiveness": 0.9, "coordination": 0.7}}]


def _alone(seed, steps, interventions=None, **params):
    m = RuralGovernanceModel(seed, collect_detail=False, interventions=interventions, **params)
    for _ in range(steps):
        m.step()
    return m


def _assert_identical(seeds, steps, interventions=None, **params):
    e = Ensemble(seeds, interventions=interventions, **params)
    for _ in range(steps):
        e.step()
    off = e.runs.offsets["villager"]
    for r, seed in enumerate(seeds):
        alone = _alone(seed, steps, interventions, **params)
        member = e.members[r]
        assert member.seed == seed and member.steps == steps
        assert alone.series().equals(member.series()), f"run {r} (seed {seed}): series differ"
        for name in STATE:
            got = getattr(e.villagers, name)[off[r]:off[r + 1]]
            assert np.array_equal(getattr(alone.villagers, name), got), (r, name)
        assert np.array_equal(alone.rules.comply, e.rules.comply[:, off[r]:off[r + 1]])
    return e


def test_one_run_is_the_run_alone():
    _assert_identical([5], 25, **EVENTS, n_villagers=300)


def test_seven_runs_with_events_and_an_intervention():
    e = _assert_identical([11, 12, 13, 14, 15, 16, 17], 24, interventions=TURN, **EVENTS,
                          n_villagers=400, priority_handling=0.5, strategic_escalation=0.2,
                          key_person_management=0.3, social_credit=0.4)
    series = e.series()
    assert sorted(series.seed.unique()) == [11, 12, 13, 14, 15, 16, 17]
    assert len(series) == 7 * 24
    # the runs differ (their own draws), so the test compares something
    assert series.groupby("seed").compliance.last().nunique() > 1


def test_sixty_four_runs():
    _assert_identical(list(range(100, 164)), 12, n_villagers=200)


@pytest.mark.parametrize("params", [
    dict(mech_pairwise_conflict=False, habit_memory=0.0, cooptation=0.3, compact_rate=0.1,
         lineage_strength_sd=0.3),
    dict(mech_trust_levels=False, mech_interception=False, mech_cadres=False,
         mech_state_response=False),
    dict(mech_contention=False, mech_informal=False, mech_services=False),
    dict(mech_fragmentation=False, mech_enforcement=False, mech_graduated=False,
         mech_participation=False, mech_legitimacy=False),
], ids=["first-forms", "no-new-mechanisms", "no-contention", "bare"])
def test_every_branch(params):
    _assert_identical([1, 2, 3], 15, n_villagers=300, **params)


def test_runs_larger_than_a_block():
    """Each run's blocks stay whole inside the ensemble's blocks (the draws follow them)."""
    _assert_identical([1, 2], 3, n_villagers=40_000)


@pytest.mark.parametrize("kwargs, word", [
    (dict(random_sequential=True), "random_sequential"),
    (dict(collect_detail=True), "collect_detail"),
])
def test_refused(kwargs, word):
    with pytest.raises(InputError, match=word):
        Ensemble([1, 2], n_villagers=200, **kwargs)


def test_seeds_must_be_a_list():
    with pytest.raises(ValueError, match="list"):
        Ensemble(3, n_villagers=200)
