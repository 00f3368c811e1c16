"""The rural governance model: villagers in numpy arrays, governments as Mesa agents.

``RuralGovernanceModel`` builds the county (initialise.py), then each ``step()`` runs the
submodels of [`SCHEDULE`][ruralgov.model.schedule.SCHEDULE] in order with a fresh
[`Scratch`][ruralgov.model.state.Scratch]. The state it steps is declared in
[`ruralgov.model.state`][ruralgov.model.state]; what is recorded, in
[`ruralgov.model.observe`][ruralgov.model.observe]. Every random draw uses ``self.rng``
(the Mesa model's numpy generator). No step loops over villagers in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

from ruralgov.model import initialise
from ruralgov.model.network import Population
from ruralgov.model.observe import DataCollectorView, Observer
from ruralgov.model.runs import Runs
from ruralgov.model.schedule import SCHEDULE
from ruralgov.model.schema import (
    Intervention,
    check_combinations,
    check_townships,
    validate_interventions,
    validate_params,
)
from ruralgov.model.state import Cache, Scratch

__all__ = ["RuralGovernanceModel", "new_seed", "state_arrays"]


def new_seed() -> int:
    """A fresh seed from the operating system's entropy (recorded, so the run can be redone)."""
    return int(np.random.SeedSequence().entropy % (2**63))


class RuralGovernanceModel(mesa.Model):
    """Villagers, township governments and county departments under formal and informal rules.

    Args:
        seed: integer seed of the model's random generator; ``None`` draws one from the
            operating system and stores it in ``self.seed`` so the run can be repeated.
        population: a [`Population`][ruralgov.model.network.Population] from field data;
            ``None`` generates one from the structure and network parameters.
        collect_detail: also collect per-village, per-township, per-department and per-rule
            tables each step (``False`` keeps only the county series; faster for sweeps).
        interventions: levers moved while the county runs
            ([`Intervention`][ruralgov.model.schema.Intervention]s or ``{step, set}``
            mappings, ODD 7.1); more can be added between steps with ``intervene``.
        **params: any parameter of [`ruralgov.model.params`][ruralgov.model.params]
            (``ruralgov params`` lists them); unknown names and out-of-range values raise
            [`InputError`][ruralgov.model.schema.InputError].

    Attributes:
        p: the parameters, read by the submodels every step (interventions change them).
        interventions: the interventions of this run, in step order (a run is replayed by
            building it again with them).
        structure: the county's fixed structure ([`Structure`][ruralgov.model.state.Structure]).
        villagers: villager state ([`Villagers`][ruralgov.model.state.Villagers]).
        rules: the formal rules and behaviour toward them
            ([`Rules`][ruralgov.model.state.Rules]).
        townships, departments: the government agents.
        observer: what is recorded ([`Observer`][ruralgov.model.observe.Observer]).
        datacollector: the observer in the shape of Mesa's ``DataCollector``
            ([`DataCollectorView`][ruralgov.model.observe.DataCollectorView]).
        scratch: the last step's temporaries.
        submodels: the functions ``step()`` runs, in order (default
            [`SCHEDULE`][ruralgov.model.schedule.SCHEDULE]; a benchmark may wrap them).
        runs: the runs this model steps ([`Runs`][ruralgov.model.runs.Runs]): one here, many
            in an [`Ensemble`][ruralgov.model.ensemble.Ensemble]; every draw of a step goes
            through it.
        members: the models of the runs (``[self]`` here).

    Example:
        >>> m = RuralGovernanceModel(seed=1, n_villagers=500)
        >>> for _ in range(5):
        ...     m.step()
        >>> 0.0 <= m.series().compliance.iloc[-1] <= 1.0
        True
    """

    def __init__(self, seed: int | None = None, *, population: Population | None = None,
                 collect_detail: bool = True,
                 interventions: Iterable[Intervention | Mapping] | None = None, **params: Any):
        self.p = validate_params(params, source="model parameters")
        check_combinations(self.p, source="model parameters")
        self.interventions = list(validate_interventions(interventions))
        if seed is None:
            seed = new_seed()
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed = {seed!r} must be an integer")
        super().__init__(seed=int(seed))
        self.seed = int(seed)
        p, rng = self.p, self.rng
        if population is None:
            population = initialise.population(rng, p)
        else:  # field data fix the structure: record what it is
            p["n_villagers"] = population.n
            p["n_townships"] = population.n_townships
        self.population = population
        self.structure = initialise.structure(rng, population, p)
        self.villagers = initialise.villagers(
            rng, population, p,
            self.structure.lineage_strength if p["lineage_strength_sd"] > 0 else None)
        self.rules = initialise.rules(rng, population, p)
        self.cache = Cache()
        self.townships, self.departments = initialise.governments(self)
        check_townships(self.interventions, len(self.townships))
        self.observer = Observer(detail=collect_detail)
        self.datacollector = DataCollectorView(self.observer)  # Mesa's shape: batch_run works
        self.scratch: Scratch | None = None
        self.submodels = SCHEDULE
        self.running = True
        self.members = [self]
        self.runs = Runs.of(self.members, initialise.BLOCK)

    @property
    def collect_detail(self) -> bool:
        """Whether the detail tables are collected (may be switched between steps)."""
        return self.observer.detail_on

    @collect_detail.setter
    def collect_detail(self, on: bool) -> None:
        self.observer.detail_on = bool(on)

    @property
    def n_villagers(self) -> int:
        return self.structure.n

    @property
    def n_townships(self) -> int:
        return self.structure.n_townships

    @property
    def n_villages(self) -> int:
        return self.structure.n_villages

    @property
    def n_rules(self) -> int:
        return self.rules.k

    def intervene(self, settings: Mapping[str, Any], step: int | None = None,
                  township: int | None = None) -> Intervention:
        """Move levers in the running county: from the start of ``step`` (default: the next
        step) the parameters in ``settings`` have these values — in every township, or with
        ``township`` (an index) that township's own levers
        ([`TOWNSHIP_LEVERS`][ruralgov.model.params.TOWNSHIP_LEVERS]). The intervention is kept
        in ``self.interventions``, so building the model again with them replays the run.

        Raises:
            InputError: a parameter fixed at the start, a bad value, a step already run, a
                township the county does not have or a lever not a township head's.
        """
        step = self.steps + 1 if step is None else step
        item = {"step": step, "set": dict(settings)}
        if township is not None:
            item["township"] = township
        (iv,) = validate_interventions([item], source="intervene", after=self.steps)
        check_townships([iv], len(self.townships) // len(self.members), source="intervene")
        self.interventions = sorted([*self.interventions, iv], key=lambda x: x.step)
        return iv

    def add_reporter(self, name: str, reporter: Any) -> None:
        """Record ``reporter`` every step from now on as the series column ``name``: a function
        of the model (or the name of a model attribute) giving one number. The same as Mesa's
        ``model.datacollector.model_reporters[name] = reporter``.

        Raises:
            ValueError: ``name`` is a built-in measure, or this model steps several runs at
                once (an ensemble: a function of the model would see them all)."""
        if len(self.members) > 1:
            raise ValueError("a reporter of the model needs a model of one run; this one steps "
                             f"{len(self.members)} runs together (an ensemble)")
        self.datacollector.model_reporters[name] = reporter

    def step(self) -> None:
        """One step (one month, nominally): the submodels in order."""
        self.scratch = scratch = Scratch.fresh(self.structure.n)
        for submodel in self.submodels:
            submodel(self, scratch)

    def series(self) -> pd.DataFrame:
        """County-level measures, one row per step (tidy: one column per variable)."""
        return self.observer.series()

    def detail(self, name: str, latest: bool = False) -> pd.DataFrame:
        """Long tables per step: ``villages``, ``townships``, ``departments`` or ``rules``
        (``latest``: only the last step's rows)."""
        return self.observer.detail(name, latest)


def state_arrays(model: RuralGovernanceModel) -> dict[str, np.ndarray]:
    """The model's state variables (docs/ODD.md section 2) as named arrays: villagers, rules
    (villager x rule), townships and departments. For regression checks and inspection."""
    v, r = model.villagers, model.rules
    out = {name: getattr(v, name) for name in (
        "hardship", "risk_aversion", "legitimacy", "attachment", "cost_multiplier",
        "mobilisation", "grievance", "deterrence", "stage", "assisted", "effective_hardship",
        "pet_age", "pet_level", "pet_dept", "protesting", "detained_for",
        "silenced_for", "trust_local", "trust_upper", "hardship_base", "last_petition",
        "matter_until", "support")}
    out.update({f"rule_{name}": getattr(r, name) for name in
                ("department", "cost", "enforcement")})
    out.update({name: getattr(r, name) for name in
                ("stance", "pair_draws", "applies", "active", "comply", "voluntary")})
    out["cost"] = model.scratch.cost if model.scratch is not None else None
    for attr in ("self_interest", "pressure", "fidelity", "effort", "fit", "deviation",
                 "petition_capacity", "dispute_capacity", "suppress_probability",
                 "true_compliance", "reported_compliance", "escalations", "cases_handled"):
        out[f"township_{attr}"] = np.array([getattr(t, attr) for t in model.townships],
                                           dtype=np.float64)
    for attr in ("received", "answered", "backlog"):
        out[f"department_{attr}"] = np.array([getattr(d, attr) for d in model.departments],
                                             dtype=np.float64)
    return out
