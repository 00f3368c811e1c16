"""The ensemble engine: R runs stacked in one model are each bit-identical to the same run
stepped alone (series and final state), with scheduled events, interventions and every
mechanism's branches; what it refuses, it refuses with a message."""

from __future__ import annotations

import numpy as np
import pytest

from ruralgov import RuralGovernanceModel
from ruralgov.model.ensemble import PER_RUN, STEP_PER_RUN, Ensemble
from ruralgov.model.schema import InputError

STATE = ("legitimacy", "grievance", "attachment", "trust_local", "trust_upper", "deterrence",
         "stage", "pet_age", "pet_level", "pet_dept", "detained_for", "silenced_for",
         "hardship", "assisted", "protesting")

EVENTS = dict(campaign=True, campaign_start=4, campaign_duration=8, scandal=True,
              scandal_start=10, scandal_duration=4, withdrawal_step=18)
TURN = [{"step": 7, "set": {"responsiveness": 0.9, "coordination": 0.7}}]


def _varying(seed: int) -> dict:
    """Run-specific values of every parameter the submodels read per run and of several set
    at the start (county size among them)."""
    g = np.random.default_rng(seed)
    return {"coordination": g.uniform(0, 1), "transmission_levels": int(g.integers(0, 4)),
            "transmission_fidelity": g.uniform(0.6, 1), "discretion": g.uniform(0, 1),
            "responsiveness": g.uniform(0, 1), "suppression": g.uniform(0, 0.6),
            "cooptation": float(g.choice([0.0, 0.3, 0.7])),
            "scandal_misconduct": g.uniform(0.2, 0.9), "scandal_duration": int(g.integers(2, 8)),
            "official_misconduct": g.uniform(0, 0.3), "service_coverage": g.uniform(0, 1),
            "participation": float(g.choice([0.0, 0.05, 0.2])), "arbitrariness": g.uniform(0, .3),
            "enforcement": g.uniform(0.05, 0.6), "legitimacy_initial": g.uniform(0.3, 0.8),
            "self_interest": g.uniform(0, 0.8), "opportunism": g.uniform(0, 0.3),
            "campaign_enforcement": g.uniform(0.3, 0.9), "compensation": g.uniform(0, 1),
            "hardship_mean": g.uniform(0.2, 0.6), "n_villagers": int(g.choice([300, 400])),
            "norm_compatibility": g.uniform(-0.5, 0.5),
            "habit_memory": g.uniform(0.25, 0.75),
            **{name: g.uniform(lo, hi) for name, (lo, hi) in UNCERTAIN.items()}}


#: The behavioural uncertainties, over the robustness study's ranges.
UNCERTAIN = {
    "base_compliance": (0.0, 1.0), "w_legitimacy": (1.0, 3.0), "w_enforcement": (1.0, 3.0),
    "w_norm": (0.75, 2.25), "w_habit": (0.5, 1.5), "w_cost": (1.5, 4.5),
    "w_conflict": (1.0, 3.0), "w_misconduct": (0.5, 1.5), "peer_weight": (0.25, 0.75),
    "deterrence_decay": (0.05, 0.2), "loss_weight": (0.5, 2.0), "social_influence": (0.0, 0.1),
    "answer_gain": (0.025, 0.075), "unfair_loss": (0.025, 0.075),
    "conflict_loss": (0.005, 0.015), "misconduct_loss": (0.005, 0.015),
    "grievance_decay": (0.05, 0.2), "hardship_grievance": (0.05, 0.15),
    "sanction_grievance": (0.1, 0.3), "suppression_grievance": (0.15, 0.45),
    "answer_relief": (0.4, 0.8), "petition_threshold": (0.35, 0.65),
    "collective_threshold": (0.2, 0.4), "protest_threshold": (0.05, 0.2), "arrest_k": (1.5, 3.5),
    "conflict_probability": (0.15, 0.45), "misreporting": (0.25, 0.75)}


def _alone(seed, steps, interventions=None, **params):
    m = RuralGovernanceModel(seed, collect_detail=False, interventions=interventions, **params)
    for _ in range(steps):
        m.step()
    return m


def _assert_identical(seeds, steps, interventions=None, varying=None, **params):
    e = Ensemble(seeds, interventions=interventions, varying=varying, **params)
    for _ in range(steps):
        e.step()
    off = e.runs.offsets["villager"]
    for r, seed in enumerate(seeds):
        own = {**params, **(varying[r] if varying else {})}
        alone = _alone(seed, steps, interventions, **own)
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


def test_runs_with_their_own_parameters():
    """Every parameter the submodels read per run, and some set at the start (the county's
    size among them), differ between the runs: each run is still the run alone."""
    seeds = [31, 32, 33, 34, 35, 36, 37]
    varying = [_varying(s) for s in seeds]
    assert STEP_PER_RUN <= set(varying[0]) and set(varying[0]) <= PER_RUN
    _assert_identical(seeds, 22, varying=varying,
                      interventions=[{"step": 9, "set": {"hardship_shock": 0.03}}], **EVENTS,
                      compact_rate=0.1)


def test_runs_with_their_own_parameters_and_township_heads_choices():
    """A township head's own levers (township interventions) beside runs whose county-wide
    levers differ: the other townships keep their run's values; each run is the run alone."""
    seeds = [41, 42, 43]
    varying = [_varying(s) for s in seeds]
    heads = [{"step": 6, "township": 1, "set": {"responsiveness": 0.95, "discretion": 0.1}},
             {"step": 9, "township": 0, "set": {"suppression": 0.9, "misreporting": 0.0}}]
    _assert_identical(seeds, 16, varying=varying, interventions=heads, mech_answer_speed=True,
                      n_townships=2, villages_per_township=2)


def test_a_parameter_that_differs_is_never_read_as_one():
    e = Ensemble([1, 2], varying=[{"coordination": 0.1}, {"coordination": 0.9}],
                 n_villagers=200)
    with pytest.raises(RuntimeError, match="coordination differs"):
        e.p["coordination"]
    with pytest.raises(RuntimeError, match="coordination differs"):
        e.p.get("coordination")
    assert e.p["responsiveness"] == e.members[0].p["responsiveness"]


def test_runs_whose_values_compare_equal_but_differ_in_bits():
    """0.0 and -0.0 are equal but not the same number to every operation: such runs keep
    their own values (a shared value is used only when the bits agree)."""
    _assert_identical([41, 42, 43], 12, n_villagers=200,
                      varying=[{"w_misconduct": 0.0, "peer_weight": 0.5},
                               {"w_misconduct": -0.0, "peer_weight": 0.5},
                               {"w_misconduct": 0.0, "peer_weight": 0.5}])


@pytest.mark.parametrize("name, values", [("mech_habit", (True, False)),
                                          ("n_departments", (3, 4))])
def test_parameters_that_cannot_differ_are_refused(name, values):
    assert name not in PER_RUN
    with pytest.raises(InputError, match=name):
        Ensemble([1, 2], varying=[{name: v} for v in values], n_villagers=200)


def test_habit_memory_may_differ_but_not_between_its_two_forms():
    _assert_identical([3, 4, 5], 12, n_villagers=300,
                      varying=[{"habit_memory": m} for m in (0.2, 0.5, 0.9)])
    with pytest.raises(InputError, match="habit_memory is positive in some runs"):
        Ensemble([1, 2], varying=[{"habit_memory": 0.0}, {"habit_memory": 0.5}],
                 n_villagers=200)


def test_an_intervention_cannot_set_a_parameter_that_differs():
    with pytest.raises(InputError, match="coordination"):
        Ensemble([1, 2], varying=[{"coordination": 0.1}, {"coordination": 0.9}],
                 interventions=TURN, n_villagers=200)


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


def test_the_submodels_read_per_run_parameters_run_by_run():
    """A static check beside the run-time one: in the submodels and the observer, the
    parameters of STEP_PER_RUN are read from each run's parameters (``q[...]`` through
    ``model.runs``), never as one value of ``p`` (the township and department agents read
    their own run's ``self.model.p``)."""
    import re
    from pathlib import Path

    import ruralgov.model as pkg

    root = Path(pkg.__file__).parent
    files = [*sorted((root / "submodels").glob("*.py")), root / "observe.py"]
    for name in STEP_PER_RUN:
        one = re.compile(r'\bp\[["\']' + name + r'["\']\]')
        bad = [f.name for f in files if one.search(f.read_text("utf-8"))]
        assert not bad, f"{name} read as one value in {bad}"


def test_a_finished_model_is_freed():
    """Mesa 3.3's Agent._ids keeps every model that made an agent: a sweep of many runs in one
    process grew to 22 GB and was killed. The government agents count their ids weakly."""
    import gc
    import weakref

    m = RuralGovernanceModel(1, n_villagers=200)
    m.step()
    ids = [a.unique_id for a in (*m.townships, *m.departments)]
    assert ids == list(range(1, len(ids) + 1))
    e = Ensemble([1, 2], n_villagers=200)
    e.step()
    refs = [weakref.ref(x) for x in (m, e, *e.members)]
    del m, e
    gc.collect()
    assert all(r() is None for r in refs)


def test_per_run_counts_and_integer_totals_match_each_run_alone():
    """The per-run helpers the submodels use for tallies: counts of a subset (sorted or not)
    and exact integer totals, as each run's own slice gives them (runs of unequal size, one
    run without any of the subset)."""
    model = Ensemble([1, 2, 3], varying=[{"n_villagers": n} for n in (300, 400, 300)])
    runs, n = model.runs, model.structure.n
    values = np.random.default_rng(0).integers(-5, 50, n).astype(np.int32)
    idx = np.flatnonzero(np.random.default_rng(1).random(n) < 0.2)
    idx = idx[(idx < 300) | (idx >= 700)]  # the second run owns none of them
    pieces = [idx[(idx >= a) & (idx < b)] for a, b in ((0, 300), (300, 700), (700, 1000))]
    assert runs.count(idx).tolist() == [p.size for p in pieces]
    assert runs.count(idx[::-1].copy()).tolist() == [p.size for p in pieces]  # unsorted
    total, count = runs.integer_totals(values, idx)
    assert count.tolist() == [p.size for p in pieces]
    assert total.tolist() == [float(values[p].sum()) for p in pieces]
    mean = np.divide(total, count, out=np.full(3, np.nan), where=count > 0)
    assert mean[0] == values[pieces[0]].mean() and np.isnan(mean[1])  # NumPy's mean, bit for bit
    with pytest.raises(TypeError, match="integers"):
        runs.integer_totals(values.astype(np.float32), idx)
