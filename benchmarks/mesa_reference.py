"""The villager rules of ruralgov written the idiomatic Mesa way: one agent per villager.

This is the yardstick for the vectorised model (issue 3): the same rules, one
``mesa.Agent`` per villager, neighbours looked up in Mesa's ``NetworkGrid`` every step,
``shuffle_do("step")`` to decide from last step's state and ``do("advance")`` to apply, the
same update semantics as :class:`ruralgov.RuralGovernanceModel` (synchronous).

It covers the villager core of the model: the informal signal (peer norm with elders weighted,
lineage stance), the compliance decision (legitimacy, perceived sanction, norm, habit as a
decaying stock, cost, conflict load where one's village makes rules clash, misconduct, the
village cadres' shield), graduated enforcement with arbitrary hits, hardship shocks,
grievance, and legitimacy as a stock with social influence; townships plan and report with
the package's own ``Township`` agents. Contention (petitions, protest), services,
participation and disputes are switched off in :data:`REFERENCE_SCENARIO`, the scenario both
implementations run when compared (tests/test_reference.py) and timed (benchmarks/run.py).

Initial state (population, villager attributes, rules, lineage stances, township
self-interest) is copied from a ``RuralGovernanceModel`` built with the same seed, so the two
implementations start alike and differ only in their random streams during the run.
"""

from __future__ import annotations

import math

import mesa
import networkx as nx
import numpy as np

from ruralgov.model import RuralGovernanceModel, equations
from ruralgov.model.agents import Township
from ruralgov.model.submodels.compliance import conflicts

#: The mechanisms both implementations share; everything else is switched off.
#: (records of graduated enforcement never lapse here: record_memory's first form)
REFERENCE_SCENARIO = dict(mech_contention=False, mech_services=False,
                          mech_participation=False, dispute_rate=0.0, campaign=False,
                          cooptation=0.0, record_memory=0.0)

_FELT = (0.0, 0.3, 0.6, 1.0)


def _sigma(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


class Villager(mesa.Agent):
    """One villager: scalar state and one entry per rule in small Python lists."""

    def __init__(self, model: MesaReference, i: int, vec: RuralGovernanceModel):
        super().__init__(model)
        self.i = i
        self.township = int(vec.structure.township[i])
        self.village = int(vec.structure.village[i])
        self.lineage = int(vec.structure.lineage[i])
        self.elder = bool(vec.structure.elder[i])
        self.hardship = float(vec.villagers.hardship[i])
        self.hardship_base = self.hardship
        self.habit: list[float] | None = None  # habit stock (made after the first decision)
        strength = float(vec.structure.lineage_strength[self.village])
        p = model.p
        self.shield = (1.0 - p["cadre_shield"] * min(max(
            p["elections"] + p["lineage_accountability"] * (strength - 1.0), 0.0), 1.0)
            if p["mech_cadres"] else 1.0)
        self.risk_aversion = float(vec.villagers.risk_aversion[i])
        self.legitimacy = float(vec.villagers.legitimacy[i])
        self.attachment = float(vec.villagers.attachment[i])
        self.cost_multiplier = float(vec.villagers.cost_multiplier[i])
        self.grievance = float(vec.villagers.grievance[i])
        self.deterrence = float(vec.villagers.deterrence[i])
        self.stage = int(vec.villagers.stage[i])
        self.influence = model.p["elder_weight"] if self.elder else 1.0
        self.comply = [bool(x) for x in vec.rules.comply[:, i]]
        self.kept_prev = list(self.comply)  # all rules are live in the reference scenario
        self.voluntary = [False] * len(self.comply)
        self.next_legitimacy = self.legitimacy
        self.outcome = 0
        self.unfair = False

    # ---------------------------------------------------------------- decide (from last step)
    def step(self) -> None:
        m = self.model
        p = m.p
        k = m.n_rules
        if p["hardship_shock"] > 0:  # shocks and recovery (services are off here)
            self.hardship += p["hardship_recovery"] * (self.hardship_base - self.hardship)
            if m.rng.random() < p["hardship_shock"]:
                self.hardship = min(self.hardship + p["shock_size"], 1.0)
        town = m.townships[self.township]
        neighbours = m.grid.get_neighbors(self.pos, include_center=False)

        # informal signal: share of (elder-weighted) neighbours who kept each rule last step
        total = sum(nb.influence for nb in neighbours)
        kept_w = [0.0] * k
        for nb in neighbours:
            w = nb.influence
            for r in range(k):
                if nb.kept_prev[r]:
                    kept_w[r] += w
        stance = m.stance[self.lineage]
        pw = p["peer_weight"]
        if self.elder:
            signal = list(stance)
        else:
            signal = [pw * (2.0 * (kept_w[r] / total if total > 0 else 0.5) - 1.0)
                      + (1.0 - pw) * stance[r] for r in range(k)]

        # compliance decision
        base = (p["base_compliance"] - p["w_misconduct"] * p["official_misconduct"]
                + p["w_legitimacy"] * (2.0 * self.legitimacy - 1.0))
        fit = town.fit
        cost_scale = self.cost_multiplier * (1.0 - fit) * (0.5 + self.hardship)
        s_scale = p["sanction_severity"] * (0.5 + self.risk_aversion)
        d = self.deterrence
        rng = m.rng
        self.cost = []
        self.kept = []
        conflicts = m.conflicts_of(self)
        for r in range(k):
            pdet = m.detect[self.township][r] * self.shield if p["mech_enforcement"] else 0.0
            sanction = (pdet + d * (1.0 - pdet)) * s_scale if p["mech_enforcement"] else 0.0
            cost = min(m.rule_cost[r] * cost_scale, 2.0)
            load = sum(1.0 for j in range(k) if self.kept_prev[j] and conflicts[j][r])
            if p["mech_pairwise_conflict"]:
                load = min(load, 1.0)  # keeping the rule breaks at least one kept rule
            else:
                load = load / (k - 1) if k > 1 else 0.0
            if not p["mech_habit"]:
                habit = 0.5
            elif self.habit is not None:
                habit = self.habit[r]
            else:
                habit = 1.0 if self.comply[r] else 0.0
            enforced = p["w_enforcement"] * sanction
            u = (base + p["w_norm"] * self.attachment * signal[r]
                 + p["w_habit"] * (2.0 * habit - 1.0) - p["w_cost"] * cost
                 - p["w_conflict"] * load + enforced)
            draw = rng.random()
            self.comply[r] = draw < _sigma(u)
            self.voluntary[r] = draw < _sigma(u - enforced)
            self.cost.append(cost)
            self.kept.append(self.comply[r])
        mem = p["habit_memory"]
        if mem > 0:  # habit as a decaying stock
            if self.habit is None:
                self.habit = [1.0 if c else 0.0 for c in self.comply]
            else:
                self.habit = [mem * h + (1.0 - mem) * (1.0 if c else 0.0)
                              for h, c in zip(self.habit, self.comply)]

        # enforcement (one encounter per villager per step)
        self.deterrence *= 1.0 - p["deterrence_decay"]
        if all(self.kept):
            self.stage = 0
        gains = losses = g_in = 0.0
        self.outcome, self.unfair = 0, False
        if p["mech_enforcement"]:
            detected = hit = False
            for r in range(k):
                draw = rng.random()
                pdet = m.detect[self.township][r] * self.shield
                if not self.kept[r] and draw < pdet:
                    detected = True
                if self.kept[r] and draw < pdet * m.arbitrariness:
                    hit = True
            if detected:
                if p["mech_graduated"]:
                    self.stage = min(self.stage + 1, 3)
                    self.outcome = self.stage
                else:
                    self.outcome = 3
                if self.outcome in (1, 2):
                    gains += p["fair_gain"]
                else:
                    g_in += p["sanction_grievance"]
                self.deterrence = max(self.deterrence, _FELT[self.outcome])
            if hit and not detected:
                self.unfair = True
                losses += p["unfair_loss"]
                g_in += p["unfair_grievance"]
                self.deterrence = max(self.deterrence, 0.6)

        # grievance
        burden = sum(c for c, kk in zip(self.cost, self.kept) if kk) / max(k, 1)
        g = (self.grievance * (1.0 - p["grievance_decay"])
             + p["hardship_grievance"] * self.hardship * (1.0 - self.legitimacy)
             + p["burden_grievance"] * burden + g_in)
        self.grievance = min(max(g, 0.0), 1.0)

        # legitimacy (neighbours' current views; applied in advance())
        losses += m.exposure_of(self) * p["conflict_loss"]
        losses += p["deviation_loss"] * town.deviation
        losses += p["misconduct_loss"] * p["official_misconduct"]
        if p["mech_legitimacy"]:
            if total > 0:
                nb_mean = sum(nb.influence * nb.legitimacy for nb in neighbours) / total
            else:
                nb_mean = self.legitimacy
            L = self.legitimacy
            new = (L + gains * (1.0 - L) - p["loss_weight"] * losses * L
                   + p["social_influence"] * (nb_mean - L))
            self.next_legitimacy = min(max(new, 0.0), 1.0)
        else:
            self.next_legitimacy = self.legitimacy

    # ---------------------------------------------------------------- apply
    def advance(self) -> None:
        self.legitimacy = self.next_legitimacy
        self.kept_prev = list(self.kept)


class MesaReference(mesa.Model):
    """The reference model, initialised from a vectorised model built with the same seed."""

    def __init__(self, seed: int = 0, **params):
        params = {**params, **REFERENCE_SCENARIO}
        vec = RuralGovernanceModel(seed=seed, collect_detail=False, **params)
        super().__init__(seed=seed + 1_000_003)  # its own stream
        self.p = vec.p
        p = self.p
        self.n_rules = vec.n_rules
        self.rule_cost = [float(c) for c in vec.rules.cost]
        self.rule_enforcement = [float(e) for e in vec.rules.enforcement]
        self.stance = [[float(x) for x in row] for row in vec.rules.stance]
        graph = nx.Graph()
        graph.add_nodes_from(range(vec.n_villagers))
        a = vec.population.adjacency.tocoo()
        graph.add_edges_from(zip(a.row.tolist(), a.col.tolist()))
        self.grid = mesa.space.NetworkGrid(graph)
        self.townships = [Township(self, t.index, t.n_villagers, t.self_interest)
                          for t in vec.townships]
        self.villagers = []
        for i in range(vec.n_villagers):
            v = Villager(self, i, vec)
            self.grid.place_agent(v, i)
            self.villagers.append(v)
        self._conflicts(vec)
        arb = p["arbitrariness"]
        if p["mech_fragmentation"]:
            arb += (p["fragmentation_arbitrariness"]
                    * equations.fragmentation_index(p["n_departments"], p["coordination"],
                                                    p["bureaus"])
                    * (1.0 - p["joint_enforcement"]))
        self.arbitrariness = min(arb, 1.0) * (1.0 - p["grid_management"])
        self.rows: list[dict[str, float]] = []

    def _conflicts(self, vec) -> None:
        """Which rules conflict for each villager, and their exposure (every rule is live).
        Second form: a pair of rules of different departments conflicts in a village when its
        place draw there is below q (the draws are data, taken from the vectorised model);
        exposure is the share of one's rules that contradict another. First form: one K x K
        set for all, exposure the share of pairs."""
        p, k = self.p, self.n_rules
        dept = vec.rules.department.tolist()
        q = p["conflict_probability"] * (1.0 - p["coordination"])
        none = [[False] * k for _ in range(k)]
        if not p["mech_fragmentation"]:
            self.conflicts_of = lambda v: none
            self.exposure_of = lambda v: 0.0
        elif p["mech_pairwise_conflict"]:
            conflicts(vec)  # makes the place draws (a generator spawned from the seed's)
            draws = vec.rules.place_draws
            table = {}
            for village in range(draws.shape[1]):
                c = [[False] * k for _ in range(k)]
                pair = 0
                for j in range(k):
                    for r in range(j + 1, k):
                        if dept[j] != dept[r] and draws[pair, village] < np.float32(q):
                            c[j][r] = c[r][j] = True
                        pair += 1
                table[village] = (c, sum(any(row) for row in c) / k)
            self.conflicts_of = lambda v: table[v.village][0]
            self.exposure_of = lambda v: table[v.village][1]
        else:
            active = np.ones(k, dtype=bool)
            c = equations.conflict_matrix(vec.rules.pair_draws, vec.rules.department,
                                          p["conflict_probability"], p["coordination"], active)
            pairs = k * (k - 1) / 2
            exposure = float(np.triu(c).sum()) / pairs if pairs and c.any() else 0.0
            self.conflicts_of = lambda v: c.tolist()
            self.exposure_of = lambda v: exposure

    def step(self) -> None:
        for t in self.townships:
            t.plan()
        self.detect = [[e * t.fidelity * t.effort for e in self.rule_enforcement]
                       for t in self.townships]
        villagers = self.agents_by_type[Villager]
        villagers.shuffle_do("step")
        villagers.do("advance")
        self._collect()

    def _collect(self) -> None:
        vs = self.villagers
        k = self.n_rules
        kept = sum(sum(v.kept) for v in vs)
        vol = sum(sum(v.voluntary) for v in vs)
        outcomes = [v.outcome for v in vs]
        kept_t = [0] * len(self.townships)
        for v in vs:
            kept_t[v.township] += sum(v.kept)
        for t in self.townships:
            t.report(kept_t[t.index] / (t.n_villagers * k), 0)
        self.rows.append({
            "step": self.steps,
            "compliance": kept / (len(vs) * k),
            "voluntary_share": vol / kept if kept else float("nan"),
            "legitimacy_mean": float(np.mean([v.legitimacy for v in vs])),
            "grievance_mean": float(np.mean([v.grievance for v in vs])),
            "persuasions": outcomes.count(1), "warnings": outcomes.count(2),
            "sanctions": outcomes.count(3), "unfair_hits": sum(v.unfair for v in vs),
        })

    def series(self):
        import pandas as pd

        return pd.DataFrame(self.rows)
