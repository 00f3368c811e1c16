"""The model as a whole: determinism, invariants, and each mechanism's direction in isolation.

Direction tests compare means over a fixed set of seeds (conftest.SEEDS) with a margin, so a
single lucky run cannot pass them. Each names the mechanism of docs/hypotheses.md section 5 it
checks.
"""

import numpy as np
import pandas as pd
import pytest

from ruralgov.model import RuralGovernanceModel
from ruralgov.model.agents import Department, Township
from ruralgov.model.params import MECHANISMS
from ruralgov.model.schema import InputError

from .conftest import SMALL, mean_summary, run_model

FRACTIONS = ["compliance", "evasion", "voluntary_share", "compliance_reported",
             "compliance_inspected", "legitimacy_mean", "grievance_mean", "norm_attachment_mean",
             "substitution_index", "implementation_fidelity", "pressure_mean",
             "assisted_share", "inclusion_error", "exclusion_error"]


# ------------------------------------------------------------------ Mesa shape and determinism
def test_is_a_mesa_model_with_government_agents():
    m = run_model(steps=2, campaign=True)
    assert len(m.agents_by_type[Township]) == SMALL["n_townships"]
    assert len(m.agents_by_type[Department]) == m.p["n_departments"]
    assert m.steps == 2
    assert m.n_rules == m.p["n_departments"] * m.p["rules_per_department"] + 1


def test_same_seed_identical_outputs_different_seed_different():
    a = RuralGovernanceModel(seed=11, **SMALL)
    b = RuralGovernanceModel(seed=11, **SMALL)
    c = RuralGovernanceModel(seed=12, **SMALL)
    for _ in range(30):
        a.step(), b.step(), c.step()
    pd.testing.assert_frame_equal(a.series(), b.series())
    for name in ("villages", "townships", "departments", "rules"):
        pd.testing.assert_frame_equal(a.detail(name), b.detail(name))
    assert not a.series()["compliance"].equals(c.series()["compliance"])


def test_seed_none_draws_and_records_a_seed_that_replays():
    a = RuralGovernanceModel(seed=None, **SMALL)
    b = RuralGovernanceModel(seed=a.seed, **SMALL)
    for _ in range(5):
        a.step(), b.step()
    pd.testing.assert_frame_equal(a.series(), b.series())


def test_bad_parameters_raise_input_error_naming_the_field():
    with pytest.raises(InputError, match="coordination"):
        RuralGovernanceModel(seed=1, coordination=1.5)
    with pytest.raises(InputError, match="unknown parameter"):
        RuralGovernanceModel(seed=1, coordinaton=0.5)
    with pytest.raises(ValueError, match="n_villagers = 10"):
        RuralGovernanceModel(seed=1, n_villagers=10, n_townships=4, villages_per_township=5)


def test_invariants_on_a_campaign_run():
    m = run_model(steps=80, campaign=True, campaign_start=20, campaign_duration=30)
    s = m.series()
    for col in FRACTIONS:
        v = s[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col
    assert not s[["compliance", "legitimacy_mean", "grievance_mean"]].isna().any().any()
    assert s["campaign_active"].sum() == 30
    assert s.loc[s.campaign_active, "compliance_campaign"].notna().all()
    assert s.loc[~s.campaign_active, "compliance_campaign"].isna().all()
    assert m.structure.village_size.sum() == m.n_villagers == SMALL["n_villagers"]
    for arr in (m.villagers.legitimacy, m.villagers.grievance, m.villagers.attachment):
        assert arr.dtype == np.float32 and (arr >= 0).all() and (arr <= 1).all()


# ------------------------------------------------------------------ switches remove their effect
def test_every_mechanism_has_a_switch():
    assert set(MECHANISMS) == {
        "mech_fragmentation", "mech_transmission", "mech_discretion", "mech_enforcement",
        "mech_graduated", "mech_informal", "mech_habit", "mech_legitimacy", "mech_contention",
        "mech_services", "mech_participation", "mech_pairwise_conflict", "mech_interception",
        "mech_state_response", "mech_trust_levels", "mech_cadres", "mech_answer_speed"}


def test_legitimacy_off_keeps_it_fixed():
    m = run_model(steps=30, mech_legitimacy=False)
    assert m.series()["legitimacy_mean"].nunique() == 1


def test_contention_off_no_petitions_no_protest():
    s = run_model(steps=30, mech_contention=False, legitimacy_initial=0.1,
                  hardship_mean=0.8).series()
    assert (s[["petitions_new", "protesters", "petitions_escalated"]] == 0).all().all()


def test_participation_off_is_a_county_without_participation():
    on = run_model(steps=30, participation=0.3).series()
    off = run_model(steps=30, participation=0.3, mech_participation=False).series()
    none = run_model(steps=30, participation=0.0).series()
    assert (on["participants"] > 0).all() and (off["participants"] == 0).all()
    assert off.equals(none)
    assert not off.equals(on)


def test_enforcement_off_no_encounters_and_all_compliance_voluntary():
    s = run_model(steps=30, mech_enforcement=False).series()
    assert (s[["persuasions", "warnings", "sanctions", "unfair_hits"]] == 0).all().all()
    assert (s["voluntary_share"] == 1.0).all()


def test_fragmentation_off_no_conflicts():
    s = run_model(steps=10, mech_fragmentation=False, n_departments=8,
                  coordination=0.0).series()
    assert (s["conflicting_pairs"] == 0).all() and (s["conflict_exposure"] == 0).all()
    assert (s["fragmentation_index"] == 0).all()


def test_transmission_fidelity_is_lambda_power_levels_times_deviation():
    m = run_model(steps=1, transmission_fidelity=0.8, transmission_levels=3,
                  discretion=0.5, self_interest=0.4)
    assert m.series()["implementation_fidelity"].iloc[0] == pytest.approx(
        0.8 ** 3 * (1 - 0.5 * 0.4), rel=1e-6)
    off = run_model(steps=1, mech_transmission=False, mech_discretion=False)
    assert off.series()["implementation_fidelity"].iloc[0] == pytest.approx(1.0)


def test_informal_off_no_substitution():
    s = run_model(steps=20, mech_informal=False).series()
    assert (s["disputes_resolved_informally"] == 0).all()


def test_graduated_off_no_persuasion_or_warning():
    s = run_model(steps=20, mech_graduated=False).series()
    assert (s[["persuasions", "warnings"]] == 0).all().all() and s["sanctions"].sum() > 0


def test_services_off_no_assistance_no_relief():
    m = run_model(steps=5, mech_services=False, service_coverage=1.0)
    assert not m.villagers.assisted.any()
    np.testing.assert_array_equal(m.villagers.effective_hardship, m.villagers.hardship)
    on = run_model(steps=5, service_coverage=1.0)
    v = on.villagers
    assert v.assisted.any() and (v.effective_hardship < v.hardship).all()


# ------------------------------------------------------------------ mechanism directions
MARGIN = 0.02


def test_5_1_enforcement_raises_compliance_and_the_enforced_share():
    hi = dict(enforcement=0.6)
    lo = dict(enforcement=0.05)
    assert mean_summary("compliance_final", **hi) > mean_summary("compliance_final", **lo) + MARGIN
    assert (1 - mean_summary("voluntary_share_final", **hi)) > \
        (1 - mean_summary("voluntary_share_final", **lo)) + MARGIN


def test_5_1_legitimacy_raises_voluntary_compliance():
    assert mean_summary("voluntary_share_final", legitimacy_initial=0.8) > \
        mean_summary("voluntary_share_final", legitimacy_initial=0.2) + MARGIN


def test_5_2_and_5_3_conflicting_directives_lower_legitimacy_and_compliance():
    frag = dict(n_departments=8, coordination=0.0)
    integ = dict(n_departments=8, coordination=1.0)
    assert mean_summary("legitimacy_mean_final", **frag) < \
        mean_summary("legitimacy_mean_final", **integ) - MARGIN
    assert mean_summary("compliance_final", **frag) < \
        mean_summary("compliance_final", **integ) - MARGIN


def test_5_5_discretion_helps_aligned_townships_and_hurts_self_interested_ones():
    aligned_flex = mean_summary("compliance_final", self_interest=0.0, discretion=0.9)
    aligned_rigid = mean_summary("compliance_final", self_interest=0.0, discretion=0.0)
    assert aligned_flex > aligned_rigid + MARGIN
    selfish_flex = mean_summary("legitimacy_mean_final", self_interest=0.9, discretion=0.9)
    selfish_rigid = mean_summary("legitimacy_mean_final", self_interest=0.9, discretion=0.0)
    assert selfish_flex < selfish_rigid - MARGIN


def test_5_6_opposing_elders_lower_compliance_and_raise_substitution():
    opposed = dict(norm_compatibility=-0.8)
    support = dict(norm_compatibility=0.8)
    assert mean_summary("compliance_final", **opposed) < \
        mean_summary("compliance_final", **support) - MARGIN
    assert mean_summary("substitution_index_final", **opposed) > \
        mean_summary("substitution_index_final", **support) + MARGIN


def test_5_7_graduated_enforcement_sanctions_less_and_keeps_legitimacy():
    grad = mean_summary("sanctions_total", mech_graduated=True)
    direct = mean_summary("sanctions_total", mech_graduated=False)
    assert grad < 0.8 * direct
    assert mean_summary("legitimacy_mean_final", mech_graduated=True) > \
        mean_summary("legitimacy_mean_final", mech_graduated=False)


def test_5_8_answering_petitions_lowers_escalation():
    # where every aggrieved villager files (the first forms of matters and of the cost of
    # filing): the calibrated county's few petitions make a small county's counts noise
    base = dict(hardship_mean=0.6, matter_window=0, petition_propensity=1.0)
    assert mean_summary("petitions_escalated_total", responsiveness=0.95, **base) < \
        0.8 * mean_summary("petitions_escalated_total", responsiveness=0.05, **base)


def test_5_8_suppression_quiets_now_and_aggrieves_later():
    # detention alone (the state's answer to protest events is tested apart), in a county
    # where the willing protest whenever they are willing (protest_trigger's first form), so
    # that there are protests to suppress
    base = dict(hardship_mean=0.6, legitimacy_initial=0.3, suppression_force=0.0,
                mech_state_response=False, protest_trigger=0.0)
    strong = dict(base, suppression_force=5.0)
    assert mean_summary("protesters_final", **strong) < mean_summary("protesters_final", **base)
    assert mean_summary("grievance_mean_final", **strong) > \
        mean_summary("grievance_mean_final", **base)


def test_5_9_services_reduce_grievance_and_participation_builds_legitimacy():
    assert mean_summary("grievance_mean_final", service_coverage=1.0) < \
        mean_summary("grievance_mean_final", service_coverage=0.0) - MARGIN
    assert mean_summary("legitimacy_mean_final", participation=0.6) > \
        mean_summary("legitimacy_mean_final", participation=0.0) + MARGIN


def test_5_9_self_interest_worsens_targeting_of_assistance():
    m_good = run_model(steps=1, self_interest=0.0)
    m_bad = run_model(steps=1, self_interest=0.9)
    assert m_bad.series()["exclusion_error"].iloc[0] > m_good.series()["exclusion_error"].iloc[0]


def test_5_10_habit_slows_the_response_to_a_reform():
    # Start from widespread evasion; without habit, behaviour jumps to the new equilibrium.
    with_habit = mean_summary("compliance_final", steps=3, opportunism=0.9, mech_habit=True)
    without = mean_summary("compliance_final", steps=3, opportunism=0.9, mech_habit=False)
    assert with_habit < without - MARGIN


def test_official_misconduct_lowers_compliance():
    assert mean_summary("compliance_final", official_misconduct=1.0) < \
        mean_summary("compliance_final", official_misconduct=0.0) - MARGIN


def test_withdrawal_stops_routine_enforcement_from_the_next_step_and_keeps_the_campaign():
    m = run_model(steps=5, withdrawal_step=5, campaign=True, campaign_start=0,
                  campaign_duration=50)
    assert m.scratch.detect[:, :-1].any() and not m.series().enforcement_withdrawn.any()
    m.step()  # step 6: withdrawn
    assert not m.scratch.detect[:, :-1].any()  # routine rules: no detection
    assert (m.scratch.detect[:, -1] > 0).all()  # the campaign rule keeps its enforcement
    assert m.series().enforcement_withdrawn.tolist() == [False] * 5 + [True]


def test_withdrawal_lowers_compliance_that_enforcement_held_up():
    drop = mean_summary("compliance_drop_withdrawal", steps=80, withdrawal_step=40,
                        enforcement=0.6)
    assert drop > MARGIN


def test_a_scandal_changes_nothing_before_it_and_lowers_legitimacy_during_it():
    calm = run_model(steps=40, seed=3).series()
    shock = run_model(steps=40, seed=3, scandal=True, scandal_start=20, scandal_duration=10,
                      scandal_misconduct=0.8).series()
    pd.testing.assert_frame_equal(calm.iloc[:20].drop(columns="scandal_active"),
                                  shock.iloc[:20].drop(columns="scandal_active"))
    assert shock.scandal_active.tolist() == [False] * 20 + [True] * 10 + [False] * 10
    assert shock.legitimacy_mean.iloc[29] < calm.legitimacy_mean.iloc[29] - 0.02
    assert shock.compliance.iloc[25] < calm.compliance.iloc[25] - MARGIN


def test_self_interested_townships_overreport():
    assert mean_summary("reporting_gap_final", self_interest=0.9) > \
        mean_summary("reporting_gap_final", self_interest=0.0) + MARGIN


def test_detail_tables_are_tidy():
    m = RuralGovernanceModel(seed=3, **SMALL)
    for _ in range(4):
        m.step()
    v = m.detail("villages")
    assert len(v) == 4 * m.n_villages and not v.duplicated(["step", "village"]).any()
    t = m.detail("townships")
    assert len(t) == 4 * m.n_townships
    assert len(m.detail("rules")) == 4 * m.n_rules
    with pytest.raises(KeyError):
        m.detail("nope")


def test_random_sequential_sets_see_the_choices_made_before_them():
    from ruralgov.model.submodels.compliance import signal_from

    m = RuralGovernanceModel(seed=4, random_sequential=True, collect_detail=False, **SMALL)
    m.step()
    prev = m.rules.comply.copy() & m.rules.live
    # the next step: the first set reads last step's behaviour, the last set reads this step's
    m.step()
    s, colours, ties = m.scratch, m.structure.colours, m.structure.ties
    first, first_block = colours[s.colour_order[0]]
    last, last_block = colours[s.colour_order[-1]]

    def signal(kept, cols, block):
        return signal_from(m, s, ties.weighted_count(kept, block), cols)

    np.testing.assert_allclose(s.signal[:, first], signal(prev, first, first_block), atol=1e-6)
    np.testing.assert_allclose(s.signal[:, last], signal(s.kept, last, last_block), atol=1e-6)
    # and the two differ from what synchronous updating would have read
    assert not np.allclose(signal(prev, last, last_block), s.signal[:, last])


def test_random_sequential_is_reproducible_and_differs_from_synchronous():
    a = run_model(30, 2, random_sequential=True).series()
    b = run_model(30, 2, random_sequential=True).series()
    c = run_model(30, 2).series()
    pd.testing.assert_frame_equal(a, b)
    assert not a.compliance.equals(c.compliance)


def test_event_summaries_on_a_hand_made_series():
    from ruralgov.model.measures import SUMMARY_MEASURES, summarise

    n = 60
    legit = np.full(n, 0.5)
    legit[20:25] = [0.46, 0.42, 0.38, 0.34, 0.30]  # scandal steps 21-25: falls 0.2
    legit[25:] = 0.30 + 0.005 * np.arange(1, n - 25 + 1)  # regains 0.005 a step
    s = pd.DataFrame({"step": np.arange(1, n + 1), "legitimacy_mean": legit,
                      "compliance": 0.7, "petitions_collective": 0, "protest_events": 0,
                      "scandal_active": [20 <= i < 25 for i in range(n)],
                      "enforcement_withdrawn": [i >= 40 for i in range(n)]})
    s.loc[40:, "compliance"] = 0.5  # the last quarter (steps 46-60) all after it
    out = summarise(s)
    assert out["legitimacy_mean_scandal_drop"] == pytest.approx(0.2)
    assert out["legitimacy_mean_fall_half_steps"] == 3  # 0.38 <= 0.40 at the third step
    # the recovery clock starts when the scandal ends (step 26: 0.305), not at the lowest
    # point inside it: 0.30 + 20 * 0.005 = 0.40 at step 45
    assert out["legitimacy_mean_recover_half_steps"] == 19
    assert out["legitimacy_mean_hysteresis_steps"] == 16
    assert out["legitimacy_mean_recovered"] == 1.0
    # the final quarter (steps 46-60) averages 0.44: 0.06 of the 0.2 drop still missing
    assert out["legitimacy_mean_scandal_persist"] == pytest.approx(0.3)
    # stationarity of the final window: its second half (steps 54-60) minus its first (46-52)
    assert out["legitimacy_mean_final_drift"] == pytest.approx(0.04)
    assert out["compliance_final_drift"] == 0.0
    assert out["compliance_before_withdrawal"] == pytest.approx(0.7)
    assert out["compliance_drop_withdrawal"] == pytest.approx(0.2)
    # never regained within the run: censored at the steps left, flagged
    cut = summarise(s.iloc[:35])
    assert cut["legitimacy_mean_recovered"] == 0.0
    assert cut["legitimacy_mean_recover_half_steps"] == 10  # steps 26..35: a lower bound
    assert set(out) - {"steps"} <= SUMMARY_MEASURES


def test_parameters_changed_between_steps_take_effect_next_step():
    """ODD 5.3: parameters are read every step, so changing one between steps (the dashboard's
    interventions) acts from the next step, cached quantities included."""
    m = run_model(steps=3, n_departments=8, coordination=0.0)
    assert m.series().conflicting_pairs.iloc[-1] > 0
    m.p["coordination"] = 1.0
    m.step()
    assert m.series().conflicting_pairs.iloc[-1] == 0
    m.p["mech_services"] = False
    m.step()
    assert m.series().assisted_share.iloc[-1] == 0
    m.p["mech_services"] = True
    m.p["service_coverage"] = 1.0
    m.step()
    v = m.villagers
    assert m.series().assisted_share.iloc[-1] == v.assisted.mean()
    assert (v.effective_hardship < v.hardship).all()  # full coverage relieves everyone


def test_5_8_escalated_petitions_reach_the_county_and_are_answered_or_given_up():
    """An escalated petition is handled by the county from the next step on: answered, still
    waiting (less than petition_patience steps at the county) or given up — never stuck."""
    busy = dict(hardship_mean=0.7, legitimacy_initial=0.45, responsiveness=0.05,
                matter_window=0, petition_propensity=1.0)  # every aggrieved villager files
    m = run_model(steps=80, county_capacity=0.05, **busy)
    s, p, v = m.series(), m.p, m.villagers
    assert s.petitions_escalated.sum() > 0
    assert s.county_answered.sum() > 0 and s.petitions_abandoned.sum() > 0
    at_county = (v.pet_level == 1) & (v.pet_age >= 0)
    assert (v.pet_age[at_county] < p["escalation_wait"] + p["petition_patience"]).all()
    ample = run_model(steps=40, county_capacity=50.0, **busy).series()
    # with room for everyone, every escalation is answered the step after it happens
    assert ample.petitions_escalated.sum() > 0
    assert ample.county_answered.iloc[1:].sum() == ample.petitions_escalated.iloc[:-1].sum()


def test_summaries_skip_gaps_as_pandas_does():
    """A gap (NaN) in a series is skipped by the means, peaks and totals (pandas' rule) but
    makes the window's drift NaN; a column of text is read as numbers where it can be."""
    from ruralgov.model.measures import summarise

    n = 40
    s = pd.DataFrame({"step": np.arange(1, n + 1), "compliance": np.linspace(0.5, 0.9, n),
                      "protesters": np.arange(n, dtype=float), "petitions_collective": 0,
                      "protest_events": 0, "sanctions": np.ones(n)})
    s.loc[[33, 36], "compliance"] = np.nan
    s.loc[39, "protesters"] = np.nan
    s.loc[5, "sanctions"] = np.nan
    s["evasion"] = ["x"] + [str(v) for v in np.linspace(0.1, 0.5, n - 1)]
    out = summarise(s)
    tail = s.compliance.iloc[30:]
    assert out["compliance_final"] == pytest.approx(float(tail.mean()))
    assert out["compliance_final"] == pytest.approx(np.nanmean(tail.to_numpy()))
    assert np.isnan(out["compliance_final_drift"])
    assert out["protesters_peak"] == 38.0
    assert out["sanctions_total"] == n - 1
    assert out["evasion_early"] == pytest.approx(np.linspace(0.1, 0.5, n - 1)[:9].mean())
    assert np.isnan(out["first_collective_step"])


def test_campaign_event_study_on_a_hand_made_series():
    """Event time around a campaign in force at steps 31-50 of 70: the level in the 10 steps
    before it, the rise while in force, the level after it, the spike and the placebo."""
    from ruralgov.model.measures import SUMMARY_MEASURES, summarise

    n = 70
    protest = np.r_[np.full(10, 1.0), np.full(10, 2.0), np.full(10, 4.0),  # drifting before
                    np.full(20, 10.0), np.full(20, 6.0)]
    s = pd.DataFrame({"step": np.arange(1, n + 1), "protesters": protest,
                      "petitions_collective": 0, "protest_events": 0,
                      "campaign_active": [30 <= i < 50 for i in range(n)]})
    out = summarise(s)
    assert out["protesters_campaign_pretrend"] == 2.0  # 4 just before, 2 the ten before that
    assert out["protesters_campaign_rise"] == 6.0
    assert out["protesters_campaign_after"] == 2.0
    assert out["protesters_campaign_excess"] == 4.0
    assert "petitions_new_campaign_rise" not in out  # only measures the series has
    assert set(out) - {"steps"} <= SUMMARY_MEASURES
    # a run that ends with the campaign has no "after"; one that starts early, no placebo
    early = summarise(s.iloc[:50].assign(campaign_active=[5 <= i < 50 for i in range(50)]))
    assert np.isnan(early["protesters_campaign_after"])
    assert np.isnan(early["protesters_campaign_excess"])
    assert np.isnan(early["protesters_campaign_pretrend"])
    assert "protesters_campaign_rise" not in summarise(s.drop(columns="campaign_active"))


def test_5_8_answer_speed_escalates_untaken_petitions_at_the_rate_of_the_rule():
    """mech_answer_speed: a township with capacity to spare takes up each pending petition
    with chance r a month, so (1 - r)^escalation_wait of new petitions reach the county by
    waiting; in the first form none do (every petition is answered at once)."""
    busy = dict(hardship_mean=0.7, legitimacy_initial=0.45, matter_window=0,
                petition_propensity=1.0, answer_acceptance=1.0, mech_trust_levels=False,
                suppression=0.0, township_capacity=100.0, escalation_wait=3,
                petition_persistence=0.0)  # no return visits: escalations are first visits

    def share_escalated(**kw):
        s = run_model(steps=60, **busy, **kw).series()
        return s.petitions_escalated.sum() / s.petitions_new.sum(), s.petitions_new.sum()

    off, n_off = share_escalated(responsiveness=0.5, mech_answer_speed=False)
    assert n_off > 200 and off == 0.0
    for r in (0.3, 0.5):
        share, n = share_escalated(responsiveness=r, mech_answer_speed=True)
        expected = (1.0 - r) ** 3
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / n) + 0.02, (r, share)
