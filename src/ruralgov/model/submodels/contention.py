"""Contention submodels: petitions to the township, their review by the county, and protest.

Each function is one submodel of docs/ODD.md section 7 and has its name; it takes the model
and this step's [`Scratch`][ruralgov.model.state.Scratch].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ruralgov.model import equations
from ruralgov.model.agents import township_values
from ruralgov.model.state import F32, Scratch

if TYPE_CHECKING:  # pragma: no cover
    from ruralgov.model.county import RuralGovernanceModel

__all__ = ["petitions", "county_review", "protest"]


def _answer(model: RuralGovernanceModel, s: Scratch, idx: np.ndarray, relief: np.ndarray,
            upper: bool = False, by_township: bool = False) -> None:
    """Petitions of villagers ``idx`` are answered: grievance relieved (``relief``, per run,
    or per township if ``by_township``), legitimacy gained (owed to the county and above if
    ``upper``)."""
    v = model.villagers
    if by_township:
        v.grievance[idx] *= (1.0 - relief[model.structure.township[idx]]).astype(F32)
    else:
        v.grievance[idx] *= model.runs.spread(1.0 - relief, idx=idx)
    gain = model.runs.param(lambda q: q["answer_gain"], idx=idx)
    s.gains[idx] += gain
    if upper:
        s.gains_upper[idx] += gain
    v.pet_age[idx] = -1


def _wait(model: RuralGovernanceModel, s: Scratch, idx: np.ndarray, upper: bool = False
          ) -> None:
    """Petitions of villagers ``idx`` wait another step: legitimacy lost (owed to the county
    and above if ``upper``), grievance added."""
    v = model.villagers
    v.pet_age[idx] += 1
    s.losses[idx] += F32(model.p["wait_loss"])
    if upper:
        s.losses_upper[idx] += F32(model.p["wait_loss"])
    v.grievance[idx] += F32(model.p["wait_grievance"])


def _allocate(model: RuralGovernanceModel, u: np.ndarray, office: np.ndarray,
              age: np.ndarray, capacity: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """Which of the waiting cases (of villagers ``owners``) their offices answer
    (priority_handling: oldest first)."""
    priority = model.p["priority_handling"]
    tie = model.runs.random(owners) if priority > 0 else None
    return equations.allocate_capacity(u, office, age, capacity, priority, tie)


def _taken_up(model: RuralGovernanceModel, pending: np.ndarray) -> np.ndarray | None:
    """Which pending petitions their township takes up this month (mech_answer_speed: each
    with chance ``responsiveness``, so a petition waits 1/responsiveness months on average
    before capacity is spent on it); None without the mechanism (every petition is taken up
    at once, the first form)."""
    if not model.p["mech_answer_speed"]:
        return None
    runs = model.runs
    own = township_values(model.townships, "responsiveness")  # a township head's own pace
    if own is not None:
        return runs.random(pending) < own[model.structure.township[pending]]
    return runs.random(pending) < runs.param(lambda q: q["responsiveness"], np.float64,
                                              idx=pending)


def _township_relief(model: RuralGovernanceModel) -> tuple[np.ndarray, bool]:
    """The relief of a township's answer per run, or (True) per township where a township
    head set their own discretion."""
    if township_values(model.townships, "discretion") is None:
        return model.runs.values(_relief), False
    return np.array([_relief({**t.model.p, **t.levers}) for t in model.townships]), True


def _relief(q: dict) -> float:
    """Grievance relieved by the township's answer: answer_relief, less under rigid rules
    (mech_discretion)."""
    relief = q["answer_relief"]
    if q["mech_discretion"]:
        relief *= 1.0 - q["rigidity_penalty"] * (1.0 - q["discretion"])
    return relief


def _matters(model: RuralGovernanceModel) -> None:
    """Matters (事由) arise: each village has one this month with chance
    1 - exp(-matter_rate x size / 1,000); its villagers can petition about it this month and
    the matter_window - 1 after (``matter_until``)."""
    st = model.structure
    rate = model.runs.param(lambda q: q["matter_rate"], np.float64, level="village")
    new = model.runs.random(None, "village") < -np.expm1(-rate * st.village_size / 1000.0)
    model.villagers.matter_until[new[st.village]] = model.steps + model.p["matter_window"] - 1


def _file_petitions(model: RuralGovernanceModel, s: Scratch) -> np.ndarray:
    """Who petitions this step: aggrieved villagers (grid workers see grievance earlier) with
    no petition pending, not protesting, detained or silenced, with a matter to petition
    about (matter_window: a matter arisen in their village in the last months), who — with chance
    petition_propensity, the cost of petitioning — file this month and trust the township (or,
    without mech_trust_levels, the formal channel); a petition is collective when enough
    weighted neighbours are aggrieved too. Returns those who go over the township's head."""
    p, v, st, tally = model.p, model.villagers, model.structure, s.tally
    threshold = model.runs.param(lambda q: q["petition_threshold"]
                                 * (1.0 - q["grid_early"] * q["grid_management"]))
    if p["mech_cadres"] and p["cadre_voice"] > 0:  # cadres carry grievances up
        voice = F32(1.0) - F32(p["cadre_voice"]) * s.cadre_orientation
        threshold = threshold * voice[st.village]
    aggrieved = v.grievance > threshold
    new = aggrieved & (v.pet_age < 0) & ~v.protesting & (v.detained_for == 0)
    if p["mech_interception"]:
        new &= v.silenced_for == 0
        np.maximum(v.silenced_for - 1, 0, out=v.silenced_for)
    if p["matter_window"] > 0:  # no matter (事由), no petition
        _matters(model)
        new &= v.matter_until >= model.steps
    if p["petition_propensity"] < 1.0:  # filing costs: a ready villager files with this chance
        ready = np.flatnonzero(new)
        new[ready[model.runs.random(ready) >= p["petition_propensity"]]] = False
    trust = p["petition_trust"]
    if p["mech_trust_levels"]:  # to the township, or over its head (越级上访), or not at all
        over_head = np.flatnonzero(new & (v.trust_local < trust) & (v.trust_upper >= trust))
        new &= v.trust_local >= trust
    else:
        over_head = np.empty(0, dtype=np.int64)
        new &= v.legitimacy >= trust
    new_idx = np.flatnonzero(new)
    n_coll = np.zeros(model.runs.r, dtype=np.int64)
    if new_idx.size:
        a = aggrieved.astype(F32)
        share = (st.weights[new_idx] @ a if new_idx.size * 16 < st.n and st.n > 50_000
                 else (st.weights @ a)[new_idx])
        n_coll = model.runs.count(new_idx[share >= model.runs.param(
            lambda q: q["collective_threshold"], idx=new_idx)])
        v.pet_age[new_idx] = 0
        v.pet_level[new_idx] = 0
    v.last_petition[new_idx] = model.steps
    v.last_petition[over_head] = model.steps
    count = model.runs.count
    tally["petitions_new"] = count(new_idx) + count(over_head)
    tally["petitions_collective"] = n_coll
    tally["petitions_individual"] = count(new_idx) - n_coll
    if p["mech_trust_levels"]:
        tally["petitions_over_head"] = count(over_head)
    return over_head


def petitions(model: RuralGovernanceModel, s: Scratch) -> None:
    """Aggrieved villagers who still trust the channel petition the township (上访), or go
    over its head to the county when they trust the township little and the levels above
    more (越级上访, mech_trust_levels); a petition is collective when enough weighted
    neighbours share the grievance. Each township intercepts some pending petitions (截访,
    劝返; mech_interception: first, silencing the petitioner) and answers others up to its
    petition capacity (the oldest first with priority_handling); petitions left waiting
    escalation_wait steps go to the county, where a petitioner gives up after
    petition_patience more steps unanswered (ODD 7.9).

    Reads: ``grievance``, ``legitimacy``, ``trust_local``, ``trust_upper``, ``protesting``,
    ``detained_for``, ``silenced_for``, ``pet_age``, ``pet_level``; scratch
    ``petition_capacity``, ``suppress``. Writes: ``pet_age``, ``pet_level``, ``pet_dept``,
    ``grievance``, ``deterrence``, ``silenced_for``; scratch ``gains``, ``losses``,
    ``handled``, ``escalated``, ``backlog``, ``new_escalations``, ``tally``."""
    p, v, st, tally = model.p, model.villagers, model.structure, s.tally
    nt = st.n_townships
    if not p["mech_contention"]:
        s.handled = np.zeros(nt)
        s.escalated = np.zeros(nt, dtype=np.int64)
        s.backlog = np.zeros(nt, dtype=np.int64)
        return
    over_head = _file_petitions(model, s)

    pending = np.flatnonzero((v.pet_age >= 0) & (v.pet_level == 0))
    tw = st.township[pending]
    runs = model.runs
    u = runs.random(pending)
    taken = _taken_up(model, pending)
    if p["mech_interception"]:  # intercepted first (截访, 劝返), the rest compete for answers
        suppressed = runs.random(pending) < s.suppress[tw]
        keep = ~suppressed
    else:  # first form: suppressed only if left unanswered
        keep = np.ones(pending.size, dtype=bool)
    if taken is not None:
        keep &= taken
    answered = np.zeros(pending.size, dtype=bool)
    k = np.flatnonzero(keep)
    answered[k] = _allocate(model, u[k], tw[k], v.pet_age[pending[k]], s.petition_capacity,
                            pending[k])
    if not p["mech_interception"]:
        suppressed = ~answered & (runs.random(pending) < s.suppress[tw])
    relief, by_township = _township_relief(model)
    a_idx = pending[answered]
    waited, n_answered = runs.integer_totals(v.pet_age, a_idx)
    tally["response_time"] = np.divide(waited, n_answered, out=np.full(runs.r, np.nan),
                                       where=n_answered > 0) + 1
    tally["petitions_answered"] = runs.count(a_idx)
    refused = np.empty(0, dtype=np.int64)
    if p["answer_acceptance"] < 1.0:  # an answer not accepted: the petitioner goes up
        took = runs.random(a_idx) < p["answer_acceptance"]
        refused, a_idx = a_idx[~took], a_idx[took]
    _answer(model, s, a_idx, relief, by_township=by_township)
    s_idx = pending[suppressed]
    v.grievance[s_idx] += runs.param(lambda q: q["suppression_grievance"], idx=s_idx)
    s.losses[s_idx] += F32(p["suppression_loss"])
    v.deterrence[s_idx] = 1.0
    v.pet_age[s_idx] = -1
    if p["mech_interception"]:
        v.silenced_for[s_idx] = p["suppression_quiet"]
        tally["hidden_backlog"] = runs.count_true(v.silenced_for)
    w_idx = pending[~answered & ~suppressed]
    _wait(model, s, w_idx)
    waited = w_idx[v.pet_age[w_idx] == p["escalation_wait"]]
    up = np.concatenate([over_head, refused])
    v.pet_age[up] = p["escalation_wait"]  # they reach the county next step, as
    esc = np.concatenate([waited, up])    # escalations do
    v.pet_level[esc] = 1
    v.pet_dept[esc] = runs.integers(0, len(model.departments) // runs.r, esc)  # the run's
    s.escalated = np.bincount(st.township[esc], minlength=nt)
    s.handled = (np.bincount(tw[answered], minlength=nt)
                 + np.bincount(tw[suppressed], minlength=nt))
    s.backlog = (np.bincount(st.township[w_idx], minlength=nt)
                 - np.bincount(st.township[waited], minlength=nt))
    s.new_escalations = esc
    np.clip(v.grievance, 0.0, 1.0, out=v.grievance)
    tally["petitions_suppressed"] = runs.count(s_idx)
    tally["petitions_escalated"] = runs.count(esc)
    tally["petition_backlog"] = runs.count(w_idx) - runs.count(waited)


def county_review(model: RuralGovernanceModel, s: Scratch) -> None:
    """County departments answer escalated petitions up to their capacity (a petitioner
    unanswered petition_patience steps gives up; one still aggrieved when the case closes may
    come back, petition_persistence) and inspect a random sample of villagers (inspected
    compliance, 隐患排查; ODD 7.10).

    Reads: ``pet_level``, ``pet_age``, ``pet_dept``, ``rules.n_live``; scratch ``new_escalations``,
    ``n_kept``. Writes: the departments' tallies, ``pet_age``, ``pet_level`` (return visits),
    ``grievance``; scratch ``gains``, ``losses``, ``tally``."""
    p, v, tally, runs = model.p, model.villagers, s.tally, model.runs
    n_dep = len(model.departments)
    if p["mech_contention"]:
        # escalated petitions still open, except those escalated in this step's petitions:
        # they reach the county next step
        at_county = (v.pet_level == 1) & (v.pet_age >= 0)
        if s.new_escalations is not None:
            at_county[s.new_escalations] = False
        pending = np.flatnonzero(at_county)
        dep = _department(model, pending)
        cap = np.array([d.capacity for d in model.departments])
        answered = _allocate(model, runs.random(pending), dep, v.pet_age[pending], cap,
                             pending)
        _answer(model, s, pending[answered], runs.values(lambda q: q["answer_relief"]), upper=True)
        waiting = pending[~answered]
        _wait(model, s, waiting, upper=True)
        gave_up = waiting[v.pet_age[waiting] >= p["escalation_wait"] + p["petition_patience"]]
        v.pet_age[gave_up] = -1
        np.clip(v.grievance, 0.0, 1.0, out=v.grievance)
        if p["petition_persistence"] > 0:
            _return_visits(model, s, np.concatenate([pending[answered], gave_up]))
        tally["petitions_abandoned"] = runs.count(gave_up)
        received = np.bincount(_department(model, s.new_escalations), minlength=n_dep)
        ans = np.bincount(dep[answered], minlength=n_dep)
        left = np.bincount(dep[~answered], minlength=n_dep)
        for d in model.departments:
            d.received, d.answered, d.backlog = (int(received[d.index]), int(ans[d.index]),
                                                 int(left[d.index]))
        tally["county_answered"] = runs.count(pending[answered])
        tally["county_backlog"] = runs.count(waiting) - runs.count(gave_up)
    sample = runs.bernoulli(p["inspection_rate"])
    n_live = runs.integer_totals(model.rules.n_live, sample)[0]
    n_kept = runs.integer_totals(s.n_kept, sample)[0]
    tally["compliance_inspected"] = np.divide(n_kept, n_live, out=np.full(runs.r, np.nan),
                                              where=n_live > 0)


def _return_visits(model: RuralGovernanceModel, s: Scratch, closed: np.ndarray) -> None:
    """Persistent petitioners (老上访户, 缠访): of the villagers ``closed`` whose case at the
    county has just closed, those still aggrieved (grievance above petition_threshold) go back
    to the county next month with chance petition_persistence — a new person-time there,
    counted with the petitions reaching the county (ODD 7.10)."""
    v, runs = model.villagers, model.runs
    still = closed[v.grievance[closed] > runs.param(lambda q: q["petition_threshold"],
                                                    idx=closed)]
    back = still[runs.random(still) < runs.param(lambda q: q["petition_persistence"],
                                                 idx=still)]
    v.pet_age[back] = model.p["escalation_wait"]
    v.pet_level[back] = 1
    s.tally["petitions_escalated"] = s.tally["petitions_escalated"] + runs.count(back)


def _department(model: RuralGovernanceModel, idx: np.ndarray) -> np.ndarray:
    """The county department (index into ``model.departments``) holding the escalated
    petitions of villagers ``idx``: ``pet_dept`` counts within the villager's run."""
    dep = model.villagers.pet_dept[idx].astype(np.intp)
    if model.runs.r > 1:
        dep += model.runs.offsets["department"][model.runs.owner(idx)]
    return dep


def protest(model: RuralGovernanceModel, s: Scratch) -> None:
    """Epstein-style willingness (net grievance above protest_threshold, with an arrest
    probability from the village's stability force and last step's protesters) and a
    Granovetter cascade on the network: a willing villager joins when the weighted share of
    protesting neighbours reaches their mobilisation threshold, lowered by their excess
    net grievance. Protesters may be detained for 1..detention_term steps, during which
    they neither protest nor petition: quiet now, aggrieved later (ODD 7.11). With
    key_person_management villagers whose grievance is above the petition threshold are key
    persons (四色管理): their felt arrest risk rises and the label costs legitimacy.

    Reads: ``grievance``, ``legitimacy``, ``risk_aversion``, ``deterrence``,
    ``mobilisation``, ``protesting``, ``detained_for``. Writes: ``protesting``, ``detained_for``,
    ``grievance``, ``deterrence``; scratch ``losses``, ``village_protesters``, ``tally``."""
    p, v, st = model.p, model.villagers, model.structure
    if not p["mech_contention"]:
        v.protesting[:] = False
        s.village_protesters = np.zeros(st.n_villages, dtype=np.int64)
        return
    prev = np.bincount(st.village[np.flatnonzero(v.protesting)], minlength=st.n_villages)
    force = p["suppression_force"] * st.village_size / 100.0
    arrest = equations.arrest_probability(
        force, prev, model.runs.param(lambda q: q["arrest_k"], np.float64, level="village")
    ).astype(F32)[st.village]
    k = p["key_person_management"]
    if k > 0:  # four-colour management: key persons watched, their felt risk higher
        key = np.flatnonzero(v.grievance > model.runs.param(lambda q: q["petition_threshold"]))
        felt = arrest.copy()
        felt[key] += F32(k) * (F32(1.0) - felt[key])
        s.losses[key] += F32(p["stigma_loss"] * k)  # and labelled
        s.tally["key_persons"] = model.runs.count(key)
    else:
        felt = arrest
    net = equations.net_protest_risk(v.grievance, v.legitimacy, v.risk_aversion, felt,
                                     v.deterrence)
    excess = net - model.runs.param(lambda q: q["protest_threshold"])
    if p["strategic_escalation"] > 0:  # 闹大: trouble to be heard at the county
        excess[(v.pet_level == 1) & (v.pet_age >= 0)] += F32(p["strategic_escalation"])
    willing = (excess > 0) & (v.detained_for == 0)
    start = v.protesting
    if p["protest_trigger"] > 0:  # no incident (导火索), no protest: each one a new episode
        sparked = _incidents(model)
        willing &= sparked[st.village]
        start = np.zeros_like(v.protesting)
    protesting = equations.threshold_cascade(
        st.weights, willing, v.mobilisation - excess, start, p["cascade_rounds"])
    idx = np.flatnonzero(protesting)
    runs = model.runs
    caught = runs.random(idx) < arrest[idx]
    detained = idx[caught]
    np.maximum(v.detained_for - 1, 0, out=v.detained_for)
    if p["detention_term"] > 0:
        v.detained_for[detained] = runs.integers(1, p["detention_term"] + 1, detained)
    v.grievance[detained] += runs.param(lambda q: q["suppression_grievance"], idx=detained)
    np.clip(v.grievance, 0.0, 1.0, out=v.grievance)
    s.losses[detained] += F32(p["suppression_loss"])
    v.deterrence[detained] = 1.0
    v.protesting = protesting
    per_village = np.bincount(st.village[idx], minlength=st.n_villages)
    s.village_protesters = per_village
    if p["mech_state_response"]:
        _state_response(model, s, idx, per_village, force, ~caught)
    event = per_village >= p["protest_event_min"]
    new = event if p["protest_trigger"] > 0 else event & (prev < p["protest_event_min"])
    s.tally.update({"protesters": runs.count(idx),
                    "protest_events": runs.count_true(event, "village"),
                    "protest_episodes": runs.count_true(new, "village"),
                    "protest_max_size": runs.max(per_village, "village"),
                    "detained": runs.count(detained)})


def _incidents(model: RuralGovernanceModel) -> np.ndarray:
    """Which villages have an incident this month (导火索: a land deal, a death in custody, a
    dispute turned public), each with chance 1 - exp(-protest_trigger x size / 1,000): a
    Poisson rate of protest_trigger incidents per 1,000 villagers a month."""
    st = model.structure
    rate = model.runs.param(lambda q: q["protest_trigger"], np.float64, level="village")
    chance = -np.expm1(-rate * st.village_size / 1000.0)
    return model.runs.random(None, "village") < chance


def _state_response(model: RuralGovernanceModel, s: Scratch, protesters: np.ndarray,
                    per_village: np.ndarray, force: np.ndarray, free: np.ndarray) -> None:
    """The state answers each protest event (a village with at least protest_event_min
    protesters; Cai 2010): concession with chance
    [`concession_probability`][ruralgov.model.equations.concession_probability] — the
    protesters' grievance is relieved by answer_relief and they gain answer_gain legitimacy —
    otherwise repression: every protester not already detained (``free``, one flag per
    protester) suffers as if suppressed (suppression_grievance, suppression_loss, full
    deterrence)."""
    p, v, st = model.p, model.villagers, model.structure
    events = np.flatnonzero(per_village >= p["protest_event_min"])
    concede = model.runs.random(events, "village") < equations.concession_probability(
        per_village[events], force[events], p["concession_k"])
    outcome = np.zeros(st.n_villages, dtype=np.int8)  # 0 no event, 1 concession, 2 repression
    outcome[events] = np.where(concede, 1, 2)
    where = outcome[st.village[protesters]]
    won = protesters[where == 1]
    per = model.runs.param
    v.grievance[won] *= per(lambda q: 1.0 - q["answer_relief"], idx=won)
    gain = per(lambda q: q["answer_gain"], idx=won)
    s.gains[won] += gain
    s.gains_upper[won] += gain  # concessions come from above
    if p["strategic_escalation"] > 0:  # a concession answers their petition at the county
        heard = won[(v.pet_level[won] == 1) & (v.pet_age[won] >= 0)]
        v.pet_age[heard] = -1
    hit = protesters[(where == 2) & free]
    v.grievance[hit] += per(lambda q: q["suppression_grievance"], idx=hit)
    np.clip(v.grievance, 0.0, 1.0, out=v.grievance)
    s.losses[hit] += F32(p["suppression_loss"])
    v.deterrence[hit] = 1.0
    conceded = model.runs.count(events[concede], "village")
    s.tally.update({"concessions": conceded,
                    "repressions": model.runs.count(events, "village") - conceded})
