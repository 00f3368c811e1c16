"""Government actors: township governments and county departments, as Mesa agents.

They are few (a handful to thousands), so each is a ``mesa.Agent`` with its own state and
methods named after the ODD submodels they run. Villagers are many and live in the model's
numpy arrays ([`ruralgov.model.state`][ruralgov.model.state]). As in Mesa's examples, an agent
reaches its model as ``self.model`` and does not import the model module.
"""

from __future__ import annotations

import itertools
import weakref

import mesa
import numpy as np

from ruralgov.model import equations

__all__ = ["Township", "Department", "township_values"]


class _IdCounters:
    """Each model's counter of agent ids, held weakly. Mesa 3.3's ``Agent._ids`` is a class-wide
    dict holding every model that ever made an agent, so no model (and none of its arrays)
    is ever freed: a sweep of many runs in one process grew until the kernel killed it. The
    government agents count their ids here instead (the same numbers: 1, 2, ... per model)."""

    def __init__(self) -> None:
        self._counters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __getitem__(self, model: mesa.Model) -> itertools.count:
        counter = self._counters.get(model)
        if counter is None:
            counter = self._counters[model] = itertools.count(1)
        return counter


_IDS = _IdCounters()


class Township(mesa.Agent):
    """A township government (乡镇政府).

    State: ``self_interest`` (fixed), ``pressure`` from county reprimands (dynamic, 0-1), and
    each step's plan: ``fidelity`` of implementation, enforcement ``effort``, case capacity for
    petitions and disputes, the chance of suppressing a pending petition, the share of rule
    cost removed by fitting rules to need (``fit``) and ``deviation``.
    """

    _ids = _IDS  # (not Mesa's: it never frees a model)

    def __init__(self, model: mesa.Model, index: int, n_villagers: int,
                 self_interest: float):
        super().__init__(model)
        self.index = index
        self.n_villagers = n_villagers
        self.self_interest = float(self_interest)
        self.pressure = 0.0
        #: the township head's own levers (TOWNSHIP_LEVERS set by a township intervention);
        #: a lever not here is the county's
        self.levers: dict[str, float] = {}
        # plan (set by plan())
        self.fidelity = 1.0
        self.effort = 1.0
        self.fit = 0.0
        self.deviation = 0.0
        self.petition_capacity = 0.0
        self.dispute_capacity = 0.0
        self.suppress_probability = 0.0
        # outcomes of the step (set by the model and report())
        self.true_compliance = float("nan")
        self.reported_compliance = float("nan")
        self.escalations = 0
        self.cases_handled = 0

    def setting(self, name: str) -> float:
        """The value of lever ``name`` in this township: the head's own, else the county's."""
        return self.levers.get(name, self.model.p[name])

    @property
    def capacity(self) -> float:
        """Cases per step: township_capacity per 100 villagers."""
        return self.model.p["township_capacity"] * self.n_villagers / 100.0

    def plan(self) -> None:
        """ODD submodel *township_plan*: split capacity and set implementation for this step.

        Self-interest diverts capacity from villagers' cases to the township's own ends and
        lowers enforcement effort unless county pressure forces it (压力型体制). Fragmentation
        wastes a share misrouting x F x (1 - one_window) of the rest on requests sent to the
        wrong desk. Responsiveness r gives petitions a capacity of r x welfare capacity while
        disputes keep half of it (with ``responsiveness_budget``: r and 1 - r of one
        capacity). Discretion fits rules to need in proportion to (1 - self-interest) and
        becomes deviation in proportion to self-interest (弹性 vs 制度偏离). Suppression is
        suppression x (routine + (1 - routine) x pressure) with ``mech_interception``, else
        suppression x pressure. Evaluation weights move effort (selective implementation):
        petition capacity and suppression x (0.5 + w), enforcement effort x (1.5 - w), w the
        weight of the stability target. Fiscal dependence cuts case capacity by up to half.
        """
        p = self.model.p
        s = self.self_interest
        if p["mech_discretion"]:
            discretion = self.setting("discretion")
            self.deviation = discretion * s
            self.fit = discretion * (1.0 - s) * p["discretion_fit"]
        else:
            self.deviation = 0.0
            self.fit = 0.0
        levels = p["transmission_levels"] if p["mech_transmission"] else 0
        self.fidelity = float(equations.implementation_fidelity(
            p["transmission_fidelity"], levels, self.deviation))
        w = p["evaluation_stability"]  # effort where evaluation weighs (0.5: both alike)
        self.effort = ((1.0 - s) + s * self.pressure) * (1.5 - w)
        welfare = (1.0 - s) * self.capacity * (1.0 - 0.5 * p["fiscal_dependence"])
        if p["mech_fragmentation"] and p["misrouting"] > 0:  # requests at the wrong desk
            frag = equations.fragmentation_index(p["n_departments"], p["coordination"],
                                                 p["bureaus"])
            welfare *= 1.0 - p["misrouting"] * frag * (1.0 - p["one_window"])
        r = self.setting("responsiveness")
        if p["responsiveness_budget"]:  # first form: one capacity split
            self.petition_capacity, self.dispute_capacity = welfare * r, welfare * (1.0 - r)
        else:  # responsiveness adds capacity for petitions; disputes keep half
            self.petition_capacity, self.dispute_capacity = welfare * r, welfare * 0.5
        self.petition_capacity *= 0.5 + w
        if p["mech_interception"]:
            routine = p["suppression_routine"]
            self.suppress_probability = self.setting("suppression") * (
                routine + (1.0 - routine) * self.pressure)
        else:
            self.suppress_probability = self.setting("suppression") * self.pressure
        self.suppress_probability = min(self.suppress_probability * (0.5 + w), 1.0)

    def report(self, true_compliance: float, escalations: int) -> None:
        """ODD submodel *township_report*: report compliance upward and feel county pressure.

        The report overstates true compliance by self_interest x misreporting of the gap.
        Escalated petitions bring reprimands: pressure rises by reprimand_pressure per
        escalation per 100 villagers and fades by pressure_decay.
        """
        p = self.model.p
        self.true_compliance = true_compliance
        self.reported_compliance = float(equations.report_compliance(
            true_compliance, self.self_interest, self.setting("misreporting")))
        self.escalations = int(escalations)
        per100 = escalations / max(self.n_villagers / 100.0, 1e-9)
        pressure = self.pressure * (1.0 - p["pressure_decay"]) + p["reprimand_pressure"] * per100
        self.pressure = min(max(pressure, 0.0), 1.0)


class Department(mesa.Agent):
    """A county department (县级部门) that issues rules and answers escalated petitions."""

    _ids = _IDS

    def __init__(self, model: mesa.Model, index: int, rules_issued: list[int]):
        super().__init__(model)
        self.index = index
        self.rules_issued = list(rules_issued)
        self.received = 0
        self.answered = 0
        self.backlog = 0

    @property
    def capacity(self) -> float:
        """Escalated cases this department answers per step (county capacity split evenly)."""
        p = self.model.p
        return p["county_capacity"] * self.model.n_villagers / 100.0 / len(
            self.model.departments)


def township_values(townships: list[Township], name: str) -> np.ndarray | None:
    """Each township's value of lever ``name`` (float64), or None when no township head has
    set their own (every township then uses its run's parameter, as the submodels read it)."""
    if not any(name in t.levers for t in townships):
        return None
    return np.array([t.setting(name) for t in townships], dtype=np.float64)
