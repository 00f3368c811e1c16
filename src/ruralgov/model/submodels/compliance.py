"""Compliance submodels: the informal norm, each villager's decision toward each rule, and
enforcement of the rules.

Each function is one submodel of docs/ODD.md section 7 and has its name; it takes the model
and this step's [`Scratch`][ruralgov.model.state.Scratch]. The equations themselves are small
pure functions in [`ruralgov.model.equations`][ruralgov.model.equations].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ruralgov.model import equations
from ruralgov.model.runs import Varying, uniform
from ruralgov.model.state import F32, Scratch

if TYPE_CHECKING:  # pragma: no cover
    from ruralgov.model.county import RuralGovernanceModel

__all__ = ["informal_signal", "compliance_decision", "enforcement", "signal_from", "conflicts",
           "run_conflicts"]


def informal_signal(model: RuralGovernanceModel, s: Scratch) -> None:
    """Informal norm towards each rule: neighbours' compliance (elders weighted) and the
    lineage elders' stance. Village compacts as a process (compact_rate x participation per
    step) and co-optation turn elders' stance towards support; co-optation also raises
    everyone's attachment to informal rules (正式权力的非正式运作…消极的扩散; ODD 7.4).

    Reads: scratch ``kept_prev``; ``rules.live``, ``rules.stance``, ``attachment``,
    ``cache.subject``. Writes: ``rules.stance``, ``attachment``, ``cache.subject``; scratch
    ``signal``, ``stance_t``."""
    p, r, st = model.p, model.rules, model.structure
    if not p["mech_informal"]:
        s.signal = np.zeros((r.k, st.n), dtype=F32)
        return
    runs = model.runs
    compact = runs.values(lambda q: q["compact_rate"] * q["participation"]
                          if q["mech_participation"] else 0.0)
    if (compact > 0).any():  # village compacts as a process: deliberation moves the stance
        r.stance += _per_lineage(runs, compact) * (F32(1.0) - r.stance)
    c = runs.values(lambda q: q["cooptation"])
    if (c > 0).any():
        r.stance += (_per_lineage(runs, runs.values(lambda q: q["cooptation_rate"]
                                                    * q["cooptation"]))
                     * (F32(1.0) - r.stance))
        model.villagers.attachment += runs.spread(
            runs.values(lambda q: q["cooptation_spread"] * q["cooptation"]))
        np.clip(model.villagers.attachment, 0.0, 1.0, out=model.villagers.attachment)
    s.stance_t = np.ascontiguousarray(r.stance.T)  # K x lineages
    if model.cache.subject is None:
        model.cache.subject = st.ties.weighted_count(r.live)
    counted = st.ties.count_words(s.kept_prev)  # the sparse product, once
    s.signal = np.empty((r.k, st.n), dtype=F32)
    for blk in st.blocks:  # the arithmetic, block by block (in cache)
        s.signal[:, blk] = signal_from(model, s, st.ties.unpack(counted, blk), blk)


def _weight(model: RuralGovernanceModel, fn, cols: slice | np.ndarray,
            dtype: type = np.float64) -> float | np.ndarray:
    """``fn`` of the parameters (e.g. ``lambda q: q["w_norm"]``) for the villagers ``cols``:
    the number itself (a Python float, as for one county) where the runs share what it reads;
    one value per villager, as ``dtype``, when stacked runs have their own."""
    try:
        return fn(model.p)
    except Varying:
        runs = model.runs
        return np.repeat(runs.values(fn).astype(dtype), runs.sizes())[cols]


def _misconduct(model: RuralGovernanceModel, misconduct: np.ndarray,
                cols: slice | np.ndarray) -> float | np.ndarray:
    """The officials' misconduct (one per run) for the villagers ``cols``: where every run
    has the same, the number itself as a Python float, as one county passes it (a NumPy
    float64 would make the float32 utility float64 under NumPy's promotion rules)."""
    if uniform(misconduct):
        return float(misconduct[0])
    return model.runs.spread(misconduct, np.float64)[cols]


def _per_lineage(runs, values: np.ndarray) -> np.ndarray:
    """Per-run values as float32 for each lineage's row of the stance (lineages x K)."""
    v = runs.spread(values, level="lineage")
    return v if np.ndim(v) == 0 else v[:, None]


def signal_from(model: RuralGovernanceModel, s: Scratch, peer: np.ndarray,
                cols: slice | np.ndarray) -> np.ndarray:
    """The informal signal of villagers ``cols`` from their weighted counts of neighbours
    keeping each rule (K x len(cols); overwritten)."""
    # share of the (weighted) neighbours *to whom the rule applies* who keep it; 0.5
    # (neutral) where no neighbour is subject to it, e.g. isolated villagers. Both are
    # exact weighted counts (network.Ties); the row normalisation of W cancels.
    st = model.structure
    subject = model.cache.subject[:, cols]
    with np.errstate(divide="ignore", invalid="ignore"):  # no masked divide: it branches
        np.divide(peer, subject, out=peer)
    peer[subject <= 0] = 0.5
    stance = np.take(s.stance_t, st.lineage[cols], axis=1)
    elders = np.flatnonzero(st.elder[cols])
    return equations.informal_signal(
        peer, stance, _weight(model, lambda q: q["peer_weight"], cols), elders)


def compliance_decision(model: RuralGovernanceModel, s: Scratch) -> None:
    """Each villager decides, for each live rule, to comply or evade (logistic choice on
    [`compliance_utility`][ruralgov.model.equations.compliance_utility]). A complier is
    *voluntary* when the same draw would have complied without the enforcement term
    (ODD 7.5).

    Synchronous by default; with ``random_sequential`` the independent sets of a graph
    colouring decide one after another in a random order, each reading the peer norm from
    its neighbours' choices as they stand (made this step if their set went first).

    Reads: scratch ``detect``, ``fit``, ``signal``, ``kept_prev``, ``misconduct`` (and, with
    random-sequential updating, ``stance_t``); ``effective_hardship``, ``legitimacy``,
    ``attachment``, ``deterrence``, ``risk_aversion``, ``cost_multiplier``; ``rules.cost``,
    ``rules.live``, ``rules.comply`` (habit), ``rules.pair_draws``, ``rules.department``,
    ``rules.active``; ``cache.conflicts`` (and ``cache.subject``). Writes: ``rules.comply``,
    ``rules.voluntary``, ``cache.conflicts``; scratch ``p_detect``, ``cost_scale``,
    ``conflicts``, ``cost``, ``kept``, ``n_kept`` (and ``colour_order``, ``signal``)."""
    p, r, st, v = model.p, model.rules, model.structure, model.villagers
    n, k = st.n, r.k
    s.p_detect = st.to_villagers(s.detect)  # K x N; read by enforcement too
    if p["mech_cadres"] and p["cadre_shield"] > 0:  # cadres answering to villagers shield them
        shield = F32(1.0) - F32(p["cadre_shield"]) * s.cadre_orientation
        s.p_detect *= shield[st.village]
    s.cost_scale = (v.cost_multiplier * (1.0 - st.to_villagers(s.fit))
                    * (0.5 + v.effective_hardship))
    key = (r.active.tobytes(), *((q["mech_fragmentation"], q["coordination"],
                                  q["conflict_probability"], q["mech_pairwise_conflict"],
                                  q["bureaus"]) for q in model.runs.params))
    if model.cache.conflict_key != key:  # parameters may change between steps (ODD 5.3)
        model.cache.conflict_key, model.cache.exposure = key, None
        (model.cache.conflicts, model.cache.local,
         model.cache.conflict_pairs) = conflicts(model)
    s.conflicts, s.local = model.cache.conflicts, model.cache.local
    s.cost = np.empty((k, n), dtype=F32)  # every villager's columns written by _choose
    if not st.colours:
        # synchronous: everyone at once, in blocks of villagers small enough for the
        # temporaries to stay in the processor's cache
        r.voluntary = np.empty((k, n), dtype=bool)
        for b, blk in enumerate(st.blocks):
            _choose(model, s, blk, s.signal, block=b)
    else:
        # who keeps which rule as the sets decide, packed as network.Ties counts it
        codes = st.ties.pack(s.kept_prev)
        r.voluntary = np.zeros((k, n), dtype=bool)
        s.colour_order = model.runs.rngs[0].permutation(len(st.colours))  # one run only
        for c in s.colour_order:
            cols, block = st.colours[c]
            if p["mech_informal"]:
                counted = st.ties.count_packed(codes, k, block)
                s.signal[:, cols] = signal_from(model, s, st.ties.unpack(counted), cols)
            _choose(model, s, cols, s.signal[:, cols])
            st.ties.pack(r.comply[:, cols] & r.live[:, cols], cols, codes)
    s.kept = r.comply & r.live  # fixed for the rest of the step
    s.n_kept = s.kept.sum(axis=0, dtype=np.int32)
    _update_habit(model)


def _update_habit(model: RuralGovernanceModel) -> None:
    """Habit as a decaying stock: h' = m h + (1 - m) x comply on live rules (m =
    habit_memory); with m = 0 the habit is last step's choice itself (the first form). (Runs
    stepped together all have m > 0 or all m = 0: the ensemble checks it.)"""
    runs, r = model.runs, model.rules
    if (runs.values(lambda q: q["habit_memory"]) <= 0).all():
        r.habit = None
        return
    if r.habit is None:  # starts at the first step's behaviour
        r.habit = r.comply.astype(F32)
        return
    # float32 throughout; arithmetic rather than masked writes, which branch on every element
    new = np.multiply(r.habit, runs.param(lambda q: q["habit_memory"]), dtype=F32)
    new += np.multiply(r.comply, runs.param(lambda q: 1.0 - q["habit_memory"]), dtype=F32)
    r.habit = new if r.live.all() else np.where(r.live, new, r.habit)


def conflicts(model: RuralGovernanceModel) -> tuple[np.ndarray, tuple | None, np.ndarray]:
    """The conflicting pairs of active rules (``run_conflicts``) and, per run, how many pairs
    conflict. Stacked runs each have their own (their rules' draws differ), combined per
    villager ([`combine_conflicts`][ruralgov.model.equations.combine_conflicts])."""
    if model.members[0] is model:  # one county
        matrix, local = run_conflicts(model)
        return matrix, local, np.array([np.triu(matrix).sum()])
    parts = [run_conflicts(m) for m in model.members]
    pairs = np.array([np.triu(m).sum() for m, _ in parts])
    return (*equations.combine_conflicts(parts, model.runs.sizes(), model.rules.k), pairs)


def run_conflicts(model: RuralGovernanceModel) -> tuple[np.ndarray, tuple | None]:
    """The conflicting pairs of active rules under the current parameters: (K x K, pairs
    conflicting anywhere; in the second form also the pairs and, per villager, whether each
    conflicts in their village). Rules of the same bureau (after a big-department reform) or
    department never conflict. The second form's place draws (one per pair of rules and
    village) are made once, when first needed, from a generator spawned from the model's
    (spawning leaves the model's own stream of draws untouched)."""
    q, r, st = model.p, model.rules, model.structure  # one run: its own parameters
    if not q["mech_fragmentation"]:
        return np.zeros((r.k, r.k), dtype=bool), None
    issuer = r.department % q["bureaus"] if q["bureaus"] > 0 else r.department
    if not q["mech_pairwise_conflict"]:
        return equations.conflict_matrix(r.pair_draws, issuer, q["conflict_probability"],
                                         q["coordination"], r.active), None
    if r.place_draws is None:
        r.place_draws = model.runs.rngs[0].spawn(1)[0].random(
            (r.k * (r.k - 1) // 2, st.n_villages), dtype=F32)
    pairs, masks = equations.local_conflicts(r.place_draws, issuer, q["conflict_probability"],
                                             q["coordination"], r.active)
    matrix = np.zeros((r.k, r.k), dtype=bool)
    matrix[pairs[:, 0], pairs[:, 1]] = True
    return matrix | matrix.T, (pairs, np.take(masks, st.village, axis=1))


def _choose(model: RuralGovernanceModel, s: Scratch, cols: slice | np.ndarray,
            signal: np.ndarray, block: int | None = None) -> None:
    """Logistic choice of the villagers ``cols`` (block number ``block``, or a colour set),
    given their informal signal; writes their ``comply``, ``voluntary`` and ``cost``."""
    p, r, v = model.p, model.rules, model.villagers

    def sel(a):
        return a[..., cols]

    if p["mech_enforcement"]:  # a social-credit record makes being caught cost more
        severity = p["sanction_severity"] * (1.0 + p["social_credit"])
        sanction = equations.perceived_sanction(sel(s.p_detect), sel(v.deterrence),
                                                severity, sel(v.risk_aversion))
    else:
        sanction = np.zeros((r.k, len(sel(v.deterrence))), dtype=F32)
    rule_cost = r.cost[:, None] if r.cost.ndim == 1 else r.cost[:, cols]  # per run if stacked
    cost = np.multiply(rule_cost, sel(s.cost_scale), dtype=F32)
    np.minimum(cost, F32(2.0), out=cost)
    s.cost[:, cols] = cost
    local = None if s.local is None else (s.local[0], s.local[1][:, cols], *s.local[2:])
    load = (equations.conflict_load(sel(s.kept_prev), s.conflicts, local)
            if s.conflicts.any() else None)
    if not p["mech_habit"]:
        habit = 0.5
    elif r.habit is not None:  # habit as a decaying stock
        habit = sel(r.habit)
    else:
        habit = sel(r.comply)
    w = {name: _weight(model, fn, cols, F32) for name, fn in (
        ("w_legitimacy", lambda q: q["w_legitimacy"]),
        ("w_enforcement", lambda q: q["w_enforcement"]), ("w_norm", lambda q: q["w_norm"]),
        ("w_habit", lambda q: q["w_habit"]), ("w_cost", lambda q: q["w_cost"]),
        ("w_conflict", lambda q: q["w_conflict"]))}
    u_comply, enforced = equations.compliance_utility(
        base=_weight(model, lambda q: q["base_compliance"], cols), legitimacy=sel(v.legitimacy),
        sanction=sanction, attachment=sel(v.attachment),
        signal=sel(signal) if isinstance(cols, slice) else signal, habit=habit, cost=cost,
        load=load, misconduct=_misconduct(model, s.misconduct, cols),
        w_misconduct=_weight(model, lambda q: q["w_misconduct"], cols), **w)
    # u < logistic(U)  <=>  logit(u) < U: one logarithm per draw serves both comparisons
    u = (model.runs.random_block(r.k, block) if block is not None
         else model.runs.rngs[0].random(u_comply.shape, dtype=F32))
    z = equations.logit(u, out=None)
    comply = u_comply > z
    u_comply -= enforced
    voluntary = u_comply > z  # implies comply, because the enforced part is >= 0
    live = sel(r.live)
    if live.all():  # as a rule: no masked writes, which branch on every element
        r.comply[:, cols] = comply
        r.voluntary[:, cols] = voluntary
        return
    now = sel(r.comply)
    np.copyto(now, comply, where=live)
    r.comply[:, cols] = now
    r.voluntary[:, cols] = voluntary & live


def _arbitrariness(q: dict) -> float:
    """Chance that a kept rule is hit as if broken, relative to detection: arbitrariness,
    plus what fragmentation adds unless enforcement is joint, less what grid management
    prevents."""
    arb = q["arbitrariness"]
    if q["mech_fragmentation"]:
        arb += (q["fragmentation_arbitrariness"]
                * equations.fragmentation_index(q["n_departments"], q["coordination"],
                                                q["bureaus"])
                * (1.0 - q["joint_enforcement"]))
    return min(arb, 1.0) * (1.0 - q["grid_management"])


#: How strongly each outcome of graduated enforcement is remembered (deterrence), by stage.
FELT = np.array([0.0, 0.3, 0.6, 1.0], dtype=F32)


def enforcement(model: RuralGovernanceModel, s: Scratch) -> None:
    """Detection of evaders, arbitrary hits on compliers, and graduated responses:
    persuade → warn → sanction (劝阻 → 警告 → 处罚; ODD 7.6). A villager who keeps every live
    rule this step has their record cleared, and with record_memory > 0 any record lapses
    with chance 1/record_memory a month; a detected evader moves one stage up.

    Reads: scratch ``p_detect``, ``kept``, ``n_kept``; ``rules.live``, ``rules.n_live``.
    Writes: ``stage``, ``deterrence``; scratch ``gains``, ``losses``, ``grievance_in``,
    ``tally``."""
    p, v, st = model.p, model.villagers, model.structure
    n = st.n
    v.deterrence *= model.runs.param(lambda q: 1.0 - q["deterrence_decay"])
    if p["social_credit"] > 0:  # a credit record on everyone: resented surveillance
        s.losses += F32(p["credit_loss"] * p["social_credit"])
    v.stage *= s.n_kept != model.rules.n_live  # kept every live rule: record cleared
    if not p["mech_enforcement"]:
        return
    if p["record_memory"] > 0:  # an old record lapses: mean memory record_memory months
        held = np.flatnonzero(v.stage > 0)
        v.stage[held[model.runs.random(held) < 1.0 / p["record_memory"]]] = 0
    arb = model.runs.spread(model.runs.values(_arbitrariness))  # per run if stacked
    # each broken rule is detected with its probability, each kept one hit arbitrarily
    # with arb times it; broken and kept rules are disjoint, so "detected" and "hit" are
    # independent: one draw each per villager has the distribution of one per rule
    p_detected = np.empty(n, dtype=F32)
    p_hit = np.empty(n, dtype=F32)
    live = model.rules.live
    for blk in st.blocks:
        detect = s.p_detect[:, blk]
        evading = live[:, blk] & ~s.kept[:, blk]
        p_detected[blk] = equations.any_event_probability(detect, evading)
        p_hit[blk] = equations.any_event_probability(
            detect * (arb if np.ndim(arb) == 0 else arb[blk]), s.kept[:, blk])
    detected = model.runs.random(dtype=F32) < p_detected
    hit = model.runs.random(dtype=F32) < p_hit
    unfair = np.flatnonzero(hit & ~detected)
    det = np.flatnonzero(detected)  # detections are few: work on their indices
    if p["mech_graduated"]:
        v.stage[det] = np.minimum(v.stage[det] + 1, 3)
        outcome = v.stage[det]
    else:
        outcome = np.full(det.size, 3, dtype=np.int8)
    persuaded, warned, sanctioned = det[outcome == 1], det[outcome == 2], det[outcome == 3]
    s.gains[det[outcome <= 2]] += F32(p["fair_gain"])
    s.grievance_in[sanctioned] += model.runs.param(lambda q: q["sanction_grievance"],
                                                   idx=sanctioned)
    v.deterrence[det] = np.maximum(v.deterrence[det], FELT[outcome])
    s.losses[unfair] += model.runs.param(lambda q: q["unfair_loss"], idx=unfair)
    s.grievance_in[unfair] += F32(p["unfair_grievance"])
    v.deterrence[unfair] = np.maximum(v.deterrence[unfair], F32(0.6))
    count = model.runs.count
    s.tally.update({"persuasions": count(persuaded), "warnings": count(warned),
                    "sanctions": count(sanctioned), "unfair_hits": count(unfair)})
