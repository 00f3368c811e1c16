"""An ensemble: R runs of the model stepped together in stacked arrays.

A sweep is thousands of small runs, and a small county's step is mostly fixed cost (hundreds
of array operations whatever the county's size). An ensemble builds each run as usual (its
own seed, its own ``RuralGovernanceModel``: the *members*), then stacks their state — the
villagers' arrays end to end, the networks block-diagonal, the township and department
agents in one list — and steps all of them with the one schedule, so each array operation
serves R runs. The submodels are the same functions as for one county; the draws go through
[`Runs`][ruralgov.model.runs.Runs], from each member's own generator in its own order, so
every run is bit-identical to the same run stepped alone (tested). Each step's measures go
to the members' observers: ``ensemble.members[r].series()`` is run r's series.

The runs have their own seeds and may differ in the parameters of
[`PER_RUN`][ruralgov.model.ensemble.PER_RUN] (those that set up the county, and the levers of
the paper's experiments); every other parameter and the interventions are shared.
Random-sequential updating, field-data populations and the detail tables are for single
runs.

Example:
    >>> from ruralgov.model.ensemble import Ensemble
    >>> e = Ensemble([1, 2, 3], n_villagers=500)
    >>> for _ in range(5):
    ...     e.step()
    >>> all(len(m.series()) == 5 for m in e.members)
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ruralgov.model import initialise
from ruralgov.model.county import RuralGovernanceModel
from ruralgov.model.network import Ties
from ruralgov.model.observe import DataCollectorView, Observer
from ruralgov.model.params import AT_START
from ruralgov.model.runs import Runs, Varying
from ruralgov.model.schedule import SCHEDULE
from ruralgov.model.schema import InputError, Intervention
from ruralgov.model.state import Cache, Rules, Structure, Villagers

__all__ = ["Ensemble", "PER_RUN", "STEP_PER_RUN", "SHAPING", "SAME_SIGN", "SharedParams"]

#: Parameters fixed at the start that shape the stacked arrays (the rules, the colouring, the
#: network's weights): one value for the whole ensemble.
SHAPING = frozenset({"n_departments", "rules_per_department", "rules_total", "campaign",
                     "random_sequential", "elder_weight"})

#: Parameters the submodels read per run (each through ``model.runs``): runs of one ensemble
#: may differ in these.
STEP_PER_RUN = frozenset({
    # the paper experiments' levers
    "coordination", "transmission_levels", "transmission_fidelity", "discretion",
    "responsiveness", "suppression", "cooptation", "scandal_misconduct", "scandal_duration",
    "official_misconduct", "service_coverage", "participation", "arbitrariness",
    # the behavioural uncertainties of the robustness study (all but habit_memory)
    "base_compliance", "w_legitimacy", "w_enforcement", "w_norm", "w_habit", "w_cost",
    "w_conflict", "w_misconduct", "peer_weight", "deterrence_decay", "loss_weight",
    "social_influence", "answer_gain", "unfair_loss", "conflict_loss", "misconduct_loss",
    "grievance_decay", "hardship_grievance", "sanction_grievance", "suppression_grievance",
    "answer_relief", "petition_threshold", "collective_threshold", "protest_threshold",
    "arrest_k", "conflict_probability", "misreporting", "habit_memory"})

#: Per-run parameters whose runs stepped together must agree on which side of 0 they lie
#: (a positive habit_memory makes habit a stock, 0 the last choice: two forms of the rule).
SAME_SIGN = ("habit_memory",)

PER_RUN: frozenset[str] = (AT_START - SHAPING) | STEP_PER_RUN
"""The parameters in which the runs of one ensemble may differ: those read only when the
county is built (except the few that shape the stacked arrays, ``SHAPING``) and those the
submodels read run by run (``STEP_PER_RUN``). Reading any other one that differs would be
an error: [`SharedParams`][ruralgov.model.ensemble.SharedParams] refuses it."""


class SharedParams(dict):
    """The parameters of an ensemble as one dict: those the runs share, and those in which
    they differ (``varying``), which can only be read run by run (``model.runs``): reading one
    here raises, so a submodel can never use one run's value for all."""

    def __init__(self, values: Mapping[str, Any], varying: frozenset[str]):
        super().__init__(values)
        self.varying = varying

    def __getitem__(self, name: str) -> Any:
        self._refuse_varying(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self._refuse_varying(name)
        return super().get(name, default)

    def _refuse_varying(self, name: str) -> None:
        if name in self.varying:
            raise Varying(f"parameter {name} differs between the runs of this ensemble: "
                          "read it per run (model.runs.values)")


class Ensemble(RuralGovernanceModel):
    """R runs with their own seeds (and, optionally, their own values of some parameters),
    stepped together.

    Args:
        seeds: one integer seed per run (R = ``len(seeds)``).
        varying: one mapping per run of the parameters it sets differently, all of them in
            [`PER_RUN`][ruralgov.model.ensemble.PER_RUN].
        interventions: as for
            [`RuralGovernanceModel`][ruralgov.model.county.RuralGovernanceModel], shared by
            every run.
        **params: the parameters, shared by every run.

    Attributes:
        members: the runs' models; ``members[r].series()`` is run r's series and
            ``members[r].seed`` its seed.
    """

    def __init__(self, seeds: Sequence[int], *,
                 varying: Sequence[Mapping[str, Any]] | None = None,
                 interventions: Iterable[Intervention | Mapping] | None = None,
                 **params: Any):
        if isinstance(seeds, (int, np.integer)) or len(seeds) < 1:
            raise ValueError(f"seeds = {seeds!r}: give a list of at least one seed")
        for key in ("population", "collect_detail"):
            if params.pop(key, None):
                raise InputError(f"ensemble: {key} is for single runs")
        varying = [dict(v) for v in varying] if varying is not None else [{}] * len(seeds)
        if len(varying) != len(seeds):
            raise ValueError(f"varying: {len(varying)} mappings for {len(seeds)} seeds")
        other = sorted({k for v in varying for k in v} - PER_RUN)
        if other:
            raise InputError(f"ensemble: {', '.join(other)} cannot differ between the runs of "
                             "one ensemble (allowed: the parameters in "
                             "ruralgov.model.ensemble.PER_RUN); run them apart")
        members = [RuralGovernanceModel(seed, collect_detail=False,
                                        interventions=interventions, **{**params, **v})
                   for seed, v in zip(seeds, varying)]
        differ = frozenset(k for k in {k for v in varying for k in v}
                           if len({repr(m.p[k]) for m in members}) > 1)
        mixed = [k for k in SAME_SIGN if len({m.p[k] > 0 for m in members}) > 1]
        if mixed:
            raise InputError(f"ensemble: {', '.join(mixed)} is positive in some runs and 0 in "
                             "others (two forms of a rule): run them apart")
        moved = sorted({k for iv in members[0].interventions if iv.township is None
                        for k in iv.settings} & differ)  # (a township's own: not p)
        if moved:
            raise InputError(f"ensemble: an intervention sets {', '.join(moved)}, which "
                             "differs between the runs")
        if members[0].p["random_sequential"]:
            raise InputError("ensemble: random_sequential = true is for single runs "
                             "(its colouring is drawn per run); use one run at a time")
        mesa.Model.__init__(self, seed=members[0].seed)  # the members' generators draw
        self.members = members
        self.seed = None
        self.p = SharedParams(members[0].p, differ)  # each member keeps its own p
        self.interventions = members[0].interventions
        self.population = None
        self.structure = _structure(members, self.p)
        self.villagers = _villagers(members)
        self.rules = _rules(members)
        self.cache = Cache()
        self.townships = _renumber([m.townships for m in members])
        self.departments = _renumber([m.departments for m in members])
        self.observer = Observer(detail=False)  # rows go to the members' observers
        self.datacollector = DataCollectorView(self.observer)
        self.scratch = None
        self.submodels = SCHEDULE
        self.running = True
        st = self.structure
        self.runs = Runs.of(self.members, initialise.BLOCK, shared=self.p)
        st.blocks = [slice(pieces[0][1].start, pieces[-1][1].stop)
                     for pieces in self.runs.blocks]

    def step(self) -> None:
        """One step of every run."""
        super().step()
        for m in self.members:
            m.steps = self.steps

    @property
    def collect_detail(self) -> bool:
        return False

    def series(self) -> pd.DataFrame:
        """Every run's series, one after another, with the run's ``seed`` as first column."""
        return pd.concat([m.series().assign(seed=m.seed) for m in self.members],
                         ignore_index=True).pipe(lambda f: f[["seed", *f.columns[:-1]]])

    def detail(self, name: str, latest: bool = False) -> pd.DataFrame:
        raise InputError("ensemble: the detail tables are for single runs")


def _renumber(groups: list[list]) -> list:
    """Government agents of all runs in one list, each indexed by its place in it."""
    out = [agent for group in groups for agent in group]
    for i, agent in enumerate(out):
        agent.index = i
    return out


def _offset(arrays: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """Per-run indices made global: run r's shifted by the sizes of the runs before."""
    shift = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return np.concatenate([a + s for a, s in zip(arrays, shift.tolist())])


def _structure(members: list[RuralGovernanceModel], p: dict[str, Any]) -> Structure:
    sts = [m.structure for m in members]
    n = sum(st.n for st in sts)
    township = _offset([st.township for st in sts], [st.n_townships for st in sts])
    township_size = np.concatenate([st.township_size for st in sts])
    ties = Ties(sp.block_diag([st.ties.adjacency for st in sts], format="csr"),
                np.concatenate([st.elder for st in sts]), p["elder_weight"])
    return Structure(
        population=None, n=n, township=township,
        village=_offset([st.village for st in sts], [st.n_villages for st in sts]),
        lineage=_offset([st.lineage for st in sts],
                        [st.population.n_lineages for st in sts]),
        elder=np.concatenate([st.elder for st in sts]),
        n_townships=int(township_size.size),
        n_villages=sum(st.n_villages for st in sts), township_size=township_size,
        village_size=np.concatenate([st.village_size for st in sts]), ties=ties,
        weights=ties.weights, isolated=np.flatnonzero(~ties.has_neighbours),
        township_sorted=all(st.township_sorted for st in sts),
        township_start=np.concatenate([[0], np.cumsum(township_size)[:-1]]),
        lineage_strength=np.concatenate([st.lineage_strength for st in sts]),
        blocks=[], colours=[])


def _villagers(members: list[RuralGovernanceModel]) -> Villagers:
    fields = Villagers.__dataclass_fields__
    return Villagers(**{name: np.concatenate([getattr(m.villagers, name) for m in members])
                        for name in fields})


def _rules(members: list[RuralGovernanceModel]) -> Rules:
    rs = [m.rules for m in members]
    first = rs[0]
    active = first.active.copy()
    for r in rs:  # one schedule: the members' conflicts read the same active rules
        r.active = active
    return Rules(
        department=first.department,
        cost=np.concatenate([np.repeat(r.cost[:, None], m.structure.n, axis=1)
                             for r, m in zip(rs, members)], axis=1),
        enforcement=(first.enforcement if all(np.array_equal(r.enforcement, first.enforcement)
                                              for r in rs)
                     else np.concatenate([np.repeat(r.enforcement[None, :],
                                                    m.structure.n_townships, axis=0)
                                          for r, m in zip(rs, members)])),  # per township
        kind=first.kind, routine=first.routine,
        active=active, stance=np.concatenate([r.stance for r in rs]),
        pair_draws=np.stack([r.pair_draws for r in rs]), place_draws=None,
        applies=np.concatenate([r.applies for r in rs], axis=1),
        live=np.concatenate([r.live for r in rs], axis=1),
        n_live=np.concatenate([r.n_live for r in rs]),
        comply=np.concatenate([r.comply for r in rs], axis=1),
        voluntary=np.concatenate([r.voluntary for r in rs], axis=1), habit=None)
