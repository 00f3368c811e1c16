"""The mechanisms added so the county can reach sourced magnitudes (issue 28), each a rule with
a first form that draws nothing: incidents that spark protest (ODD §7.11, protest_trigger),
credit for the centre's policies (§7.3, policy_credit), settlements that fail (§7.12,
mediation_success), the blame for contradictory directives (§7.13, conflict_blame_upper),
petitions that need a matter (§7.9, matter_window, matter_rate), a bias against the formal
channel (§7.12, w_formal_bias); and the measures the calibration reads (protest_episodes,
villages_petitioning, trust shares; §4.11)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ruralgov.model import RuralGovernanceModel
from ruralgov.model.params import UNCALIBRATED
from ruralgov.model.submodels import contention
from tests.twins import one_step_apart

# the county these rules were written in (the defaults before calibration), where the
# events they count are frequent; each test sets what it checks
SMALL = {**UNCALIBRATED, **{"n_villagers": 6000, "n_townships": 3, "villages_per_township": 5}}


def _warm(seed: int, steps: int = 40, **params) -> RuralGovernanceModel:
    model = RuralGovernanceModel(seed=seed, **{**SMALL, **params})
    for _ in range(steps):
        model.step()
    return model


# ---------------------------------------------------------------- incidents (protest_trigger)
@pytest.mark.parametrize("rate", [0.05, 0.5])
def test_villages_have_incidents_at_the_poisson_rate_of_their_size(rate):
    model = _warm(3, steps=1, protest_trigger=rate)
    size = model.structure.village_size
    draws = np.array([contention._incidents(model) for _ in range(400)])
    chance = 1.0 - np.exp(-rate * size / 1000.0)
    seen = draws.mean(axis=0)
    sd = np.sqrt(chance * (1 - chance) / draws.shape[0])
    assert np.all(np.abs(seen - chance) < 4.5 * sd + 1e-12), (seen, chance)


def test_no_incident_no_protest():
    free = _warm(4, steps=60)
    assert free.series().protesters.iloc[20:].sum() > 100  # the county protests without it
    rare = _warm(4, steps=60, protest_trigger=1e-9)
    assert rare.series().protesters.sum() == 0


def test_a_protest_starts_afresh_each_month():
    """With an incident everywhere, the cascade starts from nobody: this month's protesters are
    at most those it gives when seeded by last month's (the same county, one step apart)."""
    model = _warm(5, steps=40)
    seeded_before = int(model.villagers.protesting.sum())
    assert seeded_before > 20
    other = copy.deepcopy(model)
    other.p["protest_trigger"] = 1e6  # every village has an incident
    model.step()
    other.step()
    carried, fresh = model.series().iloc[-1], other.series().iloc[-1]
    assert 0 < fresh.protesters < carried.protesters


def test_episodes_count_each_protest_once_in_its_first_month():
    model = RuralGovernanceModel(seed=6, **SMALL)
    minimum = model.p["protest_event_min"]
    before = np.zeros(model.structure.n_villages, dtype=bool)
    expected, events = [], []
    for _ in range(80):
        model.step()
        now = model.scratch.village_protesters >= minimum
        expected.append(int((now & ~before).sum()))
        events.append(int(now.sum()))
        before = now
    series = model.series()
    assert series.protest_episodes.tolist() == expected
    assert series.protest_events.tolist() == events
    assert series.protest_episodes.sum() < series.protest_events.sum()  # protests last


# ------------------------------------------------------- credit for the centre (policy_credit)
def test_policy_credit_moves_trust_from_the_township_to_the_levels_above():
    local_only, shared = one_step_apart("policy_credit", 1.0, seed=9, params=SMALL)
    assert shared.trust_upper_mean > local_only.trust_upper_mean
    assert shared.trust_local_mean < local_only.trust_local_mean
    assert shared.legitimacy_mean == local_only.legitimacy_mean  # legitimacy as before


def test_without_trust_levels_policy_credit_changes_nothing():
    params = {**SMALL, "mech_trust_levels": False}
    local_only, shared = one_step_apart("policy_credit", 1.0, seed=9, params=params)
    assert shared.equals(local_only)


# -------------------------------------------------- settlements that fail (mediation_success)
def test_no_settlement_leaves_only_the_cadres_mediation():
    params = {**SMALL, "mech_cadres": False}
    always, never = one_step_apart("mediation_success", 0.0, seed=10, params=params)
    assert always.disputes_resolved_formally > 10
    assert never.disputes_formal == always.disputes_formal
    assert never.disputes_resolved_formally == 0


@pytest.mark.parametrize("success", [0.3, 0.8])
def test_handled_disputes_settle_with_that_chance(success):
    params = {**SMALL, "n_villagers": 20000, "mech_cadres": False}
    always, some = one_step_apart("mediation_success", success, seed=11, params=params)
    n = always.disputes_formal
    assert always.disputes_resolved_formally == n > 100  # the capacity does not bind
    sd = np.sqrt(n * success * (1 - success))
    assert abs(some.disputes_resolved_formally - success * n) < 4.5 * sd


# ------------------------------------------ who is blamed for contradictory directives
def test_directives_blamed_on_the_township_move_trust_from_it_to_the_levels_above():
    issuers, enforcer = one_step_apart("conflict_blame_upper", 0.0, seed=14, params=SMALL)
    assert issuers.conflict_exposure > 0  # the county's directives conflict here
    assert enforcer.trust_upper_mean > issuers.trust_upper_mean
    assert enforcer.trust_local_mean < issuers.trust_local_mean
    assert enforcer.legitimacy_mean == issuers.legitimacy_mean  # legitimacy loses the whole


def test_without_contradictory_directives_the_blame_changes_nothing():
    params = {**SMALL, "mech_fragmentation": False}
    issuers, enforcer = one_step_apart("conflict_blame_upper", 0.0, seed=14, params=params)
    assert enforcer.equals(issuers)


# ------------------------------------------------- no matter, no petition (matter_window)
def _matter_villages(model) -> set[int]:
    """Villages where a matter arose this step (matter_until = step + window - 1)."""
    v, st = model.villagers, model.structure
    return set(st.village[v.matter_until == model.steps + model.p["matter_window"] - 1]
               .tolist())


@pytest.mark.parametrize("window", [1, 4])
def test_new_petitions_come_only_from_villages_with_a_recent_matter(window):
    model = RuralGovernanceModel(seed=15, **{**SMALL, "matter_rate": 0.2,
                                             "matter_window": window})
    st, v = model.structure, model.villagers
    matters, petitioned = [], 0
    for _ in range(60):
        model.step()
        matters.append(_matter_villages(model))
        filed = set(st.village[v.last_petition == model.steps].tolist())
        recent = set().union(*matters[-window:])  # this month's and the window - 1 before
        assert filed <= recent, (model.steps, filed - recent)
        petitioned += len(filed)
    assert petitioned > 10  # the rule was exercised
    assert sum(map(len, matters)) < 60 * st.n_villages / 2  # and not every village had one


@pytest.mark.parametrize("rate", [0.05, 0.5])
def test_villages_have_matters_at_the_poisson_rate_of_their_size(rate):
    model = _warm(3, steps=1, matter_rate=rate, matter_window=2)
    size = model.structure.village_size
    seen = np.zeros(model.structure.n_villages)
    for _ in range(400):
        model.villagers.matter_until[:] = -1
        contention._matters(model)
        seen += np.array([i in _matter_villages(model) for i in range(seen.size)])
    chance = 1.0 - np.exp(-rate * size / 1000.0)
    sd = np.sqrt(chance * (1 - chance) / 400)
    assert np.all(np.abs(seen / 400 - chance) < 4.5 * sd + 1e-12), (seen / 400, chance)


def test_a_matter_reaches_every_villager_of_its_village():
    model = _warm(16, steps=5, matter_rate=0.2, matter_window=3)
    for _ in range(20):
        model.step()
        now = model.villagers.matter_until == model.steps + 2
        hit = np.bincount(model.structure.village[now], minlength=model.structure.n_villages)
        assert np.all((hit == 0) | (hit == model.structure.village_size))


def test_a_matter_window_needs_matters():
    from ruralgov.io.scenario import load_scenario, parse_overrides
    from ruralgov.model.schema import InputError, validate_params

    with pytest.raises(InputError, match=r"matter_window = 6 needs matter_rate > 0"):
        RuralGovernanceModel(seed=1, **{**SMALL, "matter_window": 6})
    with pytest.raises(InputError, match=r"baseline.yaml: parameters.matter_window = 6 needs "
                                         r"parameters.matter_rate > 0"):
        load_scenario("baseline").resolved({"matter_window": 6, "matter_rate": 0.0})
    from ruralgov.model.params import REGISTRY

    window = REGISTRY["matter_window"].default  # the default window, with no matters
    with pytest.raises(InputError, match=rf"baseline.yaml: parameters.matter_window = {window} "
                                         r"needs parameters.matter_rate > 0"):
        load_scenario("baseline").resolved({"matter_rate": 0.0})
    # a partial set (a factor, --set) may leave the rate to the scenario or another factor
    assert parse_overrides(["matter_window=6"]) == {"matter_window": 6}
    assert validate_params({"matter_window": 6})["matter_window"] == 6
    load_scenario("baseline").resolved({"matter_window": 6, "matter_rate": 0.05})


# --------------------------------------------- a bias against the formal channel (w_formal_bias)
def test_a_bias_against_the_formal_channel_keeps_disputes_among_kin():
    even, averse = one_step_apart("w_formal_bias", -3.0, seed=17, params=SMALL)
    assert averse.disputes == even.disputes > 20  # the same disputes arise
    assert averse.disputes_formal < even.disputes_formal
    eager = one_step_apart("w_formal_bias", 3.0, seed=17, params=SMALL)[1]
    assert eager.disputes_formal > even.disputes_formal


# ------------------------------------------------------------------------------ the measures
def test_villages_petitioning_is_the_share_with_a_petition_in_the_past_year():
    model = RuralGovernanceModel(seed=12, **{**SMALL, "petition_propensity": 0.001})
    n_villages = model.structure.n_villages
    filed = []  # per step: the villages with a new petition that step
    shares = []
    for step in range(1, 41):
        model.step()
        v = model.villagers
        filed.append(set(model.structure.village[v.last_petition == step].tolist()))
        year = set().union(*filed[-12:])
        shares.append(len(year) / n_villages)
    series = model.series()
    assert np.allclose(series.villages_petitioning, shares)
    assert 0 < min(shares[12:]) and max(shares) < 1  # the measure is informative here


def test_trust_shares_count_villagers_above_one_half():
    model = _warm(13, steps=30)
    last = model.series().iloc[-1]
    v = model.villagers
    assert last.trust_local_share == pytest.approx(np.mean(v.trust_local > 0.5))
    assert last.trust_upper_share == pytest.approx(np.mean(v.trust_upper > 0.5))
    assert 0 < last.trust_upper_share < 1


def test_with_incidents_every_protest_event_is_an_episode():
    model = _warm(7, steps=60, protest_trigger=50.0)
    series = model.series()
    assert series.protest_events.sum() > 20
    assert series.protest_episodes.tolist() == series.protest_events.tolist()


def test_failed_settlements_still_use_the_townships_capacity():
    params = {**SMALL, "mech_cadres": False}
    always, never = one_step_apart("mediation_success", 0.0, seed=10, params=params)
    assert never.capacity_use == always.capacity_use > 0


def test_the_new_mechanisms_step_together_as_one_run_each():
    """An ensemble of counties of different sizes with every new mechanism on gives each
    county's series bit for bit (ruralgov.model.ensemble)."""
    from ruralgov.study.runner import run_ensemble, run_scenario

    on = {"protest_trigger": 0.05, "policy_credit": 0.5, "mediation_success": 0.9,
          "petition_propensity": 0.05, "n_townships": 2, "protest_threshold": 0.02,
          "matter_window": 6, "matter_rate": 0.1, "conflict_blame_upper": 0.4,
          "w_formal_bias": -1.0, "petition_persistence": 0.5}
    varying = [{"n_villagers": 3000, "villages_per_township": 4, "arrest_k": 1.0},
               {"n_villagers": 2000, "villages_per_township": 3, "arrest_k": 2.3}]
    together = run_ensemble("baseline", [1, 2], steps=60, overrides=on, varying=varying)
    for seed, v, r in zip([1, 2], varying, together):
        alone = run_scenario("baseline", seed=seed, steps=60, overrides={**on, **v},
                             collect_detail=False)
        assert r.series.equals(alone.series), seed
    assert sum(r.series.protest_episodes.sum() for r in together) > 0


# ------------------------------------------- persistent petitioners (petition_persistence)
def _at_the_county(persistence: float, grievance: float, answered: bool, seed: int = 5,
                   **settings):
    """A county warmed without return visits, with 200 villagers put at the county on the
    last step of their patience (or answered, with county capacity to spare), then stepped
    once with ``petition_persistence`` = ``persistence`` (and ``settings``)."""
    model = _warm(seed)
    v, p = model.villagers, model.p
    p.update(petition_persistence=persistence, **settings)
    idx = np.flatnonzero((v.pet_age < 0) & ~v.protesting & (v.detained_for == 0))[:200]
    v.pet_level[idx], v.grievance[idx] = 1, grievance
    v.pet_age[idx] = p["escalation_wait"] + p["petition_patience"] - 1
    p["county_capacity"] = 1000.0 if answered else 0.0
    before = model.series()["petitions_escalated"].iloc[-1]
    model.step()
    return model, idx, before


@pytest.mark.parametrize("persistence", [0.0, 0.5, 1.0])
def test_a_petitioner_who_gave_up_and_is_still_aggrieved_comes_back(persistence):
    model, idx, _ = _at_the_county(persistence, grievance=0.95, answered=False)
    v = model.villagers
    back = (v.pet_level[idx] == 1) & (v.pet_age[idx] == model.p["escalation_wait"])
    closed = v.pet_age[idx] == -1
    assert np.all(back | closed)  # gave up: closed, or back at the county for the next step
    n = back.sum()
    if persistence == 0.0:
        assert n == 0
    elif persistence == 1.0:
        assert n == idx.size
    else:  # binomial(200, 0.5): well inside 100 ± 4 sd
        assert abs(n - 100) < 4 * np.sqrt(200 * 0.25)


def test_return_visits_count_as_petitions_reaching_the_county():
    still, idx, _ = _at_the_county(1.0, grievance=0.95, answered=False)
    quiet, _, _ = _at_the_county(0.0, grievance=0.95, answered=False)
    diff = still.series()["petitions_escalated"].iloc[-1] - quiet.series()[
        "petitions_escalated"].iloc[-1]

    def at_county_next(m):  # escalated this step or back: at the county next step
        v = m.villagers
        return int(((v.pet_level == 1) & (v.pet_age == m.p["escalation_wait"])).sum())

    # the 200 and whoever else's case closed this step still aggrieved: each counted once
    assert diff == at_county_next(still) - at_county_next(quiet) >= idx.size


def test_an_answer_that_relieves_enough_ends_the_visits():
    # answered: grievance x (1 - answer_relief) = 0.95 x 0.4 = 0.38, below the threshold 0.5
    model, idx, _ = _at_the_county(1.0, grievance=0.95, answered=True)
    assert model.p["petition_threshold"] > 0.95 * (1 - model.p["answer_relief"])
    assert np.all(model.villagers.pet_age[idx] == -1)
    # an answer that relieves little (1.0 x 0.7 = 0.7 stays above 0.5): every one comes back
    model, idx, _ = _at_the_county(1.0, grievance=1.0, answered=True, answer_relief=0.3)
    v = model.villagers
    assert np.all((v.pet_level[idx] == 1) & (v.pet_age[idx] == model.p["escalation_wait"]))
