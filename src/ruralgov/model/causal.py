"""Which way each effect can go: the model's signed causal graph (docs/causal.md).

Every *edge* says that inside one submodel (one function of the schedule, or the
initialisation) raising a ``source`` moves a ``target`` in the direction ``sign``, directly:
with everything else the submodel reads, its random draws included, held fixed. Nodes are
named by where they live:

* ``param:<name>`` a parameter (``model.p``);
* ``villager:<attr>``, ``rules:<attr>`` a state array of the villagers or the rules;
* ``township:<attr>`` an attribute of the townships;
* ``scratch:<field>`` a quantity a submodel leaves for the later ones in the step;
* ``tally:<name>`` a count of the step's events;
* ``measure:<name>`` a measure of the series, computed by *collect*.

An edge whose sign depends on the state (an answer that relieves a petitioner or, refused,
sends them to the county at once) is declared with sign 0: it exists, either way.

A stock written at one step and read at the next (legitimacy, grievance, trust, deterrence…)
is one node, so paths run across steps. The edges are declared here, each with the rule it
comes from, and each sign is checked numerically in the model's own code
(:func:`edge_response`, ``tests/test_causal.py``): the submodel is run twice from the same
state and draws (common random numbers), once with the source raised, and the target must
move the declared way.

From a lever to an outcome every simple path (no node twice) is a causal path; its sign is
the product of its edges' signs. A test whose paths all carry one sign is a *check*: its
direction is fixed by the model's construction (its size may still be worth reporting). A
test with paths of both signs is a *finding*: its direction depends on which paths win.
Feedback loops are not paths (no node twice); a loop can change the size of an effect and,
in principle, the sign of a long-run response — the class is the rules' verdict on the
direction, not a theorem about equilibria.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["EDGES", "Edge", "causal_graph", "causal_paths", "classify", "edge_response",
           "classify_in", "describe", "edges_markdown", "outcome_node", "shortest_signed"]


@dataclass(frozen=True)
class Edge:
    """A direct, signed influence inside one submodel."""

    source: str
    target: str
    #: +1 raises, -1 lowers, 0 either way (the sign depends on the state: a path through it
    #: is of undetermined sign)
    sign: int
    submodel: str
    #: parameter values under which the edge exists (a switch on or off), {} if always
    when: Mapping[str, Any] = field(default_factory=dict)
    #: the rule it comes from (ODD section, the equation)
    rule: str = ""
    #: parameters of the county where its numerical check runs, beyond the probe county's
    probe: Mapping[str, Any] = field(default_factory=dict)

    def live(self, params: Mapping[str, Any]) -> bool:
        return all(_holds(params.get(k), v) for k, v in self.when.items())


def _holds(value: Any, condition: Any) -> bool:
    """Whether a parameter's value meets an edge's condition (a value, or ">x" / "<x")."""
    if isinstance(condition, str) and condition[:1] in "<>":
        x = float(condition[1:])
        return value is not None and (value > x if condition[0] == ">" else value < x)
    return value == condition


def _e(source: str, target: str, sign: int, submodel: str, rule: str,
       probe: Mapping[str, Any] | None = None, **when: Any) -> Edge:
    return Edge(source, target, sign, submodel, dict(when), rule, dict(probe or {}))


#: The model's direct causal edges, by submodel in the order of the schedule (docs/causal.md
#: lists them with their rules). ``when``: the settings under which an edge exists, a value or
#: a comparison (">0", "<1").
EDGES: tuple[Edge, ...] = (
    # --- initialise
    _e('param:legitimacy_initial', 'villager:legitimacy', +1, 'initialise',
       'L_i ~ Beta(mean legitimacy_initial, conc. 10); lever acts only through the initial stock '
       '(AT_START,)'),
    _e('param:legitimacy_initial', 'villager:grievance', -1, 'initialise',
       'G0 = clip(h (1 - L) hardship_grievance / grievance_decay)'),
    _e('param:legitimacy_initial', 'villager:trust_local', +1, 'initialise',
       'without trust levels trust_local = trust_upper = copy of L; they are then never updated '
       'and petitions read legitimacy instead', mech_trust_levels=False),
    _e('param:legitimacy_initial', 'villager:trust_upper', +1, 'initialise',
       '(see trust_local)', mech_trust_levels=False),
    _e('param:diffuse_support_level', 'villager:support', +1, 'initialise',
       'support_i ~ clip(Normal(diffuse_support_level, diffuse_support_sd), 0, 1), drawn once',
       mech_trust_levels=True),
    _e('param:hardship_mean', 'villager:hardship', +1, 'initialise',
       'h ~ Beta(hardship_mean, 4)'),
    _e('param:hardship_mean', 'villager:hardship_base', +1, 'initialise',
       'hardship_base = h copy; hardship recovers toward it'),
    _e('param:hardship_mean', 'villager:effective_hardship', +1, 'initialise',
       'effective_hardship = h copy; recomputed by services'),
    _e('param:hardship_mean', 'villager:grievance', +1, 'initialise',
       'G0 = h (1 - L) hardship_grievance / decay'),
    _e('param:norm_attachment_initial', 'villager:attachment', +1, 'initialise',
       'a ~ Beta(norm_attachment_initial, 10) [not a lever; context]'),
    _e('param:opportunism', 'rules:comply', -1, 'initialise',
       'opportunists start evading every rule: comply = ~opportunist; feeds scratch:kept_prev '
       '(schedule) and habit at step 1'),
    _e('param:n_departments', 'rules:department', +1, 'initialise',
       'STRUCTURAL: K_routine = n_departments * rules_per_department rules, issued by '
       'n_departments distinct departments; more issuers -> more cross-department rule pairs '
       'eligible to conflict'),
    _e('param:n_departments', 'rules:n_live', +1, 'initialise',
       'STRUCTURAL: more routine rules, all applying to everyone at department_reach=1',
       rules_total=0),
    _e('param:rules_total', 'rules:n_live', +1, 'initialise',
       'STRUCTURAL: a fixed set of rules_total routine rules dealt among the departments (more '
       'departments then add issuers, not rules)', rules_total='>0'),
    _e('param:enforcement', 'rules:enforcement', +1, 'initialise',
       "routine rules' enforcement = enforcement. NB the step never reads the parameter itself: "
       'schedule copies rules.enforcement to scratch.enforcement_now, township_plan multiplies '
       'it into detect'),
    _e('param:campaign_enforcement', 'rules:enforcement', +1, 'initialise',
       "campaign rule's enforcement; the rule is live only in the campaign window", campaign=True),
    _e('param:compensation', 'rules:cost', -1, 'initialise',
       'campaign rule cost = campaign_cost (1 - compensation), capped at 1', campaign=True),
    _e('param:rule_cost', 'rules:cost', +1, 'initialise',
       'routine cost = rule_cost (0.5 + U) [not a lever; context]'),
    _e('param:norm_compatibility', 'rules:stance', +1, 'initialise',
       'stance = clip(N(norm_compatibility, sd), -1, 1) for routine rules; zero slope for '
       'lineages clipped at +-1'),
    _e('param:village_compact', 'rules:stance', +1, 'initialise',
       'stance += village_compact (1 - stance)'),
    _e('param:self_interest', 'township:self_interest', +1, 'initialise',
       "each township's self_interest = self_interest (or N(self_interest, sd) clipped)"),
    # --- schedule
    _e('rules:enforcement', 'scratch:enforcement_now', +1, 'schedule',
       'enforcement_now = rules.enforcement, 0 for routine rules once withdrawn (0 < '
       'withdrawal_step < step)'),
    _e('param:official_misconduct', 'scratch:misconduct', +1, 'schedule',
       'misconduct = official_misconduct outside a scandal window; scandal=False by default so '
       'always'),
    _e('param:scandal_misconduct', 'scratch:misconduct', +1, 'schedule',
       'misconduct = scandal_misconduct during scandal_start < step <= scandal_start + '
       'scandal_duration', scandal=True),
    _e('rules:comply', 'scratch:kept_prev', +1, 'schedule',
       "kept_prev = comply & live: last step's behaviour on this step's live rules"),
    # --- township_plan
    _e('param:discretion', 'scratch:deviation', +1, 'township_plan',
       'deviation = discretion * s, copied; zero if s = 0', mech_discretion=True),
    _e('township:self_interest', 'scratch:deviation', +1, 'township_plan',
       'deviation = discretion * s', mech_discretion=True),
    _e('param:discretion', 'scratch:fit', +1, 'township_plan',
       'fit = discretion (1 - s) discretion_fit', mech_discretion=True),
    _e('township:self_interest', 'scratch:fit', -1, 'township_plan',
       'fit = discretion (1 - s) discretion_fit', mech_discretion=True),
    _e('scratch:deviation', 'scratch:fidelity', -1, 'township_plan',
       "fidelity = lambda^levels (1 - deviation); computed from the township's deviation, the "
       'same value township_plan copies to scratch'),
    _e('param:transmission_fidelity', 'scratch:fidelity', +1, 'township_plan',
       'fidelity = transmission_fidelity ** levels (1 - dev); levels = 0 if mech_transmission '
       'off (zero effect then)', mech_transmission=True),
    _e('param:transmission_levels', 'scratch:fidelity', -1, 'township_plan',
       'SIGN DEPENDS: transmission_fidelity < 1 (default 0.9); none if it is 1',
       mech_transmission=True),
    _e('township:self_interest', 'scratch:effort', -1, 'township_plan',
       'effort = ((1 - s) + s pressure)(1.5 - w): d/ds = (pressure - 1)(1.5 - w) <= 0, zero at '
       'pressure = 1'),
    _e('township:pressure', 'scratch:effort', +1, 'township_plan',
       'effort = ((1 - s) + s pressure)(1.5 - w); zero if s = 0. pressure is set by '
       'township_report the step before'),
    _e('param:evaluation_stability', 'scratch:effort', -1, 'township_plan',
       'effort x (1.5 - w) [not a required lever]'),
    _e('param:township_capacity', 'scratch:petition_capacity', +1, 'township_plan',
       'capacity = township_capacity N_t/100; welfare = (1-s) capacity ... (105); '
       'petition_capacity = welfare r (0.5+w) (110-115;)'),
    _e('param:township_capacity', 'scratch:dispute_capacity', +1, 'township_plan',
       'dispute_capacity = welfare 0.5 (or welfare (1 - r) with responsiveness_budget)'),
    _e('township:self_interest', 'scratch:petition_capacity', -1, 'township_plan',
       'welfare = (1 - s) capacity (1 - f/2)'),
    _e('township:self_interest', 'scratch:dispute_capacity', -1, 'township_plan',
       'welfare = (1 - s) capacity (1 - f/2)'),
    _e('param:n_departments', 'scratch:petition_capacity', -1, 'township_plan',
       'welfare *= 1 - misrouting F (1 - one_window), F = (D-1)/D (1 - coordination) read from '
       "n_departments every step; D = min(n_departments, bureaus) if bureaus > 0; zero if "
       'coordination = 1 or one_window = 1', mech_fragmentation=True, misrouting='>0'),
    _e('param:n_departments', 'scratch:dispute_capacity', -1, 'township_plan',
       'as for petition_capacity', mech_fragmentation=True, misrouting='>0'),
    _e('param:coordination', 'scratch:petition_capacity', +1, 'township_plan',
       'F = (D-1)/D (1 - coordination) lowers misrouting waste; zero if n_departments = 1',
       mech_fragmentation=True, misrouting='>0'),
    _e('param:coordination', 'scratch:dispute_capacity', +1, 'township_plan',
       'as for petition_capacity', mech_fragmentation=True, misrouting='>0'),
    _e('param:one_window', 'scratch:petition_capacity', +1, 'township_plan',
       'welfare *= 1 - misrouting F (1 - one_window); zero when F = 0',
       mech_fragmentation=True, misrouting='>0'),
    _e('param:one_window', 'scratch:dispute_capacity', +1, 'township_plan',
       '', mech_fragmentation=True, misrouting='>0'),
    _e('param:responsiveness', 'scratch:petition_capacity', +1, 'township_plan',
       'petition_capacity = welfare r (0.5 + w) in both forms'),
    _e('param:responsiveness', 'scratch:dispute_capacity', -1, 'township_plan',
       'first form only: dispute_capacity = welfare (1 - r); default form keeps welfare 0.5, no '
       'edge', responsiveness_budget=True),
    _e('param:fiscal_dependence', 'scratch:petition_capacity', -1, 'township_plan',
       'welfare x (1 - fiscal_dependence/2) [not a required lever]'),
    _e('param:fiscal_dependence', 'scratch:dispute_capacity', -1, 'township_plan',
       ''),
    _e('param:evaluation_stability', 'scratch:petition_capacity', +1, 'township_plan',
       'petition_capacity *= 0.5 + w'),
    _e('param:suppression', 'scratch:suppress', +1, 'township_plan',
       'mech_interception (default): suppress = min(suppression (rho + (1-rho) pressure)(0.5+w), '
       '1); first form: suppression pressure (0.5+w) (121-122) -- SIGN DEPENDS in the first '
       'form: zero while pressure = 0; zero once capped at 1'),
    _e('township:pressure', 'scratch:suppress', +1, 'township_plan',
       'weight (1 - suppression_routine) with mech_interception, 1 in the first form; zero if '
       'suppression = 0 or suppress capped at 1'),
    _e('param:suppression_routine', 'scratch:suppress', +1, 'township_plan',
       'SIGN DEPENDS: rho + (1-rho) pressure rises with rho iff pressure < 1',
       mech_interception=True),
    _e('param:evaluation_stability', 'scratch:suppress', +1, 'township_plan',
       'suppress x (0.5 + w)'),
    _e('param:elections', 'scratch:cadre_orientation', +1, 'township_plan',
       'o_v = clip(elections + lineage_accountability (g_v - 1), 0, 1)(1 - cadre_self_interest); '
       'zero where clipped', mech_cadres=True),
    _e('param:cadre_self_interest', 'scratch:cadre_orientation', -1, 'township_plan',
       '', mech_cadres=True),
    _e('scratch:enforcement_now', 'scratch:detect', +1, 'township_plan',
       'detect[t,k] = min(e_k fidelity_t effort_t, 1); the route of param:enforcement / '
       'param:campaign_enforcement (via rules:enforcement, schedule)', mech_enforcement=True),
    _e('scratch:fidelity', 'scratch:detect', +1, 'township_plan',
       '(township fidelity from Township.plan,)', mech_enforcement=True),
    _e('scratch:effort', 'scratch:detect', +1, 'township_plan',
       '(effort from)', mech_enforcement=True),
    _e('param:campaign_draw', 'scratch:detect', -1, 'township_plan',
       "routine rules' detect x (1 - campaign_draw) while the campaign rule is active",
       mech_enforcement=True, campaign=True),
    # --- services
    _e('villager:hardship_base', 'villager:hardship', +1, 'services',
       'h += hardship_recovery (h_base - h)', hardship_shock='>0'),
    _e('param:hardship_shock', 'villager:hardship', +1, 'services',
       'a share hardship_shock is hit by +shock_size [not a lever]'),
    _e('villager:hardship', 'villager:effective_hardship', +1, 'services',
       'h~ = h (1 - coverage service_relief)(1 - assistance_relief if assisted); = h if '
       'mech_services off (46). Recomputed each step while hardship_shock > 0 (cache cleared, '
       '43); else at reviews/parameter changes only (64)'),
    _e('param:service_coverage', 'villager:effective_hardship', -1, 'services',
       'relief = 1 - service_coverage service_relief; key change forces recompute (61-65); zero '
       'if service_relief = 0', mech_services=True),
    _e('param:service_relief', 'villager:effective_hardship', -1, 'services',
       '[not a lever]', mech_services=True),
    _e('param:assistance_relief', 'villager:effective_hardship', -1, 'services',
       'assisted only [not a lever]', mech_services=True),
    _e('villager:assisted', 'villager:effective_hardship', -1, 'services',
       'x (1 - assistance_relief) if assisted',
       mech_services=True, probe={'assistance_review': 1000}),
    _e('villager:hardship', 'villager:assisted', +1, 'services',
       'at review steps (step 1, then every assistance_review): eligible (h > poverty_line) kept '
       'with prob a, others with leak << a; a step function of h', mech_services=True),
    _e('township:self_interest', 'villager:assisted', 0, 'services',
       'SIGN DEPENDS (MIXED): a = targeting_accuracy (1 - s): fewer eligible assisted (-), more '
       'ineligible via leak = (1-a) e/(1-e) (+); roll size about unchanged. Sign given is for '
       'the eligible, whose exclusion costs legitimacy', mech_services=True),
    _e('param:service_coverage', 'scratch:gains', +1, 'services',
       'gains += service_gain service_coverage for everyone', mech_services=True),
    _e('villager:assisted', 'scratch:gains', +1, 'services',
       'gains += service_gain if assisted', mech_services=True, probe={'assistance_review': 1000}),
    _e('param:service_coverage', 'scratch:gains_upper', +1, 'services',
       'gains_upper += policy_credit (coverage + assisted): trust above',
       mech_services=True, policy_credit='>0'),
    _e('villager:assisted', 'scratch:gains_upper', +1, 'services',
       '', mech_services=True, policy_credit='>0', probe={'assistance_review': 1000}),
    _e('param:policy_credit', 'scratch:gains_upper', +1, 'services',
       '[not a lever]', mech_services=True),
    _e('villager:assisted', 'scratch:losses', -1, 'services',
       'losses += exclusion_loss for eligible & not assisted',
       mech_services=True, probe={'assistance_review': 1000}),
    _e('villager:hardship', 'scratch:losses', +1, 'services',
       'step at poverty_line: eligible & not assisted -> exclusion_loss', mech_services=True),
    # --- informal_signal
    _e('param:participation', 'rules:stance', +1, 'informal_signal',
       'village compacts as a process: stance += compact_rate participation (1 - stance); '
       'default compact_rate = 0 -> no edge at defaults',
       mech_informal=True, mech_participation=True, compact_rate='>0'),
    _e('param:compact_rate', 'rules:stance', +1, 'informal_signal',
       '; zero if participation = 0 [not a required lever]',
       mech_informal=True, mech_participation=True),
    _e('param:cooptation', 'rules:stance', +1, 'informal_signal',
       'stance += cooptation_rate cooptation (1 - stance)', mech_informal=True),
    _e('param:cooptation', 'villager:attachment', +1, 'informal_signal',
       'attachment += cooptation_spread cooptation, clipped', mech_informal=True),
    _e('rules:stance', 'scratch:signal', +1, 'informal_signal',
       'I = w (2 peer - 1) + (1 - w) stance; elders I = stance', mech_informal=True),
    _e('scratch:kept_prev', 'scratch:signal', +1, 'informal_signal',
       'peer share = weighted neighbours keeping / subject; not for elders (276)',
       mech_informal=True),
    _e('param:peer_weight', 'scratch:signal', -1, 'informal_signal',
       'SIGN DEPENDS: dI/dw = (2 peer - 1) - stance; at defaults compliance ~0.52 and stance '
       '~0.2 so negative [not a lever]', mech_informal=True),
    # --- compliance_decision
    _e('scratch:detect', 'scratch:p_detect', +1, 'compliance_decision',
       "p_detect = detect of the villager's township"),
    _e('scratch:cadre_orientation', 'scratch:p_detect', -1, 'compliance_decision',
       'p_detect *= 1 - cadre_shield o_v', mech_cadres=True, cadre_shield='>0'),
    _e('scratch:fit', 'scratch:cost_scale', -1, 'compliance_decision',
       'cost_scale = cost_multiplier (1 - fit_t)(0.5 + h~)'),
    _e('villager:effective_hardship', 'scratch:cost_scale', +1, 'compliance_decision',
       ''),
    _e('scratch:cost_scale', 'scratch:cost', +1, 'compliance_decision',
       'cost = min(rule cost x cost_scale, 2)'),
    _e('rules:cost', 'scratch:cost', +1, 'compliance_decision',
       '(capped at 2)'),
    _e('param:coordination', 'scratch:conflicts', -1, 'compliance_decision',
       'q = conflict_probability (1 - coordination); default second form: pair conflicts in a '
       'village where place draw < q; first form: round(q pairs) pairs. Recomputed when the key '
       'changes', mech_fragmentation=True),
    _e('param:conflict_probability', 'scratch:conflicts', +1, 'compliance_decision',
       '[not a lever]', mech_fragmentation=True),
    _e('rules:department', 'scratch:conflicts', +1, 'compliance_decision',
       'STRUCTURAL: only pairs of rules of different departments (or bureaus) can conflict; this '
       "is where n_departments (set at initialise) enters the conflicts -- n_departments "
       'itself is not read here', mech_fragmentation=True, probe={'rules_per_department': 2}),
    _e('scratch:p_detect', 'rules:comply', +1, 'compliance_decision',
       'sanction = (p + d(1-p)) severity (1+social_credit)(0.5+R); U += w_enforcement sanction; '
       'comply = U > logit(u). No edge to rules:voluntary (enforced part removed,)',
       mech_enforcement=True),
    _e('villager:deterrence', 'rules:comply', +1, 'compliance_decision',
       'd(1 - p) term of the felt sanction; zero at p = 1', mech_enforcement=True),
    _e('villager:risk_aversion', 'rules:comply', +1, 'compliance_decision',
       'x (0.5 + R)', mech_enforcement=True),
    _e('param:sanction_severity', 'rules:comply', +1, 'compliance_decision',
       '[not a required lever]', mech_enforcement=True),
    _e('param:social_credit', 'rules:comply', +1, 'compliance_decision',
       'severity x (1 + social_credit) [not a required lever]', mech_enforcement=True),
    _e('villager:legitimacy', 'rules:comply', +1, 'compliance_decision',
       'U += w_legitimacy (2L - 1) (/346;)'),
    _e('villager:legitimacy', 'rules:voluntary', +1, 'compliance_decision',
       'voluntary = U - enforced > logit(u) (/271)'),
    _e('villager:attachment', 'rules:comply', +1, 'compliance_decision',
       'SIGN DEPENDS: U += w_norm a I: + where the signal I > 0, - where I < 0. At defaults the '
       'signal is mostly positive (mean +0.12, 64% > 0 in a small default run); signal = 0 if '
       'mech_informal off'),
    _e('villager:attachment', 'rules:voluntary', +1, 'compliance_decision',
       'SIGN DEPENDS: as for comply'),
    _e('scratch:signal', 'rules:comply', +1, 'compliance_decision',
       'U += w_norm a I; zero at a = 0', mech_informal=True),
    _e('scratch:signal', 'rules:voluntary', +1, 'compliance_decision',
       ';', mech_informal=True),
    _e('rules:habit', 'rules:comply', +1, 'compliance_decision',
       'U += w_habit (2 habit - 1) (from step 2)', mech_habit=True, habit_memory='>0'),
    _e('rules:habit', 'rules:voluntary', +1, 'compliance_decision',
       '', mech_habit=True, habit_memory='>0'),
    _e('rules:comply', 'rules:comply', +1, 'compliance_decision',
       'self-edge: habit = last choice when habit_memory = 0, and at step 1 (r.habit None): the '
       'route of param:opportunism; also non-live rules keep their old value',
       mech_habit=True, habit_memory=0.0),
    _e('rules:comply', 'rules:voluntary', +1, 'compliance_decision',
       'habit term is in the voluntary part too', mech_habit=True, habit_memory=0.0),
    _e('scratch:cost', 'rules:comply', -1, 'compliance_decision',
       'U -= w_cost cost'),
    _e('scratch:cost', 'rules:voluntary', -1, 'compliance_decision',
       ''),
    _e('scratch:conflicts', 'rules:comply', -1, 'compliance_decision',
       'U -= w_conflict load, load = share (first form) / indicator (second form) of kept '
       'conflicting rules', mech_fragmentation=True),
    _e('scratch:conflicts', 'rules:voluntary', -1, 'compliance_decision',
       '', mech_fragmentation=True),
    _e('scratch:kept_prev', 'rules:comply', -1, 'compliance_decision',
       "cross-rule: keeping (last step) a rule that conflicts with k raises k's load; only where "
       "conflicts exist. (kept_prev's positive peer route runs through scratch:signal, "
       'informal_signal)', mech_fragmentation=True),
    _e('scratch:kept_prev', 'rules:voluntary', -1, 'compliance_decision',
       'as for comply', mech_fragmentation=True),
    _e('scratch:misconduct', 'rules:comply', -1, 'compliance_decision',
       'U offset = base - w_misconduct misconduct'),
    _e('scratch:misconduct', 'rules:voluntary', -1, 'compliance_decision',
       ''),
    _e('rules:comply', 'scratch:kept', +1, 'compliance_decision',
       'kept = comply & live'),
    _e('scratch:kept', 'scratch:n_kept', +1, 'compliance_decision',
       'n_kept = kept.sum(axis=0)'),
    _e('rules:comply', 'rules:habit', +1, 'compliance_decision',
       "h' = m h + (1 - m) comply on live rules", habit_memory='>0'),
    # --- enforcement
    _e('param:deterrence_decay', 'villager:deterrence', -1, 'enforcement',
       'd *= 1 - deterrence_decay [not a lever]'),
    _e('param:social_credit', 'scratch:losses', +1, 'enforcement',
       'losses += credit_loss social_credit [not a required lever]'),
    _e('scratch:n_kept', 'villager:stage', -1, 'enforcement',
       'stage cleared where n_kept == n_live; step function'),
    _e('rules:n_live', 'villager:stage', +1, 'enforcement',
       'STRUCTURAL: more live rules, fewer villagers keep all'),
    _e('param:record_memory', 'villager:stage', +1, 'enforcement',
       'records lapse with chance 1/record_memory', mech_enforcement=True, record_memory='>0'),
    _e('scratch:p_detect', 'villager:stage', +1, 'enforcement',
       'detected evaders move one stage up', mech_enforcement=True, mech_graduated=True),
    _e('scratch:kept', 'villager:stage', -1, 'enforcement',
       'fewer evaded rules to detect', mech_enforcement=True, mech_graduated=True),
    _e('scratch:p_detect', 'tally:sanctions', +1, 'enforcement',
       'p_detected = 1 - prod(1 - p) over evaded rules; sanctioned = detected at stage 3 '
       '(333,342-343)', mech_enforcement=True),
    _e('scratch:kept', 'tally:sanctions', -1, 'enforcement',
       'evading = live & ~kept', mech_enforcement=True),
    _e('villager:stage', 'tally:sanctions', +1, 'enforcement',
       'a detected evader already at stage >= 2 is sanctioned; without mech_graduated every '
       'detection is a sanction (332)', mech_enforcement=True, mech_graduated=True),
    _e('scratch:p_detect', 'scratch:gains', +1, 'enforcement',
       'fair_gain for persuaded/warned (outcome <= 2); none without mech_graduated (all outcomes '
       '3)', mech_enforcement=True, mech_graduated=True),
    _e('scratch:kept', 'scratch:gains', -1, 'enforcement',
       'fewer detected evaders', mech_enforcement=True, mech_graduated=True),
    _e('villager:stage', 'scratch:gains', -1, 'enforcement',
       'stage 3 outcome gets no fair_gain', mech_enforcement=True, mech_graduated=True),
    _e('scratch:p_detect', 'scratch:grievance_in', +1, 'enforcement',
       'sanction_grievance to the sanctioned, unfair_grievance to compliers hit (p_hit = detect '
       'x arb)', mech_enforcement=True),
    _e('scratch:kept', 'scratch:grievance_in', -1, 'enforcement',
       'SIGN DEPENDS: fewer evaded rules -> fewer sanctions (-, sanction_grievance 0.2 at stage '
       '3) vs more kept rules exposed to arbitrary hits (+, p arb unfair_grievance, arb ~0.0575 '
       'at defaults); small default run: 45 sanctions vs 18 unfair hits a step -> negative',
       mech_enforcement=True),
    _e('villager:stage', 'scratch:grievance_in', +1, 'enforcement',
       'higher stage -> detection ends in sanction', mech_enforcement=True, mech_graduated=True),
    _e('scratch:p_detect', 'villager:deterrence', +1, 'enforcement',
       'd = max(d, FELT[stage]) for detected, max(d, 0.6) for unfair hits', mech_enforcement=True),
    _e('villager:stage', 'villager:deterrence', +1, 'enforcement',
       'FELT = [0, .3, .6, 1] by outcome stage', mech_enforcement=True, mech_graduated=True),
    _e('scratch:kept', 'villager:deterrence', -1, 'enforcement',
       'SIGN DEPENDS: fewer detections (FELT up to 1) vs more unfair hits (0.6); negative at '
       'defaults (see grievance_in)', mech_enforcement=True),
    _e('scratch:p_detect', 'scratch:losses', +1, 'enforcement',
       'unfair hits: p_hit = 1 - prod(1 - detect arb) over kept rules; losses += unfair_loss',
       mech_enforcement=True),
    _e('scratch:kept', 'scratch:losses', +1, 'enforcement',
       'more kept rules exposed to arbitrary hits; unfair = hit & ~detected',
       mech_enforcement=True),
    _e('param:arbitrariness', 'scratch:losses', +1, 'enforcement',
       'arb = min(arbitrariness + frag_arb F (1 - joint), 1)(1 - grid_management); zero if '
       'grid_management = 1 or at the cap', mech_enforcement=True),
    _e('param:arbitrariness', 'scratch:grievance_in', +1, 'enforcement',
       'unfair_grievance', mech_enforcement=True),
    _e('param:arbitrariness', 'villager:deterrence', +1, 'enforcement',
       'unfair hits remembered at 0.6', mech_enforcement=True),
    _e('param:n_departments', 'scratch:losses', +1, 'enforcement',
       "F = (D-1)/D (1 - coordination) from n_departments each step; zero if coordination = "
       '1, joint_enforcement = 1, fragmentation_arbitrariness = 0',
       mech_enforcement=True, mech_fragmentation=True),
    _e('param:n_departments', 'scratch:grievance_in', +1, 'enforcement',
       '', mech_enforcement=True, mech_fragmentation=True),
    _e('param:n_departments', 'villager:deterrence', +1, 'enforcement',
       '', mech_enforcement=True, mech_fragmentation=True),
    _e('param:coordination', 'scratch:losses', -1, 'enforcement',
       'F falls with coordination; zero if n_departments = 1',
       mech_enforcement=True, mech_fragmentation=True),
    _e('param:coordination', 'scratch:grievance_in', -1, 'enforcement',
       '', mech_enforcement=True, mech_fragmentation=True),
    _e('param:coordination', 'villager:deterrence', -1, 'enforcement',
       '', mech_enforcement=True, mech_fragmentation=True),
    _e('param:grid_management', 'scratch:losses', -1, 'enforcement',
       'arb x (1 - grid_management) [not a required lever]', mech_enforcement=True),
    _e('param:joint_enforcement', 'scratch:losses', -1, 'enforcement',
       '[not a required lever]', mech_enforcement=True, mech_fragmentation=True),
    _e('param:sanction_grievance', 'scratch:grievance_in', +1, 'enforcement',
       '[not a lever]', mech_enforcement=True),
    # --- participation
    _e('param:participation', 'scratch:gains', +1, 'participation',
       'share participation (1 - fiscal_dependence) takes part: gains += participation_gain',
       mech_participation=True),
    _e('param:participation', 'villager:grievance', -1, 'participation',
       'G *= 1 - participation_relief for participants', mech_participation=True),
    _e('param:fiscal_dependence', 'scratch:gains', -1, 'participation',
       '[not a required lever]', mech_participation=True),
    _e('param:fiscal_dependence', 'villager:grievance', +1, 'participation',
       '', mech_participation=True),
    # --- update_grievance
    _e('scratch:cost', 'scratch:burden', +1, 'update_grievance',
       'burden = sum_k cost kept'),
    _e('scratch:kept', 'scratch:burden', +1, 'update_grievance',
       ': keeping a rule costs (so compliance feeds grievance)'),
    _e('rules:n_live', 'scratch:burden', -1, 'update_grievance',
       'burden /= max(n_live, 1)', burden_total=False),
    _e('scratch:burden', 'villager:grievance', +1, 'update_grievance',
       'G += burden_grievance burden'),
    _e('villager:effective_hardship', 'villager:grievance', +1, 'update_grievance',
       'G += hardship_grievance h~ (1 - L); zero at L = 1'),
    _e('villager:legitimacy', 'villager:grievance', -1, 'update_grievance',
       'G += hardship_grievance h~ (1 - L); zero at h~ = 0'),
    _e('scratch:grievance_in', 'villager:grievance', +1, 'update_grievance',
       'G += grievance_in (sanctions, unfair hits); clipped (159)'),
    _e('param:grievance_decay', 'villager:grievance', -1, 'update_grievance',
       'G *= 1 - grievance_decay [not a lever]'),
    # --- petitions
    _e('villager:grievance', 'tally:petitions_new', +1, 'petitions',
       'aggrieved = G > threshold; new & over_head counted (101-118,131); step function',
       mech_contention=True),
    _e('villager:grievance', 'tally:petitions_collective', +1, 'petitions',
       'filers must be aggrieved, and collective when weighted share of aggrieved neighbours >= '
       'collective_threshold; only township filers (new_idx)', mech_contention=True),
    _e('param:petition_threshold', 'tally:petitions_new', -1, 'petitions',
       '[not a lever]', mech_contention=True),
    _e('param:petition_propensity', 'tally:petitions_new', +1, 'petitions',
       'a ready villager files with chance petition_propensity; at 1 every ready villager files '
       '(no draw)', mech_contention=True, petition_propensity='<1'),
    _e('param:petition_propensity', 'tally:petitions_collective', +1, 'petitions',
       '', mech_contention=True, petition_propensity='<1'),
    _e('param:petition_propensity', 'tally:petitions_escalated', +1, 'petitions',
       'over-the-head filers go to the county at once and count as escalated',
       mech_contention=True, mech_trust_levels=True, petition_propensity='<1'),
    _e('param:petition_propensity', 'scratch:escalated', +1, 'petitions',
       '', mech_contention=True, mech_trust_levels=True, petition_propensity='<1'),
    _e('param:petition_propensity', 'tally:petition_backlog', +1, 'petitions',
       'more new township petitions compete for capacity; zero while capacity is slack '
       '(defaults)', mech_contention=True, petition_propensity='<1'),
    _e('villager:trust_local', 'tally:petitions_new', +1, 'petitions',
       'to the township iff trust_local >= petition_trust; those with trust_upper >= '
       'petition_trust who fall below it go over the head and still count (113,131), so only via '
       'villagers with low trust_upper', mech_contention=True, mech_trust_levels=True),
    _e('villager:trust_local', 'tally:petitions_collective', +1, 'petitions',
       'only township filers are tested for collective',
       mech_contention=True, mech_trust_levels=True),
    _e('villager:trust_local', 'tally:petitions_escalated', -1, 'petitions',
       'low trust_local & high trust_upper -> over the head -> escalated at once',
       mech_contention=True, mech_trust_levels=True),
    _e('villager:trust_local', 'scratch:escalated', -1, 'petitions',
       '', mech_contention=True, mech_trust_levels=True),
    _e('villager:trust_local', 'villager:pet_level', -1, 'petitions',
       'over-head filers get pet_level 1 (county)', mech_contention=True, mech_trust_levels=True),
    _e('villager:trust_local', 'tally:petition_backlog', +1, 'petitions',
       'petitions filed at the township may wait; zero while capacity is slack',
       mech_contention=True, mech_trust_levels=True),
    _e('villager:trust_upper', 'tally:petitions_new', +1, 'petitions',
       'over_head = ready & trust_local < trust & trust_upper >= trust',
       mech_contention=True, mech_trust_levels=True),
    _e('villager:trust_upper', 'tally:petitions_escalated', +1, 'petitions',
       '', mech_contention=True, mech_trust_levels=True),
    _e('villager:trust_upper', 'scratch:escalated', +1, 'petitions',
       '', mech_contention=True, mech_trust_levels=True),
    _e('villager:trust_upper', 'villager:pet_level', +1, 'petitions',
       '', mech_contention=True, mech_trust_levels=True),
    _e('villager:legitimacy', 'tally:petitions_new', +1, 'petitions',
       'first form: new &= legitimacy >= petition_trust',
       mech_contention=True, mech_trust_levels=False),
    _e('villager:legitimacy', 'tally:petitions_collective', +1, 'petitions',
       '', mech_contention=True, mech_trust_levels=False),
    _e('villager:legitimacy', 'tally:petition_backlog', +1, 'petitions',
       'more township filings may wait; zero while capacity is slack',
       mech_contention=True, mech_trust_levels=False),
    _e('param:petition_trust', 'tally:petitions_new', -1, 'petitions',
       '[not a lever]', mech_contention=True),
    _e('param:collective_threshold', 'tally:petitions_collective', -1, 'petitions',
       '[not a lever]', mech_contention=True),
    _e('scratch:cadre_orientation', 'tally:petitions_new', +1, 'petitions',
       'threshold x (1 - cadre_voice o_v)', mech_contention=True, mech_cadres=True, cadre_voice='>0'
      ),
    _e('param:grid_management', 'tally:petitions_new', +1, 'petitions',
       'threshold x (1 - grid_early grid_management) [not a required lever]', mech_contention=True),
    _e('villager:protesting', 'tally:petitions_new', -1, 'petitions',
       "last step's protesters do not petition", mech_contention=True),
    _e('villager:detained_for', 'tally:petitions_new', -1, 'petitions',
       'detained villagers do not petition', mech_contention=True),
    _e('villager:silenced_for', 'tally:petitions_new', -1, 'petitions',
       'silenced (suppressed earlier) do not petition',
       mech_contention=True, mech_interception=True),
    _e('villager:pet_age', 'tally:petitions_new', -1, 'petitions',
       'a villager with a pending petition (pet_age >= 0) files no new one', mech_contention=True),
    _e('param:matter_rate', 'tally:petitions_new', +1, 'petitions',
       'no matter, no petition [not a lever]',
       mech_contention=True, matter_window='>0',
       probe={'matter_rate': 0.5, 'n_villagers': 20000, 'villages_per_township': 50}),
    _e('villager:grievance', 'tally:petitions_escalated', +1, 'petitions',
       'aggrieved villagers with low trust_local/high trust_upper file over the head -> '
       'escalated at once', mech_contention=True, mech_trust_levels=True),
    _e('villager:grievance', 'scratch:escalated', +1, 'petitions',
       '', mech_contention=True, mech_trust_levels=True),
    _e('villager:grievance', 'villager:pet_level', +1, 'petitions',
       'over-head filings are at the county (pet_level 1)',
       mech_contention=True, mech_trust_levels=True),
    _e('villager:grievance', 'villager:pet_age', +1, 'petitions',
       'filing opens a pending petition: pet_age = 0 (from -1)', mech_contention=True),
    _e('villager:grievance', 'tally:petition_backlog', +1, 'petitions',
       'more township filings may wait; zero while capacity slack', mech_contention=True),
    _e('scratch:petition_capacity', 'villager:grievance', -1, 'petitions',
       'answered (allocate: chance min(c/w, 1),;) and accepted: G *= 1 - relief; fewer wait '
       "(+wait_grievance, 44). This is the 'answered petitions -> grievance (-1)' edge. First "
       'form (no interception) also fewer suppressed (179-180). ~0 at defaults (capacity slack)',
       mech_contention=True, probe={'n_villagers': 20000, 'township_capacity': 1.0}),
    _e('scratch:petition_capacity', 'scratch:gains', +1, 'petitions',
       'answered & accepted: gains += answer_gain',
       mech_contention=True, probe={'n_villagers': 20000, 'township_capacity': 1.0}),
    _e('scratch:petition_capacity', 'scratch:losses', -1, 'petitions',
       'fewer waiting (losses += wait_loss); first form also fewer suppressed (179-180,194)',
       mech_contention=True, probe={'n_villagers': 20000, 'township_capacity': 1.0}),
    _e('scratch:petition_capacity', 'tally:petitions_escalated', 0, 'petitions',
       'SIGN DEPENDS: fewer reach escalation_wait while waiting vs answers not accepted (1 - '
       'answer_acceptance = 7.4%) escalate at once (188-190,203-206); negative when capacity '
       'binds; ~0 at defaults (slack)',
       mech_contention=True, probe={'n_villagers': 20000, 'township_capacity': 1.0}),
    _e('scratch:petition_capacity', 'scratch:escalated', 0, 'petitions',
       'SIGN DEPENDS: as tally:petitions_escalated; this copy is what township_report reads',
       mech_contention=True, probe={'n_villagers': 20000, 'township_capacity': 1.0}),
    _e('scratch:petition_capacity', 'villager:pet_level', 0, 'petitions',
       'SIGN DEPENDS: as escalated',
       mech_contention=True, probe={'n_villagers': 20000, 'township_capacity': 1.0}),
    _e('scratch:petition_capacity', 'tally:petition_backlog', -1, 'petitions',
       'backlog = waiting - escalating',
       mech_contention=True, probe={'n_villagers': 20000, 'township_capacity': 1.0}),
    _e('scratch:petition_capacity', 'villager:pet_age', -1, 'petitions',
       'answered -> pet_age = -1; waiting -> +1 (40)',
       mech_contention=True, probe={'n_villagers': 20000, 'township_capacity': 1.0}),
    _e('scratch:suppress', 'villager:grievance', +1, 'petitions',
       'suppressed: G += suppression_grievance ( interception, 179-180 first form; 192-193)',
       mech_contention=True),
    _e('scratch:suppress', 'scratch:losses', +1, 'petitions',
       'losses += suppression_loss (0.05); outweighs wait_loss (0.005) saved',
       mech_contention=True),
    _e('scratch:suppress', 'villager:deterrence', +1, 'petitions',
       'd = 1 for the suppressed', mech_contention=True),
    _e('scratch:suppress', 'villager:silenced_for', +1, 'petitions',
       'silenced_for = suppression_quiet', mech_contention=True, mech_interception=True),
    _e('scratch:suppress', 'villager:pet_age', -1, 'petitions',
       'suppressed petition closed: pet_age = -1', mech_contention=True),
    _e('scratch:suppress', 'tally:petitions_escalated', -1, 'petitions',
       'suppressed petitions neither wait nor escalate; the county sees fewer (interception '
       'before escalation)', mech_contention=True),
    _e('scratch:suppress', 'scratch:escalated', -1, 'petitions',
       '', mech_contention=True),
    _e('scratch:suppress', 'villager:pet_level', -1, 'petitions',
       '', mech_contention=True),
    _e('scratch:suppress', 'tally:petition_backlog', -1, 'petitions',
       '', mech_contention=True),
    _e('scratch:suppress', 'scratch:gains', 0, 'petitions',
       'SIGN DEPENDS: intercepted before answering, so answers fall only where capacity is slack '
       '(defaults); where it binds the rest absorb the capacity',
       mech_contention=True, mech_interception=True, probe={'n_villagers': 20000}),
    _e('param:responsiveness', 'villager:grievance', -1, 'petitions',
       'mech_answer_speed route: each pending petition taken up with chance responsiveness; '
       'untaken ones wait (+wait_grievance) instead of relief',
       mech_contention=True, mech_answer_speed=True,
       probe={'n_villagers': 20000, 'township_capacity': 50.0}),
    _e('param:responsiveness', 'scratch:gains', +1, 'petitions',
       '',
       mech_contention=True, mech_answer_speed=True,
       probe={'n_villagers': 20000, 'township_capacity': 50.0}),
    _e('param:responsiveness', 'scratch:losses', -1, 'petitions',
       'fewer waiting -> less wait_loss',
       mech_contention=True, mech_answer_speed=True,
       probe={'n_villagers': 20000, 'township_capacity': 50.0}),
    _e('param:responsiveness', 'tally:petitions_escalated', 0, 'petitions',
       'SIGN DEPENDS: fewer reach escalation_wait untaken vs refused answers escalate at once '
       '(188-190); negative at defaults (answer_acceptance 0.93)',
       mech_contention=True, mech_answer_speed=True),
    _e('param:responsiveness', 'scratch:escalated', 0, 'petitions',
       '', mech_contention=True, mech_answer_speed=True),
    _e('param:responsiveness', 'villager:pet_level', 0, 'petitions',
       '', mech_contention=True, mech_answer_speed=True),
    _e('param:responsiveness', 'tally:petition_backlog', -1, 'petitions',
       '',
       mech_contention=True, mech_answer_speed=True,
       probe={'n_villagers': 20000, 'township_capacity': 50.0}),
    _e('param:priority_handling', 'tally:petitions_escalated', -1, 'petitions',
       'oldest answered first: same expected number answered (min(c, w)) but fewer reach '
       'escalation_wait; zero while capacity is slack (defaults)', mech_contention=True),
    _e('param:priority_handling', 'scratch:escalated', -1, 'petitions',
       '', mech_contention=True),
    _e('param:priority_handling', 'villager:pet_level', -1, 'petitions',
       '', mech_contention=True),
    _e('param:priority_handling', 'tally:petition_backlog', +1, 'petitions',
       'backlog = waiting - those escalating this step: the number waiting is unchanged in '
       'expectation while fewer escalate out, so the township backlog rises; zero while capacity '
       'is slack', mech_contention=True),
    _e('param:priority_handling', 'villager:grievance', -1, 'petitions',
       'SIGN DEPENDS (weak): answers go to the longest-waiting, whose grievance has grown by '
       'wait_grievance, and relief is proportional; same number answered', mech_contention=True),
    _e('param:discretion', 'villager:grievance', -1, 'petitions',
       'relief = answer_relief (1 - rigidity_penalty (1 - discretion))',
       mech_contention=True, mech_discretion=True),
    _e('villager:pet_age', 'tally:petitions_escalated', +1, 'petitions',
       'a petition waiting escalation_wait steps goes to the county', mech_contention=True),
    _e('villager:pet_age', 'villager:pet_level', +1, 'petitions',
       '', mech_contention=True),
    # --- county_review
    _e('villager:pet_level', 'villager:grievance', -1, 'county_review',
       'SIGN DEPENDS: an escalated petition at the county is answered (G *= 1 - answer_relief,) '
       'or waits (+wait_grievance, 243-244,44); county capacity slack at defaults -> mostly '
       'answered -> negative',
       mech_contention=True, probe={'n_villagers': 20000, 'county_capacity': 50.0}),
    _e('villager:pet_level', 'scratch:gains', +1, 'county_review',
       'answered: gains += answer_gain',
       mech_contention=True, probe={'n_villagers': 20000, 'county_capacity': 50.0}),
    _e('villager:pet_level', 'scratch:gains_upper', +1, 'county_review',
       'county answers credited upward',
       mech_contention=True, probe={'n_villagers': 20000, 'county_capacity': 50.0}),
    _e('param:county_capacity', 'villager:grievance', -1, 'county_review',
       'department capacity = county_capacity N/100 / n_dep; more answered [not a required '
       'lever]', mech_contention=True),
    _e('param:county_capacity', 'scratch:gains_upper', +1, 'county_review',
       '', mech_contention=True),
    _e('param:county_capacity', 'scratch:losses_upper', -1, 'county_review',
       '', mech_contention=True),
    _e('villager:grievance', 'tally:petitions_escalated', +1, 'county_review',
       'return visits: closed county cases still above petition_threshold go back with chance '
       'petition_persistence, added to the tally', mech_contention=True, petition_persistence='>0'),
    _e('villager:grievance', 'villager:pet_level', +1, 'county_review',
       '', mech_contention=True, petition_persistence='>0'),
    _e('scratch:n_kept', 'tally:compliance_inspected', +1, 'county_review',
       'inspected compliance = sum n_kept / sum n_live over a random sample of share '
       'inspection_rate'),
    _e('rules:n_live', 'tally:compliance_inspected', -1, 'county_review',
       'denominator'),
    # --- protest
    _e('villager:grievance', 'tally:protesters', +1, 'protest',
       "net = G (1 - L) - R P'; willing = excess > 0 (324-327); threshold mobilisation - excess "
       '(333-334)', mech_contention=True),
    _e('villager:grievance', 'villager:protesting', +1, 'protest',
       "protesting = the cascade's active set; same sources as tally:protesters",
       mech_contention=True),
    _e('villager:legitimacy', 'tally:protesters', -1, 'protest',
       'net = G (1 - L) - ...; zero at G = 0', mech_contention=True),
    _e('villager:legitimacy', 'villager:protesting', -1, 'protest',
       '', mech_contention=True),
    _e('villager:deterrence', 'tally:protesters', -1, 'protest',
       "felt risk P' = P + d (1 - P)", mech_contention=True),
    _e('villager:risk_aversion', 'tally:protesters', -1, 'protest',
       '', mech_contention=True),
    _e('villager:detained_for', 'tally:protesters', -1, 'protest',
       'detained villagers are not willing', mech_contention=True),
    _e('villager:mobilisation', 'tally:protesters', -1, 'protest',
       'cascade threshold = mobilisation - excess', mech_contention=True),
    _e('param:protest_threshold', 'tally:protesters', -1, 'protest',
       'excess = net - protest_threshold [not a required lever... listed]', mech_contention=True),
    _e('param:protest_trigger', 'tally:protesters', +1, 'protest',
       'NON-MONOTONE at 0: for tau > 0 only villages with an incident (chance 1 - exp(-tau '
       'size/1000)) may protest and the cascade starts empty, so more incidents -> more protest '
       "(+1 at default 0.0255); tau = 0 drops the gating and starts from last step's protesters "
       '(328), a jump from tau = 0 to small tau lowers protest',
       mech_contention=True, protest_trigger='>0'),
    _e('param:protest_trigger', 'villager:protesting', +1, 'protest',
       'NON-MONOTONE at 0 (as tally:protesters)', mech_contention=True, protest_trigger='>0'),
    _e('villager:protesting', 'tally:protesters', +1, 'protest',
       "last step's protesters per village lower the arrest chance P = 1 - exp(-k C/(1 + A)); "
       "with protest_trigger = 0 they are also the cascade's start set (328)",
       mech_contention=True),
    _e('param:suppression_force', 'tally:protesters', -1, 'protest',
       'force C = suppression_force size/100 raises arrest probability [not a required lever]',
       mech_contention=True),
    _e('param:suppression_force', 'villager:grievance', +1, 'protest',
       'SIGN DEPENDS / NON-MONOTONE: fewer protesters (-) vs more of them detained '
       '(+suppression_grievance,) and fewer concessions (+)', mech_contention=True),
    _e('villager:grievance', 'villager:detained_for', +1, 'protest',
       'protesters detained with chance P for 1..detention_term steps', mech_contention=True),
    _e('villager:grievance', 'villager:deterrence', +1, 'protest',
       'detained and repressed (399) protesters get d = 1', mech_contention=True),
    _e('villager:grievance', 'scratch:losses', +1, 'protest',
       'detained/repressed protesters: losses += suppression_loss; with key_person_management > '
       '0 also stigma_loss for G > petition_threshold (314-318)', mech_contention=True),
    _e('villager:grievance', 'scratch:gains', +1, 'protest',
       'protesters in conceded events gain answer_gain',
       mech_contention=True, mech_state_response=True),
    _e('villager:grievance', 'scratch:gains_upper', +1, 'protest',
       'concessions credited upward', mech_contention=True, mech_state_response=True),
    _e('villager:legitimacy', 'villager:deterrence', -1, 'protest',
       'fewer protesters -> fewer detained/repressed', mech_contention=True),
    _e('villager:legitimacy', 'scratch:losses', -1, 'protest',
       'fewer protesters -> fewer suppression losses', mech_contention=True),
    _e('villager:legitimacy', 'villager:detained_for', -1, 'protest',
       '', mech_contention=True),
    _e('param:protest_trigger', 'villager:detained_for', +1, 'protest',
       'NON-MONOTONE at 0 (as tally:protesters): more protesters, each detained with chance P',
       mech_contention=True, protest_trigger='>0'),
    _e('param:protest_trigger', 'villager:deterrence', +1, 'protest',
       'NON-MONOTONE at 0: detained and repressed protesters get d = 1',
       mech_contention=True, protest_trigger='>0'),
    _e('param:protest_trigger', 'scratch:losses', +1, 'protest',
       'NON-MONOTONE at 0: suppression_loss for detained/repressed',
       mech_contention=True, protest_trigger='>0'),
    _e('param:protest_trigger', 'villager:grievance', 0, 'protest',
       'NON-MONOTONE at 0; SIGN DEPENDS: detention/repression +suppression_grievance vs '
       'concessions G *= 1 - answer_relief (388; small events are conceded with chance ~0.2 at '
       'defaults) -> positive at defaults', mech_contention=True, protest_trigger='>0'),
    _e('param:protest_trigger', 'scratch:gains', +1, 'protest',
       'NON-MONOTONE at 0: concessions give answer_gain',
       mech_contention=True, mech_state_response=True, protest_trigger='>0',
       probe={'n_villagers': 20000}),
    _e('villager:deterrence', 'villager:detained_for', -1, 'protest',
       'fewer protesters -> fewer detained', mech_contention=True),
    _e('villager:deterrence', 'scratch:losses', -1, 'protest',
       'fewer protesters -> fewer suppression losses', mech_contention=True),
    _e('param:key_person_management', 'tally:protesters', -1, 'protest',
       "key persons' felt risk += k (1 - felt) [not a required lever]", mech_contention=True),
    _e('param:key_person_management', 'scratch:losses', +1, 'protest',
       'stigma_loss k for key persons', mech_contention=True),
    _e('villager:pet_level', 'tally:protesters', +1, 'protest',
       'excess += strategic_escalation for petitioners pending at the county',
       mech_contention=True, strategic_escalation='>0'),
    # --- disputes
    _e('villager:effective_hardship', 'tally:substitution_index', +1, 'disputes',
       "SIGN DEPENDS: dispute chance = dispute_rate (0.5 + h~); more disputes lower each one's "
       'chance of township resolution (59-62) only where dispute capacity binds; ~0 at defaults '
       '(slack)', probe={'township_capacity': 0.3}),
    _e('villager:effective_hardship', 'scratch:gains', 0, 'disputes',
       'more disputes, some resolved formally: gains += dispute_gain'),
    _e('villager:effective_hardship', 'scratch:losses', +1, 'disputes',
       'more disputes, some formal ones unresolved (mediation_success < 1 or capacity): losses '
       '+= dispute_gain'),
    _e('villager:legitimacy', 'tally:substitution_index', -1, 'disputes',
       'P(formal) = logistic(w0 + wFL (2L - 1) - wFA (2a - 1) + wFS stance); substitution = '
       'informal / all resolved (80-88)', mech_informal=True),
    _e('villager:legitimacy', 'scratch:gains', +1, 'disputes',
       'more formal disputes resolved', mech_informal=True),
    _e('villager:legitimacy', 'scratch:losses', +1, 'disputes',
       'more formal disputes, a share unresolved (1 - mediation_success 2.7%)', mech_informal=True),
    _e('villager:legitimacy', 'villager:attachment', -1, 'disputes',
       'formal resolution: a -= attachment_rate; fewer informal resolutions (+)',
       mech_informal=True),
    _e('villager:attachment', 'tally:substitution_index', +1, 'disputes',
       '- wFA (2a - 1) in P(formal)', mech_informal=True),
    _e('villager:attachment', 'scratch:gains', -1, 'disputes',
       'fewer formal disputes resolved', mech_informal=True),
    _e('villager:attachment', 'scratch:losses', -1, 'disputes',
       'fewer formal disputes left unresolved', mech_informal=True),
    _e('rules:stance', 'tally:substitution_index', -1, 'disputes',
       "+ wFS x elders' mean stance over active rules", mech_informal=True),
    _e('rules:stance', 'scratch:gains', +1, 'disputes',
       '', mech_informal=True),
    _e('rules:stance', 'villager:attachment', -1, 'disputes',
       'more formal resolution', mech_informal=True),
    _e('param:w_formal_bias', 'tally:substitution_index', -1, 'disputes',
       'additive in the log-odds of going formal, so -1 whatever its sign (default -0.7664) [not '
       'a lever]', mech_informal=True),
    _e('scratch:dispute_capacity', 'tally:substitution_index', -1, 'disputes',
       'resolve_p = min(capacity / formal disputes, 1); unresolved fall back to the elders '
       '(72-74); zero where capacity is slack (defaults)', probe={'township_capacity': 0.3}),
    _e('scratch:dispute_capacity', 'scratch:gains', +1, 'disputes',
       '', probe={'township_capacity': 0.3}),
    _e('scratch:dispute_capacity', 'scratch:losses', -1, 'disputes',
       '', probe={'township_capacity': 0.3}),
    _e('scratch:dispute_capacity', 'villager:attachment', -1, 'disputes',
       'more formal resolutions (a -= rate), fewer fall-backs to elders (a += rate)',
       mech_informal=True, probe={'township_capacity': 0.3}),
    _e('scratch:cadre_orientation', 'tally:substitution_index', -1, 'disputes',
       'village cadre settles formal disputes with chance cadre_mediation o_v: counted as formal '
       'resolutions, never unresolved',
       mech_cadres=True, cadre_mediation='>0', probe={'n_villagers': 20000}),
    _e('scratch:cadre_orientation', 'scratch:gains', +1, 'disputes',
       '',
       mech_cadres=True, cadre_mediation='>0',
       probe={'n_villagers': 20000, 'mediation_success': 0.5}),
    _e('param:elder_resolution', 'tally:substitution_index', +1, 'disputes',
       '[not a lever]', mech_informal=True),
    _e('param:mediation_success', 'tally:substitution_index', -1, 'disputes',
       '[not a lever]'),
    # --- update_legitimacy
    _e('scratch:conflicts', 'scratch:losses', +1, 'update_legitimacy',
       "losses += conflict_loss exposure, exposure from the conflicts among one's live rules; "
       'cached while live rules unchanged', mech_fragmentation=True),
    _e('scratch:conflicts', 'scratch:losses_upper', +1, 'update_legitimacy',
       'losses_upper += conflict_blame_upper conflict_loss exposure',
       mech_fragmentation=True, conflict_blame_upper='>0'),
    _e('scratch:deviation', 'scratch:losses', +1, 'update_legitimacy',
       'losses += deviation_loss deviation_t'),
    _e('param:cadre_self_interest', 'scratch:losses', +1, 'update_legitimacy',
       '[not a lever]', mech_cadres=True),
    _e('scratch:misconduct', 'scratch:losses', +1, 'update_legitimacy',
       'losses += misconduct_loss misconduct; the route of official_misconduct / '
       'scandal_misconduct to legitimacy'),
    _e('param:conflict_blame_upper', 'scratch:losses_upper', +1, 'update_legitimacy',
       '[not a lever]', mech_fragmentation=True),
    _e('scratch:gains', 'villager:legitimacy', +1, 'update_legitimacy',
       "L' = L + gains (1 - L) - loss_weight losses L + s (nbr - L); zero at L = 1",
       mech_legitimacy=True),
    _e('scratch:losses', 'villager:legitimacy', -1, 'update_legitimacy',
       ';', mech_legitimacy=True),
    _e('param:loss_weight', 'villager:legitimacy', -1, 'update_legitimacy',
       '[not a lever]', mech_legitimacy=True),
    _e('scratch:gains', 'villager:trust_local', +1, 'update_legitimacy',
       'trust_local from gains - gains_upper, losses - losses_upper',
       mech_legitimacy=True, mech_trust_levels=True),
    _e('scratch:gains_upper', 'villager:trust_local', -1, 'update_legitimacy',
       "holding gains fixed, the upper share is removed from the township's",
       mech_legitimacy=True, mech_trust_levels=True),
    _e('scratch:losses', 'villager:trust_local', -1, 'update_legitimacy',
       '', mech_legitimacy=True, mech_trust_levels=True),
    _e('scratch:losses_upper', 'villager:trust_local', +1, 'update_legitimacy',
       '', mech_legitimacy=True, mech_trust_levels=True),
    _e('scratch:gains_upper', 'villager:trust_upper', +1, 'update_legitimacy',
       '', mech_legitimacy=True, mech_trust_levels=True),
    _e('scratch:losses_upper', 'villager:trust_upper', -1, 'update_legitimacy',
       '', mech_legitimacy=True, mech_trust_levels=True),
    _e('villager:support', 'villager:trust_local', +1, 'update_legitimacy',
       "T' = T + diffuse_support (support - T), after the level's own gains and losses",
       mech_legitimacy=True, mech_trust_levels=True, diffuse_support='>0'),
    _e('villager:support', 'villager:trust_upper', +1, 'update_legitimacy',
       '(see trust_local)', mech_legitimacy=True, mech_trust_levels=True,
       diffuse_support='>0'),
    _e('param:diffuse_support', 'villager:trust_local', 0, 'update_legitimacy',
       '[not a lever] toward support: up where trust is below it, down where above',
       mech_legitimacy=True, mech_trust_levels=True),
    _e('param:diffuse_support', 'villager:trust_upper', 0, 'update_legitimacy',
       '[not a lever]', mech_legitimacy=True, mech_trust_levels=True),
    # --- township_report
    _e('scratch:escalated', 'township:pressure', +1, 'township_report',
       'pressure = clip(pressure (1 - decay) + reprimand_pressure escalations/(N_t/100)); read '
       "by next step's Township.plan"),
    _e('param:reprimand_pressure', 'township:pressure', +1, 'township_report',
       '[not a lever]'),
    _e('param:pressure_decay', 'township:pressure', -1, 'township_report',
       '[not a lever]'),
    _e('scratch:n_kept', 'township:reported_compliance', +1, 'township_report',
       'true_t = sum n_kept / sum n_live; reported = true + s m (1 - true), slope 1 - s m > 0'),
    _e('rules:n_live', 'township:reported_compliance', -1, 'township_report',
       'denominator of true_t'),
    _e('township:self_interest', 'township:reported_compliance', +1, 'township_report',
       's misreporting (1 - true); zero if misreporting = 0 or true = 1'),
    _e('param:misreporting', 'township:reported_compliance', +1, 'township_report',
       '[not a lever]'),
    # --- collect
    _e('scratch:n_kept', 'measure:compliance', +1, 'collect',
       'compliance = total n_kept / total n_live; not a tally'),
    _e('rules:n_live', 'measure:compliance', -1, 'collect',
       ''),
    _e('rules:voluntary', 'measure:voluntary_share', +1, 'collect',
       'voluntary_share = count(voluntary) / total n_kept; not a tally'),
    _e('scratch:n_kept', 'measure:voluntary_share', -1, 'collect',
       'denominator: enforcement raises kept, not voluntary, so lowers it'),
    _e('tally:petitions_new', 'measure:petitions_new', +1, 'collect',
       'tallied by petitions'),
    _e('tally:petitions_escalated', 'measure:petitions_escalated', +1, 'collect',
       'tallied by petitions + county_review return visits'),
    _e('tally:petition_backlog', 'measure:petition_backlog', +1, 'collect',
       ''),
    _e('tally:petitions_collective', 'measure:petitions_collective', +1, 'collect',
       ''),
    _e('tally:protesters', 'measure:protesters', +1, 'collect',
       ''),
    _e('villager:legitimacy', 'measure:legitimacy_mean', +1, 'collect',
       'mean legitimacy'),
    _e('villager:grievance', 'measure:grievance_mean', +1, 'collect',
       'mean grievance'),
    _e('scratch:fidelity', 'measure:implementation_fidelity', +1, 'collect',
       'size-weighted mean of scratch.fidelity'),
    _e('tally:substitution_index', 'measure:substitution_index', +1, 'collect',
       'tallied by disputes'),
    _e('township:reported_compliance', 'measure:reporting_gap', +1, 'collect',
       'reporting_gap = compliance_reported - compliance_inspected; compliance_reported = '
       "size-weighted mean of townships' reported_compliance"),
    _e('tally:compliance_inspected', 'measure:reporting_gap', -1, 'collect',
       'tallied by county_review'),
    _e('tally:sanctions', 'measure:sanctions', +1, 'collect',
       'tallied by enforcement'),
)


# ---------------------------------------------------------------------------- the graph
def causal_graph(params: Mapping[str, Any] | None, edges: Iterable[Edge] | None = None):
    """The directed graph (networkx) of the edges live under ``params`` (None: every edge
    given); each edge carries its ``sign`` and the ``edges`` (several submodels may link the
    same two nodes: the graph's sign is theirs if they agree, 0 if they do not)."""
    import networkx as nx

    g = nx.DiGraph()
    for e in EDGES if edges is None else edges:
        if (params is not None and not e.live(params)) or e.source == e.target:
            continue
        if g.has_edge(e.source, e.target):
            d = g.edges[e.source, e.target]
            d["edges"].append(e)
            if d["sign"] != e.sign:
                d["sign"] = 0
        else:
            g.add_edge(e.source, e.target, sign=e.sign, edges=[e])
    return g


#: measure name endings that read the same node over another window or statistic
_WINDOWS = ("_final", "_early", "_peak", "_campaign_mean", "_campaign_rise",
            "_campaign_excess", "_before_withdrawal", "_mean")


#: measures of an event's course (a drop, a rise, a persistence, a time to recover): a
#: difference between two moments, not a level the paths reach, so not classed by them
EVENT_ENDINGS = ("_drop_withdrawal", "_scandal_drop", "_hysteresis_steps", "_scandal_persist",
                 "_campaign_rise", "_campaign_excess")


def outcome_node(measure: str, graph) -> str | None:
    """The node a summary measure reads (``compliance_final`` → ``measure:compliance``),
    None if the graph has none."""
    name = measure
    while True:
        if f"measure:{name}" in graph:
            return f"measure:{name}"
        for end in _WINDOWS:
            if name.endswith(end):
                name = name[: -len(end)]
                break
        else:
            return None


def lever_node(factor: str) -> str:
    return f"param:{factor}"


def causal_paths(graph, source: str, target: str, cutoff: int | None = None,
                 limit: int | None = None) -> list[tuple[tuple[str, ...], int]]:
    """The simple paths from ``source`` to ``target`` (at most ``cutoff`` edges, at most
    ``limit`` of them) with their signs. A path through an edge whose submodels disagree has
    sign 0."""
    import itertools

    import networkx as nx

    if source not in graph or target not in graph:
        return []
    found = nx.all_simple_paths(graph, source, target, cutoff=cutoff)
    return [(tuple(nodes), _sign(graph, nodes)) for nodes in itertools.islice(found, limit)]


def _sign(graph, nodes) -> int:
    sign = 1
    for a, b in zip(nodes, nodes[1:]):
        sign *= graph.edges[a, b]["sign"]
    return sign


def shortest_signed(graph, source: str, target: str, limit: int = 2_000
                    ) -> dict[int, tuple[str, ...]]:
    """The shortest simple path of each sign from ``source`` to ``target`` (paths taken in
    order of length, at most ``limit`` of them)."""
    import itertools

    import networkx as nx

    if source not in graph or target not in graph or not nx.has_path(graph, source, target):
        return {}
    out: dict[int, tuple[str, ...]] = {}
    for nodes in itertools.islice(nx.shortest_simple_paths(graph, source, target), limit):
        out.setdefault(_sign(graph, nodes), tuple(nodes))
        if len(out) == 3:
            break
    return out


def classify_in(params: Mapping[str, Any], factor: str, measure: str) -> dict[str, Any]:
    """:func:`classify` in the graph of the edges live under ``params``, remembered per
    set of live edges (a robustness study classifies the same test thousands of times)."""
    live = tuple(e.live(params) for e in EDGES)
    return _classify_cached(live, factor, measure)


@functools.lru_cache(maxsize=1024)
def _classify_cached(live: tuple[bool, ...], factor: str, measure: str) -> dict[str, Any]:
    graph = causal_graph(None, [e for e, on in zip(EDGES, live) if on])
    return classify(graph, factor, measure)


#: how many simple paths a classification counts at most (enough to meet both signs where
#: they exist; a check's paths are few and counted completely)
PATH_LIMIT = 200_000


def classify(graph, factor: str, measure: str, limit: int = PATH_LIMIT) -> dict[str, Any]:
    """The class of a test of ``factor`` on ``measure``: "check" when every causal path has
    one sign (the direction is written into the rules), "finding" when paths of both signs
    meet (or one edge's sign is undetermined), "no path" when the lever cannot reach the
    outcome, "event" for a measure of an event's course (``EVENT_ENDINGS``). With the
    paths' counts by sign (``complete``: every simple path counted, else the first
    ``limit``) and the shortest route of each sign."""
    if measure.endswith(EVENT_ENDINGS):
        return {"class": "event", "target": None, "paths_positive": 0, "paths_negative": 0,
                "paths_undetermined": 0, "complete": True, "sign": None, "shortest": {}}
    target = outcome_node(measure, graph)
    paths = causal_paths(graph, lever_node(factor), target, limit=limit) if target else []
    counts = {s: sum(1 for _, x in paths if x == s) for s in (1, -1, 0)}
    signs = {s for s, n in counts.items() if n}
    cls = ("no path" if not paths else "check" if signs in ({1}, {-1}) else "finding")
    if cls == "check" and len(paths) >= limit:
        cls = "check (paths counted up to the limit)"
    routes = shortest_signed(graph, lever_node(factor), target) if target else {}
    return {"class": cls, "target": target, "paths_positive": counts[1],
            "paths_negative": counts[-1], "paths_undetermined": counts[0],
            "complete": len(paths) < limit,
            "sign": (1 if signs == {1} else -1 if signs == {-1} else 0) if paths else None,
            "shortest": {("+" if s > 0 else "-" if s < 0 else "?"): " → ".join(r)
                         for s, r in routes.items()}}


# ---------------------------------------------------------------------- numerical check
def _read(model, s, node: str) -> float:
    kind, name = node.split(":", 1)
    if kind == "param":
        return float(model.p[name])
    if node == "villager:pet_level":  # the level of a pending petition: at the county?
        v = model.villagers
        return float(np.mean((v.pet_age >= 0) & (v.pet_level == 1)))
    if kind == "villager":
        return float(np.mean(getattr(model.villagers, name)))
    if kind == "rules":
        return float(np.mean(getattr(model.rules, name)))
    if kind == "township":
        return float(np.mean([getattr(t, name) for t in model.townships]))
    if node == "scratch:conflicts" and s.local is not None:  # second form: per village
        return float(np.mean(s.local[1]))
    if kind == "scratch":
        value = getattr(s, name)
        return float(np.mean(value)) if value is not None else float("nan")
    if kind == "tally":
        return float(np.sum(s.tally.get(name, 0.0)))
    if kind == "measure":
        return float(model.observer.rows[-1][name])
    raise ValueError(f"unknown node kind {kind!r} in {node!r}")


def _up(arr: np.ndarray, delta: float) -> None:
    """Raise an array in place: a number by ``delta`` plus a share ``2 delta`` of itself, an
    integer by one, a flag set on every fifth element."""
    if arr.dtype == bool:
        arr[::5] = True
    elif np.issubdtype(arr.dtype, np.integer):
        arr += 1
    else:  # a stock in [0, 1] by about delta, a count or capacity by a share 2 x delta
        arr += (delta + 2 * delta * np.abs(arr)).astype(arr.dtype)


def _raise(model, s, node: str, delta: float) -> None:
    """Raise ``node`` in ``model`` (and the step's scratch ``s``): a parameter by ``delta``
    of its range (an integer one by one), a state by :func:`_up`."""
    from ruralgov.model.params import REGISTRY

    kind, name = node.split(":", 1)
    if kind == "param":
        spec, value = REGISTRY[name], model.p[name]
        if spec.type == "int":
            model.p[name] = value + 1
        else:
            span = (spec.hi - spec.lo) if spec.hi is not None and spec.lo is not None else 1.0
            step = max(2 * delta * abs(value), 2 * delta * min(span, 1.0))
            model.p[name] = min(value + step, spec.hi) if spec.hi is not None else value + step
    elif node == "villager:pet_level":  # every other petition pending at a township
        v = model.villagers           # is at the county instead
        at_township = np.flatnonzero((v.pet_age >= 0) & (v.pet_level == 0))[::2]
        v.pet_level[at_township] = 1
    elif node == "rules:department":  # every rule issued by a department of its own
        model.rules.department[:] = np.arange(model.rules.department.size)
    elif kind in ("villager", "rules"):
        _up(getattr(model.villagers if kind == "villager" else model.rules, name), delta)
    elif kind == "township":
        for t in model.townships:
            setattr(t, name, getattr(t, name) + delta)
    elif kind == "scratch":
        value = getattr(s, name)
        if value is None:
            raise ValueError(f"{node} is not set before the submodel runs: an intermediate "
                             "of the submodel, checked through its inputs")
        _up(value, delta)
        if name == "conflicts" and s.local is not None:  # and where they conflict
            _up(s.local[1], delta)
    else:
        raise ValueError(f"a {kind} node cannot be raised: {node!r}")


@functools.lru_cache(maxsize=64)
def _warm(items: tuple, seed: int, warmup: int):
    """A model of these parameters after ``warmup`` steps (kept: callers copy it)."""
    from ruralgov.model import RuralGovernanceModel

    model = RuralGovernanceModel(seed=seed, collect_detail=False, **dict(items))
    for _ in range(warmup):
        model.step()
    return model


def _response(edge: Edge, params: dict, seed: int, warmup: int, delta: float) -> float:
    from ruralgov.model import RuralGovernanceModel
    from ruralgov.model.state import Scratch

    if edge.submodel == "initialise":
        name = edge.source.split(":", 1)[1]
        a = RuralGovernanceModel(seed=seed, collect_detail=False, **params)
        value = a.p[name]
        step = 1 if isinstance(value, int) and not isinstance(value, bool) else delta
        b = RuralGovernanceModel(seed=seed, collect_detail=False, **{**params, name: value + step})
        return _read(b, None, edge.target) - _read(a, None, edge.target)
    model = copy.deepcopy(_warm(tuple(sorted(params.items())), seed, warmup))
    s = Scratch.fresh(model.structure.n)
    model.scratch = s
    names = [f.__name__ for f in model.submodels]
    at = names.index(edge.submodel)
    for f in model.submodels[:at]:
        f(model, s)
    (a, sa), (b, sb) = copy.deepcopy((model, s)), copy.deepcopy((model, s))
    _raise(b, sb, edge.source, delta)
    for m in (a, b):  # what the step would reuse is made again from the (raised) inputs
        m.cache.exposure = m.cache.conflict_key = None
    a.submodels[at](a, sa)
    b.submodels[at](b, sb)
    return _read(b, sb, edge.target) - _read(a, sa, edge.target)


def edge_response(edge: Edge, params: Mapping[str, Any], seeds: Iterable[int] = (0, 1, 2),
                  warmup: int = 24, delta: float = 0.05) -> float:
    """The target's mean change when the submodel of ``edge`` runs from the same state and
    draws with its source raised by ``delta`` (an int parameter by one), over ``seeds``: the
    sign of the edge as the code has it (0: no effect seen). The state is that of a county
    of ``params`` (with the edge's ``when`` and ``probe``) after ``warmup`` steps; an edge of
    the initialisation compares two new counties."""
    from ruralgov.model.params import REGISTRY

    params = {**params, **edge.probe}
    for k, v in edge.when.items():
        if not _holds(params.get(k, REGISTRY[k].default), v):
            if isinstance(v, str):
                raise ValueError(f"{edge}: its probe must set {k} {v}")
            params[k] = v
    return float(np.mean([_response(edge, params, seed, warmup, delta) for seed in seeds]))


# ---------------------------------------------------------------------- for readers
def edges_markdown() -> str:
    """The edges as a Markdown table, by submodel in the order of a step (docs/causal.md)."""
    rows = ["| submodel | from | to | sign | where | rule |", "|---|---|---|---|---|---|"]
    for e in EDGES:
        when = ", ".join(f"{k} {v}" if isinstance(v, str) else f"{k} = {v}"
                         for k, v in e.when.items())
        rule = e.rule.replace("|", "/")
        sign = "+" if e.sign > 0 else "−" if e.sign < 0 else "±"
        rows.append(f"| {e.submodel} | `{e.source}` | `{e.target}` | {sign} | {when} | "
                    f"{rule} |")
    return "\n".join(rows) + "\n"


def describe(params: Mapping[str, Any], factor: str, measure: str) -> str:
    """A test's causal class and its shortest path of each sign, as lines for a person."""
    c = classify_in(params, factor, measure)
    if c["class"] == "event":
        return (f"{factor} → {measure}: a measure of an event's course, not a level the "
                "paths reach")
    if c["target"] is None:
        return f"{factor} → {measure}: no node of the causal graph reads this measure"
    lines = [f"{factor} → {measure} ({c['target']}): {c['class']} — "
             f"{c['paths_positive']:,} paths raise it, {c['paths_negative']:,} lower it, "
             f"{c['paths_undetermined']:,} through an edge of undetermined sign"
             + ("" if c["complete"] else f" (the first {PATH_LIMIT:,} paths)")]
    for sign, route in c["shortest"].items():
        lines.append(f"  shortest {sign}: {route}")
    return "\n".join(lines)

