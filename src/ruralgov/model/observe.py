"""Observation, apart from the dynamics: what is recorded each step and how it is computed
(docs/ODD.md, design concept "observation", and section 7.15 ``collect``).

Like Mesa's ``DataCollector``, the observer is a table of *reporters*: each names a column and
says how its value is computed from the model's state and the step's
[`Scratch`][ruralgov.model.state.Scratch]. Counts of events (petitions, sanctions, ...) are
tallied by the submodel where they happen (``scratch.tally``); their reporters say so. The
county series has one row per step; with ``collect_detail`` four long tables (villages,
townships, departments, rules) have one row per unit and step. The series, the detail
tables, the dashboard and the benchmarks all read the model through this module.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ruralgov.model import equations
from ruralgov.model.state import Scratch
from ruralgov.model.units import STEPS_PER_YEAR

if TYPE_CHECKING:  # pragma: no cover
    from ruralgov.model.county import RuralGovernanceModel

__all__ = ["Reporter", "Observer", "SERIES", "TALLIED", "DETAIL", "collect",
           "DataCollectorView"]

NAN = float("nan")
#: Returned by a reporter whose column does not exist in this run (the campaign's).
OMIT = object()


@dataclass(frozen=True)
class Reporter:
    """One column: its name, meaning and how it is computed. ``compute(model, scratch, row)``
    gets the row so far (for columns derived from others); ``None``: the value the submodels
    tallied under this name this step, or ``off`` if none did (its mechanism is switched
    off)."""

    name: str
    doc: str
    compute: Callable[[Any, Scratch, dict], Any] | None = None
    off: Any = 0


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den per run, NaN where den is 0."""
    return np.divide(num, den, out=np.full(np.shape(den), NAN), where=np.asarray(den) != 0)


def _kept_live(model, s):
    return model.runs.total(s.n_kept), model.runs.total(model.rules.n_live)


def _reported(model, s, row):
    reported = np.array([t.reported_compliance for t in model.townships])
    if not np.isnan(reported).any():
        return _weighted_mean(model, reported, model.structure.township_size)

    def average(reported, size):
        ok = ~np.isnan(reported)
        return float(np.average(reported[ok], weights=size[ok])) if ok.any() else NAN
    return model.runs.apply(average, reported, model.structure.township_size,
                            level="township")


def _weighted_mean(model, values, weights):
    """Per run, the mean of per-township ``values`` weighted by ``weights``."""
    runs = model.runs
    rows = runs.rows(values, "township")
    if runs.r > 1 and rows is not None:
        return np.average(rows, weights=runs.rows(weights, "township"), axis=-1)
    return runs.apply(lambda v, w: float(np.average(v, weights=w)), values, weights,
                      level="township")


def _villages_petitioning(model) -> np.ndarray:
    """Share of each run's villages with a villager whose latest new petition is at most 11
    steps old."""
    v, st = model.villagers, model.structure
    recent = np.flatnonzero((v.last_petition >= 0)
                            & (v.last_petition > model.steps - STEPS_PER_YEAR))
    hit = np.bincount(st.village[recent], minlength=st.n_villages) > 0
    return model.runs.mean(hit, "village")


def _capacity_use(model, s, row):
    def use(capacity, handled):
        cap = sum(capacity.tolist())  # summed one township after another
        return float(handled.sum() / cap) if cap > 0 else 0.0
    return model.runs.apply(use, np.array([t.petition_capacity + t.dispute_capacity
                                           for t in model.townships]),
                            s.handled, level="township")


def _campaign_compliance(model, s, row):
    if not model.p["campaign"]:
        return OMIT
    nl = model.runs.count_true(model.rules.live[-1])
    if not model.rules.active[-1]:
        return np.full(model.runs.r, NAN)
    return _share(model.runs.count_true(s.kept[-1]).astype(np.float64), nl)


#: Columns computed from the state, in order.
HEAD = (
    Reporter("step", "step number (1 = the first step)", lambda m, s, r: m.steps),
    Reporter("villagers", "villagers in the county, each an adult rural resident (the "
             "denominator of every rate)", lambda m, s, r: m.runs.sizes()),
    Reporter("compliance", "share of live villager-rule pairs kept",
             lambda m, s, r: _share(*_kept_live(m, s))),
    Reporter("evasion", "1 - compliance", lambda m, s, r: 1.0 - r["compliance"]),
    Reporter("voluntary_share", "share of kept rules kept voluntarily",
             lambda m, s, r: _share(m.runs.count_true(m.rules.voluntary),
                                    _kept_live(m, s)[0])),
    Reporter("compliance_reported", "compliance the townships report (size-weighted)",
             _reported),
)

#: Columns the submodels tally as events happen (scratch.tally), by submodel.
TALLIED = (
    Reporter("assisted_share", "share of villagers on the assistance rolls (services)",
             off=0.0),
    Reporter("inclusion_error", "share of the assisted who are not eligible (services)",
             off=NAN),
    Reporter("exclusion_error", "share of the eligible who are not assisted (services)",
             off=NAN),
    Reporter("persuasions", "detected evaders persuaded (enforcement)"),
    Reporter("warnings", "detected evaders warned (enforcement)"),
    Reporter("sanctions", "detected evaders sanctioned (enforcement)"),
    Reporter("unfair_hits", "compliers hit arbitrarily (enforcement)"),
    Reporter("participants", "villagers taking part in deliberation (participation)"),
    Reporter("hardship_shocks", "villagers hit by a hardship shock (services)"),
    Reporter("key_persons", "villagers labelled key persons, 四色管理 (protest)"),
    Reporter("petitions_new", "new petitions to the township (petitions)"),
    Reporter("petitions_collective", "new petitions that are collective (petitions)"),
    Reporter("petitions_individual", "new petitions that are individual (petitions)"),
    Reporter("response_time", "mean steps an answered petition waited (petitions)",
             off=NAN),
    Reporter("petitions_over_head", "new petitions taken straight to the county, over the "
             "township's head (petitions, mech_trust_levels)"),
    Reporter("petitions_answered", "petitions the townships answered (petitions)"),
    Reporter("petitions_suppressed", "petitions suppressed, 劝返 (petitions)"),
    Reporter("hidden_backlog", "suppressed petitioners still silenced, their claims unseen "
             "(petitions, mech_interception)"),
    Reporter("petitions_escalated", "petitions escalated to the county (petitions)"),
    Reporter("petition_backlog", "petitions left waiting at townships (petitions)"),
    Reporter("petitions_abandoned", "escalated petitions given up (county_review)"),
    Reporter("county_answered", "escalated petitions the county answered (county_review)"),
    Reporter("county_backlog", "escalated petitions left waiting (county_review)"),
    Reporter("compliance_inspected", "compliance in the county's random inspection sample "
             "(county_review)"),
    Reporter("protesters", "villagers protesting (protest)"),
    Reporter("protest_events", "villages with at least protest_event_min protesters "
             "(protest)"),
    Reporter("protest_episodes", "protests, each counted once in its first month: protest "
             "events in villages without one the step before; with protest_trigger every "
             "event (each sparked afresh by an incident) (protest)"),
    Reporter("protest_max_size", "protesters in the largest village protest (protest)"),
    Reporter("detained", "protesters detained (protest)"),
    Reporter("concessions", "protest events answered by concession (protest, "
             "mech_state_response)"),
    Reporter("repressions", "protest events answered by repression (protest, "
             "mech_state_response)"),
    Reporter("disputes", "disputes arising (disputes)"),
    Reporter("disputes_formal", "disputes taken to the township (disputes)"),
    Reporter("disputes_resolved_formally", "disputes the township resolved (disputes)"),
    Reporter("disputes_resolved_informally", "disputes the elders resolved (disputes)"),
    Reporter("substitution_index", "share of resolved disputes resolved by elders "
             "(disputes)"),
    Reporter("conflict_exposure", "mean exposure to contradictory demands: the share of a "
             "villager's live rules that contradict another of them (first form: of their "
             "live rule pairs that conflict) (update_legitimacy)", off=0.0),
)

#: Columns computed from the state and the row so far, in order.
TAIL = (
    Reporter("legitimacy_mean", "mean legitimacy",
             lambda m, s, r: m.runs.mean(m.villagers.legitimacy)),
    Reporter("legitimacy_sd", "standard deviation of legitimacy",
             lambda m, s, r: m.runs.std(m.villagers.legitimacy)),
    Reporter("trust_local_mean", "mean trust in the township (the legitimacy stock without "
             "mech_trust_levels)", lambda m, s, r: m.runs.mean(m.villagers.trust_local)
             if m.p["mech_trust_levels"] else r["legitimacy_mean"]),
    Reporter("trust_upper_mean", "mean trust in the county and above (the legitimacy stock "
             "without mech_trust_levels)",
             lambda m, s, r: m.runs.mean(m.villagers.trust_upper)
             if m.p["mech_trust_levels"] else r["legitimacy_mean"]),
    Reporter("hierarchical_trust", "share of villagers who trust the levels above more than "
             "their township, 差序信任 (0 without mech_trust_levels)",
             lambda m, s, r: m.runs.mean(m.villagers.trust_upper > m.villagers.trust_local)
             if m.p["mech_trust_levels"] else 0.0),
    Reporter("trust_local_share", "share of villagers whose trust in the township is above "
             "one half (who would say they trust it; the legitimacy stock without "
             "mech_trust_levels)", lambda m, s, r: m.runs.mean(
                 (m.villagers.trust_local if m.p["mech_trust_levels"]
                  else m.villagers.legitimacy) > 0.5)),
    Reporter("trust_upper_share", "share of villagers whose trust in the county and above is "
             "above one half (the legitimacy stock without mech_trust_levels)",
             lambda m, s, r: m.runs.mean(
                 (m.villagers.trust_upper if m.p["mech_trust_levels"]
                  else m.villagers.legitimacy) > 0.5)),
    Reporter("villages_petitioning", "share of villages from which somebody filed a new "
             "petition in the past 12 steps (a year), this one included (in the first 11 "
             "steps: since the start, so lower)",
             lambda m, s, r: _villages_petitioning(m)),
    Reporter("hardship_mean", "mean hardship (before services and assistance)",
             lambda m, s, r: m.runs.mean(m.villagers.hardship)),
    Reporter("grievance_mean", "mean grievance",
             lambda m, s, r: m.runs.mean(m.villagers.grievance)),
    Reporter("burden_mean", "mean burden of the rules kept, as it feeds grievance (mean "
             "cost per live rule, or total cost with burden_total)",
             lambda m, s, r: m.runs.mean(s.burden)),
    Reporter("norm_attachment_mean", "mean attachment to informal norms",
             lambda m, s, r: m.runs.mean(m.villagers.attachment)),
    Reporter("implementation_fidelity", "mean implementation fidelity (size-weighted)",
             lambda m, s, r: _weighted_mean(m, s.fidelity, m.structure.township_size)),
    Reporter("capacity_use", "cases handled per unit of the townships' capacity left for "
             "villagers' cases (petition + dispute capacity)", _capacity_use),
    Reporter("pressure_mean", "mean county pressure on townships",
             lambda m, s, r: m.runs.mean(np.array([t.pressure for t in m.townships]),
                                         "township")),
    Reporter("fragmentation_index", "(1 - coordination)(1 - 1/departments), counting "
             "bureaus after a merger; 0 when mech_fragmentation is off",
             lambda m, s, r: m.runs.values(lambda q: equations.fragmentation_index(
                 q["n_departments"], q["coordination"], q["bureaus"])
                 if q["mech_fragmentation"] else 0.0)),
    Reporter("conflicting_pairs", "pairs of active rules that conflict",
             lambda m, s, r: m.cache.conflict_pairs),
    Reporter("campaign_active", "the campaign rule is in force",
             lambda m, s, r: bool(m.p["campaign"] and m.rules.active[-1])),
    Reporter("enforcement_withdrawn", "routine enforcement withdrawn",
             lambda m, s, r: bool(s.withdrawn)),
    Reporter("scandal_active", "a misconduct scandal is under way",
             lambda m, s, r: s.scandal_active),
    Reporter("enforced_share", "1 - voluntary_share (NaN where no rule is kept)",
             lambda m, s, r: 1.0 - r["voluntary_share"]),
    Reporter("reporting_gap", "compliance_reported - compliance_inspected",
             lambda m, s, r: r["compliance_reported"] - r["compliance_inspected"]),
    Reporter("compliance_campaign", "compliance with the campaign rule while it is in force "
             "(only with a campaign)", _campaign_compliance),
)

#: Every column of the county series, in order.
SERIES = HEAD + TALLIED + TAIL


def _item(value: Any, run: int) -> Any:
    """One run's value of a reporter (per-run arrays; a plain value is every run's)."""
    if isinstance(value, np.ndarray):
        return value[run].item()
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------- detail tables
def _villages(model, s) -> dict[str, Any]:
    st, v = model.structure, model.villagers
    nv, village, size = st.n_villages, st.village, st.village_size
    vk = np.bincount(village, weights=s.n_kept, minlength=nv)
    vl = np.bincount(village, weights=model.rules.n_live, minlength=nv)
    return {
        "step": model.steps, "village": np.arange(nv),
        "township": st.population.village_township,
        "compliance": np.divide(vk, vl, out=np.full(nv, np.nan), where=vl > 0),
        "legitimacy": np.bincount(village, weights=v.legitimacy, minlength=nv) / size,
        "grievance": np.bincount(village, weights=v.grievance, minlength=nv) / size,
        "protesters": s.village_protesters,
        "petitions_pending": np.bincount(village, weights=v.pet_age >= 0, minlength=nv),
    }


def _townships(model, s) -> dict[str, Any]:
    ts = model.townships
    return {
        "step": model.steps, "township": [t.index for t in ts],
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
        "backlog": s.backlog, "escalations": [t.escalations for t in ts],
    }


def _rule_compliance(model, s) -> tuple[np.ndarray, np.ndarray]:
    r = model.rules
    rule_kept = s.kept.sum(axis=1)
    rule_live = r.live.sum(axis=1)
    return rule_kept, np.divide(rule_kept, rule_live, out=np.full(r.k, np.nan),
                                where=rule_live > 0)


def _departments(model, s) -> dict[str, Any]:
    ds = model.departments
    _, comp = _rule_compliance(model, s)
    return {
        "step": model.steps, "department": [d.index for d in ds],
        "escalations_received": [d.received for d in ds],
        "escalations_answered": [d.answered for d in ds],
        "backlog": [d.backlog for d in ds],
        "compliance": [float(np.nanmean(comp[d.rules_issued])) if d.rules_issued
                       and not np.all(np.isnan(comp[d.rules_issued])) else np.nan
                       for d in ds],
    }


def _rules(model, s) -> dict[str, Any]:
    r = model.rules
    kept, comp = _rule_compliance(model, s)
    rv = r.voluntary.sum(axis=1)
    return {
        "step": model.steps, "rule": np.arange(r.k), "kind": r.kind,
        "department": r.department.astype(int), "active": r.active.copy(),
        "compliance": comp,
        "voluntary_share": np.divide(rv, kept, out=np.full(r.k, np.nan), where=kept > 0),
    }


#: The detail tables: name -> the columns of one step's rows.
DETAIL: dict[str, Callable[[Any, Scratch], dict[str, Any]]] = {
    "villages": _villages, "townships": _townships, "departments": _departments,
    "rules": _rules}


class Observer:
    """Records the reporters' values every step; gives the series and the detail tables."""

    def __init__(self, detail: bool = True):
        self.detail_on = detail
        self.rows: list[dict[str, Any]] = []
        self.tables: dict[str, list[pd.DataFrame]] = {name: [] for name in DETAIL}
        #: the user's reporters, recorded every step after the built-in ones: name ->
        #: function of the model (``model.add_reporter``, Mesa's ``model_reporters``)
        self.user: dict[str, Callable[[Any], Any]] = {}
        #: the user's agent reporters (Mesa's ``agent_reporters``): name -> function of an
        #: agent (a township or department view); records (step, agent id, values)
        self.agent_user: dict[str, Callable[[Any], Any]] = {}
        self.agent_rows: list[dict[str, Any]] = []

    def collect(self, model: RuralGovernanceModel, s: Scratch) -> None:
        """Record this step (of each run, when runs are stacked: into each member's
        observer)."""
        row: dict[str, Any] = {}
        for rep in SERIES:
            value = (s.tally.get(rep.name, rep.off) if rep.compute is None
                     else rep.compute(model, s, row))
            if value is not OMIT:
                row[rep.name] = value
        if model.members[0] is model:  # one county
            row = {k: _item(v, 0) for k, v in row.items()}
            for name, fn in self.user.items():
                row[name] = _user_value(name, fn(model))
            self.rows.append(row)
            if self.agent_user:
                self.collect_agents(model)
            if self.detail_on:
                self.collect_details(model, s)
            return
        r = model.runs.r  # one list per column, then one row per run
        columns = [v.tolist() if isinstance(v, np.ndarray) else [_item(v, 0)] * r
                   for v in row.values()]
        for member, values in zip(model.members, zip(*columns)):
            member.observer.rows.append(dict(zip(row, values)))

    def collect_agents(self, model: Any) -> None:
        """Record this step's agent reporters, one row per government agent (Mesa's agent
        records)."""
        for agent in model.agents:
            self.agent_rows.append({"Step": model.steps, "AgentID": agent.unique_id,
                                    **{name: fn(agent) for name, fn in self.agent_user.items()}})

    def collect_details(self, model: RuralGovernanceModel, s: Scratch) -> None:
        """Record this step's rows of the detail tables."""
        for name, table in DETAIL.items():
            self.tables[name].append(pd.DataFrame(table(model, s)))

    def series(self) -> pd.DataFrame:
        """County-level measures, one row per step (tidy: one column per variable)."""
        rows = self.rows
        names = tuple(rows[0]) if rows else ()
        if not rows or any(tuple(row) != names for row in rows):  # a column not every step
            return pd.DataFrame(rows)
        columns = [np.array(c) for c in zip(*(row.values() for row in rows))]
        if any(c.dtype == object for c in columns):  # e.g. None among numbers: pandas decides
            return pd.DataFrame(rows)
        return pd.DataFrame(dict(zip(names, columns)))  # a third of the time, the same frame

    def detail(self, name: str, latest: bool = False) -> pd.DataFrame:
        """Long tables per step: ``villages``, ``townships``, ``departments`` or ``rules``
        (``latest``: only the last step's rows)."""
        if name not in self.tables:
            raise KeyError(f"no detail table {name!r}; choose from {sorted(self.tables)}")
        frames = self.tables[name]
        if latest:
            return frames[-1].copy() if frames else pd.DataFrame()
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _user_value(name: str, value: Any) -> Any:
    """A user reporter's value for the series: a number, a bool or None (NaN); anything else
    is refused, naming the reporter (a series column holds one number per step)."""
    if value is None:
        return NAN
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value) if isinstance(value, (float, np.floating)) else int(value)
    if isinstance(value, np.ndarray) and value.shape == ():
        return value.item()
    raise TypeError(f"reporter {name!r} returned {type(value).__name__} {value!r:.80}; a "
                    "reporter of the series gives one number a step (for many, a detail "
                    "table or several reporters)")


def as_reporter(name: str, ref: Any, of: str = "model") -> Callable[[Any], Any]:
    """A reporter in any of the forms Mesa's ``DataCollector`` takes: a function of the
    model (or agent: ``of``), the name of one of its attributes, or
    ``[function, [arguments]]``."""
    if callable(ref):
        return ref
    if isinstance(ref, str):
        return lambda obj: getattr(obj, ref)
    if (isinstance(ref, (list, tuple)) and len(ref) == 2 and callable(ref[0])
            and isinstance(ref[1], (list, tuple))):
        fn, args = ref
        return lambda obj: fn(obj, *args)
    raise TypeError(f"reporter {name!r}: {ref!r} is not a function of the {of}, the name of "
                    f"one of its attributes or [function, [arguments]]")


class _Reporters(MutableMapping):
    """Mesa's ``model_reporters`` / ``agent_reporters``: the built-in reporters (read only)
    and the user's, which are recorded every step from the moment they are added."""

    def __init__(self, builtin: dict[str, Any], user: dict[str, Callable], of: str):
        self._builtin, self._user, self._of = builtin, user, of

    def __getitem__(self, name: str) -> Any:
        return self._builtin[name] if name in self._builtin else self._user[name]

    def __setitem__(self, name: str, ref: Any) -> None:
        if name in self._builtin:
            raise ValueError(f"{name!r} is a built-in reporter of this model; give your "
                             "reporter another name")
        self._user[name] = as_reporter(name, ref, self._of)

    def __delitem__(self, name: str) -> None:
        if name in self._builtin:
            raise ValueError(f"{name!r} is a built-in reporter and cannot be removed")
        del self._user[name]

    def __iter__(self):
        return iter([*self._builtin, *self._user])

    def __len__(self) -> int:
        return len(self._builtin) + len(self._user)


class DataCollectorView:
    """The observer as Mesa's ``DataCollector`` shows itself (``model.datacollector``), so that
    Mesa's tools and idioms work on this model — ``mesa.batch_run`` among them.

    ``model_vars`` maps each series column to its values by step, Mesa's way: index 0 is the
    model before its first step — for which this model records nothing, so those are NaN
    (``step`` 0) — and index t the record made at the end of step t. ``collect`` does nothing:
    the observer records every step itself.

    Mesa's idiom for a custom output works: ``model.datacollector.model_reporters["g"] = f``
    (a function of the model, the name of a model attribute, or ``[function, [args]]``)
    records ``g`` every step from then on, as a column of ``model.series()`` and of
    ``get_model_vars_dataframe()``; ``agent_reporters["x"] = "attribute"`` records it for
    every government agent (townships and departments; villagers live in arrays — use
    ``model.detail``) in ``get_agent_vars_dataframe()``, indexed by step and agent id.
    """

    def __init__(self, observer: Observer):
        self._observer = observer
        self._vars: tuple[int, dict[str, list[Any]]] = (-1, {})
        self._agents: tuple[int, dict[int, list]] = (-1, {})
        self.model_reporters = _Reporters({r.name: r for r in SERIES}, observer.user, "model")
        self.agent_reporters = _Reporters({}, observer.agent_user, "agent")

    @property
    def model_vars(self) -> dict[str, list[Any]]:
        rows = self._observer.rows
        if self._vars[0] != len(rows):  # Mesa's batch_run reads this once per kept step
            names = (list(dict.fromkeys(k for row in rows for k in row))
                     or [r.name for r in SERIES])
            self._vars = (len(rows), {
                name: [0 if name == "step" else NAN] + [row.get(name, NAN) for row in rows]
                for name in names})
        return self._vars[1]

    @property
    def _agent_records(self) -> dict[int, list]:
        """Mesa's agent records by step: (step, agent id, values...) tuples (built again only
        when rows were added: Mesa's batch_run reads it once per kept step)."""
        rows = self._observer.agent_rows
        if self._agents[0] != len(rows):
            out: dict[int, list] = {}
            for row in rows:
                out.setdefault(row["Step"], []).append(tuple(row.values()))
            self._agents = (len(rows), out)
        return self._agents[1]

    def collect(self, model: Any) -> None:
        """Nothing to do: the model's schedule ends with the observer's own collect."""

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The county series, one row per step (as ``model.series()``)."""
        return self._observer.series()

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        """The agent reporters' values, indexed by (Step, AgentID) as in Mesa."""
        rows = self._observer.agent_rows
        if not rows:
            return pd.DataFrame()
        return pd.DataFrame(rows).set_index(["Step", "AgentID"])


def collect(model: RuralGovernanceModel, s: Scratch) -> None:
    """Record this step's measures (ODD 7.15): the observer's reporters."""
    model.observer.collect(model, s)
