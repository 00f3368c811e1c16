"""Initialisation (docs/ODD.md section 5): the county's structure, villagers, rules and
governments at step 0.

Every random draw uses the model's generator, in this order: population (if generated),
colouring (random-sequential only), villager attributes, rules, townships' self-interest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ruralgov.model.agents import Department, Township
from ruralgov.model.network import Population, Ties, colour_classes, generate_population
from ruralgov.model.state import F32, Rules, Structure, Villagers

if TYPE_CHECKING:  # pragma: no cover
    from ruralgov.model.county import RuralGovernanceModel

__all__ = ["population", "structure", "villagers", "rules", "governments", "BLOCK"]

#: Villagers per block of the synchronous compliance decision: the block's K x BLOCK
#: temporaries stay in the processor's cache. A constant, so results never depend on it.
BLOCK = 32_768


def _beta(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size=n).astype(F32)


def population(rng: np.random.Generator, p: dict[str, Any]) -> Population:
    """A generated county from the structure and network parameters (ODD 7.16)."""
    return generate_population(
        rng, n_villagers=p["n_villagers"], n_townships=p["n_townships"],
        villages_per_township=p["villages_per_township"],
        lineages_per_village=p["lineages_per_village"],
        ties_within_lineage=p["ties_within_lineage"],
        ties_within_village=p["ties_within_village"],
        ties_between_villages=p["ties_between_villages"],
        cross_township_share=p["cross_township_share"],
        elder_share=p["elder_share"], elder_extra_ties=p["elder_extra_ties"])


def structure(rng: np.random.Generator, pop: Population, p: dict[str, Any]) -> Structure:
    """Groupings, influence weights (ties to elders weigh elder_weight, rows sum to one),
    exact weighted neighbour counts and, for random-sequential updating, the independent sets
    of a colouring with their rows of the counting matrices."""
    n = pop.n
    ties = Ties(pop.adjacency, pop.elder, p["elder_weight"])
    pop.adjacency = ties.adjacency  # canonical CSR, shares indices with the weights
    township_size = np.bincount(pop.township, minlength=pop.n_townships)
    strength = np.ones(pop.n_villages, dtype=F32)
    if p["lineage_strength_sd"] > 0:  # lineages stronger in some villages than in others
        strength = np.clip(rng.spawn(1)[0].normal(1.0, p["lineage_strength_sd"],
                                                  pop.n_villages), 0.0, 2.0).astype(F32)
    colours = ([(c, ties.row_block(c)) for c in colour_classes(ties.adjacency, rng)]
               if p["random_sequential"] else [])
    return Structure(
        population=pop, n=n, township=pop.township, village=pop.village,
        lineage=pop.lineage, elder=pop.elder, n_townships=pop.n_townships,
        n_villages=pop.n_villages, township_size=township_size,
        village_size=np.bincount(pop.village, minlength=pop.n_villages), ties=ties,
        weights=ties.weights, isolated=np.flatnonzero(~ties.has_neighbours),
        township_sorted=bool(np.all(np.diff(pop.township) >= 0) and np.all(township_size > 0)),
        township_start=np.concatenate([[0], np.cumsum(township_size)[:-1]]),
        lineage_strength=strength,
        blocks=[slice(a, min(a + BLOCK, n)) for a in range(0, n, BLOCK)], colours=colours)


def villagers(rng: np.random.Generator, pop: Population, p: dict[str, Any],
              strength: np.ndarray | None = None) -> Villagers:
    """Villager attributes from field data where given, else drawn (ODD 5.1); grievance starts
    at the steady state of the hardship inflow. Trust in the township and in higher levels
    (with ``mech_trust_levels``) are drawn from a generator spawned from the model's, so the
    other draws are the same with or without them. ``strength`` (per village, when lineage
    strength varies) scales attachment."""
    n, attrs = pop.n, pop.attributes
    # the draws are made whether or not field data supply the attribute, so that the
    # villagers' other draws do not depend on which attributes the data have
    drawn = {"hardship": _beta(rng, p["hardship_mean"], 4.0, n),
             "risk_aversion": _beta(rng, p["risk_aversion_mean"], 4.0, n),
             "legitimacy": _beta(rng, p["legitimacy_initial"], 10.0, n),
             "norm_attachment": _beta(rng, p["norm_attachment_initial"], 10.0, n)}
    hardship, risk, legitimacy, attachment = (
        attrs.get(name, value).astype(F32) for name, value in drawn.items())
    sd = p["cost_heterogeneity"]
    cost_multiplier = rng.lognormal(-sd * sd / 2.0, sd, size=n).astype(F32)
    mobilisation = (rng.random(n) * p["mobilisation_max"]).astype(F32)
    if p["mech_trust_levels"]:  # drawn from a spawned generator: the model's own stream of
        extra = rng.spawn(1)[0]  # draws is the same with or without these
        trust_local = attrs.get("trust_local", _beta(extra, p["trust_local_initial"], 10.0, n))
        trust_upper = attrs.get("trust_upper", _beta(extra, p["trust_upper_initial"], 10.0, n))
        trust_local, trust_upper = trust_local.astype(F32), trust_upper.astype(F32)
        support = np.clip(extra.normal(p["diffuse_support_level"], p["diffuse_support_sd"], n),
                          0.0, 1.0).astype(F32)  # drawn last: the trusts are the same without
    else:
        trust_local, trust_upper = legitimacy.copy(), legitimacy.copy()
        support = np.full(n, p["diffuse_support_level"], dtype=F32)
    grievance = np.clip(hardship * (1.0 - legitimacy) * p["hardship_grievance"]
                        / max(p["grievance_decay"], 0.01), 0.0, 1.0).astype(F32)
    if strength is not None:  # strong lineages, attached villagers
        attachment = np.clip(attachment * strength[pop.village], 0.0, 1.0).astype(F32)
    return Villagers(
        hardship=hardship, hardship_base=hardship.copy(), risk_aversion=risk,
        cost_multiplier=cost_multiplier,
        mobilisation=mobilisation, legitimacy=legitimacy, attachment=attachment,
        grievance=grievance, deterrence=np.zeros(n, dtype=F32),
        stage=np.zeros(n, dtype=np.int8), assisted=np.zeros(n, dtype=bool),
        effective_hardship=hardship.copy(), pet_age=np.full(n, -1, dtype=np.int32),
        pet_level=np.zeros(n, dtype=np.int8), pet_dept=np.zeros(n, dtype=np.int16),
        protesting=np.zeros(n, dtype=bool), detained_for=np.zeros(n, dtype=np.int16),
        silenced_for=np.zeros(n, dtype=np.int16), trust_local=trust_local,
        trust_upper=trust_upper, support=support, last_petition=np.full(n, -1, dtype=np.int32),
        matter_until=np.full(n, -1, dtype=np.int32))


def rule_departments(n_departments: int, per: int, total: int = 0) -> list[int]:
    """The department issuing each routine rule: ``per`` rules from each department in turn
    (0, 0, 1, 1, ...), or with ``total`` > 0 a fixed set of ``total`` rules dealt round robin
    (rule k from department k mod n_departments).

    Raises:
        ValueError: ``total`` below the number of departments (one would issue nothing)."""
    if total == 0:
        return list(np.repeat(np.arange(n_departments), per))
    if total < n_departments:
        raise ValueError(f"rules_total = {total} is below n_departments = {n_departments}: "
                         "every department issues at least one rule (0: rules_per_department "
                         "each)")
    return [k % n_departments for k in range(total)]


def rules(rng: np.random.Generator, pop: Population, p: dict[str, Any]) -> Rules:
    """n_departments x rules_per_department routine rules (or a fixed set of rules_total split
    among the departments) and, with ``campaign``, one campaign rule (ODD 5.2): costs,
    enforcement, the lineages' stance, which pairs may conflict, whom the campaign targets,
    the opportunists who start out evading and, with ``department_reach`` below 1, which
    villagers each department's rules reach."""
    n = pop.n
    department = rule_departments(p["n_departments"], p["rules_per_department"],
                                  p["rules_total"])
    k_routine = len(department)
    d = p["n_departments"]
    cost = list(p["rule_cost"] * (0.5 + rng.random(k_routine)))
    enforcement = [p["enforcement"]] * k_routine
    compat_mean = [p["norm_compatibility"]] * k_routine
    kind = ["routine"] * k_routine
    if p["campaign"]:
        department.append(0)  # the land / urban-management department
        cost.append(p["campaign_cost"] * (1.0 - p["compensation"]))
        enforcement.append(p["campaign_enforcement"])
        compat_mean.append(p["campaign_compatibility"])
        kind.append("campaign")
    k = len(kind)
    compat = rng.normal(np.asarray(compat_mean), p["norm_compatibility_sd"],
                        size=(pop.n_lineages, k))
    stance = np.clip(compat, -1.0, 1.0)
    stance += p["village_compact"] * (1.0 - stance)  # 村规民约
    u = np.triu(rng.random((k, k)), 1)
    applies = np.ones((k, n), dtype=bool)
    if p["campaign"]:
        applies[-1] = rng.random(n) < p["campaign_target_share"]
    routine = np.array([kk == "routine" for kk in kind])
    opportunist = rng.random(n) < p["opportunism"]
    if p["department_reach"] < 1:  # each department reaches a share of the villagers
        reached = rng.random((d, n)) < p["department_reach"]
        applies[:k_routine] = reached[np.asarray(department[:k_routine])]
    comply = np.repeat(~opportunist[None, :], k, axis=0)
    live = applies & routine[:, None]
    return Rules(
        department=np.asarray(department, dtype=np.int16),
        cost=np.minimum(np.asarray(cost, dtype=F32), F32(1.0)),
        enforcement=np.asarray(enforcement, dtype=F32), kind=kind, routine=routine,
        active=routine.copy(), stance=stance.astype(F32),
        pair_draws=(u + u.T + np.eye(k)).astype(F32),  # the diagonal never conflicts
        place_draws=None,
        applies=applies, live=live, n_live=live.sum(axis=0, dtype=np.int32), comply=comply,
        voluntary=comply.copy())


def governments(model: RuralGovernanceModel) -> tuple[list[Township], list[Department]]:
    """One Township agent per township (self-interest drawn around ``self_interest``) and one
    Department agent per county department, with the rules it issues."""
    p, rng, st = model.p, model.rng, model.structure
    if p["self_interest_sd"] > 0:
        si = np.clip(rng.normal(p["self_interest"], p["self_interest_sd"], st.n_townships),
                     0.0, 1.0)
    else:
        si = np.full(st.n_townships, p["self_interest"])
    townships = [Township(model, t, int(st.township_size[t]), si[t])
                 for t in range(st.n_townships)]
    department = model.rules.department
    departments = [Department(model, j, [kk for kk in range(model.rules.k)
                                        if department[kk] == j])
                   for j in range(p["n_departments"])]
    return townships, departments
