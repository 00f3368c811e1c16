"""The rural governance model: villagers in numpy arrays, governments as Mesa agents.

``RuralGovernanceModel.step()`` runs the submodels of docs/ODD.md section 3 in this order
(each method is named after its submodel): ``schedule``, ``township_plan``, ``services``,
``informal_signal``, ``compliance_decision``, ``enforcement``, ``participation``,
``update_grievance``, ``petitions``, ``county_review``, ``protest``, ``disputes``,
``update_legitimacy``, ``township_report``, ``collect``.

Villagers update *synchronously*: every villager decides from the state at the end of the last
step (last step's behaviour, legitimacy, grievance), then the submodels apply their effects in
the order above. Every random draw uses ``self.rng`` (the Mesa model's numpy generator).

Layout: per-villager state is a length-N array; per-villager-and-rule state is a K x N array
(rule-major), so each rule's row is contiguous and sums over rules are fast. No step loops
over villagers in Python.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
import pandas as pd

from ruralgov.model import equations
from ruralgov.model.agents import Department, Township
from ruralgov.model.network import Population, Ties, generate_population
from ruralgov.model.sampling import bernoulli_indices
from ruralgov.model.schema import validate_params

__all__ = ["RuralGovernanceModel", "new_seed"]

F32 = np.float32
#: Villagers per block of the synchronous compliance decision: the block's K x BLOCK
#: temporaries stay in the processor's cache. A constant, so results never depend on it.
BLOCK = 32_768


def new_seed() -> int:
    """A fresh seed from the operating system's entropy (recorded, so the run can be redone)."""
    return int(np.random.SeedSequence().entropy % (2**63))


def _beta(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size=n).astype(F32)


class RuralGovernanceModel(mesa.Model):
    """Villagers, township governments and county departments under formal and informal rules.

    Args:
        seed: integer seed of the model's random generator; ``None`` draws one from the
            operating system and stores it in ``self.seed`` so the run can be repeated.
        population: a [`Population`][ruralgov.model.network.Population] from field data; ``None``
            generates one from the structure and network parameters.
        collect_detail: also collect per-village, per-township, per-department and per-rule
            tables each step (``False`` keeps only the county series; faster for sweeps).
        **params: any parameter of [`ruralgov.model.params`][ruralgov.model.params] (``ruralgov params``
            lists them); unknown names and out-of-range values raise
            [`InputError`][ruralgov.model.schema.InputError].

    Example:
        >>> m = RuralGovernanceModel(seed=1, n_villagers=500)
        >>> for _ in range(5):
        ...     m.step()
        >>> 0.0 <= m.series().compliance.iloc[-1] <= 1.0
        True
    """

    def __init__(self, seed: int | None = None, *, population: Population | None = None,
                 collect_detail: bool = True, **params: Any):
        self.p = validate_params(params, source="model parameters")
        if seed is None:
            seed = new_seed()
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed = {seed!r} must be an integer")
        super().__init__(seed=int(seed))
        self.seed = int(seed)
        self.collect_detail = collect_detail
        p = self.p
        rng = self.rng

        # ---------------------------------------------------------------- population
        if population is None:
            population = generate_population(
                rng, n_villagers=p["n_villagers"], n_townships=p["n_townships"],
                villages_per_township=p["villages_per_township"],
                lineages_per_village=p["lineages_per_village"],
                ties_within_lineage=p["ties_within_lineage"],
                ties_within_village=p["ties_within_village"],
                ties_between_villages=p["ties_between_villages"],
                cross_township_share=p["cross_township_share"],
                elder_share=p["elder_share"], elder_extra_ties=p["elder_extra_ties"])
        else:
            # Field data fixes the structure: record what it is.
            p["n_villagers"] = population.n
            p["n_townships"] = population.n_townships
        self.population = population
        n = population.n
        self.n_villagers = n
        self.township = population.township
        self.village = population.village
        self.lineage = population.lineage
        self.elder = population.elder
        self.n_townships = population.n_townships
        self.n_villages = population.n_villages
        self.township_size = np.bincount(self.township, minlength=self.n_townships)
        self.village_size = np.bincount(self.village, minlength=self.n_villages)

        # Influence weights (ties to elders weigh elder_weight, rows sum to one) and exact
        # weighted neighbour counts (network.Ties).
        self.ties = Ties(population.adjacency, self.elder, p["elder_weight"])
        population.adjacency = self.ties.adjacency  # canonical CSR, shares indices with W
        self.weights = self.ties.weights
        self._isolated = np.flatnonzero(~self.ties.has_neighbours)  # no ties: no social pull
        # Generated populations are ordered by township: per-township values then reach the
        # villagers by np.repeat instead of a gather.
        self._township_sorted = bool(np.all(np.diff(self.township) >= 0)
                                     and np.all(self.township_size > 0))
        self._township_start = np.concatenate([[0], np.cumsum(self.township_size)[:-1]])
        self._blocks = [slice(a, min(a + BLOCK, n)) for a in range(0, n, BLOCK)]
        # Random-sequential updating: independent sets of a colouring, with their rows of the
        # counting matrices (network.Ties.row_block) prepared once.
        self._colours: list[tuple[np.ndarray, Any]] = []
        if p["random_sequential"]:
            from ruralgov.model.network import colour_classes

            self._colours = [(c, self.ties.row_block(c))
                             for c in colour_classes(self.ties.adjacency, rng)]

        # ---------------------------------------------------------------- villagers
        attrs = population.attributes
        self.hardship = attrs.get("hardship", _beta(rng, p["hardship_mean"], 4.0, n)).astype(F32)
        self.risk_aversion = attrs.get(
            "risk_aversion", _beta(rng, p["risk_aversion_mean"], 4.0, n)).astype(F32)
        self.legitimacy = attrs.get(
            "legitimacy", _beta(rng, p["legitimacy_initial"], 10.0, n)).astype(F32)
        self.attachment = attrs.get(
            "norm_attachment", _beta(rng, p["norm_attachment_initial"], 10.0, n)).astype(F32)
        sd = p["cost_heterogeneity"]
        self.cost_multiplier = rng.lognormal(-sd * sd / 2.0, sd, size=n).astype(F32)
        self.mobilisation = (rng.random(n) * p["mobilisation_max"]).astype(F32)
        # Grievance starts at the steady state of the hardship inflow.
        self.grievance = np.clip(
            self.hardship * (1.0 - self.legitimacy) * p["hardship_grievance"]
            / max(p["grievance_decay"], 0.01), 0.0, 1.0).astype(F32)
        self.deterrence = np.zeros(n, dtype=F32)
        self.stage = np.zeros(n, dtype=np.int8)  # 0 none, 1 persuaded, 2 warned, 3 sanctioned
        self.assisted = np.zeros(n, dtype=bool)
        self.effective_hardship = self.hardship.copy()
        self.pet_age = np.full(n, -1, dtype=np.int32)  # -1: no pending petition
        self.pet_level = np.zeros(n, dtype=np.int8)  # 0 township, 1 county
        self.pet_dept = np.zeros(n, dtype=np.int16)
        self.protesting = np.zeros(n, dtype=bool)
        self.detained_for = np.zeros(n, dtype=np.int16)  # steps of detention left

        # ---------------------------------------------------------------- rules
        d, r = p["n_departments"], p["rules_per_department"]
        k_routine = d * r
        department = list(np.repeat(np.arange(d), r))
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
        self.n_rules = k = len(kind)
        self.rule_department = np.asarray(department, dtype=np.int16)
        self.rule_cost = np.minimum(np.asarray(cost, dtype=F32), F32(1.0))
        self.rule_enforcement = np.asarray(enforcement, dtype=F32)
        self.rule_kind = kind
        n_lin = population.n_lineages
        compat = rng.normal(np.asarray(compat_mean), p["norm_compatibility_sd"], size=(n_lin, k))
        stance = np.clip(compat, -1.0, 1.0)
        stance += p["village_compact"] * (1.0 - stance)  # 村规民约
        self.stance = stance.astype(F32)  # elders' stance per lineage and rule
        u = np.triu(rng.random((k, k)), 1)
        self.pair_draws = (u + u.T + np.eye(k)).astype(F32)  # diagonal never conflicts
        # villager x rule state is K x N (rule-major)
        self.applies = np.ones((k, n), dtype=bool)
        if p["campaign"]:
            self.applies[-1] = rng.random(n) < p["campaign_target_share"]
        self.active = np.array([kk == "routine" for kk in kind])
        self.routine = self.active.copy()  # which rules are routine (not the campaign)
        self.live = self.applies & self.active[:, None]
        opportunist = rng.random(n) < p["opportunism"]
        self.comply = np.repeat(~opportunist[None, :], k, axis=0)
        self.voluntary = self.comply.copy()
        self.cost = np.zeros((k, n), dtype=F32)
        self._live_key: bytes | None = None  # which rules were active when live was cached

        # ---------------------------------------------------------------- governments
        si = np.clip(rng.normal(p["self_interest"], p["self_interest_sd"], self.n_townships),
                     0.0, 1.0) if p["self_interest_sd"] > 0 else np.full(
                         self.n_townships, p["self_interest"])
        self.townships = [Township(self, t, int(self.township_size[t]), si[t])
                          for t in range(self.n_townships)]
        self.departments = [Department(self, j, [kk for kk in range(k) if department[kk] == j])
                            for j in range(d)]
        self.township_self_interest = si.astype(F32)

        # ---------------------------------------------------------------- bookkeeping
        self._rows: list[dict[str, float]] = []
        self._detail: dict[str, list[pd.DataFrame]] = {
            "villages": [], "townships": [], "departments": [], "rules": []}
        self._gains = np.zeros(n, dtype=F32)
        self._losses = np.zeros(n, dtype=F32)
        self._g_in = np.zeros(n, dtype=F32)
        self._m: dict[str, float] = {}
        self.running = True

    # ==================================================================== schedule
    def step(self) -> None:
        """One step (one month, nominally): the submodels in ODD order."""
        self._gains.fill(0.0)
        self._losses.fill(0.0)
        self._g_in.fill(0.0)
        self._m = {}
        self.schedule()
        self.township_plan()
        self.services()
        self.informal_signal()
        self.compliance_decision()
        self.enforcement()
        self.participation()
        self.update_grievance()
        self.petitions()
        self.county_review()
        self.protest()
        self.disputes()
        self.update_legitimacy()
        self.township_report()
        self.collect()

    # ==================================================================== submodels
    def schedule(self) -> None:
        """Scheduled events. Routine rules are always active; the campaign rule is active in
        steps campaign_start + 1 .. campaign_start + campaign_duration. From step
        withdrawal_step + 1 on (if > 0) routine rules are no longer enforced. During a scandal
        (steps scandal_start + 1 .. scandal_start + scandal_duration) officials' visible
        misconduct is scandal_misconduct instead of official_misconduct."""
        p = self.p
        step = self.steps
        if p["campaign"]:
            on = p["campaign_start"] < step <= p["campaign_start"] + p["campaign_duration"]
            self.active[-1] = on
        self.withdrawn = 0 < p["withdrawal_step"] < step
        self.rule_enforcement_now = np.where(
            self.withdrawn & self.routine, F32(0.0), self.rule_enforcement)
        self.scandal_active = bool(
            p["scandal"] and p["scandal_start"] < step <= p["scandal_start"]
            + p["scandal_duration"])
        self.misconduct = (p["scandal_misconduct"] if self.scandal_active
                           else p["official_misconduct"])
        key = self.active.tobytes()
        if key != self._live_key:  # what depends only on which rules are live: cached
            self._live_key = key
            self.live = self.applies & self.active[:, None]
            self._n_live = self.live.sum(axis=0, dtype=np.int32)  # live rules per villager
            self._subject = None  # weighted neighbours subject to each rule (informal_signal)
            self._conflicts = None  # conflicting pairs (compliance_decision)
            self._exposure = None  # conflict exposure (update_legitimacy)
        # last step's behaviour on this step's live rules, read by informal_signal and
        # compliance_decision
        self._kept_prev = self.comply & self.live

    def _to_villagers(self, per_township: np.ndarray) -> np.ndarray:
        """Per-township values (length T, or a T x K table) as per-villager values (length N,
        or K x N)."""
        if per_township.ndim == 1:
            if self._township_sorted:
                return np.repeat(per_township, self.township_size)
            return per_township[self.township]
        table = np.ascontiguousarray(per_township.T)
        if self._township_sorted:
            return np.repeat(table, self.township_size, axis=1)
        return np.take(table, self.township, axis=1)

    def _township_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of a per-villager array over each township (float64, length T)."""
        if self._township_sorted:
            return np.add.reduceat(values, self._township_start).astype(np.float64)
        return np.bincount(self.township, weights=values, minlength=self.n_townships)

    def township_plan(self) -> None:
        """Each township sets its plan ([`Township.plan`][ruralgov.model.agents.Township.plan]);
        detection per township and rule is rule enforcement x fidelity x effort."""
        for t in self.townships:
            t.plan()
        ts = self.townships
        self.t_fidelity = np.array([t.fidelity for t in ts], dtype=F32)
        self.t_effort = np.array([t.effort for t in ts], dtype=F32)
        self.t_fit = np.array([t.fit for t in ts], dtype=F32)
        self.t_deviation = np.array([t.deviation for t in ts], dtype=F32)
        self.t_petition_capacity = np.array([t.petition_capacity for t in ts])
        self.t_dispute_capacity = np.array([t.dispute_capacity for t in ts])
        self.t_suppress = np.array([t.suppress_probability for t in ts], dtype=F32)
        if self.p["mech_enforcement"]:
            self.t_detect = (self.rule_enforcement_now[None, :]
                             * (self.t_fidelity * self.t_effort)[:, None]).astype(F32)
        else:
            self.t_detect = np.zeros((self.n_townships, self.n_rules), dtype=F32)

    def services(self) -> None:
        """Public services and minimum-income assistance relieve hardship (低保动态管理).

        The rolls are reviewed at step 1 and then every ``assistance_review`` steps: each
        eligible villager (hardship above the poverty line) is kept on the rolls with
        probability a = targeting_accuracy x (1 - s), s the township's self-interest
        (relationship-based allocation), and an ineligible one is put on them with probability
        (1 - a) x e / (1 - e), e the eligible share, so that the rolls keep about the size of the
        eligible population while errors of inclusion and exclusion grow with (1 - a)."""
        p = self.p
        if not p["mech_services"]:
            self.effective_hardship = self.hardship
            self.assisted[:] = False
            return
        review = p["assistance_review"]
        if self.steps == 1 or (review > 0 and (self.steps - 1) % review == 0):
            eligible = self.hardship > p["poverty_line"]
            s = self._to_villagers(self.township_self_interest)
            accuracy = p["targeting_accuracy"] * (1.0 - s)
            e = min(float(eligible.mean()), 0.5)
            leak = (1.0 - accuracy) * e / (1.0 - e)
            u = self.rng.random(self.n_villagers)
            self.assisted = np.where(eligible, u < accuracy, u < leak)
            self._services_cache = None
        if getattr(self, "_services_cache", None) is None:  # fixed between reviews
            eligible = self.hardship > p["poverty_line"]
            relief = F32(1.0 - p["service_coverage"] * p["service_relief"])
            self.effective_hardship = self.hardship * relief * np.where(
                self.assisted, F32(1.0 - p["assistance_relief"]), F32(1.0))
            excluded = np.flatnonzero(eligible & ~self.assisted)
            n_elig = int(eligible.sum())
            n_ass = int(self.assisted.sum())
            self._services_cache = (excluded, {
                "assisted_share": n_ass / self.n_villagers,
                "inclusion_error": (int((self.assisted & ~eligible).sum()) / n_ass
                                    if n_ass else 0.0),
                "exclusion_error": excluded.size / n_elig if n_elig else 0.0})
        excluded, measures = self._services_cache
        base = F32(p["service_gain"] * p["service_coverage"])
        self._gains += base
        self._gains += np.multiply(self.assisted, F32(p["service_gain"]), dtype=F32)
        self._losses[excluded] += F32(p["exclusion_loss"])
        self._m.update(measures)

    def informal_signal(self) -> None:
        """Informal norm towards each rule: neighbours' compliance (elders weighted) and the
        lineage elders' stance. Co-optation turns elders' stance towards support and raises
        everyone's attachment to informal rules (正式权力的非正式运作…消极的扩散)."""
        p = self.p
        if not p["mech_informal"]:
            self.signal = np.zeros((self.n_rules, self.n_villagers), dtype=F32)
            return
        c = p["cooptation"]
        if c > 0:
            self.stance += F32(p["cooptation_rate"] * c) * (F32(1.0) - self.stance)
            self.attachment += F32(p["cooptation_spread"] * c)
            np.clip(self.attachment, 0.0, 1.0, out=self.attachment)
        self._stance_t = np.ascontiguousarray(self.stance.T)  # K x lineages
        if self._subject is None:
            self._subject = self.ties.weighted_count(self.live)
        counted = self.ties.count_words(self._kept_prev)  # the sparse product, once
        self.signal = np.empty((self.n_rules, self.n_villagers), dtype=F32)
        for blk in self._blocks:  # the arithmetic, block by block (in cache)
            self.signal[:, blk] = self._signal_from(self.ties.unpack(counted, blk), blk)

    def _signal_from(self, peer: np.ndarray, cols: slice | np.ndarray) -> np.ndarray:
        """The informal signal of villagers ``cols`` from their weighted counts of neighbours
        keeping each rule (K x len(cols); overwritten)."""
        # share of the (weighted) neighbours *to whom the rule applies* who keep it; 0.5
        # (neutral) where no neighbour is subject to it, e.g. isolated villagers. Both are
        # exact weighted counts (network.Ties); the row normalisation of W cancels.
        subject = self._subject[:, cols]
        np.divide(peer, subject, out=peer, where=subject > 0)
        peer[subject <= 0] = 0.5
        stance = np.take(self._stance_t, self.lineage[cols], axis=1)
        elders = np.flatnonzero(self.elder[cols])
        return equations.informal_signal(peer, stance, self.p["peer_weight"], elders)

    def compliance_decision(self) -> None:
        """Each villager decides, for each live rule, to comply or evade (logistic choice on
        [`ruralgov.model.equations.compliance_utility`][ruralgov.model.equations.compliance_utility]). A complier is
        *voluntary* when the same draw would have complied without the enforcement term.

        Synchronous by default; with ``random_sequential`` the independent sets of a graph
        colouring decide one after another in a random order, each reading the peer norm from
        its neighbours' choices as they stand (made this step if their set went first)."""
        p = self.p
        n, k = self.n_villagers, self.n_rules
        self._p_detect = self._to_villagers(self.t_detect)  # K x N; read by enforcement too
        self._cost_scale = (self.cost_multiplier * (1.0 - self._to_villagers(self.t_fit))
                            * (0.5 + self.effective_hardship))
        if self._conflicts is None:  # depends only on which rules are active
            if p["mech_fragmentation"]:
                self._conflicts = equations.conflict_matrix(
                    self.pair_draws, self.rule_department, p["conflict_probability"],
                    p["coordination"], self.active)
            else:
                self._conflicts = np.zeros((k, k), dtype=bool)
        self.conflicts = self._conflicts
        if not self._colours:
            # synchronous: everyone at once, in blocks of villagers small enough for the
            # temporaries to stay in the processor's cache
            self.voluntary = np.empty((k, n), dtype=bool)
            for blk in self._blocks:
                self._choose(blk, self.signal)
        else:
            # who keeps which rule as the sets decide, packed as network.Ties counts it
            codes = self.ties.pack(self._kept_prev)
            self.voluntary = np.zeros((k, n), dtype=bool)
            self.colour_order = self.rng.permutation(len(self._colours))  # kept for inspection
            for c in self.colour_order:
                cols, block = self._colours[c]
                if p["mech_informal"]:
                    counted = self.ties.count_packed(codes, k, block)
                    self.signal[:, cols] = self._signal_from(self.ties.unpack(counted), cols)
                self._choose(cols, self.signal[:, cols])
                self.ties.pack(self.comply[:, cols] & self.live[:, cols], cols, codes)
        self._kept = self.comply & self.live  # fixed for the rest of the step
        self._n_kept = self._kept.sum(axis=0, dtype=np.int32)
        del self._kept_prev, self._cost_scale

    def _choose(self, cols: slice | np.ndarray, signal: np.ndarray) -> None:
        """Logistic choice of the villagers ``cols`` (a block or a colour set), given their
        informal signal; writes their ``comply``, ``voluntary`` and ``cost``."""
        p = self.p

        def sel(a):
            return a[..., cols]

        k = self.n_rules
        if p["mech_enforcement"]:
            sanction = equations.perceived_sanction(sel(self._p_detect), sel(self.deterrence),
                                                p["sanction_severity"], sel(self.risk_aversion))
        else:
            sanction = np.zeros((k, len(sel(self.deterrence))), dtype=F32)
        cost = np.multiply(self.rule_cost[:, None], sel(self._cost_scale), dtype=F32)
        np.minimum(cost, F32(2.0), out=cost)
        self.cost[:, cols] = cost
        load = (equations.conflict_load(sel(self._kept_prev), self.conflicts)
                if self.conflicts.any() else None)
        habit = sel(self.comply) if p["mech_habit"] else 0.5
        u_comply, enforced = equations.compliance_utility(
            base=p["base_compliance"], legitimacy=sel(self.legitimacy),
            w_legitimacy=p["w_legitimacy"], sanction=sanction,
            w_enforcement=p["w_enforcement"], attachment=sel(self.attachment),
            signal=sel(signal) if isinstance(cols, slice) else signal,
            w_norm=p["w_norm"], habit=habit, w_habit=p["w_habit"], cost=cost,
            w_cost=p["w_cost"], load=load, w_conflict=p["w_conflict"],
            misconduct=self.misconduct, w_misconduct=p["w_misconduct"])
        # u < logistic(U)  <=>  logit(u) < U: one logarithm per draw serves both comparisons
        z = equations.logit(self.rng.random(u_comply.shape, dtype=F32), out=None)
        comply = u_comply > z
        u_comply -= enforced
        voluntary = u_comply > z  # implies comply, because the enforced part is >= 0
        live = sel(self.live)
        now = sel(self.comply)
        np.copyto(now, comply, where=live)
        self.comply[:, cols] = now
        self.voluntary[:, cols] = voluntary & live

    def enforcement(self) -> None:
        """Detection of evaders, arbitrary hits on compliers, and graduated responses:
        persuade → warn → sanction (劝阻 → 警告 → 处罚). A villager who keeps every live rule
        this step has their record cleared; a detected evader moves one stage up."""
        p = self.p
        n = self.n_villagers
        self.deterrence *= F32(1.0 - p["deterrence_decay"])
        self.stage *= self._n_kept != self._n_live  # kept every live rule: record cleared
        zero = {"persuasions": 0, "warnings": 0, "sanctions": 0, "unfair_hits": 0}
        if not p["mech_enforcement"]:
            self._m.update(zero)
            return
        arb = p["arbitrariness"]
        if p["mech_fragmentation"]:
            arb += p["fragmentation_arbitrariness"] * equations.fragmentation_index(
                p["n_departments"], p["coordination"])
        arb = min(arb, 1.0)
        # each broken rule is detected with its probability, each kept one hit arbitrarily
        # with arb times it; broken and kept rules are disjoint, so "detected" and "hit" are
        # independent: one draw each per villager has the distribution of one per rule
        p_detected = np.empty(n, dtype=F32)
        p_hit = np.empty(n, dtype=F32)
        for blk in self._blocks:
            p = self._p_detect[:, blk]
            evading = self.live[:, blk] & ~self._kept[:, blk]
            p_detected[blk] = equations.any_event_probability(p, evading)
            p_hit[blk] = equations.any_event_probability(p * F32(arb), self._kept[:, blk])
        p = self.p
        detected = self.rng.random(n, dtype=F32) < p_detected
        hit = self.rng.random(n, dtype=F32) < p_hit
        unfair = np.flatnonzero(hit & ~detected)
        det = np.flatnonzero(detected)  # detections are few: work on their indices
        if p["mech_graduated"]:
            self.stage[det] = np.minimum(self.stage[det] + 1, 3)
            outcome = self.stage[det]
        else:
            outcome = np.full(det.size, 3, dtype=np.int8)
        persuaded, warned, sanctioned = (det[outcome == 1], det[outcome == 2],
                                         det[outcome == 3])
        self._gains[det[outcome <= 2]] += F32(p["fair_gain"])
        self._g_in[sanctioned] += F32(p["sanction_grievance"])
        felt = np.array([0.0, 0.3, 0.6, 1.0], dtype=F32)[outcome]
        self.deterrence[det] = np.maximum(self.deterrence[det], felt)
        self._losses[unfair] += F32(p["unfair_loss"])
        self._g_in[unfair] += F32(p["unfair_grievance"])
        self.deterrence[unfair] = np.maximum(self.deterrence[unfair], F32(0.6))
        self._m.update({"persuasions": int(persuaded.size), "warnings": int(warned.size),
                        "sanctions": int(sanctioned.size), "unfair_hits": int(unfair.size)})
        del self._p_detect  # a per-step temporary (K x N)

    def participation(self) -> None:
        """A share of villagers takes part in deliberation (民主参与): legitimacy rises and
        grievance is talked down (疏导情绪)."""
        p = self.p
        if not p["mech_participation"] or p["participation"] <= 0:
            self._m["participants"] = 0
            return
        part = bernoulli_indices(self.rng, self.n_villagers, p["participation"])
        self._gains[part] += F32(p["participation_gain"])
        self.grievance[part] *= F32(1.0 - p["participation_relief"])
        self._m["participants"] = int(part.size)

    def update_grievance(self) -> None:
        """G' = (1 - decay) G + hardship_grievance * h (1 - L) + burden_grievance * burden
        + this step's enforcement grievances, clipped to [0, 1]."""
        p = self.p
        burden = np.empty(self.n_villagers, dtype=F32)
        for blk in self._blocks:
            burden[blk] = np.multiply(self.cost[:, blk], self._kept[:, blk]).sum(axis=0)
        burden /= np.maximum(self._n_live, 1)
        g = self.grievance
        g *= F32(1.0 - p["grievance_decay"])
        g += F32(p["hardship_grievance"]) * self.effective_hardship * (1.0 - self.legitimacy)
        g += F32(p["burden_grievance"]) * burden.astype(F32)
        g += self._g_in
        np.clip(g, 0.0, 1.0, out=g)

    def _answer(self, idx: np.ndarray, relief: float) -> None:
        self.grievance[idx] *= F32(1.0 - relief)
        self._gains[idx] += F32(self.p["answer_gain"])
        self.pet_age[idx] = -1

    def _wait(self, idx: np.ndarray) -> None:
        self.pet_age[idx] += 1
        self._losses[idx] += F32(self.p["wait_loss"])
        self.grievance[idx] += F32(self.p["wait_grievance"])

    def petitions(self) -> None:
        """Aggrieved villagers who still trust the channel petition the township (上访); a
        petition is collective when enough weighted neighbours share the grievance. Each
        township answers pending petitions up to its petition capacity, suppresses some under
        pressure (劝返), and petitions left waiting escalation_wait steps go to the county, where
        a petitioner gives up after petition_patience more steps unanswered."""
        p = self.p
        m = self._m
        keys = ("petitions_new", "petitions_individual", "petitions_collective",
                "petitions_answered", "petitions_suppressed", "petitions_escalated",
                "petition_backlog")
        if not p["mech_contention"]:
            m.update(dict.fromkeys(keys, 0))
            m["response_time"] = float("nan")
            self._t_handled = np.zeros(self.n_townships)
            self._t_escalated = np.zeros(self.n_townships, dtype=np.int64)
            self._t_backlog = np.zeros(self.n_townships, dtype=np.int64)
            return
        aggrieved = self.grievance > p["petition_threshold"]
        new = (aggrieved & (self.pet_age < 0) & (self.legitimacy >= p["petition_trust"])
               & ~self.protesting & (self.detained_for == 0))
        new_idx = np.flatnonzero(new)
        n_coll = 0
        if new_idx.size:
            a = aggrieved.astype(F32)
            share = (self.weights[new_idx] @ a if new_idx.size * 16 < self.n_villagers
                     and self.n_villagers > 50_000 else (self.weights @ a)[new_idx])
            coll = share >= p["collective_threshold"]
            n_coll = int(coll.sum())
            self.pet_age[new_idx] = 0
            self.pet_level[new_idx] = 0
        m["petitions_new"] = int(new_idx.size)
        m["petitions_collective"] = n_coll
        m["petitions_individual"] = int(new_idx.size) - n_coll

        pending = np.flatnonzero((self.pet_age >= 0) & (self.pet_level == 0))
        tw = self.township[pending]
        backlog = np.bincount(tw, minlength=self.n_townships)
        answer_p = np.divide(self.t_petition_capacity, backlog,
                             out=np.zeros(self.n_townships), where=backlog > 0)
        np.minimum(answer_p, 1.0, out=answer_p)
        u = self.rng.random(pending.size)
        answered = u < answer_p[tw]
        suppressed = ~answered & (self.rng.random(pending.size) < self.t_suppress[tw])
        relief = p["answer_relief"]
        if p["mech_discretion"]:
            relief *= 1.0 - p["rigidity_penalty"] * (1.0 - p["discretion"])
        a_idx = pending[answered]
        m["response_time"] = float(self.pet_age[a_idx].mean() + 1) if a_idx.size else float("nan")
        self._answer(a_idx, relief)
        s_idx = pending[suppressed]
        self.grievance[s_idx] += F32(p["suppression_grievance"])
        self._losses[s_idx] += F32(p["suppression_loss"])
        self.deterrence[s_idx] = 1.0
        self.pet_age[s_idx] = -1
        w_idx = pending[~answered & ~suppressed]
        self._wait(w_idx)
        esc = w_idx[self.pet_age[w_idx] == p["escalation_wait"]]
        self.pet_level[esc] = 1
        self.pet_dept[esc] = self.rng.integers(0, len(self.departments), size=esc.size)
        self._t_escalated = np.bincount(self.township[esc], minlength=self.n_townships)
        self._t_handled = (np.bincount(tw[answered], minlength=self.n_townships)
                           + np.bincount(tw[suppressed], minlength=self.n_townships))
        self._t_backlog = np.bincount(self.township[w_idx], minlength=self.n_townships) - \
            self._t_escalated
        self._new_escalations = esc
        np.clip(self.grievance, 0.0, 1.0, out=self.grievance)
        m["petitions_answered"] = int(a_idx.size)
        m["petitions_suppressed"] = int(s_idx.size)
        m["petitions_escalated"] = int(esc.size)
        m["petition_backlog"] = int(w_idx.size - esc.size)

    def county_review(self) -> None:
        """County departments answer escalated petitions up to their capacity and inspect a
        random sample of villagers (inspected compliance, 隐患排查)."""
        p = self.p
        n_dep = len(self.departments)
        if p["mech_contention"]:
            # petitions escalated in this step reach the county next step
            pending = np.flatnonzero((self.pet_level == 1)
                                     & (self.pet_age > p["escalation_wait"]))
            dep = self.pet_dept[pending]
            backlog = np.bincount(dep, minlength=n_dep)
            cap = np.array([d.capacity for d in self.departments])
            answer_p = np.minimum(np.divide(cap, backlog, out=np.zeros(n_dep),
                                            where=backlog > 0), 1.0)
            answered = self.rng.random(pending.size) < answer_p[dep]
            self._answer(pending[answered], p["answer_relief"])
            waiting = pending[~answered]
            self._wait(waiting)
            gave_up = waiting[self.pet_age[waiting] >= p["escalation_wait"] + p["petition_patience"]]
            self.pet_age[gave_up] = -1
            np.clip(self.grievance, 0.0, 1.0, out=self.grievance)
            self._m["petitions_abandoned"] = int(gave_up.size)
            received = np.bincount(self.pet_dept[self._new_escalations], minlength=n_dep)
            ans = np.bincount(dep[answered], minlength=n_dep)
            left = np.bincount(dep[~answered], minlength=n_dep)
            for d in self.departments:
                d.received, d.answered, d.backlog = (int(received[d.index]),
                                                     int(ans[d.index]), int(left[d.index]))
            self._m["county_answered"] = int(answered.sum())
            self._m["county_backlog"] = int((~answered).sum()) - int(gave_up.size)
        else:
            self._m["petitions_abandoned"] = 0
            self._m["county_answered"] = 0
            self._m["county_backlog"] = 0
        sample = bernoulli_indices(self.rng, self.n_villagers, p["inspection_rate"])
        n_live = int(self._n_live[sample].sum())
        self._m["compliance_inspected"] = (float(self._n_kept[sample].sum()) / n_live
                                           if n_live else float("nan"))

    def protest(self) -> None:
        """Epstein-style willingness (net grievance above protest_threshold, with an arrest
        probability from the village's stability force and last step's protesters) and a
        Granovetter cascade on the network: a willing villager joins when the weighted share of
        protesting neighbours reaches their mobilisation threshold, lowered by their excess
        net grievance. Protesters may be detained for 1..detention_term steps, during which
        they neither protest nor petition: quiet now, aggrieved later."""
        p = self.p
        if not p["mech_contention"]:
            self.protesting[:] = False
            self._m.update({"protesters": 0, "protest_events": 0, "protest_max_size": 0,
                            "detained": 0})
            self._v_protesters = np.zeros(self.n_villages, dtype=np.int64)
            return
        prev = np.bincount(self.village[np.flatnonzero(self.protesting)],
                           minlength=self.n_villages)
        force = p["suppression_force"] * self.village_size / 100.0
        arrest_v = equations.arrest_probability(force, prev, p["arrest_k"]).astype(F32)
        arrest = arrest_v[self.village]
        net = equations.net_protest_risk(self.grievance, self.legitimacy, self.risk_aversion, arrest,
                                     self.deterrence)
        excess = net - F32(p["protest_threshold"])
        free = self.detained_for == 0
        willing = (excess > 0) & free
        protesting = equations.threshold_cascade(
            self.weights, willing, self.mobilisation - excess, self.protesting,
            p["cascade_rounds"])
        idx = np.flatnonzero(protesting)
        detained = idx[self.rng.random(idx.size) < arrest[idx]]
        np.maximum(self.detained_for - 1, 0, out=self.detained_for)
        if p["detention_term"] > 0:
            self.detained_for[detained] = self.rng.integers(
                1, p["detention_term"] + 1, size=detained.size)
        self.grievance[detained] += F32(p["suppression_grievance"])
        np.clip(self.grievance, 0.0, 1.0, out=self.grievance)
        self._losses[detained] += F32(p["suppression_loss"])
        self.deterrence[detained] = 1.0
        self.protesting = protesting
        per_village = np.bincount(self.village[idx], minlength=self.n_villages)
        events = per_village >= p["protest_event_min"]
        self._v_protesters = per_village
        self._m.update({"protesters": int(idx.size), "protest_events": int(events.sum()),
                        "protest_max_size": int(per_village.max()) if idx.size else 0,
                        "detained": int(detained.size)})

    def disputes(self) -> None:
        """Everyday disputes go to the township or to the elders (substitution, 制度权威替代).

        P(formal) = logistic(wL(2L - 1) - wA(2a - 1) + wS * elders' mean stance). The township
        resolves formal disputes up to its dispute capacity; unresolved ones fall back to the
        elders. Informal resolution strengthens norm attachment, formal resolution weakens it.
        """
        p = self.p
        n = self.n_villagers
        rate = np.minimum(F32(p["dispute_rate"]) * (F32(0.5) + self.effective_hardship), F32(1.0))
        idx = bernoulli_indices(self.rng, n, rate)
        if p["mech_informal"]:
            active_stance = self.stance[:, self.active].mean(axis=1) if self.active.any() else \
                np.zeros(self.stance.shape[0], dtype=F32)
            x = (p["w_formal_legitimacy"] * (2.0 * self.legitimacy[idx] - 1.0)
                 - p["w_formal_attachment"] * (2.0 * self.attachment[idx] - 1.0)
                 + p["w_formal_stance"] * active_stance[self.lineage[idx]])
            formal = self.rng.random(idx.size) < equations.logistic(x.astype(F32))
        else:
            formal = np.ones(idx.size, dtype=bool)
        f_idx = idx[formal]
        tw = self.township[f_idx]
        count = np.bincount(tw, minlength=self.n_townships)
        resolve_p = np.minimum(np.divide(self.t_dispute_capacity, count,
                                         out=np.zeros(self.n_townships), where=count > 0), 1.0)
        resolved = self.rng.random(f_idx.size) < resolve_p[tw]
        fr = f_idx[resolved]
        self._gains[fr] += F32(p["dispute_gain"])
        unresolved = f_idx[~resolved]
        self._losses[unresolved] += F32(p["dispute_gain"])
        self._t_handled = self._t_handled + np.bincount(tw[resolved], minlength=self.n_townships)
        if p["mech_informal"]:
            informal = np.concatenate([idx[~formal], unresolved])
            ir = informal[self.rng.random(informal.size) < p["elder_resolution"]]
            self.attachment[ir] += F32(p["attachment_rate"])
            self.attachment[fr] -= F32(p["attachment_rate"])
            np.clip(self.attachment, 0.0, 1.0, out=self.attachment)
        else:
            ir = np.empty(0, dtype=np.int64)
        total = fr.size + ir.size
        self._m.update({"disputes": int(idx.size), "disputes_formal": int(f_idx.size),
                        "disputes_resolved_formally": int(fr.size),
                        "disputes_resolved_informally": int(ir.size),
                        "substitution_index": ir.size / total if total else float("nan")})

    def update_legitimacy(self) -> None:
        """Legitimacy is a stock: L' = L + gains - loss_weight * losses + social influence.

        Gains fill the gap to 1 and losses drain in proportion to the stock
        ([`ruralgov.model.equations.legitimacy_step`][ruralgov.model.equations.legitimacy_step]). Gains: answered
        petitions, fair (graduated) enforcement, services, participation, resolved disputes. Losses:
        conflicting directives one is exposed to, unfair hits, waiting and suppressed petitions,
        detention, exclusion from assistance, the township's deviation and officials' visible
        misconduct."""
        p = self.p
        if p["mech_fragmentation"] and self.conflicts.any():
            if self._exposure is None:  # depends only on which rules are live
                live_f = self.live.astype(F32)
                n_live = self._n_live.astype(F32)
                pairs = n_live * (n_live - 1) / 2
                conflicting = ((self.conflicts.astype(F32) @ live_f) * live_f).sum(axis=0) / 2
                self._exposure = np.divide(conflicting, pairs, out=np.zeros_like(pairs),
                                           where=pairs > 0)
                self._exposure_mean = float(self._exposure.mean())
            self._losses += F32(p["conflict_loss"]) * self._exposure
            self._m["conflict_exposure"] = self._exposure_mean
        else:
            self._m["conflict_exposure"] = 0.0
        self._losses += F32(p["deviation_loss"]) * self._to_villagers(self.t_deviation)
        self._losses += F32(p["misconduct_loss"] * self.misconduct)
        if not p["mech_legitimacy"]:
            return
        neighbours = self.weights @ self.legitimacy
        alone = self._isolated  # no ties: their own view, no pull
        neighbours[alone] = self.legitimacy[alone]
        self.legitimacy = equations.legitimacy_step(
            self.legitimacy, self._gains, self._losses, p["loss_weight"], p["social_influence"],
            neighbours).astype(F32)

    def township_report(self) -> None:
        """Townships report compliance upward and feel the pressure of reprimands
        ([`Township.report`][ruralgov.model.agents.Township.report])."""
        num = self._township_sum(self._n_kept)
        den = self._township_sum(self._n_live)
        true = np.divide(num, den, out=np.full(self.n_townships, np.nan), where=den > 0)
        handled, escalated = self._t_handled.tolist(), self._t_escalated.tolist()
        for t, tc in zip(self.townships, true.tolist()):
            t.cases_handled = int(handled[t.index])
            t.report(tc, int(escalated[t.index]))

    # ==================================================================== measures
    def collect(self) -> None:
        """Record this step's measures (docs/ODD.md, design concept "observation")."""
        m = self._m
        live = self.live
        n_live = int(self._n_live.sum())
        kept = self._kept
        n_kept = int(self._n_kept.sum())
        n_vol = int(np.count_nonzero(self.voluntary))
        ts = self.townships
        sizes = self.township_size
        reported = np.array([t.reported_compliance for t in ts])
        ok = ~np.isnan(reported)
        cap_total = sum(t.petition_capacity + t.dispute_capacity for t in ts)
        row = {
            "step": self.steps,
            "compliance": n_kept / n_live if n_live else float("nan"),
            "evasion": 1.0 - n_kept / n_live if n_live else float("nan"),
            "voluntary_share": n_vol / n_kept if n_kept else float("nan"),
            "compliance_reported": float(np.average(reported[ok], weights=sizes[ok]))
            if ok.any() else float("nan"),
            **m,
            "legitimacy_mean": float(self.legitimacy.mean()),
            "legitimacy_sd": float(self.legitimacy.std()),
            "grievance_mean": float(self.grievance.mean()),
            "norm_attachment_mean": float(self.attachment.mean()),
            "implementation_fidelity": float(np.average(self.t_fidelity, weights=sizes)),
            "capacity_use": float(self._t_handled.sum() / cap_total) if cap_total > 0 else 0.0,
            "pressure_mean": float(np.mean([t.pressure for t in ts])),
            "fragmentation_index": equations.fragmentation_index(
                self.p["n_departments"], self.p["coordination"])
            if self.p["mech_fragmentation"] else 0.0,
            "conflicting_pairs": int(np.triu(self.conflicts).sum()),
            "campaign_active": bool(self.p["campaign"] and self.active[-1]),
            "enforcement_withdrawn": bool(self.withdrawn),
            "scandal_active": self.scandal_active,
        }
        row["enforced_share"] = (1.0 - row["voluntary_share"]) if n_kept else float("nan")
        row["reporting_gap"] = row["compliance_reported"] - row["compliance_inspected"]
        if self.p["campaign"]:
            c_live = live[-1]
            nl = int(np.count_nonzero(c_live))
            row["compliance_campaign"] = (float(np.count_nonzero(kept[-1])) / nl
                                          if nl and self.active[-1] else float("nan"))
        self._rows.append(row)
        if self.collect_detail:
            self._collect_detail(kept)

    def _collect_detail(self, kept: np.ndarray) -> None:
        step = self.steps
        nv = self.n_villages
        v = self.village
        vk = np.bincount(v, weights=self._n_kept, minlength=nv)
        vl = np.bincount(v, weights=self._n_live, minlength=nv)
        size = self.village_size
        self._detail["villages"].append(pd.DataFrame({
            "step": step, "village": np.arange(nv),
            "township": self.population.village_township,
            "compliance": np.divide(vk, vl, out=np.full(nv, np.nan), where=vl > 0),
            "legitimacy": np.bincount(v, weights=self.legitimacy, minlength=nv) / size,
            "grievance": np.bincount(v, weights=self.grievance, minlength=nv) / size,
            "protesters": self._v_protesters,
            "petitions_pending": np.bincount(v, weights=self.pet_age >= 0, minlength=nv),
        }))
        ts = self.townships
        self._detail["townships"].append(pd.DataFrame({
            "step": step, "township": [t.index for t in ts],
            "self_interest": [t.self_interest for t in ts],
            "true_compliance": [t.true_compliance for t in ts],
            "reported_compliance": [t.reported_compliance for t in ts],
            "fidelity": [t.fidelity for t in ts], "effort": [t.effort for t in ts],
            "pressure": [t.pressure for t in ts],
            "petition_capacity": [t.petition_capacity for t in ts],
            "cases_handled": [t.cases_handled for t in ts],
            "capacity_use": [t.cases_handled / c if (c := t.petition_capacity
                                                     + t.dispute_capacity) > 0 else 0.0
                             for t in ts],
            "backlog": self._t_backlog, "escalations": [t.escalations for t in ts],
        }))
        ds = self.departments
        rule_kept = kept.sum(axis=1)
        rule_live = self.live.sum(axis=1)
        rule_comp = np.divide(rule_kept, rule_live, out=np.full(self.n_rules, np.nan),
                              where=rule_live > 0)
        self._detail["departments"].append(pd.DataFrame({
            "step": step, "department": [d.index for d in ds],
            "escalations_received": [d.received for d in ds],
            "escalations_answered": [d.answered for d in ds],
            "backlog": [d.backlog for d in ds],
            "compliance": [float(np.nanmean(rule_comp[d.rules_issued])) if d.rules_issued
                           and not np.all(np.isnan(rule_comp[d.rules_issued])) else np.nan
                           for d in ds],
        }))
        rv = self.voluntary.sum(axis=1)
        self._detail["rules"].append(pd.DataFrame({
            "step": step, "rule": np.arange(self.n_rules), "kind": self.rule_kind,
            "department": self.rule_department.astype(int), "active": self.active.copy(),
            "compliance": rule_comp,
            "voluntary_share": np.divide(rv, rule_kept, out=np.full(self.n_rules, np.nan),
                                         where=rule_kept > 0),
        }))

    # ==================================================================== results
    def series(self) -> pd.DataFrame:
        """County-level measures, one row per step (tidy: one column per variable)."""
        return pd.DataFrame(self._rows)

    def detail(self, name: str, latest: bool = False) -> pd.DataFrame:
        """Long tables per step: ``villages``, ``townships``, ``departments`` or ``rules``
        (``latest``: only the last step's rows)."""
        if name not in self._detail:
            raise KeyError(f"no detail table {name!r}; choose from {sorted(self._detail)}")
        frames = self._detail[name]
        if latest:
            return frames[-1].copy() if frames else pd.DataFrame()
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def state_arrays(model: RuralGovernanceModel) -> dict[str, np.ndarray]:
    """The model's state variables (docs/ODD.md section 2) as named arrays: villagers, rules
    (villager x rule), townships and departments. For regression checks and inspection."""
    out = {name: getattr(model, name) for name in (
        "hardship", "risk_aversion", "legitimacy", "attachment", "cost_multiplier",
        "mobilisation", "grievance", "deterrence", "stage", "assisted", "effective_hardship",
        "pet_age", "pet_level", "pet_dept", "protesting", "detained_for",
        "rule_department", "rule_cost", "rule_enforcement", "stance", "pair_draws", "applies",
        "active", "comply", "voluntary", "cost")}
    for attr in ("self_interest", "pressure", "fidelity", "effort", "fit", "deviation",
                 "petition_capacity", "dispute_capacity", "suppress_probability",
                 "true_compliance", "reported_compliance", "escalations", "cases_handled"):
        out[f"township_{attr}"] = np.array([getattr(t, attr) for t in model.townships],
                                           dtype=np.float64)
    for attr in ("received", "answered", "backlog"):
        out[f"department_{attr}"] = np.array([getattr(d, attr) for d in model.departments],
                                             dtype=np.float64)
    return out
