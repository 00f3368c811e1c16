"""The model's state, declared in one place (docs/ODD.md section 2).

* [`Structure`][ruralgov.model.state.Structure] — who lives where and who knows whom: fixed
  for a run;
* [`Villagers`][ruralgov.model.state.Villagers] — one length-N array per villager state
  variable;
* [`Rules`][ruralgov.model.state.Rules] — the formal rules (length K) and each villager's
  behaviour toward each rule (K x N, rule-major: a rule's row is contiguous);
* [`Cache`][ruralgov.model.state.Cache] — quantities derived from the state that change only
  when the set of live rules (or the assistance rolls) changes;
* [`Scratch`][ruralgov.model.state.Scratch] — the per-step temporaries through which the
  submodels of one step hand results to each other, made fresh at the start of every step.

Township governments and county departments are Mesa agents and hold their own state
([`ruralgov.model.agents`][ruralgov.model.agents]).

Every field says what it holds; a submodel reads or writes nothing else besides the parameters
``model.p``, the generator ``model.rng`` and the government agents. All per-county
parameters are read from ``model.p`` each step (ODD §5.3: they may change between steps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ruralgov.model.network import Population, Ties

__all__ = ["F32", "Structure", "Villagers", "Rules", "Cache", "Scratch"]

F32 = np.float32


def _doc(text: str, **kw: Any) -> Any:
    return field(metadata={"doc": text}, **kw)


@dataclass
class Structure:
    """The county's fixed structure: population, network and how villagers are grouped."""

    population: Population = _doc("the population the model was built from")
    n: int = _doc("number of villagers N")
    township: np.ndarray = _doc("int, N: each villager's township")
    village: np.ndarray = _doc("int, N: each villager's village")
    lineage: np.ndarray = _doc("int, N: each villager's lineage (宗族)")
    elder: np.ndarray = _doc("bool, N: lineage elders (their ties weigh more)")
    n_townships: int = _doc("number of townships T")
    n_villages: int = _doc("number of villages")
    township_size: np.ndarray = _doc("int, T: villagers per township")
    village_size: np.ndarray = _doc("int, villages: villagers per village")
    ties: Ties = _doc("the social network: influence weights and exact neighbour counts")
    weights: sp.csr_matrix = _doc("N x N row-stochastic influence weights (elders weighted)")
    isolated: np.ndarray = _doc("int: villagers without ties (no social pull)")
    township_sorted: bool = _doc("villagers are ordered by township (values reach them by "
                                 "np.repeat instead of a gather)")
    township_start: np.ndarray = _doc("int, T: first villager of each township when sorted")
    lineage_strength: np.ndarray = _doc("float32, villages: strength of the village's lineages "
                                        "(1 unless lineage_strength_sd > 0)")
    blocks: list = _doc("slices of villagers whose K x block temporaries stay in cache")
    colours: list = _doc("random-sequential updating: independent sets of a graph colouring "
                         "with their rows of the counting matrices; empty when synchronous")

    def to_villagers(self, per_township: np.ndarray) -> np.ndarray:
        """Per-township values (length T, or a T x K table) as per-villager values (length N,
        or K x N)."""
        if per_township.ndim == 1:
            if self.township_sorted:
                return np.repeat(per_township, self.township_size)
            return per_township[self.township]
        table = np.ascontiguousarray(per_township.T)
        if self.township_sorted:
            return np.repeat(table, self.township_size, axis=1)
        return np.take(table, self.township, axis=1)

    def township_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of a per-villager array over each township (float64, length T)."""
        if self.township_sorted:
            return np.add.reduceat(values, self.township_start).astype(np.float64)
        return np.bincount(self.township, weights=values, minlength=self.n_townships)


@dataclass
class Villagers:
    """Villager state variables, one length-N array each."""

    hardship: np.ndarray = _doc("float32 in [0, 1]: material hardship (shocks and recovery "
                                "around hardship_base)")
    hardship_base: np.ndarray = _doc("float32 in [0, 1]: structural hardship (fixed)")
    risk_aversion: np.ndarray = _doc("float32 in [0, 1]: risk aversion (fixed)")
    cost_multiplier: np.ndarray = _doc("float32 > 0: personal multiplier of rule costs "
                                       "(fixed, mean 1)")
    mobilisation: np.ndarray = _doc("float32: threshold share of protesting neighbours to "
                                    "join a protest (fixed)")
    legitimacy: np.ndarray = _doc("float32 in [0, 1]: perceived legitimacy of the formal "
                                  "institutions (a stock)")
    attachment: np.ndarray = _doc("float32 in [0, 1]: attachment to informal norms")
    grievance: np.ndarray = _doc("float32 in [0, 1]: accumulated grievance")
    deterrence: np.ndarray = _doc("float32 in [0, 1]: remembered sanction (decays)")
    stage: np.ndarray = _doc("int8: graduated-enforcement record, 0 none, 1 persuaded, "
                             "2 warned, 3 sanctioned")
    assisted: np.ndarray = _doc("bool: on the minimum-income assistance rolls (低保)")
    effective_hardship: np.ndarray = _doc("float32: hardship after services and assistance")
    pet_age: np.ndarray = _doc("int32: steps a pending petition has waited, -1 none")
    pet_level: np.ndarray = _doc("int8: level of a pending petition, 0 township, 1 county")
    pet_dept: np.ndarray = _doc("int16: county department an escalated petition went to")
    protesting: np.ndarray = _doc("bool: protesting this step")
    detained_for: np.ndarray = _doc("int16: steps of detention left")
    trust_local: np.ndarray = _doc("float32 in [0, 1]: trust in one's township (a stock; "
                                   "mech_trust_levels)")
    trust_upper: np.ndarray = _doc("float32 in [0, 1]: trust in the county and above (a "
                                   "stock; mech_trust_levels)")
    support: np.ndarray = _doc("float32 in [0, 1]: the villager's diffuse support, toward "
                               "which both trusts return at the rate diffuse_support (fixed)")
    silenced_for: np.ndarray = _doc("int16: steps a suppressed petitioner stays silent "
                                    "(mech_interception; the hidden backlog)")
    last_petition: np.ndarray = _doc("int32: the step of the villager's latest new petition "
                                     "(to the township or over its head), -1 none")
    matter_until: np.ndarray = _doc("int32: the last step at which the villager has a matter "
                                    "to petition about (one arisen in their village at most "
                                    "matter_window - 1 steps before), -1 none")


@dataclass
class Rules:
    """The formal rules (length K; the campaign rule, if any, is the last) and each villager's
    behaviour toward each (K x N)."""

    department: np.ndarray = _doc("int16, K: issuing county department")
    cost: np.ndarray = _doc("float32, K: compliance cost of the rule (before the villager's "
                            "multiplier)")
    enforcement: np.ndarray = _doc("float32, K: enforcement intensity")
    kind: list = _doc("K: 'routine' or 'campaign'")
    routine: np.ndarray = _doc("bool, K: routine rules (not the campaign)")
    active: np.ndarray = _doc("bool, K: in force this step")
    stance: np.ndarray = _doc("float32, lineages x K: lineage elders' stance toward each rule, "
                              "-1 opposed .. 1 supportive")
    pair_draws: np.ndarray = _doc("float32, K x K: fixed uniform draws deciding which rule "
                                  "pairs conflict (diagonal 1: never)")
    place_draws: np.ndarray | None = _doc("float32, K(K-1)/2 x villages: fixed uniform draws "
                                          "deciding where each pair of rules conflicts "
                                          "(second form; made when first needed)")
    applies: np.ndarray = _doc("bool, K x N: the rule applies to the villager")
    live: np.ndarray = _doc("bool, K x N: applies and active")
    n_live: np.ndarray = _doc("int32, N: live rules per villager")
    comply: np.ndarray = _doc("bool, K x N: keeps the rule (last decision)")
    voluntary: np.ndarray = _doc("bool, K x N: keeps it and would without enforcement")
    habit: np.ndarray | None = _doc("float32, K x N: habit stock toward each rule "
                                    "(habit_memory > 0; made when first needed)", default=None)

    @property
    def k(self) -> int:
        """Number of rules K."""
        return len(self.kind)


@dataclass
class Cache:
    """Derived quantities, recomputed only when what they depend on changes."""

    live_key: bytes | None = _doc("which rules were active when the entries below were made",
                                  default=None)
    subject: np.ndarray | None = _doc("float32, K x N: weighted neighbours subject to each "
                                      "live rule", default=None)
    conflicts: np.ndarray | None = _doc("bool, K x K: conflicting pairs of active rules",
                                        default=None)
    local: tuple | None = _doc("second form: the pairs of rules that conflict somewhere and, "
                               "per villager, whether each conflicts in their village",
                               default=None)
    conflict_pairs: np.ndarray | None = _doc("int, R: pairs of active rules conflicting, "
                                             "per run", default=None)
    exposure: np.ndarray | None = _doc("float32, N: a villager's exposure to contradictory "
                                       "demands", default=None)
    exposure_mean: Any = _doc("mean of exposure, per run", default=0.0)
    conflict_key: tuple | None = _doc("the active rules and fragmentation parameters the "
                                      "conflicts were made with", default=None)
    services: tuple | None = _doc("(excluded villagers, assistance measures), fixed between "
                                  "reviews of the rolls", default=None)
    services_key: tuple | None = _doc("the service parameters ``services`` was made with",
                                      default=None)

    def invalidate_rules(self, key: bytes) -> None:
        """The set of active rules changed: forget what depended on it."""
        self.live_key = key
        self.subject = self.conflicts = self.local = self.exposure = None
        self.conflict_key = None


@dataclass
class Scratch:
    """Per-step temporaries, made fresh at the start of each step (``model.scratch`` keeps the
    last step's for inspection). Written by the submodel named, read by later ones."""

    gains: np.ndarray = _doc("float32, N: this step's legitimacy gains (all submodels)")
    losses: np.ndarray = _doc("float32, N: this step's legitimacy losses (all submodels)")
    grievance_in: np.ndarray = _doc("float32, N: grievance from enforcement (enforcement → "
                                    "update_grievance)")
    gains_upper: np.ndarray = _doc("float32, N: the part of ``gains`` owed to the county and "
                                   "above (county answers, concessions)")
    losses_upper: np.ndarray = _doc("float32, N: the part of ``losses`` owed to the county "
                                    "and above (county waiting, contradictory directives)")
    tally: dict = _doc("counts and rates of this step's events, by measure name (observer)")
    # schedule
    withdrawn: bool = _doc("routine enforcement withdrawn", default=False)
    enforcement_now: np.ndarray | None = _doc("float32, K: enforcement in force", default=None)
    scandal_active: bool = _doc("a misconduct scandal is under way", default=False)
    misconduct: float = _doc("officials' visible misconduct", default=0.0)
    kept_prev: np.ndarray | None = _doc("bool, K x N: last step's behaviour on this step's "
                                        "live rules", default=None)
    # township_plan: one value per township
    fidelity: np.ndarray | None = _doc("float32, T: implementation fidelity", default=None)
    effort: np.ndarray | None = _doc("float32, T: enforcement effort", default=None)
    fit: np.ndarray | None = _doc("float32, T: share of rule cost fitted away", default=None)
    deviation: np.ndarray | None = _doc("float32, T: deviation from the rules", default=None)
    petition_capacity: np.ndarray | None = _doc("T: petitions answered per step", default=None)
    dispute_capacity: np.ndarray | None = _doc("T: disputes resolved per step", default=None)
    suppress: np.ndarray | None = _doc("float32, T: chance of suppressing a petition",
                                       default=None)
    cadre_orientation: np.ndarray | None = _doc("float32, villages: how far cadres answer to "
                                                "villagers (0 with mech_cadres off)",
                                                default=None)
    detect: np.ndarray | None = _doc("float32, T x K: detection probability", default=None)
    # informal_signal / compliance_decision (read by enforcement, update_grievance, observer)
    signal: np.ndarray | None = _doc("float32, K x N: informal norm toward each rule",
                                     default=None)
    stance_t: np.ndarray | None = _doc("float32, K x lineages: stance, transposed",
                                       default=None)
    p_detect: np.ndarray | None = _doc("float32, K x N: detection probability per villager",
                                       default=None)
    cost_scale: np.ndarray | None = _doc("float32, N: villager's factor on rule costs",
                                         default=None)
    conflicts: np.ndarray | None = _doc("bool, K x K: conflicting rule pairs (second form: "
                                        "conflicting in some village)", default=None)
    local: tuple | None = _doc("second form: conflicting pairs and where (cache.local)",
                               default=None)
    cost: np.ndarray | None = _doc("float32, K x N: cost of each rule to each villager",
                                   default=None)
    kept: np.ndarray | None = _doc("bool, K x N: live rules kept this step", default=None)
    n_kept: np.ndarray | None = _doc("int32, N: live rules kept", default=None)
    colour_order: np.ndarray | None = _doc("random-sequential: the order of the colour sets",
                                           default=None)
    burden: np.ndarray | None = _doc("float32, N: cost of the rules kept, as it feeds "
                                     "grievance (update_grievance)", default=None)
    # petitions / county_review / disputes / protest
    handled: np.ndarray | None = _doc("T: cases a township handled (petitions, disputes)",
                                      default=None)
    escalated: np.ndarray | None = _doc("int, T: petitions escalated from each township",
                                        default=None)
    backlog: np.ndarray | None = _doc("int, T: petitions left waiting at each township",
                                      default=None)
    new_escalations: np.ndarray | None = _doc("int: villagers whose petition was escalated",
                                              default=None)
    village_protesters: np.ndarray | None = _doc("int, villages: protesters per village",
                                                 default=None)

    @classmethod
    def fresh(cls, n: int) -> Scratch:
        return cls(gains=np.zeros(n, dtype=F32), losses=np.zeros(n, dtype=F32),
                   grievance_in=np.zeros(n, dtype=F32), gains_upper=np.zeros(n, dtype=F32),
                   losses_upper=np.zeros(n, dtype=F32), tally={})
